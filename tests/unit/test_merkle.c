/*
 * test_merkle.c - the RFC 6962 / RFC 9162 Merkle tree: every vector under
 * tests/vectors/rfc6962/{inclusion,consistency}/, roots against a naive
 * recursive reference, every proof of every tree up to 70 leaves (generated
 * in memory and through a simulated node store), proof planning on huge
 * trees, the ways a proof can be wrong, and the leaf hash of a statement
 * (docs/PROTOCOL.md 5.4's example, and SHA-256(0x00 || PAE) by hand).
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "libtrace/crypto.h"
#include "libtrace/dsse.h"
#include "libtrace/encoding.h"
#include "libtrace/fileio.h"
#include "libtrace/json.h"
#include "libtrace/merkle.h"
#include "check.h"

#define MAX_LEAVES 70
#define H MERKLE_HASH_LEN

/* ---- reference ------------------------------------------------------------ */

/* RFC 6962 2.1 MTH written as the RFC says it, independent of merkle.c. */
static void
reference_root(const unsigned char *hashes, size_t n, unsigned char out[H])
{
	static const unsigned char one = 0x01;
	unsigned char left[H], right[H];
	size_t k = 1;

	if (n == 0) {
		sha256("", 0, out);
		return;
	}
	if (n == 1) {
		memcpy(out, hashes, H);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	reference_root(hashes, k, left);
	reference_root(hashes + k * H, n - k, right);
	sha256_parts((const struct sha256_part[]){ { &one, 1 }, { left, H },
	    { right, H } }, 3, out);
}

static unsigned char leaves[MAX_LEAVES][H];
static unsigned char roots[MAX_LEAVES + 1][H];

/* The 8 leaves of the certificate-transparency test tree, which the
 * happy-path vectors are drawn from. */
static unsigned char ct_leaves[8][H];

static void
make_leaves(void)
{
	static const unsigned char ct_data[] = {
		0x00, 0x10, 0x20, 0x21, 0x30, 0x31, 0x40, 0x41, 0x42, 0x43,
		0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
		0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
		0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	};
	static const size_t ct_lens[8] = { 0, 1, 1, 2, 2, 4, 8, 16 };
	size_t off = 0;
	char data[32];

	for (size_t i = 0; i < 8; i++) {
		merkle_leaf_hash(ct_data + off, ct_lens[i], ct_leaves[i]);
		off += ct_lens[i];
	}
	for (size_t i = 0; i < MAX_LEAVES; i++) {
		int n = snprintf(data, sizeof(data), "leaf %zu", i);

		merkle_leaf_hash(data, (size_t)n, leaves[i]);
	}
	for (size_t n = 0; n <= MAX_LEAVES; n++)
		reference_root(leaves[0], n, roots[n]);
}

static bool
hex_equal(const unsigned char *h, const char *hex)
{
	unsigned char want[H];

	return hex_decode(hex, strlen(hex), want, H, true) &&
	    memcmp(h, want, H) == 0;
}

/* ---- hashing and roots --------------------------------------------------- */

static void
test_hashes_and_roots(void)
{
	static const char *const ct_roots[9] = {
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	};
	unsigned char h[H], direct[H], buf[1 + 2 * H];

	/* The prefixes, against SHA-256 of the concatenation. */
	buf[0] = 0x00;
	memcpy(buf + 1, "abc", 3);
	sha256(buf, 4, direct);
	merkle_leaf_hash("abc", 3, h);
	CHECK_MEM(h, direct, H);
	buf[0] = 0x01;
	memcpy(buf + 1, leaves[0], H);
	memcpy(buf + 1 + H, leaves[1], H);
	sha256(buf, sizeof(buf), direct);
	merkle_node_hash(leaves[0], leaves[1], h);
	CHECK_MEM(h, direct, H);

	for (size_t n = 0; n <= 8; n++) {
		merkle_root(ct_leaves[0], n, h);
		CHECK_MSG(hex_equal(h, ct_roots[n]), "CT tree root of %zu", n);
	}
	for (size_t n = 0; n <= MAX_LEAVES; n++) {
		merkle_root(leaves[0], n, h);
		CHECK_MSG(memcmp(h, roots[n], H) == 0, "root of %zu leaves", n);
	}
}

/* ---- the leaf hash of a statement ------------------------------------------- */

/* docs/PROTOCOL.md 5.4: the example event, its PAE and its leaf hash. */
static const char protocol_payload[] =
    "{\"v\":1,\"type\":\"product.registered\",\"chain\":{\"gtin\":"
    "\"08801234567893\",\"lot\":\"SWS2611A\"},\"seq\":0,\"prev\":null,"
    "\"time\":\"2026-11-20T08:30:00+09:00\",\"signer\":"
    "\"21fe31dfa154a261626bf854046fd227\",\"where\":{\"country\":\"KR\","
    "\"place\":\"Osan\"},\"data\":{\"name\":{\"en\":"
    "\"Essential Emulsion\"},\"brand\":\"Sulwhasoo\",\"origin\":\"KR\"}}";

static void
test_statement_leaf(void)
{
	static const size_t type_lens[] = { 1, 9, 10, 35, 99, 100, 128, 129,
		1000 };
	static const size_t payload_lens[] = { 0, 1, 9, 10, 99, 100, 999,
		1000, 16384, 16385 };
	char *type = malloc(1001);
	unsigned char *payload = malloc(16385), *pae, h[H], want[H];
	size_t pae_len = 0;

	CHECK(type != NULL && payload != NULL);
	if (type == NULL || payload == NULL)
		goto out;

	/* The protocol's example: 303 payload bytes behind a 50-byte header. */
	CHECK_INT(sizeof(protocol_payload) - 1, 303);
	merkle_leaf_hash_statement(TYPE_EVENT,
	    (const unsigned char *)protocol_payload, 303, h);
	CHECK(hex_equal(h, "3c661c4c4c2be22a1785b7d2c9748c4ff"
	    "ee506196100c3ed6b1fbd2fa7211941"));

	/*
	 * Against SHA-256(0x00 || PAE) over the PAE in one buffer, where the
	 * decimal lengths change width and past DSSE_TYPE_MAX and
	 * DSSE_PAYLOAD_MAX (the hash has no limit of its own).
	 */
	for (size_t t = 0; t < sizeof(type_lens) / sizeof(type_lens[0]); t++) {
		memset(type, 'a' + (int)t, type_lens[t]);
		type[type_lens[t]] = '\0';
		for (size_t p = 0;
		    p < sizeof(payload_lens) / sizeof(payload_lens[0]); p++) {
			for (size_t i = 0; i < payload_lens[p]; i++)
				payload[i] = (unsigned char)(i * 7 + p);
			pae = dsse_pae(type, payload, payload_lens[p], &pae_len);
			CHECK(pae != NULL);
			if (pae == NULL)
				continue;
			merkle_leaf_hash(pae, pae_len, want);
			merkle_leaf_hash_statement(type, payload,
			    payload_lens[p], h);
			CHECK_MSG(memcmp(h, want, H) == 0, "type %zu bytes, "
			    "payload %zu bytes", type_lens[t], payload_lens[p]);
			free(pae);
		}
	}

	/* Different from the statement id: the 0x00 prefix is there. */
	dsse_statement_id(TYPE_EVENT, (const unsigned char *)protocol_payload,
	    303, want);
	CHECK(hex_equal(want, "3d66d81468a1587bbb5ddc1227d3b650"
	    "9e6f0ecaffbe937b11fac4a7fd1c65b4"));
out:
	free(type);
	free(payload);
}

/* ---- planning -------------------------------------------------------------- */

static void
test_range_nodes(void)
{
	struct merkle_node nodes[64];
	unsigned char hashes[64][H], h[H];
	struct trace_error err;
	size_t n = 0;

	CHECK_INT(merkle_range_nodes(4, 7, nodes, &n, &err), TRACE_OK);
	CHECK_INT(n, 2);
	CHECK(nodes[0].level == 1 && nodes[0].index == 2);
	CHECK(nodes[1].level == 0 && nodes[1].index == 6);
	CHECK_INT(merkle_range_nodes(8, 16, nodes, &n, &err), TRACE_OK);
	CHECK(n == 1 && nodes[0].level == 3 && nodes[0].index == 1);
	CHECK_INT(merkle_range_nodes(0, UINT64_MAX, nodes, &n, &err), TRACE_OK);
	CHECK_INT(n, 64);
	CHECK(nodes[63].level == 0 && nodes[63].index == UINT64_MAX - 1);
	/* Not subtrees: unaligned, straddling, empty. */
	CHECK_INT(merkle_range_nodes(2, 5, nodes, &n, &err), TRACE_EMALFORMED);
	CHECK_STR(err.code, "bad_range");
	CHECK_INT(merkle_range_nodes(1, 3, nodes, &n, &err), TRACE_EMALFORMED);
	CHECK_INT(merkle_range_nodes(5, 5, nodes, &n, &err), TRACE_EMALFORMED);
	CHECK_INT(merkle_range_nodes(1, UINT64_MAX, nodes, &n, &err),
	    TRACE_EMALFORMED);
	CHECK_INT(merkle_range_hash(hashes[0], 0, h, &err), TRACE_EMALFORMED);

	/* Every [0, n) folds to the root. */
	for (size_t size = 1; size <= MAX_LEAVES; size++) {
		CHECK_INT(merkle_range_nodes(0, size, nodes, &n, &err),
		    TRACE_OK);
		for (size_t i = 0; i < n; i++)
			merkle_root(leaves[nodes[i].index << nodes[i].level],
			    (size_t)1 << nodes[i].level, hashes[i]);
		CHECK_INT(merkle_range_hash(hashes[0], n, h, &err), TRACE_OK);
		CHECK_MSG(memcmp(h, roots[size], H) == 0, "fold of %zu", size);
	}
}

/* Ranges of a plan must tile [0, size) with the leaf (or the old tree),
 * and each range's nodes must tile the range. */
static bool
plan_tiles(const struct merkle_plan *plan, uint64_t size, uint64_t gap_begin,
    uint64_t gap_end)
{
	uint64_t covered = gap_end - gap_begin;

	if (plan->count > MERKLE_PROOF_MAX ||
	    plan->node_count > MERKLE_PLAN_NODES_MAX)
		return false;
	for (size_t i = 0; i < plan->count; i++) {
		const struct merkle_range *r = &plan->ranges[i];
		uint64_t pos = r->begin;

		if (r->begin < gap_end && gap_begin < r->end)
			return false;
		for (size_t j = 0; j < i; j++)
			if (r->begin < plan->ranges[j].end &&
			    plan->ranges[j].begin < r->end)
				return false;
		for (size_t k = 0; k < plan->node_counts[i]; k++) {
			const struct merkle_node *nd =
			    &plan->nodes[plan->first_node[i] + k];

			if ((nd->index << nd->level) != pos)
				return false;
			pos += (uint64_t)1 << nd->level;
		}
		if (pos != r->end || r->end > size)
			return false;
		covered += r->end - r->begin;
	}
	return covered == size;
}

static void
test_plans_on_huge_trees(void)
{
	static const uint64_t sizes[] = {
		1, 2, 3, 1000, (uint64_t)1 << 32, ((uint64_t)1 << 40) + 12345,
		((uint64_t)1 << 62) + 7, ((uint64_t)1 << 63) - 1, UINT64_MAX,
	};
	struct merkle_plan plan;
	struct trace_error err;
	size_t checked = 0;

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t size = sizes[s];
		uint64_t picks[] = { 0, 1, size / 3, size / 2, size - 2,
			size - 1 };

		for (size_t p = 0; p < sizeof(picks) / sizeof(picks[0]); p++) {
			uint64_t i = picks[p];

			if (i >= size)
				continue;
			CHECK_INT(merkle_plan_inclusion(i, size, &plan, &err),
			    TRACE_OK);
			CHECK_MSG(plan_tiles(&plan, size, i, i + 1),
			    "inclusion plan %" PRIu64 "/%" PRIu64, i, size);
			checked++;
			/* Consistency from m = i + 1; only trees of up to
			 * 2^63 leaves are promised a plan. */
			if (size > (uint64_t)1 << 63)
				continue;
			CHECK_INT(merkle_plan_consistency(i + 1, size, &plan,
			    &err), TRACE_OK);
			/* The old tree is left out only when it is a
			 * single perfect node. */
			if (i + 1 == size)
				CHECK_INT(plan.count, 0);
			else if (((i + 1) & i) == 0)
				CHECK_MSG(plan_tiles(&plan, size, 0, i + 1),
				    "consistency plan %" PRIu64 "/%" PRIu64,
				    i + 1, size);
			else
				CHECK_MSG(plan_tiles(&plan, size, 0, 0),
				    "consistency plan %" PRIu64 "/%" PRIu64,
				    i + 1, size);
		}
	}
	CHECK(checked > 40);
	CHECK_INT(merkle_plan_inclusion(5, 5, &plan, &err), TRACE_EMALFORMED);
	CHECK_STR(err.code, "index_out_of_range");
	CHECK_INT(merkle_plan_consistency(0, 5, &plan, &err), TRACE_EMALFORMED);
	CHECK_STR(err.code, "empty_tree");
	CHECK_INT(merkle_plan_consistency(6, 5, &plan, &err), TRACE_EMALFORMED);
	CHECK_INT(merkle_plan_consistency(5, 5, &plan, &err), TRACE_OK);
	CHECK_INT(plan.count, 0);
}

