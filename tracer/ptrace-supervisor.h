/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one ptrace supervisor (internal to tracer/): the recorder (ptrace-engine.c) and explain
 * (explain.c) are its two clients.
 *
 * It owns what both need and what must not differ between them: the base seccomp filter the
 * sandbox child loads (SECCOMP_RET_TRACE stops, the ceiling of ceiling.h), PTRACE_SEIZE with the
 * options in place before that filter loads, the task table, fork/vfork/clone following, exec
 * (a non-leader thread's exec takes over the leader's pid), group stops, signal delivery, exits,
 * the sandbox init's fatal faults, and how a call is refused (skipped with -errno, SIGSYS as
 * SECCOMP_RET_TRAP delivers it, or the thread group killed). At each seccomp stop it asks the
 * client what to do; a call a ceiling rule matched is refused whatever the client answers.
 *
 * Use: tb_sv_new(), tb_sv_hooks() into tb_run(), then the client reads its results;
 * tb_sv_free().
 */
#ifndef TB_TRACER_PTRACE_SUPERVISOR_H
#define TB_TRACER_PTRACE_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/types.h>

#include "core/arch.h"
#include "runner/run.h"

/*
 * The ABIs a tracer on this machine sees, from core/arch.h: the native arch first, then every
 * arch it also runs (x86_64: x86 through int 0x80, x32). At most TB_SV_MAX_ARCH.
 */
#define TB_SV_MAX_ARCH 4
size_t tb_sv_n_arch(void);
/* Entry @idx (0 <= idx < tb_sv_n_arch()) of that list. */
const struct tb_arch *tb_sv_arch(int idx);

/* SECCOMP_RET_DATA of a ceiling rule: refuse the call with errno @e (e < 4096). */
#define TB_SV_CEILING_DATA(e) (0x8000u | (unsigned)(e))
#define TB_SV_IS_CEILING(data) (((data) & 0xf000u) == 0x8000u)

/* SECCOMP_RET_DATA of the base filter's own stops (not refusals; explain only, TB_SV_WATCH_*). */
#define TB_SV_DATA_MARKER 0x4001u /* a Python-context marker (tracer/pyctx.h) */
#define TB_SV_DATA_STDERR 0x4002u /* write or writev to fd 2 */
#define TB_SV_DATA_EXEC 0x4003u   /* execve or execveat (tb_sv_follow_python) */

/* What the explain base filter also stops at (tb_sv_new @watch). */
enum {
	TB_SV_WATCH_MARKERS = 1u << 0, /* the Python-context marker call */
	TB_SV_WATCH_STDERR = 1u << 1,  /* writes to stderr */
	TB_SV_WATCH_EXECS = 1u << 2,   /* execve and execveat (tb_sv_follow_python) */
};

/* What the base filter the sandbox child loads does. */
enum tb_sv_base {
	TB_SV_BASE_EXPLAIN,  /* allow; only the listener refusal stops (the profile's filter follows) */
	TB_SV_BASE_RECORD,   /* every call stops; the whole ceiling stops as a refusal */
};

/* One seccomp stop. */
struct tb_sv_call {
	pid_t pid;
	int arch;            /* tb_sv_arch() index, -1 an arch this supervisor does not know */
	uint32_t audit_arch;
	uint64_t nr;         /* without the x32 bit */
	uint64_t raw_nr;     /* as seccomp reported it */
	uint64_t args[6];
	uint64_t ip;
	uint32_t data;       /* the filter's SECCOMP_RET_DATA */
	int ceiling_errno;   /* > 0: a ceiling rule matched; the call is refused with it */
};

enum tb_sv_verdict {
	TB_SV_CONTINUE,  /* let the call run */
	TB_SV_EXIT_STOP, /* let it run and report its exit (on_exit) */
	TB_SV_ERRNO,     /* skip it: it returns -err */
	TB_SV_TRAP,      /* skip it and deliver SIGSYS as SECCOMP_RET_TRAP would */
	TB_SV_KILL,      /* kill its thread group, as SECCOMP_RET_KILL_PROCESS would */
};

struct tb_sv_answer {
	enum tb_sv_verdict verdict;
	int err; /* TB_SV_ERRNO */
};

