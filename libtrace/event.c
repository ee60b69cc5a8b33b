/*
 * event.c - trace event payloads: the type table (names, roles, data
 * fields), validation of one payload, and building payloads to sign.
 *
 * The data fields of each type are described by a table of field specs
 * rather than by a function per type, so adding a field is one line and the
 * rules (required, kind, bound) read like the table of docs/PROTOCOL.md section 6.3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "dsse.h"
#include "encoding.h"
#include "event.h"
#include "timefmt.h"

enum field_kind {
	FIELD_TEXT,        /* 1..EVENT_TEXT_MAX bytes, one line */
	FIELD_LONG_TEXT,   /* 1..EVENT_LONG_TEXT_MAX bytes, may have newlines */
	FIELD_NAMES,       /* {"zh": "...", "en": "..."}: at least one */
	FIELD_COUNTRY,     /* ISO 3166-1 alpha-2 */
	FIELD_DATE,        /* YYYY-MM-DD */
	FIELD_COUNT,       /* integer 0..10^12 */
	FIELD_RESULT,      /* "pass" or "fail" */
	FIELD_CUSTOMS_MODE,/* "1210", "9610", "express" */
	FIELD_OUTCOME,     /* "released" or "destroyed" */
	FIELD_PORT,        /* UN/LOCODE */
	FIELD_SEVERITY,    /* 1, 2 or 3 */
	FIELD_EVENT_ID,    /* 64 lowercase hex */
	FIELD_TEXT_LIST,   /* array of 1..EVENT_LIST_MAX texts */
	FIELD_ITEMS,       /* inspection items */
	FIELD_ATTACHMENTS, /* attachment references */
	FIELD_RANGES,      /* serial ranges [[from, to], ...] */
	FIELD_POSITIVE,    /* integer 1..10^12 */
};

enum presence {
	OPTIONAL,
	REQUIRED,
	/* Required since round 2: a stored round-1 statement may lack it
	 * (event_parse_stored(), docs/PROTOCOL.md section 6.4). */
	REQUIRED_SINCE_ROUND2,
};

struct field_spec {
	const char *name;
	enum field_kind kind;
	enum presence presence;
};

/* How strictly to read: a statement submitted now, or one in the log. */
enum parse_mode {
	PARSE_NEW,
	PARSE_STORED,
};

struct type_spec {
	const char *name;
	unsigned roles;   /* bit per enum key_role */
	struct field_spec fields[12];
};

#define R(role) (1u << (role))

