/*
 * chainview.c - a chain as the pages see it: its records read in ONE round
 * trip (store_page_read(): the chain and, for a unit with a serial, its
 * scan counter in the same step), parsed,
 * and summarised into what a consumer asks: which product, inspected by
 * whom, where it went, whether customs released it, whether it is
 * recalled.
 *
 * Parsing is done once per chain head: the parsed records are shared by
 * every view of that head (a small table of refcounted entries), and the
 * store sends the records again only when the chain has grown.
 *
 * Events were validated when they were accepted; a stored event that does
 * not parse is store corruption (503), not something to render around.
 * They are read as stored data (event_parse_stored): a log written by
 * round 1 still reads.
 *
 * What the chain adds up to is libtrace's fold (fold.h, SPEC 8 "One
 * fold"), run once per head and cached with the parsed records: which
 * events a correction withdrew (still listed, marked, out of the
 * summary), which recalls are open, the inspection and customs status,
 * and which statements were judged by round-1 rules.  The pages, the
 * resolver JSON and the chain JSON all read it from here.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libtrace/dsse.h"
#include "libtrace/timefmt.h"
#include "log.h"
#include "pages.h"
#include "scancount.h"
#include "slothash.h"

/*
 * A chain's records, parsed: shared by every view of the same head and
 * kept in a small table (one entry per hash slot of the chain id), so a
 * page view of a known head costs no parsing and no transfer of the
 * records.  Immutable once built; refs counts the table's reference and
 * every view's, under data_lock.
 */
struct chain_data {
	char chain[CHAIN_ID_MAX + 1];
	struct store_records recs;         /* owns the envelope text */
	struct chain_item *items;
	size_t count;
	struct fold_result fold;           /* of items, computed once */
	long long pending_from;            /* the witnessed size it was folded
	                                    * against (witness_pending_from) */
	int refs;
	/* When the store last said this is the head (monotonic_ms(), under
	 * data_lock; 0: ask again).  A unit page of a head checked within
	 * PAGE_CACHE_MS skips the store (scancount.c counts its scan). */
	long long checked_ms;
	unsigned long generation;          /* data_generation when built */
	long long built_ms;                /* monotonic_ms() when built */
	/* When a worker set out to confirm the head, or to read and fold
	 * the chain again (0: none; data_lookup). */
	long long check_claimed_ms, refold_claimed_ms;
};

#define DATA_SLOTS 1024

/* Bumped when the registry changes what a fold of an unchanged chain
 * says (a revoke with compromisedAt, SPEC 8): older data is folded again.
 * Such a revoke sent through another instance reaches this one's views
 * by age: data older than DATA_REFOLD_MS is read and folded again. */
static _Atomic unsigned long data_generation;
#define DATA_REFOLD_MS 10000

static struct chain_data *data_slots[DATA_SLOTS];
static pthread_mutex_t data_lock = PTHREAD_MUTEX_INITIALIZER;

static void
data_free(struct chain_data *d)
{
	for (size_t i = 0; i < d->count; i++)
		event_free(&d->items[i].ev);
	free(d->items);
	fold_result_clear(&d->fold);
	store_records_clear(&d->recs);
	free(d);
}

static void
data_release(struct chain_data *d)
{
	bool last;

	if (d == NULL)
		return;
	pthread_mutex_lock(&data_lock);
	last = --d->refs == 0;
	pthread_mutex_unlock(&data_lock);
	if (last)
		data_free(d);
}

static size_t
data_slot(const char *chain)
{
	return (size_t)(slot_hash(chain, NULL) % DATA_SLOTS);
}

/*
 * Would d fold the same against pending_from as against the witnessed
 * size it was folded for?  Only if no statement of d lies at or above the
 * smaller of the two: a chain whose statements are all witnessed either
 * way keeps its fold when the witnesses cosign newer trees.
 */
static bool
data_current(const struct chain_data *d, long long pending_from)
{
	long long below = d->pending_from < pending_from ? d->pending_from :
	    pending_from;

	return d->pending_from == pending_from || d->count == 0 ||
	    d->items[d->count - 1].rec->log_index < below;
}

