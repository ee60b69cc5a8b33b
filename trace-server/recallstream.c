/*
 * recallstream.c - GET /api/v1/recalls/stream: a live feed of recalls for
 * importers' systems, as Server-Sent Events (WHATWG HTML, 9.2).
 *
 * The append of every recall.issued and of every recall.closed that closes
 * a recall adds a notice to the store's stream in the same atomic step
 * (store_recalls.c).  The notice's id (e.g. "1732700000000-0") is the
 * SSE id: it only grows, so a client resumes exactly where it stopped by
 * sending it back as Last-Event-ID (browsers do this by themselves) or as
 * ?after=.  Without either, the feed starts with the next recall.
 *
 * Each stream holds a civetweb worker thread and that worker's own Redis
 * connection, blocked in a read for at most a second at a time, so a new
 * recall goes out within about a second and shutdown is noticed as fast.
 * Streams are bounded to a quarter of the worker threads (at least one):
 * beyond it the answer is 503 with Retry-After, so streams can never take
 * every worker from the pages and the API.  Streams are anonymous, so the
 * slots are shared fairly (SPEC 7 "Abuse": a few clients must not hold
 * them all for an hour): one address holds at most a quarter of them (at
 * least 2); the last quarter is a reserve for addresses that hold none
 * (the local host, a proxy beside the server, is exempt from both);
 * and once a stream was refused, streams older than STREAM_FAIR_SECONDS
 * end (the client reconnects and resumes from its last id, losing
 * nothing), so slots turn over within about a minute.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "admission.h"
#include "monotonic.h"
#include "recalls.h"
#include "slothash.h"

#define STREAM_BLOCK_MS 1000
#define STREAM_BATCH 100
/* A comment on every idle second: a write is the only way civetweb lets
 * us notice a client that hung up, and a stream slot must not stay taken
 * long after its client left. */
#define STREAM_KEEPALIVE_SECONDS 1
/* Reconnecting is cheap and resumes exactly: bound each response. */
#define STREAM_MAX_SECONDS 3600
/* While streams are being refused: how long one may last. */
#define STREAM_FAIR_SECONDS 60
#define STREAM_REFUSED_RECENT_MS 10000
#define STREAM_ADDR_SLOTS 1024

static atomic_int active_streams;
static atomic_int addr_streams[STREAM_ADDR_SLOTS];
static atomic_llong last_refused_ms;
static atomic_bool shutting_down;

void
recalls_stream_shutdown(void)
{
	atomic_store(&shutting_down, true);
}

/* "<ms>-<seq>", both decimal, as Redis stream ids are. */
static bool
stream_id_valid(const char *s)
{
	size_t digits = 0, parts = 1;

	for (; *s != '\0'; s++) {
		if (*s == '-' && digits > 0 && parts == 1) {
			parts++;
			digits = 0;
		} else if (*s >= '0' && *s <= '9' && digits < 20) {
			digits++;
		} else {
			return false;
		}
	}
	return parts == 2 && digits > 0;
}

static bool
send_text(struct request *req, const char *s, size_t len)
{
	return mg_write(req->conn, s, len) == (int)len;
}

/*
 * Write notices as SSE events and advance last past every one of them.
 * False when the client went away.
 */
static bool
send_notices(struct request *req, const struct recall_notices *n,
    char *last, size_t last_size)
{
	struct buf b;
	bool ok = true;

	buf_init(&b, 0);
	for (size_t i = 0; i < n->count; i++) {
		const struct recall_notice *e = &n->items[i];

		snprintf(last, last_size, "%s", e->id);
		if (e->event == NULL || e->data == NULL ||
		    memchr(e->data, '\n', e->data_len) != NULL ||
		    memchr(e->event, '\n', e->event_len) != NULL)
			continue;
		/* Everything here was written by the Function from JSON that
		 * recalls.c built: one line each. */
		buf_printf(&b, "id: %s\nevent: ", last);
		buf_append(&b, e->event, e->event_len);
		buf_puts(&b, "\ndata: ");
		buf_append(&b, e->data, e->data_len);
		buf_puts(&b, "\n\n");
	}
	if (b.len > 0)
		ok = !b.failed && send_text(req, b.data, b.len);
	buf_free(&b);
	return ok;
}

