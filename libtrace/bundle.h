/*
 * bundle.h - offline verification of a chain's bundle (docs/PROTOCOL.md section
 * 5), trusting nothing but the root admin public key and the log's
 * verifier key.
 *
 * A bundle is the JSON document GET /api/v1/bundles/01/{gtin}/10/{lot}
 * serves:
 *
 *   {"chain": "01/<gtin14>/10/<lot>", "checkpoint": "<signed note>",
 *    "events": [{"envelope": {DSSE}, "logIndex": n, "proof": [b64...]}],
 *    "keys":   [{"envelope": {DSSE}, "logIndex": n, "proof": [b64...]}],
 *    "receipts": [{"envelope": {DSSE}, "logIndex": n, "proof": [...]}],
 *                                                      (optional, SPEC 8)
 *    "pending": {"checkpoint": "<signed note>", "consistency": [b64...],
 *                "events": [...], "keys": [...]}}      (optional)
 *
 * Use:
 *
 *   struct bundle *b = NULL;
 *   struct bundle_report report;
 *   if (bundle_parse(text, len, &b, &err) != TRACE_OK)
 *           ... not a bundle at all (err says why) ...
 *   rc = bundle_verify(b, root_public_key, &log_verifier, &report, &err);
 *   ... rc == TRACE_OK only if report.failure_count == 0; print
 *       report.checkpoint, report.keys[], report.events[] and
 *       report.failures[] whatever rc is (except TRACE_ENOMEM) ...
 *   bundle_report_free(&report);
 *   bundle_free(b);
 *
 * What bundle_verify() checks, collecting every failure instead of stopping
 * at the first:
 *   checkpoint   the note verifies under the log key (C2SP signed-note) and
 *                its origin is the key's name;
 *   key entries  in log order: inclusion proof against the checkpoint,
 *                exactly one signature (DSSE, Ed25519), by the root or by
 *                an admin enrolled earlier in the log, an enrolled public
 *                key that ed25519_public_key_check() accepts, the registry
 *                rules (policy_check_key_entry at its log index); a
 *                revocation applies to statements logged after it;
 *   events       in bundle order, which must be seq order: inclusion proof,
 *                chain = the bundle's chain, seq = 0, 1, 2, ..., prev = id of
 *                the event before, log indexes increasing, exactly one
 *                signature, under the signer's enrolled key, role, validity
 *                window, GTIN scope and revocation at its log index
 *                (policy_check_event);
 *   the fold     the events that passed those checks are folded
 *                (fold.h): a correction names an earlier event of the
 *                chain that it may withdraw and is signed by its signer or
 *                a regulator; a recall.closed names an open recall of the
 *                chain and is signed by its org or a regulator (a
 *                regulator's recall: a regulator).  The report keeps the
 *                fold: recall, inspection and customs status as the
 *                server's pages show them, from the bundle alone.
 *   compromise   (SPEC 8, docs/PROTOCOL.md 7 and 10.2 step 5) a revoke
 *                with compromisedAt: an event by that key counts as
 *                received after it unless a receipt (an index statement
 *                in "receipts", proven against the checkpoint) at a later
 *                log index than the event's, the first such, has a time
 *                at or before compromisedAt; such events are folded
 *                compromised (fold.h) and an enroll by such an admin read
 *                so counts for nothing, transitively.  Never a failure.
 *   round 1      (SPEC 8 "Data from round 1", 10.2 step 5) only events
 *                logged before the log's first index statement, as the
 *                proven index statements show it (round1_before: the
 *                lowest of their log indexes and of the "first" each
 *                says; one that says a later "first" is false:
 *                first_mismatch), are judged by the round-1 rules; key
 *                entries, and registrations by keys with a free-text
 *                org, only below both it and the bundle's first org
 *                entry.
 *   receipt time (SPEC 8, 10.2 step 4.9) an event from round 2 on, not
 *                pending: its receipt's maxAge and grace, when it says
 *                them (stale_time, outside_window); missing_receipt when
 *                the index statement promises receipts and none is shown.
 *   pending      (SPEC 9, docs/PROTOCOL.md 10.2 step 1a) statements logged
 *                after the checkpoint, which witnesses have not cosigned
 *                yet: the pending checkpoint verifies under the log key,
 *                is larger than the checkpoint and consistent with it
 *                (RFC 9162 consistency proof); pending items prove
 *                inclusion in it, lie beyond the checkpoint, and are
 *                checked with every rule above as if appended (pending
 *                events continue seq, prev and log order; pending key
 *                entries change the registry from their log index).  The
 *                fold holds a pending recall.issued or fail in force and
 *                ignores a pending close, correction, pass, release or
 *                serials.issued (fold.h "pending").  The index speaks for
 *                the checkpoint only.
 * Leaf hashes are SHA-256(0x00 || PAE) recomputed from the envelopes, so a
 * changed payload fails both its signature and its proof.
 *
 *   the index   (SPEC 11, bundleindex.c) the index statement is the
 *                checkpoint's last leaf, signed by the log key, and its
 *                inclusion proof verifies; the lot's index proof leads to
 *                its root and commits to exactly the bundle's event count,
 *                head id and head log index (or proves the lot absent and
 *                the bundle has no events); every key named by a key entry
 *                or signing an event has an index proof whose count and
 *                last entry match the bundle's entries naming it (no
 *                hidden revocation); no statement's time is more than 5
 *                minutes after the index statement's.  The report says
 *                "complete as of checkpoint N" (completeness) or why not.
 *                A bundle without an index verifies as before but is
 *                BUNDLE_COMPLETENESS_UNKNOWN.
 *
 * What a passing bundle proves, and what not: every statement was signed by
 * a key that the root's chain of trust allowed at that point of the log,
 * and all of them are in the log tree the checkpoint commits to.  It does
 * not prove the chain has no newer events than the checkpoint (fetch a
 * newer bundle and check it with bundle_check_consistency() against the
 * checkpoint kept from before), nor that the log showed everyone the same
 * tree (compare checkpoints with others).
 */
