/*
 * epcis.c - GET /api/v1/epcis/events: the chains as GS1 EPCIS 2.0 JSON-LD
 * (an EPCISQueryDocument of ObjectEvents, one per trace event), for
 * regulators and partners whose systems speak EPCIS (docs/PROTOCOL.md section 11.14).
 *
 * Query parameters (EPCIS 2.0 SimpleEventQuery names; several values of one
 * parameter are separated by '|'):
 *   MATCH_epcClass  required: GS1 Digital Link class URIs of GTIN + lot,
 *                   https://id.gs1.org/01/{gtin}/10/{lot} (any host), at
 *                   most EPCIS_CLASSES_MAX.  The export reads exactly those
 *                   chains, so its cost is bounded by them and never by the
 *                   size of the store.
 *   EQ_bizStep, EQ_disposition   CBV words ("shipping") or full URIs
 *   GE_eventTime, LT_eventTime   RFC 3339
 *   eventType       ObjectEvent (the only type this export produces)
 * Anything else is 400 naming the parameter.
 *
 * Mapping (docs/PROTOCOL.md section 6.3's table): bizStep and disposition as CBV 2.0
 * Web URIs (https://ref.gs1.org/cbv/BizStep-commissioning), the customs
 * steps, which CBV lacks, as terms of the project vocabulary
 * (EPCIS_VOCAB, prefix "trace"); action ADD for product.registered and
 * OBSERVE otherwise; what the event is about as quantityList [{epcClass:
 * the lot's class URI, quantity when the event states one}].  Trace has no
 * GLNs, so readPoint/bizLocation are left out and the signer's "where" is
 * given as trace:where.  eventID is ni:///sha-256;<base64url of the
 * statement id>?ver=CBV2.0 (RFC 6920): the id of the signed statement,
 * not CBV's own event hash.  A correction is exported as EPCIS expects an
 * error declaration: a copy of the corrected event, with the corrected
 * event's eventID, plus errorDeclaration {declarationTime, reason
 * incorrect_data, trace:reason, trace:statement (the correction's id)}.
 * Which corrections stand is the fold's (libtrace/fold.h), as on every
 * other view: a correction that changes nothing (a round-1 correction of
 * a recall) or that was itself withdrawn declares no error.  With a
 * witness policy (SPEC 9) a statement that awaits the witnesses (a close,
 * correction, pass, release or serials.issued logged after the witnessed
 * checkpoint, which the fold does not apply yet) is left out until they
 * cosign it, so an export never says a recall ended before a verifier
 * of the lot's bundle would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/dsse.h"
#include "libtrace/encoding.h"
#include "libtrace/fold.h"
#include "libtrace/timefmt.h"
#include "pages.h"
#include "recalls.h"

#define EPCIS_CONTEXT "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
/* The project vocabulary: extension terms are "trace:<name>". */
#define EPCIS_VOCAB "https://trace.example/ns/epcis#"
#define CBV "https://ref.gs1.org/cbv/"
#define CLASS_BASE "https://id.gs1.org"
#define EPCIS_CLASSES_MAX 100
#define EPCIS_VALUES_MAX 16

struct epcis_item {
	const struct store_record *rec;
	struct dsse_envelope env;
	struct trace_event ev;
	bool ok;
};

struct epcis_filter {
	const char *steps[EPCIS_VALUES_MAX];
	size_t step_count;
	char step_text[EPCIS_VALUES_MAX][160];
	char disp_text[EPCIS_VALUES_MAX][160];
	size_t disp_count;
	bool has_ge, has_lt;
	long long ge, lt;
	bool object_events;             /* eventType allows ObjectEvent */
};

