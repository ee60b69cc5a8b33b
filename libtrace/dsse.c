/*
 * dsse.c - DSSE envelopes: PAE, strict parsing, writing, signing, verifying.
 *
 * The envelope keeps the decoded payload bytes; those bytes (inside the PAE)
 * are what is signed, logged and hashed into the statement id.  Writing an
 * envelope back always uses standard base64, so the stored form of a
 * statement is canonical whatever alphabet the client sent.
 *
 * An envelope carries exactly one signature (SPEC 8): more would let a
 * relay make the server verify several per statement and would store and
 * serve whatever it added.  Round 1 accepted 1 to 4, and stored them; the
 * *_stored readers still read those, and dsse_envelope_keep_verified()
 * cuts one down to the signature that verifies, which is what is served.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsse.h"
#include "encoding.h"
#include "tlogtiles.h"

/*
 * PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body,
 * LEN the ASCII decimal byte count (DSSE v1 protocol; docs/PROTOCOL.md
 * 5.2).  The format is written here once: the two short pieces around the
 * type are formatted by pae_frame() and every other function (length,
 * copy, hash) works on those pieces, so no caller needs the PAE in one
 * buffer unless it must have it that way (Ed25519 signs a whole message).
 */
struct pae_frame {
	char before[32];        /* "DSSEv1 " LEN(type) SP */
	size_t before_len;
	char after[32];         /* SP LEN(body) SP */
	size_t after_len;
};

static void
pae_frame(size_t type_len, size_t payload_len, struct pae_frame *f)
{
	int n;

	/* A size_t has at most 20 digits, so neither piece can be cut. */
	n = snprintf(f->before, sizeof(f->before), "DSSEv1 %zu ", type_len);
	assert(n > 0 && (size_t)n < sizeof(f->before));
	f->before_len = (size_t)n;
	n = snprintf(f->after, sizeof(f->after), " %zu ", payload_len);
	assert(n > 0 && (size_t)n < sizeof(f->after));
	f->after_len = (size_t)n;
}

size_t
dsse_pae_len(size_t type_len, size_t payload_len)
{
	struct pae_frame f;

	pae_frame(type_len, payload_len, &f);
	return f.before_len + type_len + f.after_len + payload_len;
}

size_t
dsse_pae_write(const char *type, size_t type_len,
    const unsigned char *payload, size_t payload_len, unsigned char *out)
{
	struct pae_frame f;
	size_t o;

	pae_frame(type_len, payload_len, &f);
	memcpy(out, f.before, f.before_len);
	o = f.before_len;
	memcpy(out + o, type, type_len);
	o += type_len;
	memcpy(out + o, f.after, f.after_len);
	o += f.after_len;
	if (payload_len > 0)
		memcpy(out + o, payload, payload_len);
	return o + payload_len;
}

unsigned char *
dsse_pae(const char *type, const unsigned char *payload, size_t payload_len,
    size_t *len)
{
	size_t type_len = strlen(type);
	unsigned char *buf = malloc(dsse_pae_len(type_len, payload_len));

	if (buf != NULL)
		*len = dsse_pae_write(type, type_len, payload, payload_len, buf);
	return buf;
}

void
dsse_pae_sha256(const void *prefix, size_t prefix_len, const char *type,
    const unsigned char *payload, size_t payload_len,
    unsigned char out[SHA256_LEN])
{
	struct pae_frame f;
	size_t type_len = strlen(type), n = 0;
	struct sha256_part parts[5];

	pae_frame(type_len, payload_len, &f);
	if (prefix_len > 0)
		parts[n++] = (struct sha256_part){ prefix, prefix_len };
	parts[n++] = (struct sha256_part){ f.before, f.before_len };
	parts[n++] = (struct sha256_part){ type, type_len };
	parts[n++] = (struct sha256_part){ f.after, f.after_len };
	parts[n++] = (struct sha256_part){ payload, payload_len };
	sha256_parts(parts, n, out);
}

void
dsse_statement_id(const char *type, const unsigned char *payload,
    size_t payload_len, unsigned char id[SHA256_LEN])
{
	dsse_pae_sha256(NULL, 0, type, payload, payload_len, id);
}

void
dsse_envelope_clear(struct dsse_envelope *env)
{
	if (env == NULL)
		return;
	free(env->payload);
	memset(env, 0, sizeof(*env));
}

