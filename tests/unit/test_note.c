/*
 * test_note.c - C2SP signed notes and tlog-checkpoints: the Go reference
 * vector in tests/vectors/signed-note.json reproduced byte for byte, key
 * strings both ways, every way a note can be wrong, and checkpoint bodies.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/crypto.h"
#include "libtrace/encoding.h"
#include "libtrace/fileio.h"
#include "libtrace/json.h"
#include "libtrace/note.h"
#include "check.h"

#define EM_DASH "\xe2\x80\x94"

/* The vector's four strings, copied out of the parsed file. */
static char vkey[256], skey[256], text[1024], note[2048];
static struct note_signer signer;
static struct note_verifier verifier;

static bool
copy_member(const struct json_value *obj, const char *key, char *out,
    size_t size)
{
	const char *s = NULL;
	size_t len = 0;

	if (json_get_string(obj, key, true, &s, &len, NULL) != TRACE_OK ||
	    len >= size)
		return false;
	memcpy(out, s, len + 1);
	return true;
}

static bool
load_vector(void)
{
	struct json_doc *doc = NULL;
	const struct json_value *obj;
	char *buf = NULL;
	size_t len = 0;
	bool ok;

	ok = file_read_all(vector_path("signed-note.json"), 1 << 16, &buf, &len,
	    NULL) == TRACE_OK &&
	    json_parse(buf, len, NULL, &doc, NULL) == TRACE_OK;
	obj = ok ? json_doc_root(doc) : NULL;
	ok = ok && copy_member(obj, "verifierKey", vkey, sizeof(vkey)) &&
	    copy_member(obj, "signerKey", skey, sizeof(skey)) &&
	    copy_member(obj, "text", text, sizeof(text)) &&
	    copy_member(obj, "note", note, sizeof(note));
	json_doc_free(doc);
	free(buf);
	CHECK_MSG(ok, "cannot read %s", vector_path("signed-note.json"));
	return ok;
}

/* note_verify() on a C string. */
static enum trace_status
verify(const char *msg, const struct note_verifier *v,
    struct trace_error *err)
{
	size_t text_len = 0;

	return note_verify(msg, strlen(msg), v, &text_len, err);
}

/* ---- the reference vector ---------------------------------------------------- */

static void
test_vector(void)
{
	struct trace_error err;
	char buf[NOTE_SIGNER_KEY_MAX];
	char *signed_note = NULL;
	size_t len = 0, text_len = 0;

	CHECK_INT(note_signer_parse(skey, strlen(skey), &signer, &err),
	    TRACE_OK);
	CHECK_STR(signer.name, "PeterNeumann");
	CHECK_INT(signer.key_hash, 0xc74f20a3u);
	CHECK_INT(note_verifier_parse(vkey, strlen(vkey), &verifier, &err),
	    TRACE_OK);
	CHECK_STR(verifier.name, "PeterNeumann");
	CHECK_INT(verifier.key_hash, 0xc74f20a3u);
	CHECK_MEM(verifier.public_key, signer.public_key, ED25519_PUBLIC_LEN);

	/* Key strings reproduce. */
	CHECK_INT(note_verifier_key_format(signer.name, signer.public_key, buf,
	    sizeof(buf), &err), TRACE_OK);
	CHECK_STR(buf, vkey);
	CHECK_INT(note_signer_key_format(&signer, buf, sizeof(buf), &err),
	    TRACE_OK);
	CHECK_STR(buf, skey);
	CHECK_INT(note_signer_key_format(&signer, buf, 20, &err),
	    TRACE_ETOOBIG);
	CHECK(buf[0] == '\0');

	/* Ed25519 is deterministic, so the note must come out identical. */
	CHECK_INT(note_sign(text, strlen(text), &signer, &signed_note, &len,
	    &err), TRACE_OK);
	CHECK(signed_note != NULL && len == strlen(note));
	CHECK_STR(signed_note, note);
	free(signed_note);

	CHECK_INT(note_verify(note, strlen(note), &verifier, &text_len, &err),
	    TRACE_OK);
	CHECK_INT(text_len, strlen(text));
	CHECK(memcmp(note, text, strlen(text)) == 0);
}

