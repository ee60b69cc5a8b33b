/*
 * keys.h - key ids and key files (docs/PROTOCOL.md section 4).
 *
 * A key id is the lowercase hex of the first 16 bytes of SHA-256 over the
 * raw 32-byte public key.  NAME.pub is
 *   {"alg": "ed25519", "keyid": "...", "public": "<base64>", "name": "NAME"}
 * and NAME.key (mode 0600, refused when group or others can read it) adds
 *   "secret": "<base64 of the 32-byte RFC 8032 seed>".
 */
#ifndef TRACE_KEYS_H
#define TRACE_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto.h"
#include "error.h"

#define KEYID_LEN 32      /* hex characters */
#define KEY_NAME_MAX 64
#define KEY_FILE_MAX 4096

struct key_pair {
	char name[KEY_NAME_MAX + 1];
	char keyid[KEYID_LEN + 1];
	unsigned char public_key[ED25519_PUBLIC_LEN];
	unsigned char secret[ED25519_SECRET_LEN];
	bool has_secret;
};

/* keyid of a public key, as KEYID_LEN hex characters and a NUL. */
void key_id(const unsigned char public_key[ED25519_PUBLIC_LEN],
    char out[KEYID_LEN + 1]);

/* True for KEYID_LEN lowercase hex characters. */
bool key_id_valid(const char *s, size_t len);

/* A key name usable as a file name: 1-64 of [A-Za-z0-9._-], not "." / "..". */
bool key_name_valid(const char *s, size_t len);

/* A fresh key pair named name. */
enum trace_status key_pair_generate(const char *name, struct key_pair *kp,
    struct trace_error *err);

/*
 * Write DIR/NAME.key (0600) and DIR/NAME.pub (0644) atomically, refusing to
 * replace existing files (TRACE_ECONFLICT).
 */
enum trace_status key_pair_save(const struct key_pair *kp, const char *dir,
    struct trace_error *err);

/*
 * Load a .key file (refused with TRACE_EFORBIDDEN if group or others may
 * read it, or TRACE_EMALFORMED if the secret does not match the public key
 * and keyid) or a .pub file (has_secret false).  Secrets are wiped from
 * temporary buffers.
 */
enum trace_status key_pair_load(const char *path, struct key_pair *kp,
    struct trace_error *err);

/* The .pub JSON text for kp, in a malloc'd buffer the caller frees. */
char *key_public_json(const struct key_pair *kp, size_t *len);

/* Parse .pub JSON text (from a file or an HTTP body). */
enum trace_status key_public_parse(const char *text, size_t len,
    struct key_pair *kp, struct trace_error *err);

/* Overwrite the secret in kp. */
void key_pair_wipe(struct key_pair *kp);

#endif