/*
 * A node store fed only through merkle_growth_nodes(), the way the
 * integrator will: after every growth step, every proof of the tree must
 * come out of the store exactly as merkle_prove_*() computes it from the
 * leaves.
 */
struct store {
	unsigned char hash[8][MAX_LEAVES][H];
	bool have[8][MAX_LEAVES];
};

static bool
store_fetch(const struct store *st, const struct merkle_plan *plan,
    unsigned char (*out)[H])
{
	for (size_t i = 0; i < plan->node_count; i++) {
		const struct merkle_node *nd = &plan->nodes[i];

		if (nd->level >= 8 || nd->index >= MAX_LEAVES ||
		    !st->have[nd->level][nd->index])
			return false;
		memcpy(out[i], st->hash[nd->level][nd->index], H);
	}
	return true;
}

static void
store_grow(struct store *st, size_t old_size, size_t new_size)
{
	struct merkle_node nodes[MAX_LEAVES];
	struct trace_error err;
	size_t n = 0, total = 0;

	for (size_t j = old_size; j < new_size; j++) {
		memcpy(st->hash[0][j], leaves[j], H);
		st->have[0][j] = true;
	}
	CHECK_INT(merkle_growth_nodes(old_size, new_size, nodes, MAX_LEAVES,
	    &n, &err), TRACE_OK);
	CHECK_INT(n, merkle_growth_count(old_size, new_size));
	for (size_t i = 0; i < n; i++) {
		unsigned lv = nodes[i].level;
		uint64_t ix = nodes[i].index;
		bool ready = lv >= 1 && lv < 8 && 2 * ix + 1 < MAX_LEAVES &&
		    st->have[lv - 1][2 * ix] && st->have[lv - 1][2 * ix + 1] &&
		    !st->have[lv][ix];

		CHECK_MSG(ready, "growth %zu->%zu: node (%u, %" PRIu64 ")",
		    old_size, new_size, lv, ix);
		if (!ready)
			continue;
		merkle_node_hash(st->hash[lv - 1][2 * ix],
		    st->hash[lv - 1][2 * ix + 1], st->hash[lv][ix]);
		st->have[lv][ix] = true;
	}
	/* Exactly the perfect nodes inside [0, new_size) are stored. */
	for (unsigned lv = 0; lv < 8; lv++)
		for (size_t ix = 0; ix < MAX_LEAVES; ix++)
			total += st->have[lv][ix] !=
			    (((ix + 1) << lv) <= new_size);
	CHECK_MSG(total == 0, "store after growth to %zu", new_size);
}

