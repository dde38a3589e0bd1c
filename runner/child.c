/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox child: runs as pid 1 of fresh pid, mount, network, ipc, uts (and, unprivileged, user)
 * namespaces, builds a read-only root on a small tmpfs, drops every privilege and execs.
 *
 * Order matters and each step says why. Any failure is reported to the parent as {step, errno}
 * over a CLOEXEC pipe and the child _exits: it never prints, so the parent never has to guess.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <linux/securebits.h>

#include "apparmor/apparmor.h"
#include "core/util.h"
#include "runner/internal.h"

/* Where the new root is assembled inside the child's private mount namespace. Any existing
 * directory works: everything taken from the host is cloned into detached trees first. */
#define STAGING "/tmp"

/* Top-level entries shown from the host when --rootfs is "/": the interpreter, its libraries and
 * configuration, and nothing with user data or live sockets (/home, /root, /run, /var, /srv). */
static const char *const host_entries[] = {"bin", "etc", "lib", "lib32", "lib64", "libx32", "opt",
					   "sbin", "usr"};

/* Entries of an image rootfs that the sandbox supplies itself. */
static const char *const own_entries[] = {"dev", "proc", "sys", "tmp"};

/* Docker's masked and read-only /proc paths (moby oci/defaults.go). */
static const struct {
	const char *path;
	bool dir; /* masked with an empty read-only tmpfs; files with /dev/null */
} proc_masked[] = {
	{"/proc/asound", true},	      {"/proc/acpi", true},	   {"/proc/kcore", false},
	{"/proc/keys", false},	      {"/proc/latency_stats", false}, {"/proc/timer_list", false},
	{"/proc/timer_stats", false}, {"/proc/sched_debug", false},  {"/proc/scsi", true},
	{"/proc/sys/kernel/core_pattern", false}};
static const char *const proc_readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
					    "/proc/sysrq-trigger"};

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom"};

#define MAX_ENTRIES 64

struct tree {
	char name[256];
	int fd;            /* detached mount (open_tree clone), -1 for symlinks */
	bool is_dir;
	const char *link;  /* symlink target when fd < 0, in the links pool */
};

/*
 * The symlink targets of the trees, packed: room for MAX_ENTRIES targets of PATH_MAX each, so it
 * never runs out, but only the pages the targets fill are touched (a 4 KB target buffer in each
 * tree made every entry of the array its own stack page: ~9 more page faults in every setup).
 */
struct links {
	char buf[MAX_ENTRIES * 4096];
	size_t used;
};

/* Timestamps a point of the setup for --debug-timing: clock_gettime is a vDSO call, no syscall
 * where the clocksource allows (tsc, kvm-clock); elsewhere it is one syscall, which is why the
 * last mark is taken before a recorder's hook and the filter. */
static void mark(struct tb_child_args *a, enum tb_child_mark m)
{
	struct timespec ts = {0, 0};

	if (!a->shared)
		return;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	a->shared->mark_ns[m] = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static __attribute__((noreturn)) void fail_step(struct tb_child_args *a, enum tb_step step, int err,
						int index)
{
	struct tb_child_report rep = {.step = step, .err = err > 0 ? err : EIO, .index = index};
	ssize_t n;

	n = write(a->status_fd, &rep, sizeof(rep));
	(void)n;
	syscall(SYS_exit_group,
		step == TB_STEP_EXEC || step == TB_STEP_EXEC_LOOKUP ? (err == ENOENT ? 127 : 126) : 125);
	/* Only a profile that denies exit_group gets here (glibc's _exit would end in a hlt and a
	 * SIGSEGV that looks like the program's); the parent reads the report from a->shared. */
	__builtin_trap();
}

#define CHECK(a, cond, step, idx)                                                                  \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fail_step((a), (step), errno, (idx));                                      \
	} while (0)

static int clone_tree(const char *path, bool recursive)
{
	unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);

	return open_tree(AT_FDCWD, path, flags);
}

