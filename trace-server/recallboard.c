/*
 * recallboard.c - GET /recalls: the importer's recall board (issue 7).
 *
 * One server-rendered page answers "what is recalled, since when, and
 * where did it go": open recalls first, then closed ones, each newest
 * receipt first (SPEC 8: log order, whatever time the issuer signed),
 * filtered by a plain GET form (the same filters and cursor as
 * GET /api/v1/recalls), each with a link to its lot's inspector page and
 * the lot's warehouse.dispatched events in force (destination, quantity,
 * time; the chain's fold leaves out those a correction withdrew),
 * read from the chains of the page in one pipelined round trip.  Pages
 * share page.c's skeleton and headers (CSP: no inline script at all).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/dsse.h"
#include "libtrace/timefmt.h"
#include "pages.h"
#include "log.h"
#include "recalls.h"

#define BOARD_OPEN_MAX 100            /* open recalls shown without a filter */
#define BOARD_CLOSED_MAX 25           /* closed recalls shown without a filter */
#define BOARD_DISPATCH_MAX 50         /* dispatches shown per lot */

/* One recall of the page, parsed, with the dispatches of its chain. */
struct board_row {
	struct json_doc *doc;
	const struct json_value *recall;
	char chain[CHAIN_ID_MAX + 1];
	size_t chain_slot;              /* index into the chains read */
};

static const char *
str(const struct json_value *obj, const char *key, size_t *len)
{
	const char *s = NULL;
	size_t n = 0;

	json_get_string(obj, key, false, &s, &n, NULL);
	if (len != NULL)
		*len = s != NULL ? n : 0;
	return s;
}

/* "2026-11-20T08:30:00Z" as "2026-11-20 08:30 UTC". */
static void
write_utc(struct buf *b, const char *s, size_t len)
{
	if (s == NULL)
		return;
	if (len == 20 && s[10] == 'T' && s[19] == 'Z') {
		buf_html(b, s, 10);
		buf_puts(b, " ");
		buf_html(b, s + 11, 5);
		buf_puts(b, " UTC");
		return;
	}
	buf_html(b, s, len);
}

/* ?name=value&... of the current filters, for links (escaped later). */
static void
filter_query(struct buf *b, const struct recall_query *q, const char *status,
    const char *cursor, enum page_lang lang, bool csv)
{
	char sep = '?';
	const char *const names[] = { "gtin", "lot", "org", "since", "until",
		"status", "cursor" };
	const char *values[] = { q->gtin, q->lot, q->org, q->since_text,
		q->until_text, status, cursor };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (values[i] == NULL || values[i][0] == '\0')
			continue;
		buf_printf(b, "%c%s=", sep, names[i]);
		buf_url_component(b, values[i], strlen(values[i]));
		sep = '&';
	}
	if (csv)
		buf_printf(b, "%cformat=csv", sep);
	else
		buf_printf(b, "%clang=%s", sep, i18n_tag(lang));
}

