/*
 * lotindex.c - the lot index of SPEC 11: keys and values, the proof format
 * (docs/PROTOCOL.md section 9.10) and its verification, and the compact
 * sparse Merkle tree that the integrator updates and the monitor rebuilds.
 *
 * Why a compact sparse Merkle tree (and not a Merkle prefix tree with
 * explicit prefix lengths): its hashes need nothing beyond RFC 6962's leaf
 * and node hashes and 32 zero bytes for an empty subtree, a proof is a
 * plain list of siblings along the key's bits, and an absence proof is the
 * same walk ending in an empty subtree or at another key's leaf.  A
 * verifier is twenty lines (web/verify.js has one).  Keys are SHA-256
 * outputs, so paths are about log2(number of keys) long.
 *
 * Soundness rests on domain separation: a leaf hash (0x00 prefix), a node
 * hash (0x01 prefix) and the empty hash (no preimage) never collide, so one
 * root admits one tree.  The verifier also holds proofs to the canonical
 * shape (a leaf or empty subtree below the root always has a non-empty
 * sibling), which honest proofs always have.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "lotindex.h"
#include "merkle.h"

static const unsigned char zero_hash[LOTINDEX_HASH_LEN];

static void
put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t
get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static int
bit_of(const unsigned char *key, unsigned i)
{
	return (key[i / 8] >> (7 - i % 8)) & 1;
}

/* ---- keys and values -------------------------------------------------------- */

void
lotindex_chain_key(const char *chain, unsigned char key[LOTINDEX_HASH_LEN])
{
	sha256(chain, strlen(chain), key);
}

void
lotindex_keyid_key(const char *keyid, unsigned char key[LOTINDEX_HASH_LEN])
{
	struct sha256_part parts[2] = {
		{ "key", 4 },   /* "key" and its NUL: the 0x00 separator */
		{ keyid, strlen(keyid) },
	};

	sha256_parts(parts, 2, key);
}

static void
entry_bytes(const struct lotindex_entry *e, unsigned char out[48])
{
	put_u64(out, e->count);
	memcpy(out + 8, e->id, LOTINDEX_HASH_LEN);
	put_u64(out + 40, e->log_index);
}

static void
entry_read(const unsigned char in[48], struct lotindex_entry *e)
{
	e->count = get_u64(in);
	memcpy(e->id, in + 8, LOTINDEX_HASH_LEN);
	e->log_index = get_u64(in + 40);
}

void
lotindex_value(const struct lotindex_entry *e,
    unsigned char value[LOTINDEX_HASH_LEN])
{
	unsigned char buf[48];

	entry_bytes(e, buf);
	sha256(buf, sizeof(buf), value);
}

void
lotindex_leaf_hash(const unsigned char key[LOTINDEX_HASH_LEN],
    const unsigned char value[LOTINDEX_HASH_LEN],
    unsigned char out[LOTINDEX_HASH_LEN])
{
	unsigned char buf[2 * LOTINDEX_HASH_LEN];

	memcpy(buf, key, LOTINDEX_HASH_LEN);
	memcpy(buf + LOTINDEX_HASH_LEN, value, LOTINDEX_HASH_LEN);
	merkle_leaf_hash(buf, sizeof(buf), out);
}

static void
entry_leaf_hash(const unsigned char key[LOTINDEX_HASH_LEN],
    const struct lotindex_entry *e, unsigned char out[LOTINDEX_HASH_LEN])
{
	unsigned char value[LOTINDEX_HASH_LEN];

	lotindex_value(e, value);
	lotindex_leaf_hash(key, value, out);
}

/* ---- proofs ----------------------------------------------------------------- */

static size_t
terminal_len(enum lotindex_kind kind)
{
	return kind == LOTINDEX_MEMBER ? 48 : kind == LOTINDEX_ABSENT_LEAF ?
	    64 : 0;
}

enum trace_status
lotindex_proof_parse(const unsigned char *buf, size_t len,
    struct lotindex_proof *p, struct trace_error *err)
{
	size_t want;

