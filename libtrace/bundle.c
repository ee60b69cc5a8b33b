/*
 * bundle.c - parsing and offline verification of chain bundles, and the
 * consistency check between two checkpoints (see bundle.h for what is
 * checked and what a passing bundle means).
 *
 * Verification is built to cost little more than its Ed25519 signature
 * checks (docs/PERFORMANCE.md: a 10,000-event bundle within 1.3x of them): every
 * other step is linear, keys and statement ids are found through open
 * addressing hash tables, and each leaf hash is computed once, without
 * building the PAE (its header is short, the payload is hashed in place).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "encoding.h"
#include "json.h"
#include "lotindex.h"
#include "policy.h"

/* ---- parsing ---------------------------------------------------------------- */

void
bundle_free(struct bundle *b)
{
	size_t pending_events = 0, pending_keys = 0;

	if (b == NULL)
		return;
	if (b->pending != NULL) {
		pending_events = b->pending->event_count;
		pending_keys = b->pending->key_count;
		free(b->pending->checkpoint);
		free(b->pending);
	}
	for (size_t i = 0; i < b->event_count + pending_events; i++)
		dsse_envelope_clear(&b->events[i].env);
	for (size_t i = 0; i < b->key_count + pending_keys; i++)
		dsse_envelope_clear(&b->keys[i].env);
	for (size_t i = 0; i < b->receipt_count; i++)
		dsse_envelope_clear(&b->receipts[i].env);
	free(b->receipts);
	free(b->events);
	free(b->keys);
	bundle_index_free(b->index);
	free(b->checkpoint);
	free(b->proof_pool);
	free(b);
}

/* A proof element: a JSON string, base64 of a 32-byte hash, into out. */
static bool
json_proof_hash(const struct json_value *h, unsigned char out[MERKLE_HASH_LEN])
{
	unsigned char raw[64];
	size_t n = 0;

	if (h->type != JSON_STRING || h->u.string.len > 64 ||
	    base64_decode(h->u.string.ptr, h->u.string.len, raw, &n, NULL) !=
	    TRACE_OK || n != MERKLE_HASH_LEN)
		return false;
	memcpy(out, raw, MERKLE_HASH_LEN);
	return true;
}

/*
 * Append the hashes of proof (a JSON array, at most MERKLE_PROOF_MAX
 * elements: the caller checked) to b's pool, where room is reserved;
 * *first is where they start.  False after writing to problem which
 * element of the what (e.g. "inclusion proof") is not base64 of a hash.
 */
static bool
pool_hashes(struct bundle *b, const struct json_value *proof,
    const char *what, size_t *first, char *problem, size_t size)
{
	*first = b->pool_count;
	for (size_t i = 0; i < proof->u.array.count; i++) {
		if (!json_proof_hash(proof->u.array.items[i],
		    b->proof_pool[b->pool_count])) {
			snprintf(problem, size, "%s element %zu is not base64 "
			    "of a 32-byte hash", what, i);
			return false;
		}
		b->pool_count++;
	}
	return true;
}

/* Read {"envelope", "logIndex", "proof"} into it (pool room reserved). */
static void
item_read(struct bundle *b, const struct json_value *v,
    struct bundle_item *it)
{
	const struct json_value *env, *proof, *index;
	struct trace_error err;

	it->log_index = -1;
	if (v->type != JSON_OBJECT) {
		snprintf(it->problem, sizeof(it->problem), "not a JSON object");
		return;
	}
	index = json_object_get(v, "logIndex");
	if (index == NULL || index->type != JSON_INT || index->u.integer < 0) {
		snprintf(it->problem, sizeof(it->problem), "no logIndex (a "
		    "non-negative integer)");
		return;
	}
	it->log_index = index->u.integer;
	proof = json_object_get(v, "proof");
	if (proof == NULL || proof->type != JSON_ARRAY) {
		snprintf(it->problem, sizeof(it->problem), "no inclusion proof "
		    "(an array)");
		return;
	}
	if (proof->u.array.count > MERKLE_PROOF_MAX) {
		snprintf(it->problem, sizeof(it->problem), "inclusion proof of "
		    "%zu elements (at most %d)", proof->u.array.count,
		    MERKLE_PROOF_MAX);
		return;
	}
	if (!pool_hashes(b, proof, "inclusion proof", &it->proof_first,
	    it->problem, sizeof(it->problem)))
		return;
	it->proof_count = proof->u.array.count;
	env = json_object_get(v, "envelope");
	if (env == NULL) {
		snprintf(it->problem, sizeof(it->problem), "no envelope");
		return;
	}
	/* Read as stored (up to 4 signatures), so that an envelope with more
	 * than one is still an item whose id links the next event and whose
	 * proof is checked; verification then refuses it as bad_signatures. */
	if (dsse_envelope_from_json_stored(env, &it->env, &err) != TRACE_OK) {
		snprintf(it->problem, sizeof(it->problem), "envelope: %.200s%s%.60s",
		    err.message, err.field[0] ? " at " : "", err.field);
		return;
	}
	it->readable = true;
}

/* Proof elements of every item of list, for the pool size. */
static size_t
proof_elements(const struct json_value *list)
{
	size_t n = 0;

	for (size_t i = 0; list != NULL && i < list->u.array.count; i++) {
		const struct json_value *p = json_object_get(
		    list->u.array.items[i], "proof");

		if (p != NULL && p->type == JSON_ARRAY &&
		    p->u.array.count <= MERKLE_PROOF_MAX)
			n += p->u.array.count;
	}
	return n;
}

/*
 * The pending member's parts (docs/PROTOCOL.md 10.1): *pv the member when
 * it is an object, its events and keys arrays (NULL when absent or not
 * arrays: the member is then unreadable, noted in why).
 */
static void
pending_parts(const struct json_value *root, const struct json_value **pv,
    const struct json_value **events, const struct json_value **keys,
    char *why, size_t size)
{
	const struct json_value *v = json_object_get(root, "pending");

	*pv = *events = *keys = NULL;
	why[0] = '\0';
	if (v == NULL)
		return;
	if (v->type != JSON_OBJECT) {
		snprintf(why, size, "\"pending\" is not an object");
		return;
	}
	*pv = v;
	*events = json_object_get(v, "events");
	*keys = json_object_get(v, "keys");
	if (*events == NULL || (*events)->type != JSON_ARRAY || *keys == NULL ||
	    (*keys)->type != JSON_ARRAY) {
		snprintf(why, size, "\"pending\" needs \"events\" and \"keys\" "
		    "arrays");
		*events = *keys = NULL;
	}
}

/* Read the pending member's checkpoint and consistency proof (pool room
 * reserved); its items are read by the caller. */
static bool
pending_read(struct bundle *b, const struct json_value *v,
    struct bundle_pending *p)
{
	const struct json_value *note = json_object_get(v, "checkpoint");
	const struct json_value *proof = json_object_get(v, "consistency");

