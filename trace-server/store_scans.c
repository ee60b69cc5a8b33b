/*
 * store_scans.c - scan counts written after the page was answered
 * (scancount.c): one call of store.lua's trace_scan_add per chain adds the
 * views of many serials, with the same bound per lot as the page read.
 *
 * Like the page read's count, an add is not idempotent: if the connection
 * breaks after Redis ran it, the resend counts those views twice.  A scan
 * count is a hint for people (a copied label), not a record, so that is
 * accepted rather than guarded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_private.h"

enum trace_status
store_scans_add(struct store *s, const char *chain, struct scan_add *items,
    size_t count, long long serials_max, struct trace_error *err)
{
	struct store_batch b;
	const redisReply *r;
	enum trace_status rc;

	store_batch_init(&b);
	store_batch_command(&b);
	store_batch_str(&b, "FCALL");
	store_batch_str(&b, "trace_scan_add");
	store_batch_str(&b, "2");
	store_batch_fmt(&b, KEY_CHAIN, chain);
	store_batch_fmt(&b, KEY_CHAIN_SCANS, chain);
	store_batch_fmt(&b, "%lld", serials_max);
	for (size_t i = 0; i < count; i++) {
		store_batch_str(&b, items[i].serial);
		store_batch_fmt(&b, "%lld", items[i].n);
		store_batch_fmt(&b, "%lld", items[i].now);
	}
	if ((rc = store_batch_run(s, &b, err)) != TRACE_OK)
		goto out;
	r = store_batch_reply(&b, 0);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		rc = trace_error_set(err, TRACE_ESTORE, "store_error", NULL,
		    "the store refused trace_scan_add: %.200s",
		    r != NULL ? r->str : "no reply");
		goto out;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 * count) {
		rc = trace_error_set(err, TRACE_ESTORE, "store_error", NULL,
		    "unexpected reply to trace_scan_add");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		const redisReply *n = r->element[2 * i], *f = r->element[2 * i + 1];

		items[i].counted = n->type == REDIS_REPLY_INTEGER &&
		    n->integer >= 0;
		items[i].count = items[i].counted ? n->integer : 0;
		items[i].first_scan = f->type == REDIS_REPLY_STRING ?
		    strtoll(f->str, NULL, 10) : 0;
	}
out:
	store_batch_clear(&b);
	return rc;
}
