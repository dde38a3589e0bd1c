/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layouts shared by the eBPF recorder program (record.bpf.c) and its userspace side
 * (bpf-backend.c). The includer provides __u8/__u32/__u64 (vmlinux.h in BPF, <linux/types.h> in
 * userspace); this header includes nothing so both sides see the very same bytes. What the
 * program does per syscall comes from core/syscall-specs.c, encoded by bpf-spec.c into
 * struct tb_bpf_sysinfo; the build fails when a spec has a shape this encoding cannot carry.
 */
#ifndef TB_BPF_SHARED_H
#define TB_BPF_SHARED_H

/* Audit architectures the program tells apart (index into the sysinfo table). */
enum tb_bpf_arch {
	TB_BPF_X86_64 = 0,
	TB_BPF_I386 = 1,
	TB_BPF_X32 = 2,
	TB_BPF_N_ARCH = 3,
};

/* Syscall numbers per arch the sysinfo table covers; larger numbers are only counted. */
#define TB_BPF_NR_MAX 512
/* x32 syscalls carry this bit in the number; bpf-backend.c asserts it equals TB_ARCH_X32_BIT. */
#define TB_BPF_X32_BIT 0x40000000u
/* The kernel's TS_COMPAT in thread_info.status: the task is inside an i386 (int 0x80) syscall. */
#define TB_BPF_TS_COMPAT 0x0002u

/* Bytes of a path the program keeps (longer paths are cut). */
#define TB_BPF_PATH_MAX 256

/* First argument of the marker syscall that arms recording (the second is the session token). */
#define TB_BPF_MARKER_MAGIC 0x74627066u /* "tbpf" */

/* sysinfo.kind: the values of enum tb_spec_kind (bpf-spec.c asserts they match). */
enum tb_bpf_kind {
	TB_BPF_K_NONE = 0,
	TB_BPF_K_ARGS = 1,
	TB_BPF_K_CLONE3 = 2,
	TB_BPF_K_PATH = 3,
	TB_BPF_K_OPEN = 4,
	TB_BPF_K_OPENAT2 = 5,
	TB_BPF_K_EXEC = 6,
	TB_BPF_K_FD = 7,
	TB_BPF_K_MMAP = 8,
};

/* sysinfo.flags */
#define TB_BPF_SI_EINVAL_OK (1u << 0) /* -EINVAL counts as success (readlink of a non-symlink) */
/* The ceiling may refuse it: its sys_enter marks the task, so an exit without one is a denial. */
#define TB_BPF_SI_REFUSABLE (1u << 1)

#define TB_BPF_NOARG 0xff

/* What the program does for one (arch, nr), filled by userspace from core/syscall-specs.c. */
struct tb_bpf_sysinfo {
	__u8 kind;	    /* enum tb_bpf_kind; 0: only counted */
	__u8 argmask;	    /* bit N: record argument N */
	__u8 lo32;	    /* bit N: argument N on its low 32 bits */
	__u8 flags;	    /* TB_BPF_SI_* */
	__u8 path_arg[2];   /* path string arguments, TB_BPF_NOARG when none */
	__u8 dirfd_arg[2];  /* their dirfds, TB_BPF_NOARG when relative to the cwd */
	__u8 aux_arg;	    /* open flags (K_OPEN), struct open_how * (K_OPENAT2), fd (K_FD/K_MMAP) */
	__u8 pad[3];
};

struct tb_bpf_count_key {
	__u32 arch;
	__u32 nr;
};

/* One distinct argument tuple; arguments not in argmask are 0. */
struct tb_bpf_args_key {
	__u32 arch;
	__u32 nr;
	__u64 vals[6];
};

/*
 * One distinct (syscall, path slot, path, flags, dirfd, outcome). The path is in the key as a
 * 64-bit hash (a 24-byte key hashes and compares much faster than a 280-byte one); its text goes
 * to userspace once, in the event that announces the key.
 */
struct tb_bpf_file_key {
	__u64 hash;  /* FNV-1a of the path bytes */
	__u64 aux;   /* open flags (K_OPEN/K_OPENAT2), 0 otherwise */
	__u16 arch;
	__u16 nr;
	__s32 dirfd; /* -100 (AT_FDCWD), or the dirfd of a relative path the program could not resolve */
	__u8 slot;   /* 0: path_arg[0], 1: path_arg[1] */
	__u8 ok;     /* 1: the call succeeded */
	__u8 pad[6];
};

enum tb_bpf_event_kind {
	TB_BPF_EV_ARGS = 1,
	TB_BPF_EV_FILE = 2,
};

/* Ring buffer records: each distinct tuple once (the program dedupes in its hash maps). */
struct tb_bpf_event {
	__u32 kind;
	__u32 tgid; /* init-namespace pid, to resolve relative paths through /proc */
	union {
		struct tb_bpf_args_key args;
		struct tb_bpf_file_key file;
	};
	char path[TB_BPF_PATH_MAX]; /* TB_BPF_EV_FILE: NUL-terminated (cut at 255 bytes) */
	char base[TB_BPF_PATH_MAX]; /* a relative path's directory, resolved at the call; "" none */
};

/* What the program could not record; userspace reads it after the run (.bss). */
struct tb_bpf_lost {
	__u64 events; /* ring buffer full: announcements dropped */
	__u64 paths;  /* a path could not be read from the task's memory or its fd */
	__u64 tasks;  /* the task table was full: a task's calls went uncounted */
	__u64 keys;   /* a dedup map was full (still announced through the ring, once per call) */
};

#endif
