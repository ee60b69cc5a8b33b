/*
 * log_index.c - the integrator's side of the lot index (SPEC 11,
 * docs/PROTOCOL.md 9.10): applying each integrated leaf to the index, and
 * the index statement that ends every checkpoint.
 *
 * A step works on a view of the stored index (a lotindex_tree whose
 * loader reads log:{log}:lx:nodes): the paths of every key the batch
 * touches are fetched in one round trip first, the leaves are applied in
 * log order, and the changed records go to Redis in the log's own commit
 * (store_log_commit), so the index always covers exactly the integrated
 * leaves.  What a leaf does to the index:
 *
 *   event at seq s of chain C     SHA-256(C) -> (s + 1, its id, its index)
 *   key entry naming keyid K      SHA-256("key" 0x00 K) -> (entries naming
 *                                 K so far, its id, its index)
 *   index statement, or anything else: nothing
 *
 * When the batch leaves the log caught up (nothing appended meanwhile),
 * the integrator appends an index statement over it and signs the next
 * step's tree, whose last leaf is that statement.  An idle log appends
 * nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/dsse.h"
#include "libtrace/encoding.h"
#include "libtrace/fold.h"
#include "libtrace/json.h"
#include "libtrace/keyentry.h"
#include "libtrace/timefmt.h"
#include "log.h"

/* Fetched ahead per key: path nodes and their siblings to this depth
 * (beyond it, the loader fetches one record at a time). */
static unsigned
prefetch_depth(uint64_t leaves)
{
	unsigned bits = 0;

	/* Paths are about log2(leaves) + 1.3 long (bench/lotindex.c: 22 at
	 * a million); the rare longer one is finished by load_one(). */
	while (leaves >> bits)
		bits++;
	return bits + 12 > LOTINDEX_DEPTH_MAX ? LOTINDEX_DEPTH_MAX : bits + 12;
}

/* A view reads the records as now, or as of an older commit. */
static enum trace_status
view_nodes(const struct log_index_view *v, unsigned char (*positions)[LOTINDEX_POS_MAX],
    const size_t *lens, size_t count, struct lotindex_record *records,
    struct trace_error *err)
{
	if (count == 0)
		return TRACE_OK;
	return v->current ? store_index_nodes(v->store, positions, lens, count,
	    records, err) : store_index_nodes_at(v->store, v->version,
	    positions, lens, count, records, err);
}

static enum trace_status
load_one(void *ctx, const struct lotindex_pos *pos, struct lotindex_record *r,
    struct trace_error *err)
{
	unsigned char p[1][LOTINDEX_POS_MAX];
	size_t len = lotindex_pos_encode(pos, p[0]);

	return view_nodes(ctx, p, &len, 1, r, err);
}

/* Seed t with the records along the paths of keys, in one round trip. */
static enum trace_status
prefetch(const struct log_index_view *v, struct lotindex_tree *t,
    unsigned char (*keys)[LOTINDEX_HASH_LEN], size_t nkeys, unsigned depth,
    struct trace_error *err)
{
	size_t cap = nkeys * (2 * (size_t)depth + 1), n = 0;
	unsigned char (*pos)[LOTINDEX_POS_MAX] = malloc(cap * sizeof(*pos));
	size_t *lens = malloc(cap * sizeof(*lens));
	struct lotindex_pos *ps = malloc(cap * sizeof(*ps));
	struct lotindex_record *recs = malloc(cap * sizeof(*recs));
	enum trace_status rc = TRACE_OK;

