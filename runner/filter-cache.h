/* SPDX-License-Identifier: Apache-2.0 */
/* Cache of compiled seccomp programs, keyed by everything the compilation depends on. */
#ifndef TB_RUNNER_FILTER_CACHE_H
#define TB_RUNNER_FILTER_CACHE_H

#include <linux/filter.h>
#include <stddef.h>

/*
 * The folder @name of tightbox's private cache, created 0700 and checked to be the caller's own
 * (root: /run/tightbox/NAME, others: $XDG_RUNTIME_DIR/tightbox-NAME), into @out. 0 or -errno
 * (-EPERM: someone else could write there, so it must not be used).
 */
int tb_cache_dir(const char *name, char *out, size_t size);
/*
 * Where the entry for @key goes in the cache folder @name: a hash of the key as the file name,
 * an index only (an entry stores its full key and is checked against it). 0 or -errno.
 */
int tb_cache_entry_path(const char *name, const char *key, size_t key_len, char *out, size_t size);
/*
 * Reads the cache entry @path (written with tb_write_file_atomic, mode 0600): NUL-terminated
 * into @data, its length in @len. -EPERM unless it is a regular file of the caller's, private,
 * of at most @max bytes; never follows a symlink. 0 or -errno.
 */
int tb_cache_read(const char *path, size_t max, char **data, size_t *len);
/* Builds the full key: versions, kernel, arch, @options and the @profile bytes. 0 or -errno. */
int tb_filter_cache_key(const char *profile, size_t len, const char *options, char **key,
			size_t *key_len);
/* Finds the program compiled for exactly @key. 0 (prog and warnings allocated) or -errno. */
int tb_filter_cache_get(const char *key, size_t key_len, struct sock_fprog *prog, char **warnings);
/* Stores @prog (and the compile warnings, newline-separated) for @key. 0 or -errno. */
int tb_filter_cache_put(const char *key, size_t key_len, const struct sock_fprog *prog,
			const char *warnings);

#endif
