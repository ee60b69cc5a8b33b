/*
 * ingest.c - POST /api/v1/events: one envelope or a batch of up to 1000.
 *
 * Every item goes through the same gate: strict envelope and payload
 * parsing, the signer's key (enrolled), its signature; then the rules:
 * the statement's time, the signing policy (role, window, GTIN scope,
 * revocation), the targets of corrections and recall closes (the fold of
 * the chain with the statement, SPEC 8).  An item the rules refuse is
 * looked up by id first: a statement accepted before answers 200 whatever
 * changed since (recheck_duplicate).  Then all items that passed are
 * appended in one pipeline of atomic Function calls, which check what only
 * the store knows (head, prev, duplicates, a revocation that raced us, a
 * recall still open).  A rejected item changes nothing in the store.
 *
 * The gate runs in three passes so that a batch's signatures are checked
 * on every core (verifypool.c): first, in order, each item is parsed and
 * its signer looked up (check_signer); then every signature at once
 * (verify_item, on the pool); then, in order again, the rules
 * (check_item), which may depend on the items before.  An item's answer
 * is the first check it fails, in the same order as in one pass.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/dsse.h"
#include "libtrace/encoding.h"
#include "libtrace/event.h"
#include "libtrace/fold.h"
#include "libtrace/merkle.h"
#include "libtrace/timefmt.h"
#include "log.h"
#include "pages.h"
#include "recalls.h"
#include "server.h"
#include "verifypool.h"

struct ingest_item {
	struct dsse_envelope env;
	struct trace_event ev;
	char id[2 * SHA256_LEN + 1];
	char prev[2 * SHA256_LEN + 1];
	unsigned char leaf[SHA256_LEN];
	char *text;                   /* canonical envelope JSON */
	size_t text_len;
	bool rejected;                /* err holds why */
	bool policy_failed;           /* rejected unless already stored */
	struct trace_error err;
	struct append_result result;
	char org[KEY_TEXT_MAX + 1];   /* the signer's organisation */
	enum key_role role;           /* and role, from its enrollment */
	/* recall.closed: the id of the recall it closes. */
	char closes[2 * SHA256_LEN + 1];
	struct recall_append recall;  /* recall events: the index arguments */
	char *attachments;            /* SHA-256s data.attachments names */
	/* Set by the first two passes: checked by check_signer (and then
	 * verify_item); stage the result so far (err holds why). */
	bool checked;
	enum trace_status stage;
	struct key_state *signer;     /* the signer's state, when stage OK */
};

/*
 * The documents ev's data.attachments names, as the store marks them
 * referenced: hex SHA-256s, space-separated, in a malloc'd string (NULL
 * when there are none).  event_parse checked each is 64 hex digits.
 */
