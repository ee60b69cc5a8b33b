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
 * Corrections (docs/PROTOCOL.md section 6.5) void the event they name: it is
 * still listed, marked, but no longer feeds the summary.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libtrace/dsse.h"
#include "libtrace/timefmt.h"
#include "pages.h"

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
	int refs;
};

#define DATA_SLOTS 1024

static struct chain_data *data_slots[DATA_SLOTS];
static pthread_mutex_t data_lock = PTHREAD_MUTEX_INITIALIZER;

static void
data_free(struct chain_data *d)
{
	for (size_t i = 0; i < d->count; i++)
		event_free(&d->items[i].ev);
	free(d->items);
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
	unsigned long long h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)chain; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)(h % DATA_SLOTS);
}

/* The cached data of chain with a reference for the caller, or NULL. */
static struct chain_data *
data_lookup(const char *chain)
{
	struct chain_data *d;

	pthread_mutex_lock(&data_lock);
	d = data_slots[data_slot(chain)];
	if (d != NULL && strcmp(d->chain, chain) == 0)
		d->refs++;
	else
		d = NULL;
	pthread_mutex_unlock(&data_lock);
	return d;
}

/* Put d in the table (it gains the table's reference). */
static void
data_publish(struct chain_data *d)
{
	struct chain_data *old;
	size_t slot = data_slot(d->chain);

	pthread_mutex_lock(&data_lock);
	old = data_slots[slot];
	/* Keep a longer head another worker published meanwhile. */
	if (old != NULL && strcmp(old->chain, d->chain) == 0 &&
	    old->count >= d->count) {
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

static void link_corrections(struct chain_data *d);

/* Parse records (which d takes: *records is zeroed) into new data. */
static enum trace_status
data_build(const char *chain, struct store_records *records,
    struct chain_data **out, struct trace_error *err)
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
	d->recs = *records;
	memset(records, 0, sizeof(*records));
	if ((d->items = calloc(d->recs.count + 1, sizeof(*d->items))) == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	for (size_t i = 0; i < d->recs.count; i++) {
		struct chain_item *it = &d->items[i];
		struct dsse_envelope env;

		it->rec = &d->recs.items[i];
		if (dsse_envelope_parse_stored(it->rec->envelope,
		    it->rec->envelope_len, &env, NULL) != TRACE_OK) {
			rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt",
			    NULL, "a stored event does not parse");
			goto out;
		}
		rc = event_parse(env.payload, env.payload_len, &it->ev, NULL);
		dsse_envelope_clear(&env);
		if (rc != TRACE_OK) {
			rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt",
			    NULL, "a stored event does not parse");
			goto out;
		}
		d->count++;
	}
	link_corrections(d);
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
	struct chain_data *known = data_lookup(view->chain), *fresh = NULL;
	const struct chain_page_args args = {
		.chain = view->chain, .serial = view->link.serial,
		.now = time_now(), .count_scan = count_scan,
		.known_count = known != NULL ? known->count : 0,
		.known_head = known != NULL ?
		    known->items[known->count - 1].rec->id : "",
		.serials_max = SCANS_SERIALS_MAX,
	};
	struct chain_page page;
	enum trace_status rc;

	if ((rc = store_page_read(req->worker->store, &args, &page, err)) !=
	    TRACE_OK)
		goto out;
	view->scans_known = page.scans_known;
	view->scans = page.scans;
	view->first_scan = page.first_scan;
	if (page.status == CHAIN_PAGE_SAME && known != NULL) {
		view->data = known;
		known = NULL;
	} else if (page.records.count > 0) {
		if ((rc = data_build(view->chain, &page.records, &fresh,
		    err)) == TRACE_OK) {
			data_publish(fresh);
			view->data = fresh;
		}
	}
	chain_page_clear(&page);
out:
	data_release(known);
	return rc;
}

static long long
severity_of(const struct chain_item *recall)
{
	long long s = 3;

	chain_item_int(recall, "severity", &s);
	return s;
}

/* Recalls after the last recall.closed are open (a closing statement
 * names no recall, so it ends every one before it). */
static void
summarise_recalls(struct chain_view *view)
{
	size_t open_from = 0;
	const struct chain_item *last_issued = NULL, *cover = NULL, *any = NULL;

	for (size_t i = 0; i < view->count; i++) {
		const struct chain_item *it = &view->items[i];

		if (it->corrected_by != NULL)
			continue;
		if (it->ev.type == EVENT_RECALL_ISSUED)
			last_issued = it;
		else if (it->ev.type == EVENT_RECALL_CLOSED) {
			open_from = i + 1;
			view->recall_closed = it;
		}
	}
	for (size_t i = open_from; i < view->count; i++) {
		const struct chain_item *it = &view->items[i];
		bool whole;

		if (it->corrected_by != NULL || it->ev.type != EVENT_RECALL_ISSUED)
			continue;
		whole = json_object_get(it->ev.data, "serials") == NULL;
		/* The most serious (severity 1) covering recall is shown. */
		if ((view->link.serial[0] != '\0' ?
		    event_recall_covers_serial(&it->ev, view->link.serial) :
		    whole) && (cover == NULL ||
		    severity_of(it) <= severity_of(cover)))
			cover = it;
		if (any == NULL || severity_of(it) <= severity_of(any))
			any = it;
	}
	if (cover != NULL) {
		view->recall_state = RECALL_OPEN;
		view->recall = cover;
	} else if (any != NULL) {
		view->recall_state = view->link.serial[0] != '\0' ?
		    RECALL_OPEN_OTHER : RECALL_OPEN_PARTIAL;
		view->recall = any;
	} else if (view->recall_closed != NULL) {
		view->recall_state = RECALL_CLOSED;
		view->recall = last_issued;
	}
}

/* Corrections void the event they name (an earlier one of the chain). */
static void
link_corrections(struct chain_data *d)
{
	for (size_t i = 0; i < d->count; i++) {
		struct chain_item *it = &d->items[i];
		const char *target;

		if (it->ev.type != EVENT_CORRECTION ||
		    (target = event_data_string(&it->ev, "corrects")) == NULL)
			continue;
		for (size_t j = 0; j < i; j++)
			if (strcmp(d->items[j].rec->id, target) == 0)
				d->items[j].corrected_by = it;
	}
}

static void
summarise(struct chain_view *view)
{
	for (size_t i = 0; i < view->count; i++) {
		const struct chain_item *it = &view->items[i];

		if (it->corrected_by != NULL)
			continue;
		switch (it->ev.type) {
		case EVENT_PRODUCT_REGISTERED: view->product = it; break;
		case EVENT_INSPECTION_SAMPLED: view->sampled = it; break;
		case EVENT_INSPECTION_COMPLETED: view->inspected = it; break;
		case EVENT_CUSTOMS_DECLARED: view->declared = it; break;
		case EVENT_CUSTOMS_RELEASED: view->released = it; break;
		default: break;
		}
	}
	summarise_recalls(view);
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
