/*
 * registry.c - the key registry: POST /api/v1/keys (enroll and revoke
 * statements signed by the root admin key or an enrolled admin, org
 * statements signed by the root) and GET /api/v1/keys[/{keyid}].
 *
 * Key statements are logged like events; policy_check_key_entry() applies
 * the registry rules (SPEC 8 "Organisations", "Admin scope") and the store
 * checks atomically that the signer is still an unrevoked admin, that the
 * target key is new (enroll) or enrolled and unrevoked (revoke), and that
 * the org an enrollment was checked against has not changed since.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/dsse.h"
#include "libtrace/encoding.h"
#include "libtrace/keyentry.h"
#include "libtrace/timefmt.h"
#include "pages.h"
#include "recalls.h"
#include "server.h"

/* Every rule a new key entry must keep, after its signature: its time
 * (SPEC 8 "Receipt time"), the registry rules, and its signer's window
 * against the time it arrives. */
static enum trace_status
check_rules(struct request *req, const struct key_entry *entry,
    const struct key_state *signer, const struct key_state *target,
    const struct org_info *org, struct trace_error *err)
{
	long long now = time_now();
	enum trace_status rc;

	if ((rc = policy_check_time(entry->time, now, req->srv->cfg.max_age,
	    err)) != TRACE_OK) {
		trace_error_prefix_field(err, "payload");
		return rc;
	}
	if ((rc = policy_check_key_entry(entry, signer, target, org, false,
	    LLONG_MAX, err)) != TRACE_OK)
		return rc;
	return policy_check_receipt(signer, now, req->srv->cfg.grace, err);
}

