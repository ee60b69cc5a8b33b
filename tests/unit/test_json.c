/*
 * test_json.c - the strict parser accepts exactly JSON with unique keys,
 * integers and valid UTF-8, and names what it refuses; the writer round-trips.
 */
#include <stdlib.h>
#include <string.h>

#include "libtrace/json.h"
#include "check.h"

/* Parse s; return the status and leave code/field in err. */
static enum trace_status
parse(const char *s, size_t len, struct trace_error *err)
{
	struct json_doc *doc = NULL;
	enum trace_status rc = json_parse(s, len, NULL, &doc, err);

	json_doc_free(doc);
	return rc;
}

#define REJECT(text, want_code)                                              \
	do {                                                                 \
		struct trace_error e_;                                       \
		trace_error_clear(&e_);                                      \
		CHECK_MSG(parse(text, sizeof(text) - 1, &e_) != TRACE_OK,    \
		    "accepted %s", #text);                                   \
		CHECK_STR(e_.code, want_code);                               \
	} while (0)

#define ACCEPT(text)                                                         \
	do {                                                                 \
		struct trace_error e_;                                       \
		trace_error_clear(&e_);                                      \
		CHECK_MSG(parse(text, sizeof(text) - 1, &e_) == TRACE_OK,    \
		    "refused %s: %s", #text, e_.message);                    \
	} while (0)

static void
test_accepts(void)
{
	ACCEPT("{}");
	ACCEPT("[]");
	ACCEPT("0");
	ACCEPT("-9223372036854775808");
	ACCEPT("\"\"");
	ACCEPT(" { \"a\" : [ 1 , true , false , null , \"x\" ] } ");
	ACCEPT("{\"zh\":\"\xe9\x9b\xaa\xe8\x8a\xb1\xe7\xa7\x80\"}");
	ACCEPT("\"\\ud83d\\ude00 \xf0\x9f\x98\x80\"");
	ACCEPT("\"\\u00e9\\n\\t\\\"\\\\\\/\"");
	ACCEPT("{\"a\":{\"a\":1}}"); /* same key at different levels */
}

static void
test_rejects(void)
{
	REJECT("{\"a\":1,\"a\":2}", "duplicate_key");
	REJECT("{\"x\":{\"b\":1,\"c\":2,\"b\":3}}", "duplicate_key");
	REJECT("1.5", "float_not_allowed");
	REJECT("1e3", "float_not_allowed");
	REJECT("[1E3]", "float_not_allowed");
	REJECT("-0.0", "float_not_allowed");
	REJECT("9223372036854775808", "integer_out_of_range");
	REJECT("123456789012345678901234567890123", "integer_out_of_range");
	REJECT("{} x", "invalid_json");
	REJECT("{}{}", "invalid_json");
	REJECT("[1,]", "invalid_json");
	REJECT("{\"a\":1,}", "invalid_json");
	REJECT("/* c */ {}", "invalid_json");
	REJECT("{} // c", "invalid_json");
	REJECT("{'a':1}", "invalid_json");
	REJECT("[01]", "invalid_json");
	REJECT("[NaN]", "invalid_json");
	REJECT("[Infinity]", "invalid_json");
	REJECT("{\"a\"", "invalid_json");
	REJECT("[\"abc", "invalid_json");
	REJECT("", "invalid_json");
	REJECT("   ", "invalid_json");
	REJECT("\"a\tb\"", "invalid_json");       /* raw control character */
	REJECT("\"\\x41\"", "invalid_json");      /* bad escape */
	REJECT("\"\\u12\"", "invalid_json");      /* short escape */
	REJECT("\xef\xbb\xbf{}", "invalid_json"); /* BOM */
	/* Text-level checks from the pre-scan. */
	REJECT("\"a\0b\"", "invalid_text");
	REJECT("\"\\u0000\"", "invalid_text");
	REJECT("\"\\ud800\"", "invalid_text");
	REJECT("\"\\ud800x\"", "invalid_text");
	REJECT("\"\\udc00\"", "invalid_text");
	REJECT("\"\\ud800\\u0041\"", "invalid_text");
	REJECT("\"\xc3\"", "invalid_text");             /* truncated */
	REJECT("\"\xc0\xaf\"", "invalid_text");         /* overlong '/' */
	REJECT("\"\xe0\x80\xaf\"", "invalid_text");     /* overlong */
	REJECT("\"\xed\xa0\x80\"", "invalid_text");     /* surrogate */
	REJECT("\"\xf4\x90\x80\x80\"", "invalid_text"); /* > U+10FFFF */
	REJECT("\"\xff\"", "invalid_text");
	REJECT("\"\x80\"", "invalid_text");
	REJECT("{\"\xc3\x28\":1}", "invalid_text");
}

static void
test_limits(void)
{
	struct json_limits small = { .max_size = 64, .max_depth = 3,
		.max_string = 8, .max_values = 6 };
	struct json_doc *doc = NULL;
	struct trace_error err;
	char deep[200];

	CHECK_INT(json_parse("[[[1]]]", 7, &small, &doc, &err), TRACE_OK);
	json_doc_free(doc);
	CHECK_INT(json_parse("[[[[1]]]]", 9, &small, &doc, &err),
	    TRACE_EMALFORMED);
	CHECK_STR(err.code, "too_deep");
	CHECK_INT(json_parse("\"123456789\"", 11, &small, &doc, &err),
	    TRACE_ETOOBIG);
	CHECK_STR(err.code, "string_too_long");
	CHECK_INT(json_parse("{\"123456789\":1}", 15, &small, &doc, &err),
	    TRACE_ETOOBIG);
	CHECK_INT(json_parse("[1,2,3,4,5,6]", 13, &small, &doc, &err),
	    TRACE_ETOOBIG);
	CHECK_STR(err.code, "too_many_values");
	memset(deep, ' ', sizeof(deep));
	CHECK_INT(json_parse(deep, 65, &small, &doc, &err), TRACE_ETOOBIG);
	CHECK_STR(err.code, "too_large");
	/* The default depth bound holds against a deep array bomb. */
	memset(deep, '[', sizeof(deep));
	CHECK_INT(json_parse(deep, sizeof(deep), NULL, &doc, &err),
	    TRACE_EMALFORMED);
	CHECK_STR(err.code, "too_deep");
	CHECK(doc == NULL);
}

static void
test_paths(void)
{
	struct json_doc *doc = NULL;
	struct trace_error err;
	static const char t1[] = "{\"data\":{\"items\":[{\"v\":1},{\"v\":2.5}]}}";
	static const char t2[] = "{\"a\":[1,{\"k\":1,\"k\":1}]}";

	CHECK(json_parse(t1, sizeof(t1) - 1, NULL, &doc, &err) != TRACE_OK);
	CHECK_STR(err.field, "data.items[1].v");
	CHECK(json_parse(t2, sizeof(t2) - 1, NULL, &doc, &err) != TRACE_OK);
	CHECK_STR(err.field, "a[1].k");
	CHECK(json_parse("[1, x]", 6, NULL, &doc, &err) != TRACE_OK);
	CHECK(err.field[0] == '@');
	CHECK(json_parse("\"ab\xff\"", 5, NULL, &doc, &err) != TRACE_OK);
	CHECK_STR(err.field, "@3");
}

static void
test_large_object_duplicates(void)
{
	char buf[4096];
	size_t n = 0;
	struct json_doc *doc = NULL;
	struct trace_error err;

	/* 100 distinct keys: fine.  Then key 7 again: refused (sorted path). */
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\"k%d\":%d",
		    i ? "," : "", i, i);
	CHECK_INT(json_parse(buf, n, NULL, &doc, &err), TRACE_EMALFORMED);
	buf[n] = '}';
	CHECK_INT(json_parse(buf, n + 1, NULL, &doc, &err), TRACE_OK);
	json_doc_free(doc);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, ",\"k7\":0}");
	CHECK_INT(json_parse(buf, n, NULL, &doc, &err), TRACE_EMALFORMED);
	CHECK_STR(err.code, "duplicate_key");
	CHECK_STR(err.field, "k7");
}

