/*
 * addcheckpoint.c - POST /add-checkpoint (c2sp.org/tlog-witness
 * "add-checkpoint"): parse, check the log's signature, check consistency
 * with the latest cosigned tree, persist, cosign.
 *
 * The checks run in the order the spec lists them, so each failure gets
 * the status it names: 400 malformed, 404 unknown origin, 403 no trusted
 * signature, 400 old size above the checkpoint's, 409 old size not ours
 * (body: our size), 422 bad consistency proof, 409 same size with another
 * root.  Everything up to the signature check is done without the log's
 * lock; the comparison with the state, the proof and the write happen
 * under it.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "libtrace/cosign.h"
#include "libtrace/tlogwitness.h"
#include "witness.h"

static void
answer_text(struct witness_answer *a, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
answer_text(struct witness_answer *a, int status, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(a->body, sizeof(a->body) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(a->body) - 2)
		n = (int)sizeof(a->body) - 2;
	a->body[n++] = '\n';
	a->body[n] = '\0';
	a->len = (size_t)n;
	a->status = status;
	a->content_type = "text/plain; charset=utf-8";
}

/* 409 with the latest cosigned size (tlog-witness: "The response body
 * MUST consist of the tree size ... in decimal, followed by a newline"). */
static void
answer_size(struct witness_answer *a, uint64_t size)
{
	int n = snprintf(a->body, sizeof(a->body), "%" PRIu64 "\n", size);

	a->len = (size_t)n;
	a->status = 409;
	a->content_type = TLOG_WITNESS_SIZE_TYPE;
}

struct witness_log *
witness_find_log(struct witness *w, const char *origin)
{
	for (size_t i = 0; i < w->log_count; i++)
		if (strcmp(w->logs[i].origin, origin) == 0)
			return &w->logs[i];
	return NULL;
}

enum trace_status
witness_add_log_key(struct witness *w, const char *vkey,
    struct trace_error *err)
{
	struct note_verifier key;
	struct witness_log *log;
	enum trace_status st;

	if ((st = note_verifier_parse(vkey, strlen(vkey), &key, err)) !=
	    TRACE_OK)
		return st;
	/* tlog-policy: a log vkey's name is the log's origin. */
	log = witness_find_log(w, key.name);
	if (log == NULL) {
		if (w->log_count == WITNESS_LOGS_MAX)
			return trace_error_set(err, TRACE_ETOOBIG,
			    "too_many_logs", NULL, "at most %d logs",
			    WITNESS_LOGS_MAX);
		log = &w->logs[w->log_count++];
		memset(log, 0, sizeof(*log));
		memcpy(log->origin, key.name, sizeof(log->origin));
		pthread_mutex_init(&log->lock, NULL);
	}
	for (size_t i = 0; i < log->key_count; i++)
		if (memcmp(log->keys[i].public_key, key.public_key,
		    ED25519_PUBLIC_LEN) == 0)
			return trace_error_set(err, TRACE_ECONFLICT,
			    "duplicate_key", NULL, "%s is given twice", vkey);
	if (log->key_count == WITNESS_LOG_KEYS_MAX)
		return trace_error_set(err, TRACE_ETOOBIG, "too_many_keys", NULL,
		    "at most %d keys per log", WITNESS_LOG_KEYS_MAX);
	log->keys[log->key_count++] = key;
	return TRACE_OK;
}

/*
 * Under log->lock: the state checks and the write.  Returns true when the
 * checkpoint may be cosigned (answer untouched), false with the answer
 * filled.
 */
