/* SPDX-License-Identifier: Apache-2.0 */
#include "runner/cgroup.h"
#include "runner/run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

#define CG_ROOT "/sys/fs/cgroup"

static const char *const v1_names[TB_CG_N] = {"memory", "pids", "cpu"};

static int write_file(const char *dir, const char *file, const char *val)
{
	char path[4096];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(val);

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return tb_negerrno();
	if (write(fd, val, len) != (ssize_t)len)
		return tb_negerrno();
	return 0;
}

static int read_file(const char *dir, const char *file, char *buf, size_t size)
{
	char path[4096];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tb_negerrno();
	n = read(fd, buf, size - 1);
	if (n < 0)
		return tb_negerrno();
	buf[n] = '\0';
	return 0;
}

static bool is_cgroup2(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* mkdir (must be new) of the run directory, and of its parent first when that is missing: the
 * parent exists on every run but the first, so the usual cost is the one mkdir. */
static int make_run_dir(const char *root, const char *parent, const char *name, char **out)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s/%s", root, parent, name);
	if (mkdir(path, 0755) < 0) {
		char pdir[4096];

		snprintf(pdir, sizeof(pdir), "%s/%s", root, parent);
		if (errno != ENOENT || (mkdir(pdir, 0755) < 0 && errno != EEXIST) || mkdir(path, 0755) < 0)
			return tb_negerrno();
	}
	*out = strdup(path);
	if (!*out) {
		rmdir(path);
		return -ENOMEM;
	}
	return 0;
}

static int apply_v2(struct tb_cgroup *cg, const char *parent, const struct tb_cg_limits *lim)
{
	char buf[64], pdir[4096];
	int r;

	/* Controllers must be enabled in every ancestor's subtree_control; the root usually has
	 * them already (systemd), the "tightbox" parent is ours. Failures here surface below as
	 * missing files, which is the error worth reporting. */
	snprintf(pdir, sizeof(pdir), CG_ROOT "/%s", parent);
	(void)write_file(CG_ROOT, "cgroup.subtree_control", "+memory +pids +cpu");
	(void)write_file(pdir, "cgroup.subtree_control", "+memory +pids +cpu");
	if (lim->memory) {
		snprintf(buf, sizeof(buf), "%" PRIu64, lim->memory);
		if ((r = write_file(cg->unified_dir, "memory.max", buf)) < 0)
			return r;
		if (lim->memory_swap >= 0) {
			uint64_t swap = (uint64_t)lim->memory_swap > lim->memory
						? (uint64_t)lim->memory_swap - lim->memory
						: 0;
			snprintf(buf, sizeof(buf), "%" PRIu64, swap);
			/* memory.swap.max is absent when the kernel has no swap accounting. */
			r = write_file(cg->unified_dir, "memory.swap.max", buf);
			if (r < 0 && r != -ENOENT)
				return r;
		}
	}
	if (lim->pids >= 0) {
		snprintf(buf, sizeof(buf), "%" PRId64, lim->pids);
		if ((r = write_file(cg->unified_dir, "pids.max", buf)) < 0)
			return r;
	}
	if (lim->cpus > 0) {
		snprintf(buf, sizeof(buf), "%" PRIu64 " 100000", (uint64_t)(lim->cpus * 100000 + 0.5));
		if ((r = write_file(cg->unified_dir, "cpu.max", buf)) < 0)
			return r;
	}
	return 0;
}

