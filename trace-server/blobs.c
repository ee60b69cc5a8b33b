/*
 * blobs.c - PUT, GET and HEAD /api/v1/blobs/{sha256}: inspection documents
 * (docs/PROTOCOL.md "Documents").
 *
 * An upload is judged in two stages.  Before a byte of the body is read:
 * the Trace-Upload header (a DSSE envelope of a blob statement, base64),
 * its signature under the key the payload names, that key's role (an
 * inspector, brand or importer), revocation and window, the declared
 * length against the statement's size and --max-blob, and in the store
 * (read-only) whether the document is there already, the key's quota for
 * the day and the store's room.  So a refusal costs the uploader no
 * bandwidth and the server no memory.  Then the body, at most size bytes:
 * its SHA-256 must be the one in the path and the statement, and its magic
 * bytes must be the media type the statement claims.  Only then is it
 * stored, with its statement logged, in one atomic step (store_blob_put).
 * A refused or interrupted upload writes nothing.
 *
 * A download is served so that it can never act as a page of this origin:
 * nosniff, a sandboxing CSP, and PDFs as attachments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "libtrace/blob.h"
#include "libtrace/dsse.h"
#include "libtrace/encoding.h"
#include "libtrace/merkle.h"
#include "libtrace/timefmt.h"
#include "server.h"

#define BLOB_PATH_PREFIX "/api/v1/blobs/"

/* The headers of a refusal sent before the body was read: the client may
 * still be sending it, so this connection ends with the answer. */
#define CLOSE_HEADERS "Connection: close\r\n"

/* What the first stage learned, for the second. */
struct blob_upload {
	char sha256[2 * SHA256_LEN + 1];
	struct dsse_envelope env;
	struct blob_statement st;
	char id[2 * SHA256_LEN + 1];
};

static bool
role_may_upload(enum key_role role)
{
	return role == ROLE_INSPECTOR || role == ROLE_BRAND ||
	    role == ROLE_IMPORTER;
}

/* The {sha256} of the path: 64 lowercase hex digits and nothing else. */
static bool
path_sha256(const struct request *req, char out[2 * SHA256_LEN + 1])
{
	const char *p = req->path + strlen(BLOB_PATH_PREFIX);
	unsigned char raw[SHA256_LEN];

	if (strlen(p) != 2 * SHA256_LEN ||
	    !hex_decode(p, 2 * SHA256_LEN, raw, sizeof(raw), true))
		return false;
	memcpy(out, p, 2 * SHA256_LEN + 1);
	return true;
}

static void
send_error_closing(struct request *req, const struct trace_error *err)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "{\"error\":");
	http_error_object(&b, err);
	buf_puts(&b, "}");
	if (b.failed)
		http_send_json(req, 500, &b);
	else
		http_send(req, trace_status_http(err->status),
		    "application/json", b.data, b.len,
		    "Cache-Control: no-store\r\n" CLOSE_HEADERS);
	buf_free(&b);
}

/* {"sha256","size","media","id","logIndex"}; closing: the body was not
 * read, so the connection ends with this answer. */
static void
send_stored(struct request *req, int status, const char *sha256,
    const struct blob_info *info, bool closing)
{
	struct buf b;

	buf_init(&b, 0);
	buf_printf(&b, "{\"sha256\":\"%s\",\"size\":%lld,\"media\":\"%s\","
	    "\"id\":\"%s\",\"logIndex\":%lld}", sha256, info->size,
	    blob_media_name(info->media), info->id, info->log_index);
	if (b.failed || !closing)
		http_send_json(req, status, &b);
	else
		http_send(req, status, "application/json", b.data, b.len,
		    "Cache-Control: no-store\r\n" CLOSE_HEADERS);
	buf_free(&b);
}

/* The Trace-Upload header: decode, parse and verify the statement. */
static enum trace_status
read_statement(struct request *req, struct blob_upload *up,
    struct key_state *signer, struct trace_error *err)
{
	const char *header = mg_get_header(req->conn, BLOB_HEADER);
	unsigned char *text = NULL;
	size_t n, len = 0;
	bool found = false;
	enum trace_status rc;

