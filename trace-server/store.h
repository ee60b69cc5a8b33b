/*
 * store.h - trace-server's view of Redis: connections (one per worker
 * thread), the Functions loaded at start-up, and typed calls for every read
 * and write the handlers need.  Only store*.c speak RESP (through
 * store_private.h); everything above gets the typed results declared here,
 * never a reply.
 *
 *   store_conn.c     where the store is (--redis), connections and
 *                    Sentinel, the pipeline every call goes through,
 *                    WAIT, loading and checking the Functions
 *   store_chain.c    chains and statements: records, the page read,
 *                    locating a statement, appending events
 *   store_keys.c     the key registry: key entries, appending them
 *   store_log.c      the transparency log: lease, state, tree nodes,
 *                    commit, head
 *   store_recalls.c  the recall indexes: what a recall append adds, the
 *                    list query, the notice stream
 *   store_blobs.c    documents: admitting, storing and reading them, and
 *                    sweeping those no event names
 *   store.lua        the Redis Functions (every write is one atomic step);
 *                    its header documents the key layout
 */
#ifndef TRACE_STORE_H
#define TRACE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libtrace/blob.h"
#include "libtrace/crypto.h"
#include "libtrace/error.h"
#include "libtrace/gs1.h"
#include "libtrace/keyentry.h"
#include "libtrace/keys.h"
#include "libtrace/lotindex.h"
#include "libtrace/merkle.h"

/* ---- store_conn.c ------------------------------------------------------- */

struct store;

#define STORE_SENTINELS_MAX 8
#define STORE_WAIT_MS 1000              /* WAIT timeout after an append */

struct store_endpoint {
	char host[256];
	int port;
};

/*
 * Where the store is, parsed once from --redis (parse_redis_address,
 * parse.h) and used by every open:
 *
 *   redis://[[USER]:PASSWORD@]HOST[:PORT]     one Redis (port 6379)
 *   unix:PATH                                 one Redis on a unix socket
 *   sentinel://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]...]/MASTER
 *       ask these Sentinels (port 26379) for the primary named MASTER,
 *       connect to it, check with ROLE that it is a primary, and ask again
 *       after a failover
 *
 * USER and PASSWORD (Redis 6 ACL; AUTH PASSWORD alone when USER is empty)
 * are sent to the data nodes, not to the Sentinels.
 */
struct store_address {
	bool unix_socket;
	char host[256];
	int port;
	char path[256];
	bool sentinel;
	char master[128];
	struct store_endpoint sentinels[STORE_SENTINELS_MAX];
	size_t sentinel_count;
	char user[128];
	char password[256];
	/* After every append, WAIT for this many replicas (0: do not), so an
	 * acknowledged statement survives the loss of the primary. */
	int wait_replicas;
};

/* The address for logs, without the password. */
void store_address_describe(const struct store_address *addr, char *out,
    size_t size);

/* Connect (1 s connect, 3 s command timeout).  NULL with err on failure.
 * The caller frees with store_close(), which accepts NULL. */
struct store *store_open(const struct store_address *addr,
    struct trace_error *err);
void store_close(struct store *s);

/* FUNCTION LOAD REPLACE of store.lua (compiled into the binary). */
enum trace_status store_load_functions(struct store *s,
    struct trace_error *err);

/*
 * With wait_replicas > 0: make every write the primary has seen so far
 * (by any client) part of this connection's replication offset, then WAIT
 * for wait_replicas replicas to acknowledge it (STORE_WAIT_MS).
 * TRACE_ESTORE ("not_replicated") when fewer did or the connection broke:
 * never retried on a new connection, whose WAIT would prove nothing.
 */
enum trace_status store_wait_replicas(struct store *s,
    struct trace_error *err);

/* PING and check that our Functions are loaded (for /readyz). */
enum trace_status store_check_ready(struct store *s, struct trace_error *err);

/* ---- store_chain.c: records --------------------------------------------- */

