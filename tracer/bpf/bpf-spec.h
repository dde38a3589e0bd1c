/* SPDX-License-Identifier: Apache-2.0 */
/* The encoding of core/syscall-specs.c into the eBPF recorder's sysinfo entries. */
#ifndef TB_BPF_SPEC_H
#define TB_BPF_SPEC_H

#include <linux/types.h>

#include "core/syscall-specs.h"
#include "tracer/bpf/bpf-shared.h"

/*
 * Fills @si with what record.bpf.c does for a syscall of spec @sp. Returns 0, or -EOPNOTSUPP when
 * the spec has a shape the program cannot carry out (then the build fails: bpf-spec-check runs
 * this over the whole table at build time).
 */
int tb_bpf_sysinfo_from_spec(const struct tb_syscall_spec *sp, struct tb_bpf_sysinfo *si);

#endif