	if (header == NULL)
		return trace_error_set(err, TRACE_EMALFORMED, "missing_statement",
		    BLOB_HEADER, "an upload carries its signed statement in the "
		    "%s header", BLOB_HEADER);
	n = strlen(header);
	if (n > BLOB_HEADER_MAX)
		return trace_error_set(err, TRACE_ETOOBIG, "too_large",
		    BLOB_HEADER, "the %s header is at most %d bytes",
		    BLOB_HEADER, BLOB_HEADER_MAX);
	if ((text = malloc(base64_decoded_max(n) + 1)) == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	if ((rc = base64_decode(header, n, text, &len, err)) != TRACE_OK) {
		trace_error_set(err, TRACE_EMALFORMED, "bad_statement",
		    BLOB_HEADER, "the %s header is not base64", BLOB_HEADER);
		goto out;
	}
	if ((rc = dsse_envelope_parse((const char *)text, len, &up->env,
	    err)) != TRACE_OK)
		goto out;
	if (strcmp(up->env.type, TYPE_BLOB) != 0) {
		rc = trace_error_set(err, TRACE_EMALFORMED, "bad_payload_type",
		    "payloadType", "an upload statement has payloadType %s",
		    TYPE_BLOB);
		goto out;
	}
	if ((rc = blob_statement_parse(up->env.payload, up->env.payload_len,
	    &up->st, err)) != TRACE_OK) {
		trace_error_prefix_field(err, "payload");
		goto out;
	}
	if (strcmp(up->st.sha256, up->sha256) != 0) {
		rc = trace_error_set(err, TRACE_EMALFORMED, "sha256_mismatch",
		    "payload.sha256", "the statement is about another document "
		    "than the path names");
		goto out;
	}
	if ((rc = key_cache_get(req->srv, req->worker->store, up->st.signer,
	    signer, &found, err)) != TRACE_OK)
		goto out;
	if (!found) {
		rc = trace_error_set(err, TRACE_EUNKNOWNKEY, "unknown_key",
		    "payload.signer", "key %s is not enrolled", up->st.signer);
		goto out;
	}
	if ((rc = dsse_verify(&up->env, signer->entry.public_key,
	    up->st.signer, err)) != TRACE_OK)
		goto out;
	hex_encode(up->env.id, SHA256_LEN, up->id);
out:
	free(text);
	return rc;
}

/* Who may upload, when, and how much (SPEC 13), all before the body. */
static enum trace_status
check_signer(const struct blob_upload *up, const struct key_state *signer,
    struct trace_error *err)
{
	const struct key_entry *e = &signer->entry;

	if (signer->revoked)
		return trace_error_set(err, TRACE_EFORBIDDEN, "key_revoked",
		    "payload.signer", "key %s is revoked", up->st.signer);
	if (signer->is_root || !role_may_upload(e->role))
		return trace_error_set(err, TRACE_EFORBIDDEN, "role_not_allowed",
		    "payload.signer", "documents are uploaded by inspector, "
		    "brand or importer keys");
	if ((e->has_not_before && up->st.time < e->not_before) ||
	    (e->has_not_after && up->st.time > e->not_after))
		return trace_error_set(err, TRACE_EFORBIDDEN, "outside_window",
		    "payload.time", "the statement's time is outside the key's "
		    "window");
	if (up->st.time > time_now() + FUTURE_SKEW_SECONDS)
		return trace_error_set(err, TRACE_ERULE, "time_in_future",
		    "payload.time", "the statement's time is in the future");
	return TRACE_OK;
}

static enum trace_status
outcome_error(enum blob_outcome outcome, const struct blob_upload *up,
    const struct server_config *cfg, struct trace_error *err)
{
	switch (outcome) {
	case BLOB_QUOTA:
		return trace_error_set(err, TRACE_EQUOTA, "quota_exceeded",
		    "payload.size", "key %s may upload %lld bytes a day; this "
		    "document does not fit in what is left today",
		    up->st.signer, cfg->blob_quota);
	case BLOB_FULL:
		return trace_error_set(err, TRACE_EFULL, "store_full", NULL,
		    "the server's space for documents is full");
	case BLOB_REVOKED:
		return trace_error_set(err, TRACE_EFORBIDDEN, "key_revoked",
		    "payload.signer", "key %s is revoked", up->st.signer);
	default:
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "unexpected answer from the store");
	}
}

