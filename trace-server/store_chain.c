/*
 * store_chain.c - chains and statements in Redis: the record format
 * "<id> <logIndex> <envelope>" (a chain's list and k:entries), reading a
 * chain (alone, several in one pipeline, or as a page wants it with its
 * scan counter: store.lua trace_page_read), finding a statement through
 * the ids hash, and appending events through trace_append_event (or
 * trace_append_recall, whose extra keys store_recalls.c adds), with the
 * parse of every append Function's reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_private.h"

/* ---- records ------------------------------------------------------------ */

bool
store_record_parse(const char *text, size_t len, struct store_record *r)
{
	const char *p = text + 65, *end = text + len;
	long long idx = 0;

	if (len < 68 || text[64] != ' ')
		return false;
	memcpy(r->id, text, 64);
	r->id[64] = '\0';
	if (p >= end || *p < '0' || *p > '9')
		return false;
	while (p < end && *p >= '0' && *p <= '9')
		idx = idx * 10 + (*p++ - '0');
	if (p >= end || *p != ' ')
		return false;
	r->log_index = idx;
	r->envelope = p + 1;
	r->envelope_len = (size_t)(end - p - 1);
	return true;
}

void
store_records_clear(struct store_records *r)
{
	if (r == NULL)
		return;
	free(r->items);
	if (r->reply != NULL)
		freeReplyObject(r->reply);
	memset(r, 0, sizeof(*r));
}

enum trace_status
store_records_take(redisReply *r, bool strict, struct store_records *out,
    struct trace_error *err)
{
	memset(out, 0, sizeof(*out));
	out->reply = r;
	if (r->type != REDIS_REPLY_ARRAY) {
		if (!strict) {
			out->unreadable = 1;
			return TRACE_OK;
		}
		store_records_clear(out);
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "unexpected reply from the store");
	}
	if (r->elements == 0)
		return TRACE_OK;
	out->items = calloc(r->elements, sizeof(*out->items));
	if (out->items == NULL) {
		store_records_clear(out);
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	}
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i];

		if (e->type == REDIS_REPLY_STRING &&
		    store_record_parse(e->str, e->len, &out->items[out->count])) {
			out->count++;
		} else if (!strict) {
			out->unreadable++;
		} else {
			store_records_clear(out);
			return trace_error_set(err, TRACE_ESTORE, "store_corrupt",
			    NULL, "a stored record is malformed");
		}
	}
	return TRACE_OK;
}

/*
 * ---- reads -----------------------------------------------------------------
 *
 * Chain keys are formatted into KEY_CHAIN_MAX bytes: chain ids are at most
 * CHAIN_ID_MAX, which it allows for (a cut key would only ever miss).
 */

enum trace_status
store_chain(struct store *s, const char *chain, struct store_records *out,
    struct trace_error *err)
{
	char key[KEY_CHAIN_MAX];
	const char *argv[] = { "LRANGE", key, "0", "-1" };
	redisReply *r = NULL;
	enum trace_status rc;

