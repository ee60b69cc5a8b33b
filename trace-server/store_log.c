/*
 * store_log.c - the transparency log in Redis: the integrator's lease,
 * state read and atomic commit (Functions in store.lua), tree nodes and
 * leaf ids written with SETRANGE into chunked strings, node fetches for
 * proofs (FCALL_RO trace_log_nodes), and the log's head.
 *
 * Stored layout: the hash of every perfect node (level, i) lives at byte
 * 32 * (i mod LOG_CHUNK_NODES) of the string log:{log}:t:<level>:<chunk>,
 * chunk = i / LOG_CHUNK_NODES; level 0 holds the leaf hashes.  Statement
 * ids of the leaves (32 raw bytes each) live the same way in
 * log:{log}:ids:<chunk>.  log:{log}:integrated says how many leaves the
 * stored tree covers; nodes are always written before it advances, so
 * every node of a tree of that size or smaller is stored.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/encoding.h"
#include "store_private.h"

#define LOG_CHUNK_NODES 65536         /* nodes per chunk string (2 MiB) */
/* Nodes per trace_log_nodes call: bounds the Function's argument list. */
#define NODES_PER_CALL 4096
/* A pending item: 32-byte leaf hash, then the id in 64 hex digits. */
#define PENDING_ITEM_LEN (MERKLE_HASH_LEN + 2 * MERKLE_HASH_LEN)

static enum trace_status
corrupt(struct trace_error *err, const char *what)
{
	return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
	    "unexpected reply from the store (%s)", what);
}

void
log_state_clear(struct log_state *st)
{
	if (st == NULL)
		return;
	free(st->checkpoint);
	free(st->leaves);
	free(st->ids);
	memset(st, 0, sizeof(*st));
}

enum trace_status
store_log_lease(struct store *s, const char *token, long ms, bool *held,
    struct trace_error *err)
{
	char msbuf[24];
	const char *argv[] = { "FCALL", "trace_log_lease", "1", KEY_LOG_LEASE,
		token, msbuf };
	redisReply *r = NULL;
	enum trace_status rc;

