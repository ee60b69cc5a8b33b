/*
 * bundleindex.c - the lot index in a bundle (SPEC 11, docs/PROTOCOL.md
 * 10.5): reading the "index" member and checking that the
 * bundle's events are the whole chain, and its key entries all entries of
 * their keys, as of the bundle's checkpoint.
 *
 *   "index": {"statement": {"envelope", "logIndex", "proof"},
 *             "lot": "<base64 index proof>",
 *             "keys": [{"keyid", "proof": "<base64 index proof>"}]}
 *
 * Every check that fails is reported (subject "index") and the report's
 * completeness says the first reason; bundle.c calls this after the events
 * and keys have been checked, so their ids and log indexes are known.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "encoding.h"
#include "json.h"
#include "keys.h"
#include "lotindex.h"
#include "timefmt.h"


static bool
decode_proof(const struct json_value *v, unsigned char **out, size_t *len)
{
	size_t max;

	if (v == NULL || v->type != JSON_STRING ||
	    v->u.string.len > base64_encoded_len(LOTINDEX_PROOF_MAX))
		return false;
	max = base64_decoded_max(v->u.string.len);
	if ((*out = malloc(max + 1)) == NULL)
		return false;
	if (base64_decode(v->u.string.ptr, v->u.string.len, *out, len, NULL) !=
	    TRACE_OK) {
		free(*out);
		*out = NULL;
		return false;
	}
	return true;
}

struct bundle_index *
bundle_index_read(struct bundle *b, const struct json_value *v,
    void (*item_read)(struct bundle *, const struct json_value *,
    struct bundle_item *))
{
	struct bundle_index *ix = calloc(1, sizeof(*ix));
	const struct json_value *st, *keys;

	if (ix == NULL)
		return NULL;
	ix->statement.log_index = -1;
	if (v->type != JSON_OBJECT) {
		snprintf(ix->problem, sizeof(ix->problem), "index is not a "
		    "JSON object");
		return ix;
	}
	st = json_object_get(v, "statement");
	if (st == NULL) {
		snprintf(ix->problem, sizeof(ix->problem), "index has no "
		    "statement");
		return ix;
	}
	item_read(b, st, &ix->statement);
	if (!ix->statement.readable) {
		snprintf(ix->problem, sizeof(ix->problem), "index statement: "
		    "%.250s", ix->statement.problem);
		return ix;
	}
	if (!decode_proof(json_object_get(v, "lot"), &ix->lot, &ix->lot_len)) {
		snprintf(ix->problem, sizeof(ix->problem), "index.lot is not "
		    "base64 of an index proof");
		return ix;
	}
	keys = json_object_get(v, "keys");
	if (keys == NULL || keys->type != JSON_ARRAY ||
	    keys->u.array.count > BUNDLE_KEYS_MAX) {
		snprintf(ix->problem, sizeof(ix->problem), "index.keys is not "
		    "an array of at most %d", BUNDLE_KEYS_MAX);
		return ix;
	}
	if ((ix->keys = calloc(keys->u.array.count + 1, sizeof(*ix->keys))) ==
	    NULL) {
		snprintf(ix->problem, sizeof(ix->problem), "out of memory");
		return ix;
	}
	for (size_t i = 0; i < keys->u.array.count; i++) {
		const struct json_value *k = keys->u.array.items[i], *id;
		struct bundle_index_key *out = &ix->keys[ix->key_count];

		id = k->type == JSON_OBJECT ? json_object_get(k, "keyid") : NULL;
		if (id == NULL || id->type != JSON_STRING ||
		    !key_id_valid(id->u.string.ptr, id->u.string.len) ||
		    !decode_proof(json_object_get(k, "proof"), &out->proof,
		    &out->proof_len)) {
			snprintf(ix->problem, sizeof(ix->problem), "index.keys["
			    "%zu] is not {\"keyid\", \"proof\"}", i);
			return ix;
		}
		memcpy(out->keyid, id->u.string.ptr, id->u.string.len);
		ix->key_count++;
	}
	ix->readable = true;
	return ix;
}

void
bundle_index_free(struct bundle_index *ix)
{
	if (ix == NULL)
		return;
	dsse_envelope_clear(&ix->statement.env);
	free(ix->lot);
	for (size_t i = 0; i < ix->key_count; i++)
		free(ix->keys[i].proof);
	free(ix->keys);
	free(ix);
}

const char *
bundle_completeness_name(enum bundle_completeness c)
{
	switch (c) {
	case BUNDLE_COMPLETE: return "complete";
	case BUNDLE_ABSENT: return "absent";
	case BUNDLE_INCOMPLETE: return "incomplete";
	default: return "unknown";
	}
}

/* The index statement's payload (docs/PROTOCOL.md 9.10.2). */
struct statement {
	long long time;
	uint64_t size;
	unsigned char root[LOTINDEX_HASH_LEN];
	long long first;                /* the log's first index statement,
	                                 * -1 if not said (older statements) */
	long long max_age, grace;       /* the limits the log enforced at
	                                 * ingest (seconds), -1 if not said */
};

