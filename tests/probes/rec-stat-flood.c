/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec-stat-flood [N]: stat() on N (default 60000) distinct paths of ~4000 bytes each, all absent:
 * what a recorder that keeps every path it sees in memory cannot survive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 60000;
	static char path[4001];
	struct stat st;

	/* Components of 199 bytes: well below NAME_MAX, so the kernel walks the path (ENOENT). */
	for (size_t i = 0; i + 200 < sizeof(path); i += 200) {
		path[i] = '/';
		memset(path + i + 1, 'a', 199);
	}
	for (long i = 0; i < n; i++) {
		snprintf(path + sizeof(path) - 24, 24, "/%022ld", i);
		(void)stat(path, &st);
	}
	puts("done");
	return 0;
}
