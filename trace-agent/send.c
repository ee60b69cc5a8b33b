/*
 * send.c - flushing the offline queue (used by send, record and import),
 * and the send subcommand.
 *
 * Entries go in queue order, one at a time.  Per entry:
 *
 *   draft only      learn the chain's head (GET the chain, or what this run
 *                   already learned), build seq = head.seq + 1 and prev =
 *                   head.id with event_build(), sign with the entry's key,
 *   [crash "signed"]
 *                   store the envelope in the entry (atomic replace),
 *   [crash "stored"]
 *   signed          POST it:
 *     201 / 200     [crash "posted"] delete the entry: done;
 *     409           [crash "conflict"] GET the chain: if the entry's id is
 *                   in it, it was accepted earlier (answer lost): delete;
 *                   if what moved the chain since the entry's prev holds a
 *                   recall, a correction or a fail the user has not seen
 *                   (send --seen), hold: keep it as it is, name them, go
 *                   on with other chains (rebase.c); otherwise rebuild on
 *                   the chain's head (type, time, where, data kept), sign,
 *                   store (the old id goes to "superseded"), rewrite the
 *                   queued references to the old id [crash
 *                   "reference-rewritten"], and POST again;
 *     422 stale_time / time_in_future
 *                   keep it queued, unchanged, with the error shown;
 *     other 4xx     move to rejected/ with the server's answer: the server
 *                   will never take these bytes;
 *     unreachable   retry with backoff (http_exchange), then stop: this
 *     or 5xx        entry and everything after it stay queued.
 *
 * Why this never puts one event into a chain twice: a new statement (new
 * seq or prev) is signed only (a) for a draft that has never been signed,
 * so nothing of it can be on the server, or (b) after the server answered
 * 409 to the entry's current statement AND the chain, read after that
 * answer, does not hold its id.  A 409'd statement can never be accepted
 * later (its seq is taken for good), so every earlier statement of the
 * entry is dead, and the new one is the only one that can enter the chain.
 * A statement whose answer was lost is always re-posted as the same bytes,
 * which the server answers 200.  queue.c's header gives the file-level half
 * of the argument (atomic writes, order of write/post/delete, the lock).
 *
 * A chain's entries keep their order: once an entry of a chain stays
 * queued, the later entries of that chain are not tried in this run.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "libtrace/encoding.h"

#define CONFLICT_ROUNDS_MAX 10

enum step {
	STEP_DONE,      /* sent, or found already in the chain */
	STEP_REJECT,    /* refused for good */
	STEP_KEEP,      /* leave queued, hold the chain back, go on */
	STEP_STOP,      /* server away: leave everything queued, stop */
};

struct chain_head {
	char chain[CHAIN_ID_MAX + 1];
	bool exists;
	long long seq;
	unsigned char id[SHA256_LEN];
};

struct flush {
	const struct agent *a;
	struct queue *q;
	const struct send_options *opt;
	struct chain_head *heads;      /* learned in this run */
	size_t head_count;
	char (*blocked)[CHAIN_ID_MAX + 1];
	size_t blocked_count;
	struct key_pair key;           /* the last key loaded */
	char key_path[PATH_MAX];
	bool local_error;              /* a KEEP that needs a person */
	char stop_reason[TRACE_ERROR_MESSAGE_MAX + 64];
};

static struct chain_head *
head_find(struct flush *f, const char *chain)
{
	for (size_t i = 0; i < f->head_count; i++)
		if (strcmp(f->heads[i].chain, chain) == 0)
			return &f->heads[i];
	return NULL;
}

static void
head_remember(struct flush *f, const char *chain, bool exists, long long seq,
    const unsigned char id[SHA256_LEN])
{
	struct chain_head *h = head_find(f, chain), *grown;

	if (h == NULL) {
		grown = realloc(f->heads, (f->head_count + 1) * sizeof(*grown));
		if (grown == NULL)
			return;   /* only a cache: the next GET relearns it */
		f->heads = grown;
		h = &f->heads[f->head_count++];
		snprintf(h->chain, sizeof(h->chain), "%s", chain);
	}
	h->exists = exists;
	h->seq = seq;
	if (exists)
		memcpy(h->id, id, SHA256_LEN);
}

static void
head_forget(struct flush *f, const char *chain)
{
	struct chain_head *h = head_find(f, chain);

	if (h != NULL)
		*h = f->heads[--f->head_count];
}

