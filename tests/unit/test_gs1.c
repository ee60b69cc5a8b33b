/*
 * test_gs1.c - GS1 identifiers: GTIN check digits and normalisation, set 82
 * lots and serials, chain ids, Digital Link paths both ways.  Every way an
 * identifier can be wrong is fed in and must be refused with the right
 * field; every accepted value must survive format -> parse unchanged.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "libtrace/gs1.h"
#include "check.h"

/* The exact AI encodable character set 82, from the GS1 General
 * Specifications (figure 7.11-1), written out independently of gs1.c. */
static const char set82[] =
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
    "abcdefghijklmnopqrstuvwxyz";

/* Parse path and expect a refusal naming field, with needle in the message. */
static void
expect_path_error(const char *path, size_t len, const char *field,
    const char *needle)
{
	struct gs1_link link;
	struct trace_error err;
	enum trace_status rc;

	trace_error_clear(&err);
	memset(&link, 'x', sizeof(link));
	rc = gs1_link_parse_path(path, len, &link, &err);
	CHECK_MSG(rc == TRACE_EMALFORMED, "\"%.*s\": status %d", (int)len,
	    path, rc);
	CHECK_MSG(strcmp(err.field, field) == 0, "\"%.*s\": field \"%s\", "
	    "want \"%s\"", (int)len, path, err.field, field);
	CHECK_MSG(strstr(err.message, needle) != NULL, "\"%.*s\": message "
	    "\"%s\" lacks \"%s\"", (int)len, path, err.message, needle);
	CHECK_MSG(link.gtin[0] == '\0' && link.lot[0] == '\0' &&
	    link.serial[0] == '\0', "\"%.*s\": output not cleared", (int)len,
	    path);
}

static void
expect_path_error_str(const char *path, const char *field, const char *needle)
{
	expect_path_error(path, strlen(path), field, needle);
}

static void
test_check_digit(void)
{
	/* The last character is not read: it is where the digit goes. */
	CHECK_INT(gs1_check_digit("0950600013435X", 14), '2');
	CHECK_INT(gs1_check_digit("880123456789X", 13), '3');
	CHECK_INT(gs1_check_digit("08801234567893", 14), '3');
	CHECK_INT(gs1_check_digit("4006381333931", 13), '1');
	CHECK_INT(gs1_check_digit("036000291452", 12), '2');
	CHECK_INT(gs1_check_digit("96385074", 8), '4');
	CHECK_INT(gs1_check_digit("00000000000000", 14), '0');
	/* sum 3*1 = 3: the digit makes it 10. */
	CHECK_INT(gs1_check_digit("10", 2), '7');
	CHECK_INT(gs1_check_digit("5", 1), '\0');
	CHECK_INT(gs1_check_digit("", 0), '\0');
	CHECK_INT(gs1_check_digit("0950600A134352", 14), '\0');
}

