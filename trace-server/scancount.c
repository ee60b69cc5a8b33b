/*
 * scancount.c - scans counted off the page's critical path (scancount.h
 * says what and why).
 *
 * Two fixed structures, each behind its own mutex held only to copy a few
 * bytes: a table of what is known per (chain, serial), in sets of
 * SCAN_WAYS placed by the keyed slot hash (slothash.h) so invented serials
 * cannot be aimed at a real one's set, where a new serial takes the place
 * of the one with the fewest scans (a flood of invented serials, each
 * seen once, displaces its own kind before a real serial scanned several
 * times); and a ring of scans waiting for Redis.  The
 * draining thread wakes every SCAN_FLUSH_MS (or at once when the ring is
 * half full), takes up to SCAN_BATCH scans, merges repeats of the same
 * serial, and sends one trace_scan_add per chain through its own Redis
 * connection (STYLE: a thread owns its connection).  A failed write drops
 * that round's scans (with one line on stderr): the count is a hint for
 * people, and a page view must never wait for, or queue without bound
 * behind, an unreachable store.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pages.h"
#include "scancount.h"
#include "slothash.h"

#define SCAN_SLOTS 16384
#define SCAN_WAYS 4
#define SCAN_QUEUE_MAX 16384
#define SCAN_BATCH 4096
#define SCAN_PER_CALL 256              /* serials per trace_scan_add */
#define SCAN_FLUSH_MS 20

struct scan_key {
	char chain[CHAIN_ID_MAX + 1];
	char serial[GS1_ATTR_MAX + 1];
};

struct scan_slot {
	struct scan_key key;
	bool used;
	bool bounded;                      /* past its lot's bound */
	long long count;                   /* known so far */
	long long first_scan;
};

struct scan_item {
	struct scan_key key;
	long long now;
	long long n;
};

static struct scan_slot *table;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

static struct scan_item *queue;
static size_t queue_head, queue_len;
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cond;       /* on CLOCK_MONOTONIC */
static bool stopping, started;
static pthread_t drainer;
static struct server *the_server;
static atomic_ullong dropped;

static bool
key_set(struct scan_key *k, const char *chain, const char *serial)
{
	size_t c = strlen(chain), s = strlen(serial);

	if (c > CHAIN_ID_MAX || s > GS1_ATTR_MAX || s == 0)
		return false;
	memcpy(k->chain, chain, c + 1);
	memcpy(k->serial, serial, s + 1);
	return true;
}

static bool
key_equal(const struct scan_key *k, const char *chain, const char *serial)
{
	return strcmp(k->chain, chain) == 0 && strcmp(k->serial, serial) == 0;
}

static struct scan_slot *
set_of(const char *chain, const char *serial)
{
	return &table[(slot_hash(chain, serial) % (SCAN_SLOTS / SCAN_WAYS)) *
	    SCAN_WAYS];
}

/* Under table_lock: the slot of (chain, serial); if it has none and take
 * is true, an empty slot of its set or the one with the fewest scans,
 * taken over; NULL otherwise. */
static struct scan_slot *
slot_find(const char *chain, const char *serial, bool take)
{
	struct scan_slot *set, *e = NULL;

	if (table == NULL)
		return NULL;
	set = set_of(chain, serial);
	for (size_t i = 0; i < SCAN_WAYS; i++)
		if (set[i].used && key_equal(&set[i].key, chain, serial))
			return &set[i];
	if (!take)
		return NULL;
	for (size_t i = 0; i < SCAN_WAYS; i++)
		if (e == NULL || !set[i].used ||
		    (e->used && set[i].count < e->count))
			e = &set[i];
	memset(e, 0, sizeof(*e));
	if (!key_set(&e->key, chain, serial))
		return NULL;
	e->used = true;
	return e;
}

static void
note_locked(const char *chain, const char *serial, bool known,
    long long scans, long long first_scan)
{
	struct scan_slot *e = slot_find(chain, serial, true);

	if (e == NULL)
		return;
	if (!known) {
		e->bounded = true;
		return;
	}
	e->bounded = false;
	if (scans > e->count)
		e->count = scans;
	if (first_scan > 0 && (e->first_scan == 0 || first_scan < e->first_scan))
		e->first_scan = first_scan;
}

void
scan_count_note(const char *chain, const char *serial, bool known,
    long long scans, long long first_scan)
{
	pthread_mutex_lock(&table_lock);
	note_locked(chain, serial, known, scans, first_scan);
	pthread_mutex_unlock(&table_lock);
}

static void
enqueue(const char *chain, const char *serial, long long now)
{
	struct scan_item *it;
	bool wake;

	pthread_mutex_lock(&queue_lock);
	if (queue == NULL || stopping || queue_len == SCAN_QUEUE_MAX) {
		pthread_mutex_unlock(&queue_lock);
		atomic_fetch_add(&dropped, 1);
		return;
	}
	it = &queue[(queue_head + queue_len) % SCAN_QUEUE_MAX];
	if (key_set(&it->key, chain, serial)) {
		it->now = now;
		it->n = 1;
		queue_len++;
	}
	wake = queue_len == SCAN_QUEUE_MAX / 2;
	pthread_mutex_unlock(&queue_lock);
	if (wake)
		pthread_cond_signal(&queue_cond);
}

