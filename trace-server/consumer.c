/*
 * consumer.c - the page a QR code opens (docs/PROTOCOL.md section 11.13): in a
 * few seconds on a phone, is this genuine, inspected, cleared by customs,
 * not recalled, and (for a unit with a serial) how often was this code
 * scanned.
 *
 * Order on the page is order of importance: a recall banner (red, before
 * anything else), the verdict, the product, the pre-shipment inspection,
 * the route and customs as a timeline, the scan counter.  The page is
 * complete without JavaScript; /static/verify.js only adds the check on
 * the device.  Everything a signer wrote goes through buf_html; the page
 * is rendered from the one read of chain_view_load and the cached verdict.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "libtrace/timefmt.h"
#include "pages.h"
#include "units.h"


/* <dt>label</dt><dd>value</dd> for a signer's text, if present. */
static void
row(struct buf *b, enum page_lang lang, const char *label, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	buf_puts(b, "<dt>");
	i18n_html(b, lang, label);
	buf_puts(b, "</dt><dd>");
	buf_html_cstr(b, value);
	buf_puts(b, "</dd>");
}

/* A country code with its localized name: "韩国 (KR)". */
static void
country(struct buf *b, enum page_lang lang, const char *code)
{
	char key[32];
	const char *name;

	snprintf(key, sizeof(key), "country.%s", code);
	if ((name = i18n_get(lang, key)) != NULL) {
		buf_html_cstr(b, name);
		buf_puts(b, " (");
		buf_html_cstr(b, code);
		buf_puts(b, ")");
	} else {
		buf_html_cstr(b, code);
	}
}

/* A UN/LOCODE with its localized name when we know it. */
static void
port(struct buf *b, enum page_lang lang, const char *code)
{
	char key[32];
	const char *name;

	snprintf(key, sizeof(key), "port.%s", code);
	if (strlen(code) < 16 && (name = i18n_get(lang, key)) != NULL) {
		buf_html_cstr(b, name);
		buf_puts(b, " (");
		buf_html_cstr(b, code);
		buf_puts(b, ")");
	} else {
		buf_html_cstr(b, code);
	}
}

static void
date_of(const struct chain_item *it, char out[11])
{
	char when[64];

	chain_item_time(it, when, sizeof(when));
	snprintf(out, 11, "%.10s", when);
}

/* The signer's organisation from the registry (SPEC 8 "Organisations":
 * its registered org's name in the page's language, never what an event
 * or a signer claims; a round-1 key's free-text org). */
static bool
signer_org(struct request *req, enum page_lang lang, const char *keyid,
    char *out, size_t size, bool *registered)
{
	struct key_state st;
	struct trace_error err;
	bool found = false;
	const char *name;

	if (registered != NULL)
		*registered = false;
	if (key_cache_get(req->srv, req->worker->store, keyid, &st, &found,
	    &err) != TRACE_OK || !found)
		return false;
	if (registered != NULL)
		*registered = st.org_known;
	name = key_state_org_name(&st, lang == LANG_ZH);
	if (name[0] == '\0')
		return false;
	snprintf(out, size, "%s", name);
	return true;
}

static void
recall_banner(struct buf *b, enum page_lang lang, const struct chain_view *v)
{
	const struct chain_item *r = v->recall;
	long long severity = 0;
	char key[32], day[11];
	struct buf ranges;

	if (v->recall_state != RECALL_OPEN &&
	    v->recall_state != RECALL_OPEN_PARTIAL)
		return;
	buf_init(&ranges, 0);
	buf_puts(b, "<section class=\"recall\" id=\"recall\" role=\"alert\"><div>"
	    "<h1>\xe2\x9a\xa0 ");
	i18n_html(b, lang, "recall.title");
	buf_puts(b, "</h1><p>");
	if (v->recall_state == RECALL_OPEN) {
		i18n_html(b, lang, "recall.unit");
	} else {
		chain_recall_ranges(r, &ranges);
		i18n_html_args(b, lang, "recall.partial",
		    ranges.data != NULL ? ranges.data : "", NULL, NULL);
	}
	buf_puts(b, "</p><p class=\"action\">");
	i18n_html(b, lang, "recall.action");
	buf_puts(b, ": ");
	buf_html_cstr(b, chain_item_data(r, "action"));
	buf_puts(b, "</p><dl>");
	row(b, lang, "recall.reason", chain_item_data(r, "reason"));
	if (chain_item_int(r, "severity", &severity)) {
		snprintf(key, sizeof(key), "recall.severity.%lld", severity);
		buf_puts(b, "<dt>");
		i18n_html(b, lang, "recall.severity");
		buf_puts(b, "</dt><dd>");
		i18n_html(b, lang, key);
		buf_puts(b, "</dd>");
	}
	date_of(r, day);
	row(b, lang, "recall.issued", day);
	row(b, lang, "recall.contact", chain_item_data(r, "contact"));
	buf_puts(b, "</dl>");
	if (v->recall_closing != NULL) {
		buf_puts(b, "<p class=\"note info\" id=\"recall-closing\">");
		i18n_html(b, lang, "recall.closing");
		buf_puts(b, "</p>");
	}
	buf_puts(b, "</div></section>\n");
	buf_free(&ranges);
}

