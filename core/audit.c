/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tightbox audit` analysis. Every check works on the profile model (core/profile.h) with moby's
 * rule selection, evaluated for the native arch, so what audit says is what `tightbox run` and
 * `docker run` would enforce here. Syscall names and numbers come from libseccomp only.
 */
#include "core/audit.h"

#include <errno.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arch.h"
#include "core/strv.h"
#include "core/util.h"

/*
 * What `/usr/bin/python3 -c pass` cannot start without on this machine (Python 3.11.2, glibc 2.36,
 * Debian 12, x86_64). Measured: `strace -f /usr/bin/python3 -c pass` makes 31 distinct syscalls;
 * each of them was then denied alone (EPERM, then ENOSYS) on top of profiles/seed-corrected.json and
 * `python3 -c 'print("ok")'` run. These twelve made it fail (exit 1, 127 or SIGSEGV); the other
 * 19 (access, brk, exit_group, getegid, geteuid, getgid, getrandom, gettid, getuid, ioctl, lseek,
 * munmap, prlimit64, readlink, rseq, rt_sigaction, set_robust_list, set_tid_address, sysinfo) are
 * probed and tolerated one at a time. execve is what starts it at all.
 */
static const char *const python_required[] = {
	"arch_prctl", "close",	"execve",     "fcntl", "futex",	  "getdents64", "mmap",
	"mprotect",   "newfstatat", "openat", "pread64", "read", NULL,
};

/* Calls glibc or CPython probe and fall back from only when they fail with ENOSYS. */
static const struct {
	const char *name;
	enum tb_severity severity;
	const char *what;
} enosys_probes[] = {
	{"clone3", TB_SEV_MEDIUM, "glibc 2.34+ creates every thread with clone3 and falls back to "
				  "clone only on ENOSYS: threads and subprocesses fail"},
	{"close_range", TB_SEV_LOW, "CPython's subprocess and glibc closefrom fall back on ENOSYS"},
	{"copy_file_range", TB_SEV_LOW, "shutil/coreutils fall back to read/write only on ENOSYS"},
	{"epoll_pwait2", TB_SEV_LOW, "event loops fall back to epoll_pwait only on ENOSYS"},
	{"faccessat2", TB_SEV_LOW, "glibc 2.33+ faccessat falls back on ENOSYS; EPERM makes "
				   "os.access() report no access"},
	{"fchmodat2", TB_SEV_LOW, "glibc 2.39+ fchmodat falls back on ENOSYS"},
	{"openat2", TB_SEV_LOW, "callers fall back to openat only on ENOSYS"},
	{"pidfd_open", TB_SEV_LOW, "subprocess/asyncio child watchers fall back on ENOSYS"},
	{"pidfd_send_signal", TB_SEV_LOW, "callers fall back to kill only on ENOSYS"},
	{"rseq", TB_SEV_LOW, "glibc 2.35+ registers rseq at start; it expects ENOSYS when absent"},
	{"statx", TB_SEV_LOW, "Rust std, coreutils and 32-bit glibc fall back to fstatat only on ENOSYS"},
};

static const struct {
	const char *id, *description;
} rule_descriptions[] = {
	{"allow-shadows-args", "an unconditional allow shadows the argument rules of the same syscall"},
	{"clone-namespaces", "clone is allowed with CLONE_NEW* flags: the workload can create namespaces"},
	{"clone3-allowed", "clone3 is allowed: its flags are in memory and cannot be filtered"},
	{"contradictory-rule", "a syscall is given two different actions; libseccomp keeps the first"},
	{"dangerous-allowed", "a known-dangerous syscall is allowed"},
	{"default-allow", "the default action allows: the profile is a denylist"},
	{"duplicate-rule", "a syscall is listed twice with the same action"},
	{"errno-breaks-fallback", "a syscall libcs probe fails with an errno other than ENOSYS"},
	{"fileless-exec", "memfd_create and execve/execveat are both allowed: code written to memory can be executed"},
	{"ioctl-tiocsti", "ioctl allows TIOCSTI/TIOCLINUX: terminal input injection"},
	{"ioctl-upper-bits", "an ioctl command filter can be passed by setting the upper 32 bits"},
	{"missing-essential", "a syscall every program needs is denied"},
	{"name-not-on-arch", "allowed names do not exist on a listed architecture"},
	{"no-effect-rule", "a rule's action equals the default action"},
	{"python-cannot-start", "Python 3.11 cannot start under the profile"},
	{"socket-families", "socket is allowed for risky address families"},
	{"sub-arch-allowed", "a compat architecture (i386, x32, arm) is allowed"},
	{"unknown-name", "syscall names libseccomp does not know (skipped when compiling)"},
	{"workload-will-fail", "a recorded workload uses a syscall the profile denies"},
};

const char *tb_audit_rule_description(const char *rule)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(rule_descriptions); i++)
		if (!strcmp(rule_descriptions[i].id, rule))
			return rule_descriptions[i].description;
	return NULL;
}

static bool cond_matches(const struct tb_arg *c, const uint64_t *args)
{
	uint64_t v = args[c->index];

	switch (c->op) {
	case TB_OP_NE:
		return v != c->value;
	case TB_OP_LT:
		return v < c->value;
	case TB_OP_LE:
		return v <= c->value;
	case TB_OP_EQ:
		return v == c->value;
	case TB_OP_GE:
		return v >= c->value;
	case TB_OP_GT:
		return v > c->value;
	case TB_OP_MASKED_EQ:
		return (v & c->value) == c->value_two;
	}
	return false;
}

/* runc: conditions are ANDed unless one argument has several, then each is its own rule (OR). */
static bool rule_matches(const struct tb_rule *r, const uint64_t *args)
{
	unsigned per_index[6] = {0};
	bool separate = false;

	if (r->n_args == 0)
		return true;
	for (size_t i = 0; i < r->n_args; i++)
		if (++per_index[r->args[i].index] > 1)
			separate = true;
	for (size_t i = 0; i < r->n_args; i++) {
		bool m = cond_matches(&r->args[i], args);

		if (separate && m)
			return true;
		if (!separate && !m)
			return false;
	}
	return !separate;
}

/* How a name is treated on a host of @goarch, ignoring argument values. libseccomp lets an
 * unconditional rule replace every conditional rule of the same syscall, wherever it stands in
 * the profile: those are then shadowed and never evaluated. */
struct status {
	struct tb_action action; /* the unconditional outcome (first unconditional rule or default) */
	long uncond_index;       /* rule giving it, -1 = default action */
	long cond_allow_index;   /* first effective conditional ALLOW/LOG rule, -1 when none */
	long cond_index;         /* first effective conditional rule of any action, -1 when none */
	long shadowed_index;     /* first conditional rule the unconditional one replaces, -1 none */
	size_t n_shadowed;       /* how many */
	bool shadowed_deny;      /* one of them denies (an EPERM guard that no longer runs) */
};

/* Whether rule @r can decide @name on @goarch: it names it, its action is not the default one
 * (libseccomp drops such rules) and it applies there. >0 yes, 0 no, -errno. */
static int rule_decides(const struct tb_profile *p, const struct tb_rule *r,
			const struct tb_compile_opts *o, const char *goarch, const char *name)
{
	if (!tb_rule_has_name(r, name) || tb_action_equal(&r->action, &p->default_action))
		return 0;
	return tb_profile_rule_applies_on(r, o, goarch);
}

static int name_status(const struct tb_profile *p, const struct tb_compile_opts *o,
		       const char *goarch, const char *name, struct status *st)
{
	*st = (struct status){.action = p->default_action};
	st->uncond_index = st->cond_allow_index = st->cond_index = st->shadowed_index = -1;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct tb_rule *r = &p->rules[i];
		int a;

		a = rule_decides(p, r, o, goarch, name);
		if (a < 0)
			return a;
		if (!a)
			continue;
		if (r->n_args == 0) {
			if (st->uncond_index < 0) {
				st->action = r->action;
				st->uncond_index = (long)i;
			}
			continue;
		}
		if (st->cond_index < 0)
			st->cond_index = (long)i;
		if (tb_action_allows(r->action.kind) && st->cond_allow_index < 0)
			st->cond_allow_index = (long)i;
		st->n_shadowed++;
		st->shadowed_deny |= !tb_action_allows(r->action.kind);
	}
	if (st->uncond_index >= 0) {
		st->shadowed_index = st->cond_index;
		st->cond_index = st->cond_allow_index = -1;
	} else {
		st->n_shadowed = 0;
		st->shadowed_deny = false;
	}
	return 0;
}

/* Allowed unconditionally (1), only through argument rules (2), or not at all (0). */
static int allowed_kind(const struct status *st)
{
	if (tb_action_allows(st->action.kind))
		return st->cond_index >= 0 && st->uncond_index < 0 ? 2 : 1;
	return st->cond_allow_index >= 0 ? 2 : 0;
}

int tb_audit_verdict(const struct tb_profile *p, const struct tb_compile_opts *o, const char *name,
		     const uint64_t args[6], struct tb_action *out)
{
	const char *goarch = tb_profile_native_goarch();
	struct status st;
	int r = name_status(p, o, goarch, name, &st);

	if (r < 0)
		return r;
	/* An unconditional rule decides alone: libseccomp dropped the conditional ones. */
	if (st.uncond_index >= 0) {
		*out = st.action;
		return 0;
	}
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct tb_rule *rl = &p->rules[i];
		int a;

		a = rule_decides(p, rl, o, goarch, name);
		if (a < 0)
			return a;
		if (a && rule_matches(rl, args)) {
			*out = rl->action;
			return 0;
		}
	}
	*out = p->default_action;
	return 0;
}

/* ---- findings -------------------------------------------------------------------------------- */

struct builder {
	struct tb_audit_report *rep;
	int err;
};

static void __attribute__((format(printf, 8, 9)))
add(struct builder *b, enum tb_severity sev, const char *rule, const char *subject, const char *arch,
    long idx, const char *fix, const char *fmt, ...)
{
	struct tb_finding *n, *f;
	char msg[2048];
	va_list ap;

	if (b->err)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = realloc(b->rep->findings, (b->rep->n_findings + 1) * sizeof(*n));
	if (!n) {
		b->err = -ENOMEM;
		return;
	}
	b->rep->findings = n;
	f = &n[b->rep->n_findings];
	*f = (struct tb_finding){.severity = sev, .rule_index = idx};
	f->rule = strdup(rule);
	f->subject = strdup(subject ? subject : "");
	f->arch = strdup(arch ? arch : "");
	f->message = strdup(msg);
	f->fix = strdup(fix ? fix : "");
	b->rep->n_findings++;
	if (!f->rule || !f->subject || !f->arch || !f->message || !f->fix)
		b->err = -ENOMEM;
}

/* A growing ", "-separated list. */
struct list {
	char buf[4096];
	size_t n, len;
};

static void list_add(struct list *l, const char *s)
{
	if (l->len < sizeof(l->buf))
		l->len += (size_t)snprintf(l->buf + l->len, sizeof(l->buf) - l->len, "%s%s",
					   l->n ? ", " : "", s);
	l->n++;
}

static const char *where_of(long idx, char *buf, size_t n)
{
	if (idx < 0)
		snprintf(buf, n, "the default action");
	else
		snprintf(buf, n, "syscalls[%ld]", idx);
	return buf;
}

static const char *errno_label(uint32_t e, char *buf, size_t n)
{
	const char *s = e < 4096 ? strerrorname_np((int)e) : NULL;

	if (s)
		snprintf(buf, n, "%s", s);
	else
		snprintf(buf, n, "errno %u", e);
	return buf;
}

/* "EPERM", "SIGSYS (kill)" ...: what the program sees. */
static const char *outcome(const struct tb_action *a, char *buf, size_t n)
{
	switch (a->kind) {
	case TB_ACT_ERRNO:
		return errno_label(tb_action_errno(a), buf, n);
	case TB_ACT_KILL_PROCESS:
	case TB_ACT_KILL_THREAD:
		snprintf(buf, n, "a kill (SIGSYS)");
		return buf;
	case TB_ACT_TRAP:
		snprintf(buf, n, "SIGSYS");
		return buf;
	default:
		snprintf(buf, n, "%s", tb_action_name(a->kind));
		return buf;
	}
}

/* Names of every real syscall of @token (numbers below 1024; x32 numbers carry a high bit). */
static int arch_names(uint32_t token, char ***out, size_t *n_out)
{
	size_t n = 0;
	char **v = calloc(1025, sizeof(*v));
	const struct tb_arch *a = tb_arch_by_token(token);
	uint32_t base = a ? a->nr_bit : 0;

	if (!v)
		return -ENOMEM;
	for (int nr = 0; nr < 1024; nr++) {
		char *s = seccomp_syscall_resolve_num_arch(token, (int)(base + (uint32_t)nr));

		if (s)
			v[n++] = s;
	}
	*out = v;
	*n_out = n;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether @name is a real syscall on @token (libseccomp's pseudo numbers are negative). */
static bool exists_on(uint32_t token, const char *name)
{
	return seccomp_syscall_resolve_name_arch(token, name) >= 0;
}

struct counts {
	size_t allowed, conditional, dangerous;
};

static int count_allowed(const struct tb_profile *p, const struct tb_compile_opts *o,
			 uint32_t native, char **names, struct counts *c)
{
	struct status st;
	int r;

	*c = (struct counts){0};
	for (char **n = names; *n; n++) {
		int k;

		r = name_status(p, o, tb_profile_native_goarch(), *n, &st);
		if (r < 0)
			return r;
		k = allowed_kind(&st);
		if (k)
			c->allowed++;
		if (k == 2)
			c->conditional++;
		if (k && tb_dangerous_lookup(*n))
			c->dangerous++;
	}
	(void)native;
	return 0;
}

static void check_default(struct builder *b, const struct tb_profile *p)
{
	if (!tb_action_allows(p->default_action.kind))
		return;
	add(b, TB_SEV_HIGH, "default-allow", "", "", -1,
	    "use SCMP_ACT_ERRNO (ENOSYS) as the default and list what the workload needs",
	    "defaultAction is %s: every syscall not listed, including ones added to future kernels, "
	    "is allowed",
	    tb_action_name(p->default_action.kind));
}

static int verdict_allows(const struct tb_profile *p, const struct tb_compile_opts *o,
			  const char *name, uint64_t a0, uint64_t a1, bool *allowed);

static int check_dangerous(struct builder *b, const struct tb_profile *p,
			   const struct tb_compile_opts *o, uint32_t native)
{
	const struct tb_dangerous *t;
	size_t n;
	char w[64];

	t = tb_dangerous_table(&n);
	for (size_t i = 0; i < n; i++) {
		struct status st;
		int k, r;

		if (!exists_on(native, t[i].name))
			continue;
		r = name_status(p, o, tb_profile_native_goarch(), t[i].name, &st);
		if (r < 0)
			return r;
		k = allowed_kind(&st);
		if (k == 1)
			add(b, t[i].severity, "dangerous-allowed", t[i].name, tb_arch_label(native),
			    st.uncond_index, t[i].fix, "%s is allowed (%s): %s", t[i].name,
			    where_of(st.uncond_index, w, sizeof(w)), t[i].reason);
		else if (k == 2 && !strcmp(t[i].name, "personality")) {
			/* Only the flags that weaken memory protections matter; a rule for the
			 * 0xffffffff query (what glibc and CPython ask) changes nothing. */
			static const uint64_t risky[] = {0x0400000 /* READ_IMPLIES_EXEC */,
							 0x0040000 /* ADDR_NO_RANDOMIZE */};
			bool any = false;

			for (size_t v = 0; v < TB_ARRAY_SIZE(risky) && r >= 0; v++) {
				bool ok = false;

				r = verdict_allows(p, o, t[i].name, risky[v], 0, &ok);
				any |= ok;
			}
			if (r < 0)
				return r;
			if (any)
				add(b, t[i].severity, "dangerous-allowed", t[i].name, tb_arch_label(native),
				    st.cond_allow_index, t[i].fix,
				    "%s is allowed with READ_IMPLIES_EXEC or ADDR_NO_RANDOMIZE (%s): %s",
				    t[i].name, where_of(st.cond_allow_index, w, sizeof(w)), t[i].reason);
		} else if (k == 2)
			add(b, t[i].severity > TB_SEV_LOW ? t[i].severity - 1 : TB_SEV_LOW,
			    "dangerous-allowed", t[i].name, tb_arch_label(native), st.cond_allow_index,
			    t[i].fix, "%s is allowed for some argument values (%s): %s", t[i].name,
			    where_of(st.cond_allow_index, w, sizeof(w)), t[i].reason);
	}
	return 0;
}

static int verdict_allows(const struct tb_profile *p, const struct tb_compile_opts *o,
			  const char *name, uint64_t a0, uint64_t a1, bool *allowed)
{
	uint64_t args[6] = {a0, a1, 0, 0, 0, 0};
	struct tb_action act;
	int r = tb_audit_verdict(p, o, name, args, &act);

	if (r < 0)
		return r;
	*allowed = tb_action_allows(act.kind);
	return 0;
}

static int check_clone_socket_ioctl(struct builder *b, const struct tb_profile *p,
				    const struct tb_compile_opts *o, uint32_t native)
{
	static const struct {
		unsigned long family;
		const char *name;
	} families[] = {
		{15, "AF_KEY"},	      {16, "AF_NETLINK"}, {17, "AF_PACKET"},
		{38, "AF_ALG"},	      {40, "AF_VSOCK"},	  {44, "AF_XDP"},
	};
	const char *arch = tb_arch_label(native);
	struct status st;
	struct list l = {0};
	bool ok, ok_hi;
	char w[64];
	int r;

	/* clone's flags are argument 0 on x86_64 and aarch64 (s390 swaps the first two). */
	if (exists_on(native, "clone")) {
		const struct tb_arch *na = tb_arch_by_token(native);
		unsigned idx = na ? na->clone_flags_index : 0;

		r = verdict_allows(p, o, "clone", idx ? 0 : 0x10000000 | 17, idx ? 0x10000000 | 17 : 0,
				   &ok);
		if (r < 0)
			return r;
		r = name_status(p, o, tb_profile_native_goarch(), "clone", &st);
		if (r < 0)
			return r;
		if (ok)
			add(b, TB_SEV_HIGH, "clone-namespaces", "clone", arch,
			    st.uncond_index >= 0 ? st.uncond_index : st.cond_allow_index,
			    "allow clone only when (flags & 0x7E020000) == 0 (SCMP_CMP_MASKED_EQ, as "
			    "Docker does)",
			    "clone(CLONE_NEWUSER) is allowed (%s): the workload can create user, mount "
			    "and network namespaces and reach kernel code that needs CAP_SYS_ADMIN",
			    allowed_kind(&st) == 1 ? where_of(st.uncond_index, w, sizeof(w))
						   : "no argument rule excludes namespace flags");
	}
	if (exists_on(native, "clone3")) {
		r = name_status(p, o, tb_profile_native_goarch(), "clone3", &st);
		if (r < 0)
			return r;
		if (allowed_kind(&st))
			add(b, TB_SEV_MEDIUM, "clone3-allowed", "clone3", arch,
			    st.uncond_index >= 0 ? st.uncond_index : st.cond_allow_index,
			    "deny clone3 with ENOSYS (errnoRet 38): glibc then uses clone, which can "
			    "be filtered",
			    "clone3 is allowed: its flags are in a struct in memory, so seccomp cannot "
			    "keep CLONE_NEW* out");
	}

	if (exists_on(native, "socket")) {
		r = name_status(p, o, tb_profile_native_goarch(), "socket", &st);
		if (r < 0)
			return r;
		for (size_t i = 0; i < TB_ARRAY_SIZE(families); i++) {
			/* AF_NETLINK is judged by its protocols (a2): NETLINK_ROUTE (0) alone only
			 * queries the sandbox's own network namespace; xfrm, audit, netfilter,
			 * uevent and generic netlink are the kernel surfaces. */
			static const uint64_t netlink_risky[] = {6, 9, 12, 15, 16};
			size_t n_proto = families[i].family == 16 ? TB_ARRAY_SIZE(netlink_risky) : 1;

			ok = false;
			for (size_t k = 0; k < n_proto && !ok; k++) {
				uint64_t args[6] = {families[i].family, 0,
						    families[i].family == 16 ? netlink_risky[k] : 0};
				struct tb_action act;

				r = tb_audit_verdict(p, o, "socket", args, &act);
				if (r < 0)
					return r;
				ok = tb_action_allows(act.kind);
			}
			if (ok)
				list_add(&l, families[i].name);
		}
		if (l.n && allowed_kind(&st) == 1)
			add(b, TB_SEV_MEDIUM, "socket-families", "socket", arch, st.uncond_index,
			    "allow socket only for the families the workload uses (SCMP_CMP_EQ on "
			    "argument 0, e.g. AF_UNIX=1, AF_INET=2, AF_INET6=10)",
			    "socket is allowed for every address family (%s), including %s: kernel "
			    "surfaces (netlink, raw packets, kernel crypto, vsock) a sandbox has no use "
			    "for",
			    where_of(st.uncond_index, w, sizeof(w)), l.buf);
		else if (l.n)
			add(b, TB_SEV_MEDIUM, "socket-families", "socket", arch, st.cond_allow_index,
			    "narrow the argument rules to the families the workload uses",
			    "socket is allowed for %s", l.buf);
	}

	if (exists_on(native, "ioctl")) {
		static const struct {
			uint64_t cmd;
			const char *name;
		} cmds[] = {{0x5412, "TIOCSTI"}, {0x541C, "TIOCLINUX"}};

		r = name_status(p, o, tb_profile_native_goarch(), "ioctl", &st);
		if (r < 0)
			return r;
		for (size_t i = 0; i < TB_ARRAY_SIZE(cmds); i++) {
			r = verdict_allows(p, o, "ioctl", 0, cmds[i].cmd, &ok);
			if (r < 0)
				return r;
			/* The kernel takes cmd as unsigned int; the filter sees all 64 bits. */
			r = verdict_allows(p, o, "ioctl", 0, cmds[i].cmd | (1ull << 32), &ok_hi);
			if (r < 0)
				return r;
			if (ok)
				add(b, TB_SEV_MEDIUM, "ioctl-tiocsti", cmds[i].name, arch,
				    st.uncond_index >= 0 ? st.uncond_index : st.cond_allow_index,
				    "allow ioctl only for the commands the workload uses, with "
				    "SCMP_CMP_MASKED_EQ mask 0xffffffff; tightbox also runs the workload "
				    "without a controlling terminal",
				    "ioctl(%s) is allowed: on a terminal the workload shares, it can "
				    "inject keystrokes or read the console",
				    cmds[i].name);
			else if (ok_hi)
				add(b, TB_SEV_MEDIUM, "ioctl-upper-bits", cmds[i].name, arch,
				    st.cond_allow_index,
				    "compare ioctl commands with SCMP_CMP_MASKED_EQ and mask 0xffffffff",
				    "ioctl(%s) is denied but ioctl(%s | 1<<32) is allowed, and the kernel "
				    "ignores the upper 32 bits",
				    cmds[i].name, cmds[i].name);
		}
	}
	return 0;
}

/*
 * memfd_create plus execve (of /proc/self/fd/N) or execveat(fd, "", AT_EMPTY_PATH) runs a
 * program that exists only in memory: past a noexec /tmp, Landlock's execute right and any file
 * a policy lists. Either alone is ordinary.
 */
static int check_fileless_exec(struct builder *b, const struct tb_profile *p,
			       const struct tb_compile_opts *o, uint32_t native)
{
	bool memfd = false, exec = false, execat = false;
	int r;

	if (!exists_on(native, "memfd_create"))
		return 0;
	r = verdict_allows(p, o, "memfd_create", 0, 0, &memfd);
	if (r >= 0 && memfd)
		r = verdict_allows(p, o, "execve", 0, 0, &exec);
	if (r >= 0 && memfd && exists_on(native, "execveat"))
		r = verdict_allows(p, o, "execveat", 0, 0, &execat);
	if (r < 0)
		return r;
	if (memfd && (exec || execat))
		add(b, TB_SEV_HIGH, "fileless-exec", "memfd_create", tb_arch_label(native), -1,
		    "deny memfd_create (SCMP_ACT_ERRNO EPERM): Python and glibc do not need it",
		    "memfd_create and %s are both allowed: the workload can write a program to an "
		    "anonymous file and execute it, past noexec mounts and Landlock",
		    exec ? "execve" : "execveat");
	return 0;
}

static int check_errno_fallback(struct builder *b, const struct tb_profile *p,
				const struct tb_compile_opts *o, uint32_t native)
{
	char w[64], e[32];

	for (size_t i = 0; i < TB_ARRAY_SIZE(enosys_probes); i++) {
		struct status st;
		int r;

		if (!exists_on(native, enosys_probes[i].name))
			continue;
		r = name_status(p, o, tb_profile_native_goarch(), enosys_probes[i].name, &st);
		if (r < 0)
			return r;
		if (st.action.kind != TB_ACT_ERRNO || tb_action_errno(&st.action) == ENOSYS ||
		    st.cond_allow_index >= 0)
			continue;
		add(b, enosys_probes[i].severity, "errno-breaks-fallback", enosys_probes[i].name,
		    tb_arch_label(native), st.uncond_index,
		    st.uncond_index < 0 ? "set defaultErrnoRet to 38 (ENOSYS), or deny it explicitly "
					  "with errnoRet 38"
					: "use errnoRet 38 (ENOSYS) for it",
		    "%s fails with %s (%s): %s", enosys_probes[i].name,
		    errno_label(tb_action_errno(&st.action), e, sizeof(e)),
		    where_of(st.uncond_index, w, sizeof(w)), enosys_probes[i].what);
	}
	return 0;
}

static int check_essentials_python(struct builder *b, const struct tb_profile *p,
				   const struct tb_compile_opts *o, uint32_t native)
{
	static const char *const essentials[] = {"exit", "exit_group", "restart_syscall",
						 "rt_sigreturn"};
	const char *arch = tb_arch_label(native);
	struct list l = {0};
	char e[48];
	int r;

	for (size_t i = 0; i < TB_ARRAY_SIZE(essentials); i++) {
		struct status st;

		if (!exists_on(native, essentials[i]))
			continue;
		r = name_status(p, o, tb_profile_native_goarch(), essentials[i], &st);
		if (r < 0)
			return r;
		if (allowed_kind(&st) != 1)
			add(b, TB_SEV_MEDIUM, "missing-essential", essentials[i], arch, -1,
			    "allow it: no program can avoid it",
			    "%s is denied (%s): %s", essentials[i], outcome(&st.action, e, sizeof(e)),
			    !strcmp(essentials[i], "restart_syscall")
				    ? "an interrupted sleep or wait fails after any signal"
			    : !strcmp(essentials[i], "rt_sigreturn")
				    ? "returning from any signal handler kills the process"
				    : "the process cannot exit cleanly");
	}

	if (native != SCMP_ARCH_X86_64)
		return 0;
	for (const char *const *n = python_required; *n; n++) {
		struct status st;

		r = name_status(p, o, tb_profile_native_goarch(), *n, &st);
		if (r < 0)
			return r;
		if (allowed_kind(&st) == 0)
			list_add(&l, *n);
	}
	if (l.n)
		add(b, TB_SEV_HIGH, "python-cannot-start", "python3", arch, -1,
		    "allow them (profiles/seed-corrected.json is a measured starting point)",
		    "Python 3.11 cannot start under it: %zu syscall%s it needs %s denied: %s", l.n,
		    l.n == 1 ? "" : "s", l.n == 1 ? "is" : "are", l.buf);
	return 0;
}

/* An unconditional allow for a name that also has argument rules: libseccomp keeps only the
 * unconditional rule, so the argument rules (typically EPERM guards on clone's namespace flags or
 * ioctl's TIOCSTI) silently stop existing. */
static int check_shadowed(struct builder *b, const struct tb_profile *p,
			  const struct tb_compile_opts *o, uint32_t native)
{
	char **seen = NULL;
	int r = 0;

	for (size_t i = 0; i < p->n_rules && r >= 0; i++)
		for (size_t k = 0; k < p->rules[i].n_names && r >= 0; k++) {
			const char *name = p->rules[i].names[k];
			struct status st;
			char w[64], ws[64];

			if (tb_strv_has(seen, name) || !exists_on(native, name))
				continue;
			r = tb_strv_add(&seen, name);
			if (r < 0)
				break;
			r = name_status(p, o, tb_profile_native_goarch(), name, &st);
			if (r < 0 || st.shadowed_index < 0 || !tb_action_allows(st.action.kind))
				continue;
			add(b, st.shadowed_deny ? TB_SEV_HIGH : TB_SEV_LOW, "allow-shadows-args", name,
			    tb_arch_label(native), st.uncond_index,
			    "remove the unconditional rule, or list the name only in rules with the "
			    "argument conditions it needs",
			    "%s allows %s without conditions, which replaces its %zu argument rule%s "
			    "(first %s) under libseccomp%s",
			    where_of(st.uncond_index, w, sizeof(w)), name, st.n_shadowed,
			    st.n_shadowed == 1 ? "" : "s", where_of(st.shadowed_index, ws, sizeof(ws)),
			    st.shadowed_deny ? ": the argument values those rules deny are allowed"
					     : ": they have no effect");
		}
	tb_strv_free(seen);
	return r < 0 ? r : 0;
}

static int check_sub_arches(struct builder *b, const struct tb_profile *p, uint32_t native)
{
	uint32_t tokens[32];
	size_t n;
	int r;

	r = tb_profile_filter_arches(p, tokens, TB_ARRAY_SIZE(tokens), &n, NULL);
	if (r < 0)
		return r;
	for (size_t i = 1; i < n; i++)
		if (tb_arch_is_compat_of(native, tokens[i]))
			add(b, TB_SEV_MEDIUM, "sub-arch-allowed", tb_arch_label(tokens[i]),
			    tb_arch_label(native), -1,
			    "list only the native architecture (archMap without subArchitectures): "
			    "tightbox then kills callers of any other ABI",
			    "%s syscalls are allowed on this %s host: a second syscall table (e.g. "
			    "int 0x80) with its own numbers that 64-bit workloads do not need and "
			    "filters often forget",
			    tb_arch_label(tokens[i]), tb_arch_label(native));
	return 0;
}

/*
 * Whether an ERRNO rule equal to the default still does something: it names an errno other than
 * EPERM that the default gives only through defaultErrnoRet. Consumers that ignore
 * defaultErrnoRet (the Security Profiles Operator's spec has no such field; runtimes before it
 * existed) then return EPERM for the default but still this rule's errno: the generator's
 * clone3 ENOSYS rule keeps glibc's fallback to clone there.
 */
static bool pins_errno(const struct tb_rule *r, const struct tb_profile *p)
{
	return r->action.kind == TB_ACT_ERRNO && r->action.has_value &&
	       p->default_action.has_value && tb_action_errno(&r->action) != EPERM;
}

static int check_names(struct builder *b, const struct tb_profile *p,
		       const struct tb_compile_opts *o, uint32_t native)
{
	struct list unknown = {0};
	char **seen = NULL;
	size_t n_seen = 0;
	int r = 0;

	/* Unknown names, once each, sorted. */
	for (size_t i = 0; i < p->n_rules; i++)
		for (size_t k = 0; k < p->rules[i].n_names; k++) {
			const char *name = p->rules[i].names[k];
			bool dup = false;

			if (seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR)
				continue;
			for (size_t j = 0; j < n_seen; j++)
				dup |= !strcmp(seen[j], name);
			if (dup)
				continue;
			char **nv = realloc(seen, (n_seen + 1) * sizeof(*nv));
			if (!nv) {
				free(seen);
				return -ENOMEM;
			}
			seen = nv;
			seen[n_seen++] = (char *)name;
		}
	if (n_seen) {
		qsort(seen, n_seen, sizeof(*seen), cmp_str);
		for (size_t j = 0; j < n_seen; j++)
			list_add(&unknown, seen[j]);
		add(b, TB_SEV_INFO, "unknown-name", "", "", -1,
		    "check the spelling; names newer than the installed libseccomp are skipped (as "
		    "Docker does)",
		    "%zu name%s unknown to libseccomp %u.%u.%u (skipped): %s", n_seen,
		    n_seen == 1 ? " is" : "s are", seccomp_version()->major,
		    seccomp_version()->minor, seccomp_version()->micro, unknown.buf);
	}
	free(seen);

	/* Duplicate, contradictory and no-effect rules among those that apply here. */
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct tb_rule *ri = &p->rules[i];
		int a = tb_profile_rule_applies(ri, o);

		if (a < 0)
			return a;
		if (!a)
			continue;
		if (ri->n_names && tb_action_equal(&ri->action, &p->default_action) &&
		    !pins_errno(ri, p)) {
			add(b, TB_SEV_INFO, "no-effect-rule", "", "", (long)i,
			    "remove the rule, or give it a different action",
			    "syscalls[%zu] has the default action %s: it changes nothing", i,
			    tb_action_name(ri->action.kind));
			continue;
		}
		if (ri->n_args)
			continue;
		for (size_t k = 0; k < ri->n_names; k++) {
			for (size_t j = 0; j < i; j++) {
				const struct tb_rule *rj = &p->rules[j];
				int aj;

				if (rj->n_args || !tb_rule_has_name(rj, ri->names[k]) ||
				    tb_action_equal(&rj->action, &p->default_action))
					continue;
				aj = tb_profile_rule_applies(rj, o);
				if (aj < 0)
					return aj;
				if (!aj)
					continue;
				if (tb_action_equal(&rj->action, &ri->action))
					add(b, TB_SEV_LOW, "duplicate-rule", ri->names[k], "", (long)i,
					    "list each name once",
					    "%s is in syscalls[%zu] and again in syscalls[%zu]",
					    ri->names[k], j, i);
				else
					add(b, TB_SEV_MEDIUM, "contradictory-rule", ri->names[k], "",
					    (long)i, "keep one action per name",
					    "%s is %s in syscalls[%zu] but %s in syscalls[%zu]; the first "
					    "wins",
					    ri->names[k], tb_action_name(rj->action.kind), j,
					    tb_action_name(ri->action.kind), i);
				break;
			}
			for (size_t j = k + 1; j < ri->n_names; j++)
				if (!strcmp(ri->names[j], ri->names[k]))
					add(b, TB_SEV_LOW, "duplicate-rule", ri->names[k], "", (long)i,
					    "list each name once", "%s is listed twice in syscalls[%zu]",
					    ri->names[k], i);
		}
	}

	/* Allowed names that exist on none of a listed host arch's ABIs. */
	for (size_t e = 0; e < p->n_arches; e++) {
		uint32_t host = tb_profile_arch_token(p->arches[e].arch), subs[8];
		const char *goarch = host ? tb_arch_by_token(host)->goarch : NULL;
		size_t n_subs = 0;
		struct list l = {0};
		char **sorted = NULL;
		size_t n_sorted = 0;

		if (!goarch || tb_arch_is_compat_of(native, host))
			continue;
		if (p->has_arch_map) {
			for (char **s = p->arches[e].sub_arches; s && *s && n_subs < 8; s++)
				if ((subs[n_subs] = tb_profile_arch_token(*s)))
					n_subs++;
		} else {
			for (size_t j = 0; j < p->n_arches && n_subs < 8; j++) {
				uint32_t t = tb_profile_arch_token(p->arches[j].arch);

				if (t && tb_arch_is_compat_of(host, t))
					subs[n_subs++] = t;
			}
		}
		for (size_t i = 0; i < p->n_rules && r >= 0; i++) {
			const struct tb_rule *ri = &p->rules[i];
			int a;

			if (!tb_action_allows(ri->action.kind))
				continue;
			a = tb_profile_rule_applies_on(ri, o, goarch);
			if (a < 0) {
				r = a;
				break;
			}
			if (!a)
				continue;
			for (size_t k = 0; k < ri->n_names; k++) {
				const char *name = ri->names[k];
				bool found = exists_on(host, name), dup = false;

				for (size_t j = 0; j < n_subs && !found; j++)
					found = exists_on(subs[j], name);
				if (found || seccomp_syscall_resolve_name(name) == __NR_SCMP_ERROR)
					continue;
				for (size_t j = 0; j < n_sorted; j++)
					dup |= !strcmp(sorted[j], name);
				if (dup)
					continue;
				char **nv = realloc(sorted, (n_sorted + 1) * sizeof(*nv));
				if (!nv) {
					r = -ENOMEM;
					break;
				}
				sorted = nv;
				sorted[n_sorted++] = (char *)name;
			}
		}
		if (r >= 0 && n_sorted) {
			qsort(sorted, n_sorted, sizeof(*sorted), cmp_str);
			for (size_t j = 0; j < n_sorted; j++)
				list_add(&l, sorted[j]);
			add(b, TB_SEV_LOW, "name-not-on-arch", tb_arch_label(host), tb_arch_label(host), -1,
			    "put arch-specific names in rules with includes.arches, and add the "
			    "replacements that arch uses (openat, newfstatat, ppoll, ...)",
			    "%zu allowed name%s not exist on %s (%s lists it), so its replacement "
			    "may be missing there: %s",
			    n_sorted, n_sorted == 1 ? " does" : "s do", tb_arch_label(host),
			    p->has_arch_map ? "archMap" : "architectures", l.buf);
		}
		free(sorted);
		if (r < 0)
			return r;
	}
	return 0;
}

static int arg_index(const char *key)
{
	if (key[0] == 'a' && key[1] >= '0' && key[1] <= '5' && key[2] == '\0')
		return key[1] - '0';
	return -1;
}

static int check_recordings(struct builder *b, const struct tb_profile *p,
			    const struct tb_compile_opts *o, const struct tb_audit_opts *ao,
			    uint32_t native)
{
	const char *arch = tb_arch_label(native);
	char e[48];

	for (size_t ri = 0; ri < ao->n_recordings; ri++) {
		const struct tb_rec_arch *ra = tb_recording_arch(ao->recordings[ri], arch);
		const char *rname = ao->recording_names ? ao->recording_names[ri] : "recording";

		if (!ra)
			continue;
		for (size_t i = 0; i < ra->n_syscalls; i++) {
			const struct tb_rec_syscall *sc = &ra->syscalls[i];
			const struct tb_rec_args *ra_args = NULL;
			struct status st;
			int r;

			for (size_t k = 0; k < ra->n_args; k++)
				if (!strcmp(ra->args[k].syscall, sc->name))
					ra_args = &ra->args[k];
			r = name_status(p, o, tb_profile_native_goarch(), sc->name, &st);
			if (r < 0)
				return r;
			if (allowed_kind(&st) == 0) {
				add(b, TB_SEV_HIGH, "workload-will-fail", sc->name, arch,
				    st.uncond_index, "allow it, or change the workload",
				    "%s: this workload will fail: %s (used %llu time%s) gets %s", rname,
				    sc->name, (unsigned long long)sc->count, sc->count == 1 ? "" : "s",
				    outcome(&st.action, e, sizeof(e)));
				continue;
			}
			if (allowed_kind(&st) != 2 || !ra_args)
				continue;
			/* Allowed for some values: check each recorded combination. */
			for (size_t v = 0; v < ra_args->n_vals; v++) {
				const struct tb_rec_argval *av = &ra_args->vals[v];
				uint64_t args[6] = {0};
				char desc[256] = "";
				size_t dl = 0;
				struct tb_action act;
				bool usable = true;

				for (size_t k = 0; k < av->n; k++) {
					int idx = arg_index(av->keys[k]);

					if (idx < 0) {
						usable = false;
						break;
					}
					args[idx] = av->values[k];
					if (dl < sizeof(desc))
						dl += (size_t)snprintf(desc + dl, sizeof(desc) - dl,
								       "%s%s=%#llx", k ? ", " : "",
								       av->keys[k],
								       (unsigned long long)av->values[k]);
				}
				if (!usable)
					continue;
				r = tb_audit_verdict(p, o, sc->name, args, &act);
				if (r < 0)
					return r;
				if (!tb_action_allows(act.kind))
					add(b, TB_SEV_HIGH, "workload-will-fail", sc->name, arch, -1,
					    "allow this argument value, or change the workload",
					    "%s: this workload will fail: %s(%s) (used %llu time%s) gets %s",
					    rname, sc->name, desc, (unsigned long long)av->count,
					    av->count == 1 ? "" : "s", outcome(&act, e, sizeof(e)));
			}
		}
	}
	return 0;
}

static int cmp_finding(const void *a, const void *b)
{
	const struct tb_finding *x = a, *y = b;
	int c;

	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	if ((c = strcmp(x->rule, y->rule)))
		return c;
	if ((c = strcmp(x->subject, y->subject)))
		return c;
	if ((c = strcmp(x->arch, y->arch)))
		return c;
	return strcmp(x->message, y->message);
}

void tb_audit_report_free(struct tb_audit_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_findings; i++) {
		free(r->findings[i].rule);
		free(r->findings[i].subject);
		free(r->findings[i].arch);
		free(r->findings[i].message);
		free(r->findings[i].fix);
	}
	free(r->findings);
	free(r);
}

static void report_freep(struct tb_audit_report **r)
{
	tb_audit_report_free(*r);
}

int tb_audit_run(const struct tb_profile *p, const struct tb_audit_opts *ao,
		 struct tb_audit_report **out)
{
	__attribute__((cleanup(report_freep))) struct tb_audit_report *rep = NULL;
	_cleanup_strv_ char **names = NULL;
	static const struct tb_audit_opts zero_aopts;
	uint32_t native = seccomp_arch_native();
	struct tb_compile_opts o = {0};
	struct builder b;
	struct counts c;
	size_t n_names;
	int r;

	if (!ao)
		ao = &zero_aopts;
	o.caps = ao->caps;
	o.kernel_release = ao->kernel_release;
	rep = calloc(1, sizeof(*rep));
	if (!rep)
		return -ENOMEM;
	b = (struct builder){.rep = rep};

	check_default(&b, p);
	r = check_dangerous(&b, p, &o, native);
	if (r >= 0)
		r = check_clone_socket_ioctl(&b, p, &o, native);
	if (r >= 0)
		r = check_fileless_exec(&b, p, &o, native);
	if (r >= 0)
		r = check_errno_fallback(&b, p, &o, native);
	if (r >= 0)
		r = check_essentials_python(&b, p, &o, native);
	if (r >= 0)
		r = check_shadowed(&b, p, &o, native);
	if (r >= 0)
		r = check_sub_arches(&b, p, native);
	if (r >= 0)
		r = check_names(&b, p, &o, native);
	if (r >= 0)
		r = check_recordings(&b, p, &o, ao, native);
	if (r < 0)
		return r;
	if (b.err)
		return b.err;

	r = arch_names(native, &names, &n_names);
	if (r < 0)
		return r;
	r = count_allowed(p, &o, native, names, &c);
	if (r < 0)
		return r;
	snprintf(rep->summary.arch, sizeof(rep->summary.arch), "%s", tb_arch_label(native));
	rep->summary.allowed = c.allowed;
	rep->summary.conditional = c.conditional;
	rep->summary.dangerous_allowed = c.dangerous;
	rep->summary.baseline_allowed = -1;
	if (ao->baseline) {
		r = count_allowed(ao->baseline, &o, native, names, &c);
		if (r < 0)
			return r;
		rep->summary.baseline_allowed = (long)c.allowed;
	}
	if (rep->n_findings) /* qsort(NULL, 0) is undefined behaviour */
		qsort(rep->findings, rep->n_findings, sizeof(*rep->findings), cmp_finding);
	*out = TB_TAKE_PTR(rep);
	return 0;
}
