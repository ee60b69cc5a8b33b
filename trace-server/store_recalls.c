/*
 * store_recalls.c - the recall indexes in Redis: the keys and arguments a
 * recall event's append adds (store.lua trace_append_recall updates the
 * indexes and the notice stream in the same atomic step as the chain),
 * the index members and the cursor made of them, the list query (which
 * index sets to walk, the ZRANGE BYLEX bounds of a time range and a
 * cursor, trace_recalls_list), and the notice stream recalls:stream read
 * for the SSE feed.
 *
 * Every index is a sorted set whose scores are all 0 and whose members are
 * "<issued>-<id>" (STORE_RECALL_MEMBER_LEN): the issue time as unix
 * seconds + RECALL_TIME_BIAS in 12 digits, so that the order of the
 * strings is the order in time for every RFC 3339 year, then the
 * recall.issued statement id.  Walked newest first with ZRANGE BYLEX REV,
 * a page's cursor is the last member it covered, so the next page starts
 * strictly after it: a recall that arrives meanwhile lands either before
 * the cursor (the walk has passed that point and never sees it) or after
 * it (the walk meets it once), and nothing is ever seen twice.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/keyentry.h"
#include "store_private.h"

#define RECALL_TIME_BIAS 100000000000LL
#define RECALL_SCAN_BUDGET 20000      /* index members looked at per page */
#define RECALL_INDEXES_MAX 4          /* index sets one query intersects */

/* "<12 digits>-<id>" of time t into out. */
static void
member_format(long long t, const char *id,
    char out[STORE_RECALL_MEMBER_LEN + 1])
{
	long long biased = t + RECALL_TIME_BIAS;

	if (biased < 0)
		biased = 0;
	if (biased > 999999999999LL)
		biased = 999999999999LL;
	snprintf(out, STORE_RECALL_MEMBER_LEN + 1, "%012lld-%s", biased, id);
}

