/*
 * test_parse.c - trace-server's parsers of untrusted text (parse.c):
 * percent-escapes, query strings in both modes, chain paths, language tags
 * and Accept-Language, label runs and --redis addresses.  Every accepted input
 * is checked to the byte; every way an input can be wrong has a case that
 * checks the status, the error code and the field it names.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "trace-server/parse.h"

/* The error of a refused call, for one-line checks. */
static struct trace_error err;

static bool
failed_with(enum trace_status rc, const char *code, const char *field)
{
	return rc == TRACE_EMALFORMED && err.status == TRACE_EMALFORMED &&
	    strcmp(err.code, code) == 0 && strcmp(err.field, field) == 0;
}

/* ---- percent-escapes ----------------------------------------------------- */

static bool
decodes(const char *in, bool plus, const char *want, size_t want_len)
{
	char out[64];
	size_t n = 99;

	return parse_percent_decode(in, strlen(in), plus, out, &n, NULL) ==
	    TRACE_OK && n == want_len && memcmp(out, want, n) == 0 &&
	    out[n] == '\0';
}

static bool
escape_refused(const char *in)
{
	char out[64];
	size_t n = 99;

	trace_error_clear(&err);
	return failed_with(parse_percent_decode(in, strlen(in), true, out, &n,
	    &err), "bad_escape", "") && n == 99;
}

static void
test_percent(void)
{
	CHECK(decodes("", true, "", 0));
	CHECK(decodes("abc", true, "abc", 3));
	CHECK(decodes("a%20b", true, "a b", 3));
	/* RFC 3986 2.1: either case of hex digit. */
	CHECK(decodes("%2f%2F", true, "//", 2));
	CHECK(decodes("%e9%9f%a9", true, "\xe9\x9f\xa9", 3));
	CHECK(decodes("a+b", true, "a b", 3));
	CHECK(decodes("a+b", false, "a+b", 3));
	CHECK(decodes("%2B", true, "+", 1));
	/* A decoded NUL is data: the length says so. */
	CHECK(decodes("a%00b", true, "a\0b", 3));
	CHECK(decodes("%25", true, "%", 1));
	/* Refused: a '%' without two hex digits after it. */
	CHECK(escape_refused("%"));
	CHECK(escape_refused("a%"));
	CHECK(escape_refused("%4"));
	CHECK(escape_refused("a%4"));
	CHECK(escape_refused("%zz"));
	CHECK(escape_refused("%g0"));
	CHECK(escape_refused("%0g"));
	CHECK(escape_refused("%%41"));
	CHECK(escape_refused("%-1"));
	CHECK(escape_refused("ok%2"));
	/* Only len bytes are read, whatever follows them. */
	{
		char out[8];
		size_t n = 99;

		CHECK_INT(parse_percent_decode("%41", 2, true, out, &n, NULL),
		    TRACE_EMALFORMED);
		CHECK_INT(parse_percent_decode("a+b", 1, true, out, &n, NULL),
		    TRACE_OK);
		CHECK_INT(n, 1);
		CHECK_STR(out, "a");
	}
}

/* ---- query strings ------------------------------------------------------- */

static const char *const recall_names[] = { "gtin", "lot", "status",
	"since", "until", "org", "cursor", "limit", "format", NULL };

static bool
query_refused(const char *q, const char *const *allowed,
    enum parse_unknown unknown, const char *code, const char *field)
{
	struct query_fields f;
	enum trace_status rc;

	trace_error_clear(&err);
	rc = parse_query(q, allowed, unknown, &f, &err);
	/* A refusal leaves nothing to release. */
	return failed_with(rc, code, field) && f.storage == NULL &&
	    f.count == 0;
}

