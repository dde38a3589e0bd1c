/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsers for the values `docker run` flags take: sizes, durations, CPU counts, ulimits, volumes,
 * tmpfs specs and users. Pure functions (no I/O), fuzzed by tests/fuzz. Each returns 0, or -EINVAL
 * with @d->message saying what is wrong with the value (the caller adds the flag name).
 */
#ifndef TB_PARSE_H
#define TB_PARSE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/diag.h"

/* "256m", "1.5g", "512k", "1024", "64MiB", "2GB" (powers of 1024, as docker). > 0, < 2^62. */
int tb_parse_size(const char *s, uint64_t *out, struct tb_diag *d);
/* "10", "0.5", "1.5s", "500ms", "2m", "1h". Seconds, >= 0, finite, <= 1 week. */
int tb_parse_duration(const char *s, double *out, struct tb_diag *d);
/* "0.5", "2": > 0 and <= 1024. */
int tb_parse_cpus(const char *s, double *out, struct tb_diag *d);
/* A non-negative integer with no sign and no junk; -1 allowed when @allow_minus_one. */
int tb_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out, struct tb_diag *d);

/* "nofile=64:64" or "nproc=32" (soft = hard). @resource gets RLIMIT_*; "unlimited" allowed. */
int tb_parse_ulimit(const char *s, int *resource, uint64_t *soft, uint64_t *hard, struct tb_diag *d);

/* "SRC:DST[:ro|rw]": DST absolute and normalised, no "..". Strings malloc'd on success. */
int tb_parse_volume(const char *s, char **src, char **dst, bool *rw, struct tb_diag *d);
/* "PATH[:size=N,mode=1777,noexec,exec,nosuid,suid,nodev,dev]". Defaults: 50m, noexec,nosuid,nodev, 1777. */
int tb_parse_tmpfs(const char *s, char **path, uint64_t *size, unsigned long *flags, unsigned *mode,
		   struct tb_diag *d);
/* "UID[:GID]" numeric; GID defaults to UID. uid 0 is refused. */
int tb_parse_user(const char *s, uid_t *uid, gid_t *gid, struct tb_diag *d);
/* Checks an in-sandbox path: absolute, no "..", no "//" tricks; returns normalised copy. */
int tb_parse_sandbox_path(const char *s, char **out, struct tb_diag *d);

#endif
