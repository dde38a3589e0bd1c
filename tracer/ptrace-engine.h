/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ptrace recording engine, independent of how the tracee was started (tb_run hooks or a
 * plain fork in tests). The tracee calls tb_ptrace_child_prepare() and then execs; the tracer
 * feeds every waitpid(-1, __WALL) result to tb_ptrace_on_wait() and finally calls
 * tb_ptrace_engine_finish(). See docs/recorder.md for the stop protocol and its costs.
 */
#ifndef TB_TRACER_PTRACE_ENGINE_H
#define TB_TRACER_PTRACE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/recording.h"

struct tb_ptrace_engine;

/*
 * Creates an engine that records into @rec (borrowed; must outlive the engine). Also builds the
 * SECCOMP_RET_TRACE filter the child loads. Returns 0 or -errno (-ENOMEM, libseccomp errors).
 */
int tb_ptrace_engine_new(struct tb_recording *rec, struct tb_ptrace_engine **out);
/* Frees @e (not the recording). Accepts NULL. */
void tb_ptrace_engine_free(struct tb_ptrace_engine *e);

/*
 * In the tracer, while the child @pid waits to be released (before it loads the filter):
 * PTRACE_SEIZE it with the recording options; @pid becomes the root tracee. 0 or -errno.
 */
int tb_ptrace_engine_attach(struct tb_ptrace_engine *e, pid_t pid);

/*
 * In the tracee, as the last step before execve (after tb_ptrace_engine_attach returned in the
 * tracer): loads the RET_TRACE filter (x86_64 + i386 + x32). Returns 0 or -errno. Uses
 * libseccomp's filter generation, so the child must be a fork, not a vfork.
 */
int tb_ptrace_child_prepare(struct tb_ptrace_engine *e);

/*
 * Handles one waitpid(-1, &status, __WALL) result for a tracee (or one of its auto-attached
 * descendants) and resumes it. Unknown pids are adopted as auto-attached children. Never fails:
 * a tracee that vanished is forgotten.
 */
void tb_ptrace_on_wait(struct tb_ptrace_engine *e, pid_t pid, int status);

/*
 * Skip recording until the root's first successful execve (the runner's own syscalls between the
 * hook and the exec are not the workload's). Default true.
 */
void tb_ptrace_engine_skip_until_exec(struct tb_ptrace_engine *e, bool skip);

/* Adds the per-syscall counts to the recording. Call once, after the last tracee is gone. */
int tb_ptrace_engine_finish(struct tb_ptrace_engine *e);

/* Statistics for docs and the progress line: stops handled and syscalls seen. */
struct tb_ptrace_stats {
	uint64_t syscalls, exit_stops, events;
};
void tb_ptrace_engine_stats(const struct tb_ptrace_engine *e, struct tb_ptrace_stats *s);

#endif
