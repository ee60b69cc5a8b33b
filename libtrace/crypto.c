/*
 * crypto.c - SHA-256 and Ed25519 on libgcrypt.
 *
 * libgcrypt speaks S-expressions; this file keeps them in one place so the
 * rest of Trace deals in byte arrays.  The verification wrapper adds what
 * RFC 8032 5.1.7 requires and libgcrypt 1.10 does not check: S < L, and the
 * canonical encoding of the public key and of R (y < p).  Together these
 * make every signature non-malleable, which the Wycheproof vectors test.
 */
#include <stdlib.h>
#include <string.h>

#include <gcrypt.h>

#include "crypto.h"

bool
crypto_init(void)
{
	if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P))
		return true;
	if (gcry_check_version("1.10.0") == NULL)
		return false;
	/* Keys live in ordinary memory; secure memory would need privileges
	 * and buys little for a short-lived seed. */
	gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	return true;
}

void
sha256(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
	gcry_md_hash_buffer(GCRY_MD_SHA256, out, data, len);
}

void
sha256_parts(const struct sha256_part *parts, size_t count,
    unsigned char out[SHA256_LEN])
{
	gcry_buffer_t iov[8];
	gcry_md_hd_t md;

	/* Up to 8 parts (every caller) in one call without a handle: a
	 * handle is a malloc'd context, which doubled the cost of a Merkle
	 * node hash (bench/). */
	if (count <= sizeof(iov) / sizeof(iov[0])) {
		memset(iov, 0, sizeof(iov));
		for (size_t i = 0; i < count; i++) {
			iov[i].data = (void *)parts[i].data;
			iov[i].len = parts[i].len;
		}
		if (gcry_md_hash_buffers(GCRY_MD_SHA256, 0, out, iov,
		    (int)count) == 0)
			return;
	}
	/* gcry_md_open only fails for an unknown algorithm or no memory.  A
	 * made-up digest (all zeros, say) would become a statement id or a
	 * leaf of the log, so there is no answer to return: stop, as
	 * libgcrypt's own gcry_xmalloc does when memory runs out. */
	if (gcry_md_open(&md, GCRY_MD_SHA256, 0) != 0)
		abort();
	for (size_t i = 0; i < count; i++)
		gcry_md_write(md, parts[i].data, parts[i].len);
	memcpy(out, gcry_md_read(md, GCRY_MD_SHA256), SHA256_LEN);
	gcry_md_close(md);
}

