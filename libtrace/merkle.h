/*
 * merkle.h - the RFC 6962 / RFC 9162 Merkle tree of the transparency log
 * (docs/PROTOCOL.md section 9): leaf and node hashes, tree roots, inclusion and
 * consistency proofs, and their verification.
 *
 * Generation is split in two so the server never rebuilds the tree.  The
 * store keeps the hash of every *perfect* node: (level, index) covers the
 * 2^level leaves [index << level, (index + 1) << level).  A proof element is
 * the hash of a range of leaves [begin, end) that is a subtree of the RFC's
 * tree; most are perfect nodes, the one on the ragged right edge is the
 * right fold of a few perfect nodes.  So a proof is planned first (which
 * ranges, which stored nodes: at most MERKLE_PLAN_NODES_MAX), the nodes are
 * fetched in one round trip, and the plan assembles the proof from them.
 *
 * Verification takes every hash with its length, because a proof from the
 * network can hold elements of any length and RFC 9162 wants exactly 32.
 */
#ifndef TRACE_MERKLE_H
#define TRACE_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define MERKLE_HASH_LEN 32
/* An inclusion proof has at most ceil(log2(size)) elements, a consistency
 * proof one more: 64 covers every inclusion proof and every consistency
 * proof into a tree of up to 2^63 leaves. */
#define MERKLE_PROOF_MAX 64
/* At most one proof range is ragged (up to 64 nodes), the others are one
 * perfect node each. */
#define MERKLE_PLAN_NODES_MAX (2 * MERKLE_PROOF_MAX)

/* A perfect subtree: leaves [index << level, (index + 1) << level).
 * Level 0 nodes are the leaf hashes themselves. */
struct merkle_node {
	unsigned level;
	uint64_t index;
};

/* Leaves [begin, end) whose subtree hash is one proof element. */
struct merkle_range {
	uint64_t begin, end;
};

/* A byte string of any length, as a proof arrives from the network. */
struct merkle_bytes {
	const unsigned char *ptr;
	size_t len;
};

static inline struct merkle_bytes
merkle_bytes_hash(const unsigned char hash[MERKLE_HASH_LEN])
{
	struct merkle_bytes b = { hash, MERKLE_HASH_LEN };

	return b;
}

/* ---- hashing (RFC 9162 2.1.1) ----------------------------------------- */

/* SHA-256(0x00 || data). */
void merkle_leaf_hash(const void *data, size_t len,
    unsigned char out[MERKLE_HASH_LEN]);

/*
 * The leaf hash of a signed statement: SHA-256(0x00 || PAE(type, payload)),
 * the statement's PAE bytes being the log's leaf data (docs/PROTOCOL.md
 * 9.1).  Streamed without building the PAE, so it cannot fail: the server
 * that logs a statement and the verifier that checks its proof both call
 * this one function.
 */
void merkle_leaf_hash_statement(const char *type,
    const unsigned char *payload, size_t payload_len,
    unsigned char out[MERKLE_HASH_LEN]);

/* SHA-256(0x01 || left || right). */
void merkle_node_hash(const unsigned char left[MERKLE_HASH_LEN],
    const unsigned char right[MERKLE_HASH_LEN],
    unsigned char out[MERKLE_HASH_LEN]);

/*
 * Root of the tree over count leaf hashes stored one after another
 * (count * 32 bytes).  count 0 gives SHA-256 of the empty string.  Needs no
 * memory beyond a 64-entry stack.
 */
void merkle_root(const unsigned char *leaf_hashes, size_t count,
    unsigned char out[MERKLE_HASH_LEN]);

/* ---- proof planning ----------------------------------------------------- */

/*
 * The ranges whose hashes form the inclusion proof of leaf index in a tree
 * of size leaves, in proof order (RFC 9162 2.1.3.1 PATH: nearest the leaf
 * first).  ranges holds MERKLE_PROOF_MAX entries.  Fails with
 * TRACE_EMALFORMED unless index < size.
 */
enum trace_status merkle_inclusion_ranges(uint64_t index, uint64_t size,
    struct merkle_range *ranges, size_t *count, struct trace_error *err);

/*
 * The ranges of the consistency proof from size m to size n, in proof order
 * (RFC 9162 2.1.4.1 SUBPROOF).  Requires 0 < m <= n; m == n gives an empty
 * proof.  ranges holds MERKLE_PROOF_MAX entries.
 */
enum trace_status merkle_consistency_ranges(uint64_t m, uint64_t n,
    struct merkle_range *ranges, size_t *count, struct trace_error *err);