static void
test_query_accepted(void)
{
	static const char *const lang[] = { "lang", NULL };
	struct query_fields f;
	const struct query_field *x;

	/* None at all. */
	CHECK_INT(parse_query(NULL, recall_names, PARSE_UNKNOWN_REFUSED, &f,
	    &err), TRACE_OK);
	CHECK_INT(f.count, 0);
	CHECK(f.storage == NULL);
	CHECK_INT(parse_query("", recall_names, PARSE_UNKNOWN_REFUSED, &f,
	    &err), TRACE_OK);
	CHECK_INT(f.count, 0);
	parse_query_clear(&f);

	/* Decoded names and values, in order. */
	CHECK_INT(parse_query("gtin=08801234567893&lot=A%2FB+1&org=%E9%9F%A9",
	    recall_names, PARSE_UNKNOWN_REFUSED, &f, &err), TRACE_OK);
	CHECK_INT(f.count, 3);
	CHECK_STR(f.items[0].name, "gtin");
	CHECK_STR(f.items[0].value, "08801234567893");
	CHECK_INT(f.items[0].value_len, 14);
	CHECK_STR(f.items[1].name, "lot");
	CHECK_STR(f.items[1].value, "A/B 1");
	CHECK_INT(f.items[1].value_len, 5);
	CHECK_STR(f.items[2].value, "\xe9\x9f\xa9");
	CHECK_INT(f.items[2].value_len, 3);
	CHECK_STR(parse_query_value(&f, "lot"), "A/B 1");
	CHECK(parse_query_get(&f, "status") == NULL);
	CHECK(parse_query_value(&f, "status") == NULL);
	parse_query_clear(&f);
	CHECK(f.storage == NULL && f.count == 0);

	/* Empty values are kept as given-but-empty; empty pieces skipped;
	 * '=' inside a value is data. */
	CHECK_INT(parse_query("&&lot=&status&cursor=a=b&", recall_names,
	    PARSE_UNKNOWN_REFUSED, &f, &err), TRACE_OK);
	CHECK_INT(f.count, 3);
	x = parse_query_get(&f, "lot");
	CHECK(x != NULL && x->value == NULL && x->value_len == 0);
	x = parse_query_get(&f, "status");
	CHECK(x != NULL && x->value == NULL && x->value_len == 0);
	CHECK_STR(parse_query_value(&f, "lot"), "");
	CHECK_STR(parse_query_value(&f, "status"), "");
	CHECK_STR(parse_query_value(&f, "cursor"), "a=b");
	parse_query_clear(&f);

	/* An escaped name is the name. */
	CHECK_INT(parse_query("%6Cot=L1", recall_names, PARSE_UNKNOWN_REFUSED,
	    &f, &err), TRACE_OK);
	CHECK_STR(parse_query_value(&f, "lot"), "L1");
	parse_query_clear(&f);

	/* Ignored mode: other names are skipped unread, even malformed
	 * ones, and never count against the limit. */
	CHECK_INT(parse_query("utm=%zz&lang=ko&%zz=1&x=%00&lang2=en&LANG=en&"
	    "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11&l=12&m=13&n=14&"
	    "o=15&p=16&q=17", lang, PARSE_UNKNOWN_IGNORED, &f, &err), TRACE_OK);
	CHECK_INT(f.count, 1);
	CHECK_STR(parse_query_value(&f, "lang"), "ko");
	parse_query_clear(&f);
	CHECK_INT(parse_query("utm=1", lang, PARSE_UNKNOWN_IGNORED, &f, &err),
	    TRACE_OK);
	CHECK_INT(f.count, 0);
	CHECK(parse_query_value(&f, "lang") == NULL);
	parse_query_clear(&f);

	/* Exactly PARSE_QUERY_FIELDS_MAX parameters. */
	{
		static const char *const many[] = { "a", "b", "c", "d", "e",
			"f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p",
			"q", NULL };

		CHECK_INT(parse_query("a=1&b&c=&d=4&e=5&f=6&g=7&h=8&i=9&j=10&"
		    "k=11&l=12&m=13&n=14&o=15&p=16", many, PARSE_UNKNOWN_REFUSED,
		    &f, &err), TRACE_OK);
		CHECK_INT(f.count, PARSE_QUERY_FIELDS_MAX);
		CHECK_STR(parse_query_value(&f, "p"), "16");
		parse_query_clear(&f);
	}

	/* Exactly PARSE_QUERY_MAX bytes. */
	{
		static char q[PARSE_QUERY_MAX + 2];

		memcpy(q, "org=", 4);
		memset(q + 4, 'x', PARSE_QUERY_MAX - 4);
		q[PARSE_QUERY_MAX] = '\0';
		CHECK_INT(parse_query(q, recall_names, PARSE_UNKNOWN_REFUSED,
		    &f, &err), TRACE_OK);
		CHECK_INT(parse_query_get(&f, "org")->value_len,
		    PARSE_QUERY_MAX - 4);
		parse_query_clear(&f);
		/* One more byte is refused (below). */
		q[PARSE_QUERY_MAX] = 'x';
		q[PARSE_QUERY_MAX + 1] = '\0';
		CHECK(query_refused(q, recall_names, PARSE_UNKNOWN_REFUSED,
		    "bad_query", ""));
		CHECK(query_refused(q, recall_names, PARSE_UNKNOWN_IGNORED,
		    "bad_query", ""));
	}
	parse_query_clear(NULL);
}

