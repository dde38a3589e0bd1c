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
#include "core/util.h"
#include "tracer/ptrace-supervisor.h"

/* Exit stops per (path, op): enough to see both outcomes of a path that changes mid-run. */
#define TB_EXIT_CHECKS 4
#define TB_NR_SLOTS 1024
#define ARCH_N TB_SV_N_ARCH

enum tb_kind {
	K_NONE = 0,
	/* argument recorders */
	K_CLONE,
	K_CLONE3,
	K_SOCKET,
	K_SOCKETPAIR,
	K_IOCTL,
	K_A0,       /* prctl, personality, arch_prctl: a0 */
	K_PROT,     /* mprotect, pkey_mprotect: a2 */
	K_MMAP,     /* a2 prot + mmap-exec of the fd */
	K_FCNTL,    /* a1 */
	/* path recorders (see struct tb_fspec) */
	K_PATH,
	K_OPEN,     /* flags decide the ops */
	K_OPENAT2,  /* flags in struct open_how */
	K_FD,       /* fd in a0 (getdents) */
	K_EXEC,
};

/* Where a path syscall's paths are: dirfd/path argument indexes (-1: none) and the op. */
struct tb_fspec {
	const char *name;
	enum tb_kind kind;
	signed char dirfd, path;
	unsigned op;
	signed char dirfd2, path2;
	unsigned op2;
	signed char flags; /* open flags argument (K_OPEN), struct pointer (K_OPENAT2) */
};

static const struct tb_fspec fspecs[] = {
	{"open", K_OPEN, -1, 0, 0, -1, -1, 0, 1},
	{"openat", K_OPEN, 0, 1, 0, -1, -1, 0, 2},
	{"openat2", K_OPENAT2, 0, 1, 0, -1, -1, 0, 2},
	{"creat", K_PATH, -1, 0, TB_FOP_CREATE | TB_FOP_WRITE, -1, -1, 0, -1},
	{"execve", K_EXEC, -1, 0, TB_FOP_EXEC, -1, -1, 0, -1},
	{"execveat", K_EXEC, 0, 1, TB_FOP_EXEC, -1, -1, 0, -1},
	{"unlink", K_PATH, -1, 0, TB_FOP_DELETE, -1, -1, 0, -1},
	{"unlinkat", K_PATH, 0, 1, TB_FOP_DELETE, -1, -1, 0, -1},
	{"rmdir", K_PATH, -1, 0, TB_FOP_DELETE, -1, -1, 0, -1},
	{"rename", K_PATH, -1, 0, TB_FOP_RENAME, -1, 1, TB_FOP_RENAME, -1},
	{"renameat", K_PATH, 0, 1, TB_FOP_RENAME, 2, 3, TB_FOP_RENAME, -1},
	{"renameat2", K_PATH, 0, 1, TB_FOP_RENAME, 2, 3, TB_FOP_RENAME, -1},
	{"mkdir", K_PATH, -1, 0, TB_FOP_CREATE, -1, -1, 0, -1},
	{"mkdirat", K_PATH, 0, 1, TB_FOP_CREATE, -1, -1, 0, -1},
	{"mknod", K_PATH, -1, 0, TB_FOP_CREATE, -1, -1, 0, -1},
	{"mknodat", K_PATH, 0, 1, TB_FOP_CREATE, -1, -1, 0, -1},
	{"link", K_PATH, -1, 0, TB_FOP_STAT, -1, 1, TB_FOP_CREATE, -1},
	{"linkat", K_PATH, 0, 1, TB_FOP_STAT, 2, 3, TB_FOP_CREATE, -1},
	{"symlink", K_PATH, -1, -1, 0, -1, 1, TB_FOP_CREATE, -1},
	{"symlinkat", K_PATH, -1, -1, 0, 1, 2, TB_FOP_CREATE, -1},
	{"truncate", K_PATH, -1, 0, TB_FOP_WRITE, -1, -1, 0, -1},
	{"truncate64", K_PATH, -1, 0, TB_FOP_WRITE, -1, -1, 0, -1},
	{"stat", K_PATH, -1, 0, TB_FOP_STAT, -1, -1, 0, -1},
	{"lstat", K_PATH, -1, 0, TB_FOP_STAT, -1, -1, 0, -1},
	{"stat64", K_PATH, -1, 0, TB_FOP_STAT, -1, -1, 0, -1},
	{"lstat64", K_PATH, -1, 0, TB_FOP_STAT, -1, -1, 0, -1},
	{"oldstat", K_PATH, -1, 0, TB_FOP_STAT, -1, -1, 0, -1},
	{"oldlstat", K_PATH, -1, 0, TB_FOP_STAT, -1, -1, 0, -1},
	{"statfs", K_PATH, -1, 0, TB_FOP_STAT, -1, -1, 0, -1},
	{"statfs64", K_PATH, -1, 0, TB_FOP_STAT, -1, -1, 0, -1},
	{"access", K_PATH, -1, 0, TB_FOP_STAT, -1, -1, 0, -1},
	{"readlink", K_PATH, -1, 0, TB_FOP_STAT, -1, -1, 0, -1},
	{"chdir", K_PATH, -1, 0, TB_FOP_STAT, -1, -1, 0, -1},
	{"newfstatat", K_PATH, 0, 1, TB_FOP_STAT, -1, -1, 0, -1},
	{"fstatat64", K_PATH, 0, 1, TB_FOP_STAT, -1, -1, 0, -1},
	{"statx", K_PATH, 0, 1, TB_FOP_STAT, -1, -1, 0, -1},
	{"faccessat", K_PATH, 0, 1, TB_FOP_STAT, -1, -1, 0, -1},
	{"faccessat2", K_PATH, 0, 1, TB_FOP_STAT, -1, -1, 0, -1},
	{"readlinkat", K_PATH, 0, 1, TB_FOP_STAT, -1, -1, 0, -1},
	{"getdents", K_FD, 0, -1, TB_FOP_READDIR, -1, -1, 0, -1},
	{"getdents64", K_FD, 0, -1, TB_FOP_READDIR, -1, -1, 0, -1},
	{"mmap", K_MMAP, 4, -1, TB_FOP_MMAP_EXEC, -1, -1, 0, -1},
	{"mmap2", K_MMAP, 4, -1, TB_FOP_MMAP_EXEC, -1, -1, 0, -1},
};

