/*
 * store_keys.c - the key registry in Redis: every key statement (enroll,
 * revoke) in log order in k:entries, each keyid's statements found through
 * k:enroll and k:revoke, and appending a key statement through the
 * Function trace_append_key (store.lua), which checks the signer and the
 * key's state in the same atomic step.
 */
#include <stdio.h>
#include <string.h>

#include "store_private.h"

enum trace_status
store_key_entries(struct store *s, struct store_records *out,
    struct trace_error *err)
{
	const char *argv[] = { "LRANGE", KEY_ENTRIES, "0", "-1" };
	redisReply *r = NULL;
	enum trace_status rc;

	if ((rc = store_command(s, 4, argv, NULL, &r, err)) != TRACE_OK)
		return rc;
	return store_records_take(r, true, out, err);
}

/* "<logIndex> <n>" of a k:enroll / k:revoke value. */
static bool
parse_where(const redisReply *r, long long *log_index, long long *n)
{
	char text[64];

	if (r->type != REDIS_REPLY_STRING || r->len >= sizeof(text))
		return false;
	memcpy(text, r->str, r->len);
	text[r->len] = '\0';
	return sscanf(text, "%lld %lld", log_index, n) == 2;
}

enum trace_status
store_key_records(struct store *s, const char *keyid,
    struct store_records *out, bool *revoked, struct trace_error *err)
{
	struct store_batch b;
	const redisReply *where[2];
	redisReply *r = NULL;
	long long idx, n[2];
	char nums[2][24];
	const char *lr[] = { "LRANGE", KEY_ENTRIES, NULL, NULL };
	enum trace_status rc;

	memset(out, 0, sizeof(*out));
	*revoked = false;
	store_batch_init(&b);
	store_batch_command(&b);
	store_batch_str(&b, "HGET");
	store_batch_str(&b, KEY_ENROLL);
	store_batch_str(&b, keyid);
	store_batch_command(&b);
	store_batch_str(&b, "HGET");
	store_batch_str(&b, KEY_REVOKE);
	store_batch_str(&b, keyid);
	if ((rc = store_batch_run(s, &b, err)) != TRACE_OK)
		goto out;
	where[0] = store_batch_reply(&b, 0);
	where[1] = store_batch_reply(&b, 1);
	if (where[0]->type == REDIS_REPLY_NIL) {
		rc = TRACE_OK;
		goto out;
	}
	if (!parse_where(where[0], &idx, &n[0]) ||
	    (where[1]->type != REDIS_REPLY_NIL &&
	    !parse_where(where[1], &idx, &n[1]))) {
		rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "a key index entry is malformed");
		goto out;
	}
	*revoked = where[1]->type != REDIS_REPLY_NIL;
	/* Both statements with one LRANGE when revoked, else just the one. */
	snprintf(nums[0], sizeof(nums[0]), "%lld", n[0]);
	snprintf(nums[1], sizeof(nums[1]), "%lld", *revoked ? n[1] : n[0]);
	lr[2] = nums[0];
	lr[3] = nums[1];
	if ((rc = store_command(s, 4, lr, NULL, &r, err)) != TRACE_OK)
		goto out;
	rc = store_records_take(r, true, out, err);
	if (rc == TRACE_OK && out->count != (*revoked ? (size_t)(n[1] - n[0] + 1) : 1)) {
		store_records_clear(out);
		rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "key entries are missing");
	}
	if (rc == TRACE_OK && *revoked && out->count > 2) {
		/* Keep the enroll and the revoke, drop what lies between. */
		out->items[1] = out->items[out->count - 1];
		out->count = 2;
	}
out:
	store_batch_clear(&b);
	return rc;
}

enum trace_status
store_append_key(struct store *s, const struct append_key_args *a,
    struct append_result *result, struct trace_error *err)
{
	const char *argv[] = { "FCALL", "trace_append_key", "6", KEY_ENTRIES,
		KEY_IDS, KEY_ENROLL, KEY_REVOKE, KEY_LOG_SIZE, KEY_LOG_PENDING,
		a->id, a->enroll ? "enroll" : "revoke", a->keyid, a->signer,
		(const char *)a->leaf_hash, a->envelope,
		a->signer_is_root ? "1" : "0" };
	size_t lens[sizeof(argv) / sizeof(argv[0])];
	redisReply *r = NULL;
	enum trace_status rc;

	for (size_t i = 0; i < sizeof(argv) / sizeof(argv[0]); i++)
		lens[i] = i == 13 ? SHA256_LEN : i == 14 ? a->envelope_len :
		    strlen(argv[i]);
	if ((rc = store_command(s, (int)(sizeof(argv) / sizeof(argv[0])), argv, lens,
	    &r, err)) != TRACE_OK)
		return rc;
	rc = store_append_reply_parse(r, result, err);
	freeReplyObject(r);
	if (rc == TRACE_OK)
		rc = store_wait_replicas(s, err);
	return rc;
}
