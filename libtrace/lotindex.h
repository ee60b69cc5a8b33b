/*
 * lotindex.h - the lot index (SPEC 11, docs/PROTOCOL.md section 9.10): a
 * compact sparse Merkle tree over 256-bit keys that commits, for every
 * chain, to its event count, head id and head log index, and for every key
 * id to the count and last log index of the key entries naming it.
 *
 * The tree is the sparse Merkle tree of depth 256 in which every subtree
 * holding exactly one leaf is replaced by that leaf and every empty subtree
 * hashes to 32 zero bytes.  Its shape, and so its root, is a function of
 * the set of (key, value) pairs alone, whatever the order of insertion:
 * a monitor replaying the log gets the same root as the integrator.
 *
 *   leaf  = SHA-256(0x00 || key || value)        merkle_leaf_hash(key||value)
 *   node  = SHA-256(0x01 || left || right)       merkle_node_hash
 *   empty = 32 zero bytes
 *
 * The RFC 6962 hashes come from merkle.c; only the tree shape lives here.
 *
 * Nodes are held in a struct lotindex_tree: an in-memory map from position
 * (depth and key prefix) to record, optionally backed by a loader (the
 * server's Redis) that is asked for positions not in the map.  Updates mark
 * records dirty, so the server can write exactly what changed in the step
 * that commits the log; the monitor keeps the whole map.
 */
#ifndef TRACE_LOTINDEX_H
#define TRACE_LOTINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define TYPE_INDEX "application/vnd.trace.index.v1+json"

#define LOTINDEX_HASH_LEN 32
/* SPEC 8: no statement's own time may be more than this after the index
 * statement that received it. */
#define LOTINDEX_RECEIPT_SKEW_SECONDS 300
#define LOTINDEX_DEPTH_MAX 256
/* version, kind, depth (2), the largest terminal (64), the siblings */
#define LOTINDEX_PROOF_MAX (4 + 64 + LOTINDEX_DEPTH_MAX * LOTINDEX_HASH_LEN)
/* Serialised positions and records (lotindex_pos_encode, _record_encode). */
#define LOTINDEX_POS_MAX (2 + LOTINDEX_HASH_LEN)
#define LOTINDEX_RECORD_MAX (1 + LOTINDEX_HASH_LEN + 48)

/* What a leaf commits to: a chain's (event count, head id, head log
 * index), or a key's (entry count, last entry id, its log index). */
struct lotindex_entry {
	uint64_t count;
	unsigned char id[LOTINDEX_HASH_LEN];
	uint64_t log_index;
};

/* SHA-256(chain id), the chain id as gs1_chain_id() writes it. */
void lotindex_chain_key(const char *chain, unsigned char key[LOTINDEX_HASH_LEN]);

/* SHA-256("key" || 0x00 || keyid), keyid the 32 hex characters. */
void lotindex_keyid_key(const char *keyid, unsigned char key[LOTINDEX_HASH_LEN]);

/* SHA-256(uint64be count || id || uint64be log index). */
void lotindex_value(const struct lotindex_entry *e,
    unsigned char value[LOTINDEX_HASH_LEN]);

/* SHA-256(0x00 || key || value). */
void lotindex_leaf_hash(const unsigned char key[LOTINDEX_HASH_LEN],
    const unsigned char value[LOTINDEX_HASH_LEN],
    unsigned char out[LOTINDEX_HASH_LEN]);

/* ---- proofs --------------------------------------------------------------- */

enum lotindex_kind {
	LOTINDEX_MEMBER = 0,        /* the key's leaf, with its entry */
	LOTINDEX_ABSENT_EMPTY = 1,  /* the key's path ends in an empty subtree */
	LOTINDEX_ABSENT_LEAF = 2,   /* ... or at another key's leaf */
};

/*
 * A parsed proof (about 8 KB: allocate it, or keep one per thread).
 * siblings[i] is the hash of the sibling of the path node at depth i + 1,
 * nearest the root first.
 */
struct lotindex_proof {
	enum lotindex_kind kind;
	unsigned depth;
	struct lotindex_entry entry;                    /* MEMBER */
	unsigned char other_key[LOTINDEX_HASH_LEN];     /* ABSENT_LEAF */
	unsigned char other_value[LOTINDEX_HASH_LEN];   /* ABSENT_LEAF */
	unsigned char siblings[LOTINDEX_DEPTH_MAX][LOTINDEX_HASH_LEN];
};

/*
 * Parse the byte format of docs/PROTOCOL.md 9.10.4 strictly: version 1, a
 * known kind, depth <= 256, exactly the length the kind and depth ask for.
 * TRACE_EMALFORMED "bad_index_proof" otherwise.
 */
enum trace_status lotindex_proof_parse(const unsigned char *buf, size_t len,
    struct lotindex_proof *p, struct trace_error *err);

/* Write p in that format to out (LOTINDEX_PROOF_MAX bytes); its length. */
size_t lotindex_proof_encode(const struct lotindex_proof *p, unsigned char *out);