static void
test_gtin_normalize(void)
{
	static const char *const bad_lengths[] = {
		"", "9638507", "096385074", "0096385074", "00096385074",
		"009506000134352", "0009506000134352",
	};
	static const char *const non_digits[] = {
		"0950600013435A", " 9506000134352", "+950600013435",
		"0950600013435.", "9638507-", "\xef\xbc\x99" "638507400",
	};
	struct trace_error err;
	char out[GTIN14_LEN + 1];

	CHECK_INT(gs1_gtin_normalize("96385074", 8, out, "gtin", &err),
	    TRACE_OK);
	CHECK_STR(out, "00000096385074");
	CHECK_INT(gs1_gtin_normalize("036000291452", 12, out, "gtin", &err),
	    TRACE_OK);
	CHECK_STR(out, "00036000291452");
	CHECK_INT(gs1_gtin_normalize("4006381333931", 13, out, "gtin", &err),
	    TRACE_OK);
	CHECK_STR(out, "04006381333931");
	CHECK_INT(gs1_gtin_normalize("09506000134352", 14, out, "gtin", &err),
	    TRACE_OK);
	CHECK_STR(out, "09506000134352");
	CHECK_INT(gs1_gtin_normalize("08801234567893", 14, out, "gtin", &err),
	    TRACE_OK);
	CHECK_STR(out, "08801234567893");
	/* len is what counts, not a NUL. */
	CHECK_INT(gs1_gtin_normalize("96385074999", 8, out, "gtin", &err),
	    TRACE_OK);
	CHECK_STR(out, "00000096385074");

	/* Every wrong check digit of a GTIN-14 and of a GTIN-8. */
	for (char d = '0'; d <= '9'; d++) {
		char g14[] = "09506000134352", g8[] = "96385074";

		g14[13] = d;
		g8[7] = d;
		CHECK_INT(gs1_gtin_normalize(g14, 14, out, "g", NULL) ==
		    TRACE_OK, d == '2');
		CHECK_INT(gs1_gtin_normalize(g8, 8, out, "g", NULL) ==
		    TRACE_OK, d == '4');
	}
	/* A transposition the check digit is meant to catch. */
	CHECK_INT(gs1_gtin_normalize("09506000143352", 14, out, "g", NULL),
	    TRACE_EMALFORMED);

	trace_error_clear(&err);
	CHECK_INT(gs1_gtin_normalize("09506000134353", 14, out, "chain.gtin",
	    &err), TRACE_EMALFORMED);
	CHECK_STR(out, "");
	CHECK_STR(err.code, "invalid_gtin");
	CHECK_STR(err.field, "chain.gtin");
	CHECK_STR(err.message, "GTIN check digit is 3, expected 2");

	for (size_t i = 0; i < sizeof(bad_lengths) / sizeof(*bad_lengths);
	    i++) {
		size_t n = strlen(bad_lengths[i]);
		char want[64];

		trace_error_clear(&err);
		CHECK_INT(gs1_gtin_normalize(bad_lengths[i], n, out, "gtin",
		    &err), TRACE_EMALFORMED);
		snprintf(want, sizeof(want), "GTIN must have 8, 12, 13 or 14 "
		    "digits, not %zu", n);
		CHECK_STR(err.message, want);
		CHECK_STR(err.field, "gtin");
	}
	for (size_t i = 0; i < sizeof(non_digits) / sizeof(*non_digits);
	    i++) {
		trace_error_clear(&err);
		CHECK_INT(gs1_gtin_normalize(non_digits[i],
		    strlen(non_digits[i]), out, "gtin", &err),
		    TRACE_EMALFORMED);
		CHECK_MSG(strstr(err.message, "digits only") != NULL, "%s",
		    err.message);
	}
	/* An embedded NUL is a non-digit, not the end of the string. */
	CHECK_INT(gs1_gtin_normalize("9638\0" "074", 8, out, "gtin", &err),
	    TRACE_EMALFORMED);
	CHECK_STR(err.message, "GTIN must be digits only (byte 4 is not a "
	    "digit)");
}

