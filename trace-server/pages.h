/*
 * pages.h - what the GS1 Digital Link resolver, the consumer and inspector
 * pages, the QR codes and the labels share (docs/PROTOCOL.md sections 2 and 11):
 *
 *   i18n.c       page languages and the message catalog (web/messages.tsv)
 *   page.c       the HTML skeleton, security headers, error pages, the
 *                static assets of web/ (/static/...), Digital Link URIs
 *   chainview.c  one chain read for a page (one round trip) and what it
 *                says: product, inspection, route, customs, recalls, scans
 *   verdict.c    "genuine or not verifiable": libtrace's bundle verification
 *                of the server's own data, cached per chain head
 *   resolver.c   /01/..., JSON and RFC 9264 linksets, /.well-known/gs1resolver
 *   consumer.c   the consumer page
 *   pagecache.c  rendered lot pages kept for a second (no store round trip)
 *   inspector.c  the inspector page
 *   qrcode.c     /qr/....svg and .png
 *   labels.c     /labels/...: a printable sheet of serial labels
 *
 * Everything a signer wrote reaches a page through buf_html (text and
 * attributes), buf_json_string (JSON) or buf_url_component (URLs).
 */
#ifndef TRACE_PAGES_H
#define TRACE_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libtrace/event.h"
#include "libtrace/fold.h"
#include "libtrace/gs1.h"
#include "server.h"

/* ---- web/, compiled in ---------------------------------------------------- */

/* The files of web/ as strings, written by the Makefile into
 * build/gen/web_assets.c: web_<name with '.' and '-' as '_'>. */
extern const char web_trace_css[];
extern const size_t web_trace_css_len;
extern const char web_verify_js[];
extern const size_t web_verify_js_len;
extern const char web_messages_tsv[];
extern const size_t web_messages_tsv_len;

/* ---- i18n.c ------------------------------------------------------------ */

enum page_lang {
	LANG_ZH,        /* zh-CN, the default */
	LANG_EN,
	LANG_KO,
	LANG_COUNT,
};

/* ?lang= if it names a supported language, else the best of
 * Accept-Language, else zh-CN. */
enum page_lang i18n_negotiate(const struct request *req);

/* "zh-CN", "en", "ko". */
const char *i18n_tag(enum page_lang lang);

/* The name of lang in itself ("中文", "English", "한국어"). */
const char *i18n_native_name(enum page_lang lang);

/* The message key in lang (falling back to en), or NULL if the catalog has
 * no such key.  Catalog text is trusted (it is compiled in). */
const char *i18n_get(enum page_lang lang, const char *key);

/* Write the message as HTML text; an unknown key is written as itself. */
void i18n_html(struct buf *b, enum page_lang lang, const char *key);

/* The same with {0}, {1}, {2} replaced by args (HTML-escaped; NULL args
 * stand for ""). */
void i18n_html_args(struct buf *b, enum page_lang lang, const char *key,
    const char *arg0, const char *arg1, const char *arg2);

/* ---- page.c ------------------------------------------------------------ */

/* For every page: scripts only from this server, no inline script. */
#define PAGE_CSP "default-src 'self'; script-src 'self'; " \
	"style-src 'self'; img-src 'self' data:; connect-src 'self'; " \
	"object-src 'none'; base-uri 'none'; form-action 'self'; " \
	"frame-ancestors 'none'"

/* The request asks for JSON rather than HTML (Accept has application/json
 * and no text/html). */
bool page_wants_json(const struct request *req);

/*
 * "<!doctype html>...<body>" with the stylesheet, the title (escaped) and,
 * when script is true, /static/verify.js (deferred).
 */
void page_open(struct buf *b, enum page_lang lang, const char *title,
    size_t title_len, bool script);

/* The top bar: brand and the language switch, linking to path (trusted,
 * already encoded) with ?lang=. */
void page_bar(struct buf *b, enum page_lang lang, const char *path);

void page_close(struct buf *b);

/* Send b as text/html with the CSP and the other page headers; 500 if b
 * failed.  extra_headers: more "Name: value\r\n" lines or NULL. */
void page_send(struct request *req, int status, struct buf *b,
    enum page_lang lang, const char *extra_headers);

/* An error as JSON (page_wants_json) or as a small HTML page. */
void page_send_error(struct request *req, const struct trace_error *err);