	if (note == NULL || note->type != JSON_STRING) {
		snprintf(p->problem, sizeof(p->problem), "\"pending\" has no "
		    "\"checkpoint\" (a string)");
		return true;
	}
	if ((p->checkpoint = malloc(note->u.string.len + 1)) == NULL)
		return false;
	memcpy(p->checkpoint, note->u.string.ptr, note->u.string.len + 1);
	p->checkpoint_len = note->u.string.len;
	if (proof == NULL || proof->type != JSON_ARRAY ||
	    proof->u.array.count > MERKLE_PROOF_MAX) {
		snprintf(p->problem, sizeof(p->problem), "\"pending\" has no "
		    "\"consistency\" proof (an array of at most %d hashes)",
		    MERKLE_PROOF_MAX);
		return true;
	}
	if (!pool_hashes(b, proof, "consistency proof", &p->consistency_first,
	    p->problem, sizeof(p->problem)))
		return true;
	p->consistency_count = proof->u.array.count;
	p->readable = true;
	return true;
}

enum trace_status
bundle_parse(const char *text, size_t len, struct bundle **out,
    struct trace_error *err)
{
	struct json_limits limits = json_limits_default;
	struct json_doc *doc = NULL;
	const struct json_value *root, *events, *keys, *v, *pv, *pevents,
	    *pkeys, *receipts;
	size_t pending_events, pending_keys;
	char pending_why[TRACE_ERROR_MESSAGE_MAX];
	struct bundle *b = NULL;
	enum trace_status rc;

	*out = NULL;
	limits.max_size = BUNDLE_TEXT_MAX;
	limits.max_depth = 9;           /* pending items are one level deeper */
	limits.max_string = NOTE_MAX_LEN;
	/* An item is at most ~90 values (4 signatures, 64 proof hashes). */
	limits.max_values = (BUNDLE_EVENTS_MAX + BUNDLE_KEYS_MAX) * 100 + 64;
	if ((rc = json_parse(text, len, &limits, &doc, err)) != TRACE_OK)
		return rc;
	root = json_doc_root(doc);
	if (root->type != JSON_OBJECT) {
		rc = trace_error_set(err, TRACE_EMALFORMED, "wrong_type", NULL,
		    "a bundle is a JSON object");
		goto out;
	}
	events = json_object_get(root, "events");
	keys = json_object_get(root, "keys");
	if ((events != NULL && events->type != JSON_ARRAY) ||
	    (keys != NULL && keys->type != JSON_ARRAY)) {
		rc = trace_error_set(err, TRACE_EMALFORMED, "wrong_type",
		    events != NULL && events->type != JSON_ARRAY ? "events" :
		    "keys", "\"events\" and \"keys\" are arrays");
		goto out;
	}
	/* An unreadable "receipts" shows nothing: read as absent. */
	if ((receipts = json_object_get(root, "receipts")) != NULL &&
	    (receipts->type != JSON_ARRAY ||
	    receipts->u.array.count > BUNDLE_EVENTS_MAX))
		receipts = NULL;
	pending_parts(root, &pv, &pevents, &pkeys, pending_why,
	    sizeof(pending_why));
	pending_events = pevents != NULL ? pevents->u.array.count : 0;
	pending_keys = pkeys != NULL ? pkeys->u.array.count : 0;
	if ((events != NULL && events->u.array.count + pending_events >
	    BUNDLE_EVENTS_MAX) || (keys != NULL && keys->u.array.count +
	    pending_keys > BUNDLE_KEYS_MAX) || pending_events >
	    BUNDLE_EVENTS_MAX || pending_keys > BUNDLE_KEYS_MAX) {
		rc = trace_error_set(err, TRACE_ETOOBIG, "too_large", NULL,
		    "a bundle holds at most %d events and %d key entries",
		    BUNDLE_EVENTS_MAX, BUNDLE_KEYS_MAX);
		goto out;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL)
		goto nomem;
	if ((v = json_object_get(root, "chain")) != NULL &&
	    v->type == JSON_STRING && v->u.string.len <= CHAIN_ID_MAX)
		memcpy(b->chain, v->u.string.ptr, v->u.string.len + 1);
	if ((v = json_object_get(root, "checkpoint")) != NULL &&
	    v->type == JSON_STRING) {
		if ((b->checkpoint = malloc(v->u.string.len + 1)) == NULL)
			goto nomem;
		memcpy(b->checkpoint, v->u.string.ptr, v->u.string.len + 1);
		b->checkpoint_len = v->u.string.len;
	}
	b->event_count = events != NULL ? events->u.array.count : 0;
	b->key_count = keys != NULL ? keys->u.array.count : 0;
	b->events = calloc(b->event_count + pending_events + 1,
	    sizeof(*b->events));
	b->keys = calloc(b->key_count + pending_keys + 1, sizeof(*b->keys));
	/* The index statement's proof and the pending consistency proof have
	 * at most MERKLE_PROOF_MAX each. */
	b->proof_pool = malloc((proof_elements(events) + proof_elements(keys) +
	    proof_elements(pevents) + proof_elements(pkeys) +
	    proof_elements(receipts) +
	    2 * MERKLE_PROOF_MAX + 1) * MERKLE_HASH_LEN);
	b->receipt_count = receipts != NULL ? receipts->u.array.count : 0;
	b->receipts = calloc(b->receipt_count + 1, sizeof(*b->receipts));
	if (b->events == NULL || b->keys == NULL || b->proof_pool == NULL ||
	    b->receipts == NULL)
		goto nomem;
	for (size_t i = 0; i < b->receipt_count; i++)
		item_read(b, receipts->u.array.items[i], &b->receipts[i]);
	for (size_t i = 0; i < b->event_count; i++)
		item_read(b, events->u.array.items[i], &b->events[i]);
	for (size_t i = 0; i < b->key_count; i++)
		item_read(b, keys->u.array.items[i], &b->keys[i]);
	if (json_object_get(root, "pending") != NULL) {
		struct bundle_pending *p = calloc(1, sizeof(*p));

		if ((b->pending = p) == NULL)
			goto nomem;
		snprintf(p->problem, sizeof(p->problem), "%s", pending_why);
		if (pv != NULL && pevents != NULL && !pending_read(b, pv, p))
			goto nomem;
		p->event_count = pending_events;
		p->key_count = pending_keys;
		for (size_t i = 0; i < pending_events; i++) {
			struct bundle_item *it = &b->events[b->event_count + i];

			it->pending = true;
			item_read(b, pevents->u.array.items[i], it);
		}
		for (size_t i = 0; i < pending_keys; i++) {
			struct bundle_item *it = &b->keys[b->key_count + i];

			it->pending = true;
			item_read(b, pkeys->u.array.items[i], it);
		}
	}
	if ((v = json_object_get(root, "index")) != NULL &&
	    (b->index = bundle_index_read(b, v, item_read)) == NULL)
		goto nomem;
	*out = b;
	b = NULL;
	rc = TRACE_OK;
	goto out;
nomem:
	rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL, "out of memory");
