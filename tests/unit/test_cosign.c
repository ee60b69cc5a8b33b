/*
 * test_cosign.c - C2SP tlog-cosignature cosignature/v1 and the note
 * splitter it reads: exact bytes against PyNaCl (tests/witness/
 * speclient.py, written from the specs) and the spec's own example line,
 * then every way a cosignature could be passed off: wrong key ID, wrong
 * type byte, changed timestamp, changed body, a plain note signature
 * (type 0x01) by the same key, truncation.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/cosign.h"
#include "libtrace/crypto.h"
#include "libtrace/encoding.h"
#include "libtrace/note.h"
#include "check.h"

#define EM_DASH "\xe2\x80\x94"
#define NAME "witness.example/w1"
#define TS 1679315147u

/* tlog-cosignature's example checkpoint body and time. */
static const char body[] =
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

/* Computed by speclient.py with PyNaCl from seed 00 01 .. 1f. */
static const char want_vkey[] =
    NAME "+e75f6532+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
static const char want_line[] =
    EM_DASH " " NAME " 519lMgAAAABkGFDLBuRDazBLVac2NE+Y+IjbjQOcXLfF9CSDZVUIoS8"
    "3rE1nFZsVE8YiWV6Ngr7lV8H6bdoBQGP/l73euDMQ9k+bBQ==\n";
/* The log's signature over body (seed "LLL..."), also from speclient.py. */
static const char log_vkey[] = "example.com/behind-the-sofa+de993088+AZJzCPU9"
    "Z2VQPStkwQOrWqRyBqs5UCz+j5hEL9tUMQC3";
static const char log_line[] = EM_DASH " example.com/behind-the-sofa 3pkwiBb"
    "Kttc3fJwG+wVFOVHBUMLAx7tr2LrA5PJX3rc5oQQ9PaG9xZJP72mFA9/n8ZwRqhXYyAywkuV"
    "Krq5W61QhvQI=\n";
/* tlog-cosignature's example cosignature line (no public key given). */
static const char spec_line[] = EM_DASH " witness.example.com/w1 jWbPPwAAAABk"
    "GFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0"
    "xUe+mbIUBkBIfZ+qnA==\n";

static struct note_signer signer;
static struct note_verifier verifier;

/* body + "\n" + lines, in a static buffer. */
static const char *
note_of(const char *text, const char *lines)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s\n%s", text, lines);
	return buf;
}

static enum trace_status
verify(const char *note, uint64_t *ts)
{
	return cosign_verify(note, strlen(note), &verifier, ts, NULL);
}

/* Rebuild a line over raw bytes (key ID || rest) for the attacks. */
static void
line_of(const char *name, const unsigned char *raw, size_t n, char *out,
    size_t size)
{
	char b64[256];

	base64_encode(raw, n, b64);
	snprintf(out, size, EM_DASH " %s %s\n", name, b64);
}

