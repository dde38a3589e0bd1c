/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Docker/OCI seccomp profiles: the model, the JSON reader, and compilation with libseccomp.
 * One reader for every consumer (run, audit, diff, explain).
 */
#ifndef TB_PROFILE_H
#define TB_PROFILE_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"

enum tb_action_kind {
	TB_ACT_KILL_PROCESS,
	TB_ACT_KILL_THREAD, /* SCMP_ACT_KILL and SCMP_ACT_KILL_THREAD */
	TB_ACT_TRAP,
	TB_ACT_ERRNO,
	TB_ACT_TRACE,
	TB_ACT_NOTIFY,
	TB_ACT_LOG,
	TB_ACT_ALLOW,
};

struct tb_action {
	enum tb_action_kind kind;
	bool has_value; /* errnoRet given (ERRNO) or trace data */
	uint32_t value;
};

enum tb_arg_op { TB_OP_NE, TB_OP_LT, TB_OP_LE, TB_OP_EQ, TB_OP_GE, TB_OP_GT, TB_OP_MASKED_EQ };

struct tb_arg {
	unsigned index; /* 0..5 */
	uint64_t value, value_two;
	enum tb_arg_op op;
};

/* includes/excludes of one rule. NULL-terminated lists; NULL when absent. */
struct tb_rule_filter {
	char **caps;
	char **arches;
	char *min_kernel; /* "4.8" */
};

struct tb_rule {
	char **names; /* NULL-terminated ("name" of the old format becomes one entry) */
	size_t n_names;
	struct tb_action action;
	struct tb_arg *args;
	size_t n_args;
	struct tb_rule_filter includes, excludes;
	char *comment;
	size_t index; /* position in "syscalls" (for diagnostics: "syscalls[3]") */
};

struct tb_arch_entry {
	char *arch;        /* "SCMP_ARCH_X86_64" */
	char **sub_arches; /* NULL-terminated */
};

/* Size limits of a profile (the parser refuses more, naming the limit). */
#define TB_PROFILE_MAX_RULES 65536      /* entries of "syscalls" */
#define TB_PROFILE_MAX_NAMES 262144     /* names over all rules, copies included */
#define TB_PROFILE_MAX_ARG_RULES 2048   /* distinct names of rules with "args" (compile) */

struct tb_profile {
	char *source; /* file it was read from */
	struct tb_action default_action;
	struct tb_arch_entry *arches; /* "architectures" entries and "archMap" entries, merged */
	size_t n_arches;
	bool has_arch_map;
	char **flags; /* "flags": ["SECCOMP_FILTER_FLAG_LOG", ...] */
	struct tb_rule *rules;
	size_t n_rules;
	/* listenerPath/listenerMetadata and defaultErrnoRet are folded into the fields above. */
};

/* Reads and validates the profile at @path. -EINVAL: malformed (@diag: file, line, column or JSON
 * path, problem). Other -errno: unreadable. *@out untouched on failure. */
int tb_profile_load(const char *path, struct tb_profile **out, struct tb_diag *diag);
/* Same from memory; @name is used as the file name in diagnostics. */
int tb_profile_parse(const char *text, size_t len, const char *name, struct tb_profile **out,
		     struct tb_diag *diag);
/* Frees @p. Accepts NULL. */
void tb_profile_free(struct tb_profile *p);

struct tb_compile_opts {
	uint64_t caps;              /* capability bits the process will hold (tightbox: 0) */
	const char *kernel_release; /* for minKernel; NULL = uname(2) */
	/* Turn every non-allow action into SCMP_ACT_TRACE(data): data = errno for ERRNO actions,
	 * TB_TRACE_KILL for KILL*, TB_TRACE_TRAP for TRAP (used by `tightbox explain`). */
	bool trace_denials;
	/* Called for each warning (unknown syscall name skipped, ...). May be NULL. */
	void (*warn)(void *data, const struct tb_warning *w);
	void *warn_data;
};

#define TB_TRACE_KILL 0xfff0u
#define TB_TRACE_TRAP 0xfff1u

/*
 * Builds a libseccomp filter (scmp_filter_ctx returned as void * to keep seccomp.h out of users)
 * for the native arch plus the profile's listed arches and sub-arches. Unknown syscall names are
 * skipped with a warning, as Docker does. Returns 0 or -errno (@diag says which rule).
 */
int tb_profile_compile(const struct tb_profile *p, const struct tb_compile_opts *o, void **ctx,
		       struct tb_diag *diag);

/* Exports the compiled filter as a classic BPF program (malloc'd instructions) ready for
 * seccomp(SECCOMP_SET_MODE_FILTER). Caller frees prog->filter. 0 or -errno. */
int tb_profile_export_bpf(void *ctx, struct sock_fprog *prog);
/* seccomp_release() for the ctx. Accepts NULL. */
void tb_profile_ctx_free(void *ctx);

/* "SCMP_ACT_ERRNO" etc. */
const char *tb_action_name(enum tb_action_kind k);

/* ---- helpers shared by audit, diff and explain (additions to the contract) ---- */

/* The errno an ERRNO/TRACE action returns: its errnoRet, else EPERM (as runc does). */
uint32_t tb_action_errno(const struct tb_action *a);
/* Whether @a and @b act alike: same kind and, for ERRNO/TRACE, the same errno. */
bool tb_action_equal(const struct tb_action *a, const struct tb_action *b);
/* Whether actions of kind @k let the call run (ALLOW, LOG). */
bool tb_action_allows(enum tb_action_kind k);
/* Whether @r lists the syscall @name. */
bool tb_rule_has_name(const struct tb_rule *r, const char *name);
/* GOARCH name of the native arch ("amd64"): what includes/excludes "arches" are compared with. */
const char *tb_profile_native_goarch(void);
/* libseccomp arch token of "SCMP_ARCH_X86_64", 0 when libseccomp does not know the name
 * (core/arch.h holds the names). */
uint32_t tb_profile_arch_token(const char *scmp_name);
/*
 * Whether @r applies under @o (moby semantics): excluded when the native GOARCH is in
 * excludes.arches, any excludes.caps is held or the kernel is >= excludes.minKernel; else included
 * when includes.arches (if any) has the native GOARCH, every includes.caps is held and the kernel
 * is >= includes.minKernel. Returns 1, 0, or -errno (kernel version unreadable).
 */
int tb_profile_rule_applies(const struct tb_rule *r, const struct tb_compile_opts *o);
/* Same for a host whose GOARCH is @goarch (audit looks at the other arches a profile lists). */
int tb_profile_rule_applies_on(const struct tb_rule *r, const struct tb_compile_opts *o,
			       const char *goarch);
/*
 * The arch tokens the compiled filter will hold (native first, then the listed arches, or with an
 * archMap the native entry and its sub-arches), at most @max, deduplicated. Arch names libseccomp
 * does not know are skipped with a warning through @o (may be NULL). 0 or -ENOBUFS.
 */
int tb_profile_filter_arches(const struct tb_profile *p, uint32_t *tokens, size_t max, size_t *n,
			     const struct tb_compile_opts *o);

#endif
