/*
 * verify.c - trace-agent verify: load a chain's bundle (a file or the
 * server), the trust anchor and the log's verifier key, have libtrace check
 * it, and print the report: one line per item (the checkpoint, each key
 * entry in log order, each event), "ok" or "FAIL" with the reason of every
 * failure, then a summary.  Exit 0 only if everything checks.
 *
 * What is checked lives in libtrace/bundle.c (bundle_verify(),
 * bundle_check_consistency()), shared with the server's verdict page, so
 * the agent and the server cannot disagree about what a valid bundle is.
 * Only two questions are the agent's own, because only it knows the
 * answer: whether the server answered --gtin/--lot with that chain's bundle,
 * and, with --previous, which checkpoint it saw before (kept in that file,
 * which this command updates to the newer one).  With --policy (C2SP
 * tlog-policy, docs/PROTOCOL.md 9.7) the checkpoint must also carry
 * cosignatures that meet the policy's quorum (libtrace tlogpolicy.c and
 * cosign.c), and the report names the witnesses and when they cosigned.
 * Unless --no-state, the checkpoint is also held against the largest one
 * remembered for its log (state.c, SPEC 10).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "libtrace/bundle.h"
#include "libtrace/fileio.h"
#include "libtrace/timefmt.h"
#include "libtrace/tlogpolicy.h"

static const char verify_usage[] =
"usage: trace-agent verify (BUNDLE.json | --gtin G --lot L) --root ADMIN.pub\n"
"           (--log-vkey VKEY | --policy FILE) [--previous FILE]\n"
"           [--max-checkpoint-age AGE] [--state DIR | --no-state]\n"
"           [--attachments] [--server URL]\n"
"\n"
"Check a chain's bundle offline: the checkpoint's signature, every\n"
"inclusion proof against it, every signature, every seq/prev link,\n"
"every signer's key entry (role, validity window, revocation, GTIN\n"
"prefixes, its org: root-registered, with the role and prefixes, and the\n"
"enrolling admin's scope) back to the root admin key, which org may\n"
"register the lot, and what corrections and recall\n"
"closes may name.  Prints one line per checkpoint, key entry and event\n"
"(ok, or FAIL with the reason), the recall, inspection and customs\n"
"status of the lot as the bundle alone shows it, and a summary.\n"
"\n"
"Pending (docs/PROTOCOL.md 10.1, 10.2 step 1a): statements logged after\n"
"the (witnessed) checkpoint come with the log's newer signed checkpoint,\n"
"proven consistent with it; they are checked like the others and printed\n"
"as pending.  A pending recall or inspection fail counts at once; a\n"
"pending close, correction, pass, customs release or serials.issued is\n"
"ignored until witnessed.  With --policy only the checkpoint needs the\n"
"quorum; the pending one is the log's alone.\n"
"\n"
"Completeness (docs/PROTOCOL.md 10.5): the bundle's lot index proofs must\n"
"show that its events are the whole chain and its key entries all entries\n"
"of their keys as of the checkpoint: \"complete as of checkpoint N\", or\n"
"FAIL with why not (truncated, key_entries_hidden, stale_index, ...).  A\n"
"bundle without a lot index fails (nothing shows that a recall was not\n"
"left out); an unknown lot's absence proof is checked and reported.\n"
"\n"
"  BUNDLE.json        a bundle file (- for standard input), or\n"
"  --gtin G --lot L   fetch the chain's bundle from the server\n"
"  --root ADMIN.pub   the trust anchor (the root admin public key)\n"
"  --log-vkey VKEY    the log's verifier key (name+hash+base64), or a\n"
"                     file holding it\n"
"  --policy FILE      a witness policy (C2SP tlog-policy): the checkpoint\n"
"                     must be signed by a log it lists (--log-vkey, if\n"
"                     also given, is the one) and carry cosignatures by its\n"
"                     witnesses that meet its quorum; a cosignature by a\n"
"                     listed witness that does not verify fails the bundle\n"
"  --max-checkpoint-age AGE\n"
"                     with --policy: the newest cosignature must be at\n"
"                     most AGE old (seconds, or with s, m, h, d; default\n"
"                     1h), else the result is STALE, not verified: the\n"
"                     witnesses have not seen the log lately, so a recall\n"
"                     logged since may be missing\n"
"  --previous FILE    a checkpoint seen before (a signed note, as from\n"
"                     GET /api/v1/checkpoint): the log must have only grown\n"
"                     between it and the bundle's checkpoint, checked with a\n"
"                     consistency proof from the server.  FILE then keeps\n"
"                     the newer of the two, so passing the same FILE every\n"
"                     time remembers the newest checkpoint seen and a log\n"
"                     that forks or shrinks is noticed.  A FILE that does\n"
"                     not exist yet is created with the bundle's checkpoint;\n"
"                     after a failed check FILE is left as it was.\n"
"  --state DIR        where the largest checkpoint verified of each log is\n"
"                     remembered (default $XDG_STATE_HOME/trace, else\n"
"                     ~/.local/state/trace).  Every later verify demands\n"
"                     that the log prove, with a consistency proof from\n"
"                     the server, that its tree extends the remembered one.\n"
"                     A fork (another tree of a size seen, or a proof that\n"
"                     fails) or a rollback (the server answering with a\n"
"                     smaller tree) fails, and both signed checkpoints are\n"
"                     written to an evidence file in DIR/evidence/ (its\n"
"                     path is printed); the memory is left as it was.  A\n"
"                     bundle FILE whose tree is a proven prefix of the one\n"
"                     remembered is STALE: a later tree exists\n"
"  --no-state         remember nothing and compare with nothing\n"
"  --attachments      also download every document the events name\n"
"                     (data.attachments) and check its SHA-256; one not\n"
"                     uploaded, or whose bytes differ, is a problem\n"
"\n"
"exit status: 0 everything checks; 1 something failed (the report says\n"
"what); 2 usage; 3 the server could not be reached (for the bundle, or\n"
"for the consistency proof when nothing else failed); 5 everything\n"
"checks but the checkpoint is STALE (see --max-checkpoint-age, --state).\n";

/* VKEY given inline or as a file holding it. */
static enum trace_status
load_vkey(const char *arg, struct note_verifier *out, struct trace_error *err)
{
	char *text = NULL;
	size_t len = 0;
	enum trace_status rc;

	if (file_read_all(arg, 4096, &text, &len, NULL) != TRACE_OK)
		return note_verifier_parse(arg, strlen(arg), out, err);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
	    text[len - 1] == ' '))
		len--;
	rc = note_verifier_parse(text, len, out, err);
	free(text);
	return rc;
}

