/*
 * bundles.c - GET /api/v1/bundles/01/{gtin}/10/{lot}: the chain's bundle
 * (docs/PROTOCOL.md sections 10.1 and 11.9), built by chainbundle.c.  404
 * for an unknown chain (with the lot index's absence proof, PROTOCOL 10.5),
 * 503 not_yet_logged when no signed checkpoint covers it in time.
 *
 * Waiting for the integrator holds a worker (up to LOG_BUNDLE_WAIT_MS):
 * while an eighth of the workers (at least one) are in bundle requests,
 * further ones do not wait and answer not_yet_logged at once, so a lagging
 * integrator cannot park every worker in bundle requests (SPEC 7 "Abuse").
 */
#include <stdatomic.h>
#include <string.h>

#include "log.h"
#include "parse.h"

static atomic_int waiting;

void
bundles_handle_bundle(struct request *req)
{
	int may_wait = req->srv->cfg.threads / 8;
	bool waits;
	const char *rest = req->path + strlen("/api/v1/bundles");
	char chain[CHAIN_ID_MAX + 1];
	struct trace_error err;
	struct buf out;

	buf_init(&out, 0);
	waits = atomic_fetch_add(&waiting, 1) < (may_wait > 0 ? may_wait : 1);
	req->bundle_no_wait = !waits;
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
	atomic_fetch_sub(&waiting, 1);
	buf_free(&out);
}