	snprintf(key, sizeof(key), KEY_CHAIN, chain);
	if ((rc = store_command(s, 4, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	return store_records_take(r, true, out, err);
}

enum trace_status
store_chains(struct store *s, const char *const *chains, size_t count,
    struct store_records *out, struct trace_error *err)
{
	struct store_batch b;
	enum trace_status rc;

	memset(out, 0, count * sizeof(*out));
	store_batch_init(&b);
	for (size_t i = 0; i < count; i++) {
		store_batch_command(&b);
		store_batch_str(&b, "LRANGE");
		store_batch_fmt(&b, KEY_CHAIN, chains[i]);
		store_batch_str(&b, "0");
		store_batch_str(&b, "-1");
	}
	if ((rc = store_batch_run(s, &b, err)) != TRACE_OK)
		goto out;
	for (size_t i = 0; i < count && rc == TRACE_OK; i++)
		rc = store_records_take(store_batch_take(&b, i), false, &out[i],
		    err);
out:
	store_batch_clear(&b);
	return rc;
}

enum trace_status
store_locate(struct store *s, const char *id, struct store_location *loc,
    struct trace_error *err)
{
	const char *argv[] = { "HGET", KEY_IDS, id };
	redisReply *r = NULL;
	enum trace_status rc;
	char text[CHAIN_ID_MAX + 64];

	memset(loc, 0, sizeof(*loc));
	if ((rc = store_command(s, 3, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	if (r->type == REDIS_REPLY_STRING && r->len < sizeof(text)) {
		memcpy(text, r->str, r->len);
		text[r->len] = '\0';
		/* %81s: CHAIN_ID_MAX, so loc->chain cannot overflow. */
		if (text[0] == 'e' && sscanf(text, "e %lld %lld %81s",
		    &loc->log_index, &loc->seq, loc->chain) == 3) {
			loc->found = true;
		} else if (text[0] == 'k' && sscanf(text, "k %lld %lld",
		    &loc->log_index, &loc->seq) == 2) {
			loc->found = true;
			loc->is_key = true;
		} else if (text[0] == 'b' && sscanf(text, "b %lld %lld",
		    &loc->log_index, &loc->seq) == 2) {
			loc->found = true;
			loc->is_blob = true;
		}
	}
	freeReplyObject(r);
	return TRACE_OK;
}

enum trace_status
store_record_at(struct store *s, const struct store_location *loc,
    struct store_records *out, struct trace_error *err)
{
	char key[KEY_CHAIN_MAX], n[24];
	const char *argv[] = { "LRANGE", key, n, n };
	redisReply *r = NULL;
	enum trace_status rc;

	if (loc->is_key)
		snprintf(key, sizeof(key), "%s", KEY_ENTRIES);
	else if (loc->is_blob)
		snprintf(key, sizeof(key), "%s", KEY_BLOBS_STATEMENTS);
	else
		snprintf(key, sizeof(key), KEY_CHAIN, loc->chain);
	snprintf(n, sizeof(n), "%lld", loc->seq);
	if ((rc = store_command(s, 4, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	return store_records_take(r, true, out, err);
}

/* ---- the page read ------------------------------------------------------ */

void
chain_page_clear(struct chain_page *p)
{
	if (p == NULL)
		return;
	store_records_clear(&p->records);
	memset(p, 0, sizeof(*p));
}

static bool
reply_is(const redisReply *r, const char *word)
{
	return r->type == REDIS_REPLY_STRING && r->len == strlen(word) &&
	    memcmp(r->str, word, r->len) == 0;
}

enum trace_status
store_page_read(struct store *s, const struct chain_page_args *a,
    struct chain_page *out, struct trace_error *err)
{
	char chain[KEY_CHAIN_MAX], scans[KEY_CHAIN_MAX];
	char known[24], max[24];
	const char *argv[] = { "FCALL_RO", "trace_page_read", "2", chain,
		scans, a->serial, known, a->known_head, max };
	redisReply *r = NULL;
	const redisReply *status;
	enum trace_status rc;

	memset(out, 0, sizeof(*out));
	snprintf(chain, sizeof(chain), KEY_CHAIN, a->chain);
	snprintf(scans, sizeof(scans), KEY_CHAIN_SCANS, a->chain);
	snprintf(known, sizeof(known), "%zu", a->known_count);
	snprintf(max, sizeof(max), "%lld", a->serials_max);
	if ((rc = store_command(s, (int)(sizeof(argv) / sizeof(argv[0])), argv,
	    NULL, &r, err)) != TRACE_OK)
		return rc;
	/* {'none'} or {'same' | 'full', records[, count, first scan]} */
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1)
		goto unexpected;
	status = r->element[0];
	if (reply_is(status, "none")) {
		out->status = CHAIN_PAGE_NONE;
		freeReplyObject(r);
		return TRACE_OK;
	}
	if ((!reply_is(status, "same") && !reply_is(status, "full")) ||
	    r->elements < 2 || r->element[1]->type != REDIS_REPLY_ARRAY)
		goto unexpected;
	out->status = reply_is(status, "same") ? CHAIN_PAGE_SAME :
	    CHAIN_PAGE_FULL;
	if (r->elements >= 4 && r->element[2]->type == REDIS_REPLY_INTEGER &&
	    r->element[3]->type == REDIS_REPLY_STRING) {
		out->scans_known = true;
		out->scans = r->element[2]->integer;
		out->first_scan = strtoll(r->element[3]->str, NULL, 10);
	}
	if (out->status == CHAIN_PAGE_SAME) {
		freeReplyObject(r);
		return TRACE_OK;
	}
	/*
	 * The records keep the whole reply (their envelopes point into it):
	 * move the list out of it first, so the reply the records own is the
	 * list itself and the rest is freed now.
	 */
	{
		redisReply *list = r->element[1];

		r->element[1] = NULL;
		freeReplyObject(r);
		if ((rc = store_records_take(list, true, &out->records, err)) !=
		    TRACE_OK)
			memset(out, 0, sizeof(*out));
		return rc;
	}
unexpected:
	freeReplyObject(r);
	return trace_error_set(err, TRACE_ESTORE, "store_error", NULL,
	    "unexpected reply to trace_page_read");
}

/* ---- appends ------------------------------------------------------------ */

enum trace_status
store_append_reply_parse(const redisReply *r, struct append_result *res,
    struct trace_error *err)
{
	static const struct {
		const char *word;
		enum append_outcome outcome;
	} words[] = {
		{ "ok", APPEND_OK }, { "duplicate", APPEND_DUPLICATE },
		{ "conflict", APPEND_CONFLICT }, { "gap", APPEND_GAP },
		{ "wrong_prev", APPEND_WRONG_PREV }, { "revoked", APPEND_REVOKED },
		{ "unknown_signer", APPEND_UNKNOWN_SIGNER },
		{ "key_exists", APPEND_KEY_EXISTS },
		{ "unknown_key", APPEND_UNKNOWN_KEY },
		{ "already_revoked", APPEND_ALREADY_REVOKED },
		{ "recall_not_open", APPEND_RECALL_NOT_OPEN },
		{ "org_changed", APPEND_ORG_CHANGED },
	};
	const redisReply *w;
	size_t i;

	memset(res, 0, sizeof(*res));
	res->head_seq = -1;
	if (r->type == REDIS_REPLY_ERROR)
		return trace_error_set(err, TRACE_ESTORE, "store_error", NULL,
		    "the store refused the append: %.200s", r->str);
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		goto corrupt;
	w = r->element[0];
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].word) == w->len &&
		    memcmp(words[i].word, w->str, w->len) == 0)
			break;
	if (i == sizeof(words) / sizeof(words[0]))
		goto corrupt;
	res->outcome = words[i].outcome;
	switch (res->outcome) {
	case APPEND_OK:
		if (r->elements != 2 || r->element[1]->type != REDIS_REPLY_INTEGER)
			goto corrupt;
		res->log_index = r->element[1]->integer;
		break;
	case APPEND_DUPLICATE: {
		char text[CHAIN_ID_MAX + 64];
		const redisReply *e = r->elements == 2 ? r->element[1] : NULL;

		if (e == NULL || e->type != REDIS_REPLY_STRING ||
		    e->len >= sizeof(text))
			goto corrupt;
		memcpy(text, e->str, e->len);
		text[e->len] = '\0';
		if (sscanf(text + 2, "%lld %lld", &res->log_index,
		    &res->seq) != 2)
			goto corrupt;
		break;
	}
	case APPEND_CONFLICT:
	case APPEND_GAP:
	case APPEND_WRONG_PREV:
		if (r->elements != 3 || r->element[1]->type != REDIS_REPLY_INTEGER ||
		    r->element[2]->type != REDIS_REPLY_STRING ||
		    r->element[2]->len >= sizeof(res->head_id))
			goto corrupt;
		res->head_seq = r->element[1]->integer;
		memcpy(res->head_id, r->element[2]->str, r->element[2]->len);
		res->head_id[r->element[2]->len] = '\0';
		break;
	default:
		break;
	}
	return TRACE_OK;
corrupt:
	return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
	    "unexpected reply from the store");
}

enum trace_status
store_append_events(struct store *s, const struct append_event_args *args,
    size_t count, struct append_result *results, struct trace_error *err)
{
	struct store_batch b;
	enum trace_status rc = TRACE_OK;

	store_batch_init(&b);
	for (size_t i = 0; i < count; i++) {
		const struct append_event_args *a = &args[i];
		bool refs = a->recall == NULL && a->attachments != NULL &&
		    a->attachments[0] != '\0';

		/* FCALL fn numkeys, the five keys and a recall's (or the
		 * attachments') extra keys, the seven arguments and a
		 * recall's (or the attachments') extra arguments. */
		store_batch_command(&b);
		store_batch_str(&b, "FCALL");
		store_batch_str(&b, a->recall != NULL ? "trace_append_recall" :
		    "trace_append_event");
		store_batch_fmt(&b, "%d", 5 + (a->recall != NULL ?
		    STORE_RECALL_APPEND_KEYS : refs ? 2 : 0));
		store_batch_fmt(&b, KEY_CHAIN, a->chain);
		store_batch_str(&b, KEY_IDS);
		store_batch_str(&b, KEY_REVOKE);
		store_batch_str(&b, KEY_LOG_SIZE);
		store_batch_str(&b, KEY_LOG_PENDING);
		if (a->recall != NULL)
			store_recall_append_keys(&b, a);
		if (refs) {
			store_batch_str(&b, KEY_BLOBS_REFS);
			store_batch_str(&b, KEY_BLOBS_UNREFERENCED);
		}
		store_batch_str(&b, a->id);
		store_batch_fmt(&b, "%lld", a->seq);
		store_batch_str(&b, a->prev);
		store_batch_str(&b, a->signer);
		store_batch_arg(&b, a->leaf_hash, SHA256_LEN);
		store_batch_arg(&b, a->envelope, a->envelope_len);
		store_batch_str(&b, a->chain);
		if (a->recall != NULL)
			store_recall_append_args(&b, a);
		if (refs)
			store_batch_str(&b, a->attachments);
	}
	if ((rc = store_batch_run(s, &b, err)) != TRACE_OK)
		goto out;
	for (size_t i = 0; i < count && rc == TRACE_OK; i++) {
		rc = store_append_reply_parse(store_batch_reply(&b, i),
		    &results[i], err);
		if (rc == TRACE_OK && results[i].outcome != APPEND_DUPLICATE)
			results[i].seq = args[i].seq;
	}
	if (rc == TRACE_OK)
		rc = store_wait_replicas(s, err);
out:
	store_batch_clear(&b);
	return rc;
}
