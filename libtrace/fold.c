/*
 * fold.c - the one fold of a chain's statements (fold.h says what it
 * computes and which rules it applies; SPEC section 8).
 *
 * Three passes over the statements, each linear:
 *   1. forward, in log order: targets are looked up (a hash table of the
 *      ids), each recall.closed and correction is judged against what
 *      came before it, and recalls open and close;
 *   2. backward: which corrections are in force.  A correction can only
 *      name an earlier statement, so walking from the newest, whether a
 *      statement is withdrawn is known before it is used;
 *   3. the summaries: inspections, customs, registration, sampling.
 * Corrections never touch recalls (a recall's only way out is its
 * recall.closed), so pass 1 needs nothing from pass 2.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "fold.h"
#include "json.h"

/* Open addressing from the first 8 bytes of an id to its index. */
struct id_table {
	size_t *slots;                  /* index + 1, 0 = empty */
	size_t mask;
	const struct fold_statement *st;
};

static uint64_t
id_hash(const char *id)
{
	unsigned char raw[8];

	/* Ids are SHA-256 output: their first bytes are already uniform. */
	if (strnlen(id, 16) < 16 || !hex_decode(id, 16, raw, sizeof(raw),
	    false))
		return 0;
	return ((uint64_t)raw[0] << 56 | (uint64_t)raw[1] << 48 |
	    (uint64_t)raw[2] << 40 | (uint64_t)raw[3] << 32 |
	    (uint64_t)raw[4] << 24 | (uint64_t)raw[5] << 16 |
	    (uint64_t)raw[6] << 8 | raw[7]);
}

static bool
id_table_init(struct id_table *t, const struct fold_statement *st,
    size_t count)
{
	size_t cap = 16;

	while (cap < 2 * count)
		cap *= 2;
	if ((t->slots = calloc(cap, sizeof(*t->slots))) == NULL)
		return false;
	t->mask = cap - 1;
	t->st = st;
	/* The first of equal ids wins (a chain holds none: prev links them). */
	for (size_t i = 0; i < count; i++) {
		size_t h = (size_t)id_hash(st[i].id) & t->mask;
		bool seen = false;

		while (t->slots[h] != 0 && !seen) {
			seen = strcmp(st[t->slots[h] - 1].id, st[i].id) == 0;
			h = (h + 1) & t->mask;
		}
		if (!seen)
			t->slots[h] = i + 1;
	}
	return true;
}

/* The index of the statement with id, or FOLD_NONE. */
static size_t
id_table_find(const struct id_table *t, const char *id)
{
	size_t h;

	if (id == NULL || strlen(id) != 2 * SHA256_LEN)
		return FOLD_NONE;
	for (h = (size_t)id_hash(id) & t->mask; t->slots[h] != 0;
	    h = (h + 1) & t->mask)
		if (strcmp(t->st[t->slots[h] - 1].id, id) == 0)
			return t->slots[h] - 1;
	return FOLD_NONE;
}

void
fold_result_clear(struct fold_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; r->recalls != NULL && i < r->recall_count; i++)
		free(r->recalls[i].ranges);
	for (size_t i = 0; r->issued != NULL && i < r->issued_count; i++)
		free(r->issued[i].ranges);
	free(r->issued);
	free(r->recalls);
	free(r->statements);
	free(r->inspections);
	memset(r, 0, sizeof(*r));
}

static void
copy_text(char *out, size_t size, const char *s)
{
	snprintf(out, size, "%s", s != NULL ? s : "");
}

/* Copies of event.c's 1..EVENT_RANGES_MAX ranges of two serials into a
 * calloc'd array; a range that is not one covers nothing. */
static bool
copy_ranges(const struct json_value *ranges, struct fold_range **out,
    size_t *count)
{
	*count = 0;
	if (ranges->type != JSON_ARRAY)
		return (*out = calloc(1, sizeof(**out))) != NULL;
	if ((*out = calloc(ranges->u.array.count + 1, sizeof(**out))) == NULL)
		return false;
	for (size_t k = 0; k < ranges->u.array.count; k++) {
		const struct json_value *p = ranges->u.array.items[k];
		struct fold_range *o = &(*out)[*count];

		if (p->type != JSON_ARRAY || p->u.array.count != 2 ||
		    p->u.array.items[0]->type != JSON_STRING ||
		    p->u.array.items[1]->type != JSON_STRING)
			continue;
		copy_text(o->from, sizeof(o->from),
		    p->u.array.items[0]->u.string.ptr);
		copy_text(o->to, sizeof(o->to),
		    p->u.array.items[1]->u.string.ptr);
		(*count)++;
	}
	return true;
}

