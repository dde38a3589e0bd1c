/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tightbox-serve: the `tightbox serve` command (cli/cmd-serve.c executes it). Parses the options,
 * prints the log, and calls tb_serve_run(). Exit: 0 after a clean drain, 1 when the server cannot
 * start or fails, 2 bad usage.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/parse.h"
#include "serve/serve.h"

static void usage(FILE *f)
{
	fputs("Usage: tightbox serve [OPTIONS]\n\n"
	      "An HTTP/1.1 JSON API that runs code in the tightbox sandbox, one `tightbox run` per\n"
	      "request:\n"
	      "  POST /v1/run     {\"code\": \"print(1)\", \"files\": {\"a.txt\": \"...\"}, \"stdin\": \"...\",\n"
	      "                   \"timeout\": 10, \"memory\": \"256m\", \"cpus\": 0.5, \"pids_limit\": 64,\n"
	      "                   \"stdout_limit\": 10000, \"stderr_limit\": 2000, \"profile\": \"NAME\",\n"
	      "                   \"env\": {\"K\": \"V\"}}  ->  the `tightbox run --json` result + \"limits\"\n"
	      "  GET  /v1/health  GET /metrics (Prometheus)\n\n"
	      "Options:\n"
	      "      --socket PATH        unix socket (default /run/tightbox/serve.sock)\n"
	      "      --socket-mode MODE   its permissions, octal (default 0660)\n"
	      "      --listen ADDR:PORT   TCP instead, e.g. 127.0.0.1:8080 or [::1]:8080\n"
	      "      --token-file FILE    bearer token required by POST /v1/run (first line, >= 16\n"
	      "                           bytes; the file must not be readable by others)\n"
	      "      --profile-dir DIR    NAME.json seccomp profiles a request may name (SIGHUP\n"
	      "                           reloads them and the token)\n"
	      "      --state-dir DIR      where request files are staged (default /run/tightbox)\n"
	      "      --cgroup-parent NAME passed to tightbox run (default tightbox)\n"
	      "      --workers N          concurrent sandboxes (default: online CPUs)\n"
	      "      --queue N            requests that may wait for a worker; more get 429 with\n"
	      "                           Retry-After (default 4 x workers)\n"
	      "      --max-body BYTES     request body limit, 413 beyond (default 1m)\n"
	      "      --max-timeout S      no request gets more (default 60)\n"
	      "      --max-memory SIZE    (default 1g)       --max-cpus N (default 1)\n"
	      "      --max-pids N         (default 256)      --max-stdout BYTES, --max-stderr BYTES (1m)\n"
	      "      --drain-timeout S    SIGTERM waits this long for runs in flight (default 60)\n"
	      "      --pool N             warm sandboxes kept ready: started, --preload imported,\n"
	      "                           waiting for a request (default 0: none); a request for\n"
	      "                           the default profile takes one, which is then destroyed\n"
	      "                           (docs/serve-pool.md)\n"
	      "      --preload MODULES    comma-separated modules the pool imports (e.g. pandas)\n"
	      "      --pool-profile NAME=N[:MODULES]  a pool of N sandboxes for requests naming\n"
	      "                           profile NAME of --profile-dir: start-up, the MODULES and\n"
	      "                           the request all run under that profile (repeatable)\n\n"
	      "Signals: SIGTERM/SIGINT drain (no new requests, runs in flight finish) and exit 0;\n"
	      "SIGHUP reloads --token-file and --profile-dir. A client that disconnects cancels its run.\n"
	      "Exit: 0 after a drain, 1 the server could not start or failed, 2 bad usage.\n",
	      f);
}

static void log_line(void *data, enum tb_serve_log_level level, const char *msg)
{
	static const char *const names[] = {"error", "warning", "info"};
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;

	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	fprintf(stderr, "%s tightbox serve: %s: %s\n", ts, names[level], msg);
}

