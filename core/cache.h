/* SPDX-License-Identifier: Apache-2.0 */
/* tightbox's private caches: where an entry goes, and reading one back checked (core/cache.c). */
#ifndef TB_CORE_CACHE_H
#define TB_CORE_CACHE_H

#include <stddef.h>
#include <sys/uio.h>

/*
 * Where the entry for @key goes in the cache folder @name (root: /run/tightbox/NAME, others:
 * $XDG_RUNTIME_DIR/tightbox-NAME; the folder is made 0700 and checked to be the caller's own), into
 * @out: a hash of the key as the file name, an index only (an entry stores its full key and is
 * checked against it). Write entries with tb_write_file_atomic() mode 0600. 0 or -errno (-EPERM:
 * someone else could write the folder, so it must not be used).
 */
int tb_cache_entry_path(const char *name, const char *key, size_t key_len, char *out, size_t size);
/* The same for a key given in @n parts, hashed as their concatenation (the same index). */
int tb_cache_entry_pathv(const char *name, const struct iovec *key, size_t n, char *out,
			 size_t size);

/*
 * Maps the cache entry @path read-only into @data, its length in @len: -EPERM unless it is a
 * regular file of the caller's, private, of at most @max bytes; never follows a symlink. Mapped,
 * not copied: no buffer to fault in (the page cache's pages are mapped, a few per fault). Entries
 * are only ever replaced by rename (tb_write_file_atomic), never rewritten in place, so the mapping
 * stays whole; only another process of the caller's own uid truncating it could make a read fault.
 * Release it with munmap(@data, @len) when @len > 0 (an empty entry is not mapped: @data is NULL).
 * 0 or -errno.
 */
int tb_cache_map(const char *path, size_t max, const char **data, size_t *len);

#endif
