/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage 1 of `tightbox generate`: recordings -> the model (per-arch allowed names with the
 * workloads that needed them, argument values seen, file activity).
 */
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "core/dangerous-args.h"
#include "core/dangerous.h"
#include "core/util.h"
#include "generator/internal.h"

static bool is_sub_arch(const struct tb_arch *a)
{
	/* Compat personalities of a 64-bit arch: their recorded syscalls are not mapped elsewhere.
	 */
	return a->parent != NULL;
}

struct tb_gen_name *tb_gen_model_find(const struct tb_gen_model *m, const char *name)
{
	size_t lo = 0, hi = m->n_names;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, m->names[mid].name);

		if (c == 0)
			return &m->names[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int add_name(struct tb_gen_model *m, const char *name, size_t arch, char *const *workloads,
		    unsigned why)
{
	struct tb_gen_name *e = tb_gen_model_find(m, name);
	int r;

	if (!e) {
		size_t at = 0;
		struct tb_gen_name *nn;

		while (at < m->n_names && strcmp(m->names[at].name, name) < 0)
			at++;
		nn = realloc(m->names, (m->n_names + 1) * sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		m->names = nn;
		memmove(&nn[at + 1], &nn[at], (m->n_names - at) * sizeof(*nn));
		memset(&nn[at], 0, sizeof(*nn));
		nn[at].name = strdup(name);
		m->n_names++;
		if (!nn[at].name)
			return -ENOMEM;
		e = &nn[at];
	}
	e->arch_mask |= 1u << arch;
	e->why |= why;
	for (size_t i = 0; workloads && workloads[i]; i++) {
		r = tb_strv_add_sorted(&e->workloads, workloads[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_static(struct tb_gen_model *m, const char *name, size_t arch, const char *why)
{
	struct tb_gen_name *e;
	int r = add_name(m, name, arch, NULL, TB_WHY_STATIC);

	if (r < 0)
		return r;
	e = tb_gen_model_find(m, name);
	if (!e->static_why && why && !(e->static_why = strdup(why)))
		return -ENOMEM;
	return 0;
}

static int u64set_add(struct tb_u64set *s, uint64_t v)
{
	size_t at = 0;
	uint64_t *nv;

	while (at < s->n && s->v[at] < v)
		at++;
	if (at < s->n && s->v[at] == v)
		return 0;
	nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	memmove(&nv[at + 1], &nv[at], (s->n - at) * sizeof(*nv));
	nv[at] = v;
	s->v = nv;
	s->n++;
	return 0;
}

bool tb_gen_model_has_arch(const struct tb_gen_model *m, const char *arch)
{
	for (size_t i = 0; i < m->n_arches; i++)
		if (!strcmp(m->arches[i].name, arch))
			return true;
	return false;
}

bool tb_u64set_has(const struct tb_u64set *s, uint64_t v)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == v)
			return true;
	return false;
}

static bool resolves(const struct tb_arch *a, const char *name)
{
	return seccomp_syscall_resolve_name_arch(a->token, name) >= 0;
}

static int set_arches(struct tb_gen_model *m, const struct tb_gen_opts *o, struct tb_diag *diag)
{
	if (o->n_arches == 0) {
		const struct tb_arch *n = tb_arch_native();

		if (!n) {
			tb_diag_set(diag, "--arch", 0, 0, NULL, "unsupported native architecture");
			return -EINVAL;
		}
		m->arches[m->n_arches++] = *n;
		return 0;
	}
	for (size_t i = 0; i < o->n_arches && i < TB_GEN_MAX_ARCHES; i++) {
		const struct tb_arch *a = tb_gen_arch_lookup(o->arches[i]);
		bool dup = false;

		if (!a) {
			tb_diag_set(
			    diag, "--arch", 0, 0, NULL,
			    "unknown architecture '%s' (expected x86_64, aarch64, x86, x32, arm, "
			    "riscv64, ppc64le, s390x, s390)",
			    o->arches[i]);
			return -EINVAL;
		}
		for (size_t j = 0; j < m->n_arches; j++)
			dup |= m->arches[j].token == a->token;
		if (!dup)
			m->arches[m->n_arches++] = *a;
	}
	/* A compat arch next to its parent is a sub-architecture of the parent's archMap entry:
	 * docker and podman evaluate includes.arches against the host's Go arch, the parent's. */
	for (size_t i = 0; i < m->n_arches; i++)
		for (size_t j = 0; m->arches[i].parent && j < m->n_arches; j++)
			if (!strcmp(m->arches[j].name, m->arches[i].parent))
				m->arches[i].goarch = m->arches[j].goarch;
	return 0;
}

static int target_index(const struct tb_gen_model *m, const char *arch)
{
	const struct tb_arch *a = tb_gen_arch_lookup(arch);

	for (size_t i = 0; a && i < m->n_arches; i++)
		if (m->arches[i].token == a->token)
			return (int)i;
	return -1;
}

static int check_input(const struct tb_gen_model *m, const struct tb_gen_input *in,
		       struct tb_diag *diag)
{
	const struct tb_recording *r = in->rec;
	size_t total = 0;

	for (size_t i = 0; i < r->n_arches; i++)
		total += r->arches[i].n_syscalls;
	if (total == 0) {
		tb_diag_set(diag, in->path, 0, 0, "syscalls",
			    "the recording has no syscalls (was the command run at all?)");
		return -EINVAL;
	}
	/* The arch the recorder ran on decides what the recorded names mean. */
	for (size_t i = 0; i < (r->n_sources ? r->n_sources : 1); i++) {
		const char *arch = r->n_sources ? r->sources[i].arch : r->prov.arch;

		if (!arch || !tb_gen_arch_lookup(arch)) {
			tb_diag_set(diag, in->path, 0, 0, "provenance.arch",
				    "unknown recording architecture '%s'", arch ? arch : "(none)");
			return -EINVAL;
		}
		if (target_index(m, arch) < 0) {
			tb_diag_set(
			    diag, in->path, 0, 0, "provenance.arch",
			    "recorded on %s but generating for %s only: pass --arch %s,%s to map "
			    "it",
			    arch, m->arches[0].name, m->arches[0].name, arch);
			return -EINVAL;
		}
	}
	return 0;
}

static int map_name_checked(struct tb_gen_model *m, const struct tb_arch *src, size_t t,
			    const struct tb_rec_syscall *s)
{
	const struct tb_arch *dst = &m->arches[t];
	const char *const *eq;
	const char *why;
	bool any = false;

	if (!strncmp(s->name, "__nr_", 5))
		return tb_strv_addf(&m->notes,
				    "%s: syscall %s has no name in libseccomp: not allowed",
				    src->name, s->name);
	if (resolves(dst, s->name))
		return add_name(m, s->name, t, s->workloads,
				src->token == dst->token ? TB_WHY_RECORDED : TB_WHY_MAPPED);
	if (src->token == dst->token)
		return tb_strv_addf(&m->notes,
				    "%s: recorded syscall %s is unknown to libseccomp: "
				    "not allowed",
				    src->name, s->name);
	eq = tb_gen_arch_equivalents(s->name, &why);
	for (size_t i = 0; eq && eq[i]; i++)
		if (resolves(dst, eq[i])) {
			int r = add_name(m, eq[i], t, s->workloads, TB_WHY_MAPPED);

			if (r < 0)
				return r;
			any = true;
		}
	if (!any)
		return tb_strv_addf(&m->notes, "%s: no equivalent of %s's %s%s%s", dst->name,
				    src->name, s->name, why ? ": " : "", why ? why : "");
	return 0;
}

/*
 * What a recording alone never allows (issue: a hostile workload shapes its own recording):
 * fileless exec (memfd_create, execveat), installing seccomp filters, READ_IMPLIES_EXEC and the
 * kernel-facing socket families of core/dangerous-args.c. Each needs `--allow-risky TOKEN`.
 * NETLINK_ROUTE is the exception: getaddrinfo and if_nameindex need it, and without
 * CAP_NET_ADMIN it reads the sandbox's own network namespace only.
 */
static const char *const risky_names[] = {"memfd_create", "execveat", "seccomp"};

const char *const *tb_gen_risky_tokens(void)
{
	static const char *const tokens[] = {"memfd_create", "execveat",  "seccomp",  "personality",
					     "AF_KEY",	     "AF_NETLINK", "AF_PACKET", "AF_ALG",
					     "AF_VSOCK",     "AF_XDP",	   NULL};
	return tokens;
}

static bool risky_allowed(const struct tb_gen_model *m, const char *token)
{
	return m->opts && m->opts->allow_risky && tb_strv_has(m->opts->allow_risky, token);
}

static int risky_note(struct tb_gen_model *m, const char *what, const char *token, const char *why)
{
	char *const *have = m->notes;

	for (size_t i = 0; have && have[i]; i++)
		if (strstr(have[i], what) && strstr(have[i], "--allow-risky"))
			return 0;
	return tb_strv_addf(&m->notes, "recorded but not allowed without --allow-risky %s: %s (%s)",
			    token, what, why);
}

static int map_name(struct tb_gen_model *m, const struct tb_arch *src, size_t t,
		    const struct tb_rec_syscall *s)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(risky_names); i++)
		if (!strcmp(s->name, risky_names[i]) && !risky_allowed(m, s->name))
			return risky_note(m, s->name, s->name,
					  !strcmp(s->name, "seccomp") ? "a workload's own filter"
								      : "fileless exec");
	return map_name_checked(m, src, t, s);
}

/* Whether a recorded argument value is kept out of the policy (see risky_names above): 1 when it
 * is (and noted), 0 when it may shape the policy, -ENOMEM. */
static int value_refused(struct tb_gen_model *m, const char *syscall, uint64_t v,
			 const struct tb_rec_argval *x)
{
	const struct tb_dangerous_arg *d;
	size_t n;

	if (!strcmp(syscall, "personality")) {
		/* 0xffffffff only queries the persona. */
		if (v == 0xffffffffu || !(v & 0x0400000u) || risky_allowed(m, "personality"))
			return 0;
		return risky_note(m, "personality(READ_IMPLIES_EXEC)", "personality",
				  "every readable mapping executable") < 0 ? -ENOMEM : 1;
	}
	if (strcmp(syscall, "socket"))
		return 0;
	d = tb_dangerous_args(&n);
	for (size_t i = 0; i < n; i++) {
		if (d[i].kind != TB_DARG_SOCKET_FAMILY || d[i].value != v ||
		    risky_allowed(m, d[i].name))
			continue;
		/* AF_NETLINK with NETLINK_ROUTE (a2 == 0) is kept; collect_args drops the rest. */
		for (size_t k = 0; v == 16 && k < x->n; k++)
			if (!strcmp(x->keys[k], "a2") && x->values[k] == 0)
				return 0;
		return risky_note(m, d[i].name, d[i].name, d[i].reason) < 0 ? -ENOMEM : 1;
	}
	return 0;
}

static int collect_args(struct tb_gen_model *m, const struct tb_rec_arch *a)
{
	for (size_t i = 0; i < a->n_args; i++) {
		const struct tb_rec_args *x = &a->args[i];
		struct tb_u64set *set = NULL;
		const char *key = "a0";
		bool *seen = NULL;
		uint64_t mask = UINT64_MAX;

		if (!strcmp(x->syscall, "socket")) {
			set = &m->socket_domains, seen = &m->seen_args_socket;
		} else if (!strcmp(x->syscall, "personality")) {
			set = &m->personality, seen = &m->seen_args_personality;
		} else if (!strcmp(x->syscall, "ioctl")) {
			/* The kernel reads the request as an unsigned int. */
			set = &m->ioctl_cmds, seen = &m->seen_args_ioctl, key = "a1";
			mask = 0xffffffffu;
		} else if (!strcmp(x->syscall, "prctl")) {
			set = &m->prctl_opts, seen = &m->seen_args_prctl;
		} else {
			continue;
		}
		for (size_t j = 0; set == &m->socket_domains && j < x->n_vals; j++) {
			/* AF_NETLINK is allowed only for the protocols recorded with it (a2). */
			bool netlink = false;

			for (size_t k = 0; k < x->vals[j].n; k++)
				netlink |= !strcmp(x->vals[j].keys[k], "a0") && x->vals[j].values[k] == 16;
			for (size_t k = 0; netlink && k < x->vals[j].n; k++)
				if (!strcmp(x->vals[j].keys[k], "a2") &&
				    (x->vals[j].values[k] == 0 || risky_allowed(m, "AF_NETLINK"))) {
					int r = u64set_add(&m->netlink_protocols, x->vals[j].values[k]);

					if (r < 0)
						return r;
				}
		}
		for (size_t j = 0; j < x->n_vals; j++)
			for (size_t k = 0; k < x->vals[j].n; k++)
				if (!strcmp(x->vals[j].keys[k], key)) {
					int r = value_refused(m, x->syscall, x->vals[j].values[k],
							      &x->vals[j]);

					if (r == 0)
						r = u64set_add(set, x->vals[j].values[k] & mask);
					if (r < 0)
						return r;
					*seen = true;
				}
	}
	return 0;
}

static int add_fixed(struct tb_gen_model *m, const char *const *names, unsigned why,
		     char *const *workloads)
{
	for (size_t t = 0; t < m->n_arches; t++)
		for (size_t i = 0; names[i]; i++)
			if (resolves(&m->arches[t], names[i])) {
				int r = add_name(m, names[i], t, workloads, why);

				if (r < 0)
					return r;
			}
	return 0;
}

static int add_workloads(struct tb_gen_model *m, const struct tb_recording *r)
{
	int ret = 0;

	if (r->n_sources == 0 && r->prov.workload)
		ret = tb_strv_add_sorted(&m->workloads, r->prov.workload);
	for (size_t i = 0; ret == 0 && i < r->n_sources; i++)
		if (r->sources[i].workload)
			ret = tb_strv_add_sorted(&m->workloads, r->sources[i].workload);
	return ret;
}

/*
 * Names a scan alone never allows, only a recording: they undo another layer of the sandbox or
 * open a channel no Python workload of the corpus uses, so "some library imports it" is not
 * reason enough. memfd_create: an executable file outside every mount, past /tmp's noexec and
 * Landlock's execute right (fileless exec). SysV IPC (libcrypto and libdb import shmget): the
 * sandbox has its own IPC namespace, but multiprocessing uses POSIX shared memory in /dev/shm.
 */
static const char *const static_never[] = {
	"memfd_create", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop",
	"semtimedop", "shmat", "shmctl", "shmdt", "shmget",
};

static bool static_refused(const char *name)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(static_never); i++)
		if (!strcmp(static_never[i], name))
			return true;
	return false;
}

