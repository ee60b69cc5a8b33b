/*
 * test_buf.c - the growable buffer and its escaping writers, the boundary
 * between a signer's words and a page or an API answer.
 *
 * Every byte 0x00-0xFF goes through each writer, alone and all together,
 * against an expected form written here from the specs rather than from
 * buf.c (RFC 8259 7 for JSON strings, the HTML escapes of buf.h, RFC 3986
 * 2.1-2.3 for percent-encoding), and the output is also read back: by the
 * strict JSON parser, by an entity check, by a percent-decoder.  Then
 * multi-byte and invalid UTF-8, U+2028/2029, the strings that break out of
 * a context (</script>, a quote in an attribute), growth across the
 * capacity, the max bound at every length, and the overflow guard.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/buf.h"
#include "libtrace/encoding.h"
#include "libtrace/json.h"
#include "check.h"

typedef void (*writer_fn)(struct buf *b, const char *s, size_t len);

/* ---- expected forms, from the specs ------------------------------------ */

/*
 * RFC 8259 7: '"', '\\' and U+0000-U+001F must be escaped; buf.h adds '<',
 * '>' and '&' (as \u003c, \u003e, \u0026) so the text is inert inside an
 * HTML <script> block.  The short forms used are \n, \r and \t only (not
 * \b or \f), and hex digits are lowercase.
 */
static const char *const json_controls[32] = {
	"\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005",
	"\\u0006", "\\u0007", "\\u0008", "\\t", "\\n", "\\u000b", "\\u000c",
	"\\r", "\\u000e", "\\u000f", "\\u0010", "\\u0011", "\\u0012",
	"\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017", "\\u0018",
	"\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e",
	"\\u001f",
};

/* The escaped form of byte c inside a JSON string (without quotes). */
static size_t
json_expected(unsigned char c, char *out)
{
	const char *e = NULL;

	if (c < 0x20)
		e = json_controls[c];
	else if (c == '"')
		e = "\\\"";
	else if (c == '\\')
		e = "\\\\";
	else if (c == '<')
		e = "\\u003c";
	else if (c == '>')
		e = "\\u003e";
	else if (c == '&')
		e = "\\u0026";
	if (e == NULL) {
		out[0] = (char)c;       /* 0x7f and 0x80-0xff too: raw */
		return 1;
	}
	memcpy(out, e, strlen(e));
	return strlen(e);
}

/* HTML text and double- or single-quoted attribute values. */
static size_t
html_expected(unsigned char c, char *out)
{
	const char *e = NULL;

	switch (c) {
	case '&': e = "&amp;"; break;
	case '<': e = "&lt;"; break;
	case '>': e = "&gt;"; break;
	case '"': e = "&quot;"; break;
	case '\'': e = "&#39;"; break;
	default:
		out[0] = (char)c;
		return 1;
	}
	memcpy(out, e, strlen(e));
	return strlen(e);
}

