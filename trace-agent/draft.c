/*
 * draft.c - event drafts: what record's options and import's CSV rows are
 * turned into before a chain head is known, the data object built from
 * name=value pairs, validation against a placeholder head, and the draft's
 * JSON form inside a queue entry.
 *
 * A draft deliberately has no seq, prev or signer: those are decided when
 * the event is placed on the chain, possibly much later and more than once
 * (send rebuilds on a newer head), while everything the signer said stays
 * exactly as drafted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "libtrace/codes.h"

/* ---- the data object ------------------------------------------------------ */

struct data_node {
	char *key;
	bool is_object;
	const struct json_value *value;   /* leaf given as JSON, or NULL */
	char *string;                     /* leaf given as text */
	size_t string_len;
	struct data_node *children;
	size_t count, cap;
};

struct draft_data {
	struct data_node root;
	struct json_doc **docs;           /* own the leaves' values */
	size_t doc_count;
};

struct draft_data *
draft_data_new(void)
{
	struct draft_data *d = calloc(1, sizeof(*d));

	if (d != NULL)
		d->root.is_object = true;
	return d;
}

static void
node_free(struct data_node *n)
{
	for (size_t i = 0; i < n->count; i++)
		node_free(&n->children[i]);
	free(n->children);
	free(n->key);
	free(n->string);
}

void
draft_data_free(struct draft_data *d)
{
	if (d == NULL)
		return;
	node_free(&d->root);
	for (size_t i = 0; i < d->doc_count; i++)
		json_doc_free(d->docs[i]);
	free(d->docs);
	free(d);
}

static bool
keep_doc(struct draft_data *d, struct json_doc *doc)
{
	struct json_doc **grown = realloc(d->docs,
	    (d->doc_count + 1) * sizeof(*grown));

	if (grown == NULL)
		return false;
	d->docs = grown;
	d->docs[d->doc_count++] = doc;
	return true;
}

static struct data_node *
node_find(struct data_node *parent, const char *key, size_t len)
{
	for (size_t i = 0; i < parent->count; i++)
		if (strlen(parent->children[i].key) == len &&
		    memcmp(parent->children[i].key, key, len) == 0)
			return &parent->children[i];
	return NULL;
}

static struct data_node *
node_add(struct data_node *parent, const char *key, size_t len)
{
	struct data_node *n;

	if (parent->count == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct data_node *grown = realloc(parent->children,
		    cap * sizeof(*grown));

		if (grown == NULL)
			return NULL;
		parent->children = grown;
		parent->cap = cap;
	}
	n = &parent->children[parent->count];
	memset(n, 0, sizeof(*n));
	if ((n->key = strndup(key, len)) == NULL)
		return NULL;
	parent->count++;
	return n;
}

/*
 * Walk name's dotted segments, creating objects on the way, and return a
 * new leaf for the last one.  Errors name the field as "data.<name>".
 */
static enum trace_status
node_leaf(struct draft_data *d, const char *name, size_t name_len,
    struct data_node **leaf, struct trace_error *err)
{
	struct data_node *at = &d->root, *next;
	char field[TRACE_ERROR_FIELD_MAX];
	size_t start = 0;

	snprintf(field, sizeof(field), "data.%.*s", (int)name_len, name);
	if (name_len == 0 || utf8_check((const unsigned char *)name,
	    name_len) != name_len)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_field",
		    field, "a data field needs a UTF-8 name");
	for (;;) {
		size_t end = start;
		bool last;

		while (end < name_len && name[end] != '.')
			end++;
		last = end == name_len;
		if (end == start)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_field", field, "empty part in the field name");
		next = node_find(at, name + start, end - start);
		if (last) {
			if (next != NULL)
				return trace_error_set(err, TRACE_EMALFORMED,
				    "duplicate_field", field,
				    "%s is given twice", field);
			if ((*leaf = node_add(at, name + start,
			    end - start)) == NULL)
				return trace_error_set(err, TRACE_ENOMEM,
				    NULL, NULL, "out of memory");
			return TRACE_OK;
		}
		if (next == NULL) {
			if ((next = node_add(at, name + start,
			    end - start)) == NULL)
				return trace_error_set(err, TRACE_ENOMEM,
				    NULL, NULL, "out of memory");
			next->is_object = true;
		} else if (!next->is_object) {
			return trace_error_set(err, TRACE_EMALFORMED,
			    "duplicate_field", field, "data.%.*s has a value "
			    "and cannot also hold %s", (int)end, name, field);
		}
		at = next;
		start = end + 1;
	}
}

