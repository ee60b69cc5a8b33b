/*
 * note.c - C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, and
 * C2SP tlog-checkpoint bodies (c2sp.org/tlog-checkpoint).
 *
 * The log's checkpoints are what every offline verifier trusts the log
 * through, so parsing is strict: one accepted text form per note.  Where the
 * Go reference (golang.org/x/mod/sumdb/note) is lenient we say so below;
 * where it is strict we match it, so that our notes verify there and its
 * notes verify here.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "json.h"
#include "note.h"

#define KEY_BYTES (1 + ED25519_PUBLIC_LEN) /* algorithm byte and key */
#define SIG_BYTES (4 + ED25519_SIG_LEN)    /* key hash and signature */

/* "— " : U+2014 EM DASH in UTF-8, then a space. */
static const char sig_prefix[] = "\xe2\x80\x94 ";
#define SIG_PREFIX_LEN 4

/* ---- text ------------------------------------------------------------------- */

/*
 * Valid UTF-8 with no control character; '\n' only when newlines is set.
 * Go's reference allows DEL (0x7f); we refuse it with the other controls,
 * since no note of ours contains it and a checkpoint never should.
 */
static enum trace_status
chars_check(const char *s, size_t len, bool newlines, const char *field,
    struct trace_error *err)
{
	size_t bad = utf8_check((const unsigned char *)s, len);

	if (bad != len)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_utf8", field,
		    "invalid UTF-8 at byte %zu", bad);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && !(newlines && c == '\n')) || c == 0x7f)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "control_character", field,
			    "control character 0x%02x at byte %zu", c, i);
	}
	return TRACE_OK;
}

enum trace_status
note_text_check(const char *text, size_t len, struct trace_error *err)
{
	if (len == 0 || text[len - 1] != '\n')
		return trace_error_set(err, TRACE_EMALFORMED, "unterminated_line",
		    NULL, "note text must end with a newline");
	return chars_check(text, len, true, NULL, err);
}

/* Unicode White_Space (what Go's unicode.IsSpace says), for key names. */
static bool
is_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 ||
	    c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	    c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	    c == 0x3000;
}

enum trace_status
note_name_check(const char *name, size_t len, struct trace_error *err)
{
	const unsigned char *s = (const unsigned char *)name;
	enum trace_status st;

	if (len == 0 || len > NOTE_NAME_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_key_name",
		    "name", "a key name has 1 to %d bytes, not %zu",
		    NOTE_NAME_MAX, len);
	if ((st = chars_check(name, len, false, "name", err)) != TRACE_OK)
		return st;
	for (size_t i = 0; i < len;) {
		uint32_t c = s[i];
		size_t n = 1;

		/* Already valid UTF-8: decode without checks. */
		if (c >= 0xf0) {
			c &= 0x07;
			n = 4;
		} else if (c >= 0xe0) {
			c &= 0x0f;
			n = 3;
		} else if (c >= 0xc0) {
			c &= 0x1f;
			n = 2;
		}
		for (size_t k = 1; k < n; k++)
			c = (c << 6) | (s[i + k] & 0x3f);
		/* '+' separates key string parts, space ends the name in a
		 * signature line. */
		if (c == '+' || is_space(c))
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_key_name", "name",
			    "a key name cannot contain '+' or white space");
		i += n;
	}
	return TRACE_OK;
}

/*
 * Standard base64 with padding only (RFC 4648 section 4), as C2SP says;
 * base64_decode() alone would also take the URL-safe alphabet and missing
 * padding, giving one note several spellings.
 */
static enum trace_status
std_base64_decode(const char *s, size_t n, unsigned char *dst, size_t size,
    size_t *out_len, const char *field, struct trace_error *err)
{
	enum trace_status st;

	if (n == 0 || n % 4 != 0 || memchr(s, '-', n) != NULL ||
	    memchr(s, '_', n) != NULL || base64_decoded_max(n) > size)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_base64",
		    field, "not padded standard base64 of the right size");
	st = base64_decode(s, n, dst, out_len, err);
	if (st != TRACE_OK && err != NULL)
		trace_error_prefix_field(err, field);
	return st;
}

