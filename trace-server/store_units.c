/*
 * store_units.c - SPEC 12 in Redis: codes set once, code entries checked
 * and counted in one atomic step, serial sets for issued-serial proofs
 * (store.lua "units" says the keys and the Functions; units.h the API).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/crypto.h"
#include "libtrace/encoding.h"
#include "store_private.h"
#include "units.h"

static bool
reply_word(const redisReply *r, const char *word)
{
	return r != NULL && (r->type == REDIS_REPLY_STRING ||
	    r->type == REDIS_REPLY_STATUS) && strcmp(r->str, word) == 0;
}

static enum trace_status
unexpected(redisReply *r, struct trace_error *err)
{
	freeReplyObject(r);
	return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
	    "unexpected answer from the store");
}

/* {'ok'} or {'conflict', serial}. */
static enum trace_status
conflict_reply(redisReply *r, bool *conflict,
    char conflict_serial[GS1_ATTR_MAX + 1], struct trace_error *err)
{
	if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
	    reply_word(r->element[0], "ok"))
		return TRACE_OK;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    reply_word(r->element[0], "conflict") &&
	    r->element[1]->type == REDIS_REPLY_STRING) {
		*conflict = true;
		snprintf(conflict_serial, GS1_ATTR_MAX + 1, "%s",
		    r->element[1]->str);
		return TRACE_OK;
	}
	return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
	    "unexpected answer from the store");
}

enum trace_status
store_unit_codes_put(struct store *s, const char *chain,
    const char *const *serials, const unsigned char *mac, size_t n,
    const char *const *set, size_t set_count, const char *root_hex,
    bool *conflict, char conflict_serial[GS1_ATTR_MAX + 1],
    struct trace_error *err)
{
	size_t argc = 6 + 2 * n + set_count, a = 0;
	const char **argv = calloc(argc, sizeof(*argv));
	size_t *lens = calloc(argc, sizeof(*lens));
	char codes[KEY_CHAIN_MAX], list[KEY_CHAIN_MAX + 80], count[24];
	redisReply *r = NULL;
	enum trace_status rc;

	*conflict = false;
	conflict_serial[0] = '\0';
	if (argv == NULL || lens == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	snprintf(codes, sizeof(codes), KEY_UNIT_CODES, chain);
	snprintf(list, sizeof(list), KEY_UNIT_SET, chain, root_hex);
	snprintf(count, sizeof(count), "%zu", n);
#define ARG(p, l) do { argv[a] = (p); lens[a] = (l); a++; } while (0)
	ARG("FCALL", 5);
	ARG("trace_unit_codes_put", 20);
	ARG("2", 1);
	ARG(codes, strlen(codes));
	ARG(list, strlen(list));
	ARG(count, strlen(count));
	for (size_t i = 0; i < n; i++) {
		ARG(serials[i], strlen(serials[i]));
		ARG((const char *)mac + 32 * i, 32);
	}
	for (size_t i = 0; i < set_count; i++)
		ARG(set[i], strlen(set[i]));
#undef ARG
	if ((rc = store_command(s, (int)a, argv, lens, &r, err)) == TRACE_OK)
		rc = conflict_reply(r, conflict, conflict_serial, err);
out:
	freeReplyObject(r);
	free(argv);
	free(lens);
	return rc;
}

enum trace_status
store_unit_codes_check(struct store *s, const char *chain,
    const char *const *serials, const unsigned char *mac, size_t n,
    bool *conflict, char conflict_serial[GS1_ATTR_MAX + 1],
    struct trace_error *err)
{
	const char **argv = calloc(2 * n + 4, sizeof(*argv));
	size_t *lens = calloc(2 * n + 4, sizeof(*lens));
	char codes[KEY_CHAIN_MAX];
	redisReply *r = NULL;
	enum trace_status rc;

	*conflict = false;
	conflict_serial[0] = '\0';
	if (argv == NULL || lens == NULL) {
		free(argv);
		free(lens);
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	}
	snprintf(codes, sizeof(codes), KEY_UNIT_CODES, chain);
	argv[0] = "FCALL";
	argv[1] = "trace_unit_codes_taken";
	argv[2] = "1";
	argv[3] = codes;
	for (size_t i = 0; i < 4; i++)
		lens[i] = strlen(argv[i]);
	for (size_t i = 0; i < n; i++) {
		argv[4 + 2 * i] = serials[i];
		lens[4 + 2 * i] = strlen(serials[i]);
		argv[5 + 2 * i] = (const char *)mac + 32 * i;
		lens[5 + 2 * i] = 32;
	}
	if ((rc = store_command(s, (int)(2 * n + 4), argv, lens, &r, err)) ==
	    TRACE_OK)
		rc = conflict_reply(r, conflict, conflict_serial, err);
	freeReplyObject(r);
	free(argv);
	free(lens);
	return rc;
}

enum trace_status
store_unit_code_check(struct store *s, const char *chain, const char *serial,
    const unsigned char mac[32], const char *client, long long now,
    struct unit_check *out, struct trace_error *err)
{
	char codes[KEY_CHAIN_MAX], first[KEY_CHAIN_MAX];
	char wrong[KEY_CHAIN_MAX + 32], wrong_client[KEY_CHAIN_MAX + 64];
	char per_client[64], now_text[24], m1[16], m2[16], m3[16], window[16];
	char token[33];
	unsigned char nonce[16];
	const char *argv[] = { "FCALL", "trace_unit_code_check", "5", codes,
		first, wrong, wrong_client, per_client, serial, (const char *)mac,
		now_text, m1, m2, m3, window, token };
	size_t lens[sizeof(argv) / sizeof(argv[0])];
	redisReply *r = NULL;
	enum trace_status rc;

