/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the flag value parsers of core/parse.h. The first byte picks the parser, the
 * rest (NUL-terminated copy) is the value. Successful results are checked against the documented
 * bounds, so a parser that accepts an out-of-range value aborts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/parse.h"
#include "core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A normalised sandbox path: absolute, no empty, "." or ".." component (names like "..x" are fine). */
static bool bad_path(const char *p)
{
	if (p[0] != '/')
		return true;
	if (!p[1])
		return false;
	for (const char *c = p + 1;;) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return true;
		if (!c[n])
			return false;
		c += n + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_diag d = {0};
	char *s, *a = NULL, *b = NULL;
	uint64_t u, soft, hard;
	double x;
	int64_t i64;
	int res;
	bool rw;
	unsigned long flags;
	unsigned mode;
	uid_t uid;
	gid_t gid;

	if (size < 1)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 10) {
	case 0:
		if (tb_parse_size(s, &u, &d) == 0 && (u == 0 || u >= (1ULL << 62)))
			abort();
		break;
	case 1:
		if (tb_parse_duration(s, &x, &d) == 0 && !(x >= 0 && x <= 7 * 24 * 3600.0))
			abort();
		break;
	case 2:
		if (tb_parse_cpus(s, &x, &d) == 0 && !(x > 0 && x <= 1024))
			abort();
		break;
	case 3:
		if (tb_parse_int64(s, -1, 1 << 20, &i64, &d) == 0 && (i64 < -1 || i64 > (1 << 20)))
			abort();
		break;
	case 4:
		if (tb_parse_ulimit(s, &res, &soft, &hard, &d) == 0 &&
		    (res < 0 || res >= RLIM_NLIMITS || !tb_ulimit_name(res) || soft > hard))
			abort();
		break;
	case 5:
		if (tb_parse_volume(s, &a, &b, &rw, &d) == 0 && bad_path(b))
			abort();
		break;
	case 6:
		if (tb_parse_tmpfs(s, &a, &u, &flags, &mode, &d) == 0 && bad_path(a))
			abort();
		break;
	case 7:
		if (tb_parse_user(s, &uid, &gid, &d) == 0 && uid == 0)
			abort();
		break;
	case 8:
		if (tb_parse_sandbox_path(s, &a, &d) == 0 && bad_path(a))
			abort();
		break;
	default:
		tb_ulimit_name((int)(unsigned char)s[0] - 4);
		break;
	}
	free(a);
	free(b);
	free(s);
	return 0;
}
