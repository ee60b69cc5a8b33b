/*
 * witness.c - the log's witness client (SPEC 9, docs/PROTOCOL.md 9.8):
 * --witness-policy FILE names the witnesses (C2SP tlog-policy) and the
 * quorum; this module submits every checkpoint the integrator signs to
 * each of them (C2SP tlog-witness add-checkpoint), collects their
 * cosignatures (C2SP tlog-cosignature) and publishes, through the store,
 * the newest checkpoint whose cosignatures meet the quorum.  That note,
 * the log's signature followed by the cosignature lines, is what
 * /api/v1/checkpoint, bundles and pages then carry.
 *
 * One thread per witness, so a slow or dead witness delays nobody: not
 * ingest, not the integrator (witness_offer() only copies the note under
 * a mutex), not the other witnesses.  Each thread keeps what it knows of
 * its witness: the size the witness last cosigned (learnt from a 200, or
 * from the body of a 409, which is how a restarted server resyncs), the
 * last few cosignatures it made (so a quorum can be found even while the
 * witnesses are on different checkpoints), and a backoff after failures
 * (WITNESS_BACKOFF_FIRST_MS doubling to WITNESS_BACKOFF_MAX_MS).  Every
 * request is bounded by WITNESS_TIMEOUT_MS.  A witness that holds a
 * bigger tree, or another tree of the same size, is a fork or a rollback
 * of this log: nothing is published from it, and /readyz says so.
 *
 * With nothing new to sign, the latest checkpoint is submitted again
 * every WITNESS_REFRESH_MS (5 minutes), so the cosignatures' timestamps
 * show how fresh the witnesses' view is.  Only the process holding the
 * log key submits; every process with a policy serves what is published,
 * and folds its own views against its size (witness_pending_from: a
 * statement the published checkpoint does not cover is pending, SPEC 9).
 */
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "libtrace/codes.h"
#include "libtrace/cosign.h"
#include "libtrace/fileio.h"
#include "libtrace/tlogpolicy.h"
#include "libtrace/tlogwitness.h"
#include "log.h"
#include "monotonic.h"

#define WITNESS_HISTORY 16           /* cosignatures kept per witness */
#define WITNESS_ANSWER_MAX 8192      /* bytes read of a witness's answer */
#define WITNESS_NOTE_MAX 1024        /* our own checkpoint notes fit */
#define WITNESS_RESYNC_MAX 3         /* 409s followed in one submission */
#define WITNESS_SIGNED_RING 64       /* signing times kept for the lag */

struct cosigned {
	uint64_t size;
	unsigned char root[MERKLE_HASH_LEN];
	uint64_t timestamp;
	char note[WITNESS_NOTE_MAX];         /* the log's note it cosigned */
	size_t note_len;
	char line[COSIGN_LINE_MAX];          /* the cosignature line */
	size_t line_len;
};

struct peer {
	size_t index;                        /* in the policy */
	char url[TLOG_POLICY_URL_MAX + 32];  /* .../add-checkpoint */
	pthread_t thread;
	bool started;
	/* The rest is guarded by client.lock. */
	bool size_known;
	uint64_t size;                       /* the witness's latest size */
	struct cosigned history[WITNESS_HISTORY];
	size_t history_count, history_next;
	long long last_ok_ms;                /* monotonic; 0: never */
	uint64_t last_ok_size;
	unsigned char last_ok_root[MERKLE_HASH_LEN];
	long long next_try_ms, backoff_ms;
	char error[300];                     /* "" after a success */
	unsigned long long cosignatures, conflicts, failures;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;                 /* on the monotonic clock */
	pthread_mutex_t publish_lock;        /* one publication at a time */
	atomic_bool running;
	atomic_bool stop;
	struct server *srv;
	size_t peer_count;
	struct peer peers[TLOG_POLICY_WITNESSES_MAX];
	/* The latest checkpoint the log signed. */
	char note[WITNESS_NOTE_MAX];
	size_t note_len;
	struct checkpoint cp;
	/* When recent checkpoints were signed (monotonic), oldest first. */
	struct {
		uint64_t size;
		long long ms;
	} ring[WITNESS_SIGNED_RING];
	size_t ring_first, ring_count;
	/* What is published. */
	bool published;
	uint64_t published_size;
	unsigned char published_root[MERKLE_HASH_LEN];
	uint64_t published_ts[TLOG_POLICY_WITNESSES_MAX];
	long long behind_since_ms;           /* 0: the published one is the latest */
	unsigned long long publications;
} client = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.publish_lock = PTHREAD_MUTEX_INITIALIZER,
};