static bool
statement_parse(const struct dsse_envelope *env, struct statement *st,
    char *why, size_t size)
{
	static const char *const fields[] = { "v", "type", "time", "size",
		"root", "entries", "first", "maxAge", "grace", NULL };
	struct json_doc *doc = NULL;
	const struct json_value *root, *f;
	struct trace_error err;
	long long n;
	int offset;
	bool ok = false;

	if (json_parse((const char *)env->payload, env->payload_len,
	    &json_limits_default, &doc, &err) != TRACE_OK) {
		snprintf(why, size, "the index statement is not JSON: %.200s",
		    err.message);
		return false;
	}
	root = json_doc_root(doc);
	if (root->type != JSON_OBJECT ||
	    json_object_only(root, fields, &err) != TRACE_OK ||
	    json_get_int(root, "v", true, &n, &err) != TRACE_OK || n != 1 ||
	    (f = json_object_get(root, "type")) == NULL ||
	    f->type != JSON_STRING || strcmp(f->u.string.ptr, "index") != 0 ||
	    (f = json_object_get(root, "time")) == NULL ||
	    f->type != JSON_STRING || !time_parse_rfc3339(f->u.string.ptr,
	    f->u.string.len, &st->time, &offset) || offset != 0 ||
	    json_get_int(root, "size", true, &n, &err) != TRACE_OK || n < 1 ||
	    (f = json_object_get(root, "root")) == NULL ||
	    f->type != JSON_STRING || !hex_decode(f->u.string.ptr,
	    f->u.string.len, st->root, LOTINDEX_HASH_LEN, false) ||
	    json_get_int(root, "entries", true, &n, &err) != TRACE_OK || n < 0) {
		snprintf(why, size, "the index statement is not {v: 1, type: "
		    "\"index\", time (UTC), size, root (64 hex), entries}");
		goto out;
	}
	json_get_int(root, "size", true, &n, &err);
	st->size = (uint64_t)n;
	/* Optional (9.10.2): where round 2 began, at or before itself. */
	st->first = -1;
	if (json_object_get(root, "first") != NULL &&
	    (json_get_int(root, "first", true, &st->first, &err) != TRACE_OK ||
	    st->first < 0 || (uint64_t)st->first > st->size)) {
		snprintf(why, size, "the index statement's first is not a log "
		    "index at or before its own");
		goto out;
	}
	/* Optional (9.10.2): the receipt-time limits of SPEC 8. */
	st->max_age = st->grace = -1;
	if ((json_object_get(root, "maxAge") != NULL &&
	    (json_get_int(root, "maxAge", true, &st->max_age, &err) !=
	    TRACE_OK || st->max_age < 0)) ||
	    (json_object_get(root, "grace") != NULL &&
	    (json_get_int(root, "grace", true, &st->grace, &err) !=
	    TRACE_OK || st->grace < 0)) ||
	    (st->max_age < 0) != (st->grace < 0)) {
		snprintf(why, size, "the index statement's maxAge and grace are "
		    "not both non-negative numbers of seconds");
		goto out;
	}
	ok = true;
out:
	json_doc_free(doc);
	return ok;
}

