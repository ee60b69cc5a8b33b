/*
 * tlogtiles.h - C2SP tlog-tiles resource names (docs/PROTOCOL.md section
 * 9.6): the tile and entry-bundle paths with their x-prefixed 3-digit
 * index groups, parsed strictly and written canonically, and what a tile
 * covers.  The hashes inside a tile are RFC 6962 Merkle Tree Hashes
 * (merkle.h); this module owns only the names and the arithmetic.
 */
#ifndef TRACE_TLOGTILES_H
#define TRACE_TLOGTILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLOG_TILE_HEIGHT 8                  /* tree levels per tile level */
#define TLOG_TILE_WIDTH 256                 /* hashes in a full tile */
#define TLOG_TILE_LEVEL_MAX 63
/* Entry bundles prefix each entry with a big-endian uint16 length, so no
 * leaf's data (a statement's PAE bytes) may be longer. */
#define TLOG_ENTRY_MAX 65535
#define TLOG_TILE_PATH_MAX 96               /* "tile/entries/x.../NNN.p/WWW" */

struct tlog_tile {
	bool entries;           /* an entry bundle (tile/entries/...) */
	unsigned level;         /* hash tiles: 0..63; entries: 0 */
	uint64_t index;         /* N */
	unsigned width;         /* 1..256; 256 is a full tile */
};

/*
 * Parse path, what follows "<prefix>/" ("tile/0/x001/234",
 * "tile/entries/005.p/17"), strictly: L and W decimal without leading
 * zeros (L <= 63, 1 <= W <= 255), N in 3-digit groups, all but the last
 * with an "x", and no leading "x000" group (one name per resource).
 * false for anything else.
 */
bool tlog_tile_parse(const char *path, struct tlog_tile *t);

/* The canonical path of t ("tile/..."), NUL-terminated, into out
 * (TLOG_TILE_PATH_MAX bytes suffice); its length, or 0 if it did not fit. */
size_t tlog_tile_format(const struct tlog_tile *t, char *out, size_t size);

/*
 * The tree level and index of the tile's first hash: the tile's hashes
 * are the nodes (tree level, first .. first + width - 1), each covering
 * 2^tree_level leaves.  Entry bundles: level 0.  false when no tree of
 * fewer than 2^64 leaves has them.
 */
bool tlog_tile_nodes(const struct tlog_tile *t, unsigned *tree_level,
    uint64_t *first);

/*
 * Whether the tree of size leaves holds t: its last hash covers leaves
 * that are all below size.  A full tile exists once the tree reaches its
 * end; a partial one for every size it is a prefix of.
 */
bool tlog_tile_within(const struct tlog_tile *t, uint64_t size);

#endif
