/*
 * store_index.c - the lot index in Redis (SPEC 11, docs/PROTOCOL.md 9.10):
 * its committed state, its node records, what each logged statement is for
 * the index, and the append of an index statement (store.lua
 * append_index).  The index's records are written only by the
 * integrator's commit (store_log_commit, one Function call with the log).
 *
 *   log:{log}:lx:nodes  HASH  encoded position -> encoded record
 *                             (lotindex_pos_encode / lotindex_record_encode)
 *   log:{log}:lx:meta   HASH  through, root (hex), leaves, statement, time
 *   log:{log}:lx:st     HASH  log index -> index statement envelope
 *   log:{log}:lx:times  ZSET  every index statement's log index and time
 *                             (receipt times, SPEC 8: store.lua key table)
 *   log:{log}:lx:versions, log:{log}:lx:nodes:undo:<n>  older versions
 *                             of the records (store.lua index_nodes)
 *   ids                 HASH  an index statement's id -> "x <logIndex>"
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/encoding.h"
#include "libtrace/timefmt.h"
#include "store_private.h"

/* Fields per HMGET: bounds one command's size. */
#define INDEX_FIELDS_PER_CALL 4096

static enum trace_status
corrupt(struct trace_error *err, const char *what)
{
	return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
	    "unexpected reply from the store (%s)", what);
}

static bool
reply_u64_or_nil(const redisReply *r, uint64_t *out, bool *present)
{
	*present = r->type != REDIS_REPLY_NIL;
	if (!*present) {
		*out = 0;
		return true;
	}
	return store_reply_u64(r, out);
}

enum trace_status
store_index_meta(struct store *s, struct index_meta *out,
    struct trace_error *err)
{
	const char *argv[] = { "HMGET", KEY_INDEX_META, "through", "root",
		"leaves", "statement", "time" };
	redisReply *r = NULL;
	enum trace_status rc;
	uint64_t t;
	bool present;