/* Assemble a plan from the store; it must give the in-memory proof. */
static bool
store_matches(const struct store *st, const struct merkle_plan *plan,
    unsigned char (*want)[H], size_t n)
{
	unsigned char fetched[MERKLE_PLAN_NODES_MAX][H];
	unsigned char got[MERKLE_PROOF_MAX][H];

	return store_fetch(st, plan, fetched) &&
	    merkle_plan_assemble(plan, fetched[0], got, NULL) == TRACE_OK &&
	    n == plan->count && memcmp(got, want, n * H) == 0;
}

static void
check_store_proofs(const struct store *st, size_t size)
{
	unsigned char proof[MERKLE_PROOF_MAX][H], root[H];
	struct merkle_node row[64];
	struct merkle_plan plan;
	size_t n = 0;

	/* The checkpoint root from stored nodes. */
	CHECK_INT(merkle_range_nodes(0, size, row, &n, NULL), TRACE_OK);
	for (size_t i = 0; i < n; i++)
		memcpy(proof[i], st->hash[row[i].level][row[i].index], H);
	CHECK_INT(merkle_range_hash(proof[0], n, root, NULL), TRACE_OK);
	CHECK_MSG(memcmp(root, roots[size], H) == 0, "stored root of %zu",
	    size);
	for (size_t i = 0; i < size; i++) {
		CHECK(merkle_plan_inclusion(i, size, &plan, NULL) == TRACE_OK &&
		    merkle_prove_inclusion(leaves[0], size, i, proof, &n,
		    NULL) == TRACE_OK);
		CHECK_MSG(store_matches(st, &plan, proof, n),
		    "stored inclusion proof %zu/%zu", i, size);
	}
	for (size_t m = 1; m <= size; m++) {
		CHECK(merkle_plan_consistency(m, size, &plan, NULL) == TRACE_OK &&
		    merkle_prove_consistency(leaves[0], m, size, proof, &n,
		    NULL) == TRACE_OK);
		CHECK_MSG(store_matches(st, &plan, proof, n),
		    "stored consistency proof %zu->%zu", m, size);
	}
}

