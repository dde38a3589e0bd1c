/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ptrace recorder engine.
 *
 * One stop per syscall: the tracee's own seccomp filter returns SECCOMP_RET_TRACE for every call,
 * so the kernel stops it once at entry (PTRACE_EVENT_SECCOMP) and we read arch, number and
 * arguments with PTRACE_GET_SYSCALL_INFO, then PTRACE_CONT. Only for file syscalls whose result
 * matters (did the open succeed?) do we resume with PTRACE_SYSCALL to get the exit stop too, and
 * only for the first TB_EXIT_CHECKS occurrences of a (path, operation): after that the path's
 * ok/failed sets are already known and a loop of 200k os.stat costs one stop per call, not two.
 */
#include "tracer/ptrace-engine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/socket-family.h"
#include "core/strv.h"
#include "core/syscall-specs.h"
#include "core/util.h"
#include "tracer/ptrace-supervisor.h"
#include "tracer/pyctx.h"

/* Exit stops per (path, op): enough to see both outcomes of a path that changes mid-run. */
#define TB_EXIT_CHECKS 4
#define TB_NR_SLOTS 1024
#define ARCH_N TB_SV_MAX_ARCH

/* What the recorder takes from (arch, nr): core/syscall-specs.c, resolved per arch. */
struct tb_slot {
	const struct tb_syscall_spec *spec; /* NULL: only counted */
	const char *name;
};

/* What a tracee waits to learn at its syscall-exit stop (the supervisor's per-task state). */
struct tb_pending {
	char *path[2];
	unsigned op[2];
	int family; /* socket domain, -1 none */
	bool exec;
	bool einval_ok; /* readlink of a non-symlink fails with EINVAL, yet the path exists */
};

/* The recorder's state per task (the supervisor's priv). */
struct rtask {
	struct tb_pending p;
	struct tb_pyctx_task py;
	int import; /* index in the engine's imports[] of the top-level import in progress, -1 */
};

/* The calls of one top-level import (a bit per slot). */
struct rimport {
	char *module;
	uint8_t seen[ARCH_N][TB_NR_SLOTS / 8];
	char **extensions; /* the extension modules it loaded (extension markers), sorted */
	char **libraries;  /* the files it mapped executable (ld.so, ctypes, dlopen), sorted */
};

/* (path, op) -> exit stops spent on it; open addressing, grows at 50% load. */
struct tb_seen {
	char *key;
	unsigned checks;
};

struct tb_ptrace_engine {
	struct tb_recording *rec;
	struct tb_sv *sv;
	struct tb_slot slots[ARCH_N][TB_NR_SLOTS];
	uint64_t counts[ARCH_N][TB_NR_SLOTS];
	struct {
		int arch;
		uint64_t nr, count;
	} *other; /* numbers outside the slot tables */
	size_t n_other;
	struct tb_seen *seen;
	size_t n_seen, cap_seen;
	bool recording, failed;
	bool wait_phase2, exec_seen; /* tb_ptrace_engine_wait_phase2 */
	int seccomp_nr[ARCH_N];      /* per arch, -1 where it has none */
	bool pyctx; /* tb_ptrace_engine_python_context */
	bool py_top; /* the command itself runs under the bootstrap */
	bool py_marked; /* a marker was seen: the top interpreter's start-up is over */
	struct rimport *imports;
	size_t n_imports;
};

static void pending_clear(struct tb_pending *p)
{
	free(p->path[0]);
	free(p->path[1]);
	memset(p, 0, sizeof(*p));
	p->family = -1;
}

static void rtask_free(void *priv)
{
	struct rtask *t = priv;

	if (!t)
		return;
	pending_clear(&t->p);
	tb_pyctx_task_clear(&t->py);
	free(t);
}

static struct rtask *rtask_get(void **priv)
{
	struct rtask *t = *priv;

	if (!t && (t = *priv = calloc(1, sizeof(*t)))) {
		t->p.family = -1;
		t->import = -1;
	}
	return t;
}

static const struct tb_sv_ops recorder_ops;

