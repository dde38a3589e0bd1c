/* SPDX-License-Identifier: Apache-2.0 */
/* tb_explain_decode(): symbolic arguments of denied calls (no tracee: pid 0, strings as hex). */
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tracer/explain.h"
#include "tracer/internal.h"

static void check(const char *name, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		  const char *want)
{
	const uint64_t args[6] = {a0, a1, a2, a3, 0, 0};
	char *got = NULL;

	assert_int_equal(tb_explain_decode(0, name, args, &got), 0);
	assert_string_equal(got, want);
	free(got);
}

static void test_flags(void **state)
{
	check("openat", (uint64_t)(int64_t)AT_FDCWD, 0x1000, O_WRONLY | O_CREAT | O_CLOEXEC, 0600,
	      "openat(AT_FDCWD, 0x1000, O_WRONLY|O_CREAT|O_CLOEXEC, 0600)");
	check("openat", 3, 0, O_RDONLY, 0, "openat(3, NULL, O_RDONLY, 0)");
	check("unshare", CLONE_NEWUSER | CLONE_NEWNS, 0, 0, 0, "unshare(CLONE_NEWNS|CLONE_NEWUSER)");
	check("clone", CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0,
	      "clone(CLONE_VM|CLONE_VFORK|SIGCHLD, NULL, NULL, NULL, 0x0)");
	check("socket", AF_INET, SOCK_RAW | SOCK_CLOEXEC, 0, 0,
	      "socket(AF_INET, SOCK_RAW|SOCK_CLOEXEC, 0)");
	check("umount2", 0, MNT_DETACH, 0, 0, "umount2(NULL, MNT_DETACH)");
	check("mount", 0, 0, 0, MS_BIND | MS_REC, "mount(NULL, NULL, NULL, MS_BIND|MS_REC, NULL)");
}

static void test_enums(void **state)
{
	check("ioctl", 0, TIOCSTI, 0x7ffd0000, 0, "ioctl(0, TIOCSTI, 0x7ffd0000)");
	check("ioctl", 1, 0xdead, 0, 0, "ioctl(1, 0xdead, 0x0)");
	check("kill", (uint64_t)-1, SIGKILL, 0, 0, "kill(-1, SIGKILL)");
	check("ptrace", 16, 42, 0, 0, "ptrace(PTRACE_ATTACH, 42, NULL, NULL)");
	check("keyctl", 0, (uint32_t)-3, 0, 0, "keyctl(KEYCTL_GET_KEYRING_ID, -3, 0x0, 0x0, 0x0)");
}

static void test_unknown_syscall_shows_hex_up_to_last_nonzero(void **state)
{
	check("nr_999", 1, 0, 0x20, 0, "nr_999(0x1, 0x0, 0x20)");
	check("sync", 0, 0, 0, 0, "sync()");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_unknown_syscall_shows_hex_up_to_last_nonzero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
