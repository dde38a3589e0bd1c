/* SPDX-License-Identifier: Apache-2.0 */
/* Runner internals shared by run.c (parent side) and child.c (sandbox setup). */
#ifndef TB_RUNNER_INTERNAL_H
#define TB_RUNNER_INTERNAL_H

#include <linux/filter.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

#include "core/landlock-ruleset.h"
#include "runner/cgroup.h"
#include "runner/run.h"

/* The setup step a sandbox child failed in; reported to the parent over a CLOEXEC pipe. */
enum tb_step {
	TB_STEP_NONE = 0,
	TB_STEP_SYNC,
	TB_STEP_SESSION,
	TB_STEP_KEYRING,
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
	TB_STEP_WORKDIR_MOUNT,
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
	TB_STEP_EXEC_DENIED, /* execve failed because the loaded profile denies it */
};

struct tb_child_report {
	int32_t step;
	int32_t err;   /* errno */
	int32_t index; /* which volume/tmpfs/rlimit, -1 when n/a */
};

/* Points of the child's setup it timestamps (CLOCK_MONOTONIC ns) for tb_run_result.stage_us. */
enum tb_child_mark {
	TB_MARK_WOKE,      /* the id maps are written: the setup starts */
	TB_MARK_SESSION,   /* own session and keyring */
	TB_MARK_CGROUP,    /* v1 cgroups joined, cgroup namespace, quota files opened */
	TB_MARK_PROC_START,
	TB_MARK_PROC_END,
	TB_MARK_ROOT,      /* pivoted into the new root */
	TB_MARK_NSQUOTA,
	TB_MARK_HOSTNAME,  /* hostname, loopback, workdir, fds */
	TB_MARK_RELEASED,  /* the parent's second byte */
	TB_MARK_PRIVS,     /* rlimits, AppArmor, capabilities, uid, no_new_privs */
	TB_MARK_LANDLOCK,
	TB_MARK_LOOKUP,    /* command found: the filter (after a recorder's hook) and execve follow */
	TB_MARK_N,
};

/* The page the child shares with the parent (MAP_SHARED before the clone): reports that need no
 * syscall. */
struct tb_child_shared {
	/* An execve the profile denies (write and exit_group may be denied as well). */
	struct tb_child_report late;
	uint64_t mark_ns[TB_MARK_N];
};

/* Points of the parent's side of a run it timestamps (CLOCK_MONOTONIC ns). */
enum tb_parent_mark {
	TB_PM_START,
	TB_PM_VALIDATED,
	TB_PM_PROFILE,
	TB_PM_PLANNED,
	TB_PM_CGROUP,
	TB_PM_PIPES,
	TB_PM_JANITOR,
	TB_PM_SIGNALS,
	TB_PM_CLONED,
	TB_PM_RELEASED,
	TB_PM_REAPED,
	TB_PM_COLLECTED,
	TB_PM_DONE,
	TB_PM_N,
};

/*
 * What a run needs that can be checked and built before anything exists on the host (run.c):
 * the compiled filter, the Landlock ruleset, stdin and the environment. Owned; plan_done in run.c.
 */
struct tb_run_plan {
	struct sock_fprog prog; /* .filter NULL: no filter */
	struct tb_ll_ruleset *landlock; /* NULL: the built-in ruleset (or none) */
	int landlock_abi;  /* 0: Landlock off or absent */
	bool apparmor;     /* the AppArmor profile can be applied */
	int stdin_fd;
	uint64_t stdin_bytes; /* -i: what was read from tightbox's stdin */
	bool stdin_truncated;
	int workdir_fd;    /* the /sandbox tmpfs (fsmount), -1: none (workdir.c) */
	char **envp;       /* the strings belong to the config */
	int phase2_fd;     /* -1, or a read-only sealed memfd with the phase-2 program */
	char **argv;       /* NULL: cfg->argv; else the two-phase bootstrap command (owned) */
	int warm_sock;     /* warm runs: our end of the socket that is the sandbox's stdin, else -1 */
};

#define TB_RUN_PLAN_INIT {.stdin_fd = -1, .workdir_fd = -1, .phase2_fd = -1, .warm_sock = -1}

/*
 * The working directory (workdir.c). tb_workdir_wanted: whether @c asks for the /sandbox tmpfs.
 * tb_workdir_prepare: as root, creates it detached (fsopen/fsmount: size-limited, noexec, nosuid,
 * nodev, owned by the sandbox uid) and fills it with the script or code and the inputs, so the
 * file modes on the host never matter; *@fd stays -1 for an unprivileged caller that asked only for
 * --script (the child binds the script instead). 0 or -errno with @d naming the flag and file.
 */
