/*
 * merkle.c - RFC 6962 / RFC 9162 Merkle trees: hashing, proof planning over
 * stored perfect nodes, in-memory proofs, and proof verification.
 *
 * The RFC defines the tree recursively: MTH(D[n]) splits D at k, the largest
 * power of two below n, so every subtree [begin, end) starts at a multiple of
 * the smallest power of two >= its width.  Such a subtree is either a perfect
 * node (width a power of two) or, on the ragged right edge, a row of perfect
 * nodes of falling size whose hashes fold from the right.  That one fact is
 * what lets the server answer any proof from stored perfect nodes: it plans
 * the ranges (RFC 9162 2.1.3.1 PATH, 2.1.4.1 SUBPROOF, walked top-down and
 * reversed into proof order), decomposes each range into nodes, fetches them
 * in one round trip and folds.
 *
 * Verification follows RFC 9162 2.1.3.2 and 2.1.4.2 step by step, after
 * checking lengths first so a wrong-shape proof gets an error that says so
 * rather than a bare "mismatch".
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "dsse.h"
#include "merkle.h"

/* ---- hashing -------------------------------------------------------------- */

/* RFC 6962 2.1: the domain-separation bytes of leaves and interior nodes. */
static const unsigned char leaf_prefix = 0x00, node_prefix = 0x01;

void
merkle_leaf_hash(const void *data, size_t len, unsigned char out[MERKLE_HASH_LEN])
{
	struct sha256_part parts[2] = {
		{ &leaf_prefix, 1 },
		{ data, len },
	};

	sha256_parts(parts, 2, out);
}

void
merkle_leaf_hash_statement(const char *type, const unsigned char *payload,
    size_t payload_len, unsigned char out[MERKLE_HASH_LEN])
{
	dsse_pae_sha256(&leaf_prefix, 1, type, payload, payload_len, out);
}

void
merkle_node_hash(const unsigned char left[MERKLE_HASH_LEN],
    const unsigned char right[MERKLE_HASH_LEN],
    unsigned char out[MERKLE_HASH_LEN])
{
	unsigned char tmp[MERKLE_HASH_LEN];
	struct sha256_part parts[3] = {
		{ &node_prefix, 1 },
		{ left, MERKLE_HASH_LEN },
		{ right, MERKLE_HASH_LEN },
	};

	/* Through tmp, so out may alias left or right. */
	sha256_parts(parts, 3, tmp);
	memcpy(out, tmp, MERKLE_HASH_LEN);
}

void
merkle_root(const unsigned char *leaf_hashes, size_t count,
    unsigned char out[MERKLE_HASH_LEN])
{
	/*
	 * A stack of perfect subtree roots, largest first: after leaf i it
	 * holds one root per set bit of i + 1, so 65 entries always suffice.
	 */
	unsigned char stack[65][MERKLE_HASH_LEN];
	size_t depth = 0;

	if (count == 0) {
		/* RFC 9162 2.1.1: the hash of an empty list is SHA-256(""). */
		sha256("", 0, out);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		memcpy(stack[depth++], leaf_hashes + i * MERKLE_HASH_LEN,
		    MERKLE_HASH_LEN);
		for (uint64_t done = (uint64_t)i + 1; (done & 1) == 0;
		    done >>= 1) {
			merkle_node_hash(stack[depth - 2], stack[depth - 1],
			    stack[depth - 2]);
			depth--;
		}
	}
	/* The ragged right edge: fold the smaller subtrees from the right. */
	while (depth > 1) {
		merkle_node_hash(stack[depth - 2], stack[depth - 1],
		    stack[depth - 2]);
		depth--;
	}
	memcpy(out, stack[0], MERKLE_HASH_LEN);
}

/* ---- planning --------------------------------------------------------------- */

