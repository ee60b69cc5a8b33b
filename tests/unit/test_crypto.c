/*
 * test_crypto.c - SHA-256, Ed25519 round trips, all 151 Wycheproof Ed25519
 * verification cases from tests/vectors/wycheproof/, the enrollment check
 * of public keys (small order, torsion, non-canonical encodings), and
 * libgcrypt's first use from many threads at once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <gcrypt.h>
#include <sodium.h>

#include "libtrace/crypto.h"
#include "libtrace/encoding.h"
#include "libtrace/fileio.h"
#include "libtrace/json.h"
#include "check.h"

static const struct json_limits vector_limits = {
	.max_size = 4 << 20, .max_depth = 16, .max_string = 1 << 20,
	.max_values = 1 << 20,
};

/* Decode a hex member into a malloc'd buffer. */
static unsigned char *
hex_member(const struct json_value *obj, const char *key, size_t *n)
{
	const char *s = NULL;
	size_t len = 0;
	unsigned char *out;

	if (json_get_string(obj, key, true, &s, &len, NULL) != TRACE_OK)
		return NULL;
	*n = len / 2;
	out = malloc(*n + 1);
	if (out != NULL && !hex_decode(s, len, out, *n, false)) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * libgcrypt's allocations, counted: installed before crypto_init(), so
 * every block libgcrypt still holds is in gcry_live.
 */
static atomic_long gcry_live;

static void *
count_alloc(size_t n)
{
	void *p = malloc(n);

	if (p != NULL)
		gcry_live++;
	return p;
}

static int
count_is_secure(const void *p)
{
	(void)p;
	return 0;
}

static void *
count_realloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (q != NULL && p == NULL)
		gcry_live++;
	return q;
}

static void
count_free(void *p)
{
	if (p != NULL)
		gcry_live--;
	free(p);
}

#define FIRST_USE_THREADS 8
static pthread_barrier_t first_use_barrier;

/* What trace-server's workers and integrator do at once when it starts. */
static void *
first_use(void *arg)
{
	unsigned char seed[32], pub[32], sig[64], msg[8];

	memset(seed, (int)(size_t)arg + 1, sizeof(seed));
	memset(msg, 'm', sizeof(msg));
	pthread_barrier_wait(&first_use_barrier);
	if (ed25519_public_from_secret(seed, pub, NULL) != TRACE_OK ||
	    ed25519_sign(seed, msg, sizeof(msg), sig, NULL) != TRACE_OK ||
	    !ed25519_verify(pub, 32, msg, sizeof(msg), sig, 64) ||
	    !ed25519_verify_libgcrypt(pub, 32, msg, sizeof(msg), sig, 64) ||
	    ed25519_public_key_check(pub, NULL) != TRACE_OK)
		return (void *)1;
	return NULL;
}

/*
 * libgcrypt 1.10 builds some state on first use without a lock (ec_p_init()
 * caches field primes in a static table); threads that race there leak an
 * entry, which LeakSanitizer once reported in a trace-server under test.
 * crypto_init() builds it before any thread, so the threads' work, the
 * first after crypto_init(), must leave libgcrypt holding nothing more.
 * Without that, this fails on every run: the first use keeps its entries.
 */
static void
test_first_use_on_threads(void)
{
	pthread_t threads[FIRST_USE_THREADS];
	long before = gcry_live;

	CHECK_INT(pthread_barrier_init(&first_use_barrier, NULL,
	    FIRST_USE_THREADS), 0);
	for (size_t i = 0; i < FIRST_USE_THREADS; i++)
		CHECK_INT(pthread_create(&threads[i], NULL, first_use,
		    (void *)i), 0);
	for (size_t i = 0; i < FIRST_USE_THREADS; i++) {
		void *failed = NULL;

		CHECK_INT(pthread_join(threads[i], &failed), 0);
		CHECK(failed == NULL);
	}
	pthread_barrier_destroy(&first_use_barrier);
	CHECK_INT(gcry_live, before);
}

