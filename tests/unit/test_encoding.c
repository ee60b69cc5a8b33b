/*
 * test_encoding.c - base64 (RFC 4648 test vectors, URL-safe input, strict
 * rejection of every non-canonical form) and hex.
 */
#include <stdbool.h>
#include <string.h>

#include "libtrace/encoding.h"
#include "check.h"

static int
decodes_to(const char *in, const char *want)
{
	unsigned char out[128];
	size_t n = 0;

	if (base64_decode(in, strlen(in), out, &n, NULL) != TRACE_OK)
		return 0;
	return n == strlen(want) && memcmp(out, want, n) == 0;
}

static int
rejected(const char *in)
{
	unsigned char out[128];
	size_t n = 0;
	struct trace_error err;

	return base64_decode(in, strlen(in), out, &n, &err) ==
	    TRACE_EMALFORMED && strcmp(err.code, "bad_base64") == 0;
}

static void
test_base64(void)
{
	/* RFC 4648 section 10. */
	static const char *const plain[] = { "", "f", "fo", "foo", "foob",
		"fooba", "foobar" };
	static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v",
		"Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char buf[64];
	unsigned char bytes[3] = { 0xfb, 0xff, 0xbf };

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		CHECK_INT(base64_encode((const unsigned char *)plain[i],
		    strlen(plain[i]), buf), strlen(coded[i]));
		CHECK_STR(buf, coded[i]);
		CHECK_INT(base64_encoded_len(strlen(plain[i])), strlen(coded[i]));
		CHECK(decodes_to(coded[i], plain[i]));
	}
	/* Unpadded input is accepted. */
	CHECK(decodes_to("Zg", "f"));
	CHECK(decodes_to("Zm8", "fo"));
	/* URL-safe alphabet on input. */
	base64_encode(bytes, 3, buf);
	CHECK_STR(buf, "+/+/");
	CHECK(decodes_to("+/+/", "\xfb\xff\xbf"));
	CHECK(decodes_to("-_-_", "\xfb\xff\xbf"));
	/* Refused: mixed alphabets, bad padding, stray characters, spaces,
	 * impossible lengths, non-zero trailing bits. */
	CHECK(rejected("+_+_"));
	CHECK(rejected("Zg="));
	CHECK(rejected("Zg==="));
	CHECK(rejected("Z==="));
	CHECK(rejected("Zm9v=="));
	CHECK(rejected("Zg==Zg=="));
	CHECK(rejected("Zm9v\n"));
	CHECK(rejected("Zm 9v"));
	CHECK(rejected("Zm9v!"));
	CHECK(rejected("Z"));
	CHECK(rejected("Zh=="));
	CHECK(rejected("Zm9="));
	CHECK(rejected("="));
}

static void
test_hex(void)
{
	unsigned char b[4] = { 0x00, 0xab, 0x10, 0xff }, back[4];
	char h[9];

	hex_encode(b, 4, h);
	CHECK_STR(h, "00ab10ff");
	CHECK(hex_decode(h, 8, back, 4, true));
	CHECK_MEM(back, b, 4);
	CHECK(hex_decode("00AB10FF", 8, back, 4, false));
	CHECK(!hex_decode("00AB10FF", 8, back, 4, true));
	CHECK(!hex_decode("00ab10f", 7, back, 4, true));
	CHECK(!hex_decode("00ab10fff", 9, back, 4, true));
	CHECK(!hex_decode("00ab10fg", 8, back, 4, false));
	CHECK(!hex_decode("00ab 0ff", 8, back, 4, false));
}

/* Every char value: the digits of either case decode, nothing else. */
static void
test_hex_digit_value(void)
{
	static const char digits[] = "0123456789abcdef";
	static const char upper[] = "0123456789ABCDEF";

	for (int c = -128; c <= 127; c++) {
		int want = -1;

		for (int v = 0; v < 16; v++)
			if (c == digits[v] || c == upper[v])
				want = v;
		CHECK_MSG(hex_digit_value((char)c) == want, "char %d: %d, want "
		    "%d", c, hex_digit_value((char)c), want);
	}

	/* hex_decode: every byte, both cases, strict_lower refusing upper. */
	for (int b = 0; b < 256; b++) {
		char lo[3] = { digits[b >> 4], digits[b & 15], '\0' };
		char up[3] = { upper[b >> 4], upper[b & 15], '\0' };
		unsigned char got = 0;
		bool has_upper = strcmp(lo, up) != 0;

		CHECK_MSG(hex_decode(lo, 2, &got, 1, true) && got == b,
		    "\"%s\" strict", lo);
		got = 0;
		CHECK_MSG(hex_decode(up, 2, &got, 1, false) && got == b,
		    "\"%s\"", up);
		CHECK_MSG(hex_decode(up, 2, &got, 1, true) == !has_upper,
		    "\"%s\" strict", up);
	}
}

int
main(void)
{
	test_base64();
	test_hex();
	test_hex_digit_value();
	CHECK_DONE();
}
