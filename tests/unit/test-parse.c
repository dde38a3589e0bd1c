/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/parse.c: the values docker-style flags take. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "core/parse.h"
#include "core/internal.h"

static void test_sizes(void **state)
{
	struct tb_diag d;
	uint64_t v;
	static const struct {
		const char *in;
		uint64_t out;
	} ok[] = {{"1", 1},	      {"1024", 1024},	     {"1k", 1024},	   {"256m", 256ull << 20},
		  {"256M", 256ull << 20}, {"256mb", 256ull << 20}, {"64MiB", 64ull << 20}, {"1.5g", 3ull << 29},
		  {"2t", 2ull << 40},	  {"10b", 10}};
	static const char *const bad[] = {"", "m", "10q", "-1", "1e3", "inf", "nan", "0", " 1",
					  "1 m", "0x10", "1mm", "99999999999t"};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(tb_parse_size(ok[i].in, &v, &d), 0);
		assert_int_equal(v, ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		assert_int_equal(tb_parse_size(bad[i], &v, &d), -EINVAL);
		assert_int_equal(v, 12345); /* untouched on failure */
		assert_true(strstr(d.message, "size") != NULL);
	}
}

static void test_durations_and_cpus(void **state)
{
	struct tb_diag d;
	double v;

	(void)state;
	assert_int_equal(tb_parse_duration("10", &v, &d), 0);
	assert_true(v == 10);
	assert_int_equal(tb_parse_duration("0.25", &v, &d), 0);
	assert_true(v == 0.25);
	assert_int_equal(tb_parse_duration("500ms", &v, &d), 0);
	assert_true(v == 0.5);
	assert_int_equal(tb_parse_duration("2m", &v, &d), 0);
	assert_true(v == 120);
	assert_int_equal(tb_parse_duration("0", &v, &d), 0);
	assert_int_equal(tb_parse_duration("-1", &v, &d), -EINVAL);
	assert_int_equal(tb_parse_duration("1d", &v, &d), -EINVAL);
	assert_int_equal(tb_parse_duration("nan", &v, &d), -EINVAL);
	assert_int_equal(tb_parse_duration("999999h", &v, &d), -EINVAL);
	assert_int_equal(tb_parse_cpus("0.5", &v, &d), 0);
	assert_true(v == 0.5);
	assert_int_equal(tb_parse_cpus("0", &v, &d), -EINVAL);
	assert_true(strstr(d.message, "at least") != NULL);
	assert_int_equal(tb_parse_cpus("2000", &v, &d), -EINVAL);
	assert_int_equal(tb_parse_cpus("1,5", &v, &d), -EINVAL);
}

static void test_ulimits(void **state)
{
	struct tb_diag d;
	uint64_t so, ha;
	int res;

	(void)state;
	assert_int_equal(tb_parse_ulimit("nofile=64:64", &res, &so, &ha, &d), 0);
	assert_int_equal(res, RLIMIT_NOFILE);
	assert_int_equal(so, 64);
	assert_int_equal(ha, 64);
	assert_int_equal(tb_parse_ulimit("nproc=32", &res, &so, &ha, &d), 0);
	assert_int_equal(res, RLIMIT_NPROC);
	assert_int_equal(ha, 32);
	assert_int_equal(tb_parse_ulimit("core=0:unlimited", &res, &so, &ha, &d), 0);
	assert_true(ha == RLIM_INFINITY);
	assert_int_equal(tb_parse_ulimit("nofile=10:5", &res, &so, &ha, &d), -EINVAL);
	assert_int_equal(tb_parse_ulimit("nofile", &res, &so, &ha, &d), -EINVAL);
	assert_int_equal(tb_parse_ulimit("files=1", &res, &so, &ha, &d), -EINVAL);
	assert_int_equal(tb_parse_ulimit("nofile=a:b", &res, &so, &ha, &d), -EINVAL);
	assert_int_equal(tb_parse_ulimit("nofile=-5", &res, &so, &ha, &d), -EINVAL);
	assert_string_equal(tb_ulimit_name(RLIMIT_NOFILE), "nofile");
}