bool
bundle_receipt_read(const struct bundle_item *it,
    const struct note_verifier *log_key, struct bundle_receipt *out)
{
	struct statement st;
	char why[TRACE_ERROR_MESSAGE_MAX];
	struct trace_error err;

	if (!it->readable || it->pending ||
	    strcmp(it->env.type, TYPE_INDEX) != 0 || it->env.sig_count != 1 ||
	    dsse_verify(&it->env, log_key->public_key, NULL, &err) !=
	    TRACE_OK || !statement_parse(&it->env, &st, why, sizeof(why)) ||
	    st.size != (uint64_t)it->log_index)
		return false;
	*out = (struct bundle_receipt){ .log_index = it->log_index,
		.time = st.time, .max_age = st.max_age, .grace = st.grace,
		.first = st.first };
	return true;
}

bool
bundle_index_first(const struct bundle *b,
    const struct note_verifier *log_key, uint64_t checkpoint_size,
    long long *at, long long *first, bool *limits)
{
	const struct bundle_index *ix = b->index;
	struct statement st;
	char why[TRACE_ERROR_MESSAGE_MAX];
	struct trace_error err;

	if (ix == NULL || !ix->readable ||
	    strcmp(ix->statement.env.type, TYPE_INDEX) != 0 ||
	    ix->statement.env.sig_count != 1 ||
	    dsse_verify(&ix->statement.env, log_key->public_key, NULL, &err) !=
	    TRACE_OK || !statement_parse(&ix->statement.env, &st, why,
	    sizeof(why)) || st.size != (uint64_t)ix->statement.log_index ||
	    st.size + 1 != checkpoint_size)
		return false;
	*at = ix->statement.log_index;
	*first = st.first;
	*limits = st.max_age >= 0;
	return true;
}

struct checker {
	struct bundle_report *r;
	void (*fail)(void *, const char *, const char *);
	void *ctx;
	bool failed;
};

