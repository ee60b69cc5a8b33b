/*
 * chainbundle.c - a chain's bundle: everything an offline verifier needs
 * for one chain (docs/PROTOCOL.md section 10), as GET /api/v1/bundles
 * serves it (bundles.c) and as the pages' verdict checks it (verdict.c):
 *
 *   {"chain", "checkpoint": "<signed note>",
 *    "events": [{"envelope", "logIndex", "proof": [base64...]}],
 *    "keys":   [{"envelope", "logIndex", "proof"}],
 *    "index":  {"statement", "logIndex", "proof", "lot", "keys"},
 *    "pending": {"checkpoint", "consistency": [base64...],
 *                "events": [...], "keys": [...]}}
 *
 * index (SPEC 11, log_index.c) proves against the same checkpoint that the
 * events are the whole chain and the keys' entries all of theirs.  For an
 * unknown chain the answer is 404 with the same members (no events, the
 * index's absence proof), so a consumer can check that the lot is really
 * unknown rather than hidden.
 *
 * keys holds the enroll statement of every signer of the chain's events,
 * and of every admin that signed one of the included key statements, back
 * to the root (the chain of trust), plus their revocations, and every
 * entry of each registered org those enrollments name (SPEC 8
 * "Organisations": the verifier checks each enrollment against its org as
 * it stood at that log index), in log order.
 * Every proof is against the one checkpoint, which must cover every
 * included statement: the build waits up to LOG_BUNDLE_WAIT_MS for the
 * integrator, then fails with not_yet_logged (503 with Retry-After).  All
 * proofs' nodes are fetched in one round trip.
 *
 * With a witness policy (SPEC 9) the checkpoint is the published witnessed
 * one.  When it does not cover the chain's newest statements (witnesses
 * down or slow), those after it, and the key statements after it that
 * they need, go into "pending" with proofs against the log's latest
 * signed checkpoint, itself proven consistent with the witnessed one:
 * verifiers hold a pending recall or fail in force at once.  events, keys
 * and index are exactly those of the witnessed checkpoint.
 *
 * receipts (SPEC 8 "Receipt time", "Revocation and compromise", PROTOCOL
 * 10.1): for each covered event, and each covered enrollment signed by a
 * key revoked with compromisedAt, the first index statement after it, if
 * the checkpoint covers one, with its proof, once each: the verifier's
 * evidence of when the statement was received (the receipt-time limits,
 * and before compromisedAt or not).
 *
 * Envelopes are written as served (statement.c): one signature each, also
 * for round-1 data.  A round-1 enrollment of a key that is weak by today's
 * rule is included like any other: the verifier reports it (bad_key_entry).
 */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libtrace/dsse.h"
#include "libtrace/encoding.h"
#include "libtrace/event.h"
#include "libtrace/keyentry.h"
#include "log.h"

/* The key statements gathered so far, and the key ids already looked at. */
struct trust {
	struct store_records *sets;     /* one per key looked up */
	size_t set_count, set_cap;
	char (*seen)[KEYID_LEN + 1];
	size_t seen_count, seen_cap;
	char (*orgs)[ORG_ID_MAX + 1];
	size_t org_count, org_cap;
};

#define BUNDLE_ORG_VERSIONS_MAX 256

static void
trust_free(struct trust *t)
{
	for (size_t i = 0; i < t->set_count; i++)
		store_records_clear(&t->sets[i]);
	free(t->sets);
	free(t->seen);
	free(t->orgs);
}

/* Room for n more record sets. */
static bool
trust_reserve(struct trust *t, size_t n)
{
	while (t->set_count + n > t->set_cap) {
		size_t cap = t->set_cap ? 2 * t->set_cap : 8;
		void *p = realloc(t->sets, cap * sizeof(*t->sets));

		if (p == NULL)
			return false;
		t->sets = p;
		t->set_cap = cap;
	}
	return true;
}