bool
crypto_equal(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	unsigned char diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

/* L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const unsigned char group_order[32] = {
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
	0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

/* p = 2^255 - 19, little-endian. */
static const unsigned char field_prime[32] = {
	0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
};

/* a < b for 32-byte little-endian integers (not secret: no constant time). */
static bool
le_less(const unsigned char *a, const unsigned char *b)
{
	for (int i = 31; i >= 0; i--) {
		if (a[i] != b[i])
			return a[i] < b[i];
	}
	return false;
}

/* RFC 8032 5.1.3 step 1: the y coordinate (sign bit cleared) must be < p. */
static bool
point_encoding_canonical(const unsigned char *enc)
{
	unsigned char y[32];

	memcpy(y, enc, 32);
	y[31] &= 0x7f;
	return le_less(y, field_prime);
}

/* The 32 bytes of a named token's data in sexp, left-padded if shorter. */
static bool
sexp_fixed32(gcry_sexp_t sexp, const char *name, unsigned char out[32])
{
	gcry_sexp_t tok = gcry_sexp_find_token(sexp, name, 0);
	const char *data;
	size_t len = 0;
	bool ok = false;

	if (tok == NULL)
		return false;
	data = gcry_sexp_nth_data(tok, 1, &len);
	if (data != NULL && len <= 32) {
		memset(out, 0, 32 - len);
		memcpy(out + 32 - len, data, len);
		ok = true;
	}
	gcry_sexp_release(tok);
	return ok;
}

enum trace_status
ed25519_public_from_secret(const unsigned char secret[ED25519_SECRET_LEN],
    unsigned char public_key[ED25519_PUBLIC_LEN], struct trace_error *err)
{
	gcry_sexp_t key = NULL;
	gcry_ctx_t ctx = NULL;
	gcry_mpi_t q = NULL;
	const unsigned char *raw;
	unsigned int bits = 0;
	enum trace_status rc;

	if (gcry_sexp_build(&key, NULL,
	    "(private-key(ecc(curve Ed25519)(flags eddsa)(d %b)))",
	    ED25519_SECRET_LEN, secret) != 0 ||
	    gcry_mpi_ec_new(&ctx, key, NULL) != 0) {
		rc = trace_error_set(err, TRACE_EIO, "crypto", NULL,
		    "cannot load the Ed25519 secret key");
		goto out;
	}
	/* "q@eddsa" asks for Q computed from d in the RFC 8032 encoding. */
	q = gcry_mpi_ec_get_mpi("q@eddsa", ctx, 1);
	raw = q != NULL ? gcry_mpi_get_opaque(q, &bits) : NULL;
	if (raw == NULL || bits != 8 * ED25519_PUBLIC_LEN) {
		rc = trace_error_set(err, TRACE_EIO, "crypto", NULL,
		    "cannot derive the Ed25519 public key");
		goto out;
	}
	memcpy(public_key, raw, ED25519_PUBLIC_LEN);
	rc = TRACE_OK;
out:
	gcry_mpi_release(q);
	gcry_ctx_release(ctx);
	gcry_sexp_release(key);
	return rc;
}

enum trace_status
ed25519_generate(unsigned char secret[ED25519_SECRET_LEN],
    unsigned char public_key[ED25519_PUBLIC_LEN], struct trace_error *err)
{
	gcry_randomize(secret, ED25519_SECRET_LEN, GCRY_VERY_STRONG_RANDOM);
	return ed25519_public_from_secret(secret, public_key, err);
}

enum trace_status
ed25519_sign(const unsigned char secret[ED25519_SECRET_LEN], const void *msg,
    size_t len, unsigned char sig[ED25519_SIG_LEN], struct trace_error *err)
{
	gcry_sexp_t key = NULL, data = NULL, result = NULL;
	enum trace_status rc;

	if (gcry_sexp_build(&key, NULL,
	    "(private-key(ecc(curve Ed25519)(flags eddsa)(d %b)))",
	    ED25519_SECRET_LEN, secret) != 0 ||
	    gcry_sexp_build(&data, NULL,
	    "(data(flags eddsa)(hash-algo sha512)(value %b))", len, msg) != 0) {
		rc = trace_error_set(err, TRACE_ENOMEM, "crypto", NULL,
		    "cannot build the signing request");
		goto out;
	}
	if (gcry_pk_sign(&result, data, key) != 0 ||
	    !sexp_fixed32(result, "r", sig) ||
	    !sexp_fixed32(result, "s", sig + 32)) {
		rc = trace_error_set(err, TRACE_EIO, "crypto", NULL,
		    "Ed25519 signing failed");
		goto out;
	}
	rc = TRACE_OK;
out:
	gcry_sexp_release(result);
	gcry_sexp_release(data);
	gcry_sexp_release(key);
	return rc;
}

bool
ed25519_verify(const unsigned char *public_key, size_t public_len,
    const void *msg, size_t len, const unsigned char *sig, size_t sig_len)
{
	gcry_sexp_t key = NULL, data = NULL, sexp_sig = NULL;
	bool ok = false;

	if (public_len != ED25519_PUBLIC_LEN || sig_len != ED25519_SIG_LEN)
		return false;
	/* RFC 8032 5.1.7: S in [0, L); the encodings of A and R canonical. */
	if (!le_less(sig + 32, group_order) ||
	    !point_encoding_canonical(public_key) ||
	    !point_encoding_canonical(sig))
		return false;
	if (gcry_sexp_build(&key, NULL,
	    "(public-key(ecc(curve Ed25519)(flags eddsa)(q %b)))",
	    ED25519_PUBLIC_LEN, public_key) != 0 ||
	    gcry_sexp_build(&data, NULL,
	    "(data(flags eddsa)(hash-algo sha512)(value %b))", len, msg) != 0 ||
	    gcry_sexp_build(&sexp_sig, NULL, "(sig-val(eddsa(r %b)(s %b)))",
	    32, sig, 32, sig + 32) != 0)
		goto out;
	ok = gcry_pk_verify(sexp_sig, data, key) == 0;
out:
	gcry_sexp_release(sexp_sig);
	gcry_sexp_release(data);
	gcry_sexp_release(key);
	return ok;
}
