/*
 * encoding.c - base64 (RFC 4648 sections 4 and 5) and hex.
 *
 * The decoder is strict on purpose: a signature or key has exactly one
 * accepted text form per alphabet, so two different strings can never be
 * the "same" envelope field.
 */
#include <string.h>

#include "encoding.h"

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

size_t
base64_decoded_max(size_t n)
{
	return n / 4 * 3 + 3;
}

size_t
base64_encode(const unsigned char *src, size_t n, char *dst)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)src[i] << 16 | (unsigned)src[i + 1] << 8 |
		    src[i + 2];
		dst[o++] = b64_std[v >> 18];
		dst[o++] = b64_std[(v >> 12) & 63];
		dst[o++] = b64_std[(v >> 6) & 63];
		dst[o++] = b64_std[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)src[i] << 16;
		dst[o++] = b64_std[v >> 18];
		dst[o++] = b64_std[(v >> 12) & 63];
		dst[o++] = '=';
		dst[o++] = '=';
	} else if (n - i == 2) {
		unsigned v = (unsigned)src[i] << 16 | (unsigned)src[i + 1] << 8;
		dst[o++] = b64_std[v >> 18];
		dst[o++] = b64_std[(v >> 12) & 63];
		dst[o++] = b64_std[(v >> 6) & 63];
		dst[o++] = '=';
	}
	dst[o] = '\0';
	return o;
}

/* Value of c in the alphabet (1 standard, 2 URL-safe, 3 both), or -1. */
static int
b64_value(char c, int *alphabet)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '/') {
		*alphabet |= 1;
		return c == '+' ? 62 : 63;
	}
	if (c == '-' || c == '_') {
		*alphabet |= 2;
		return c == '-' ? 62 : 63;
	}
	return -1;
}

enum trace_status
base64_decode(const char *src, size_t n, unsigned char *dst, size_t *out_len,
    struct trace_error *err)
{
	size_t data = n, o = 0, i;
	unsigned acc = 0;
	int bits = 0, alphabet = 0;

	/* Padding: only at the end, only as much as completes a quantum. */
	while (data > 0 && src[data - 1] == '=')
		data--;
	if (n - data > 2 || (n != data && n % 4 != 0))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_base64", NULL,
		    "base64 padding is wrong");
	if (data % 4 == 1)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_base64", NULL,
		    "base64 length is impossible");
	for (i = 0; i < data; i++) {
		int v = b64_value(src[i], &alphabet);

		if (v < 0)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_base64", NULL,
			    "base64 has a character outside the alphabet at %zu",
			    i);
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dst[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (alphabet == 3)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_base64", NULL,
		    "base64 mixes the standard and URL-safe alphabets");
	/* RFC 4648 3.5: the unused bits must be zero for a canonical form. */
	if (acc != 0)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_base64", NULL,
		    "base64 has non-zero trailing bits");
	*out_len = o;
	return TRACE_OK;
}

void
hex_encode(const unsigned char *src, size_t n, char *dst)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = digits[src[i] >> 4];
		dst[2 * i + 1] = digits[src[i] & 15];
	}
	dst[2 * n] = '\0';
}

int
hex_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Ids are written in lowercase only: one text per id when strict_lower. */
static int
hex_value(char c, bool strict_lower)
{
	if (strict_lower && c >= 'A' && c <= 'F')
		return -1;
	return hex_digit_value(c);
}

bool
hex_decode(const char *src, size_t len, unsigned char *dst, size_t n,
    bool strict_lower)
{
	if (len != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(src[2 * i], strict_lower);
		int lo = hex_value(src[2 * i + 1], strict_lower);

		if (hi < 0 || lo < 0)
			return false;
		dst[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

bool
decimal_u64_parse(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned digit;

		if (s[i] < '0' || s[i] > '9')
			return false;
		digit = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = v;
	return true;
}

const char *
text_next_line(const char *text, size_t len, size_t *pos, size_t *line_len)
{
	const char *line = text + *pos, *nl;

	if (*pos >= len)
		return NULL;
	nl = memchr(line, '\n', len - *pos);
	if (nl == NULL)
		return NULL;
	*line_len = (size_t)(nl - line);
	*pos += *line_len + 1;
	return line;
}