static void
post_key(struct request *req)
{
	struct trace_error err;
	struct dsse_envelope env;
	struct key_entry entry;
	struct key_state signer, target;
	struct org_info org;
	char org_where[KEY_ORG_WHERE_MAX];
	long long org_first = 0;
	bool org_found = false;
	struct append_key_args args;
	struct append_result result;
	unsigned char leaf[SHA256_LEN];
	char id[2 * SHA256_LEN + 1], *body = NULL, *text = NULL;
	size_t len = 0, text_len = 0;
	bool found = false, target_found = false;
	struct buf out;

	memset(&env, 0, sizeof(env));
	buf_init(&out, 0);
	if (http_read_body(req, BODY_MAX_SINGLE, &body, &len, &err) != TRACE_OK ||
	    dsse_envelope_parse(body, len, &env, &err) != TRACE_OK)
		goto fail;
	if (strcmp(env.type, TYPE_KEY) != 0) {
		trace_error_set(&err, TRACE_EMALFORMED, "bad_payload_type",
		    "payloadType", "key entries have payloadType %s", TYPE_KEY);
		goto fail;
	}
	if (key_entry_parse(env.payload, env.payload_len, &entry, &err) !=
	    TRACE_OK || key_entry_check_visible(&entry, &err) != TRACE_OK) {
		trace_error_prefix_field(&err, "payload");
		goto fail;
	}
	if (key_cache_get(req->srv, req->worker->store, entry.signer, &signer,
	    &found, &err) != TRACE_OK)
		goto fail;
	if (!found) {
		trace_error_set(&err, TRACE_EUNKNOWNKEY, "unknown_key",
		    "payload.signer", "key %s is not enrolled", entry.signer);
		goto fail;
	}
	if (dsse_verify(&env, signer.entry.public_key, entry.signer, &err) !=
	    TRACE_OK)
		goto fail;
	hex_encode(env.id, SHA256_LEN, id);
	org_where[0] = '\0';
	if (entry.op != KEY_OP_ORG && key_cache_get(req->srv,
	    req->worker->store, entry.keyid, &target, &target_found, &err) !=
	    TRACE_OK)
		goto fail;
	if (entry.op == KEY_OP_ENROLL && key_cache_org(req->srv,
	    req->worker->store, entry.org, &org, org_where, sizeof(org_where),
	    &org_first, &org_found, &err) != TRACE_OK)
		goto fail;
	/* New entries follow today's rules: round1 false.  The time rules
	 * come after the signature, so that an accepted entry sent again
	 * later still answers 200 (SPEC 8 "Resubmission"). */
	if (check_rules(req, &entry, &signer, target_found ? &target : NULL,
	    org_found ? &org : NULL, &err) != TRACE_OK) {
		struct store_location loc;
		struct trace_error ignored;

		/* A resubmitted statement answers as it did the first time. */
		if (store_locate(req->worker->store, id, &loc, &ignored) ==
		    TRACE_OK && loc.found && loc.is_key) {
			buf_printf(&out, "{\"id\":\"%s\",\"logIndex\":%lld}", id,
			    loc.log_index);
			http_send_json(req, 200, &out);
			goto out;
		}
		goto fail;
	}
	merkle_leaf_hash_statement(env.type, env.payload, env.payload_len,
	    leaf);
	if ((text = dsse_envelope_to_text(&env, &text_len)) == NULL) {
		trace_error_set(&err, TRACE_ENOMEM, NULL, NULL, "out of memory");
		goto fail;
	}
	args = (struct append_key_args){
		.id = id, .op = entry.op,
		.keyid = entry.keyid, .signer = entry.signer,
		.org = entry.op == KEY_OP_REVOKE ? "" : entry.org,
		.org_where = org_where,
		.signer_is_root = signer.is_root, .leaf_hash = leaf,
		.envelope = text, .envelope_len = text_len,
	};
	if (store_append_key(req->worker->store, &args, &result, &err) !=
	    TRACE_OK)
		goto fail;
	switch (result.outcome) {
	case APPEND_OK:
	case APPEND_DUPLICATE:
		if (entry.op == KEY_OP_REVOKE)
			key_cache_forget(req->srv->keys, entry.keyid);
		/* SPEC 8: closes the fold now ignores no longer close their
		 * recalls in the recall indexes either.  The revoke stands
		 * whatever happens here; a failure is logged (the fold, so
		 * pages and bundles, reads the revoke regardless). */
		if (entry.op == KEY_OP_REVOKE && entry.has_compromised_at) {
			struct trace_error reopen_err;
			size_t reopened = 0;

			chain_view_forget_all();
			if (recalls_reopen_compromised(req, &reopened,
			    &reopen_err) != TRACE_OK)
				fprintf(stderr, "trace-server: reopening recalls "
				    "after revoking %s: %s\n", entry.keyid,
				    reopen_err.message);
		}
		if (entry.op == KEY_OP_ORG)
			key_cache_forget_org(req->srv->keys, entry.org);
		atomic_fetch_add(result.outcome == APPEND_OK ?
		    &req->srv->metrics.accepted : &req->srv->metrics.duplicates,
		    1);
		buf_printf(&out, "{\"id\":\"%s\",\"logIndex\":%lld}", id,
		    result.log_index);
		http_send_json(req, result.outcome == APPEND_OK ? 201 : 200,
		    &out);
		goto out;
	case APPEND_REVOKED:
		trace_error_set(&err, TRACE_EFORBIDDEN, "key_revoked",
		    "payload.signer", "the signing admin key is revoked");
		break;
	case APPEND_UNKNOWN_SIGNER:
		trace_error_set(&err, TRACE_EUNKNOWNKEY, "unknown_key",
		    "payload.signer", "the signing key is not enrolled");
		break;
	case APPEND_KEY_EXISTS:
		trace_error_set(&err, TRACE_ERULE, "key_exists", "payload.keyid",
		    "key %s is already enrolled", entry.keyid);
		break;
	case APPEND_UNKNOWN_KEY:
		trace_error_set(&err, TRACE_ERULE, "unknown_key", "payload.keyid",
		    "key %s is not enrolled", entry.keyid);
		break;
	case APPEND_ORG_CHANGED:
		trace_error_set(&err, TRACE_ECONFLICT, "org_changed",
		    "payload.org", "org %s changed while the enrollment was "
		    "checked; send it again", entry.org);
		break;
	case APPEND_ALREADY_REVOKED:
		trace_error_set(&err, TRACE_ERULE, "already_revoked",
		    "payload.keyid", "key %s is already revoked", entry.keyid);
		break;
	default:
		trace_error_set(&err, TRACE_ESTORE, "store_corrupt", NULL,
		    "unexpected answer from the store");
		break;
	}
fail:
	metrics_count_rejected(&req->srv->metrics, err.code);
	http_send_error(req, &err);
out:
	dsse_envelope_clear(&env);
	free(body);
	free(text);
	buf_free(&out);
}