/* A stored statement: its id, log index and envelope text. */
struct store_record {
	char id[2 * SHA256_LEN + 1];
	long long log_index;
	const char *envelope;           /* points into the owning list's reply */
	size_t envelope_len;
};

/*
 * A list of records, in a struct the caller owns; store_records_clear()
 * releases what it holds (and accepts a zeroed list).  The envelopes live
 * as long as the list; the struct may be moved (copied, then the original
 * zeroed) to pass it on.
 */
struct store_records {
	struct store_record *items;
	size_t count;
	/* Stored records that did not parse and were left out (only
	 * store_chains() leaves any out; 0 unless Redis was edited by hand). */
	size_t unreadable;
	void *reply;                    /* private: owns the envelope text */
};

void store_records_clear(struct store_records *r);

/* The records of a chain in seq order (count 0 if the chain is unknown). */
enum trace_status store_chain(struct store *s, const char *chain,
    struct store_records *out, struct trace_error *err);

/*
 * The records of count chains in one round trip: out[i] gets those of
 * chains[i] (count 0 for an unknown chain).  A record that does not parse
 * is left out and counted in out[i].unreadable, so a page can still show
 * the rest; callers that must not skip any check it.  out[0..count) are
 * zeroed first; the caller releases each with store_records_clear(),
 * whatever the status.
 */
enum trace_status store_chains(struct store *s, const char *const *chains,
    size_t count, struct store_records *out, struct trace_error *err);

/* Where statement id is: an event (chain, seq), a key entry or a
 * document's upload statement. */
struct store_location {
	bool found;
	bool is_key;
	bool is_blob;
	long long log_index;
	long long seq;                  /* events: seq; keys: index in k:entries;
	                                   blobs: index in blobs:statements */
	char chain[CHAIN_ID_MAX + 1];
};

enum trace_status store_locate(struct store *s, const char *id,
    struct store_location *out, struct trace_error *err);

/* One record by location (event: chain + seq; key or upload statement:
 * its index). */
enum trace_status store_record_at(struct store *s,
    const struct store_location *loc, struct store_records *out,
    struct trace_error *err);

/* ---- store_scans.c: scans counted after the page (store.lua trace_scan_add) */

struct scan_add {
	const char *serial;
	long long n;                    /* views to add */
	long long now;                  /* unix seconds: a first scan's time */
	/* Filled in: the count after the add and the first scan, or
	 * counted false (unknown chain, or a new serial past the bound). */
	bool counted;
	long long count;
	long long first_scan;
};

/*
 * Add the views of items[0..count) of one chain in one Function call,
 * counting at most serials_max serials per lot (as store_page_read).
 */
enum trace_status store_scans_add(struct store *s, const char *chain,
    struct scan_add *items, size_t count, long long serials_max,
    struct trace_error *err);

/* ---- store_chain.c: the page read (store.lua trace_page_read) ----------- */

struct chain_page_args {
	const char *chain;              /* chain id */
	const char *serial;             /* the unit's serial, "" for a lot */
	/* The head the caller has parsed already (0 and "" for none): if the
	 * chain still ends there, its records are not sent again. */
	size_t known_count;
	const char *known_head;         /* the id of its last record */
	long long serials_max;          /* serials a lot counts, at most */
};

enum chain_page_status {
	CHAIN_PAGE_NONE,                /* no such chain; nothing was counted */
	CHAIN_PAGE_SAME,                /* it still ends at the known head */
	CHAIN_PAGE_FULL,                /* records holds all of it */
};

struct chain_page {
	enum chain_page_status status;
	struct store_records records;   /* FULL: the chain's records */
	/* The serial's scans (not for a serial past serials_max counted
	 * serials of its lot, nor for a lot). */
	bool scans_known;
	long long scans;
	long long first_scan;           /* unix seconds, 0 if unknown */
};