/* Whether a 404 body carries an index member (an absence proof). */
static bool
has_index(const char *body, size_t len)
{
	static const char needle[] = "\"index\":";

	for (size_t i = 0; body != NULL && i + sizeof(needle) - 1 <= len; i++)
		if (memcmp(body + i, needle, sizeof(needle) - 1) == 0)
			return true;
	return false;
}

/*
 * Get the bundle text (malloc'd, the caller frees it) from a file or from
 * the server; for the server, chain receives the chain asked for (else "").
 */
static int
load_bundle(const struct agent *a, const char *file, const char *gtin,
    const char *lot, char **text, size_t *len, char chain[CHAIN_ID_MAX + 1])
{
	struct http_response resp = { 0 };
	struct trace_error err;
	char gtin14[GTIN14_LEN + 1], path[128 + CHAIN_ID_MAX], why[512];

	chain[0] = '\0';
	if (file != NULL) {
		enum trace_status st = strcmp(file, "-") == 0 ?
		    file_read_fd(0, (size_t)BUNDLE_TEXT_MAX, text, len, &err) :
		    file_read_all(file, (size_t)BUNDLE_TEXT_MAX, text, len,
		    &err);

		if (st != TRACE_OK) {
			agent_report("verify", &err);
			return AGENT_EXIT_FAILED;
		}
		return AGENT_EXIT_OK;
	}
	if (gs1_gtin_normalize(gtin, strlen(gtin), gtin14, "gtin", &err) !=
	    TRACE_OK || gs1_attr_check(lot, strlen(lot), "lot", &err) !=
	    TRACE_OK) {
		agent_report("verify", &err);
		return AGENT_EXIT_USAGE;
	}
	gs1_chain_id(gtin14, lot, chain, CHAIN_ID_MAX + 1);
	snprintf(path, sizeof(path), "/api/v1/bundles/%s", chain);
	if (http_exchange(a, "verify", "GET", path, NULL, NULL, 0, 3, &resp,
	    &err) != TRACE_OK || http_status_temporary(resp.status)) {
		agent_warn("verify", "%s", resp.status ? "server unavailable" :
		    err.message);
		http_response_free(&resp);
		return AGENT_EXIT_UNREACHABLE;
	}
	/* An unknown lot: 404 with the index's absence proof (SPEC 11),
	 * which bundle_verify checks like any bundle. */
	if (resp.status == 404 && has_index(resp.body, resp.len)) {
		*text = resp.body;
		*len = resp.len;
		resp.body = NULL;
		http_response_free(&resp);
		return AGENT_EXIT_OK;
	}
	if (resp.status != 200) {
		http_describe_error(&resp, why, sizeof(why));
		agent_warn("verify", "no bundle for %s: %s", chain, why);
		http_response_free(&resp);
		return AGENT_EXIT_FAILED;
	}
	*text = resp.body;
	*len = resp.len;
	resp.body = NULL;
	http_response_free(&resp);
	return AGENT_EXIT_OK;
}

/* ---- the report --------------------------------------------------------- */

/*
 * SPEC 11: "complete as of checkpoint N" or why not.  The index's own
 * failures were counted and printed with the bundle's; an index that is
 * missing or cannot be checked is one more problem (false): without it
 * nothing shows that a recall was not left out.  A lot the index proves
 * unknown is a problem too: there is nothing genuine to show.
 */
