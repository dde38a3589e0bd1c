/* SPDX-License-Identifier: Apache-2.0 */
#include "core/syscall-specs.h"
#include "core/internal.h"

#include <fcntl.h>
#include <string.h>

#include "core/recording.h"
#include "core/util.h"

#define NA TB_SPEC_NOARG
#define NOPATH {NA, NA, 0}
/* An argument recorder: recorded args (mask) and those compared on their low 32 bits. */
#define ARGS(n, mask, lo, fl)                                                                      \
	{n, TB_SPEC_ARGS, mask, lo, {NOPATH, NOPATH}, NA, NA, fl}
/* A path syscall: path (index, dirfd index, op), and an optional second one. */
#define PATH1(n, p, d, op, fl) {n, TB_SPEC_PATH, 0, 0, {{p, d, op}, NOPATH}, NA, NA, fl}
#define PATH2(n, p, d, op, p2, d2, op2)                                                            \
	{n, TB_SPEC_PATH, 0, 0, {{p, d, op}, {p2, d2, op2}}, NA, NA, 0}

/* Sorted by name (tests/unit/test-syscall-specs.c checks it); argument indexes are x86_64's. */
static const struct tb_syscall_spec specs[] = {
	PATH1("access", 0, NA, TB_FOP_STAT, 0),
	ARGS("arch_prctl", 1u << 0, 0, 0),
	PATH1("chdir", 0, NA, TB_FOP_STAT, 0),
	ARGS("clone", 1u << 0, 0, 0),
	{"clone3", TB_SPEC_CLONE3, 0, 0, {NOPATH, NOPATH}, NA, NA, 0},
	PATH1("creat", 0, NA, TB_FOP_CREATE | TB_FOP_WRITE, 0),
	{"execve", TB_SPEC_EXEC, 0, 0, {{0, NA, TB_FOP_EXEC}, NOPATH}, NA, NA, 0},
	{"execveat", TB_SPEC_EXEC, 0, 0, {{1, 0, TB_FOP_EXEC}, NOPATH}, NA, NA, 0},
	PATH1("faccessat", 1, 0, TB_FOP_STAT, 0),
	PATH1("faccessat2", 1, 0, TB_FOP_STAT, 0),
	ARGS("fcntl", 1u << 1, 1u << 1, 0),
	ARGS("fcntl64", 1u << 1, 1u << 1, 0),
	PATH1("fstatat64", 1, 0, TB_FOP_STAT, 0),
	{"getdents", TB_SPEC_FD, 0, 0, {{NA, NA, TB_FOP_READDIR}, NOPATH}, NA, 0, 0},
	{"getdents64", TB_SPEC_FD, 0, 0, {{NA, NA, TB_FOP_READDIR}, NOPATH}, NA, 0, 0},
	ARGS("ioctl", 1u << 1, 1u << 1, 0),
	/* link checks the old name and creates the new one. */
	PATH2("link", 0, NA, TB_FOP_STAT, 1, NA, TB_FOP_CREATE),
	PATH2("linkat", 1, 0, TB_FOP_STAT, 3, 2, TB_FOP_CREATE),
	PATH1("lstat", 0, NA, TB_FOP_STAT, 0),
	PATH1("lstat64", 0, NA, TB_FOP_STAT, 0),
	PATH1("mkdir", 0, NA, TB_FOP_CREATE, 0),
	PATH1("mkdirat", 1, 0, TB_FOP_CREATE, 0),
	PATH1("mknod", 0, NA, TB_FOP_CREATE, 0),
	PATH1("mknodat", 1, 0, TB_FOP_CREATE, 0),
	{"mmap", TB_SPEC_MMAP, 1u << 2, 0, {{NA, NA, TB_FOP_MMAP_EXEC}, NOPATH}, NA, 4, 0},
	{"mmap2", TB_SPEC_MMAP, 1u << 2, 0, {{NA, NA, TB_FOP_MMAP_EXEC}, NOPATH}, NA, 4, 0},
	ARGS("mprotect", 1u << 2, 0, 0),
	PATH1("newfstatat", 1, 0, TB_FOP_STAT, 0),
	PATH1("oldlstat", 0, NA, TB_FOP_STAT, 0),
	PATH1("oldstat", 0, NA, TB_FOP_STAT, 0),
	{"open", TB_SPEC_OPEN, 0, 0, {{0, NA, 0}, NOPATH}, 1, NA, 0},
	{"openat", TB_SPEC_OPEN, 0, 0, {{1, 0, 0}, NOPATH}, 2, NA, 0},
	{"openat2", TB_SPEC_OPENAT2, 0, 0, {{1, 0, 0}, NOPATH}, 2, NA, 0},
	ARGS("personality", 1u << 0, 0, 0),
	ARGS("pkey_mprotect", 1u << 2, 0, 0),
	ARGS("prctl", 1u << 0, 0, 0),
	PATH1("readlink", 0, NA, TB_FOP_STAT, TB_SPEC_EINVAL_OK),
	PATH1("readlinkat", 1, 0, TB_FOP_STAT, TB_SPEC_EINVAL_OK),
	PATH2("rename", 0, NA, TB_FOP_RENAME, 1, NA, TB_FOP_RENAME),
	PATH2("renameat", 1, 0, TB_FOP_RENAME, 3, 2, TB_FOP_RENAME),
	PATH2("renameat2", 1, 0, TB_FOP_RENAME, 3, 2, TB_FOP_RENAME),
	PATH1("rmdir", 0, NA, TB_FOP_DELETE, 0),
	ARGS("socket", 7u, 7u, TB_SPEC_FAMILY),
	ARGS("socketpair", 7u, 7u, TB_SPEC_FAMILY),
	PATH1("stat", 0, NA, TB_FOP_STAT, 0),
	PATH1("stat64", 0, NA, TB_FOP_STAT, 0),
	PATH1("statfs", 0, NA, TB_FOP_STAT, 0),
	PATH1("statfs64", 0, NA, TB_FOP_STAT, 0),
	PATH1("statx", 1, 0, TB_FOP_STAT, 0),
	/* symlink's first argument is the link's content, not a path that is accessed. */
	PATH1("symlink", 1, NA, TB_FOP_CREATE, 0),
	PATH1("symlinkat", 2, 1, TB_FOP_CREATE, 0),
	PATH1("truncate", 0, NA, TB_FOP_WRITE, 0),
	PATH1("truncate64", 0, NA, TB_FOP_WRITE, 0),
	PATH1("unlink", 0, NA, TB_FOP_DELETE, 0),
	PATH1("unlinkat", 1, 0, TB_FOP_DELETE, 0),
};
#undef PATH2
#undef PATH1
#undef ARGS
#undef NOPATH
#undef NA

const struct tb_syscall_spec *tb_syscall_specs(size_t *n)
{
	*n = TB_ARRAY_SIZE(specs);
	return specs;
}

const struct tb_syscall_spec *tb_syscall_spec_find(const char *name)
{
	size_t lo = 0, hi = TB_ARRAY_SIZE(specs);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, specs[mid].name);

		if (c == 0)
			return &specs[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

unsigned tb_syscall_spec_open_ops(uint64_t flags)
{
	unsigned ops;

	if (flags & O_PATH)
		return TB_FOP_STAT;
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		ops = TB_FOP_READ;
		break;
	case O_WRONLY:
		ops = TB_FOP_WRITE;
		break;
	default:
		ops = TB_FOP_READ | TB_FOP_WRITE;
	}
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		ops |= TB_FOP_CREATE;
	if (flags & O_TRUNC)
		ops |= TB_FOP_WRITE;
	return ops;
}

const char *tb_syscall_spec_arg_key(const struct tb_syscall_spec *s, unsigned i)
{
	static const char *const keys[6] = {"a0", "a1", "a2", "a3", "a4", "a5"};

	if (s->kind == TB_SPEC_CLONE3)
		return "flags";
	return i < 6 ? keys[i] : NULL;
}
