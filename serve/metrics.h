/* SPDX-License-Identifier: Apache-2.0 */
/* Counters of `tightbox serve`, rendered in the Prometheus text exposition format. Thread-safe. */
#ifndef TB_SERVE_METRICS_H
#define TB_SERVE_METRICS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* How a run request ended (the "outcome" label). */
enum tb_serve_outcome {
	TB_OUTCOME_OK,        /* exit code 0 */
	TB_OUTCOME_NONZERO,   /* the code exited with another code */
	TB_OUTCOME_SIGNAL,    /* killed by a signal (not timeout, not OOM) */
	TB_OUTCOME_TIMEOUT,
	TB_OUTCOME_OOM,
	TB_OUTCOME_ERROR,     /* tightbox itself failed (setup, bad profile) */
	TB_OUTCOME_CANCELLED, /* the client went away: the sandbox was killed */
	TB_OUTCOME_REJECTED,  /* 429: queue full */
	TB_OUTCOME_INVALID,   /* 400/401/413: never queued */
	TB_OUTCOME_COUNT
};

#define TB_SERVE_BUCKETS 14

struct tb_serve_metrics {
	pthread_mutex_t lock;
	uint64_t outcomes[TB_OUTCOME_COUNT];
	uint64_t buckets[TB_SERVE_BUCKETS]; /* run latency (queue wait included), cumulative at render */
	uint64_t count;
	double sum;
	unsigned running, queued; /* gauges, kept by the admission code */
	unsigned workers, queue_capacity;
};

/* Initialises @m (zero counters). 0 or -errno. */
int tb_serve_metrics_init(struct tb_serve_metrics *m, unsigned workers, unsigned queue_capacity);
/* Destroys the lock. Accepts NULL. */
void tb_serve_metrics_destroy(struct tb_serve_metrics *m);
/* Counts one finished request; @seconds < 0 for requests that never ran (no latency sample). */
void tb_serve_metrics_observe(struct tb_serve_metrics *m, enum tb_serve_outcome o, double seconds);
/* The Prometheus text for @m (malloc'd, NUL-terminated; NULL on ENOMEM). Takes the lock;
 * @running and @queued are read under it, so the caller's admission code keeps them in @m. */
char *tb_serve_metrics_render(struct tb_serve_metrics *m);

#endif
