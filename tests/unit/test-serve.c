/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for serve/: request reading and clamping, staging argv, the token compare, metrics. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/strv.h"
#include "core/util.h"
#include "serve/auth.h"
#include "serve/metrics.h"
#include "serve/request.h"

static const struct tb_serve_limits dflt = {.timeout = 10, .memory = 256 << 20, .cpus = 0.5,
					    .pids_limit = 64, .stdout_limit = 10000, .stderr_limit = 2000};
static const struct tb_serve_limits max = {.timeout = 30, .memory = 512 << 20, .cpus = 1,
					   .pids_limit = 128, .stdout_limit = 1 << 20, .stderr_limit = 1 << 20};

static int parse(const char *body, struct tb_serve_request *r, struct tb_diag *d)
{
	return tb_serve_request_parse(body, strlen(body), &dflt, &max, r, d);
}

static void test_defaults_and_fields(void **state)
{
	struct tb_serve_request r;
	struct tb_diag d = {0};

	(void)state;
	assert_int_equal(parse("{\"code\": \"print(1)\"}", &r, &d), 0);
	assert_string_equal(r.code, "print(1)");
	assert_true(r.limits.timeout == 10 && r.limits.memory == 256 << 20 && r.limits.pids_limit == 64);
	assert_int_equal(r.clamped, 0);
	assert_null(r.stdin_data);
	tb_serve_request_free(&r);
	assert_int_equal(parse("{\"code\": \"x\", \"stdin\": \"in\", \"files\": {\"a.txt\": \"A\"}, "
			       "\"env\": {\"K\": \"V\"}, \"profile\": \"p1\", \"memory\": \"64m\", "
			       "\"timeout\": 2.5, \"cpus\": 0.25, \"pids_limit\": 8}", &r, &d), 0);
	assert_string_equal(r.stdin_data, "in");
	assert_int_equal(r.n_files, 1);
	assert_string_equal(r.files[0].name, "a.txt");
	assert_string_equal(r.env[0], "K=V");
	assert_string_equal(r.profile, "p1");
	assert_true(r.limits.memory == 64 << 20 && r.limits.timeout == 2.5 && r.limits.pids_limit == 8);
	assert_int_equal(r.clamped, 0);
	tb_serve_request_free(&r);
}

static void test_clamped(void **state)
{
	struct tb_serve_request r;
	struct tb_diag d = {0};

	(void)state;
	assert_int_equal(parse("{\"code\": \"x\", \"memory\": \"4g\", \"timeout\": 0, \"cpus\": 8, "
			       "\"pids_limit\": 100000, \"stdout_limit\": 99999999}", &r, &d), 0);
	assert_true(r.limits.memory == 512 << 20 && r.limits.timeout == 30 && r.limits.cpus == 1 &&
		    r.limits.pids_limit == 128 && r.limits.stdout_limit == 1 << 20);
	assert_int_equal(r.clamped, TB_SERVE_LIMIT_MEMORY | TB_SERVE_LIMIT_TIMEOUT | TB_SERVE_LIMIT_CPUS |
					    TB_SERVE_LIMIT_PIDS | TB_SERVE_LIMIT_STDOUT);
	tb_serve_request_free(&r);
	/* memory 0 ("unlimited") is clamped too. */
	assert_int_equal(parse("{\"code\": \"x\", \"memory\": 0}", &r, &d), 0);
	assert_int_equal(r.limits.memory, 512 << 20);
	tb_serve_request_free(&r);
}

static void test_refused(void **state)
{
	static const struct {
		const char *body, *where;
	} bad[] = {
		{"", ""},
		{"[1]", ""},
		{"{}", "code"},
		{"{\"code\": 1}", "code"},
		{"{\"code\": \"x\", \"bogus\": 1}", "bogus"},
		{"{\"code\": \"x\", \"memory\": \"10q\"}", "memory"},
		{"{\"code\": \"x\", \"memory\": -1}", "memory"},
		{"{\"code\": \"x\", \"timeout\": \"10\"}", "timeout"},
		{"{\"code\": \"x\", \"timeout\": -1}", "timeout"},
		{"{\"code\": \"x\", \"pids_limit\": 0}", "pids_limit"},
		{"{\"code\": \"x\", \"files\": {\"../a\": \"x\"}}", "files.../a"},
		{"{\"code\": \"x\", \"files\": {\".hidden\": \"x\"}}", "files..hidden"},
		{"{\"code\": \"x\", \"files\": {\"script.py\": \"x\"}}", "files.script.py"},
		{"{\"code\": \"x\", \"files\": {\"out\": \"x\"}}", "files.out"},
		{"{\"code\": \"x\", \"files\": {\"a\": 1}}", "files.a"},
		{"{\"code\": \"x\", \"env\": {\"1A\": \"x\"}}", "env"},
		{"{\"code\": \"x\", \"profile\": \"../etc\"}", "profile"},
		{"{\"code\": \"x\", \"timeout\": 1, \"timeout\": 100}", ""},
		{"{\"code\": \"x\", \"output\": 1}", "output"},
	};
	struct tb_serve_request r;
	struct tb_diag d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&r, 0x5a, sizeof(r));
		memset(&d, 0, sizeof(d));
		assert_int_equal(parse(bad[i].body, &r, &d), -EINVAL);
		assert_string_equal(d.where, bad[i].where);
		assert_true(d.message[0] != '\0');
		assert_int_equal(((unsigned char *)&r)[0], 0x5a); /* untouched */
	}
}