/* bizStep and disposition of an event type (NULL: none). */
static void
terms_of(const struct trace_event *ev, const char **step, const char **disp)
{
	const char *s;

	*step = NULL;
	*disp = NULL;
	switch (ev->type) {
	case EVENT_PRODUCT_REGISTERED:
		*step = CBV "BizStep-commissioning";
		*disp = CBV "Disp-active";
		break;
	case EVENT_INSPECTION_SAMPLED:
		*step = CBV "BizStep-sampling";
		break;
	case EVENT_INSPECTION_COMPLETED:
		*step = CBV "BizStep-inspecting";
		s = event_data_string(ev, "result");
		*disp = s != NULL && strcmp(s, "pass") == 0 ?
		    CBV "Disp-conformant" : CBV "Disp-non_conformant";
		break;
	case EVENT_SHIPMENT_DEPARTED:
		*step = CBV "BizStep-departing";
		*disp = CBV "Disp-in_transit";
		break;
	case EVENT_SHIPMENT_ARRIVED:
		*step = CBV "BizStep-arriving";
		*disp = CBV "Disp-in_transit";
		break;
	case EVENT_CUSTOMS_DECLARED:
		*step = EPCIS_VOCAB "BizStep-customs_declaring";
		*disp = CBV "Disp-in_progress";
		break;
	case EVENT_CUSTOMS_RELEASED:
		*step = EPCIS_VOCAB "BizStep-customs_releasing";
		*disp = CBV "Disp-sellable_not_accessible";
		break;
	case EVENT_WAREHOUSE_RECEIVED:
		*step = CBV "BizStep-receiving";
		break;
	case EVENT_WAREHOUSE_DISPATCHED:
		*step = CBV "BizStep-shipping";
		break;
	case EVENT_RECALL_ISSUED:
		*step = CBV "BizStep-holding";
		*disp = CBV "Disp-recalled";
		break;
	case EVENT_RECALL_CLOSED:
		*step = CBV "BizStep-holding";
		s = event_data_string(ev, "outcome");
		*disp = s != NULL && strcmp(s, "destroyed") == 0 ?
		    CBV "Disp-destroyed" : CBV "Disp-sellable_accessible";
		break;
	default:
		break;
	}
}