static void
test_attr(void)
{
	struct trace_error err;
	int valid = 0;
	char s[2] = "";

	CHECK_INT(strlen(set82), 82);
	/* Exactly the 82 characters, and no other byte value. */
	for (int c = 1; c < 256; c++) {
		bool in = memchr(set82, c, sizeof(set82) - 1) != NULL;

		s[0] = (char)c;
		CHECK_MSG(gs1_attr_valid(s, 1) == (in && c != '.'),
		    "byte 0x%02X", c);
		CHECK_MSG((gs1_attr_check(s, 1, "lot", NULL) == TRACE_OK) ==
		    (in && c != '.'), "byte 0x%02X", c);
		valid += gs1_attr_valid(s, 1) ? 1 : 0;
	}
	/* "." alone is the one set 82 character refused: a dot segment. */
	CHECK_INT(valid, 81);
	CHECK(!gs1_attr_valid("\0", 1));

	CHECK(gs1_attr_valid("L2311A", 6));
	CHECK(gs1_attr_valid("12345678901234567890", 20));
	CHECK(!gs1_attr_valid("123456789012345678901", 21));
	CHECK(!gs1_attr_valid("", 0));
	CHECK(gs1_attr_valid("A/B%C?D&E", 9));
	CHECK(!gs1_attr_valid(".", 1));
	CHECK(!gs1_attr_valid("..", 2));
	CHECK(gs1_attr_valid("...", 3));
	CHECK(gs1_attr_valid(".a", 2));
	CHECK(gs1_attr_valid("a..", 3));
	CHECK(!gs1_attr_valid("L 1", 3));
	CHECK(!gs1_attr_valid("caf\xc3\xa9", 5));
	CHECK(!gs1_attr_valid("L#1", 3));
	CHECK(!gs1_attr_valid("L~1", 3));
	CHECK(!gs1_attr_valid("L\t1", 3));

	trace_error_clear(&err);
	CHECK_INT(gs1_attr_check("", 0, "chain.lot", &err), TRACE_EMALFORMED);
	CHECK_STR(err.code, "invalid_value");
	CHECK_STR(err.field, "chain.lot");
	CHECK_STR(err.message, "value is empty (1 to 20 characters)");

	CHECK_INT(gs1_attr_check("123456789012345678901", 21, "serial", &err),
	    TRACE_EMALFORMED);
	CHECK_STR(err.field, "serial");
	CHECK_STR(err.message, "value has 21 characters, at most 20 allowed");

	CHECK_INT(gs1_attr_check("L2311 A", 7, "lot", &err), TRACE_EMALFORMED);
	CHECK_STR(err.message, "byte 0x20 at position 5 is not in GS1 "
	    "character set 82 (printable ASCII without space, #, $, @, [, \\, "
	    "], ^, `, {, |, }, ~)");

	CHECK_INT(gs1_attr_check("caf\xc3\xa9", 5, "lot", &err),
	    TRACE_EMALFORMED);
	CHECK_MSG(strncmp(err.message, "byte 0xC3 at position 3 ", 24) == 0,
	    "%s", err.message);

	CHECK_INT(gs1_attr_check("L#1", 3, "lot", &err), TRACE_EMALFORMED);
	CHECK_STR(err.message, "character '#' at position 1 is not in GS1 "
	    "character set 82");

	CHECK_INT(gs1_attr_check("..", 2, "lot", &err), TRACE_EMALFORMED);
	CHECK_STR(err.message, "value \"..\" cannot appear in a Digital Link "
	    "path (URL normalisation removes it)");

	CHECK_INT(gs1_attr_check(set82, 20, "lot", &err), TRACE_OK);
	CHECK_INT(gs1_attr_check(set82 + 62, 20, "lot", &err), TRACE_OK);
}

static void
test_percent_encode(void)
{
	char out[128];

	CHECK_INT(gs1_percent_encode("A/B%C?D#E&F", 11, out, sizeof(out)), 21);
	CHECK_STR(out, "A%2FB%25C%3FD%23E%26F");
	CHECK_INT(gs1_percent_encode("az-AZ_09.~", 10, out, sizeof(out)), 10);
	CHECK_STR(out, "az-AZ_09.~");
	CHECK_INT(gs1_percent_encode("caf\xc3\xa9 \"<>", 9, out, sizeof(out)),
	    21);
	CHECK_STR(out, "caf%C3%A9%20%22%3C%3E");
	CHECK_INT(gs1_percent_encode("!'()*+,:;=", 10, out, sizeof(out)), 30);
	CHECK_STR(out, "%21%27%28%29%2A%2B%2C%3A%3B%3D");
	CHECK_INT(gs1_percent_encode("\x01\x7f\xff", 3, out, sizeof(out)), 9);
	CHECK_STR(out, "%01%7F%FF");

	/* Exact fit needs room for the NUL; one byte less fails whole. */
	CHECK_INT(gs1_percent_encode("a/b", 3, out, 6), 5);
	CHECK_STR(out, "a%2Fb");
	CHECK_INT(gs1_percent_encode("a/b", 3, out, 5), 0);
	CHECK_STR(out, "");
	CHECK_INT(gs1_percent_encode("a/b", 3, out, 3), 0);
	CHECK_STR(out, "");
	CHECK_INT(gs1_percent_encode("abc", 3, out, 0), 0);
	CHECK_INT(gs1_percent_encode("", 0, out, sizeof(out)), 0);
	CHECK_STR(out, "");
}