static const struct {
	const char *name;
	enum tb_kind kind;
} argspecs[] = {
	{"clone", K_CLONE},   {"clone3", K_CLONE3}, {"socket", K_SOCKET},
	{"socketpair", K_SOCKETPAIR}, {"ioctl", K_IOCTL},  {"prctl", K_A0},
	{"personality", K_A0}, {"arch_prctl", K_A0}, {"mprotect", K_PROT},
	{"pkey_mprotect", K_PROT}, {"fcntl", K_FCNTL}, {"fcntl64", K_FCNTL},
};


struct tb_slot {
	unsigned char kind;
	unsigned char fspec; /* index into fspecs + 1, 0 none */
	unsigned char argspec;
};

/* What a tracee waits to learn at its syscall-exit stop (the supervisor's per-task state). */
struct tb_pending {
	char *path[2];
	unsigned op[2];
	int family; /* socket domain, -1 none */
	bool exec;
	bool einval_ok; /* readlink of a non-symlink fails with EINVAL, yet the path exists */
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
	bool skip_until_exec, recording, failed;
	uint64_t syscalls;
};

static void pending_clear(struct tb_pending *p)
{
	free(p->path[0]);
	free(p->path[1]);
	memset(p, 0, sizeof(*p));
	p->family = -1;
}

static void pending_free(void *priv)
{
	if (priv)
		pending_clear(priv);
	free(priv);
}

static const struct tb_sv_ops recorder_ops;

int tb_ptrace_engine_new(struct tb_recording *rec, struct tb_ptrace_engine **out)
{
	struct tb_ptrace_engine *e = calloc(1, sizeof(*e));
	int ret;

	if (!e)
		return -ENOMEM;
	e->rec = rec;
	e->skip_until_exec = true;
	for (int a = 0; a < ARCH_N; a++) {
		uint32_t token = tb_sv_arch(a)->token;

		for (size_t i = 0; i < TB_ARRAY_SIZE(fspecs); i++) {
			int nr = seccomp_syscall_resolve_name_arch(token, fspecs[i].name);

			/* A syscall missing on one arch is skipped, not an error. */
			if (nr < 0)
				continue;
			e->slots[a][(unsigned)nr & (TB_NR_SLOTS - 1)].kind = fspecs[i].kind;
			e->slots[a][(unsigned)nr & (TB_NR_SLOTS - 1)].fspec = (unsigned char)(i + 1);
		}
		for (size_t i = 0; i < TB_ARRAY_SIZE(argspecs); i++) {
			int nr = seccomp_syscall_resolve_name_arch(token, argspecs[i].name);

			if (nr < 0)
				continue;
			e->slots[a][(unsigned)nr & (TB_NR_SLOTS - 1)].kind = argspecs[i].kind;
			e->slots[a][(unsigned)nr & (TB_NR_SLOTS - 1)].argspec = (unsigned char)(i + 1);
		}
	}
	ret = tb_sv_new(TB_SV_BASE_RECORD, &recorder_ops, e, &e->sv);
	if (ret < 0) {
		free(e);
		return ret;
	}
	*out = e;
	return 0;
}

