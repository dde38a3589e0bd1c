/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "core/util.h"
#include "runner/internal.h"

int tb_run_config_init(struct tb_run_config *c)
{
	memset(c, 0, sizeof(*c));
	/* The seed's hardened docker run line: --tmpfs /tmp:size=50m,noexec --memory 256m
	 * --memory-swap 256m --cpus 0.5 --pids-limit 64 --ulimit nofile=64:64 --ulimit nproc=32:32
	 * --user 65534 plus the 10 s timeout and 10000/2000 byte output caps of its wrapper. */
	c->tmpfs[0].path = strdup("/tmp");
	if (!c->tmpfs[0].path)
		return -ENOMEM;
	c->tmpfs[0].size = 50ull << 20;
	c->tmpfs[0].flags = MS_NOEXEC | MS_NOSUID | MS_NODEV;
	c->tmpfs[0].mode = 01777;
	c->n_tmpfs = 1;
	c->memory = 256ull << 20;
	c->memory_swap = 256ll << 20;
	c->cpus = 0.5;
	c->pids_limit = 64;
	c->rlimits[RLIMIT_NOFILE] = (struct tb_rlimit_pair){true, 64, 64};
	c->rlimits[RLIMIT_NPROC] = (struct tb_rlimit_pair){true, 32, 32};
	/* No core dumps: they would land in the read-only cwd anyway, and can leak memory. */
	c->rlimits[RLIMIT_CORE] = (struct tb_rlimit_pair){true, 0, 0};
	c->shm_size = 16ull << 20;
	c->uid = 65534;
	c->gid = 65534;
	c->seccomp_mode = TB_SECCOMP_DEFAULT;
	c->timeout = 10;
	c->stdout_limit = 10000;
	c->stderr_limit = 2000;
	c->stdin_limit = 16ull << 20;
	c->workdir_size = 64ull << 20;
	c->output_max_bytes = 64ull << 20;
	c->output_max_files = 1000;
	return 0;
}

void tb_run_config_free(struct tb_run_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_tmpfs; i++)
		free(c->tmpfs[i].path);
	for (size_t i = 0; i < c->n_volumes; i++) {
		free(c->volumes[i].src);
		free(c->volumes[i].dst);
	}
	for (size_t i = 0; i < c->n_env; i++)
		free(c->env[i]);
	free(c->rootfs);
	free(c->workdir);
	free(c->script);
	free(c->code);
	free(c->output_dir);
	for (size_t i = 0; i < c->n_inputs; i++) {
		free(c->inputs[i].path);
		free(c->inputs[i].name);
	}
	free(c->stdin_path);
	free(c->seccomp_path);
	free(c->two_phase_path);
	free(c->preload);
	free(c->apparmor_profile);
	free(c->landlock_path);
	free(c->cgroup_parent);
	memset(c, 0, sizeof(*c));
}

const char *tb_step_name(enum tb_step s)
{
	static const char *const names[] = {
		[TB_STEP_NONE] = "none",
		[TB_STEP_SYNC] = "sync with parent",
		[TB_STEP_SESSION] = "start a session of its own",
		[TB_STEP_KEYRING] = "join a fresh session keyring",
		[TB_STEP_CGROUP] = "join the run's cgroups",
		[TB_STEP_NSQUOTA] = "set the namespace quota to zero",
		[TB_STEP_MOUNT_PRIVATE] = "make mounts private",
		[TB_STEP_ROOTFS] = "bind the read-only root",
		[TB_STEP_STAGING] = "assemble the new root",
		[TB_STEP_DEV] = "populate /dev",
		[TB_STEP_PROC] = "mount /proc",
		[TB_STEP_TMPFS] = "mount tmpfs",
		[TB_STEP_VOLUME] = "mount volume",
		[TB_STEP_SCRIPT] = "mount the script",
		[TB_STEP_WORKDIR_MOUNT] = "mount the working directory",
		[TB_STEP_PIVOT] = "pivot_root",
		[TB_STEP_HOSTNAME] = "set hostname",
		[TB_STEP_LOOPBACK] = "bring up loopback",
		[TB_STEP_WORKDIR] = "enter the working directory",
		[TB_STEP_FDS] = "set up file descriptors",
		[TB_STEP_RLIMIT] = "set ulimits",
		[TB_STEP_CAPS] = "drop capabilities",
		[TB_STEP_UID] = "switch user",
		[TB_STEP_NNP] = "set no_new_privs",
		[TB_STEP_LANDLOCK] = "apply Landlock",
		[TB_STEP_APPARMOR] = "set the AppArmor profile",
		[TB_STEP_HOOK] = "recorder hook",
		[TB_STEP_SECCOMP] = "load the seccomp filter",
		[TB_STEP_EXEC_LOOKUP] = "find the command",
		[TB_STEP_EXEC] = "execute the command",
		[TB_STEP_EXEC_DENIED] = "execute the command (the profile denies execve)",
	};

	return (unsigned)s < TB_ARRAY_SIZE(names) && names[s] ? names[s] : "unknown";
}

const char *tb_run_stage_name(enum tb_run_stage s)
{
	static const char *const names[] = {
		[TB_RUN_STAGE_VALIDATE] = "validate",
		[TB_RUN_STAGE_PROFILE] = "profile load/cache",
		[TB_RUN_STAGE_PLAN] = "landlock file, stdin, env, buffers",
		[TB_RUN_STAGE_CGROUP] = "cgroup create/configure",
		[TB_RUN_STAGE_PIPES] = "pipes",
		[TB_RUN_STAGE_JANITOR] = "janitor",
		[TB_RUN_STAGE_SIGNALS] = "signalfd, /proc check",
		[TB_RUN_STAGE_CLONE] = "clone3",
		[TB_RUN_STAGE_IDMAPS] = "id maps, handshake",
		[TB_RUN_STAGE_CHILD_START] = "child start",
		[TB_RUN_STAGE_SESSION] = "session, keyring",
		[TB_RUN_STAGE_CHILD_CGROUP] = "child cgroup join",
		[TB_RUN_STAGE_MOUNTS] = "mounts",
		[TB_RUN_STAGE_PROC] = "proc masking",
		[TB_RUN_STAGE_NSQUOTA] = "ns quotas",
		[TB_RUN_STAGE_HOSTNAME] = "hostname, lo, fds",
		[TB_RUN_STAGE_RELEASE] = "wait for release",
		[TB_RUN_STAGE_PRIVS] = "privileges",
		[TB_RUN_STAGE_LANDLOCK] = "landlock",
		[TB_RUN_STAGE_LOOKUP] = "exec lookup",
		[TB_RUN_STAGE_EXEC] = "seccomp load + execve + program",
		[TB_RUN_STAGE_DRAIN] = "drain, result",
		[TB_RUN_STAGE_TEARDOWN] = "teardown",
	};

	return (unsigned)s < TB_ARRAY_SIZE(names) && names[s] ? names[s] : "?";
}
