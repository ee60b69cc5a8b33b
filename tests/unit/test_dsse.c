/*
 * test_dsse.c - PAE against tests/vectors/dsse-pae.json and a PAE built by
 * hand at every width of its lengths, the streamed PAE hashes, envelope
 * parse/write round trips, signing, each way verification can be fooled,
 * the one-signature rule and the reading of stored round-1 envelopes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/dsse.h"
#include "libtrace/encoding.h"
#include "libtrace/fileio.h"
#include "check.h"

static void
test_pae_vector(void)
{
	struct json_doc *doc = NULL;
	const struct json_value *cases;
	char *text = NULL;
	size_t len = 0, checked = 0;

	CHECK_INT(file_read_all(vector_path("dsse-pae.json"), 1 << 16, &text,
	    &len, NULL), TRACE_OK);
	CHECK_INT(json_parse(text, len, NULL, &doc, NULL), TRACE_OK);
	cases = json_object_get(json_doc_root(doc), "cases");
	CHECK(cases != NULL && cases->type == JSON_ARRAY);
	for (size_t i = 0; cases != NULL && i < cases->u.array.count; i++) {
		const struct json_value *c = cases->u.array.items[i];
		const char *type = NULL, *payload = NULL, *want = NULL;
		size_t plen = 0, wlen = 0, got_len = 0;
		unsigned char *pae, id[32], want_id[32];

		json_get_string(c, "payloadType", true, &type, NULL, NULL);
		json_get_string(c, "payload", true, &payload, &plen, NULL);
		json_get_string(c, "pae", true, &want, &wlen, NULL);
		CHECK(type != NULL && payload != NULL && want != NULL);
		if (type == NULL || payload == NULL || want == NULL)
			continue;
		pae = dsse_pae(type, (const unsigned char *)payload, plen,
		    &got_len);
		CHECK_INT(got_len, wlen);
		CHECK_INT(dsse_pae_len(strlen(type), plen), wlen);
		CHECK(pae != NULL && memcmp(pae, want, wlen) == 0);
		/* The id hashes the PAE without building it: same bytes. */
		dsse_statement_id(type, (const unsigned char *)payload, plen, id);
		sha256(want, wlen, want_id);
		CHECK_MEM(id, want_id, 32);
		free(pae);
		checked++;
	}
	CHECK(checked >= 1);
	json_doc_free(doc);
	free(text);
}

/*
 * The PAE's decimal lengths at every width change, against a PAE built
 * here by hand, and SHA-256(prefix || PAE) streamed against the PAE in one
 * buffer.  Types longer than DSSE_TYPE_MAX are never accepted from an
 * envelope, but the encoding itself has no limit and must not change.
 */
static void
test_pae_lengths(void)
{
	static const size_t lens[] = { 0, 1, 9, 10, 11, 99, 100, 101, 128, 129,
		999, 1000, 9999, 10000, 16384, 16385 };
	static const unsigned char prefix[3] = { 0x00, 0x01, 0xff };
	size_t max = 16385;
	char *type = malloc(max + 1), *want = malloc(2 * max + 64);
	unsigned char *payload = malloc(max), *pae, h[32], ref[32];
	size_t pae_len = 0;

	CHECK(type != NULL && want != NULL && payload != NULL);
	if (type == NULL || want == NULL || payload == NULL)
		goto out;
	for (size_t i = 0; i < max; i++)
		payload[i] = (unsigned char)(255 - i % 256);
	for (size_t t = 1; t < sizeof(lens) / sizeof(lens[0]); t++) {
		memset(type, 'A' + (int)(t % 26), lens[t]);
		type[lens[t]] = '\0';
		for (size_t p = 0; p < sizeof(lens) / sizeof(lens[0]); p++) {
			int n = snprintf(want, 64, "DSSEv1 %zu ", lens[t]);
			size_t wlen = (size_t)n;

			memcpy(want + wlen, type, lens[t]);
			wlen += lens[t];
			wlen += (size_t)snprintf(want + wlen, 64, " %zu ",
			    lens[p]);
			memcpy(want + wlen, payload, lens[p]);
			wlen += lens[p];

			CHECK_MSG(dsse_pae_len(lens[t], lens[p]) == wlen,
			    "pae_len(%zu, %zu)", lens[t], lens[p]);
			pae = dsse_pae(type, payload, lens[p], &pae_len);
			CHECK(pae != NULL);
			if (pae == NULL)
				continue;
			CHECK_MSG(pae_len == wlen && memcmp(pae, want, wlen) ==
			    0, "pae(%zu, %zu)", lens[t], lens[p]);
			free(pae);

			/* The statement id: no prefix. */
			sha256(want, wlen, ref);
			dsse_statement_id(type, payload, lens[p], h);
			CHECK_MSG(memcmp(h, ref, 32) == 0, "id(%zu, %zu)",
			    lens[t], lens[p]);
			dsse_pae_sha256(NULL, 0, type, payload, lens[p], h);
			CHECK_MEM(h, ref, 32);
			/* With a prefix, hashed in front of the PAE. */
			memmove(want + 3, want, wlen);
			memcpy(want, prefix, 3);
			sha256(want, wlen + 3, ref);
			dsse_pae_sha256(prefix, 3, type, payload, lens[p], h);
			CHECK_MSG(memcmp(h, ref, 32) == 0, "prefixed(%zu, %zu)",
			    lens[t], lens[p]);
		}
	}
out:
	free(type);
	free(want);
	free(payload);
}

