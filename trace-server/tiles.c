/*
 * tiles.c - the log as C2SP tlog-tiles (docs/PROTOCOL.md section 9.6,
 * SPEC 10), read-only, under /tlog/:
 *
 *   GET /tlog/checkpoint                  the checkpoint /api/v1/checkpoint
 *                                         serves (the witnessed one when
 *                                         there are witnesses)
 *   GET /tlog/tile/<L>/<N>[.p/<W>]        hash tiles
 *   GET /tlog/tile/entries/<N>[.p/<W>]    entry bundles: each leaf's data
 *                                         (the statement's PAE bytes) after
 *                                         a big-endian uint16 length
 *
 * A tile is served when the latest signed checkpoint's tree holds it, so
 * every partial tile of every size ever published exists, and a full tile
 * once its last leaf is in a signed tree; full tiles never change and are
 * cached for a year.  The hashes come straight from the stored nodes
 * (store_log.c); an entry bundle is rebuilt from the stored envelopes and
 * each entry's leaf hash checked against the stored level-0 hash, so a
 * store that was edited answers 503, never a bundle that does not hash to
 * its tile.  Path names and their arithmetic are libtrace's tlogtiles.c.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/dsse.h"
#include "libtrace/tlogtiles.h"
#include "log.h"

#define TILES_PREFIX "/tlog/"
#define IMMUTABLE "Cache-Control: public, max-age=31536000, immutable\r\n"
/* A partial tile's bytes never change either, but it is superseded by
 * the full tile once the tree grows past it: cache it for a day. */
#define PARTIAL "Cache-Control: public, max-age=86400\r\n"

/* The size of the latest signed tree (0 before the first checkpoint). */
static enum trace_status
published_size(struct request *req, uint64_t *size, struct trace_error *err)
{
	struct checkpoint cp;
	uint64_t integrated;
	char *note = NULL;
	size_t len = 0;
	enum trace_status rc;

	*size = 0;
	if ((rc = store_log_head(req->worker->store, &integrated, &note, &len,
	    err)) != TRACE_OK)
		return rc;
	if (note != NULL) {
		if (log_checkpoint_read(note, len, &cp))
			*size = cp.size;
		else
			rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt",
			    NULL, "the stored checkpoint does not parse");
	}
	free(note);
	return rc;
}

/* Entry bundle: each leaf's PAE, length-prefixed, checked against the
 * stored leaf hash. */
static enum trace_status
entries_bundle(struct request *req, uint64_t first, size_t count,
    struct buf *out, struct trace_error *err)
{
	unsigned char (*ids)[MERKLE_HASH_LEN] = NULL;
	unsigned char (*leaves)[MERKLE_HASH_LEN] = NULL;
	struct store_log_entries entries = { 0 };
	struct store *s = req->worker->store;
	enum trace_status rc;

	ids = malloc(count * MERKLE_HASH_LEN);
	leaves = malloc(count * MERKLE_HASH_LEN);
	if (ids == NULL || leaves == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	if ((rc = store_log_hashes(s, true, 0, first, count,
	    (unsigned char *)ids, err)) != TRACE_OK ||
	    (rc = store_log_hashes(s, false, 0, first, count,
	    (unsigned char *)leaves, err)) != TRACE_OK ||
	    (rc = store_log_entries(s, first, (const unsigned char (*)
	    [MERKLE_HASH_LEN])ids, count, &entries, err)) != TRACE_OK)
		goto out;
	for (size_t i = 0; i < count && rc == TRACE_OK; i++) {
		struct dsse_envelope env;
		unsigned char *pae = NULL, leaf[MERKLE_HASH_LEN];
		unsigned char prefix[2];
		size_t len = 0;

		memset(&env, 0, sizeof(env));
		if (dsse_envelope_parse_stored(entries.envelopes[i].text,
		    entries.envelopes[i].len, &env, err) != TRACE_OK ||
		    (pae = dsse_pae(env.type, env.payload, env.payload_len,
		    &len)) == NULL) {
			rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt",
			    NULL, "the statement of leaf %" PRIu64 " does not "
			    "parse", first + i);
		} else {
			merkle_leaf_hash(pae, len, leaf);
			if (len > TLOG_ENTRY_MAX ||
			    memcmp(leaf, leaves[i], MERKLE_HASH_LEN) != 0) {
				rc = trace_error_set(err, TRACE_ESTORE,
				    "store_corrupt", NULL, "the statement of "
				    "leaf %" PRIu64 " does not hash to its "
				    "leaf", first + i);
			} else {
				prefix[0] = (unsigned char)(len >> 8);
				prefix[1] = (unsigned char)(len & 0xff);
				buf_append(out, prefix, 2);
				buf_append(out, pae, len);
			}
		}
		free(pae);
		dsse_envelope_clear(&env);
	}
out:
	store_log_entries_clear(&entries);
	free(ids);
	free(leaves);
	return rc;
}

void
tiles_handle(struct request *req)
{
	const char *rest = req->path + strlen(TILES_PREFIX);
	struct tlog_tile tile;
	struct trace_error err;
	unsigned level;
	uint64_t first, size;
	struct buf out;

	if (strcmp(rest, "checkpoint") == 0) {
		log_handle_checkpoint(req);
		return;
	}
	buf_init(&out, 0);
	if (strncmp(rest, "tile/", 5) != 0) {
		trace_error_set(&err, TRACE_ENOTFOUND, "not_found", NULL,
		    "the log's tiles are /tlog/checkpoint, /tlog/tile/<L>/<N>"
		    "[.p/<W>] and /tlog/tile/entries/<N>[.p/<W>]");
		goto fail;
	}
	if (!tlog_tile_parse(rest, &tile)) {
		trace_error_set(&err, TRACE_EMALFORMED, "bad_tile_path", NULL,
		    "not a C2SP tlog-tiles path: L is 0-63, N in 3-digit "
		    "groups with all but the last x-prefixed, W is 1-255, "
		    "without leading zeros");
		goto fail;
	}
	if (published_size(req, &size, &err) != TRACE_OK)
		goto fail;
	if (!tlog_tile_nodes(&tile, &level, &first) ||
	    !tlog_tile_within(&tile, size)) {
		trace_error_set(&err, TRACE_ENOTFOUND, "not_found", NULL,
		    "no published tree of the log holds this tile (size %"
		    PRIu64 ")", size);
		goto fail;
	}
	if (tile.entries) {
		if (entries_bundle(req, first, tile.width, &out, &err) !=
		    TRACE_OK)
			goto fail;
	} else {
		unsigned char hashes[TLOG_TILE_WIDTH * MERKLE_HASH_LEN];

		if (store_log_hashes(req->worker->store, false, level, first,
		    tile.width, hashes, &err) != TRACE_OK)
			goto fail;
		buf_append(&out, hashes, (size_t)tile.width * MERKLE_HASH_LEN);
	}
	if (out.failed) {
		trace_error_set(&err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto fail;
	}
	http_send(req, 200, "application/octet-stream", out.data, out.len,
	    tile.width == TLOG_TILE_WIDTH ? IMMUTABLE : PARTIAL);
	buf_free(&out);
	return;
fail:
	buf_free(&out);
	http_send_error(req, &err);
}
