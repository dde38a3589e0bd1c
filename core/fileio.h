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

#endif
