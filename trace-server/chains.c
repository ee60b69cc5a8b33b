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
 *
 * The events come in pages (?limit=, ?cursor=: the seq to continue from,
 * PROTOCOL 11.6), so an anonymous request writes O(page) events.  The
 * fold needs the whole chain: it is the cached one of chainview.c, whose
 * read transfers no record while the head is unchanged, so a walk through
 * the pages reads and folds the chain once, not once per page.
 */
#include <stdio.h>
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

/* Events per page of chain JSON: ?limit= 1 to CHAIN_LIMIT_MAX. */
#define CHAIN_LIMIT_DEFAULT 100
#define CHAIN_LIMIT_MAX 1000
/* A cursor is a seq: at most 2^53 - 1, 16 digits. */
#define CHAIN_CURSOR_DIGITS 16

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

/*
 * A canonical decimal of at most digits digits (no sign, no leading zero
 * but "0") into *out; false if v is not one.
 */
static bool
decimal_parse(const char *v, size_t len, size_t digits, long long *out)
{
	long long n = 0;

	if (len < 1 || len > digits || (len > 1 && v[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		n = n * 10 + (v[i] - '0');
	}
	*out = n;
	return true;
}

/*
 * ?limit= and ?cursor= of a chain page (strict, as the recall list's:
 * PROTOCOL 11.10); *cursor -1 when absent.
 */
static enum trace_status
page_params(struct request *req, size_t *limit, long long *cursor,
    struct trace_error *err)
{
	static const char *const allowed[] = { "limit", "cursor", NULL };
	const struct query_field *f;
	struct query_fields q;
	long long n;
	enum trace_status rc;

	*limit = CHAIN_LIMIT_DEFAULT;
	*cursor = -1;
	if ((rc = parse_query(req->info->query_string, allowed,
	    PARSE_UNKNOWN_REFUSED, &q, err)) != TRACE_OK)
		return rc;
	if ((f = parse_query_get(&q, "limit")) != NULL && f->value != NULL &&
	    f->value_len > 0) {
		if (!decimal_parse(f->value, f->value_len, 4, &n) || n < 1 ||
		    n > CHAIN_LIMIT_MAX) {
			rc = trace_error_set(err, TRACE_EMALFORMED,
			    "bad_parameter", "limit", "limit is 1 to %d",
			    CHAIN_LIMIT_MAX);
			goto out;
		}
		*limit = (size_t)n;
	}
	if ((f = parse_query_get(&q, "cursor")) != NULL && f->value != NULL &&
	    f->value_len > 0 && !decimal_parse(f->value, f->value_len,
	    CHAIN_CURSOR_DIGITS, cursor))
		rc = trace_error_set(err, TRACE_EMALFORMED, "bad_parameter",
		    "cursor", "cursor is a seq (decimal, as handed out in "
		    "next)");
out:
	parse_query_clear(&q);
	return rc;
}

/* Link: <...>; rel="next" of the page after one ending before next. */
static void
next_link(struct buf *headers, const struct chain_view *view, size_t limit,
    size_t next)
{
	struct buf link;

	buf_init(&link, 0);
	buf_printf(&link, "/api/v1/chains/01/%s/10/", view->link.gtin);
	/* Header values carry no raw non-ASCII: the lot is percent-encoded
	 * (paths are matched raw and the lot decoded, 11.1). */
	buf_url_component(&link, view->link.lot, strlen(view->link.lot));
	if (limit != CHAIN_LIMIT_DEFAULT)
		buf_printf(&link, "?limit=%zu&cursor=%zu", limit, next);
	else
		buf_printf(&link, "?cursor=%zu", next);
	buf_printf(headers, "Link: <%s>; rel=\"next\"\r\nX-Next-Cursor: %zu\r\n",
	    link.failed ? "" : link.data, next);
	buf_free(&link);
}

void
chains_handle_chain(struct request *req)
{
	const char *rest = req->path + strlen("/api/v1/chains");
	char chain[CHAIN_ID_MAX + 1];
	struct gs1_link link;
	struct chain_view view;
	struct trace_error err;
	struct buf out, headers;
	size_t limit, first, end;
	long long cursor;
	enum trace_status rc = TRACE_OK;

	memset(&view, 0, sizeof(view));
	buf_init(&out, 0);
	buf_init(&headers, 0);
	/* The path's rules are parse_chain_path()'s; the view wants the link
	 * it was parsed from. */
	if (parse_chain_path(rest, chain, &err) != TRACE_OK ||
	    gs1_link_parse_path(rest, strlen(rest), &link, &err) != TRACE_OK ||
	    page_params(req, &limit, &cursor, &err) != TRACE_OK)
		goto fail;
	if (chain_view_load(req, &link, false, &view, &err) != TRACE_OK) {
		if (err.status == TRACE_ENOTFOUND)
			trace_error_set(&err, TRACE_ENOTFOUND, "not_found",
			    "chain", "no events for chain %s", chain);
		goto fail;
	}
	/* A cursor is a seq the chain holds: next never points past the
	 * head, and a chain never shrinks. */
	if (cursor >= (long long)view.count) {
		trace_error_set(&err, TRACE_EMALFORMED, "bad_parameter",
		    "cursor", "cursor %lld is past the chain's head (seq %zu)",
		    cursor, view.count - 1);
		goto fail;
	}
	first = cursor < 0 ? 0 : (size_t)cursor;
	end = view.count - first > limit ? first + limit : view.count;
	buf_puts(&out, "{\"chain\":");
	buf_json_string(&out, view.chain, strlen(view.chain));
	buf_printf(&out, ",\"head\":{\"seq\":%zu,\"id\":\"%s\"},"
	    "\"verification\":{\"signatures\":\"verified at acceptance\","
	    "\"links\":\"checked at acceptance\"},\"events\":[",
	    view.count - 1, view.items[view.count - 1].rec->id);
	for (size_t i = first; i < end && rc == TRACE_OK; i++) {
		if (i > first)
			buf_puts(&out, ",");
		rc = write_statement(req, &out, view.items[i].rec, (long long)i,
		    NULL, false, &view, i, &err);
	}
	if (rc != TRACE_OK)
		goto fail;
	buf_puts(&out, "]");
	if (end < view.count) {
		buf_printf(&out, ",\"next\":\"%zu\"", end);
		next_link(&headers, &view, limit, end);
	} else {
		buf_puts(&out, ",\"next\":null");
	}
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
	if (out.failed || headers.failed) {
		trace_error_set(&err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto fail;
	}
	buf_puts(&headers, "Cache-Control: no-store\r\n");
	http_send(req, 200, "application/json", out.data, out.len,
	    headers.data);
	buf_free(&out);
	buf_free(&headers);
	chain_view_free(&view);
	return;
fail:
	buf_free(&out);
	buf_free(&headers);
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
