/*
 * pagecache.c - a short-lived cache of rendered lot pages (consumer HTML in
 * each language, and the resolver's JSON) for URLs without a serial.
 *
 * Why: a lot page is the same for everyone until the chain grows, and a
 * popular lot (a QR on a shelf tag, a link in a shop) is asked for many
 * times a second; serving it from memory skips the store round trip, which
 * costs more than rendering (docs/PERFORMANCE.md).  Pages of a unit with a serial are
 * never cached: each view counts a scan.  Entries live PAGE_CACHE_MS, so a
 * new event (a recall above all) appended through another instance shows
 * within that time, and one appended through this one at once
 * (pagecache_forget); pages whose verdict is pending are not stored at
 * all.  With a witness policy an entry also names the witnessed size its
 * page was folded against, and a newer one published makes it a miss.
 *
 * A page past its age is rebuilt by one worker while the others are
 * served the old one for at most PAGE_CACHE_STALE_MS (pages.h): without
 * that, every worker of a busy lot misses in the same millisecond and
 * renders the same page (a p99 of 50-80 ms against 2 ms for a cached hit,
 * docs/PERFORMANCE.md).  An append through this process drops the page at
 * once (pagecache_forget), and pagecache_forget_stale ends stale serving
 * of every page kept so far.  A page too old to serve (viewed again after
 * a quiet spell of more than 2 s) is rebuilt by one worker too: the others
 * wait for it (a condition variable, at most PAGE_CACHE_CLAIM_MS and
 * once) instead of all rendering it; when a bench's page round began,
 * that burst of 64 renders at once was its p99.
 *
 * A fixed table indexed by a hash of (chain, variant), one mutex held only
 * to look a slot up and take a reference to its body, which is copied out
 * after the mutex is released (every worker of a popular lot takes that
 * mutex; none holds the others while copying 8 KB).  Ages are on the
 * monotonic clock: a wall clock stepped back would otherwise keep a page
 * (without a new recall's banner) for as long as the step.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pages.h"
#include "slothash.h"

#define PAGE_CACHE_SLOTS 2048
#define PAGE_CACHE_BODY_MAX (64 * 1024)

/* A kept page: immutable once made, freed by whoever drops the last
 * reference (the slot's, or a reader copying it out). */
struct page_body {
	atomic_uint refs;
	size_t len;
	char data[];
};

struct cached_page {
	char chain[CHAIN_ID_MAX + 1];
	int variant;
	long long expires_ms;          /* monotonic_ms() */
	long long claimed_ms;          /* a rebuild claimed then (0: none) */
	unsigned long epoch;           /* pages_epoch when kept */
	long long pending_from;        /* folded against (pages.h) */
	struct page_body *body;
};

static struct cached_page pages[PAGE_CACHE_SLOTS];
static pthread_mutex_t pages_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long pages_epoch;      /* under pages_lock */
/* What gets answered: a kept page (fresh or, while another worker
 * rebuilds it, old), a miss, and of the misses and hits those that
 * waited for another worker's rebuild first.  For /metrics. */
static atomic_ullong count_fresh, count_stale, count_miss, count_waited;

/* Broadcast when a page is put or forgotten (pagecache_get waits). */
static pthread_cond_t pages_put;
static pthread_once_t pages_put_once = PTHREAD_ONCE_INIT;

static void
body_release(struct page_body *b)
{
	if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1)
		free(b);
}

/* Keyed (slothash.h), so lots cannot be chosen to evict each other. */
static size_t
slot_of(const char *chain, int variant)
{
	char v[2] = { (char)('A' + variant), '\0' };

	return (size_t)(slot_hash(chain, v) % PAGE_CACHE_SLOTS);
}

/* pages_put's clock is the monotonic one, like every age here. */
static void
pages_put_init(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&pages_put, &attr);
	pthread_condattr_destroy(&attr);
}

/* Under pages_lock: wait for a put or a forget, until deadline (ms). */
static void
wait_put(long long deadline)
{
	struct timespec until = { .tv_sec = deadline / 1000,
		.tv_nsec = (deadline % 1000) * 1000000 };

	pthread_once(&pages_put_once, pages_put_init);
	pthread_cond_timedwait(&pages_put, &pages_lock, &until);
}

bool
pagecache_get(const char *chain, int variant, long long pending_from,
    struct buf *out)
{
	struct cached_page *c = &pages[slot_of(chain, variant)];
	struct page_body *b = NULL;
	bool hit = false, waited = false;
	long long now = monotonic_ms();

