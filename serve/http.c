/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tightbox serve` on libmicrohttpd: one thread per connection (a run request blocks its own
 * thread while its sandbox runs, and watches its own socket for a hang-up), admission with a
 * bounded FIFO queue, one reaper (the main thread) for every child, signals through a signalfd.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/strv.h"
#include "core/util.h"
#include "serve/auth.h"
#include "serve/metrics.h"
#include "runner/run.h"
#include "serve/profiles.h"
#include "serve/serve.h"

extern char **environ;

/* A request waiting for a worker: FIFO, woken one at a time as workers free up. */
struct waiter {
	pthread_cond_t cv;
	bool granted;
	struct waiter *next;
};

/* A running `tightbox run` child, known to the reaper. */
struct job {
	pid_t pid;
	int done_fd; /* eventfd the reaper writes once the child is reaped */
	int status;
	bool reaped;
	struct job *next;
};

struct server {
	const struct tb_serve_config *cfg;
	struct MHD_Daemon *mhd;
	struct tb_serve_metrics metrics;

	pthread_mutex_t lock; /* everything below */
	pthread_cond_t idle_cv; /* signalled when in_flight drops */
	unsigned running, in_flight;
	struct waiter *head, *tail;
	struct job *jobs;
	bool draining;
	char *token;
	size_t token_len;
	struct tb_serve_profiles *profiles;
	unsigned long seq;

	/* The warm pools (their part of this file, below): the default profile's first. */
	struct pool *pools;
	size_t n_pools;
	bool pool_stop;
	pthread_cond_t pool_cv;  /* the pool thread waits on it for room (or the stop) */
	int pool_wake;           /* eventfd: wakes a pool thread waiting for a sandbox to be ready */
	char phase2[4096];       /* the profile stacked before a request's code (the default one) */
};

/* Per-connection request state (MHD's con_cls). */
struct req {
	bool is_run, counted, rejected, unauthorized;
	char *body;
	size_t len;
	bool too_large;
	struct warm *warm; /* the warm sandbox it took: ended, and the pool woken, once the
			    * response is sent (on_completed) */
};

__attribute__((format(printf, 3, 4))) static void logf_(struct server *s, enum tb_serve_log_level l,
							 const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!s->cfg->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->cfg->log(s->cfg->log_data, l, msg);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tb_serve_config_init(struct tb_serve_config *c)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	memset(c, 0, sizeof(*c));
	c->socket_path = "/run/tightbox/serve.sock";
	c->socket_mode = 0660;
	c->state_dir = "/run/tightbox";
	c->workers = n > 0 ? (unsigned)n : 1;
	c->queue = 4 * c->workers;
	c->max_body = 1 << 20;
	c->drain_timeout = 60;
	/* The defaults of `tightbox run` (the seed's hardened line). */
	c->defaults = (struct tb_serve_limits){.timeout = 10, .memory = 256 << 20, .cpus = 0.5,
					       .pids_limit = 64, .stdout_limit = 10000,
					       .stderr_limit = 2000};
	c->max = (struct tb_serve_limits){.timeout = 60, .memory = 1ULL << 30, .cpus = 1,
					  .pids_limit = 256, .stdout_limit = 1 << 20,
					  .stderr_limit = 1 << 20};
}

/* Reads the token: its first line, without the newline. The file must not be readable by others. */
static int load_token(const char *path, char **out, size_t *out_len, struct tb_diag *d)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t len;
	int r;

	if (fd < 0 || fstat(fd, &st) < 0) {
		r = tb_negerrno();
		tb_diag_set(d, path, 0, 0, "--token-file", "%s", strerror(-r));
		return r;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) {
		tb_diag_set(d, path, 0, 0, "--token-file",
			    "readable or writable by others (mode %04o): chmod 0600 or 0640 it",
			    (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	r = tb_read_file(path, 4096, &text, &len);
	if (r < 0) {
		tb_diag_set(d, path, 0, 0, "--token-file", "%s", strerror(-r));
		return r;
	}
	len = strcspn(text, "\r\n");
	text[len] = '\0';
	if (len < 16) {
		tb_diag_set(d, path, 1, 0, "--token-file", "the token must be at least 16 bytes");
		return -EINVAL;
	}
	*out = TB_TAKE_PTR(text);
	*out_len = len;
	return 0;
}

/* ---------- admission: workers and the bounded queue ---------- */

enum admit { ADMIT_RUN, ADMIT_FULL, ADMIT_DRAINING, ADMIT_GONE };

static bool client_gone(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct pollfd p;

	if (!ci)
		return false;
	p = (struct pollfd){.fd = ci->connect_fd, .events = POLLRDHUP};
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void remove_waiter(struct server *s, struct waiter *w)
{
	struct waiter **pp = &s->head, *prev = NULL;

	for (; *pp; prev = *pp, pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			if (s->tail == w)
				s->tail = prev;
			return;
		}
}

static enum admit admit(struct server *s, struct MHD_Connection *conn)
{
	struct waiter w = {.granted = false};
	enum admit a = ADMIT_RUN;

	pthread_mutex_lock(&s->lock);
	if (s->draining) {
		pthread_mutex_unlock(&s->lock);
		return ADMIT_DRAINING;
	}
	if (s->running < s->cfg->workers && !s->head) {
		s->running++;
		goto out;
	}
	if (s->metrics.queued >= s->cfg->queue) {
		a = ADMIT_FULL;
		goto out;
	}
	pthread_cond_init(&w.cv, NULL);
	/* @w is on this stack only while it waits: it leaves the list before this returns. */
	if (s->tail)
		s->tail->next = &w;
	else
		s->head = &w; // cppcheck-suppress autoVariables
	s->tail = &w; // cppcheck-suppress autoVariables
	s->metrics.queued++;
	while (!w.granted) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w.cv, &s->lock, &ts);
		if (!w.granted && client_gone(conn)) {
			remove_waiter(s, &w);
			a = ADMIT_GONE;
			break;
		}
	}
	s->metrics.queued--;
	pthread_cond_destroy(&w.cv);
out:
	s->metrics.running = s->running;
	pthread_mutex_unlock(&s->lock);
	return a;
}

/* A worker is free: hand it to the oldest waiter, or count it free. */
static void release(struct server *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->head) {
		struct waiter *w = s->head;

		s->head = w->next;
		if (!s->head)
			s->tail = NULL;
		w->granted = true;
		pthread_cond_signal(&w->cv);
	} else {
		s->running--;
	}
	s->metrics.running = s->running;
	pthread_mutex_unlock(&s->lock);
}

/* ---------- children: spawn, reap, kill ---------- */

/* posix_spawn with stdout/stderr on pipes, stdin @stdin_fd (-1: /dev/null), and a clean signal
 * state. */
static int spawn_job(struct server *s, char **argv, int stdin_fd, struct job *j, int *out_rd,
		     int *err_rd)
{
	int outp[2] = {-1, -1}, errp[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int r;

	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		r = tb_negerrno();
		goto fail_pipes;
	}
	j->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (j->done_fd < 0) {
		r = tb_negerrno();
		goto fail_pipes;
	}
	posix_spawn_file_actions_init(&fa);
	if (stdin_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, stdin_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	/* Spawn and register under the lock: the reaper must never reap a pid it does not know yet. */
	pthread_mutex_lock(&s->lock);
	r = -posix_spawn(&j->pid, argv[0], &fa, &at, argv, environ);
	if (r == 0) {
		j->next = s->jobs;
		s->jobs = j;
	}
	pthread_mutex_unlock(&s->lock);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(outp[1]);
	close(errp[1]);
	if (r < 0) {
		close(outp[0]);
		close(errp[0]);
		close(TB_TAKE_FD(j->done_fd));
		return r;
	}
	*out_rd = outp[0];
	*err_rd = errp[0];
	return 0;
fail_pipes:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return r;
}

static void unregister_job(struct server *s, struct job *j)
{
	pthread_mutex_lock(&s->lock);
	for (struct job **pp = &s->jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	pthread_mutex_unlock(&s->lock);
	if (j->done_fd >= 0)
		close(TB_TAKE_FD(j->done_fd));
}

/* The main thread's SIGCHLD: reap every child; tell the request that owns it. Children nobody owns
 * (tightbox's cgroup janitors, reparented to us when we are a container's pid 1) are just reaped. */
static void reap(struct server *s)
{
	for (;;) {
		int st;
		pid_t pid;

		pthread_mutex_lock(&s->lock);
		pid = waitpid(-1, &st, WNOHANG);
		if (pid > 0)
			for (struct job *j = s->jobs; j; j = j->next)
				if (j->pid == pid) {
					uint64_t one = 1;

					j->status = st;
					j->reaped = true;
					if (write(j->done_fd, &one, sizeof(one)) < 0) {
						/* an eventfd write cannot fail here */
					}
					break;
				}
		pthread_mutex_unlock(&s->lock);
		if (pid <= 0)
			return;
	}
}

struct buf {
	char *p;
	size_t len, cap, dropped;
};

/* Appends what @fd has (up to @cap kept); false at EOF or error. */
static bool drain(int fd, struct buf *b)
{
	char chunk[16384];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false;
		if (b->len + (size_t)n > b->cap) {
			b->dropped += (size_t)n;
			continue;
		}
		if (!b->p && !(b->p = malloc(b->cap + 1))) {
			b->dropped += (size_t)n;
			continue;
		}
		memcpy(b->p + b->len, chunk, (size_t)n);
		b->len += (size_t)n;
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)remove(path); /* best effort: what cannot go stays in the state dir, never a run's */
	return 0;
}

/* ---------- responses ---------- */

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *ctype,
			       char *body, const char *retry_after)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result r;

	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (retry_after)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result respond_json(struct MHD_Connection *conn, unsigned status, json_t *o,
				    const char *retry_after)
{
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	char *body = NULL;

	json_decref(o);
	if (!text)
		return MHD_NO;
	if (asprintf(&body, "%s\n", text) < 0)
		body = NULL;
	free(text);
	if (!body)
		return MHD_NO;
	return respond(conn, status, "application/json", body, retry_after);
}

static enum MHD_Result respond_error(struct MHD_Connection *conn, unsigned status, const char *msg,
				     const char *retry_after)
{
	return respond_json(conn, status, json_pack("{ss}", "error", msg), retry_after);
}

/* ---------- POST /v1/run ---------- */

static enum tb_serve_outcome outcome_of(json_t *res)
{
	json_t *ec = json_object_get(res, "exit_code");

	if (!json_is_null(json_object_get(res, "error")))
		return TB_OUTCOME_ERROR;
	if (json_is_true(json_object_get(res, "timed_out")))
		return TB_OUTCOME_TIMEOUT;
	if (json_is_true(json_object_get(res, "oom_killed")))
		return TB_OUTCOME_OOM;
	if (json_is_integer(ec))
		return json_integer_value(ec) == 0 ? TB_OUTCOME_OK : TB_OUTCOME_NONZERO;
	return TB_OUTCOME_SIGNAL;
}

/* Seconds a rejected client should wait: one mean run per queued request per worker, at least 1. */
static unsigned retry_after_s(struct server *s)
{
	double mean, secs;

	pthread_mutex_lock(&s->metrics.lock);
	mean = s->metrics.count ? s->metrics.sum / (double)s->metrics.count : 1.0;
	secs = mean * (double)(s->metrics.queued + 1) / (double)s->cfg->workers;
	pthread_mutex_unlock(&s->metrics.lock);
	return secs < 1 ? 1 : secs > 3600 ? 3600 : (unsigned)ceil(secs);
}

struct run_out {
	json_t *result;             /* tightbox run's JSON, NULL when it printed none */
	struct buf err;             /* its stderr */
	int status;                 /* its wait status */
	bool cancelled;
};

/* Collects the output of the running job @j until it was reaped (closes @out_fd and @err_fd,
 * unregisters @j), or with @early until both pipes ended with output (a warm run closes them once
 * its result is written: then @j may still be registered, and the caller waits for it later).
 * Kills it when the client hangs up. */
static void wait_child(struct server *s, struct MHD_Connection *conn, struct job *jp, int out_fd,
		       int err_fd, size_t out_cap, bool early, struct run_out *ro)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct buf out = {.cap = out_cap};
	struct job *const j = jp;
	bool reaped = false;

	ro->err.cap = 8192;
	fcntl(out_fd, F_SETFL, O_NONBLOCK);
	fcntl(err_fd, F_SETFL, O_NONBLOCK);
	while ((!reaped && !(early && out.len)) || out_fd >= 0 || err_fd >= 0) {
		struct pollfd p[4] = {
			{.fd = out_fd, .events = POLLIN},
			{.fd = err_fd, .events = POLLIN},
			{.fd = reaped ? -1 : j->done_fd, .events = POLLIN},
			{.fd = (ro->cancelled || !ci) ? -1 : ci->connect_fd, .events = POLLRDHUP},
		};

		if (poll(p, 4, reaped ? 2000 : -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents && !drain(out_fd, &out))
			close(TB_TAKE_FD(out_fd));
		if (p[1].revents && !drain(err_fd, &ro->err))
			close(TB_TAKE_FD(err_fd));
		if (p[2].revents) {
			pthread_mutex_lock(&s->lock);
			reaped = j->reaped;
			ro->status = j->status;
			pthread_mutex_unlock(&s->lock);
		}
		if (p[3].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
			/* The client is gone: tightbox run dies, its sandbox init follows through
			 * PR_SET_PDEATHSIG (the whole pid namespace with it), and its janitor removes
			 * the cgroups. */
			ro->cancelled = true;
			kill(j->pid, SIGKILL);
		}
		if (reaped && p[0].revents == 0 && p[1].revents == 0 &&
		    (out_fd >= 0 || err_fd >= 0)) {
			/* Reaped and nothing more within 2 s: a descendant holds a pipe. Stop. */
			break;
		}
	}
	if (out_fd >= 0)
		close(out_fd);
	if (err_fd >= 0)
		close(err_fd);
	if (reaped)
		unregister_job(s, j);
	if (out.len && !out.dropped) {
		json_error_t je;

		ro->result = json_loadb(out.p, out.len, 0, &je);
	}
	free(out.p);
}

/* Runs @argv; returns when the child was reaped. Kills it when the client hangs up. */
static int run_child(struct server *s, struct MHD_Connection *conn, char **argv, size_t out_cap,
		     struct run_out *ro)
{
	struct job j = {.done_fd = -1};
	int out_fd = -1, err_fd = -1, r;

	r = spawn_job(s, argv, -1, &j, &out_fd, &err_fd);
	if (r < 0)
		return r;
	wait_child(s, conn, &j, out_fd, err_fd, out_cap, false, ro);
	return 0;
}


/* ---------- the warm pools (serve --pool, --pool-profile, docs/serve-pool.md) ---------- */

/* A `tightbox run --warm` sandbox: ready (its preloads imported), waiting for a request on @ctl. */
struct warm {
	struct job job;
	int ctl;             /* our end of the socket that is tightbox run's stdin */
	int out_fd, err_fd;  /* tightbox run's stdout (its JSON) and stderr */
	char dir[4096];      /* its state directory: /sandbox/out is copied to dir/out */
	/* The named profile it was started with (NULL: the default one); a request takes it only if
	 * its own snapshot's profile has the same text. */
	const struct tb_serve_profile *prof;
	struct warm *next;
};

/* The sandboxes kept ready for one profile. */
struct pool {
	const char *name;                    /* the profile's name; NULL: the default profile (--pool) */
	unsigned size;
	const char *preload;
	const struct tb_serve_profile *prof; /* named: in the current snapshot; NULL once it is gone */
	struct warm *idle;                   /* ready sandboxes, newest first */
	unsigned n_idle;
	double retry_at, backoff;            /* a start failed: no new one before retry_at */
};

/* The same profile text (both NULL: the default profile). */
static bool same_profile(const struct tb_serve_profile *a, const struct tb_serve_profile *b)
{
	return a == b || (a && b && a->len == b->len && !memcmp(a->text, b->text, a->len));
}

/* There is room for one more sandbox that runs a request with the default memory limit: in the
 * host's MemAvailable, and below the memory limits of the cgroups the runs are made under (a
 * container's or a pod's limit, which MemAvailable does not show). An idle one needs far less,
 * but the pool must not take what runs need. */
static bool memory_room(const struct server *s)
{
	_cleanup_free_ char *text = NULL;
	const char *p;
	uint64_t room = tb_cgroup_memory_room(s->cfg->cgroup_parent);
	size_t len;

	if (!s->cfg->defaults.memory)
		return true;
	if (tb_read_file("/proc/meminfo", 65536, &text, &len) == 0 &&
	    (p = strstr(text, "MemAvailable:"))) {
		uint64_t avail = strtoull(p + 13, NULL, 10) * 1024;

		room = avail < room ? avail : room;
	}
	return room > s->cfg->defaults.memory;
}

static bool job_reaped(struct server *s, const struct job *j)
{
	bool r;

	pthread_mutex_lock(&s->lock);
	r = j->reaped;
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* The ready count of every pool together (the /metrics gauge). Called with the lock held. */
static void pool_count(struct server *s)
{
	unsigned n = 0;

	for (size_t i = 0; i < s->n_pools; i++)
		n += s->pools[i].n_idle;
	s->metrics.pool_ready = n;
}

/* Ends @w: closing its stream ends an idle run (nothing of a request ran), then it is reaped. */
static void warm_destroy(struct server *s, struct warm *w)
{
	double deadline = now_s() + 10;
	bool killed = false;

	if (w->ctl >= 0)
		close(TB_TAKE_FD(w->ctl));
	if (w->out_fd >= 0)
		fcntl(w->out_fd, F_SETFL, O_NONBLOCK);
	while (w->job.pid > 0 && !job_reaped(s, &w->job)) {
		struct pollfd p = {.fd = w->job.done_fd, .events = POLLIN};
		char sink[4096];

		/* Its output is not wanted; reading it keeps tightbox run from blocking on it. */
		while (w->out_fd >= 0 && read(w->out_fd, sink, sizeof(sink)) > 0)
			;
		poll(&p, 1, 100);
		reap(s);
		if (!killed && now_s() > deadline) {
			kill(w->job.pid, SIGKILL);
			killed = true;
		}
	}
	if (w->out_fd >= 0)
		close(w->out_fd);
	if (w->err_fd >= 0)
		close(w->err_fd);
	if (w->job.pid > 0)
		unregister_job(s, &w->job);
	if (w->dir[0])
		nftw(w->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(w);
}

/* Why a warm sandbox ended before it was ready: tightbox run's error or the bootstrap's stderr. */
static void warm_failed(struct server *s, struct warm *w, char *why, size_t size)
{
	struct buf out = {.cap = 1 << 20};
	json_t *res;
	json_error_t je;
	const char *e;

	fcntl(w->out_fd, F_SETFL, O_NONBLOCK);
	drain(w->out_fd, &out);
	res = out.len ? json_loadb(out.p, out.len, 0, &je) : NULL;
	e = json_string_value(json_object_get(res, "error"));
	if (!e)
		e = json_string_value(json_object_get(res, "stderr"));
	snprintf(why, size, "%.*s", (int)strcspn(e ? e : "no result", "\n"), e ? e : "no result");
	json_decref(res);
	free(out.p);
	(void)s;
}

/* The state directory of a new sandbox of @p, with the named profile's text in it. 0 or -errno. */
static int warm_dir(struct server *s, struct pool *p, struct warm *w, char *prof_path, size_t size,
		    char *why, size_t why_size)
{
	_cleanup_close_ int fd = -1;
	int r;

	pthread_mutex_lock(&s->lock);
	snprintf(w->dir, sizeof(w->dir), "%s/warm-%d-%lu-XXXXXX", s->cfg->state_dir, (int)getpid(),
		 s->seq++);
	w->prof = p->prof; /* snapshots are kept until the server stops: the pointer stays valid */
	pthread_mutex_unlock(&s->lock);
	if (p->name && !w->prof) {
		w->dir[0] = '\0';
		snprintf(why, why_size, "profile '%s' is gone since a reload", p->name);
		return -ENOENT;
	}
	if (!mkdtemp(w->dir)) {
		r = tb_negerrno();
		w->dir[0] = '\0';
		snprintf(why, why_size, "cannot create a directory in %s: %s", s->cfg->state_dir,
			 strerror(-r));
		return r;
	}
	if (!p->name)
		return 0;
	snprintf(prof_path, size, "%s/profile.json", w->dir);
	fd = open(prof_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, w->prof->text, w->prof->len) != (ssize_t)w->prof->len) {
		r = fd < 0 ? tb_negerrno() : -EIO;
		snprintf(why, why_size, "cannot write %s: %s", prof_path, strerror(-r));
		return r;
	}
	return 0;
}

/* Starts one warm sandbox of @p and waits until it is ready. 0 and *@out, or -errno with @why. */
static int warm_start(struct server *s, struct pool *p, struct warm **out, char *why, size_t size)
{
	struct warm *w = calloc(1, sizeof(*w));
	char **argv = NULL, prof_path[4200];
	int sv[2] = {-1, -1}, r;
	double deadline = now_s() + 300;

	if (!w)
		return -ENOMEM;
	w->ctl = w->out_fd = w->err_fd = w->job.done_fd = -1;
	if ((r = warm_dir(s, p, w, prof_path, sizeof(prof_path), why, size)) < 0)
		goto fail;
	/* A named profile's pool runs start-up and the preloads under that profile too, so that the
	 * request's code runs under exactly the filter a cold run of it would have. */
	if ((r = tb_serve_pool_argv(&s->cfg->max, s->cfg->tightbox, p->name ? prof_path : NULL,
				    p->name ? prof_path : s->phase2, p->preload,
				    s->cfg->cgroup_parent, w->dir, &argv)) < 0 ||
	    (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 && (r = tb_negerrno()) < 0) ||
	    (r = spawn_job(s, argv, sv[1], &w->job, &w->out_fd, &w->err_fd)) < 0) {
		snprintf(why, size, "cannot start tightbox run --warm: %s", strerror(-r));
		w->job.pid = 0;
		goto fail;
	}
	w->ctl = TB_TAKE_FD(sv[0]);
	close(TB_TAKE_FD(sv[1]));
	for (;;) {
		struct pollfd pf[2] = {{.fd = w->ctl, .events = POLLIN},
				       {.fd = s->pool_wake, .events = POLLIN}};
		char b;

		if (job_reaped(s, &w->job)) {
			warm_failed(s, w, why, size);
			r = -ECHILD;
			goto fail;
		}
		if (poll(pf, 2, 100) > 0 && (pf[0].revents & POLLIN) && read(w->ctl, &b, 1) == 1)
			break; /* "R": the preloads are imported */
		reap(s); /* the main thread may be waiting on us (start-up, shutdown) */
		if (pf[1].revents || now_s() > deadline) {
			snprintf(why, size, pf[1].revents ? "the server stops" : "not ready within 300 s");
			r = -ECANCELED;
			goto fail;
		}
	}
	tb_strv_free(argv);
	*out = w;
	return 0;
fail:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	tb_strv_free(argv);
	warm_destroy(s, w);
	return r;
}

/* An idle sandbox of a profile that changed or went at a reload, unlinked, or NULL. Lock held. */
static struct warm *pool_take_stale(struct server *s)
{
	for (size_t i = 0; i < s->n_pools; i++) {
		struct pool *p = &s->pools[i];

		for (struct warm **pw = &p->idle; *pw; pw = &(*pw)->next) {
			struct warm *w = *pw;

			if (same_profile(w->prof, p->prof))
				continue;
			*pw = w->next;
			p->n_idle--;
			pool_count(s);
			return w;
		}
	}
	return NULL;
}

/* The pool to start a sandbox for now: the one least full for its size that is not backing off
 * and whose profile exists, or NULL; *@wake is when one backing off may start. Lock held. */
static struct pool *pool_next(struct server *s, double *wake)
{
	struct pool *best = NULL;
	double now = now_s();

	*wake = 0;
	for (size_t i = 0; i < s->n_pools; i++) {
		struct pool *p = &s->pools[i];

		if (p->n_idle >= p->size || (p->name && !p->prof))
			continue;
		if (p->retry_at > now) {
			if (!*wake || p->retry_at < *wake)
				*wake = p->retry_at;
			continue;
		}
		if (!best || (double)p->n_idle / p->size < (double)best->n_idle / best->size)
			best = p;
	}
	return best;
}

/* Waits on the pool's condition until @until (CLOCK_MONOTONIC seconds; 0: until woken). */
static void pool_wait(struct server *s, double until)
{
	struct timespec ts;
	double d;

	if (!until) {
		pthread_cond_wait(&s->pool_cv, &s->lock);
		return;
	}
	d = until - now_s();
	clock_gettime(CLOCK_REALTIME, &ts);
	if (d > 0) {
		ts.tv_sec += (time_t)d;
		ts.tv_nsec += (long)((d - (double)(time_t)d) * 1e9);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
	}
	pthread_cond_timedwait(&s->pool_cv, &s->lock, &ts);
}

/* A start of @p ended (@r): the sandbox joins the pool, or is ended (the server stops, or the
 * profile changed while it started), or the pool backs off. Lock held; it may be dropped. */
static void pool_started(struct server *s, struct pool *p, struct warm *w, int r, bool room,
			 const char *why)
{
	if (r == 0 && !s->pool_stop && same_profile(w->prof, p->prof)) {
		w->next = p->idle;
		p->idle = w;
		p->n_idle++;
		pool_count(s);
		p->backoff = 0.5;
		return;
	}
	if (r == 0) {
		pthread_mutex_unlock(&s->lock);
		warm_destroy(s, w);
		pthread_mutex_lock(&s->lock);
		return;
	}
	if (s->pool_stop)
		return;
	if (room)
		logf_(s, TB_SERVE_LOG_ERROR, "warm pool%s%s: %s (retrying in %.1f s)",
		      p->name ? " of profile " : "", p->name ? p->name : "", why, p->backoff);
	p->retry_at = now_s() + p->backoff;
	p->backoff = p->backoff * 2 > 30 ? 30 : p->backoff * 2;
}

/* The pool thread: keeps every pool's sandboxes ready, one start at a time (each is a whole
 * interpreter start-up: starting them all at once would only slow the requests running now), while
 * the host has the memory for one more; a pool whose sandbox fails to start backs off, the others
 * go on. Sandboxes of a profile a reload changed or removed are ended. */
static void *pool_main(void *arg)
{
	struct server *s = arg;
	char why[512];

	pthread_mutex_lock(&s->lock);
	while (!s->pool_stop) {
		struct warm *w = pool_take_stale(s);
		struct pool *p;
		double wake;
		bool room;
		int r;

		if (w) {
			pthread_mutex_unlock(&s->lock);
			warm_destroy(s, w);
			pthread_mutex_lock(&s->lock);
			continue;
		}
		if (!(p = pool_next(s, &wake))) {
			pool_wait(s, wake);
			continue;
		}
		pthread_mutex_unlock(&s->lock);
		room = memory_room(s);
		r = room ? warm_start(s, p, &w, why, sizeof(why)) : -ENOMEM;
		pthread_mutex_lock(&s->lock);
		pool_started(s, p, w, r, room, why);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Wakes the pool thread: there is room in a pool, or a profile changed. */
static void pool_refill(struct server *s)
{
	pthread_mutex_lock(&s->lock);
	pthread_cond_signal(&s->pool_cv);
	pthread_mutex_unlock(&s->lock);
}

/* The pool of @prof (NULL: the default profile's), or NULL. */
static struct pool *pool_of(struct server *s, const struct tb_serve_profile *prof)
{
	for (size_t i = 0; i < s->n_pools; i++) {
		const char *name = s->pools[i].name;

		if (!prof && !name)
			return &s->pools[i];
		if (prof && name && !strcmp(name, prof->name))
			return &s->pools[i];
	}
	return NULL;
}

/* A ready sandbox for a request under @prof, or NULL (the request runs cold). Ones that died idle
 * are ended. The refill starts when the request's response is sent (pool_refill from
 * on_completed), not now: the next sandbox's start-up would compete with this request for the CPU. */
static struct warm *pool_take(struct server *s, const struct tb_serve_profile *prof)
{
	struct pool *p = pool_of(s, prof);
	struct warm *w;

	if (!p)
		return NULL;
	for (;;) {
		struct warm **pw;

		pthread_mutex_lock(&s->lock);
		for (pw = &p->idle; *pw && !same_profile((*pw)->prof, prof); pw = &(*pw)->next)
			;
		w = *pw;
		if (w) {
			*pw = w->next;
			p->n_idle--;
			pool_count(s);
		}
		pthread_mutex_unlock(&s->lock);
		if (!w || !job_reaped(s, &w->job))
			return w;
		logf_(s, TB_SERVE_LOG_WARN, "warm pool: a sandbox ended while idle (status 0x%x)",
		      w->job.status);
		warm_destroy(s, w);
		pool_refill(s);
	}
}

/* Sends @r to @w and collects the run. -errno when @w could not take it (it is gone: run cold). */
static int run_warm(struct server *s, struct MHD_Connection *conn, struct warm *w,
		    const struct tb_serve_request *r, size_t out_cap, struct run_out *ro)
{
	_cleanup_free_ char *stream = NULL;
	size_t len, off = 0;
	int e;

	if ((e = tb_serve_request_warm(r, &stream, &len)) < 0)
		return e;
	while (off < len) {
		ssize_t n = send(w->ctl, stream + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? tb_negerrno() : -EPIPE;
		off += (size_t)n;
	}
	shutdown(w->ctl, SHUT_WR);
	wait_child(s, conn, &w->job, TB_TAKE_FD(w->out_fd), TB_TAKE_FD(w->err_fd), out_cap, true, ro);
	return 0; /* warm_destroy waits for tightbox run's exit, after the response */
}

/* The pools of the configuration: the default profile's (--pool), then each --pool-profile's,
 * whose profile must be in the snapshot. 0 or -errno with @d. */
static int pools_init(struct server *s, struct tb_diag *d)
{
	const struct tb_serve_config *c = s->cfg;

	s->pools = calloc(c->n_pool_profiles + 1, sizeof(*s->pools));
	if (!s->pools)
		return -ENOMEM;
	if (c->pool)
		s->pools[s->n_pools++] = (struct pool){.size = c->pool, .preload = c->preload,
						       .backoff = 0.5};
	for (size_t i = 0; i < c->n_pool_profiles; i++) {
		const struct tb_serve_pool_spec *sp = &c->pool_profiles[i];
		const struct tb_serve_profile *prof = tb_serve_profiles_find(s->profiles, sp->profile);

		if (!prof || pool_of(s, prof)) {
			tb_diag_set(d, c->profile_dir, 0, 0, "--pool-profile", prof ?
				    "profile '%s' given twice" : "no profile '%s' in --profile-dir",
				    sp->profile);
			return -EINVAL;
		}
		s->pools[s->n_pools++] = (struct pool){.name = prof->name, .size = sp->size,
						       .preload = sp->preload, .prof = prof,
						       .backoff = 0.5};
	}
	for (size_t i = 0; i < s->n_pools; i++)
		s->metrics.pool_size += s->pools[i].size;
	return 0;
}

/* Start-up with pools: the default phase-2 profile, and one sandbox of each pool started now, so
 * that a --preload that is malformed or cannot be imported, or a profile that cannot host the
 * interpreter's start-up, fails the start (tightbox run names it), not every refill. */
static int pool_first(struct server *s, struct tb_diag *d)
{
	char why[512];
	int r;

	if ((r = pools_init(s, d)) < 0)
		return r;
	if (s->cfg->pool && tb_data_path("default.json", s->phase2, sizeof(s->phase2)) < 0) {
		tb_diag_set(d, s->phase2, 0, 0, "--pool", "the default seccomp profile is not installed "
			    "(set TIGHTBOX_PROFILE_DIR)");
		return -ENOENT;
	}
	s->pool_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->pool_wake < 0)
		return tb_negerrno();
	for (size_t i = 0; i < s->n_pools; i++) {
		struct pool *p = &s->pools[i];
		struct warm *w = NULL;

		if ((r = warm_start(s, p, &w, why, sizeof(why))) < 0) {
			tb_diag_set(d, NULL, 0, 0, p->name ? "--pool-profile" : "--pool",
				    "the first warm sandbox%s%s did not start: %s",
				    p->name ? " of profile " : "", p->name ? p->name : "", why);
			return r;
		}
		p->idle = w;
		p->n_idle = 1;
	}
	pool_count(s);
	return 0;
}

/* Ends every idle sandbox (nothing of a request ran in them). */
static void pools_empty(struct server *s)
{
	for (size_t i = 0; i < s->n_pools; i++) {
		struct pool *p = &s->pools[i];

		while (p->idle) {
			struct warm *w = p->idle;

			p->idle = w->next;
			p->n_idle--;
			warm_destroy(s, w);
		}
	}
	pool_count(s);
}

/* The server stops: no more starts, every idle sandbox ended. */
static void pool_stop(struct server *s, pthread_t thread)
{
	uint64_t one = 1;

	pthread_mutex_lock(&s->lock);
	s->pool_stop = true;
	pthread_cond_broadcast(&s->pool_cv);
	pthread_mutex_unlock(&s->lock);
	if (write(s->pool_wake, &one, sizeof(one)) < 0) {
		/* an eventfd write cannot fail here */
	}
	pthread_join(thread, NULL);
	pools_empty(s);
}

/* A reload took the snapshot @p: each named pool follows its profile (a changed text's idle
 * sandboxes are ended by the pool thread; a removed profile's pool stops). Lock held. */
static void pools_reloaded(struct server *s, const struct tb_serve_profiles *p)
{
	for (size_t i = 0; i < s->n_pools; i++) {
		struct pool *pl = &s->pools[i];
		const struct tb_serve_profile *now;

		if (!pl->name)
			continue;
		now = tb_serve_profiles_find(p, pl->name);
		if (!now)
			logf_(s, TB_SERVE_LOG_WARN, "reload: profile '%s' is gone: its warm pool stops",
			      pl->name);
		pl->prof = now;
		pl->name = now ? now->name : pl->name;
		pl->retry_at = 0;
		pl->backoff = 0.5;
	}
	pthread_cond_signal(&s->pool_cv);
}

/* The answer to a request admit() did not run: 429 with Retry-After, 503 while draining, or
 * nothing when the client already left. */
static enum MHD_Result respond_refused(struct server *s, struct MHD_Connection *conn, enum admit a)
{
	char retry[16];

	if (a == ADMIT_GONE) {
		tb_serve_metrics_observe(&s->metrics, TB_OUTCOME_CANCELLED, -1);
		return MHD_NO;
	}
	if (a == ADMIT_DRAINING)
		return respond_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "draining: shutting down", "5");
	tb_serve_metrics_observe(&s->metrics, TB_OUTCOME_REJECTED, -1);
	snprintf(retry, sizeof(retry), "%u", retry_after_s(s));
	return respond_error(conn, MHD_HTTP_TOO_MANY_REQUESTS, "all workers busy and the queue is full",
			     retry);
}

/* The bytes of tightbox run's JSON for @r: JSON escapes a kept byte in at most 12 characters
 * ("\\u" pairs for astral code points); the rest of the object is small. */
static size_t result_cap(const struct tb_serve_request *r)
{
	return (size_t)(r->limits.stdout_limit + r->limits.stderr_limit) * 12 + 65536;
}

/* Runs @r in a sandbox of the pool when one is ready. Returns it (the caller ends it after the
 * response) with @ro filled and @dir its directory, or NULL: run @r cold. */
static struct warm *run_in_pool(struct server *s, struct MHD_Connection *conn,
				const struct tb_serve_request *r, const struct tb_serve_profile *prof,
				struct run_out *ro, char *dir, size_t size)
{
	struct warm *w = pool_take(s, prof);
	int e;

	if (!w)
		return NULL;
	e = -run_warm(s, conn, w, r, result_cap(r), ro);
	if (!e) {
		snprintf(dir, size, "%s", w->dir);
		pthread_mutex_lock(&s->metrics.lock);
		s->metrics.warm_runs++;
		pthread_mutex_unlock(&s->metrics.lock);
		return w;
	}
	logf_(s, TB_SERVE_LOG_WARN, "warm pool: a sandbox could not take the request (%s): running "
	      "it cold", strerror(e));
	warm_destroy(s, w);
	pool_refill(s);
	json_decref(TB_TAKE_PTR(ro->result));
	free(ro->err.p);
	*ro = (struct run_out){0};
	return NULL;
}

/* Writes the named profile (@prof, NULL: the default) and the request's files into @dir and runs
 * tightbox run on them. 0 when it ran (@ro says how), else a positive errno. */
static int stage_and_run(struct server *s, struct MHD_Connection *conn, const struct tb_serve_request *r,
			 const struct tb_serve_profile *prof, const char *dir, struct run_out *ro)
{
	char profile_path[4200];
	char **argv = NULL;
	int e = 0;

	if (prof) {
		_cleanup_close_ int fd = -1;

		snprintf(profile_path, sizeof(profile_path), "%s/profile.json", dir);
		fd = open(profile_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, prof->text, prof->len) != (ssize_t)prof->len)
			e = fd < 0 ? errno : EIO;
	}
	if (!e)
		e = -tb_serve_request_stage(r, dir, s->cfg->tightbox, prof ? profile_path : NULL,
					    s->cfg->cgroup_parent, &argv);
	if (!e)
		e = -run_child(s, conn, argv, result_cap(r), ro);
	tb_strv_free(argv);
	return e;
}

/* A run whose client went away (its sandbox was killed): no answer; frees @r and @ro. */
static enum MHD_Result respond_cancelled(struct server *s, struct tb_serve_request *r,
					 struct run_out *ro, double t0)
{
	logf_(s, TB_SERVE_LOG_INFO, "run cancelled: the client disconnected; sandbox killed");
	tb_serve_request_free(r);
	free(ro->err.p);
	json_decref(ro->result);
	tb_serve_metrics_observe(&s->metrics, TB_OUTCOME_CANCELLED, now_s() - t0);
	return MHD_NO;
}

/* The answer to a run that happened: tightbox run's JSON with the request's limits, "warm" and
 * the output files added (500 when tightbox itself failed); frees @r and @ro, removes @dir unless
 * it is a @warm sandbox's (warm_destroy removes that after the response). */
static enum MHD_Result respond_result(struct server *s, struct MHD_Connection *conn,
				      struct tb_serve_request *r, const char *dir, bool warm,
				      struct run_out *ro, double t0)
{
	unsigned status = MHD_HTTP_OK;
	enum tb_serve_outcome oc;

	if (!ro->result) {
		logf_(s, TB_SERVE_LOG_ERROR, "tightbox run printed no result (status 0x%x): %.*s",
		      ro->status, (int)ro->err.len, ro->err.p ? ro->err.p : "");
		ro->result = json_pack("{ss}", "error", "the sandbox runner failed (see the server log)");
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		oc = TB_OUTCOME_ERROR;
	} else {
		oc = outcome_of(ro->result);
		/* tightbox itself failed (setup, profile): not the code's doing. */
		if (oc == TB_OUTCOME_ERROR) {
			status = MHD_HTTP_INTERNAL_SERVER_ERROR;
			logf_(s, TB_SERVE_LOG_ERROR, "run failed: %s",
			      json_string_value(json_object_get(ro->result, "error")));
		}
		json_object_set_new(ro->result, "limits", tb_serve_limits_to_json(r));
		json_object_set_new(ro->result, "warm", json_boolean(warm));
		/* tightbox run wrote them into our request directory, which goes next. */
		if (r->want_output)
			json_object_set_new(ro->result, "output_files", tb_serve_output_to_json(dir));
	}
	if (!warm)
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(ro->err.p);
	tb_serve_request_free(r);
	tb_serve_metrics_observe(&s->metrics, oc, now_s() - t0);
	return respond_json(conn, status, ro->result, NULL);
}

/* POST /v1/run: validate, admit, stage and run, answer. */
static enum MHD_Result handle_run(struct server *s, struct MHD_Connection *conn, struct req *rq)
{
	struct tb_serve_request r = {0};
	struct tb_serve_profiles *profiles = NULL;
	const struct tb_serve_profile *prof = NULL;
	struct run_out ro = {0};
	struct tb_diag d = {0};
	struct warm *w;
	char dir[4096], msg[1400];
	enum admit a;
	double t0;
	int e;

	if (rq->too_large) {
		tb_serve_metrics_observe(&s->metrics, TB_OUTCOME_INVALID, -1);
		snprintf(msg, sizeof(msg), "request body larger than %zu bytes", s->cfg->max_body);
		return respond_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, msg, NULL);
	}
	if (tb_serve_request_parse(rq->body ? rq->body : "", rq->len, &s->cfg->defaults, &s->cfg->max,
				   &r, &d) < 0) {
		tb_serve_metrics_observe(&s->metrics, TB_OUTCOME_INVALID, -1);
		return respond_error(conn, MHD_HTTP_BAD_REQUEST, tb_diag_format(&d, msg, sizeof(msg)), NULL);
	}
	pthread_mutex_lock(&s->lock);
	profiles = s->profiles; /* the snapshot lives until the server stops (see reload()) */
	pthread_mutex_unlock(&s->lock);
	if (r.profile && strcmp(r.profile, "default") != 0 &&
	    !(prof = tb_serve_profiles_find(profiles, r.profile))) {
		snprintf(msg, sizeof(msg), "profile: unknown profile '%s'", r.profile);
		tb_serve_request_free(&r);
		tb_serve_metrics_observe(&s->metrics, TB_OUTCOME_INVALID, -1);
		return respond_error(conn, MHD_HTTP_BAD_REQUEST, msg, NULL);
	}
	t0 = now_s();
	a = admit(s, conn);
	if (a != ADMIT_RUN) {
		tb_serve_request_free(&r);
		return respond_refused(s, conn, a);
	}
	/* A warm sandbox of the request's profile when its pool has one ready, else a cold run. */
	if ((w = run_in_pool(s, conn, &r, prof, &ro, dir, sizeof(dir)))) {
		release(s);
		rq->warm = w; /* ended once the response is sent (on_completed) */
		if (ro.cancelled)
			return respond_cancelled(s, &r, &ro, t0);
		return respond_result(s, conn, &r, dir, true, &ro, t0);
	}
	pthread_mutex_lock(&s->lock);
	snprintf(dir, sizeof(dir), "%s/req-%d-%lu-XXXXXX", s->cfg->state_dir, (int)getpid(), s->seq++);
	pthread_mutex_unlock(&s->lock);
	if (!mkdtemp(dir)) {
		e = errno;
		release(s);
		tb_serve_request_free(&r);
		logf_(s, TB_SERVE_LOG_ERROR, "cannot create a request directory in %s: %s",
		      s->cfg->state_dir, strerror(e));
		tb_serve_metrics_observe(&s->metrics, TB_OUTCOME_ERROR, -1);
		return respond_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot stage the request", NULL);
	}
	e = stage_and_run(s, conn, &r, prof, dir, &ro);
	release(s);
	if (e || ro.cancelled)
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (e) {
		logf_(s, TB_SERVE_LOG_ERROR, "cannot run the request: %s", strerror(e));
		tb_serve_request_free(&r);
		free(ro.err.p);
		tb_serve_metrics_observe(&s->metrics, TB_OUTCOME_ERROR, now_s() - t0);
		return respond_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot run the request", NULL);
	}
	if (ro.cancelled)
		return respond_cancelled(s, &r, &ro, t0);
	return respond_result(s, conn, &r, dir, false, &ro, t0);
}

/* GET /v1/health: the server's state; "pool" and "pool_ready" are the default profile's pool,
 * "pools" every pool by profile name. */
static json_t *health(struct server *s)
{
	const struct pool *def = NULL;
	json_t *o, *pools = json_object();

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; pools && i < s->n_pools; i++) {
		const struct pool *p = &s->pools[i];

		def = p->name ? def : p;
		json_object_set_new(pools, p->name ? p->name : "default",
				    json_pack("{sisi}", "size", p->name && !p->prof ? 0 : (int)p->size,
					      "ready", (int)p->n_idle));
	}
	o = json_pack("{sssisisisisssisisO}", "status", s->draining ? "draining" : "ok",
		      "workers", (int)s->cfg->workers, "running", (int)s->running,
		      "queued", (int)s->metrics.queued, "queue", (int)s->cfg->queue,
		      "version", TB_VERSION, "pool", def ? (int)def->size : 0,
		      "pool_ready", def ? (int)def->n_idle : 0, "pools", pools);
	pthread_mutex_unlock(&s->lock);
	json_decref(pools);
	return o;
}

/* ---------- the access handler ---------- */

static bool authorized(struct server *s, struct MHD_Connection *conn)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	bool ok;

	pthread_mutex_lock(&s->lock);
	if (!s->token) {
		pthread_mutex_unlock(&s->lock);
		return true;
	}
	ok = h && !strncmp(h, "Bearer ", 7) &&
	     tb_serve_token_equal(s->token, s->token_len, h + 7, strlen(h + 7));
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct server *s = cls;
	struct req *rq = *con_cls;

	if (!rq) {
		/* First call: only the headers are here. Refuse what must be refused before reading
		 * a body (unauthorized, too large), so a client cannot make us buffer it. */
		const char *cl;

		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		*con_cls = rq;
		if (!strcmp(url, "/v1/run")) {
			if (strcmp(method, "POST") != 0)
				return respond_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST", NULL);
			rq->is_run = true;
			/* Unauthorized: the body (within the cap) is read and dropped before the
			 * 401, so a client that sends it in one go sees the answer, not EPIPE. */
			rq->unauthorized = !authorized(s, conn);
			cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_CONTENT_LENGTH);
			/* Up to 16 x the cap the body is read and dropped, then 413 (a client
			 * that sends it in one go then sees the answer, not EPIPE); beyond, the
			 * answer comes at once and the connection closes. */
			if (cl && strtoull(cl, NULL, 10) > s->cfg->max_body &&
			    strtoull(cl, NULL, 10) <= 16 * (unsigned long long)s->cfg->max_body) {
				rq->too_large = true;
			} else if (cl && strtoull(cl, NULL, 10) > s->cfg->max_body) {
				char msg[96];

				rq->rejected = true;
				tb_serve_metrics_observe(&s->metrics, TB_OUTCOME_INVALID, -1);
				if (rq->unauthorized)
					return respond_error(conn, MHD_HTTP_UNAUTHORIZED,
							     "missing or wrong bearer token", NULL);
				snprintf(msg, sizeof(msg), "request body larger than %zu bytes",
					 s->cfg->max_body);
				return respond_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, msg, NULL);
			}
			pthread_mutex_lock(&s->lock);
			s->in_flight++;
			rq->counted = true;
			pthread_mutex_unlock(&s->lock);
			return MHD_YES;
		}
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
			return respond_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET", NULL);
		if (!strcmp(url, "/v1/health"))
			return respond_json(conn, MHD_HTTP_OK, health(s), NULL);
		if (!strcmp(url, "/metrics")) {
			char *text = tb_serve_metrics_render(&s->metrics);

			if (!text)
				return MHD_NO;
			return respond(conn, MHD_HTTP_OK, "text/plain; version=0.0.4", text, NULL);
		}
		return respond_error(conn, MHD_HTTP_NOT_FOUND, "unknown path (POST /v1/run, GET "
				     "/v1/health, GET /metrics)", NULL);
	}
	if (rq->rejected || !rq->is_run)
		return MHD_YES; /* a response is queued; MHD discards what else comes */
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (rq->unauthorized)
			return MHD_YES;
		if (rq->too_large || rq->len + n > s->cfg->max_body) {
			/* A chunked body without a Content-Length: stop keeping it, answer 413. */
			rq->too_large = true;
			free(rq->body);
			rq->body = NULL;
			rq->len = 0;
			return MHD_YES;
		}
		{
			char *b = realloc(rq->body, rq->len + n + 1);

			if (!b)
				return MHD_NO;
			memcpy(b + rq->len, upload_data, n);
			rq->body = b;
			rq->len += n;
		}
		return MHD_YES;
	}
	if (rq->unauthorized) {
		tb_serve_metrics_observe(&s->metrics, TB_OUTCOME_INVALID, -1);
		return respond_error(conn, MHD_HTTP_UNAUTHORIZED, "missing or wrong bearer token", NULL);
	}
	return handle_run(s, conn, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;
	struct req *rq = *con_cls;

	if (!rq)
		return;
	if (rq->warm) {
		warm_destroy(s, TB_TAKE_PTR(rq->warm));
		pool_refill(s);
	}
	if (rq->counted) {
		pthread_mutex_lock(&s->lock);
		s->in_flight--;
		pthread_cond_broadcast(&s->idle_cv);
		pthread_mutex_unlock(&s->lock);
	}
	free(rq->body);
	free(rq);
	*con_cls = NULL;
}

/* ---------- listening ---------- */

static int listen_unix(const struct tb_serve_config *c, struct tb_diag *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, r;

	if (strlen(c->socket_path) >= sizeof(sa.sun_path)) {
		tb_diag_set(d, c->socket_path, 0, 0, "--socket", "path longer than %zu bytes",
			    sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, c->socket_path, strlen(c->socket_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return tb_negerrno();
	/* A socket left by a server that died may be replaced; one that answers may not. */
	if (lstat(c->socket_path, &st) == 0) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool alive = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;

		if (probe >= 0)
			close(probe);
		if (!S_ISSOCK(st.st_mode) || alive) {
			close(fd);
			tb_diag_set(d, c->socket_path, 0, 0, "--socket", "%s",
				    alive ? "another server is listening there" : "exists and is not a socket");
			return -EADDRINUSE;
		}
		unlink(c->socket_path);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(c->socket_path, c->socket_mode) < 0 ||
	    listen(fd, 128) < 0) {
		r = tb_negerrno();
		close(fd);
		tb_diag_set(d, c->socket_path, 0, 0, "--socket", "%s", strerror(-r));
		return r;
	}
	return fd;
}

static int listen_tcp(const char *spec, struct tb_diag *d)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	char host[64];
	const char *colon = strrchr(spec, ':');
	unsigned long port;
	char *end;
	int fd, r, one = 1;

	if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof(host))
		goto bad;
	port = strtoul(colon + 1, &end, 10);
	if (*end || !colon[1] || port == 0 || port > 65535)
		goto bad;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		host[strlen(host) - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			goto bad;
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			goto bad;
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return tb_negerrno();
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		r = tb_negerrno();
		close(fd);
		tb_diag_set(d, NULL, 0, 0, "--listen", "%s: %s", spec, strerror(-r));
		return r;
	}
	return fd;
bad:
	tb_diag_set(d, NULL, 0, 0, "--listen", "'%s': expected IPV4:PORT or [IPV6]:PORT (numeric)", spec);
	return -EINVAL;
}

/* SIGHUP: a new token and profile snapshot, or the old ones and a log line saying why not. */
static void reload(struct server *s, struct tb_serve_profiles **retired)
{
	struct tb_serve_profiles *p = NULL;
	struct tb_diag d = {0};
	char msg[1400], *tok = NULL;
	size_t tok_len = 0;

	if (s->cfg->token_file && load_token(s->cfg->token_file, &tok, &tok_len, &d) < 0) {
		logf_(s, TB_SERVE_LOG_ERROR, "reload: %s (keeping the old token)",
		      tb_diag_format(&d, msg, sizeof(msg)));
		tok = NULL;
	}
	if (tb_serve_profiles_load(s->cfg->profile_dir, &p, &d) < 0) {
		logf_(s, TB_SERVE_LOG_ERROR, "reload: %s (keeping the old profiles)",
		      tb_diag_format(&d, msg, sizeof(msg)));
		p = NULL;
	}
	pthread_mutex_lock(&s->lock);
	if (tok) {
		explicit_bzero(s->token, s->token_len);
		free(s->token);
		s->token = tok;
		s->token_len = tok_len;
	}
	if (p) {
		/* Requests in flight may still read the old snapshot: it is retired, not freed,
		 * until the server stops (a reload is rare; a snapshot is small). */
		struct tb_serve_profiles **slot = retired;

		while (*slot)
			slot++;
		*slot = s->profiles;
		s->profiles = p;
		pools_reloaded(s, p);
	}
	pthread_mutex_unlock(&s->lock);
	logf_(s, TB_SERVE_LOG_INFO, "reloaded: %zu profile(s)%s", s->profiles ? s->profiles->n : 0,
	      tok ? ", token" : "");
}

#define TB_SERVE_MAX_RELOADS 256

/* Requests are staged in @dir: a missing or unusable one fails at start-up, not per request. */
static int state_dir_ready(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return tb_negerrno();
	if (stat(dir, &st) < 0)
		return tb_negerrno();
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return access(dir, W_OK | X_OK) < 0 ? tb_negerrno() : 0;
}

/* libmicrohttpd on listening socket @lfd: a thread per connection, bounded. 0 or -EIO (@d). */
static int start_daemon(struct server *s, int lfd, struct tb_diag *d)
{
	s->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
					  MHD_USE_POLL | MHD_USE_ITC,
				  0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, lfd,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				  /* Idle keep-alive connections close after 60 s; a run in progress
				   * is not idle (its thread is in our handler). */
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
				  /* Beyond workers + queue, clients get a quick 429, not a refused
				   * connection; the slack bounds the threads the rest can cost. */
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)(s->cfg->workers + s->cfg->queue + 64),
				  MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 << 10), MHD_OPTION_END);
	if (!s->mhd) {
		tb_diag_set(d, NULL, 0, 0, NULL, "libmicrohttpd could not start the server");
		return -EIO;
	}
	return 0;
}

/* Serves until SIGTERM or SIGINT: reaps children, reloads on SIGHUP (at most
 * TB_SERVE_MAX_RELOADS times: the retired snapshots are kept in @retired). */
static void serve_signals(struct server *s, int sfd, struct tb_serve_profiles **retired)
{
	bool stop = false;

	while (!stop) {
		struct signalfd_siginfo si;
		struct pollfd p = {.fd = sfd, .events = POLLIN};

		/* The 1 s tick also reaps children that were reparented to us without a SIGCHLD
		 * we could still see (a janitor of a cancelled run). */
		if (poll(&p, 1, 1000) <= 0) {
			reap(s);
			continue;
		}
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(s);
			break;
		case SIGHUP:
			if (retired[TB_SERVE_MAX_RELOADS - 1])
				logf_(s, TB_SERVE_LOG_ERROR, "reload refused: restart the server after "
				      "%d reloads", TB_SERVE_MAX_RELOADS);
			else
				reload(s, retired);
			break;
		case SIGTERM:
		case SIGINT:
			stop = true;
			break;
		default:
			break;
		}
	}
}

/* Stops admitting, lets the admitted runs finish (killing them after --drain-timeout or a second
 * SIGTERM), then stops libmicrohttpd. */
static void drain_and_stop(struct server *s, int sfd)
{
	/* Drain: no new connections, no new runs; the ones admitted finish. */
	logf_(s, TB_SERVE_LOG_INFO, "draining: %u running, %u queued", s->running, s->metrics.queued);
	pthread_mutex_lock(&s->lock);
	s->draining = true;
	pthread_mutex_unlock(&s->lock);
	{
		MHD_socket q = MHD_quiesce_daemon(s->mhd);

		if (q != MHD_INVALID_SOCKET)
			close(q);
		if (!s->cfg->listen)
			unlink(s->cfg->socket_path);
	}
	{
		double deadline = now_s() + s->cfg->drain_timeout;
		bool killed = false;

		pthread_mutex_lock(&s->lock);
		while (s->in_flight > 0) {
			pthread_mutex_unlock(&s->lock);
			{
				struct pollfd p = {.fd = sfd, .events = POLLIN};
				struct signalfd_siginfo si;

				if (poll(&p, 1, 100) > 0 && read(sfd, &si, sizeof(si)) == sizeof(si) &&
				    si.ssi_signo != SIGCHLD && si.ssi_signo != SIGHUP)
					deadline = 0; /* a second SIGTERM: stop waiting */
			}
			reap(s);
			pthread_mutex_lock(&s->lock);
			if (!killed && now_s() > deadline) {
				logf_(s, TB_SERVE_LOG_WARN, "drain timeout: killing %u run(s)", s->running);
				for (struct job *j = s->jobs; j; j = j->next)
					kill(j->pid, SIGKILL);
				killed = true;
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	MHD_stop_daemon(s->mhd);
	reap(s);
	logf_(s, TB_SERVE_LOG_INFO, "stopped");
}

int tb_serve_run(const struct tb_serve_config *c, struct tb_diag *d)
{
	struct server s = {.cfg = c};
	struct tb_serve_profiles **retired = NULL;
	sigset_t mask, old;
	pthread_t pool_thread;
	bool pool_running = false;
	int lfd = -1, sfd = -1, r;

	if (!c->tightbox || !c->workers) {
		tb_diag_set(d, NULL, 0, 0, c->workers ? "--tightbox" : "--workers", "%s",
			    c->workers ? "the tightbox binary is not known" : "must be at least 1");
		return -EINVAL;
	}
	if (access(c->tightbox, X_OK) < 0) {
		r = tb_negerrno();
		tb_diag_set(d, c->tightbox, 0, 0, "--tightbox", "%s", strerror(-r));
		return r;
	}
	if (c->token_file && (r = load_token(c->token_file, &s.token, &s.token_len, d)) < 0)
		return r;
	if ((r = tb_serve_profiles_load(c->profile_dir, &s.profiles, d)) < 0)
		goto out_token;
	if (!(retired = calloc(TB_SERVE_MAX_RELOADS + 1, sizeof(struct tb_serve_profiles *)))) {
		r = -ENOMEM;
		goto out_profiles;
	}
	if ((r = tb_serve_metrics_init(&s.metrics, c->workers, c->queue)) < 0)
		goto out_profiles;
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.idle_cv, NULL);
	pthread_cond_init(&s.pool_cv, NULL);
	s.pool_wake = -1;

	/* Every thread MHD starts inherits this mask: the signals reach only our signalfd. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &mask, &old);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		r = tb_negerrno();
		tb_diag_set(d, NULL, 0, 0, NULL, "signalfd: %s", strerror(-r));
		goto out_mask;
	}
	if ((r = state_dir_ready(c->state_dir)) < 0) {
		tb_diag_set(d, NULL, 0, 0, NULL, "--state-dir %s: %s", c->state_dir, strerror(-r));
		goto out_mask;
	}
	if ((c->pool || c->n_pool_profiles) && (r = pool_first(&s, d)) < 0)
		goto out_mask;
	lfd = c->listen ? listen_tcp(c->listen, d) : listen_unix(c, d);
	if (lfd < 0) {
		r = lfd;
		goto out_mask;
	}
	if ((r = start_daemon(&s, lfd, d)) < 0)
		goto out_mask;
	if (s.n_pools) {
		if ((r = -pthread_create(&pool_thread, NULL, pool_main, &s)) < 0) {
			tb_diag_set(d, NULL, 0, 0, "--pool", "cannot start the pool thread: %s",
				    strerror(-r));
			MHD_stop_daemon(s.mhd);
			lfd = -1;
			goto out_mask;
		}
		pool_running = true;
	}
	logf_(&s, TB_SERVE_LOG_INFO, "listening on %s%s: %u workers, queue %u, %zu profile(s)%s, "
	      "warm pool %u%s%s", c->listen ? "" : "unix:", c->listen ? c->listen : c->socket_path,
	      c->workers, c->queue, s.profiles->n,
	      s.token ? ", bearer token required" : ", NO authentication", c->pool,
	      c->preload ? " preloading " : "", c->preload ? c->preload : "");
	if (c->ready)
		c->ready(c->log_data);

	serve_signals(&s, sfd, retired);
	drain_and_stop(&s, sfd);
	/* The pool last: a run that ended during the drain may have woken it once more. */
	if (pool_running)
		pool_stop(&s, pool_thread);
	r = 0;
	lfd = -1; /* MHD closed it (or we did, after quiesce) */
out_mask:
	pools_empty(&s); /* the first ones, when the server could not start after them */
	free(s.pools);
	if (s.pool_wake >= 0)
		close(s.pool_wake);
	if (lfd >= 0)
		close(lfd);
	if (sfd >= 0)
		close(sfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_cond_destroy(&s.idle_cv);
	pthread_cond_destroy(&s.pool_cv);
	pthread_mutex_destroy(&s.lock);
	tb_serve_metrics_destroy(&s.metrics);
out_profiles:
	for (size_t i = 0; retired && retired[i]; i++)
		tb_serve_profiles_free(retired[i]);
	free(retired);
	tb_serve_profiles_free(s.profiles);
out_token:
	if (s.token)
		explicit_bzero(s.token, s.token_len);
	free(s.token);
	return r;
}