/*
 * The client. @priv is the task's client state (NULL at first), kept until the task is gone
 * and then passed to free_priv. All callbacks may be NULL.
 */
struct tb_sv_ops {
	struct tb_sv_answer (*on_seccomp)(void *data, const struct tb_sv_call *c, void **priv);
	/* At the exit of a call answered TB_SV_EXIT_STOP: @ok is !is_error, @rval the result. */
	void (*on_exit)(void *data, pid_t pid, bool ok, int64_t rval, void **priv);
	/* After a successful execve of @pid (its pid after the exec); @python: the new image runs
	 * the Python-context bootstrap (tb_sv_follow_python). */
	void (*on_exec)(void *data, pid_t pid, bool python, void **priv);
	/* @parent made @child (a thread when @thread); *@cpriv is NULL before. */
	void (*on_fork)(void *data, pid_t parent, pid_t child, bool thread, void **ppriv,
			void **cpriv);
	/* @pid is gone with wait status @status (before free_priv). */
	void (*on_task_exit)(void *data, pid_t pid, int status, void **priv);
	void (*free_priv)(void *priv);
};

struct tb_sv;

/* A supervisor whose child loads the base filter @base, which also stops at what @watch says
 * (TB_SV_WATCH_*: TB_SV_BASE_EXPLAIN only; the recording base stops at everything). 0 or -errno
 * (libseccomp, -ENOMEM). */
int tb_sv_new(enum tb_sv_base base, unsigned watch, const struct tb_sv_ops *ops, void *data,
	      struct tb_sv **out);
/* Frees @sv. Accepts NULL. */
void tb_sv_free(struct tb_sv *sv);

/*
 * Fills @h for tb_run(): the child loads the base filter where the runner would load the
 * profile's (just before it), the parent seizes the child and handles every wait result.
 * skip_filter is left false: the caller decides whether the profile's filter loads too.
 */
void tb_sv_hooks(struct tb_sv *sv, struct tb_run_hooks *h);

/* The first failure of the supervisor itself (-errno) and where, 0 when none. */
int tb_sv_error(const struct tb_sv *sv, const char **step);
/* True when a TB_SV_KILL (or a TRAP the sandbox init had no handler for) killed the init: the
 * kernel would have reported SIGSYS, a tracer can only send SIGKILL. */
bool tb_sv_root_killed(const struct tb_sv *sv);
/* The host pid of the sandbox init (the command), 0 before the run. */
pid_t tb_sv_root(const struct tb_sv *sv);
/*
 * From now on, an exec of CPython >= 3.8 that runs runs the Python-context bootstrap first
 * (tb_pyctx_exec, tracer/pyctx.h), and on_exec says so. The explain base filter must stop at
 * execs for it (TB_SV_WATCH_EXECS); the recording base stops at every call.
 */
void tb_sv_follow_python(struct tb_sv *sv);

/* Last number on the "KEY:" line of /proc/PID/status ("NSpid:\t812\t3" -> 3), 0 unknown. */
pid_t tb_sv_proc_status(pid_t pid, const char *key);
/* Reads at most @size bytes of the string at @addr of @pid into @buf, page by page (the next page
 * may be unmapped), up to its NUL (*@terminated then). The length read (without the NUL; what was
 * readable when there is none), or -EFAULT when nothing was. */
ssize_t tb_sv_read_str(pid_t pid, uint64_t addr, char *buf, size_t size, bool *terminated);
/* Reads the NUL-terminated string at @addr of @pid into @buf. 0, -EFAULT (unreadable before its
 * NUL) or -ENAMETOOLONG (no NUL in @size bytes). */
int tb_sv_read_string(pid_t pid, uint64_t addr, char *buf, size_t size);
/* Reads or writes exactly @len bytes at @addr of @pid. 0 or -EFAULT. */
int tb_sv_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len);
int tb_sv_write_mem(pid_t pid, uint64_t addr, const void *buf, size_t len);
/* readlink of /proc/PID/@what into @buf; -ENOENT when the target is not a path ("pipe:[3]"). */
int tb_sv_proc_link(pid_t pid, const char *what, char *buf, size_t size);

#endif
