/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "runner/internal.h"

struct tb_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

int tb_for_each_dirent(const char *path, int (*fn)(const char *name, unsigned char type, void *data),
		       void *data)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char buf[8192] __attribute__((aligned(8)));
	ssize_t n;
	int r;

	if (fd < 0)
		return tb_negerrno();
	while ((n = getdents64(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			struct tb_dirent64 *de = (struct tb_dirent64 *)(buf + off);

			off += de->d_reclen;
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if ((r = fn(de->d_name, de->d_type, data)) != 0)
				return r < 0 ? r : 0;
		}
	}
	return n < 0 ? tb_negerrno() : 0;
}
