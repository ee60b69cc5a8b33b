/*
 * metrics.h - Prometheus counters and a latency histogram, updated with
 * C11 atomics so handlers never take a lock to count.
 */
#ifndef TRACE_METRICS_H
#define TRACE_METRICS_H

#include <stdatomic.h>

#include "libtrace/buf.h"
#include "libtrace/error.h"

enum route {
	ROUTE_EVENTS,
	ROUTE_EVENT,
	ROUTE_CHAIN,
	ROUTE_KEYS,
	ROUTE_HEALTH,
	ROUTE_PAGE,          /* resolver, consumer and inspector pages */
	ROUTE_QR,            /* QR codes and labels */
	ROUTE_RECALLS,       /* recall API, stream and board */
	ROUTE_EPCIS,         /* EPCIS 2.0 export */
	ROUTE_OTHER,
	ROUTE_COUNT,
};

/* HTTP statuses we count individually; anything else is "other". */
#define METRICS_STATUSES 14
#define METRICS_REASONS 48
#define METRICS_BUCKETS 12

struct metrics {
	atomic_ullong requests[ROUTE_COUNT][METRICS_STATUSES + 1];
	atomic_ullong accepted;
	atomic_ullong duplicates;
	atomic_ullong rejected[METRICS_REASONS + 1];
	atomic_ullong store_errors;
	atomic_ullong latency_buckets[METRICS_BUCKETS + 1];
	atomic_ullong latency_count;
	atomic_ullong latency_sum_us;
};

const char *metrics_route_name(enum route route);
void metrics_count_request(struct metrics *m, enum route route, int status,
    long long micros);
/* A rejected statement, by its error code (e.g. "bad_signature"). */
void metrics_count_rejected(struct metrics *m, const char *code);
void metrics_render(struct metrics *m, struct buf *out);

#endif
