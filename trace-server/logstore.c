/*
 * logstore.c - the transparency log's Redis calls: the integrator's lease,
 * state read and atomic commit (Functions in store.lua), chunked node
 * strings written with SETRANGE, and node fetches for proofs.
 *
 * This is the one file besides store.c that speaks RESP; it goes through
 * store_pipeline() so connection handling stays in one place.  Every key
 * carries the {log} hash tag, so the whole log lives in one cluster slot
 * and the Functions may touch all of it.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "libtrace/encoding.h"
#include "log.h"

#define KEY_LEASE "log:{log}:lease"
#define KEY_INTEGRATED "log:{log}:integrated"
#define KEY_PENDING "log:{log}:pending"
#define KEY_CHECKPOINT "log:{log}:checkpoint"
#define KEY_CHECKPOINTS "log:{log}:checkpoints"
#define KEY_MAX 64
/* Nodes per trace_log_nodes call: bounds the Function's argument list. */
#define NODES_PER_CALL 4096
/* A pending item: 32-byte leaf hash, then the id in 64 hex digits. */
#define PENDING_ITEM_LEN (MERKLE_HASH_LEN + 2 * MERKLE_HASH_LEN)

static atomic_ullong proofs_served, proof_commands, checkpoints_signed,
    leaves_integrated, refusals;

void
log_counters_get(struct log_counters *out)
{
	out->proofs = atomic_load(&proofs_served);
	out->proof_commands = atomic_load(&proof_commands);
	out->checkpoints = atomic_load(&checkpoints_signed);
	out->integrated = atomic_load(&leaves_integrated);
	out->refusals = atomic_load(&refusals);
}

/* Called by log.c as things happen. */
void log_count_proof(void);
void log_count_checkpoint(void);
void log_count_integrated(size_t n);
void log_count_refusal(void);

void
log_count_proof(void)
{
	atomic_fetch_add(&proofs_served, 1);
}

void
log_count_checkpoint(void)
{
	atomic_fetch_add(&checkpoints_signed, 1);
}

void
log_count_integrated(size_t n)
{
	atomic_fetch_add(&leaves_integrated, n);
}

void
log_count_refusal(void)
{
	atomic_fetch_add(&refusals, 1);
}

void
log_metrics_render(struct buf *out)
{
	struct log_counters c;

	log_counters_get(&c);
	buf_printf(out, "# HELP trace_log_proofs_total Inclusion and "
	    "consistency proofs served.\n# TYPE trace_log_proofs_total counter\n"
	    "trace_log_proofs_total %llu\n"
	    "# HELP trace_log_proof_redis_commands_total Redis commands sent "
	    "to serve them (one per proof).\n"
	    "# TYPE trace_log_proof_redis_commands_total counter\n"
	    "trace_log_proof_redis_commands_total %llu\n"
	    "# HELP trace_log_checkpoints_signed_total Checkpoints signed by "
	    "this process.\n# TYPE trace_log_checkpoints_signed_total counter\n"
	    "trace_log_checkpoints_signed_total %llu\n"
	    "# HELP trace_log_leaves_integrated_total Leaves integrated by "
	    "this process.\n# TYPE trace_log_leaves_integrated_total counter\n"
	    "trace_log_leaves_integrated_total %llu\n"
	    "# HELP trace_log_checkpoint_refusals_total Checkpoints not "
	    "signed because the stored tree failed a check.\n"
	    "# TYPE trace_log_checkpoint_refusals_total counter\n"
	    "trace_log_checkpoint_refusals_total %llu\n", c.proofs,
	    c.proof_commands, c.checkpoints, c.integrated, c.refusals);
}

static enum trace_status
corrupt(struct trace_error *err, const char *what)
{
	return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
	    "unexpected reply from the store (%s)", what);
}

/* One command from strings with explicit lengths. */
static enum trace_status
one(struct store *s, int argc, const char *const *argv, const size_t *lens,
    redisReply **reply, struct trace_error *err)
{
	const char *const *av[1] = { argv };
	const size_t *al[1] = { lens };
	enum trace_status rc;

	*reply = NULL;
	rc = store_pipeline(s, 1, &argc, av, al, reply, err);
	if (rc == TRACE_OK && (*reply)->type == REDIS_REPLY_ERROR) {
		rc = trace_error_set(err, TRACE_ESTORE, "store_error", NULL,
		    "the store refused a log command: %.200s", (*reply)->str);
		freeReplyObject(*reply);
		*reply = NULL;
	}
	return rc;
}

