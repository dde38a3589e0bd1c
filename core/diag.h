/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Caller-owned diagnostics. Library code never prints: a parser or loader that fails fills a
 * struct tb_diag with where (file, line, column or JSON path) and what, returns -errno, and the CLI
 * prints it as "FILE:LINE:COL: MESSAGE".
 */
#ifndef TB_DIAG_H
#define TB_DIAG_H

#include <stdarg.h>
#include <stddef.h>

struct tb_diag {
	char file[512];    /* file or flag the problem is in ("" when none) */
	int line;          /* 1-based, 0 when unknown */
	int column;        /* 1-based, 0 when unknown */
	char where[256];   /* JSON path ("syscalls[3].args[0].op") or flag name, "" when none */
	char message[512]; /* what is wrong, without location */
};

/*
 * What a warning is about. Callers fold and filter warnings by kind (and subject), never by
 * matching the message text.
 */
enum tb_warning_kind {
	TB_WARN_OTHER,
	TB_WARN_UNKNOWN_SYSCALL, /* a profile names a syscall this libseccomp does not know */
	TB_WARN_UNKNOWN_ARCH,    /* a profile names an arch this libseccomp does not know */
	TB_WARN_RULE_SKIPPED,    /* libseccomp refused one rule; the rest of the filter holds */
	TB_WARN_FLAG_IGNORED,    /* a profile flag this kernel or libseccomp lacks */
	TB_WARN_ERRNO_CLAMPED,   /* errnoRet above what seccomp can return */
	TB_WARN_NO_LANDLOCK,     /* the kernel has no Landlock: the file policy is not enforced */
	TB_WARN_NO_APPARMOR,     /* apparmor= asked for but not enforceable here */
	TB_WARN_NO_CGROUP,       /* no cgroup: limits fall back to rlimits */
	TB_WARN_NO_USERNS,       /* no user namespace for the sandbox */
	TB_WARN_RECORDING_INCOMPLETE, /* a recorder lost events or paths (subject: the backend) */
	TB_WARN_LANDLOCK_PARTIAL, /* the kernel's Landlock ABI lacks parts of the ruleset (subject: its file) */
};

/* One warning: a kind, the name it is about ("" when none) and the full sentence. */
struct tb_warning {
	enum tb_warning_kind kind;
	char subject[128];
	char message[512];
};


/* Resets @d to "no problem". Accepts NULL. */
void tb_diag_clear(struct tb_diag *d);

/* Fills @d (when not NULL) with a location and a printf-style message. @file and @where may be NULL. */
void tb_diag_set(struct tb_diag *d, const char *file, int line, int column, const char *where,
		 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* tb_diag_set with a va_list (for callers' own printf-style helpers). */
void tb_diag_setv(struct tb_diag *d, const char *file, int line, int column, const char *where,
		  const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

/*
 * Formats @d as "file:line:column: where: message" (parts that are unknown are omitted) into
 * @buf of @size bytes. Returns @buf.
 */
char *tb_diag_format(const struct tb_diag *d, char *buf, size_t size);

#endif