	memset(out, 0, sizeof(*out));
	snprintf(codes, sizeof(codes), KEY_UNIT_CODES, chain);
	snprintf(first, sizeof(first), KEY_UNIT_FIRST, chain);
	snprintf(wrong, sizeof(wrong), KEY_UNIT_WRONG, chain, serial);
	snprintf(wrong_client, sizeof(wrong_client), KEY_UNIT_WRONG_CLIENT,
	    chain, serial, client);
	snprintf(per_client, sizeof(per_client), KEY_UNIT_CLIENT, client);
	snprintf(now_text, sizeof(now_text), "%lld", now);
	snprintf(m1, sizeof(m1), "%d", UNITS_WRONG_PER_SERIAL_CLIENT);
	snprintf(m2, sizeof(m2), "%d", UNITS_WRONG_PER_SERIAL);
	snprintf(m3, sizeof(m3), "%d", UNITS_WRONG_PER_CLIENT);
	snprintf(window, sizeof(window), "%d", UNITS_WINDOW_SECONDS);
	/* Tells a resent call (store_conn.c) that the first entry was its
	 * own: the genuine buyer is not told "verified before". */
	crypto_random(nonce, sizeof(nonce));
	hex_encode(nonce, sizeof(nonce), token);
	for (size_t i = 0; i < sizeof(argv) / sizeof(argv[0]); i++)
		lens[i] = argv[i] == (const char *)mac ? 32 : strlen(argv[i]);
	if ((rc = store_command(s, (int)(sizeof(argv) / sizeof(argv[0])), argv,
	    lens, &r, err)) != TRACE_OK)
		return rc;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1)
		return unexpected(r, err);
	if (reply_word(r->element[0], "nocode")) {
		out->outcome = UNIT_CHECK_NO_CODE;
	} else if (reply_word(r->element[0], "wrong")) {
		out->outcome = UNIT_CHECK_WRONG;
	} else if (reply_word(r->element[0], "limited") && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_INTEGER) {
		out->outcome = UNIT_CHECK_LIMITED;
		out->retry_after = r->element[1]->integer;
	} else if (reply_word(r->element[0], "valid") && r->elements == 3 &&
	    r->element[1]->type == REDIS_REPLY_INTEGER &&
	    r->element[2]->type == REDIS_REPLY_STRING) {
		out->outcome = UNIT_CHECK_VALID;
		out->first = r->element[1]->integer == 1;
		out->first_verified = strtoll(r->element[2]->str, NULL, 10);
	} else {
		return unexpected(r, err);
	}
	freeReplyObject(r);
	return TRACE_OK;
}

void
store_unit_sets_clear(struct unit_serial_set *sets, size_t n)
{
	for (size_t i = 0; sets != NULL && i < n; i++) {
		free(sets[i].serials);
		sets[i].serials = NULL;
		sets[i].count = 0;
	}
}

enum trace_status
store_unit_read(struct store *s, const char *chain, const char *serial,
    const char *const *roots_hex, size_t nroots, bool *has_code,
    struct unit_serial_set *sets, struct trace_error *err)
{
	size_t argc = 5 + nroots;
	const char **argv = calloc(argc, sizeof(*argv));
	size_t *lens = calloc(argc, sizeof(*lens));
	char (*keys)[KEY_CHAIN_MAX + 80] = calloc(nroots + 1, sizeof(*keys));
	char codes[KEY_CHAIN_MAX], nkeys[24];
	redisReply *r = NULL;
	const redisReply *lists;
	enum trace_status rc;

	*has_code = false;
	memset(sets, 0, nroots * sizeof(*sets));
	if (argv == NULL || keys == NULL || lens == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	snprintf(codes, sizeof(codes), KEY_UNIT_CODES, chain);
	snprintf(nkeys, sizeof(nkeys), "%zu", 1 + nroots);
	argv[0] = "FCALL";
	argv[1] = "trace_unit_read";
	argv[2] = nkeys;
	argv[3] = codes;
	for (size_t i = 0; i < nroots; i++) {
		snprintf(keys[i], sizeof(keys[i]), KEY_UNIT_SET, chain,
		    roots_hex[i]);
		argv[4 + i] = keys[i];
	}
	argv[4 + nroots] = serial;
	for (size_t i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if ((rc = store_command(s, (int)argc, argv, lens, &r, err)) != TRACE_OK)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_ARRAY ||
	    r->element[1]->elements != nroots) {
		rc = unexpected(r, err);
		r = NULL;
		goto out;
	}
	*has_code = r->element[0]->integer == 1;
	lists = r->element[1];
	for (size_t i = 0; i < nroots; i++) {
		const redisReply *l = lists->element[i];
		size_t bytes = 0;
		char *p;

		if (l->type != REDIS_REPLY_ARRAY || l->elements == 0)
			continue;
		for (size_t k = 0; k < l->elements; k++)
			bytes += l->element[k]->len + 1;
		sets[i].serials = malloc(l->elements * sizeof(char *) + bytes);
		if (sets[i].serials == NULL) {
			store_unit_sets_clear(sets, nroots);
			rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
			goto out;
		}
		p = (char *)(sets[i].serials + l->elements);
		for (size_t k = 0; k < l->elements; k++) {
			memcpy(p, l->element[k]->str, l->element[k]->len);
			p[l->element[k]->len] = '\0';
			sets[i].serials[k] = p;
			p += l->element[k]->len + 1;
		}
		sets[i].count = l->elements;
	}
out:
	freeReplyObject(r);
	free(argv);
	free(lens);
	free(keys);
	return rc;
}
