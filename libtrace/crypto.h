/*
 * crypto.h - the cryptography Trace uses, on libgcrypt: SHA-256 and Ed25519
 * (RFC 8032) key generation, signing and verification; libsodium computes
 * the verification equation, which is what ingest spends its time on.
 *
 * crypto_init() must run once in main() before any thread starts.
 * Verification adds the checks libgcrypt 1.10 leaves out: S must be below
 * the group order L (RFC 8032 5.1.7; libgcrypt accepts S + L, which would let
 * anyone make a second valid signature for a signed statement), and the
 * lengths must be exact.
 */
#ifndef TRACE_CRYPTO_H
#define TRACE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define SHA256_LEN 32
#define ED25519_PUBLIC_LEN 32
#define ED25519_SECRET_LEN 32 /* the RFC 8032 seed */
#define ED25519_SIG_LEN 64

/* Initialise libgcrypt once (version check, no secure memory needed for our
 * short-lived seeds, finished) and libsodium, then run RFC 8032 TEST 1
 * through every Ed25519 function below, both verifiers included; that also
 * builds the state libgcrypt would otherwise build without a lock on the
 * first use from several threads.  Safe to call again.  Returns false if a
 * library is too old, fails to start or fails the test. */
bool crypto_init(void);

/* What a program says when crypto_init() fails, after its own name. */
#define CRYPTO_INIT_FAILED "libgcrypt or libsodium is too old, cannot " \
	"start or fails the Ed25519 self-test"

void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);

/* Incremental SHA-256 over several pieces, without concatenating them. */
struct sha256_part {
	const void *data;
	size_t len;
};
void sha256_parts(const struct sha256_part *parts, size_t count,
    unsigned char out[SHA256_LEN]);

/* HMAC-SHA-256 (RFC 2104) of data under key. */
void hmac_sha256(const void *key, size_t key_len, const void *data,
    size_t len, unsigned char out[SHA256_LEN]);

/* len bytes from libgcrypt's strong random generator (seeded from
 * /dev/urandom): secret codes (SPEC 12). */
void crypto_random(void *out, size_t len);

/* A new key pair from the system's strong random source. */
enum trace_status ed25519_generate(unsigned char secret[ED25519_SECRET_LEN],
    unsigned char public_key[ED25519_PUBLIC_LEN], struct trace_error *err);

/* The public key of a secret seed. */
enum trace_status ed25519_public_from_secret(
    const unsigned char secret[ED25519_SECRET_LEN],
    unsigned char public_key[ED25519_PUBLIC_LEN], struct trace_error *err);

enum trace_status ed25519_sign(const unsigned char secret[ED25519_SECRET_LEN],
    const void *msg, size_t len, unsigned char sig[ED25519_SIG_LEN],
    struct trace_error *err);

/*
 * True only for a valid signature (docs/PROTOCOL.md 4.1): exact lengths,
 * S < L, canonical encodings of the public key A and of R, neither of them
 * of small order, then RFC 8032's cofactorless equation, computed by
 * libsodium.
 */
bool ed25519_verify(const unsigned char *public_key, size_t public_len,
    const void *msg, size_t len, const unsigned char *sig, size_t sig_len);

/*
 * The same answer as ed25519_verify(), computed by libgcrypt alone: the
 * yardstick SPEC 7 measures ingest against (bench/verify_rate.c), and the
 * reference test_crypto compares ed25519_verify() with.
 */
bool ed25519_verify_libgcrypt(const unsigned char *public_key,
    size_t public_len, const void *msg, size_t len, const unsigned char *sig,
    size_t sig_len);

/*
 * What an enrollment requires of a public key (SPEC 8 "Keys and
 * signatures"): A decodes as RFC 8032 5.1.3 says (y < p, an x exists, not
 * x = 0 with the sign bit set), is not one of the 8 points of small order
 * ([8]A != O), and has no torsion component ([L]A = O).  TRACE_OK if so;
 * otherwise TRACE_ERULE with code "weak_public_key" and a message saying
 * which (no field: the caller knows where the key came from), or TRACE_EIO
 * if libgcrypt fails.  ed25519_verify() does not call this: the rule
 * decides which keys may be enrolled, not which signatures verify.  Not
 * constant time (public keys are public).
 */
enum trace_status ed25519_public_key_check(
    const unsigned char public_key[ED25519_PUBLIC_LEN],
    struct trace_error *err);

/* Constant-time comparison of two equal-length byte strings. */
bool crypto_equal(const void *a, const void *b, size_t len);

#endif
