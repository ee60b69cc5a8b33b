/*
 * inspector.c - GET /inspect/01/{gtin}/10/{lot}: the full signed record of
 * a lot for inspectors, regulators and auditors (docs/PROTOCOL.md section 11.15): every
 * event with its decoded payload, its signer's key entry, statement id,
 * prev link, log index and whether its inclusion proof checked, plus the
 * bundle and how to verify it offline without trusting this server.
 *
 * Payloads are pretty-printed from the parsed JSON and written with
 * buf_html, so a payload is shown exactly as signed and never as markup.
 *
 * A long chain's events come in pages of INSPECT_PAGE_EVENTS (?page=, 1
 * the oldest), so one request renders O(page) events; the verdict, the
 * status and the head stay the whole lot's (the cached fold and verdict
 * of chainview.c and verdict.c).  Links to an event of another page
 * (a prev, a correction, a recall) name its page.
 */
#include <stdio.h>
#include <string.h>

#include "libtrace/note.h"
#include "libtrace/timefmt.h"
#include "log.h"
#include "pages.h"
#include "parse.h"

/* Events per inspector page, and the most pages a chain can have (seq
 * is at most 2^53 - 1): ?page= is 1 to that, in at most 14 digits. */
#define INSPECT_PAGE_EVENTS 100
#define INSPECT_PAGE_DIGITS 14

/* The events one inspector page renders: seq first to end - 1. */
struct inspect_page {
	size_t first, end;
	enum page_lang lang;
};

/* href="..." of event i: an anchor on this page, else its page's. */
static void
event_href(struct buf *b, const struct inspect_page *pg, size_t i)
{
	if (i >= pg->first && i < pg->end)
		buf_printf(b, "#ev-%zu", i);
	else
		buf_printf(b, "?page=%zu&amp;lang=%s#ev-%zu",
		    i / INSPECT_PAGE_EVENTS + 1, i18n_tag(pg->lang), i);
}

static void
signer_rows(struct request *req, struct buf *b, enum page_lang lang,
    const char *keyid)
{
	struct key_state st;
	struct trace_error err;
	bool found = false;

	buf_puts(b, "<dt>");
	i18n_html(b, lang, "insp.signer");
	buf_puts(b, "</dt><dd>");
	if (key_cache_get(req->srv, req->worker->store, keyid, &st, &found,
	    &err) == TRACE_OK && found) {
		buf_puts(b, "<strong>");
		buf_html_cstr(b, st.entry.name);
		buf_puts(b, "</strong>, ");
		buf_html_cstr(b, key_state_org_name(&st, lang == LANG_ZH));
		buf_puts(b, " <span class=\"muted\">(");
		i18n_html(b, lang, "insp.role");
		buf_printf(b, ": %s)</span>", key_role_name(st.entry.role));
		if (st.revoked) {
			buf_puts(b, " <span class=\"bad-text\">");
			i18n_html(b, lang, "insp.revoked");
			buf_puts(b, ": ");
			buf_html_cstr(b, st.revoke_reason);
			buf_puts(b, "</span>");
		}
	} else {
		buf_puts(b, "<span class=\"bad-text\">");
		i18n_html(b, lang, "insp.unknownkey");
		buf_puts(b, "</span>");
	}
	buf_puts(b, "<br><span class=\"mono\">");
	i18n_html(b, lang, "insp.keyid");
	buf_puts(b, " ");
	buf_html_cstr(b, keyid);
	buf_puts(b, "</span></dd>");
}

static void
payload_block(struct buf *b, const struct chain_item *it)
{
	struct json_writer *w = json_writer_new(true);
	const char *text;
	size_t len;

	buf_puts(b, "<pre class=\"payload\">");
	if (w != NULL) {
		json_writer_value(w, it->ev.root);
		if (json_writer_result(w, &text, &len, NULL) == TRACE_OK)
			buf_html(b, text, len);
		json_writer_free(w);
	}
	buf_puts(b, "</pre>");
}