	memset(p, 0, sizeof(*p));
	if (len < 4 || buf[0] != 1 || buf[1] > LOTINDEX_ABSENT_LEAF)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_index_proof",
		    NULL, "an index proof starts with version 1 and a kind "
		    "0, 1 or 2");
	p->kind = (enum lotindex_kind)buf[1];
	p->depth = (unsigned)buf[2] << 8 | buf[3];
	if (p->depth > LOTINDEX_DEPTH_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_index_proof",
		    NULL, "an index proof is at most 256 deep, not %u",
		    p->depth);
	want = 4 + terminal_len(p->kind) + (size_t)p->depth * LOTINDEX_HASH_LEN;
	if (len != want)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_index_proof",
		    NULL, "an index proof of kind %d and depth %u is %zu bytes, "
		    "not %zu", (int)p->kind, p->depth, want, len);
	buf += 4;
	if (p->kind == LOTINDEX_MEMBER)
		entry_read(buf, &p->entry);
	else if (p->kind == LOTINDEX_ABSENT_LEAF) {
		memcpy(p->other_key, buf, LOTINDEX_HASH_LEN);
		memcpy(p->other_value, buf + LOTINDEX_HASH_LEN,
		    LOTINDEX_HASH_LEN);
	}
	buf += terminal_len(p->kind);
	memcpy(p->siblings, buf, (size_t)p->depth * LOTINDEX_HASH_LEN);
	return TRACE_OK;
}

size_t
lotindex_proof_encode(const struct lotindex_proof *p, unsigned char *out)
{
	size_t n = 4;

	out[0] = 1;
	out[1] = (unsigned char)p->kind;
	out[2] = (unsigned char)(p->depth >> 8);
	out[3] = (unsigned char)(p->depth & 0xff);
	if (p->kind == LOTINDEX_MEMBER)
		entry_bytes(&p->entry, out + n);
	else if (p->kind == LOTINDEX_ABSENT_LEAF) {
		memcpy(out + n, p->other_key, LOTINDEX_HASH_LEN);
		memcpy(out + n + LOTINDEX_HASH_LEN, p->other_value,
		    LOTINDEX_HASH_LEN);
	}
	n += terminal_len(p->kind);
	memcpy(out + n, p->siblings, (size_t)p->depth * LOTINDEX_HASH_LEN);
	return n + (size_t)p->depth * LOTINDEX_HASH_LEN;
}

enum trace_status
lotindex_proof_verify(const struct lotindex_proof *p,
    const unsigned char key[LOTINDEX_HASH_LEN],
    const unsigned char root[LOTINDEX_HASH_LEN], struct trace_error *err)
{
	unsigned char t[LOTINDEX_HASH_LEN];

	if (p->depth > LOTINDEX_DEPTH_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_index_proof",
		    NULL, "an index proof is at most 256 deep");
	switch (p->kind) {
	case LOTINDEX_MEMBER:
		entry_leaf_hash(key, &p->entry, t);
		break;
	case LOTINDEX_ABSENT_EMPTY:
		memset(t, 0, sizeof(t));
		break;
	case LOTINDEX_ABSENT_LEAF:
		if (memcmp(p->other_key, key, LOTINDEX_HASH_LEN) == 0)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_index_proof", NULL, "an absence proof ends "
			    "at the key's own leaf");
		for (unsigned i = 0; i < p->depth; i++)
			if (bit_of(p->other_key, i) != bit_of(key, i))
				return trace_error_set(err, TRACE_EMALFORMED,
				    "bad_index_proof", NULL, "an absence proof "
				    "ends at a leaf off the key's path (bit %u)",
				    i);
		lotindex_leaf_hash(p->other_key, p->other_value, t);
		break;
	default:
		return trace_error_set(err, TRACE_EMALFORMED, "bad_index_proof",
		    NULL, "unknown index proof kind %d", (int)p->kind);
	}
	/* Canonical shape: the subtree the walk ends in has a non-empty
	 * sibling, or it would have been folded into its parent. */
	if (p->depth > 0 && memcmp(p->siblings[p->depth - 1], zero_hash,
	    LOTINDEX_HASH_LEN) == 0)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_index_proof",
		    NULL, "an index proof whose last sibling is empty is not "
		    "of the canonical tree");
	for (unsigned i = p->depth; i-- > 0;) {
		if (bit_of(key, i) == 0)
			merkle_node_hash(t, p->siblings[i], t);
		else
			merkle_node_hash(p->siblings[i], t, t);
	}
	if (!crypto_equal(t, root, LOTINDEX_HASH_LEN))
		return trace_error_set(err, TRACE_EBADSIG,
		    "index_proof_mismatch", NULL, "the index proof does not "
		    "lead to the index root");
	return TRACE_OK;
}