	memset(out, 0, sizeof(*out));
	if ((rc = store_command(s, 7, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 5 ||
	    !reply_u64_or_nil(r->element[0], &out->through, &present) ||
	    !reply_u64_or_nil(r->element[2], &out->leaves, &present) ||
	    !reply_u64_or_nil(r->element[3], &out->statement,
	    &out->have_statement) ||
	    !reply_u64_or_nil(r->element[4], &t, &present)) {
		rc = corrupt(err, "index meta");
		goto out;
	}
	out->time = (long long)t;
	if (r->element[1]->type == REDIS_REPLY_STRING &&
	    !hex_decode(r->element[1]->str, r->element[1]->len, out->root,
	    LOTINDEX_HASH_LEN, true))
		rc = corrupt(err, "index root");
out:
	freeReplyObject(r);
	return rc;
}

enum trace_status
store_index_leaves(struct store *s, unsigned char (*ids)[SHA256_LEN],
    size_t count, struct index_leaf *out, struct trace_error *err)
{
	struct store_batch b, k;
	char hex[2 * SHA256_LEN + 1], text[CHAIN_ID_MAX + 64];
	size_t *key_at = NULL, keys = 0;
	enum trace_status rc = TRACE_OK;

	memset(out, 0, count * sizeof(*out));
	store_batch_init(&b);
	store_batch_init(&k);
	for (size_t i = 0; i < count; i++) {
		hex_encode(ids[i], SHA256_LEN, hex);
		store_batch_command(&b);
		store_batch_str(&b, "HGET");
		store_batch_str(&b, KEY_IDS);
		store_batch_fmt(&b, "%s", hex);
	}
	if (count > 0 && (rc = store_batch_run(s, &b, err)) != TRACE_OK)
		goto out;
	if ((key_at = calloc(count + 1, sizeof(*key_at))) == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		const redisReply *r = store_batch_reply(&b, i);
		long long index, seq, n;

		if (r == NULL || r->type != REDIS_REPLY_STRING ||
		    r->len >= sizeof(text))
			continue;       /* not ours to index */
		memcpy(text, r->str, r->len);
		text[r->len] = '\0';
		if (text[0] == 'e' && sscanf(text, "e %lld %lld %81s", &index,
		    &seq, out[i].chain) == 3 && index >= 0 && seq >= 0) {
			out[i].kind = INDEX_LEAF_EVENT;
			out[i].log_index = (uint64_t)index;
			out[i].seq = (uint64_t)seq;
		} else if (text[0] == 'k' && sscanf(text, "k %lld %lld",
		    &index, &n) == 2 && index >= 0 && n >= 0) {
			out[i].kind = INDEX_LEAF_KEY;
			out[i].log_index = (uint64_t)index;
			store_batch_command(&k);
			store_batch_str(&k, "LINDEX");
			store_batch_str(&k, KEY_ENTRIES);
			store_batch_fmt(&k, "%lld", n);
			key_at[keys++] = i;
		} else if (text[0] == 'x' && sscanf(text, "x %lld",
		    &index) == 1 && index >= 0) {
			out[i].kind = INDEX_LEAF_STATEMENT;
			out[i].log_index = (uint64_t)index;
		}
	}
	if (keys > 0 && (rc = store_batch_run(s, &k, err)) != TRACE_OK)
		goto out;
	rc = TRACE_OK;
	for (size_t j = 0; j < keys; j++) {
		const redisReply *r = store_batch_reply(&k, j);
		struct store_record rec;
		struct index_leaf *l = &out[key_at[j]];

		if (r == NULL || r->type != REDIS_REPLY_STRING ||
		    !store_record_parse(r->str, r->len, &rec)) {
			rc = corrupt(err, "key entry record");
			goto out;
		}
		if ((l->envelope = malloc(rec.envelope_len + 1)) == NULL) {
			rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
			goto out;
		}
		memcpy(l->envelope, rec.envelope, rec.envelope_len);
		l->envelope[rec.envelope_len] = '\0';
		l->envelope_len = rec.envelope_len;
	}
out:
	if (rc != TRACE_OK)
		for (size_t i = 0; i < count; i++) {
			free(out[i].envelope);
			out[i].envelope = NULL;
		}
	free(key_at);
	store_batch_clear(&b);
	store_batch_clear(&k);
	return rc;
}

enum trace_status
store_index_nodes(struct store *s, unsigned char (*positions)[LOTINDEX_POS_MAX],
    const size_t *lens, size_t count, struct lotindex_record *records,
    struct trace_error *err)
{
	struct store_batch b;
	enum trace_status rc = TRACE_OK;
	size_t calls = (count + INDEX_FIELDS_PER_CALL - 1) /
	    INDEX_FIELDS_PER_CALL;

	if (count == 0)
		return TRACE_OK;
	store_batch_init(&b);
	for (size_t c = 0; c < calls; c++) {
		store_batch_command(&b);
		store_batch_str(&b, "HMGET");
		store_batch_str(&b, KEY_INDEX_NODES);
		for (size_t i = c * INDEX_FIELDS_PER_CALL;
		    i < count && i < (c + 1) * INDEX_FIELDS_PER_CALL; i++)
			store_batch_arg(&b, positions[i], lens[i]);
	}
	if ((rc = store_batch_run(s, &b, err)) != TRACE_OK)
		goto out;
	for (size_t c = 0; c < calls && rc == TRACE_OK; c++) {
		const redisReply *r = store_batch_reply(&b, c);
		size_t first = c * INDEX_FIELDS_PER_CALL;
		size_t n = count - first < INDEX_FIELDS_PER_CALL ?
		    count - first : INDEX_FIELDS_PER_CALL;

		if (r == NULL || r->type != REDIS_REPLY_ARRAY ||
		    r->elements != n) {
			rc = corrupt(err, "index nodes");
			break;
		}
		for (size_t i = 0; i < n && rc == TRACE_OK; i++) {
			const redisReply *e = r->element[i];

			if (e->type == REDIS_REPLY_NIL)
				rc = lotindex_record_decode(NULL, 0,
				    &records[first + i], err);
			else if (e->type == REDIS_REPLY_STRING)
				rc = lotindex_record_decode(
				    (const unsigned char *)e->str, e->len,
				    &records[first + i], err);
			else
				rc = corrupt(err, "index node");
		}
	}
out:
	store_batch_clear(&b);
	return rc;
}

enum trace_status
store_index_nodes_at(struct store *s, uint64_t version,
    unsigned char (*positions)[LOTINDEX_POS_MAX], const size_t *lens,
    size_t count, struct lotindex_record *records, struct trace_error *err)
{
	struct store_batch b;
	const redisReply *r, *vals;
	enum trace_status rc;

	store_batch_init(&b);
	store_batch_command(&b);
	store_batch_str(&b, "FCALL_RO");
	store_batch_str(&b, "trace_index_nodes");
	store_batch_str(&b, "3");
	store_batch_str(&b, KEY_INDEX_NODES);
	store_batch_str(&b, KEY_INDEX_META);
	store_batch_str(&b, KEY_INDEX_VERSIONS);
	store_batch_fmt(&b, "%" PRIu64, version);
	for (size_t i = 0; i < count; i++)
		store_batch_arg(&b, positions[i], lens[i]);
	if ((rc = store_batch_run(s, &b, err)) != TRACE_OK)
		goto out;
	r = store_batch_reply(&b, 0);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    r->element[0]->type != REDIS_REPLY_STRING) {
		rc = corrupt(err, "index nodes");
		goto out;
	}
	if (strcmp(r->element[0]->str, "ok") != 0) {
		rc = trace_error_set(err, TRACE_ESTORE, "index_state_gone",
		    NULL, "the lot index as of %" PRIu64 " leaves is %s",
		    version, strcmp(r->element[0]->str, "ahead") == 0 ?
		    "not integrated yet" : "no longer kept");
		goto out;
	}
	vals = r->elements == 2 ? r->element[1] : NULL;
	if (vals == NULL || vals->type != REDIS_REPLY_ARRAY ||
	    vals->elements != count) {
		rc = corrupt(err, "index nodes");
		goto out;
	}
	for (size_t i = 0; i < count && rc == TRACE_OK; i++) {
		const redisReply *e = vals->element[i];

		if (e->type != REDIS_REPLY_STRING)
			rc = corrupt(err, "index node");
		else
			rc = lotindex_record_decode(
			    (const unsigned char *)e->str, e->len, &records[i],
			    err);
	}
out:
	store_batch_clear(&b);
	return rc;
}

enum trace_status
store_index_append(struct store *s, uint64_t expected_size, const char *id_hex,
    const unsigned char leaf_hash[SHA256_LEN], const char *envelope,
    size_t envelope_len, long long time, enum index_append_outcome *outcome,
    struct trace_error *err)
{
	struct store_batch b;
	const redisReply *r, *w;
	char when[21];
	enum trace_status rc;

