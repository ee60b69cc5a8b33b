/*
 * log.h - the transparency log inside trace-server (docs/PROTOCOL.md
 * section 9): the integrator thread that turns pending leaves into stored
 * tree nodes and signed checkpoints, the log's metrics, a chain's bundle
 * of proofs (chainbundle.c), and the handlers of the log's resources
 * (log.c, bundles.c).  Its Redis calls, and the stored layout of the
 * tree, are the store's (store_log.c).
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

#define LOG_BATCH_MAX 10000           /* leaves integrated per step */
#define LOG_LEASE_MS 5000             /* integrator lease lifetime */
#define LOG_IDLE_MS 200               /* integrator poll interval */
#define LOG_SIGN_INTERVAL_MS 1000     /* checkpoint at least this often */
#define LOG_BUNDLE_WAIT_MS 2000       /* bundles wait this long for a checkpoint */
/* A request reads the lot index as of the head it read at most this long
 * ago (without a witness policy); older undo records are dropped.  The
 * default of --index-proof-grace (cfg.index_proof_grace, seconds). */
#define LOG_INDEX_PROOF_GRACE_DEFAULT 60

/* ---- log.c -------------------------------------------------------------- */

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

/*
 * Why the integrator last refused to sign, into buf (empty when its last
 * attempt signed or it never refused): /readyz shows it.
 */
void log_refusal_get(char *buf, size_t size);

/* Prometheus lines for the counters (for health.c's /metrics). */
void log_metrics_render(struct buf *out);

/*
 * Start the integrator thread (after the store is prepared); 0 or -1.
 * Without the log's secret key (--log-key LOG.pub) there is no integrator:
 * this process serves and another one signs.  With it, opens the mark in
 * srv->cfg.log_state first and fails if log_mark_open() does.
 */
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
 * store_log_nodes(), counted in the log's metrics: every fetch of stored
 * tree nodes for a proof or a bundle goes through here.
 */
enum trace_status log_fetch_nodes(struct store *s, uint64_t size,
    const struct merkle_node *nodes, size_t count, unsigned char *hashes,
    struct trace_error *err);

/*
 * Plan, fetch (one round trip) and assemble the inclusion proof of index
 * in the tree of size.  proof holds MERKLE_PROOF_MAX hashes.
 */
enum trace_status log_prove_inclusion(struct store *s, uint64_t index,
    uint64_t size, unsigned char proof[][MERKLE_HASH_LEN], size_t *count,
    struct trace_error *err);

/* The same for the consistency proof from size from to size to. */
enum trace_status log_prove_consistency(struct store *s, uint64_t from,
    uint64_t to, unsigned char proof[][MERKLE_HASH_LEN], size_t *count,
    struct trace_error *err);

void log_handle_log(struct request *req);            /* GET /api/v1/log */
void log_handle_checkpoint(struct request *req);     /* GET /api/v1/checkpoint */
void log_handle_proofs(struct request *req);         /* GET /api/v1/proofs/... */

/* ---- log_index.c: the lot index's part of a step (SPEC 11) ---------------- */

struct log_index_view {
	struct store *store;
	bool current;
	uint64_t version;
};

struct log_index_step {
	struct log_index_view view;     /* the stored index, as now */
	struct index_meta meta;         /* as committed before the step */
	struct lotindex_tree *tree;     /* NULL when nothing was pending */
	struct index_commit commit;     /* what the step's commit writes */
	bool last_is_statement;         /* the tree after the step ends with
	                                   an index statement */
};

/*
 * Apply the pending leaves st (leaves n0 ...) to the stored index: fills
 * step->commit with the changed records and the new root.  Fails with
 * TRACE_ESTORE "index_behind" unless the index covers exactly n0 leaves.
 * log_index_step_clear() in any case.
 */
enum trace_status log_index_apply(struct store *s, uint64_t n0,
    const struct log_state *st, struct log_index_step *step,
    struct trace_error *err);
void log_index_step_clear(struct log_index_step *step);

/*
 * If the index covers fewer than the n0 integrated leaves (a log from
 * before SPEC 11), *needed and step gets the next batch of them, read from
 * the stored leaf ids, for an index-only commit.
 */
enum trace_status log_index_backfill(struct store *s, uint64_t n0,
    struct log_index_step *step, bool *needed, struct trace_error *err);

/*
 * Give every index statement logged before receipt times were indexed
 * (log:{log}:lx:times, SPEC 8) its entry there, from its own signed time.
 * Idempotent; nothing to do costs two reads.  *added counts the entries.
 */
enum trace_status log_index_times_backfill(struct store *s, size_t *added,
    struct trace_error *err);

/*
 * SPEC 8 "Data from round 1": the log index of the log's first index
 * statement into *first, the fold's round1_before (libtrace/fold.h):
 * statements logged below it were accepted by the round-1 rules, every
 * later one by today's.  FOLD_ROUND1_ALWAYS while the log has none (a
 * round-1 log not yet indexed: all of it is round 1 so far).
 */
enum trace_status log_index_round1_before(struct store *s, long long *first,
    struct trace_error *err);

/*
 * Sign and append the index statement over the first size leaves (the
 * index as step->commit says) if the log still has exactly size leaves;
 * *appended says whether it did.  Its "first" names the log's first index
 * statement (itself, for the first), docs/PROTOCOL.md 9.10.2; "maxAge"
 * and "grace" the receipt-time limits (seconds) ingest enforces here
 * (--max-age, --grace), which verifiers check from receipts (SPEC 8).
 */
