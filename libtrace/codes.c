/*
 * codes.c - vocabularies: countries, ports, language tags, free text.
 *
 * The country list is ISO 3166-1 alpha-2 as assigned (officially assigned
 * codes only, not the exceptionally reserved ones), kept sorted so lookup
 * is a binary search.
 */
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

bool
text_valid(const char *s, size_t len, size_t max, bool multiline)
{
	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || c == '\t') {
			if (!multiline)
				return false;
		} else if (c < 0x20 || c == 0x7f) {
			return false;
		}
		/* C1 controls U+0080-U+009F are C2 80 - C2 9F in UTF-8. */
		if (c == 0xc2 && i + 1 < len &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return false;
	}
	return true;
}
