/*
 * policy.c - the authorisation rules shared by ingest and verification.
 */
#include <string.h>

#include "keys.h"
#include "policy.h"

void
policy_root_state(const unsigned char public_key[ED25519_PUBLIC_LEN],
    struct key_state *state)
{
	memset(state, 0, sizeof(*state));
	state->is_root = true;
	state->enrolled_at = -1;
	state->entry.op = KEY_OP_ENROLL;
	state->entry.role = ROLE_ADMIN;
	memcpy(state->entry.public_key, public_key, ED25519_PUBLIC_LEN);
	key_id(public_key, state->entry.keyid);
	memcpy(state->entry.name, "root", 5);
	memcpy(state->entry.org, "trust anchor", 13);
}

bool
policy_compromised(const struct key_state *s, bool receipt_known,
    long long receipt_index, long long receipt_time)
{
	if (s->enrollment_void)
		return true;
	return s->compromised && (!receipt_known ||
	    receipt_index >= s->revoked_at || receipt_time > s->compromised_at);
}

const char *
policy_fold_org(const struct key_state *state)
{
	return state->org_shadowed ? "" : state->entry.org;
}

enum trace_status
policy_check_time(long long t, long long receipt, long long max_age,
    struct trace_error *err)
{
	if (t > receipt + POLICY_FUTURE_SECONDS)
		return trace_error_set(err, TRACE_ERULE, "stale_time", "time",
		    "the statement's time is more than %d s after it was "
		    "received", POLICY_FUTURE_SECONDS);
	if (t < receipt - max_age)
		return trace_error_set(err, TRACE_ERULE, "stale_time", "time",
		    "the statement's time is more than %lld days before it "
		    "was received", max_age / 86400);
	return TRACE_OK;
}

enum trace_status
policy_check_receipt(const struct key_state *signer, long long receipt,
    long long grace, struct trace_error *err)
{
	if (signer->is_root || !signer->entry.has_not_after ||
	    receipt < signer->entry.not_after + grace)
		return TRACE_OK;
	return trace_error_set(err, TRACE_EFORBIDDEN, "outside_window",
	    "signer", "key %s's window ended more than %lld days before this "
	    "statement was received", signer->entry.keyid, grace / 86400);
}

/* Enrolled before position, not revoked before it, window holds at t. */
static enum trace_status
check_active(const struct key_state *s, long long position, long long t,
    struct trace_error *err)
{
	if (!s->is_root && s->enrolled_at >= position)
		return trace_error_set(err, TRACE_EUNKNOWNKEY, "unknown_key",
		    "signer", "key %s was enrolled after this statement",
		    s->entry.keyid);
	if (s->revoked && s->revoked_at < position)
		return trace_error_set(err, TRACE_EFORBIDDEN, "key_revoked",
		    "signer", "key %s is revoked (%s)", s->entry.keyid,
		    s->revoke_reason);
	if (!key_entry_in_window(&s->entry, t))
		return trace_error_set(err, TRACE_EFORBIDDEN, "outside_window",
		    "time", "the statement's time is outside key %s's "
		    "validity window", s->entry.keyid);
	return TRACE_OK;
}

enum trace_status
policy_check_event(const struct trace_event *ev,
    const struct key_state *signer, long long position,
    struct trace_error *err)
{
	enum trace_status rc;

	if (signer == NULL)
		return trace_error_set(err, TRACE_EUNKNOWNKEY, "unknown_key",
		    "signer", "key %s is not enrolled", ev->signer);
	if (strcmp(signer->entry.keyid, ev->signer) != 0)
		return trace_error_set(err, TRACE_EBADSIG, "wrong_signer",
		    "signer", "the statement names a different signer");
	if ((rc = check_active(signer, position, ev->time, err)) != TRACE_OK)
		return rc;
	if (!event_role_allowed(ev->type, signer->entry.role))
		return trace_error_set(err, TRACE_EFORBIDDEN, "role_not_allowed",
		    "type", "a key with role %s may not sign %s",
		    key_role_name(signer->entry.role),
		    event_type_name(ev->type));
	if (!key_entry_covers_gtin(&signer->entry, ev->gtin))
		return trace_error_set(err, TRACE_EFORBIDDEN, "gtin_not_covered",
		    "chain.gtin", "key %s may not sign for GTIN %s",
		    signer->entry.keyid, ev->gtin);
	/* SPEC 8 "Registration": a lot is registered by the org whose
	 * prefixes cover its GTIN (no squatting on another brand's lots),
	 * and only that org says which serials and codes it issued (SPEC
	 * 12: an importer cannot invent serials for a brand's lot). */
	if ((ev->type == EVENT_PRODUCT_REGISTERED ||
	    ev->type == EVENT_SERIALS_ISSUED ||
	    ev->type == EVENT_CODES_ISSUED) && !signer->is_root) {
		bool round1 = !signer->org_known &&
		    position < signer->round1_until;

		if (!round1 && (!signer->org_known ||
		    !org_covers_gtin(&signer->org, ev->gtin)))
			return trace_error_set(err, TRACE_EFORBIDDEN,
			    "gtin_outside_org", "chain.gtin", "key %s's org "
			    "%s has no GTIN prefix covering %s: only the org "
			    "that owns the prefix registers its lots and "
			    "issues their serials and codes",
			    signer->entry.keyid, signer->entry.org, ev->gtin);
	}
	return TRACE_OK;
}

