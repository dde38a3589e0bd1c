/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder replaced by the record implementation. */
#include <stdio.h>

#include "cli/commands.h"

int tb_cmd_record(int argc, char **argv)
{
	fprintf(stderr, "tightbox record: not built in this tree yet\n");
	return 125;
}