static void
test_store(void)
{
	static const size_t steps[] = { 1, 2, 3, 5, 8, 13, 16, 17, 31, 32, 33,
		50, 63, 64, 65, 70 };
	static struct store st;
	size_t old = 0;

	CHECK_INT(merkle_growth_count(0, 8), 7);
	CHECK_INT(merkle_growth_count(5, 5), 0);
	CHECK_INT(merkle_growth_count(3, 4), 2);
	memset(&st, 0, sizeof(st));
	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		store_grow(&st, old, steps[s]);
		check_store_proofs(&st, steps[s]);
		old = steps[s];
	}
	/* One leaf at a time gives the same store. */
	memset(&st, 0, sizeof(st));
	for (size_t size = 1; size <= MAX_LEAVES; size++)
		store_grow(&st, size - 1, size);
	check_store_proofs(&st, MAX_LEAVES);

	{
		struct merkle_node few[2];
		struct trace_error err;
		size_t n;

		CHECK_INT(merkle_growth_nodes(0, 8, few, 2, &n, &err),
		    TRACE_ETOOBIG);
		CHECK_INT(merkle_growth_nodes(8, 0, few, 2, &n, &err),
		    TRACE_EMALFORMED);
	}
}

/* ---- generated proofs ---------------------------------------------------- */