out:
	bundle_free(b);
	json_doc_free(doc);
	return rc;
}

/* ---- verification ------------------------------------------------------------ */

const char *
bundle_subject_name(enum bundle_subject subject)
{
	switch (subject) {
	case BUNDLE_SUBJECT_CHECKPOINT: return "checkpoint";
	case BUNDLE_SUBJECT_KEY: return "key entry";
	case BUNDLE_SUBJECT_EVENT: return "event";
	case BUNDLE_SUBJECT_INDEX: return "index";
	case BUNDLE_SUBJECT_PENDING: return "pending";
	default: return "bundle";
	}
}

void
bundle_report_free(struct bundle_report *r)
{
	if (r == NULL)
		return;
	free(r->events);
	free(r->keys);
	free(r->receipts);
	free(r->failures);
	fold_result_clear(&r->fold);
	memset(r, 0, sizeof(*r));
}

/*
 * Keys by key id: open addressing over a power-of-two table, the first 8
 * hex digits of the id (themselves SHA-256 output) as the hash.
 */
struct key_table {
	struct key_state *states;       /* [0] is the root */
	size_t count, cap;
	size_t *slots;                  /* state index + 1, 0 = empty */
	size_t mask;
};

static size_t
id_hash(const char *hex)
{
	size_t h = 0;

	for (int i = 0; i < 16 && hex[i] != '\0'; i++)
		h = h * 16 + (size_t)(hex[i] <= '9' ? hex[i] - '0' :
		    (hex[i] | 0x20) - 'a' + 10);
	return h;
}

static struct key_state *
key_find(const struct key_table *t, const char *keyid)
{
	for (size_t s = id_hash(keyid) & t->mask; t->slots[s] != 0;
	    s = (s + 1) & t->mask)
		if (strcmp(t->states[t->slots[s] - 1].entry.keyid, keyid) == 0)
			return &t->states[t->slots[s] - 1];
	return NULL;
}

/* Add a state (room was reserved for every key entry and the root). */
static struct key_state *
key_add(struct key_table *t, const struct key_state *state)
{
	size_t s = id_hash(state->entry.keyid) & t->mask;

	while (t->slots[s] != 0)
		s = (s + 1) & t->mask;
	t->states[t->count] = *state;
	t->slots[s] = ++t->count;
	return &t->states[t->count - 1];
}

/*
 * Every org entry that passed its checks, in log order (SPEC 8
 * "Organisations"): an enrollment is checked against its org as it stood
 * at the enrollment's log index, an event against its signer's org at the
 * event's.  Orgs are few: a linear search.
 */
struct org_version {
	struct org_info org;
	long long log_index;
};

struct org_table {
	struct org_version *v;
	size_t count;
	/* Round 1 (SPEC 8 "Data from round 1"): key entries logged below it
	 * knew no org registry, and keys with a free-text org registered
	 * lots by round 1's rule.  Where round 2 began, as the bundle proves
	 * it: the log's first index statement (round1_before), or the
	 * bundle's first org entry if that comes earlier (round 1 had no
	 * org entries, so one is round-2 data too). */
	long long round1_until;
};

/* Org id as it stood just before log index at, or NULL. */
static const struct org_info *
org_at(const struct org_table *t, const char *id, long long at)
{
	const struct org_info *found = NULL;

	for (size_t i = 0; i < t->count && t->v[i].log_index < at; i++)
		if (strcmp(t->v[i].org.id, id) == 0)
			found = &t->v[i].org;
	return found;
}

/* signer with its org as at log index at (a copy in *out). */
static const struct key_state *
signer_at(const struct org_table *t, const struct key_state *signer,
    long long at, struct key_state *out)
{
	const struct org_info *org;

	if (signer == NULL || !signer->org_known)
		return signer;
	*out = *signer;
	if ((org = org_at(t, signer->entry.org, at)) != NULL)
		out->org = *org;
	return out;
}

struct verify {
	const struct bundle *b;
	struct bundle_report *r;
	size_t failure_cap;
	bool nomem;
	struct org_table orgs;
};

static void
fail(struct verify *v, enum bundle_subject subject, size_t position,
    long long seq, long long log_index, const char *code, const char *fmt,
    ...) __attribute__((format(printf, 7, 8)));

