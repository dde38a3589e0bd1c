/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Warm runs (`tightbox run --warm`, the pool of `tightbox serve --pool`): the sandbox is made and
 * the interpreter imports the --preload modules under the phase-1 filter before the request
 * exists; the request comes later, on cfg->warm_fd.
 *
 * The stream on cfg->warm_fd: one line, a JSON object of limits ("timeout", "memory", "cpus",
 * "pids_limit", "stdout_limit", "stderr_limit"; each optional, each can only lower the run's
 * own; and "output": false, no copy-out of /sandbox/out for this request), then the request for the bootstrap (runner/two-phase-bootstrap.py) until EOF. That line
 * is the take: the cgroup limits are lowered, the timer is armed, the output captured so far (the
 * preloads') is dropped and the wall and CPU times start. The request is copied into a socket that
 * is the sandbox's stdin; the bootstrap writes one byte to it when the preloads are imported
 * ("ready", passed on to cfg->warm_fd when that is a socket) and reads the request until EOF,
 * then stacks phase 2. A stream that ends before its line ends the run: nothing ran.
 *
 * One sandbox, one request: a warm run is a run like any other, it just waits in the middle.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/util.h"
#include "runner/internal.h"

#define WARM_BUF (64u << 10)

int tb_warm_plan(const struct tb_run_config *c, struct tb_run_plan *plan, struct tb_diag *d)
{
	int sv[2];

	if (!c->warm)
		return 0;
	if (c->script || c->code || c->stdin_path || c->stdin_inherit) {
		tb_diag_set(d, NULL, 0, 0, "--warm",
			    "--warm takes the script and stdin from the request (no --script, --code, "
			    "--stdin or -i)");
		return -EINVAL;
	}
	if (c->warm_fd < 0) {
		tb_diag_set(d, NULL, 0, 0, "--warm", "no request stream");
		return -EBADF;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		int r = tb_negerrno();

		tb_diag_set(d, NULL, 0, 0, "--warm", "socketpair: %s", strerror(-r));
		return r;
	}
	plan->stdin_fd = sv[0];
	plan->warm_sock = sv[1];
	return 0;
}

int tb_warm_start(const struct tb_run_config *c, struct tb_run_plan *plan, struct tb_warm *w)
{
	if (!c->warm)
		return 0;
	if (!(w->buf = malloc(WARM_BUF)))
		return -ENOMEM;
	w->ctl_fd = c->warm_fd;
	w->sock = TB_TAKE_FD(plan->warm_sock);
	return 0;
}

void tb_warm_done(struct tb_warm *w)
{
	if (w->sock >= 0)
		close(TB_TAKE_FD(w->sock));
	free(TB_TAKE_PTR(w->buf));
}

void tb_warm_pollfds(const struct tb_warm *w, struct pollfd *p)
{
	/* Read the stream while there is room (the line, then the request); write what was read. */
	p[0] = (struct pollfd){.fd = (w->eof || w->len) ? -1 : w->ctl_fd, .events = POLLIN};
	p[1] = (struct pollfd){.fd = w->sock,
			       .events = (short)((w->ready ? 0 : POLLIN) | (w->len ? POLLOUT : 0))};
	if (!p[1].events)
		p[1].fd = -1;
}

static int fail(struct tb_warm *w, struct tb_run_result *res, const char *msg)
{
	tb_run_set_error(res, NULL, "--warm: %s", msg);
	w->eof = true;
	w->len = 0;
	return -EINVAL;
}

/* The CPU time of the sandbox init so far (utime + stime of /proc/PID/stat), or -1: what the run
 * reports where the cgroup has no CPU accounting of its own (rusage, which counts it as well). */
static int64_t init_cpu_ms(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long ut, st;
	char *p, *end, *end2 = NULL;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* After the command name's ')': state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime. */
	if (!(p = strrchr(buf, ')')))
		return -1;
	for (int field = 0; field < 11; field++) {
		p += strspn(p, " ");
		p += strcspn(p, " ");
	}
	ut = strtoull(p, &end, 10);
	st = end != p ? strtoull(end, &end2, 10) : 0;
	if (end == p || end2 == end)
		return -1;
	return (int64_t)((ut + st) * 1000 / (unsigned long long)sysconf(_SC_CLK_TCK));
}

/* The limits line: the request's, each at most the run's own. */
static int take(const struct tb_run_config *c, struct tb_warm *w, struct tb_sandbox *sb,
		struct tb_warm_take *t, struct tb_run_result *res)
{
	struct tb_cg_limits lim = {.memory = c->memory, .memory_swap = c->memory_swap,
				   .cpus = c->cpus, .pids = c->pids_limit};
	json_error_t je;
	json_t *o = json_loadb(w->line, w->line_len, JSON_REJECT_DUPLICATES, &je), *v;
	const char *k;
	char msg[256];
	int r = 0;

