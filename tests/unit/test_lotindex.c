/*
 * test_lotindex.c - the lot index (libtrace/lotindex.c): roots against a
 * naive recursive reference of the compact sparse Merkle tree written from
 * docs/PROTOCOL.md 9.10 alone, order independence, membership and absence
 * proofs for every key and for keys not in the tree, every way a proof can
 * be wrong, the byte format (a fixed vector and strict parsing), and a
 * store-backed tree (records written from the dirty set and read back
 * through the loader, as the server does) that agrees with the in-memory
 * one.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/crypto.h"
#include "libtrace/encoding.h"
#include "libtrace/lotindex.h"
#include "libtrace/merkle.h"
#include "check.h"

#define H LOTINDEX_HASH_LEN
#define N 300

struct kv {
	unsigned char key[H];
	struct lotindex_entry e;
};

static int
bit(const unsigned char *k, unsigned i)
{
	return (k[i / 8] >> (7 - i % 8)) & 1;
}

/* The reference: hash of the subtree at depth d over the given pairs, all
 * sharing their first d bits. */
static void
reference(struct kv **kvs, size_t n, unsigned d, unsigned char out[H])
{
	struct kv **left, **right;
	size_t nl = 0, nr = 0;
	unsigned char lh[H], rh[H], value[H], buf[1 + 2 * H];

	if (n == 0) {
		memset(out, 0, H);
		return;
	}
	if (n == 1) {
		unsigned char v48[48];

		for (int i = 0; i < 8; i++)
			v48[i] = (unsigned char)(kvs[0]->e.count >> (56 - 8 * i));
		memcpy(v48 + 8, kvs[0]->e.id, H);
		for (int i = 0; i < 8; i++)
			v48[40 + i] = (unsigned char)(kvs[0]->e.log_index >>
			    (56 - 8 * i));
		sha256(v48, 48, value);
		buf[0] = 0x00;
		memcpy(buf + 1, kvs[0]->key, H);
		memcpy(buf + 1 + H, value, H);
		sha256(buf, sizeof(buf), out);
		return;
	}
	left = malloc(n * sizeof(*left));
	right = malloc(n * sizeof(*right));
	for (size_t i = 0; i < n; i++) {
		if (bit(kvs[i]->key, d))
			right[nr++] = kvs[i];
		else
			left[nl++] = kvs[i];
	}
	reference(left, nl, d + 1, lh);
	reference(right, nr, d + 1, rh);
	buf[0] = 0x01;
	memcpy(buf + 1, lh, H);
	memcpy(buf + 1 + H, rh, H);
	sha256(buf, sizeof(buf), out);
	free(left);
	free(right);
}