/* Read-only (unless @rw), nosuid, nodev, optionally noexec, recursively. */
static int set_tree_attrs(int fd, bool rw, bool noexec)
{
	struct mount_attr attr = {0};

	attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (rw ? 0 : MOUNT_ATTR_RDONLY) |
			(noexec ? MOUNT_ATTR_NOEXEC : 0);
	return mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
}

static int attach_tree(int fd, const char *target)
{
	return move_mount(fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return true;
	return false;
}

/* Adds one rootfs entry to @t. Returns 1 when added, 0 when skipped, -errno on failure. */
static int take_entry(const char *rootfs, const char *name, struct tree *t, struct links *l)
{
	char path[4096];
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", strcmp(rootfs, "/") ? rootfs : "", name);
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : tb_negerrno();
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->fd = -1;
	if (S_ISLNK(st.st_mode)) {
		char *to = l->buf + l->used;

		/* At most MAX_ENTRIES targets of at most 4095 bytes each: always room. */
		n = readlink(path, to, 4095);
		if (n < 0)
			return tb_negerrno();
		to[n] = '\0';
		l->used += (size_t)n + 1;
		t->link = to;
		return 1;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return 0; /* sockets, fifos, devices at the top of an image are not shown */
	t->is_dir = S_ISDIR(st.st_mode);
	t->fd = clone_tree(path, t->is_dir);
	if (t->fd < 0)
		return tb_negerrno();
	if (set_tree_attrs(t->fd, false, false) < 0)
		return tb_negerrno();
	return 1;
}

struct take_ctx {
	struct tb_child_args *a;
	const char *rootfs;
	struct tree *trees;
	struct links *links;
	size_t n;
};

static int take_one(const char *name, unsigned char type, void *data)
{
	struct take_ctx *t = data;
	int r;

	(void)type; /* take_entry's lstat also says what a symlink points to */
	if (t->n >= MAX_ENTRIES)
		return 1;
	if (in_list(name, own_entries, TB_ARRAY_SIZE(own_entries)))
		return 0;
	if (tb_workdir_wanted(t->a->cfg) && !strcmp(name, "sandbox"))
		return 0;
	r = take_entry(t->rootfs, name, &t->trees[t->n], t->links);
	if (r < 0)
		return r;
	t->n += (size_t)r;
	return 0;
}

static size_t take_rootfs(struct tb_child_args *a, struct tree *trees, struct links *links)
{
	const char *rootfs = a->cfg->rootfs ? a->cfg->rootfs : "/";
	size_t n = 0;
	int r;

	if (!strcmp(rootfs, "/")) {
		for (size_t i = 0; i < TB_ARRAY_SIZE(host_entries); i++) {
			r = take_entry(rootfs, host_entries[i], &trees[n], links);
			if (r < 0)
				fail_step(a, TB_STEP_ROOTFS, -r, (int)i);
			n += (size_t)r;
		}
		return n;
	}
	/* An image rootfs: show all of it except what the sandbox provides fresh. */
	struct take_ctx tc = {.a = a, .rootfs = rootfs, .trees = trees, .links = links};
	r = tb_for_each_dirent(rootfs, take_one, &tc);
	if (r < 0)
		fail_step(a, TB_STEP_ROOTFS, -r, -1);
	return tc.n;
}

/* mkdir -p of @path (absolute, below STAGING). Existing components are fine. */
static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return tb_negerrno();
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return tb_negerrno();
	return 0;
}

/* An empty regular file as a mount point: one mknod instead of open + close. */
static int touch(const char *path)
{
	if (mknod(path, S_IFREG | 0644, 0) < 0 && errno != EEXIST)
		return tb_negerrno();
	return 0;
}

/* Creates the mount point for a volume or script at @dst inside the staging root. */
static int make_mountpoint(const char *dst, bool dir)
{
	char path[4096], parent[4096];
	char *slash;
	int r;

	snprintf(path, sizeof(path), STAGING "%s", dst);
	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	*slash = '\0';
	r = mkdir_p(parent, 0755);
	if (r < 0)
		return r;
	if (dir)
		return mkdir(path, 0755) < 0 && errno != EEXIST ? tb_negerrno() : 0;
	return touch(path);
}

static void setup_dev(struct tb_child_args *a)
{
	char path[256], src[256];
	static const char *const links[][2] = {{"fd", "/proc/self/fd"},
					       {"stdin", "/proc/self/fd/0"},
					       {"stdout", "/proc/self/fd/1"},
					       {"stderr", "/proc/self/fd/2"},
					       {"ptmx", "/dev/pts/ptmx"}};

	CHECK(a, mkdir(STAGING "/dev", 0755) == 0, TB_STEP_DEV, -1);
	CHECK(a, mount("tmpfs", STAGING "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755") == 0,
	      TB_STEP_DEV, -1);
	for (size_t i = 0; i < TB_ARRAY_SIZE(dev_nodes); i++) {
		snprintf(path, sizeof(path), STAGING "/dev/%s", dev_nodes[i]);
		snprintf(src, sizeof(src), "/dev/%s", dev_nodes[i]);
		CHECK(a, touch(path) == 0, TB_STEP_DEV, (int)i);
		CHECK(a, mount(src, path, NULL, MS_BIND, NULL) == 0, TB_STEP_DEV, (int)i);
	}
	{
		/* The binds carry the host /dev's flags: nosuid and noexec for all of them in one
		 * recursive call (not nodev: they are the devices). */
		struct mount_attr attr = {.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC};

		CHECK(a, mount_setattr(AT_FDCWD, STAGING "/dev", AT_RECURSIVE, &attr, sizeof(attr)) == 0,
		      TB_STEP_DEV, -1);
	}
	for (size_t i = 0; i < TB_ARRAY_SIZE(links); i++) {
		snprintf(path, sizeof(path), STAGING "/dev/%s", links[i][0]);
		CHECK(a, symlink(links[i][1], path) == 0, TB_STEP_DEV, -1);
	}
	if (a->cfg->shm_size) {
		char opts[64];

		snprintf(opts, sizeof(opts), "size=%llu,mode=1777",
			 (unsigned long long)a->cfg->shm_size);
		CHECK(a, mkdir(STAGING "/dev/shm", 01777) == 0, TB_STEP_DEV, -1);
		CHECK(a, mount("tmpfs", STAGING "/dev/shm", "tmpfs",
			       MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) == 0,
		      TB_STEP_DEV, -1);
	}
	/* No more entries: /dev itself becomes read-only (the binds and /dev/shm stay writable). */
	CHECK(a, mount(NULL, STAGING "/dev", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
		       "size=64k,mode=0755") == 0,
	      TB_STEP_DEV, -1);
}

static void setup_proc(struct tb_child_args *a)
{
	char path[256];

	CHECK(a, mkdir(STAGING "/proc", 0555) == 0, TB_STEP_PROC, -1);
	/* A fresh procfs for the new pid namespace: the host's processes are not in it. */
	CHECK(a, mount("proc", STAGING "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0,
	      TB_STEP_PROC, -1);
	/* No stat() first (15 of them were ~40 us): the mount itself says whether the path exists
	 * (ENOENT: this kernel has no such file, nothing to mask) and whether it is a directory
	 * (ENOTDIR: a file over a directory or the other way round, so the other kind of mask). */
	for (size_t i = 0; i < TB_ARRAY_SIZE(proc_masked); i++) {
		bool dir = proc_masked[i].dir;

		snprintf(path, sizeof(path), STAGING "%s", proc_masked[i].path);
		for (int tries = 0; tries < 2; tries++, dir = !dir) {
			int r = dir ? mount("tmpfs", path, "tmpfs",
					    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0")
				    : mount(STAGING "/dev/null", path, NULL, MS_BIND, NULL);

			if (r == 0 || errno == ENOENT)
				break;
			CHECK(a, errno == ENOTDIR && tries == 0, TB_STEP_PROC, (int)i);
		}
	}
	for (size_t i = 0; i < TB_ARRAY_SIZE(proc_readonly); i++) {
		snprintf(path, sizeof(path), STAGING "%s", proc_readonly[i]);
		if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
			CHECK(a, errno == ENOENT, TB_STEP_PROC, (int)i);
			continue;
		}
		CHECK(a, mount(NULL, path, NULL,
			       MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			       NULL) == 0,
		      TB_STEP_PROC, (int)i);
	}
}

int tb_open_source(const char *path)
{
	/* No symlink in any component: a rw volume may hold links a previous run left there, and
	 * following one as root would show the host's files (or bind them writable). No magic
	 * links either (/proc/self/fd/N, /proc/PID/root). */
	struct open_how how = {.flags = O_PATH | O_CLOEXEC,
			       .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

	return fd < 0 ? tb_negerrno() : fd;
}

/* A detached clone of a host path resolved without following symlinks (tb_open_source). */
static int clone_source(struct tb_child_args *a, const char *path, bool any_type, enum tb_step step,
			int index)
{
	int src = tb_open_source(path), fd;
	struct stat st;

	if (src < 0)
		fail_step(a, step, -src, index);
	CHECK(a, fstat(src, &st) == 0, step, index);
	if (!any_type && !S_ISREG(st.st_mode))
		fail_step(a, step, EINVAL, index);
	fd = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
					(S_ISDIR(st.st_mode) ? AT_RECURSIVE : 0));
	CHECK(a, fd >= 0, step, index);
	close(src);
	return fd;
}

static void setup_root(struct tb_child_args *a)
{
	const struct tb_run_config *c = a->cfg;
	struct tree trees[MAX_ENTRIES];
	struct links links; /* its buf is not cleared: only what readlink fills is touched */
	int vol_fd[TB_MAX_MOUNTS];
	int script_fd = -1;
	char path[4096];
	size_t n;

	/* Nothing done from here on may propagate back to the host. */
	CHECK(a, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, TB_STEP_MOUNT_PRIVATE, -1);

	/* 1. Take detached clones of everything the sandbox shows, before STAGING hides anything. */
	links.used = 0;
	n = take_rootfs(a, trees, &links);
	for (size_t i = 0; i < c->n_volumes; i++) {
		vol_fd[i] = clone_source(a, c->volumes[i].src, true, TB_STEP_VOLUME, (int)i);
		/* Writable volumes are noexec: nothing the program writes may be executed. */
		CHECK(a, set_tree_attrs(vol_fd[i], c->volumes[i].rw, c->volumes[i].rw) == 0,
		      TB_STEP_VOLUME, (int)i);
	}
	if (c->script && a->workdir_fd < 0) {
		/* Unprivileged: no working-directory tmpfs; the script is bound read-only. */
		script_fd = clone_source(a, c->script, false, TB_STEP_SCRIPT, -1);
		CHECK(a, set_tree_attrs(script_fd, false, true) == 0, TB_STEP_SCRIPT, -1);
	}

	/* 2. The new root: a tiny tmpfs that becomes read-only once its mount points exist. */
	CHECK(a, mount("tmpfs", STAGING, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") == 0,
	      TB_STEP_STAGING, -1);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), STAGING "/%s", trees[i].name);
		if (trees[i].fd < 0) {
			CHECK(a, symlink(trees[i].link, path) == 0, TB_STEP_ROOTFS, (int)i);
			continue;
		}
		CHECK(a, (trees[i].is_dir ? mkdir(path, 0755) : touch(path)) == 0, TB_STEP_ROOTFS,
		      (int)i);
		CHECK(a, attach_tree(trees[i].fd, path) == 0, TB_STEP_ROOTFS, (int)i);
		close(trees[i].fd);
	}
	setup_dev(a);
	mark(a, TB_MARK_PROC_START);
	setup_proc(a);
	mark(a, TB_MARK_PROC_END);
	CHECK(a, mkdir(STAGING "/sys", 0555) == 0 || errno == EEXIST, TB_STEP_STAGING, -1);

	/* 3. Writable tmpfs mounts (/tmp by default: size-capped, noexec, nosuid, nodev). */
	for (size_t i = 0; i < c->n_tmpfs; i++) {
		char opts[64];

		snprintf(opts, sizeof(opts), "size=%llu,mode=%o", (unsigned long long)c->tmpfs[i].size,
			 c->tmpfs[i].mode);
		snprintf(path, sizeof(path), STAGING "%s", c->tmpfs[i].path);
		CHECK(a, mkdir_p(path, 0755) == 0, TB_STEP_TMPFS, (int)i);
		CHECK(a, mount("tmpfs", path, "tmpfs", c->tmpfs[i].flags | MS_NOSUID | MS_NODEV, opts) == 0,
		      TB_STEP_TMPFS, (int)i);
	}
	for (size_t i = 0; i < c->n_volumes; i++) {
		struct stat st;

		CHECK(a, fstat(vol_fd[i], &st) == 0, TB_STEP_VOLUME, (int)i);
		CHECK(a, make_mountpoint(c->volumes[i].dst, S_ISDIR(st.st_mode)) == 0, TB_STEP_VOLUME,
		      (int)i);
		snprintf(path, sizeof(path), STAGING "%s", c->volumes[i].dst);
		CHECK(a, attach_tree(vol_fd[i], path) == 0, TB_STEP_VOLUME, (int)i);
		close(vol_fd[i]);
	}
	if (a->workdir_fd >= 0) {
		CHECK(a, make_mountpoint("/sandbox", true) == 0, TB_STEP_WORKDIR_MOUNT, -1);
		CHECK(a, attach_tree(a->workdir_fd, STAGING "/sandbox") == 0, TB_STEP_WORKDIR_MOUNT, -1);
	}
	if (script_fd >= 0) {
		CHECK(a, make_mountpoint("/sandbox/script.py", false) == 0, TB_STEP_SCRIPT, -1);
		CHECK(a, attach_tree(script_fd, STAGING "/sandbox/script.py") == 0, TB_STEP_SCRIPT, -1);
		close(script_fd);
	}

	/* 4. Seal the root and switch to it; the old root is detached, not just hidden. */
	CHECK(a, mount(NULL, STAGING, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) == 0,
	      TB_STEP_STAGING, -1);
	CHECK(a, chdir(STAGING) == 0, TB_STEP_PIVOT, -1);
	CHECK(a, syscall(SYS_pivot_root, ".", ".") == 0, TB_STEP_PIVOT, -1);
	CHECK(a, umount2(".", MNT_DETACH) == 0, TB_STEP_PIVOT, -1);
	CHECK(a, chdir("/") == 0, TB_STEP_PIVOT, -1);
}