static void
test_query_refused(void)
{
	static const char *const lang[] = { "lang", NULL };
	static const char *const many[] = { "a", "b", "c", "d", "e", "f",
		"g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", NULL };
	static char long_name[100];

	/* An unknown name, named in field. */
	CHECK(query_refused("gtin=1&bogus=1", recall_names,
	    PARSE_UNKNOWN_REFUSED, "unknown_parameter", "bogus"));
	CHECK(query_refused("bogus", recall_names, PARSE_UNKNOWN_REFUSED,
	    "unknown_parameter", "bogus"));
	CHECK_STR(err.message, "unknown query parameter");
	/* Names are case-sensitive. */
	CHECK(query_refused("GTIN=1", recall_names, PARSE_UNKNOWN_REFUSED,
	    "unknown_parameter", "GTIN"));
	/* An unknown name that cannot be shown is not echoed. */
	CHECK(query_refused("%FF=1", recall_names, PARSE_UNKNOWN_REFUSED,
	    "unknown_parameter", ""));
	memset(long_name, 'n', 64);
	CHECK(query_refused(long_name, recall_names, PARSE_UNKNOWN_REFUSED,
	    "unknown_parameter", ""));
	long_name[63] = '\0';
	CHECK(query_refused(long_name, recall_names, PARSE_UNKNOWN_REFUSED,
	    "unknown_parameter", long_name));
	/* A NUL inside a name makes it no allowed name. */
	CHECK(query_refused("lot%00=1", recall_names, PARSE_UNKNOWN_REFUSED,
	    "unknown_parameter", "lot"));
	CHECK(query_refused("lot%00x=1", lang, PARSE_UNKNOWN_REFUSED,
	    "unknown_parameter", "lot"));

	/* A bad escape in a name: the query string itself is malformed. */
	CHECK(query_refused("lo%zt=1", recall_names, PARSE_UNKNOWN_REFUSED,
	    "bad_query", ""));
	CHECK(query_refused("gtin=1&%=1", recall_names, PARSE_UNKNOWN_REFUSED,
	    "bad_query", ""));
	CHECK_STR(err.message, "a query parameter name has a bad %-escape");

	/* Values: bad escape, NUL, invalid UTF-8 (in both modes). */
	CHECK(query_refused("lot=%zz", recall_names, PARSE_UNKNOWN_REFUSED,
	    "bad_parameter", "lot"));
	CHECK_STR(err.message, "lot: bad %-escape, NUL or invalid UTF-8");
	CHECK(query_refused("lot=a%", recall_names, PARSE_UNKNOWN_REFUSED,
	    "bad_parameter", "lot"));
	CHECK(query_refused("lot=a%0", recall_names, PARSE_UNKNOWN_REFUSED,
	    "bad_parameter", "lot"));
	CHECK(query_refused("lot=a%00", recall_names, PARSE_UNKNOWN_REFUSED,
	    "bad_parameter", "lot"));
	CHECK(query_refused("lot=%FF", recall_names, PARSE_UNKNOWN_REFUSED,
	    "bad_parameter", "lot"));
	CHECK(query_refused("lot=%C0%AF", recall_names, PARSE_UNKNOWN_REFUSED,
	    "bad_parameter", "lot"));          /* overlong '/' */
	CHECK(query_refused("lot=%ED%A0%80", recall_names,
	    PARSE_UNKNOWN_REFUSED, "bad_parameter", "lot"));  /* surrogate */
	CHECK(query_refused("lang=%zz", lang, PARSE_UNKNOWN_IGNORED,
	    "bad_parameter", "lang"));
	CHECK(query_refused("lang=en%00", lang, PARSE_UNKNOWN_IGNORED,
	    "bad_parameter", "lang"));

	/* A name given twice, empty or not (in both modes). */
	CHECK(query_refused("lot=A&lot=B", recall_names, PARSE_UNKNOWN_REFUSED,
	    "bad_parameter", "lot"));
	CHECK_STR(err.message, "lot is given more than once");
	CHECK(query_refused("lot=&lot=", recall_names, PARSE_UNKNOWN_REFUSED,
	    "bad_parameter", "lot"));
	CHECK(query_refused("lot&lot=B", recall_names, PARSE_UNKNOWN_REFUSED,
	    "bad_parameter", "lot"));
	CHECK(query_refused("lot=A&%6Cot=B", recall_names,
	    PARSE_UNKNOWN_REFUSED, "bad_parameter", "lot"));
	CHECK(query_refused("lang=en&x=1&lang=ko", lang, PARSE_UNKNOWN_IGNORED,
	    "bad_parameter", "lang"));

	/* More than PARSE_QUERY_FIELDS_MAX parameters. */
	CHECK(query_refused("a=1&b&c=&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11&l=12&"
	    "m=13&n=14&o=15&p=16&q=17", many, PARSE_UNKNOWN_REFUSED,
	    "bad_query", ""));
	CHECK_STR(err.message, "too many parameters");
}