static void
write_form(struct buf *b, const struct recall_query *q, enum page_lang lang)
{
	static const struct {
		const char *name, *label, *type;
	} fields[] = {
		{ "gtin", "board.gtin", "text" },
		{ "lot", "board.lot", "text" },
		{ "org", "board.org", "text" },
		{ "since", "board.since", "date" },
		{ "until", "board.until", "date" },
	};
	const char *values[] = { q->gtin, q->lot, q->org, q->since_text,
		q->until_text };
	struct buf csv;

	buf_puts(b, "<form class=\"card filters\" method=\"get\" "
	    "action=\"/recalls\">");
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		buf_printf(b, "<label>");
		i18n_html(b, lang, fields[i].label);
		/* A full RFC 3339 time does not fit a date input. */
		buf_printf(b, " <input name=\"%s\" type=\"%s\" value=\"",
		    fields[i].name, strlen(values[i]) > 10 ? "text" :
		    fields[i].type);
		buf_html_cstr(b, values[i]);
		buf_puts(b, "\"></label> ");
	}
	buf_puts(b, "<label>");
	i18n_html(b, lang, "board.status");
	buf_puts(b, " <select name=\"status\">");
	for (int s = 0; s < 3; s++) {
		static const char *const keys[] = { "board.status.any",
			"board.status.open", "board.status.closed" };
		static const char *const values_s[] = { "", "open", "closed" };

		buf_printf(b, "<option value=\"%s\"%s>", values_s[s],
		    (int)q->status == s ? " selected" : "");
		i18n_html(b, lang, keys[s]);
		buf_puts(b, "</option>");
	}
	buf_printf(b, "</select></label> <input type=\"hidden\" name=\"lang\" "
	    "value=\"%s\"> <button type=\"submit\">", i18n_tag(lang));
	i18n_html(b, lang, "board.apply");
	buf_puts(b, "</button> <a href=\"");
	buf_init(&csv, 0);
	buf_puts(&csv, "/api/v1/recalls");
	filter_query(&csv, q, q->status == RECALL_OPEN_ONLY ? "open" :
	    q->status == RECALL_CLOSED_ONLY ? "closed" : NULL, NULL, lang, true);
	buf_html(b, csv.data, csv.len);
	buf_free(&csv);
	buf_puts(b, "\">");
	i18n_html(b, lang, "board.csv");
	buf_puts(b, "</a></form>\n");
}

/*
 * The warehouse.dispatched events of a chain's records that are in force:
 * the chain's fold (chain_fold, with each signer's role and org from
 * the key cache) says which a correction withdrew, and those are not
 * shown.  A page shows what it can: a record that does not parse is
 * passed over, and if the fold cannot be run (the store went away while
 * the key cache asked it) the dispatches are shown unfolded rather than
 * hiding where a recalled lot went.
 */
static void
write_dispatches(struct request *req, struct buf *b,
    const struct store_records *records, enum page_lang lang)
{
	struct trace_event *events = calloc(records->count + 1,
	    sizeof(*events));
	struct fold_statement *st = calloc(records->count + 1, sizeof(*st));
	struct fold_result fold;
	struct trace_error ignored;
	size_t shown = 0, n = 0;
	bool folded = false;

	memset(&fold, 0, sizeof(fold));
	buf_puts(b, "<h3>");
	i18n_html(b, lang, "board.dispatched");
	buf_puts(b, "</h3>");
	if (events == NULL || st == NULL)
		goto none;
	for (size_t i = 0; i < records->count; i++) {
		const struct store_record *rec = &records->items[i];

		if (statement_read_event(rec, NULL, &events[n], NULL) !=
		    TRACE_OK)
			continue;
		st[n] = (struct fold_statement){ .ev = &events[n],
			.id = rec->id, .log_index = rec->log_index };
		n++;
	}
	folded = chain_fold(req, st, n, &fold, &ignored) == TRACE_OK;
	for (size_t k = 0; k < n && shown < BOARD_DISPATCH_MAX; k++) {
		const struct trace_event *ev = &events[k];
		const char *s;
		char when[26];
		long long quantity;

		if (ev->type != EVENT_WAREHOUSE_DISPATCHED ||
		    (folded && fold.statements[k].withdrawn_by != FOLD_NONE))
			continue;
		if (shown++ == 0) {
			buf_puts(b, "<table class=\"dispatches\"><tr><th>");
			i18n_html(b, lang, "board.time");
			buf_puts(b, "</th><th>");
			i18n_html(b, lang, "board.warehouse");
			buf_puts(b, "</th><th>");
			i18n_html(b, lang, "board.destination");
			buf_puts(b, "</th><th>");
			i18n_html(b, lang, "board.quantity");
			buf_puts(b, "</th></tr>");
		}
		time_format_offset(ev->time, ev->offset_min, when);
		buf_puts(b, "<tr><td>");
		buf_html_cstr(b, when);
		buf_puts(b, "</td><td>");
		if ((s = event_data_string(ev, "warehouse")) != NULL)
			buf_html_cstr(b, s);
		buf_puts(b, "</td><td>");
		if ((s = event_data_string(ev, "destination")) != NULL)
			buf_html_cstr(b, s);
		buf_puts(b, "</td><td>");
		if (json_object_get(ev->data, "quantity") != NULL &&
		    json_get_int(ev->data, "quantity", false, &quantity,
		    NULL) == TRACE_OK)
			buf_printf(b, "%lld", quantity);
		buf_puts(b, "</td></tr>");
	}
none:
	if (shown > 0) {
		buf_puts(b, "</table>");
	} else {
		buf_puts(b, "<p class=\"muted\">");
		i18n_html(b, lang, "board.nodispatch");
		buf_puts(b, "</p>");
	}
	fold_result_clear(&fold);
	for (size_t k = 0; k < n; k++)
		event_free(&events[k]);
	free(events);
	free(st);
}

