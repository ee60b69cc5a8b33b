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

/* Prometheus lines for the counters (for health.c's /metrics). */
void log_metrics_render(struct buf *out);

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

void log_handle_log(struct request *req);            /* GET /api/v1/log */
void log_handle_checkpoint(struct request *req);     /* GET /api/v1/checkpoint */
void log_handle_proofs(struct request *req);         /* GET /api/v1/proofs/... */

/* ---- chainbundle.c ------------------------------------------------------ */

/*
 * The bundle JSON of chain (an id from parse_chain_path) into out, as GET
 * /api/v1/bundles serves it and the pages' verdict checks it.
 * TRACE_ENOTFOUND for an unknown chain; TRACE_ESTORE ("not_yet_logged")
 * when no checkpoint covers it in LOG_BUNDLE_WAIT_MS.
 */
enum trace_status chain_bundle_build(struct request *req, const char *chain,
    struct buf *out, struct trace_error *err);

/* ---- bundles.c ---------------------------------------------------------- */

void bundles_handle_bundle(struct request *req);     /* GET /api/v1/bundles/... */

#endif
