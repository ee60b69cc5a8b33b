/*
 * store_recalls.c - the recall indexes in Redis: the keys and arguments a
 * recall event's append adds (store.lua trace_append_recall updates the
 * indexes and the notice stream in the same atomic step as the chain),
 * the list query (which index sets to walk, trace_recalls_list), the
 * upgrade of indexes an older server wrote, and the notice stream
 * recalls:stream read for the SSE feed.
 *
 * Every index is a sorted set whose scores are all 0 and whose members are
 * "<log index>-<id>": the log index of the recall.issued in 12 digits, so
 * that the order of the strings is log order, then its statement id.  Log
 * order is receipt time order (SPEC 8), so the Function turns a since /
 * until window into a range of log indexes with the index statements'
 * times (log:{log}:lx:times) and adds each recall's receipt time.  Walked
 * newest first with ZRANGE BYLEX REV, a page's cursor is the log index of
 * the last recall it covered, so the next page starts strictly below it: a
 * recall that arrives meanwhile gets a higher log index, which the walk
 * has passed, and nothing is ever seen twice or skipped.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/json.h"
#include "libtrace/keyentry.h"
#include "store_private.h"

#define RECALL_SCAN_BUDGET 20000      /* index members looked at per page */
#define RECALL_INDEXES_MAX 4          /* index sets one query intersects */

