/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The eBPF recorder backend: open -> load -> attach the program in record.bpf.c, run the command
 * through tb_run() (so it is the very same sandbox `tightbox run` builds), drain the ring buffer
 * while it runs, then turn the maps into a tb_recording.
 *
 * Why the marker syscall: the program is attached before the sandbox exists, and the sandbox
 * child makes dozens of setup syscalls (mounts, cgroup writes, capability drops) that a profile
 * never sees because they happen before the filter. The child makes getppid(MAGIC, token) exactly
 * where tb_run() would load the filter; from that task on (and its descendants) everything counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <linux/types.h>
#include <sched.h>
#include <signal.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/arch.h"
#include "core/socket-family.h"
#include "core/syscall-specs.h"
#include "core/util.h"
#include "tracer/internal.h"
#include "tracer/bpf/bpf-shared.h"
#include "tracer/bpf/bpf-spec.h"
#include "tracer/ceiling.h"

#include "record-btf.h"
#include "record-notes.h"
#include "record.skel.h"

#define TB_BPF_BTF "/sys/kernel/btf/vmlinux"

_Static_assert(TB_BPF_X32_BIT == TB_ARCH_X32_BIT, "two x32 bits");

/* The arches the program tells apart (enum tb_bpf_arch), by core/arch.c's names. */
static const char *const bpf_arch_names[TB_BPF_N_ARCH] = {
	[TB_BPF_X86_64] = "x86_64",
	[TB_BPF_I386] = "x86",
	[TB_BPF_X32] = "x32",
};

static const struct tb_arch *bpf_arch(size_t i)
{
	return tb_arch_by_name(bpf_arch_names[i]);
}

/* libbpf's last message: library code never prints, the diag carries it instead. */
static _Thread_local char libbpf_last[256];
/* The verifier's reason for refusing a program (the last line of its log that says one). */
static _Thread_local char libbpf_verifier[256];
/* TIGHTBOX_BPF_LOG=FILE: every libbpf message, a refused program's verifier log included. */
static FILE *libbpf_log_file;

/*
 * The line of a verifier log that says why: the last one before its statistics ("processed N
 * insns", "verification time", "stack depth"). Kept with the program's name from @msg.
 */
static void keep_verifier_reason(const char *msg)
{
	const char *log = strstr(msg, "-- BEGIN PROG LOAD LOG --\n"), *end, *prog, *p;
	const char *best = NULL;
	size_t best_len = 0;

	if (!log)
		return;
	log += strlen("-- BEGIN PROG LOAD LOG --\n");
	end = strstr(log, "-- END PROG LOAD LOG --");
	if (!end)
		end = log + strlen(log);
	for (p = log; p < end;) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n && strncmp(p, "processed ", 10) && strncmp(p, "verification time", 17) &&
		    strncmp(p, "stack depth", 11)) {
			best = p;
			best_len = n;
		}
		p += n + 1;
	}
	if (!best)
		return;
	prog = strstr(msg, "prog '");
	if (prog && (p = strchr(prog + 6, '\'')) && p < log)
		snprintf(libbpf_verifier, sizeof(libbpf_verifier), "%.*s: %.*s", (int)(p - prog - 6),
			 prog + 6, (int)best_len, best);
	else
		snprintf(libbpf_verifier, sizeof(libbpf_verifier), "%.*s", (int)best_len, best);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (libbpf_log_file) {
		va_list copy;

		va_copy(copy, ap);
		vfprintf(libbpf_log_file, fmt, copy);
		va_end(copy);
	}
	if (level != LIBBPF_DEBUG) {
		_cleanup_free_ char *msg = NULL;
		size_t n;

		if (vasprintf(&msg, fmt, ap) < 0) {
			msg = NULL;
			return 0;
		}
		keep_verifier_reason(msg);
		n = strcspn(msg, "\n");
		if (n >= sizeof(libbpf_last))
			n = sizeof(libbpf_last) - 1;
		if (n) {
			memcpy(libbpf_last, msg, n);
			libbpf_last[n] = '\0';
		}
	}
	return 0;
}

static bool have_cap(cap_value_t cap)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;

	if (!caps)
		return false;
	if (cap_get_flag(caps, cap, CAP_EFFECTIVE, &v) < 0)
		v = CAP_CLEAR;
	cap_free(caps);
	return v == CAP_SET;
}

int tb_bpf_available(char *why, size_t why_len)
{
	const char *reason = NULL;
	int r = 0;

	if (access(TB_BPF_BTF, R_OK) < 0) {
		reason = "no BTF at " TB_BPF_BTF;
		r = -ENOTSUP;
	} else if (!have_cap(CAP_SYS_ADMIN) && !(CAP_LAST_CAP >= 39 && have_cap(39 /* CAP_BPF */) &&
						  have_cap(38 /* CAP_PERFMON */))) {
		/* unprivileged_bpf_disabled is set on such machines: tracing programs need these. */
		reason = "needs CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN (run as root)";
		r = -EPERM;
	}
	if (reason && why && why_len)
		snprintf(why, why_len, "%s", reason);
	return r;
}

/* A distinct argument tuple the ring buffer announced. */
struct tb_bpf_tuple {
	struct tb_bpf_args_key key;
	uint64_t events;
};

