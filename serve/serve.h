/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tb_serve_run(): the HTTP/1.1 JSON API of `tightbox serve` on libmicrohttpd.
 *
 *   POST /v1/run   one sandboxed run (fields: serve/request.h), bearer token required
 *   GET  /v1/health  {"status": "ok"|"draining", ...}
 *   GET  /metrics    Prometheus text (serve/metrics.h)
 *
 * Each run is a fork+exec of `tightbox run --json` with the request's clamped limits: a run is a
 * process of its own, so a crash or a leak in one run never reaches the server or another run,
 * and cancelling one is a kill (the sandbox init has PR_SET_PDEATHSIG, so its whole pid namespace
 * dies with it, and tightbox's janitor removes the cgroups). tb_run() in-process is not an option:
 * it reaps with wait4(-1) and takes SIGCHLD through a signalfd, so two threads running it would
 * steal each other's children (see docs/scale.md).
 *
 * With a pool (pool > 0), `tightbox run --warm` sandboxes are started before any request: each has
 * its namespaces, mounts and cgroup, and its interpreter has imported the preloads under the
 * phase-1 filter. A request for the default profile takes one (its limits then apply), runs, and
 * the sandbox is destroyed; the pool refills in the background (docs/serve-pool.md). A pool of a
 * named profile (pool_profiles) runs start-up, the preloads and the request under that profile.
 */
#ifndef TB_SERVE_H
#define TB_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/diag.h"
#include "serve/request.h"

enum tb_serve_log_level { TB_SERVE_LOG_ERROR, TB_SERVE_LOG_WARN, TB_SERVE_LOG_INFO };

/* A warm pool for a named profile of --profile-dir (serve --pool-profile NAME=N[:MODULES]). */
struct tb_serve_pool_spec {
	const char *profile; /* NAME: --profile-dir/NAME.json */
	unsigned size;       /* sandboxes kept ready */
	const char *preload; /* modules they import before a request, NULL: none */
};

struct tb_serve_config {
	const char *socket_path;  /* unix socket to listen on (when listen is NULL) */
	mode_t socket_mode;       /* its permission bits (0660) */
	const char *listen;       /* "127.0.0.1:PORT" or "[::1]:PORT"; NULL: the unix socket */
	const char *token_file;   /* bearer token for /v1/run; NULL: no authentication */
	const char *tightbox;     /* the tightbox binary that runs each request */
	const char *profile_dir;  /* NAME.json profiles requests may name; NULL: none */
	const char *state_dir;    /* per-request directories are made here */
	const char *cgroup_parent; /* passed to tightbox run; NULL: its default */
	unsigned workers;         /* concurrent sandboxes */
	unsigned queue;           /* requests that may wait for a worker; more get 429 */
	size_t max_body;          /* bytes of a request body; more get 413 */
	double drain_timeout;     /* seconds SIGTERM waits for runs in flight */
	unsigned pool;            /* warm sandboxes kept ready (docs/serve-pool.md); 0: none */
	const char *preload;      /* modules they import before a request, NULL: none */
	/* Pools for named profiles: a request naming one of them takes a sandbox of its pool. */
	const struct tb_serve_pool_spec *pool_profiles;
	size_t n_pool_profiles;
	struct tb_serve_limits defaults; /* for fields a request leaves out */
	struct tb_serve_limits max;      /* no request gets more */
	/* Where the server reports (never NULL when set; the library itself never prints). */
	void (*log)(void *data, enum tb_serve_log_level level, const char *msg);
	void *log_data;
	/* Called once the server listens (tests and systemd readiness). May be NULL. */
	void (*ready)(void *data);
};

/* Fills @c with the defaults (workers = online CPUs, queue = 4 x workers, 1 MiB bodies, ...). */
void tb_serve_config_init(struct tb_serve_config *c);

/*
 * Serves until SIGTERM or SIGINT, then drains: stops accepting, lets runs in flight finish (up to
 * drain_timeout, then kills them), and returns 0. SIGHUP reloads the token file and the profiles
 * (a reload that fails keeps the old ones and logs why). Blocks SIGCHLD, SIGTERM, SIGINT and SIGHUP
 * in the calling thread (the caller's mask is restored on return). -errno with @d when the server
 * cannot start (bad address, socket in use, unreadable token or profiles).
 */
int tb_serve_run(const struct tb_serve_config *c, struct tb_diag *d);

#endif
