/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Argument values that make an otherwise ordinary syscall dangerous: clone's namespace flags,
 * the terminal-injection ioctls, and the socket families with kernel-facing surfaces. One table
 * for `tightbox generate` (explicit EPERM rules), `audit` (findings) and `explain` (never
 * suggested).
 */
#ifndef TB_DANGEROUS_ARGS_H
#define TB_DANGEROUS_ARGS_H

#include <stddef.h>
#include <stdint.h>

enum tb_darg_kind {
	TB_DARG_CLONE_NS,     /* a CLONE_NEW* flag in clone's flags */
	TB_DARG_IOCTL,	      /* an ioctl request (the kernel compares the low 32 bits) */
	TB_DARG_SOCKET_FAMILY /* a socket address family */
};

struct tb_dangerous_arg {
	const char *syscall; /* "clone", "ioctl", "socket" */
	enum tb_darg_kind kind;
	unsigned index; /* argument index on x86_64/aarch64 (clone's flags: 1 on s390/s390x) */
	uint64_t mask;	/* the value matches when (arg & mask) == value */
	uint64_t value;
	const char *name;   /* "CLONE_NEWUSER", "TIOCSTI", "AF_NETLINK" */
	const char *reason; /* why, one phrase */
};

/* All of clone's namespace flags as clone(2) takes them (CLONE_NEWTIME exists for clone3 only). */
#define TB_CLONE_NS_MASK 0x7E020000ULL

/* The table (grouped by syscall, in a fixed order) and its length. */
const struct tb_dangerous_arg *tb_dangerous_args(size_t *n);
/* The first entry @args of a call of @syscall matches, or NULL. */
const struct tb_dangerous_arg *tb_dangerous_arg_match(const char *syscall, const uint64_t args[6]);
/* Whether @syscall has entries (its suggestions and rules must filter its arguments). */
int tb_dangerous_arg_syscall(const char *syscall);

#endif