static bool
print_completeness(const struct bundle_report *r, const char *log)
{
	char when[21] = "";

	if (r->index_time > 0)
		time_format_utc(r->index_time, when);
	switch (r->completeness) {
	case BUNDLE_COMPLETE:
		printf("ok    complete: as of checkpoint %" PRIu64 " of %s "
		    "(index statement of %s): every event of the lot and "
		    "every entry of its keys is shown\n", r->index_size, log,
		    when);
		return true;
	case BUNDLE_ABSENT:
		printf("FAIL  complete: the log's lot index proves this lot "
		    "unknown as of checkpoint %" PRIu64 " (index statement of "
		    "%s)\n", r->index_size, when);
		return false;
	case BUNDLE_INCOMPLETE:
		printf("FAIL  complete: NOT complete as of checkpoint %" PRIu64
		    ": %s (%s)\n", r->checkpoint.size, r->completeness_message,
		    r->completeness_code);
		return true;    /* already counted as a failure */
	default:
		printf("FAIL  complete: not shown: %s (%s)\n",
		    r->completeness_message, r->completeness_code);
		return false;
	}
}

/*
 * The report's failures grouped by the item they are about, in the order
 * they were found: slot 0 is the bundle itself, 1 the checkpoint, 2 the
 * pending checkpoint, then the key entries and the events by position.
 * Linear, so a bundle of 100,000 failing events prints as fast as a good
 * one.
 */
struct failure_index {
	size_t *first;            /* per slot: failure index + 1, 0 = none */
	size_t *next;             /* per failure: the next of its slot + 1 */
	size_t key_base, event_base;
};

static size_t
failure_slot(const struct failure_index *fi, const struct bundle_report *r,
    const struct bundle_failure *f)
{
	switch (f->subject) {
	case BUNDLE_SUBJECT_CHECKPOINT:
		return 1;
	case BUNDLE_SUBJECT_PENDING:
		return 2;
	case BUNDLE_SUBJECT_KEY:
		return f->position < r->key_count ? fi->key_base + f->position :
		    0;
	case BUNDLE_SUBJECT_EVENT:
		return f->position < r->event_count ? fi->event_base +
		    f->position : 0;
	default:
		return 0;
	}
}

/* False when out of memory; free with failure_index_free(). */
static bool
failure_index_build(struct failure_index *fi, const struct bundle_report *r)
{
	fi->key_base = 3;
	fi->event_base = 3 + r->key_count;
	fi->first = calloc(fi->event_base + r->event_count, sizeof(size_t));
	fi->next = calloc(r->failure_count + 1, sizeof(size_t));
	if (fi->first == NULL || fi->next == NULL)
		return false;
	/* Backwards, each to the front of its list: lists keep report order. */
	for (size_t i = r->failure_count; i-- > 0;) {
		size_t slot = failure_slot(fi, r, &r->failures[i]);

		fi->next[i] = fi->first[slot];
		fi->first[slot] = i + 1;
	}
	return true;
}

static void
failure_index_free(struct failure_index *fi)
{
	free(fi->first);
	free(fi->next);
}

/* One FAIL line per failure about slot; how many. */
static size_t
print_failures(const struct failure_index *fi, const struct bundle_report *r,
    size_t slot, const char *what)
{
	size_t n = 0;

	for (size_t f = fi->first[slot]; f != 0; f = fi->next[f - 1]) {
		printf("FAIL  %s: %s\n", what, r->failures[f - 1].message);
		n++;
	}
	return n;
}

struct key_order {
	long long log_index;
	size_t position;
};

static int
key_order_compare(const void *a, const void *b)
{
	const struct key_order *x = a, *y = b;

	if (x->log_index != y->log_index)
		return x->log_index < y->log_index ? -1 : 1;
	return x->position < y->position ? -1 : x->position > y->position;
}

/*
 * Key entries in log order, the order bundle_verify() applied them in.
 * False when out of memory.  *unexplained counts items that are not ok
 * without a failure to say why (never, if bundle_verify() keeps its word).
 */
