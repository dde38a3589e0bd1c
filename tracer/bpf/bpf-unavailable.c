/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The eBPF backend's twin for builds without it (no clang/bpftool, no libbpf, no BTF at build
 * time, or TB_BPF=OFF): the recorder reports why instead of failing to link.
 */
#include <errno.h>
#include <stdio.h>

#include "tracer/internal.h"

#ifndef TB_BPF_MISSING
#define TB_BPF_MISSING "built without the eBPF backend"
#endif

int tb_bpf_available(char *why, size_t why_len)
{
	if (why && why_len)
		snprintf(why, why_len, "%s", TB_BPF_MISSING);
	return -ENOTSUP;
}

int tb_bpf_record(const struct tb_run_config *c, bool enforce, struct tb_recording *rec,
		  struct tb_run_result *res, struct tb_diag *diag)
{
	tb_diag_set(diag, NULL, 0, 0, "--backend", "the bpf backend is not available: %s",
		    TB_BPF_MISSING);
	return -ENOTSUP;
}
