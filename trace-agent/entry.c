/*
 * entry.c - the offline queue's entry file: what one queued event holds
 * (the draft, the signing key's path and id, the signed envelope once
 * there is one, the ids it superseded) and its JSON form on disk.
 *
 * The format is described at the top of queue.c, which owns the folder
 * the entries live in.  Parsing is strict: an entry is written only by
 * the agent, so anything unexpected means the file was damaged or edited,
 * and send moves it to rejected/ rather than guess.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "libtrace/encoding.h"


static const struct json_limits entry_limits = {
	.max_size = QUEUE_ENTRY_MAX,
	.max_depth = 32,
	.max_string = 64 * 1024,
	.max_values = 100000,
};

void
queue_entry_init(struct queue_entry *e, const struct draft *d,
    const char *key_path, const char *keyid, const char *source)
{
	memset(e, 0, sizeof(*e));
	time_format_utc(time_now(), e->created);
	snprintf(e->key_path, sizeof(e->key_path), "%s", key_path);
	snprintf(e->keyid, sizeof(e->keyid), "%s", keyid);
	snprintf(e->source, sizeof(e->source), "%s", source ? source : "");
	/* The entry takes over what the draft owned. */
	e->draft = *d;
}

void
queue_entry_clear(struct queue_entry *e)
{
	if (e == NULL)
		return;
	draft_clear(&e->draft);
	dsse_envelope_clear(&e->envelope);
	memset(e, 0, sizeof(*e));
}

void
queue_entry_set_envelope(struct queue_entry *e, struct dsse_envelope *env)
{
	queue_entry_drop_envelope(e);
	e->envelope = *env;
	memset(env, 0, sizeof(*env));
	hex_encode(e->envelope.id, SHA256_LEN, e->id);
	e->has_envelope = true;
}

void
queue_entry_drop_envelope(struct queue_entry *e)
{
	if (!e->has_envelope)
		return;
	if (e->superseded_count == QUEUE_SUPERSEDED_MAX) {
		memmove(e->superseded[0], e->superseded[1],
		    (QUEUE_SUPERSEDED_MAX - 1) * sizeof(e->superseded[0]));
		e->superseded_count--;
	}
	memcpy(e->superseded[e->superseded_count++], e->id, sizeof(e->id));
	dsse_envelope_clear(&e->envelope);
	memset(e->id, 0, sizeof(e->id));
	e->has_envelope = false;
}

enum trace_status
queue_entry_text(const struct queue_entry *e, char **out, size_t *len,
    struct trace_error *err)
{
	struct json_writer *w = json_writer_new(true);
	const char *text;
	size_t n;
	enum trace_status rc;

	*out = NULL;
	if (w == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	json_writer_object_open(w);
	json_writer_key(w, "v");
	json_writer_int(w, 1);
	json_writer_key(w, "created");
	json_writer_cstring(w, e->created);
	json_writer_key(w, "key");
	json_writer_cstring(w, e->key_path);
	json_writer_key(w, "keyid");
	json_writer_cstring(w, e->keyid);
	if (e->source[0] != '\0') {
		json_writer_key(w, "source");
		json_writer_cstring(w, e->source);
	}
	json_writer_key(w, "draft");
	draft_write_json(&e->draft, w);
	if (e->has_envelope) {
		json_writer_key(w, "envelope");
		dsse_envelope_write(&e->envelope, w);
		json_writer_key(w, "id");
		json_writer_cstring(w, e->id);
	}
	if (e->superseded_count > 0) {
		json_writer_key(w, "superseded");
		json_writer_array_open(w);
		for (size_t i = 0; i < e->superseded_count; i++)
			json_writer_cstring(w, e->superseded[i]);
		json_writer_array_close(w);
	}
	json_writer_object_close(w);
	if ((rc = json_writer_result(w, &text, &n, err)) == TRACE_OK) {
		if ((*out = malloc(n + 1)) == NULL) {
			rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
		} else {
			memcpy(*out, text, n);
			(*out)[n] = '\n';
			*len = n + 1;
		}
	}
	json_writer_free(w);
	return rc;
}

/* Copy a string member into a fixed buffer. */
static enum trace_status
get_text(const struct json_value *root, const char *key, bool required,
    char *out, size_t size, struct trace_error *err)
{
	const char *s = NULL;
	size_t len = 0;
	enum trace_status rc = json_get_string(root, key, required, &s, &len,
	    err);

	if (rc != TRACE_OK || s == NULL)
		return rc;
	if (len >= size)
		return trace_error_set(err, TRACE_EMALFORMED, "too_long", key,
		    "\"%s\" is too long", key);
	memcpy(out, s, len + 1);
	return TRACE_OK;
}

static enum trace_status
entry_from_json(const struct json_value *root, struct queue_entry *e,
    struct trace_error *err)
{
	static const char *const fields[] = { "v", "created", "key", "keyid",
		"source", "draft", "envelope", "id", "superseded", NULL };
	const struct json_value *envelope, *superseded = NULL;
	char id[QUEUE_ID_HEX + 1] = "";
	long long v = 0;
	enum trace_status rc;

