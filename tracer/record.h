/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tightbox record` without the CLI: pick a backend, run the command in the sandbox through it,
 * and fill the recording's provenance (tightbox version, backend, kernel, arch, libc, Python,
 * command, outcome, duration, workload).
 */
#ifndef TB_TRACER_RECORD_H
#define TB_TRACER_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"
#include "core/recording.h"
#include "runner/run.h"

enum tb_backend {
	TB_BACKEND_AUTO, /* bpf when available, else ptrace */
	TB_BACKEND_PTRACE,
	TB_BACKEND_BPF,
};

struct tb_record_opts {
	enum tb_backend backend;
	bool enforce;         /* also load the configured seccomp profile while recording */
	const char *workload; /* NULL: the script's or command's basename */
	/* NULL; "all" or "user" (`record --phase`, ptrace backend): run under the two-phase bootstrap
	 * with --preload and a phase 2 that allows everything; "user" records only what follows the
	 * bootstrap's phase-2 stack. The recording's provenance.phase says which. */
	const char *phase;
	/* Python context (ptrace backend; tracer/pyctx.h). The bpf backend records without it and
	 * says so in a warning. */
	bool python_context;
};

/* Parses "ptrace", "bpf" or "auto". 0 or -EINVAL. */
int tb_backend_parse(const char *s, enum tb_backend *out);

/*
 * 0 when the backend can run on this machine, else -errno with a human reason in @why
 * ("no BTF at /sys/kernel/btf/vmlinux", "built without clang", "CAP_BPF missing").
 */
int tb_ptrace_available(char *why, size_t why_len);
int tb_bpf_available(char *why, size_t why_len);

/*
 * Runs @c through the chosen backend and returns the recording in *@out (also when the command
 * crashed or timed out: the provenance says so). Returns 0 when the command ran, -ENOENT/-EACCES
 * when it could not be executed (@res->exec_failed, no recording), other -errno when the backend
 * or the sandbox failed (@diag says why). @res is filled in every case.
 */
int tb_record(const struct tb_run_config *c, const struct tb_record_opts *o,
	      struct tb_recording **out, struct tb_run_result *res, struct tb_diag *diag);

#endif