static const struct type_spec types[EVENT_TYPE_COUNT] = {
	[EVENT_PRODUCT_REGISTERED] = { "product.registered",
	    R(ROLE_BRAND) | R(ROLE_IMPORTER), {
		{ "name", FIELD_NAMES, REQUIRED },
		{ "brand", FIELD_TEXT, REQUIRED },
		{ "origin", FIELD_COUNTRY, REQUIRED },
		{ "manufacturer", FIELD_TEXT, OPTIONAL },
		{ "spec", FIELD_TEXT, OPTIONAL },
		{ "expiry", FIELD_DATE, OPTIONAL },
		{ "quantity", FIELD_COUNT, OPTIONAL },
	} },
	[EVENT_INSPECTION_SAMPLED] = { "inspection.sampled", R(ROLE_INSPECTOR), {
		{ "samples", FIELD_COUNT, OPTIONAL },
		{ "sampleIds", FIELD_TEXT_LIST, OPTIONAL },
	} },
	[EVENT_INSPECTION_COMPLETED] = { "inspection.completed",
	    R(ROLE_INSPECTOR), {
		{ "certificate", FIELD_TEXT, REQUIRED },
		{ "result", FIELD_RESULT, REQUIRED },
		{ "body", FIELD_TEXT, OPTIONAL },
		{ "standard", FIELD_TEXT, OPTIONAL },
		{ "items", FIELD_ITEMS, OPTIONAL },
		{ "attachments", FIELD_ATTACHMENTS, OPTIONAL },
	} },
	[EVENT_SHIPMENT_DEPARTED] = { "shipment.departed", R(ROLE_LOGISTICS), {
		{ "carrier", FIELD_TEXT, OPTIONAL },
		{ "vessel", FIELD_TEXT, OPTIONAL },
		{ "billOfLading", FIELD_TEXT, OPTIONAL },
		{ "port", FIELD_PORT, REQUIRED },
	} },
	[EVENT_SHIPMENT_ARRIVED] = { "shipment.arrived", R(ROLE_LOGISTICS), {
		{ "carrier", FIELD_TEXT, OPTIONAL },
		{ "vessel", FIELD_TEXT, OPTIONAL },
		{ "billOfLading", FIELD_TEXT, OPTIONAL },
		{ "port", FIELD_PORT, REQUIRED },
	} },
	[EVENT_CUSTOMS_DECLARED] = { "customs.declared",
	    R(ROLE_IMPORTER) | R(ROLE_CUSTOMS), {
		{ "declaration", FIELD_TEXT, REQUIRED },
		{ "mode", FIELD_CUSTOMS_MODE, REQUIRED },
	} },
	[EVENT_CUSTOMS_RELEASED] = { "customs.released", R(ROLE_CUSTOMS), {
		{ "declaration", FIELD_TEXT, REQUIRED },
	} },
	[EVENT_WAREHOUSE_RECEIVED] = { "warehouse.received", R(ROLE_WAREHOUSE), {
		{ "warehouse", FIELD_TEXT, REQUIRED },
		{ "location", FIELD_TEXT, OPTIONAL },
		{ "quantity", FIELD_COUNT, OPTIONAL },
		{ "destination", FIELD_TEXT, OPTIONAL },
	} },
	[EVENT_WAREHOUSE_DISPATCHED] = { "warehouse.dispatched",
	    R(ROLE_WAREHOUSE), {
		{ "warehouse", FIELD_TEXT, REQUIRED },
		{ "location", FIELD_TEXT, OPTIONAL },
		{ "quantity", FIELD_COUNT, OPTIONAL },
		{ "destination", FIELD_TEXT, OPTIONAL },
	} },
	[EVENT_RECALL_ISSUED] = { "recall.issued",
	    R(ROLE_IMPORTER) | R(ROLE_REGULATOR), {
		{ "reason", FIELD_LONG_TEXT, REQUIRED },
		{ "severity", FIELD_SEVERITY, REQUIRED },
		{ "action", FIELD_LONG_TEXT, REQUIRED },
		{ "contact", FIELD_TEXT, OPTIONAL },
		{ "serials", FIELD_RANGES, OPTIONAL },
	} },
	/* Who may close which recall needs the chain: fold.c (SPEC 8). */
	[EVENT_RECALL_CLOSED] = { "recall.closed",
	    R(ROLE_IMPORTER) | R(ROLE_REGULATOR), {
		{ "recall", FIELD_EVENT_ID, REQUIRED_SINCE_ROUND2 },
		{ "outcome", FIELD_OUTCOME, REQUIRED },
		{ "recovered", FIELD_COUNT, OPTIONAL },
	} },
	/* Any role may correct its own event; policy.c checks "own". */
	[EVENT_CORRECTION] = { "correction", 0xffu, {
		{ "corrects", FIELD_EVENT_ID, REQUIRED },
		{ "reason", FIELD_LONG_TEXT, REQUIRED },
	} },
	/* SPEC 12: "ranges", or "root" and "count" (one of the two forms:
	 * check_serials_issued()); only the registering org (policy.c). */
	[EVENT_SERIALS_ISSUED] = { "serials.issued",
	    R(ROLE_BRAND) | R(ROLE_IMPORTER), {
		{ "ranges", FIELD_RANGES, OPTIONAL },
		{ "root", FIELD_EVENT_ID, OPTIONAL },
		{ "count", FIELD_POSITIVE, OPTIONAL },
	} },
	/* SPEC 12: the RFC 6962 root over the sorted code hashes that
	 * POST /api/v1/codes uploads beside it (docs/PROTOCOL.md 12.3). */
	[EVENT_CODES_ISSUED] = { "codes.issued",
	    R(ROLE_BRAND) | R(ROLE_IMPORTER), {
		{ "root", FIELD_EVENT_ID, REQUIRED },
		{ "count", FIELD_POSITIVE, REQUIRED },
	} },
};

