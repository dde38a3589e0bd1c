/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus counters: runs by outcome, queue depth, running sandboxes, a latency histogram. */
#include "serve/metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Seconds. From a bare `print(1)` (~15 ms) to runs near a typical 10-60 s maximum timeout. */
static const double bucket_le[TB_SERVE_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
						    1,     2.5,  5,     10,   30,  60,  120};

static const char *const outcome_names[TB_OUTCOME_COUNT] = {
	[TB_OUTCOME_OK] = "ok",           [TB_OUTCOME_NONZERO] = "nonzero",
	[TB_OUTCOME_SIGNAL] = "signal",   [TB_OUTCOME_TIMEOUT] = "timeout",
	[TB_OUTCOME_OOM] = "oom",         [TB_OUTCOME_ERROR] = "error",
	[TB_OUTCOME_CANCELLED] = "cancelled", [TB_OUTCOME_REJECTED] = "rejected",
	[TB_OUTCOME_INVALID] = "invalid",
};

/* The outcome label value ("ok", "timeout", ...). */
static const char *outcome_name(enum tb_serve_outcome o)
{
	return o < TB_OUTCOME_COUNT ? outcome_names[o] : "unknown";
}

int tb_serve_metrics_init(struct tb_serve_metrics *m, unsigned workers, unsigned queue_capacity)
{
	memset(m, 0, sizeof(*m));
	m->workers = workers;
	m->queue_capacity = queue_capacity;
	return -pthread_mutex_init(&m->lock, NULL);
}

void tb_serve_metrics_destroy(struct tb_serve_metrics *m)
{
	if (m)
		pthread_mutex_destroy(&m->lock);
}

void tb_serve_metrics_observe(struct tb_serve_metrics *m, enum tb_serve_outcome o, double seconds)
{
	pthread_mutex_lock(&m->lock);
	if (o < TB_OUTCOME_COUNT)
		m->outcomes[o]++;
	if (seconds >= 0) {
		for (size_t i = 0; i < TB_SERVE_BUCKETS; i++)
			if (seconds <= bucket_le[i]) {
				m->buckets[i]++;
				break;
			}
		m->count++;
		m->sum += seconds;
	}
	pthread_mutex_unlock(&m->lock);
}

struct text {
	char *buf;
	size_t len, cap;
	int err;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->err = -EIO;
			return;
		}
		if (t->buf && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		{
			size_t cap = (t->cap + (size_t)n + 1) * 2;
			char *b = realloc(t->buf, cap);

			if (!b) {
				t->err = -ENOMEM;
				return;
			}
			t->buf = b;
			t->cap = cap;
		}
	}
}

char *tb_serve_metrics_render(struct tb_serve_metrics *m)
{
	struct text t = {0};
	uint64_t cum = 0;

	pthread_mutex_lock(&m->lock);
	put(&t, "# HELP tightbox_serve_runs_total Run requests by how they ended.\n"
		"# TYPE tightbox_serve_runs_total counter\n");
	for (int o = 0; o < TB_OUTCOME_COUNT; o++)
		put(&t, "tightbox_serve_runs_total{outcome=\"%s\"} %llu\n", outcome_name(o),
		    (unsigned long long)m->outcomes[o]);
	put(&t, "# HELP tightbox_serve_queue_depth Requests waiting for a free worker.\n"
		"# TYPE tightbox_serve_queue_depth gauge\ntightbox_serve_queue_depth %u\n"
		"# HELP tightbox_serve_running Sandboxes running now.\n"
		"# TYPE tightbox_serve_running gauge\ntightbox_serve_running %u\n"
		"# HELP tightbox_serve_workers Concurrent sandboxes allowed (--workers).\n"
		"# TYPE tightbox_serve_workers gauge\ntightbox_serve_workers %u\n"
		"# HELP tightbox_serve_queue_capacity Requests that may wait (--queue).\n"
		"# TYPE tightbox_serve_queue_capacity gauge\ntightbox_serve_queue_capacity %u\n",
	    m->queued, m->running, m->workers, m->queue_capacity);
	put(&t, "# HELP tightbox_serve_run_duration_seconds Time from admission to response, queue "
		"wait included.\n# TYPE tightbox_serve_run_duration_seconds histogram\n");
	for (size_t i = 0; i < TB_SERVE_BUCKETS; i++) {
		cum += m->buckets[i];
		put(&t, "tightbox_serve_run_duration_seconds_bucket{le=\"%g\"} %llu\n", bucket_le[i],
		    (unsigned long long)cum);
	}
	put(&t, "tightbox_serve_run_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
		"tightbox_serve_run_duration_seconds_sum %.6f\n"
		"tightbox_serve_run_duration_seconds_count %llu\n",
	    (unsigned long long)m->count, m->sum, (unsigned long long)m->count);
	pthread_mutex_unlock(&m->lock);
	if (t.err) {
		free(t.buf);
		return NULL;
	}
	return t.buf;
}