static bool
chain_blocked(const struct flush *f, const char *chain)
{
	for (size_t i = 0; i < f->blocked_count; i++)
		if (strcmp(f->blocked[i], chain) == 0)
			return true;
	return false;
}

static void
chain_block(struct flush *f, const char *chain)
{
	char (*grown)[CHAIN_ID_MAX + 1];

	if (chain_blocked(f, chain))
		return;
	grown = realloc(f->blocked, (f->blocked_count + 1) * sizeof(*grown));
	if (grown == NULL)
		return;
	f->blocked = grown;
	snprintf(f->blocked[f->blocked_count++], CHAIN_ID_MAX + 1, "%s", chain);
}

/* Read {"seq": n, "id": "<hex>"}. */
static bool
parse_head(const struct json_value *v, long long *seq,
    unsigned char id[SHA256_LEN])
{
	const char *hex = NULL;
	size_t len = 0;

	return v != NULL && v->type == JSON_OBJECT &&
	    json_get_int(v, "seq", true, seq, NULL) == TRACE_OK &&
	    json_get_string(v, "id", true, &hex, &len, NULL) == TRACE_OK &&
	    hex_decode(hex, len, id, SHA256_LEN, false);
}

/* Events per page when walking a chain (the server's maximum, 11.6). */
#define CHAIN_PAGE_LIMIT 1000

/*
 * GET one page of the chain, path + query, into *doc (the caller frees
 * it); *exists false (and no doc) on 404.  why says what went wrong
 * otherwise.
 */
static enum step
chain_page(struct flush *f, const char *chain, const char *query,
    bool *exists, struct json_doc **doc, char *why, size_t why_size)
{
	struct http_response resp;
	struct trace_error err;
	char path[128 + CHAIN_ID_MAX];
	enum trace_status rc;
	enum step step = STEP_DONE;

	*exists = false;
	*doc = NULL;
	snprintf(path, sizeof(path), "/api/v1/chains/%s%s", chain, query);
	rc = http_exchange(f->a, f->opt->cmd, "GET", path, NULL, NULL, 0,
	    f->opt->attempts, &resp, &err);
	if (rc != TRACE_OK || http_status_temporary(resp.status)) {
		if (rc != TRACE_OK)
			snprintf(why, why_size, "%s", err.message);
		else
			snprintf(why, why_size, "server unavailable (HTTP %ld)",
			    resp.status);
		step = STEP_STOP;
		goto out;
	}
	if (resp.status == 404)
		goto out;
	if (resp.status != 200) {
		http_describe_error(&resp, why, why_size);
		step = STEP_KEEP;
		goto out;
	}
	if (http_response_json(&resp, doc, &err) != TRACE_OK) {
		snprintf(why, why_size, "the server's chain answer is not "
		    "JSON");
		step = STEP_KEEP;
		goto out;
	}
	*exists = true;
out:
	http_response_free(&resp);
	return step;
}

/*
 * GET the chain: its head (exists false on 404) and whether it holds
 * statement id want (may be NULL), which has seq since.  With moved, also
 * the statements from seq since on that the user must see before a rebase
 * (rebase.c).  why says what went wrong otherwise.
 *
 * The chain JSON comes in pages (PROTOCOL 11.6): the head is on every
 * page, so a page of one event gives it; the statements from since on
 * are walked by following next to the end.
 */