/* ---- positions and records --------------------------------------------------- */

void
lotindex_pos_of(const unsigned char key[LOTINDEX_HASH_LEN], unsigned depth,
    struct lotindex_pos *pos)
{
	memset(pos, 0, sizeof(*pos));
	pos->depth = depth;
	memcpy(pos->prefix, key, depth / 8);
	if (depth % 8 != 0)
		pos->prefix[depth / 8] = key[depth / 8] &
		    (unsigned char)(0xff << (8 - depth % 8));
}

/* The child (bit 0 or 1) of pos, at depth + 1. */
static void
pos_child(const struct lotindex_pos *pos, int bit, struct lotindex_pos *out)
{
	*out = *pos;
	out->depth = pos->depth + 1;
	if (bit)
		out->prefix[pos->depth / 8] |=
		    (unsigned char)(0x80 >> (pos->depth % 8));
}

size_t
lotindex_pos_encode(const struct lotindex_pos *pos, unsigned char *out)
{
	size_t n = (pos->depth + 7) / 8;

	out[0] = (unsigned char)(pos->depth >> 8);
	out[1] = (unsigned char)(pos->depth & 0xff);
	memcpy(out + 2, pos->prefix, n);
	return 2 + n;
}

size_t
lotindex_record_encode(const struct lotindex_record *r, unsigned char *out)
{
	if (r->kind == LOTINDEX_NODE) {
		out[0] = 'N';
		memcpy(out + 1, r->hash, LOTINDEX_HASH_LEN);
		return 1 + LOTINDEX_HASH_LEN;
	}
	if (r->kind == LOTINDEX_LEAF) {
		out[0] = 'L';
		memcpy(out + 1, r->key, LOTINDEX_HASH_LEN);
		entry_bytes(&r->entry, out + 1 + LOTINDEX_HASH_LEN);
		return LOTINDEX_RECORD_MAX;
	}
	return 0;
}

enum trace_status
lotindex_record_decode(const unsigned char *buf, size_t len,
    struct lotindex_record *r, struct trace_error *err)
{
	memset(r, 0, sizeof(*r));
	if (len == 0) {
		r->kind = LOTINDEX_EMPTY;
		return TRACE_OK;
	}
	if (buf[0] == 'N' && len == 1 + LOTINDEX_HASH_LEN) {
		r->kind = LOTINDEX_NODE;
		memcpy(r->hash, buf + 1, LOTINDEX_HASH_LEN);
		return TRACE_OK;
	}
	if (buf[0] == 'L' && len == LOTINDEX_RECORD_MAX) {
		r->kind = LOTINDEX_LEAF;
		memcpy(r->key, buf + 1, LOTINDEX_HASH_LEN);
		entry_read(buf + 1 + LOTINDEX_HASH_LEN, &r->entry);
		entry_leaf_hash(r->key, &r->entry, r->hash);
		return TRACE_OK;
	}
	return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
	    "a stored index node is %zu bytes of kind %d", len, (int)buf[0]);
}

/* ---- the map ------------------------------------------------------------------ */

struct slot {
	bool used, dirty;
	struct lotindex_pos pos;
	struct lotindex_record rec;
};

struct lotindex_tree {
	lotindex_loader loader;
	void *ctx;
	struct slot *slots;
	size_t cap, used;
	uint64_t leaves, inserted;
};

