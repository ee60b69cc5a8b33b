/*
 * page.c - what every HTML page of trace-server shares: the skeleton (head,
 * top bar with the language switch), the response headers (a strict
 * Content-Security-Policy: scripts and styles only from this server, no
 * inline script, no framing), error pages, the static assets from web/
 * compiled into the binary (/static/trace.css, /static/verify.js), and the
 * Digital Link URI of a unit under --public-url that the resolver answers,
 * pages link to and QR codes encode.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "libtrace/encoding.h"
#include "pages.h"

static const struct asset {
	const char *path;
	const char *type;
	const char *data;
	const size_t *len;
} assets[] = {
	{ "/static/trace.css", "text/css; charset=utf-8", web_trace_css,
	    &web_trace_css_len },
	{ "/static/verify.js", "text/javascript; charset=utf-8", web_verify_js,
	    &web_verify_js_len },
};

static char asset_version[17];
static pthread_once_t version_once = PTHREAD_ONCE_INIT;

/* One digest over every asset: a changed file gets new URLs, so browsers
 * may cache them for a year. */
static void
version_compute(void)
{
	struct sha256_part parts[sizeof(assets) / sizeof(assets[0])];
	unsigned char digest[SHA256_LEN];

	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++) {
		parts[i].data = assets[i].data;
		parts[i].len = *assets[i].len;
	}
	sha256_parts(parts, sizeof(parts) / sizeof(parts[0]), digest);
	hex_encode(digest, 8, asset_version);
	asset_version[16] = '\0';
}

const char *
page_asset_version(void)
{
	pthread_once(&version_once, version_compute);
	return asset_version;
}

void
page_root_key_base64(const struct server *srv, char *out, size_t size)
{
	char b64[base64_encoded_len(ED25519_PUBLIC_LEN) + 1];

	base64_encode(srv->root.entry.public_key, ED25519_PUBLIC_LEN, b64);
	snprintf(out, size, "%s", b64);
}

size_t
page_link_uri(const struct server *srv, const struct gs1_link *link,
    char *out, size_t size)
{
	return gs1_link_format(srv->cfg.public_url, link, out, size);
}

size_t
page_link_uri_compressed(const struct server *srv,
    const struct gs1_link *link, char *out, size_t size)
{
	char segment[GS1_COMPRESSED_MAX + 1];
	int n;

	if (gs1_link_compress(link, segment, sizeof(segment)) == 0)
		goto fail;
	n = snprintf(out, size, "%s/%s", srv->cfg.public_url, segment);
	if (n > 0 && (size_t)n < size)
		return (size_t)n;
fail:
	if (size > 0)
		out[0] = '\0';
	return 0;
}

bool
page_wants_json(const struct request *req)
{
	return http_accepts(req, "application/json") &&
	    !http_accepts(req, "text/html");
}

void
page_open(struct buf *b, enum page_lang lang, const char *title,
    size_t title_len, bool script)
{
	const char *v = page_asset_version();

	buf_printf(b, "<!doctype html>\n<html lang=\"%s\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width,"
	    "initial-scale=1\">"
	    "<meta name=\"referrer\" content=\"no-referrer\">"
	    "<link rel=\"icon\" href=\"data:,\">"
	    "<title>", i18n_tag(lang));
	buf_html(b, title, title_len);
	buf_printf(b, "</title><link rel=\"stylesheet\" "
	    "href=\"/static/trace.css?v=%s\">", v);
	if (script)
		buf_printf(b, "<script src=\"/static/verify.js?v=%s\" defer>"
		    "</script>", v);
	buf_puts(b, "</head><body>\n");
}

void
page_bar(struct buf *b, enum page_lang lang, const char *path)
{
	buf_puts(b, "<header class=\"bar\"><span class=\"brand\">");
	i18n_html(b, lang, "site.name");
	buf_puts(b, "</span><nav class=\"langs\" aria-label=\"");
	i18n_html(b, lang, "lang.label");
	buf_puts(b, "\">");
	for (int l = 0; l < LANG_COUNT; l++) {
		if ((enum page_lang)l == lang) {
			buf_printf(b, "<strong lang=\"%s\">%s</strong>",
			    i18n_tag(l), i18n_native_name(l));
			continue;
		}
		buf_puts(b, "<a href=\"");
		buf_html_cstr(b, path);
		buf_printf(b, "?lang=%s\" lang=\"%s\" hreflang=\"%s\">%s</a>",
		    i18n_tag(l), i18n_tag(l), i18n_tag(l), i18n_native_name(l));
	}
	buf_puts(b, "</nav></header>\n");
}

void
page_close(struct buf *b)
{
	buf_puts(b, "</body></html>\n");
}

void
page_send(struct request *req, int status, struct buf *b,
    enum page_lang lang, const char *extra_headers)
{
	char headers[2048];

	if (b->failed) {
		static const char body[] = "<!doctype html><title>500</title>"
		    "<p>The page could not be built.</p>\n";

		http_send(req, 500, "text/html; charset=utf-8", body,
		    sizeof(body) - 1, "Content-Security-Policy: " PAGE_CSP "\r\n");
		return;
	}
	/* Pages change with every new event and count scans: revalidate. */
	snprintf(headers, sizeof(headers),
	    "Content-Security-Policy: " PAGE_CSP "\r\n"
	    "Content-Language: %s\r\n"
	    "Cache-Control: no-cache\r\n"
	    "Vary: Accept, Accept-Language\r\n"
	    "X-Frame-Options: DENY\r\n"
	    "%s", i18n_tag(lang), extra_headers != NULL ? extra_headers : "");
	http_send(req, status, "text/html; charset=utf-8", b->data, b->len,
	    headers);
}

void
page_send_error(struct request *req, const struct trace_error *err)
{
	enum page_lang lang;
	const char *what;
	struct buf b;
	int status = trace_status_http(err->status);

	if (page_wants_json(req)) {
		http_send_error(req, err);
		return;
	}
	lang = i18n_negotiate(req);
	switch (status) {
	case 400: what = "error.malformed"; break;
	case 404: what = "error.notfound"; break;
	case 503: what = "error.store"; break;
	default: what = "error.other"; break;
	}
	buf_init(&b, 0);
	{
		const char *title = i18n_get(lang, "error.title");

		page_open(&b, lang, title, strlen(title), false);
	}
	buf_puts(&b, "<main><section class=\"card verdict bad\"><h1>"
	    "<span class=\"mark\" aria-hidden=\"true\">!</span>");
	i18n_html(&b, lang, "error.title");
	buf_puts(&b, "</h1><p>");
	i18n_html(&b, lang, what);
	/* The message may quote the request (a bad lot): escaped. */
	buf_puts(&b, "</p><p class=\"muted mono\">");
	buf_html_cstr(&b, err->message);
	buf_printf(&b, "</p><p class=\"muted\">HTTP %d</p></section></main>",
	    status);
	page_close(&b);
	page_send(req, status, &b, lang, NULL);
	buf_free(&b);
}

void
page_handle_static(struct request *req)
{
	struct trace_error err;

	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++) {
		if (strcmp(req->path, assets[i].path) != 0)
			continue;
		http_send(req, 200, assets[i].type, assets[i].data,
		    *assets[i].len,
		    "Cache-Control: public, max-age=31536000, immutable\r\n"
		    "Cross-Origin-Resource-Policy: same-origin\r\n");
		return;
	}
	trace_error_set(&err, TRACE_ENOTFOUND, "not_found", NULL,
	    "no such file");
	http_send_error(req, &err);
}
