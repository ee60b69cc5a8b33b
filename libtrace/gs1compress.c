/*
 * gs1compress.c - GS1 Digital Link URI compression (GS1 Digital Link
 * standard 1.2, section "compression"; the algorithm of GS1's own
 * toolkit, digital-link.js compressWebUri), for the identifiers this
 * resolver serves: a GTIN (AI 01) with a lot (10) and a serial (21).
 *
 * A compressed path is one segment of URI-safe base64 (A-Z a-z 0-9 - _,
 * six bits each, zero-padded at the end) over a bit string that is a
 * sequence of elements:
 *
 *   key     8 bits: two hex digits.  00-99 name an AI whose length GS1's
 *           table P gives (two digits for every AI here); a pair with a
 *           hex letter names a fixed sequence of AIs (table "Opt"), each
 *           value then following in that order.
 *   value   as GS1's table F formats it:
 *           - fixed-length numeric (01: 14 digits, 11-17: 6 digits): the
 *             number in ceil(n * log2(10) + 0.01) bits;
 *           - variable-length alphanumeric (10, 21: up to 20): 3 bits of
 *             encoding, 5 bits of length (ceil(log2(20) + 0.01)), then the
 *             characters: 0 all digits, as one number in the bits above;
 *             1 lower-case hex and 2 upper-case hex, 4 bits each; 3 URI-safe
 *             base64, 6 bits each; 4 ASCII, 7 bits each.
 *
 * Decoding stops when 8 bits or fewer remain; those must be zero (the
 * padding).  The toolkit drops the leading zeros of an all-digit lot or
 * serial when it decodes (it parses the number); the length is in the
 * bits, so this decoder restores them.
 *
 * A key starting with hex F is the toolkit's non-GS1 key=value pair (a
 * query parameter such as linkType): 7 bits of key length, the key in
 * base64 characters, then the value as a variable-length alphanumeric
 * with 7 length bits.
 *
 * What this decoder accepts: AIs 01, 10 and 21, the dates 11, 13, 15, 16
 * and 17 (data attributes: checked and ignored, as a query string's
 * attributes are), the optimisation codes whose AIs are among those, and
 * non-GS1 pairs (handed back as a query string).  Anything else (other
 * AIs) is TRACE_EMALFORMED "invalid_link": this resolver has no answer
 * for it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gs1.h"

static const char base64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char hex_upper[] = "0123456789ABCDEF";

/* The bits of a compressed link: at most GS1_COMPRESSED_MAX characters of
 * six bits. */
#define BITS_MAX (6 * GS1_COMPRESSED_MAX)

struct bits {
	unsigned char bit[BITS_MAX];
	size_t len, pos;
};

enum ai_format {
	AI_NUMERIC_FIXED,       /* digits, exactly len */
	AI_ALNUM_VARIABLE,      /* 1..len characters, encoded */
};

struct ai_def {
	const char *ai;         /* two digits */
	enum ai_format format;
	size_t len;
};

static const struct ai_def ai_defs[] = {
	{ "01", AI_NUMERIC_FIXED, 14 },
	{ "10", AI_ALNUM_VARIABLE, 20 },
	{ "11", AI_NUMERIC_FIXED, 6 },
	{ "13", AI_NUMERIC_FIXED, 6 },
	{ "15", AI_NUMERIC_FIXED, 6 },
	{ "16", AI_NUMERIC_FIXED, 6 },
	{ "17", AI_NUMERIC_FIXED, 6 },
	{ "21", AI_ALNUM_VARIABLE, 20 },
};

/* The toolkit's optimisation table, the rows made only of AIs above. */
static const struct {
	const char *code;
	const char *ais[4];
} optimisations[] = {
	{ "0B", { "01", "10" } },
	{ "0C", { "01", "21" } },
	{ "0D", { "01", "17" } },
	{ "1A", { "01", "10", "21", "17" } },
	{ "1B", { "01", "15" } },
	{ "1C", { "01", "11" } },
	{ "1D", { "01", "16" } },
};

#define NOPT (sizeof(optimisations) / sizeof(optimisations[0]))

static const struct ai_def *
ai_find(const char *ai)
{
	for (size_t i = 0; i < sizeof(ai_defs) / sizeof(ai_defs[0]); i++)
		if (strcmp(ai_defs[i].ai, ai) == 0)
			return &ai_defs[i];
	return NULL;
}

/* The toolkit's numberOfValueBits and numberOfLengthBits, to the bit. */
static size_t
value_bits(size_t digits)
{
	return (size_t)ceil((double)digits * log(10.0) / log(2.0) + 0.01);
}