	if (pos == NULL || lens == NULL || ps == NULL || recs == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	for (size_t k = 0; k < nkeys; k++) {
		for (unsigned d = 0; d <= depth; d++) {
			struct lotindex_pos p;

			lotindex_pos_of(keys[k], d, &p);
			for (int side = 0; side < 2; side++) {
				if (side == 1) {
					if (d == 0)
						break;
					/* The sibling: flip bit d - 1. */
					p.prefix[(d - 1) / 8] ^=
					    (unsigned char)(0x80 >> ((d - 1) % 8));
				}
				if (lotindex_tree_holds(t, &p))
					continue;
				ps[n] = p;
				lens[n] = lotindex_pos_encode(&p, pos[n]);
				/* Mark it held so duplicates are skipped. */
				memset(&recs[n], 0, sizeof(recs[n]));
				if ((rc = lotindex_tree_seed(t, &p, &recs[n])) !=
				    TRACE_OK)
					goto out;
				n++;
			}
		}
	}
	if ((rc = view_nodes(v, pos, lens, n, recs, err)) != TRACE_OK)
		goto out;
	for (size_t i = 0; i < n && rc == TRACE_OK; i++)
		rc = lotindex_tree_seed(t, &ps[i], &recs[i]);
out:
	free(pos);
	free(lens);
	free(ps);
	free(recs);
	return rc;
}

/* The keyid a stored key entry names, "" if it cannot be read. */
static void
key_entry_subject(const char *envelope, size_t len, char keyid[KEYID_LEN + 1])
{
	struct dsse_envelope env;
	struct key_entry *entry = calloc(1, sizeof(*entry));
	struct trace_error err;
	enum trace_status rc;

	keyid[0] = '\0';
	memset(&env, 0, sizeof(env));
	if (entry == NULL || dsse_envelope_parse_stored(envelope, len, &env,
	    &err) != TRACE_OK)
		goto out;
	rc = key_entry_parse(env.payload, env.payload_len, entry, &err);
	/* A round-1 weak key still names its keyid (keyentry.h). */
	if (rc == TRACE_OK || strcmp(err.code, "weak_public_key") == 0)
		snprintf(keyid, KEYID_LEN + 1, "%s", entry->keyid);
out:
	dsse_envelope_clear(&env);
	free(entry);
}

static enum trace_status
count_dirty(void *ctx, const struct lotindex_pos *pos,
    const struct lotindex_record *r, struct trace_error *err)
{
	(void)pos;
	(void)r;
	(void)err;
	(*(size_t *)ctx)++;
	return TRACE_OK;
}

static enum trace_status
collect(void *ctx, const struct lotindex_pos *pos,
    const struct lotindex_record *r, struct trace_error *err)
{
	struct index_commit *c = ctx;

	(void)err;
	c->position_lens[c->count] = lotindex_pos_encode(pos,
	    c->positions[c->count]);
	c->record_lens[c->count] = lotindex_record_encode(r,
	    c->records[c->count]);
	c->count++;
	return TRACE_OK;
}

void
log_index_step_clear(struct log_index_step *step)
{
	lotindex_tree_free(step->tree);
	free(step->commit.positions);
	free(step->commit.position_lens);
	free(step->commit.records);
	free(step->commit.record_lens);
	memset(step, 0, sizeof(*step));
}

enum trace_status
log_index_apply(struct store *s, uint64_t n0, const struct log_state *st,
    struct log_index_step *step, struct trace_error *err)
{
	struct index_leaf *leaves = NULL;
	unsigned char (*keys)[LOTINDEX_HASH_LEN] = NULL;
	struct lotindex_entry e;
	size_t nkeys = 0, dirty = 0;
	enum trace_status rc;

