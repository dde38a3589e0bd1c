/* SPDX-License-Identifier: Apache-2.0 */
/* The recording ceiling as a libseccomp filter (see ceiling.h for what it holds and why). */
#include "tracer/ceiling.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/personality.h>

#include "core/dangerous.h"
#include "core/profile.h"
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

static int add_dangerous(scmp_filter_ctx ctx, uint32_t deny)
{
	const struct tb_dangerous *t;
	size_t n;
	int r;

	t = tb_dangerous_table(&n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, "personality") && (r = rule(ctx, deny, t[i].name, 0, NULL)) < 0)
			return r;
	/*
	 * personality(p) with READ_IMPLIES_EXEC, except the 0xffffffff query. libseccomp takes one
	 * comparison per argument and rule, so: the bit set and any one other low bit clear.
	 */
	for (unsigned b = 0; b < 32; b++) {
		uint64_t mask = (uint64_t)READ_IMPLIES_EXEC | (1ull << b);
		struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_MASKED_EQ, mask, READ_IMPLIES_EXEC);

		if (b != 22 && (r = rule(ctx, deny, "personality", 1, &c)) < 0)
			return r;
	}
	if ((r = rule(ctx, deny, "memfd_create", 0, NULL)) < 0)
		return r;
	{
		struct scmp_arg_cmp c = SCMP_A4(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH);

		return rule(ctx, deny, "execveat", 1, &c);
	}
}

static int add_listener(scmp_filter_ctx ctx, uint32_t deny)
{
	struct scmp_arg_cmp c[2] = {
		SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER),
		SCMP_A1(SCMP_CMP_MASKED_EQ, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			SECCOMP_FILTER_FLAG_NEW_LISTENER),
	};

	return rule(ctx, deny, "seccomp", 2, c);
}

int tb_ceiling_filter(uint32_t def, uint32_t deny, unsigned parts, struct sock_fprog *prog)
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
	if ((parts & TB_CEILING_DANGEROUS) && (r = add_dangerous(ctx, deny)) < 0)
		return r;
	if ((parts & TB_CEILING_LISTENER) && (r = add_listener(ctx, deny)) < 0)
		return r;
	return tb_profile_export_bpf(ctx, prog);
}