/* Add every entry of org id once (none for a round-1 free-text org). */
static enum trace_status
trust_add_org(struct request *req, struct trust *t, const char *org,
    struct trace_error *err)
{
	struct store_records *versions;
	size_t count = 0;
	enum trace_status rc;

	if (!org_id_valid(org, strlen(org)))
		return TRACE_OK;
	for (size_t i = 0; i < t->org_count; i++)
		if (strcmp(t->orgs[i], org) == 0)
			return TRACE_OK;
	if (t->org_count == t->org_cap) {
		size_t cap = t->org_cap ? 2 * t->org_cap : 8;
		void *p = realloc(t->orgs, cap * sizeof(*t->orgs));

		if (p == NULL)
			return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
		t->orgs = p;
		t->org_cap = cap;
	}
	snprintf(t->orgs[t->org_count++], ORG_ID_MAX + 1, "%s", org);
	versions = calloc(BUNDLE_ORG_VERSIONS_MAX, sizeof(*versions));
	if (versions == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	rc = store_org_history(req->worker->store, org, versions,
	    BUNDLE_ORG_VERSIONS_MAX, &count, err);
	if (rc == TRACE_OK && !trust_reserve(t, count))
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	for (size_t i = 0; i < count; i++) {
		if (rc == TRACE_OK)
			t->sets[t->set_count++] = versions[i];
		else
			store_records_clear(&versions[i]);
	}
	free(versions);
	return rc;
}

/* Remember keyid; false if it was already there (or on no memory). */
static bool
trust_mark(struct trust *t, const char *keyid)
{
	for (size_t i = 0; i < t->seen_count; i++)
		if (strcmp(t->seen[i], keyid) == 0)
			return false;
	if (t->seen_count == t->seen_cap) {
		size_t cap = t->seen_cap ? 2 * t->seen_cap : 16;
		void *p = realloc(t->seen, cap * sizeof(*t->seen));

		if (p == NULL)
			return false;
		t->seen = p;
		t->seen_cap = cap;
	}
	snprintf(t->seen[t->seen_count++], KEYID_LEN + 1, "%s", keyid);
	return true;
}

/*
 * Add keyid's enroll (and revoke) statements, then those of the admins
 * that signed them, depth first.  The root has no statement.
 */
static enum trace_status
trust_add(struct request *req, struct trust *t, const char *keyid,
    unsigned depth, struct trace_error *err)
{
	struct store_records recs;
	bool revoked = false;
	enum trace_status rc;
	size_t at;

	if (strcmp(keyid, req->srv->root.entry.keyid) == 0 ||
	    !trust_mark(t, keyid))
		return TRACE_OK;
	/* A chain of admins is short; a loop would be store corruption. */
	if (depth > 64)
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "the key registry's chain of trust is too long");
	if ((rc = store_key_records(req->worker->store, keyid, &recs, &revoked,
	    err)) != TRACE_OK)
		return rc;
	if (t->set_count == t->set_cap) {
		size_t cap = t->set_cap ? 2 * t->set_cap : 8;
		void *p = realloc(t->sets, cap * sizeof(*t->sets));

		if (p == NULL) {
			store_records_clear(&recs);
			return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
		}
		t->sets = p;
		t->set_cap = cap;
	}
	at = t->set_count++;
	t->sets[at] = recs;
	for (size_t i = 0; i < recs.count; i++) {
		struct key_entry entry;
		bool weak;

		/* A round-1 enrollment of a weak key still goes in: the
		 * verifier reports it (bad_key_entry), as it should. */
		if ((rc = key_cache_record_entry(&recs.items[i], &entry, &weak,
		    err)) != TRACE_OK ||
		    (entry.op == KEY_OP_ENROLL &&
		    (rc = trust_add_org(req, t, entry.org, err)) != TRACE_OK) ||
		    (rc = trust_add(req, t, entry.signer, depth + 1, err)) !=
		    TRACE_OK)
			return rc;
	}
	return TRACE_OK;
}