enum trace_status
draft_data_set(struct draft_data *d, const char *name, size_t name_len,
    const char *value, size_t value_len, struct trace_error *err)
{
	struct data_node *leaf;
	struct json_doc *doc = NULL;
	enum trace_status rc;

	if ((rc = node_leaf(d, name, name_len, &leaf, err)) != TRACE_OK)
		return rc;
	/* JSON only for integers, objects and arrays: "true", "1.5" or a
	 * quoted word are text as the person typed it. */
	if (json_parse(value, value_len, NULL, &doc, NULL) == TRACE_OK) {
		const struct json_value *root = json_doc_root(doc);

		if (root->type == JSON_INT || root->type == JSON_ARRAY ||
		    root->type == JSON_OBJECT) {
			if (!keep_doc(d, doc)) {
				json_doc_free(doc);
				return trace_error_set(err, TRACE_ENOMEM, NULL,
				    NULL, "out of memory");
			}
			leaf->value = root;
			return TRACE_OK;
		}
		json_doc_free(doc);
	}
	if (utf8_check((const unsigned char *)value, value_len) != value_len ||
	    memchr(value, '\0', value_len) != NULL) {
		char field[TRACE_ERROR_FIELD_MAX];

		snprintf(field, sizeof(field), "data.%.*s", (int)name_len, name);
		return trace_error_set(err, TRACE_EMALFORMED, "bad_field",
		    field, "the value is not valid UTF-8 text");
	}
	if ((leaf->string = strndup(value, value_len)) == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	leaf->string_len = value_len;
	return TRACE_OK;
}

enum trace_status
draft_data_merge_text(struct draft_data *d, const char *text, size_t len,
    struct trace_error *err)
{
	struct json_doc *doc = NULL;
	const struct json_value *root;
	enum trace_status rc;

	if ((rc = json_parse(text, len, NULL, &doc, err)) != TRACE_OK)
		return rc;
	if (!keep_doc(d, doc)) {
		json_doc_free(doc);
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	}
	root = json_doc_root(doc);
	if (root->type != JSON_OBJECT)
		return trace_error_set(err, TRACE_EMALFORMED, "wrong_type",
		    "data", "the data must be a JSON object");
	for (size_t i = 0; i < root->u.object.count; i++) {
		const struct json_member *m = &root->u.object.members[i];
		struct data_node *leaf;

		/* Keys from a file are taken whole: a dot in one is data. */
		if (node_find(&d->root, m->key, m->key_len) != NULL)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "duplicate_field", NULL, "data.%s is given twice",
			    m->key);
		if ((leaf = node_add(&d->root, m->key, m->key_len)) == NULL)
			return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
		leaf->value = m->value;
	}
	return TRACE_OK;
}

static void
node_write(const struct data_node *n, struct json_writer *w)
{
	if (n->is_object) {
		json_writer_object_open(w);
		for (size_t i = 0; i < n->count; i++) {
			json_writer_key(w, n->children[i].key);
			node_write(&n->children[i], w);
		}
		json_writer_object_close(w);
	} else if (n->value != NULL) {
		json_writer_value(w, n->value);
	} else {
		json_writer_string(w, n->string, n->string_len);
	}
}

enum trace_status
draft_data_finish(struct draft_data *d, struct json_doc **out,
    struct trace_error *err)
{
	struct json_writer *w;
	const char *text;
	size_t len;
	enum trace_status rc;

