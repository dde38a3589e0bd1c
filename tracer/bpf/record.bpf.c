// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * tightbox's eBPF syscall recorder. Attached to every syscall of every process, so the common
 * path is: compare the cgroup id, return. Inside the sandbox's cgroup only tasks that made the
 * marker syscall (the sandbox child, right where tightbox loads the seccomp filter) and their
 * descendants count, which is exactly what the ptrace backend sees.
 *
 * Everything is aggregated here: counts per (arch, nr) in an array, argument tuples and
 * (syscall, path hash, outcome) keys in hash maps; the ring buffer carries only a key's first
 * occurrence. Paths are read at the syscall's exit, when the kernel has just copied them (their
 * pages are mapped, so no read fails for want of a page fault), except an exec's, which is read
 * at entry because its exit runs in the new image. What this program records per syscall is
 * the table in core/syscall-specs.c, which userspace encodes into the sysinfo table.
 *
 * raw_tp rather than tp_btf: tp_btf makes libbpf parse all of vmlinux BTF at load (~27 ms here);
 * raw_tp with CO-RE against a minimised BTF (bpftool gen min_core_btf, embedded in the binary)
 * loads in a few ms. raw_tp's arguments are not trusted pointers, so the current task and its
 * registers come from bpf_get_current_task_btf() and bpf_task_pt_regs(): BTF pointers, read
 * with direct loads, and the task's storage holds the per-call flag.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tracer/bpf/bpf-shared.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TB_EINVAL 22
#define TB_PROT_EXEC 0x4
#define TB_MAP_ANONYMOUS 0x20
#define TB_AT_FDCWD -100
#define TB_DENTRY_DEPTH 40

/* Set before load: the marker syscall (getppid from libseccomp) and this session's token. */
const volatile __u32 marker_nr = 0;
const volatile __u64 marker_token = 0;
/*
 * Set before load: the seccomp filters a recorded task starts with, which refuse only
 * TB_BPF_SI_REFUSABLE calls: the ceiling, and those tightbox itself runs under (a container's:
 * they refuse nothing tightbox's own calls need, and the recording never saw what they refuse).
 * A task with more (the profile under --enforce, or a filter the workload loaded itself) may see
 * any call refused, and the exit of a refused call must not be recorded as one that ran.
 */
const volatile __s32 base_filters = 1;

/* The map shapes this program declares: a hash of up to @n entries allocated as they come, and
 * an array (@map_type: BPF_MAP_TYPE_ARRAY or _PERCPU_ARRAY) of @n values indexed by a __u32. */
#define TB_HASH_MAP(n, key_type, value_type)                                                       \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_HASH);                                                   \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                              \
		__uint(max_entries, n);                                                            \
		__type(key, key_type);                                                             \
		__type(value, value_type);                                                         \
	}
#define TB_ARRAY_MAP(map_type, n, value_type)                                                      \
	struct {                                                                                   \
		__uint(type, map_type);                                                            \
		__uint(max_entries, n);                                                            \
		__type(key, __u32);                                                                \
		__type(value, value_type);                                                         \
	}

/* Set by userspace through the mmap'd .bss once the child's cgroup is known. */
__u64 target_cgid = 0;
__u32 mode = 0; /* 0: off, 1: cgroup prefilter, 2: no cgroup (task marks only) */
/*
 * Mode 1: set by the marker. The sandbox child is the only task of its cgroup until it makes
 * the marker call (tb_run clones it into the cgroup, it forks nothing before), so from then on
 * every task of the cgroup is the marked one or a descendant: no per-task lookup is needed.
 */
__u32 armed = 0;
struct tb_bpf_lost lost = {};

/*
 * 1 between a recorded task's sys_enter and its sys_exit of a call the ceiling may refuse
 * (TB_BPF_SI_REFUSABLE), and of every call of a task with more seccomp filters than the ceiling
 * (may_be_refused()). An exit of such a call without an enter is one seccomp refused before it
 * ran: counted into "denied" when the ceiling may refuse it and it returns EPERM. Task storage
 * rather than a tid-keyed hash: a pointer walk, not a hashed lookup. Only those calls pay for it
 * (two storage walks cost ~90 ns, a fifth of the recorder's time on a stat loop): any other exit
 * is of a call that ran.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} entered SEC(".maps");

/* Mode 2 only: the marked tasks, by thread id; entries go when the thread exits. */
TB_HASH_MAP(8192, __u32, __u32) tasks SEC(".maps");

