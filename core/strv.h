/* SPDX-License-Identifier: Apache-2.0 */
/* NULL-terminated string vectors (a NULL vector is an empty one). */
#ifndef TB_CORE_STRV_H
#define TB_CORE_STRV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Inserts a copy of @s keeping *@v sorted and unique. 0 or -ENOMEM. */
int tb_strv_add_sorted(char ***v, const char *s);
/* Whether @s is one of the first @n strings of the sorted (strcmp) @v: a binary search. */
bool tb_strv_has_sorted(char *const *v, size_t n, const char *s);
/* Appends a copy of @s. 0 or -ENOMEM. */
int tb_strv_add(char ***v, const char *s);
/* Appends a formatted string unless @v already holds it. 0 or -ENOMEM. */
int tb_strv_addf(char ***v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* tb_strv_addf with a va_list. */
int tb_strv_addfv(char ***v, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Number of strings in @v. */
size_t tb_strv_len(char *const *v);
/* Frees @v and its strings; NULL is fine. */
void tb_strv_free(char **v);
/* For _cleanup_strv_. */
static inline void tb_strv_freep(char ***v)
{
	tb_strv_free(*v);
}
#define _cleanup_strv_ __attribute__((cleanup(tb_strv_freep)))
/* Whether @v holds @s. */
bool tb_strv_has(char *const *v, const char *s);
/* The strings of @v joined by @sep, malloc'ed; NULL on ENOMEM. */
char *tb_strv_join(char *const *v, const char *sep);

#endif