static void
test_chain_id(void)
{
	char id[CHAIN_ID_MAX + 1], gtin[GTIN14_LEN + 1], lot[GS1_ATTR_MAX + 1];
	char worst[GS1_ATTR_MAX + 1];
	struct trace_error err;

	gs1_chain_id("09506000134352", "L2311A", id, sizeof(id));
	CHECK_STR(id, "01/09506000134352/10/L2311A");
	gs1_chain_id("09506000134352", "A/B?C%D&E", id, sizeof(id));
	CHECK_STR(id, "01/09506000134352/10/A%2FB%3FC%25D%26E");

	/* The bound in gs1.h holds the longest id exactly. */
	memset(worst, '%', GS1_ATTR_MAX);
	worst[GS1_ATTR_MAX] = '\0';
	gs1_chain_id("09506000134352", worst, id, sizeof(id));
	CHECK_INT(strlen(id), CHAIN_ID_MAX);
	gs1_chain_id("09506000134352", worst, id, CHAIN_ID_MAX);
	CHECK_STR(id, "");

	CHECK_INT(gs1_chain_id_parse("01/09506000134352/10/A%2FB%3FC%25D%26E",
	    38, gtin, lot, &err), TRACE_OK);
	CHECK_STR(gtin, "09506000134352");
	CHECK_STR(lot, "A/B?C%D&E");

	gs1_chain_id("09506000134352", worst, id, sizeof(id));
	CHECK_INT(gs1_chain_id_parse(id, strlen(id), gtin, lot, &err),
	    TRACE_OK);
	CHECK_STR(lot, worst);

	/* Other spellings of the same chain are not its id. */
	trace_error_clear(&err);
	CHECK_INT(gs1_chain_id_parse("01/9506000134352/10/L1", 22, gtin, lot,
	    &err), TRACE_EMALFORMED);
	CHECK_STR(err.code, "invalid_chain");
	CHECK_STR(err.field, "chain");
	CHECK_STR(err.message, "chain id is not canonical; expected "
	    "\"01/09506000134352/10/L1\"");
	CHECK_STR(gtin, "");
	CHECK_INT(gs1_chain_id_parse("01/09506000134352/10/A%2fB", 26, gtin,
	    lot, &err), TRACE_EMALFORMED);
	CHECK_INT(gs1_chain_id_parse("01/09506000134352/10/%41", 24, gtin, lot,
	    &err), TRACE_EMALFORMED);
	CHECK_INT(gs1_chain_id_parse("01/09506000134352/10/A!", 23, gtin, lot,
	    &err), TRACE_EMALFORMED);
	CHECK_STR(err.message, "chain id is not canonical; expected "
	    "\"01/09506000134352/10/A%21\"");

	CHECK_INT(gs1_chain_id_parse("01/09506000134352", 17, gtin, lot, &err),
	    TRACE_EMALFORMED);
	CHECK_STR(err.message, "chain id must be 01/{gtin14}/10/{lot}");
	CHECK_INT(gs1_chain_id_parse("01/09506000134352/10/L1/21/S", 28, gtin,
	    lot, &err), TRACE_EMALFORMED);
	CHECK_STR(err.message, "chain id must be 01/{gtin14}/10/{lot}");
	CHECK_INT(gs1_chain_id_parse("/01/09506000134352/10/L1", 24, gtin, lot,
	    &err), TRACE_EMALFORMED);
	CHECK_STR(err.message, "empty segment at byte 1");
	CHECK_INT(gs1_chain_id_parse("01/09506000134353/10/L1", 23, gtin, lot,
	    &err), TRACE_EMALFORMED);
	CHECK_STR(err.field, "gtin");
	CHECK_INT(gs1_chain_id_parse("", 0, gtin, lot, &err),
	    TRACE_EMALFORMED);
	memset(id, 'A', sizeof(id));
	CHECK_INT(gs1_chain_id_parse(id, sizeof(id), gtin, lot, &err),
	    TRACE_EMALFORMED);
	CHECK_STR(err.message, "chain id of 82 bytes is longer than 81");
}