/* A recall.issued as a recall: open, with copies of its facts. */
static bool
recall_add(struct fold_result *r, const struct fold_statement *s, size_t i)
{
	struct fold_recall *rc = &r->recalls[r->recall_count];
	const struct json_value *ranges = json_object_get(s->ev->data,
	    "serials");
	long long severity = 3;

	memset(rc, 0, sizeof(*rc));
	rc->statement = i;
	copy_text(rc->id, sizeof(rc->id), s->id);
	json_get_int(s->ev->data, "severity", false, &severity, NULL);
	rc->severity = severity;
	rc->issuer_role = s->signer_role;
	copy_text(rc->issuer_org, sizeof(rc->issuer_org), s->signer_org);
	rc->open = true;
	rc->closed_by = FOLD_NONE;
	if (ranges != NULL && !copy_ranges(ranges, &rc->ranges,
	    &rc->range_count))
		return false;
	r->recall_count++;
	return true;
}

/* SPEC 12: a serials.issued as a set of serials. */
static bool
issued_add(struct fold_result *r, const struct fold_statement *s, size_t i)
{
	struct fold_issued *is = &r->issued[r->issued_count];
	const struct json_value *ranges = json_object_get(s->ev->data,
	    "ranges");
	const char *root = event_data_string(s->ev, "root");
	long long count = 0;

	memset(is, 0, sizeof(*is));
	is->statement = i;
	if (ranges != NULL) {
		if (!copy_ranges(ranges, &is->ranges, &is->range_count))
			return false;
	} else if (root != NULL && hex_decode(root, strlen(root), is->root,
	    sizeof(is->root), true)) {
		json_get_int(s->ev->data, "count", false, &count, NULL);
		is->has_root = true;
		is->count = count;
	}
	r->issued_count++;
	return true;
}

/* Do two ranges share a serial?  (Ranges hold serials of their ends'
 * length, so ranges of different lengths share none.) */
static bool
ranges_meet(const struct fold_range *a, const struct fold_range *b)
{
	const char *lo, *hi;

	if (strlen(a->from) != strlen(b->from))
		return false;
	lo = strcmp(a->from, b->from) > 0 ? a->from : b->from;
	hi = strcmp(a->to, b->to) < 0 ? a->to : b->to;
	return strcmp(lo, hi) <= 0;
}

/*
 * SPEC 8 "Targets" and 12: with issued serials declared before it, each
 * range of a recall holds at least one of them.  Decidable from the chain
 * alone only while every set declared so far is a range list (a root's
 * leaves are not in the chain), so a root set makes any range acceptable.
 * Withdrawn sets count too (pass 2 has not run): that can only accept.
 */
static void
judge_recall_serials(struct fold_result *r, size_t i)
{
	const struct fold_recall *rc = &r->recalls[r->recall_count - 1];

	if (rc->ranges == NULL || r->issued_count == 0)
		return;
	for (size_t k = 0; k < r->issued_count; k++)
		if (r->issued[k].has_root || r->issued[k].ranges == NULL)
			return;
	for (size_t q = 0; q < rc->range_count; q++) {
		bool meets = false;

		for (size_t k = 0; k < r->issued_count && !meets; k++)
			for (size_t p = 0; p < r->issued[k].range_count &&
			    !meets; p++)
				meets = ranges_meet(&rc->ranges[q],
				    &r->issued[k].ranges[p]);
		if (!meets) {
			r->statements[i].problem = FOLD_PROBLEM_NOT_ISSUED;
			return;
		}
	}
}

static bool
is_regulator(const struct fold_statement *s)
{
	return s->signer_role == ROLE_REGULATOR;
}

/* Enrollment orgs, byte for byte; an unknown org matches nothing. */
static bool
same_org(const char *a, const char *b)
{
	return a != NULL && b != NULL && a[0] != '\0' && strcmp(a, b) == 0;
}