static bool
type_valid(const char *s, size_t len)
{
	if (len == 0 || len > DSSE_TYPE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

static enum trace_status
signature_from_json(const struct json_value *v, struct dsse_signature *sig,
    struct trace_error *err)
{
	static const char *const fields[] = { "keyid", "sig", NULL };
	/* base64_decoded_max(88), 88 being the base64 length of 64 bytes. */
	unsigned char raw[69];
	const char *keyid = NULL, *text = NULL;
	size_t keyid_len = 0, text_len = 0, raw_len = 0;
	enum trace_status rc;

	if (v->type != JSON_OBJECT)
		return trace_error_set(err, TRACE_EMALFORMED, "wrong_type", NULL,
		    "a signature must be an object");
	if ((rc = json_object_only(v, fields, err)) != TRACE_OK ||
	    (rc = json_get_string(v, "keyid", false, &keyid, &keyid_len,
	    err)) != TRACE_OK ||
	    (rc = json_get_string(v, "sig", true, &text, &text_len, err)) !=
	    TRACE_OK)
		return rc;
	if (keyid_len > DSSE_KEYID_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_keyid",
		    "keyid", "keyid is longer than %d bytes", DSSE_KEYID_MAX);
	/* Anything longer than a signature's base64 is not one; the bound
	 * also keeps the decoder inside raw (found by fuzz_envelope). */
	if (text_len > base64_encoded_len(ED25519_SIG_LEN) ||
	    base64_decode(text, text_len, raw, &raw_len, err) != TRACE_OK)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_signature_encoding",
		    "sig", "sig is not base64 of a signature");
	if (raw_len != ED25519_SIG_LEN)
		return trace_error_set(err, TRACE_EBADSIG, "bad_signature",
		    "sig", "an Ed25519 signature is 64 bytes, not %zu", raw_len);
	if (keyid != NULL)      /* an absent keyid is the empty one */
		memcpy(sig->keyid, keyid, keyid_len);
	sig->keyid[keyid_len] = '\0';
	memcpy(sig->sig, raw, raw_len);
	sig->sig_len = raw_len;
	return TRACE_OK;
}

/*
 * The one envelope reader; max_sigs is 1 for a submission (SPEC 8: exactly
 * one signature) and DSSE_SIGNATURES_MAX for what round 1 stored.
 */
static enum trace_status
envelope_from_json(const struct json_value *v, size_t max_sigs,
    struct dsse_envelope *env, struct trace_error *err)
{
	static const char *const fields[] = { "payloadType", "payload",
		"signatures", NULL };
	const struct json_value *sigs = NULL;
	const char *type = NULL, *payload = NULL;
	size_t type_len = 0, payload_len = 0;
	enum trace_status rc;

	memset(env, 0, sizeof(*env));
	if (v->type != JSON_OBJECT)
		return trace_error_set(err, TRACE_EMALFORMED, "wrong_type", NULL,
		    "an envelope must be a JSON object");
	if ((rc = json_object_only(v, fields, err)) != TRACE_OK ||
	    (rc = json_get_string(v, "payloadType", true, &type, &type_len,
	    err)) != TRACE_OK ||
	    (rc = json_get_string(v, "payload", true, &payload, &payload_len,
	    err)) != TRACE_OK ||
	    (rc = json_get_array(v, "signatures", true, &sigs, err)) !=
	    TRACE_OK)
		return rc;
	if (!type_valid(type, type_len))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_payload_type",
		    "payloadType", "payloadType must be 1-%d printable ASCII "
		    "characters", DSSE_TYPE_MAX);
	if (payload_len > base64_encoded_len(DSSE_PAYLOAD_MAX))
		return trace_error_set(err, TRACE_ETOOBIG, "too_large",
		    "payload", "payload is over %d bytes", DSSE_PAYLOAD_MAX);
	/* Counted before any is decoded or verified: a relay that pads an
	 * envelope with signatures costs the server nothing. */
	if (sigs->u.array.count == 0 || sigs->u.array.count > max_sigs) {
		if (max_sigs == 1)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_signatures", "signatures", "an envelope "
			    "carries exactly one signature, not %zu",
			    sigs->u.array.count);
		return trace_error_set(err, TRACE_EMALFORMED, "bad_signatures",
		    "signatures", "a stored envelope has 1 to %zu signatures, "
		    "not %zu", max_sigs, sigs->u.array.count);
	}
	memcpy(env->type, type, type_len + 1);
	env->payload = malloc(base64_decoded_max(payload_len) + 1);
	if (env->payload == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	if (base64_decode(payload, payload_len, env->payload,
	    &env->payload_len, err) != TRACE_OK) {
		rc = trace_error_set(err, TRACE_EMALFORMED, "bad_payload_encoding",
		    "payload", "payload is not valid base64");
		goto fail;
	}
	if (env->payload_len > DSSE_PAYLOAD_MAX) {
		rc = trace_error_set(err, TRACE_ETOOBIG, "too_large", "payload",
		    "payload is over %d bytes", DSSE_PAYLOAD_MAX);
		goto fail;
	}
	/* The log's leaf data is the PAE, and tlog-tiles entry bundles give
	 * each entry a uint16 length (SPEC 10): a longer PAE could be logged
	 * but never served.  Unreachable while DSSE_PAYLOAD_MAX holds. */
	if (dsse_pae_len(type_len, env->payload_len) > TLOG_ENTRY_MAX) {
		rc = trace_error_set(err, TRACE_ETOOBIG, "too_large", "payload",
		    "the statement's PAE is over %d bytes", TLOG_ENTRY_MAX);
		goto fail;
	}
	env->payload[env->payload_len] = '\0';
	for (size_t i = 0; i < sigs->u.array.count; i++) {
		rc = signature_from_json(sigs->u.array.items[i], &env->sigs[i],
		    err);
		if (rc != TRACE_OK) {
			char parent[48];

			snprintf(parent, sizeof(parent), "signatures[%zu]", i);
			trace_error_prefix_field(err, parent);
			goto fail;
		}
		env->sig_count++;
	}
	dsse_statement_id(env->type, env->payload, env->payload_len, env->id);
	return TRACE_OK;
fail:
	dsse_envelope_clear(env);
	return rc;
}