/* ---- languages ----------------------------------------------------------- */

static const char *const langs[] = { "zh", "en", "ko" };

static int
tag(const char *t)
{
	return parse_language_tag(t, strlen(t), langs, 3);
}

static int
accept_lang(const char *v)
{
	return parse_accept_language(v, langs, 3);
}

static void
test_languages(void)
{
	CHECK_INT(tag("zh"), 0);
	CHECK_INT(tag("zh-CN"), 0);
	CHECK_INT(tag("zh_TW"), 0);
	CHECK_INT(tag("EN"), 1);
	CHECK_INT(tag("en-GB-oxendict"), 1);
	CHECK_INT(tag("ko-KR"), 2);
	/* Not a supported primary subtag. */
	CHECK_INT(tag(""), -1);
	CHECK_INT(tag("e"), -1);
	CHECK_INT(tag("fr"), -1);
	CHECK_INT(tag("eng"), -1);
	CHECK_INT(tag("en-"), 1);
	CHECK_INT(tag("enUS"), -1);
	CHECK_INT(tag("*"), -1);
	CHECK_INT(parse_language_tag("ko", 1, langs, 3), -1);
	CHECK_INT(parse_language_tag("en", 2, langs, 1), -1);

	/* Order, then q. */
	CHECK_INT(accept_lang("ko-KR,ko;q=0.9,en;q=0.8"), 2);
	CHECK_INT(accept_lang("fr-FR,en-US;q=0.7,zh;q=0.3"), 1);
	CHECK_INT(accept_lang("en;q=0.5, ko;q=0.8"), 2);
	CHECK_INT(accept_lang("en;q=0.8,ko;q=0.8"), 1);
	CHECK_INT(accept_lang("zh;q=0.1,ko"), 2);
	CHECK_INT(accept_lang("en;Q=0.2;foo=bar, zh ;q=0.3"), 0);
	CHECK_INT(accept_lang("ko;level=1;q=0.4,en;q=0.3"), 2);
	/* q to three decimals; a fourth does not count; capped at 1. */
	CHECK_INT(accept_lang("en;q=0.001,ko;q=0.0009"), 1);
	CHECK_INT(accept_lang("en;q=0.5,ko;q=1.5"), 2);
	CHECK_INT(accept_lang("en,ko;q=1.5"), 1);
	CHECK_INT(accept_lang("en;q=1,ko;q=1.000"), 1);
	/* None supported, q=0, or nothing usable. */
	CHECK_INT(accept_lang(""), -1);
	CHECK_INT(accept_lang("de,fr"), -1);
	CHECK_INT(accept_lang("*"), -1);
	CHECK_INT(accept_lang("en;q=0"), -1);
	CHECK_INT(accept_lang("en;q=0.000,fr"), -1);
	CHECK_INT(accept_lang("en;q=x"), -1);
	CHECK_INT(accept_lang(",,;;q=,"), -1);
	CHECK_INT(accept_lang("english"), -1);
}