static enum step
chain_fetch(struct flush *f, const char *chain, const char *want,
    bool *found, long long since, struct rebase_moved *moved, char *why,
    size_t why_size)
{
	struct json_doc *doc = NULL;
	const struct json_value *root, *events, *next;
	unsigned char id[SHA256_LEN];
	char query[64];
	long long seq, cursor;
	bool exists;
	enum step step;

	*found = false;
	if (moved != NULL)
		memset(moved, 0, sizeof(*moved));
	if ((step = chain_page(f, chain, "?limit=1", &exists, &doc, why,
	    why_size)) != STEP_DONE)
		goto out;
	if (!exists) {
		head_remember(f, chain, false, -1, NULL);
		goto out;
	}
	if (!parse_head(json_object_get(json_doc_root(doc), "head"), &seq,
	    id)) {
		snprintf(why, why_size, "the server's chain answer has no "
		    "head");
		step = STEP_KEEP;
		goto out;
	}
	head_remember(f, chain, true, seq, id);
	cursor = since < 0 ? 0 : since;
	while (want != NULL && cursor <= seq) {
		json_doc_free(doc);
		snprintf(query, sizeof(query), "?limit=%d&cursor=%lld",
		    CHAIN_PAGE_LIMIT, cursor);
		if ((step = chain_page(f, chain, query, &exists, &doc, why,
		    why_size)) != STEP_DONE)
			goto out;
		if (!exists) {
			snprintf(why, why_size, "the chain vanished while "
			    "it was read");
			step = STEP_KEEP;
			goto out;
		}
		root = json_doc_root(doc);
		events = json_object_get(root, "events");
		for (size_t i = 0; events != NULL &&
		    events->type == JSON_ARRAY &&
		    i < events->u.array.count && !*found; i++) {
			const char *s = NULL;

			if (json_get_string(events->u.array.items[i], "id",
			    false, &s, NULL, NULL) == TRACE_OK && s != NULL &&
			    strcmp(s, want) == 0)
				*found = true;
		}
		if (*found)
			break;
		if (moved != NULL)
			rebase_check_moved(root, since, f->opt, moved);
		/* A next that does not move forward ends the walk (a server
		 * from before pages sends none). */
		next = json_object_get(root, "next");
		if (next == NULL || next->type != JSON_STRING ||
		    strtoll(next->u.string.ptr, NULL, 10) <= cursor)
			break;
		cursor = strtoll(next->u.string.ptr, NULL, 10);
	}
	if (*found && moved != NULL)
		memset(moved, 0, sizeof(*moved));
	step = STEP_DONE;
out:
	json_doc_free(doc);
	return step;
}

static enum trace_status
key_for(struct flush *f, const struct queue_entry *e, struct trace_error *err)
{
	enum trace_status rc;

	if (f->key.has_secret && strcmp(f->key_path, e->key_path) == 0)
		return TRACE_OK;
	key_pair_wipe(&f->key);
	f->key_path[0] = '\0';
	if ((rc = key_pair_load(e->key_path, &f->key, err)) != TRACE_OK)
		return rc;
	if (!f->key.has_secret)
		return trace_error_set(err, TRACE_EMALFORMED, "not_a_key", "key",
		    "%s holds no private key", e->key_path);
	if (strcmp(f->key.keyid, e->keyid) != 0) {
		key_pair_wipe(&f->key);
		return trace_error_set(err, TRACE_EMALFORMED, "wrong_key", "key",
		    "%s is now key %s, but the event was drafted for key %s",
		    e->key_path, f->key.keyid, e->keyid);
	}
	snprintf(f->key_path, sizeof(f->key_path), "%s", e->key_path);
	return TRACE_OK;
}

/* Local error as the JSON kept next to a rejected entry. */
static char *
local_error_json(const struct trace_error *err, size_t *len)
{
	struct json_writer *w = json_writer_new(true);
	const char *text;
	char *out = NULL;
	size_t n;

	if (w == NULL)
		return NULL;
	json_writer_object_open(w);
	json_writer_key(w, "status");
	json_writer_int(w, 0);
	json_writer_key(w, "error");
	json_writer_object_open(w);
	json_writer_key(w, "code");
	json_writer_cstring(w, err->code);
	json_writer_key(w, "message");
	json_writer_cstring(w, err->message);
	json_writer_key(w, "field");
	json_writer_cstring(w, err->field);
	json_writer_object_close(w);
	json_writer_key(w, "by");
	json_writer_cstring(w, "trace-agent");
	json_writer_object_close(w);
	if (json_writer_result(w, &text, &n, NULL) == TRACE_OK &&
	    (out = malloc(n + 1)) != NULL) {
		memcpy(out, text, n);
		out[n] = '\0';
		*len = n;
	}
	json_writer_free(w);
	return out;
}

/* Place the draft on the chain's current head, sign, store. */
static enum step
entry_sign(struct flush *f, struct queue_entry *e, const char *chain,
    struct send_report *r, struct trace_error *err)
{
	struct chain_head *h = head_find(f, chain);
	struct dsse_envelope env;
	char *payload = NULL;
	size_t len = 0;
	bool found;
	enum step step;

