/*
 * keycache.c - enrolled keys by key id, shared by all workers.
 *
 * An enroll statement never changes once logged, so a key's entry can be
 * cached for the life of the process.  Revocation can, through any server
 * sharing the Redis: a key the cache holds as unrevoked is read again
 * once its copy is KEY_CACHE_MS old (a revoked one stays revoked), so
 * another instance's revocation shows on this one's pages within that
 * time.  Appends never rest on the cache: the store re-checks revocation
 * atomically in every one, so a stale copy can delay nothing but an error
 * message or a page's "revoked" label.  One mutex; the critical sections
 * are a hash lookup or insert.
 *
 * Reading a stored key statement is here too (key_cache_record_entry), so
 * that the cache and the bundles agree on what a stored entry says.  A
 * round-1 enrollment of a public key refused today (weak_public_key)
 * enrolled nobody: such a key is "not enrolled" here and never cached,
 * while a bundle still shows its entry to the verifier.
 *
 * Orgs (SPEC 8 "Organisations") are cached here too, for ORG_CACHE_MS:
 * the root may replace an org through any server sharing the Redis, so a
 * cached org is re-read after that long; an enrollment is re-checked
 * against the org record atomically in the append (org_changed).  Every
 * key_state handed out carries its org as known then: org_known only when
 * the key was enrolled after the org was first registered (a round-1 key
 * whose free-text org happens to equal a later org id is not a member).
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/dsse.h"
#include "monotonic.h"
#include "server.h"

#define CACHE_BUCKETS 4096
#define CACHE_MAX 100000
#define KEY_CACHE_MS 1000
#define ORG_CACHE_MS 5000
#define ORG_CACHE_MAX 4096

struct org_node {
	struct org_node *next;
	char id[ORG_ID_MAX + 1];
	bool found;
	struct org_info org;
	char where[KEY_ORG_WHERE_MAX];
	long long first_index;
	long long loaded_ms;
};

struct cache_node {
	struct cache_node *next;
	struct key_state state;
	long long loaded_ms;            /* monotonic */
};

struct key_cache {
	pthread_mutex_t lock;
	struct cache_node *buckets[CACHE_BUCKETS];
	size_t count;
	struct org_node *orgs[CACHE_BUCKETS];
	size_t org_count;
};

struct key_cache *
key_cache_new(void)
{
	struct key_cache *c = calloc(1, sizeof(*c));

	if (c != NULL)
		pthread_mutex_init(&c->lock, NULL);
	return c;
}

