/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The explain supervisor: tb_run() with the profile compiled so that every refusal becomes a
 * SECCOMP_RET_TRACE stop (data = the errno, TB_TRACE_KILL or TB_TRACE_TRAP). At each stop the
 * supervisor records the call, then makes it fail the way the profile would have: the syscall is
 * skipped (number -1) with -errno as its result, the process is killed, or SIGSYS is delivered with
 * the siginfo seccomp would have built. The program therefore sees what it sees under plain
 * `tightbox run`; only the report is new.
 */
#include "tracer/explain.h"

#include <limits.h>
#include <linux/audit.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include "core/fileio.h"
#include "core/profile.h"
#include "core/strv.h"
#include "core/util.h"
#include "tracer/ceiling.h"
#include "tracer/internal.h"
#include "tracer/ptrace-supervisor.h"
#include "tracer/pyctx.h"

/* How much of a task's last stderr writes explain keeps. */
#define STDERR_KEEP 1024

/* Explain's state per task (the supervisor's priv). */
struct xtask {
	struct tb_pyctx_task py;
	char err[STDERR_KEEP]; /* the last bytes the task wrote on stderr */
	size_t err_len;
};

_Static_assert((TB_EXPLAIN_MAX_DENIALS & (TB_EXPLAIN_MAX_DENIALS - 1)) == 0 &&
		   TB_EXPLAIN_MAX_DENIALS < 65535,
	       "slots: a power of two, indexes in uint16_t");

struct tb_explain_state {
	struct tb_explain_report *rep;
	size_t cap; /* rep->denials allocated */
	/* rep->denials by key: open addressing, index + 1 (0: free), at most half full. */
	uint16_t slots[2 * TB_EXPLAIN_MAX_DENIALS];
	bool learn;
	bool markers; /* a Python-context marker was seen */
	struct tb_sv *sv;
	struct xtask *root; /* the sandbox init's state (the runner reaps it, not the supervisor) */
	int err; /* first failure of the report itself (-errno) */
	const char *err_step;
	struct timespec t0;
};

static uint64_t since_us(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - t0->tv_sec) * 1000000u +
	       (uint64_t)((now.tv_nsec - t0->tv_nsec) / 1000);
}

static void fail(struct tb_explain_state *st, int err, const char *step)
{
	if (!st->err) {
		st->err = err;
		st->err_step = step;
	}
}

/* ---- /proc helpers ---------------------------------------------------------------------- */

static char *proc_exe(pid_t pid)
{
	char buf[4096];

	return tb_sv_proc_link(pid, "exe", buf, sizeof(buf)) == 0 ? strdup(buf) : NULL;
}

static char *proc_comm(pid_t pid)
{
	char path[64], buf[64];
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f))
		return NULL;
	buf[strcspn(buf, "\n")] = '\0';
	/* f is closed by _cleanup_fclose_, which cppcheck does not model. */
	/* cppcheck-suppress resourceLeak */
	return strdup(buf);
}

/* ---- names -------------------------------------------------------------------------------- */

/* The recording format's label of the arch (one table: the supervisor's). */
static const char *arch_label(const struct tb_sv_call *c)
{
	return c->arch >= 0 ? tb_sv_arch(c->arch)->label : "unknown";
}

static char *syscall_name(const struct tb_sv_call *c)
{
	char *n = c->arch >= 0 ? seccomp_syscall_resolve_num_arch(tb_sv_arch(c->arch)->token,
								   (int)c->raw_nr)
			       : NULL;

	if (n)
		return n;
	if (asprintf(&n, "nr_%llu", (unsigned long long)c->raw_nr) < 0)
		return NULL;
	return n;
}

/* ---- recording one denial ----------------------------------------------------------------- */

