/* SPDX-License-Identifier: Apache-2.0 */
/* The profile reader: every malformed case fails with -EINVAL and names where and what. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/profile.h"

struct bad_case {
	const char *json;
	int line, column;  /* expected jansson position, 0 = a JSON path instead */
	const char *where; /* expected JSON path */
	const char *msg;   /* substring of the message */
};

static const struct bad_case bad[] = {
	{"{\"defaultAction\": ", 1, 18, "", "not valid JSON"},
	{"[1]", 0, 0, "", "must be a JSON object"},
	{"{}", 0, 0, "defaultAction", "is required"},
	{"{\"defaultAction\": \"SCMP_ACT_NOPE\"}", 0, 0, "defaultAction", "unknown action \"SCMP_ACT_NOPE\""},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": -1}", 0, 0, "defaultErrnoRet", "out of range"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_VAX\"]}", 0, 0, "architectures[0]", "unknown arch \"SCMP_ARCH_VAX\""},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"X86\"]}]}", 0, 0, "archMap[0].subArchitectures[0]", "unknown arch"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"flags\": [\"SECCOMP_FILTER_FLAG_NOPE\"]}", 0, 0, "flags[0]", "unknown flag"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": {}}", 0, 0, "syscalls", "must be an array"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"]}]}", 0, 0, "syscalls[0].action", "is required"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\", 3], \"action\": \"SCMP_ACT_ALLOW\"}]}", 0, 0, "syscalls[0].names[1]", "must be a string"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}", 0, 0, "syscalls[0].args[0].index", "out of range 0..5"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_FOO\"}]}]}", 0, 0, "syscalls[0].args[0].op", "unknown op \"SCMP_CMP_FOO\""},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": \"1\", \"op\": \"SCMP_CMP_EQ\"}]}]}", 0, 0, "syscalls[0].args[0].value", "non-negative integer"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": [\"CAP_NOPE\"]}}]}", 0, 0, "syscalls[0].includes.caps[0]", "unknown capability"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"excludes\": {\"arches\": [\"vax\"]}}]}", 0, 0, "syscalls[0].excludes.arches[0]", "unknown arch"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": \"four\"}}]}", 0, 0, "syscalls[0].includes.minKernel", "not a kernel version"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"name\": \"read\", \"names\": [\"write\"], \"action\": \"SCMP_ACT_ALLOW\"}]}", 0, 0, "syscalls[0].name", "either"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", \"errno\": \"ENOTANERRNO\"}]}", 0, 0, "syscalls[0].errno", "unknown errno name"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\"], \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\"}]}", 0, 0, "archMap", "both"},
};

static void test_bad_profiles(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tb_profile *p = (struct tb_profile *)0x1;
		struct tb_diag d;

		tb_diag_clear(&d);
		assert_int_equal(tb_profile_parse(bad[i].json, strlen(bad[i].json), "bad.json", &p, &d),
				 -EINVAL);
		/* Output untouched on failure. */
		assert_ptr_equal(p, (struct tb_profile *)0x1);
		assert_string_equal(d.file, "bad.json");
		assert_int_equal(d.line, bad[i].line);
		if (bad[i].column)
			assert_int_equal(d.column, bad[i].column);
		assert_string_equal(d.where, bad[i].where);
		if (!strstr(d.message, bad[i].msg))
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, d.message, bad[i].msg);
	}
}

