/*
 * recalls.c - recalls and GET /api/v1/recalls (docs/PROTOCOL.md section
 * 11.11, issue 7).
 *
 * Owns: the recall's JSON that the append of a recall.issued /
 * recall.closed event stores besides the chain (the store updates the
 * indexes in the same atomic step: store_recalls.c), the recall query's
 * parameters, its JSON and CSV answers and a chain's recall status.  Query
 * strings are parse.c's (strictly: an unknown parameter is refused).  The
 * order of a query and its cursor are the store's (store_recalls.c).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/timefmt.h"
#include "log.h"
#include "recalls.h"

/* ---- the append side --------------------------------------------------- */

bool
recalls_is_recall_event(const struct trace_event *ev)
{
	return ev->type == EVENT_RECALL_ISSUED || ev->type == EVENT_RECALL_CLOSED;
}

static void
json_field(struct buf *b, const char *name, const char *s)
{
	buf_printf(b, ",\"%s\":", name);
	buf_json_string(b, s, strlen(s));
}

/* The facts of a recall.issued, split where the log index goes. */
static void
issued_json(struct recall_append *ra, const struct trace_event *ev,
    const char *id, const char *org)
{
	const struct json_value *v;
	char when[21];
	long long severity = 0;

	buf_printf(&ra->head, "{\"id\":\"%s\"", id);
	json_field(&ra->head, "chain", ev->chain);
	json_field(&ra->head, "gtin", ev->gtin);
	json_field(&ra->head, "lot", ev->lot);
	buf_printf(&ra->head, ",\"seq\":%lld", ev->seq);
	time_format_utc(ev->time, when);
	json_field(&ra->tail, "issued", when);
	json_get_int(ev->data, "severity", false, &severity, NULL);
	buf_printf(&ra->tail, ",\"severity\":%lld", severity);
	json_field(&ra->tail, "reason", event_data_string(ev, "reason"));
	json_field(&ra->tail, "action", event_data_string(ev, "action"));
	if (event_data_string(ev, "contact") != NULL)
		json_field(&ra->tail, "contact", event_data_string(ev,
		    "contact"));
	buf_puts(&ra->tail, ",\"serials\":");
	v = json_object_get(ev->data, "serials");
	if (v == NULL || v->type != JSON_ARRAY) {
		buf_puts(&ra->tail, "null");
	} else {
		buf_puts(&ra->tail, "[");
		for (size_t i = 0; i < v->u.array.count; i++) {
			const struct json_value *r = v->u.array.items[i];

			buf_puts(&ra->tail, i > 0 ? ",[" : "[");
			for (size_t k = 0; k < r->u.array.count && k < 2; k++) {
				const struct json_value *s = r->u.array.items[k];

				if (k > 0)
					buf_puts(&ra->tail, ",");
				buf_json_string(&ra->tail, s->u.string.ptr,
				    s->u.string.len);
			}
			buf_puts(&ra->tail, "]");
		}
		buf_puts(&ra->tail, "]");
	}
	json_field(&ra->tail, "org", org);
	json_field(&ra->tail, "signer", ev->signer);
	buf_puts(&ra->tail, "}");
}

/* What closed a recall, split where the log index goes. */
static void
closing_json(struct recall_append *ra, const struct trace_event *ev,
    const char *id)
{
	char when[21];
	long long recovered = 0;

	time_format_utc(ev->time, when);
	buf_puts(&ra->head, "{\"closed\":");
	buf_json_string(&ra->head, when, strlen(when));
	buf_printf(&ra->head, ",\"closedBy\":\"%s\"", id);
	json_field(&ra->head, "outcome", event_data_string(ev, "outcome"));
	if (json_get_int(ev->data, "recovered", false, &recovered, NULL) ==
	    TRACE_OK && json_object_get(ev->data, "recovered") != NULL)
		buf_printf(&ra->head, ",\"recovered\":%lld", recovered);
	buf_puts(&ra->tail, "}");
}