/*
 * The sandbox's own user namespace gets a namespace quota of zero: nothing inside can create a
 * user, mount, pid, net, ipc, uts, cgroup or time namespace, even with the seccomp filter off
 * (unprivileged user namespaces are the usual way into kernel code that otherwise needs root).
 * These sysctls are per user namespace, and only ours is changed.
 */
static const char *const ns_kinds[] = {"user", "mnt", "pid", "net", "ipc", "uts", "cgroup", "time"};

/* Opened while the host's /proc is still in view (the sandbox's /proc/sys is read-only). */
static void open_ns_quotas(struct tb_child_args *a, int *fds)
{
	char path[96];

	for (size_t i = 0; i < TB_ARRAY_SIZE(ns_kinds); i++) {
		snprintf(path, sizeof(path), "/proc/sys/user/max_%s_namespaces", ns_kinds[i]);
		fds[i] = -1;
		if (!a->own_userns)
			continue; /* these would be the host's quotas */
		fds[i] = open(path, O_WRONLY | O_CLOEXEC);
		/* Older kernels lack some (time: 5.6, cgroup: 4.6); a container may show /proc/sys
		 * read-only. The quota is an extra layer (seccomp already refuses unshare and
		 * namespace clone flags), so it is applied where it can be. */
		CHECK(a, fds[i] >= 0 || errno == ENOENT || errno == EROFS || errno == EACCES,
		      TB_STEP_NSQUOTA, (int)i);
	}
}