	if (h == NULL) {
		step = chain_fetch(f, chain, NULL, &found, 0, NULL, r->message,
		    sizeof(r->message));
		if (step != STEP_DONE)
			return step;
		h = head_find(f, chain);
		if (h == NULL) {
			snprintf(r->message, sizeof(r->message), "out of memory");
			return STEP_STOP;
		}
	}
	if (!h->exists && e->draft.type != EVENT_PRODUCT_REGISTERED) {
		snprintf(r->message, sizeof(r->message), "chain %s has no "
		    "product.registered event yet; kept until it has", chain);
		return STEP_KEEP;
	}
	if (key_for(f, e, err) != TRACE_OK) {
		snprintf(r->message, sizeof(r->message), "%s", err->message);
		f->local_error = true;
		return STEP_KEEP;
	}
	if (draft_payload(&e->draft, f->key.keyid, h->exists ? h->seq + 1 : 0,
	    h->exists ? h->id : NULL, &payload, &len, err) != TRACE_OK)
		return STEP_REJECT;
	if (dsse_sign(TYPE_EVENT, (const unsigned char *)payload, len,
	    f->key.secret, f->key.keyid, &env, err) != TRACE_OK) {
		free(payload);
		snprintf(r->message, sizeof(r->message), "%s", err->message);
		f->local_error = true;
		return STEP_KEEP;
	}
	free(payload);
	agent_crash_point("signed");
	queue_entry_set_envelope(e, &env);
	/* Stored before it is posted: see the argument at the top. */
	if (queue_replace(f->q, e, err) != TRACE_OK) {
		snprintf(r->message, sizeof(r->message), "%s", err->message);
		f->local_error = true;
		return STEP_STOP;
	}
	agent_crash_point("stored");
	return STEP_DONE;
}

/* The error code of an error answer, into code ("" when there is none). */
static void
answer_code(const struct http_response *answer, char *code, size_t size)
{
	struct json_doc *doc = NULL;
	const struct json_value *e;
	const char *s = NULL;

	code[0] = '\0';
	if (http_response_json(answer, &doc, NULL) == TRACE_OK &&
	    (e = json_object_get(json_doc_root(doc), "error")) != NULL &&
	    e->type == JSON_OBJECT &&
	    json_get_string(e, "code", false, &s, NULL, NULL) == TRACE_OK &&
	    s != NULL)
		snprintf(code, size, "%s", s);
	json_doc_free(doc);
}

/* The seq of the entry's current envelope, -1 if it does not read. */
static long long
entry_seq(const struct queue_entry *e)
{
	struct trace_event ev;
	long long seq = -1;

	if (event_parse(e->envelope.payload, e->envelope.payload_len, &ev,
	    NULL) == TRACE_OK) {
		seq = ev.seq;
		event_free(&ev);
	}
	return seq;
}

/* Say which statements hold the chain and how to go on. */
static void
report_held(struct flush *f, const struct queue_entry *e, const char *chain,
    const struct rebase_moved *moved)
{
	fprintf(stderr, "trace-agent %s: %s moved under the queued %s (%s) "
	    "by %zu statement%s you have not seen:\n%s", f->opt->cmd, chain,
	    event_type_name(e->draft.type), e->name, moved->count,
	    moved->count == 1 ? "" : "s", moved->text);
	fprintf(stderr, "Nothing of this chain was rebased or sent.  Read "
	    "them (%s/inspect/%s), then rebase over them with:\n  trace-agent "
	    "send", f->a->server, chain);
	for (size_t i = 0; i < moved->id_count; i++)
		fprintf(stderr, " --seen %s", moved->ids[i]);
	fputc('\n', stderr);
}

