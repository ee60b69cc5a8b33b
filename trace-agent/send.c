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
 *                   otherwise rebuild on the chain's head, sign, store (the
 *                   old id goes to "superseded") and POST again;
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

/*
 * GET the chain: its head (exists false on 404) and whether it holds
 * statement id want (may be NULL).  why says what went wrong otherwise.
 */
static enum step
chain_fetch(struct flush *f, const char *chain, const char *want,
    bool *found, char *why, size_t why_size)
{
	struct http_response resp;
	struct trace_error err;
	struct json_doc *doc = NULL;
	const struct json_value *root, *events;
	char path[64 + CHAIN_ID_MAX];
	unsigned char id[SHA256_LEN];
	long long seq;
	enum trace_status rc;
	enum step step;

	*found = false;
	snprintf(path, sizeof(path), "/api/v1/chains/%s", chain);
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
	if (resp.status == 404) {
		head_remember(f, chain, false, -1, NULL);
		step = STEP_DONE;
		goto out;
	}
	if (resp.status != 200) {
		http_describe_error(&resp, why, why_size);
		step = STEP_KEEP;
		goto out;
	}
	if (http_response_json(&resp, &doc, &err) != TRACE_OK ||
	    !parse_head(json_object_get(root = json_doc_root(doc), "head"),
	    &seq, id)) {
		snprintf(why, why_size, "the server's chain answer has no "
		    "head");
		step = STEP_KEEP;
		goto out;
	}
	head_remember(f, chain, true, seq, id);
	if (want != NULL && (events = json_object_get(root, "events")) != NULL &&
	    events->type == JSON_ARRAY) {
		for (size_t i = 0; i < events->u.array.count && !*found; i++) {
			const char *s = NULL;

			if (json_get_string(events->u.array.items[i], "id",
			    false, &s, NULL, NULL) == TRACE_OK && s != NULL &&
			    strcmp(s, want) == 0)
				*found = true;
		}
	}
	step = STEP_DONE;
out:
	json_doc_free(doc);
	http_response_free(&resp);
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
		step = chain_fetch(f, chain, NULL, &found, r->message,
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

/* POST the entry's envelope, rebuilding on 409, until an outcome. */
static enum step
entry_post(struct flush *f, struct queue_entry *e, const char *chain,
    struct send_report *r, struct http_response *answer,
    struct trace_error *err)
{
	for (int round = 0;; round++) {
		struct json_doc *doc = NULL;
		unsigned char id[SHA256_LEN];
		char *text;
		size_t len = 0;
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
			return STEP_REJECT;
		}
		agent_crash_point("conflict");
		if (round >= CONFLICT_ROUNDS_MAX) {
			snprintf(r->message, sizeof(r->message), "the head of "
			    "%s kept moving; kept for the next send", chain);
			return STEP_KEEP;
		}
		/* Read the chain after the 409: its head, and whether our
		 * statement is in it already (accepted, answer lost). */
		step = chain_fetch(f, chain, e->id, &found, r->message,
		    sizeof(r->message));
		if (step != STEP_DONE)
			return step;
		if (found) {
			r->seq = r->log_index = -1;
			return STEP_DONE;
		}
		memcpy(id, e->envelope.id, sizeof(id));
		if ((step = entry_sign(f, e, chain, r, err)) != STEP_DONE)
			return step;
		r->rebased = memcmp(id, e->envelope.id, sizeof(id)) != 0 ||
		    r->rebased;
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
	size_t count = 0, i;
	enum trace_status rc;

	memset(totals, 0, sizeof(*totals));
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
"usage: trace-agent send [--attempts N] [--list] [--server URL] [--queue DIR]\n"
"\n"
"Send every queued event in the order it was recorded.  An event whose\n"
"chain moved on (HTTP 409) is rebuilt on the new head and signed again\n"
"with its own key; one the server refuses for good is moved to\n"
"QUEUE/rejected/ with the server's answer next to it.\n"
"\n"
"  --attempts N   tries per request while the server is unreachable or\n"
"                 answers 503, with backoff 1, 2, 4... s (default 5)\n"
"  --list         show the queue, send nothing\n"
"\n"
"exit status: 0 all sent; 1 something was rejected (or a key is missing);\n"
"3 the server could not be reached (the rest stays queued); 2 usage.\n";

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
	enum { OPT_ATTEMPTS = OPT_FIRST_LOCAL, OPT_LIST };
	static const struct option options[] = {
		{ "attempts", required_argument, NULL, OPT_ATTEMPTS },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct send_options opt = { .cmd = "send", .attempts = 5 };
	struct send_totals totals;
	struct trace_error err;
	struct queue q;
	bool list = false;
	int c, rc;

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
		case 'h':
			fputs(send_usage, stdout);
			return AGENT_EXIT_OK;
		default:
			return agent_usage_error("send", "bad option");
		}
	}
	if (optind < argc)
		return agent_usage_error("send", "unexpected argument '%s'",
		    argv[optind]);
	if (queue_open(&q, agent_queue_dir(a), &err) != TRACE_OK) {
		agent_report("send", &err);
		return AGENT_EXIT_FAILED;
	}
	if (list) {
		rc = send_list(&q);
		queue_close(&q);
		return rc;
	}
	if (send_flush(a, &q, &opt, &totals, &err) != TRACE_OK) {
		agent_report("send", &err);
		queue_close(&q);
		return AGENT_EXIT_FAILED;
	}
	queue_close(&q);
	fprintf(stderr, "%zu sent, %zu rejected, %zu still queued in %s\n",
	    totals.sent, totals.rejected, totals.kept, q.dir);
	if (totals.rejected > 0)
		return AGENT_EXIT_FAILED;
	if (totals.kept > 0)
		return totals.unreachable ? AGENT_EXIT_UNREACHABLE :
		    AGENT_EXIT_FAILED;
	return AGENT_EXIT_OK;
}