enum trace_status
recalls_append_prepare(struct recall_append *ra, const struct trace_event *ev,
    const char *id, const char *org, const char *closes,
    struct append_event_args *args,
    struct trace_error *err)
{
	bool issued = ev->type == EVENT_RECALL_ISSUED;

	memset(ra, 0, sizeof(*ra));
	buf_init(&ra->head, 0);
	buf_init(&ra->tail, 0);
	if (issued)
		issued_json(ra, ev, id, org);
	else
		closing_json(ra, ev, id);
	if (ra->head.failed || ra->tail.failed || ra->head.len == 0) {
		recalls_append_clear(ra);
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	}
	ra->args = (struct append_recall_args){
		.issued = issued, .gtin = ev->gtin, .lot = ev->lot, .org = org,
		.closes = issued ? NULL : closes,
		.head = ra->head.data, .head_len = ra->head.len,
		.tail = ra->tail.data, .tail_len = ra->tail.len,
	};
	args->recall = &ra->args;
	return TRACE_OK;
}

void
recalls_append_clear(struct recall_append *ra)
{
	if (ra == NULL)
		return;
	buf_free(&ra->head);
	buf_free(&ra->tail);
}

/* ---- queries ------------------------------------------------------------- */

/* A parameter with a non-empty value, or NULL. */
static const char *
param(const struct query_fields *p, const char *name, size_t *len)
{
	const struct query_field *q = parse_query_get(p, name);

	if (q == NULL || q->value == NULL)
		return NULL;
	if (len != NULL)
		*len = q->value_len;
	return q->value;
}

static enum trace_status
parse_when(const char *name, const char *v, size_t len, bool end_of_day,
    long long *out, char *text, struct trace_error *err)
{
	int offset;

	if (len > TIME_TEXT_MAX)
		goto bad;
	if (time_parse_date(v, len, out)) {
		if (end_of_day)
			*out += 86399;
	} else if (!time_parse_rfc3339(v, len, out, &offset)) {
		goto bad;
	}
	memcpy(text, v, len);
	text[len] = '\0';
	return TRACE_OK;
bad:
	return trace_error_set(err, TRACE_EMALFORMED, "bad_parameter", name,
	    "%s is YYYY-MM-DD or an RFC 3339 time", name);
}

enum trace_status
recalls_query_from_params(const struct query_fields *p,
    struct recall_query *q, struct trace_error *err)
{
	const char *v;
	size_t len;
	enum trace_status rc;

	memset(q, 0, sizeof(*q));
	q->pending_from = LLONG_MAX;     /* the handler sets it */
	q->limit = RECALLS_LIMIT_DEFAULT;
	if ((v = param(p, "gtin", &len)) != NULL &&
	    (rc = gs1_gtin_normalize(v, len, q->gtin, "gtin", err)) != TRACE_OK)
		return rc;
	if ((v = param(p, "lot", &len)) != NULL) {
		if ((rc = gs1_attr_check(v, len, "lot", err)) != TRACE_OK)
			return rc;
		memcpy(q->lot, v, len + 1);
	}
	if ((v = param(p, "org", &len)) != NULL) {
		if (len > KEY_TEXT_MAX)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_parameter", "org", "org is at most %d bytes",
			    KEY_TEXT_MAX);
		memcpy(q->org, v, len + 1);
	}
	if ((v = param(p, "status", NULL)) != NULL) {
		if (strcmp(v, "open") == 0)
			q->status = RECALL_OPEN_ONLY;
		else if (strcmp(v, "closed") == 0)
			q->status = RECALL_CLOSED_ONLY;
		else
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_parameter", "status",
			    "status is open or closed");
	}
	if ((v = param(p, "since", &len)) != NULL) {
		if ((rc = parse_when("since", v, len, false, &q->since,
		    q->since_text, err)) != TRACE_OK)
			return rc;
		q->has_since = true;
	}
	if ((v = param(p, "until", &len)) != NULL) {
		if ((rc = parse_when("until", v, len, true, &q->until,
		    q->until_text, err)) != TRACE_OK)
			return rc;
		q->has_until = true;
	}
	if (q->has_since && q->has_until && q->since > q->until)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_parameter",
		    "until", "until is before since");
	if ((v = param(p, "cursor", &len)) != NULL) {
		if (!store_recall_cursor_valid(v, len))
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_parameter", "cursor", "cursor is a log index "
			    "(decimal, as handed out in next)");
		memcpy(q->cursor, v, len + 1);
	}
	if ((v = param(p, "limit", &len)) != NULL) {
		long n = 0;

		for (size_t i = 0; i < len && n <= RECALLS_LIMIT_MAX; i++) {
			if (v[i] < '0' || v[i] > '9') {
				n = -1;
				break;
			}
			n = n * 10 + (v[i] - '0');
		}
		if (len > 4 || n < 1 || n > RECALLS_LIMIT_MAX)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_parameter", "limit", "limit is 1 to %d",
			    RECALLS_LIMIT_MAX);
		q->limit = (size_t)n;
	}
	return TRACE_OK;
}