	if (root->type != JSON_OBJECT)
		return trace_error_set(err, TRACE_EMALFORMED, "wrong_type", NULL,
		    "a queue entry is a JSON object");
	if ((rc = json_object_only(root, fields, err)) != TRACE_OK ||
	    (rc = json_get_int(root, "v", true, &v, err)) != TRACE_OK ||
	    (rc = get_text(root, "created", true, e->created,
	    sizeof(e->created), err)) != TRACE_OK ||
	    (rc = get_text(root, "key", true, e->key_path, sizeof(e->key_path),
	    err)) != TRACE_OK ||
	    (rc = get_text(root, "keyid", true, e->keyid, sizeof(e->keyid),
	    err)) != TRACE_OK ||
	    (rc = get_text(root, "source", false, e->source, sizeof(e->source),
	    err)) != TRACE_OK ||
	    (rc = get_text(root, "id", false, id, sizeof(id), err)) !=
	    TRACE_OK ||
	    (rc = json_get_array(root, "superseded", false, &superseded, err)) !=
	    TRACE_OK)
		return rc;
	if (v != 1)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_version", "v",
		    "unknown queue entry version %lld", v);
	if ((rc = draft_from_json(json_object_get(root, "draft"), &e->draft,
	    err)) != TRACE_OK)
		return rc;
	if ((envelope = json_object_get(root, "envelope")) != NULL) {
		struct dsse_envelope env;

		if ((rc = dsse_envelope_from_json(envelope, &env, err)) !=
		    TRACE_OK) {
			trace_error_prefix_field(err, "envelope");
			return rc;
		}
		queue_entry_set_envelope(e, &env);
		/* The recorded id must be the envelope's own. */
		if (strcmp(id, e->id) != 0)
			return trace_error_set(err, TRACE_EMALFORMED, "bad_id",
			    "id", "the entry's id is not its envelope's");
	}
	if (superseded != NULL) {
		for (size_t i = 0; i < superseded->u.array.count &&
		    e->superseded_count < QUEUE_SUPERSEDED_MAX; i++) {
			const struct json_value *s = superseded->u.array.items[i];

			if (s->type != JSON_STRING ||
			    s->u.string.len != QUEUE_ID_HEX)
				return trace_error_set(err, TRACE_EMALFORMED,
				    "bad_id", "superseded", "superseded ids "
				    "are 64 hex digits");
			memcpy(e->superseded[e->superseded_count++],
			    s->u.string.ptr, QUEUE_ID_HEX + 1);
		}
	}
	return TRACE_OK;
}

enum trace_status
queue_entry_parse(const char *text, size_t len, struct queue_entry *e,
    struct trace_error *err)
{
	struct json_doc *doc = NULL;
	enum trace_status rc;

	if ((rc = json_parse(text, len, &entry_limits, &doc, err)) == TRACE_OK)
		rc = entry_from_json(json_doc_root(doc), e, err);
	json_doc_free(doc);
	return rc;
}
