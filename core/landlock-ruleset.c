/* SPDX-License-Identifier: Apache-2.0 */
/* Reader and writer of tightbox's Landlock ruleset files (docs/landlock-format.md). */
#include "core/landlock-ruleset.h"
#include "core/internal.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "core/util.h"

#define TB_LL_FORMAT "tightbox-landlock"
#define TB_LL_VERSION 1

static const char *const access_names[] = {
    "execute",	 "write_file", "read_file", "read_dir",	 "remove_dir", "remove_file",
    "make_char", "make_dir",   "make_reg",  "make_sock", "make_fifo",  "make_block",
    "make_sym",	 "refer",      "truncate",  "ioctl_dev",
};

const char *tb_ll_access_name(uint64_t bit)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(access_names); i++)
		if (bit == 1ULL << i)
			return access_names[i];
	return NULL;
}

/* Single names plus the shorthands a human writing a ruleset wants. */
static int access_from_name(const char *name, uint64_t *out)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(access_names); i++)
		if (!strcmp(name, access_names[i])) {
			*out = 1ULL << i;
			return 0;
		}
	if (!strcmp(name, "read"))
		*out = TB_LL_FS_READ;
	else if (!strcmp(name, "write"))
		*out = TB_LL_FS_WRITE;
	else if (!strcmp(name, "all"))
		*out = TB_LL_FS_ALL;
	else
		return -EINVAL;
	return 0;
}

struct tb_ll_ruleset *tb_ll_ruleset_new(void)
{
	return calloc(1, sizeof(struct tb_ll_ruleset));
}

void tb_ll_ruleset_free(struct tb_ll_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n_rules; i++)
		free(rs->rules[i].path);
	free(rs->rules);
	free(rs->bind_ports);
	free(rs->connect_ports);
	free(rs);
}

/* Rules stay sorted by path; adding a path twice ors the access bits. */
int tb_ll_ruleset_add(struct tb_ll_ruleset *rs, const char *path, uint64_t access)
{
	size_t at = 0;
	struct tb_ll_rule *nr;
	char *copy;

	while (at < rs->n_rules && strcmp(rs->rules[at].path, path) < 0)
		at++;
	if (at < rs->n_rules && !strcmp(rs->rules[at].path, path)) {
		rs->rules[at].access |= access;
		return 0;
	}
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	nr = realloc(rs->rules, (rs->n_rules + 1) * sizeof(*nr));
	if (!nr) {
		free(copy);
		return -ENOMEM;
	}
	rs->rules = nr;
	memmove(&nr[at + 1], &nr[at], (rs->n_rules - at) * sizeof(*nr));
	nr[at].path = copy;
	nr[at].access = access;
	rs->n_rules++;
	return 0;
}