/* The fds the parent needs of the loaded object (sent by the reader, see load_in_reader()). */
enum {
	TB_BPF_FD_BSS,
	TB_BPF_FD_COUNTS_OTHER,
	TB_BPF_FD_DENIED,
	TB_BPF_FD_ARGS_SEEN,
	TB_BPF_FD_PROG_ENTER, /* the programs recursion_misses() asks about */
	TB_BPF_FD_PROG_EXIT,
	TB_BPF_FD_PROG_FORK,
	TB_BPF_FD_PROG_TASK_EXIT,
	TB_BPF_N_FDS
};

struct tb_bpf_session {
	struct tb_record *skel;      /* the reader's: it loads, attaches and drains */
	struct ring_buffer *rb;      /* the reader's */
	struct tb_record__bss *bss;  /* both: the reader's skeleton mmap, the parent's own */
	int fds[TB_BPF_N_FDS];       /* the parent's, from the reader; -1 until it said "loaded" */
	struct tb_recording *rec;
	struct tb_diag *diag;        /* the caller's: a load failure the reader reports lands here */
	const struct tb_syscall_spec *spec[TB_BPF_N_ARCH][TB_BPF_NR_MAX];
	struct tb_bpf_tuple *tuples;
	size_t n_tuples, cap_tuples;
	uint64_t unresolved_paths;
	int wake_fd; /* eventfd: the run is over, drain once more and stop */
	int log_fd;  /* memfd the reader appends to */
	FILE *log;   /* the reader's buffered stream on it */
	int sock[2]; /* socketpair: [0] the parent's end, [1] the reader's */
	pid_t reader;
	uint64_t token;
	int marker_nr;
	int base_filters;
	struct sock_fprog ceiling; /* tracer/ceiling.h, answered EPERM by the kernel */
};

/*
 * Makes @path absolute the way the sandboxed task saw it: through its cwd or dirfd in /proc. This
 * runs while the task lives (the ring buffer is drained during the run), so it races only with a
 * task that exits or changes directory right after the call; such paths are counted as unresolved.
 */