/* ---- keys --------------------------------------------------------------------- */

static void
test_keys(void)
{
	static const char *const bad_vkeys[] = {
		"",
		"PeterNeumann",
		"PeterNeumann+c74f20a3",
		"PeterNeumann+c74f20a3+",
		"+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20g3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq_LDE4izWy10TW",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW ",
		"PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"Peter\tNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"Peter\xc2\xa0Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"Peter\xffNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"Peterneumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
	};
	static const char *const bad_skeys[] = {
		"PRIVATE+KEY+",
		"PRIVATE+KEY+PeterNeumann+c74f20a3+",
		"PRIVATE+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
		"private+key+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
		"PRIVATE+KEY+PeterNeumann+c74f20a2+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
		"PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFy",
		"PRIVATE+KEY+Peter+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
		"PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
		"PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr-Y7hfZx09iUvxdXHKDFz",
	};
	struct note_verifier v;
	struct note_signer s, t;
	struct trace_error err;
	unsigned char seed[ED25519_SECRET_LEN];
	char buf[NOTE_VERIFIER_KEY_MAX], name[NOTE_NAME_MAX + 2];

	for (size_t i = 0; i < sizeof(bad_vkeys) / sizeof(bad_vkeys[0]); i++)
		CHECK_MSG(note_verifier_parse(bad_vkeys[i],
		    strlen(bad_vkeys[i]), &v, &err) == TRACE_EMALFORMED,
		    "verifier key %zu accepted", i);
	for (size_t i = 0; i < sizeof(bad_skeys) / sizeof(bad_skeys[0]); i++) {
		memset(&s, 0x5a, sizeof(s));
		CHECK_MSG(note_signer_parse(bad_skeys[i], strlen(bad_skeys[i]),
		    &s, &err) == TRACE_EMALFORMED, "signer key %zu accepted",
		    i);
		/* A failed parse leaves no half key behind. */
		memset(&t, 0, sizeof(t));
		CHECK(memcmp(&s, &t, sizeof(s)) == 0);
	}
	/* Hex case is not part of the key's identity (Go reads either). */
	{
		static const char upper[] = "PeterNeumann+C74F20A3+"
		    "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

		CHECK_INT(note_verifier_parse(upper, strlen(upper), &v, &err),
		    TRACE_OK);
		CHECK_INT(v.key_hash, 0xc74f20a3u);
	}

	/* From raw bytes, and back through the strings. */
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (unsigned char)(i * 7 + 1);
	CHECK_INT(note_signer_from_secret("trace.example/log", seed, &s, &err),
	    TRACE_OK);
	CHECK_INT(note_verifier_key_format(s.name, s.public_key, buf,
	    sizeof(buf), &err), TRACE_OK);
	CHECK_INT(note_verifier_parse(buf, strlen(buf), &v, &err), TRACE_OK);
	CHECK_STR(v.name, "trace.example/log");
	CHECK_INT(v.key_hash, s.key_hash);
	CHECK_INT(v.key_hash, note_key_hash(s.name, strlen(s.name),
	    s.public_key));
	CHECK_MEM(v.public_key, s.public_key, ED25519_PUBLIC_LEN);
	CHECK_INT(note_verifier_from_public(s.name, s.public_key, &v, &err),
	    TRACE_OK);
	CHECK_INT(v.key_hash, s.key_hash);
	CHECK_INT(note_signer_key_format(&s, buf, sizeof(buf), &err), TRACE_OK);
	CHECK_INT(note_signer_parse(buf, strlen(buf), &t, &err), TRACE_OK);
	CHECK_MEM(t.secret, seed, sizeof(seed));
	CHECK_INT(t.key_hash, s.key_hash);
	note_signer_clear(&t);
	note_signer_clear(NULL);
	CHECK(t.secret[0] == 0 && t.name[0] == '\0');

	/* Names. */
	memset(name, 'n', sizeof(name) - 1);
	name[NOTE_NAME_MAX] = '\0';
	CHECK_INT(note_signer_from_secret(name, seed, &t, &err), TRACE_OK);
	CHECK_INT(note_verifier_key_format(name, s.public_key, buf, sizeof(buf),
	    &err), TRACE_OK);
	CHECK_INT(note_verifier_parse(buf, strlen(buf), &v, &err), TRACE_OK);
	name[NOTE_NAME_MAX] = 'n';
	name[NOTE_NAME_MAX + 1] = '\0';
	CHECK_INT(note_signer_from_secret(name, seed, &t, &err),
	    TRACE_EMALFORMED);
	CHECK_INT(note_verifier_key_format(name, s.public_key, buf, sizeof(buf),
	    &err), TRACE_EMALFORMED);
	CHECK_INT(note_signer_from_secret("", seed, &t, &err), TRACE_EMALFORMED);
	CHECK_INT(note_signer_from_secret("a+b", seed, &t, &err),
	    TRACE_EMALFORMED);
	CHECK_INT(note_verifier_from_public("a b", s.public_key, &v, &err),
	    TRACE_EMALFORMED);
	CHECK_INT(note_name_check("log\xe3\x80\x80", 6, &err), TRACE_EMALFORMED);
	CHECK_INT(note_name_check("\xe6\x97\xa5\xe5\xbf\x97", 6, &err),
	    TRACE_OK);
	note_signer_clear(&s);
	note_signer_clear(&t);
}

