/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Calls the glibc functions of one case (argv[1]) so that `tightbox record` shows the syscalls
 * they make; tests/integration/test_scan_libc_table.py checks each recording against the scan's
 * symbol table (scanner/libc-table.c). "none" calls nothing: the probe's own start-up and exit.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *thread_main(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "none";
	char path[64];
	struct stat st;

	if (!strcmp(c, "none"))
		return 0;
	if (!strcmp(c, "open")) {
		int fd = open("/etc/hostname", O_RDONLY);
		return fd < 0;
	}
	if (!strcmp(c, "stat"))
		return stat("/etc", &st) + lstat("/etc", &st) + fstat(0, &st) < 0;
	if (!strcmp(c, "getrlimit")) {
		struct rlimit rl;
		return getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (!strcmp(c, "fork")) {
		pid_t p = fork();
		if (p == 0)
			_exit(0);
		return waitpid(p, NULL, 0) != p;
	}
	if (!strcmp(c, "raise")) {
		signal(SIGUSR1, SIG_IGN);
		return raise(SIGUSR1);
	}
	if (!strcmp(c, "sigaction")) {
		struct sigaction sa = {.sa_handler = SIG_IGN};
		sigset_t set;
		sigemptyset(&set);
		return sigaction(SIGUSR2, &sa, NULL) + sigprocmask(SIG_BLOCK, &set, NULL);
	}
	if (!strcmp(c, "nanosleep")) {
		struct timespec t = {0, 1000};
		return nanosleep(&t, NULL) + sleep(0);
	}
	if (!strcmp(c, "mkstemp")) {
		snprintf(path, sizeof(path), "/tmp/probeXXXXXX");
		return mkstemp(path) < 0;
	}
	if (!strcmp(c, "mkdtemp")) {
		snprintf(path, sizeof(path), "/tmp/probeXXXXXX");
		return !mkdtemp(path);
	}
	if (!strcmp(c, "opendir")) {
		DIR *d = opendir("/etc");
		while (d && readdir(d))
			;
		return !d || closedir(d);
	}
	if (!strcmp(c, "fopen")) {
		char buf[64];
		FILE *f = fopen("/etc/hostname", "r");
		size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
		return !f || fclose(f) || n == (size_t)-1;
	}
	if (!strcmp(c, "printf")) {
		printf("x\n");
		puts("y");
		fwrite("z\n", 1, 2, stdout);
		return fflush(stdout);
	}
	if (!strcmp(c, "malloc")) {
		void *p = malloc(1 << 20), *q = malloc(100);
		free(p);
		free(q);
		return 0;
	}
	if (!strcmp(c, "pthread_create")) {
		pthread_t t;
		return pthread_create(&t, NULL, thread_main, NULL) || pthread_join(t, NULL);
	}
	if (!strcmp(c, "isatty"))
		return isatty(0) < 0;
	if (!strcmp(c, "sigaltstack")) {
		stack_t s = {.ss_sp = malloc(SIGSTKSZ), .ss_size = SIGSTKSZ};
		return sigaltstack(&s, NULL);
	}
	if (!strcmp(c, "clock")) {
		struct timespec t;
		struct timeval tv;
		return clock_gettime(CLOCK_MONOTONIC, &t) + gettimeofday(&tv, NULL) +
		       (time(NULL) < 0);
	}
	fprintf(stderr, "scan-libc-probe: unknown case %s\n", c);
	return 2;
}
