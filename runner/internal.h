/* SPDX-License-Identifier: Apache-2.0 */
/* Runner internals shared by run.c (parent side) and child.c (sandbox setup). */
#ifndef TB_RUNNER_INTERNAL_H
#define TB_RUNNER_INTERNAL_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/landlock-ruleset.h"
#include "runner/cgroup.h"
#include "runner/run.h"

/* The setup step a sandbox child failed in; reported to the parent over a CLOEXEC pipe. */
enum tb_step {
	TB_STEP_NONE = 0,
	TB_STEP_SYNC,
	TB_STEP_CGROUP,
	TB_STEP_NSQUOTA,
	TB_STEP_MOUNT_PRIVATE,
	TB_STEP_ROOTFS,
	TB_STEP_STAGING,
	TB_STEP_DEV,
	TB_STEP_PROC,
	TB_STEP_TMPFS,
	TB_STEP_VOLUME,
	TB_STEP_SCRIPT,
	TB_STEP_PIVOT,
	TB_STEP_HOSTNAME,
	TB_STEP_LOOPBACK,
	TB_STEP_WORKDIR,
	TB_STEP_FDS,
	TB_STEP_RLIMIT,
	TB_STEP_CAPS,
	TB_STEP_UID,
	TB_STEP_NNP,
	TB_STEP_LANDLOCK,
	TB_STEP_APPARMOR,
	TB_STEP_HOOK,
	TB_STEP_SECCOMP,
	TB_STEP_EXEC_LOOKUP,
	TB_STEP_EXEC,
};

struct tb_child_report {
	int32_t step;
	int32_t err;   /* errno */
	int32_t index; /* which volume/tmpfs/rlimit, -1 when n/a */
};

/* Everything the child needs, prepared by the parent before the clone. */
struct tb_child_args {
	const struct tb_run_config *cfg;
	const struct tb_cgroup *cgroup; /* the v1 run cgroups the child joins itself */
	const struct tb_run_hooks *hooks;
	struct sock_fprog prog; /* .filter NULL: no filter */
	const struct tb_ll_ruleset *landlock; /* NULL: none */
	int landlock_abi; /* 0: kernel has no Landlock */
	bool apparmor;    /* aa_change_onexec(cfg->apparmor_profile) */
	bool unprivileged; /* tightbox is not root: the user namespace maps only the caller */
	bool own_userns;  /* the sandbox has a user namespace of its own (always, but as root
			   * inside a container whose /proc is partly masked) */
	bool rlimit_fallback; /* no cgroup: approximate memory/pids with rlimits */
	char **envp;
	int stdin_fd, out_fd, err_fd, status_fd, sync_fd;
	pid_t parent;
};

const char *tb_step_name(enum tb_step s);

/*
 * Calls @fn for each entry of directory @path ("." and ".." skipped) without allocating memory:
 * the sandbox child is created with a raw clone, so if the caller has other threads (the eBPF
 * recorder's ring reader), malloc's locks may be held by a thread that does not exist in the
 * child. Everything the child runs must therefore be allocation-free. @fn returns 0 to go on, 1 to
 * stop, -errno to fail. Returns 0 or -errno.
 */
int tb_for_each_dirent(const char *path, int (*fn)(const char *name, void *data), void *data);

/* Runs in the cloned child: sets the sandbox up and execs. Never returns. */
__attribute__((noreturn)) void tb_child_main(struct tb_child_args *a);

/* Builds and applies the Landlock ruleset (@rs, or the default one when NULL). 0 or -errno. */
int tb_landlock_apply(const struct tb_run_config *c, const struct tb_ll_ruleset *rs, int abi);
/* Landlock ABI version of the running kernel, 0 when unsupported. */
int tb_landlock_abi(void);
/* Names the parts of ruleset @rs (NULL: the built-in one) that Landlock ABI @abi (> 0) cannot
 * enforce, "truncate (ABI 3), signal scope (ABI 6)" style, into @buf; "" when it enforces all. */
void tb_landlock_unenforced(const struct tb_ll_ruleset *rs, int abi, char *buf, size_t len);

#endif
