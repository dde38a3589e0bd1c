/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-run cgroups. Backends behind one small interface: cgroup v2 (unified, controllers enabled),
 * v1 (memory/pids/cpu hierarchies), and the hybrid layout where v1 holds the controllers and a
 * controller-less cgroup2 mount still gives cgroup.kill and a cgroup id for BPF filtering.
 */
#ifndef TB_RUNNER_CGROUP_H
#define TB_RUNNER_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum tb_cg_ctrl { TB_CG_MEMORY, TB_CG_PIDS, TB_CG_CPU, TB_CG_N };

struct tb_cgroup {
	bool v2;                 /* controllers on cgroup2 (pure v2 host) */
	char *v1_dir[TB_CG_N];   /* v1: per-controller run directory, NULL when absent */
	char *unified_dir;       /* cgroup2 run directory (pure v2, or hybrid's unified mount) */
	bool memsw;              /* v1 memory.memsw.* available */
	uint64_t id;             /* cgroup2 id (inode of unified_dir), 0 when none */
};

struct tb_cg_limits {
	uint64_t memory;     /* 0 = none */
	int64_t memory_swap; /* memory+swap, -1 unlimited */
	double cpus;         /* 0 = none */
	int64_t pids;        /* -1 = none */
};

/*
 * Creates the run's cgroups under @parent ("tightbox") on every hierarchy available and applies
 * @lim. Returns 0, -errno when no cgroup could be created (the caller then falls back to rlimits)
 * or when a limit could not be applied (then nothing is left behind).
 */
int tb_cgroup_create(struct tb_cgroup *cg, const char *parent, const char *name,
		     const struct tb_cg_limits *lim);
/* Moves @pid into the run's cgroup2 directory (when it was not born there). 0 or -errno. */
int tb_cgroup_attach_unified(const struct tb_cgroup *cg, pid_t pid);
/* Moves the calling, single-threaded process into every v1 run cgroup, without allocating (the
 * sandbox child calls it). 0 or -errno. */
int tb_cgroup_join_v1(const struct tb_cgroup *cg);
/* Kills every process in the run cgroups (cgroup.kill where offered, else SIGKILL per pid). */
void tb_cgroup_kill(const struct tb_cgroup *cg);
/* true when the memory controller recorded an OOM kill in this cgroup. */
bool tb_cgroup_oom_killed(const struct tb_cgroup *cg);
/* CPU time used by the cgroup in ms, or -1 when unknown. */
int64_t tb_cgroup_cpu_ms(const struct tb_cgroup *cg);
/* Kills what is left, waits briefly for the cgroups to empty and removes them. Frees @cg's
 * strings. Safe to call on a zeroed or partially created struct. */
void tb_cgroup_destroy(struct tb_cgroup *cg);
/* One quick attempt (no waiting) at what tb_cgroup_destroy does; true when every directory is
 * gone. The rest is left for the janitor, which keeps retrying off the caller's critical path. */
bool tb_cgroup_try_destroy(struct tb_cgroup *cg);
/*
 * The run directories in fixed buffers ("" for none), for the janitor: a process that shares
 * tightbox's memory and may run after tightbox died, so it must neither allocate nor read strings
 * tightbox may have freed.
 */
struct tb_cgroup_paths {
	char v1[TB_CG_N][4096];
	char unified[4096];
};
/* Copies @cg's directories into @p. 0, or -ENAMETOOLONG for a path that does not fit. */
int tb_cgroup_paths_of(const struct tb_cgroup *cg, struct tb_cgroup_paths *p);
/* tb_cgroup_destroy on @p's paths, allocation-free: kills what is left, waits up to 5 s for each
 * directory to empty and removes it. */
void tb_cgroup_paths_destroy(const struct tb_cgroup_paths *p);
/* Frees @cg's strings without touching the cgroups. Accepts NULL. */
void tb_cgroup_free(struct tb_cgroup *cg);
/* true when any run directory is non-NULL. */
bool tb_cgroup_active(const struct tb_cgroup *cg);

#endif
