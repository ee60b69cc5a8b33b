/*
 * encoding.h - base64 (RFC 4648), lowercase hex, and the hex digit decoder
 * percent-decoding uses.
 *
 * Encoding always writes standard base64 with padding.  Decoding takes the
 * standard or the URL-safe alphabet (never both in one string), with or
 * without padding, and refuses whitespace, stray characters and non-zero
 * trailing bits, so every byte string has exactly one accepted encoding per
 * alphabet.
 */
#ifndef TRACE_ENCODING_H
#define TRACE_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Characters base64_encode writes for n bytes, without the NUL. */
size_t base64_encoded_len(size_t n);

/* Upper bound of the bytes base64_decode writes for n characters. */
size_t base64_decoded_max(size_t n);

/* Write the encoding of src and a NUL to dst (base64_encoded_len(n) + 1
 * bytes).  Returns the length written without the NUL. */
size_t base64_encode(const unsigned char *src, size_t n, char *dst);

/*
 * Decode n characters of src into dst (base64_decoded_max(n) bytes).  On
 * TRACE_OK *out_len holds the decoded length.  TRACE_EMALFORMED otherwise.
 */
enum trace_status base64_decode(const char *src, size_t n, unsigned char *dst,
    size_t *out_len, struct trace_error *err);

/* Encode n bytes as 2n lowercase hex digits and a NUL. */
void hex_encode(const unsigned char *src, size_t n, char *dst);

/*
 * The value (0-15) of one hex digit, either case, or -1: the one nibble
 * decoder, for hex strings and for percent-escapes (RFC 3986 2.1 makes
 * "%2f" and "%2F" the same octet).
 */
int hex_digit_value(char c);

/*
 * Decode exactly 2n hex digits (lowercase only when strict_lower) into n
 * bytes.  Returns false on any other input.
 */
bool hex_decode(const char *src, size_t len, unsigned char *dst, size_t n,
    bool strict_lower);

/*
 * A decimal uint64 as C2SP writes sizes and timestamps: ASCII digits only,
 * no sign, no leading zero unless the number is "0", at most 2^64 - 1.
 * Returns false on any other input.
 */
bool decimal_u64_parse(const char *s, size_t len, uint64_t *out);

/* The next line of text[*pos..len) without its '\n' (its length in
 * *line_len), advancing *pos past it; NULL at the end or when the rest has
 * no '\n' (an unterminated line is not a line: signed notes and tlog
 * bodies end every line with one). */
const char *text_next_line(const char *text, size_t len, size_t *pos,
    size_t *line_len);

#endif