/* ---- chain paths --------------------------------------------------------- */

static bool
chain_is(const char *path, const char *want)
{
	char chain[CHAIN_ID_MAX + 1];

	return parse_chain_path(path, chain, NULL) == TRACE_OK &&
	    strcmp(chain, want) == 0;
}

static void
test_chain_paths(void)
{
	char chain[CHAIN_ID_MAX + 1];

	CHECK(chain_is("/01/08801234567893/10/L1", "01/08801234567893/10/L1"));
	/* GTIN-13 normalised; an encoded '/' in a lot stays data. */
	CHECK(chain_is("/01/8801234567893/10/A%2FB", "01/08801234567893/10/A%2FB"));
	/* A lot is required, a serial is not a chain. */
	trace_error_clear(&err);
	CHECK(failed_with(parse_chain_path("/01/08801234567893", chain, &err),
	    "invalid_link", "path"));
	CHECK_STR(err.message, "a chain path is /01/{gtin}/10/{lot}");
	trace_error_clear(&err);
	CHECK(failed_with(parse_chain_path("/01/08801234567893/10/L1/21/7",
	    chain, &err), "invalid_link", "path"));
	/* The Digital Link's own errors come through. */
	trace_error_clear(&err);
	CHECK(parse_chain_path("/01/08801234567890/10/L1", chain, &err) ==
	    TRACE_EMALFORMED && strcmp(err.field, "gtin") == 0);
	trace_error_clear(&err);
	CHECK(parse_chain_path("", chain, &err) == TRACE_EMALFORMED);
	CHECK(parse_chain_path("/01/08801234567893/10/L1/", chain, NULL) ==
	    TRACE_EMALFORMED);
	CHECK(parse_chain_path("/01/08801234567893/10/a%ZZ", chain, NULL) ==
	    TRACE_EMALFORMED);
}

/* ---- label runs ---------------------------------------------------------- */

static bool
run_is(const char *from, const char *count, const char *prefix,
    unsigned long long first, int width, int n)
{
	struct label_run run;

	return parse_label_run(from, count, &run, NULL) == TRACE_OK &&
	    strcmp(run.prefix, prefix) == 0 && run.first == first &&
	    run.width == width && run.count == n;
}

static bool
run_refused(const char *from, const char *count, const char *code,
    const char *field)
{
	struct label_run run;

	trace_error_clear(&err);
	return failed_with(parse_label_run(from, count, &run, &err), code,
	    field);
}