enum trace_status
recalls_list(struct store *s, const struct recall_query *q,
    struct recall_page *out, struct trace_error *err)
{
	const struct recall_list_args args = {
		.chain = "", .gtin = q->gtin, .lot = q->lot, .org = q->org,
		.status = q->status, .has_since = q->has_since,
		.has_until = q->has_until, .since = q->since, .until = q->until,
		.cursor = q->cursor, .now = time_now(), .limit = q->limit,
		.witnessing = q->pending_from != LLONG_MAX,
		.pending_from = q->pending_from,
	};

	return store_recalls_list(s, &args, out, err);
}

/* ---- a chain's recall status ------------------------------------------- */

void
recall_status_clear(struct recall_status *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; st->docs != NULL && i < st->count; i++)
		json_doc_free(st->docs[i]);
	free(st->docs);
	free(st->items);
	recall_page_clear(&st->page);
	memset(st, 0, sizeof(*st));
}

/* A UTC time member of a recall object, or 0. */
static long long
json_time(const struct json_value *obj, const char *key)
{
	const char *s;
	size_t len;
	long long t;
	int offset;

	if (json_get_string(obj, key, false, &s, &len, NULL) != TRACE_OK ||
	    s == NULL || !time_parse_rfc3339(s, len, &t, &offset))
		return 0;
	return t;
}

enum trace_status
recalls_chain_status(struct store *s, const char *chain,
    long long pending_from, struct recall_status *out,
    struct trace_error *err)
{
	static const struct json_limits limits = {
		.max_size = 64 * 1024, .max_depth = 8,
		.max_string = 8 * 1024, .max_values = 4096,
	};
	const struct recall_list_args args = {
		.chain = chain, .gtin = "", .lot = "", .org = "",
		.cursor = "", .now = time_now(), .limit = RECALLS_LIMIT_MAX,
		.witnessing = pending_from != LLONG_MAX,
		.pending_from = pending_from,
	};
	enum trace_status rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_recalls_list(s, &args, &out->page, err)) != TRACE_OK)
		return rc;
	if (out->page.count == 0)
		return TRACE_OK;
	out->items = calloc(out->page.count, sizeof(*out->items));
	out->docs = calloc(out->page.count, sizeof(*out->docs));
	if (out->items == NULL || out->docs == NULL) {
		recall_status_clear(out);
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	}
	for (size_t i = 0; i < out->page.count; i++) {
		struct recall_info *r = &out->items[i];
		const struct json_value *root;
		const char *text = NULL;
		size_t len = 0;

		if (json_parse(out->page.rows[i].json, out->page.rows[i].json_len, &limits,
		    &out->docs[i], NULL) != TRACE_OK) {
			recall_status_clear(out);
			return trace_error_set(err, TRACE_ESTORE,
			    "store_corrupt", NULL, "a stored recall is malformed");
		}
		out->count++;
		root = json_doc_root(out->docs[i]);
		r->json = root;
		if (json_get_string(root, "id", false, &text, &len, NULL) ==
		    TRACE_OK && text != NULL && len < sizeof(r->id))
			memcpy(r->id, text, len + 1);
		json_get_int(root, "severity", false, &r->severity, NULL);
		r->issued = json_time(root, "issued");
		r->closed = json_time(root, "closed");
		text = NULL;
		json_get_string(root, "status", false, &text, NULL, NULL);
		r->open = text != NULL && strcmp(text, "open") == 0;
		if (r->open)
			out->open++;
	}
	return TRACE_OK;
}