static const char *
recall_state_name(enum recall_state state)
{
	switch (state) {
	case RECALL_OPEN: return "open";
	case RECALL_OPEN_PARTIAL: return "open_partial";
	case RECALL_OPEN_OTHER: return "open_other";
	case RECALL_CLOSED: return "closed";
	default: return "none";
	}
}

/*
 * What verify.js needs to show the status it folds from the bundle itself
 * (SPEC 8 "One fold"): the serial asked about, the statuses rendered here
 * (so that it can say when it computes others: a server that lies is
 * caught on the device) and the texts of the badges, the customs line and
 * the recall banner (which it adds when the server left it out).
 */
static void
fold_attributes(struct buf *b, enum page_lang lang, const struct chain_view *v)
{
	static const struct { const char *attr, *key; } texts[] = {
		{ "inspected", "badge.inspected" },
		{ "failed", "badge.failed" },
		{ "notinspected", "badge.notinspected" },
		{ "cleared", "badge.cleared" },
		{ "notcleared", "badge.notcleared" },
		{ "recalled", "badge.recalled" },
		{ "notrecalled", "badge.notrecalled" },
		{ "customs-released", "customs.released" },
		{ "customs-declared", "customs.declared" },
		{ "customs-none", "customs.none" },
		{ "mismatch", "device.mismatch" },
		{ "recall-title", "recall.title" },
		{ "recall-unit", "recall.unit" },
		{ "recall-partial", "recall.partial" },
		{ "recall-action", "recall.action" },
		{ "never-issued", "unit.never_issued" },
		{ "never-issued-detail", "unit.never_issued.detail" },
	};

	buf_puts(b, " data-serial=\"");
	buf_html_cstr(b, v->link.serial);
	buf_printf(b, "\" data-recall-state=\"%s\" data-inspection=\"%s\" "
	    "data-customs=\"%s\"", recall_state_name(v->recall_state),
	    fold_inspection_name(v->fold->inspection),
	    fold_customs_name(v->fold->customs));
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		buf_printf(b, " data-msg-%s=\"", texts[i].attr);
		i18n_html(b, lang, texts[i].key);
		buf_puts(b, "\"");
	}
}

/*
 * What this page's own check rests on, said plainly (SPEC 10): the keys
 * came from this server.  With --verifier-url, a link to a verifier that
 * pins its keys elsewhere, with the lot in its fragment.
 */
static void
scope_line(struct buf *b, enum page_lang lang, struct request *req,
    const struct chain_view *v)
{
	const char *base = req->srv->cfg.verifier_url;
	struct buf url;

	buf_puts(b, "<p class=\"muted\" id=\"device-scope\">");
	i18n_html(b, lang, "device.scope");
	if (base[0] != '\0') {
		buf_init(&url, 0);
		buf_puts(&url, base);
		buf_puts(&url, "#01/");
		buf_puts(&url, v->link.gtin);
		buf_puts(&url, "/10/");
		buf_url_component(&url, v->link.lot, strlen(v->link.lot));
		if (v->link.serial[0] != '\0') {
			buf_puts(&url, "/21/");
			buf_url_component(&url, v->link.serial,
			    strlen(v->link.serial));
		}
		buf_puts(b, " <a id=\"independent-verifier\" "
		    "rel=\"noopener noreferrer\" href=\"");
		buf_html(b, url.data, url.len);
		buf_puts(b, "\">");
		i18n_html(b, lang, "device.independent");
		buf_puts(b, "</a>");
		buf_free(&url);
	}
	buf_puts(b, "</p>");
}