bool
store_recall_cursor_valid(const char *s, size_t len)
{
	if (len < 1 || len > STORE_RECALL_CURSOR_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* ---- the append side ---------------------------------------------------- */

/*
 * KEYS 6-16 of trace_append_recall: recalls, recalls:closing, recalls:all,
 * the open and closed sets, the gtin, lot and org sets, the chain's set,
 * the stream and the closes awaiting witnesses.
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
	store_batch_str(b, KEY_RECALLS_CLOSES_PENDING);
}

/*
 * ARGV 8-12: 'issued' or 'closed', "" or the id of the recall a close
 * closes (the Function finds its member from its log index), the JSON's
 * two parts, '1' with a witness policy (a close is announced when it is
 * witnessed).
 */
void
store_recall_append_args(struct store_batch *b,
    const struct append_event_args *a)
{
	const struct append_recall_args *r = a->recall;

	assert(r->issued || r->closes != NULL);
	store_batch_str(b, r->issued ? "issued" : "closed");
	store_batch_str(b, r->issued ? "" : r->closes);
	store_batch_arg(b, r->head, r->head_len);
	store_batch_arg(b, r->tail, r->tail_len);
	store_batch_str(b, r->witnessing ? "1" : "");
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
    const struct recall_list_args *a, struct recall_page *out,
    struct trace_error *err)
{
	const char *argv[3 + 3 + RECALL_INDEXES_MAX + 8];
	char numkeys[8], since[24], until[24], now[24], lim[16], budget[16],
	    witnessed[24];
	int argc = 0;
	redisReply *r = NULL;
	const redisReply *items, *next;
	enum trace_status rc;

	assert(nindex >= 1 && nindex <= RECALL_INDEXES_MAX);
	memset(out, 0, sizeof(*out));
	snprintf(numkeys, sizeof(numkeys), "%zu", 3 + nindex);
	snprintf(since, sizeof(since), a->has_since ? "%lld" : "", a->since);
	snprintf(until, sizeof(until), a->has_until ? "%lld" : "", a->until);
	snprintf(now, sizeof(now), "%lld", a->now);
	snprintf(lim, sizeof(lim), "%zu", a->limit);
	snprintf(budget, sizeof(budget), "%d", RECALL_SCAN_BUDGET);
	argv[argc++] = "FCALL";
	argv[argc++] = "trace_recalls_list";
	argv[argc++] = numkeys;
	argv[argc++] = KEY_RECALLS;
	argv[argc++] = KEY_RECALLS_CLOSING;
	argv[argc++] = KEY_INDEX_TIMES;
	for (size_t i = 0; i < nindex; i++)
		argv[argc++] = index[i];
	argv[argc++] = since;
	argv[argc++] = until;
	argv[argc++] = a->cursor;
	argv[argc++] = now;
	argv[argc++] = lim;
	argv[argc++] = budget;
	snprintf(witnessed, sizeof(witnessed), a->witnessing ? "%lld" : "",
	    a->pending_from);
	argv[argc++] = witnessed;
	/* With witnesses the Function decides the status (store.lua). */
	argv[argc++] = !a->witnessing ? "" : a->status == RECALL_OPEN_ONLY ?
	    "open" : a->status == RECALL_CLOSED_ONLY ? "closed" : "";
	if ((rc = store_command(s, argc, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	/* {{recall JSON...}, next log index or ''} */
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    (items = r->element[0])->type != REDIS_REPLY_ARRAY ||
	    (next = r->element[1])->type != REDIS_REPLY_STRING ||
	    (next->len != 0 && !store_recall_cursor_valid(next->str,
	    next->len))) {
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
	/* With witnesses a recall in the closed set may still be open (its
	 * close pending): the Function filters by status instead. */
	if (!a->witnessing && a->status == RECALL_OPEN_ONLY)
		index[n++] = KEY_RECALLS_OPEN;
	else if (!a->witnessing && a->status == RECALL_CLOSED_ONLY)
		index[n++] = KEY_RECALLS_CLOSED;
	if (n == 0)
		index[n++] = KEY_RECALLS_ALL;
	return list_on(s, index, n, a, out, err);
}

/* ---- the upgrade of indexes an older server wrote ------------------------ */

static int
compare_keys(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add the index keys of one recall's facts (recalls.c wrote them) to keys. */
static enum trace_status
stale_keys(const redisReply *facts, char **keys, size_t *n,
    struct trace_error *err)
{
	static const struct json_limits limits = {
		.max_size = 64 * 1024, .max_depth = 8,
		.max_string = 8 * 1024, .max_values = 4096,
	};
	static const char *const fields[] = { "chain", "gtin", "lot", "org" };
	struct json_doc *doc = NULL;
	enum trace_status rc = TRACE_OK;

	if (facts->type != REDIS_REPLY_STRING || json_parse(facts->str,
	    facts->len, &limits, &doc, NULL) != TRACE_OK)
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt",
		    NULL, "a stored recall is malformed");
	for (size_t f = 0; f < 4; f++) {
		const char *v = NULL;
		size_t len = 0, size;

		if (json_get_string(json_doc_root(doc), fields[f], false, &v,
		    &len, NULL) != TRACE_OK || v == NULL)
			continue;
		size = sizeof(KEY_CHAIN_RECALLS KEY_RECALLS_GTIN
		    KEY_RECALLS_LOT KEY_RECALLS_ORG) + len;
		if ((keys[*n] = malloc(size)) == NULL) {
			rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
			break;
		}
		switch (f) {
		case 0:
			snprintf(keys[*n], size, KEY_CHAIN_RECALLS, v);
			break;
		case 1:
			snprintf(keys[*n], size, KEY_RECALLS_GTIN, v);
			break;
		case 2:
			snprintf(keys[*n], size, KEY_RECALLS_LOT, v);
			break;
		default:
			snprintf(keys[*n], size, KEY_RECALLS_ORG, v);
			break;
		}
		(*n)++;
	}
	json_doc_free(doc);
	return rc;
}

enum trace_status
store_recalls_upgrade(struct store *s, size_t *changed,
    struct trace_error *err)
{
	const char *stale_argv[] = { "FCALL_RO", "trace_recalls_stale", "4",
		KEY_IDS, KEY_RECALLS_ALL, KEY_RECALLS, KEY_RECALLS_ORDER };
	redisReply *reply = NULL, *r = NULL;
	const redisReply *stale;
	char **keys = NULL, numkeys[24];
	const char **argv = NULL;
	size_t *lens = NULL, n = 0, unique = 0, argc = 0;
	enum trace_status rc;

	*changed = 0;
	if ((rc = store_command(s, 7, stale_argv, NULL, &reply, err)) !=
	    TRACE_OK)
		return rc;
	/* {'done'} or {'stale', {facts...}} */
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    (strcmp(reply->element[0]->str, "done") != 0 &&
	    (reply->elements != 2 ||
	    reply->element[1]->type != REDIS_REPLY_ARRAY))) {
		rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "unexpected reply from the store");
		goto out;
	}
	if (strcmp(reply->element[0]->str, "done") == 0)
		goto out;
	stale = reply->element[1];
	/* Every set a stale member can be in: the global ones and those
	 * named by the recalls' facts, each once.  With none stale the call
	 * still runs, to mark the store done: later starts read one key. */
	if ((keys = calloc(4 * stale->elements + 1, sizeof(*keys))) == NULL ||
	    (argv = calloc(4 * stale->elements + 8, sizeof(*argv))) == NULL ||
	    (lens = calloc(4 * stale->elements + 8, sizeof(*lens))) == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	for (size_t i = 0; i < stale->elements && rc == TRACE_OK; i++)
		rc = stale_keys(stale->element[i], keys, &n, err);
	if (rc != TRACE_OK)
		goto out;
	qsort(keys, n, sizeof(*keys), compare_keys);
	argv[argc++] = "FCALL";
	argv[argc++] = "trace_recalls_upgrade";
	argv[argc++] = numkeys;
	argv[argc++] = KEY_IDS;
	argv[argc++] = KEY_RECALLS_ORDER;
	argv[argc++] = KEY_RECALLS_ALL;
	argv[argc++] = KEY_RECALLS_OPEN;
	argv[argc++] = KEY_RECALLS_CLOSED;
	for (size_t i = 0; i < n; i++)
		if (unique == 0 || strcmp(keys[i], argv[argc - 1]) != 0) {
			argv[argc++] = keys[i];
			unique++;
		}
	snprintf(numkeys, sizeof(numkeys), "%zu", argc - 3);
	for (size_t i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if ((rc = store_command(s, (int)argc, argv, lens, &r, err)) !=
	    TRACE_OK)
		goto out;
	if (r->type != REDIS_REPLY_INTEGER)
		rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "unexpected reply from the store");
	else
		*changed = (size_t)r->integer;
out:
	for (size_t i = 0; keys != NULL && i < n; i++)
		free(keys[i]);
	free(keys);
	free(argv);
	free(lens);
	if (r != NULL)
		freeReplyObject(r);
	freeReplyObject(reply);
	return rc;
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

/* ---- reopening (SPEC 8 "Revocation and compromise") ---------------------- */

enum trace_status
store_recall_closings(struct store *s, struct store_closings *out,
    struct trace_error *err)
{
	const char *argv[] = { "HGETALL", KEY_RECALLS_CLOSING };
	redisReply *r = NULL;
	enum trace_status rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_command(s, 2, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	if (r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "unexpected reply from the store (recall closings)");
	}
	out->items = calloc(r->elements / 2 + 1, sizeof(*out->items));
	if (out->items == NULL) {
		freeReplyObject(r);
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	}
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *v = r->element[i + 1];

		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING)
			continue;
		out->items[out->count].recall = k->str;
		out->items[out->count].closing = v->str;
		out->items[out->count].closing_len = v->len;
		out->count++;
	}
	out->reply = r;
	return TRACE_OK;
}

void
store_closings_clear(struct store_closings *c)
{
	if (c == NULL)
		return;
	free(c->items);
	if (c->reply != NULL)
		freeReplyObject(c->reply);
	memset(c, 0, sizeof(*c));
}

enum trace_status
store_recall_reopen(struct store *s, const char *recall, const char *closer,
    bool *reopened, struct trace_error *err)
{
	const char *argv[] = { "FCALL", "trace_recall_reopen", "6", KEY_IDS,
		KEY_RECALLS, KEY_RECALLS_CLOSING, KEY_RECALLS_OPEN,
		KEY_RECALLS_CLOSED, KEY_RECALLS_STREAM, recall, closer };
	redisReply *r = NULL;
	enum trace_status rc;

	*reopened = false;
	if ((rc = store_command(s, 11, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	    r->element[0]->type == REDIS_REPLY_STRING)
		*reopened = strcmp(r->element[0]->str, "ok") == 0;
	else
		rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "unexpected reply from the store (recall reopen)");
	freeReplyObject(r);
	return rc;
}