#ifndef TRACE_BUNDLE_H
#define TRACE_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dsse.h"
#include "error.h"
#include "event.h"
#include "fold.h"
#include "gs1.h"
#include "keyentry.h"
#include "merkle.h"
#include "note.h"

#define BUNDLE_EVENTS_MAX 100000
#define BUNDLE_KEYS_MAX 10000
#define BUNDLE_TEXT_MAX (256L * 1024 * 1024)

/* One statement of a bundle as read.  When !readable, problem says why and
 * the other fields but log_index may be empty. */
struct bundle_item {
	bool readable;
	char problem[TRACE_ERROR_MESSAGE_MAX];
	bool pending;                   /* from the pending member: its proof
	                                 * is against the pending checkpoint */
	struct dsse_envelope env;
	long long log_index;            /* -1 when absent */
	size_t proof_first;             /* into bundle.proof_pool */
	size_t proof_count;
};

/* One key's index proof (SPEC 11). */
struct bundle_index_key {
	char keyid[KEYID_LEN + 1];
	unsigned char *proof;           /* decoded bytes (lotindex.h format) */
	size_t proof_len;
};

/* The bundle's "index" member (docs/PROTOCOL.md 10.5), as read. */
struct bundle_index {
	bool readable;
	char problem[TRACE_ERROR_MESSAGE_MAX];
	struct bundle_item statement;   /* the index statement, its proof */
	unsigned char *lot;             /* the lot's index proof */
	size_t lot_len;
	struct bundle_index_key *keys;
	size_t key_count;
};

/* The bundle's "pending" member (docs/PROTOCOL.md 10.1), as read.  Its
 * events and keys are kept after the covered ones in bundle.events and
 * bundle.keys. */
struct bundle_pending {
	bool readable;
	char problem[TRACE_ERROR_MESSAGE_MAX];
	char *checkpoint;               /* NUL-terminated, NULL when absent */
	size_t checkpoint_len;
	size_t consistency_first;       /* into bundle.proof_pool */
	size_t consistency_count;
	size_t event_count;             /* bundle.events[event_count ...] */
	size_t key_count;               /* bundle.keys[key_count ...] */
};