static void
test_label_runs(void)
{
	CHECK(run_is(NULL, NULL, "", 1, 6, LABELS_DEFAULT));
	CHECK(run_is("SN0098", "3", "SN", 98, 4, 3));
	CHECK(run_is("000001", "200", "", 1, 6, 200));
	CHECK(run_is("7", "1", "", 7, 1, 1));
	CHECK(run_is("A-1.2", "00021", "A-1.", 2, 1, 21));
	CHECK(run_is("X999999999999999999", NULL, "X", 999999999999999999ULL,
	    18, LABELS_DEFAULT));
	CHECK(run_is("AB345678901234567890", NULL, "AB",
	    345678901234567890ULL, 18, LABELS_DEFAULT));

	/* from: not a serial, or no number to count up from. */
	CHECK(run_refused("", NULL, "invalid_value", "from"));
	CHECK(run_refused("ABC", NULL, "invalid_value", "from"));
	CHECK_STR(err.message, "from must end in 1-18 digits to count up from");
	CHECK(run_refused("1234567890123456789", NULL, "invalid_value", "from"));
	CHECK(run_refused("123456789012345678901", NULL, "invalid_value",
	    "from"));
	CHECK(run_refused("<1> ", NULL, "invalid_value", "from"));
	CHECK_STR(err.message, "from must be a serial: 1-20 characters of GS1 "
	    "set 82");
	CHECK(run_refused("SN 1", NULL, "invalid_value", "from"));
	CHECK(run_refused("\xc3\xa9" "1", NULL, "invalid_value", "from"));
	/* count: not decimal digits for 1..LABELS_MAX. */
	CHECK(run_refused("1", "", "bad_count", "count"));
	CHECK_STR(err.message, "count is 1 to 200 labels");
	CHECK(run_refused("1", "0", "bad_count", "count"));
	CHECK(run_refused("1", "201", "bad_count", "count"));
	CHECK(run_refused("1", "-1", "bad_count", "count"));
	CHECK(run_refused("1", "+1", "bad_count", "count"));
	CHECK(run_refused("1", " 1", "bad_count", "count"));
	CHECK(run_refused("1", "1 ", "bad_count", "count"));
	CHECK(run_refused("1", "x", "bad_count", "count"));
	CHECK(run_refused("1", "1e2", "bad_count", "count"));
	CHECK(run_refused("1", "99999999999999999999999", "bad_count",
	    "count"));
	/* from is checked first. */
	CHECK(run_refused("", "0", "invalid_value", "from"));
}

/* ---- --redis addresses --------------------------------------------------- */

static struct store_address addr;

static bool
redis_ok(const char *url)
{
	return parse_redis_address(url, &addr, NULL) == TRACE_OK;
}

static bool
redis_refused(const char *url)
{
	static const struct store_address zero;

	trace_error_clear(&err);
	return failed_with(parse_redis_address(url, &addr, &err),
	    "bad_redis_url", "redis") && memcmp(&addr, &zero,
	    sizeof(addr)) == 0 && strstr(err.message, "secret") == NULL;
}