static int apply_v1(struct tb_cgroup *cg, const struct tb_cg_limits *lim)
{
	char buf[64], tmp[64];
	int r;

	if (lim->memory) {
		if (!cg->v1_dir[TB_CG_MEMORY])
			return -ENOENT;
		snprintf(buf, sizeof(buf), "%" PRIu64, lim->memory);
		if ((r = write_file(cg->v1_dir[TB_CG_MEMORY], "memory.limit_in_bytes", buf)) < 0)
			return r;
		if (lim->memory_swap >= 0) {
			uint64_t total = (uint64_t)lim->memory_swap < lim->memory
						 ? lim->memory
						 : (uint64_t)lim->memory_swap;
			snprintf(buf, sizeof(buf), "%" PRIu64, total);
			/* Absent without swap accounting: the write says so, no read first. */
			r = write_file(cg->v1_dir[TB_CG_MEMORY], "memory.memsw.limit_in_bytes", buf);
			if (r < 0 && r != -ENOENT)
				return r;
			cg->memsw = r == 0;
		} else {
			cg->memsw = read_file(cg->v1_dir[TB_CG_MEMORY], "memory.memsw.limit_in_bytes",
					      tmp, sizeof(tmp)) == 0;
		}
	}
	if (lim->pids >= 0) {
		if (!cg->v1_dir[TB_CG_PIDS])
			return -ENOENT;
		snprintf(buf, sizeof(buf), "%" PRId64, lim->pids);
		if ((r = write_file(cg->v1_dir[TB_CG_PIDS], "pids.max", buf)) < 0)
			return r;
	}
	if (lim->cpus > 0) {
		if (!cg->v1_dir[TB_CG_CPU])
			return -ENOENT;
		/* A new cgroup's period is the kernel's default, 100000 us (whatever its parent's):
		 * only the quota is written. */
		snprintf(buf, sizeof(buf), "%" PRIu64, (uint64_t)(lim->cpus * 100000 + 0.5));
		if ((r = write_file(cg->v1_dir[TB_CG_CPU], "cpu.cfs_quota_us", buf)) < 0)
			return r;
	}
	return 0;
}

int tb_cgroup_set_limits(struct tb_cgroup *cg, const char *parent, const struct tb_cg_limits *lim)
{
	return cg->v2 ? apply_v2(cg, parent, lim) : apply_v1(cg, lim);
}

bool tb_cgroup_active(const struct tb_cgroup *cg)
{
	if (cg->unified_dir)
		return true;
	for (int i = 0; i < TB_CG_N; i++)
		if (cg->v1_dir[i])
			return true;
	return false;
}

int tb_cgroup_create(struct tb_cgroup *cg, const char *parent, const char *name,
		     const struct tb_cg_limits *lim)
{
	struct stat st;
	int r = 0;

	memset(cg, 0, sizeof(*cg));
	if (is_cgroup2(CG_ROOT)) {
		cg->v2 = true;
		r = make_run_dir(CG_ROOT, parent, name, &cg->unified_dir);
		if (r < 0)
			return r;
		r = apply_v2(cg, parent, lim);
	} else {
		for (int i = 0; i < TB_CG_N; i++) {
			char root[256];

			snprintf(root, sizeof(root), CG_ROOT "/%s", v1_names[i]);
			r = make_run_dir(root, parent, name, &cg->v1_dir[i]);
			/* A hierarchy that is absent or not ours to write is skipped (asked only when
			 * the mkdir failed: the usual run needs no access() per hierarchy); the checks
			 * below say when none was usable. */
			if (r < 0 && access(root, W_OK) < 0)
				continue;
			if (r < 0)
				goto out;
		}
		/* Hybrid hosts: the unified mount has no controllers but offers cgroup.kill and the
		 * id that bpf_get_current_cgroup_id() returns. Optional. */
		if (is_cgroup2(CG_ROOT "/unified"))
			(void)make_run_dir(CG_ROOT "/unified", parent, name, &cg->unified_dir);
		if (!tb_cgroup_active(cg)) {
			/* Hierarchies exist but none is ours to write (not root, not delegated). */
			r = access(CG_ROOT "/memory", F_OK) == 0 || access(CG_ROOT "/pids", F_OK) == 0
				    ? -EACCES
				    : -ENOENT;
			goto out;
		}
		r = apply_v1(cg, lim);
	}
	if (r == 0 && cg->unified_dir && stat(cg->unified_dir, &st) == 0)
		cg->id = (uint64_t)st.st_ino;
out:
	if (r < 0)
		tb_cgroup_destroy(cg);
	return r;
}

int tb_cgroup_attach_unified(const struct tb_cgroup *cg, pid_t pid)
{
	char buf[32];

	if (!cg->unified_dir)
		return 0;
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	return write_file(cg->unified_dir, "cgroup.procs", buf);
}

