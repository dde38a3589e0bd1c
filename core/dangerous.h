/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The known-dangerous syscalls: one table shared by `tightbox audit` (to flag them when allowed) and
 * `tightbox generate` (to emit an explicit EPERM rule for them).
 */
#ifndef TB_DANGEROUS_H
#define TB_DANGEROUS_H

#include <stddef.h>

enum tb_severity { TB_SEV_INFO = 0, TB_SEV_LOW, TB_SEV_MEDIUM, TB_SEV_HIGH };

struct tb_dangerous {
	const char *name;      /* syscall name as libseccomp spells it */
	enum tb_severity severity;
	const char *reason;    /* why allowing it matters, one sentence */
	const char *fix;       /* what to do instead */
};

/* The table entry for @name, or NULL. */
const struct tb_dangerous *tb_dangerous_lookup(const char *name);
/* The whole table (sorted by name) and its length. */
const struct tb_dangerous *tb_dangerous_table(size_t *n);
/* "info", "low", "medium", "high". */
const char *tb_severity_name(enum tb_severity s);

#endif