static void test_stage(void **state)
{
	char dir[] = "/tmp/tb-test-serve-XXXXXX";
	struct tb_serve_request r;
	struct tb_diag d = {0};
	char **argv = NULL, *joined, path[128];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(parse("{\"code\": \"print(1)\", \"stdin\": \"in\", \"files\": {\"a.txt\": \"A\"}, "
			       "\"memory\": \"64m\"}", &r, &d), 0);
	assert_int_equal(tb_serve_request_stage(&r, dir, "/bin/tightbox", "/p.json", "cg", &argv), 0);
	joined = tb_strv_join(argv, " ");
	assert_non_null(strstr(joined, "/bin/tightbox run --json --timeout=10.000 --memory=67108864 "
					"--memory-swap=67108864 --cpus=0.500 --pids-limit=64"));
	assert_non_null(strstr(joined, "--security-opt=seccomp=/p.json --cgroup-parent=cg"));
	assert_non_null(strstr(joined, "--script="));
	assert_non_null(strstr(joined, "--stdin="));
	assert_non_null(strstr(joined, "/in/a.txt:a.txt"));
	snprintf(path, sizeof(path), "%s/script.py", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 8);
	free(joined);
	tb_strv_free(argv);
	tb_serve_request_free(&r);
	assert_int_equal(system("rm -rf /tmp/tb-test-serve-*"), 0);
}

/* The warm pool's command: the server's maxima, the phase-2 profile, the preloads, the output dir. */
static void test_pool_argv(void **state)
{
	struct tb_serve_limits most = {.timeout = 60, .memory = 1 << 30, .cpus = 1, .pids_limit = 256,
				       .stdout_limit = 1 << 20, .stderr_limit = 1 << 20};
	char **argv = NULL, *joined;

	(void)state;
	assert_int_equal(tb_serve_pool_argv(&most, "/bin/tightbox", NULL, "/d.json", "pandas,numpy",
					    "cg", "/st/warm-1", &argv), 0);
	joined = tb_strv_join(argv, " ");
	assert_string_equal(joined, "/bin/tightbox run --json --warm --two-phase=/d.json "
				    "--preload=pandas,numpy --timeout=60.000 --memory=1073741824 "
				    "--memory-swap=1073741824 --cpus=1.000 --pids-limit=256 "
				    "--stdout-limit=1048576 --stderr-limit=1048576 --cgroup-parent=cg "
				    "--output-dir=/st/warm-1/out --output-max-bytes=1048576 "
				    "--output-max-files=100");
	free(joined);
	tb_strv_free(argv);
	assert_int_equal(tb_serve_pool_argv(&most, "/bin/tightbox", NULL, "/d.json", NULL, NULL,
					    "/st/w", &argv), 0);
	joined = tb_strv_join(argv, " ");
	assert_null(strstr(joined, "--preload"));
	assert_null(strstr(joined, "--cgroup-parent"));
	assert_null(strstr(joined, "--security-opt"));
	free(joined);
	tb_strv_free(argv);
	/* A named profile's pool: start-up and the preloads run under it too (phase 1). */
	assert_int_equal(tb_serve_pool_argv(&most, "/bin/tightbox", "/st/w/p.json", "/st/w/p.json",
					    NULL, NULL, "/st/w", &argv), 0);
	joined = tb_strv_join(argv, " ");
	assert_non_null(strstr(joined, " --warm --security-opt=seccomp=/st/w/p.json "
					"--two-phase=/st/w/p.json "));
	free(joined);
	tb_strv_free(argv);
}