/*
 * Is an age (ms) within limit, or within PAGE_CACHE_STALE_MS past it while
 * another worker renews what aged (its claim younger than
 * PAGE_CACHE_CLAIM_MS)?  Past the limit with no such claim, the caller
 * claims the renewal and is told no.  So one worker, not all of them at
 * once, goes to the store when a busy lot's data ages (pages.h).
 */
static bool
data_young(long long age, long long limit, long long *claimed, long long now)
{
	if (age < limit)
		return true;
	if (age < limit + PAGE_CACHE_STALE_MS && *claimed != 0 &&
	    now - *claimed < PAGE_CACHE_CLAIM_MS)
		return true;
	*claimed = now;
	return false;
}

/* The cached data of chain with a reference for the caller, or NULL (also
 * when it was folded for another witnessed size: data_current); *fresh
 * says whether the store confirmed its head within PAGE_CACHE_MS (or one
 * worker is confirming it again: data_young). */
static struct chain_data *
data_lookup(const char *chain, long long pending_from, bool *fresh)
{
	struct chain_data *d;
	long long now = monotonic_ms();

	*fresh = false;
	pthread_mutex_lock(&data_lock);
	d = data_slots[data_slot(chain)];
	if (d != NULL && strcmp(d->chain, chain) == 0 &&
	    d->generation == data_generation &&
	    data_current(d, pending_from) &&
	    data_young(now - d->built_ms, DATA_REFOLD_MS,
	    &d->refold_claimed_ms, now)) {
		d->refs++;
		*fresh = d->checked_ms != 0 && data_young(now - d->checked_ms,
		    PAGE_CACHE_MS, &d->check_claimed_ms, now);
	} else {
		d = NULL;
	}
	pthread_mutex_unlock(&data_lock);
	return d;
}

/* The store just said d's head is the chain's head. */
static void
data_checked(struct chain_data *d)
{
	pthread_mutex_lock(&data_lock);
	d->checked_ms = monotonic_ms();
	d->check_claimed_ms = 0;
	pthread_mutex_unlock(&data_lock);
}

void
chain_view_forget_all(void)
{
	data_generation++;
	pagecache_forget_stale();
}

void
chain_view_forget(const char *chain)
{
	struct chain_data *d;

	pthread_mutex_lock(&data_lock);
	d = data_slots[data_slot(chain)];
	if (d != NULL && strcmp(d->chain, chain) == 0)
		d->checked_ms = 0;
	pthread_mutex_unlock(&data_lock);
	pagecache_forget(chain);
}

/* Put d in the table (it gains the table's reference). */
static void
data_publish(struct chain_data *d)
{
	struct chain_data *old;
	size_t slot = data_slot(d->chain);

	pthread_mutex_lock(&data_lock);
	old = data_slots[slot];
	/* Keep a longer head another worker published meanwhile, or the
	 * same head folded as recently and against a witnessed size as new. */
	if (old != NULL && strcmp(old->chain, d->chain) == 0 &&
	    (old->count > d->count || (old->count == d->count &&
	    old->generation == d->generation &&
	    old->built_ms >= d->built_ms &&
	    old->pending_from >= d->pending_from))) {
		pthread_mutex_unlock(&data_lock);
		return;
	}
	d->refs++;
	data_slots[slot] = d;
	if (old != NULL && --old->refs == 0) {
		pthread_mutex_unlock(&data_lock);
		data_free(old);
		return;
	}
	pthread_mutex_unlock(&data_lock);
}

void
chain_view_free(struct chain_view *view)
{
	if (view == NULL)
		return;
	data_release(view->data);
	memset(view, 0, sizeof(*view));
}

enum trace_status
chain_fold(struct request *req, struct fold_statement *st, size_t count,
    struct fold_result *out, struct trace_error *err)
{
	char (*orgs)[KEY_TEXT_MAX + 1] = calloc(count + 1, sizeof(*orgs));
	long long pending_from = witness_pending_from(req);
	struct fold_options opts;
	enum trace_status rc;

