/* SPDX-License-Identifier: Apache-2.0 */
/* The dangerous-syscall table's invariants and the audit of the seed's profile. */
#include <errno.h>
#include <seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/audit.h"
#include "core/dangerous.h"

static void test_table_invariants(void **state)
{
	size_t n;
	const struct tb_dangerous *t = tb_dangerous_table(&n);

	assert_true(n > 40);
	for (size_t i = 0; i < n; i++) {
		if (i)
			assert_true(strcmp(t[i - 1].name, t[i].name) < 0); /* sorted and unique */
		assert_true(seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, t[i].name) >= 0 ||
			    seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, t[i].name) >= 0 ||
			    seccomp_syscall_resolve_name_arch(SCMP_ARCH_AARCH64, t[i].name) >= 0);
		assert_true(t[i].reason[0] && t[i].fix[0]);
		assert_ptr_equal(tb_dangerous_lookup(t[i].name), &t[i]);
	}
	assert_null(tb_dangerous_lookup("read"));
	assert_string_equal(tb_severity_name(TB_SEV_HIGH), "high");
}

static const struct tb_finding *find(const struct tb_audit_report *r, const char *rule,
				     const char *subject)
{
	for (size_t i = 0; i < r->n_findings; i++)
		if (!strcmp(r->findings[i].rule, rule) &&
		    (!subject || !strcmp(r->findings[i].subject, subject)))
			return &r->findings[i];
	return NULL;
}

static void test_seed(void **state)
{
	struct tb_profile *p = NULL;
	struct tb_audit_report *r = NULL;
	const struct tb_finding *f;
	struct tb_diag d;
	char path[4096];

	if (seccomp_arch_native() != SCMP_ARCH_X86_64)
		skip();
	snprintf(path, sizeof(path), "%s/tests/fixtures/profiles/seed.json",
		 getenv("TB_SOURCE_DIR") ? getenv("TB_SOURCE_DIR") : ".");
	assert_int_equal(tb_profile_load(path, &p, &d), 0);
	assert_int_equal(tb_audit_run(p, NULL, &r), 0);
	f = find(r, "python-cannot-start", NULL);
	assert_non_null(f);
	assert_non_null(strstr(f->message, "getdents64, newfstatat, pread64"));
	assert_non_null(find(r, "clone-namespaces", "clone"));
	assert_non_null(find(r, "socket-families", "socket"));
	assert_non_null(find(r, "ioctl-tiocsti", "TIOCSTI"));
	assert_non_null(find(r, "errno-breaks-fallback", "clone3"));
	assert_non_null(find(r, "missing-essential", "restart_syscall"));
	f = find(r, "name-not-on-arch", "aarch64");
	assert_non_null(f);
	assert_non_null(strstr(f->message, "arch_prctl"));
	assert_int_equal(r->summary.allowed, 81);
	tb_audit_report_free(r);

	/* The corrected profile is clean. */
	snprintf(path, sizeof(path), "%s/profiles/seed-corrected.json",
		 getenv("TB_SOURCE_DIR") ? getenv("TB_SOURCE_DIR") : ".");
	tb_profile_free(p);
	assert_int_equal(tb_profile_load(path, &p, &d), 0);
	assert_int_equal(tb_audit_run(p, NULL, &r), 0);
	assert_int_equal(r->n_findings, 0);
	tb_audit_report_free(r);
	tb_profile_free(p);
}

static void test_verdict(void **state)
{
	static const char json[] =
		"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"socket\"], "
		"\"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": "
		"\"SCMP_CMP_EQ\"}, {\"index\": 0, \"value\": 2, \"op\": \"SCMP_CMP_EQ\"}]}]}";
	uint64_t a[6] = {2};
	struct tb_profile *p = NULL;
	struct tb_action act;
	struct tb_diag d;

	assert_int_equal(tb_profile_parse(json, sizeof(json) - 1, "v.json", &p, &d), 0);
	assert_int_equal(tb_audit_verdict(p, NULL, "socket", a, &act), 0);
	assert_int_equal(act.kind, TB_ACT_ALLOW);
	a[0] = 16;
	assert_int_equal(tb_audit_verdict(p, NULL, "socket", a, &act), 0);
	assert_int_equal(act.kind, TB_ACT_ERRNO);
	tb_profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_invariants),
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
