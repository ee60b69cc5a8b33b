/*
 * test_gs1compress.c - GS1 Digital Link compression.  The expected strings
 * were printed by GS1's own toolkit (digital-link.js 1.4.3,
 * Utils.compressWebUri), so this implementation writes what GS1's writes;
 * the browser suite checks the same against the toolkit at run time.
 * Then: every set 82 value survives compress -> decompress, and every way
 * a compressed segment can be wrong is refused with out emptied.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "libtrace/gs1.h"
#include "check.h"

static const char set82[] =
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
    "abcdefghijklmnopqrstuvwxyz";

static void
expect_compress(const char *lot, const char *serial, const char *want)
{
	struct gs1_link link, back;
	struct trace_error err;
	char out[GS1_COMPRESSED_MAX + 1], query[64];

	memset(&link, 0, sizeof(link));
	memcpy(link.gtin, "08801234567893", 15);
	snprintf(link.lot, sizeof(link.lot), "%s", lot);
	snprintf(link.serial, sizeof(link.serial), "%s", serial);
	CHECK_INT(gs1_link_compress(&link, out, sizeof(out)), strlen(want));
	CHECK_STR(out, want);
	trace_error_clear(&err);
	CHECK_INT(gs1_link_decompress(want, strlen(want), &back, query,
	    sizeof(query), &err), TRACE_OK);
	CHECK_STR(back.gtin, link.gtin);
	CHECK_STR(back.lot, link.lot);
	CHECK_STR(back.serial, link.serial);
	CHECK_STR(query, "");
}

static void
test_toolkit_vectors(void)
{
	expect_compress("", "", "ARACZOuFqg");
	expect_compress("L2311A", "", "CxACZOuFqsxe2-uoA");
	/* The toolkit decodes this serial as "1": it parses the number and
	 * drops the zeros the length still says are there. */
	expect_compress("L2311A", "0001", "CxACZOuFqsxe2-uoBCCAAI");
	expect_compress("ab12", "AB12", "CxACZOuFqklWJEKJViQ");
	expect_compress("A!B", "", "CxACZOuFqwcFDC");
	expect_compress("x-y_z", "Q", "CxACZOuFqsuP2X-ZCwoA");
	expect_compress("", "S1", "DBACZOuFqsSWo");
}

static void
expect_refused(const char *s, const char *why)
{
	struct gs1_link link;
	struct trace_error err;
	char query[64];

	memset(&link, 'x', sizeof(link));
	memset(query, 'x', sizeof(query));
	trace_error_clear(&err);
	CHECK_MSG(gs1_link_decompress(s, strlen(s), &link, query,
	    sizeof(query), &err) == TRACE_EMALFORMED, "%s (%s) accepted", s,
	    why);
	CHECK_MSG(link.gtin[0] == '\0' && link.lot[0] == '\0' &&
	    link.serial[0] == '\0' && query[0] == '\0', "%s: out not emptied",
	    s);
}

/* A segment from a string of '0'/'1' (zero-padded), to craft bad input. */
static void
from_bits(const char *bits, char *out)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
	    "rstuvwxyz0123456789-_";
	size_t n = strlen(bits), i;

	for (i = 0; i < (n + 5) / 6; i++) {
		unsigned v = 0;

		for (size_t k = 0; k < 6; k++)
			v = v << 1 | (6 * i + k < n && bits[6 * i + k] == '1');
		out[i] = b64[v];
	}
	out[i] = '\0';
}

static void
append_number(char *bits, unsigned long long v, size_t n)
{
	size_t at = strlen(bits);

	for (size_t i = 0; i < n; i++)
		bits[at + i] = (v >> (n - 1 - i)) & 1 ? '1' : '0';
	bits[at + n] = '\0';
}

