/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder replaced by the export implementation. */
#include <stdio.h>

#include "cli/commands.h"

int tb_cmd_export(int argc, char **argv)
{
	fprintf(stderr, "tightbox export: not built in this tree yet\n");
	return 125;
}
