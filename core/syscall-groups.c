/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Syscall groups as data. Leaf groups are disjoint and each list is sorted (tests/unit/
 * test-syscall-groups.c checks both, and that every name is known to libseccomp on x86_64 or
 * aarch64). A name that exists on one architecture only (open, arch_prctl) is simply skipped by
 * libseccomp on the other.
 */
#include "core/syscall-groups.h"
#include "core/internal.h"

#include <string.h>

#include "core/util.h"

#define TB_LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct tb_syscall_group groups[] = {
    /* Leaf groups, in the order `tightbox generate` emits their rules. */
    {"@basic-io", "read, write, seek and close file descriptors",
     TB_LIST("close", "close_range", "dup", "dup2", "dup3", "fcntl", "ioctl", "lseek", "pread64",
	     "preadv", "preadv2", "pwrite64", "pwritev", "pwritev2", "read", "readv", "sendfile",
	     "splice", "tee", "write", "writev"),
     NULL},
    {"@file-system", "open, stat, list, create and remove files and directories",
     TB_LIST("access", "chdir", "chmod", "creat", "faccessat", "faccessat2", "fadvise64",
	     "fallocate", "fchdir", "fchmod", "fchmodat", "fgetxattr", "flistxattr", "fstat",
	     "fstatfs", "ftruncate", "futimesat", "getcwd", "getdents", "getdents64", "getxattr",
	     "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "lgetxattr",
	     "link", "linkat", "listxattr", "llistxattr", "lstat", "mkdir", "mkdirat", "newfstatat",
	     "open", "openat", "openat2", "readlink", "readlinkat", "rename", "renameat",
	     "renameat2", "rmdir", "stat", "statfs", "statx", "symlink", "symlinkat", "truncate",
	     "umask", "unlink", "unlinkat", "utime", "utimensat", "utimes"),
     NULL},
    {"@file-xattr-write", "change extended attributes",
     TB_LIST("fremovexattr", "fsetxattr", "lremovexattr", "lsetxattr", "removexattr", "setxattr"),
     NULL},
    {"@chown", "change file ownership", TB_LIST("chown", "fchown", "fchownat", "lchown"), NULL},
    {"@memory", "map, protect and release memory",
     TB_LIST("brk", "madvise", "membarrier", "memfd_create", "mincore", "mlock", "mlock2",
	     "mlockall", "mmap", "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap",
	     "pkey_alloc", "pkey_free", "pkey_mprotect"),
     NULL},
    {"@process", "create, execute, wait for and end processes",
     TB_LIST("arch_prctl", "clone", "clone3", "execve", "execveat", "exit", "exit_group", "fork",
	     "getpgid", "getpgrp", "getpid", "getppid", "getsid", "personality", "pidfd_open",
	     "prctl", "setpgid", "setsid", "vfork", "wait4", "waitid"),
     NULL},
    {"@thread", "threads: futexes, robust lists, rseq, thread ids",
     TB_LIST("futex", "futex_waitv", "get_robust_list", "gettid", "rseq", "set_robust_list",
	     "set_tid_address"),
     NULL},
    {"@signal", "send, block, wait for and handle signals",
     TB_LIST("kill", "pause", "pidfd_send_signal", "restart_syscall", "rt_sigaction",
	     "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
	     "rt_sigtimedwait", "rt_tgsigqueueinfo", "sigaltstack", "signalfd", "signalfd4",
	     "tgkill", "tkill"),
     NULL},
    {"@io-event", "wait for events on file descriptors",
     TB_LIST("epoll_create", "epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2",
	     "epoll_wait", "eventfd", "eventfd2", "poll", "ppoll", "pselect6", "select"),
     NULL},
    {"@ipc", "pipes, System V and POSIX message queues, semaphores, shared memory",
     TB_LIST("mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedsend",
	     "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd", "pipe", "pipe2", "semctl",
	     "semget", "semop", "semtimedop", "shmat", "shmctl", "shmdt", "shmget"),
     NULL},
    {"@network-io", "sockets: create, connect, send and receive",
     TB_LIST("accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt",
	     "listen", "recvfrom", "recvmmsg", "recvmsg", "sendmmsg", "sendmsg", "sendto",
	     "setsockopt", "shutdown", "socket", "socketpair"),
     NULL},
    {"@time", "read clocks, sleep and arm timers",
     TB_LIST("alarm", "clock_getres", "clock_gettime", "clock_nanosleep", "getitimer",
	     "gettimeofday", "nanosleep", "setitimer", "time", "timer_create", "timer_delete",
	     "timer_getoverrun", "timer_gettime", "timer_settime", "timerfd_create",
	     "timerfd_gettime", "timerfd_settime", "times"),
     NULL},
    {"@credentials", "read user, group and capability credentials",
     TB_LIST("capget", "getegid", "geteuid", "getgid", "getgroups", "getresgid", "getresuid",
	     "getuid"),
     NULL},
    {"@resources", "read and change resource limits and scheduling",
     TB_LIST("getpriority", "getrlimit", "getrusage", "ioprio_get", "prlimit64",
	     "sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity",
	     "sched_getattr", "sched_getparam", "sched_getscheduler", "sched_rr_get_interval",
	     "sched_yield", "setrlimit"),
     NULL},
    {"@system-info", "read system information and randomness",
     TB_LIST("getcpu", "getrandom", "sysinfo", "uname"), NULL},
    {"@sync", "flush data to storage",
     TB_LIST("fdatasync", "fsync", "sync", "sync_file_range", "syncfs"), NULL},
    {"@aio", "asynchronous I/O",
     TB_LIST("io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_setup", "io_submit",
	     "io_uring_enter", "io_uring_register", "io_uring_setup"),
     NULL},
    {"@setuid", "change user and group identity",
     TB_LIST("setfsgid", "setfsuid", "setgid", "setgroups", "setregid", "setresgid", "setresuid",
	     "setreuid", "setuid"),
     NULL},
    {"@mount", "mount and unmount file systems, change the root",
     TB_LIST("chroot", "fsconfig", "fsmount", "fsopen", "fspick", "mount", "mount_setattr",
	     "move_mount", "open_tree", "pivot_root", "umount2"),
     NULL},
    {"@namespaces", "create and join namespaces", TB_LIST("setns", "unshare"), NULL},
    {"@debug", "trace and inspect other processes",
     TB_LIST("kcmp", "perf_event_open", "pidfd_getfd", "process_madvise", "process_vm_readv",
	     "process_vm_writev", "ptrace"),
     NULL},
    {"@module", "load and unload kernel modules",
     TB_LIST("delete_module", "finit_module", "init_module"), NULL},
    {"@reboot", "reboot and kexec", TB_LIST("kexec_file_load", "kexec_load", "reboot"), NULL},
    {"@swap", "enable and disable swap", TB_LIST("swapoff", "swapon"), NULL},
    {"@raw-io", "raw port and PCI I/O", TB_LIST("ioperm", "iopl"), NULL},
    {"@keyring", "kernel keyring", TB_LIST("add_key", "keyctl", "request_key"), NULL},
    {"@clock", "set the system clock",
     TB_LIST("adjtimex", "clock_adjtime", "clock_settime", "settimeofday"), NULL},
    {"@privileged", "other administrator-only operations",
     TB_LIST("acct", "bpf", "fanotify_init", "lookup_dcookie", "nfsservctl", "open_by_handle_at",
	     "quotactl", "setdomainname", "sethostname", "syslog", "userfaultfd", "vhangup"),
     NULL},
    {"@obsolete", "syscalls the kernel keeps for old binaries",
     TB_LIST("_sysctl", "afs_syscall", "create_module", "get_kernel_syms", "getpmsg", "putpmsg",
	     "query_module", "security", "sysfs", "tuxcall", "uselib", "ustat", "vserver"),
     NULL},

    /* Composite groups. */
    {"@system-service", "what an ordinary unprivileged program uses", NULL,
     TB_LIST("@aio", "@basic-io", "@chown", "@credentials", "@file-system", "@io-event", "@ipc",
	     "@memory", "@network-io", "@process", "@resources", "@signal", "@sync", "@system-info",
	     "@thread", "@time")},
    {"@admin", "what only an administrator should do", NULL,
     TB_LIST("@clock", "@debug", "@keyring", "@module", "@mount", "@namespaces", "@privileged",
	     "@raw-io", "@reboot", "@setuid", "@swap")},
    {"@known", "every syscall tightbox has a group for", NULL,
     TB_LIST("@admin", "@file-xattr-write", "@obsolete", "@system-service")},
};