bool tb_workdir_wanted(const struct tb_run_config *c);
int tb_workdir_prepare(const struct tb_run_config *c, int *fd, struct tb_diag *d);
/*
 * After the run: copies /sandbox/out of the working directory @fd into c->output_dir, regular
 * files and directories only, never following a symlink, without setuid/setgid/sticky bits, within
 * the byte and file bounds; what was left out is listed in @res->output_skipped. 0 or -errno.
 */
int tb_workdir_copy_out(const struct tb_run_config *c, int fd, struct tb_run_result *res,
			struct tb_diag *d);

/*
 * The spawn stage (spawn.c): the run's cgroups, the janitor, the sandbox init and every pipe to
 * it. Created by tb_sandbox_spawn, released by tb_sandbox_done alone, which kills and reaps an init
 * the supervisor did not reap. Other stages read these fds and mark what they reaped; they never
 * close anything here.
 */
struct tb_sandbox {
	struct tb_cgroup cg;
	bool rlimit_fallback; /* no cgroup: rlimits approximate memory and pids */
	bool own_userns;
	bool into_unified;    /* born in its cgroup2 directory (clone3 CLONE_INTO_CGROUP) */
	pid_t janitor;        /* -1: none */
	bool janitor_reaped;
	int lifeline[2];      /* the janitor's: it cleans up when the write end closes */
	void *janitor_area;   /* its stack and paths (spawn.c), NULL when unmapped */
	pid_t init;           /* -1 before the clone */
	bool init_reaped;
	int pidfd;
	int out[2], err[2], status[2], sync[2]; /* pipes; the child's ends close after the clone */
	int sigfd;            /* SIGCHLD, blocked while the sandbox runs */
	sigset_t oldmask;
	bool mask_set;
	uint64_t t0_ms;       /* the clone, for wall_ms */
	struct tb_child_shared *shared; /* the page shared with the child, NULL when unmapped */
	uint64_t mark_ns[TB_PM_N];      /* the parent's timestamps (tb_run_result.stage_us) */
};

#define TB_SANDBOX_INIT                                                                            \
	{                                                                                          \
		.janitor = -1, .lifeline = {-1, -1}, .init = -1, .pidfd = -1, .out = {-1, -1},     \
		.err = {-1, -1}, .status = {-1, -1}, .sync = {-1, -1}, .sigfd = -1,                \
	}

/*
 * One output stream of the sandbox. Within @limit bytes everything is kept. Beyond it, the first
 * half (@buf) and the last half (the ring @tail) are kept and the middle is counted: an error
 * message at the end of a long log - a traceback's last line - survives.
 */
struct tb_capture {
	int fd;          /* borrowed from the sandbox (never closed here) */
	bool eof;
	char *buf;       /* the head: @head_limit bytes, and room for the result (see collect) */
	size_t limit, head_limit, len;
	char *tail;      /* ring of @tail_limit bytes; @tail_len used, next write at @tail_pos */
	size_t tail_limit, tail_len, tail_pos;
	uint64_t total;
	int pass_fd;     /* -1, or where the first @limit bytes are copied as they arrive */
	bool escape;     /* passthrough with terminal controls made visible (passthrough.c) */
	bool held;       /* escape state: a c2 byte waits for the next one */
	unsigned utf8_left; /* escape state: continuation bytes still expected */
};

/* Writes @n bytes of @cap's output to its pass_fd, escaped when @cap->escape; @eof flushes a
 * byte held back for the next chunk. */
void tb_passthrough_write(struct tb_capture *cap, const char *buf, size_t n, bool eof);

/*
 * A warm run's request, relayed by the supervisor (warm.c): from cfg->warm_fd, one line of limits
 * (the take), then the request, copied into @sock (the sandbox's stdin) until EOF.
 */
struct tb_warm {
	int ctl_fd;       /* cfg->warm_fd (borrowed), -1 once at EOF or not a warm run */
	int sock;         /* owned (moved from the plan), -1 once shut or not a warm run */
	bool ready;       /* the bootstrap said so (one byte on the socket) */
	bool taken;       /* the limits line was applied */
	bool eof;         /* cfg->warm_fd ended */
	bool no_output;   /* the line said "output": false: no copy-out of /sandbox/out */
	char line[1024];  /* the limits line as it arrives */
	size_t line_len;
	char *buf;        /* request bytes read and not yet written to @sock */
	size_t off, len;
	int64_t cpu0_ms;  /* the cgroup's CPU time at the take (the preloads' share) */
};

