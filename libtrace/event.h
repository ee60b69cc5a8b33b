/*
 * event.h - trace events (payloadType application/vnd.trace.event.v1+json,
 * docs/PROTOCOL.md section 6): parsing and validating every rule a single payload can be
 * checked against on its own, the role table, and building payloads.
 *
 * Rules that need context (the chain head, the signer's key entry, the
 * corrected event) live in policy.c and the server's ingest.
 */
#ifndef TRACE_EVENT_H
#define TRACE_EVENT_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto.h"
#include "error.h"
#include "gs1.h"
#include "json.h"
#include "keyentry.h"
#include "keys.h"

enum event_type {
	EVENT_PRODUCT_REGISTERED,
	EVENT_INSPECTION_SAMPLED,
	EVENT_INSPECTION_COMPLETED,
	EVENT_SHIPMENT_DEPARTED,
	EVENT_SHIPMENT_ARRIVED,
	EVENT_CUSTOMS_DECLARED,
	EVENT_CUSTOMS_RELEASED,
	EVENT_WAREHOUSE_RECEIVED,
	EVENT_WAREHOUSE_DISPATCHED,
	EVENT_RECALL_ISSUED,
	EVENT_RECALL_CLOSED,
	EVENT_CORRECTION,
	EVENT_SERIALS_ISSUED,     /* SPEC 12: the serials a lot was given */
	EVENT_CODES_ISSUED,       /* SPEC 12: root over the lot's code hashes */
	EVENT_TYPE_COUNT,
};

#define EVENT_SEQ_MAX 9007199254740991LL /* 2^53 - 1: safe in every JSON reader */
#define EVENT_TEXT_MAX 200
#define EVENT_LONG_TEXT_MAX 2000
#define EVENT_LIST_MAX 100
#define EVENT_RANGES_MAX 100

struct trace_event {
	struct json_doc *doc;            /* owns root, where, data, time_text */
	const struct json_value *root;
	const struct json_value *where;  /* NULL when absent */
	const struct json_value *data;
	enum event_type type;
	char gtin[GTIN14_LEN + 1];
	char lot[GS1_ATTR_MAX + 1];
	char chain[CHAIN_ID_MAX + 1];
	long long seq;
	bool has_prev;
	unsigned char prev[SHA256_LEN];
	long long time;                  /* seconds since the epoch, UTC */
	int offset_min;
	const char *time_text;
	char signer[KEYID_LEN + 1];
	/* Read with event_parse_stored() in a form only round 1 wrote: a
	 * recall.closed that names no recall (docs/PROTOCOL.md section
	 * 6.4).  The fold judges it by the round-1 rule and labels it. */
	bool round1_form;
};

const char *event_type_name(enum event_type type);
bool event_type_parse(const char *s, size_t len, enum event_type *type);

/* May a key of this role sign this type?  (Corrections: see policy.h.) */
bool event_role_allowed(enum event_type type, enum key_role role);

/*
 * Parse and validate a payload submitted now: strict JSON, v == 1, a known type,
 * chain.gtin as a valid GTIN-14, chain.lot in set 82, seq 0..2^53-1, prev
 * null exactly at seq 0 and 64 lowercase hex otherwise, only
 * product.registered at seq 0 and nowhere else, RFC 3339 time, signer key
 * id, where.country ISO 3166, and the data fields of the type (required
 * ones present, nothing unknown, each of its kind).  On TRACE_OK the caller
 * releases ev with event_free().  Errors name the field, e.g.
 * "data.items[1].result".
 */
enum trace_status event_parse(const unsigned char *payload, size_t len,
    struct trace_event *ev, struct trace_error *err);

/*
 * The same for a statement already in the log (the store, a bundle):
 * every rule of event_parse() except the fields round 2 made required,
 * so that what round 1 accepted still reads.  A payload that lacks one
 * (a recall.closed without "recall") gets ev->round1_form; a payload that
 * has one is checked in full.  Never use it for a statement submitted
 * now: those get event_parse().
 */
enum trace_status event_parse_stored(const unsigned char *payload,
    size_t len, struct trace_event *ev, struct trace_error *err);

/* Release what ev owns.  Accepts NULL; ev may be reused after. */
void event_free(struct trace_event *ev);

/* A string member of ev->data, or NULL. */
const char *event_data_string(const struct trace_event *ev, const char *key);

/* Inputs to build a payload; data is JSON object text or NULL for {}. */
struct event_draft {
	enum event_type type;
	const char *gtin14;
	const char *lot;
	long long seq;
	const unsigned char *prev;       /* NULL at seq 0 */
	const char *time;                /* RFC 3339 */
	const char *signer;
	const char *country;             /* NULL: no where.country */
	const char *place;               /* NULL: no where.place */
	const struct json_value *data;   /* NULL: {} */
};

/*
 * Write the payload for draft into a malloc'd buffer the caller frees, then
 * validate it with event_parse() so nothing invalid is ever signed.
 */
enum trace_status event_build(const struct event_draft *draft, char **out,
    size_t *len, struct trace_error *err);

#endif
