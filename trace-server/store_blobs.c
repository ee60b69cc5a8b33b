/*
 * store_blobs.c - inspection documents in Redis: admitting an upload
 * before its body is read, storing it with its logged upload statement in
 * one atomic step, reading one (or the facts of several, for pages) and
 * sweeping those no accepted event names (store.lua trace_blob_*; the key
 * layout is in store.lua's header, the names in store_private.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/timefmt.h"
#include "store_private.h"

/* A key's quota counts bytes per UTC day; its counter outlives the day a
 * little, then expires. */
#define QUOTA_TTL_SECONDS (2 * 86400)

static void
quota_key(char *out, size_t size, const char *signer, long long now)
{
	char day[21], compact[9];

	time_format_utc(now, day);
	/* "YYYY-MM-DD..." -> "YYYYMMDD" */
	memcpy(compact, day, 4);
	memcpy(compact + 4, day + 5, 2);
	memcpy(compact + 6, day + 8, 2);
	compact[8] = '\0';
	snprintf(out, size, KEY_BLOBS_QUOTA, signer, compact);
}

static bool
reply_word(const redisReply *r, const char *word)
{
	return r != NULL && r->type == REDIS_REPLY_STRING &&
	    r->len == strlen(word) && memcmp(r->str, word, r->len) == 0;
}

/* A decimal string or integer element. */
static bool
reply_ll(const redisReply *r, long long *out)
{
	uint64_t v;

	if (r->type == REDIS_REPLY_INTEGER) {
		*out = r->integer;
		return true;
	}
	if (!store_reply_u64(r, &v))
		return false;
	*out = (long long)v;
	return true;
}

/* size, media, id, logIndex (elements first..first+3) into info. */
static bool
parse_info(const redisReply *r, size_t first, struct blob_info *info)
{
	const redisReply *media, *id;

	memset(info, 0, sizeof(*info));
	if (r->type != REDIS_REPLY_ARRAY || r->elements < first + 4)
		return false;
	media = r->element[first + 1];
	id = r->element[first + 2];
	if (!reply_ll(r->element[first], &info->size) ||
	    media->type != REDIS_REPLY_STRING ||
	    !blob_media_parse(media->str, media->len, &info->media) ||
	    id->type != REDIS_REPLY_STRING || id->len != 2 * SHA256_LEN ||
	    !reply_ll(r->element[first + 3], &info->log_index))
		return false;
	memcpy(info->id, id->str, id->len);
	info->id[id->len] = '\0';
	info->found = true;
	return true;
}

/* The replies of trace_blob_admit and trace_blob_put. */
static enum trace_status
parse_outcome(const redisReply *r, enum blob_outcome *outcome,
    struct blob_info *info, long long *used, struct trace_error *err)
{
	const redisReply *w;

	if (r->type == REDIS_REPLY_ERROR)
		return trace_error_set(err, TRACE_ESTORE, "store_error", NULL,
		    "the store refused the document: %.200s", r->str);
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
		goto corrupt;
	w = r->element[0];
	if (reply_word(w, "ok")) {
		*outcome = BLOB_OK;
		if (r->elements == 2 && info != NULL &&
		    !reply_ll(r->element[1], &info->log_index))
			goto corrupt;
	} else if (reply_word(w, "present")) {
		*outcome = BLOB_PRESENT;
		if (info != NULL && !parse_info(r, 1, info))
			goto corrupt;
	} else if (reply_word(w, "quota") || reply_word(w, "full")) {
		*outcome = reply_word(w, "quota") ? BLOB_QUOTA : BLOB_FULL;
		if (r->elements != 2 || (used != NULL &&
		    !reply_ll(r->element[1], used)))
			goto corrupt;
	} else if (reply_word(w, "revoked")) {
		*outcome = BLOB_REVOKED;
	} else {
		goto corrupt;
	}
	return TRACE_OK;
corrupt:
	return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
	    "unexpected answer from the store about a document");
}

