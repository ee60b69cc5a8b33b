/*
 * gs1.c - GS1 identifiers (docs/PROTOCOL.md section 2): GTIN check digits and GTIN-14
 * normalisation, lot and serial values in AI encodable set 82, chain ids,
 * and the path of GS1 Digital Link URIs in both directions.
 *
 * Everything here is pure string work on caller-supplied buffers: no
 * allocation, no global state, so it is safe from any thread.  The parser is
 * the gate for paths that arrive from the network (the resolver, the QR and
 * chain routes), so it accepts one shape only and says exactly what was
 * wrong with anything else.
 */
#include <stdio.h>
#include <string.h>

#include "encoding.h"
#include "gs1.h"

/* A value segment holds at most 20 characters, each "%XX" at worst. */
#define SEGMENT_RAW_MAX (3 * GS1_ATTR_MAX)
/* "/01/gtin/10/lot/21/serial": six segments at most. */
#define SEGMENTS_MAX 6

static const char hex_upper[] = "0123456789ABCDEF";

/* ---- GTIN ------------------------------------------------------------- */

static bool
all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

char
gs1_check_digit(const char *digits, size_t len)
{
	unsigned sum = 0;

	if (len < 2 || !all_digits(digits, len - 1))
		return '\0';
	/*
	 * GS1 General Specifications 7.9.1: counting from the digit next to
	 * the check digit, weights alternate 3, 1, 3, ...  Counting from the
	 * right is what lets a GTIN-8 keep its check digit when padded to 14.
	 */
	for (size_t i = 0; i < len - 1; i++) {
		unsigned d = (unsigned)(digits[len - 2 - i] - '0');

		sum += (i % 2 == 0) ? 3 * d : d;
	}
	return (char)('0' + (10 - sum % 10) % 10);
}

enum trace_status
gs1_gtin_normalize(const char *gtin, size_t len, char out[GTIN14_LEN + 1],
    const char *field, struct trace_error *err)
{
	char want;

	out[0] = '\0';
	if (len != 8 && len != 12 && len != 13 && len != 14)
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_gtin",
		    field, "GTIN must have 8, 12, 13 or 14 digits, not %zu",
		    len);
	for (size_t i = 0; i < len; i++)
		if (gtin[i] < '0' || gtin[i] > '9')
			return trace_error_set(err, TRACE_EMALFORMED,
			    "invalid_gtin", field,
			    "GTIN must be digits only (byte %zu is not a "
			    "digit)", i);
	want = gs1_check_digit(gtin, len);
	if (gtin[len - 1] != want)
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_gtin",
		    field, "GTIN check digit is %c, expected %c",
		    gtin[len - 1], want);
	memset(out, '0', GTIN14_LEN - len);
	memcpy(out + (GTIN14_LEN - len), gtin, len);
	out[GTIN14_LEN] = '\0';
	return TRACE_OK;
}

/* ---- lot and serial --------------------------------------------------- */

/* GS1 General Specifications figure 7.11-1, AI encodable character set 82. */
static bool
set82_char(unsigned char c)
{
	return c == '!' || c == '"' || (c >= '%' && c <= '?') ||
	    (c >= 'A' && c <= 'Z') || c == '_' || (c >= 'a' && c <= 'z');
}

/*
 * "." and ".." are set 82 strings, but as a URI path segment they are dot
 * segments: browsers and proxies remove them (RFC 3986 5.2.4), and the
 * WHATWG URL parser does so even for "%2E" and "%2e%2E".  Such a lot could
 * never be resolved from its QR code, so it is refused up front.
 */
static bool
dot_segment(const char *s, size_t len)
{
	return (len == 1 && s[0] == '.') ||
	    (len == 2 && s[0] == '.' && s[1] == '.');
}

bool
gs1_attr_valid(const char *s, size_t len)
{
	if (len < 1 || len > GS1_ATTR_MAX || dot_segment(s, len))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!set82_char((unsigned char)s[i]))
			return false;
	return true;
}