/* ---- the policy ------------------------------------------------------------ */

/*
 * --witness-display NAME=TEXT;...: each NAME a witness of the policy, once;
 * TEXT what pages show for it (escaped there, but checked here anyway:
 * valid UTF-8 without control, bidi or invisible characters).
 */
static int
load_display(struct server *srv, const struct tlog_policy *policy)
{
	const char *p = srv->cfg.witness_display;

	memset(srv->witness_display, 0, sizeof(srv->witness_display));
	while (*p != '\0') {
		const char *end = strchr(p, ';'), *eq;
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p), i;

		eq = memchr(p, '=', len);
		for (i = 0; eq != NULL && i < policy->witness_count; i++)
			if (strlen(policy->witnesses[i].name) == (size_t)(eq - p) &&
			    memcmp(policy->witnesses[i].name, p, eq - p) == 0)
				break;
		if (eq == NULL || i == policy->witness_count) {
			fprintf(stderr, "trace-server: --witness-display %.*s: "
			    "want NAME=TEXT with NAME a witness of the policy\n",
			    (int)len, p);
			return -1;
		}
		len -= (size_t)(eq + 1 - p);
		if (len == 0 || len > WITNESS_DISPLAY_MAX ||
		    !text_valid(eq + 1, len, WITNESS_DISPLAY_MAX, false) ||
		    !text_visible(eq + 1, len) ||
		    srv->witness_display[i][0] != '\0') {
			fprintf(stderr, "trace-server: --witness-display for %s: "
			    "1-%d bytes of text without control or invisible "
			    "characters, once per witness\n",
			    policy->witnesses[i].name,
			    WITNESS_DISPLAY_MAX);
			return -1;
		}
		memcpy(srv->witness_display[i], eq + 1, len);
		p += (size_t)(eq + 1 - p) + len;
		if (*p == ';')
			p++;
	}
	return 0;
}

const char *
witness_display_name(const struct server *srv, size_t i)
{
	return srv->witness_display[i][0] != '\0' ? srv->witness_display[i] :
	    srv->witness_policy->witnesses[i].name;
}

int
witness_load_policy(struct server *srv)
{
	struct tlog_policy *policy = NULL;
	struct trace_error err;
	char *text = NULL;
	size_t len = 0;
	bool ours = false;

	if (srv->cfg.witness_policy[0] == '\0')
		return 0;
	if (file_read_all(srv->cfg.witness_policy, TLOG_POLICY_TEXT_MAX, &text,
	    &len, &err) != TRACE_OK ||
	    tlog_policy_parse(text, len, &policy, &err) != TRACE_OK) {
		fprintf(stderr, "trace-server: --witness-policy %s: %s%s%s\n",
		    srv->cfg.witness_policy, err.field,
		    err.field[0] != '\0' ? ": " : "", err.message);
		free(text);
		return -1;
	}
	/* tlog-policy: the log is named by its vkey, whose name is the
	 * checkpoints' origin. */
	for (size_t i = 0; i < policy->log_count; i++)
		if (strcmp(policy->logs[i].key.name, srv->cfg.log_origin) == 0 &&
		    memcmp(policy->logs[i].key.public_key,
		    srv->log_key.public_key, ED25519_PUBLIC_LEN) == 0)
			ours = true;
	if (!ours) {
		fprintf(stderr, "trace-server: --witness-policy %s: no log "
		    "line has this server's log key under origin %s\n",
		    srv->cfg.witness_policy, srv->cfg.log_origin);
		goto fail;
	}
	/* Nothing would ever be cosigned, so nothing published. */
	if (policy->quorum == TLOG_POLICY_NONE) {
		fprintf(stderr, "trace-server: --witness-policy %s: the quorum "
		    "is none: leave --witness-policy out to serve checkpoints "
		    "without witnesses\n", srv->cfg.witness_policy);
		goto fail;
	}
	for (size_t i = 0; srv->log_key.has_secret &&
	    i < policy->witness_count; i++)
		if (policy->witnesses[i].url[0] == '\0' ||
		    (strncmp(policy->witnesses[i].url, "http://", 7) != 0 &&
		    strncmp(policy->witnesses[i].url, "https://", 8) != 0)) {
			fprintf(stderr, "trace-server: --witness-policy %s: "
			    "witness %s needs an http:// or https:// URL (its "
			    "submission prefix)\n", srv->cfg.witness_policy,
			    policy->witnesses[i].name);
			goto fail;
		}
	if (load_display(srv, policy) != 0)
		goto fail;
	srv->witness_policy = policy;
	srv->witness_policy_text = text;
	return 0;
fail:
	free(text);
	tlog_policy_free(policy);
	return -1;
}

