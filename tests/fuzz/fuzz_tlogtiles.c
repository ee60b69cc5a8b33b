/*
 * fuzz_tlogtiles.c - libFuzzer harness for C2SP tlog-tiles names
 * (libtrace/tlogtiles.c), which trace-server parses from request paths
 * under /tlog/.  Besides not crashing: a name that parses is canonical
 * (formatting it gives the same text back), its fields are in range, and
 * the arithmetic of what a tile covers never wraps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/tlogtiles.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char path[256], again[TLOG_TILE_PATH_MAX];
	struct tlog_tile t;
	unsigned level;
	uint64_t first;

	if (size >= sizeof(path))
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	if (!tlog_tile_parse(path, &t))
		return 0;
	if (t.level > TLOG_TILE_LEVEL_MAX || t.width < 1 ||
	    t.width > TLOG_TILE_WIDTH || (t.entries && t.level != 0))
		abort();
	if (tlog_tile_format(&t, again, sizeof(again)) == 0 ||
	    strcmp(again, path) != 0)
		abort();
	if (tlog_tile_nodes(&t, &level, &first)) {
		/* The tile's last node covers leaves below 2^64. */
		if (level >= 64 || first > (UINT64_MAX >> level) - (t.width - 1))
			abort();
		/* No tree holds a tile before it reaches the tile's end. */
		if (tlog_tile_within(&t, first << level))
			abort();
	}
	return 0;
}
