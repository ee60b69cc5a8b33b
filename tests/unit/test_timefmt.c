/*
 * test_timefmt.c - RFC 3339, dates and durations, and the vocabularies in
 * codes.c.
 */
#include <stdint.h>
#include <string.h>

#include "libtrace/codes.h"
#include "libtrace/timefmt.h"
#include "check.h"

static bool
parses(const char *s, long long *t, int *off)
{
	return time_parse_rfc3339(s, strlen(s), t, off);
}

static void
test_rfc3339(void)
{
	long long t = 0;
	int off = 0;
	char out[26];
	static const char *const bad[] = {
		"2026-11-20 08:30:00Z", "2026-11-20t08:30:00Z",
		"2026-11-20T08:30Z", "2026-11-20T08:30:00", "2026-11-20T24:00:00Z",
		"2026-11-20T08:60:00Z", "2026-11-20T08:30:60Z",
		"2026-02-29T08:30:00Z", "2026-13-01T00:00:00Z",
		"2026-00-01T00:00:00Z", "2026-11-00T00:00:00Z",
		"2026-11-20T08:30:00+0900", "2026-11-20T08:30:00+24:00",
		"2026-11-20T08:30:00.Z", "2026-11-20T08:30:00.1234567890Z",
		"2026-11-20T08:30:00z", "2026-11-20T08:30:00Z ",
		"+2026-11-20T08:30:00Z", "26-11-20T08:30:00Z",
		"2026-11-20T08:30:00+09:00:00", "1899-12-31T00:00:00Z", "",
	};

	CHECK(parses("1970-01-01T00:00:00Z", &t, &off));
	CHECK_INT(t, 0);
	CHECK(parses("2026-11-20T08:30:00+09:00", &t, &off));
	CHECK_INT(t, 1795131000);
	CHECK_INT(off, 540);
	CHECK(parses("2026-11-19T23:30:00Z", &t, &off));
	CHECK_INT(t, 1795131000);
	CHECK(parses("2026-11-19T18:30:00.123456789-05:00", &t, &off));
	CHECK_INT(t, 1795131000);
	CHECK_INT(off, -300);
	CHECK(parses("2024-02-29T12:00:00Z", &t, &off));
	CHECK(parses("2000-02-29T12:00:00Z", &t, &off));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(!parses(bad[i], &t, &off), "accepted \"%s\"", bad[i]);
	CHECK(!time_parse_rfc3339("2100-02-29T00:00:00Z", 20, &t, &off));

	time_format_utc(1795131000, out);
	CHECK_STR(out, "2026-11-19T23:30:00Z");
	time_format_offset(1795131000, 540, out);
	CHECK_STR(out, "2026-11-20T08:30:00+09:00");
	time_format_offset(1795131000, -300, out);
	CHECK_STR(out, "2026-11-19T18:30:00-05:00");
	time_format_utc(0, out);
	CHECK_STR(out, "1970-01-01T00:00:00Z");
	CHECK(time_now() > 1700000000);
	CHECK(time_now_ms() / 1000 >= time_now() - 1);
}

static void
test_dates(void)
{
	long long d = 0;

	CHECK(time_parse_date("2028-10-31", 10, &d));
	CHECK_INT(d, 1856563200);
	CHECK(!time_parse_date("2028-10-32", 10, &d));
	CHECK(!time_parse_date("2028-1-31", 9, &d));
	CHECK(!time_parse_date("2028/10/31", 10, &d));
	CHECK(!time_parse_date("2028-10-31T", 11, &d));
}


/* Encodes code point cp as UTF-8 between "a" and "b" into out; returns the
 * length. */
