/*
 * parse.h - the server's parsers of untrusted text that need neither
 * civetweb nor Redis, so a unit test and a fuzz harness can drive them
 * alone (tests/unit/test_parse.c, tests/fuzz/fuzz_query.c):
 *
 *   query strings       the one query-string parser: split, percent-decode,
 *                       refuse duplicates, bad escapes, NUL, invalid UTF-8
 *                       and (in strict mode) unknown names
 *   percent-escapes     RFC 3986 2.1 decoding ('+' as a space in forms)
 *   chain paths         /01/{gtin}/10/{lot} of the chain and bundle APIs
 *   languages           a ?lang= tag and an Accept-Language header
 *                       (RFC 9110 12.5.4) against the supported languages
 *   label runs          /labels' from= and count=: the serials to print
 *   --redis addresses   redis://, unix: and sentinel:// (store.h)
 *
 * Every fallible function returns an enum trace_status and fills a
 * struct trace_error (which may be NULL) naming the offending parameter.
 */
#ifndef TRACE_PARSE_H
#define TRACE_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "libtrace/error.h"
#include "libtrace/gs1.h"
#include "store.h"

/* ---- percent-escapes ----------------------------------------------------- */

/*
 * Decode s[0..len) into out, which has room for len + 1 bytes (decoding
 * never grows the text), and NUL-terminate it; *out_len is the decoded
 * length (a decoded %00 makes it longer than strlen(out)).  plus_is_space
 * decodes '+' as ' ' (application/x-www-form-urlencoded).  A '%' not
 * followed by two hex digits is TRACE_EMALFORMED "bad_escape".
 */
enum trace_status parse_percent_decode(const char *s, size_t len,
    bool plus_is_space, char *out, size_t *out_len, struct trace_error *err);

/* ---- query strings ------------------------------------------------------- */

#define PARSE_QUERY_MAX 8192            /* bytes of a query string */
#define PARSE_QUERY_FIELDS_MAX 16       /* parameters kept */

/* What parse_query does with a name that is not in allowed. */
enum parse_unknown {
	/* Refuse it: 400 unknown_parameter naming it (APIs, where a typo
	 * must not silently widen a query). */
	PARSE_UNKNOWN_REFUSED,
	/* Skip it unread, value and all (pages, QR codes and the GS1
	 * resolver, whose links may carry other parameters). */
	PARSE_UNKNOWN_IGNORED,
};

struct query_field {
	const char *name;               /* decoded, NUL-terminated */
	const char *value;              /* decoded, valid UTF-8, no NUL;
	                                   NULL when given empty */
	size_t value_len;
};

struct query_fields {
	char *storage;                  /* every name and value */
	struct query_field items[PARSE_QUERY_FIELDS_MAX];
	size_t count;
};

/*
 * Split query ("a=1&b=2", without the '?'; NULL or "" for none) on '&' and
 * percent-decode each name and value ('+' is a space).  Refused with
 * TRACE_EMALFORMED:
 *   bad_query          over PARSE_QUERY_MAX bytes, more than
 *                      PARSE_QUERY_FIELDS_MAX parameters, or a bad %-escape
 *                      in a name
 *   unknown_parameter  a name not in allowed (NULL-terminated), or one
 *                      with a NUL, under PARSE_UNKNOWN_REFUSED; err->field
 *                      is the name when it is short valid UTF-8
 *   bad_parameter      a value with a bad %-escape, a NUL or invalid UTF-8,
 *                      or a name given twice; err->field is the name
 * An empty value ("a=" or "a") is kept with value NULL: it counts as absent
 * for most callers (forms send every field) but is still refused when
 * given twice.  Empty pieces ("a=1&&b=2") are skipped.  On TRACE_OK the
 * caller releases out with parse_query_clear(); on failure out is clear.
 */
enum trace_status parse_query(const char *query, const char *const *allowed,
    enum parse_unknown unknown, struct query_fields *out,
    struct trace_error *err);

/* The field called name, or NULL when it was not given. */
const struct query_field *parse_query_get(const struct query_fields *q,
    const char *name);

/* The value of name: NULL when not given, "" when given empty. */
const char *parse_query_value(const struct query_fields *q, const char *name);

/* Release what parse_query allocated (accepts a zeroed q). */
void parse_query_clear(struct query_fields *q);

/* ---- chain paths --------------------------------------------------------- */

/*
 * A chain's path, "/01/{gtin}/10/{lot}" as it follows /api/v1/chains or
 * /api/v1/bundles (raw: percent-escapes are the lot's), into its chain id
 * (gs1_chain_id).  gs1_link_parse_path's errors, or TRACE_EMALFORMED
 * "invalid_link" field "path" without a lot or with a serial.
 */
enum trace_status parse_chain_path(const char *path,
    char chain[CHAIN_ID_MAX + 1], struct trace_error *err);

/* ---- languages ----------------------------------------------------------- */

/*
 * The index in primaries (count two-letter primary subtags, e.g. "zh",
 * "en", "ko") of language tag tag[0..len): its first two letters match one
 * (case-insensitively) and are the whole tag or followed by '-' or '_'
 * ("zh", "zh-CN", "ko_KR").  -1 for anything else.
 */
int parse_language_tag(const char *tag, size_t len,
    const char *const *primaries, size_t count);

/*
 * The index in primaries of the language an Accept-Language value
 * ("ko-KR,ko;q=0.9,en;q=0.8") prefers: the highest q wins, the first of
 * equal ones; q=0 never does.  q is read to three decimals (RFC 9110
 * 12.4.2) and capped at 1.  -1 when no item names a supported language.
 */
int parse_accept_language(const char *value, const char *const *primaries,
    size_t count);

/* ---- label runs ---------------------------------------------------------- */

#define LABELS_MAX 200
#define LABELS_DEFAULT 21               /* one sheet of 3 x 7 */
#define LABELS_FROM_DEFAULT "000001"
#define LABELS_DIGITS_MAX 18            /* fits an unsigned long long */

/* The serials of a label sheet: prefix, then first, first + 1, ... as
 * zero-padded numbers of width digits (wider once they outgrow it). */
struct label_run {
	char prefix[GS1_ATTR_MAX + 1];
	unsigned long long first;
	int width;
	int count;
};

/*
 * from= and count= of /labels (NULL when not given, "" when given empty;
 * from defaults to LABELS_FROM_DEFAULT, count to LABELS_DEFAULT) into run.
 * from must be a serial (gs1_attr_valid) ending in 1..LABELS_DIGITS_MAX
 * digits, else TRACE_EMALFORMED "invalid_value" field "from"; count must
 * be decimal digits for 1..LABELS_MAX, else "bad_count" field "count".
 */
enum trace_status parse_label_run(const char *from, const char *count,
    struct label_run *run, struct trace_error *err);

/* A yes/no query parameter (NULL when not given: false): "0" or "1", else
 * TRACE_EMALFORMED "bad_param" naming field. */
enum trace_status parse_flag(const char *value, const char *field,
    bool *out, struct trace_error *err);

/* ---- --redis addresses --------------------------------------------------- */

/*
 * url (store.h's forms: redis://[[USER]:PASSWORD@]HOST[:PORT][/],
 * unix:PATH, sentinel://[[USER]:PASSWORD@]HOST[:PORT][,...]/MASTER; IPv6
 * hosts in brackets) into a, zeroed first.  Anything else, or a part too
 * long for a, is TRACE_EMALFORMED "bad_redis_url" field "redis", with a
 * message that never echoes the URL (it may hold a password); a is zeroed
 * again.
 */
enum trace_status parse_redis_address(const char *url,
    struct store_address *a, struct trace_error *err);

#endif