	/* The statement's own text (log_index.c formats it the same way). */
	time_format_utc(time, when);
	store_batch_init(&b);
	store_batch_command(&b);
	store_batch_str(&b, "FCALL");
	store_batch_str(&b, "trace_append_index");
	store_batch_str(&b, "6");
	store_batch_str(&b, KEY_IDS);
	store_batch_str(&b, KEY_LOG_SIZE);
	store_batch_str(&b, KEY_LOG_PENDING);
	store_batch_str(&b, KEY_INDEX_STATEMENTS);
	store_batch_str(&b, KEY_INDEX_META);
	store_batch_str(&b, KEY_INDEX_TIMES);
	store_batch_fmt(&b, "%" PRIu64, expected_size);
	store_batch_str(&b, id_hex);
	store_batch_arg(&b, leaf_hash, SHA256_LEN);
	store_batch_arg(&b, envelope, envelope_len);
	store_batch_fmt(&b, "%lld", time);
	store_batch_str(&b, when);
	if ((rc = store_batch_run(s, &b, err)) != TRACE_OK)
		goto out;
	r = store_batch_reply(&b, 0);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    (w = r->element[0])->type != REDIS_REPLY_STRING)
		rc = corrupt(err, "append index");
	else if (w->len == 2 && memcmp(w->str, "ok", 2) == 0)
		*outcome = INDEX_APPEND_OK;
	else
		*outcome = INDEX_APPEND_MOVED;
out:
	store_batch_clear(&b);
	return rc;
}

