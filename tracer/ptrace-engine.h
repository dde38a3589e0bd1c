/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ptrace recorder: a client of the ptrace supervisor (ptrace-supervisor.h) that turns its
 * seccomp and exit stops into a recording. Independent of how the run is started: the caller
 * puts tb_ptrace_engine_hooks() into tb_run() and calls tb_ptrace_engine_finish() afterwards.
 * See docs/recorder.md for the stop protocol and its costs.
 */
#ifndef TB_TRACER_PTRACE_ENGINE_H
#define TB_TRACER_PTRACE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/recording.h"
#include "runner/run.h"

struct tb_ptrace_engine;

/*
 * Creates an engine that records into @rec (borrowed; must outlive the engine), with the
 * supervisor's recording filter: every call stops once, the ceiling (tracer/ceiling.h) is refused
 * with EPERM and counted in @rec's "denied". Returns 0 or -errno (-ENOMEM, libseccomp errors).
 */
int tb_ptrace_engine_new(struct tb_recording *rec, struct tb_ptrace_engine **out);
/* Frees @e (not the recording). Accepts NULL. */
void tb_ptrace_engine_free(struct tb_ptrace_engine *e);

/* Fills @h for tb_run() (skip_filter untouched: the caller decides on --enforce). */
void tb_ptrace_engine_hooks(struct tb_ptrace_engine *e, struct tb_run_hooks *h);

/*
 * `record --phase user`: record nothing until the two-phase bootstrap stacks phase 2, i.e. from
 * the first seccomp(SECCOMP_SET_MODE_FILTER, ...) after the root's first execve (that call
 * itself excluded). Exact: the stack is one syscall, seen at its entry stop before the next call.
 */
void tb_ptrace_engine_wait_phase2(struct tb_ptrace_engine *e);

/*
 * Python context (tracer/pyctx.h): the command runs under the bootstrap when @top, and every
 * CPython >= 3.8 it execs does (tb_sv_follow_python). Markers are not recorded; the first use of
 * each syscall gets the Python context it was made in, and each top-level import the set of
 * syscalls made while it was in progress (the recording's "python_context").
 */
void tb_ptrace_engine_python_context(struct tb_ptrace_engine *e, bool top);

/* Adds the per-syscall counts to the recording. Call once, after the last tracee is gone.
 * 0, or -errno when the recorder or the supervisor failed. */
int tb_ptrace_engine_finish(struct tb_ptrace_engine *e);

#endif
