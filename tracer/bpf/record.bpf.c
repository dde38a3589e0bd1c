// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * tightbox's eBPF syscall recorder. Attached to every syscall of every process (raw_tp costs
 * ~115 ns per syscall, as tp_btf does and a third less than tracepoint/), so the common path is:
 * compare the cgroup id, return. Inside the sandbox's cgroup only tasks that made the marker
 * syscall (the sandbox child, right where tightbox loads the seccomp filter) and their
 * descendants count, which is exactly what the ptrace backend sees.
 *
 * raw_tp rather than tp_btf: tp_btf makes libbpf parse all of vmlinux BTF at load (~27 ms here);
 * raw_tp with CO-RE against a minimised BTF (bpftool gen min_core_btf, embedded in the binary)
 * loads in a few ms. Hence tasks live in a pid-keyed hash, not task storage (raw_tp arguments are
 * not trusted task pointers).
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tracer/bpf/bpf-shared.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set before load: the marker syscall (getppid from libseccomp) and this session's token. */
const volatile __u32 marker_nr = 0;
const volatile __u64 marker_token = 0;

/* Set by userspace through the mmap'd .bss once the child's cgroup is known. */
__u64 target_cgid = 0;
__u32 mode = 0; /* 0: off, 1: cgroup prefilter, 2: no cgroup (task marks only) */
__u64 lost_events = 0;
__u64 lost_args = 0;
__u64 lost_files = 0;
__u64 lost_paths = 0;

struct tb_task {
	__u32 counting;
	__u32 entered; /* between its sys_enter and sys_exit: an exit without one was refused by seccomp */
	__u32 pending; /* key holds a file syscall waiting for its exit */
	__u32 retry;   /* the path still has to be read (at the exit) */
	__s32 dirfd;
	__u64 path_ptr;
	struct tb_bpf_file_key key;
};

/* Keyed by thread id; entries go when the thread exits (sched_process_exit). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct tb_task);
} tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TB_BPF_N_ARCH * TB_BPF_NR_MAX);
	__type(key, __u32);
	__type(value, struct tb_bpf_sysinfo);
} sysinfo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TB_BPF_N_ARCH * TB_BPF_NR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/* Numbers outside the table (x32 oddities, garbage numbers a fuzzer makes). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct tb_bpf_count_key);
	__type(value, __u64);
} counts_other SEC(".maps");

/* Calls a seccomp filter refused with EPERM (the recording ceiling): seccomp runs before the
 * sys_enter tracepoint, so only their sys_exit is seen. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, struct tb_bpf_count_key);
	__type(value, __u64);
} denied SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct tb_bpf_args_key);
	__type(value, __u64);
} args_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 32768);
	__type(key, struct tb_bpf_file_key);
	__type(value, __u8);
} files_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

static __always_inline __u64 sys_arg(struct pt_regs *regs, __u32 arch, int i)
{
	if (arch == TB_BPF_I386) {
		/* int 0x80 passes ebx, ecx, edx, esi, edi, ebp; the kernel reads 32 bits. */
		switch (i) {
		case 0: return (__u32)BPF_CORE_READ(regs, bx);
		case 1: return (__u32)BPF_CORE_READ(regs, cx);
		case 2: return (__u32)BPF_CORE_READ(regs, dx);
		case 3: return (__u32)BPF_CORE_READ(regs, si);
		case 4: return (__u32)BPF_CORE_READ(regs, di);
		default: return (__u32)BPF_CORE_READ(regs, bp);
		}
	}
	switch (i) {
	case 0: return BPF_CORE_READ(regs, di);
	case 1: return BPF_CORE_READ(regs, si);
	case 2: return BPF_CORE_READ(regs, dx);
	case 3: return BPF_CORE_READ(regs, r10);
	case 4: return BPF_CORE_READ(regs, r8);
	default: return BPF_CORE_READ(regs, r9);
	}
}

