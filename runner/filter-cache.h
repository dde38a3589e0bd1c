/* SPDX-License-Identifier: Apache-2.0 */
/* Cache of compiled seccomp programs, keyed by everything the compilation depends on. */
#ifndef TB_RUNNER_FILTER_CACHE_H
#define TB_RUNNER_FILTER_CACHE_H

#include <linux/filter.h>
#include <stddef.h>

/*
 * The full key of a compiled profile: a head naming what the program depends on besides the
 * profile (versions, kernel, arch, options), then the profile bytes themselves. Kept in two parts,
 * the profile not copied: an entry stores head + profile and must match it byte for byte.
 */
struct tb_filter_key {
	char head[512];
	size_t head_len;
	const char *profile; /* not owned: the caller's buffer outlives the key */
	size_t len;
};

/* Fills @k for @profile (@len bytes) compiled with @options. 0 or -errno. */
int tb_filter_cache_key(const char *profile, size_t len, const char *options,
			struct tb_filter_key *k);
/* Finds the program compiled for exactly @k. 0 (prog and warnings allocated) or -errno. */
int tb_filter_cache_get(const struct tb_filter_key *k, struct sock_fprog *prog, char **warnings);
/* Stores @prog (and the compile warnings, newline-separated) for @k. 0 or -errno. */
int tb_filter_cache_put(const struct tb_filter_key *k, const struct sock_fprog *prog,
			const char *warnings);

#endif