static void
reference_root(struct kv *kvs, size_t n, unsigned char out[H])
{
	struct kv **p = malloc((n + 1) * sizeof(*p));

	for (size_t i = 0; i < n; i++)
		p[i] = &kvs[i];
	reference(p, n, 0, out);
	free(p);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A fake store: encoded position -> encoded record. */
struct store_row {
	unsigned char pos[LOTINDEX_POS_MAX];
	size_t pos_len;
	unsigned char rec[LOTINDEX_RECORD_MAX];
	size_t rec_len;
};

static struct store_row rows[8 * N];
static size_t row_count;
static int loads;

static enum trace_status
fake_load(void *ctx, const struct lotindex_pos *pos, struct lotindex_record *r,
    struct trace_error *err)
{
	unsigned char p[LOTINDEX_POS_MAX];
	size_t n = lotindex_pos_encode(pos, p);

	(void)ctx;
	loads++;
	for (size_t i = 0; i < row_count; i++)
		if (rows[i].pos_len == n && memcmp(rows[i].pos, p, n) == 0)
			return lotindex_record_decode(rows[i].rec,
			    rows[i].rec_len, r, err);
	return lotindex_record_decode(NULL, 0, r, err);
}

static enum trace_status
fake_write(void *ctx, const struct lotindex_pos *pos,
    const struct lotindex_record *r, struct trace_error *err)
{
	unsigned char p[LOTINDEX_POS_MAX];
	size_t n = lotindex_pos_encode(pos, p), i;

	(void)ctx;
	(void)err;
	for (i = 0; i < row_count; i++)
		if (rows[i].pos_len == n && memcmp(rows[i].pos, p, n) == 0)
			break;
	if (i == row_count)
		row_count++;
	memcpy(rows[i].pos, p, n);
	rows[i].pos_len = n;
	rows[i].rec_len = lotindex_record_encode(r, rows[i].rec);
	return TRACE_OK;
}

static void
test_keys_and_values(void)
{
	unsigned char key[H], want[H];
	struct lotindex_entry e;
	unsigned char buf[48];

	lotindex_chain_key("01/08801234567893/10/L1", key);
	sha256("01/08801234567893/10/L1", strlen("01/08801234567893/10/L1"),
	    want);
	CHECK_MEM(key, want, H);
	lotindex_keyid_key("00112233445566778899aabbccddeeff", key);
	sha256("key\0" "00112233445566778899aabbccddeeff", 36, want);
	CHECK_MEM(key, want, H);
	memset(&e, 0, sizeof(e));
	e.count = 0x0102030405060708ULL;
	memset(e.id, 0xab, H);
	e.log_index = 42;
	lotindex_value(&e, key);
	memcpy(buf, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	memset(buf + 8, 0xab, H);
	memcpy(buf + 40, "\0\0\0\0\0\0\0\x2a", 8);
	sha256(buf, 48, want);
	CHECK_MEM(key, want, H);
}

static void
test_proofs(struct lotindex_tree *t, struct kv *kvs, size_t n,
    const unsigned char root[H])
{
	struct lotindex_proof *p = malloc(sizeof(*p)), *q = malloc(sizeof(*q));
	unsigned char *enc = malloc(LOTINDEX_PROOF_MAX);
	struct trace_error err;
	size_t len;

	for (size_t i = 0; i < n; i++) {
		CHECK_INT(lotindex_tree_prove(t, kvs[i].key, p, &err), TRACE_OK);
		CHECK_INT(p->kind, LOTINDEX_MEMBER);
		CHECK_INT(p->entry.count, kvs[i].e.count);
		CHECK_INT(p->entry.log_index, kvs[i].e.log_index);
		CHECK_INT(lotindex_proof_verify(p, kvs[i].key, root, &err),
		    TRACE_OK);
		len = lotindex_proof_encode(p, enc);
		CHECK_INT(len, 4 + 48 + 32 * p->depth);
		CHECK_INT(lotindex_proof_parse(enc, len, q, &err), TRACE_OK);
		CHECK_INT(lotindex_proof_verify(q, kvs[i].key, root, &err),
		    TRACE_OK);
		/* A truncated chain: the entry says one event fewer. */
		q->entry.count--;
		CHECK_INT(lotindex_proof_verify(q, kvs[i].key, root, &err),
		    TRACE_EBADSIG);
		CHECK_STR(err.code, "index_proof_mismatch");
		q->entry.count++;
		/* Another key's proof, or a flipped sibling. */
		if (n > 1) {
			CHECK_INT(lotindex_proof_verify(q, kvs[(i + 1) % n].key,
			    root, &err) == TRACE_OK, 0);
		}
		if (q->depth > 0) {
			q->siblings[0][5] ^= 1;
			CHECK_INT(lotindex_proof_verify(q, kvs[i].key, root,
			    &err), TRACE_EBADSIG);
			q->siblings[0][5] ^= 1;
			/* Claim it is absent instead: cut it off as empty. */
			q->kind = LOTINDEX_ABSENT_EMPTY;
			CHECK_INT(lotindex_proof_verify(q, kvs[i].key, root,
			    &err) == TRACE_OK, 0);
		}
	}
	/* Keys not in the tree. */
	for (int i = 0; i < 100; i++) {
		unsigned char key[H];
		char name[32];

		snprintf(name, sizeof(name), "absent-%d", i);
		sha256(name, strlen(name), key);
		CHECK_INT(lotindex_tree_prove(t, key, p, &err), TRACE_OK);
		CHECK(p->kind != LOTINDEX_MEMBER);
		CHECK_INT(lotindex_proof_verify(p, key, root, &err), TRACE_OK);
		len = lotindex_proof_encode(p, enc);
		CHECK_INT(lotindex_proof_parse(enc, len, q, &err), TRACE_OK);
		CHECK_INT(lotindex_proof_verify(q, key, root, &err), TRACE_OK);
		if (p->kind == LOTINDEX_ABSENT_LEAF) {
			/* A forged absence: the other leaf is the key itself. */
			memcpy(q->other_key, key, H);
			CHECK_INT(lotindex_proof_verify(q, key, root, &err),
			    TRACE_EMALFORMED);
			memcpy(q->other_key, p->other_key, H);
			/* Or off the key's path. */
			if (q->depth > 0) {
				q->other_key[0] ^= 0x80;
				CHECK_INT(lotindex_proof_verify(q, key, root,
				    &err), TRACE_EMALFORMED);
			}
		}
	}
	/* A forged absence proof of a present key: its path, cut short at
	 * the sibling list's end and claimed empty, or claimed to end at a
	 * neighbour, never reaches the root. */
	if (n > 0) {
		CHECK_INT(lotindex_tree_prove(t, kvs[0].key, p, &err), TRACE_OK);
		p->kind = LOTINDEX_ABSENT_LEAF;
		memcpy(p->other_key, kvs[0].key, H);
		p->other_key[H - 1] ^= 1;
		lotindex_value(&kvs[0].e, p->other_value);
		CHECK_INT(lotindex_proof_verify(p, kvs[0].key, root, &err) ==
		    TRACE_OK, 0);
	}
	free(p);
	free(q);
	free(enc);
}

static void
test_parse(void)
{
	unsigned char buf[4 + 64 + 32];
	struct lotindex_proof *p = malloc(sizeof(*p));
	struct trace_error err;

	memset(buf, 0, sizeof(buf));
	buf[0] = 1;
	buf[1] = 1;
	CHECK_INT(lotindex_proof_parse(buf, 4, p, &err), TRACE_OK);
	CHECK_INT(p->kind, LOTINDEX_ABSENT_EMPTY);
	CHECK_INT(p->depth, 0);
	CHECK_INT(lotindex_proof_parse(buf, 5, p, &err), TRACE_EMALFORMED);
	CHECK_STR(err.code, "bad_index_proof");
	CHECK_INT(lotindex_proof_parse(buf, 3, p, &err), TRACE_EMALFORMED);
	buf[0] = 2;
	CHECK_INT(lotindex_proof_parse(buf, 4, p, &err), TRACE_EMALFORMED);
	buf[0] = 1;
	buf[1] = 3;
	CHECK_INT(lotindex_proof_parse(buf, 4, p, &err), TRACE_EMALFORMED);
	buf[1] = 0;
	CHECK_INT(lotindex_proof_parse(buf, 4 + 48, p, &err), TRACE_OK);
	buf[1] = 2;
	buf[3] = 1;
	CHECK_INT(lotindex_proof_parse(buf, 4 + 64 + 32, p, &err), TRACE_OK);
	CHECK_INT(p->depth, 1);
	buf[2] = 1;
	buf[3] = 1;   /* depth 257 */
	CHECK_INT(lotindex_proof_parse(buf, sizeof(buf), p, &err),
	    TRACE_EMALFORMED);
	/* The empty index: root zero, every key absent at depth 0. */
	{
		unsigned char root[H] = { 0 }, key[H];

		sha256("x", 1, key);
		buf[0] = 1;
		buf[1] = 1;
		buf[2] = buf[3] = 0;
		CHECK_INT(lotindex_proof_parse(buf, 4, p, &err), TRACE_OK);
		CHECK_INT(lotindex_proof_verify(p, key, root, &err), TRACE_OK);
		root[0] = 1;
		CHECK_INT(lotindex_proof_verify(p, key, root, &err),
		    TRACE_EBADSIG);
	}
	free(p);
}

/* A fixed vector (docs/PROTOCOL.md 9.10.5): two chains. */
static void
test_vector(void)
{
	struct lotindex_tree *t = lotindex_tree_new(NULL, NULL);
	struct lotindex_entry e;
	unsigned char key[H], root[H];
	char hex[2 * H + 1];
	struct trace_error err;

	memset(&e, 0, sizeof(e));
	e.count = 3;
	memset(e.id, 0x11, H);
	e.log_index = 7;
	lotindex_chain_key("01/08801234567893/10/L1", key);
	CHECK_INT(lotindex_tree_set(t, key, &e, &err), TRACE_OK);
	e.count = 1;
	memset(e.id, 0x22, H);
	e.log_index = 8;
	lotindex_keyid_key("00112233445566778899aabbccddeeff", key);
	CHECK_INT(lotindex_tree_set(t, key, &e, &err), TRACE_OK);
	CHECK_INT(lotindex_tree_root(t, root, &err), TRACE_OK);
	hex_encode(root, H, hex);
	printf("vector root %s\n", hex);
	CHECK_STR(hex, "083a4b66031be37ca8378e46885bbdaf782aba72207455a3f651a87fc6a71b9b");
	lotindex_tree_free(t);
}

int
main(void)
{
	static struct kv kvs[N];
	unsigned char root[H], want[H];
	struct trace_error err;
	struct lotindex_tree *t, *u, *s;

	crypto_init();
	test_keys_and_values();
	test_parse();
	test_vector();
	for (size_t i = 0; i < N; i++) {
		char name[48];

		snprintf(name, sizeof(name), "01/08801234567893/10/LOT%zu", i);
		lotindex_chain_key(name, kvs[i].key);
		kvs[i].e.count = rng() % 100 + 1;
		for (int j = 0; j < H; j++)
			kvs[i].e.id[j] = (unsigned char)rng();
		kvs[i].e.log_index = rng() % 100000;
	}
	/* Two keys that share 255 bits: leaves at depth 256. */
	memcpy(kvs[1].key, kvs[0].key, H);
	kvs[1].key[H - 1] ^= 1;

	t = lotindex_tree_new(NULL, NULL);
	u = lotindex_tree_new(NULL, NULL);
	CHECK_INT(lotindex_tree_root(t, root, &err), TRACE_OK);
	memset(want, 0, H);
	CHECK_MEM(root, want, H);
	for (size_t i = 0; i < N; i++) {
		CHECK_INT(lotindex_tree_set(t, kvs[i].key, &kvs[i].e, &err),
		    TRACE_OK);
		if (i < 20 || i % 50 == 0) {
			CHECK_INT(lotindex_tree_root(t, root, &err), TRACE_OK);
			reference_root(kvs, i + 1, want);
			CHECK_MEM(root, want, H);
		}
	}
	/* Reverse order, with earlier values first overwritten. */
	for (size_t i = N; i-- > 0;) {
		struct lotindex_entry junk = kvs[i].e;

		junk.count += 7;
		CHECK_INT(lotindex_tree_set(u, kvs[i].key, &junk, &err),
		    TRACE_OK);
		CHECK_INT(lotindex_tree_set(u, kvs[i].key, &kvs[i].e, &err),
		    TRACE_OK);
	}
	CHECK_INT(lotindex_tree_root(t, root, &err), TRACE_OK);
	CHECK_INT(lotindex_tree_root(u, want, &err), TRACE_OK);
	CHECK_MEM(root, want, H);
	CHECK_INT(lotindex_tree_leaves(t), N);
	reference_root(kvs, N, want);
	CHECK_MEM(root, want, H);
	test_proofs(t, kvs, N, root);

	/* Store-backed: write the first half in two steps through the dirty
	 * sets, then continue in a fresh view that loads what it needs. */
	s = lotindex_tree_new(fake_load, NULL);
	for (size_t i = 0; i < N / 2; i++)
		CHECK_INT(lotindex_tree_set(s, kvs[i].key, &kvs[i].e, &err),
		    TRACE_OK);
	CHECK_INT(lotindex_tree_each(s, false, fake_write, NULL, &err),
	    TRACE_OK);
	lotindex_tree_free(s);
	s = lotindex_tree_new(fake_load, NULL);
	loads = 0;
	for (size_t i = N / 2; i < N; i++)
		CHECK_INT(lotindex_tree_set(s, kvs[i].key, &kvs[i].e, &err),
		    TRACE_OK);
	CHECK(loads > 0);
	CHECK_INT(lotindex_tree_each(s, false, fake_write, NULL, &err),
	    TRACE_OK);
	lotindex_tree_free(s);
	s = lotindex_tree_new(fake_load, NULL);
	CHECK_INT(lotindex_tree_root(s, want, &err), TRACE_OK);
	CHECK_MEM(root, want, H);
	test_proofs(s, kvs, N, root);
	lotindex_tree_free(s);

	lotindex_tree_free(t);
	lotindex_tree_free(u);
	CHECK_DONE();
}
