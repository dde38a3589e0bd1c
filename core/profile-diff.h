/* SPDX-License-Identifier: Apache-2.0 */
/* `tightbox diff`: how two seccomp profiles differ on this machine's arch (moby rule selection). */
#ifndef TB_PROFILE_DIFF_H
#define TB_PROFILE_DIFF_H

#include <stddef.h>

#include "core/profile.h"

enum tb_diff_kind {
	TB_DIFF_ONLY_A,  /* allowed by A, denied by B */
	TB_DIFF_ONLY_B,  /* allowed by B, denied by A */
	TB_DIFF_ACTION,  /* denied by both, differently (errno, kill, trap...) */
	TB_DIFF_ARGS,    /* allowed by both, with different argument rules */
	TB_DIFF_ARCH,    /* an arch is in one filter only (name = arch) */
};

struct tb_diff_entry {
	enum tb_diff_kind kind;
	char *name; /* syscall (or arch for TB_DIFF_ARCH) */
	char *a, *b; /* how each profile treats it: "allow", "allow if a0&0x7e020000==0", "errno EPERM" */
};

struct tb_profile_diff {
	char arch[32]; /* the native arch the comparison is for */
	struct tb_diff_entry *entries; /* sorted by kind, then name */
	size_t n_entries;
};

/* Compares @a and @b for the native arch under @o (may be NULL). 0, -ENOMEM or -EINVAL (minKernel
 * cannot be compared). *@out owned by the caller (tb_profile_diff_free). */
int tb_profile_diff(const struct tb_profile *a, const struct tb_profile *b,
		    const struct tb_compile_opts *o, struct tb_profile_diff **out);
/* Frees @d. Accepts NULL. */
void tb_profile_diff_free(struct tb_profile_diff *d);
/* "only-a", "only-b", "action", "args", "arch". */
const char *tb_diff_kind_name(enum tb_diff_kind k);

#endif
