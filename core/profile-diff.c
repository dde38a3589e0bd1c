/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Profile comparison. Each syscall of the native arch (and every name either profile lists) is
 * described by what the filter would do with it: an applicable unconditional rule (which replaces
 * the name's argument rules under libseccomp), else its argument rules and the default action. Two profiles differ where the descriptions do.
 */
#include "core/profile-diff.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arch.h"
#include "core/strv.h"
#include "core/util.h"

const char *tb_diff_kind_name(enum tb_diff_kind k)
{
	static const char *const names[] = {"only-a", "only-b", "action", "args", "arch"};

	return (size_t)k < TB_ARRAY_SIZE(names) ? names[k] : "unknown";
}

/* "allow", "kill-process", "errno EPERM": the profile's action name (tb_action_name) without
 * SCMP_ACT_, in lower case with dashes, and the errno of ERRNO and TRACE. */
static void action_text(const struct tb_action *a, char *buf, size_t n)
{
	const char *name = tb_action_name(a->kind) + strlen("SCMP_ACT_");
	uint32_t err = tb_action_errno(a);
	const char *e = err < 4096 ? strerrorname_np((int)err) : NULL;
	size_t len = 0;

	for (; name[len] && len + 1 < n; len++)
		buf[len] = name[len] == '_' ? '-' : (char)tolower((unsigned char)name[len]);
	buf[len] = '\0';
	if (a->kind != TB_ACT_ERRNO && a->kind != TB_ACT_TRACE)
		return;
	if (e)
		snprintf(buf + len, n - len, " %s", e);
	else
		snprintf(buf + len, n - len, " %u", err);
}

static const char *op_symbol(enum tb_arg_op op)
{
	static const char *const s[] = {"!=", "<", "<=", "==", ">=", ">", "&"};

	return (size_t)op < TB_ARRAY_SIZE(s) ? s[op] : "?";
}

static size_t append(char *buf, size_t n, size_t len, const char *s)
{
	if (len < n)
		len += (size_t)snprintf(buf + len, n - len, "%s", s);
	return len;
}

/* "a0&0x7e020000==0x0 && a1==0x2" for one rule (" || " when runc splits it). */
static size_t rule_args_text(const struct tb_rule *r, char *buf, size_t n, size_t len)
{
	unsigned per_index[6] = {0};
	bool separate = false;
	char one[96];

	for (size_t i = 0; i < r->n_args; i++)
		if (++per_index[r->args[i].index] > 1)
			separate = true;
	for (size_t i = 0; i < r->n_args; i++) {
		const struct tb_arg *a = &r->args[i];

		if (a->op == TB_OP_MASKED_EQ)
			snprintf(one, sizeof(one), "a%u&%#" PRIx64 "==%#" PRIx64, a->index, a->value,
				 a->value_two);
		else
			snprintf(one, sizeof(one), "a%u%s%#" PRIx64, a->index, op_symbol(a->op),
				 a->value);
		if (i)
			len = append(buf, n, len, separate ? " || " : " && ");
		len = append(buf, n, len, one);
	}
	return len;
}

/*
 * Describes what the compiled filter does with @name under @p into @buf: libseccomp lets an
 * unconditional rule replace every conditional rule of the same syscall wherever it stands, so an
 * unconditional rule is the whole effective rule ("allow (syscalls[12], unconditional: replaces 8
 * argument rules)"); otherwise the argument rules in order, then the default. *@allowed says
 * whether any call of it can pass.
 */
static int describe(const struct tb_profile *p, const struct tb_compile_opts *o, const char *name,
		    char *buf, size_t n, bool *allowed)
{
	struct tb_action final = p->default_action;
	char act[64], more[128];
	size_t len = 0, n_cond = 0;
	long uncond = -1;
	bool any_cond_allow = false;

	buf[0] = '\0';
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct tb_rule *r = &p->rules[i];
		int a;

		if (!tb_rule_has_name(r, name) || tb_action_equal(&r->action, &p->default_action))
			continue;
		a = tb_profile_rule_applies(r, o);
		if (a < 0)
			return a;
		if (!a)
			continue;
		if (r->n_args == 0) {
			if (uncond < 0) {
				uncond = (long)i;
				final = r->action;
			}
			continue;
		}
		n_cond++;
		if (uncond >= 0)
			continue;
		action_text(&r->action, act, sizeof(act));
		len = append(buf, n, len, act);
		len = append(buf, n, len, " if ");
		len = rule_args_text(r, buf, n, len);
		len = append(buf, n, len, "; ");
		any_cond_allow |= tb_action_allows(r->action.kind);
	}
	action_text(&final, act, sizeof(act));
	if (uncond >= 0 && n_cond) {
		snprintf(more, sizeof(more), " (syscalls[%ld], unconditional: replaces %zu argument rule%s)",
			 uncond, n_cond, n_cond == 1 ? "" : "s");
		snprintf(buf, n, "%s%s", act, more);
		*allowed = tb_action_allows(final.kind);
		return 0;
	}
	if (uncond >= 0) {
		snprintf(buf, n, "%s", act);
		*allowed = tb_action_allows(final.kind);
		return 0;
	}
	len = append(buf, n, len, len ? "else " : "");
	append(buf, n, len, act);
	*allowed = tb_action_allows(final.kind) || any_cond_allow;
	return 0;
}