static int
record_by_index(const void *a, const void *b)
{
	const struct store_record *x = *(const struct store_record *const *)a;
	const struct store_record *y = *(const struct store_record *const *)b;

	return x->log_index < y->log_index ? -1 : x->log_index > y->log_index;
}

/*
 * Wait for a checkpoint whose tree holds index max_index.  With witnesses
 * (SPEC 9) that is the published witnessed one if it covers the chain;
 * if it does not, but the log's latest signed checkpoint does, *pending
 * gets that one and the bundle carries the statements the witnessed one
 * does not cover as pending (PROTOCOL 10.1): the witnesses are not waited
 * for, since a verifier can check pending statements (and a new recall is
 * in force while they lag).  Before the first witnessed checkpoint there
 * is nothing for pending statements to extend: once a signed checkpoint
 * covers the chain, the witnesses get WITNESS_BUNDLE_WAIT_MS, and then the
 * bundle carries the signed checkpoint without cosignatures (which a
 * verifier with the policy refuses) rather than nothing.
 */
static enum trace_status
covering_checkpoint(struct request *req, long long max_index, char **note,
    size_t *len, struct checkpoint *cp, char **pending, size_t *pending_len,
    struct checkpoint *pending_cp, struct trace_error *err)
{
	bool witnessed = req->srv->witness_policy != NULL;
	int signed_at = -1;
	uint64_t integrated;
	enum trace_status rc;

	*pending = NULL;
	for (int waited = 0;; waited += 100) {
		if (witnessed) {
			if ((rc = store_log_witnessed(req->worker->store, note,
			    len, err)) != TRACE_OK)
				return rc;
			if (*note != NULL && (!log_checkpoint_read(*note, *len,
			    cp) || cp->size == 0)) {
				free(*note);
				*note = NULL;
			}
			if (*note != NULL && cp->size > (uint64_t)max_index)
				return TRACE_OK;
		}
		if ((rc = store_log_head(req->worker->store, &integrated,
		    witnessed ? pending : note, witnessed ? pending_len : len,
		    err)) != TRACE_OK)
			goto fail;
		if (witnessed && *pending != NULL && log_checkpoint_read(
		    *pending, *pending_len, pending_cp) &&
		    pending_cp->size > (uint64_t)max_index) {
			/* The witnessed one plus pending statements. */
			if (*note != NULL && pending_cp->size > cp->size)
				return TRACE_OK;
			/* No witnessed checkpoint yet: the signed one alone. */
			if (*note == NULL && ((signed_at >= 0 && waited -
			    signed_at >= WITNESS_BUNDLE_WAIT_MS) ||
			    waited >= LOG_BUNDLE_WAIT_MS ||
			    req->bundle_no_wait)) {
				*note = *pending;
				*len = *pending_len;
				*cp = *pending_cp;
				*pending = NULL;
				return TRACE_OK;
			}
			if (signed_at < 0)
				signed_at = waited;
		}
		if (!witnessed && *note != NULL && log_checkpoint_read(*note,
		    *len, cp) && cp->size > (uint64_t)max_index)
			return TRACE_OK;
		free(*note);
		free(*pending);
		*note = *pending = NULL;
		/* A page's verdict, or a bundle request past the waiters'
		 * bound (bundles.c), answers without waiting. */
		if (waited >= LOG_BUNDLE_WAIT_MS || req->bundle_no_wait)
			break;
		usleep(100000);
	}
	rc = trace_error_set(err, TRACE_ESTORE, "not_yet_logged", NULL,
	    "the chain's newest statement is not in a signed checkpoint yet");
fail:
	free(*note);
	free(*pending);
	*note = *pending = NULL;
	return rc;
}

/*
 * {"envelope":...,"logIndex":n,"proof":[...]}; the envelope as served
 * (statement.c: one signature, also from round-1 data).
 */
static enum trace_status
write_item(struct request *req, struct buf *b, const struct store_record *r,
    const unsigned char (*proof)[MERKLE_HASH_LEN], size_t count,
    struct trace_error *err)
{
	char b64[base64_encoded_len(MERKLE_HASH_LEN) + 1];
	struct dsse_envelope env;
	enum trace_status rc;

