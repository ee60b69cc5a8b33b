/*
 * cosign.c - C2SP tlog-cosignature `cosignature/v1` (c2sp.org/
 * tlog-cosignature): signing and verifying the timestamped Ed25519
 * cosignature of a checkpoint.  The note and vkey formats belong to
 * note.c; this module owns only what the cosignature adds: the key ID's
 * type byte 0x04, the timestamp and the signed message.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosign.h"
#include "encoding.h"

/* tlog-cosignature "Ed25519 signed message": the header line. */
static const char header[] = "cosignature/v1\n";
#define HEADER_LEN (sizeof(header) - 1)

/* "— " : U+2014 EM DASH in UTF-8, then a space (signed-note "Format"). */
static const char sig_prefix[] = "\xe2\x80\x94 ";
#define SIG_PREFIX_LEN 4

enum trace_status
cosign_signer_from_secret(const char *name,
    const unsigned char secret[ED25519_SECRET_LEN], struct note_signer *out,
    struct trace_error *err)
{
	enum trace_status st;

	st = note_signer_from_secret(name, secret, out, err);
	if (st != TRACE_OK)
		return st;
	out->key_hash = note_key_id(out->name, strlen(out->name),
	    NOTE_TYPE_COSIGNATURE_V1, out->public_key);
	return TRACE_OK;
}

enum trace_status
cosign_verifier_from_public(const char *name,
    const unsigned char public_key[ED25519_PUBLIC_LEN],
    struct note_verifier *out, struct trace_error *err)
{
	enum trace_status st;

	st = note_verifier_from_public(name, public_key, out, err);
	if (st != TRACE_OK)
		return st;
	out->key_hash = note_key_id(out->name, strlen(out->name),
	    NOTE_TYPE_COSIGNATURE_V1, public_key);
	return TRACE_OK;
}

enum trace_status
cosign_verifier_parse(const char *vkey, size_t len, struct note_verifier *out,
    struct trace_error *err)
{
	return note_vkey_parse(vkey, len, NOTE_TYPE_COSIGNATURE_V1, out, err);
}

enum trace_status
cosign_verifier_format(const struct note_verifier *v, char *out, size_t size,
    struct trace_error *err)
{
	return note_vkey_format(v->name, NOTE_TYPE_COSIGNATURE_V1,
	    v->public_key, out, size, err);
}

enum trace_status
cosign_message(const char *body, size_t body_len, uint64_t timestamp,
    char **out, size_t *out_len, struct trace_error *err)
{
	char time_line[32];
	struct checkpoint cp;
	enum trace_status st;
	char *buf;
	int n;

	*out = NULL;
	/* A cosignature is "a note signature applied to a checkpoint". */
	if ((st = checkpoint_parse(body, body_len, &cp, err)) != TRACE_OK)
		return st;
	if (timestamp > COSIGN_TIMESTAMP_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_timestamp",
		    "timestamp", "a cosignature timestamp is below 2^63");
	/* "time", a space, ASCII decimal with no leading zeroes. */
	n = snprintf(time_line, sizeof(time_line), "time %" PRIu64 "\n",
	    timestamp);
	if (n < 0 || (size_t)n >= sizeof(time_line))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_timestamp",
		    "timestamp", "cannot format the timestamp");
	buf = malloc(HEADER_LEN + (size_t)n + body_len + 1);
	if (buf == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	memcpy(buf, header, HEADER_LEN);
	memcpy(buf + HEADER_LEN, time_line, (size_t)n);
	memcpy(buf + HEADER_LEN + (size_t)n, body, body_len);
	*out_len = HEADER_LEN + (size_t)n + body_len;
	buf[*out_len] = '\0';
	*out = buf;
	return TRACE_OK;
}

