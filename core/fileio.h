/* SPDX-License-Identifier: Apache-2.0 */
/* Whole-file reads for the JSON readers (profiles, rulesets, recordings). */
#ifndef TB_FILEIO_H
#define TB_FILEIO_H

#include <stddef.h>

/*
 * Reads all of @path (at most @max bytes) into a NUL-terminated malloc'd buffer. Returns 0,
 * -EFBIG when larger than @max, -EINVAL when @path is not a regular file (a FIFO, socket, device
 * or directory: opened without blocking, then refused, so a FIFO never hangs the caller), or
 * -errno; *@out and *@len are written only on success.
 */
int tb_read_file(const char *path, size_t max, char **out, size_t *len);
/* strerror() for tb_read_file's codes: -EINVAL reads "not a regular file". */
const char *tb_read_file_strerror(int r);

/*
 * Writes @len bytes of @text to @path through a temporary file in the same directory (mode
 * 0644), renamed over @path at the end: readers see the old file or the whole new one, never
 * half. 0 or -errno (the temporary file is removed).
 */
int tb_write_file_atomic(const char *path, const char *text, size_t len);

#endif
