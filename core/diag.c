/* SPDX-License-Identifier: Apache-2.0 */
#include "core/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void tb_diag_clear(struct tb_diag *d)
{
	if (d)
		memset(d, 0, sizeof(*d));
}

void tb_diag_setv(struct tb_diag *d, const char *file, int line, int column, const char *where,
		  const char *fmt, va_list ap)
{
	if (!d)
		return;
	memset(d, 0, sizeof(*d));
	if (file)
		snprintf(d->file, sizeof(d->file), "%s", file);
	if (where)
		snprintf(d->where, sizeof(d->where), "%s", where);
	d->line = line;
	d->column = column;
	vsnprintf(d->message, sizeof(d->message), fmt, ap);
}

void tb_diag_set(struct tb_diag *d, const char *file, int line, int column, const char *where,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tb_diag_setv(d, file, line, column, where, fmt, ap);
	va_end(ap);
}

char *tb_diag_format(const struct tb_diag *d, char *buf, size_t size)
{
	size_t n = 0;

#define TB_APPEND(...)                                                                             \
	do {                                                                                       \
		if (n < size)                                                                      \
			n += (size_t)snprintf(buf + n, size - n, __VA_ARGS__);                      \
	} while (0)
	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (d->file[0]) {
		TB_APPEND("%s", d->file);
		if (d->line > 0)
			TB_APPEND(":%d", d->line);
		if (d->line > 0 && d->column > 0)
			TB_APPEND(":%d", d->column);
		TB_APPEND(": ");
	}
	if (d->where[0])
		TB_APPEND("%s: ", d->where);
	TB_APPEND("%s", d->message[0] ? d->message : "unknown error");
#undef TB_APPEND
	return buf;
}
