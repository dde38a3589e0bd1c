/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder replaced by the generate implementation. */
#include <stdio.h>

#include "cli/commands.h"

int tb_cmd_generate(int argc, char **argv)
{
	fprintf(stderr, "tightbox generate: not built in this tree yet\n");
	return 125;
}
