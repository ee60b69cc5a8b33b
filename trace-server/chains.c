/*
 * chains.c - reading chains and statements:
 *   GET /api/v1/chains/01/{gtin}/10/{lot}   the chain, in seq order
 *   GET /api/v1/events/{id}                 one statement with its log index
 *
 * Envelopes are stored in canonical JSON and their payloads were validated
 * as strict JSON on the way in, so both are copied into answers as they are
 * instead of being parsed and written again; only a round-1 envelope with
 * several signatures is written again, with the one that verifies
 * (statement.c).
 *
 * A chain is read through chainview.c (one round trip, parsed and folded
 * once per head), so its answer carries the fold (libtrace/fold.h) the
 * pages show: per event what withdrew it and whether it was judged by
 * round-1 rules, and the recall, inspection and customs status.
 */
#include <stdlib.h>
#include <string.h>

#include "libtrace/dsse.h"
#include "libtrace/encoding.h"
#include "libtrace/gs1.h"
#include "pages.h"
#include "parse.h"
#include "log.h"
#include "recalls.h"
#include "server.h"

/*
 * One stored statement as {"id","seq","logIndex","envelope","payload"}
 * (an event: chain, if not NULL, adds "chain" first) or, for a key
 * statement, {"kind":"key","id","logIndex","envelope"}.  The envelope is
 * written as served (statement.c).  view (if not NULL) adds what its fold
 * says of event i.
 */
static enum trace_status
write_statement(struct request *req, struct buf *b,
    const struct store_record *r, long long seq, const char *chain,
    bool is_key, const struct chain_view *view, size_t i,
    struct trace_error *err)
{
	struct dsse_envelope env;
	enum trace_status rc;

	if ((rc = statement_read_envelope(r, &env, err)) != TRACE_OK)
		return rc;
	if (is_key) {
		buf_printf(b, "{\"kind\":\"key\",\"id\":\"%s\",\"logIndex\":"
		    "%lld,\"envelope\":", r->id, r->log_index);
	} else {
		buf_puts(b, "{");
		if (chain != NULL) {
			buf_puts(b, "\"chain\":");
			buf_json_string(b, chain, strlen(chain));
			buf_puts(b, ",");
		}
		buf_printf(b, "\"id\":\"%s\",\"seq\":%lld,\"logIndex\":%lld,"
		    "\"envelope\":", r->id, seq, r->log_index);
	}
	rc = statement_write_envelope(req->srv, req->worker->store, r, &env, b,
	    err);
	if (rc == TRACE_OK && !is_key) {
		/* Payloads were validated as strict JSON on the way in. */
		buf_puts(b, ",\"payload\":");
		buf_append(b, env.payload, env.payload_len);
		if (view != NULL)
			chain_item_write_notes(b, view, i);
	}
	buf_puts(b, "}");
	dsse_envelope_clear(&env);
	return rc;
}

/*
 * A document's upload statement (blobs.c logged it):
 * {"kind":"blob","id","logIndex","envelope","payload"}.  It was stored
 * with exactly one signature, so its text is served as it is.
 */
static enum trace_status
write_upload_statement(struct buf *b, const struct store_record *r,
    struct trace_error *err)
{
	struct dsse_envelope env;
	enum trace_status rc;

	if ((rc = statement_read_envelope(r, &env, err)) != TRACE_OK)
		return rc;
	buf_printf(b, "{\"kind\":\"blob\",\"id\":\"%s\",\"logIndex\":%lld,"
	    "\"envelope\":", r->id, r->log_index);
	buf_append(b, r->envelope, r->envelope_len);
	buf_puts(b, ",\"payload\":");
	buf_append(b, env.payload, env.payload_len);
	buf_puts(b, "}");
	dsse_envelope_clear(&env);
	return TRACE_OK;
}

