/* SPDX-License-Identifier: Apache-2.0 */
/* The recording ceiling as a libseccomp filter (see ceiling.h for what it holds and why). */
#include "tracer/ceiling.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/personality.h>

#include "core/dangerous-args.h"
#include "core/dangerous.h"
#include "core/profile.h"
#include "core/util.h"
#include "tracer/ptrace-supervisor.h"

static void ctx_releasep(scmp_filter_ctx *c)
{
	if (*c)
		seccomp_release(*c);
}

/* A rule for @name on every arch of the filter that has it; a name no arch has is skipped. */
static int rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
		const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);
	int r;

	if (nr == __NR_SCMP_ERROR)
		return 0;
	r = seccomp_rule_add_array(ctx, action, nr, n, cmp);
	/* -EEXIST: the same rule twice; -EDOM/-EFAULT: no arch of the filter has the name. */
	return r == -EEXIST || r == -EDOM || r == -EFAULT ? 0 : r;
}

/*
 * The ceiling beyond the dangerous names, as data: the libseccomp rules and tb_ceiling_refuses()
 * are both read from it. A call matches an entry when every condition holds:
 * (args[arg] & mask) == value, and (args[arg] & mask2) != except when mask2 is set.
 */
struct cond {
	int8_t arg;
	uint64_t mask, value;
	uint64_t mask2, except;
};

static const struct {
	const char *name;
	unsigned part;
	unsigned n;
	struct cond c[2];
} extras[] = {
	/* READ_IMPLIES_EXEC makes every readable mapping executable; 0xffffffff only queries. */
	{"personality", TB_CEILING_DANGEROUS, 1,
	 {{0, READ_IMPLIES_EXEC, READ_IMPLIES_EXEC, 0xffffffffu, 0xffffffffu}}},
	{"memfd_create", TB_CEILING_DANGEROUS, 0, {{0}}},
	{"execveat", TB_CEILING_DANGEROUS, 1, {{4, AT_EMPTY_PATH, AT_EMPTY_PATH, 0, 0}}},
	{"seccomp", TB_CEILING_LISTENER, 2,
	 {{0, ~0ull, SECCOMP_SET_MODE_FILTER, 0, 0},
	  {1, SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FILTER_FLAG_NEW_LISTENER, 0, 0}}},
};

/* Dangerous names the ceiling refuses outright: all but those with an entry in extras[]. */
static bool refused_name(const char *name)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(extras); i++)
		if (!strcmp(extras[i].name, name))
			return false;
	return tb_dangerous_lookup(name) != NULL;
}

/* clone() with a namespace flag (core/dangerous-args.c), as `run`'s profiles refuse it. */
static bool clone_ns(const char *name, const uint64_t args[6])
{
	const struct tb_dangerous_arg *d = tb_dangerous_arg_match(name, args);

	return d && d->kind == TB_DARG_CLONE_NS;
}

bool tb_ceiling_refuses(unsigned parts, const char *name, const uint64_t args[6])
{
	if ((parts & TB_CEILING_DANGEROUS) && (refused_name(name) || clone_ns(name, args)))
		return true;
	for (size_t i = 0; i < TB_ARRAY_SIZE(extras); i++) {
		bool match = (parts & extras[i].part) && !strcmp(extras[i].name, name);

		for (unsigned k = 0; match && k < extras[i].n; k++) {
			const struct cond *c = &extras[i].c[k];
			uint64_t a = args[c->arg];

			match = (a & c->mask) == c->value && !(c->mask2 && (a & c->mask2) == c->except);
		}
		if (match)
			return true;
	}
	return false;
}