static void
test_link_format(void)
{
	struct gs1_link link = { "09506000134352", "L2311A", "S/1" };
	char out[256];
	size_t n;

	n = gs1_link_format("https://trace.example", &link, out, sizeof(out));
	CHECK_STR(out, "https://trace.example/01/09506000134352/10/L2311A/21/"
	    "S%2F1");
	CHECK_INT(n, strlen(out));
	link.serial[0] = '\0';
	CHECK_INT(gs1_link_format("https://t.example", &link, out,
	    sizeof(out)), 45);
	CHECK_STR(out, "https://t.example/01/09506000134352/10/L2311A");
	link.lot[0] = '\0';
	CHECK_INT(gs1_link_format("", &link, out, sizeof(out)), 18);
	CHECK_STR(out, "/01/09506000134352");
	memcpy(link.serial, "7", 2);
	CHECK_INT(gs1_link_format(NULL, &link, out, sizeof(out)), 23);
	CHECK_STR(out, "/01/09506000134352/21/7");

	/* Too small: nothing half-written. */
	CHECK_INT(gs1_link_format(NULL, &link, out, 23), 0);
	CHECK_STR(out, "");
	CHECK_INT(gs1_link_format(NULL, &link, out, 24), 23);
	CHECK_INT(gs1_link_format("https://t.example", &link, out, 10), 0);
	CHECK_STR(out, "");
}

