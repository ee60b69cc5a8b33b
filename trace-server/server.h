/*
 * server.h - what trace-server's modules share: the configuration, the
 * process-wide state (trust anchor, log key, key cache, metrics), the
 * per-worker state (its Redis connection), the router (router.c), the
 * request helpers of http.c, the key cache and stored statements as
 * served (statement.c).  One file per resource implements the
 * handlers declared here; router.c's table says which path reaches which.
 */
#ifndef TRACE_SERVER_H
#define TRACE_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include <civetweb.h>

#include "libtrace/buf.h"
#include "libtrace/error.h"
#include "libtrace/fold.h"
#include "libtrace/keys.h"
#include "libtrace/policy.h"
#include "libtrace/tlogpolicy.h"
#include "clientaddr.h"
#include "metrics.h"
#include "monotonic.h"
#include "store.h"

#define BODY_MAX_SINGLE (64 * 1024)         /* one envelope */
#define BODY_MAX_BATCH (4 * 1024 * 1024)    /* up to 1000 envelopes */
#define BATCH_MAX 1000

struct server_config {
	char listen[128];
	char redis[300];
	char root_key[1024];
	char log_key[1024];
	char log_origin[256];
	char log_state[1024];            /* --log-state DIR (SPEC 9) */
	bool log_state_init;             /* --log-state-init */
	char witness_policy[1024];       /* --witness-policy FILE (SPEC 9) */
	char witness_display[2048];      /* --witness-display NAME=TEXT;...  */
	bool print_log_vkey;             /* --print-log-vkey: print, exit */
	char public_url[512];
	char verifier_url[512];          /* --verifier-url (SPEC 10), or "" */
	int threads;
	int redis_wait_replicas;         /* WAIT for this many after appends */
	char code_pepper[1024];          /* --code-pepper FILE (SPEC 12) */
	struct client_proxies trusted_proxies;  /* --trusted-proxy CIDR */
	/* Documents (blobs.c, blobsweep.c), bytes and seconds. */
	long long max_blob;              /* --max-blob */
	long long blob_quota;            /* --blob-quota, per key per day */
	long long blob_store_max;        /* --blob-store-max */
	long long blob_grace;            /* --blob-grace */
	/* Receipt time (SPEC 8), seconds. */
	long long max_age;               /* --max-age */
	long long grace;                 /* --grace */
	long long index_proof_grace;     /* --index-proof-grace, seconds */
	int rate_limit;                  /* --rate-limit: per address, costly
	                                  * routes (admission.h); 0: none */
};

#define BLOB_MAX_DEFAULT (20LL * 1000 * 1000)
/* A witness's display name on pages (--witness-display), in bytes. */
#define WITNESS_DISPLAY_MAX 100
#define BLOB_QUOTA_DEFAULT (100LL * 1000 * 1000)
#define BLOB_STORE_MAX_DEFAULT (2LL * 1000 * 1000 * 1000)
#define BLOB_GRACE_DEFAULT (24LL * 3600)

struct key_cache;
struct tlog_policy;

struct server {
	struct server_config cfg;
	struct store_address redis;
	struct key_state root;           /* the trust anchor */
	struct key_pair log_key;
	struct tlog_policy *witness_policy;  /* NULL: checkpoints unwitnessed */
	char *witness_policy_text;           /* its file, as /api/v1/log
	                                      * serves it to verify.js */
	/* What pages call witness i of the policy ("" : its policy name). */
	char witness_display[TLOG_POLICY_WITNESSES_MAX][WITNESS_DISPLAY_MAX + 1];
	struct key_cache *keys;
	struct metrics metrics;
	struct mg_context *mg;
	/* SPEC 12: the code MACs' key (code_pepper_len 0: codes are off). */
	unsigned char code_pepper[256];
	size_t code_pepper_len;
};

/* Per worker thread: created in civetweb's init_thread callback. */
struct worker {
	struct store *store;
	struct server *srv;
};

struct request {
	struct mg_connection *conn;
	const struct mg_request_info *info;
	struct server *srv;
	struct worker *worker;
	const char *path;                /* decoded-free raw path */
	/* The query string (NULL: none); for a compressed Digital Link, the
	 * parameters compressed into it and then the request's own. */
	const char *query;
	int status;                      /* set by the send helpers */
	bool close;                      /* answer with Connection: close
	                                  * (admission.h) */
	bool bundle_no_wait;             /* a bundle is not worth waiting
	                                  * for a checkpoint (chainbundle.c) */
	bool pending_known;              /* pending_from is set (witness.c) */
	long long pending_from;          /* witness_pending_from() */
	/* Headers every answer to this request carries (the resolver's
	 * CORS and owl:sameAs), "" or CRLF-terminated lines. */
	char also_headers[1200];
};

