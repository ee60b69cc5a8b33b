/*
 * tlogwitness.c - C2SP tlog-witness add-checkpoint bodies
 * (c2sp.org/tlog-witness "add-checkpoint").  The parser sees bytes from
 * anyone on the network, so it accepts exactly one spelling of each
 * request and does work linear in the body's (bounded) size.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "tlogwitness.h"

#define HASH_B64_LEN 44 /* padded base64 of 32 bytes */

/* Padded standard base64 of exactly 32 bytes: 44 characters, the last
 * one '=', no URL-safe characters (tlog-witness "Conventions"). */
static bool
hash_decode(const char *s, size_t len, unsigned char out[MERKLE_HASH_LEN])
{
	unsigned char buf[48];
	size_t n = 0;

	if (len != HASH_B64_LEN || s[43] != '=' || s[42] == '=' ||
	    memchr(s, '-', len) != NULL || memchr(s, '_', len) != NULL)
		return false;
	if (base64_decode(s, len, buf, &n, NULL) != TRACE_OK ||
	    n != MERKLE_HASH_LEN)
		return false;
	memcpy(out, buf, MERKLE_HASH_LEN);
	return true;
}

enum trace_status
tlog_witness_request_parse(const char *body, size_t len,
    struct tlog_witness_request *out, struct trace_error *err)
{
	const char *line;
	size_t pos = 0, line_len = 0;

	memset(out, 0, sizeof(*out));
	if (len > TLOG_WITNESS_BODY_MAX)
		return trace_error_set(err, TRACE_ETOOBIG, "body_too_large",
		    NULL, "an add-checkpoint body is at most %d bytes",
		    TLOG_WITNESS_BODY_MAX);
	/* The old size line: "old", a single space, ASCII decimal. */
	line = text_next_line(body, len, &pos, &line_len);
	if (line == NULL || line_len < 5 || memcmp(line, "old ", 4) != 0 ||
	    !decimal_u64_parse(line + 4, line_len - 4, &out->old_size))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_old_size",
		    "old", "the body starts with \"old <size>\\n\", the size "
		    "in decimal without leading zeros");
	/* Proof lines up to the empty line. */
	for (;;) {
		line = text_next_line(body, len, &pos, &line_len);
		if (line == NULL)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "missing_empty_line", "proof",
			    "the proof lines end with an empty line");
		if (line_len == 0)
			break;
		if (out->proof_count == TLOG_WITNESS_PROOF_MAX)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "proof_too_long", "proof",
			    "at most %d consistency proof lines",
			    TLOG_WITNESS_PROOF_MAX);
		if (!hash_decode(line, line_len, out->proof[out->proof_count]))
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_proof_line", "proof",
			    "proof line %zu is not the base64 of a 32-byte hash",
			    out->proof_count + 1);
		out->proof_count++;
	}
	if (pos == len || len - pos > NOTE_MAX_LEN)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_note", "note",
		    "a checkpoint note of 1 to %d bytes follows the empty line",
		    NOTE_MAX_LEN);
	out->note = body + pos;
	out->note_len = len - pos;
	return TRACE_OK;
}

enum trace_status
tlog_witness_request_format(uint64_t old_size,
    const unsigned char (*proof)[MERKLE_HASH_LEN], size_t proof_count,
    const char *note, size_t note_len, char **out, size_t *out_len,
    struct trace_error *err)
{
	size_t cap, o;
	char *buf;
	int n;

	*out = NULL;
	if (proof_count > TLOG_WITNESS_PROOF_MAX || note_len == 0 ||
	    note_len > NOTE_MAX_LEN)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_request",
		    NULL, "at most %d proof lines and a note of 1 to %d bytes",
		    TLOG_WITNESS_PROOF_MAX, NOTE_MAX_LEN);
	cap = 25 + proof_count * (HASH_B64_LEN + 1) + 1 + note_len + 1;
	if ((buf = malloc(cap)) == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	n = snprintf(buf, cap, "old %" PRIu64 "\n", old_size);
	o = (size_t)n;
	for (size_t i = 0; i < proof_count; i++) {
		o += base64_encode(proof[i], MERKLE_HASH_LEN, buf + o);
		buf[o++] = '\n';
	}
	buf[o++] = '\n';
	memcpy(buf + o, note, note_len);
	o += note_len;
	buf[o] = '\0';
	*out = buf;
	*out_len = o;
	return TRACE_OK;
}

enum trace_status
tlog_witness_size_parse(const char *body, size_t len, uint64_t *size,
    struct trace_error *err)
{
	if (len < 2 || body[len - 1] != '\n' ||
	    !decimal_u64_parse(body, len - 1, size))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_size", NULL,
		    "a text/x.tlog.size body is a decimal size and a newline");
	return TRACE_OK;
}