/* ni:///sha-256;<base64url, no padding>?ver=CBV2.0 of a hex statement id. */
static void
write_event_id(struct buf *b, const char *hex)
{
	unsigned char raw[SHA256_LEN];
	char b64[base64_encoded_len(SHA256_LEN) + 1];
	size_t n;

	if (!hex_decode(hex, strlen(hex), raw, sizeof(raw), true)) {
		buf_puts(b, "\"\"");
		return;
	}
	n = base64_encode(raw, sizeof(raw), b64);
	/* RFC 6920 uses the URL-safe alphabet without padding. */
	while (n > 0 && b64[n - 1] == '=')
		b64[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	buf_printf(b, "\"ni:///sha-256;%s?ver=CBV2.0\"", b64);
}

static bool
value_listed(const char (*list)[160], size_t count, const char *value)
{
	if (count == 0)
		return true;
	for (size_t i = 0; i < count; i++)
		if (value != NULL && strcmp(list[i], value) == 0)
			return true;
	return false;
}

/*
 * The ObjectEvent of item (its terms and time); declaration, when not
 * NULL, is the correction that declares it erroneous.
 */
static void
write_object_event(struct buf *b, const struct epcis_item *item,
    const struct epcis_item *declaration)
{
	const struct trace_event *ev = &item->ev;
	const char *step, *disp;
	char link[CHAIN_ID_MAX + 64], offset[8];
	struct gs1_link l;
	long long quantity;
	int off = ev->offset_min < 0 ? -ev->offset_min : ev->offset_min;

	terms_of(ev, &step, &disp);
	memset(&l, 0, sizeof(l));
	memcpy(l.gtin, ev->gtin, sizeof(l.gtin));
	memcpy(l.lot, ev->lot, sizeof(l.lot));
	gs1_link_format(CLASS_BASE, &l, link, sizeof(link));
	snprintf(offset, sizeof(offset), "%c%02d:%02d",
	    ev->offset_min < 0 ? '-' : '+', off / 60 % 100, off % 60);
	buf_puts(b, "{\"type\":\"ObjectEvent\",\"eventTime\":");
	buf_json_string(b, ev->time_text, strlen(ev->time_text));
	buf_printf(b, ",\"eventTimeZoneOffset\":\"%s\",\"eventID\":", offset);
	write_event_id(b, item->rec->id);
	buf_puts(b, ",\"quantityList\":[{\"epcClass\":");
	buf_json_string(b, link, strlen(link));
	if ((ev->type == EVENT_PRODUCT_REGISTERED ||
	    ev->type == EVENT_WAREHOUSE_RECEIVED ||
	    ev->type == EVENT_WAREHOUSE_DISPATCHED) &&
	    json_object_get(ev->data, "quantity") != NULL &&
	    json_get_int(ev->data, "quantity", false, &quantity, NULL) ==
	    TRACE_OK)
		buf_printf(b, ",\"quantity\":%lld", quantity);
	buf_printf(b, "}],\"action\":\"%s\"", ev->type ==
	    EVENT_PRODUCT_REGISTERED ? "ADD" : "OBSERVE");
	if (step != NULL)
		buf_printf(b, ",\"bizStep\":\"%s\"", step);
	if (disp != NULL)
		buf_printf(b, ",\"disposition\":\"%s\"", disp);
	if (declaration != NULL) {
		const char *reason = event_data_string(&declaration->ev,
		    "reason");

		buf_puts(b, ",\"errorDeclaration\":{\"declarationTime\":");
		buf_json_string(b, declaration->ev.time_text,
		    strlen(declaration->ev.time_text));
		buf_puts(b, ",\"reason\":\"" CBV "ER-incorrect_data\"");
		if (reason != NULL) {
			buf_puts(b, ",\"trace:reason\":");
			buf_json_string(b, reason, strlen(reason));
		}
		buf_printf(b, ",\"trace:statement\":\"%s\"}",
		    declaration->rec->id);
	}
	buf_puts(b, ",\"trace:type\":");
	buf_json_string(b, event_type_name(ev->type),
	    strlen(event_type_name(ev->type)));
	buf_puts(b, ",\"trace:chain\":");
	buf_json_string(b, ev->chain, strlen(ev->chain));
	buf_printf(b, ",\"trace:seq\":%lld,\"trace:logIndex\":%lld,"
	    "\"trace:statement\":\"%s\",\"trace:signer\":\"%s\"", ev->seq,
	    item->rec->log_index, item->rec->id, ev->signer);
	if (ev->where != NULL) {
		buf_puts(b, ",\"trace:where\":");
		buf_json_value(b, ev->where);
	}
	buf_puts(b, ",\"trace:data\":");
	buf_json_value(b, ev->data);
	buf_puts(b, "}");
}

/* Does the exported event pass the filters? */
static bool
passes(const struct epcis_filter *f, const struct epcis_item *item)
{
	const char *step, *disp;

	terms_of(&item->ev, &step, &disp);
	if (!value_listed(f->step_text, f->step_count, step) ||
	    !value_listed(f->disp_text, f->disp_count, disp))
		return false;
	if (f->has_ge && item->ev.time < f->ge)
		return false;
	if (f->has_lt && item->ev.time >= f->lt)
		return false;
	return true;
}

/* Split value at '|' into URIs: a bare CBV word gets prefix. */
static enum trace_status
parse_terms(const char *name, const char *value, const char *prefix,
    char (*out)[160], size_t *count, struct trace_error *err)
{
	const char *p = value;

	*count = 0;
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '|');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		bool bare = len > 0 && memchr(p, ':', len) == NULL;

		if (*count == EPCIS_VALUES_MAX || len == 0 ||
		    len + strlen(prefix) >= sizeof(out[0]))
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_parameter", name, "%s takes 1 to %d values "
			    "(CBV words or URIs) separated by '|'", name,
			    EPCIS_VALUES_MAX);
		snprintf(out[*count], sizeof(out[0]), "%s%.*s",
		    bare ? prefix : "", (int)len, p);
		(*count)++;
		p = end != NULL ? end + 1 : NULL;
	}
	return TRACE_OK;
}

/* MATCH_epcClass into chain ids (deduplicated). */
static enum trace_status
parse_classes(const char *value, char (*chains)[CHAIN_ID_MAX + 1],
    size_t *count, struct trace_error *err)
{
	const char *p = value;

	*count = 0;
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '|'), *path;
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		char uri[512];
		struct gs1_link link;
		struct trace_error why;
		size_t k;

		if (*count == EPCIS_CLASSES_MAX || len == 0 || len >= sizeof(uri))
			goto bad;
		memcpy(uri, p, len);
		uri[len] = '\0';
		if (strncmp(uri, "https://", 8) == 0)
			path = strchr(uri + 8, '/');
		else if (strncmp(uri, "http://", 7) == 0)
			path = strchr(uri + 7, '/');
		else
			goto bad;
		if (path == NULL || gs1_link_parse_path(path, strlen(path),
		    &link, &why) != TRACE_OK || link.lot[0] == '\0' ||
		    link.serial[0] != '\0')
			goto bad;
		gs1_chain_id(link.gtin, link.lot, chains[*count],
		    CHAIN_ID_MAX + 1);
		for (k = 0; k < *count; k++)
			if (strcmp(chains[k], chains[*count]) == 0)
				break;
		if (k == *count)
			(*count)++;
		p = end != NULL ? end + 1 : NULL;
	}
	if (*count > 0)
		return TRACE_OK;