/* The assets' version ("?v=" in links), a hex digest of their content. */
const char *page_asset_version(void);

/* The base64 of the root admin public key (for verify.js). */
void page_root_key_base64(const struct server *srv, char *out, size_t size);

/*
 * The Digital Link URI of link under the server's --public-url (what the
 * resolver answers, QR codes encode and pages link to); its length, 0 when
 * it does not fit size.
 */
size_t page_link_uri(const struct server *srv, const struct gs1_link *link,
    char *out, size_t size);

/* The same in its compressed form, "{public_url}/{compressed}" (GS1
 * Digital Link compression), with the same contract. */
size_t page_link_uri_compressed(const struct server *srv,
    const struct gs1_link *link, char *out, size_t size);

/* ---- chainview.c ------------------------------------------------------- */

/* One event of a chain, and what the fold says of it. */
struct chain_item {
	struct trace_event ev;
	const struct store_record *rec;   /* id, log index, envelope */
	const struct chain_item *corrected_by; /* the correction in force that
	                                   * withdrew it, or NULL */
	bool round1;                      /* judged by round-1 rules */
	bool ignored;                     /* it changes nothing */
	bool compromised;                 /* signed with a key reported
	                                   * compromised (SPEC 8) */
	bool pending;                     /* logged after the witnessed
	                                   * checkpoint (SPEC 9): a close,
	                                   * correction, pass, release or
	                                   * serials.issued awaits witnesses */
};

enum recall_state {
	RECALL_NONE,
	RECALL_OPEN,          /* an open recall covers this unit (or lot) */
	RECALL_OPEN_PARTIAL,  /* open for some serials; no serial asked */
	RECALL_OPEN_OTHER,    /* open, but not for this serial */
	RECALL_CLOSED,        /* every recall was closed */
};

struct chain_data;

struct chain_view {
	struct gs1_link link;              /* gtin, lot, serial ("" if none) */
	char chain[CHAIN_ID_MAX + 1];
	struct chain_data *data;           /* parsed records, shared */
	const struct chain_item *items;    /* count, in seq order */
	size_t count;
	const struct fold_result *fold;    /* of items (libtrace/fold.h):
	                                    * indexes are item indexes */
	/* The summary, from the fold; each points into items, NULL when
	 * there is none. */
	const struct chain_item *product;
	const struct chain_item *sampled;
	const struct chain_item *inspected;  /* the result that decides the
	                                      * inspection status */
	const struct chain_item *declared;
	const struct chain_item *released;
	const struct chain_item *recall;   /* the recall behind recall_state */
	const struct chain_item *recall_closed;  /* RECALL_CLOSED: what
	                                    * closed it */
	const struct chain_item *recall_closing; /* an open recall: a close
	                                    * of it awaiting witnesses (SPEC
	                                    * 9), or NULL */
	enum recall_state recall_state;
	/* Scans of link.serial (when scans_known: not for a serial that
	 * would be past SCANS_SERIALS_MAX counted serials of its lot). */
	bool scans_known;
	long long scans;
	long long first_scan;              /* unix seconds, 0 if unknown */
	/* unitpage.c's template: consumer_build writes this mark where the
	 * scans card goes (NULL: the card itself). */
	const char *scans_mark;
};

/* Serials whose scans a lot counts, at most (invented serials on a real
 * lot must not grow Redis without bound). */
#define SCANS_SERIALS_MAX 200000

/*
 * Read chain link.gtin/link.lot in one round trip; for a serial also its
 * scan count and first scan, counting this view if count_scan.  A chain
 * without events is TRACE_ENOTFOUND.  On TRACE_OK the caller frees view
 * with chain_view_free() (which accepts a zeroed view).
 */
enum trace_status chain_view_load(struct request *req,
    const struct gs1_link *link, bool count_scan, struct chain_view *view,
    struct trace_error *err);

void chain_view_free(struct chain_view *view);

/* Chain has a new statement (ingest.c): its next view asks the store. */
void chain_view_forget(const char *chain);

/* Every chain's fold may have changed (a revoke with compromisedAt,
 * registry.c): every next view folds again.  Lot pages cached by
 * pagecache.c age out within PAGE_CACHE_MS (none served stale). */
void chain_view_forget_all(void);

