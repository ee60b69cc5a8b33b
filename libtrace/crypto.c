/*
 * crypto.c - SHA-256 and Ed25519 on libgcrypt, the verification equation
 * on libsodium.
 *
 * libgcrypt speaks S-expressions; this file keeps them in one place so the
 * rest of Trace deals in byte arrays.  The verification wrapper adds what
 * RFC 8032 5.1.7 requires and libgcrypt 1.10 does not check: S < L, and the
 * canonical encoding of the public key and of R (y < p).  Together these
 * make every signature non-malleable, which the Wycheproof vectors test.
 * libsodium 1.0.18 verifies in about a tenth of libgcrypt's time (56 against
 * 615 microseconds here), and verification is most of what ingest costs,
 * so it computes the equation; ed25519_verify_libgcrypt() gives the same
 * answers with libgcrypt alone.
 *
 * Enrollment asks more of a public key than verification does (SPEC 8):
 * ed25519_public_key_check() decodes it as RFC 8032 5.1.3 says and refuses
 * points of small order and points with a torsion component.  Verification
 * does not call it, so which signatures verify is unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include <gcrypt.h>
#include <sodium.h>

#include "crypto.h"

/*
 * RFC 8032 7.1 TEST 1 (the empty message), run once by crypto_init().  It
 * is a known-answer test, and it is also what makes libgcrypt safe to use
 * from many threads: libgcrypt 1.10 builds some state on first use without
 * a lock (ec_p_init() in mpi/ec.c caches each field prime it scans in a
 * static table).  Two threads that verify their first signature at once
 * may both build an entry, and one is leaked; LeakSanitizer caught it in a
 * trace-server whose workers did exactly that.  Deriving the key, signing,
 * verifying and checking the key here, before any thread, builds all of
 * that state once.
 */
static const unsigned char self_test_seed[ED25519_SECRET_LEN] = {
	0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60,
	0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
	0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19,
	0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
};
static const unsigned char self_test_public[ED25519_PUBLIC_LEN] = {
	0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
	0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
	0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
	0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
};
static const unsigned char self_test_sig[ED25519_SIG_LEN] = {
	0xe5, 0x56, 0x43, 0x00, 0xc3, 0x60, 0xac, 0x72,
	0x90, 0x86, 0xe2, 0xcc, 0x80, 0x6e, 0x82, 0x8a,
	0x84, 0x87, 0x7f, 0x1e, 0xb8, 0xe5, 0xd9, 0x74,
	0xd8, 0x73, 0xe0, 0x65, 0x22, 0x49, 0x01, 0x55,
	0x5f, 0xb8, 0x82, 0x15, 0x90, 0xa3, 0x3b, 0xac,
	0xc6, 0x1e, 0x39, 0x70, 0x1c, 0xf9, 0xb4, 0x6b,
	0xd2, 0x5b, 0xf5, 0xf0, 0x59, 0x5b, 0xbe, 0x24,
	0x65, 0x51, 0x41, 0x43, 0x8e, 0x7a, 0x10, 0x0b,
};

static bool
self_test(void)
{
	unsigned char pub[ED25519_PUBLIC_LEN], sig[ED25519_SIG_LEN];

	return ed25519_public_from_secret(self_test_seed, pub, NULL) ==
	    TRACE_OK && memcmp(pub, self_test_public, sizeof(pub)) == 0 &&
	    ed25519_sign(self_test_seed, "", 0, sig, NULL) == TRACE_OK &&
	    memcmp(sig, self_test_sig, sizeof(sig)) == 0 &&
	    ed25519_verify(pub, sizeof(pub), "", 0, sig, sizeof(sig)) &&
	    ed25519_verify_libgcrypt(pub, sizeof(pub), "", 0, sig,
	    sizeof(sig)) &&
	    ed25519_public_key_check(pub, NULL) == TRACE_OK;
}

bool
crypto_init(void)
{
	static int result; /* 0 before the first call, then 1 or -1 */

	if (result != 0)
		return result > 0;
	if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
		if (gcry_check_version("1.10.0") == NULL) {
			result = -1;
			return false;
		}
		/* Keys live in ordinary memory; secure memory would need
		 * privileges and buys little for a short-lived seed. */
		gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
		gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	}
	/* 0 the first time, 1 if already done; -1 if it cannot start. */
	if (sodium_init() < 0) {
		result = -1;
		return false;
	}
	result = self_test() ? 1 : -1;
	return result > 0;
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

void
hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
    unsigned char out[SHA256_LEN])
{
	gcry_md_hd_t md;

	/* As in sha256_parts(): a made-up MAC has no honest answer. */
	if (gcry_md_open(&md, GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC) != 0 ||
	    gcry_md_setkey(md, key, key_len) != 0)
		abort();
	gcry_md_write(md, data, len);
	memcpy(out, gcry_md_read(md, GCRY_MD_SHA256), SHA256_LEN);
	gcry_md_close(md);
}

