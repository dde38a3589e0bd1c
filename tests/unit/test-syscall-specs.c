/* SPDX-License-Identifier: Apache-2.0 */
/* Invariants of the recorders' spec table (core/syscall-specs.c), in the way of systemd's tests of
 * its syscall groups: sorted, unique, every name a syscall, every index a real argument. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <seccomp.h>

#include "core/arch.h"
#include "core/recording.h"
#include "core/syscall-specs.h"
#include "core/internal.h"

static void test_sorted_unique(void **state)
{
	size_t n;
	const struct tb_syscall_spec *s = tb_syscall_specs(&n);

	assert_true(n > 40);
	for (size_t i = 1; i < n; i++)
		if (strcmp(s[i - 1].name, s[i].name) >= 0)
			fail_msg("'%s' before '%s' (not sorted or duplicate)", s[i - 1].name, s[i].name);
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(tb_syscall_spec_find(s[i].name), &s[i]);
	assert_null(tb_syscall_spec_find("read"));
	assert_null(tb_syscall_spec_find(""));
}

/* Every name is a syscall on x86_64 or i386 (the recorders' arches); elsewhere it may be absent. */
static void test_names_resolve(void **state)
{
	static const char *const recorded[] = {"x86_64", "x86", "x32"};
	size_t n, n_arches;
	const struct tb_syscall_spec *s = tb_syscall_specs(&n);
	const struct tb_arch *arches = tb_arch_all(&n_arches);

	for (size_t i = 0; i < n; i++) {
		bool found = false;

		for (size_t a = 0; a < 3; a++) {
			const struct tb_arch *arch = tb_arch_by_name(recorded[a]);

			found |= seccomp_syscall_resolve_name_arch(arch->token, s[i].name) >= 0;
		}
		if (!found)
			fail_msg("'%s' is no syscall on x86_64, i386 nor x32", s[i].name);
		/* Where it resolves, the number maps back to the same name. */
		for (size_t a = 0; a < n_arches; a++) {
			int nr;
			char *back;

			if (!arches[a].token)
				continue;
			nr = seccomp_syscall_resolve_name_arch(arches[a].token, s[i].name);
			if (nr < 0)
				continue;
			back = seccomp_syscall_resolve_num_arch(arches[a].token, nr);
			assert_non_null(back);
			assert_string_equal(back, s[i].name);
			free(back);
		}
	}
}

static void check_index(const char *name, int idx)
{
	if (idx != TB_SPEC_NOARG && (idx < 0 || idx > 5))
		fail_msg("%s: argument index %d", name, idx);
}

static void test_shapes(void **state)
{
	size_t n;
	const struct tb_syscall_spec *s = tb_syscall_specs(&n);

	for (size_t i = 0; i < n; i++) {
		const struct tb_syscall_spec *x = &s[i];

		assert_true(x->argmask < 64);
		assert_int_equal(x->lo32 & ~x->argmask, 0); /* only recorded args are cut */
		check_index(x->name, x->flags_arg);
		check_index(x->name, x->fd_arg);
		for (int p = 0; p < 2; p++) {
			check_index(x->name, x->path[p].path);
			check_index(x->name, x->path[p].dirfd);
			if (x->path[p].path == TB_SPEC_NOARG)
				assert_int_equal(x->path[p].dirfd, TB_SPEC_NOARG);
			else if (x->path[p].dirfd != TB_SPEC_NOARG)
				assert_int_not_equal(x->path[p].dirfd, x->path[p].path);
		}
		switch (x->kind) {
		case TB_SPEC_ARGS:
			assert_true(x->argmask != 0);
			assert_int_equal(x->path[0].path, TB_SPEC_NOARG);
			break;
		case TB_SPEC_CLONE3:
			assert_int_equal(x->argmask, 0);
			assert_string_equal(tb_syscall_spec_arg_key(x, 0), "flags");
			break;
		case TB_SPEC_PATH:
		case TB_SPEC_EXEC:
			assert_true(x->path[0].path != TB_SPEC_NOARG);
			assert_true(x->path[0].op != 0);
			assert_true(x->path[1].path == TB_SPEC_NOARG || x->path[1].op != 0);
			break;
		case TB_SPEC_OPEN:
		case TB_SPEC_OPENAT2:
			assert_true(x->path[0].path != TB_SPEC_NOARG);
			assert_true(x->flags_arg != TB_SPEC_NOARG);
			break;
		case TB_SPEC_FD:
		case TB_SPEC_MMAP:
			assert_true(x->fd_arg != TB_SPEC_NOARG);
			assert_true(x->path[0].op != 0);
			break;
		default:
			fail_msg("%s: kind %d", x->name, x->kind);
		}
	}
}

/* The specs the bpf copy lacked (issue 14): both recorders now read this table. */
static void test_has_former_gaps(void **state)
{
	static const char *const names[] = {"link",	"linkat", "symlink",	"symlinkat",
					    "mknod",	"mknodat", "getdents",	"getdents64",
					    "oldstat",	"oldlstat"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_non_null(tb_syscall_spec_find(names[i]));
	assert_int_equal(tb_syscall_spec_find("renameat2")->path[1].path, 3);
	assert_int_equal(tb_syscall_spec_find("renameat2")->path[1].dirfd, 2);
	assert_true(tb_syscall_spec_find("readlink")->flags & TB_SPEC_EINVAL_OK);
	assert_true(tb_syscall_spec_find("socket")->flags & TB_SPEC_FAMILY);
	assert_string_equal(tb_syscall_spec_arg_key(tb_syscall_spec_find("ioctl"), 1), "a1");
}

static void test_open_ops(void **state)
{
	assert_int_equal(tb_syscall_spec_open_ops(O_RDONLY), TB_FOP_READ);
	assert_int_equal(tb_syscall_spec_open_ops(O_RDONLY | O_DIRECTORY), TB_FOP_READ);
	assert_int_equal(tb_syscall_spec_open_ops(O_WRONLY | O_CREAT | O_TRUNC),
			 TB_FOP_WRITE | TB_FOP_CREATE);
	assert_int_equal(tb_syscall_spec_open_ops(O_RDWR), TB_FOP_READ | TB_FOP_WRITE);
	assert_int_equal(tb_syscall_spec_open_ops(O_PATH | O_RDWR), TB_FOP_STAT);
	assert_int_equal(tb_syscall_spec_open_ops(O_TMPFILE | O_RDWR),
			 TB_FOP_READ | TB_FOP_WRITE | TB_FOP_CREATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sorted_unique), cmocka_unit_test(test_names_resolve),
	    cmocka_unit_test(test_shapes),	  cmocka_unit_test(test_has_former_gaps),
	    cmocka_unit_test(test_open_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