static size_t
length_bits(size_t max)
{
	return (size_t)ceil(log((double)max) / log(2.0) + 0.01);
}

static bool
put(struct bits *b, unsigned long long v, size_t n)
{
	if (n > BITS_MAX - b->len)
		return false;
	for (size_t i = 0; i < n; i++)
		b->bit[b->len++] = (v >> (n - 1 - i)) & 1;
	return true;
}

static bool
get(struct bits *b, size_t n, unsigned long long *v)
{
	if (n > 64 || n > b->len - b->pos)
		return false;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = (*v << 1) | b->bit[b->pos++];
	return true;
}

/*
 * A decimal string of up to 20 digits as a number of value_bits(len)
 * bits, and back.  Twenty digits pass 64 bits, so both work on the bits:
 * halve the decimal digits (dividing by two) to read the binary digits
 * off the remainders; double them to build the decimal back.
 */
static bool
put_decimal(struct bits *b, const char *digits, size_t len)
{
	unsigned char d[GS1_ATTR_MAX], out[BITS_MAX];
	size_t n = value_bits(len);

	if (len > sizeof(d) || n > sizeof(out))
		return false;
	for (size_t i = 0; i < len; i++)
		d[i] = (unsigned char)(digits[i] - '0');
	for (size_t k = 0; k < n; k++) {
		unsigned rem = 0;

		for (size_t i = 0; i < len; i++) {
			unsigned cur = rem * 10 + d[i];

			d[i] = (unsigned char)(cur / 2);
			rem = cur % 2;
		}
		out[n - 1 - k] = (unsigned char)rem;
	}
	for (size_t i = 0; i < len; i++)
		if (d[i] != 0)      /* cannot happen: n bits hold len digits */
			return false;
	for (size_t k = 0; k < n; k++)
		if (!put(b, out[k], 1))
			return false;
	return true;
}

static bool
get_decimal(struct bits *b, size_t len, char *out)
{
	unsigned char d[GS1_ATTR_MAX];
	size_t n = value_bits(len);

	if (len > sizeof(d) || n > b->len - b->pos)
		return false;
	memset(d, 0, sizeof(d));
	for (size_t k = 0; k < n; k++) {
		unsigned carry = b->bit[b->pos++];

		for (size_t i = len; i-- > 0;) {
			unsigned cur = d[i] * 2u + carry;

			d[i] = (unsigned char)(cur % 10);
			carry = cur / 10;
		}
		if (carry != 0)     /* more than len digits */
			return false;
	}
	for (size_t i = 0; i < len; i++)
		out[i] = (char)('0' + d[i]);
	out[len] = '\0';
	return true;
}

static bool
all_in(const char *s, size_t len, const char *set)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return false;
	return true;
}

/* The toolkit's determineEncoding: the narrowest that holds s. */
static unsigned
encoding_of(const char *s, size_t len)
{
	if (all_in(s, len, "0123456789"))
		return 0;
	if (all_in(s, len, "0123456789ABCDEF"))
		return 2;
	if (all_in(s, len, "0123456789abcdef"))
		return 1;
	if (all_in(s, len, base64url))
		return 3;
	return 4;
}