/* What a warm sandbox reads: the request's clamped limits on one line, then the request. */
static void test_request_warm(void **state)
{
	struct tb_serve_request r;
	struct tb_diag d = {0};
	char *text = NULL, *nl;
	size_t len = 0;

	(void)state;
	assert_int_equal(parse("{\"code\": \"print(1)\", \"stdin\": \"a\\u0000b\", \"files\": "
			       "{\"a.txt\": \"A\"}, \"env\": {\"K\": \"v=1\"}, \"timeout\": 2, "
			       "\"stdout_limit\": 0}", &r, &d), 0);
	assert_int_equal(tb_serve_request_warm(&r, &text, &len), 0);
	assert_int_equal(len, strlen(text));
	nl = strchr(text, '\n');
	assert_non_null(nl);
	*nl = '\0';
	assert_string_equal(text, "{\"timeout\":2.0,\"memory\":268435456,\"cpus\":0.5,"
				  "\"pids_limit\":64,\"stdout_limit\":0,\"stderr_limit\":2000,\"output\":false}");
	assert_string_equal(nl + 1, "{\"code\":\"print(1)\",\"stdin\":\"a\\u0000b\",\"env\":"
				    "{\"K\":\"v=1\"},\"files\":{\"a.txt\":\"A\"},\"output\":false}");
	free(text);
	tb_serve_request_free(&r);
	/* No stdin: null (the sandbox reads /dev/null). */
	assert_int_equal(parse("{\"code\": \"x\"}", &r, &d), 0);
	assert_int_equal(tb_serve_request_warm(&r, &text, &len), 0);
	assert_non_null(strstr(text, "\"stdin\":null"));
	free(text);
	tb_serve_request_free(&r);
}

static void test_token_equal(void **state)
{
	(void)state;
	assert_true(tb_serve_token_equal("secret-token", 12, "secret-token", 12));
	assert_false(tb_serve_token_equal("secret-token", 12, "secret-tokem", 12));
	assert_false(tb_serve_token_equal("secret-token", 12, "secret", 6));
	assert_false(tb_serve_token_equal("secret-token", 12, "secret-tokenX", 13));
	assert_false(tb_serve_token_equal("secret-token", 12, "", 0));
	assert_false(tb_serve_token_equal("", 0, "", 0));
}

static void test_metrics_render(void **state)
{
	static const char *const want[] = {
		"tightbox_serve_runs_total{outcome=\"ok\"} 2\n",
		"tightbox_serve_runs_total{outcome=\"rejected\"} 1\n",
		"tightbox_serve_queue_depth 2\n",
		"tightbox_serve_workers 4\n",
		"tightbox_serve_pool_ready 1\n",
		"tightbox_serve_pool_size 3\n",
		"tightbox_serve_warm_runs_total 5\n",
		/* Cumulative buckets: 0.025 holds the first, 5 both, +Inf both; no latency for the 429. */
		"tightbox_serve_run_duration_seconds_bucket{le=\"0.01\"} 0\n",
		"tightbox_serve_run_duration_seconds_bucket{le=\"0.025\"} 1\n",
		"tightbox_serve_run_duration_seconds_bucket{le=\"2.5\"} 1\n",
		"tightbox_serve_run_duration_seconds_bucket{le=\"5\"} 2\n",
		"tightbox_serve_run_duration_seconds_bucket{le=\"+Inf\"} 2\n",
		"tightbox_serve_run_duration_seconds_count 2\n",
	};
	struct tb_serve_metrics m;
	char *text;

	(void)state;
	assert_int_equal(tb_serve_metrics_init(&m, 4, 16), 0);
	tb_serve_metrics_observe(&m, TB_OUTCOME_OK, 0.02);
	tb_serve_metrics_observe(&m, TB_OUTCOME_OK, 3);
	tb_serve_metrics_observe(&m, TB_OUTCOME_REJECTED, -1);
	m.queued = 2;
	m.pool_ready = 1;
	m.pool_size = 3;
	m.warm_runs = 5;
	text = tb_serve_metrics_render(&m);
	assert_non_null(text);
	for (size_t i = 0; i < TB_ARRAY_SIZE(want); i++)
		if (!strstr(text, want[i]))
			fail_msg("the metrics lack \"%s\":\n%s", want[i], text);
	free(text);
	tb_serve_metrics_destroy(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_fields), cmocka_unit_test(test_clamped),
		cmocka_unit_test(test_refused),            cmocka_unit_test(test_stage),
		cmocka_unit_test(test_token_equal),        cmocka_unit_test(test_metrics_render),
		cmocka_unit_test(test_pool_argv),          cmocka_unit_test(test_request_warm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
