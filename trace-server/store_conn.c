/*
 * store_conn.c - the store's connections and the one path every Redis
 * command takes: connecting to a store_address (parse.c reads it from
 * --redis) directly or through Sentinel, with AUTH and a ROLE check, the
 * pipeline that reconnects and resends once when a connection broke, single
 * commands and batches (store_private.h), WAIT after appends, and loading
 * and checking the Functions of store.lua.
 *
 * A struct store is owned by one worker thread (hiredis contexts are not
 * thread-safe).  Every call reconnects once if the connection broke, then
 * reports TRACE_ESTORE so the handler answers 503 with Retry-After.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "store_private.h"

struct store {
	struct store_address addr;
	redisContext *ctx;
};

void
store_address_describe(const struct store_address *a, char *out, size_t size)
{
	const char *auth = a->password[0] != '\0' ? ":***@" : "";
	size_t used;

	if (a->unix_socket) {
		snprintf(out, size, "unix:%s", a->path);
		return;
	}
	if (!a->sentinel) {
		snprintf(out, size, "redis://%s%s%s:%d", a->user, auth, a->host,
		    a->port);
		return;
	}
	snprintf(out, size, "sentinel://%s%s", a->user, auth);
	for (size_t i = 0; i < a->sentinel_count; i++) {
		used = strlen(out);
		snprintf(out + used, size - used, "%s%s:%d", i > 0 ? "," : "",
		    a->sentinels[i].host, a->sentinels[i].port);
	}
	used = strlen(out);
	snprintf(out + used, size - used, "/%s", a->master);
}

/* Open one TCP or unix connection with our timeouts; NULL on failure. */
static redisContext *
connect_node(const char *host, int port, const char *path, long connect_ms,
    long command_ms)
{
	struct timeval connect_tv = { connect_ms / 1000, connect_ms % 1000 * 1000 };
	struct timeval command_tv = { command_ms / 1000, command_ms % 1000 * 1000 };
	redisContext *c;

	if (path != NULL)
		c = redisConnectUnixWithTimeout(path, connect_tv);
	else
		c = redisConnectWithTimeout(host, port, connect_tv);
	if (c == NULL)
		return NULL;
	if (c->err != 0 || redisSetTimeout(c, command_tv) != REDIS_OK) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/* Run one command that must not fail; the reply or NULL (freed: caller). */
static redisReply *
node_command(redisContext *c, int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);

	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		freeReplyObject(r);
		r = NULL;
	}
	return r;
}

/* AUTH with the URL's credentials, if it has any. */
static bool
node_auth(redisContext *c, const struct store_address *a)
{
	const char *argv[] = { "AUTH", a->user, a->password };
	redisReply *r;

	if (a->password[0] == '\0')
		return true;
	r = a->user[0] != '\0' ? node_command(c, 3, argv) :
	    node_command(c, 2, (const char *[]){ "AUTH", a->password });
	freeReplyObject(r);
	return r != NULL;
}

/* ROLE says "master": writes will be accepted (or queued behind LOADING). */
static bool
node_is_primary(redisContext *c)
{
	const char *argv[] = { "ROLE" };
	redisReply *r = node_command(c, 1, argv);
	bool primary = r != NULL && r->type == REDIS_REPLY_ARRAY &&
	    r->elements > 0 && r->element[0]->type == REDIS_REPLY_STRING &&
	    strcmp(r->element[0]->str, "master") == 0;

	freeReplyObject(r);
	return primary;
}

/* Ask one Sentinel where the primary is. */
static bool
sentinel_ask(const struct store_endpoint *sentinel, const char *master,
    struct store_endpoint *primary)
{
	const char *argv[] = { "SENTINEL", "get-master-addr-by-name", master };
	redisContext *c = connect_node(sentinel->host, sentinel->port, NULL,
	    500, 1000);
	redisReply *r = NULL;
	bool ok = false;
	char *end;
	long port;

	if (c == NULL)
		return false;
	r = node_command(c, 3, argv);
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    r->element[1]->type == REDIS_REPLY_STRING &&
	    r->element[0]->len < sizeof(primary->host)) {
		port = strtol(r->element[1]->str, &end, 10);
		if (*end == '\0' && port > 0 && port <= 65535) {
			memcpy(primary->host, r->element[0]->str,
			    r->element[0]->len + 1);
			primary->port = (int)port;
			ok = true;
		}
	}
	freeReplyObject(r);
	redisFree(c);
	return ok;
}

/*
 * Through Sentinel: ask each Sentinel in turn for the primary, connect to
 * the address it names and accept it only if ROLE agrees, because a
 * Sentinel can still name the old primary for a moment after a failover
 * (or the old primary, restarted, can still believe it is one).
 */
