/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syscalls a runtime makes after it loaded the seccomp filter and before the workload's execve
 * replaces it. A recording never sees them (it starts at that execve), yet a profile without them
 * makes the runtime fail before the workload starts.
 */
#include <stddef.h>

#include "generator/internal.h"

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

/* runner/child.c loads the filter as its very last step, then execve; when execve fails it writes
 * {step, errno} to the status pipe and _exits. */
static const char *const prelude_tightbox[] = {"execve", "exit_group", "write", NULL};

/*
 * runc 1.1.5 (Debian 12), measured with scripts/measure-runc-prelude 25: strace -f of `runc run`
 * on a bundle whose process is /bin/true; every syscall the filter-loading thread group made after
 * prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) up to the execve, union over 25 runs (the same 13
 * names every time). runc loads the filter with TSYNC, so its Go runtime threads (futex,
 * nanosleep, sched_yield, epoll_pwait) count; fstatfs is runc checking /proc/self/fd is procfs.
 */
static const char *const prelude_runc[] = {
    "close",  "epoll_ctl", "epoll_pwait", "execve",	  "fstatfs",	 "futex", "getdents64",
    "getpid", "nanosleep", "openat",	  "rt_sigreturn", "sched_yield", "write", NULL,
};

/* Always allowed: a recording only sees them when a signal arrived, the program ended in a
 * particular way or something failed, yet without them a signal handler's return, the
 * interpreter's exit or the dynamic loader's error message (written with writev: FACTS.md) fails.
 * The vDSO-backed calls (clock_gettime, clock_getres, gettimeofday, time, getcpu) are answered in
 * user space where the clock source allows it, so a recording made there never sees them; on a
 * host whose clock source has no vDSO support (many hypervisors, TCG guests) they reach the
 * kernel, and without them `time.time()` fails with ENOSYS (issue 16: Debian's 6.1 kernel in
 * qemu). Names an arch lacks (time on aarch64) are skipped there.
 */
static const char *const baseline[] = {
    "clock_getres", "clock_gettime", "exit",	     "exit_group", "getcpu", "gettimeofday",
    "restart_syscall", "rt_sigreturn", "time",	     "writev",	   NULL,
};

const char *const *tb_gen_prelude(enum tb_gen_runtime rt, const char **how)
{
	switch (rt) {
	case TB_GEN_RUNTIME_RUNC:
		*how = "runtime prelude: runc (measured: strace -f runc run, syscalls after the "
		       "filter "
		       "is loaded until execve)";
		return prelude_runc;
	case TB_GEN_RUNTIME_TIGHTBOX:
	default:
		*how = "runtime prelude: tightbox (runner loads the filter last, then execve; on "
		       "failure write + _exit)";
		return prelude_tightbox;
	}
}

unsigned tb_gen_runtimes(const struct tb_gen_opts *o)
{
	return o->runtimes ? o->runtimes : TB_GEN_RUNTIME_BIT(TB_GEN_RUNTIME_TIGHTBOX);
}

const char *const *tb_gen_baseline(void)
{
	return baseline;
}
