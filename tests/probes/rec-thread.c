/* SPDX-License-Identifier: Apache-2.0 */
/* Probe: a pthread (clone3) that calls prctl(PR_GET_NAME) and creates an AF_UNIX socket. */
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static void *worker(void *arg)
{
	char name[16];
	int fd;

	if (prctl(PR_GET_NAME, name) != 0)
		return (void *)1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return (void *)2;
	close(fd);
	return NULL;
}

int main(void)
{
	pthread_t th;
	void *res;

	if (pthread_create(&th, NULL, worker, NULL) != 0 || pthread_join(th, &res) != 0)
		return 2;
	printf("thread %s\n", res ? "failed" : "ok");
	return res ? 1 : 0;
}