/*
 * A chain as a page needs it, in ONE round trip: its records (unless the
 * caller has them) and, for a serial, its scan count and first scan,
 * counting this view when asked.  On TRACE_OK the caller releases out
 * with chain_page_clear() (it may move out->records away first).
 */
enum trace_status store_page_read(struct store *s,
    const struct chain_page_args *args, struct chain_page *out,
    struct trace_error *err);
void chain_page_clear(struct chain_page *p);

/* ---- store_chain.c: appends --------------------------------------------- */

/* What an append did. */
enum append_outcome {
	APPEND_OK,          /* appended at log_index */
	APPEND_DUPLICATE,   /* already there: log_index, seq from the store */
	APPEND_CONFLICT,    /* seq < length: head moved */
	APPEND_GAP,         /* seq > length */
	APPEND_WRONG_PREV,  /* prev is not the head */
	APPEND_REVOKED,     /* signer revoked */
	APPEND_UNKNOWN_SIGNER,
	APPEND_KEY_EXISTS,
	APPEND_UNKNOWN_KEY,
	APPEND_ALREADY_REVOKED,
	APPEND_RECALL_NOT_OPEN, /* recall.closed: its recall is not open here */
	APPEND_ORG_CHANGED, /* enroll: the org changed since it was checked */
};

struct append_result {
	enum append_outcome outcome;
	long long log_index;
	long long seq;                  /* events: the seq stored */
	long long head_seq;             /* CONFLICT/GAP/WRONG_PREV: -1 if empty */
	char head_id[2 * SHA256_LEN + 1];
};

/*
 * What a recall event's append adds (recalls.c builds it): the recall
 * indexes and the notice stream change in the same atomic step as the
 * chain (store.lua trace_append_recall).  The recall's JSON object is
 * given in two parts, between which the store puts its log index.
 */
struct append_recall_args {
	bool issued;                    /* recall.issued; false: recall.closed */
	const char *gtin, *lot;         /* the event's */
	const char *org;                /* the signer's organisation */
	const char *closes;             /* recall.closed: the recall it closes */
	const char *head, *tail;        /* the JSON before and after the index */
	size_t head_len, tail_len;
	bool witnessing;                /* a witness policy (SPEC 9): the
	                                 * stream announces a close once the
	                                 * witnesses cosign it */
};

struct append_event_args {
	const char *chain;              /* chain id */
	const char *id;                 /* statement id, hex */
	long long seq;
	const char *prev;               /* hex, "" at seq 0 */
	const char *signer;
	const unsigned char *leaf_hash; /* 32 bytes */
	const char *envelope;           /* canonical envelope JSON */
	size_t envelope_len;
	const struct append_recall_args *recall;  /* recall events, else NULL */
	/* The SHA-256s (hex, space-separated) of the documents the event's
	 * data.attachments names, NULL or "" for none: marked referenced in
	 * the same atomic step (store.lua trace_append_event).  Not with
	 * recall. */
	const char *attachments;
};

/*
 * Append events in order in one pipeline of Function calls (each one
 * atomic).  results[i] is filled for every i on TRACE_OK; TRACE_ESTORE if
 * Redis failed (then some may have been applied: callers resubmit, which
 * is idempotent).
 */
enum trace_status store_append_events(struct store *s,
    const struct append_event_args *args, size_t count,
    struct append_result *results, struct trace_error *err);

/* ---- store_keys.c ------------------------------------------------------- */

struct append_key_args {
	const char *id;
	enum key_op op;
	const char *keyid;              /* "" for an org entry */
	/* enroll: the org it names and the k:org record it was checked
	 * against ("" if none: a refused or round-1 enrollment never gets
	 * here); org: the org id.  The Function refuses an enroll whose org
	 * changed meanwhile (org_changed), so no key is ever enrolled
	 * against an org version it was not checked with. */
	const char *org;
	const char *org_where;
	const char *signer;
	bool signer_is_root;
	const unsigned char *leaf_hash;
	const char *envelope;
	size_t envelope_len;
};