static const char payload[] = "{\"v\":1,\"signer\":\"k\"}";

static void
make_envelope(struct dsse_envelope *env, unsigned char secret[32],
    unsigned char pub[32])
{
	CHECK_INT(ed25519_generate(secret, pub, NULL), TRACE_OK);
	CHECK_INT(dsse_sign(TYPE_EVENT, (const unsigned char *)payload,
	    sizeof(payload) - 1, secret, "hint", env, NULL), TRACE_OK);
}

static void
test_round_trip(void)
{
	struct dsse_envelope env, back;
	unsigned char secret[32], pub[32], id[32];
	char *text;
	size_t len = 0;

	make_envelope(&env, secret, pub);
	CHECK_INT(dsse_verify(&env, pub, "hint", NULL), TRACE_OK);
	dsse_statement_id(TYPE_EVENT, (const unsigned char *)payload,
	    sizeof(payload) - 1, id);
	CHECK_MEM(env.id, id, 32);
	text = dsse_envelope_to_text(&env, &len);
	CHECK(text != NULL);
	CHECK_INT(dsse_envelope_parse(text, len, &back, NULL), TRACE_OK);
	CHECK_STR(back.type, TYPE_EVENT);
	CHECK_INT(back.payload_len, sizeof(payload) - 1);
	CHECK_MEM(back.payload, payload, sizeof(payload) - 1);
	CHECK_MEM(back.id, env.id, 32);
	CHECK_INT(back.sig_count, 1);
	CHECK_STR(back.sigs[0].keyid, "hint");
	CHECK_INT(dsse_verify(&back, pub, NULL, NULL), TRACE_OK);
	free(text);
	dsse_envelope_clear(&back);
	dsse_envelope_clear(&env);
	dsse_envelope_clear(NULL);
}

/* Parse text (strictly, or as stored); expect rc and error code. */
static void
expect_parse_as(bool stored, const char *text, enum trace_status want,
    const char *code)
{
	struct dsse_envelope env;
	struct trace_error err;
	enum trace_status rc;

	trace_error_clear(&err);
	rc = stored ? dsse_envelope_parse_stored(text, strlen(text), &env, &err) :
	    dsse_envelope_parse(text, strlen(text), &env, &err);
	CHECK_MSG(rc == want, "%s: got %d (%s), want %d", text, rc,
	    err.message, want);
	if (code != NULL)
		CHECK_MSG(strcmp(err.code, code) == 0, "%s: code %s, want %s",
		    text, err.code, code);
	dsse_envelope_clear(&env);
}

static void
expect_parse(const char *text, enum trace_status want, const char *code)
{
	expect_parse_as(false, text, want, code);
}

#define SIG64 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="

