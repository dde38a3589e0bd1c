/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe for tests/integration/test_generated_policies.py. "baseline" makes the harmless form of
 * each call the policy filters by argument (so a recording of it allows the syscall); every other
 * mode makes one dangerous call and prints "MODE errno=N" (0 when it succeeded).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int result(const char *mode, long rc)
{
	printf("%s errno=%d\n", mode, rc < 0 ? errno : 0);
	fflush(stdout);
	return 0;
}

/* clone via the raw syscall so the flags reach the kernel exactly as given. */
static long raw_clone(unsigned long flags)
{
	long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "baseline";
	uint64_t hi = 1ULL << 32;
	char c = 'x';
	int fd = open("/dev/null", O_RDWR);
	struct termios t;

	if (!strcmp(mode, "baseline")) {
		int s = socket(AF_UNIX, SOCK_STREAM, 0);

		/* ioctl TCGETS (ENOTTY on /dev/null), fork, an AF_UNIX socket. */
		ioctl(fd, TCGETS, &t);
		raw_clone(0);
		if (s >= 0)
			close(s);
		return result(mode, 0);
	}
	if (!strcmp(mode, "tiocsti"))
		return result(mode, syscall(SYS_ioctl, fd, (unsigned long)TIOCSTI, &c));
	if (!strcmp(mode, "tiocsti-hi"))
		return result(mode, syscall(SYS_ioctl, fd, (unsigned long)(TIOCSTI | hi), &c));
	if (!strcmp(mode, "tioclinux-hi"))
		return result(mode, syscall(SYS_ioctl, fd, (unsigned long)(TIOCLINUX | hi), &c));
	if (!strcmp(mode, "tcgets-hi"))
		return result(mode, syscall(SYS_ioctl, fd, (unsigned long)(TCGETS | hi), &t));
	if (!strcmp(mode, "clone-newuser"))
		return result(mode, raw_clone(CLONE_NEWUSER));
	if (!strcmp(mode, "clone-newns"))
		return result(mode, raw_clone(CLONE_NEWNS));
	if (!strcmp(mode, "fork"))
		return result(mode, raw_clone(0));
	if (!strcmp(mode, "unshare-user"))
		return result(mode, unshare(CLONE_NEWUSER));
	if (!strcmp(mode, "ptrace"))
		return result(mode, ptrace(PTRACE_TRACEME, 0, NULL, NULL));
	if (!strcmp(mode, "mount"))
		return result(mode, mount("none", "/tmp", "tmpfs", 0, NULL));
	if (!strcmp(mode, "socket-packet"))
		return result(mode, socket(AF_PACKET, SOCK_RAW, 0));
	if (!strcmp(mode, "socket-packet-hi"))
		return result(mode,
			      syscall(SYS_socket, (unsigned long)(AF_PACKET | hi), SOCK_RAW, 0));
	if (!strcmp(mode, "socket-alg"))
		return result(mode, socket(AF_ALG, SOCK_SEQPACKET, 0));
	if (!strcmp(mode, "socket-inet"))
		return result(mode, socket(AF_INET, SOCK_STREAM, 0));
	if (!strcmp(mode, "socket-unix"))
		return result(mode, socket(AF_UNIX, SOCK_STREAM, 0));
	fprintf(stderr, "unknown mode %s\n", mode);
	return 2;
}
