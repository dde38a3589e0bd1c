/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The spawn stage: the run's cgroups, the janitor that removes them if tightbox dies, the sandbox
 * init cloned into fresh namespaces, its id maps and the handshake that releases it. Everything
 * made here lives in one struct tb_sandbox and is released by tb_sandbox_done alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "runner/internal.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define TB_ASAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define TB_ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Limits: cgroups (v2, v1 or hybrid); rlimits only where no cgroup can be created. */
static void make_cgroups(const struct tb_run_config *c, struct tb_sandbox *sb,
			 struct tb_run_result *res)
{
	static unsigned seq;
	char name[64];
	struct tb_cg_limits lim = {.memory = c->memory, .memory_swap = c->memory_swap,
				   .cpus = c->cpus, .pids = c->pids_limit};
	int r;

	if (lim.memory_swap == 0)
		lim.memory_swap = (int64_t)c->memory;
	snprintf(name, sizeof(name), "run-%d-%u", (int)getpid(), seq++);
	r = tb_cgroup_create(&sb->cg, c->cgroup_parent ? c->cgroup_parent : TB_CGROUP_PARENT, name, &lim);
	if (r < 0) {
		sb->rlimit_fallback = true;
		tb_run_result_warnf(res, TB_WARN_NO_CGROUP, NULL, "no cgroup could be created (%s): memory is limited by "
					  "RLIMIT_AS, processes by RLIMIT_NPROC only, CPU is not limited",
					  strerror(-r));
	}
}

static int make_pipe(int fds[2], bool nonblock_read)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return tb_negerrno();
	if (nonblock_read)
		fcntl(fds[0], F_SETFL, O_NONBLOCK);
	return 0;
}

static int make_pipes(struct tb_sandbox *sb)
{
	int r;

	if ((r = make_pipe(sb->out, true)) < 0 || (r = make_pipe(sb->err, true)) < 0 ||
	    (r = make_pipe(sb->status, true)) < 0 || (r = make_pipe(sb->sync, false)) < 0 ||
	    (r = make_pipe(sb->lifeline, false)) < 0)
		return r;
	return 0;
}

/* What the janitor owns in the memory it shares with tightbox: the paths it removes and its
 * stack. Mapped before its clone, unmapped only once it is reaped. */
struct janitor_area {
	struct tb_cgroup_paths paths;
	int lifeline;
	alignas(16) char stack[64 << 10];
};

static int janitor_main(void *data)
{
	struct janitor_area *j = data;
	char c;

	setsid(); /* a Ctrl-C for tightbox must not take the janitor down with it */
	/* Only the lifeline stays open: the janitor must not keep the run's pipes alive. */
	if (j->lifeline != 3 && dup2(j->lifeline, 3) < 0)
		_exit(1);
	syscall(SYS_close_range, 0U, 2U, 0);
	syscall(SYS_close_range, 4U, ~0U, 0);
	prctl(PR_SET_NAME, "tightbox-janitor", 0, 0, 0);
	/* EOF: tightbox died without removing the cgroups (it kills the janitor before it closes
	 * the lifeline itself). Every signal but SIGKILL is blocked, so read() is not interrupted. */
	while (read(3, &c, 1) < 0 && errno == EINTR)
		;
	tb_cgroup_paths_destroy(&j->paths);
	_exit(0);
}

/*
 * A process that outlives tightbox if tightbox is SIGKILLed: it removes the run's cgroups once its
 * lifeline pipe closes. Normally tightbox removes them itself and kills the janitor while it
 * sleeps in read(), before closing the lifeline: no orphan is left for init to reap.
 *
 * It shares tightbox's memory (CLONE_VM, like vfork but without the wait): no page tables are
 * copied at its birth or torn down at its death, which saved ~0.1 ms of each run's setup and
 * teardown. That is safe because it touches nothing of tightbox's while tightbox lives: it runs
 * on its own stack, reads only its own copy of the paths (tightbox may free the originals), never
 * allocates (malloc's locks may be held by a thread that died with tightbox), and its syscalls
 * before the read cannot fail, so the errno it shares with tightbox's main thread (same TLS) is
 * not written. Every signal is blocked from its birth: no handler of tightbox runs in it.
 */
