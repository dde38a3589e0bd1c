/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attack-session: what a sandbox inherits from the caller's session.
 *   with-key CMD...   (host side) joins a fresh session keyring, adds the user key "tb-attack"
 *                     holding "s3cret", exports its serial as TB_KEY_ID and execs CMD.
 *   keyread           (sandbox side) reads the key TB_KEY_ID names: prints "key <data>" or
 *                     "key-errno <errno>".
 *   kill0             (sandbox side) ignores SIGTERM, then kill(0, SIGTERM) - the whole process
 *                     group - and prints "kill0 <ret> <errno>".
 *   killpg PGID       kill(-PGID, SIGTERM): prints "killpg <ret> <errno>".
 *   landlock-abi      prints the kernel's Landlock ABI version (0: none).
 */
#include <errno.h>
#include <linux/keyctl.h>
#include <linux/landlock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int with_key(char **cmd)
{
	char id[32];
	long key;

	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "tb-attack-session") < 0) {
		perror("join session keyring");
		return 77;
	}
	key = syscall(SYS_add_key, "user", "tb-attack", "s3cret", 6, KEY_SPEC_SESSION_KEYRING);
	if (key < 0) {
		perror("add_key");
		return 77;
	}
	snprintf(id, sizeof(id), "%ld", key);
	setenv("TB_KEY_ID", id, 1);
	execvp(cmd[0], cmd);
	perror("exec");
	return 127;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "with-key"))
		return with_key(argv + 2);
	if (argc == 2 && !strcmp(argv[1], "keyread")) {
		const char *id = getenv("TB_KEY_ID");
		char buf[64] = "";
		long n;

		if (!id)
			return 2;
		n = syscall(SYS_keyctl, KEYCTL_READ, atol(id), buf, sizeof(buf) - 1);
		if (n >= 0)
			printf("key %.*s\n", (int)n, buf);
		else
			printf("key-errno %d\n", errno);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "kill0")) {
		int r;

		signal(SIGTERM, SIG_IGN);
		r = kill(0, SIGTERM);
		printf("kill0 %d %d\n", r, r < 0 ? errno : 0);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "killpg")) {
		int r;

		signal(SIGTERM, SIG_IGN);
		r = kill(-atoi(argv[2]), SIGTERM);
		printf("killpg %d %d\n", r, r < 0 ? errno : 0);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "landlock-abi")) {
		long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

		printf("%ld\n", v > 0 ? v : 0);
		return 0;
	}
	fprintf(stderr, "usage: attack-session with-key CMD... | keyread | kill0 | killpg PGID | landlock-abi\n");
	return 2;
}
