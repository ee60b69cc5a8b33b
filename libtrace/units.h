/*
 * units.h - the facts of SPEC section 12 that both programs and the
 * verifier need, written once: the per-serial code hash, the RFC 6962
 * roots over a lot's issued serials and over its code hashes, and the
 * membership / non-membership proof of a serial in an issued set
 * (docs/PROTOCOL.md 12).
 *
 * A set of serials is the distinct raw serials sorted bytewise (memcmp,
 * then the shorter first); its root is merkle_root() over their RFC 6962
 * leaf hashes (the serial's bytes as leaf data).  A serial is in the set
 * when a leaf equals it (inclusion proof), and provably not in it when two
 * adjacent leaves bracket it, or the first leaf sorts after it, or the
 * last before it.  Non-membership rests on the signer having committed to
 * a sorted, distinct list: a registering org that does otherwise only
 * hides its own serials.
 */
#ifndef TRACE_UNITS_H
#define TRACE_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "gs1.h"
#include "merkle.h"

#define UNITS_CODE_DIGITS 16
/* The most serials one codes upload or one serial list may hold. */
#define UNITS_UPLOAD_MAX 200000

/* SHA-256("trace-code" || 0x00 || chain || 0x00 || serial || 0x00 || code),
 * chain the canonical chain id. */
void units_code_hash(const char *chain, const char *serial, const char *code,
    unsigned char out[MERKLE_HASH_LEN]);

/* Is code 16 ASCII digits? */
bool units_code_valid(const char *code, size_t len);

/* Bytewise order of two serials (memcmp, then the shorter first). */
int units_serial_cmp(const char *a, const char *b);

/*
 * Sort serials[0..count) bytewise in place and drop repeats; returns the
 * count left.  The strings are borrowed.
 */
size_t units_serials_sort(const char **serials, size_t count);

/* The root of sorted, distinct serials (units_serials_sort).  count 0 is
 * the empty tree.  TRACE_ENOMEM only. */
enum trace_status units_serials_root(const char *const *serials, size_t count,
    unsigned char root[MERKLE_HASH_LEN], struct trace_error *err);

/* Sort count 32-byte hashes bytewise in place; the root over them as
 * leaves (each hash's 32 bytes are a leaf's data).  TRACE_ENOMEM only. */
enum trace_status units_hashes_root(unsigned char *hashes, size_t count,
    unsigned char root[MERKLE_HASH_LEN], struct trace_error *err);

/* One leaf of a serial set with its inclusion proof. */
struct units_leaf {
	char serial[GS1_ATTR_MAX + 1];
	uint64_t index;
	unsigned char path[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	size_t path_len;
};

/* A proof about one serial against one root: member (left is the leaf
 * that equals it), or not (left and/or right bracket it; has_left false:
 * right is leaf 0; has_right false: left is the last leaf). */
struct units_proof {
	unsigned char root[MERKLE_HASH_LEN];
	uint64_t count;
	bool member;
	bool has_left, has_right;
	struct units_leaf left;
	struct units_leaf right;
};

/*
 * Build the proof for serial over the sorted, distinct serials (whose root
 * it also computes into out->root).  TRACE_EMALFORMED for an empty set.
 */
enum trace_status units_prove(const char *const *sorted, size_t count,
    const char *serial, struct units_proof *out, struct trace_error *err);

/*
 * A serial set's tree kept for many proofs: every perfect node, level by
 * level (level k holds count >> k hashes, level 0 the leaves), so a proof
 * costs a binary search and a few copies instead of hashing the set.  The
 * serials are borrowed and must outlive the tree.
 */
struct units_tree {
	const char *const *serials;     /* sorted, distinct */
	size_t count;
	unsigned char *levels[64];
	size_t level_count;
	unsigned char root[MERKLE_HASH_LEN];
};

/* Build t over sorted, distinct serials (count >= 1); TRACE_ENOMEM only
 * (t is then clear). */
enum trace_status units_tree_build(const char *const *sorted, size_t count,
    struct units_tree *t, struct trace_error *err);

/* Release what t holds and zero it.  Accepts a zeroed tree. */
void units_tree_clear(struct units_tree *t);

/* units_prove() from the tree. */
enum trace_status units_tree_prove(const struct units_tree *t,
    const char *serial, struct units_proof *out, struct trace_error *err);

/*
 * Check p for serial against root and count: TRACE_OK with *issued set to
 * whether the serial is in the set; TRACE_EBADSIG "proof_mismatch" when
 * the paths do not lead to root or the leaves do not bracket the serial;
 * TRACE_EMALFORMED for a proof of the wrong shape.
 */
enum trace_status units_verify(const char *serial,
    const unsigned char root[MERKLE_HASH_LEN], uint64_t count,
    const struct units_proof *p, bool *issued, struct trace_error *err);

#endif
