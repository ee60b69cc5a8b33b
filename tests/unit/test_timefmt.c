/*
 * test_timefmt.c - RFC 3339 and dates, and the vocabularies in codes.c.
 */
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
}

int
main(void)
{
	test_rfc3339();
	test_dates();
	test_codes();
	CHECK_DONE();
}
