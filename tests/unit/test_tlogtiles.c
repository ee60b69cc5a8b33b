/*
 * test_tlogtiles.c - C2SP tlog-tiles names: the spec's own example
 * (1234067 is x001/x234/067), round trips of format and parse, every way
 * a name can be non-canonical, and which tiles a tree holds (the spec's
 * tree of 70,000 leaves).
 */
#include <stdint.h>
#include <string.h>

#include "libtrace/tlogtiles.h"
#include "check.h"

static void
test_names(void)
{
	struct tlog_tile t = { .level = 0, .index = 1234067, .width = 256 };
	char path[TLOG_TILE_PATH_MAX];

	CHECK(tlog_tile_format(&t, path, sizeof(path)) > 0);
	CHECK_STR(path, "tile/0/x001/x234/067");
	t = (struct tlog_tile){ .entries = true, .index = 5, .width = 17 };
	CHECK(tlog_tile_format(&t, path, sizeof(path)) > 0);
	CHECK_STR(path, "tile/entries/005.p/17");
	t = (struct tlog_tile){ .level = 63, .index = UINT64_MAX, .width = 255 };
	CHECK(tlog_tile_format(&t, path, sizeof(path)) > 0);
	CHECK_STR(path, "tile/63/x018/x446/x744/x073/x709/x551/615.p/255");
	CHECK(tlog_tile_format(&t, path, 10) == 0);

	CHECK(tlog_tile_parse("tile/0/x001/x234/067", &t));
	CHECK(!t.entries && t.level == 0 && t.index == 1234067 &&
	    t.width == 256);
	CHECK(tlog_tile_parse("tile/entries/x001/000.p/255", &t));
	CHECK(t.entries && t.index == 1000 && t.width == 255);
	CHECK(tlog_tile_parse("tile/63/x018/x446/x744/x073/x709/x551/615", &t));
	CHECK(t.level == 63 && t.index == UINT64_MAX);
	for (uint64_t n = 0; n < 3000000; n += 997) {
		struct tlog_tile back;

		t = (struct tlog_tile){ .level = (unsigned)(n % 64), .index = n,
			.width = (unsigned)(1 + n % 256), .entries = n % 5 == 0 };
		if (t.entries)
			t.level = 0;
		CHECK(tlog_tile_format(&t, path, sizeof(path)) > 0);
		CHECK_MSG(tlog_tile_parse(path, &back) &&
		    memcmp(&back, &t, sizeof(t)) == 0, "%s", path);
	}
}

static void
test_bad_names(void)
{
	static const char *const bad[] = {
		"", "tile/", "tile/0", "tile/0/", "tile/0/0", "tile/0/00",
		"tile/0/0000", "tile/0/x000/001", "tile/0/x001", "tile/0/x01/001",
		"tile/0/001/", "tile/0/X001/001", "tile/00/000", "tile/64/000",
		"tile/-1/000", "tile/+1/000", "tile/1000/000", "tile/0/000.p/0",
		"tile/0/000.p/256", "tile/0/000.p/01", "tile/0/000.p/",
		"tile/0/000.p/7x", "tile/0/000.p/1/", "tile/0/000.p",
		"tile/0/000.P/1", "tile/entries", "tile/entries/",
		"tile/entries/0", "tile/entries/000.p/1000", "tiles/0/000",
		"/tile/0/000", "tile/0/x018/x446/x744/x073/x709/x551/616",
		"tile/0/x999/x999/x999/x999/x999/x999/x999/999", "tile/0/00a",
		"tile//000", "tile/0//000", "tile/0/000\n",
	};
	struct tlog_tile t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(!tlog_tile_parse(bad[i], &t), "accepted \"%s\"",
		    bad[i]);
}

static bool
has(const char *path, uint64_t size)
{
	struct tlog_tile t;

	return tlog_tile_parse(path, &t) && tlog_tile_within(&t, size);
}

static void
test_within(void)
{
	unsigned level;
	uint64_t first;
	struct tlog_tile t;

	/* The spec: 70,000 leaves are 273 full level-0 tiles, a partial one
	 * of 112, a full level-1 tile, a partial of 17 and one of 1 at 2. */
	CHECK(has("tile/0/272", 70000));
	CHECK(!has("tile/0/273", 70000));
	CHECK(has("tile/0/273.p/112", 70000));
	CHECK(!has("tile/0/273.p/113", 70000));
	CHECK(has("tile/entries/273.p/112", 70000));
	CHECK(has("tile/1/000", 70000));
	CHECK(has("tile/1/001.p/17", 70000));
	CHECK(!has("tile/1/001", 70000));
	CHECK(has("tile/2/000.p/1", 70000));
	CHECK(!has("tile/2/000.p/2", 70000));
	CHECK(!has("tile/3/000.p/1", 70000));
	/* 256 leaves: a full level-0 tile and a level-1 tile of width 1. */
	CHECK(has("tile/0/000", 256));
	CHECK(has("tile/1/000.p/1", 256));
	CHECK(!has("tile/0/000.p/1", 0));
	/* No tree of fewer than 2^64 leaves has these. */
	CHECK(tlog_tile_parse("tile/8/000.p/1", &t));
	CHECK(!tlog_tile_nodes(&t, &level, &first));
	CHECK(!has("tile/8/000.p/1", UINT64_MAX));
	CHECK(has("tile/7/000.p/255", UINT64_MAX));
	CHECK(!has("tile/7/000", UINT64_MAX));
	CHECK(!has("tile/0/x018/x446/x744/x073/x709/x551/615", UINT64_MAX));
	/* The last leaves of the largest tree: (2^56 - 1) * 256 + 255. */
	CHECK(has("tile/0/x072/x057/x594/x037/x927/935.p/255", UINT64_MAX));
	CHECK(!has("tile/0/x072/x057/x594/x037/x927/935", UINT64_MAX));
	CHECK(!has("tile/0/x072/x057/x594/x037/x927/936.p/1", UINT64_MAX));
	CHECK(tlog_tile_parse("tile/3/x001/000", &t));
	CHECK(tlog_tile_nodes(&t, &level, &first));
	CHECK(level == 24 && first == 256000);
}

int
main(void)
{
	test_names();
	test_bad_names();
	test_within();
	CHECK_DONE();
}