enum trace_status
cosign_sign(const struct note_signer *signer, const char *body,
    size_t body_len, uint64_t timestamp, char *line, size_t size,
    size_t *line_len, struct trace_error *err)
{
	unsigned char sig[COSIGN_SIG_BYTES];
	char b64[4 * ((COSIGN_SIG_BYTES + 2) / 3) + 1];
	size_t msg_len = 0;
	enum trace_status st;
	char *msg = NULL;
	int n;

	st = cosign_message(body, body_len, timestamp, &msg, &msg_len, err);
	if (st != TRACE_OK)
		goto out;
	/* timestamped_signature: key ID, then u64 timestamp big-endian
	 * (RFC 8446 3.3), then the signature. */
	for (int i = 0; i < 4; i++)
		sig[i] = (unsigned char)(signer->key_hash >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		sig[4 + i] = (unsigned char)(timestamp >> (56 - 8 * i));
	st = ed25519_sign(signer->secret, msg, msg_len, sig + 12, err);
	if (st != TRACE_OK)
		goto out;
	base64_encode(sig, sizeof(sig), b64);
	n = snprintf(line, size, "%s%s %s\n", sig_prefix, signer->name, b64);
	if (n < 0 || (size_t)n >= size) {
		st = trace_error_set(err, TRACE_ETOOBIG, "buffer_too_small",
		    NULL, "a cosignature line needs %d bytes", n + 1);
		goto out;
	}
	*line_len = (size_t)n;
	st = TRACE_OK;
out:
	free(msg);
	return st;
}

enum trace_status
cosign_verify_parsed(const char *msg, const struct note_parsed *parsed,
    const struct note_verifier *verifier, uint64_t *timestamp,
    struct trace_error *err)
{
	size_t want_len = strlen(verifier->name);
	enum trace_status st = TRACE_OK;
	char *signed_msg = NULL;
	size_t signed_len = 0;
	uint64_t newest = 0;
	bool found = false;

	for (size_t i = 0; i < parsed->count; i++) {
		const struct note_signature *sig = &parsed->sigs[i];
		uint64_t ts = 0;

		/* signed-note "Signatures": name and key ID together name
		 * the key; anything else is another key's business. */
		if (sig->name_len != want_len ||
		    memcmp(sig->name, verifier->name, want_len) != 0 ||
		    sig->key_id != verifier->key_hash)
			continue;
		if (sig->sig_len != COSIGN_SIG_BYTES - 4) {
			st = trace_error_set(err, TRACE_EBADSIG,
			    "bad_cosignature", "signatures",
			    "the cosignature by %s has %zu bytes, not %d",
			    verifier->name, sig->sig_len + 4,
			    COSIGN_SIG_BYTES);
			goto out;
		}
		for (int k = 0; k < 8; k++)
			ts = ts << 8 | sig->sig[k];
		free(signed_msg);
		signed_msg = NULL;
		/* Also refuses a timestamp of 2^63 or more. */
		st = cosign_message(msg, parsed->text_len, ts, &signed_msg,
		    &signed_len, err);
		if (st == TRACE_EMALFORMED) {
			st = trace_error_set(err, TRACE_EBADSIG,
			    "bad_cosignature", "signatures",
			    "the cosignature by %s is over no valid checkpoint "
			    "or time", verifier->name);
			goto out;
		}
		if (st != TRACE_OK)
			goto out;
		if (!ed25519_verify(verifier->public_key, ED25519_PUBLIC_LEN,
		    signed_msg, signed_len, sig->sig + 8, ED25519_SIG_LEN)) {
			st = trace_error_set(err, TRACE_EBADSIG,
			    "bad_cosignature", "signatures",
			    "the cosignature by %s does not verify",
			    verifier->name);
			goto out;
		}
		if (!found || ts > newest)
			newest = ts;
		found = true;
	}
	if (!found) {
		st = trace_error_set(err, TRACE_EUNKNOWNKEY, "no_cosignature",
		    "signatures", "no cosignature by %s+%08" PRIx32,
		    verifier->name, verifier->key_hash);
		goto out;
	}
	*timestamp = newest;
	st = TRACE_OK;
out:
	free(signed_msg);
	return st;
}

enum trace_status
cosign_verify(const char *msg, size_t len, const struct note_verifier *verifier,
    uint64_t *timestamp, struct trace_error *err)
{
	struct note_parsed parsed;
	enum trace_status st;

	if ((st = note_parse(msg, len, &parsed, err)) != TRACE_OK)
		return st;
	st = cosign_verify_parsed(msg, &parsed, verifier, timestamp, err);
	note_parsed_clear(&parsed);
	return st;
}
