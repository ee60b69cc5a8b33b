/*
 * tlogwitness.h - the wire format of C2SP tlog-witness `add-checkpoint`
 * (docs/PROTOCOL.md section 9.6), for both sides: the witness parses a
 * request and formats its 409 body; a log formats a request and parses
 * the 409 body.  No network and no state here (trace-witness/ owns those).
 *
 * Request body (tlog-witness "add-checkpoint"):
 *
 *     old <size>\n
 *     <base64 hash>\n          zero to 63 consistency proof lines
 *     \n
 *     <checkpoint note>        text, blank line, signature lines
 *
 * 409 body: "<size>\n" with Content-Type text/x.tlog.size.
 */
#ifndef TRACE_TLOGWITNESS_H
#define TRACE_TLOGWITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "merkle.h"
#include "note.h"

/* "The client MUST NOT send more than 63 consistency proof lines." */
#define TLOG_WITNESS_PROOF_MAX 63
/* "old " + 20 digits + '\n', 63 lines of 44 + '\n', the empty line, a
 * note of at most NOTE_MAX_LEN bytes. */
#define TLOG_WITNESS_BODY_MAX (25 + TLOG_WITNESS_PROOF_MAX * 45 + 1 + \
    NOTE_MAX_LEN)
#define TLOG_WITNESS_SIZE_TYPE "text/x.tlog.size"

struct tlog_witness_request {
	uint64_t old_size;
	size_t proof_count;
	unsigned char proof[TLOG_WITNESS_PROOF_MAX][MERKLE_HASH_LEN];
	const char *note;   /* points into the parsed body */
	size_t note_len;
};

/*
 * Parse a request body strictly: every line ends in '\n'; "old", one
 * space and a decimal size without leading zeros; at most 63 proof lines,
 * each padded standard base64 (RFC 4648 section 4) of exactly 32 bytes;
 * one empty line; then a non-empty note (not checked here beyond its
 * size: note_parse() is the note's parser).  Anything else is
 * TRACE_EMALFORMED (field "old", "proof" or "note"), a body over
 * TLOG_WITNESS_BODY_MAX is TRACE_ETOOBIG.  out->note points into body.
 */
enum trace_status tlog_witness_request_parse(const char *body, size_t len,
    struct tlog_witness_request *out, struct trace_error *err);

/*
 * The request body for note with the given old size and proof, in *out:
 * a malloc'd NUL-terminated string of *out_len bytes the caller frees
 * with free().
 */
enum trace_status tlog_witness_request_format(uint64_t old_size,
    const unsigned char (*proof)[MERKLE_HASH_LEN], size_t proof_count,
    const char *note, size_t note_len, char **out, size_t *out_len,
    struct trace_error *err);

/* Parse a 409 body: a decimal size and '\n', nothing else. */
enum trace_status tlog_witness_size_parse(const char *body, size_t len,
    uint64_t *size, struct trace_error *err);

#endif