	*held = false;
	snprintf(msbuf, sizeof(msbuf), "%ld", ms);
	if ((rc = store_command(s, 6, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	if (r->type != REDIS_REPLY_INTEGER)
		rc = corrupt(err, "lease");
	else
		*held = r->integer == 1;
	freeReplyObject(r);
	return rc;
}

enum trace_status
store_log_state(struct store *s, size_t batch, struct log_state *out,
    struct trace_error *err)
{
	char batchbuf[24];
	const char *argv[] = { "FCALL", "trace_log_state", "3",
		KEY_LOG_INTEGRATED, KEY_LOG_PENDING, KEY_LOG_CHECKPOINT, batchbuf };
	redisReply *r = NULL, *items;
	enum trace_status rc;

	memset(out, 0, sizeof(*out));
	snprintf(batchbuf, sizeof(batchbuf), "%zu", batch);
	if ((rc = store_command(s, 7, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    !store_reply_u64(r->element[0], &out->integrated) ||
	    r->element[1]->type != REDIS_REPLY_STRING ||
	    r->element[2]->type != REDIS_REPLY_ARRAY) {
		rc = corrupt(err, "log state");
		goto out;
	}
	if (r->element[1]->len > 0) {
		out->checkpoint = malloc(r->element[1]->len + 1);
		if (out->checkpoint == NULL)
			goto nomem;
		memcpy(out->checkpoint, r->element[1]->str, r->element[1]->len);
		out->checkpoint[r->element[1]->len] = '\0';
		out->checkpoint_len = r->element[1]->len;
	}
	items = r->element[2];
	if (items->elements > 0) {
		out->leaves = malloc(items->elements * MERKLE_HASH_LEN);
		out->ids = malloc(items->elements * MERKLE_HASH_LEN);
		if (out->leaves == NULL || out->ids == NULL)
			goto nomem;
	}
	for (size_t i = 0; i < items->elements; i++) {
		const redisReply *e = items->element[i];

		if (e->type != REDIS_REPLY_STRING ||
		    e->len != PENDING_ITEM_LEN ||
		    !hex_decode(e->str + MERKLE_HASH_LEN, 2 * MERKLE_HASH_LEN,
		    out->ids[i], MERKLE_HASH_LEN, true)) {
			rc = corrupt(err, "pending leaf");
			goto out;
		}
		memcpy(out->leaves[i], e->str, MERKLE_HASH_LEN);
	}
	out->pending = items->elements;
	goto out;
nomem:
	rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL, "out of memory");
out:
	if (rc != TRACE_OK)
		log_state_clear(out);
	freeReplyObject(r);
	return rc;
}

static void
node_key(char *out, size_t size, bool ids, unsigned level, uint64_t chunk)
{
	if (ids)
		snprintf(out, size, KEY_LOG_IDS, chunk);
	else
		snprintf(out, size, KEY_LOG_NODES, level, chunk);
}

enum trace_status
store_log_write(struct store *s, const struct log_run *runs, size_t count,
    struct trace_error *err)
{
	struct store_batch b;
	char key[KEY_LOG_MAX];
	enum trace_status rc;

	/* One SETRANGE per run and chunk it touches. */
	store_batch_init(&b);
	for (size_t i = 0; i < count; i++) {
		const struct log_run *run = &runs[i];
		uint64_t at = run->first, end = run->first + run->count;

		while (at < end) {
			uint64_t chunk = at / LOG_CHUNK_NODES;
			uint64_t stop = (chunk + 1) * LOG_CHUNK_NODES;
			size_t n = (size_t)((stop < end ? stop : end) - at);

			node_key(key, KEY_LOG_MAX, run->ids, run->level, chunk);
			store_batch_command(&b);
			store_batch_str(&b, "SETRANGE");
			store_batch_fmt(&b, "%s", key);
			store_batch_fmt(&b, "%" PRIu64,
			    (at % LOG_CHUNK_NODES) * MERKLE_HASH_LEN);
			store_batch_arg(&b, run->data +
			    (size_t)(at - run->first) * MERKLE_HASH_LEN,
			    n * MERKLE_HASH_LEN);
			at += n;
		}
	}
	rc = store_batch_run(s, &b, err);
	for (size_t i = 0; i < b.commands && rc == TRACE_OK; i++) {
		const redisReply *r = store_batch_reply(&b, i);

		if (r->type != REDIS_REPLY_INTEGER)
			rc = trace_error_set(err, TRACE_ESTORE, "store_error",
			    NULL, "storing tree nodes failed: %.200s",
			    r->type == REDIS_REPLY_ERROR ? r->str :
			    "unexpected reply");
	}
	store_batch_clear(&b);
	return rc;
}

enum trace_status
store_log_commit(struct store *s, const char *token, uint64_t old_size,
    uint64_t new_size, size_t trim, const char *expected_cp,
    const char *new_cp, uint64_t new_cp_size, const struct index_commit *ix,
    enum log_commit_outcome *outcome, struct trace_error *err)
{
	struct store_batch b;
	char root[2 * LOTINDEX_HASH_LEN + 1];
	const redisReply *r, *w;
	enum trace_status rc;

	/* store.lua log_commit: the log's five keys and seven arguments,
	 * then the index's two keys and, when it changed, its new state and
	 * the records to write (position, record pairs). */
	store_batch_init(&b);
	store_batch_command(&b);
	store_batch_str(&b, "FCALL");
	store_batch_str(&b, "trace_log_commit");
	store_batch_str(&b, "8");
	store_batch_str(&b, KEY_LOG_LEASE);
	store_batch_str(&b, KEY_LOG_INTEGRATED);
	store_batch_str(&b, KEY_LOG_PENDING);
	store_batch_str(&b, KEY_LOG_CHECKPOINT);
	store_batch_str(&b, KEY_LOG_CHECKPOINTS);
	store_batch_str(&b, KEY_INDEX_NODES);
	store_batch_str(&b, KEY_INDEX_META);
	store_batch_str(&b, KEY_INDEX_VERSIONS);
	store_batch_str(&b, token);
	store_batch_fmt(&b, "%" PRIu64, old_size);
	store_batch_fmt(&b, "%" PRIu64, new_size);
	store_batch_fmt(&b, "%zu", trim);
	store_batch_str(&b, expected_cp);
	store_batch_str(&b, new_cp);
	store_batch_fmt(&b, "%" PRIu64, new_cp_size);
	if (ix != NULL) {
		hex_encode(ix->root, LOTINDEX_HASH_LEN, root);
		store_batch_fmt(&b, "%" PRIu64, ix->through);
		store_batch_str(&b, root);
		store_batch_fmt(&b, "%" PRIu64, ix->leaves);
		for (size_t i = 0; i < ix->count; i++) {
			store_batch_arg(&b, ix->positions[i],
			    ix->position_lens[i]);
			store_batch_arg(&b, ix->records[i],
			    ix->record_lens[i]);
		}
	}
	if ((rc = store_batch_run(s, &b, err)) != TRACE_OK)
		goto out;
	r = store_batch_reply(&b, 0);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    (w = r->element[0])->type != REDIS_REPLY_STRING) {
		rc = corrupt(err, r != NULL && r->type == REDIS_REPLY_ERROR ?
		    r->str : "commit");
	} else if (w->len == 2 && memcmp(w->str, "ok", 2) == 0) {
		*outcome = LOG_COMMIT_OK;
	} else if (w->len == 10 && memcmp(w->str, "lease_lost", 10) == 0) {
		*outcome = LOG_COMMIT_LEASE_LOST;
	} else if (w->len == 5 && memcmp(w->str, "short", 5) == 0) {
		/* Pending lost leaves that the size never covered: never
		 * happens unless someone edits the list by hand. */
		rc = corrupt(err, "pending list shorter than integrated");
	} else {
		*outcome = LOG_COMMIT_MOVED;
	}
out:
	store_batch_clear(&b);
	return rc;
}

enum trace_status
store_log_nodes(struct store *s, uint64_t size, const struct merkle_node *nodes,
    size_t count, unsigned char *hashes, size_t *commands,
    struct trace_error *err)
{
	size_t calls = count == 0 ? 1 : (count + NODES_PER_CALL - 1) /
	    NODES_PER_CALL;
	char key[KEY_LOG_MAX];
	struct store_batch b;
	enum trace_status rc;

	/* FCALL_RO trace_log_nodes N integrated key... size offset... */
	store_batch_init(&b);
	for (size_t call = 0; call < calls; call++) {
		size_t first = call * NODES_PER_CALL;
		size_t n = count - first < NODES_PER_CALL ? count - first :
		    NODES_PER_CALL;

		if (count == 0)
			n = 0;
		store_batch_command(&b);
		store_batch_str(&b, "FCALL_RO");
		store_batch_str(&b, "trace_log_nodes");
		store_batch_fmt(&b, "%zu", n + 1);
		store_batch_str(&b, KEY_LOG_INTEGRATED);
		for (size_t i = first; i < first + n; i++) {
			node_key(key, KEY_LOG_MAX, false, nodes[i].level,
			    nodes[i].index / LOG_CHUNK_NODES);
			store_batch_fmt(&b, "%s", key);
		}
		store_batch_fmt(&b, "%" PRIu64, size);
		for (size_t i = first; i < first + n; i++)
			store_batch_fmt(&b, "%" PRIu64,
			    (nodes[i].index % LOG_CHUNK_NODES) * MERKLE_HASH_LEN);
	}
	rc = store_batch_run(s, &b, err);
	if (commands != NULL)
		*commands = rc == TRACE_OK ? calls : 0;
	for (size_t call = 0; call < calls && rc == TRACE_OK; call++) {
		const redisReply *r = store_batch_reply(&b, call), *w;
		size_t first = call * NODES_PER_CALL;
		size_t n = count - first < NODES_PER_CALL ? count - first :
		    NODES_PER_CALL;

		if (count == 0)
			n = 0;
		if (r->type == REDIS_REPLY_ERROR) {
			rc = trace_error_set(err, TRACE_ESTORE, "store_error",
			    NULL, "the store refused a node fetch: %.200s",
			    r->str);
			break;
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    (w = r->element[0])->type != REDIS_REPLY_STRING) {
			rc = corrupt(err, "nodes");
			break;
		}
		if (w->len == 14 && memcmp(w->str, "not_integrated", 14) == 0) {
			uint64_t have = 0;

			store_reply_u64(r->element[1], &have);
			rc = trace_error_set(err, TRACE_ENOTFOUND,
			    "size_not_integrated", "size", "the log has "
			    "integrated %" PRIu64 " leaves; a tree of %" PRIu64
			    " is not available (yet)", have, size);
			break;
		}
		if (w->len != 2 || memcmp(w->str, "ok", 2) != 0 ||
		    r->element[1]->type != REDIS_REPLY_STRING ||
		    r->element[1]->len != n * MERKLE_HASH_LEN) {
			rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt",
			    NULL, "a stored tree node is missing");
			break;
		}
		memcpy(hashes + first * MERKLE_HASH_LEN, r->element[1]->str,
		    n * MERKLE_HASH_LEN);
	}
	store_batch_clear(&b);
	return rc;
}

enum trace_status
store_log_head(struct store *s, uint64_t *integrated, char **text,
    size_t *len, struct trace_error *err)
{
	struct store_batch b;
	const redisReply *r0, *r1;
	enum trace_status rc;

	*integrated = 0;
	*text = NULL;
	*len = 0;
	store_batch_init(&b);
	store_batch_command(&b);
	store_batch_str(&b, "GET");
	store_batch_str(&b, KEY_LOG_INTEGRATED);
	store_batch_command(&b);
	store_batch_str(&b, "GET");
	store_batch_str(&b, KEY_LOG_CHECKPOINT);
	if ((rc = store_batch_run(s, &b, err)) != TRACE_OK)
		goto out;
	r0 = store_batch_reply(&b, 0);
	r1 = store_batch_reply(&b, 1);
	if ((r0->type != REDIS_REPLY_NIL && !store_reply_u64(r0, integrated)) ||
	    (r1->type != REDIS_REPLY_NIL && r1->type != REDIS_REPLY_STRING)) {
		rc = corrupt(err, "log head");
	} else if (r1->type == REDIS_REPLY_STRING) {
		if ((*text = malloc(r1->len + 1)) == NULL) {
			rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
		} else {
			memcpy(*text, r1->str, r1->len);
			(*text)[r1->len] = '\0';
			*len = r1->len;
		}
	}
out:
	store_batch_clear(&b);
	return rc;
}

enum trace_status
store_log_witnessed(struct store *s, char **text, size_t *len,
    struct trace_error *err)
{
	const char *argv[] = { "GET", KEY_LOG_WITNESSED };
	redisReply *r = NULL;
	enum trace_status rc;

	*text = NULL;
	*len = 0;
	if ((rc = store_command(s, 2, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	if (r->type == REDIS_REPLY_STRING) {
		if ((*text = malloc(r->len + 1)) == NULL) {
			rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
		} else {
			memcpy(*text, r->str, r->len);
			(*text)[r->len] = '\0';
			*len = r->len;
		}
	} else if (r->type != REDIS_REPLY_NIL) {
		rc = corrupt(err, "witnessed checkpoint");
	}
	freeReplyObject(r);
	return rc;
}

enum trace_status
store_log_witnessed_set(struct store *s, const char *text, size_t len,
    uint64_t size, struct trace_error *err)
{
	char size_text[24];
	const char *argv[] = { "FCALL", "trace_witnessed_publish", "5",
		KEY_LOG_WITNESSED, KEY_RECALLS_CLOSES_PENDING, KEY_RECALLS,
		KEY_RECALLS_CLOSING, KEY_RECALLS_STREAM, text, size_text };
	size_t lens[sizeof(argv) / sizeof(argv[0])];
	redisReply *r = NULL;
	enum trace_status rc;

	snprintf(size_text, sizeof(size_text), "%" PRIu64, size);
	for (size_t i = 0; i < sizeof(argv) / sizeof(argv[0]); i++)
		lens[i] = argv[i] == text ? len : strlen(argv[i]);
	if ((rc = store_command(s, (int)(sizeof(argv) / sizeof(argv[0])), argv,
	    lens, &r, err)) != TRACE_OK)
		return rc;
	if (r->type != REDIS_REPLY_INTEGER)
		rc = corrupt(err, "publishing the witnessed checkpoint");
	freeReplyObject(r);
	return rc;
}

/* ---- tiles (tiles.c) ------------------------------------------------------ */

enum trace_status
store_log_hashes(struct store *s, bool ids, unsigned level, uint64_t first,
    size_t count, unsigned char *out, struct trace_error *err)
{
	char key[KEY_LOG_MAX];
	struct store_batch b;
	enum trace_status rc;
	uint64_t at = first, end = first + count;
	size_t done = 0;

	/* One GETRANGE per chunk the run touches (a tile touches one). */
	store_batch_init(&b);
	while (at < end) {
		uint64_t chunk = at / LOG_CHUNK_NODES;
		uint64_t stop = (chunk + 1) * LOG_CHUNK_NODES;
		uint64_t n = (stop < end ? stop : end) - at;
		uint64_t from = (at % LOG_CHUNK_NODES) * MERKLE_HASH_LEN;

		node_key(key, KEY_LOG_MAX, ids, level, chunk);
		store_batch_command(&b);
		store_batch_str(&b, "GETRANGE");
		store_batch_fmt(&b, "%s", key);
		store_batch_fmt(&b, "%" PRIu64, from);
		store_batch_fmt(&b, "%" PRIu64, from + n * MERKLE_HASH_LEN - 1);
		at += n;
	}
	rc = store_batch_run(s, &b, err);
	for (size_t i = 0; i < b.commands && rc == TRACE_OK; i++) {
		const redisReply *r = store_batch_reply(&b, i);
		uint64_t chunk_end = (first / LOG_CHUNK_NODES + i + 1) *
		    LOG_CHUNK_NODES;
		size_t want = (size_t)((chunk_end < end ? chunk_end : end) -
		    (first + done)) * MERKLE_HASH_LEN;

		/* Nodes are written before the size that covers them: one
		 * missing under the published size is corruption. */
		if (r->type != REDIS_REPLY_STRING || r->len != want) {
			rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt",
			    NULL, "a stored tree node is missing");
			break;
		}
		memcpy(out + done * MERKLE_HASH_LEN, r->str, want);
		done += want / MERKLE_HASH_LEN;
	}
	store_batch_clear(&b);
	return rc;
}

void
store_log_entries_clear(struct store_log_entries *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->count; i++)
		free(e->envelopes[i].text);
	free(e->envelopes);
	memset(e, 0, sizeof(*e));
}

/* "e <logIndex> <seq> <chain>", "k <logIndex> <n>" (key and org entries)
 * or "b <logIndex> <n>" (document uploads): where a leaf's record is (its
 * list and the position in it) into key and n; "x <logIndex>": an index
 * statement (SPEC 11), whose envelope is stored on its own under its log
 * index (store_index.c), *statement. */
static bool
leaf_location(const redisReply *r, uint64_t index, char *key, size_t size,
    long long *n, bool *statement)
{
	char text[CHAIN_ID_MAX + 64], chain[CHAIN_ID_MAX + 1];
	long long at;

	if (r->type != REDIS_REPLY_STRING || r->len >= sizeof(text))
		return false;
	memcpy(text, r->str, r->len);
	text[r->len] = '\0';
	/* %81s: CHAIN_ID_MAX, as in store_locate(). */
	if (text[0] == 'e' && sscanf(text, "e %lld %lld %81s", &at, n,
	    chain) == 3)
		snprintf(key, size, KEY_CHAIN, chain);
	else if (text[0] == 'k' && sscanf(text, "k %lld %lld", &at, n) == 2)
		snprintf(key, size, "%s", KEY_ENTRIES);
	else if (text[0] == 'b' && sscanf(text, "b %lld %lld", &at, n) == 2)
		snprintf(key, size, "%s", KEY_BLOBS_STATEMENTS);
	else if (text[0] == 'x' && sscanf(text, "x %lld", &at) == 1) {
		snprintf(key, size, "%s", KEY_INDEX_STATEMENTS);
		*n = at;
		*statement = true;
	} else
		return false;
	return at >= 0 && (uint64_t)at == index && *n >= 0;
}

enum trace_status
store_log_entries(struct store *s, uint64_t first,
    const unsigned char (*ids)[MERKLE_HASH_LEN], size_t count,
    struct store_log_entries *out, struct trace_error *err)
{
	char key[KEY_CHAIN_MAX], hex[2 * MERKLE_HASH_LEN + 1];
	struct store_batch b;
	enum trace_status rc;
	const redisReply *where;
	bool *statements = NULL;

	memset(out, 0, sizeof(*out));
	if ((out->envelopes = calloc(count ? count : 1,
	    sizeof(*out->envelopes))) == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	/* Round trip 1: where each leaf's statement is. */
	store_batch_init(&b);
	store_batch_command(&b);
	store_batch_str(&b, "HMGET");
	store_batch_str(&b, KEY_IDS);
	for (size_t i = 0; i < count; i++) {
		hex_encode(ids[i], MERKLE_HASH_LEN, hex);
		store_batch_fmt(&b, "%s", hex);
	}
	if ((rc = store_batch_run(s, &b, err)) != TRACE_OK)
		goto out;
	where = store_batch_take(&b, 0);
	store_batch_clear(&b);
	if (where->type != REDIS_REPLY_ARRAY || where->elements != count) {
		freeReplyObject((redisReply *)where);
		rc = corrupt(err, "leaf locations");
		goto out;
	}
	/* Round trip 2: the records. */
	store_batch_init(&b);
	if ((statements = calloc(count ? count : 1, sizeof(bool))) == NULL) {
		freeReplyObject((redisReply *)where);
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		long long n;

		if (!leaf_location(where->element[i], first + i, key,
		    sizeof(key), &n, &statements[i])) {
			rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt",
			    NULL, "leaf %" PRIu64 " has no statement of a kind "
			    "this server serves", first + i);
			break;
		}
		store_batch_command(&b);
		store_batch_str(&b, statements[i] ? "HGET" : "LINDEX");
		store_batch_fmt(&b, "%s", key);
		store_batch_fmt(&b, "%lld", n);
	}
	freeReplyObject((redisReply *)where);
	if (rc != TRACE_OK || (rc = store_batch_run(s, &b, err)) != TRACE_OK)
		goto out_batch;
	for (size_t i = 0; i < count; i++) {
		const redisReply *r = store_batch_reply(&b, i);
		struct store_record rec;

		hex_encode(ids[i], MERKLE_HASH_LEN, hex);
		if (statements[i] && r->type == REDIS_REPLY_STRING) {
			/* The envelope itself; tiles.c checks its leaf. */
			rec.envelope = r->str;
			rec.envelope_len = r->len;
		} else if (r->type != REDIS_REPLY_STRING ||
		    !store_record_parse(r->str, r->len, &rec) ||
		    strcmp(rec.id, hex) != 0 || rec.log_index < 0 ||
		    (uint64_t)rec.log_index != first + i) {
			rc = corrupt(err, "leaf record");
			break;
		}
		if ((out->envelopes[i].text = malloc(rec.envelope_len + 1)) ==
		    NULL) {
			rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
			break;
		}
		memcpy(out->envelopes[i].text, rec.envelope, rec.envelope_len);
		out->envelopes[i].text[rec.envelope_len] = '\0';
		out->envelopes[i].len = rec.envelope_len;
		out->count = i + 1;
	}
out_batch:
	store_batch_clear(&b);
out:
	free(statements);
	if (rc != TRACE_OK)
		store_log_entries_clear(out);
	return rc;
}