/* ---- notes -------------------------------------------------------------------- */

/* Replace the first occurrence of from in src by to; "" if absent. */
static char *
replace(const char *src, const char *from, const char *to)
{
	const char *at = strstr(src, from);
	size_t a, f = strlen(from), t = strlen(to), n = strlen(src);
	char *out;

	if (at == NULL)
		return strdup("");
	a = (size_t)(at - src);
	out = malloc(n - f + t + 1);
	memcpy(out, src, a);
	memcpy(out + a, to, t);
	memcpy(out + a + t, at + f, n - a - f + 1);
	return out;
}

/* The base64 of the vector's signature line. */
static const char *
sig_b64(void)
{
	return strstr(note, "PeterNeumann ") + 13;
}

static void
expect(const char *msg, enum trace_status want, const char *code,
    const char *what)
{
	struct trace_error err;
	enum trace_status st;

	trace_error_clear(&err);
	st = verify(msg, &verifier, &err);
	CHECK_MSG(st == want && (code == NULL || strcmp(err.code, code) == 0),
	    "%s: got %s (%s: %s), want %s %s", what, trace_status_name(st),
	    err.code, err.message, trace_status_name(want),
	    code != NULL ? code : "");
}

/* A signature line by signer over body's text, for adding to a note. */
static char *
line_by(const struct note_signer *s, const char *body)
{
	char *signed_note = NULL;
	size_t len = 0;

	if (note_sign(body, strlen(body), s, &signed_note, &len, NULL) !=
	    TRACE_OK)
		return strdup("");
	memmove(signed_note, signed_note + strlen(body) + 1,
	    len - strlen(body));
	return signed_note;
}

