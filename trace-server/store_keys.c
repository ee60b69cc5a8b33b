/*
 * store_keys.c - the key registry in Redis: every key statement (enroll,
 * revoke, org) in log order in k:entries, each keyid's statements found
 * through k:enroll and k:revoke, each org's latest entry through k:org,
 * and appending a key statement through the
 * Function trace_append_key (store.lua), which checks the signer and the
 * key's state in the same atomic step.
 */
#include <stdio.h>
#include <stdlib.h>
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
store_org_record(struct store *s, const char *org, struct store_records *out,
    char *where, size_t where_size, long long *first_index, bool *found,
    struct trace_error *err)
{
	const char *get[] = { "HGET", KEY_ORGS, org };
	const char *lr[] = { "LRANGE", KEY_ENTRIES, NULL, NULL };
	redisReply *r = NULL, *list = NULL;
	long long idx = 0, n = 0, first = 0;
	char text[80], num[24];
	enum trace_status rc;

	memset(out, 0, sizeof(*out));
	*found = false;
	where[0] = '\0';
	if ((rc = store_command(s, 3, get, NULL, &r, err)) != TRACE_OK)
		return rc;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return TRACE_OK;
	}
	if (r->type != REDIS_REPLY_STRING || r->len >= sizeof(text) ||
	    r->len >= where_size) {
		freeReplyObject(r);
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "an org index entry is malformed");
	}
	memcpy(text, r->str, r->len);
	text[r->len] = '\0';
	freeReplyObject(r);
	if (sscanf(text, "%lld %lld %lld", &idx, &n, &first) != 3)
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "an org index entry is malformed");
	snprintf(where, where_size, "%s", text);
	snprintf(num, sizeof(num), "%lld", n);
	lr[2] = num;
	lr[3] = num;
	if ((rc = store_command(s, 4, lr, NULL, &list, err)) != TRACE_OK)
		return rc;
	if ((rc = store_records_take(list, true, out, err)) != TRACE_OK)
		return rc;
	if (out->count != 1) {
		store_records_clear(out);
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "an org entry is missing");
	}
	*first_index = first;
	*found = true;
	return TRACE_OK;
}

enum trace_status
store_org_history(struct store *s, const char *org, struct store_records *out,
    size_t max, size_t *count, struct trace_error *err)
{
	const char *get[] = { "HGET", KEY_ORG_HISTORY, org };
	const char *lr[] = { "LRANGE", KEY_ENTRIES, NULL, NULL };
	redisReply *r = NULL, *list = NULL;
	const char *p;
	char num[24];
	enum trace_status rc = TRACE_OK;

	*count = 0;
	if ((rc = store_command(s, 3, get, NULL, &r, err)) != TRACE_OK)
		return rc;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return TRACE_OK;
	}
	if (r->type != REDIS_REPLY_STRING) {
		freeReplyObject(r);
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "an org history entry is malformed");
	}
	for (p = r->str; *p != '\0' && rc == TRACE_OK; ) {
		char *end;
		long long n = strtoll(p, &end, 10);

		if (end == p || n < 0 || *count == max) {
			rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt",
			    NULL, "an org history entry is malformed");
			break;
		}
		snprintf(num, sizeof(num), "%lld", n);
		lr[2] = num;
		lr[3] = num;
		if ((rc = store_command(s, 4, lr, NULL, &list, err)) !=
		    TRACE_OK ||
		    (rc = store_records_take(list, true, &out[*count], err)) !=
		    TRACE_OK)
			break;
		if (out[*count].count != 1) {
			store_records_clear(&out[*count]);
			rc = trace_error_set(err, TRACE_ESTORE, "store_corrupt",
			    NULL, "an org entry is missing");
			break;
		}
		(*count)++;
		p = end;
		while (*p == ' ')
			p++;
	}
	freeReplyObject(r);
	if (rc != TRACE_OK) {
		for (size_t i = 0; i < *count; i++)
			store_records_clear(&out[i]);
		*count = 0;
	}
	return rc;
}

enum trace_status
store_append_key(struct store *s, const struct append_key_args *a,
    struct append_result *result, struct trace_error *err)
{
	const char *op = a->op == KEY_OP_ENROLL ? "enroll" :
	    a->op == KEY_OP_REVOKE ? "revoke" : "org";
	const char *argv[] = { "FCALL", "trace_append_key", "8", KEY_ENTRIES,
		KEY_IDS, KEY_ENROLL, KEY_REVOKE, KEY_LOG_SIZE, KEY_LOG_PENDING,
		KEY_ORGS, KEY_ORG_HISTORY, a->id, op, a->keyid, a->signer,
		(const char *)a->leaf_hash, a->envelope,
		a->signer_is_root ? "1" : "0", a->org != NULL ? a->org : "",
		a->org_where != NULL ? a->org_where : "" };
	size_t lens[sizeof(argv) / sizeof(argv[0])];
	redisReply *r = NULL;
	enum trace_status rc;

	for (size_t i = 0; i < sizeof(argv) / sizeof(argv[0]); i++)
		lens[i] = i == 15 ? SHA256_LEN : i == 16 ? a->envelope_len :
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