/* Written once the setup made its last namespace (open_tree clones count as mount namespaces). */
static void zero_ns_quotas(struct tb_child_args *a, int *fds)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(ns_kinds); i++) {
		if (fds[i] < 0)
			continue;
		CHECK(a, write(fds[i], "0", 1) == 1, TB_STEP_NSQUOTA, (int)i);
		close(fds[i]);
	}
}

/* `--network none` still has a loopback interface that is up, as in docker. */
static void loopback_up(struct tb_child_args *a)
{
	struct ifreq ifr = {0};
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	CHECK(a, s >= 0, TB_STEP_LOOPBACK, -1);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	CHECK(a, ioctl(s, SIOCGIFFLAGS, &ifr) == 0, TB_STEP_LOOPBACK, -1);
	ifr.ifr_flags |= IFF_UP;
	CHECK(a, ioctl(s, SIOCSIFFLAGS, &ifr) == 0, TB_STEP_LOOPBACK, -1);
}

static void setup_fds(struct tb_child_args *a)
{
	/* stdio first, then move the status pipe to fd 3 and close everything above it: the caller's
	 * leaked descriptors (and ours) never reach the sandboxed program. */
	CHECK(a, dup2(a->stdin_fd, 0) == 0, TB_STEP_FDS, 0);
	CHECK(a, dup2(a->out_fd, 1) == 1, TB_STEP_FDS, 1);
	CHECK(a, dup2(a->err_fd, 2) == 2, TB_STEP_FDS, 2);
	if (a->status_fd != 3) {
		CHECK(a, dup3(a->status_fd, 3, O_CLOEXEC) == 3, TB_STEP_FDS, 3);
		a->status_fd = 3;
	}
	/* The sync pipe stays (as fd 4) until the parent-death check after the uid change. */
	if (a->sync_fd != 4) {
		CHECK(a, dup3(a->sync_fd, 4, O_CLOEXEC) == 4, TB_STEP_FDS, 4);
		a->sync_fd = 4;
	}
	/* The phase-2 program (two-phase runs): at a fixed number, inherited by the bootstrap, which
	 * closes it before user code runs. It comes from fd >= 10, so nothing above clobbered it. */
	if (a->phase2_fd >= 0)
		CHECK(a, dup2(a->phase2_fd, TB_PHASE2_FD) == TB_PHASE2_FD, TB_STEP_FDS, TB_PHASE2_FD);
	CHECK(a, syscall(SYS_close_range, a->phase2_fd >= 0 ? TB_PHASE2_FD + 1U : 5U, ~0U, 0) == 0,
	      TB_STEP_FDS, 5);
}