	if ((rc = statement_read_envelope(r, &env, err)) != TRACE_OK)
		return rc;
	buf_puts(b, "{\"envelope\":");
	rc = statement_write_envelope(req->srv, req->worker->store, r, &env, b,
	    err);
	dsse_envelope_clear(&env);
	if (rc != TRACE_OK)
		return rc;
	buf_printf(b, ",\"logIndex\":%lld,\"proof\":[", r->log_index);
	for (size_t i = 0; i < count; i++) {
		base64_encode(proof[i], MERKLE_HASH_LEN, b64);
		buf_printf(b, "%s\"%s\"", i > 0 ? "," : "", b64);
	}
	buf_puts(b, "]}");
	return TRACE_OK;
}

/*
 * "events":[...],"keys":[...] for the records of events and keys (each a
 * list in the order served), every proof against the tree of size leaves:
 * every proof is planned first, and all their nodes fetched in one round
 * trip.
 */
static enum trace_status
write_lists(struct request *req, struct buf *out,
    const struct store_record *const *events, size_t event_count,
    const struct store_record *const *keys, size_t key_count, uint64_t size,
    struct trace_error *err)
{
	size_t total = event_count + key_count, node_count = 0, node_cap = 0;
	struct merkle_node *nodes = NULL;
	unsigned char (*hashes)[MERKLE_HASH_LEN] = NULL;
	size_t *first = calloc(total + 1, sizeof(*first));
	enum trace_status rc = TRACE_OK;

	if (first == NULL)
		goto nomem;
	for (size_t i = 0; i < total; i++) {
		const struct store_record *r = i < event_count ? events[i] :
		    keys[i - event_count];
		struct merkle_plan plan;

		if ((rc = merkle_plan_inclusion((uint64_t)r->log_index, size,
		    &plan, err)) != TRACE_OK)
			goto out;
		if (node_count + plan.node_count > node_cap) {
			size_t cap = node_cap ? 2 * node_cap : 1024;
			void *p;

			while (cap < node_count + plan.node_count)
				cap *= 2;
			if ((p = realloc(nodes, cap * sizeof(*nodes))) == NULL)
				goto nomem;
			nodes = p;
			node_cap = cap;
		}
		first[i] = node_count;
		memcpy(nodes + node_count, plan.nodes,
		    plan.node_count * sizeof(*nodes));
		node_count += plan.node_count;
	}
	first[total] = node_count;
	if ((hashes = malloc((node_count + 1) * MERKLE_HASH_LEN)) == NULL)
		goto nomem;
	if ((rc = log_fetch_nodes(req->worker->store, size, nodes, node_count,
	    &hashes[0][0], err)) != TRACE_OK)
		goto out;
	buf_puts(out, "\"events\":[");
	for (size_t i = 0; i < total; i++) {
		const struct store_record *r = i < event_count ? events[i] :
		    keys[i - event_count];
		unsigned char proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
		struct merkle_plan plan;

		/* Planning is a few dozen integer steps: redo it rather than
		 * keep 4 KB per statement. */
		if ((rc = merkle_plan_inclusion((uint64_t)r->log_index, size,
		    &plan, err)) != TRACE_OK ||
		    (rc = merkle_plan_assemble(&plan, &hashes[first[i]][0],
		    proof, err)) != TRACE_OK)
			goto out;
		if (i == event_count)
			buf_puts(out, "],\"keys\":[");
		else if (i > 0)
			buf_puts(out, ",");
		if ((rc = write_item(req, out, r,
		    (const unsigned char (*)[MERKLE_HASH_LEN])proof, plan.count,
		    err)) != TRACE_OK)
			goto out;
	}
	if (key_count == 0)
		buf_puts(out, "],\"keys\":[");
	buf_puts(out, "]");
	goto out;
nomem:
	rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL, "out of memory");
