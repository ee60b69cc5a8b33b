/*
 * tlogtiles.c - C2SP tlog-tiles resource names and their arithmetic.
 */
#include <stdio.h>
#include <string.h>

#include "tlogtiles.h"

/* A decimal without leading zeros, in [lo, hi]; *end past its digits. */
static bool
parse_small(const char *s, const char **end, unsigned lo, unsigned hi,
    unsigned *out)
{
	unsigned v = 0;
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		if (n == 3)
			return false;
		v = v * 10 + (unsigned)(s[n] - '0');
		n++;
	}
	if (n == 0 || (n > 1 && s[0] == '0') || v < lo || v > hi)
		return false;
	*end = s + n;
	*out = v;
	return true;
}

/* N: ("x" DDD "/")* DDD; *end past the last group. */
static bool
parse_index(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	bool first = true;

	for (;;) {
		bool more = s[0] == 'x';
		const char *d = more ? s + 1 : s;
		unsigned g;

		if (strspn(d, "0123456789") < 3)
			return false;
		g = (unsigned)(d[0] - '0') * 100 + (unsigned)(d[1] - '0') * 10 +
		    (unsigned)(d[2] - '0');
		if (more && (d[3] != '/' || (first && g == 0)))
			return false;
		if (v > (UINT64_MAX - g) / 1000)
			return false;
		v = v * 1000 + g;
		first = false;
		if (!more) {
			*end = d + 3;
			*out = v;
			return true;
		}
		s = d + 4;
	}
}

bool
tlog_tile_parse(const char *path, struct tlog_tile *t)
{
	const char *p;

	memset(t, 0, sizeof(*t));
	if (strncmp(path, "tile/", 5) != 0)
		return false;
	p = path + 5;
	if (strncmp(p, "entries/", 8) == 0) {
		t->entries = true;
		p += 8;
	} else {
		if (!parse_small(p, &p, 0, TLOG_TILE_LEVEL_MAX, &t->level) ||
		    *p != '/')
			return false;
		p++;
	}
	if (!parse_index(p, &p, &t->index))
		return false;
	t->width = TLOG_TILE_WIDTH;
	if (strncmp(p, ".p/", 3) == 0 &&
	    !parse_small(p + 3, &p, 1, TLOG_TILE_WIDTH - 1, &t->width))
		return false;
	return *p == '\0';
}

size_t
tlog_tile_format(const struct tlog_tile *t, char *out, size_t size)
{
	unsigned groups[8];
	size_t n = 0, used;
	uint64_t v = t->index;
	int w;

	do {
		groups[n++] = (unsigned)(v % 1000);
		v /= 1000;
	} while (v > 0);
	if (t->entries)
		w = snprintf(out, size, "tile/entries/");
	else
		w = snprintf(out, size, "tile/%u/", t->level);
	if (w < 0 || (size_t)w >= size)
		return 0;
	used = (size_t)w;
	while (n > 0) {
		n--;
		w = snprintf(out + used, size - used, n > 0 ? "x%03u/" : "%03u",
		    groups[n]);
		if (w < 0 || (size_t)w >= size - used)
			return 0;
		used += (size_t)w;
	}
	if (t->width < TLOG_TILE_WIDTH) {
		w = snprintf(out + used, size - used, ".p/%u", t->width);
		if (w < 0 || (size_t)w >= size - used)
			return 0;
		used += (size_t)w;
	}
	return used;
}

bool
tlog_tile_nodes(const struct tlog_tile *t, unsigned *tree_level,
    uint64_t *first)
{
	unsigned level = t->entries ? 0 : t->level * TLOG_TILE_HEIGHT;

	/* Nodes of level >= 64 would cover 2^64 leaves or more. */
	if (level >= 64 || t->index > (UINT64_MAX >> level) / TLOG_TILE_WIDTH)
		return false;
	*tree_level = level;
	*first = t->index * TLOG_TILE_WIDTH;
	return true;
}

bool
tlog_tile_within(const struct tlog_tile *t, uint64_t size)
{
	unsigned level;
	uint64_t first;

	if (!tlog_tile_nodes(t, &level, &first))
		return false;
	/* (first + width) * 2^level <= size, without overflow. */
	return t->width <= (size >> level) &&
	    first <= (size >> level) - t->width;
}
