/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recorder backends. Each runs @c exactly as tb_run() would (it calls tb_run() with hooks), and adds
 * what it saw to @rec (syscalls, args, files, executables, families). The dispatcher in
 * tracer/record.c fills the provenance afterwards.
 */
#ifndef TB_TRACER_BACKENDS_H
#define TB_TRACER_BACKENDS_H

#include <errno.h>

#include <stddef.h>

#include "core/diag.h"
#include "core/recording.h"
#include "runner/run.h"

/*
 * 0 when the backend can run on this machine, else -errno with a human reason in @why
 * ("no BTF at /sys/kernel/btf/vmlinux", "built without clang", "CAP_BPF missing").
 */
int tb_ptrace_available(char *why, size_t why_len);
int tb_bpf_available(char *why, size_t why_len);

/* What tb_bpf_record() returns when this kernel refuses to load the program (its verifier, a
 * missing helper): nothing ran, so `--backend auto` records with ptrace instead. */
#define TB_BPF_NOT_LOADED (-ENOPKG)

/*
 * Runs the command and records into @rec. @enforce: also load the configured seccomp filter.
 * @python_context: a Python command runs under the context bootstrap (tracer/pyctx.h) and the
 * recording gets its "python_context". Returns 0 when the command ran (whatever its outcome; see
 * @res), -errno when recording or the sandbox could not be set up (@diag says why).
 */
int tb_ptrace_record(const struct tb_run_config *c, bool enforce, bool python_context,
		     struct tb_recording *rec, struct tb_run_result *res, struct tb_diag *diag);
/* The same, recording only the user phase of a two-phase run (tb_ptrace_engine_wait_phase2). */
int tb_ptrace_record_user_phase(const struct tb_run_config *c, bool enforce,
				struct tb_recording *rec, struct tb_run_result *res,
				struct tb_diag *diag);
int tb_bpf_record(const struct tb_run_config *c, bool enforce, struct tb_recording *rec,
		  struct tb_run_result *res, struct tb_diag *diag);

#endif