static void
write_serials(struct buf *b, const struct json_value *serials,
    enum page_lang lang)
{
	if (serials == NULL || serials->type != JSON_ARRAY) {
		i18n_html(b, lang, "board.wholelot");
		return;
	}
	for (size_t i = 0; i < serials->u.array.count; i++) {
		const struct json_value *r = serials->u.array.items[i];

		if (r->type != JSON_ARRAY || r->u.array.count != 2)
			continue;
		if (i > 0)
			buf_puts(b, ", ");
		buf_html(b, r->u.array.items[0]->u.string.ptr,
		    r->u.array.items[0]->u.string.len);
		buf_puts(b, "\xE2\x80\x93");          /* en dash */
		buf_html(b, r->u.array.items[1]->u.string.ptr,
		    r->u.array.items[1]->u.string.len);
	}
}

static void
write_row(struct request *req, struct buf *b, const struct board_row *row,
    const struct store_records *records, enum page_lang lang)
{
	const struct json_value *r = row->recall;
	struct gs1_link link;
	char path[CHAIN_ID_MAX + 32], key[32];
	const char *s, *outcome;
	char signer[KEYID_LEN + 1];
	struct key_state issuer;
	struct trace_error err;
	bool found = false;
	size_t len;
	long long severity = 0;
	bool open;

	memset(&link, 0, sizeof(link));
	snprintf(link.gtin, sizeof(link.gtin), "%s", str(r, "gtin", NULL) ?
	    str(r, "gtin", NULL) : "");
	snprintf(link.lot, sizeof(link.lot), "%s", str(r, "lot", NULL) ?
	    str(r, "lot", NULL) : "");
	gs1_link_format("/inspect", &link, path, sizeof(path));
	s = str(r, "status", NULL);
	open = s != NULL && strcmp(s, "open") == 0;
	json_get_int(r, "severity", false, &severity, NULL);
	buf_printf(b, "<article class=\"card %s\"><h2>", open ? "recall" :
	    "closed");
	buf_html_cstr(b, link.gtin);
	buf_puts(b, " / ");
	buf_html_cstr(b, link.lot);
	buf_puts(b, " <span class=\"badge ");
	buf_puts(b, open ? "bad\">" : "no\">");
	i18n_html(b, lang, open ? "board.status.open" : "board.status.closed");
	/* SPEC 9: closed by a statement the witnesses have not cosigned. */
	if (open && json_object_get(r, "pendingClose") != NULL) {
		buf_puts(b, "</span> <span class=\"badge\" "
		    "data-pending=\"awaiting-witnesses\">");
		i18n_html(b, lang, "board.closing");
	}
	buf_puts(b, "</span></h2><dl><dt>");
	i18n_html(b, lang, "recall.severity");
	buf_puts(b, "</dt><dd>");
	snprintf(key, sizeof(key), "recall.severity.%lld", severity);
	i18n_html(b, lang, key);
	buf_puts(b, "</dd><dt>");
	i18n_html(b, lang, "board.issued");
	buf_puts(b, "</dt><dd>");
	s = str(r, "issued", &len);
	write_utc(b, s, len);
	buf_puts(b, "</dd><dt>");
	/* SPEC 8: the board's order is this one, the log's receipt time. */
	i18n_html(b, lang, "board.received");
	buf_puts(b, "</dt><dd>");
	if ((s = str(r, "received", &len)) != NULL)
		write_utc(b, s, len);
	else
		i18n_html(b, lang, "board.received.pending");
	buf_puts(b, "</dd><dt>");
	i18n_html(b, lang, "board.issuer");
	buf_puts(b, "</dt><dd>");
	/* SPEC 8: the issuer's registered org name, not its id or text. */
	if ((s = str(r, "signer", &len)) != NULL && len == KEYID_LEN &&
	    (memcpy(signer, s, len), signer[len] = '\0',
	    key_cache_get(req->srv, req->worker->store, signer, &issuer, &found,
	    &err)) == TRACE_OK && found && issuer.org_known)
		buf_html_cstr(b, key_state_org_name(&issuer, lang == LANG_ZH));
	else if ((s = str(r, "org", &len)) != NULL)
		buf_html(b, s, len);
	buf_puts(b, "</dd><dt>");
	i18n_html(b, lang, "recall.reason");
	buf_puts(b, "</dt><dd>");
	if ((s = str(r, "reason", &len)) != NULL)
		buf_html(b, s, len);
	buf_puts(b, "</dd><dt>");
	i18n_html(b, lang, "recall.action");
	buf_puts(b, "</dt><dd>");
	if ((s = str(r, "action", &len)) != NULL)
		buf_html(b, s, len);
	buf_puts(b, "</dd><dt>");
	i18n_html(b, lang, "board.serials");
	buf_puts(b, "</dt><dd>");
	write_serials(b, json_object_get(r, "serials"), lang);
	buf_puts(b, "</dd>");
	if ((s = str(r, "contact", &len)) != NULL) {
		buf_puts(b, "<dt>");
		i18n_html(b, lang, "board.contact");
		buf_puts(b, "</dt><dd>");
		buf_html(b, s, len);
		buf_puts(b, "</dd>");
	}
	if (!open) {
		buf_puts(b, "<dt>");
		i18n_html(b, lang, "board.closedat");
		buf_puts(b, "</dt><dd>");
		s = str(r, "closed", &len);
		write_utc(b, s, len);
		buf_puts(b, "</dd><dt>");
		i18n_html(b, lang, "board.outcome");
		buf_puts(b, "</dt><dd>");
		outcome = str(r, "outcome", NULL);
		if (outcome != NULL && (strcmp(outcome, "released") == 0 ||
		    strcmp(outcome, "destroyed") == 0)) {
			snprintf(key, sizeof(key), "board.outcome.%s", outcome);
			i18n_html(b, lang, key);
		}
		buf_puts(b, "</dd>");
	}
	buf_puts(b, "</dl><p><a href=\"");
	buf_html_cstr(b, path);
	buf_printf(b, "?lang=%s\">", i18n_tag(lang));
	i18n_html(b, lang, "board.inspect");
	buf_puts(b, "</a></p>");
	write_dispatches(req, b, records, lang);
	buf_puts(b, "</article>\n");
}

