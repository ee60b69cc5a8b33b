/*
 * codes.h - the small vocabularies payloads use: ISO 3166-1 alpha-2
 * countries, UN/LOCODE port codes, language tags, and what counts as
 * acceptable free text.
 */
#ifndef TRACE_CODES_H
#define TRACE_CODES_H

#include <stdbool.h>
#include <stddef.h>

/* An assigned ISO 3166-1 alpha-2 code ("KR", "CN", "JP"...). */
bool country_valid(const char *s, size_t len);

/* UN/LOCODE shape: an assigned country code and 3 of [A-Z2-9] ("KRINC"). */
bool locode_valid(const char *s, size_t len);

/* A language tag of the simple BCP 47 shape we accept: 2-3 lower-case
 * letters, then optional "-" subtags of 2-8 letters or digits ("zh",
 * "zh-Hans", "en-US", "ko"). */
bool language_tag_valid(const char *s, size_t len);

/* Text a signer may write: 1..max bytes of UTF-8 (already checked by the
 * JSON parser) with no control characters (tab and newline allowed when
 * multiline).  The rule every stored statement was accepted under. */
bool text_valid(const char *s, size_t len, size_t max, bool multiline);

/* True when s has no invisible or bidirectional formatting character
 * (U+202E, U+200B and the rest of codes.c's table).  Checked on every text
 * of a statement submitted now (event_parse, key_entry_check_visible), not
 * on stored ones: a round-1 statement that holds one must stay readable. */
bool text_visible(const char *s, size_t len);

#endif
