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

/* Exit stops per (path, op): enough to see both outcomes of a path that changes mid-run. */
#define TB_EXIT_CHECKS 4
#define TB_NR_SLOTS 1024
#define TB_X32_BIT 0x40000000u

enum tb_arch_idx { ARCH_X86_64, ARCH_I386, ARCH_X32, ARCH_N };

static const char *const arch_names[ARCH_N] = {"x86_64", "i386", "x32"};
static const uint32_t arch_tokens[ARCH_N] = {SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32};

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

/* What a tracee waits to learn at its syscall-exit stop. */
struct tb_pending {
	char *path[2];
	unsigned op[2];
	int family; /* socket domain, -1 none */
	bool exec;
	bool einval_ok; /* readlink of a non-symlink fails with EINVAL, yet the path exists */
};

struct tb_task {
	pid_t pid;
	bool used;
	bool awaiting_exit;
	bool expect_stop; /* announced by a fork event, its initial SIGSTOP is ours */
	struct tb_pending p;
};

/* (path, op) -> exit stops spent on it; open addressing, grows at 50% load. */
struct tb_seen {
	char *key;
	unsigned checks;
};

struct tb_ptrace_engine {
	struct tb_recording *rec;
	scmp_filter_ctx filter;
	struct tb_slot slots[ARCH_N][TB_NR_SLOTS];
	uint64_t counts[ARCH_N][TB_NR_SLOTS];
	struct {
		int arch;
		uint64_t nr, count;
	} *other; /* numbers outside the slot tables */
	size_t n_other;
	struct tb_task *tasks;
	size_t n_tasks, n_tombs, cap_tasks;
	struct tb_seen *seen;
	size_t n_seen, cap_seen;
	pid_t root;
	bool skip_until_exec, recording, failed;
	struct tb_ptrace_stats stats;
};

/* ---- setup ---- */

static struct tb_task *task_add(struct tb_ptrace_engine *e, pid_t pid);

int tb_ptrace_engine_new(struct tb_recording *rec, struct tb_ptrace_engine **out)
{
	struct tb_ptrace_engine *e = calloc(1, sizeof(*e));
	int ret;

	if (!e)
		return -ENOMEM;
	e->rec = rec;
	e->skip_until_exec = true;
	for (int a = 0; a < ARCH_N; a++) {
		for (size_t i = 0; i < TB_ARRAY_SIZE(fspecs); i++) {
			int nr = seccomp_syscall_resolve_name_arch(arch_tokens[a], fspecs[i].name);

			/* A syscall missing on one arch is skipped, not an error. */
			if (nr < 0)
				continue;
			e->slots[a][(unsigned)nr & (TB_NR_SLOTS - 1)].kind = fspecs[i].kind;
			e->slots[a][(unsigned)nr & (TB_NR_SLOTS - 1)].fspec = (unsigned char)(i + 1);
		}
		for (size_t i = 0; i < TB_ARRAY_SIZE(argspecs); i++) {
			int nr = seccomp_syscall_resolve_name_arch(arch_tokens[a], argspecs[i].name);

			if (nr < 0)
				continue;
			e->slots[a][(unsigned)nr & (TB_NR_SLOTS - 1)].kind = argspecs[i].kind;
			e->slots[a][(unsigned)nr & (TB_NR_SLOTS - 1)].argspec = (unsigned char)(i + 1);
		}
	}
	e->filter = seccomp_init(SCMP_ACT_TRACE(0));
	if (!e->filter) {
		free(e);
		return -ENOMEM;
	}
	/* See the i386 (int 0x80) and x32 personalities too: each is its own audit arch. */
	if ((ret = seccomp_arch_add(e->filter, SCMP_ARCH_X86)) < 0 && ret != -EEXIST)
		goto fail;
	if ((ret = seccomp_arch_add(e->filter, SCMP_ARCH_X32)) < 0 && ret != -EEXIST)
		goto fail;
	*out = e;
	return 0;
fail:
	tb_ptrace_engine_free(e);
	return ret;
}