const char *
event_type_name(enum event_type type)
{
	return type < EVENT_TYPE_COUNT ? types[type].name : "unknown";
}

bool
event_type_parse(const char *s, size_t len, enum event_type *type)
{
	for (int i = 0; i < EVENT_TYPE_COUNT; i++) {
		if (strlen(types[i].name) == len &&
		    memcmp(types[i].name, s, len) == 0) {
			*type = (enum event_type)i;
			return true;
		}
	}
	return false;
}

bool
event_role_allowed(enum event_type type, enum key_role role)
{
	return type < EVENT_TYPE_COUNT && role < ROLE_COUNT &&
	    role != ROLE_ADMIN && (types[type].roles & R(role)) != 0;
}

/* ---- field validation -------------------------------------------------- */

/* "\"field\" must be <what>" */
static enum trace_status
bad(struct trace_error *err, const char *field, const char *what)
{
	return trace_error_set(err, TRACE_EMALFORMED, "bad_field", field,
	    "\"%s\" must be %s", field, what);
}

static bool
is_text(const struct json_value *v, size_t max, bool multiline)
{
	return v->type == JSON_STRING &&
	    text_valid(v->u.string.ptr, v->u.string.len, max, multiline);
}

static bool
is_one_of(const struct json_value *v, const char *const *words)
{
	if (v->type != JSON_STRING)
		return false;
	for (size_t i = 0; words[i] != NULL; i++)
		if (strcmp(v->u.string.ptr, words[i]) == 0)
			return true;
	return false;
}

static bool
is_hex_id(const struct json_value *v)
{
	unsigned char raw[SHA256_LEN];

	return v->type == JSON_STRING &&
	    hex_decode(v->u.string.ptr, v->u.string.len, raw, sizeof(raw), true);
}

/*
 * Validate every member of an object against a small spec list.  round1
 * NULL: every required field must be there; otherwise a missing field
 * required only since round 2 sets *round1 instead of failing.
 */
static enum trace_status check_fields(const struct json_value *obj,
    const struct field_spec *specs, size_t count, bool *round1,
    struct trace_error *err);

static enum trace_status
check_array_of_objects(const struct json_value *v, const char *field,
    const struct field_spec *specs, size_t count, struct trace_error *err)
{
	char path[TRACE_ERROR_FIELD_MAX];
	enum trace_status rc;

	if (v->type != JSON_ARRAY || v->u.array.count == 0 ||
	    v->u.array.count > EVENT_LIST_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_field", field,
		    "\"%s\" must be an array of 1-%d objects", field,
		    EVENT_LIST_MAX);
	for (size_t i = 0; i < v->u.array.count; i++) {
		const struct json_value *item = v->u.array.items[i];

		snprintf(path, sizeof(path), "%s[%zu]", field, i);
		if (item->type != JSON_OBJECT)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "wrong_type", path, "\"%s\" must be an object", path);
		if ((rc = check_fields(item, specs, count, NULL, err)) !=
		    TRACE_OK) {
			trace_error_prefix_field(err, path);
			return rc;
		}
	}
	return TRACE_OK;
}

static enum trace_status
check_ranges(const struct json_value *v, const char *field,
    struct trace_error *err)
{
	char path[TRACE_ERROR_FIELD_MAX];

	if (v->type != JSON_ARRAY || v->u.array.count == 0 ||
	    v->u.array.count > EVENT_RANGES_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_field",
		    field, "\"%s\" must be 1-%d ranges [from, to]%s", field,
		    EVENT_RANGES_MAX, strcmp(field, "serials") == 0 ?
		    " (leave it out to recall the whole lot)" : "");
	for (size_t i = 0; i < v->u.array.count; i++) {
		const struct json_value *r = v->u.array.items[i], *from, *to;

		snprintf(path, sizeof(path), "%s[%zu]", field, i);
		if (r->type != JSON_ARRAY || r->u.array.count != 2)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_field", path, "a serial range is [from, to]");
		from = r->u.array.items[0];
		to = r->u.array.items[1];
		if (from->type != JSON_STRING || to->type != JSON_STRING ||
		    !gs1_attr_valid(from->u.string.ptr, from->u.string.len) ||
		    !gs1_attr_valid(to->u.string.ptr, to->u.string.len))
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_field", path,
			    "serials are 1-20 characters of GS1 set 82");
		if (from->u.string.len != to->u.string.len ||
		    strcmp(from->u.string.ptr, to->u.string.ptr) > 0)
			return trace_error_set(err, TRACE_ERULE, "bad_range",
			    path, "a range's ends must have the same length and "
			    "from <= to");
	}
	return TRACE_OK;
}