static char *
attachment_list(const struct trace_event *ev)
{
	const struct json_value *list = ev->data != NULL ?
	    json_object_get(ev->data, "attachments") : NULL;
	struct buf b;

	if (list == NULL || list->type != JSON_ARRAY || list->u.array.count == 0)
		return NULL;
	buf_init(&b, 0);
	for (size_t i = 0; i < list->u.array.count; i++) {
		const struct json_value *sha = json_object_get(
		    list->u.array.items[i], "sha256");

		if (sha != NULL && sha->type == JSON_STRING)
			buf_printf(&b, "%s%s", i > 0 ? " " : "",
			    sha->u.string.ptr);
	}
	if (b.failed || b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

static void outcome_error(struct ingest_item *it);

/* Answer it as the append would now: the head moved, a gap, wrong prev. */
static enum trace_status
refuse_as_append(struct ingest_item *it, enum append_outcome outcome,
    size_t len, const char *head)
{
	it->result.outcome = outcome;
	it->result.head_seq = (long long)len - 1;
	snprintf(it->result.head_id, sizeof(it->result.head_id), "%s", head);
	outcome_error(it);
	return it->err.status;
}

/*
 * A chain as stored, read, parsed and given its signers once per batch
 * (SPEC 8 "Targets" needs it for every correction and recall.closed; a
 * batch of many of them against one chain reads it once, not once per
 * item).  A chain whose stored data does not parse keeps that error, and
 * every item that needs it is rejected with it; the other chains of the
 * batch go on.
 */
struct ingest_chain {
	const char *chain;            /* an item's ev.chain: the batch owns it */
	struct store_records recs;
	struct trace_event *stored;   /* recs.count */
	struct fold_statement *st;    /* recs.count, the stored statements */
	char (*orgs)[KEY_TEXT_MAX + 1];
	size_t count;                 /* parsed so far (events to free) */
	bool corrupt;                 /* err says why */
	struct trace_error err;
};

struct ingest_batch {
	struct ingest_chain *chains;
	size_t count;
	size_t capacity;
	size_t store_reads;           /* chains read from the store */
	bool round1_known;            /* round1_before read (once a batch) */
	long long round1_before;      /* log_index_round1_before() */
};

static void
ingest_chain_clear(struct ingest_chain *c)
{
	for (size_t k = 0; c->stored != NULL && k < c->count; k++)
		event_free(&c->stored[k]);
	free(c->stored);
	free(c->st);
	free(c->orgs);
	store_records_clear(&c->recs);
	memset(c, 0, sizeof(*c));
}

static void
ingest_batch_clear(struct ingest_batch *b)
{
	for (size_t k = 0; k < b->count; k++)
		ingest_chain_clear(&b->chains[k]);
	free(b->chains);
	memset(b, 0, sizeof(*b));
}

/*
 * The stored history of chain, from b or read now.  *out points into b
 * (b owns it).  TRACE_OK with (*out)->corrupt set: the chain's stored data
 * does not parse (a per-chain answer); any other status (the store is
 * unreachable, out of memory) is the batch's and is not kept.
 */
static enum trace_status
ingest_batch_chain(struct request *req, struct ingest_batch *b,
    const char *chain, struct ingest_chain **out, struct trace_error *err)
{
	struct ingest_chain *c = NULL;
	enum trace_status rc;

	for (size_t k = 0; k < b->count; k++)
		if (strcmp(b->chains[k].chain, chain) == 0) {
			*out = &b->chains[k];
			return TRACE_OK;
		}
	if (b->count == b->capacity) {
		size_t cap = b->capacity == 0 ? 4 : 2 * b->capacity;
		struct ingest_chain *grown = realloc(b->chains,
		    cap * sizeof(*grown));

		if (grown == NULL)
			return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
		b->chains = grown;
		b->capacity = cap;
	}
	c = &b->chains[b->count];
	memset(c, 0, sizeof(*c));
	c->chain = chain;
	b->store_reads++;
	if ((rc = store_chain(req->worker->store, chain, &c->recs, err)) !=
	    TRACE_OK) {
		if (strcmp(err->code, "store_corrupt") != 0)
			return rc;
		c->corrupt = true;
		c->err = *err;
		goto keep;
	}
	c->stored = calloc(c->recs.count + 1, sizeof(*c->stored));
	c->orgs = calloc(c->recs.count + 1, sizeof(*c->orgs));
	c->st = calloc(c->recs.count + 1, sizeof(*c->st));
	if (c->stored == NULL || c->orgs == NULL || c->st == NULL) {
		ingest_chain_clear(c);
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	}
	for (; c->count < c->recs.count; c->count++) {
		size_t n = c->count;

		if (statement_read_event(&c->recs.items[n], NULL,
		    &c->stored[n], &c->err) != TRACE_OK) {
			c->corrupt = true;
			goto keep;
		}
		c->st[n] = (struct fold_statement){ .ev = &c->stored[n],
			.id = c->recs.items[n].id,
			.log_index = c->recs.items[n].log_index };
	}
	if ((rc = key_cache_signers(req->srv, req->worker->store, c->st,
	    c->count, c->orgs, err)) != TRACE_OK) {
		ingest_chain_clear(c);
		return rc;
	}
keep:
	b->count++;
	*out = c;
	return TRACE_OK;
}

/*
 * SPEC 8 "Targets": what a correction or a recall.closed names, and who
 * may sign it (and whether a recall's serial ranges hold issued serials,
 * SPEC 12), is judged by the fold (libtrace/fold.h) of the chain with
 * the statement at its end.  The chain is the one stored (read once per
 * batch), then the items of this batch before it that passed (they are
 * appended first, in order).  The statement must continue exactly that
 * history: its seq and prev pin it, and the append checks them atomically,
 * so the history judged is the one it joins.  Otherwise it is answered now
 * as the append would answer it (head_moved, seq_gap, wrong_prev), never
 * judged against a history it may not join.  Stored statements are judged
 * by the rules they were accepted under (round 1 before the first index
 * statement, SPEC 8); this one by
 * today's.
 */
static enum trace_status
check_targets(struct request *req, struct ingest_batch *b,
    struct ingest_item *items, size_t i, const struct key_state *signer)
{
	struct ingest_item *it = &items[i];
	struct ingest_chain *c = NULL;
	struct fold_statement *st = NULL;
	struct fold_result fold;
	const struct fold_statement_state *me;
	size_t n = 0, batch = 0;
	const char *head;
	enum trace_status rc;

	memset(&fold, 0, sizeof(fold));
	if ((rc = ingest_batch_chain(req, b, it->ev.chain, &c, &it->err)) !=
	    TRACE_OK)
		return rc;
	if (c->corrupt) {
		it->err = c->err;
		return it->err.status;
	}
	for (size_t j = 0; j < i; j++)
		if (!items[j].rejected &&
		    strcmp(items[j].ev.chain, it->ev.chain) == 0 &&
		    items[j].ev.seq == (long long)(c->count + batch))
			batch++;
	st = calloc(c->count + batch + 1, sizeof(*st));
	if (st == NULL)
		return trace_error_set(&it->err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	if (c->count > 0)
		memcpy(st, c->st, c->count * sizeof(*st));
	n = c->count;
	for (size_t j = 0; j < i && n < c->count + batch; j++)
		if (!items[j].rejected &&
		    strcmp(items[j].ev.chain, it->ev.chain) == 0 &&
		    items[j].ev.seq == (long long)n)
			st[n++] = (struct fold_statement){ .ev = &items[j].ev,
				.id = items[j].id, .log_index = LLONG_MAX,
				.signer_role = items[j].role,
				.signer_org = items[j].org };
	head = n > 0 ? st[n - 1].id : "";
	if (it->ev.seq != (long long)n) {
		rc = refuse_as_append(it, it->ev.seq < (long long)n ?
		    APPEND_CONFLICT : APPEND_GAP, n, head);
		goto out;
	}
	if (n > 0 && strcmp(it->prev, head) != 0) {
		rc = refuse_as_append(it, APPEND_WRONG_PREV, n, head);
		goto out;
	}
	/* Not logged yet: LLONG_MAX is past round 1, so today's rules. */
	st[n++] = (struct fold_statement){ .ev = &it->ev, .id = it->id,
		.log_index = LLONG_MAX, .signer_role = signer->entry.role,
		.signer_org = policy_fold_org(signer) };
	/* SPEC 8 "Data from round 1": stored statements after the first
	 * index statement by today's rules, as every view reads them. */
	if (!b->round1_known) {
		if ((rc = log_index_round1_before(req->worker->store,
		    &b->round1_before, &it->err)) != TRACE_OK)
			goto out;
		b->round1_known = true;
	}
	if ((rc = fold_run(st, n, &(struct fold_options){ .round1_before =
	    b->round1_before }, &fold, &it->err)) != TRACE_OK)
		goto out;
	me = &fold.statements[n - 1];
	if (me->problem != FOLD_PROBLEM_NONE) {
		rc = fold_problem_error(&fold, n - 1, &it->err);
		trace_error_prefix_field(&it->err, "payload");
		goto out;
	}
	if (it->ev.type == EVENT_RECALL_CLOSED) {
		snprintf(it->closes, sizeof(it->closes), "%s",
		    fold.statements[me->target].id);
	}
out:
	fold_result_clear(&fold);
	free(st);
	return rc;
}

/* The first pass: the envelope, its payload, the signer's key (into
 * *signer).  Runs in order: the key cache may read the store. */
static enum trace_status
check_signer(struct request *req, const struct json_value *v,
    struct ingest_item *it, struct key_state *signer)
{
	struct trace_error *err = &it->err;
	bool found = false;
	enum trace_status rc;

	if ((rc = dsse_envelope_from_json(v, &it->env, err)) != TRACE_OK)
		return rc;
	if (strcmp(it->env.type, TYPE_EVENT) != 0)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_payload_type",
		    "payloadType", "events have payloadType %s (key entries go "
		    "to /api/v1/keys)", TYPE_EVENT);
	if ((rc = event_parse(it->env.payload, it->env.payload_len, &it->ev,
	    err)) != TRACE_OK) {
		trace_error_prefix_field(err, "payload");
		return rc;
	}
	if ((rc = key_cache_get(req->srv, req->worker->store, it->ev.signer,
	    signer, &found, err)) != TRACE_OK)
		return rc;
	if (!found)
		return trace_error_set(err, TRACE_EUNKNOWNKEY, "unknown_key",
		    "payload.signer", "key %s is not enrolled", it->ev.signer);
	/* Recall indexes record the issuer's organisation; the target
	 * rules of later items of the batch need it and the role. */
	snprintf(it->org, sizeof(it->org), "%s", policy_fold_org(signer));
	it->role = signer->entry.role;
	return TRACE_OK;
}

/* The second pass, on the pool (verifypool.h): item i's signature.  The
 * payload names its signer: verify under that key only.  Touches item i
 * alone. */
static void
verify_item(void *arg, size_t i)
{
	struct ingest_item *it = &((struct ingest_item *)arg)[i];

	if (it->checked && it->stage == TRACE_OK)
		it->stage = dsse_verify(&it->env, it->signer->entry.public_key,
		    it->ev.signer, &it->err);
}

/*
 * SPEC 8 "Revocation and compromise": a key enrolled by an admin key
 * reported compromised, after its compromisedAt, was never validly
 * enrolled: 403 key_revoked.  (Its statements logged before that revoke
 * stay, flagged, and the fold reads them the safe way.)
 */
static enum trace_status
check_enrollment(struct request *req, const struct key_state *signer,
    struct trace_error *err)
{
	bool lost = false;
	enum trace_status rc;

	if ((rc = key_cache_compromised(req->srv, req->worker->store, signer,
	    LLONG_MAX, &lost, err)) != TRACE_OK || !lost)
		return rc;
	return trace_error_set(err, TRACE_EFORBIDDEN, "key_revoked",
	    "payload.signer", "key %s was enrolled by an admin key reported "
	    "compromised, after the compromise", signer->entry.keyid);
}

/* The third pass: everything else that can be checked before the
 * store's atomic step, for items the first two passes let through. */
static enum trace_status
check_item(struct request *req, struct ingest_batch *b,
    struct ingest_item *items, size_t i)
{
	struct ingest_item *it = &items[i];
	struct trace_error *err = &it->err;
	const struct key_state *signer = it->signer;
	enum trace_status rc;

	if (!it->checked)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "not checked");
	if ((rc = it->stage) != TRACE_OK)
		return rc;
	hex_encode(it->env.id, SHA256_LEN, it->id);
	if (it->ev.has_prev)
		hex_encode(it->ev.prev, SHA256_LEN, it->prev);
	/*
	 * From here on the envelope is the signer's own statement, and every
	 * rule below may refuse it only if it is not one accepted before
	 * (SPEC 8 "Resubmission": 200 before any other rule, whatever changed
	 * since: a revocation, the chain's head, a recall, the clock).  A
	 * refusal sets policy_failed and the caller looks the id up.  The
	 * time rules sit here, after the signature, for that reason: an
	 * accepted statement re-sent after --max-age is still answered 200.
	 */
	if ((rc = policy_check_time(it->ev.time, time_now(),
	    req->srv->cfg.max_age, err)) != TRACE_OK)
		trace_error_prefix_field(err, "payload");
	else if ((rc = policy_check_event(&it->ev, signer, LLONG_MAX, err)) ==
	    TRACE_OK && (rc = policy_check_receipt(signer, time_now(),
	    req->srv->cfg.grace, err)) == TRACE_OK &&
	    (rc = check_enrollment(req, signer, err)) == TRACE_OK &&
	    (it->ev.type == EVENT_CORRECTION ||
	    it->ev.type == EVENT_RECALL_CLOSED ||
	    (it->ev.type == EVENT_RECALL_ISSUED &&
	    json_object_get(it->ev.data, "serials") != NULL)))
		rc = check_targets(req, b, items, i, signer);
	if (rc != TRACE_OK) {
		/* Refused, unless it is a statement accepted before. */
		if (rc != TRACE_ESTORE && rc != TRACE_ENOMEM)
			it->policy_failed = true;
		return rc;
	}
	merkle_leaf_hash_statement(it->env.type, it->env.payload,
	    it->env.payload_len, it->leaf);
	it->text = dsse_envelope_to_text(&it->env, &it->text_len);
	if (it->text == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	return TRACE_OK;
}

/*
 * An item refused by policy may still be a resubmission of a statement
 * accepted earlier (say, before its key was revoked): that answers 200.
 */
static void
recheck_duplicate(struct request *req, struct ingest_item *it)
{
	struct store_location loc;
	struct trace_error ignored;

	if (store_locate(req->worker->store, it->id, &loc, &ignored) !=
	    TRACE_OK || !loc.found || loc.is_key)
		return;
	it->rejected = false;
	memset(&it->result, 0, sizeof(it->result));
	it->result.outcome = APPEND_DUPLICATE;
	it->result.log_index = loc.log_index;
	it->result.seq = loc.seq;
}

/* Turn a store outcome that is not OK/DUPLICATE into an error. */
static void
outcome_error(struct ingest_item *it)
{
	const struct append_result *r = &it->result;

	switch (r->outcome) {
	case APPEND_CONFLICT:
		trace_error_set(&it->err, TRACE_ECONFLICT, "head_moved",
		    "payload.seq", "the chain head moved: seq %lld is taken, the "
		    "head is seq %lld", it->ev.seq, r->head_seq);
		break;
	case APPEND_GAP:
		trace_error_set(&it->err, TRACE_ERULE, "seq_gap", "payload.seq",
		    "seq %lld leaves a gap: the head is seq %lld", it->ev.seq,
		    r->head_seq);
		break;
	case APPEND_WRONG_PREV:
		trace_error_set(&it->err, TRACE_ERULE, "wrong_prev",
		    "payload.prev", "prev is not the id of event seq %lld",
		    r->head_seq);
		break;
	case APPEND_REVOKED:
		trace_error_set(&it->err, TRACE_EFORBIDDEN, "key_revoked",
		    "payload.signer", "key %s is revoked", it->ev.signer);
		break;
	case APPEND_RECALL_NOT_OPEN:
		/* Checked before the append on the same history; the store
		 * keeps its indexes right whatever happened meanwhile. */
		trace_error_set(&it->err, TRACE_ERULE, "bad_target",
		    "payload.data.recall", "recall %s is not open in this "
		    "chain", it->closes);
		break;
	default:
		trace_error_set(&it->err, TRACE_ESTORE, "store_corrupt", NULL,
		    "unexpected answer from the store");
		break;
	}
	it->rejected = true;
}

/* The JSON answer for one item into b; returns its HTTP status. */
static int
write_item(struct buf *b, const struct ingest_item *it, bool with_status)
{
	const struct append_result *r = &it->result;
	int status;

	if (!it->rejected) {
		status = r->outcome == APPEND_OK ? 201 : 200;
		buf_printf(b, "{\"id\":\"%s\",\"seq\":%lld,\"logIndex\":%lld",
		    it->id, r->seq, r->log_index);
		if (with_status)
			buf_printf(b, ",\"status\":%d", status);
		buf_puts(b, "}");
		return status;
	}
	status = trace_status_http(it->err.status);
	buf_puts(b, "{\"error\":");
	http_error_object(b, &it->err);
	if (r->head_seq >= 0 && r->head_id[0] != '\0')
		buf_printf(b, ",\"head\":{\"seq\":%lld,\"id\":\"%s\"}",
		    r->head_seq, r->head_id);
	if (with_status)
		buf_printf(b, ",\"status\":%d", status);
	buf_puts(b, "}");
	return status;
}

/*
 * Check, store and answer values[0..count) (the body's envelopes; batch:
 * it was an array).  Writes the JSON answer into out and returns its
 * status; 0 when the whole request fails (err says why: the store
 * unreachable, out of memory), which the caller answers.
 */
int
ingest_envelopes(struct request *req, const struct json_value *const *values,
    size_t count, bool batch, struct buf *out, struct trace_error *errp)
{
	struct trace_error err;
	struct ingest_item *items = NULL;
	struct ingest_batch chains = { 0 };
	struct append_event_args *args = NULL;
	struct append_result *results = NULL;
	struct key_state *signers = NULL;
	size_t *slot = NULL, pending = 0;
	int status = 200;

	items = calloc(count, sizeof(*items));
	args = calloc(count, sizeof(*args));
	results = calloc(count, sizeof(*results));
	slot = calloc(count, sizeof(*slot));
	signers = calloc(count, sizeof(*signers));
	if (items == NULL || args == NULL || results == NULL || slot == NULL ||
	    signers == NULL) {
		trace_error_set(&err, TRACE_ENOMEM, NULL, NULL, "out of memory");
		goto fail;
	}
	/* Passes one and two; the store unreachable stops the first (the
	 * third reaches that item and answers 503 for the batch). */
	for (size_t i = 0; i < count; i++) {
		struct ingest_item *it = &items[i];

		it->signer = &signers[i];
		it->checked = true;
		it->stage = check_signer(req, values[i], it, it->signer);
		if (it->stage == TRACE_ESTORE &&
		    strcmp(it->err.code, "store_corrupt") != 0)
			break;
	}
	verify_pool_run(verify_item, items, count);
	for (size_t i = 0; i < count; i++) {
		struct ingest_item *it = &items[i];
		enum trace_status rc;

		it->result.head_seq = -1;
		rc = check_item(req, &chains, items, i);
		/* The store unreachable: the batch's 503.  A chain whose
		 * stored data does not parse: its items' own (store_corrupt). */
		if (rc == TRACE_ESTORE &&
		    strcmp(it->err.code, "store_corrupt") != 0) {
			err = it->err;
			goto fail;
		}
		if (rc != TRACE_OK) {
			it->rejected = true;
			if (it->policy_failed)
				recheck_duplicate(req, it);
			continue;
		}
		/* An accepted event marks the documents it names as
		 * referenced, so the sweeper keeps them. */
		it->attachments = attachment_list(&it->ev);
		args[pending] = (struct append_event_args){
			.chain = it->ev.chain, .id = it->id, .seq = it->ev.seq,
			.prev = it->prev, .signer = it->ev.signer,
			.leaf_hash = it->leaf, .envelope = it->text,
			.envelope_len = it->text_len,
			.attachments = it->attachments,
		};
		/* Recall events update the recall indexes in the same
		 * atomic step as the append. */
		if (recalls_is_recall_event(&it->ev) &&
		    recalls_append_prepare(&it->recall, &it->ev, it->id, it->org,
		    it->closes, &args[pending], &err) !=
		    TRACE_OK)
			goto fail;
		/* SPEC 9: a close is announced once it is witnessed. */
		it->recall.args.witnessing = req->srv->witness_policy != NULL;
		slot[pending++] = i;
	}
	/* fail: counts a store failure in the metrics, once. */
	if (pending > 0 && store_append_events(req->worker->store, args, pending,
	    results, &err) != TRACE_OK)
		goto fail;
	for (size_t p = 0; p < pending; p++) {
		struct ingest_item *it = &items[slot[p]];

		it->result = results[p];
		/* Unit pages of the chain skip the store for a while
		 * (chainview.c): the next one must see this statement. */
		if (it->result.outcome == APPEND_OK)
			chain_view_forget(it->ev.chain);
		if (it->result.outcome != APPEND_OK &&
		    it->result.outcome != APPEND_DUPLICATE)
			outcome_error(it);
	}
	if (batch)
		buf_puts(out, "{\"results\":[");
	for (size_t i = 0; i < count; i++) {
		struct ingest_item *it = &items[i];

		if (it->rejected)
			metrics_count_rejected(&req->srv->metrics, it->err.code);
		else if (it->result.outcome == APPEND_OK)
			atomic_fetch_add(&req->srv->metrics.accepted, 1);
		else
			atomic_fetch_add(&req->srv->metrics.duplicates, 1);
		if (i > 0)
			buf_puts(out, ",");
		status = write_item(out, it, batch);
	}
	if (batch) {
		buf_puts(out, "]}");
		status = 200;
	}
	goto out;
fail:
	*errp = err;
	status = 0;
out:
	for (size_t i = 0; items != NULL && i < count; i++) {
		dsse_envelope_clear(&items[i].env);
		event_free(&items[i].ev);
		free(items[i].text);
		free(items[i].attachments);
		recalls_append_clear(&items[i].recall);
	}
	ingest_batch_clear(&chains);
	free(items);
	free(args);
	free(results);
	free(slot);
	free(signers);
	return status;
}

void
ingest_handle_events(struct request *req)
{
	struct json_limits limits = json_limits_default;
	struct trace_error err;
	struct json_doc *doc = NULL;
	const struct json_value *root, *const *values;
	size_t count;
	char *body = NULL;
	size_t len = 0;
	bool batch;
	struct buf out;
	int status;

	buf_init(&out, 0);
	if (http_read_body(req, BODY_MAX_BATCH, &body, &len, &err) != TRACE_OK)
		goto fail;
	limits.max_size = BODY_MAX_BATCH;
	limits.max_string = DSSE_ENVELOPE_MAX;
	limits.max_values = BATCH_MAX * 24;
	limits.max_depth = 16;
	if (json_parse(body, len, &limits, &doc, &err) != TRACE_OK)
		goto fail;
	root = json_doc_root(doc);
	batch = root->type == JSON_ARRAY;
	if (batch) {
		count = root->u.array.count;
		values = root->u.array.items;
		if (count == 0 || count > BATCH_MAX) {
			trace_error_set(&err, TRACE_EMALFORMED, "bad_batch", NULL,
			    "a batch holds 1 to %d envelopes", BATCH_MAX);
			goto fail;
		}
	} else {
		/* A single envelope is bounded like one. */
		if (len > BODY_MAX_SINGLE) {
			trace_error_set(&err, TRACE_ETOOBIG, "too_large", NULL,
			    "an envelope is at most %d bytes", BODY_MAX_SINGLE);
			goto fail;
		}
		count = 1;
		values = &root;
	}
	if ((status = ingest_envelopes(req, values, count, batch, &out,
	    &err)) == 0)
		goto fail;
	http_send_json(req, status, &out);
	goto out;
fail:
	if (err.status == TRACE_ESTORE)
		atomic_fetch_add(&req->srv->metrics.store_errors, 1);
	metrics_count_rejected(&req->srv->metrics, err.code);
	http_send_error(req, &err);
out:
	json_doc_free(doc);
	free(body);
	buf_free(&out);
}
