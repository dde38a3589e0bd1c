/* SPDX-License-Identifier: Apache-2.0 */
/*
 * provenance.python: the version of the interpreter the sandbox runs. Asking that interpreter,
 * in a sandbox of the same rootfs, costs ~20 ms (a second sandbox and a Python start-up) on every
 * recording, so the answer is cached per interpreter file in tightbox's private cache
 * (core/cache.h: a folder only the caller's uid can write, every entry checked to be ours and
 * private, its full key compared byte for byte).
 *
 * The key is the file the sandbox's exec resolves argv[0] to, found the way runner/child.c's
 * lookup does (the sandbox's PATH, symlinks resolved inside the rootfs with RESOLVE_IN_ROOT), and
 * that file's identity: rootfs device and inode, path, device, inode, size, mtime and ctime. An
 * upgraded interpreter is a new file (dpkg and pip write a new inode) or at least a new mtime and
 * ctime, so it is a new key. The lookup is only trusted where the sandbox sees the host's rootfs
 * as it is: under /usr or /opt, with no --volume or --tmpfs over the path; elsewhere the version
 * is asked every time, as before.
 *
 * tb_python_exec_version answers a cheaper question at a traced exec (tracer/pyctx.c: does this
 * child run CPython >= 3.8?) from the name of the file the exec runs, with the same lookup inside
 * the tracee's root: no second sandbox at a ptrace stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cache.h"
#include "core/fileio.h"
#include "core/util.h"
#include "tracer/internal.h"

#define TB_PYVER_MAGIC "tightbox-python-version 1\n"
#define TB_PYVER_CACHE "python-version"

/*
 * The interpreter's version as the sandbox runs it: ask that interpreter, in the same sandbox
 * (same rootfs), rather than guessing from the host's. NULL when it cannot tell.
 */
static char *ask_python(const struct tb_run_config *c)
{
	char *argv[] = {c->argv[0], "-S", "-c",
			"import sys; print('%d.%d.%d' % sys.version_info[:3])", NULL};
	struct tb_run_config pc = *c;
	struct tb_run_result res = {0};
	struct tb_diag d;
	char *v = NULL;

	pc.argv = argv;
	pc.script = NULL;
	pc.stdin_path = NULL;
	pc.passthrough = false;
	pc.timeout = 10;
	pc.stdout_limit = 64;
	/* The version query is not the workload: never record or enforce anything on it. */
	pc.seccomp_mode = TB_SECCOMP_UNCONFINED;
	if (tb_run(&pc, NULL, &res, &d) == 0 && res.exited && res.exit_code == 0 && res.out) {
		res.out[strcspn(res.out, "\r\n")] = '\0';
		if (res.out[0])
			v = strdup(res.out);
	}
	tb_run_result_free(&res);
	return v;
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

/* Whether the sandbox sees @path (inside the rootfs) as the host's lookup does. */
static bool plain_rootfs_path(const struct tb_run_config *c, const char *path)
{
	if (!under(path, "/usr") && !under(path, "/opt"))
		return false;
	for (size_t i = 0; i < c->n_volumes; i++)
		if (c->volumes[i].dst && under(path, c->volumes[i].dst))
			return false;
	for (size_t i = 0; i < c->n_tmpfs; i++)
		if (c->tmpfs[i].path && under(path, c->tmpfs[i].path))
			return false;
	return true;
}

/* Opens @path inside @rootfd as the sandbox would resolve it (O_PATH), or -errno. */
static int open_in_root(int rootfd, const char *path)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));

	return fd < 0 ? tb_negerrno() : fd;
}

