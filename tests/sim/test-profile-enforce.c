/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Real-process policy tests: a forked child sets no_new_privs, loads a filter compiled from a
 * small JSON profile and makes one raw syscall; the parent checks the errno or signal it got.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include <cmocka.h>

#include "core/profile.h"

/* What the child saw: exit code 200+errno (0 = success, 199 = setup failed) or a signal. */
struct outcome {
	int err;    /* errno of the call, 0 when it succeeded, -1 when killed */
	int signal; /* terminating signal */
};

static void load(const char *json, struct tb_compile_opts *o, struct sock_fprog *prog)
{
	struct tb_profile *p = NULL;
	struct tb_diag d;
	void *ctx = NULL;
	char buf[1400];

	if (tb_profile_parse(json, strlen(json), "t.json", &p, &d) < 0)
		fail_msg("parse: %s", tb_diag_format(&d, buf, sizeof(buf)));
	if (tb_profile_compile(p, o, &ctx, &d) < 0)
		fail_msg("compile: %s", tb_diag_format(&d, buf, sizeof(buf)));
	assert_int_equal(tb_profile_export_bpf(ctx, prog), 0);
	tb_profile_ctx_free(ctx);
	tb_profile_free(p);
}

static int raw_i386_getpid(void)
{
#if defined(__x86_64__)
	long ret = 20; /* i386 __NR_getpid */

	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	return (int)ret;
#else
	return -ENOSYS;
#endif
}

static struct outcome run(const char *json, struct tb_compile_opts *o, long nr, long a0, long a1,
			  bool i386)
{
	struct sock_fprog prog;
	struct outcome out = {0};
	int status;
	pid_t pid;

	load(json, o, &prog);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		long r;

		/* cmocka catches SIGSYS to report crashes; the child must die of it instead. */
		signal(SIGSYS, SIG_DFL);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
			_exit(199);
		if (i386) {
			r = raw_i386_getpid();
			_exit(r < 0 ? (int)(200 - r) : 0);
		}
		r = syscall(nr, a0, a1, 0, 0, 0, 0);
		_exit(r < 0 ? 200 + errno : 0);
	}
	free(prog.filter);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status)) {
		out.err = -1;
		out.signal = WTERMSIG(status);
		return out;
	}
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), 199);
	out.err = WEXITSTATUS(status) ? WEXITSTATUS(status) - 200 : 0;
	return out;
}

/* Every test profile allows what the child needs to exit. */
#define BASE "{\"names\": [\"exit_group\", \"exit\"], \"action\": \"SCMP_ACT_ALLOW\"}"

static void test_errno_values(void **state)
{
	const char *j = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, \"syscalls\": [" BASE
			", {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13}"
			", {\"names\": [\"getuid\"], \"action\": \"SCMP_ACT_ERRNO\"}"
			", {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\"}]}";

	assert_int_equal(run(j, NULL, SYS_getppid, 0, 0, false).err, EACCES);
	/* ERRNO without errnoRet: EPERM, as runc does. */
	assert_int_equal(run(j, NULL, SYS_getuid, 0, 0, false).err, EPERM);
	assert_int_equal(run(j, NULL, SYS_getgid, 0, 0, false).err, ENOSYS);
	assert_int_equal(run(j, NULL, SYS_getpid, 0, 0, false).err, 0);
	/* Default ERRNO without defaultErrnoRet: EPERM. */
	assert_int_equal(run("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [" BASE "]}", NULL,
			     SYS_getgid, 0, 0, false).err, EPERM);
}

static void test_kill_trap_old_format(void **state)
{
	const char *j = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
			"{\"name\": \"getppid\", \"action\": \"SCMP_ACT_KILL_PROCESS\"},"
			"{\"name\": \"getuid\", \"action\": \"SCMP_ACT_TRAP\"}]}";
	struct outcome o = run(j, NULL, SYS_getppid, 0, 0, false);

	assert_int_equal(o.signal, SIGSYS);
	o = run(j, NULL, SYS_getuid, 0, 0, false);
	assert_int_equal(o.signal, SIGSYS);
	assert_int_equal(run(j, NULL, SYS_getpid, 0, 0, false).err, 0);
}