static void
handle_put(struct request *req, struct blob_upload *up)
{
	const struct server_config *cfg = &req->srv->cfg;
	long long declared = req->info->content_length;
	struct blob_limits limits = { .quota = cfg->blob_quota,
		.store_max = cfg->blob_store_max, .now = time_now() };
	struct key_state signer;
	struct trace_error err;
	struct blob_info info;
	struct blob_put_args args;
	enum blob_outcome outcome;
	enum blob_media media;
	unsigned char digest[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1], *body = NULL, *text = NULL;
	size_t len = 0, text_len = 0;
	const char *expect;
	unsigned char leaf[SHA256_LEN];
	long long used = 0;

	/* ---- before the body ---- */
	if (read_statement(req, up, &signer, &err) != TRACE_OK ||
	    check_signer(up, &signer, &err) != TRACE_OK)
		goto refuse_early;
	if (declared < 0) {
		trace_error_set(&err, TRACE_EMALFORMED, "length_required", NULL,
		    "an upload declares its Content-Length (the statement's "
		    "size)");
		goto refuse_early;
	}
	if (up->st.size > cfg->max_blob) {
		trace_error_set(&err, TRACE_ETOOBIG, "too_large", "payload.size",
		    "a document is at most %lld bytes", cfg->max_blob);
		goto refuse_early;
	}
	if (declared != up->st.size) {
		trace_error_set(&err, TRACE_EMALFORMED, "size_mismatch",
		    "payload.size", "Content-Length %lld is not the statement's "
		    "size %lld", declared, up->st.size);
		goto refuse_early;
	}
	if (store_blob_admit(req->worker->store, up->sha256, up->st.size,
	    up->st.signer, &limits, &outcome, &info, &used, &err) != TRACE_OK)
		goto refuse_early;
	if (outcome == BLOB_PRESENT) {
		/* Nothing to read: the answer ends the connection, so the
		 * unread body is never taken for a request. */
		send_stored(req, 200, up->sha256, &info, true);
		return;
	}
	if (outcome != BLOB_OK) {
		outcome_error(outcome, up, cfg, &err);
		goto refuse_early;
	}

	/* ---- the body: exactly size bytes ---- */
	/* RFC 9110 10.1.1: a client that waits for it (curl does, for large
	 * bodies) may send the body now; a refusal above came instead. */
	if ((expect = mg_get_header(req->conn, "Expect")) != NULL &&
	    strcasecmp(expect, "100-continue") == 0)
		mg_write(req->conn, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	if (http_read_body(req, (size_t)up->st.size, &body, &len, &err) !=
	    TRACE_OK)
		goto refuse;
	sha256(body, len, digest);
	hex_encode(digest, SHA256_LEN, hex);
	if (strcmp(hex, up->sha256) != 0) {
		trace_error_set(&err, TRACE_ERULE, "hash_mismatch", NULL,
		    "the body's SHA-256 is %s, not the %s named", hex,
		    up->sha256);
		goto refuse;
	}
	if (!blob_media_detect((const unsigned char *)body, len, &media)) {
		trace_error_set(&err, TRACE_EMEDIA, "unsupported_media", NULL,
		    "the body is not a PDF, JPEG or PNG file (by its first "
		    "bytes)");
		goto refuse;
	}
	if (media != up->st.media) {
		trace_error_set(&err, TRACE_EMEDIA, "media_mismatch",
		    "payload.media", "the body is %s, not the %s the statement "
		    "names", blob_media_name(media),
		    blob_media_name(up->st.media));
		goto refuse;
	}
	merkle_leaf_hash_statement(up->env.type, up->env.payload,
	    up->env.payload_len, leaf);
	if ((text = dsse_envelope_to_text(&up->env, &text_len)) == NULL) {
		trace_error_set(&err, TRACE_ENOMEM, NULL, NULL, "out of memory");
		goto refuse;
	}
	args = (struct blob_put_args){ .sha256 = up->sha256,
		.data = (const unsigned char *)body, .size = len,
		.media = media, .signer = up->st.signer, .id = up->id,
		.leaf_hash = leaf, .envelope = text,
		.envelope_len = text_len };
	if (store_blob_put(req->worker->store, &args, &limits, &outcome,
	    &info, &err) != TRACE_OK)
		goto refuse;
	if (outcome == BLOB_OK) {
		info.found = true;
		info.size = (long long)len;
		info.media = media;
		memcpy(info.id, up->id, sizeof(info.id));
		atomic_fetch_add(&req->srv->metrics.accepted, 1);
		send_stored(req, 201, up->sha256, &info, false);
		goto out;
	}
	if (outcome == BLOB_PRESENT) {
		send_stored(req, 200, up->sha256, &info, false);
		goto out;
	}
	outcome_error(outcome, up, cfg, &err);
refuse:
	if (err.status == TRACE_ESTORE)
		atomic_fetch_add(&req->srv->metrics.store_errors, 1);
	metrics_count_rejected(&req->srv->metrics, err.code);
	http_send_error(req, &err);
	goto out;
refuse_early:
	if (err.status == TRACE_ESTORE)
		atomic_fetch_add(&req->srv->metrics.store_errors, 1);
	metrics_count_rejected(&req->srv->metrics, err.code);
	send_error_closing(req, &err);
out:
	free(text);
	free(body);
}

/*
 * A download is streamed in pieces of this size, each read from Redis
 * (GETRANGE) and written before the next: however large the document and
 * however many are downloaded at once, a worker holds one piece.
 */
#define DOWNLOAD_PIECE (1024 * 1024)

static void
handle_get(struct request *req, const char *sha256)
{
	bool head = strcmp(req->info->request_method, "HEAD") == 0;
	struct blob_read r;
	struct trace_error err;
	char headers[512];

	if (store_blob_get(req->worker->store, sha256, &r, &err) != TRACE_OK) {
		http_send_error(req, &err);
		return;
	}
	if (!r.info.found) {
		trace_error_set(&err, TRACE_ENOTFOUND, "not_found", NULL,
		    "no document %s is stored", sha256);
		http_send_error(req, &err);
		blob_read_clear(&r);
		return;
	}
	/*
	 * The bytes were checked to be a PDF, JPEG or PNG, and they are
	 * served so that nothing in them could run as this origin even if a
	 * browser disagreed: no sniffing (http_send), a sandbox without
	 * scripts, PDFs as downloads.  Content never changes for a hash.
	 */
	snprintf(headers, sizeof(headers),
	    "Content-Security-Policy: sandbox; default-src 'none'; "
	    "img-src 'self'; style-src 'unsafe-inline'\r\n"
	    "Content-Disposition: %s; filename=\"%s.%s\"\r\n"
	    "Cache-Control: public, max-age=31536000, immutable\r\n"
	    "ETag: \"%s\"\r\n"
	    "Access-Control-Allow-Origin: *\r\n",
	    r.info.media == BLOB_MEDIA_PDF ? "attachment" : "inline", sha256,
	    r.info.media == BLOB_MEDIA_PDF ? "pdf" :
	    r.info.media == BLOB_MEDIA_JPEG ? "jpg" : "png", sha256);
	http_send_head(req, 200, blob_media_name(r.info.media),
	    (size_t)r.info.size, headers);
	for (size_t off = 0; !head && off < (size_t)r.info.size;) {
		struct blob_read piece;
		size_t want = (size_t)r.info.size - off;

		if (want > DOWNLOAD_PIECE)
			want = DOWNLOAD_PIECE;
		/* Swept (or the store gone) after the head was sent: the
		 * answer can only be cut short; the client sees a body
		 * shorter than its Content-Length and retries. */
		if (store_blob_range(req->worker->store, sha256, off, want,
		    &piece, &err) != TRACE_OK || piece.len != want ||
		    mg_write(req->conn, piece.data, piece.len) <= 0) {
			blob_read_clear(&piece);
			break;
		}
		blob_read_clear(&piece);
		off += want;
	}
	blob_read_clear(&r);
}

void
blobs_handle(struct request *req)
{
	struct blob_upload up;
	struct trace_error err;

	memset(&up, 0, sizeof(up));
	if (!path_sha256(req, up.sha256)) {
		trace_error_set(&err, TRACE_ENOTFOUND, "not_found", NULL,
		    "a document's path is %s{sha256}, 64 lowercase hex digits",
		    BLOB_PATH_PREFIX);
		if (strcmp(req->info->request_method, "PUT") == 0)
			send_error_closing(req, &err);
		else
			http_send_error(req, &err);
		return;
	}
	if (strcmp(req->info->request_method, "PUT") == 0)
		handle_put(req, &up);
	else
		handle_get(req, up.sha256);
	dsse_envelope_clear(&up.env);
}