static bool
print_keys(const struct failure_index *fi, const struct bundle_report *r,
    size_t *unexplained)
{
	struct key_order *order = calloc(r->key_count + 1, sizeof(*order));

	if (order == NULL)
		return false;
	for (size_t i = 0; i < r->key_count; i++)
		order[i] = (struct key_order){ r->keys[i].log_index, i };
	qsort(order, r->key_count, sizeof(*order), key_order_compare);
	for (size_t k = 0; k < r->key_count; k++) {
		size_t i = order[k].position;
		const struct bundle_key_result *res = &r->keys[i];
		const struct key_entry *e = &res->entry;
		char what[96];

		if (res->log_index >= 0)
			snprintf(what, sizeof(what), "%skey entry at log index "
			    "%lld", res->pending ? "pending " : "",
			    res->log_index);
		else
			snprintf(what, sizeof(what), "%skey entry keys[%zu]",
			    res->pending ? "pending " : "", i);
		if (print_failures(fi, r, fi->key_base + i, what) > 0)
			continue;
		if (!res->ok || !res->parsed) {
			printf("FAIL  %s: not verified\n", what);
			++*unexplained;
		} else if (e->op == KEY_OP_ORG)
			printf("ok    %s: org %s (%s / %s, %zu prefixes) by %s%s\n",
			    what, e->org_def.id, e->org_def.name_en,
			    e->org_def.name_zh, e->org_def.prefix_count,
			    e->signer, res->signer_is_root ? " (root)" : "");
		else if (e->op == KEY_OP_REVOKE) {
			char when[21];

			printf("ok    %s: revoke %s (\"%s\") by %s%s", what,
			    e->keyid, e->reason, e->signer,
			    res->signer_is_root ? " (root)" : "");
			if (e->has_compromised_at) {
				time_format_utc(e->compromised_at, when);
				printf(", compromised at %s", when);
			}
			printf("\n");
		} else
			printf("ok    %s: enroll %s (%s, %s, %s) by %s%s%s\n",
			    what, e->keyid, key_role_name(e->role), e->name,
			    e->org, e->signer, res->signer_is_root ? " (root)" :
			    "", res->enrollment_void ? "; signed with a key "
			    "reported compromised: it counts for nothing" : "");
	}
	free(order);
	return true;
}

/* Events in bundle order (= seq order); *unexplained as for keys. */
static void
print_events(const struct failure_index *fi, const struct bundle_report *r,
    size_t *unexplained)
{
	for (size_t i = 0; i < r->event_count; i++) {
		const struct bundle_event_result *res = &r->events[i];
		char what[96];

		if (res->parsed)
			snprintf(what, sizeof(what), "%sevent %zu (seq %lld, %s)",
			    res->pending ? "pending " : "", i, res->seq,
			    event_type_name(res->type));
		else
			snprintf(what, sizeof(what), "%sevent %zu",
			    res->pending ? "pending " : "", i);
		if (print_failures(fi, r, fi->event_base + i, what) > 0)
			continue;
		if (!res->ok || !res->parsed || !res->signer_known) {
			printf("FAIL  %s: not verified\n", what);
			++*unexplained;
		} else {
			printf("ok    %s: %s, log index %lld, signed by %s (%s)\n",
			    what, res->id, res->log_index, res->signer,
			    key_role_name(res->signer_role));
		}
	}
}

/*
 * What the chain adds up to, from the bundle alone: the fold bundle_verify()
 * keeps in its report (libtrace/fold.h), the statuses the server's pages
 * show.  Of a bundle that fails, it covers the events that passed their
 * own checks.
 */
static void
print_status(const struct bundle_report *r)
{
	const struct fold_result *f = &r->fold;

	if (f->recall_count == 0)
		printf("status  recall: none\n");
	else if (f->open_recalls == 0)
		printf("status  recall: closed (%zu recall%s, none open)\n",
		    f->recall_count, f->recall_count == 1 ? "" : "s");
	else
		printf("status  recall: open (%zu of %zu recall%s open)\n",
		    f->open_recalls, f->recall_count,
		    f->recall_count == 1 ? "" : "s");
	for (size_t k = 0; k < f->recall_count; k++) {
		const struct fold_recall *rc = &f->recalls[k];

		printf("status    recall %s (seq %lld): %s, severity %lld, ",
		    rc->id, f->statements[rc->statement].seq, rc->open ?
		    "open" : "closed", rc->severity);
		if (rc->ranges == NULL)
			printf("the whole lot");
		for (size_t i = 0; i < rc->range_count; i++)
			printf("%sserials %s-%s", i > 0 ? ", " : "",
			    rc->ranges[i].from, rc->ranges[i].to);
		printf(", issued by %s (%s)", key_role_name(rc->issuer_role),
		    rc->issuer_org);
		if (f->statements[rc->statement].pending)
			printf(", pending (in force before it is witnessed)");
		if (f->statements[rc->statement].compromised)
			printf(", signed with a key reported compromised");
		if (!rc->open)
			printf(", closed by seq %lld%s",
			    f->statements[rc->closed_by].seq, rc->closed_round1 ?
			    " (round-1 close of every open recall)" : "");
		printf("\n");
	}
	printf("status  inspection: %s", fold_inspection_name(f->inspection));
	for (size_t k = 0; k < f->inspection_count; k++) {
		const struct fold_inspection *in = &f->inspections[k];

		printf("%s seq %lld %s%s%s", k == 0 ? " (" : ",",
		    f->statements[in->statement].seq, in->pass ? "pass" : "fail",
		    in->withdrawn ? " withdrawn" : "",
		    f->statements[in->statement].pending ? " pending" : "");
	}
	printf("%s\n", f->inspection_count > 0 ? ")" : "");
	printf("status  customs: %s\n", fold_customs_name(f->customs));
	for (size_t k = 0; k < f->count; k++) {
		const struct fold_statement_state *s = &f->statements[k];

		if (s->round1)
			printf("note    seq %lld (%s): judged by round-1 rules%s\n",
			    s->seq, event_type_name(s->type), s->ignored ?
			    "; it changes nothing" : "");
		if (s->withdrawn_by != FOLD_NONE)
			printf("note    seq %lld (%s): withdrawn by the "
			    "correction at seq %lld\n", s->seq,
			    event_type_name(s->type),
			    f->statements[s->withdrawn_by].seq);
		/* SPEC 8 "Revocation and compromise". */
		if (s->compromised)
			printf("note    seq %lld (%s): signed with a key "
			    "reported compromised: %s\n", s->seq,
			    event_type_name(s->type), s->ignored ?
			    "it counts for nothing" : "still in force");
		/* SPEC 9: what a pending statement does until witnessed. */
		if (s->pending)
			printf("note    seq %lld (%s): pending (logged after "
			    "the witnessed checkpoint): %s\n", s->seq,
			    event_type_name(s->type), s->ignored ?
			    "ignored until the witnesses cosign it" :
			    "counted now");
	}
}