/*
 * The map's hash of a position: its prefix is a SHA-256 prefix, so the
 * 64-bit words are already uniform; a multiply-xorshift per word mixes
 * them with the depth (the depth alone tells two positions on one path
 * apart).  Four multiplications, against 32 for a byte-wise hash.
 */
static uint64_t
pos_hash(const struct lotindex_pos *pos)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL * (pos->depth + 1), w;

	for (size_t i = 0; i < LOTINDEX_HASH_LEN; i += sizeof(w)) {
		memcpy(&w, pos->prefix + i, sizeof(w));
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
	}
	return h;
}

static bool
pos_equal(const struct lotindex_pos *a, const struct lotindex_pos *b)
{
	return a->depth == b->depth &&
	    memcmp(a->prefix, b->prefix, LOTINDEX_HASH_LEN) == 0;
}

struct lotindex_tree *
lotindex_tree_new(lotindex_loader loader, void *ctx)
{
	struct lotindex_tree *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->loader = loader;
	t->ctx = ctx;
	t->cap = 1024;
	if ((t->slots = calloc(t->cap, sizeof(*t->slots))) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void
lotindex_tree_free(struct lotindex_tree *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t);
}

static struct slot *
slot_find(struct lotindex_tree *t, const struct lotindex_pos *pos)
{
	size_t i = (size_t)(pos_hash(pos) & (t->cap - 1));

	while (t->slots[i].used) {
		if (pos_equal(&t->slots[i].pos, pos))
			return &t->slots[i];
		i = (i + 1) & (t->cap - 1);
	}
	return &t->slots[i];
}

static enum trace_status
grow(struct lotindex_tree *t)
{
	struct slot *old = t->slots;
	size_t old_cap = t->cap;

	if ((t->slots = calloc(old_cap * 2, sizeof(*t->slots))) == NULL) {
		t->slots = old;
		return TRACE_ENOMEM;
	}
	t->cap = old_cap * 2;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].used)
			*slot_find(t, &old[i].pos) = old[i];
	free(old);
	return TRACE_OK;
}

/* The slot for pos, created (not used yet) with room to spare. */
static enum trace_status
slot_put(struct lotindex_tree *t, const struct lotindex_pos *pos,
    struct slot **out, struct trace_error *err)
{
	struct slot *s;

	if ((t->used + 1) * 2 > t->cap && grow(t) != TRACE_OK)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	s = slot_find(t, pos);
	if (!s->used) {
		memset(s, 0, sizeof(*s));
		s->used = true;
		s->pos = *pos;
		t->used++;
	}
	*out = s;
	return TRACE_OK;
}

bool
lotindex_tree_holds(const struct lotindex_tree *t,
    const struct lotindex_pos *pos)
{
	return slot_find((struct lotindex_tree *)t, pos)->used;
}

uint64_t
lotindex_tree_inserted(const struct lotindex_tree *t)
{
	return t->inserted;
}

enum trace_status
lotindex_tree_seed(struct lotindex_tree *t, const struct lotindex_pos *pos,
    const struct lotindex_record *r)
{
	struct slot *s;
	enum trace_status rc;

	if ((rc = slot_put(t, pos, &s, NULL)) != TRACE_OK)
		return rc;
	if (!s->dirty) {
		if (s->rec.kind != LOTINDEX_LEAF && r->kind == LOTINDEX_LEAF)
			t->leaves++;
		if (s->rec.kind == LOTINDEX_LEAF && r->kind != LOTINDEX_LEAF)
			t->leaves--;
		s->rec = *r;
	}
	return TRACE_OK;
}

/* The record at pos, through the loader when the map lacks it. */
static enum trace_status
record_get(struct lotindex_tree *t, const struct lotindex_pos *pos,
    struct lotindex_record *r, struct trace_error *err)
{
	struct slot *s = slot_find(t, pos);
	enum trace_status rc;

	if (s->used) {
		*r = s->rec;
		return TRACE_OK;
	}
	memset(r, 0, sizeof(*r));
	if (t->loader == NULL)
		return TRACE_OK;
	if ((rc = t->loader(t->ctx, pos, r, err)) != TRACE_OK)
		return rc;
	return lotindex_tree_seed(t, pos, r);
}