/* POST the entry's envelope, rebuilding on 409, until an outcome. */
static enum step
entry_post(struct flush *f, struct queue_entry *e, const char *chain,
    struct send_report *r, struct http_response *answer,
    struct trace_error *err)
{
	for (int round = 0;; round++) {
		struct json_doc *doc = NULL;
		struct rebase_moved moved;
		unsigned char id[SHA256_LEN];
		char *text, code[64];
		size_t len = 0, rewritten = 0;
		bool found;
		enum trace_status rc;
		enum step step;

		if ((text = dsse_envelope_to_text(&e->envelope, &len)) == NULL) {
			snprintf(r->message, sizeof(r->message), "out of memory");
			return STEP_STOP;
		}
		http_response_free(answer);
		rc = http_exchange(f->a, f->opt->cmd, "POST", "/api/v1/events",
		    NULL, text, len, f->opt->attempts, answer, err);
		free(text);
		if (rc != TRACE_OK || http_status_temporary(answer->status)) {
			if (rc != TRACE_OK)
				snprintf(r->message, sizeof(r->message), "%s",
				    err->message);
			else
				snprintf(r->message, sizeof(r->message),
				    "server unavailable (HTTP %ld)",
				    answer->status);
			return STEP_STOP;
		}
		if (answer->status == 200 || answer->status == 201) {
			const struct json_value *root;

			agent_crash_point("posted");
			r->seq = r->log_index = -1;
			if (http_response_json(answer, &doc, NULL) == TRACE_OK) {
				root = json_doc_root(doc);
				json_get_int(root, "seq", false, &r->seq, NULL);
				json_get_int(root, "logIndex", false,
				    &r->log_index, NULL);
			}
			json_doc_free(doc);
			if (r->seq >= 0)
				head_remember(f, chain, true, r->seq,
				    e->envelope.id);
			else
				head_forget(f, chain);
			return STEP_DONE;
		}
		if (answer->status != 409) {
			http_describe_error(answer, r->message,
			    sizeof(r->message));
			/* A wrong URL must not send the whole queue to
			 * rejected/: only a refusal of the statement does. */
			if (answer->status == 404 || answer->status == 405 ||
			    answer->status < 400 || answer->status >= 500) {
				f->local_error = true;
				return STEP_STOP;
			}
			/* Refused for its time against the server's clock
			 * (SPEC 8 "Receipt time"): the statement stays queued,
			 * unchanged, with the error shown; a person decides
			 * (a clock to fix, a --max-age to raise). */
			answer_code(answer, code, sizeof(code));
			if (strcmp(code, "stale_time") == 0 ||
			    strcmp(code, "time_in_future") == 0) {
				size_t used = strlen(r->message);

				snprintf(r->message + used,
				    sizeof(r->message) - used, "; it stays "
				    "queued");
				r->refused_kept = true;
				f->local_error = true;
				return STEP_KEEP;
			}
			return STEP_REJECT;
		}
		agent_crash_point("conflict");
		if (round >= CONFLICT_ROUNDS_MAX) {
			snprintf(r->message, sizeof(r->message), "the head of "
			    "%s kept moving; kept for the next send", chain);
			return STEP_KEEP;
		}
		/* Read the chain after the 409: its head, whether our
		 * statement is in it already (accepted, answer lost), and
		 * what moved it since our statement's prev. */
		step = chain_fetch(f, chain, e->id, &found, entry_seq(e), &moved,
		    r->message, sizeof(r->message));
		if (step != STEP_DONE)
			return step;
		if (found) {
			r->seq = r->log_index = -1;
			return STEP_DONE;
		}
		if (moved.count > 0) {
			report_held(f, e, chain, &moved);
			snprintf(r->message, sizeof(r->message), "held: the "
			    "chain moved by %zu statement%s you have not seen "
			    "(a recall, a correction or a fail); not rebased",
			    moved.count, moved.count == 1 ? "" : "s");
			r->held = true;
			f->local_error = true;
			return STEP_KEEP;
		}
		memcpy(id, e->envelope.id, sizeof(id));
		if ((step = entry_sign(f, e, chain, r, err)) != STEP_DONE)
			return step;
		r->rebased = memcmp(id, e->envelope.id, sizeof(id)) != 0 ||
		    r->rebased;
		/* Queued statements that name this one follow its new id
		 * before it can be accepted (rebase.c). */
		if (rebase_repair_references(f->q, chain, &rewritten, err) !=
		    TRACE_OK) {
			snprintf(r->message, sizeof(r->message), "%s",
			    err->message);
			f->local_error = true;
			return STEP_STOP;
		}
	}
}

static void
report_line(const struct flush *f, const struct queue_entry *e,
    const char *chain, const struct send_report *r)
{
	const char *src = e->source[0] != '\0' ? e->source : e->name;

	if (f->opt->quiet)
		return;
	switch (r->outcome) {
	case SEND_SENT:
		if (r->seq >= 0)
			fprintf(stderr, "sent %s %s seq %lld (log index %lld)"
			    "%s: %s\n", chain, event_type_name(e->draft.type),
			    r->seq, r->log_index, r->rebased ?
			    ", rebased on a newer head" : "", r->id);
		else
			fprintf(stderr, "sent %s %s: %s (already in the "
			    "chain)\n", chain, event_type_name(e->draft.type),
			    r->id);
		break;
	case SEND_REJECTED:
		fprintf(stderr, "rejected %s (%s %s): %s\n", src, chain,
		    event_type_name(e->draft.type), r->message);
		break;
	case SEND_KEPT:
		fprintf(stderr, "kept %s (%s): %s\n", src, chain, r->message);
		break;
	}
}

