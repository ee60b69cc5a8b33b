/*
 * admission.h - who gets a worker's time: SPEC 7 "Abuse".
 *
 * civetweb 1.15 gives each connection a worker thread for as long as it
 * is open, keep-alive idle time included, and has no event loop for idle
 * sockets: a few clients holding connections open could take every worker.
 * This module counts open connections (civetweb's init_connection and
 * connection_close callbacks), in all and per client address, and tells
 * the router when an answer should close its connection instead of
 * keeping it alive: when most workers are taken, or when one address holds
 * more than its share while many are.  It also keeps a token bucket per
 * client address for the routes whose answers cost far more than a page
 * (bundles, the inspector, recall lists, the EPCIS export, chain JSON,
 * label sheets): past the bucket the answer is 429 with Retry-After.
 * The local host (a reverse proxy beside the server) is exempt from the
 * per-address rules.
 *
 * Addresses are placed in fixed tables by the keyed slot hash (slothash.h),
 * so memory does not grow with the number of clients; two addresses that
 * share a slot share a connection count (stricter), and take the bucket
 * from each other (a fresh one; the keyed hash keeps such pairs from being
 * chosen).
 */
#ifndef TRACE_ADMISSION_H
#define TRACE_ADMISSION_H

#include <stdbool.h>

#include <civetweb.h>

/*
 * Set the limits before the listener opens: threads, civetweb's workers;
 * rate, requests per second per address on the costly routes (burst
 * ADMISSION_BURST_SECONDS x rate; 0: no limit).
 */
#define ADMISSION_BURST_SECONDS 4
void admission_init(int threads, int rate);

/* civetweb callbacks (main.c). */
int admission_connection_open(const struct mg_connection *conn,
    void **conn_data);
void admission_connection_close(const struct mg_connection *conn);

/* Should the answer to this request close its connection? */
bool admission_should_close(const struct mg_connection *conn);

/* Is route (router.c's metrics label) one of the rate-limited ones? */
bool admission_route_limited(const char *route);

/*
 * Take a token for addr.  False when its bucket is empty: *retry_after
 * is then the whole seconds until one is back (at least 1).
 */
bool admission_take(const char *addr, int *retry_after);

/* The local host (127.0.0.1, ::1): a proxy beside the server, or the
 * operator; exempt from the per-address rules. */
bool admission_addr_is_local(const char *addr);

/* Connections open now. */
int admission_open_connections(void);

struct buf;
/* Prometheus lines: connections open, answers that closed their
 * connection to free a worker, requests refused 429 (health.c). */
void admission_metrics_render(struct buf *out);

#endif
