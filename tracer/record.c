/* SPDX-License-Identifier: Apache-2.0 */
/* The recording dispatcher: backend choice and provenance. */
#include "tracer/record.h"

#include <errno.h>
#include <gnu/libc-version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "core/util.h"
#include "tracer/internal.h"

int tb_backend_parse(const char *s, enum tb_backend *out)
{
	if (!strcmp(s, "auto"))
		*out = TB_BACKEND_AUTO;
	else if (!strcmp(s, "ptrace"))
		*out = TB_BACKEND_PTRACE;
	else if (!strcmp(s, "bpf"))
		*out = TB_BACKEND_BPF;
	else
		return -EINVAL;
	return 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* Default workload name for @c: --script basename without ".py", else argv[0]'s basename. */
static char *default_workload(const struct tb_run_config *c)
{
	const char *b;
	size_t n;

	if (c->script) {
		b = base_name(c->script);
		n = strlen(b);
		if (n > 3 && !strcmp(b + n - 3, ".py"))
			n -= 3;
		return strndup(b, n);
	}
	return strdup(c->argv && c->argv[0] ? base_name(c->argv[0]) : "workload");
}

static int fill_provenance(struct tb_recording *r, const struct tb_run_config *c,
			   const char *backend, const char *workload, const struct tb_run_result *res)
{
	struct tb_rec_provenance *p = &r->prov;
	struct utsname u;
	size_t n = 0;
	char libc[64];

	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	snprintf(libc, sizeof(libc), "glibc %s", gnu_get_libc_version());
	p->tightbox_version = strdup(TB_VERSION);
	p->backend = strdup(backend);
	p->kernel = strdup(u.release);
	p->arch = strdup(u.machine);
	p->libc = strdup(libc);
	if (!p->tightbox_version || !p->backend || !p->kernel || !p->arch || !p->libc)
		return -ENOMEM;
	while (c->argv && c->argv[n])
		n++;
	p->command = calloc(n + 1, sizeof(char *));
	if (!p->command)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(p->command[i] = strdup(c->argv[i])))
			return -ENOMEM;
	if (n && tb_run_is_python(c->argv[0]))
		p->python = tb_python_version(c);
	p->exited = res->exited;
	p->exit_code = res->exit_code;
	p->signal = res->signal;
	p->timed_out = res->timed_out;
	p->duration_ms = res->wall_ms;
	return tb_recording_set_workload(r, workload);
}

int tb_record(const struct tb_run_config *c, const struct tb_record_opts *o,
	      struct tb_recording **out, struct tb_run_result *res, struct tb_diag *diag)
{
	struct tb_recording *r = tb_recording_new();
	_cleanup_free_ char *workload = NULL;
	enum tb_backend b = o->backend;
	char why[160];
	int ret;

	if (!r)
		return -ENOMEM;
	workload = o->workload ? strdup(o->workload) : default_workload(c);
	if (!workload) {
		tb_recording_free(r);
		return -ENOMEM;
	}
	if (o->phase) {
		struct tb_run_config pc = *c;

		/* The ptrace backend sees the bootstrap's stack as one syscall stop: an exact
		 * boundary. The eBPF backend has no such marker yet. */
		if (b == TB_BACKEND_BPF) {
			tb_diag_set(diag, NULL, 0, 0, "--phase",
				    "--phase needs --backend ptrace (or auto)");
			tb_recording_free(r);
			return -EINVAL;
		}
		/* A real phase 2 would answer its denials before the recorder's trace filter sees
		 * them: the user phase is recorded with a phase 2 that allows everything. */
		if (c->two_phase_path) {
			tb_diag_set(diag, NULL, 0, 0, "--phase",
				    "--phase records with a phase 2 that allows everything: drop "
				    "--two-phase");
			tb_recording_free(r);
			return -EINVAL;
		}
		b = TB_BACKEND_PTRACE;
		pc.two_phase_permissive = true;
		ret = !strcmp(o->phase, "user") ? tb_ptrace_record_user_phase(&pc, o->enforce, r, res, diag)
						: tb_ptrace_record(&pc, o->enforce, false, r, res, diag);
	} else {
		bool chosen = b == TB_BACKEND_AUTO;

		if (b == TB_BACKEND_AUTO)
			b = tb_bpf_available(why, sizeof(why)) == 0 ? TB_BACKEND_BPF
								    : TB_BACKEND_PTRACE;
		if (b == TB_BACKEND_BPF)
			ret = tb_bpf_record(c, o->enforce, r, res, diag);
		else
			ret = tb_ptrace_record(c, o->enforce, o->python_context, r, res, diag);
		if (ret == 0 && b == TB_BACKEND_BPF && o->python_context &&
		    tb_run_is_python(c->argv[0]))
			ret = tb_run_result_warnf(res, TB_WARN_OTHER, "python-context",
						  "the Python context needs --backend ptrace: this "
						  "recording has none");
		if (ret == TB_BPF_NOT_LOADED && chosen) {
			char refused[sizeof(diag->message)];

			snprintf(refused, sizeof(refused), "%s", diag->message);
			tb_diag_clear(diag);
			b = TB_BACKEND_PTRACE;
			ret = tb_ptrace_record(c, o->enforce, o->python_context, r, res, diag);
			if (ret == 0)
				ret = tb_run_result_warnf(res, TB_WARN_OTHER, "bpf",
							  "the eBPF backend could not load (%s): "
							  "recorded with ptrace",
							  refused);
		} else if (ret == TB_BPF_NOT_LOADED) {
			ret = -ENOTSUP;
		}
	}
	if (ret == 0 && res->exec_failed) {
		ret = res->exec_errno ? -res->exec_errno : -ENOENT;
		if (res->error) /* the runner's own words (e.g. "the seccomp profile denies execve") */
			tb_diag_set(diag, NULL, 0, 0, NULL, "%s", res->error);
		else
			tb_diag_set(diag, NULL, 0, 0, NULL, "cannot execute %s: %s", c->argv[0],
				    strerror(-ret));
	}
	if (ret == 0) {
		ret = fill_provenance(r, c, b == TB_BACKEND_BPF ? "bpf" : "ptrace", workload, res);
		if (ret == 0 && o->phase && !(r->prov.phase = strdup(o->phase)))
			ret = -ENOMEM;
		if (ret < 0)
			tb_diag_set(diag, NULL, 0, 0, NULL, "recording: %s", strerror(-ret));
	}
	if (ret < 0) {
		tb_recording_free(r);
		return ret;
	}
	*out = r;
	return 0;
}