static void
test_parse_rejects(void)
{
	expect_parse("{\"payloadType\":\"t\",\"payload\":\"e30=\","
	    "\"signatures\":[{\"sig\":\"" SIG64 "\"}]}", TRACE_OK, NULL);
	/* URL-safe, unpadded payload is accepted. */
	expect_parse("{\"payloadType\":\"t\",\"payload\":\"e30\","
	    "\"signatures\":[{\"sig\":\"" SIG64 "\"}]}", TRACE_OK, NULL);
	expect_parse("[]", TRACE_EMALFORMED, "wrong_type");
	expect_parse("{\"payloadType\":\"t\",\"payload\":\"e30=\","
	    "\"signatures\":[{\"sig\":\"" SIG64 "\"}],\"x\":1}",
	    TRACE_EMALFORMED, "unknown_field");
	expect_parse("{\"payload\":\"e30=\",\"signatures\":[{\"sig\":\""
	    SIG64 "\"}]}", TRACE_EMALFORMED, "missing_field");
	expect_parse("{\"payloadType\":\"t\",\"payload\":\"e30=\","
	    "\"signatures\":[]}", TRACE_EMALFORMED, "bad_signatures");
	expect_parse("{\"payloadType\":\"t\",\"payload\":\"e30=\","
	    "\"signatures\":[{\"sig\":\"AAAA\"}]}", TRACE_EBADSIG,
	    "bad_signature");
	expect_parse("{\"payloadType\":\"t\",\"payload\":\"e30=\","
	    "\"signatures\":[{\"sig\":\"" SIG64 "\",\"extra\":1}]}",
	    TRACE_EMALFORMED, "unknown_field");
	expect_parse("{\"payloadType\":\"t\",\"payload\":\"e30=\","
	    "\"signatures\":[{\"sig\":\"!!!!\"}]}", TRACE_EMALFORMED,
	    "bad_signature_encoding");
	/* A signature longer than 64 bytes' base64 is refused before it is
	 * decoded (fuzz_envelope once overflowed the buffer with one). */
	expect_parse("{\"payloadType\":\"t\",\"payload\":\"e30=\","
	    "\"signatures\":[{\"sig\":\"" SIG64 "AAAA\"}]}",
	    TRACE_EMALFORMED, "bad_signature_encoding");
	expect_parse("{\"payloadType\":\"t\",\"payload\":\"e3 0=\","
	    "\"signatures\":[{\"sig\":\"" SIG64 "\"}]}", TRACE_EMALFORMED,
	    "bad_payload_encoding");
	expect_parse("{\"payloadType\":\"a b\",\"payload\":\"e30=\","
	    "\"signatures\":[{\"sig\":\"" SIG64 "\"}]}", TRACE_EMALFORMED,
	    "bad_payload_type");
	expect_parse("{\"payloadType\":\"\",\"payload\":\"e30=\","
	    "\"signatures\":[{\"sig\":\"" SIG64 "\"}]}", TRACE_EMALFORMED,
	    "bad_payload_type");
	expect_parse("{\"payloadType\":1,\"payload\":\"e30=\","
	    "\"signatures\":[{\"sig\":\"" SIG64 "\"}]}", TRACE_EMALFORMED,
	    "wrong_type");
	expect_parse("{\"payloadType\":\"t\",\"payloadType\":\"t\","
	    "\"payload\":\"e30=\",\"signatures\":[{\"sig\":\"" SIG64 "\"}]}",
	    TRACE_EMALFORMED, "duplicate_key");
	expect_parse("{\"payloadType\":\"t\",\"payload\":\"e30=\","
	    "\"signatures\":[{\"sig\":\"" SIG64 "\"},{\"sig\":\"" SIG64
	    "\"},{\"sig\":\"" SIG64 "\"},{\"sig\":\"" SIG64 "\"},{\"sig\":\""
	    SIG64 "\"}]}", TRACE_EMALFORMED, "bad_signatures");
}

#define SIGS2 "[{\"sig\":\"" SIG64 "\"},{\"keyid\":\"r\",\"sig\":\"" SIG64 "\"}]"
#define SIGS4 "[{\"sig\":\"" SIG64 "\"},{\"sig\":\"" SIG64 "\"},{\"sig\":\"" \
	SIG64 "\"},{\"sig\":\"" SIG64 "\"}]"
#define ENV_WITH(sigs) "{\"payloadType\":\"t\",\"payload\":\"e30=\"," \
	"\"signatures\":" sigs "}"

/*
 * SPEC 8: exactly one signature.  The strict readers refuse 0 and 2-5 with
 * bad_signatures at "signatures", before any signature is decoded (a
 * second one that is not even base64 does not change the answer); the
 * stored readers take 1-4 as round 1 did, and nothing else.
 */
