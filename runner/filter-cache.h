/* SPDX-License-Identifier: Apache-2.0 */
/* Cache of compiled seccomp programs, keyed by everything the compilation depends on. */
#ifndef TB_RUNNER_FILTER_CACHE_H
#define TB_RUNNER_FILTER_CACHE_H

#include <linux/filter.h>
#include <stddef.h>

/* Builds the full key: versions, kernel, arch, @options and the @profile bytes. 0 or -errno. */
int tb_filter_cache_key(const char *profile, size_t len, const char *options, char **key,
			size_t *key_len);
/* Finds the program compiled for exactly @key. 0 (prog and warnings allocated) or -errno. */
int tb_filter_cache_get(const char *key, size_t key_len, struct sock_fprog *prog, char **warnings);
/* Stores @prog (and the compile warnings, newline-separated) for @key. 0 or -errno. */
int tb_filter_cache_put(const char *key, size_t key_len, const struct sock_fprog *prog,
			const char *warnings);

#endif