static void set_rlimits(struct tb_child_args *a)
{
	const struct tb_run_config *c = a->cfg;

	for (int i = 0; i < (int)TB_ARRAY_SIZE(c->rlimits); i++) {
		struct rlimit rl;

		if (!c->rlimits[i].set)
			continue;
		rl.rlim_cur = c->rlimits[i].soft;
		rl.rlim_max = c->rlimits[i].hard;
		CHECK(a, setrlimit(i, &rl) == 0, TB_STEP_RLIMIT, i);
	}
	if (a->rlimit_fallback && c->memory) {
		/* Without a memory cgroup, cap the address space instead (coarser: counts mappings). */
		struct rlimit rl = {c->memory, c->memory};

		CHECK(a, setrlimit(RLIMIT_AS, &rl) == 0, TB_STEP_RLIMIT, RLIMIT_AS);
	}
}

static void drop_privileges(struct tb_child_args *a)
{
	const struct tb_run_config *c = a->cfg;

	/* The bounding set and securebits need CAP_SETPCAP, so they go before the uid change. With
	 * NOROOT locked, even uid 0 could never regain capabilities through execve. */
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		CHECK(a, prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0 || errno == EINVAL, TB_STEP_CAPS, cap);
	CHECK(a, prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == 0, TB_STEP_CAPS, -1);
	CHECK(a, prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
						  SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
						  SECBIT_NO_CAP_AMBIENT_RAISE |
						  SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) == 0,
	      TB_STEP_CAPS, -2);
	/* In an unprivileged user namespace setgroups is denied (and there is only one group). */
	/* Raw syscalls, not glibc's wrappers: those broadcast the change to every thread glibc
	 * believes the process has, and a child cloned from a multi-threaded caller inherits that
	 * belief without the threads - it would wait for them forever. We are one thread. */
	CHECK(a, syscall(SYS_setgroups, 0, NULL) == 0 || a->unprivileged, TB_STEP_UID, 0);
	CHECK(a, syscall(SYS_setresgid, c->gid, c->gid, c->gid) == 0, TB_STEP_UID, 1);
	CHECK(a, syscall(SYS_setresuid, c->uid, c->uid, c->uid) == 0, TB_STEP_UID, 2);
	/* The uid change cleared permitted/effective; clear inheritable too (and everything in a
	 * user namespace, where the uid did not change). capset(2) directly: libcap's cap_init
	 * allocates, which the child must not (see tb_for_each_dirent). */
	{
		struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
		struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3];

		memset(none, 0, sizeof(none));
		CHECK(a, syscall(SYS_capset, &hdr, none) == 0, TB_STEP_CAPS, -3);
	}
	/* The uid change also cleared the parent-death signal: set it again, and make sure the
	 * parent did not die in between (then nobody would ever kill us). */
	CHECK(a, prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == 0, TB_STEP_UID, 3);
	{
		struct pollfd pfd = {.fd = a->sync_fd, .events = POLLIN};

		/* The parent holds the write end for the whole run: a hang-up means it is gone. */
		if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
			fail_step(a, TB_STEP_UID, ESRCH, 3);
		close(a->sync_fd);
	}
	CHECK(a, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, TB_STEP_NNP, -1);
}

