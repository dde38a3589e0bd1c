/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tb_run(), the parent side, as a sequence of stages: the plan (validate everything, compile the
 * profile, open stdin; this file), spawn (spawn.c), supervise and result (supervise.c). Nothing of
 * the command runs unless every check of the plan passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apparmor/apparmor.h"
#include "core/fileio.h"
#include "core/profile.h"
#include "core/util.h"
#include "runner/filter-cache.h"
#include "runner/internal.h"

uint64_t tb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t tb_now_ms(void)
{
	return tb_now_ns() / 1000000;
}

void tb_run_set_error(struct tb_run_result *res, struct tb_diag *d, const char *fmt, ...)
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

struct warn_ctx {
	struct tb_run_result *res;
	char *text; /* every warning as "KIND\tSUBJECT\tMESSAGE\n" (stored with a cached program) */
	size_t len;
};

static void warn_cb(void *data, const struct tb_warning *w)
{
	struct warn_ctx *c = data;
	struct tb_warning prefixed = *w;
	char *line = NULL;
	int n;

	snprintf(prefixed.message, sizeof(prefixed.message), "seccomp: %s", w->message);
	tb_run_result_add_warning(c->res, &prefixed);
	n = asprintf(&line, "%d\t%s\t%s\n", (int)w->kind, w->subject, prefixed.message);
	if (n > 0) {
		char *t = realloc(c->text, c->len + (size_t)n + 1);

		if (t) {
			memcpy(t + c->len, line, (size_t)n + 1);
			c->text = t;
			c->len += (size_t)n;
		}
	}
	free(line);
}

/* Re-adds the warnings stored with a cached program (warn_cb's lines). */
static void add_cached_warnings(struct tb_run_result *res, const char *text)
{
	for (const char *line = text, *nl; line && *line; line = *nl ? nl + 1 : nl) {
		struct tb_warning w = {0};
		const char *t1, *t2;

		nl = strchrnul(line, '\n');
		t1 = memchr(line, '\t', (size_t)(nl - line));
		t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(nl - t1 - 1)) : NULL;
		if (!t2)
			continue;
		w.kind = (enum tb_warning_kind)strtol(line, NULL, 10);
		snprintf(w.subject, sizeof(w.subject), "%.*s", (int)(t2 - t1 - 1), t1 + 1);
		snprintf(w.message, sizeof(w.message), "%.*s", (int)(nl - t2 - 1), t2 + 1);
		tb_run_result_add_warning(res, &w);
	}
}

static int prepare_filter(const struct tb_run_config *c, struct sock_fprog *prog,
			  struct tb_run_result *res, struct tb_diag *d)
{
	char path[PATH_MAX];
	const char *file = c->seccomp_path;

	prog->filter = NULL;
	prog->len = 0;
	if (c->seccomp_mode == TB_SECCOMP_UNCONFINED)
		return 0;
	if (c->seccomp_mode == TB_SECCOMP_DEFAULT) {
		if (tb_data_path("default.json", path, sizeof(path)) < 0) {
			tb_diag_set(d, path, 0, 0, NULL,
				    "the default seccomp profile is not installed (set "
				    "TIGHTBOX_PROFILE_DIR or pass --security-opt seccomp=FILE)");
			return -ENOENT;
		}
		file = path;
	}
	return tb_run_compile_profile(file, c->trace_denials, c->two_phase_path != NULL, prog, res, d);
}

int tb_run_compile_profile(const char *file, bool trace_denials, bool allow_seccomp_filter,
			   struct sock_fprog *prog, struct tb_run_result *res, struct tb_diag *d)
{
	struct tb_profile *p = NULL;
	struct warn_ctx w = {.res = res};
	struct tb_compile_opts opts = {.caps = 0, .warn = warn_cb, .warn_data = &w,
				       .trace_denials = trace_denials};
	char optstr[64];
	_cleanup_free_ char *text = NULL;
	struct tb_filter_key key;
	bool keyed = false;
	size_t len;
	void *ctx = NULL;
	int r;