/* ---- router.c ---------------------------------------------------------- */

/*
 * Answer one request (civetweb's begin_request): the route table's handler
 * for its path, 405 with Allow for a method that route does not allow, 404
 * for an unknown path; then count it.  Returns the status sent.
 */
int router_dispatch(struct mg_connection *conn, struct server *srv);

/* Give each row of the route table its metrics label (once, at start-up,
 * before any thread), so /metrics (health.c) need not know the table. */
void router_name_routes(struct metrics *m);

/* ---- http.c ------------------------------------------------------------ */

/* Send a complete response (Content-Length, keep-alive friendly). */
void http_send(struct request *req, int status, const char *content_type,
    const void *body, size_t len, const char *extra_headers);
/* Only the head of such a response, for a body of len bytes that the
 * caller then writes itself (mg_write) in pieces: a streamed document. */
void http_send_head(struct request *req, int status, const char *content_type,
    size_t len, const char *extra_headers);
/* Send b as application/json (or a 500 if building it failed). */
void http_send_json(struct request *req, int status, struct buf *b);
/* {"error":{"code","message","field"}} with the status of err. */
void http_send_error(struct request *req, const struct trace_error *err);
/* The same with extra members appended to the top-level object (e.g.
 * ,"head":{...}), given as trusted JSON text. */
void http_send_error_with(struct request *req, const struct trace_error *err,
    const char *extra_json);
/* Write the {"code","message","field"} object of err into b. */
void http_error_object(struct buf *b, const struct trace_error *err);
/* 405 method_not_allowed (JSON error shape) with "Allow: allow". */
void http_send_method_not_allowed(struct request *req, const char *allow);

/*
 * Cross-origin reads (SPEC 10, docs/PROTOCOL.md 11.1): the header the
 * router puts on every GET and HEAD answer of a read-only route, and the
 * answer to a CORS preflight (OPTIONS) on one: 204, reads only.
 */
#define HTTP_CORS_READ "Access-Control-Allow-Origin: *\r\n"
void http_send_preflight(struct request *req);

/*
 * Read the request body (Content-Length or chunked) up to max bytes into a
 * malloc'd NUL-terminated buffer.  TRACE_ETOOBIG past max (the rest is not
 * read), TRACE_EMALFORMED for a truncated body.
 */
enum trace_status http_read_body(struct request *req, size_t max, char **body,
    size_t *len, struct trace_error *err);

/* The request's Accept header prefers type (simple substring check). */
bool http_accepts(const struct request *req, const char *type);

/* ---- keycache.c -------------------------------------------------------- */

struct key_cache *key_cache_new(void);
void key_cache_free(struct key_cache *c);

/*
 * The state of keyid: the root, a cached enrolled key, or loaded from the
 * store.  *found false when the key was never enrolled.  Revocation in the
 * result may be stale by the time of an append; the store re-checks it
 * atomically.
 */
enum trace_status key_cache_get(struct server *srv, struct store *store,
    const char *keyid, struct key_state *state, bool *found,
    struct trace_error *err);

/* Forget keyid (after a revocation through this server). */
void key_cache_forget(struct key_cache *c, const char *keyid);

/* Room for a k:org record ("<logIndex> <n> <first logIndex>"). */
#define KEY_ORG_WHERE_MAX 80

/*
 * The registered org id (cached for a few seconds, keycache.c): *found
 * false if none.  where receives its k:org record (append_key_args
 * .org_where), *first_index the log index of its first entry.
 */
enum trace_status key_cache_org(struct server *srv, struct store *store,
    const char *id, struct org_info *org, char *where, size_t where_size,
    long long *first_index, bool *found, struct trace_error *err);

/* Re-read org id at its next use (after an org entry through this server). */
void key_cache_forget_org(struct key_cache *c, const char *org);

/* What pages show as a key's org: its registered org's name (Chinese or
 * English), never the enrollment's text, when it belongs to one; else the
 * round-1 free text. */
const char *key_state_org_name(const struct key_state *state, bool chinese);

/*
 * The entry of stored key statement r (its envelope read as stored data:
 * dsse_envelope_parse_stored).  A round-1 enrollment of a public key that
 * key_entry_parse now refuses (weak_public_key) is still read whole and
 * sets *weak: the key was never validly enrolled.  Anything else that does
 * not parse is TRACE_ESTORE "store_corrupt".
 */
enum trace_status key_cache_record_entry(const struct store_record *r,
    struct key_entry *entry, bool *weak, struct trace_error *err);

