/* SPDX-License-Identifier: Apache-2.0 */
/* Python context: the bootstrap's command line and the tracer's side of its channel (pyctx.h). */
#include "tracer/pyctx.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "core/strv.h"
#include "core/util.h"
#include "runner/run.h"
#include "tracer/internal.h"

/* ---- the channel -------------------------------------------------------------------------- */

bool tb_pyctx_is_marker(const struct tb_sv_call *c)
{
	static int write_nr = -2;

	if (write_nr == -2)
		write_nr = seccomp_syscall_resolve_name("write");
	/* Native arch only: the bootstrap runs in the interpreter the tracer started. */
	return c->arch == 0 && (int)c->nr == write_nr && (uint32_t)c->args[0] == TB_PYCTX_FD;
}

void tb_pyctx_on_marker(struct tb_pyctx_task *t, const struct tb_sv_call *c)
{
	if (c->args[2] != TB_PYCTX_BUF)
		return; /* not the bootstrap's: ignore */
	t->addr = c->args[1];
	t->starting = false;
	tb_pyctx_free(TB_TAKE_PTR(t->snapshot));
}

static int parse(const char *text, size_t len, struct tb_pyctx **out)
{
	struct tb_pyctx *p = calloc(1, sizeof(*p));
	_cleanup_free_ char *copy = strndup(text, len);
	char *line;
	int idx = 0, r = 0;

	if (!p || !copy) {
		free(p);
		return -ENOMEM;
	}
	/* strtok_r would merge empty lines: split by hand. */
	line = copy;
	while (line && r == 0) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (idx == 0)
			snprintf(p->phase, sizeof(p->phase), "%s", line);
		else if (idx == 1 && *line)
			r = (p->frame = strdup(line)) ? 0 : -ENOMEM;
		else if (idx == 2 && *line)
			r = (p->frame_from = strdup(line)) ? 0 : -ENOMEM;
		else if (idx > 2)
			r = tb_strv_add(&p->chain, line);
		idx++;
		line = nl ? nl + 1 : NULL;
	}
	if (r < 0 || (strcmp(p->phase, "start-up") && strcmp(p->phase, "import") &&
		      strcmp(p->phase, "user"))) {
		tb_pyctx_free(p);
		return r < 0 ? r : -EBADMSG;
	}
	*out = p;
	return 0;
}

static struct tb_pyctx *dup_ctx(const struct tb_pyctx *s)
{
	struct tb_pyctx *p = calloc(1, sizeof(*p));
	int r = 0;

	if (!p)
		return NULL;
	memcpy(p->phase, s->phase, sizeof(p->phase));
	p->frame = s->frame ? strdup(s->frame) : NULL;
	p->frame_from = s->frame_from ? strdup(s->frame_from) : NULL;
	p->inherited = s->inherited;
	for (size_t i = 0; s->chain && s->chain[i] && r == 0; i++)
		r = tb_strv_add(&p->chain, s->chain[i]);
	if (r < 0 || (s->frame && !p->frame) || (s->frame_from && !p->frame_from)) {
		tb_pyctx_free(p);
		return NULL;
	}
	return p;
}

int tb_pyctx_read(pid_t pid, const struct tb_pyctx_task *t, struct tb_pyctx **out)
{
	char buf[TB_PYCTX_BUF];
	struct iovec local = {buf, sizeof(buf)}, remote;
	uint32_t len;
	ssize_t n;

	if (!t->addr && t->starting) {
		*out = calloc(1, sizeof(**out));
		if (*out)
			snprintf((*out)->phase, sizeof((*out)->phase), "start-up");
		return *out ? 0 : -ENOMEM;
	}
	if (!t->addr) {
		if (!t->snapshot)
			return -ENODATA;
		*out = dup_ctx(t->snapshot);
		return *out ? 0 : -ENOMEM;
	}
	remote = (struct iovec){(void *)(uintptr_t)t->addr, sizeof(buf)};
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return tb_negerrno();
	if (n < 8 || memcmp(buf, "TBPC", 4))
		return -EBADMSG;
	memcpy(&len, buf + 4, sizeof(len));
	if (len > (size_t)n - 8)
		return -EBADMSG;
	return parse(buf + 8, len, out);
}

