/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder replaced by the audit implementation. */
#include <stdio.h>

#include "cli/commands.h"

int tb_cmd_audit(int argc, char **argv)
{
	fprintf(stderr, "tightbox audit: not built in this tree yet\n");
	return 125;
}
