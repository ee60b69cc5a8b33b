/*
 * cosign.h - C2SP tlog-cosignature `cosignature/v1`: the timestamped
 * Ed25519 cosignature a witness adds to a checkpoint (docs/PROTOCOL.md
 * section 9.5).
 *
 * A cosignature is a signed-note signature line
 *
 *     — <witness name> base64(key ID || u64 timestamp || Ed25519 signature)
 *
 * where the key ID is the first 4 bytes, big-endian, of SHA-256(name ||
 * 0x0A || 0x04 || public key) (note_key_id() with NOTE_TYPE_COSIGNATURE_V1),
 * the timestamp is big-endian POSIX seconds below 2^63, and the signature
 * is over
 *
 *     "cosignature/v1\n" "time <timestamp>\n" <checkpoint body>
 *
 * (tlog-cosignature "Ed25519 signed message").  A witness key travels as a
 * vkey name+hash+base64(0x04 || public key).  Keys here are the note.h
 * structs: struct note_verifier with the cosignature key ID in key_hash.
 */
#ifndef TRACE_COSIGN_H
#define TRACE_COSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "note.h"

/* key ID (4) + timestamp (8) + Ed25519 signature (64) */
#define COSIGN_SIG_BYTES (4 + 8 + ED25519_SIG_LEN)
/* tlog-cosignature: "It MUST NOT exceed 2^63 - 1". */
#define COSIGN_TIMESTAMP_MAX INT64_MAX
/* "— " name " " base64(76 bytes: 104 characters) "\n" and a NUL */
#define COSIGN_LINE_MAX (4 + NOTE_NAME_MAX + 1 + 104 + 1 + 1)

/*
 * A witness's signing key: name and secret as for a note signer, but
 * key_hash is the cosignature/v1 key ID.  Clear with note_signer_clear().
 */
enum trace_status cosign_signer_from_secret(const char *name,
    const unsigned char secret[ED25519_SECRET_LEN], struct note_signer *out,
    struct trace_error *err);

/* The verifier of a cosigner (key ID of type 0x04). */
enum trace_status cosign_verifier_from_public(const char *name,
    const unsigned char public_key[ED25519_PUBLIC_LEN],
    struct note_verifier *out, struct trace_error *err);

/* Parse a witness vkey: the type byte must be 0x04. */
enum trace_status cosign_verifier_parse(const char *vkey, size_t len,
    struct note_verifier *out, struct trace_error *err);

/* Write the witness vkey and a NUL (NOTE_VERIFIER_KEY_MAX suffices). */
enum trace_status cosign_verifier_format(const struct note_verifier *v,
    char *out, size_t size, struct trace_error *err);

/*
 * The signed message for body at timestamp, in *out: a malloc'd string of
 * *out_len bytes (NUL-terminated) that the caller frees with free().  body
 * must be a checkpoint body (checkpoint_parse() accepts it) and timestamp
 * at most COSIGN_TIMESTAMP_MAX, else TRACE_EMALFORMED.
 */
enum trace_status cosign_message(const char *body, size_t body_len,
    uint64_t timestamp, char **out, size_t *out_len, struct trace_error *err);

/*
 * Cosign a checkpoint body: writes the whole signature line, ending in
 * '\n', and a NUL into line (size bytes; COSIGN_LINE_MAX suffices), its
 * length without the NUL in *line_len.
 */
enum trace_status cosign_sign(const struct note_signer *signer,
    const char *body, size_t body_len, uint64_t timestamp, char *line,
    size_t size, size_t *line_len, struct trace_error *err);

/*
 * Look in a parsed note (note_parse()) for the cosignature of verifier
 * over the note's text, msg being the note that was parsed.  Lines with
 * another name or key ID are ignored (signed-note "Signatures"), so a
 * plain Ed25519 signature (type 0x01) by the same key and name never
 * counts.  A line with this name and key ID must be exactly
 * COSIGN_SIG_BYTES with a timestamp below 2^63 and a valid signature, or
 * the answer is TRACE_EBADSIG; no such line is TRACE_EUNKNOWNKEY.  On
 * TRACE_OK *timestamp is the newest valid cosignature's.
 */
enum trace_status cosign_verify_parsed(const char *msg,
    const struct note_parsed *parsed, const struct note_verifier *verifier,
    uint64_t *timestamp, struct trace_error *err);

/* note_parse() and cosign_verify_parsed() in one call. */
enum trace_status cosign_verify(const char *msg, size_t len,
    const struct note_verifier *verifier, uint64_t *timestamp,
    struct trace_error *err);

#endif