static void
test_link_parse(void)
{
	struct gs1_link link;
	struct trace_error err;
	char seg61[22 + 61];

	CHECK_INT(gs1_link_parse_path("/01/09506000134352/10/L2311A/21/S1", 34,
	    &link, &err), TRACE_OK);
	CHECK_STR(link.gtin, "09506000134352");
	CHECK_STR(link.lot, "L2311A");
	CHECK_STR(link.serial, "S1");

	CHECK_INT(gs1_link_parse_path("/01/9506000134352", 17, &link, &err),
	    TRACE_OK);
	CHECK_STR(link.gtin, "09506000134352");
	CHECK_STR(link.lot, "");
	CHECK_STR(link.serial, "");

	CHECK_INT(gs1_link_parse_path("/01/96385074/21/0001", 20, &link, &err),
	    TRACE_OK);
	CHECK_STR(link.gtin, "00000096385074");
	CHECK_STR(link.lot, "");
	CHECK_STR(link.serial, "0001");

	/* Hex digits of either case; raw sub-delims and ':' are legal. */
	CHECK_INT(gs1_link_parse_path("/01/09506000134352/10/a%2fb%2Fc", 31,
	    &link, &err), TRACE_OK);
	CHECK_STR(link.lot, "a/b/c");
	CHECK_INT(gs1_link_parse_path("/01/09506000134352/10/!'()*+,;=:&", 33,
	    &link, &err), TRACE_OK);
	CHECK_STR(link.lot, "!'()*+,;=:&");
	CHECK_INT(gs1_link_parse_path("/01/09506000134352/10/%41%62", 28,
	    &link, &err), TRACE_OK);
	CHECK_STR(link.lot, "Ab");
	/* len bounds the path; what follows is not read. */
	CHECK_INT(gs1_link_parse_path("/01/09506000134352/10/L1?x=1", 24,
	    &link, &err), TRACE_OK);
	CHECK_STR(link.lot, "L1");

	/* Shape of the path. */
	expect_path_error("", 0, "path", "empty path");
	expect_path_error_str("01/09506000134352", "path",
	    "path must begin with '/'");
	expect_path_error_str("/", "path", "has no GTIN");
	expect_path_error_str("/01/09506000134352/", "path",
	    "trailing '/' at byte 19");
	expect_path_error_str("/01/09506000134352/10/L1/", "path",
	    "trailing '/' at byte 25");
	expect_path_error_str("//01/09506000134352", "path",
	    "empty segment at byte 1");
	expect_path_error_str("/01//09506000134352", "path",
	    "empty segment at byte 4");
	expect_path_error_str("/01/09506000134352//10/L1", "path",
	    "empty segment at byte 19");
	expect_path_error_str("/01/09506000134352/10/L1/21/S/22/X", "path",
	    "too many segments");
	expect_path_error_str("/01", "path", "AI 01 at byte 1 has no value");
	expect_path_error_str("/01/09506000134352/10", "path",
	    "AI 10 at byte 19 has no value");

	/* Escapes. */
	expect_path_error_str("/01/09506000134352/10/L%2", "path",
	    "bad percent escape at byte 23");
	expect_path_error_str("/01/09506000134352/10/L%", "path",
	    "bad percent escape at byte 23");
	expect_path_error_str("/01/09506000134352/10/L%G1", "path",
	    "bad percent escape at byte 23");
	expect_path_error_str("/01/09506000134352/10/L%1G", "path",
	    "bad percent escape at byte 23");
	expect_path_error_str("/01/09506000134352/10/%%41", "path",
	    "bad percent escape at byte 22");
	expect_path_error_str("/01/09506000134352/10/L%00X", "path",
	    "encoded NUL (%00) at byte 23");
	expect_path_error_str("/01%2F09506000134352", "path",
	    "encoded '/' (%2F) at byte 1 is not a path separator");
	expect_path_error_str("/01/0950600013%2F4352", "gtin",
	    "encoded '/' (%2F) in the GTIN");
	expect_path_error_str("/01/09506000134352/10%2FL1", "path",
	    "encoded '/' (%2F) at byte 19");

	/* Characters that must be encoded, and queries left in. */
	expect_path_error_str("/01/09506000134352/10/L1?x=1", "path",
	    "'?' at byte 24");
	expect_path_error_str("/01/09506000134352/10/L1#top", "path",
	    "'#' at byte 24");
	expect_path_error_str("/01/09506000134352/10/L 1", "path",
	    "byte 0x20 at byte 23 must be percent-encoded");
	expect_path_error_str("/01/09506000134352/10/L\"1", "path",
	    "'\"' at byte 23 must be percent-encoded (%22)");
	expect_path_error_str("/01/09506000134352/10/L<1>", "path",
	    "'<' at byte 23 must be percent-encoded (%3C)");
	expect_path_error_str("/01/09506000134352/10/caf\xc3\xa9", "path",
	    "byte 0xC3 at byte 25 must be percent-encoded");
	expect_path_error("/01/09506000134352/10/L\0" "1", 25, "path",
	    "byte 0x00 at byte 23 must be percent-encoded");
	expect_path_error_str("/01/09506000134352/10/L\\1", "path",
	    "'\\' at byte 23 must be percent-encoded");

	/* Dot segments, raw or encoded. */
	expect_path_error_str("/01/09506000134352/10/..", "path",
	    "dot segment \"..\" at byte 22");
	expect_path_error_str("/01/09506000134352/10/.", "path",
	    "dot segment \".\" at byte 22");
	expect_path_error_str("/01/09506000134352/10/%2E%2e", "path",
	    "dot segment \"%2E%2e\" at byte 22");
	expect_path_error_str("/01/09506000134352/10/.%2E", "path",
	    "dot segment");
	expect_path_error_str("/01/../01/09506000134352", "path",
	    "dot segment \"..\" at byte 4");
	expect_path_error_str("/./01/09506000134352", "path", "dot segment");

	/* AIs: unknown, out of order, repeated. */
	expect_path_error_str("/01/09506000134352/22/ABC", "path",
	    "unknown or unsupported AI \"22\" at byte 19");
	expect_path_error_str("/01/09506000134352/17/261120", "path",
	    "unknown or unsupported AI \"17\"");
	expect_path_error_str("/01/09506000134352/1/L1", "path",
	    "unknown or unsupported AI \"1\"");
	expect_path_error_str("/01/09506000134352/010/L1", "path",
	    "unknown or unsupported AI \"010\"");
	expect_path_error_str("/gtin/09506000134352", "path",
	    "unknown or unsupported AI \"gtin\"");
	expect_path_error_str("/10/L1/01/09506000134352", "path",
	    "path must begin with /01/{gtin}, not AI 10");
	expect_path_error_str("/21/S1", "path",
	    "path must begin with /01/{gtin}, not AI 21");
	expect_path_error_str("/01/09506000134352/21/S1/10/L1", "path",
	    "AI 10 out of order at byte 25");
	expect_path_error_str("/01/09506000134352/10/L1/10/L2", "path",
	    "AI 10 out of order");
	expect_path_error_str("/01/09506000134352/01/09506000134352", "path",
	    "AI 01 out of order");
	expect_path_error_str("/01/09506000134352/21/S1/21/S2", "path",
	    "AI 21 out of order");

	/* Values. */
	expect_path_error_str("/01/09506000134353", "gtin",
	    "GTIN check digit is 3, expected 2");
	expect_path_error_str("/01/095060001", "gtin", "not 9");
	expect_path_error_str("/01/0950600013", "gtin", "not 10");
	expect_path_error_str("/01/09506000134", "gtin", "not 11");
	expect_path_error_str("/01/009506000134352", "gtin", "not 15");
	expect_path_error_str("/01/0950600013435A", "gtin", "digits only");
	expect_path_error_str("/01/09506000134352/10/%C3%A9", "lot",
	    "byte 0xC3 at position 0");
	expect_path_error_str("/01/09506000134352/10/L%23", "lot",
	    "character '#' at position 1");
	expect_path_error_str("/01/09506000134352/10/L%20", "lot",
	    "byte 0x20 at position 1");
	expect_path_error_str("/01/09506000134352/10/~", "lot",
	    "character '~' at position 0");
	expect_path_error_str("/01/09506000134352/10/123456789012345678901",
	    "lot", "21 characters");
	expect_path_error_str("/01/09506000134352/10/L/21/"
	    "123456789012345678901", "serial", "21 characters");
	expect_path_error_str("/01/09506000134352/10/L/21/S$", "serial",
	    "character '$' at position 1");

	/* A segment is bounded before it is decoded. */
	memset(seg61, 'A', sizeof(seg61));
	memcpy(seg61, "/01/09506000134352/10/", 22);
	expect_path_error(seg61, 22 + 61, "path",
	    "segment at byte 22 is 61 bytes long, at most 60 allowed");

	/* err may be NULL. */
	CHECK_INT(gs1_link_parse_path("/01/x", 5, &link, NULL),
	    TRACE_EMALFORMED);
}

