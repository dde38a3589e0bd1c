/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder replaced by the explain implementation. */
#include <stdio.h>

#include "cli/commands.h"

int tb_cmd_explain(int argc, char **argv)
{
	fprintf(stderr, "tightbox explain: not built in this tree yet\n");
	return 125;
}