/* The slot of the denial with this key, or the free slot where it goes. */
static size_t find_slot(const struct tb_explain_state *st, uint32_t audit_arch, int nr,
			uint32_t data, bool ceiling)
{
	const size_t mask = TB_ARRAY_SIZE(st->slots) - 1;
	uint64_t h = ((uint64_t)audit_arch << 32 ^ (uint32_t)nr ^ (uint64_t)data << 17 ^ ceiling) *
		     0x9e3779b97f4a7c15ull;
	size_t i = (size_t)(h >> 40) & mask;

	for (;; i = (i + 1) & mask) {
		const struct tb_explain_denial *x;

		if (!st->slots[i])
			return i;
		x = &st->rep->denials[st->slots[i] - 1];
		if (x->audit_arch == audit_arch && x->nr == nr && x->data == data &&
		    x->ceiling == ceiling)
			return i;
	}
}

static int record(struct tb_explain_state *st, const struct tb_sv_call *in,
		  const struct xtask *task, struct tb_explain_denial **found)
{
	struct tb_explain_report *rep = st->rep;
	uint32_t data = in->ceiling_errno ? (uint32_t)in->ceiling_errno : in->data;
	bool ceiling = in->ceiling_errno > 0;
	pid_t pid = in->pid;
	struct tb_explain_denial *dn = NULL;
	_cleanup_free_ char *name = NULL;
	_cleanup_free_ char *decoded = NULL;
	size_t slot;
	int r;

	rep->total++;
	slot = find_slot(st, in->audit_arch, (int)in->raw_nr, data, ceiling);
	if (st->slots[slot])
		dn = &rep->denials[st->slots[slot] - 1];
	if (!dn) {
		if (rep->n_denials == TB_EXPLAIN_MAX_DENIALS) {
			rep->unlisted++;
			return 0;
		}
		if (rep->n_denials == st->cap) {
			size_t cap = st->cap ? 2 * st->cap : 16;
			struct tb_explain_denial *n = realloc(rep->denials, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			rep->denials = n;
			st->cap = cap;
		}
		name = syscall_name(in);
		if (!name)
			return -ENOMEM;
		dn = &rep->denials[rep->n_denials++];
		st->slots[slot] = (uint16_t)rep->n_denials;
		memset(dn, 0, sizeof(*dn));
		dn->name = TB_TAKE_PTR(name);
		dn->arch = arch_label(in);
		dn->audit_arch = in->audit_arch;
		dn->nr = (int)in->raw_nr;
		dn->data = data;
		dn->ceiling = ceiling;
		dn->first_seq = rep->total;
		dn->first_us = since_us(&st->t0);
		dn->ip = in->ip;
		dn->pid = pid;
		dn->nspid = tb_sv_proc_status(pid, "NSpid");
		dn->exe = proc_exe(pid);
		dn->comm = proc_comm(pid);
		dn->dangerous = tb_dangerous_lookup(dn->name);
		if (task && tb_pyctx_read(pid, &task->py, &dn->py) == -ENOMEM)
			return -ENOMEM;
	}
	dn->count++;
	*found = dn;
	for (size_t i = 0; i < dn->n_variants; i++)
		if (!memcmp(dn->variants[i].args, in->args, sizeof(dn->variants[i].args))) {
			dn->variants[i].count++;
			return 0;
		}
	if (dn->n_variants == TB_EXPLAIN_MAX_VARIANTS) {
		dn->more_variants = true;
		return 0;
	}
	r = tb_explain_decode(pid, dn->name, (const uint64_t *)in->args, &decoded);
	if (r < 0)
		return r;
	memcpy(dn->variants[dn->n_variants].args, in->args, sizeof(in->args));
	dn->variants[dn->n_variants].decoded = TB_TAKE_PTR(decoded);
	dn->variants[dn->n_variants].count = 1;
	dn->n_variants++;
	return 0;
}

/*
 * At each stop the profile's filter (or the supervisor's listener refusal) made: record the
 * denial, then answer as the profile's action would have.
 */
/* Appends what @c (write or writev to fd 2) writes to @t's last stderr bytes. */
static void keep_stderr(struct xtask *t, const struct tb_sv_call *c)
{
	struct iovec remote[64], local;
	size_t n = 1;
	char buf[STDERR_KEEP];
	ssize_t got;

	if (c->nr == (uint64_t)seccomp_syscall_resolve_name("writev")) {
		struct iovec lv = {remote, sizeof(remote)}, rv = {(void *)(uintptr_t)c->args[1],
								  sizeof(remote)};
		size_t cnt = c->args[2] < 64 ? (size_t)c->args[2] : 64;

		rv.iov_len = cnt * sizeof(remote[0]);
		lv.iov_len = rv.iov_len;
		if (process_vm_readv(c->pid, &lv, 1, &rv, 1, 0) != (ssize_t)rv.iov_len)
			return;
		n = cnt;
	} else {
		remote[0] = (struct iovec){(void *)(uintptr_t)c->args[1], (size_t)c->args[2]};
	}
	local = (struct iovec){buf, sizeof(buf)};
	got = process_vm_readv(c->pid, &local, 1, remote, n, 0);
	if (got <= 0)
		return;
	if ((size_t)got + t->err_len > sizeof(t->err)) {
		size_t drop = (size_t)got + t->err_len - sizeof(t->err);

		drop = drop > t->err_len ? t->err_len : drop;
		memmove(t->err, t->err + drop, t->err_len - drop);
		t->err_len -= drop;
	}
	if ((size_t)got > sizeof(t->err) - t->err_len)
		got = (ssize_t)(sizeof(t->err) - t->err_len);
	memcpy(t->err + t->err_len, buf, (size_t)got);
	t->err_len += (size_t)got;
}

static struct xtask *xtask_get(void **priv)
{
	if (!*priv)
		*priv = calloc(1, sizeof(struct xtask));
	return *priv;
}

static struct tb_sv_answer on_seccomp(void *data, const struct tb_sv_call *c, void **priv)
{
	struct tb_explain_state *st = data;
	struct tb_explain_report *rep = st->rep;
	struct tb_explain_denial *dn = NULL;
	struct xtask *t = xtask_get(priv);
	bool marker = tb_pyctx_is_marker(c);
	int r = 0;

	if (!t)
		fail(st, -ENOMEM, "tracking a process");
	/* The base filter's own stops run on: the kernel answers them as it would untraced. */
	if (c->data == TB_SV_DATA_MARKER || c->data == TB_SV_DATA_STDERR ||
	    c->data == TB_SV_DATA_EXEC) {
		if (t && marker) {
			tb_pyctx_on_marker(&t->py, c);
			st->markers = true;
		} else if (t && c->data == TB_SV_DATA_STDERR) {
			keep_stderr(t, c);
			if (c->pid == tb_sv_root(st->sv))
				st->root = t;
		}
		return (struct tb_sv_answer){TB_SV_CONTINUE, 0};
	}
	/* A marker the profile denies (it denies write): answered as the profile says, never
	 * reported. Anyone can make this call; it never changes the answer. */
	if (marker) {
		if (t)
			tb_pyctx_on_marker(&t->py, c);
	} else {
		r = record(st, c, t, &dn); /* dn stays NULL past TB_EXPLAIN_MAX_DENIALS */
	}
	if (r < 0)
		fail(st, r, "recording a denial");
	if (c->ceiling_errno)
		return (struct tb_sv_answer){TB_SV_ERRNO, c->ceiling_errno};
	if (st->learn) {
		/* The profile's filter outranks the base filter's ceiling rule on a tie (the newest
		 * TRACE wins), so ask the ceiling's table itself. */
		if (!dn || tb_ceiling_refuses(TB_CEILING_DANGEROUS | TB_CEILING_LISTENER, dn->name,
					      c->args))
			return (struct tb_sv_answer){
				TB_SV_ERRNO, c->data < 4096 ? (int)c->data : TB_CEILING_ERRNO};
		return (struct tb_sv_answer){TB_SV_CONTINUE, 0};
	}
	if (c->data == TB_TRACE_KILL) {
		/* The kernel would report SIGSYS; a tracer can only send SIGKILL, so tb_explain_run()
		 * rewrites the sandbox init's status (see docs/explain.md). */
		if (!rep->killed) {
			rep->killed = true;
			rep->killed_nspid = tb_sv_proc_status(c->pid, "NSpid");
			rep->killed_by = dn ? strdup(dn->name) : syscall_name(c);
		}
		return (struct tb_sv_answer){TB_SV_KILL, 0};
	}
	if (c->data == TB_TRACE_TRAP)
		return (struct tb_sv_answer){TB_SV_TRAP, 0};
	return (struct tb_sv_answer){TB_SV_ERRNO, (int)c->data};
}

static void on_fork(void *data, pid_t parent, pid_t child, bool thread, void **ppriv,
		    void **cpriv)
{
	struct xtask *pt = *ppriv, *ct;

	(void)data;
	if (!pt || !(pt->py.addr || pt->py.snapshot) || !(ct = xtask_get(cpriv)))
		return;
	tb_pyctx_on_fork(parent, &pt->py, thread, &ct->py);
}

/* The end of a task: how the denials it made first ended, and its last words on stderr. */
static void on_task_exit(void *data, pid_t pid, int status, void **priv)
{
	struct tb_explain_state *st = data;
	struct xtask *t = *priv;
	bool failed = !WIFEXITED(status) || WEXITSTATUS(status);

	for (size_t i = 0; i < st->rep->n_denials; i++) {
		struct tb_explain_denial *dn = &st->rep->denials[i];

		if (dn->pid != pid || dn->exit_known)
			continue;
		dn->exit_known = true;
		dn->exit_status = status;
		/* A Python program's traceback is on stderr anyway: the words are the loader's (or
		 * a program's without Python context). */
		if (failed && t && t->err_len && !dn->stderr_text && !dn->py)
			dn->stderr_text = strndup(t->err, t->err_len);
	}
}

/* A new program image: the old one's buffer is gone; an interpreter under the bootstrap is
 * starting. */
static void on_exec(void *data, pid_t pid, bool python, void **priv)
{
	struct xtask *t = python ? xtask_get(priv) : *priv;

	(void)data;
	(void)pid;
	if (t) {
		tb_pyctx_task_clear(&t->py);
		t->py.starting = python;
	}
}

static void xtask_free(void *priv)
{
	struct xtask *t = priv;

	tb_pyctx_task_clear(&t->py);
	free(t);
}

static const struct tb_sv_ops explain_ops = {.on_seccomp = on_seccomp,
					     .on_fork = on_fork,
					     .on_exec = on_exec,
					     .on_task_exit = on_task_exit,
					     .free_priv = xtask_free};

/* ---- after the run: Python location, suggestion, warnings --------------------------------- */

/*
 * The last `File "X", line N, in F` of the traceback CPython printed on stderr, and the exception
 * line that ends it. The captured stderr is the only view tightbox has into the interpreter.
 */
static int find_python_location(struct tb_explain_report *rep, const char *err, size_t len)
{
	const char *p = err, *end = err + len;
	const char *last = NULL, *exc = NULL;
	size_t exc_len = 0;

	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (le - p > 8 && !strncmp(p, "  File \"", 8)) {
			last = p;
			exc = NULL;
		} else if (last && !exc && le > p && p[0] != ' ' && p[0] != '\t') {
			exc = p;
			exc_len = (size_t)(le - p);
		}
		p = nl ? nl + 1 : NULL;
	}
	if (!last)
		return 0;
	const char *f = last + 8, *q = strchr(f, '"');
	if (!q)
		return 0;
	int line = 0;
	char func[256] = "";
	/* NOLINTNEXTLINE(cert-err34-c): a best-effort hint; an overflowing line number is only cosmetic */
	if (sscanf(q, "\", line %d, in %255[^\n]", &line, func) < 1)
		return 0;
	rep->py_file = strndup(f, (size_t)(q - f));
	rep->py_line = line;
	rep->py_function = func[0] ? strdup(func) : NULL;
	rep->py_error = exc ? strndup(exc, exc_len) : NULL;
	if (!rep->py_file)
		return -ENOMEM;
	return 0;
}