/* Statically reachable names, mapped to each target arch as a recording of the scan's arch would
 * be; each keeps its first provenance for the rule's comment. */
static int add_statics(struct tb_gen_model *m, const struct tb_gen_opts *o, struct tb_diag *diag)
{
	const struct tb_arch *src;
	unsigned want;

	if (o->static_mode == TB_GEN_STATIC_NONE || !o->n_statics)
		return 0;
	want = o->static_mode == TB_GEN_STATIC_ALL ? ~0u : 1u; /* 1: TB_SCAN_VIA_IMPORT */
	src = o->static_arch ? tb_gen_arch_lookup(o->static_arch) : NULL;
	if (!src || target_index(m, o->static_arch) < 0) {
		tb_diag_set(diag, o->static_source, 0, 0, "provenance.arch",
			    "scanned on %s but generating for %s only: pass --arch %s,%s",
			    o->static_arch ? o->static_arch : "(none)", m->arches[0].name,
			    m->arches[0].name, o->static_arch ? o->static_arch : "ARCH");
		return -EINVAL;
	}
	for (size_t i = 0; i < o->n_statics; i++) {
		const struct tb_gen_static_name *x = &o->statics[i];
		struct tb_rec_syscall sc = {.name = (char *)x->name};

		if (!(x->via & want))
			continue;
		if (static_refused(x->name)) {
			int r = tb_strv_addf(&m->notes,
					     "statically reachable but allowed only when recorded: %s (%s)",
					     x->name, x->why ? x->why : "scan");

			if (r < 0)
				return r;
			continue;
		}
		for (size_t t = 0; t < m->n_arches; t++) {
			const struct tb_arch *dst = &m->arches[t];
			const char *const *eq;
			const char *why;
			int r;

			if (src->token != dst->token && (is_sub_arch(src) || is_sub_arch(dst)))
				continue;
			if (resolves(dst, x->name)) {
				r = add_static(m, x->name, t, x->why);
			} else if (src->token == dst->token) {
				continue; /* libseccomp does not know it here: nothing to allow */
			} else {
				r = 0;
				eq = tb_gen_arch_equivalents(sc.name, &why);
				for (size_t k = 0; eq && eq[k] && r == 0; k++)
					if (resolves(dst, eq[k]))
						r = add_static(m, eq[k], t, x->why);
			}
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/*
 * Legacy forms of allowed calls: on an arch that has both, open/creat do what openat does, stat
 * what newfstatat does, fork what clone without namespace flags does (arch-map.c's table read in
 * reverse). Allowing them adds no kernel surface, and programs built against older libcs or with
 * their own syscall layer (GNU tar calls creat) use them.
 */
static int add_legacy_forms(struct tb_gen_model *m)
{
	for (size_t t = 0; t < m->n_arches; t++) {
		uint32_t base = m->arches[t].token == SCMP_ARCH_X32 ? 0x40000000u : 0;

		for (int nr = 0; nr < 1024; nr++) {
			char *name = seccomp_syscall_resolve_num_arch(m->arches[t].token,
								      (int)(base + (uint32_t)nr));
			const char *const *eq;
			const char *why;
			struct tb_gen_name *have;
			bool any = false;
			int r = 0;

			if (!name)
				continue;
			have = tb_gen_model_find(m, name);
			eq = tb_gen_arch_equivalents(name, &why);
			for (size_t k = 0; eq && eq[k] && !any; k++) {
				const struct tb_gen_name *e = tb_gen_model_find(m, eq[k]);

				any = e && (e->arch_mask & (1u << t)) && !tb_dangerous_lookup(eq[k]);
			}
			if (any && !tb_dangerous_lookup(name) && !(have && (have->arch_mask & (1u << t))))
				r = add_name(m, name, t, NULL, TB_WHY_LEGACY);
			free(name);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int tb_gen_model_build(struct tb_gen_model *m, const struct tb_gen_input *in, size_t n,
		       const struct tb_gen_opts *o, struct tb_diag *diag)
{
	_cleanup_free_ const struct tb_recording **recs = NULL;
	struct tb_recording *merged = NULL;
	const char *how;
	int r;

	memset(m, 0, sizeof(*m));
	m->opts = o;
	m->profile_name = o->name ? o->name : "tightbox-sandbox";
	r = set_arches(m, o, diag);
	if (r < 0)
		return r;
	if (n == 0) {
		tb_diag_set(diag, NULL, 0, 0, NULL, "no recordings given");
		return -EINVAL;
	}
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized by its element */
	recs = calloc(n, sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r = check_input(m, &in[i], diag);
		if (r < 0)
			return r;
		r = add_workloads(m, in[i].rec);
		if (r < 0)
			return r;
		recs[i] = in[i].rec;
	}
	r = tb_recording_merge(recs, n, &merged);
	if (r < 0) {
		tb_diag_set(diag, in[0].path, 0, 0, NULL, "cannot merge the recordings: %s",
			    strerror(-r));
		return r;
	}
	m->merged = merged;

	for (size_t i = 0; i < merged->n_arches; i++) {
		const struct tb_rec_arch *sa = &merged->arches[i];
		const struct tb_arch *src = tb_gen_arch_lookup(sa->name);
		bool used = false;

		if (!src) {
			r = tb_strv_addf(&m->notes,
					 "%s: unknown architecture in the recording: %zu "
					 "syscalls ignored",
					 sa->name, sa->n_syscalls);
			if (r < 0)
				return r;
			continue;
		}
		for (size_t t = 0; t < m->n_arches; t++) {
			const struct tb_arch *dst = &m->arches[t];

			/* Compat-mode syscalls (int 0x80 on x86_64) only count for that very arch.
			 */
			if (src->token != dst->token && (is_sub_arch(src) || is_sub_arch(dst)))
				continue;
			used = true;
			for (size_t k = 0; k < sa->n_syscalls; k++) {
				r = map_name(m, src, t, &sa->syscalls[k]);
				if (r < 0)
					return r;
			}
		}
		if (!used) {
			r = tb_strv_addf(&m->notes,
					 "%s: %zu syscalls recorded for this non-targeted "
					 "arch are denied (the filter kills other arches)",
					 src->name, sa->n_syscalls);
			if (r < 0)
				return r;
		}
		r = collect_args(m, sa);
		if (r < 0)
			return r;
	}
	r = add_statics(m, o, diag);
	if (r < 0)
		return r;
	r = add_fixed(m, tb_gen_baseline(), TB_WHY_BASELINE, NULL);
	if (r < 0)
		return r;
	for (int rt = TB_GEN_RUNTIME_TIGHTBOX; rt <= TB_GEN_RUNTIME_RUNC; rt++) {
		if (!(tb_gen_runtimes(o) & TB_GEN_RUNTIME_BIT(rt)))
			continue;
		r = add_fixed(m, tb_gen_prelude((enum tb_gen_runtime)rt, &how), TB_WHY_PRELUDE,
			      NULL);
		if (r < 0)
			return r;
	}
	/* glibc tries clone3 first and falls back to clone only when clone3 says ENOSYS. */
	{
		struct tb_gen_name *c3 = tb_gen_model_find(m, "clone3");

		if (c3) {
			_cleanup_free_ char **wl = NULL;
			unsigned mask = c3->arch_mask;

			wl = malloc((tb_strv_len(c3->workloads) + 1) * sizeof(*wl));
			if (!wl)
				return -ENOMEM;
			memcpy(wl, c3->workloads ? c3->workloads : (char *[]){NULL},
			       (tb_strv_len(c3->workloads) + 1) * sizeof(*wl));
			for (size_t t = 0; t < m->n_arches; t++)
				if ((mask & (1u << t)) && resolves(&m->arches[t], "clone")) {
					r = add_name(m, "clone", t, wl, TB_WHY_FALLBACK);
					if (r < 0)
						return r;
				}
		}
	}
	return add_legacy_forms(m);
}

void tb_gen_model_clear(struct tb_gen_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_names; i++) {
		free(m->names[i].name);
		free(m->names[i].static_why);
		tb_strv_free(m->names[i].workloads);
	}
	free(m->names);
	free(m->socket_domains.v);
	free(m->netlink_protocols.v);
	free(m->personality.v);
	free(m->ioctl_cmds.v);
	free(m->prctl_opts.v);
	tb_recording_free((struct tb_recording *)m->merged);
	tb_strv_free(m->workloads);
	tb_strv_free(m->notes);
	memset(m, 0, sizeof(*m));
}
