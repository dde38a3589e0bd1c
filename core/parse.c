/* SPDX-License-Identifier: Apache-2.0 */
#include "core/parse.h"
#include "core/internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "core/util.h"

/* Error paths return -EINVAL through a macro: clang's analyzer does not inline variadic
 * functions, so it could not see that a diagnostic helper always fails. */
#define fail(d, ...) (fail_set((d), __VA_ARGS__), -EINVAL)
__attribute__((format(printf, 2, 3))) static void fail_set(struct tb_diag *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tb_diag_setv(d, NULL, 0, 0, NULL, fmt, ap);
	va_end(ap);
}

/* Parses a finite non-negative decimal ("1", "1.5", ".5") and returns the rest in @end. */
static int parse_decimal(const char *s, double *out, const char **end)
{
	const char *p = s;
	bool digits = false;
	char *e;

	/* strtod alone would accept "inf", "nan", hex floats, leading spaces and signs. */
	while (isdigit((unsigned char)*p)) {
		p++;
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			p++;
			digits = true;
		}
	}
	if (!digits)
		return -EINVAL;
	errno = 0;
	*out = strtod(s, &e);
	if (errno || e != p || !isfinite(*out))
		return -EINVAL;
	*end = p;
	return 0;
}

int tb_parse_size(const char *s, uint64_t *out, struct tb_diag *d)
{
	static const char units[] = "bkmgtp";
	const char *rest;
	double v, mult = 1;
	char u;

	if (!s || parse_decimal(s, &v, &rest) < 0)
		return fail(d, "invalid size '%s' (expected a number with an optional unit b, k, m, g, t)",
			    s ? s : "");
	u = (char)tolower((unsigned char)*rest);
	if (u) {
		const char *pos = strchr(units, u);

		if (!pos)
			return fail(d, "invalid size '%s': unknown unit (use b, k, m, g or t)", s);
		for (long i = 0; i < pos - units; i++)
			mult *= 1024;
		rest++;
		/* docker also accepts "mb", "mib" */
		if (u != 'b') {
			if (tolower((unsigned char)*rest) == 'i')
				rest++;
			if (tolower((unsigned char)*rest) == 'b')
				rest++;
		}
	}
	if (*rest)
		return fail(d, "invalid size '%s': unexpected characters after the unit", s);
	v *= mult;
	if (v < 1)
		return fail(d, "invalid size '%s': must be at least 1 byte", s);
	if (v >= 4611686018427387904.0)
		return fail(d, "invalid size '%s': too large", s);
	*out = (uint64_t)v;
	return 0;
}

int tb_parse_duration(const char *s, double *out, struct tb_diag *d)
{
	const char *rest;
	double v;

	if (!s || parse_decimal(s, &v, &rest) < 0)
		return fail(d, "invalid duration '%s' (expected seconds, e.g. 10, 0.5, 500ms, 2m)",
			    s ? s : "");
	if (!strcmp(rest, "") || !strcmp(rest, "s"))
		;
	else if (!strcmp(rest, "ms"))
		v /= 1000;
	else if (!strcmp(rest, "m"))
		v *= 60;
	else if (!strcmp(rest, "h"))
		v *= 3600;
	else
		return fail(d, "invalid duration '%s': unknown unit (use ms, s, m or h)", s);
	if (v > 7 * 24 * 3600)
		return fail(d, "invalid duration '%s': longer than a week", s);
	*out = v;
	return 0;
}

int tb_parse_cpus(const char *s, double *out, struct tb_diag *d)
{
	const char *rest;
	double v;

	if (!s || parse_decimal(s, &v, &rest) < 0 || *rest)
		return fail(d, "invalid CPU count '%s' (expected a number such as 0.5 or 2)", s ? s : "");
	if (v < 0.01)
		return fail(d, "invalid CPU count '%s': must be at least 0.01", s);
	if (v > 1024)
		return fail(d, "invalid CPU count '%s': more than 1024", s);
	*out = v;
	return 0;
}