bool
store_recall_cursor_valid(const char *s, size_t len)
{
	if (len != STORE_RECALL_MEMBER_LEN || s[12] != '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (i == 12)
			continue;
		if (i < 12 ? (s[i] < '0' || s[i] > '9') :
		    !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

/* ---- the append side ---------------------------------------------------- */

/*
 * KEYS 6-15 of trace_append_recall: recalls, recalls:closing, recalls:all,
 * the open and closed sets, the gtin, lot and org sets, the chain's set
 * and the stream.
 */
void
store_recall_append_keys(struct store_batch *b,
    const struct append_event_args *a)
{
	const struct append_recall_args *r = a->recall;

	store_batch_str(b, KEY_RECALLS);
	store_batch_str(b, KEY_RECALLS_CLOSING);
	store_batch_str(b, KEY_RECALLS_ALL);
	store_batch_str(b, KEY_RECALLS_OPEN);
	store_batch_str(b, KEY_RECALLS_CLOSED);
	store_batch_fmt(b, KEY_RECALLS_GTIN, r->gtin);
	store_batch_fmt(b, KEY_RECALLS_LOT, r->lot);
	store_batch_fmt(b, KEY_RECALLS_ORG, r->org);
	store_batch_fmt(b, KEY_CHAIN_RECALLS, a->chain);
	store_batch_str(b, KEY_RECALLS_STREAM);
}

/*
 * ARGV 8-11: 'issued' or 'closed', the member (of the recall issued, or
 * of the recall a close closes), the JSON's two parts.
 */
void
store_recall_append_args(struct store_batch *b,
    const struct append_event_args *a)
{
	const struct append_recall_args *r = a->recall;
	char member[STORE_RECALL_MEMBER_LEN + 1];

	assert(r->issued || r->closes != NULL);
	if (r->issued)
		member_format(r->time, a->id, member);
	else
		member_format(r->closes_issued, r->closes, member);
	store_batch_str(b, r->issued ? "issued" : "closed");
	store_batch_fmt(b, "%s", member);
	store_batch_arg(b, r->head, r->head_len);
	store_batch_arg(b, r->tail, r->tail_len);
}

/* ---- the list query ----------------------------------------------------- */

void
recall_page_clear(struct recall_page *p)
{
	if (p == NULL)
		return;
	free(p->rows);
	if (p->reply != NULL)
		freeReplyObject(p->reply);
	memset(p, 0, sizeof(*p));
}

/* Run trace_recalls_list on the given index keys. */
static enum trace_status
list_on(struct store *s, const char *const *index, size_t nindex,
    const char *upper, const char *lower, size_t limit,
    struct recall_page *out, struct trace_error *err)
{
	const char *argv[3 + 2 + RECALL_INDEXES_MAX + 4];
	char numkeys[8], lim[16], budget[16];
	int argc = 0;
	redisReply *r = NULL;
	const redisReply *items, *next;
	enum trace_status rc;

	assert(nindex >= 1 && nindex <= RECALL_INDEXES_MAX);
	memset(out, 0, sizeof(*out));
	snprintf(numkeys, sizeof(numkeys), "%zu", 2 + nindex);
	snprintf(lim, sizeof(lim), "%zu", limit);
	snprintf(budget, sizeof(budget), "%d", RECALL_SCAN_BUDGET);
	argv[argc++] = "FCALL";
	argv[argc++] = "trace_recalls_list";
	argv[argc++] = numkeys;
	argv[argc++] = KEY_RECALLS;
	argv[argc++] = KEY_RECALLS_CLOSING;
	for (size_t i = 0; i < nindex; i++)
		argv[argc++] = index[i];
	argv[argc++] = upper;
	argv[argc++] = lower;
	argv[argc++] = lim;
	argv[argc++] = budget;
	if ((rc = store_command(s, argc, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	/* {{recall JSON...}, next member or ''} */
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    (items = r->element[0])->type != REDIS_REPLY_ARRAY ||
	    (next = r->element[1])->type != REDIS_REPLY_STRING ||
	    (next->len != 0 && next->len != STORE_RECALL_MEMBER_LEN)) {
		freeReplyObject(r);
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "unexpected reply from the store");
	}
	out->reply = r;
	if ((out->rows = calloc(items->elements + 1, sizeof(*out->rows))) ==
	    NULL) {
		recall_page_clear(out);
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	}
	for (size_t i = 0; i < items->elements; i++) {
		const redisReply *e = items->element[i];

		if (e->type != REDIS_REPLY_STRING || e->len < 2 ||
		    e->str[0] != '{') {
			recall_page_clear(out);
			return trace_error_set(err, TRACE_ESTORE,
			    "store_corrupt", NULL, "a stored recall is malformed");
		}
		out->rows[out->count++] = (struct recall_row){ .json = e->str,
			.json_len = e->len };
	}
	memcpy(out->next, next->str, next->len);
	out->next[next->len] = '\0';
	return TRACE_OK;
}

enum trace_status
store_recalls_list(struct store *s, const struct recall_list_args *a,
    struct recall_page *out, struct trace_error *err)
{
	char k_gtin[32], k_lot[48], k_org[16 + KEY_TEXT_MAX],
	    k_chain[KEY_CHAIN_MAX], chain[CHAIN_ID_MAX + 1];
	char upper[STORE_RECALL_MEMBER_LEN + 8], lower[STORE_RECALL_MEMBER_LEN + 8];
	const char *index[RECALL_INDEXES_MAX];
	size_t n = 0;

	/* The smallest sets that together hold exactly the recalls asked
	 * for (the Function walks the smallest, checks the others). */
	if (a->chain[0] != '\0') {
		snprintf(k_chain, sizeof(k_chain), KEY_CHAIN_RECALLS, a->chain);
		index[n++] = k_chain;
	} else if (a->gtin[0] != '\0' && a->lot[0] != '\0') {
		/* The chain's own set holds exactly the recalls of gtin+lot. */
		gs1_chain_id(a->gtin, a->lot, chain, sizeof(chain));
		snprintf(k_chain, sizeof(k_chain), KEY_CHAIN_RECALLS, chain);
		index[n++] = k_chain;
	} else if (a->gtin[0] != '\0') {
		snprintf(k_gtin, sizeof(k_gtin), KEY_RECALLS_GTIN, a->gtin);
		index[n++] = k_gtin;
	} else if (a->lot[0] != '\0') {
		snprintf(k_lot, sizeof(k_lot), KEY_RECALLS_LOT, a->lot);
		index[n++] = k_lot;
	}
	if (a->org[0] != '\0') {
		snprintf(k_org, sizeof(k_org), KEY_RECALLS_ORG, a->org);
		index[n++] = k_org;
	}
	if (a->status == RECALL_OPEN_ONLY)
		index[n++] = KEY_RECALLS_OPEN;
	else if (a->status == RECALL_CLOSED_ONLY)
		index[n++] = KEY_RECALLS_CLOSED;
	if (n == 0)
		index[n++] = KEY_RECALLS_ALL;
	/* Bounds: the members of a time t are "<t>-<hex>", and '~' sorts
	 * after every hex digit. */
	snprintf(upper, sizeof(upper), "+");
	snprintf(lower, sizeof(lower), "-");
	if (a->has_until) {
		char m[STORE_RECALL_MEMBER_LEN + 1];

		member_format(a->until, "~", m);
		snprintf(upper, sizeof(upper), "(%s", m);
	}
	if (a->cursor[0] != '\0' && (!a->has_until ||
	    strcmp(a->cursor, upper + 1) < 0))
		snprintf(upper, sizeof(upper), "(%s", a->cursor);
	if (a->has_since) {
		char m[STORE_RECALL_MEMBER_LEN + 1];

		member_format(a->since, "", m);
		/* "<t>-" sorts before every "<t>-<hex>". */
		snprintf(lower, sizeof(lower), "[%s", m);
	}
	return list_on(s, index, n, upper, lower, a->limit, out, err);
}

/* ---- the notice stream -------------------------------------------------- */

void
recall_notices_clear(struct recall_notices *n)
{
	if (n == NULL)
		return;
	free(n->items);
	if (n->reply != NULL)
		freeReplyObject(n->reply);
	memset(n, 0, sizeof(*n));
}

enum trace_status
store_recall_stream_newest(struct store *s, char *out, size_t size,
    struct trace_error *err)
{
	const char *argv[] = { "XREVRANGE", KEY_RECALLS_STREAM, "+", "-",
		"COUNT", "1" };
	redisReply *r = NULL;
	enum trace_status rc = store_command(s, 6, argv, NULL, &r, err);

	if (rc != TRACE_OK)
		return rc;
	snprintf(out, size, "0-0");
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements == 2 &&
	    r->element[0]->element[0]->type == REDIS_REPLY_STRING &&
	    r->element[0]->element[0]->len < size)
		snprintf(out, size, "%s", r->element[0]->element[0]->str);
	freeReplyObject(r);
	return TRACE_OK;
}

/* A field of an entry's [field, value, ...] array, or NULL. */
static const redisReply *
entry_field(const redisReply *fields, const char *name)
{
	for (size_t i = 0; i + 1 < fields->elements; i += 2)
		if (fields->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(fields->element[i]->str, name) == 0 &&
		    fields->element[i + 1]->type == REDIS_REPLY_STRING)
			return fields->element[i + 1];
	return NULL;
}

enum trace_status
store_recall_stream_read(struct store *s, const char *after, size_t max,
    long block_ms, struct recall_notices *out, struct trace_error *err)
{
	char count[24], block[24];
	const char *argv[] = { "XREAD", "COUNT", count, "BLOCK", block,
		"STREAMS", KEY_RECALLS_STREAM, after };
	redisReply *r = NULL;
	const redisReply *entries;
	enum trace_status rc;

	memset(out, 0, sizeof(*out));
	snprintf(count, sizeof(count), "%zu", max);
	snprintf(block, sizeof(block), "%ld", block_ms);
	if ((rc = store_command(s, 8, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	out->reply = r;
	/* A nil reply: the wait ended without a notice. */
	out->timed_out = r->type != REDIS_REPLY_ARRAY;
	/* [[stream, [[id, [field, value, ...]], ...]]] */
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY ||
	    r->element[0]->elements != 2 ||
	    (entries = r->element[0]->element[1])->type != REDIS_REPLY_ARRAY ||
	    entries->elements == 0)
		return TRACE_OK;
	if ((out->items = calloc(entries->elements, sizeof(*out->items))) ==
	    NULL) {
		recall_notices_clear(out);
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	}
	for (size_t i = 0; i < entries->elements; i++) {
		const redisReply *e = entries->element[i], *event, *data;
		struct recall_notice *n = &out->items[out->count];

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING ||
		    e->element[0]->len > STORE_STREAM_ID_MAX ||
		    e->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		snprintf(n->id, sizeof(n->id), "%s", e->element[0]->str);
		event = entry_field(e->element[1], "event");
		data = entry_field(e->element[1], "data");
		if (event != NULL) {
			n->event = event->str;
			n->event_len = event->len;
		}
		if (data != NULL) {
			n->data = data->str;
			n->data_len = data->len;
		}
		out->count++;
	}
	return TRACE_OK;
}
