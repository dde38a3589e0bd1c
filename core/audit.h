/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tightbox audit`: lints a seccomp profile and predicts what it breaks. The analysis fills a list
 * of findings; cli/cmd-audit.c prints them as text, JSON or SARIF (docs/audit.md lists the rules).
 */
#ifndef TB_AUDIT_H
#define TB_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/dangerous.h"
#include "core/profile.h"
#include "core/recording.h"

struct tb_finding {
	enum tb_severity severity;
	char *rule;     /* stable id: "dangerous-allowed", "python-cannot-start", ... */
	char *subject;  /* the syscall or arch it is about ("" when about the whole profile) */
	char *arch;     /* libseccomp arch name ("x86_64"), "" when not arch-specific */
	char *message;  /* what is wrong and why, one line */
	char *fix;      /* what to do */
	long rule_index; /* the profile's syscalls[] entry it points at, -1 when none */
};

struct tb_audit_summary {
	char arch[32];        /* the native arch the counts are for */
	size_t allowed;       /* syscall names allowed (unconditionally or with argument rules) */
	size_t conditional;   /* of which only with argument rules */
	size_t dangerous_allowed;
	long baseline_allowed; /* same count for the baseline profile, -1 when none given */
};

struct tb_audit_report {
	struct tb_finding *findings; /* sorted: severity (high first), rule, subject, arch */
	size_t n_findings;
	struct tb_audit_summary summary;
};

struct tb_audit_opts {
	uint64_t caps;              /* capabilities the workload holds (tightbox: 0) */
	const char *kernel_release; /* for minKernel; NULL = the running kernel */
	/* Recordings to check the profile against (may be NULL / 0). */
	const struct tb_recording *const *recordings;
	const char *const *recording_names; /* file names, for messages */
	size_t n_recordings;
	/* Docker's default profile for the summary comparison (may be NULL). */
	const struct tb_profile *baseline;
};

/*
 * Audits @p. On success *@out is a new report (tb_audit_report_free). Returns 0, -ENOMEM, or
 * -EINVAL when a minKernel cannot be compared with the running kernel.
 */
int tb_audit_run(const struct tb_profile *p, const struct tb_audit_opts *o,
		 struct tb_audit_report **out);
/* Frees @r. Accepts NULL. */
void tb_audit_report_free(struct tb_audit_report *r);

/* One-line description of a finding rule id (for SARIF rules[] and docs), NULL when unknown. */
const char *tb_audit_rule_description(const char *rule);


/*
 * What the compiled filter does with syscall @name on the native arch with argument values @args
 * (6 values): the action of the first matching rule, else the default action. Models runc's
 * splitting of several conditions on one argument into separate rules. 0 or -errno.
 */
int tb_audit_verdict(const struct tb_profile *p, const struct tb_compile_opts *o, const char *name,
		     const uint64_t args[6], struct tb_action *out);

#endif
