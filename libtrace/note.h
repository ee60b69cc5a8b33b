/*
 * note.h - C2SP signed notes with Ed25519 keys, and the tlog-checkpoint body
 * the transparency log signs with them (docs/PROTOCOL.md section 9.3).
 *
 * A signed note is text (UTF-8, no control characters but '\n', ending in
 * '\n'), a blank line, and one line per signature:
 *
 *     U+2014 EM DASH, space, key name, space, base64(key hash || signature)
 *
 * The key hash is the first 4 bytes, big-endian, of SHA-256(name || '\n' ||
 * 0x01 || 32-byte public key); 0x01 names Ed25519.  Keys travel as strings:
 *
 *     verifier  name+hash+base64(0x01 || public key)
 *     signer    PRIVATE+KEY+name+hash+base64(0x01 || seed)
 *
 * where hash is 8 hex digits.  tests/vectors/signed-note.json is the
 * reference vector.  Everything here works on caller buffers or returns a
 * single malloc'd string; the structs hold no pointers to free.
 */
#ifndef TRACE_NOTE_H
#define TRACE_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "merkle.h"

#define NOTE_MAX_LEN (64 * 1024)   /* a whole signed note */
#define NOTE_MAX_SIGNATURES 100    /* lines in the signature block */
#define NOTE_NAME_MAX 255          /* bytes of a key name */
/* name + '+' + 8 hex + '+' + base64 of 33 bytes (44) + NUL */
#define NOTE_VERIFIER_KEY_MAX (NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)
/* "PRIVATE+KEY+" and the same */
#define NOTE_SIGNER_KEY_MAX (12 + NOTE_VERIFIER_KEY_MAX)

/*
 * Signature type bytes (c2sp.org/signed-note "Signature types"): the byte
 * after the key name in the key ID hash and the first byte of a vkey's
 * key material.  A log signs its checkpoints with 0x01; a witness
 * cosigns them with 0x04 (cosign.h).
 */
#define NOTE_TYPE_ED25519 0x01
#define NOTE_TYPE_COSIGNATURE_V1 0x04

struct note_verifier {
	char name[NOTE_NAME_MAX + 1];          /* NUL-terminated */
	uint32_t key_hash;
	unsigned char public_key[ED25519_PUBLIC_LEN];
};

/* Holds a secret: clear it with note_signer_clear() when done. */
struct note_signer {
	char name[NOTE_NAME_MAX + 1];
	uint32_t key_hash;
	unsigned char public_key[ED25519_PUBLIC_LEN];
	unsigned char secret[ED25519_SECRET_LEN]; /* the RFC 8032 seed */
};

/* ---- keys ------------------------------------------------------------------ */

/* The C2SP key hash of an Ed25519 public key under name. */
uint32_t note_key_hash(const char *name, size_t name_len,
    const unsigned char public_key[ED25519_PUBLIC_LEN]);

/*
 * The key ID of any signature type over a 32-byte key (signed-note
 * "Signatures"): the first 4 bytes, big-endian, of SHA-256(name || 0x0A ||
 * type || public key).  note_key_hash() is this with NOTE_TYPE_ED25519.
 */
uint32_t note_key_id(const char *name, size_t name_len, unsigned char type,
    const unsigned char public_key[ED25519_PUBLIC_LEN]);

/*
 * Parse a vkey "name+hash+base64(type || 32-byte key)" whose type byte
 * must be type (TRACE_EMALFORMED "unsupported_key" otherwise) and whose
 * hash must be note_key_id() of the rest.  note_verifier_parse() is this
 * with NOTE_TYPE_ED25519.
 */
enum trace_status note_vkey_parse(const char *key, size_t len,
    unsigned char type, struct note_verifier *out, struct trace_error *err);

/* Write a vkey of the given type and a NUL (NOTE_VERIFIER_KEY_MAX bytes
 * suffice). */
enum trace_status note_vkey_format(const char *name, unsigned char type,
    const unsigned char public_key[ED25519_PUBLIC_LEN], char *out,
    size_t size, struct trace_error *err);

/*
 * A key name: 1 to NOTE_NAME_MAX bytes of UTF-8 without '+', control
 * characters or Unicode white space (they delimit key strings and
 * signature lines).
 */
enum trace_status note_name_check(const char *name, size_t len,
    struct trace_error *err);

/* Parse "name+hash+base64" (the hash must match the key). */
enum trace_status note_verifier_parse(const char *key, size_t len,
    struct note_verifier *out, struct trace_error *err);

/* Parse "PRIVATE+KEY+name+hash+base64"; the hash must match the public key
 * derived from the seed. */
enum trace_status note_signer_parse(const char *key, size_t len,
    struct note_signer *out, struct trace_error *err);

/* Build a signer or verifier from a name and raw key bytes. */
enum trace_status note_signer_from_secret(const char *name,
    const unsigned char secret[ED25519_SECRET_LEN], struct note_signer *out,
    struct trace_error *err);
enum trace_status note_verifier_from_public(const char *name,
    const unsigned char public_key[ED25519_PUBLIC_LEN],
    struct note_verifier *out, struct trace_error *err);

/* The verifier that checks a signer's notes. */
void note_signer_verifier(const struct note_signer *signer,
    struct note_verifier *out);

/* Overwrite the secret (and everything else).  Accepts NULL. */
void note_signer_clear(struct note_signer *signer);

