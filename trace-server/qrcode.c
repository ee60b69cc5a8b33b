/*
 * qrcode.c - GET /qr/01/{gtin}/10/{lot}[/21/{serial}].svg and .png: the QR
 * code of a unit's GS1 Digital Link URI (docs/PROTOCOL.md section 2.4), built from
 * --public-url exactly as page_link_uri() writes it, so what is printed
 * is what the resolver answers.  libqrencode through libtrace's qr.h,
 * error correction M, with the 4-module quiet zone.
 *
 * The path may be the compressed form too (/qr/{compressed}.png), and
 * ?compressed=1 encodes the compressed URI (GS1 Digital Link compression:
 * fewer modules, for small labels) whichever form the path has.
 *
 * ?size=N asks for an image about N pixels wide (QR_SIZE_MIN..QR_SIZE_MAX):
 * modules are whole pixels, so the image is the largest multiple of the
 * symbol's width (with its quiet zone) not above N, and at least one pixel
 * per module.  The store is not consulted: a code depends only on its URI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/qr.h"
#include "pages.h"
#include "parse.h"

#define QR_SIZE_MIN 64
#define QR_SIZE_MAX 2048
#define QR_SIZE_DEFAULT 264

/* Pixels per module for an image of about size pixels. */
static int
module_pixels(const struct qr_matrix *m, int size)
{
	int px = size / (m->width + 2 * QR_QUIET_ZONE);

	return px < QR_SCALE_MIN ? QR_SCALE_MIN : px > QR_SCALE_MAX ?
	    QR_SCALE_MAX : px;
}

/* ?size= and ?compressed=, strictly: size digits only, within bounds,
 * compressed 0 or 1; other parameters are ignored (a cache-buster on an
 * <img> link). */
static enum trace_status
qr_params(const struct request *req, int *size, bool *compressed,
    struct trace_error *err)
{
	static const char *const allowed[] = { "size", "compressed", NULL };
	struct query_fields query;
	const char *text;
	char *end;
	long v;
	enum trace_status rc;

	*size = QR_SIZE_DEFAULT;
	if ((rc = parse_query(req->info->query_string, allowed,
	    PARSE_UNKNOWN_IGNORED, &query, err)) != TRACE_OK)
		return rc;
	if ((rc = parse_flag(parse_query_value(&query, "compressed"),
	    "compressed", compressed, err)) != TRACE_OK)
		goto out;
	if ((text = parse_query_value(&query, "size")) == NULL)
		goto out;
	v = strtol(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || v < QR_SIZE_MIN ||
	    v > QR_SIZE_MAX) {
		rc = trace_error_set(err, TRACE_EMALFORMED, "bad_size", "size",
		    "size is %d to %d pixels", QR_SIZE_MIN, QR_SIZE_MAX);
		goto out;
	}
	*size = (int)v;
out:
	parse_query_clear(&query);
	return rc;
}

void
qrcode_handle(struct request *req)
{
	const char *rest = req->path + strlen("/qr");
	size_t len = strlen(rest);
	struct gs1_link link;
	struct qr_matrix *matrix = NULL;
	struct trace_error err;
	char uri[1024];
	void *image = NULL;
	size_t image_len = 0, uri_len;
	bool svg, compressed = false;
	int size;

	if (len > 4 && strcmp(rest + len - 4, ".svg") == 0)
		svg = true;
	else if (len > 4 && strcmp(rest + len - 4, ".png") == 0)
		svg = false;
	else {
		trace_error_set(&err, TRACE_ENOTFOUND, "not_found", "path",
		    "QR codes are /qr/01/{gtin}/10/{lot}[/21/{serial}].svg "
		    "or .png");
		goto fail;
	}
	if (gs1_link_parse_any(rest, len - 4, &link, &err) != TRACE_OK ||
	    qr_params(req, &size, &compressed, &err) != TRACE_OK)
		goto fail;
	if (link.lot[0] == '\0') {
		trace_error_set(&err, TRACE_EMALFORMED, "invalid_link", "lot",
		    "a unit's QR code names its lot: /qr/01/{gtin}/10/{lot}...");
		goto fail;
	}
	if ((uri_len = (compressed ? page_link_uri_compressed :
	    page_link_uri)(req->srv, &link, uri, sizeof(uri))) == 0) {
		trace_error_set(&err, TRACE_ETOOBIG, "too_large", "path",
		    "the Digital Link URI is too long");
		goto fail;
	}
	if (qr_encode(uri, uri_len, &matrix, &err) != TRACE_OK)
		goto fail;
	if (svg) {
		char *text = NULL;

		if (qr_render_svg(matrix, module_pixels(matrix, size), &text,
		    &image_len, &err) != TRACE_OK)
			goto fail;
		image = text;
	} else {
		unsigned char *png = NULL;

		if (qr_render_png(matrix, module_pixels(matrix, size), &png,
		    &image_len, &err) != TRACE_OK)
			goto fail;
		image = png;
	}
	/* The code depends on the path and --public-url only. */
	http_send(req, 200, svg ? "image/svg+xml" : "image/png", image,
	    image_len, "Cache-Control: public, max-age=86400\r\n"
	    "Content-Security-Policy: default-src 'none'; "
	    "style-src 'unsafe-inline'\r\n");
	free(image);
	qr_matrix_free(matrix);
	return;
fail:
	free(image);
	qr_matrix_free(matrix);
	http_send_error(req, &err);
}
