/* SPDX-License-Identifier: Apache-2.0 */
/* Invariants of the arch table (core/arch.c): sorted, unique, and agreeing with libseccomp. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/audit.h>
#include <seccomp.h>

#include "core/arch.h"

static void test_sorted_unique(void **state)
{
	size_t n;
	const struct tb_arch *a = tb_arch_all(&n);

	assert_true(n >= 17);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(a[i].name);
		assert_non_null(a[i].label);
		assert_non_null(a[i].scmp);
		assert_true(a[i].audit_arch != 0);
		if (i && strcmp(a[i - 1].name, a[i].name) >= 0)
			fail_msg("'%s' before '%s' (not sorted or duplicate)", a[i - 1].name, a[i].name);
		for (size_t j = i + 1; j < n; j++) {
			assert_string_not_equal(a[i].label, a[j].label);
			assert_string_not_equal(a[i].scmp, a[j].scmp);
			if (a[i].token)
				assert_int_not_equal(a[i].token, a[j].token);
			/* Two ABIs share an audit arch only when a number bit tells them apart. */
			if (a[i].audit_arch == a[j].audit_arch)
				assert_true(a[i].nr_bit != a[j].nr_bit);
		}
	}
}

static void test_agrees_with_libseccomp(void **state)
{
	size_t n;
	const struct tb_arch *a = tb_arch_all(&n);

	for (size_t i = 0; i < n; i++) {
		char lower[64];
		size_t k;

		/* The OCI name is SCMP_ARCH_ + the upper-cased libseccomp name. */
		assert_memory_equal(a[i].scmp, "SCMP_ARCH_", 10);
		for (k = 0; a[i].scmp[10 + k] && k + 1 < sizeof(lower); k++)
			lower[k] = (char)tolower((unsigned char)a[i].scmp[10 + k]);
		lower[k] = '\0';
		assert_string_equal(lower, a[i].name);
		if (!a[i].token)
			continue; /* newer than the libseccomp we link */
		if (seccomp_arch_resolve_name(a[i].name) != a[i].token)
			fail_msg("%s: libseccomp resolves it to %#x, the table says %#x", a[i].name,
				 seccomp_arch_resolve_name(a[i].name), a[i].token);
		/* libseccomp's tokens are the audit arches, except x32's. */
		if (!a[i].nr_bit)
			assert_int_equal(a[i].token, a[i].audit_arch);
		/* Every real ABI has a read or write that libseccomp can number. */
		assert_true(seccomp_syscall_resolve_name_arch(a[i].token, "write") >= 0 ||
			    seccomp_syscall_resolve_name_arch(a[i].token, "read") >= 0);
		if (a[i].nr_bit)
			assert_true((uint32_t)seccomp_syscall_resolve_name_arch(a[i].token, "write") &
				    a[i].nr_bit);
	}
}

static void test_round_trips(void **state)
{
	size_t n;
	const struct tb_arch *a = tb_arch_all(&n);

	for (size_t i = 0; i < n; i++) {
		assert_ptr_equal(tb_arch_by_name(a[i].name), &a[i]);
		assert_ptr_equal(tb_arch_by_name(a[i].label), &a[i]);
		assert_ptr_equal(tb_arch_by_scmp(a[i].scmp), &a[i]);
		assert_ptr_equal(tb_arch_by_audit(a[i].audit_arch, 1 | a[i].nr_bit), &a[i]);
		if (a[i].token) {
			assert_ptr_equal(tb_arch_by_token(a[i].token), &a[i]);
			assert_string_equal(tb_arch_label(a[i].token), a[i].label);
		}
		if (a[i].goarch)
			assert_true(tb_arch_goarch_known(a[i].goarch));
		if (a[i].goalias)
			assert_true(tb_arch_goarch_known(a[i].goalias));
		if (a[i].parent) {
			const struct tb_arch *p = tb_arch_by_name(a[i].parent);

			assert_non_null(p);
			assert_null(p->parent);
			if (p->token && a[i].token)
				assert_true(tb_arch_is_compat_of(p->token, a[i].token));
		}
	}
	assert_null(tb_arch_by_name("sparc"));
	assert_null(tb_arch_by_scmp("SCMP_ARCH_SPARC"));
	assert_null(tb_arch_by_token(0));
	assert_string_equal(tb_arch_label(0x1234), "unknown");
	assert_false(tb_arch_goarch_known("sparc64"));
}

static void test_x86_family(void **state)
{
	/* The facts every recorder relies on: i386 is the label, x32 is x86_64's number bit. */
	assert_string_equal(tb_arch_label(SCMP_ARCH_X86), "i386");
	assert_string_equal(tb_arch_by_audit(AUDIT_ARCH_I386, 4)->label, "i386");
	assert_string_equal(tb_arch_by_audit(AUDIT_ARCH_X86_64, 1)->label, "x86_64");
	assert_string_equal(tb_arch_by_audit(AUDIT_ARCH_X86_64, TB_ARCH_X32_BIT | 1)->label, "x32");
	assert_int_equal(tb_arch_by_token(SCMP_ARCH_X32)->nr_bit, TB_ARCH_X32_BIT);
	assert_true(tb_arch_is_compat_of(SCMP_ARCH_X86_64, SCMP_ARCH_X86));
	assert_true(tb_arch_is_compat_of(SCMP_ARCH_X86_64, SCMP_ARCH_X32));
	assert_false(tb_arch_is_compat_of(SCMP_ARCH_X86, SCMP_ARCH_X86_64));
	assert_false(tb_arch_is_compat_of(SCMP_ARCH_AARCH64, SCMP_ARCH_X86));
	assert_true(tb_arch_goarch_known("x86")); /* Docker's own profile says so */
	assert_int_equal(tb_arch_by_name("s390x")->clone_flags_index, 1);
	assert_int_equal(tb_arch_by_name("x86_64")->clone_flags_index, 0);
	assert_non_null(tb_arch_native());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sorted_unique),
	    cmocka_unit_test(test_agrees_with_libseccomp),
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_x86_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