/* One entry from load to outcome. */
static enum step
flush_entry(struct flush *f, const char *name, struct send_report *r,
    struct send_totals *totals)
{
	struct queue_entry e;
	struct http_response answer = { 0 };
	struct trace_error err;
	char chain[CHAIN_ID_MAX + 1], moved[PATH_MAX];
	char *why = NULL;
	size_t why_len = 0;
	enum step step;

	memset(r, 0, sizeof(*r));
	r->name = name;
	trace_error_clear(&err);
	if (queue_entry_load(f->q, name, &e, &err) != TRACE_OK) {
		/* Unreadable now is unreadable forever: out of the way. */
		if (err.status == TRACE_EMALFORMED || err.status ==
		    TRACE_ETOOBIG) {
			why = local_error_json(&err, &why_len);
			if (why != NULL && queue_reject(f->q, name, why, why_len,
			    moved, sizeof(moved), NULL) == TRACE_OK) {
				r->outcome = SEND_REJECTED;
				snprintf(r->message, sizeof(r->message), "not a "
				    "valid queue entry (%.120s); moved to "
				    "%.200s", err.message, moved);
				fprintf(stderr, "rejected %s: %s\n", name,
				    r->message);
				totals->rejected++;
				free(why);
				return STEP_REJECT;
			}
			free(why);
		}
		r->outcome = SEND_KEPT;
		snprintf(r->message, sizeof(r->message), "%s", err.message);
		agent_warn(f->opt->cmd, "%s", err.message);
		f->local_error = true;
		totals->kept++;
		return STEP_STOP;
	}
	draft_chain(&e.draft, chain, sizeof(chain));
	if (f->opt->only_chain != NULL && strcmp(chain, f->opt->only_chain)) {
		queue_entry_clear(&e);
		r->name = NULL;     /* not ours to send now */
		return STEP_DONE;
	}
	if (chain_blocked(f, chain)) {
		r->outcome = SEND_KEPT;
		snprintf(r->message, sizeof(r->message), "an earlier event of "
		    "this chain is still queued");
		step = STEP_KEEP;
		goto report;
	}
	step = e.has_envelope ? STEP_DONE : entry_sign(f, &e, chain, r, &err);
	if (step == STEP_DONE)
		step = entry_post(f, &e, chain, r, &answer, &err);
	if (e.has_envelope)
		memcpy(r->id, e.id, sizeof(r->id));
	switch (step) {
	case STEP_DONE:
		r->outcome = SEND_SENT;
		if (queue_remove(f->q, name, &err) != TRACE_OK)
			agent_warn(f->opt->cmd, "%s", err.message);
		break;
	case STEP_REJECT:
		r->outcome = SEND_REJECTED;
		/* After a 409 the refusal is ours (the rebuild failed). */
		if (answer.status >= 400 && answer.status != 409 &&
		    answer.body != NULL) {
			why = strdup(answer.body);
			why_len = answer.len;
		} else {
			snprintf(r->message, sizeof(r->message), "%s",
			    err.message);
			why = local_error_json(&err, &why_len);
		}
		if (why == NULL || queue_reject(f->q, name, why, why_len, moved,
		    sizeof(moved), &err) != TRACE_OK) {
			agent_warn(f->opt->cmd, "cannot move %s to rejected/",
			    name);
			r->outcome = SEND_KEPT;
			step = STEP_STOP;
		} else {
			size_t used = strlen(r->message);

			snprintf(r->message + used, sizeof(r->message) - used,
			    "; moved to %s", moved);
		}
		break;
	case STEP_KEEP:
	case STEP_STOP:
		r->outcome = SEND_KEPT;
		chain_block(f, chain);
		break;
	}
report:
	report_line(f, &e, chain, r);
	switch (r->outcome) {
	case SEND_SENT: totals->sent++; break;
	case SEND_REJECTED: totals->rejected++; break;
	case SEND_KEPT: totals->kept++; break;
	}
	totals->held += r->held;
	free(why);
	http_response_free(&answer);
	queue_entry_clear(&e);
	return step;
}

enum trace_status
send_flush(const struct agent *a, struct queue *q,
    const struct send_options *opt, struct send_totals *totals,
    struct trace_error *err)
{
	struct flush f = { .a = a, .q = q, .opt = opt };
	char **names = NULL;
	size_t count = 0, i, docs_sent = 0, docs_kept = 0;
	bool docs_unreachable = false;
	enum trace_status rc;

