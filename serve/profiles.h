/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seccomp profiles a `tightbox serve` request may name: a snapshot of the *.json files of
 * --profile-dir, each parsed and validated when loaded. SIGHUP loads a new snapshot; requests keep
 * the one they started with, so an edit takes effect at the reload and never halfway through.
 */
#ifndef TB_SERVE_PROFILES_H
#define TB_SERVE_PROFILES_H

#include <stddef.h>

#include "core/diag.h"

struct tb_serve_profile {
	char *name; /* file name without ".json" */
	char *text; /* the bytes that were validated */
	size_t len;
};

struct tb_serve_profiles {
	struct tb_serve_profile *items; /* sorted by name */
	size_t n;
};

/*
 * Loads every NAME.json of @dir (regular files, at most 16 MiB each; others are ignored). Every one
 * must parse as a Docker/OCI seccomp profile: the first that does not fails the whole load with
 * @d naming it (a reload then keeps the old snapshot). @dir NULL gives an empty set. 0 or -errno.
 */
int tb_serve_profiles_load(const char *dir, struct tb_serve_profiles **out, struct tb_diag *d);
/* The profile called @name, or NULL. */
const struct tb_serve_profile *tb_serve_profiles_find(const struct tb_serve_profiles *p, const char *name);
/* Frees @p. Accepts NULL. */
void tb_serve_profiles_free(struct tb_serve_profiles *p);

#endif