enum trace_status
store_index_statement(struct store *s, uint64_t log_index, char **out,
    size_t *len, struct trace_error *err)
{
	char n[24];
	const char *argv[] = { "HGET", KEY_INDEX_STATEMENTS, n };
	redisReply *r = NULL;
	enum trace_status rc;

	*out = NULL;
	*len = 0;
	snprintf(n, sizeof(n), "%" PRIu64, log_index);
	if ((rc = store_command(s, 3, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	if (r->type == REDIS_REPLY_STRING) {
		if ((*out = malloc(r->len + 1)) == NULL)
			rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
		else {
			memcpy(*out, r->str, r->len);
			(*out)[r->len] = '\0';
			*len = r->len;
		}
	} else if (r->type != REDIS_REPLY_NIL)
		rc = corrupt(err, "index statement");
	freeReplyObject(r);
	return rc;
}

/* ---- receipt times (SPEC 8) ---------------------------------------------- */

enum trace_status
store_receipt_time(struct store *s, long long log_index, bool *known,
    uint64_t *index_at, long long *time, struct trace_error *err)
{
	char from[32];
	const char *argv[] = { "ZRANGE", KEY_INDEX_TIMES, from, "+inf",
		"BYSCORE", "LIMIT", "0", "1" };
	redisReply *r = NULL;
	unsigned long long at;
	long long t;
	enum trace_status rc;

	*known = false;
	/* The first index statement after it: score above log_index. */
	snprintf(from, sizeof(from), "(%lld", log_index);
	if ((rc = store_command(s, 8, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	if (r->type != REDIS_REPLY_ARRAY)
		rc = corrupt(err, "receipt time");
	else if (r->elements == 1) {
		/* "<log index, 12 digits> <unix seconds> <RFC 3339>" */
		if (r->element[0]->type != REDIS_REPLY_STRING ||
		    sscanf(r->element[0]->str, "%llu %lld", &at, &t) != 2)
			rc = corrupt(err, "receipt time");
		else {
			*known = true;
			*index_at = at;
			*time = t;
		}
	}
	freeReplyObject(r);
	return rc;
}

/* ---- lx:times for index statements logged before it existed ------------- */

enum trace_status
store_index_times_missing(struct store *s, bool *missing,
    struct trace_error *err)
{
	const char *hlen[] = { "HLEN", KEY_INDEX_STATEMENTS };
	const char *zcard[] = { "ZCARD", KEY_INDEX_TIMES };
	redisReply *a = NULL, *b = NULL;
	enum trace_status rc;

	*missing = false;
	if ((rc = store_command(s, 2, hlen, NULL, &a, err)) != TRACE_OK)
		return rc;
	if ((rc = store_command(s, 2, zcard, NULL, &b, err)) == TRACE_OK) {
		if (a->type != REDIS_REPLY_INTEGER ||
		    b->type != REDIS_REPLY_INTEGER)
			rc = corrupt(err, "index times");
		else
			*missing = a->integer > b->integer;
		freeReplyObject(b);
	}
	freeReplyObject(a);
	return rc;
}

enum trace_status
store_index_statements_each(struct store *s, index_statement_fn *fn,
    void *ctx, struct trace_error *err)
{
	char cursor[24] = "0";
	const char *argv[] = { "HSCAN", KEY_INDEX_STATEMENTS, cursor, "COUNT",
		"256" };
	enum trace_status rc = TRACE_OK;

	do {
		redisReply *r = NULL;
		const redisReply *items;

		if ((rc = store_command(s, 5, argv, NULL, &r, err)) != TRACE_OK)
			return rc;
		/* [next cursor, [field, value, ...]] */
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[0]->len >= sizeof(cursor) ||
		    (items = r->element[1])->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			return corrupt(err, "index statements");
		}
		memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
		for (size_t i = 0; i + 1 < items->elements && rc == TRACE_OK;
		    i += 2) {
			uint64_t log_index;

			if (!store_reply_u64(items->element[i], &log_index) ||
			    items->element[i + 1]->type != REDIS_REPLY_STRING)
				rc = corrupt(err, "index statement");
			else
				rc = fn(ctx, log_index,
				    items->element[i + 1]->str,
				    items->element[i + 1]->len, err);
		}
		freeReplyObject(r);
	} while (rc == TRACE_OK && strcmp(cursor, "0") != 0);
	return rc;
}

enum trace_status
store_index_times_add(struct store *s, const struct index_time *times,
    size_t count, struct trace_error *err)
{
	struct store_batch b;
	enum trace_status rc;

	if (count == 0)
		return TRACE_OK;
	store_batch_init(&b);
	store_batch_command(&b);
	store_batch_str(&b, "FCALL");
	store_batch_str(&b, "trace_index_times_add");
	store_batch_str(&b, "1");
	store_batch_str(&b, KEY_INDEX_TIMES);
	for (size_t i = 0; i < count; i++) {
		store_batch_fmt(&b, "%" PRIu64, times[i].log_index);
		store_batch_fmt(&b, "%lld", times[i].time);
		store_batch_str(&b, times[i].text);
	}
	if ((rc = store_batch_run(s, &b, err)) == TRACE_OK &&
	    (store_batch_reply(&b, 0) == NULL ||
	    store_batch_reply(&b, 0)->type != REDIS_REPLY_ARRAY))
		rc = corrupt(err, "index times");
	store_batch_clear(&b);
	return rc;
}

enum trace_status
store_index_prune(struct store *s, uint64_t floor, bool require_witnessed,
    size_t *dropped, struct trace_error *err)
{
	struct store_batch b;
	const redisReply *r;
	enum trace_status rc;

	*dropped = 0;
	store_batch_init(&b);
	store_batch_command(&b);
	store_batch_str(&b, "FCALL");
	store_batch_str(&b, "trace_index_prune");
	store_batch_str(&b, "4");
	store_batch_str(&b, KEY_INDEX_NODES);
	store_batch_str(&b, KEY_INDEX_META);
	store_batch_str(&b, KEY_INDEX_VERSIONS);
	store_batch_str(&b, KEY_LOG_WITNESSED);
	store_batch_fmt(&b, "%" PRIu64, floor);
	store_batch_str(&b, require_witnessed ? "1" : "0");
	if ((rc = store_batch_run(s, &b, err)) != TRACE_OK)
		goto out;
	r = store_batch_reply(&b, 0);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(r->element[0]->str, "ok") != 0 ||
	    r->element[1]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->integer < 0)
		rc = corrupt(err, r != NULL && r->type == REDIS_REPLY_ERROR ?
		    r->str : "index prune");
	else
		*dropped = (size_t)r->element[1]->integer;
out:
	store_batch_clear(&b);
	return rc;
}