static struct trace_error verr;
static size_t rejected;

/* Short forms of the verifiers over 32-byte hashes, for the loops below. */
static enum trace_status
inc(const unsigned char *leaf, uint64_t i, uint64_t size,
    const struct merkle_bytes *p, size_t n, const unsigned char *root)
{
	return merkle_verify_inclusion(merkle_bytes_hash(leaf), i, size, p, n,
	    merkle_bytes_hash(root), &verr);
}

static enum trace_status
con(uint64_t m, uint64_t n, const struct merkle_bytes *p, size_t count,
    const unsigned char *root1, const unsigned char *root2)
{
	return merkle_verify_consistency(m, n, p, count,
	    merkle_bytes_hash(root1), merkle_bytes_hash(root2), &verr);
}

/* A mutated proof must fail with the status given (TRACE_OK: any failure). */
#define REJECT(st, want, what)                                               \
	do {                                                                 \
		enum trace_status st_ = (st);                                \
		bool r_ = (want) == TRACE_OK ? st_ != TRACE_OK : st_ == (want); \
		CHECK_MSG(r_, "%zu,%zu: %s gave %s", a, b, what,             \
		    trace_status_name(st_));                                 \
		rejected += r_;                                              \
	} while (0)

static void
test_inclusion_all(void)
{
	unsigned char proof[MERKLE_PROOF_MAX + 1][H], bad[H];
	struct merkle_bytes p[MERKLE_PROOF_MAX + 1];
	size_t n = 0, verified = 0;

	rejected = 0;
	for (size_t b = 1; b <= MAX_LEAVES; b++) {
		for (size_t a = 0; a < b; a++) {
			CHECK_INT(merkle_prove_inclusion(leaves[0], b, a, proof,
			    &n, &verr), TRACE_OK);
			for (size_t k = 0; k <= n; k++)
				p[k] = merkle_bytes_hash(proof[k]);
			CHECK_MSG(inc(leaves[a], a, b, p, n, roots[b]) ==
			    TRACE_OK, "inclusion %zu/%zu: %s", a, b,
			    verr.message);
			verified++;
			/* Each element tampered with. */
			for (size_t k = 0; k < n; k++) {
				memcpy(bad, proof[k], H);
				bad[k % H] ^= 0x01;
				p[k].ptr = bad;
				REJECT(inc(leaves[a], a, b, p, n, roots[b]),
				    TRACE_EBADSIG, "a tampered element");
				p[k].ptr = proof[k];
			}
			REJECT(inc(leaves[(a + 1) % MAX_LEAVES], a, b, p, n,
			    roots[b]), TRACE_EBADSIG, "a wrong leaf");
			/* Another position for the leaf; another tree size
			 * with that tree's true root. */
			if (a + 1 < b)
				REJECT(inc(leaves[a], a + 1, b, p, n, roots[b]),
				    TRACE_OK, "index + 1");
			if (a > 0)
				REJECT(inc(leaves[a], a - 1, b, p, n, roots[b]),
				    TRACE_OK, "index - 1");
			if (b < MAX_LEAVES)
				REJECT(inc(leaves[a], a, b + 1, p, n,
				    roots[b + 1]), TRACE_OK, "size + 1");
			if (b - 1 > a)
				REJECT(inc(leaves[a], a, b - 1, p, n,
				    roots[b - 1]), TRACE_OK, "size - 1");
			/* Extra element (the root) at the end, or alone. */
			memcpy(proof[n], roots[b], H);
			REJECT(inc(leaves[a], a, b, p, n + 1, roots[b]),
			    TRACE_EMALFORMED, "an extra element");
			REJECT(inc(leaves[a], a, b, p + n, 1, roots[b]),
			    TRACE_OK, "only the extra element");
			if (n == 0)
				continue;
			REJECT(inc(leaves[a], a, b, p, n - 1, roots[b]),
			    TRACE_EMALFORMED, "a missing last element");
			REJECT(inc(leaves[a], a, b, p + 1, n - 1, roots[b]),
			    TRACE_EMALFORMED, "a missing first element");
			p[n - 1].len = H - 1;
			REJECT(inc(leaves[a], a, b, p, n, roots[b]),
			    TRACE_EMALFORMED, "a 31-byte element");
			CHECK_STR(verr.code, "bad_hash_length");
		}
	}
	CHECK_INT(verified, MAX_LEAVES * (MAX_LEAVES + 1) / 2);
	printf("generated inclusion proofs: %zu verified, %zu mutations "
	    "rejected\n", verified, rejected);
}