/* What the take gives the supervisor: the request's timeout and output caps (within the run's). */
struct tb_warm_take {
	double timeout;
	uint64_t stdout_limit, stderr_limit;
};

/* The supervise stage (supervise.c): output, the child's status report, exits, the timeout. */
struct tb_supervisor {
	int timer_fd;
	struct tb_capture out, err;
	struct tb_child_report rep;
	size_t rep_got;
	bool status_done;
	int wstatus;     /* of the sandbox init, once sb->init_reaped */
	struct rusage ru;
	uint64_t wall_ms;
	uint64_t drain_deadline;
	struct tb_warm warm;
};

#define TB_SUPERVISOR_INIT                                                                         \
	{                                                                                          \
		.timer_fd = -1, .out = {.fd = -1, .pass_fd = -1}, .err = {.fd = -1, .pass_fd = -1},  \
		.warm = {.ctl_fd = -1, .sock = -1},                                                \
	}

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
	char **argv;      /* the command to execute (cfg->argv or the two-phase bootstrap) */
	int phase2_fd;    /* -1, or the phase-2 program: becomes fd TB_PHASE2_FD, inherited */
	int workdir_fd; /* the /sandbox tmpfs to attach, -1: none */
	int stdin_fd, out_fd, err_fd, status_fd, sync_fd;
	pid_t parent;
	struct tb_child_shared *shared; /* NULL: none */
};

const char *tb_step_name(enum tb_step s);