static enum trace_status
check_names(const struct json_value *v, const char *field,
    struct trace_error *err)
{
	if (v->type != JSON_OBJECT || v->u.object.count == 0 ||
	    v->u.object.count > 16)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_field", field,
		    "\"%s\" must map 1-16 language tags to text", field);
	for (size_t i = 0; i < v->u.object.count; i++) {
		const struct json_member *m = &v->u.object.members[i];
		char path[TRACE_ERROR_FIELD_MAX];

		snprintf(path, sizeof(path), "%s.%s", field, m->key);
		if (!language_tag_valid(m->key, m->key_len))
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_language", path,
			    "\"%s\" is not a language tag", m->key);
		if (!is_text(m->value, EVENT_TEXT_MAX, false))
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_field", path, "\"%s\" must be 1-%d bytes of "
			    "text", path, EVENT_TEXT_MAX);
	}
	return TRACE_OK;
}

static const struct field_spec item_specs[] = {
	{ "name", FIELD_TEXT, REQUIRED },
	{ "value", FIELD_TEXT, OPTIONAL },
	{ "limit", FIELD_TEXT, OPTIONAL },
	{ "result", FIELD_RESULT, OPTIONAL },
};

static const struct field_spec attachment_specs[] = {
	{ "name", FIELD_TEXT, REQUIRED },
	{ "sha256", FIELD_EVENT_ID, REQUIRED },
	{ "media", FIELD_TEXT, OPTIONAL },
};

static enum trace_status
check_value(const struct json_value *v, const struct field_spec *spec,
    struct trace_error *err)
{
	static const char *const results[] = { "pass", "fail", NULL };
	static const char *const modes[] = { "1210", "9610", "express", NULL };
	static const char *const outcomes[] = { "released", "destroyed", NULL };
	const char *f = spec->name;
	long long unused;

