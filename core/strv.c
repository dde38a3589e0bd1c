/* SPDX-License-Identifier: Apache-2.0 */
/* NULL-terminated string vectors (core/strv.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strv.h"
#include "core/util.h"

size_t tb_strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

void tb_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

bool tb_strv_has(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static int insert_at(char ***v, size_t at, const char *s)
{
	size_t n = tb_strv_len(*v);
	char *copy = strdup(s);
	char **nv;

	if (!copy)
		return -ENOMEM;
	nv = realloc(*v, (n + 2) * sizeof(*nv));
	if (!nv) {
		free(copy);
		return -ENOMEM;
	}
	nv[n] = NULL; /* a fresh vector has no terminator yet */
	memmove(&nv[at + 1], &nv[at], (n - at + 1) * sizeof(*nv));
	nv[at] = copy;
	*v = nv;
	return 0;
}

/* Binary search: recordings hold thousands of paths. */
/* Where @s is (*@found) or would go in the sorted @v of @n strings. */
static size_t sorted_pos(char *const *v, size_t n, const char *s, bool *found)
{
	size_t lo = 0, hi = n;

	*found = false;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(v[mid], s);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int tb_strv_add_sorted(char ***v, const char *s)
{
	bool found;
	size_t at = sorted_pos(*v, tb_strv_len(*v), s, &found);

	return found ? 0 : insert_at(v, at, s);
}

bool tb_strv_has_sorted(char *const *v, size_t n, const char *s)
{
	bool found;

	(void)sorted_pos(v, n, s, &found);
	return found;
}

int tb_strv_add(char ***v, const char *s)
{
	return insert_at(v, tb_strv_len(*v), s);
}

int tb_strv_addfv(char ***v, const char *fmt, va_list ap)
{
	_cleanup_free_ char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0) {
		s = NULL;
		return -ENOMEM;
	}
	/* Notes are built from loops over arches: say each thing once. */
	if (tb_strv_has(*v, s))
		return 0;
	return tb_strv_add(v, s);
}

int tb_strv_addf(char ***v, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tb_strv_addfv(v, fmt, ap);
	va_end(ap);
	return r;
}

char *tb_strv_join(char *const *v, const char *sep)
{
	size_t len = 1, n = tb_strv_len(v);
	char *out, *p;

	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + strlen(sep);
	out = malloc(len);
	if (!out)
		return NULL;
	p = out;
	*p = '\0';
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? sep : "", v[i]);
	return out;
}