/* SPEC 8 "Targets": judge recall.closed i; close what it closes. */
static void
judge_close(struct fold_result *r, const struct fold_statement *st,
    const struct id_table *ids, const size_t *recall_of, size_t i,
    bool round1_allowed)
{
	struct fold_statement_state *s = &r->statements[i];
	struct fold_recall *rc;
	size_t j;

	if (st[i].ev->round1_form) {
		if (!round1_allowed) {
			s->problem = FOLD_PROBLEM_NO_TARGET;
			return;
		}
		/* Round 1: a close named no recall and ended every one
		 * open at that point (what the recall indexes recorded). */
		s->round1 = true;
		for (size_t k = 0; k < r->recall_count; k++) {
			rc = &r->recalls[k];
			if (!rc->open)
				continue;
			rc->open = false;
			rc->closed_by = i;
			rc->closed_round1 = true;
		}
		return;
	}
	j = id_table_find(ids, event_data_string(st[i].ev, "recall"));
	if (j == FOLD_NONE || j >= i) {
		s->problem = FOLD_PROBLEM_UNKNOWN_TARGET;
		return;
	}
	s->target = j;
	if (st[j].ev->type != EVENT_RECALL_ISSUED) {
		s->problem = FOLD_PROBLEM_TARGET_KIND;
		return;
	}
	assert(recall_of[j] != FOLD_NONE);
	rc = &r->recalls[recall_of[j]];
	if (!rc->open) {
		s->problem = FOLD_PROBLEM_ALREADY_CLOSED;
		return;
	}
	/* A regulator's recall binds everyone; only a regulator ends it. */
	if (rc->issuer_role == ROLE_REGULATOR && !is_regulator(&st[i])) {
		s->problem = FOLD_PROBLEM_REGULATOR_ONLY;
		return;
	}
	if (!is_regulator(&st[i]) && !same_org(st[i].signer_org,
	    rc->issuer_org)) {
		s->problem = FOLD_PROBLEM_WRONG_ORG;
		return;
	}
	rc->open = false;
	rc->closed_by = i;
}

/* SPEC 8 "Targets" and docs/PROTOCOL.md 6.5: judge correction i. */
static void
judge_correction(struct fold_result *r, const struct fold_statement *st,
    const struct id_table *ids, size_t i, bool round1_allowed)
{
	struct fold_statement_state *s = &r->statements[i];
	enum event_type kind;
	bool round1_target;
	size_t j;

	j = id_table_find(ids, event_data_string(st[i].ev, "corrects"));
	if (j == FOLD_NONE || j >= i) {
		s->problem = FOLD_PROBLEM_UNKNOWN_TARGET;
		return;
	}
	s->target = j;
	kind = st[j].ev->type;
	/* A recall is ended by its recall.closed, a registration is the
	 * chain itself, and a correction of a correction would make "in
	 * force" a question of parity: none of them can be withdrawn. */
	round1_target = kind == EVENT_RECALL_ISSUED ||
	    kind == EVENT_RECALL_CLOSED || kind == EVENT_PRODUCT_REGISTERED ||
	    kind == EVENT_CORRECTION;
	if (round1_target && !round1_allowed) {
		s->problem = FOLD_PROBLEM_TARGET_KIND;
		return;
	}
	/* The rule round 1 had too (docs/PROTOCOL.md 6.5). */
	if (!is_regulator(&st[i]) &&
	    strcmp(st[i].ev->signer, st[j].ev->signer) != 0) {
		s->problem = FOLD_PROBLEM_NOT_OWN;
		return;
	}
	if (round1_target) {
		s->round1 = true;
		/* The recall indexes never applied a correction: the recall
		 * stays as they have it, in force (the safe reading). */
		s->ignored = kind == EVENT_RECALL_ISSUED ||
		    kind == EVENT_RECALL_CLOSED;
	}
}

/* fold.h: statements whose clearing effect does not count (an unenrolled
 * signer's, one the witnesses have not cosigned yet, or one signed with a
 * key reported compromised). */
static bool
safe_reading(const struct fold_statement *st)
{
	return st->signer_unenrolled || st->pending || st->compromised;
}