	switch (spec->kind) {
	case FIELD_TEXT:
		return is_text(v, EVENT_TEXT_MAX, false) ? TRACE_OK :
		    bad(err, f, "1-200 bytes of text on one line");
	case FIELD_LONG_TEXT:
		return is_text(v, EVENT_LONG_TEXT_MAX, true) ? TRACE_OK :
		    bad(err, f, "1-2000 bytes of text");
	case FIELD_NAMES:
		return check_names(v, f, err);
	case FIELD_COUNTRY:
		return v->type == JSON_STRING && country_valid(v->u.string.ptr,
		    v->u.string.len) ? TRACE_OK :
		    bad(err, f, "an ISO 3166-1 alpha-2 country code (e.g. \"KR\")");
	case FIELD_DATE:
		return v->type == JSON_STRING && time_parse_date(v->u.string.ptr,
		    v->u.string.len, &unused) ? TRACE_OK :
		    bad(err, f, "a date YYYY-MM-DD");
	case FIELD_COUNT:
		return v->type == JSON_INT && v->u.integer >= 0 &&
		    v->u.integer <= 1000000000000LL ? TRACE_OK :
		    bad(err, f, "a whole number >= 0");
	case FIELD_RESULT:
		return is_one_of(v, results) ? TRACE_OK :
		    bad(err, f, "\"pass\" or \"fail\"");
	case FIELD_CUSTOMS_MODE:
		return is_one_of(v, modes) ? TRACE_OK :
		    bad(err, f, "\"1210\", \"9610\" or \"express\"");
	case FIELD_OUTCOME:
		return is_one_of(v, outcomes) ? TRACE_OK :
		    bad(err, f, "\"released\" or \"destroyed\"");
	case FIELD_PORT:
		return v->type == JSON_STRING && locode_valid(v->u.string.ptr,
		    v->u.string.len) ? TRACE_OK :
		    bad(err, f, "a UN/LOCODE (e.g. \"KRINC\")");
	case FIELD_SEVERITY:
		return v->type == JSON_INT && v->u.integer >= 1 &&
		    v->u.integer <= 3 ? TRACE_OK :
		    bad(err, f, "1, 2 or 3");
	case FIELD_EVENT_ID:
		return is_hex_id(v) ? TRACE_OK :
		    bad(err, f, "64 lowercase hex digits");
	case FIELD_TEXT_LIST:
		if (v->type != JSON_ARRAY || v->u.array.count == 0 ||
		    v->u.array.count > EVENT_LIST_MAX)
			return bad(err, f, "an array of 1-100 texts");
		for (size_t i = 0; i < v->u.array.count; i++)
			if (!is_text(v->u.array.items[i], EVENT_TEXT_MAX, false))
				return bad(err, f, "an array of texts of 1-200 bytes each");
		return TRACE_OK;
	case FIELD_ITEMS:
		return check_array_of_objects(v, f, item_specs,
		    sizeof(item_specs) / sizeof(item_specs[0]), err);
	case FIELD_ATTACHMENTS:
		return check_array_of_objects(v, f, attachment_specs,
		    sizeof(attachment_specs) / sizeof(attachment_specs[0]), err);
	case FIELD_RANGES:
		return check_ranges(v, f, err);
	case FIELD_POSITIVE:
		return v->type == JSON_INT && v->u.integer >= 1 &&
		    v->u.integer <= 1000000000000LL ? TRACE_OK :
		    bad(err, f, "a whole number >= 1");
	}
	return bad(err, f, "of a known kind");
}

static enum trace_status
check_fields(const struct json_value *obj, const struct field_spec *specs,
    size_t count, bool *round1, struct trace_error *err)
{
	enum trace_status rc;

	/* Unknown members first: they name the field a person mistyped. */
	for (size_t i = 0; i < obj->u.object.count; i++) {
		const struct json_member *m = &obj->u.object.members[i];
		bool known = false;

		for (size_t k = 0; k < count && specs[k].name != NULL && !known;
		    k++)
			known = strcmp(specs[k].name, m->key) == 0;
		if (!known)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "unknown_field", m->key, "unknown field \"%s\"",
			    m->key);
	}
	for (size_t k = 0; k < count && specs[k].name != NULL; k++) {
		const struct json_value *v = json_object_get(obj, specs[k].name);

		if (v == NULL) {
			if (specs[k].presence == REQUIRED_SINCE_ROUND2 &&
			    round1 != NULL) {
				*round1 = true;
				continue;
			}
			if (specs[k].presence != OPTIONAL)
				return trace_error_set(err, TRACE_EMALFORMED,
				    "missing_field", specs[k].name,
				    "missing required field \"%s\"",
				    specs[k].name);
			continue;
		}
		if ((rc = check_value(v, &specs[k], err)) != TRACE_OK)
			return rc;
	}
	return TRACE_OK;
}

/* ---- the payload ------------------------------------------------------- */

static enum trace_status
parse_chain(const struct json_value *root, struct trace_event *ev,
    struct trace_error *err)
{
	static const char *const fields[] = { "gtin", "lot", NULL };
	const struct json_value *chain = NULL;
	const char *gtin = NULL, *lot = NULL;
	size_t gtin_len = 0, lot_len = 0;
	enum trace_status rc;