/* never_issued (SPEC 12): the record checks, but the unit's serial is not
 * one its brand issued: the card must not say "genuine" in green. */
static void
verdict_card(struct request *req, struct buf *b, enum page_lang lang,
    const struct chain_view *v, const struct verdict *vd, bool never_issued)
{
	char root[64], n1[24], n2[24], n3[24];
	const char *cls = vd->state == VERDICT_GENUINE && !never_issued ? "ok" :
	    vd->state == VERDICT_PENDING ? "wait" : "bad";
	/* SPEC 8 "Inspections": the fold's status, never one result. */
	enum fold_inspection_status inspection = v->fold->inspection;
	bool inspected_ok = inspection == FOLD_INSPECTION_PASS;
	bool recalled = v->recall_state == RECALL_OPEN ||
	    v->recall_state == RECALL_OPEN_PARTIAL;

	buf_printf(b, "<section class=\"card verdict %s\" id=\"verdict\" "
	    "data-verdict=\"%s\"><h1><span class=\"mark\" aria-hidden=\"true\">"
	    "%s</span>", cls, vd->state == VERDICT_GENUINE ? "genuine" :
	    vd->state == VERDICT_PENDING ? "pending" : "not_verifiable",
	    vd->state == VERDICT_GENUINE && !never_issued ? "\xe2\x9c\x93" :
	    vd->state == VERDICT_PENDING ? "\xe2\x80\xa6" : "\xe2\x9c\x97");
	i18n_html(b, lang, never_issued ? "verdict.never_issued" :
	    vd->state == VERDICT_GENUINE ? "verdict.genuine" :
	    "verdict.unverifiable");
	buf_puts(b, "</h1><p>");
	if (vd->state == VERDICT_GENUINE) {
		i18n_html(b, lang, never_issued ? "verdict.never_issued.detail" :
		    "verdict.genuine.detail");
		buf_puts(b, "</p><p class=\"muted\">");
		snprintf(n1, sizeof(n1), "%zu", vd->signatures);
		snprintf(n2, sizeof(n2), "%zu", vd->proofs);
		snprintf(n3, sizeof(n3), "%llu",
		    (unsigned long long)vd->checkpoint_size);
		i18n_html_args(b, lang, "verdict.checked", n1, n2, n3);
		if (vd->complete_size > 0) {
			/* SPEC 11: no event of the lot left out. */
			snprintf(n3, sizeof(n3), "%llu",
			    (unsigned long long)vd->complete_size);
			buf_puts(b, "</p><p class=\"muted\" id=\"complete-server\">");
			i18n_html_args(b, lang, "verdict.complete", n3, NULL,
			    NULL);
		}
		if (req->srv->witness_policy != NULL) {
			char when[21];

			buf_puts(b, "</p><p class=\"muted\" id=\"witnessed\">");
			time_format_utc(vd->witnessed_at, when);
			if (vd->witnessed)
				i18n_html_args(b, lang, "verdict.witnessed",
				    vd->witnesses, when, NULL);
			else
				i18n_html(b, lang, "verdict.unwitnessed");
		}
	} else if (vd->state == VERDICT_PENDING) {
		i18n_html(b, lang, "verdict.pending");
	} else if (strcmp(vd->code, "store_unavailable") == 0 ||
	    strcmp(vd->code, "store_error") == 0) {
		i18n_html(b, lang, "verdict.store");
	} else {
		/* The failing check, as bundle_verify() says it (English). */
		buf_puts(b, "<span class=\"mono\">");
		buf_html_cstr(b, vd->reason);
		buf_puts(b, "</span>");
	}
	buf_puts(b, "</p>");
	/* Filled by verify.js; hidden (and empty) without JavaScript. */
	page_root_key_base64(req->srv, root, sizeof(root));
	buf_puts(b, "<p class=\"device\" id=\"device-check\" hidden "
	    "aria-live=\"polite\" data-bundle=\"/api/v1/bundles/");
	buf_html_cstr(b, v->chain);
	buf_puts(b, "\" data-log=\"/api/v1/log\" data-root=\"");
	buf_html_cstr(b, root);
	buf_puts(b, "\" data-chain=\"");
	buf_html_cstr(b, v->chain);
	buf_printf(b, "\" data-head=\"%s\" data-count=\"%zu\"",
	    v->items[v->count - 1].rec->id, v->count);
	buf_puts(b, " data-msg-checking=\"");
	i18n_html(b, lang, "device.checking");
	buf_puts(b, "\" data-msg-ok=\"");
	i18n_html(b, lang, "device.ok");
	buf_puts(b, "\" data-msg-fail=\"");
	i18n_html(b, lang, "device.fail");
	buf_puts(b, "\" data-msg-unsupported=\"");
	i18n_html(b, lang, "device.unsupported");
	buf_puts(b, "\" data-msg-verdict=\"");
	i18n_html(b, lang, "verdict.unverifiable");
	buf_puts(b, "\"");
	fold_attributes(b, lang, v);
	buf_puts(b, "></p>");
	scope_line(b, lang, req, v);
	buf_puts(b, "<div class=\"badges\">");
	buf_printf(b, "<span class=\"badge %s\" id=\"badge-inspection\" "
	    "data-status=\"%s\">", inspection == FOLD_INSPECTION_NONE ? "no" :
	    inspected_ok ? "ok" : "bad", fold_inspection_name(inspection));
	i18n_html(b, lang, inspection == FOLD_INSPECTION_NONE ?
	    "badge.notinspected" : inspected_ok ? "badge.inspected" :
	    "badge.failed");
	buf_printf(b, "</span><span class=\"badge %s\" id=\"badge-customs\">",
	    v->released != NULL ? "ok" : "no");
	i18n_html(b, lang, v->released != NULL ? "badge.cleared" :
	    "badge.notcleared");
	buf_printf(b, "</span><span class=\"badge %s\" id=\"badge-recall\">",
	    recalled ? "bad" : "ok");
	i18n_html(b, lang, recalled ? "badge.recalled" : "badge.notrecalled");
	buf_puts(b, "</span></div></section>\n");
}

