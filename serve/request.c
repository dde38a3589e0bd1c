/* SPDX-License-Identifier: Apache-2.0 */
/* `POST /v1/run` bodies: strict JSON reading, limit clamping, staging into `tightbox run` flags. */
#include "serve/request.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/parse.h"
#include "core/strv.h"
#include "core/util.h"

void tb_serve_request_free(struct tb_serve_request *r)
{
	if (!r)
		return;
	free(r->code);
	free(r->stdin_data);
	for (size_t i = 0; i < r->n_files; i++) {
		free(r->files[i].name);
		free(r->files[i].data);
	}
	for (size_t i = 0; i < r->n_env; i++)
		free(r->env[i]);
	free(r->profile);
	memset(r, 0, sizeof(*r));
}

static int bad(struct tb_diag *d, const char *field, const char *msg)
{
	tb_diag_set(d, NULL, 0, 0, field, "%s", msg);
	return -EINVAL;
}

static int dup_bytes(const char *s, size_t n, char **out)
{
	char *p = malloc(n + 1);

	if (!p)
		return -ENOMEM;
	memcpy(p, s, n);
	p[n] = '\0';
	*out = p;
	return 0;
}

/* A file or profile name: one path component the sandbox and the server can use as is. */
static bool safe_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static bool env_key_ok(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return false;
	return true;
}

/* A JSON number >= 0 (or a size string for memory), as uint64. */
static int read_u64(json_t *v, const char *field, bool size_string, uint64_t *out, struct tb_diag *d)
{
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return bad(d, field, "must not be negative");
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (size_string && json_is_string(v)) {
		struct tb_diag pd = {0};

		if (tb_parse_size(json_string_value(v), out, &pd) < 0)
			return bad(d, field, pd.message);
		return 0;
	}
	return bad(d, field, size_string ? "expected bytes (integer) or a size string like \"256m\""
					 : "expected a non-negative integer");
}

static int read_double(json_t *v, const char *field, double *out, struct tb_diag *d)
{
	double x;

	if (!json_is_number(v))
		return bad(d, field, "expected a number");
	x = json_number_value(v);
	if (!isfinite(x) || x < 0 || x > 7 * 86400.0)
		return bad(d, field, "out of range");
	*out = x;
	return 0;
}

/* Lowers @v to @max unless @max is "unlimited" (0); a request of 0 ("none") also gets @max. */
static void clamp_u64(uint64_t *v, uint64_t max, unsigned bit, unsigned *clamped)
{
	if (max && (*v == 0 || *v > max)) {
		*v = max;
		*clamped |= bit;
	}
}

static void clamp_double(double *v, double max, unsigned bit, unsigned *clamped)
{
	if (max > 0 && (*v <= 0 || *v > max)) {
		*v = max;
		*clamped |= bit;
	}
}

static int read_files(json_t *obj, struct tb_serve_request *r, struct tb_diag *d)
{
	const char *name;
	json_t *v;

	if (!json_is_object(obj))
		return bad(d, "files", "expected an object of name -> text");
	json_object_foreach(obj, name, v) {
		struct tb_serve_file *f;
		char where[160];

		snprintf(where, sizeof(where), "files.%.128s", name);
		if (!safe_name(name) || !strcmp(name, "script.py") || !strcmp(name, "out"))
			return bad(d, where, "a file name is one component of [A-Za-z0-9._-], not "
					     "starting with '.', at most 128 bytes, not script.py or out");
		if (!json_is_string(v))
			return bad(d, where, "expected a string");
		if (r->n_files >= TB_SERVE_MAX_FILES)
			return bad(d, "files", "too many files (at most 64)");
		f = &r->files[r->n_files];
		if (!(f->name = strdup(name)))
			return -ENOMEM;
		r->n_files++;
		if (dup_bytes(json_string_value(v), json_string_length(v), &f->data) < 0)
			return -ENOMEM;
		f->len = json_string_length(v);
	}
	return 0;
}

static int read_env(json_t *obj, struct tb_serve_request *r, struct tb_diag *d)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return bad(d, "env", "expected an object of NAME -> value");
	json_object_foreach(obj, k, v) {
		char *s;

		if (!env_key_ok(k) || !json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
			return bad(d, "env", "names are [A-Za-z_][A-Za-z0-9_]*, values strings without NUL");
		if (r->n_env >= TB_SERVE_MAX_ENV)
			return bad(d, "env", "too many variables (at most 32)");
		if (asprintf(&s, "%s=%s", k, json_string_value(v)) < 0)
			return -ENOMEM;
		r->env[r->n_env++] = s;
	}
	return 0;
}