/* ---- --previous --------------------------------------------------------- */

enum previous_outcome
verify_fetch_consistency(const struct agent *a, uint64_t from, uint64_t to,
    unsigned char hashes[][MERKLE_HASH_LEN], size_t *count, char *why,
    size_t size)
{
	struct http_response resp = { 0 };
	struct trace_error err;
	char path[128], answer[512];
	enum previous_outcome out = PREVIOUS_FAILED;

	memset(&err, 0, sizeof(err));
	snprintf(path, sizeof(path), "/api/v1/proofs/consistency?from=%" PRIu64
	    "&to=%" PRIu64, from, to);
	if (http_exchange(a, "verify", "GET", path, NULL, NULL, 0, 3, &resp,
	    &err) != TRACE_OK || http_status_temporary(resp.status)) {
		snprintf(why, size, "no consistency proof from the server: %s",
		    resp.status ? "server unavailable" : err.message);
		if (resp.status != 0 || strcmp(err.code, "no_server") != 0)
			out = PREVIOUS_UNREACHABLE;
	} else if (resp.status != 200) {
		http_describe_error(&resp, answer, sizeof(answer));
		snprintf(why, size, "no consistency proof from the server: %s",
		    answer);
	} else if (bundle_consistency_proof_parse(resp.body, resp.len, from,
	    to, hashes, count, &err) != TRACE_OK) {
		snprintf(why, size, "the server's consistency proof is "
		    "unusable: %s", err.message);
	} else {
		out = PREVIOUS_OK;
	}
	http_response_free(&resp);
	return out;
}

/*
 * --previous FILE.  Normally the bundle's checkpoint is the newer one and
 * replaces FILE once it is shown to extend it.  An older bundle checked
 * after a newer checkpoint was seen is fine too if its tree is a prefix of
 * FILE's (then FILE stays): only a fork or a shrinking log fails.
 */