/* Format, then parse the path back (after the base): same link. */
static void
round_trip(const char *lot, const char *serial)
{
	struct gs1_link in, back;
	struct trace_error err;
	const char *base = "https://trace.example/r";
	char uri[512];
	size_t n;

	memset(&in, 0, sizeof(in));
	memcpy(in.gtin, "09506000134352", GTIN14_LEN + 1);
	snprintf(in.lot, sizeof(in.lot), "%s", lot);
	snprintf(in.serial, sizeof(in.serial), "%s", serial);
	n = gs1_link_format(base, &in, uri, sizeof(uri));
	CHECK_MSG(n > strlen(base), "format \"%s\" \"%s\"", lot, serial);
	/* Nothing but unreserved characters, '/' and escapes in the URI. */
	for (size_t i = strlen(base); i < n; i++)
		CHECK_MSG(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
		    "nopqrstuvwxyz0123456789-._~/%", uri[i]) != NULL,
		    "\"%s\"", uri);
	trace_error_clear(&err);
	CHECK_MSG(gs1_link_parse_path(uri + strlen(base), n - strlen(base),
	    &back, &err) == TRACE_OK, "%s: %s", uri, err.message);
	CHECK_STR(back.gtin, in.gtin);
	CHECK_STR(back.lot, in.lot);
	CHECK_STR(back.serial, in.serial);
}

