/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/profile-diff.c: what `tightbox diff` reports between two profiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/profile-diff.h"
#include "core/profile.h"

static struct tb_profile *parse(const char *json)
{
	struct tb_profile *p = NULL;
	struct tb_diag d;

	assert_int_equal(tb_profile_parse(json, strlen(json), "t.json", &p, &d), 0);
	return p;
}

static struct tb_profile_diff *diff(const char *a, const char *b)
{
	struct tb_profile *pa = parse(a), *pb = parse(b);
	struct tb_profile_diff *d = NULL;

	assert_int_equal(tb_profile_diff(pa, pb, NULL, &d), 0);
	tb_profile_free(pa);
	tb_profile_free(pb);
	return d;
}

static const struct tb_diff_entry *find(const struct tb_profile_diff *d, enum tb_diff_kind k,
					const char *name)
{
	for (size_t i = 0; i < d->n_entries; i++)
		if (d->entries[i].kind == k && !strcmp(d->entries[i].name, name))
			return &d->entries[i];
	return NULL;
}

#define BASE "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, "
/* A profile with default ENOSYS and these rules; a rule for NAMES ("\"read\"") with ACTION. */
#define PROFILE(...) BASE "\"syscalls\": [" __VA_ARGS__ "]}"
#define RULE(names, action, ...) "{\"names\": [" names "], \"action\": \"" action "\"" __VA_ARGS__ "}"
#define Q(name) "\"" name "\""

static void test_same_profile_no_difference(void **state)
{
	const char *p = PROFILE(RULE(Q("read") ", " Q("write"), "SCMP_ACT_ALLOW"));
	/* The same policy spelled differently: split rules, other order. */
	const char *q = PROFILE(RULE(Q("write"), "SCMP_ACT_ALLOW") "," RULE(Q("read"), "SCMP_ACT_ALLOW"));
	struct tb_profile_diff *d = diff(p, q);

	(void)state;
	assert_int_equal(d->n_entries, 0);
	assert_true(d->arch[0] != '\0');
	tb_profile_diff_free(d);
}

static void test_allowed_by_one_only(void **state)
{
	const char *a = PROFILE(RULE(Q("read") ", " Q("write") ", " Q("getpid"), "SCMP_ACT_ALLOW"));
	const char *b = PROFILE(RULE(Q("read") ", " Q("mmap"), "SCMP_ACT_ALLOW"));
	struct tb_profile_diff *d = diff(a, b);
	const struct tb_diff_entry *e;

	(void)state;
	assert_int_equal(d->n_entries, 3);
	e = find(d, TB_DIFF_ONLY_A, "write");
	assert_non_null(e);
	assert_string_equal(e->a, "allow");
	assert_non_null(strstr(e->b, "ENOSYS"));
	assert_non_null(find(d, TB_DIFF_ONLY_A, "getpid"));
	assert_non_null(find(d, TB_DIFF_ONLY_B, "mmap"));
	/* Sorted by kind, then name. */
	assert_int_equal(d->entries[0].kind, TB_DIFF_ONLY_A);
	assert_string_equal(d->entries[0].name, "getpid");
	assert_string_equal(d->entries[1].name, "write");
	assert_int_equal(d->entries[2].kind, TB_DIFF_ONLY_B);
	tb_profile_diff_free(d);
}

static void test_different_denials(void **state)
{
	const char *a = PROFILE(RULE(Q("ptrace"), "SCMP_ACT_ERRNO", ", \"errnoRet\": 1"));
	const char *b = PROFILE(RULE(Q("ptrace"), "SCMP_ACT_KILL_PROCESS"));
	struct tb_profile_diff *d = diff(a, b);
	const struct tb_diff_entry *e = find(d, TB_DIFF_ACTION, "ptrace");

	(void)state;
	assert_non_null(e);
	assert_string_equal(e->a, "errno EPERM");
	assert_string_equal(e->b, "kill-process");
	assert_int_equal(d->n_entries, 1);
	tb_profile_diff_free(d);
}

static void test_different_argument_rules(void **state)
{
#define ARG0_EQ(v) ", \"args\": [{\"index\": 0, \"value\": " v ", \"op\": \"SCMP_CMP_EQ\"}]"
	const char *a = PROFILE(RULE(Q("personality"), "SCMP_ACT_ALLOW", ARG0_EQ("0")));
	const char *b = PROFILE(RULE(Q("personality"), "SCMP_ACT_ALLOW", ARG0_EQ("8")));
	struct tb_profile_diff *d = diff(a, b);
	const struct tb_diff_entry *e = find(d, TB_DIFF_ARGS, "personality");

	(void)state;
	assert_non_null(e);
	assert_non_null(strstr(e->a, "a0"));
	assert_non_null(strstr(e->b, "0x8"));
	assert_int_equal(d->n_entries, 1);
	tb_profile_diff_free(d);
}

static void test_arch_in_one_filter_only(void **state)
{
	const char *a = BASE "\"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"], "
			     "\"syscalls\": []}";
	const char *b = BASE "\"architectures\": [\"SCMP_ARCH_X86_64\"], \"syscalls\": []}";
	struct tb_profile_diff *d = diff(a, b);

	(void)state;
	assert_non_null(find(d, TB_DIFF_ARCH, "i386"));
	tb_profile_diff_free(d);
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(tb_diff_kind_name(TB_DIFF_ONLY_A), "only-a");
	assert_string_equal(tb_diff_kind_name(TB_DIFF_ARCH), "arch");
	assert_string_equal(tb_diff_kind_name((enum tb_diff_kind)99), "unknown");
	tb_profile_diff_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_profile_no_difference),
		cmocka_unit_test(test_allowed_by_one_only),
		cmocka_unit_test(test_different_denials),
		cmocka_unit_test(test_different_argument_rules),
		cmocka_unit_test(test_arch_in_one_filter_only),
		cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