/* ---- state (client.lock held) ---------------------------------------------- */

static void
peer_fail(struct peer *p, bool conflict, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
peer_fail(struct peer *p, bool conflict, const char *fmt, ...)
{
	char message[sizeof(p->error)];
	long long now = monotonic_ms();
	bool changed;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&client.lock);
	changed = strcmp(p->error, message) != 0;
	snprintf(p->error, sizeof(p->error), "%s", message);
	if (conflict)
		p->conflicts++;
	else
		p->failures++;
	p->backoff_ms = p->backoff_ms == 0 ? WITNESS_BACKOFF_FIRST_MS :
	    p->backoff_ms * 2;
	if (p->backoff_ms > WITNESS_BACKOFF_MAX_MS)
		p->backoff_ms = WITNESS_BACKOFF_MAX_MS;
	p->next_try_ms = now + p->backoff_ms;
	pthread_mutex_unlock(&client.lock);
	if (changed)
		fprintf(stderr, "trace-server: witness %s: %s\n",
		    client.srv->witness_policy->witnesses[p->index].name,
		    message);
}

static bool
has_cosigned(const struct peer *p, uint64_t size,
    const unsigned char root[MERKLE_HASH_LEN], size_t *at)
{
	for (size_t i = 0; i < p->history_count; i++)
		if (p->history[i].size == size &&
		    memcmp(p->history[i].root, root, MERKLE_HASH_LEN) == 0) {
			if (at != NULL)
				*at = i;
			return true;
		}
	return false;
}

/* The signing time of the oldest recent checkpoint bigger than size. */
static long long
signed_after(uint64_t size)
{
	for (size_t i = 0; i < client.ring_count; i++) {
		size_t k = (client.ring_first + i) % WITNESS_SIGNED_RING;

		if (client.ring[k].size > size)
			return client.ring[k].ms;
	}
	return 0;
}

static void
note_signed(const char *note, size_t len, const struct checkpoint *cp)
{
	long long now = monotonic_ms();
	size_t k;

	memcpy(client.note, note, len);
	client.note[len] = '\0';
	client.note_len = len;
	client.cp = *cp;
	client.cp.extensions = NULL;
	client.cp.extensions_len = 0;
	if (client.ring_count == WITNESS_SIGNED_RING) {
		client.ring_first = (client.ring_first + 1) % WITNESS_SIGNED_RING;
		client.ring_count--;
	}
	k = (client.ring_first + client.ring_count++) % WITNESS_SIGNED_RING;
	client.ring[k].size = cp->size;
	client.ring[k].ms = now;
	/* Not covered: bigger, or (a fork) as big with another root. */
	if ((!client.published || cp->size > client.published_size ||
	    (cp->size == client.published_size && memcmp(cp->root,
	    client.published_root, MERKLE_HASH_LEN) != 0)) &&
	    client.behind_since_ms == 0)
		client.behind_since_ms = now;
}

void
witness_offer(const char *note, size_t len)
{
	struct checkpoint cp;

	if (!atomic_load(&client.running) || len >= WITNESS_NOTE_MAX ||
	    !log_checkpoint_read(note, len, &cp))
		return;
	pthread_mutex_lock(&client.lock);
	note_signed(note, len, &cp);
	pthread_cond_broadcast(&client.wake);
	pthread_mutex_unlock(&client.lock);
}

/* ---- the published size, as the views fold against it -------------------- */

/* -1: not read yet.  Read and written by any worker, without a lock:
 * a reader sees a size at most WITNESS_VIEW_MS old either way. */
static atomic_llong view_size = -1;
static atomic_llong view_read_ms;

