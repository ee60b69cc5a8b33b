/*
 * keyentry.c - enroll, revoke and org statements of the key registry.
 *
 * The rules here are the ones a verifier without the server applies too,
 * so the server and trace-agent verify keys with the same code.  That
 * includes the check of an enrolled public key (ed25519_public_key_check):
 * the server refuses such an enrollment at ingest and bundle_verify()
 * reports it as bad_key_entry, from the same call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "codes.h"
#include "encoding.h"
#include "keyentry.h"
#include "timefmt.h"

static const char *const role_names[ROLE_COUNT] = {
	"brand", "inspector", "logistics", "customs", "warehouse", "importer",
	"regulator", "admin",
};

const char *
key_role_name(enum key_role role)
{
	return role < ROLE_COUNT ? role_names[role] : "unknown";
}

bool
key_role_parse(const char *s, size_t len, enum key_role *role)
{
	for (int i = 0; i < ROLE_COUNT; i++) {
		if (strlen(role_names[i]) == len &&
		    memcmp(role_names[i], s, len) == 0) {
			*role = (enum key_role)i;
			return true;
		}
	}
	return false;
}

static enum trace_status
get_time(const struct json_value *root, const char *key, bool required,
    bool *present, long long *t, struct trace_error *err)
{
	const char *s = NULL;
	size_t len = 0;
	int offset;
	enum trace_status rc = json_get_string(root, key, required, &s, &len,
	    err);

	if (present != NULL)
		*present = false;
	if (rc != TRACE_OK || s == NULL)
		return rc;
	if (!time_parse_rfc3339(s, len, t, &offset))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_time", key,
		    "\"%s\" must be an RFC 3339 time with an offset", key);
	if (present != NULL)
		*present = true;
	return TRACE_OK;
}

static enum trace_status
get_keyid(const struct json_value *root, const char *key, char out[],
    struct trace_error *err)
{
	const char *s = NULL;
	size_t len = 0;
	enum trace_status rc = json_get_string(root, key, true, &s, &len, err);

	if (rc != TRACE_OK)
		return rc;
	if (!key_id_valid(s, len))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_keyid", key,
		    "\"%s\" must be %d lowercase hex characters", key,
		    KEYID_LEN);
	memcpy(out, s, len + 1);
	return TRACE_OK;
}

static enum trace_status
get_text(const struct json_value *root, const char *key, size_t max,
    char *out, struct trace_error *err)
{
	const char *s = NULL;
	size_t len = 0;
	enum trace_status rc = json_get_string(root, key, true, &s, &len, err);

	if (rc != TRACE_OK)
		return rc;
	if (!text_valid(s, len, max, false))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_text", key,
		    "\"%s\" must be 1-%zu bytes of text without control "
		    "characters", key, max);
	memcpy(out, s, len + 1);
	return TRACE_OK;
}

/* "gtinPrefixes" when present: 1-KEY_PREFIXES_MAX strings of 1-13 digits. */
static enum trace_status
get_prefixes(const struct json_value *root,
    char out[KEY_PREFIXES_MAX][KEY_PREFIX_MAX + 1], size_t *count,
    struct trace_error *err)
{
	const struct json_value *prefixes = NULL;
	enum trace_status rc;

	*count = 0;
	if ((rc = json_get_array(root, "gtinPrefixes", false, &prefixes,
	    err)) != TRACE_OK)
		return rc;
	if (prefixes == NULL)
		return TRACE_OK;
	if (prefixes->u.array.count == 0 ||
	    prefixes->u.array.count > KEY_PREFIXES_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_prefixes",
		    "gtinPrefixes", "gtinPrefixes needs 1-%d prefixes (leave it "
		    "out for any GTIN)", KEY_PREFIXES_MAX);
	for (size_t i = 0; i < prefixes->u.array.count; i++) {
		const struct json_value *p = prefixes->u.array.items[i];
		bool ok = p->type == JSON_STRING && p->u.string.len >= 1 &&
		    p->u.string.len <= KEY_PREFIX_MAX;

		for (size_t k = 0; ok && k < p->u.string.len; k++)
			ok = p->u.string.ptr[k] >= '0' &&
			    p->u.string.ptr[k] <= '9';
		if (!ok) {
			char field[40];

			snprintf(field, sizeof(field), "gtinPrefixes[%zu]", i);
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_prefix", field, "a GTIN prefix is 1-%d digits",
			    KEY_PREFIX_MAX);
		}
		memcpy(out[i], p->u.string.ptr, p->u.string.len + 1);
	}
	*count = prefixes->u.array.count;
	return TRACE_OK;
}

