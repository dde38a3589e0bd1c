/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Docker/OCI seccomp profiles: JSON reader (jansson) and compiler (libseccomp).
 *
 * The compile step follows moby (profiles/seccomp/seccomp_linux.go) for which rules apply and runc
 * (libcontainer/seccomp/seccomp_linux.go) for how they become libseccomp rules, so a profile means
 * the same thing under tightbox as under `docker run --security-opt seccomp=FILE`.
 */
#include "core/profile.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "core/arch.h"
#include "core/fileio.h"
#include "core/strv.h"
#include "core/util.h"

static const char *const action_names[] = {
	[TB_ACT_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS", [TB_ACT_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
	[TB_ACT_TRAP] = "SCMP_ACT_TRAP",		 [TB_ACT_ERRNO] = "SCMP_ACT_ERRNO",
	[TB_ACT_TRACE] = "SCMP_ACT_TRACE",		 [TB_ACT_NOTIFY] = "SCMP_ACT_NOTIFY",
	[TB_ACT_LOG] = "SCMP_ACT_LOG",			 [TB_ACT_ALLOW] = "SCMP_ACT_ALLOW",
};

static const char *const op_names[] = {
	[TB_OP_NE] = "SCMP_CMP_NE", [TB_OP_LT] = "SCMP_CMP_LT", [TB_OP_LE] = "SCMP_CMP_LE",
	[TB_OP_EQ] = "SCMP_CMP_EQ", [TB_OP_GE] = "SCMP_CMP_GE", [TB_OP_GT] = "SCMP_CMP_GT",
	[TB_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static const char *const known_flags[] = {
	"SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW",
	"SECCOMP_FILTER_FLAG_TSYNC",
	"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

const char *tb_action_name(enum tb_action_kind k)
{
	if ((size_t)k < TB_ARRAY_SIZE(action_names))
		return action_names[k];
	return "SCMP_ACT_UNKNOWN";
}

/* Parses "SCMP_ACT_ERRNO" etc. ("SCMP_ACT_KILL" = KILL_THREAD). 0 or -EINVAL. */
static int action_parse(const char *s, enum tb_action_kind *out)
{
	if (!strcmp(s, "SCMP_ACT_KILL")) {
		/* libseccomp's SCMP_ACT_KILL is SECCOMP_RET_KILL_THREAD. */
		*out = TB_ACT_KILL_THREAD;
		return 0;
	}
	for (size_t i = 0; i < TB_ARRAY_SIZE(action_names); i++)
		if (!strcmp(s, action_names[i])) {
			*out = (enum tb_action_kind)i;
			return 0;
		}
	return -EINVAL;
}

static bool in_list(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}


/* ---- reader ---------------------------------------------------------------------------------- */

/* Formats a JSON path; a path longer than the buffer is cut (it only names a place). */
static void __attribute__((format(printf, 3, 4))) pathf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

struct parser {
	const char *name;
	struct tb_diag *diag;
};

/* Error paths return -EINVAL through a macro: clang's analyzer does not inline variadic
 * functions, so it could not see that a diagnostic helper always fails. */
#define perr(ps, where, ...) (perr_set((ps), (where), __VA_ARGS__), -EINVAL)
static void __attribute__((format(printf, 3, 4)))
perr_set(struct parser *ps, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tb_diag_set(ps->diag, ps->name, 0, 0, where, "%s", msg);
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/* Errno names as glibc spells them ("EPERM"), for podman's "errno"/"defaultErrno" keys. */
static int errno_from_name(const char *s, uint32_t *out)
{
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);
		if (n && !strcmp(n, s)) {
			*out = (uint32_t)e;
			return 0;
		}
	}
	return -EINVAL;
}

/* A JSON array of strings (or null = absent) into a NULL-terminated vector. */
static int parse_strv(struct parser *ps, json_t *v, const char *where, char ***out, size_t *n_out)
{
	char **vec;
	size_t n, i;
	json_t *e;
	char sub[256];

	if (!v || json_is_null(v)) {
		*out = NULL;
		if (n_out)
			*n_out = 0;
		return 0;
	}
	if (!json_is_array(v))
		return perr(ps, where, "must be an array of strings, not %s", json_type_name(v));
	n = json_array_size(v);
	vec = calloc(n + 1, sizeof(*vec));
	if (!vec)
		return -ENOMEM;
	/* Bounded by the n that sized vec (json_array_foreach re-reads the size each time). */
	for (i = 0; i < n; i++) {
		e = json_array_get(v, i);
		if (!json_is_string(e)) {
			pathf(sub, sizeof(sub), "%s[%zu]", where, i);
			tb_strv_free(vec);
			return perr(ps, sub, "must be a string, not %s", json_type_name(e));
		}
		vec[i] = strdup(json_string_value(e));
		if (!vec[i]) {
			tb_strv_free(vec);
			return -ENOMEM;
		}
	}
	*out = vec;
	if (n_out)
		*n_out = n;
	return 0;
}

static int parse_u64(struct parser *ps, json_t *v, const char *where, uint64_t max, uint64_t *out)
{
	json_int_t i;

	if (!json_is_integer(v))
		return perr(ps, where, "must be a non-negative integer, not %s", json_type_name(v));
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i > max)
		return perr(ps, where, "%" JSON_INTEGER_FORMAT " is out of range 0..%" PRIu64, i, max);
	*out = (uint64_t)i;
	return 0;
}

/* Parses a string field that must be one of a closed set. */
static int parse_string(struct parser *ps, json_t *v, const char *where, const char **out)
{
	if (!json_is_string(v))
		return perr(ps, where, "must be a string, not %s", json_type_name(v));
	*out = json_string_value(v);
	return 0;
}

/* "errnoRet": number; podman also writes "errno": "EPERM". Sets has_value/value of @a. */
static int parse_errno_fields(struct parser *ps, json_t *obj, const char *num_key,
			      const char *name_key, const char *base, struct tb_action *a)
{
	char where[256];
	json_t *v;
	uint64_t u;
	int r;

	v = json_object_get(obj, num_key);
	if (v && !json_is_null(v)) {
		pathf(where, sizeof(where), "%s%s", base, num_key);
		/* The kernel keeps 16 bits of SECCOMP_RET_DATA. */
		r = parse_u64(ps, v, where, 0xffff, &u);
		if (r < 0)
			return r;
		a->has_value = true;
		a->value = (uint32_t)u;
		return 0;
	}
	v = json_object_get(obj, name_key);
	if (v && !json_is_null(v)) {
		const char *s = NULL;
		uint32_t e;

		pathf(where, sizeof(where), "%s%s", base, name_key);
		r = parse_string(ps, v, where, &s);
		if (r < 0)
			return r;
		if (errno_from_name(s, &e) < 0)
			return perr(ps, where, "unknown errno name \"%s\"", s);
		a->has_value = true;
		a->value = e;
	}
	return 0;
}

static int parse_action(struct parser *ps, json_t *v, const char *where, struct tb_action *a)
{
	const char *s = NULL;
	int r;

	if (!v)
		return perr(ps, where, "is required");
	r = parse_string(ps, v, where, &s);
	if (r < 0)
		return r;
	if (action_parse(s, &a->kind) < 0)
		return perr(ps, where, "unknown action \"%s\"", s);
	return 0;
}

/* One decimal component of a kernel version; sscanf's %u would accept overflow, signs and spaces. */
static int version_part(const char *s, unsigned *out, const char **end)
{
	unsigned long v;
	char *e;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &e, 10);
	if (errno || v > UINT_MAX)
		return -EINVAL;
	*out = (unsigned)v;
	*end = e;
	return 0;
}

/* "major.minor" at the start of @s; @end is set to what follows. */
static int parse_major_minor(const char *s, unsigned *maj, unsigned *min, const char **end)
{
	const char *e;

	if (version_part(s, maj, &e) < 0 || *e != '.')
		return -EINVAL;
	return version_part(e + 1, min, end);
}

static bool valid_kernel_version(const char *s)
{
	unsigned maj, min;
	const char *rest;
	size_t n;

	if (parse_major_minor(s, &maj, &min, &rest) < 0)
		return false;
	n = (size_t)(rest - s);
	/* moby accepts "major.minor" and ignores anything after; so do we, but only ".patch". */
	if (s[n] == '\0')
		return true;
	if (s[n] != '.')
		return false;
	for (const char *p = s + n + 1; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return s[n + 1] != '\0';
}

static int parse_rule_filter(struct parser *ps, json_t *v, const char *base,
			     struct tb_rule_filter *f)
{
	char where[256];
	json_t *e;
	int r;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return perr(ps, base, "must be an object, not %s", json_type_name(v));

	pathf(where, sizeof(where), "%s.caps", base);
	r = parse_strv(ps, json_object_get(v, "caps"), where, &f->caps, NULL);
	if (r < 0)
		return r;
	for (size_t i = 0; f->caps && f->caps[i]; i++) {
		cap_value_t c;

		if (cap_from_name(f->caps[i], &c) < 0 || strncasecmp(f->caps[i], "CAP_", 4)) {
			pathf(where, sizeof(where), "%s.caps[%zu]", base, i);
			return perr(ps, where, "unknown capability \"%s\"", f->caps[i]);
		}
	}

	pathf(where, sizeof(where), "%s.arches", base);
	r = parse_strv(ps, json_object_get(v, "arches"), where, &f->arches, NULL);
	if (r < 0)
		return r;
	for (size_t i = 0; f->arches && f->arches[i]; i++)
		if (!tb_arch_goarch_known(f->arches[i])) {
			pathf(where, sizeof(where), "%s.arches[%zu]", base, i);
			return perr(ps, where, "unknown arch \"%s\" (expected a Go arch name like amd64)",
				    f->arches[i]);
		}

	e = json_object_get(v, "minKernel");
	if (e && !json_is_null(e)) {
		const char *s = NULL;

		pathf(where, sizeof(where), "%s.minKernel", base);
		r = parse_string(ps, e, where, &s);
		if (r < 0)
			return r;
		if (!valid_kernel_version(s))
			return perr(ps, where, "\"%s\" is not a kernel version like \"4.8\"", s);
		f->min_kernel = strdup(s);
		if (!f->min_kernel)
			return -ENOMEM;
	}
	return 0;
}

static int parse_args(struct parser *ps, json_t *v, const char *base, struct tb_rule *rule)
{
	char where[256];
	size_t i;
	json_t *a;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return perr(ps, base, "must be an array, not %s", json_type_name(v));
	if (json_array_size(v) == 0)
		return 0;
	rule->args = calloc(json_array_size(v), sizeof(*rule->args));
	if (!rule->args)
		return -ENOMEM;
	json_array_foreach(v, i, a) {
		struct tb_arg *arg = &rule->args[i];
		const char *op = NULL;
		json_t *e;
		uint64_t u;
		bool found = false;
		int r;

		rule->n_args = i + 1;
		pathf(where, sizeof(where), "%s[%zu]", base, i);
		if (!json_is_object(a))
			return perr(ps, where, "must be an object, not %s", json_type_name(a));

		pathf(where, sizeof(where), "%s[%zu].index", base, i);
		e = json_object_get(a, "index");
		if (!e)
			return perr(ps, where, "is required");
		r = parse_u64(ps, e, where, 5, &u);
		if (r < 0)
			return r;
		arg->index = (unsigned)u;

		pathf(where, sizeof(where), "%s[%zu].value", base, i);
		e = json_object_get(a, "value");
		if (!e)
			return perr(ps, where, "is required");
		r = parse_u64(ps, e, where, INT64_MAX, &arg->value);
		if (r < 0)
			return r;

		e = json_object_get(a, "valueTwo");
		if (e && !json_is_null(e)) {
			pathf(where, sizeof(where), "%s[%zu].valueTwo", base, i);
			r = parse_u64(ps, e, where, INT64_MAX, &arg->value_two);
			if (r < 0)
				return r;
		}

		pathf(where, sizeof(where), "%s[%zu].op", base, i);
		e = json_object_get(a, "op");
		if (!e)
			return perr(ps, where, "is required");
		r = parse_string(ps, e, where, &op);
		if (r < 0)
			return r;
		for (size_t k = 0; k < TB_ARRAY_SIZE(op_names); k++)
			if (!strcmp(op, op_names[k])) {
				arg->op = (enum tb_arg_op)k;
				found = true;
			}
		if (!found)
			return perr(ps, where, "unknown op \"%s\"", op);
	}
	return 0;
}

static void rule_clear(struct tb_rule *r)
{
	tb_strv_free(r->names);
	free(r->args);
	tb_strv_free(r->includes.caps);
	tb_strv_free(r->includes.arches);
	free(r->includes.min_kernel);
	tb_strv_free(r->excludes.caps);
	tb_strv_free(r->excludes.arches);
	free(r->excludes.min_kernel);
	free(r->comment);
}

static int parse_rule(struct parser *ps, json_t *v, size_t idx, struct tb_rule *rule)
{
	char base[64], where[256];
	json_t *names, *name, *e;
	int r;

	rule->index = idx;
	pathf(base, sizeof(base), "syscalls[%zu]", idx);
	if (!json_is_object(v))
		return perr(ps, base, "must be an object, not %s", json_type_name(v));

	names = json_object_get(v, "names");
	name = json_object_get(v, "name");
	if (name && !json_is_null(name)) {
		const char *s = NULL;

		pathf(where, sizeof(where), "%s.name", base);
		if (names && !json_is_null(names) && json_array_size(names) > 0)
			return perr(ps, where, "use either \"name\" or \"names\", not both");
		r = parse_string(ps, name, where, &s);
		if (r < 0)
			return r;
		rule->names = calloc(2, sizeof(*rule->names));
		if (!rule->names)
			return -ENOMEM;
		rule->names[0] = strdup(s);
		if (!rule->names[0])
			return -ENOMEM;
		rule->n_names = 1;
	} else {
		pathf(where, sizeof(where), "%s.names", base);
		if (!names || json_is_null(names))
			return perr(ps, where, "is required (or the old format's \"name\")");
		r = parse_strv(ps, names, where, &rule->names, &rule->n_names);
		if (r < 0)
			return r;
		if (!rule->names) {
			/* parse_strv maps null to absent; an empty array is fine (Docker ignores it). */
			rule->names = calloc(1, sizeof(*rule->names));
			if (!rule->names)
				return -ENOMEM;
			rule->n_names = 0;
		}
	}
	for (size_t i = 0; i < rule->n_names; i++)
		if (!rule->names[i][0]) {
			pathf(where, sizeof(where), "%s.names[%zu]", base, i);
			return perr(ps, where, "empty syscall name");
		}

	pathf(where, sizeof(where), "%s.action", base);
	r = parse_action(ps, json_object_get(v, "action"), where, &rule->action);
	if (r < 0)
		return r;
	pathf(where, sizeof(where), "%s.", base);
	r = parse_errno_fields(ps, v, "errnoRet", "errno", where, &rule->action);
	if (r < 0)
		return r;

	pathf(where, sizeof(where), "%s.args", base);
	r = parse_args(ps, json_object_get(v, "args"), where, rule);
	if (r < 0)
		return r;

	pathf(where, sizeof(where), "%s.includes", base);
	r = parse_rule_filter(ps, json_object_get(v, "includes"), where, &rule->includes);
	if (r < 0)
		return r;
	pathf(where, sizeof(where), "%s.excludes", base);
	r = parse_rule_filter(ps, json_object_get(v, "excludes"), where, &rule->excludes);
	if (r < 0)
		return r;

	e = json_object_get(v, "comment");
	if (e && !json_is_null(e)) {
		const char *s = NULL;

		pathf(where, sizeof(where), "%s.comment", base);
		r = parse_string(ps, e, where, &s);
		if (r < 0)
			return r;
		rule->comment = strdup(s);
		if (!rule->comment)
			return -ENOMEM;
	}
	return 0;
}

static int check_arch(struct parser *ps, const char *where, const char *arch)
{
	/* Arches newer than the libseccomp we link parse too; compiling only warns about them. */
	if (!tb_arch_by_scmp(arch))
		return perr(ps, where, "unknown arch \"%s\"", arch);
	return 0;
}

static int add_arch(struct tb_profile *p, const char *arch, char **subs)
{
	struct tb_arch_entry *n = realloc(p->arches, (p->n_arches + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	p->arches = n;
	n[p->n_arches].arch = strdup(arch);
	n[p->n_arches].sub_arches = subs;
	if (!n[p->n_arches].arch)
		return -ENOMEM;
	p->n_arches++;
	return 0;
}

static int parse_arches(struct parser *ps, json_t *root, struct tb_profile *p)
{
	json_t *archs = json_object_get(root, "architectures");
	json_t *map = json_object_get(root, "archMap");
	char where[256];
	json_t *e;
	size_t i;
	int r;

	if (archs && !json_is_null(archs) && map && !json_is_null(map) &&
	    json_array_size(archs) > 0 && json_array_size(map) > 0)
		return perr(ps, "archMap",
			    "both \"architectures\" and \"archMap\" are given; use one (as Docker requires)");

	if (archs && !json_is_null(archs)) {
		if (!json_is_array(archs))
			return perr(ps, "architectures", "must be an array of strings, not %s",
				    json_type_name(archs));
		json_array_foreach(archs, i, e) {
			pathf(where, sizeof(where), "architectures[%zu]", i);
			if (!json_is_string(e))
				return perr(ps, where, "must be a string, not %s", json_type_name(e));
			r = check_arch(ps, where, json_string_value(e));
			if (r < 0)
				return r;
			r = add_arch(p, json_string_value(e), NULL);
			if (r < 0)
				return r;
		}
	}
	if (map && !json_is_null(map)) {
		if (!json_is_array(map))
			return perr(ps, "archMap", "must be an array, not %s", json_type_name(map));
		json_array_foreach(map, i, e) {
			char **subs = NULL;
			const char *a = NULL;

			pathf(where, sizeof(where), "archMap[%zu]", i);
			if (!json_is_object(e))
				return perr(ps, where, "must be an object, not %s", json_type_name(e));
			pathf(where, sizeof(where), "archMap[%zu].architecture", i);
			if (!json_object_get(e, "architecture"))
				return perr(ps, where, "is required");
			r = parse_string(ps, json_object_get(e, "architecture"), where, &a);
			if (r < 0)
				return r;
			r = check_arch(ps, where, a);
			if (r < 0)
				return r;
			pathf(where, sizeof(where), "archMap[%zu].subArchitectures", i);
			r = parse_strv(ps, json_object_get(e, "subArchitectures"), where, &subs, NULL);
			if (r < 0)
				return r;
			for (size_t k = 0; subs && subs[k]; k++) {
				pathf(where, sizeof(where), "archMap[%zu].subArchitectures[%zu]", i, k);
				r = check_arch(ps, where, subs[k]);
				if (r < 0) {
					tb_strv_free(subs);
					return r;
				}
			}
			r = add_arch(p, a, subs);
			if (r < 0) {
				tb_strv_free(subs);
				return r;
			}
			p->has_arch_map = true;
		}
	}
	return 0;
}

/*
 * A profile is a policy, not a data set: names are bounded so that memory and the compile stay
 * linear in the file (copies are deduplicated there; argument-conditioned rules are bounded there,
 * after deduplication).
 */
static int check_sizes(struct parser *ps, const struct tb_profile *p)
{
	size_t names = 0;

	for (size_t i = 0; i < p->n_rules; i++)
		names += p->rules[i].n_names;
	if (names > TB_PROFILE_MAX_NAMES)
		return perr(ps, "syscalls", "%zu syscall names in all: at most %d are accepted (list "
			    "each name once)", names, TB_PROFILE_MAX_NAMES);
	return 0;
}

static int parse_root(struct parser *ps, json_t *root, struct tb_profile *p)
{
	json_t *v;
	size_t i, n;
	int r;

	if (!json_is_object(root))
		return perr(ps, NULL, "a seccomp profile must be a JSON object, not %s",
			    json_type_name(root));

	r = parse_action(ps, json_object_get(root, "defaultAction"), "defaultAction",
			 &p->default_action);
	if (r < 0)
		return r;
	r = parse_errno_fields(ps, root, "defaultErrnoRet", "defaultErrno", "", &p->default_action);
	if (r < 0)
		return r;

	r = parse_arches(ps, root, p);
	if (r < 0)
		return r;

	r = parse_strv(ps, json_object_get(root, "flags"), "flags", &p->flags, NULL);
	if (r < 0)
		return r;
	for (i = 0; p->flags && p->flags[i]; i++)
		if (!in_list(known_flags, TB_ARRAY_SIZE(known_flags), p->flags[i])) {
			char where[64];

			pathf(where, sizeof(where), "flags[%zu]", i);
			return perr(ps, where, "unknown flag \"%s\"", p->flags[i]);
		}

	v = json_object_get(root, "listenerPath");
	if (v && !json_is_null(v) && !json_is_string(v))
		return perr(ps, "listenerPath", "must be a string, not %s", json_type_name(v));
	v = json_object_get(root, "listenerMetadata");
	if (v && !json_is_null(v) && !json_is_string(v))
		return perr(ps, "listenerMetadata", "must be a string, not %s", json_type_name(v));

	v = json_object_get(root, "syscalls");
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return perr(ps, "syscalls", "must be an array, not %s", json_type_name(v));
	n = json_array_size(v);
	if (n > 0) {
		p->rules = calloc(n, sizeof(*p->rules));
		if (!p->rules)
			return -ENOMEM;
	}
	if (n > TB_PROFILE_MAX_RULES)
		return perr(ps, "syscalls", "%zu rules: at most %d are accepted", n, TB_PROFILE_MAX_RULES);
	for (i = 0; i < n; i++) {
		p->n_rules = i + 1;
		r = parse_rule(ps, json_array_get(v, i), i, &p->rules[i]);
		if (r < 0)
			return r;
	}
	return check_sizes(ps, p);
}

void tb_profile_free(struct tb_profile *p)
{
	if (!p)
		return;
	free(p->source);
	for (size_t i = 0; i < p->n_arches; i++) {
		free(p->arches[i].arch);
		tb_strv_free(p->arches[i].sub_arches);
	}
	free(p->arches);
	tb_strv_free(p->flags);
	for (size_t i = 0; i < p->n_rules; i++)
		rule_clear(&p->rules[i]);
	free(p->rules);
	free(p);
}

static void profile_freep(struct tb_profile **p)
{
	tb_profile_free(*p);
}

static int parse_json(json_t *root, const char *name, struct tb_profile **out,
		      struct tb_diag *diag)
{
	__attribute__((cleanup(profile_freep))) struct tb_profile *p = NULL;
	struct parser ps = {.name = name, .diag = diag};
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->source = strdup(name);
	/* p is freed by its cleanup attribute, which cppcheck does not model. */
	if (!p->source)
		return -ENOMEM; // cppcheck-suppress memleak
	r = parse_root(&ps, root, p);
	if (r < 0)
		return r;
	*out = TB_TAKE_PTR(p);
	return 0;
}

int tb_profile_parse(const char *text, size_t len, const char *name, struct tb_profile **out,
		     struct tb_diag *diag)
{
	json_auto_t *root = NULL;
	json_error_t err;

	if (!name)
		name = "<profile>";
	root = json_loadb(text, len, 0, &err);
	if (!root) {
		tb_diag_set(diag, name, err.line, err.column, NULL, "not valid JSON: %s", err.text);
		return -EINVAL;
	}
	return parse_json(root, name, out, diag);
}

int tb_profile_load(const char *path, struct tb_profile **out, struct tb_diag *diag)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = tb_read_file(path, 16u << 20, &text, &len);

	if (r < 0) {
		tb_diag_set(diag, path, 0, 0, NULL, "cannot read: %s", tb_read_file_strerror(r));
		return r;
	}
	return tb_profile_parse(text, len, path, out, diag);
}

/* ---- compiler -------------------------------------------------------------------------------- */

/* GOARCH of the native arch: what moby compares includes/excludes "arches" with. */
const char *tb_profile_native_goarch(void)
{
	const struct tb_arch *a = tb_arch_native();

	return a && a->goarch ? a->goarch : "unknown";
}

uint32_t tb_profile_arch_token(const char *scmp_name)
{
	const struct tb_arch *a = tb_arch_by_scmp(scmp_name);

	return a ? a->token : 0;
}

/* Kernel "major.minor" of @release or the running kernel, as major * 65536 + minor. */
static int kernel_version(const char *release, unsigned long *out)
{
	struct utsname u;
	unsigned maj, min;
	const char *rest;

	if (!release) {
		if (uname(&u) < 0)
			return tb_negerrno();
		release = u.release;
	}
	if (parse_major_minor(release, &maj, &min, &rest) < 0)
		return -EINVAL;
	*out = (unsigned long)maj * 65536 + min;
	return 0;
}

static bool has_cap(const struct tb_compile_opts *o, const char *name)
{
	cap_value_t c;

	if (cap_from_name(name, &c) < 0 || c < 0 || c >= 64)
		return false;
	return (o->caps >> c) & 1;
}

int tb_profile_rule_applies(const struct tb_rule *r, const struct tb_compile_opts *o)
{
	return tb_profile_rule_applies_on(r, o, tb_profile_native_goarch());
}

int tb_profile_rule_applies_on(const struct tb_rule *r, const struct tb_compile_opts *o,
			       const char *arch)
{
	static const struct tb_compile_opts zero_opts;
	unsigned long kv = 0, want;
	int rc;

	if (!o)
		o = &zero_opts;
	if (r->includes.min_kernel || r->excludes.min_kernel) {
		rc = kernel_version(o->kernel_release, &kv);
		if (rc < 0)
			return rc;
	}
	/* Excludes first, then includes, in moby's order; any excluding condition wins. */
	if (r->excludes.arches && tb_strv_has(r->excludes.arches, arch))
		return 0;
	for (char **c = r->excludes.caps; c && *c; c++)
		if (has_cap(o, *c))
			return 0;
	if (r->excludes.min_kernel) {
		if (kernel_version(r->excludes.min_kernel, &want) < 0)
			return -EINVAL;
		if (kv >= want)
			return 0;
	}
	if (r->includes.arches && r->includes.arches[0] && !tb_strv_has(r->includes.arches, arch))
		return 0;
	for (char **c = r->includes.caps; c && *c; c++)
		if (!has_cap(o, *c))
			return 0;
	if (r->includes.min_kernel) {
		if (kernel_version(r->includes.min_kernel, &want) < 0)
			return -EINVAL;
		if (kv < want)
			return 0;
	}
	return 1;
}

uint32_t tb_action_errno(const struct tb_action *a)
{
	/* runc: ERRNO and TRACE without errnoRet mean EPERM. */
	return a->has_value ? a->value : EPERM;
}

bool tb_action_equal(const struct tb_action *a, const struct tb_action *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == TB_ACT_ERRNO || a->kind == TB_ACT_TRACE)
		return tb_action_errno(a) == tb_action_errno(b);
	return true;
}

bool tb_action_allows(enum tb_action_kind k)
{
	return k == TB_ACT_ALLOW || k == TB_ACT_LOG;
}

bool tb_rule_has_name(const struct tb_rule *r, const char *name)
{
	for (size_t i = 0; i < r->n_names; i++)
		if (!strcmp(r->names[i], name))
			return true;
	return false;
}

static uint32_t scmp_action(const struct tb_action *a, bool trace_denials)
{
	switch (a->kind) {
	case TB_ACT_ALLOW:
		return SCMP_ACT_ALLOW;
	case TB_ACT_LOG:
		return SCMP_ACT_LOG;
	case TB_ACT_KILL_PROCESS:
		return trace_denials ? SCMP_ACT_TRACE(TB_TRACE_KILL) : SCMP_ACT_KILL_PROCESS;
	case TB_ACT_KILL_THREAD:
		return trace_denials ? SCMP_ACT_TRACE(TB_TRACE_KILL) : SCMP_ACT_KILL_THREAD;
	case TB_ACT_TRAP:
		return trace_denials ? SCMP_ACT_TRACE(TB_TRACE_TRAP) : SCMP_ACT_TRAP;
	case TB_ACT_ERRNO:
		/* The kernel clamps errno data to MAX_ERRNO (4095); libseccomp 2.5 accepts at most
		 * 4094, so larger values become 4094 (no program tells them apart). */
		return trace_denials ? SCMP_ACT_TRACE(tb_action_errno(a))
				     : SCMP_ACT_ERRNO(tb_action_errno(a) > 4094 ? 4094
										 : tb_action_errno(a));
	case TB_ACT_TRACE:
		return SCMP_ACT_TRACE(tb_action_errno(a));
	case TB_ACT_NOTIFY:
		/* Nothing in tightbox listens; the kernel then fails the call with ENOSYS. */
		return trace_denials ? SCMP_ACT_TRACE(ENOSYS) : SCMP_ACT_NOTIFY;
	}
	return SCMP_ACT_KILL_PROCESS;
}

static void warnf(const struct tb_compile_opts *o, enum tb_warning_kind kind, const char *subject,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void warnf(const struct tb_compile_opts *o, enum tb_warning_kind kind, const char *subject,
		  const char *fmt, ...)
{
	struct tb_warning w = {.kind = kind};
	va_list ap;

	if (!o->warn)
		return;
	snprintf(w.subject, sizeof(w.subject), "%s", subject ? subject : "");
	va_start(ap, fmt);
	vsnprintf(w.message, sizeof(w.message), fmt, ap);
	va_end(ap);
	o->warn(o->warn_data, &w);
}

int tb_profile_filter_arches(const struct tb_profile *p, uint32_t *tokens, size_t max, size_t *n,
			     const struct tb_compile_opts *o)
{
	uint32_t native = seccomp_arch_native();
	size_t k = 0;

#define TB_ADD_TOKEN(name)                                                                         \
	do {                                                                                       \
		uint32_t t_ = tb_profile_arch_token(name);                                        \
		bool dup_ = false;                                                                 \
		if (!t_) {                                                                         \
			if (o)                                                                     \
				warnf(o, TB_WARN_UNKNOWN_ARCH, (name), "arch %s is unknown to libseccomp %u.%u: skipped", (name),   \
				      seccomp_version()->major, seccomp_version()->minor);          \
			break;                                                                     \
		}                                                                                  \
		for (size_t j_ = 0; j_ < k; j_++)                                                  \
			dup_ |= tokens[j_] == t_;                                                  \
		if (!dup_ && k < max)                                                              \
			tokens[k++] = t_;                                                          \
	} while (0)
	if (max == 0)
		return -ENOBUFS;
	/* The native arch is always in a libseccomp filter. */
	tokens[k++] = native;
	for (size_t i = 0; i < p->n_arches; i++) {
		const struct tb_arch_entry *e = &p->arches[i];

		if (!p->has_arch_map) {
			TB_ADD_TOKEN(e->arch);
			continue;
		}
		/* moby: only the native arch's archMap entry counts, with its sub-arches. */
		if (tb_profile_arch_token(e->arch) != native)
			continue;
		TB_ADD_TOKEN(e->arch);
		for (char **s = e->sub_arches; s && *s; s++)
			TB_ADD_TOKEN(*s);
	}
#undef TB_ADD_TOKEN
	*n = k;
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct tb_rule *rule, const char *name, int nr,
		    uint32_t act, const struct tb_compile_opts *o)
{
	struct scmp_arg_cmp conds[64];
	unsigned per_index[6] = {0};
	bool separate = false;
	size_t n = rule->n_args < TB_ARRAY_SIZE(conds) ? rule->n_args : TB_ARRAY_SIZE(conds);
	int r;

	for (size_t i = 0; i < n; i++) {
		static const enum scmp_compare ops[] = {
			[TB_OP_NE] = SCMP_CMP_NE, [TB_OP_LT] = SCMP_CMP_LT,
			[TB_OP_LE] = SCMP_CMP_LE, [TB_OP_EQ] = SCMP_CMP_EQ,
			[TB_OP_GE] = SCMP_CMP_GE, [TB_OP_GT] = SCMP_CMP_GT,
			[TB_OP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
		};
		const struct tb_arg *a = &rule->args[i];

		conds[i] = (struct scmp_arg_cmp){.arg = a->index, .op = ops[a->op],
						 .datum_a = a->value, .datum_b = a->value_two};
		if (++per_index[a->index] > 1)
			separate = true;
	}
	if (n == 0) {
		r = seccomp_rule_add(ctx, act, nr, 0);
	} else if (separate) {
		/* runc: two conditions on one argument cannot be ANDed by libseccomp, so each
		 * becomes its own rule (OR), the "old behaviour" Docker profiles rely on. */
		r = 0;
		for (size_t i = 0; i < n && r >= 0; i++)
			r = seccomp_rule_add_array(ctx, act, nr, 1, &conds[i]);
	} else {
		r = seccomp_rule_add_array(ctx, act, nr, (unsigned)n, conds);
	}
	if (r == -ENOMEM)
		return r;
	if (r < 0 && rule->action.kind != TB_ACT_ALLOW && rule->action.kind != TB_ACT_LOG)
		/* Dropping a deny rule could let the call through the default action: fail closed. */
		return r;
	if (r < 0)
		warnf(o, TB_WARN_RULE_SKIPPED, name, "syscalls[%zu]: %s: rule not added (%s): skipped", rule->index, name,
		      strerror(-r));
	return 0;
}

/* One (name, rule) pair of the compile: what it becomes and where it came from. */
struct add_entry {
	int nr;          /* libseccomp's number, __NR_SCMP_ERROR when unknown */
	uint32_t act;
	size_t argsid;   /* 0: unconditional; else 1 + the index of the rule whose args it has */
	size_t rule, name;
	const char *name_str;
	size_t seq;      /* position in profile order */
	bool skip;       /* a later copy of an earlier identical entry (or unknown name) */
};

static int entry_cmp(const void *a, const void *b)
{
	const struct add_entry *x = a, *y = b;

	if (x->nr != y->nr)
		return x->nr < y->nr ? -1 : 1;
	if (x->nr == __NR_SCMP_ERROR) {
		int c = strcmp(x->name_str, y->name_str);

		if (c)
			return c;
	}
	if (x->act != y->act)
		return x->act < y->act ? -1 : 1;
	if (x->argsid != y->argsid)
		return x->argsid < y->argsid ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int seq_cmp(const void *a, const void *b)
{
	const struct add_entry *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Marks every entry identical to an earlier one (same syscall, action and conditions; for unknown
 * names, the same name) as skipped, in O(n log n), and leaves the entries in profile order again:
 * a profile that repeats its names hundreds of times compiles as fast as one that lists each
 * once. libseccomp would treat the copies as no-ops, but each add is a transaction that costs as
 * much as the whole filter so far.
 */
static void mark_duplicates(struct add_entry *e, size_t n)
{
	qsort(e, n, sizeof(*e), entry_cmp);
	for (size_t i = 1; i < n; i++) {
		const struct add_entry *a = &e[i - 1];
		struct add_entry *b = &e[i];

		b->skip = a->nr == b->nr && a->act == b->act && a->argsid == b->argsid &&
			  (b->nr != __NR_SCMP_ERROR || !strcmp(a->name_str, b->name_str));
	}
	qsort(e, n, sizeof(*e), seq_cmp);
}

/* The (name, rule) pairs of the rules that apply, in profile order. */
static int collect_entries(const struct tb_profile *p, const struct tb_compile_opts *o, uint32_t def,
			   struct add_entry **out, size_t *n_out, struct tb_diag *diag)
{
	size_t total = 0, n = 0;
	struct add_entry *e;

	for (size_t i = 0; i < p->n_rules; i++)
		total += p->rules[i].n_names;
	e = calloc(total ? total : 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct tb_rule *rule = &p->rules[i];
		int r = tb_profile_rule_applies(rule, o);
		uint32_t act;

		if (r < 0) {
			char where[64];

			pathf(where, sizeof(where), "syscalls[%zu]", i);
			tb_diag_set(diag, p->source, 0, 0, where,
				    "cannot compare minKernel with the running kernel: %s", strerror(-r));
			free(e);
			return r;
		}
		if (r == 0)
			continue;
		if (rule->action.kind == TB_ACT_ERRNO && tb_action_errno(&rule->action) > 4094)
			warnf(o, TB_WARN_ERRNO_CLAMPED, NULL, "syscalls[%zu]: errnoRet %u is above 4094: compiled as 4094", i,
			      tb_action_errno(&rule->action));
		act = scmp_action(&rule->action, o->trace_denials);
		/* runc skips rules whose action is the default one; libseccomp would refuse them. */
		if (act == def)
			continue;
		for (size_t k = 0; k < rule->n_names; k++, n++)
			e[n] = (struct add_entry){.nr = seccomp_syscall_resolve_name(rule->names[k]),
						  .act = act, .argsid = rule->n_args ? i + 1 : 0,
						  .rule = i, .name = k, .name_str = rule->names[k],
						  .seq = n};
	}
	*out = e;
	*n_out = n;
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, const struct tb_profile *p, const struct tb_compile_opts *o,
		     uint32_t def, struct tb_diag *diag)
{
	_cleanup_free_ struct add_entry *e = NULL;
	size_t n = 0, conditioned = 0;
	int r;


	if ((r = collect_entries(p, o, def, &e, &n, diag)) < 0)
		return r;
	mark_duplicates(e, n);
	/* libseccomp's time grows with the square of argument conditions on a syscall, and a filter
	 * holds at most 4096 instructions anyway: refuse before spending seconds on it. */
	for (size_t i = 0; i < n; i++)
		conditioned += !e[i].skip && e[i].argsid && e[i].nr != __NR_SCMP_ERROR;
	if (conditioned > TB_PROFILE_MAX_ARG_RULES) {
		tb_diag_set(diag, p->source, 0, 0, "syscalls",
			    "%zu argument-conditioned rules (distinct names of rules with \"args\"): "
			    "at most %d fit a seccomp filter", conditioned, TB_PROFILE_MAX_ARG_RULES);
		return -E2BIG;
	}
	for (size_t i = 0; i < n; i++) {
		const struct tb_rule *rule = &p->rules[e[i].rule];

		if (e[i].skip)
			continue;
		if (e[i].nr == __NR_SCMP_ERROR) {
			warnf(o, TB_WARN_UNKNOWN_SYSCALL, e[i].name_str, "syscalls[%zu]: unknown syscall \"%s\" skipped",
			      e[i].rule, e[i].name_str);
			continue;
		}
		r = add_rule(ctx, rule, e[i].name_str, e[i].nr, e[i].act, o);
		if (r < 0) {
			char where[64];

			pathf(where, sizeof(where), "syscalls[%zu]", e[i].rule);
			tb_diag_set(diag, p->source, 0, 0, where, "libseccomp cannot add the %s rule for %s: %s",
				    tb_action_name(rule->action.kind), e[i].name_str, strerror(-r));
			return r;
		}
	}
	return 0;
}

static const char *const flag_attr_names[] = {
	"SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW",
	"SECCOMP_FILTER_FLAG_TSYNC",
};
static const enum scmp_filter_attr flag_attrs[] = {
	SCMP_FLTATR_CTL_LOG,
	SCMP_FLTATR_CTL_SSB,
	SCMP_FLTATR_CTL_TSYNC,
};

static void ctx_releasep(scmp_filter_ctx *c)
{
	if (*c)
		seccomp_release(*c);
}

int tb_profile_compile(const struct tb_profile *p, const struct tb_compile_opts *o, void **out,
		       struct tb_diag *diag)
{
	__attribute__((cleanup(ctx_releasep))) scmp_filter_ctx ctx = NULL;
	static const struct tb_compile_opts zero_opts;
	uint32_t def, tokens[32];
	size_t n_tokens;
	int r;

	if (!o)
		o = &zero_opts;
	def = scmp_action(&p->default_action, o->trace_denials);
	/* defaultErrnoRet was folded into default_action (EPERM when absent, as runc does). */
	ctx = seccomp_init(def);
	if (!ctx) {
		tb_diag_set(diag, p->source, 0, 0, "defaultAction", "libseccomp rejected %s",
			    tb_action_name(p->default_action.kind));
		return -EINVAL;
	}
	/* The runner sets no_new_privs itself, at the point it chooses. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		goto fail;
	/* A call from an arch the profile does not list kills the process: Docker lets such calls
	 * through libseccomp's default, tightbox refuses to guess that a foreign ABI is harmless. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			     o->trace_denials ? SCMP_ACT_TRACE(TB_TRACE_KILL) : SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		goto fail;
	for (size_t i = 0; p->flags && p->flags[i]; i++) {
		bool done = false;

		for (size_t k = 0; k < TB_ARRAY_SIZE(flag_attrs); k++)
			if (!strcmp(p->flags[i], flag_attr_names[k])) {
				r = seccomp_attr_set(ctx, flag_attrs[k], 1);
				if (r < 0)
					warnf(o, TB_WARN_FLAG_IGNORED, p->flags[i],
					      "flags[%zu]: %s not supported here (%s): ignored", i,
					      p->flags[i], strerror(-r));
				done = true;
			}
		if (!done)
			warnf(o, TB_WARN_FLAG_IGNORED, p->flags[i],
			      "flags[%zu]: %s not supported by libseccomp %u.%u: ignored", i,
			      p->flags[i], seccomp_version()->major, seccomp_version()->minor);
	}

	r = tb_profile_filter_arches(p, tokens, TB_ARRAY_SIZE(tokens), &n_tokens, o);
	if (r < 0)
		goto fail;
	for (size_t i = 1; i < n_tokens; i++) {
		r = seccomp_arch_add(ctx, tokens[i]);
		if (r < 0 && r != -EEXIST)
			goto fail;
	}

	r = add_rules(ctx, p, o, def, diag);
	if (r < 0)
		return r;
	*out = TB_TAKE_PTR(ctx);
	return 0;
fail:
	tb_diag_set(diag, p->source, 0, 0, NULL, "libseccomp failed: %s", strerror(-r));
	return r;
}

int tb_profile_export_bpf(void *ctx, struct sock_fprog *prog)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ struct sock_filter *buf = NULL;
	struct stat st;
	ssize_t got;
	int r;

	/* libseccomp 2.5 exports only to a file descriptor. */
	fd = memfd_create("tightbox-bpf", MFD_CLOEXEC);
	if (fd < 0)
		return tb_negerrno();
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return tb_negerrno();
	if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) ||
	    st.st_size / sizeof(struct sock_filter) > 0xffff)
		return -EINVAL;
	buf = malloc((size_t)st.st_size);
	if (!buf)
		return -ENOMEM;
	got = pread(fd, buf, (size_t)st.st_size, 0);
	if (got < 0)
		return tb_negerrno();
	if (got != st.st_size)
		return -EIO;
	prog->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	prog->filter = TB_TAKE_PTR(buf);
	return 0;
}

void tb_profile_ctx_free(void *ctx)
{
	if (ctx)
		seccomp_release(ctx);
}
