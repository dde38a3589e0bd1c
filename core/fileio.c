/* SPDX-License-Identifier: Apache-2.0 */
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

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

int tb_write_file_atomic(const char *path, const char *text, size_t len)
{
	_cleanup_free_ char *tmp = NULL;
	int fd, r = 0;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0)
		return tb_negerrno();
	for (size_t off = 0; off < len && r == 0;) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno != EINTR)
			r = tb_negerrno();
		else if (n > 0)
			off += (size_t)n;
	}
	if (r == 0 && fchmod(fd, 0644) < 0)
		r = tb_negerrno();
	if (close(fd) < 0 && r == 0)
		r = tb_negerrno();
	if (r == 0 && rename(tmp, path) < 0)
		r = tb_negerrno();
	if (r < 0)
		unlink(tmp);
	return r;
}
