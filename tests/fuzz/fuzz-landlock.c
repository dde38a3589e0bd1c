/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the Landlock ruleset reader, and the writer on what it accepted. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/landlock-ruleset.h"
#include "core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_ll_ruleset *rs = NULL;
	struct tb_diag d = {0};
	FILE *f;

	if (tb_ll_ruleset_parse((const char *)data, size, "fuzz.json", &rs, &d) < 0)
		return 0;
	f = fopen("/dev/null", "we");
	if (f) {
		tb_ll_ruleset_write(rs, f);
		fclose(f);
	}
	tb_ll_ruleset_free(rs);
	return 0;
}