enum trace_status store_append_key(struct store *s,
    const struct append_key_args *args, struct append_result *result,
    struct trace_error *err);

/* All key statements in log order. */
enum trace_status store_key_entries(struct store *s,
    struct store_records *out, struct trace_error *err);

/*
 * The latest org entry of org id: *found false if none.  *where is the
 * k:org record it was read from ("<logIndex> <n> <first logIndex>", for
 * append_key_args.org_where), *first_index the log index of the org's
 * first entry (keys enrolled before it were not enrolled into it).
 */
enum trace_status store_org_record(struct store *s, const char *org,
    struct store_records *out, char *where, size_t where_size,
    long long *first_index, bool *found, struct trace_error *err);

/*
 * Every org entry of org id, in log order: out[0..*count), one record
 * each (each released with store_records_clear()), at most max.
 */
enum trace_status store_org_history(struct store *s, const char *org,
    struct store_records *out, size_t max, size_t *count,
    struct trace_error *err);

/*
 * The enroll (and revoke, if any) statements of keyid: out gets 0, 1 or 2
 * records, enroll first.  *revoked says whether the second is there.
 */
enum trace_status store_key_records(struct store *s, const char *keyid,
    struct store_records *out, bool *revoked, struct trace_error *err);

/* ---- store_index.c: the lot index (SPEC 11) ------------------------------ */

/* What the index has committed (log:{log}:lx:meta). */
struct index_meta {
	uint64_t through;          /* leaves of the log the index covers */
	unsigned char root[LOTINDEX_HASH_LEN];
	uint64_t leaves;           /* keys in the index */
	bool have_statement;
	uint64_t statement;        /* log index of the latest index statement */
	long long time;            /* its time (unix seconds) */
};

enum trace_status store_index_meta(struct store *s, struct index_meta *out,
    struct trace_error *err);

/* What a leaf of the log is, for the index. */
enum index_leaf_kind {
	INDEX_LEAF_OTHER,          /* not indexed (unknown to this version) */
	INDEX_LEAF_EVENT,
	INDEX_LEAF_KEY,
	INDEX_LEAF_STATEMENT,      /* an index statement */
};

struct index_leaf {
	enum index_leaf_kind kind;
	uint64_t log_index;
	uint64_t seq;                        /* EVENT */
	char chain[CHAIN_ID_MAX + 1];        /* EVENT */
	char *envelope;                      /* KEY: the stored envelope */
	size_t envelope_len;
};

/* Locate count statements by raw id, in one or two round trips; the
 * caller frees each out[i].envelope. */
enum trace_status store_index_leaves(struct store *s,
    unsigned char (*ids)[SHA256_LEN], size_t count, struct index_leaf *out,
    struct trace_error *err);

/* The stored records at count encoded positions (HMGET, one round trip);
 * records[i] gets LOTINDEX_EMPTY where none is stored. */
enum trace_status store_index_nodes(struct store *s,
    unsigned char (*positions)[LOTINDEX_POS_MAX], const size_t *lens,
    size_t count, struct lotindex_record *records, struct trace_error *err);

/* The same as they were when the index covered version leaves (the
 * commit of a checkpoint of that size), in one atomic read; TRACE_ESTORE
 * "index_state_gone" when that version is not kept or not reached. */
enum trace_status store_index_nodes_at(struct store *s, uint64_t version,
    unsigned char (*positions)[LOTINDEX_POS_MAX], const size_t *lens,
    size_t count, struct lotindex_record *records, struct trace_error *err);

/*
 * Drop the lot index's undo records for versions below floor (the head
 * checkpoint's size as of a grace period ago): no proof asks for them
 * (store.lua index_prune).  Never past the witnessed checkpoint; with
 * require_witnessed (a witness policy), nothing until there is one.
 * *dropped gets the versions dropped (at most 64 per call).
 */
enum trace_status store_index_prune(struct store *s, uint64_t floor,
    bool require_witnessed, size_t *dropped, struct trace_error *err);

