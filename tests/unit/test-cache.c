/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/cache.c: the index of a key in parts, and the checked mapping of an entry. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/cache.h"

/* The folder every run uses already: the test makes nothing a run would not. */
#define FOLDER "bpf-cache"

static int have_folder(void **state)
{
	char path[320];

	(void)state;
	return tb_cache_entry_path(FOLDER, "x", 1, path, sizeof(path)) < 0 ? -1 : 0;
}

/* A key split anywhere (inside an 8-byte word, into empty parts) has the index of the whole. */
static void test_parts_hash_as_their_concatenation(void **state)
{
	char key[61], whole[320], parts_path[320];

	(void)state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (char)('a' + i * 7 % 26);
	assert_int_equal(tb_cache_entry_path(FOLDER, key, sizeof(key), whole, sizeof(whole)), 0);
	for (size_t a = 0; a <= sizeof(key); a++)
		for (size_t b = a; b <= sizeof(key); b += 5) {
			struct iovec v[3] = {{key, a}, {key + a, b - a}, {key + b, sizeof(key) - b}};

			assert_int_equal(tb_cache_entry_pathv(FOLDER, v, 3, parts_path,
							      sizeof(parts_path)),
					 0);
			assert_string_equal(parts_path, whole);
		}
	/* And another key has another index. */
	key[30] ^= 1;
	assert_int_equal(tb_cache_entry_path(FOLDER, key, sizeof(key), parts_path, sizeof(parts_path)),
			 0);
	assert_string_not_equal(parts_path, whole);
}

static void write_entry(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) < 0, 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_map_checks_the_entry(void **state)
{
	char dir[] = "/tmp/tb-test-cache-XXXXXX", path[64], link[64];
	const char *data;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/entry", dir);
	snprintf(link, sizeof(link), "%s/link", dir);

	write_entry(path, "the entry's bytes", 0600);
	assert_int_equal(tb_cache_map(path, 4096, &data, &len), 0);
	assert_int_equal(len, strlen("the entry's bytes"));
	assert_memory_equal(data, "the entry's bytes", len);
	assert_int_equal(munmap((void *)data, len), 0);

	/* Larger than allowed, readable by others, a symlink: refused, nothing mapped. */
	assert_int_equal(tb_cache_map(path, 4, &data, &len), -EPERM);
	assert_null(data);
	chmod(path, 0644);
	assert_int_equal(tb_cache_map(path, 4096, &data, &len), -EPERM);
	assert_int_equal(len, 0);
	chmod(path, 0600);
	assert_int_equal(symlink(path, link), 0);
	assert_true(tb_cache_map(link, 4096, &data, &len) < 0);
	assert_null(data);

	/* Empty: success with nothing mapped. */
	write_entry(path, "", 0600);
	assert_int_equal(tb_cache_map(path, 4096, &data, &len), 0);
	assert_null(data);
	assert_int_equal(len, 0);
	assert_int_equal(tb_cache_map("/nonexistent/entry", 4096, &data, &len), -ENOENT);

	unlink(link);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_map_checks_the_entry),
	};
	const struct CMUnitTest folder_tests[] = {
	    cmocka_unit_test(test_parts_hash_as_their_concatenation),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	if (have_folder(NULL) < 0) {
		/* Not root and no XDG_RUNTIME_DIR: no cache folder to name entries in. */
		fprintf(stderr, "skipped: no cache folder (needs root or XDG_RUNTIME_DIR)\n");
		return r;
	}
	return r | cmocka_run_group_tests(folder_tests, NULL, NULL);
}