static int finish_report(struct tb_explain_report *rep, const struct tb_run_config *c,
			 const struct tb_run_result *res)
{
	_cleanup_free_ char *diagtext = NULL;
	struct tb_profile *p = NULL;
	struct tb_diag d;
	int r;

	if (res->err && res->err_len) {
		r = find_python_location(rep, res->err, res->err_len);
		if (r < 0)
			return r;
	}
	if (rep->profile) {
		tb_diag_clear(&d);
		if (tb_profile_load(rep->profile, &p, &d) < 0) {
			char buf[1200];
			r = tb_explain_report_warn(rep, "cannot re-read the profile for suggestions: %s",
					tb_diag_format(&d, buf, sizeof(buf)));
			if (r < 0)
				return r;
		}
	}
	/* Suggestions and the warnings about what is left out: tracer/explain-report.c. */
	r = tb_explain_suggest(rep, p);
	(void)c;
	tb_profile_free(p);
	return r;
}

/*
 * Whether the run gets the Python context: *@on, and *@argv the bootstrap's command
 * (tracer/pyctx.h) when the command itself is Python, else NULL with @rep->pyctx_note saying why
 * (its child interpreters may still have context: the note goes when one does). 0 or -ENOMEM.
 */
static int python_context(const struct tb_run_config *c, const struct tb_explain_opts *o,
			  struct tb_explain_report *rep, char ***argv, bool *on)
{
	const char *why = NULL;
	int r;