static void
event_card(struct request *req, struct buf *b, const struct inspect_page *pg,
    const struct chain_view *v, size_t i, const struct verdict *vd)
{
	enum page_lang lang = pg->lang;
	const struct chain_item *it = &v->items[i];
	char key[64], when[64], size[24];

	snprintf(key, sizeof(key), "event.%s", event_type_name(it->ev.type));
	chain_item_time(it, when, sizeof(when));
	buf_printf(b, "<section class=\"card event\" id=\"ev-%zu\" "
	    "data-type=\"%s\"><h2><span class=\"seq\">#%zu</span> ", i,
	    event_type_name(it->ev.type), i);
	i18n_html(b, lang, key);
	buf_printf(b, " <span class=\"mono muted\">%s</span></h2><dl>",
	    event_type_name(it->ev.type));
	buf_puts(b, "<dt>");
	i18n_html(b, lang, "insp.time");
	buf_puts(b, "</dt><dd>");
	buf_html_cstr(b, when);
	buf_puts(b, "</dd>");
	signer_rows(req, b, lang, it->ev.signer);
	buf_puts(b, "<dt>");
	i18n_html(b, lang, "insp.statement");
	buf_printf(b, "</dt><dd class=\"mono\">%s</dd><dt>", it->rec->id);
	i18n_html(b, lang, "insp.prev");
	if (i == 0)
		buf_puts(b, "</dt><dd class=\"mono\">null</dd>");
	else
	{
		buf_puts(b, "</dt><dd class=\"mono\"><a href=\"");
		event_href(b, pg, i - 1);
		buf_printf(b, "\">%s</a></dd>", v->items[i - 1].rec->id);
	}
	buf_puts(b, "<dt>");
	i18n_html(b, lang, "insp.logindex");
	buf_printf(b, "</dt><dd class=\"mono\">%lld</dd><dt>",
	    it->rec->log_index);
	i18n_html(b, lang, "insp.proof");
	buf_puts(b, "</dt><dd class=\"proof\">");
	if (vd->event_ok != NULL && i < vd->event_count && vd->event_ok[i]) {
		snprintf(size, sizeof(size), "%llu",
		    (unsigned long long)vd->checkpoint_size);
		buf_puts(b, "<span class=\"ok-text\">\xe2\x9c\x93 ");
		i18n_html_args(b, lang, "insp.proof.ok", size, NULL, NULL);
		buf_puts(b, "</span>");
	} else if (vd->state == VERDICT_PENDING || vd->event_ok == NULL) {
		i18n_html(b, lang, "insp.proof.pending");
	} else {
		buf_puts(b, "<span class=\"bad-text\">\xe2\x9c\x97 ");
		i18n_html(b, lang, "insp.proof.fail");
		buf_puts(b, "</span>");
	}
	buf_puts(b, "</dd>");
	if (it->corrected_by != NULL) {
		buf_puts(b, "<dt>");
		i18n_html(b, lang, "event.correction");
		buf_puts(b, "</dt><dd><a href=\"");
		event_href(b, pg, (size_t)it->corrected_by->ev.seq);
		buf_printf(b, "\">#%lld</a>: ", it->corrected_by->ev.seq);
		buf_html_cstr(b, chain_item_data(it->corrected_by, "reason"));
		buf_puts(b, "</dd>");
	}
	/* SPEC 9: logged after the witnessed checkpoint. */
	if (it->pending) {
		bool held = chain_item_awaits_witnesses(it);

		buf_puts(b, "<dt class=\"pending\">");
		i18n_html(b, lang, "event.pending");
		buf_printf(b, "</dt><dd class=\"pending\" data-pending=\"%s\">",
		    held ? "awaiting-witnesses" : "counted");
		i18n_html(b, lang, held ? "event.pending.held" :
		    "event.pending.counted");
		buf_puts(b, "</dd>");
	}
	/* SPEC 8 "Data from round 1": labelled in every view. */
	if (it->round1) {
		buf_puts(b, "<dt class=\"round1\">");
		i18n_html(b, lang, "event.round1");
		buf_puts(b, "</dt><dd class=\"round1\">");
		if (it->ignored)
			i18n_html(b, lang, "event.ignored");
		buf_puts(b, "</dd>");
	}
	/* SPEC 8 "Revocation and compromise": flagged in every view. */
	if (it->compromised) {
		buf_puts(b, "<dt class=\"compromised\">");
		i18n_html(b, lang, "event.compromised");
		buf_puts(b, "</dt><dd class=\"compromised\">");
		if (it->ignored)
			i18n_html(b, lang, "event.ignored");
		buf_puts(b, "</dd>");
	}
	buf_puts(b, "</dl>");
	documents_render(req, b, lang, it);
	buf_puts(b, "<details open><summary>");
	i18n_html(b, lang, "insp.payload");
	buf_puts(b, "</summary>");
	payload_block(b, it);
	buf_puts(b, "</details></section>\n");
}