/*
 * The fold (SPEC 8 "One fold", libtrace/fold.h) of count statements whose
 * ev, id and log_index the caller set: each signer's role and org come
 * from the key cache (a store round trip only for a key this process has
 * not met), then fold_run.  The one set-up of a stored chain's fold for
 * every reader (pages, the chain JSON, EPCIS, the recall board).  With a
 * witness policy it also sets each statement's pending flag: logged at or
 * after the published witnessed checkpoint (witness_pending_from(), SPEC
 * 9), read as a bundle's pending statement is.  st's signer fields are
 * used during the call only (signer_org is NULL again on return).  On
 * TRACE_OK the caller releases out with fold_result_clear().
 */
enum trace_status chain_fold(struct request *req, struct fold_statement *st,
    size_t count, struct fold_result *out, struct trace_error *err);

/* The product name in lang (falling back to en, zh, ko, then any), or
 * NULL; *len its length. */
const char *chain_view_name(const struct chain_view *view,
    enum page_lang lang, size_t *len);

/* A string of an item's data, or NULL. */
const char *chain_item_data(const struct chain_item *item, const char *key);

/* Pending (SPEC 9) and, read the safe way, not applied until the
 * witnesses cosign it: a close, correction, pass, release or
 * serials.issued logged after the witnessed checkpoint. */
bool chain_item_awaits_witnesses(const struct chain_item *item);

/* ---- documents.c -------------------------------------------------------- */

/* The data.attachments array of it (non-empty), or NULL. */
const struct json_value *documents_list(const struct chain_item *it);

/* The SHA-256 of it's inspection certificate: its first PDF attachment,
 * else its first attachment; NULL without any.  Points into it. */
const char *documents_certificate(const struct chain_item *it);

/* The list of it's documents (inspector page): name, media, size,
 * SHA-256, link; thumbnails for images; "document not uploaded" for one
 * the store does not hold.  Nothing when it names none. */
void documents_render(struct request *req, struct buf *b,
    enum page_lang lang, const struct chain_item *it);

/* An integer of an item's data; false when absent. */
bool chain_item_int(const struct chain_item *item, const char *key,
    long long *value);

/* A string of where ("country", "place"), or NULL. */
const char *chain_item_where(const struct chain_item *item, const char *key);

/* "2026-11-20 08:30 (UTC+09:00)" in the event's own offset. */
void chain_item_time(const struct chain_item *item, char *out, size_t size);

/*
 * ,"status":{...} (a member to append inside an object): the fold of the
 * chain, so that no client recomputes it (docs/PROTOCOL.md section 11.6):
 *   "recall": {"status": "none|open|closed", "open", "total", "items":
 *      [{"id", "status", "severity", "serials" (null: the whole lot),
 *        "issuerRole", "issuerOrg", "closedBy" (id or null), "round1"}]},
 *   "inspection": {"status": "none|pass|fail", "deciding" (id or null),
 *      "items": [{"id", "result", "withdrawnBy" (id or null)}]},
 *   "customs": {"status": "none|declared|released", "declaration",
 *      "release" (ids or null)},
 *   "round1": statements judged by round-1 rules
 */
void chain_view_write_status(struct buf *b, const struct chain_view *view);

/*
 * What the fold says of item i, as members to append inside its object:
 * "withdrawnBy" (the correction in force), "round1": true with "note":
 * "judged by round-1 rules", "ignored": true (it changes nothing).
 */
void chain_item_write_notes(struct buf *b, const struct chain_view *view,
    size_t i);

/* The serial ranges of a recall as "000100–000199, 000500" (escaped
 * later), "" for a whole-lot recall. */
void chain_recall_ranges(const struct chain_item *recall, struct buf *out);

/* ---- verdict.c --------------------------------------------------------- */

enum verdict_state {
	VERDICT_GENUINE,       /* every signature, link and proof checks */
	VERDICT_PENDING,       /* not yet in a signed checkpoint */
	VERDICT_UNVERIFIABLE,  /* a check failed, or the store failed */
};

struct verdict {
	enum verdict_state state;
	char code[TRACE_ERROR_CODE_MAX];          /* why not genuine */
	char reason[TRACE_ERROR_MESSAGE_MAX];
	uint64_t checkpoint_size;
	size_t signatures, proofs;
	/* With --witness-policy (SPEC 9): whether the bundle's checkpoint
	 * met the quorum, who cosigned (policy names, ", "-joined) and the
	 * oldest of their cosignature times (Unix seconds). */
	bool witnessed;
	char witnesses[512];
	long long witnessed_at;
	/* SPEC 11: the lot index shows the chain complete as of checkpoint
	 * complete_size (0: not shown). */
	uint64_t complete_size;
	/* Per event of the view (inspector page): its checks passed. */
	bool *event_ok;                           /* count entries or NULL */
	size_t event_count;
};