struct bundle {
	char chain[CHAIN_ID_MAX + 1];   /* "" when absent or too long */
	/* docs/PROTOCOL.md 10.1 "receipts": index statements that show when
	 * the covered statements were received (SPEC 8). */
	struct bundle_item *receipts;
	size_t receipt_count;
	struct bundle_index *index;     /* NULL when the bundle has none */
	struct bundle_pending *pending; /* NULL when the bundle has none */
	char *checkpoint;               /* NUL-terminated, NULL when absent */
	size_t checkpoint_len;
	struct bundle_item *events;     /* event_count covered by the
	                                 * checkpoint, then the pending ones */
	size_t event_count;
	struct bundle_item *keys;       /* likewise */
	size_t key_count;
	unsigned char (*proof_pool)[MERKLE_HASH_LEN];
	size_t pool_count;
};

/*
 * Parse bundle JSON (strict JSON, at most BUNDLE_TEXT_MAX bytes,
 * BUNDLE_EVENTS_MAX events and BUNDLE_KEYS_MAX key entries).  Fails only if
 * the text is not such a document: not JSON, not an object, "events" or
 * "keys" not arrays, or over a bound.  A statement that cannot be read (bad
 * envelope, no logIndex, a proof element that is not base64 of 32 bytes,
 * more than MERKLE_PROOF_MAX elements) is kept with readable false and
 * reported by bundle_verify().  Unknown members are ignored (responses may
 * grow).  On TRACE_OK the caller frees *out with bundle_free().
 */
enum trace_status bundle_parse(const char *text, size_t len,
    struct bundle **out, struct trace_error *err);

/* Release a bundle.  Accepts NULL. */
void bundle_free(struct bundle *b);

/* What a failure is about. */
enum bundle_subject {
	BUNDLE_SUBJECT_BUNDLE,          /* the document as a whole */
	BUNDLE_SUBJECT_CHECKPOINT,
	BUNDLE_SUBJECT_KEY,             /* keys[position] */
	BUNDLE_SUBJECT_EVENT,           /* events[position] */
	BUNDLE_SUBJECT_INDEX,           /* the lot index (SPEC 11) */
	BUNDLE_SUBJECT_PENDING,         /* the pending checkpoint (SPEC 9) */
};

/*
 * One failed check.  code is stable for programs: "bad_item",
 * "bad_checkpoint", "wrong_origin", "no_checkpoint", "bad_proof",
 * "bad_signatures" (an envelope with more than one signature),
 * "bad_signature", "bad_key_entry", "unknown_signer", "bad_event",
 * "wrong_chain", "seq_order", "wrong_prev", "log_order", "unknown_key",
 * "bad_correction", "no_events", a target code of the fold ("bad_target",
 * "regulator_only", "wrong_org", "missing_field"), or a policy code
 * ("key_revoked",
 * "role_not_allowed", "outside_window", "gtin_not_covered", "key_exists",
 * "already_revoked"), or for the index (subject BUNDLE_SUBJECT_INDEX)
 * "bad_index", "bad_index_signature", "stale_index", "bad_index_proof",
 * "index_proof_mismatch", "truncated", "index_mismatch",
 * "key_entries_hidden", "missing_key_proof", "receipt_time",
 * "first_mismatch" (two proven index statements disagree on where round
 * 2 began); for the
 * pending member (subject BUNDLE_SUBJECT_PENDING) "bad_pending" (unreadable,
 * its checkpoint does not verify, is of another log or not larger than the
 * checkpoint), "pending_inconsistent" (the consistency proof fails: two
 * histories), "no_checkpoint"; a pending item inside the checkpoint's tree
 * fails "bad_proof".  message is for people and names what was found.
 */
struct bundle_failure {
	enum bundle_subject subject;
	size_t position;                /* in events[] or keys[] */
	long long seq;                  /* events: the seq claimed, else -1 */
	long long log_index;            /* -1 when unknown */
	char code[TRACE_ERROR_CODE_MAX];
	char message[TRACE_ERROR_MESSAGE_MAX];
};

/* Per event, in bundle order. */
struct bundle_event_result {
	bool ok;                        /* no failure about this event */
	bool pending;                   /* from the pending member */
	bool parsed;                    /* type/seq/signer below are known */
	enum event_type type;
	long long seq;
	long long log_index;
	char id[2 * SHA256_LEN + 1];    /* statement id, "" if unreadable */
	char signer[KEYID_LEN + 1];
	bool signer_known;              /* signer_role is set */
	enum key_role signer_role;
	size_t fold_index;              /* into report.fold.statements, or
	                                 * FOLD_NONE if not folded */
	bool compromised;               /* signed with a key reported
	                                 * compromised (SPEC 8), folded so */
};