static void
lengths(int argc, const char *const *argv, size_t *lens)
{
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
}

void
log_state_free(struct log_state *st)
{
	if (st == NULL)
		return;
	free(st->checkpoint);
	free(st->leaves);
	free(st->ids);
	memset(st, 0, sizeof(*st));
}

enum trace_status
logstore_lease(struct store *s, const char *token, long ms, bool *held,
    struct trace_error *err)
{
	char msbuf[24];
	const char *argv[] = { "FCALL", "trace_log_lease", "1", KEY_LEASE,
		token, msbuf };
	size_t lens[6];
	redisReply *r = NULL;
	enum trace_status rc;

	*held = false;
	snprintf(msbuf, sizeof(msbuf), "%ld", ms);
	lengths(6, argv, lens);
	if ((rc = one(s, 6, argv, lens, &r, err)) != TRACE_OK)
		return rc;
	if (r->type != REDIS_REPLY_INTEGER)
		rc = corrupt(err, "lease");
	else
		*held = r->integer == 1;
	freeReplyObject(r);
	return rc;
}

/* A decimal string reply (or element) into a uint64_t. */
static bool
reply_uint(const redisReply *r, uint64_t *out)
{
	char text[24];

	if (r->type != REDIS_REPLY_STRING || r->len == 0 ||
	    r->len >= sizeof(text))
		return false;
	memcpy(text, r->str, r->len);
	text[r->len] = '\0';
	return log_parse_uint(text, out);
}

enum trace_status
logstore_state(struct store *s, size_t batch, struct log_state *out,
    struct trace_error *err)
{
	char batchbuf[24];
	const char *argv[] = { "FCALL", "trace_log_state", "3", KEY_INTEGRATED,
		KEY_PENDING, KEY_CHECKPOINT, batchbuf };
	size_t lens[7];
	redisReply *r = NULL, *items;
	enum trace_status rc;

	memset(out, 0, sizeof(*out));
	snprintf(batchbuf, sizeof(batchbuf), "%zu", batch);
	lengths(7, argv, lens);
	if ((rc = one(s, 7, argv, lens, &r, err)) != TRACE_OK)
		return rc;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    !reply_uint(r->element[0], &out->integrated) ||
	    r->element[1]->type != REDIS_REPLY_STRING ||
	    r->element[2]->type != REDIS_REPLY_ARRAY) {
		rc = corrupt(err, "log state");
		goto out;
	}
	if (r->element[1]->len > 0) {
		out->checkpoint = malloc(r->element[1]->len + 1);
		if (out->checkpoint == NULL)
			goto nomem;
		memcpy(out->checkpoint, r->element[1]->str, r->element[1]->len);
		out->checkpoint[r->element[1]->len] = '\0';
		out->checkpoint_len = r->element[1]->len;
	}
	items = r->element[2];
	if (items->elements > 0) {
		out->leaves = malloc(items->elements * MERKLE_HASH_LEN);
		out->ids = malloc(items->elements * MERKLE_HASH_LEN);
		if (out->leaves == NULL || out->ids == NULL)
			goto nomem;
	}
	for (size_t i = 0; i < items->elements; i++) {
		const redisReply *e = items->element[i];

		if (e->type != REDIS_REPLY_STRING ||
		    e->len != PENDING_ITEM_LEN ||
		    !hex_decode(e->str + MERKLE_HASH_LEN, 2 * MERKLE_HASH_LEN,
		    out->ids[i], MERKLE_HASH_LEN, true)) {
			rc = corrupt(err, "pending leaf");
			goto out;
		}
		memcpy(out->leaves[i], e->str, MERKLE_HASH_LEN);
	}
	out->pending = items->elements;
	goto out;
nomem:
	rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL, "out of memory");