bad:
	return trace_error_set(err, TRACE_EMALFORMED, "bad_parameter",
	    "MATCH_epcClass", "MATCH_epcClass takes 1 to %d GS1 Digital Link "
	    "class URIs (https://id.gs1.org/01/{gtin}/10/{lot}) separated by "
	    "'|'", EPCIS_CLASSES_MAX);
}

static enum trace_status
parse_filter(const struct query_fields *params, struct epcis_filter *f,
    struct trace_error *err)
{
	const struct query_field *p;
	int offset;
	enum trace_status rc;

	memset(f, 0, sizeof(*f));
	f->object_events = true;
	if ((p = parse_query_get(params, "EQ_bizStep")) != NULL &&
	    p->value != NULL && (rc = parse_terms("EQ_bizStep", p->value,
	    CBV "BizStep-", f->step_text, &f->step_count, err)) != TRACE_OK)
		return rc;
	if ((p = parse_query_get(params, "EQ_disposition")) != NULL &&
	    p->value != NULL && (rc = parse_terms("EQ_disposition", p->value,
	    CBV "Disp-", f->disp_text, &f->disp_count, err)) != TRACE_OK)
		return rc;
	if ((p = parse_query_get(params, "GE_eventTime")) != NULL &&
	    p->value != NULL) {
		if (!time_parse_rfc3339(p->value, p->value_len, &f->ge, &offset))
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_parameter", "GE_eventTime",
			    "GE_eventTime is an RFC 3339 time");
		f->has_ge = true;
	}
	if ((p = parse_query_get(params, "LT_eventTime")) != NULL &&
	    p->value != NULL) {
		if (!time_parse_rfc3339(p->value, p->value_len, &f->lt, &offset))
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_parameter", "LT_eventTime",
			    "LT_eventTime is an RFC 3339 time");
		f->has_lt = true;
	}
	if ((p = parse_query_get(params, "eventType")) != NULL &&
	    p->value != NULL) {
		char types[EPCIS_VALUES_MAX][160];
		size_t n;

		if ((rc = parse_terms("eventType", p->value, "", types, &n,
		    err)) != TRACE_OK)
			return rc;
		f->object_events = false;
		for (size_t i = 0; i < n; i++)
			f->object_events |= strcmp(types[i], "ObjectEvent") == 0;
	}
	return TRACE_OK;
}

/* The fold of a chain's parsed items (chain_fold). */
static enum trace_status
fold_items(struct request *req, const struct epcis_item *items, size_t count,
    struct fold_result *out, struct trace_error *err)
{
	struct fold_statement *st = calloc(count + 1, sizeof(*st));
	enum trace_status rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	for (size_t i = 0; i < count; i++)
		st[i] = (struct fold_statement){ .ev = &items[i].ev,
			.id = items[i].rec->id,
			.log_index = items[i].rec->log_index };
	rc = chain_fold(req, st, count, out, err);
	free(st);
	return rc;
}