static int read_body(json_t *root, struct tb_serve_request *r, struct tb_diag *d)
{
	const char *key;
	json_t *v;
	int ret;

	json_object_foreach(root, key, v) {
		if (!strcmp(key, "code")) {
			if (!json_is_string(v))
				return bad(d, "code", "expected a string");
			ret = dup_bytes(json_string_value(v), json_string_length(v), &r->code);
			r->code_len = json_string_length(v);
		} else if (!strcmp(key, "stdin")) {
			if (json_is_null(v))
				continue;
			if (!json_is_string(v))
				return bad(d, "stdin", "expected a string");
			ret = dup_bytes(json_string_value(v), json_string_length(v), &r->stdin_data);
			r->stdin_len = json_string_length(v);
		} else if (!strcmp(key, "files")) {
			ret = json_is_null(v) ? 0 : read_files(v, r, d);
		} else if (!strcmp(key, "env")) {
			ret = json_is_null(v) ? 0 : read_env(v, r, d);
		} else if (!strcmp(key, "output")) {
			if (!json_is_boolean(v))
				return bad(d, "output", "expected true or false");
			r->want_output = json_is_true(v);
			ret = 0;
		} else if (!strcmp(key, "profile")) {
			if (json_is_null(v))
				continue;
			if (!json_is_string(v) || !safe_name(json_string_value(v)))
				return bad(d, "profile", "expected a profile name ([A-Za-z0-9._-])");
			ret = (r->profile = strdup(json_string_value(v))) ? 0 : -ENOMEM;
		} else if (!strcmp(key, "timeout")) {
			ret = json_is_null(v) ? 0 : read_double(v, key, &r->limits.timeout, d);
		} else if (!strcmp(key, "cpus")) {
			ret = json_is_null(v) ? 0 : read_double(v, key, &r->limits.cpus, d);
		} else if (!strcmp(key, "memory")) {
			ret = json_is_null(v) ? 0 : read_u64(v, key, true, &r->limits.memory, d);
		} else if (!strcmp(key, "stdout_limit")) {
			ret = json_is_null(v) ? 0 : read_u64(v, key, false, &r->limits.stdout_limit, d);
		} else if (!strcmp(key, "stderr_limit")) {
			ret = json_is_null(v) ? 0 : read_u64(v, key, false, &r->limits.stderr_limit, d);
		} else if (!strcmp(key, "pids_limit")) {
			if (json_is_null(v))
				continue;
			if (!json_is_integer(v) || json_integer_value(v) < 1)
				return bad(d, key, "expected a positive integer");
			r->limits.pids_limit = json_integer_value(v);
			ret = 0;
		} else {
			char msg[200];

			snprintf(msg, sizeof(msg), "unknown field '%.100s'", key);
			return bad(d, key, msg);
		}
		if (ret < 0)
			return ret;
	}
	if (!r->code)
		return bad(d, "code", "missing: the Python source to run");
	return 0;
}

int tb_serve_request_parse(const char *body, size_t len, const struct tb_serve_limits *dflt,
			   const struct tb_serve_limits *max, struct tb_serve_request *out,
			   struct tb_diag *d)
{
	struct tb_serve_request r = {0};
	json_error_t je;
	json_t *root;
	int ret;