static void test_volumes_and_paths(void **state)
{
	struct tb_diag d;
	char *src = NULL, *dst = NULL, *p = NULL;
	bool rw;

	(void)state;
	assert_int_equal(tb_parse_volume("/data:/in", &src, &dst, &rw, &d), 0);
	assert_string_equal(src, "/data");
	assert_string_equal(dst, "/in");
	assert_false(rw);
	free(src);
	free(dst);
	assert_int_equal(tb_parse_volume("/data://out/./x/:rw", &src, &dst, &rw, &d), 0);
	assert_string_equal(dst, "/out/x");
	assert_true(rw);
	free(src);
	free(dst);
	assert_int_equal(tb_parse_volume("/data:/x/../etc", &src, &dst, &rw, &d), -EINVAL);
	assert_true(strstr(d.message, "..") != NULL);
	assert_int_equal(tb_parse_volume("/data:/", &src, &dst, &rw, &d), -EINVAL);
	assert_int_equal(tb_parse_volume("data:/x", &src, &dst, &rw, &d), -EINVAL);
	assert_int_equal(tb_parse_volume("/data:/x:rx", &src, &dst, &rw, &d), -EINVAL);
	assert_int_equal(tb_parse_volume("/data", &src, &dst, &rw, &d), -EINVAL);
	assert_int_equal(tb_parse_sandbox_path("relative", &p, &d), -EINVAL);
	assert_int_equal(tb_parse_sandbox_path("/a//b/./c", &p, &d), 0);
	assert_string_equal(p, "/a/b/c");
	free(p);
}

static void test_tmpfs_and_user(void **state)
{
	struct tb_diag d;
	char *path = NULL;
	uint64_t size;
	unsigned long flags;
	unsigned mode;
	uid_t u;
	gid_t g;

	(void)state;
	assert_int_equal(tb_parse_tmpfs("/tmp", &path, &size, &flags, &mode, &d), 0);
	assert_string_equal(path, "/tmp");
	assert_int_equal(size, 50ull << 20);
	assert_true(flags & MS_NOEXEC);
	assert_int_equal(mode, 01777);
	free(path);
	assert_int_equal(tb_parse_tmpfs("/w:size=1m,exec,mode=700", &path, &size, &flags, &mode, &d), 0);
	assert_int_equal(size, 1ull << 20);
	assert_false(flags & MS_NOEXEC);
	assert_int_equal(mode, 0700);
	free(path);
	assert_int_equal(tb_parse_tmpfs("/w:suid", &path, &size, &flags, &mode, &d), -EINVAL);
	assert_int_equal(tb_parse_tmpfs("/w:dev", &path, &size, &flags, &mode, &d), -EINVAL);
	assert_int_equal(tb_parse_tmpfs("/w:mode=999", &path, &size, &flags, &mode, &d), -EINVAL);
	assert_int_equal(tb_parse_tmpfs("/w:frobnicate", &path, &size, &flags, &mode, &d), -EINVAL);
	assert_true(strstr(d.message, "frobnicate") != NULL);
	assert_int_equal(tb_parse_user("65534", &u, &g, &d), 0);
	assert_int_equal(u, 65534);
	assert_int_equal(g, 65534);
	assert_int_equal(tb_parse_user("1000:2000", &u, &g, &d), 0);
	assert_int_equal(g, 2000);
	assert_int_equal(tb_parse_user("0", &u, &g, &d), -EINVAL);
	assert_int_equal(tb_parse_user("1000:0", &u, &g, &d), -EINVAL);
	assert_int_equal(tb_parse_user("nobody", &u, &g, &d), -EINVAL);
	assert_int_equal(tb_parse_user("-5", &u, &g, &d), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),		  cmocka_unit_test(test_durations_and_cpus),
		cmocka_unit_test(test_ulimits),		  cmocka_unit_test(test_volumes_and_paths),
		cmocka_unit_test(test_tmpfs_and_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