	*out = NULL;
	if (d->root.count == 0)
		return TRACE_OK;
	if ((w = json_writer_new(false)) == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	node_write(&d->root, w);
	if ((rc = json_writer_result(w, &text, &len, err)) == TRACE_OK)
		rc = json_parse(text, len, NULL, out, err);
	if (rc != TRACE_OK && err != NULL && err->status == TRACE_ETOOBIG)
		snprintf(err->field, sizeof(err->field), "data");
	json_writer_free(w);
	return rc;
}

/* ---- drafts ----------------------------------------------------------------- */

enum trace_status
draft_set_type(struct draft *d, const char *s, struct trace_error *err)
{
	if (event_type_parse(s, strlen(s), &d->type))
		return TRACE_OK;
	return trace_error_set(err, TRACE_EMALFORMED, "bad_type", "type",
	    "unknown event type \"%s\" (product.registered, "
	    "inspection.sampled, inspection.completed, shipment.departed, "
	    "shipment.arrived, customs.declared, customs.released, "
	    "warehouse.received, warehouse.dispatched, recall.issued, "
	    "recall.closed, correction)", s);
}

enum trace_status
draft_set_gtin(struct draft *d, const char *s, struct trace_error *err)
{
	return gs1_gtin_normalize(s, strlen(s), d->gtin, "gtin", err);
}

enum trace_status
draft_set_lot(struct draft *d, const char *s, struct trace_error *err)
{
	size_t len = strlen(s);
	enum trace_status rc = gs1_attr_check(s, len, "lot", err);

	if (rc == TRACE_OK)
		memcpy(d->lot, s, len + 1);
	return rc;
}

enum trace_status
draft_set_time(struct draft *d, const char *s, struct trace_error *err)
{
	long long t;
	int offset;
	size_t len;

	if (s == NULL || s[0] == '\0') {
		time_format_utc(time_now(), d->time);
		return TRACE_OK;
	}
	len = strlen(s);
	if (len > TIME_TEXT_MAX || !time_parse_rfc3339(s, len, &t, &offset))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_time", "time",
		    "\"%s\" is not an RFC 3339 time with offset "
		    "(e.g. 2026-11-20T08:30:00+09:00)", s);
	memcpy(d->time, s, len + 1);
	return TRACE_OK;
}

enum trace_status
draft_set_country(struct draft *d, const char *s, struct trace_error *err)
{
	if (strlen(s) != 2 || !country_valid(s, 2))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_field",
		    "country", "\"%s\" is not an ISO 3166-1 alpha-2 country "
		    "code (e.g. KR)", s);
	memcpy(d->country, s, 3);
	return TRACE_OK;
}