static void test_args(void **state)
{
	/* getpriority(which, who): allow which == PRIO_PROCESS (0) only; kill(pid, sig) with a
	 * MASKED_EQ on sig; two conditions on one argument are ORed (runc). */
	const char *j = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, \"syscalls\": [" BASE
			", {\"names\": [\"getpriority\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]}"
			", {\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 1, \"value\": 240, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}"
			", {\"names\": [\"getpgid\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 0, \"value\": 100000000, \"op\": \"SCMP_CMP_GT\"}]}"
			", {\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 5, \"op\": \"SCMP_CMP_LT\"}, {\"index\": 1, \"value\": 7, \"op\": \"SCMP_CMP_EQ\"}]}]}";

	assert_int_equal(run(j, NULL, SYS_getpriority, 0, 0, false).err, 0);
	assert_int_equal(run(j, NULL, SYS_getpriority, 1, 0, false).err, ENOSYS);
	/* kill(0, 0) only checks permission; 16 & 0xf0 != 0 is denied. */
	assert_int_equal(run(j, NULL, SYS_kill, 0, 0, false).err, 0);
	assert_int_equal(run(j, NULL, SYS_kill, 0, 16, false).err, ENOSYS);
	assert_int_equal(run(j, NULL, SYS_getpgid, 0, 0, false).err, 0);
	/* pid 2^31-1 does not exist: passing the filter shows as ESRCH. */
	assert_int_equal(run(j, NULL, SYS_getpgid, 0x7fffffff, 0, false).err, ESRCH);
	assert_int_equal(run(j, NULL, SYS_getpgid, 5, 0, false).err, ENOSYS);
	/* Different arguments are ANDed. */
	assert_int_equal(run(j, NULL, SYS_getsid, 0, 7, false).err, 0);
	assert_int_equal(run(j, NULL, SYS_getsid, 0, 8, false).err, ENOSYS);
	assert_int_equal(run(j, NULL, SYS_getsid, 6, 7, false).err, ENOSYS);
}

static void test_includes_excludes(void **state)
{
	const char *j = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, \"syscalls\": [" BASE
			", {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}}"
			", {\"names\": [\"getuid\"], \"action\": \"SCMP_ACT_ALLOW\", \"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}}"
			", {\"names\": [\"getgid\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": \"4.8\"}}"
			", {\"names\": [\"getegid\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": \"99.0\"}}"
			", {\"names\": [\"geteuid\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"arches\": [\"s390x\"]}}"
			", {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\", \"excludes\": {\"arches\": [\"s390x\"]}}]}";
	struct tb_compile_opts admin = {.caps = 1ull << 21};

	assert_int_equal(run(j, NULL, SYS_getppid, 0, 0, false).err, ENOSYS);
	assert_int_equal(run(j, &admin, SYS_getppid, 0, 0, false).err, 0);
	assert_int_equal(run(j, NULL, SYS_getuid, 0, 0, false).err, 0);
	assert_int_equal(run(j, &admin, SYS_getuid, 0, 0, false).err, ENOSYS);
	assert_int_equal(run(j, NULL, SYS_getgid, 0, 0, false).err, 0);
	assert_int_equal(run(j, NULL, SYS_getegid, 0, 0, false).err, ENOSYS);
	assert_int_equal(run(j, NULL, SYS_geteuid, 0, 0, false).err, ENOSYS);
	assert_int_equal(run(j, NULL, SYS_getpid, 0, 0, false).err, 0);
}

static void test_i386(void **state)
{
#if !defined(__x86_64__)
	skip();
#else
	const char *native_only = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, \"syscalls\": [" BASE
				  ", {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\"}]}";
	const char *with_x86 = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, "
			       "\"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"SCMP_ARCH_X86\"]}], \"syscalls\": [" BASE
			       ", {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\"}]}";
	const char *x86_denied = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, "
				 "\"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"SCMP_ARCH_X86\"]}], \"syscalls\": [" BASE "]}";
	struct outcome o;

	/* i386 not listed: tightbox kills the process (bad-arch action). */
	o = run(native_only, NULL, 0, 0, 0, true);
	assert_int_equal(o.signal, SIGSYS);
	/* Listed through archMap: the same names apply to int 0x80. */
	assert_int_equal(run(with_x86, NULL, 0, 0, 0, true).err, 0);
	assert_int_equal(run(x86_denied, NULL, 0, 0, 0, true).err, ENOSYS);
#endif
}

static void test_trace_denials(void **state)
{
	/* Without a tracer SECCOMP_RET_TRACE fails the call with ENOSYS, and kills become traces. */
	const char *j = "{\"defaultAction\": \"SCMP_ACT_KILL_PROCESS\", \"syscalls\": [" BASE
			", {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\"}]}";
	struct tb_compile_opts o = {.trace_denials = true};

	assert_int_equal(run(j, &o, SYS_getppid, 0, 0, false).err, ENOSYS);
	assert_int_equal(run(j, &o, SYS_getpid, 0, 0, false).err, 0);
	assert_int_equal(run(j, NULL, SYS_getppid, 0, 0, false).signal, SIGSYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_values),	  cmocka_unit_test(test_kill_trap_old_format),
		cmocka_unit_test(test_args),		  cmocka_unit_test(test_includes_excludes),
		cmocka_unit_test(test_i386),		  cmocka_unit_test(test_trace_denials),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