/* Pass 3: what is in force, newest first where one is shown. */
static void
summarise(struct fold_result *r, const struct fold_statement *st)
{
	size_t newest_pass = FOLD_NONE, newest_fail = FOLD_NONE;

	for (size_t i = 0; i < r->count; i++) {
		const struct fold_statement_state *s = &r->statements[i];
		bool in_force = s->withdrawn_by == FOLD_NONE;
		const char *result;

		if (s->problem != FOLD_PROBLEM_NONE)
			r->problems++;
		if (s->round1)
			r->round1++;
		switch (s->type) {
		case EVENT_PRODUCT_REGISTERED:
			if (in_force && r->registration == FOLD_NONE)
				r->registration = i;
			break;
		case EVENT_INSPECTION_SAMPLED:
			if (in_force)
				r->sampling = i;
			break;
		case EVENT_INSPECTION_COMPLETED:
			result = event_data_string(st[i].ev, "result");
			r->inspections[r->inspection_count++] =
			    (struct fold_inspection){ .statement = i,
				.pass = result != NULL &&
				    strcmp(result, "pass") == 0,
				.withdrawn = !in_force };
			if (!in_force)
				break;
			if (result != NULL && strcmp(result, "pass") == 0) {
				/* fold.h signer_unenrolled, pending */
				if (safe_reading(&st[i]))
					break;
				newest_pass = i;
			} else {
				newest_fail = i;
			}
			break;
		case EVENT_CUSTOMS_DECLARED:
			if (in_force)
				r->declaration = i;
			break;
		case EVENT_CUSTOMS_RELEASED:
			if (in_force && !safe_reading(&st[i]))
				r->release = i;
			break;
		default:
			break;
		}
	}
	/* SPEC 8 "Inspections": a fail in force outweighs any pass. */
	if (newest_fail != FOLD_NONE) {
		r->inspection = FOLD_INSPECTION_FAIL;
		r->inspection_deciding = newest_fail;
	} else if (newest_pass != FOLD_NONE) {
		r->inspection = FOLD_INSPECTION_PASS;
		r->inspection_deciding = newest_pass;
	}
	r->customs = r->release != FOLD_NONE ? FOLD_CUSTOMS_RELEASED :
	    r->declaration != FOLD_NONE ? FOLD_CUSTOMS_DECLARED :
	    FOLD_CUSTOMS_NONE;
	for (size_t k = 0; k < r->recall_count; k++)
		r->open_recalls += r->recalls[k].open;
}

/* A statement whose effect is to clear: a close, a correction (it
 * withdraws), an inspection pass, a customs release. */
static bool
clears(const struct trace_event *ev)
{
	const char *result;

	switch (ev->type) {
	case EVENT_RECALL_CLOSED:
	case EVENT_CORRECTION:
	case EVENT_CUSTOMS_RELEASED:
	case EVENT_SERIALS_ISSUED:      /* it makes serials look genuine */
		return true;
	case EVENT_INSPECTION_COMPLETED:
		result = event_data_string(ev, "result");
		return result != NULL && strcmp(result, "pass") == 0;
	default:
		return false;
	}
}

enum trace_status
fold_run(const struct fold_statement *st, size_t count,
    const struct fold_options *opts, struct fold_result *out,
    struct trace_error *err)
{
	long long round1_before = opts != NULL ? opts->round1_before :
	    FOLD_ROUND1_ALWAYS;
	struct id_table ids = { 0 };
	size_t *recall_of = NULL, recalls = 0, inspections = 0, issued = 0;