/* The largest power of two strictly below n (n >= 2): the RFC's split k. */
static uint64_t
split_point(uint64_t n)
{
	return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

/* Reverse a top-down walk's ranges into proof order (deepest first). */
static void
ranges_reverse(const struct merkle_range *top_down, size_t n,
    struct merkle_range *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = top_down[n - 1 - i];
}

enum trace_status
merkle_inclusion_ranges(uint64_t index, uint64_t size,
    struct merkle_range *ranges, size_t *count, struct trace_error *err)
{
	struct merkle_range walk[MERKLE_PROOF_MAX];
	uint64_t lo = 0, hi = size;
	size_t n = 0;

	if (index >= size)
		return trace_error_set(err, TRACE_EMALFORMED,
		    "index_out_of_range", "index",
		    "leaf index %" PRIu64 " is not below tree size %" PRIu64,
		    index, size);
	/* RFC 9162 2.1.3.1: PATH(m, D[n]) descends toward leaf m and keeps
	 * the sibling at every level. */
	while (hi - lo > 1) {
		uint64_t k = split_point(hi - lo);

		/* A tree of at most 2^64 - 1 leaves is at most 64 deep. */
		if (n == MERKLE_PROOF_MAX)
			return trace_error_set(err, TRACE_ETOOBIG,
			    "proof_too_long", NULL, "proof over %d hashes",
			    MERKLE_PROOF_MAX);
		if (index < lo + k) {
			walk[n].begin = lo + k;
			walk[n].end = hi;
			hi = lo + k;
		} else {
			walk[n].begin = lo;
			walk[n].end = lo + k;
			lo += k;
		}
		n++;
	}
	ranges_reverse(walk, n, ranges);
	*count = n;
	return TRACE_OK;
}

enum trace_status
merkle_consistency_ranges(uint64_t m, uint64_t n,
    struct merkle_range *ranges, size_t *count, struct trace_error *err)
{
	struct merkle_range walk[MERKLE_PROOF_MAX];
	uint64_t lo = 0, hi = n, rel = m;
	bool whole = true; /* SUBPROOF's b: [0, m) is a whole old subtree */
	size_t used = 0;

	if (m == 0)
		return trace_error_set(err, TRACE_EMALFORMED, "empty_tree",
		    "from", "a consistency proof from the empty tree proves "
		    "nothing");
	if (m > n)
		return trace_error_set(err, TRACE_EMALFORMED, "size_order",
		    "from", "old size %" PRIu64 " is above new size %" PRIu64,
		    m, n);
	/* RFC 9162 2.1.4.1, with rel = m relative to the current subtree. */
	for (;;) {
		uint64_t k;

		if (rel == hi - lo) {
			/* SUBPROOF(m, D[m], b): the old root itself unless the
			 * verifier already has it (b true). */
			if (whole)
				break;
			if (used == MERKLE_PROOF_MAX)
				goto too_long;
			walk[used].begin = lo;
			walk[used].end = hi;
			used++;
			break;
		}
		if (used == MERKLE_PROOF_MAX)
			goto too_long;
		k = split_point(hi - lo);
		if (rel <= k) {
			walk[used].begin = lo + k;
			walk[used].end = hi;
			hi = lo + k;
		} else {
			walk[used].begin = lo;
			walk[used].end = lo + k;
			lo += k;
			rel -= k;
			whole = false;
		}
		used++;
	}
	ranges_reverse(walk, used, ranges);
	*count = used;
	return TRACE_OK;
too_long:
	/* Only trees of more than 2^63 leaves get here. */
	return trace_error_set(err, TRACE_ETOOBIG, "proof_too_long", NULL,
	    "proof over %d hashes", MERKLE_PROOF_MAX);
}

enum trace_status
merkle_range_nodes(uint64_t begin, uint64_t end, struct merkle_node *nodes,
    size_t *count, struct trace_error *err)
{
	uint64_t width, pos;
	size_t n = 0;

	if (begin >= end)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_range", NULL,
		    "range [%" PRIu64 ", %" PRIu64 ") is empty", begin, end);
	width = end - begin;
	/* The alignment every RFC 6962 subtree has (see the file comment);
	 * without it the pieces below would not be stored nodes. */
	if (width > (uint64_t)1 << 63) {
		if (begin != 0)
			goto unaligned;
	} else {
		uint64_t p = width == 1 ? 1 :
		    (uint64_t)1 << (64 - __builtin_clzll(width - 1));

		if ((begin & (p - 1)) != 0)
			goto unaligned;
	}
	pos = begin;
	for (int level = 63; level >= 0; level--) {
		if (((width >> level) & 1) == 0)
			continue;
		nodes[n].level = (unsigned)level;
		nodes[n].index = pos >> level;
		pos += (uint64_t)1 << level;
		n++;
	}
	*count = n;
	return TRACE_OK;
unaligned:
	return trace_error_set(err, TRACE_EMALFORMED, "bad_range", NULL,
	    "range [%" PRIu64 ", %" PRIu64 ") is not a subtree", begin, end);
}

