/*
 * unitsets.c - issued-serial sets kept in memory for their proofs (SPEC
 * 12).  A root set's serial list is immutable (its root names it), so a
 * unit page need not read 100,000 serials from Redis and hash them on
 * every view: the first view builds the tree (units_tree) and later views
 * take a proof from it in microseconds.
 *
 * A small table of refcounted entries under one mutex, least recently used
 * out, bounded in entries and in serials held (UNIT_SETS_SERIALS_MAX), so
 * memory stays bounded whatever lots are asked for.  An entry is published
 * only if the tree's root is the root it is filed under.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/encoding.h"
#include "monotonic.h"
#include "units.h"

#define UNIT_SETS_SLOTS 8
#define UNIT_SETS_SERIALS_MAX 1000000

struct unit_set_entry {
	char chain[CHAIN_ID_MAX + 1];
	char root[65];
	struct unit_serial_set stored;   /* owns the serials */
	struct units_tree tree;
	long long used_ms;
	int refs;
};

static struct unit_set_entry *slots[UNIT_SETS_SLOTS];
static pthread_mutex_t sets_lock = PTHREAD_MUTEX_INITIALIZER;

static void
entry_free(struct unit_set_entry *e)
{
	units_tree_clear(&e->tree);
	store_unit_sets_clear(&e->stored, 1);
	free(e);
}

void
unit_set_release(const struct unit_set_entry *ce)
{
	struct unit_set_entry *e = (struct unit_set_entry *)ce;
	bool last;

	if (e == NULL)
		return;
	pthread_mutex_lock(&sets_lock);
	last = --e->refs == 0;
	pthread_mutex_unlock(&sets_lock);
	if (last)
		entry_free(e);
}

const struct unit_set_entry *
unit_set_get(const char *chain, const char *root_hex)
{
	struct unit_set_entry *found = NULL;

	pthread_mutex_lock(&sets_lock);
	for (size_t i = 0; i < UNIT_SETS_SLOTS && found == NULL; i++) {
		struct unit_set_entry *e = slots[i];

		if (e != NULL && strcmp(e->chain, chain) == 0 &&
		    strcmp(e->root, root_hex) == 0) {
			e->refs++;
			e->used_ms = monotonic_ms();
			found = e;
		}
	}
	pthread_mutex_unlock(&sets_lock);
	return found;
}

const struct unit_set_entry *
unit_set_build(const char *chain, const char *root_hex,
    struct unit_serial_set *stored)
{
	struct unit_set_entry *e = calloc(1, sizeof(*e)), *out = NULL;
	struct trace_error err;
	unsigned char root[32];
	size_t held = 0, oldest;

	if (e == NULL || stored->count == 0 || stored->count >
	    UNIT_SETS_SERIALS_MAX || !hex_decode(root_hex, strlen(root_hex),
	    root, sizeof(root), true)) {
		free(e);
		return NULL;
	}
	snprintf(e->chain, sizeof(e->chain), "%s", chain);
	snprintf(e->root, sizeof(e->root), "%s", root_hex);
	e->stored = *stored;
	memset(stored, 0, sizeof(*stored));
	if (units_tree_build((const char *const *)e->stored.serials,
	    e->stored.count, &e->tree, &err) != TRACE_OK ||
	    memcmp(e->tree.root, root, 32) != 0) {
		entry_free(e);
		return NULL;
	}
	e->refs = 2;                     /* the table's and the caller's */
	e->used_ms = monotonic_ms();
	pthread_mutex_lock(&sets_lock);
	/* Out go the least recently used until the new one fits. */
	for (;;) {
		size_t empty = UNIT_SETS_SLOTS;

		held = e->stored.count;
		oldest = UNIT_SETS_SLOTS;
		for (size_t i = 0; i < UNIT_SETS_SLOTS; i++) {
			if (slots[i] == NULL) {
				empty = i;
				continue;
			}
			held += slots[i]->stored.count;
			if (oldest == UNIT_SETS_SLOTS ||
			    slots[i]->used_ms < slots[oldest]->used_ms)
				oldest = i;
		}
		if (empty < UNIT_SETS_SLOTS && held <= UNIT_SETS_SERIALS_MAX) {
			slots[empty] = e;
			out = e;
			break;
		}
		if (oldest == UNIT_SETS_SLOTS)
			break;
		if (--slots[oldest]->refs == 0)
			entry_free(slots[oldest]);
		slots[oldest] = NULL;
	}
	pthread_mutex_unlock(&sets_lock);
	if (out == NULL) {
		/* Not kept: the caller still has its reference. */
		e->refs = 1;
		return e;
	}
	return out;
}

const struct units_tree *
unit_set_tree(const struct unit_set_entry *e)
{
	return &e->tree;
}
