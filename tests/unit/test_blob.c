/*
 * test_blob.c - the document upload statement and media sniffing
 * (libtrace/blob.c): exact fields, strictness, errors naming the field,
 * and media told by magic bytes only.
 */
#include <stdlib.h>
#include <string.h>

#include "libtrace/blob.h"
#include "check.h"

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define SIGNER "0123456789abcdef0123456789abcdef"

static enum trace_status
parse(const char *text, struct blob_statement *st, struct trace_error *err)
{
	return blob_statement_parse((const unsigned char *)text, strlen(text),
	    st, err);
}

static void
test_statement(void)
{
	struct blob_statement st, back;
	struct trace_error err;
	char *text;
	size_t len = 0;
	static const struct {
		const char *text, *code, *field;
		enum trace_status status;
	} bad[] = {
		{ "{\"v\":2,\"sha256\":\"" SHA "\",\"size\":4,\"media\":\"image/png\","
		  "\"time\":\"2026-12-01T09:00:00Z\",\"signer\":\"" SIGNER "\"}",
		  "bad_field", "v", TRACE_EMALFORMED },
		{ "{\"v\":1,\"sha256\":\"" SHA "\",\"size\":4,\"media\":\"image/png\","
		  "\"time\":\"2026-12-01T09:00:00Z\",\"signer\":\"" SIGNER "\","
		  "\"name\":\"x\"}", "unknown_field", "name", TRACE_EMALFORMED },
		{ "{\"v\":1,\"sha256\":\"" SHA "\",\"size\":0,\"media\":\"image/png\","
		  "\"time\":\"2026-12-01T09:00:00Z\",\"signer\":\"" SIGNER "\"}",
		  "bad_field", "size", TRACE_EMALFORMED },
		{ "{\"v\":1,\"sha256\":\"" SHA "\",\"size\":4,\"media\":\"text/html\","
		  "\"time\":\"2026-12-01T09:00:00Z\",\"signer\":\"" SIGNER "\"}",
		  "unsupported_media", "media", TRACE_EMEDIA },
		{ "{\"v\":1,\"sha256\":\"" SHA "\",\"size\":4,\"media\":\"image/svg+xml\","
		  "\"time\":\"2026-12-01T09:00:00Z\",\"signer\":\"" SIGNER "\"}",
		  "unsupported_media", "media", TRACE_EMEDIA },
		{ "{\"v\":1,\"sha256\":\"9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B"
		  "822CD15D6C15B0F00A08\",\"size\":4,\"media\":\"image/png\","
		  "\"time\":\"2026-12-01T09:00:00Z\",\"signer\":\"" SIGNER "\"}",
		  "bad_field", "sha256", TRACE_EMALFORMED },
		{ "{\"v\":1,\"sha256\":\"" SHA "\",\"size\":4,\"media\":\"image/png\","
		  "\"time\":\"2026-12-01\",\"signer\":\"" SIGNER "\"}",
		  "bad_field", "time", TRACE_EMALFORMED },
		{ "{\"v\":1,\"sha256\":\"" SHA "\",\"size\":4,\"media\":\"image/png\","
		  "\"time\":\"2026-12-01T09:00:00Z\"}",
		  "missing_field", "signer", TRACE_EMALFORMED },
		{ "{\"v\":1,\"v\":1,\"sha256\":\"" SHA "\",\"size\":4,\"media\":"
		  "\"image/png\",\"time\":\"2026-12-01T09:00:00Z\",\"signer\":\""
		  SIGNER "\"}", NULL, NULL, TRACE_EMALFORMED },
		{ "{\"v\":1,\"sha256\":\"" SHA "\",\"size\":4.5,\"media\":\"image/png\","
		  "\"time\":\"2026-12-01T09:00:00Z\",\"signer\":\"" SIGNER "\"}",
		  NULL, NULL, TRACE_EMALFORMED },
	};

	CHECK_INT(parse("{\"v\":1,\"sha256\":\"" SHA "\",\"size\":4,\"media\":"
	    "\"application/pdf\",\"time\":\"2026-12-01T18:00:00+09:00\","
	    "\"signer\":\"" SIGNER "\"}", &st, &err), TRACE_OK);
	CHECK_STR(st.sha256, SHA);
	CHECK_INT(st.size, 4);
	CHECK_INT(st.media, BLOB_MEDIA_PDF);
	CHECK_INT(st.time, 1796115600);
	CHECK_STR(st.signer, SIGNER);
	/* Written back in UTC, keys in the documented order. */
	text = blob_statement_payload(&st, &len);
	CHECK(text != NULL);
	CHECK_STR(text, "{\"v\":1,\"sha256\":\"" SHA "\",\"size\":4,\"media\":"
	    "\"application/pdf\",\"time\":\"2026-12-01T09:00:00Z\",\"signer\":\""
	    SIGNER "\"}");
	CHECK_INT(blob_statement_parse((const unsigned char *)text, len, &back,
	    NULL), TRACE_OK);
	CHECK_INT(back.time, st.time);
	free(text);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		trace_error_clear(&err);
		CHECK_INT(parse(bad[i].text, &st, &err), bad[i].status);
		if (bad[i].code != NULL) {
			CHECK_STR(err.code, bad[i].code);
			CHECK_STR(err.field, bad[i].field);
		}
	}
}

static void
test_media(void)
{
	enum blob_media m;

	CHECK(blob_media_detect((const unsigned char *)"%PDF-1.7\n", 9, &m));
	CHECK_INT(m, BLOB_MEDIA_PDF);
	CHECK(blob_media_detect((const unsigned char *)"\xff\xd8\xff\xe0", 4, &m));
	CHECK_INT(m, BLOB_MEDIA_JPEG);
	CHECK(blob_media_detect((const unsigned char *)"\x89PNG\r\n\x1a\n", 8, &m));
	CHECK_INT(m, BLOB_MEDIA_PNG);
	/* Not by name or claim: markup, GIF, a PDF header not at offset 0,
	 * a truncated signature, nothing. */
	CHECK(!blob_media_detect((const unsigned char *)"<!doctype html>", 15, &m));
	CHECK(!blob_media_detect((const unsigned char *)"<svg xmlns=", 11, &m));
	CHECK(!blob_media_detect((const unsigned char *)"GIF89a", 6, &m));
	CHECK(!blob_media_detect((const unsigned char *)" %PDF-1.7", 9, &m));
	CHECK(!blob_media_detect((const unsigned char *)"\x89PNG\r\n\x1a", 7, &m));
	CHECK(!blob_media_detect((const unsigned char *)"", 0, &m));
	CHECK_STR(blob_media_name(BLOB_MEDIA_JPEG), "image/jpeg");
	CHECK(blob_media_parse("image/png", 9, &m) && m == BLOB_MEDIA_PNG);
	CHECK(!blob_media_parse("image/PNG", 9, &m));
	CHECK(!blob_media_parse("image/pn", 8, &m));
}

int
main(void)
{
	test_statement();
	test_media();
	CHECK_DONE();
}