	*argv = NULL;
	*on = !(o && o->no_python_context);
	if (!*on)
		why = "off (--no-python-context)";
	if (why)
		return (rep->pyctx_note = strdup(why)) ? 0 : -ENOMEM;
	/* The two-phase bootstrap runs the script, with the context's code in front of it. */
	if (c->two_phase_path || c->two_phase_permissive)
		return 0;
	r = tb_run_python_context_argv(c->argv, argv, &why);
	if (r == -ENOTSUP)
		r = asprintf(&rep->pyctx_note, "%s (%s)", why, c->argv && c->argv[0] ? c->argv[0] : "")
			    < 0 ? -ENOMEM : 0;
	return r;
}

/* ---- public API --------------------------------------------------------------------------- */

void tb_explain_report_free(struct tb_explain_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_denials; i++) {
		struct tb_explain_denial *d = &r->denials[i];
		free(d->name);
		free(d->exe);
		free(d->comm);
		for (size_t v = 0; v < d->n_variants; v++)
			free(d->variants[v].decoded);
		tb_pyctx_free(d->py);
		free(d->stderr_text);
	}
	free(r->denials);
	free(r->killed_by);
	free(r->py_file);
	free(r->py_function);
	free(r->py_error);
	free(r->pyctx_note);
	free(r->suggestion);
	for (size_t i = 0; i < r->n_warnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r->profile);
	tb_explain_aa_free(r);
	free(r);
}

