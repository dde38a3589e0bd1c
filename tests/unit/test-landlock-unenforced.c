/* SPDX-License-Identifier: Apache-2.0 */
/* What an older Landlock ABI cannot enforce of a ruleset (runner/landlock.c), the text of the
 * warning `tightbox run` prints on such kernels (Debian 12's 6.1 has ABI 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runner/internal.h"

static void test_builtin_on_abi2(void **state)
{
	char buf[256];

	(void)state;
	tb_landlock_unenforced(NULL, 2, buf, sizeof(buf));
	assert_string_equal(buf, "truncate (ABI 3), ioctl_dev (ABI 5), signal scope (ABI 6), "
				 "abstract_unix_socket scope (ABI 6)");
	tb_landlock_unenforced(NULL, 1, buf, sizeof(buf));
	assert_non_null(strstr(buf, "refer (ABI 2), truncate (ABI 3)"));
}

static void test_builtin_on_abi6_and_later(void **state)
{
	char buf[256] = "x";

	(void)state;
	tb_landlock_unenforced(NULL, 6, buf, sizeof(buf));
	assert_string_equal(buf, "");
	tb_landlock_unenforced(NULL, 7, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void test_only_what_the_ruleset_asks_for(void **state)
{
	struct tb_ll_ruleset rs = {.handled_fs = TB_LL_FS_READ | TB_LL_FS_WRITE_FILE | TB_LL_FS_EXECUTE};
	char buf[256] = "x";

	(void)state;
	tb_landlock_unenforced(&rs, 1, buf, sizeof(buf));
	assert_string_equal(buf, ""); /* ABI 1 rights only: nothing lost */
	rs.restrict_net = true;
	rs.scope_signal = true;
	tb_landlock_unenforced(&rs, 3, buf, sizeof(buf));
	assert_string_equal(buf, "tcp bind/connect rules (ABI 4), signal scope (ABI 6)");
	tb_landlock_unenforced(&rs, 4, buf, sizeof(buf));
	assert_string_equal(buf, "signal scope (ABI 6)");
}

static void test_small_buffer_is_terminated(void **state)
{
	char buf[12];

	(void)state;
	memset(buf, 'z', sizeof(buf));
	tb_landlock_unenforced(NULL, 1, buf, sizeof(buf));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_memory_equal(buf, "refer (ABI ", sizeof(buf) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_builtin_on_abi2),
	    cmocka_unit_test(test_builtin_on_abi6_and_later),
	    cmocka_unit_test(test_only_what_the_ruleset_asks_for),
	    cmocka_unit_test(test_small_buffer_is_terminated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