void
recalls_write_chain_member(struct buf *b, const struct recall_status *st)
{
	buf_printf(b, ",\"recalls\":{\"status\":\"%s\",\"open\":%zu,"
	    "\"total\":%zu,\"items\":[", st->count == 0 ? "none" :
	    st->open > 0 ? "open" : "closed", st->open, st->count);
	for (size_t i = 0; i < st->page.count; i++) {
		if (i > 0)
			buf_puts(b, ",");
		/* Stored recall JSON was written by recalls.c: trusted. */
		buf_append(b, st->page.rows[i].json, st->page.rows[i].json_len);
	}
	buf_puts(b, "]}");
}

/* ---- reopening after a compromise ---------------------------------------- */

/* Whether the close in closing (its JSON) is signed with a key read as
 * compromised at its log index; *closer its id. */
static enum trace_status
closing_compromised(struct request *req, const char *closing, size_t len,
    char closer[2 * SHA256_LEN + 1], bool *out, struct trace_error *err)
{
	struct json_doc *doc = NULL;
	struct store_location loc;
	struct store_records recs;
	struct trace_event ev;
	struct key_state state;
	const char *id = NULL;
	size_t id_len = 0;
	long long at = -1;
	bool found = false;
	enum trace_status rc = TRACE_OK;

	*out = false;
	memset(&recs, 0, sizeof(recs));
	if (json_parse(closing, len, NULL, &doc, NULL) != TRACE_OK)
		return TRACE_OK;
	if (json_get_string(json_doc_root(doc), "closedBy", true, &id, &id_len,
	    NULL) != TRACE_OK || id_len != 2 * SHA256_LEN ||
	    json_get_int(json_doc_root(doc), "closedLogIndex", true, &at,
	    NULL) != TRACE_OK)
		goto out;
	memcpy(closer, id, id_len + 1);
	if ((rc = store_locate(req->worker->store, closer, &loc, err)) !=
	    TRACE_OK || !loc.found || loc.is_key || loc.is_blob ||
	    (rc = store_record_at(req->worker->store, &loc, &recs, err)) !=
	    TRACE_OK || recs.count != 1)
		goto out;
	if (statement_read_event(&recs.items[0], NULL, &ev, NULL) != TRACE_OK)
		goto out;
	rc = key_cache_get(req->srv, req->worker->store, ev.signer, &state,
	    &found, err);
	event_free(&ev);
	if (rc == TRACE_OK && found)
		rc = key_cache_compromised(req->srv, req->worker->store, &state,
		    at, out, err);
out:
	store_records_clear(&recs);
	json_doc_free(doc);
	return rc;
}

enum trace_status
recalls_reopen_compromised(struct request *req, size_t *reopened,
    struct trace_error *err)
{
	struct store_closings closings;
	enum trace_status rc;

	*reopened = 0;
	if ((rc = store_recall_closings(req->worker->store, &closings, err)) !=
	    TRACE_OK)
		return rc;
	for (size_t i = 0; i < closings.count && rc == TRACE_OK; i++) {
		char closer[2 * SHA256_LEN + 1];
		bool lost = false, done = false;

		rc = closing_compromised(req, closings.items[i].closing,
		    closings.items[i].closing_len, closer, &lost, err);
		if (rc == TRACE_OK && lost && (rc = store_recall_reopen(
		    req->worker->store, closings.items[i].recall, closer, &done,
		    err)) == TRACE_OK)
			*reopened += done;
	}
	store_closings_clear(&closings);
	return rc;
}

