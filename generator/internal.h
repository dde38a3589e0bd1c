/* SPDX-License-Identifier: Apache-2.0 */
/* The generator's model, shared by its stages (not part of the public API). */
#ifndef TB_GENERATOR_INTERNAL_H
#define TB_GENERATOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arch.h"
#include "core/recording.h"
#include "core/strv.h"
#include "core/landlock-ruleset.h"
#include "generator/generate.h"

/* Why a name is allowed, beside being recorded. */
enum tb_gen_why {
	TB_WHY_RECORDED = 1 << 0,
	TB_WHY_MAPPED = 1 << 1,	 /* equivalent of a recorded syscall of another arch */
	TB_WHY_PRELUDE = 1 << 2, /* the runtime calls it after loading the filter */
	TB_WHY_BASELINE =
	    1 << 3, /* always needed (signal return, exit) though a recording can miss it */
	TB_WHY_FALLBACK = 1 << 4, /* glibc falls back to it (clone for clone3) */
	TB_WHY_STATIC = 1 << 5,	  /* statically reachable (tightbox scan) */
	TB_WHY_LEGACY = 1 << 6,	  /* a legacy form (open, creat, stat) of an allowed call (openat,
				   * newfstatat): the same kernel code, nothing more */
};

struct tb_gen_name {
	char *name;
	char **workloads;   /* sorted, unique, NULL-terminated (may be empty) */
	unsigned arch_mask; /* bit i: allowed on model arch i */
	unsigned why;	    /* enum tb_gen_why bits */
	char *static_why;   /* the first scan provenance ("python3.11 imports sigaltstack"), or NULL */
};

struct tb_u64set {
	uint64_t *v;
	size_t n;
};

struct tb_gen_model {
	const struct tb_gen_opts *opts;
	struct tb_arch arches[TB_GEN_MAX_ARCHES];
	size_t n_arches;
	struct tb_gen_name *names; /* allowed candidates, sorted by name */
	size_t n_names;
	/* Argument values seen, union over arches. */
	struct tb_u64set socket_domains, personality, ioctl_cmds, prctl_opts;
	struct tb_u64set netlink_protocols; /* socket(AF_NETLINK, _, protocol) recorded */
	bool seen_args_socket, seen_args_personality, seen_args_ioctl, seen_args_prctl;
	const struct tb_recording *merged;
	char **workloads;
	char **notes;
	const char *profile_name;
};

/* generator/arch-map.c */
const struct tb_arch *tb_gen_arch_lookup(const char *name);
/* Equivalents of @name on an arch that lacks it (NULL-terminated), or NULL when the table has none;
 * *@why gets the table's note ("vDSO", "no equivalent") when the list is empty. */
const char *const *tb_gen_arch_equivalents(const char *name, const char **why);

/* generator/runtime-prelude.c */
const char *const *tb_gen_prelude(enum tb_gen_runtime rt, const char **how);
/* @o->runtimes, with 0 meaning tightbox. */
unsigned tb_gen_runtimes(const struct tb_gen_opts *o);
const char *const *tb_gen_baseline(void);

/* generator/model.c */
int tb_gen_model_build(struct tb_gen_model *m, const struct tb_gen_input *in, size_t n,
		       const struct tb_gen_opts *o, struct tb_diag *diag);
void tb_gen_model_clear(struct tb_gen_model *m);
struct tb_gen_name *tb_gen_model_find(const struct tb_gen_model *m, const char *name);
bool tb_gen_model_has_arch(const struct tb_gen_model *m, const char *arch);
bool tb_u64set_has(const struct tb_u64set *s, uint64_t v);

/* generator/seccomp.c: the profile as JSON text. */
int tb_gen_seccomp(const struct tb_gen_model *m, char **out, struct tb_gen_result *res);
/* generator/apparmor.c */
int tb_gen_apparmor(const struct tb_gen_model *m, char **out);
/* generator/landlock.c */
int tb_gen_landlock(const struct tb_gen_model *m, struct tb_ll_ruleset **out);

/* Trees the AppArmor and Landlock emitters grant as a whole (generator/landlock.c). */
struct tb_gen_tree {
	const char *prefix;   /* "/usr/lib/python3*": the last component may end in '*' */
	const char *apparmor; /* AppArmor form of the root, without the trailing slash-star-star */
	const char *why;
	bool libraries; /* holds shared objects: mapped executable (AppArmor m, Landlock execute) */
};
const struct tb_gen_tree *tb_gen_trees(size_t *n);
/* Length of the concrete tree root in @path when @path lies beneath @t, else 0. */
size_t tb_gen_tree_match(const struct tb_gen_tree *t, const char *path);

#endif
