/*
 * codes.c - vocabularies: countries, ports, language tags, free text.
 *
 * The country list is ISO 3166-1 alpha-2 as assigned (officially assigned
 * codes only, not the exceptionally reserved ones), kept sorted so lookup
 * is a binary search.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"

static const char countries[] =
    "AD" "AE" "AF" "AG" "AI" "AL" "AM" "AO" "AQ" "AR" "AS" "AT" "AU" "AW"
    "AX" "AZ" "BA" "BB" "BD" "BE" "BF" "BG" "BH" "BI" "BJ" "BL" "BM" "BN"
    "BO" "BQ" "BR" "BS" "BT" "BV" "BW" "BY" "BZ" "CA" "CC" "CD" "CF" "CG"
    "CH" "CI" "CK" "CL" "CM" "CN" "CO" "CR" "CU" "CV" "CW" "CX" "CY" "CZ"
    "DE" "DJ" "DK" "DM" "DO" "DZ" "EC" "EE" "EG" "EH" "ER" "ES" "ET" "FI"
    "FJ" "FK" "FM" "FO" "FR" "GA" "GB" "GD" "GE" "GF" "GG" "GH" "GI" "GL"
    "GM" "GN" "GP" "GQ" "GR" "GS" "GT" "GU" "GW" "GY" "HK" "HM" "HN" "HR"
    "HT" "HU" "ID" "IE" "IL" "IM" "IN" "IO" "IQ" "IR" "IS" "IT" "JE" "JM"
    "JO" "JP" "KE" "KG" "KH" "KI" "KM" "KN" "KP" "KR" "KW" "KY" "KZ" "LA"
    "LB" "LC" "LI" "LK" "LR" "LS" "LT" "LU" "LV" "LY" "MA" "MC" "MD" "ME"
    "MF" "MG" "MH" "MK" "ML" "MM" "MN" "MO" "MP" "MQ" "MR" "MS" "MT" "MU"
    "MV" "MW" "MX" "MY" "MZ" "NA" "NC" "NE" "NF" "NG" "NI" "NL" "NO" "NP"
    "NR" "NU" "NZ" "OM" "PA" "PE" "PF" "PG" "PH" "PK" "PL" "PM" "PN" "PR"
    "PS" "PT" "PW" "PY" "QA" "RE" "RO" "RS" "RU" "RW" "SA" "SB" "SC" "SD"
    "SE" "SG" "SH" "SI" "SJ" "SK" "SL" "SM" "SN" "SO" "SR" "SS" "ST" "SV"
    "SX" "SY" "SZ" "TC" "TD" "TF" "TG" "TH" "TJ" "TK" "TL" "TM" "TN" "TO"
    "TR" "TT" "TV" "TW" "TZ" "UA" "UG" "UM" "US" "UY" "UZ" "VA" "VC" "VE"
    "VG" "VI" "VN" "VU" "WF" "WS" "YE" "YT" "ZA" "ZM" "ZW";

static int
code_cmp(const void *key, const void *elem)
{
	return memcmp(key, elem, 2);
}

bool
country_valid(const char *s, size_t len)
{
	if (len != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z')
		return false;
	return bsearch(s, countries, (sizeof(countries) - 1) / 2, 2,
	    code_cmp) != NULL;
}

bool
locode_valid(const char *s, size_t len)
{
	if (len != 5 || !country_valid(s, 2))
		return false;
	for (size_t i = 2; i < 5; i++) {
		bool letter = s[i] >= 'A' && s[i] <= 'Z';
		bool digit = s[i] >= '2' && s[i] <= '9';

		if (!letter && !digit)
			return false;
	}
	return true;
}

static bool
alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

bool
language_tag_valid(const char *s, size_t len)
{
	size_t i = 0, start;

	while (i < len && s[i] >= 'a' && s[i] <= 'z')
		i++;
	if (i < 2 || i > 3)
		return false;
	while (i < len) {
		if (s[i] != '-')
			return false;
		start = ++i;
		while (i < len && alnum(s[i]))
			i++;
		if (i - start < 2 || i - start > 8)
			return false;
	}
	return len <= 35;
}

/*
 * Characters that change how the text around them is shown without being
 * seen themselves: bidirectional controls (U+202E can make "fail" read as
 * "liaf" or move a name across a line), zero-width and joiner characters,
 * invisible fillers (Hangul fillers pass for empty names), deprecated format
 * characters, the BOM, interlinear annotation and tag characters.  A signer
 * could use them to make a page show something other than what was signed
 * (Unicode TR #36, 2.1 and 2.2), so signer text may not contain them.
 * Sorted, inclusive ranges.
 */
static const struct { uint32_t lo, hi; } invisible[] = {
	{ 0x00AD, 0x00AD },     /* soft hyphen */
	{ 0x034F, 0x034F },     /* combining grapheme joiner */
	{ 0x061C, 0x061C },     /* Arabic letter mark */
	{ 0x115F, 0x1160 },     /* Hangul choseong and jungseong fillers */
	{ 0x17B4, 0x17B5 },     /* Khmer inherent vowels */
	{ 0x180B, 0x180E },     /* Mongolian variation selectors, vowel sep. */
	{ 0x200B, 0x200F },     /* zero width space, ZWNJ, ZWJ, LRM, RLM */
	{ 0x2028, 0x202E },     /* line/paragraph separators, embeddings,
	                         * overrides */
	{ 0x2060, 0x206F },     /* word joiner, invisible operators, isolates,
	                         * deprecated format characters */
	{ 0x3164, 0x3164 },     /* Hangul filler */
	{ 0xFEFF, 0xFEFF },     /* zero width no-break space (BOM) */
	{ 0xFFA0, 0xFFA0 },     /* halfwidth Hangul filler */
	{ 0xFFF9, 0xFFFB },     /* interlinear annotation */
	{ 0x1D173, 0x1D17A },   /* musical symbol format characters */
	{ 0xE0000, 0xE007F },   /* tags */
};

static bool
invisible_char(uint32_t cp)
{
	size_t lo = 0, hi = sizeof(invisible) / sizeof(invisible[0]);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < invisible[mid].lo)
			hi = mid;
		else if (cp > invisible[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* Decodes the code point at s[i] (UTF-8 the JSON parser has checked) into
 * *cp; returns its length, 0 for a truncated or malformed lead byte. */
static size_t
utf8_next(const char *s, size_t len, size_t i, uint32_t *cp)
{
	unsigned char c = (unsigned char)s[i];
	size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

	if (c >= 0x80 && (c < 0xc2 || n > len - i))
		return 0;
	*cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
	for (size_t k = 1; k < n; k++)
		*cp = *cp << 6 | ((unsigned char)s[i + k] & 0x3f);
	return n;
}

bool
text_valid(const char *s, size_t len, size_t max, bool multiline)
{
	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_next(s, len, i, &cp);

		if (n == 0)
			return false;
		if (cp == '\n' || cp == '\t') {
			if (!multiline)
				return false;
		} else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
			/* C0 controls, DEL and the C1 controls. */
			return false;
		}
		i += n;
	}
	return true;
}

bool
text_visible(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_next(s, len, i, &cp);

		if (n == 0 || invisible_char(cp))
			return false;
		i += n;
	}
	return true;
}