static bool
advance(struct witness_log *log, const struct tlog_witness_request *req,
    const struct checkpoint *cp, struct witness_answer *answer)
{
	struct merkle_bytes proof[TLOG_WITNESS_PROOF_MAX];
	struct trace_error err;

	/* "The witness MUST check that the old size matches the size of the
	 * latest checkpoint it cosigned ... (or zero if it never cosigned
	 * a checkpoint for that origin)." */
	if (req->old_size != log->size) {
		answer_size(answer, log->size);
		return false;
	}
	if (req->old_size == cp->size) {
		/* "If the old size matches the checkpoint size, the witness
		 * MUST check that the root hashes are also identical." */
		if (log->has_state &&
		    memcmp(log->root, cp->root, MERKLE_HASH_LEN) != 0) {
			answer_size(answer, log->size);
			return false;
		}
		if (req->proof_count != 0) {
			answer_text(answer, 422, "a proof between equal sizes "
			    "is empty");
			return false;
		}
		if (log->has_state)
			return true; /* nothing new to remember */
	} else if (req->old_size == 0) {
		/* "The proof MUST be empty if the old size is zero." */
		if (req->proof_count != 0) {
			answer_text(answer, 422, "the proof from size 0 is "
			    "empty");
			return false;
		}
	} else {
		/* RFC 6962 2.1.2, verified as RFC 9162 2.1.4.2. */
		for (size_t i = 0; i < req->proof_count; i++)
			proof[i] = merkle_bytes_hash(req->proof[i]);
		if (merkle_verify_consistency(req->old_size, cp->size, proof,
		    req->proof_count, merkle_bytes_hash(log->root),
		    merkle_bytes_hash(cp->root), &err) != TRACE_OK) {
			answer_text(answer, 422, "the consistency proof from "
			    "%" PRIu64 " to %" PRIu64 " does not verify: %s",
			    req->old_size, cp->size, err.message);
			return false;
		}
	}
	/* "The witness MUST persist the new checkpoint before responding." */
	if (witness_state_save(log, req->note, req->note_len, cp->size,
	    cp->root, &err) != TRACE_OK) {
		fprintf(stderr, "trace-witness: %s\n", err.message);
		answer_text(answer, 500, "cannot store the checkpoint");
		return false;
	}
	return true;
}

void
witness_add_checkpoint(struct witness *w, const char *body, size_t len,
    struct witness_answer *answer)
{
	struct tlog_witness_request req;
	struct note_parsed parsed;
	struct witness_log *log;
	struct trace_error err;
	struct checkpoint cp;
	size_t line_len = 0, text_len = 0;
	bool trusted = false, ok;

	memset(answer, 0, sizeof(*answer));
	memset(&parsed, 0, sizeof(parsed));
	if (tlog_witness_request_parse(body, len, &req, &err) != TRACE_OK) {
		answer_text(answer, err.status == TRACE_ETOOBIG ? 413 : 400,
		    "%s", err.message);
		goto out;
	}
	if (note_parse(req.note, req.note_len, &parsed, &err) != TRACE_OK ||
	    checkpoint_parse(req.note, parsed.text_len, &cp, &err) !=
	    TRACE_OK) {
		answer_text(answer, 400, "not a checkpoint: %s", err.message);
		goto out;
	}
	/* "If the checkpoint origin is unknown, the witness MUST respond
	 * with a 404 Not Found." */
	if ((log = witness_find_log(w, cp.origin)) == NULL) {
		answer_text(answer, 404, "unknown log origin");
		goto out;
	}
	/* "... MUST ignore signatures from unknown keys ... If none of the
	 * signatures verify against a trusted public key ... 403." */
	for (size_t i = 0; i < log->key_count && !trusted; i++)
		trusted = note_verify(req.note, req.note_len, &log->keys[i],
		    &text_len, NULL) == TRACE_OK;
	if (!trusted) {
		answer_text(answer, 403, "no valid signature by a key of %s",
		    log->origin);
		goto out;
	}
	/* "The old size MUST be equal to or lower than the checkpoint
	 * size. Otherwise ... 400." */
	if (req.old_size > cp.size) {
		answer_text(answer, 400, "old size %" PRIu64 " is above the "
		    "checkpoint's %" PRIu64, req.old_size, cp.size);
		goto out;
	}
	pthread_mutex_lock(&log->lock);
	ok = advance(log, &req, &cp, answer);
	pthread_mutex_unlock(&log->lock);
	if (!ok)
		goto out;
	/* The state is on disk: cosign the note text (the checkpoint body,
	 * extension lines included: tlog-cosignature). */
	if (cosign_sign(&w->signer, req.note, parsed.text_len,
	    (uint64_t)time(NULL), answer->body, sizeof(answer->body),
	    &line_len, &err) != TRACE_OK) {
		fprintf(stderr, "trace-witness: cannot cosign: %s\n",
		    err.message);
		answer_text(answer, 500, "cannot cosign");
		goto out;
	}
	answer->len = line_len;
	answer->status = 200;
	answer->content_type = "text/plain; charset=utf-8";
out:
	note_parsed_clear(&parsed);
}