static bool
put_alnum(struct bits *b, const char *s, size_t max)
{
	size_t len = strlen(s);
	unsigned enc = encoding_of(s, len);

	if (len == 0 || len > max || !put(b, enc, 3) ||
	    !put(b, len, length_bits(max)))
		return false;
	if (enc == 0)
		return put_decimal(b, s, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool ok;

		switch (enc) {
		case 1:
		case 2:
			ok = put(b, (unsigned long long)(strchr(hex_upper,
			    enc == 1 && c >= 'a' ? c - 'a' + 'A' : c) -
			    hex_upper), 4);
			break;
		case 3:
			ok = put(b, (unsigned long long)(strchr(base64url, c) -
			    base64url), 6);
			break;
		default:
			ok = c < 128 && put(b, c, 7);
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* A value of 1..max characters after its encoding and lbits length bits. */
static bool
get_alnum_bits(struct bits *b, size_t lbits, size_t max, char *out)
{
	unsigned long long enc, len, v;

	if (!get(b, 3, &enc) || !get(b, lbits, &len) ||
	    len == 0 || len > max || enc > 4 || (enc == 0 && len > GS1_ATTR_MAX))
		return false;
	if (enc == 0)
		return get_decimal(b, (size_t)len, out);
	for (size_t i = 0; i < len; i++) {
		switch (enc) {
		case 1:
		case 2:
			if (!get(b, 4, &v))
				return false;
			out[i] = enc == 1 ? "0123456789abcdef"[v] :
			    hex_upper[v];
			break;
		case 3:
			if (!get(b, 6, &v))
				return false;
			out[i] = base64url[v];
			break;
		default:
			if (!get(b, 7, &v))
				return false;
			out[i] = (char)v;
			break;
		}
	}
	out[len] = '\0';
	return true;
}

static bool
get_alnum(struct bits *b, size_t max, char *out)
{
	return get_alnum_bits(b, length_bits(max), max, out);
}

/* The longest non-GS1 key and value decoded (7 length bits allow 127). */
#define PAIR_MAX 127

/* A non-GS1 key=value pair (after its F), appended to query as
 * "&key=value" with the value percent-encoded. */
static bool
get_pair(struct bits *b, unsigned long long low3, char *query, size_t size)
{
	char key[PAIR_MAX + 1], value[PAIR_MAX + 1], enc[3 * PAIR_MAX + 1];
	unsigned long long len, v;
	size_t used = strlen(query);
	int n;

	/* The key length's first 4 bits were read as the element's second
	 * hex digit. */
	if (!get(b, 3, &v))
		return false;
	len = low3 << 3 | v;
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!get(b, 6, &v))
			return false;
		key[i] = base64url[v];
	}
	key[len] = '\0';
	if (!get_alnum_bits(b, 7, PAIR_MAX, value))
		return false;
	if (gs1_percent_encode(value, strlen(value), enc, sizeof(enc)) == 0)
		return false;
	n = snprintf(query + used, size - used, "%s%s=%s", used > 0 ? "&" :
	    "", key, enc);
	return n > 0 && (size_t)n < size - used;
}

static bool
put_key(struct bits *b, const char *key)
{
	return put(b, (unsigned long long)(strchr(hex_upper, key[0]) -
	    hex_upper), 4) && put(b, (unsigned long long)(strchr(hex_upper,
	    key[1]) - hex_upper), 4);
}

static bool
put_value(struct bits *b, const struct ai_def *def, const char *value)
{
	if (def->format == AI_NUMERIC_FIXED)
		return strlen(value) == def->len &&
		    all_in(value, def->len, "0123456789") &&
		    put_decimal(b, value, def->len);
	return put_alnum(b, value, def->len);
}

size_t
gs1_link_compress(const struct gs1_link *link, char *out, size_t size)
{
	struct bits b;
	size_t n;

	b.len = b.pos = 0;
	if (size > 0)
		out[0] = '\0';
	/* The toolkit takes the optimisation that saves most AI digits, the
	 * first of equals in its table's order: 01+10 (0B) before 01+21
	 * (0C), so a unit's serial follows as a plain AI. */
	if (link->lot[0] != '\0') {
		if (!put_key(&b, "0B") || !put_value(&b, ai_find("01"),
		    link->gtin) || !put_value(&b, ai_find("10"), link->lot))
			return 0;
		if (link->serial[0] != '\0' && (!put_key(&b, "21") ||
		    !put_value(&b, ai_find("21"), link->serial)))
			return 0;
	} else if (link->serial[0] != '\0') {
		if (!put_key(&b, "0C") || !put_value(&b, ai_find("01"),
		    link->gtin) || !put_value(&b, ai_find("21"), link->serial))
			return 0;
	} else if (!put_key(&b, "01") || !put_value(&b, ai_find("01"),
	    link->gtin)) {
		return 0;
	}
	n = (b.len + 5) / 6;
	if (n + 1 > size)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		for (size_t k = 0; k < 6; k++) {
			size_t at = 6 * i + k;

			v = (v << 1) | (at < b.len ? b.bit[at] : 0);
		}
		out[i] = base64url[v];
	}
	out[n] = '\0';
	return n;
}