/* What the lot's statements add up to: the fold every view shows. */
static void
status_card(struct buf *b, const struct inspect_page *pg,
    const struct chain_view *v)
{
	enum page_lang lang = pg->lang;
	const struct fold_result *f = v->fold;
	char total[24], open[24];

	buf_puts(b, "<section class=\"card\" id=\"status\"><h2>");
	i18n_html(b, lang, "insp.status");
	buf_puts(b, "</h2><dl><dt>");
	i18n_html(b, lang, "insp.recalls");
	buf_printf(b, "</dt><dd id=\"status-recall\" data-open=\"%zu\">",
	    f->open_recalls);
	if (f->recall_count == 0) {
		i18n_html(b, lang, "insp.recalls.none");
	} else {
		snprintf(total, sizeof(total), "%zu", f->recall_count);
		snprintf(open, sizeof(open), "%zu", f->open_recalls);
		i18n_html_args(b, lang, "insp.recalls.open", total, open, NULL);
		buf_puts(b, "<ul>");
		for (size_t k = 0; k < f->recall_count; k++) {
			const struct fold_recall *rc = &f->recalls[k];
			char seq[24];

			buf_puts(b, "<li><a href=\"");
			event_href(b, pg, rc->statement);
			buf_printf(b, "\">#%zu</a> ", rc->statement);
			if (rc->open) {
				buf_puts(b, "<span class=\"bad-text\">");
				i18n_html(b, lang, "insp.open");
				buf_puts(b, "</span>");
			} else {
				snprintf(seq, sizeof(seq), "%zu", rc->closed_by);
				i18n_html_args(b, lang, "insp.closedby", seq,
				    NULL, NULL);
			}
			buf_puts(b, "</li>");
		}
		buf_puts(b, "</ul>");
	}
	buf_puts(b, "</dd><dt>");
	i18n_html(b, lang, "insp.inspection");
	buf_printf(b, "</dt><dd id=\"status-inspection\" data-status=\"%s\" "
	    "class=\"%s\">", fold_inspection_name(f->inspection),
	    f->inspection == FOLD_INSPECTION_FAIL ? "bad-text" :
	    f->inspection == FOLD_INSPECTION_PASS ? "ok-text" : "");
	i18n_html(b, lang, f->inspection == FOLD_INSPECTION_PASS ?
	    "inspection.pass" : f->inspection == FOLD_INSPECTION_FAIL ?
	    "inspection.fail" : "badge.notinspected");
	buf_puts(b, "</dd><dt>");
	i18n_html(b, lang, "customs.status");
	buf_printf(b, "</dt><dd id=\"status-customs\" data-status=\"%s\">",
	    fold_customs_name(f->customs));
	i18n_html(b, lang, f->customs == FOLD_CUSTOMS_RELEASED ?
	    "customs.released" : f->customs == FOLD_CUSTOMS_DECLARED ?
	    "customs.declared" : "customs.none");
	buf_puts(b, "</dd></dl></section>\n");
}

static void
offline_card(struct request *req, struct buf *b, enum page_lang lang,
    const struct chain_view *v)
{
	char vkey[NOTE_VERIFIER_KEY_MAX];
	struct trace_error err;

	if (note_verifier_key_format(req->srv->cfg.log_origin,
	    req->srv->log_key.public_key, vkey, sizeof(vkey), &err) != TRACE_OK)
		snprintf(vkey, sizeof(vkey), "(see GET /api/v1/log)");
	buf_puts(b, "<section class=\"card\" id=\"offline\"><h2>");
	i18n_html(b, lang, "insp.offline");
	buf_puts(b, "</h2><p>");
	i18n_html(b, lang, "insp.offline.text");
	buf_puts(b, "</p><p><a id=\"bundle-link\" href=\"/api/v1/bundles/");
	buf_html_cstr(b, v->chain);
	buf_puts(b, "\" download=\"bundle.json\">");
	i18n_html(b, lang, "footer.bundle");
	buf_puts(b, "</a></p><pre id=\"verify-command\">curl -o bundle.json '");
	buf_html_cstr(b, req->srv->cfg.public_url);
	buf_puts(b, "/api/v1/bundles/");
	buf_html_cstr(b, v->chain);
	buf_puts(b, "'\ntrace-agent verify bundle.json --root ADMIN.pub "
	    "--log-vkey '");
	buf_html_cstr(b, vkey);
	buf_puts(b, "'</pre><dl><dt>");
	i18n_html(b, lang, "insp.root");
	buf_puts(b, "</dt><dd class=\"mono\">");
	buf_html_cstr(b, req->srv->root.entry.keyid);
	buf_puts(b, "</dd><dt>");
	i18n_html(b, lang, "insp.vkey");
	buf_puts(b, "</dt><dd class=\"mono\">");
	buf_html_cstr(b, vkey);
	buf_puts(b, "</dd></dl></section>\n");
}