void tb_ptrace_engine_free(struct tb_ptrace_engine *e)
{
	if (!e)
		return;
	tb_sv_free(e->sv);
	for (size_t i = 0; i < e->cap_seen; i++)
		free(e->seen[i].key);
	free(e->seen);
	free(e->other);
	free(e);
}

void tb_ptrace_engine_skip_until_exec(struct tb_ptrace_engine *e, bool skip)
{
	e->skip_until_exec = skip;
	e->recording = !skip;
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

/* Reads a NUL-terminated string at @addr in @pid into @buf. 0 or -errno (-ENAMETOOLONG). */
static int read_string(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t got = 0;

	if (!addr)
		return -EFAULT;
	while (got < size) {
		/* Never cross a page boundary in one read: the next page may be unmapped. */
		size_t chunk = 4096 - ((addr + got) & 4095);
		struct iovec local, remote;
		ssize_t n;

		if (chunk > size - got)
			chunk = size - got;
		local = (struct iovec){buf + got, chunk};
		remote = (struct iovec){(void *)(uintptr_t)(addr + got), chunk};
		n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (n <= 0)
			return n < 0 ? tb_negerrno() : -EFAULT;
		if (memchr(buf + got, '\0', (size_t)n))
			return 0;
		got += (size_t)n;
	}
	return -ENAMETOOLONG;
}

static int read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

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

	if (read_string(pid, args[path_idx], rel, sizeof(rel)) < 0)
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

static unsigned open_ops(uint64_t flags)
{
	unsigned ops = 0;

	if (flags & O_PATH)
		return TB_FOP_STAT;
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		ops |= TB_FOP_READ;
		break;
	case O_WRONLY:
		ops |= TB_FOP_WRITE;
		break;
	default:
		ops |= TB_FOP_READ | TB_FOP_WRITE;
	}
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		ops |= TB_FOP_CREATE;
	if (flags & O_TRUNC)
		ops |= TB_FOP_WRITE;
	return ops;
}