/* Looks @file up like execvp would, but with the sandbox's PATH. 0 and @out, or errno. */
static int lookup_exec(const char *file, char **envp, char *out, size_t size)
{
	const char *path = TB_RUN_PATH;
	int first_err = ENOENT;

	if (strchr(file, '/')) {
		snprintf(out, size, "%s", file);
		return access(out, X_OK) == 0 ? 0 : errno;
	}
	for (char **e = envp; *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	while (*path) {
		const char *end = strchrnul(path, ':');
		struct stat st;

		snprintf(out, size, "%.*s/%s", (int)(end - path), path, file);
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(out, X_OK) == 0)
				return 0;
			first_err = EACCES;
		}
		path = *end ? end + 1 : end;
	}
	return first_err;
}

/*
 * execve failed. After the filter, the profile itself may deny it, and then perhaps write and
 * exit_group too: the verdict goes to the shared page first, which needs no syscall. execve(NULL)
 * tells which it is: the kernel answers EFAULT whenever the filter lets execve through.
 */
static __attribute__((noreturn)) void exec_failed(struct tb_child_args *a, bool filtered, int err)
{
	if (filtered && a->shared && syscall(SYS_execve, NULL, NULL, NULL) < 0 && errno != EFAULT) {
		a->shared->late.err = err;
		a->shared->late.index = -1;
		a->shared->late.step = TB_STEP_EXEC_DENIED;
		fail_step(a, TB_STEP_EXEC_DENIED, err, -1);
	}
	fail_step(a, TB_STEP_EXEC, err, -1);
}

