/*
 * verdict.c - "genuine, or not verifiable and why" for a chain, as the
 * consumer and inspector pages state it.
 *
 * The verdict is what an offline verifier would conclude: the server
 * builds the chain's bundle exactly as GET /api/v1/bundles serves it
 * (chainbundle.c) and checks it with libtrace's bundle_verify() against
 * its own trust anchor and log key, so the page never claims more than
 * `trace-agent verify` would.  That costs a signature check per statement,
 * far too much per page view (docs/PERFORMANCE.md), so results are cached per chain
 * head: a chain only grows, and a verdict about a head with a signed
 * checkpoint covering it never changes (later revocations apply to later
 * statements only).  A pending verdict (no covering checkpoint yet) or a
 * store failure is kept for VERDICT_RETRY_MS only (a page never waits for
 * the integrator, so a new head's views say "pending" until a checkpoint
 * covers it, and at most that long after), a failed check for
 * VERDICT_FAILED_MS, so a repaired store is noticed; those ages are on the
 * monotonic clock, which no clock step moves.  With a witness policy a
 * genuine verdict also says who witnessed the checkpoint and when; it is
 * kept VERDICT_WITNESSED_MS (the cosignatures get fresher), or
 * VERDICT_QUORUM_RETRY_MS while the checkpoint lacks the quorum or the
 * bundle has pending statements (SPEC 9) the witnesses may yet cosign.
 * An entry also holds the witnessed size it was computed at and is not
 * used once a newer one covers statements it held as pending.
 *
 * The cache is a fixed table of VERDICT_SLOTS entries in sets of
 * VERDICT_WAYS, the set chosen by a keyed hash of the chain id (slothash.h,
 * so lots cannot be chosen to collide) and, within it, the entry of the
 * chain (a newer head replaces an older one), else an empty one, else the
 * one least recently used: two lots that share a set do not evict each
 * other.  One mutex, held only to copy an entry in or out.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/bundle.h"
#include "libtrace/tlogpolicy.h"
#include "log.h"
#include "pages.h"
#include "slothash.h"

#define VERDICT_SLOTS 4096
#define VERDICT_WAYS 4
#define VERDICT_RETRY_MS 250
#define VERDICT_QUORUM_RETRY_MS 2000
#define VERDICT_FAILED_MS 60000
#define VERDICT_WITNESSED_MS 60000

struct verdict_slot {
	bool used;
	char chain[CHAIN_ID_MAX + 1];
	char head[2 * SHA256_LEN + 1];
	size_t count;                      /* events up to head */
	long long expires_ms;              /* monotonic_ms(); 0: never */
	long long used_ms;                 /* monotonic_ms() of the last use */
	long long pending_from;            /* witnessed size when computed */
	struct verdict v;                  /* event_ok owned by the slot */
};

static struct verdict_slot *slots;
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ullong computed;

void
verdict_clear(struct verdict *v)
{
	if (v == NULL)
		return;
	free(v->event_ok);
	memset(v, 0, sizeof(*v));
}