/* This process published size (or read it from the store). */
static void
view_learn(long long size)
{
	atomic_store(&view_size, size);
	atomic_store(&view_read_ms, monotonic_ms());
}

long long
witness_pending_from(struct request *req)
{
	long long size = atomic_load(&view_size), now = monotonic_ms();
	struct checkpoint cp;
	struct trace_error err;
	char *note = NULL;
	size_t len = 0;

	if (req->srv->witness_policy == NULL)
		return LLONG_MAX;
	if (req->pending_known)
		return req->pending_from;
	if (size < 0 || now - atomic_load(&view_read_ms) >= WITNESS_VIEW_MS) {
		if (store_log_witnessed(req->worker->store, &note, &len,
		    &err) == TRACE_OK) {
			/* None published yet: everything is pending. */
			size = note != NULL && log_checkpoint_read(note, len,
			    &cp) ? (long long)cp.size : 0;
			view_learn(size);
		}
		free(note);
	}
	/* A store that never answered yet: nothing is witnessed. */
	req->pending_from = size < 0 ? 0 : size;
	req->pending_known = true;
	return req->pending_from;
}

/* ---- publishing ------------------------------------------------------------ */

/*
 * Find the newest checkpoint that enough witnesses cosigned and, if it is
 * newer than the published one or has fresher cosignatures, publish it:
 * the log's note with the cosignature lines appended in policy order,
 * checked once more against the whole policy before it goes out.
 */
static void
publish(struct store *s)
{
	const struct tlog_policy *policy = client.srv->witness_policy;
	bool witnessed[TLOG_POLICY_WITNESSES_MAX], found = false, fresher;
	uint64_t best_size = 0, stamps[TLOG_POLICY_WITNESSES_MAX];
	unsigned char best_root[MERKLE_HASH_LEN];
	struct tlog_policy_result res;
	struct trace_error err;
	struct buf text;

	buf_init(&text, 0);
	pthread_mutex_lock(&client.publish_lock);
	pthread_mutex_lock(&client.lock);
	for (size_t i = 0; i < client.peer_count; i++) {
		const struct peer *p = &client.peers[i];

		for (size_t h = 0; h < p->history_count; h++) {
			const struct cosigned *c = &p->history[h];

			if ((found && c->size <= best_size) ||
			    (client.published && c->size <
			    client.published_size))
				continue;
			memset(witnessed, 0, sizeof(witnessed));
			for (size_t j = 0; j < client.peer_count; j++)
				witnessed[client.peers[j].index] =
				    has_cosigned(&client.peers[j], c->size,
				    c->root, NULL);
			if (tlog_policy_quorum_met(policy, witnessed)) {
				found = true;
				best_size = c->size;
				memcpy(best_root, c->root, MERKLE_HASH_LEN);
			}
		}
	}
	if (!found) {
		pthread_mutex_unlock(&client.lock);
		goto out;
	}
	fresher = !client.published || best_size > client.published_size;
	memset(stamps, 0, sizeof(stamps));
	for (size_t i = 0; i < client.peer_count; i++) {
		const struct peer *p = &client.peers[i];
		size_t at;

		if (!has_cosigned(p, best_size, best_root, &at))
			continue;
		if (text.len == 0)
			buf_append(&text, p->history[at].note,
			    p->history[at].note_len);
		buf_append(&text, p->history[at].line, p->history[at].line_len);
		stamps[p->index] = p->history[at].timestamp;
		if (stamps[p->index] > client.published_ts[p->index])
			fresher = true;
	}
	pthread_mutex_unlock(&client.lock);
	if (!fresher || text.failed)
		goto out;
	/* Belt and braces: only a note that meets the policy goes out. */
	if (tlog_policy_verify(policy, text.data, text.len, &res, &err) !=
	    TRACE_OK || !res.quorum) {
		fprintf(stderr, "trace-server: witness: not publishing size %"
		    PRIu64 ": %s\n", best_size, err.message);
		goto out;
	}
	if (store_log_witnessed_set(s, text.data, text.len, best_size, &err) !=
	    TRACE_OK) {
		fprintf(stderr, "trace-server: witness: publishing size %" PRIu64
		    ": %s\n", best_size, err.message);
		goto out;
	}
	view_learn((long long)best_size);
	pthread_mutex_lock(&client.lock);
	client.published = true;
	client.published_size = best_size;
	memcpy(client.published_root, best_root, MERKLE_HASH_LEN);
	memcpy(client.published_ts, stamps, sizeof(stamps));
	client.publications++;
	client.behind_since_ms = client.cp.size > best_size ?
	    signed_after(best_size) : 0;
	if (client.cp.size > best_size && client.behind_since_ms == 0)
		client.behind_since_ms = monotonic_ms();
	pthread_mutex_unlock(&client.lock);
out:
	pthread_mutex_unlock(&client.publish_lock);
	buf_free(&text);
}

