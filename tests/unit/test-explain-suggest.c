/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tb_explain_suggest(): the smallest change explain proposes is never unsafe (issue 9 item 4).
 * Before the fix it proposed `ALLOW clone if a0 == 0x10000011` for a refused clone(CLONE_NEWUSER),
 * a plain `ALLOW clone` on a profile without clone rules, clone3, and non-names like nr_1000.
 */
#include <linux/audit.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/dangerous.h"
#include "core/profile.h"
#include "tracer/explain.h"
#include "tracer/internal.h"

/* A profile with clone's EPERM guards and conditional allow (as generate writes) and prctl
 * allowed for one option only. */
static const char *filtered_profile =
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,"
    " \"architectures\": [\"SCMP_ARCH_X86_64\"], \"syscalls\": ["
    " {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1, \"args\": "
    "[{\"index\": 0,"
    "  \"value\": 268435456, \"valueTwo\": 268435456, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
    " {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0,"
    "  \"value\": 2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
    " {\"names\": [\"prctl\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0,"
    "  \"value\": 15, \"op\": \"SCMP_CMP_EQ\"}]},"
    " {\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"}]}";
static const char *bare_profile =
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, \"syscalls\": ["
    " {\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"}]}";

struct report {
	struct tb_explain_report *rep;
	struct tb_profile *p;
};

static struct tb_explain_report *new_report(void)
{
	struct tb_explain_report *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->denials = calloc(16, sizeof(*r->denials));
	assert_non_null(r->denials);
	return r;
}

static void deny(struct tb_explain_report *r, const char *name, uint64_t a0, uint64_t a1,
		 uint32_t data)
{
	struct tb_explain_denial *d = &r->denials[r->n_denials++];

	d->name = strdup(name);
	d->arch = "x86_64";
	d->audit_arch = AUDIT_ARCH_X86_64;
	d->data = data;
	d->count = 1;
	d->n_variants = 1;
	d->variants[0].args[0] = a0;
	d->variants[0].args[1] = a1;
	d->variants[0].count = 1;
	assert_int_equal(tb_explain_decode(0, name, d->variants[0].args, &d->variants[0].decoded),
			 0);
	d->dangerous = tb_dangerous_lookup(name);
}

static json_t *suggest(struct tb_explain_report *r, const char *profile)
{
	struct tb_profile *p = NULL;
	struct tb_diag dg;
	json_t *j = NULL;

	tb_diag_clear(&dg);
	assert_int_equal(tb_profile_parse(profile, strlen(profile), "p.json", &p, &dg), 0);
	assert_int_equal(tb_explain_suggest(r, p), 0);
	tb_profile_free(p);
	if (r->suggestion) {
		j = json_loads(r->suggestion, 0, NULL);
		assert_non_null(j);
	}
	return j;
}

static bool warned(const struct tb_explain_report *r, const char *part)
{
	for (size_t i = 0; i < r->n_warnings; i++)
		if (strstr(r->warnings[i], part))
			return true;
	return false;
}

/* Fails naming the first of @parts (NULL-terminated) that no warning of @r contains. */
static void assert_warned(const struct tb_explain_report *r, const char *const *parts)
{
	for (; *parts; parts++)
		if (!warned(r, *parts))
			fail_msg("no warning contains \"%s\"", *parts);
}

/* Every rule of @s naming @name; fails on an unconditional one when @no_plain. */
static size_t rules_for(json_t *s, const char *name, bool no_plain, json_t **first)
{
	size_t i, n = 0;
	json_t *rule;

	*first = NULL;
	json_array_foreach(s, i, rule)
	{
		size_t k;
		json_t *v;

		json_array_foreach(json_object_get(rule, "names"), k,
				   v) if (!strcmp(json_string_value(v), name))
		{
			if (no_plain && json_array_size(json_object_get(rule, "args")) == 0)
				fail_msg("unconditional allow suggested for %s", name);
			if (!n++)
				*first = rule;
		}
	}
	return n;
}