	if ((rc = json_get_object(root, "chain", true, &chain, err)) != TRACE_OK)
		return rc;
	if ((rc = json_object_only(chain, fields, err)) != TRACE_OK ||
	    (rc = json_get_string(chain, "gtin", true, &gtin, &gtin_len,
	    err)) != TRACE_OK ||
	    (rc = json_get_string(chain, "lot", true, &lot, &lot_len, err)) !=
	    TRACE_OK) {
		trace_error_prefix_field(err, "chain");
		return rc;
	}
	if ((rc = gs1_gtin_normalize(gtin, gtin_len, ev->gtin, "chain.gtin",
	    err)) != TRACE_OK)
		return rc;
	/* One chain has one spelling: the payload carries the GTIN-14. */
	if (gtin_len != GTIN14_LEN)
		return trace_error_set(err, TRACE_EMALFORMED, "gtin_not_14",
		    "chain.gtin", "chain.gtin must be written as GTIN-14 (%s)",
		    ev->gtin);
	if ((rc = gs1_attr_check(lot, lot_len, "chain.lot", err)) != TRACE_OK)
		return rc;
	memcpy(ev->lot, lot, lot_len + 1);
	gs1_chain_id(ev->gtin, ev->lot, ev->chain, sizeof(ev->chain));
	return TRACE_OK;
}

static enum trace_status
parse_link(const struct json_value *root, struct trace_event *ev,
    struct trace_error *err)
{
	const struct json_value *prev;
	enum trace_status rc;

	if ((rc = json_get_int(root, "seq", true, &ev->seq, err)) != TRACE_OK)
		return rc;
	if (ev->seq < 0 || ev->seq > EVENT_SEQ_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_seq", "seq",
		    "seq must be 0 to 2^53-1");
	prev = json_object_get(root, "prev");
	if (prev == NULL)
		return trace_error_set(err, TRACE_EMALFORMED, "missing_field",
		    "prev", "missing required field \"prev\" (null at seq 0)");
	if (ev->seq == 0) {
		if (prev->type != JSON_NULL)
			return trace_error_set(err, TRACE_EMALFORMED, "bad_prev",
			    "prev", "prev must be null at seq 0");
		return TRACE_OK;
	}
	if (prev->type != JSON_STRING || !hex_decode(prev->u.string.ptr,
	    prev->u.string.len, ev->prev, sizeof(ev->prev), true))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_prev", "prev",
		    "prev must be the 64 lowercase hex digit id of event seq-1");
	ev->has_prev = true;
	return TRACE_OK;
}

static enum trace_status
parse_where(const struct json_value *root, struct trace_event *ev,
    struct trace_error *err)
{
	static const struct field_spec specs[] = {
		{ "country", FIELD_COUNTRY, OPTIONAL },
		{ "place", FIELD_TEXT, OPTIONAL },
	};
	enum trace_status rc;

	if ((rc = json_get_object(root, "where", false, &ev->where, err)) !=
	    TRACE_OK || ev->where == NULL)
		return rc;
	if ((rc = check_fields(ev->where, specs, 2, NULL, err)) != TRACE_OK)
		trace_error_prefix_field(err, "where");
	return rc;
}

/* SPEC 12: serials.issued has "ranges" or "root" with "count", not both. */
static enum trace_status
check_serials_issued(const struct json_value *data, struct trace_error *err)
{
	bool ranges = json_object_get(data, "ranges") != NULL;
	bool root = json_object_get(data, "root") != NULL;
	bool count = json_object_get(data, "count") != NULL;

	if (ranges && (root || count))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_field",
		    root ? "root" : "count", "serials.issued has \"ranges\" "
		    "or \"root\" and \"count\", not both");
	if (!ranges && !root)
		return trace_error_set(err, TRACE_EMALFORMED, "missing_field",
		    "ranges", "serials.issued needs \"ranges\" or \"root\" "
		    "and \"count\"");
	if (root != count)
		return trace_error_set(err, TRACE_EMALFORMED, "missing_field",
		    root ? "count" : "root", "\"root\" and \"count\" come "
		    "together");
	return TRACE_OK;
}

static enum trace_status
event_from_json(const struct json_value *root, enum parse_mode mode,
    struct trace_event *ev, struct trace_error *err)
{
	static const char *const fields[] = { "v", "type", "chain", "seq",
		"prev", "time", "signer", "where", "data", NULL };
	const struct type_spec *spec;
	const char *s = NULL;
	size_t len = 0;
	long long v = 0;
	enum trace_status rc;

