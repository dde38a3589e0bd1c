/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one place tightbox reads whole files, writes files atomically and finds its installed data.
 */
#ifndef TB_FILEIO_H
#define TB_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/*
 * Reads all of @path (at most @max bytes) into a NUL-terminated malloc'd buffer. Returns 0,
 * -EFBIG when larger than @max, -EINVAL when @path is not a regular file (a FIFO, socket, device
 * or directory: opened without blocking, then refused, so a FIFO never hangs the caller), or
 * -errno; *@out and *@len are written only on success.
 */
int tb_read_file(const char *path, size_t max, char **out, size_t *len);
/* strerror() for tb_read_file's codes: -EINVAL reads "not a regular file". */
const char *tb_read_file_strerror(int r);

/*
 * A file being written atomically: a temporary file beside the target (same directory, so the
 * rename cannot cross filesystems), renamed over the target only when everything was written.
 */
struct tb_atomic_file {
	FILE *f;     /* write here */
	char *tmp;   /* the temporary file, NULL once renamed or removed */
	char *path;  /* the target */
	mode_t mode; /* final mode, before the umask */
	bool closed;
	bool direct; /* the target is a character device or FIFO, written in place (no tmp) */
};

/*
 * Creates the temporary file for @path; the target gets @mode & ~umask when committed (0644 for
 * outputs, 0600 for private files). When @path (after symlinks) is an existing character device
 * or FIFO (-o /dev/null, /dev/stdout, a pipe), it is opened and written in place as a shell's
 * `>` would, never replaced; a FIFO without a reader fails with -ENXIO instead of blocking, and
 * any other non-regular, non-directory target with -EINVAL. 0 or -errno; on failure @af needs
 * no cleanup.
 */
int tb_atomic_open(const char *path, mode_t mode, struct tb_atomic_file *af);
/* Flushes, sets the mode, fsyncs and closes the temporary file (still not renamed). 0 or -errno. */
int tb_atomic_close(struct tb_atomic_file *af);
/* Closes (when needed) and renames the temporary file over the target. 0 or -errno. */
int tb_atomic_commit(struct tb_atomic_file *af);
/* Removes the temporary file unless it was committed, and frees @af's strings. Accepts NULL. */
void tb_atomic_discard(struct tb_atomic_file *af);

/*
 * Writes @path atomically with @write_fn(@f, @data) filling the content (returns 0 or -errno).
 * On any failure nothing replaces @path. 0 or -errno.
 */
int tb_write_file_atomic(const char *path, mode_t mode, int (*write_fn)(FILE *f, const void *data),
			 const void *data);

/*
 * The path of the installed data file @name (e.g. "default.json", "baseline/docker-default.json")
 * in $TIGHTBOX_PROFILE_DIR when that is set (tests point it at the source tree's profiles/), else
 * in the install prefix's profile folder (CMake's datadir: /usr/share/tightbox/profiles for the
 * package). Returns 0 with @out set when the file is readable, -ENOENT (with @out naming where it
 * was looked for), or -ENAMETOOLONG.
 */
int tb_data_path(const char *name, char *out, size_t size);

/* Writes all @n bytes of @buf to @fd (retrying short writes and EINTR). 0 or -errno. */
int tb_write_all(int fd, const void *buf, size_t n);

#endif