static void
product_card(struct buf *b, enum page_lang lang, const struct chain_view *v)
{
	const struct chain_item *p = v->product;
	size_t name_len = 0;
	const char *name = chain_view_name(v, lang, &name_len);
	const char *origin = chain_item_data(p, "origin");

	buf_puts(b, "<section class=\"card\" id=\"product\"><h2>");
	i18n_html(b, lang, "product.title");
	buf_puts(b, "</h2>");
	if (name != NULL) {
		buf_puts(b, "<h1 id=\"product-name\">");
		buf_html(b, name, name_len);
		buf_puts(b, "</h1>");
	}
	buf_puts(b, "<dl>");
	row(b, lang, "product.brand", chain_item_data(p, "brand"));
	if (origin != NULL) {
		buf_puts(b, "<dt>");
		i18n_html(b, lang, "product.origin");
		buf_puts(b, "</dt><dd>");
		country(b, lang, origin);
		buf_puts(b, "</dd>");
	}
	row(b, lang, "product.manufacturer", chain_item_data(p, "manufacturer"));
	row(b, lang, "product.spec", chain_item_data(p, "spec"));
	row(b, lang, "product.expiry", chain_item_data(p, "expiry"));
	row(b, lang, "product.gtin", v->link.gtin);
	row(b, lang, "product.lot", v->link.lot);
	row(b, lang, "product.serial", v->link.serial);
	buf_puts(b, "</dl></section>\n");
}

/* Every inspection.completed, each marked as in force or withdrawn
 * (SPEC 8 "Inspections": every one is shown). */