	memset(out, 0, sizeof(*out));
	out->inspection_deciding = out->declaration = out->release =
	    out->registration = out->sampling = FOLD_NONE;
	for (size_t i = 0; i < count; i++) {
		recalls += st[i].ev->type == EVENT_RECALL_ISSUED;
		inspections += st[i].ev->type == EVENT_INSPECTION_COMPLETED;
		issued += st[i].ev->type == EVENT_SERIALS_ISSUED;
	}
	out->statements = calloc(count + 1, sizeof(*out->statements));
	out->recalls = calloc(recalls + 1, sizeof(*out->recalls));
	out->inspections = calloc(inspections + 1, sizeof(*out->inspections));
	out->issued = calloc(issued + 1, sizeof(*out->issued));
	recall_of = calloc(count + 1, sizeof(*recall_of));
	if (out->statements == NULL || out->recalls == NULL ||
	    out->issued == NULL ||
	    out->inspections == NULL || recall_of == NULL ||
	    !id_table_init(&ids, st, count))
		goto nomem;
	out->count = count;
	for (size_t i = 0; i < count; i++) {
		struct fold_statement_state *s = &out->statements[i];

		copy_text(s->id, sizeof(s->id), st[i].id);
		s->type = st[i].ev->type;
		s->seq = st[i].ev->seq;
		s->log_index = st[i].log_index;
		s->pending = st[i].pending;
		s->compromised = st[i].compromised;
		out->compromised += st[i].compromised;
		s->withdrawn_by = s->target = recall_of[i] = FOLD_NONE;
	}
	/* Pass 1: targets and recalls, in log order. */
	for (size_t i = 0; i < count; i++) {
		bool round1_allowed = st[i].log_index < round1_before;

		/* fold.h signer_unenrolled and pending: nothing it would
		 * clear counts (summarise() leaves its pass and release out
		 * too). */
		if (safe_reading(&st[i]) && clears(st[i].ev)) {
			out->statements[i].ignored = true;
			continue;
		}
		switch (st[i].ev->type) {
		case EVENT_RECALL_ISSUED:
			recall_of[i] = out->recall_count;
			if (!recall_add(out, &st[i], i))
				goto nomem;
			judge_recall_serials(out, i);
			break;
		case EVENT_SERIALS_ISSUED:
			if (!issued_add(out, &st[i], i))
				goto nomem;
			break;
		case EVENT_RECALL_CLOSED:
			judge_close(out, st, &ids, recall_of, i,
			    round1_allowed);
			break;
		case EVENT_CORRECTION:
			judge_correction(out, st, &ids, i, round1_allowed);
			break;
		default:
			break;
		}
		if (out->statements[i].problem != FOLD_PROBLEM_NONE &&
		    out->statements[i].problem != FOLD_PROBLEM_NOT_ISSUED)
			out->statements[i].ignored = true;
	}
	/* Pass 2: corrections in force, newest first; the oldest in force
	 * is the one a statement is withdrawn by. */
	for (size_t i = count; i-- > 0;) {
		const struct fold_statement_state *s = &out->statements[i];

		if (s->type == EVENT_CORRECTION && !s->ignored &&
		    s->withdrawn_by == FOLD_NONE) {
			assert(s->target < i);
			out->statements[s->target].withdrawn_by = i;
		}
	}
	for (size_t k = 0; k < out->issued_count; k++)
		out->issued[k].withdrawn = out->statements[
		    out->issued[k].statement].withdrawn_by != FOLD_NONE;
	summarise(out, st);
	free(recall_of);
	free(ids.slots);
	return TRACE_OK;
nomem:
	free(recall_of);
	free(ids.slots);
	fold_result_clear(out);
	return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
	    "out of memory while folding the chain");
}

bool
fold_recall_covers(const struct fold_recall *recall, const char *serial)
{
	size_t len = serial != NULL ? strlen(serial) : 0;

	if (recall->ranges == NULL)
		return true;
	/* A range [from, to] holds the serials of the same length as from
	 * that sort between them bytewise, which for numeric serials of
	 * fixed width is numeric order. */
	for (size_t k = 0; k < recall->range_count; k++) {
		const struct fold_range *p = &recall->ranges[k];

		if (len > 0 && strlen(p->from) == len &&
		    strcmp(serial, p->from) >= 0 && strcmp(serial, p->to) <= 0)
			return true;
	}
	return false;
}

/* Is a more serious than b?  Equals: the newer (later) one. */
static bool
more_serious(const struct fold_result *r, size_t a, size_t b)
{
	return b == FOLD_NONE ||
	    r->recalls[a].severity <= r->recalls[b].severity;
}

void
fold_serial_status(const struct fold_result *r, const char *serial,
    struct fold_serial_status *out)
{
	bool unit = serial != NULL && serial[0] != '\0';

	out->recall = out->other = out->closed = FOLD_NONE;
	for (size_t k = 0; k < r->recall_count; k++) {
		const struct fold_recall *rc = &r->recalls[k];
		bool covers;

		if (!rc->open) {
			if (out->closed == FOLD_NONE ||
			    rc->closed_by > r->recalls[out->closed].closed_by)
				out->closed = k;
			continue;
		}
		/* A lot as a whole is "recalled" only by a whole-lot recall;
		 * a partial one is shown as such. */
		covers = unit ? fold_recall_covers(rc, serial) :
		    rc->ranges == NULL;
		if (covers && more_serious(r, k, out->recall))
			out->recall = k;
		else if (!covers && more_serious(r, k, out->other))
			out->other = k;
	}
	if (r->open_recalls > 0)
		out->closed = FOLD_NONE;
}

bool
fold_declares_issued(const struct fold_result *r)
{
	for (size_t k = 0; k < r->issued_count; k++)
		if (!r->issued[k].withdrawn)
			return true;
	return false;
}