void tb_pyctx_on_fork(pid_t parent, const struct tb_pyctx_task *pt, bool thread,
		      struct tb_pyctx_task *ct)
{
	struct tb_pyctx *now = NULL;

	tb_pyctx_task_clear(ct);
	if (!thread) {
		/* The child's memory is a copy (or, after vfork, the parent's): same address. */
		ct->addr = pt->addr;
		ct->starting = pt->starting;
		ct->snapshot = pt->snapshot ? dup_ctx(pt->snapshot) : NULL;
		return;
	}
	if (tb_pyctx_read(parent, pt, &now) == 0 && now) {
		now->inherited = true;
		ct->snapshot = now;
	}
}

const char *tb_pyctx_top_import(const struct tb_pyctx *p, char *buf, size_t size)
{
	const char *s, *name;

	if (!p || !p->chain || !p->chain[0])
		return NULL;
	s = strstr(p->chain[0], "import ");
	if (!s)
		return NULL;
	name = s + 7;
	snprintf(buf, size, "%.*s", (int)strcspn(name, ". "), name);
	return buf;
}

json_t *tb_pyctx_json(const struct tb_pyctx *p)
{
	json_t *chain = json_array();
	const char *colon = p->frame ? strrchr(p->frame, ':') : NULL;
	json_t *frame = json_null();

	if (!chain)
		return NULL;
	for (size_t i = 0; p->chain && p->chain[i]; i++)
		json_array_append_new(chain, json_string(p->chain[i]));
	if (colon)
		frame = json_pack("{s:s%,s:i,s:o}", "file", p->frame, (size_t)(colon - p->frame),
				  "line", (int)strtol(colon + 1, NULL, 10), "from",
				  p->frame_from ? json_string(p->frame_from) : json_null());
	return json_pack("{s:s,s:o,s:o,s:b}", "phase", p->phase, "user_frame",
			 frame ? frame : json_null(),
			 "import_chain", chain, "inherited", p->inherited);
}

void tb_pyctx_free(struct tb_pyctx *p)
{
	if (!p)
		return;
	free(p->frame);
	free(p->frame_from);
	tb_strv_free(p->chain);
	free(p);
}

void tb_pyctx_task_clear(struct tb_pyctx_task *t)
{
	tb_pyctx_free(TB_TAKE_PTR(t->snapshot));
	t->addr = 0;
	t->starting = false;
}

/* ---- child interpreters: an exec of CPython >= 3.8 runs the bootstrap first ---------------- */

#define EXEC_MAX_ARGS 4096          /* a longer argv is left as it is */
#define EXEC_MAX_BYTES (1u << 20)   /* the argument strings read, at most */
#define EXEC_ARG_MAX ((size_t)131072) /* the kernel's MAX_ARG_STRLEN */
#define EXEC_STACK_GAP 4096u        /* left free below the stack pointer (and its red zone) */

struct tb_pyctx_exec {
	int reg;       /* the argv argument's index: 1 (execve) or 2 (execveat) */
	uint64_t argv; /* its value before */
	uint64_t addr; /* where the new argv and its strings were written */
	size_t len;
	char *saved; /* the @len bytes that were there */
};

/* The argv of an exec as read from the tracee: the strings and where each one is there. */
struct exec_args {
	char **v;     /* v[0] is the exec's path (the classifier's), then argv[1..] */
	uint64_t *rp; /* each string's address in the tracee (rp[0]: argv[0]'s) */
	size_t n;
	char *pool;
};

static void exec_args_free(struct exec_args *a)
{
	free(a->v);
	free(a->rp);
	free(a->pool);
}