static void
test_wycheproof(void)
{
	struct json_doc *doc = NULL;
	const struct json_value *groups;
	char *text = NULL;
	size_t len, cases = 0, agreed = 0, invalid_rejected = 0;
	size_t keys_checked = 0, keys_refused = 0;
	struct trace_error err;

	CHECK_INT(file_read_all(vector_path("wycheproof/ed25519_test.json"),
	    4 << 20, &text, &len, &err), TRACE_OK);
	if (text == NULL)
		return;
	CHECK_INT(json_parse(text, len, &vector_limits, &doc, &err), TRACE_OK);
	if (doc == NULL) {
		fprintf(stderr, "%s\n", err.message);
		free(text);
		return;
	}
	CHECK_INT(json_get_array(json_doc_root(doc), "testGroups", true,
	    &groups, NULL), TRACE_OK);
	for (size_t g = 0; g < groups->u.array.count; g++) {
		const struct json_value *group = groups->u.array.items[g];
		const struct json_value *pk = json_object_get(group, "publicKey");
		const struct json_value *tests = json_object_get(group, "tests");
		unsigned char *pub;
		size_t publen = 0;

		pub = hex_member(pk, "pk", &publen);
		CHECK(pub != NULL && tests != NULL);
		/* The enrollment rule, over every key Wycheproof uses (the
		 * verification results below must not depend on it). */
		if (pub != NULL && publen == ED25519_PUBLIC_LEN) {
			keys_checked++;
			if (ed25519_public_key_check(pub, &err) != TRACE_OK) {
				keys_refused++;
				fprintf(stderr, "Wycheproof key %zu: %s\n", g,
				    err.message);
			}
		}
		for (size_t t = 0; pub != NULL && t < tests->u.array.count; t++) {
			const struct json_value *tc = tests->u.array.items[t];
			const char *result = NULL;
			long long id = 0;
			size_t msglen = 0, siglen = 0;
			unsigned char *msg = hex_member(tc, "msg", &msglen);
			unsigned char *sig = hex_member(tc, "sig", &siglen);
			bool want, got;

			json_get_string(tc, "result", true, &result, NULL, NULL);
			json_get_int(tc, "tcId", true, &id, NULL);
			CHECK(msg != NULL && sig != NULL && result != NULL);
			if (msg == NULL || sig == NULL || result == NULL) {
				free(msg);
				free(sig);
				continue;
			}
			want = strcmp(result, "valid") == 0;
			got = ed25519_verify(pub, publen, msg, msglen, sig,
			    siglen);
			CHECK_MSG(got == want, "Wycheproof tcId %lld: got %s, "
			    "want %s", id, got ? "valid" : "invalid", result);
			CHECK_MSG(ed25519_verify_libgcrypt(pub, publen, msg,
			    msglen, sig, siglen) == want, "Wycheproof tcId "
			    "%lld: libgcrypt disagrees", id);
			cases++;
			agreed += got == want;
			invalid_rejected += !want && !got;
			free(msg);
			free(sig);
		}
		free(pub);
	}
	CHECK_INT(cases, 151);
	CHECK_INT(agreed, 151);
	CHECK_INT(invalid_rejected, 63);
	/* This copy of the vectors has no small-order or torsioned key: all
	 * 78 group keys are in the prime-order subgroup, so enrollment would
	 * accept each of them. */
	CHECK_INT(keys_checked, 78);
	CHECK_INT(keys_refused, 0);
	json_doc_free(doc);
	free(text);
}

/* S + L: the same signature with L added to S must be refused. */
static void
test_malleability(void)
{
	static const unsigned char L[32] = {
		0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
		0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
	};
	unsigned char secret[32], pub[32], sig[64], forged[64];
	const char msg[] = "inspection.completed";
	unsigned carry = 0;

	CHECK_INT(ed25519_generate(secret, pub, NULL), TRACE_OK);
	CHECK_INT(ed25519_sign(secret, msg, sizeof(msg) - 1, sig, NULL),
	    TRACE_OK);
	CHECK(ed25519_verify(pub, 32, msg, sizeof(msg) - 1, sig, 64));
	memcpy(forged, sig, 64);
	for (int i = 0; i < 32; i++) {
		unsigned v = forged[32 + i] + L[i] + carry;
		forged[32 + i] = (unsigned char)v;
		carry = v >> 8;
	}
	/* S < L < 2^253, so S + L < 2^254 fits: no carry out. */
	CHECK_INT(carry, 0);
	CHECK(!ed25519_verify(pub, 32, msg, sizeof(msg) - 1, forged, 64));
}

