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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/cache.h"
#include "core/fileio.h"
#include "core/util.h"
#include "runner/filter-cache.h"

#define MAGIC "tightbox-bpf-cache 2\n" /* 2: warnings stored with their kind */

int tb_filter_cache_key(const char *profile, size_t len, const char *options,
			struct tb_filter_key *k)
{
	const struct scmp_version *v = seccomp_version();
	struct utsname u;
	int n;

	if (uname(&u) < 0)
		return tb_negerrno();
	n = snprintf(k->head, sizeof(k->head),
		     "%s tightbox=%s libseccomp=%u.%u.%u kernel=%s machine=%s options=%s\n", MAGIC,
		     TB_VERSION, v->major, v->minor, v->micro, u.release, u.machine, options);
	if (n < 0 || (size_t)n >= sizeof(k->head))
		return -ENAMETOOLONG;
	k->head_len = (size_t)n;
	k->profile = profile;
	k->len = len;
	return 0;
}

static int entry_path(const struct tb_filter_key *k, char *out, size_t size)
{
	const struct iovec parts[] = {{.iov_base = (void *)k->head, .iov_len = k->head_len},
				      {.iov_base = (void *)k->profile, .iov_len = k->len}};

	return tb_cache_entry_pathv("bpf-cache", parts, 2, out, size);
}

/*
 * Entry layout: u64 key_len, key (head, then profile), u64 warnings_len, warnings, u64 n_insns,
 * insns. The entry is mapped, not read into a buffer: a run compares ~90 KB (the profile and the
 * entry's copy of it), and every fresh heap page it would read them into is a page fault.
 */
static int parse_entry(const struct tb_filter_key *k, const char *data, size_t size,
		       struct sock_fprog *prog, char **warnings)
{
	uint64_t klen, wlen, n;
	size_t off = 0;

#define TAKE(ptr, len)                                                                             \
	do {                                                                                       \
		if ((uint64_t)size - off < (uint64_t)(len))                                        \
			return -EINVAL;                                                            \
		memcpy((ptr), data + off, (len));                                                  \
		off += (len);                                                                      \
	} while (0)
	TAKE(&klen, sizeof(klen));
	if (klen != (uint64_t)k->head_len + k->len || (uint64_t)size - off < klen ||
	    memcmp(data + off, k->head, k->head_len) ||
	    memcmp(data + off + k->head_len, k->profile, k->len))
		return -ESTALE; /* another profile (or options) with the same index */
	off += klen;
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

int tb_filter_cache_get(const struct tb_filter_key *k, struct sock_fprog *prog, char **warnings)
{
	char path[320];
	const char *data;
	size_t size;
	int r = entry_path(k, path, sizeof(path));

	if (r < 0)
		return r;
	r = tb_cache_map(path, 64 << 20, &data, &size);
	if (r < 0)
		return r;
	r = parse_entry(k, data, size, prog, warnings);
	if (size)
		munmap((void *)data, size);
	return r;
}

struct entry {
	const struct tb_filter_key *key;
	uint64_t klen, wlen, n;
	const char *warnings;
	const struct sock_filter *insns;
};

static int write_entry(FILE *f, const void *data)
{
	const struct entry *e = data;

	if (fwrite(&e->klen, sizeof(e->klen), 1, f) != 1 ||
	    fwrite(e->key->head, 1, e->key->head_len, f) != e->key->head_len ||
	    fwrite(e->key->profile, 1, e->key->len, f) != e->key->len ||
	    fwrite(&e->wlen, sizeof(e->wlen), 1, f) != 1 ||
	    fwrite(e->warnings, 1, e->wlen, f) != e->wlen || fwrite(&e->n, sizeof(e->n), 1, f) != 1 ||
	    fwrite(e->insns, sizeof(struct sock_filter), e->n, f) != e->n)
		return -EIO;
	return 0;
}

int tb_filter_cache_put(const struct tb_filter_key *k, const struct sock_fprog *prog,
			const char *warnings)
{
	struct entry e = {.key = k, .klen = (uint64_t)k->head_len + k->len,
			  .wlen = strlen(warnings), .n = prog->len, .warnings = warnings,
			  .insns = prog->filter};
	char path[320];
	int r = entry_path(k, path, sizeof(path));

	if (r < 0)
		return r;
	/* Private to root (0600); the temporary name is random and created O_EXCL. */
	return tb_write_file_atomic(path, 0600, write_entry, &e);
}