/* Reads argv at @addr of @pid; 0, -E2BIG past the bounds above, -EFAULT, -ENOMEM. */
static int read_argv(pid_t pid, uint64_t addr, const char *path, struct exec_args *a)
{
	size_t used = 0;

	a->v = calloc(EXEC_MAX_ARGS + 1, sizeof(*a->v));
	a->rp = calloc(EXEC_MAX_ARGS, sizeof(*a->rp));
	a->pool = malloc(EXEC_MAX_BYTES);
	if (!a->v || !a->rp || !a->pool)
		return -ENOMEM;
	for (a->n = 0;; a->n++) {
		uint64_t p;
		size_t room = EXEC_MAX_BYTES - used;
		int r;

		if (a->n == EXEC_MAX_ARGS)
			return -E2BIG;
		if (tb_sv_read_mem(pid, addr + a->n * sizeof(p), &p, sizeof(p)) < 0)
			return -EFAULT;
		if (!p)
			break;
		a->rp[a->n] = p;
		r = tb_sv_read_string(pid, p, a->pool + used,
				      room < EXEC_ARG_MAX ? room : EXEC_ARG_MAX);
		if (r < 0)
			return r == -ENAMETOOLONG ? -E2BIG : r;
		a->v[a->n] = a->pool + used;
		used += strlen(a->v[a->n]) + 1;
	}
	if (a->n == 0)
		return -EFAULT; /* no argv[0]: nothing to run a bootstrap as */
	/* tb_run_python_context_argv asks argv[0] whether it is Python: the path said so. */
	a->v[0] = (char *)path;
	return 0;
}

/* Where @s (a string of the new argv) is in the tracee, 0 when it is none of the old argv's. */
static uint64_t remote_of(const struct exec_args *a, const char *s)
{
	if (s == a->v[0])
		return a->rp[0];
	for (size_t j = 1; j < a->n; j++)
		if (s >= a->v[j] && s <= a->v[j] + strlen(a->v[j]))
			return a->rp[j] + (uint64_t)(s - a->v[j]);
	return 0;
}

/* Whether [@lo, @sp] of @pid is inside one writable mapping (/proc/PID/maps). */
static bool stack_room(pid_t pid, uint64_t lo, uint64_t sp)
{
	char path[64], line[512];
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end;
		char perms[5];

		/* NOLINTNEXTLINE(cert-err34-c): /proc/PID/maps is kernel-written */
		if (sscanf(line, "%llx-%llx %4s", &start, &end, perms) == 3 && start <= sp && sp < end)
			return start <= lo && perms[1] == 'w';
	}
	return false;
}

/* Lays @out (the new argv) out at @addr: the pointer array, then the strings it adds. */
static int build_blob(const struct exec_args *a, char *const *out, uint64_t addr, char **blob,
		      size_t *len)
{
	size_t k = 0, at, size;
	uint64_t *ptrs;
	char *b;

	while (out[k])
		k++;
	size = (k + 1) * sizeof(uint64_t);
	for (size_t i = 0; i < k; i++)
		if (!remote_of(a, out[i]))
			size += strlen(out[i]) + 1;
	b = calloc(1, size);
	if (!b)
		return -ENOMEM;
	ptrs = (uint64_t *)(void *)b;
	at = (k + 1) * sizeof(uint64_t);
	for (size_t i = 0; i < k; i++) {
		ptrs[i] = remote_of(a, out[i]);
		if (!ptrs[i]) {
			size_t n = strlen(out[i]) + 1;

			memcpy(b + at, out[i], n);
			ptrs[i] = addr + at;
			at += n;
		}
	}
	*blob = b;
	*len = size;
	return 0;
}

static size_t blob_size(const struct exec_args *a, char *const *out)
{
	size_t k = 0, size = 0;

	for (; out[k]; k++)
		if (!remote_of(a, out[k]))
			size += strlen(out[k]) + 1;
	return size + (k + 1) * sizeof(uint64_t);
}