out:
	if (rc != TRACE_OK)
		log_state_free(out);
	freeReplyObject(r);
	return rc;
}

static void
node_key(char *out, size_t size, bool ids, unsigned level, uint64_t chunk)
{
	if (ids)
		snprintf(out, size, "log:{log}:ids:%" PRIu64, chunk);
	else
		snprintf(out, size, "log:{log}:t:%u:%" PRIu64, level, chunk);
}

enum trace_status
logstore_write(struct store *s, const struct log_run *runs, size_t count,
    struct trace_error *err)
{
	size_t commands = 0, c = 0;
	char (*keys)[KEY_MAX] = NULL, (*offsets)[24] = NULL;
	const char *(*argv)[4] = NULL;
	size_t (*lens)[4] = NULL;
	const char *const **av = NULL;
	const size_t **al = NULL;
	int *argc = NULL;
	redisReply **replies = NULL;
	enum trace_status rc = TRACE_OK;

	/* One SETRANGE per run and chunk it touches. */
	for (size_t i = 0; i < count; i++) {
		if (runs[i].count == 0)
			continue;
		commands += (size_t)((runs[i].first + runs[i].count - 1) /
		    LOG_CHUNK_NODES - runs[i].first / LOG_CHUNK_NODES) + 1;
	}
	if (commands == 0)
		return TRACE_OK;
	keys = calloc(commands, sizeof(*keys));
	offsets = calloc(commands, sizeof(*offsets));
	argv = calloc(commands, sizeof(*argv));
	lens = calloc(commands, sizeof(*lens));
	av = calloc(commands, sizeof(*av));
	al = calloc(commands, sizeof(*al));
	argc = calloc(commands, sizeof(*argc));
	replies = calloc(commands, sizeof(*replies));
	if (keys == NULL || offsets == NULL || argv == NULL || lens == NULL ||
	    av == NULL || al == NULL || argc == NULL || replies == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		const struct log_run *run = &runs[i];
		uint64_t at = run->first, end = run->first + run->count;

		while (at < end) {
			uint64_t chunk = at / LOG_CHUNK_NODES;
			uint64_t stop = (chunk + 1) * LOG_CHUNK_NODES;
			size_t n = (size_t)((stop < end ? stop : end) - at);

			node_key(keys[c], KEY_MAX, run->ids, run->level, chunk);
			snprintf(offsets[c], sizeof(offsets[c]), "%" PRIu64,
			    (at % LOG_CHUNK_NODES) * MERKLE_HASH_LEN);
			argv[c][0] = "SETRANGE";
			argv[c][1] = keys[c];
			argv[c][2] = offsets[c];
			argv[c][3] = (const char *)run->data +
			    (size_t)(at - run->first) * MERKLE_HASH_LEN;
			lens[c][0] = 8;
			lens[c][1] = strlen(keys[c]);
			lens[c][2] = strlen(offsets[c]);
			lens[c][3] = n * MERKLE_HASH_LEN;
			av[c] = argv[c];
			al[c] = lens[c];
			argc[c] = 4;
			c++;
			at += n;
		}
	}
	if ((rc = store_pipeline(s, commands, argc, av, al, replies, err)) !=
	    TRACE_OK)
		goto out;
	for (size_t i = 0; i < commands && rc == TRACE_OK; i++)
		if (replies[i]->type != REDIS_REPLY_INTEGER)
			rc = trace_error_set(err, TRACE_ESTORE, "store_error",
			    NULL, "storing tree nodes failed: %.200s",
			    replies[i]->type == REDIS_REPLY_ERROR ?
			    replies[i]->str : "unexpected reply");
out:
	for (size_t i = 0; replies != NULL && i < commands; i++)
		freeReplyObject(replies[i]);
	free(keys);
	free(offsets);
	free(argv);
	free(lens);
	free(av);
	free(al);
	free(argc);
	free(replies);
	return rc;
}