static enum trace_status
record_set(struct lotindex_tree *t, const struct lotindex_pos *pos,
    const struct lotindex_record *r, struct trace_error *err)
{
	struct slot *s;
	enum trace_status rc;

	if ((rc = slot_put(t, pos, &s, err)) != TRACE_OK)
		return rc;
	if (s->rec.kind == LOTINDEX_LEAF)
		t->leaves--;
	if (r->kind == LOTINDEX_LEAF)
		t->leaves++;
	s->rec = *r;
	s->dirty = true;
	return TRACE_OK;
}

static enum trace_status
leaf_put(struct lotindex_tree *t, const unsigned char key[LOTINDEX_HASH_LEN],
    const struct lotindex_entry *e, unsigned depth, struct trace_error *err)
{
	struct lotindex_pos pos;
	struct lotindex_record r;

	memset(&r, 0, sizeof(r));
	r.kind = LOTINDEX_LEAF;
	memcpy(r.key, key, LOTINDEX_HASH_LEN);
	r.entry = *e;
	entry_leaf_hash(key, e, r.hash);
	lotindex_pos_of(key, depth, &pos);
	return record_set(t, &pos, &r, err);
}

enum trace_status
lotindex_tree_set(struct lotindex_tree *t,
    const unsigned char key[LOTINDEX_HASH_LEN], const struct lotindex_entry *e,
    struct trace_error *err)
{
	struct lotindex_pos pos, kid[2];
	struct lotindex_record r, kr[2], node;
	unsigned d = 0, top;
	enum trace_status rc;

	for (;;) {
		lotindex_pos_of(key, d, &pos);
		if ((rc = record_get(t, &pos, &r, err)) != TRACE_OK)
			return rc;
		if (r.kind != LOTINDEX_NODE)
			break;
		if (d == LOTINDEX_DEPTH_MAX)
			return trace_error_set(err, TRACE_ESTORE,
			    "store_corrupt", NULL, "an index node at depth 256");
		d++;
	}
	top = d;
	if (r.kind == LOTINDEX_EMPTY ||
	    memcmp(r.key, key, LOTINDEX_HASH_LEN) != 0)
		t->inserted++;
	if (r.kind == LOTINDEX_EMPTY ||
	    memcmp(r.key, key, LOTINDEX_HASH_LEN) == 0) {
		if ((rc = leaf_put(t, key, e, d, err)) != TRACE_OK)
			return rc;
	} else {
		/* Another key's leaf: push both down to where they part. */
		unsigned b = d;
		struct lotindex_entry other = r.entry;
		unsigned char other_key[LOTINDEX_HASH_LEN];

		memcpy(other_key, r.key, LOTINDEX_HASH_LEN);
		while (bit_of(key, b) == bit_of(other_key, b))
			b++;
		if ((rc = leaf_put(t, key, e, b + 1, err)) != TRACE_OK ||
		    (rc = leaf_put(t, other_key, &other, b + 1, err)) !=
		    TRACE_OK)
			return rc;
		top = b + 1;
	}
	/* Rehash the path from just above the leaf up to the root. */
	memset(&node, 0, sizeof(node));
	node.kind = LOTINDEX_NODE;
	for (unsigned i = top; i-- > 0;) {
		lotindex_pos_of(key, i, &pos);
		pos_child(&pos, 0, &kid[0]);
		pos_child(&pos, 1, &kid[1]);
		if ((rc = record_get(t, &kid[0], &kr[0], err)) != TRACE_OK ||
		    (rc = record_get(t, &kid[1], &kr[1], err)) != TRACE_OK)
			return rc;
		merkle_node_hash(kr[0].hash, kr[1].hash, node.hash);
		if ((rc = record_set(t, &pos, &node, err)) != TRACE_OK)
			return rc;
	}
	return TRACE_OK;
}