static int resolve_path(const struct tb_bpf_event *ev, char *out, size_t size)
{
	const struct tb_bpf_file_key *k = &ev->file;
	char link[64], base[PATH_MAX];
	const char *rel = ev->path;
	uint32_t tgid = ev->tgid;
	ssize_t n;

	if (rel[0] == '/') {
		snprintf(out, size, "%s", rel);
		return 0;
	}
	if (ev->base[0] == '/') {
		/* The program resolved the directory at the call. */
		n = snprintf(base, sizeof(base), "%s", ev->base);
		goto join;
	}
	if (k->dirfd == AT_FDCWD)
		snprintf(link, sizeof(link), "/proc/%u/cwd", tgid);
	else
		snprintf(link, sizeof(link), "/proc/%u/fd/%d", tgid, k->dirfd);
	n = readlink(link, base, sizeof(base) - 1);
	if (n <= 0 || base[0] != '/')
		return -ENOENT;
	base[n] = '\0';
join:
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	if (!strcmp(rel, "."))
		rel = "";
	if (snprintf(out, size, "%s%s%s", base, (n > 1 && *rel) ? "/" : "", rel) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

/* Adds one file event; @path is the resolved path, NULL when it could not be resolved. */
static int on_file(struct tb_bpf_session *s, const struct tb_bpf_file_key *k, const char *path)
{
	unsigned op;
	int r;

	const struct tb_syscall_spec *sp;

	if (k->arch >= TB_BPF_N_ARCH || k->nr >= TB_BPF_NR_MAX || k->slot > 1)
		return 0;
	sp = s->spec[k->arch][k->nr];
	if (!sp)
		return 0;
	op = sp->kind == TB_SPEC_OPEN || sp->kind == TB_SPEC_OPENAT2 ? tb_syscall_spec_open_ops(k->aux)
								     : sp->path[k->slot].op;
	if (!op)
		return 0;
	if (!path) {
		s->unresolved_paths++;
		return 0;
	}
	r = tb_recording_add_file(s->rec, path, op, k->ok);
	return r;
}

static int on_args(struct tb_bpf_session *s, const struct tb_bpf_args_key *k)
{
	for (size_t i = 0; i < s->n_tuples; i++)
		if (!memcmp(&s->tuples[i].key, k, sizeof(*k))) {
			s->tuples[i].events++;
			return 0;
		}
	if (s->n_tuples == s->cap_tuples) {
		size_t cap = s->cap_tuples ? 2 * s->cap_tuples : 64;
		struct tb_bpf_tuple *t = realloc(s->tuples, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		s->tuples = t;
		s->cap_tuples = cap;
	}
	s->tuples[s->n_tuples++] = (struct tb_bpf_tuple){.key = *k, .events = 1};
	return 0;
}

/*
 * The reader is a forked helper process, not a thread: tb_run() clones the sandbox child with a
 * raw clone(), and in a child of a multithreaded process glibc's setuid()/setgroups() wait
 * forever for the other (absent) threads. The helper resolves paths while the tasks live and
 * appends each event plus its resolved path to a memfd the parent replays after the run.
 */
#define TB_BPF_EV_EXE 100 /* log only: an executable as /proc/PID/exe names it */

struct tb_bpf_logged {
	struct tb_bpf_event ev;
	uint32_t path_len; /* 0: unresolved (file events) */
};

static int log_write(struct tb_bpf_session *s, const struct tb_bpf_logged *l, const char *path)
{
	if (fwrite(l, sizeof(*l), 1, s->log) != 1 ||
	    (l->path_len && fwrite(path, l->path_len, 1, s->log) != 1))
		return -EIO;
	return 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct tb_bpf_session *s = ctx;
	struct tb_bpf_logged l = {0};
	char path[PATH_MAX];

	if (size < sizeof(l.ev))
		return 0;
	memcpy(&l.ev, data, sizeof(l.ev));
	l.ev.path[sizeof(l.ev.path) - 1] = '\0';
	l.ev.base[sizeof(l.ev.base) - 1] = '\0';
	if (l.ev.kind == TB_BPF_EV_FILE && resolve_path(&l.ev, path, sizeof(path)) == 0)
		l.path_len = strlen(path) + 1;
	if (log_write(s, &l, path) < 0)
		return -EIO; /* stops this drain; the parent sees a short log */
	/*
	 * An executable is named as the kernel ran it (symlinks resolved, like the ptrace backend):
	 * right after a successful exec the task still lives, so /proc/PID/exe says.
	 */
	if (l.ev.kind == TB_BPF_EV_FILE && l.ev.file.ok && l.ev.file.arch < TB_BPF_N_ARCH &&
	    l.ev.file.nr < TB_BPF_NR_MAX && s->spec[l.ev.file.arch][l.ev.file.nr] &&
	    s->spec[l.ev.file.arch][l.ev.file.nr]->kind == TB_SPEC_EXEC) {
		char link[64];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/%u/exe", l.ev.tgid);
		n = readlink(link, path, sizeof(path) - 1);
		if (n > 0) {
			path[n] = '\0';
			l.path_len = n + 1;
		}
		l.ev.kind = TB_BPF_EV_EXE;
		if (l.path_len && log_write(s, &l, path) < 0)
			return -EIO;
	}
	return 0;
}

static void drain(struct tb_bpf_session *s)
{
	struct pollfd p[2] = {
		{.fd = ring_buffer__epoll_fd(s->rb), .events = POLLIN},
		{.fd = s->wake_fd, .events = POLLIN},
	};

	/*
	 * The program wakes us only for a backlog (see emit()), so poll every 5 ms; relative paths
	 * are resolved that much later. The eventfd ends the loop when the run is over.
	 */
	for (;;) {
		if (poll(p, 2, 5) < 0 && errno != EINTR)
			break;
		ring_buffer__consume(s->rb);
		if (p[1].revents)
			break;
	}
	if (s->log && fflush(s->log) != 0)
		_exit(1);
}

/* Replays the helper's log into the recording. */
static int replay(struct tb_bpf_session *s)
{
	_cleanup_fclose_ FILE *f = NULL;
	struct tb_bpf_logged l;
	char path[PATH_MAX];
	int fd, r = 0;

	fd = dup(s->log_fd);
	if (fd < 0)
		return tb_negerrno();
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	if (fseek(f, 0, SEEK_SET) < 0)
		return tb_negerrno();
	while (r >= 0 && fread(&l, sizeof(l), 1, f) == 1) {
		if (l.path_len > sizeof(path) || (l.path_len && fread(path, l.path_len, 1, f) != 1))
			return -EIO;
		if (l.path_len)
			path[l.path_len - 1] = '\0';
		if (l.ev.kind == TB_BPF_EV_ARGS)
			r = on_args(s, &l.ev.args);
		else if (l.ev.kind == TB_BPF_EV_FILE)
			r = on_file(s, &l.ev.file, l.path_len ? path : NULL);
		else if (l.ev.kind == TB_BPF_EV_EXE && l.path_len)
			r = tb_recording_add_executable(s->rec, path);
	}
	return r;
}

/* The cgroup2 mount: /sys/fs/cgroup/unified on hybrid machines, /sys/fs/cgroup on unified ones. */
static const char *cgroup2_root(void)
{
	static const char *const roots[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	struct statfs sf;

	for (size_t i = 0; i < TB_ARRAY_SIZE(roots); i++)
		if (statfs(roots[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
			return roots[i];
	return NULL;
}

/* The cgroup2 id of @pid (the inode of its cgroup2 folder), 0 when it has none of its own. */
static uint64_t cgroup2_id(pid_t pid)
{
	char file[64], line[PATH_MAX + 8], dir[2 * PATH_MAX];
	_cleanup_fclose_ FILE *f = NULL;
	const char *root = cgroup2_root();
	struct stat st;
	uint64_t id = 0;

	if (!root)
		return 0;
	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	f = fopen(file, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "0::", 3))
			continue;
		/* The root cgroup holds every other process: no use as a filter. */
		if (!strcmp(line + 3, "/"))
			break;
		snprintf(dir, sizeof(dir), "%s%s", root, line + 3);
		if (stat(dir, &st) == 0)
			id = st.st_ino;
		break;
	}
	return id;
}

static int hook_child_before_filter(void *data)
{
	struct tb_bpf_session *s = data;

	/* The ceiling (refused with EPERM before sys_enter, counted at sys_exit), loaded before the
	 * marker so that its own seccomp(2) is not the workload's. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &s->ceiling) < 0)
		return tb_negerrno();
	/* getppid ignores its arguments; the program recognises magic + token and arms this task. */
	syscall(s->marker_nr, (long)TB_BPF_MARKER_MAGIC, (long)s->token, 0L, 0L, 0L, 0L);
	return 0;
}

/* Flags @name, on every arch that has it, as one the ceiling may refuse (TB_BPF_SI_REFUSABLE). */
static int mark_refusable(const char *name, void *data)
{
	struct tb_bpf_sysinfo *sysinfo = data;

	for (size_t a = 0; a < TB_BPF_N_ARCH; a++) {
		int nr = seccomp_syscall_resolve_name_arch(bpf_arch(a)->token, name);

		if (nr < 0)
			continue;
		nr &= ~(int)bpf_arch(a)->nr_bit;
		if (nr < TB_BPF_NR_MAX)
			sysinfo[a * TB_BPF_NR_MAX + nr].flags |= TB_BPF_SI_REFUSABLE;
	}
	return 0;
}

/*
 * The spec of each (arch, nr) in @s->spec, which both processes read the events with; and with
 * @sysinfo (the program's .rodata table, before load: it is frozen), core/syscall-specs.c
 * encoded into it and the calls the ceiling may refuse flagged.
 */
static int fill_sysinfo(struct tb_bpf_session *s, struct tb_bpf_sysinfo *sysinfo,
			struct tb_diag *diag)
{
	size_t n_specs;
	const struct tb_syscall_spec *specs = tb_syscall_specs(&n_specs);

	_Static_assert(sizeof(s->skel->rodata->sysinfo) ==
			       TB_BPF_N_ARCH * TB_BPF_NR_MAX * sizeof(struct tb_bpf_sysinfo),
		       "one sysinfo entry per (arch, nr)");
	for (size_t a = 0; a < TB_BPF_N_ARCH; a++)
		for (size_t i = 0; i < n_specs; i++) {
			const struct tb_syscall_spec *sp = &specs[i];
			struct tb_bpf_sysinfo si;
			int nr = seccomp_syscall_resolve_name_arch(bpf_arch(a)->token, sp->name), r;

			if (nr < 0)
				continue; /* not on this arch */
			nr &= ~(int)bpf_arch(a)->nr_bit;
			if (nr >= TB_BPF_NR_MAX)
				continue;
			s->spec[a][nr] = sp;
			if (!sysinfo)
				continue;
			r = tb_bpf_sysinfo_from_spec(sp, &si);
			if (r < 0) {
				/* The build checks the table (bpf-spec-check): cannot happen. */
				tb_diag_set(diag, NULL, 0, 0, "--backend", "bpf: cannot record %s", sp->name);
				return r;
			}
			sysinfo[a * TB_BPF_NR_MAX + nr] = si;
		}
	return sysinfo ? tb_ceiling_each_name(TB_CEILING_DANGEROUS, mark_refusable, sysinfo) : 0;
}

/* A syscall name from libseccomp, or "__nr_N" (the recording format's name for unknown numbers). */
static int add_syscall(struct tb_recording *rec, size_t arch, uint32_t nr, uint64_t count)
{
	const struct tb_arch *a = bpf_arch(arch);
	uint32_t full = nr | a->nr_bit;
	_cleanup_free_ char *name = seccomp_syscall_resolve_num_arch(a->token, (int)full);
	char fallback[32];

	if (!name)
		snprintf(fallback, sizeof(fallback), "__nr_%u", full);
	return tb_recording_add_syscall(rec, a->label, name ? name : fallback, count);
}

static int collect_counts(struct tb_bpf_session *s)
{
	enum { N = TB_BPF_N_ARCH * TB_BPF_NR_MAX };
	const volatile __u64 *counts = s->bss->counts;
	int fd = s->fds[TB_BPF_FD_COUNTS_OTHER];
	struct tb_bpf_count_key k, next, *prev = NULL;
	uint64_t c;
	int r;

	_Static_assert(sizeof(s->bss->counts) == N * sizeof(__u64), "one count per (arch, nr)");
	/* The program stopped counting (mode 0) and the sandbox is gone: the .bss mmap is final. */
	for (uint32_t i = 0; i < N; i++) {
		c = counts[i];
		if (!c)
			continue;
		r = add_syscall(s->rec, i / TB_BPF_NR_MAX, i % TB_BPF_NR_MAX, c);
		if (r < 0)
			return r;
	}
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &c) < 0 || k.arch >= TB_BPF_N_ARCH)
			continue;
		/* The key keeps the raw number (x32 bit included): name it as such. */
		r = add_syscall(s->rec, k.arch, k.nr & ~bpf_arch(k.arch)->nr_bit, c);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The calls the ceiling refused (counted at their sys_exit) into the recording's "denied". */
static int collect_denied(struct tb_bpf_session *s)
{
	int fd = s->fds[TB_BPF_FD_DENIED];
	struct tb_bpf_count_key k, next, *prev = NULL;
	uint64_t c;
	int r;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		const struct tb_arch *a;
		_cleanup_free_ char *name = NULL;
		char fallback[32];

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &c) < 0 || k.arch >= TB_BPF_N_ARCH)
			continue;
		a = bpf_arch(k.arch);
		name = seccomp_syscall_resolve_num_arch(a->token, (int)(k.nr | a->nr_bit));
		if (!name)
			snprintf(fallback, sizeof(fallback), "__nr_%u", k.nr | a->nr_bit);
		r = tb_recording_add_denied(s->rec, a->label, name ? name : fallback, c);
		if (r < 0)
			return r;
	}
	return 0;
}

static int collect_args(struct tb_bpf_session *s)
{
	int fd = s->fds[TB_BPF_FD_ARGS_SEEN];

	for (size_t i = 0; i < s->n_tuples; i++) {
		const struct tb_bpf_args_key *k = &s->tuples[i].key;
		const struct tb_syscall_spec *sp;
		const struct tb_arch *arch;
		const char *keys[6];
		uint64_t vals[6], count = 0;
		size_t n = 0;
		int r;

		if (k->arch >= TB_BPF_N_ARCH || k->nr >= TB_BPF_NR_MAX)
			continue;
		sp = s->spec[k->arch][k->nr];
		arch = bpf_arch(k->arch);
		if (!sp)
			continue;
		if (bpf_map_lookup_elem(fd, k, &count) < 0)
			count = s->tuples[i].events; /* the map was full: the ring saw each call */
		if (sp->kind == TB_SPEC_CLONE3) {
			keys[n] = tb_syscall_spec_arg_key(sp, 0);
			vals[n++] = k->vals[0];
		} else {
			for (unsigned a = 0; a < 6; a++)
				if (sp->argmask & (1u << a)) {
					keys[n] = tb_syscall_spec_arg_key(sp, a);
					vals[n++] = k->vals[a];
				}
		}
		r = tb_recording_add_args(s->rec, arch->label, sp->name, n, keys, vals, count);
		if (r >= 0 && (sp->flags & TB_SPEC_FAMILY)) {
			char buf[32];

			r = tb_recording_add_family(
				s->rec, tb_socket_family_name((long long)k->vals[0], buf, sizeof(buf)));
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* The seccomp filters tightbox itself runs under (a container's): "Seccomp_filters:" in status. */
static int own_seccomp_filters(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp_filters: %d", &n) == 1)
			break;
	return n > 0 ? n : 0;
}

static int getrandom_token(uint64_t *token)
{
	/* A token keeps a process that happens to share the cgroup from arming itself by accident. */
	if (getrandom(token, sizeof(*token), 0) != sizeof(*token))
		return tb_negerrno();
	return 0;
}

/*
 * An fd holding the minimised BTF generated at build time, or -1 when the running kernel is not
 * the one the build saw (its build-id note in /sys/kernel/notes differs): then libbpf reads the
 * full vmlinux BTF, slower but right for any kernel.
 */
static int min_btf_fd(void)
{
	unsigned char notes[sizeof(tb_bpf_build_notes) + 1];
	_cleanup_close_ int nfd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int fd = -1;
	ssize_t n;

	if (nfd < 0)
		return -1;
	n = read(nfd, notes, sizeof(notes));
	if (n != (ssize_t)tb_bpf_build_notes_len || memcmp(notes, tb_bpf_build_notes, n))
		return -1;
	fd = memfd_create("tightbox-min-btf", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, tb_bpf_min_btf, tb_bpf_min_btf_len) != (ssize_t)tb_bpf_min_btf_len)
		return -1;
	return TB_TAKE_FD(fd);
}

/*
 * TIGHTBOX_BPF_LOG names a file that libbpf's messages are appended to, debug level included:
 * what the verifier said about a program this kernel refuses (docs/kernels.md). Never follows a
 * symlink, never truncates.
 */
static int open_libbpf_log(struct tb_diag *diag)
{
	const char *path = getenv("TIGHTBOX_BPF_LOG");
	int fd, r;

	if (libbpf_log_file || !path || !*path)
		return 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		libbpf_log_file = fdopen(fd, "a");
	if (!libbpf_log_file) {
		r = tb_negerrno();
		if (fd >= 0)
			close(fd);
		tb_diag_set(diag, path, 0, 0, "TIGHTBOX_BPF_LOG", "cannot open the libbpf log: %s",
			    strerror(-r));
		return r;
	}
	setvbuf(libbpf_log_file, NULL, _IOLBF, 0);
	return 0;
}

/* The parent's mapping of the program's .bss (BPF_F_MMAPABLE, as libbpf makes it). */
static size_t bss_len(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (sizeof(struct tb_record__bss) + page - 1) / page * page;
}

/* The parent's session; the reader never frees its own (it _exits). */
static void session_free(struct tb_bpf_session *s)
{
	if (!s)
		return;
	if (s->bss)
		munmap(s->bss, bss_len());
	for (size_t i = 0; i < TB_BPF_N_FDS; i++)
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	for (size_t i = 0; i < 2; i++)
		if (s->sock[i] >= 0)
			close(s->sock[i]);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	if (s->log_fd >= 0)
		close(s->log_fd);
	free(s->tuples);
	free(s->ceiling.filter);
	free(s);
}

/* What both processes need before the fork: the channels, the marker, the libbpf log. */
static int session_open(struct tb_bpf_session **out, struct tb_recording *rec, struct tb_diag *diag)
{
	struct tb_bpf_session *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->rec = rec;
	s->diag = diag;
	s->reader = -1;
	s->sock[0] = s->sock[1] = -1;
	for (size_t i = 0; i < TB_BPF_N_FDS; i++)
		s->fds[i] = -1;
	s->wake_fd = eventfd(0, EFD_CLOEXEC);
	s->log_fd = memfd_create("tightbox-bpf-events", MFD_CLOEXEC);
	if (s->wake_fd < 0 || s->log_fd < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s->sock) < 0) {
		r = tb_negerrno();
		tb_diag_set(diag, NULL, 0, 0, "--backend", "bpf: the reader's eventfd, memfd or socket: %s",
			    strerror(-r));
		goto fail;
	}
	s->marker_nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "getppid");
	if (s->marker_nr < 0 || getrandom_token(&s->token) < 0) {
		r = -EIO;
		tb_diag_set(diag, NULL, 0, 0, "--backend", "bpf: cannot pick a marker syscall");
		goto fail;
	}
	r = open_libbpf_log(diag);
	if (r < 0)
		goto fail;
	s->base_filters = own_seccomp_filters() + 1; /* and the ceiling */
	*out = s;
	return 0;
fail:
	session_free(s);
	return r;
}

/* In the reader: open, fill .rodata, load (the verifier), attach, and the ring buffer's reader. */
static int load_and_attach(struct tb_bpf_session *s, struct tb_diag *diag)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	_cleanup_close_ int btf_fd = -1;
	char btf_path[64];
	int r;

	libbpf_set_print(libbpf_quiet);
	libbpf_last[0] = '\0';
	libbpf_verifier[0] = '\0';
	btf_fd = min_btf_fd();
	if (btf_fd >= 0) {
		snprintf(btf_path, sizeof(btf_path), "/proc/self/fd/%d", btf_fd);
		opts.btf_custom_path = btf_path;
	}
	/* Logging: the verifier's whole log and its statistics (verification time, instructions). */
	if (libbpf_log_file)
		opts.kernel_log_level = 1 | 4;
	s->skel = tb_record__open_opts(&opts);
	if (!s->skel) {
		r = tb_negerrno();
		tb_diag_set(diag, NULL, 0, 0, "--backend", "bpf: opening the program: %s%s%s",
			    strerror(-r), *libbpf_last ? ": " : "", libbpf_last);
		return r;
	}
	s->skel->rodata->marker_nr = s->marker_nr;
	s->skel->rodata->marker_token = s->token;
	s->skel->rodata->base_filters = s->base_filters;
	r = fill_sysinfo(s, (struct tb_bpf_sysinfo *)s->skel->rodata->sysinfo, diag);
	if (r < 0)
		return r;
	r = tb_record__load(s->skel);
	if (r < 0) {
		/* The verifier's reason beats libbpf's last line ("failed to load BPF skeleton"). */
		tb_diag_set(diag, NULL, 0, 0, "--backend", "bpf: loading the program: %s%s%s%s",
			    strerror(-r), *libbpf_verifier || *libbpf_last ? ": " : "",
			    *libbpf_verifier ? "the verifier refused " : "",
			    *libbpf_verifier ? libbpf_verifier : libbpf_last);
		/* The kernel refused the program before anything ran: `auto` records with ptrace. */
		return TB_BPF_NOT_LOADED;
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), on_event, s, NULL);
	if (!s->rb) {
		r = tb_negerrno();
		tb_diag_set(diag, NULL, 0, 0, "--backend", "bpf: ring buffer: %s", strerror(-r));
		return r;
	}
	r = tb_record__attach(s->skel);
	if (r < 0) {
		tb_diag_set(diag, NULL, 0, 0, "--backend", "bpf: attaching to sys_enter/sys_exit: %s%s%s",
			    strerror(-r), *libbpf_last ? ": " : "", libbpf_last);
		return r;
	}
	return 0;
}

