/*
 * bundles.c - GET /api/v1/bundles/01/{gtin}/10/{lot}: the chain's bundle
 * (docs/PROTOCOL.md sections 10.1 and 11.9), built by chainbundle.c.  404
 * for an unknown chain (with the lot index's absence proof, PROTOCOL 10.5),
 * 503 not_yet_logged when no signed checkpoint covers it in time.
 */
#include <string.h>

#include "log.h"
#include "parse.h"

void
bundles_handle_bundle(struct request *req)
{
	const char *rest = req->path + strlen("/api/v1/bundles");
	char chain[CHAIN_ID_MAX + 1];
	struct trace_error err;
	struct buf out;

	buf_init(&out, 0);
	if (parse_chain_path(rest, chain, &err) != TRACE_OK) {
		http_send_error(req, &err);
	} else if (chain_bundle_build(req, chain, &out, &err) != TRACE_OK) {
		/* An unknown chain: 404 with the bundle's members and the
		 * index's absence proof when there is one (SPEC 11). */
		if (err.status == TRACE_ENOTFOUND && out.len > 0 && !out.failed)
			http_send_error_with(req, &err, out.data);
		else
			http_send_error(req, &err);
	} else {
		http_send_json(req, 200, &out);
	}
	buf_free(&out);
}