	/* JSON_REJECT_DUPLICATES: {"timeout": 1, "timeout": 999} must not slip past a check. */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!root) {
		tb_diag_set(d, "request", je.line, je.column, NULL, "invalid JSON: %s", je.text);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return bad(d, "", "the body must be a JSON object");
	}
	r.limits.timeout = -1;
	r.limits.cpus = -1;
	r.limits.memory = UINT64_MAX;
	r.limits.pids_limit = -2;
	r.limits.stdout_limit = UINT64_MAX;
	r.limits.stderr_limit = UINT64_MAX;
	ret = read_body(root, &r, d);
	json_decref(root);
	if (ret < 0) {
		tb_serve_request_free(&r);
		return ret;
	}
	if (r.limits.timeout < 0)
		r.limits.timeout = dflt->timeout;
	if (r.limits.cpus < 0)
		r.limits.cpus = dflt->cpus;
	if (r.limits.memory == UINT64_MAX)
		r.limits.memory = dflt->memory;
	if (r.limits.pids_limit == -2)
		r.limits.pids_limit = dflt->pids_limit;
	if (r.limits.stdout_limit == UINT64_MAX)
		r.limits.stdout_limit = dflt->stdout_limit;
	if (r.limits.stderr_limit == UINT64_MAX)
		r.limits.stderr_limit = dflt->stderr_limit;
	clamp_double(&r.limits.timeout, max->timeout, TB_SERVE_LIMIT_TIMEOUT, &r.clamped);
	clamp_double(&r.limits.cpus, max->cpus, TB_SERVE_LIMIT_CPUS, &r.clamped);
	clamp_u64(&r.limits.memory, max->memory, TB_SERVE_LIMIT_MEMORY, &r.clamped);
	if (max->pids_limit > 0 && (r.limits.pids_limit <= 0 || r.limits.pids_limit > max->pids_limit)) {
		r.limits.pids_limit = max->pids_limit;
		r.clamped |= TB_SERVE_LIMIT_PIDS;
	}
	/* Output limits: 0 keeps nothing (not "unlimited"), so only lower what is above the max. */
	if (r.limits.stdout_limit > max->stdout_limit) {
		r.limits.stdout_limit = max->stdout_limit;
		r.clamped |= TB_SERVE_LIMIT_STDOUT;
	}
	if (r.limits.stderr_limit > max->stderr_limit) {
		r.limits.stderr_limit = max->stderr_limit;
		r.clamped |= TB_SERVE_LIMIT_STDERR;
	}
	*out = r;
	return 0;
}

static const struct {
	unsigned bit;
	const char *name;
} limit_names[] = {
	{TB_SERVE_LIMIT_TIMEOUT, "timeout"},      {TB_SERVE_LIMIT_MEMORY, "memory"},
	{TB_SERVE_LIMIT_CPUS, "cpus"},            {TB_SERVE_LIMIT_PIDS, "pids_limit"},
	{TB_SERVE_LIMIT_STDOUT, "stdout_limit"}, {TB_SERVE_LIMIT_STDERR, "stderr_limit"},
};

json_t *tb_serve_limits_to_json(const struct tb_serve_request *r)
{
	json_t *o = json_object(), *cl = json_array();

	if (!o || !cl) {
		json_decref(o);
		json_decref(cl);
		return NULL;
	}
	json_object_set_new(o, "timeout", json_real(r->limits.timeout));
	json_object_set_new(o, "memory", json_integer((json_int_t)r->limits.memory));
	json_object_set_new(o, "cpus", json_real(r->limits.cpus));
	json_object_set_new(o, "pids_limit", json_integer((json_int_t)r->limits.pids_limit));
	json_object_set_new(o, "stdout_limit", json_integer((json_int_t)r->limits.stdout_limit));
	json_object_set_new(o, "stderr_limit", json_integer((json_int_t)r->limits.stderr_limit));
	for (size_t i = 0; i < TB_ARRAY_SIZE(limit_names); i++)
		if (r->clamped & limit_names[i].bit)
			json_array_append_new(cl, json_string(limit_names[i].name));
	json_object_set_new(o, "clamped", cl);
	return o;
}

