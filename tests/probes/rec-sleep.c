/* SPDX-License-Identifier: Apache-2.0 */
/* Probe: prints "sleeping" and a child's pid, then both wait forever (timeout/kill tests). */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	pid_t child = fork();

	if (child < 0)
		return 2;
	if (child > 0) {
		printf("sleeping %d\n", (int)child);
		fflush(stdout);
	}
	for (;;)
		pause();
}
