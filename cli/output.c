/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/output.h"

#include <stdio.h>

void tb_cli_print_diag(const char *prog, const struct tb_diag *d)
{
	char buf[1400]; /* the longest tb_diag_format output: file, position, where, message */

	fprintf(stderr, "%s: %s\n", prog, tb_diag_format(d, buf, sizeof(buf)));
}

void tb_cli_print_warnings(const char *prog, const struct tb_warning *w, size_t n)
{
	char names[1024] = "";
	size_t n_unknown = 0, used = 0;

	for (size_t i = 0; i < n; i++) {
		if (w[i].kind != TB_WARN_UNKNOWN_SYSCALL) {
			fprintf(stderr, "%s: warning: %s\n", prog, w[i].message);
			continue;
		}
		if (used < sizeof(names))
			used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
						 n_unknown ? ", " : "", w[i].subject);
		n_unknown++;
	}
	if (n_unknown)
		fprintf(stderr, "%s: warning: seccomp: %zu syscall name%s unknown to this libseccomp "
				"skipped, as Docker does: %s\n",
			prog, n_unknown, n_unknown == 1 ? "" : "s", names);
}