/*
 * The verdict on view's chain as it is at view's head: from the cache, or
 * by building the chain's bundle and verifying it with bundle_verify()
 * against the server's trust anchor and log key.  with_events fills
 * event_ok.  Never fails: a failure is a verdict.  The caller releases
 * out with verdict_clear().
 */
void verdict_get(struct request *req, const struct chain_view *view,
    bool with_events, struct verdict *out);

void verdict_clear(struct verdict *v);

/* Prometheus lines: verdicts computed (bundle checks), since start. */
void verdict_metrics_render(struct buf *out);

/* ---- consumer.c --------------------------------------------------------- */

/* The consumer page of a loaded view into out; false if it is about to
 * change (the verdict is pending), so it must not be cached. */
bool consumer_build(struct request *req, const struct chain_view *view,
    enum page_lang lang, struct buf *out);

/* The scans card of view (nothing unless view->scans_known). */
void consumer_scans_card(struct buf *b, enum page_lang lang,
    const struct chain_view *v);

/* Send a built consumer page with its Link header. */
void consumer_send(struct request *req, const struct gs1_link *link,
    enum page_lang lang, struct buf *page);

/* ---- unitpage.c --------------------------------------------------------- */

/*
 * The consumer page of a unit (view->link.serial set) into out, from a
 * template of its lot's page kept PAGE_CACHE_MS; false when this view
 * cannot use one (a serial that escaping would change, a pending verdict,
 * ...): the caller then builds the page with consumer_build.
 */
bool unit_page_build(struct request *req, const struct chain_view *view,
    enum page_lang lang, struct buf *out);

/* ---- pagecache.c ------------------------------------------------------- */

/*
 * Rendered lot pages (no serial, so no scan counter) per chain and variant
 * (a page_lang, or LANG_COUNT for JSON), kept PAGE_CACHE_MS: a page view
 * within that time costs no store round trip.  get copies into out.
 * Each page is kept with the witnessed size its chain was folded against
 * (witness_pending_from(), SPEC 9) and served only while that is still
 * the published one: a page that shows a close as awaiting witnesses is
 * not served after they cosigned it.
 *
 * When a page ages out, the first get to notice rebuilds it (get answers
 * false and claims the rebuild); gets from other workers meanwhile are
 * served the old page, for at most PAGE_CACHE_STALE_MS more, so a popular
 * lot's page is rebuilt once a second rather than by every worker at once
 * (docs/PERFORMANCE.md, "Consumer pages").  A claim lapses after
 * PAGE_CACHE_CLAIM_MS without a put (the rebuild failed or its page is
 * not kept), and the next get claims again.  A page too old to serve (a
 * lot viewed again after a quiet spell) is rebuilt the same way: the
 * other gets wait for that rebuild, once and at most until its claim
 * lapses, instead of every worker of a burst rendering it at once.
 */
#define PAGE_CACHE_MS 1000
#define PAGE_CACHE_STALE_MS 1000
#define PAGE_CACHE_CLAIM_MS 250

bool pagecache_get(const char *chain, int variant, long long pending_from,
    struct buf *out);
void pagecache_put(const char *chain, int variant, long long pending_from,
    const struct buf *body);

/* Prometheus lines: asks answered fresh, stale, missed; waits. */
void pagecache_metrics_render(struct buf *out);

/* The variants below this are a chain's lot pages: the resolver's
 * (0 .. LANG_COUNT, JSON last) and the inspector's (from
 * PAGECACHE_INSPECTOR). */
#define PAGECACHE_INSPECTOR (LANG_COUNT + 1)
#define PAGECACHE_LOT_VARIANTS (PAGECACHE_INSPECTOR + LANG_COUNT)

/* Drop chain's lot pages: a statement was just appended through this
 * process, and its next page must show it (chain_view_forget). */
void pagecache_forget(const char *chain);

/* Serve no page kept before now beyond its PAGE_CACHE_MS: what a fold
 * says changed without a chain growing (chain_view_forget_all). */
void pagecache_forget_stale(void);

#endif