bool
scan_count_view(const char *chain, const char *serial, long long now,
    bool count, long long *scans, long long *first_scan)
{
	struct scan_slot *e;
	bool shown = false;

	*scans = 0;
	*first_scan = 0;
	pthread_mutex_lock(&table_lock);
	e = slot_find(chain, serial, count);
	if (e != NULL && !e->bounded) {
		if (count) {
			e->count++;
			if (e->first_scan == 0)
				e->first_scan = now;
		}
		*scans = e->count;
		*first_scan = e->first_scan;
		shown = true;
	}
	pthread_mutex_unlock(&table_lock);
	/* A serial past its lot's bound is not sent: the store would refuse
	 * it anyway. */
	if (shown && count)
		enqueue(chain, serial, now);
	return shown;
}

unsigned long long
scan_count_dropped(void)
{
	return atomic_load(&dropped);
}

static int
item_cmp(const void *a, const void *b)
{
	const struct scan_item *x = a, *y = b;
	int c = strcmp(x->key.chain, y->key.chain);

	return c != 0 ? c : strcmp(x->key.serial, y->key.serial);
}

/* Send items[0..n) (one chain) and note what the store answered. */
static void
write_chain(struct store **store, struct scan_item *items, size_t n)
{
	struct scan_add adds[SCAN_PER_CALL];
	struct trace_error err;
	static long long last_complaint_ms;

	for (size_t i = 0; i < n; i++)
		adds[i] = (struct scan_add){ .serial = items[i].key.serial,
			.n = items[i].n, .now = items[i].now };
	if (*store == NULL)
		*store = store_open(&the_server->redis, &err);
	if (*store == NULL || store_scans_add(*store, items[0].key.chain, adds,
	    n, SCANS_SERIALS_MAX, &err) != TRACE_OK) {
		long long now = monotonic_ms();

		atomic_fetch_add(&dropped, n);
		if (now - last_complaint_ms > 10000) {
			last_complaint_ms = now;
			fprintf(stderr, "trace-server: scan counts not written: "
			    "%s\n", *store == NULL ? "no store" : err.message);
		}
		return;
	}
	pthread_mutex_lock(&table_lock);
	for (size_t i = 0; i < n; i++)
		note_locked(items[i].key.chain, items[i].key.serial,
		    adds[i].counted, adds[i].count, adds[i].first_scan);
	pthread_mutex_unlock(&table_lock);
}

/* Merge repeats, then one call per chain (at most SCAN_PER_CALL serials). */
static void
write_batch(struct store **store, struct scan_item *batch, size_t n)
{
	size_t m = 0, start = 0;

	qsort(batch, n, sizeof(*batch), item_cmp);
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && item_cmp(&batch[m - 1], &batch[i]) == 0) {
			batch[m - 1].n += batch[i].n;
			if (batch[i].now < batch[m - 1].now)
				batch[m - 1].now = batch[i].now;
		} else {
			batch[m++] = batch[i];
		}
	}
	for (size_t i = 1; i <= m; i++)
		if (i == m || i - start == SCAN_PER_CALL ||
		    strcmp(batch[i].key.chain, batch[start].key.chain) != 0) {
			write_chain(store, &batch[start], i - start);
			start = i;
		}
}

static void *
drain(void *arg)
{
	struct scan_item *batch = calloc(SCAN_BATCH, sizeof(*batch));
	struct store *store = NULL;
	struct trace_error err;

	(void)arg;
	store = store_open(&the_server->redis, &err);
	for (;;) {
		size_t n = 0;
		bool done;
		struct timespec until;

		pthread_mutex_lock(&queue_lock);
		if (!stopping && queue_len < SCAN_QUEUE_MAX / 2) {
			/* A timeout: the monotonic clock (STYLE.md), so a
			 * wall-clock step cannot hold scans back. */
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_nsec += SCAN_FLUSH_MS * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&queue_cond, &queue_lock, &until);
		}
		while (batch != NULL && n < SCAN_BATCH && queue_len > 0) {
			batch[n++] = queue[queue_head];
			queue_head = (queue_head + 1) % SCAN_QUEUE_MAX;
			queue_len--;
		}
		done = stopping && queue_len == 0;
		pthread_mutex_unlock(&queue_lock);
		if (n > 0)
			write_batch(&store, batch, n);
		if (done)
			break;
	}
	store_close(store);
	free(batch);
	return NULL;
}

int
scan_count_start(struct server *srv)
{
	pthread_condattr_t attr;

	the_server = srv;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&queue_cond, &attr);
	pthread_condattr_destroy(&attr);
	table = calloc(SCAN_SLOTS, sizeof(*table));
	queue = calloc(SCAN_QUEUE_MAX, sizeof(*queue));
	if (table == NULL || queue == NULL ||
	    pthread_create(&drainer, NULL, drain, NULL) != 0) {
		fprintf(stderr, "trace-server: cannot start the scan counter\n");
		return -1;
	}
	started = true;
	return 0;
}

void
scan_count_stop(void)
{
	if (!started)
		return;
	pthread_mutex_lock(&queue_lock);
	stopping = true;
	pthread_mutex_unlock(&queue_lock);
	pthread_cond_signal(&queue_cond);
	pthread_join(drainer, NULL);
	started = false;
}
