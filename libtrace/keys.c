/*
 * keys.c - key ids and the key files the agent and server read.
 *
 * Private key files are checked for their mode before they are read: a key
 * that others could have copied is no proof of who signed, so we refuse it
 * rather than warn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "encoding.h"
#include "fileio.h"
#include "json.h"
#include "keys.h"

void
key_id(const unsigned char public_key[ED25519_PUBLIC_LEN],
    char out[KEYID_LEN + 1])
{
	unsigned char digest[SHA256_LEN];

	sha256(public_key, ED25519_PUBLIC_LEN, digest);
	hex_encode(digest, KEYID_LEN / 2, out);
}

bool
key_id_valid(const char *s, size_t len)
{
	unsigned char raw[KEYID_LEN / 2];

	return hex_decode(s, len, raw, sizeof(raw), true);
}

bool
key_name_valid(const char *s, size_t len)
{
	if (len == 0 || len > KEY_NAME_MAX)
		return false;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' &&
	    s[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

void
key_pair_wipe(struct key_pair *kp)
{
	/* volatile so the compiler cannot drop the stores as dead. */
	volatile unsigned char *p = kp->secret;

	for (size_t i = 0; i < sizeof(kp->secret); i++)
		p[i] = 0;
	kp->has_secret = false;
}

enum trace_status
key_pair_generate(const char *name, struct key_pair *kp,
    struct trace_error *err)
{
	size_t len = strlen(name);
	enum trace_status rc;

	memset(kp, 0, sizeof(*kp));
	if (!key_name_valid(name, len))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_name", "name",
		    "a key name is 1-%d of A-Z a-z 0-9 . _ -", KEY_NAME_MAX);
	memcpy(kp->name, name, len + 1);
	rc = ed25519_generate(kp->secret, kp->public_key, err);
	if (rc != TRACE_OK)
		return rc;
	kp->has_secret = true;
	key_id(kp->public_key, kp->keyid);
	return TRACE_OK;
}

/* JSON of a key file; with_secret adds the seed. */
static char *
key_json(const struct key_pair *kp, bool with_secret, size_t *len)
{
	struct json_writer *w = json_writer_new(true);
	char b64[64];
	const char *buf;
	char *out = NULL;
	size_t n;

	if (w == NULL)
		return NULL;
	json_writer_object_open(w);
	json_writer_key(w, "alg");
	json_writer_cstring(w, "ed25519");
	json_writer_key(w, "keyid");
	json_writer_cstring(w, kp->keyid);
	json_writer_key(w, "public");
	base64_encode(kp->public_key, ED25519_PUBLIC_LEN, b64);
	json_writer_cstring(w, b64);
	json_writer_key(w, "name");
	json_writer_cstring(w, kp->name);
	if (with_secret) {
		json_writer_key(w, "secret");
		base64_encode(kp->secret, ED25519_SECRET_LEN, b64);
		json_writer_cstring(w, b64);
		memset(b64, 0, sizeof(b64));
	}
	json_writer_object_close(w);
	if (json_writer_result(w, &buf, &n, NULL) == TRACE_OK &&
	    (out = malloc(n + 1)) != NULL) {
		memcpy(out, buf, n);
		out[n] = '\0';
		*len = n;
	}
	/* yajl's buffer held the secret too. */
	if (with_secret && json_writer_result(w, &buf, &n, NULL) == TRACE_OK)
		memset((char *)buf, 0, n);
	json_writer_free(w);
	return out;
}

char *
key_public_json(const struct key_pair *kp, size_t *len)
{
	return key_json(kp, false, len);
}

enum trace_status
key_pair_save(const struct key_pair *kp, const char *dir,
    struct trace_error *err)
{
	char path[4096];
	char *secret_text = NULL, *public_text = NULL;
	size_t secret_len = 0, public_len = 0;
	enum trace_status rc;
	int n;

	secret_text = key_json(kp, true, &secret_len);
	public_text = key_json(kp, false, &public_len);
	if (secret_text == NULL || public_text == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	n = snprintf(path, sizeof(path), "%s/%s.key", dir, kp->name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		rc = trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "path too long");
		goto out;
	}
	rc = file_write_atomic(path, secret_text, secret_len, 0600, 1, err);
	if (rc != TRACE_OK)
		goto out;
	snprintf(path, sizeof(path), "%s/%s.pub", dir, kp->name);
	rc = file_write_atomic(path, public_text, public_len, 0644, 1, err);
out:
	if (secret_text != NULL) {
		memset(secret_text, 0, secret_len);
		free(secret_text);
	}
	free(public_text);
	return rc;
}