/*
 * The perfect nodes whose hashes make up the subtree hash of [begin, end),
 * left to right: one node for a perfect range, the binary decomposition of
 * end - begin for a ragged right edge.  The range must be a subtree of some
 * RFC 6962 tree (begin < end and begin a multiple of the smallest power of
 * two >= end - begin), which every proof range and every [0, size) is.
 * nodes holds 64 entries.
 */
enum trace_status merkle_range_nodes(uint64_t begin, uint64_t end,
    struct merkle_node *nodes, size_t *count, struct trace_error *err);

/*
 * Combine the hashes of a range's nodes (in merkle_range_nodes order, count
 * * 32 bytes) into the range's subtree hash: the right fold
 * node(h0, node(h1, ... node(h[count-2], h[count-1]))).  count >= 1.
 */
enum trace_status merkle_range_hash(const unsigned char *node_hashes,
    size_t count, unsigned char out[MERKLE_HASH_LEN],
    struct trace_error *err);

/*
 * A whole proof's fetch list.  The server fetches nodes[0..node_count) in
 * one round trip and calls merkle_plan_assemble().  Lives on the stack
 * (about 4 KB); nothing to free.
 */
struct merkle_plan {
	size_t count;                                   /* proof elements */
	struct merkle_range ranges[MERKLE_PROOF_MAX];   /* in proof order */
	size_t first_node[MERKLE_PROOF_MAX];            /* of range i */
	size_t node_counts[MERKLE_PROOF_MAX];           /* of range i */
	size_t node_count;                              /* nodes to fetch */
	struct merkle_node nodes[MERKLE_PLAN_NODES_MAX];
};

enum trace_status merkle_plan_inclusion(uint64_t index, uint64_t size,
    struct merkle_plan *plan, struct trace_error *err);
enum trace_status merkle_plan_consistency(uint64_t m, uint64_t n,
    struct merkle_plan *plan, struct trace_error *err);

/*
 * Build the proof from the fetched hashes: node_hashes holds
 * plan->node_count hashes in plan->nodes order; proof receives plan->count
 * hashes.
 */
enum trace_status merkle_plan_assemble(const struct merkle_plan *plan,
    const unsigned char *node_hashes,
    unsigned char proof[][MERKLE_HASH_LEN], struct trace_error *err);

/*
 * Growing the tree from old_size to new_size completes new perfect nodes.
 * Level 0 nodes are the new leaves (the caller stores those); these
 * functions list the parents at levels >= 1 that must be computed and
 * stored, ordered by the leaf that completes them and then by level, so both
 * children of each node are either stored already or listed before it.
 *
 * merkle_growth_count() says how many there are (new_size - old_size at
 * most); merkle_growth_nodes() writes them, failing with TRACE_ETOOBIG when
 * capacity is too small.
 */
uint64_t merkle_growth_count(uint64_t old_size, uint64_t new_size);
enum trace_status merkle_growth_nodes(uint64_t old_size, uint64_t new_size,
    struct merkle_node *nodes, size_t capacity, size_t *count,
    struct trace_error *err);

/* ---- in-memory generation ------------------------------------------------ */

/*
 * Proofs over size leaf hashes in memory (size * 32 bytes), built with the
 * planning functions above.  proof holds MERKLE_PROOF_MAX hashes.
 */
enum trace_status merkle_prove_inclusion(const unsigned char *leaf_hashes,
    size_t size, uint64_t index, unsigned char proof[][MERKLE_HASH_LEN],
    size_t *count, struct trace_error *err);
enum trace_status merkle_prove_consistency(const unsigned char *leaf_hashes,
    size_t m, size_t n, unsigned char proof[][MERKLE_HASH_LEN],
    size_t *count, struct trace_error *err);

/* ---- verification --------------------------------------------------------- */

/*
 * RFC 9162 2.1.3.2.  TRACE_OK only if leaf_hash, every proof element and
 * root are 32 bytes, index < size, the proof has exactly the length the
 * tree shape asks for (at most MERKLE_PROOF_MAX), and the recomputed root
 * equals root.  A wrong root is TRACE_EBADSIG ("proof_mismatch"); every
 * other failure is TRACE_EMALFORMED.
 */
enum trace_status merkle_verify_inclusion(struct merkle_bytes leaf_hash,
    uint64_t index, uint64_t size, const struct merkle_bytes *proof,
    size_t count, struct merkle_bytes root, struct trace_error *err);

/*
 * RFC 9162 2.1.4.2.  size1 == 0 is refused (a proof from the empty tree
 * proves nothing); size1 == size2 wants an empty proof and equal roots;
 * otherwise as for inclusion.
 */
enum trace_status merkle_verify_consistency(uint64_t size1, uint64_t size2,
    const struct merkle_bytes *proof, size_t count, struct merkle_bytes root1,
    struct merkle_bytes root2, struct trace_error *err);

#endif