static void pending_clear(struct tb_pending *p)
{
	free(p->path[0]);
	free(p->path[1]);
	memset(p, 0, sizeof(*p));
	p->family = -1;
}

void tb_ptrace_engine_free(struct tb_ptrace_engine *e)
{
	if (!e)
		return;
	if (e->filter)
		seccomp_release(e->filter);
	for (size_t i = 0; i < e->cap_tasks; i++)
		if (e->tasks[i].used)
			pending_clear(&e->tasks[i].p);
	free(e->tasks);
	for (size_t i = 0; i < e->cap_seen; i++)
		free(e->seen[i].key);
	free(e->seen);
	free(e->other);
	free(e);
}

void tb_ptrace_engine_skip_until_exec(struct tb_ptrace_engine *e, bool skip)
{
	e->skip_until_exec = skip;
}

int tb_ptrace_engine_attach(struct tb_ptrace_engine *e, pid_t pid)
{
	/*
	 * PTRACE_SEIZE sets the options atomically, so PTRACE_O_TRACESECCOMP is in place before
	 * the child loads its RET_TRACE filter (otherwise every call fails with ENOSYS). The child
	 * cannot stop itself instead: it is the init of a new pid namespace, which ignores SIGSTOP.
	 */
	const unsigned long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
				   PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL |
				   PTRACE_O_TRACESYSGOOD;

	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)opts) < 0)
		return tb_negerrno();
	if (!task_add(e, pid))
		return -ENOMEM;
	e->root = pid;
	if (!e->skip_until_exec)
		e->recording = true;
	return 0;
}

int tb_ptrace_child_prepare(struct tb_ptrace_engine *e)
{
	int ret = seccomp_load(e->filter);

	return ret < 0 ? ret : 0;
}

/* ---- task table (open addressing by pid) ---- */

static struct tb_task *task_find(struct tb_ptrace_engine *e, pid_t pid)
{
	if (!e->cap_tasks)
		return NULL;
	for (size_t i = (size_t)pid % e->cap_tasks, n = 0; n < e->cap_tasks;
	     i = (i + 1) % e->cap_tasks, n++) {
		if (!e->tasks[i].used && !e->tasks[i].pid)
			return NULL;
		if (e->tasks[i].used && e->tasks[i].pid == pid)
			return &e->tasks[i];
	}
	return NULL;
}

static struct tb_task *task_add(struct tb_ptrace_engine *e, pid_t pid)
{
	struct tb_task *t = task_find(e, pid);

	if (t)
		return t;
	if ((e->n_tasks + e->n_tombs + 1) * 2 > e->cap_tasks) {
		/* Rehashing drops the tombstones; double only when live tasks need it. */
		size_t ncap = e->cap_tasks ? e->cap_tasks : 64;
		struct tb_task *old = e->tasks, *nt;
		size_t ocap = e->cap_tasks;

		if ((e->n_tasks + 1) * 4 > ncap)
			ncap *= 2;
		nt = calloc(ncap, sizeof(*nt));
		if (!nt)
			return NULL;
		e->tasks = nt;
		e->n_tombs = 0;
		e->cap_tasks = ncap;
		e->n_tasks = 0;
		for (size_t i = 0; i < ocap; i++)
			if (old[i].used) {
				size_t j = (size_t)old[i].pid % ncap;

				while (nt[j].used)
					j = (j + 1) % ncap;
				nt[j] = old[i];
				e->n_tasks++;
			}
		free(old);
	}
	for (size_t i = (size_t)pid % e->cap_tasks;; i = (i + 1) % e->cap_tasks)
		if (!e->tasks[i].used) {
			/* A tombstone (pid set, !used) is reused; lookups stop only at pid 0. */
			if (e->tasks[i].pid)
				e->n_tombs--;
			e->tasks[i] = (struct tb_task){.pid = pid, .used = true};
			e->tasks[i].p.family = -1;
			e->n_tasks++;
			return &e->tasks[i];
		}
}

