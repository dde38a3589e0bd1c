/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attack-orphans MARKER: tries to leave processes behind after the run. Forks grandchildren that
 * double-fork away from the init, setsid(), ignore SIGTERM/SIGHUP/SIGINT, and one of them stops
 * itself (SIGSTOP) - a stopped process does not even see SIGTERM. Each keeps MARKER as argv[1]
 * (and tries PR_SET_NAME, which a hardened profile may deny) so the test finds survivors on the
 * host. The parent then exits at once.
 * With "wait" as a second argument the parent sleeps instead (for the timeout variant).
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static void become_orphan(const char *marker, bool stop, int ready)
{
	pid_t p = fork();

	if (p != 0)
		return;
	if (fork() != 0)
		_exit(0); /* the middle process exits: the grandchild is re-parented */
	setsid();
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	prctl(PR_SET_NAME, marker, 0, 0, 0);
	if (write(ready, "r", 1) != 1)
		_exit(1);
	if (stop)
		raise(SIGSTOP);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int ready[2];
	char buf[4];
	size_t got = 0;

	if (pipe(ready) < 0)
		return 3;
	prctl(PR_SET_NAME, argv[1], 0, 0, 0);
	for (int i = 0; i < 4; i++)
		become_orphan(argv[1], i == 0, ready[1]);
	close(ready[1]);
	/* Every orphan has set its name and its signal dispositions once it wrote its byte. */
	while (got < sizeof(buf)) {
		ssize_t n = read(ready[0], buf, sizeof(buf) - got);

		if (n <= 0)
			return 4;
		got += (size_t)n;
	}
	printf("spawned %zu\n", got);
	fflush(stdout);
	if (argc > 2 && !strcmp(argv[2], "wait"))
		for (;;)
			pause();
	return 0;
}
