/*
 * fuzz_query.c - libFuzzer harness for trace-server's parsers of request
 * text (trace-server/parse.c).  The first byte picks the parser, the rest
 * is its input:
 *
 *   'q'  a query string, strict (the recall API's names)
 *   'i'  a query string, other names ignored (a page's names)
 *   'p'  percent-decoding
 *   'a'  an Accept-Language value, and the same text as a ?lang= tag
 *   'l'  a label run: from, then count after the first '&' (none: absent)
 *   'r'  a --redis address
 *
 * Besides not crashing, what each accepts must keep its promises: every
 * field named in allowed, given once, its value valid UTF-8 without NUL
 * and of the length it claims; a decoded text no longer than its input; a
 * language index in range; a run whose serials fit; a port in range.
 */
#include <stdlib.h>
#include <string.h>

#include "libtrace/json.h"
#include "trace-server/parse.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define INPUT_MAX 16384
#define PARSERS "qipalr"

static void
check_query(const char *text, enum parse_unknown unknown)
{
	static const char *const allowed[] = { "gtin", "lot", "status",
		"since", "until", "org", "cursor", "limit", "lang", NULL };
	struct query_fields q;

	if (parse_query(text, allowed, unknown, &q, NULL) != TRACE_OK) {
		if (q.storage != NULL || q.count != 0)
			abort();
		return;
	}
	if (q.count > PARSE_QUERY_FIELDS_MAX)
		abort();
	for (size_t i = 0; i < q.count; i++) {
		const struct query_field *f = &q.items[i];
		bool known = false;

		for (size_t k = 0; allowed[k] != NULL; k++)
			known |= strcmp(allowed[k], f->name) == 0;
		if (!known || parse_query_get(&q, f->name) != f)
			abort();
		if (f->value == NULL ? f->value_len != 0 :
		    f->value_len == 0 || strlen(f->value) != f->value_len ||
		    utf8_check((const unsigned char *)f->value, f->value_len) !=
		    f->value_len)
			abort();
	}
	parse_query_clear(&q);
}

static void
check_percent(const char *text, size_t len)
{
	char *out = malloc(len + 1);
	size_t n = 0;

	if (out == NULL)
		return;
	if (parse_percent_decode(text, len, true, out, &n, NULL) == TRACE_OK &&
	    (n > len || out[n] != '\0'))
		abort();
	free(out);
}

static void
check_languages(const char *text, size_t len)
{
	static const char *const primaries[] = { "zh", "en", "ko" };
	int a = parse_accept_language(text, primaries, 3);
	int t = parse_language_tag(text, len, primaries, 3);

	if (a < -1 || a > 2 || t < -1 || t > 2)
		abort();
}

static void
check_label_run(char *text)
{
	char *amp = strchr(text, '&');
	struct label_run run;

	if (amp != NULL)
		*amp = '\0';
	if (parse_label_run(text, amp != NULL ? amp + 1 : NULL, &run, NULL) !=
	    TRACE_OK)
		return;
	if (run.count < 1 || run.count > LABELS_MAX || run.width < 1 ||
	    run.width > LABELS_DIGITS_MAX ||
	    strlen(run.prefix) + (size_t)run.width > GS1_ATTR_MAX)
		abort();
}

static void
check_redis(const char *text)
{
	struct store_address a;

	if (parse_redis_address(text, &a, NULL) != TRACE_OK)
		return;
	if (a.unix_socket + a.sentinel > 1 ||
	    (a.unix_socket && a.path[0] == '\0') ||
	    (a.sentinel && (a.sentinel_count < 1 ||
	    a.sentinel_count > STORE_SENTINELS_MAX || a.master[0] == '\0')) ||
	    (!a.unix_socket && !a.sentinel && (a.host[0] == '\0' ||
	    a.port < 1 || a.port > 65535)))
		abort();
	for (size_t i = 0; i < a.sentinel_count; i++)
		if (a.sentinels[i].host[0] == '\0' || a.sentinels[i].port < 1 ||
		    a.sentinels[i].port > 65535)
			abort();
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *text;
	size_t len;

	if (size < 1 || size > INPUT_MAX)
		return 0;
	len = size - 1;
	/* The callers hand over NUL-terminated text (civetweb's query
	 * string, a header, an option): a NUL ends it there too. */
	if ((text = malloc(len + 1)) == NULL)
		return 0;
	memcpy(text, data + 1, len);
	text[len] = '\0';
	/* Other first bytes pick one too, so no input is wasted. */
	switch (strchr(PARSERS, data[0]) != NULL && data[0] != '\0' ?
	    data[0] : PARSERS[data[0] % (sizeof(PARSERS) - 1)]) {
	case 'q': check_query(text, PARSE_UNKNOWN_REFUSED); break;
	case 'i': check_query(text, PARSE_UNKNOWN_IGNORED); break;
	case 'p': check_percent((const char *)data + 1, len); break;
	case 'a': check_languages(text, strlen(text)); break;
	case 'l': check_label_run(text); break;
	case 'r': check_redis(text); break;
	default: break;
	}
	free(text);
	return 0;
}
