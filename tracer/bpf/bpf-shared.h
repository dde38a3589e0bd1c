/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layouts shared by the eBPF recorder program (record.bpf.c) and its userspace side
 * (bpf-backend.c). The includer provides __u8/__u32/__u64 (vmlinux.h in BPF, <linux/types.h> in
 * userspace); this header includes nothing so both sides see the very same bytes.
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
/* x32 syscalls carry this bit in the number (the kernel's __X32_SYSCALL_BIT). */
#define TB_BPF_X32_BIT 0x40000000u
/* The kernel's TS_COMPAT in thread_info.status: the task is inside an i386 (int 0x80) syscall. */
#define TB_BPF_TS_COMPAT 0x0002u

/* Bytes of a path the program keeps (longer paths are cut and flagged). */
#define TB_BPF_PATH_MAX 256

/* First argument of the marker syscall that arms recording (the second is the session token). */
#define TB_BPF_MARKER_MAGIC 0x74627066u /* "tbpf" */

/* sysinfo.flags */
#define TB_BPF_SI_CLONE3 (1u << 0)   /* a0 is a struct clone_args *: record its flags member */
#define TB_BPF_SI_AUX_HOW (1u << 1)  /* aux_arg is a struct open_how *: take its flags member */
#define TB_BPF_SI_LO32 (1u << 2)     /* recorded args are compared on their low 32 bits */
#define TB_BPF_SI_EXEC (1u << 3)     /* an execve-like call: the exit happens in the new image */
#define TB_BPF_SI_PATH (1u << 4)     /* path_arg is valid (the table's zeroed entries mean "none") */

#define TB_BPF_NOARG 0xff

/* What the program does for one (arch, nr), filled by userspace from libseccomp names. */
struct tb_bpf_sysinfo {
	__u8 argmask;   /* bit N: record argument N */
	__u8 path_arg;  /* index of a path string argument, TB_BPF_NOARG when none */
	__u8 dirfd_arg; /* index of the dirfd that path is relative to, TB_BPF_NOARG when none */
	__u8 aux_arg;   /* index of flags kept with the path (open flags), TB_BPF_NOARG when none */
	__u32 flags;    /* TB_BPF_SI_* */
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

/* One distinct (file syscall, path, outcome). */
struct tb_bpf_file_key {
	__u32 arch;
	__u32 nr;
	__u64 aux;
	__s32 dirfd; /* -100 (AT_FDCWD) for absolute paths and calls without a dirfd */
	__u32 ok;    /* 1: the call returned >= 0 */
	char path[TB_BPF_PATH_MAX];
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
};

#endif