int tb_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out, struct tb_diag *d)
{
	const char *p = s;
	char *e;
	long long v;

	if (!s || !*s)
		return fail(d, "invalid number '%s'", s ? s : "");
	if (*p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return fail(d, "invalid number '%s'", s);
	errno = 0;
	v = strtoll(s, &e, 10);
	if (errno || *e)
		return fail(d, "invalid number '%s'", s);
	if (v < min || v > max) {
		tb_diag_set(d, NULL, 0, 0, NULL, "number '%s' out of range [%lld, %lld]", s,
			    (long long)min, (long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static const struct {
	const char *name;
	int resource;
} ulimits[] = {
	{"as", RLIMIT_AS},         {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
	{"data", RLIMIT_DATA},     {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
	{"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
	{"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
	{"rtprio", RLIMIT_RTPRIO}, {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
	{"stack", RLIMIT_STACK},
};

const char *tb_ulimit_name(int resource)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(ulimits); i++)
		if (ulimits[i].resource == resource)
			return ulimits[i].name;
	return NULL;
}

static int parse_limit_value(const char *s, uint64_t *out)
{
	char *e;
	unsigned long long v;

	if (!strcmp(s, "unlimited") || !strcmp(s, "-1")) {
		*out = RLIM_INFINITY;
		return 0;
	}
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno || *e)
		return -EINVAL;
	*out = v;
	return 0;
}

int tb_parse_ulimit(const char *s, int *resource, uint64_t *soft, uint64_t *hard, struct tb_diag *d)
{
	_cleanup_free_ char *copy = NULL;
	char *eq, *colon;
	uint64_t so, ha;
	int res = -1;

	if (!s || !(eq = strchr(s, '=')))
		return fail(d, "invalid ulimit '%s' (expected NAME=SOFT[:HARD], e.g. nofile=64:64)",
			    s ? s : "");
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	eq = copy + (eq - s);
	*eq = '\0';
	for (size_t i = 0; i < TB_ARRAY_SIZE(ulimits); i++)
		if (!strcmp(copy, ulimits[i].name))
			res = ulimits[i].resource;
	if (res < 0)
		return fail(d, "invalid ulimit '%s': unknown resource name", s);
	colon = strchr(eq + 1, ':');
	if (colon)
		*colon = '\0';
	if (parse_limit_value(eq + 1, &so) < 0 || (colon && parse_limit_value(colon + 1, &ha) < 0))
		return fail(d, "invalid ulimit '%s': limits must be numbers or 'unlimited'", s);
	if (!colon)
		ha = so;
	if (so > ha)
		return fail(d, "invalid ulimit '%s': soft limit is above the hard limit", s);
	*resource = res;
	*soft = so;
	*hard = ha;
	return 0;
}

int tb_parse_sandbox_path(const char *s, char **out, struct tb_diag *d)
{
	char *copy, *w;
	const char *p;

	if (!s || s[0] != '/')
		return fail(d, "path '%s' must be absolute", s ? s : "");
	if (strlen(s) >= 4096)
		return fail(d, "path '%.64s...' is too long", s);
	copy = malloc(strlen(s) + 1);
	if (!copy)
		return -ENOMEM;
	/* Normalise: collapse "//", drop "/." components, refuse "..": a sandbox path must never
	 * be able to name something above the mount point it is placed on. */
	w = copy;
	p = s;
	while (*p) {
		const char *seg;
		size_t len;

		while (*p == '/')
			p++;
		seg = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - seg);
		if (len == 0 || (len == 1 && seg[0] == '.'))
			continue;
		if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			free(copy);
			return fail(d, "path '%s' must not contain '..'", s);
		}
		*w++ = '/';
		memcpy(w, seg, len);
		w += len;
	}
	if (w == copy)
		*w++ = '/';
	*w = '\0';
	*out = copy;
	return 0;
}

int tb_parse_volume(const char *s, char **src, char **dst, bool *rw, struct tb_diag *d)
{
	_cleanup_free_ char *copy = NULL, *ndst = NULL;
	char *first, *second, *mode = NULL;
	bool is_rw = false;
	int r;

	if (!s)
		return fail(d, "invalid volume (empty)");
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	first = copy;
	second = strchr(copy, ':');
	if (!second)
		return fail(d, "invalid volume '%s' (expected SRC:DST[:ro|rw])", s);
	*second++ = '\0';
	mode = strchr(second, ':');
	if (mode) {
		*mode++ = '\0';
		if (!strcmp(mode, "rw"))
			is_rw = true;
		else if (strcmp(mode, "ro") != 0)
			return fail(d, "invalid volume '%s': mode must be ro or rw", s);
	}
	if (first[0] != '/')
		return fail(d, "invalid volume '%s': the source must be an absolute host path "
			       "(named volumes are not supported)", s);
	r = tb_parse_sandbox_path(second, &ndst, d);
	if (r < 0)
		return r;
	if (!strcmp(ndst, "/"))
		return fail(d, "invalid volume '%s': cannot mount over /", s);
	*src = strdup(first);
	if (!*src)
		return -ENOMEM;
	*dst = TB_TAKE_PTR(ndst);
	*rw = is_rw;
	return 0;
}

int tb_parse_tmpfs(const char *s, char **path, uint64_t *size, unsigned long *flags, unsigned *mode,
		   struct tb_diag *d)
{
	_cleanup_free_ char *copy = NULL, *npath = NULL;
	unsigned long fl = MS_NOEXEC | MS_NOSUID | MS_NODEV;
	uint64_t sz = 50ull << 20;
	unsigned md = 01777;
	char *opts, *tok, *save = NULL;
	int r;

	if (!s)
		return fail(d, "invalid tmpfs (empty)");
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	opts = strchr(copy, ':');
	if (opts)
		*opts++ = '\0';
	r = tb_parse_sandbox_path(copy, &npath, d);
	if (r < 0)
		return r;
	if (!strcmp(npath, "/"))
		return fail(d, "invalid tmpfs '%s': cannot mount over /", s);
	for (tok = opts ? strtok_r(opts, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "size=", 5)) {
			r = tb_parse_size(tok + 5, &sz, d);
			if (r < 0)
				return r;
		} else if (!strncmp(tok, "mode=", 5)) {
			char *e;
			unsigned long m;

			errno = 0;
			m = strtoul(tok + 5, &e, 8);
			if (errno || *e || e == tok + 5 || m > 07777)
				return fail(d, "invalid tmpfs '%s': mode must be octal, e.g. 1777", s);
			md = (unsigned)m;
		} else if (!strcmp(tok, "noexec")) {
			fl |= MS_NOEXEC;
		} else if (!strcmp(tok, "exec")) {
			fl &= ~(unsigned long)MS_NOEXEC;
		} else if (!strcmp(tok, "nosuid")) {
			fl |= MS_NOSUID;
		} else if (!strcmp(tok, "suid")) {
			/* no_new_privs makes set-uid bits inert anyway; keep nosuid regardless. */
			return fail(d, "invalid tmpfs '%s': suid is not allowed in the sandbox", s);
		} else if (!strcmp(tok, "nodev")) {
			fl |= MS_NODEV;
		} else if (!strcmp(tok, "dev")) {
			return fail(d, "invalid tmpfs '%s': dev is not allowed in the sandbox", s);
		} else if (!strcmp(tok, "rw")) {
			;
		} else if (!strcmp(tok, "ro")) {
			fl |= MS_RDONLY;
		} else {
			tb_diag_set(d, NULL, 0, 0, NULL, "invalid tmpfs '%s': unknown option '%s'", s, tok);
			return -EINVAL;
		}
	}
	*path = TB_TAKE_PTR(npath);
	*size = sz;
	*flags = fl;
	*mode = md;
	return 0;
}

int tb_parse_user(const char *s, uid_t *uid, gid_t *gid, struct tb_diag *d)
{
	_cleanup_free_ char *copy = NULL;
	int64_t u, g;
	char *colon;

	if (!s)
		return fail(d, "invalid user (empty)");
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	colon = strchr(copy, ':');
	if (colon)
		*colon++ = '\0';
	if (tb_parse_int64(copy, 0, 4294967294LL, &u, NULL) < 0)
		return fail(d, "invalid user '%s' (expected a numeric UID[:GID]; names are not "
			       "resolved)", s);
	g = u;
	if (colon && tb_parse_int64(colon, 0, 4294967294LL, &g, NULL) < 0)
		return fail(d, "invalid user '%s': GID must be numeric", s);
	if (u == 0 || g == 0)
		return fail(d, "invalid user '%s': tightbox refuses to run untrusted code as uid or "
			       "gid 0", s);
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}
