/* SPDX-License-Identifier: Apache-2.0 */
/* tightbox's private caches: where an entry goes, and reading one back checked (core/cache.c). */
#ifndef TB_CORE_CACHE_H
#define TB_CORE_CACHE_H

#include <stddef.h>

/*
 * Where the entry for @key goes in the cache folder @name (root: /run/tightbox/NAME, others:
 * $XDG_RUNTIME_DIR/tightbox-NAME; the folder is made 0700 and checked to be the caller's own), into
 * @out: a hash of the key as the file name, an index only (an entry stores its full key and is
 * checked against it). Write entries with tb_write_file_atomic() mode 0600. 0 or -errno (-EPERM:
 * someone else could write the folder, so it must not be used).
 */
int tb_cache_entry_path(const char *name, const char *key, size_t key_len, char *out, size_t size);

/*
 * Reads the cache entry @path: NUL-terminated into @data (caller frees), its length in @len.
 * -EPERM unless it is a regular file of the caller's, private, of at most @max bytes; never
 * follows a symlink. 0 or -errno.
 */
int tb_cache_read(const char *path, size_t max, char **data, size_t *len);

#endif
