/*
 * rebase.c - what send does before it rebuilds a queued statement on a
 * chain that moved (HTTP 409): decide whether it may, and keep the
 * references among the queue's own statements right after it did.
 *
 * The rule (docs/PROTOCOL.md, "trace-agent send"): a rebase keeps type,
 * time, where and data and signs a new seq and prev.  That is harmless when
 * the statements that moved the chain are routine (a departure, a pass),
 * but not when one of them changes what the queued statement means: a
 * recall issued or closed, a correction, an inspection that failed.  A
 * person who signed "released" before a recall should decide whether to
 * append it after the recall.  So send holds the chain and names those
 * statements, unless the user says they saw them (send --seen ID).
 *
 * References: a queued correction may name ("corrects") and a queued
 * recall.closed may name ("recall") another queued statement by its
 * provisional id, the id of its current envelope.  A rebase gives that
 * statement a new id and keeps the old one in the entry's "superseded"
 * list (queue.c).  rebase_repair_references() rewrites every queued
 * reference to a superseded id to the entry's current id.  send calls it
 * right after a rebase is stored, before the new envelope is posted, and
 * once at the start of every flush, so a kill between the two writes is
 * repaired before anything else is sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

const char *
rebase_reference_field(enum event_type type)
{
	switch (type) {
	case EVENT_CORRECTION: return "corrects";
	case EVENT_RECALL_CLOSED: return "recall";
	default: return NULL;
	}
}

static bool
seen_by_user(const struct send_options *opt, const char *id)
{
	for (size_t i = 0; i < opt->seen_count; i++)
		if (strcmp(opt->seen[i], id) == 0)
			return true;
	return false;
}

/*
 * Does this statement change what a statement queued before it meant?
 * Recalls and corrections always; an inspection only when it failed.
 */
static bool
moves_meaning(const char *type, const struct json_value *payload)
{
	const struct json_value *data;
	const char *result = NULL;

	if (strcmp(type, "recall.issued") == 0 ||
	    strcmp(type, "recall.closed") == 0 ||
	    strcmp(type, "correction") == 0)
		return true;
	if (strcmp(type, "inspection.completed") != 0)
		return false;
	data = json_object_get(payload, "data");
	return data != NULL && data->type == JSON_OBJECT &&
	    json_get_string(data, "result", false, &result, NULL, NULL) ==
	    TRACE_OK && result != NULL && strcmp(result, "fail") == 0;
}

void
rebase_check_moved(const struct json_value *chain, long long since,
    const struct send_options *opt, struct rebase_moved *out)
{
	const struct json_value *events = json_object_get(chain, "events");
	size_t used = strnlen(out->text, sizeof(out->text));

	if (events == NULL || events->type != JSON_ARRAY)
		return;
	for (size_t i = 0; i < events->u.array.count; i++) {
		const struct json_value *ev = events->u.array.items[i];
		const struct json_value *payload = json_object_get(ev, "payload");
		const char *id = NULL, *type = NULL, *signer = NULL;
		long long seq = -1;
		int n;

		if (json_get_int(ev, "seq", false, &seq, NULL) != TRACE_OK ||
		    seq < since || payload == NULL ||
		    payload->type != JSON_OBJECT ||
		    json_get_string(ev, "id", false, &id, NULL, NULL) !=
		    TRACE_OK || id == NULL ||
		    json_get_string(payload, "type", false, &type, NULL, NULL) !=
		    TRACE_OK || type == NULL)
			continue;
		if (!moves_meaning(type, payload) || seen_by_user(opt, id))
			continue;
		json_get_string(payload, "signer", false, &signer, NULL, NULL);
		out->count++;
		n = snprintf(out->text + used, sizeof(out->text) - used,
		    "  seq %lld %s%s %s signed by key %s\n", seq, type,
		    strcmp(type, "inspection.completed") == 0 ? " (fail)" : "",
		    id, signer != NULL ? signer : "?");
		if (n > 0 && (size_t)n < sizeof(out->text) - used)
			used += (size_t)n;
		if (out->id_count < REBASE_MOVED_IDS)
			snprintf(out->ids[out->id_count++], QUEUE_ID_HEX + 1,
			    "%s", id);
	}
}

