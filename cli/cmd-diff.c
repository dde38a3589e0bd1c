/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder replaced by the diff implementation. */
#include <stdio.h>

#include "cli/commands.h"

int tb_cmd_diff(int argc, char **argv)
{
	fprintf(stderr, "tightbox diff: not built in this tree yet\n");
	return 125;
}
