/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the recorders take from each syscall beside its count: the argument values a policy can
 * filter on, and the paths (with their file operations) that AppArmor and Landlock grants are
 * generated from. One table, read by both recorder backends (ptrace and bpf), so a recording's
 * content does not depend on the backend. Entries are by name; numbers come from libseccomp per
 * arch, and a name an arch lacks is skipped there. docs/recording-format.md documents the result.
 */
#ifndef TB_SYSCALL_SPECS_H
#define TB_SYSCALL_SPECS_H

#include <stddef.h>
#include <stdint.h>

enum tb_spec_kind {
	TB_SPEC_ARGS = 1, /* only the arguments in argmask */
	TB_SPEC_CLONE3,	  /* "flags": the first u64 of the struct clone_args that a0 points to */
	TB_SPEC_PATH,	  /* fixed operations on the paths of path[] */
	TB_SPEC_OPEN,	  /* path[0]'s operations come from the open flags in argument flags_arg */
	TB_SPEC_OPENAT2,  /* ... from the first u64 (flags) of the struct open_how at flags_arg */
	TB_SPEC_EXEC,	  /* path[0] is executed; a successful one names an executable */
	TB_SPEC_FD,	  /* the file open as fd argument fd_arg gets path[0].op (getdents) */
	TB_SPEC_MMAP,	  /* argmask, and mmap-exec of the file at fd_arg when prot has PROT_EXEC
			     and flags (a3) lack MAP_ANONYMOUS */
};

/* Flags of struct tb_syscall_spec. */
enum {
	/* EINVAL is success: readlink of a path that is no symlink fails so, yet the path exists. */
	TB_SPEC_EINVAL_OK = 1 << 0,
	/* a0 is a socket domain: a successful call adds it to network_families. */
	TB_SPEC_FAMILY = 1 << 1,
};

#define TB_SPEC_NOARG (-1)

/* One path argument: its index, the dirfd it is relative to (TB_SPEC_NOARG: cwd), the ops. */
struct tb_spec_path {
	int8_t path;  /* TB_SPEC_NOARG: this slot is unused */
	int8_t dirfd; /* TB_SPEC_NOARG: relative to the cwd */
	uint16_t op;  /* TB_FOP_* (core/recording.h); TB_SPEC_OPEN* compute path[0]'s */
};

struct tb_syscall_spec {
	const char *name;
	enum tb_spec_kind kind;
	uint8_t argmask;		/* bit N: argument N is recorded as "aN" */
	uint8_t lo32;			/* bit N: argument N is recorded on its low 32 bits */
	struct tb_spec_path path[2];	/* path[1]: the second path (rename's new name) */
	int8_t flags_arg;		/* TB_SPEC_OPEN/OPENAT2: open flags or struct open_how */
	int8_t fd_arg;			/* TB_SPEC_FD/MMAP: the fd naming a file */
	uint16_t flags;			/* TB_SPEC_EINVAL_OK, TB_SPEC_FAMILY */
};

/* The whole table, sorted by name and unique; *@n gets its length. Static: never freed. */
const struct tb_syscall_spec *tb_syscall_specs(size_t *n);

/* The file operations (TB_FOP_*) of an open with @flags (O_PATH is a stat, O_TMPFILE a create). */
unsigned tb_syscall_spec_open_ops(uint64_t flags);

/* The recording key of argument @i ("a0".."a5"), or "flags" for TB_SPEC_CLONE3. */
const char *tb_syscall_spec_arg_key(const struct tb_syscall_spec *s, unsigned i);

#endif
