/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tb_run(), the parent side: validate everything, compile the profile, create the cgroups, clone
 * the sandbox child into fresh namespaces, then multiplex its output, its exit, ptrace stops (for
 * hooks) and the timeout in one poll loop. Nothing of the command runs unless every check passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apparmor/apparmor.h"
#include "core/fileio.h"
#include "core/profile.h"
#include "core/util.h"
#include "runner/cgroup.h"
#include "runner/filter-cache.h"
#include "runner/internal.h"

struct capture {
	int fd;          /* read end, -1 at EOF */
	char *buf;       /* first @limit bytes */
	size_t limit, len;
	uint64_t total;
	int pass_fd;     /* -1, or where the kept bytes are copied as they arrive */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void set_error(struct tb_run_result *res, struct tb_diag *d, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (d && !d->message[0])
		tb_diag_set(d, NULL, 0, 0, NULL, "%s", buf);
	free(res->error);
	res->error = strdup(buf);
}

/* Where the shipped profiles live: $TIGHTBOX_PROFILE_DIR, the install prefix, or the source tree. */
static int default_profile_path(char *out, size_t size)
{
	const char *env = getenv("TIGHTBOX_PROFILE_DIR");
	const char *dirs[] = {env, TB_PROFILE_DIR, TB_SOURCE_DIR "/profiles"};

	for (size_t i = 0; i < TB_ARRAY_SIZE(dirs); i++) {
		if (!dirs[i] || !*dirs[i])
			continue;
		snprintf(out, size, "%s/default.json", dirs[i]);
		if (access(out, R_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

struct warn_ctx {
	struct tb_run_result *res;
	char *text; /* every warning, newline-separated (stored with a cached program) */
	size_t len;
};

static void warn_text(struct warn_ctx *w, const char *msg)
{
	size_t n = strlen(msg);
	char *t = realloc(w->text, w->len + n + 2);

	if (!t)
		return;
	memcpy(t + w->len, msg, n);
	t[w->len + n] = '\n';
	t[w->len + n + 1] = '\0';
	w->text = t;
	w->len += n + 1;
}

static void warn_cb(void *data, const char *msg)
{
	struct warn_ctx *w = data;

	tb_run_result_add_warning(w->res, "seccomp: %s", msg);
	warn_text(w, msg);
}

static int prepare_filter(const struct tb_run_config *c, const struct tb_run_hooks *hooks,
			  struct sock_fprog *prog, struct tb_run_result *res, struct tb_diag *d)
{
	struct tb_profile *p = NULL;
	struct warn_ctx w = {.res = res};
	struct tb_compile_opts opts = {.caps = 0, .warn = warn_cb, .warn_data = &w,
				       .trace_denials = c->trace_denials};
	/* A hook that rewrites the filter makes the result not reusable. */
	bool cacheable = !(hooks && hooks->parent_adjust_filter);
	char path[PATH_MAX], optstr[64];
	_cleanup_free_ char *text = NULL, *key = NULL;
	size_t len, key_len = 0;
	const char *file = c->seccomp_path;
	void *ctx = NULL;
	int r;

	prog->filter = NULL;
	prog->len = 0;
	if (c->seccomp_mode == TB_SECCOMP_UNCONFINED)
		return 0;
	if (c->seccomp_mode == TB_SECCOMP_DEFAULT) {
		if (default_profile_path(path, sizeof(path)) < 0) {
			tb_diag_set(d, "profiles/default.json", 0, 0, NULL,
				    "the default seccomp profile is not installed (set "
				    "TIGHTBOX_PROFILE_DIR or pass --security-opt seccomp=FILE)");
			return -ENOENT;
		}
		file = path;
	}
	/* Read once: the bytes that are parsed are the bytes the cache key holds. */
	r = tb_read_file(file, 16 << 20, &text, &len);
	if (r < 0) {
		tb_diag_set(d, file, 0, 0, NULL, "cannot read the seccomp profile: %s", strerror(-r));
		return r;
	}
	snprintf(optstr, sizeof(optstr), "caps=0 trace_denials=%d", c->trace_denials);
	if (cacheable && tb_filter_cache_key(text, len, optstr, &key, &key_len) == 0) {
		char *cached_warnings = NULL;

		if (tb_filter_cache_get(key, key_len, prog, &cached_warnings) == 0) {
			for (char *line = cached_warnings, *nl; line && *line; line = nl + 1) {
				nl = strchrnul(line, '\n');
				tb_run_result_add_warning(res, "seccomp: %.*s", (int)(nl - line), line);
				if (!*nl)
					break;
			}
			free(cached_warnings);
			return 0;
		}
	}
	r = tb_profile_parse(text, len, file, &p, d);
	if (r < 0)
		goto out;
	r = tb_profile_compile(p, &opts, &ctx, d);
	if (r == 0 && hooks && hooks->parent_adjust_filter)
		r = hooks->parent_adjust_filter(ctx, hooks->data);
	if (r == 0)
		r = tb_profile_export_bpf(ctx, prog);
	if (r < 0 && !d->message[0])
		tb_diag_set(d, file, 0, 0, NULL, "cannot compile the profile: %s", strerror(-r));
	if (r == 0 && key)
		(void)tb_filter_cache_put(key, key_len, prog, w.text ? w.text : "");
out:
	free(w.text);
	tb_profile_ctx_free(ctx);
	tb_profile_free(p);
	return r;
}

/* Everything on the host the run depends on must exist before anything starts. */
static int validate(const struct tb_run_config *c, struct tb_diag *d)
{
	struct stat st;
	const char *rootfs = c->rootfs ? c->rootfs : "/";

	if (!c->argv || !c->argv[0]) {
		tb_diag_set(d, NULL, 0, 0, NULL, "no command given (and no --script)");
		return -EINVAL;
	}
	if (stat(rootfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
		tb_diag_set(d, rootfs, 0, 0, "--rootfs", "%s", errno ? strerror(errno) : "not a directory");
		return -ENOENT;
	}
	for (size_t i = 0; i < c->n_volumes; i++)
		if (stat(c->volumes[i].src, &st) < 0) {
			tb_diag_set(d, c->volumes[i].src, 0, 0, "--volume",
				    "volume source: %s", strerror(errno));
			return -ENOENT;
		}
	if (c->script && (stat(c->script, &st) < 0 || !S_ISREG(st.st_mode))) {
		tb_diag_set(d, c->script, 0, 0, "--script", "%s",
			    errno ? strerror(errno) : "not a regular file");
		return -ENOENT;
	}
	if (c->uid == 0 || c->gid == 0) {
		tb_diag_set(d, NULL, 0, 0, "--user", "refusing to run as uid or gid 0");
		return -EPERM;
	}
	return 0;
}

static char **build_env(const struct tb_run_config *c)
{
	static const char *const base[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8",
					   "HOME=/tmp"};
	size_t n = 0, cap = TB_ARRAY_SIZE(base) + c->n_env + 1;
	char **env = calloc(cap, sizeof(*env));

	if (!env)
		return NULL;
	/* The host environment is never passed on: only the minimal base and what -e gave. */
	for (size_t i = 0; i < TB_ARRAY_SIZE(base); i++) {
		size_t klen = strchr(base[i], '=') - base[i] + 1;
		bool overridden = false;

		for (size_t j = 0; j < c->n_env; j++)
			if (!strncmp(c->env[j], base[i], klen))
				overridden = true;
		if (!overridden)
			env[n++] = (char *)base[i];
	}
	for (size_t j = 0; j < c->n_env; j++)
		env[n++] = c->env[j];
	env[n] = NULL;
	return env;
}

/* Reads what is available; keeps the first @limit bytes, counts and drops the rest. */
static void capture_read(struct capture *cap)
{
	char chunk[65536];
	ssize_t n;

	for (;;) {
		n = read(cap->fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(cap->fd);
			cap->fd = -1;
			return;
		}
		if (cap->len < cap->limit) {
			size_t keep = (size_t)n < cap->limit - cap->len ? (size_t)n : cap->limit - cap->len;

			memcpy(cap->buf + cap->len, chunk, keep);
			if (cap->pass_fd >= 0) {
				ssize_t w = write(cap->pass_fd, chunk, keep);
				(void)w;
			}
			cap->len += keep;
		}
		cap->total += (uint64_t)n;
	}
}

/*
 * A child that outlives tightbox if tightbox is SIGKILLed: it removes the run's cgroups once its
 * lifeline pipe closes. Normally tightbox removes them itself, closes the lifeline and reaps the
 * janitor, which then has nothing left to do - no orphan is left for init to reap.
 */
static pid_t spawn_janitor(struct tb_cgroup *cg, int lifeline_rd)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		char c;

		setsid(); /* a Ctrl-C for tightbox must not take the janitor down with it */
		/* Only the lifeline stays open: the janitor must not keep the run's pipes alive. */
		if (lifeline_rd != 3 && dup2(lifeline_rd, 3) < 0)
			_exit(1);
		syscall(SYS_close_range, 0U, 2U, 0);
		syscall(SYS_close_range, 4U, ~0U, 0);
		prctl(PR_SET_NAME, "tightbox-janitor", 0, 0, 0);
		while (read(3, &c, 1) < 0 && errno == EINTR)
			;
		tb_cgroup_destroy(cg);
		_exit(0);
	}
	return pid;
}

static void kill_sandbox(pid_t init, int pidfd, const struct tb_cgroup *cg)
{
	/* Killing the init of the pid namespace makes the kernel kill everything inside it,
	 * stopped, setsid'ed or SIGTERM-ignoring processes included; cgroup.kill covers the rest. */
	if (pidfd >= 0)
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	else
		kill(init, SIGKILL);
	if (tb_cgroup_active(cg))
		tb_cgroup_kill(cg);
}

static int timer_arm(int tfd, double seconds)
{
	struct itimerspec its = {0};

	its.it_value.tv_sec = (time_t)seconds;
	its.it_value.tv_nsec = (long)((seconds - (double)its.it_value.tv_sec) * 1e9);
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	return timerfd_settime(tfd, 0, &its, NULL);
}

static void report_child_failure(const struct tb_child_report *rep, const struct tb_run_config *c,
				 struct tb_run_result *res, struct tb_diag *d)
{
	if (rep->step == TB_STEP_EXEC || rep->step == TB_STEP_EXEC_LOOKUP) {
		res->exec_failed = true;
		res->exec_errno = rep->err;
		set_error(res, NULL, "cannot execute '%s': %s", c->argv[0], strerror(rep->err));
		return;
	}
	if (rep->step == TB_STEP_VOLUME && rep->index >= 0 && (size_t)rep->index < c->n_volumes)
		set_error(res, d, "sandbox setup failed at volume %s:%s: %s",
			  c->volumes[rep->index].src, c->volumes[rep->index].dst, strerror(rep->err));
	else if (rep->step == TB_STEP_TMPFS && rep->index >= 0 && (size_t)rep->index < c->n_tmpfs)
		set_error(res, d, "sandbox setup failed at tmpfs %s: %s", c->tmpfs[rep->index].path,
			  strerror(rep->err));
	else
		set_error(res, d, "sandbox setup failed at step '%s' (%d): %s",
			  tb_step_name((enum tb_step)rep->step), rep->index, strerror(rep->err));
}

/*
 * A process in a new user namespace may mount a fresh procfs only where the current one is fully
 * visible: nothing mounted over a file in it. Container runtimes mask /proc/kcore and friends that
 * way, so inside a container (an image build) the sandbox must do without its own user namespace.
 * Empty-directory mount points (binfmt_misc) are allowed by the kernel and here.
 */
static bool proc_fully_visible(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char mnt[4096];

		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		if (!strncmp(mnt, "/proc/", 6) && strcmp(mnt, "/proc/sys/fs/binfmt_misc") != 0)
			return false;
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

static int make_pipe(int fds[2], bool nonblock_read)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return tb_negerrno();
	if (nonblock_read)
		fcntl(fds[0], F_SETFL, O_NONBLOCK);
	return 0;
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

int tb_run(const struct tb_run_config *c, const struct tb_run_hooks *hooks, struct tb_run_result *res,
	   struct tb_diag *d)
{
	static unsigned seq;
	struct tb_child_args args = {0};
	struct tb_cgroup cg = {0};
	struct tb_ll_ruleset *ll = NULL;
	struct capture out = {.fd = -1, .pass_fd = -1}, err = {.fd = -1, .pass_fd = -1};
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, statp[2] = {-1, -1}, syncp[2] = {-1, -1};
	int lifeline[2] = {-1, -1};
	int stdin_fd = -1, sfd = -1, tfd = -1, pidfd = -1;
	char **envp = NULL;
	sigset_t mask, oldmask;
	bool mask_set = false, init_done = false, status_done = false, janitor_reaped = false;
	struct tb_child_report rep = {0};
	size_t rep_got = 0;
	struct rusage ru = {0};
	uint64_t t0 = 0, deadline_drain = 0;
	int wstatus = 0, r;
	pid_t pid = -1;
	bool unprivileged = geteuid() != 0, into_unified = false, own_userns;
	pid_t janitor = -1;

	memset(res, 0, sizeof(*res));
	tb_diag_clear(d);
	r = validate(c, d);
	if (r < 0)
		goto fail;
	r = prepare_filter(c, hooks, &args.prog, res, d);
	if (r < 0)
		goto fail;
	args.landlock_abi = c->landlock_off ? 0 : tb_landlock_abi();
	if (c->landlock_path) {
		r = tb_ll_ruleset_load(c->landlock_path, &ll, d);
		if (r < 0)
			goto fail;
	}
	if (!c->landlock_off) {
		/* Best effort across ABIs: the run goes on with what the kernel knows, and says what not. */
		char lost[256];

		if (!args.landlock_abi)
			tb_run_result_add_warning(res, "Landlock is not available in this kernel: %s not enforced",
						  c->landlock_path ? c->landlock_path : "the built-in file ruleset");
		else {
			tb_landlock_unenforced(ll, args.landlock_abi, lost, sizeof(lost));
			if (lost[0])
				tb_run_result_add_warning(res, "Landlock ABI %d of this kernel does not enforce "
							  "%s of %s", args.landlock_abi, lost,
							  c->landlock_path ? c->landlock_path : "the built-in ruleset");
		}
	}
	args.landlock = ll;
	if (c->apparmor_profile) {
		char why[256];

		args.apparmor = tb_apparmor_enabled(why, sizeof(why));
		if (!args.apparmor)
			tb_run_result_add_warning(res, "apparmor=%s not enforced: %s; Landlock enforces the file "
					 "policy instead", c->apparmor_profile, why);
	}
	stdin_fd = open(c->stdin_path ? c->stdin_path : "/dev/null", O_RDONLY | O_CLOEXEC);
	if (stdin_fd < 0) {
		r = tb_negerrno();
		tb_diag_set(d, c->stdin_path, 0, 0, "--stdin", "%s", strerror(-r));
		goto fail;
	}
	envp = build_env(c);
	if (!envp) {
		r = -ENOMEM;
		goto fail;
	}

	/* Limits: cgroups (v2, v1 or hybrid); rlimits only where no cgroup can be created. */
	{
		char name[64];
		struct tb_cg_limits lim = {.memory = c->memory, .memory_swap = c->memory_swap,
					   .cpus = c->cpus, .pids = c->pids_limit};

		if (lim.memory_swap == 0)
			lim.memory_swap = (int64_t)c->memory;
		snprintf(name, sizeof(name), "run-%d-%u", (int)getpid(), seq++);
		r = tb_cgroup_create(&cg, c->cgroup_parent ? c->cgroup_parent : "tightbox", name, &lim);
		if (r < 0) {
			args.rlimit_fallback = true;
			tb_run_result_add_warning(res, "no cgroup could be created (%s): memory is limited by "
					 "RLIMIT_AS, processes by RLIMIT_NPROC only, CPU is not limited",
				    strerror(-r));
		}
	}
	if ((r = make_pipe(outp, true)) < 0 || (r = make_pipe(errp, true)) < 0 ||
	    (r = make_pipe(statp, true)) < 0 || (r = make_pipe(syncp, false)) < 0 ||
	    (r = make_pipe(lifeline, false)) < 0) {
		set_error(res, d, "cannot create pipes: %s", strerror(-r));
		goto fail;
	}
	if (tb_cgroup_active(&cg))
		janitor = spawn_janitor(&cg, lifeline[0]);

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	mask_set = true;
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (sfd < 0 || tfd < 0) {
		r = tb_negerrno();
		set_error(res, d, "cannot create signalfd/timerfd: %s", strerror(-r));
		goto fail;
	}

	args.cfg = c;
	args.cgroup = &cg;
	args.hooks = hooks;
	args.envp = envp;
	args.unprivileged = unprivileged;
	args.own_userns = own_userns = unprivileged || proc_fully_visible();
	if (!own_userns)
		tb_run_result_add_warning(res, "no user namespace for the sandbox (this /proc is partly masked, as "
				 "inside a container, and a user namespace could not mount a fresh one): "
				 "--ulimit nproc counts every process of uid %u on the host", c->uid);
	args.stdin_fd = stdin_fd;
	args.out_fd = outp[1];
	args.err_fd = errp[1];
	args.status_fd = statp[1];
	args.sync_fd = syncp[0];
	args.parent = getpid();

	t0 = now_ms();
	pid = clone_sandbox(own_userns, cg.unified_dir, &pidfd, &into_unified);
	if (pid < 0) {
		r = tb_negerrno();
		set_error(res, d, "cannot create the sandbox namespaces: %s", strerror(-r));
		goto fail;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		tb_child_main(&args);
	}
	close(TB_TAKE_FD(outp[1]));
	close(TB_TAKE_FD(errp[1]));
	close(TB_TAKE_FD(statp[1]));
	close(TB_TAKE_FD(syncp[0]));
	if (own_userns && (r = write_id_maps(pid, unprivileged, c->uid, c->gid)) < 0) {
		set_error(res, d, "cannot write the user namespace id maps: %s", strerror(-r));
		goto kill;
	}
	if (write(syncp[1], "m", 1) != 1) {
		r = tb_negerrno();
		goto kill;
	}
	if (!into_unified && (r = tb_cgroup_attach_unified(&cg, pid)) < 0) {
		set_error(res, d, "cannot move the sandbox into its cgroup: %s", strerror(-r));
		goto kill;
	}
	if (hooks && hooks->parent_started && (r = hooks->parent_started(pid, hooks->data)) < 0) {
		set_error(res, d, "recorder setup failed: %s", strerror(-r));
		goto kill;
	}
	if (write(syncp[1], "g", 1) != 1) {
		r = tb_negerrno();
		goto kill;
	}
	if (c->timeout > 0)
		timer_arm(tfd, c->timeout);

	out.fd = outp[0];
	outp[0] = -1;
	out.limit = c->stdout_limit;
	out.buf = malloc(out.limit + 1);
	err.fd = errp[0];
	errp[0] = -1;
	err.limit = c->stderr_limit;
	err.buf = malloc(err.limit + 1);
	if (!out.buf || !err.buf) {
		r = -ENOMEM;
		goto kill;
	}
	if (c->passthrough) {
		out.pass_fd = STDOUT_FILENO;
		err.pass_fd = STDERR_FILENO;
	}

	/* The loop: output, child status reports, SIGCHLD (exit and ptrace stops), timeout. */
	while (!init_done || out.fd >= 0 || err.fd >= 0) {
		struct pollfd pfd[5] = {
			{.fd = out.fd, .events = POLLIN},   {.fd = err.fd, .events = POLLIN},
			{.fd = sfd, .events = POLLIN},      {.fd = tfd, .events = POLLIN},
			{.fd = status_done ? -1 : statp[0], .events = POLLIN},
		};
		int timeout_ms = -1;

		if (init_done) {
			/* Everything in the pid namespace died with its init; output still in
			 * flight drains quickly. Do not wait forever on a descriptor someone
			 * passed out of the sandbox. */
			uint64_t now = now_ms();

			if (now >= deadline_drain)
				break;
			timeout_ms = (int)(deadline_drain - now);
		}
		if (poll(pfd, 5, timeout_ms) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			capture_read(&out);
		if (pfd[1].revents)
			capture_read(&err);
		if (pfd[4].revents) {
			ssize_t n = read(statp[0], (char *)&rep + rep_got, sizeof(rep) - rep_got);

			if (n > 0)
				rep_got += (size_t)n;
			if (n <= 0 || rep_got == sizeof(rep))
				status_done = true;
		}
		if (pfd[3].revents) {
			uint64_t ticks;

			if (read(tfd, &ticks, sizeof(ticks)) > 0 && !init_done) {
				res->timed_out = true;
				kill_sandbox(pid, pidfd, &cg);
			}
		}
		if (pfd[2].revents) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) > 0)
				;
			for (;;) {
				int st;
				struct rusage cru;
				pid_t w = wait4(-1, &st, WNOHANG | __WALL, &cru);

				if (w <= 0)
					break;
				if (w == janitor) {
					janitor_reaped = true;
				} else if (w == pid && (WIFEXITED(st) || WIFSIGNALED(st))) {
					init_done = true;
					wstatus = st;
					ru = cru;
					res->wall_ms = now_ms() - t0;
					deadline_drain = now_ms() + 2000;
				} else if (hooks && hooks->parent_on_wait) {
					hooks->parent_on_wait(w, st, hooks->data);
				}
			}
		}
	}
	if (!status_done) {
		ssize_t n;

		while (rep_got < sizeof(rep) &&
		       (n = read(statp[0], (char *)&rep + rep_got, sizeof(rep) - rep_got)) > 0)
			rep_got += (size_t)n;
	}
	/* Descendants still traced by a hook report their exits to us: collect them. */
	if (hooks && hooks->parent_on_wait) {
		int st;
		pid_t w;

		while ((w = waitpid(-1, &st, WNOHANG | __WALL)) > 0) {
			if (w == janitor)
				janitor_reaped = true;
			else
				hooks->parent_on_wait(w, st, hooks->data);
		}
	}

	if (WIFEXITED(wstatus)) {
		res->exited = true;
		res->exit_code = WEXITSTATUS(wstatus);
	} else if (WIFSIGNALED(wstatus)) {
		res->signal = WTERMSIG(wstatus);
	}
	res->cpu_ms = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
		      (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
	res->max_rss_kib = (uint64_t)ru.ru_maxrss;
	if (tb_cgroup_active(&cg)) {
		int64_t cpu = tb_cgroup_cpu_ms(&cg);

		if (cpu >= 0)
			res->cpu_ms = (uint64_t)cpu;
		res->oom_killed = tb_cgroup_oom_killed(&cg);
	}
	out.buf[out.len] = '\0';
	err.buf[err.len] = '\0';
	res->out = TB_TAKE_PTR(out.buf);
	res->out_len = out.len;
	res->out_bytes = out.total;
	res->out_truncated = out.total > out.len;
	res->err = TB_TAKE_PTR(err.buf);
	res->err_len = err.len;
	res->err_bytes = err.total;
	res->err_truncated = err.total > err.len;
	r = 0;
	if (rep_got == sizeof(rep)) {
		report_child_failure(&rep, c, res, d);
		if (!res->exec_failed)
			r = -ECHILD;
	}
	if (hooks && hooks->parent_finished)
		hooks->parent_finished(res, hooks->data);
	goto out;

kill:
	if (pid > 0) {
		kill_sandbox(pid, pidfd, &cg);
		while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
			;
	}
fail:
	if (!res->error) {
		char buf[1024];

		if (!d->message[0])
			tb_diag_set(d, NULL, 0, 0, NULL, "%s", strerror(r < 0 ? -r : EIO));
		res->error = strdup(tb_diag_format(d, buf, sizeof(buf)));
	}
	if (r >= 0)
		r = -EIO;
out:
	free(out.buf);
	free(err.buf);
	if (out.fd >= 0)
		close(out.fd);
	if (err.fd >= 0)
		close(err.fd);
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
		if (statp[i] >= 0)
			close(statp[i]);
		if (syncp[i] >= 0)
			close(syncp[i]);
	}
	/* Killed or exiting members can keep a cgroup busy for a moment after the init was reaped:
	 * one quick attempt, and only if that fails the retrying removal. */
	if (!tb_cgroup_try_destroy(&cg))
		tb_cgroup_destroy(&cg);
	tb_cgroup_free(&cg);
	/* The cgroups are gone: the janitor has nothing left to do. Killed while it sleeps in
	 * read() it exits without running again, which is quicker to reap than its own exit. */
	for (int i = 0; i < 2; i++)
		if (lifeline[i] >= 0)
			close(lifeline[i]);
	if (janitor > 0 && !janitor_reaped) {
		kill(janitor, SIGKILL);
		while (waitpid(janitor, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (stdin_fd >= 0)
		close(stdin_fd);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	if (pidfd >= 0)
		close(pidfd);
	if (mask_set) {
		/* Drop a SIGCHLD that arrived while blocked before unblocking it. */
		struct timespec zero = {0, 0};

		while (sigtimedwait(&mask, NULL, &zero) > 0)
			;
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
	}
	free(envp);
	free(args.prog.filter);
	tb_ll_ruleset_free(ll);
	return r;
}
