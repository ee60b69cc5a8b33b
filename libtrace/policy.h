/*
 * policy.h - who may sign what, and when (docs/PROTOCOL.md section 8).
 *
 * A statement is accepted only if its signer's key is enrolled, not
 * revoked, inside its window, has a role allowed for the type, and covers
 * the GTIN.  The server applies these rules when a statement arrives; an
 * offline verifier applies the same ones from a bundle's key entries, with
 * log indexes standing in for "when it arrived": a revocation affects the
 * statements logged after it, never the ones before.
 */
#ifndef TRACE_POLICY_H
#define TRACE_POLICY_H

#include <stdbool.h>

#include "error.h"
#include "event.h"
#include "keyentry.h"

/* What is known about one key at some point of the log. */
struct key_state {
	struct key_entry entry;   /* the enroll statement */
	bool is_root;             /* the trust anchor: admin, no limits */
	long long enrolled_at;    /* log index of the enroll, -1 for root */
	bool revoked;
	long long revoked_at;     /* log index of the revoke */
	char revoke_reason[KEY_REASON_MAX + 1];
	/* SPEC 8 "Revocation and compromise": the revoke carries
	 * compromisedAt (unix seconds). */
	bool compromised;
	long long compromised_at;
	/* Enrolled by a compromised admin, received after its compromisedAt
	 * (or by such a key: transitively): the enrollment counts for
	 * nothing, so its statements are read as compromised ones. */
	bool enrollment_void;
	/* SPEC 8 "Organisations": the registered org entry.org names, as
	 * known when the key was looked up.  A key enrolled with a free-text
	 * org (round 1) has org_known false and may register a lot only by
	 * the round-1 rule, for statements logged below round1_until (0, the
	 * default, at ingest: never). */
	bool org_known;
	struct org_info org;
	long long round1_until;
	/* Not a member, yet its free-text org is the id of a registered org:
	 * it must not pass for one (policy_fold_org). */
	bool org_shadowed;
};

/* The org a fold compares for key state (fold.h signer_org): the
 * registered id of a member, a round-1 key's free text, and "" (no org,
 * matches nothing) for a key whose free text names a registered org it
 * does not belong to. */
const char *policy_fold_org(const struct key_state *state);

/*
 * SPEC 8 "Receipt time".  A statement's signed time t against the time it
 * was received (receipt: at ingest the server's clock; in a bundle the
 * time of the first index statement after it): TRACE_ERULE "stale_time"
 * if t is more than max_age seconds before receipt or more than
 * POLICY_FUTURE_SECONDS after it.
 */
#define POLICY_FUTURE_SECONDS 300
#define POLICY_MAX_AGE_DEFAULT (30LL * 86400)
#define POLICY_GRACE_DEFAULT (7LL * 86400)

enum trace_status policy_check_time(long long t, long long receipt,
    long long max_age, struct trace_error *err);

/*
 * A key's window is checked against the signed time (policy_check_event);
 * receipt must also be before notAfter + grace, or a key that merely
 * expired (never revoked) could go on signing statements dated inside its
 * window: TRACE_EFORBIDDEN "outside_window".  The root has no window.
 */
enum trace_status policy_check_receipt(const struct key_state *signer,
    long long receipt, long long grace, struct trace_error *err);

/*
 * SPEC 8 "Revocation and compromise": does a statement by s lose its
 * positive effect?  Yes when s's enrollment counts for nothing, or s was
 * revoked with compromisedAt and the statement is not shown to be
 * received at or before it.  It is shown so only by its receipt: the
 * first index statement after it (receipt_known; its log index
 * receipt_index and time receipt_time), which must also come before the
 * revoke in the log (so the answer is settled when the revoke is logged
 * and never changes later) and have a time <= compromisedAt.  Missing
 * information reads as "after": that only takes effect away.
 */
bool policy_compromised(const struct key_state *s, bool receipt_known,
    long long receipt_index, long long receipt_time);

/* Make the state of the root admin key from its public key. */
void policy_root_state(const unsigned char public_key[ED25519_PUBLIC_LEN],
    struct key_state *state);

/*
 * May signer sign ev, logged at position (the log index the statement gets
 * or got; a revocation at a smaller index applies)?  signer NULL means the
 * key is not enrolled (TRACE_EUNKNOWNKEY).  TRACE_EFORBIDDEN with code
 * "key_revoked", "role_not_allowed", "outside_window", "gtin_not_covered"
 * or, for a product.registered, "gtin_outside_org" (SPEC 8
 * "Registration": the signer's registered org has gtinPrefixes and they
 * cover the GTIN).
 * What a correction or a recall.closed may name, and who may sign it,
 * needs the chain: fold.h.
 */
enum trace_status policy_check_event(const struct trace_event *ev,
    const struct key_state *signer, long long position,
    struct trace_error *err);

/*
 * May signer sign entry at position, given target (the current state of
 * entry->keyid, NULL if never enrolled; NULL for an org entry) and org
 * (the registered org entry->org names, NULL if none)?  The signer must be
 * an active admin; enroll needs a new key id; revoke needs an enrolled,
 * unrevoked key.  SPEC 8 "Organisations" and "Admin scope":
 *   org     the root only (403 "root_only"); a later entry with the same
 *           id replaces the org;
 *   enroll  org registered (422 "unknown_org") unless round1 (a stored
 *           round-1 enrollment, judged by round 1's rules); role one of
 *           the org's (403 "role_not_in_org"); prefixes within the org's
 *           (403 "prefix_outside_org"); an admin only by the root (403
 *           "root_only"); by an admin that is not the root: of its org
 *           (403 "wrong_org"), within its prefixes (403
 *           "prefix_outside_scope") and its window (403
 *           "window_outside_scope");
 *   revoke  by an admin that is not the root: a key of its org (403
 *           "wrong_org"), unless round1; compromisedAt, if any, not
 *           before the target's enrollment time (422 "bad_window").
 */
enum trace_status policy_check_key_entry(const struct key_entry *entry,
    const struct key_state *signer, const struct key_state *target,
    const struct org_info *org, bool round1, long long position,
    struct trace_error *err);

#endif