static void test_never_namespace_flags(void **state)
{
	struct tb_explain_report *r = new_report();
	json_t *s;

	deny(r, "clone", CLONE_NEWUSER | SIGCHLD, 0, 1);
	s = suggest(r, filtered_profile);
	assert_null(s); /* nothing is safe to add */
	assert_true(warned(r, "CLONE_NEWUSER is a dangerous argument value"));
	tb_explain_report_free(r);
	/* Same on a profile without any clone rule: no plain `ALLOW clone` either. */
	r = new_report();
	deny(r, "clone", CLONE_NEWUSER | SIGCHLD, 0, 38);
	assert_null(suggest(r, bare_profile));
	tb_explain_report_free(r);
}

static void test_clone_only_without_namespaces(void **state)
{
	struct tb_explain_report *r = new_report();
	json_t *s, *rule, *arg;

	deny(r, "clone", CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 38);
	s = suggest(r, bare_profile);
	assert_non_null(s);
	assert_int_equal(rules_for(s, "clone", true, &rule), 1);
	arg = json_array_get(json_object_get(rule, "args"), 0);
	assert_string_equal(json_string_value(json_object_get(arg, "op")), "SCMP_CMP_MASKED_EQ");
	assert_int_equal(json_integer_value(json_object_get(arg, "value")), 0x7E020000);
	assert_int_equal(json_integer_value(json_object_get(arg, "valueTwo")), 0);
	json_decref(s);
	tb_explain_report_free(r);
}

static void test_never_clone3_nonnames_dangerous(void **state)
{
	struct tb_explain_report *r = new_report();

	deny(r, "clone3", 0, 88, 38);
	deny(r, "nr_1000", 0, 0, 38);
	deny(r, "ptrace", 0, 0, 1);
	deny(r, "personality", 0x0400000, 0, 38);
	deny(r, "ioctl", 0, 0x5412, 1); /* TIOCSTI */
	deny(r, "socket", 16, 3, 1);	/* AF_NETLINK */
	assert_null(suggest(r, bare_profile));
	assert_warned(r, (const char *const[]){"clone3 must keep failing with ENOSYS",
					       "nr_1000 was denied; not suggested",
					       "ptrace was denied: that is the profile doing its job",
					       "personality was denied",
					       "TIOCSTI is a dangerous argument value",
					       "AF_NETLINK is a dangerous argument value", NULL});
	tb_explain_report_free(r);
}

static void test_argument_rules_stay_conditional(void **state)
{
	struct tb_explain_report *r = new_report();
	json_t *s, *rule, *arg;

	deny(r, "prctl", 38, 1, 38);	      /* PR_SET_NO_NEW_PRIVS: prctl has argument rules */
	deny(r, "ioctl", 1, 0x100005401, 38); /* TCGETS with high bits: masked as the kernel does */
	deny(r, "socket", 2, 1, 38);	      /* AF_INET */
	deny(r, "sigaltstack", 0, 0, 38);     /* no argument rules: plain */
	s = suggest(r, filtered_profile);
	assert_non_null(s);
	assert_int_equal(rules_for(s, "prctl", true, &rule), 1);
	arg = json_array_get(json_object_get(rule, "args"), 0);
	assert_int_equal(json_integer_value(json_object_get(arg, "index")), 0);
	assert_int_equal(json_integer_value(json_object_get(arg, "value")), 38);
	assert_int_equal(rules_for(s, "ioctl", true, &rule), 1);
	arg = json_array_get(json_object_get(rule, "args"), 0);
	assert_int_equal(json_integer_value(json_object_get(arg, "index")), 1);
	assert_int_equal(json_integer_value(json_object_get(arg, "value")), 0xffffffff);
	assert_int_equal(json_integer_value(json_object_get(arg, "valueTwo")), 0x5401);
	assert_int_equal(rules_for(s, "socket", true, &rule), 1);
	assert_int_equal(rules_for(s, "sigaltstack", false, &rule), 1);
	assert_int_equal(json_array_size(json_object_get(rule, "args")), 0);
	json_decref(s);
	tb_explain_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_never_namespace_flags),
	    cmocka_unit_test(test_clone_only_without_namespaces),
	    cmocka_unit_test(test_never_clone3_nonnames_dangerous),
	    cmocka_unit_test(test_argument_rules_stay_conditional),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
