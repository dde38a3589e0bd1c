/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for cli/run-options.c, the docker-run-style parser of run, record and explain (as
 * minijail tests its command line): defaults, both value spellings, where the command starts,
 * refusals, and the flag named in every error.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "cli/run-options.h"

#define ARGV(...) ((char *[]){"run", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"run", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(o, d, ...) tb_run_cli_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), NULL, NULL, (d))

static void test_defaults_are_the_hardened_line(void **state)
{
	struct tb_run_cli o;
	struct tb_diag d;

	(void)state;
	assert_int_equal(PARSE(&o, &d, "--", "python3", "-c", "pass"), 0);
	assert_string_equal(o.cfg.argv[0], "python3");
	assert_string_equal(o.cfg.argv[2], "pass");
	assert_null(o.cfg.argv[3]);
	assert_int_equal(o.cfg.memory, 256ull << 20);
	assert_int_equal(o.cfg.pids_limit, 64);
	assert_int_equal(o.cfg.uid, 65534);
	assert_int_equal(o.cfg.n_tmpfs, 1);
	assert_string_equal(o.cfg.tmpfs[0].path, "/tmp");
	assert_true(o.cfg.tmpfs[0].flags & MS_NOEXEC);
	assert_int_equal(o.cfg.seccomp_mode, TB_SECCOMP_DEFAULT);
	assert_true(o.cfg.passthrough);
	assert_false(o.json);
	assert_false(o.help);
	tb_run_cli_free(&o);
}

static void test_value_spellings(void **state)
{
	struct tb_run_cli o;
	struct tb_diag d;

	(void)state;
	assert_int_equal(PARSE(&o, &d, "--memory=1g", "--pids-limit", "10", "-u", "1000:1000",
			       "--timeout=500ms", "--ulimit", "nofile=10:20", "true"),
			 0);
	assert_int_equal(o.cfg.memory, 1ull << 30);
	assert_int_equal(o.cfg.pids_limit, 10);
	assert_int_equal(o.cfg.uid, 1000);
	assert_int_equal(o.cfg.gid, 1000);
	assert_float_equal(o.cfg.timeout, 0.5, 1e-9);
	assert_true(o.cfg.rlimits[RLIMIT_NOFILE].set);
	assert_int_equal(o.cfg.rlimits[RLIMIT_NOFILE].soft, 10);
	assert_int_equal(o.cfg.rlimits[RLIMIT_NOFILE].hard, 20);
	assert_string_equal(o.cfg.argv[0], "true");
	tb_run_cli_free(&o);

	/* -m is --memory; --pids-limit 0 means unlimited, as in docker. */
	assert_int_equal(PARSE(&o, &d, "-m", "64m", "--pids-limit=0", "true"), 0);
	assert_int_equal(o.cfg.memory, 64ull << 20);
	assert_int_equal(o.cfg.pids_limit, -1);
	tb_run_cli_free(&o);
}

static void test_command_starts_at_first_non_option(void **state)
{
	struct tb_run_cli o;
	struct tb_diag d;

	(void)state;
	/* Options after the command belong to the command. */
	assert_int_equal(PARSE(&o, &d, "--json", "ls", "--memory", "-l"), 0);
	assert_true(o.json);
	assert_string_equal(o.cfg.argv[0], "ls");
	assert_string_equal(o.cfg.argv[1], "--memory");
	assert_int_equal(o.cfg.memory, 256ull << 20);
	tb_run_cli_free(&o);
	/* "--" ends the options even before something that looks like one. */
	assert_int_equal(PARSE(&o, &d, "--", "--json"), 0);
	assert_false(o.json);
	assert_string_equal(o.cfg.argv[0], "--json");
	tb_run_cli_free(&o);
	/* No command: argv stays NULL (the caller says "no command given"). */
	assert_int_equal(PARSE(&o, &d, "--json"), 0);
	assert_null(o.cfg.argv);
	tb_run_cli_free(&o);
}