/* What the integrator commits with the log (store_log_commit). */
struct index_commit {
	uint64_t through;
	unsigned char root[LOTINDEX_HASH_LEN];
	uint64_t leaves;
	size_t count;                              /* records to write */
	unsigned char (*positions)[LOTINDEX_POS_MAX];
	size_t *position_lens;
	unsigned char (*records)[LOTINDEX_RECORD_MAX];
	size_t *record_lens;
};

enum index_append_outcome {
	INDEX_APPEND_OK,
	INDEX_APPEND_MOVED,        /* the log grew meanwhile: not appended */
};

/*
 * Append an index statement as leaf expected_size if the log still has
 * exactly expected_size leaves (store.lua append_index).
 */
enum trace_status store_index_append(struct store *s, uint64_t expected_size,
    const char *id_hex, const unsigned char leaf_hash[SHA256_LEN],
    const char *envelope, size_t envelope_len, long long time,
    enum index_append_outcome *outcome, struct trace_error *err);

/* The envelope of the index statement at log_index (malloc'd, NUL
 * terminated), NULL in *out if there is none. */
enum trace_status store_index_statement(struct store *s, uint64_t log_index,
    char **out, size_t *len, struct trace_error *err);

/*
 * Index statements logged before log:{log}:lx:times existed (the receipt
 * time of a leaf, SPEC 8) lack their entry there: *missing says whether
 * any does.  store_index_statements_each calls fn on every stored index
 * statement (HSCAN, so possibly twice on one), store_index_times_add adds
 * their times (idempotent).
 */
struct index_time {
	uint64_t log_index;
	long long time;                 /* unix seconds */
	char text[21];                  /* the statement's RFC 3339 UTC time */
};
typedef enum trace_status index_statement_fn(void *ctx, uint64_t log_index,
    const char *envelope, size_t len, struct trace_error *err);
enum trace_status store_index_times_missing(struct store *s, bool *missing,
    struct trace_error *err);
enum trace_status store_index_statements_each(struct store *s,
    index_statement_fn *fn, void *ctx, struct trace_error *err);
enum trace_status store_index_times_add(struct store *s,
    const struct index_time *times, size_t count, struct trace_error *err);

/*
 * SPEC 8 "Receipt time": the first index statement after log_index (its
 * log index and time, unix seconds), from lx:times.  *known false while
 * none follows it yet.
 */
enum trace_status store_receipt_time(struct store *s, long long log_index,
    bool *known, uint64_t *index_at, long long *time,
    struct trace_error *err);

/* ---- store_log.c -------------------------------------------------------- */

/* What the integrator reads in one atomic step. */
struct log_state {
	uint64_t integrated;            /* leaves in the stored tree */
	char *checkpoint;               /* latest signed note, NULL if none */
	size_t checkpoint_len;
	size_t pending;                 /* leaves read (<= the batch) */
	unsigned char (*leaves)[MERKLE_HASH_LEN];  /* leaf integrated + i */
	unsigned char (*ids)[MERKLE_HASH_LEN];     /* statement ids, raw */
};

/* Release what a log_state holds (accepts NULL and a zeroed state). */
void log_state_clear(struct log_state *st);

/*
 * Take or renew the integrator's lease (ms > 0) or give it up (ms == 0).
 * *held says whether this token holds it now.
 */
enum trace_status store_log_lease(struct store *s, const char *token,
    long ms, bool *held, struct trace_error *err);

/* Integrated size, latest checkpoint and up to batch pending leaves; on
 * TRACE_OK the caller releases out with log_state_clear(). */