static void
test_consistency_all(void)
{
	unsigned char proof[MERKLE_PROOF_MAX + 1][H], bad[H];
	struct merkle_bytes p[MERKLE_PROOF_MAX + 1];
	size_t n = 0, verified = 0;

	rejected = 0;
	for (size_t b = 1; b <= MAX_LEAVES; b++) {
		for (size_t a = 1; a <= b; a++) {
			CHECK_INT(merkle_prove_consistency(leaves[0], a, b,
			    proof, &n, &verr), TRACE_OK);
			for (size_t k = 0; k <= n; k++)
				p[k] = merkle_bytes_hash(proof[k]);
			CHECK_MSG(con(a, b, p, n, roots[a], roots[b]) ==
			    TRACE_OK, "consistency %zu->%zu: %s", a, b,
			    verr.message);
			verified++;
			if (a == b) {
				CHECK_INT(n, 0);
				REJECT(con(a, b, p, 0, roots[a], roots[a - 1]),
				    TRACE_EBADSIG, "different roots");
				continue;
			}
			for (size_t k = 0; k < n; k++) {
				memcpy(bad, proof[k], H);
				bad[(k * 7) % H] ^= 0x80;
				p[k].ptr = bad;
				REJECT(con(a, b, p, n, roots[a], roots[b]),
				    TRACE_EBADSIG, "a tampered element");
				p[k].ptr = proof[k];
			}
			REJECT(con(a, b, p, n, roots[b], roots[a]), TRACE_OK,
			    "swapped roots");
			REJECT(con(0, b, p, n, roots[0], roots[b]),
			    TRACE_EMALFORMED, "size1 0");
			/* Other sizes, with those trees' true roots. */
			if (a > 1)
				REJECT(con(a - 1, b, p, n, roots[a - 1],
				    roots[b]), TRACE_OK, "size1 - 1");
			if (a + 1 < b)
				REJECT(con(a + 1, b, p, n, roots[a + 1],
				    roots[b]), TRACE_OK, "size1 + 1");
			if (b < MAX_LEAVES)
				REJECT(con(a, b + 1, p, n, roots[a],
				    roots[b + 1]), TRACE_OK, "size2 + 1");
			if (b - 1 > a)
				REJECT(con(a, b - 1, p, n, roots[a],
				    roots[b - 1]), TRACE_OK, "size2 - 1");
			memcpy(proof[n], roots[a], H);
			REJECT(con(a, b, p, n + 1, roots[a], roots[b]),
			    TRACE_EMALFORMED, "an extra element");
			REJECT(con(a, b, p, n - 1, roots[a], roots[b]),
			    TRACE_EMALFORMED, "a missing last element");
			REJECT(con(a, b, p + 1, n - 1, roots[a], roots[b]),
			    TRACE_EMALFORMED, "a missing first element");
			p[0].len = H + 1;
			REJECT(con(a, b, p, n, roots[a], roots[b]),
			    TRACE_EMALFORMED, "a 33-byte element");
			CHECK_STR(verr.code, "bad_hash_length");
		}
	}
	CHECK_INT(verified, MAX_LEAVES * (MAX_LEAVES + 1) / 2);
	printf("generated consistency proofs: %zu verified, %zu mutations "
	    "rejected\n", verified, rejected);
}

