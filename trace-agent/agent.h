/*
 * agent.h - what trace-agent's modules share: the run-time configuration
 * (server URL, queue folder), exit codes, the HTTP client (http.c), the
 * event drafts that record and import build (draft.c), the offline queue
 * (queue.c), the sender that flushes it (send.c) and what it checks and
 * rewrites when a chain moved under a queued event (rebase.c), and one
 * entry point per subcommand group (key.c, record.c, import.c, send.c,
 * verify.c, qr.c, recalls.c).
 *
 * The agent is single-threaded; libgcrypt and libcurl are initialised once
 * in main() before anything else runs.
 */
#ifndef TRACE_AGENT_H
#define TRACE_AGENT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libtrace/blob.h"
#include "libtrace/bundle.h"
#include "libtrace/dsse.h"
#include "libtrace/error.h"
#include "libtrace/event.h"
#include "libtrace/gs1.h"
#include "libtrace/json.h"
#include "libtrace/keys.h"
#include "libtrace/timefmt.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define AGENT_VERSION "0.1.0"

/*
 * Exit codes, the same for every subcommand.  AGENT_EXIT_UNREACHABLE is
 * "nothing was lost, try again later": what send says when entries stay
 * queued because the server could not be reached.  record deliberately
 * exits 0 in that case (the event is safe in the queue, which is all an
 * inspector in a factory needs to know) and says "queued".
 */
enum agent_exit {
	AGENT_EXIT_OK = 0,
	AGENT_EXIT_FAILED = 1,       /* verification failed, server refused,
	                                or a local error (file, key, input) */
	AGENT_EXIT_USAGE = 2,
	AGENT_EXIT_UNREACHABLE = 3,  /* server unreachable; queue kept */
	AGENT_EXIT_HELD = 4,         /* a chain moved by a recall, correction
	                                or fail the user has not seen: not
	                                rebased, queue kept (send --seen) */
	AGENT_EXIT_STALE = 5,        /* verify: everything checks, but the
	                                checkpoint is stale (SPEC 9) */
};

struct agent {
	char server[1024];        /* base URL without trailing '/'; "" = none */
	char queue_dir[PATH_MAX]; /* "" until agent_queue_dir() resolves it */
	long timeout_ms;          /* whole request */
	long connect_timeout_ms;
};

/* ---- main.c ------------------------------------------------------------ */

/* Long-option ids shared by every subcommand's option table. */
enum {
	OPT_SERVER = 1000,
	OPT_QUEUE,
	OPT_FIRST_LOCAL,   /* subcommands number their own options from here */
};

/* Handle --server / --queue (true) or say it is not a common option. */
bool agent_common_option(struct agent *a, int opt, const char *arg);

/* Set the server URL (trailing '/' dropped).  False if it is not http(s). */
bool agent_set_server(struct agent *a, const char *url);

/*
 * Resolve the queue folder: --queue, TRACE_QUEUE, $XDG_STATE_HOME/trace/queue
 * or ~/.local/state/trace/queue.  Returns a->queue_dir.
 */
const char *agent_queue_dir(struct agent *a);

