/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Landlock rulesets as tightbox stores them (docs/landlock-format.md): written by `tightbox generate`,
 * read by `tightbox run --security-opt landlock=FILE`, enforced by runner/landlock.c.
 */
#ifndef TB_LANDLOCK_RULESET_H
#define TB_LANDLOCK_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/diag.h"

struct tb_ll_rule {
	char *path;      /* absolute path inside the sandbox (a directory or a file) */
	uint64_t access; /* LANDLOCK_ACCESS_FS_* bits allowed beneath @path */
};

struct tb_ll_ruleset {
	uint64_t handled_fs;  /* LANDLOCK_ACCESS_FS_* bits the ruleset restricts */
	bool restrict_net;    /* deny TCP bind/connect (ABI >= 4) except @net ports */
	uint16_t *bind_ports, *connect_ports;
	size_t n_bind_ports, n_connect_ports;
	bool scope_signal;    /* LANDLOCK_SCOPE_SIGNAL (ABI >= 6) */
	bool scope_abstract_unix; /* LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (ABI >= 6) */
	struct tb_ll_rule *rules;
	size_t n_rules;
};

/* Reads @path. -EINVAL with @diag (file, line, column or JSON path) when malformed. */
int tb_ll_ruleset_load(const char *path, struct tb_ll_ruleset **out, struct tb_diag *diag);
/* Parses JSON text (@name is used in diagnostics). */
int tb_ll_ruleset_parse(const char *text, size_t len, const char *name, struct tb_ll_ruleset **out,
			struct tb_diag *diag);
/* Writes @rs as JSON (sorted, deterministic). 0 or -errno. */
int tb_ll_ruleset_write(const struct tb_ll_ruleset *rs, FILE *f);
/* Frees @rs. Accepts NULL. */
void tb_ll_ruleset_free(struct tb_ll_ruleset *rs);
/* Adds a rule (path copied). 0 or -ENOMEM. */
int tb_ll_ruleset_add(struct tb_ll_ruleset *rs, const char *path, uint64_t access);

#endif