static __always_inline void emit(__u32 kind, const void *key, __u32 size)
{
	struct tb_bpf_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev) {
		__sync_fetch_and_add(&lost_events, 1);
		return;
	}
	ev->kind = kind;
	ev->tgid = bpf_get_current_pid_tgid() >> 32;
	if (kind == TB_BPF_EV_ARGS)
		__builtin_memcpy(&ev->args, key, sizeof(struct tb_bpf_args_key));
	else
		__builtin_memcpy(&ev->file, key, sizeof(struct tb_bpf_file_key));
	/*
	 * A wake-up per event is a context switch per distinct file: let the reader poll every few
	 * ms instead, and wake it only when a backlog builds up.
	 */
	bpf_ringbuf_submit(ev, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > (64 << 10) ?
				       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

static __always_inline void record_args(struct pt_regs *regs, __u32 arch, __u32 nr,
					const struct tb_bpf_sysinfo *si)
{
	struct tb_bpf_args_key k = {.arch = arch, .nr = nr};
	__u64 one = 1, *cnt;

	if (si->flags & TB_BPF_SI_CLONE3) {
		/* clone3's flags live in user memory: the first member of struct clone_args. */
		__u64 p = sys_arg(regs, arch, 0);

		if (bpf_probe_read_user(&k.vals[0], sizeof(k.vals[0]), (void *)p) < 0)
			k.vals[0] = 0;
	} else {
#pragma unroll
		for (int i = 0; i < 6; i++)
			if (si->argmask & (1u << i)) {
				__u64 v = sys_arg(regs, arch, i);

				k.vals[i] = (si->flags & TB_BPF_SI_LO32) ? (__u32)v : v;
			}
	}
	cnt = bpf_map_lookup_elem(&args_seen, &k);
	if (cnt) {
		__sync_fetch_and_add(cnt, 1);
		return;
	}
	if (bpf_map_update_elem(&args_seen, &k, &one, BPF_NOEXIST) == 0)
		emit(TB_BPF_EV_ARGS, &k, sizeof(k));
	else if (!bpf_map_lookup_elem(&args_seen, &k))
		/* The map is full: userspace still learns the tuple once per call from the ring. */
		__sync_fetch_and_add(&lost_args, 1), emit(TB_BPF_EV_ARGS, &k, sizeof(k));
}

/*
 * Reads the pending path (the last byte stays NUL so userspace always sees a string): 0 done,
 * 1 empty (fstatat(fd, "", AT_EMPTY_PATH) is an fstat: no path to record), -1 not readable now.
 */
static __always_inline int read_path(struct tb_task *t)
{
	long n = bpf_probe_read_user_str(t->key.path, sizeof(t->key.path), (void *)t->path_ptr);

	if (n < 0)
		return -1;
	if (n <= 1)
		return 1;
	t->key.dirfd = t->key.path[0] == '/' ? -100 : t->dirfd;
	return 0;
}

static __always_inline void remember_path(struct tb_task *t, struct pt_regs *regs, __u32 arch,
					  __u32 nr, const struct tb_bpf_sysinfo *si)
{
	int r;

	__builtin_memset(&t->key, 0, sizeof(t->key));
	t->key.arch = arch;
	t->key.nr = nr;
	t->path_ptr = sys_arg(regs, arch, si->path_arg & 7);
	t->dirfd = si->dirfd_arg != TB_BPF_NOARG ? (__s32)sys_arg(regs, arch, si->dirfd_arg & 7) : -100;
	if (si->aux_arg != TB_BPF_NOARG) {
		__u64 a = sys_arg(regs, arch, si->aux_arg & 7);

		if (si->flags & TB_BPF_SI_AUX_HOW) {
			if (bpf_probe_read_user(&t->key.aux, sizeof(t->key.aux), (void *)a) < 0)
				t->key.aux = 0;
		} else {
			t->key.aux = a;
		}
	}
	t->pending = 1;
	/*
	 * A program cannot fault user pages in: right after fork or exec the string's page is often
	 * not mapped yet. The kernel maps it while copying the path, so read again at the exit; an
	 * exec's exit runs in the new image, where the old pointer means nothing.
	 */
	r = read_path(t);
	t->retry = r < 0;
	if (r > 0 || (t->retry && (si->flags & TB_BPF_SI_EXEC))) {
		t->pending = 0;
		if (r < 0)
			__sync_fetch_and_add(&lost_paths, 1);
	}
}

static __always_inline void mark_task(__u32 tid)
{
	/* Marked inside a call (the marker, or the fork a child returns from): its exit follows. */
	static const struct tb_task fresh = {.counting = 1, .entered = 1};

	bpf_map_update_elem(&tasks, &tid, &fresh, BPF_ANY);
}

SEC("raw_tp/sys_enter")
int BPF_PROG(tb_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task;
	const struct tb_bpf_sysinfo *si;
	struct tb_task *t;
	__u32 arch = TB_BPF_X86_64, nr = (__u32)id, idx, tid;
	__u64 *cnt;

	if (mode == 0)
		return 0;
	if (mode == 1 && bpf_get_current_cgroup_id() != target_cgid)
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	t = bpf_map_lookup_elem(&tasks, &tid);
	if (!t) {
		if (id == marker_nr && BPF_CORE_READ(regs, di) == TB_BPF_MARKER_MAGIC &&
		    BPF_CORE_READ(regs, si) == marker_token)
			mark_task(tid);
		return 0;
	}
	t->pending = 0;
	t->entered = 1;
	task = (struct task_struct *)bpf_get_current_task();
	if (BPF_CORE_READ(task, thread_info.status) & TB_BPF_TS_COMPAT) {
		arch = TB_BPF_I386;
	} else if (nr & TB_BPF_X32_BIT) {
		arch = TB_BPF_X32;
		nr &= ~TB_BPF_X32_BIT;
	}
	if (nr >= TB_BPF_NR_MAX) {
		struct tb_bpf_count_key k = {.arch = arch, .nr = (__u32)id};
		__u64 one = 1;

		cnt = bpf_map_lookup_elem(&counts_other, &k);
		if (cnt)
			__sync_fetch_and_add(cnt, 1);
		else
			bpf_map_update_elem(&counts_other, &k, &one, BPF_NOEXIST);
		return 0;
	}
	idx = arch * TB_BPF_NR_MAX + nr;
	cnt = bpf_map_lookup_elem(&counts, &idx);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	si = bpf_map_lookup_elem(&sysinfo, &idx);
	if (!si)
		return 0;
	if (si->argmask || (si->flags & TB_BPF_SI_CLONE3))
		record_args(regs, arch, nr, si);
	if (si->flags & TB_BPF_SI_PATH)
		remember_path(t, regs, arch, nr, si);
	return 0;
}

static __always_inline void count_denied(struct pt_regs *regs)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct tb_bpf_count_key k = {.arch = TB_BPF_X86_64, .nr = (__u32)BPF_CORE_READ(regs, orig_ax)};
	__u64 one = 1, *cnt;

	if (BPF_CORE_READ(task, thread_info.status) & TB_BPF_TS_COMPAT) {
		k.arch = TB_BPF_I386;
	} else if (k.nr & TB_BPF_X32_BIT) {
		k.arch = TB_BPF_X32;
		k.nr &= ~TB_BPF_X32_BIT;
	}
	cnt = bpf_map_lookup_elem(&denied, &k);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		bpf_map_update_elem(&denied, &k, &one, BPF_NOEXIST);
}