/*
 * "Events a-b of n" with links to the earlier and later pages, when the
 * chain has more than one (relative links: only the query changes).
 */
static void
pager(struct buf *b, const struct inspect_page *pg, size_t count,
    const char *id)
{
	char from[24], to[24], total[24];
	size_t page = pg->first / INSPECT_PAGE_EVENTS + 1;

	if (count <= INSPECT_PAGE_EVENTS)
		return;
	snprintf(from, sizeof(from), "%zu", pg->first);
	snprintf(to, sizeof(to), "%zu", pg->end - 1);
	snprintf(total, sizeof(total), "%zu", count);
	buf_printf(b, "<nav class=\"card pager\" id=\"%s\"><p>", id);
	i18n_html_args(b, pg->lang, "insp.events", from, to, total);
	buf_puts(b, "</p><p>");
	if (page > 1) {
		buf_printf(b, "<a rel=\"prev\" class=\"earlier\" "
		    "href=\"?page=%zu&amp;lang=%s\">", page - 1,
		    i18n_tag(pg->lang));
		i18n_html(b, pg->lang, "insp.earlier");
		buf_puts(b, "</a> ");
	}
	if (pg->end < count) {
		buf_printf(b, "<a rel=\"next\" class=\"later\" "
		    "href=\"?page=%zu&amp;lang=%s\">", page + 1,
		    i18n_tag(pg->lang));
		i18n_html(b, pg->lang, "insp.later");
		buf_puts(b, "</a>");
	}
	buf_puts(b, "</p></nav>\n");
}

/* ?page=: 1 (the oldest events) when absent. */
static enum trace_status
page_param(const struct query_fields *q, size_t *page,
    struct trace_error *err)
{
	const struct query_field *f = parse_query_get(q, "page");
	size_t n = 0;

	*page = 1;
	if (f == NULL || f->value == NULL || f->value_len == 0)
		return TRACE_OK;
	if (f->value_len > INSPECT_PAGE_DIGITS || f->value[0] == '0')
		goto bad;
	for (size_t i = 0; i < f->value_len; i++) {
		if (f->value[i] < '0' || f->value[i] > '9')
			goto bad;
		n = n * 10 + (size_t)(f->value[i] - '0');
	}
	*page = n;
	return TRACE_OK;
bad:
	return trace_error_set(err, TRACE_EMALFORMED, "bad_parameter", "page",
	    "page is a number from 1");
}

/* The page cache's variants of inspector pages (after the resolver's). */
#define INSPECTOR_VARIANT PAGECACHE_INSPECTOR