out:
	free(hashes);
	free(nodes);
	free(first);
	return rc;
}

/*
 * ,"pending":{...} (PROTOCOL 10.1): the latest signed checkpoint, the
 * consistency proof to it from the witnessed one of size from, and the
 * statements after from with their proofs against it.
 */
static enum trace_status
write_pending(struct request *req, struct buf *out, const char *note,
    size_t len, uint64_t from, uint64_t to,
    const struct store_record *const *events, size_t event_count,
    const struct store_record *const *keys, size_t key_count,
    struct trace_error *err)
{
	unsigned char proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	char b64[base64_encoded_len(MERKLE_HASH_LEN) + 1];
	size_t count = 0;
	enum trace_status rc;

	if ((rc = log_prove_consistency(req->worker->store, from, to, proof,
	    &count, err)) != TRACE_OK)
		return rc;
	buf_puts(out, ",\"pending\":{\"checkpoint\":");
	buf_json_string(out, note, len);
	buf_puts(out, ",\"consistency\":[");
	for (size_t i = 0; i < count; i++) {
		base64_encode(proof[i], MERKLE_HASH_LEN, b64);
		buf_printf(out, "%s\"%s\"", i > 0 ? "," : "", b64);
	}
	buf_puts(out, "],");
	if ((rc = write_lists(req, out, events, event_count, keys, key_count,
	    to, err)) != TRACE_OK)
		return rc;
	buf_puts(out, "}");
	return TRACE_OK;
}

/* The key ids revoked with compromisedAt among the bundle's key records
 * (their revokes are there: trust_add adds them), malloc'd; NULL and
 * *count 0 for none. */
static char (*compromised_keys(const struct store_record *const *keys,
    size_t count, size_t *found))[KEYID_LEN + 1]
{
	char (*ids)[KEYID_LEN + 1] = NULL;

	*found = 0;
	for (size_t i = 0; i < count; i++) {
		struct key_entry e;
		bool weak = false;
		void *p;

		if (key_cache_record_entry(keys[i], &e, &weak, NULL) !=
		    TRACE_OK || e.op != KEY_OP_REVOKE || !e.has_compromised_at)
			continue;
		if ((p = realloc(ids, (*found + 1) * sizeof(*ids))) == NULL)
			break;
		ids = p;
		memcpy(ids[(*found)++], e.keyid, KEYID_LEN + 1);
	}
	return ids;
}

/* Add receipt log index at to list (no duplicates); false on no memory. */
static bool
receipt_add(uint64_t **list, size_t *count, uint64_t at)
{
	void *p;

	/* From the end: events come in log order, so mostly the last. */
	for (size_t i = *count; i-- > 0;)
		if ((*list)[i] == at)
			return true;
	if ((p = realloc(*list, (*count + 1) * sizeof(**list))) == NULL)
		return false;
	*list = p;
	(*list)[(*count)++] = at;
	return true;
}

/*
 * ,"receipts":[...] (see the top of this file); nothing when no covered
 * statement needs one.  events[0..event_count) and keys[0..key_count) are
 * the covered items, keys[0..key_total) every key record.
 */