static void
inspection_list(struct request *req, struct buf *b, enum page_lang lang,
    const struct chain_view *v)
{
	const struct fold_result *f = v->fold;

	buf_puts(b, "<h3>");
	i18n_html(b, lang, "inspection.others");
	buf_puts(b, "</h3><ul class=\"inspections\" id=\"inspections\">");
	for (size_t k = 0; k < f->inspection_count; k++) {
		const struct fold_inspection *in = &f->inspections[k];
		const struct chain_item *it = &v->items[in->statement];
		char org[KEY_TEXT_MAX + 1], day[11];

		buf_printf(b, "<li data-result=\"%s\" data-withdrawn=\"%s\">"
		    "<span class=\"%s\">", in->pass ? "pass" : "fail",
		    in->withdrawn ? "true" : "false", in->withdrawn ? "muted" :
		    in->pass ? "result-pass" : "result-fail");
		i18n_html(b, lang, in->pass ? "inspection.pass" :
		    "inspection.fail");
		buf_puts(b, "</span> ");
		buf_html_cstr(b, chain_item_data(it, "certificate"));
		if (signer_org(req, lang, it->ev.signer, org, sizeof(org), NULL)) {
			buf_puts(b, " \xc2\xb7 ");
			buf_html_cstr(b, org);
		}
		date_of(it, day);
		buf_puts(b, " \xc2\xb7 ");
		buf_html_cstr(b, day);
		if (in->withdrawn) {
			buf_puts(b, " <span class=\"note warn\">");
			i18n_html(b, lang, "inspection.withdrawn");
			buf_puts(b, "</span>");
		}
		buf_puts(b, "</li>");
	}
	buf_puts(b, "</ul>");
	if (f->inspection == FOLD_INSPECTION_FAIL) {
		buf_puts(b, "<p class=\"note warn\">");
		i18n_html(b, lang, "inspection.failnote");
		buf_puts(b, "</p>");
	}
}

/* The result that decides the inspection status (the newest fail in
 * force, else the newest pass), then every result. */
static void
inspection_card(struct request *req, struct buf *b, enum page_lang lang,
    const struct chain_view *v)
{
	const struct chain_item *in = v->inspected;
	const char *result;
	char org[KEY_TEXT_MAX + 1], day[11];
	bool known = false, registered = false;
	long long samples;
	bool pass = v->fold->inspection == FOLD_INSPECTION_PASS;

	buf_printf(b, "<section class=\"card\" id=\"inspection\" "
	    "data-status=\"%s\"><h2>", fold_inspection_name(
	    v->fold->inspection));
	i18n_html(b, lang, "inspection.title");
	buf_puts(b, "</h2>");
	if (in == NULL) {
		buf_puts(b, "<p class=\"muted\">");
		i18n_html(b, lang, "inspection.none");
		buf_puts(b, "</p>");
		if (v->fold->inspection_count > 0)
			inspection_list(req, b, lang, v);
		buf_puts(b, "</section>\n");
		return;
	}
	result = chain_item_data(in, "result");
	buf_puts(b, "<dl>");
	/* SPEC 8: a key of a registered org is shown by the org's registered
	 * name, never by the body its signer wrote; only a round-1 key's
	 * inspection still shows the body it named. */
	known = signer_org(req, lang, in->ev.signer, org, sizeof(org),
	    &registered);
	if (!registered)
		row(b, lang, "inspection.body", chain_item_data(in, "body"));
	if (known)
		row(b, lang, "inspection.org", org);
	{
		const char *place = chain_item_where(in, "place");
		const char *body = chain_item_data(in, "body");

		if (place != NULL && (body == NULL || strcmp(place, body) != 0))
			row(b, lang, "inspection.place", place);
	}
	date_of(in, day);
	row(b, lang, "inspection.date", day);
	row(b, lang, "inspection.certificate", chain_item_data(in,
	    "certificate"));
	/* The document behind the result (documents.c), as a download:
	 * not looked up here, so the consumer page costs no extra round
	 * trip; the inspector page says whether it was uploaded. */
	{
		const char *doc = documents_certificate(in);

		if (doc != NULL) {
			buf_puts(b, "<dt>");
			i18n_html(b, lang, "doc.certificate");
			buf_printf(b, "</dt><dd><a id=\"certificate-link\" "
			    "href=\"/api/v1/blobs/%s\" download>", doc);
			i18n_html(b, lang, "doc.open");
			buf_puts(b, "</a></dd>");
		}
	}
	row(b, lang, "inspection.standard", chain_item_data(in, "standard"));
	if (chain_item_int(v->sampled, "samples", &samples)) {
		char n[24];

		snprintf(n, sizeof(n), "%lld", samples);
		row(b, lang, "inspection.samples", n);
	}
	buf_puts(b, "<dt>");
	i18n_html(b, lang, "inspection.result");
	/* The status decides the colour; the deciding result agrees. */
	buf_printf(b, "</dt><dd class=\"%s\" id=\"inspection-result\">",
	    pass ? "result-pass" : "result-fail");
	i18n_html(b, lang, pass && result != NULL &&
	    strcmp(result, "pass") == 0 ? "inspection.pass" :
	    "inspection.fail");
	buf_puts(b, "</dd></dl>");
	if (v->fold->inspection_count > 1)
		inspection_list(req, b, lang, v);
	buf_puts(b, "</section>\n");
}

