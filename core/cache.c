/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tightbox's private caches (runner/filter-cache.c's compiled filters, tracer/python-version.c's
 * interpreter versions). A cache is a security boundary when what it holds decides a policy, so
 * every cache lives in a folder only the caller's uid can write, and every entry read is checked
 * to be a private regular file of that uid. The file name is a hash of the entry's key, an index
 * only: an entry stores its full key and its reader compares it byte for byte.
 */
#include "core/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

/* The folder @name, created 0700 when missing; -EPERM when someone else could write there. */
static int cache_dir(const char *name, char *out, size_t size)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	uid_t euid = geteuid();
	struct stat st;

	if (euid == 0)
		snprintf(out, size, "/run/tightbox/%s", name);
	else if (rt && *rt == '/')
		snprintf(out, size, "%s/tightbox-%s", rt, name);
	else
		return -ENOENT;
	/* Made on the first run only: later runs need the one lstat. */
	if (lstat(out, &st) < 0) {
		if (errno != ENOENT || (euid == 0 && mkdir("/run/tightbox", 0700) < 0 && errno != EEXIST))
			return tb_negerrno();
		if ((mkdir(out, 0700) < 0 && errno != EEXIST) || lstat(out, &st) < 0)
			return tb_negerrno();
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != euid || (st.st_mode & 077))
		return -EPERM; /* someone else could write here: do not use it */
	return 0;
}

/* The entry's index: FNV-1a over 8-byte words (then the tail bytes), eight times fewer
 * multiplications than per byte - the key holds the whole profile (~43 KB for the default), and
 * hashing it byte by byte cost ~60 us of every run. Only an index: the entry's key is compared
 * in full. The words run across the parts, so a key in parts hashes as its concatenation. */
static uint64_t key_hash(const struct iovec *parts, size_t n)
{
	uint64_t h = 14695981039346656037ull, w;
	unsigned char carry[sizeof(w)];
	size_t have = 0;

	for (size_t k = 0; k < n; k++) {
		const unsigned char *p = parts[k].iov_base;
		size_t len = parts[k].iov_len, i = 0;

		while (have && i < len) { /* finish the word the previous part began */
			carry[have++] = p[i++];
			if (have == sizeof(w)) {
				memcpy(&w, carry, sizeof(w));
				h = (h ^ w) * 1099511628211ull;
				have = 0;
			}
		}
		for (; i + sizeof(w) <= len; i += sizeof(w)) {
			memcpy(&w, p + i, sizeof(w));
			h = (h ^ w) * 1099511628211ull;
		}
		while (i < len)
			carry[have++] = p[i++];
	}
	for (size_t i = 0; i < have; i++)
		h = (h ^ carry[i]) * 1099511628211ull;
	return h;
}

int tb_cache_entry_pathv(const char *name, const struct iovec *key, size_t n, char *out,
			 size_t size)
{
	char dir[256];
	int r = cache_dir(name, dir, sizeof(dir));

	if (r < 0)
		return r;
	snprintf(out, size, "%s/%016llx", dir, (unsigned long long)key_hash(key, n));
	return 0;
}

int tb_cache_entry_path(const char *name, const char *key, size_t key_len, char *out, size_t size)
{
	struct iovec v = {.iov_base = (void *)key, .iov_len = key_len};

	return tb_cache_entry_pathv(name, &v, 1, out, size);
}

int tb_cache_map(const char *path, size_t max, const char **data, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	void *p;

	*data = NULL;
	*len = 0;
	if (fd < 0)
		return tb_negerrno();
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) || (uint64_t)st.st_size > max)
		return -EPERM;
	if (st.st_size == 0)
		return 0;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return tb_negerrno();
	*data = p;
	*len = (size_t)st.st_size;
	return 0;
}