/* ---- keys ------------------------------------------------------------------- */

uint32_t
note_key_id(const char *name, size_t name_len, unsigned char type,
    const unsigned char public_key[ED25519_PUBLIC_LEN])
{
	const unsigned char sep[2] = { '\n', type };
	unsigned char h[SHA256_LEN];
	struct sha256_part parts[3] = {
		{ name, name_len },
		{ sep, 2 },
		{ public_key, ED25519_PUBLIC_LEN },
	};

	sha256_parts(parts, 3, h);
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	    (uint32_t)h[2] << 8 | h[3];
}

uint32_t
note_key_hash(const char *name, size_t name_len,
    const unsigned char public_key[ED25519_PUBLIC_LEN])
{
	return note_key_id(name, name_len, NOTE_TYPE_ED25519, public_key);
}

/*
 * Split "name+hash+base64" on the first two '+' only: the base64 part may
 * hold '+' itself.  Decodes the key into key[KEY_BYTES] (which the caller
 * wipes when it is a secret) and checks the signature type byte.
 */
static enum trace_status
key_split(const char *s, size_t len, unsigned char type, const char **name,
    size_t *name_len, uint32_t *hash, unsigned char key[KEY_BYTES],
    struct trace_error *err)
{
	unsigned char buf[48], hb[4];
	const char *plus, *b64;
	enum trace_status st;
	size_t n = 0;

	plus = memchr(s, '+', len);
	if (plus == NULL)
		goto malformed;
	*name = s;
	*name_len = (size_t)(plus - s);
	if ((st = note_name_check(s, *name_len, err)) != TRACE_OK)
		return st;
	/* 8 hex digits, then '+'. */
	if (len - *name_len < 1 + 8 + 1 || plus[9] != '+' ||
	    !hex_decode(plus + 1, 8, hb, 4, false))
		goto malformed;
	*hash = (uint32_t)hb[0] << 24 | (uint32_t)hb[1] << 16 |
	    (uint32_t)hb[2] << 8 | hb[3];
	b64 = plus + 10;
	st = std_base64_decode(b64, len - (size_t)(b64 - s), buf, sizeof(buf),
	    &n, "key", err);
	if (st != TRACE_OK)
		goto wipe;
	if (n != KEY_BYTES || buf[0] != type) {
		st = trace_error_set(err, TRACE_EMALFORMED, "unsupported_key",
		    "key", "not a key of signature type 0x%02x (%zu bytes, "
		    "type %d)", type, n, n > 0 ? buf[0] : -1);
		goto wipe;
	}
	memcpy(key, buf, KEY_BYTES);
wipe:
	explicit_bzero(buf, sizeof(buf));
	return st;
malformed:
	return trace_error_set(err, TRACE_EMALFORMED, "bad_key", "key",
	    "a key is name+hash+base64 with 8 hex digits of hash");
}

enum trace_status
note_vkey_parse(const char *key, size_t len, unsigned char type,
    struct note_verifier *out, struct trace_error *err)
{
	unsigned char raw[KEY_BYTES];
	enum trace_status st;
	const char *name = NULL;
	size_t name_len;
	uint32_t hash;

	st = key_split(key, len, type, &name, &name_len, &hash, raw, err);
	if (st != TRACE_OK)
		return st;
	if (note_key_id(name, name_len, type, raw + 1) != hash)
		return trace_error_set(err, TRACE_EMALFORMED, "key_hash_mismatch",
		    "key", "the key hash %08" PRIx32 " does not match the key",
		    hash);
	memcpy(out->name, name, name_len);
	out->name[name_len] = '\0';
	out->key_hash = hash;
	memcpy(out->public_key, raw + 1, ED25519_PUBLIC_LEN);
	return TRACE_OK;
}