void
crypto_random(void *out, size_t len)
{
	gcry_randomize(out, len, GCRY_STRONG_RANDOM);
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

/*
 * The points of small order, by their y (the sign bit of x cleared): 0 (the
 * two of order 4), 1 (the identity), p - 1 (order 2) and the two y of the
 * four points of order 8.  test_crypto (test_small_order_refused) tries each
 * y with either sign bit as A, as R and as both, where the equation holds:
 * with an entry missing, libgcrypt accepts some of them or aborts.
 */
static const unsigned char small_order_y[5][32] = {
	{ 0x00 },
	{ 0x01 },
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
	{ 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0,
	  0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
	  0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39,
	  0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05 },
	{ 0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f,
	  0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
	  0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6,
	  0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a },
};

static bool
small_order(const unsigned char point[32])
{
	for (size_t i = 0; i < sizeof(small_order_y) / sizeof(small_order_y[0]);
	    i++) {
		if (memcmp(point, small_order_y[i], 31) == 0 &&
		    (point[31] & 0x7f) == small_order_y[i][31])
			return true;
	}
	return false;
}

/*
 * What is refused before the equation (docs/PROTOCOL.md 4.1): inexact
 * lengths; S >= L and encodings of A or R with y >= p (RFC 8032 5.1.7,
 * which libgcrypt 1.10 does not check in full); and an A or an R of small
 * order, which libsodium refuses too and no honest signer produces.  The
 * last also keeps those points away from libgcrypt 1.10, which aborts the
 * process ("mulm_25519: different sizes") when asked to verify under the
 * identity, (0, -1) or (0, sqrt(-1)) as public key.
 */
static bool
verify_prechecks(const unsigned char *public_key, size_t public_len,
    const unsigned char *sig, size_t sig_len)
{
	return public_len == ED25519_PUBLIC_LEN &&
	    sig_len == ED25519_SIG_LEN && le_less(sig + 32, group_order) &&
	    point_encoding_canonical(public_key) &&
	    point_encoding_canonical(sig) && !small_order(public_key) &&
	    !small_order(sig);
}

bool
ed25519_verify(const unsigned char *public_key, size_t public_len,
    const void *msg, size_t len, const unsigned char *sig, size_t sig_len)
{
	/*
	 * libsodium's equation is the same cofactorless one, compared on the
	 * encoding of R, and it makes the prechecks' checks itself; so it
	 * answers as libgcrypt does (test_crypto compares the two over the
	 * Wycheproof vectors and the small-order cases), about ten times
	 * sooner.
	 */
	return verify_prechecks(public_key, public_len, sig, sig_len) &&
	    crypto_sign_verify_detached(sig, msg, len, public_key) == 0;
}

bool
ed25519_verify_libgcrypt(const unsigned char *public_key, size_t public_len,
    const void *msg, size_t len, const unsigned char *sig, size_t sig_len)
{
	gcry_sexp_t key = NULL, data = NULL, sexp_sig = NULL;
	bool ok = false;

	if (!verify_prechecks(public_key, public_len, sig, sig_len))
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

/*
 * The point arithmetic of ed25519_public_key_check(), on libgcrypt MPIs and
 * its Ed25519 curve context.  Everything here handles public keys, so none
 * of it is constant time.
 */
struct curve {
	gcry_ctx_t ctx;         /* libgcrypt's "Ed25519", for [k]P */
	gcry_mpi_t p, d;        /* field prime and the curve constant d */
};

static void
curve_clear(struct curve *c)
{
	gcry_ctx_release(c->ctx);
	gcry_mpi_release(c->p);
	gcry_mpi_release(c->d);
	memset(c, 0, sizeof(*c));
}

/* An MPI from 32 little-endian bytes (RFC 8032 5.1.2). */
static gcry_mpi_t
mpi_from_le32(const unsigned char le[32])
{
	unsigned char be[32];
	gcry_mpi_t m = NULL;

	for (int i = 0; i < 32; i++)
		be[i] = le[31 - i];
	if (gcry_mpi_scan(&m, GCRYMPI_FMT_USG, be, sizeof(be), NULL) != 0)
		return NULL;
	return m;
}

static bool
curve_init(struct curve *c)
{
	gcry_mpi_t num = gcry_mpi_new(0), den = gcry_mpi_set_ui(NULL, 121666);
	bool ok;

	memset(c, 0, sizeof(*c));
	c->p = mpi_from_le32(field_prime);
	c->d = gcry_mpi_new(0);
	/* RFC 8032 5.1: d = -121665 / 121666 (mod p). */
	ok = c->p != NULL && gcry_mpi_invm(den, den, c->p) != 0;
	if (ok) {
		gcry_mpi_sub_ui(num, c->p, 121665);
		gcry_mpi_mulm(c->d, num, den, c->p);
		ok = gcry_mpi_ec_new(&c->ctx, NULL, "Ed25519") == 0;
	}
	gcry_mpi_release(num);
	gcry_mpi_release(den);
	if (!ok)
		curve_clear(c);
	return ok;
}

/*
 * -x^2 + y^2 = 1 + d x^2 y^2 (mod p), RFC 8032 5.1.  With plain modular
 * arithmetic: libgcrypt's gcry_mpi_ec_curve_point() wants coordinates
 * already padded to the field's size, which its public API cannot do.
 */
static bool
curve_has_point(struct curve *c, gcry_mpi_t x, gcry_mpi_t y)
{
	gcry_mpi_t x2 = gcry_mpi_new(0), y2 = gcry_mpi_new(0);
	gcry_mpi_t left = gcry_mpi_new(0), right = gcry_mpi_new(0);
	bool on;

	gcry_mpi_mulm(x2, x, x, c->p);
	gcry_mpi_mulm(y2, y, y, c->p);
	gcry_mpi_subm(left, y2, x2, c->p);
	gcry_mpi_mulm(right, x2, y2, c->p);
	gcry_mpi_mulm(right, right, c->d, c->p);
	gcry_mpi_add_ui(right, right, 1);
	gcry_mpi_mod(right, right, c->p);
	on = gcry_mpi_cmp(left, right) == 0;
	gcry_mpi_release(x2);
	gcry_mpi_release(y2);
	gcry_mpi_release(left);
	gcry_mpi_release(right);
	return on;
}

/* The point is the neutral element (0, 1). */
static bool
curve_is_identity(struct curve *c, gcry_mpi_point_t point)
{
	gcry_mpi_t x = gcry_mpi_new(0), y = gcry_mpi_new(0);
	bool identity = gcry_mpi_ec_get_affine(x, y, point, c->ctx) == 0 &&
	    gcry_mpi_cmp_ui(x, 0) == 0 && gcry_mpi_cmp_ui(y, 1) == 0;

	gcry_mpi_release(x);
	gcry_mpi_release(y);
	return identity;
}

/* [k]point is the identity. */
static bool
curve_mul_is_identity(struct curve *c, gcry_mpi_t k, gcry_mpi_point_t point)
{
	gcry_mpi_point_t r = gcry_mpi_point_new(0);
	bool identity;

	gcry_mpi_ec_mul(r, k, point, c->ctx);
	identity = curve_is_identity(c, r);
	gcry_mpi_point_release(r);
	return identity;
}

/*
 * RFC 8032 5.1.3 steps 2-4: recover x from y and the sign bit.  The
 * candidate is x = u v^3 (u v^7)^((p - 5) / 8) with u = y^2 - 1 and
 * v = d y^2 + 1; if v x^2 = -u it is multiplied by sqrt(-1) =
 * 2^((p - 1) / 4); if v x^2 is neither u nor -u there is no x.  On failure
 * *why says what is wrong, as the end of "the public key ...".
 */
static bool
curve_recover_x(struct curve *c, gcry_mpi_t y, int sign, gcry_mpi_t x,
    const char **why)
{
	gcry_mpi_t u = gcry_mpi_new(0), v = gcry_mpi_new(0);
	gcry_mpi_t t = gcry_mpi_new(0), n = gcry_mpi_new(0);
	gcry_mpi_t vx2 = gcry_mpi_new(0), one = gcry_mpi_set_ui(NULL, 1);
	bool ok = false;

	gcry_mpi_mulm(t, y, y, c->p);
	gcry_mpi_subm(u, t, one, c->p);                 /* u = y^2 - 1 */
	gcry_mpi_mulm(v, c->d, t, c->p);
	gcry_mpi_addm(v, v, one, c->p);                 /* v = d y^2 + 1 */
	gcry_mpi_powm(t, v, gcry_mpi_set_ui(n, 7), c->p);
	gcry_mpi_mulm(t, t, u, c->p);                   /* u v^7 */
	gcry_mpi_sub_ui(n, c->p, 5);
	gcry_mpi_rshift(n, n, 3);
	gcry_mpi_powm(t, t, n, c->p);                   /* (u v^7)^((p-5)/8) */
	gcry_mpi_powm(x, v, gcry_mpi_set_ui(n, 3), c->p);
	gcry_mpi_mulm(x, x, u, c->p);
	gcry_mpi_mulm(x, x, t, c->p);                   /* u v^3 (u v^7)^... */
	gcry_mpi_mulm(vx2, x, x, c->p);
	gcry_mpi_mulm(vx2, vx2, v, c->p);               /* v x^2 */
	if (gcry_mpi_cmp(vx2, u) != 0) {
		gcry_mpi_subm(t, c->p, u, c->p);        /* -u */
		if (gcry_mpi_cmp(vx2, t) != 0) {
			*why = "is not a curve point (no x exists for its y)";
			goto out;
		}
		gcry_mpi_sub_ui(n, c->p, 1);
		gcry_mpi_rshift(n, n, 2);
		gcry_mpi_powm(t, gcry_mpi_set_ui(t, 2), n, c->p);
		gcry_mpi_mulm(x, x, t, c->p);
	}
	/* Step 4: x = 0 with the sign bit set would be a second encoding of
	 * (0, 1) or (0, -1). */
	if (gcry_mpi_cmp_ui(x, 0) == 0 && sign) {
		*why = "encodes x = 0 with the sign bit set (a non-canonical "
		    "encoding)";
		goto out;
	}
	if (gcry_mpi_test_bit(x, 0) != sign)
		gcry_mpi_sub(x, c->p, x);
	ok = true;
out:
	gcry_mpi_release(u);
	gcry_mpi_release(v);
	gcry_mpi_release(t);
	gcry_mpi_release(n);
	gcry_mpi_release(vx2);
	gcry_mpi_release(one);
	return ok;
}

enum trace_status
ed25519_public_key_check(const unsigned char public_key[ED25519_PUBLIC_LEN],
    struct trace_error *err)
{
	unsigned char y_le[32];
	struct curve c;
	gcry_mpi_t x = NULL, y = NULL, z = NULL, k = NULL;
	gcry_mpi_point_t a = NULL;
	const char *why = NULL;
	enum trace_status rc;

	/* RFC 8032 5.1.3 step 1: y < p, the canonical encoding. */
	if (!point_encoding_canonical(public_key))
		return trace_error_set(err, TRACE_ERULE, "weak_public_key", NULL,
		    "the public key's y coordinate is not below p = 2^255 - 19 "
		    "(a non-canonical encoding)");
	if (!curve_init(&c))
		return trace_error_set(err, TRACE_EIO, "crypto", NULL,
		    "cannot set up the Ed25519 curve");
	memcpy(y_le, public_key, 32);
	y_le[31] &= 0x7f;
	x = gcry_mpi_new(0);
	y = mpi_from_le32(y_le);
	z = gcry_mpi_set_ui(NULL, 1);
	k = gcry_mpi_new(0);
	a = gcry_mpi_point_new(0);
	if (y == NULL) {
		rc = trace_error_set(err, TRACE_EIO, "crypto", NULL,
		    "cannot read the public key");
		goto out;
	}
	/* Steps 2-4. */
	if (!curve_recover_x(&c, y, public_key[31] >> 7, x, &why)) {
		rc = trace_error_set(err, TRACE_ERULE, "weak_public_key", NULL,
		    "the public key %s", why);
		goto out;
	}
	/* The decoding above only yields points of the curve; checking the
	 * equation guards the arithmetic below against a slip in it. */
	if (!curve_has_point(&c, x, y)) {
		rc = trace_error_set(err, TRACE_EIO, "crypto", NULL,
		    "a decoded public key is not on the curve");
		goto out;
	}
	gcry_mpi_point_set(a, x, y, z);
	/* The 8 points of small order are those with [8]A = O (the identity
	 * included, which the next test alone would let through). */
	gcry_mpi_set_ui(k, 8);
	if (curve_mul_is_identity(&c, k, a)) {
		rc = trace_error_set(err, TRACE_ERULE, "weak_public_key", NULL,
		    "the public key is a point of small order");
		goto out;
	}
	/* A point of the prime-order subgroup has [L]A = O; any other has a
	 * torsion component, so signatures under it depend on which
	 * verification equation a verifier uses (cofactored or not). */
	gcry_mpi_release(k);
	k = mpi_from_le32(group_order);
	if (k == NULL) {
		rc = trace_error_set(err, TRACE_EIO, "crypto", NULL,
		    "cannot load the group order");
		goto out;
	}
	if (!curve_mul_is_identity(&c, k, a)) {
		rc = trace_error_set(err, TRACE_ERULE, "weak_public_key", NULL,
		    "the public key has a torsion component ([L]A is not the "
		    "identity)");
		goto out;
	}
	rc = TRACE_OK;
out:
	gcry_mpi_point_release(a);
	gcry_mpi_release(k);
	gcry_mpi_release(z);
	gcry_mpi_release(y);
	gcry_mpi_release(x);
	curve_clear(&c);
	return rc;
}
