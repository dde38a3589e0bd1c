/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe: relative paths and dirfds, then exec. chdir /tmp, create+write "rel-file", unlink it,
 * openat(/usr fd, "lib", O_DIRECTORY), fail to exec /nonexistent/prog, then execve /bin/true.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	char *const argv[] = {"true", NULL}, *const envp[] = {NULL};
	int fd, dir;

	if (chdir("/tmp") != 0)
		return 2;
	fd = open("rel-file", O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "x", 1) != 1 || close(fd) != 0 || unlink("rel-file") != 0)
		return 3;
	dir = open("/usr", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return 4;
	fd = openat(dir, "lib", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 5;
	execve("/nonexistent/prog", argv, envp);
	execve("/bin/true", argv, envp);
	return 6;
}