/* "trace-agent CMD: message" on stderr. */
void agent_warn(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print err as "CMD: [field: ]message" on stderr. */
void agent_report(const char *cmd, const struct trace_error *err);

/* Print "try 'trace-agent CMD --help'" and return AGENT_EXIT_USAGE. */
int agent_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Test hook: when TRACE_AGENT_CRASH_AT is "step" or "step:N", the N-th
 * (default first) arrival at the named step kills the process with SIGKILL,
 * exactly like kill -9 from outside.  Steps are named where they are
 * called (queue.c, send.c, import.c); the integration tests use them to
 * prove a crash anywhere loses and duplicates nothing.
 */
void agent_crash_point(const char *step);

/* ---- http.c ------------------------------------------------------------ */

struct http_response {
	long status;              /* 0 when no answer arrived */
	char *body;               /* malloc'd, NUL-terminated; may be NULL */
	size_t len;
	long retry_after;         /* seconds from Retry-After, -1 if absent */
	char next_cursor[512];    /* from a Link rel="next" or X-Next-Cursor */
};

void http_response_free(struct http_response *resp);

/*
 * One request to a->server + path (path starts with '/', already encoded).
 * body may be NULL (then len is ignored); it is sent as application/json.
 * TRACE_OK when any HTTP answer arrived (see resp->status), TRACE_EIO when
 * the server could not be reached or the exchange broke off.  The caller
 * frees resp with http_response_free() in both cases.
 */
enum trace_status http_request(const struct agent *a, const char *method,
    const char *path, const char *accept, const char *body, size_t len,
    struct http_response *resp, struct trace_error *err);

/*
 * http_request() with up to attempts tries while the server is unreachable
 * or answers 500/502/503/504, waiting 1, 2, 4... seconds (at most 30) or
 * what Retry-After asks (at most 60) in between.  The last outcome is
 * returned; cmd names the command in the progress messages.
 */
enum trace_status http_exchange(const struct agent *a, const char *cmd,
    const char *method, const char *path, const char *accept,
    const char *body, size_t len, int attempts, struct http_response *resp,
    struct trace_error *err);

/*
 * PUT len bytes of data (binary) to a->server + path with one more header
 * line ("Name: value"): a document upload.  No total timeout (a large file
 * on a slow link takes what it takes); a transfer that stalls for the
 * agent's timeout is given up.  progress, if not NULL, is called as bytes
 * go out.  Results as http_request().
 */
enum trace_status http_upload(const struct agent *a, const char *path,
    const char *header, const void *data, size_t len,
    void (*progress)(void *arg, size_t sent, size_t total), void *arg,
    struct http_response *resp, struct trace_error *err);

/* True for the statuses http_exchange() retries. */
bool http_status_temporary(long status);

/*
 * Describe an error answer {"error":{"code","message","field"}} as
 * "STATUS code: message (field F)" into out.
 */
void http_describe_error(const struct http_response *resp, char *out,
    size_t size);

/* Parse a JSON answer with generous limits (a chain may be megabytes). */
enum trace_status http_response_json(const struct http_response *resp,
    struct json_doc **doc, struct trace_error *err);

/* ---- draft.c ------------------------------------------------------------ */

/* An event before it is placed on a chain: everything but seq, prev and
 * signer, which only the chain's head and the key decide. */
struct draft {
	enum event_type type;
	char gtin[GTIN14_LEN + 1];
	char lot[GS1_ATTR_MAX + 1];
	char time[TIME_TEXT_MAX + 1];
	char country[3];                 /* "" when absent */
	char *place;                     /* malloc'd; NULL when absent */
	struct json_doc *data;           /* object; NULL means {} */
};

/* Builds a draft's data object from name=value pairs. */
struct draft_data;

struct draft_data *draft_data_new(void);
void draft_data_free(struct draft_data *d);

/*
 * Add one field: value is taken as JSON when it parses as an integer,
 * object or array, as a string otherwise; a dotted name ("name.en")
 * creates nested objects.  Errors name the field ("data.name.en").
 */
enum trace_status draft_data_set(struct draft_data *d, const char *name,
    size_t name_len, const char *value, size_t value_len,
    struct trace_error *err);

/* Add every member of a JSON object text (a --data file). */
enum trace_status draft_data_merge_text(struct draft_data *d,
    const char *text, size_t len, struct trace_error *err);

/* The object built so far, as a parsed document (NULL when empty); the
 * caller frees it with json_doc_free(). */
enum trace_status draft_data_finish(struct draft_data *d,
    struct json_doc **out, struct trace_error *err);

/* Field setters that validate and normalise; errors name the field. */
enum trace_status draft_set_type(struct draft *d, const char *s,
    struct trace_error *err);
enum trace_status draft_set_gtin(struct draft *d, const char *s,
    struct trace_error *err);
enum trace_status draft_set_lot(struct draft *d, const char *s,
    struct trace_error *err);
/* s NULL or "": the current time. */
enum trace_status draft_set_time(struct draft *d, const char *s,
    struct trace_error *err);
enum trace_status draft_set_country(struct draft *d, const char *s,
    struct trace_error *err);
enum trace_status draft_set_place(struct draft *d, const char *s,
    struct trace_error *err);

/* Release what d owns (accepts NULL); d may be reused after. */
void draft_clear(struct draft *d);

/* The chain id "01/{gtin}/10/{lot}" of d into out (CHAIN_ID_MAX + 1). */
void draft_chain(const struct draft *d, char *out, size_t size);

/*
 * The payload of d at seq after prev (NULL at seq 0) signed by signer, in
 * a malloc'd buffer the caller frees.  Everything event_build() checks.
 */
enum trace_status draft_payload(const struct draft *d, const char *signer,
    long long seq, const unsigned char *prev, char **out, size_t *len,
    struct trace_error *err);

/*
 * Validate d without a chain: build it against a placeholder head (seq 0
 * for product.registered, seq 1 after a dummy id otherwise), so a bad
 * field is found before anything is queued or signed.
 */
enum trace_status draft_check(const struct draft *d, const char *signer,
    struct trace_error *err);

/* Write d as the "draft" object of a queue entry / read it back. */
void draft_write_json(const struct draft *d, struct json_writer *w);
enum trace_status draft_from_json(const struct json_value *v,
    struct draft *d, struct trace_error *err);

/* ---- queue.c ------------------------------------------------------------ */

#define QUEUE_NAME_MAX 40
#define QUEUE_ID_HEX (2 * SHA256_LEN)
#define QUEUE_SUPERSEDED_MAX 64
#define QUEUE_ENTRY_MAX (1024 * 1024)  /* bytes of one entry file */

struct queue {
	char dir[PATH_MAX];
	int lock_fd;
	unsigned long long next_counter;   /* next entry number to hand out */
};

/* One file of the queue. */
struct queue_entry {
	char name[QUEUE_NAME_MAX + 1];
	char created[TIME_TEXT_MAX + 1];
	char key_path[PATH_MAX];
	char keyid[KEYID_LEN + 1];
	char source[256];                   /* "file.csv:12" or "" */
	struct draft draft;
	bool has_envelope;                  /* envelope and id are set */
	struct dsse_envelope envelope;
	char id[QUEUE_ID_HEX + 1];
	/* ids this entry signed earlier and the server refused with 409 */
	char superseded[QUEUE_SUPERSEDED_MAX][QUEUE_ID_HEX + 1];
	size_t superseded_count;
};

/*
 * Open (creating) the folder, take its lock (waiting up to a minute for
 * another trace-agent), and finish or roll back what a killed process left
 * behind.  Release with queue_close(), which accepts a never-opened queue.
 */
enum trace_status queue_open(struct queue *q, const char *dir,
    struct trace_error *err);
void queue_close(struct queue *q);

/* The entry names in send order, a malloc'd array of malloc'd names that
 * the caller frees with queue_names_free(). */
enum trace_status queue_list(struct queue *q, char ***names, size_t *count,
    struct trace_error *err);
void queue_names_free(char **names, size_t count);

/* The counter part of an entry name (its position in the send order). */
unsigned long long queue_name_counter(const char *name);

/* Fill a new entry (not yet stored) from a draft; name is "". */
void queue_entry_init(struct queue_entry *e, const struct draft *d,
    const char *key_path, const char *keyid, const char *source);
void queue_entry_clear(struct queue_entry *e);

/* entry.c: an entry as the JSON text of its file (malloc'd, the caller
 * frees it), and back (e->name is left as it is). */
enum trace_status queue_entry_text(const struct queue_entry *e, char **out,
    size_t *len, struct trace_error *err);
enum trace_status queue_entry_parse(const char *text, size_t len,
    struct queue_entry *e, struct trace_error *err);

enum trace_status queue_entry_load(struct queue *q, const char *name,
    struct queue_entry *e, struct trace_error *err);

/* Append e as a new entry at the end of the send order (sets e->name). */
enum trace_status queue_append(struct queue *q, struct queue_entry *e,
    struct trace_error *err);

/* Atomically replace the stored entry e->name with e. */
enum trace_status queue_replace(struct queue *q, const struct queue_entry *e,
    struct trace_error *err);

/* Give e a signed envelope, remembering the id it replaces. */
void queue_entry_set_envelope(struct queue_entry *e,
    struct dsse_envelope *env);

/* Back to a draft: the envelope goes, its id joins "superseded".  Only
 * for a statement that can never be accepted (see rebase.c). */
void queue_entry_drop_envelope(struct queue_entry *e);

enum trace_status queue_remove(struct queue *q, const char *name,
    struct trace_error *err);

/*
 * Move the entry to rejected/ with why (JSON text: the server's answer or
 * our own error) next to it as NAME.error.json.  The path of the moved
 * entry is written to moved_to.
 */
enum trace_status queue_reject(struct queue *q, const char *name,
    const char *why, size_t why_len, char *moved_to, size_t size,
    struct trace_error *err);

/*
 * Import's all-or-nothing append: entries are staged in a hidden folder
 * and only become part of the queue once the whole set is written.
 */
struct queue_stage;

enum trace_status queue_stage_begin(struct queue *q, struct queue_stage **st,
    struct trace_error *err);
enum trace_status queue_stage_add(struct queue_stage *st,
    struct queue_entry *e, struct trace_error *err);
/*
 * Mark the stage as the import of a file whose content has this SHA-256
 * (hex); the mark becomes part of the queue exactly when the entries do,
 * so a file is never imported twice by accident, not even when a kill
 * hides from the person whether the first import got through.
 */
enum trace_status queue_stage_mark(struct queue_stage *st, const char *digest,
    const char *what, struct trace_error *err);
/* Was a file of this digest imported into q?  when gets the mark's text. */
bool queue_imported(struct queue *q, const char *digest, char *when,
    size_t size);
/* Make every staged entry part of the queue; frees st. */
enum trace_status queue_stage_commit(struct queue_stage *st,
    struct trace_error *err);
/* Drop everything staged; frees st.  Accepts NULL. */
void queue_stage_abort(struct queue_stage *st);

/* ---- send.c ------------------------------------------------------------- */

enum send_outcome {
	SEND_SENT,          /* accepted (now or earlier); entry removed */
	SEND_REJECTED,      /* refused for good; moved to rejected/ */
	SEND_KEPT,          /* still queued (server unreachable, key missing,
	                       chain not started yet, held...) */
};

/* What happened to one entry during a flush. */
struct send_report {
	const char *name;
	enum send_outcome outcome;
	char id[QUEUE_ID_HEX + 1];
	long long seq, log_index;
	bool rebased;              /* re-signed on a newer head */
	bool held;                 /* kept: the chain moved by statements the
	                              user must see first (rebase.c) */
	bool refused_kept;         /* kept although the server refused it:
	                              its time (stale_time, time_in_future) */
	char message[TRACE_ERROR_MESSAGE_MAX + 64];
};

struct send_options {
	const char *cmd;           /* for messages */
	int attempts;              /* per request, see http_exchange() */
	const char *only_chain;    /* NULL: every chain */
	bool quiet;                /* no per-entry lines on stderr */
	/* Statement ids the user has seen (send --seen): a 409 caused by
	 * them does not hold the chain (rebase.c). */
	const char *const *seen;
	size_t seen_count;
	/* Called after each entry (progress bar, own-entry lookup). */
	void (*on_entry)(const struct send_report *r, void *arg);
	void *arg;
};

struct send_totals {
	size_t sent, rejected, kept;
	size_t held;               /* kept because a chain moved under them by
	                              statements the user has not seen */
	bool unreachable;          /* what is kept waits only for time (server
	                              away, chain not started): try later */
};

/* Send the queue in order (see the comment at the top of send.c). */
enum trace_status send_flush(const struct agent *a, struct queue *q,
    const struct send_options *opt, struct send_totals *totals,
    struct trace_error *err);

/* ---- rebase.c ----------------------------------------------------------- */

#define REBASE_MOVED_IDS 16

/* The statements that moved a chain and that the user must see before a
 * queued statement is rebased over them. */
struct rebase_moved {
	size_t count;
	char text[2048];           /* one "  seq N TYPE ID signed by key K"
	                              line each */
	char ids[REBASE_MOVED_IDS][QUEUE_ID_HEX + 1];
	size_t id_count;
};

/*
 * Scan a chain answer (GET /api/v1/chains/...) for events at seq >= since
 * that are a recall.issued, a recall.closed, a correction or a failed
 * inspection.completed, and not among opt->seen.  Adds to out, which the
 * caller zeroes before the first page of a chain (11.6: one call a page).
 */
void rebase_check_moved(const struct json_value *chain, long long since,
    const struct send_options *opt, struct rebase_moved *out);

/* The data field by which a type names another statement ("corrects",
 * "recall"), or NULL. */
const char *rebase_reference_field(enum event_type type);

/*
 * Rewrite every queued reference (of only_chain, or of every chain when
 * NULL) that names an id an entry superseded to that entry's current id;
 * *rewritten counts the entries written.
 */
enum trace_status rebase_repair_references(struct queue *q,
    const char *only_chain, size_t *rewritten, struct trace_error *err);

/* ---- attachments.c ------------------------------------------------------ */

#define ATTACH_MAX 32                  /* --attach per event */
#define ATTACH_NAME_MAX 200            /* bytes, as event.c allows */
#define ATTACH_FILE_MAX (1024LL * 1024 * 1024)

/* A document an event names (data.attachments[i]), read into memory. */
struct attachment {
	char name[ATTACH_NAME_MAX + 1];
	char sha256[2 * SHA256_LEN + 1];
	enum blob_media media;
	unsigned char *data;           /* malloc'd: attachment_clear() */
	size_t len;
};

/*
 * record --attach FILE[:NAME]: read FILE whole (progress on stderr for a
 * large file), hash it and tell its media by its first bytes: PDF, JPEG
 * or PNG, anything else is refused here as the server would refuse it.
 * NAME defaults to the file's base name.
 */
enum trace_status attachment_read(const char *spec, struct attachment *out,
    struct trace_error *err);
void attachment_clear(struct attachment *at);

/*
 * Put at in q's blobs/ folder with an upload statement signed by kp, for
 * attachments_send() to upload before any event.
 */
enum trace_status attachment_queue(struct queue *q,
    const struct attachment *at, const struct key_pair *kp,
    struct trace_error *err);

/* The "attachments" array of an event's data for list[0..count), as JSON
 * text in a malloc'd buffer the caller frees (NULL without memory). */
char *attachments_json(const struct attachment *list, size_t count);

/*
 * Upload every document queued in q's blobs/ (send, before any event).
 * Uploaded (201, or 200: the server had it) leaves the queue; refused for
 * good moves to rejected/ with the answer; unreachable, 429 quota, 507 or
 * 5xx stay queued.  *kept counts those; *unreachable says whether any
 * waits only for the server.
 */
enum trace_status attachments_send(const struct agent *a, struct queue *q,
    const struct send_options *opt, size_t *sent, size_t *kept,
    bool *unreachable, struct trace_error *err);

/*
 * verify --attachments: download every document the bundle's events
 * name and check its SHA-256; prints one line each.  Returns the number
 * of problems; *unreachable (if not NULL) is set when the server could
 * not be asked.
 */
size_t attachments_verify(const struct agent *a, const struct bundle *b,
    bool *unreachable);

/* ---- verify.c and state.c: a log's memory ----------------------------- */

/* How a comparison with an earlier checkpoint ended. */
enum previous_outcome {
	PREVIOUS_OK,
	PREVIOUS_FAILED,
	PREVIOUS_UNREACHABLE,     /* no proof: the server was away */
	PREVIOUS_STALE,           /* a prefix of a larger tree remembered */
};

/*
 * The consistency proof from size from to size to, from the server
 * (GET /api/v1/proofs/consistency), into hashes (*count of them); why
 * says what went wrong otherwise.
 */
enum previous_outcome verify_fetch_consistency(const struct agent *a,
    uint64_t from, uint64_t to, unsigned char hashes[][MERKLE_HASH_LEN],
    size_t *count, char *why, size_t size);

/* The default --state DIR: $XDG_STATE_HOME/trace, else
 * $HOME/.local/state/trace; false when neither is set. */
bool state_default_dir(char *out, size_t size);

/*
 * verify --state DIR (SPEC 10): compare the bundle's verified checkpoint
 * (r->checkpoint_ok) with the largest one remembered for its log (origin
 * and key) in DIR, with a consistency proof from the server, and remember
 * it if it is larger.  from_server: the bundle is the server's answer of
 * now, so a smaller tree is a rollback; a bundle from a file may be older
 * (PREVIOUS_STALE when it is a proven prefix: a later tree exists, and
 * what was logged since, a recall perhaps, is not in the bundle).
 * A rollback or a fork prints FAIL, writes both signed checkpoints to an
 * evidence file in DIR/evidence/ (the report names it) and is
 * PREVIOUS_FAILED; the memory then stays as it was.
 */
enum previous_outcome state_check(const struct agent *a, const char *dir,
    const struct bundle *b, const struct bundle_report *r,
    const struct note_verifier *log_key, bool from_server);

/* ---- subcommands --------------------------------------------------------- */

int cmd_key(struct agent *a, int argc, char **argv);      /* key.c */
int cmd_record(struct agent *a, int argc, char **argv);   /* record.c */
int cmd_import(struct agent *a, int argc, char **argv);   /* import.c */
int cmd_send(struct agent *a, int argc, char **argv);     /* send.c */
int cmd_verify(struct agent *a, int argc, char **argv);   /* verify.c */
int cmd_monitor(struct agent *a, int argc, char **argv);  /* monitor.c */
int cmd_qr(struct agent *a, int argc, char **argv);       /* qr.c */
int cmd_recalls(struct agent *a, int argc, char **argv);  /* recalls.c */
int cmd_codes(struct agent *a, int argc, char **argv);    /* codes.c */

#endif
