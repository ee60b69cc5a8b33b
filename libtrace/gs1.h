/*
 * gs1.h - GS1 identifiers (docs/PROTOCOL.md section 2): GTINs with their check digit,
 * lot (AI 10) and serial (AI 21) values in the AI encodable set 82, chain
 * ids, and GS1 Digital Link URIs with percent-encoding both ways, plain
 * or compressed.
 *
 * Errors are TRACE_EMALFORMED with code "invalid_gtin", "invalid_value",
 * "invalid_link" or "invalid_chain" and the offending field.  Nothing here
 * allocates or keeps state; every function is safe from any thread.
 */
#ifndef TRACE_GS1_H
#define TRACE_GS1_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define GTIN14_LEN 14
#define GS1_ATTR_MAX 20   /* lot and serial: 1-20 characters */
/* "01/" + 14 + "/10/" + 20 characters, each percent-encoded at worst */
#define CHAIN_ID_MAX (3 + GTIN14_LEN + 4 + 3 * GS1_ATTR_MAX)

/*
 * Validate a GTIN of 8, 12, 13 or 14 digits (check digit: weights 3,1,3,...
 * from the right, mod 10) and write it as GTIN-14 (left-padded with zeros)
 * and a NUL into out ("" on error).  Errors name field (e.g. "chain.gtin").
 */
enum trace_status gs1_gtin_normalize(const char *gtin, size_t len,
    char out[GTIN14_LEN + 1], const char *field, struct trace_error *err);

/*
 * The check digit ('0'..'9') for the len-1 leading digits of a GTIN of len
 * digits (digits[len-1], the check digit itself, is not read).  '\0' if len
 * is below 2 or one of those digits is not a digit.
 */
char gs1_check_digit(const char *digits, size_t len);

/*
 * True if s[0..len) is 1-20 characters of GS1 AI encodable set 82, other
 * than "." and "..": those are dot segments that URL normalisation removes
 * from a Digital Link path (RFC 3986 5.2.4), so such a lot or serial could
 * never be resolved from its QR code.
 */
bool gs1_attr_valid(const char *s, size_t len);

/* Validate a lot or serial value as gs1_attr_valid does, naming field and
 * the first bad character in the error. */
enum trace_status gs1_attr_check(const char *s, size_t len, const char *field,
    struct trace_error *err);

/*
 * The chain id "01/{gtin14}/10/{lot}" and a NUL into out (CHAIN_ID_MAX + 1
 * bytes).  The lot is percent-encoded exactly as in a Digital Link path, since
 * set 82 allows '/', '%' and '?': the id is then unambiguous and usable in a
 * URL as it is.  Inputs must be valid already.  out is "" if size is too
 * small.
 */
void gs1_chain_id(const char *gtin14, const char *lot, char *out, size_t size);

/*
 * Parse a chain id as gs1_chain_id writes it into gtin14 and lot.  Only the
 * canonical spelling is accepted (14-digit GTIN, exactly the encoding
 * gs1_chain_id produces), so two equal chains always have equal ids.
 */
enum trace_status gs1_chain_id_parse(const char *id, size_t len,
    char gtin14[GTIN14_LEN + 1], char lot[GS1_ATTR_MAX + 1],
    struct trace_error *err);

/* A parsed Digital Link path or URI. */
struct gs1_link {
	char gtin[GTIN14_LEN + 1];
	char lot[GS1_ATTR_MAX + 1];     /* "" when absent */
	char serial[GS1_ATTR_MAX + 1];  /* "" when absent */
};

/*
 * Parse the path part of a Digital Link URI: "/01/{gtin}[/10/{lot}][/21/{serial}]"
 * (values percent-decoded, hex digits in either case; the GTIN may have 8,
 * 12, 13 or 14 digits and is normalized; AI order as in GS1's qualifier path
 * 01 > 10 > 21; nothing else allowed: the caller strips the query and
 * fragment, and a raw '?' or '#' is an error; no empty segment, no trailing
 * '/', no "." or ".." segment even percent-encoded, no bad or NUL escape, no
 * character that RFC 3986 requires to be encoded left raw, no unknown AI).
 * The path is split at raw '/' before decoding, so an encoded '/' (%2F) is
 * data: allowed inside a lot or serial (set 82 has '/'), an error anywhere
 * else.  TRACE_EMALFORMED with a reason and field "path", "gtin", "lot" or
 * "serial"; out is zeroed on error.
 */
enum trace_status gs1_link_parse_path(const char *path, size_t len,
    struct gs1_link *out, struct trace_error *err);

/*
 * Write "{base}/01/{gtin}/10/{lot}[/21/{serial}]" with values
 * percent-encoded (RFC 3986 unreserved kept, everything else %XX uppercase)
 * and a NUL into out.  base has no trailing '/' and may be "" or NULL for the
 * path alone.  Returns the length, or 0 (and out "") if size is too small.
 * An empty serial is left out; an empty lot too.  Values are not validated.
 */
size_t gs1_link_format(const char *base, const struct gs1_link *link,
    char *out, size_t size);

/* The longest compressed Digital Link path segment accepted. */
#define GS1_COMPRESSED_MAX 100

/*
 * GS1 Digital Link compression (gs1compress.c): write link (a GTIN with
 * a lot, a serial or both, values valid) as the one path segment of its
 * compressed URI, "/{segment}" under the resolver root, exactly as GS1's
 * toolkit (digital-link.js compressWebUri) writes it, with a NUL.
 * Returns the length, or 0 (and out "") if size is too small.
 */
size_t gs1_link_compress(const struct gs1_link *link, char *out,
    size_t size);

/*
 * Decompress one path segment s[0..len) into out: AIs 01, 10 and 21 (and
 * date attributes, ignored) in any of the encodings the standard allows,
 * values validated as gs1_link_parse_path() validates them.  Non-GS1
 * key=value pairs compressed with them (linkType=all) go to query as a
 * query string ("k=v&k=v", values percent-encoded; "" if none); with
 * query_size 0 they are refused.  TRACE_EMALFORMED "invalid_link" (or the
 * value's own code) otherwise; out and query are emptied on error.
 */
enum trace_status gs1_link_decompress(const char *s, size_t len,
    struct gs1_link *out, char *query, size_t query_size,
    struct trace_error *err);

/*
 * A Digital Link path in either form: "/01/..." as gs1_link_parse_path()
 * reads it, or "/{segment}" compressed (with no key=value pairs).
 */
enum trace_status gs1_link_parse_any(const char *path, size_t len,
    struct gs1_link *out, struct trace_error *err);

/* Percent-encode s into out as above with a NUL; returns the length, or 0
 * (and out "") when size is too small, or when len is 0. */
size_t gs1_percent_encode(const char *s, size_t len, char *out, size_t size);

#endif