static size_t
utf8_between(uint32_t cp, char *out)
{
	size_t n = 0;

	out[n++] = 'a';
	if (cp < 0x80) {
		out[n++] = (char)cp;
	} else if (cp < 0x800) {
		out[n++] = (char)(0xc0 | cp >> 6);
		out[n++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[n++] = (char)(0xe0 | cp >> 12);
		out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[n++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[n++] = (char)(0xf0 | cp >> 18);
		out[n++] = (char)(0x80 | (cp >> 12 & 0x3f));
		out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[n++] = (char)(0x80 | (cp & 0x3f));
	}
	out[n++] = 'b';
	return n;
}

/* Bidirectional overrides and invisible characters (issue 17, item 11):
 * every code point of each refused range is not visible text (yet still
 * valid text, as round 1 stored it), its neighbours are both. */
static void
text_invisible_refused(void)
{
	static const uint32_t refused[][2] = {
		{ 0x00AD, 0x00AD }, { 0x034F, 0x034F }, { 0x061C, 0x061C },
		{ 0x115F, 0x1160 }, { 0x17B4, 0x17B5 }, { 0x180B, 0x180E },
		{ 0x200B, 0x200F }, { 0x2028, 0x202E }, { 0x2060, 0x206F },
		{ 0x3164, 0x3164 }, { 0xFEFF, 0xFEFF }, { 0xFFA0, 0xFFA0 },
		{ 0xFFF9, 0xFFFB }, { 0x1D173, 0x1D17A }, { 0xE0000, 0xE007F },
	};
	/* Neighbours of the ranges that are ordinary text. */
	static const uint32_t accepted[] = {
		0x00AC, 0x00AE, 0x034E, 0x0350, 0x061B, 0x061D, 0x115E, 0x1161,
		0x17B3, 0x17B6, 0x180A, 0x180F, 0x200A, 0x2010, 0x2027, 0x202F,
		0x205F, 0x2070, 0x3163, 0x3165, 0xFEFE, 0xFF9F, 0xFFA1, 0xFFF8,
		0xFFFC, 0x1D172, 0x1D17B, 0xE0100, 0xAC00, 0x4E2D, 0x1F600,
	};
	char text[8];
	int bad = 0;

	for (size_t r = 0; r < sizeof(refused) / sizeof(refused[0]); r++)
		for (uint32_t cp = refused[r][0]; cp <= refused[r][1]; cp++)
			if (text_visible(text, utf8_between(cp, text)) ||
			    !text_valid(text, utf8_between(cp, text), 10, true))
				bad++;
	CHECK(bad == 0);
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
		CHECK(text_valid(text, utf8_between(accepted[i], text), 10,
		    false) && text_visible(text, utf8_between(accepted[i], text)));
	/* "fail" shown as "liaf": RIGHT-TO-LEFT OVERRIDE, then the word.
	 * Refused in what is submitted now, readable in what is stored. */
	CHECK(!text_visible("\xe2\x80\xaeliaf", 7));
	CHECK(text_valid("\xe2\x80\xaeliaf", 7, 20, false));
	/* A truncated sequence at the end is refused, never read past. */
	CHECK(!text_valid("a\xe2\x80", 3, 10, false));
	CHECK(!text_visible("a\xe2\x80", 3));
}

static void
test_codes(void)
{
	CHECK(country_valid("KR", 2));
	CHECK(country_valid("CN", 2));
	CHECK(country_valid("JP", 2));
	CHECK(country_valid("AD", 2));
	CHECK(country_valid("ZW", 2));
	CHECK(!country_valid("XX", 2));
	CHECK(!country_valid("kr", 2));
	CHECK(!country_valid("KOR", 3));
	CHECK(!country_valid("UK", 2));
	CHECK(locode_valid("KRINC", 5));
	CHECK(locode_valid("CNWEI", 5));
	CHECK(locode_valid("CNSH2", 5));
	CHECK(!locode_valid("CNSH1", 5));
	CHECK(!locode_valid("XXINC", 5));
	CHECK(!locode_valid("KRIN", 4));
	CHECK(!locode_valid("krinc", 5));
	CHECK(language_tag_valid("zh", 2));
	CHECK(language_tag_valid("zh-Hans", 7));
	CHECK(language_tag_valid("en-US", 5));
	CHECK(!language_tag_valid("z", 1));
	CHECK(!language_tag_valid("ZH", 2));
	CHECK(!language_tag_valid("zh-", 3));
	CHECK(!language_tag_valid("zh_CN", 5));
	CHECK(text_valid("ok", 2, 10, false));
	CHECK(!text_valid("", 0, 10, false));
	CHECK(!text_valid("12345678901", 11, 10, false));
	CHECK(!text_valid("a\nb", 3, 10, false));
	CHECK(text_valid("a\nb", 3, 10, true));
	CHECK(!text_valid("a\rb", 3, 10, true));
	CHECK(!text_valid("a\x1b[31m", 6, 10, true));
	CHECK(!text_valid("a\xc2\x85", 3, 10, true));
	CHECK(!text_valid("\x7f", 1, 10, true));
	CHECK(text_valid("\xe9\x9b\xaa", 3, 10, false));
	text_invisible_refused();
}

/* --max-age, --grace (trace-server), --max-checkpoint-age (verify). */
static void
test_durations(void)
{
	static const struct { const char *text; long long seconds; } good[] = {
		{ "1", 1 }, { "3600", 3600 }, { "90s", 90 }, { "60m", 3600 },
		{ "1h", 3600 }, { "1H", 3600 }, { "30d", 2592000 },
		{ "36500d", 3153600000LL }, { "1000000000000", 1000000000000LL },
	};
	static const char *const bad[] = {
		"", "0", "0s", "-1", "1w", "1hh", "h", "1 h", " 1", "1.5h",
		"1000000000001", "11574074075d", "99999999999999999999",
	};
	long long v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		CHECK(time_parse_duration(good[i].text, &v));
		CHECK_INT(v, good[i].seconds);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = -1;
		CHECK(!time_parse_duration(bad[i], &v));
		CHECK_INT(v, -1);
	}
}

int
main(void)
{
	test_rfc3339();
	test_dates();
	test_durations();
	test_codes();
	CHECK_DONE();
}