/* ---- one submission -------------------------------------------------------- */

struct answer {
	char data[WITNESS_ANSWER_MAX + 1];
	size_t len;
	bool too_big;
};

static size_t
on_answer(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct answer *a = arg;
	size_t n = size * nmemb;

	if (a->len + n > WITNESS_ANSWER_MAX) {
		a->too_big = true;
		return 0;
	}
	memcpy(a->data + a->len, ptr, n);
	a->len += n;
	a->data[a->len] = '\0';
	return n;
}

/* POST body to the witness; false (with why) when no HTTP answer came. */
static bool
post(const struct peer *p, const char *body, size_t len, long *status,
    char *ctype, size_t ctype_size, struct answer *a, char *why,
    size_t why_size)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *headers = NULL;
	char *type = NULL;
	CURLcode rc;

	a->len = 0;
	a->too_big = false;
	a->data[0] = '\0';
	ctype[0] = '\0';
	if (curl == NULL) {
		snprintf(why, why_size, "out of memory");
		return false;
	}
	headers = curl_slist_append(NULL, "Content-Type: text/plain");
	curl_easy_setopt(curl, CURLOPT_URL, p->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)WITNESS_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)WITNESS_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "trace-server");
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
		if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type) ==
		    CURLE_OK && type != NULL)
			snprintf(ctype, ctype_size, "%s", type);
	} else {
		snprintf(why, why_size, "%s", a->too_big ? "answer too long" :
		    curl_easy_strerror(rc));
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return rc == CURLE_OK;
}

/* Keep the first line of the answer that is this witness's valid
 * cosignature of note (tlog-witness: the body is signature lines). */
static bool
take_cosignature(struct peer *p, const char *note, size_t note_len,
    const struct checkpoint *cp, const struct answer *a)
{
	const struct note_verifier *key =
	    &client.srv->witness_policy->witnesses[p->index].key;
	size_t at = 0;

	while (at < a->len) {
		const char *nl = memchr(a->data + at, '\n', a->len - at);
		size_t line_len = nl == NULL ? 0 : (size_t)(nl - a->data - at) + 1;
		char whole[WITNESS_NOTE_MAX + COSIGN_LINE_MAX];
		uint64_t ts = 0;
		struct cosigned *c;

		if (nl == NULL)
			break;
		if (line_len < COSIGN_LINE_MAX) {
			memcpy(whole, note, note_len);
			memcpy(whole + note_len, a->data + at, line_len);
			if (cosign_verify(whole, note_len + line_len, key, &ts,
			    NULL) == TRACE_OK) {
				pthread_mutex_lock(&client.lock);
				c = &p->history[p->history_next];
				p->history_next = (p->history_next + 1) %
				    WITNESS_HISTORY;
				if (p->history_count < WITNESS_HISTORY)
					p->history_count++;
				c->size = cp->size;
				memcpy(c->root, cp->root, MERKLE_HASH_LEN);
				c->timestamp = ts;
				memcpy(c->note, note, note_len);
				c->note_len = note_len;
				memcpy(c->line, a->data + at, line_len);
				c->line[line_len] = '\0';
				c->line_len = line_len;
				p->size_known = true;
				p->size = cp->size;
				p->last_ok_ms = monotonic_ms();
				p->last_ok_size = cp->size;
				memcpy(p->last_ok_root, cp->root,
				    MERKLE_HASH_LEN);
				p->backoff_ms = 0;
				p->next_try_ms = 0;
				p->error[0] = '\0';
				p->cosignatures++;
				pthread_mutex_unlock(&client.lock);
				return true;
			}
		}
		at += line_len;
	}
	return false;
}

/*
 * Submit note (checkpoint cp) to witness p: old size = what we know of
 * the witness, a consistency proof from there; on 409, resync to the
 * size it names and try again (C2SP tlog-witness "add-checkpoint").
 */