/* ---- GET /api/v1/recalls ----------------------------------------------- */

void
recalls_csv_field(struct buf *b, const char *s, size_t len)
{
	bool quote = false;

	for (size_t i = 0; i < len && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' ||
		    s[i] == '\n';
	if (len > 0 && (s[0] == '=' || s[0] == '+' || s[0] == '-' ||
	    s[0] == '@' || s[0] == '\t' || s[0] == '\r'))
		quote = true;
	if (!quote) {
		buf_append(b, s, len);
		return;
	}
	buf_puts(b, "\"");
	if (len > 0 && (s[0] == '=' || s[0] == '+' || s[0] == '-' ||
	    s[0] == '@' || s[0] == '\t' || s[0] == '\r'))
		buf_puts(b, "'");
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			buf_puts(b, "\"\"");
		else
			buf_append(b, &s[i], 1);
	}
	buf_puts(b, "\"");
}

static const char *const csv_columns[] = {
	"id", "status", "chain", "gtin", "lot", "serials", "severity",
	"issued", "received", "closed", "reason", "action", "contact", "org",
	"outcome", "recovered", "seq", "logIndex", "closedBy", NULL,
};

/* One CSV cell from a member of a recall object. */
static void
csv_cell(struct buf *b, const struct json_value *obj, const char *key)
{
	const struct json_value *v = json_object_get(obj, key);

	if (v == NULL || v->type == JSON_NULL)
		return;
	if (v->type == JSON_STRING) {
		recalls_csv_field(b, v->u.string.ptr, v->u.string.len);
	} else if (v->type == JSON_INT) {
		buf_printf(b, "%lld", v->u.integer);
	} else if (v->type == JSON_ARRAY) {
		/* serials: "from..to; from..to" */
		struct buf t;

		buf_init(&t, 0);
		for (size_t i = 0; i < v->u.array.count; i++) {
			const struct json_value *r = v->u.array.items[i];

			if (r->type != JSON_ARRAY || r->u.array.count != 2 ||
			    r->u.array.items[0]->type != JSON_STRING ||
			    r->u.array.items[1]->type != JSON_STRING)
				continue;
			if (t.len > 0)
				buf_puts(&t, "; ");
			buf_append(&t, r->u.array.items[0]->u.string.ptr,
			    r->u.array.items[0]->u.string.len);
			buf_puts(&t, "..");
			buf_append(&t, r->u.array.items[1]->u.string.ptr,
			    r->u.array.items[1]->u.string.len);
		}
		recalls_csv_field(b, t.data != NULL ? t.data : "", t.len);
		buf_free(&t);
	}
}

static enum trace_status
write_csv(struct buf *b, const struct recall_page *page,
    struct trace_error *err)
{
	static const struct json_limits limits = {
		.max_size = 64 * 1024, .max_depth = 8,
		.max_string = 8 * 1024, .max_values = 4096,
	};

	/* The BOM tells spreadsheet programs the text is UTF-8. */
	buf_puts(b, "\xEF\xBB\xBF");
	for (size_t c = 0; csv_columns[c] != NULL; c++)
		buf_printf(b, "%s%s", c > 0 ? "," : "", csv_columns[c]);
	buf_puts(b, "\r\n");
	for (size_t i = 0; i < page->count; i++) {
		struct json_doc *doc = NULL;

		if (json_parse(page->rows[i].json, page->rows[i].json_len, &limits, &doc,
		    NULL) != TRACE_OK)
			return trace_error_set(err, TRACE_ESTORE,
			    "store_corrupt", NULL, "a stored recall is malformed");
		for (size_t c = 0; csv_columns[c] != NULL; c++) {
			if (c > 0)
				buf_puts(b, ",");
			csv_cell(b, json_doc_root(doc), csv_columns[c]);
		}
		buf_puts(b, "\r\n");
		json_doc_free(doc);
	}
	return TRACE_OK;
}