static void
stream_run(struct request *req, const char *start)
{
	static const char head[] =
	    "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/event-stream; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "Connection: close\r\n"
	    "X-Accel-Buffering: no\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "\r\n"
	    /* Browsers reconnect after a second, resuming from the last id. */
	    "retry: 1000\n\n";
	char last[STORE_STREAM_ID_MAX + 1];
	long long started = monotonic_ms(), last_write = started;
	struct trace_error err;

	snprintf(last, sizeof(last), "%s", start);
	req->status = 200;
	if (!send_text(req, head, sizeof(head) - 1))
		return;
	while (!atomic_load(&shutting_down) &&
	    monotonic_ms() - started < STREAM_MAX_SECONDS * 1000) {
		struct recall_notices n;
		long long now = monotonic_ms(), refused =
		    atomic_load(&last_refused_ms);

		/* Others are waiting for a slot: make room. */
		if (now - started >= STREAM_FAIR_SECONDS * 1000 &&
		    refused != 0 && now - refused < STREAM_REFUSED_RECENT_MS)
			return;

		if (store_recall_stream_read(req->worker->store, last,
		    STREAM_BATCH, STREAM_BLOCK_MS, &n, &err) != TRACE_OK) {
			/* The store went away mid-stream: the client resumes
			 * from its last id when it reconnects. */
			static const char gone[] = ": store unavailable\n\n";

			recall_notices_clear(&n);
			send_text(req, gone, sizeof(gone) - 1);
			return;
		}
		if (!n.timed_out) {
			bool ok = send_notices(req, &n, last, sizeof(last));

			recall_notices_clear(&n);
			if (!ok)
				return;
			last_write = monotonic_ms();
			continue;
		}
		recall_notices_clear(&n);
		/* Comments keep proxies from closing an idle stream and tell
		 * us when the client has gone. */
		if (monotonic_ms() - last_write >=
		    STREAM_KEEPALIVE_SECONDS * 1000) {
			static const char ping[] = ": keep-alive\n\n";

			if (!send_text(req, ping, sizeof(ping) - 1))
				return;
			last_write = monotonic_ms();
		}
	}
}

void
recalls_handle_stream(struct request *req)
{
	static const char *const allowed[] = { "after", NULL };
	struct query_fields params;
	struct trace_error err;
	const struct query_field *after;
	const char *resume;
	char start[STORE_STREAM_ID_MAX + 1];
	int limit = req->srv->cfg.threads / 4, per_addr, reserve, all, mine;
	atomic_int *addr = &addr_streams[slot_hash(req->info->remote_addr,
	    NULL) % STREAM_ADDR_SLOTS];

	if (limit < 1)
		limit = 1;
	per_addr = limit / 4 > 2 ? limit / 4 : 2;
	reserve = limit / 4;
	/* A proxy beside the server carries many clients (admission.h). */
	if (admission_addr_is_local(req->info->remote_addr)) {
		per_addr = limit;
		reserve = 0;
	}
	if (parse_query(req->info->query_string, allowed,
	    PARSE_UNKNOWN_REFUSED, &params, &err) != TRACE_OK) {
		http_send_error(req, &err);
		return;
	}
	after = parse_query_get(&params, "after");
	resume = mg_get_header(req->conn, "Last-Event-ID");
	/* The browser's Last-Event-ID is newer than the URL it reconnects
	 * to, so it wins. */
	if (resume == NULL || resume[0] == '\0')
		resume = after != NULL ? after->value : NULL;
	if (resume != NULL && (strlen(resume) > STORE_STREAM_ID_MAX ||
	    !stream_id_valid(resume))) {
		trace_error_set(&err, TRACE_EMALFORMED, "bad_parameter",
		    after != NULL && resume == after->value ? "after" :
		    "Last-Event-ID", "a stream id is <ms>-<seq>, as sent in id:");
		parse_query_clear(&params);
		http_send_error(req, &err);
		return;
	}
	if (resume != NULL)
		snprintf(start, sizeof(start), "%s", resume);
	parse_query_clear(&params);
	mine = atomic_fetch_add(addr, 1);
	all = atomic_fetch_add(&active_streams, 1);
	if (all >= limit || mine >= per_addr ||
	    (mine > 0 && all >= limit - reserve)) {
		atomic_fetch_sub(&active_streams, 1);
		atomic_fetch_sub(addr, 1);
		atomic_store(&last_refused_ms, monotonic_ms());
		trace_error_set(&err, TRACE_ESTORE, "too_many_streams", NULL,
		    all >= limit ? "all %d recall streams are in use; retry "
		    "later" : "this address holds its share of the %d recall "
		    "streams; retry later", limit);
		http_send_error(req, &err);
		return;
	}
	if (resume == NULL &&
	    store_recall_stream_newest(req->worker->store, start,
	    sizeof(start), &err) != TRACE_OK) {
		atomic_fetch_sub(&active_streams, 1);
		atomic_fetch_sub(addr, 1);
		http_send_error(req, &err);
		return;
	}
	stream_run(req, start);
	atomic_fetch_sub(&active_streams, 1);
	atomic_fetch_sub(addr, 1);
}