/* RFC 3986 2.3: only ALPHA DIGIT - . _ ~ stay; 2.1: uppercase digits. */
static size_t
url_expected(unsigned char c, char *out)
{
	static const char unreserved[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-._~";

	if (c != 0 && strchr(unreserved, c) != NULL) {
		out[0] = (char)c;
		return 1;
	}
	snprintf(out, 4, "%%%02X", c);
	return 3;
}

/* ---- running a writer ----------------------------------------------------- */

/* Write s through w into a fresh unbounded buffer and compare exactly. */
static void
expect_write(writer_fn w, const char *name, const char *s, size_t len,
    const char *want, size_t want_len)
{
	struct buf b;

	buf_init(&b, 0);
	w(&b, s, len);
	/* buf.h: data is NUL-terminated when len > 0 (and may be NULL when
	 * nothing was written). */
	if (want_len == 0 && b.data == NULL) {
		CHECK(!b.failed && b.len == 0);
		return;
	}
	CHECK_MSG(!b.failed && b.len == want_len && b.data != NULL &&
	    memcmp(b.data, want, want_len) == 0 && b.data[b.len] == '\0',
	    "%s(\"%.*s\"): got %zu bytes \"%.*s\", want %zu bytes \"%.*s\"",
	    name, (int)len, s, b.len, (int)b.len, b.data != NULL ? b.data : "",
	    want_len, (int)want_len, want);
	buf_free(&b);
}

static void
expect_cstr(writer_fn w, const char *name, const char *s, const char *want)
{
	expect_write(w, name, s, strlen(s), want, strlen(want));
}

/* ---- every byte ------------------------------------------------------------- */

/* Read "\"...\"" back with the strict parser: the one byte must return. */
static void
json_reads_back(const char *quoted, size_t len, unsigned char c)
{
	char doc_text[32];
	struct json_doc *doc = NULL;
	const char *got = NULL;
	size_t got_len = 0;
	int n;

	n = snprintf(doc_text, sizeof(doc_text), "{\"k\":%.*s}", (int)len,
	    quoted);
	CHECK(n > 0 && (size_t)n < sizeof(doc_text));
	CHECK_MSG(json_parse(doc_text, (size_t)n, NULL, &doc, NULL) ==
	    TRACE_OK, "byte 0x%02X: %s does not parse", c, doc_text);
	if (doc == NULL)
		return;
	CHECK_INT(json_get_string(json_doc_root(doc), "k", true, &got,
	    &got_len, NULL), TRACE_OK);
	CHECK_MSG(got != NULL && got_len == 1 && (unsigned char)got[0] == c,
	    "byte 0x%02X does not read back", c);
	json_doc_free(doc);
}

static void
test_json_every_byte(void)
{
	char in[256], want[256 * 6 + 2], one[8];
	size_t want_len = 0;

	want[want_len++] = '"';
	for (int c = 0; c < 256; c++) {
		size_t n = json_expected((unsigned char)c, one + 1);
		char ch = (char)c;
		struct buf b;

		one[0] = '"';
		one[n + 1] = '"';
		expect_write(buf_json_string, "json", &ch, 1, one, n + 2);
		/* ASCII must parse back to itself; 0x80-0xff alone is not
		 * UTF-8 and is the caller's to refuse (see test_utf8), and the
		 * strict parser refuses U+0000 (it would cut a C string). */
		if (c > 0 && c < 0x80)
			json_reads_back(one, n + 2, (unsigned char)c);
		/* Nothing that ends a <script> or starts markup survives. */
		buf_init(&b, 0);
		buf_json_string(&b, &ch, 1);
		CHECK_MSG(b.data != NULL && strpbrk(b.data, "<>&") == NULL,
		    "byte 0x%02X: raw markup character in JSON", c);
		buf_free(&b);
		in[c] = (char)c;
		memcpy(want + want_len, one + 1, n);
		want_len += n;
	}
	want[want_len++] = '"';
	/* All 256 at once: 256 bytes in, more than 256 out (growth). */
	expect_write(buf_json_string, "json", in, sizeof(in), want, want_len);
	expect_write(buf_json_string, "json", "", 0, "\"\"", 2);
}

static void
test_html_every_byte(void)
{
	char in[256], want[256 * 6], one[8];
	size_t want_len = 0;

	for (int c = 0; c < 256; c++) {
		size_t n = html_expected((unsigned char)c, one);
		char ch = (char)c;

		expect_write(buf_html, "html", &ch, 1, one, n);
		/* No character that opens a tag or closes a quoted value, and
		 * every '&' begins one of the five references. */
		CHECK(memchr(one, '<', n) == NULL && memchr(one, '>', n) == NULL &&
		    memchr(one, '"', n) == NULL && memchr(one, '\'', n) == NULL);
		CHECK(memchr(one, '&', n) == NULL || one[n - 1] == ';');
		in[c] = (char)c;
		memcpy(want + want_len, one, n);
		want_len += n;
	}
	expect_write(buf_html, "html", in, sizeof(in), want, want_len);
	expect_write(buf_html, "html", "", 0, "", 0);
}

/* Decode what buf_url_component wrote; false on anything but %XX/raw. */
static bool
percent_decodes_to(const char *s, size_t len, const char *want,
    size_t want_len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++, n++) {
		int hi, lo;

		if (n >= want_len)
			return false;
		if (s[i] != '%') {
			if (s[i] != want[n])
				return false;
			continue;
		}
		/* RFC 3986 2.1: producers should use uppercase digits. */
		if (i + 2 >= len || (s[i + 1] >= 'a' && s[i + 1] <= 'f') ||
		    (s[i + 2] >= 'a' && s[i + 2] <= 'f') ||
		    (hi = hex_digit_value(s[i + 1])) < 0 ||
		    (lo = hex_digit_value(s[i + 2])) < 0 ||
		    (char)(hi << 4 | lo) != want[n])
			return false;
		i += 2;
	}
	return n == want_len;
}