enum trace_status
gs1_attr_check(const char *s, size_t len, const char *field,
    struct trace_error *err)
{
	if (len == 0)
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_value",
		    field, "value is empty (1 to %d characters)",
		    GS1_ATTR_MAX);
	if (len > GS1_ATTR_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_value",
		    field, "value has %zu characters, at most %d allowed",
		    len, GS1_ATTR_MAX);
	if (dot_segment(s, len))
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_value",
		    field, "value \"%.*s\" cannot appear in a Digital Link "
		    "path (URL normalisation removes it)", (int)len, s);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (set82_char(c))
			continue;
		if (c > 0x20 && c < 0x7f)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "invalid_value", field, "character '%c' at "
			    "position %zu is not in GS1 character set 82",
			    c, i);
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_value",
		    field, "byte 0x%02X at position %zu is not in GS1 "
		    "character set 82 (printable ASCII without space, "
		    "#, $, @, [, \\, ], ^, `, {, |, }, ~)", c, i);
	}
	return TRACE_OK;
}

/* ---- writing ---------------------------------------------------------- */

/* A bounded output buffer that remembers whether anything did not fit. */
struct out_buf {
	char *p;
	size_t size, used;
	bool overflow;
};

static void
put(struct out_buf *b, const char *s, size_t n)
{
	if (b->overflow || b->size - b->used <= n) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->used, s, n);
	b->used += n;
	b->p[b->used] = '\0';
}

static bool
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

static void
put_encoded(struct out_buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len && !b->overflow; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3];

		if (unreserved(c)) {
			put(b, &s[i], 1);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex_upper[c >> 4];
		esc[2] = hex_upper[c & 0x0f];
		put(b, esc, sizeof(esc));
	}
}

/* Terminate what was written, or leave "" if anything did not fit. */
static size_t
out_finish(struct out_buf *b)
{
	if (b->size == 0)
		return 0;
	if (b->overflow) {
		b->p[0] = '\0';
		return 0;
	}
	b->p[b->used] = '\0';
	return b->used;
}

size_t
gs1_percent_encode(const char *s, size_t len, char *out, size_t size)
{
	struct out_buf b = { out, size, 0, size == 0 };

	put_encoded(&b, s, len);
	return out_finish(&b);
}

void
gs1_chain_id(const char *gtin14, const char *lot, char *out, size_t size)
{
	struct out_buf b = { out, size, 0, size == 0 };

	put(&b, "01/", 3);
	put_encoded(&b, gtin14, strlen(gtin14));
	put(&b, "/10/", 4);
	put_encoded(&b, lot, strlen(lot));
	out_finish(&b);
}

size_t
gs1_link_format(const char *base, const struct gs1_link *link, char *out,
    size_t size)
{
	struct out_buf b = { out, size, 0, size == 0 };

	if (base != NULL)
		put(&b, base, strlen(base));
	put(&b, "/01/", 4);
	put_encoded(&b, link->gtin, strlen(link->gtin));
	if (link->lot[0] != '\0') {
		put(&b, "/10/", 4);
		put_encoded(&b, link->lot, strlen(link->lot));
	}
	if (link->serial[0] != '\0') {
		put(&b, "/21/", 4);
		put_encoded(&b, link->serial, strlen(link->serial));
	}
	return out_finish(&b);
}

/* ---- parsing ---------------------------------------------------------- */

/* RFC 3986 pchar minus pct-encoded: what may stand raw in a path segment. */
static bool
pchar_raw(unsigned char c)
{
	return unreserved(c) || c == '!' || c == '$' || c == '&' ||
	    c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' ||
	    c == ',' || c == ';' || c == '=' || c == ':' || c == '@';
}

struct segment {
	size_t offset;                     /* in the path, for messages */
	size_t len;                        /* decoded length */
	char text[SEGMENT_RAW_MAX + 1];    /* decoded, NUL-terminated */
};

/*
 * Percent-decode one raw segment.  Hex digits may be either case (RFC 3986
 * 2.1 makes them equivalent); a character that must be encoded and is not,
 * a broken escape, or an encoded NUL is an error, since accepting them
 * would give one resource several spellings, or truncate a C string.
 */