static void
test_refusals(void)
{
	char bits[512], seg[128], big[GS1_COMPRESSED_MAX + 2];

	expect_refused("", "empty");
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_refused(big, "too long");
	expect_refused("CxACZOuFqs+e2-uoA", "not base64url");
	expect_refused("CxACZOuFqs e2-uoA", "space");
	/* Cut short: the lot's length says 6 characters. */
	expect_refused("CxACZOuFqsxe2", "truncated");
	/* The last character's padding bits set. */
	expect_refused("ARACZOuFqh", "padding not zero");
	/* An extra non-zero character: 6 more bits that are not padding. */
	expect_refused("CxACZOuFqsxe2-uoAB", "trailing bits");
	/* 01+22 (0A): AI 22 is not one this resolver serves. */
	expect_refused("ChACZOuFqodXg", "AI 22");
	/* GTIN only 01 with a wrong check digit: 08801234567890. */
	bits[0] = '\0';
	append_number(bits, 0x01, 8);
	append_number(bits, 8801234567890ULL, 47);
	from_bits(bits, seg);
	expect_refused(seg, "check digit");
	/* The GTIN's 47 bits above 10^14 - 1. */
	bits[0] = '\0';
	append_number(bits, 0x01, 8);
	append_number(bits, 100000000000000ULL, 47);
	from_bits(bits, seg);
	expect_refused(seg, "GTIN too large");
	/* AI 01 twice. */
	bits[0] = '\0';
	append_number(bits, 0x01, 8);
	append_number(bits, 8801234567893ULL, 47);
	append_number(bits, 0x01, 8);
	append_number(bits, 8801234567893ULL, 47);
	from_bits(bits, seg);
	expect_refused(seg, "AI twice");
	/* A lot alone, no GTIN. */
	bits[0] = '\0';
	append_number(bits, 0x10, 8);
	append_number(bits, 3, 3);          /* base64 */
	append_number(bits, 1, 5);
	append_number(bits, 0, 6);          /* "A" */
	from_bits(bits, seg);
	expect_refused(seg, "no GTIN");
	/* 0B with encodings 5, 6, 7 and with length 0 for the lot. */
	for (unsigned enc = 5; enc <= 8; enc++) {
		bits[0] = '\0';
		append_number(bits, 0x0B, 8);
		append_number(bits, 8801234567893ULL, 47);
		append_number(bits, enc == 8 ? 3 : enc, 3);
		append_number(bits, enc == 8 ? 0 : 1, 5);
		append_number(bits, 0, 7);
		from_bits(bits, seg);
		expect_refused(seg, "bad encoding or empty lot");
	}
	/* A lot of 7-bit ASCII with '#', outside set 82. */
	bits[0] = '\0';
	append_number(bits, 0x0B, 8);
	append_number(bits, 8801234567893ULL, 47);
	append_number(bits, 4, 3);
	append_number(bits, 1, 5);
	append_number(bits, '#', 7);
	from_bits(bits, seg);
	expect_refused(seg, "lot outside set 82");
	/* The lot "..", a dot segment (gs1_attr_valid). */
	bits[0] = '\0';
	append_number(bits, 0x0B, 8);
	append_number(bits, 8801234567893ULL, 47);
	append_number(bits, 4, 3);
	append_number(bits, 2, 5);
	append_number(bits, '.', 7);
	append_number(bits, '.', 7);
	from_bits(bits, seg);
	expect_refused(seg, "dot segment");
	/* An element code with no meaning (hex 0E: 01+7003, not served). */
	bits[0] = '\0';
	append_number(bits, 0x0E, 8);
	append_number(bits, 8801234567893ULL, 47);
	from_bits(bits, seg);
	expect_refused(seg, "unknown optimisation");
}

static void
test_pairs_and_attributes(void)
{
	struct gs1_link link;
	struct trace_error err;
	char query[64];

	/* /01/08801234567893/10/L1?17=261231: the expiry date is read and
	 * dropped. */
	CHECK_INT(gs1_link_decompress("CxACZOuFqsReouf43g", 18, &link, query,
	    sizeof(query), &err), TRACE_OK);
	CHECK_STR(link.lot, "L1");
	CHECK_STR(query, "");
	/* /01/08801234567893/10/L1?foo=bar: the pair comes back as a query. */
	CHECK_INT(gs1_link_decompress("CxACZOuFqsRevg36KGDbar", 22, &link,
	    query, sizeof(query), &err), TRACE_OK);
	CHECK_STR(link.lot, "L1");
	CHECK_STR(query, "foo=bar");
	/* Without room for a query, a pair is refused. */
	CHECK_INT(gs1_link_decompress("CxACZOuFqsRevg36KGDbar", 22, &link,
	    NULL, 0, &err), TRACE_EMALFORMED);
}

/* Every value of set 82, any length 1-20, in every encoding: a
 * deterministic generator so a failure reproduces. */
static void
test_round_trips(void)
{
	unsigned long long x = 0x9e3779b97f4a7c15ULL;
	int bad = 0;

	for (int i = 0; i < 20000 && bad < 5; i++) {
		struct gs1_link link, back;
		struct trace_error err;
		char out[GS1_COMPRESSED_MAX + 1], query[8];
		const char *alphabet;
		char *fields[2] = { link.lot, link.serial };

		memset(&link, 0, sizeof(link));
		memcpy(link.gtin, "00000000000017", 15);
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		switch (x % 5) {
		case 0: alphabet = "0123456789"; break;
		case 1: alphabet = "0123456789abcdef"; break;
		case 2: alphabet = "0123456789ABCDEF"; break;
		case 3: alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_"; break;
		default: alphabet = set82; break;
		}
		for (int f = 0; f < 2; f++) {
			size_t len;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			len = 1 + x % GS1_ATTR_MAX;
			for (size_t k = 0; k < len; k++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				fields[f][k] = alphabet[x % strlen(alphabet)];
			}
			fields[f][len] = '\0';
			if (!gs1_attr_valid(fields[f], len))
				memcpy(fields[f], "A", 2);
		}
		if (i % 3 == 1)
			link.serial[0] = '\0';
		if (gs1_link_compress(&link, out, sizeof(out)) == 0 ||
		    gs1_link_decompress(out, strlen(out), &back, query,
		    sizeof(query), &err) != TRACE_OK ||
		    strcmp(back.gtin, link.gtin) != 0 ||
		    strcmp(back.lot, link.lot) != 0 ||
		    strcmp(back.serial, link.serial) != 0) {
			bad++;
			CHECK_MSG(false, "round trip of lot \"%s\" serial \"%s\" "
			    "via \"%s\"", link.lot, link.serial, out);
		}
	}
	CHECK_INT(bad, 0);
}

int
main(void)
{
	test_toolkit_vectors();
	test_refusals();
	test_pairs_and_attributes();
	test_round_trips();
	CHECK_DONE();
}