static void
test_bounds(void)
{
	static const unsigned char zero[H];
	struct merkle_bytes p[MERKLE_PROOF_MAX + 1];
	struct trace_error err;

	for (size_t i = 0; i <= MERKLE_PROOF_MAX; i++)
		p[i] = merkle_bytes_hash(zero);
	CHECK_INT(merkle_verify_inclusion(merkle_bytes_hash(zero), 0,
	    UINT64_MAX, p, MERKLE_PROOF_MAX + 1, merkle_bytes_hash(zero),
	    &err), TRACE_ETOOBIG);
	CHECK_INT(merkle_verify_consistency(1, UINT64_MAX, p,
	    MERKLE_PROOF_MAX + 1, merkle_bytes_hash(zero),
	    merkle_bytes_hash(zero), &err), TRACE_ETOOBIG);
	/* Leaf 0 of a 2^64 - 1 leaf tree needs exactly 64 hashes: 64 zero
	 * hashes have the right shape but do not reach a zero root. */
	CHECK_INT(merkle_verify_inclusion(merkle_bytes_hash(zero), 0,
	    UINT64_MAX, p, 64, merkle_bytes_hash(zero), &err), TRACE_EBADSIG);
	CHECK_STR(err.code, "proof_mismatch");
	CHECK_INT(merkle_verify_inclusion(merkle_bytes_hash(zero), 0,
	    UINT64_MAX, p, 63, merkle_bytes_hash(zero), &err),
	    TRACE_EMALFORMED);
	CHECK_STR(err.code, "bad_proof_length");
	p[0].ptr = NULL;
	CHECK_INT(merkle_verify_inclusion(merkle_bytes_hash(zero), 1, 2, p, 1,
	    merkle_bytes_hash(zero), &err), TRACE_EMALFORMED);
	/* Equal sizes compare the roots whole, length included. */
	CHECK_INT(merkle_verify_consistency(3, 3, NULL, 0,
	    merkle_bytes_hash(roots[3]), (struct merkle_bytes){ roots[3], H - 1 },
	    &err), TRACE_EBADSIG);
	CHECK_STR(err.code, "root_mismatch");
	CHECK_INT(merkle_verify_consistency(3, 3, NULL, 0,
	    merkle_bytes_hash(roots[3]), merkle_bytes_hash(roots[3]), &err),
	    TRACE_OK);
}

/* ---- the RFC 6962 vectors ------------------------------------------------ */

struct blob {
	unsigned char b[96];
	size_t len;
};

struct tally {
	size_t files, happy, rejected, agreed, compared;
};

/*
 * The vectors hold uint64 values up to 2^64 - 1 (a leaf index of -1), which
 * json.h's long long cannot; read the number of "key" from the raw text and
 * blank it to 0 so the strict parser takes the rest.
 */