static void
test_redis(void)
{
	char url[600];

	CHECK(redis_ok("redis://127.0.0.1:6379"));
	CHECK(!addr.unix_socket && !addr.sentinel);
	CHECK_STR(addr.host, "127.0.0.1");
	CHECK_INT(addr.port, 6379);
	CHECK_STR(addr.user, "");
	CHECK_STR(addr.password, "");
	CHECK(redis_ok("redis://db.local/"));
	CHECK_STR(addr.host, "db.local");
	CHECK_INT(addr.port, 6379);
	CHECK(redis_ok("redis://:s3cret@h:1"));
	CHECK_STR(addr.user, "");
	CHECK_STR(addr.password, "s3cret");
	CHECK_STR(addr.host, "h");
	CHECK_INT(addr.port, 1);
	/* The last '@' ends the password. */
	CHECK(redis_ok("redis://trace:p@ss:w@[::1]:65535"));
	CHECK_STR(addr.user, "trace");
	CHECK_STR(addr.password, "p@ss:w");
	CHECK_STR(addr.host, "::1");
	CHECK_INT(addr.port, 65535);
	CHECK(redis_ok("redis://[fe80::1]"));
	CHECK_STR(addr.host, "fe80::1");
	CHECK_INT(addr.port, 6379);
	CHECK(redis_ok("unix:/run/redis/redis.sock"));
	CHECK(addr.unix_socket && !addr.sentinel);
	CHECK_STR(addr.path, "/run/redis/redis.sock");
	CHECK(redis_ok("sentinel://trace:pw@10.0.0.21,10.0.0.22:26380,"
	    "[::1]/trace"));
	CHECK(addr.sentinel && !addr.unix_socket);
	CHECK_STR(addr.master, "trace");
	CHECK_INT(addr.sentinel_count, 3);
	CHECK_STR(addr.sentinels[0].host, "10.0.0.21");
	CHECK_INT(addr.sentinels[0].port, 26379);
	CHECK_STR(addr.sentinels[1].host, "10.0.0.22");
	CHECK_INT(addr.sentinels[1].port, 26380);
	CHECK_STR(addr.sentinels[2].host, "::1");
	CHECK_INT(addr.sentinels[2].port, 26379);
	CHECK_STR(addr.user, "trace");
	CHECK_STR(addr.password, "pw");
	CHECK(redis_ok("sentinel://a,b,c,d,e,f,g,h/m"));
	CHECK_INT(addr.sentinel_count, STORE_SENTINELS_MAX);
	CHECK_STR(addr.sentinels[7].host, "h");

	/* Scheme. */
	CHECK(redis_refused(""));
	CHECK(redis_refused("127.0.0.1:6379"));
	CHECK(redis_refused("rediss://h"));
	CHECK(redis_refused("REDIS://h"));
	/* Host and port. */
	CHECK(redis_refused("redis://"));
	CHECK(redis_refused("redis:///"));
	CHECK(redis_refused("redis://:6379"));
	CHECK(redis_refused("redis://h:"));
	CHECK(redis_refused("redis://h:0"));
	CHECK(redis_refused("redis://h:65536"));
	CHECK(redis_refused("redis://h:123456"));
	CHECK(redis_refused("redis://h:-1"));
	CHECK(redis_refused("redis://h:6x"));
	CHECK(redis_refused("redis://h/0"));
	CHECK(redis_refused("redis://a b"));
	CHECK(redis_refused("redis://a,b"));
	CHECK(redis_refused("redis://[::1"));
	CHECK(redis_refused("redis://[::1]x"));
	CHECK(redis_refused("redis://[]:1"));
	/* User info. */
	CHECK(redis_refused("redis://user@h"));
	CHECK(redis_refused("redis://user:@h"));
	CHECK(redis_refused("redis://:secret@"));
	/* unix: */
	CHECK(redis_refused("unix:"));
	memcpy(url, "unix:", 5);
	memset(url + 5, 'p', 256);
	url[5 + 256] = '\0';
	CHECK(redis_refused(url));
	url[5 + 255] = '\0';
	CHECK(redis_ok(url));
	CHECK_INT(strlen(addr.path), 255);
	/* Too long for the address. */
	memcpy(url, "redis://", 8);
	memset(url + 8, 'h', 256);
	url[8 + 256] = '\0';
	CHECK(redis_refused(url));
	url[8 + 255] = '\0';
	CHECK(redis_ok(url));
	CHECK_INT(strlen(addr.host), 255);
	/* sentinel:// */
	CHECK(redis_refused("sentinel://h"));
	CHECK(redis_refused("sentinel://h/"));
	CHECK(redis_refused("sentinel:///m"));
	CHECK(redis_refused("sentinel://h,/m"));
	CHECK(redis_refused("sentinel://,h/m"));
	CHECK(redis_refused("sentinel://h,,i/m"));
	CHECK(redis_refused("sentinel://h/m x"));
	CHECK(redis_refused("sentinel://h/m\x7f"));
	CHECK(redis_refused("sentinel://h:0/m"));
	CHECK(redis_refused("sentinel://a,b,c,d,e,f,g,h,i/m"));
	CHECK(redis_refused("sentinel://user@h/m"));
	/* The message never echoes the URL (it may hold a password). */
	CHECK(redis_refused("redis://u:secret@h:0"));
	CHECK(redis_refused("sentinel://u:secret@/m"));
}

int
main(void)
{
	test_percent();
	test_query_accepted();
	test_query_refused();
	test_chain_paths();
	test_languages();
	test_label_runs();
	test_redis();
	CHECK_DONE();
}
