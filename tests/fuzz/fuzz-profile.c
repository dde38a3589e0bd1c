/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the Docker/OCI seccomp profile reader and the libseccomp compiler. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_profile *p = NULL;
	struct tb_diag d = {0};
	struct tb_compile_opts o = {.kernel_release = "6.1.0"};
	void *ctx = NULL;

	if (tb_profile_parse((const char *)data, size, "fuzz.json", &p, &d) < 0)
		return 0;
	if (tb_profile_compile(p, &o, &ctx, &d) == 0) {
		struct sock_fprog prog = {0};

		if (tb_profile_export_bpf(ctx, &prog) == 0)
			free(prog.filter);
	}
	tb_profile_ctx_free(ctx);
	tb_profile_free(p);
	return 0;
}