/*
 * One section: the recalls of page, each with its chain's dispatches
 * (every chain read in one round trip), and a "more" link for the next
 * page.
 */
static enum trace_status
write_section(struct request *req, struct buf *b, const char *title_key,
    const struct recall_query *q, const struct recall_page *page,
    const char *status, enum page_lang lang, struct trace_error *err)
{
	static const struct json_limits limits = {
		.max_size = 64 * 1024, .max_depth = 8,
		.max_string = 8 * 1024, .max_values = 4096,
	};
	struct board_row *rows = calloc(page->count + 1, sizeof(*rows));
	const char **names = calloc(page->count + 1, sizeof(*names));
	struct store_records *chains = calloc(page->count + 1,
	    sizeof(*chains));
	size_t nchains = 0;
	enum trace_status rc = TRACE_OK;

	if (rows == NULL || names == NULL || chains == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	for (size_t i = 0; i < page->count; i++) {
		struct board_row *row = &rows[i];
		const char *chain;
		size_t len, k;

		if (json_parse(page->rows[i].json, page->rows[i].json_len, &limits,
		    &row->doc, NULL) != TRACE_OK) {
			rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt",
			    NULL, "a stored recall is malformed");
			goto out;
		}
		row->recall = json_doc_root(row->doc);
		chain = str(row->recall, "chain", &len);
		snprintf(row->chain, sizeof(row->chain), "%s", chain != NULL ?
		    chain : "");
		/* Several recalls of one lot share its read. */
		for (k = 0; k < i; k++)
			if (strcmp(rows[k].chain, row->chain) == 0)
				break;
		if (k < i) {
			row->chain_slot = rows[k].chain_slot;
			continue;
		}
		row->chain_slot = nchains;
		names[nchains++] = row->chain;
	}
	if ((rc = store_chains(req->worker->store, names, nchains, chains,
	    err)) != TRACE_OK)
		goto out;
	buf_puts(b, "<section><h1>");
	i18n_html(b, lang, title_key);
	buf_puts(b, "</h1>\n");
	if (page->count == 0) {
		buf_puts(b, "<p class=\"muted\">");
		i18n_html(b, lang, "board.none");
		buf_puts(b, "</p>");
	}
	for (size_t i = 0; i < page->count; i++)
		write_row(req, b, &rows[i], &chains[rows[i].chain_slot], lang);
	if (page->next[0] != '\0') {
		struct buf more;

		buf_init(&more, 0);
		buf_puts(&more, "/recalls");
		filter_query(&more, q, status, page->next, lang, false);
		buf_puts(b, "<p><a href=\"");
		buf_html(b, more.data, more.len);
		buf_puts(b, "\">");
		i18n_html(b, lang, "board.more");
		buf_puts(b, "</a></p>");
		buf_free(&more);
	}
	buf_puts(b, "</section>\n");
out:
	for (size_t i = 0; rows != NULL && i < page->count; i++)
		json_doc_free(rows[i].doc);
	for (size_t i = 0; chains != NULL && i < nchains; i++)
		store_records_clear(&chains[i]);
	free(chains);
	free(names);
	free(rows);
	return rc;
}