static void
test_accessors(void)
{
	static const char text[] =
	    "{\"s\":\"x\\u00e9\",\"i\":-42,\"b\":true,\"o\":{},\"a\":[1],\"n\":null}";
	static const char *const allowed[] = { "s", "i", "b", "o", "a", "n",
		NULL };
	static const char *const fewer[] = { "s", "i", "b", "o", "a", NULL };
	struct json_doc *doc = NULL;
	const struct json_value *root, *v;
	struct trace_error err;
	const char *s = NULL;
	size_t len = 0;
	long long i = 0;
	bool b = false;

	CHECK_INT(json_parse(text, sizeof(text) - 1, NULL, &doc, &err),
	    TRACE_OK);
	root = json_doc_root(doc);
	CHECK_INT(json_get_string(root, "s", true, &s, &len, &err), TRACE_OK);
	CHECK_STR(s, "x\xc3\xa9");
	CHECK_INT(len, 3);
	CHECK_INT(json_get_int(root, "i", true, &i, &err), TRACE_OK);
	CHECK_INT(i, -42);
	CHECK_INT(json_get_bool(root, "b", true, &b, &err), TRACE_OK);
	CHECK(b);
	CHECK_INT(json_get_object(root, "o", true, &v, &err), TRACE_OK);
	CHECK_INT(json_get_array(root, "a", true, &v, &err), TRACE_OK);
	CHECK_INT(v->u.array.count, 1);
	CHECK_INT(json_get_string(root, "i", true, &s, &len, &err),
	    TRACE_EMALFORMED);
	CHECK_STR(err.code, "wrong_type");
	CHECK_STR(err.field, "i");
	CHECK_INT(json_get_int(root, "zz", true, &i, &err), TRACE_EMALFORMED);
	CHECK_STR(err.code, "missing_field");
	CHECK_STR(err.field, "zz");
	i = 7;
	CHECK_INT(json_get_int(root, "zz", false, &i, &err), TRACE_OK);
	CHECK_INT(i, 7);
	/* An absent optional string is NULL, not what the pointer held. */
	CHECK_INT(json_get_string(root, "zz", false, &s, &len, &err), TRACE_OK);
	CHECK(s == NULL);
	CHECK_INT(len, 0);
	CHECK_INT(json_object_only(root, allowed, &err), TRACE_OK);
	CHECK_INT(json_object_only(root, fewer, &err), TRACE_EMALFORMED);
	CHECK_STR(err.code, "unknown_field");
	CHECK_STR(err.field, "n");
	json_doc_free(doc);
}

