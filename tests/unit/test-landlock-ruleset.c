/* SPDX-License-Identifier: Apache-2.0 */
/* The Landlock ruleset reader and writer (core/landlock-ruleset.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/landlock-ruleset.h"
#include "core/internal.h"

static const char good[] =
    "{\"format\": \"tightbox-landlock\", \"version\": 1,\n"
    " \"handled_access_fs\": [\"all\"],\n"
    " \"rules\": [{\"path\": \"/usr\", \"access\": [\"read\", \"execute\"]},\n"
    "           {\"path\": \"/tmp\", \"access\": [\"read\", \"write\"]}],\n"
    " \"net\": {\"restrict\": true, \"connect_tcp\": [443, 80]},\n"
    " \"scope\": [\"signal\"]}\n";

static void test_parse_good(void **state)
{
	struct tb_ll_ruleset *rs = NULL;
	struct tb_diag d;

	assert_int_equal(tb_ll_ruleset_parse(good, strlen(good), "good.json", &rs, &d), 0);
	assert_int_equal(rs->handled_fs, TB_LL_FS_ALL);
	assert_int_equal(rs->n_rules, 2);
	/* Sorted by path whatever the input order. */
	assert_string_equal(rs->rules[0].path, "/tmp");
	assert_int_equal(rs->rules[0].access, TB_LL_FS_READ | TB_LL_FS_WRITE);
	assert_string_equal(rs->rules[1].path, "/usr");
	assert_int_equal(rs->rules[1].access, TB_LL_FS_READ | TB_LL_FS_EXECUTE);
	assert_true(rs->restrict_net);
	assert_int_equal(rs->n_connect_ports, 2);
	assert_int_equal(rs->n_bind_ports, 0);
	assert_true(rs->scope_signal);
	assert_false(rs->scope_abstract_unix);
	tb_ll_ruleset_free(rs);
}

/* Write, read back, write again: the two outputs are byte-identical and the model survives. */
static void test_roundtrip(void **state)
{
	struct tb_ll_ruleset *rs = NULL, *back = NULL;
	char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	struct tb_diag d;
	FILE *f;

	assert_int_equal(tb_ll_ruleset_parse(good, strlen(good), "good.json", &rs, &d), 0);
	f = open_memstream(&a, &alen);
	assert_int_equal(tb_ll_ruleset_write(rs, f), 0);
	fclose(f);
	assert_non_null(strstr(a, "\"read_file\""));
	assert_null(strstr(a, "\"read\""));
	assert_int_equal(tb_ll_ruleset_parse(a, alen, "mem", &back, &d), 0);
	f = open_memstream(&b, &blen);
	assert_int_equal(tb_ll_ruleset_write(back, f), 0);
	fclose(f);
	assert_string_equal(a, b);
	assert_int_equal(back->n_rules, rs->n_rules);
	assert_int_equal(back->rules[1].access, rs->rules[1].access);
	assert_int_equal(back->connect_ports[0], 80);
	tb_ll_ruleset_free(rs);
	tb_ll_ruleset_free(back);
	free(a);
	free(b);
}

static void test_add_merges(void **state)
{
	struct tb_ll_ruleset *rs = tb_ll_ruleset_new();

	assert_non_null(rs);
	assert_int_equal(tb_ll_ruleset_add(rs, "/b", TB_LL_FS_READ_FILE), 0);
	assert_int_equal(tb_ll_ruleset_add(rs, "/a", TB_LL_FS_EXECUTE), 0);
	assert_int_equal(tb_ll_ruleset_add(rs, "/b", TB_LL_FS_READ_DIR), 0);
	assert_int_equal(rs->n_rules, 2);
	assert_string_equal(rs->rules[0].path, "/a");
	assert_int_equal(rs->rules[1].access, TB_LL_FS_READ);
	tb_ll_ruleset_free(rs);
	tb_ll_ruleset_free(NULL);
}

struct bad_case {
	const char *text, *where, *message;
	int line;
};