/* SPEC 8 "Admin scope": what an admin other than the root may enroll. */
static enum trace_status
check_scope(const struct key_entry *entry, const struct key_state *signer,
    struct trace_error *err)
{
	const struct key_entry *a = &signer->entry;

	if (entry->role == ROLE_ADMIN)
		return trace_error_set(err, TRACE_EFORBIDDEN, "root_only",
		    "role", "only the root enrolls admin keys");
	if (!signer->org_known || strcmp(a->org, entry->org) != 0)
		return trace_error_set(err, TRACE_EFORBIDDEN, "wrong_org", "org",
		    "admin %s enrolls only keys of its own org", a->keyid);
	if (a->prefix_count > 0) {
		struct org_info scope;

		memset(&scope, 0, sizeof(scope));
		scope.prefix_count = a->prefix_count;
		memcpy(scope.prefixes, a->prefixes, sizeof(scope.prefixes));
		if (!org_covers_prefixes(&scope, entry))
			return trace_error_set(err, TRACE_EFORBIDDEN,
			    "prefix_outside_scope", "gtinPrefixes",
			    "admin %s enrolls only keys within its own GTIN "
			    "prefixes", a->keyid);
	}
	if ((a->has_not_before && (!entry->has_not_before ||
	    entry->not_before < a->not_before)) ||
	    (a->has_not_after && (!entry->has_not_after ||
	    entry->not_after > a->not_after)))
		return trace_error_set(err, TRACE_EFORBIDDEN,
		    "window_outside_scope", "notAfter", "admin %s enrolls only "
		    "keys whose window lies inside its own", a->keyid);
	return TRACE_OK;
}

enum trace_status
policy_check_key_entry(const struct key_entry *entry,
    const struct key_state *signer, const struct key_state *target,
    const struct org_info *org, bool round1, long long position,
    struct trace_error *err)
{
	enum trace_status rc;

	if (signer == NULL)
		return trace_error_set(err, TRACE_EUNKNOWNKEY, "unknown_key",
		    "signer", "key %s is not enrolled", entry->signer);
	if ((rc = check_active(signer, position, entry->time, err)) != TRACE_OK)
		return rc;
	if (signer->entry.role != ROLE_ADMIN)
		return trace_error_set(err, TRACE_EFORBIDDEN, "role_not_allowed",
		    "signer", "only admin keys may sign key entries");
	if (entry->op == KEY_OP_ORG) {
		if (!signer->is_root)
			return trace_error_set(err, TRACE_EFORBIDDEN, "root_only",
			    "signer", "only the root registers or changes an "
			    "org");
		return TRACE_OK;
	}
	if (entry->op == KEY_OP_ENROLL) {
		if (target != NULL)
			return trace_error_set(err, TRACE_ERULE, "key_exists",
			    "keyid", "key %s is already enrolled; enroll a "
			    "new key instead", entry->keyid);
		if (org == NULL) {
			/* Round 1 knew no org registry (SPEC 8 "Data from
			 * round 1"): its admins were unscoped. */
			if (round1)
				return TRACE_OK;
			return trace_error_set(err, TRACE_ERULE, "unknown_org",
			    "org", "org \"%.64s\" is not registered; the root "
			    "registers it first (op \"org\")", entry->org);
		}
		if (!org_has_role(org, entry->role))
			return trace_error_set(err, TRACE_EFORBIDDEN,
			    "role_not_in_org", "role", "org %s has no role %s",
			    org->id, key_role_name(entry->role));
		if (!org_covers_prefixes(org, entry))
			return trace_error_set(err, TRACE_EFORBIDDEN,
			    "prefix_outside_org", "gtinPrefixes", "every GTIN "
			    "prefix of the key must lie within org %s's", org->id);
		if (signer->is_root)
			return TRACE_OK;
		return check_scope(entry, signer, err);
	}
	if (target == NULL || target->is_root)
		return trace_error_set(err, TRACE_ERULE, "unknown_key", "keyid",
		    "key %s is not enrolled", entry->keyid);
	if (target->revoked)
		return trace_error_set(err, TRACE_ERULE, "already_revoked",
		    "keyid", "key %s is already revoked", entry->keyid);
	if (!signer->is_root && !round1 && (!signer->org_known ||
	    strcmp(signer->entry.org, target->entry.org) != 0))
		return trace_error_set(err, TRACE_EFORBIDDEN, "wrong_org",
		    "keyid", "admin %s revokes only keys of its own org",
		    signer->entry.keyid);
	/* SPEC 8: a key cannot be lost before it was enrolled.  The
	 * enrollment's signed time, the moment it entered the registry
	 * (notBefore may lie before it, and is optional). */
	if (entry->has_compromised_at &&
	    entry->compromised_at < target->entry.time)
		return trace_error_set(err, TRACE_ERULE, "bad_window",
		    "compromisedAt", "compromisedAt is before key %s was "
		    "enrolled", entry->keyid);
	return TRACE_OK;
}