/* Decode exactly 32 bytes of base64 from member key of obj. */
static enum trace_status
get_key_bytes(const struct json_value *obj, const char *key,
    unsigned char out[32], struct trace_error *err)
{
	unsigned char raw[64];
	const char *s = NULL;
	size_t len = 0, n = 0;
	enum trace_status rc = json_get_string(obj, key, true, &s, &len, err);

	if (rc != TRACE_OK)
		return rc;
	if (len > 48 || base64_decode(s, len, raw, &n, NULL) != TRACE_OK ||
	    n != 32)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_key", key,
		    "\"%s\" must be base64 of 32 bytes", key);
	memcpy(out, raw, 32);
	memset(raw, 0, sizeof(raw));
	return TRACE_OK;
}

static enum trace_status
key_parse(const char *text, size_t len, bool want_secret, struct key_pair *kp,
    struct trace_error *err)
{
	static const char *const pub_fields[] = { "alg", "keyid", "public",
		"name", NULL };
	static const char *const key_fields[] = { "alg", "keyid", "public",
		"name", "secret", NULL };
	struct json_doc *doc = NULL;
	const struct json_value *root;
	const char *alg = NULL, *keyid = NULL, *name = NULL;
	size_t keyid_len = 0, name_len = 0;
	unsigned char derived[ED25519_PUBLIC_LEN];
	char derived_id[KEYID_LEN + 1];
	enum trace_status rc;

	memset(kp, 0, sizeof(*kp));
	rc = json_parse(text, len, NULL, &doc, err);
	if (rc != TRACE_OK)
		return rc;
	root = json_doc_root(doc);
	if (root->type != JSON_OBJECT) {
		rc = trace_error_set(err, TRACE_EMALFORMED, "wrong_type", NULL,
		    "a key file is a JSON object");
		goto out;
	}
	if ((rc = json_object_only(root, want_secret ? key_fields : pub_fields,
	    err)) != TRACE_OK ||
	    (rc = json_get_string(root, "alg", true, &alg, NULL, err)) !=
	    TRACE_OK ||
	    (rc = json_get_string(root, "keyid", true, &keyid, &keyid_len,
	    err)) != TRACE_OK ||
	    (rc = json_get_string(root, "name", true, &name, &name_len, err)) !=
	    TRACE_OK ||
	    (rc = get_key_bytes(root, "public", kp->public_key, err)) !=
	    TRACE_OK)
		goto out;
	if (strcmp(alg, "ed25519") != 0) {
		rc = trace_error_set(err, TRACE_EMALFORMED, "bad_alg", "alg",
		    "only ed25519 keys are supported");
		goto out;
	}
	if (!key_name_valid(name, name_len)) {
		rc = trace_error_set(err, TRACE_EMALFORMED, "bad_name", "name",
		    "bad key name");
		goto out;
	}
	key_id(kp->public_key, derived_id);
	if (keyid_len != KEYID_LEN || strcmp(keyid, derived_id) != 0) {
		rc = trace_error_set(err, TRACE_EMALFORMED, "keyid_mismatch",
		    "keyid", "keyid does not match the public key (want %s)",
		    derived_id);
		goto out;
	}
	memcpy(kp->keyid, derived_id, sizeof(derived_id));
	memcpy(kp->name, name, name_len + 1);
	if (want_secret) {
		if ((rc = get_key_bytes(root, "secret", kp->secret, err)) !=
		    TRACE_OK)
			goto out;
		if ((rc = ed25519_public_from_secret(kp->secret, derived,
		    err)) != TRACE_OK)
			goto out;
		if (!crypto_equal(derived, kp->public_key, sizeof(derived))) {
			rc = trace_error_set(err, TRACE_EMALFORMED,
			    "key_mismatch", "secret",
			    "the secret does not belong to the public key");
			goto out;
		}
		kp->has_secret = true;
	}
	rc = TRACE_OK;
out:
	json_doc_free(doc);
	if (rc != TRACE_OK)
		key_pair_wipe(kp);
	return rc;
}

enum trace_status
key_public_parse(const char *text, size_t len, struct key_pair *kp,
    struct trace_error *err)
{
	return key_parse(text, len, false, kp, err);
}

enum trace_status
key_pair_load(const char *path, struct key_pair *kp, struct trace_error *err)
{
	size_t plen = strlen(path), len = 0;
	bool is_private = plen > 4 && strcmp(path + plen - 4, ".key") == 0;
	struct stat st;
	char *text = NULL;
	enum trace_status rc;

	memset(kp, 0, sizeof(*kp));
	if (is_private) {
		if (stat(path, &st) != 0)
			return trace_error_set(err, TRACE_ENOTFOUND, "not_found",
			    NULL, "cannot read %s", path);
		if ((st.st_mode & 077) != 0)
			return trace_error_set(err, TRACE_EFORBIDDEN,
			    "key_file_mode", NULL,
			    "%s can be read by others (mode %03o); "
			    "run: chmod 600 %s", path,
			    (unsigned)(st.st_mode & 0777), path);
	}
	rc = file_read_all(path, KEY_FILE_MAX, &text, &len, err);
	if (rc != TRACE_OK)
		return rc;
	rc = key_parse(text, len, is_private, kp, err);
	memset(text, 0, len);
	free(text);
	return rc;
}