	prog->filter = NULL;
	prog->len = 0;
	/* Read once: the bytes that are parsed are the bytes the cache key holds. */
	r = tb_read_file(file, 16 << 20, &text, &len);
	if (r < 0) {
		tb_diag_set(d, file, 0, 0, NULL, "cannot read the seccomp profile: %s",
			    tb_read_file_strerror(r));
		return r;
	}
	/* compiler=N: bumped whenever tb_profile_compile's program or warnings change for the same
	 * bytes (2: copies of a name compile and warn once), so no entry of an older build is used.
	 * The two-phase rule only when present: other keys stay what they were. */
	snprintf(optstr, sizeof(optstr), "caps=0 trace_denials=%d compiler=3%s", trace_denials,
		 allow_seccomp_filter ? " two_phase=1" : "");
	if (tb_filter_cache_key(text, len, optstr, &key) == 0) {
		char *cached_warnings = NULL;

		keyed = true;
		if (tb_filter_cache_get(&key, prog, &cached_warnings) == 0) {
			add_cached_warnings(res, cached_warnings);
			free(cached_warnings);
			return 0;
		}
	}
	r = tb_profile_parse(text, len, file, &p, d);
	if (r < 0)
		goto out;
	r = tb_profile_compile(p, &opts, &ctx, d);
	if (r == 0 && allow_seccomp_filter && (r = tb_two_phase_allow_stacking(ctx)) < 0)
		tb_diag_set(d, file, 0, 0, "--two-phase",
			    "cannot allow seccomp(SECCOMP_SET_MODE_FILTER) in the phase-1 profile "
			    "(does it name seccomp with another action?): %s", strerror(-r));
	/* A binary tree of syscall numbers instead of libseccomp's linear list: the same verdicts,
	 * but the kernel's load-time work is bounded by the tree's depth. seccomp(2) emulates the
	 * program once per syscall number and arch to build its always-allow bitmap; through the
	 * default profile's linear list of 400 compares that took ~150 us of every run's setup. */
	if (r == 0 && (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
		tb_diag_set(d, file, 0, 0, NULL, "cannot ask libseccomp for a binary-tree filter: %s",
			    strerror(-r));
	if (r == 0)
		r = tb_profile_export_bpf(ctx, prog);
	if (r < 0 && !d->message[0])
		tb_diag_set(d, file, 0, 0, NULL, "cannot compile the profile: %s", strerror(-r));
	if (r == 0 && keyed)
		(void)tb_filter_cache_put(&key, prog, w.text ? w.text : "");
out:
	free(w.text);
	tb_profile_ctx_free(ctx);
	tb_profile_free(p);
	return r;
}

/* A volume or script source, resolved as the child will resolve it: no symlink anywhere in it. */
static int check_source(const char *path, const char *flag, bool regular, struct tb_diag *d)
{
	_cleanup_close_ int fd = tb_open_source(path);
	struct stat st;

	if (fd < 0) {
		tb_diag_set(d, path, 0, 0, flag, "%s", fd == -ELOOP
			    ? "the path contains a symbolic link, which is not followed (a writable "
			      "volume may hold links another run left): give the resolved path"
			    : strerror(-fd));
		return fd == -ELOOP ? -ELOOP : -ENOENT;
	}
	if (fstat(fd, &st) < 0 || (regular && !S_ISREG(st.st_mode))) {
		tb_diag_set(d, path, 0, 0, flag, "not a regular file");
		return -EINVAL;
	}
	return 0;
}

/* Everything on the host the run depends on must exist before anything starts. */
static int validate(const struct tb_run_config *c, struct tb_diag *d)
{
	struct stat st;
	const char *rootfs = c->rootfs ? c->rootfs : "/";
	int r;

	if (!c->argv || !c->argv[0]) {
		tb_diag_set(d, NULL, 0, 0, NULL, "no command given (and no --script)");
		return -EINVAL;
	}
	if (stat(rootfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
		tb_diag_set(d, rootfs, 0, 0, "--rootfs", "%s", errno ? strerror(errno) : "not a directory");
		return -ENOENT;
	}
	for (size_t i = 0; i < c->n_volumes; i++)
		if ((r = check_source(c->volumes[i].src, "--volume", false, d)) < 0)
			return r;
	if (c->script && (r = check_source(c->script, "--script", true, d)) < 0)
		return r;
	if (c->uid == 0 || c->gid == 0) {
		tb_diag_set(d, NULL, 0, 0, "--user", "refusing to run as uid or gid 0");
		return -EPERM;
	}
	if (c->script && c->code) {
		tb_diag_set(d, NULL, 0, 0, "--code", "--code and --script both give the script");
		return -EINVAL;
	}
	if (c->stdin_inherit && c->stdin_path) {
		tb_diag_set(d, NULL, 0, 0, "-i", "-i and --stdin both give stdin");
		return -EINVAL;
	}
	if (c->output_dir && stat(c->output_dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		tb_diag_set(d, c->output_dir, 0, 0, "--output-dir", "exists and is not a directory");
		return -ENOTDIR;
	}
	if (c->stdout_limit > TB_OUTPUT_LIMIT_MAX || c->stderr_limit > TB_OUTPUT_LIMIT_MAX) {
		tb_diag_set(d, NULL, 0, 0, c->stdout_limit > TB_OUTPUT_LIMIT_MAX ? "--stdout-limit"
										 : "--stderr-limit",
			    "at most %llu bytes (1g) are kept in memory",
			    (unsigned long long)TB_OUTPUT_LIMIT_MAX);
		return -EINVAL;
	}
	return 0;
}

/*
 * -i: what tightbox's stdin holds, up to stdin_limit bytes, in a memfd the sandbox reads as its
 * stdin. Read before the run, so an endless stdin costs stdin_limit bytes, not a hang.
 */
static int stdin_memfd(const struct tb_run_config *c, struct tb_run_plan *plan, struct tb_diag *d)
{
	_cleanup_close_ int fd = memfd_create("tightbox-stdin", MFD_CLOEXEC);
	char buf[65536];
	uint64_t got = 0;
	int r;

	if (fd < 0) {
		r = tb_negerrno();
		tb_diag_set(d, NULL, 0, 0, "-i", "memfd: %s", strerror(-r));
		return r;
	}
	for (;;) {
		size_t want = c->stdin_limit - got + 1 < sizeof(buf) ? (size_t)(c->stdin_limit - got + 1) : sizeof(buf);
		ssize_t n = read(STDIN_FILENO, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = tb_negerrno();
			tb_diag_set(d, NULL, 0, 0, "-i", "reading stdin: %s", strerror(-r));
			return r;
		}
		if (n == 0)
			break;
		if (got + (uint64_t)n > c->stdin_limit) {
			n = (ssize_t)(c->stdin_limit - got);
			plan->stdin_truncated = true;
		}
		if (n > 0 && write(fd, buf, (size_t)n) != n) {
			r = tb_negerrno();
			tb_diag_set(d, NULL, 0, 0, "-i", "buffering stdin: %s", strerror(-r));
			return r;
		}
		got += (uint64_t)n;
		if (plan->stdin_truncated)
			break;
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		return tb_negerrno();
	plan->stdin_bytes = got;
	plan->stdin_fd = TB_TAKE_FD(fd);
	return 0;
}

/* --stdin: a regular file or a character device (/dev/null), opened without blocking so that a
 * FIFO is refused instead of waiting forever for a writer. */
static int open_stdin(const char *path, struct tb_diag *d)
{
	_cleanup_close_ int fd = open(path ? path : "/dev/null", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	int r;

	if (fd < 0 || fstat(fd, &st) < 0) {
		r = tb_negerrno();
		tb_diag_set(d, path, 0, 0, "--stdin", "%s", strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
		tb_diag_set(d, path, 0, 0, "--stdin", "not a regular file (%s)",
			    S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISDIR(st.st_mode) ? "a directory"
			    : "a socket or block device");
		return -EINVAL;
	}
	if (fcntl(fd, F_SETFL, 0) < 0)
		return tb_negerrno();
	return TB_TAKE_FD(fd);
}

static char **build_env(const struct tb_run_config *c)
{
	static const char *const base[] = {"PATH=" TB_RUN_PATH, "LANG=C.UTF-8",
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

/* Frees what a plan holds. Accepts a TB_RUN_PLAN_INIT plan. */
static void plan_done(struct tb_run_plan *p)
{
	free(TB_TAKE_PTR(p->prog.filter));
	tb_ll_ruleset_free(TB_TAKE_PTR(p->landlock));
	if (p->stdin_fd >= 0)
		close(TB_TAKE_FD(p->stdin_fd));
	if (p->workdir_fd >= 0)
		close(TB_TAKE_FD(p->workdir_fd));
	free(TB_TAKE_PTR(p->envp));
	if (p->phase2_fd >= 0)
		close(TB_TAKE_FD(p->phase2_fd));
	if (p->warm_sock >= 0)
		close(TB_TAKE_FD(p->warm_sock));
	tb_two_phase_argv_free(TB_TAKE_PTR(p->argv));
}

/* The plan stage: everything that can be refused before anything exists on the host. */
static int plan_build(const struct tb_run_config *c, struct tb_run_plan *plan,
		      struct tb_run_result *res, struct tb_diag *d, uint64_t *mark_ns)
{
	int r;

	if ((r = validate(c, d)) < 0)
		return r;
	mark_ns[TB_PM_VALIDATED] = tb_now_ns();
	if ((r = prepare_filter(c, &plan->prog, res, d)) < 0)
		return r;
	mark_ns[TB_PM_PROFILE] = tb_now_ns();
	plan->landlock_abi = c->landlock_off ? 0 : tb_landlock_abi();
	if (c->landlock_path && (r = tb_ll_ruleset_load(c->landlock_path, &plan->landlock, d)) < 0)
		return r;
	if (!c->landlock_off) {
		/* Best effort across ABIs: the run goes on with what the kernel knows, and says what not. */
		const char *what = c->landlock_path ? c->landlock_path : "the built-in ruleset";
		char lost[256];

		if (!plan->landlock_abi) {
			tb_run_result_warnf(res, TB_WARN_NO_LANDLOCK, c->landlock_path,
					    "Landlock is not available in this kernel: %s not enforced", what);
		} else {
			tb_landlock_unenforced(plan->landlock, plan->landlock_abi, lost, sizeof(lost));
			if (lost[0])
				tb_run_result_warnf(res, TB_WARN_LANDLOCK_PARTIAL, c->landlock_path,
						    "Landlock ABI %d of this kernel does not enforce %s of %s",
						    plan->landlock_abi, lost, what);
		}
	}
	if (c->apparmor_profile) {
		char why[256];

		plan->apparmor = tb_apparmor_enabled(why, sizeof(why));
		if (!plan->apparmor)
			tb_run_result_warnf(res, TB_WARN_NO_APPARMOR, c->apparmor_profile, "apparmor=%s not enforced: %s; Landlock enforces "
						  "the file policy instead", c->apparmor_profile, why);
	}
	if ((r = tb_workdir_prepare(c, &plan->workdir_fd, d)) < 0)
		return r;
	if (c->warm) {
		if ((r = tb_warm_plan(c, plan, d)) < 0)
			return r;
	} else if (c->stdin_inherit) {
		if ((r = stdin_memfd(c, plan, d)) < 0)
			return r;
	} else {
		plan->stdin_fd = open_stdin(c->stdin_path, d);
		if (plan->stdin_fd < 0)
			return plan->stdin_fd;
	}
	plan->envp = build_env(c);
	if (!plan->envp)
		return -ENOMEM;
	return tb_two_phase_plan(c, plan, res, d);
}

/* A failed run: @res->error says why (the diagnostic, or the errno when nothing said more). */
static int run_failed(struct tb_run_result *res, struct tb_diag *d, int r)
{
	if (!res->error) {
		char buf[1024];

		if (!d->message[0])
			tb_diag_set(d, NULL, 0, 0, NULL, "%s", strerror(r < 0 ? -r : EIO));
		res->error = strdup(tb_diag_format(d, buf, sizeof(buf)));
	}
	return r < 0 ? r : -EIO;
}

/* Microseconds from mark @a to mark @b, 0 when either is missing. */
static uint64_t span_us(uint64_t a, uint64_t b)
{
	return a && b && b >= a ? (b - a) / 1000 : 0;
}

/* Fills @res->stage_us from the parent's and the child's timestamps. */
static void fill_timing(const uint64_t *p, const struct tb_child_shared *cs, struct tb_run_result *res)
{
	const uint64_t *m = cs ? cs->mark_ns : NULL;
	static const struct {
		enum tb_run_stage stage;
		enum tb_parent_mark from, to;
	} parent[] = {
		{TB_RUN_STAGE_VALIDATE, TB_PM_START, TB_PM_VALIDATED},
		{TB_RUN_STAGE_PROFILE, TB_PM_VALIDATED, TB_PM_PROFILE},
		{TB_RUN_STAGE_PLAN, TB_PM_PROFILE, TB_PM_PLANNED},
		{TB_RUN_STAGE_CGROUP, TB_PM_PLANNED, TB_PM_CGROUP},
		{TB_RUN_STAGE_PIPES, TB_PM_CGROUP, TB_PM_PIPES},
		{TB_RUN_STAGE_JANITOR, TB_PM_PIPES, TB_PM_JANITOR},
		{TB_RUN_STAGE_SIGNALS, TB_PM_JANITOR, TB_PM_SIGNALS},
		{TB_RUN_STAGE_CLONE, TB_PM_SIGNALS, TB_PM_CLONED},
		{TB_RUN_STAGE_IDMAPS, TB_PM_CLONED, TB_PM_RELEASED},
		{TB_RUN_STAGE_DRAIN, TB_PM_REAPED, TB_PM_COLLECTED},
		{TB_RUN_STAGE_TEARDOWN, TB_PM_COLLECTED, TB_PM_DONE},
	};
	static const struct {
		enum tb_run_stage stage;
		enum tb_child_mark from, to;
	} child[] = {
		{TB_RUN_STAGE_SESSION, TB_MARK_WOKE, TB_MARK_SESSION},
		{TB_RUN_STAGE_CHILD_CGROUP, TB_MARK_SESSION, TB_MARK_CGROUP},
		{TB_RUN_STAGE_PROC, TB_MARK_PROC_START, TB_MARK_PROC_END},
		{TB_RUN_STAGE_NSQUOTA, TB_MARK_ROOT, TB_MARK_NSQUOTA},
		{TB_RUN_STAGE_HOSTNAME, TB_MARK_NSQUOTA, TB_MARK_HOSTNAME},
		{TB_RUN_STAGE_RELEASE, TB_MARK_HOSTNAME, TB_MARK_RELEASED},
		{TB_RUN_STAGE_PRIVS, TB_MARK_RELEASED, TB_MARK_PRIVS},
		{TB_RUN_STAGE_LANDLOCK, TB_MARK_PRIVS, TB_MARK_LANDLOCK},
		{TB_RUN_STAGE_LOOKUP, TB_MARK_LANDLOCK, TB_MARK_LOOKUP},
	};

	for (size_t i = 0; i < TB_ARRAY_SIZE(parent); i++)
		res->stage_us[parent[i].stage] = span_us(p[parent[i].from], p[parent[i].to]);
	if (!m)
		return;
	for (size_t i = 0; i < TB_ARRAY_SIZE(child); i++)
		res->stage_us[child[i].stage] = span_us(m[child[i].from], m[child[i].to]);
	res->stage_us[TB_RUN_STAGE_CHILD_START] = span_us(p[TB_PM_CLONED], m[TB_MARK_WOKE]);
	/* The mounts around /proc (the root, /dev before it; tmpfs, volumes, pivot after). */
	res->stage_us[TB_RUN_STAGE_MOUNTS] = span_us(m[TB_MARK_CGROUP], m[TB_MARK_PROC_START]) +
					     span_us(m[TB_MARK_PROC_END], m[TB_MARK_ROOT]);
	res->stage_us[TB_RUN_STAGE_EXEC] = span_us(m[TB_MARK_LOOKUP], p[TB_PM_REAPED]);
}

/*
 * The stages, in order: plan (validate and build, nothing on the host yet), spawn (cgroups,
 * janitor, clone, id maps, handshake), supervise (output, exits, timeout), result, teardown. Each
 * stage's resources have one owner and one destructor; the cleanup attributes run them on the
 * paths that return early, the end of a run calls them itself to time the teardown.
 */
int tb_run(const struct tb_run_config *c, const struct tb_run_hooks *hooks, struct tb_run_result *res,
	   struct tb_diag *d)
{
	__attribute__((cleanup(plan_done))) struct tb_run_plan plan = TB_RUN_PLAN_INIT;
	__attribute__((cleanup(tb_supervisor_done))) struct tb_supervisor sv = TB_SUPERVISOR_INIT;
	__attribute__((cleanup(tb_sandbox_done))) struct tb_sandbox sb = TB_SANDBOX_INIT;
	struct tb_child_shared marks = {0};
	int r;

	memset(res, 0, sizeof(*res));
	tb_diag_clear(d);
	sb.mark_ns[TB_PM_START] = tb_now_ns();
	if ((r = plan_build(c, &plan, res, d, sb.mark_ns)) < 0 ||
	    (r = tb_supervisor_init(c, &sv, d)) < 0 || (r = tb_warm_start(c, &plan, &sv.warm)) < 0)
		return run_failed(res, d, r);
	sb.mark_ns[TB_PM_PLANNED] = tb_now_ns();
	if ((r = tb_sandbox_spawn(c, hooks, &plan, &sb, res, d)) < 0)
		return run_failed(res, d, r);
	tb_supervise(c, hooks, &sb, &sv, res);
	res->stdin_bytes = plan.stdin_bytes;
	res->stdin_truncated = plan.stdin_truncated;
	r = tb_run_collect(c, &sb, &sv, res, d);
	tb_warm_account(&sv.warm, res);
	if (r == 0 && hooks && hooks->result_ready && (!c->output_dir || sv.warm.no_output))
		hooks->result_ready(res, hooks->data);
	sb.mark_ns[TB_PM_COLLECTED] = tb_now_ns();
	if (sb.shared)
		marks = *sb.shared;
	tb_sandbox_done(&sb);
	/* The sandbox is gone; its working directory lives on in our fd until the plan is done. */
	if (r == 0 && !sv.warm.no_output && (r = tb_workdir_copy_out(c, plan.workdir_fd, res, d)) < 0)
		return run_failed(res, d, r);
	sb.mark_ns[TB_PM_DONE] = tb_now_ns();
	fill_timing(sb.mark_ns, sb.mark_ns[TB_PM_REAPED] ? &marks : NULL, res);
	return r;
}