static void
fail(struct verify *v, enum bundle_subject subject, size_t position,
    long long seq, long long log_index, const char *code, const char *fmt,
    ...)
{
	struct bundle_report *r = v->r;
	struct bundle_failure *f;
	va_list ap;

	if (r->failure_count == v->failure_cap) {
		size_t cap = v->failure_cap ? 2 * v->failure_cap : 16;
		void *p = realloc(r->failures, cap * sizeof(*r->failures));

		if (p == NULL) {
			v->nomem = true;
			return;
		}
		r->failures = p;
		v->failure_cap = cap;
	}
	f = &r->failures[r->failure_count++];
	memset(f, 0, sizeof(*f));
	f->subject = subject;
	f->position = position;
	f->seq = seq;
	f->log_index = log_index;
	snprintf(f->code, sizeof(f->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	if (subject == BUNDLE_SUBJECT_EVENT && position < r->event_count)
		r->events[position].ok = false;
	if (subject == BUNDLE_SUBJECT_KEY && position < r->key_count)
		r->keys[position].ok = false;
}

/* The inclusion proof of it; "" in why when it verifies. */
static bool
proof_ok(struct verify *v, const struct bundle_item *it, char *why,
    size_t size)
{
	const struct bundle_report *r = v->r;
	const struct checkpoint *cp = it->pending ? &r->pending_checkpoint :
	    &r->checkpoint;
	const char *which = it->pending ? "pending checkpoint" : "checkpoint";
	struct merkle_bytes elems[MERKLE_PROOF_MAX];
	unsigned char leaf[MERKLE_HASH_LEN];
	struct trace_error err;

	v->r->checks++;
	if (it->pending ? !r->pending_ok : !r->checkpoint_ok) {
		snprintf(why, size, "no valid %s to check the inclusion proof "
		    "against", which);
		return false;
	}
	/* SPEC 9: pending means logged after the witnessed checkpoint. */
	if (it->pending && (uint64_t)it->log_index < r->checkpoint.size) {
		snprintf(why, size, "log index %lld is inside the checkpoint "
		    "(size %" PRIu64 "): it is not pending", it->log_index,
		    r->checkpoint.size);
		return false;
	}
	if ((uint64_t)it->log_index >= cp->size) {
		snprintf(why, size, "inclusion proof: log index %lld is outside "
		    "the %s (size %" PRIu64 ")", it->log_index, which,
		    cp->size);
		return false;
	}
	for (size_t i = 0; i < it->proof_count; i++)
		elems[i] = merkle_bytes_hash(v->b->proof_pool[it->proof_first +
		    i]);
	merkle_leaf_hash_statement(it->env.type, it->env.payload,
	    it->env.payload_len, leaf);
	if (merkle_verify_inclusion(merkle_bytes_hash(leaf),
	    (uint64_t)it->log_index, cp->size, elems, it->proof_count,
	    merkle_bytes_hash(cp->root), &err) != TRACE_OK) {
		snprintf(why, size, "inclusion proof does not verify against "
		    "the %s: %.200s", which, err.message);
		return false;
	}
	v->r->proofs++;
	return true;
}

/* The code of a failed inclusion proof: no_checkpoint when there was no
 * valid checkpoint (for a pending item: pending checkpoint) to check it
 * against. */
static const char *
proof_code(const struct verify *v, const struct bundle_item *it)
{
	return (it->pending ? v->r->pending_ok : v->r->checkpoint_ok) ?
	    "bad_proof" : "no_checkpoint";
}

static void
verify_checkpoint(struct verify *v, const struct note_verifier *log_key)
{
	const struct bundle *b = v->b;
	struct trace_error err;

	v->r->checks++;
	if (b->checkpoint == NULL) {
		fail(v, BUNDLE_SUBJECT_CHECKPOINT, 0, -1, -1, "bad_checkpoint",
		    "the bundle has no checkpoint");
		return;
	}
	if (checkpoint_open(b->checkpoint, b->checkpoint_len, log_key,
	    &v->r->checkpoint, &err) != TRACE_OK) {
		fail(v, BUNDLE_SUBJECT_CHECKPOINT, 0, -1, -1, "bad_checkpoint",
		    "the checkpoint does not verify under log key %s: %s",
		    log_key->name, err.message);
		return;
	}
	if (strcmp(v->r->checkpoint.origin, log_key->name) != 0) {
		fail(v, BUNDLE_SUBJECT_CHECKPOINT, 0, -1, -1, "wrong_origin",
		    "the checkpoint is for log %s, not %s",
		    v->r->checkpoint.origin, log_key->name);
		return;
	}
	v->r->checkpoint_ok = true;
}

/*
 * SPEC 9, docs/PROTOCOL.md 10.2 step 1a: the pending checkpoint is the
 * log's own, newer than the checkpoint and consistent with it, so pending
 * statements extend the witnessed history rather than tell another.
 */
static void
verify_pending(struct verify *v, const struct note_verifier *log_key)
{
	const struct bundle_pending *p = v->b->pending;
	struct bundle_report *r = v->r;
	struct merkle_bytes proof[MERKLE_PROOF_MAX];
	struct trace_error err;

	if (p == NULL)
		return;
	r->pending = true;
	r->pending_events = p->event_count;
	r->pending_keys = p->key_count;
	r->checks++;
	if (!p->readable) {
		fail(v, BUNDLE_SUBJECT_PENDING, 0, -1, -1, "bad_pending", "%s",
		    p->problem);
		return;
	}
	if (checkpoint_open(p->checkpoint, p->checkpoint_len, log_key,
	    &r->pending_checkpoint, &err) != TRACE_OK) {
		fail(v, BUNDLE_SUBJECT_PENDING, 0, -1, -1, "bad_pending",
		    "the pending checkpoint does not verify under log key %s: "
		    "%s", log_key->name, err.message);
		return;
	}
	if (strcmp(r->pending_checkpoint.origin, log_key->name) != 0) {
		fail(v, BUNDLE_SUBJECT_PENDING, 0, -1, -1, "bad_pending",
		    "the pending checkpoint is for log %s, not %s",
		    r->pending_checkpoint.origin, log_key->name);
		return;
	}
	if (!r->checkpoint_ok) {
		fail(v, BUNDLE_SUBJECT_PENDING, 0, -1, -1, "no_checkpoint",
		    "no valid checkpoint for the pending one to extend");
		return;
	}
	if (r->pending_checkpoint.size <= r->checkpoint.size) {
		fail(v, BUNDLE_SUBJECT_PENDING, 0, -1, -1, "bad_pending",
		    "the pending checkpoint (size %" PRIu64 ") is not larger "
		    "than the checkpoint (size %" PRIu64 ")",
		    r->pending_checkpoint.size, r->checkpoint.size);
		return;
	}
	for (size_t i = 0; i < p->consistency_count; i++)
		proof[i] = merkle_bytes_hash(v->b->proof_pool[
		    p->consistency_first + i]);
	r->checks++;
	/* RFC 9162 2.1.4.2 */
	if (merkle_verify_consistency(r->checkpoint.size,
	    r->pending_checkpoint.size, proof, p->consistency_count,
	    merkle_bytes_hash(r->checkpoint.root),
	    merkle_bytes_hash(r->pending_checkpoint.root), &err) != TRACE_OK) {
		fail(v, BUNDLE_SUBJECT_PENDING, 0, -1, -1,
		    "pending_inconsistent", "the pending checkpoint (size %"
		    PRIu64 ") does not extend the checkpoint (size %" PRIu64
		    "): %s", r->pending_checkpoint.size, r->checkpoint.size,
		    err.message);
		return;
	}
	r->proofs++;
	r->pending_ok = true;
}

struct order {
	long long log_index;
	size_t position;
};

static int
order_compare(const void *a, const void *b)
{
	const struct order *x = a, *y = b;

	if (x->log_index != y->log_index)
		return x->log_index < y->log_index ? -1 : 1;
	return x->position < y->position ? -1 : x->position > y->position;
}

/*
 * docs/PROTOCOL.md 10.1 "receipts": keep the index statements that are
 * the log key's and proven in the checkpoint's tree, in log order.  One
 * that is not shows nothing and is left out: a receipt can only keep a
 * compromised key's statement in force, so leaving it out is the safe
 * reading, and never a failure (SPEC 8: a compromised key never makes a
 * whole chain fail).
 */
static void
verify_receipts(struct verify *v, const struct note_verifier *log_key)
{
	const struct bundle *b = v->b;
	struct bundle_report *r = v->r;
	char why[TRACE_ERROR_MESSAGE_MAX];

	if ((r->receipts = calloc(b->receipt_count + 1,
	    sizeof(*r->receipts))) == NULL) {
		v->nomem = true;
		return;
	}
	for (size_t i = 0; i < b->receipt_count; i++) {
		const struct bundle_item *it = &b->receipts[i];
		struct bundle_receipt got;
		size_t k;

		if (!bundle_receipt_read(it, log_key, &got) ||
		    !proof_ok(v, it, why, sizeof(why)))
			continue;
		/* Insertion in log order; receipts are few. */
		for (k = r->receipt_count; k > 0 &&
		    r->receipts[k - 1].log_index > it->log_index; k--)
			r->receipts[k] = r->receipts[k - 1];
		r->receipts[k] = got;
		r->receipt_count++;
	}
}

/*
 * SPEC 8 "Data from round 1" (docs/PROTOCOL.md 10.2 step 5): round 2 began
 * at the log's first index statement, and only what was logged before it
 * may be read by the round-1 rules.  Every index statement the bundle
 * proves in the log is an upper bound for it, and so is the "first" that
 * each of them says (the lot index's statement, the checkpoint's last
 * leaf, and every receipt): without them, a round-1-form close slipped
 * into the log after round 2 began would be read by the round-1 rules.
 * The lowest bound is the answer, so one false "first" cannot move it
 * later while a receipt says the true one; a "first" above it is a false
 * statement signed with the log key (first_mismatch), which the monitor
 * (docs/PROTOCOL.md 9.10.7) reports too.  What cannot be proven leaves
 * the bound where it was (the round-1 reading, reported).
 */
static void
verify_round1(struct verify *v, const struct note_verifier *log_key)
{
	struct bundle_report *r = v->r;
	char why[TRACE_ERROR_MESSAGE_MAX];
	long long at = -1, first = -1;
	bool limits = false, index = false;

	r->round1_before = FOLD_ROUND1_ALWAYS;
	for (size_t k = 0; k < r->receipt_count; k++) {
		const struct bundle_receipt *rc = &r->receipts[k];

		if (rc->log_index < r->round1_before)
			r->round1_before = rc->log_index;
		if (rc->first >= 0 && rc->first < r->round1_before)
			r->round1_before = rc->first;
	}
	if (r->checkpoint_ok && bundle_index_first(v->b, log_key,
	    r->checkpoint.size, &at, &first, &limits)) {
		/* The proof is counted once, where 10.5 checks it. */
		size_t checks = r->checks, proofs = r->proofs;

		index = proof_ok(v, &v->b->index->statement, why, sizeof(why));
		r->checks = checks;
		r->proofs = proofs;
		if (index && at < r->round1_before)
			r->round1_before = at;
		if (index && first >= 0 && first < r->round1_before)
			r->round1_before = first;
		r->receipts_promised = index && limits;
	}
	for (size_t k = 0; k < r->receipt_count; k++) {
		const struct bundle_receipt *rc = &r->receipts[k];

		r->checks++;
		if (rc->first > r->round1_before)
			fail(v, BUNDLE_SUBJECT_INDEX, 0, -1, rc->log_index,
			    "first_mismatch", "the index statement at log index "
			    "%lld says the log's first index statement is at "
			    "log index %lld; the bundle proves one at or before "
			    "%lld", rc->log_index, rc->first, r->round1_before);
	}
	if (index) {
		r->checks++;
		if (first > r->round1_before)
			fail(v, BUNDLE_SUBJECT_INDEX, 0, -1, at,
			    "first_mismatch", "the index statement at log index "
			    "%lld says the log's first index statement is at "
			    "log index %lld; the bundle proves one at or before "
			    "%lld", at, first, r->round1_before);
	}
}

/*
 * SPEC 8 "Receipt time": the receipt time of the statement at log_index is
 * the time of the first index statement after it.  The first receipt
 * after it, if the bundle carries one; else NULL.
 */
static const struct bundle_receipt *
receipt_of(const struct bundle_report *r, long long log_index)
{
	for (size_t k = 0; k < r->receipt_count; k++)
		if (r->receipts[k].log_index > log_index)
			return &r->receipts[k];
	return NULL;
}

/* policy_compromised() for a statement at log_index by s. */
static bool
compromised_at(const struct bundle_report *r, const struct key_state *s,
    long long log_index)
{
	const struct bundle_receipt *rc;

	if (!s->enrollment_void && !s->compromised)
		return false;
	rc = receipt_of(r, log_index);
	return policy_compromised(s, rc != NULL, rc != NULL ? rc->log_index :
	    0, rc != NULL ? rc->time : 0);
}

/*
 * SPEC 8 "Receipt time" (docs/PROTOCOL.md 10.2 step 4.9): what the server
 * enforced at ingest, checked from the event's receipt (the first counted
 * receipt after it) when that index statement says the limits it was
 * received under: its time at most 5 minutes after the receipt's and at
 * most maxAge before it, its signer's notAfter + grace not passed.  The
 * receipt is appended up to a checkpoint later than the ingest that
 * checked it, so maxAge and grace are read 5 minutes wider.  Pending
 * events have no receipt yet, round-1 data was accepted before these
 * rules: neither is checked.  When the bundle's index statement says the
 * limits, the log promises a receipt for every event from round 2 on.
 */
static void
check_receipt_time(struct verify *v, size_t i, const struct trace_event *ev,
    const struct key_state *signer, long long at, bool pending)
{
	const struct bundle_report *r = v->r;
	const struct bundle_receipt *rc;
	struct trace_error err;

	if (pending || at < r->round1_before)
		return;
	v->r->checks++;
	if ((rc = receipt_of(r, at)) == NULL) {
		if (r->receipts_promised)
			fail(v, BUNDLE_SUBJECT_EVENT, i, ev->seq, at,
			    "missing_receipt", "no receipt (the first index "
			    "statement after it) is shown, though the log "
			    "promises one for every statement");
		return;
	}
	if (rc->max_age < 0)
		return;
	if (policy_check_time(ev->time, rc->time, rc->max_age +
	    LOTINDEX_RECEIPT_SKEW_SECONDS, &err) != TRACE_OK)
		fail(v, BUNDLE_SUBJECT_EVENT, i, ev->seq, at, err.code,
		    "received at log index %lld: %s", rc->log_index,
		    err.message);
	else if (policy_check_receipt(signer, rc->time -
	    LOTINDEX_RECEIPT_SKEW_SECONDS, rc->grace, &err) != TRACE_OK)
		fail(v, BUNDLE_SUBJECT_EVENT, i, ev->seq, at, err.code,
		    "received at log index %lld: %s", rc->log_index,
		    err.message);
}

/* Key entries in log order: the order the registry changed in. */
static void
verify_keys(struct verify *v, struct key_table *keys)
{
	const struct bundle *b = v->b;
	struct order *order = calloc(v->r->key_count + 1, sizeof(*order));

	if (order == NULL) {
		v->nomem = true;
		return;
	}
	for (size_t i = 0; i < v->r->key_count; i++)
		order[i] = (struct order){ b->keys[i].log_index, i };
	qsort(order, v->r->key_count, sizeof(*order), order_compare);
	/* Not the first org entry alone: a bundle need carry none (only the
	 * orgs its enrollments name), and a free-text-org key signing after
	 * round 2 began must not be read by round 1's rules for want of
	 * one.  The index statements pin it (verify_round1()). */
	v->orgs.round1_until = v->r->round1_before;
	for (size_t k = 0; k < v->r->key_count && !v->nomem; k++) {
		size_t i = order[k].position;
		const struct bundle_item *it = &b->keys[i];
		struct bundle_key_result *res = &v->r->keys[i];
		struct key_state *signer, *target, signer_now;
		const struct org_info *org = NULL;
		struct trace_error err;
		char why[TRACE_ERROR_MESSAGE_MAX];
		long long at = it->log_index;

		res->ok = true;
		res->pending = it->pending;
		res->log_index = at;
		v->r->checks++;
		if (!it->readable) {
			fail(v, BUNDLE_SUBJECT_KEY, i, -1, at, "bad_item", "%s",
			    it->problem);
			continue;
		}
		if (strcmp(it->env.type, TYPE_KEY) != 0 ||
		    key_entry_parse(it->env.payload, it->env.payload_len,
		    &res->entry, &err) != TRACE_OK) {
			fail(v, BUNDLE_SUBJECT_KEY, i, -1, at, "bad_key_entry",
			    "not a valid key entry: %s",
			    strcmp(it->env.type, TYPE_KEY) != 0 ?
			    "wrong payloadType" : err.message);
			continue;
		}
		res->parsed = true;
		if (res->entry.op == KEY_OP_ORG && at < v->orgs.round1_until)
			v->orgs.round1_until = at;
		if (!proof_ok(v, it, why, sizeof(why)))
			fail(v, BUNDLE_SUBJECT_KEY, i, -1, at,
			    proof_code(v, it), "%s", why);
		signer = key_find(keys, res->entry.signer);
		if (signer == NULL || (!signer->is_root &&
		    signer->enrolled_at >= at)) {
			fail(v, BUNDLE_SUBJECT_KEY, i, -1, at, "unknown_signer",
			    "signed by %s, which is not an admin key enrolled "
			    "before it", res->entry.signer);
			continue;
		}
		res->signer_is_root = signer->is_root;
		v->r->checks++;
		if (it->env.sig_count != 1) {
			fail(v, BUNDLE_SUBJECT_KEY, i, -1, at, "bad_signatures",
			    "the envelope carries %zu signatures; a statement "
			    "carries exactly one", it->env.sig_count);
			continue;
		}
		if (dsse_verify(&it->env, signer->entry.public_key,
		    res->entry.signer, &err) != TRACE_OK) {
			fail(v, BUNDLE_SUBJECT_KEY, i, -1, at, "bad_signature",
			    "signature by %s does not verify", res->entry.signer);
			continue;
		}
		v->r->signatures++;
		target = res->entry.op == KEY_OP_ORG ? NULL :
		    key_find(keys, res->entry.keyid);
		if (res->entry.op == KEY_OP_ENROLL)
			org = org_at(&v->orgs, res->entry.org, at);
		v->r->checks++;
		if (policy_check_key_entry(&res->entry,
		    signer_at(&v->orgs, signer, at, &signer_now), target, org,
		    at < v->orgs.round1_until, at, &err) != TRACE_OK) {
			fail(v, BUNDLE_SUBJECT_KEY, i, -1, at, err.code, "%s",
			    err.message);
			continue;
		}
		/* A statement that failed its proof changes nothing. */
		if (!res->ok)
			continue;
		if (res->entry.op == KEY_OP_ORG) {
			/* Room for one per key entry was reserved. */
			v->orgs.v[v->orgs.count++] = (struct org_version){
				.org = res->entry.org_def, .log_index = at };
		} else if (res->entry.op == KEY_OP_REVOKE) {
			target->revoked = true;
			target->revoked_at = at;
			snprintf(target->revoke_reason,
			    sizeof(target->revoke_reason), "%s",
			    res->entry.reason);
			target->compromised = res->entry.has_compromised_at;
			target->compromised_at = res->entry.compromised_at;
		} else {
			struct key_state s;

			memset(&s, 0, sizeof(s));
			s.entry = res->entry;
			s.enrolled_at = at;
			if (org != NULL) {
				s.org_known = true;
				s.org = *org;
			}
			key_add(keys, &s);
		}
	}
	/* Only now is the bound of round 1 known, and every org id
	 * a round-1 free text might shadow, and every compromisedAt (a
	 * revoke comes after the enrollments it voids). */
	for (size_t k = 0; k < keys->count; k++) {
		struct key_state *s = &keys->states[k];
		const struct key_state *admin;

		s->round1_until = v->orgs.round1_until;
		s->org_shadowed = !s->is_root && !s->org_known &&
		    org_at(&v->orgs, s->entry.org, LLONG_MAX) != NULL;
		/* SPEC 8: an enrollment by a compromised admin received
		 * after compromisedAt counts for nothing, down the tree
		 * (states are in log order: an admin comes before the keys
		 * it enrolled). */
		if (s->is_root || (admin = key_find(keys, s->entry.signer)) ==
		    NULL)
			continue;
		s->enrollment_void = compromised_at(v->r, admin,
		    s->enrolled_at);
	}
	for (size_t i = 0; i < v->r->key_count; i++) {
		struct bundle_key_result *res = &v->r->keys[i];
		const struct key_state *s;

		if (res->ok && res->parsed && res->entry.op == KEY_OP_ENROLL &&
		    (s = key_find(keys, res->entry.keyid)) != NULL)
			res->enrollment_void = s->enrollment_void;
	}
	free(order);
}

/*
 * The fold of the events that passed their own checks (fold.h): the
 * rules that need the chain (what a correction or a recall.closed may
 * name, and who may sign it) fail the event that breaks them, and the
 * report keeps what the chain adds up to.  evs[i] is parsed where
 * report->events[i].parsed.
 */
static void
fold_events(struct verify *v, const struct key_table *keys,
    const struct trace_event *evs)
{
	struct bundle_report *r = v->r;
	struct fold_statement *st = calloc(r->event_count + 1, sizeof(*st));
	size_t *position = calloc(r->event_count + 1, sizeof(*position));
	size_t n = 0;
	struct trace_error err;

	if (st == NULL || position == NULL) {
		v->nomem = true;
		goto out;
	}
	for (size_t i = 0; i < r->event_count; i++) {
		struct bundle_event_result *res = &r->events[i];
		const struct key_state *signer;

		res->fold_index = FOLD_NONE;
		if (!res->ok || !res->parsed || !res->signer_known ||
		    (signer = key_find(keys, res->signer)) == NULL)
			continue;
		res->fold_index = n;
		position[n] = i;
		res->compromised = compromised_at(r, signer, res->log_index);
		st[n++] = (struct fold_statement){ .ev = &evs[i],
			.id = res->id, .log_index = res->log_index,
			.signer_role = signer->entry.role,
			.signer_org = policy_fold_org(signer),
			.pending = res->pending,
			.compromised = res->compromised };
	}
	if (fold_run(st, n, &(struct fold_options){ .round1_before =
	    r->round1_before }, &r->fold, &err) != TRACE_OK) {
		v->nomem = true;
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		const struct fold_statement_state *s = &r->fold.statements[k];
		size_t i = position[k];

		if (s->problem == FOLD_PROBLEM_NONE)
			continue;
		r->checks++;
		fold_problem_error(&r->fold, k, &err);
		/* Corrections keep the code they always failed with. */
		fail(v, BUNDLE_SUBJECT_EVENT, i, s->seq, s->log_index,
		    s->type == EVENT_CORRECTION ? "bad_correction" : err.code,
		    "%s", err.message);
	}
out:
	free(st);
	free(position);
}

static void
verify_events(struct verify *v, const struct key_table *keys)
{
	const struct bundle *b = v->b;
	unsigned char (*raw)[SHA256_LEN] = NULL;
	struct trace_event *evs = NULL;
	long long prev_index = -1;
	bool have_prev = false;

	if (v->r->event_count == 0) {
		/* With an index, an empty bundle is a claim of absence that
		 * the index proves or refutes (bundleindex.c). */
		if (b->index == NULL)
			fail(v, BUNDLE_SUBJECT_BUNDLE, 0, -1, -1, "no_events",
			    "the bundle has no events");
		return;
	}
	raw = calloc(v->r->event_count, sizeof(*raw));
	/* Kept until the fold: it needs the whole chain at once. */
	evs = calloc(v->r->event_count, sizeof(*evs));
	if (raw == NULL || evs == NULL) {
		v->nomem = true;
		goto out;
	}
	for (size_t i = 0; i < v->r->event_count && !v->nomem; i++) {
		const struct bundle_item *it = &b->events[i];
		struct bundle_event_result *res = &v->r->events[i];
		struct trace_event *ev = &evs[i];
		const struct key_state *signer;
		struct key_state signer_now;
		struct trace_error err;
		char why[TRACE_ERROR_MESSAGE_MAX];
		long long at = it->log_index;

		res->ok = true;
		res->pending = it->pending;
		res->log_index = at;
		res->seq = -1;
		res->fold_index = FOLD_NONE;
		v->r->checks++;
		if (!it->readable) {
			fail(v, BUNDLE_SUBJECT_EVENT, i, -1, at, "bad_item", "%s",
			    it->problem);
			have_prev = false;
			continue;
		}
		hex_encode(it->env.id, SHA256_LEN, res->id);
		memcpy(raw[i], it->env.id, SHA256_LEN);
		/* A log may hold what round 1 accepted: the fold judges it. */
		if (strcmp(it->env.type, TYPE_EVENT) != 0 ||
		    event_parse_stored(it->env.payload, it->env.payload_len, ev,
		    &err) != TRACE_OK) {
			fail(v, BUNDLE_SUBJECT_EVENT, i, -1, at, "bad_event",
			    "not a valid event: %s",
			    strcmp(it->env.type, TYPE_EVENT) != 0 ?
			    "wrong payloadType" : err.message);
			/* Whether the log holds it is still worth saying. */
			if (!proof_ok(v, it, why, sizeof(why)))
				fail(v, BUNDLE_SUBJECT_EVENT, i, -1, at,
				    proof_code(v, it), "%s", why);
			/* Its id still links the next one. */
			have_prev = true;
			prev_index = at;
			continue;
		}
		res->parsed = true;
		res->type = ev->type;
		res->seq = ev->seq;
		memcpy(res->signer, ev->signer, sizeof(res->signer));
		v->r->checks += 4;
		if (strcmp(ev->chain, b->chain) != 0)
			fail(v, BUNDLE_SUBJECT_EVENT, i, ev->seq, at,
			    "wrong_chain", "belongs to chain %s, not %s",
			    ev->chain, b->chain[0] ? b->chain : "(none given)");
		if (ev->seq != (long long)i)
			fail(v, BUNDLE_SUBJECT_EVENT, i, ev->seq, at, "seq_order",
			    "seq %lld where %zu was due: an event is missing or "
			    "out of order", ev->seq, i);
		if (i > 0 && (!ev->has_prev || !have_prev ||
		    memcmp(ev->prev, raw[i - 1], SHA256_LEN) != 0))
			fail(v, BUNDLE_SUBJECT_EVENT, i, ev->seq, at, "wrong_prev",
			    "prev does not link to the event before it");
		if (at <= prev_index)
			fail(v, BUNDLE_SUBJECT_EVENT, i, ev->seq, at, "log_order",
			    "log index %lld is not after the previous event's "
			    "%lld", at, prev_index);
		if (!proof_ok(v, it, why, sizeof(why)))
			fail(v, BUNDLE_SUBJECT_EVENT, i, ev->seq, at,
			    proof_code(v, it), "%s", why);
		signer = key_find(keys, ev->signer);
		v->r->checks++;
		if (signer == NULL) {
			fail(v, BUNDLE_SUBJECT_EVENT, i, ev->seq, at,
			    "unknown_key", "signer %s has no valid key entry in "
			    "the bundle", ev->signer);
		} else if (it->env.sig_count != 1) {
			fail(v, BUNDLE_SUBJECT_EVENT, i, ev->seq, at,
			    "bad_signatures", "the envelope carries %zu "
			    "signatures; a statement carries exactly one",
			    it->env.sig_count);
		} else if (dsse_verify(&it->env, signer->entry.public_key,
		    ev->signer, &err) != TRACE_OK) {
			fail(v, BUNDLE_SUBJECT_EVENT, i, ev->seq, at,
			    "bad_signature", "signature by %s does not verify",
			    ev->signer);
		} else {
			v->r->signatures++;
			res->signer_known = true;
			res->signer_role = signer->entry.role;
			v->r->checks++;
			if (policy_check_event(ev, signer_at(&v->orgs, signer, at,
			    &signer_now), at, &err) != TRACE_OK)
				fail(v, BUNDLE_SUBJECT_EVENT, i, ev->seq, at,
				    err.code, "signer %s: %s", ev->signer,
				    err.message);
			check_receipt_time(v, i, ev, signer, at, it->pending);
		}
		have_prev = true;
		prev_index = at;
	}
	if (!v->nomem)
		fold_events(v, keys, evs);
out:
	for (size_t i = 0; evs != NULL && i < v->r->event_count; i++)
		event_free(&evs[i]);
	free(evs);
	free(raw);
}

/* bundleindex.c's view of proof_ok() and fail(). */
static bool
index_proof_ok(void *ctx, const struct bundle_item *it, char *why, size_t size)
{
	return proof_ok(ctx, it, why, size);
}

static void
index_fail(void *ctx, const char *code, const char *message)
{
	fail(ctx, BUNDLE_SUBJECT_INDEX, 0, -1, -1, code, "%s", message);
}

enum trace_status
bundle_verify(const struct bundle *b,
    const unsigned char root_public[ED25519_PUBLIC_LEN],
    const struct note_verifier *log_key, struct bundle_report *report,
    struct trace_error *err)
{
	struct verify v;
	struct key_table keys;
	struct key_state root;
	size_t cap = 1;
	enum trace_status rc;

	memset(report, 0, sizeof(*report));
	memset(&keys, 0, sizeof(keys));
	memset(&v, 0, sizeof(v));
	v.b = b;
	v.r = report;
	/* Covered items, then the pending ones (bundle.h). */
	report->event_count = b->event_count + (b->pending != NULL ?
	    b->pending->event_count : 0);
	report->key_count = b->key_count + (b->pending != NULL ?
	    b->pending->key_count : 0);
	report->events = calloc(report->event_count + 1,
	    sizeof(*report->events));
	report->keys = calloc(report->key_count + 1, sizeof(*report->keys));
	while (cap < 2 * (report->key_count + 1))
		cap *= 2;
	keys.states = calloc(report->key_count + 1, sizeof(*keys.states));
	keys.slots = calloc(cap, sizeof(*keys.slots));
	keys.mask = cap - 1;
	v.orgs.v = calloc(report->key_count + 1, sizeof(*v.orgs.v));
	v.orgs.round1_until = LLONG_MAX;
	if (report->events == NULL || report->keys == NULL ||
	    keys.states == NULL || keys.slots == NULL || v.orgs.v == NULL) {
		v.nomem = true;
		goto out;
	}
	policy_root_state(root_public, &root);
	key_add(&keys, &root);
	verify_checkpoint(&v, log_key);
	verify_pending(&v, log_key);
	verify_receipts(&v, log_key);
	verify_round1(&v, log_key);
	if (b->chain[0] == '\0')
		fail(&v, BUNDLE_SUBJECT_BUNDLE, 0, -1, -1, "bad_item",
		    "the bundle names no chain");
	verify_keys(&v, &keys);
	verify_events(&v, &keys);
	if (!v.nomem)
		bundle_index_verify(b, root_public, log_key, report,
		    index_proof_ok, index_fail, &v);
	for (size_t i = 0; i < report->event_count; i++)
		report->events_ok += report->events[i].ok;
	for (size_t i = 0; i < report->key_count; i++)
		report->keys_ok += report->keys[i].ok;
out:
	free(keys.states);
	free(keys.slots);
	free(v.orgs.v);
	if (v.nomem)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory while verifying the bundle");
	if (report->failure_count == 0)
		return TRACE_OK;
	{
		const struct bundle_failure *f = &report->failures[0];

		rc = trace_error_set(err, TRACE_EBADSIG, f->code, NULL,
		    "%zu check(s) failed; first: %s %zu: %s",
		    report->failure_count, bundle_subject_name(f->subject),
		    f->position, f->message);
	}
	return rc;
}

/* ---- consistency with an earlier checkpoint ------------------------------------ */

enum trace_status
bundle_check_consistency(const char *previous, size_t previous_len,
    const struct note_verifier *log_key, const struct checkpoint *current,
    const struct merkle_bytes *proof, size_t count,
    struct checkpoint *previous_out, struct trace_error *err)
{
	struct checkpoint old;
	struct trace_error why;

	if (checkpoint_open(previous, previous_len, log_key, &old, &why) !=
	    TRACE_OK)
		return trace_error_set(err, TRACE_EBADSIG, "bad_checkpoint",
		    "previous", "the previous checkpoint does not verify: %s",
		    why.message);
	if (previous_out != NULL)
		*previous_out = old;
	if (strcmp(old.origin, current->origin) != 0 ||
	    strcmp(old.origin, log_key->name) != 0)
		return trace_error_set(err, TRACE_ERULE, "wrong_origin",
		    "previous", "the previous checkpoint is for log %s, the new "
		    "one for %s", old.origin, current->origin);
	if (old.size > current->size)
		return trace_error_set(err, TRACE_ERULE, "log_shrank",
		    "previous", "the log shrank from %" PRIu64 " to %" PRIu64
		    " leaves: it cannot be the same log", old.size,
		    current->size);
	if (old.size == 0)
		return TRACE_OK;
	if (old.size == current->size) {
		if (!crypto_equal(old.root, current->root, MERKLE_HASH_LEN))
			return trace_error_set(err, TRACE_EBADSIG, "fork",
			    "previous", "two checkpoints of size %" PRIu64
			    " with different roots: the log forked", old.size);
		return TRACE_OK;
	}
	if (merkle_verify_consistency(old.size, current->size, proof, count,
	    merkle_bytes_hash(old.root), merkle_bytes_hash(current->root),
	    &why) != TRACE_OK)
		return trace_error_set(err, TRACE_EBADSIG, why.status ==
		    TRACE_EBADSIG ? "fork" : "bad_proof", "previous",
		    "the checkpoint of size %" PRIu64 " is not a prefix of the "
		    "one of size %" PRIu64 ": %s", old.size, current->size,
		    why.message);
	return TRACE_OK;
}

enum trace_status
bundle_consistency_proof_parse(const char *text, size_t len, uint64_t from,
    uint64_t to, unsigned char hashes[][MERKLE_HASH_LEN], size_t *count,
    struct trace_error *err)
{
	struct json_limits limits = json_limits_default;
	struct json_doc *doc = NULL;
	const struct json_value *root, *list;
	long long m = -1, n = -1;
	enum trace_status rc;

	*count = 0;
	limits.max_size = 16384;
	limits.max_depth = 3;
	if ((rc = json_parse(text, len, &limits, &doc, err)) != TRACE_OK)
		return rc;
	root = json_doc_root(doc);
	if ((rc = json_get_int(root, "from", true, &m, err)) != TRACE_OK ||
	    (rc = json_get_int(root, "to", true, &n, err)) != TRACE_OK ||
	    (rc = json_get_array(root, "hashes", true, &list, err)) !=
	    TRACE_OK)
		goto out;
	if (m < 0 || n < 0 || (uint64_t)m != from || (uint64_t)n != to) {
		rc = trace_error_set(err, TRACE_EMALFORMED, "bad_proof", "from",
		    "the proof is from %lld to %lld, not %" PRIu64 " to %"
		    PRIu64, m, n, from, to);
		goto out;
	}
	if (list->u.array.count > MERKLE_PROOF_MAX) {
		rc = trace_error_set(err, TRACE_EMALFORMED, "bad_proof",
		    "hashes", "a consistency proof has at most %d hashes",
		    MERKLE_PROOF_MAX);
		goto out;
	}
	for (size_t i = 0; i < list->u.array.count; i++) {
		if (!json_proof_hash(list->u.array.items[i], hashes[i])) {
			rc = trace_error_set(err, TRACE_EMALFORMED, "bad_proof",
			    "hashes", "hash %zu is not base64 of 32 bytes", i);
			goto out;
		}
	}
	*count = list->u.array.count;
out:
	json_doc_free(doc);
	return rc;
}
