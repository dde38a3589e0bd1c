/* SPDX-License-Identifier: Apache-2.0 */
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

#ifndef TB_PROFILE_DIR /* CMake sets it from the install datadir; this is CMake's default prefix */
#define TB_PROFILE_DIR "/usr/local/share/tightbox/profiles"
#endif

int tb_read_file(const char *path, size_t max, char **out, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	size_t cap = 65536, n = 0;
	struct stat st;
	char *buf, *tmp;

	if (fd < 0 || fstat(fd, &st) < 0)
		return tb_negerrno();
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap >= max) {
				free(buf);
				return -EFBIG;
			}
			cap = cap * 2 > max ? max : cap * 2;
			tmp = realloc(buf, cap + 1);
			if (!tmp) {
				free(buf);
				return -ENOMEM;
			}
			buf = tmp;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = tb_negerrno();

			free(buf);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

const char *tb_read_file_strerror(int r)
{
	return r == -EINVAL ? "not a regular file" : strerror(r < 0 ? -r : r);
}

/* tb_atomic_open for a target that is a character device or FIFO: 1 opened in place, 0 not
 * such a target (write beside it and rename), -errno. */
static int open_in_place(const char *path, struct tb_atomic_file *af)
{
	struct stat st;
	int fd, fl;

	if (stat(path, &st) < 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
		return 0; /* absent, regular or a directory: the rename path creates or reports it */
	if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
		return -EINVAL; /* a block device or socket is never an output */
	/* O_NONBLOCK: a FIFO nobody reads fails with ENXIO instead of hanging the command. */
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return tb_negerrno();
	if (fstat(fd, &st) < 0 || (fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int r = tb_negerrno();

		close(fd);
		return r;
	}
	if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		close(fd);
		/* Replaced since the stat: a regular file goes the rename way, nothing else at all. */
		return S_ISREG(st.st_mode) ? 0 : -EINVAL;
	}
	af->path = strdup(path);
	af->f = af->path ? fdopen(fd, "w") : NULL;
	if (!af->f) {
		int r = af->path ? tb_negerrno() : -ENOMEM;

		close(fd);
		free(af->path);
		*af = (struct tb_atomic_file){0};
		return r;
	}
	af->direct = true;
	return 1;
}

int tb_atomic_open(const char *path, mode_t mode, struct tb_atomic_file *af)
{
	char *tmp = NULL;
	int fd, r;

	*af = (struct tb_atomic_file){0};
	r = open_in_place(path, af);
	if (r == 1) {
		af->mode = mode;
		return 0;
	}
	if (r < 0)
		return r;
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return -ENOMEM;
	/* mkostemp creates 0600 with O_EXCL and a random name: never follows or reuses a file. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = tb_negerrno();
		free(tmp);
		return r;
	}
	af->tmp = tmp;
	af->path = strdup(path);
	af->f = af->path ? fdopen(fd, "w") : NULL;
	if (!af->f) {
		r = af->path ? tb_negerrno() : -ENOMEM;
		close(fd);
		tb_atomic_discard(af);
		return r;
	}
	af->mode = mode;
	return 0;
}

int tb_atomic_close(struct tb_atomic_file *af)
{
	mode_t um = umask(0);
	int r = 0;

	umask(um);
	if (af->closed)
		return 0;
	if (fflush(af->f) != 0)
		r = tb_negerrno();
	if (af->direct) {
		if (fclose(af->f) != 0 && r == 0)
			r = tb_negerrno();
		af->f = NULL;
		af->closed = true;
		return r;
	}
	if (r == 0 && fchmod(fileno(af->f), af->mode & ~um) < 0)
		r = tb_negerrno();
	/* Durable before the rename: a crash leaves the old file or the whole new one. */
	if (r == 0 && fsync(fileno(af->f)) < 0 && errno != EINVAL)
		r = tb_negerrno();
	if (fclose(af->f) != 0 && r == 0)
		r = tb_negerrno();
	af->f = NULL;
	af->closed = true;
	return r;
}

int tb_atomic_commit(struct tb_atomic_file *af)
{
	int r = tb_atomic_close(af);

	if (r < 0 || af->direct)
		return r;
	if (rename(af->tmp, af->path) < 0)
		return tb_negerrno();
	free(af->tmp);
	af->tmp = NULL;
	return 0;
}

void tb_atomic_discard(struct tb_atomic_file *af)
{
	if (!af)
		return;
	if (af->f)
		fclose(af->f);
	if (af->tmp)
		unlink(af->tmp);
	free(af->tmp);
	free(af->path);
	*af = (struct tb_atomic_file){0};
}

int tb_write_file_atomic(const char *path, mode_t mode, int (*write_fn)(FILE *f, const void *data),
			 const void *data)
{
	struct tb_atomic_file af;
	int r = tb_atomic_open(path, mode, &af);

	if (r < 0)
		return r;
	r = write_fn(af.f, data);
	if (r >= 0 && ferror(af.f))
		r = -EIO;
	if (r >= 0)
		r = tb_atomic_commit(&af);
	tb_atomic_discard(&af);
	return r < 0 ? r : 0;
}

int tb_data_path(const char *name, char *out, size_t size)
{
	const char *env = getenv("TIGHTBOX_PROFILE_DIR");
	const char *dir = env && *env ? env : TB_PROFILE_DIR;
	int n = snprintf(out, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return access(out, R_OK) == 0 ? 0 : -ENOENT;
}

int tb_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return tb_negerrno();
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}
