/*
 * fuzz_lotindex.c - libFuzzer harness for the lot index proof format
 * (docs/PROTOCOL.md 9.10.4), which every verifier reads from a bundle:
 * lotindex_proof_parse() of arbitrary bytes never misbehaves, accepts
 * exactly the lengths its header asks for, re-encodes what it accepted to
 * the same bytes, and lotindex_proof_verify() of an accepted proof against
 * a fixed key and root only answers TRACE_OK, TRACE_EBADSIG or
 * TRACE_EMALFORMED.  The seeds are proofs of every kind from a small
 * index (tests/fuzz/seeds/fuzz_lotindex), one of which verifies under the
 * root below, so mutations reach the fold.
 */
#include <stdlib.h>
#include <string.h>

#include "libtrace/crypto.h"
#include "libtrace/encoding.h"
#include "libtrace/lotindex.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	/* The vector of tests/unit/test_lotindex.c: two entries. */
	static const char root_hex[] =
	    "083a4b66031be37ca8378e46885bbdaf782aba72207455a3f651a87fc6a71b9b";
	static struct lotindex_proof p;
	static unsigned char out[LOTINDEX_PROOF_MAX];
	unsigned char root[LOTINDEX_HASH_LEN], key[LOTINDEX_HASH_LEN];
	struct trace_error err;
	enum trace_status rc;
	size_t n;

	crypto_init();
	if (!hex_decode(root_hex, sizeof(root_hex) - 1, root, sizeof(root),
	    true))
		abort();
	if (lotindex_proof_parse(data, size, &p, &err) != TRACE_OK)
		return 0;
	n = lotindex_proof_encode(&p, out);
	if (n != size || memcmp(out, data, size) != 0)
		abort();
	lotindex_chain_key("01/08801234567893/10/L1", key);
	rc = lotindex_proof_verify(&p, key, root, &err);
	if (rc != TRACE_OK && rc != TRACE_EBADSIG && rc != TRACE_EMALFORMED)
		abort();
	/* A membership proof that verifies names the key's entry. */
	if (rc == TRACE_OK && p.kind == LOTINDEX_MEMBER && p.entry.count != 3)
		abort();
	return 0;
}
