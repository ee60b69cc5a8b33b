/*
 * blob.c - the upload statement of an inspection document and the media
 * types a document may have (blob.h).  Media is told by magic bytes only:
 * a name ending in .png or a claimed type proves nothing, and a file that
 * a browser could run as a page (HTML, SVG, XML) matches none of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "encoding.h"
#include "json.h"
#include "timefmt.h"

static const char *const media_names[BLOB_MEDIA_COUNT] = {
	[BLOB_MEDIA_PDF] = "application/pdf",
	[BLOB_MEDIA_JPEG] = "image/jpeg",
	[BLOB_MEDIA_PNG] = "image/png",
};

const char *
blob_media_name(enum blob_media media)
{
	return media < BLOB_MEDIA_COUNT ? media_names[media] : "";
}

bool
blob_media_parse(const char *s, size_t len, enum blob_media *media)
{
	for (int m = 0; m < BLOB_MEDIA_COUNT; m++)
		if (strlen(media_names[m]) == len &&
		    memcmp(media_names[m], s, len) == 0) {
			*media = (enum blob_media)m;
			return true;
		}
	return false;
}

bool
blob_media_detect(const unsigned char *data, size_t len,
    enum blob_media *media)
{
	/* ISO 32000-1 7.5.2: the header line "%PDF-1.n" comes first. */
	static const unsigned char pdf[] = { '%', 'P', 'D', 'F', '-' };
	/* ISO/IEC 10918-1: SOI (FF D8) and the first marker's FF. */
	static const unsigned char jpeg[] = { 0xff, 0xd8, 0xff };
	/* RFC 2083 3.1 */
	static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n',
		0x1a, '\n' };

	if (len >= sizeof(pdf) && memcmp(data, pdf, sizeof(pdf)) == 0)
		*media = BLOB_MEDIA_PDF;
	else if (len >= sizeof(jpeg) && memcmp(data, jpeg, sizeof(jpeg)) == 0)
		*media = BLOB_MEDIA_JPEG;
	else if (len >= sizeof(png) && memcmp(data, png, sizeof(png)) == 0)
		*media = BLOB_MEDIA_PNG;
	else
		return false;
	return true;
}

static enum trace_status
bad(struct trace_error *err, const char *field, const char *what)
{
	return trace_error_set(err, TRACE_EMALFORMED, "bad_field", field,
	    "\"%s\" must be %s", field, what);
}

enum trace_status
blob_statement_parse(const unsigned char *payload, size_t len,
    struct blob_statement *st, struct trace_error *err)
{
	static const char *const fields[] = { "v", "sha256", "size", "media",
		"time", "signer", NULL };
	struct json_limits limits = json_limits_default;
	struct json_doc *doc = NULL;
	const struct json_value *root;
	const char *s;
	size_t n;
	long long v = 0;
	int offset;
	unsigned char raw[SHA256_LEN];
	enum trace_status rc;

	memset(st, 0, sizeof(*st));
	limits.max_size = 1024;
	limits.max_depth = 2;
	limits.max_string = 128;
	limits.max_values = 16;
	if ((rc = json_parse((const char *)payload, len, &limits, &doc, err)) !=
	    TRACE_OK)
		return rc;
	root = json_doc_root(doc);
	if (root->type != JSON_OBJECT) {
		rc = trace_error_set(err, TRACE_EMALFORMED, "bad_payload", NULL,
		    "the payload must be a JSON object");
		goto out;
	}
	if ((rc = json_object_only(root, fields, err)) != TRACE_OK ||
	    (rc = json_get_int(root, "v", true, &v, err)) != TRACE_OK)
		goto out;
	if (v != 1) {
		rc = bad(err, "v", "1");
		goto out;
	}
	if ((rc = json_get_string(root, "sha256", true, &s, &n, err)) !=
	    TRACE_OK)
		goto out;
	if (!hex_decode(s, n, raw, sizeof(raw), true)) {
		rc = bad(err, "sha256", "64 lowercase hex digits");
		goto out;
	}
	memcpy(st->sha256, s, n + 1);
	if ((rc = json_get_int(root, "size", true, &st->size, err)) !=
	    TRACE_OK)
		goto out;
	if (st->size < 1 || st->size > BLOB_SIZE_MAX) {
		rc = bad(err, "size", "a whole number of bytes >= 1");
		goto out;
	}
	if ((rc = json_get_string(root, "media", true, &s, &n, err)) !=
	    TRACE_OK)
		goto out;
	if (!blob_media_parse(s, n, &st->media)) {
		rc = trace_error_set(err, TRACE_EMEDIA, "unsupported_media",
		    "media", "a document is application/pdf, image/jpeg or "
		    "image/png");
		goto out;
	}
	if ((rc = json_get_string(root, "time", true, &s, &n, err)) !=
	    TRACE_OK)
		goto out;
	if (!time_parse_rfc3339(s, n, &st->time, &offset)) {
		rc = bad(err, "time", "an RFC 3339 date-time with an offset");
		goto out;
	}
	if ((rc = json_get_string(root, "signer", true, &s, &n, err)) !=
	    TRACE_OK)
		goto out;
	if (!key_id_valid(s, n)) {
		rc = bad(err, "signer", "a key id (32 lowercase hex digits)");
		goto out;
	}
	memcpy(st->signer, s, n + 1);
out:
	json_doc_free(doc);
	return rc;
}

char *
blob_statement_payload(const struct blob_statement *st, size_t *len)
{
	char time_text[21], *out;
	int n;

	time_format_utc(st->time, time_text);
	if ((out = malloc(512)) == NULL)
		return NULL;
	/* Every value is hex, digits or one of three fixed names. */
	n = snprintf(out, 512, "{\"v\":1,\"sha256\":\"%s\",\"size\":%lld,"
	    "\"media\":\"%s\",\"time\":\"%s\",\"signer\":\"%s\"}", st->sha256,
	    st->size, blob_media_name(st->media), time_text, st->signer);
	if (n < 0 || n >= 512) {
		free(out);
		return NULL;
	}
	*len = (size_t)n;
	return out;
}