SEC("raw_tp/sys_exit")
int BPF_PROG(tb_sys_exit, struct pt_regs *regs, long ret)
{
	struct tb_task *t;
	__u32 tid;
	__u8 one = 1;

	if (mode == 0)
		return 0;
	if (mode == 1 && bpf_get_current_cgroup_id() != target_cgid)
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	t = bpf_map_lookup_elem(&tasks, &tid);
	if (!t)
		return 0;
	if (!t->entered) {
		if (ret == -1 /* -EPERM */)
			count_denied(regs);
		return 0;
	}
	t->entered = 0;
	if (!t->pending)
		return 0;
	t->pending = 0;
	if (t->retry) {
		int r = read_path(t);

		if (r < 0)
			__sync_fetch_and_add(&lost_paths, 1);
		if (r)
			return 0;
	}
	t->key.ok = ret >= 0;
	if (bpf_map_lookup_elem(&files_seen, &t->key))
		return 0;
	if (bpf_map_update_elem(&files_seen, &t->key, &one, BPF_NOEXIST) == 0)
		emit(TB_BPF_EV_FILE, &t->key, sizeof(t->key));
	else if (!bpf_map_lookup_elem(&files_seen, &t->key))
		__sync_fetch_and_add(&lost_files, 1), emit(TB_BPF_EV_FILE, &t->key, sizeof(t->key));
	return 0;
}

/* Children and threads of a counted task count too. */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(tb_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptid = (__u32)bpf_get_current_pid_tgid();

	if (mode == 0 || !bpf_map_lookup_elem(&tasks, &ptid))
		return 0;
	mark_task(BPF_CORE_READ(child, pid));
	return 0;
}

/* Thread ids are reused: forget a task when it exits. */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(tb_exit, struct task_struct *task)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (mode != 0)
		bpf_map_delete_elem(&tasks, &tid);
	return 0;
}
