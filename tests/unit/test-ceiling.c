/* SPDX-License-Identifier: Apache-2.0 */
/* The recording ceiling (tracer/ceiling.h): what it refuses, and that its filter builds. */
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/personality.h>

#include <cmocka.h>

#include "tracer/ceiling.h"

#define ALL (TB_CEILING_DANGEROUS | TB_CEILING_LISTENER)

static bool refuses(unsigned parts, const char *name, uint64_t a0, uint64_t a1, uint64_t a4)
{
	const uint64_t args[6] = {a0, a1, 0, 0, a4, 0};

	return tb_ceiling_refuses(parts, name, args);
}

static void test_what_it_refuses(void **state)
{
	(void)state;
	assert_true(refuses(ALL, "keyctl", 0, 0, 0));
	assert_true(refuses(ALL, "io_uring_setup", 0, 0, 0));
	assert_true(refuses(ALL, "memfd_create", 0, 0, 0));
	assert_false(refuses(ALL, "read", 0, 0, 0));
	assert_false(refuses(ALL, "memfd_secret", 0, 0, 0));
	/* personality: only READ_IMPLIES_EXEC, and never the 0xffffffff query. */
	assert_true(refuses(ALL, "personality", READ_IMPLIES_EXEC, 0, 0));
	assert_true(refuses(ALL, "personality", READ_IMPLIES_EXEC | 0x80000000u, 0, 0));
	assert_false(refuses(ALL, "personality", 0xffffffffu, 0, 0));
	assert_false(refuses(ALL, "personality", ADDR_NO_RANDOMIZE, 0, 0));
	/* execveat of an fd, not of a path. */
	assert_true(refuses(ALL, "execveat", 3, 0, AT_EMPTY_PATH));
	assert_false(refuses(ALL, "execveat", AT_FDCWD, 0, 0));
	/* A listener only where asked for. */
	assert_true(refuses(ALL, "seccomp", SECCOMP_SET_MODE_FILTER,
			    SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC, 0));
	assert_false(refuses(TB_CEILING_DANGEROUS, "seccomp", SECCOMP_SET_MODE_FILTER,
			     SECCOMP_FILTER_FLAG_NEW_LISTENER, 0));
	assert_false(refuses(ALL, "seccomp", SECCOMP_SET_MODE_FILTER, 0, 0));
	assert_false(refuses(TB_CEILING_LISTENER, "keyctl", 0, 0, 0));
}

static void test_filter_builds(void **state)
{
	struct sock_fprog prog = {0};

	(void)state;
	assert_int_equal(tb_ceiling_filter(SCMP_ACT_ALLOW, SCMP_ACT_ERRNO(1), ALL, NULL, NULL, &prog), 0);
	assert_true(prog.len > 60);
	free(prog.filter);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_what_it_refuses),
		cmocka_unit_test(test_filter_builds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
