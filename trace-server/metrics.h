/*
 * metrics.h - Prometheus counters and a latency histogram, updated with
 * C11 atomics so handlers never take a lock to count.  Requests are
 * counted per row of the route table (router.c), which names the labels.
 */
#ifndef TRACE_METRICS_H
#define TRACE_METRICS_H

#include <stdatomic.h>

#include "libtrace/buf.h"
#include "libtrace/error.h"

/* Rows of the route table that can have counters of their own; one more
 * counts the rest ("other": unknown paths, a worker that failed). */
#define METRICS_ROUTES 32
#define METRICS_ROUTE_OTHER METRICS_ROUTES

/* HTTP statuses we count individually; anything else is "other". */
#define METRICS_STATUSES 14
#define METRICS_REASONS 48
#define METRICS_BUCKETS 12

struct metrics {
	const char *route_names[METRICS_ROUTES];  /* set once, before threads */
	atomic_ullong requests[METRICS_ROUTES + 1][METRICS_STATUSES + 1];
	atomic_ullong accepted;
	atomic_ullong duplicates;
	atomic_ullong rejected[METRICS_REASONS + 1];
	atomic_ullong store_errors;
	atomic_ullong latency_buckets[METRICS_BUCKETS + 1];
	atomic_ullong latency_count;
	atomic_ullong latency_sum_us;
};

/* Label route row route with name (the router does, at start-up). */
void metrics_name_route(struct metrics *m, size_t route, const char *name);
/* A request answered by route row route (METRICS_ROUTE_OTHER for none). */
void metrics_count_request(struct metrics *m, size_t route, int status,
    long long micros);
/* A rejected statement, by its error code (e.g. "bad_signature"). */
void metrics_count_rejected(struct metrics *m, const char *code);
/* The Prometheus text; rows without a name count as "other". */
void metrics_render(struct metrics *m, struct buf *out);

#endif