static void test_bad_input(void **state)
{
	static const struct bad_case cases[] = {
	    {"{\"format\": \"tightbox-landlock\",\n \"version\": 1,,}", "", "", 2},
	    {"[]", "", "JSON object", 0},
	    {"{\"format\": \"x\", \"version\": 1}", "format", "tightbox-landlock", 0},
	    {"{\"format\": \"tightbox-landlock\", \"version\": 2}", "version", "version", 0},
	    {"{\"format\": \"tightbox-landlock\", \"version\": 1, \"handled_access_fs\": "
	     "[\"read\"],"
	     " \"rules\": [{\"path\": \"usr\", \"access\": [\"read\"]}]}",
	     "rules[0].path", "absolute", 0},
	    {"{\"format\": \"tightbox-landlock\", \"version\": 1, \"handled_access_fs\": "
	     "[\"read\"],"
	     " \"rules\": [{\"path\": \"/usr/../etc\", \"access\": [\"read\"]}]}",
	     "rules[0].path", "..", 0},
	    {"{\"format\": \"tightbox-landlock\", \"version\": 1, \"handled_access_fs\": "
	     "[\"read\"],"
	     " \"rules\": [{\"path\": \"/usr\", \"access\": [\"read\", \"fly\"]}]}",
	     "rules[0].access[1]", "fly", 0},
	    {"{\"format\": \"tightbox-landlock\", \"version\": 1, \"handled_access_fs\": "
	     "[\"read\"],"
	     " \"rules\": [{\"path\": \"/usr\", \"access\": [\"execute\"]}]}",
	     "rules[0].access", "handled_access_fs", 0},
	    {"{\"format\": \"tightbox-landlock\", \"version\": 1, \"handled_access_fs\": [],"
	     " \"rules\": [], \"net\": {\"restrict\": true, \"bind_tcp\": [70000]}}",
	     "net.bind_tcp[0]", "port", 0},
	    {"{\"format\": \"tightbox-landlock\", \"version\": 1, \"handled_access_fs\": [],"
	     " \"rules\": [], \"colour\": 1}",
	     "colour", "unknown key", 0},
	    {"{\"format\": \"tightbox-landlock\", \"version\": 1, \"handled_access_fs\": "
	     "[\"read\"],"
	     " \"rules\": [{\"path\": \"/a\", \"access\": []}, {\"path\": \"/a\", \"access\": "
	     "[]}]}",
	     "rules[1].path", "duplicate", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tb_ll_ruleset *rs = (struct tb_ll_ruleset *)0x1;
		struct tb_diag d;

		tb_diag_clear(&d);
		assert_int_equal(
		    tb_ll_ruleset_parse(cases[i].text, strlen(cases[i].text), "bad.json", &rs, &d),
		    -EINVAL);
		/* Output untouched on failure. */
		assert_ptr_equal(rs, (struct tb_ll_ruleset *)0x1);
		assert_string_equal(d.file, "bad.json");
		assert_string_equal(d.where, cases[i].where);
		if (!strstr(d.message, cases[i].message))
			fail_msg("case %zu: message '%s' lacks '%s'", i, d.message,
				 cases[i].message);
		if (cases[i].line)
			assert_int_equal(d.line, cases[i].line);
	}
}

static void test_load_missing_and_empty(void **state)
{
	struct tb_ll_ruleset *rs = NULL;
	char path[] = "/tmp/tb-test-ll-XXXXXX";
	struct tb_diag d;
	int fd;

	assert_int_equal(tb_ll_ruleset_load("/nonexistent/ll.json", &rs, &d), -ENOENT);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(tb_ll_ruleset_load(path, &rs, &d), -EINVAL);
	assert_non_null(strstr(d.message, "empty"));
	assert_null(rs);
	unlink(path);
}

/* Too many rules are refused before any is checked (the duplicate check compares each path with
 * every earlier one: 100000 rules took a minute); the largest accepted ruleset still reads. */
static void test_too_many_rules(void **state)
{
	const char *head = "{\"format\": \"tightbox-landlock\", \"version\": 1, "
			   "\"handled_access_fs\": [\"read\"], \"rules\": [";
	size_t cap = strlen(head) + (TB_LL_MAX_RULES + 1) * 48 + 8;
	char *text = malloc(cap);

	(void)state;
	assert_non_null(text);
	for (int n = TB_LL_MAX_RULES + 1; n >= TB_LL_MAX_RULES; n--) {
		struct tb_ll_ruleset *rs = (struct tb_ll_ruleset *)0x1;
		struct tb_diag d;
		size_t len = (size_t)sprintf(text, "%s", head);

		for (int i = 0; i < n; i++)
			len += (size_t)sprintf(text + len, "{\"path\": \"/p%d\", \"access\": []},", i);
		text[len - 1] = ']';
		text[len++] = '}';
		tb_diag_clear(&d);
		if (n > TB_LL_MAX_RULES) {
			assert_int_equal(tb_ll_ruleset_parse(text, len, "big.json", &rs, &d), -EINVAL);
			assert_ptr_equal(rs, (struct tb_ll_ruleset *)0x1);
			assert_string_equal(d.where, "rules");
			assert_non_null(strstr(d.message, "4097 rules, more than 4096"));
		} else {
			assert_int_equal(tb_ll_ruleset_parse(text, len, "big.json", &rs, &d), 0);
			tb_ll_ruleset_free(rs);
		}
	}
	free(text);
}

static void test_access_names(void **state)
{
	assert_string_equal(tb_ll_access_name(TB_LL_FS_EXECUTE), "execute");
	assert_string_equal(tb_ll_access_name(TB_LL_FS_IOCTL_DEV), "ioctl_dev");
	assert_null(tb_ll_access_name(TB_LL_FS_READ));
	assert_null(tb_ll_access_name(1ULL << 40));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_add_merges),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_load_missing_and_empty),
	    cmocka_unit_test(test_too_many_rules),
		cmocka_unit_test(test_access_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
