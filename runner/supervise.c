/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The supervise and result stages: one poll loop over the sandbox's output, its status report,
 * SIGCHLD (its exit, and ptrace stops for the hooks) and the timeout; then the result. The fds
 * belong to the spawn stage (struct tb_sandbox): nothing here closes them.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "runner/internal.h"

/* The marker between the head and the tail of a stream that exceeded its limit. */
#define TB_OMITTED_MARKER "\n[tightbox: %llu bytes omitted]\n"
#define TB_OMITTED_MAX 64

static int alloc_capture(struct tb_capture *cap, uint64_t limit, const char *flag,
			 struct tb_diag *d)
{
	cap->limit = (size_t)limit;
	cap->tail_limit = (size_t)(limit / 2);
	cap->head_limit = (size_t)limit - cap->tail_limit;
	/* The head buffer also receives the marker and the tail when the result is collected. */
	cap->buf = limit < SIZE_MAX - TB_OMITTED_MAX ? malloc((size_t)limit + TB_OMITTED_MAX + 1) : NULL;
	cap->tail = cap->tail_limit ? malloc(cap->tail_limit) : NULL;
	if (!cap->buf || (cap->tail_limit && !cap->tail)) {
		tb_diag_set(d, NULL, 0, 0, flag, "cannot allocate %llu bytes for the captured output",
			    (unsigned long long)limit);
		return -ENOMEM;
	}
	return 0;
}

int tb_supervisor_init(const struct tb_run_config *c, struct tb_supervisor *sv, struct tb_diag *d)
{
	int r;

	if ((r = alloc_capture(&sv->out, c->stdout_limit, "--stdout-limit", d)) < 0 ||
	    (r = alloc_capture(&sv->err, c->stderr_limit, "--stderr-limit", d)) < 0)
		return r;
	if (c->passthrough) {
		sv->out.pass_fd = STDOUT_FILENO;
		sv->err.pass_fd = STDERR_FILENO;
		sv->out.escape = c->escape_stdout;
		sv->err.escape = c->escape_stderr;
	}
	sv->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (sv->timer_fd < 0) {
		r = tb_negerrno();
		tb_diag_set(d, NULL, 0, 0, NULL, "cannot create a timerfd: %s", strerror(-r));
		return r;
	}
	return 0;
}

void tb_supervisor_done(struct tb_supervisor *sv)
{
	free(TB_TAKE_PTR(sv->out.buf));
	free(TB_TAKE_PTR(sv->err.buf));
	free(TB_TAKE_PTR(sv->out.tail));
	free(TB_TAKE_PTR(sv->err.tail));
	if (sv->timer_fd >= 0)
		close(TB_TAKE_FD(sv->timer_fd));
}

/* Keeps @n bytes in the head, then in the tail ring (whose oldest bytes are overwritten). */
static void keep(struct tb_capture *cap, const char *p, size_t n)
{
	if (cap->len < cap->head_limit) {
		size_t k = n < cap->head_limit - cap->len ? n : cap->head_limit - cap->len;

		memcpy(cap->buf + cap->len, p, k);
		cap->len += k;
		p += k;
		n -= k;
	}
	if (!cap->tail_limit || !n)
		return;
	if (n >= cap->tail_limit) {
		memcpy(cap->tail, p + n - cap->tail_limit, cap->tail_limit);
		cap->tail_pos = 0;
		cap->tail_len = cap->tail_limit;
		return;
	}
	while (n) {
		size_t k = cap->tail_limit - cap->tail_pos < n ? cap->tail_limit - cap->tail_pos : n;

		memcpy(cap->tail + cap->tail_pos, p, k);
		cap->tail_pos = (cap->tail_pos + k) % cap->tail_limit;
		cap->tail_len = cap->tail_len + k > cap->tail_limit ? cap->tail_limit : cap->tail_len + k;
		p += k;
		n -= k;
	}
}

/* Reads what is available into the head and the tail; counts everything. */
static void capture_read(struct tb_capture *cap)
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
			cap->eof = true;
			if (cap->pass_fd >= 0)
				tb_passthrough_write(cap, "", 0, true);
			return;
		}
		if (cap->total < cap->limit) {
			uint64_t room = cap->limit - cap->total;

			if (cap->pass_fd >= 0)
				tb_passthrough_write(cap, chunk, (uint64_t)n < room ? (size_t)n : (size_t)room,
						     false);
		}
		keep(cap, chunk, (size_t)n);
		cap->total += (uint64_t)n;
	}
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