/* " · " between the parts of a line; first says whether one was written. */
static void
separate(struct buf *b, bool *first)
{
	if (!*first)
		buf_puts(b, " \xc2\xb7 ");
	*first = false;
}

/* "label value" inside a facts line, for a signer's text if present. */
static void
fact(struct buf *b, enum page_lang lang, bool *first, const char *label,
    const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	separate(b, first);
	buf_puts(b, "<span class=\"k\">");
	i18n_html(b, lang, label);
	buf_puts(b, "</span> ");
	buf_html_cstr(b, value);
}

/* Under a timeline entry: where, the facts that matter, who signed. */
static void
event_details(struct request *req, struct buf *b, enum page_lang lang,
    const struct chain_item *it)
{
	const char *port_code = chain_item_data(it, "port");
	const char *place = chain_item_where(it, "place");
	const char *cc = chain_item_where(it, "country");
	const char *mode = chain_item_data(it, "mode");
	const char *result = chain_item_data(it, "result");
	char org[KEY_TEXT_MAX + 1], key[40];
	bool first = true;
	long long quantity;

	if (port_code != NULL || place != NULL || cc != NULL) {
		buf_puts(b, "<p class=\"at\">");
		if (port_code != NULL) {
			separate(b, &first);
			port(b, lang, port_code);
		}
		if (place != NULL) {
			separate(b, &first);
			buf_html_cstr(b, place);
		}
		if (cc != NULL) {
			separate(b, &first);
			country(b, lang, cc);
		}
		buf_puts(b, "</p>");
	}
	first = true;
	buf_puts(b, "<p class=\"facts\">");
	fact(b, lang, &first, "route.vessel", chain_item_data(it, "vessel"));
	fact(b, lang, &first, "route.carrier", chain_item_data(it, "carrier"));
	fact(b, lang, &first, "route.bl", chain_item_data(it, "billOfLading"));
	fact(b, lang, &first, "route.declaration", chain_item_data(it,
	    "declaration"));
	if (mode != NULL) {
		snprintf(key, sizeof(key), "customs.mode.%s", mode);
		separate(b, &first);
		if (i18n_get(lang, key) != NULL)
			i18n_html(b, lang, key);
		else
			buf_html_cstr(b, mode);
	}
	fact(b, lang, &first, "route.warehouse", chain_item_data(it,
	    "warehouse"));
	fact(b, lang, &first, "route.destination", chain_item_data(it,
	    "destination"));
	if (chain_item_int(it, "quantity", &quantity) &&
	    it->ev.type != EVENT_PRODUCT_REGISTERED) {
		char n[24];

		snprintf(n, sizeof(n), "%lld", quantity);
		fact(b, lang, &first, "route.quantity", n);
	}
	fact(b, lang, &first, "inspection.certificate", chain_item_data(it,
	    "certificate"));
	if (result != NULL) {
		separate(b, &first);
		buf_printf(b, "<span class=\"%s\">", strcmp(result, "pass") == 0 ?
		    "result-pass" : "result-fail");
		i18n_html(b, lang, strcmp(result, "pass") == 0 ?
		    "inspection.pass" : "inspection.fail");
		buf_puts(b, "</span>");
	}
	fact(b, lang, &first, "recall.reason", chain_item_data(it, "reason"));
	fact(b, lang, &first, "recall.action", chain_item_data(it, "action"));
	buf_puts(b, "</p>");
	if (signer_org(req, lang, it->ev.signer, org, sizeof(org), NULL)) {
		buf_puts(b, "<p class=\"by\">");
		i18n_html(b, lang, "route.signed");
		buf_puts(b, ": ");
		buf_html_cstr(b, org);
		buf_puts(b, "</p>");
	}
}

