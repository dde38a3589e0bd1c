/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-run working directory /sandbox: a tmpfs the parent creates detached (fsopen + fsmount),
 * fills with the script and the inputs, and hands to the child, which attaches it. The parent keeps
 * its fd, so after the run - the sandbox's mount namespace already gone - it can still copy
 * /sandbox/out to --output-dir, and the tmpfs is freed when the fd closes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/util.h"
#include "runner/internal.h"

bool tb_workdir_wanted(const struct tb_run_config *c)
{
	return c->script || c->code || c->n_inputs || c->output_dir || c->warm;
}

static void full_or_errno(struct tb_diag *d, const struct tb_run_config *c, const char *flag,
			  const char *what, int r)
{
	if (r == -ENOSPC)
		tb_diag_set(d, what, 0, 0, flag, "does not fit in the working directory (%llu bytes)",
			    (unsigned long long)c->workdir_size);
	else
		tb_diag_set(d, what, 0, 0, flag, "%s", strerror(-r));
}

/* Creates @name in the tmpfs @dir with @src's bytes (@src_fd, or @data/@len), owned by the sandbox user. */
static int put_file(const struct tb_run_config *c, int dir, const char *name, int src_fd,
		    const char *data, size_t len)
{
	_cleanup_close_ int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	char buf[65536];
	int r;

	if (fd < 0)
		return tb_negerrno();
	if (src_fd < 0) {
		r = tb_write_all(fd, data, len);
	} else {
		ssize_t n;

		r = 0;
		while (r == 0 && (n = read(src_fd, buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			r = n < 0 ? tb_negerrno() : tb_write_all(fd, buf, (size_t)n);
		}
	}
	if (r == 0 && fchown(fd, c->uid, c->gid) < 0)
		r = tb_negerrno();
	return r;
}

static int put_host_file(const struct tb_run_config *c, int dir, const char *name, const char *path,
			 const char *flag, struct tb_diag *d)
{
	/* Resolved as volume sources are, without following a symlink anywhere in the path. */
	_cleanup_close_ int o_path = tb_open_source(path), src = -1;
	char self[64];
	struct stat st;
	int r;

	if (o_path >= 0) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", o_path);
		src = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	} else {
		errno = -o_path;
	}
	if (src < 0 || fstat(src, &st) < 0) {
		if (errno == ELOOP) {
			tb_diag_set(d, path, 0, 0, flag, "the path contains a symbolic link, which is not "
				    "followed: give the resolved path");
			return -ELOOP;
		}
		r = tb_negerrno();
		tb_diag_set(d, path, 0, 0, flag, "%s", strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		tb_diag_set(d, path, 0, 0, flag, "not a regular file");
		return -EINVAL;
	}
	if ((r = put_file(c, dir, name, src, NULL, 0)) < 0) {
		if (r == -EEXIST)
			tb_diag_set(d, path, 0, 0, flag, "a second file named '%s'", name);
		else
			full_or_errno(d, c, flag, path, r);
	}
	return r;
}

static int fs_set(int fs, const char *key, unsigned long long v, bool octal)
{
	char val[32];

	snprintf(val, sizeof(val), octal ? "%llo" : "%llu", v);
	return fsconfig(fs, FSCONFIG_SET_STRING, key, val, 0) < 0 ? tb_negerrno() : 0;
}

int tb_workdir_prepare(const struct tb_run_config *c, int *out, struct tb_diag *d)
{
	_cleanup_close_ int fs = -1, mnt = -1;
	unsigned long long inodes = c->output_max_files + c->n_inputs + 1024;
	int r;

	*out = -1;
	if (!tb_workdir_wanted(c))
		return 0;
	if (geteuid() != 0) {
		/* fsopen needs CAP_SYS_ADMIN where tightbox runs. Unprivileged, the sandbox uid is the
		 * caller, so a bound --script is readable whatever its mode. */
		if (c->code || c->n_inputs || c->output_dir || c->warm) {
			tb_diag_set(d, NULL, 0, 0, c->code ? "--code" : c->n_inputs ? "--input"
						   : c->warm ? "--warm" : "--output-dir",
				    "needs root: the working directory is a tmpfs tightbox mounts");
			return -EPERM;
		}
		return 0;
	}
	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	r = fs < 0 ? tb_negerrno() : 0;
	/* Root without CAP_SYS_ADMIN (some container builds): a --script alone is bound read-only
	 * as for an unprivileged caller; what needs the tmpfs is refused below. */
	if (r == -EPERM && !c->code && !c->n_inputs && !c->output_dir)
		return 0;
	if (r == 0)
		r = fs_set(fs, "size", (unsigned long long)c->workdir_size, false);
	if (r == 0)
		r = fs_set(fs, "nr_inodes", inodes, false);
	if (r == 0)
		r = fs_set(fs, "mode", 0755, true);
	if (r == 0 && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		r = tb_negerrno();
	if (r == 0 &&
	    (mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)) < 0)
		r = tb_negerrno();
	if (r < 0) {
		tb_diag_set(d, NULL, 0, 0, NULL, "cannot create the working directory tmpfs: %s", strerror(-r));
		return r;
	}
	if (c->code && (r = put_file(c, mnt, "script.py", -1, c->code, strlen(c->code))) < 0) {
		full_or_errno(d, c, "--code", NULL, r);
		return r;
	}
	if (c->script && (r = put_host_file(c, mnt, "script.py", c->script, "--script", d)) < 0)
		return r;
	for (size_t i = 0; i < c->n_inputs; i++)
		if ((r = put_host_file(c, mnt, c->inputs[i].name, c->inputs[i].path, "--input", d)) < 0)
			return r;
	if (c->output_dir) {
		if (mkdirat(mnt, "out", 0755) < 0 || fchownat(mnt, "out", c->uid, c->gid, AT_SYMLINK_NOFOLLOW) < 0) {
			r = tb_negerrno();
			tb_diag_set(d, NULL, 0, 0, "--output-dir", "cannot create /sandbox/out: %s", strerror(-r));
			return r;
		}
	}
	/* Last: while root owns the directory, filling it needs no CAP_DAC_OVERRIDE. */
	if (fchownat(mnt, "", c->uid, c->gid, AT_EMPTY_PATH) < 0) {
		r = tb_negerrno();
		tb_diag_set(d, NULL, 0, 0, NULL, "cannot hand the working directory to uid %u: %s",
			    (unsigned)c->uid, strerror(-r));
		return r;
	}
	*out = TB_TAKE_FD(mnt);
	return 0;
}

/* ---------- copy-out ---------- */

struct copy_ctx {
	const struct tb_run_config *c;
	struct tb_run_result *res;
	bool full; /* a bound was reached: the rest is skipped */
};

static void skipped(struct copy_ctx *x, const char *rel, const char *why)
{
	size_t n = 0;

	while (x->res->output_skipped && x->res->output_skipped[n])
		n++;
	if (n >= 100)
		return; /* a list, not a second copy of a huge tree */
	{
		char **v = realloc(x->res->output_skipped, (n + 2) * sizeof(*v));

		if (!v)
			return;
		x->res->output_skipped = v;
		if (asprintf(&v[n], "%s: %s", rel, why) < 0)
			v[n] = NULL;
		v[n + 1] = NULL;
	}
}

static int copy_file(struct copy_ctx *x, int sdir, int ddir, const char *name, const char *rel,
		     const struct stat *st)
{
	_cleanup_close_ int src = -1, dst = -1;
	char buf[65536];
	uint64_t left;
	ssize_t n;
	int r = 0;

	if (x->res->output_files >= x->c->output_max_files) {
		x->full = true; /* the rest is not even listed one by one */
		skipped(x, rel, "over --output-max-files (and everything after it)");
		return 0;
	}
	if (x->res->output_bytes + (uint64_t)st->st_size > x->c->output_max_bytes) {
		skipped(x, rel, "over --output-max-bytes");
		return 0;
	}
	src = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (src < 0)
		return 0;
	/* Permission bits only: no setuid, setgid or sticky bit reaches the host. */
	dst = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 0777);
	if (dst < 0) {
		skipped(x, rel, strerror(errno));
		return 0;
	}
	left = x->c->output_max_bytes - x->res->output_bytes;
	while ((n = read(src, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (uint64_t)n > left) {
			r = n < 0 ? tb_negerrno() : -EFBIG;
			break;
		}
		if ((r = tb_write_all(dst, buf, (size_t)n)) < 0)
			break;
		left -= (uint64_t)n;
		x->res->output_bytes += (uint64_t)n;
	}
	fchmod(dst, st->st_mode & 0777);
	x->res->output_files++;
	return r == -EFBIG ? 0 : r;
}

static int copy_dir(struct copy_ctx *x, int sdir, int ddir, const char *rel, int depth)
{
	int fd = openat(sdir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dh;
	struct dirent *e;
	int r = 0;

	if (fd < 0)
		return tb_negerrno();
	if (!(dh = fdopendir(fd))) { /* on success dh owns fd */
		r = tb_negerrno();
		close(fd);
		return r;
	}
	while (r == 0 && !x->full && (e = readdir(dh))) {
		char sub[4096];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		if (fstatat(dirfd(dh), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			r = copy_file(x, dirfd(dh), ddir, e->d_name, sub, &st);
		} else if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int s2 = -1, d2 = -1;

			if (depth >= 16) {
				skipped(x, sub, "deeper than 16 directories");
				continue;
			}
			if (mkdirat(ddir, e->d_name, 0755) < 0 && errno != EEXIST) {
				skipped(x, sub, strerror(errno));
				continue;
			}
			s2 = openat(dirfd(dh), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			d2 = openat(ddir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s2 < 0 || d2 < 0) {
				skipped(x, sub, "cannot open the directory");
				continue;
			}
			r = copy_dir(x, s2, d2, sub, depth + 1);
		} else {
			skipped(x, sub, S_ISLNK(st.st_mode) ? "symlink (not followed)" : "not a regular file");
		}
	}
	closedir(dh);
	return r;
}

int tb_workdir_copy_out(const struct tb_run_config *c, int fd, struct tb_run_result *res,
			struct tb_diag *d)
{
	_cleanup_close_ int src = -1, dst = -1;
	struct copy_ctx x = {.c = c, .res = res};
	int r;

	if (!c->output_dir || fd < 0)
		return 0;
	res->has_output = true;
	src = openat(fd, "out", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0) {
		tb_run_result_warnf(res, TB_WARN_OTHER, "--output-dir",
				    "/sandbox/out was removed by the program: nothing copied");
		return 0;
	}
	if (mkdir(c->output_dir, 0755) < 0 && errno != EEXIST) {
		r = tb_negerrno();
		tb_diag_set(d, c->output_dir, 0, 0, "--output-dir", "%s", strerror(-r));
		return r;
	}
	dst = open(c->output_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dst < 0) {
		r = tb_negerrno();
		tb_diag_set(d, c->output_dir, 0, 0, "--output-dir", "%s", strerror(-r));
		return r;
	}
	r = copy_dir(&x, src, dst, "", 0);
	if (r < 0)
		tb_diag_set(d, c->output_dir, 0, 0, "--output-dir", "copying the output: %s", strerror(-r));
	return r;
}