void tb_child_main(struct tb_child_args *a)
{
	const struct tb_run_config *c = a->cfg;
	char exe[4096], go;
	int err, ns_quota_fds[TB_ARRAY_SIZE(ns_kinds)];
	bool filtered;

	/* Die with tightbox. The first byte says the id maps are written (user namespace). */
	CHECK(a, prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == 0, TB_STEP_SYNC, -1);
	if (read(a->sync_fd, &go, 1) != 1)
		_exit(125); /* parent gone or refused: it reports why itself */
	mark(a, TB_MARK_WOKE);

	/* A session and process group of its own: kill(0, SIG), kill(-pgrp) and a terminal's
	 * job-control signals reach only the sandbox, never the caller's process group - whether
	 * or not Landlock scopes signals (ABI 6) and the profile allows kill. */
	CHECK(a, setsid() >= 0, TB_STEP_SESSION, -1);
	/* A fresh, empty session keyring: the caller's, and the keys it possesses through it, are
	 * out of reach even with keyctl allowed. Without CONFIG_KEYS (ENOSYS) there is nothing to
	 * inherit; a caller's own filter that denies keyctl (EPERM, as Docker's does) denies it to
	 * the sandbox too. */
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS &&
	    errno != EPERM)
		fail_step(a, TB_STEP_KEYRING, errno, -1);
	mark(a, TB_MARK_SESSION);
	/* Into the v1 run cgroups first (the cgroup2 one we were born in): everything after this,
	 * the setup included, is accounted and limited. */
	if (a->cgroup && (err = tb_cgroup_join_v1(a->cgroup)) < 0)
		fail_step(a, TB_STEP_CGROUP, -err, -1);
	/* A cgroup namespace rooted at our own cgroup hides the host's cgroup tree. */
	CHECK(a, unshare(CLONE_NEWCGROUP) == 0, TB_STEP_SYNC, -2);
	open_ns_quotas(a, ns_quota_fds);
	mark(a, TB_MARK_CGROUP);
	setup_root(a);
	mark(a, TB_MARK_ROOT);
	zero_ns_quotas(a, ns_quota_fds);
	mark(a, TB_MARK_NSQUOTA);
	CHECK(a, sethostname("tightbox", 8) == 0, TB_STEP_HOSTNAME, -1);
	loopback_up(a);
	CHECK(a, chdir(c->workdir ? c->workdir : (tb_workdir_wanted(c) ? "/sandbox" : "/")) == 0, TB_STEP_WORKDIR,
	      -1);
	setup_fds(a);
	mark(a, TB_MARK_HOSTNAME);
	/* The second byte: the parent is done with us (a recorder is attached). */
	if (read(a->sync_fd, &go, 1) != 1)
		_exit(125);
	mark(a, TB_MARK_RELEASED);
	set_rlimits(a);
	if (a->apparmor && tb_apparmor_change_onexec(c->apparmor_profile) < 0)
		fail_step(a, TB_STEP_APPARMOR, errno, -1);
	drop_privileges(a);
	mark(a, TB_MARK_PRIVS);
	if (a->landlock_abi > 0 && !c->landlock_off) {
		err = tb_landlock_apply(c, a->landlock, a->landlock_abi);
		if (err < 0)
			fail_step(a, TB_STEP_LANDLOCK, -err, -1);
	}
	mark(a, TB_MARK_LANDLOCK);
	/* Resolve the command now: after the filter only execve is needed. */
	err = lookup_exec(a->argv[0], a->envp, exe, sizeof(exe));
	if (err)
		fail_step(a, TB_STEP_EXEC_LOOKUP, err, -1);
	mark(a, TB_MARK_LOOKUP);
	if (a->hooks && a->hooks->child_before_filter) {
		err = a->hooks->child_before_filter(a->hooks->data);
		if (err < 0)
			fail_step(a, TB_STEP_HOOK, -err, -1);
	}
	/* The filter is the very last step: the profile only has to allow execve and what the
	 * program does, not our setup. */
	filtered = a->prog.filter && !(a->hooks && a->hooks->skip_filter);
	if (filtered)
		CHECK(a, syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &a->prog) == 0,
		      TB_STEP_SECCOMP, -1);
	execve(exe, a->argv, a->envp);
	exec_failed(a, filtered, errno);
}