static int spawn_janitor(struct tb_sandbox *sb)
{
	struct janitor_area *j;
	sigset_t all, old;
	int r;

	j = mmap(NULL, sizeof(*j), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (j == MAP_FAILED)
		return -ENOMEM;
	sb->janitor_area = j;
	if ((r = tb_cgroup_paths_of(&sb->cg, &j->paths)) < 0)
		return r;
	j->lifeline = sb->lifeline[0];
	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, &old) < 0)
		return tb_negerrno();
	sb->janitor = clone(janitor_main, j->stack + sizeof(j->stack), CLONE_VM | SIGCHLD, j);
	r = sb->janitor < 0 ? tb_negerrno() : 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* SIGCHLD is blocked and read from a signalfd, so no exit can slip between checks. */
static int block_sigchld(struct tb_sandbox *sb)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, &sb->oldmask) < 0)
		return tb_negerrno();
	sb->mask_set = true;
	sb->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return sb->sigfd < 0 ? tb_negerrno() : 0;
}

/*
 * A process in a new user namespace may mount a fresh procfs only where the current one is fully
 * visible: nothing mounted over a file in it. Container runtimes mask /proc/kcore and friends that
 * way, so inside a container (an image build) the sandbox must do without its own user namespace.
 * Empty-directory mount points (binfmt_misc) are allowed by the kernel and here.
 */
static bool proc_fully_visible(void)
{
	_cleanup_close_ int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	char buf[65536];
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return false;
	/* One read loop and a field scan: fgets + sscanf per line cost ~0.1 ms per run. */
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	if (len == sizeof(buf) - 1)
		return false; /* too many mounts to judge: do without, with the warning */
	buf[len] = '\0';
	for (char *line = buf, *nl; *line; line = nl + 1) {
		char *f = line;

		nl = strchrnul(line, '\n');
		/* Field 5 is the mount point: skip four fields. */
		for (int i = 0; i < 4 && f < nl; i++) {
			f = memchr(f, ' ', (size_t)(nl - f));
			f = f ? f + 1 : nl;
		}
		if (nl - f > 6 && !strncmp(f, "/proc/", 6) &&
		    strncmp(f, "/proc/sys/fs/binfmt_misc ", 25) != 0)
			return false;
		if (!*nl)
			break;
	}
	return true;
}

/* struct clone_args as of Linux 5.7 (CLONE_INTO_CGROUP). */
struct tb_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/*
 * Creates the sandbox child in fresh namespaces. Where there is a cgroup2 run directory, the child
 * is born in it (clone3 CLONE_INTO_CGROUP): no migration, which on a pure cgroup v2 host saves the
 * RCU grace period a cgroup.procs write costs. Older kernels fall back to clone + migration.
 * Without a new stack both behave like fork: we are single-threaded here.
 */