static redisContext *
connect_via_sentinel(const struct store_address *a)
{
	for (size_t i = 0; i < a->sentinel_count; i++) {
		struct store_endpoint primary;
		redisContext *c;

		if (!sentinel_ask(&a->sentinels[i], a->master, &primary))
			continue;
		c = connect_node(primary.host, primary.port, NULL, 1000, 3000);
		if (c == NULL)
			continue;
		if (node_auth(c, a) && node_is_primary(c))
			return c;
		redisFree(c);
	}
	return NULL;
}

static redisContext *
connect_to(const struct store_address *a)
{
	redisContext *c;

	if (a->sentinel)
		return connect_via_sentinel(a);
	c = connect_node(a->host, a->port, a->unix_socket ? a->path : NULL,
	    1000, 3000);
	if (c != NULL && !node_auth(c, a)) {
		redisFree(c);
		c = NULL;
	}
	return c;
}

struct store *
store_open(const struct store_address *addr, struct trace_error *err)
{
	struct store *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		trace_error_set(err, TRACE_ENOMEM, NULL, NULL, "out of memory");
		return NULL;
	}
	s->addr = *addr;
	s->ctx = connect_to(addr);
	/* A store without a connection is still usable: calls retry. */
	return s;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->ctx != NULL)
		redisFree(s->ctx);
	free(s);
}

static enum trace_status
store_unavailable(struct store *s, struct trace_error *err)
{
	const char *why = s->ctx != NULL && s->ctx->err != 0 ? s->ctx->errstr :
	    "cannot connect";

	return trace_error_set(err, TRACE_ESTORE, "store_unavailable", NULL,
	    "the store is unavailable (%s)", why);
}

/* Drop a broken connection and open a new one (through Sentinel: to
 * whichever node is the primary now). */
static bool
reconnect(struct store *s)
{
	if (s->ctx != NULL)
		redisFree(s->ctx);
	s->ctx = connect_to(&s->addr);
	return s->ctx != NULL;
}

/*
 * Error replies that mean "wrong node or not now", not "wrong command": the
 * node was demoted to a replica by a failover (READONLY), lost its primary
 * (MASTERDOWN), is still loading its data (LOADING), or lacks the replicas
 * min-replicas-to-write asks for (NOREPLICAS).  Nothing was applied, so
 * the pipeline is resent on a fresh connection.
 */
static bool
reply_says_retry(const redisReply *r)
{
	static const char *const words[] = { "READONLY", "MASTERDOWN",
		"LOADING", "NOREPLICAS" };

	if (r->type != REDIS_REPLY_ERROR)
		return false;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i]);

		if (r->len >= n && memcmp(r->str, words[i], n) == 0 &&
		    (r->len == n || r->str[n] == ' '))
			return true;
	}
	return false;
}

/*
 * Send count commands as one pipeline and collect their replies: command i
 * is argc[i] arguments from argv[first[i]] (lengths lens[first[i]]).  On a
 * connection error (or a reply_says_retry error), reconnect and resend the
 * whole pipeline (every command we send is idempotent: reads, or appends
 * that answer "duplicate" the second time): once for a single Redis,
 * twice with a pause through Sentinel, which needs a moment to name a new
 * primary.  The last attempt's error replies are returned as they are.
 */
static enum trace_status
pipeline(struct store *s, size_t count, const int *argc, const size_t *first,
    const char *const *argv, const size_t *lens, redisReply **replies,
    struct trace_error *err)
{
	int attempts = s->addr.sentinel ? 3 : 2;

	for (int attempt = 0; attempt < attempts; attempt++) {
		bool broken = false, retry = false;
		size_t got = 0;

		if (attempt == 2)
			usleep(200000);
		if (s->ctx == NULL || s->ctx->err != 0) {
			if (!reconnect(s))
				continue;
		}
		for (size_t i = 0; i < count && !broken; i++)
			broken = redisAppendCommandArgv(s->ctx, argc[i],
			    (const char **)argv + first[i], lens + first[i]) !=
			    REDIS_OK;
		for (got = 0; got < count && !broken; got++) {
			void *r = NULL;

			if (redisGetReply(s->ctx, &r) != REDIS_OK || r == NULL)
				broken = true;
			else
				replies[got] = r;
		}
		for (size_t i = 0; i < got && !broken; i++)
			retry = retry || reply_says_retry(replies[i]);
		if (!broken && (!retry || attempt == attempts - 1))
			return TRACE_OK;
		for (size_t i = 0; i < got; i++) {
			freeReplyObject(replies[i]);
			replies[i] = NULL;
		}
		reconnect(s);
	}
	return store_unavailable(s, err);
}