static void
test_exact_bytes(void)
{
	unsigned char seed[32];
	char vkey[NOTE_VERIFIER_KEY_MAX], line[COSIGN_LINE_MAX];
	char *msg = NULL;
	size_t msg_len = 0, line_len = 0;
	uint64_t ts = 0;

	for (int i = 0; i < 32; i++)
		seed[i] = (unsigned char)i;
	CHECK_INT(cosign_signer_from_secret(NAME, seed, &signer, NULL),
	    TRACE_OK);
	CHECK_INT(signer.key_hash, 0xe75f6532u);
	CHECK_INT(note_key_id(NAME, strlen(NAME), NOTE_TYPE_ED25519,
	    signer.public_key), 0x3218362du);
	CHECK_INT(cosign_verifier_from_public(NAME, signer.public_key,
	    &verifier, NULL), TRACE_OK);
	CHECK_INT(cosign_verifier_format(&verifier, vkey, sizeof(vkey), NULL),
	    TRACE_OK);
	CHECK_STR(vkey, want_vkey);

	CHECK_INT(cosign_message(body, strlen(body), TS, &msg, &msg_len,
	    NULL), TRACE_OK);
	CHECK_STR(msg, "cosignature/v1\ntime 1679315147\n"
	    "example.com/behind-the-sofa\n20852163\n"
	    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
	CHECK_INT(msg_len, strlen(msg));
	free(msg);
	CHECK_INT(cosign_message(body, strlen(body), 0, &msg, &msg_len, NULL),
	    TRACE_OK);
	CHECK(msg != NULL && strncmp(msg, "cosignature/v1\ntime 0\n", 22) == 0);
	free(msg);

	CHECK_INT(cosign_sign(&signer, body, strlen(body), TS, line,
	    sizeof(line), &line_len, NULL), TRACE_OK);
	CHECK_STR(line, want_line);
	CHECK_INT(line_len, strlen(want_line));
	CHECK_INT(verify(note_of(body, want_line), &ts), TRACE_OK);
	CHECK_INT(ts, TS);
	/* Among the log's signature and others, in any order. */
	{
		char lines[1024];

		snprintf(lines, sizeof(lines), "%s%s%s", log_line, spec_line,
		    want_line);
		CHECK_INT(verify(note_of(body, lines), &ts), TRACE_OK);
	}
	/* A buffer too small is an error, not a cut line. */
	CHECK_INT(cosign_sign(&signer, body, strlen(body), TS, line, 40,
	    &line_len, NULL), TRACE_ETOOBIG);
}

static void
test_vkeys(void)
{
	struct note_verifier v;
	struct trace_error err;
	char vkey[NOTE_VERIFIER_KEY_MAX];

	CHECK_INT(cosign_verifier_parse(want_vkey, strlen(want_vkey), &v,
	    NULL), TRACE_OK);
	CHECK_STR(v.name, NAME);
	CHECK_INT(v.key_hash, 0xe75f6532u);
	CHECK_MEM(v.public_key, signer.public_key, 32);
	/* The log's vkey is type 0x01: not a witness key, and back. */
	CHECK_INT(cosign_verifier_parse(log_vkey, strlen(log_vkey), &v, &err),
	    TRACE_EMALFORMED);
	CHECK_STR(err.code, "unsupported_key");
	CHECK_INT(note_verifier_parse(want_vkey, strlen(want_vkey), &v, &err),
	    TRACE_EMALFORMED);
	CHECK_STR(err.code, "unsupported_key");
	/* Type byte 0x04 with the hash computed as for 0x01. */
	CHECK_INT(note_vkey_format(NAME, NOTE_TYPE_COSIGNATURE_V1,
	    signer.public_key, vkey, sizeof(vkey), NULL), TRACE_OK);
	CHECK_STR(vkey, want_vkey);
	memcpy(vkey + strlen(NAME) + 1, "3218362d", 8);
	CHECK_INT(cosign_verifier_parse(vkey, strlen(vkey), &v, &err),
	    TRACE_EMALFORMED);
	CHECK_STR(err.code, "key_hash_mismatch");
	/* A name a URL with '/' is fine; '+' or a space is not. */
	CHECK_INT(cosign_verifier_from_public("a+b", signer.public_key, &v,
	    NULL), TRACE_EMALFORMED);
	CHECK_INT(cosign_verifier_from_public("a b", signer.public_key, &v,
	    NULL), TRACE_EMALFORMED);
}

static void
test_note_parse(void)
{
	struct note_parsed p;
	char lines[1024];
	const char *note;

	snprintf(lines, sizeof(lines), "%s%s%s", log_line, spec_line,
	    want_line);
	note = note_of(body, lines);
	CHECK_INT(note_parse(note, strlen(note), &p, NULL), TRACE_OK);
	CHECK_INT(p.text_len, strlen(body));
	CHECK_INT(p.count, 3);
	if (p.count == 3) {
		CHECK(p.sigs[0].name_len == 27 &&
		    memcmp(p.sigs[0].name, "example.com/behind-the-sofa",
		    27) == 0);
		CHECK_INT(p.sigs[0].key_id, 0xde993088u);
		CHECK_INT(p.sigs[0].sig_len, 64);
		/* The spec's example: key ID, then the timestamp of its
		 * example message, big-endian. */
		CHECK(p.sigs[1].name_len == 22 &&
		    memcmp(p.sigs[1].name, "witness.example.com/w1", 22) == 0);
		CHECK_INT(p.sigs[1].key_id, 0x8d66cf3fu);
		CHECK_INT(p.sigs[1].sig_len, 72);
		{
			uint64_t ts = 0;

			for (int i = 0; i < 8; i++)
				ts = ts << 8 | p.sigs[1].sig[i];
			CHECK_INT(ts, TS);
		}
		CHECK_INT(p.sigs[2].key_id, 0xe75f6532u);
	}
	note_parsed_clear(&p);
	note_parsed_clear(NULL);
	CHECK_INT(note_parse(body, strlen(body), &p, NULL), TRACE_EMALFORMED);
	CHECK_INT(p.count, 0);
	CHECK(p.bytes == NULL);
}

static void
test_attacks(void)
{
	unsigned char raw[COSIGN_SIG_BYTES + 8];
	char line[COSIGN_LINE_MAX + 64], plain_line[512];
	struct note_verifier wrong_type;
	struct note_parsed p;
	struct trace_error err;
	char *plain = NULL;
	size_t plain_len = 0, n = 0;
	uint64_t ts = 0;
	const char *note;

	note = note_of(body, want_line);
	CHECK_INT(note_parse(note, strlen(note), &p, NULL), TRACE_OK);
	memcpy(raw, &p.sigs[0].sig[-4], COSIGN_SIG_BYTES);
	note_parsed_clear(&p);

	/* No cosignature at all: the log's signature is not one. */
	CHECK_INT(verify(note_of(body, log_line), &ts), TRACE_EUNKNOWNKEY);

	/* Wrong key ID: another key's line, ignored. */
	raw[0] ^= 1;
	line_of(NAME, raw, COSIGN_SIG_BYTES, line, sizeof(line));
	CHECK_INT(verify(note_of(body, line), &ts), TRACE_EUNKNOWNKEY);
	raw[0] ^= 1;

	/* Another name with our key ID: ignored too. */
	line_of("witness.example/w2", raw, COSIGN_SIG_BYTES, line,
	    sizeof(line));
	CHECK_INT(verify(note_of(body, line), &ts), TRACE_EUNKNOWNKEY);

	/* Wrong type byte: a verifier with the 0x01 key ID never matches
	 * a cosignature, and the cosignature vkey needs 0x04. */
	CHECK_INT(note_verifier_from_public(NAME, signer.public_key,
	    &wrong_type, NULL), TRACE_OK);
	CHECK_INT(cosign_verify(note, strlen(note), &wrong_type, &ts, NULL),
	    TRACE_EUNKNOWNKEY);

	/* Timestamp changed, by one second or in the top bit. */
	raw[11] ^= 1;
	line_of(NAME, raw, COSIGN_SIG_BYTES, line, sizeof(line));
	CHECK_INT(cosign_verify(note_of(body, line), strlen(note_of(body,
	    line)), &verifier, &ts, &err), TRACE_EBADSIG);
	CHECK_STR(err.code, "bad_cosignature");
	raw[11] ^= 1;
	raw[4] ^= 0x80;
	line_of(NAME, raw, COSIGN_SIG_BYTES, line, sizeof(line));
	CHECK_INT(verify(note_of(body, line), &ts), TRACE_EBADSIG);
	raw[4] ^= 0x80;

	/* Body changed: the size, or an extension line added. */
	CHECK_INT(verify(note_of("example.com/behind-the-sofa\n20852164\n"
	    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", want_line), &ts),
	    TRACE_EBADSIG);
	CHECK_INT(verify(note_of("example.com/behind-the-sofa\n20852163\n"
	    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next\n", want_line),
	    &ts), TRACE_EBADSIG);

	/* A signature by the witness key over the log's signature type:
	 * a plain signed-note Ed25519 signature of the body ... */
	{
		struct note_signer plain_signer;

		CHECK_INT(note_signer_from_secret(NAME, signer.secret,
		    &plain_signer, NULL), TRACE_OK);
		CHECK_INT(note_sign(body, strlen(body), &plain_signer, &plain,
		    &plain_len, NULL), TRACE_OK);
		note_signer_clear(&plain_signer);
	}
	/* ... under its own (0x01) key ID is not a cosignature, */
	CHECK_INT(plain != NULL ? verify(plain, &ts) : TRACE_EIO,
	    TRACE_EUNKNOWNKEY);
	/* ... relabelled with the cosignature key ID it is 68 bytes, */
	if (plain != NULL) {
		CHECK_INT(note_parse(plain, plain_len, &p, NULL), TRACE_OK);
		memcpy(raw + 4, p.sigs[0].sig, ED25519_SIG_LEN);
		note_parsed_clear(&p);
		free(plain);
	}
	raw[0] = 0xe7; raw[1] = 0x5f; raw[2] = 0x65; raw[3] = 0x32;
	line_of(NAME, raw, 4 + ED25519_SIG_LEN, plain_line,
	    sizeof(plain_line));
	CHECK_INT(verify(note_of(body, plain_line), &ts), TRACE_EBADSIG);
	/* ... and with a timestamp in front it does not verify. */
	memmove(raw + 12, raw + 4, ED25519_SIG_LEN);
	memset(raw + 4, 0, 8);
	line_of(NAME, raw, COSIGN_SIG_BYTES, plain_line, sizeof(plain_line));
	CHECK_INT(verify(note_of(body, plain_line), &ts), TRACE_EBADSIG);

	/* Truncated: a signature short by a byte, or long by one. */
	note = note_of(body, want_line);
	CHECK_INT(note_parse(note, strlen(note), &p, NULL), TRACE_OK);
	memcpy(raw, &p.sigs[0].sig[-4], COSIGN_SIG_BYTES);
	note_parsed_clear(&p);
	line_of(NAME, raw, COSIGN_SIG_BYTES - 1, line, sizeof(line));
	CHECK_INT(verify(note_of(body, line), &ts), TRACE_EBADSIG);
	raw[COSIGN_SIG_BYTES] = 0;
	line_of(NAME, raw, COSIGN_SIG_BYTES + 1, line, sizeof(line));
	CHECK_INT(verify(note_of(body, line), &ts), TRACE_EBADSIG);
	/* ... or the note cut anywhere: never TRACE_OK. */
	note = note_of(body, want_line);
	n = strlen(note);
	for (size_t cut = 0; cut < n; cut++)
		CHECK_MSG(cosign_verify(note, cut, &verifier, &ts, NULL) !=
		    TRACE_OK, "cut at %zu verifies", cut);

	/* One good and one bad line by the witness: the note is refused
	 * (signed-note: a known key's failing signature rejects it). */
	raw[20] ^= 1;
	line_of(NAME, raw, COSIGN_SIG_BYTES, line, sizeof(line));
	{
		char lines[1024];

		snprintf(lines, sizeof(lines), "%s%s", want_line, line);
		CHECK_INT(verify(note_of(body, lines), &ts), TRACE_EBADSIG);
	}

	/* Signing: no timestamp of 2^63 or more, no body that is not a
	 * checkpoint. */
	CHECK_INT(cosign_sign(&signer, body, strlen(body),
	    (uint64_t)INT64_MAX + 1, line, sizeof(line), &n, NULL),
	    TRACE_EMALFORMED);
	CHECK_INT(cosign_sign(&signer, "hello\n", 6, TS, line, sizeof(line),
	    &n, NULL), TRACE_EMALFORMED);
	CHECK_INT(cosign_sign(&signer, body, strlen(body),
	    (uint64_t)INT64_MAX, line, sizeof(line), &n, NULL), TRACE_OK);
	CHECK_INT(verify(note_of(body, line), &ts), TRACE_OK);
	CHECK_INT(ts, (uint64_t)INT64_MAX);
}

int
main(void)
{
	if (!crypto_init())
		return 1;
	test_exact_bytes();
	test_vkeys();
	test_note_parse();
	test_attacks();
	note_signer_clear(&signer);
	CHECK_DONE();
}