static pid_t clone_sandbox(bool userns, const char *unified_dir, int *pidfd, bool *into_unified)
{
	uint64_t flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
			 CLONE_PIDFD | (userns ? CLONE_NEWUSER : 0);
	pid_t pid;

	*into_unified = false;
	if (unified_dir) {
		_cleanup_close_ int cgfd = open(unified_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct tb_clone_args ca = {.flags = flags | CLONE_INTO_CGROUP,
					   .pidfd = (uint64_t)(uintptr_t)pidfd,
					   .exit_signal = SIGCHLD,
					   .cgroup = (uint64_t)cgfd};

		if (cgfd >= 0) {
			pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
			if (pid >= 0) {
				*into_unified = true;
				return pid;
			}
			if (errno != ENOSYS && errno != E2BIG && errno != EINVAL)
				return -1;
		}
	}
	return (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, pidfd, NULL, 0);
}

static int write_file_at(pid_t pid, const char *name, const char *text)
{
	char path[64];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(text);

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		return tb_negerrno();
	return 0;
}

/*
 * Every sandbox has a user namespace of its own, for two reasons. Unprivileged, it is what makes
 * the sandbox possible at all: the sandbox uid maps to the caller, nothing else. As root, it is
 * RLIMIT_NPROC: the kernel counts processes per (user namespace, uid), so without it --ulimit
 * nproc=32 would count every process of uid 65534 on the host, the other sandboxes included, and
 * concurrent runs would fail with EAGAIN. Then the map holds only root (so that the setup, which
 * runs as root until the uid switch, can create its mount points) and the sandbox's own ids, both
 * mapped to themselves: no id gains anything, and after the switch no capability is left.
 */
static int write_id_maps(pid_t pid, bool unprivileged, uid_t uid, gid_t gid)
{
	char buf[96];
	int r;

	if (unprivileged) {
		if ((r = write_file_at(pid, "setgroups", "deny")) < 0)
			return r;
		snprintf(buf, sizeof(buf), "%u %u 1\n", uid, getuid());
		if ((r = write_file_at(pid, "uid_map", buf)) < 0)
			return r;
		snprintf(buf, sizeof(buf), "%u %u 1\n", gid, getgid());
		return write_file_at(pid, "gid_map", buf);
	}
	snprintf(buf, sizeof(buf), "0 0 1\n%u %u 1\n", uid, uid);
	if ((r = write_file_at(pid, "uid_map", buf)) < 0)
		return r;
	snprintf(buf, sizeof(buf), "0 0 1\n%u %u 1\n", gid, gid);
	return write_file_at(pid, "gid_map", buf);
}

/* Clones the init; in the child, runs the setup and never returns. */
static int clone_init(const struct tb_run_config *c, const struct tb_run_hooks *hooks,
		      const struct tb_run_plan *plan, struct tb_sandbox *sb)
{
	struct tb_child_args args = {
		.cfg = c,
		.cgroup = &sb->cg,
		.hooks = hooks,
		.prog = plan->prog,
		.landlock = plan->landlock,
		.landlock_abi = plan->landlock_abi,
		.apparmor = plan->apparmor,
		.unprivileged = geteuid() != 0,
		.own_userns = sb->own_userns,
		.rlimit_fallback = sb->rlimit_fallback,
		.envp = plan->envp,
		.argv = plan->argv ? plan->argv : c->argv,
		.phase2_fd = plan->phase2_fd,
		.workdir_fd = plan->workdir_fd,
		.stdin_fd = plan->stdin_fd,
		.out_fd = sb->out[1],
		.err_fd = sb->err[1],
		.status_fd = sb->status[1],
		.sync_fd = sb->sync[0],
		.parent = getpid(),
		.shared = sb->shared,
	};

	sb->t0_ms = tb_now_ms();
	sb->init = clone_sandbox(sb->own_userns, sb->cg.unified_dir, &sb->pidfd, &sb->into_unified);
	if (sb->init < 0)
		return tb_negerrno();
	if (sb->init == 0) {
		sigprocmask(SIG_SETMASK, &sb->oldmask, NULL);
		tb_child_main(&args);
	}
	/* The child's ends: only the child may hold them, or EOF would never come. */
	close(TB_TAKE_FD(sb->out[1]));
	close(TB_TAKE_FD(sb->err[1]));
	close(TB_TAKE_FD(sb->status[1]));
	close(TB_TAKE_FD(sb->sync[0]));
	return 0;
}

/* Maps the ids, lets the child set itself up, attaches a recorder, then releases it. */
static int handshake(const struct tb_run_config *c, const struct tb_run_hooks *hooks,
		     struct tb_sandbox *sb, struct tb_run_result *res, struct tb_diag *d)
{
	int r;

	if (sb->own_userns && (r = write_id_maps(sb->init, geteuid() != 0, c->uid, c->gid)) < 0) {
		tb_run_set_error(res, d, "cannot write the user namespace id maps: %s", strerror(-r));
		return r;
	}
	if (write(sb->sync[1], "m", 1) != 1)
		return tb_negerrno();
	if (!sb->into_unified && (r = tb_cgroup_attach_unified(&sb->cg, sb->init)) < 0) {
		tb_run_set_error(res, d, "cannot move the sandbox into its cgroup: %s", strerror(-r));
		return r;
	}
	if (hooks && hooks->parent_started && (r = hooks->parent_started(sb->init, hooks->data)) < 0) {
		tb_run_set_error(res, d, "recorder setup failed: %s", strerror(-r));
		return r;
	}
	if (write(sb->sync[1], "g", 1) != 1)
		return tb_negerrno();
	return 0;
}

int tb_sandbox_spawn(const struct tb_run_config *c, const struct tb_run_hooks *hooks,
		     const struct tb_run_plan *plan, struct tb_sandbox *sb, struct tb_run_result *res,
		     struct tb_diag *d)
{
	int r;

	sb->shared = mmap(NULL, sizeof(*sb->shared), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sb->shared == MAP_FAILED) {
		sb->shared = NULL;
		return -ENOMEM;
	}
	make_cgroups(c, sb, res);
	sb->mark_ns[TB_PM_CGROUP] = tb_now_ns();
	if ((r = make_pipes(sb)) < 0) {
		tb_run_set_error(res, d, "cannot create pipes: %s", strerror(-r));
		return r;
	}
	sb->mark_ns[TB_PM_PIPES] = tb_now_ns();
	if (tb_cgroup_active(&sb->cg) && (r = spawn_janitor(sb)) < 0) {
		tb_run_set_error(res, d, "cannot start the janitor: %s", strerror(-r));
		return r;
	}
	sb->mark_ns[TB_PM_JANITOR] = tb_now_ns();
	if ((r = block_sigchld(sb)) < 0) {
		tb_run_set_error(res, d, "cannot create a signalfd: %s", strerror(-r));
		return r;
	}
	sb->own_userns = geteuid() != 0 || proc_fully_visible();
	if (!sb->own_userns)
		tb_run_result_warnf(res, TB_WARN_NO_USERNS, NULL, "no user namespace for the sandbox (this /proc is partly "
					  "masked, as inside a container, and a user namespace could "
					  "not mount a fresh one): --ulimit nproc counts every process "
					  "of uid %u on the host", c->uid);
	sb->mark_ns[TB_PM_SIGNALS] = tb_now_ns();
	if ((r = clone_init(c, hooks, plan, sb)) < 0) {
		tb_run_set_error(res, d, "cannot create the sandbox namespaces: %s", strerror(-r));
		return r;
	}
	sb->mark_ns[TB_PM_CLONED] = tb_now_ns();
	if ((r = handshake(c, hooks, sb, res, d)) < 0)
		return r;
	sb->mark_ns[TB_PM_RELEASED] = tb_now_ns();
	return 0;
}

void tb_sandbox_kill(const struct tb_sandbox *sb)
{
	/* Killing the init of the pid namespace makes the kernel kill everything inside it,
	 * stopped, setsid'ed or SIGTERM-ignoring processes included; cgroup.kill covers the rest. */
	if (sb->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, sb->pidfd, SIGKILL, NULL, 0);
	else if (sb->init > 0)
		kill(sb->init, SIGKILL);
	if (tb_cgroup_active(&sb->cg))
		tb_cgroup_kill(&sb->cg);
}

static void close_pair(int fds[2])
{
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(TB_TAKE_FD(fds[i]));
}

void tb_sandbox_done(struct tb_sandbox *sb)
{
	if (sb->init > 0 && !sb->init_reaped) {
		tb_sandbox_kill(sb);
		while (waitpid(sb->init, NULL, __WALL) < 0 && errno == EINTR)
			;
	}
	sb->init = -1; /* reaped: done twice (tb_run calls it, then the cleanup) is harmless */
	close_pair(sb->out);
	close_pair(sb->err);
	close_pair(sb->status);
	close_pair(sb->sync);
	/* Killed or exiting members can keep a cgroup busy for a moment after the init was reaped:
	 * one quick attempt, and only if that fails the retrying removal. */
	if (!tb_cgroup_try_destroy(&sb->cg))
		tb_cgroup_destroy(&sb->cg);
	tb_cgroup_free(&sb->cg);
	/* The cgroups are gone: the janitor has nothing left to do. It is killed while it sleeps in
	 * read(), before the lifeline closes: it never runs its cleanup beside us (see
	 * spawn_janitor). What the removal above left (a member still exiting), it leaves too; the
	 * retrying removal above already waited for that. It dies while we close the rest. */
	if (sb->janitor > 0 && !sb->janitor_reaped)
		kill(sb->janitor, SIGKILL);
	if (sb->shared)
		munmap(TB_TAKE_PTR(sb->shared), sizeof(*sb->shared));
	if (sb->pidfd >= 0)
		close(TB_TAKE_FD(sb->pidfd));
	if (sb->janitor > 0 && !sb->janitor_reaped)
		while (waitpid(sb->janitor, NULL, 0) < 0 && errno == EINTR)
			;
	sb->janitor = -1;
	close_pair(sb->lifeline);
	if (sb->janitor_area) {
		/* Under ASan the janitor's frames left their redzones poisoned in the shadow of its
		 * stack (it was killed inside janitor_main, and ASan knows nothing of a CLONE_VM
		 * child's stack); a later mapping at this address would inherit them. */
		TB_ASAN_UNPOISON(sb->janitor_area, sizeof(struct janitor_area));
		munmap(TB_TAKE_PTR(sb->janitor_area), sizeof(struct janitor_area));
	}
	if (sb->sigfd >= 0)
		close(TB_TAKE_FD(sb->sigfd));
	if (sb->mask_set) {
		/* Drop a SIGCHLD that arrived while blocked before unblocking it. */
		struct timespec zero = {0, 0};
		sigset_t mask;

		sigemptyset(&mask);
		sigaddset(&mask, SIGCHLD);
		while (sigtimedwait(&mask, NULL, &zero) > 0)
			;
		sigprocmask(SIG_SETMASK, &sb->oldmask, NULL);
		sb->mask_set = false;
	}
}
