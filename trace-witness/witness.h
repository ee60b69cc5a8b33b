/*
 * witness.h - trace-witness: a C2SP tlog-witness (docs/PROTOCOL.md section
 * 9.6) that cosigns the checkpoints of the logs it is configured with,
 * only when they are consistent with the latest one it cosigned.
 *
 *   main.c           options, start-up, civetweb, shutdown
 *   http.c           the route table, bodies in and answers out
 *   addcheckpoint.c  POST /add-checkpoint: the checks and the cosignature
 *   state.c          the state directory: its lock, one file per log
 */
#ifndef TRACE_WITNESS_H
#define TRACE_WITNESS_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libtrace/error.h"
#include "libtrace/merkle.h"
#include "libtrace/note.h"

#define WITNESS_LOGS_MAX 64
#define WITNESS_LOG_KEYS_MAX 4   /* keys per origin (rotation) */
#define WITNESS_ANSWER_MAX 1024

/* One log the witness follows, identified by its origin line. */
struct witness_log {
	char origin[CHECKPOINT_ORIGIN_MAX + 1];
	size_t key_count;
	struct note_verifier keys[WITNESS_LOG_KEYS_MAX];
	char state_path[PATH_MAX];

	/*
	 * The latest cosigned tree.  lock is held from reading it until the
	 * new one is on disk, so two requests can never both advance from
	 * the same state (tlog-witness: check and persist atomically).
	 */
	pthread_mutex_t lock;
	bool has_state;
	uint64_t size;
	unsigned char root[MERKLE_HASH_LEN];
};

struct witness {
	struct note_signer signer;          /* cosignature/v1 key ID */
	char vkey[NOTE_VERIFIER_KEY_MAX];   /* type 0x04 */
	char state_dir[PATH_MAX];
	int state_lock_fd;
	size_t log_count;
	struct witness_log logs[WITNESS_LOGS_MAX];
};

/* What a request gets: a status, a content type and a short body. */
struct witness_answer {
	int status;
	const char *content_type;
	char body[WITNESS_ANSWER_MAX];
	size_t len;
};

/* ---- addcheckpoint.c ---------------------------------------------------- */

/*
 * Answer one add-checkpoint request body (at most TLOG_WITNESS_BODY_MAX
 * bytes; the caller answers 413 above that).  Persists the new state
 * before returning 200.  Safe to call from several threads.
 */
void witness_add_checkpoint(struct witness *w, const char *body, size_t len,
    struct witness_answer *answer);

/* The log with this origin, or NULL. */
struct witness_log *witness_find_log(struct witness *w, const char *origin);

/* Add a log vkey (type 0x01; its name is the origin), grouping keys of
 * one origin under one log. */
enum trace_status witness_add_log_key(struct witness *w, const char *vkey,
    struct trace_error *err);

/* ---- state.c ------------------------------------------------------------- */

/*
 * Take the state directory (created 0700 if missing) under an exclusive
 * flock held for the process's life, so two witnesses never share one,
 * and load every configured log's state file.  A state file that does
 * not parse as a checkpoint of its origin is an error: starting from
 * nothing would let the log fork past what was cosigned.
 */
enum trace_status witness_state_open(struct witness *w, const char *dir,
    struct trace_error *err);

/*
 * Write the checkpoint note as the log's new state, atomically and
 * durably (fileio.h), and update log's size and root.  Caller holds
 * log->lock.
 */
enum trace_status witness_state_save(struct witness_log *log,
    const char *note, size_t note_len, uint64_t size,
    const unsigned char root[MERKLE_HASH_LEN], struct trace_error *err);

/* Release the directory lock.  Accepts a witness never opened. */
void witness_state_close(struct witness *w);

/* ---- http.c -------------------------------------------------------------- */

struct mg_connection;

/* civetweb's begin_request: every request goes through the route table. */
int witness_http_dispatch(struct mg_connection *conn, struct witness *w);

#endif