static int add_entry(struct tb_profile_diff *d, enum tb_diff_kind k, const char *name,
		     const char *a, const char *b)
{
	struct tb_diff_entry *n = realloc(d->entries, (d->n_entries + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	d->entries = n;
	n[d->n_entries] = (struct tb_diff_entry){.kind = k};
	n[d->n_entries].name = strdup(name);
	n[d->n_entries].a = strdup(a);
	n[d->n_entries].b = strdup(b);
	d->n_entries++;
	if (!n[d->n_entries - 1].name || !n[d->n_entries - 1].a || !n[d->n_entries - 1].b)
		return -ENOMEM;
	return 0;
}

static int cmp_entry(const void *x, const void *y)
{
	const struct tb_diff_entry *a = x, *b = y;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return strcmp(a->name, b->name);
}

void tb_profile_diff_free(struct tb_profile_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_entries; i++) {
		free(d->entries[i].name);
		free(d->entries[i].a);
		free(d->entries[i].b);
	}
	free(d->entries);
	free(d);
}

static void diff_freep(struct tb_profile_diff **d)
{
	tb_profile_diff_free(*d);
}

static bool token_in(const uint32_t *t, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (t[i] == x)
			return true;
	return false;
}

static int diff_arches(const struct tb_profile *a, const struct tb_profile *b,
		       struct tb_profile_diff *d)
{
	uint32_t ta[32], tb[32];
	size_t na, nb;
	int r;

	r = tb_profile_filter_arches(a, ta, TB_ARRAY_SIZE(ta), &na, NULL);
	if (r >= 0)
		r = tb_profile_filter_arches(b, tb, TB_ARRAY_SIZE(tb), &nb, NULL);
	if (r < 0)
		return r;
	for (size_t i = 0; i < na && r >= 0; i++)
		if (!token_in(tb, nb, ta[i])) {
			r = add_entry(d, TB_DIFF_ARCH, tb_arch_label(ta[i]), "in filter",
				      "not in filter");
		}
	for (size_t i = 0; i < nb && r >= 0; i++)
		if (!token_in(ta, na, tb[i])) {
			r = add_entry(d, TB_DIFF_ARCH, tb_arch_label(tb[i]), "not in filter",
				      "in filter");
		}
	return r;
}

/* Every name worth comparing: the native syscalls plus what either profile lists (a sorted,
 * unique string vector). */
static int collect_names(const struct tb_profile *a, const struct tb_profile *b, char ***out)
{
	const struct tb_profile *ps[2] = {a, b};
	uint32_t native = seccomp_arch_native();
	char **v = NULL;
	int r = 0;

	for (int nr = 0; nr < 1024 && r >= 0; nr++) {
		_cleanup_free_ char *s = seccomp_syscall_resolve_num_arch(native, nr);

		if (s)
			r = tb_strv_add_sorted(&v, s);
	}
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < ps[k]->n_rules; i++)
			for (size_t j = 0; j < ps[k]->rules[i].n_names && r >= 0; j++) {
				const char *name = ps[k]->rules[i].names[j];

				/* Only names that mean something here. */
				if (seccomp_syscall_resolve_name_arch(native, name) >= 0)
					r = tb_strv_add_sorted(&v, name);
			}
	if (r < 0) {
		tb_strv_free(v);
		return r;
	}
	*out = v;
	return 0;
}

int tb_profile_diff(const struct tb_profile *a, const struct tb_profile *b,
		    const struct tb_compile_opts *o, struct tb_profile_diff **out)
{
	__attribute__((cleanup(diff_freep))) struct tb_profile_diff *d = NULL;
	char **names = NULL;
	size_t n_names = 0;
	int r;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	snprintf(d->arch, sizeof(d->arch), "%s", tb_arch_label(seccomp_arch_native()));
	r = diff_arches(a, b, d);
	if (r < 0)
		return r;
	r = collect_names(a, b, &names);
	if (r < 0)
		return r;
	n_names = tb_strv_len(names);
	for (size_t i = 0; i < n_names && r >= 0; i++) {
		char da[1024], db[1024];
		bool aa, ab;

		r = describe(a, o, names[i], da, sizeof(da), &aa);
		if (r < 0)
			break;
		r = describe(b, o, names[i], db, sizeof(db), &ab);
		if (r < 0)
			break;
		if (!strcmp(da, db))
			continue;
		if (aa && !ab)
			r = add_entry(d, TB_DIFF_ONLY_A, names[i], da, db);
		else if (ab && !aa)
			r = add_entry(d, TB_DIFF_ONLY_B, names[i], da, db);
		else if (aa && ab)
			r = add_entry(d, TB_DIFF_ARGS, names[i], da, db);
		else
			r = add_entry(d, TB_DIFF_ACTION, names[i], da, db);
	}
	tb_strv_free(names);
	if (r < 0)
		return r;
	if (d->n_entries) /* qsort's base may not be NULL, even for no entries */
		qsort(d->entries, d->n_entries, sizeof(*d->entries), cmp_entry);
	*out = TB_TAKE_PTR(d);
	return 0;
}