enum trace_status store_log_state(struct store *s, size_t batch,
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
enum trace_status store_log_write(struct store *s, const struct log_run *runs,
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
enum trace_status store_log_commit(struct store *s, const char *token,
    uint64_t old_size, uint64_t new_size, size_t trim,
    const char *expected_cp, const char *new_cp, uint64_t new_cp_size,
    const struct index_commit *ix, enum log_commit_outcome *outcome,
    struct trace_error *err);

/*
 * Fetch the stored hashes of nodes[0..count) into hashes (count * 32
 * bytes) in ONE round trip (a pipeline of FCALL_RO trace_log_nodes, one
 * per 4096 nodes; a single proof is always one call).  Fails with
 * TRACE_ENOTFOUND ("size_not_integrated") unless the tree of size leaves
 * is integrated; size 0 skips that check (the integrator reading back what
 * it just wrote).  *commands (if not NULL) gets the number of commands
 * the round trip held (0 if it never happened), for the log's metrics.
 */
enum trace_status store_log_nodes(struct store *s, uint64_t size,
    const struct merkle_node *nodes, size_t count, unsigned char *hashes,
    size_t *commands, struct trace_error *err);

/* Integrated size and latest checkpoint (*text malloc'd, NULL if none;
 * the caller frees it with free()). */
enum trace_status store_log_head(struct store *s, uint64_t *integrated,
    char **text, size_t *len, struct trace_error *err);

/*
 * The latest checkpoint that met the witness policy's quorum, with its
 * cosignature lines (witness.c publishes it): *text malloc'd, NULL if
 * none; the caller frees it with free().
 */
enum trace_status store_log_witnessed(struct store *s, char **text,
    size_t *len, struct trace_error *err);

/*
 * Publish text (len bytes, a checkpoint of tree size size) as that
 * checkpoint and, in the same atomic step, announce on the recall stream
 * every close logged before size that awaited the witnesses
 * (store.lua trace_witnessed_publish).
 */
enum trace_status store_log_witnessed_set(struct store *s, const char *text,
    size_t len, uint64_t size, struct trace_error *err);

/*
 * Tiles (tiles.c): count consecutive stored hashes of one tree level from
 * node first (ids: the leaves' statement ids instead) into out (count *
 * 32 bytes), in one round trip.  The caller has checked that a published
 * tree covers them; one missing is TRACE_ESTORE "store_corrupt".
 */
enum trace_status store_log_hashes(struct store *s, bool ids, unsigned level,
    uint64_t first, size_t count, unsigned char *out,
    struct trace_error *err);

/* The stored envelope text of each leaf of a run, in leaf order. */
struct store_log_entries {
	struct {
		char *text;             /* malloc'd, NUL-terminated */
		size_t len;
	} *envelopes;
	size_t count;
};

void store_log_entries_clear(struct store_log_entries *e);

/*
 * The envelopes of leaves first .. first + count - 1, whose statement ids
 * (raw) are ids[0..count), in two round trips (where each is, then the
 * records).  A leaf whose record is missing, is not at that log index or
 * is of a kind stored elsewhere is TRACE_ESTORE "store_corrupt".  On
 * TRACE_OK the caller releases out with store_log_entries_clear().
 */
enum trace_status store_log_entries(struct store *s, uint64_t first,
    const unsigned char (*ids)[MERKLE_HASH_LEN], size_t count,
    struct store_log_entries *out, struct trace_error *err);

/* ---- store_recalls.c: reopening (SPEC 8 "Revocation and compromise") --- */

/* Every closed recall: its id and the JSON of what closed it (recalls.c
 * wrote it: "closedBy", "closedLogIndex"), pointing into reply. */
struct store_closings {
	struct {
		const char *recall;
		const char *closing;
		size_t closing_len;
	} *items;
	size_t count;
	void *reply;                    /* private: owns the text */
};

enum trace_status store_recall_closings(struct store *s,
    struct store_closings *out, struct trace_error *err);
void store_closings_clear(struct store_closings *c);

/* Open recall again in the indexes if the recall.closed closer still
 * closes it (store.lua trace_recall_reopen); *reopened says whether. */
enum trace_status store_recall_reopen(struct store *s, const char *recall,
    const char *closer, bool *reopened, struct trace_error *err);

/* ---- store_recalls.c: the list query ------------------------------------ */

/*
 * Every recall index orders recalls by the log index of their
 * recall.issued, which is also the order of their receipt times (SPEC 8).
 * The API's cursor is a log index in decimal: a page continues with the
 * recalls below it.
 */
#define STORE_RECALL_CURSOR_MAX 12

/* A cursor this server could have handed out: 1 to 12 decimal digits. */
bool store_recall_cursor_valid(const char *s, size_t len);

enum recall_filter_status {
	RECALL_ANY,
	RECALL_OPEN_ONLY,
	RECALL_CLOSED_ONLY,
};

/* Every string is given: "" where there is no such filter. */
struct recall_list_args {
	const char *chain;              /* a chain id, or "" */
	const char *gtin, *lot, *org;   /* "" = any (ignored with a chain) */
	enum recall_filter_status status;
	bool has_since, has_until;
	long long since, until;         /* receipt time, inclusive, unix s */
	const char *cursor;             /* "" = from the newest */
	long long now;                  /* unix seconds: the receipt time of
					 * a recall no index statement follows
					 * yet (at least the latest one's) */
	size_t limit;
	/* With a witness policy (SPEC 9): a close logged at or after
	 * pending_from (the published witnessed size) is pending and
	 * closes nothing yet; the recall is listed as open, its close as
	 * "pendingClose".  false: every close counts as stored. */
	bool witnessing;
	long long pending_from;
};

/* A recall as the store keeps it: its JSON object (recalls.h says what
 * it holds), which recalls.c wrote. */
struct recall_row {
	const char *json;               /* points into the page's reply */
	size_t json_len;
};

/* One page of recalls, newest first: highest log index, which is the
 * latest receipt time.  Each row's JSON has "received" (RFC 3339, or
 * null while no index statement follows the recall). */
struct recall_page {
	struct recall_row *rows;
	size_t count;
	char next[STORE_RECALL_CURSOR_MAX + 1];  /* the next page's cursor, "" */
	void *reply;                    /* private: owns the text */
};

/*
 * Run a query (store.lua trace_recalls_list, one round trip).  Every
 * recall is on exactly one page of a walk through the cursors, also while
 * recalls arrive.  A page may hold fewer than limit recalls and still
 * have a next cursor (the scan budget was used up).  The caller releases
 * out with recall_page_clear() (accepts a zeroed page), whatever the
 * status.
 */
enum trace_status store_recalls_list(struct store *s,
    const struct recall_list_args *args, struct recall_page *out,
    struct trace_error *err);
void recall_page_clear(struct recall_page *p);

/*
 * Bring recall indexes written by a server before recalls were ordered by
 * log index (members "<issue time>-<id>") to the current form, in one
 * atomic step (store.lua trace_recalls_upgrade).  Idempotent: nothing to
 * do costs one read.  *changed counts the members rewritten.
 */
enum trace_status store_recalls_upgrade(struct store *s, size_t *changed,
    struct trace_error *err);

/* ---- store_recalls.c: the notice stream --------------------------------- */

/* A stream entry id, "<ms>-<seq>", is at most this long here. */
#define STORE_STREAM_ID_MAX 44

/* One recall.issued / recall.closed notice, as the append wrote it. */
struct recall_notice {
	char id[STORE_STREAM_ID_MAX + 1];
	const char *event, *data;       /* NULL if absent; into the reply */
	size_t event_len, data_len;
};

struct recall_notices {
	bool timed_out;                 /* nothing arrived within the wait */
	struct recall_notice *items;
	size_t count;
	void *reply;                    /* private: owns the text */
};

/* The id of the newest notice into out, "0-0" when there is none. */
enum trace_status store_recall_stream_newest(struct store *s, char *out,
    size_t size, struct trace_error *err);

/*
 * Up to max notices after id after, waiting up to block_ms for one.
 * Entries without a well-formed id are left out; one whose event or data
 * is missing is kept (with NULL there), so that the reader still moves
 * past its id.  The caller releases out with recall_notices_clear()
 * (accepts a zeroed list), whatever the status.
 */
enum trace_status store_recall_stream_read(struct store *s, const char *after,
    size_t max, long block_ms, struct recall_notices *out,
    struct trace_error *err);
void recall_notices_clear(struct recall_notices *n);

/* ---- store_blobs.c: documents ------------------------------------------- */

/* A stored document as the store describes it. */
struct blob_info {
	bool found;
	long long size;
	enum blob_media media;
	char id[2 * SHA256_LEN + 1];    /* its upload statement */
	long long log_index;
};

/* Bounds an upload is held to, and the moment it is judged at. */
struct blob_limits {
	long long quota;                /* bytes per key per UTC day */
	long long store_max;            /* bytes of all documents together */
	long long now;                  /* unix seconds */
};

enum blob_outcome {
	BLOB_OK,                        /* admitted / stored */
	BLOB_PRESENT,                   /* already stored: info says how */
	BLOB_QUOTA,                     /* the key's quota for today is used */
	BLOB_FULL,                      /* no room under store_max */
	BLOB_REVOKED,                   /* put: the signer was revoked */
};

/*
 * Before the body is read: would size bytes of sha256 by signer fit?  One
 * read-only call (store.lua trace_blob_admit); *used gets the key's bytes
 * today (QUOTA) or the store's (FULL).
 */
enum trace_status store_blob_admit(struct store *s, const char *sha256,
    long long size, const char *signer, const struct blob_limits *limits,
    enum blob_outcome *outcome, struct blob_info *info, long long *used,
    struct trace_error *err);

struct blob_put_args {
	const char *sha256;
	const unsigned char *data;
	size_t size;
	enum blob_media media;
	const char *signer;
	const char *id;                 /* upload statement id, hex */
	const unsigned char *leaf_hash; /* 32 bytes */
	const char *envelope;
	size_t envelope_len;
};

/*
 * Store a checked document and log its upload statement in one atomic
 * step (store.lua trace_blob_put), the quota and space checked again.
 * On BLOB_OK info->log_index is the statement's; BLOB_PRESENT fills info.
 */
enum trace_status store_blob_put(struct store *s,
    const struct blob_put_args *args, const struct blob_limits *limits,
    enum blob_outcome *outcome, struct blob_info *info,
    struct trace_error *err);

/* A document read: its info (store_blob_get) or a piece of its bytes
 * (store_blob_range). */
struct blob_read {
	struct blob_info info;
	const unsigned char *data;      /* store_blob_range: into reply */
	size_t len;
	void *reply;                    /* private */
};

/* The info of a document whose bytes are stored; info.found false when
 * there is no such document.  The caller releases out with
 * blob_read_clear() (accepts a zeroed one), whatever the status. */
enum trace_status store_blob_get(struct store *s, const char *sha256,
    struct blob_read *out, struct trace_error *err);
void blob_read_clear(struct blob_read *r);

/*
 * Bytes [offset, offset + len) of a stored document into out->data
 * (out->info is not filled): a download is streamed in such pieces, so it
 * never holds more than one in memory.  out->len < len when the document
 * is shorter (or was deleted meanwhile: 0).  The caller releases out with
 * blob_read_clear().
 */
enum trace_status store_blob_range(struct store *s, const char *sha256,
    size_t offset, size_t len, struct blob_read *out,
    struct trace_error *err);

/* The info of count documents in one round trip (pages). */
enum trace_status store_blob_infos(struct store *s,
    const char *const *sha256s, size_t count, struct blob_info *infos,
    struct trace_error *err);

/*
 * Delete up to limit documents uploaded before cutoff that no accepted
 * event names (store.lua trace_blob_sweep).  *looked says how many were
 * due: limit means call again.
 */
enum trace_status store_blob_sweep(struct store *s, long long cutoff,
    size_t limit, size_t *deleted, size_t *looked, struct trace_error *err);

#endif
