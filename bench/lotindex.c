/*
 * lotindex.c - what the lot index (SPEC 11, libtrace/lotindex.c) costs at
 * 1k, 100k and 1M lots: microseconds per update of one lot in a tree of
 * that size (the integrator's CPU work per statement, without Redis),
 * records written per update (the path: depth + 1 records, what one
 * commit sends to Redis per statement when no other update shares them),
 * records held per lot (Redis memory: each is a field of
 * log:{log}:lx:nodes) and the mean and largest proof in bytes.
 *
 *   cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -I. bench/lotindex.c build/libtrace.a \
 *       $(pkg-config --libs libgcrypt gpg-error) -lyajl -o build/bench/lotindex
 *   build/bench/lotindex [MAX_LOTS]      (default 1000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libtrace/crypto.h"
#include "libtrace/lotindex.h"

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static enum trace_status
count(void *ctx, const struct lotindex_pos *pos,
    const struct lotindex_record *r, struct trace_error *err)
{
	(void)pos;
	(void)r;
	(void)err;
	(*(size_t *)ctx)++;
	return TRACE_OK;
}

static void
key_of(size_t i, unsigned char key[LOTINDEX_HASH_LEN])
{
	char chain[64];

	snprintf(chain, sizeof(chain), "01/08801234567893/10/LOT%zu", i);
	lotindex_chain_key(chain, key);
}

int
main(int argc, char **argv)
{
	size_t max = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000, n = 0;
	size_t stages[] = { 1000, 100000, 1000000 };
	struct lotindex_tree *t;
	struct lotindex_proof *p = malloc(sizeof(*p));
	unsigned char key[LOTINDEX_HASH_LEN], out[LOTINDEX_PROOF_MAX];
	struct lotindex_entry e;
	struct trace_error err;

	crypto_init();
	t = lotindex_tree_new(NULL, NULL);
	memset(&e, 0, sizeof(e));
	printf("%-9s %-12s %-14s %-14s %-12s %s\n", "lots", "us/update",
	    "records/update", "records/lot", "proof mean", "proof max");
	for (size_t s = 0; s < 3 && stages[s] <= max; s++) {
		size_t records = 0, total = 0, largest = 0, depths = 0;
		double t0, t1;
		const size_t probes = 1000;

		for (; n < stages[s]; n++) {
			key_of(n, key);
			e.count = 1;
			e.log_index = n;
			lotindex_tree_set(t, key, &e, &err);
		}
		lotindex_tree_clean(t);
		/* Updates of existing lots (a new event): the common case. */
		t0 = now();
		for (size_t i = 0; i < probes; i++) {
			key_of((i * 7919) % n, key);
			e.count = 2;
			e.log_index = n + i;
			lotindex_tree_set(t, key, &e, &err);
		}
		t1 = now();
		lotindex_tree_clean(t);
		lotindex_tree_each(t, true, count, &records, &err);
		for (size_t i = 0; i < probes; i++) {
			size_t len;

			key_of((i * 104729) % n, key);
			lotindex_tree_prove(t, key, p, &err);
			len = lotindex_proof_encode(p, out);
			depths += p->depth;
			total += len;
			if (len > largest)
				largest = len;
		}
		printf("%-9zu %-12.2f %-14.1f %-14.2f %-12.0f %zu\n", n,
		    (t1 - t0) / probes * 1e6, (double)depths / probes + 1,
		    (double)records / n, (double)total / probes, largest);
	}
	lotindex_tree_free(t);
	free(p);
	return 0;
}