/* Writes the new argv @out below @pid's stack pointer and points the exec at it. */
static int rewrite(pid_t pid, int reg, const struct exec_args *a, char *const *out,
		   struct tb_pyctx_exec **undo)
{
	struct user_regs_struct regs;
	_cleanup_free_ char *blob = NULL;
	struct tb_pyctx_exec *u;
	size_t len;
	uint64_t addr;

	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
		return TB_PYCTX_EXEC_NONE;
	/* Below the red zone, where the program keeps nothing; put back if the exec fails. */
	addr = (regs.rsp - EXEC_STACK_GAP - blob_size(a, out)) & ~(uint64_t)15;
	if (!stack_room(pid, addr, regs.rsp))
		return TB_PYCTX_EXEC_NONE;
	if (build_blob(a, out, addr, &blob, &len) < 0 || !(u = calloc(1, sizeof(*u))))
		return -ENOMEM;
	*u = (struct tb_pyctx_exec){.reg = reg, .argv = reg == 1 ? regs.rsi : regs.rdx,
				    .addr = addr, .len = len, .saved = malloc(len)};
	if (!u->saved) {
		free(u);
		return -ENOMEM;
	}
	if (tb_sv_read_mem(pid, addr, u->saved, len) < 0 || tb_sv_write_mem(pid, addr, blob, len) < 0)
		goto undo;
	if (reg == 1)
		regs.rsi = addr;
	else
		regs.rdx = addr;
	if (ptrace(PTRACE_SETREGS, pid, 0, &regs) < 0)
		goto undo;
	*undo = u;
	return TB_PYCTX_EXEC_REWRITTEN;
undo:
	(void)tb_sv_write_mem(pid, addr, u->saved, len);
	tb_pyctx_exec_free(u);
	return TB_PYCTX_EXEC_NONE;
}

int tb_pyctx_exec(const struct tb_sv_call *c, struct tb_pyctx_exec **undo)
{
	static int nr_execve = -2, nr_execveat = -2;
	struct exec_args a = {0};
	_cleanup_free_ char **out = NULL;
	const char *why;
	char path[4096];
	int reg, r;

	*undo = NULL;
	if (nr_execve == -2) {
		nr_execve = seccomp_syscall_resolve_name("execve");
		nr_execveat = seccomp_syscall_resolve_name("execveat");
	}
	if (c->arch != 0)
		return TB_PYCTX_EXEC_NONE; /* native programs only, as the markers */
	if ((int)c->nr == nr_execve)
		reg = 1;
	else if ((int)c->nr == nr_execveat && !(c->args[4] & AT_EMPTY_PATH))
		reg = 2;
	else
		return TB_PYCTX_EXEC_NONE;
	if (tb_sv_read_string(c->pid, c->args[reg - 1], path, sizeof(path)) < 0 ||
	    !tb_run_is_python(path) || (reg == 2 && path[0] != '/' && (int)c->args[0] != AT_FDCWD))
		return TB_PYCTX_EXEC_NONE;
	/* CPython >= 3.8 only: audit hooks; an older or another interpreter runs untouched. */
	if (tb_python_exec_version(c->pid, path) < 308)
		return TB_PYCTX_EXEC_NONE;
	r = read_argv(c->pid, c->args[reg], path, &a);
	for (size_t j = 1; r == 0 && j < a.n; j++) {
		enum tb_run_bootstrap k = tb_run_bootstrap_kind(a.v[j]);

		/* The sandbox's own command (or a program that copied it) runs the bootstrap
		 * already; a two-phase one without the context stays as it is. */
		if (k != TB_RUN_BOOTSTRAP_NONE)
			r = k == TB_RUN_BOOTSTRAP_CONTEXT ? TB_PYCTX_EXEC_BOOTSTRAP : -EEXIST;
	}
	if (r == 0)
		r = tb_run_python_context_argv(a.v, &out, &why);
	if (r == 0)
		r = rewrite(c->pid, reg, &a, out, undo);
	exec_args_free(&a);
	/* Anything but memory: the exec runs as it is, without context. */
	return r == -ENOMEM || r >= 0 ? r : TB_PYCTX_EXEC_NONE;
}

void tb_pyctx_exec_undo(pid_t pid, const struct tb_pyctx_exec *u)
{
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0) {
		if (u->reg == 1)
			regs.rsi = u->argv;
		else
			regs.rdx = u->argv;
		(void)ptrace(PTRACE_SETREGS, pid, 0, &regs);
	}
	(void)tb_sv_write_mem(pid, u->addr, u->saved, u->len);
}

void tb_pyctx_exec_free(struct tb_pyctx_exec *u)
{
	if (!u)
		return;
	free(u->saved);
	free(u);
}