/* Creates @dir/@name with @len bytes of @data, private to the server (tightbox run copies it). */
static int write_at(const char *dir, const char *name, const char *data, size_t len, char *path,
		    size_t size)
{
	_cleanup_close_ int fd = -1;

	snprintf(path, size, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return tb_negerrno();
	return tb_write_all(fd, data, len);
}

#define ADD(v, s)                                                                                  \
	do {                                                                                       \
		if (tb_strv_add(&(v), (s)) < 0)                                                    \
			goto nomem;                                                                \
	} while (0)

/* The limit flags of `tightbox run` for @l, one list for the cold runs and the warm pool. */
static int add_limit_flags(char ***argv, const struct tb_serve_limits *l)
{
	char buf[4200];

	snprintf(buf, sizeof(buf), "--timeout=%.3f", l->timeout);
	ADD(*argv, buf);
	if (l->memory) {
		snprintf(buf, sizeof(buf), "--memory=%llu", (unsigned long long)l->memory);
		ADD(*argv, buf);
		snprintf(buf, sizeof(buf), "--memory-swap=%llu", (unsigned long long)l->memory);
		ADD(*argv, buf);
	}
	if (l->cpus > 0) {
		snprintf(buf, sizeof(buf), "--cpus=%.3f", l->cpus);
		ADD(*argv, buf);
	}
	snprintf(buf, sizeof(buf), "--pids-limit=%lld", (long long)l->pids_limit);
	ADD(*argv, buf);
	snprintf(buf, sizeof(buf), "--stdout-limit=%llu", (unsigned long long)l->stdout_limit);
	ADD(*argv, buf);
	snprintf(buf, sizeof(buf), "--stderr-limit=%llu", (unsigned long long)l->stderr_limit);
	ADD(*argv, buf);
	return 0;
nomem:
	return -ENOMEM;
}

static int add_cgroup_flag(char ***argv, const char *cgroup_parent)
{
	char buf[4200];

	if (cgroup_parent) {
		snprintf(buf, sizeof(buf), "--cgroup-parent=%s", cgroup_parent);
		ADD(*argv, buf);
	}
	return 0;
nomem:
	return -ENOMEM;
}

/* --output-dir @dir/out and its bounds. */
static int add_output_flags(char ***argv, const char *dir)
{
	char buf[4200];

	snprintf(buf, sizeof(buf), "--output-dir=%s/out", dir);
	ADD(*argv, buf);
	snprintf(buf, sizeof(buf), "--output-max-bytes=%u", TB_SERVE_OUTPUT_MAX);
	ADD(*argv, buf);
	snprintf(buf, sizeof(buf), "--output-max-files=%u", TB_SERVE_OUTPUT_MAX_FILES);
	ADD(*argv, buf);
	return 0;
nomem:
	return -ENOMEM;
}

int tb_serve_request_stage(const struct tb_serve_request *r, const char *dir, const char *tightbox,
			   const char *profile_path, const char *cgroup_parent, char ***argv_out)
{
	char **argv = NULL;
	char buf[4200], path[4200];
	int ret;

	ADD(argv, tightbox);
	ADD(argv, "run");
	ADD(argv, "--json");
	if (add_limit_flags(&argv, &r->limits) < 0)
		goto nomem;
	if (profile_path) {
		snprintf(buf, sizeof(buf), "--security-opt=seccomp=%s", profile_path);
		ADD(argv, buf);
	}
	if (add_cgroup_flag(&argv, cgroup_parent) < 0)
		goto nomem;
	for (size_t i = 0; i < r->n_env; i++) {
		ADD(argv, "-e");
		ADD(argv, r->env[i]);
	}
	if ((ret = write_at(dir, "script.py", r->code, r->code_len, path, sizeof(path))) < 0)
		goto fail;
	snprintf(buf, sizeof(buf), "--script=%s", path);
	ADD(argv, buf);
	if (r->stdin_data) {
		if ((ret = write_at(dir, "stdin", r->stdin_data, r->stdin_len, path, sizeof(path))) < 0)
			goto fail;
		snprintf(buf, sizeof(buf), "--stdin=%s", path);
		ADD(argv, buf);
	}
	if (r->n_files) {
		char in[4200];

		snprintf(in, sizeof(in), "%s/in", dir);
		if (mkdir(in, 0700) < 0) {
			ret = tb_negerrno();
			goto fail;
		}
		for (size_t i = 0; i < r->n_files; i++) {
			if ((ret = write_at(in, r->files[i].name, r->files[i].data, r->files[i].len, path,
					    sizeof(path))) < 0)
				goto fail;
			snprintf(buf, sizeof(buf), "--input=%s:%s", path, r->files[i].name);
			ADD(argv, buf);
		}
	}
	if (r->want_output && add_output_flags(&argv, dir) < 0)
		goto nomem;
	*argv_out = argv;
	return 0;
nomem:
	ret = -ENOMEM;
fail:
	tb_strv_free(argv);
	return ret;
}

int tb_serve_pool_argv(const struct tb_serve_limits *max, const char *tightbox, const char *phase1,
		       const char *phase2, const char *preload, const char *cgroup_parent,
		       const char *dir, char ***argv_out)
{
	char **argv = NULL;
	char buf[4200];

	ADD(argv, tightbox);
	ADD(argv, "run");
	ADD(argv, "--json");
	ADD(argv, "--warm");
	if (phase1) {
		snprintf(buf, sizeof(buf), "--security-opt=seccomp=%s", phase1);
		ADD(argv, buf);
	}
	snprintf(buf, sizeof(buf), "--two-phase=%s", phase2);
	ADD(argv, buf);
	if (preload && *preload) {
		snprintf(buf, sizeof(buf), "--preload=%s", preload);
		ADD(argv, buf);
	}
	if (add_limit_flags(&argv, max) < 0 || add_cgroup_flag(&argv, cgroup_parent) < 0 ||
	    add_output_flags(&argv, dir) < 0)
		goto nomem;
	*argv_out = argv;
	return 0;
nomem:
	tb_strv_free(argv);
	return -ENOMEM;
}

int tb_serve_request_warm(const struct tb_serve_request *r, char **out, size_t *out_len)
{
	const struct tb_serve_limits *l = &r->limits;
	json_t *lim = json_object(), *env = json_object(), *files = json_object(), *req;
	char *a = NULL, *b = NULL;
	int ret = -ENOMEM;

	if (!lim || !env || !files)
		goto out;
	/* Only what a run can lower to; 0 (none) where the maximum allows it stays the run's. */
	if (l->timeout > 0)
		json_object_set_new(lim, "timeout", json_real(l->timeout));
	if (l->memory)
		json_object_set_new(lim, "memory", json_integer((json_int_t)l->memory));
	if (l->cpus > 0)
		json_object_set_new(lim, "cpus", json_real(l->cpus));
	if (l->pids_limit > 0)
		json_object_set_new(lim, "pids_limit", json_integer((json_int_t)l->pids_limit));
	json_object_set_new(lim, "stdout_limit", json_integer((json_int_t)l->stdout_limit));
	json_object_set_new(lim, "stderr_limit", json_integer((json_int_t)l->stderr_limit));
	json_object_set_new(lim, "output", json_boolean(r->want_output));
	for (size_t i = 0; i < r->n_env; i++) {
		const char *eq = strchr(r->env[i], '=');
		char key[256];

		snprintf(key, sizeof(key), "%.*s", (int)(eq - r->env[i]), r->env[i]);
		if (json_object_set_new(env, key, json_string(eq + 1)) < 0)
			goto out;
	}
	for (size_t i = 0; i < r->n_files; i++)
		if (json_object_set_new(files, r->files[i].name,
					json_stringn(r->files[i].data, r->files[i].len)) < 0)
			goto out;
	req = json_pack("{s:s%,s:o,s:O,s:O,s:b}", "code", r->code, r->code_len, "stdin",
			r->stdin_data ? json_stringn(r->stdin_data, r->stdin_len) : json_null(),
			"env", env, "files", files, "output", r->want_output);
	if (!req)
		goto out;
	a = json_dumps(lim, JSON_COMPACT);
	b = json_dumps(req, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(req);
	if (!a || !b || asprintf(out, "%s\n%s", a, b) < 0)
		goto out;
	*out_len = strlen(*out);
	ret = 0;
out:
	free(a);
	free(b);
	json_decref(lim);
	json_decref(env);
	json_decref(files);
	return ret;
}

static char *base64(const unsigned char *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);

		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* Adds the regular files below @dir/@rel to @o (depth-limited like the copy-out). */
static int add_output(json_t *o, const char *dir, const char *rel, int depth)
{
	char path[4096];
	DIR *dh;
	struct dirent *e;
	int r = 0;

	snprintf(path, sizeof(path), "%s%s%s", dir, *rel ? "/" : "", rel);
	if (!(dh = opendir(path)))
		return 0;
	while (r == 0 && (e = readdir(dh))) {
		char sub[4096], full[8200];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		snprintf(full, sizeof(full), "%s/%s", dir, sub);
		if (lstat(full, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < 16) {
			r = add_output(o, dir, sub, depth + 1);
		} else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size <= TB_SERVE_OUTPUT_MAX) {
			_cleanup_free_ char *data = NULL, *b64 = NULL;
			size_t len;

			if (tb_read_file(full, TB_SERVE_OUTPUT_MAX, &data, &len) < 0)
				continue;
			if (!(b64 = base64((const unsigned char *)data, len)) ||
			    json_object_set_new(o, sub, json_string(b64)) < 0)
				r = -ENOMEM;
		}
	}
	closedir(dh);
	return r;
}

json_t *tb_serve_output_to_json(const char *dir)
{
	char out[4200];
	json_t *o = json_object();

	snprintf(out, sizeof(out), "%s/out", dir);
	if (o && add_output(o, out, "", 0) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}
