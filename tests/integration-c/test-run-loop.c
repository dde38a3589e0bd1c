/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tb_run() as a library in a long-lived process: 100 runs in one process leave the caller's file
 * descriptors, children and signal mask exactly as they were (ASan's leak check covers memory).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "runner/run.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_many_runs_leave_nothing(void **state)
{
	static char *argv_ok[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
	struct tb_run_config c;
	sigset_t before, after;
	int fds;

	(void)state;
	assert_int_equal(tb_run_config_init(&c), 0);
	c.argv = argv_ok;
	sigprocmask(SIG_SETMASK, NULL, &before);
	fds = count_fds();
	for (int i = 0; i < 100; i++) {
		struct tb_run_result res;
		struct tb_diag d;

		assert_int_equal(tb_run(&c, NULL, &res, &d), 0);
		assert_true(res.exited);
		assert_int_equal(res.exit_code, 3);
		assert_int_equal(res.out_len, 4);
		assert_memory_equal(res.out, "out\n", 4);
		assert_int_equal(res.err_len, 4);
		tb_run_result_free(&res);
	}
	assert_int_equal(count_fds(), fds);
	sigprocmask(SIG_SETMASK, NULL, &after);
	assert_int_equal(sigismember(&after, SIGCHLD), sigismember(&before, SIGCHLD));
	/* No zombie of ours: every sandbox init and janitor intermediate was reaped. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	c.argv = NULL;
	tb_run_config_free(&c);
}

static void test_setup_failure_leaves_nothing(void **state)
{
	static char *argv[] = {"/bin/true", NULL};
	struct tb_run_config c;
	int fds;

	(void)state;
	assert_int_equal(tb_run_config_init(&c), 0);
	c.argv = argv;
	c.seccomp_mode = TB_SECCOMP_FILE;
	c.seccomp_path = strdup("/nonexistent/profile.json");
	fds = count_fds();
	for (int i = 0; i < 20; i++) {
		struct tb_run_result res;
		struct tb_diag d;

		assert_true(tb_run(&c, NULL, &res, &d) < 0);
		assert_non_null(res.error);
		assert_non_null(strstr(d.file, "/nonexistent/profile.json"));
		tb_run_result_free(&res);
	}
	assert_int_equal(count_fds(), fds);
	c.argv = NULL;
	tb_run_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_runs_leave_nothing),
		cmocka_unit_test(test_setup_failure_leaves_nothing),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "SKIPPED: needs root (cgroups)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