enum trace_status
dsse_envelope_from_json(const struct json_value *v, struct dsse_envelope *env,
    struct trace_error *err)
{
	return envelope_from_json(v, 1, env, err);
}

enum trace_status
dsse_envelope_from_json_stored(const struct json_value *v,
    struct dsse_envelope *env, struct trace_error *err)
{
	return envelope_from_json(v, DSSE_SIGNATURES_MAX, env, err);
}

static enum trace_status
envelope_parse(const char *text, size_t len, size_t max_sigs,
    struct dsse_envelope *env, struct trace_error *err)
{
	struct json_limits limits = json_limits_default;
	struct json_doc *doc = NULL;
	enum trace_status rc;

	memset(env, 0, sizeof(*env));
	limits.max_size = DSSE_ENVELOPE_MAX;
	limits.max_string = base64_encoded_len(DSSE_PAYLOAD_MAX);
	limits.max_depth = 3;
	limits.max_values = 32;
	rc = json_parse(text, len, &limits, &doc, err);
	if (rc == TRACE_OK)
		rc = envelope_from_json(json_doc_root(doc), max_sigs, env, err);
	json_doc_free(doc);
	return rc;
}

enum trace_status
dsse_envelope_parse(const char *text, size_t len, struct dsse_envelope *env,
    struct trace_error *err)
{
	return envelope_parse(text, len, 1, env, err);
}

enum trace_status
dsse_envelope_parse_stored(const char *text, size_t len,
    struct dsse_envelope *env, struct trace_error *err)
{
	return envelope_parse(text, len, DSSE_SIGNATURES_MAX, env, err);
}

void
dsse_envelope_write(const struct dsse_envelope *env, struct json_writer *w)
{
	char *b64 = malloc(base64_encoded_len(env->payload_len) + 1);
	char sig[base64_encoded_len(ED25519_SIG_LEN) + 1];
	size_t n;

	json_writer_object_open(w);
	json_writer_key(w, "payloadType");
	json_writer_cstring(w, env->type);
	json_writer_key(w, "payload");
	if (b64 != NULL) {
		n = base64_encode(env->payload, env->payload_len, b64);
		json_writer_string(w, b64, n);
		free(b64);
	} else {
		/* Leave the writer unbalanced so its result reports failure. */
		return;
	}
	json_writer_key(w, "signatures");
	json_writer_array_open(w);
	for (size_t i = 0; i < env->sig_count; i++) {
		json_writer_object_open(w);
		if (env->sigs[i].keyid[0] != '\0') {
			json_writer_key(w, "keyid");
			json_writer_cstring(w, env->sigs[i].keyid);
		}
		json_writer_key(w, "sig");
		n = base64_encode(env->sigs[i].sig, env->sigs[i].sig_len, sig);
		json_writer_string(w, sig, n);
		json_writer_object_close(w);
	}
	json_writer_array_close(w);
	json_writer_object_close(w);
}

