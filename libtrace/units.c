/*
 * units.c - code hashes, serial-set roots and their proofs (units.h, SPEC
 * section 12).  The tree is the log's (merkle.c, RFC 6962); only the
 * leaves and the bracketing rule for non-membership are new here.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "units.h"

void
units_code_hash(const char *chain, const char *serial, const char *code,
    unsigned char out[MERKLE_HASH_LEN])
{
	static const unsigned char zero = 0;
	const struct sha256_part parts[] = {
		{ "trace-code", 10 }, { &zero, 1 },
		{ chain, strlen(chain) }, { &zero, 1 },
		{ serial, strlen(serial) }, { &zero, 1 },
		{ code, strlen(code) },
	};

	sha256_parts(parts, sizeof(parts) / sizeof(parts[0]), out);
}

bool
units_code_valid(const char *code, size_t len)
{
	if (len != UNITS_CODE_DIGITS)
		return false;
	for (size_t i = 0; i < len; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return true;
}

int
units_serial_cmp(const char *a, const char *b)
{
	/* Serials hold no NUL, so strcmp is bytewise with the shorter
	 * (a prefix) first. */
	return strcmp(a, b);
}

static int
cmp_serial_ptr(const void *a, const void *b)
{
	return units_serial_cmp(*(const char *const *)a,
	    *(const char *const *)b);
}

size_t
units_serials_sort(const char **serials, size_t count)
{
	size_t n = 0;

	if (count == 0)
		return 0;
	qsort(serials, count, sizeof(*serials), cmp_serial_ptr);
	for (size_t i = 0; i < count; i++)
		if (n == 0 || units_serial_cmp(serials[n - 1], serials[i]) != 0)
			serials[n++] = serials[i];
	return n;
}

/* Leaf hashes of sorted serials: malloc'd count * 32 bytes, or NULL. */
static unsigned char *
serial_leaves(const char *const *serials, size_t count)
{
	unsigned char *leaves = malloc(count * MERKLE_HASH_LEN + 1);

	for (size_t i = 0; leaves != NULL && i < count; i++)
		merkle_leaf_hash(serials[i], strlen(serials[i]),
		    leaves + i * MERKLE_HASH_LEN);
	return leaves;
}

enum trace_status
units_serials_root(const char *const *serials, size_t count,
    unsigned char root[MERKLE_HASH_LEN], struct trace_error *err)
{
	unsigned char *leaves = serial_leaves(serials, count);

	if (leaves == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	merkle_root(leaves, count, root);
	free(leaves);
	return TRACE_OK;
}

static int
cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, MERKLE_HASH_LEN);
}