	if (root->type != JSON_OBJECT)
		return trace_error_set(err, TRACE_EMALFORMED, "wrong_type", NULL,
		    "an event is a JSON object");
	ev->root = root;
	if ((rc = json_object_only(root, fields, err)) != TRACE_OK ||
	    (rc = json_get_int(root, "v", true, &v, err)) != TRACE_OK)
		return rc;
	if (v != 1)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_version", "v",
		    "unsupported version %lld (want 1)", v);
	if ((rc = json_get_string(root, "type", true, &s, &len, err)) !=
	    TRACE_OK)
		return rc;
	if (!event_type_parse(s, len, &ev->type))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_type", "type",
		    "unknown event type \"%.60s\"", s);
	if ((rc = parse_chain(root, ev, err)) != TRACE_OK ||
	    (rc = parse_link(root, ev, err)) != TRACE_OK)
		return rc;
	/* A chain is the history of a registered lot: it starts there. */
	if ((ev->seq == 0) != (ev->type == EVENT_PRODUCT_REGISTERED))
		return trace_error_set(err, TRACE_ERULE, "bad_seq", "seq",
		    ev->seq == 0 ? "a chain starts with product.registered" :
		    "product.registered is only allowed at seq 0");
	if ((rc = json_get_string(root, "time", true, &ev->time_text, &len,
	    err)) != TRACE_OK)
		return rc;
	if (!time_parse_rfc3339(ev->time_text, len, &ev->time, &ev->offset_min))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_time", "time",
		    "time must be RFC 3339 with an offset, e.g. "
		    "2026-11-20T08:30:00+09:00");
	if ((rc = json_get_string(root, "signer", true, &s, &len, err)) !=
	    TRACE_OK)
		return rc;
	if (!key_id_valid(s, len))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_keyid",
		    "signer", "signer must be a key id (%d lowercase hex)",
		    KEYID_LEN);
	memcpy(ev->signer, s, len + 1);
	if ((rc = parse_where(root, ev, err)) != TRACE_OK)
		return rc;
	if ((rc = json_get_object(root, "data", true, &ev->data, err)) !=
	    TRACE_OK)
		return rc;
	spec = &types[ev->type];
	if ((rc = check_fields(ev->data, spec->fields,
	    sizeof(spec->fields) / sizeof(spec->fields[0]),
	    mode == PARSE_STORED ? &ev->round1_form : NULL, err)) == TRACE_OK &&
	    ev->type == EVENT_SERIALS_ISSUED)
		rc = check_serials_issued(ev->data, err);
	if (rc != TRACE_OK)
		trace_error_prefix_field(err, "data");
	return rc;
}

/*
 * Every string of a statement submitted now must be visible text
 * (codes.h text_visible): no bidirectional override can make "liaf" read
 * "fail" on a page, no zero width space can split a certificate number.
 * Checked over the whole payload, so no text field can be forgotten; not
 * for stored statements, which were accepted under round 1's rule.
 */
static enum trace_status
check_visible(const struct json_value *v, char *path, size_t len,
    size_t size, struct trace_error *err)
{
	enum trace_status rc = TRACE_OK;
	int n;

	switch (v->type) {
	case JSON_STRING:
		if (!text_visible(v->u.string.ptr, v->u.string.len))
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_field", path, "\"%s\" holds an invisible or "
			    "bidirectional formatting character", path);
		return TRACE_OK;
	case JSON_OBJECT:
		for (size_t i = 0; i < v->u.object.count && rc == TRACE_OK;
		    i++) {
			n = snprintf(path + len, size - len, "%s%s",
			    len > 0 ? "." : "", v->u.object.members[i].key);
			rc = check_visible(v->u.object.members[i].value, path,
			    n < 0 || (size_t)n >= size - len ? size - 1 :
			    len + (size_t)n, size, err);
			path[len] = '\0';
		}
		return rc;
	case JSON_ARRAY:
		for (size_t i = 0; i < v->u.array.count && rc == TRACE_OK;
		    i++) {
			n = snprintf(path + len, size - len, "[%zu]", i);
			rc = check_visible(v->u.array.items[i], path,
			    n < 0 || (size_t)n >= size - len ? size - 1 :
			    len + (size_t)n, size, err);
			path[len] = '\0';
		}
		return rc;
	default:
		return TRACE_OK;
	}
}