enum trace_status
store_wait_replicas(struct store *s, struct trace_error *err)
{
	char n[16], ms[16];
	const char *publish[] = { "PUBLISH", "trace:sync", "" };
	const char *wait[] = { "WAIT", n, ms };
	redisReply *r = NULL, *w = NULL;
	enum trace_status rc = TRACE_OK;

	if (s->addr.wait_replicas <= 0)
		return TRACE_OK;
	if (s->ctx == NULL || s->ctx->err != 0)
		goto unreplicated;
	snprintf(n, sizeof(n), "%d", s->addr.wait_replicas);
	snprintf(ms, sizeof(ms), "%d", STORE_WAIT_MS);
	/*
	 * WAIT covers this connection's own last write, and a resubmission
	 * answered "duplicate" wrote nothing.  A PUBLISH is replicated and
	 * moves the connection's offset to the primary's current one, so the
	 * WAIT then covers every write before it, whoever made it.
	 */
	if (redisAppendCommandArgv(s->ctx, 3, publish, NULL) != REDIS_OK ||
	    redisAppendCommandArgv(s->ctx, 3, wait, NULL) != REDIS_OK ||
	    redisGetReply(s->ctx, (void **)&r) != REDIS_OK ||
	    redisGetReply(s->ctx, (void **)&w) != REDIS_OK || w == NULL)
		goto unreplicated;
	if (w->type == REDIS_REPLY_INTEGER && w->integer >= s->addr.wait_replicas)
		goto out;
	rc = trace_error_set(err, TRACE_ESTORE, "not_replicated", NULL,
	    "the primary accepted the write but %lld of %d replicas confirmed "
	    "it within %d ms; resubmit (it is idempotent)",
	    w->type == REDIS_REPLY_INTEGER ? w->integer : 0LL,
	    s->addr.wait_replicas, STORE_WAIT_MS);
	goto out;
unreplicated:
	/* The connection is unusable now; the next call reconnects. */
	if (s->ctx != NULL && s->ctx->err == 0) {
		redisFree(s->ctx);
		s->ctx = NULL;
	}
	rc = trace_error_set(err, TRACE_ESTORE, "not_replicated", NULL,
	    "the write may not have reached %d replicas (connection lost); "
	    "resubmit (it is idempotent)", s->addr.wait_replicas);
out:
	freeReplyObject(r);
	freeReplyObject(w);
	return rc;
}

enum trace_status
store_command(struct store *s, int argc, const char *const *argv,
    const size_t *lens, redisReply **reply, struct trace_error *err)
{
	size_t first = 0, own[STORE_COMMAND_ARGS_MAX];
	enum trace_status rc;

	*reply = NULL;
	if (lens == NULL) {
		if (argc > STORE_COMMAND_ARGS_MAX)
			return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "a command of %d arguments needs their lengths",
			    argc);
		for (int i = 0; i < argc; i++)
			own[i] = strlen(argv[i]);
		lens = own;
	}
	if ((rc = pipeline(s, 1, &argc, &first, argv, lens, reply, err)) !=
	    TRACE_OK)
		return rc;
	if ((*reply)->type == REDIS_REPLY_ERROR) {
		/* Name the command: "FCALL x" by its function. */
		int w = argc > 1 && (strcmp(argv[0], "FCALL") == 0 ||
		    strcmp(argv[0], "FCALL_RO") == 0) ? 1 : 0;

		rc = trace_error_set(err, TRACE_ESTORE, "store_error", NULL,
		    "the store refused %.40s: %.200s", argv[w], (*reply)->str);
		freeReplyObject(*reply);
		*reply = NULL;
	}
	return rc;
}

/* ---- batches ------------------------------------------------------------ */

void
store_batch_init(struct store_batch *b)
{
	memset(b, 0, sizeof(*b));
}

/* Room for one more command (commands) and argument (args). */
static bool
batch_grow(struct store_batch *b, bool command)
{
	if (b->failed)
		return false;
	if (command && b->commands == b->cap_commands) {
		size_t n = b->cap_commands ? 2 * b->cap_commands : 16;
		int *argc = realloc(b->argc, n * sizeof(*argc));
		size_t *first = argc ? realloc(b->first, n * sizeof(*first)) :
		    NULL;

		if (argc != NULL)
			b->argc = argc;
		if (first == NULL)
			return !(b->failed = true);
		b->first = first;
		b->cap_commands = n;
	}
	if (!command && b->args == b->cap_args) {
		size_t n = b->cap_args ? 2 * b->cap_args : 64;
		const char **argv = realloc(b->argv, n * sizeof(*argv));
		size_t *lens = argv ? realloc(b->lens, n * sizeof(*lens)) : NULL;

		if (argv != NULL)
			b->argv = argv;
		if (lens == NULL)
			return !(b->failed = true);
		b->lens = lens;
		b->cap_args = n;
	}
	return true;
}