	pthread_mutex_lock(&pages_lock);
	while (c->body != NULL && c->variant == variant &&
	    strcmp(c->chain, chain) == 0 && c->pending_from == pending_from) {
		if (now < c->expires_ms) {
			hit = true;
			break;
		}
		/* Aged: this worker claims the rebuild (a miss), unless
		 * another one holds the claim. */
		if (c->claimed_ms == 0 ||
		    now - c->claimed_ms >= PAGE_CACHE_CLAIM_MS) {
			c->claimed_ms = now;
			break;
		}
		/* Another worker is rebuilding it: serve the old page while
		 * it may still be served. */
		if (now < c->expires_ms + PAGE_CACHE_STALE_MS &&
		    c->epoch == pages_epoch) {
			hit = true;
			break;
		}
		/* Too old to serve (a lot viewed again after a quiet spell,
		 * or stale serving ended): wait for that rebuild, once and
		 * at most until its claim lapses, rather than render the
		 * same page alongside it (every worker of a burst did). */
		if (waited)
			break;
		wait_put(c->claimed_ms + PAGE_CACHE_CLAIM_MS);
		waited = true;
		now = monotonic_ms();
	}
	if (hit) {
		b = c->body;
		atomic_fetch_add(&b->refs, 1);
		atomic_fetch_add(now < c->expires_ms ? &count_fresh : &count_stale,
		    1);
	} else
		atomic_fetch_add(&count_miss, 1);
	if (waited)
		atomic_fetch_add(&count_waited, 1);
	pthread_mutex_unlock(&pages_lock);
	if (b != NULL) {
		buf_append(out, b->data, b->len);
		hit = !out->failed;
		body_release(b);
	}
	return hit;
}

void
pagecache_forget_stale(void)
{
	pthread_mutex_lock(&pages_lock);
	pages_epoch++;
	pthread_mutex_unlock(&pages_lock);
}

void
pagecache_forget(const char *chain)
{
	struct page_body *gone[PAGECACHE_LOT_VARIANTS] = { NULL };

	pthread_mutex_lock(&pages_lock);
	for (int v = 0; v < PAGECACHE_LOT_VARIANTS; v++) {
		struct cached_page *c = &pages[slot_of(chain, v)];

		if (c->body != NULL && c->variant == v &&
		    strcmp(c->chain, chain) == 0) {
			gone[v] = c->body;
			c->body = NULL;
		}
	}
	pthread_once(&pages_put_once, pages_put_init);
	pthread_cond_broadcast(&pages_put);
	pthread_mutex_unlock(&pages_lock);
	for (int v = 0; v < PAGECACHE_LOT_VARIANTS; v++)
		body_release(gone[v]);
}

void
pagecache_put(const char *chain, int variant, long long pending_from,
    const struct buf *body)
{
	struct cached_page *c = &pages[slot_of(chain, variant)];
	struct page_body *copy, *old;

	if (body->failed || body->len == 0 || body->len > PAGE_CACHE_BODY_MAX ||
	    strlen(chain) > CHAIN_ID_MAX ||
	    (copy = malloc(sizeof(*copy) + body->len)) == NULL)
		return;
	atomic_init(&copy->refs, 1);
	copy->len = body->len;
	memcpy(copy->data, body->data, body->len);
	pthread_mutex_lock(&pages_lock);
	old = c->body;
	memcpy(c->chain, chain, strlen(chain) + 1);
	c->variant = variant;
	c->expires_ms = monotonic_ms() + PAGE_CACHE_MS;
	c->claimed_ms = 0;
	c->epoch = pages_epoch;
	c->pending_from = pending_from;
	c->body = copy;
	pthread_once(&pages_put_once, pages_put_init);
	pthread_cond_broadcast(&pages_put);
	pthread_mutex_unlock(&pages_lock);
	body_release(old);
}

void
pagecache_metrics_render(struct buf *out)
{
	buf_printf(out, "# HELP trace_page_cache_total Kept pages asked for: "
	    "served fresh, served old while another worker rebuilt it, or "
	    "missed (rendered).\n# TYPE trace_page_cache_total counter\n"
	    "trace_page_cache_total{result=\"fresh\"} %llu\n"
	    "trace_page_cache_total{result=\"stale\"} %llu\n"
	    "trace_page_cache_total{result=\"miss\"} %llu\n"
	    "# HELP trace_page_cache_waits_total Asks that waited for "
	    "another worker's rebuild of a page too old to serve.\n"
	    "# TYPE trace_page_cache_waits_total counter\n"
	    "trace_page_cache_waits_total %llu\n",
	    atomic_load(&count_fresh), atomic_load(&count_stale),
	    atomic_load(&count_miss), atomic_load(&count_waited));
}
