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
/* Writes @rs as JSON (sorted, deterministic). 0 or -errno. */
int tb_ll_ruleset_write(const struct tb_ll_ruleset *rs, FILE *f);
/* Frees @rs. Accepts NULL. */
void tb_ll_ruleset_free(struct tb_ll_ruleset *rs);
/* Adds a rule (path copied). 0 or -ENOMEM. */
int tb_ll_ruleset_add(struct tb_ll_ruleset *rs, const char *path, uint64_t access);

/* LANDLOCK_ACCESS_FS_* bits by ABI (kernel UAPI values; repeated so an old linux/landlock.h works). */
/* The most rules a ruleset file may hold: each costs an open and a landlock_add_rule in every
 * run, and the reader checks each path against the others (100000 rules took a minute); a
 * generated ruleset has tens. */
#define TB_LL_MAX_RULES 4096

#define TB_LL_FS_EXECUTE (1ULL << 0)
#define TB_LL_FS_WRITE_FILE (1ULL << 1)
#define TB_LL_FS_READ_FILE (1ULL << 2)
#define TB_LL_FS_READ_DIR (1ULL << 3)
#define TB_LL_FS_REMOVE_DIR (1ULL << 4)
#define TB_LL_FS_REMOVE_FILE (1ULL << 5)
#define TB_LL_FS_MAKE_CHAR (1ULL << 6)
#define TB_LL_FS_MAKE_DIR (1ULL << 7)
#define TB_LL_FS_MAKE_REG (1ULL << 8)
#define TB_LL_FS_MAKE_SOCK (1ULL << 9)
#define TB_LL_FS_MAKE_FIFO (1ULL << 10)
#define TB_LL_FS_MAKE_BLOCK (1ULL << 11)
#define TB_LL_FS_MAKE_SYM (1ULL << 12)
#define TB_LL_FS_REFER (1ULL << 13)    /* ABI 2 */
#define TB_LL_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#define TB_LL_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define TB_LL_FS_ALL ((1ULL << 16) - 1)
/* Read (files and directories), and everything that changes the tree or file contents. */
#define TB_LL_FS_READ (TB_LL_FS_READ_FILE | TB_LL_FS_READ_DIR)
#define TB_LL_FS_WRITE                                                                             \
	(TB_LL_FS_WRITE_FILE | TB_LL_FS_REMOVE_DIR | TB_LL_FS_REMOVE_FILE | TB_LL_FS_MAKE_CHAR |  \
	 TB_LL_FS_MAKE_DIR | TB_LL_FS_MAKE_REG | TB_LL_FS_MAKE_SOCK | TB_LL_FS_MAKE_FIFO |        \
	 TB_LL_FS_MAKE_BLOCK | TB_LL_FS_MAKE_SYM | TB_LL_FS_REFER | TB_LL_FS_TRUNCATE)

/* Allocates an empty ruleset (handles nothing). NULL on ENOMEM. */
struct tb_ll_ruleset *tb_ll_ruleset_new(void);

#endif