static void
test_url_every_byte(void)
{
	char in[256], want[256 * 3], one[4];
	size_t want_len = 0, raw = 0;

	for (int c = 0; c < 256; c++) {
		size_t n = url_expected((unsigned char)c, one);
		char ch = (char)c;

		expect_write(buf_url_component, "url", &ch, 1, one, n);
		CHECK_MSG(percent_decodes_to(one, n, &ch, 1),
		    "byte 0x%02X: %.*s", c, (int)n, one);
		raw += n == 1;
		in[c] = (char)c;
		memcpy(want + want_len, one, n);
		want_len += n;
	}
	/* 26 + 26 + 10 + 4 unreserved characters, nothing else raw. */
	CHECK_INT(raw, 66);
	expect_write(buf_url_component, "url", in, sizeof(in), want, want_len);
	expect_write(buf_url_component, "url", "", 0, "", 0);
}

/* ---- contexts and UTF-8 ------------------------------------------------------ */

static void
test_contexts(void)
{
	/* JSON: the characters and strings that end a context. */
	expect_cstr(buf_json_string, "json", "<>&'\"", "\"\\u003c\\u003e\\u0026'\\\"\"");
	expect_cstr(buf_json_string, "json", "</script><script>alert(1)</script>",
	    "\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"
	    "\\u003c/script\\u003e\"");
	expect_cstr(buf_json_string, "json", "<!--", "\"\\u003c!--\"");
	expect_cstr(buf_json_string, "json", "]]>", "\"]]\\u003e\"");
	expect_cstr(buf_json_string, "json", "a\\\"b", "\"a\\\\\\\"b\"");
	expect_cstr(buf_json_string, "json", "\\u003c", "\"\\\\u003c\"");
	expect_cstr(buf_json_string, "json", "line\r\nnext\tcol\b\f",
	    "\"line\\r\\nnext\\tcol\\u0008\\u000c\"");
	expect_cstr(buf_json_string, "json", "/", "\"/\"");

	/* HTML text and attributes: a value cannot close its quotes, open a
	 * tag or start an entity of its own. */
	expect_cstr(buf_html, "html", "<>&'\"", "&lt;&gt;&amp;&#39;&quot;");
	expect_cstr(buf_html, "html", "</script><script>alert(1)</script>",
	    "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
	expect_cstr(buf_html, "html", "\" onmouseover=\"alert(1)",
	    "&quot; onmouseover=&quot;alert(1)");
	expect_cstr(buf_html, "html", "' autofocus onfocus='x",
	    "&#39; autofocus onfocus=&#39;x");
	expect_cstr(buf_html, "html", "&amp;", "&amp;amp;");
	expect_cstr(buf_html, "html", "&#60;", "&amp;#60;");
	expect_cstr(buf_html, "html", "javascript:alert(1)",
	    "javascript:alert(1)");
	/* What the writer is not for: unquoted attributes ('=', '`' and
	 * spaces are left alone, so values always go in quotes). */
	expect_cstr(buf_html, "html", "a=`b` c", "a=`b` c");
	{
		struct buf b;

		buf_init(&b, 0);
		buf_html_cstr(&b, "<b title=\"x\">");
		CHECK_STR(b.data, "&lt;b title=&quot;x&quot;&gt;");
		buf_free(&b);
	}

	/* URL components: every RFC 3986 gen-delim and sub-delim, '%', and
	 * space as %20 (never '+', which a path keeps as '+'). */
	expect_cstr(buf_url_component, "url", ":/?#[]@",
	    "%3A%2F%3F%23%5B%5D%40");
	expect_cstr(buf_url_component, "url", "!$&'()*+,;=",
	    "%21%24%26%27%28%29%2A%2B%2C%3B%3D");
	expect_cstr(buf_url_component, "url", "100% a b", "100%25%20a%20b");
	expect_cstr(buf_url_component, "url", "A-z_0.9~", "A-z_0.9~");
	expect_cstr(buf_url_component, "url", "\"<>\\^`{|}",
	    "%22%3C%3E%5C%5E%60%7B%7C%7D");
	expect_cstr(buf_url_component, "url", "../x", "..%2Fx");
	expect_cstr(buf_url_component, "url", "javascript:alert(1)",
	    "javascript%3Aalert%281%29");
}

static void
test_utf8(void)
{
	/* Multi-byte UTF-8 (2, 3 and 4 bytes) is text: raw in JSON and
	 * HTML, one %XX per byte in a URL. */
	static const char mixed[] = "\xc3\xa9 \xed\x95\x9c\xea\xb5\xad "
	    "\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80";

	expect_cstr(buf_json_string, "json", mixed, "\"\xc3\xa9 \xed\x95\x9c\xea"
	    "\xb5\xad \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\"");
	expect_cstr(buf_html, "html", mixed, mixed);
	expect_cstr(buf_url_component, "url", mixed,
	    "%C3%A9%20%ED%95%9C%EA%B5%AD%20%E6%97%A5%E6%9C%AC%20"
	    "%F0%9F%98%80");
	expect_cstr(buf_json_string, "json", "\xed\x95\x9c<\xea\xb5\xad>",
	    "\"\xed\x95\x9c\\u003c\xea\xb5\xad\\u003e\"");

	/*
	 * U+2028 and U+2029 stay raw in JSON: RFC 8259 allows them in
	 * strings, and since ES2019 so does JavaScript; the JSON is only ever
	 * an API body or a type="application/json" block, never inline script
	 * code.  The output parses back to the same two characters.
	 */
	{
		static const char seps[] = "a\xe2\x80\xa8" "b\xe2\x80\xa9" "c";
		struct buf b;
		struct json_doc *doc = NULL;
		const char *got = NULL;
		size_t got_len = 0;

		expect_cstr(buf_json_string, "json", seps,
		    "\"a\xe2\x80\xa8" "b\xe2\x80\xa9" "c\"");
		expect_cstr(buf_html, "html", seps, seps);
		expect_cstr(buf_url_component, "url", seps,
		    "a%E2%80%A8b%E2%80%A9c");
		buf_init(&b, 0);
		buf_puts(&b, "{\"k\":");
		buf_json_string(&b, seps, strlen(seps));
		buf_puts(&b, "}");
		CHECK_INT(json_parse(b.data, b.len, NULL, &doc, NULL),
		    TRACE_OK);
		if (doc != NULL) {
			json_get_string(json_doc_root(doc), "k", true, &got,
			    &got_len, NULL);
			CHECK(got != NULL && got_len == strlen(seps) &&
			    memcmp(got, seps, got_len) == 0);
		}
		json_doc_free(doc);
		buf_free(&b);
	}

	/*
	 * Invalid UTF-8 (a lone continuation byte, a truncated sequence, an
	 * overlong '/', an encoded surrogate, 0xFF) is not repaired: JSON
	 * and HTML pass the bytes through untouched, as buf.h says the JSON
	 * writer needs valid input (the strict parser and utf8_check refuse
	 * the rest before any writer sees it), and a URL percent-encodes
	 * each byte.  Markup characters next to them are still escaped.
	 */
	{
		static const char bad[] = "\x80<\xc3>\xc0\xaf&\xed\xa0\x80\"\xff";

		CHECK_INT(utf8_check((const unsigned char *)bad, strlen(bad)),
		    0);
		expect_cstr(buf_json_string, "json", bad, "\"\x80\\u003c\xc3\\u003e"
		    "\xc0\xaf\\u0026\xed\xa0\x80\\\"\xff\"");
		expect_cstr(buf_html, "html", bad,
		    "\x80&lt;\xc3&gt;\xc0\xaf&amp;\xed\xa0\x80&quot;\xff");
		expect_cstr(buf_url_component, "url", bad,
		    "%80%3C%C3%3E%C0%AF%26%ED%A0%80%22%FF");
	}

	/* Embedded NUL: lengths are explicit, nothing stops at it. */
	expect_write(buf_json_string, "json", "a\0<b", 4, "\"a\\u0000\\u003cb\"", 16);
	expect_write(buf_html, "html", "a\0<b", 4, "a\0&lt;b", 7);
	expect_write(buf_url_component, "url", "a\0<b", 4, "a%00%3Cb", 8);
}

static void
test_json_value(void)
{
	static const char text[] = "{\"<k>\":\"</script>\",\"a\":[1,-20,true,"
	    "false,null,\"\\u2028&\\n\"],\"o\":{}}";
	static const char want[] = "{\"\\u003ck\\u003e\":\"\\u003c/script"
	    "\\u003e\",\"a\":[1,-20,true,false,null,\"\xe2\x80\xa8\\u0026"
	    "\\n\"],\"o\":{}}";
	struct json_doc *doc = NULL;
	struct buf b;

	CHECK_INT(json_parse(text, strlen(text), NULL, &doc, NULL), TRACE_OK);
	if (doc == NULL)
		return;
	buf_init(&b, 0);
	buf_json_value(&b, json_doc_root(doc));
	CHECK(!b.failed);
	CHECK_STR(b.data, want);
	json_doc_free(doc);
	buf_free(&b);
}

/* ---- growth and bounds -------------------------------------------------------- */

/* The capacity buf.c grows to for len bytes: 256, doubled as needed. */
static size_t
cap_for(size_t len)
{
	size_t cap = 256;

	while (cap < len + 1)
		cap *= 2;
	return cap;
}

struct writer_case {
	writer_fn w;
	const char *name;
};

static const struct writer_case writers[] = {
	{ buf_json_string, "json" },
	{ buf_html, "html" },
	{ buf_url_component, "url" },
};

/*
 * An escaped sample straddling the capacity: after every prefix length
 * around 256 and 512 the output is the prefix then the exact escaping,
 * NUL-terminated, in the capacity growth gives.
 */
static void
test_growth(void)
{
	static const char sample[] = "<\"&'>\n\x01\xc3\xa9/ %";
	/* Prefix lengths around the first two capacities, 256 and 512. */
	static const size_t ranges[2][2] = { { 200, 300 }, { 460, 560 } };
	char want[64];
	size_t want_len;

	for (size_t k = 0; k < sizeof(writers) / sizeof(writers[0]); k++) {
		/* The expected escaping, piece by piece from the tables. */
		want_len = 0;
		if (writers[k].w == buf_json_string)
			want[want_len++] = '"';
		for (size_t i = 0; i < sizeof(sample) - 1; i++) {
			unsigned char c = (unsigned char)sample[i];

			want_len += writers[k].w == buf_json_string ?
			    json_expected(c, want + want_len) :
			    writers[k].w == buf_html ?
			    html_expected(c, want + want_len) :
			    url_expected(c, want + want_len);
		}
		if (writers[k].w == buf_json_string)
			want[want_len++] = '"';
		for (size_t r = 0; r < 2; r++)
		for (size_t prefix = ranges[r][0]; prefix < ranges[r][1];
		    prefix++) {
			struct buf b;
			bool ok;

			buf_init(&b, 0);
			for (size_t i = 0; i < prefix; i++)
				buf_append(&b, "x", 1);
			writers[k].w(&b, sample, sizeof(sample) - 1);
			ok = !b.failed && b.len == prefix + want_len &&
			    memcmp(b.data + prefix, want, want_len) == 0 &&
			    b.data[b.len] == '\0' && b.cap == cap_for(b.len) &&
			    strspn(b.data, "x") == prefix;
			CHECK_MSG(ok, "%s after %zu bytes: len %zu cap %zu",
			    writers[k].name, prefix, b.len, b.cap);
			buf_free(&b);
		}
	}

	/* Through many doublings: 1 MiB of '<' is 6 MiB of JSON. */
	{
		size_t n = 1 << 20, bad = 0;
		char *lt = malloc(n);
		struct buf b;

		CHECK(lt != NULL);
		if (lt == NULL)
			return;
		memset(lt, '<', n);
		buf_init(&b, 0);
		buf_json_string(&b, lt, n);
		CHECK(!b.failed && b.len == 6 * n + 2 && b.cap == cap_for(b.len));
		for (size_t i = 0; !b.failed && i < n; i++)
			bad += memcmp(b.data + 1 + 6 * i, "\\u003c", 6) != 0;
		CHECK_INT(bad, 0);
		CHECK(b.data != NULL && b.data[0] == '"' &&
		    b.data[b.len - 1] == '"' && b.data[b.len] == '\0');
		buf_free(&b);
		free(lt);
	}
}

/*
 * max bounds the length.  For every max from 1 to past the full output:
 * either everything fits and is exact, or the buffer fails, holds no more
 * than max bytes, and what it holds is a prefix of the full output (never
 * a byte that was not going to be written there).  A failed buffer stays
 * failed, and buf_steal() hands out nothing from it.
 */
static void
test_bounds(void)
{
	static const char sample[] = "a<b>&\"c'\x01\xc3\xa9 %";

	for (size_t k = 0; k < sizeof(writers) / sizeof(writers[0]); k++) {
		struct buf full;

		buf_init(&full, 0);
		writers[k].w(&full, sample, sizeof(sample) - 1);
		CHECK(!full.failed);
		for (size_t max = 1; max <= full.len + 3; max++) {
			struct buf b;
			size_t len_at_fail;
			char *stolen;

			buf_init(&b, max);
			writers[k].w(&b, sample, sizeof(sample) - 1);
			if (max >= full.len) {
				CHECK_MSG(!b.failed && b.len == full.len &&
				    memcmp(b.data, full.data, b.len) == 0,
				    "%s, max %zu", writers[k].name, max);
				buf_free(&b);
				continue;
			}
			CHECK_MSG(b.failed && b.len <= max && (b.len == 0 ||
			    memcmp(b.data, full.data, b.len) == 0),
			    "%s, max %zu: failed %d len %zu", writers[k].name,
			    max, b.failed, b.len);
			/* Sticky: a later short append adds nothing. */
			len_at_fail = b.len;
			buf_append(&b, "z", 1);
			buf_puts(&b, "z");
			buf_printf(&b, "%d", 7);
			writers[k].w(&b, "z", 1);
			CHECK(b.failed && b.len == len_at_fail);
			/* buf_reset starts over within the same bound. */
			buf_reset(&b);
			CHECK(!b.failed && b.len == 0);
			buf_append(&b, "y", 1);
			CHECK(!b.failed && b.len == 1 && b.data[0] == 'y' &&
			    b.data[1] == '\0');
			writers[k].w(&b, sample, sizeof(sample) - 1);
			CHECK(b.failed && b.len <= max);
			stolen = buf_steal(&b, NULL);
			CHECK(stolen == NULL && b.data == NULL && b.len == 0);
			buf_free(&b);
		}
		buf_free(&full);
	}

	/* Exactly max bytes fit; one more does not. */
	{
		struct buf b;
		char *s;
		size_t len = 99;

		buf_init(&b, 10);
		buf_puts(&b, "0123456789");
		CHECK(!b.failed && b.len == 10);
		s = buf_steal(&b, &len);
		CHECK(s != NULL && len == 10 && strcmp(s, "0123456789") == 0);
		CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
		free(s);
		buf_init(&b, 10);
		buf_printf(&b, "%s", "01234567890");
		CHECK(b.failed && b.len == 0);
		buf_free(&b);
	}

	/*
	 * Lengths that would overflow len + n + 1 or the doubling are refused
	 * before anything is allocated or read (the data pointer is never
	 * dereferenced for them).
	 */
	{
		struct buf b;

		buf_init(&b, 0);
		buf_append(&b, "abc", 3);
		buf_append(&b, "x", SIZE_MAX);
		CHECK(b.failed && b.len == 3 && strcmp(b.data, "abc") == 0);
		buf_reset(&b);
		buf_append(&b, "x", SIZE_MAX / 2 + 1);
		CHECK(b.failed && b.len == 0);
		buf_reset(&b);
		buf_append(&b, "abc", 3);
		buf_append(&b, "x", SIZE_MAX / 2 - 2);
		CHECK(b.failed && b.len == 3);
		buf_free(&b);
	}
}

static void
test_lifecycle(void)
{
	struct buf b;
	char *s;
	size_t len = 99;

	/* A buffer never written steals as "", not NULL. */
	buf_init(&b, 0);
	s = buf_steal(&b, &len);
	CHECK(s != NULL && len == 0 && s[0] == '\0');
	free(s);

	/* reset keeps the memory and empties the text. */
	buf_init(&b, 0);
	buf_printf(&b, "%s=%d", "n", 42);
	CHECK_STR(b.data, "n=42");
	buf_reset(&b);
	CHECK(b.len == 0 && b.cap == 256 && b.data[0] == '\0');
	buf_reset(&b);
	buf_free(&b);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
	buf_free(&b);
	buf_free(NULL);
}

int
main(void)
{
	test_json_every_byte();
	test_html_every_byte();
	test_url_every_byte();
	test_contexts();
	test_utf8();
	test_json_value();
	test_growth();
	test_bounds();
	test_lifecycle();
	CHECK_DONE();
}
