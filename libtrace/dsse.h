/*
 * dsse.h - DSSE envelopes (docs/PROTOCOL.md section 5): the pre-authentication encoding,
 * parsing and writing envelopes, signing, verification and statement ids.
 *
 * A statement's id is the SHA-256 of its PAE bytes, never of signature
 * bytes, so re-signing or a malleated signature cannot mint a second id for
 * the same statement.
 */
#ifndef TRACE_DSSE_H
#define TRACE_DSSE_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto.h"
#include "error.h"
#include "json.h"

#define DSSE_TYPE_MAX 128          /* bytes of payloadType */
#define DSSE_PAYLOAD_MAX 16384     /* bytes of decoded payload */
#define DSSE_KEYID_MAX 64          /* bytes of a keyid hint */
/* Signatures a stored round-1 envelope may carry (a new one carries one). */
#define DSSE_SIGNATURES_MAX 4
/* An envelope as text: base64 payload, signatures, punctuation. */
#define DSSE_ENVELOPE_MAX (DSSE_PAYLOAD_MAX * 4 / 3 + 4096)

#define TYPE_EVENT "application/vnd.trace.event.v1+json"
#define TYPE_KEY "application/vnd.trace.key.v1+json"

struct dsse_signature {
	char keyid[DSSE_KEYID_MAX + 1];  /* "" when absent */
	unsigned char sig[ED25519_SIG_LEN];
	size_t sig_len;                  /* as decoded; 64 to be valid */
};

struct dsse_envelope {
	char type[DSSE_TYPE_MAX + 1];
	unsigned char *payload;          /* malloc'd, NUL-terminated */
	size_t payload_len;
	struct dsse_signature sigs[DSSE_SIGNATURES_MAX];
	size_t sig_count;
	unsigned char id[SHA256_LEN];    /* SHA-256(PAE) */
};

/* Bytes of PAE(type, payload). */
size_t dsse_pae_len(size_t type_len, size_t payload_len);

/* Write PAE into out (dsse_pae_len bytes); returns the length. */
size_t dsse_pae_write(const char *type, size_t type_len,
    const unsigned char *payload, size_t payload_len, unsigned char *out);

/* The PAE in a malloc'd buffer the caller frees, or NULL without memory. */
unsigned char *dsse_pae(const char *type, const unsigned char *payload,
    size_t payload_len, size_t *len);

/*
 * SHA-256(prefix || PAE(type, payload)), streamed: nothing is allocated, so
 * it cannot fail.  prefix may be NULL when prefix_len is 0.  The statement
 * id and the log's leaf hash (merkle_leaf_hash_statement) are both this.
 */
void dsse_pae_sha256(const void *prefix, size_t prefix_len, const char *type,
    const unsigned char *payload, size_t payload_len,
    unsigned char out[SHA256_LEN]);

/* SHA-256 of the PAE, without building it (cannot fail). */
void dsse_statement_id(const char *type, const unsigned char *payload,
    size_t payload_len, unsigned char id[SHA256_LEN]);

/*
 * Read an envelope from a parsed JSON value (so a batch is parsed once).
 * Strict: exactly payloadType, payload and signatures, nothing else, and
 * exactly one signature {keyid?, sig} (SPEC 8; 0 or more than one is
 * TRACE_EMALFORMED "bad_signatures", field "signatures", found before any
 * signature is decoded); base64 standard or URL-safe.  This is the reader
 * for anything submitted or put in a bundle.  On TRACE_OK env owns a
 * payload released by dsse_envelope_clear().  Errors name the field.
 */
enum trace_status dsse_envelope_from_json(const struct json_value *v,
    struct dsse_envelope *env, struct trace_error *err);

/* Parse envelope text (bounded by DSSE_ENVELOPE_MAX), strictly as above. */
enum trace_status dsse_envelope_parse(const char *text, size_t len,
    struct dsse_envelope *env, struct trace_error *err);

/*
 * The same two for envelopes already in the store: 1 to
 * DSSE_SIGNATURES_MAX signatures, as round 1 accepted and kept them.
 * Never for a submission.  What is served from such an envelope is
 * dsse_envelope_keep_verified()'s result (SPEC 8 "Data from round 1").
 */
enum trace_status dsse_envelope_from_json_stored(const struct json_value *v,
    struct dsse_envelope *env, struct trace_error *err);
enum trace_status dsse_envelope_parse_stored(const char *text, size_t len,
    struct dsse_envelope *env, struct trace_error *err);

/* Release what an envelope owns; the struct may be reused.  Accepts NULL. */
void dsse_envelope_clear(struct dsse_envelope *env);

/* Write the envelope as a JSON object (standard base64). */
void dsse_envelope_write(const struct dsse_envelope *env,
    struct json_writer *w);

/* The envelope as compact JSON text in a malloc'd NUL-terminated buffer. */
char *dsse_envelope_to_text(const struct dsse_envelope *env, size_t *len);

/*
 * Make a one-signature envelope over a copy of payload.  keyid is the hint
 * written next to the signature.
 */
enum trace_status dsse_sign(const char *type, const unsigned char *payload,
    size_t payload_len, const unsigned char secret[ED25519_SECRET_LEN],
    const char *keyid, struct dsse_envelope *env, struct trace_error *err);

/*
 * TRACE_OK if one of the envelope's signatures verifies under public_key
 * over PAE(type, payload).  Signatures whose hint is keyid are tried first;
 * the hint is never trusted on its own.  TRACE_EBADSIG otherwise.  A
 * strictly parsed envelope has one signature; a verifier that must hold a
 * bundle to the same rule checks sig_count == 1 itself (bundle_verify).
 */
enum trace_status dsse_verify(const struct dsse_envelope *env,
    const unsigned char public_key[ED25519_PUBLIC_LEN], const char *keyid,
    struct trace_error *err);

/*
 * Reduce an envelope read by a *_stored reader to the one signature that
 * verifies under public_key (the signer's key; hinted signatures first, as
 * dsse_verify), so that what is served carries exactly one (SPEC 8 "Data
 * from round 1").  env->id, SHA-256 of the PAE, does not change; neither
 * does the rest of the envelope.  TRACE_OK with env->sig_count == 1;
 * TRACE_EBADSIG "bad_signature" if none verifies (env unchanged), or
 * TRACE_ENOMEM.  Write the result with dsse_envelope_to_text(): for an
 * envelope that already had one signature that is the stored text itself.
 */
enum trace_status dsse_envelope_keep_verified(struct dsse_envelope *env,
    const unsigned char public_key[ED25519_PUBLIC_LEN], const char *keyid,
    struct trace_error *err);

#endif
