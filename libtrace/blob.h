/*
 * blob.h - inspection documents (docs/PROTOCOL.md "Documents"): the signed
 * upload statement that travels in the Trace-Upload header, and the media
 * types a document may have, told by magic bytes, never by a name or by
 * what the uploader says.
 *
 * The statement (payloadType TYPE_BLOB) is strict JSON with exactly
 *   {"v":1,"sha256":"<64 hex>","size":n,"media":"application/pdf",
 *    "time":"<RFC 3339>","signer":"<keyid>"}
 * and is logged like every other statement.  Both programs use this module:
 * the server to check an upload, the agent to make one.
 */
#ifndef TRACE_BLOB_H
#define TRACE_BLOB_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto.h"
#include "error.h"
#include "keys.h"

#define TYPE_BLOB "application/vnd.trace.blob.v1+json"
#define BLOB_HEADER "Trace-Upload"          /* the statement's HTTP header */
#define BLOB_HEADER_MAX 8192                /* base64 text of the envelope */
#define BLOB_SIZE_MAX (1LL << 40)           /* what a statement may declare */

enum blob_media {
	BLOB_MEDIA_PDF,
	BLOB_MEDIA_JPEG,
	BLOB_MEDIA_PNG,
	BLOB_MEDIA_COUNT,
};

/* "application/pdf", "image/jpeg", "image/png". */
const char *blob_media_name(enum blob_media media);

/* One of those names exactly; false for anything else. */
bool blob_media_parse(const char *s, size_t len, enum blob_media *media);

/*
 * The media type of data by its magic bytes: "%PDF-" at offset 0, JPEG's
 * FF D8 FF, PNG's 8-byte signature.  False for anything else (HTML, SVG,
 * text, an empty file): those are never stored.
 */
bool blob_media_detect(const unsigned char *data, size_t len,
    enum blob_media *media);

struct blob_statement {
	char sha256[2 * SHA256_LEN + 1];    /* lowercase hex */
	long long size;                     /* bytes, 1..BLOB_SIZE_MAX */
	enum blob_media media;
	long long time;                     /* unix seconds */
	char signer[KEYID_LEN + 1];
};

/*
 * Parse and validate a statement payload.  Errors are TRACE_EMALFORMED
 * and name the field ("unknown_field", "missing_field", "bad_field"); a
 * media type other than the three is TRACE_EMEDIA "unsupported_media"
 * (field "media").
 */
enum trace_status blob_statement_parse(const unsigned char *payload,
    size_t len, struct blob_statement *st, struct trace_error *err);

/*
 * The payload for st (its time written as UTC) in a malloc'd buffer the
 * caller frees, or NULL without memory.  Keys in the order above.
 */
char *blob_statement_payload(const struct blob_statement *st, size_t *len);

#endif
