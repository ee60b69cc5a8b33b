/*
 * log.c - the transparency log (docs/PROTOCOL.md section 9): the integrator thread and
 * the log's read endpoints.
 *
 *   GET /api/v1/log                                  {"origin","vkey","size",...}
 *   GET /api/v1/checkpoint                           latest signed checkpoint, or
 *                                                    with --witness-policy the
 *                                                    latest witnessed one
 *   GET /api/v1/proofs/inclusion?index=I&size=N      RFC 9162 2.1.3
 *   GET /api/v1/proofs/consistency?from=M&to=N       RFC 9162 2.1.4
 *
 * Appends only queue leaf hashes (store.lua).  One integrator at a time,
 * across every trace-server sharing the Redis (a lease), moves them into
 * the stored tree: it writes the new leaves and every perfect node they
 * complete, and only then advances the integrated size, trims the queue and
 * publishes a checkpoint in one atomic Function call that also checks the
 * lease and that nobody moved the size or the checkpoint meanwhile.  Nodes
 * are a pure function of the leaves, so a crash between the writes and the
 * commit only leaves nodes that the next run writes again, identically.
 *
 * Before signing size n2 it proves to itself, from the stored nodes, that
 * the tree extends the last checkpoint (size n1): the stored nodes must
 * give the checkpointed root for n1, and a consistency proof n1 -> n2 built
 * from them must verify.  If not, it signs nothing and says so: the log
 * never signs two inconsistent checkpoints, even if Redis was tampered with.
 * The last checkpoint is the one in the local mark (--log-state, log_mark.c),
 * not the one in Redis: a Redis rolled back to an older checkpoint would
 * otherwise vouch for a fork of its own making (SPEC 9).
 *
 * Proofs are planned (merkle_plan_*), their stored nodes fetched in one
 * round trip (one FCALL_RO) and assembled; the tree is never recomputed.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "libtrace/encoding.h"
#include "log.h"
#include "monotonic.h"
#include "parse.h"

/* One integrator per process; started and stopped by main(). */
static struct {
	pthread_t thread;
	bool running;
	atomic_bool stop;
	struct server *srv;
	struct note_signer signer;
	struct log_mark mark;          /* the last checkpoint we signed */
	char token[33];
	pthread_mutex_t refusal_lock;  /* guards refusal */
	char refusal[512];             /* why the last attempt signed nothing */
} integrator = { .refusal_lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * The head checkpoint's size as time went on, sampled when one is signed
 * (samples a second or more apart, and the latest): the lot index's undo
 * records for versions older than the head of --index-proof-grace ago
 * are dropped (index_prune), as no proof asks for them.  128 samples a
 * second or more apart always reach back past the grace.
 */
#define INDEX_SAMPLES 128
static struct {
	long long at[INDEX_SAMPLES];   /* monotonic ms */
	uint64_t size[INDEX_SAMPLES];
	size_t next, count;
	uint64_t pruned_to;            /* floor pruned completely (no policy) */
} heads;

static void
heads_note(uint64_t size)
{
	long long now = monotonic_ms();
	size_t last = (heads.next + INDEX_SAMPLES - 1) % INDEX_SAMPLES,
	    before = (heads.next + INDEX_SAMPLES - 2) % INDEX_SAMPLES;

	/* A sample says: from then on the head was at least this size.  The
	 * newest is always the latest checkpoint (an idle log's head gets past
	 * the grace too); the others stay a second or more apart. */
	if (heads.count >= 2 && heads.at[last] - heads.at[before] < 1000) {
		heads.at[last] = now;
		heads.size[last] = size;
		return;
	}
	heads.at[heads.next] = now;
	heads.size[heads.next] = size;
	heads.next = (heads.next + 1) % INDEX_SAMPLES;
	if (heads.count < INDEX_SAMPLES)
		heads.count++;
}

/* The head as of the grace period ago, 0 if this process has not been
 * signing that long (then nothing is dropped). */
static uint64_t
heads_floor(void)
{
	long long cut = monotonic_ms() -
	    integrator.srv->cfg.index_proof_grace * 1000;
	uint64_t floor = 0;

	for (size_t i = 0; i < heads.count; i++) {
		size_t k = (heads.next + INDEX_SAMPLES - 1 - i) % INDEX_SAMPLES;

		if (heads.at[k] <= cut) {
			floor = heads.size[k];
			break;
		}
	}
	return floor;
}

/* Drop the undo records no proof can ask for (store.lua index_prune). */
static void
index_prune(struct store *s)
{
	uint64_t floor = heads_floor();
	size_t dropped = 64;
	struct trace_error err;
	static bool complained;

	if (floor <= heads.pruned_to)
		return;
	/* At most 64 versions a call: a few calls catch up after a burst. */
	for (int i = 0; i < 16 && dropped == 64; i++) {
		if (store_index_prune(s, floor,
		    integrator.srv->witness_policy != NULL, &dropped, &err) !=
		    TRACE_OK) {
			/* An older Function library (another trace-server
			 * loaded it last): the bounds in log_commit still hold. */
			if (!complained)
				fprintf(stderr, "trace-server: log: lot index "
				    "prune: %s\n", err.message);
			complained = true;
			return;
		}
	}
	complained = false;
	/* Done for this floor, unless the witnessed checkpoint held it back
	 * (it moves on its own: ask again). */
	if (dropped < 64 && integrator.srv->witness_policy == NULL)
		heads.pruned_to = floor;
}

/* What /metrics reports (log_metrics_render). */
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

void
log_refusal_get(char *buf, size_t size)
{
	pthread_mutex_lock(&integrator.refusal_lock);
	snprintf(buf, size, "%s", integrator.refusal);
	pthread_mutex_unlock(&integrator.refusal_lock);
}

/*
 * Count a refusal and keep the reason for /readyz; say it on stderr when
 * it changes (the integrator retries every LOG_IDLE_MS).
 */
static void
refusal_note(const char *message)
{
	bool changed;

	atomic_fetch_add(&refusals, 1);
	pthread_mutex_lock(&integrator.refusal_lock);
	changed = strcmp(integrator.refusal, message) != 0;
	snprintf(integrator.refusal, sizeof(integrator.refusal), "%s", message);
	pthread_mutex_unlock(&integrator.refusal_lock);
	if (changed)
		fprintf(stderr, "trace-server: log: %s\n", message);
}

static void
refusal_clear(void)
{
	pthread_mutex_lock(&integrator.refusal_lock);
	integrator.refusal[0] = '\0';
	pthread_mutex_unlock(&integrator.refusal_lock);
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

enum trace_status
log_fetch_nodes(struct store *s, uint64_t size,
    const struct merkle_node *nodes, size_t count, unsigned char *hashes,
    struct trace_error *err)
{
	size_t commands = 0;
	enum trace_status rc = store_log_nodes(s, size, nodes, count, hashes,
	    &commands, err);

	atomic_fetch_add(&proof_commands, commands);
	return rc;
}

bool
log_parse_uint(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	/* 19 digits fit in 64 bits; the limit is the signed one. */
	if (v > (uint64_t)INT64_MAX)
		return false;
	*out = v;
	return true;
}

bool
log_checkpoint_read(const char *note, size_t len, struct checkpoint *cp)
{
	const char *blank = NULL;

	/* The body ends at the first blank line (C2SP signed-note). */
	for (size_t i = 0; i + 1 < len; i++) {
		if (note[i] == '\n' && note[i + 1] == '\n') {
			blank = note + i;
			break;
		}
	}
	if (blank == NULL)
		return false;
	return checkpoint_parse(note, (size_t)(blank - note) + 1, cp, NULL) ==
	    TRACE_OK;
}

/* Fetch the nodes of [0, size) and fold them into the root. */
static enum trace_status
stored_root(struct store *s, uint64_t size, unsigned char root[MERKLE_HASH_LEN],
    struct trace_error *err)
{
	struct merkle_node nodes[64];
	unsigned char hashes[64][MERKLE_HASH_LEN];
	size_t count = 0;
	enum trace_status rc;

	if (size == 0) {
		merkle_root(NULL, 0, root);
		return TRACE_OK;
	}
	if ((rc = merkle_range_nodes(0, size, nodes, &count, err)) != TRACE_OK ||
	    (rc = log_fetch_nodes(s, 0, nodes, count, &hashes[0][0], err)) !=
	    TRACE_OK)
		return rc;
	return merkle_range_hash(&hashes[0][0], count, root, err);
}

/* Fetch a planned proof's nodes (one round trip) and assemble it. */
static enum trace_status
prove(struct store *s, uint64_t size, const struct merkle_plan *plan,
    unsigned char proof[][MERKLE_HASH_LEN], struct trace_error *err)
{
	unsigned char hashes[MERKLE_PLAN_NODES_MAX][MERKLE_HASH_LEN];
	enum trace_status rc;

	if ((rc = log_fetch_nodes(s, size, plan->nodes, plan->node_count,
	    &hashes[0][0], err)) != TRACE_OK)
		return rc;
	return merkle_plan_assemble(plan, &hashes[0][0], proof, err);
}

enum trace_status
log_prove_inclusion(struct store *s, uint64_t index, uint64_t size,
    unsigned char proof[][MERKLE_HASH_LEN], size_t *count,
    struct trace_error *err)
{
	struct merkle_plan plan;
	enum trace_status rc;

	if ((rc = merkle_plan_inclusion(index, size, &plan, err)) != TRACE_OK ||
	    (rc = prove(s, size, &plan, proof, err)) != TRACE_OK)
		return rc;
	*count = plan.count;
	return TRACE_OK;
}

enum trace_status
log_prove_consistency(struct store *s, uint64_t from, uint64_t to,
    unsigned char proof[][MERKLE_HASH_LEN], size_t *count,
    struct trace_error *err)
{
	struct merkle_plan plan;
	enum trace_status rc;

	if ((rc = merkle_plan_consistency(from, to, &plan, err)) != TRACE_OK ||
	    (rc = prove(s, to, &plan, proof, err)) != TRACE_OK)
		return rc;
	*count = plan.count;
	return TRACE_OK;
}

/*
 * The nodes that growing the tree from n0 by count leaves completes, per
 * level: level[L] covers indexes [base[L], end[L]) with base[L] even, so the
 * one older node a new parent may need (the left sibling on the frontier
 * of the old tree) has a slot too.
 */
struct growth {
	unsigned levels;
	uint64_t base[65], end[65];
	unsigned char *level[65];
};

static void
growth_free(struct growth *g)
{
	for (unsigned l = 0; l < g->levels; l++)
		free(g->level[l]);
}

static enum trace_status
growth_compute(struct store *s, uint64_t n0, const struct log_state *st,
    struct growth *g, struct trace_error *err)
{
	uint64_t n2 = n0 + st->pending, made = 0;
	struct merkle_node frontier[64];
	unsigned char hashes[64][MERKLE_HASH_LEN];
	size_t fcount = 0;
	enum trace_status rc;

	memset(g, 0, sizeof(*g));
	for (g->levels = 0; g->levels < 64 && (n2 >> g->levels) > 0;
	    g->levels++) {
		unsigned l = g->levels;

		g->base[l] = (n0 >> l) & ~(uint64_t)1;
		g->end[l] = n2 >> l;
		g->level[l] = malloc((size_t)(g->end[l] - g->base[l] + 1) *
		    MERKLE_HASH_LEN);
		if (g->level[l] == NULL) {
			g->levels++;
			rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
			goto fail;
		}
	}
	/* The old tree's frontier: one perfect node per set bit of n0. */
	if (n0 > 0) {
		if ((rc = merkle_range_nodes(0, n0, frontier, &fcount, err)) !=
		    TRACE_OK || (rc = log_fetch_nodes(s, 0, frontier, fcount,
		    &hashes[0][0], err)) != TRACE_OK)
			goto fail;
		for (size_t i = 0; i < fcount; i++) {
			unsigned l = frontier[i].level;

			if (l < g->levels && frontier[i].index >= g->base[l] &&
			    frontier[i].index < g->end[l])
				memcpy(g->level[l] + (frontier[i].index -
				    g->base[l]) * MERKLE_HASH_LEN, hashes[i],
				    MERKLE_HASH_LEN);
		}
	}
	memcpy(g->level[0] + (n0 - g->base[0]) * MERKLE_HASH_LEN, st->leaves,
	    st->pending * MERKLE_HASH_LEN);
	for (unsigned l = 1; l < g->levels; l++) {
		for (uint64_t i = n0 >> l; i < g->end[l]; i++) {
			const unsigned char *kids = g->level[l - 1] +
			    (2 * i - g->base[l - 1]) * MERKLE_HASH_LEN;

			merkle_node_hash(kids, kids + MERKLE_HASH_LEN,
			    g->level[l] + (i - g->base[l]) * MERKLE_HASH_LEN);
			made++;
		}
	}
	/* The library's own count of completed parents must agree. */
	if (made != merkle_growth_count(n0, n2)) {
		rc = trace_error_set(err, TRACE_ESTORE, "log_internal", NULL,
		    "computed %" PRIu64 " parents, expected %" PRIu64, made,
		    merkle_growth_count(n0, n2));
		goto fail;
	}
	return TRACE_OK;
fail:
	growth_free(g);
	memset(g, 0, sizeof(*g));
	return rc;
}

static enum trace_status
growth_store(struct store *s, uint64_t n0, const struct log_state *st,
    const struct growth *g, struct trace_error *err)
{
	struct log_run runs[66];
	size_t count = 0;

	runs[count++] = (struct log_run){ .ids = true, .first = n0,
		.count = st->pending, .data = &st->ids[0][0] };
	for (unsigned l = 0; l < g->levels; l++) {
		uint64_t first = n0 >> l;

		if (g->end[l] <= first)
			continue;
		runs[count++] = (struct log_run){ .level = l, .first = first,
			.count = (size_t)(g->end[l] - first),
			.data = g->level[l] + (first - g->base[l]) *
			    MERKLE_HASH_LEN };
	}
	return store_log_write(s, runs, count, err);
}

/*
 * Sign size n2 only if the stored tree reproduces the last checkpoint we
 * signed (last: the local mark, NULL if none, never Redis's word) and a
 * consistency proof from it verifies (RFC 9162 2.1.4.2).  *note gets the
 * signed checkpoint (malloc'd), *signed_cp its body.
 */
static enum trace_status
checked_sign(struct store *s, const struct checkpoint *last, uint64_t n2,
    char **note, size_t *note_len, struct checkpoint *signed_cp,
    struct trace_error *err)
{
	struct checkpoint cp;
	unsigned char root1[MERKLE_HASH_LEN];
	unsigned char proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	struct merkle_bytes elems[MERKLE_PROOF_MAX];
	struct merkle_plan plan;
	enum trace_status rc;

	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", integrator.signer.name);
	cp.size = n2;
	if ((rc = stored_root(s, n2, cp.root, err)) != TRACE_OK)
		return rc;
	/* SPEC 9: a tree smaller than one we signed is a fork or a rollback. */
	if (last != NULL && last->size > n2)
		return trace_error_set(err, TRACE_EBADSIG, "tree_mismatch",
		    NULL, "the stored tree has %" PRIu64 " leaves, fewer than "
		    "the checkpoint of size %" PRIu64 " this key signed", n2,
		    last->size);
	if (last != NULL && last->size > 0) {
		if ((rc = stored_root(s, last->size, root1, err)) != TRACE_OK)
			return rc;
		if (!crypto_equal(root1, last->root, MERKLE_HASH_LEN))
			return trace_error_set(err, TRACE_EBADSIG,
			    "tree_mismatch", NULL, "the stored tree does not "
			    "reproduce the root of checkpoint %" PRIu64,
			    last->size);
		if ((rc = merkle_plan_consistency(last->size, n2, &plan,
		    err)) != TRACE_OK ||
		    (rc = prove(s, 0, &plan, proof, err)) != TRACE_OK)
			return rc;
		for (size_t i = 0; i < plan.count; i++)
			elems[i] = merkle_bytes_hash(proof[i]);
		if ((rc = merkle_verify_consistency(last->size, n2, elems,
		    plan.count, merkle_bytes_hash(last->root),
		    merkle_bytes_hash(cp.root), err)) != TRACE_OK)
			return trace_error_set(err, TRACE_EBADSIG,
			    "tree_mismatch", NULL, "the stored tree of size %"
			    PRIu64 " is not consistent with checkpoint %" PRIu64
			    ": %s", n2, last->size, err->message);
	}
	*signed_cp = cp;
	return checkpoint_sign(&cp, &integrator.signer, note, note_len, err);
}

/*
 * One step: integrate up to LOG_BATCH_MAX leaves, maybe sign.  Returns
 * true when more work is waiting (run again at once).
 */
static bool
integrate_once(struct store *s, long long *last_sign)
{
	struct log_state st;
	struct checkpoint last, signed_cp;
	struct growth g;
	struct log_index_step ix;
	struct trace_error err;
	enum log_commit_outcome outcome = LOG_COMMIT_MOVED;
	char *note = NULL;
	size_t note_len = 0;
	bool held = false, have_last = false, sign, more = false;
	uint64_t n0, n2;
	static bool complained;

	memset(&g, 0, sizeof(g));
	memset(&ix, 0, sizeof(ix));
	if (store_log_state(s, LOG_BATCH_MAX, &st, &err) != TRACE_OK) {
		if (!complained)
			fprintf(stderr, "trace-server: log: %s\n", err.message);
		complained = true;
		return false;
	}
	complained = false;
	n0 = st.integrated;
	n2 = n0 + st.pending;
	if (st.checkpoint != NULL) {
		/* Our own note, but Redis is not the trust anchor: open it. */
		struct note_verifier v;

		note_signer_verifier(&integrator.signer, &v);
		if (checkpoint_open(st.checkpoint, st.checkpoint_len, &v, &last,
		    &err) != TRACE_OK || last.size > n0) {
			refusal_note("the checkpoint in Redis is not ours or "
			    "is ahead of the tree; signing nothing");
			goto out;
		}
		have_last = true;
	}
	/* Sign when there are new leaves, or once for the empty log. */
	sign = have_last ? n2 > last.size : true;
	if (st.pending == 0 && !sign)
		goto out;
	if (store_log_lease(s, integrator.token, LOG_LEASE_MS, &held, &err) !=
	    TRACE_OK || !held)
		goto out;
	/*
	 * With --redis-wait-replicas, sign only leaves the replicas hold: a
	 * leaf that only the primary had could be lost in a failover and its
	 * index reused, and a checkpoint over it would fork the log.  The
	 * PUBLISH inside store_wait_replicas() puts this connection's offset
	 * past every leaf store_log_state() just read.
	 */
	if (store_wait_replicas(s, &err) != TRACE_OK)
		goto out;
	/* A log from before the lot index: index what is integrated first,
	 * a batch per step, committed without growing the tree. */
	{
		bool needed = false;

		if (log_index_backfill(s, n0, &ix, &needed, &err) != TRACE_OK) {
			char why[sizeof(integrator.refusal)];

			snprintf(why, sizeof(why), "lot index: %s", err.message);
			refusal_note(why);
			goto out;
		}
		if (needed) {
			if (store_log_commit(s, integrator.token, n0, n0, 0,
			    have_last ? st.checkpoint : "", "", n0, &ix.commit,
			    &outcome, &err) != TRACE_OK)
				fprintf(stderr, "trace-server: log: %s\n",
				    err.message);
			more = outcome == LOG_COMMIT_OK;
			goto out;
		}
		log_index_step_clear(&ix);
	}
	/* The lot index follows the tree leaf by leaf (SPEC 11). */
	if (log_index_apply(s, n0, &st, &ix, &err) != TRACE_OK) {
		char why[sizeof(integrator.refusal)];

		snprintf(why, sizeof(why), "lot index: %s", err.message);
		refusal_note(why);
		goto out;
	}
	/* Every signed tree but the empty one ends with an index statement,
	 * which covers every earlier leaf (SPEC 8 and 11). */
	if (n2 > 0 && !ix.last_is_statement)
		sign = false;
	if (st.pending > 0) {
		if (growth_compute(s, n0, &st, &g, &err) != TRACE_OK ||
		    growth_store(s, n0, &st, &g, &err) != TRACE_OK) {
			fprintf(stderr, "trace-server: log: %s\n", err.message);
			goto out;
		}
	}
	/* Caught up or a second since the last one: a checkpoint. */
	if (sign && st.pending == LOG_BATCH_MAX &&
	    monotonic_ms() - *last_sign < LOG_SIGN_INTERVAL_MS)
		sign = false;
	/*
	 * The mark, not Redis, says what this key signed last (SPEC 9).  It
	 * is written durably before Redis sees the new checkpoint: a crash
	 * in between leaves a mark ahead of Redis, which the next step signs
	 * again (the same tree), never one behind it.
	 */
	if (sign && (checked_sign(s, integrator.mark.have ?
	    &integrator.mark.cp : NULL, n2, &note, &note_len, &signed_cp,
	    &err) != TRACE_OK || log_mark_save(&integrator.mark, note,
	    note_len, &signed_cp, &err) != TRACE_OK)) {
		char why[sizeof(integrator.refusal)];

		snprintf(why, sizeof(why), "refusing to sign size %" PRIu64
		    ": %s", n2, err.message);
		refusal_note(why);
		free(note);
		note = NULL;
		sign = false;
		/* Still integrate: the nodes are right or proofs would show. */
	}
	if (store_log_commit(s, integrator.token, n0, n2, st.pending,
	    have_last ? st.checkpoint : "", sign ? note : "", n2,
	    st.pending > 0 ? &ix.commit : NULL, &outcome, &err) != TRACE_OK) {
		fprintf(stderr, "trace-server: log: %s\n", err.message);
		goto out;
	}
	if (outcome == LOG_COMMIT_OK) {
		atomic_fetch_add(&leaves_integrated, st.pending);
		if (sign) {
			refusal_clear();
			atomic_fetch_add(&checkpoints_signed, 1);
			*last_sign = monotonic_ms();
			heads_note(n2);
			/* The witnesses' thread takes it from here: ingest
			 * and integration never wait for a witness. */
			witness_offer(note, note_len);
		}
		more = st.pending == LOG_BATCH_MAX;
		index_prune(s);
		/* New leaves and no index statement after them: append one
		 * if nothing else came meanwhile, and sign it next step. */
		if (n2 > 0 && !ix.last_is_statement &&
		    (!have_last || n2 > last.size) && !more) {
			bool appended = false;

			/* Appended: sign it now; moved: integrate what came. */
			if (log_index_append_statement(s,
			    &integrator.srv->log_key, n2, &ix,
			    integrator.srv->cfg.max_age,
			    integrator.srv->cfg.grace, &appended, &err) !=
			    TRACE_OK)
				fprintf(stderr, "trace-server: log: index "
				    "statement: %s\n", err.message);
			else
				more = true;
		}
	}
out:
	log_index_step_clear(&ix);
	growth_free(&g);
	free(note);
	log_state_clear(&st);
	return more;
}

static void *
integrator_main(void *arg)
{
	struct server *srv = arg;
	struct trace_error err;
	struct store *s = store_open(&srv->redis, &err);
	long long last_sign = 0;
	bool held;

	if (s == NULL) {
		fprintf(stderr, "trace-server: log: %s\n", err.message);
		return NULL;
	}
	while (!atomic_load(&integrator.stop)) {
		if (integrate_once(s, &last_sign))
			continue;
		/* An idle log too drops what the grace no longer keeps. */
		index_prune(s);
		for (int i = 0; i < LOG_IDLE_MS / 50 &&
		    !atomic_load(&integrator.stop); i++)
			usleep(50000);
	}
	store_log_lease(s, integrator.token, 0, &held, &err);
	store_close(s);
	return NULL;
}

int
log_start(struct server *srv)
{
	unsigned char raw[16];
	struct note_verifier v;
	struct trace_error err;
	struct store *s;
	enum trace_status rc;

	integrator.mark.lock_fd = -1;
	if (!srv->log_key.has_secret)
		return 0;
	if (note_signer_from_secret(srv->cfg.log_origin, srv->log_key.secret,
	    &integrator.signer, &err) != TRACE_OK) {
		fprintf(stderr, "trace-server: --log-origin: %s\n", err.message);
		return -1;
	}
	note_signer_verifier(&integrator.signer, &v);
	if ((s = store_open(&srv->redis, &err)) == NULL) {
		fprintf(stderr, "trace-server: %s\n", err.message);
		return -1;
	}
	rc = log_mark_open(&integrator.mark, srv->cfg.log_state,
	    srv->cfg.log_state_init, &v, s, &err);
	store_close(s);
	if (rc != TRACE_OK) {
		fprintf(stderr, "trace-server: --log-state: %s\n", err.message);
		return -1;
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		fprintf(stderr, "trace-server: no randomness for the lease\n");
		log_mark_close(&integrator.mark);
		return -1;
	}
	hex_encode(raw, sizeof(raw), integrator.token);
	integrator.srv = srv;
	atomic_store(&integrator.stop, false);
	if (pthread_create(&integrator.thread, NULL, integrator_main, srv) !=
	    0) {
		fprintf(stderr, "trace-server: cannot start the log integrator\n");
		log_mark_close(&integrator.mark);
		return -1;
	}
	integrator.running = true;
	return 0;
}

void
log_stop(void)
{
	if (!integrator.running)
		return;
	atomic_store(&integrator.stop, true);
	pthread_join(integrator.thread, NULL);
	integrator.running = false;
	log_mark_close(&integrator.mark);
	note_signer_clear(&integrator.signer);
}

/* ---- handlers ------------------------------------------------------------- */

void
log_handle_log(struct request *req)
{
	char vkey[NOTE_VERIFIER_KEY_MAX], *note = NULL;
	struct checkpoint cp;
	struct trace_error err;
	uint64_t integrated = 0;
	size_t len = 0;
	struct buf out;

	buf_init(&out, 0);
	if (note_verifier_key_format(req->srv->cfg.log_origin,
	    req->srv->log_key.public_key, vkey, sizeof(vkey), &err) !=
	    TRACE_OK ||
	    store_log_head(req->worker->store, &integrated, &note, &len, &err) !=
	    TRACE_OK) {
		http_send_error(req, &err);
		goto out;
	}
	memset(&cp, 0, sizeof(cp));
	if (note != NULL && !log_checkpoint_read(note, len, &cp)) {
		trace_error_set(&err, TRACE_ESTORE, "store_corrupt", NULL,
		    "the stored checkpoint does not parse");
		http_send_error(req, &err);
		goto out;
	}
	buf_puts(&out, "{\"origin\":");
	buf_json_string(&out, req->srv->cfg.log_origin,
	    strlen(req->srv->cfg.log_origin));
	buf_puts(&out, ",\"vkey\":");
	buf_json_string(&out, vkey, strlen(vkey));
	/* size: the latest signed tree; integrated: the stored one. */
	buf_printf(&out, ",\"size\":%" PRIu64 ",\"integrated\":%" PRIu64,
	    cp.size, integrated);
	/* SPEC 9: the consumer page's verifier requires this quorum (on the
	 * operator's own word, like vkey; the standalone verifier pins it). */
	if (req->srv->witness_policy_text != NULL) {
		buf_puts(&out, ",\"witnessPolicy\":");
		buf_json_string(&out, req->srv->witness_policy_text,
		    strlen(req->srv->witness_policy_text));
	}
	buf_puts(&out, "}");
	http_send_json(req, 200, &out);
out:
	free(note);
	buf_free(&out);
}

void
log_handle_checkpoint(struct request *req)
{
	struct trace_error err;
	uint64_t integrated;
	char *note = NULL;
	size_t len = 0;

	/* With witnesses, only what met their quorum is the checkpoint
	 * (SPEC 9): the log's note with the cosignature lines. */
	if ((req->srv->witness_policy != NULL ?
	    store_log_witnessed(req->worker->store, &note, &len, &err) :
	    store_log_head(req->worker->store, &integrated, &note, &len,
	    &err)) != TRACE_OK) {
		http_send_error(req, &err);
		return;
	}
	if (note == NULL) {
		/* Only between the first start and the integrator's first
		 * step (or the witnesses' first quorum): worth a retry. */
		if (req->srv->witness_policy != NULL)
			trace_error_set(&err, TRACE_ESTORE,
			    "no_witnessed_checkpoint", NULL, "no checkpoint "
			    "of the log has met the witness quorum yet");
		else
			trace_error_set(&err, TRACE_ESTORE, "no_checkpoint",
			    NULL, "the log has not signed a checkpoint yet");
		http_send_error(req, &err);
		return;
	}
	http_send(req, 200, "text/plain; charset=utf-8", note, len,
	    "Cache-Control: no-store\r\n");
	free(note);
}

/*
 * The proof's two query integers a and b (e.g. "index" and "size"),
 * required and strictly parsed; false after answering 400.  The query
 * string is read by parse.c: a repeated name, a bad escape, a NUL or
 * invalid UTF-8 in either is bad_parameter naming it; other parameters
 * are ignored, as they always were.
 */
static bool
query_uints(struct request *req, const char *a, uint64_t *av, const char *b,
    uint64_t *bv)
{
	const char *const names[] = { a, b, NULL };
	uint64_t *const outs[] = { av, bv };
	struct query_fields q;
	struct trace_error err;
	bool ok = true;

	if (parse_query(req->info->query_string, names, PARSE_UNKNOWN_IGNORED,
	    &q, &err) != TRACE_OK) {
		http_send_error(req, &err);
		return false;
	}
	for (size_t i = 0; i < 2 && ok; i++) {
		const char *text = parse_query_value(&q, names[i]);

		if (text == NULL) {
			trace_error_set(&err, TRACE_EMALFORMED, "missing_field",
			    names[i], "query parameter %s is required (decimal "
			    "digits)", names[i]);
			ok = false;
		} else if (!log_parse_uint(text, outs[i])) {
			trace_error_set(&err, TRACE_EMALFORMED, "bad_field",
			    names[i], "query parameter %s must be decimal "
			    "digits without sign or leading zero, at most "
			    "2^63-1", names[i]);
			ok = false;
		}
	}
	parse_query_clear(&q);
	if (!ok)
		http_send_error(req, &err);
	return ok;
}

static void
send_proof(struct request *req, const char *a, uint64_t av, const char *b,
    uint64_t bv, unsigned char proof[][MERKLE_HASH_LEN], size_t count)
{
	char b64[base64_encoded_len(MERKLE_HASH_LEN) + 1];
	struct buf out;

	buf_init(&out, 0);
	buf_printf(&out, "{\"%s\":%" PRIu64 ",\"%s\":%" PRIu64 ",\"hashes\":[",
	    a, av, b, bv);
	for (size_t i = 0; i < count; i++) {
		base64_encode(proof[i], MERKLE_HASH_LEN, b64);
		buf_printf(&out, "%s\"%s\"", i > 0 ? "," : "", b64);
	}
	buf_puts(&out, "]}");
	http_send_json(req, 200, &out);
	buf_free(&out);
}

void
log_handle_proofs(struct request *req)
{
	const char *what = req->path + strlen("/api/v1/proofs/");
	unsigned char proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	struct merkle_plan plan;
	struct trace_error err;
	uint64_t x, y;

	if (strcmp(what, "inclusion") == 0) {
		if (!query_uints(req, "index", &x, "size", &y))
			return;
		if (x >= y) {
			trace_error_set(&err, TRACE_ERULE, "bad_range", "index",
			    "index must be below size");
			goto fail;
		}
		if (merkle_plan_inclusion(x, y, &plan, &err) != TRACE_OK ||
		    prove(req->worker->store, y, &plan, proof, &err) !=
		    TRACE_OK)
			goto fail;
		atomic_fetch_add(&proofs_served, 1);
		send_proof(req, "index", x, "size", y, proof, plan.count);
	} else if (strcmp(what, "consistency") == 0) {
		if (!query_uints(req, "from", &x, "to", &y))
			return;
		if (x == 0 || x > y) {
			/* RFC 9162 2.1.4: 0 < from <= to; a proof from the
			 * empty tree would prove nothing. */
			trace_error_set(&err, TRACE_ERULE, "bad_range", "from",
			    "from must be at least 1 and at most to");
			goto fail;
		}
		if (merkle_plan_consistency(x, y, &plan, &err) != TRACE_OK ||
		    prove(req->worker->store, y, &plan, proof, &err) !=
		    TRACE_OK)
			goto fail;
		atomic_fetch_add(&proofs_served, 1);
		send_proof(req, "from", x, "to", y, proof, plan.count);
	} else {
		trace_error_set(&err, TRACE_ENOTFOUND, "not_found", NULL,
		    "proofs are /api/v1/proofs/inclusion and "
		    "/api/v1/proofs/consistency");
		goto fail;
	}
	return;
fail:
	http_send_error(req, &err);
}