/*
 * The signers' side of a fold's input: for st[0..count), whose ev is set,
 * signer_role and signer_org from each signer's enrollment (what the
 * registry says, never what an event claims).  orgs[i] receives the org
 * and st[i].signer_org points at it, so orgs must outlive the fold_run().
 * A signer never enrolled gets ROLE_COUNT, "" and signer_unenrolled (a
 * hand-edited store holds one, or round 1's data: a key it enrolled that
 * today's rules refuse reads as never enrolled; fold.h says how the fold
 * reads its statements).
 */
enum trace_status key_cache_signers(struct server *srv, struct store *store,
    struct fold_statement *st, size_t count,
    char (*orgs)[KEY_TEXT_MAX + 1], struct trace_error *err);

/*
 * SPEC 8 "Revocation and compromise" (libtrace/policy.h
 * policy_compromised): is the statement at log_index by the key in state
 * read as signed with a compromised key?  Its own revoke's compromisedAt
 * against the statement's receipt time, or an enrollment made by a
 * compromised admin after its compromisedAt (transitively).  The fold's
 * fold_statement.compromised comes from here (key_cache_signers).
 */
enum trace_status key_cache_compromised(struct server *srv,
    struct store *store, const struct key_state *state, long long log_index,
    bool *out, struct trace_error *err);

/* ---- statement.c ------------------------------------------------------- */

struct dsse_envelope;
struct trace_event;

/*
 * The envelope of stored record r, read as stored data
 * (dsse_envelope_parse_stored: round 1's several signatures too) into env,
 * which the caller clears with dsse_envelope_clear().  A record that does
 * not parse is TRACE_ESTORE "store_corrupt".
 */
enum trace_status statement_read_envelope(const struct store_record *r,
    struct dsse_envelope *env, struct trace_error *err);

/*
 * The event of stored record r: its envelope (statement_read_envelope)
 * and then its payload (event_parse_stored: round 1's forms too) into ev,
 * which the caller frees with event_free().  env, if not NULL, keeps the
 * envelope (the caller clears it); otherwise it is cleared here.  A record
 * that does not parse is TRACE_ESTORE "store_corrupt" (nothing to free).
 */
enum trace_status statement_read_event(const struct store_record *r,
    struct dsse_envelope *env, struct trace_event *ev,
    struct trace_error *err);

/*
 * Append stored statement r's envelope to b as it is served: the stored
 * text when env, r's envelope as dsse_envelope_parse_stored read it, has
 * one signature; a round-1 envelope with more is first cut (in place) by
 * dsse_envelope_keep_verified to the one that verifies under the key of
 * the signer its payload names (the root's, else the key cache's).  A
 * signer that is not enrolled (a round-1 key refused today) cannot have
 * its signature chosen: the stored text is served as it is, and the
 * bundle's verifier reports it.  No signature that verifies under an
 * enrolled signer's key is TRACE_ESTORE "store_corrupt"; a store failure
 * is key_cache_get's.
 */
enum trace_status statement_write_envelope(struct server *srv,
    struct store *store, const struct store_record *r,
    struct dsse_envelope *env, struct buf *b, struct trace_error *err);

/* ---- blobsweep.c ------------------------------------------------------- */

/* Start / stop the thread that deletes documents no event named within
 * cfg.blob_grace.  start returns 0 or -1 (said on stderr). */
int blob_sweep_start(struct server *srv);
void blob_sweep_stop(void);

/* ---- handlers (one file per resource) ---------------------------------- */

void blobs_handle(struct request *req);              /* blobs.c */

void ingest_handle_events(struct request *req);      /* ingest.c */
/* ingest.c: check, store and answer envelopes as POST /api/v1/events does
 * (the codes upload sends its codes.issued through it); the answer's
 * status, or 0 with err when the request as a whole fails. */
int ingest_envelopes(struct request *req,
    const struct json_value *const *values, size_t count, bool batch,
    struct buf *out, struct trace_error *err);
void registry_handle_keys(struct request *req);      /* registry.c */
void chains_handle_chain(struct request *req);       /* chains.c */
void chains_handle_event(struct request *req);       /* chains.c */
void health_handle(struct request *req);             /* health.c */
void resolver_handle(struct request *req);           /* resolver.c: /01/... */
void resolver_handle_compressed(struct request *req); /* /{compressed} */
void resolver_handle_description(struct request *req); /* /.well-known/gs1resolver */
void inspector_handle(struct request *req);          /* inspector.c */
void qrcode_handle(struct request *req);             /* qrcode.c */
void labels_handle(struct request *req);             /* labels.c */
void page_handle_static(struct request *req);        /* page.c: /static/ */

#endif