static void
submit(struct peer *p, struct store **s, const char *note, size_t note_len,
    const struct checkpoint *cp)
{
	unsigned char proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	struct answer a;
	struct trace_error err;
	char ctype[128], why[256];

	for (int attempt = 0; attempt <= WITNESS_RESYNC_MAX; attempt++) {
		uint64_t old, size;
		size_t count = 0, body_len = 0;
		char *body = NULL;
		long status = 0;
		bool answered;

		pthread_mutex_lock(&client.lock);
		old = p->size_known ? p->size : 0;
		pthread_mutex_unlock(&client.lock);
		if (old > cp->size) {
			peer_fail(p, true, "the witness cosigned size %" PRIu64
			    ", more than this log's %" PRIu64 ": a fork or a "
			    "rollback of the log; nothing it cosigns is "
			    "published until the log is consistent with it",
			    old, cp->size);
			return;
		}
		if (old > 0 && old < cp->size) {
			if (*s == NULL && (*s = store_open(&client.srv->redis,
			    &err)) == NULL) {
				peer_fail(p, false, "%s", err.message);
				return;
			}
			if (log_prove_consistency(*s, old, cp->size, proof,
			    &count, &err) != TRACE_OK) {
				peer_fail(p, false, "no consistency proof from "
				    "%" PRIu64 " to %" PRIu64 ": %s", old,
				    cp->size, err.message);
				if (err.status == TRACE_ESTORE) {
					store_close(*s);
					*s = NULL;
				}
				return;
			}
		}
		if (tlog_witness_request_format(old,
		    (const unsigned char (*)[MERKLE_HASH_LEN])proof, count,
		    note, note_len, &body, &body_len, &err) != TRACE_OK) {
			peer_fail(p, false, "%s", err.message);
			return;
		}
		answered = post(p, body, body_len, &status, ctype,
		    sizeof(ctype), &a, why, sizeof(why));
		free(body);
		if (!answered) {
			peer_fail(p, false, "%s", why);
			return;
		}
		if (status == 200) {
			if (!take_cosignature(p, note, note_len, cp, &a))
				peer_fail(p, false, "answered 200 without a "
				    "valid cosignature by its key");
			return;
		}
		if (status == 409 && strncmp(ctype, TLOG_WITNESS_SIZE_TYPE,
		    strlen(TLOG_WITNESS_SIZE_TYPE)) == 0) {
			if (tlog_witness_size_parse(a.data, a.len, &size,
			    &err) != TRACE_OK) {
				peer_fail(p, false, "409 with a bad size: %s",
				    err.message);
				return;
			}
			if (size == old) {
				/* It holds another tree of the same size. */
				peer_fail(p, true, "the witness cosigned "
				    "another tree of size %" PRIu64 ": a fork "
				    "of this log", size);
				return;
			}
			pthread_mutex_lock(&client.lock);
			p->size_known = true;
			p->size = size;
			p->conflicts++;
			pthread_mutex_unlock(&client.lock);
			continue;
		}
		/* The witness's words, first line only, for /readyz. */
		a.data[strcspn(a.data, "\r\n")] = '\0';
		if (status == 422)
			/* Its tree is not a prefix of ours. */
			peer_fail(p, true, "HTTP 422 for the consistency proof "
			    "from its size %" PRIu64 ": this log is a fork of "
			    "what it cosigned: %.120s", old, a.data);
		else
			peer_fail(p, false, "HTTP %ld%s%.120s", status,
			    a.data[0] != '\0' ? ": " : "", a.data);
		return;
	}
	peer_fail(p, false, "the witness's size kept changing (%d resyncs)",
	    WITNESS_RESYNC_MAX);
}

