/*
 * store_private.h - what the store*.c files share and nothing else sees:
 * hiredis, every Redis key name (each defined once, here), the raw command
 * and pipeline calls that all Redis traffic goes through (store_conn.c),
 * and the helpers that turn replies into the typed results of store.h.
 *
 * Only store*.c include this header, so only they speak RESP.  The key
 * layout itself is documented once, in store.lua's header.
 */
#ifndef TRACE_STORE_PRIVATE_H
#define TRACE_STORE_PRIVATE_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "store.h"

/* store.lua, compiled in by the Makefile (build/gen/store_lua.c). */
extern const char store_lua[];

/* ---- key names ---------------------------------------------------------- */

/* Per chain (printf formats of the chain id): the hash tag keeps every key
 * of one chain in one cluster slot. */
#define KEY_CHAIN "c:{%s}:ev"                   /* LIST of records */
#define KEY_CHAIN_SCANS "c:{%s}:scans"          /* HASH serial -> scans */
#define KEY_CHAIN_RECALLS "c:{%s}:recalls"      /* ZSET of recall members */
#define KEY_CHAIN_MAX (CHAIN_ID_MAX + 16)       /* a buffer for any of them */
/* SPEC 12 (store.lua "units"): codes, first entries, serial sets and the
 * wrong-entry counters; never served. */
#define KEY_UNIT_CODES "u:{%s}:codes"           /* HASH serial -> MAC */
#define KEY_UNIT_FIRST "u:{%s}:first"           /* HASH serial -> time */
#define KEY_UNIT_SET "u:{%s}:set:%s"            /* LIST, root hex */
#define KEY_UNIT_WRONG "u:{%s}:w:%s"            /* STRING, serial */
#define KEY_UNIT_WRONG_CLIENT "u:{%s}:w:%s:%s"  /* serial, client */
#define KEY_UNIT_CLIENT "u:client:%s"           /* STRING, client */

#define KEY_IDS "ids"
#define KEY_ENTRIES "k:entries"
#define KEY_ENROLL "k:enroll"
#define KEY_REVOKE "k:revoke"
#define KEY_ORGS "k:org"
#define KEY_ORG_HISTORY "k:org:history"

/* The transparency log: every key carries the {log} hash tag, so the whole
 * log lives in one cluster slot and its Functions may touch all of it. */
#define KEY_LOG_SIZE "log:{log}:size"
#define KEY_LOG_PENDING "log:{log}:pending"
#define KEY_LOG_INTEGRATED "log:{log}:integrated"
#define KEY_LOG_CHECKPOINT "log:{log}:checkpoint"
#define KEY_LOG_CHECKPOINTS "log:{log}:checkpoints"
#define KEY_LOG_LEASE "log:{log}:lease"
#define KEY_LOG_WITNESSED "log:{log}:witnessed"  /* quorum-cosigned note */
#define KEY_LOG_NODES "log:{log}:t:%u:%" PRIu64  /* level, chunk */
#define KEY_LOG_IDS "log:{log}:ids:%" PRIu64     /* chunk */
#define KEY_LOG_MAX 64
/* The lot index (SPEC 11, store_index.c). */
#define KEY_INDEX_NODES "log:{log}:lx:nodes"     /* HASH position -> record */
#define KEY_INDEX_META "log:{log}:lx:meta"       /* HASH through, root, ... */
#define KEY_INDEX_STATEMENTS "log:{log}:lx:st"   /* HASH logIndex -> envelope */
#define KEY_INDEX_VERSIONS "log:{log}:lx:versions" /* ZSET of commits */
#define KEY_INDEX_TIMES "log:{log}:lx:times"     /* ZSET statement times */

/* Recalls: global (no hash tag), a recall query spans every chain. */
#define KEY_RECALLS "recalls"
#define KEY_RECALLS_CLOSING "recalls:closing"
#define KEY_RECALLS_ALL "recalls:all"
#define KEY_RECALLS_OPEN "recalls:status:open"
#define KEY_RECALLS_CLOSED "recalls:status:closed"
#define KEY_RECALLS_GTIN "recalls:gtin:%s"
#define KEY_RECALLS_LOT "recalls:lot:%s"
#define KEY_RECALLS_ORG "recalls:org:%s"
#define KEY_RECALLS_STREAM "recalls:stream"
#define KEY_RECALLS_CLOSES_PENDING "recalls:closes:pending"  /* SPEC 9 */
#define KEY_RECALLS_ORDER "recalls:order"  /* "log": upgraded (store.lua) */

/* Documents (store_blobs.c): global, like the recall indexes.  blob_sweep
 * in store.lua builds KEY_BLOB and KEY_BLOB_META from the prefix and
 * suffix below, which store_blobs.c passes to it. */