int tb_cgroup_join_v1(const struct tb_cgroup *cg)
{
	int r;

	/* "0" in "tasks" moves only the calling thread, which the kernel does without taking the
	 * global threadgroup lock - the lock whose writer waits for an RCU grace period (~10 ms
	 * on a 100 Hz VM) when cgroup.procs is written. The caller is single-threaded, so the
	 * thread is the whole process. write_file() does not allocate. */
	for (int i = 0; i < TB_CG_N; i++)
		if (cg->v1_dir[i] && (r = write_file(cg->v1_dir[i], "tasks", "0")) < 0)
			return r;
	return 0;
}

/* SIGKILLs each pid listed in DIR/cgroup.procs; returns how many were listed. Allocation-free
 * (read into the stack, no stdio): the janitor runs it in memory it shares with tightbox. */
static int kill_listed(const char *dir)
{
	char path[4096], buf[4096];
	_cleanup_close_ int fd = -1;
	size_t len = 0;
	ssize_t got;
	int pid = 0, n = 0;
	bool digits = false;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* Kernel-written decimal pids, one a line, parsed as they stream in. */
	while ((got = read(fd, buf, sizeof(buf))) > 0) {
		for (len = 0; len < (size_t)got; len++) {
			if (buf[len] >= '0' && buf[len] <= '9') {
				pid = pid * 10 + (buf[len] - '0');
				digits = true;
				continue;
			}
			if (digits && pid > 0)
				kill(pid, SIGKILL);
			n += digits;
			pid = 0;
			digits = false;
		}
	}
	if (digits && pid > 0)
		kill(pid, SIGKILL);
	return n + digits;
}

/* tb_cgroup_kill on plain paths (@unified NULL or "": none), allocation-free. */
static void kill_dirs(const char *unified, const char *const v1[TB_CG_N])
{
	bool has_unified = unified && *unified;

	if (has_unified && write_file(unified, "cgroup.kill", "1") == 0)
		return;
	/* No cgroup.kill (kernel < 5.14): signal each member. The sandbox init is killed too, which
	 * tears down the pid namespace, so a fork racing this loop cannot survive. */
	for (int i = 0; i < TB_CG_N; i++)
		if (v1[i] && *v1[i])
			kill_listed(v1[i]);
	if (has_unified)
		kill_listed(unified);
}

void tb_cgroup_kill(const struct tb_cgroup *cg)
{
	kill_dirs(cg->unified_dir, (const char *const *)cg->v1_dir);
}

bool tb_cgroup_oom_killed(const struct tb_cgroup *cg)
{
	char buf[1024];
	const char *dir = cg->v2 ? cg->unified_dir : cg->v1_dir[TB_CG_MEMORY];
	const char *p;

	if (!dir)
		return false;
	if (read_file(dir, cg->v2 ? "memory.events" : "memory.oom_control", buf, sizeof(buf)) < 0)
		return false;
	p = strstr(buf, "oom_kill ");
	return p && strtoull(p + 9, NULL, 10) > 0;
}

int64_t tb_cgroup_cpu_ms(const struct tb_cgroup *cg)
{
	char buf[1024];
	const char *p;

	if (cg->v2 && cg->unified_dir && read_file(cg->unified_dir, "cpu.stat", buf, sizeof(buf)) == 0 &&
	    (p = strstr(buf, "usage_usec ")))
		return (int64_t)(strtoull(p + 11, NULL, 10) / 1000);
	if (!cg->v2 && cg->v1_dir[TB_CG_CPU] &&
	    read_file(cg->v1_dir[TB_CG_CPU], "cpuacct.usage", buf, sizeof(buf)) == 0)
		return (int64_t)(strtoull(buf, NULL, 10) / 1000000);
	return -1;
}

/* Removes @dir, retrying up to @tries ms while killed members finish exiting. true when gone.
 * Allocation-free. */
static bool remove_path(const char *dir, int tries)
{
	/* A cgroup can only be removed once empty; killed members take a moment to exit. */
	for (int i = 0;; i++) {
		struct timespec ts = {0, 1000000};

		if (rmdir(dir) == 0 || errno == ENOENT)
			return true;
		if (errno != EBUSY || i >= tries)
			return false;
		kill_listed(dir);
		nanosleep(&ts, NULL);
	}
}

static bool remove_dir(char **dir, int tries)
{
	if (!*dir)
		return true;
	if (!remove_path(*dir, tries))
		return false;
	free(*dir);
	*dir = NULL;
	return true;
}