static void *
peer_main(void *arg)
{
	struct peer *p = arg;
	struct store *s = NULL;
	char note[WITNESS_NOTE_MAX];
	size_t note_len;
	struct checkpoint cp;

	pthread_mutex_lock(&client.lock);
	while (!atomic_load(&client.stop)) {
		long long now = monotonic_ms();
		bool due = client.note_len > 0 && now >= p->next_try_ms &&
		    (p->last_ok_ms == 0 || p->last_ok_size != client.cp.size ||
		    memcmp(p->last_ok_root, client.cp.root,
		    MERKLE_HASH_LEN) != 0 ||
		    now - p->last_ok_ms >= WITNESS_REFRESH_MS);
		struct timespec until;

		if (!due) {
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_nsec += 200 * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&client.wake, &client.lock,
			    &until);
			continue;
		}
		memcpy(note, client.note, client.note_len);
		note_len = client.note_len;
		cp = client.cp;
		pthread_mutex_unlock(&client.lock);
		submit(p, &s, note, note_len, &cp);
		if (s == NULL)
			s = store_open(&client.srv->redis, NULL);
		if (s != NULL)
			publish(s);
		pthread_mutex_lock(&client.lock);
	}
	pthread_mutex_unlock(&client.lock);
	store_close(s);
	return NULL;
}

/* ---- start, stop ----------------------------------------------------------- */

/*
 * Pick up where the last run left off: the latest checkpoint in Redis if
 * it is the log key's (submitted again: witnesses that have it cosign it
 * afresh), and the published witnessed one if it still meets the policy.
 */
static void
resume(struct server *srv)
{
	struct note_verifier v;
	struct tlog_policy_result res;
	struct checkpoint cp;
	struct trace_error err;
	struct store *s = store_open(&srv->redis, &err);
	char *note = NULL;
	size_t len = 0;
	uint64_t integrated;

	if (s == NULL)
		return;
	if (note_verifier_from_public(srv->cfg.log_origin,
	    srv->log_key.public_key, &v, &err) == TRACE_OK &&
	    store_log_head(s, &integrated, &note, &len, &err) == TRACE_OK &&
	    note != NULL && len < WITNESS_NOTE_MAX &&
	    checkpoint_open(note, len, &v, &cp, &err) == TRACE_OK) {
		/* Unless the integrator offered a newer one meanwhile. */
		pthread_mutex_lock(&client.lock);
		if (client.note_len == 0 || client.cp.size < cp.size)
			note_signed(note, len, &cp);
		pthread_mutex_unlock(&client.lock);
	}
	free(note);
	note = NULL;
	if (store_log_witnessed(s, &note, &len, &err) == TRACE_OK &&
	    note != NULL && tlog_policy_verify(srv->witness_policy, note, len,
	    &res, &err) == TRACE_OK && res.quorum) {
		pthread_mutex_lock(&client.lock);
		client.published = true;
		client.published_size = res.checkpoint.size;
		memcpy(client.published_root, res.checkpoint.root,
		    MERKLE_HASH_LEN);
		if (client.note_len > 0 && (client.cp.size <
		    res.checkpoint.size || memcmp(client.cp.root,
		    res.checkpoint.root, MERKLE_HASH_LEN) == 0))
			client.behind_since_ms = 0;
		pthread_mutex_unlock(&client.lock);
	}
	free(note);
	store_close(s);
}

int
witness_start(struct server *srv)
{
	const struct tlog_policy *policy = srv->witness_policy;

	if (policy == NULL || !srv->log_key.has_secret)
		return 0;
	client.srv = srv;
	atomic_store(&client.stop, false);
	client.peer_count = policy->witness_count;
	for (size_t i = 0; i < client.peer_count; i++) {
		struct peer *p = &client.peers[i];
		const char *url = policy->witnesses[i].url;
		size_t n = strlen(url);

		p->index = i;
		/* The URL is the submission prefix (tlog-witness). */
		while (n > 0 && url[n - 1] == '/')
			n--;
		snprintf(p->url, sizeof(p->url), "%.*s/add-checkpoint", (int)n,
		    url);
	}
	{
		pthread_condattr_t attr;

		/* Waits are timeouts: the monotonic clock (STYLE.md). */
		pthread_condattr_init(&attr);
		pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		pthread_cond_init(&client.wake, &attr);
		pthread_condattr_destroy(&attr);
	}
	/* Offers from the integrator count from now on, resume() or not. */
	atomic_store(&client.running, true);
	resume(srv);
	for (size_t i = 0; i < client.peer_count; i++) {
		if (pthread_create(&client.peers[i].thread, NULL, peer_main,
		    &client.peers[i]) != 0) {
			fprintf(stderr, "trace-server: cannot start the "
			    "witness threads\n");
			witness_stop();
			return -1;
		}
		client.peers[i].started = true;
	}
	return 0;
}

