/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tightbox serve: executes the tightbox-serve helper, which holds the HTTP server. The server
 * links libmicrohttpd and, through it, GnuTLS and eight more shared objects; keeping them out of
 * this binary keeps every `tightbox run` (which serve itself starts once per request) as quick to
 * start as before. The helper is looked up beside this binary, then in the install's libexec dir.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"

int tb_cmd_serve(int argc, char **argv)
{
	char self[PATH_MAX], helper[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char **hargv;
	char *slash;

	if (n <= 0) {
		fprintf(stderr, "tightbox serve: cannot find this binary: %s\n", strerror(errno));
		return 1;
	}
	self[n] = '\0';
	snprintf(helper, sizeof(helper), "%s", self);
	slash = strrchr(helper, '/');
	snprintf(slash + 1, sizeof(helper) - (size_t)(slash + 1 - helper), "tightbox-serve");
	if (access(helper, X_OK) < 0)
		snprintf(helper, sizeof(helper), "%s/tightbox-serve", TB_LIBEXEC_DIR);
	if (access(helper, X_OK) < 0) {
		fprintf(stderr, "tightbox serve: not available in this build (%s)\n", TB_SERVE_STATUS);
		return 1;
	}
	/* argv[0] of the helper is "tightbox serve"; the binary each request runs is this one. */
	hargv = calloc((size_t)argc + 3, sizeof(*hargv));
	if (!hargv)
		return 1;
	hargv[0] = "tightbox serve";
	hargv[1] = "--tightbox";
	hargv[2] = self;
	for (int i = 1; i < argc; i++)
		hargv[i + 2] = argv[i];
	execv(helper, hargv);
	fprintf(stderr, "tightbox serve: cannot execute %s: %s\n", helper, strerror(errno));
	free(hargv);
	return 1;
}
