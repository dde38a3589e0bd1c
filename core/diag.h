/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Caller-owned diagnostics. Library code never prints: a parser or loader that fails fills a
 * struct tb_diag with where (file, line, column or JSON path) and what, returns -errno, and the CLI
 * prints it as "FILE:LINE:COL: MESSAGE".
 */
#ifndef TB_DIAG_H
#define TB_DIAG_H

#include <stddef.h>

struct tb_diag {
	char file[512];    /* file or flag the problem is in ("" when none) */
	int line;          /* 1-based, 0 when unknown */
	int column;        /* 1-based, 0 when unknown */
	char where[256];   /* JSON path ("syscalls[3].args[0].op") or flag name, "" when none */
	char message[512]; /* what is wrong, without location */
};

/* Resets @d to "no problem". Accepts NULL. */
void tb_diag_clear(struct tb_diag *d);

/* Fills @d (when not NULL) with a location and a printf-style message. @file and @where may be NULL. */
void tb_diag_set(struct tb_diag *d, const char *file, int line, int column, const char *where,
		 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/*
 * Formats @d as "file:line:column: where: message" (parts that are unknown are omitted) into
 * @buf of @size bytes. Returns @buf.
 */
char *tb_diag_format(const struct tb_diag *d, char *buf, size_t size);

#endif
