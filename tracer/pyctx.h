/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Python context for explain and the ptrace recorder (internal to tracer/; docs/explain.md,
 * "Python context"): which import chain, which line of the user's code and which phase (start-up,
 * import, user code) a Python program was in at a syscall stop.
 *
 * The program runs under the bootstrap runner/python-context.py (tb_run_python_context_argv),
 * which keeps each
 * thread's context in a buffer of its own and names the buffer with a marker call,
 * write(TB_PYCTX_FD, buf, TB_PYCTX_BUF): no process can have that descriptor, so the kernel fails
 * it with EBADF whatever the tracer does. The tracer reads the buffer at the stops it reports.
 * An extension marker, write(TB_PYCTX_FD, path, strlen(path)) with a length below TB_PYCTX_BUF,
 * names the extension module file the thread's top-level import is about to load (the recorder
 * keeps it per import, tracer/ptrace-engine.c; explain ignores it).
 * Any program can make that call: the context is informational only and never changes what is
 * allowed, denied or recorded (docs/security.md).
 */
#ifndef TB_TRACER_PYCTX_H
#define TB_TRACER_PYCTX_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tracer/ptrace-supervisor.h"

/* The marker's descriptor as the kernel reads it (unsigned int): -29794, above any fd limit. */
#define TB_PYCTX_FD 0xffff8b9eu
/* The size of a thread's buffer (runner/python-context.py BUF). */
#define TB_PYCTX_BUF 4096u

/* What one thread's buffer said at a stop. */
struct tb_pyctx {
	char phase[16];   /* "start-up", "import", "user" */
	char *frame;      /* "FILE:LINE" of the outermost frame in a user file, NULL unknown */
	char *frame_from; /* "import" or the audit event the frame was taken at, NULL unknown */
	char **chain;     /* NULL-terminated import chain, outermost first; NULL when none */
	bool inherited;   /* a new thread's: its creator's context when it started */
};

/* A task's channel: where its buffer is (0: none yet). Copied to fork children. */
struct tb_pyctx_task {
	uint64_t addr;
	struct tb_pyctx *snapshot; /* a new thread without a buffer yet: its creator's context */
	bool starting; /* it exec'd an interpreter that runs the bootstrap, no marker yet */
};

/* Whether @c is a marker call (write to TB_PYCTX_FD from a native-arch task). */
bool tb_pyctx_is_marker(const struct tb_sv_call *c);

/* Handles a marker of @pid in @t: remembers its buffer. */
void tb_pyctx_on_marker(struct tb_pyctx_task *t, const struct tb_sv_call *c);

/*
 * Reads the context of @t (task @pid) now: 0 and *@out (free with tb_pyctx_free), -ENODATA when
 * the task has no context, -errno when its buffer cannot be read or parsed. A task that is
 * starting has the phase "start-up" and nothing else.
 */
int tb_pyctx_read(pid_t pid, const struct tb_pyctx_task *t, struct tb_pyctx **out);

/* The fork/clone of @parent into @child: a process gets the same buffer (the memory is a copy), a
 * thread the context of its creator at that moment until it names its own. */
void tb_pyctx_on_fork(pid_t parent, const struct tb_pyctx_task *pt, bool thread,
		      struct tb_pyctx_task *ct);

/* The top-level import of @p ("numpy" for "script.py:3 import numpy"), NULL when none; static
 * buffer of @size. */
const char *tb_pyctx_top_import(const struct tb_pyctx *p, char *buf, size_t size);

/* The documented JSON object of @p (docs/explain.md), a new reference; NULL out of memory. */
json_t *tb_pyctx_json(const struct tb_pyctx *p);

/* Frees @p. Accepts NULL. */
void tb_pyctx_free(struct tb_pyctx *p);

/*
 * Child interpreters (docs/explain.md, "Child interpreters"). At the entry stop of an exec that
 * will run (execve, or execveat of a path), when the file it runs is CPython >= 3.8
 * (tb_python_exec_version) and its command line is one tb_run_python_context_argv rewrites, the
 * tracee's argv is replaced by the bootstrap's command: the new pointer array and the strings it
 * adds are written below the tracee's stack pointer (the old argv strings are pointed at where
 * they are) and the argv register points at them. The bootstrap gives the program its own
 * sys.argv, sys.orig_argv and sys.path back, as for the sandbox's top-level command.
 *
 * Returns TB_PYCTX_EXEC_REWRITTEN and *@undo (what to put back with tb_pyctx_exec_undo at the
 * exit stop of an exec that failed, so that the program sees its registers and memory as
 * before; free with tb_pyctx_exec_free), TB_PYCTX_EXEC_BOOTSTRAP when the command already runs
 * the bootstrap (the sandbox's own), TB_PYCTX_EXEC_NONE when the exec is left alone (not CPython
 * >= 3.8, stdin or interactive, unknown options, no room on the stack, unreadable), or -ENOMEM.
 */
enum { TB_PYCTX_EXEC_NONE, TB_PYCTX_EXEC_BOOTSTRAP, TB_PYCTX_EXEC_REWRITTEN };
struct tb_pyctx_exec;
int tb_pyctx_exec(const struct tb_sv_call *c, struct tb_pyctx_exec **undo);
void tb_pyctx_exec_undo(pid_t pid, const struct tb_pyctx_exec *u);
/* Accepts NULL. */
void tb_pyctx_exec_free(struct tb_pyctx_exec *u);
/* Frees @t's members. */
void tb_pyctx_task_clear(struct tb_pyctx_task *t);

#endif