int tb_explain_run(const struct tb_run_config *c, const struct tb_explain_opts *o,
		   struct tb_explain_report **out, struct tb_run_result *res, struct tb_diag *d)
{
	struct tb_explain_report *rep = calloc(1, sizeof(*rep));
	struct tb_explain_state st = {.rep = rep, .learn = o && o->learn};
	struct tb_sv *sv = NULL;
	struct tb_run_config cc;
	struct tb_run_hooks hooks = {0};
	const char *step = NULL;
	_cleanup_close_ int kmsg = -1;
	_cleanup_free_ char **pyargv = NULL;
	bool pyon;
	int r;

	if (!rep)
		return -ENOMEM;
	rep->learn = st.learn;
	if (c->apparmor_profile) {
		/* AppArmor's denials are in the kernel log, not in front of the supervisor. */
		if (!(rep->aa_profile = strdup(c->apparmor_profile))) {
			r = -ENOMEM;
			goto done;
		}
		kmsg = tb_explain_aa_open();
		rep->aa_log_unreadable = kmsg < 0;
	}
	if (c->seccomp_mode == TB_SECCOMP_UNCONFINED) {
		/* Nothing can be denied: run plainly and say so. */
		r = tb_run(c, NULL, res, d);
		if (r >= 0)
			r = tb_explain_report_warn(rep, "seccomp=unconfined: no profile, nothing can be denied");
		goto done;
	}
	if (c->seccomp_mode == TB_SECCOMP_FILE)
		r = (rep->profile = strdup(c->seccomp_path)) ? 0 : -ENOMEM;
	else {
		/* The default profile tb_run() will load (a missing one fails there, with its
		 * diagnostic). */
		char path[PATH_MAX];

		r = 0;
		if (tb_data_path("default.json", path, sizeof(path)) == 0)
			r = (rep->profile = strdup(path)) ? 0 : -ENOMEM;
	}
	if (r < 0)
		goto done;
	cc = *c; /* shallow: trace_denials, python_context and argv differ, nothing of @c is freed
		  * through it */
	cc.trace_denials = true;
	r = python_context(c, o, rep, &pyargv, &pyon);
	if (r < 0)
		goto done;
	if (pyargv)
		cc.argv = pyargv;
	cc.python_context = pyon;
	r = tb_sv_new(TB_SV_BASE_EXPLAIN,
		      TB_SV_WATCH_STDERR | (pyon ? TB_SV_WATCH_MARKERS | TB_SV_WATCH_EXECS : 0),
		      &explain_ops, &st, &sv);
	if (r < 0) {
		tb_diag_set(d, NULL, 0, 0, "explain", "building the supervisor's filter: %s",
			    strerror(-r));
		goto done;
	}
	if (pyon)
		tb_sv_follow_python(sv); /* child interpreters get the context too */
	st.sv = sv;
	tb_sv_hooks(sv, &hooks);
	clock_gettime(CLOCK_MONOTONIC, &st.t0);
	r = tb_run(&cc, &hooks, res, d);
	if (r < 0)
		goto done;
	if (!st.err)
		st.err = tb_sv_error(sv, &step);
	else
		step = st.err_step;
	if (st.err) {
		tb_diag_set(d, NULL, 0, 0, "explain", "supervisor failed at %s: %s", step,
			    strerror(-st.err));
		r = st.err;
		goto done;
	}
	if (tb_sv_root_killed(sv) && !res->exited && res->signal == SIGKILL)
		res->signal = SIGSYS;
	/* The runner reaps the sandbox init itself: its end is the run's. */
	for (size_t i = 0; i < rep->n_denials; i++) {
		struct tb_explain_denial *dn = &rep->denials[i];

		if (dn->pid == tb_sv_root(sv) && !dn->exit_known && (res->exited || res->signal)) {
			dn->exit_known = true;
			dn->exit_status = res->exited ? W_EXITCODE(res->exit_code, 0) : res->signal;
			if ((!res->exited || res->exit_code) && st.root && st.root->err_len && !dn->py &&
			    !(dn->stderr_text = strndup(st.root->err, st.root->err_len))) {
				r = -ENOMEM;
				goto done;
			}
		}
	}
	if (st.markers)
		free(TB_TAKE_PTR(rep->pyctx_note)); /* a child interpreter gave it */
	if ((pyargv || (pyon && cc.two_phase_path)) && !st.markers && !(rep->pyctx_note = strdup(
		"the interpreter gave none (CPython older than 3.8, or it failed at start-up)")))
		r = -ENOMEM;
	else
		r = finish_report(rep, c, res);
done:
	if (r >= 0 && kmsg >= 0 && tb_explain_aa_collect(kmsg, rep->aa_profile, rep) < 0)
		rep->aa_log_unreadable = true;
	tb_sv_free(sv);
	if (r < 0) {
		if (r == -ENOMEM)
			tb_diag_set(d, NULL, 0, 0, "explain", "out of memory");
		tb_explain_report_free(rep);
		return r;
	}
	*out = rep;
	return 0;
}
