/* SPDX-License-Identifier: Apache-2.0 */
/* Invariants of the syscall group table (core/syscall-groups.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <seccomp.h>

#include "core/syscall-groups.h"
#include "core/internal.h"

static void test_sorted_unique(void **state)
{
	size_t n;
	const struct tb_syscall_group *g = tb_syscall_groups(&n);

	assert_true(n > 10);
	for (size_t i = 0; i < n; i++) {
		const char *const *l = g[i].syscalls ? g[i].syscalls : g[i].includes;

		assert_non_null(l);
		/* A group is either a leaf or a composite, never both. */
		assert_false(g[i].syscalls && g[i].includes);
		assert_true(g[i].name[0] == '@');
		assert_non_null(g[i].help);
		assert_true(strlen(g[i].help) > 5);
		for (size_t j = 1; l[j - 1] && l[j]; j++)
			if (strcmp(l[j - 1], l[j]) >= 0)
				fail_msg("%s: '%s' before '%s' (not sorted or duplicate)",
					 g[i].name, l[j - 1], l[j]);
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(g[i].name, g[j].name);
	}
}

static void test_names_resolve(void **state)
{
	size_t n;
	const struct tb_syscall_group *g = tb_syscall_groups(&n);

	for (size_t i = 0; i < n; i++)
		for (const char *const *s = g[i].syscalls; s && *s; s++) {
			int x86 = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, *s);
			int a64 = seccomp_syscall_resolve_name_arch(SCMP_ARCH_AARCH64, *s);

			if (x86 < 0 && a64 < 0)
				fail_msg("%s: '%s' is not a syscall on x86_64 nor aarch64",
					 g[i].name, *s);
		}
}

static void test_leaves_disjoint(void **state)
{
	size_t n;
	const struct tb_syscall_group *g = tb_syscall_groups(&n);

	for (size_t i = 0; i < n; i++)
		for (const char *const *s = g[i].syscalls; s && *s; s++)
			if (tb_syscall_group_of(*s) != &g[i])
				fail_msg("'%s' is in %s and %s", *s, tb_syscall_group_of(*s)->name,
					 g[i].name);
}

/* Every include names a group defined in the table, and following includes never loops. */
static int depth_of(const struct tb_syscall_group *g, int depth)
{
	int max = depth;

	if (depth > 8)
		return depth;
	for (const char *const *inc = g->includes; inc && *inc; inc++) {
		const struct tb_syscall_group *sub = tb_syscall_group_lookup(*inc);
		int d;

		if (!sub)
			fail_msg("%s includes unknown group %s", g->name, *inc);
		d = depth_of(sub, depth + 1);
		if (d > max)
			max = d;
	}
	return max;
}

static void test_nesting(void **state)
{
	size_t n;
	const struct tb_syscall_group *g = tb_syscall_groups(&n);

	for (size_t i = 0; i < n; i++)
		assert_true(depth_of(&g[i], 0) <= 8);
	assert_true(tb_syscall_group_contains("@system-service", "openat"));
	assert_true(tb_syscall_group_contains("@known", "ptrace"));
	assert_true(tb_syscall_group_contains("@admin", "mount"));
	assert_false(tb_syscall_group_contains("@system-service", "mount"));
	assert_false(tb_syscall_group_contains("@no-such-group", "read"));
	assert_string_equal(tb_syscall_group_of("read")->name, "@basic-io");
	assert_string_equal(tb_syscall_group_of("socket")->name, "@network-io");
	assert_null(tb_syscall_group_of("no_such_syscall"));
}

/* What Python needs on this machine (FACTS.md) is all in @system-service, nothing in @admin. */
static void test_python_baseline(void **state)
{
	static const char *const needed[] = {
	    "newfstatat", "pread64", "writev",	 "getdents64",	    "clone3", "pipe2",
	    "link",	  "sendto",  "unlinkat", "restart_syscall", "futex",  "rt_sigaction"};

	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		assert_true(tb_syscall_group_contains("@system-service", needed[i]));
		assert_false(tb_syscall_group_contains("@admin", needed[i]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sorted_unique),   cmocka_unit_test(test_names_resolve),
	    cmocka_unit_test(test_leaves_disjoint), cmocka_unit_test(test_nesting),
	    cmocka_unit_test(test_python_baseline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
