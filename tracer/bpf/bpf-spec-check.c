/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Build step: every entry of core/syscall-specs.c must be encodable for record.bpf.c, or the build
 * fails here (so the bpf recorder cannot silently skip a spec the ptrace recorder honours).
 */
#include <stdio.h>

#include "tracer/bpf/bpf-spec.h"

int main(void)
{
	size_t n;
	const struct tb_syscall_spec *s = tb_syscall_specs(&n);
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		struct tb_bpf_sysinfo si;

		if (tb_bpf_sysinfo_from_spec(&s[i], &si) < 0) {
			fprintf(stderr, "core/syscall-specs.c: '%s': a shape tracer/bpf/record.bpf.c "
					"cannot record (see tracer/bpf/bpf-spec.c)\n",
				s[i].name);
			bad = 1;
		}
	}
	return bad;
}