enum trace_status log_index_append_statement(struct store *s,
    const struct key_pair *log_key, uint64_t size,
    const struct log_index_step *step, long long max_age, long long grace,
    bool *appended, struct trace_error *err);

/*
 * Write ,"index":{...} (docs/PROTOCOL.md 10.5) for a bundle against the
 * checkpoint of size leaves: the index statement that is its last leaf,
 * that statement's inclusion proof, and the index proofs of chain and of
 * every keyid, read as the index was at that checkpoint.  Writes nothing
 * when the checkpoint ends with no index statement (a log from before
 * SPEC 11, or the empty log).
 */
enum trace_status log_index_bundle(struct store *s, const char *chain,
    char (*keyids)[KEYID_LEN + 1], size_t nkeyids, uint64_t size,
    struct buf *out, struct trace_error *err);

/* ---- log_mark.c --------------------------------------------------------- */

/*
 * The last checkpoint this process's log key signed, kept in --log-state
 * DIR under an exclusive lock (SPEC 9).  One per process, owned by the
 * integrator; log_mark_close() releases the lock.
 */
struct log_mark {
	int lock_fd;                  /* holds flock(LOCK_EX); -1 if closed */
	char path[4096];              /* DIR/checkpoint */
	bool have;                    /* cp is set */
	struct checkpoint cp;         /* origin, size, root (no extensions) */
};

/*
 * Lock DIR (created 0700 if missing) and read its checkpoint, verified
 * with v.  No checkpoint file: fine for an empty log; if Redis (s) holds a
 * tree, TRACE_ECONFLICT unless init, which adopts Redis's checkpoint after
 * verifying it with v.  TRACE_ECONFLICT too when another process holds the
 * lock.  On failure nothing stays open.
 */
enum trace_status log_mark_open(struct log_mark *m, const char *dir,
    bool init, const struct note_verifier *v, struct store *s,
    struct trace_error *err);

/* Replace the mark with note (cp its parsed body), atomically and durably. */
enum trace_status log_mark_save(struct log_mark *m, const char *note,
    size_t len, const struct checkpoint *cp, struct trace_error *err);

/* Release the lock.  Accepts NULL and a closed mark. */
void log_mark_close(struct log_mark *m);

/* ---- witness.c ----------------------------------------------------------- */

#define WITNESS_REFRESH_MS (5 * 60 * 1000)  /* resubmit at least this often */
#define WITNESS_TIMEOUT_MS 5000             /* one add-checkpoint request */
#define WITNESS_CONNECT_TIMEOUT_MS 2000
#define WITNESS_BACKOFF_FIRST_MS 1000       /* after a failure, doubling */
#define WITNESS_BACKOFF_MAX_MS 60000
#define WITNESS_BUNDLE_WAIT_MS 500          /* bundles wait for a quorum */

/*
 * Read --witness-policy FILE into srv->witness_policy and check that its
 * log line is this server's log key, and --witness-display against it; 0,
 * or -1 after saying why.
 */
int witness_load_policy(struct server *srv);

/* What pages call the policy's witness i: its --witness-display text, or
 * its policy name. */
const char *witness_display_name(const struct server *srv, size_t i);

/*
 * Start one submitting thread per witness of the policy (only in the
 * process that signs, after log_start()); 0 or -1.  Without a policy or
 * a log key, nothing starts.
 */
int witness_start(struct server *srv);

/* Stop the threads.  Safe if they never started. */
void witness_stop(void);

/*
 * The integrator signed note (and committed it): hand it to the
 * witnesses' threads.  Never blocks on the network.
 */
void witness_offer(const char *note, size_t len);

/*
 * What /readyz reports (SPEC 9): *lag_seconds is how long the log has
 * held a signed checkpoint that the published witnessed one does not
 * cover (0 when caught up); the per-witness lines go into out.  false
 * when this process submits to no witnesses.
 */
bool witness_status(struct buf *out, long long *lag_seconds);

/* Prometheus lines for the witnesses (health.c's /metrics). */
void witness_metrics_render(struct buf *out);

/*
 * Where pending starts for the server's own views (SPEC 9, docs/PROTOCOL.md
 * 9.8): the size of the published witnessed checkpoint, so that a
 * statement at a log index at or above it is folded as pending
 * (fold_statement.pending), exactly as a bundle's pending member is; 0
 * before the first witnessed checkpoint.  LLONG_MAX without a witness
 * policy: nothing is pending and every view folds the stored chain as it
 * is.  Read from the store at most every WITNESS_VIEW_MS per process (the
 * signing process learns its own publications at once) and fixed for the
 * rest of req, so that one answer folds every part against one size.  A
 * store that does not answer leaves the last size known.
 */
#define WITNESS_VIEW_MS 250
long long witness_pending_from(struct request *req);

/* ---- chainbundle.c ------------------------------------------------------ */

/*
 * The bundle JSON of chain (an id from parse_chain_path) into out, as GET
 * /api/v1/bundles serves it and the pages' verdict checks it.
 * TRACE_ENOTFOUND for an unknown chain; TRACE_ESTORE ("not_yet_logged")
 * when no checkpoint covers it in LOG_BUNDLE_WAIT_MS.
 */
enum trace_status chain_bundle_build(struct request *req, const char *chain,
    struct buf *out, struct trace_error *err);

/* ---- tiles.c ------------------------------------------------------------ */

void tiles_handle(struct request *req);   /* GET /tlog/... (C2SP tlog-tiles) */

/* ---- bundles.c ---------------------------------------------------------- */

void bundles_handle_bundle(struct request *req);     /* GET /api/v1/bundles/... */

#endif
