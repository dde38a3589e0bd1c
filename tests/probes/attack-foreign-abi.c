/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attack-foreign-abi int80|x32: makes getpid() through a foreign syscall ABI of an x86_64 process.
 *
 * int80: the i386 entry (`int $0x80`, eax = 20 is getpid there), which a filter that only checks
 * x86_64 numbers would misread (20 is writev on x86_64). x32: the x86_64 number with bit 30 set.
 * A correct filter kills the process (architecture check) or denies the call; the probe prints
 * "RET ERRNO" if it survives, so the test sees exactly what happened.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long int80_getpid(void)
{
#if defined(__x86_64__)
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return ret;
#else
	return -ENOSYS;
#endif
}

int main(int argc, char **argv)
{
	long r;
	int err = 0;

	if (argc != 2)
		return 2;
	printf("start %d\n", (int)getpid());
	fflush(stdout);
	if (!strcmp(argv[1], "int80")) {
		r = int80_getpid();
		if (r < 0 && r > -4096) {
			err = (int)-r;
			r = -1;
		}
	} else if (!strcmp(argv[1], "x32")) {
		errno = 0;
		r = syscall(SYS_getpid | 0x40000000L);
		err = r < 0 ? errno : 0;
	} else {
		return 2;
	}
	printf("%s %ld %d\n", argv[1], r, err);
	return 0;
}