static void
test_signature_count(void)
{
	struct dsse_envelope env;
	struct trace_error err;
	struct json_doc *doc = NULL;

	expect_parse(ENV_WITH(SIGS2), TRACE_EMALFORMED, "bad_signatures");
	expect_parse(ENV_WITH(SIGS4), TRACE_EMALFORMED, "bad_signatures");
	expect_parse(ENV_WITH("[{\"sig\":\"" SIG64 "\"},{\"sig\":\"!!\"}]"),
	    TRACE_EMALFORMED, "bad_signatures");
	expect_parse(ENV_WITH("[{\"sig\":\"" SIG64 "\"},{\"sig\":\"AAAA\"}]"),
	    TRACE_EMALFORMED, "bad_signatures");
	trace_error_clear(&err);
	CHECK_INT(dsse_envelope_parse(ENV_WITH(SIGS2), strlen(ENV_WITH(SIGS2)),
	    &env, &err), TRACE_EMALFORMED);
	CHECK_STR(err.field, "signatures");
	CHECK_STR(err.message, "an envelope carries exactly one signature, "
	    "not 2");
	CHECK_INT(trace_status_http(err.status), 400);
	/* The JSON reader a batch uses is as strict. */
	CHECK_INT(json_parse(ENV_WITH(SIGS2), strlen(ENV_WITH(SIGS2)), NULL,
	    &doc, NULL), TRACE_OK);
	CHECK_INT(dsse_envelope_from_json(json_doc_root(doc), &env, &err),
	    TRACE_EMALFORMED);
	CHECK_STR(err.code, "bad_signatures");
	CHECK_INT(dsse_envelope_from_json_stored(json_doc_root(doc), &env,
	    &err), TRACE_OK);
	CHECK_INT(env.sig_count, 2);
	dsse_envelope_clear(&env);
	json_doc_free(doc);

	/* Stored: 1 to 4. */
	expect_parse_as(true, ENV_WITH("[{\"sig\":\"" SIG64 "\"}]"), TRACE_OK,
	    NULL);
	expect_parse_as(true, ENV_WITH(SIGS2), TRACE_OK, NULL);
	expect_parse_as(true, ENV_WITH(SIGS4), TRACE_OK, NULL);
	expect_parse_as(true, ENV_WITH("[]"), TRACE_EMALFORMED,
	    "bad_signatures");
	expect_parse_as(true, ENV_WITH("[{\"sig\":\"" SIG64 "\"},{\"sig\":\""
	    SIG64 "\"},{\"sig\":\"" SIG64 "\"},{\"sig\":\"" SIG64 "\"},"
	    "{\"sig\":\"" SIG64 "\"}]"), TRACE_EMALFORMED, "bad_signatures");
	/* Every other rule holds for stored envelopes too. */
	expect_parse_as(true, ENV_WITH("[{\"sig\":\"" SIG64 "\"},{\"sig\":\"!!\"}]"),
	    TRACE_EMALFORMED, "bad_signature_encoding");
	expect_parse_as(true, "{\"payloadType\":\"t\",\"payload\":\"e30=\","
	    "\"signatures\":" SIGS2 ",\"x\":1}", TRACE_EMALFORMED,
	    "unknown_field");
}

/*
 * A stored round-1 envelope with several signatures is served with the
 * one that verifies under its signer's key: dsse_envelope_keep_verified.
 */