/* ?name=value for the next page's link (values percent-encoded). */
static void
link_param(struct buf *b, const char *name, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	buf_puts(b, memchr(b->data, '?', b->len) != NULL ? "&" : "?");
	buf_puts(b, name);
	buf_puts(b, "=");
	buf_url_component(b, value, strlen(value));
}

void
recalls_handle_list(struct request *req)
{
	static const char *const allowed[] = { "gtin", "lot", "status",
		"since", "until", "org", "cursor", "limit", "format", NULL };
	struct query_fields params;
	struct recall_query q;
	struct recall_page page;
	struct trace_error err;
	struct buf out, headers;
	const char *format;
	bool csv;
	char limit[16];

	memset(&page, 0, sizeof(page));
	memset(&params, 0, sizeof(params));
	buf_init(&out, 0);
	buf_init(&headers, 0);
	if (parse_query(req->info->query_string, allowed,
	    PARSE_UNKNOWN_REFUSED, &params, &err) != TRACE_OK ||
	    recalls_query_from_params(&params, &q, &err) != TRACE_OK)
		goto fail;
	format = param(&params, "format", NULL);
	if (format != NULL && strcmp(format, "csv") != 0 &&
	    strcmp(format, "json") != 0) {
		trace_error_set(&err, TRACE_EMALFORMED, "bad_parameter",
		    "format", "format is csv or json");
		goto fail;
	}
	csv = format != NULL ? strcmp(format, "csv") == 0 :
	    http_accepts(req, "text/csv");
	q.pending_from = witness_pending_from(req);
	if (recalls_list(req->worker->store, &q, &page, &err) != TRACE_OK)
		goto fail;
	buf_puts(&headers, "Cache-Control: no-store\r\nVary: Accept\r\n");
	if (page.next[0] != '\0') {
		struct buf link;

		buf_init(&link, 0);
		buf_puts(&link, "/api/v1/recalls");
		link_param(&link, "gtin", q.gtin);
		link_param(&link, "lot", q.lot);
		link_param(&link, "status", q.status == RECALL_OPEN_ONLY ?
		    "open" : q.status == RECALL_CLOSED_ONLY ? "closed" : NULL);
		link_param(&link, "since", q.since_text);
		link_param(&link, "until", q.until_text);
		link_param(&link, "org", q.org);
		snprintf(limit, sizeof(limit), "%zu", q.limit);
		link_param(&link, "limit", q.limit != RECALLS_LIMIT_DEFAULT ?
		    limit : NULL);
		link_param(&link, "format", format);
		link_param(&link, "cursor", page.next);
		/* Header values cannot carry raw non-ASCII: the link is
		 * percent-encoded throughout. */
		buf_printf(&headers, "Link: <%s>; rel=\"next\"\r\n"
		    "X-Next-Cursor: %s\r\n", link.data, page.next);
		buf_free(&link);
	}
	if (csv) {
		if (write_csv(&out, &page, &err) != TRACE_OK)
			goto fail;
		if (out.failed || headers.failed) {
			trace_error_set(&err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
			goto fail;
		}
		http_send(req, 200, "text/csv; charset=utf-8", out.data,
		    out.len, headers.data);
	} else {
		buf_puts(&out, "{\"recalls\":[");
		for (size_t i = 0; i < page.count; i++) {
			if (i > 0)
				buf_puts(&out, ",");
			buf_append(&out, page.rows[i].json, page.rows[i].json_len);
		}
		buf_puts(&out, "],\"next\":");
		if (page.next[0] != '\0')
			buf_printf(&out, "\"%s\"}", page.next);
		else
			buf_puts(&out, "null}");
		if (out.failed || headers.failed) {
			trace_error_set(&err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
			goto fail;
		}
		http_send(req, 200, "application/json", out.data, out.len,
		    headers.data);
	}
	goto out;
fail:
	http_send_error(req, &err);
out:
	recall_page_clear(&page);
	parse_query_clear(&params);
	buf_free(&out);
	buf_free(&headers);
}