bool
org_id_valid(const char *s, size_t len)
{
	if (len < 1 || len > ORG_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-'))
			return false;
	}
	return true;
}

/*
 * SPEC 8 "Organisations": {"v", "op": "org", "org", "name": {"zh", "en"},
 * "roles", "gtinPrefixes"?, "time", "signer"}.  Roles are listed once
 * each, at least one.
 */
static enum trace_status
parse_org(const struct json_value *root, struct key_entry *e,
    struct trace_error *err)
{
	static const char *const fields[] = { "v", "op", "org", "name",
		"roles", "gtinPrefixes", "time", "signer", NULL };
	static const char *const name_fields[] = { "zh", "en", NULL };
	struct org_info *o = &e->org_def;
	const struct json_value *name = NULL, *roles = NULL;
	const char *s = NULL;
	size_t len = 0;
	enum trace_status rc;

	if ((rc = json_object_only(root, fields, err)) != TRACE_OK)
		return rc;
	if ((rc = json_get_string(root, "org", true, &s, &len, err)) !=
	    TRACE_OK)
		return rc;
	if (!org_id_valid(s, len))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_org", "org",
		    "an org id is 1-%d of a-z, 0-9, \".\" and \"-\"",
		    ORG_ID_MAX);
	memcpy(o->id, s, len + 1);
	memcpy(e->org, s, len + 1);
	if ((rc = json_get_object(root, "name", true, &name, err)) != TRACE_OK)
		return rc;
	if ((rc = json_object_only(name, name_fields, err)) != TRACE_OK ||
	    (rc = get_text(name, "zh", KEY_TEXT_MAX, o->name_zh, err)) !=
	    TRACE_OK ||
	    (rc = get_text(name, "en", KEY_TEXT_MAX, o->name_en, err)) !=
	    TRACE_OK) {
		trace_error_prefix_field(err, "name");
		return rc;
	}
	if ((rc = json_get_array(root, "roles", true, &roles, err)) !=
	    TRACE_OK)
		return rc;
	if (roles->u.array.count == 0 || roles->u.array.count > ROLE_COUNT)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_roles",
		    "roles", "roles lists 1-%d distinct roles", ROLE_COUNT);
	for (size_t i = 0; i < roles->u.array.count; i++) {
		const struct json_value *r = roles->u.array.items[i];
		enum key_role role;

		if (r->type != JSON_STRING ||
		    !key_role_parse(r->u.string.ptr, r->u.string.len, &role) ||
		    (o->roles & (1u << role)) != 0)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_roles", "roles", "roles lists 1-%d distinct "
			    "roles", ROLE_COUNT);
		o->roles |= 1u << role;
	}
	if ((rc = get_prefixes(root, o->prefixes, &o->prefix_count, err)) !=
	    TRACE_OK)
		return rc;
	return TRACE_OK;
}

static enum trace_status
parse_enroll(const struct json_value *root, struct key_entry *e,
    struct trace_error *err)
{
	static const char *const fields[] = { "v", "op", "keyid", "alg",
		"public", "name", "org", "role", "notBefore", "notAfter",
		"gtinPrefixes", "time", "signer", NULL };
	const char *s = NULL;
	size_t len = 0, n = 0;
	unsigned char raw[64];
	char derived[KEYID_LEN + 1];
	enum trace_status rc;