static void
complain(struct checker *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
complain(struct checker *c, const char *code, const char *fmt, ...)
{
	char message[TRACE_ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	c->fail(c->ctx, code, message);
	if (!c->failed) {
		c->r->completeness = BUNDLE_INCOMPLETE;
		snprintf(c->r->completeness_code,
		    sizeof(c->r->completeness_code), "%s", code);
		snprintf(c->r->completeness_message,
		    sizeof(c->r->completeness_message), "%s", message);
	}
	c->failed = true;
}

static void
unknown(struct bundle_report *r, const char *code, const char *message)
{
	r->completeness = BUNDLE_COMPLETENESS_UNKNOWN;
	snprintf(r->completeness_code, sizeof(r->completeness_code), "%s",
	    code);
	snprintf(r->completeness_message, sizeof(r->completeness_message),
	    "%s", message);
}

/* Parse and verify one index proof of key under root; false after a
 * complaint.  what names it for people. */
static bool
index_proof(struct checker *c, const unsigned char *bytes, size_t len,
    const unsigned char key[LOTINDEX_HASH_LEN],
    const unsigned char root[LOTINDEX_HASH_LEN], const char *what,
    struct lotindex_proof *p)
{
	struct trace_error err;

	if (lotindex_proof_parse(bytes, len, p, &err) != TRACE_OK ||
	    lotindex_proof_verify(p, key, root, &err) != TRACE_OK) {
		complain(c, err.code, "the index proof of %s: %s", what,
		    err.message);
		return false;
	}
	return true;
}

void
bundle_index_verify(const struct bundle *b,
    const unsigned char root_public[ED25519_PUBLIC_LEN],
    const struct note_verifier *log_key, struct bundle_report *r,
    bool (*proof_ok)(void *ctx, const struct bundle_item *it, char *why,
    size_t size),
    void (*fail)(void *ctx, const char *code, const char *message),
    void *ctx)
{
	const struct bundle_index *ix = b->index;
	struct checker c = { r, fail, ctx, false };
	struct lotindex_proof *p = NULL;
	struct statement st;
	struct trace_error err;
	unsigned char key[LOTINDEX_HASH_LEN];
	char why[TRACE_ERROR_MESSAGE_MAX], root_keyid[KEYID_LEN + 1];
	uint64_t covered;
	bool lot_member = false;

	if (ix == NULL) {
		unknown(r, "no_index", "the bundle carries no lot index, so "
		    "nothing shows that no event was left out");
		return;
	}
	if (!r->checkpoint_ok) {
		unknown(r, "no_checkpoint", "no valid checkpoint to check the "
		    "lot index against");
		return;
	}
	if (!ix->readable) {
		complain(&c, "bad_index", "%s", ix->problem);
		return;
	}
	if ((p = malloc(sizeof(*p))) == NULL) {
		complain(&c, "bad_index", "out of memory");
		return;
	}
	/* The statement: the log key's, the checkpoint's last leaf. */
	if (strcmp(ix->statement.env.type, TYPE_INDEX) != 0 ||
	    ix->statement.env.sig_count != 1 ||
	    dsse_verify(&ix->statement.env, log_key->public_key, NULL, &err) !=
	    TRACE_OK) {
		complain(&c, "bad_index_signature", "the index statement is "
		    "not a %s statement with one signature by the log key %s",
		    TYPE_INDEX, log_key->name);
		goto out;
	}
	if (!statement_parse(&ix->statement.env, &st, why, sizeof(why))) {
		complain(&c, "bad_index", "%s", why);
		goto out;
	}
	covered = (uint64_t)ix->statement.log_index;
	if (covered + 1 != r->checkpoint.size || st.size != covered) {
		complain(&c, "stale_index", "the index statement at log index "
		    "%" PRIu64 " (covering %" PRIu64 " leaves) is not the last "
		    "leaf of checkpoint %" PRIu64 ": it does not speak for the "
		    "newest leaves", covered, st.size, r->checkpoint.size);
		goto out;
	}
	if (!proof_ok(ctx, &ix->statement, why, sizeof(why))) {
		complain(&c, "bad_index_proof", "index statement: %s", why);
		goto out;
	}
	r->index_size = r->checkpoint.size;
	r->index_time = st.time;

	/* The lot: exactly the events shown, ending at the head shown. */
	lotindex_chain_key(b->chain, key);
	if (index_proof(&c, ix->lot, ix->lot_len, key, st.root, "the lot",
	    p)) {
		size_t shown = b->event_count;

		lot_member = p->kind == LOTINDEX_MEMBER;
		if (p->kind != LOTINDEX_MEMBER) {
			if (shown > 0)
				complain(&c, "index_mismatch", "the index says "
				    "chain %s has no events as of checkpoint %"
				    PRIu64 ", yet the bundle shows %zu",
				    b->chain, r->checkpoint.size, shown);
		} else if (p->entry.count > shown) {
			complain(&c, "truncated", "the index commits to %"
			    PRIu64 " events of this lot as of checkpoint %"
			    PRIu64 "; the bundle shows %zu: %" PRIu64 " left "
			    "out (the newest first: a recall may be hidden)",
			    p->entry.count, r->checkpoint.size, shown,
			    p->entry.count - shown);
		} else {
			const struct bundle_item *head =
			    &b->events[p->entry.count - 1];

			if (p->entry.count < shown || !head->readable ||
			    memcmp(head->env.id, p->entry.id,
			    LOTINDEX_HASH_LEN) != 0 || head->log_index < 0 ||
			    (uint64_t)head->log_index != p->entry.log_index)
				complain(&c, "index_mismatch", "the index "
				    "commits to %" PRIu64 " events ending at "
				    "log index %" PRIu64 "; the bundle shows "
				    "%zu events with another head",
				    p->entry.count, p->entry.log_index, shown);
		}
	}

	/* Every key named or signing: all its entries (no hidden revoke). */
	key_id(root_public, root_keyid);
	for (size_t i = 0; i < b->key_count + b->event_count; i++) {
		const char *keyid;
		const struct bundle_index_key *k = NULL;
		uint64_t count = 0;
		long long last = -1;
		const unsigned char *last_id = NULL;
		bool seen = false;

		if (i < b->key_count) {
			/* An org entry names no key (and is not indexed). */
			if (!r->keys[i].parsed ||
			    r->keys[i].entry.op == KEY_OP_ORG)
				continue;
			keyid = r->keys[i].entry.keyid;
		} else {
			if (!r->events[i - b->key_count].parsed)
				continue;
			keyid = r->events[i - b->key_count].signer;
		}
		if (strcmp(keyid, root_keyid) == 0)
			continue;
		/* Each keyid once: skip it if met before. */
		for (size_t j = 0; j < i && !seen; j++) {
			const char *other = j < b->key_count ?
			    (r->keys[j].parsed ? r->keys[j].entry.keyid : "") :
			    (r->events[j - b->key_count].parsed ?
			    r->events[j - b->key_count].signer : "");

			seen = strcmp(other, keyid) == 0;
		}
		if (seen)
			continue;
		for (size_t j = 0; j < ix->key_count && k == NULL; j++)
			if (strcmp(ix->keys[j].keyid, keyid) == 0)
				k = &ix->keys[j];
		if (k == NULL) {
			complain(&c, "missing_key_proof", "no index proof for "
			    "key %s: its entries may not all be shown", keyid);
			continue;
		}
		for (size_t j = 0; j < b->key_count; j++) {
			if (!r->keys[j].parsed ||
			    strcmp(r->keys[j].entry.keyid, keyid) != 0)
				continue;
			count++;
			if (r->keys[j].log_index > last) {
				last = r->keys[j].log_index;
				last_id = b->keys[j].env.id;
			}
		}
		lotindex_keyid_key(keyid, key);
		snprintf(why, sizeof(why), "key %s", keyid);
		if (!index_proof(&c, k->proof, k->proof_len, key, st.root, why,
		    p))
			continue;
		if (p->kind != LOTINDEX_MEMBER) {
			if (count > 0)
				complain(&c, "index_mismatch", "the index has "
				    "no entries naming key %s, yet the bundle "
				    "shows %" PRIu64, keyid, count);
		} else if (p->entry.count > count) {
			complain(&c, "key_entries_hidden", "the index counts %"
			    PRIu64 " entries naming key %s (the last at log "
			    "index %" PRIu64 "); the bundle shows %" PRIu64
			    ": a revocation may be hidden", p->entry.count,
			    keyid, p->entry.log_index, count);
		} else if (p->entry.count < count || last_id == NULL ||
		    memcmp(last_id, p->entry.id, LOTINDEX_HASH_LEN) != 0 ||
		    (uint64_t)last != p->entry.log_index) {
			complain(&c, "index_mismatch", "the index's entry for "
			    "key %s does not match the bundle's entries",
			    keyid);
		}
	}

	/* Receipt time (SPEC 8): nothing covered claims a later time. */
	for (size_t i = 0; i < b->event_count; i++) {
		struct trace_event ev;
		const struct bundle_item *it = &b->events[i];

		if (!it->readable || event_parse_stored(it->env.payload,
		    it->env.payload_len, &ev, &err) != TRACE_OK)
			continue;
		if (ev.time > st.time + LOTINDEX_RECEIPT_SKEW_SECONDS)
			complain(&c, "receipt_time", "event seq %lld claims a "
			    "time more than 5 minutes after the index "
			    "statement that received it", ev.seq);
		event_free(&ev);
	}
	for (size_t i = 0; i < b->key_count; i++)
		if (r->keys[i].parsed &&
		    r->keys[i].entry.time > st.time + LOTINDEX_RECEIPT_SKEW_SECONDS)
			complain(&c, "receipt_time", "the key entry at log "
			    "index %lld claims a time more than 5 minutes after "
			    "the index statement that received it",
			    r->keys[i].log_index);
	if (!c.failed)
		r->completeness = lot_member || b->event_count > 0 ?
		    BUNDLE_COMPLETE : BUNDLE_ABSENT;
out:
	free(p);
}
