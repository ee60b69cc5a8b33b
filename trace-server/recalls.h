/*
 * recalls.h - recalls for importers and the EPCIS 2.0 export (SPEC
 * sections 3 and 5):
 *
 *   recalls.c       the recall JSON written with each recall event (the
 *                   indexes change in the same atomic step: store_recalls.c),
 *                   queries with filters and a cursor, GET /api/v1/recalls
 *                   as JSON or CSV, a chain's recall status
 *   recallboard.c   GET /recalls: the importer's recall board (HTML)
 *   recallstream.c  GET /api/v1/recalls/stream: Server-Sent Events
 *   epcis.c         GET /api/v1/epcis/events: an EPCISQueryDocument
 *
 * A recall is identified by the statement id of its recall.issued event.
 * Its JSON (the API, the CSV, the stream, the chain) is one object:
 *   {"id", "chain", "gtin", "lot", "seq", "logIndex", "issued" (UTC),
 *    "severity", "reason", "action", "contact" (if given), "serials"
 *    ([[from, to], ...] or null for the whole lot), "org" (the issuer's
 *    organisation, from its key entry), "signer", "status" ("open" or
 *    "closed") and, once closed, "closed" (UTC), "closedBy" (the
 *    recall.closed id), "outcome", "recovered" (if given), "closedLogIndex"}
 * A recall.closed closes the recall it names ("recall"), which must be
 * open (SPEC 8); a round-1 recall.closed closed every recall of its chain
 * that was open then, and the indexes keep what it did.
 */
#ifndef TRACE_RECALLS_H
#define TRACE_RECALLS_H

#include <stdbool.h>
#include <stddef.h>

#include "libtrace/event.h"
#include "libtrace/gs1.h"
#include "libtrace/json.h"
#include "libtrace/keyentry.h"
#include "libtrace/timefmt.h"
#include "parse.h"
#include "server.h"

#define RECALLS_LIMIT_DEFAULT 100
#define RECALLS_LIMIT_MAX 500

/* ---- the append side --------------------------------------------------- */

/* What a recall event's append adds (store.h), with the text it points
 * to. */
struct recall_append {
	struct append_recall_args args;
	struct buf head, tail;
};

/* True for the event types that change the recall indexes. */
bool recalls_is_recall_event(const struct trace_event *ev);

/*
 * Fill ra for ev (recall.issued or recall.closed) with statement id id,
 * signed by a key of organisation org, and point args->recall at it: the
 * append then updates the recall indexes in the same step.  For a
 * recall.closed, closes is the id of the recall it closes (the one it
 * names, ingest checked it); ignored otherwise.  ra must outlive the append; release it with
 * recalls_append_clear (accepts a zeroed ra).
 */
enum trace_status recalls_append_prepare(struct recall_append *ra,
    const struct trace_event *ev, const char *id, const char *org,
    const char *closes, struct append_event_args *args, struct trace_error *err);
void recalls_append_clear(struct recall_append *ra);

/* ---- queries ------------------------------------------------------------- */

struct recall_query {
	char gtin[GTIN14_LEN + 1];      /* "" = any */
	char lot[GS1_ATTR_MAX + 1];     /* "" = any */
	char org[KEY_TEXT_MAX + 1];     /* "" = any */
	enum recall_filter_status status;   /* store.h */
	bool has_since, has_until;
	long long since, until;         /* receipt time, inclusive, unix s */
	char since_text[TIME_TEXT_MAX + 1], until_text[TIME_TEXT_MAX + 1];
	char cursor[STORE_RECALL_CURSOR_MAX + 1];  /* a log index: only the
						    * recalls below it;
						    * "" = from the newest */
	size_t limit;
	long long pending_from;         /* witness_pending_from(): a close
	                                 * at or past it is pending (SPEC 9);
	                                 * LLONG_MAX: no witness policy */
};

/*
 * The filters of p (gtin, lot, status, since, until, org, cursor, limit)
 * into q, each checked strictly: TRACE_EMALFORMED naming the parameter.
 * since/until are YYYY-MM-DD (since: from the day's start, until: to its
 * end, UTC) or RFC 3339 times, both inclusive.
 */
enum trace_status recalls_query_from_params(const struct query_fields *p,
    struct recall_query *q, struct trace_error *err);

/*
 * Run q (store_recalls_list(): the page and its cursor are as it says).
 * The caller releases out with recall_page_clear(), whatever the status.
 */
enum trace_status recalls_list(struct store *s, const struct recall_query *q,
    struct recall_page *out, struct trace_error *err);

/* ---- a chain's recall status (chain JSON, consumer page, linkset) -------- */

struct recall_info {
	char id[2 * SHA256_LEN + 1];
	bool open;
	long long severity;
	long long issued;               /* unix seconds */
	long long closed;               /* unix seconds, 0 while open */
	const struct json_value *json;  /* the recall object (see above) */
};

struct recall_status {
	size_t count;                   /* recalls of the chain */
	size_t open;                    /* of which still open */
	struct recall_info *items;      /* newest first */
	struct json_doc **docs;         /* private */
	struct recall_page page;        /* private: the stored JSON */
};

/*
 * The recalls of chain (up to RECALLS_LIMIT_MAX, newest first) in one
 * round trip, a close at or past pending_from (witness_pending_from(),
 * LLONG_MAX for none) not yet applied.  On TRACE_OK the caller releases
 * out with recall_status_clear() (which accepts a zeroed status).
 */
enum trace_status recalls_chain_status(struct store *s, const char *chain,
    long long pending_from, struct recall_status *out,
    struct trace_error *err);
void recall_status_clear(struct recall_status *st);

/* ,"recalls":{"status":"none|open|closed","open":n,"total":n,"items":[...]}
 * for the chain JSON (a member to append inside an object). */
void recalls_write_chain_member(struct buf *b, const struct recall_status *st);

/* ---- handlers ----------------------------------------------------------- */

/*
 * SPEC 8 "Revocation and compromise": after a revoke with compromisedAt,
 * open again every recall whose recall.closed the fold now ignores (a
 * close signed with a key read as compromised, key_cache_compromised), so
 * the recall indexes (the board, GET /api/v1/recalls, the chain JSON's
 * "recalls", the live feed) agree with the fold.  Walks every closed
 * recall: a revoke with compromisedAt is rare.
 */
enum trace_status recalls_reopen_compromised(struct request *req,
    size_t *reopened, struct trace_error *err);

void recalls_handle_list(struct request *req);       /* /api/v1/recalls */
void recalls_handle_board(struct request *req);      /* /recalls */
void recalls_handle_stream(struct request *req);     /* /api/v1/recalls/stream */
void epcis_handle_events(struct request *req);       /* /api/v1/epcis/events */

/* Ask every open stream to end (before mg_stop, which waits for them). */
void recalls_stream_shutdown(void);

/* CSV (RFC 4180) field: quoted when needed; a leading = + - @ is
 * prefixed with ' so spreadsheet programs never run it as a formula. */
void recalls_csv_field(struct buf *b, const char *s, size_t len);

#endif