#define KEY_BLOB_PREFIX "b:"
#define KEY_BLOB_META_SUFFIX ":m"
#define KEY_BLOB KEY_BLOB_PREFIX "%s"                   /* STRING bytes */
#define KEY_BLOB_META KEY_BLOB_PREFIX "%s" KEY_BLOB_META_SUFFIX /* HASH */
#define KEY_BLOBS_BYTES "blobs:bytes"
#define KEY_BLOBS_QUOTA "blobs:quota:%s:%s"             /* keyid, YYYYMMDD */
#define KEY_BLOBS_REFS "blobs:refs"
#define KEY_BLOBS_UNREFERENCED "blobs:unreferenced"
#define KEY_BLOBS_STATEMENTS "blobs:statements"
#define KEY_BLOB_MAX 128

/* ---- store_conn.c: commands and pipelines ------------------------------- */

/*
 * On a broken connection the store reconnects and resends (once; twice
 * through Sentinel), so every command sent here must be idempotent or
 * guarded by a compare-and-set.
 */

/* store_command takes this many arguments without explicit lengths. */
#define STORE_COMMAND_ARGS_MAX 32

/*
 * One command.  lens NULL: every argument is a C string (at most
 * STORE_COMMAND_ARGS_MAX of them).  An error reply becomes TRACE_ESTORE
 * "store_error" naming the command; otherwise *reply is the caller's, to
 * free with freeReplyObject().
 */
enum trace_status store_command(struct store *s, int argc,
    const char *const *argv, const size_t *lens, redisReply **reply,
    struct trace_error *err);

/*
 * A pipeline (one round trip) built command by command:
 *
 *     struct store_batch b;
 *     store_batch_init(&b);
 *     store_batch_command(&b);          then its arguments:
 *     store_batch_str(&b, "LRANGE");
 *     store_batch_fmt(&b, KEY_CHAIN, chain);
 *     ...
 *     rc = store_batch_run(s, &b, err); store_batch_reply(&b, i) ...
 *     store_batch_clear(&b);
 *
 * store_batch_arg and store_batch_str reference their bytes, which must
 * outlive store_batch_run; store_batch_fmt copies its text into the batch.
 * An allocation failure while building is reported by store_batch_run
 * (TRACE_ENOMEM).  Error replies are returned as replies, which the batch
 * owns until store_batch_clear.
 */
struct store_batch {
	size_t commands, cap_commands;
	int *argc;              /* arguments of each command */
	size_t *first;          /* index of each command's first argument */
	size_t args, cap_args;
	const char **argv;
	size_t *lens;
	char **owned;           /* store_batch_fmt's copies */
	size_t nowned, cap_owned;
	redisReply **replies;
	bool failed;
};

void store_batch_init(struct store_batch *b);
void store_batch_command(struct store_batch *b);
void store_batch_arg(struct store_batch *b, const void *data, size_t len);
void store_batch_str(struct store_batch *b, const char *s);
void store_batch_fmt(struct store_batch *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum trace_status store_batch_run(struct store *s, struct store_batch *b,
    struct trace_error *err);
/* Reply i (the batch keeps it), or NULL before the run or past the end. */
const redisReply *store_batch_reply(const struct store_batch *b, size_t i);
/* Reply i, taken out of the batch: the caller frees it with
 * freeReplyObject().  NULL as for store_batch_reply, or if taken before. */
redisReply *store_batch_take(struct store_batch *b, size_t i);
void store_batch_clear(struct store_batch *b);

/*
 * A decimal string reply (or element) into *out, as strictly as the API
 * parses numbers: 1-19 digits, no sign, no leading zero (but "0"), at most
 * 2^63 - 1.
 */
bool store_reply_u64(const redisReply *r, uint64_t *out);

/* ---- store_chain.c: records and appends --------------------------------- */

/* Parse "<id> <logIndex> <envelope>" (the envelope points into text). */
bool store_record_parse(const char *text, size_t len, struct store_record *r);

/*
 * Turn an array reply of record strings into out, which takes the reply
 * (also on failure, when out is freed).  strict: a record that does not
 * parse fails the whole read (TRACE_ESTORE "store_corrupt"); otherwise it
 * is left out and counted in out->unreadable, as is a reply that is not
 * an array.
 */
enum trace_status store_records_take(redisReply *r, bool strict,
    struct store_records *out, struct trace_error *err);

/* One trace_append_event / trace_append_key / trace_append_recall reply. */
enum trace_status store_append_reply_parse(const redisReply *r,
    struct append_result *res, struct trace_error *err);

/* ---- store_recalls.c: what an append of a recall event adds ------------- */

/* trace_append_recall's keys after append_event's five, and arguments
 * after its seven. */
#define STORE_RECALL_APPEND_KEYS 11
#define STORE_RECALL_APPEND_ARGS 5

/* Add them for event args (args->recall set) to the command being built. */
void store_recall_append_keys(struct store_batch *b,
    const struct append_event_args *args);
void store_recall_append_args(struct store_batch *b,
    const struct append_event_args *args);

#endif