/*
 * The reader's first message: 0 and the fds (SCM_RIGHTS, in enum order) once the program is
 * attached, or the error and its diagnostic. Its last one, after the final drain, is a single
 * TB_BPF_READER_DONE byte: without it the log is not whole, whoever reaped the reader.
 */
struct tb_bpf_loaded {
	int r;
	struct tb_diag diag;
};

#define TB_BPF_READER_DONE 'd'

union tb_bpf_fds_cmsg {
	char buf[CMSG_SPACE(sizeof(int) * TB_BPF_N_FDS)];
	struct cmsghdr align;
};

/* In the reader: tells the parent @r, with @diag on failure and the object's fds on success. */
static int send_loaded(struct tb_bpf_session *s, int r, const struct tb_diag *diag)
{
	struct tb_bpf_loaded m = {.r = r};
	union tb_bpf_fds_cmsg u;
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	memset(&u, 0, sizeof(u));
	if (r < 0) {
		m.diag = *diag;
	} else {
		const int fds[TB_BPF_N_FDS] = {
		    [TB_BPF_FD_BSS] = bpf_map__fd(s->skel->maps.bss),
		    [TB_BPF_FD_COUNTS_OTHER] = bpf_map__fd(s->skel->maps.counts_other),
		    [TB_BPF_FD_DENIED] = bpf_map__fd(s->skel->maps.denied),
		    [TB_BPF_FD_ARGS_SEEN] = bpf_map__fd(s->skel->maps.args_seen),
		    [TB_BPF_FD_PROG_ENTER] = bpf_program__fd(s->skel->progs.tb_sys_enter),
		    [TB_BPF_FD_PROG_EXIT] = bpf_program__fd(s->skel->progs.tb_sys_exit),
		    [TB_BPF_FD_PROG_FORK] = bpf_program__fd(s->skel->progs.tb_fork),
		    [TB_BPF_FD_PROG_TASK_EXIT] = bpf_program__fd(s->skel->progs.tb_exit),
		};
		struct cmsghdr *cm;

		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	}
	return sendmsg(s->sock[1], &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(m) ? 0 : tb_negerrno();
}

/*
 * In the parent (parent_started, before the sandbox child is released): waits for the reader's
 * first message and takes the object's fds, or its load failure (diagnostic and code as the
 * reader found them). Never hangs: the reader exiting closes its end of the socket.
 */
static int wait_loaded(struct tb_bpf_session *s)
{
	struct tb_bpf_loaded m;
	union tb_bpf_fds_cmsg u;
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm;
	void *bss;
	ssize_t n;
	int st = 0, r;

	do
		n = recvmsg(s->sock[0], &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r = tb_negerrno();
		tb_diag_set(s->diag, NULL, 0, 0, "--backend", "bpf: waiting for the program: %s",
			    strerror(-r));
		return r;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			memcpy(s->fds, CMSG_DATA(cm), (k < TB_BPF_N_FDS ? k : TB_BPF_N_FDS) * sizeof(int));
		}
	if (n == 0) {
		/* It died before it could say: what killed it is its status. */
		while (waitpid(s->reader, &st, 0) < 0 && errno == EINTR)
			;
		s->reader = -1;
		tb_diag_set(s->diag, NULL, 0, 0, "--backend",
			    "bpf: the reader exited before the program was attached (status %d)", st);
		return -EIO;
	}
	if (n != (ssize_t)sizeof(m) || (m.r == 0 && s->fds[TB_BPF_N_FDS - 1] < 0)) {
		tb_diag_set(s->diag, NULL, 0, 0, "--backend", "bpf: a short message from the reader");
		return -EIO;
	}
	if (m.r < 0) {
		*s->diag = m.diag;
		return m.r;
	}
	bss = mmap(NULL, bss_len(), PROT_READ | PROT_WRITE, MAP_SHARED, s->fds[TB_BPF_FD_BSS], 0);
	if (bss == MAP_FAILED) {
		r = tb_negerrno();
		tb_diag_set(s->diag, NULL, 0, 0, "--backend", "bpf: mapping .bss: %s", strerror(-r));
		return r;
	}
	s->bss = bss;
	return 0;
}

static int hook_parent_started(pid_t child, void *data)
{
	struct tb_bpf_session *s = data;
	uint64_t id;
	int r;

	r = wait_loaded(s);
	if (r < 0)
		return r;
	id = cgroup2_id(child);
	/* Without a cgroup of its own the program checks every task's mark (slower, still exact). */
	s->bss->target_cgid = id;
	__atomic_store_n(&s->bss->mode, id ? 1 : 2, __ATOMIC_RELEASE);
	return 0;
}

/*
 * The reader: loads and attaches the program while the parent builds the sandbox, hands the
 * parent what it reads after the run, then drains the ring buffer until the parent wakes it. The
 * attach links are its own: the programs stay attached exactly while it lives.
 */
static __attribute__((noreturn)) void reader_main(struct tb_bpf_session *s, pid_t parent)
{
	const char done = TB_BPF_READER_DONE;
	struct tb_diag d = {0};
	int r;

	/* The reader must not outlive us, nor take the signals meant for tightbox. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	close(TB_TAKE_FD(s->sock[0]));
	r = load_and_attach(s, &d);
	if (send_loaded(s, r, &d) < 0 || r < 0)
		_exit(1);
	s->log = fdopen(dup(s->log_fd), "w");
	if (!s->log)
		_exit(1);
	drain(s);
	if (send(s->sock[1], &done, 1, MSG_NOSIGNAL) != 1)
		_exit(1);
	_exit(0);
}

/*
 * Ends the reader: after a run it drains what is left and says it is done; after a failed one it
 * is killed. Whether it wrote its whole log; *@status is its wait status, or -1 when someone else
 * reaped it (the supervisor's wait for any child does, when it dies during the run).
 */
static bool reader_stop(struct tb_bpf_session *s, bool ran, int *status)
{
	char done = 0;
	ssize_t n = 0;

	*status = -1;
	if (s->reader < 0)
		return false;
	if (s->bss) /* Stop counting: nothing the sandbox left behind can add to the maps. */
		__atomic_store_n(&s->bss->mode, 0, __ATOMIC_RELEASE);
	if (ran && eventfd_write(s->wake_fd, 1) == 0) {
		do
			n = recv(s->sock[0], &done, 1, 0);
		while (n < 0 && errno == EINTR);
	} else {
		kill(s->reader, SIGKILL);
	}
	while (waitpid(s->reader, status, 0) < 0 && errno == EINTR)
		;
	s->reader = -1;
	return n == 1 && done == TB_BPF_READER_DONE;
}

/*
 * Invocations the kernel skipped because the program was already running on that CPU (its
 * recursion guard): each is a syscall enter or exit nobody saw.
 */
static uint64_t recursion_misses(struct tb_bpf_session *s)
{
	uint64_t n = 0;

	for (size_t i = TB_BPF_FD_PROG_ENTER; i <= TB_BPF_FD_PROG_TASK_EXIT; i++) {
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(s->fds[i], &info, &len) == 0)
			n += info.recursion_misses;
	}
	return n;
}

/*
 * Puts what the program or the reader could not record into the recording ("lost", see
 * docs/recording-format.md) and the run's warnings, instead of dropping it silently.
 */
static int report_lost(struct tb_bpf_session *s, struct tb_run_result *res, bool reader_done,
		       int reader_status)
{
	const struct tb_bpf_lost *l = &s->bss->lost;
	uint64_t missed = recursion_misses(s);
	int r = 0;

	/* What was lost, each kind one warning (the recording's "lost" counts them too). */
	const struct {
		uint64_t n;
		const char *what;
	} kinds[] = {
	    {missed, "syscall events skipped by the kernel (program already running on that CPU)"},
	    {l->events, "events lost to a full ring buffer (files may be missing)"},
	    {l->tasks, "tasks not followed (the task table was full)"},
	    {l->paths, "paths could not be read from the task's memory or fd"},
	    {s->unresolved_paths, "relative paths could not be resolved (the task was gone)"},
	};

	s->rec->lost.events += l->events + l->tasks + missed;
	s->rec->lost.paths += l->paths + s->unresolved_paths;
	for (size_t i = 0; i < TB_ARRAY_SIZE(kinds) && r >= 0; i++)
		if (kinds[i].n)
			r = tb_run_result_warnf(res, TB_WARN_RECORDING_INCOMPLETE, "bpf",
						"bpf: %llu %s", (unsigned long long)kinds[i].n,
						kinds[i].what);
	if (r >= 0 && !reader_done) {
		s->rec->lost.events++;
		r = tb_run_result_warnf(res, TB_WARN_RECORDING_INCOMPLETE, "bpf",
					"bpf: the reader failed (status %d): files and arguments may be "
					"missing",
					reader_status);
	}
	return r;
}

int tb_bpf_record(const struct tb_run_config *c, bool enforce, struct tb_recording *rec,
		  struct tb_run_result *res, struct tb_diag *diag)
{
	struct tb_bpf_session *s = NULL;
	struct tb_run_hooks hooks = {0};
	char why[128];
	pid_t parent = getpid();
	bool reader_done;
	int reader_status;
	int r;

	r = tb_bpf_available(why, sizeof(why));
	if (r < 0) {
		tb_diag_set(diag, NULL, 0, 0, "--backend", "the bpf backend is not available: %s", why);
		return r;
	}
	r = session_open(&s, rec, diag);
	if (r < 0)
		return r;
	/* The reader loads the program (the verifier and the maps: most of the recorder's fixed
	 * cost) while tb_run() builds the sandbox; parent_started waits for it. */
	s->reader = fork();
	if (s->reader < 0) {
		r = tb_negerrno();
		tb_diag_set(diag, NULL, 0, 0, "--backend", "bpf: starting the reader: %s", strerror(-r));
		goto out;
	}
	if (s->reader == 0)
		reader_main(s, parent);
	close(TB_TAKE_FD(s->sock[1]));
	r = tb_ceiling_filter(SCMP_ACT_ALLOW, SCMP_ACT_ERRNO(TB_CEILING_ERRNO), TB_CEILING_DANGEROUS,
			      NULL, NULL, &s->ceiling);
	if (r < 0) {
		tb_diag_set(diag, NULL, 0, 0, "--backend", "bpf: building the ceiling filter: %s",
			    strerror(-r));
		goto out;
	}
	r = fill_sysinfo(s, NULL, diag);
	if (r < 0)
		goto out;
	hooks.data = s;
	hooks.skip_filter = !enforce;
	hooks.child_before_filter = hook_child_before_filter;
	hooks.parent_started = hook_parent_started;
	r = tb_run(c, &hooks, res, diag);
	reader_done = reader_stop(s, r == 0, &reader_status);
	if (r == TB_BPF_NOT_LOADED) {
		/* Nothing of the command ran: the result is as empty as if tb_run() had not been
		 * called (`auto` runs it again with ptrace), the diagnostic the reader's. */
		tb_run_result_free(res);
		goto out;
	}
	if (r < 0)
		goto out;
	r = replay(s);
	if (r >= 0)
		r = collect_counts(s);
	if (r >= 0)
		r = collect_args(s);
	if (r >= 0)
		r = collect_denied(s);
	if (r < 0) {
		tb_diag_set(diag, NULL, 0, 0, "--backend", "bpf: reading the maps: %s", strerror(-r));
		goto out;
	}
	r = report_lost(s, res, reader_done, reader_status);
out:
	if (s->reader > 0)
		reader_stop(s, false, &reader_status);
	session_free(s);
	return r;
}