/* Walk key's path: the terminal record, its depth and the siblings. */
static enum trace_status
walk(struct lotindex_tree *t, const unsigned char key[LOTINDEX_HASH_LEN],
    struct lotindex_record *end, unsigned *depth,
    unsigned char (*siblings)[LOTINDEX_HASH_LEN], struct trace_error *err)
{
	struct lotindex_pos pos, sib;
	struct lotindex_record r;
	enum trace_status rc;

	for (unsigned d = 0;; d++) {
		lotindex_pos_of(key, d, &pos);
		if ((rc = record_get(t, &pos, end, err)) != TRACE_OK)
			return rc;
		if (end->kind != LOTINDEX_NODE) {
			*depth = d;
			return TRACE_OK;
		}
		if (d == LOTINDEX_DEPTH_MAX)
			return trace_error_set(err, TRACE_ESTORE,
			    "store_corrupt", NULL, "an index node at depth 256");
		if (siblings != NULL) {
			pos_child(&pos, !bit_of(key, d), &sib);
			if ((rc = record_get(t, &sib, &r, err)) != TRACE_OK)
				return rc;
			memcpy(siblings[d], r.hash, LOTINDEX_HASH_LEN);
		}
	}
}

enum trace_status
lotindex_tree_get(struct lotindex_tree *t,
    const unsigned char key[LOTINDEX_HASH_LEN], bool *found,
    struct lotindex_entry *e, struct trace_error *err)
{
	struct lotindex_record r;
	unsigned depth;
	enum trace_status rc;

	if ((rc = walk(t, key, &r, &depth, NULL, err)) != TRACE_OK)
		return rc;
	*found = r.kind == LOTINDEX_LEAF &&
	    memcmp(r.key, key, LOTINDEX_HASH_LEN) == 0;
	if (*found)
		*e = r.entry;
	return TRACE_OK;
}

enum trace_status
lotindex_tree_root(struct lotindex_tree *t, unsigned char root[LOTINDEX_HASH_LEN],
    struct trace_error *err)
{
	struct lotindex_pos pos;
	struct lotindex_record r;
	enum trace_status rc;

	memset(&pos, 0, sizeof(pos));
	if ((rc = record_get(t, &pos, &r, err)) != TRACE_OK)
		return rc;
	memcpy(root, r.hash, LOTINDEX_HASH_LEN);
	return TRACE_OK;
}

uint64_t
lotindex_tree_leaves(const struct lotindex_tree *t)
{
	return t->leaves;
}

enum trace_status
lotindex_tree_prove(struct lotindex_tree *t,
    const unsigned char key[LOTINDEX_HASH_LEN], struct lotindex_proof *p,
    struct trace_error *err)
{
	struct lotindex_record r;
	enum trace_status rc;

	memset(p, 0, sizeof(*p));
	if ((rc = walk(t, key, &r, &p->depth, p->siblings, err)) != TRACE_OK)
		return rc;
	if (r.kind == LOTINDEX_EMPTY)
		p->kind = LOTINDEX_ABSENT_EMPTY;
	else if (memcmp(r.key, key, LOTINDEX_HASH_LEN) == 0) {
		p->kind = LOTINDEX_MEMBER;
		p->entry = r.entry;
	} else {
		p->kind = LOTINDEX_ABSENT_LEAF;
		memcpy(p->other_key, r.key, LOTINDEX_HASH_LEN);
		lotindex_value(&r.entry, p->other_value);
	}
	return TRACE_OK;
}

enum trace_status
lotindex_tree_each(struct lotindex_tree *t, bool all,
    enum trace_status (*fn)(void *ctx, const struct lotindex_pos *pos,
    const struct lotindex_record *r, struct trace_error *err), void *ctx,
    struct trace_error *err)
{
	enum trace_status rc;

	for (size_t i = 0; i < t->cap; i++) {
		struct slot *s = &t->slots[i];

		if (!s->used || (!all && !s->dirty) ||
		    (all && s->rec.kind == LOTINDEX_EMPTY))
			continue;
		if ((rc = fn(ctx, &s->pos, &s->rec, err)) != TRACE_OK)
			return rc;
	}
	return TRACE_OK;
}

void
lotindex_tree_clean(struct lotindex_tree *t)
{
	for (size_t i = 0; i < t->cap; i++)
		t->slots[i].dirty = false;
}