int tb_ceiling_each_name(unsigned parts, int (*fn)(const char *name, void *data), void *data)
{
	const struct tb_dangerous *t;
	const struct tb_dangerous_arg *da;
	size_t n;
	int r;

	t = tb_dangerous_table(&n);
	for (size_t i = 0; (parts & TB_CEILING_DANGEROUS) && i < n; i++)
		if (refused_name(t[i].name) && (r = fn(t[i].name, data)) < 0)
			return r;
	for (size_t i = 0; i < TB_ARRAY_SIZE(extras); i++)
		if ((parts & extras[i].part) && (r = fn(extras[i].name, data)) < 0)
			return r;
	da = tb_dangerous_args(&n);
	for (size_t i = 0; (parts & TB_CEILING_DANGEROUS) && i < n; i++)
		if (da[i].kind == TB_DARG_CLONE_NS && (r = fn(da[i].syscall, data)) < 0)
			return r;
	return 0;
}

/*
 * One entry as rules. libseccomp takes one comparison per argument and rule, so an "except"
 * becomes one rule per bit of mask2 outside mask: the value matches and that bit is clear (any
 * value unequal to except has such a bit, as except = mask2 here).
 */
static int add_extra(scmp_filter_ctx ctx, uint32_t deny, size_t i)
{
	struct scmp_arg_cmp cmp[2];
	const struct cond *ex = NULL;

	for (unsigned k = 0; k < extras[i].n; k++) {
		const struct cond *c = &extras[i].c[k];

		cmp[k] = (struct scmp_arg_cmp){(unsigned)c->arg, SCMP_CMP_MASKED_EQ, c->mask, c->value};
		if (c->mask2)
			ex = c;
	}
	if (!ex)
		return rule(ctx, deny, extras[i].name, extras[i].n, cmp);
	for (unsigned b = 0; b < 64; b++) {
		uint64_t bit = 1ull << b;
		int r;

		if (!(ex->mask2 & bit) || (ex->mask & bit))
			continue;
		cmp[ex - extras[i].c].datum_a = ex->mask | bit;
		if ((r = rule(ctx, deny, extras[i].name, extras[i].n, cmp)) < 0)
			return r;
	}
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, uint32_t deny, unsigned parts)
{
	const struct tb_dangerous *t;
	size_t n;
	int r;

	t = tb_dangerous_table(&n);
	for (size_t i = 0; (parts & TB_CEILING_DANGEROUS) && i < n; i++)
		if (refused_name(t[i].name) && (r = rule(ctx, deny, t[i].name, 0, NULL)) < 0)
			return r;
	for (size_t i = 0; i < TB_ARRAY_SIZE(extras); i++)
		if ((parts & extras[i].part) && (r = add_extra(ctx, deny, i)) < 0)
			return r;
	if (parts & TB_CEILING_DANGEROUS) {
		const struct tb_dangerous_arg *da = tb_dangerous_args(&n);

		for (size_t i = 0; i < n; i++) {
			struct scmp_arg_cmp cmp = {da[i].index, SCMP_CMP_MASKED_EQ, da[i].mask,
						   da[i].value};

			if (da[i].kind == TB_DARG_CLONE_NS &&
			    (r = rule(ctx, deny, da[i].syscall, 1, &cmp)) < 0)
				return r;
		}
	}
	return 0;
}

int tb_ceiling_filter(uint32_t def, uint32_t deny, unsigned parts,
		      int (*more)(void *ctx, void *arg), void *arg, struct sock_fprog *prog)
{
	__attribute__((cleanup(ctx_releasep))) scmp_filter_ctx ctx = seccomp_init(def);
	int r;

	if (!ctx)
		return -ENOMEM;
	/* The runner sets no_new_privs itself; the filter only adds rules. */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0)
		return r;
	for (size_t a = 0; a < tb_sv_n_arch(); a++) {
		r = seccomp_arch_add(ctx, tb_sv_arch((int)a)->token);
		if (r < 0 && r != -EEXIST)
			return r;
	}
	if (more && (r = more(ctx, arg)) < 0)
		return r;
	if ((r = add_rules(ctx, deny, parts)) < 0)
		return r;
	return tb_profile_export_bpf(ctx, prog);
}
