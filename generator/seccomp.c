/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage 2a: the model -> a Docker/OCI seccomp profile (the JSON docker, podman, runc, containerd,
 * Kubernetes and `tightbox run` read).
 *
 * Rule order and every list is sorted or follows a fixed table, so the same recordings give a
 * byte-identical profile. No syscall is given two unconditional rules with different actions:
 * libseccomp lets an unconditional rule silently replace conditional ones of the same syscall.
 * Every argument rule compares one argument once: runc turns a rule with two comparisons of the
 * same argument into separate (OR-ed) rules.
 */
#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/dangerous-args.h"
#include "core/dangerous.h"
#include "core/syscall-groups.h"
#include "core/util.h"
#include "generator/internal.h"

/* clone's namespace flags, the terminal-injection ioctls and the risky socket families come from
 * core/dangerous-args.c, the table audit and explain read too. */

struct emitter {
	const struct tb_gen_model *m;
	json_t *rules;
	unsigned all_mask;
	int err;
};

static json_t *names_json(char *const *names)
{
	json_t *a = json_array();

	for (size_t i = 0; a && names && names[i]; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

static bool goarch_in(const struct tb_gen_model *m, unsigned mask, const char *go)
{
	for (size_t t = 0; t < m->n_arches; t++)
		if ((mask & (1u << t)) && !strcmp(m->arches[t].goarch, go))
			return true;
	return false;
}

/* includes.arches (moby compares Go arch names) when @mask does not cover every target's Go
 * arch. A sub-architecture shares its parent's: the format cannot tell them apart. */
static void add_arch_filter(struct emitter *e, json_t *rule, unsigned mask)
{
	bool all = true;
	json_t *arches;

	for (size_t t = 0; t < e->m->n_arches; t++)
		all &= goarch_in(e->m, mask, e->m->arches[t].goarch);
	if (all)
		return;
	arches = json_array();
	for (size_t t = 0; t < e->m->n_arches; t++) {
		const char *go = e->m->arches[t].goarch;
		bool dup = false;
		size_t i;
		json_t *v;

		if (!(mask & (1u << t)))
			continue;
		json_array_foreach(arches, i, v) dup |= !strcmp(json_string_value(v), go);
		if (!dup)
			json_array_append_new(arches, json_string(go));
	}
	json_object_set_new(rule, "includes", json_pack("{s:o}", "arches", arches));
}

static void push_rule(struct emitter *e, char *const *names, const char *action, int errno_ret,
		      json_t *args, const char *comment, unsigned mask)
{
	json_t *rule = json_object();

	if (!rule) {
		e->err = -ENOMEM;
		json_decref(args);
		return;
	}
	json_object_set_new(rule, "names", names_json(names));
	json_object_set_new(rule, "action", json_string(action));
	if (errno_ret >= 0)
		json_object_set_new(rule, "errnoRet", json_integer(errno_ret));
	if (args)
		json_object_set_new(rule, "args", args);
	if (comment)
		json_object_set_new(rule, "comment", json_string(comment));
	add_arch_filter(e, rule, mask);
	if (json_array_append_new(e->rules, rule))
		e->err = -ENOMEM;
}

static json_t *arg1(unsigned index, const char *op, uint64_t value, uint64_t value_two)
{
	return json_pack("[{s:i, s:I, s:I, s:s}]", "index", (int)index, "value", (json_int_t)value,
			 "valueTwo", (json_int_t)value_two, "op", op);
}

static void push_one(struct emitter *e, const char *name, const char *action, int errno_ret,
		     json_t *args, const char *comment, unsigned mask)
{
	char *names[] = {(char *)name, NULL};

	push_rule(e, names, action, errno_ret, args, comment, mask);
}

static bool resolves_any(const struct tb_gen_model *m, const char *name, unsigned *mask)
{
	*mask = 0;
	for (size_t t = 0; t < m->n_arches; t++)
		if (seccomp_syscall_resolve_name_arch(m->arches[t].token, name) >= 0)
			*mask |= 1u << t;
	return *mask != 0;
}

/* Names whose allow rules compare arguments in this mode (so no group rule lists them). */
static bool args_filtered(const struct tb_gen_model *m, const char *name)
{
	enum tb_gen_args mode = m->opts->args;

	if (mode == TB_GEN_ARGS_NONE)
		return false;
	if (!strcmp(name, "clone") || !strcmp(name, "ioctl"))
		return true;
	if (!strcmp(name, "socket"))
		return m->seen_args_socket;
	if (!strcmp(name, "personality"))
		return m->seen_args_personality;
	if (!strcmp(name, "prctl"))
		return mode == TB_GEN_ARGS_STRICT && m->seen_args_prctl;
	return false;
}

/* Dangerous names are denied with EPERM, except personality when argument rules allow the
 * recorded values (an unconditional EPERM rule would replace those). */
static bool denied_dangerous(const struct tb_gen_model *m, const char *name)
{
	if (!tb_dangerous_lookup(name))
		return false;
	return !(!strcmp(name, "personality") && args_filtered(m, name));
}

/* Allowed only because a scan reached it (tightbox scan), nothing else. */
static bool static_only(const struct tb_gen_name *n)
{
	return n->why == TB_WHY_STATIC;
}

/* Allowed only as the legacy form of an allowed call (a scan may have reached it too). */
static bool legacy_only(const struct tb_gen_name *n)
{
	return (n->why & ~(unsigned)TB_WHY_STATIC) == TB_WHY_LEGACY;
}

/* Whether the model allows @n at all (and so appears in the summary and an allow rule). */
static bool allowed(const struct tb_gen_model *m, const struct tb_gen_name *n)
{
	return strcmp(n->name, "clone3") != 0 && !denied_dangerous(m, n->name);
}

static char *workloads_text(char *const *wl, unsigned why)
{
	if (wl && wl[0])
		return tb_strv_join(wl, ", ");
	if (why & TB_WHY_BASELINE)
		return strdup("baseline (signal return, exit, loader errors, vDSO clock calls)");
	if (why & TB_WHY_LEGACY)
		return strdup("their allowed equivalents");
	return strdup("-");
}

static void emit_dangerous(struct emitter *e)
{
	const struct tb_gen_model *m = e->m;
	const struct tb_dangerous *t;
	char **names = NULL, **recorded = NULL;
	unsigned mask;
	size_t n;

	t = tb_dangerous_table(&n);
	for (size_t i = 0; i < n; i++) {
		struct tb_gen_name *g;

		if (!resolves_any(m, t[i].name, &mask) || !denied_dangerous(m, t[i].name))
			continue;
		if (tb_strv_add_sorted(&names, t[i].name) < 0)
			e->err = -ENOMEM;
		g = tb_gen_model_find(m, t[i].name);
		if (g && (g->why & (TB_WHY_RECORDED | TB_WHY_MAPPED)) &&
		    tb_strv_add(&recorded, t[i].name) < 0)
			e->err = -ENOMEM;
	}
	if (names) {
		_cleanup_free_ char *rec = tb_strv_join(recorded, ", ");
		_cleanup_free_ char *comment = NULL;

		if (asprintf(&comment, "dangerous (core/dangerous.c): denied with EPERM%s%s",
			     recorded ? "; recorded but still denied: " : "",
			     recorded ? rec : "") < 0)
			e->err = -ENOMEM;
		push_rule(e, names, "SCMP_ACT_ERRNO", EPERM, NULL, comment, e->all_mask);
	}
	tb_strv_free(names);
	tb_strv_free(recorded);
}

static void emit_arg_denies(struct emitter *e)
{
	const struct tb_gen_model *m = e->m;
	size_t n_dargs;
	const struct tb_dangerous_arg *dargs = tb_dangerous_args(&n_dargs);
	unsigned mask;
	char comment[256];

	if (m->opts->args == TB_GEN_ARGS_NONE)
		return;
	/* clone with a namespace flag: EPERM, as for unshare, rather than the default ENOSYS. */
	for (unsigned idx = 0; idx < 2; idx++) {
		unsigned amask = 0;

		for (size_t t = 0; t < m->n_arches; t++)
			if (m->arches[t].clone_flags_index == idx &&
			    seccomp_syscall_resolve_name_arch(m->arches[t].token, "clone") >= 0)
				amask |= 1u << t;
		if (!amask)
			continue;
		for (size_t i = 0; i < n_dargs; i++) {
			if (dargs[i].kind != TB_DARG_CLONE_NS)
				continue;
			snprintf(comment, sizeof(comment), "clone with %s: EPERM (%s)", dargs[i].name,
				 dargs[i].reason);
			push_one(e, "clone", "SCMP_ACT_ERRNO", EPERM,
				 arg1(idx, "SCMP_CMP_MASKED_EQ", dargs[i].mask, dargs[i].value),
				 comment, amask);
		}
	}
	/* The kernel compares the low 32 bits of the request: mask them, so high bits set in the
	 * 64-bit register do not slip past. */
	if (resolves_any(m, "ioctl", &mask))
		for (size_t i = 0; i < n_dargs; i++) {
			if (dargs[i].kind != TB_DARG_IOCTL)
				continue;
			snprintf(comment, sizeof(comment), "ioctl %s: EPERM (%s)", dargs[i].name,
				 dargs[i].reason);
			push_one(e, "ioctl", "SCMP_ACT_ERRNO", EPERM,
				 arg1(dargs[i].index, "SCMP_CMP_MASKED_EQ", dargs[i].mask,
				      dargs[i].value),
				 comment, mask);
		}
	if (resolves_any(m, "socket", &mask))
		for (size_t i = 0; i < n_dargs; i++) {
			if (dargs[i].kind != TB_DARG_SOCKET_FAMILY ||
			    tb_u64set_has(&m->socket_domains, dargs[i].value))
				continue;
			snprintf(comment, sizeof(comment),
				 "socket %s: EPERM (not recorded; raw or kernel-facing family)",
				 dargs[i].name);
			push_one(e, "socket", "SCMP_ACT_ERRNO", EPERM,
				 arg1(dargs[i].index, "SCMP_CMP_MASKED_EQ", dargs[i].mask,
				      dargs[i].value),
				 comment, mask);
		}
}

/* Allow rules for one set of names: one rule per distinct arch mask. */
static void emit_names(struct emitter *e, struct tb_gen_name **sel, size_t n, const char *label)
{
	for (size_t i = 0; i < n; i++) {
		unsigned mask = sel[i]->arch_mask;
		char **names = NULL, **wl = NULL;
		unsigned why = 0;
		_cleanup_free_ char *wtext = NULL, *comment = NULL;
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen |= sel[j]->arch_mask == mask;
		if (seen)
			continue;
		for (size_t j = i; j < n; j++) {
			if (sel[j]->arch_mask != mask)
				continue;
			if (tb_strv_add(&names, sel[j]->name) < 0)
				e->err = -ENOMEM;
			for (size_t k = 0; sel[j]->workloads && sel[j]->workloads[k]; k++)
				if (tb_strv_add_sorted(&wl, sel[j]->workloads[k]) < 0)
					e->err = -ENOMEM;
			why |= sel[j]->why;
		}
		wtext = workloads_text(wl, why);
		if (asprintf(&comment, "%s; needed by: %s%s", label, wtext ? wtext : "",
			     (why & TB_WHY_MAPPED) ? " (some mapped from another arch)" : "") < 0)
			e->err = -ENOMEM;
		push_rule(e, names, "SCMP_ACT_ALLOW", -1, NULL, comment, mask);
		tb_strv_free(names);
		tb_strv_free(wl);
	}
}

static void emit_groups(struct emitter *e, struct tb_gen_result *res)
{
	const struct tb_gen_model *m = e->m;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized by its element */
	_cleanup_free_ struct tb_gen_name **sel = calloc(m->n_names + 1, sizeof(*sel));
	const struct tb_syscall_group *g;
	size_t ng;

	if (!sel) {
		e->err = -ENOMEM;
		return;
	}
	g = tb_syscall_groups(&ng);
	/* ng leaf/composite groups, then one pass (i == ng) for names no group lists. */
	for (size_t i = 0; i <= ng; i++) {
		size_t n = 0;
		char label[256];

		if (i < ng && !g[i].syscalls)
			continue;
		for (size_t k = 0; k < m->n_names; k++) {
			struct tb_gen_name *x = &m->names[k];
			const struct tb_syscall_group *xg = tb_syscall_group_of(x->name);

			if (!allowed(m, x) || args_filtered(m, x->name) ||
			    (x->why & TB_WHY_PRELUDE) || static_only(x) || legacy_only(x))
				continue;
			if (i < ng ? xg == &g[i] : xg == NULL)
				sel[n++] = x;
		}
		if (!n)
			continue;
		if (i < ng)
			snprintf(label, sizeof(label), "%s (%s)", g[i].name, g[i].help);
		else
			snprintf(label, sizeof(label), "@other (in no tightbox group)");
		if (res && tb_strv_add(&res->groups, i < ng ? g[i].name : "@other") < 0)
			e->err = -ENOMEM;
		emit_names(e, sel, n, label);
	}
}

/*
 * One rule per name only a scan found (never recorded, not baseline or prelude), its comment
 * naming the object and symbol that reach it: a reader sees exactly what the scan added.
 */
static void emit_static(struct emitter *e)
{
	const struct tb_gen_model *m = e->m;

	for (size_t k = 0; k < m->n_names; k++) {
		const struct tb_gen_name *x = &m->names[k];
		const struct tb_syscall_group *g = tb_syscall_group_of(x->name);
		char *names[2] = {x->name, NULL};
		_cleanup_free_ char *comment = NULL;

		if (!static_only(x) || !allowed(m, x) || args_filtered(m, x->name))
			continue;
		if (asprintf(&comment, "static: %s (%s)", x->static_why ? x->static_why : "scan",
			     g ? g->name : "@other") < 0)
			e->err = -ENOMEM;
		push_rule(e, names, "SCMP_ACT_ALLOW", -1, NULL, comment, x->arch_mask);
	}
}

static void emit_legacy(struct emitter *e)
{
	const struct tb_gen_model *m = e->m;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized by its element */
	_cleanup_free_ struct tb_gen_name **sel = calloc(m->n_names + 1, sizeof(*sel));
	size_t n = 0;

	if (!sel) {
		e->err = -ENOMEM;
		return;
	}
	for (size_t k = 0; k < m->n_names; k++)
		if (legacy_only(&m->names[k]) && allowed(m, &m->names[k]) &&
		    !args_filtered(m, m->names[k].name))
			sel[n++] = &m->names[k];
	if (n)
		emit_names(e, sel, n,
			   "legacy forms of allowed calls (open/creat of openat, stat of newfstatat, "
			   "...: the same kernel code, nothing more)");
}

static void emit_prelude(struct emitter *e)
{
	const struct tb_gen_model *m = e->m;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized by its element */
	_cleanup_free_ struct tb_gen_name **sel = calloc(m->n_names + 1, sizeof(*sel));
	char how[1024] = "";
	size_t n = 0;

	if (!sel) {
		e->err = -ENOMEM;
		return;
	}
	/* One rule for the union of the chosen runtimes' preludes; the comment names each. */
	for (int rt = TB_GEN_RUNTIME_TIGHTBOX; rt <= TB_GEN_RUNTIME_RUNC; rt++) {
		const char *one;

		if (!(tb_gen_runtimes(m->opts) & TB_GEN_RUNTIME_BIT(rt)))
			continue;
		tb_gen_prelude((enum tb_gen_runtime)rt, &one);
		snprintf(how + strlen(how), sizeof(how) - strlen(how), "%s%s", how[0] ? "; " : "",
			 one);
	}
	for (size_t k = 0; k < m->n_names; k++)
		if ((m->names[k].why & TB_WHY_PRELUDE) && allowed(m, &m->names[k]) &&
		    !args_filtered(m, m->names[k].name))
			sel[n++] = &m->names[k];
	if (n)
		emit_names(e, sel, n, how);
}

/*
 * Allow rules for every request value but @excl (low 32 bits of argument @index): one
 * MASKED_EQ rule per subtree of the binary trie of 32-bit values that contains no excluded value.
 */
static void emit_complement(struct emitter *e, const char *name, unsigned index,
			    const uint32_t *excl, size_t n_excl, uint32_t mask, uint32_t val,
			    int bit, const char *comment, unsigned amask)
{
	bool any = false;

	for (size_t i = 0; i < n_excl; i++)
		any |= (excl[i] & mask) == val;
	if (!any) {
		push_one(e, name, "SCMP_ACT_ALLOW", -1,
			 arg1(index, "SCMP_CMP_MASKED_EQ", mask, val), comment, amask);
		return;
	}
	if (bit < 0)
		return; /* exactly an excluded value */
	emit_complement(e, name, index, excl, n_excl, mask | (1u << bit), val, bit - 1, comment,
			amask);
	emit_complement(e, name, index, excl, n_excl, mask | (1u << bit), val | (1u << bit),
			bit - 1, comment, amask);
}

/* An allow rule for @name when its first argument is @value, on the arches of @mask, commented
 * with @fmt. */
static void __attribute__((format(printf, 5, 6)))
allow_arg0_eq(struct emitter *e, const char *name, uint64_t value, unsigned mask, const char *fmt, ...)
{
	char comment[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(comment, sizeof(comment), fmt, ap);
	va_end(ap);
	push_one(e, name, "SCMP_ACT_ALLOW", -1, arg1(0, "SCMP_CMP_EQ", value, 0), comment, mask);
}

static void emit_arg_allows(struct emitter *e)
{
	const struct tb_gen_model *m = e->m;
	struct tb_gen_name *x;
	char comment[256];

	if (m->opts->args == TB_GEN_ARGS_NONE)
		return;
	x = tb_gen_model_find(m, "clone");
	if (x && allowed(m, x))
		for (unsigned idx = 0; idx < 2; idx++) {
			unsigned amask = 0;

			for (size_t t = 0; t < m->n_arches; t++)
				if (m->arches[t].clone_flags_index == idx)
					amask |= 1u << t;
			amask &= x->arch_mask;
			if (amask)
				push_one(e, "clone", "SCMP_ACT_ALLOW", -1,
					 arg1(idx, "SCMP_CMP_MASKED_EQ", TB_CLONE_NS_MASK, 0),
					 "clone without namespace flags: fork, vfork, threads",
					 amask);
		}
	x = tb_gen_model_find(m, "socket");
	if (x && allowed(m, x) && m->seen_args_socket)
		for (size_t i = 0; i < m->socket_domains.n; i++) {
			if (m->socket_domains.v[i] == 16 && m->netlink_protocols.n) {
				/* Netlink families differ widely (route, audit, xfrm, ...): only the
				 * recorded protocols, each ANDed with the domain. */
				for (size_t k = 0; k < m->netlink_protocols.n; k++) {
					json_t *args = arg1(0, "SCMP_CMP_EQ", 16, 0);
					json_t *proto = arg1(2, "SCMP_CMP_EQ", m->netlink_protocols.v[k], 0);

					json_array_extend(args, proto);
					json_decref(proto);
					snprintf(comment, sizeof(comment),
						 "socket AF_NETLINK protocol %llu (recorded)",
						 (unsigned long long)m->netlink_protocols.v[k]);
					push_one(e, "socket", "SCMP_ACT_ALLOW", -1, args, comment,
						 x->arch_mask);
				}
				continue;
			}
			allow_arg0_eq(e, "socket", m->socket_domains.v[i], x->arch_mask,
				      "socket domain %llu (recorded)",
				      (unsigned long long)m->socket_domains.v[i]);
		}
	x = tb_gen_model_find(m, "personality");
	if (x && allowed(m, x) && m->seen_args_personality)
		for (size_t i = 0; i < m->personality.n; i++)
			allow_arg0_eq(e, "personality", m->personality.v[i], x->arch_mask,
				      "personality 0x%llx (recorded)",
				      (unsigned long long)m->personality.v[i]);
	x = tb_gen_model_find(m, "ioctl");
	if (x && allowed(m, x)) {
		size_t n_dargs, n_excl = 0;
		const struct tb_dangerous_arg *dargs = tb_dangerous_args(&n_dargs);
		uint32_t excl[8];

		for (size_t i = 0; i < n_dargs && n_excl < TB_ARRAY_SIZE(excl); i++)
			if (dargs[i].kind == TB_DARG_IOCTL)
				excl[n_excl++] = (uint32_t)dargs[i].value;
		if (m->opts->args == TB_GEN_ARGS_STRICT && m->seen_args_ioctl) {
			for (size_t i = 0; i < m->ioctl_cmds.n; i++) {
				uint64_t c = m->ioctl_cmds.v[i];

				if (tb_dangerous_arg_match("ioctl", (const uint64_t[6]){0, c}))
					continue;
				snprintf(comment, sizeof(comment),
					 "ioctl request 0x%llx (recorded; low 32 bits compared)",
					 (unsigned long long)c);
				push_one(e, "ioctl", "SCMP_ACT_ALLOW", -1,
					 arg1(1, "SCMP_CMP_MASKED_EQ", 0xffffffffu, c), comment,
					 x->arch_mask);
			}
		} else {
			emit_complement(
			    e, "ioctl", 1, excl, n_excl, 0, 0, 31,
			    "ioctl: any request but TIOCSTI and TIOCLINUX (low 32 bits, "
			    "as the kernel compares)",
			    x->arch_mask);
		}
	}
	x = tb_gen_model_find(m, "prctl");
	if (x && allowed(m, x) && args_filtered(m, "prctl"))
		for (size_t i = 0; i < m->prctl_opts.n; i++)
			allow_arg0_eq(e, "prctl", m->prctl_opts.v[i], x->arch_mask,
				      "prctl option %llu (recorded)",
				      (unsigned long long)m->prctl_opts.v[i]);
}

static int add_notes(const struct tb_gen_model *m, struct tb_gen_result *res)
{
	struct tb_gen_name *x;

	for (size_t i = 0; i < m->n_names; i++) {
		x = &m->names[i];
		if ((x->why & (TB_WHY_RECORDED | TB_WHY_MAPPED)) && denied_dangerous(m, x->name)) {
			_cleanup_free_ char *wl = tb_strv_join(x->workloads, ", ");

			if (tb_strv_addf(&res->notes,
					 "%s was recorded (%s) but is dangerous: denied "
					 "with EPERM",
					 x->name, wl ? wl : "") < 0)
				return -ENOMEM;
		}
	}
	{
		char **dang = NULL;

		for (size_t i = 0; i < m->n_names; i++)
			if ((m->names[i].why & TB_WHY_STATIC) &&
			    !(m->names[i].why & (TB_WHY_RECORDED | TB_WHY_MAPPED)) &&
			    denied_dangerous(m, m->names[i].name) &&
			    tb_strv_add(&dang, m->names[i].name) < 0) {
				tb_strv_free(dang);
				return -ENOMEM;
			}
		if (dang) {
			_cleanup_free_ char *list = tb_strv_join(dang, " ");
			int r = tb_strv_addf(&res->notes,
					     "statically reachable but dangerous, still denied with "
					     "EPERM: %s",
					     list ? list : "");

			tb_strv_free(dang);
			if (r < 0 || !list)
				return -ENOMEM;
		}
	}
	x = tb_gen_model_find(m, "clone3");
	if (x && tb_strv_add(&res->notes, "clone3 answers ENOSYS so glibc falls back to clone, "
					  "whose flags the filter can check") < 0)
		return -ENOMEM;
	if (m->opts->args != TB_GEN_ARGS_NONE && tb_gen_model_find(m, "socket") &&
	    !m->seen_args_socket &&
	    tb_strv_add(&res->notes, "socket recorded without argument values: allowed for every "
				     "domain") < 0)
		return -ENOMEM;
	if (m->opts->args == TB_GEN_ARGS_STRICT && tb_gen_model_find(m, "prctl") &&
	    !m->seen_args_prctl &&
	    tb_strv_add(&res->notes, "prctl recorded without argument values: allowed for every "
				     "option") < 0)
		return -ENOMEM;
	return 0;
}

/* Whether a recording saw @name on the first target arch (why bits are a union over arches). */
static bool recorded_on_first(const struct tb_gen_model *m, const char *name)
{
	const struct tb_rec_arch *a = tb_recording_arch(m->merged, m->arches[0].name);

	for (size_t i = 0; a && i < a->n_syscalls; i++)
		if (!strcmp(a->syscalls[i].name, name))
			return true;
	return false;
}

static int summarise(const struct tb_gen_model *m, struct tb_gen_result *res)
{
	for (size_t i = 0; i < m->n_names; i++) {
		const struct tb_gen_name *x = &m->names[i];

		if (!(x->arch_mask & 1u))
			continue;
		if (!(x->why & (TB_WHY_RECORDED | TB_WHY_MAPPED | TB_WHY_STATIC)))
			continue;
		if (denied_dangerous(m, x->name))
			res->n_dangerous_denied++;
		else if (!allowed(m, x))
			continue;
		else if (recorded_on_first(m, x->name))
			res->n_recorded++;
		else if (static_only(x))
			res->n_static_only++;
	}
	res->n_arches = m->n_arches;
	for (size_t t = 0; t < m->n_arches; t++) {
		res->arches[t].arch = strdup(m->arches[t].name);
		if (!res->arches[t].arch)
			return -ENOMEM;
		for (size_t i = 0; i < m->n_names; i++)
			if ((m->names[i].arch_mask & (1u << t)) && allowed(m, &m->names[i])) {
				if (tb_strv_add(&res->arches[t].names, m->names[i].name) < 0)
					return -ENOMEM;
				res->arches[t].allowed++;
			}
	}
	return 0;
}

int tb_gen_seccomp(const struct tb_gen_model *m, char **out, struct tb_gen_result *res)
{
	struct emitter e = {.m = m, .rules = json_array()};
	json_t *root = json_object();
	unsigned mask;
	char *text;
	int r;

	if (!root || !e.rules) {
		json_decref(root);
		json_decref(e.rules);
		return -ENOMEM;
	}
	e.all_mask = (1u << m->n_arches) - 1;
	json_object_set_new(root, "defaultAction", json_string("SCMP_ACT_ERRNO"));
	/* ENOSYS, not EPERM: glibc and CPython fall back to older calls only on ENOSYS. */
	json_object_set_new(root, "defaultErrnoRet", json_integer(ENOSYS));
	if (m->n_arches == 1) {
		json_object_set_new(root, "architectures", json_pack("[s]", m->arches[0].scmp));
	} else {
		json_t *map = json_array();

		/* moby uses only the host's entry and its subArchitectures: compat arches go there.
		 */
		for (size_t t = 0; t < m->n_arches; t++) {
			json_t *subs = json_array();

			if (m->arches[t].parent && tb_gen_model_has_arch(m, m->arches[t].parent))
				continue;
			for (size_t s = 0; s < m->n_arches; s++)
				if (m->arches[s].parent &&
				    !strcmp(m->arches[s].parent, m->arches[t].name))
					json_array_append_new(subs, json_string(m->arches[s].scmp));
			json_array_append_new(map, json_pack("{s:s, s:o}", "architecture",
							     m->arches[t].scmp, "subArchitectures",
							     subs));
		}
		json_object_set_new(root, "archMap", map);
	}
	emit_dangerous(&e);
	if (resolves_any(m, "clone3", &mask))
		push_one(
		    &e, "clone3", "SCMP_ACT_ERRNO", ENOSYS, NULL,
		    "clone3: ENOSYS so glibc falls back to clone (seccomp cannot read clone3's "
		    "flags)",
		    mask);
	emit_arg_denies(&e);
	emit_groups(&e, res);
	emit_static(&e);
	emit_legacy(&e);
	emit_arg_allows(&e);
	emit_prelude(&e);
	json_object_set_new(root, "syscalls", e.rules);
	if (e.err) {
		json_decref(root);
		return e.err;
	}
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (!text)
		return -ENOMEM;
	if (res) {
		r = summarise(m, res);
		if (r == 0)
			r = add_notes(m, res);
		if (r < 0) {
			free(text);
			return r;
		}
	}
	*out = text;
	return 0;
}
