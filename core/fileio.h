/* SPDX-License-Identifier: Apache-2.0 */
/* Whole-file reads for the JSON readers (profiles, rulesets, recordings). */
#ifndef TB_FILEIO_H
#define TB_FILEIO_H

#include <stddef.h>

/*
 * Reads all of @path (at most @max bytes) into a NUL-terminated malloc'd buffer. Returns 0,
 * -EFBIG when larger than @max, or -errno; *@out and *@len are written only on success.
 */
int tb_read_file(const char *path, size_t max, char **out, size_t *len);

#endif