static enum trace_status
segment_decode(const char *raw, size_t len, size_t offset,
    struct segment *seg, struct trace_error *err)
{
	size_t n = 0;

	seg->offset = offset;
	if (len > SEGMENT_RAW_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_link",
		    "path", "segment at byte %zu is %zu bytes long, at most "
		    "%d allowed", offset, len, SEGMENT_RAW_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)raw[i];
		int hi, lo;

		if (c != '%') {
			if (!pchar_raw(c))
				goto unencoded;
			seg->text[n++] = (char)c;
			continue;
		}
		if (len - i < 3 || (hi = hex_digit_value(raw[i + 1])) < 0 ||
		    (lo = hex_digit_value(raw[i + 2])) < 0)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "invalid_link", "path", "bad percent escape at "
			    "byte %zu (need '%%' and two hex digits)",
			    offset + i);
		if (hi == 0 && lo == 0)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "invalid_link", "path", "encoded NUL (%%00) at "
			    "byte %zu", offset + i);
		seg->text[n++] = (char)(hi << 4 | lo);
		i += 2;
		continue;
unencoded:
		if (c == '?' || c == '#')
			return trace_error_set(err, TRACE_EMALFORMED,
			    "invalid_link", "path", "'%c' at byte %zu: a '%c' "
			    "in a value must be written %%%02X, and a query "
			    "or fragment is not part of the path", c,
			    offset + i, c, c);
		if (c > 0x20 && c < 0x7f)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "invalid_link", "path", "'%c' at byte %zu must be "
			    "percent-encoded (%%%02X)", c, offset + i, c);
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_link",
		    "path", "byte 0x%02X at byte %zu must be percent-encoded",
		    c, offset + i);
	}
	seg->len = n;
	seg->text[n] = '\0';
	if (dot_segment(seg->text, n))
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_link",
		    "path", "dot segment \"%.*s\" at byte %zu", (int)len, raw,
		    offset);
	return TRACE_OK;
}

/*
 * Split at raw '/' only, then decode each segment: an encoded '/' (%2F) is
 * data inside a lot or serial, never a separator, so a lot such as "A/B"
 * travels as "A%2FB" and cannot be confused with two segments.
 */
static enum trace_status
split_path(const char *path, size_t len, struct segment *segs, size_t *count,
    struct trace_error *err)
{
	size_t start = 1, n = 0;
	enum trace_status rc;

	if (len == 0)
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_link",
		    "path", "empty path");
	if (path[0] != '/')
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_link",
		    "path", "path must begin with '/'");
	if (len == 1)
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_link",
		    "path", "path \"/\" has no GTIN: expected /01/{gtin}");
	while (start <= len) {
		const char *slash = memchr(path + start, '/', len - start);
		size_t end = slash != NULL ? (size_t)(slash - path) : len;

		if (end == start)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "invalid_link", "path", end == len ?
			    "trailing '/' at byte %zu" :
			    "empty segment at byte %zu", start);
		if (n == SEGMENTS_MAX)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "invalid_link", "path", "too many segments: "
			    "expected /01/{gtin}[/10/{lot}][/21/{serial}]");
		rc = segment_decode(path + start, end - start, start,
		    &segs[n], err);
		if (rc != TRACE_OK)
			return rc;
		n++;
		start = end + 1;
	}
	*count = n;
	return TRACE_OK;
}

/* Copy a decoded AI code for a message, with anything odd shown as '?'. */
static void
printable_copy(const struct segment *seg, char *buf, size_t size)
{
	size_t n = seg->len < size - 1 ? seg->len : size - 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)seg->text[i];

		buf[i] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buf[n] = '\0';
}

static enum trace_status
link_parse(const char *path, size_t len, struct gs1_link *out,
    struct trace_error *err)
{
	struct segment segs[SEGMENTS_MAX];
	size_t count = 0, i;
	int last = 0;   /* the last AI seen: 1, 10 or 21 */
	enum trace_status rc;
	char shown[24];