/* An exec's path, read at its entry for its exit (which runs in the new image). */
struct tb_exec {
	__u32 idx; /* sysinfo index */
	__s32 dirfd;
	__u32 len;
	__u32 pad;
	char path[TB_BPF_PATH_MAX];
};

TB_HASH_MAP(1024, __u32, struct tb_exec) execs SEC(".maps");

/*
 * What to record per (arch, nr), filled by userspace before load (core/syscall-specs.c through
 * bpf-spec.c) and frozen with the rest of .rodata: no map of its own, no update calls.
 */
const volatile struct tb_bpf_sysinfo sysinfo[TB_BPF_N_ARCH * TB_BPF_NR_MAX] = {};

/*
 * Calls per (arch, nr), in .bss: userspace reads them through the skeleton's mmap after the run
 * (no per-CPU map to allocate and no batch lookup). Atomic adds: threads of the workload run on
 * several CPUs at once.
 */
__u64 counts[TB_BPF_N_ARCH * TB_BPF_NR_MAX] = {};

/* Numbers outside the table (x32 oddities, garbage numbers a fuzzer makes). */
TB_HASH_MAP(4096, struct tb_bpf_count_key, __u64) counts_other SEC(".maps");

/* Calls a seccomp filter refused with EPERM (the recording ceiling): seccomp runs before the
 * sys_enter tracepoint, so only their sys_exit is seen. */
TB_HASH_MAP(1024, struct tb_bpf_count_key, __u64) denied SEC(".maps");

TB_HASH_MAP(16384, struct tb_bpf_args_key, __u64) args_seen SEC(".maps");

TB_HASH_MAP(65536, struct tb_bpf_file_key, __u8) files_seen SEC(".maps");

/* Per-CPU scratch: a path is built here (fd-named files are built backwards from the end). */
struct tb_scratch {
	/* [0, PATH_MAX): a walked directory or file, built backwards; [PATH_MAX, 2 PATH_MAX): a
	 * path argument; the rest is slack for the masked offsets. */
	char buf[3 * TB_BPF_PATH_MAX];
	/* The last key this CPU looked up: a loop over one path skips the hash map. */
	struct tb_bpf_file_key last;
};
_Static_assert(sizeof(struct tb_exec) <= sizeof(struct tb_scratch), "execs entries come from it");
#define TB_REL TB_BPF_PATH_MAX /* where path arguments are read into the scratch buffer */

TB_ARRAY_MAP(BPF_MAP_TYPE_PERCPU_ARRAY, 1, struct tb_scratch) scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

/*
 * All six arguments at once from the task's pt_regs (bpf_task_pt_regs(): direct loads), one
 * branch on the arch, then plain indexing.
 */
static __always_inline void load_args(struct pt_regs *regs, __u32 arch, __u64 a[6])
{
	if (arch == TB_BPF_I386) {
		a[0] = (__u32)regs->bx;
		a[1] = (__u32)regs->cx;
		a[2] = (__u32)regs->dx;
		a[3] = (__u32)regs->si;
		a[4] = (__u32)regs->di;
		a[5] = (__u32)regs->bp;
	} else {
		a[0] = regs->di;
		a[1] = regs->si;
		a[2] = regs->dx;
		a[3] = regs->r10;
		a[4] = regs->r8;
		a[5] = regs->r9;
	}
}

static __always_inline __u64 arg_at(const __u64 a[6], __u8 i)
{
	return i < 6 ? a[i] : 0;
}

/*
 * A wake-up per event is a context switch per distinct key: let the reader poll every few ms
 * instead, and wake it only when a backlog builds up.
 */
static __always_inline __u64 wake_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > (256 << 10) ? BPF_RB_FORCE_WAKEUP
									     : BPF_RB_NO_WAKEUP;
}