static void
test_note_negatives(void)
{
	char *m, *line, *other_line, *big;
	char b64[128], sig[128], forged[1024];
	unsigned char raw[96];
	struct note_signer other;
	struct note_verifier fake;
	unsigned char seed[ED25519_SECRET_LEN] = { 1, 2, 3 };
	struct trace_error err;
	size_t n = 0, len = strlen(note), text_len;

	expect(note, TRACE_OK, NULL, "the vector");

	/* Every truncation fails. */
	for (size_t cut = 0; cut < len; cut++) {
		CHECK_MSG(note_verify(note, cut, &verifier, &text_len, &err) !=
		    TRACE_OK, "note cut to %zu bytes verified", cut);
	}
	/* Every single flipped bit in the text breaks the signature (or the
	 * text rules). */
	m = strdup(note);
	for (size_t i = 0; i < strlen(text); i++) {
		m[i] ^= 0x01;
		CHECK_MSG(verify(m, &verifier, &err) != TRACE_OK,
		    "text byte %zu flipped verified", i);
		m[i] ^= 0x01;
	}
	m[3] ^= 0x20; /* 'y' -> 'Y': still good text */
	expect(m, TRACE_EBADSIG, "bad_signature", "flipped text byte");
	free(m);

	/* A flipped signature byte, re-encoded as valid base64. */
	snprintf(b64, sizeof(b64), "%.*s", (int)(strlen(sig_b64()) - 1),
	    sig_b64());
	CHECK_INT(base64_decode(b64, strlen(b64), raw, &n, NULL), TRACE_OK);
	CHECK_INT(n, 68);
	raw[40] ^= 0x04;
	base64_encode(raw, n, sig);
	m = replace(note, b64, sig);
	expect(m, TRACE_EBADSIG, "bad_signature", "flipped signature byte");
	free(m);
	raw[40] ^= 0x04;

	/* The key hash changed: not our key's line, so no signature by us. */
	raw[2] ^= 0x01;
	base64_encode(raw, n, sig);
	m = replace(note, b64, sig);
	expect(m, TRACE_EUNKNOWNKEY, "no_signature_by_key", "key hash mismatch");
	free(m);
	raw[2] ^= 0x01;

	/* A wrong key: another key under the same name, and (forged) the same
	 * name and hash with another public key. */
	CHECK_INT(note_signer_from_secret("PeterNeumann", seed, &other, &err),
	    TRACE_OK);
	note_signer_verifier(&other, &fake);
	CHECK_INT(verify(note, &fake, &err), TRACE_EUNKNOWNKEY);
	fake.key_hash = verifier.key_hash;
	CHECK_INT(verify(note, &fake, &err), TRACE_EBADSIG);

	/* Structure. */
	m = strdup(note);
	m[len - 1] = '\0';
	expect(m, TRACE_EMALFORMED, "unterminated_line", "missing final newline");
	free(m);
	m = replace(note, "is.\n\n" EM_DASH, "is.\n" EM_DASH);
	expect(m, TRACE_EMALFORMED, "missing_blank_line", "missing blank line");
	free(m);
	m = replace(note, "problem,\n", "problem,\nextra\n");
	expect(m, TRACE_EBADSIG, "bad_signature", "an extra text line");
	free(m);
	/* The last blank line splits, so the first joins the text. */
	m = replace(note, "is.\n\n", "is.\n\n\n");
	expect(m, TRACE_EBADSIG, "bad_signature", "two blank lines");
	free(m);
	snprintf(forged, sizeof(forged), "%sextra\n", note);
	expect(forged, TRACE_EMALFORMED, "bad_signature_line",
	    "an extra line after the signatures");
	snprintf(forged, sizeof(forged), "%s\n", note);
	expect(forged, TRACE_EMALFORMED, "no_signatures",
	    "a blank line after the signatures");
	expect(text, TRACE_EMALFORMED, "missing_blank_line", "text alone");
	snprintf(forged, sizeof(forged), "%s\n", text);
	expect(forged, TRACE_EMALFORMED, "no_signatures", "no signature lines");

	/* The dash must be U+2014 followed by one space. */
	m = replace(note, EM_DASH " ", "- ");
	expect(m, TRACE_EMALFORMED, "bad_signature_line", "hyphen");
	free(m);
	m = replace(note, EM_DASH " ", "\xe2\x80\x93 ");
	expect(m, TRACE_EMALFORMED, "bad_signature_line", "en dash");
	free(m);
	m = replace(note, EM_DASH " ", EM_DASH "  ");
	expect(m, TRACE_EMALFORMED, NULL, "two spaces");
	free(m);
	m = replace(note, "PeterNeumann ", "PeterNeumann  ");
	expect(m, TRACE_EMALFORMED, "bad_base64", "space before the signature");
	free(m);

	/* Base64: foreign character, missing padding, URL-safe, empty,
	 * too short. */
	m = replace(note, "x08go", "x08g*");
	expect(m, TRACE_EMALFORMED, "bad_base64", "bad base64 character");
	free(m);
	m = replace(note, "AM=\n", "AM\n");
	expect(m, TRACE_EMALFORMED, "bad_base64", "unpadded base64");
	free(m);
	m = replace(note, "x08go/ZJ", "x08go_ZJ");
	expect(m, TRACE_EMALFORMED, "bad_base64", "URL-safe base64");
	free(m);
	m = replace(note, sig_b64(), "\n");
	expect(m, TRACE_EMALFORMED, "bad_base64", "empty signature");
	free(m);
	m = replace(note, sig_b64(), "AAAA\n");
	expect(m, TRACE_EMALFORMED, "bad_signature_line", "3-byte signature");
	free(m);

	/* Text rules apply to the whole note. */
	m = replace(note, "problem,", "problem\r");
	expect(m, TRACE_EMALFORMED, "control_character", "carriage return");
	free(m);
	m = replace(note, "problem,", "problem\x7f");
	expect(m, TRACE_EMALFORMED, "control_character", "DEL");
	free(m);
	m = replace(note, "problem,", "problem\xc0");
	expect(m, TRACE_EMALFORMED, "bad_utf8", "invalid UTF-8");
	free(m);
	m = replace(note, "problem,", "problem\xed\xa0\x80");
	expect(m, TRACE_EMALFORMED, "bad_utf8", "a surrogate");
	free(m);
	CHECK_INT(note_verify("a\0\n\n", 4, &verifier, &text_len, &err),
	    TRACE_EMALFORMED);

	/* Other keys' signatures are skipped, ours still counts; a second,
	 * bad line by our key is not excused by a good one. */
	line = line_by(&signer, text);
	other_line = line_by(&other, text);
	CHECK_STR(line, strstr(note, EM_DASH));
	snprintf(forged, sizeof(forged), "%s%s", note, other_line);
	expect(forged, TRACE_OK, NULL, "a second signer after");
	snprintf(forged, sizeof(forged), "%s\n%s%s", text, other_line, line);
	expect(forged, TRACE_OK, NULL, "a second signer before");
	snprintf(forged, sizeof(forged), "%s\n%s", text, other_line);
	expect(forged, TRACE_EUNKNOWNKEY, "no_signature_by_key",
	    "only another signer");
	snprintf(b64, sizeof(b64), "%s", line);
	b64[strlen(b64) - 10] = b64[strlen(b64) - 10] == 'A' ? 'B' : 'A';
	snprintf(forged, sizeof(forged), "%s%s", note, b64);
	expect(forged, TRACE_EBADSIG, "bad_signature",
	    "a good and a bad line by our key");

	/* Bounds: 100 signature lines pass, 101 do not. */
	big = malloc(NOTE_MAX_LEN + 2);
	n = (size_t)snprintf(big, NOTE_MAX_LEN, "%s", note);
	for (int i = 1; i < NOTE_MAX_SIGNATURES; i++)
		n += (size_t)snprintf(big + n, NOTE_MAX_LEN - n, "%s",
		    other_line);
	expect(big, TRACE_OK, NULL, "100 signatures");
	snprintf(big + n, NOTE_MAX_LEN - n, "%s", other_line);
	expect(big, TRACE_ETOOBIG, "too_many_signatures", "101 signatures");
	/* And the size bound. */
	memset(big, 'a', NOTE_MAX_LEN + 1);
	big[NOTE_MAX_LEN] = '\n';
	CHECK_INT(note_verify(big, NOTE_MAX_LEN + 1, &verifier, &text_len,
	    &err), TRACE_ETOOBIG);
	m = NULL;
	big[NOTE_MAX_LEN - 11] = '\n';
	CHECK_INT(note_sign(big, NOTE_MAX_LEN - 10, &signer, &m, &n, &err),
	    TRACE_ETOOBIG);
	CHECK(m == NULL);
	free(big);
	free(line);
	free(other_line);

	/* Signing checks the text. */
	CHECK_INT(note_sign("no newline", 10, &signer, &m, &n, &err),
	    TRACE_EMALFORMED);
	CHECK_INT(note_sign("", 0, &signer, &m, &n, &err), TRACE_EMALFORMED);
	CHECK_INT(note_sign("tab\there\n", 9, &signer, &m, &n, &err),
	    TRACE_EMALFORMED);
	CHECK_INT(note_sign("\xff\n", 2, &signer, &m, &n, &err),
	    TRACE_EMALFORMED);
	/* Blank lines inside the text are allowed: the last one splits. */
	CHECK_INT(note_sign("a\n\nb\n", 5, &signer, &m, &n, &err), TRACE_OK);
	CHECK_INT(note_verify(m, n, &verifier, &text_len, &err), TRACE_OK);
	CHECK_INT(text_len, 5);
	free(m);
	note_signer_clear(&other);
}