static bool
take_u64(char *text, const char *key, uint64_t *out)
{
	char quoted[32];
	char *at, *p;
	uint64_t v = 0;

	snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	at = strstr(text, quoted);
	if (at == NULL || strstr(at + 1, quoted) != NULL)
		return false;
	p = at + strlen(quoted);
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	if (*p++ != ':')
		return false;
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return false;
	for (char *d = p; *d >= '0' && *d <= '9'; d++) {
		unsigned digit = (unsigned)(*d - '0');

		if (v > (UINT64_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
		*d = d == p ? '0' : ' ';
	}
	*out = v;
	return true;
}

/* A base64 string value into out. */
static bool
decode_value(const struct json_value *v, struct blob *out)
{
	return v != NULL && v->type == JSON_STRING &&
	    base64_decoded_max(v->u.string.len) <= sizeof(out->b) &&
	    base64_decode(v->u.string.ptr, v->u.string.len, out->b, &out->len,
	    NULL) == TRACE_OK;
}

/* The proof (null or an array) into proof[], false if not understood. */
static bool
proof_member(const struct json_value *obj, struct blob *proof, size_t *count)
{
	const struct json_value *arr = json_object_get(obj, "proof");

	*count = 0;
	if (arr == NULL || arr->type == JSON_NULL)
		return arr != NULL;
	if (arr->type != JSON_ARRAY || arr->u.array.count > MERKLE_PROOF_MAX + 1)
		return false;
	for (size_t i = 0; i < arr->u.array.count; i++)
		if (!decode_value(arr->u.array.items[i], &proof[i]))
			return false;
	*count = arr->u.array.count;
	return true;
}

static struct merkle_bytes
bytes_of(const struct blob *b)
{
	return (struct merkle_bytes){ b->b, b->len };
}

/* The happy paths come from the CT test tree: our generator must produce
 * exactly the vector's proof. */
static void
compare_generated(bool inclusion, uint64_t a, uint64_t b,
    const struct blob *proof, size_t count, struct tally *t)
{
	unsigned char gen[MERKLE_PROOF_MAX][H];
	size_t n = 0;
	bool same;

	if (inclusion)
		CHECK_INT(merkle_prove_inclusion(ct_leaves[0], (size_t)b, a,
		    gen, &n, NULL), TRACE_OK);
	else
		CHECK_INT(merkle_prove_consistency(ct_leaves[0], (size_t)a,
		    (size_t)b, gen, &n, NULL), TRACE_OK);
	same = n == count;
	for (size_t i = 0; same && i < n; i++)
		same = proof[i].len == H && memcmp(proof[i].b, gen[i], H) == 0;
	CHECK_MSG(same, "generated %s proof %" PRIu64 ",%" PRIu64
	    " differs from the vector", inclusion ? "inclusion" :
	    "consistency", a, b);
	t->compared++;
}

static void
run_vector_file(const char *path, bool inclusion, struct tally *t)
{
	struct blob proof[MERKLE_PROOF_MAX + 1];
	/* root and leafHash, or root1 and root2 */
	struct blob r1 = { { 0 }, 0 }, r2 = { { 0 }, 0 };
	struct merkle_bytes p[MERKLE_PROOF_MAX + 1];
	struct json_doc *doc = NULL;
	const struct json_value *obj;
	struct trace_error err;
	enum trace_status st;
	uint64_t a = 0, b = 0;
	char *text = NULL;
	size_t len = 0, count = 0;
	bool want_err = false, parsed;
	const char *desc = "";
	size_t desc_len = 0;
	unsigned char ct_root[H];

	t->files++;
	parsed = file_read_all(path, 1 << 20, &text, &len, NULL) == TRACE_OK &&
	    take_u64(text, inclusion ? "leafIdx" : "size1", &a) &&
	    take_u64(text, inclusion ? "treeSize" : "size2", &b) &&
	    json_parse(text, len, NULL, &doc, NULL) == TRACE_OK;
	obj = parsed ? json_doc_root(doc) : NULL;
	parsed = parsed &&
	    json_get_bool(obj, "wantErr", true, &want_err, NULL) == TRACE_OK &&
	    json_get_string(obj, "desc", true, &desc, &desc_len, NULL) ==
	    TRACE_OK &&
	    proof_member(obj, proof, &count) &&
	    decode_value(json_object_get(obj, inclusion ? "root" : "root1"),
	    &r1) &&
	    decode_value(json_object_get(obj, inclusion ? "leafHash" : "root2"),
	    &r2);
	CHECK_MSG(parsed, "cannot read vector %s", path);
	if (!parsed)
		goto out;
	for (size_t i = 0; i < count; i++)
		p[i] = bytes_of(&proof[i]);
	if (inclusion)
		st = merkle_verify_inclusion(bytes_of(&r2), a, b, p, count,
		    bytes_of(&r1), &err);
	else
		st = merkle_verify_consistency(a, b, p, count, bytes_of(&r1),
		    bytes_of(&r2), &err);
	if (want_err) {
		t->rejected += st != TRACE_OK;
		CHECK_MSG(st != TRACE_OK, "%s (%s) verified, want an error",
		    path, desc);
	} else {
		t->happy += st == TRACE_OK;
		CHECK_MSG(st == TRACE_OK, "%s (%s): %s", path, desc,
		    err.message);
	}
	t->agreed += (st != TRACE_OK) == want_err;

	if (!want_err && b <= 8 && (inclusion || a >= 1)) {
		merkle_root(ct_leaves[0], (size_t)b, ct_root);
		if ((inclusion ? &r1 : &r2)->len == H &&
		    memcmp((inclusion ? &r1 : &r2)->b, ct_root, H) == 0)
			compare_generated(inclusion, a, b, proof, count, t);
	}
out:
	json_doc_free(doc);
	free(text);
}

/* Every *.json under dir, depth first. */
static void
run_vector_dir(const char *dir, bool inclusion, struct tally *t)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	CHECK_MSG(d != NULL, "cannot open %s", dir);
	while (d != NULL && (de = readdir(d)) != NULL) {
		char path[1024];
		struct stat sb;
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
			run_vector_dir(path, inclusion, t);
		else if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0)
			run_vector_file(path, inclusion, t);
	}
	if (d != NULL)
		closedir(d);
}

static void
test_vectors(void)
{
	struct tally inc = { 0 }, con = { 0 };
	char dir[1024];

	snprintf(dir, sizeof(dir), "%s", vector_path("rfc6962/inclusion"));
	run_vector_dir(dir, true, &inc);
	snprintf(dir, sizeof(dir), "%s", vector_path("rfc6962/consistency"));
	run_vector_dir(dir, false, &con);
	printf("inclusion vectors: %zu files, %zu happy, %zu rejected, "
	    "%zu proofs regenerated\n", inc.files, inc.happy, inc.rejected,
	    inc.compared);
	printf("consistency vectors: %zu files, %zu happy, %zu rejected, "
	    "%zu proofs regenerated\n", con.files, con.happy, con.rejected,
	    con.compared);
	CHECK(inc.happy > 0 && inc.rejected > 0 && inc.compared > 0);
	CHECK(con.happy > 0 && con.rejected > 0 && con.compared > 0);
	CHECK_INT(inc.agreed, inc.files);
	CHECK_INT(con.agreed, con.files);
	CHECK_INT(inc.happy + inc.rejected, inc.files);
	CHECK_INT(con.happy + con.rejected, con.files);
}

int
main(void)
{
	if (!crypto_init()) {
		fprintf(stderr, "libgcrypt is too old\n");
		return 1;
	}
	make_leaves();
	test_hashes_and_roots();
	test_statement_leaf();
	test_range_nodes();
	test_plans_on_huge_trees();
	test_store();
	test_inclusion_all();
	test_consistency_all();
	test_bounds();
	test_vectors();
	CHECK_DONE();
}
