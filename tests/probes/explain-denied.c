/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe for `tightbox explain`: makes calls a sandbox profile denies and prints what it got, so a
 * test can check that the program sees the same thing under `explain` as under plain `run`.
 *   explain-denied            ptrace(PTRACE_TRACEME), keyctl(KEYCTL_GET_KEYRING_ID), mount(tmpfs)
 *   explain-denied trap       keyctl with a SIGSYS handler: prints the siginfo seccomp gave
 *   explain-denied int80      getpid through the i386 entry (int 0x80)
 *   explain-denied path FILE  openat(FILE, O_WRONLY|O_CREAT)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *what, long rc)
{
	printf("%s rc=%ld errno=%d\n", what, rc, rc < 0 ? errno : 0);
	fflush(stdout);
}

static volatile sig_atomic_t got_code = -1, got_nr = -1, got_errno = -1;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	got_code = si->si_code;
	got_nr = si->si_syscall;
	got_errno = si->si_errno;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "all";

	if (!strcmp(mode, "all")) {
		errno = 0;
		report("ptrace", ptrace(PTRACE_TRACEME, 0, 0, 0));
		errno = 0;
		report("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
		errno = 0;
		report("mount", mount("none", "/mnt", "tmpfs", MS_NOSUID | MS_NODEV, NULL));
		return 0;
	}
	if (!strcmp(mode, "trap")) {
		struct sigaction sa;
		long rc;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_sigsys;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSYS, &sa, NULL);
		errno = 0;
		rc = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
		printf("keyctl rc=%ld errno=%d sigsys_code=%d sigsys_nr=%d sigsys_errno=%d\n", rc,
		       rc < 0 ? errno : 0, (int)got_code, (int)got_nr, (int)got_errno);
		return 0;
	}
	if (!strcmp(mode, "int80")) {
		long rc;

		/* i386 getpid is 20. */
		__asm__ volatile("int $0x80" : "=a"(rc) : "a"(20L) : "memory");
		printf("int80-getpid rc=%ld\n", rc);
		return 0;
	}
	if (!strcmp(mode, "path") && argc > 2) {
		errno = 0;
		report("openat", syscall(SYS_openat, AT_FDCWD, argv[2], O_WRONLY | O_CREAT, 0600));
		return 0;
	}
	fprintf(stderr, "usage: explain-denied [all|trap|int80|path FILE]\n");
	return 2;
}