static enum trace_status
write_receipts(struct request *req, struct buf *out,
    const struct store_record *const *events, size_t event_count,
    const struct store_record *const *keys, size_t key_count,
    size_t key_total, uint64_t size, struct trace_error *err)
{
	unsigned char proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	char b64[base64_encoded_len(MERKLE_HASH_LEN) + 1];
	uint64_t *list = NULL;
	size_t count = 0, total = event_count + key_count, lost = 0;
	/* A pending revoke counts too: the verifier reads it. */
	char (*lost_ids)[KEYID_LEN + 1] = compromised_keys(keys, key_total,
	    &lost);
	enum trace_status rc = TRACE_OK;
	/* The receipt last looked up: of a statement at last_from. */
	long long last_from = -1;
	uint64_t last_at = 0;

	for (size_t i = 0; i < total && rc == TRACE_OK; i++) {
		const struct store_record *r = i < event_count ? events[i] :
		    keys[i - event_count];
		bool known = false, suspect = false;
		uint64_t at = 0;
		long long t;

		/* Every event: its receipt time (SPEC 8).  An enrollment:
		 * only when its signer's compromise may void it. */
		if (i >= event_count) {
			struct key_entry e;
			bool weak = false;

			if (key_cache_record_entry(r, &e, &weak, NULL) !=
			    TRACE_OK || e.op != KEY_OP_ENROLL)
				continue;
			for (size_t k = 0; k < lost && !suspect; k++)
				suspect = strcmp(lost_ids[k], e.signer) == 0;
			if (!suspect)
				continue;
		}
		/* Events come in log order: no index statement lies between
		 * the last one and this one if the last one's receipt is
		 * beyond it, so that is its receipt too (one round trip per
		 * checkpoint the chain spans, not per event). */
		if (last_from >= 0 && last_from < r->log_index &&
		    (long long)last_at > r->log_index)
			continue;
		if ((rc = store_receipt_time(req->worker->store, r->log_index,
		    &known, &at, &t, err)) != TRACE_OK)
			break;
		if (known) {
			last_from = r->log_index;
			last_at = at;
		}
		if (known && at < size && !receipt_add(&list, &count, at))
			rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
	}
	if (rc != TRACE_OK || count == 0)
		goto out;
	buf_puts(out, ",\"receipts\":[");
	for (size_t i = 0; i < count && rc == TRACE_OK; i++) {
		char *statement = NULL;
		size_t len = 0, n = 0;

		if ((rc = store_index_statement(req->worker->store, list[i],
		    &statement, &len, err)) != TRACE_OK)
			break;
		if (statement == NULL) {
			rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt",
			    NULL, "index statement %" PRIu64 " is missing",
			    list[i]);
			break;
		}
		if ((rc = log_prove_inclusion(req->worker->store, list[i], size,
		    proof, &n, err)) == TRACE_OK) {
			buf_puts(out, i > 0 ? ",{\"envelope\":" :
			    "{\"envelope\":");
			buf_append(out, statement, len);
			buf_printf(out, ",\"logIndex\":%" PRIu64 ",\"proof\":[",
			    list[i]);
			for (size_t k = 0; k < n; k++) {
				base64_encode(proof[k], MERKLE_HASH_LEN, b64);
				buf_printf(out, "%s\"%s\"", k > 0 ? "," : "",
				    b64);
			}
			buf_puts(out, "]}");
		}
		free(statement);
	}
	buf_puts(out, "]");
out:
	free(lost_ids);
	free(list);
	return rc;
}

enum trace_status
chain_bundle_build(struct request *req, const char *chain, struct buf *out,
    struct trace_error *err)
{
	char *note = NULL, *pending = NULL;
	struct store_records events;
	struct trust trust;
	struct checkpoint cp, pending_cp;
	const struct store_record **all = NULL;
	size_t note_len = 0, pending_len = 0, total = 0, key_total = 0,
	    events_covered, keys_covered;
	long long max_index = -1;
	enum trace_status rc = TRACE_OK;