	if ((rc = json_object_only(root, fields, err)) != TRACE_OK)
		return rc;
	if ((rc = json_get_string(root, "alg", true, &s, &len, err)) !=
	    TRACE_OK)
		return rc;
	if (strcmp(s, "ed25519") != 0)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_alg", "alg",
		    "alg must be \"ed25519\"");
	if ((rc = json_get_string(root, "public", true, &s, &len, err)) !=
	    TRACE_OK)
		return rc;
	if (len > 48 || base64_decode(s, len, raw, &n, NULL) != TRACE_OK ||
	    n != ED25519_PUBLIC_LEN)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_key", "public",
		    "\"public\" must be base64 of a 32-byte Ed25519 key");
	memcpy(e->public_key, raw, ED25519_PUBLIC_LEN);
	key_id(e->public_key, derived);
	if (strcmp(derived, e->keyid) != 0)
		return trace_error_set(err, TRACE_EMALFORMED, "keyid_mismatch",
		    "keyid", "keyid is not the id of \"public\" (that is %s)",
		    derived);
	if ((rc = get_text(root, "name", KEY_TEXT_MAX, e->name, err)) !=
	    TRACE_OK ||
	    (rc = get_text(root, "org", KEY_TEXT_MAX, e->org, err)) != TRACE_OK)
		return rc;
	if ((rc = json_get_string(root, "role", true, &s, &len, err)) !=
	    TRACE_OK)
		return rc;
	if (!key_role_parse(s, len, &e->role))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_role", "role",
		    "unknown role \"%.40s\"", s);
	if ((rc = get_time(root, "notBefore", false, &e->has_not_before,
	    &e->not_before, err)) != TRACE_OK ||
	    (rc = get_time(root, "notAfter", false, &e->has_not_after,
	    &e->not_after, err)) != TRACE_OK)
		return rc;
	if (e->has_not_before && e->has_not_after &&
	    e->not_before >= e->not_after)
		return trace_error_set(err, TRACE_ERULE, "bad_window", "notAfter",
		    "notAfter must be later than notBefore");
	if ((rc = get_prefixes(root, e->prefixes, &e->prefix_count, err)) !=
	    TRACE_OK)
		return rc;
	/* Last, once the entry is well-formed: SPEC 8 refuses a key that is
	 * non-canonical, of small order or with a torsion component (422). */
	if ((rc = ed25519_public_key_check(e->public_key, err)) != TRACE_OK) {
		trace_error_prefix_field(err, "public");
		return rc;
	}
	return TRACE_OK;
}

enum trace_status
key_entry_from_json(const struct json_value *root, struct key_entry *e,
    struct trace_error *err)
{
	static const char *const revoke_fields[] = { "v", "op", "keyid",
		"reason", "compromisedAt", "time", "signer", NULL };
	const char *op = NULL;
	size_t op_len = 0;
	long long v = 0;
	enum trace_status rc;

	memset(e, 0, sizeof(*e));
	if (root->type != JSON_OBJECT)
		return trace_error_set(err, TRACE_EMALFORMED, "wrong_type", NULL,
		    "a key entry is a JSON object");
	if ((rc = json_get_int(root, "v", true, &v, err)) != TRACE_OK)
		return rc;
	if (v != 1)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_version", "v",
		    "unsupported version %lld (want 1)", v);
	if ((rc = json_get_string(root, "op", true, &op, &op_len, err)) !=
	    TRACE_OK)
		return rc;
	if (strcmp(op, "org") == 0)
		e->op = KEY_OP_ORG;
	else if (strcmp(op, "enroll") == 0)
		e->op = KEY_OP_ENROLL;
	else if (strcmp(op, "revoke") == 0)
		e->op = KEY_OP_REVOKE;
	else
		return trace_error_set(err, TRACE_EMALFORMED, "bad_op", "op",
		    "op must be \"enroll\", \"revoke\" or \"org\"");
	/* An org entry names an org, not a key. */
	if ((e->op != KEY_OP_ORG &&
	    (rc = get_keyid(root, "keyid", e->keyid, err)) != TRACE_OK) ||
	    (rc = get_keyid(root, "signer", e->signer, err)) != TRACE_OK ||
	    (rc = get_time(root, "time", true, NULL, &e->time, err)) !=
	    TRACE_OK)
		return rc;
	switch (e->op) {
	case KEY_OP_ORG:
		return parse_org(root, e, err);
	case KEY_OP_ENROLL:
		return parse_enroll(root, e, err);
	case KEY_OP_REVOKE:
		break;
	}
	if ((rc = json_object_only(root, revoke_fields, err)) != TRACE_OK ||
	    (rc = get_text(root, "reason", KEY_REASON_MAX, e->reason, err)) !=
	    TRACE_OK ||
	    (rc = get_time(root, "compromisedAt", false, &e->has_compromised_at,
	    &e->compromised_at, err)) != TRACE_OK)
		return rc;
	/* A compromise is reported once it happened, not ahead of time: the
	 * same 5 minutes of clock skew as a statement's time (SPEC 8). */
	if (e->has_compromised_at &&
	    e->compromised_at > e->time + KEY_COMPROMISE_FUTURE_SECONDS)
		return trace_error_set(err, TRACE_ERULE, "bad_window",
		    "compromisedAt", "compromisedAt may be at most %d s after "
		    "the revoke's time", KEY_COMPROMISE_FUTURE_SECONDS);
	return TRACE_OK;
}