/* Per key entry, in bundle order. */
struct bundle_key_result {
	bool ok;
	bool pending;                   /* from the pending member */
	bool parsed;                    /* entry is set */
	long long log_index;
	struct key_entry entry;
	bool signer_is_root;
	bool enrollment_void;           /* an enroll by a compromised admin
	                                 * received after its compromisedAt
	                                 * (SPEC 8): it counts for nothing */
};

/* A receipt that verified: an index statement at log_index, its time,
 * and the receipt-time limits it says the log enforced (SPEC 8, seconds;
 * -1 for a statement that says none). */
struct bundle_receipt {
	long long log_index;
	long long time;
	long long max_age;
	long long grace;
	long long first;        /* its "first" (where round 2 began), -1 if
	                         * it says none (docs/PROTOCOL.md 9.10.2) */
};

/* What the lot index says about the bundle (SPEC 11). */
enum bundle_completeness {
	BUNDLE_COMPLETENESS_UNKNOWN,    /* no index to check (say why) */
	BUNDLE_COMPLETE,                /* the whole chain as of the checkpoint */
	BUNDLE_ABSENT,                  /* no such chain as of the checkpoint */
	BUNDLE_INCOMPLETE,              /* the index contradicts the bundle */
};

struct bundle_report {
	/* "complete as of checkpoint <index_size>", or why not: code and
	 * message of the reason (the first index failure, or why there is
	 * nothing to check). */
	enum bundle_completeness completeness;
	char completeness_code[TRACE_ERROR_CODE_MAX];
	char completeness_message[TRACE_ERROR_MESSAGE_MAX];
	uint64_t index_size;            /* the checkpoint it is complete as of */
	long long index_time;           /* the index statement's time */
	bool checkpoint_ok;
	struct checkpoint checkpoint;   /* extensions point into the bundle */
	/* The pending member (SPEC 9): present, and its checkpoint verified
	 * and proven consistent with checkpoint. */
	bool pending;
	bool pending_ok;
	struct checkpoint pending_checkpoint;
	size_t pending_events, pending_keys;  /* the last ones of events[],
	                                       * keys[] */
	size_t checks;                  /* individual checks made */
	size_t signatures;              /* signatures verified */
	size_t proofs;                  /* inclusion proofs verified */
	size_t events_ok, keys_ok;
	struct bundle_event_result *events;   /* covered, then pending */
	size_t event_count;
	struct bundle_key_result *keys;       /* covered, then pending */
	size_t key_count;
	struct bundle_receipt *receipts;      /* the receipts that verified,
	                                       * in log order */
	size_t receipt_count;
	/* SPEC 8 "Data from round 1": statements logged below it are
	 * judged by the round-1 rules (fold_options.round1_before): the
	 * log index of the first index statement that the bundle proves,
	 * the lowest of the log indexes of the index statement and every
	 * receipt and of every "first" they say; FOLD_ROUND1_ALWAYS when it
	 * proves none.  A "first" above it is a false one (first_mismatch). */
	long long round1_before;
	/* The index statement says the receipt-time limits: every covered
	 * event from round1_before on needs a receipt (missing_receipt). */
	bool receipts_promised;
	struct bundle_failure *failures; /* checkpoint, keys in log order,
	                                  * events in order, then the rules
	                                  * the fold found broken */
	size_t failure_count;
	/* What the events that passed their own checks add up to, in their
	 * order (all events of a bundle that verifies; events[i].fold_index
	 * maps).  Statements the rules refuse change nothing in it. */
	struct fold_result fold;
};

/*
 * Verify b (see the top of this file) against the trust anchor root_public
 * (32 bytes) and the log's key.  Fills *report (free it with
 * bundle_report_free()) and returns TRACE_OK if there is no failure,
 * TRACE_EBADSIG if there is one or more (err holds the first), TRACE_ENOMEM
 * if it could not finish.  Work is linear in the bundle's size: keys are
 * found through a hash table, each PAE is hashed once for the leaf.
 */