static int fail(const char *flag, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tightbox serve: %s: ", flag);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

static int count(const char *flag, const char *v, int64_t min, int64_t max, int64_t *out)
{
	struct tb_diag d = {0};

	if (tb_parse_int64(v, min, max, out, &d) < 0)
		return fail(flag, "%s", d.message);
	return 0;
}

static int size(const char *flag, const char *v, uint64_t *out)
{
	struct tb_diag d = {0};

	if (tb_parse_size(v, out, &d) < 0)
		return fail(flag, "%s", d.message);
	return 0;
}

/* --pool-profile NAME=N[:MODULES]: NAME a profile of --profile-dir (checked at the start). */
static int pool_profile(const char *flag, char *v, struct tb_serve_pool_spec *sp)
{
	char *eq = strchr(v, '='), *colon;
	int64_t n;
	int r;

	if (!eq || eq == v)
		return fail(flag, "'%s': expected NAME=N[:MODULES]", v);
	*eq = '\0';
	colon = strchr(eq + 1, ':');
	if (colon)
		*colon = '\0';
	if ((r = count(flag, eq + 1, 1, 1024, &n)))
		return r;
	if (colon && !colon[1])
		return fail(flag, "'%s': empty MODULES after ':'", v);
	*sp = (struct tb_serve_pool_spec){.profile = v, .size = (unsigned)n,
					  .preload = colon ? colon + 1 : NULL};
	return 0;
}

static int seconds(const char *flag, const char *v, double *out)
{
	struct tb_diag d = {0};

	if (tb_parse_duration(v, out, &d) < 0 || *out <= 0)
		return fail(flag, "%s", d.message[0] ? d.message : "must be more than 0");
	return 0;
}

int main(int argc, char **argv)
{
	struct tb_serve_config c;
	struct tb_serve_limits *m = &c.max, *df = &c.defaults;
	static struct tb_serve_pool_spec pools[64];
	size_t n_pools = 0;
	struct tb_diag d = {0};
	char msg[1400];
	bool queue_set = false;
	int64_t n;
	uint64_t u;
	int r;

	tb_serve_config_init(&c);
	c.log = log_line;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (a[0] != '-' || a[1] != '-')
			return fail(a, "unexpected argument (see --help)");
		if (i + 1 >= argc)
			return fail(a, "needs a value");
		v = argv[++i];
		r = 0;
		if (!strcmp(a, "--socket"))
			c.socket_path = v;
		else if (!strcmp(a, "--socket-mode")) {
			char *end;
			unsigned long mode = strtoul(v, &end, 8);

			if (*end || !*v || mode > 0777)
				return fail(a, "'%s': an octal mode like 0660", v);
			c.socket_mode = (mode_t)mode;
		} else if (!strcmp(a, "--listen"))
			c.listen = v;
		else if (!strcmp(a, "--token-file"))
			c.token_file = v;
		else if (!strcmp(a, "--profile-dir"))
			c.profile_dir = v;
		else if (!strcmp(a, "--state-dir"))
			c.state_dir = v;
		else if (!strcmp(a, "--cgroup-parent"))
			c.cgroup_parent = v;
		else if (!strcmp(a, "--tightbox"))
			c.tightbox = v;
		else if (!strcmp(a, "--workers")) {
			if (!(r = count(a, v, 1, 4096, &n)))
				c.workers = (unsigned)n;
		} else if (!strcmp(a, "--queue")) {
			if (!(r = count(a, v, 0, 65536, &n)))
				c.queue = (unsigned)n;
			queue_set = true;
		} else if (!strcmp(a, "--max-body")) {
			if (!(r = size(a, v, &u)))
				c.max_body = (size_t)u;
		} else if (!strcmp(a, "--max-timeout"))
			r = seconds(a, v, &m->timeout);
		else if (!strcmp(a, "--drain-timeout"))
			r = seconds(a, v, &c.drain_timeout);
		else if (!strcmp(a, "--max-memory"))
			r = size(a, v, &m->memory);
		else if (!strcmp(a, "--max-cpus")) {
			struct tb_diag pd = {0};

			if (tb_parse_cpus(v, &m->cpus, &pd) < 0)
				r = fail(a, "%s", pd.message);
		} else if (!strcmp(a, "--max-pids")) {
			if (!(r = count(a, v, 1, 4194304, &n)))
				m->pids_limit = n;
		} else if (!strcmp(a, "--max-stdout"))
			r = size(a, v, &m->stdout_limit);
		else if (!strcmp(a, "--max-stderr"))
			r = size(a, v, &m->stderr_limit);
		else if (!strcmp(a, "--pool")) {
			if (!(r = count(a, v, 0, 1024, &n)))
				c.pool = (unsigned)n;
		} else if (!strcmp(a, "--preload"))
			c.preload = v;
		else if (!strcmp(a, "--pool-profile")) {
			if (n_pools == sizeof(pools) / sizeof(pools[0]))
				return fail(a, "at most %zu pools", n_pools);
			r = pool_profile(a, argv[i], &pools[n_pools++]);
		} else
			return fail(a, "unknown option (see --help)");
		if (r)
			return r;
	}
	if (!queue_set)
		c.queue = 4 * c.workers;
	c.pool_profiles = pools;
	c.n_pool_profiles = n_pools;
	if (n_pools && !c.profile_dir)
		return fail("--pool-profile", "needs --profile-dir (the pool's profile is one of its files)");
	if (c.preload && !c.pool)
		return fail("--preload", "needs --pool N (the preloads are imported by the warm pool)");
	/* A default above the maximum would be reported as clamped on every request. */
	if (df->timeout > m->timeout)
		df->timeout = m->timeout;
	if (df->memory > m->memory)
		df->memory = m->memory;
	if (df->cpus > m->cpus)
		df->cpus = m->cpus;
	if (df->pids_limit > m->pids_limit)
		df->pids_limit = m->pids_limit;
	if (df->stdout_limit > m->stdout_limit)
		df->stdout_limit = m->stdout_limit;
	if (df->stderr_limit > m->stderr_limit)
		df->stderr_limit = m->stderr_limit;
	r = tb_serve_run(&c, &d);
	if (r < 0) {
		fprintf(stderr, "tightbox serve: %s\n", tb_diag_format(&d, msg, sizeof(msg)));
		return 1;
	}
	return 0;
}