static void
test_keep_verified(void)
{
	struct dsse_envelope env, stored;
	unsigned char secret[32], pub[32], other_secret[32], other_pub[32];
	unsigned char id[32];
	struct dsse_signature good, junk;
	char *single, *text;
	size_t single_len = 0, len = 0;

	make_envelope(&env, secret, pub);
	CHECK_INT(ed25519_generate(other_secret, other_pub, NULL), TRACE_OK);
	single = dsse_envelope_to_text(&env, &single_len);
	good = env.sigs[0];
	junk = good;
	junk.sig[5] ^= 0x01;
	snprintf(junk.keyid, sizeof(junk.keyid), "regulator");
	memcpy(id, env.id, 32);

	/* Each position of the good one among up to 3 junk ones, and with
	 * the junk hinted as the signer: the good one is kept. */
	for (size_t n = 2; n <= DSSE_SIGNATURES_MAX; n++) {
		for (size_t at = 0; at < n; at++) {
			for (int hint_junk = 0; hint_junk < 2; hint_junk++) {
				env.sig_count = n;
				for (size_t i = 0; i < n; i++)
					env.sigs[i] = junk;
				if (hint_junk)
					snprintf(env.sigs[0].keyid,
					    sizeof(env.sigs[0].keyid), "hint");
				env.sigs[at] = good;
				text = dsse_envelope_to_text(&env, &len);
				CHECK(text != NULL);
				CHECK_INT(dsse_envelope_parse_stored(text, len,
				    &stored, NULL), TRACE_OK);
				CHECK_INT(stored.sig_count, n);
				free(text);
				CHECK_INT(dsse_envelope_keep_verified(&stored,
				    pub, "hint", NULL), TRACE_OK);
				CHECK_INT(stored.sig_count, 1);
				CHECK_MEM(stored.sigs[0].sig, good.sig, 64);
				CHECK_STR(stored.sigs[0].keyid, "hint");
				CHECK_MEM(stored.id, id, 32);
				/* Served: exactly the one-signature text. */
				text = dsse_envelope_to_text(&stored, &len);
				CHECK(text != NULL && len == single_len &&
				    memcmp(text, single, len) == 0);
				free(text);
				CHECK_INT(dsse_verify(&stored, pub, NULL, NULL),
				    TRACE_OK);
				dsse_envelope_clear(&stored);
			}
		}
	}
	/* None verifies (wrong key, or only junk): refused, unchanged. */
	env.sig_count = 2;
	env.sigs[0] = junk;
	env.sigs[1] = good;
	{
		struct trace_error err;

		CHECK_INT(dsse_envelope_keep_verified(&env, other_pub, "hint",
		    &err), TRACE_EBADSIG);
		CHECK_STR(err.code, "bad_signature");
		CHECK_INT(env.sig_count, 2);
		CHECK_MEM(env.sigs[1].sig, good.sig, 64);
		env.sigs[1] = junk;
		CHECK_INT(dsse_envelope_keep_verified(&env, pub, "hint", &err),
		    TRACE_EBADSIG);
		CHECK_INT(env.sig_count, 2);
	}
	/* One signature already: kept as it is. */
	env.sig_count = 1;
	env.sigs[0] = good;
	CHECK_INT(dsse_envelope_keep_verified(&env, pub, NULL, NULL), TRACE_OK);
	CHECK_INT(env.sig_count, 1);
	CHECK_MEM(env.sigs[0].sig, good.sig, 64);
	free(single);
	dsse_envelope_clear(&env);
}

static void
test_verify_negative(void)
{
	struct dsse_envelope env;
	unsigned char secret[32], pub[32], other_secret[32], other_pub[32];
	unsigned char saved;

	make_envelope(&env, secret, pub);
	CHECK_INT(ed25519_generate(other_secret, other_pub, NULL), TRACE_OK);
	/* Wrong key. */
	CHECK_INT(dsse_verify(&env, other_pub, "hint", NULL), TRACE_EBADSIG);
	/* A payload byte changed. */
	env.payload[3] ^= 1;
	CHECK_INT(dsse_verify(&env, pub, "hint", NULL), TRACE_EBADSIG);
	env.payload[3] ^= 1;
	/* The payload type changed: PAE binds it. */
	memcpy(env.type, TYPE_KEY, sizeof(TYPE_KEY));
	CHECK_INT(dsse_verify(&env, pub, "hint", NULL), TRACE_EBADSIG);
	memcpy(env.type, TYPE_EVENT, sizeof(TYPE_EVENT));
	/* A signature byte changed. */
	saved = env.sigs[0].sig[40];
	env.sigs[0].sig[40] ^= 0x10;
	CHECK_INT(dsse_verify(&env, pub, "hint", NULL), TRACE_EBADSIG);
	env.sigs[0].sig[40] = saved;
	/* A wrong hint does not matter: the key decides. */
	CHECK_INT(dsse_verify(&env, pub, "someone-else", NULL), TRACE_OK);
	/* dsse_verify itself looks for one that verifies among what it is
	 * given (the strict readers give it one; bundle_verify and the
	 * server's readers of stored envelopes hold the count themselves). */
	env.sigs[1] = env.sigs[0];
	env.sigs[1].sig[0] ^= 1;
	env.sig_count = 2;
	CHECK_INT(dsse_verify(&env, pub, "hint", NULL), TRACE_OK);
	env.sigs[0] = env.sigs[1];
	CHECK_INT(dsse_verify(&env, pub, "hint", NULL), TRACE_EBADSIG);
	dsse_envelope_clear(&env);
}

int
main(void)
{
	crypto_init();
	test_pae_vector();
	test_pae_lengths();
	test_round_trip();
	test_parse_rejects();
	test_signature_count();
	test_verify_negative();
	test_keep_verified();
	CHECK_DONE();
}
