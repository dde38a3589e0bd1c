/* SPDX-License-Identifier: Apache-2.0 */
/* Cache of compiled seccomp programs, keyed by everything the compilation depends on. */
#ifndef TB_RUNNER_FILTER_CACHE_H
#define TB_RUNNER_FILTER_CACHE_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

/* Builds the full key: versions, kernel, arch, @options and the @profile bytes. 0 or -errno. */
int tb_filter_cache_key(const char *profile, size_t len, const char *options, char **key,
			size_t *key_len);
/* The key of the entry for the profile file of @st (opened and fstat'ed by the caller) compiled
 * with @options: its identity and change times instead of its bytes. 0 or -errno. */
int tb_filter_cache_stat_key(const struct stat *st, const char *options, char **key,
			     size_t *key_len);
/* Whether the file of @st last changed long enough before @now (CLOCK_REALTIME) that a later
 * change must show in its ctime: only then may an entry be stored under its stat key. */
bool tb_filter_cache_stat_settled(const struct stat *st, const struct timespec *now);
/* Finds the program compiled for exactly @key. 0 (prog and warnings allocated) or -errno. */
int tb_filter_cache_get(const char *key, size_t key_len, struct sock_fprog *prog, char **warnings);
/* Stores @prog (and the compile warnings, newline-separated) for @key. 0 or -errno. */
int tb_filter_cache_put(const char *key, size_t key_len, const struct sock_fprog *prog,
			const char *warnings);

#endif