/*
 * {"id","logIndex","envelope","payload"} of one stored key statement, the
 * envelope as served (statement.c).
 */
static enum trace_status
write_key_record(struct request *req, struct buf *b,
    const struct store_record *r, struct trace_error *err)
{
	struct dsse_envelope env;
	enum trace_status rc;

	if (dsse_envelope_parse_stored(r->envelope, r->envelope_len, &env,
	    NULL) != TRACE_OK)
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "a stored key entry does not parse");
	buf_printf(b, "{\"id\":\"%s\",\"logIndex\":%lld,\"envelope\":", r->id,
	    r->log_index);
	rc = statement_write_envelope(req->srv, req->worker->store, r, &env, b,
	    err);
	/* Stored payloads were validated as strict JSON. */
	buf_puts(b, ",\"payload\":");
	buf_append(b, env.payload, env.payload_len);
	buf_puts(b, "}");
	dsse_envelope_clear(&env);
	return rc;
}

static void
get_keys(struct request *req, const char *keyid)
{
	struct trace_error err;
	struct store_records recs;
	bool revoked = false;
	enum trace_status rc = TRACE_OK;
	struct buf out;

	buf_init(&out, 0);
	if (keyid != NULL) {
		if (!key_id_valid(keyid, strlen(keyid))) {
			trace_error_set(&err, TRACE_EMALFORMED, "bad_keyid",
			    "keyid", "a key id is %d lowercase hex characters",
			    KEYID_LEN);
			goto fail;
		}
		if (store_key_records(req->worker->store, keyid, &recs, &revoked,
		    &err) != TRACE_OK)
			goto fail;
		if (recs.count == 0) {
			store_records_clear(&recs);
			trace_error_set(&err, TRACE_ENOTFOUND, "not_found", "keyid",
			    "key %s is not enrolled", keyid);
			goto fail;
		}
		buf_printf(&out, "{\"keyid\":\"%s\",\"revoked\":%s,\"entries\":[",
		    keyid, revoked ? "true" : "false");
	} else {
		if (store_key_entries(req->worker->store, &recs, &err) !=
		    TRACE_OK)
			goto fail;
		buf_puts(&out, "{\"entries\":[");
	}
	for (size_t i = 0; i < recs.count && rc == TRACE_OK; i++) {
		if (i > 0)
			buf_puts(&out, ",");
		rc = write_key_record(req, &out, &recs.items[i], &err);
	}
	store_records_clear(&recs);
	if (rc != TRACE_OK)
		goto fail;
	buf_puts(&out, "]}");
	http_send_json(req, 200, &out);
	buf_free(&out);
	return;
fail:
	buf_free(&out);
	http_send_error(req, &err);
}

void
registry_handle_keys(struct request *req)
{
	const char *rest = req->path + strlen("/api/v1/keys");

	/* The router sends GET and POST of /api/v1/keys, GET of
	 * /api/v1/keys/{keyid}. */
	if (rest[0] == '\0' && strcmp(req->info->request_method, "POST") == 0)
		post_key(req);
	else
		get_keys(req, rest[0] == '/' ? rest + 1 : NULL);
}