enum trace_status
note_verifier_parse(const char *key, size_t len, struct note_verifier *out,
    struct trace_error *err)
{
	return note_vkey_parse(key, len, NOTE_TYPE_ED25519, out, err);
}

enum trace_status
note_signer_parse(const char *key, size_t len, struct note_signer *out,
    struct trace_error *err)
{
	static const char prefix[] = "PRIVATE+KEY+";
	unsigned char raw[KEY_BYTES];
	enum trace_status st;
	const char *name = NULL;
	size_t name_len;
	uint32_t hash;

	if (len < sizeof(prefix) - 1 ||
	    memcmp(key, prefix, sizeof(prefix) - 1) != 0) {
		st = trace_error_set(err, TRACE_EMALFORMED, "bad_key", "key",
		    "a signer key starts with PRIVATE+KEY+");
		goto out;
	}
	st = key_split(key + sizeof(prefix) - 1, len - (sizeof(prefix) - 1),
	    NOTE_TYPE_ED25519, &name, &name_len, &hash, raw, err);
	if (st != TRACE_OK)
		goto out;
	memcpy(out->name, name, name_len);
	out->name[name_len] = '\0';
	memcpy(out->secret, raw + 1, ED25519_SECRET_LEN);
	st = ed25519_public_from_secret(out->secret, out->public_key, err);
	if (st != TRACE_OK)
		goto out;
	/* The hash names the public key: a mismatch means a damaged or
	 * mislabelled key file. */
	out->key_hash = note_key_hash(name, name_len, out->public_key);
	if (out->key_hash != hash)
		st = trace_error_set(err, TRACE_EMALFORMED, "key_hash_mismatch",
		    "key", "the key hash %08" PRIx32 " does not match the key",
		    hash);
out:
	explicit_bzero(raw, sizeof(raw));
	if (st != TRACE_OK)
		note_signer_clear(out);
	return st;
}

enum trace_status
note_signer_from_secret(const char *name,
    const unsigned char secret[ED25519_SECRET_LEN], struct note_signer *out,
    struct trace_error *err)
{
	size_t len = strlen(name);
	enum trace_status st;

	if ((st = note_name_check(name, len, err)) != TRACE_OK)
		return st;
	memcpy(out->name, name, len + 1);
	memcpy(out->secret, secret, ED25519_SECRET_LEN);
	st = ed25519_public_from_secret(secret, out->public_key, err);
	if (st != TRACE_OK) {
		note_signer_clear(out);
		return st;
	}
	out->key_hash = note_key_hash(name, len, out->public_key);
	return TRACE_OK;
}

enum trace_status
note_verifier_from_public(const char *name,
    const unsigned char public_key[ED25519_PUBLIC_LEN],
    struct note_verifier *out, struct trace_error *err)
{
	size_t len = strlen(name);
	enum trace_status st;

	if ((st = note_name_check(name, len, err)) != TRACE_OK)
		return st;
	memcpy(out->name, name, len + 1);
	memcpy(out->public_key, public_key, ED25519_PUBLIC_LEN);
	out->key_hash = note_key_hash(name, len, public_key);
	return TRACE_OK;
}

void
note_signer_verifier(const struct note_signer *signer,
    struct note_verifier *out)
{
	memcpy(out->name, signer->name, sizeof(out->name));
	out->key_hash = signer->key_hash;
	memcpy(out->public_key, signer->public_key, ED25519_PUBLIC_LEN);
}

void
note_signer_clear(struct note_signer *signer)
{
	if (signer != NULL)
		explicit_bzero(signer, sizeof(*signer));
}

/*
 * "[prefix]name+hash+base64(type || key)" and a NUL into out.  For a
 * signer key is the seed while hash still names the public key.
 */