/* Monotonic milliseconds, nanoseconds. */
uint64_t tb_now_ms(void);
uint64_t tb_now_ns(void);
/* Sets @res->error (and @d's message when still empty) to the printf-style text. */
void tb_run_set_error(struct tb_run_result *res, struct tb_diag *d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The fd number at which the sandboxed bootstrap finds the phase-2 program. */
#define TB_PHASE2_FD 5

/*
 * Compiles the profile in @file (read once, through the filter cache) into @prog. With
 * @allow_seccomp_filter, seccomp(SECCOMP_SET_MODE_FILTER, ...) is also allowed: the phase-1 filter
 * of a two-phase run, so that the bootstrap can stack phase 2 (a filter can only restrict more).
 * Warnings go to @res. 0 or -errno (@d says why).
 */
int tb_run_compile_profile(const char *file, bool trace_denials, bool allow_seccomp_filter,
			   struct sock_fprog *prog, struct tb_run_result *res, struct tb_diag *d);

/*
 * The two-phase part of the plan stage (two-phase.c): checks that @c->argv is `python3 FILE
 * [ARGS]`, compiles @c->two_phase_path into a sealed read-only memfd (@plan->phase2_fd, at fd >=
 * 10) and builds the bootstrap command (@plan->argv). No-op without two_phase_path. 0 or -errno.
 */
int tb_two_phase_plan(const struct tb_run_config *c, struct tb_run_plan *plan,
		      struct tb_run_result *res, struct tb_diag *d);
/* Adds the phase-1 rule that lets the bootstrap stack phase 2 to @ctx (a scmp_filter_ctx from
 * tb_profile_compile): seccomp allowed when its first argument is SECCOMP_SET_MODE_FILTER. */
int tb_two_phase_allow_stacking(void *ctx);
/* Frees @argv as built by tb_two_phase_plan. Accepts NULL. */
void tb_two_phase_argv_free(char **argv);
/* Whether @arg is a two-phase bootstrap's text: with the Python context or without
 * (tb_run_bootstrap_kind). */
enum tb_run_bootstrap tb_two_phase_bootstrap_kind(const char *arg);

/*
 * The spawn stage: cgroups (a warning and rlimits where none can be made), pipes, the janitor, the
 * clone into fresh namespaces, the id maps and the two-byte handshake that releases the child
 * (with hooks->parent_started in between). 0 when the child runs the setup, or -errno with @res
 * and @d saying why. @sb is released by tb_sandbox_done in both cases.
 */
int tb_sandbox_spawn(const struct tb_run_config *c, const struct tb_run_hooks *hooks,
		     const struct tb_run_plan *plan, struct tb_sandbox *sb, struct tb_run_result *res,
		     struct tb_diag *d);
/* SIGKILLs the sandbox init (the kernel then kills its pid namespace) and the cgroup. */
void tb_sandbox_kill(const struct tb_sandbox *sb);
/* Kills and reaps an unreaped init, closes every fd, removes the cgroups, ends the janitor,
 * restores the signal mask. Accepts a TB_SANDBOX_INIT sandbox. */
void tb_sandbox_done(struct tb_sandbox *sb);

/* Allocates the capture buffers and the timer before anything runs. 0 or -errno (@d names the
 * flag whose size could not be allocated). */
int tb_supervisor_init(const struct tb_run_config *c, struct tb_supervisor *sv, struct tb_diag *d);
/* Multiplexes output, the status pipe, SIGCHLD (exits, hooks' ptrace stops) and the timeout
 * until the sandbox init is reaped and its output drained. */
void tb_supervise(const struct tb_run_config *c, const struct tb_run_hooks *hooks,
		  struct tb_sandbox *sb, struct tb_supervisor *sv, struct tb_run_result *res);
/* The result stage: exit status, usage, captured output (moved into @res), the child's setup
 * failure. 0, or -ECHILD when the sandbox setup failed (then @res->error and @d say where). */
int tb_run_collect(const struct tb_run_config *c, const struct tb_sandbox *sb,
		   struct tb_supervisor *sv, struct tb_run_result *res, struct tb_diag *d);
/*
 * Warm runs (warm.c). tb_warm_plan: the plan stage's part (checks @c, makes the socket that becomes
 * the sandbox's stdin; a no-op for other runs). tb_warm_start: moves the plan's socket into @w.
 * tb_warm_pollfds fills @p[0..1] with what @w waits for; tb_warm_handle handles their events and
 * returns 1 when the take happened (the cgroup limits lowered, @take filled), 0, or -errno when
 * the run must end (@res->error says why; the caller kills the sandbox). tb_warm_account leaves
 * the preloads' CPU time out of @res. tb_warm_done frees @w (accepts an unstarted one).
 */
int tb_warm_plan(const struct tb_run_config *c, struct tb_run_plan *plan, struct tb_diag *d);
int tb_warm_start(const struct tb_run_config *c, struct tb_run_plan *plan, struct tb_warm *w);
void tb_warm_pollfds(const struct tb_warm *w, struct pollfd *p);
int tb_warm_handle(const struct tb_run_config *c, struct tb_warm *w, const struct pollfd *p,
		   struct tb_sandbox *sb, struct tb_warm_take *take, struct tb_run_result *res);
void tb_warm_account(const struct tb_warm *w, struct tb_run_result *res);
void tb_warm_done(struct tb_warm *w);

/* Frees the capture buffers and closes the timer. Accepts a TB_SUPERVISOR_INIT supervisor. */
void tb_supervisor_done(struct tb_supervisor *sv);

/*
 * Calls @fn for each entry of directory @path ("." and ".." skipped), with its d_type (DT_*,
 * DT_UNKNOWN where the filesystem does not say), without allocating memory:
 * the sandbox child is created with a raw clone, so if the caller has other threads (the eBPF
 * recorder's ring reader), malloc's locks may be held by a thread that does not exist in the
 * child. Everything the child runs must therefore be allocation-free. @fn returns 0 to go on, 1 to
 * stop, -errno to fail. Returns 0 or -errno.
 */
int tb_for_each_dirent(const char *path, int (*fn)(const char *name, unsigned char type, void *data),
		       void *data);

/* Opens @path as O_PATH without following any symlink (or magic link) in it. fd or -errno
 * (-ELOOP for a symlink). Allocation-free: the child resolves volume and script sources with it. */
int tb_open_source(const char *path);

/* Runs in the cloned child: sets the sandbox up and execs. Never returns. */
__attribute__((noreturn)) void tb_child_main(struct tb_child_args *a);

/* Builds and applies the Landlock ruleset (@rs, or the default one when NULL). 0 or -errno. */
int tb_landlock_apply(const struct tb_run_config *c, const struct tb_ll_ruleset *rs, int abi);
/* Landlock ABI version of the running kernel, 0 when unsupported. */
int tb_landlock_abi(void);
/* Names the parts of ruleset @rs (NULL: the built-in one) that Landlock ABI @abi (> 0) cannot
 * enforce, "truncate (ABI 3), signal scope (ABI 6)" style, into @buf; "" when it enforces all. */
void tb_landlock_unenforced(const struct tb_ll_ruleset *rs, int abi, char *buf, size_t len);

/* Appends a copy of @w to @res->warnings (owned by @res). 0 or -ENOMEM. */
int tb_run_result_add_warning(struct tb_run_result *res, const struct tb_warning *w);

#endif