void
inspector_handle(struct request *req)
{
	const char *rest = req->path + strlen("/inspect");
	struct gs1_link link;
	struct chain_view view;
	struct trace_error err;
	struct verdict vd;
	struct inspect_page pg;
	enum page_lang lang;
	size_t page = 1;
	char path[600], title[400];
	size_t name_len = 0;
	const char *name;
	struct buf b;

	memset(&view, 0, sizeof(view));
	if (gs1_link_parse_path(rest, strlen(rest), &link, &err) != TRACE_OK)
		goto fail;
	if (link.lot[0] == '\0' || link.serial[0] != '\0') {
		trace_error_set(&err, TRACE_EMALFORMED, "invalid_link", "path",
		    "the inspector page is /inspect/01/{gtin}/10/{lot}");
		goto fail;
	}
	/* ?lang= (i18n_negotiate reads it) and ?page=; others are ignored. */
	{
		static const char *const allowed[] = { "lang", "page", NULL };
		struct query_fields query;
		enum trace_status rc;

		if (parse_query(req->info->query_string, allowed,
		    PARSE_UNKNOWN_IGNORED, &query, &err) != TRACE_OK)
			goto fail;
		rc = page_param(&query, &page, &err);
		parse_query_clear(&query);
		if (rc != TRACE_OK)
			goto fail;
	}
	lang = i18n_negotiate(req);
	/* A popular lot's first page is served from memory for
	 * PAGE_CACHE_MS, like the lot page; later pages are O(page) to
	 * render from the cached view. */
	if (page == 1) {
		char chain[CHAIN_ID_MAX + 1];

		gs1_chain_id(link.gtin, link.lot, chain, sizeof(chain));
		buf_init(&b, 0);
		if (pagecache_get(chain, INSPECTOR_VARIANT + (int)lang,
		    witness_pending_from(req), &b)) {
			page_send(req, 200, &b, lang, NULL);
			buf_free(&b);
			return;
		}
		buf_free(&b);
	}
	if (chain_view_load(req, &link, false, &view, &err) != TRACE_OK)
		goto fail;
	if (page > (view.count + INSPECT_PAGE_EVENTS - 1) / INSPECT_PAGE_EVENTS) {
		trace_error_set(&err, TRACE_EMALFORMED, "bad_parameter", "page",
		    "page %zu is past the last page of the lot's %zu events",
		    page, view.count);
		goto fail;
	}
	pg.lang = lang;
	pg.first = (page - 1) * INSPECT_PAGE_EVENTS;
	pg.end = view.count - pg.first > INSPECT_PAGE_EVENTS ?
	    pg.first + INSPECT_PAGE_EVENTS : view.count;
	verdict_get(req, &view, true, &vd);
	name = chain_view_name(&view, lang, &name_len);
	snprintf(title, sizeof(title), "%s: %.*s", i18n_get(lang, "insp.title"),
	    name != NULL ? (int)name_len : 0, name != NULL ? name : "");
	snprintf(path, sizeof(path), "/inspect/%s", view.chain);
	buf_init(&b, 0);
	page_open(&b, lang, title, strlen(title), false);
	page_bar(&b, lang, path);
	buf_puts(&b, "<main><section class=\"card\"><h1>");
	i18n_html(&b, lang, "insp.title");
	buf_puts(&b, "</h1><p class=\"muted\">");
	i18n_html(&b, lang, "insp.intro");
	buf_puts(&b, "</p><dl><dt>");
	i18n_html(&b, lang, "insp.chain");
	buf_puts(&b, "</dt><dd class=\"mono\">");
	buf_html_cstr(&b, view.chain);
	buf_puts(&b, "</dd>");
	if (name != NULL) {
		buf_puts(&b, "<dt>");
		i18n_html(&b, lang, "product.title");
		buf_puts(&b, "</dt><dd>");
		buf_html(&b, name, name_len);
		buf_puts(&b, "</dd>");
	}
	buf_puts(&b, "<dt>");
	i18n_html(&b, lang, "insp.head");
	buf_printf(&b, "</dt><dd class=\"mono\">#%zu %s</dd><dt>",
	    view.count - 1, view.items[view.count - 1].rec->id);
	i18n_html(&b, lang, "insp.verdict");
	buf_printf(&b, "</dt><dd id=\"server-verdict\" class=\"%s\">",
	    vd.state == VERDICT_GENUINE ? "ok-text" : "bad-text");
	i18n_html(&b, lang, vd.state == VERDICT_GENUINE ? "verdict.genuine" :
	    "verdict.unverifiable");
	if (vd.state != VERDICT_GENUINE) {
		buf_puts(&b, ": ");
		buf_html_cstr(&b, vd.reason);
	}
	if (vd.state == VERDICT_GENUINE && req->srv->witness_policy != NULL) {
		char when[21];

		buf_puts(&b, "</dd><dt>");
		i18n_html(&b, lang, "insp.witnesses");
		buf_puts(&b, "</dt><dd id=\"witnessed\">");
		time_format_utc(vd.witnessed_at, when);
		if (vd.witnessed)
			i18n_html_args(&b, lang, "verdict.witnessed",
			    vd.witnesses, when, NULL);
		else
			i18n_html(&b, lang, "verdict.unwitnessed");
	}
	buf_puts(&b, "</dd></dl><p><a href=\"");
	{
		char consumer[512];

		gs1_link_format("", &link, consumer, sizeof(consumer));
		buf_html_cstr(&b, consumer);
	}
	buf_printf(&b, "?lang=%s\">", i18n_tag(lang));
	i18n_html(&b, lang, "insp.consumer");
	buf_puts(&b, "</a></p></section>\n");
	status_card(&b, &pg, &view);
	offline_card(req, &b, lang, &view);
	pager(&b, &pg, view.count, "pager-top");
	for (size_t i = pg.first; i < pg.end; i++)
		event_card(req, &b, &pg, &view, i, &vd);
	pager(&b, &pg, view.count, "pager-bottom");
	buf_puts(&b, "</main>");
	page_close(&b);
	if (vd.state != VERDICT_PENDING && page == 1)
		pagecache_put(view.chain, INSPECTOR_VARIANT + (int)lang,
		    witness_pending_from(req), &b);
	page_send(req, 200, &b, lang, NULL);
	buf_free(&b);
	verdict_clear(&vd);
	chain_view_free(&view);
	return;
fail:
	chain_view_free(&view);
	page_send_error(req, &err);
}