/*
 * Wakes the reader at once: a successful exec's executable is named through /proc/PID/exe while
 * the task lives, and a short program is gone before the reader's next poll. A record shorter
 * than an event, which the reader skips.
 */
static __always_inline void wake_reader(void)
{
	__u64 *w = bpf_ringbuf_reserve(&events, sizeof(*w), 0);

	if (w) {
		*w = 0;
		bpf_ringbuf_submit(w, BPF_RB_FORCE_WAKEUP);
	}
}

static __always_inline void emit_args(const struct tb_bpf_args_key *k)
{
	struct tb_bpf_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev) {
		__sync_fetch_and_add(&lost.events, 1);
		return;
	}
	ev->kind = TB_BPF_EV_ARGS;
	ev->tgid = bpf_get_current_pid_tgid() >> 32;
	__builtin_memcpy(&ev->args, k, sizeof(*k));
	ev->path[0] = '\0';
	bpf_ringbuf_submit(ev, wake_flags());
}

static __always_inline void record_args(const __u64 a[6], __u32 arch, __u32 nr,
					const struct tb_bpf_sysinfo *si)
{
	struct tb_bpf_args_key k = {.arch = arch, .nr = nr};
	__u64 one = 1, *cnt;

	if (si->kind == TB_BPF_K_CLONE3) {
		/* clone3's flags live in user memory: the first member of struct clone_args. */
		__u64 p = a[0];

		if (bpf_probe_read_user(&k.vals[0], sizeof(k.vals[0]), (void *)p) < 0)
			k.vals[0] = 0;
	} else {
#pragma unroll
		for (int i = 0; i < 6; i++)
			if (si->argmask & (1u << i)) {
				__u64 v = a[i];

				k.vals[i] = (si->lo32 & (1u << i)) ? (__u32)v : v;
			}
	}
	cnt = bpf_map_lookup_elem(&args_seen, &k);
	if (cnt) {
		__sync_fetch_and_add(cnt, 1);
		return;
	}
	if (bpf_map_update_elem(&args_seen, &k, &one, BPF_NOEXIST) == 0) {
		emit_args(&k);
	} else if (!bpf_map_lookup_elem(&args_seen, &k)) {
		/* The map is full: userspace still learns the tuple once per call from the ring. */
		__sync_fetch_and_add(&lost.keys, 1);
		emit_args(&k);
	}
}

/*
 * A 64-bit hash of the @len bytes at @off in the scratch buffer, eight bytes a step (FNV-1a's
 * constants on words; the bytes past the path are masked off).
 */