/* Records the argument values of interest; returns true when an exit stop is wanted. */
static bool on_entry(struct tb_ptrace_engine *e, pid_t pid, struct tb_pending *p, int arch,
		     uint64_t nr, const uint64_t *a)
{
	const struct tb_slot *s = &e->slots[arch][nr & (TB_NR_SLOTS - 1)];
	const char *name = NULL;
	const struct tb_fspec *fs;

	if (s->argspec)
		name = argspecs[s->argspec - 1].name;
	else if (s->fspec)
		name = fspecs[s->fspec - 1].name;
	switch ((enum tb_kind)s->kind) {
	case K_NONE:
		return false;
	case K_CLONE: {
		static const char *const k[] = {"a0"};

		add_args(e, arch, name, 1, k, &a[0]);
		return false;
	}
	case K_CLONE3: {
		static const char *const k[] = {"flags"};
		uint64_t flags;

		/* struct clone_args starts with the u64 flags. */
		if (read_mem(pid, a[0], &flags, sizeof(flags)) == 0)
			add_args(e, arch, name, 1, k, &flags);
		return false;
	}
	case K_SOCKET:
	case K_SOCKETPAIR: {
		static const char *const k[] = {"a0", "a1", "a2"};
		uint64_t v[3] = {a[0] & 0xffffffffu, a[1] & 0xffffffffu, a[2] & 0xffffffffu};

		add_args(e, arch, name, 3, k, v);
		p->family = (int)v[0];
		return true;
	}
	case K_IOCTL: {
		static const char *const k[] = {"a1"};
		uint64_t v = a[1] & 0xffffffffu;

		add_args(e, arch, name, 1, k, &v);
		return false;
	}
	case K_A0: {
		static const char *const k[] = {"a0"};

		add_args(e, arch, name, 1, k, &a[0]);
		return false;
	}
	case K_PROT: {
		static const char *const k[] = {"a2"};

		add_args(e, arch, name, 1, k, &a[2]);
		return false;
	}
	case K_FCNTL: {
		static const char *const k[] = {"a1"};
		uint64_t v = a[1] & 0xffffffffu;

		add_args(e, arch, name, 1, k, &v);
		return false;
	}
	case K_MMAP: {
		static const char *const k[] = {"a2"};

		add_args(e, arch, name, 1, k, &a[2]);
		if (!(a[2] & PROT_EXEC) || (a[3] & MAP_ANONYMOUS) || (int)a[4] < 0)
			return false;
		p->path[0] = fd_path(pid, (int)a[4]);
		p->op[0] = TB_FOP_MMAP_EXEC;
		break;
	}
	case K_FD:
		p->path[0] = fd_path(pid, (int)a[0]);
		p->op[0] = TB_FOP_READDIR;
		break;
	case K_EXEC:
	case K_PATH:
	case K_OPEN:
	case K_OPENAT2:
		fs = &fspecs[s->fspec - 1];
		if (fs->path >= 0) {
			p->path[0] = path_arg(pid, a, fs->dirfd, fs->path);
			p->op[0] = fs->op;
		}
		if (fs->path2 >= 0) {
			p->path[1] = path_arg(pid, a, fs->dirfd2, fs->path2);
			p->op[1] = fs->op2;
		}
		p->einval_ok = !strncmp(fs->name, "readlink", 8);
		if (s->kind == K_OPEN) {
			p->op[0] = open_ops(a[fs->flags]);
		} else if (s->kind == K_OPENAT2) {
			uint64_t flags = 0;

			/* struct open_how starts with the u64 flags. */
			(void)read_mem(pid, a[fs->flags], &flags, sizeof(flags));
			p->op[0] = open_ops(flags);
		} else if (s->kind == K_EXEC) {
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

	e->syscalls++;
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

static struct tb_sv_answer on_seccomp(void *data, const struct tb_sv_call *c, void **priv)
{
	static const struct tb_sv_answer cont = {TB_SV_CONTINUE, 0};
	struct tb_ptrace_engine *e = data;
	struct tb_pending *p = *priv;

	if (c->arch < 0)
		return cont;
	if (c->ceiling_errno) {
		/* Refused by the supervisor: never ran, so it is no syscall of the workload's. */
		_cleanup_free_ char *name = e->recording ? syscall_name(c->arch, c->nr) : NULL;

		if (e->recording)
			note(e, name ? tb_recording_add_denied(e->rec, tb_sv_arch(c->arch)->label, name, 1)
				     : -ENOMEM);
		return cont;
	}
	/*
	 * Before the root's first exec only the runner's own calls run (after its hook, before the
	 * execve): they are not the workload's, except the execve itself.
	 */
	if (!e->recording && (c->nr >= TB_NR_SLOTS || e->slots[c->arch][c->nr].kind != K_EXEC))
		return cont;
	count(e, c->arch, c->nr);
	if (c->nr >= TB_NR_SLOTS || !e->slots[c->arch][c->nr].kind)
		return cont;
	if (!p) {
		p = *priv = calloc(1, sizeof(*p));
		if (!p) {
			e->failed = true;
			return cont;
		}
	}
	pending_clear(p);
	if (on_entry(e, c->pid, p, c->arch, c->nr, c->args))
		return (struct tb_sv_answer){TB_SV_EXIT_STOP, 0};
	pending_clear(p);
	return cont;
}

static void on_exit_call(void *data, pid_t pid, bool ok, int64_t rval, void **priv)
{
	struct tb_pending *p = *priv;

	(void)pid;
	if (p)
		on_exit_stop(data, p, ok || (p->einval_ok && rval == -EINVAL));
}

static void on_exec(void *data, pid_t pid, void **priv)
{
	struct tb_ptrace_engine *e = data;
	char exe[PATH_MAX];

	(void)priv;
	e->recording = true;
	if (tb_sv_proc_link(pid, "exe", exe, sizeof(exe)) == 0)
		note(e, tb_recording_add_executable(e->rec, exe));
}

static const struct tb_sv_ops recorder_ops = {
	.on_seccomp = on_seccomp,
	.on_exit = on_exit_call,
	.on_exec = on_exec,
	.free_priv = pending_free,
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

	for (int a = 0; a < ARCH_N; a++)
		for (uint64_t nr = 0; nr < TB_NR_SLOTS; nr++)
			if (e->counts[a][nr] && (ret = add_count(e, a, nr, e->counts[a][nr])) < 0)
				return ret;
	for (size_t i = 0; i < e->n_other; i++)
		if ((ret = add_count(e, e->other[i].arch, e->other[i].nr, e->other[i].count)) < 0)
			return ret;
	if ((ret = tb_sv_error(e->sv, NULL)) < 0)
		return ret;
	return e->failed ? -ENOMEM : 0;
}

void tb_ptrace_engine_stats(const struct tb_ptrace_engine *e, struct tb_ptrace_stats *s)
{
	struct tb_sv_stats sv;

	tb_sv_stats(e->sv, &sv);
	*s = (struct tb_ptrace_stats){.syscalls = e->syscalls, .exit_stops = sv.exit_stops,
				      .events = sv.events};
}