static enum trace_status
key_format(const char *prefix, const char *name, uint32_t hash,
    unsigned char type, const unsigned char key[ED25519_PUBLIC_LEN],
    char *out, size_t size, struct trace_error *err)
{
	unsigned char raw[KEY_BYTES];
	char b64[48];
	enum trace_status st;
	int n;

	if ((st = note_name_check(name, strlen(name), err)) != TRACE_OK)
		return st;
	raw[0] = type;
	memcpy(raw + 1, key, ED25519_PUBLIC_LEN);
	base64_encode(raw, KEY_BYTES, b64);
	n = snprintf(out, size, "%s%s+%08" PRIx32 "+%s", prefix, name, hash,
	    b64);
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(b64, sizeof(b64));
	if (n < 0 || (size_t)n >= size) {
		/* Leave no partial secret behind in a short buffer. */
		if (size > 0)
			explicit_bzero(out, size);
		return trace_error_set(err, TRACE_ETOOBIG, "buffer_too_small",
		    NULL, "the key string needs %d bytes, not %zu", n + 1, size);
	}
	return TRACE_OK;
}

enum trace_status
note_verifier_key_format(const char *name,
    const unsigned char public_key[ED25519_PUBLIC_LEN], char *out,
    size_t size, struct trace_error *err)
{
	return note_vkey_format(name, NOTE_TYPE_ED25519, public_key, out,
	    size, err);
}

enum trace_status
note_vkey_format(const char *name, unsigned char type,
    const unsigned char public_key[ED25519_PUBLIC_LEN], char *out,
    size_t size, struct trace_error *err)
{
	return key_format("", name, note_key_id(name, strlen(name), type,
	    public_key), type, public_key, out, size, err);
}

enum trace_status
note_signer_key_format(const struct note_signer *signer, char *out,
    size_t size, struct trace_error *err)
{
	return key_format("PRIVATE+KEY+", signer->name, signer->key_hash,
	    NOTE_TYPE_ED25519, signer->secret, out, size, err);
}

/* ---- notes ------------------------------------------------------------------- */