/* The events of one chain's records that pass f, into b. */
static enum trace_status
write_chain(struct request *req, struct buf *b,
    const struct store_records *r, const struct epcis_filter *f,
    size_t *written, struct trace_error *err)
{
	struct epcis_item *items;
	struct fold_result fold;
	enum trace_status rc = TRACE_OK;

	memset(&fold, 0, sizeof(fold));
	/* An export leaves nothing out: a record the store could not read
	 * fails it. */
	if (r->unreadable > 0)
		return trace_error_set(err, TRACE_ESTORE, "store_corrupt", NULL,
		    "a stored event does not parse");
	if (r->count == 0 || !f->object_events)
		return TRACE_OK;
	if ((items = calloc(r->count, sizeof(*items))) == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	for (size_t i = 0; i < r->count; i++) {
		struct epcis_item *it = &items[i];

		it->rec = &r->items[i];
		if ((rc = statement_read_event(it->rec, &it->env, &it->ev,
		    err)) != TRACE_OK)
			goto out;
		it->ok = true;
	}
	if ((rc = fold_items(req, items, r->count, &fold, err)) != TRACE_OK)
		goto out;
	for (size_t i = 0; i < r->count; i++) {
		const struct epcis_item *it = &items[i], *target = it,
		    *declaration = NULL;
		const struct fold_statement_state *s = &fold.statements[i];
		const char *result = event_data_string(&it->ev, "result");

		if (s->pending && (s->ignored || (it->ev.type ==
		    EVENT_INSPECTION_COMPLETED && result != NULL &&
		    strcmp(result, "pass") == 0)))
			continue;
		if (it->ev.type == EVENT_CORRECTION) {
			/* Only a correction in force declares an error; one
			 * of a correction has no EPCIS form. */
			if (s->ignored || s->withdrawn_by != FOLD_NONE ||
			    s->target == FOLD_NONE ||
			    items[s->target].ev.type == EVENT_CORRECTION)
				continue;
			target = &items[s->target];
			declaration = it;
		}
		if (!passes(f, target))
			continue;
		if ((*written)++ > 0)
			buf_puts(b, ",");
		write_object_event(b, target, declaration);
	}
out:
	fold_result_clear(&fold);
	for (size_t i = 0; i < r->count; i++) {
		if (!items[i].ok)
			continue;
		event_free(&items[i].ev);
		dsse_envelope_clear(&items[i].env);
	}
	free(items);
	return rc;
}

void
epcis_handle_events(struct request *req)
{
	static const char *const allowed[] = { "EQ_bizStep", "EQ_disposition",
		"GE_eventTime", "LT_eventTime", "MATCH_epcClass", "eventType",
		NULL };
	struct query_fields params;
	struct epcis_filter filter;
	struct trace_error err;
	const struct query_field *match;
	char (*chains)[CHAIN_ID_MAX + 1] = NULL;
	const char *names[EPCIS_CLASSES_MAX];
	struct store_records records[EPCIS_CLASSES_MAX];
	size_t count = 0, written = 0;
	char now[21];
	struct buf out;

	memset(records, 0, sizeof(records));
	memset(&params, 0, sizeof(params));
	buf_init(&out, 0);
	if (parse_query(req->info->query_string, allowed,
	    PARSE_UNKNOWN_REFUSED, &params, &err) != TRACE_OK ||
	    parse_filter(&params, &filter, &err) != TRACE_OK)
		goto fail;
	match = parse_query_get(&params, "MATCH_epcClass");
	if (match == NULL || match->value == NULL) {
		trace_error_set(&err, TRACE_EMALFORMED, "missing_parameter",
		    "MATCH_epcClass", "MATCH_epcClass is required: the GS1 "
		    "Digital Link class URIs of the lots to export");
		goto fail;
	}
	if ((chains = calloc(EPCIS_CLASSES_MAX, sizeof(*chains))) == NULL) {
		trace_error_set(&err, TRACE_ENOMEM, NULL, NULL, "out of memory");
		goto fail;
	}
	if (parse_classes(match->value, chains, &count, &err) != TRACE_OK)
		goto fail;
	for (size_t i = 0; i < count; i++)
		names[i] = chains[i];
	if (store_chains(req->worker->store, names, count, records, &err) !=
	    TRACE_OK)
		goto fail;
	time_format_utc(time_now(), now);
	buf_printf(&out, "{\"@context\":[\"%s\",{\"trace\":\"%s\"}],"
	    "\"type\":\"EPCISQueryDocument\",\"schemaVersion\":\"2.0\","
	    "\"creationDate\":\"%s\",\"epcisBody\":{\"queryResults\":{"
	    "\"queryName\":\"SimpleEventQuery\",\"resultsBody\":{"
	    "\"eventList\":[", EPCIS_CONTEXT, EPCIS_VOCAB, now);
	for (size_t i = 0; i < count; i++)
		if (write_chain(req, &out, &records[i], &filter, &written,
		    &err) != TRACE_OK)
			goto fail;
	buf_puts(&out, "]}}}}");
	if (out.failed) {
		trace_error_set(&err, TRACE_ENOMEM, NULL, NULL,
		    "the export is too large");
		goto fail;
	}
	http_send(req, 200, "application/ld+json", out.data, out.len,
	    "Cache-Control: no-store\r\n");
	goto out;
fail:
	http_send_error(req, &err);
out:
	for (size_t i = 0; i < count; i++)
		store_records_clear(&records[i]);
	free(chains);
	parse_query_clear(&params);
	buf_free(&out);
}
