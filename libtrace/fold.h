/*
 * fold.h - what the statements of one chain add up to (SPEC section 8,
 * "Targets", "Inspections", "One fold"; docs/PROTOCOL.md sections 6.4 and
 * 6.5): which statements a correction withdrew, which recalls are open and
 * what closed the others, the recall status of a serial, the inspection
 * status, the customs status, and which statements break a target rule.
 *
 * It is computed in one place, here, from the verified statements of a
 * chain in log order, and every view takes it from here: the server's
 * ingest (a statement is refused if the fold of the chain with it says it
 * breaks a rule), its pages, resolver and chain JSON, EPCIS, and
 * bundle_verify() (so trace-agent verify).  Two readers of the same chain
 * cannot tell two stories.
 *
 * Use:
 *
 *   struct fold_statement st[n];    one per verified statement, log order
 *   struct fold_result fold;
 *   if (fold_run(st, n, NULL, &fold, &err) != TRACE_OK)
 *           ... out of memory (fold is zeroed) ...
 *   ... fold.statements[i], fold.recalls[k], fold.inspection, ...
 *   fold_serial_status(&fold, serial, &s);
 *   fold_result_clear(&fold);
 *
 * The result refers to statements by their index in the input and holds
 * copies of what it reports (ids, orgs, serial ranges): it owns all its
 * memory and may outlive the input.
 *
 * Round 1 (SPEC 8 "Data from round 1"): a log written before round 2 may
 * hold statements the rules now refuse.  Those at log indexes below
 * opts->round1_before are judged by the round-1 rule and flagged round1:
 *   - a recall.closed naming no recall closes every recall open before it;
 *   - a correction of a recall (issued or closed) changes nothing: the
 *     recall stays as the recall indexes always had it (the safe reading);
 *   - a correction of a registration or of a correction withdraws it, as
 *     round 1 did.
 * The same statement at or past round1_before breaks a rule instead.
 */
#ifndef TRACE_FOLD_H
#define TRACE_FOLD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "event.h"
#include "gs1.h"
#include "keyentry.h"
#include "units.h"

/* "No statement" / "no recall" in every index of the result. */
#define FOLD_NONE SIZE_MAX

/*
 * Every statement may be judged by round 1's rules: a log with no index
 * statement yet (SPEC 8 "Data from round 1": round 2 begins at the first
 * one; the server and bundle_verify() pass its log index instead).
 */
#define FOLD_ROUND1_ALWAYS LLONG_MAX

/* One verified statement of the chain.  Everything is borrowed for the
 * duration of fold_run() only. */
struct fold_statement {
	const struct trace_event *ev;   /* parsed, e.g. event_parse_stored() */
	const char *id;                 /* statement id, 64 lowercase hex */
	long long log_index;            /* LLONG_MAX: not logged yet */
	enum key_role signer_role;      /* ROLE_COUNT if unknown */
	const char *signer_org;         /* its org as policy_fold_org() gives
	                                 * it: a registered org's id, a
	                                 * round-1 key's free text, "" for
	                                 * none (matches nothing) */
	/*
	 * The signer is not enrolled (a stored statement by a round-1 key
	 * that today's rules refuse, weak_public_key, reads so).  The safe
	 * reading: what it would clear changes nothing (a recall.closed, a
	 * correction, an inspection pass, a customs release are ignored),
	 * what it warns of still counts (a recall.issued, a fail).
	 * bundle_verify() never folds such a statement (it fails its checks,
	 * and a bundle that does not verify has no status), so the flag is
	 * false there; the server sets it from the key cache.  Zero (false)
	 * for a signer that is enrolled, so callers that know only enrolled
	 * signers need not set it.
	 */
	bool signer_unenrolled;
	/*
	 * SPEC 9: logged after the published (witnessed) checkpoint, so
	 * not yet cosigned: a bundle's "pending" statement.  Read the same
	 * safe way as an unenrolled signer: a pending recall.issued or fail
	 * is in force at once, so a new recall is never invisible, while a
	 * pending recall.closed, correction, pass, customs.released or
	 * serials.issued is ignored until the witnesses cosign it (a
	 * pending fold can never make the lot look better than the
	 * witnessed one).
	 */
	bool pending;
	/*
	 * SPEC 8 "Revocation and compromise": signed with a key reported
	 * compromised (its revoke carries compromisedAt and the statement
	 * was not shown to be received before it, or its enrollment counts
	 * for nothing: policy_compromised()).  The same safe reading: its
	 * recall.issued and fail stay in force, its recall.closed,
	 * correction, pass, customs.released and serials.issued are
	 * ignored; every view flags it.
	 */
	bool compromised;
};