	memset(out, 0, sizeof(*out));
	/* SPEC 9: the bundle's rule (fold.h), so no view shows the lot safer
	 * than a verifier of its bundle would. */
	for (size_t i = 0; i < count; i++)
		st[i].pending = st[i].log_index >= pending_from;
	if (orgs == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	/* SPEC 8 "Data from round 1": round-1 rules only before the first
	 * index statement, as a bundle's verifier reads them. */
	if ((rc = log_index_round1_before(req->worker->store,
	    &opts.round1_before, err)) == TRACE_OK &&
	    (rc = key_cache_signers(req->srv, req->worker->store, st, count,
	    orgs, err)) == TRACE_OK)
		rc = fold_run(st, count, &opts, out, err);
	for (size_t i = 0; i < count; i++)
		st[i].signer_org = NULL;
	free(orgs);
	return rc;
}

/*
 * Fold d's items (chain_fold) and mark on each item what the fold says of
 * it.  Runs once per head.  The signers' entries come from the key cache,
 * so a page view stays one round trip.
 */
static enum trace_status
data_fold(struct request *req, struct chain_data *d, struct trace_error *err)
{
	struct fold_statement *st = calloc(d->count + 1, sizeof(*st));
	enum trace_status rc;

	if (st == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	for (size_t i = 0; i < d->count; i++)
		st[i] = (struct fold_statement){ .ev = &d->items[i].ev,
			.id = d->items[i].rec->id,
			.log_index = d->items[i].rec->log_index };
	d->pending_from = witness_pending_from(req);
	if ((rc = chain_fold(req, st, d->count, &d->fold, err)) != TRACE_OK)
		goto out;
	for (size_t i = 0; i < d->count; i++) {
		const struct fold_statement_state *f = &d->fold.statements[i];
		struct chain_item *it = &d->items[i];

		it->corrected_by = f->withdrawn_by != FOLD_NONE ?
		    &d->items[f->withdrawn_by] : NULL;
		it->round1 = f->round1;
		it->ignored = f->ignored;
		it->compromised = f->compromised;
		it->pending = f->pending;
	}
out:
	free(st);
	return rc;
}

/* Parse records (which d takes: *records is zeroed) into new data. */
static enum trace_status
data_build(struct request *req, const char *chain,
    struct store_records *records, struct chain_data **out,
    struct trace_error *err)
{
	struct chain_data *d;
	enum trace_status rc = TRACE_OK;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		store_records_clear(records);
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	}
	d->refs = 1;
	snprintf(d->chain, sizeof(d->chain), "%s", chain);
	d->generation = data_generation;
	d->built_ms = monotonic_ms();
	d->recs = *records;
	memset(records, 0, sizeof(*records));
	if ((d->items = calloc(d->recs.count + 1, sizeof(*d->items))) == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	for (size_t i = 0; i < d->recs.count; i++) {
		struct chain_item *it = &d->items[i];

		it->rec = &d->recs.items[i];
		if ((rc = statement_read_event(it->rec, NULL, &it->ev, err)) !=
		    TRACE_OK)
			goto out;
		d->count++;
	}
	rc = data_fold(req, d, err);
out:
	if (rc != TRACE_OK)
		data_free(d);
	else
		*out = d;
	return rc;
}

/*
 * Read the chain, telling the store the head we have parsed, if any; sets
 * view->data (NULL for an unknown chain) and the scan fields.
 */
static enum trace_status
read_chain(struct request *req, struct chain_view *view, bool count_scan,
    struct trace_error *err)
{
	bool recent;
	struct chain_data *known = data_lookup(view->chain,
	    witness_pending_from(req), &recent), *fresh = NULL;
	const char *serial = view->link.serial;
	long long now = time_now();
	/* The scan is counted by scancount.c, after the answer. */
	const struct chain_page_args args = {
		.chain = view->chain, .serial = serial,
		.known_count = known != NULL ? known->count : 0,
		.known_head = known != NULL ?
		    known->items[known->count - 1].rec->id : "",
		.serials_max = SCANS_SERIALS_MAX,
	};
	struct chain_page page;
	enum trace_status rc = TRACE_OK;

	/*
	 * A unit page (what a QR opens, the hot path) of a head the store
	 * confirmed within PAGE_CACHE_MS, the lot page cache's age: no round
	 * trip at all.  A statement appended through this process forgets
	 * the confirmation at once (chain_view_forget); one appended through
	 * another shows within PAGE_CACHE_MS, as on lot pages.
	 */
	if (serial[0] != '\0' && known != NULL && recent) {
		view->data = known;
		known = NULL;
		goto scans;
	}
	if ((rc = store_page_read(req->worker->store, &args, &page, err)) !=
	    TRACE_OK)
		goto out;
	if (serial[0] != '\0' && page.status != CHAIN_PAGE_NONE)
		scan_count_note(view->chain, serial, page.scans_known,
		    page.scans, page.first_scan);
	if (page.status == CHAIN_PAGE_SAME && known != NULL) {
		data_checked(known);
		view->data = known;
		known = NULL;
	} else if (page.records.count > 0) {
		if ((rc = data_build(req, view->chain, &page.records, &fresh,
		    err)) == TRACE_OK) {
			data_checked(fresh);
			data_publish(fresh);
			view->data = fresh;
		}
	}
	chain_page_clear(&page);
scans:
	if (rc == TRACE_OK && view->data != NULL && serial[0] != '\0')
		view->scans_known = scan_count_view(view->chain, serial, now,
		    count_scan, &view->scans, &view->first_scan);
out:
	data_release(known);
	return rc;
}

/* The summary of view from the fold: an item per role the pages show. */
static void
summarise(struct chain_view *view)
{
	const struct fold_result *f = view->fold;
	struct fold_serial_status s;

#define ITEM(i) ((i) != FOLD_NONE ? &view->items[(i)] : NULL)
	view->product = ITEM(f->registration);
	view->sampled = ITEM(f->sampling);
	view->inspected = ITEM(f->inspection_deciding);
	view->declared = ITEM(f->declaration);
	view->released = ITEM(f->release);
	fold_serial_status(f, view->link.serial, &s);
	if (s.recall != FOLD_NONE) {
		view->recall_state = RECALL_OPEN;
		view->recall = ITEM(f->recalls[s.recall].statement);
	} else if (s.other != FOLD_NONE) {
		view->recall_state = view->link.serial[0] != '\0' ?
		    RECALL_OPEN_OTHER : RECALL_OPEN_PARTIAL;
		view->recall = ITEM(f->recalls[s.other].statement);
	} else if (s.closed != FOLD_NONE) {
		view->recall_state = RECALL_CLOSED;
		view->recall = ITEM(f->recalls[s.closed].statement);
		view->recall_closed = ITEM(f->recalls[s.closed].closed_by);
	}
#undef ITEM
	/* An open recall whose close awaits the witnesses: said so. */
	for (size_t i = 0; view->recall != NULL &&
	    view->recall_state != RECALL_CLOSED && i < view->count; i++) {
		const struct chain_item *it = &view->items[i];
		const char *target = chain_item_data(it, "recall");

		if (it->ev.type == EVENT_RECALL_CLOSED &&
		    chain_item_awaits_witnesses(it) && target != NULL &&
		    strcmp(target, view->recall->rec->id) == 0)
			view->recall_closing = it;
	}
}

bool
chain_item_awaits_witnesses(const struct chain_item *item)
{
	const char *result;

	if (!item->pending)
		return false;
	if (item->ignored)
		return true;
	/* A pass is left out of the status without being ignored (fold.c). */
	result = item->ev.type == EVENT_INSPECTION_COMPLETED ?
	    chain_item_data(item, "result") : NULL;
	return result != NULL && strcmp(result, "pass") == 0;
}

enum trace_status
chain_view_load(struct request *req, const struct gs1_link *link,
    bool count_scan, struct chain_view *view, struct trace_error *err)
{
	enum trace_status rc;

	memset(view, 0, sizeof(*view));
	view->link = *link;
	gs1_chain_id(link->gtin, link->lot, view->chain, sizeof(view->chain));
	if ((rc = read_chain(req, view, count_scan, err)) != TRACE_OK)
		goto fail;
	if (view->data == NULL) {
		rc = trace_error_set(err, TRACE_ENOTFOUND, "not_found", "lot",
		    "no record of lot %s of GTIN %s", link->lot, link->gtin);
		goto fail;
	}
	view->items = view->data->items;
	view->count = view->data->count;
	view->fold = &view->data->fold;
	summarise(view);
	return TRACE_OK;
fail:
	chain_view_free(view);
	return rc;
}

const char *
chain_view_name(const struct chain_view *view, enum page_lang lang,
    size_t *len)
{
	static const char *const order[LANG_COUNT][6] = {
		{ "zh-CN", "zh", "zh-Hans", "en", "ko", NULL },
		{ "en", "en-US", "en-GB", "zh-CN", "zh", "ko" },
		{ "ko", "ko-KR", "en", "zh-CN", "zh", NULL },
	};
	const struct json_value *name;

	if (view->product == NULL ||
	    (name = json_object_get(view->product->ev.data, "name")) == NULL ||
	    name->type != JSON_OBJECT)
		return NULL;
	for (int i = 0; i < 6 && order[lang][i] != NULL; i++) {
		const struct json_value *v = json_object_get(name, order[lang][i]);

		if (v != NULL && v->type == JSON_STRING && v->u.string.len > 0) {
			*len = v->u.string.len;
			return v->u.string.ptr;
		}
	}
	for (size_t i = 0; i < name->u.object.count; i++) {
		const struct json_value *v = name->u.object.members[i].value;

		if (v->type == JSON_STRING && v->u.string.len > 0) {
			*len = v->u.string.len;
			return v->u.string.ptr;
		}
	}
	return NULL;
}

const char *
chain_item_data(const struct chain_item *item, const char *key)
{
	return item != NULL ? event_data_string(&item->ev, key) : NULL;
}

bool
chain_item_int(const struct chain_item *item, const char *key,
    long long *value)
{
	const struct json_value *v;

	if (item == NULL || (v = json_object_get(item->ev.data, key)) == NULL ||
	    v->type != JSON_INT)
		return false;
	*value = v->u.integer;
	return true;
}

const char *
chain_item_where(const struct chain_item *item, const char *key)
{
	const struct json_value *v;

	if (item == NULL || item->ev.where == NULL ||
	    (v = json_object_get(item->ev.where, key)) == NULL ||
	    v->type != JSON_STRING)
		return NULL;
	return v->u.string.ptr;
}

void
chain_item_time(const struct chain_item *item, char *out, size_t size)
{
	time_t local = (time_t)(item->ev.time + item->ev.offset_min * 60LL);
	int off = item->ev.offset_min < 0 ? -item->ev.offset_min :
	    item->ev.offset_min;
	struct tm tm;

	gmtime_r(&local, &tm);
	snprintf(out, size, "%04d-%02d-%02d %02d:%02d (UTC%c%02d:%02d)",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, item->ev.offset_min < 0 ? '-' : '+', off / 60, off % 60);
}

void
chain_recall_ranges(const struct chain_item *recall, struct buf *out)
{
	const struct json_value *ranges;

	if (recall == NULL ||
	    (ranges = json_object_get(recall->ev.data, "serials")) == NULL)
		return;
	for (size_t i = 0; i < ranges->u.array.count; i++) {
		const struct json_value *r = ranges->u.array.items[i];
		const struct json_value *from = r->u.array.items[0];
		const struct json_value *to = r->u.array.items[1];

		if (i > 0)
			buf_puts(out, ", ");
		buf_append(out, from->u.string.ptr, from->u.string.len);
		if (strcmp(from->u.string.ptr, to->u.string.ptr) != 0) {
			buf_puts(out, "\xe2\x80\x93");
			buf_append(out, to->u.string.ptr, to->u.string.len);
		}
	}
}

/* "<id>" of statement i, or null. */
static void
write_ref(struct buf *b, const struct chain_view *view, size_t i)
{
	if (i == FOLD_NONE || i >= view->count)
		buf_puts(b, "null");
	else
		buf_printf(b, "\"%s\"", view->items[i].rec->id);
}

void
chain_view_write_status(struct buf *b, const struct chain_view *view)
{
	const struct fold_result *f = view->fold;

	buf_printf(b, ",\"status\":{\"recall\":{\"status\":\"%s\","
	    "\"open\":%zu,\"total\":%zu,\"items\":[",
	    f->recall_count == 0 ? "none" : f->open_recalls > 0 ? "open" :
	    "closed", f->open_recalls, f->recall_count);
	for (size_t k = 0; k < f->recall_count; k++) {
		const struct fold_recall *rc = &f->recalls[k];

		buf_printf(b, "%s{\"id\":\"%s\",\"status\":\"%s\","
		    "\"severity\":%lld,\"serials\":", k > 0 ? "," : "", rc->id,
		    rc->open ? "open" : "closed", rc->severity);
		if (rc->ranges == NULL)
			buf_puts(b, "null");
		else {
			buf_puts(b, "[");
			for (size_t i = 0; i < rc->range_count; i++) {
				buf_puts(b, i > 0 ? ",[" : "[");
				buf_json_string(b, rc->ranges[i].from,
				    strlen(rc->ranges[i].from));
				buf_puts(b, ",");
				buf_json_string(b, rc->ranges[i].to,
				    strlen(rc->ranges[i].to));
				buf_puts(b, "]");
			}
			buf_puts(b, "]");
		}
		buf_printf(b, ",\"issuerRole\":\"%s\",\"issuerOrg\":",
		    rc->issuer_role < ROLE_COUNT ?
		    key_role_name(rc->issuer_role) : "unknown");
		buf_json_string(b, rc->issuer_org, strlen(rc->issuer_org));
		buf_puts(b, ",\"closedBy\":");
		write_ref(b, view, rc->closed_by);
		if (rc->closed_round1)
			buf_puts(b, ",\"round1\":true");
		buf_puts(b, "}");
	}
	buf_printf(b, "]},\"inspection\":{\"status\":\"%s\",\"deciding\":",
	    fold_inspection_name(f->inspection));
	write_ref(b, view, f->inspection_deciding);
	buf_puts(b, ",\"items\":[");
	for (size_t k = 0; k < f->inspection_count; k++) {
		const struct fold_inspection *in = &f->inspections[k];

		buf_puts(b, k > 0 ? ",{\"id\":" : "{\"id\":");
		write_ref(b, view, in->statement);
		buf_printf(b, ",\"result\":\"%s\",\"withdrawnBy\":",
		    in->pass ? "pass" : "fail");
		write_ref(b, view, f->statements[in->statement].withdrawn_by);
		buf_puts(b, "}");
	}
	buf_printf(b, "]},\"customs\":{\"status\":\"%s\",\"declaration\":",
	    fold_customs_name(f->customs));
	write_ref(b, view, f->declaration);
	buf_puts(b, ",\"release\":");
	write_ref(b, view, f->release);
	buf_printf(b, "},\"round1\":%zu,\"compromised\":%zu,\"pending\":[",
	    f->round1, f->compromised);
	/* SPEC 9: statements logged after the witnessed checkpoint. */
	for (size_t i = 0, n = 0; i < view->count; i++) {
		if (!view->items[i].pending)
			continue;
		buf_puts(b, n++ > 0 ? ",{\"id\":" : "{\"id\":");
		write_ref(b, view, i);
		buf_printf(b, ",\"type\":\"%s\",\"awaitingWitnesses\":%s}",
		    event_type_name(view->items[i].ev.type),
		    chain_item_awaits_witnesses(&view->items[i]) ? "true" :
		    "false");
	}
	buf_puts(b, "]}");
}

void
chain_item_write_notes(struct buf *b, const struct chain_view *view,
    size_t i)
{
	const struct fold_statement_state *f = &view->fold->statements[i];

	if (f->withdrawn_by != FOLD_NONE) {
		buf_puts(b, ",\"withdrawnBy\":");
		write_ref(b, view, f->withdrawn_by);
	}
	/* SPEC 8 "Data from round 1": said so in every view. */
	if (f->round1)
		buf_puts(b, ",\"round1\":true,\"note\":\"judged by round-1 "
		    "rules\"");
	if (f->ignored)
		buf_puts(b, ",\"ignored\":true");
	/* SPEC 8 "Revocation and compromise": flagged in every view. */
	if (f->compromised)
		buf_puts(b, ",\"compromised\":true,\"flag\":\"signed with a "
		    "key reported compromised\"");
}