void
key_cache_free(struct key_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < CACHE_BUCKETS; i++) {
		struct cache_node *n = c->buckets[i], *next;

		for (; n != NULL; n = next) {
			next = n->next;
			free(n);
		}
		for (struct org_node *o = c->orgs[i], *onext; o != NULL;
		    o = onext) {
			onext = o->next;
			free(o);
		}
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static size_t
bucket_of(const char *keyid)
{
	size_t h = 5381;

	for (; *keyid != '\0'; keyid++)
		h = h * 33 + (unsigned char)*keyid;
	return h % CACHE_BUCKETS;
}

void
key_cache_forget(struct key_cache *c, const char *keyid)
{
	struct cache_node **p;

	pthread_mutex_lock(&c->lock);
	for (p = &c->buckets[bucket_of(keyid)]; *p != NULL; p = &(*p)->next) {
		if (strcmp((*p)->state.entry.keyid, keyid) == 0) {
			struct cache_node *dead = *p;

			*p = dead->next;
			free(dead);
			c->count--;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
}

enum trace_status
key_cache_record_entry(const struct store_record *r, struct key_entry *entry,
    bool *weak, struct trace_error *err)
{
	struct dsse_envelope env;
	struct trace_error why;
	enum trace_status rc;

	*weak = false;
	if (dsse_envelope_parse_stored(r->envelope, r->envelope_len, &env,
	    NULL) != TRACE_OK)
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "a stored key entry does not parse");
	rc = key_entry_parse(env.payload, env.payload_len, entry, &why);
	dsse_envelope_clear(&env);
	/* keyentry.h: after weak_public_key the entry is complete. */
	if (rc == TRACE_ERULE && strcmp(why.code, "weak_public_key") == 0) {
		*weak = true;
		return TRACE_OK;
	}
	if (rc != TRACE_OK)
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "a stored key entry is invalid");
	return TRACE_OK;
}

/*
 * Build a key_state from the enroll (and revoke) records of a key, read
 * as stored data.  *enrolled is false for a round-1
 * enrollment of a key that is weak by today's rule (weak_public_key): it
 * never enrolled anything, so its statements are unknown_key, not a
 * corrupt store.
 */
static enum trace_status
state_from_records(const struct store_records *recs, bool revoked,
    struct key_state *state, bool *enrolled, struct trace_error *err)
{
	struct key_entry revoke;
	bool weak = false;
	enum trace_status rc;

	memset(state, 0, sizeof(*state));
	*enrolled = false;
	if ((rc = key_cache_record_entry(&recs->items[0], &state->entry, &weak,
	    err)) != TRACE_OK)
		return rc;
	if (state->entry.op != KEY_OP_ENROLL)
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "a stored key entry is invalid");
	if (weak)
		return TRACE_OK;
	state->enrolled_at = recs->items[0].log_index;
	if (revoked && recs->count == 2) {
		if (key_cache_record_entry(&recs->items[1], &revoke, &weak,
		    NULL) != TRACE_OK || weak || revoke.op != KEY_OP_REVOKE)
			return trace_error_set(err, TRACE_ESTORE, "store_corrupt",
			    NULL, "a stored revocation is invalid");
		state->revoked = true;
		state->revoked_at = recs->items[1].log_index;
		memcpy(state->revoke_reason, revoke.reason,
		    sizeof(state->revoke_reason));
		state->compromised = revoke.has_compromised_at;
		state->compromised_at = revoke.compromised_at;
	}
	*enrolled = true;
	return TRACE_OK;
}

void
key_cache_forget_org(struct key_cache *c, const char *org)
{
	pthread_mutex_lock(&c->lock);
	for (struct org_node *o = c->orgs[bucket_of(org)]; o != NULL;
	    o = o->next)
		if (strcmp(o->id, org) == 0)
			o->loaded_ms = LLONG_MIN / 2;
	pthread_mutex_unlock(&c->lock);
}

/* An org entry as stored: an org statement that parses. */
static enum trace_status
org_from_records(const struct store_records *recs, struct org_info *org,
    struct trace_error *err)
{
	struct key_entry e;
	bool weak = false;
	enum trace_status rc;

	if ((rc = key_cache_record_entry(&recs->items[0], &e, &weak, err)) !=
	    TRACE_OK)
		return rc;
	if (e.op != KEY_OP_ORG)
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "a stored org entry is invalid");
	*org = e.org_def;
	return TRACE_OK;
}