enum trace_status
draft_set_place(struct draft *d, const char *s, struct trace_error *err)
{
	size_t len = strlen(s);

	if (!text_valid(s, len, EVENT_TEXT_MAX, false))
		return trace_error_set(err, TRACE_EMALFORMED, "bad_field",
		    "place", "the place must be 1-%d bytes of text on one line",
		    EVENT_TEXT_MAX);
	free(d->place);
	if ((d->place = strdup(s)) == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	return TRACE_OK;
}

void
draft_clear(struct draft *d)
{
	if (d == NULL)
		return;
	free(d->place);
	json_doc_free(d->data);
	memset(d, 0, sizeof(*d));
}

void
draft_chain(const struct draft *d, char *out, size_t size)
{
	gs1_chain_id(d->gtin, d->lot, out, size);
}

enum trace_status
draft_payload(const struct draft *d, const char *signer, long long seq,
    const unsigned char *prev, char **out, size_t *len,
    struct trace_error *err)
{
	struct event_draft ev = {
		.type = d->type,
		.gtin14 = d->gtin,
		.lot = d->lot,
		.seq = seq,
		.prev = prev,
		.time = d->time,
		.signer = signer,
		.country = d->country[0] != '\0' ? d->country : NULL,
		.place = d->place,
		.data = d->data != NULL ? json_doc_root(d->data) : NULL,
	};

	return event_build(&ev, out, len, err);
}

enum trace_status
draft_check(const struct draft *d, const char *signer,
    struct trace_error *err)
{
	static const unsigned char placeholder[SHA256_LEN];
	bool first = d->type == EVENT_PRODUCT_REGISTERED;
	char *payload = NULL;
	size_t len;
	enum trace_status rc;

	rc = draft_payload(d, signer, first ? 0 : 1, first ? NULL : placeholder,
	    &payload, &len, err);
	free(payload);
	return rc;
}

void
draft_write_json(const struct draft *d, struct json_writer *w)
{
	json_writer_object_open(w);
	json_writer_key(w, "type");
	json_writer_cstring(w, event_type_name(d->type));
	json_writer_key(w, "gtin");
	json_writer_cstring(w, d->gtin);
	json_writer_key(w, "lot");
	json_writer_cstring(w, d->lot);
	json_writer_key(w, "time");
	json_writer_cstring(w, d->time);
	if (d->country[0] != '\0') {
		json_writer_key(w, "country");
		json_writer_cstring(w, d->country);
	}
	if (d->place != NULL) {
		json_writer_key(w, "place");
		json_writer_cstring(w, d->place);
	}
	if (d->data != NULL) {
		json_writer_key(w, "data");
		json_writer_value(w, json_doc_root(d->data));
	}
	json_writer_object_close(w);
}

/* Copy a parsed value into a document of its own. */
static enum trace_status
copy_value(const struct json_value *v, struct json_doc **out,
    struct trace_error *err)
{
	struct json_writer *w = json_writer_new(false);
	const char *text;
	size_t len;
	enum trace_status rc;

	if (w == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	json_writer_value(w, v);
	if ((rc = json_writer_result(w, &text, &len, err)) == TRACE_OK)
		rc = json_parse(text, len, NULL, out, err);
	json_writer_free(w);
	return rc;
}

enum trace_status
draft_from_json(const struct json_value *v, struct draft *d,
    struct trace_error *err)
{
	static const char *const fields[] = { "type", "gtin", "lot", "time",
		"country", "place", "data", NULL };
	const char *type = NULL, *gtin = NULL, *lot = NULL, *time = NULL,
	    *country = NULL, *place = NULL;
	const struct json_value *data = NULL;
	enum trace_status rc;

	memset(d, 0, sizeof(*d));
	if (v == NULL || v->type != JSON_OBJECT)
		return trace_error_set(err, TRACE_EMALFORMED, "wrong_type",
		    "draft", "the draft must be an object");
	if ((rc = json_object_only(v, fields, err)) != TRACE_OK ||
	    (rc = json_get_string(v, "type", true, &type, NULL, err)) != TRACE_OK ||
	    (rc = json_get_string(v, "gtin", true, &gtin, NULL, err)) != TRACE_OK ||
	    (rc = json_get_string(v, "lot", true, &lot, NULL, err)) != TRACE_OK ||
	    (rc = json_get_string(v, "time", true, &time, NULL, err)) != TRACE_OK ||
	    (rc = json_get_string(v, "country", false, &country, NULL, err)) !=
	    TRACE_OK ||
	    (rc = json_get_string(v, "place", false, &place, NULL, err)) !=
	    TRACE_OK ||
	    (rc = json_get_object(v, "data", false, &data, err)) != TRACE_OK)
		goto out;
	if ((rc = draft_set_type(d, type, err)) != TRACE_OK ||
	    (rc = draft_set_gtin(d, gtin, err)) != TRACE_OK ||
	    (rc = draft_set_lot(d, lot, err)) != TRACE_OK ||
	    (rc = draft_set_time(d, time, err)) != TRACE_OK ||
	    (country != NULL &&
	    (rc = draft_set_country(d, country, err)) != TRACE_OK) ||
	    (place != NULL && (rc = draft_set_place(d, place, err)) != TRACE_OK))
		goto out;
	if (data != NULL)
		rc = copy_value(data, &d->data, err);
out:
	if (rc != TRACE_OK) {
		trace_error_prefix_field(err, "draft");
		draft_clear(d);
	}
	return rc;
}