static enum previous_outcome
check_previous(const struct agent *a, const char *path,
    const struct bundle *b, const struct bundle_report *r,
    const struct note_verifier *log_key)
{
	unsigned char hashes[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	struct merkle_bytes proof[MERKLE_PROOF_MAX];
	const struct checkpoint *cur = &r->checkpoint;
	struct checkpoint old;
	struct trace_error err;
	enum previous_outcome out = PREVIOUS_FAILED;
	char *text = NULL, why[768];
	size_t len = 0, count = 0;
	bool newer;
	enum trace_status rc;

	if (!r->checkpoint_ok) {
		printf("FAIL  previous checkpoint: not compared: the bundle's "
		    "checkpoint does not verify\n");
		return PREVIOUS_FAILED;
	}
	rc = file_read_all(path, NOTE_MAX_LEN, &text, &len, &err);
	if (rc == TRACE_ENOTFOUND) {
		/* The first run: nothing to compare yet, remember this one. */
		if (file_write_atomic(path, b->checkpoint, b->checkpoint_len,
		    0644, 1, &err) != TRACE_OK) {
			printf("FAIL  previous checkpoint: cannot create %s: %s\n",
			    path, err.message);
			return PREVIOUS_FAILED;
		}
		printf("ok    previous checkpoint: %s did not exist; it now "
		    "holds this checkpoint (size %" PRIu64 ")\n", path,
		    cur->size);
		return PREVIOUS_OK;
	}
	if (rc != TRACE_OK) {
		printf("FAIL  previous checkpoint: %s\n", err.message);
		return PREVIOUS_FAILED;
	}
	if (checkpoint_open(text, len, log_key, &old, &err) != TRACE_OK) {
		printf("FAIL  previous checkpoint: %s does not verify under log "
		    "key %s: %s\n", path, log_key->name, err.message);
		goto out;
	}
	newer = cur->size >= old.size;
	/*
	 * RFC 9162 2.1.4: a proof only between two different, non-empty
	 * sizes of the same log (another origin fails below without one).
	 */
	if (old.size != cur->size && old.size != 0 && cur->size != 0 &&
	    strcmp(old.origin, cur->origin) == 0 && (out = verify_fetch_consistency(a, newer ? old.size : cur->size,
	    newer ? cur->size : old.size, hashes, &count, why, sizeof(why))) !=
	    PREVIOUS_OK) {
		printf("FAIL  previous checkpoint: %s\n", why);
		goto out;
	}
	for (size_t i = 0; i < count; i++)
		proof[i] = merkle_bytes_hash(hashes[i]);
	/* bundle_check_consistency(older text, its key, newer, verified). */
	rc = newer ?
	    bundle_check_consistency(text, len, log_key, cur, proof, count,
	    NULL, &err) :
	    bundle_check_consistency(b->checkpoint, b->checkpoint_len, log_key,
	    &old, proof, count, NULL, &err);
	if (rc != TRACE_OK) {
		printf("FAIL  previous checkpoint: %s\n", err.message);
		out = PREVIOUS_FAILED;
		goto out;
	}
	out = PREVIOUS_OK;
	if (old.size == cur->size) {
		printf("ok    previous checkpoint: size %" PRIu64 ", the same "
		    "tree\n", old.size);
	} else if (!newer) {
		printf("ok    previous checkpoint: size %" PRIu64 " is newer; "
		    "this bundle's size %" PRIu64 " is a prefix of it (%s "
		    "kept)\n", old.size, cur->size, path);
	} else if (file_write_atomic(path, b->checkpoint, b->checkpoint_len,
	    0644, 0, &err) != TRACE_OK) {
		printf("FAIL  previous checkpoint: size %" PRIu64 " is a prefix "
		    "of size %" PRIu64 ", but %s cannot be updated: %s\n",
		    old.size, cur->size, path, err.message);
		out = PREVIOUS_FAILED;
	} else {
		printf("ok    previous checkpoint: size %" PRIu64 " is a prefix "
		    "of size %" PRIu64 "; %s now holds size %" PRIu64 "\n",
		    old.size, cur->size, path, cur->size);
	}
out:
	free(text);
	return out;
}

/* ---- --policy ----------------------------------------------------------- */

static struct tlog_policy *
load_policy(const char *path)
{
	struct tlog_policy *policy = NULL;
	struct trace_error err;
	char *text = NULL;
	size_t len = 0;

	if (file_read_all(path, TLOG_POLICY_TEXT_MAX, &text, &len, &err) !=
	    TRACE_OK || tlog_policy_parse(text, len, &policy, &err) !=
	    TRACE_OK) {
		agent_warn("verify", "--policy %s: %s%s%s", path, err.field,
		    err.field[0] != '\0' ? ": " : "", err.message);
		policy = NULL;
	}
	free(text);
	return policy;
}

/* The policy's log whose name is the origin of the bundle's checkpoint
 * (its first line); false if none. */
static bool
policy_log_for(const struct tlog_policy *policy, const struct bundle *b,
    struct note_verifier *out)
{
	size_t n;

	if (b->checkpoint == NULL)
		return false;
	n = strcspn(b->checkpoint, "\n");
	for (size_t i = 0; i < policy->log_count; i++)
		if (strlen(policy->logs[i].key.name) == n &&
		    memcmp(policy->logs[i].key.name, b->checkpoint, n) == 0) {
			*out = policy->logs[i].key;
			return true;
		}
	return false;
}

/*
 * Print the witnesses' line; false when the quorum is not met.  *newest
 * gets the newest valid cosignature's timestamp (0 when none).
 */
static bool
check_policy(const struct tlog_policy *policy, const struct bundle *b,
    uint64_t *newest)
{
	struct tlog_policy_result res;
	struct trace_error err;
	enum trace_status st;
	char when[21];

	memset(&res, 0, sizeof(res));
	*newest = 0;
	if (b->checkpoint == NULL) {
		printf("FAIL  witnesses: the bundle has no checkpoint\n");
		return false;
	}
	st = tlog_policy_verify(policy, b->checkpoint, b->checkpoint_len, &res,
	    &err);
	printf("%s  witnesses: ", st == TRACE_OK && res.quorum ? "ok  " :
	    "FAIL");
	if (st == TRACE_OK && res.quorum)
		printf("quorum met");
	else
		printf("%s", err.message);
	printf("; cosigned by ");
	if (res.witnessed_count == 0)
		printf("none");
	for (size_t i = 0, shown = 0; i < policy->witness_count; i++) {
		if (!res.witnessed[i])
			continue;
		if (res.timestamps[i] > *newest)
			*newest = res.timestamps[i];
		time_format_utc((long long)res.timestamps[i], when);
		printf("%s%s (%s) at %s", shown++ > 0 ? ", " : "",
		    policy->witnesses[i].name, policy->witnesses[i].key.name,
		    when);
	}
	printf("\n");
	return st == TRACE_OK && res.quorum;
}

/* ---- the command -------------------------------------------------------- */

int
cmd_verify(struct agent *a, int argc, char **argv)
{
	enum { OPT_GTIN = OPT_FIRST_LOCAL, OPT_LOT, OPT_ROOT, OPT_VKEY,
		OPT_PREVIOUS, OPT_POLICY, OPT_STATE, OPT_NO_STATE, OPT_ATTACHMENTS,
		OPT_MAX_AGE };
	static const struct option options[] = {
		{ "gtin", required_argument, NULL, OPT_GTIN },
		{ "lot", required_argument, NULL, OPT_LOT },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "log-vkey", required_argument, NULL, OPT_VKEY },
		{ "previous", required_argument, NULL, OPT_PREVIOUS },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "max-checkpoint-age", required_argument, NULL, OPT_MAX_AGE },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "no-state", no_argument, NULL, OPT_NO_STATE },
		{ "attachments", no_argument, NULL, OPT_ATTACHMENTS },
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *gtin = NULL, *lot = NULL, *root_path = NULL, *vkey = NULL,
	    *previous = NULL, *file = NULL, *policy_path = NULL;
	struct tlog_policy *policy = NULL;
	struct note_verifier verifier;
	struct key_pair root;
	struct trace_error err;
	struct bundle *b = NULL;
	struct bundle_report report;
	struct failure_index fi = { 0 };
	enum previous_outcome prev = PREVIOUS_OK, memory = PREVIOUS_OK;
	char state_dir[PATH_MAX] = "";
	bool no_state = false;
	char *text = NULL, asked[CHAIN_ID_MAX + 1];
	size_t len = 0, problems;
	bool attachments = false;
	/* SPEC 9: a checkpoint whose newest cosignature is older is stale. */
	long long max_age = 3600;
	uint64_t cosigned = 0;
	const char *stale = NULL;
	char stale_why[160];
	int c, rc;

	memset(&report, 0, sizeof(report));
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (agent_common_option(a, c, optarg))
			continue;
		switch (c) {
		case OPT_GTIN: gtin = optarg; break;
		case OPT_LOT: lot = optarg; break;
		case OPT_ROOT: root_path = optarg; break;
		case OPT_VKEY: vkey = optarg; break;
		case OPT_PREVIOUS: previous = optarg; break;
		case OPT_POLICY: policy_path = optarg; break;
		case OPT_MAX_AGE:
			if (!time_parse_duration(optarg, &max_age))
				return agent_usage_error("verify", "--max-"
				    "checkpoint-age wants a positive number of "
				    "seconds (or with s, m, h, d)");
			break;
		case OPT_STATE:
			snprintf(state_dir, sizeof(state_dir), "%s", optarg);
			break;
		case OPT_NO_STATE: no_state = true; break;
		case OPT_ATTACHMENTS: attachments = true; break;
		case 'h': fputs(verify_usage, stdout); return AGENT_EXIT_OK;
		default: return agent_usage_error("verify", "bad option");
		}
	}
	if (optind + 1 == argc)
		file = argv[optind];
	else if (optind < argc)
		return agent_usage_error("verify", "one bundle file at most");
	if ((file == NULL) == (gtin == NULL || lot == NULL) ||
	    (file != NULL && (gtin != NULL || lot != NULL)))
		return agent_usage_error("verify", "give BUNDLE.json or "
		    "--gtin and --lot");
	if (no_state && state_dir[0] != '\0')
		return agent_usage_error("verify", "--state or --no-state, not "
		    "both");
	if (!no_state && state_dir[0] == '\0' &&
	    !state_default_dir(state_dir, sizeof(state_dir)))
		agent_warn("verify", "no --state and neither XDG_STATE_HOME "
		    "nor HOME is set: nothing is remembered");
	if (root_path == NULL || (vkey == NULL && policy_path == NULL))
		return agent_usage_error("verify", "--root and --log-vkey (or "
		    "--policy) are required");
	if (key_pair_load(root_path, &root, &err) != TRACE_OK) {
		agent_report("verify", &err);
		return AGENT_EXIT_FAILED;
	}
	key_pair_wipe(&root);   /* a .key works too; only the public half */
	if (vkey != NULL && load_vkey(vkey, &verifier, &err) != TRACE_OK) {
		agent_report("verify", &err);
		return AGENT_EXIT_USAGE;
	}
	if (policy_path != NULL && (policy = load_policy(policy_path)) == NULL)
		return AGENT_EXIT_USAGE;
	if ((rc = load_bundle(a, file, gtin, lot, &text, &len, asked)) !=
	    AGENT_EXIT_OK) {
		tlog_policy_free(policy);
		return rc;
	}
	rc = AGENT_EXIT_FAILED;
	if (bundle_parse(text, len, &b, &err) != TRACE_OK) {
		printf("FAIL  bundle: not a bundle: %s%s%s\n", err.message,
		    err.field[0] ? " at " : "", err.field);
		printf("NOT VERIFIED: 1 problem\n");
		goto out;
	}
	/* Without --log-vkey, the policy's log for the checkpoint's origin;
	 * none: the first one, and the checkpoint then fails wrong_origin. */
	if (vkey == NULL && !policy_log_for(policy, b, &verifier)) {
		if (policy->log_count == 0) {
			printf("FAIL  checkpoint: the policy lists no log\n");
			printf("NOT VERIFIED: 1 problem\n");
			goto out;
		}
		verifier = policy->logs[0].key;
	}
	if (bundle_verify(b, root.public_key, &verifier, &report, &err) ==
	    TRACE_ENOMEM || !failure_index_build(&fi, &report)) {
		agent_warn("verify", "out of memory");
		goto out;
	}
	problems = report.failure_count;
	printf("bundle of %s\n", b->chain[0] ? b->chain : "(no chain)");
	if (asked[0] != '\0' && strcmp(b->chain, asked) != 0) {
		printf("FAIL  bundle: the server answered with the bundle of %s, "
		    "not of %s\n", b->chain[0] ? b->chain : "(no chain)", asked);
		problems++;
	}
	print_failures(&fi, &report, 0, "bundle");
	if (print_failures(&fi, &report, 1, "checkpoint") == 0 &&
	    report.checkpoint_ok)
		printf("ok    checkpoint: %s, size %" PRIu64 ", signed by %s\n",
		    report.checkpoint.origin, report.checkpoint.size,
		    verifier.name);
	if (policy != NULL && !check_policy(policy, b, &cosigned))
		problems++;
	/* SPEC 9: statements newer than the (witnessed) checkpoint. */
	if (report.pending && print_failures(&fi, &report, 2, "pending") == 0 &&
	    report.pending_ok)
		printf("ok    pending: %zu event%s and %zu key entr%s logged "
		    "after it, in checkpoint size %" PRIu64 " signed by %s "
		    "(not cosigned), which extends size %" PRIu64 "\n",
		    report.pending_events, report.pending_events == 1 ? "" :
		    "s", report.pending_keys, report.pending_keys == 1 ? "y" :
		    "ies", report.pending_checkpoint.size, verifier.name,
		    report.checkpoint.size);
	if (previous != NULL &&
	    (prev = check_previous(a, previous, b, &report, &verifier)) !=
	    PREVIOUS_OK)
		problems++;
	if (!no_state && state_dir[0] != '\0' &&
	    (memory = state_check(a, state_dir, b, &report, &verifier,
	    file == NULL)) != PREVIOUS_OK && memory != PREVIOUS_STALE)
		problems++;
	if (!print_keys(&fi, &report, &problems)) {
		agent_warn("verify", "out of memory");
		goto out;
	}
	print_events(&fi, &report, &problems);
	/* attachments.c: the documents behind the events. */
	if (attachments)
		problems += attachments_verify(a, b, NULL);
	if (!print_completeness(&report, verifier.name))
		problems++;
	/*
	 * The fold holds only the events that passed every check: a recall
	 * whose proof failed is not in it, so its "recall: none" would
	 * reassure about the very bundle that failed.  Statuses are printed
	 * only for a bundle that verified.
	 */
	if (problems == 0)
		print_status(&report);
	else
		printf("status  unknown: the bundle did not verify\n");
	if (policy != NULL && cosigned > 0 &&
	    time_now() - (long long)cosigned > max_age) {
		char when[21];

		time_format_utc((long long)cosigned, when);
		snprintf(stale_why, sizeof(stale_why), "the newest cosignature "
		    "is from %s, more than %lld s ago", when, max_age);
		stale = stale_why;
	} else if (memory == PREVIOUS_STALE) {
		stale = "a larger tree of this log was verified before";
	}
	if (problems == 0 && stale != NULL) {
		printf("STALE: %zu checks passed, but %s: statements logged "
		    "since (a recall) may be missing\n", report.checks, stale);
		rc = AGENT_EXIT_STALE;
	} else if (problems == 0) {
		printf("verified: %zu checks passed (%zu events, %zu key "
		    "entries, %zu signatures, %zu inclusion proofs against "
		    "checkpoint size %" PRIu64, report.checks,
		    report.event_count, report.key_count, report.signatures,
		    report.proofs, report.checkpoint.size);
		if (report.pending)
			printf(" and pending size %" PRIu64,
			    report.pending_checkpoint.size);
		printf(")\n");
		rc = AGENT_EXIT_OK;
	} else {
		printf("NOT VERIFIED: %zu problem%s (%zu of %zu events and %zu "
		    "of %zu key entries ok)\n", problems, problems == 1 ? "" :
		    "s", report.events_ok, report.event_count, report.keys_ok,
		    report.key_count);
		/* Only the proof was missing: "try again later", not "forged". */
		if (problems == 1 && (prev == PREVIOUS_UNREACHABLE ||
		    memory == PREVIOUS_UNREACHABLE))
			rc = AGENT_EXIT_UNREACHABLE;
	}
out:
	failure_index_free(&fi);
	bundle_report_free(&report);
	bundle_free(b);
	free(text);
	tlog_policy_free(policy);
	return rc;
}