	memset(step, 0, sizeof(*step));
	step->view.store = s;
	step->view.current = true;
	if ((rc = store_index_meta(s, &step->meta, err)) != TRACE_OK)
		return rc;
	step->commit.through = step->meta.through;
	memcpy(step->commit.root, step->meta.root, LOTINDEX_HASH_LEN);
	step->commit.leaves = step->meta.leaves;
	step->last_is_statement = step->meta.have_statement && n0 > 0 &&
	    step->meta.statement == n0 - 1;
	if (step->meta.through != n0)
		return trace_error_set(err, TRACE_ESTORE, "index_behind", NULL,
		    "the lot index covers %" PRIu64 " leaves but the tree "
		    "holds %" PRIu64, step->meta.through, n0);
	if (st->pending == 0)
		return TRACE_OK;
	leaves = calloc(st->pending, sizeof(*leaves));
	keys = calloc(st->pending, sizeof(*keys));
	step->tree = lotindex_tree_new(load_one, &step->view);
	if (leaves == NULL || keys == NULL || step->tree == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	if ((rc = store_index_leaves(s, st->ids, st->pending, leaves, err)) !=
	    TRACE_OK)
		goto out;
	for (size_t i = 0; i < st->pending; i++) {
		struct index_leaf *l = &leaves[i];
		char keyid[KEYID_LEN + 1];

		/* The log index it was given must be where it is. */
		if (l->kind != INDEX_LEAF_OTHER && l->log_index != n0 + i) {
			rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt",
			    NULL, "leaf %" PRIu64 " is recorded at log index %"
			    PRIu64, n0 + i, l->log_index);
			goto out;
		}
		if (l->kind == INDEX_LEAF_EVENT)
			lotindex_chain_key(l->chain, keys[nkeys++]);
		else if (l->kind == INDEX_LEAF_KEY) {
			key_entry_subject(l->envelope, l->envelope_len, keyid);
			if (keyid[0] == '\0')
				l->kind = INDEX_LEAF_OTHER;
			else
				lotindex_keyid_key(keyid, keys[nkeys++]);
		}
	}
	if ((rc = prefetch(&step->view, step->tree, keys, nkeys,
	    prefetch_depth(step->meta.leaves + nkeys), err)) != TRACE_OK)
		goto out;
	nkeys = 0;
	for (size_t i = 0; i < st->pending; i++) {
		struct index_leaf *l = &leaves[i];
		bool found;

		if (l->kind == INDEX_LEAF_EVENT) {
			e.count = l->seq + 1;
		} else if (l->kind == INDEX_LEAF_KEY) {
			if ((rc = lotindex_tree_get(step->tree, keys[nkeys],
			    &found, &e, err)) != TRACE_OK)
				goto out;
			e.count = found ? e.count + 1 : 1;
		} else
			continue;
		memcpy(e.id, st->ids[i], LOTINDEX_HASH_LEN);
		e.log_index = n0 + i;
		if ((rc = lotindex_tree_set(step->tree, keys[nkeys++], &e,
		    err)) != TRACE_OK)
			goto out;
	}
	step->last_is_statement =
	    leaves[st->pending - 1].kind == INDEX_LEAF_STATEMENT;
	/* What changed goes into the commit. */
	if ((rc = lotindex_tree_each(step->tree, false, count_dirty, &dirty,
	    err)) != TRACE_OK)
		goto out;
	step->commit.positions = malloc((dirty + 1) *
	    sizeof(*step->commit.positions));
	step->commit.position_lens = malloc((dirty + 1) * sizeof(size_t));
	step->commit.records = malloc((dirty + 1) *
	    sizeof(*step->commit.records));
	step->commit.record_lens = malloc((dirty + 1) * sizeof(size_t));
	if (step->commit.positions == NULL ||
	    step->commit.position_lens == NULL ||
	    step->commit.records == NULL || step->commit.record_lens == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	if ((rc = lotindex_tree_each(step->tree, false, collect, &step->commit,
	    err)) != TRACE_OK ||
	    (rc = lotindex_tree_root(step->tree, step->commit.root, err)) !=
	    TRACE_OK)
		goto out;
	step->commit.through = n0 + st->pending;
	step->commit.leaves = step->meta.leaves +
	    lotindex_tree_inserted(step->tree);
out:
	if (leaves != NULL)
		for (size_t i = 0; i < st->pending; i++)
			free(leaves[i].envelope);
	free(leaves);
	free(keys);
	return rc;
}

enum trace_status
log_index_backfill(struct store *s, uint64_t n0, struct log_index_step *step,
    bool *needed, struct trace_error *err)
{
	struct index_meta meta;
	struct log_state st;
	enum trace_status rc;
	uint64_t count;

	*needed = false;
	memset(step, 0, sizeof(*step));
	if ((rc = store_index_meta(s, &meta, err)) != TRACE_OK)
		return rc;
	if (meta.through >= n0)
		return TRACE_OK;
	/* A log from before the index (or one it fell behind): index the
	 * integrated leaves first, a batch per step, from their stored ids. */
	*needed = true;
	count = n0 - meta.through < LOG_BATCH_MAX ? n0 - meta.through :
	    LOG_BATCH_MAX;
	memset(&st, 0, sizeof(st));
	st.pending = (size_t)count;
	if ((st.ids = malloc((size_t)count * MERKLE_HASH_LEN)) == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	if ((rc = store_log_hashes(s, true, 0, meta.through, (size_t)count,
	    (unsigned char *)st.ids, err)) == TRACE_OK)
		rc = log_index_apply(s, meta.through, &st, step, err);
	free(st.ids);
	return rc;
}

enum trace_status
log_index_round1_before(struct store *s, long long *first,
    struct trace_error *err)
{
	uint64_t at = 0;
	long long t;
	bool known;
	enum trace_status rc;

	*first = FOLD_ROUND1_ALWAYS;
	/* The first index statement after log index -1: the first one. */
	if ((rc = store_receipt_time(s, -1, &known, &at, &t, err)) ==
	    TRACE_OK && known)
		*first = (long long)at;
	return rc;
}

enum trace_status
log_index_append_statement(struct store *s, const struct key_pair *log_key,
    uint64_t size, const struct log_index_step *step, long long max_age,
    long long grace, bool *appended, struct trace_error *err)
{
	char root[2 * LOTINDEX_HASH_LEN + 1], when[21];
	char id[2 * SHA256_LEN + 1], payload[600], *text = NULL;
	unsigned char leaf[SHA256_LEN];
	struct dsse_envelope env;
	enum index_append_outcome outcome = INDEX_APPEND_MOVED;
	long long now = time_now(), first;
	size_t len = 0;
	int n;
	enum trace_status rc;

	*appended = false;
	memset(&env, 0, sizeof(env));
	/* SPEC 8 "Data from round 1": every statement names where round 2
	 * began, so a bundle's index statement pins it for a verifier. */
	if ((rc = log_index_round1_before(s, &first, err)) != TRACE_OK)
		return rc;
	if (first == FOLD_ROUND1_ALWAYS || (uint64_t)first > size)
		first = (long long)size;
	/* Receipt times never decrease (SPEC 8), whoever integrates. */
	if (step->meta.have_statement && now < step->meta.time)
		now = step->meta.time;
	time_format_utc(now, when);
	hex_encode(step->commit.root, LOTINDEX_HASH_LEN, root);
	n = snprintf(payload, sizeof(payload), "{\"v\":1,\"type\":\"index\","
	    "\"time\":\"%s\",\"size\":%" PRIu64 ",\"root\":\"%s\","
	    "\"entries\":%" PRIu64 ",\"first\":%lld,\"maxAge\":%lld,"
	    "\"grace\":%lld}", when, size, root, step->commit.leaves, first,
	    max_age, grace);
	if (n < 0 || (size_t)n >= sizeof(payload))
		return trace_error_set(err, TRACE_ETOOBIG, NULL, NULL,
		    "index statement too long");
	if ((rc = dsse_sign(TYPE_INDEX, (const unsigned char *)payload,
	    (size_t)n, log_key->secret, log_key->keyid, &env, err)) !=
	    TRACE_OK)
		return rc;
	if ((text = dsse_envelope_to_text(&env, &len)) == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	hex_encode(env.id, SHA256_LEN, id);
	merkle_leaf_hash_statement(TYPE_INDEX, (const unsigned char *)payload,
	    (size_t)n, leaf);
	if ((rc = store_index_append(s, size, id, leaf, text, len, now,
	    &outcome, err)) != TRACE_OK)
		goto out;
	*appended = outcome == INDEX_APPEND_OK;
out:
	free(text);
	dsse_envelope_clear(&env);
	return rc;
}

/* ---- receipt times of statements logged before lx:times --------------- */

#define INDEX_TIMES_PER_CALL 512

struct times_backfill {
	struct index_time batch[INDEX_TIMES_PER_CALL];
	size_t count, added;
	struct store *store;
};

/* One stored index statement: its signed time into the batch. */
static enum trace_status
times_one(void *ctx, uint64_t log_index, const char *envelope, size_t len,
    struct trace_error *err)
{
	static const struct json_limits limits = {
		.max_size = 4096, .max_depth = 4, .max_string = 512,
		.max_values = 64,
	};
	struct times_backfill *tb = ctx;
	struct dsse_envelope env;
	struct json_doc *doc = NULL;
	struct index_time *it = &tb->batch[tb->count];
	const char *when = NULL;
	size_t when_len = 0;
	int offset;
	enum trace_status rc = TRACE_OK;

	memset(&env, 0, sizeof(env));
	if (dsse_envelope_parse_stored(envelope, len, &env, err) != TRACE_OK ||
	    json_parse((const char *)env.payload, env.payload_len, &limits,
	    &doc, err) != TRACE_OK ||
	    json_get_string(json_doc_root(doc), "time", false, &when,
	    &when_len, err) != TRACE_OK || when == NULL ||
	    when_len >= sizeof(it->text) ||
	    !time_parse_rfc3339(when, when_len, &it->time, &offset)) {
		rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "the index statement at log index %" PRIu64 " has no "
		    "readable time", log_index);
		goto out;
	}
	memcpy(it->text, when, when_len);
	it->text[when_len] = '\0';
	it->log_index = log_index;
	if (++tb->count == INDEX_TIMES_PER_CALL) {
		rc = store_index_times_add(tb->store, tb->batch, tb->count, err);
		tb->added += tb->count;
		tb->count = 0;
	}
out:
	json_doc_free(doc);
	dsse_envelope_clear(&env);
	return rc;
}

enum trace_status
log_index_times_backfill(struct store *s, size_t *added,
    struct trace_error *err)
{
	struct times_backfill *tb;
	enum trace_status rc;
	bool missing;

	*added = 0;
	if ((rc = store_index_times_missing(s, &missing, err)) != TRACE_OK ||
	    !missing)
		return rc;
	if ((tb = calloc(1, sizeof(*tb))) == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	tb->store = s;
	if ((rc = store_index_statements_each(s, times_one, tb, err)) ==
	    TRACE_OK && tb->count > 0) {
		rc = store_index_times_add(s, tb->batch, tb->count, err);
		tb->added += tb->count;
	}
	*added = tb->added;
	free(tb);
	return rc;
}

/* ---- bundles -------------------------------------------------------------- */

static void
write_proof(struct buf *out, const struct lotindex_proof *p,
    unsigned char *scratch, char *b64)
{
	size_t n = lotindex_proof_encode(p, scratch);

	base64_encode(scratch, n, b64);
	buf_printf(out, "\"%s\"", b64);
}

enum trace_status
log_index_bundle(struct store *s, const char *chain,
    char (*keyids)[KEYID_LEN + 1], size_t nkeyids, uint64_t size,
    struct buf *out, struct trace_error *err)
{
	struct log_index_view v = { s, false, size };
	struct lotindex_tree *t = NULL;
	struct lotindex_proof *p = NULL;
	unsigned char (*keys)[LOTINDEX_HASH_LEN] = NULL;
	unsigned char proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN], *scratch = NULL;
	char b64h[base64_encoded_len(MERKLE_HASH_LEN) + 1], *b64 = NULL;
	char *statement = NULL;
	size_t statement_len = 0, count = 0;
	struct index_meta meta;
	enum trace_status rc;

	/* The statement that ends the checkpoint (SPEC 11); a checkpoint of
	 * a log from before the index has none, and the bundle says nothing. */
	if (size == 0)
		return TRACE_OK;
	if ((rc = store_index_statement(s, size - 1, &statement,
	    &statement_len, err)) != TRACE_OK || statement == NULL)
		return rc;
	keys = calloc(nkeyids + 1, sizeof(*keys));
	p = malloc(sizeof(*p));
	scratch = malloc(LOTINDEX_PROOF_MAX);
	b64 = malloc(base64_encoded_len(LOTINDEX_PROOF_MAX) + 1);
	t = lotindex_tree_new(load_one, &v);
	if (keys == NULL || p == NULL || scratch == NULL || b64 == NULL ||
	    t == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	lotindex_chain_key(chain, keys[0]);
	for (size_t i = 0; i < nkeyids; i++)
		lotindex_keyid_key(keyids[i], keys[i + 1]);
	if ((rc = store_index_meta(s, &meta, err)) != TRACE_OK ||
	    (rc = prefetch(&v, t, keys, nkeyids + 1,
	    prefetch_depth(meta.leaves), err)) != TRACE_OK ||
	    (rc = log_prove_inclusion(s, size - 1, size, proof, &count, err)) !=
	    TRACE_OK)
		goto out;
	buf_puts(out, ",\"index\":{\"statement\":{\"envelope\":");
	buf_append(out, statement, statement_len);
	buf_printf(out, ",\"logIndex\":%" PRIu64 ",\"proof\":[", size - 1);
	for (size_t i = 0; i < count; i++) {
		base64_encode(proof[i], MERKLE_HASH_LEN, b64h);
		buf_printf(out, "%s\"%s\"", i > 0 ? "," : "", b64h);
	}
	buf_puts(out, "]},\"lot\":");
	if ((rc = lotindex_tree_prove(t, keys[0], p, err)) != TRACE_OK)
		goto out;
	write_proof(out, p, scratch, b64);
	buf_puts(out, ",\"keys\":[");
	for (size_t i = 0; i < nkeyids; i++) {
		if ((rc = lotindex_tree_prove(t, keys[i + 1], p, err)) !=
		    TRACE_OK)
			goto out;
		buf_printf(out, "%s{\"keyid\":\"%s\",\"proof\":",
		    i > 0 ? "," : "", keyids[i]);
		write_proof(out, p, scratch, b64);
		buf_puts(out, "}");
	}
	buf_puts(out, "]}");
out:
	lotindex_tree_free(t);
	free(statement);
	free(keys);
	free(p);
	free(scratch);
	free(b64);
	return rc;
}