static enum trace_status
parse_as(const unsigned char *payload, size_t len, enum parse_mode mode,
    struct trace_event *ev, struct trace_error *err)
{
	enum trace_status rc;
	struct json_limits limits = json_limits_default;

	memset(ev, 0, sizeof(*ev));
	limits.max_size = DSSE_PAYLOAD_MAX;
	rc = json_parse((const char *)payload, len, &limits, &ev->doc, err);
	if (rc != TRACE_OK)
		return rc;
	rc = event_from_json(json_doc_root(ev->doc), mode, ev, err);
	if (rc == TRACE_OK && mode == PARSE_NEW) {
		char path[TRACE_ERROR_FIELD_MAX] = "";

		rc = check_visible(json_doc_root(ev->doc), path, 0,
		    sizeof(path), err);
	}
	if (rc != TRACE_OK)
		event_free(ev);
	return rc;
}

enum trace_status
event_parse(const unsigned char *payload, size_t len, struct trace_event *ev,
    struct trace_error *err)
{
	return parse_as(payload, len, PARSE_NEW, ev, err);
}

enum trace_status
event_parse_stored(const unsigned char *payload, size_t len,
    struct trace_event *ev, struct trace_error *err)
{
	return parse_as(payload, len, PARSE_STORED, ev, err);
}

void
event_free(struct trace_event *ev)
{
	if (ev == NULL)
		return;
	json_doc_free(ev->doc);
	memset(ev, 0, sizeof(*ev));
}

const char *
event_data_string(const struct trace_event *ev, const char *key)
{
	const struct json_value *v = json_object_get(ev->data, key);

	return v != NULL && v->type == JSON_STRING ? v->u.string.ptr : NULL;
}

enum trace_status
event_build(const struct event_draft *d, char **out, size_t *len,
    struct trace_error *err)
{
	struct json_writer *w = json_writer_new(false);
	struct trace_event check;
	const char *buf;
	char prev[2 * SHA256_LEN + 1];
	size_t n;
	enum trace_status rc;

	*out = NULL;
	if (w == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	json_writer_object_open(w);
	json_writer_key(w, "v");
	json_writer_int(w, 1);
	json_writer_key(w, "type");
	json_writer_cstring(w, event_type_name(d->type));
	json_writer_key(w, "chain");
	json_writer_object_open(w);
	json_writer_key(w, "gtin");
	json_writer_cstring(w, d->gtin14);
	json_writer_key(w, "lot");
	json_writer_cstring(w, d->lot);
	json_writer_object_close(w);
	json_writer_key(w, "seq");
	json_writer_int(w, d->seq);
	json_writer_key(w, "prev");
	if (d->prev != NULL) {
		hex_encode(d->prev, SHA256_LEN, prev);
		json_writer_cstring(w, prev);
	} else {
		json_writer_null(w);
	}
	json_writer_key(w, "time");
	json_writer_cstring(w, d->time);
	json_writer_key(w, "signer");
	json_writer_cstring(w, d->signer);
	if (d->country != NULL || d->place != NULL) {
		json_writer_key(w, "where");
		json_writer_object_open(w);
		if (d->country != NULL) {
			json_writer_key(w, "country");
			json_writer_cstring(w, d->country);
		}
		if (d->place != NULL) {
			json_writer_key(w, "place");
			json_writer_cstring(w, d->place);
		}
		json_writer_object_close(w);
	}
	json_writer_key(w, "data");
	if (d->data != NULL) {
		json_writer_value(w, d->data);
	} else {
		json_writer_object_open(w);
		json_writer_object_close(w);
	}
	json_writer_object_close(w);
	if ((rc = json_writer_result(w, &buf, &n, err)) != TRACE_OK)
		goto out;
	/* Never sign what the server would refuse. */
	if ((rc = event_parse((const unsigned char *)buf, n, &check, err)) !=
	    TRACE_OK)
		goto out;
	event_free(&check);
	if ((*out = malloc(n + 1)) == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	memcpy(*out, buf, n);
	(*out)[n] = '\0';
	*len = n;
out:
	json_writer_free(w);
	return rc;
}
