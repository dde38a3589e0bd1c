/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/strv.c: NULL-terminated string vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/strv.h"

static void test_null_is_empty(void **state)
{
	char *s;

	(void)state;
	assert_int_equal(tb_strv_len(NULL), 0);
	assert_false(tb_strv_has(NULL, "x"));
	tb_strv_free(NULL);
	s = tb_strv_join(NULL, ", ");
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

static void test_add_sorted_keeps_order_and_uniqueness(void **state)
{
	static const char *const in[] = {"read", "close", "write", "accept", "close", "zzz", "read",
					 "mmap", "accept"};
	static const char *const want[] = {"accept", "close", "mmap", "read", "write", "zzz"};
	char **v = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		assert_int_equal(tb_strv_add_sorted(&v, in[i]), 0);
	assert_int_equal(tb_strv_len(v), sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(v[i], want[i]);
	assert_null(v[sizeof(want) / sizeof(want[0])]);
	assert_true(tb_strv_has(v, "mmap"));
	assert_false(tb_strv_has(v, "mma"));
	tb_strv_free(v);
}

static void test_add_sorted_many(void **state)
{
	char **v = NULL, name[16];

	(void)state;
	/* Descending insertions: every one lands at the front (the binary search's edge). */
	for (int i = 999; i >= 0; i--) {
		snprintf(name, sizeof(name), "n%04d", i);
		assert_int_equal(tb_strv_add_sorted(&v, name), 0);
	}
	assert_int_equal(tb_strv_len(v), 1000);
	for (size_t i = 1; i < 1000; i++)
		assert_true(strcmp(v[i - 1], v[i]) < 0);
	tb_strv_free(v);
}

static void test_add_copies_and_appends(void **state)
{
	char buf[8] = "b";
	char **v = NULL;

	(void)state;
	assert_int_equal(tb_strv_add(&v, "z"), 0);
	assert_int_equal(tb_strv_add(&v, buf), 0);
	assert_int_equal(tb_strv_add(&v, "z"), 0); /* plain add keeps duplicates and order */
	buf[0] = 'q';                              /* the vector holds copies */
	assert_int_equal(tb_strv_len(v), 3);
	assert_string_equal(v[0], "z");
	assert_string_equal(v[1], "b");
	assert_string_equal(v[2], "z");
	tb_strv_free(v);
}

static void test_addf_says_each_thing_once(void **state)
{
	char **v = NULL;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tb_strv_addf(&v, "arch %s: %d names", "aarch64", 7), 0);
		assert_int_equal(tb_strv_addf(&v, "arch %s: %d names", "x86_64", i), 0);
	}
	assert_int_equal(tb_strv_len(v), 4);
	assert_string_equal(v[0], "arch aarch64: 7 names");
	assert_string_equal(v[1], "arch x86_64: 0 names");
	assert_string_equal(v[3], "arch x86_64: 2 names");
	tb_strv_free(v);
}

static void test_join(void **state)
{
	char **v = NULL, *s;

	(void)state;
	assert_int_equal(tb_strv_add(&v, "a"), 0);
	s = tb_strv_join(v, ", ");
	assert_string_equal(s, "a");
	free(s);
	assert_int_equal(tb_strv_add(&v, ""), 0);
	assert_int_equal(tb_strv_add(&v, "ccc"), 0);
	s = tb_strv_join(v, ", ");
	assert_string_equal(s, "a, , ccc");
	free(s);
	s = tb_strv_join(v, "");
	assert_string_equal(s, "accc");
	free(s);
	tb_strv_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_is_empty),
		cmocka_unit_test(test_add_sorted_keeps_order_and_uniqueness),
		cmocka_unit_test(test_add_sorted_many),
		cmocka_unit_test(test_add_copies_and_appends),
		cmocka_unit_test(test_addf_says_each_thing_once),
		cmocka_unit_test(test_join),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
