/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attack-fileless memfd|execveat: runs code that is on no mount.
 *
 * memfd: copies its own executable into memfd_create() and execs /proc/self/fd/N;
 * execveat: execveat(fd, "", AT_EMPTY_PATH) of an fd (an fexecve). The exec'd copy prints
 * "EXECUTED" and exits 0. When a step is refused it prints "STEP RET ERRNO" and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int refused(const char *step, long r)
{
	printf("%s %ld %d\n", step, r, errno);
	return 1;
}

int main(int argc, char **argv)
{
	char *const child[] = {argv[0], "child", NULL};
	char path[64];
	struct stat st;
	int exe, fd;

	if (argc > 1 && !strcmp(argv[1], "child")) {
		puts("EXECUTED");
		return 0;
	}
	if (argc < 2)
		return 2;
	exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0 || fstat(exe, &st) < 0)
		return refused("open", -1);
	if (!strcmp(argv[1], "execveat")) {
		syscall(SYS_execveat, exe, "", child, environ, AT_EMPTY_PATH);
		return refused("execveat", -1);
	}
	fd = (int)syscall(SYS_memfd_create, "x", 0);
	if (fd < 0)
		return refused("memfd_create", fd);
	if (sendfile(fd, exe, NULL, (size_t)st.st_size) != st.st_size)
		return refused("sendfile", -1);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	execve(path, child, environ);
	return refused("execve", -1);
}
