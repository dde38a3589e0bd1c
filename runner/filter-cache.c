/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A cache of compiled seccomp programs. libseccomp takes ~1 ms to compile and export the default
 * profile and ~20 ms for Docker's, on every run; the result only depends on the profile bytes,
 * the compile options, the libseccomp version, the kernel release and the arch.
 *
 * The cache is a security boundary: a poisoned entry would weaken every later sandbox. So it lives
 * in a directory only the caller's uid can write (root: /run/tightbox/bpf-cache, others:
 * $XDG_RUNTIME_DIR/tightbox-bpf-cache), every file is checked to be ours, regular, and not
 * group/other accessible, and an entry stores the complete key (the profile bytes included) which
 * must match byte for byte - the file name hash is only an index, never trusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/cache.h"
#include "core/fileio.h"
#include "core/util.h"
#include "runner/filter-cache.h"

#define MAGIC "tightbox-bpf-cache 2\n" /* 2: warnings stored with their kind */

int tb_filter_cache_key(const char *profile, size_t len, const char *options, char **key,
			size_t *key_len)
{
	const struct scmp_version *v = seccomp_version();
	struct utsname u;
	char *buf;
	int n;

	if (uname(&u) < 0)
		return tb_negerrno();
	n = asprintf(&buf, "%s tightbox=%s libseccomp=%u.%u.%u kernel=%s machine=%s options=%s\n",
		     MAGIC, TB_VERSION, v->major, v->minor, v->micro, u.release, u.machine, options);
	if (n < 0)
		return -ENOMEM;
	*key = realloc(buf, (size_t)n + len);
	if (!*key) {
		free(buf);
		return -ENOMEM;
	}
	memcpy(*key + n, profile, len);
	*key_len = (size_t)n + len;
	return 0;
}

static int entry_path(const char *key, size_t key_len, char *out, size_t size)
{
	return tb_cache_entry_path("bpf-cache", key, key_len, out, size);
}

/* Entry layout: u64 key_len, key, u64 warnings_len, warnings, u64 n_insns, insns. */
int tb_filter_cache_get(const char *key, size_t key_len, struct sock_fprog *prog, char **warnings)
{
	char path[320];
	_cleanup_free_ char *data = NULL;
	size_t size = 0;
	uint64_t klen, wlen, n;
	size_t off = 0;
	int r = entry_path(key, key_len, path, sizeof(path));

	if (r < 0)
		return r;
	r = tb_cache_read(path, 64 << 20, &data, &size);
	if (r < 0)
		return r;
#define TAKE(ptr, len)                                                                             \
	do {                                                                                       \
		if ((uint64_t)size - off < (uint64_t)(len))                                        \
			return -EINVAL;                                                            \
		memcpy((ptr), data + off, (len));                                                  \
		off += (len);                                                                      \
	} while (0)
	TAKE(&klen, sizeof(klen));
	if (klen != key_len || (uint64_t)size - off < klen || memcmp(data + off, key, key_len))
		return -ESTALE; /* another profile (or options) with the same index */
	off += key_len;
	TAKE(&wlen, sizeof(wlen));
	if ((uint64_t)size - off < wlen)
		return -EINVAL;
	*warnings = strndup(data + off, wlen);
	if (!*warnings)
		return -ENOMEM;
	off += wlen;
	TAKE(&n, sizeof(n));
	if (n == 0 || n > BPF_MAXINSNS || (uint64_t)size - off != n * sizeof(struct sock_filter)) {
		free(*warnings);
		*warnings = NULL;
		return -EINVAL;
	}
	prog->filter = malloc(n * sizeof(struct sock_filter));
	if (!prog->filter) {
		free(*warnings);
		*warnings = NULL;
		return -ENOMEM;
	}
	memcpy(prog->filter, data + off, n * sizeof(struct sock_filter));
	prog->len = (unsigned short)n;
#undef TAKE
	return 0;
}

struct entry {
	const char *key;
	uint64_t klen, wlen, n;
	const char *warnings;
	const struct sock_filter *insns;
};

static int write_entry(FILE *f, const void *data)
{
	const struct entry *e = data;

	if (fwrite(&e->klen, sizeof(e->klen), 1, f) != 1 || fwrite(e->key, 1, e->klen, f) != e->klen ||
	    fwrite(&e->wlen, sizeof(e->wlen), 1, f) != 1 ||
	    fwrite(e->warnings, 1, e->wlen, f) != e->wlen || fwrite(&e->n, sizeof(e->n), 1, f) != 1 ||
	    fwrite(e->insns, sizeof(struct sock_filter), e->n, f) != e->n)
		return -EIO;
	return 0;
}

int tb_filter_cache_put(const char *key, size_t key_len, const struct sock_fprog *prog,
			const char *warnings)
{
	struct entry e = {.key = key, .klen = key_len, .wlen = strlen(warnings), .n = prog->len,
			  .warnings = warnings, .insns = prog->filter};
	char path[320];
	int r = entry_path(key, key_len, path, sizeof(path));

	if (r < 0)
		return r;
	/* Private to root (0600); the temporary name is random and created O_EXCL. */
	return tb_write_file_atomic(path, 0600, write_entry, &e);
}