enum trace_status
key_entry_parse(const unsigned char *payload, size_t len,
    struct key_entry *entry, struct trace_error *err)
{
	struct json_doc *doc = NULL;
	enum trace_status rc;

	memset(entry, 0, sizeof(*entry));
	rc = json_parse((const char *)payload, len, NULL, &doc, err);
	if (rc == TRACE_OK)
		rc = key_entry_from_json(json_doc_root(doc), entry, err);
	json_doc_free(doc);
	return rc;
}

char *
key_entry_build(const struct key_entry *e, size_t *len)
{
	struct json_writer *w = json_writer_new(false);
	char b64[64], t[21];
	const char *buf;
	char *out = NULL;
	size_t n;

	if (w == NULL)
		return NULL;
	json_writer_object_open(w);
	json_writer_key(w, "v");
	json_writer_int(w, 1);
	json_writer_key(w, "op");
	json_writer_cstring(w, e->op == KEY_OP_ENROLL ? "enroll" :
	    e->op == KEY_OP_REVOKE ? "revoke" : "org");
	if (e->op == KEY_OP_ORG) {
		const struct org_info *o = &e->org_def;

		json_writer_key(w, "org");
		json_writer_cstring(w, o->id);
		json_writer_key(w, "name");
		json_writer_object_open(w);
		json_writer_key(w, "zh");
		json_writer_cstring(w, o->name_zh);
		json_writer_key(w, "en");
		json_writer_cstring(w, o->name_en);
		json_writer_object_close(w);
		json_writer_key(w, "roles");
		json_writer_array_open(w);
		for (int r = 0; r < ROLE_COUNT; r++)
			if (o->roles & (1u << r))
				json_writer_cstring(w, role_names[r]);
		json_writer_array_close(w);
		if (o->prefix_count > 0) {
			json_writer_key(w, "gtinPrefixes");
			json_writer_array_open(w);
			for (size_t i = 0; i < o->prefix_count; i++)
				json_writer_cstring(w, o->prefixes[i]);
			json_writer_array_close(w);
		}
	} else {
		json_writer_key(w, "keyid");
		json_writer_cstring(w, e->keyid);
	}
	if (e->op == KEY_OP_ENROLL) {
		json_writer_key(w, "alg");
		json_writer_cstring(w, "ed25519");
		json_writer_key(w, "public");
		base64_encode(e->public_key, ED25519_PUBLIC_LEN, b64);
		json_writer_cstring(w, b64);
		json_writer_key(w, "name");
		json_writer_cstring(w, e->name);
		json_writer_key(w, "org");
		json_writer_cstring(w, e->org);
		json_writer_key(w, "role");
		json_writer_cstring(w, key_role_name(e->role));
		if (e->has_not_before) {
			time_format_utc(e->not_before, t);
			json_writer_key(w, "notBefore");
			json_writer_cstring(w, t);
		}
		if (e->has_not_after) {
			time_format_utc(e->not_after, t);
			json_writer_key(w, "notAfter");
			json_writer_cstring(w, t);
		}
		if (e->prefix_count > 0) {
			json_writer_key(w, "gtinPrefixes");
			json_writer_array_open(w);
			for (size_t i = 0; i < e->prefix_count; i++)
				json_writer_cstring(w, e->prefixes[i]);
			json_writer_array_close(w);
		}
	} else if (e->op == KEY_OP_REVOKE) {
		json_writer_key(w, "reason");
		json_writer_cstring(w, e->reason);
		if (e->has_compromised_at) {
			time_format_utc(e->compromised_at, t);
			json_writer_key(w, "compromisedAt");
			json_writer_cstring(w, t);
		}
	}
	time_format_utc(e->time, t);
	json_writer_key(w, "time");
	json_writer_cstring(w, t);
	json_writer_key(w, "signer");
	json_writer_cstring(w, e->signer);
	json_writer_object_close(w);
	if (json_writer_result(w, &buf, &n, NULL) == TRACE_OK &&
	    (out = malloc(n + 1)) != NULL) {
		memcpy(out, buf, n);
		out[n] = '\0';
		*len = n;
	}
	json_writer_free(w);
	return out;
}