static bool remove_all(struct tb_cgroup *cg, int tries)
{
	bool gone = true;

	for (int i = 0; i < TB_CG_N; i++)
		gone &= remove_dir(&cg->v1_dir[i], tries);
	gone &= remove_dir(&cg->unified_dir, tries);
	return gone;
}

void tb_cgroup_destroy(struct tb_cgroup *cg)
{
	if (!cg || !tb_cgroup_active(cg))
		return;
	tb_cgroup_kill(cg);
	remove_all(cg, 5000);
	tb_cgroup_free(cg);
}

void tb_cgroup_free(struct tb_cgroup *cg)
{
	if (!cg)
		return;
	for (int i = 0; i < TB_CG_N; i++) {
		free(cg->v1_dir[i]);
		cg->v1_dir[i] = NULL;
	}
	free(cg->unified_dir);
	cg->unified_dir = NULL;
}

bool tb_cgroup_try_destroy(struct tb_cgroup *cg)
{
	if (!cg || !tb_cgroup_active(cg))
		return true;
	/* After the sandbox init was reaped its pid namespace is empty, so the cgroups usually are
	 * too: rmdir first; a member still there (EBUSY) is killed by the removal's retry. */
	return remove_all(cg, 1);
}

int tb_cgroup_paths_of(const struct tb_cgroup *cg, struct tb_cgroup_paths *p)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < TB_CG_N; i++)
		if (cg->v1_dir[i] &&
		    snprintf(p->v1[i], sizeof(p->v1[i]), "%s", cg->v1_dir[i]) >= (int)sizeof(p->v1[i]))
			return -ENAMETOOLONG;
	if (cg->unified_dir &&
	    snprintf(p->unified, sizeof(p->unified), "%s", cg->unified_dir) >= (int)sizeof(p->unified))
		return -ENAMETOOLONG;
	return 0;
}

void tb_cgroup_paths_destroy(const struct tb_cgroup_paths *p)
{
	const char *v1[TB_CG_N];

	for (int i = 0; i < TB_CG_N; i++)
		v1[i] = p->v1[i];
	kill_dirs(p->unified, v1);
	for (int i = 0; i < TB_CG_N; i++)
		if (p->v1[i][0])
			remove_path(p->v1[i], 5000);
	if (p->unified[0])
		remove_path(p->unified, 5000);
}

/* One cgroup's room: limit - usage (0 when over), UINT64_MAX when it has no limit or no files. */
static uint64_t dir_memory_room(const char *dir, const char *limit_file, const char *usage_file)
{
	char lim[64], use[64];
	uint64_t l, u;

	if (read_file(dir, limit_file, lim, sizeof(lim)) < 0 || !strncmp(lim, "max", 3) ||
	    read_file(dir, usage_file, use, sizeof(use)) < 0)
		return UINT64_MAX;
	l = strtoull(lim, NULL, 10);
	u = strtoull(use, NULL, 10);
	/* v1 writes "no limit" as the largest page-aligned value (9223372036854771712). */
	if (l >= (UINT64_MAX >> 2))
		return UINT64_MAX;
	return l > u ? l - u : 0;
}

uint64_t tb_cgroup_memory_room(const char *parent)
{
	bool v2 = is_cgroup2(CG_ROOT);
	const char *root = v2 ? CG_ROOT : CG_ROOT "/memory";
	const char *limit = v2 ? "memory.max" : "memory.limit_in_bytes";
	const char *usage = v2 ? "memory.current" : "memory.usage_in_bytes";
	char dir[4096];
	uint64_t room = dir_memory_room(root, limit, usage);
	size_t len;

	if (!parent)
		parent = TB_CGROUP_PARENT;
	/* The root, then each level of @parent: the run's cgroup is made beneath the last. */
	len = (size_t)snprintf(dir, sizeof(dir), "%s/%s", root, parent);
	if (len >= sizeof(dir))
		return room;
	for (size_t i = strlen(root) + 1; i <= len; i++) {
		char c = dir[i];
		uint64_t r;

		if (c != '/' && c != '\0')
			continue;
		dir[i] = '\0';
		r = dir_memory_room(dir, limit, usage);
		dir[i] = c;
		room = r < room ? r : room;
	}
	return room;
}

