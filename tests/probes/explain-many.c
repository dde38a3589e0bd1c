/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe for `tightbox explain` with many distinct denials:
 *   explain-many FIRST N   keyctl(KEYCTL_GET_KEYRING_ID), then syscall(FIRST + i) for i < N
 *                          (numbers no kernel knows when FIRST is large), then keyctl again and
 *                          ptrace(PTRACE_TRACEME); prints how many calls failed with each errno.
 */
#include <errno.h>
#include <linux/keyctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long first = argc > 2 ? atol(argv[1]) : 1000, n = argc > 2 ? atol(argv[2]) : 0;
	long enosys = 0, other = 0, ok = 0;

	printf("keyctl errno=%d\n",
	       syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) < 0 ? errno
											   : 0);
	for (long i = 0; i < n; i++) {
		if (syscall(first + i, 0, 0, 0) == 0)
			ok++;
		else if (errno == ENOSYS)
			enosys++;
		else
			other++;
	}
	printf("many ok=%ld enosys=%ld other=%ld\n", ok, enosys, other);
	printf("keyctl errno=%d\n",
	       syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) < 0 ? errno
											   : 0);
	printf("ptrace errno=%d\n", ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0 ? errno : 0);
	return 0;
}