/*
 * Write "name+hash+base64(0x01 || public key)" and a NUL into out (size
 * bytes; NOTE_VERIFIER_KEY_MAX always suffices).  This is the "vkey" of
 * GET /api/v1/log and the --log-vkey of trace-agent verify.
 */
enum trace_status note_verifier_key_format(const char *name,
    const unsigned char public_key[ED25519_PUBLIC_LEN], char *out,
    size_t size, struct trace_error *err);

/* Write "PRIVATE+KEY+..." and a NUL (NOTE_SIGNER_KEY_MAX suffices). */
enum trace_status note_signer_key_format(const struct note_signer *signer,
    char *out, size_t size, struct trace_error *err);

/* ---- notes ------------------------------------------------------------------- */

/*
 * Note text rules: 1 byte or more ending in '\n', valid UTF-8, no control
 * characters (U+0000-U+001F, U+007F) other than '\n'.
 */
enum trace_status note_text_check(const char *text, size_t len,
    struct trace_error *err);

/*
 * Sign text (checked with note_text_check) and return the signed note in
 * *out, a malloc'd NUL-terminated string of *out_len bytes that the caller
 * frees with free().
 */
enum trace_status note_sign(const char *text, size_t len,
    const struct note_signer *signer, char **out, size_t *out_len,
    struct trace_error *err);

/*
 * Verify a signed note against one key.  The whole note must be well
 * formed: at most NOTE_MAX_LEN bytes (TRACE_ETOOBIG), valid text, a blank
 * line, then 1 to NOTE_MAX_SIGNATURES lines "— name base64\n" with a valid
 * name and canonical standard base64 of at least 5 bytes
 * (TRACE_EMALFORMED).  Lines by other keys (another name, or the same name
 * with another key hash) are skipped.  Every line by this key must carry a
 * valid signature (TRACE_EBADSIG), and there must be one
 * (TRACE_EUNKNOWNKEY).  On TRACE_OK the signed text is msg[0..*text_len).
 */
enum trace_status note_verify(const char *msg, size_t len,
    const struct note_verifier *verifier, size_t *text_len,
    struct trace_error *err);

/*
 * A note split into its text and signature lines, without verifying
 * anything: the one parser of the note format, which note_verify() and
 * cosign_verify() both read.  name points into the parsed note, sig into
 * bytes; both live until note_parsed_clear().
 */
struct note_signature {
	const char *name;
	size_t name_len;
	uint32_t key_id;            /* the first 4 bytes, big-endian */
	const unsigned char *sig;   /* the bytes after the key ID */
	size_t sig_len;
};

struct note_parsed {
	size_t text_len;            /* msg[0..text_len) is the signed text */
	size_t count;
	struct note_signature sigs[NOTE_MAX_SIGNATURES];
	unsigned char *bytes;       /* malloc'd; note_parsed_clear() frees */
};

/*
 * Split msg with the rules note_verify() states (size, text, blank line,
 * 1 to NOTE_MAX_SIGNATURES well-formed lines).  On TRACE_OK the caller
 * releases out with note_parsed_clear(); on failure there is nothing to
 * release.
 */
enum trace_status note_parse(const char *msg, size_t len,
    struct note_parsed *out, struct trace_error *err);

/* Free out->bytes and zero out.  Accepts NULL. */
void note_parsed_clear(struct note_parsed *out);

/* ---- checkpoints (C2SP tlog-checkpoint) ----------------------------------- */

#define CHECKPOINT_ORIGIN_MAX 255

struct checkpoint {
	char origin[CHECKPOINT_ORIGIN_MAX + 1]; /* NUL-terminated, non-empty */
	uint64_t size;
	unsigned char root[MERKLE_HASH_LEN];
	/*
	 * Optional extension lines, each non-empty and ending in '\n'
	 * (extensions_len bytes, NULL when none).  After checkpoint_parse()
	 * this points into the parsed text and lives as long as it does.
	 */
	const char *extensions;
	size_t extensions_len;
};

/*
 * The body "<origin>\n<size>\n<base64 root>\n<extensions>" in *out, a
 * malloc'd NUL-terminated string of *out_len bytes the caller frees with
 * free().
 */
enum trace_status checkpoint_format(const struct checkpoint *cp, char **out,
    size_t *out_len, struct trace_error *err);

/*
 * Parse a body strictly: non-empty origin without control characters; size
 * in decimal without sign or leading zeros ("0" alone is fine) that fits in
 * 64 bits; root in padded standard base64 of exactly 32 bytes; then only
 * non-empty extension lines.  Errors are TRACE_EMALFORMED naming "origin",
 * "size", "root" or "extensions".
 */
enum trace_status checkpoint_parse(const char *text, size_t len,
    struct checkpoint *cp, struct trace_error *err);

/* checkpoint_format() and note_sign(): a signed checkpoint the caller frees
 * with free(). */
enum trace_status checkpoint_sign(const struct checkpoint *cp,
    const struct note_signer *signer, char **out, size_t *out_len,
    struct trace_error *err);

/*
 * note_verify() and checkpoint_parse().  cp->extensions points into note.
 * Whether the origin is the expected log is the caller's question.
 */
enum trace_status checkpoint_open(const char *note, size_t len,
    const struct note_verifier *verifier, struct checkpoint *cp,
    struct trace_error *err);

#endif