	memset(totals, 0, sizeof(*totals));
	/* Finish what a kill between a rebase and the rewrite of the
	 * references to it left (rebase.c). */
	if ((rc = rebase_repair_references(q, opt->only_chain, &count, err)) !=
	    TRACE_OK)
		return rc;
	/* Documents before the events that name them (attachments.c). */
	if ((rc = attachments_send(a, q, opt, &docs_sent, &docs_kept,
	    &docs_unreachable, err)) != TRACE_OK)
		return rc;
	if ((rc = queue_list(q, &names, &count, err)) != TRACE_OK)
		return rc;
	for (i = 0; i < count; i++) {
		struct send_report r;
		enum step step = flush_entry(&f, names[i], &r, totals);

		if (r.name != NULL && opt->on_entry != NULL)
			opt->on_entry(&r, opt->arg);
		if (step == STEP_STOP) {
			snprintf(f.stop_reason, sizeof(f.stop_reason), "%s",
			    r.message[0] ? r.message : "stopped");
			break;
		}
	}
	/* What was not tried stays queued. */
	for (i = i < count ? i + 1 : count; i < count; i++) {
		struct queue_entry e;
		char chain[CHAIN_ID_MAX + 1];

		if (opt->only_chain != NULL) {
			if (queue_entry_load(q, names[i], &e, NULL) != TRACE_OK)
				continue;
			draft_chain(&e.draft, chain, sizeof(chain));
			queue_entry_clear(&e);
			if (strcmp(chain, opt->only_chain) != 0)
				continue;
		}
		totals->kept++;
		if (opt->on_entry != NULL) {
			struct send_report r = { .name = names[i],
			    .outcome = SEND_KEPT };

			snprintf(r.message, sizeof(r.message), "not tried: %.*s",
			    (int)sizeof(r.message) - 16, f.stop_reason);
			opt->on_entry(&r, opt->arg);
		}
	}
	/* A document still queued keeps send from saying "all sent". */
	totals->kept += docs_kept;
	/* Kept only for reasons that pass by themselves (the server away, a
	 * chain not started yet): try again later. */
	totals->unreachable = totals->kept > 0 && !f.local_error;
	key_pair_wipe(&f.key);
	free(f.heads);
	free(f.blocked);
	queue_names_free(names, count);
	return TRACE_OK;
}

/* ---- trace-agent send ----------------------------------------------------- */

static const char send_usage[] =
"usage: trace-agent send [--attempts N] [--seen ID]... [--list]\n"
"           [--server URL] [--queue DIR]\n"
"\n"
"Send every queued event in the order it was recorded and print the id\n"
"of each one the server accepted, one per line (ids of events still\n"
"queued are provisional and never printed).\n"
"\n"
"Rebase: an event whose chain moved on (HTTP 409) is rebuilt on the new\n"
"head with the same type, time, where and data, and signed again with\n"
"its own key; queued corrections and recall closes that name it by its\n"
"old id are rewritten to the new one.  But if the statements that moved\n"
"the chain include a recall.issued, a recall.closed, a correction or a\n"
"failed inspection, send does not rebase: it names them (type, id,\n"
"signer), keeps that chain's events queued as they are, and exits 4.\n"
"Read them, then run send again with --seen ID for each.\n"
"\n"
"An event refused for its time (422 stale_time, time_in_future) stays\n"
"queued with the error shown.  One the server refuses for good otherwise\n"
"is moved to QUEUE/rejected/ with the server's answer next to it.\n"
"\n"
"Documents queued by `record --attach` are uploaded first, before any\n"
"event (progress on stderr for large ones).  One the server cannot take\n"
"now (unreachable, 5xx, 429 quota, 507 full) stays queued and is sent\n"
"again whole next time; one refused for good goes to QUEUE/rejected/.\n"
"\n"
"  --attempts N   tries per request while the server is unreachable or\n"
"                 answers 503, with backoff 1, 2, 4... s (default 5)\n"
"  --seen ID      a statement that moved a chain and that you have read:\n"
"                 rebase over it (repeatable; the full 64-digit id)\n"
"  --list         show the queue, send nothing\n"
"\n"
"exit status: 0 all sent; 4 a chain is held for --seen (the rest was\n"
"sent); 1 something was rejected or stays queued for a person (a key\n"
"missing, a stale time); 3 the server could not be reached (the rest\n"
"stays queued); 2 usage.\n";