static void test_script_runs_python(void **state)
{
	struct tb_run_cli o;
	struct tb_diag d;

	(void)state;
	assert_int_equal(PARSE(&o, &d, "--script", "user_code.py"), 0);
	assert_string_equal(o.cfg.script, "user_code.py");
	assert_string_equal(o.cfg.argv[0], "python3");
	assert_string_equal(o.cfg.argv[1], "/sandbox/script.py");
	tb_run_cli_free(&o);
}

static void test_security_opts(void **state)
{
	struct tb_run_cli o;
	struct tb_diag d;

	(void)state;
	assert_int_equal(PARSE(&o, &d, "--security-opt", "seccomp=p.json", "--security-opt",
			       "no-new-privileges", "--security-opt", "landlock=unconfined", "true"),
			 0);
	assert_int_equal(o.cfg.seccomp_mode, TB_SECCOMP_FILE);
	assert_string_equal(o.cfg.seccomp_path, "p.json");
	assert_true(o.cfg.landlock_off);
	tb_run_cli_free(&o);
	/* docker's legacy "key:value" spelling, and the later flag wins. */
	assert_int_equal(PARSE(&o, &d, "--security-opt", "seccomp:a.json", "--security-opt",
			       "seccomp=unconfined", "true"),
			 0);
	assert_int_equal(o.cfg.seccomp_mode, TB_SECCOMP_UNCONFINED);
	tb_run_cli_free(&o);
}

static void test_tmpfs_and_volumes(void **state)
{
	struct tb_run_cli o;
	struct tb_diag d;

	(void)state;
	/* A --tmpfs for /tmp replaces the default one instead of mounting twice. */
	assert_int_equal(PARSE(&o, &d, "--tmpfs", "/tmp:size=1m", "--tmpfs", "/work", "-v",
			       "/usr:/data:ro", "true"),
			 0);
	assert_int_equal(o.cfg.n_tmpfs, 2);
	assert_string_equal(o.cfg.tmpfs[0].path, "/tmp");
	assert_int_equal(o.cfg.tmpfs[0].size, 1ull << 20);
	assert_string_equal(o.cfg.tmpfs[1].path, "/work");
	assert_int_equal(o.cfg.n_volumes, 1);
	assert_string_equal(o.cfg.volumes[0].dst, "/data");
	assert_false(o.cfg.volumes[0].rw);
	tb_run_cli_free(&o);
}

static void test_env(void **state)
{
	struct tb_run_cli o;
	struct tb_diag d;

	(void)state;
	setenv("TB_TEST_SET", "yes", 1);
	unsetenv("TB_TEST_UNSET");
	/* "-e K" copies the caller's K when it is set, and adds nothing when it is not. */
	assert_int_equal(PARSE(&o, &d, "-e", "A=1", "-e", "TB_TEST_SET", "-e", "TB_TEST_UNSET",
			       "true"),
			 0);
	assert_int_equal(o.cfg.n_env, 2);
	assert_string_equal(o.cfg.env[0], "A=1");
	assert_string_equal(o.cfg.env[1], "TB_TEST_SET=yes");
	tb_run_cli_free(&o);
}

/* Each refusal: -EINVAL, and a diagnostic naming the flag (where) and saying @what. */
static void expect_refused(int r, const struct tb_diag *d, const char *flag, const char *what)
{
	assert_int_equal(r, -EINVAL);
	assert_string_equal(d->where, flag);
	if (!strstr(d->message, what))
		fail_msg("%s: message '%s' lacks '%s'", flag, d->message, what);
}