enum trace_status
merkle_range_hash(const unsigned char *node_hashes, size_t count,
    unsigned char out[MERKLE_HASH_LEN], struct trace_error *err)
{
	unsigned char acc[MERKLE_HASH_LEN];

	if (count == 0 || count > 64)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_range", NULL,
		    "a range has 1 to 64 nodes, not %zu", count);
	/* MTH splits off the largest perfect subtree on the left first, so
	 * the row folds from the right. */
	memcpy(acc, node_hashes + (count - 1) * MERKLE_HASH_LEN,
	    MERKLE_HASH_LEN);
	for (size_t i = count - 1; i > 0; i--)
		merkle_node_hash(node_hashes + (i - 1) * MERKLE_HASH_LEN, acc,
		    acc);
	memcpy(out, acc, MERKLE_HASH_LEN);
	return TRACE_OK;
}

/* Decompose plan->ranges into plan->nodes. */
static enum trace_status
plan_fill_nodes(struct merkle_plan *plan, struct trace_error *err)
{
	struct merkle_node row[64];
	enum trace_status st;
	size_t n;

	plan->node_count = 0;
	for (size_t i = 0; i < plan->count; i++) {
		st = merkle_range_nodes(plan->ranges[i].begin,
		    plan->ranges[i].end, row, &n, err);
		if (st != TRACE_OK)
			return st;
		/* Cannot happen for RFC proofs (one ragged range at most),
		 * but the array bound is ours to keep. */
		if (plan->node_count + n > MERKLE_PLAN_NODES_MAX)
			return trace_error_set(err, TRACE_ETOOBIG,
			    "proof_too_long", NULL, "plan over %d nodes",
			    MERKLE_PLAN_NODES_MAX);
		plan->first_node[i] = plan->node_count;
		plan->node_counts[i] = n;
		memcpy(plan->nodes + plan->node_count, row, n * sizeof(row[0]));
		plan->node_count += n;
	}
	return TRACE_OK;
}

enum trace_status
merkle_plan_inclusion(uint64_t index, uint64_t size, struct merkle_plan *plan,
    struct trace_error *err)
{
	enum trace_status st;

	st = merkle_inclusion_ranges(index, size, plan->ranges, &plan->count,
	    err);
	if (st != TRACE_OK)
		return st;
	return plan_fill_nodes(plan, err);
}

enum trace_status
merkle_plan_consistency(uint64_t m, uint64_t n, struct merkle_plan *plan,
    struct trace_error *err)
{
	enum trace_status st;

	st = merkle_consistency_ranges(m, n, plan->ranges, &plan->count, err);
	if (st != TRACE_OK)
		return st;
	return plan_fill_nodes(plan, err);
}

enum trace_status
merkle_plan_assemble(const struct merkle_plan *plan,
    const unsigned char *node_hashes, unsigned char proof[][MERKLE_HASH_LEN],
    struct trace_error *err)
{
	enum trace_status st;

	for (size_t i = 0; i < plan->count; i++) {
		st = merkle_range_hash(
		    node_hashes + plan->first_node[i] * MERKLE_HASH_LEN,
		    plan->node_counts[i], proof[i], err);
		if (st != TRACE_OK)
			return st;
	}
	return TRACE_OK;
}

uint64_t
merkle_growth_count(uint64_t old_size, uint64_t new_size)
{
	uint64_t total = 0;

	if (new_size <= old_size)
		return 0;
	/* Level l has floor(size / 2^l) complete nodes. */
	for (int level = 1; level < 64; level++)
		total += (new_size >> level) - (old_size >> level);
	return total;
}

enum trace_status
merkle_growth_nodes(uint64_t old_size, uint64_t new_size,
    struct merkle_node *nodes, size_t capacity, size_t *count,
    struct trace_error *err)
{
	size_t n = 0;

	if (new_size < old_size)
		return trace_error_set(err, TRACE_EMALFORMED, "size_order",
		    NULL, "the tree cannot shrink from %" PRIu64 " to %" PRIu64,
		    old_size, new_size);
	if (merkle_growth_count(old_size, new_size) > capacity)
		return trace_error_set(err, TRACE_ETOOBIG, "too_many_nodes",
		    NULL, "%" PRIu64 " new nodes, room for %zu",
		    merkle_growth_count(old_size, new_size), capacity);
	/*
	 * Leaf j completes the nodes whose right edge is j + 1: one per
	 * trailing zero bit of j + 1, smallest first, so a node's right child
	 * is listed just before it and its left child was completed earlier.
	 */
	for (uint64_t j = old_size; j < new_size; j++) {
		uint64_t edge = j + 1;
		int top = __builtin_ctzll(edge);

		for (int level = 1; level <= top; level++) {
			nodes[n].level = (unsigned)level;
			nodes[n].index = (edge >> level) - 1;
			n++;
		}
	}
	*count = n;
	return TRACE_OK;
}