void
chains_handle_chain(struct request *req)
{
	const char *rest = req->path + strlen("/api/v1/chains");
	char chain[CHAIN_ID_MAX + 1];
	struct gs1_link link;
	struct chain_view view;
	struct trace_error err;
	struct buf out;
	enum trace_status rc = TRACE_OK;

	memset(&view, 0, sizeof(view));
	buf_init(&out, 0);
	/* The path's rules are parse_chain_path()'s; the view wants the link
	 * it was parsed from. */
	if (parse_chain_path(rest, chain, &err) != TRACE_OK ||
	    gs1_link_parse_path(rest, strlen(rest), &link, &err) != TRACE_OK)
		goto fail;
	if (chain_view_load(req, &link, false, &view, &err) != TRACE_OK) {
		if (err.status == TRACE_ENOTFOUND)
			trace_error_set(&err, TRACE_ENOTFOUND, "not_found",
			    "chain", "no events for chain %s", chain);
		goto fail;
	}
	buf_puts(&out, "{\"chain\":");
	buf_json_string(&out, view.chain, strlen(view.chain));
	buf_printf(&out, ",\"head\":{\"seq\":%zu,\"id\":\"%s\"},"
	    "\"verification\":{\"signatures\":\"verified at acceptance\","
	    "\"links\":\"checked at acceptance\"},\"events\":[",
	    view.count - 1, view.items[view.count - 1].rec->id);
	for (size_t i = 0; i < view.count && rc == TRACE_OK; i++) {
		if (i > 0)
			buf_puts(&out, ",");
		rc = write_statement(req, &out, view.items[i].rec, (long long)i,
		    NULL, false, &view, i, &err);
	}
	if (rc != TRACE_OK)
		goto fail;
	buf_puts(&out, "]");
	chain_view_write_status(&out, &view);
	/* The chain's recalls as the recall indexes hold them (recalls.h):
	 * written in the same atomic step as each recall event, they agree
	 * with the status above. */
	{
		struct recall_status st;

		if (recalls_chain_status(req->worker->store, view.chain,
		    witness_pending_from(req), &st, &err) != TRACE_OK)
			goto fail;
		recalls_write_chain_member(&out, &st);
		recall_status_clear(&st);
	}
	buf_puts(&out, "}");
	http_send_json(req, 200, &out);
	buf_free(&out);
	chain_view_free(&view);
	return;
fail:
	buf_free(&out);
	chain_view_free(&view);
	http_send_error(req, &err);
}

void
chains_handle_event(struct request *req)
{
	const char *id = req->path + strlen("/api/v1/events/");
	unsigned char raw[SHA256_LEN];
	struct store_location loc;
	struct store_records recs;
	struct trace_error err;
	struct buf out;
	enum trace_status rc;

	buf_init(&out, 0);
	if (!hex_decode(id, strlen(id), raw, sizeof(raw), true)) {
		trace_error_set(&err, TRACE_EMALFORMED, "bad_id", "id",
		    "a statement id is 64 lowercase hex characters");
		goto fail;
	}
	if (store_locate(req->worker->store, id, &loc, &err) != TRACE_OK)
		goto fail;
	if (!loc.found) {
		trace_error_set(&err, TRACE_ENOTFOUND, "not_found", "id",
		    "no statement %s", id);
		goto fail;
	}
	if (store_record_at(req->worker->store, &loc, &recs, &err) != TRACE_OK)
		goto fail;
	if (recs.count != 1) {
		store_records_clear(&recs);
		trace_error_set(&err, TRACE_ESTORE, "store_corrupt", NULL,
		    "the statement index points nowhere");
		goto fail;
	}
	if (loc.is_blob)
		rc = write_upload_statement(&out, &recs.items[0], &err);
	else
		rc = write_statement(req, &out, &recs.items[0], loc.seq,
		    loc.is_key ? NULL : loc.chain, loc.is_key, NULL, 0, &err);
	store_records_clear(&recs);
	if (rc != TRACE_OK)
		goto fail;
	http_send_json(req, 200, &out);
	buf_free(&out);
	return;
fail:
	buf_free(&out);
	http_send_error(req, &err);
}