enum trace_status
key_cache_org(struct server *srv, struct store *store, const char *id,
    struct org_info *org, char *where, size_t where_size,
    long long *first_index, bool *found, struct trace_error *err)
{
	struct key_cache *c = srv->keys;
	struct store_records recs;
	struct org_node *o, fresh;
	long long now = monotonic_ms();
	size_t b;
	enum trace_status rc;

	*found = false;
	if (where_size > 0)
		where[0] = '\0';
	if (!org_id_valid(id, strlen(id)))
		return TRACE_OK;
	b = bucket_of(id);
	pthread_mutex_lock(&c->lock);
	for (o = c->orgs[b]; o != NULL; o = o->next) {
		if (strcmp(o->id, id) == 0 &&
		    now - o->loaded_ms < ORG_CACHE_MS) {
			fresh = *o;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (o == NULL) {
		memset(&fresh, 0, sizeof(fresh));
		snprintf(fresh.id, sizeof(fresh.id), "%s", id);
		if ((rc = store_org_record(store, id, &recs, fresh.where,
		    sizeof(fresh.where), &fresh.first_index, &fresh.found,
		    err)) != TRACE_OK)
			return rc;
		if (fresh.found) {
			rc = org_from_records(&recs, &fresh.org, err);
			store_records_clear(&recs);
			if (rc != TRACE_OK)
				return rc;
		}
		fresh.loaded_ms = now;
		pthread_mutex_lock(&c->lock);
		for (o = c->orgs[b]; o != NULL; o = o->next)
			if (strcmp(o->id, id) == 0)
				break;
		if (o != NULL) {
			fresh.next = o->next;
			*o = fresh;
		} else if (c->org_count < ORG_CACHE_MAX &&
		    (o = malloc(sizeof(*o))) != NULL) {
			*o = fresh;
			o->next = c->orgs[b];
			c->orgs[b] = o;
			c->org_count++;
		}
		pthread_mutex_unlock(&c->lock);
	}
	*found = fresh.found;
	if (fresh.found) {
		*org = fresh.org;
		*first_index = fresh.first_index;
		snprintf(where, where_size, "%s", fresh.where);
	}
	return TRACE_OK;
}

/* Set state's org: the registered org its enrollment names, if the key
 * was enrolled after that org was first registered. */
static enum trace_status
state_org(struct server *srv, struct store *store, struct key_state *state,
    struct trace_error *err)
{
	char where[KEY_ORG_WHERE_MAX];
	long long first = 0;
	bool found = false;
	enum trace_status rc;

	state->org_known = false;
	state->org_shadowed = false;
	if (state->is_root)
		return TRACE_OK;
	if ((rc = key_cache_org(srv, store, state->entry.org, &state->org,
	    where, sizeof(where), &first, &found, err)) != TRACE_OK)
		return rc;
	state->org_known = found && first < state->enrolled_at;
	state->org_shadowed = found && !state->org_known;
	return TRACE_OK;
}

const char *
key_state_org_name(const struct key_state *state, bool chinese)
{
	if (!state->org_known)
		return state->entry.org;
	return chinese ? state->org.name_zh : state->org.name_en;
}

enum trace_status
key_cache_get(struct server *srv, struct store *store, const char *keyid,
    struct key_state *state, bool *found, struct trace_error *err)
{
	struct key_cache *c = srv->keys;
	struct store_records recs;
	struct cache_node *n;
	bool revoked = false;
	size_t b = bucket_of(keyid);
	long long now = monotonic_ms();
	enum trace_status rc;

	*found = false;
	if (strcmp(keyid, srv->root.entry.keyid) == 0) {
		*state = srv->root;
		*found = true;
		return TRACE_OK;
	}
	pthread_mutex_lock(&c->lock);
	for (n = c->buckets[b]; n != NULL; n = n->next) {
		if (strcmp(n->state.entry.keyid, keyid) == 0) {
			/* Only a revocation changes a key: read an unrevoked
			 * one again once its copy is old. */
			if (n->state.revoked || now - n->loaded_ms <
			    KEY_CACHE_MS) {
				*state = n->state;
				*found = true;
			}
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (*found)
		return state_org(srv, store, state, err);

	rc = store_key_records(store, keyid, &recs, &revoked, err);
	if (rc != TRACE_OK)
		return rc;
	if (recs.count == 0) {
		store_records_clear(&recs);
		return TRACE_OK;
	}
	rc = state_from_records(&recs, revoked, state, found, err);
	store_records_clear(&recs);
	if (rc != TRACE_OK || !*found)
		return rc;
	pthread_mutex_lock(&c->lock);
	/* Another worker may have loaded the same key meanwhile; an old copy
	 * is replaced (a revocation is never undone: keep one seen). */
	for (n = c->buckets[b]; n != NULL; n = n->next)
		if (strcmp(n->state.entry.keyid, keyid) == 0)
			break;
	if (n != NULL) {
		if (!n->state.revoked) {
			n->state = *state;
			n->loaded_ms = now;
		}
	} else if (c->count < CACHE_MAX &&
	    (n = malloc(sizeof(*n))) != NULL) {
		n->state = *state;
		n->loaded_ms = now;
		n->next = c->buckets[b];
		c->buckets[b] = n;
		c->count++;
	}
	pthread_mutex_unlock(&c->lock);
	return state_org(srv, store, state, err);
}

/*
 * SPEC 8 "Revocation and compromise", policy_compromised(): is the
 * statement at log_index by state read as compromised?  Its key's own
 * compromisedAt, or an enrollment that counts for nothing: made by an
 * admin reported compromised and received after its compromisedAt, or by
 * an admin whose own enrollment counts for nothing (depth bounds a
 * corrupt registry's loop).  The receipt time is the first index
 * statement's after it (store_receipt_time); none yet reads as "after".
 */
static enum trace_status
read_compromised(struct server *srv, struct store *store,
    const struct key_state *state, long long log_index, int depth,
    bool *out, struct trace_error *err)
{
	struct key_state admin;
	bool found = false, known = false;
	uint64_t at = 0;
	long long t = 0;
	enum trace_status rc;

	*out = false;
	if (state->is_root || depth > 8)
		return TRACE_OK;
	if (state->compromised) {
		if ((rc = store_receipt_time(store, log_index, &known, &at, &t,
		    err)) != TRACE_OK)
			return rc;
		if ((*out = policy_compromised(state, known, (long long)at,
		    t)))
			return TRACE_OK;
	}
	/* Its enrollment: by whom, and was that admin compromised then? */
	if ((rc = key_cache_get(srv, store, state->entry.signer, &admin,
	    &found, err)) != TRACE_OK || !found)
		return rc;
	return read_compromised(srv, store, &admin, state->enrolled_at,
	    depth + 1, out, err);
}

enum trace_status
key_cache_compromised(struct server *srv, struct store *store,
    const struct key_state *state, long long log_index, bool *out,
    struct trace_error *err)
{
	return read_compromised(srv, store, state, log_index, 0, out, err);
}

enum trace_status
key_cache_signers(struct server *srv, struct store *store,
    struct fold_statement *st, size_t count,
    char (*orgs)[KEY_TEXT_MAX + 1], struct trace_error *err)
{
	struct key_state state;
	const char *last = NULL;
	enum key_role role = ROLE_COUNT;
	bool found = false, suspect = false;
	enum trace_status rc;

	for (size_t i = 0; i < count; i++) {
		const char *keyid = st[i].ev->signer;

		/* Chains run in stretches by one signer: ask once each. */
		if (last == NULL || strcmp(last, keyid) != 0) {
			if ((rc = key_cache_get(srv, store, keyid, &state,
			    &found, err)) != TRACE_OK)
				return rc;
			role = found ? state.entry.role : ROLE_COUNT;
			if (!found)
				state.entry.org[0] = '\0';
			last = keyid;
			/* Only a key in a compromised branch costs more. */
			suspect = false;
			if (found && (rc = read_compromised(srv, store, &state,
			    st[i].log_index, 0, &suspect, err)) != TRACE_OK)
				return rc;
			suspect = suspect || (found && state.compromised);
		}
		st[i].compromised = false;
		if (suspect && (rc = read_compromised(srv, store, &state,
		    st[i].log_index, 0, &st[i].compromised, err)) != TRACE_OK)
			return rc;
		snprintf(orgs[i], sizeof(orgs[i]), "%s",
		    found ? policy_fold_org(&state) : "");
		st[i].signer_role = role;
		st[i].signer_org = orgs[i];
		/* fold.h: what it would clear changes nothing. */
		st[i].signer_unenrolled = role == ROLE_COUNT;
	}
	return TRACE_OK;
}
