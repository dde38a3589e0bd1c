/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by every module: cleanup attributes, ownership transfer, array sizes. */
#ifndef TB_UTIL_H
#define TB_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Transfer ownership out of a variable that has a cleanup attribute. */
#define TB_TAKE_PTR(p)                                                                             \
	({                                                                                         \
		__typeof__(p) tb_tmp_ = (p);                                                       \
		(p) = NULL;                                                                        \
		tb_tmp_;                                                                           \
	})
#define TB_TAKE_FD(fd)                                                                             \
	({                                                                                         \
		int tb_tmpfd_ = (fd);                                                              \
		(fd) = -1;                                                                         \
		tb_tmpfd_;                                                                         \
	})

static inline void tb_freep(void *p)
{
	free(*(void **)p);
}
static inline void tb_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void tb_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_ __attribute__((cleanup(tb_freep)))
#define _cleanup_close_ __attribute__((cleanup(tb_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(tb_fclosep)))

/* Returns -errno of the last failing libc call, never 0 (so a caller can return it as failure). */
static inline int tb_negerrno(void)
{
	return errno > 0 ? -errno : -EIO;
}

#endif