__noinline __u64 tb_hash_path(const struct tb_scratch *sc, __u32 off, __u32 len)
{
	__u64 h = 0xcbf29ce484222325ull, w = 0;
	__u32 words = (len / 8) & 31, rem = len % 8;

	/* A global function: verified once, not at each of its call sites (load time). */
	if (!sc)
		return 0;
	off &= 2 * TB_BPF_PATH_MAX - 1;
	/* One branch per step keeps the verifier's walk of this loop short. */
	for (__u32 i = 0; i < TB_BPF_PATH_MAX / 8; i++) {
		if (i >= words)
			break;
		__builtin_memcpy(&w, &sc->buf[off + i * 8], 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	if (rem) {
		__builtin_memcpy(&w, &sc->buf[off + words * 8], 8);
		w &= (1ull << (rem * 8)) - 1;
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h ^ len;
}

/*
 * Announces @k, the path of @len bytes at @off in the scratch buffer (@span), relative to the
 * directory of @blen bytes at @boff (@bspan) when @blen (the walked cwd or dirfd), unless seen. A failed announcement
 * forgets the key again, so a later call retries it; lost.events counts the drops.
 */
__noinline int tb_record_file(struct tb_bpf_file_key *k, struct tb_scratch *sc, __u32 span,
			      __u32 bspan)
{
	/* (offset << 16 | length): BPF functions take at most five arguments. */
	__u32 off = span >> 16, len = span & 0xffff, boff = bspan >> 16, blen = bspan & 0xffff;
	static const __u8 one = 1;
	struct tb_bpf_file_key key;
	struct tb_bpf_event *ev;
	bool full = false;

	/* A global function like tb_hash_path: its arguments are checked, not trusted. */
	if (!k || !sc)
		return 0;
	/*
	 * Map helpers get a copy on the stack: a global function's pointer argument is plain
	 * memory to the verifier, and before 6.3 or so (Debian 12's 6.1) a map key must be a
	 * stack, packet or map-value pointer ("R2 type=mem expected=fp, pkt, ...").
	 */
	__builtin_memcpy(&key, k, sizeof(key));
	key.hash = tb_hash_path(sc, off, len);
	if (blen)
		key.hash = key.hash * 31 + tb_hash_path(sc, boff, blen);
	if (key.hash == sc->last.hash && key.aux == sc->last.aux && key.arch == sc->last.arch &&
	    key.nr == sc->last.nr && key.dirfd == sc->last.dirfd && key.slot == sc->last.slot &&
	    key.ok == sc->last.ok)
		return 0; /* announced already */
	if (bpf_map_lookup_elem(&files_seen, &key)) {
		sc->last = key;
		return 0;
	}
	if (bpf_map_update_elem(&files_seen, &key, &one, BPF_NOEXIST) != 0) {
		if (bpf_map_lookup_elem(&files_seen, &key))
			return 0; /* another CPU announced it meanwhile */
		__sync_fetch_and_add(&lost.keys, 1);
		full = true;
	}
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		__sync_fetch_and_add(&lost.events, 1);
		if (!full)
			bpf_map_delete_elem(&files_seen, &key);
		return 0;
	}
	ev->kind = TB_BPF_EV_FILE;
	ev->tgid = bpf_get_current_pid_tgid() >> 32;
	__builtin_memcpy(&ev->file, &key, sizeof(key));
	if (bpf_probe_read_kernel_str(ev->path, sizeof(ev->path),
				      &sc->buf[off & (2 * TB_BPF_PATH_MAX - 1)]) < 0)
		ev->path[0] = '\0';
	ev->base[0] = '\0';
	if (blen && bpf_probe_read_kernel_str(ev->base, sizeof(ev->base),
					      &sc->buf[boff & (TB_BPF_PATH_MAX - 1)]) < 0)
		ev->base[0] = '\0';
	bpf_ringbuf_submit(ev, wake_flags());
	return 0;
}

/* Reads path argument @ptr into @buf: its length without the NUL, 0 empty, < 0 unreadable. */
static __always_inline int read_user_path(char *buf, __u64 ptr)
{
	long n = bpf_probe_read_user_str(buf, TB_BPF_PATH_MAX, (void *)ptr);

	if (n < 0)
		return -1;
	return n > 0 ? (int)n - 1 : 0;
}

/* The walk of fd_path(), one dentry per bpf_loop() step (verified once, not 40 times). */
struct tb_walk {
	struct dentry *d;
	struct vfsmount *vm;
	struct mount *m;
	__u32 off; /* the path so far starts here in the scratch buffer */
	int done;  /* 1: complete, -1: failed */
};

static long walk_step(__u64 i, void *ctx)
{
	struct tb_walk *w = ctx;
	/* Locals: CO-RE would relocate w's own fields inside BPF_CORE_READ. */
	struct dentry *d = w->d, *parent = BPF_CORE_READ(d, d_parent);
	struct vfsmount *vm = w->vm;
	struct mount *m = w->m;
	struct tb_scratch *sc;
	__u32 zero = 0, n, off = w->off;

	if (d == BPF_CORE_READ(vm, mnt_root) || d == parent) {
		struct mount *mp = BPF_CORE_READ(m, mnt_parent);

		/* The top of the task's mount tree (or a root that is not a mount's: give up). */
		if (d != BPF_CORE_READ(vm, mnt_root) || mp == m) {
			w->done = 1;
			return 1;
		}
		w->d = BPF_CORE_READ(m, mnt_mountpoint);
		w->m = mp;
		w->vm = &mp->mnt;
		return 0;
	}
	sc = bpf_map_lookup_elem(&scratch, &zero);
	n = BPF_CORE_READ(d, d_name.len);
	if (!sc || n + 1 > off) {
		w->done = -1; /* longer than TB_BPF_PATH_MAX */
		return 1;
	}
	off -= n;
	bpf_probe_read_kernel(&sc->buf[off & (TB_BPF_PATH_MAX - 1)], n & (TB_BPF_PATH_MAX - 1),
			      BPF_CORE_READ(d, d_name.name));
	off--;
	sc->buf[off & (TB_BPF_PATH_MAX - 1)] = '/';
	w->off = off;
	w->d = parent;
	return 0;
}

/* Walks (@vm, @d) into the scratch buffer; see file_path(). */
static __always_inline int walk_path(struct vfsmount *vm, struct dentry *d, struct tb_scratch *sc,
				     __u32 *len)
{
	struct tb_walk w = {.off = TB_BPF_PATH_MAX - 1, .d = d, .vm = vm};

	if (!vm || !d)
		return -1;
	w.m = container_of(vm, struct mount, mnt);
	sc->buf[TB_BPF_PATH_MAX - 1] = '\0';
	bpf_loop(TB_DENTRY_DEPTH, walk_step, &w, 0);
	if (w.done != 1)
		return -1;
	if (w.off == TB_BPF_PATH_MAX - 1)
		sc->buf[--w.off & (TB_BPF_PATH_MAX - 1)] = '/';
	*len = TB_BPF_PATH_MAX - 1 - w.off;
	return w.off;
}

/*
 * The path of the file open as @fd, or of the cwd when @fd is AT_FDCWD, built backwards in the
 * scratch buffer (ending at TB_BPF_PATH_MAX - 1) the way /proc/PID/fd/N shows it to tightbox:
 * through mount points up to the top of the task's mount tree. Resolved here, at the call, it
 * cannot race with a later chdir or close. Returns offset << 16 | length, or -1. A global
 * function: verified once (load time).
 */
__noinline long tb_file_path(int fd, struct tb_scratch *sc)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt;
	struct file **fda, *f = NULL;
	__u32 len = 0;
	int off;

	if (!sc)
		return -1;
	if (fd == TB_AT_FDCWD) {
		off = walk_path(BPF_CORE_READ(task, fs, pwd.mnt), BPF_CORE_READ(task, fs, pwd.dentry),
				sc, &len);
	} else {
		fdt = BPF_CORE_READ(task, files, fdt);
		if (fd < 0 || (unsigned)fd >= BPF_CORE_READ(fdt, max_fds))
			return -1;
		fda = BPF_CORE_READ(fdt, fd);
		if (bpf_probe_read_kernel(&f, sizeof(f), &fda[fd]) < 0 || !f)
			return -1;
		off = walk_path(BPF_CORE_READ(f, f_path.mnt), BPF_CORE_READ(f, f_path.dentry), sc,
				&len);
	}
	return off < 0 ? -1 : ((long)off << 16) | len;
}

static __always_inline int file_path(int fd, struct tb_scratch *sc, __u32 *len)
{
	long r = tb_file_path(fd, sc);

	if (r < 0)
		return -1;
	*len = r & 0xffff;
	return (int)(r >> 16);
}

/*
 * Announces the path of @n bytes at TB_REL, resolving a relative one against @dirfd here. A
 * global function, so the verifier checks it once rather than at each call site (load time).
 */
__noinline int tb_record_rel(struct tb_bpf_file_key *k, struct tb_scratch *sc, __u32 n, int dirfd)
{
	__u32 blen = 0;
	int boff = 0;

	if (!k || !sc)
		return 0;
	k->dirfd = TB_AT_FDCWD;
	if (sc->buf[TB_REL] != '/') {
		boff = file_path(dirfd, sc, &blen);
		if (boff < 0) {
			/* Userspace falls back to /proc/PID/cwd or fd/N, as good as it gets. */
			boff = 0;
			blen = 0;
			k->dirfd = dirfd;
		}
	}
	tb_record_file(k, sc, TB_REL << 16 | n, (__u32)boff << 16 | blen);
	return 0;
}

static __always_inline void mark_task(__u32 tid)
{
	static const __u32 one = 1;

	if (bpf_map_update_elem(&tasks, &tid, &one, BPF_ANY) < 0)
		__sync_fetch_and_add(&lost.tasks, 1);
}

/* Whether the current task is recorded (mode 1: the cgroup once armed; mode 2: marked). */
static __always_inline bool recorded(void)
{
	__u32 tid;

	if (mode == 1)
		return armed && bpf_get_current_cgroup_id() == target_cgid;
	if (mode != 2)
		return false;
	tid = (__u32)bpf_get_current_pid_tgid();
	return bpf_map_lookup_elem(&tasks, &tid) != NULL;
}

static __always_inline __u32 task_arch(struct task_struct *task, __u32 *nr)
{
	if (task->thread_info.status & TB_BPF_TS_COMPAT)
		return TB_BPF_I386;
	if (*nr & TB_BPF_X32_BIT) {
		*nr &= ~TB_BPF_X32_BIT;
		return TB_BPF_X32;
	}
	return TB_BPF_X86_64;
}

/* The marker call arms the recording (see armed); only the session's token counts. */
static __always_inline void check_marker(struct pt_regs *regs, long id)
{
	if (id != marker_nr || BPF_CORE_READ(regs, di) != TB_BPF_MARKER_MAGIC ||
	    BPF_CORE_READ(regs, si) != marker_token)
		return;
	if (mode == 1 && bpf_get_current_cgroup_id() == target_cgid)
		armed = 1;
	else if (mode == 2)
		mark_task((__u32)bpf_get_current_pid_tgid());
}

/* Whether seccomp may have refused this call of @task before sys_enter (see base_filters). */
static __always_inline bool may_be_refused(struct task_struct *task,
					   const struct tb_bpf_sysinfo *si)
{
	return (si && (si->flags & TB_BPF_SI_REFUSABLE)) ||
	       task->seccomp.filter_count.counter > base_filters;
}

static __always_inline void mark_entered(struct task_struct *task)
{
	__u32 *e = bpf_task_storage_get(&entered, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (e)
		*e = 1;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(tb_sys_enter, struct pt_regs *raw_regs, long id)
{
	struct task_struct *task;
	struct pt_regs *regs;
	const struct tb_bpf_sysinfo *si;
	__u32 nr = (__u32)id, arch, idx;
	__u64 *cnt, a[6];

	if (mode == 0)
		return 0;
	if (!recorded()) {
		check_marker(raw_regs, id);
		return 0;
	}
	/* The same registers as raw_regs, as a BTF pointer: loads need no helper call. */
	task = bpf_get_current_task_btf();
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	arch = task_arch(task, &nr);
	if (nr >= TB_BPF_NR_MAX) {
		struct tb_bpf_count_key k = {.arch = arch, .nr = (__u32)id};
		__u64 one = 1;

		if (may_be_refused(task, NULL))
			mark_entered(task);
		cnt = bpf_map_lookup_elem(&counts_other, &k);
		if (cnt)
			__sync_fetch_and_add(cnt, 1);
		else if (bpf_map_update_elem(&counts_other, &k, &one, BPF_NOEXIST) < 0)
			__sync_fetch_and_add(&lost.keys, 1);
		return 0;
	}
	idx = arch * TB_BPF_NR_MAX + nr;
	/* The compiler knows idx is in range and would drop the check the verifier needs. */
	asm volatile("" : "+r"(idx));
	if (idx >= TB_BPF_N_ARCH * TB_BPF_NR_MAX)
		return 0;
	__sync_fetch_and_add(&counts[idx], 1);
	si = (const struct tb_bpf_sysinfo *)&sysinfo[idx];
	if (may_be_refused(task, si))
		mark_entered(task);
	if (!si->kind)
		return 0;
	/* Path calls do their work at the exit: here only arguments and an exec's path. */
	if (!si->argmask && si->kind != TB_BPF_K_CLONE3 && si->kind != TB_BPF_K_EXEC)
		return 0;
	load_args(regs, arch, a);
	if (si->argmask || si->kind == TB_BPF_K_CLONE3)
		record_args(a, arch, nr, si);
	if (si->kind == TB_BPF_K_EXEC) {
		__u32 tid = (__u32)bpf_get_current_pid_tgid(), zero = 0;
		struct tb_scratch *sc = bpf_map_lookup_elem(&scratch, &zero);
		struct tb_exec *x = bpf_map_lookup_elem(&execs, &tid);
		int n;

		/* A new entry from the scratch bytes: every field is written below. */
		if (!x && sc && bpf_map_update_elem(&execs, &tid, sc->buf, BPF_ANY) == 0)
			x = bpf_map_lookup_elem(&execs, &tid);
		if (!x) {
			__sync_fetch_and_add(&lost.paths, 1);
			return 0;
		}
		n = read_user_path(x->path, arg_at(a, si->path_arg[0]));
		/* A page not mapped yet cannot be faulted in from here: counted, not guessed. */
		if (n < 0)
			__sync_fetch_and_add(&lost.paths, 1);
		x->idx = idx;
		x->len = n > 0 ? n : 0;
		x->dirfd = si->dirfd_arg[0] != TB_BPF_NOARG
				   ? (__s32)arg_at(a, si->dirfd_arg[0])
				   : TB_AT_FDCWD;
	}
	return 0;
}

static __always_inline void count_denied(struct task_struct *task, struct pt_regs *regs)
{
	struct tb_bpf_count_key k = {.nr = (__u32)regs->orig_ax};
	__u64 one = 1, *cnt;

	k.arch = task_arch(task, &k.nr);
	cnt = bpf_map_lookup_elem(&denied, &k);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		bpf_map_update_elem(&denied, &k, &one, BPF_NOEXIST);
}

/*
 * One path argument at the exit: read it (its page is mapped: the kernel just copied it), then
 * announce it. A global function, so each call site costs the verifier one call, not its body.
 */
__noinline int tb_exit_path(struct tb_bpf_file_key *k, struct tb_scratch *sc, __u64 ptr, int dirfd)
{
	int n;

	if (!k || !sc)
		return 0;
	n = read_user_path(&sc->buf[TB_REL], ptr);
	if (n < 0)
		__sync_fetch_and_add(&lost.paths, 1);
	/* An empty path (fstatat(fd, "", AT_EMPTY_PATH)) is an fd operation: no path. */
	if (n <= 0)
		return 0;
	return tb_record_rel(k, sc, n, dirfd);
}

static __always_inline void exit_paths(const __u64 a[6], __u32 arch, __u32 nr,
				       const struct tb_bpf_sysinfo *si, bool ok, struct tb_scratch *sc)
{
#pragma unroll
	for (int s = 0; s < 2; s++) {
		struct tb_bpf_file_key k = {.arch = arch, .nr = nr, .slot = s, .ok = ok};

		if (si->path_arg[s] == TB_BPF_NOARG)
			continue;
		if (si->kind == TB_BPF_K_OPEN && s == 0) {
			k.aux = arg_at(a, si->aux_arg);
		} else if (si->kind == TB_BPF_K_OPENAT2 && s == 0) {
			if (bpf_probe_read_user(&k.aux, sizeof(k.aux), (void *)arg_at(a, si->aux_arg)) < 0)
				k.aux = 0;
		}
		tb_exit_path(&k, sc, arg_at(a, si->path_arg[s]),
			     si->dirfd_arg[s] == TB_BPF_NOARG ? TB_AT_FDCWD
							      : (__s32)arg_at(a, si->dirfd_arg[s]));
	}
}

/*
 * Whether a call that may have been refused ran (its sys_enter marked the task; cleared here).
 * One that did not was refused by seccomp before sys_enter: counted when the ceiling may refuse
 * it (@refusable) and it returns EPERM (the task's first exit, from the fork or the marker that
 * made it recorded, returns something else).
 */
static __always_inline bool was_entered(struct task_struct *task, struct pt_regs *regs, long ret,
					bool refusable)
{
	__u32 *e = bpf_task_storage_get(&entered, task, 0, 0);

	if (!e || !*e) {
		/* "denied" holds the ceiling's refusals only, as the ptrace backend's: a call the
		 * enforced profile refused is left out of the recording, as there. */
		if (refusable && ret == -1 /* -EPERM */)
			count_denied(task, regs);
		return false;
	}
	*e = 0;
	return true;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(tb_sys_exit, struct pt_regs *raw_regs, long ret)
{
	struct task_struct *task;
	struct pt_regs *regs;
	const struct tb_bpf_sysinfo *si;
	struct tb_scratch *sc;
	__u32 idx, arch, nr, zero = 0;
	__u64 a[6];
	bool ok;

	if (mode == 0 || !recorded())
		return 0;
	task = bpf_get_current_task_btf();
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	/* The number and the arch as at the entry: orig_ax is kept, TS_COMPAT cleared only later. */
	nr = (__u32)regs->orig_ax;
	arch = task_arch(task, &nr);
	if (nr >= TB_BPF_NR_MAX) {
		if (may_be_refused(task, NULL))
			was_entered(task, regs, ret, false);
		return 0;
	}
	idx = arch * TB_BPF_NR_MAX + nr;
	asm volatile("" : "+r"(idx));
	if (idx >= TB_BPF_N_ARCH * TB_BPF_NR_MAX)
		return 0;
	si = (const struct tb_bpf_sysinfo *)&sysinfo[idx];
	if (may_be_refused(task, si) && !was_entered(task, regs, ret, si->flags & TB_BPF_SI_REFUSABLE))
		return 0;
	if (si->kind < TB_BPF_K_PATH)
		return 0;
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return 0;
	load_args(regs, arch, a);
	/* Errors are -4095..-1 (mmap's addresses are not errors, whatever their sign). */
	ok = !(ret < 0 && ret >= -4095) ||
	     ((si->flags & TB_BPF_SI_EINVAL_OK) && ret == -TB_EINVAL);
	switch (si->kind) {
	case TB_BPF_K_EXEC: {
		__u32 tid = (__u32)bpf_get_current_pid_tgid();
		struct tb_exec *x = bpf_map_lookup_elem(&execs, &tid);
		struct tb_bpf_file_key k = {.arch = arch, .nr = nr, .ok = ok};
		__u32 n;

		if (!x)
			return 0;
		n = x->len;
		if (x->idx == idx && n > 0 && n < TB_BPF_PATH_MAX &&
		    bpf_probe_read_kernel(&sc->buf[TB_REL], TB_BPF_PATH_MAX, x->path) == 0)
			tb_record_rel(&k, sc, n, x->dirfd);
		bpf_map_delete_elem(&execs, &tid);
		if (ok)
			wake_reader();
		return 0;
	}
	case TB_BPF_K_MMAP:
		/* Only an executable mapping of a file names one (ptrace: the same test). */
		if (!(a[2] & TB_PROT_EXEC) || (a[3] & TB_MAP_ANONYMOUS))
			return 0;
		/* fallthrough */
	case TB_BPF_K_FD: {
		struct tb_bpf_file_key k = {.arch = arch, .nr = nr, .ok = ok, .dirfd = TB_AT_FDCWD};
		int fd = (int)arg_at(a, si->aux_arg), off;
		__u32 n = 0;

		if (fd < 0)
			return 0;
		off = file_path(fd, sc, &n);
		if (off < 0) {
			__sync_fetch_and_add(&lost.paths, 1);
			return 0;
		}
		tb_record_file(&k, sc, (__u32)off << 16 | (n & (TB_BPF_PATH_MAX - 1)), 0);
		return 0;
	}
	default:
		exit_paths(a, arch, nr, si, ok, sc);
		return 0;
	}
}

/* Children and threads of a counted task count too. */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(tb_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptid = (__u32)bpf_get_current_pid_tgid();

	/* Mode 1 needs no marks: a child is born into its parent's cgroup. */
	if (mode != 2 || !bpf_map_lookup_elem(&tasks, &ptid))
		return 0;
	mark_task(BPF_CORE_READ(child, pid));
	return 0;
}

/* Thread ids are reused: forget a task when it exits. */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(tb_exit, struct task_struct *task)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (mode == 2)
		bpf_map_delete_elem(&tasks, &tid);
	if (mode != 0)
		bpf_map_delete_elem(&execs, &tid);
	return 0;
}