static void
test_sign_verify(void)
{
	/* RFC 8032 7.1 TEST 1: empty message. */
	static const char *seed_hex =
	    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
	static const char *pub_hex =
	    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
	static const char *sig_hex =
	    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
	unsigned char seed[32], pub[32], want_pub[32], sig[64], want_sig[64];
	unsigned char msg[3] = "abc";

	CHECK(hex_decode(seed_hex, 64, seed, 32, true));
	CHECK(hex_decode(pub_hex, 64, want_pub, 32, true));
	CHECK(hex_decode(sig_hex, 128, want_sig, 64, true));
	CHECK_INT(ed25519_public_from_secret(seed, pub, NULL), TRACE_OK);
	CHECK_MEM(pub, want_pub, 32);
	CHECK_INT(ed25519_sign(seed, "", 0, sig, NULL), TRACE_OK);
	CHECK_MEM(sig, want_sig, 64);
	CHECK(ed25519_verify(pub, 32, "", 0, sig, 64));
	/* Wrong message, flipped bits, wrong lengths. */
	CHECK(!ed25519_verify(pub, 32, msg, 3, sig, 64));
	sig[10] ^= 1;
	CHECK(!ed25519_verify(pub, 32, "", 0, sig, 64));
	sig[10] ^= 1;
	pub[0] ^= 1;
	CHECK(!ed25519_verify(pub, 32, "", 0, sig, 64));
	pub[0] ^= 1;
	CHECK(!ed25519_verify(pub, 31, "", 0, sig, 64));
	CHECK(!ed25519_verify(pub, 32, "", 0, sig, 63));
	/* Deterministic: signing again gives the same bytes. */
	CHECK_INT(ed25519_sign(seed, msg, 3, sig, NULL), TRACE_OK);
	CHECK_INT(ed25519_sign(seed, msg, 3, want_sig, NULL), TRACE_OK);
	CHECK_MEM(sig, want_sig, 64);
	CHECK(ed25519_verify(pub, 32, msg, 3, sig, 64));
}

/* Expect ed25519_public_key_check(hex) to refuse with a message naming why. */
static void
expect_weak(const char *hex, const char *why, const char *what)
{
	unsigned char pub[32];
	struct trace_error err;

	trace_error_clear(&err);
	CHECK(hex_decode(hex, 64, pub, 32, true));
	CHECK_MSG(ed25519_public_key_check(pub, &err) == TRACE_ERULE,
	    "%s (%s) was accepted or failed otherwise: %s", what, hex,
	    err.message);
	CHECK_MSG(strcmp(err.code, "weak_public_key") == 0, "%s: code %s",
	    what, err.code);
	CHECK_MSG(strstr(err.message, why) != NULL, "%s: message \"%s\", want "
	    "\"%s\"", what, err.message, why);
	CHECK_STR(err.field, "");
}

/* The 8 points of small order (orders 1, 2, 4, 4, 8, 8, 8, 8), each in its
 * canonical encoding. */
static const char *const small_order[] = {
	"0100000000000000000000000000000000000000000000000000000000000000",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
};

/* (0, 1) and (0, -1) with the sign bit set: not canonical (x = 0), but
 * their y is of small order all the same. */
static const char *const small_order_y_signed[] = {
	"0100000000000000000000000000000000000000000000000000000000000080",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
};