enum trace_status
logstore_commit(struct store *s, const char *token, uint64_t old_size,
    uint64_t new_size, size_t trim, const char *expected_cp,
    const char *new_cp, uint64_t new_cp_size,
    enum log_commit_outcome *outcome, struct trace_error *err)
{
	char oldbuf[24], newbuf[24], trimbuf[24], cpsize[24];
	const char *argv[] = { "FCALL", "trace_log_commit", "5", KEY_LEASE,
		KEY_INTEGRATED, KEY_PENDING, KEY_CHECKPOINT, KEY_CHECKPOINTS,
		token, oldbuf, newbuf, trimbuf, expected_cp, new_cp, cpsize };
	size_t lens[15];
	redisReply *r = NULL;
	const redisReply *w;
	enum trace_status rc;

	snprintf(oldbuf, sizeof(oldbuf), "%" PRIu64, old_size);
	snprintf(newbuf, sizeof(newbuf), "%" PRIu64, new_size);
	snprintf(trimbuf, sizeof(trimbuf), "%zu", trim);
	snprintf(cpsize, sizeof(cpsize), "%" PRIu64, new_cp_size);
	lengths(15, argv, lens);
	if ((rc = one(s, 15, argv, lens, &r, err)) != TRACE_OK)
		return rc;
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    (w = r->element[0])->type != REDIS_REPLY_STRING) {
		rc = corrupt(err, "commit");
	} else if (w->len == 2 && memcmp(w->str, "ok", 2) == 0) {
		*outcome = LOG_COMMIT_OK;
	} else if (w->len == 10 && memcmp(w->str, "lease_lost", 10) == 0) {
		*outcome = LOG_COMMIT_LEASE_LOST;
	} else if (w->len == 5 && memcmp(w->str, "short", 5) == 0) {
		/* Pending lost leaves that the size never covered: never
		 * happens unless someone edits the list by hand. */
		rc = corrupt(err, "pending list shorter than integrated");
	} else {
		*outcome = LOG_COMMIT_MOVED;
	}
	freeReplyObject(r);
	return rc;
}

enum trace_status
logstore_nodes(struct store *s, uint64_t size, const struct merkle_node *nodes,
    size_t count, unsigned char *hashes, struct trace_error *err)
{
	size_t calls = count == 0 ? 1 : (count + NODES_PER_CALL - 1) /
	    NODES_PER_CALL;
	char sizebuf[24], numbuf[24], (*keys)[KEY_MAX] = NULL,
	    (*offsets)[16] = NULL;
	const char **argv = NULL;
	size_t *lens = NULL;
	const char *const **av = NULL;
	const size_t **al = NULL;
	int *argc = NULL;
	redisReply **replies = NULL;
	enum trace_status rc = TRACE_OK;
	size_t slots = 2 * count + 5 * calls, used = 0;

	snprintf(sizebuf, sizeof(sizebuf), "%" PRIu64, size);
	keys = calloc(count + 1, sizeof(*keys));
	offsets = calloc(count + 1, sizeof(*offsets));
	argv = calloc(slots, sizeof(*argv));
	lens = calloc(slots, sizeof(*lens));
	av = calloc(calls, sizeof(*av));
	al = calloc(calls, sizeof(*al));
	argc = calloc(calls, sizeof(*argc));
	replies = calloc(calls, sizeof(*replies));
	if (keys == NULL || offsets == NULL || argv == NULL || lens == NULL ||
	    av == NULL || al == NULL || argc == NULL || replies == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		node_key(keys[i], KEY_MAX, false, nodes[i].level,
		    nodes[i].index / LOG_CHUNK_NODES);
		snprintf(offsets[i], sizeof(offsets[i]), "%" PRIu64,
		    (nodes[i].index % LOG_CHUNK_NODES) * MERKLE_HASH_LEN);
	}
	/* FCALL_RO trace_log_nodes N integrated key... size offset... */
	for (size_t call = 0; call < calls; call++) {
		size_t first = call * NODES_PER_CALL;
		size_t n = count - first < NODES_PER_CALL ? count - first :
		    NODES_PER_CALL;
		const char **a = argv + used;

		if (count == 0)
			n = 0;
		snprintf(numbuf, sizeof(numbuf), "%zu", n + 1);
		a[0] = "FCALL_RO";
		a[1] = "trace_log_nodes";
		a[2] = strdup(numbuf);
		a[3] = KEY_INTEGRATED;
		for (size_t i = 0; i < n; i++)
			a[4 + i] = keys[first + i];
		a[4 + n] = sizebuf;
		for (size_t i = 0; i < n; i++)
			a[5 + n + i] = offsets[first + i];
		if (a[2] == NULL) {
			rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
			goto out;
		}
		for (size_t i = 0; i < 5 + 2 * n; i++)
			lens[used + i] = strlen(a[i]);
		av[call] = a;
		al[call] = lens + used;
		argc[call] = (int)(5 + 2 * n);
		used += 5 + 2 * n;
	}
	rc = store_pipeline(s, calls, argc, av, al, replies, err);
	if (rc == TRACE_OK)
		atomic_fetch_add(&proof_commands, calls);
	for (size_t call = 0; call < calls && rc == TRACE_OK; call++) {
		const redisReply *r = replies[call], *w;
		size_t first = call * NODES_PER_CALL;
		size_t n = count - first < NODES_PER_CALL ? count - first :
		    NODES_PER_CALL;

		if (count == 0)
			n = 0;
		if (r->type == REDIS_REPLY_ERROR) {
			rc = trace_error_set(err, TRACE_ESTORE, "store_error",
			    NULL, "the store refused a node fetch: %.200s",
			    r->str);
			break;
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    (w = r->element[0])->type != REDIS_REPLY_STRING) {
			rc = corrupt(err, "nodes");
			break;
		}
		if (w->len == 14 && memcmp(w->str, "not_integrated", 14) == 0) {
			uint64_t have = 0;

			reply_uint(r->element[1], &have);
			rc = trace_error_set(err, TRACE_ENOTFOUND,
			    "size_not_integrated", "size", "the log has "
			    "integrated %" PRIu64 " leaves; a tree of %" PRIu64
			    " is not available (yet)", have, size);
			break;
		}
		if (w->len != 2 || memcmp(w->str, "ok", 2) != 0 ||
		    r->element[1]->type != REDIS_REPLY_STRING ||
		    r->element[1]->len != n * MERKLE_HASH_LEN) {
			rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt",
			    NULL, "a stored tree node is missing");
			break;
		}
		memcpy(hashes + first * MERKLE_HASH_LEN, r->element[1]->str,
		    n * MERKLE_HASH_LEN);
	}