enum trace_status bundle_verify(const struct bundle *b,
    const unsigned char root_public[ED25519_PUBLIC_LEN],
    const struct note_verifier *log_key, struct bundle_report *report,
    struct trace_error *err);

/* "complete", "absent", "unknown", "incomplete". */
const char *bundle_completeness_name(enum bundle_completeness c);

/* ---- bundleindex.c: the index member (used by bundle.c) ----------------- */

/* Read the "index" member v into a new bundle_index (NULL: no memory);
 * problems make it !readable.  Pool room for the statement's proof must be
 * reserved in b->proof_pool; item_read is passed in to share bundle.c's
 * reader. */
struct bundle_index *bundle_index_read(struct bundle *b,
    const struct json_value *v,
    void (*item_read)(struct bundle *, const struct json_value *,
    struct bundle_item *));
void bundle_index_free(struct bundle_index *ix);

/* Check the index against the verified report (keys and events done);
 * failures through fail(ctx, code, message); sets r->completeness. */
void bundle_index_verify(const struct bundle *b,
    const unsigned char root_public[ED25519_PUBLIC_LEN],
    const struct note_verifier *log_key, struct bundle_report *r,
    bool (*proof_ok)(void *ctx, const struct bundle_item *it, char *why,
    size_t size),
    void (*fail)(void *ctx, const char *code, const char *message),
    void *ctx);

/*
 * A receipt item (docs/PROTOCOL.md 10.1): readable, not pending, an index
 * statement with one signature by log_key, whose size is its own log
 * index: *out says what it shows.  The inclusion proof is the caller's to
 * check.
 */
bool bundle_receipt_read(const struct bundle_item *it,
    const struct note_verifier *log_key, struct bundle_receipt *out);

/*
 * SPEC 8 "Data from round 1": the bundle's index statement (the
 * checkpoint's last leaf, signed by log_key, checkpoint_size its
 * checkpoint's size): *at its log index, *first the log index of the
 * log's first index statement as its "first" member says it
 * (docs/PROTOCOL.md 9.10.2), -1 when it says nothing (a statement from
 * before "first"; one there still shows that round 2 had begun).  False
 * if the bundle has no such statement.  *limits: it says the
 * receipt-time limits (maxAge, grace), so the log promises a receipt for
 * every event it covers.
 * The inclusion proof is the caller's to check.
 */
bool bundle_index_first(const struct bundle *b,
    const struct note_verifier *log_key, uint64_t checkpoint_size,
    long long *at, long long *first, bool *limits);

/* Release a report's arrays.  Accepts NULL. */
void bundle_report_free(struct bundle_report *report);

/* "bundle", "checkpoint", "key entry", "event". */
const char *bundle_subject_name(enum bundle_subject subject);

/*
 * verify --previous: previous (a signed checkpoint seen before) must verify
 * under log_key, have the same origin as current (an already verified
 * checkpoint, e.g. report.checkpoint) and be a prefix of it: size1 <=
 * size2, equal roots when the sizes are equal, and otherwise proof (count
 * elements, from GET /api/v1/proofs/consistency?from=size1&to=size2) must
 * verify (RFC 9162 2.1.4.2).  A previous checkpoint of size 0 is a prefix
 * of every tree.  TRACE_OK if so; TRACE_EBADSIG ("fork", "bad_proof",
 * "bad_checkpoint") or TRACE_ERULE ("wrong_origin", "log_shrank")
 * otherwise.  *previous_out (may be NULL) receives the parsed previous
 * checkpoint; its extensions point into previous.
 */
enum trace_status bundle_check_consistency(const char *previous,
    size_t previous_len, const struct note_verifier *log_key,
    const struct checkpoint *current, const struct merkle_bytes *proof,
    size_t count, struct checkpoint *previous_out, struct trace_error *err);

/*
 * Parse a consistency proof response {"from": m, "to": n, "hashes": [...]}:
 * from and to must be the sizes asked for, every hash base64 of 32 bytes,
 * at most MERKLE_PROOF_MAX of them (written to hashes, *count set).
 */
enum trace_status bundle_consistency_proof_parse(const char *text,
    size_t len, uint64_t from, uint64_t to,
    unsigned char hashes[][MERKLE_HASH_LEN], size_t *count,
    struct trace_error *err);

#endif