static void
test_public_key_check(void)
{
	/* Their non-canonical encodings: x = 0 with the sign bit set (the
	 * points (0, 1) and (0, -1)), and y + p for y = 0 and y = 1, with
	 * and without the sign bit. */
	static const struct {
		const char *hex, *why;
	} non_canonical[] = {
		{ "0100000000000000000000000000000000000000000000000000000000000080",
		  "x = 0 with the sign bit set" },
		{ "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		  "x = 0 with the sign bit set" },
		{ "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		  "not below p" },
		{ "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		  "not below p" },
		{ "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		  "not below p" },
		{ "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		  "not below p" },
	};
	/*
	 * RFC 8032 7.1 TEST 1's key A plus a point of order 8, 4 and 2
	 * (computed with the RFC's formulas in Python and checked against
	 * libsodium's crypto_core_ed25519_is_valid_point): valid curve
	 * points, not of small order, but [L]A' = [L]T != O.
	 */
	static const char *const mixed[] = {
		"3b5b475c4b82dd1572799fc546f4c6c03e478c6654aa4c7f945b347ea32af60d",
		"40c7570f4dd54835b9131184410ed4a0cc93e7d9ad053cbc6d07a62426999582",
		"16a567fe7d4ef5482ab4012c369bf8c5f11e8d0c2559dcda50fde59708f8aee5",
	};
	/* RFC 8032 7.1: the public keys of TEST 1, 2, 3, 1024, SHA(abc). */
	static const char *const rfc8032[] = {
		"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
		"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
		"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
		"278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
		"ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
	};
	unsigned char secret[32], pub[32];
	struct trace_error err;
	size_t passed = 0;

	for (size_t i = 0; i < sizeof(small_order) / sizeof(*small_order); i++)
		expect_weak(small_order[i], "small order", "small-order point");
	for (size_t i = 0; i < sizeof(non_canonical) / sizeof(*non_canonical);
	    i++)
		expect_weak(non_canonical[i].hex, non_canonical[i].why,
		    "non-canonical small-order encoding");
	for (size_t i = 0; i < sizeof(mixed) / sizeof(*mixed); i++)
		expect_weak(mixed[i], "torsion component", "mixed-order point");
	/* y >= p: 2^255 - 1, and p + 2 (2 has no x either). */
	expect_weak("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    "not below p", "y = 2^255 - 1");
	expect_weak("efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    "not below p", "y = p + 2");
	/* y = 2: (y^2 - 1) / (d y^2 + 1) is not a square mod p. */
	expect_weak("0200000000000000000000000000000000000000000000000000000000000000",
	    "no x exists", "y with no x");
	expect_weak("0200000000000000000000000000000000000000000000000000000000000080",
	    "no x exists", "y with no x, sign bit set");
	/* y = 3 + p: a point exists for y = 3, but this encoding of it is
	 * not canonical. */
	expect_weak("f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    "not below p", "y = p + 3");

	for (size_t i = 0; i < sizeof(rfc8032) / sizeof(*rfc8032); i++) {
		CHECK(hex_decode(rfc8032[i], 64, pub, 32, true));
		CHECK_MSG(ed25519_public_key_check(pub, &err) == TRACE_OK,
		    "RFC 8032 key %s: %s", rfc8032[i], err.message);
		/* The same point with the sign bit flipped is -A, which is
		 * in the subgroup too. */
		pub[31] ^= 0x80;
		CHECK_MSG(ed25519_public_key_check(pub, &err) == TRACE_OK,
		    "-A of RFC 8032 key %s: %s", rfc8032[i], err.message);
	}
	for (int i = 0; i < 1000; i++) {
		CHECK_INT(ed25519_generate(secret, pub, NULL), TRACE_OK);
		if (ed25519_public_key_check(pub, &err) == TRACE_OK)
			passed++;
		else
			fprintf(stderr, "generated key refused: %s\n",
			    err.message);
	}
	CHECK_INT(passed, 1000);
}

/*
 * A public key or an R of small order is refused before the equation
 * (docs/PROTOCOL.md 4.1), by both of libtrace's verifiers.  For each of the
 * 10 encodings with such a y (each y with either sign bit), R = B (the base
 * point) and S = 1 satisfy the cofactorless equation [S]B = R + [k]A
 * whenever [k]A = O: for the identity always, otherwise for the messages
 * whose k is a multiple of A's order (1 in 8 at worst, so several of the
 * 64 messages here).  Both verifiers must refuse every one.  A y missing
 * from crypto.c's table fails this: libgcrypt would then accept some of
 * them, or abort the process (it does for the identity, (0, -1) and
 * (0, sqrt(-1)) as keys).  And each encoding is refused by enrollment.
 */
static void
refused_as_key_and_r(const char *hex, const unsigned char good_pub[32],
    const unsigned char good_sig[64])
{
	unsigned char point[32], sig[64] = { 0 }, r_sig[64];
	struct trace_error err;

	CHECK(hex_decode(hex, 64, point, 32, false));
	/* R = B, S = 1. */
	sig[0] = 0x58;
	memset(sig + 1, 0x66, 31);
	sig[32] = 1;
	for (int m = 0; m < 64; m++) {
		char msg[8];
		int n = snprintf(msg, sizeof(msg), "m%d", m);

		CHECK_MSG(!ed25519_verify(point, 32, msg, (size_t)n, sig, 64),
		    "key %s message %s verifies", hex, msg);
		CHECK_MSG(!ed25519_verify_libgcrypt(point, 32, msg, (size_t)n,
		    sig, 64), "key %s message %s verifies with libgcrypt", hex,
		    msg);
	}
	/* As R, beside a good key and with a good S. */
	memcpy(r_sig, good_sig, 64);
	memcpy(r_sig, point, 32);
	CHECK(!ed25519_verify(good_pub, 32, "m", 1, r_sig, 64));
	CHECK(!ed25519_verify_libgcrypt(good_pub, 32, "m", 1, r_sig, 64));
	/* A = R = the point, S = 0: the equation holds for the identity and
	 * every message. */
	memset(sig, 0, sizeof(sig));
	memcpy(sig, point, 32);
	CHECK(!ed25519_verify(point, 32, "x", 1, sig, 64));
	CHECK(!ed25519_verify_libgcrypt(point, 32, "x", 1, sig, 64));
	CHECK_MSG(ed25519_public_key_check(point, &err) != TRACE_OK,
	    "enrollment takes %s", hex);
}

static void
test_small_order_refused(void)
{
	unsigned char good_sig[64], good_pub[32], seed[32];

	memset(seed, 7, sizeof(seed));
	CHECK_INT(ed25519_public_from_secret(seed, good_pub, NULL), TRACE_OK);
	CHECK_INT(ed25519_sign(seed, "m", 1, good_sig, NULL), TRACE_OK);
	CHECK(ed25519_verify(good_pub, 32, "m", 1, good_sig, 64));
	for (size_t i = 0; i < sizeof(small_order) / sizeof(*small_order); i++)
		refused_as_key_and_r(small_order[i], good_pub, good_sig);
	for (size_t i = 0; i < sizeof(small_order_y_signed) /
	    sizeof(*small_order_y_signed); i++)
		refused_as_key_and_r(small_order_y_signed[i], good_pub,
		    good_sig);
}

static void
test_sha256(void)
{
	unsigned char out[32], parts_out[32];
	char hex[65];
	struct sha256_part parts[] = { { "a", 1 }, { "", 0 }, { "bc", 2 } };

	sha256("", 0, out);
	hex_encode(out, 32, hex);
	CHECK_STR(hex,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256("abc", 3, out);
	hex_encode(out, 32, hex);
	CHECK_STR(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_parts(parts, 3, parts_out);
	CHECK_MEM(out, parts_out, 32);
	CHECK(crypto_equal(out, parts_out, 32));
	parts_out[31] ^= 0x80;
	CHECK(!crypto_equal(out, parts_out, 32));
}

int
main(void)
{
	gcry_set_allocation_handler(count_alloc, count_alloc, count_is_secure,
	    count_realloc, count_free);
	CHECK(crypto_init());
	CHECK(crypto_init()); /* idempotent */
	test_first_use_on_threads();
	test_sha256();
	test_sign_verify();
	test_malleability();
	test_public_key_check();
	test_small_order_refused();
	test_wycheproof();
	CHECK_DONE();
}