/* Reaps what exited or stopped: the init ends the run, the rest goes to the hook. */
static void reap(const struct tb_run_hooks *hooks, struct tb_sandbox *sb, struct tb_supervisor *sv)
{
	struct signalfd_siginfo si;

	while (read(sb->sigfd, &si, sizeof(si)) > 0)
		;
	for (;;) {
		int st;
		struct rusage cru;
		pid_t w = wait4(-1, &st, WNOHANG | __WALL, &cru);

		if (w <= 0)
			break;
		if (w == sb->janitor) {
			sb->janitor_reaped = true;
		} else if (w == sb->init && (WIFEXITED(st) || WIFSIGNALED(st))) {
			sb->init_reaped = true;
			sv->wstatus = st;
			sv->ru = cru;
			sb->mark_ns[TB_PM_REAPED] = tb_now_ns();
			sv->wall_ms = sb->mark_ns[TB_PM_REAPED] / 1000000 - sb->t0_ms;
			/* Everything in the pid namespace died with its init; output still in
			 * flight drains quickly. Do not wait forever on a descriptor someone
			 * passed out of the sandbox. */
			sv->drain_deadline = tb_now_ms() + 2000;
		} else if (hooks && hooks->parent_on_wait) {
			hooks->parent_on_wait(w, st, hooks->data);
		}
	}
}

static void on_timer(struct tb_sandbox *sb, struct tb_supervisor *sv, struct tb_run_result *res)
{
	uint64_t ticks;

	if (read(sv->timer_fd, &ticks, sizeof(ticks)) > 0 && !sb->init_reaped) {
		res->timed_out = true;
		tb_sandbox_kill(sb);
	}
}

/* After the loop: the rest of a status report, and exits of descendants a hook still traces. */
static void finish(const struct tb_run_hooks *hooks, struct tb_sandbox *sb,
		   struct tb_supervisor *sv)
{
	ssize_t n;
	int st;
	pid_t w;

	while (!sv->status_done && sv->rep_got < sizeof(sv->rep) &&
	       (n = read(sb->status[0], (char *)&sv->rep + sv->rep_got,
			 sizeof(sv->rep) - sv->rep_got)) > 0)
		sv->rep_got += (size_t)n;
	if (!hooks || !hooks->parent_on_wait)
		return;
	while ((w = waitpid(-1, &st, WNOHANG | __WALL)) > 0) {
		if (w == sb->janitor)
			sb->janitor_reaped = true;
		else
			hooks->parent_on_wait(w, st, hooks->data);
	}
}