/* The path of @fd inside the rootfs whose host path is @root ("/" for the host's). */
static int path_in_root(int fd, const char *root, char *out, size_t size)
{
	char link[64], host[PATH_MAX];
	size_t n = strlen(root);
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, host, sizeof(host) - 1);
	if (len <= 0)
		return -ENOENT;
	host[len] = '\0';
	while (n > 1 && root[n - 1] == '/')
		n--;
	if (n == 1)
		n = 0; /* the host's root: the path as it is */
	else if (strncmp(host, root, n) || host[n] != '/')
		return -ENOENT;
	if (snprintf(out, size, "%s", host + n) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

/* The cache key of @c's interpreter (see the top of this file), or -errno when there is none. */
static int python_key(const struct tb_run_config *c, char **key)
{
	_cleanup_close_ int rootfd = -1;
	_cleanup_free_ char *root = NULL;
	const char *path = TB_RUN_PATH, *file = c->argv[0];
	char cand[PATH_MAX], real[PATH_MAX];
	struct stat rst, st;

	root = realpath(c->rootfs ? c->rootfs : "/", NULL);
	if (!root)
		return tb_negerrno();
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 || fstat(rootfd, &rst) < 0)
		return tb_negerrno();
	for (size_t i = 0; i < c->n_env; i++)
		if (!strncmp(c->env[i], "PATH=", 5))
			path = c->env[i] + 5;
	if (strchr(file, '/'))
		path = ""; /* one candidate: the path itself */
	do {
		const char *end = strchrnul(path, ':');
		_cleanup_close_ int fd = -1;

		if (strchr(file, '/')) {
			if (file[0] != '/') /* relative to the sandbox's working directory */
				return -ENOENT;
			snprintf(cand, sizeof(cand), "%s", file);
		} else if (snprintf(cand, sizeof(cand), "%.*s/%s", (int)(end - path), path, file) >=
			   (int)sizeof(cand)) {
			return -ENAMETOOLONG;
		}
		path = *end ? end + 1 : end;
		if (cand[0] != '/')
			continue;
		fd = open_in_root(rootfd, cand);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
			continue;
		/* Found: the file the sandbox's exec runs, if it sees these paths as we do. */
		if (path_in_root(fd, root, real, sizeof(real)) < 0 || !plain_rootfs_path(c, cand) ||
		    !plain_rootfs_path(c, real))
			return -ENOENT;
		if (asprintf(key,
			     TB_PYVER_MAGIC
			     "tightbox=%s root=%llu:%llu path=%s file=%llu:%llu size=%lld "
			     "mtime=%lld.%09ld ctime=%lld.%09ld\n",
			     TB_VERSION, (unsigned long long)rst.st_dev,
			     (unsigned long long)rst.st_ino, real, (unsigned long long)st.st_dev,
			     (unsigned long long)st.st_ino, (long long)st.st_size,
			     (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			     (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec) < 0)
			return -ENOMEM;
		return 0;
	} while (*path);
	return -ENOENT;
}

/* A version as Python prints it: digits, dots, and a pre-release tag ("3.13.0rc1", "3.12.1+"). */
static bool valid_version(const char *v, size_t n)
{
	return n > 0 && n < 32 && v[0] >= '0' && v[0] <= '9' && strspn(v, "0123456789.abrc+") == n;
}

static char *cache_get(const char *key, size_t key_len)
{
	const char *data, *v, *nl;
	char path[320];
	char *version = NULL;
	size_t len = 0;

	if (tb_cache_entry_path(TB_PYVER_CACHE, key, key_len, path, sizeof(path)) < 0 ||
	    tb_cache_map(path, 4096, &data, &len) < 0)
		return NULL;
	/* Another interpreter with the same index, or an older one, fails the key compare. */
	if (len > key_len && !memcmp(data, key, key_len)) {
		v = data + key_len;
		nl = memchr(v, '\n', len - key_len);
		if (nl && valid_version(v, (size_t)(nl - v)))
			version = strndup(v, (size_t)(nl - v));
	}
	if (len)
		munmap((void *)data, len);
	return version;
}

struct pyver_entry {
	const char *key, *version;
};

static int write_pyver(FILE *f, const void *data)
{
	const struct pyver_entry *e = data;

	return fprintf(f, "%s%s\n", e->key, e->version) < 0 ? -EIO : 0;
}

char *tb_python_version(const struct tb_run_config *c)
{
	_cleanup_free_ char *key = NULL;
	char path[320];
	char *v;

	if (python_key(c, &key) < 0 || !key)
		return ask_python(c);
	v = cache_get(key, strlen(key));
	if (v)
		return v;
	v = ask_python(c);
	/* Stored only when sane; a cache that cannot be written costs the query next time. */
	if (v && valid_version(v, strlen(v)) &&
	    tb_cache_entry_path(TB_PYVER_CACHE, key, strlen(key), path, sizeof(path)) == 0)
		tb_write_file_atomic(path, 0600, write_pyver,
				     &(struct pyver_entry){.key = key, .version = v});
	return v;
}

/* The host-visible path of the directory @fd (readlink of /proc/self/fd/FD). */
static int fd_path(int fd, char *out, size_t size)
{
	char link[64];
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, out, size - 1);
	if (len <= 0)
		return len < 0 ? tb_negerrno() : -ENOENT;
	out[len] = '\0';
	return 0;
}

int tb_python_exec_version(pid_t pid, const char *path)
{
	char p[64], root[PATH_MAX], cwd[PATH_MAX], full[PATH_MAX], real[PATH_MAX];
	_cleanup_close_ int rootfd = -1, fd = -1;
	unsigned long major, minor;
	const char *name;
	char *end;
	struct stat st;

	snprintf(p, sizeof(p), "/proc/%d/root", (int)pid);
	rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return tb_negerrno();
	if (fd_path(rootfd, root, sizeof(root)) < 0)
		return -ENOENT;
	if (path[0] == '/') {
		if (snprintf(full, sizeof(full), "%s", path) >= (int)sizeof(full))
			return -ENAMETOOLONG;
	} else {
		_cleanup_close_ int cwdfd = -1;

		/* Relative to the working directory, as the sandbox's exec resolves it. */
		snprintf(p, sizeof(p), "/proc/%d/cwd", (int)pid);
		cwdfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (cwdfd < 0 || path_in_root(cwdfd, root, cwd, sizeof(cwd)) < 0)
			return -ENOENT;
		if (snprintf(full, sizeof(full), "%s/%s", cwd, path) >= (int)sizeof(full))
			return -ENAMETOOLONG;
	}
	fd = open_in_root(rootfd, full);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return -ENOEXEC;
	if (path_in_root(fd, root, real, sizeof(real)) < 0)
		return -ENOENT;
	/* CPython installs itself as pythonX.Y and links the other names to it. */
	name = strrchr(real, '/') + 1;
	if (strncmp(name, "python", 6) || name[6] < '0' || name[6] > '9')
		return -ENOEXEC;
	major = strtoul(name + 6, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return -ENOEXEC;
	minor = strtoul(end + 1, &end, 10);
	if (*end || major > 99 || minor > 99)
		return -ENOEXEC;
	return (int)(major * 100 + minor);
}