/*
 * Every escape %XY of a lot's one byte, with hex digits in either case: the
 * same answer for both cases, the byte itself when it is in set 82, and
 * "bad percent escape" whenever either digit is not a hex digit.
 */
static void
test_percent_decode_all(void)
{
	static const char digits[] = "0123456789abcdef";
	static const char upper[] = "0123456789ABCDEF";
	const char *head = "/01/09506000134352/10/X";
	char path[64];
	struct gs1_link link;
	struct trace_error err;

	for (int b = 1; b < 256; b++) {
		bool in_set = strchr(set82, b) != NULL;
		enum trace_status lower_rc, upper_rc;
		char lower_lot[sizeof(link.lot)];

		snprintf(path, sizeof(path), "%s%%%c%c", head, digits[b >> 4],
		    digits[b & 15]);
		lower_rc = gs1_link_parse_path(path, strlen(path), &link, &err);
		snprintf(lower_lot, sizeof(lower_lot), "%s", link.lot);
		snprintf(path, sizeof(path), "%s%%%c%c", head, upper[b >> 4],
		    upper[b & 15]);
		upper_rc = gs1_link_parse_path(path, strlen(path), &link, &err);
		CHECK_MSG(lower_rc == upper_rc && strcmp(lower_lot, link.lot) ==
		    0, "byte 0x%02X: the two cases differ", b);
		CHECK_MSG((upper_rc == TRACE_OK) == in_set, "byte 0x%02X: "
		    "status %d", b, upper_rc);
		if (in_set)
			CHECK_MSG(link.lot[0] == 'X' && link.lot[1] == (char)b &&
			    link.lot[2] == '\0', "byte 0x%02X: lot \"%s\"", b,
			    link.lot);
	}
	/* A non-hex character in either place of the escape. */
	for (int c = 1; c < 256; c++) {
		bool hex = strchr(digits, c) != NULL || strchr(upper, c) != NULL;

		if (hex)
			continue;
		snprintf(path, sizeof(path), "%s%%%c1", head, c);
		expect_path_error(path, strlen(path), "path",
		    "bad percent escape at byte 23");
		snprintf(path, sizeof(path), "%s%%1%c", head, c);
		expect_path_error(path, strlen(path), "path",
		    "bad percent escape at byte 23");
	}
}

static void
test_round_trips(void)
{
	struct gs1_link link = { "09506000134352", "L#1", "" }, back;
	struct trace_error err;
	char uri[256];

	round_trip("L2311A", "");
	round_trip("L2311A", "S-00001");
	round_trip("A/B", "");
	round_trip("/", "/");
	round_trip("100%", "%25");
	round_trip("WHY?", "?x=1");
	round_trip("A&B", "a=b&c=d");
	round_trip("...", "a..b");
	round_trip("\"<>\"", "'()*+,");
	round_trip(":;=", "_");
	/* All of set 82, twenty at a time. */
	for (size_t i = 0; i + GS1_ATTR_MAX <= sizeof(set82) - 1; i++) {
		char chunk[GS1_ATTR_MAX + 1];

		memcpy(chunk, set82 + i, GS1_ATTR_MAX);
		chunk[GS1_ATTR_MAX] = '\0';
		round_trip(chunk, chunk);
	}
	/* '#' is not in set 82: it is encoded, and the parser refuses it. */
	CHECK_INT(gs1_link_format(NULL, &link, uri, sizeof(uri)), 27);
	CHECK_STR(uri, "/01/09506000134352/10/L%231");
	trace_error_clear(&err);
	CHECK_INT(gs1_link_parse_path(uri, strlen(uri), &back, &err),
	    TRACE_EMALFORMED);
	CHECK_STR(err.field, "lot");
}

int
main(void)
{
	test_check_digit();
	test_gtin_normalize();
	test_attr();
	test_percent_encode();
	test_chain_id();
	test_link_format();
	test_link_parse();
	test_percent_decode_all();
	test_round_trips();
	CHECK_DONE();
}