static void test_full_format(void **state)
{
	static const char json[] =
		"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,"
		" \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"SCMP_ARCH_X86\"]}],"
		" \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"], \"listenerPath\": \"/x\","
		" \"syscalls\": [{\"name\": \"read\", \"action\": \"SCMP_ACT_KILL\"},"
		"  {\"names\": [\"clone\", \"fork\"], \"action\": \"SCMP_ACT_ALLOW\", \"comment\": \"c\","
		"   \"args\": [{\"index\": 0, \"value\": 2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}],"
		"   \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"], \"minKernel\": \"4.8\"}, \"excludes\": {\"arches\": [\"s390\"]}},"
		"  {\"names\": [\"write\"], \"action\": \"SCMP_ACT_ERRNO\", \"errno\": \"EACCES\"}]}";
	struct tb_profile *p = NULL;
	struct tb_diag d;

	assert_int_equal(tb_profile_parse(json, sizeof(json) - 1, "ok.json", &p, &d), 0);
	assert_int_equal(p->default_action.kind, TB_ACT_ERRNO);
	assert_true(p->default_action.has_value);
	assert_int_equal(p->default_action.value, 38);
	assert_true(p->has_arch_map);
	assert_int_equal(p->n_arches, 1);
	assert_string_equal(p->arches[0].sub_arches[0], "SCMP_ARCH_X86");
	assert_int_equal(p->n_rules, 3);
	assert_string_equal(p->rules[0].names[0], "read");
	assert_int_equal(p->rules[0].action.kind, TB_ACT_KILL_THREAD);
	assert_int_equal(p->rules[1].n_names, 2);
	assert_int_equal(p->rules[1].args[0].op, TB_OP_MASKED_EQ);
	assert_int_equal(p->rules[1].args[0].value, 2114060288);
	assert_string_equal(p->rules[1].includes.caps[0], "CAP_SYS_ADMIN");
	assert_string_equal(p->rules[1].includes.min_kernel, "4.8");
	assert_string_equal(p->rules[1].excludes.arches[0], "s390");
	assert_int_equal(p->rules[2].action.value, EACCES);

	/* moby semantics: CAP_SYS_ADMIN required; minKernel compared with the release given. */
	struct tb_compile_opts o = {.kernel_release = "5.10.0"};
	assert_int_equal(tb_profile_rule_applies(&p->rules[1], &o), 0);
	o.caps = 1ull << 21; /* CAP_SYS_ADMIN */
	assert_int_equal(tb_profile_rule_applies(&p->rules[1], &o), 1);
	o.kernel_release = "4.4.0";
	assert_int_equal(tb_profile_rule_applies(&p->rules[1], &o), 0);
	assert_int_equal(tb_profile_rule_applies_on(&p->rules[1], &(struct tb_compile_opts){.caps = 1ull << 21, .kernel_release = "6.1"}, "s390"), 0);
	tb_profile_free(p);
	tb_profile_free(NULL);
}

static void count_warn(void *data, const struct tb_warning *w)
{
	(*(int *)data)++;
}

static void keep_warn(void *data, const struct tb_warning *w)
{
	*(struct tb_warning *)data = *w;
}

static void test_peers_compile(void **state)
{
	const char *peers = getenv("TB_PEERS_DIR");
	const char *files[] = {"docker-default.json", "docker-fixture-conditional_include.json",
			       "docker-fixture-default-old-format.json", "docker-fixture-example.json"};
	char path[4096];
	int tested = 0;

	for (size_t i = 0; i < 5; i++) {
		struct tb_profile *p = NULL;
		struct tb_diag d;
		void *ctx = NULL;
		struct sock_fprog prog = {0};
		int warns = 0;
		struct tb_compile_opts o = {.warn = count_warn, .warn_data = &warns};

		if (i < 4)
			snprintf(path, sizeof(path), "%s/%s", peers ? peers : "tests/fixtures/profiles", files[i]);
		else
			snprintf(path, sizeof(path), "/usr/share/containers/seccomp.json");
		if (access(path, R_OK))
			continue;
		assert_int_equal(tb_profile_load(path, &p, &d), 0);
		assert_int_equal(tb_profile_compile(p, &o, &ctx, &d), 0);
		assert_int_equal(tb_profile_export_bpf(ctx, &prog), 0);
		assert_true(prog.len > 4);
		free(prog.filter);
		tb_profile_ctx_free(ctx);
		tb_profile_free(p);
		tested++;
	}
	if (!tested)
		skip();
}

static void test_unknown_name_warns(void **state)
{
	static const char json[] = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": "
				   "[{\"names\": [\"read\", \"no_such_call\"], \"action\": \"SCMP_ACT_ALLOW\"}]}";
	struct tb_profile *p = NULL;
	struct tb_diag d;
	void *ctx = NULL;
	struct tb_warning last = {0};
	struct tb_compile_opts o = {.warn = keep_warn, .warn_data = &last};

	assert_int_equal(tb_profile_parse(json, sizeof(json) - 1, "u.json", &p, &d), 0);
	assert_int_equal(tb_profile_compile(p, &o, &ctx, &d), 0);
	/* The CLI folds these by kind and subject, not by their text. */
	assert_int_equal(last.kind, TB_WARN_UNKNOWN_SYSCALL);
	assert_string_equal(last.subject, "no_such_call");
	tb_profile_ctx_free(ctx);
	tb_profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_profiles),
		cmocka_unit_test(test_full_format),
		cmocka_unit_test(test_peers_compile),
		cmocka_unit_test(test_unknown_name_warns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