int tb_ptrace_engine_new(struct tb_recording *rec, struct tb_ptrace_engine **out)
{
	struct tb_ptrace_engine *e = calloc(1, sizeof(*e));
	const struct tb_syscall_spec *specs;
	size_t n_specs;
	int ret;

	if (!e)
		return -ENOMEM;
	e->rec = rec;
	specs = tb_syscall_specs(&n_specs);
	for (size_t a = 0; a < tb_sv_n_arch(); a++)
		for (size_t i = 0; i < n_specs; i++) {
			int nr = seccomp_syscall_resolve_name_arch(tb_sv_arch((int)a)->token,
								   specs[i].name);

			/* A syscall missing on one arch is skipped, not an error. */
			if (nr < 0)
				continue;
			nr &= ~(int)tb_sv_arch((int)a)->nr_bit;
			if (nr >= TB_NR_SLOTS)
				continue;
			e->slots[a][nr] = (struct tb_slot){&specs[i], specs[i].name};
		}
	ret = tb_sv_new(TB_SV_BASE_RECORD, 0, &recorder_ops, e, &e->sv);
	if (ret < 0) {
		free(e);
		return ret;
	}
	*out = e;
	return 0;
}

void tb_ptrace_engine_python_context(struct tb_ptrace_engine *e, bool top)
{
	e->pyctx = true;
	e->py_top = top;
	tb_sv_follow_python(e->sv);
}

void tb_ptrace_engine_free(struct tb_ptrace_engine *e)
{
	if (!e)
		return;
	tb_sv_free(e->sv);
	for (size_t i = 0; i < e->n_imports; i++) {
		free(e->imports[i].module);
		tb_strv_free(e->imports[i].extensions);
		tb_strv_free(e->imports[i].libraries);
	}
	free(e->imports);
	for (size_t i = 0; i < e->cap_seen; i++)
		free(e->seen[i].key);
	free(e->seen);
	free(e->other);
	free(e);
}

void tb_ptrace_engine_wait_phase2(struct tb_ptrace_engine *e)
{
	e->wait_phase2 = true;
	for (size_t a = 0; a < tb_sv_n_arch(); a++) {
		int nr = seccomp_syscall_resolve_name_arch(tb_sv_arch((int)a)->token, "seccomp");

		e->seccomp_nr[a] = nr < 0 ? -1 : nr & ~(int)tb_sv_arch((int)a)->nr_bit;
	}
}

void tb_ptrace_engine_hooks(struct tb_ptrace_engine *e, struct tb_run_hooks *h)
{
	tb_sv_hooks(e->sv, h);
}

/* ---- (path, op) exit-check budget ---- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

/* True when an exit stop should still be spent on (@path, @op); counts it. */
static bool want_exit_check(struct tb_ptrace_engine *e, const char *path, unsigned op)
{
	char key[PATH_MAX + 16];
	size_t i;

	snprintf(key, sizeof(key), "%x:%s", op, path);
	if ((e->n_seen + 1) * 2 > e->cap_seen) {
		size_t ncap = e->cap_seen ? e->cap_seen * 2 : 1024;
		struct tb_seen *ns = calloc(ncap, sizeof(*ns));

		if (!ns)
			return true;
		for (size_t k = 0; k < e->cap_seen; k++)
			if (e->seen[k].key) {
				size_t j = hash_str(e->seen[k].key) % ncap;

				while (ns[j].key)
					j = (j + 1) % ncap;
				ns[j] = e->seen[k];
			}
		free(e->seen);
		e->seen = ns;
		e->cap_seen = ncap;
	}
	for (i = hash_str(key) % e->cap_seen; e->seen[i].key; i = (i + 1) % e->cap_seen)
		if (!strcmp(e->seen[i].key, key)) {
			if (e->seen[i].checks >= TB_EXIT_CHECKS)
				return false;
			e->seen[i].checks++;
			return true;
		}
	e->seen[i].key = strdup(key);
	if (!e->seen[i].key)
		return true;
	e->seen[i].checks = 1;
	e->n_seen++;
	return true;
}

