/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tightbox explain` / `tightbox run --explain`: run a command under its seccomp profile while a
 * ptrace supervisor sees every call the profile refuses, makes it fail exactly as the profile would
 * (same errno, same kill, same SIGSYS), and reports each denied syscall with decoded arguments,
 * the process that made it, and the smallest profile change that would allow it.
 *
 * Mechanism (docs/explain.md): the profile is compiled with tb_compile_opts.trace_denials, so every
 * non-allow action becomes SCMP_ACT_TRACE(data) (data = errno, TB_TRACE_KILL or TB_TRACE_TRAP).
 */
#ifndef TB_TRACER_EXPLAIN_H
#define TB_TRACER_EXPLAIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/dangerous.h"
#include "core/diag.h"
#include "core/profile.h"
#include "runner/run.h"

#define TB_EXPLAIN_MAX_VARIANTS 8
/* Distinct denials (syscall, arch, action) a report keeps; the calls of any further ones are
 * counted in `unlisted` (a workload calling 20k unknown numbers must not grow the report). */
#define TB_EXPLAIN_MAX_DENIALS 1024

struct tb_pyctx;

/* One distinct argument combination of a denied syscall. */
struct tb_explain_variant {
	uint64_t args[6];
	char *decoded; /* "ptrace(PTRACE_TRACEME, 0, 0, 0)" */
	unsigned long count;
};

/* One denied syscall (grouped by arch, number and the profile's action). */
struct tb_explain_denial {
	char *name;       /* libseccomp's name for (arch, nr); "nr_335" when it has none */
	const char *arch; /* "x86_64", "i386" (int 0x80), "x32" (static; the recording's labels) */
	uint32_t audit_arch;
	int nr;
	uint32_t data;    /* errno the profile returns, TB_TRACE_KILL or TB_TRACE_TRAP */
	bool ceiling;     /* refused by tightbox's ceiling (tracer/ceiling.h), not by the profile:
			   * data is its errno, and no profile change allows it */
	unsigned long count;
	/* First occurrence. */
	unsigned long first_seq; /* 1-based position among all denials of the run */
	uint64_t first_us;       /* microseconds since the sandbox started */
	uint64_t ip;             /* instruction pointer of the call */
	pid_t pid;               /* host pid */
	pid_t nspid;             /* pid inside the sandbox (/proc/PID/status NSpid), 0 unknown */
	char *exe;               /* /proc/PID/exe, NULL unknown */
	char *comm;              /* /proc/PID/comm, NULL unknown */
	struct tb_explain_variant variants[TB_EXPLAIN_MAX_VARIANTS]; /* first distinct ones */
	size_t n_variants;
	bool more_variants;      /* more distinct argument sets than TB_EXPLAIN_MAX_VARIANTS */
	bool arg_specific;       /* the profile allows this syscall for other arguments */
	unsigned arg_mask;       /* argument indexes the profile's allow rules test (bit i = arg i) */
	const struct tb_dangerous *dangerous; /* tb_dangerous_lookup(name), NULL when not listed */
	/* Python context at the first occurrence (tracer/pyctx.h), NULL when none. */
	struct tb_pyctx *py;
	/* How the task that made the first occurrence ended (a wait status), when known. */
	bool exit_known;
	int exit_status;
	char *stderr_text; /* what that task wrote on stderr last before it failed (NULL: nothing) */
};

/* One distinct AppArmor denial (operation, name, denied mask) from the kernel log. */
struct tb_explain_aa_denial {
	char *operation;   /* "open", "exec", "mknod", ... */
	char *name;        /* the path or object, NULL when the record has none */
	char *denied_mask; /* "r", "w", "x", ...; NULL when absent */
	char *comm;        /* first process that was denied (NULL unknown) */
	pid_t pid;         /* its host pid */
	unsigned long count;
};

struct tb_explain_report {
	bool learn;                 /* learn mode: the denied calls below were let run */
	struct tb_explain_denial *denials; /* by first occurrence */
	size_t n_denials;
	unsigned long total;        /* denied calls, all syscalls */
	unsigned long unlisted;     /* of those, calls past the first TB_EXPLAIN_MAX_DENIALS denials */
	bool killed;                /* a TB_TRACE_KILL action killed a process */
	pid_t killed_nspid;         /* which one (sandbox pid) */
	char *killed_by;            /* syscall name */
	/* Python location from the traceback the program printed on stderr (NULL when none). */
	char *py_file;
	int py_line;
	char *py_function;
	char *py_error;             /* last line of the traceback ("PermissionError: ...") */
	/* Python context (tracer/pyctx.h): NULL when it was on; else why there is none ("not a
	 * Python program (/bin/sh)", "off (--no-python-context)"). */
	char *pyctx_note;
	char *suggestion;           /* JSON array of syscalls[] rules to add (NULL: nothing to add) */
	char **warnings;            /* NULL-terminated, may be NULL */
	size_t n_warnings;
	char *profile;              /* profile file the run used (NULL: unconfined) */
	/* AppArmor (--security-opt apparmor=NAME): what the kernel log says NAME denied. */
	char *aa_profile;           /* NAME; NULL when the run had no AppArmor profile */
	bool aa_log_unreadable;     /* /dev/kmsg could not be read: denials unknown */
	struct tb_explain_aa_denial *aa_denials;
	size_t n_aa_denials;
	bool aa_more;               /* more distinct denials than were kept */
};

struct tb_explain_opts {
	/*
	 * Learn mode: every call the profile would deny runs (and is reported), except what the
	 * ceiling refuses (tracer/ceiling.h: the dangerous set, fileless exec, USER_NOTIF listeners),
	 * which fails with the profile's errno (EPERM where the profile kills or traps). One run then
	 * names every denial instead of stopping at the first.
	 */
	bool learn;
	/* --no-python-context: run the command as given, without the Python-context bootstrap. */
	bool no_python_context;
};

/*
 * Runs @c like tb_run() (same sandbox, same profile) under the explain supervisor (@o may be
 * NULL: plain explain). Returns 0 when
 * the command ran, whatever it did (@res says; a process the profile would have killed with
 * KILL_PROCESS is reported in @res as killed by SIGSYS, as plain `tightbox run` would show it), and
 * *@out is the report (free with tb_explain_report_free). -errno when the sandbox or the supervisor
 * could not be set up: @d says why, *@out is untouched; @res is filled as tb_run() fills it.
 */
int tb_explain_run(const struct tb_run_config *c, const struct tb_explain_opts *o,
		   struct tb_explain_report **out, struct tb_run_result *res, struct tb_diag *d);

/*
 * Writes the profile @r was explained under with @r's suggestion added to its "syscalls" (the
 * smallest safe additions; nothing else changes) to @path, atomically. -ENODATA when there is no
 * profile file (seccomp=unconfined), -EINVAL (@d says why) when it cannot be read back.
 */
int tb_explain_apply(const struct tb_explain_report *r, const char *path, struct tb_diag *d);

/* Frees @r. Accepts NULL. */
void tb_explain_report_free(struct tb_explain_report *r);

/* Formats @r as the human report (several lines, '\n'-terminated) into *@text (malloc'd).
 * 0 or -ENOMEM. */
int tb_explain_report_format(const struct tb_explain_report *r, char **text);

/* Writes the run result JSON (tb_run_result_write_json) with an "explain" member added, on one
 * line, to @fd. 0 or -errno. */
int tb_explain_result_write_json(const struct tb_run_result *res, const struct tb_explain_report *r,
				 int fd);

#endif