void
recalls_handle_board(struct request *req)
{
	static const char *const allowed[] = { "gtin", "lot", "status",
		"since", "until", "org", "cursor", "lang", NULL };
	struct query_fields params;
	struct recall_query q, sq;
	struct recall_page page;
	struct trace_error err;
	enum page_lang lang = i18n_negotiate(req);
	const char *title;
	struct buf b;

	memset(&page, 0, sizeof(page));
	buf_init(&b, 0);
	if (parse_query(req->info->query_string, allowed,
	    PARSE_UNKNOWN_REFUSED, &params, &err) != TRACE_OK) {
		page_send_error(req, &err);
		return;
	}
	if (recalls_query_from_params(&params, &q, &err) != TRACE_OK)
		goto fail;
	title = i18n_get(lang, "board.title");
	page_open(&b, lang, title != NULL ? title : "Recalls",
	    title != NULL ? strlen(title) : 7, false);
	page_bar(&b, lang, "/recalls");
	buf_puts(&b, "<main class=\"board\">\n");
	write_form(&b, &q, lang);
	/* Open recalls first: without a status filter, two sections. */
	for (int s = 0; s < 2; s++) {
		enum recall_filter_status want = s == 0 ? RECALL_OPEN_ONLY :
		    RECALL_CLOSED_ONLY;

		if (q.status != RECALL_ANY && q.status != want)
			continue;
		sq = q;
		sq.status = want;
		if (q.status == RECALL_ANY) {
			/* The cursor belongs to one status's walk. */
			sq.cursor[0] = '\0';
			sq.limit = s == 0 ? BOARD_OPEN_MAX : BOARD_CLOSED_MAX;
		}
		sq.pending_from = witness_pending_from(req);
		if (recalls_list(req->worker->store, &sq, &page, &err) !=
		    TRACE_OK ||
		    write_section(req, &b, s == 0 ? "board.open" :
		    "board.closed", &q, &page, s == 0 ? "open" : "closed", lang,
		    &err) != TRACE_OK)
			goto fail;
		recall_page_clear(&page);
	}
	buf_puts(&b, "</main>\n");
	page_close(&b);
	page_send(req, 200, &b, lang, NULL);
	goto out;
fail:
	page_send_error(req, &err);
out:
	recall_page_clear(&page);
	parse_query_clear(&params);
	buf_free(&b);
}