void
witness_stop(void)
{
	if (!atomic_load(&client.running))
		return;
	atomic_store(&client.stop, true);
	pthread_mutex_lock(&client.lock);
	pthread_cond_broadcast(&client.wake);
	pthread_mutex_unlock(&client.lock);
	for (size_t i = 0; i < client.peer_count; i++)
		if (client.peers[i].started) {
			pthread_join(client.peers[i].thread, NULL);
			client.peers[i].started = false;
		}
	atomic_store(&client.running, false);
	pthread_cond_destroy(&client.wake);
}

/* ---- reports ---------------------------------------------------------------- */

static long long
lag_seconds(long long now)
{
	return client.behind_since_ms == 0 ? 0 :
	    (now - client.behind_since_ms) / 1000;
}

bool
witness_status(struct buf *out, long long *lag)
{
	const struct tlog_policy *policy;
	long long now = monotonic_ms();

	if (!atomic_load(&client.running))
		return false;
	policy = client.srv->witness_policy;
	pthread_mutex_lock(&client.lock);
	*lag = lag_seconds(now);
	for (size_t i = 0; i < client.peer_count; i++) {
		const struct peer *p = &client.peers[i];

		buf_printf(out, "witness %s:", policy->witnesses[p->index].name);
		if (p->last_ok_ms != 0)
			buf_printf(out, " cosigned size %" PRIu64 " %lld s ago",
			    p->last_ok_size, (now - p->last_ok_ms) / 1000);
		else
			buf_puts(out, " nothing cosigned yet");
		if (p->error[0] != '\0')
			buf_printf(out, "; last attempt: %s", p->error);
		buf_puts(out, "\n");
	}
	pthread_mutex_unlock(&client.lock);
	return true;
}

/* A Prometheus label value: policy names have no white space, but may
 * have '"' or '\\'. */
static void
label(struct buf *out, const char *name)
{
	for (const char *c = name; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			buf_puts(out, "\\");
		buf_append(out, c, 1);
	}
}

void
witness_metrics_render(struct buf *out)
{
	static const struct {
		const char *name, *type, *help;
	} per[] = {
		{ "trace_witness_cosignatures_total", "counter",
		  "Cosignatures received from the witness." },
		{ "trace_witness_conflicts_total", "counter",
		  "409 answers (resyncs) and forks or rollbacks reported." },
		{ "trace_witness_failures_total", "counter",
		  "Submissions that failed (network, timeout, other status)." },
		{ "trace_witness_cosigned_size", "gauge",
		  "Size of the latest checkpoint the witness cosigned for us." },
	};
	const struct tlog_policy *policy;
	long long now = monotonic_ms();

	if (!atomic_load(&client.running))
		return;
	policy = client.srv->witness_policy;
	pthread_mutex_lock(&client.lock);
	buf_printf(out, "# HELP trace_witness_lag_seconds Seconds since the "
	    "log signed a checkpoint that the published witnessed checkpoint "
	    "does not cover (0 when caught up).\n"
	    "# TYPE trace_witness_lag_seconds gauge\n"
	    "trace_witness_lag_seconds %lld\n"
	    "# HELP trace_witness_published_size Size of the published "
	    "checkpoint that meets the witness quorum.\n"
	    "# TYPE trace_witness_published_size gauge\n"
	    "trace_witness_published_size %" PRIu64 "\n"
	    "# HELP trace_witness_publications_total Witnessed checkpoints "
	    "published.\n# TYPE trace_witness_publications_total counter\n"
	    "trace_witness_publications_total %llu\n", lag_seconds(now),
	    client.published ? client.published_size : 0,
	    client.publications);
	for (size_t m = 0; m < sizeof(per) / sizeof(per[0]); m++) {
		buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", per[m].name,
		    per[m].help, per[m].name, per[m].type);
		for (size_t i = 0; i < client.peer_count; i++) {
			const struct peer *p = &client.peers[i];
			unsigned long long v = m == 0 ? p->cosignatures :
			    m == 1 ? p->conflicts : m == 2 ? p->failures :
			    p->last_ok_ms != 0 ? p->last_ok_size : 0;

			buf_printf(out, "%s{witness=\"", per[m].name);
			label(out, policy->witnesses[p->index].name);
			buf_printf(out, "\"} %llu\n", v);
		}
	}
	pthread_mutex_unlock(&client.lock);
}