/* ---- in-memory generation ---------------------------------------------------- */

/* Hash every node of plan from the leaves, then assemble. */
static enum trace_status
prove_from_leaves(const struct merkle_plan *plan,
    const unsigned char *leaf_hashes, size_t size,
    unsigned char proof[][MERKLE_HASH_LEN], struct trace_error *err)
{
	unsigned char hashes[MERKLE_PLAN_NODES_MAX][MERKLE_HASH_LEN];

	for (size_t i = 0; i < plan->node_count; i++) {
		const struct merkle_node *node = &plan->nodes[i];
		uint64_t begin = node->index << node->level;
		uint64_t width = (uint64_t)1 << node->level;

		if (begin >= size || width > size - begin)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_range", NULL, "node outside the tree");
		merkle_root(leaf_hashes + begin * MERKLE_HASH_LEN,
		    (size_t)width, hashes[i]);
	}
	return merkle_plan_assemble(plan, hashes[0], proof, err);
}

enum trace_status
merkle_prove_inclusion(const unsigned char *leaf_hashes, size_t size,
    uint64_t index, unsigned char proof[][MERKLE_HASH_LEN], size_t *count,
    struct trace_error *err)
{
	struct merkle_plan plan;
	enum trace_status st;

	st = merkle_plan_inclusion(index, size, &plan, err);
	if (st != TRACE_OK)
		return st;
	st = prove_from_leaves(&plan, leaf_hashes, size, proof, err);
	if (st != TRACE_OK)
		return st;
	*count = plan.count;
	return TRACE_OK;
}

enum trace_status
merkle_prove_consistency(const unsigned char *leaf_hashes, size_t m, size_t n,
    unsigned char proof[][MERKLE_HASH_LEN], size_t *count,
    struct trace_error *err)
{
	struct merkle_plan plan;
	enum trace_status st;

	st = merkle_plan_consistency(m, n, &plan, err);
	if (st != TRACE_OK)
		return st;
	st = prove_from_leaves(&plan, leaf_hashes, n, proof, err);
	if (st != TRACE_OK)
		return st;
	*count = plan.count;
	return TRACE_OK;
}

/* ---- verification --------------------------------------------------------------- */

static enum trace_status
check_hash_length(struct merkle_bytes h, const char *field,
    struct trace_error *err)
{
	if (h.len != MERKLE_HASH_LEN || h.ptr == NULL)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_hash_length",
		    field, "%s is %zu bytes, not %d", field, h.len,
		    MERKLE_HASH_LEN);
	return TRACE_OK;
}

static enum trace_status
check_proof_elements(const struct merkle_bytes *proof, size_t count,
    struct trace_error *err)
{
	char field[32];

	for (size_t i = 0; i < count; i++) {
		if (proof[i].len == MERKLE_HASH_LEN && proof[i].ptr != NULL)
			continue;
		snprintf(field, sizeof(field), "proof[%zu]", i);
		return check_hash_length(proof[i], field, err);
	}
	return TRACE_OK;
}

enum trace_status
merkle_verify_inclusion(struct merkle_bytes leaf_hash, uint64_t index,
    uint64_t size, const struct merkle_bytes *proof, size_t count,
    struct merkle_bytes root, struct trace_error *err)
{
	struct merkle_range ranges[MERKLE_PROOF_MAX];
	unsigned char r[MERKLE_HASH_LEN];
	enum trace_status st;
	uint64_t fn, sn;
	size_t want;