char *
dsse_envelope_to_text(const struct dsse_envelope *env, size_t *len)
{
	struct json_writer *w = json_writer_new(false);
	const char *buf;
	char *copy = NULL;
	size_t n;

	if (w == NULL)
		return NULL;
	dsse_envelope_write(env, w);
	if (json_writer_result(w, &buf, &n, NULL) == TRACE_OK &&
	    (copy = malloc(n + 1)) != NULL) {
		memcpy(copy, buf, n);
		copy[n] = '\0';
		*len = n;
	}
	json_writer_free(w);
	return copy;
}

enum trace_status
dsse_sign(const char *type, const unsigned char *payload, size_t payload_len,
    const unsigned char secret[ED25519_SECRET_LEN], const char *keyid,
    struct dsse_envelope *env, struct trace_error *err)
{
	size_t type_len = strlen(type), keyid_len = strlen(keyid), pae_len = 0;
	unsigned char *pae = NULL;
	enum trace_status rc;

	memset(env, 0, sizeof(*env));
	if (!type_valid(type, type_len) || keyid_len > DSSE_KEYID_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_argument",
		    NULL, "bad payload type or key id");
	if (payload_len > DSSE_PAYLOAD_MAX)
		return trace_error_set(err, TRACE_ETOOBIG, "too_large", "payload",
		    "payload is over %d bytes", DSSE_PAYLOAD_MAX);
	memcpy(env->type, type, type_len + 1);
	env->payload = malloc(payload_len + 1);
	pae = dsse_pae(type, payload, payload_len, &pae_len);
	if (env->payload == NULL || pae == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	memcpy(env->payload, payload, payload_len);
	env->payload[payload_len] = '\0';
	env->payload_len = payload_len;
	rc = ed25519_sign(secret, pae, pae_len, env->sigs[0].sig, err);
	if (rc != TRACE_OK)
		goto out;
	env->sigs[0].sig_len = ED25519_SIG_LEN;
	memcpy(env->sigs[0].keyid, keyid, keyid_len + 1);
	env->sig_count = 1;
	sha256(pae, pae_len, env->id);
out:
	free(pae);
	if (rc != TRACE_OK)
		dsse_envelope_clear(env);
	return rc;
}

/*
 * The index of the first signature of env that verifies under public_key
 * (those hinted keyid first), or SIZE_MAX if none does; *nomem on no
 * memory.
 */
static size_t
signature_find(const struct dsse_envelope *env,
    const unsigned char public_key[ED25519_PUBLIC_LEN], const char *keyid,
    bool *nomem)
{
	size_t pae_len = 0, found = SIZE_MAX;
	unsigned char *pae = dsse_pae(env->type, env->payload, env->payload_len,
	    &pae_len);

	*nomem = pae == NULL;
	if (pae == NULL)
		return SIZE_MAX;
	/* Two passes: hinted signatures first, then the rest. */
	for (int pass = 0; pass < 2 && found == SIZE_MAX; pass++) {
		for (size_t i = 0; i < env->sig_count && found == SIZE_MAX;
		    i++) {
			bool hinted = keyid != NULL &&
			    strcmp(env->sigs[i].keyid, keyid) == 0;

			if (hinted != (pass == 0))
				continue;
			if (ed25519_verify(public_key, ED25519_PUBLIC_LEN, pae,
			    pae_len, env->sigs[i].sig, env->sigs[i].sig_len))
				found = i;
		}
	}
	free(pae);
	return found;
}

enum trace_status
dsse_verify(const struct dsse_envelope *env,
    const unsigned char public_key[ED25519_PUBLIC_LEN], const char *keyid,
    struct trace_error *err)
{
	bool nomem = false;

	if (signature_find(env, public_key, keyid, &nomem) != SIZE_MAX)
		return TRACE_OK;
	if (nomem)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	return trace_error_set(err, TRACE_EBADSIG, "bad_signature",
	    "signatures", "no signature verifies under the signer's key");
}

enum trace_status
dsse_envelope_keep_verified(struct dsse_envelope *env,
    const unsigned char public_key[ED25519_PUBLIC_LEN], const char *keyid,
    struct trace_error *err)
{
	bool nomem = false;
	size_t i = signature_find(env, public_key, keyid, &nomem);

	if (i == SIZE_MAX) {
		if (nomem)
			return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
		return trace_error_set(err, TRACE_EBADSIG, "bad_signature",
		    "signatures", "no signature verifies under the signer's "
		    "key");
	}
	/* The id is SHA-256 of the PAE: dropping signatures leaves it. */
	if (i != 0)
		env->sigs[0] = env->sigs[i];
	memset(&env->sigs[1], 0, sizeof(env->sigs) - sizeof(env->sigs[0]));
	env->sig_count = 1;
	return TRACE_OK;
}
