/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DT_NEEDED -> file, in ld.so(8)'s order: a name with a slash as is; DT_RPATH of the object and of
 * the executable (only when the object has no DT_RUNPATH); DT_RUNPATH; /etc/ld.so.cache; the
 * default directories. LD_LIBRARY_PATH is not searched: `tightbox run` never passes the caller's
 * environment on. A candidate counts only when it is an ELF file of the native class and machine,
 * as ld.so skips others.
 *
 * ld.so.cache ("glibc-ld.so.cache1.1", glibc's elf/cache.c and sysdeps/generic/dl-cache.h): a
 * header of 48 bytes (magic[17], version[3], nlibs, len_strings, flags, 3 bytes padding,
 * extension_offset, 3 unused words), then nlibs entries of 24 bytes (int32 flags, uint32 key,
 * uint32 value, uint32 osversion, uint64 hwcap); key and value are offsets from the file start.
 * An old-format ("ld.so-1.7.0") prefix is skipped; its entries are repeated in the new part.
 */
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "scanner/internal.h"
#include "scanner/scan.h"

#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#define CACHE_REQUIRED 0x0300 /* FLAG_X8664_LIB64 */
#define LIB_DIR "lib/x86_64-linux-gnu"
#define PLATFORM "x86_64"
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#define CACHE_REQUIRED 0x0a00 /* FLAG_AARCH64_LIB64 */
#define LIB_DIR "lib/aarch64-linux-gnu"
#define PLATFORM "aarch64"
#else
#error "tightbox scan knows the ld.so.cache flags of x86_64 and aarch64 only"
#endif
#define CACHE_TYPE_MASK 0x00ff
#define CACHE_ELF_LIBC6 0x0003
#define CACHE_REQUIRED_MASK 0xff00

/* ld.so's trusted directories on Debian (multiarch first). */
static const char *const system_dirs[] = {
    "/" LIB_DIR, "/usr/" LIB_DIR, "/lib64", "/usr/lib64", "/lib", "/usr/lib", NULL,
};

/* Whether @path is an ELF file ld.so would load here (native class and machine). */
static bool native_elf(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf64_Ehdr eh;

	if (fd < 0 || pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
		return false;
	return !memcmp(eh.e_ident, ELFMAG, SELFMAG) && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
	       eh.e_machine == NATIVE_MACHINE;
}

static int found(const char *path, char **out)
{
	char buf[PATH_MAX];

	if (!native_elf(path) || !realpath(path, buf))
		return -ENOENT;
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

/* Appends @s[0..n) to @buf at *@len. */
static bool put(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
	if (*len + n >= size)
		return false;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
	return true;
}

/* One search-path entry with $ORIGIN, $LIB and $PLATFORM (also as ${...}) expanded. */
static bool expand(const char *dir, size_t n, const char *origin, char *buf, size_t size)
{
	static const struct {
		const char *name;
		const char *value;
	} tokens[] = {{"ORIGIN", NULL}, {"LIB", LIB_DIR}, {"PLATFORM", PLATFORM}};
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n;) {
		bool done = false;

		if (dir[i] == '$') {
			bool brace = i + 1 < n && dir[i + 1] == '{';

			for (size_t t = 0; t < TB_ARRAY_SIZE(tokens) && !done; t++) {
				size_t tl = strlen(tokens[t].name), at = i + 1 + brace;
				const char *v = tokens[t].value ? tokens[t].value : origin;

				if (at + tl > n || strncmp(dir + at, tokens[t].name, tl))
					continue;
				if (brace && (at + tl >= n || dir[at + tl] != '}'))
					continue;
				if (!v)
					return false;
				if (!put(buf, size, &len, v, strlen(v)))
					return false;
				i = at + tl + brace;
				done = true;
			}
		}
		if (!done) {
			if (!put(buf, size, &len, dir + i, 1))
				return false;
			i++;
		}
	}
	return true;
}

/* Searches the ':'-separated @path for @needed. 0 found, -ENOENT, -ENOMEM. */
static int search_path(const char *path, const char *origin, const char *needed, char **out)
{
	for (const char *p = path; p && *p;) {
		const char *end = strchrnul(p, ':');
		char dir[PATH_MAX], file[PATH_MAX];
		int r;

		if (end > p && expand(p, (size_t)(end - p), origin, dir, sizeof(dir)) &&
		    snprintf(file, sizeof(file), "%s/%s", dir, needed) < (int)sizeof(file)) {
			r = found(file, out);
			if (r != -ENOENT)
				return r;
		}
		p = *end ? end + 1 : end;
	}
	return -ENOENT;
}

struct cache_header {
	char magic[17];
	char version[3];
	uint32_t nlibs;
	uint32_t len_strings;
	uint8_t flags;
	uint8_t pad[3];
	uint32_t extension_offset;
	uint32_t unused[3];
};

struct cache_entry {
	int32_t flags;
	uint32_t key, value;
	uint32_t osversion;
	uint64_t hwcap;
};

static int search_cache(const char *cache, const char *needed, char **out)
{
	_cleanup_close_ int fd = open(cache ? cache : "/etc/ld.so.cache", O_RDONLY | O_CLOEXEC);
	const struct cache_header *h;
	const struct cache_entry *e;
	struct stat st;
	size_t off = 0, size;
	const char *base;
	int r = -ENOENT;

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(*h))
		return -ENOENT;
	size = (size_t)st.st_size;
	base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (base == MAP_FAILED)
		return -ENOENT;
	if (!memcmp(base, "ld.so-1.7.0", 11)) {
		/* Old format: 16-byte header, 12-byte entries, then the new format 8-aligned. */
		uint32_t n;

		memcpy(&n, base + 12, sizeof(n));
		off = (16 + (size_t)n * 12 + 7) & ~(size_t)7;
	}
	if (off + sizeof(*h) > size || memcmp(base + off, "glibc-ld.so.cache1.1", 20))
		goto out;
	h = (const struct cache_header *)(base + off);
	if (h->nlibs > (size - off - sizeof(*h)) / sizeof(*e))
		goto out;
	e = (const struct cache_entry *)(h + 1);
	for (uint32_t i = 0; i < h->nlibs && r == -ENOENT; i++) {
		if ((e[i].flags & CACHE_TYPE_MASK) != CACHE_ELF_LIBC6 ||
		    (e[i].flags & CACHE_REQUIRED_MASK) != CACHE_REQUIRED)
			continue;
		if (e[i].key >= size || e[i].value >= size ||
		    !memchr(base + e[i].key, '\0', size - e[i].key) ||
		    !memchr(base + e[i].value, '\0', size - e[i].value))
			continue;
		if (strcmp(base + e[i].key, needed))
			continue;
		r = found(base + e[i].value, out);
	}
out:
	munmap((void *)base, size);
	return r;
}

int tb_scan_resolve(const char *needed, const struct tb_scan_search *s, char **out)
{
	const char *const *defaults = s->defaults ? s->defaults : system_dirs;
	int r;

	if (strchr(needed, '/'))
		return found(needed, out);
	if (!s->runpath) {
		r = search_path(s->rpath, s->origin, needed, out);
		if (r != -ENOENT)
			return r;
		r = search_path(s->exe_rpath, s->exe_origin, needed, out);
		if (r != -ENOENT)
			return r;
	}
	r = search_path(s->runpath, s->origin, needed, out);
	if (r != -ENOENT)
		return r;
	r = search_cache(s->cache, needed, out);
	if (r != -ENOENT)
		return r;
	for (size_t i = 0; defaults[i]; i++) {
		char file[PATH_MAX];

		if (snprintf(file, sizeof(file), "%s/%s", defaults[i], needed) >= (int)sizeof(file))
			continue;
		r = found(file, out);
		if (r != -ENOENT)
			return r;
	}
	return -ENOENT;
}