	if (count > MERKLE_PROOF_MAX)
		return trace_error_set(err, TRACE_ETOOBIG, "proof_too_long",
		    "proof", "proof has %zu hashes, at most %d are allowed",
		    count, MERKLE_PROOF_MAX);
	/* RFC 9162 2.1.3.2 step 1 (and the ranges give the exact length). */
	st = merkle_inclusion_ranges(index, size, ranges, &want, err);
	if (st != TRACE_OK)
		return st;
	if ((st = check_hash_length(leaf_hash, "leaf_hash", err)) != TRACE_OK ||
	    (st = check_hash_length(root, "root", err)) != TRACE_OK ||
	    (st = check_proof_elements(proof, count, err)) != TRACE_OK)
		return st;
	if (count != want)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_proof_length",
		    "proof", "proof has %zu hashes; leaf %" PRIu64 " of a tree "
		    "of %" PRIu64 " needs %zu", count, index, size, want);

	/* Steps 2-5. */
	fn = index;
	sn = size - 1;
	memcpy(r, leaf_hash.ptr, MERKLE_HASH_LEN);
	for (size_t i = 0; i < count; i++) {
		if (sn == 0)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_proof_length", "proof", "proof is too long");
		if ((fn & 1) != 0 || fn == sn) {
			merkle_node_hash(proof[i].ptr, r, r);
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(r, proof[i].ptr, r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_proof_length",
		    "proof", "proof is too short");
	if (!crypto_equal(r, root.ptr, MERKLE_HASH_LEN))
		return trace_error_set(err, TRACE_EBADSIG, "proof_mismatch",
		    "proof", "inclusion proof of leaf %" PRIu64 " does not lead "
		    "to the root of the tree of %" PRIu64, index, size);
	return TRACE_OK;
}

enum trace_status
merkle_verify_consistency(uint64_t size1, uint64_t size2,
    const struct merkle_bytes *proof, size_t count, struct merkle_bytes root1,
    struct merkle_bytes root2, struct trace_error *err)
{
	struct merkle_range ranges[MERKLE_PROOF_MAX];
	const unsigned char *path[MERKLE_PROOF_MAX + 1];
	unsigned char fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
	enum trace_status st;
	size_t want, len = 0;
	uint64_t fn, sn;

	if (count > MERKLE_PROOF_MAX)
		return trace_error_set(err, TRACE_ETOOBIG, "proof_too_long",
		    "proof", "proof has %zu hashes, at most %d are allowed",
		    count, MERKLE_PROOF_MAX);
	/* Refuses size1 == 0 and size1 > size2. */
	st = merkle_consistency_ranges(size1, size2, ranges, &want, err);
	if (st != TRACE_OK)
		return st;
	if (size1 == size2) {
		/* Nothing to prove: the two trees are the same tree. */
		if (count != 0)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_proof_length", "proof",
			    "equal sizes want an empty proof, not %zu hashes",
			    count);
		if (root1.len != root2.len || (root1.len > 0 &&
		    !crypto_equal(root1.ptr, root2.ptr, root1.len)))
			return trace_error_set(err, TRACE_EBADSIG,
			    "root_mismatch", "root2",
			    "two trees of size %" PRIu64 " have different roots",
			    size1);
		return TRACE_OK;
	}
	if ((st = check_hash_length(root1, "root1", err)) != TRACE_OK ||
	    (st = check_hash_length(root2, "root2", err)) != TRACE_OK ||
	    (st = check_proof_elements(proof, count, err)) != TRACE_OK)
		return st;
	/* RFC 9162 2.1.4.2 step 1, made exact. */
	if (count != want)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_proof_length",
		    "proof", "proof has %zu hashes; from %" PRIu64 " to %"
		    PRIu64 " needs %zu", count, size1, size2, want);

	/* Step 2: a power-of-two old tree is a node of the new one, so the
	 * proof leaves out its root and the verifier supplies it. */
	if ((size1 & (size1 - 1)) == 0)
		path[len++] = root1.ptr;
	for (size_t i = 0; i < count; i++)
		path[len++] = proof[i].ptr;

	/* Steps 3-5. */
	fn = size1 - 1;
	sn = size2 - 1;
	while ((fn & 1) != 0) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, path[0], MERKLE_HASH_LEN);
	memcpy(sr, path[0], MERKLE_HASH_LEN);
	/* Step 6. */
	for (size_t i = 1; i < len; i++) {
		if (sn == 0)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_proof_length", "proof", "proof is too long");
		if ((fn & 1) != 0 || fn == sn) {
			merkle_node_hash(path[i], fr, fr);
			merkle_node_hash(path[i], sr, sr);
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(sr, path[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	/* Step 7. */
	if (sn != 0)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_proof_length",
		    "proof", "proof is too short");
	if (!crypto_equal(fr, root1.ptr, MERKLE_HASH_LEN))
		return trace_error_set(err, TRACE_EBADSIG, "proof_mismatch",
		    "root1", "consistency proof does not lead to the root of "
		    "the tree of %" PRIu64, size1);
	if (!crypto_equal(sr, root2.ptr, MERKLE_HASH_LEN))
		return trace_error_set(err, TRACE_EBADSIG, "proof_mismatch",
		    "root2", "consistency proof does not lead to the root of "
		    "the tree of %" PRIu64, size2);
	return TRACE_OK;
}
