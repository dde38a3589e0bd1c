/* SPDX-License-Identifier: Apache-2.0 */
/* Probe: i386 syscalls from a 64-bit process via int 0x80 (getpid, write), then exit 0. */
#include <asm/unistd_32.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static long int80(long nr, long a, long b, long c)
{
	long ret;

	/* The i386 entry truncates pointers to 32 bits: arguments must live below 4 GiB. */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

int main(void)
{
	char *buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
			 -1, 0);

	if (buf == MAP_FAILED)
		return 2;
	memcpy(buf, "int80 ok\n", 9);
	if (int80(__NR_getpid, 0, 0, 0) <= 0)
		return 3;
	return int80(__NR_write, 1, (long)buf, 9) == 9 ? 0 : 4;
}