void tb_supervise(const struct tb_run_config *c, const struct tb_run_hooks *hooks,
		  struct tb_sandbox *sb, struct tb_supervisor *sv, struct tb_run_result *res)
{
	sv->out.fd = sb->out[0];
	sv->err.fd = sb->err[0];
	if (c->timeout > 0)
		timer_arm(sv->timer_fd, c->timeout);
	while (!sb->init_reaped || !sv->out.eof || !sv->err.eof) {
		/* Not the status pipe: its EOF at the execve would wake us for nothing. A report
		 * is written before the child exits and is read after its exit (finish). */
		struct pollfd pfd[4] = {
			{.fd = sv->out.eof ? -1 : sv->out.fd, .events = POLLIN},
			{.fd = sv->err.eof ? -1 : sv->err.fd, .events = POLLIN},
			{.fd = sb->sigfd, .events = POLLIN},
			{.fd = sv->timer_fd, .events = POLLIN},
		};
		int timeout_ms = -1;

		if (sb->init_reaped) {
			uint64_t now = tb_now_ms();

			if (now >= sv->drain_deadline)
				break;
			timeout_ms = (int)(sv->drain_deadline - now);
		}
		if (poll(pfd, 4, timeout_ms) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			capture_read(&sv->out);
		if (pfd[1].revents)
			capture_read(&sv->err);
		if (pfd[3].revents)
			on_timer(sb, sv, res);
		if (pfd[2].revents)
			reap(hooks, sb, sv);
	}
	finish(hooks, sb, sv);
}

static void report_child_failure(const struct tb_child_report *rep, const struct tb_run_config *c,
				 struct tb_run_result *res, struct tb_diag *d)
{
	if (rep->step == TB_STEP_EXEC || rep->step == TB_STEP_EXEC_LOOKUP) {
		res->exec_failed = true;
		res->exec_errno = rep->err;
		tb_run_set_error(res, NULL, "cannot execute '%s': %s", c->argv[0], strerror(rep->err));
		return;
	}
	if (rep->step == TB_STEP_VOLUME && rep->index >= 0 && (size_t)rep->index < c->n_volumes)
		tb_run_set_error(res, d, "sandbox setup failed at volume %s:%s: %s",
				 c->volumes[rep->index].src, c->volumes[rep->index].dst,
				 strerror(rep->err));
	else if (rep->step == TB_STEP_TMPFS && rep->index >= 0 && (size_t)rep->index < c->n_tmpfs)
		tb_run_set_error(res, d, "sandbox setup failed at tmpfs %s: %s",
				 c->tmpfs[rep->index].path, strerror(rep->err));
	else
		tb_run_set_error(res, d, "sandbox setup failed at step '%s' (%d): %s",
				 tb_step_name((enum tb_step)rep->step), rep->index, strerror(rep->err));
}

/*
 * Moves the kept bytes into the result: all of them when the stream fit its limit, else the head,
 * the marker and the tail. With passthrough, what was not shown live (the marker and the part of
 * the tail beyond the first @limit bytes) is written now.
 */
static void take_capture(struct tb_capture *cap, char **buf, size_t *len, uint64_t *total,
			 bool *truncated, uint64_t *omitted)
{
	size_t first = cap->tail_len < cap->tail_limit ? 0 : cap->tail_pos; /* oldest tail byte */
	uint64_t gap = cap->total - cap->len - cap->tail_len;
	size_t at = cap->len;

	if (gap) {
		char marker[TB_OMITTED_MAX];
		int m = snprintf(marker, sizeof(marker), TB_OMITTED_MARKER, (unsigned long long)gap);
		/* Tail bytes with an offset below @limit were already passed through live. */
		uint64_t tail_start = cap->total - cap->tail_len;
		size_t shown = tail_start < cap->limit ? (size_t)(cap->limit - tail_start) : 0;

		memcpy(cap->buf + at, marker, (size_t)m);
		at += (size_t)m;
		if (cap->pass_fd >= 0) {
			char live[TB_OMITTED_MAX];
			uint64_t hidden = cap->total - cap->limit - (cap->tail_len - shown);
			int lm = snprintf(live, sizeof(live), TB_OMITTED_MARKER, (unsigned long long)hidden);

			if (shown < cap->tail_len)
				tb_passthrough_write(cap, live, (size_t)lm, false);
			for (size_t i = shown; i < cap->tail_len; i++)
				tb_passthrough_write(cap, cap->tail + (first + i) % cap->tail_limit, 1, false);
			tb_passthrough_write(cap, "", 0, true);
		}
	}
	for (size_t i = 0; i < cap->tail_len; i++)
		cap->buf[at++] = cap->tail[(first + i) % cap->tail_limit];
	cap->buf[at] = '\0';
	*buf = TB_TAKE_PTR(cap->buf);
	*len = at;
	*total = cap->total;
	*truncated = gap > 0;
	*omitted = gap;
}

int tb_run_collect(const struct tb_run_config *c, const struct tb_sandbox *sb,
		   struct tb_supervisor *sv, struct tb_run_result *res, struct tb_diag *d)
{
	const struct rusage *ru = &sv->ru;

	if (WIFEXITED(sv->wstatus)) {
		res->exited = true;
		res->exit_code = WEXITSTATUS(sv->wstatus);
	} else if (WIFSIGNALED(sv->wstatus)) {
		res->signal = WTERMSIG(sv->wstatus);
	}
	res->wall_ms = sv->wall_ms;
	res->cpu_ms = (uint64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000 +
		      (uint64_t)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000;
	res->max_rss_kib = (uint64_t)ru->ru_maxrss;
	if (tb_cgroup_active(&sb->cg)) {
		int64_t cpu = tb_cgroup_cpu_ms(&sb->cg);

		if (cpu >= 0)
			res->cpu_ms = (uint64_t)cpu;
		res->oom_killed = tb_cgroup_oom_killed(&sb->cg);
	}
	take_capture(&sv->out, &res->out, &res->out_len, &res->out_bytes, &res->out_truncated,
		     &res->out_omitted);
	take_capture(&sv->err, &res->err, &res->err_len, &res->err_bytes, &res->err_truncated,
		     &res->err_omitted);
	if (sb->shared && sb->shared->late.step == TB_STEP_EXEC_DENIED) {
		/* The status pipe may have stayed empty (write denied) and the init may have died
		 * of the trap that ends it when exit_group is denied too: the shared page says why. */
		res->exec_failed = true;
		res->exec_errno = EPERM;
		res->signal = 0;
		res->exited = false;
		tb_run_set_error(res, NULL, "cannot execute '%s': the seccomp profile denies execve "
				 "(it returned %s)", c->argv[0], strerror(sb->shared->late.err));
		return 0;
	}
	if (sv->rep_got == sizeof(sv->rep)) {
		report_child_failure(&sv->rep, c, res, d);
		if (!res->exec_failed)
			return -ECHILD;
	}
	return 0;
}