enum trace_status
note_sign(const char *text, size_t len, const struct note_signer *signer,
    char **out, size_t *out_len, struct trace_error *err)
{
	unsigned char sig[SIG_BYTES];
	char b64[4 * ((SIG_BYTES + 2) / 3) + 1];
	size_t name_len = strlen(signer->name), b64_len, total, o = 0;
	enum trace_status st;
	char *buf = NULL;

	*out = NULL;
	if ((st = note_text_check(text, len, err)) != TRACE_OK)
		goto out;
	/* text, blank line, "— name base64\n" */
	total = len + 1 + SIG_PREFIX_LEN + name_len + 1 + (sizeof(b64) - 1) +
	    1;
	if (total > NOTE_MAX_LEN) {
		st = trace_error_set(err, TRACE_ETOOBIG, "note_too_large", NULL,
		    "a signed note is at most %d bytes", NOTE_MAX_LEN);
		goto out;
	}
	sig[0] = (unsigned char)(signer->key_hash >> 24);
	sig[1] = (unsigned char)(signer->key_hash >> 16);
	sig[2] = (unsigned char)(signer->key_hash >> 8);
	sig[3] = (unsigned char)signer->key_hash;
	st = ed25519_sign(signer->secret, text, len, sig + 4, err);
	if (st != TRACE_OK)
		goto out;
	b64_len = base64_encode(sig, SIG_BYTES, b64);
	buf = malloc(total + 1);
	if (buf == NULL) {
		st = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	memcpy(buf + o, text, len);
	o += len;
	buf[o++] = '\n';
	memcpy(buf + o, sig_prefix, SIG_PREFIX_LEN);
	o += SIG_PREFIX_LEN;
	memcpy(buf + o, signer->name, name_len);
	o += name_len;
	buf[o++] = ' ';
	memcpy(buf + o, b64, b64_len);
	o += b64_len;
	buf[o++] = '\n';
	buf[o] = '\0';
	*out = buf;
	*out_len = o;
	buf = NULL;
out:
	free(buf);
	return st;
}

/*
 * One signature line (without its '\n'): "— name base64".  The decoded
 * bytes go to sig (size bytes, enough for any line of this note).
 */
static enum trace_status
signature_line_parse(const char *line, size_t len, const char **name,
    size_t *name_len, unsigned char *sig, size_t size, size_t *sig_len,
    struct trace_error *err)
{
	const char *space, *b64;
	enum trace_status st;

	if (len < SIG_PREFIX_LEN || memcmp(line, sig_prefix,
	    SIG_PREFIX_LEN) != 0)
		return trace_error_set(err, TRACE_EMALFORMED,
		    "bad_signature_line", "signatures",
		    "a signature line starts with an em dash (U+2014) and a "
		    "space");
	line += SIG_PREFIX_LEN;
	len -= SIG_PREFIX_LEN;
	space = memchr(line, ' ', len);
	if (space == NULL)
		return trace_error_set(err, TRACE_EMALFORMED,
		    "bad_signature_line", "signatures",
		    "a signature line is \"— name signature\"");
	*name = line;
	*name_len = (size_t)(space - line);
	if ((st = note_name_check(line, *name_len, err)) != TRACE_OK) {
		trace_error_prefix_field(err, "signatures");
		return st;
	}
	b64 = space + 1;
	st = std_base64_decode(b64, len - (size_t)(b64 - line), sig, size,
	    sig_len, "signatures", err);
	if (st != TRACE_OK)
		return st;
	/* A key hash and at least one byte of signature (as Go requires). */
	if (*sig_len < 5)
		return trace_error_set(err, TRACE_EMALFORMED,
		    "bad_signature_line", "signatures",
		    "a signature is too short");
	return TRACE_OK;
}

void
note_parsed_clear(struct note_parsed *out)
{
	if (out == NULL)
		return;
	free(out->bytes);
	memset(out, 0, sizeof(*out));
}

enum trace_status
note_parse(const char *msg, size_t len, struct note_parsed *out,
    struct trace_error *err)
{
	size_t split = 0, pos, used = 0, cap;
	enum trace_status st;

	memset(out, 0, sizeof(*out));
	if (len > NOTE_MAX_LEN) {
		st = trace_error_set(err, TRACE_ETOOBIG, "note_too_large", NULL,
		    "a signed note is at most %d bytes", NOTE_MAX_LEN);
		goto out;
	}
	/* The whole note obeys the text rules, signatures included. */
	if ((st = note_text_check(msg, len, err)) != TRACE_OK)
		goto out;
	/* The signature block follows the last blank line (as in Go), so
	 * the text itself may contain blank lines. */
	for (pos = len - 1; pos > 0 && split == 0; pos--)
		if (msg[pos] == '\n' && msg[pos - 1] == '\n')
			split = pos;
	if (split == 0 || split == len - 1) {
		st = trace_error_set(err, TRACE_EMALFORMED,
		    split == 0 ? "missing_blank_line" : "no_signatures", NULL,
		    split == 0 ? "a signed note needs a blank line before "
		    "its signatures" : "a signed note has no signatures");
		goto out;
	}
	/* msg[0..split) is the text with its final '\n'; msg[split] is the
	 * blank line.  Every decoded signature fits in cap bytes together,
	 * since base64 only shrinks. */
	cap = base64_decoded_max(len - split);
	out->bytes = malloc(cap);
	if (out->bytes == NULL) {
		st = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	for (pos = split + 1; pos < len;) {
		const char *line = msg + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t line_len = (size_t)(nl - line); /* found: msg ends
							 * in '\n' */
		struct note_signature *sig;
		unsigned char *bytes = out->bytes + used;
		size_t sig_len = 0;

		pos += line_len + 1;
		if (out->count == NOTE_MAX_SIGNATURES) {
			st = trace_error_set(err, TRACE_ETOOBIG,
			    "too_many_signatures", "signatures",
			    "a note has at most %d signatures",
			    NOTE_MAX_SIGNATURES);
			goto out;
		}
		sig = &out->sigs[out->count];
		st = signature_line_parse(line, line_len, &sig->name,
		    &sig->name_len, bytes, cap - used, &sig_len, err);
		if (st != TRACE_OK)
			goto out;
		sig->key_id = (uint32_t)bytes[0] << 24 |
		    (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 |
		    bytes[3];
		sig->sig = bytes + 4;
		sig->sig_len = sig_len - 4;
		used += sig_len;
		out->count++;
	}
	out->text_len = split;
	st = TRACE_OK;
out:
	if (st != TRACE_OK)
		note_parsed_clear(out);
	return st;
}

enum trace_status
note_verify(const char *msg, size_t len, const struct note_verifier *verifier,
    size_t *text_len, struct trace_error *err)
{
	size_t want_len = strlen(verifier->name);
	struct note_parsed parsed;
	enum trace_status st;
	bool found = false;

	if ((st = note_parse(msg, len, &parsed, err)) != TRACE_OK)
		return st;
	for (size_t i = 0; i < parsed.count; i++) {
		const struct note_signature *sig = &parsed.sigs[i];

		/* Another key's signature: not ours to judge (signed-note
		 * "Signatures": name and key ID both identify the key). */
		if (sig->name_len != want_len ||
		    memcmp(sig->name, verifier->name, want_len) != 0 ||
		    sig->key_id != verifier->key_hash)
			continue;
		if (!ed25519_verify(verifier->public_key, ED25519_PUBLIC_LEN,
		    msg, parsed.text_len, sig->sig, sig->sig_len)) {
			st = trace_error_set(err, TRACE_EBADSIG,
			    "bad_signature", "signatures",
			    "the signature by %s does not verify",
			    verifier->name);
			goto out;
		}
		found = true;
	}
	if (!found) {
		st = trace_error_set(err, TRACE_EUNKNOWNKEY,
		    "no_signature_by_key", "signatures",
		    "the note has no signature by %s+%08" PRIx32,
		    verifier->name, verifier->key_hash);
		goto out;
	}
	*text_len = parsed.text_len;
	st = TRACE_OK;
out:
	note_parsed_clear(&parsed);
	return st;
}

/* ---- checkpoints ------------------------------------------------------------ */

/* Extension lines: each non-empty, ending in '\n', no control characters. */
static enum trace_status
extensions_check(const char *ext, size_t len, struct trace_error *err)
{
	enum trace_status st;

	if (len == 0)
		return TRACE_OK;
	if (ext == NULL || ext[len - 1] != '\n')
		return trace_error_set(err, TRACE_EMALFORMED, "unterminated_line",
		    "extensions", "extension lines end with a newline");
	if ((st = chars_check(ext, len, true, "extensions", err)) != TRACE_OK)
		return st;
	for (size_t i = 0; i < len; i++)
		if (ext[i] == '\n' && (i == 0 || ext[i - 1] == '\n'))
			return trace_error_set(err, TRACE_EMALFORMED,
			    "empty_line", "extensions",
			    "extension lines cannot be empty");
	return TRACE_OK;
}

static enum trace_status
origin_check(const char *origin, size_t len, struct trace_error *err)
{
	if (len == 0 || len > CHECKPOINT_ORIGIN_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_origin",
		    "origin", "the origin has 1 to %d bytes, not %zu",
		    CHECKPOINT_ORIGIN_MAX, len);
	return chars_check(origin, len, false, "origin", err);
}

enum trace_status
checkpoint_format(const struct checkpoint *cp, char **out, size_t *out_len,
    struct trace_error *err)
{
	size_t origin_len = strnlen(cp->origin, sizeof(cp->origin));
	char head[CHECKPOINT_ORIGIN_MAX + 1 + 20 + 1 + 44 + 1 + 1];
	char root[4 * ((MERKLE_HASH_LEN + 2) / 3) + 1];
	enum trace_status st;
	char *buf = NULL;
	int n;

	*out = NULL;
	if ((st = origin_check(cp->origin, origin_len, err)) != TRACE_OK ||
	    (st = extensions_check(cp->extensions, cp->extensions_len, err)) !=
	    TRACE_OK)
		goto out;
	if (cp->extensions_len > NOTE_MAX_LEN) {
		st = trace_error_set(err, TRACE_ETOOBIG, "note_too_large",
		    "extensions", "extension lines are too long");
		goto out;
	}
	base64_encode(cp->root, MERKLE_HASH_LEN, root);
	n = snprintf(head, sizeof(head), "%s\n%" PRIu64 "\n%s\n", cp->origin,
	    cp->size, root);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		st = trace_error_set(err, TRACE_EMALFORMED, "bad_origin",
		    "origin", "the checkpoint head does not fit");
		goto out;
	}
	buf = malloc((size_t)n + cp->extensions_len + 1);
	if (buf == NULL) {
		st = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	memcpy(buf, head, (size_t)n);
	if (cp->extensions_len > 0)
		memcpy(buf + n, cp->extensions, cp->extensions_len);
	buf[(size_t)n + cp->extensions_len] = '\0';
	*out = buf;
	*out_len = (size_t)n + cp->extensions_len;
	buf = NULL;
out:
	free(buf);
	return st;
}

enum trace_status
checkpoint_parse(const char *text, size_t len, struct checkpoint *cp,
    struct trace_error *err)
{
	const char *origin, *size, *root;
	size_t pos = 0, origin_len = 0, size_len = 0, root_len = 0, n = 0;
	unsigned char hash[48];
	enum trace_status st;

	if (len > NOTE_MAX_LEN)
		return trace_error_set(err, TRACE_ETOOBIG, "note_too_large",
		    NULL, "a checkpoint is at most %d bytes", NOTE_MAX_LEN);
	if ((st = note_text_check(text, len, err)) != TRACE_OK)
		return st;
	origin = text_next_line(text, len, &pos, &origin_len);
	size = text_next_line(text, len, &pos, &size_len);
	root = text_next_line(text, len, &pos, &root_len);
	if (root == NULL)
		return trace_error_set(err, TRACE_EMALFORMED, "missing_line",
		    size == NULL ? "size" : "root",
		    "a checkpoint has origin, size and root lines");
	if ((st = origin_check(origin, origin_len, err)) != TRACE_OK)
		return st;
	if (!decimal_u64_parse(size, size_len, &cp->size))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_size", "size",
		    "the tree size is a decimal number below 2^64 without "
		    "leading zeros");
	st = std_base64_decode(root, root_len, hash, sizeof(hash), &n, "root",
	    err);
	if (st != TRACE_OK)
		return st;
	if (n != MERKLE_HASH_LEN)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_hash_length",
		    "root", "the root hash is %zu bytes, not %d", n,
		    MERKLE_HASH_LEN);
	if ((st = extensions_check(text + pos, len - pos, err)) != TRACE_OK)
		return st;
	memcpy(cp->origin, origin, origin_len);
	cp->origin[origin_len] = '\0';
	memcpy(cp->root, hash, MERKLE_HASH_LEN);
	cp->extensions = pos < len ? text + pos : NULL;
	cp->extensions_len = len - pos;
	return TRACE_OK;
}

enum trace_status
checkpoint_sign(const struct checkpoint *cp, const struct note_signer *signer,
    char **out, size_t *out_len, struct trace_error *err)
{
	enum trace_status st;
	char *body = NULL;
	size_t body_len = 0;

	*out = NULL;
	st = checkpoint_format(cp, &body, &body_len, err);
	if (st != TRACE_OK)
		goto out;
	st = note_sign(body, body_len, signer, out, out_len, err);
out:
	free(body);
	return st;
}

enum trace_status
checkpoint_open(const char *note, size_t len,
    const struct note_verifier *verifier, struct checkpoint *cp,
    struct trace_error *err)
{
	enum trace_status st;
	size_t text_len = 0;

	st = note_verify(note, len, verifier, &text_len, err);
	if (st != TRACE_OK)
		return st;
	return checkpoint_parse(note, text_len, cp, err);
}