static void task_del(struct tb_ptrace_engine *e, struct tb_task *t)
{
	pending_clear(&t->p);
	t->used = false; /* keep pid as tombstone so probing continues past it */
	e->n_tasks--;
	e->n_tombs++;
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

/* readlink of /proc/PID/<what>: the path as the tracee's mount namespace shows it. */
static int proc_link(pid_t pid, const char *what, char *buf, size_t size)
{
	char p[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%d/%s", (int)pid, what);
	n = readlink(p, buf, size - 1);
	if (n < 0)
		return tb_negerrno();
	buf[n] = '\0';
	/* "pipe:[12]", "socket:[3]", "anon_inode:..." are not paths. */
	return buf[0] == '/' ? 0 : -ENOENT;
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
			ret = proc_link(pid, "cwd", base, sizeof(base));
		} else {
			char what[32];

			snprintf(what, sizeof(what), "fd/%d", dirfd);
			ret = proc_link(pid, what, base, sizeof(base));
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
	if (proc_link(pid, what, buf, sizeof(buf)) < 0)
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
	note(e, tb_recording_add_args(e->rec, arch_names[arch], name, n, keys, vals, 1));
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
static bool on_entry(struct tb_ptrace_engine *e, struct tb_task *t, int arch, uint64_t nr,
		     const uint64_t *a)
{
	const struct tb_slot *s = &e->slots[arch][nr & (TB_NR_SLOTS - 1)];
	const char *name = NULL;
	struct tb_pending *p = &t->p;
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
		if (read_mem(t->pid, a[0], &flags, sizeof(flags)) == 0)
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
		p->path[0] = fd_path(t->pid, (int)a[4]);
		p->op[0] = TB_FOP_MMAP_EXEC;
		break;
	}
	case K_FD:
		p->path[0] = fd_path(t->pid, (int)a[0]);
		p->op[0] = TB_FOP_READDIR;
		break;
	case K_EXEC:
	case K_PATH:
	case K_OPEN:
	case K_OPENAT2:
		fs = &fspecs[s->fspec - 1];
		if (fs->path >= 0) {
			p->path[0] = path_arg(t->pid, a, fs->dirfd, fs->path);
			p->op[0] = fs->op;
		}
		if (fs->path2 >= 0) {
			p->path[1] = path_arg(t->pid, a, fs->dirfd2, fs->path2);
			p->op[1] = fs->op2;
		}
		p->einval_ok = !strncmp(fs->name, "readlink", 8);
		if (s->kind == K_OPEN) {
			p->op[0] = open_ops(a[fs->flags]);
		} else if (s->kind == K_OPENAT2) {
			uint64_t flags = 0;

			/* struct open_how starts with the u64 flags. */
			(void)read_mem(t->pid, a[fs->flags], &flags, sizeof(flags));
			p->op[0] = open_ops(flags);
		} else if (s->kind == K_EXEC) {
			/* Always see an exec's outcome: executables are never capped. */
			p->exec = true;
			return p->path[0] != NULL;
		}
		break;
	}
	/* Drop paths whose outcomes are already known; no exit stop if nothing is left. */
	for (int i = 0; i < 2; i++)
		if (p->path[i] && !want_exit_check(e, p->path[i], p->op[i])) {
			free(p->path[i]);
			p->path[i] = NULL;
		}
	return p->path[0] || p->path[1];
}

static void on_exit_stop(struct tb_ptrace_engine *e, struct tb_task *t, bool ok)
{
	struct tb_pending *p = &t->p;

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
	uint64_t idx = arch == ARCH_X32 ? nr & ~(uint64_t)TB_X32_BIT : nr;
	void *no;

	e->stats.syscalls++;
	if (idx < TB_NR_SLOTS) {
		e->counts[arch][idx]++;
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

static int arch_of(const struct __ptrace_syscall_info *si, uint64_t nr)
{
	if (si->arch == AUDIT_ARCH_I386)
		return ARCH_I386;
	if (si->arch == AUDIT_ARCH_X86_64)
		return (nr & TB_X32_BIT) ? ARCH_X32 : ARCH_X86_64;
	return -1;
}

static void resume(pid_t pid, enum __ptrace_request how, int sig)
{
	/* ESRCH: the tracee was killed meanwhile; its exit arrives through waitpid. */
	(void)ptrace(how, pid, NULL, (void *)(uintptr_t)sig);
}

static void on_seccomp_stop(struct tb_ptrace_engine *e, struct tb_task *t)
{
	struct __ptrace_syscall_info si;
	uint64_t nr;
	int arch;

	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->pid, (void *)sizeof(si), &si) <= 0 ||
	    si.op != PTRACE_SYSCALL_INFO_SECCOMP) {
		resume(t->pid, PTRACE_CONT, 0);
		return;
	}
	arch = arch_of(&si, si.seccomp.nr);
	nr = arch == ARCH_X32 ? si.seccomp.nr & ~(uint64_t)TB_X32_BIT : si.seccomp.nr;
	/*
	 * Before the root's first exec only the runner's own calls run (after its hook, before the
	 * execve): they are not the workload's, except the execve itself.
	 */
	if (arch < 0 || (!e->recording && (nr >= TB_NR_SLOTS || e->slots[arch][nr].kind != K_EXEC))) {
		resume(t->pid, PTRACE_CONT, 0);
		return;
	}
	count(e, arch, si.seccomp.nr);
	pending_clear(&t->p);
	if (nr < TB_NR_SLOTS && on_entry(e, t, arch, nr, si.seccomp.args)) {
		t->awaiting_exit = true;
		e->stats.exit_stops++;
		resume(t->pid, PTRACE_SYSCALL, 0);
		return;
	}
	pending_clear(&t->p);
	resume(t->pid, PTRACE_CONT, 0);
}

static void on_syscall_exit(struct tb_ptrace_engine *e, struct tb_task *t)
{
	struct __ptrace_syscall_info si;

	t->awaiting_exit = false;
	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->pid, (void *)sizeof(si), &si) > 0 &&
	    si.op == PTRACE_SYSCALL_INFO_EXIT) {
		on_exit_stop(e, t,
			     !si.exit.is_error || (t->p.einval_ok && si.exit.rval == -EINVAL));
	} else {
		pending_clear(&t->p);
	}
	resume(t->pid, PTRACE_CONT, 0);
}