out:
	for (size_t call = 0; av != NULL && call < calls; call++)
		if (av[call] != NULL)
			free((char *)av[call][2]);
	for (size_t call = 0; replies != NULL && call < calls; call++)
		freeReplyObject(replies[call]);
	free(keys);
	free(offsets);
	free(argv);
	free(lens);
	free(av);
	free(al);
	free(argc);
	free(replies);
	return rc;
}

enum trace_status
logstore_head(struct store *s, uint64_t *integrated, char **text,
    size_t *len, struct trace_error *err)
{
	const char *a0[] = { "GET", KEY_INTEGRATED };
	const char *a1[] = { "GET", KEY_CHECKPOINT };
	size_t l0[2], l1[2];
	const char *const *av[2] = { a0, a1 };
	const size_t *al[2] = { l0, l1 };
	int argc[2] = { 2, 2 };
	redisReply *r[2] = { NULL, NULL };
	enum trace_status rc;

	*integrated = 0;
	*text = NULL;
	*len = 0;
	lengths(2, a0, l0);
	lengths(2, a1, l1);
	if ((rc = store_pipeline(s, 2, argc, av, al, r, err)) != TRACE_OK)
		return rc;
	if ((r[0]->type != REDIS_REPLY_NIL && !reply_uint(r[0], integrated)) ||
	    (r[1]->type != REDIS_REPLY_NIL &&
	    r[1]->type != REDIS_REPLY_STRING)) {
		rc = corrupt(err, "log head");
	} else if (r[1]->type == REDIS_REPLY_STRING) {
		if ((*text = malloc(r[1]->len + 1)) == NULL) {
			rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
		} else {
			memcpy(*text, r[1]->str, r[1]->len);
			(*text)[r[1]->len] = '\0';
			*len = r[1]->len;
		}
	}
	freeReplyObject(r[0]);
	freeReplyObject(r[1]);
	return rc;
}