static void
route_card(struct request *req, struct buf *b, enum page_lang lang,
    const struct chain_view *v)
{
	buf_puts(b, "<section class=\"card\" id=\"route\"><h2>");
	i18n_html(b, lang, "route.title");
	buf_puts(b, "</h2><p><strong>");
	i18n_html(b, lang, "customs.status");
	buf_printf(b, ":</strong> <span id=\"customs-status\" class=\"%s\">",
	    v->released != NULL ? "ok-text" : "");
	i18n_html(b, lang, v->released != NULL ? "customs.released" :
	    v->declared != NULL ? "customs.declared" : "customs.none");
	buf_puts(b, "</span></p>");
	if (v->recall_state == RECALL_OPEN_OTHER ||
	    v->recall_state == RECALL_CLOSED) {
		buf_puts(b, "<p class=\"note info\" id=\"recall-note\">");
		if (v->recall_state == RECALL_OPEN_OTHER)
			i18n_html(b, lang, "recall.notcovered");
		else {
			const char *outcome = chain_item_data(v->recall_closed,
			    "outcome");
			char key[48];

			snprintf(key, sizeof(key), "recall.outcome.%s",
			    outcome != NULL ? outcome : "");
			i18n_html_args(b, lang, "recall.closed",
			    i18n_get(lang, key) != NULL ? i18n_get(lang, key) :
			    outcome, NULL, NULL);
		}
		buf_puts(b, "</p>");
	}
	buf_puts(b, "<ol class=\"timeline\">");
	for (size_t i = 0; i < v->count; i++) {
		const struct chain_item *it = &v->items[i];
		char key[64], when[64];
		const char *cls = it->ev.type == EVENT_RECALL_ISSUED ? "alert" :
		    "done";

		if (it->ev.type == EVENT_PRODUCT_REGISTERED)
			continue;
		snprintf(key, sizeof(key), "event.%s",
		    event_type_name(it->ev.type));
		chain_item_time(it, when, sizeof(when));
		buf_printf(b, "<li class=\"%s\" data-type=\"%s\"><span class=\"what%s\">",
		    cls, event_type_name(it->ev.type),
		    it->corrected_by != NULL ? " corrected" : "");
		i18n_html(b, lang, key);
		buf_puts(b, "</span><span class=\"when\">");
		buf_html_cstr(b, when);
		buf_puts(b, "</span>");
		event_details(req, b, lang, it);
		if (it->corrected_by != NULL) {
			buf_puts(b, "<p class=\"note warn\">");
			i18n_html_args(b, lang, "event.corrected",
			    chain_item_data(it->corrected_by, "reason"), NULL,
			    NULL);
			buf_puts(b, "</p>");
		}
		/* SPEC 9: logged after the witnessed checkpoint. */
		if (it->pending) {
			bool held = chain_item_awaits_witnesses(it);

			buf_printf(b, "<p class=\"note info pending\" "
			    "data-pending=\"%s\">", held ?
			    "awaiting-witnesses" : "counted");
			i18n_html(b, lang, "event.pending");
			buf_puts(b, ": ");
			i18n_html(b, lang, held ? "event.pending.held" :
			    "event.pending.counted");
			buf_puts(b, "</p>");
		}
		/* SPEC 8 "Data from round 1": labelled in every view. */
		if (it->round1) {
			buf_puts(b, "<p class=\"note info round1\">");
			i18n_html(b, lang, "event.round1");
			if (it->ignored) {
				buf_puts(b, ": ");
				i18n_html(b, lang, "event.ignored");
			}
			buf_puts(b, "</p>");
		}
		/* SPEC 8 "Revocation and compromise": flagged in every view. */
		if (it->compromised) {
			buf_puts(b, "<p class=\"note warn compromised\">");
			i18n_html(b, lang, "event.compromised");
			if (it->ignored) {
				buf_puts(b, ": ");
				i18n_html(b, lang, "event.ignored");
			}
			buf_puts(b, "</p>");
		}
		buf_puts(b, "</li>");
	}
	buf_puts(b, "</ol></section>\n");
}

