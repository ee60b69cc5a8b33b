/*
 * statement.c - stored statements as the server reads and serves them
 * (docs/PROTOCOL.md 5.1 "Round 1 data").
 *
 * A statement stored today carries one signature.  Round 1 stored
 * envelopes with 1 to 4, and that data is still in the store: it is read
 * with libtrace's dsse_envelope_parse_stored, and every answer that
 * writes stored envelope bytes out (a chain, a statement by id, the key
 * registry, a bundle) goes through statement_write_envelope, which cuts
 * such an envelope to the one signature that verifies under its signer's
 * key.  Ids and log leaves do not depend on signatures, so they stay.
 */
#include <stdlib.h>
#include <string.h>

#include "libtrace/dsse.h"
#include "libtrace/event.h"
#include "libtrace/keyentry.h"
#include "server.h"

/* The key id the payload of a stored envelope names as its signer. */
static enum trace_status
payload_signer(const struct dsse_envelope *env, char signer[KEYID_LEN + 1],
    struct trace_error *err)
{
	if (strcmp(env->type, TYPE_EVENT) == 0) {
		struct trace_event ev;

		/* A round-1 payload (a close naming no recall) too. */
		if (event_parse_stored(env->payload, env->payload_len, &ev,
		    NULL) != TRACE_OK)
			goto bad;
		memcpy(signer, ev.signer, KEYID_LEN + 1);
		event_free(&ev);
		return TRACE_OK;
	}
	if (strcmp(env->type, TYPE_KEY) == 0) {
		struct key_entry entry;
		struct trace_error why;
		enum trace_status rc = key_entry_parse(env->payload,
		    env->payload_len, &entry, &why);

		/* An enrollment of a key refused today still names its
		 * signer (keyentry.h: read whole after weak_public_key). */
		if (rc != TRACE_OK && !(rc == TRACE_ERULE &&
		    strcmp(why.code, "weak_public_key") == 0))
			goto bad;
		memcpy(signer, entry.signer, KEYID_LEN + 1);
		return TRACE_OK;
	}
bad:
	return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
	    "a stored statement does not parse");
}

enum trace_status
statement_read_envelope(const struct store_record *r,
    struct dsse_envelope *env, struct trace_error *err)
{
	if (dsse_envelope_parse_stored(r->envelope, r->envelope_len, env,
	    NULL) != TRACE_OK)
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "stored statement %s does not parse", r->id);
	return TRACE_OK;
}

enum trace_status
statement_read_event(const struct store_record *r, struct dsse_envelope *env,
    struct trace_event *ev, struct trace_error *err)
{
	struct dsse_envelope own;
	struct dsse_envelope *e = env != NULL ? env : &own;
	enum trace_status rc;

	if ((rc = statement_read_envelope(r, e, err)) != TRACE_OK)
		return rc;
	rc = event_parse_stored(e->payload, e->payload_len, ev, NULL);
	if (rc != TRACE_OK || env == NULL)
		dsse_envelope_clear(e);
	if (rc != TRACE_OK)
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "stored event %s does not parse", r->id);
	return TRACE_OK;
}

enum trace_status
statement_write_envelope(struct server *srv, struct store *store,
    const struct store_record *r, struct dsse_envelope *env, struct buf *b,
    struct trace_error *err)
{
	char signer[KEYID_LEN + 1], *text;
	struct key_state key;
	bool found = false;
	enum trace_status rc;
	size_t len;

	/* Canonical JSON, validated on the way in: copied as it is. */
	if (env->sig_count == 1) {
		buf_append(b, r->envelope, r->envelope_len);
		return TRACE_OK;
	}
	/* Round 1: keep the signature that verifies under the signer's key
	 * (the root's, else the enrolled one), as SPEC 8 says. */
	if ((rc = payload_signer(env, signer, err)) != TRACE_OK)
		return rc;
	if ((rc = key_cache_get(srv, store, signer, &key, &found, err)) !=
	    TRACE_OK)
		return rc;
	/*
	 * A key round 1 enrolled and today's rules refuse (weak_public_key)
	 * reads as never enrolled: no signature can be kept as the one that
	 * verifies.  Served as stored, the chain stays servable and a
	 * verifier of the bundle reports the statement (bad_key_entry).
	 */
	if (!found) {
		buf_append(b, r->envelope, r->envelope_len);
		return TRACE_OK;
	}
	rc = dsse_envelope_keep_verified(env, key.entry.public_key, signer,
	    err);
	if (rc == TRACE_EBADSIG)
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "no signature of stored statement %s verifies under its "
		    "signer's key", r->id);
	if (rc != TRACE_OK)
		return rc;
	if ((text = dsse_envelope_to_text(env, &len)) == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	buf_append(b, text, len);
	free(text);
	return TRACE_OK;
}
