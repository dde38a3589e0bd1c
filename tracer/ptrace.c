/* SPDX-License-Identifier: Apache-2.0 */
/* The ptrace recorder backend: tb_run() with the hooks of tracer/ptrace-engine.c. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>

#include "core/util.h"
#include "tracer/internal.h"
#include "tracer/ptrace-engine.h"
#include "tracer/pyctx.h"

int tb_ptrace_available(char *why, size_t why_len)
{
	struct utsname u;
	int major = 0, minor = 0;
	FILE *f;

	/* PTRACE_GET_SYSCALL_INFO (5.3) gives arch, number and arguments at seccomp stops. */
	/* NOLINTNEXTLINE(cert-err34-c): uname's release is kernel-written */
	if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	    (major < 5 || (major == 5 && minor < 3))) {
		snprintf(why, why_len, "kernel %s lacks PTRACE_GET_SYSCALL_INFO (needs 5.3)", u.release);
		return -ENOSYS;
	}
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL) {
		snprintf(why, why_len, "kernel built without seccomp");
		return -ENOSYS;
	}
	f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	if (f) {
		int scope = 0;

		/* NOLINTNEXTLINE(cert-err34-c): a kernel-written sysctl value */
		if (fscanf(f, "%d", &scope) == 1 && scope >= 3) {
			fclose(f);
			snprintf(why, why_len, "ptrace is disabled (kernel.yama.ptrace_scope=3)");
			return -EPERM;
		}
		fclose(f);
	}
	if (why_len)
		why[0] = '\0';
	return 0;
}

static int record(const struct tb_run_config *c, bool enforce, bool user_phase, bool pyctx,
		  struct tb_recording *rec, struct tb_run_result *res, struct tb_diag *diag)
{
	struct tb_run_config pc = *c; /* shallow: only argv may differ */
	_cleanup_free_ char **pyargv = NULL;
	const char *why_not = NULL;
	struct tb_ptrace_engine *engine = NULL;
	struct tb_run_hooks hooks = {0};
	cpu_set_t old, one;
	bool pinned = false;
	char why[128];
	int r, cpu;

	r = tb_ptrace_available(why, sizeof(why));
	if (r < 0) {
		tb_diag_set(diag, NULL, 0, 0, "--backend", "the ptrace backend is not available: %s",
			    why);
		return r;
	}
	r = tb_ptrace_engine_new(rec, &engine);
	if (r < 0) {
		tb_diag_set(diag, NULL, 0, 0, "--backend", "ptrace: building the trace filter: %s",
			    strerror(-r));
		return r;
	}
	/*
	 * Every stop is a context switch tracee -> tracer -> tracee; on one CPU it is a direct
	 * hand-over, across CPUs it costs ~50% more (FACTS.md). The sandbox inherits the mask at
	 * clone, so pin ourselves for the run and restore afterwards.
	 */
	cpu = sched_getcpu();
	if (cpu >= 0 && sched_getaffinity(0, sizeof(old), &old) == 0) {
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pinned = sched_setaffinity(0, sizeof(one), &one) == 0;
	}
	if (user_phase)
		tb_ptrace_engine_wait_phase2(engine);
	/* Python context: a two-phase bootstrap (it runs the script itself) brings it along. */
	if (pyctx && (c->two_phase_path || c->two_phase_permissive)) {
		pc.python_context = true;
		tb_ptrace_engine_python_context(engine, true);
	} else if (pyctx) {
		r = tb_run_python_context_argv(c->argv, &pyargv, &why_not);
		if (r == -ENOMEM) {
			tb_ptrace_engine_free(engine);
			return r;
		}
		if (pyargv)
			pc.argv = pyargv;
		/* Child interpreters get the context whatever the command is. */
		tb_ptrace_engine_python_context(engine, pyargv != NULL);
	}
	tb_ptrace_engine_hooks(engine, &hooks);
	hooks.skip_filter = !enforce;
	r = tb_run(&pc, &hooks, res, diag);
	if (pinned)
		(void)sched_setaffinity(0, sizeof(old), &old);
	if (r >= 0) {
		r = tb_ptrace_engine_finish(engine);
		if (r < 0)
			tb_diag_set(diag, NULL, 0, 0, NULL, "ptrace: recording: %s", strerror(-r));
	}
	tb_ptrace_engine_free(engine);
	return r;
}

int tb_ptrace_record(const struct tb_run_config *c, bool enforce, bool python_context,
		     struct tb_recording *rec, struct tb_run_result *res, struct tb_diag *diag)
{
	return record(c, enforce, false, python_context, rec, res, diag);
}

int tb_ptrace_record_user_phase(const struct tb_run_config *c, bool enforce,
				struct tb_recording *rec, struct tb_run_result *res,
				struct tb_diag *diag)
{
	return record(c, enforce, true, false, rec, res, diag);
}