void
consumer_scans_card(struct buf *b, enum page_lang lang,
    const struct chain_view *v)
{
	char count[24], first[64];
	time_t t = (time_t)v->first_scan;
	struct tm tm;

	if (!v->scans_known)
		return;
	buf_puts(b, "<section class=\"card\" id=\"scans\"><h2>");
	i18n_html(b, lang, "scans.title");
	buf_printf(b, "</h2><p id=\"scan-count\" data-count=\"%lld\">",
	    v->scans);
	if (v->scans <= 1) {
		i18n_html(b, lang, "scans.first");
	} else {
		snprintf(count, sizeof(count), "%lld", v->scans);
		gmtime_r(&t, &tm);
		snprintf(first, sizeof(first), "%04d-%02d-%02d %02d:%02d UTC",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min);
		i18n_html_args(b, lang, "scans.count", count, first, NULL);
	}
	buf_puts(b, "</p>");
	/* SPEC 12: views are views; anyone can inflate them, so the
	 * copied-label warning rests on the code (units.c), never here. */
	buf_puts(b, "</section>\n");
}

bool
consumer_build(struct request *req, const struct chain_view *view,
    enum page_lang lang, struct buf *out)
{
	char path[512];
	size_t name_len = 0;
	const char *name = chain_view_name(view, lang, &name_len);
	struct verdict vd;
	struct unit_facts facts;
	struct trace_error err;
	bool stable;

	gs1_link_format("", &view->link, path, sizeof(path));
	/* A store failure leaves the unit's facts unknown (no card). */
	if (unit_facts_load(req, view, &facts, &err) != TRACE_OK)
		memset(&facts, 0, sizeof(facts));
	verdict_get(req, view, false, &vd);
	stable = vd.state != VERDICT_PENDING;
	if (name != NULL) {
		page_open(out, lang, name, name_len, true);
	} else {
		const char *site = i18n_get(lang, "site.name");

		page_open(out, lang, site, strlen(site), true);
	}
	recall_banner(out, lang, view);
	page_bar(out, lang, path);
	buf_puts(out, "<main>");
	units_card(out, lang, view, &facts);
	verdict_card(req, out, lang, view, &vd,
	    facts.issued == FOLD_ISSUED_NO);
	product_card(out, lang, view);
	inspection_card(req, out, lang, view);
	route_card(req, out, lang, view);
	if (view->scans_mark != NULL)
		buf_puts(out, view->scans_mark);   /* unitpage.c fills it in */
	else
		consumer_scans_card(out, lang, view);
	buf_puts(out, "</main><footer><p>");
	i18n_html(out, lang, "footer.about");
	buf_puts(out, "</p><a id=\"inspect-link\" href=\"/inspect/");
	buf_html_cstr(out, view->chain);
	buf_printf(out, "?lang=%s\">", i18n_tag(lang));
	i18n_html(out, lang, "footer.inspect");
	buf_puts(out, "</a><a href=\"/api/v1/bundles/");
	buf_html_cstr(out, view->chain);
	buf_puts(out, "\" download=\"bundle.json\">");
	i18n_html(out, lang, "footer.bundle");
	buf_puts(out, "</a><a href=\"");
	buf_html_cstr(out, path);
	buf_puts(out, "?linkType=all\">GS1 linkset</a></footer>");
	page_close(out);
	verdict_clear(&vd);
	unit_facts_clear(&facts);
	return stable;
}

void
consumer_send(struct request *req, const struct gs1_link *link,
    enum page_lang lang, struct buf *page)
{
	char uri[1024], headers[1400];

	page_link_uri(req->srv, link, uri, sizeof(uri));
	snprintf(headers, sizeof(headers), "Link: <%s?linkType=all>; "
	    "rel=\"linkset\"; type=\"application/linkset+json\"\r\n", uri);
	page_send(req, 200, page, lang, headers);
}
