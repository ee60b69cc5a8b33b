/*
 * blobsweep.c - the document sweeper: a thread that deletes documents no
 * accepted event has named within --blob-grace (default 24 hours) of their
 * upload (docs/PROTOCOL.md "Documents").
 *
 * Whether an event names a document is recorded when the event is
 * appended (store.lua trace_append_event), so the sweeper needs no scan
 * of events: it asks the store for the documents that are due and still
 * unreferenced, a bounded number per call (store.lua trace_blob_sweep),
 * and calls again only while a call used its whole budget, at most a few
 * times a pass.  Every trace-server sharing a Redis runs one; the calls
 * are atomic and idempotent, so several never disagree.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "libtrace/timefmt.h"
#include "server.h"

#define SWEEP_BATCH 100          /* documents looked at per call */
#define SWEEP_CALLS_MAX 10       /* calls per pass */

static struct {
	pthread_t thread;
	bool running;
	atomic_bool stop;
	struct server *srv;
} sweeper;

/* Seconds between passes: often enough that a short grace (tests) is
 * honoured within about a quarter of it, at most a minute. */
static long long
sweep_interval(long long grace)
{
	long long s = grace / 4;

	return s < 1 ? 1 : s > 60 ? 60 : s;
}

static void
sweep_once(struct store *s, long long grace)
{
	struct trace_error err;
	size_t deleted = 0, looked = 0;

	for (int i = 0; i < SWEEP_CALLS_MAX; i++) {
		if (store_blob_sweep(s, time_now() - grace, SWEEP_BATCH,
		    &deleted, &looked, &err) != TRACE_OK) {
			fprintf(stderr, "trace-server: blob sweep: %s\n",
			    err.message);
			return;
		}
		if (looked < SWEEP_BATCH)
			return;
	}
}

static void *
sweeper_main(void *arg)
{
	struct server *srv = arg;
	long long grace = srv->cfg.blob_grace;
	long long interval_ms = sweep_interval(grace) * 1000;
	struct trace_error err;
	struct store *s = NULL;

	while (!atomic_load(&sweeper.stop)) {
		if (s == NULL && (s = store_open(&srv->redis, &err)) == NULL)
			fprintf(stderr, "trace-server: blob sweep: %s\n",
			    err.message);
		if (s != NULL)
			sweep_once(s, grace);
		for (long long t = 0; t < interval_ms &&
		    !atomic_load(&sweeper.stop); t += 50)
			usleep(50000);
	}
	store_close(s);
	return NULL;
}

int
blob_sweep_start(struct server *srv)
{
	sweeper.srv = srv;
	atomic_store(&sweeper.stop, false);
	if (pthread_create(&sweeper.thread, NULL, sweeper_main, srv) != 0) {
		fprintf(stderr, "trace-server: cannot start the blob sweeper\n");
		return -1;
	}
	sweeper.running = true;
	return 0;
}

void
blob_sweep_stop(void)
{
	if (!sweeper.running)
		return;
	atomic_store(&sweeper.stop, true);
	pthread_join(sweeper.thread, NULL);
	sweeper.running = false;
}