void
store_batch_command(struct store_batch *b)
{
	if (!batch_grow(b, true))
		return;
	b->argc[b->commands] = 0;
	b->first[b->commands] = b->args;
	b->commands++;
}

void
store_batch_arg(struct store_batch *b, const void *data, size_t len)
{
	if (b->commands == 0 || !batch_grow(b, false))
		return;
	b->argv[b->args] = data;
	b->lens[b->args] = len;
	b->args++;
	b->argc[b->commands - 1]++;
}

void
store_batch_str(struct store_batch *b, const char *s)
{
	store_batch_arg(b, s, strlen(s));
}

void
store_batch_fmt(struct store_batch *b, const char *fmt, ...)
{
	char small[64], *text, **owned;
	va_list ap;
	int n;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0 || (text = malloc((size_t)n + 1)) == NULL) {
		b->failed = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		memcpy(text, small, (size_t)n + 1);
	} else {
		va_start(ap, fmt);
		vsnprintf(text, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	if (b->nowned == b->cap_owned) {
		size_t cap = b->cap_owned ? 2 * b->cap_owned : 16;

		if ((owned = realloc(b->owned, cap * sizeof(*owned))) == NULL) {
			free(text);
			b->failed = true;
			return;
		}
		b->owned = owned;
		b->cap_owned = cap;
	}
	b->owned[b->nowned++] = text;
	store_batch_arg(b, text, (size_t)n);
}

enum trace_status
store_batch_run(struct store *s, struct store_batch *b,
    struct trace_error *err)
{
	if (b->failed)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	if (b->replies != NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "a batch runs once");
	if (b->commands == 0)
		return TRACE_OK;
	if ((b->replies = calloc(b->commands, sizeof(*b->replies))) == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	return pipeline(s, b->commands, b->argc, b->first, b->argv, b->lens,
	    b->replies, err);
}

const redisReply *
store_batch_reply(const struct store_batch *b, size_t i)
{
	return b->replies != NULL && i < b->commands ? b->replies[i] : NULL;
}

redisReply *
store_batch_take(struct store_batch *b, size_t i)
{
	redisReply *r;

	if (b->replies == NULL || i >= b->commands)
		return NULL;
	r = b->replies[i];
	b->replies[i] = NULL;
	return r;
}

void
store_batch_clear(struct store_batch *b)
{
	for (size_t i = 0; b->replies != NULL && i < b->commands; i++)
		freeReplyObject(b->replies[i]);
	for (size_t i = 0; i < b->nowned; i++)
		free(b->owned[i]);
	free(b->replies);
	free(b->owned);
	free(b->argc);
	free(b->first);
	free(b->argv);
	free(b->lens);
	memset(b, 0, sizeof(*b));
}

enum trace_status
store_load_functions(struct store *s, struct trace_error *err)
{
	const char *argv[] = { "FUNCTION", "LOAD", "REPLACE", store_lua };
	redisReply *r = NULL;
	enum trace_status rc = store_command(s, 4, argv, NULL, &r, err);

	freeReplyObject(r);
	return rc;
}

enum trace_status
store_check_ready(struct store *s, struct trace_error *err)
{
	const char *argv[] = { "FUNCTION", "LIST", "LIBRARYNAME", "trace" };
	redisReply *r = NULL;
	enum trace_status rc = store_command(s, 4, argv, NULL, &r, err);

	if (rc == TRACE_OK && (r->type != REDIS_REPLY_ARRAY || r->elements == 0))
		rc = trace_error_set(err, TRACE_ESTORE, "functions_missing", NULL,
		    "the trace Functions are not loaded");
	freeReplyObject(r);
	return rc;
}


bool
store_reply_u64(const redisReply *r, uint64_t *out)
{
	uint64_t v = 0;

	if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 19 ||
	    (r->len > 1 && r->str[0] == '0'))
		return false;
	for (size_t i = 0; i < r->len; i++) {
		if (r->str[i] < '0' || r->str[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(r->str[i] - '0');
	}
	/* 19 digits fit in 64 bits; the limit is the signed one. */
	if (v > (uint64_t)INT64_MAX)
		return false;
	*out = v;
	return true;
}