/* send prints the id of every statement the server accepted. */
static void
send_on_entry(const struct send_report *r, void *arg)
{
	(void)arg;
	if (r->outcome == SEND_SENT && r->id[0] != '\0')
		printf("%s\n", r->id);
}

static int
send_list(struct queue *q)
{
	char **names = NULL;
	size_t count = 0;
	struct trace_error err;

	if (queue_list(q, &names, &count, &err) != TRACE_OK) {
		agent_report("send", &err);
		return AGENT_EXIT_FAILED;
	}
	for (size_t i = 0; i < count; i++) {
		struct queue_entry e;
		char chain[CHAIN_ID_MAX + 1];

		if (queue_entry_load(q, names[i], &e, &err) != TRACE_OK) {
			printf("%s  (unreadable: %s)\n", names[i], err.message);
			continue;
		}
		draft_chain(&e.draft, chain, sizeof(chain));
		printf("%s  %-6s  %-22s  %s%s%s\n", names[i],
		    e.has_envelope ? "signed" : "draft",
		    event_type_name(e.draft.type), chain,
		    e.source[0] ? "  " : "", e.source);
		queue_entry_clear(&e);
	}
	fprintf(stderr, "%zu queued in %s\n", count, q->dir);
	queue_names_free(names, count);
	return AGENT_EXIT_OK;
}

int
cmd_send(struct agent *a, int argc, char **argv)
{
	enum { OPT_ATTEMPTS = OPT_FIRST_LOCAL, OPT_LIST, OPT_SEEN };
	static const struct option options[] = {
		{ "attempts", required_argument, NULL, OPT_ATTEMPTS },
		{ "seen", required_argument, NULL, OPT_SEEN },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct send_options opt = { .cmd = "send", .attempts = 5,
	    .on_entry = send_on_entry };
	struct send_totals totals;
	struct trace_error err;
	struct queue q;
	const char **seen = NULL;
	unsigned char raw[SHA256_LEN];
	bool list = false;
	int c, rc;

	if ((seen = calloc((size_t)argc + 1, sizeof(*seen))) == NULL)
		return AGENT_EXIT_FAILED;
	opt.seen = seen;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (agent_common_option(a, c, optarg))
			continue;
		switch (c) {
		case OPT_ATTEMPTS:
			opt.attempts = atoi(optarg);
			if (opt.attempts < 1 || opt.attempts > 100)
				return agent_usage_error("send",
				    "--attempts must be 1 to 100");
			break;
		case OPT_LIST:
			list = true;
			break;
		case OPT_SEEN:
			if (strlen(optarg) != QUEUE_ID_HEX ||
			    !hex_decode(optarg, QUEUE_ID_HEX, raw, SHA256_LEN,
			    true)) {
				rc = agent_usage_error("send", "--seen wants a "
				    "statement id (64 lowercase hex digits), not "
				    "\"%s\"", optarg);
				goto out;
			}
			seen[opt.seen_count++] = optarg;
			break;
		case 'h':
			fputs(send_usage, stdout);
			rc = AGENT_EXIT_OK;
			goto out;
		default:
			rc = agent_usage_error("send", "bad option");
			goto out;
		}
	}
	if (optind < argc) {
		rc = agent_usage_error("send", "unexpected argument '%s'",
		    argv[optind]);
		goto out;
	}
	rc = AGENT_EXIT_FAILED;
	if (queue_open(&q, agent_queue_dir(a), &err) != TRACE_OK) {
		agent_report("send", &err);
		goto out;
	}
	if (list) {
		rc = send_list(&q);
		queue_close(&q);
		goto out;
	}
	if (send_flush(a, &q, &opt, &totals, &err) != TRACE_OK) {
		agent_report("send", &err);
		queue_close(&q);
		goto out;
	}
	queue_close(&q);
	fprintf(stderr, "%zu sent, %zu rejected, %zu still queued in %s%s\n",
	    totals.sent, totals.rejected, totals.kept, q.dir, totals.held > 0 ?
	    " (held: see above, then send --seen ID)" : "");
	/* A held chain needs a decision before anything else moves. */
	if (totals.held > 0)
		rc = AGENT_EXIT_HELD;
	else if (totals.rejected > 0)
		rc = AGENT_EXIT_FAILED;
	else if (totals.kept > 0)
		rc = totals.unreachable ? AGENT_EXIT_UNREACHABLE :
		    AGENT_EXIT_FAILED;
	else
		rc = AGENT_EXIT_OK;
out:
	free(seen);
	return rc;
}