enum trace_status
store_blob_admit(struct store *s, const char *sha256, long long size,
    const char *signer, const struct blob_limits *limits,
    enum blob_outcome *outcome, struct blob_info *info, long long *used,
    struct trace_error *err)
{
	char meta[KEY_BLOB_MAX], quota[KEY_BLOB_MAX], n[3][24];
	const char *argv[] = { "FCALL", "trace_blob_admit", "3", meta,
		KEY_BLOBS_BYTES, quota, n[0], n[1], n[2] };
	redisReply *r = NULL;
	enum trace_status rc;

	memset(info, 0, sizeof(*info));
	snprintf(meta, sizeof(meta), KEY_BLOB_META, sha256);
	quota_key(quota, sizeof(quota), signer, limits->now);
	snprintf(n[0], sizeof(n[0]), "%lld", size);
	snprintf(n[1], sizeof(n[1]), "%lld", limits->quota);
	snprintf(n[2], sizeof(n[2]), "%lld", limits->store_max);
	if ((rc = store_command(s, 9, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	rc = parse_outcome(r, outcome, info, used, err);
	freeReplyObject(r);
	return rc;
}

enum trace_status
store_blob_put(struct store *s, const struct blob_put_args *a,
    const struct blob_limits *limits, enum blob_outcome *outcome,
    struct blob_info *info, struct trace_error *err)
{
	char data[KEY_BLOB_MAX], meta[KEY_BLOB_MAX], quota[KEY_BLOB_MAX];
	char size[24], qmax[24], smax[24], now[24], ttl[24];
	const char *argv[] = { "FCALL", "trace_blob_put", "11", data, meta,
		KEY_BLOBS_BYTES, quota, KEY_BLOBS_REFS, KEY_BLOBS_UNREFERENCED,
		KEY_BLOBS_STATEMENTS, KEY_IDS, KEY_REVOKE, KEY_LOG_SIZE,
		KEY_LOG_PENDING,
		a->sha256, size, qmax, smax, blob_media_name(a->media), now,
		a->signer, a->id, (const char *)a->leaf_hash, a->envelope, ttl,
		(const char *)a->data };
	enum { ARGC = sizeof(argv) / sizeof(argv[0]) };
	size_t lens[ARGC];
	redisReply *r = NULL;
	enum trace_status rc;

	memset(info, 0, sizeof(*info));
	snprintf(data, sizeof(data), KEY_BLOB, a->sha256);
	snprintf(meta, sizeof(meta), KEY_BLOB_META, a->sha256);
	quota_key(quota, sizeof(quota), a->signer, limits->now);
	snprintf(size, sizeof(size), "%zu", a->size);
	snprintf(qmax, sizeof(qmax), "%lld", limits->quota);
	snprintf(smax, sizeof(smax), "%lld", limits->store_max);
	snprintf(now, sizeof(now), "%lld", limits->now);
	snprintf(ttl, sizeof(ttl), "%d", QUOTA_TTL_SECONDS);
	/* The last four: leaf hash, envelope, ttl, the bytes (binary). */
	for (size_t i = 0; i < ARGC - 4; i++)
		lens[i] = strlen(argv[i]);
	lens[ARGC - 4] = SHA256_LEN;
	lens[ARGC - 3] = a->envelope_len;
	lens[ARGC - 2] = strlen(ttl);
	lens[ARGC - 1] = a->size;
	if ((rc = store_command(s, ARGC, argv, lens, &r, err)) != TRACE_OK)
		return rc;
	rc = parse_outcome(r, outcome, info, NULL, err);
	freeReplyObject(r);
	if (rc == TRACE_OK && *outcome == BLOB_OK)
		rc = store_wait_replicas(s, err);
	return rc;
}

void
blob_read_clear(struct blob_read *r)
{
	if (r == NULL)
		return;
	if (r->reply != NULL)
		freeReplyObject(r->reply);
	memset(r, 0, sizeof(*r));
}

enum trace_status
store_blob_get(struct store *s, const char *sha256, struct blob_read *out,
    struct trace_error *err)
{
	char meta[KEY_BLOB_MAX], data[KEY_BLOB_MAX];
	const char *argv[] = { "FCALL_RO", "trace_blob_get", "2", meta, data };
	redisReply *r = NULL;
	enum trace_status rc;

	memset(out, 0, sizeof(*out));
	snprintf(meta, sizeof(meta), KEY_BLOB_META, sha256);
	snprintf(data, sizeof(data), KEY_BLOB, sha256);
	if ((rc = store_command(s, 5, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	out->reply = r;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 0)
		return TRACE_OK;
	if (!parse_info(r, 0, &out->info)) {
		blob_read_clear(out);
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "a stored document is malformed");
	}
	return TRACE_OK;
}

enum trace_status
store_blob_range(struct store *s, const char *sha256, size_t offset,
    size_t len, struct blob_read *out, struct trace_error *err)
{
	char key[KEY_BLOB_MAX], from[24], to[24];
	const char *argv[] = { "GETRANGE", key, from, to };
	redisReply *r = NULL;
	enum trace_status rc;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return TRACE_OK;
	snprintf(key, sizeof(key), KEY_BLOB, sha256);
	snprintf(from, sizeof(from), "%zu", offset);
	snprintf(to, sizeof(to), "%zu", offset + len - 1);
	if ((rc = store_command(s, 4, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	out->reply = r;
	if (r->type != REDIS_REPLY_STRING || r->len > len) {
		blob_read_clear(out);
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "unexpected answer from the store to a document read");
	}
	out->data = (const unsigned char *)r->str;
	out->len = r->len;
	return TRACE_OK;
}

enum trace_status
store_blob_infos(struct store *s, const char *const *sha256s, size_t count,
    struct blob_info *infos, struct trace_error *err)
{
	struct store_batch b;
	enum trace_status rc;

	memset(infos, 0, count * sizeof(*infos));
	if (count == 0)
		return TRACE_OK;
	store_batch_init(&b);
	for (size_t i = 0; i < count; i++) {
		store_batch_command(&b);
		store_batch_str(&b, "HMGET");
		store_batch_fmt(&b, KEY_BLOB_META, sha256s[i]);
		store_batch_str(&b, "size");
		store_batch_str(&b, "media");
		store_batch_str(&b, "id");
		store_batch_str(&b, "logIndex");
	}
	if ((rc = store_batch_run(s, &b, err)) == TRACE_OK)
		for (size_t i = 0; i < count; i++) {
			const redisReply *r = store_batch_reply(&b, i);

			/* Absent (nil fields) or unreadable: not uploaded. */
			if (r->type == REDIS_REPLY_ARRAY && r->elements == 4 &&
			    r->element[0]->type != REDIS_REPLY_NIL)
				(void)parse_info(r, 0, &infos[i]);
		}
	store_batch_clear(&b);
	return rc;
}

enum trace_status
store_blob_sweep(struct store *s, long long cutoff, size_t limit,
    size_t *deleted, size_t *looked, struct trace_error *err)
{
	char c[24], l[24];
	const char *argv[] = { "FCALL", "trace_blob_sweep", "3",
		KEY_BLOBS_UNREFERENCED, KEY_BLOBS_REFS, KEY_BLOBS_BYTES, c, l,
		KEY_BLOB_PREFIX, KEY_BLOB_META_SUFFIX };
	redisReply *r = NULL;
	enum trace_status rc;

	*deleted = *looked = 0;
	snprintf(c, sizeof(c), "%lld", cutoff);
	snprintf(l, sizeof(l), "%zu", limit);
	if ((rc = store_command(s, 10, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[2]->type != REDIS_REPLY_INTEGER)
		rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "unexpected answer from the store to a sweep");
	else {
		*deleted = (size_t)r->element[0]->integer;
		*looked = (size_t)r->element[2]->integer;
	}
	freeReplyObject(r);
	return rc;
}