enum fold_issued_answer
fold_serial_issued(const struct fold_result *r, const char *serial,
    const struct units_proof *proofs, size_t proof_count)
{
	struct fold_recall as_ranges;
	bool unknown = false, any = false;

	if (serial == NULL || serial[0] == '\0')
		return FOLD_ISSUED_UNKNOWN;
	for (size_t k = 0; k < r->issued_count; k++) {
		const struct fold_issued *is = &r->issued[k];
		bool proven = false;

		if (is->withdrawn)
			continue;
		any = true;
		if (!is->has_root) {
			memset(&as_ranges, 0, sizeof(as_ranges));
			as_ranges.ranges = is->ranges;
			as_ranges.range_count = is->range_count;
			if (is->ranges != NULL &&
			    fold_recall_covers(&as_ranges, serial))
				return FOLD_ISSUED_YES;
			continue;
		}
		for (size_t p = 0; p < proof_count && !proven; p++) {
			struct trace_error err;
			bool in = false;

			if (units_verify(serial, is->root, (uint64_t)is->count,
			    &proofs[p], &in, &err) != TRACE_OK)
				continue;
			if (in)
				return FOLD_ISSUED_YES;
			proven = true;
		}
		unknown = unknown || !proven;
	}
	return !any || unknown ? FOLD_ISSUED_UNKNOWN : FOLD_ISSUED_NO;
}

const char *
fold_issued_json(enum fold_issued_answer a)
{
	return a == FOLD_ISSUED_YES ? "true" : a == FOLD_ISSUED_NO ? "false" :
	    "null";
}

enum trace_status
fold_problem_error(const struct fold_result *r, size_t i,
    struct trace_error *err)
{
	const struct fold_statement_state *s = &r->statements[i];
	bool close = s->type == EVENT_RECALL_CLOSED;
	const char *field = close ? "data.recall" : "data.corrects";
	const char *target = s->target != FOLD_NONE ?
	    r->statements[s->target].id : "";

	switch (s->problem) {
	case FOLD_PROBLEM_NONE:
		return TRACE_OK;
	case FOLD_PROBLEM_NO_TARGET:
		return trace_error_set(err, TRACE_EMALFORMED, "missing_field",
		    field, "a recall.closed names the recall it closes "
		    "(\"recall\")");
	case FOLD_PROBLEM_UNKNOWN_TARGET:
		if (close)
			return trace_error_set(err, TRACE_ERULE, "bad_target",
			    field, "\"recall\" must name a recall.issued "
			    "earlier in this chain");
		return trace_error_set(err, TRACE_ERULE, "unknown_correction",
		    field, "a correction must name an earlier event of the "
		    "same chain");
	case FOLD_PROBLEM_TARGET_KIND:
		if (close)
			return trace_error_set(err, TRACE_ERULE, "bad_target",
			    field, "%.64s is a %s, not a recall.issued", target,
			    event_type_name(r->statements[s->target].type));
		return trace_error_set(err, TRACE_ERULE, "bad_target", field,
		    "%.64s is a %s: a correction may not withdraw a recall, "
		    "a registration or a correction", target,
		    event_type_name(r->statements[s->target].type));
	case FOLD_PROBLEM_ALREADY_CLOSED:
		return trace_error_set(err, TRACE_ERULE, "bad_target", field,
		    "recall %.64s is already closed (a recall closes once)",
		    target);
	case FOLD_PROBLEM_REGULATOR_ONLY:
		return trace_error_set(err, TRACE_EFORBIDDEN, "regulator_only",
		    field, "recall %.64s was issued by a regulator: only a "
		    "regulator may close it", target);
	case FOLD_PROBLEM_WRONG_ORG:
		return trace_error_set(err, TRACE_EFORBIDDEN, "wrong_org",
		    field, "recall %.64s was issued by another organisation: "
		    "only its keys or a regulator may close it", target);
	case FOLD_PROBLEM_NOT_OWN:
		return trace_error_set(err, TRACE_EFORBIDDEN,
		    "role_not_allowed", field, "only the original signer or "
		    "a regulator may correct an event");
	case FOLD_PROBLEM_NOT_ISSUED:
		return trace_error_set(err, TRACE_ERULE, "serials_not_issued",
		    "data.serials", "a recalled serial range holds no serial "
		    "issued for this lot (serials.issued)");
	}
	return trace_error_set(err, TRACE_ERULE, "bad_target", field,
	    "the statement breaks a target rule");
}

const char *
fold_inspection_name(enum fold_inspection_status status)
{
	switch (status) {
	case FOLD_INSPECTION_PASS: return "pass";
	case FOLD_INSPECTION_FAIL: return "fail";
	default: return "none";
	}
}

const char *
fold_customs_name(enum fold_customs_status status)
{
	switch (status) {
	case FOLD_CUSTOMS_DECLARED: return "declared";
	case FOLD_CUSTOMS_RELEASED: return "released";
	default: return "none";
	}
}