/* ---- reading the tracee ---- */

/* Lexically collapses "//", "/./" and "/../" in the absolute path @p, in place. */
static void normalize(char *p)
{
	char *out = p, *in = p;

	while (*in) {
		while (*in == '/')
			in++;
		if (!*in)
			break;
		if (in[0] == '.' && (in[1] == '/' || !in[1])) {
			in++;
			continue;
		}
		if (in[0] == '.' && in[1] == '.' && (in[2] == '/' || !in[2])) {
			in += 2;
			while (out > p && *--out != '/')
				;
			continue;
		}
		*out++ = '/';
		while (*in && *in != '/')
			*out++ = *in++;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
}

/*
 * Absolute path of (@dirfd, @rel) as the tracee sees it; @dirfd -1 means "no dirfd argument"
 * (relative to cwd). Returns a malloc'ed string or NULL (unreadable, empty path = fd operation).
 */
static char *resolve(pid_t pid, int dirfd, const char *rel)
{
	char base[PATH_MAX], full[2 * PATH_MAX + 2];
	int ret;

	if (!rel[0])
		return NULL;
	if (rel[0] == '/') {
		snprintf(full, sizeof(full), "%s", rel);
	} else {
		if (dirfd == AT_FDCWD || dirfd == -1) {
			ret = tb_sv_proc_link(pid, "cwd", base, sizeof(base));
		} else {
			char what[32];

			snprintf(what, sizeof(what), "fd/%d", dirfd);
			ret = tb_sv_proc_link(pid, what, base, sizeof(base));
		}
		if (ret < 0)
			return NULL;
		snprintf(full, sizeof(full), "%s/%s", base, rel);
	}
	normalize(full);
	return strdup(full);
}

static char *path_arg(pid_t pid, const uint64_t *args, int dirfd_idx, int path_idx)
{
	char rel[PATH_MAX];
	int dirfd = dirfd_idx >= 0 ? (int)args[dirfd_idx] : -1;

	if (tb_sv_read_string(pid, args[path_idx], rel, sizeof(rel)) < 0)
		return NULL;
	return resolve(pid, dirfd, rel);
}

static char *fd_path(pid_t pid, int fd)
{
	char what[32], buf[PATH_MAX];

	if (fd < 0)
		return NULL;
	snprintf(what, sizeof(what), "fd/%d", fd);
	if (tb_sv_proc_link(pid, what, buf, sizeof(buf)) < 0)
		return NULL;
	return strdup(buf);
}

/* ---- recording ---- */

static void note(struct tb_ptrace_engine *e, int ret)
{
	if (ret < 0)
		e->failed = true;
}

static void add_args(struct tb_ptrace_engine *e, int arch, const char *name, size_t n,
		     const char *const *keys, const uint64_t *vals)
{
	note(e, tb_recording_add_args(e->rec, tb_sv_arch(arch)->label, name, n, keys, vals, 1));
}

/* The recorded arguments of @sp (argmask, lo32; clone3's flags from its struct). */
static void record_args(struct tb_ptrace_engine *e, pid_t pid, int arch, const struct tb_slot *s,
			const uint64_t *a)
{
	const struct tb_syscall_spec *sp = s->spec;
	const char *keys[6];
	uint64_t vals[6];
	size_t n = 0;

	if (sp->kind == TB_SPEC_CLONE3) {
		/* struct clone_args starts with the u64 flags. */
		if (tb_sv_read_mem(pid, a[0], &vals[0], sizeof(vals[0])) == 0)
			add_args(e, arch, s->name, 1, (const char *[]){tb_syscall_spec_arg_key(sp, 0)},
				 vals);
		return;
	}
	for (unsigned i = 0; i < 6; i++)
		if (sp->argmask & (1u << i)) {
			keys[n] = tb_syscall_spec_arg_key(sp, i);
			vals[n++] = (sp->lo32 & (1u << i)) ? a[i] & 0xffffffffu : a[i];
		}
	if (n)
		add_args(e, arch, s->name, n, keys, vals);
}

/* Records the argument values of interest; returns true when an exit stop is wanted. */
static bool on_entry(struct tb_ptrace_engine *e, pid_t pid, struct tb_pending *p, int arch,
		     uint64_t nr, const uint64_t *a)
{
	const struct tb_slot *s = &e->slots[arch][nr];
	const struct tb_syscall_spec *sp = s->spec;

	record_args(e, pid, arch, s, a);
	p->einval_ok = sp->flags & TB_SPEC_EINVAL_OK;
	switch (sp->kind) {
	case TB_SPEC_ARGS:
		if (!(sp->flags & TB_SPEC_FAMILY))
			return false;
		p->family = (int)(a[0] & 0xffffffffu);
		return true;
	case TB_SPEC_CLONE3:
		return false;
	case TB_SPEC_MMAP:
		if (!(a[2] & PROT_EXEC) || (a[3] & MAP_ANONYMOUS) || (int)a[sp->fd_arg] < 0)
			return false;
		/* fallthrough */
	case TB_SPEC_FD:
		p->path[0] = fd_path(pid, (int)a[sp->fd_arg]);
		p->op[0] = sp->path[0].op;
		break;
	case TB_SPEC_PATH:
	case TB_SPEC_OPEN:
	case TB_SPEC_OPENAT2:
	case TB_SPEC_EXEC:
		for (int i = 0; i < 2; i++)
			if (sp->path[i].path != TB_SPEC_NOARG) {
				p->path[i] = path_arg(pid, a, sp->path[i].dirfd, sp->path[i].path);
				p->op[i] = sp->path[i].op;
			}
		if (sp->kind == TB_SPEC_OPEN) {
			p->op[0] = tb_syscall_spec_open_ops(a[sp->flags_arg]);
		} else if (sp->kind == TB_SPEC_OPENAT2) {
			uint64_t flags = 0;

			/* struct open_how starts with the u64 flags. */
			(void)tb_sv_read_mem(pid, a[sp->flags_arg], &flags, sizeof(flags));
			p->op[0] = tb_syscall_spec_open_ops(flags);
		} else if (sp->kind == TB_SPEC_EXEC) {
			/* Always see an exec's outcome: executables are never capped. */
			p->exec = true;
			return p->path[0] != NULL;
		}
		break;
	}
	/*
	 * Drop paths whose outcomes are already known, and new paths the recording has no room for
	 * (counted there as dropped: the seen table then stays as bounded as the files are); no exit
	 * stop if nothing is left.
	 */
	for (int i = 0; i < 2; i++) {
		if (!p->path[i])
			continue;
		if (!tb_recording_file_fits(e->rec, p->path[i]))
			e->rec->lost.files++;
		else if (want_exit_check(e, p->path[i], p->op[i]))
			continue;
		free(p->path[i]);
		p->path[i] = NULL;
	}
	return p->path[0] || p->path[1];
}

static void on_exit_stop(struct tb_ptrace_engine *e, struct tb_pending *p, bool ok)
{
	for (int i = 0; i < 2; i++)
		if (p->path[i] && p->op[i])
			note(e, tb_recording_add_file(e->rec, p->path[i], p->op[i], ok));
	if (p->family >= 0 && ok) {
		char buf[32];
		const char *fam = tb_socket_family_name(p->family, buf, sizeof(buf));

		note(e, tb_recording_add_family(e->rec, fam));
	}
	pending_clear(p);
}

static void count(struct tb_ptrace_engine *e, int arch, uint64_t nr)
{
	void *no;

	if (nr < TB_NR_SLOTS) {
		e->counts[arch][nr]++;
		return;
	}
	for (size_t i = 0; i < e->n_other; i++)
		if (e->other[i].arch == arch && e->other[i].nr == nr) {
			e->other[i].count++;
			return;
		}
	no = realloc(e->other, (e->n_other + 1) * sizeof(*e->other));
	if (!no) {
		e->failed = true;
		return;
	}
	e->other = no;
	e->other[e->n_other].arch = arch;
	e->other[e->n_other].nr = nr;
	e->other[e->n_other++].count = 1;
}

/* libseccomp's name for (arch, nr), or "__nr_N" (the recording format's name for unknowns). */
static char *syscall_name(int arch, uint64_t nr)
{
	char *name = seccomp_syscall_resolve_num_arch(tb_sv_arch(arch)->token,
						      (int)(nr | tb_sv_arch(arch)->nr_bit));

	if (!name && asprintf(&name, "__nr_%llu", (unsigned long long)nr) < 0)
		name = NULL;
	return name;
}

/* The engine's import record of @module (added when new), -1 out of memory or bounds. */
static int import_index(struct tb_ptrace_engine *e, const char *module)
{
	struct rimport *n;

	for (size_t i = 0; i < e->n_imports; i++)
		if (!strcmp(e->imports[i].module, module))
			return (int)i;
	if (e->n_imports >= TB_REC_MAX_IMPORTS)
		return -1;
	n = realloc(e->imports, (e->n_imports + 1) * sizeof(*n));
	if (!n) {
		e->failed = true;
		return -1;
	}
	e->imports = n;
	memset(&n[e->n_imports], 0, sizeof(*n));
	if (!(n[e->n_imports].module = strdup(module))) {
		e->failed = true;
		return -1;
	}
	return (int)e->n_imports++;
}

/* An extension marker (write(FD, path, len) with len < TB_PYCTX_BUF, tracer/pyctx.h): the file
 * the task's top-level import is about to load. */
static void on_extension(struct tb_ptrace_engine *e, struct rtask *t, const struct tb_sv_call *c)
{
	struct rimport *im = t->import >= 0 ? &e->imports[t->import] : NULL;
	_cleanup_free_ char *path = NULL;
	char buf[PATH_MAX];

	if (!im || !c->args[2] || c->args[2] >= sizeof(buf) ||
	    tb_sv_read_mem(c->pid, c->args[1], buf, c->args[2]) < 0)
		return;
	buf[c->args[2]] = '\0';
	if (strlen(buf) != c->args[2] || !(path = resolve(c->pid, -1, buf)))
		return;
	if (!tb_strv_has(im->extensions, path) && tb_strv_len(im->extensions) < TB_REC_MAX_NAMES &&
	    tb_strv_add_sorted(&im->extensions, path) < 0)
		e->failed = true;
}

/* An mmap with PROT_EXEC of a file by a task inside a top-level import: a shared object that
 * import loaded, whoever loaded it (ld.so for an extension's DT_NEEDED, ctypes, dlopen). */
static void on_import_map(struct tb_ptrace_engine *e, struct rtask *t, const struct tb_sv_call *c)
{
	const struct tb_syscall_spec *sp = e->slots[c->arch][c->nr].spec;
	struct rimport *im = &e->imports[t->import];
	_cleanup_free_ char *path = NULL;

	if (!sp || sp->kind != TB_SPEC_MMAP || !(c->args[2] & PROT_EXEC) ||
	    (c->args[3] & MAP_ANONYMOUS) || (int)c->args[sp->fd_arg] < 0 ||
	    !(path = fd_path(c->pid, (int)c->args[sp->fd_arg])))
		return;
	if (!tb_strv_has(im->libraries, path) && tb_strv_len(im->libraries) < TB_REC_MAX_NAMES &&
	    tb_strv_add_sorted(&im->libraries, path) < 0)
		e->failed = true;
}

/* A marker: the task's buffer, and which top-level import (if any) it is in from now on. */
static void on_marker(struct tb_ptrace_engine *e, struct rtask *t, const struct tb_sv_call *c)
{
	struct tb_pyctx *ctx = NULL;
	char top[128];
	const char *m;

	if (c->args[2] != TB_PYCTX_BUF) {
		on_extension(e, t, c);
		return;
	}

	tb_pyctx_on_marker(&t->py, c);
	e->py_marked = true;
	t->import = -1;
	if (tb_pyctx_read(c->pid, &t->py, &ctx) < 0)
		return;
	m = tb_pyctx_top_import(ctx, top, sizeof(top));
	if (m && !strcmp(ctx->phase, "import"))
		t->import = import_index(e, m);
	tb_pyctx_free(ctx);
}

/* The first use of a syscall by a task with Python context: where it was. */
static void first_use(struct tb_ptrace_engine *e, struct rtask *t, const struct tb_sv_call *c)
{
	static const struct tb_pyctx startup = {.phase = "start-up"};
	struct tb_pyctx *ctx = NULL;
	_cleanup_free_ char *name = NULL;
	bool early = e->py_top && !e->py_marked;
	int r = early ? 0 : tb_pyctx_read(c->pid, &t->py, &ctx);

	/* Before the first marker the top interpreter is starting (the bootstrap makes it); the
	 * runner's execve of it too. A child interpreter is starting until its own marker. */
	if (early)
		ctx = (struct tb_pyctx *)&startup;
	if (r < 0) {
		if (r == -ENOMEM)
			e->failed = true;
		return;
	}
	name = syscall_name(c->arch, c->nr);
	note(e, name ? tb_recording_add_py_first(e->rec, tb_sv_arch(c->arch)->label, name,
						 ctx->phase, ctx->frame, ctx->chain)
		     : -ENOMEM);
	if (ctx != &startup)
		tb_pyctx_free(ctx);
}

static struct tb_sv_answer on_seccomp(void *data, const struct tb_sv_call *c, void **priv)
{
	static const struct tb_sv_answer cont = {TB_SV_CONTINUE, 0};
	struct tb_ptrace_engine *e = data;
	struct rtask *t;
	struct tb_pending *p;

	if (c->arch < 0)
		return cont;
	if (e->pyctx && tb_pyctx_is_marker(c)) {
		/* Not the workload's call: never recorded (the kernel answers it EBADF). */
		if ((t = rtask_get(priv)))
			on_marker(e, t, c);
		else
			e->failed = true;
		return cont;
	}
	if (c->ceiling_errno) {
		/* Refused by the supervisor: never ran, so it is no syscall of the workload's. */
		_cleanup_free_ char *name = e->recording ? syscall_name(c->arch, c->nr) : NULL;

		if (e->recording)
			note(e, name ? tb_recording_add_denied(e->rec, tb_sv_arch(c->arch)->label, name, 1)
				     : -ENOMEM);
		return cont;
	}
	if (e->wait_phase2 && !e->recording) {
		/* SECCOMP_SET_MODE_FILTER is 1: the bootstrap's stack starts the user phase. */
		if (e->exec_seen && (int64_t)c->nr == e->seccomp_nr[c->arch] && c->args[0] == 1)
			e->recording = true;
		return cont;
	}
	/*
	 * Before the root's first exec only the runner's own calls run (after its hook, before the
	 * execve): they are not the workload's, except the execve itself.
	 */
	if (!e->recording && (c->nr >= TB_NR_SLOTS || !e->slots[c->arch][c->nr].spec ||
			      e->slots[c->arch][c->nr].spec->kind != TB_SPEC_EXEC))
		return cont;
	t = *priv;
	if (e->pyctx && (t || (t = rtask_get(priv)))) {
		if (c->nr < TB_NR_SLOTS && !e->counts[c->arch][c->nr] &&
		    (t->py.addr || t->py.snapshot || t->py.starting || (e->py_top && !e->py_marked)))
			first_use(e, t, c);
		if (t->import >= 0 && c->nr < TB_NR_SLOTS) {
			e->imports[t->import].seen[c->arch][c->nr / 8] |= (uint8_t)(1u << (c->nr % 8));
			on_import_map(e, t, c);
		}
	}
	count(e, c->arch, c->nr);
	if (c->nr >= TB_NR_SLOTS || !e->slots[c->arch][c->nr].spec)
		return cont;
	if (!(t = rtask_get(priv))) {
		e->failed = true;
		return cont;
	}
	p = &t->p;
	pending_clear(p);
	if (on_entry(e, c->pid, p, c->arch, c->nr, c->args))
		return (struct tb_sv_answer){TB_SV_EXIT_STOP, 0};
	pending_clear(p);
	return cont;
}

static void on_exit_call(void *data, pid_t pid, bool ok, int64_t rval, void **priv)
{
	struct rtask *t = *priv;

	(void)pid;
	if (t)
		on_exit_stop(data, &t->p, ok || (t->p.einval_ok && rval == -EINVAL));
}

static void on_fork(void *data, pid_t parent, pid_t child, bool thread, void **ppriv,
		    void **cpriv)
{
	struct tb_ptrace_engine *e = data;
	struct rtask *pt = *ppriv, *ct;

	if (!e->pyctx || !pt || !(pt->py.addr || pt->py.snapshot) || !(ct = rtask_get(cpriv)))
		return;
	tb_pyctx_on_fork(parent, &pt->py, thread, &ct->py);
	ct->import = pt->import; /* the child goes on inside the same import */
}

static void on_exec(void *data, pid_t pid, bool python, void **priv)
{
	struct tb_ptrace_engine *e = data;
	struct rtask *t = python ? rtask_get(priv) : *priv;
	char exe[PATH_MAX];

	e->exec_seen = true;
	/* A new program image: the buffer of the old one is gone; a child interpreter under the
	 * bootstrap is starting. */
	if (t) {
		tb_pyctx_task_clear(&t->py);
		t->py.starting = python && e->pyctx;
		t->import = -1;
	}
	if (!e->wait_phase2)
		e->recording = true;
	if (tb_sv_proc_link(pid, "exe", exe, sizeof(exe)) == 0)
		note(e, tb_recording_add_executable(e->rec, exe));
}

static const struct tb_sv_ops recorder_ops = {
	.on_seccomp = on_seccomp,
	.on_exit = on_exit_call,
	.on_exec = on_exec,
	.on_fork = on_fork,
	.free_priv = rtask_free,
};

/* ---- finish ---- */

static int add_count(struct tb_ptrace_engine *e, int arch, uint64_t nr, uint64_t n)
{
	_cleanup_free_ char *name = syscall_name(arch, nr);

	if (!name)
		return -ENOMEM;
	return tb_recording_add_syscall(e->rec, tb_sv_arch(arch)->label, name, n);
}

int tb_ptrace_engine_finish(struct tb_ptrace_engine *e)
{
	int ret;

	for (size_t a = 0; a < tb_sv_n_arch(); a++)
		for (uint64_t nr = 0; nr < TB_NR_SLOTS; nr++)
			if (e->counts[a][nr] && (ret = add_count(e, a, nr, e->counts[a][nr])) < 0)
				return ret;
	for (size_t i = 0; i < e->n_other; i++)
		if ((ret = add_count(e, e->other[i].arch, e->other[i].nr, e->other[i].count)) < 0)
			return ret;
	for (size_t i = 0; i < e->n_imports; i++)
		for (size_t a = 0; a < tb_sv_n_arch(); a++)
			for (uint64_t nr = 0; nr < TB_NR_SLOTS; nr++) {
				_cleanup_free_ char *name = NULL;

				if (!(e->imports[i].seen[a][nr / 8] & (1u << (nr % 8))))
					continue;
				if (!(name = syscall_name((int)a, nr)))
					return -ENOMEM;
				ret = tb_recording_add_import_syscall(e->rec, e->imports[i].module,
								      tb_sv_arch((int)a)->label, name);
				if (ret < 0)
					return ret;
			}
	for (size_t i = 0; i < e->n_imports; i++) {
		for (char **x = e->imports[i].extensions; x && *x; x++)
			if ((ret = tb_recording_add_import_extension(e->rec, e->imports[i].module,
								     *x)) < 0)
				return ret;
		for (char **x = e->imports[i].libraries; x && *x; x++)
			if (!tb_strv_has(e->imports[i].extensions, *x) &&
			    (ret = tb_recording_add_import_library(e->rec, e->imports[i].module,
								   *x)) < 0)
				return ret;
	}
	if ((ret = tb_sv_error(e->sv, NULL)) < 0)
		return ret;
	return e->failed ? -ENOMEM : 0;
}