/* The one definition of "a prefix covers a GTIN" (SPEC 8 "GTIN
 * prefixes"): after the GTIN-14's indicator digit. */
static bool
prefixes_cover_gtin(const char (*prefixes)[KEY_PREFIX_MAX + 1], size_t count,
    const char *gtin14)
{
	for (size_t i = 0; i < count; i++) {
		size_t n = strlen(prefixes[i]);

		if (n <= 13 && strlen(gtin14) == 14 &&
		    memcmp(gtin14 + 1, prefixes[i], n) == 0)
			return true;
	}
	return false;
}

bool
key_entry_covers_gtin(const struct key_entry *e, const char *gtin14)
{
	return e->prefix_count == 0 ||
	    prefixes_cover_gtin((const char (*)[KEY_PREFIX_MAX + 1])e->prefixes,
	    e->prefix_count, gtin14);
}

bool
org_covers_gtin(const struct org_info *org, const char *gtin14)
{
	return org->prefix_count > 0 &&
	    prefixes_cover_gtin((const char (*)[KEY_PREFIX_MAX + 1])
	    org->prefixes, org->prefix_count, gtin14);
}

bool
org_has_role(const struct org_info *org, enum key_role role)
{
	return role < ROLE_COUNT && (org->roles & (1u << role)) != 0;
}

bool
org_covers_prefixes(const struct org_info *org, const struct key_entry *e)
{
	if (org->prefix_count == 0)
		return true;
	if (e->prefix_count == 0)
		return false;
	for (size_t i = 0; i < e->prefix_count; i++) {
		size_t n = strlen(e->prefixes[i]);
		bool within = false;

		for (size_t k = 0; k < org->prefix_count && !within; k++) {
			size_t m = strlen(org->prefixes[k]);

			within = m <= n &&
			    memcmp(e->prefixes[i], org->prefixes[k], m) == 0;
		}
		if (!within)
			return false;
	}
	return true;
}

bool
key_entry_in_window(const struct key_entry *e, long long t)
{
	if (e->has_not_before && t < e->not_before)
		return false;
	if (e->has_not_after && t >= e->not_after)
		return false;
	return true;
}

enum trace_status
key_entry_check_visible(const struct key_entry *e, struct trace_error *err)
{
	static const struct { const char *field; size_t offset; } texts[] = {
		{ "name", offsetof(struct key_entry, name) },
		{ "org", offsetof(struct key_entry, org) },
		{ "reason", offsetof(struct key_entry, reason) },
		{ "name.zh", offsetof(struct key_entry, org_def.name_zh) },
		{ "name.en", offsetof(struct key_entry, org_def.name_en) },
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *s = (const char *)e + texts[i].offset;

		if (!text_visible(s, strlen(s)))
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_text", texts[i].field, "\"%s\" holds an "
			    "invisible or bidirectional formatting character",
			    texts[i].field);
	}
	return TRACE_OK;
}
