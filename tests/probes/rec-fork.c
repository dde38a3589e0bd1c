/* SPDX-License-Identifier: Apache-2.0 */
/* Probe: fork; the child makes and removes /tmp/rec-fork-dir and fails to open /nonexistent/x. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 2;
	if (pid == 0) {
		if (mkdir("/tmp/rec-fork-dir", 0700) != 0 || rmdir("/tmp/rec-fork-dir") != 0)
			_exit(3);
		if (open("/nonexistent/x", O_RDONLY) >= 0)
			_exit(4);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 5;
	printf("fork %d\n", WEXITSTATUS(status));
	return WEXITSTATUS(status);
}