/*
 * Check that p proves, under root, the membership (kind MEMBER: then
 * p->entry is the key's entry) or the absence of key.  An ABSENT_LEAF
 * proof's other key must differ from key and share its first depth bits.
 * TRACE_EBADSIG "index_proof_mismatch" when the root does not match,
 * TRACE_EMALFORMED "bad_index_proof" for a proof that cannot be right
 * whatever the root.
 */
enum trace_status lotindex_proof_verify(const struct lotindex_proof *p,
    const unsigned char key[LOTINDEX_HASH_LEN],
    const unsigned char root[LOTINDEX_HASH_LEN], struct trace_error *err);

/* ---- the tree ------------------------------------------------------------- */

/* A node position: depth 0..256 and the first depth bits of a key (the
 * remaining bits of prefix are zero). */
struct lotindex_pos {
	unsigned depth;
	unsigned char prefix[LOTINDEX_HASH_LEN];
};

enum lotindex_record_kind {
	LOTINDEX_EMPTY = 0,
	LOTINDEX_NODE = 1,      /* an interior node: hash */
	LOTINDEX_LEAF = 2,      /* a leaf: key and entry (hash derived) */
};

struct lotindex_record {
	enum lotindex_record_kind kind;
	unsigned char hash[LOTINDEX_HASH_LEN];   /* of every kind, once set */
	unsigned char key[LOTINDEX_HASH_LEN];    /* LEAF */
	struct lotindex_entry entry;             /* LEAF */
};

/* The position of key's path at depth. */
void lotindex_pos_of(const unsigned char key[LOTINDEX_HASH_LEN], unsigned depth,
    struct lotindex_pos *pos);

/* Storage encoding: position = uint16be depth || ceil(depth / 8) bytes of
 * prefix; record = 'N' || hash, or 'L' || key || uint64be count || id ||
 * uint64be log index.  Both return their length. */
size_t lotindex_pos_encode(const struct lotindex_pos *pos, unsigned char *out);
size_t lotindex_record_encode(const struct lotindex_record *r,
    unsigned char *out);
enum trace_status lotindex_record_decode(const unsigned char *buf, size_t len,
    struct lotindex_record *r, struct trace_error *err);

/*
 * Asked for a position the map does not hold: fill *r (LOTINDEX_EMPTY when
 * the store has nothing there) and return TRACE_OK, or fail.
 */
typedef enum trace_status (*lotindex_loader)(void *ctx,
    const struct lotindex_pos *pos, struct lotindex_record *r,
    struct trace_error *err);

struct lotindex_tree;

/* A new empty tree (or a view of a stored one, through loader; NULL for a
 * purely in-memory tree).  NULL without memory.  lotindex_tree_free(). */
struct lotindex_tree *lotindex_tree_new(lotindex_loader loader, void *ctx);
void lotindex_tree_free(struct lotindex_tree *t);

/* Whether the map holds pos (read or written), so a loader need not. */
bool lotindex_tree_holds(const struct lotindex_tree *t,
    const struct lotindex_pos *pos);

/* Keys inserted (not replaced) since the tree was made. */
uint64_t lotindex_tree_inserted(const struct lotindex_tree *t);

/* Seed the map with a record read from the store (not dirty; a record
 * already written by an update is kept).  Seeding again replaces. */
enum trace_status lotindex_tree_seed(struct lotindex_tree *t,
    const struct lotindex_pos *pos, const struct lotindex_record *r);

/* Set key's entry (insert or replace). */
enum trace_status lotindex_tree_set(struct lotindex_tree *t,
    const unsigned char key[LOTINDEX_HASH_LEN], const struct lotindex_entry *e,
    struct trace_error *err);

/* The entry of key: *found false when absent. */
enum trace_status lotindex_tree_get(struct lotindex_tree *t,
    const unsigned char key[LOTINDEX_HASH_LEN], bool *found,
    struct lotindex_entry *e, struct trace_error *err);

/* The root (32 zero bytes for the empty tree). */
enum trace_status lotindex_tree_root(struct lotindex_tree *t,
    unsigned char root[LOTINDEX_HASH_LEN], struct trace_error *err);

/* Number of leaves held (in-memory trees only: the map's leaves). */
uint64_t lotindex_tree_leaves(const struct lotindex_tree *t);

/* The membership or absence proof of key. */
enum trace_status lotindex_tree_prove(struct lotindex_tree *t,
    const unsigned char key[LOTINDEX_HASH_LEN], struct lotindex_proof *p,
    struct trace_error *err);

/*
 * Visit the records changed since the last lotindex_tree_clean (or every
 * record, all true), in no particular order; a record that became empty is
 * visited with kind LOTINDEX_EMPTY (never happens today: keys are never
 * removed).  Stops at the first non-OK return of fn.
 */
enum trace_status lotindex_tree_each(struct lotindex_tree *t, bool all,
    enum trace_status (*fn)(void *ctx, const struct lotindex_pos *pos,
    const struct lotindex_record *r, struct trace_error *err), void *ctx,
    struct trace_error *err);
void lotindex_tree_clean(struct lotindex_tree *t);

#endif