	if (lim.memory_swap == 0)
		lim.memory_swap = (int64_t)c->memory;
	*t = (struct tb_warm_take){.timeout = c->timeout, .stdout_limit = c->stdout_limit,
				   .stderr_limit = c->stderr_limit};
	if (!json_is_object(o)) {
		json_decref(o);
		snprintf(msg, sizeof(msg), "the limits line is not a JSON object (%s)",
			 o ? "another value" : je.text);
		return fail(w, res, msg);
	}
	json_object_foreach(o, k, v) {
		double x = json_number_value(v);

		if (!strcmp(k, "output") && json_is_boolean(v)) {
			w->no_output = json_is_false(v);
			continue;
		}
		if (!json_is_number(v) || !isfinite(x) || x < 0 || x > 1e18) {
			snprintf(msg, sizeof(msg), "limit '%.64s' must be a number >= 0", k);
			r = fail(w, res, msg);
			break;
		}
		if (!strcmp(k, "timeout") && x > 0 && (t->timeout <= 0 || x < t->timeout)) {
			t->timeout = x;
		} else if (!strcmp(k, "memory") && x > 0 && (!lim.memory || x < (double)lim.memory)) {
			lim.memory = (uint64_t)x;
			lim.memory_swap = (int64_t)lim.memory;
		} else if (!strcmp(k, "cpus") && x > 0 && (lim.cpus <= 0 || x < lim.cpus)) {
			lim.cpus = x;
		} else if (!strcmp(k, "pids_limit") && x > 0 && (lim.pids < 0 || x < (double)lim.pids)) {
			lim.pids = (int64_t)x;
		} else if (!strcmp(k, "stdout_limit") && x < (double)t->stdout_limit) {
			t->stdout_limit = (uint64_t)x;
		} else if (!strcmp(k, "stderr_limit") && x < (double)t->stderr_limit) {
			t->stderr_limit = (uint64_t)x;
		} else if (strcmp(k, "timeout") && strcmp(k, "memory") && strcmp(k, "cpus") &&
			   strcmp(k, "pids_limit") && strcmp(k, "stdout_limit") &&
			   strcmp(k, "stderr_limit")) {
			snprintf(msg, sizeof(msg), "unknown limit '%.64s'", k);
			r = fail(w, res, msg);
			break;
		}
	}
	json_decref(o);
	if (r < 0)
		return r;
	if (tb_cgroup_active(&sb->cg)) {
		r = tb_cgroup_set_limits(&sb->cg, c->cgroup_parent ? c->cgroup_parent : TB_CGROUP_PARENT,
					 &lim);
		if (r < 0) {
			snprintf(msg, sizeof(msg), "cannot apply the request's cgroup limits: %s",
				 strerror(-r));
			return fail(w, res, msg);
		}
	} else if (lim.memory != c->memory || lim.cpus != c->cpus || lim.pids != c->pids_limit) {
		return fail(w, res, "no cgroup: the request's limits cannot be applied");
	}
	w->cpu0_ms = tb_cgroup_active(&sb->cg) ? tb_cgroup_cpu_ms(&sb->cg) : -1;
	if (w->cpu0_ms < 0)
		w->cpu0_ms = init_cpu_ms(sb->init);
	w->taken = true;
	return 1;
}

/* Bytes from the stream: the limits line first, the rest is the request. */
static int read_ctl(const struct tb_run_config *c, struct tb_warm *w, struct tb_sandbox *sb,
		    struct tb_warm_take *t, struct tb_run_result *res)
{
	ssize_t n = read(w->ctl_fd, w->buf, WARM_BUF);
	char *nl;
	size_t head;
	int r;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : fail(w, res, strerror(errno));
	if (n == 0) {
		w->eof = true;
		if (!w->taken)
			return fail(w, res, "the request stream ended before a request");
		if (w->sock >= 0 && !w->len)
			shutdown(w->sock, SHUT_WR);
		return 0;
	}
	w->off = 0;
	w->len = (size_t)n;
	if (w->taken)
		return 0;
	nl = memchr(w->buf, '\n', w->len);
	head = nl ? (size_t)(nl - w->buf) + 1 : w->len;
	if (w->line_len + head > sizeof(w->line))
		return fail(w, res, "the limits line is longer than 1024 bytes");
	memcpy(w->line + w->line_len, w->buf, head);
	w->line_len += head;
	w->off = head;
	w->len -= head;
	if (!nl)
		return 0;
	w->line_len--; /* the newline */
	r = take(c, w, sb, t, res);
	return r;
}

int tb_warm_handle(const struct tb_run_config *c, struct tb_warm *w, const struct pollfd *p,
		   struct tb_sandbox *sb, struct tb_warm_take *t, struct tb_run_result *res)
{
	int r = 0;

	if (p[1].revents & POLLIN) {
		char b;
		ssize_t n = read(w->sock, &b, 1);

		if (n == 1) {
			w->ready = true;
			/* Tell whoever holds the stream (the server's pool), when it can hear it. */
			if (send(w->ctl_fd, "R", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* a pipe or a file: nobody to tell */
			}
		} else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
			w->ready = true; /* the bootstrap is gone: its exit ends the run */
		}
	}
	if ((p[1].revents & (POLLERR | POLLHUP)) && !(p[1].revents & POLLIN) && w->len) {
		/* The sandbox stopped reading (it exited): drop the rest. */
		w->len = 0;
	}
	if ((p[1].revents & POLLOUT) && w->len) {
		ssize_t n = send(w->sock, w->buf + w->off, w->len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			w->off += (size_t)n;
			w->len -= (size_t)n;
		} else if (n < 0 && errno != EINTR && errno != EAGAIN) {
			w->len = 0;
		}
	}
	if (p[0].revents && !w->len)
		r = read_ctl(c, w, sb, t, res);
	if (r >= 0 && w->eof && !w->len && w->sock >= 0 && w->taken)
		shutdown(w->sock, SHUT_WR);
	return r;
}

void tb_warm_account(const struct tb_warm *w, struct tb_run_result *res)
{
	if (!w->taken || w->cpu0_ms <= 0)
		return;
	res->cpu_ms = res->cpu_ms > (uint64_t)w->cpu0_ms ? res->cpu_ms - (uint64_t)w->cpu0_ms : 0;
}