static void on_exec_event(struct tb_ptrace_engine *e, struct tb_task *t)
{
	unsigned long former = 0;
	char exe[PATH_MAX];

	/* A non-leader thread that execs takes over the leader's pid: move its pending state. */
	if (ptrace(PTRACE_GETEVENTMSG, t->pid, NULL, &former) == 0 && (pid_t)former != t->pid) {
		struct tb_task *old = task_find(e, (pid_t)former);

		if (old) {
			pending_clear(&t->p);
			t->p = old->p;
			t->awaiting_exit = old->awaiting_exit;
			memset(&old->p, 0, sizeof(old->p));
			task_del(e, old);
		}
	}
	e->recording = true;
	if (proc_link(t->pid, "exe", exe, sizeof(exe)) == 0)
		note(e, tb_recording_add_executable(e->rec, exe));
	/* Keep PTRACE_SYSCALL semantics if we wait for the exit stop of this execve. */
	resume(t->pid, t->awaiting_exit ? PTRACE_SYSCALL : PTRACE_CONT, 0);
}

static bool root_fatal_fault(struct tb_ptrace_engine *e, pid_t pid, int sig, const siginfo_t *si);

void tb_ptrace_on_wait(struct tb_ptrace_engine *e, pid_t pid, int status)
{
	struct tb_task *t = task_find(e, pid);
	int sig, event;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (t)
			task_del(e, t);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	sig = WSTOPSIG(status);
	event = (unsigned)status >> 16;
	if (!t) {
		/* An auto-attached child whose first stop came before its parent's fork event. */
		t = task_add(e, pid);
		if (!t) {
			e->failed = true;
			resume(pid, PTRACE_CONT, 0);
			return;
		}
		t->expect_stop = true;
	}
	if (event == PTRACE_EVENT_STOP) {
		/* Seized tracees: a new child's initial stop or a group-stop. No job control in
		 * the sandbox, so both just run on. */
		t->expect_stop = false;
		resume(pid, t->awaiting_exit ? PTRACE_SYSCALL : PTRACE_CONT, 0);
		return;
	}
	if (sig == (SIGTRAP | 0x80)) {
		if (t->awaiting_exit)
			on_syscall_exit(e, t);
		else
			resume(pid, PTRACE_CONT, 0);
		return;
	}
	if (sig == SIGTRAP && event) {
		e->stats.events++;
		switch (event) {
		case PTRACE_EVENT_SECCOMP:
			on_seccomp_stop(e, t);
			return;
		case PTRACE_EVENT_EXEC:
			on_exec_event(e, t);
			return;
		case PTRACE_EVENT_FORK:
		case PTRACE_EVENT_VFORK:
		case PTRACE_EVENT_CLONE: {
			unsigned long child = 0;

			if (ptrace(PTRACE_GETEVENTMSG, pid, NULL, &child) == 0 && child &&
			    !task_find(e, (pid_t)child)) {
				struct tb_task *c = task_add(e, (pid_t)child);

				if (c)
					c->expect_stop = true;
			}
			/* t may have moved if the table grew. */
			t = task_find(e, pid);
			resume(pid, t && t->awaiting_exit ? PTRACE_SYSCALL : PTRACE_CONT, 0);
			return;
		}
		default:
			resume(pid, PTRACE_CONT, 0);
			return;
		}
	}
	if (sig == SIGSTOP && t->expect_stop) {
		t->expect_stop = false;
		resume(pid, PTRACE_CONT, 0);
		return;
	}
	/* A signal for the tracee (or a group-stop): deliver it unchanged. */
	{
		siginfo_t si;

		if (ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) < 0) {
			/* Group-stop (no siginfo): let it run on, there is no job control here. */
			resume(pid, t->awaiting_exit ? PTRACE_SYSCALL : PTRACE_CONT, 0);
			return;
		}
		if (root_fatal_fault(e, pid, sig, &si)) {
			task_del(e, t);
			resume(pid, PTRACE_DETACH, sig);
			return;
		}
	}
	resume(pid, t->awaiting_exit ? PTRACE_SYSCALL : PTRACE_CONT, sig);
}