/* Copy text, cut to size (messages may be long; a cut is fine here). */
static void
copy_text(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Keyed (slothash.h): with a public hash, two lots whose ids collide
 * could be viewed in turn so that each evicts the other and every view
 * checks a signature per statement. */
static struct verdict_slot *
set_of(const char *chain)
{
	return &slots[(slot_hash(chain, NULL) % (VERDICT_SLOTS / VERDICT_WAYS)) *
	    VERDICT_WAYS];
}

/* Under slots_lock: chain's entry in its set, or NULL. */
static struct verdict_slot *
way_find(const char *chain)
{
	struct verdict_slot *set = set_of(chain);

	for (size_t i = 0; i < VERDICT_WAYS; i++)
		if (set[i].used && strcmp(set[i].chain, chain) == 0)
			return &set[i];
	return NULL;
}

/* Under slots_lock: where chain's verdict goes: its entry, an empty one,
 * else the least recently used of its set. */
static struct verdict_slot *
way_take(const char *chain)
{
	struct verdict_slot *set = set_of(chain), *s = way_find(chain);

	for (size_t i = 0; s == NULL && i < VERDICT_WAYS; i++)
		if (!set[i].used)
			s = &set[i];
	for (size_t i = 0; s == NULL && i < VERDICT_WAYS; i++)
		if (i == 0 || set[i].used_ms < s->used_ms)
			s = &set[i];
	if (s == NULL)
		s = &set[0];
	return s;
}

/* Copy src into dst, with event_ok only if wanted (dst owns it). */
static void
verdict_copy(struct verdict *dst, const struct verdict *src, bool events)
{
	*dst = *src;
	dst->event_ok = NULL;
	dst->event_count = 0;
	if (events && src->event_ok != NULL &&
	    (dst->event_ok = malloc(src->event_count)) != NULL) {
		memcpy(dst->event_ok, src->event_ok, src->event_count);
		dst->event_count = src->event_count;
	}
}

/*
 * A verdict computed when the published witnessed size was s->pending_from
 * still holds at pending_from if no statement of the view lies at or
 * above the smaller of the two (SPEC 9: otherwise its bundle now has
 * fewer pending statements, or more).
 */
static bool
same_witnessing(const struct verdict_slot *s, const struct chain_view *view,
    long long pending_from)
{
	long long below = s->pending_from < pending_from ? s->pending_from :
	    pending_from;

	return s->pending_from == pending_from ||
	    view->items[view->count - 1].rec->log_index < below;
}

static bool
cache_lookup(const struct chain_view *view, const char *head, bool events,
    long long pending_from, struct verdict *out)
{
	struct verdict_slot *s;
	bool hit = false;

	pthread_mutex_lock(&slots_lock);
	if (slots != NULL && (s = way_find(view->chain)) != NULL &&
	    strcmp(s->head, head) == 0 && s->count == view->count &&
	    same_witnessing(s, view, pending_from) &&
	    (s->expires_ms == 0 || monotonic_ms() < s->expires_ms)) {
		verdict_copy(out, &s->v, events);
		s->used_ms = monotonic_ms();
		hit = true;
	}
	pthread_mutex_unlock(&slots_lock);
	return hit;
}

static void
cache_store(const struct chain_view *view, const char *head,
    long long pending_from, const struct verdict *v, long long ttl_ms)
{
	struct verdict_slot *s;

	pthread_mutex_lock(&slots_lock);
	if (slots == NULL)
		slots = calloc(VERDICT_SLOTS, sizeof(*slots));
	if (slots != NULL) {
		s = way_take(view->chain);
		verdict_clear(&s->v);
		s->used_ms = monotonic_ms();
		s->used = true;
		copy_text(s->chain, sizeof(s->chain), view->chain);
		copy_text(s->head, sizeof(s->head), head);
		s->count = view->count;
		s->pending_from = pending_from;
		s->expires_ms = ttl_ms > 0 ? monotonic_ms() + ttl_ms : 0;
		verdict_copy(&s->v, v, true);
	}
	pthread_mutex_unlock(&slots_lock);
}

/* Who witnessed the bundle's checkpoint, if it meets the policy. */
static void
witnesses_check(const struct server *srv, const struct bundle *b,
    struct verdict *v)
{
	const struct tlog_policy *policy = srv->witness_policy;
	struct tlog_policy_result res;
	size_t at = 0;

	v->witnessed = false;
	if (b->checkpoint == NULL || tlog_policy_verify(policy, b->checkpoint,
	    b->checkpoint_len, &res, NULL) != TRACE_OK || !res.quorum)
		return;
	v->witnessed = true;
	v->witnessed_at = 0;
	for (size_t i = 0; i < policy->witness_count; i++) {
		int n;

		if (!res.witnessed[i])
			continue;
		n = snprintf(v->witnesses + at, sizeof(v->witnesses) - at,
		    "%s%s", at > 0 ? ", " : "", witness_display_name(srv, i));
		if (n > 0 && (size_t)n < sizeof(v->witnesses) - at)
			at += (size_t)n;
		else
			v->witnesses[at] = '\0';  /* whole names only */
		if (v->witnessed_at == 0 ||
		    (long long)res.timestamps[i] < v->witnessed_at)
			v->witnessed_at = (long long)res.timestamps[i];
	}
}

static void
set_reason(struct verdict *v, enum verdict_state state, const char *code,
    const char *message)
{
	v->state = state;
	copy_text(v->code, sizeof(v->code), code);
	copy_text(v->reason, sizeof(v->reason), message);
}

/* Build and verify the bundle; returns how long the result may be kept
 * (0 = for good, -1 = not at all). */
static long long
compute(struct request *req, const struct chain_view *view,
    struct verdict *v)
{
	struct server *srv = req->srv;
	struct note_verifier log_key;
	struct bundle_report report;
	struct bundle *bundle = NULL;
	struct trace_error err;
	struct buf text;
	long long ttl = VERDICT_RETRY_MS;
	enum trace_status rc;

	memset(&report, 0, sizeof(report));
	buf_init(&text, 0);
	/* A page view never waits for the integrator (a lagging one would
	 * park every view of a new head in its worker for up to
	 * LOG_BUNDLE_WAIT_MS): not yet covered is "pending", kept
	 * VERDICT_RETRY_MS. */
	req->bundle_no_wait = true;
	rc = chain_bundle_build(req, view->chain, &text, &err);
	req->bundle_no_wait = false;
	if (rc != TRACE_OK) {
		set_reason(v, strcmp(err.code, "not_yet_logged") == 0 ?
		    VERDICT_PENDING : VERDICT_UNVERIFIABLE, err.code[0] ?
		    err.code : trace_status_name(err.status), err.message);
		goto out;
	}
	if (note_verifier_from_public(srv->cfg.log_origin,
	    srv->log_key.public_key, &log_key, &err) != TRACE_OK ||
	    bundle_parse(text.data, text.len, &bundle, &err) != TRACE_OK) {
		set_reason(v, VERDICT_UNVERIFIABLE, "bad_bundle", err.message);
		goto out;
	}
	if (bundle_verify(bundle, srv->root.entry.public_key, &log_key,
	    &report, &err) == TRACE_ENOMEM) {
		set_reason(v, VERDICT_UNVERIFIABLE, "internal", "out of memory");
		goto out;
	}
	v->checkpoint_size = report.checkpoint.size;
	v->signatures = report.signatures;
	v->proofs = report.proofs;
	if ((v->event_ok = calloc(view->count, 1)) != NULL)
		v->event_count = view->count;
	/* The bundle was read after the page's records: it may be longer if
	 * an event arrived in between, never different in the part shown. */
	if (report.event_count < view->count) {
		set_reason(v, VERDICT_UNVERIFIABLE, "chain_changed",
		    "the chain changed while it was checked");
		ttl = -1;
		goto out;
	}
	for (size_t i = 0; i < view->count; i++) {
		if (strcmp(report.events[i].id, view->items[i].rec->id) != 0) {
			set_reason(v, VERDICT_UNVERIFIABLE, "chain_changed",
			    "the chain changed while it was checked");
			ttl = -1;
			goto out;
		}
		if (v->event_ok != NULL)
			v->event_ok[i] = report.events[i].ok;
	}
	if (report.failure_count > 0) {
		const struct bundle_failure *f = &report.failures[0];
		char message[TRACE_ERROR_MESSAGE_MAX + 64];

		if (f->subject == BUNDLE_SUBJECT_EVENT && f->seq >= 0)
			snprintf(message, sizeof(message), "event seq %lld: %s",
			    f->seq, f->message);
		else
			snprintf(message, sizeof(message), "%s: %s",
			    bundle_subject_name(f->subject), f->message);
		set_reason(v, VERDICT_UNVERIFIABLE, f->code, message);
		ttl = VERDICT_FAILED_MS;
		goto out;
	}
	v->state = VERDICT_GENUINE;
	if (report.completeness == BUNDLE_COMPLETE)
		v->complete_size = report.index_size;
	ttl = report.event_count == view->count ? 0 : -1;
	if (srv->witness_policy != NULL) {
		witnesses_check(srv, bundle, v);
		if (ttl == 0)
			ttl = v->witnessed && !report.pending ?
			    VERDICT_WITNESSED_MS : VERDICT_QUORUM_RETRY_MS;
	}
out:
	bundle_report_free(&report);
	bundle_free(bundle);
	buf_free(&text);
	return ttl;
}

void
verdict_get(struct request *req, const struct chain_view *view,
    bool with_events, struct verdict *out)
{
	const char *head;
	struct verdict v;
	long long ttl, pending_from = witness_pending_from(req);

	memset(out, 0, sizeof(*out));
	if (view->count == 0) {
		set_reason(out, VERDICT_UNVERIFIABLE, "no_events", "no events");
		return;
	}
	head = view->items[view->count - 1].rec->id;
	if (cache_lookup(view, head, with_events, pending_from, out))
		return;
	memset(&v, 0, sizeof(v));
	atomic_fetch_add(&computed, 1);
	ttl = compute(req, view, &v);
	if (ttl >= 0)
		cache_store(view, head, pending_from, &v, ttl);
	verdict_copy(out, &v, with_events);
	verdict_clear(&v);
}

void
verdict_metrics_render(struct buf *out)
{
	buf_printf(out, "# HELP trace_verdicts_computed_total Verdicts "
	    "computed (a bundle built and checked) for pages.\n# TYPE "
	    "trace_verdicts_computed_total counter\n"
	    "trace_verdicts_computed_total %llu\n", atomic_load(&computed));
}