/* ---- checkpoints --------------------------------------------------------------- */

static void
test_checkpoints(void)
{
	static const char c2sp[] = "example.com/behind-the-sofa\n20852163\n"
	    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	static const char ext[] = "ext one\n\xe6\x97\xa5 two\n";
	static const char *const bad[] = {
		"",
		"origin\n",
		"origin\n1\n",
		"origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
		"\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"or\tigin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"or\xffigin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n00\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n+1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n 1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n1 \nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n0x10\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n1e3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n18446744073709551616\n"
		    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n99999999999999999999\n"
		    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
		"origin\n1\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2=\n",
		"origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IA\n",
		"origin\n1\n\n",
		"origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
		"origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next\n\n",
		"origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nex\rt\n",
		"origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next",
	};
	struct checkpoint cp, back;
	struct note_verifier v;
	struct trace_error err;
	char *body = NULL, *signed_cp = NULL, *m;
	size_t len = 0, slen = 0;

	/* The C2SP example body. */
	CHECK_INT(checkpoint_parse(c2sp, strlen(c2sp), &cp, &err), TRACE_OK);
	CHECK_STR(cp.origin, "example.com/behind-the-sofa");
	CHECK_INT(cp.size, 20852163);
	CHECK(cp.extensions == NULL && cp.extensions_len == 0);
	CHECK_INT(checkpoint_format(&cp, &body, &len, &err), TRACE_OK);
	CHECK_STR(body, c2sp);
	CHECK_INT(len, strlen(c2sp));
	free(body);

	/* Round trips: sizes at the ends of the range, with extensions. */
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "trace.example/log");
	for (int i = 0; i < MERKLE_HASH_LEN; i++)
		cp.root[i] = (unsigned char)(0xf0 - i);
	for (int k = 0; k < 3; k++) {
		cp.size = k == 0 ? 0 : k == 1 ? 1234567 : UINT64_MAX;
		cp.extensions = k == 2 ? ext : NULL;
		cp.extensions_len = k == 2 ? strlen(ext) : 0;
		CHECK_INT(checkpoint_format(&cp, &body, &len, &err), TRACE_OK);
		CHECK_INT(checkpoint_parse(body, len, &back, &err), TRACE_OK);
		CHECK_STR(back.origin, cp.origin);
		CHECK(back.size == cp.size);
		CHECK_MEM(back.root, cp.root, MERKLE_HASH_LEN);
		CHECK_INT(back.extensions_len, cp.extensions_len);
		CHECK(k != 2 || (back.extensions == body + len - strlen(ext) &&
		    memcmp(back.extensions, ext, strlen(ext)) == 0));
		free(body);
	}
	CHECK_INT(checkpoint_format(&cp, &body, &len, &err), TRACE_OK);
	CHECK(strstr(body, "\n18446744073709551615\n") != NULL);
	free(body);

	/* Signed: the vector's key signs, opens, and refuses a stranger. */
	CHECK_INT(checkpoint_sign(&cp, &signer, &signed_cp, &slen, &err),
	    TRACE_OK);
	memset(&back, 0, sizeof(back));
	CHECK_INT(checkpoint_open(signed_cp, slen, &verifier, &back, &err),
	    TRACE_OK);
	CHECK(back.size == UINT64_MAX);
	CHECK_MEM(back.root, cp.root, MERKLE_HASH_LEN);
	CHECK(back.extensions == strstr(signed_cp, ext));
	CHECK_INT(back.extensions_len, strlen(ext));
	v = verifier;
	v.public_key[0] ^= 1;
	CHECK_INT(checkpoint_open(signed_cp, slen, &v, &back, &err),
	    TRACE_EBADSIG);
	m = replace(signed_cp, "18446744073709551615", "18446744073709551614");
	CHECK_INT(checkpoint_open(m, strlen(m), &verifier, &back, &err),
	    TRACE_EBADSIG);
	free(m);
	free(signed_cp);
	/* A signed note that is not a checkpoint. */
	CHECK_INT(checkpoint_open(note, strlen(note), &verifier, &back, &err),
	    TRACE_EMALFORMED);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		trace_error_clear(&err);
		CHECK_MSG(checkpoint_parse(bad[i], strlen(bad[i]), &back, &err)
		    == TRACE_EMALFORMED, "malformed checkpoint %zu accepted", i);
		CHECK_MSG(err.code[0] != '\0', "checkpoint %zu: no code", i);
	}
	CHECK_INT(checkpoint_parse("origin\n", 7, &back, &err), TRACE_EMALFORMED);
	CHECK_STR(err.field, "size");
	CHECK_INT(checkpoint_parse(bad[8], strlen(bad[8]), &back, &err),
	    TRACE_EMALFORMED);
	CHECK_STR(err.field, "size");
	CHECK_INT(checkpoint_parse(bad[20], strlen(bad[20]), &back, &err),
	    TRACE_EMALFORMED);
	CHECK_STR(err.field, "root");

	/* Formatting refuses what parsing would refuse. */
	cp.extensions = NULL;
	cp.extensions_len = 0;
	snprintf(cp.origin, sizeof(cp.origin), "two\nlines");
	CHECK_INT(checkpoint_format(&cp, &body, &len, &err), TRACE_EMALFORMED);
	CHECK(body == NULL);
	cp.origin[0] = '\0';
	CHECK_INT(checkpoint_format(&cp, &body, &len, &err), TRACE_EMALFORMED);
	snprintf(cp.origin, sizeof(cp.origin), "trace.example/log");
	cp.extensions = "no newline";
	cp.extensions_len = 10;
	CHECK_INT(checkpoint_format(&cp, &body, &len, &err), TRACE_EMALFORMED);
	cp.extensions = "a\n\nb\n";
	cp.extensions_len = 5;
	CHECK_INT(checkpoint_format(&cp, &body, &len, &err), TRACE_EMALFORMED);
	CHECK_STR(err.code, "empty_line");
}

int
main(void)
{
	if (!crypto_init()) {
		fprintf(stderr, "libgcrypt is too old\n");
		return 1;
	}
	if (load_vector()) {
		test_vector();
		test_keys();
		test_note_negatives();
		test_checkpoints();
	}
	note_signer_clear(&signer);
	CHECK_DONE();
}
