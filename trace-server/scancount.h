/*
 * scancount.h - where and when a unit page's scan is written: after the
 * page was answered, not on its critical path.
 *
 * A view updates a table in memory and queues the scan; one thread drains
 * the queue into Redis (one trace_scan_add call per chain and round,
 * store_scans.c) and writes back the counts Redis returns, so the page
 * shows the count known so far (views through this process, plus the
 * counts Redis last told it) without a round trip.  The bound per lot
 * (SCANS_SERIALS_MAX) stays where it was, in the store.  The queue and
 * the table are fixed in size: a flood of invented serials costs memory
 * only up to that size, and past it scans are dropped (counted in
 * scan_count_dropped()) rather than queued.
 *
 * What "known so far" means: the first view of a serial this process has
 * no entry for (after a restart, or a serial never seen here) shows
 * Redis's count + 1 when that view read the store (the chain's head not
 * confirmed within the last second: chainview.c), else 1; the drain's
 * write-back (within about 20 ms) then brings the entry to Redis's count,
 * views through other instances included.
 *
 * This module owns the mechanism only; what a count means on the page is
 * chainview.c's and consumer.c's.
 */
#ifndef TRACE_SCANCOUNT_H
#define TRACE_SCANCOUNT_H

#include <stdbool.h>

struct server;

/* Start the draining thread (its own Redis connection); 0 or -1. */
int scan_count_start(struct server *srv);
/* Write what is queued, then stop the thread.  Safe if never started. */
void scan_count_stop(void);

/*
 * A view of serial of chain at now (unix seconds): counted (queued) if
 * count, and *scans / *first_scan set to what is known so far, this view
 * included.  False when nothing may be shown: the serial is past its
 * lot's bound, or the process knows nothing of it and count is false.
 */
bool scan_count_view(const char *chain, const char *serial, long long now,
    bool count, long long *scans, long long *first_scan);

/* What a read of the store said of serial (known false: past the bound,
 * not counted).  The count known so far never goes down. */
void scan_count_note(const char *chain, const char *serial, bool known,
    long long scans, long long first_scan);

/* Scans dropped because the queue was full, since start. */
unsigned long long scan_count_dropped(void);

#endif
