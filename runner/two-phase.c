/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Two-phase policy (`tightbox run --preload MODULES --two-phase PROFILE2`).
 *
 * Start-up and the preloads run under the phase-1 filter (the run's profile). Before the first
 * line of the user's script, a bootstrap (two-phase-bootstrap.py, run with `python3 -I -c`) stacks
 * the phase-2 filter. Why this cannot be skipped by code the user controls:
 * - the bootstrap is the command tightbox execs; the script is only read by it, after the stack;
 * - the preloads are imported with neither the working directory nor the script's directory on
 *   sys.path, so a file the user placed there is not imported in phase 1;
 * - the program comes in a sealed read-only memfd that the bootstrap closes: user code can neither
 *   change it before it is read nor find it afterwards;
 * - seccomp filters only stack: a later filter can restrict more, never less;
 * - anything going wrong before the stack exits 125 without running the script (fail closed);
 * - a warm run (runner/warm.c) takes its script from the request only after the preloads, still
 *   before the stack: the request's code is data until phase 2 is in place.
 * Phase 1 gains one rule, seccomp(SECCOMP_SET_MODE_FILTER) with at most the TSYNC flag, so that the
 * bootstrap can stack the program; phase-2 profiles deny seccomp themselves.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/profile.h"
#include "core/util.h"
#include "runner/internal.h"
#include "runner/two-phase-bootstrap.h"
#include "runner/two-phase-context-bootstrap.h"

int tb_two_phase_allow_stacking(void *ctx)
{
	int r =
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 2,
			     SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER),
			     SCMP_A1(SCMP_CMP_MASKED_EQ, ~(uint64_t)SECCOMP_FILTER_FLAG_TSYNC, 0));

	/* -EEXIST: the profile allows seccomp already. */
	return r == -EEXIST ? 0 : r;
}

enum tb_run_bootstrap tb_two_phase_bootstrap_kind(const char *arg)
{
	if (!strcmp(arg, tb_two_phase_context_bootstrap))
		return TB_RUN_BOOTSTRAP_CONTEXT;
	return strcmp(arg, tb_two_phase_bootstrap) ? TB_RUN_BOOTSTRAP_NONE : TB_RUN_BOOTSTRAP_OTHER;
}

void tb_two_phase_argv_free(char **argv)
{
	if (!argv)
		return;
	/* Only the numbers are ours; the rest points into the config and the bootstrap. */
	free(argv[4]);
	free(argv[5]);
	free(argv);
}