static void
test_writer(void)
{
	static const char text[] =
	    "{\"a\":[1,-2,true,false,null,\"\\u00e9\\n\"],\"b\":{}}";
	struct json_writer *w = json_writer_new(false);
	struct json_doc *doc = NULL, *again = NULL;
	const char *out;
	size_t len;
	struct trace_error err;

	CHECK_INT(json_parse(text, sizeof(text) - 1, NULL, &doc, &err),
	    TRACE_OK);
	json_writer_value(w, json_doc_root(doc));
	CHECK_INT(json_writer_result(w, &out, &len, &err), TRACE_OK);
	CHECK_INT(json_parse(out, len, NULL, &again, &err), TRACE_OK);
	CHECK_STR(json_object_get(json_doc_root(again), "a")->u.array
	    .items[5]->u.string.ptr, "\xc3\xa9\n");
	json_doc_free(again);
	json_doc_free(doc);
	json_writer_free(w);

	/* Invalid UTF-8 is refused and the error sticks. */
	w = json_writer_new(false);
	json_writer_array_open(w);
	json_writer_string(w, "\xff", 1);
	json_writer_int(w, 1);
	json_writer_array_close(w);
	CHECK_INT(json_writer_result(w, &out, &len, &err), TRACE_EMALFORMED);
	json_writer_free(w);
	json_writer_free(NULL);
	json_doc_free(NULL);
}

int
main(void)
{
	test_accepts();
	test_rejects();
	test_limits();
	test_paths();
	test_large_object_duplicates();
	test_accessors();
	test_writer();
	CHECK_DONE();
}