	memset(&events, 0, sizeof(events));
	memset(&trust, 0, sizeof(trust));
	if (store_chain(req->worker->store, chain, &events, err) != TRACE_OK)
		goto fail;
	if (events.count == 0) {
		/* SPEC 11: the index proves the lot unknown as of the
		 * published checkpoint; out gets the bundle's members for the
		 * 404 body (bundles.c). */
		uint64_t integrated;

		/* The published checkpoint as it is now: nothing to wait for. */
		if ((req->srv->witness_policy != NULL ?
		    store_log_witnessed(req->worker->store, &note, &note_len,
		    err) : store_log_head(req->worker->store, &integrated,
		    &note, &note_len, err)) == TRACE_OK && note != NULL &&
		    log_checkpoint_read(note, note_len, &cp) && cp.size > 0) {
			buf_puts(out, ",\"chain\":");
			buf_json_string(out, chain, strlen(chain));
			buf_puts(out, ",\"checkpoint\":");
			buf_json_string(out, note, note_len);
			buf_puts(out, ",\"events\":[],\"keys\":[]");
			if (log_index_bundle(req->worker->store, chain, NULL,
			    0, cp.size, out, err) != TRACE_OK)
				buf_reset(out);
		}
		trace_error_set(err, TRACE_ENOTFOUND, "not_found", "chain",
		    "no events for chain %s", chain);
		goto fail;
	}
	/* The chain of trust of every signer. */
	for (size_t i = 0; i < events.count; i++) {
		struct trace_event ev;

		if ((rc = statement_read_event(&events.items[i], NULL, &ev,
		    err)) != TRACE_OK)
			goto fail;
		rc = trust_add(req, &trust, ev.signer, 0, err);
		event_free(&ev);
		if (rc != TRACE_OK)
			goto fail;
	}
	for (size_t i = 0; i < trust.set_count; i++)
		key_total += trust.sets[i].count;
	total = events.count + key_total;
	all = calloc(total, sizeof(*all));
	if (all == NULL)
		goto nomem;
	for (size_t i = 0; i < events.count; i++)
		all[i] = &events.items[i];
	for (size_t i = 0, k = events.count; i < trust.set_count; i++)
		for (size_t j = 0; j < trust.sets[i].count; j++)
			all[k++] = &trust.sets[i].items[j];
	qsort(all + events.count, key_total, sizeof(*all), record_by_index);
	for (size_t i = 0; i < total; i++)
		if (all[i]->log_index > max_index)
			max_index = all[i]->log_index;
	if (covering_checkpoint(req, max_index, &note, &note_len, &cp,
	    &pending, &pending_len, &pending_cp, err) != TRACE_OK)
		goto fail;
	/* Events are in log order, and so are the keys: what the checkpoint
	 * covers is a prefix of each, the rest is pending. */
	for (events_covered = 0; events_covered < events.count &&
	    (uint64_t)all[events_covered]->log_index < cp.size;
	    events_covered++)
		;
	for (keys_covered = 0; keys_covered < key_total &&
	    (uint64_t)all[events.count + keys_covered]->log_index < cp.size;
	    keys_covered++)
		;
	assert(pending != NULL || (events_covered == events.count &&
	    keys_covered == key_total));
	buf_puts(out, "{\"chain\":");
	buf_json_string(out, chain, strlen(chain));
	buf_puts(out, ",\"checkpoint\":");
	buf_json_string(out, note, note_len);
	buf_puts(out, ",");
	if (write_lists(req, out, all, events_covered, all + events.count,
	    keys_covered, cp.size, err) != TRACE_OK)
		goto fail;
	/* SPEC 8: receipt times of a compromised key's statements. */
	if (write_receipts(req, out, all, events_covered, all + events.count,
	    keys_covered, key_total, cp.size, err) != TRACE_OK)
		goto fail;
	/* SPEC 11: the lot's and the keys' index entries. */
	if (log_index_bundle(req->worker->store, chain, trust.seen,
	    trust.seen_count, cp.size, out, err) != TRACE_OK)
		goto fail;
	/* SPEC 9: what the witnesses have not cosigned yet. */
	if (pending != NULL && write_pending(req, out, pending, pending_len,
	    cp.size, pending_cp.size, all + events_covered,
	    events.count - events_covered, all + events.count + keys_covered,
	    key_total - keys_covered, err) != TRACE_OK)
		goto fail;
	buf_puts(out, "}");
	if (out->failed)
		goto nomem;
	goto out;
nomem:
	trace_error_set(err, TRACE_ENOMEM, NULL, NULL, "out of memory");
fail:
	rc = err->status != TRACE_OK ? err->status : TRACE_ENOMEM;
out:
	free(all);
	free(note);
	free(pending);
	trust_free(&trust);
	store_records_clear(&events);
	return rc;
}