enum trace_status
units_hashes_root(unsigned char *hashes, size_t count,
    unsigned char root[MERKLE_HASH_LEN], struct trace_error *err)
{
	unsigned char *leaves = malloc(count * MERKLE_HASH_LEN + 1);

	if (leaves == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	if (count > 0)
		qsort(hashes, count, MERKLE_HASH_LEN, cmp_hash);
	for (size_t i = 0; i < count; i++)
		merkle_leaf_hash(hashes + i * MERKLE_HASH_LEN, MERKLE_HASH_LEN,
		    leaves + i * MERKLE_HASH_LEN);
	merkle_root(leaves, count, root);
	free(leaves);
	return TRACE_OK;
}

static enum trace_status
prove_leaf(const unsigned char *leaves, const char *const *sorted,
    size_t count, size_t index, struct units_leaf *out,
    struct trace_error *err)
{
	size_t n = strlen(sorted[index]);

	if (n > GS1_ATTR_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_serial",
		    NULL, "a serial is at most %d characters", GS1_ATTR_MAX);
	memcpy(out->serial, sorted[index], n + 1);
	out->index = index;
	return merkle_prove_inclusion(leaves, count, index, out->path,
	    &out->path_len, err);
}

enum trace_status
units_prove(const char *const *sorted, size_t count, const char *serial,
    struct units_proof *out, struct trace_error *err)
{
	unsigned char *leaves = NULL;
	enum trace_status rc;
	size_t lo = 0, hi = count;

	memset(out, 0, sizeof(*out));
	if (count == 0)
		return trace_error_set(err, TRACE_EMALFORMED, "empty_set", NULL,
		    "an empty serial set proves nothing");
	if ((leaves = serial_leaves(sorted, count)) == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	merkle_root(leaves, count, out->root);
	out->count = count;
	/* lo: the first leaf not before serial. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (units_serial_cmp(sorted[mid], serial) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < count && units_serial_cmp(sorted[lo], serial) == 0) {
		out->member = true;
		rc = prove_leaf(leaves, sorted, count, lo, &out->left, err);
		goto out;
	}
	rc = TRACE_OK;
	if (lo > 0) {
		out->has_left = true;
		rc = prove_leaf(leaves, sorted, count, lo - 1, &out->left, err);
	}
	if (rc == TRACE_OK && lo < count) {
		out->has_right = true;
		rc = prove_leaf(leaves, sorted, count, lo, &out->right, err);
	}
out:
	free(leaves);
	return rc;
}

static enum trace_status
verify_leaf(const struct units_leaf *l, const unsigned char *root,
    uint64_t count, struct trace_error *err)
{
	unsigned char leaf[MERKLE_HASH_LEN];
	struct merkle_bytes path[MERKLE_PROOF_MAX];

	if (l->path_len > MERKLE_PROOF_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_proof", NULL,
		    "a proof path is at most %d hashes", MERKLE_PROOF_MAX);
	for (size_t i = 0; i < l->path_len; i++)
		path[i] = merkle_bytes_hash(l->path[i]);
	merkle_leaf_hash(l->serial, strlen(l->serial), leaf);
	return merkle_verify_inclusion(merkle_bytes_hash(leaf), l->index,
	    count, path, l->path_len, merkle_bytes_hash(root), err);
}

enum trace_status
units_verify(const char *serial, const unsigned char root[MERKLE_HASH_LEN],
    uint64_t count, const struct units_proof *p, bool *issued,
    struct trace_error *err)
{
	enum trace_status rc;

	*issued = false;
	if (memcmp(p->root, root, MERKLE_HASH_LEN) != 0 || p->count != count)
		return trace_error_set(err, TRACE_EBADSIG, "proof_mismatch",
		    NULL, "the proof is for another serial set");
	if (p->member) {
		if (units_serial_cmp(p->left.serial, serial) != 0)
			return trace_error_set(err, TRACE_EBADSIG,
			    "proof_mismatch", NULL, "the proof's leaf is "
			    "another serial");
		if ((rc = verify_leaf(&p->left, root, count, err)) != TRACE_OK)
			return rc;
		*issued = true;
		return TRACE_OK;
	}
	/* Not a member: the leaves next to each other around it, or the
	 * first leaf after it, or the last leaf before it. */
	if (!p->has_left && !p->has_right)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_proof", NULL,
		    "a non-membership proof names a leaf");
	if (p->has_left && (units_serial_cmp(p->left.serial, serial) >= 0 ||
	    (!p->has_right && p->left.index + 1 != count)))
		goto mismatch;
	if (p->has_right && (units_serial_cmp(p->right.serial, serial) <= 0 ||
	    (!p->has_left && p->right.index != 0)))
		goto mismatch;
	if (p->has_left && p->has_right &&
	    p->left.index + 1 != p->right.index)
		goto mismatch;
	if (p->has_left && (rc = verify_leaf(&p->left, root, count, err)) !=
	    TRACE_OK)
		return rc;
	if (p->has_right && (rc = verify_leaf(&p->right, root, count, err)) !=
	    TRACE_OK)
		return rc;
	return TRACE_OK;
mismatch:
	return trace_error_set(err, TRACE_EBADSIG, "proof_mismatch", NULL,
	    "the proof's leaves do not bracket the serial");
}

/* ---- a kept tree -------------------------------------------------------- */

void
units_tree_clear(struct units_tree *t)
{
	for (size_t k = 0; k < t->level_count; k++)
		free(t->levels[k]);
	memset(t, 0, sizeof(*t));
}

enum trace_status
units_tree_build(const char *const *sorted, size_t count,
    struct units_tree *t, struct trace_error *err)
{
	memset(t, 0, sizeof(*t));
	if (count == 0)
		return trace_error_set(err, TRACE_EMALFORMED, "empty_set", NULL,
		    "an empty serial set proves nothing");
	t->serials = sorted;
	t->count = count;
	if ((t->levels[0] = serial_leaves(sorted, count)) == NULL)
		goto nomem;
	t->level_count = 1;
	/* Level k + 1 from level k: the perfect nodes only. */
	for (size_t n = count / 2; n > 0; n /= 2) {
		const unsigned char *below = t->levels[t->level_count - 1];
		unsigned char *level = malloc(n * MERKLE_HASH_LEN);

		if (level == NULL)
			goto nomem;
		for (size_t i = 0; i < n; i++)
			merkle_node_hash(below + 2 * i * MERKLE_HASH_LEN,
			    below + (2 * i + 1) * MERKLE_HASH_LEN,
			    level + i * MERKLE_HASH_LEN);
		t->levels[t->level_count++] = level;
	}
	merkle_root(t->levels[0], count, t->root);
	return TRACE_OK;
nomem:
	units_tree_clear(t);
	return trace_error_set(err, TRACE_ENOMEM, NULL, NULL, "out of memory");
}

static enum trace_status
tree_leaf(const struct units_tree *t, size_t index, struct units_leaf *out,
    struct trace_error *err)
{
	unsigned char nodes[MERKLE_PLAN_NODES_MAX * MERKLE_HASH_LEN];
	struct merkle_plan plan;
	size_t n = strlen(t->serials[index]);
	enum trace_status rc;

	if (n > GS1_ATTR_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_serial",
		    NULL, "a serial is at most %d characters", GS1_ATTR_MAX);
	memcpy(out->serial, t->serials[index], n + 1);
	out->index = index;
	if ((rc = merkle_plan_inclusion(index, t->count, &plan, err)) !=
	    TRACE_OK)
		return rc;
	for (size_t i = 0; i < plan.node_count; i++) {
		const struct merkle_node *nd = &plan.nodes[i];

		/* Every planned node is a perfect node of the tree. */
		if (nd->level >= t->level_count ||
		    nd->index >= (uint64_t)(t->count >> nd->level))
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_proof", NULL, "no such node");
		memcpy(nodes + i * MERKLE_HASH_LEN, t->levels[nd->level] +
		    nd->index * MERKLE_HASH_LEN, MERKLE_HASH_LEN);
	}
	if ((rc = merkle_plan_assemble(&plan, nodes, out->path, err)) !=
	    TRACE_OK)
		return rc;
	out->path_len = plan.count;
	return TRACE_OK;
}

enum trace_status
units_tree_prove(const struct units_tree *t, const char *serial,
    struct units_proof *out, struct trace_error *err)
{
	size_t lo = 0, hi = t->count;
	enum trace_status rc = TRACE_OK;

	memset(out, 0, sizeof(*out));
	memcpy(out->root, t->root, MERKLE_HASH_LEN);
	out->count = t->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (units_serial_cmp(t->serials[mid], serial) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < t->count && units_serial_cmp(t->serials[lo], serial) == 0) {
		out->member = true;
		return tree_leaf(t, lo, &out->left, err);
	}
	if (lo > 0) {
		out->has_left = true;
		rc = tree_leaf(t, lo - 1, &out->left, err);
	}
	if (rc == TRACE_OK && lo < t->count) {
		out->has_right = true;
		rc = tree_leaf(t, lo, &out->right, err);
	}
	return rc;
}
