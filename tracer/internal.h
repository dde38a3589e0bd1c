/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tracer/'s own declarations, for its files and its unit tests only (scripts/check-boundaries: no
 * other folder includes this; their API is tracer/record.h and tracer/explain.h).
 *
 * Recorder backends. Each runs @c exactly as tb_run() would (it calls tb_run() with hooks), and adds
 * what it saw to @rec (syscalls, args, files, executables, families). The dispatcher in
 * tracer/record.c fills the provenance afterwards.
 */
#ifndef TB_TRACER_INTERNAL_H
#define TB_TRACER_INTERNAL_H

#include <errno.h>

#include <stddef.h>

#include "core/diag.h"
#include "core/recording.h"
#include "runner/run.h"
#include "tracer/explain.h"
#include "tracer/record.h"

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

/* ---- explain's stages (explain.c sequences them) ---- */

/* explain-apparmor.c: opens the kernel log (/dev/kmsg) at its end, before the run. fd or -errno. */
int tb_explain_aa_open(void);
/* Reads the records logged since tb_explain_aa_open (@fd) and adds each AppArmor denial by
 * @profile (or a child profile NAME//...) to @rep. 0 or -errno. */
int tb_explain_aa_collect(int fd, const char *profile, struct tb_explain_report *rep);
/* Frees @rep's AppArmor members (not @rep). */
void tb_explain_aa_free(struct tb_explain_report *rep);

/*
 * Chooses the smallest safe change for @rep's denials under profile @p (NULL when it could not be
 * read) and stores it as @rep->suggestion (JSON array of syscalls[] rules, NULL when nothing is
 * safe to add); sets each denial's arg_specific/arg_mask and adds a warning for every denial
 * left out and why. Never suggested: clone3, names libseccomp does not know (nr_1000), the
 * dangerous set, dangerous argument values (core/dangerous-args.c), and an unconditional allow
 * for a syscall that has argument rules or dangerous argument values (clone, ioctl, socket):
 * libseccomp lets an unconditional rule replace a name's conditional ones, EPERM guards
 * included. 0 or -ENOMEM.
 */
int tb_explain_suggest(struct tb_explain_report *rep, const struct tb_profile *p);

/* Appends a formatted warning to @rep->warnings. 0 or -ENOMEM. */
int tb_explain_report_warn(struct tb_explain_report *rep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Decodes one syscall's arguments (explain-decode.c): "name(arg, ...)" with paths read from @pid's
 * memory (@pid 0: no memory access) and flags spelled symbolically for common syscalls. *@text is
 * malloc'd. 0 or -ENOMEM.
 */
int tb_explain_decode(pid_t pid, const char *name, const uint64_t args[6], char **text);

/*
 * The version of @c's Python interpreter as the sandbox runs it ("3.11.2"), for
 * provenance.python: from tightbox's private cache when this very interpreter file was asked
 * before, else asked in a sandbox of @c's rootfs (tracer/python-version.c). Caller frees; NULL
 * when it cannot tell.
 */
char *tb_python_version(const struct tb_run_config *c);

/*
 * The CPython version (major * 100 + minor: 311 for 3.11) of the file that @pid's exec of @path
 * runs: @path resolved inside @pid's root (relative to its working directory), symlinks
 * followed, and the version read from that file's name (CPython installs itself as pythonX.Y and
 * links python3 and python to it; python-version.c). -ENOEXEC when the file is no pythonX.Y
 * executable (a venv's copy named python, a wrapper script), -errno when it cannot be found.
 */
int tb_python_exec_version(pid_t pid, const char *path);

#endif
