/* SPDX-License-Identifier: Apache-2.0 */
/* Probe: writes a line, then dies of SIGSEGV (a NULL store). */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	volatile int *p = NULL;

	if (write(1, "crashing\n", 9) != 9)
		return 2;
	*p = 1;
	return 0;
}