/* True when @pid has a handler for @sig (SigCgt in /proc/PID/status). */
static bool sig_caught(pid_t pid, int sig)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		/* NOLINTNEXTLINE(cert-err34-c): /proc/PID/status is kernel-written hex */
		found = sscanf(line, "SigCgt: %llx", &mask) == 1;
	fclose(f);
	return found && (mask >> (sig - 1)) & 1;
}

/*
 * The root is the init of the sandbox's pid namespace. The kernel only lets a fault kill such an
 * init when it is not traced (force_sig_fault clears SIGNAL_UNKILLABLE only for untraced tasks):
 * re-injected by a tracer, the signal is dropped and the faulting instruction loops forever. So a
 * crash of the root detaches it with the signal, and it dies the way it does under `run`.
 */
static bool root_fatal_fault(struct tb_ptrace_engine *e, pid_t pid, int sig, const siginfo_t *si)
{
	if (pid != e->root || si->si_code <= 0)
		return false;
	if (sig != SIGSEGV && sig != SIGBUS && sig != SIGILL && sig != SIGFPE && sig != SIGSYS &&
	    sig != SIGTRAP)
		return false;
	return !sig_caught(pid, sig);
}

/* ---- finish ---- */

static int add_count(struct tb_ptrace_engine *e, int arch, uint64_t nr, uint64_t n)
{
	uint64_t full = arch == ARCH_X32 ? nr | TB_X32_BIT : nr;
	char *name = seccomp_syscall_resolve_num_arch(arch_tokens[arch], (int)full);
	char buf[32];
	int ret;

	if (!name)
		snprintf(buf, sizeof(buf), "__nr_%llu", (unsigned long long)nr);
	ret = tb_recording_add_syscall(e->rec, arch_names[arch], name ? name : buf, n);
	free(name);
	return ret;
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
	return e->failed ? -ENOMEM : 0;
}

void tb_ptrace_engine_stats(const struct tb_ptrace_engine *e, struct tb_ptrace_stats *s)
{
	*s = e->stats;
}
