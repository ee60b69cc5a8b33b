/*
 * log.h - the transparency log inside trace-server (docs/PROTOCOL.md section 9): the
 * integrator thread that turns pending leaves into stored tree nodes and
 * signed checkpoints (log.c), the log's Redis calls (logstore.c), and the
 * handlers of the log's resources (log.c, bundles.c).
 *
 * Stored layout (the Functions are in store.lua, whose header lists every
 * key): the hash of every perfect node (level, i) lives at byte
 * 32 * (i mod LOG_CHUNK_NODES) of the string log:{log}:t:<level>:<chunk>,
 * chunk = i / LOG_CHUNK_NODES; level 0 holds the leaf hashes.  Statement ids
 * of the leaves (32 raw bytes each) live the same way in log:{log}:ids:<chunk>.
 * log:{log}:integrated says how many leaves the stored tree covers; nodes
 * are always written before it advances, so every node of a tree of that
 * size or smaller is stored.
 */
#ifndef TRACE_LOG_H
#define TRACE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libtrace/buf.h"
#include "libtrace/error.h"
#include "libtrace/merkle.h"
#include "libtrace/note.h"
#include "server.h"

#define LOG_CHUNK_NODES 65536         /* nodes per chunk string (2 MiB) */
#define LOG_BATCH_MAX 10000           /* leaves integrated per step */
#define LOG_LEASE_MS 5000             /* integrator lease lifetime */
#define LOG_IDLE_MS 200               /* integrator poll interval */
#define LOG_SIGN_INTERVAL_MS 1000     /* checkpoint at least this often */
#define LOG_BUNDLE_WAIT_MS 2000       /* bundles wait this long for a checkpoint */

/* ---- logstore.c --------------------------------------------------------- */

/* What the integrator reads in one atomic step. */
struct log_state {
	uint64_t integrated;            /* leaves in the stored tree */
	char *checkpoint;               /* latest signed note, NULL if none */
	size_t checkpoint_len;
	size_t pending;                 /* leaves read (<= the batch) */
	unsigned char (*leaves)[MERKLE_HASH_LEN];  /* leaf integrated + i */
	unsigned char (*ids)[MERKLE_HASH_LEN];     /* statement ids, raw */
};

/* Release what a log_state owns (accepts NULL). */
void log_state_free(struct log_state *st);

/*
 * Take or renew the lease (ms > 0) or give it up (ms == 0).  *held says
 * whether this token holds it now.
 */
enum trace_status logstore_lease(struct store *s, const char *token, long ms,
    bool *held, struct trace_error *err);

/* Integrated size, latest checkpoint and up to batch pending leaves. */
enum trace_status logstore_state(struct store *s, size_t batch,
    struct log_state *out, struct trace_error *err);

/* A run of consecutive nodes of one level (or of leaf ids) to store. */
struct log_run {
	bool ids;                       /* statement ids instead of hashes */
	unsigned level;
	uint64_t first;                 /* index of the first node */
	size_t count;
	const unsigned char *data;      /* count * 32 bytes */
};

/* Store runs with SETRANGE, in one pipeline.  Idempotent. */
enum trace_status logstore_write(struct store *s, const struct log_run *runs,
    size_t count, struct trace_error *err);

enum log_commit_outcome {
	LOG_COMMIT_OK,
	LOG_COMMIT_LEASE_LOST,          /* another integrator took over */
	LOG_COMMIT_MOVED,               /* size or checkpoint changed */
};

/*
 * The atomic step (store.lua log_commit): if token holds the lease, the
 * integrated size is old_size and the latest checkpoint is expected_cp ("" =
 * none), set the size to new_size, drop trim leaves from pending and, if
 * new_cp is not "", publish it as the latest checkpoint and under
 * new_cp_size in the history.
 */
enum trace_status logstore_commit(struct store *s, const char *token,
    uint64_t old_size, uint64_t new_size, size_t trim,
    const char *expected_cp, const char *new_cp, uint64_t new_cp_size,
    enum log_commit_outcome *outcome, struct trace_error *err);

/*
 * Fetch the stored hashes of nodes[0..count) into hashes (count * 32
 * bytes) in ONE round trip (a pipeline of FCALL_RO trace_log_nodes, one
 * per 4096 nodes; a single proof is always one call).  Fails with
 * TRACE_ENOTFOUND ("size_not_integrated") unless the tree of size leaves
 * is integrated; size 0 skips that check (the integrator reading back what
 * it just wrote).
 */
enum trace_status logstore_nodes(struct store *s, uint64_t size,
    const struct merkle_node *nodes, size_t count, unsigned char *hashes,
    struct trace_error *err);

/* Integrated size and latest checkpoint (*text malloc'd, NULL if none). */
enum trace_status logstore_head(struct store *s, uint64_t *integrated,
    char **text, size_t *len, struct trace_error *err);

/* Counters for /metrics and tests: proofs served and the Redis commands
 * they took. */
struct log_counters {
	unsigned long long proofs;            /* inclusion + consistency */
	unsigned long long proof_commands;    /* Redis commands for them */
	unsigned long long checkpoints;       /* signed by this process */
	unsigned long long integrated;        /* leaves integrated here */
	unsigned long long refusals;          /* checkpoints refused */
};

void log_counters_get(struct log_counters *out);

/* Prometheus lines for the counters (for health.c's /metrics). */
void log_metrics_render(struct buf *out);

/* ---- log.c -------------------------------------------------------------- */

/* Start the integrator thread (after the store is prepared); 0 or -1. */
int log_start(struct server *srv);

/* Stop it and give up the lease.  Safe if it never started. */
void log_stop(void);

/*
 * Parse a query integer strictly: 1-19 decimal digits, no sign, no
 * leading zero (but "0"), at most 2^63 - 1.
 */
bool log_parse_uint(const char *s, uint64_t *out);

/* The size and root of a signed checkpoint's body (no signature check:
 * for notes this server stored itself). */
bool log_checkpoint_read(const char *note, size_t len, struct checkpoint *cp);

/*
 * Plan, fetch (one round trip) and assemble the inclusion proof of index
 * in the tree of size.  proof holds MERKLE_PROOF_MAX hashes.
 */
enum trace_status log_prove_inclusion(struct store *s, uint64_t index,
    uint64_t size, unsigned char proof[][MERKLE_HASH_LEN], size_t *count,
    struct trace_error *err);

void log_handle_log(struct request *req);            /* GET /api/v1/log */
void log_handle_checkpoint(struct request *req);     /* GET /api/v1/checkpoint */
void log_handle_proofs(struct request *req);         /* GET /api/v1/proofs/... */

/* ---- bundles.c ---------------------------------------------------------- */

void bundles_handle_bundle(struct request *req);     /* GET /api/v1/bundles/... */

/*
 * The bundle JSON of chain (an id from chains_parse_path) into out, as the
 * handler serves it.  TRACE_ENOTFOUND for an unknown chain; TRACE_ESTORE
 * ("not_yet_logged") when no checkpoint covers it in LOG_BUNDLE_WAIT_MS.
 */
enum trace_status bundles_build(struct request *req, const char *chain,
    struct buf *out, struct trace_error *err);

#endif
