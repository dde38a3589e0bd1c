/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: `tightbox run` option parsing (tb_run_cli_parse) on an argv made by splitting
 * the input at NUL bytes. Whatever it accepts must keep the hardening invariants: never uid 0.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run-options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[65];
	int argc = 1;
	struct tb_run_cli o;
	struct tb_diag d = {0};

	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "run";
	for (size_t i = 0; i <= size && argc < 64;) {
		argv[argc++] = buf + i;
		while (i < size && buf[i])
			i++;
		i++;
	}
	argv[argc] = NULL;
	if (tb_run_cli_parse(argc, argv, &o, NULL, NULL, &d) == 0) {
		if (o.cfg.uid == 0 || o.cfg.gid == 0)
			abort();
	}
	tb_run_cli_free(&o);
	free(buf);
	return 0;
}
