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
	return TRACE_OK;
}

enum trace_status
policy_check_key_entry(const struct key_entry *entry,
    const struct key_state *signer, const struct key_state *target,
    long long position, struct trace_error *err)
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
	if (entry->op == KEY_OP_ENROLL) {
		if (target != NULL)
			return trace_error_set(err, TRACE_ERULE, "key_exists",
			    "keyid", "key %s is already enrolled; enroll a "
			    "new key instead", entry->keyid);
		return TRACE_OK;
	}
	if (target == NULL || target->is_root)
		return trace_error_set(err, TRACE_ERULE, "unknown_key", "keyid",
		    "key %s is not enrolled", entry->keyid);
	if (target->revoked)
		return trace_error_set(err, TRACE_ERULE, "already_revoked",
		    "keyid", "key %s is already revoked", entry->keyid);
	return TRACE_OK;
}