struct fold_options {
	/* Statements logged below this index may be judged by the round-1
	 * rules; FOLD_ROUND1_ALWAYS (the default) for all of them. */
	long long round1_before;
};

/* A target rule a statement breaks (it then changes nothing). */
enum fold_problem {
	FOLD_PROBLEM_NONE,
	FOLD_PROBLEM_NO_TARGET,        /* recall.closed names no recall */
	FOLD_PROBLEM_UNKNOWN_TARGET,   /* names no earlier statement here */
	FOLD_PROBLEM_TARGET_KIND,      /* names a kind it may not target */
	FOLD_PROBLEM_ALREADY_CLOSED,   /* a recall closes once */
	FOLD_PROBLEM_REGULATOR_ONLY,   /* a regulator's recall, closed by
	                                * someone else */
	FOLD_PROBLEM_WRONG_ORG,        /* closed by another org's key */
	FOLD_PROBLEM_NOT_OWN,          /* a correction by neither the
	                                * corrected statement's signer nor a
	                                * regulator */
	FOLD_PROBLEM_NOT_ISSUED,       /* a recall.issued with a serial range
	                                * that holds no issued serial (SPEC 8
	                                * "Targets", 12).  The recall still
	                                * stands (the safe reading). */
};

struct fold_statement_state {
	char id[2 * SHA256_LEN + 1];
	enum event_type type;
	long long seq;
	long long log_index;
	size_t withdrawn_by;            /* the effective correction that
	                                 * withdrew it, or FOLD_NONE */
	size_t target;                  /* corrections and recall.closed:
	                                 * the statement named, or FOLD_NONE */
	enum fold_problem problem;      /* FOLD_PROBLEM_NONE if it keeps the
	                                 * rules */
	bool round1;                    /* judged by the round-1 rules */
	bool pending;                   /* fold_statement.pending */
	bool compromised;               /* fold_statement.compromised */
	bool ignored;                   /* changes nothing: it breaks a rule,
	                                 * or is a round-1 correction of a
	                                 * recall */
};

/* A recall's serials [from, to]: those of from's length between them. */
struct fold_range {
	char from[GS1_ATTR_MAX + 1];
	char to[GS1_ATTR_MAX + 1];
};

struct fold_recall {
	size_t statement;               /* its recall.issued */
	char id[2 * SHA256_LEN + 1];
	long long severity;             /* 1 (most serious) to 3 */
	enum key_role issuer_role;
	char issuer_org[KEY_TEXT_MAX + 1];
	struct fold_range *ranges;      /* NULL: the whole lot */
	size_t range_count;
	bool open;
	size_t closed_by;               /* its recall.closed, or FOLD_NONE */
	bool closed_round1;             /* closed by a round-1 recall.closed
	                                 * that named no recall */
};

/* SPEC 12: one serials.issued statement's set of serials. */
struct fold_issued {
	size_t statement;
	struct fold_range *ranges;      /* the "ranges" form, else NULL */
	size_t range_count;
	bool has_root;                  /* the "root" + "count" form */
	unsigned char root[MERKLE_HASH_LEN];
	long long count;
	bool withdrawn;                 /* by a correction in force */
};

enum fold_issued_answer {
	FOLD_ISSUED_UNKNOWN,            /* no set declared, or a root set and
	                                 * no proof at hand: JSON null */
	FOLD_ISSUED_YES,
	FOLD_ISSUED_NO,                 /* "never issued for this lot" */
};

enum fold_inspection_status {
	FOLD_INSPECTION_NONE,           /* no result in force */
	FOLD_INSPECTION_PASS,           /* a pass in force and no fail */
	FOLD_INSPECTION_FAIL,           /* a fail in force */
};

struct fold_inspection {
	size_t statement;               /* its inspection.completed */
	bool pass;                      /* its result */
	bool withdrawn;                 /* by a correction in force */
};

enum fold_customs_status {
	FOLD_CUSTOMS_NONE,
	FOLD_CUSTOMS_DECLARED,
	FOLD_CUSTOMS_RELEASED,
};