/* Decode one AI's value into link (01, 10, 21) or check and drop it. */
static enum trace_status
decode_ai(struct bits *b, const char *ai, struct gs1_link *link,
    unsigned *seen, struct trace_error *err)
{
	const struct ai_def *def = ai_find(ai);
	char value[GS1_ATTR_MAX + 1];
	size_t slot;
	bool ok;

	if (def == NULL)
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_link",
		    "path", "AI (%s) is not one this resolver knows", ai);
	slot = (size_t)(def - ai_defs);
	if (*seen & (1u << slot))
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_link",
		    "path", "AI (%s) appears twice", ai);
	*seen |= 1u << slot;
	if (def->format == AI_NUMERIC_FIXED)
		ok = get_decimal(b, def->len, value);
	else
		ok = get_alnum(b, def->len, value);
	if (!ok)
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_link",
		    "path", "the value of AI (%s) is cut short or invalid", ai);
	if (strcmp(ai, "01") == 0)
		return gs1_gtin_normalize(value, strlen(value), link->gtin,
		    "gtin", err);
	if (strcmp(ai, "10") == 0 || strcmp(ai, "21") == 0) {
		char *dst = ai[0] == '1' ? link->lot : link->serial;
		enum trace_status rc = gs1_attr_check(value, strlen(value),
		    ai[0] == '1' ? "lot" : "serial", err);

		if (rc == TRACE_OK)
			memcpy(dst, value, strlen(value) + 1);
		return rc;
	}
	return TRACE_OK;            /* a date attribute: not part of the id */
}

enum trace_status
gs1_link_decompress(const char *s, size_t len, struct gs1_link *out,
    char *query, size_t query_size, struct trace_error *err)
{
	struct bits b;
	unsigned seen = 0;
	enum trace_status rc;

	memset(out, 0, sizeof(*out));
	if (query_size > 0)
		query[0] = '\0';
	if (len == 0 || len > GS1_COMPRESSED_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_link",
		    "path", "a compressed Digital Link is 1-%d characters",
		    GS1_COMPRESSED_MAX);
	b.len = b.pos = 0;
	for (size_t i = 0; i < len; i++) {
		const char *p = s[i] != '\0' ? strchr(base64url, s[i]) : NULL;

		if (p == NULL)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "invalid_link", "path", "not URI-safe base64");
		put(&b, (unsigned long long)(p - base64url), 6);
	}
	while (b.len - b.pos > 8) {
		unsigned long long h1 = 0, h2 = 0;
		char key[3];

		get(&b, 4, &h1);
		get(&b, 4, &h2);
		key[0] = hex_upper[h1];
		key[1] = hex_upper[h2];
		key[2] = '\0';
		if (h1 <= 9 && h2 <= 9) {
			rc = decode_ai(&b, key, out, &seen, err);
		} else if (h1 == 0xF) {
			rc = query_size > 0 && get_pair(&b, h2, query,
			    query_size) ? TRACE_OK : trace_error_set(err,
			    TRACE_EMALFORMED, "invalid_link", "path",
			    "a key=value pair is cut short or too long");
		} else {
			size_t k;

			for (k = 0; k < NOPT; k++)
				if (strcmp(optimisations[k].code, key) == 0)
					break;
			if (k == NOPT) {
				memset(out, 0, sizeof(*out));
				return trace_error_set(err, TRACE_EMALFORMED,
				    "invalid_link", "path", "element %s is not "
				    "one this resolver knows", key);
			}
			rc = TRACE_OK;
			for (size_t j = 0; j < 4 && rc == TRACE_OK &&
			    optimisations[k].ais[j] != NULL; j++)
				rc = decode_ai(&b, optimisations[k].ais[j], out,
				    &seen, err);
		}
		if (rc != TRACE_OK) {
			memset(out, 0, sizeof(*out));
			if (query_size > 0)
				query[0] = '\0';
			return rc;
		}
	}
	while (b.pos < b.len)
		if (b.bit[b.pos++] != 0) {
			memset(out, 0, sizeof(*out));
			if (query_size > 0)
				query[0] = '\0';
			return trace_error_set(err, TRACE_EMALFORMED,
			    "invalid_link", "path", "the padding is not zero");
		}
	if (out->gtin[0] == '\0') {
		memset(out, 0, sizeof(*out));
		if (query_size > 0)
			query[0] = '\0';
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_link",
		    "path", "a compressed Digital Link without a GTIN (01)");
	}
	return TRACE_OK;
}

enum trace_status
gs1_link_parse_any(const char *path, size_t len, struct gs1_link *out,
    struct trace_error *err)
{
	if (len >= 3 && memcmp(path, "/01", 3) == 0 && (len == 3 ||
	    path[3] == '/'))
		return gs1_link_parse_path(path, len, out, err);
	if (len < 2 || path[0] != '/' || memchr(path + 1, '/', len - 1) !=
	    NULL) {
		memset(out, 0, sizeof(*out));
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_link",
		    "path", "not a Digital Link path: /01/{gtin}/... or "
		    "/{compressed}");
	}
	return gs1_link_decompress(path + 1, len - 1, out, NULL, 0, err);
}