const struct tb_syscall_group *tb_syscall_groups(size_t *n)
{
	*n = TB_ARRAY_SIZE(groups);
	return groups;
}

const struct tb_syscall_group *tb_syscall_group_lookup(const char *name)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(groups); i++)
		if (!strcmp(groups[i].name, name))
			return &groups[i];
	return NULL;
}

static bool list_has(const char *const *list, const char *name)
{
	for (; list && *list; list++)
		if (!strcmp(*list, name))
			return true;
	return false;
}

const struct tb_syscall_group *tb_syscall_group_of(const char *syscall)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(groups); i++)
		if (list_has(groups[i].syscalls, syscall))
			return &groups[i];
	return NULL;
}

/* Depth bound instead of a visited set: the table nests three levels deep, the test forbids cycles.
 */
static bool contains_depth(const struct tb_syscall_group *g, const char *syscall, int depth)
{
	if (!g || depth > 16)
		return false;
	if (list_has(g->syscalls, syscall))
		return true;
	for (const char *const *inc = g->includes; inc && *inc; inc++)
		if (contains_depth(tb_syscall_group_lookup(*inc), syscall, depth + 1))
			return true;
	return false;
}

bool tb_syscall_group_contains(const char *name, const char *syscall)
{
	return contains_depth(tb_syscall_group_lookup(name), syscall, 0);
}
