/*
 * labels.c - GET /labels/01/{gtin}/10/{lot}?from=&count=: a print-ready A4
 * sheet of unit labels for an importer (docs/PROTOCOL.md section 11.15): per label the QR
 * code of the unit's Digital Link (an <img> of /qr/...svg, so the sheet
 * stays small and every code is the one the QR endpoint serves) and the
 * human-readable GS1 element strings (01) GTIN, (10) lot, (21) serial.
 *
 * The path may be compressed too (/labels/{compressed}); ?compressed=1
 * prints every label's QR code with the compressed URI (fewer modules,
 * for small labels).  ?codes=1 adds each unit's scratch-off area (SPEC
 * 12): a box with the instruction and a merge field «code:SERIAL» where
 * the label printer puts the code from the CSV that `trace-agent codes
 * gen` wrote (matched on the serial column).  The codes are never on the
 * server, so the sheet cannot carry them itself.
 *
 * Serials count up from `from`: its trailing digits are a zero-padded
 * number, anything before them a fixed prefix ("SN0098" gives SN0098,
 * SN0099, SN0100, ...; a number that outgrows its width gets wider).
 * count is 1..LABELS_MAX.  Every serial must still be a valid AI 21 value.
 * parse.c reads from and count (parse_label_run); this file makes the
 * serials and the sheet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pages.h"
#include "parse.h"

/* The i-th serial of run into out; false if it is no longer valid. */
static bool
serial_at(const struct label_run *run, int i, char out[GS1_ATTR_MAX + 1])
{
	char text[64];
	int n = snprintf(text, sizeof(text), "%s%0*llu", run->prefix,
	    run->width, run->first + (unsigned long long)i);

	if (n < 0 || n > GS1_ATTR_MAX || !gs1_attr_valid(text, (size_t)n))
		return false;
	memcpy(out, text, (size_t)n + 1);
	return true;
}

static void
label(struct buf *b, enum page_lang lang, const struct gs1_link *unit,
    const char *name, size_t name_len, bool compressed, bool codes)
{
	char path[512];

	gs1_link_format("", unit, path, sizeof(path));
	buf_puts(b, "<div class=\"label\"><img src=\"/qr");
	buf_html_cstr(b, path);
	buf_printf(b, ".svg?size=240%s\" alt=\"QR\" width=\"113\" "
	    "height=\"113\"><div class=\"hri\">", compressed ?
	    "&amp;compressed=1" : "");
	if (name != NULL) {
		buf_puts(b, "<b>");
		buf_html(b, name, name_len);
		buf_puts(b, "</b><br>");
	}
	buf_printf(b, "(01) %s<br>(10) ", unit->gtin);
	buf_html_cstr(b, unit->lot);
	buf_puts(b, "<br>(21) <span class=\"serial\">");
	buf_html_cstr(b, unit->serial);
	buf_puts(b, "</span><br>");
	i18n_html(b, lang, "labels.scan");
	if (codes) {
		buf_puts(b, "<div class=\"scratch\" data-serial=\"");
		buf_html_cstr(b, unit->serial);
		buf_puts(b, "\"><small>");
		i18n_html(b, lang, "labels.scratch");
		buf_puts(b, "</small><br><span class=\"code-merge\">"
		    "\xc2\xab" "code:");
		buf_html_cstr(b, unit->serial);
		buf_puts(b, "\xc2\xbb</span></div>");
	}
	buf_puts(b, "</div></div>\n");
}

void
labels_handle(struct request *req)
{
	/* ?lang= is i18n_negotiate's; other parameters are ignored. */
	static const char *const allowed[] = { "from", "count", "lang",
		"compressed", "codes", NULL };
	const char *rest = req->path + strlen("/labels");
	struct gs1_link link, unit;
	struct query_fields query;
	struct label_run run;
	struct chain_view view;
	struct trace_error err;
	enum page_lang lang;
	char first[GS1_ATTR_MAX + 1], last[GS1_ATTR_MAX + 1], title[300];
	size_t name_len = 0;
	const char *name;
	bool compressed = false, codes = false;
	struct buf b;

	memset(&view, 0, sizeof(view));
	memset(&query, 0, sizeof(query));
	if (gs1_link_parse_any(rest, strlen(rest), &link, &err) != TRACE_OK)
		goto fail;
	if (link.lot[0] == '\0' || link.serial[0] != '\0') {
		trace_error_set(&err, TRACE_EMALFORMED, "invalid_link", "path",
		    "labels are /labels/01/{gtin}/10/{lot}?from=&count=");
		goto fail;
	}
	if (parse_query(req->info->query_string, allowed,
	    PARSE_UNKNOWN_IGNORED, &query, &err) != TRACE_OK ||
	    parse_label_run(parse_query_value(&query, "from"),
	    parse_query_value(&query, "count"), &run, &err) != TRACE_OK ||
	    parse_flag(parse_query_value(&query, "compressed"), "compressed",
	    &compressed, &err) != TRACE_OK ||
	    parse_flag(parse_query_value(&query, "codes"), "codes", &codes,
	    &err) != TRACE_OK)
		goto fail;
	parse_query_clear(&query);
	if (!serial_at(&run, 0, first) || !serial_at(&run, run.count - 1,
	    last)) {
		trace_error_set(&err, TRACE_EMALFORMED, "invalid_value", "count",
		    "the serials would be longer than %d characters",
		    GS1_ATTR_MAX);
		goto fail;
	}
	/* Labels only for a lot that was registered: catches typos before
	 * 200 wrong labels are printed. */
	if (chain_view_load(req, &link, false, &view, &err) != TRACE_OK)
		goto fail;
	lang = i18n_negotiate(req);
	name = chain_view_name(&view, lang, &name_len);
	snprintf(title, sizeof(title), "%s %s-%s", i18n_get(lang,
	    "labels.title"), first, last);
	buf_init(&b, 0);
	page_open(&b, lang, title, strlen(title), false);
	buf_puts(&b, "<main><section class=\"sheet-note card\"><h1>");
	i18n_html(&b, lang, "labels.title");
	buf_puts(&b, "</h1><p>");
	if (name != NULL) {
		buf_html(&b, name, name_len);
		buf_puts(&b, " \xc2\xb7 ");
	}
	buf_printf(&b, "(01) %s (10) ", link.gtin);
	buf_html_cstr(&b, link.lot);
	buf_printf(&b, " \xc2\xb7 (21) <span id=\"first-serial\">");
	buf_html_cstr(&b, first);
	buf_puts(&b, "</span> \xe2\x80\x93 <span id=\"last-serial\">");
	buf_html_cstr(&b, last);
	buf_printf(&b, "</span> (<span id=\"label-count\">%d</span>)</p>"
	    "<p class=\"muted\">", run.count);
	i18n_html(&b, lang, "labels.print");
	if (codes) {
		buf_puts(&b, "</p><p class=\"muted\" id=\"codes-note\">");
		i18n_html(&b, lang, "labels.codes");
	}
	buf_puts(&b, "</p></section><div class=\"labels\">\n");
	unit = link;
	for (int i = 0; i < run.count; i++) {
		if (!serial_at(&run, i, unit.serial))
			break;
		label(&b, lang, &unit, name, name_len, compressed, codes);
	}
	buf_puts(&b, "</div></main>");
	page_close(&b);
	page_send(req, 200, &b, lang, NULL);
	buf_free(&b);
	chain_view_free(&view);
	return;
fail:
	parse_query_clear(&query);
	chain_view_free(&view);
	page_send_error(req, &err);
}