/* The draft's data with its reference field set to id, as a new document. */
static enum trace_status
data_with_reference(const struct json_value *data, const char *field,
    const char *id, struct json_doc **out, struct trace_error *err)
{
	struct json_writer *w = json_writer_new(false);
	const char *text;
	size_t len;
	enum trace_status rc;

	if (w == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	json_writer_object_open(w);
	for (size_t i = 0; i < data->u.object.count; i++) {
		const struct json_member *m = &data->u.object.members[i];

		json_writer_key(w, m->key);
		if (strcmp(m->key, field) == 0)
			json_writer_cstring(w, id);
		else
			json_writer_value(w, m->value);
	}
	json_writer_object_close(w);
	if ((rc = json_writer_result(w, &text, &len, err)) == TRACE_OK)
		rc = json_parse(text, len, NULL, out, err);
	json_writer_free(w);
	return rc;
}

/* Old id -> current id, from the entries that were rebased. */
struct id_map {
	char (*from)[QUEUE_ID_HEX + 1];
	char (*to)[QUEUE_ID_HEX + 1];
	size_t count;
};

static void
id_map_clear(struct id_map *m)
{
	free(m->from);
	free(m->to);
	memset(m, 0, sizeof(*m));
}

static bool
id_map_add_entry(struct id_map *m, const struct queue_entry *e)
{
	size_t n = m->count + e->superseded_count;
	char (*from)[QUEUE_ID_HEX + 1], (*to)[QUEUE_ID_HEX + 1];

	if (!e->has_envelope || e->superseded_count == 0)
		return true;
	if ((from = realloc(m->from, n * sizeof(*from))) == NULL)
		return false;
	m->from = from;
	if ((to = realloc(m->to, n * sizeof(*to))) == NULL)
		return false;
	m->to = to;
	for (size_t i = 0; i < e->superseded_count; i++) {
		memcpy(m->from[m->count], e->superseded[i], QUEUE_ID_HEX + 1);
		memcpy(m->to[m->count], e->id, QUEUE_ID_HEX + 1);
		m->count++;
	}
	return true;
}

static const char *
id_map_find(const struct id_map *m, const char *id, size_t len)
{
	if (len != QUEUE_ID_HEX)
		return NULL;
	for (size_t i = 0; i < m->count; i++)
		if (memcmp(m->from[i], id, QUEUE_ID_HEX) == 0)
			return m->to[i];
	return NULL;
}

/*
 * Rewrite e's reference if it names a superseded id; *changed says so.
 * A rewritten entry that was signed loses its envelope (its id goes to
 * "superseded"): that statement names a target that was refused with 409
 * and so can never be in the chain, thus it can never be accepted, and
 * the draft is signed again when its turn comes.
 */
static enum trace_status
entry_repair(struct queue_entry *e, const struct id_map *m, bool *changed,
    struct trace_error *err)
{
	const char *field = rebase_reference_field(e->draft.type), *to, *s;
	const struct json_value *data;
	struct json_doc *doc = NULL;
	size_t len = 0;
	enum trace_status rc;

	*changed = false;
	if (field == NULL || e->draft.data == NULL)
		return TRACE_OK;
	data = json_doc_root(e->draft.data);
	if (data->type != JSON_OBJECT ||
	    json_get_string(data, field, false, &s, &len, NULL) != TRACE_OK ||
	    s == NULL || (to = id_map_find(m, s, len)) == NULL)
		return TRACE_OK;
	if ((rc = data_with_reference(data, field, to, &doc, err)) != TRACE_OK)
		return rc;
	json_doc_free(e->draft.data);
	e->draft.data = doc;
	queue_entry_drop_envelope(e);
	*changed = true;
	return TRACE_OK;
}

enum trace_status
rebase_repair_references(struct queue *q, const char *only_chain,
    size_t *rewritten, struct trace_error *err)
{
	struct id_map map = { 0 };
	char **names = NULL, chain[CHAIN_ID_MAX + 1];
	size_t count = 0;
	enum trace_status rc;

	*rewritten = 0;
	if ((rc = queue_list(q, &names, &count, err)) != TRACE_OK)
		return rc;
	/* Unreadable entries are send's to report; here they are skipped. */
	for (size_t i = 0; i < count; i++) {
		struct queue_entry e;

		if (queue_entry_load(q, names[i], &e, NULL) != TRACE_OK)
			continue;
		draft_chain(&e.draft, chain, sizeof(chain));
		if ((only_chain == NULL || strcmp(chain, only_chain) == 0) &&
		    !id_map_add_entry(&map, &e)) {
			queue_entry_clear(&e);
			rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
			goto out;
		}
		queue_entry_clear(&e);
	}
	for (size_t i = 0; i < count && map.count > 0; i++) {
		struct queue_entry e;
		bool changed = false;

		if (queue_entry_load(q, names[i], &e, NULL) != TRACE_OK)
			continue;
		draft_chain(&e.draft, chain, sizeof(chain));
		if (only_chain == NULL || strcmp(chain, only_chain) == 0)
			rc = entry_repair(&e, &map, &changed, err);
		if (rc == TRACE_OK && changed &&
		    (rc = queue_replace(q, &e, err)) == TRACE_OK) {
			(*rewritten)++;
			agent_crash_point("reference-rewritten");
		}
		queue_entry_clear(&e);
		if (rc != TRACE_OK)
			goto out;
	}
out:
	id_map_clear(&map);
	queue_names_free(names, count);
	return rc;
}