/* The phase-2 program in a sealed memfd, reopened read-only, at an fd >= 10 (see setup_fds). */
static int program_fd(const struct sock_fprog *prog)
{
	_cleanup_close_ int rw = memfd_create("tightbox-phase2", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	_cleanup_close_ int ro = -1;
	size_t n = (size_t)prog->len * sizeof(prog->filter[0]);
	char path[64];
	int fd;

	if (rw < 0)
		return tb_negerrno();
	if (write(rw, prog->filter, n) != (ssize_t)n)
		return -EIO;
	if (fcntl(rw, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
		return tb_negerrno();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", rw);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	if (ro < 0)
		return tb_negerrno();
	fd = fcntl(ro, F_DUPFD_CLOEXEC, 10);
	return fd < 0 ? tb_negerrno() : fd;
}

/* The phase 2 of `record --phase`: allows every call, so the recorder sees the whole user phase. */
static int allow_all(struct sock_fprog *prog, struct tb_diag *d)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;

	if (!ctx)
		return -ENOMEM;
	r = tb_profile_export_bpf(ctx, prog);
	seccomp_release(ctx);
	if (r < 0)
		tb_diag_set(d, NULL, 0, 0, "--phase", "cannot build the phase-2 filter: %s",
			    strerror(-r));
	return r;
}

/* @preload is a valid --preload list: comma-separated module names, not empty. */
static bool preload_valid(const char *preload)
{
	return *preload && strspn(preload, "abcdefghijklmnopqrstuvwxyz"
					   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,") == strlen(preload);
}

bool tb_run_is_python(const char *argv0)
{
	const char *b = strrchr(argv0, '/');

	b = b ? b + 1 : argv0;
	if (strncmp(b, "python", 6))
		return false;
	for (b += 6; *b; b++)
		if (!strchr("0123456789.", *b))
			return false;
	return true;
}

int tb_two_phase_plan(const struct tb_run_config *c, struct tb_run_plan *plan,
		      struct tb_run_result *res, struct tb_diag *d)
{
	struct sock_fprog prog = {0};
	size_t n = 0;
	char **argv, num[16];
	int nr, r;

	if (!c->two_phase_path && !c->two_phase_permissive) {
		if (c->warm) {
			tb_diag_set(d, NULL, 0, 0, "--warm", "--warm needs --two-phase PROFILE2");
			return -EINVAL;
		}
		if (c->preload) {
			tb_diag_set(d, NULL, 0, 0, "--preload",
				    "--preload needs --two-phase PROFILE2");
			return -EINVAL;
		}
		return 0;
	}
	if (c->seccomp_mode == TB_SECCOMP_UNCONFINED) {
		tb_diag_set(d, NULL, 0, 0, "--two-phase",
			    "--two-phase needs a phase-1 profile (not seccomp=unconfined)");
		return -EINVAL;
	}
	if (!tb_run_is_python(c->argv[0]) || !c->argv[1] ||
	    (c->argv[1][0] == '-' && strcmp(c->argv[1], "-m"))) {
		tb_diag_set(
		    d, NULL, 0, 0, "--two-phase",
		    "--two-phase runs a Python script: --script FILE, -- python3 FILE [ARGS] or -- "
		    "python3 -m MODULE [ARGS], without interpreter options (got '%s%s%s')",
		    c->argv[0], c->argv[1] ? " " : "", c->argv[1] ? c->argv[1] : "");
		return -EINVAL;
	}
	if (!strcmp(c->argv[1], "-m") && (!c->argv[2] || !*c->argv[2] || c->argv[2][0] == '-')) {
		tb_diag_set(d, NULL, 0, 0, "--two-phase",
			    "python3 -m needs a module name (got '%s')",
			    c->argv[2] ? c->argv[2] : "");
		return -EINVAL;
	}
	if (c->preload && !preload_valid(c->preload)) {
		tb_diag_set(d, NULL, 0, 0, "--preload",
			    "expected comma-separated module names (got '%s')", c->preload);
		return -EINVAL;
	}
	nr = seccomp_syscall_resolve_name("seccomp");
	if (nr < 0) {
		tb_diag_set(d, NULL, 0, 0, "--two-phase", "libseccomp does not know seccomp(2)");
		return -ENOSYS;
	}
	if (c->two_phase_path)
		r = tb_run_compile_profile(c->two_phase_path, c->trace_denials, false, &prog, res,
					   d);
	else
		r = allow_all(&prog, d);
	if (r < 0)
		return r;
	plan->phase2_fd = program_fd(&prog);
	free(prog.filter);
	if (plan->phase2_fd < 0) {
		r = plan->phase2_fd;
		tb_diag_set(d, c->two_phase_path, 0, 0, "--two-phase",
			    "cannot pass the phase-2 program to the sandbox: %s", strerror(-r));
		return r;
	}
	while (c->argv[n])
		n++;
	/* python3 -I -c BOOTSTRAP FD NR PRELOAD WARM FILE|-m ARGS... NULL */
	argv = calloc(n + 8, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	argv[0] = c->argv[0];
	argv[1] = (char *)"-I";
	argv[2] = (char *)"-c";
	argv[3] = (char *)(c->python_context ? tb_two_phase_context_bootstrap
					     : tb_two_phase_bootstrap);
	snprintf(num, sizeof(num), "%d", TB_PHASE2_FD);
	argv[4] = strdup(num);
	snprintf(num, sizeof(num), "%d", nr);
	argv[5] = strdup(num);
	if (!argv[4] || !argv[5]) {
		tb_two_phase_argv_free(argv);
		return -ENOMEM;
	}
	argv[6] = c->preload ? c->preload : (char *)"";
	argv[7] = (char *)(c->warm ? "1" : "0");
	for (size_t i = 1; i <= n; i++)
		argv[7 + i] = c->argv[i];
	plan->argv = argv;
	return 0;
}