struct fold_result {
	struct fold_statement_state *statements;  /* count, input order */
	size_t count;
	struct fold_recall *recalls;    /* recall_count, in log order */
	size_t recall_count;
	size_t open_recalls;
	struct fold_inspection *inspections;  /* every one, log order */
	size_t inspection_count;
	enum fold_inspection_status inspection;
	size_t inspection_deciding;     /* the newest fail in force, else the
	                                 * newest pass in force, else NONE */
	enum fold_customs_status customs;
	size_t declaration;             /* the newest customs.declared and */
	size_t release;                 /* customs.released in force */
	size_t registration;            /* product.registered in force */
	size_t sampling;                /* the newest inspection.sampled */
	struct fold_issued *issued;     /* serials.issued, log order */
	size_t issued_count;
	size_t problems;                /* statements with a problem */
	size_t round1;                  /* statements judged by round 1 */
	size_t compromised;             /* statements flagged compromised */
};

/*
 * Fold count statements of one chain, in log order (their seq order),
 * with opts (NULL: the defaults).  On TRACE_OK the caller releases *out
 * with fold_result_clear(); on TRACE_ENOMEM *out is zeroed.
 *
 * Rules (SPEC 8), each statement judged against those before it:
 *   recall.closed   names ("recall") a recall.issued earlier in the chain
 *                   that is still open; signed by a regulator, or, unless
 *                   the recall was issued by a regulator, by a key of the
 *                   recall issuer's org (compared byte for byte: registered
 *                   org ids, SPEC 8 "Organisations", so the registering
 *                   org's own recalls close only from that org).  It
 *                   closes exactly that recall.
 *   correction      names ("corrects") an earlier statement of the chain
 *                   that is no correction, recall or registration; signed
 *                   by that statement's signer or a regulator.  It
 *                   withdraws it while the correction itself stands.
 *   inspection      fail while any result in force is fail; pass with at
 *                   least one pass in force and no fail; else none.
 *   customs         released if a release is in force, else declared if a
 *                   declaration is, else none.
 */
enum trace_status fold_run(const struct fold_statement *st, size_t count,
    const struct fold_options *opts, struct fold_result *out,
    struct trace_error *err);

/* Release what r holds and zero it.  Accepts NULL and a zeroed result. */
void fold_result_clear(struct fold_result *r);

/* Does recall cover serial?  (The whole lot covers every serial.) */
bool fold_recall_covers(const struct fold_recall *recall, const char *serial);

/* The recall status of one unit or of the lot. */
struct fold_serial_status {
	size_t recall;                  /* into recalls[]: the most serious
	                                 * open recall covering the serial (for
	                                 * the lot: recalling the whole lot);
	                                 * the newest of equals; or FOLD_NONE */
	size_t other;                   /* the most serious open recall that
	                                 * does not (only part of the lot, or
	                                 * other serials), or FOLD_NONE */
	size_t closed;                  /* no recall open: the one closed
	                                 * last, or FOLD_NONE */
};

/* serial NULL or "": the lot as a whole. */
void fold_serial_status(const struct fold_result *r, const char *serial,
    struct fold_serial_status *out);

/*
 * Was serial issued for this lot (SPEC 12)?  The sets of the serials.issued
 * statements in force: YES if a range holds it or a proof shows it in a
 * root's set; NO if every set is a range list or has a proof that it is
 * not there; UNKNOWN if the lot declares none or a root set has no proof
 * among proofs[0..proof_count) (each is checked with units_verify(); one
 * that does not verify counts as none).
 */
enum fold_issued_answer fold_serial_issued(const struct fold_result *r,
    const char *serial, const struct units_proof *proofs,
    size_t proof_count);

/* Does the lot declare issued serials at all?  (A page says "never
 * issued" only then.) */
bool fold_declares_issued(const struct fold_result *r);

/* JSON text of an answer: "true", "false", "null". */
const char *fold_issued_json(enum fold_issued_answer a);

/*
 * The problem of statement i as the error ingest answers and verifiers
 * report (docs/PROTOCOL.md section 11.3): 422 "bad_target" (a close naming
 * no open recall of the chain, a correction naming a recall, registration
 * or correction), 422 "unknown_correction" (a correction naming no earlier
 * statement of the chain), 403 "regulator_only", 403 "wrong_org", 403
 * "role_not_allowed" (a correction by another signer).  The field is
 * "data.recall" or "data.corrects"; 422 "serials_not_issued" on
 * "data.serials" for a recall whose serial range holds no issued serial.
 * TRACE_OK if i has no problem.
 */
enum trace_status fold_problem_error(const struct fold_result *r, size_t i,
    struct trace_error *err);

/* "none", "pass", "fail". */
const char *fold_inspection_name(enum fold_inspection_status status);

/* "none", "declared", "released". */
const char *fold_customs_name(enum fold_customs_status status);

#endif
