/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cross-arch equivalents of syscalls newer
 * architectures (aarch64, riscv64) dropped in favour of their *at / *2 / p* forms. Data only:
 * whether a name exists on an arch is always asked of libseccomp
 * (seccomp_syscall_resolve_name_arch), the table only says what to use instead when it does not.
 */
#include <seccomp.h>
#include <string.h>

#include "core/arch.h"
#include "core/util.h"
#include "generator/internal.h"

const struct tb_arch *tb_gen_arch_lookup(const char *name)
{
	const struct tb_arch *a = tb_arch_by_name(name);

	/* A target needs libseccomp's numbers and a Go name for includes.arches. */
	return a && a->token && a->goarch ? a : NULL;
}

#define EQ(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE ((const char *const[]){NULL})

struct equiv {
	const char *name;
	const char *const *use; /* tried in order; every one that exists on the target is allowed */
	const char *note;	/* why the list is empty */
};

/* Sorted by name. */
static const struct equiv equivs[] = {
    {"access", EQ("faccessat", "faccessat2"), NULL},
    {"alarm", EQ("setitimer"), NULL},
    {"arch_prctl", NONE, "x86 only (TLS setup); other arches set TLS in clone or a register"},
    {"chmod", EQ("fchmodat"), NULL},
    {"chown", EQ("fchownat"), NULL},
    {"creat", EQ("openat"), NULL},
    {"dup2", EQ("dup3"), NULL},
    {"epoll_create", EQ("epoll_create1"), NULL},
    {"epoll_wait", EQ("epoll_pwait"), NULL},
    {"eventfd", EQ("eventfd2"), NULL},
    {"fork", EQ("clone"), NULL},
    {"futimesat", EQ("utimensat"), NULL},
    {"getdents", EQ("getdents64"), NULL},
    {"getpgrp", EQ("getpgid"), NULL},
    {"getrlimit", EQ("prlimit64"), NULL},
    {"inotify_init", EQ("inotify_init1"), NULL},
    {"lchown", EQ("fchownat"), NULL},
    {"link", EQ("linkat"), NULL},
    {"lstat", EQ("newfstatat"), NULL},
    {"mkdir", EQ("mkdirat"), NULL},
    {"mknod", EQ("mknodat"), NULL},
    {"modify_ldt", NONE, "x86 only"},
    {"open", EQ("openat"), NULL},
    {"pause", EQ("ppoll"), NULL},
    {"pipe", EQ("pipe2"), NULL},
    {"poll", EQ("ppoll"), NULL},
    {"readlink", EQ("readlinkat"), NULL},
    {"rename", EQ("renameat", "renameat2"), NULL},
    {"rmdir", EQ("unlinkat"), NULL},
    {"select", EQ("pselect6"), NULL},
    {"setrlimit", EQ("prlimit64"), NULL},
    {"signalfd", EQ("signalfd4"), NULL},
    {"stat", EQ("newfstatat"), NULL},
    {"symlink", EQ("symlinkat"), NULL},
    {"sysfs", NONE, "obsolete, not on newer arches"},
    {"time", NONE, "answered by the vDSO on newer arches"},
    {"unlink", EQ("unlinkat"), NULL},
    {"uselib", NONE, "obsolete, not on newer arches"},
    {"ustat", NONE, "obsolete, not on newer arches"},
    {"utime", EQ("utimensat"), NULL},
    {"utimes", EQ("utimensat"), NULL},
    {"vfork", EQ("clone"), NULL},
};

const char *const *tb_gen_arch_equivalents(const char *name, const char **why)
{
	size_t lo = 0, hi = TB_ARRAY_SIZE(equivs);

	*why = NULL;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, equivs[mid].name);

		if (c == 0) {
			*why = equivs[mid].note;
			return equivs[mid].use;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