static json_t *access_to_json(uint64_t access)
{
	json_t *a = json_array();
	/* Sorted by name, not by bit, so a reader diffing two files sees a stable order. */
	const char *names[TB_ARRAY_SIZE(access_names)];
	size_t n = 0;

	if (!a)
		return NULL;
	for (size_t i = 0; i < TB_ARRAY_SIZE(access_names); i++)
		if (access & (1ULL << i))
			names[n++] = access_names[i];
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(a, json_string(names[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static int port_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static json_t *ports_to_json(const uint16_t *p, size_t n)
{
	_cleanup_free_ uint16_t *sorted = malloc((n + 1) * sizeof(*p));
	json_t *a = json_array();

	if (!a || !sorted) {
		json_decref(a);
		return NULL;
	}
	if (n)
		memcpy(sorted, p, n * sizeof(*p));
	qsort(sorted, n, sizeof(*sorted), port_cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(sorted[i]));
	return a;
}

static json_t *ruleset_to_json(const struct tb_ll_ruleset *rs)
{
	json_t *root = json_object(), *rules = json_array(), *scope = json_array(), *net;

	if (!root || !rules || !scope) {
		json_decref(root);
		json_decref(rules);
		json_decref(scope);
		return NULL;
	}
	json_object_set_new(root, "format", json_string(TB_LL_FORMAT));
	json_object_set_new(root, "version", json_integer(TB_LL_VERSION));
	json_object_set_new(root, "handled_access_fs", access_to_json(rs->handled_fs));
	for (size_t i = 0; i < rs->n_rules; i++)
		json_array_append_new(rules,
				      json_pack("{s:s, s:o}", "path", rs->rules[i].path, "access",
						access_to_json(rs->rules[i].access)));
	json_object_set_new(root, "rules", rules);
	net = json_pack("{s:b, s:o, s:o}", "restrict", rs->restrict_net, "bind_tcp",
			ports_to_json(rs->bind_ports, rs->n_bind_ports), "connect_tcp",
			ports_to_json(rs->connect_ports, rs->n_connect_ports));
	json_object_set_new(root, "net", net);
	if (rs->scope_abstract_unix)
		json_array_append_new(scope, json_string("abstract_unix_socket"));
	if (rs->scope_signal)
		json_array_append_new(scope, json_string("signal"));
	json_object_set_new(root, "scope", scope);
	return root;
}

int tb_ll_ruleset_write(const struct tb_ll_ruleset *rs, FILE *f)
{
	json_t *root = ruleset_to_json(rs);
	int r;

	if (!root)
		return -ENOMEM;
	r = json_dumpf(root, f, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (r < 0 || fputc('\n', f) == EOF)
		return -EIO;
	return 0;
}

/* ---- reader ---- */

struct ll_loader {
	const char *name;
	struct tb_diag *diag;
};

/* Error paths return -EINVAL through a macro: clang's analyzer does not inline variadic
 * functions, so it could not see that a diagnostic helper always fails. */
#define bad(l, where, ...) (bad_set((l), (where), __VA_ARGS__), -EINVAL)
static void bad_set(const struct ll_loader *l, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void bad_set(const struct ll_loader *l, const char *where, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tb_diag_set(l->diag, l->name, 0, 0, where, "%s", msg);
}

static int access_from_json(const struct ll_loader *l, json_t *a, const char *where, uint64_t *out)
{
	uint64_t acc = 0;
	char w[256];
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return bad(l, where, "must be an array of access names");
	json_array_foreach(a, i, v)
	{
		uint64_t bit;

		snprintf(w, sizeof(w), "%s[%zu]", where, i);
		if (!json_is_string(v))
			return bad(l, w, "must be a string");
		if (access_from_name(json_string_value(v), &bit) < 0)
			return bad(l, w, "unknown access right '%s' (see docs/landlock-format.md)",
				   json_string_value(v));
		acc |= bit;
	}
	*out = acc;
	return 0;
}

static int ports_from_json(const struct ll_loader *l, json_t *a, const char *where, uint16_t **out,
			   size_t *n)
{
	_cleanup_free_ uint16_t *p = NULL;
	char w[256];
	size_t i;
	json_t *v;

	if (!a) {
		*out = NULL;
		*n = 0;
		return 0;
	}
	if (!json_is_array(a))
		return bad(l, where, "must be an array of TCP ports");
	if (json_array_size(a) > 4096)
		return bad(l, where, "more than 4096 ports");
	p = calloc(json_array_size(a) + 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	json_array_foreach(a, i, v)
	{
		snprintf(w, sizeof(w), "%s[%zu]", where, i);
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 65535)
			return bad(l, w, "must be a port number 0..65535");
		p[i] = (uint16_t)json_integer_value(v);
	}
	*n = json_array_size(a);
	*out = TB_TAKE_PTR(p);
	return 0;
}

static int check_keys(const struct ll_loader *l, json_t *o, const char *where,
		      const char *const *known)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v)
	{
		const char *const *k;

		for (k = known; *k && strcmp(*k, key); k++)
			;
		if (!*k) {
			char w[256];

			snprintf(w, sizeof(w), "%s%s%s", where, where[0] ? "." : "", key);
			return bad(l, w, "unknown key");
		}
	}
	return 0;
}

/* A ".." component would let a rule name a tree other than the one it seems to. */
static bool has_dotdot(const char *p)
{
	for (const char *c = p; (c = strstr(c, "..")); c += 2)
		if ((c == p || c[-1] == '/') && (c[2] == '/' || c[2] == '\0'))
			return true;
	return false;
}

static int rules_from_json(const struct ll_loader *l, json_t *rules, struct tb_ll_ruleset *rs)
{
	static const char *const rule_keys[] = {"path", "access", "comment", NULL};
	char w[256];
	size_t i;
	json_t *rule;

	if (!json_is_array(rules))
		return bad(l, "rules", "must be an array");
	if (json_array_size(rules) > TB_LL_MAX_RULES)
		return bad(l, "rules", "%zu rules, more than %d", json_array_size(rules), TB_LL_MAX_RULES);
	json_array_foreach(rules, i, rule)
	{
		json_t *path = json_object_get(rule, "path");
		uint64_t acc;
		int r;

		snprintf(w, sizeof(w), "rules[%zu]", i);
		if (!json_is_object(rule))
			return bad(l, w, "must be an object with \"path\" and \"access\"");
		r = check_keys(l, rule, w, rule_keys);
		if (r < 0)
			return r;
		snprintf(w, sizeof(w), "rules[%zu].path", i);
		if (!json_is_string(path) || json_string_value(path)[0] != '/')
			return bad(l, w, "must be an absolute path");
		if (has_dotdot(json_string_value(path)))
			return bad(l, w, "must not contain '..'");
		for (size_t j = 0; j < rs->n_rules; j++)
			if (!strcmp(rs->rules[j].path, json_string_value(path)))
				return bad(l, w, "duplicate path '%s'", json_string_value(path));
		snprintf(w, sizeof(w), "rules[%zu].access", i);
		r = access_from_json(l, json_object_get(rule, "access"), w, &acc);
		if (r < 0)
			return r;
		if (acc & ~rs->handled_fs)
			return bad(l, w, "allows access that handled_access_fs does not list");
		r = tb_ll_ruleset_add(rs, json_string_value(path), acc);
		if (r < 0)
			return r;
	}
	return 0;
}

static int ruleset_from_json(const struct ll_loader *l, json_t *root, struct tb_ll_ruleset *rs)
{
	static const char *const top_keys[] = {"format", "version", "handled_access_fs", "rules",
					       "net",	 "scope",   "comment",		 NULL};
	static const char *const net_keys[] = {"restrict", "bind_tcp", "connect_tcp", NULL};
	json_t *fmt = json_object_get(root, "format"), *ver = json_object_get(root, "version");
	json_t *net, *scope, *v;
	size_t i;
	int r;

	if (!json_is_object(root))
		return bad(l, NULL, "a Landlock ruleset must be a JSON object");
	if (!json_is_string(fmt) || strcmp(json_string_value(fmt), TB_LL_FORMAT))
		return bad(l, "format", "must be \"%s\"", TB_LL_FORMAT);
	if (!json_is_integer(ver) || json_integer_value(ver) != TB_LL_VERSION)
		return bad(l, "version", "unsupported version (this tightbox reads version %d)",
			   TB_LL_VERSION);
	r = check_keys(l, root, "", top_keys);
	if (r < 0)
		return r;
	r = access_from_json(l, json_object_get(root, "handled_access_fs"), "handled_access_fs",
			     &rs->handled_fs);
	if (r < 0)
		return r;
	r = rules_from_json(l, json_object_get(root, "rules"), rs);
	if (r < 0)
		return r;
	net = json_object_get(root, "net");
	if (net) {
		json_t *restrict_net = json_object_get(net, "restrict");

		if (!json_is_object(net))
			return bad(l, "net", "must be an object");
		r = check_keys(l, net, "net", net_keys);
		if (r < 0)
			return r;
		if (restrict_net && !json_is_boolean(restrict_net))
			return bad(l, "net.restrict", "must be true or false");
		rs->restrict_net = json_is_true(restrict_net);
		r = ports_from_json(l, json_object_get(net, "bind_tcp"), "net.bind_tcp",
				    &rs->bind_ports, &rs->n_bind_ports);
		if (r < 0)
			return r;
		r = ports_from_json(l, json_object_get(net, "connect_tcp"), "net.connect_tcp",
				    &rs->connect_ports, &rs->n_connect_ports);
		if (r < 0)
			return r;
		if (!rs->restrict_net && (rs->n_bind_ports || rs->n_connect_ports))
			return bad(l, "net", "ports are listed but \"restrict\" is false");
	}
	scope = json_object_get(root, "scope");
	if (scope && !json_is_array(scope))
		return bad(l, "scope", "must be an array");
	json_array_foreach(scope, i, v)
	{
		char w[64];

		snprintf(w, sizeof(w), "scope[%zu]", i);
		if (json_is_string(v) && !strcmp(json_string_value(v), "signal"))
			rs->scope_signal = true;
		else if (json_is_string(v) && !strcmp(json_string_value(v), "abstract_unix_socket"))
			rs->scope_abstract_unix = true;
		else
			return bad(l, w, "must be \"signal\" or \"abstract_unix_socket\"");
	}
	return 0;
}

int tb_ll_ruleset_parse(const char *text, size_t len, const char *name, struct tb_ll_ruleset **out,
			struct tb_diag *diag)
{
	struct ll_loader l = {.name = name, .diag = diag};
	struct tb_ll_ruleset *rs;
	json_error_t err;
	json_t *root;
	int r;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (!root) {
		tb_diag_set(diag, name, err.line, err.column, NULL, "%s", err.text);
		return -EINVAL;
	}
	rs = tb_ll_ruleset_new();
	if (!rs) {
		json_decref(root);
		return -ENOMEM;
	}
	r = ruleset_from_json(&l, root, rs);
	json_decref(root);
	if (r < 0) {
		tb_ll_ruleset_free(rs);
		return r;
	}
	*out = rs;
	return 0;
}

int tb_ll_ruleset_load(const char *path, struct tb_ll_ruleset **out, struct tb_diag *diag)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	/* Rulesets are small; refuse anything absurd rather than eat memory. */
	int r = tb_read_file(path, 16u << 20, &buf, &len);

	if (r < 0) {
		tb_diag_set(diag, path, 0, 0, NULL, "cannot read: %s",
			    r == -EFBIG ? "file larger than 16 MiB" : tb_read_file_strerror(r));
		return r;
	}
	if (len == 0) {
		tb_diag_set(diag, path, 0, 0, NULL,
			    "empty file (expected a tightbox Landlock ruleset)");
		return -EINVAL;
	}
	return tb_ll_ruleset_parse(buf, len, path, out, diag);
}