static void test_refusals_name_the_flag(void **state)
{
	struct tb_run_cli o;
	struct tb_diag d;

	(void)state;
#define REFUSED(flag, what, ...)                                                                   \
	do {                                                                                       \
		expect_refused(PARSE(&o, &d, __VA_ARGS__), &d, flag, what);                       \
		tb_run_cli_free(&o);                                                               \
	} while (0)
	REFUSED("--cap-add", "refused", "--cap-add", "SYS_ADMIN", "true");
	REFUSED("--privileged", "refused", "--privileged", "true");
	REFUSED("--network", "only 'none'", "--network", "host", "true");
	REFUSED("--memory", "size", "--memory", "10q", "true");
	REFUSED("--cpus", "", "--cpus", "0", "true");
	REFUSED("--timeout", "", "--timeout", "-1", "true");
	REFUSED("-t", "terminal", "-t", "true");
	REFUSED("--memory", "needs a value", "--memory");
	REFUSED("--security-opt", "unsupported", "--security-opt", "label=disable", "true");
	REFUSED("--cgroup-parent", "one path component", "--cgroup-parent", "../x", "true");
	REFUSED("--memroy", "unknown option", "--memroy", "1g", "true");
#undef REFUSED
}

static void test_did_you_mean(void **state)
{
	struct tb_run_cli o;
	struct tb_diag d;

	(void)state;
	assert_int_equal(PARSE(&o, &d, "--memroy", "1g", "true"), -EINVAL);
	assert_non_null(strstr(d.message, "did you mean --memory?"));
	tb_run_cli_free(&o);
	assert_int_equal(PARSE(&o, &d, "--securty-opt=seccomp=x", "true"), -EINVAL);
	assert_non_null(strstr(d.message, "did you mean --security-opt?"));
	tb_run_cli_free(&o);
	/* Nothing close: no suggestion. */
	assert_int_equal(PARSE(&o, &d, "--frobnicate", "true"), -EINVAL);
	assert_null(strstr(d.message, "did you mean"));
	tb_run_cli_free(&o);
}

struct extra_seen {
	int enforce;
	const char *backend;
};

static int extra(int argc, char **argv, int i, void *data, struct tb_diag *d)
{
	struct extra_seen *s = data;

	if (!strcmp(argv[i], "--enforce")) {
		s->enforce++;
		return 1;
	}
	if (!strcmp(argv[i], "--backend") && i + 1 < argc) {
		s->backend = argv[i + 1];
		return 2;
	}
	if (!strcmp(argv[i], "--bad")) {
		tb_diag_set(d, NULL, 0, 0, "--bad", "bad value");
		return -1;
	}
	return 0;
}

static void test_subcommand_extra_options(void **state)
{
	struct extra_seen s = {0};
	struct tb_run_cli o;
	struct tb_diag d;
	char *ok[] = {"record", "--enforce", "--backend", "ptrace", "-m", "1g", "true", NULL};
	char *bad[] = {"record", "--bad", "true", NULL};

	(void)state;
	assert_int_equal(tb_run_cli_parse(7, ok, &o, extra, &s, &d), 0);
	assert_int_equal(s.enforce, 1);
	assert_string_equal(s.backend, "ptrace");
	assert_int_equal(o.cfg.memory, 1ull << 30);
	assert_string_equal(o.cfg.argv[0], "true");
	tb_run_cli_free(&o);
	assert_int_equal(tb_run_cli_parse(3, bad, &o, extra, &s, &d), -EINVAL);
	assert_string_equal(d.where, "--bad");
	tb_run_cli_free(&o);
}

static void test_help(void **state)
{
	struct tb_run_cli o;
	struct tb_diag d;

	(void)state;
	assert_int_equal(PARSE(&o, &d, "--memory", "1g", "--help", "--bogus"), 0);
	assert_true(o.help);
	tb_run_cli_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_the_hardened_line),
		cmocka_unit_test(test_value_spellings),
		cmocka_unit_test(test_command_starts_at_first_non_option),
		cmocka_unit_test(test_script_runs_python),
		cmocka_unit_test(test_security_opts),
		cmocka_unit_test(test_tmpfs_and_volumes),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_refusals_name_the_flag),
		cmocka_unit_test(test_did_you_mean),
		cmocka_unit_test(test_subcommand_extra_options),
		cmocka_unit_test(test_help),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