	memset(out, 0, sizeof(*out));
	rc = split_path(path, len, segs, &count, err);
	if (rc != TRACE_OK)
		return rc;
	for (i = 0; i < count; i += 2) {
		const struct segment *ai = &segs[i], *value = &segs[i + 1];
		int code;

		if (memchr(ai->text, '/', ai->len) != NULL)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "invalid_link", "path", "encoded '/' (%%2F) at "
			    "byte %zu is not a path separator", ai->offset);
		if (strcmp(ai->text, "01") == 0)
			code = 1;
		else if (strcmp(ai->text, "10") == 0)
			code = 10;
		else if (strcmp(ai->text, "21") == 0)
			code = 21;
		else {
			printable_copy(ai, shown, sizeof(shown));
			return trace_error_set(err, TRACE_EMALFORMED,
			    "invalid_link", "path", "unknown or unsupported "
			    "AI \"%s\" at byte %zu (only 01, 10, 21)", shown,
			    ai->offset);
		}
		if (i == 0 && code != 1)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "invalid_link", "path", "path must begin with "
			    "/01/{gtin}, not AI %02d", code);
		/* GS1 Digital Link: 01 first, then its qualifiers 10, 21. */
		if (code <= last)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "invalid_link", "path", "AI %02d out of order at "
			    "byte %zu: expected /01/{gtin}[/10/{lot}]"
			    "[/21/{serial}]", code, ai->offset);
		last = code;
		if (i + 1 == count)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "invalid_link", "path", "AI %02d at byte %zu has "
			    "no value", code, ai->offset);
		if (code == 1) {
			if (memchr(value->text, '/', value->len) != NULL)
				return trace_error_set(err, TRACE_EMALFORMED,
				    "invalid_gtin", "gtin", "encoded '/' "
				    "(%%2F) in the GTIN at byte %zu",
				    value->offset);
			rc = gs1_gtin_normalize(value->text, value->len,
			    out->gtin, "gtin", err);
		} else {
			const char *field = code == 10 ? "lot" : "serial";

			rc = gs1_attr_check(value->text, value->len, field,
			    err);
			if (rc == TRACE_OK)
				memcpy(code == 10 ? out->lot : out->serial,
				    value->text, value->len + 1);
		}
		if (rc != TRACE_OK)
			return rc;
	}
	return TRACE_OK;
}

enum trace_status
gs1_link_parse_path(const char *path, size_t len, struct gs1_link *out,
    struct trace_error *err)
{
	enum trace_status rc;

	rc = link_parse(path, len, out, err);
	if (rc != TRACE_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

enum trace_status
gs1_chain_id_parse(const char *id, size_t len, char gtin14[GTIN14_LEN + 1],
    char lot[GS1_ATTR_MAX + 1], struct trace_error *err)
{
	char path[CHAIN_ID_MAX + 2], canonical[CHAIN_ID_MAX + 1];
	struct gs1_link link;
	enum trace_status rc;

	gtin14[0] = lot[0] = '\0';
	if (len > CHAIN_ID_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_chain",
		    "chain", "chain id of %zu bytes is longer than %d", len,
		    CHAIN_ID_MAX);
	/* The parser wants a path; a chain id is one without its '/'. */
	path[0] = '/';
	memcpy(path + 1, id, len);
	rc = gs1_link_parse_path(path, len + 1, &link, err);
	if (rc != TRACE_OK)
		return rc;
	if (link.lot[0] == '\0' || link.serial[0] != '\0')
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_chain",
		    "chain", "chain id must be 01/{gtin14}/10/{lot}");
	/* One spelling per chain, so ids can be compared and used as keys. */
	gs1_chain_id(link.gtin, link.lot, canonical, sizeof(canonical));
	if (strlen(canonical) != len || memcmp(canonical, id, len) != 0)
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_chain",
		    "chain", "chain id is not canonical; expected \"%s\"",
		    canonical);
	memcpy(gtin14, link.gtin, sizeof(link.gtin));
	memcpy(lot, link.lot, sizeof(link.lot));
	return TRACE_OK;
}
