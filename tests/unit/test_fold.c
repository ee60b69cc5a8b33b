/*
 * test_fold.c - the one fold of a chain (libtrace/fold.h, SPEC section 8):
 * every target rule of recall.closed and correction, each with the
 * statement that breaks it changing nothing; inspections (a fail in force
 * outweighs any pass; withdrawing a fail); customs; the recall status of
 * a serial and of the lot; the round-1 rules for a legacy recall.closed
 * and a legacy correction of a recall, and the same statements refused
 * once round 1 is over; the errors ingest answers with; pending statements
 * (SPEC 9): a recall or fail in force, a close, correction, pass or
 * release ignored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "libtrace/fold.h"

#define GTIN "08801234567893"
#define MAX 32

/* Signers: key ids, roles and orgs as their enrollments say. */
struct who {
	const char *keyid;
	enum key_role role;
	const char *org;
};

static const struct who brand = { "b0000000000000000000000000000000",
	ROLE_BRAND, "Amorepacific" };
static const struct who importer = { "10000000000000000000000000000000",
	ROLE_IMPORTER, "Haiyue Trading" };
static const struct who importer2 = { "11000000000000000000000000000000",
	ROLE_IMPORTER, "Haiyue Trading" };
static const struct who rival = { "12000000000000000000000000000000",
	ROLE_IMPORTER, "Haiyue Trading Ltd" };
static const struct who regulator = { "20000000000000000000000000000000",
	ROLE_REGULATOR, "SAMR" };
static const struct who regulator2 = { "21000000000000000000000000000000",
	ROLE_REGULATOR, "Customs Authority" };
static const struct who ccic = { "30000000000000000000000000000000",
	ROLE_INSPECTOR, "CCIC Korea" };
static const struct who other_lab = { "31000000000000000000000000000000",
	ROLE_INSPECTOR, "Other Lab" };
static const struct who customs = { "40000000000000000000000000000000",
	ROLE_CUSTOMS, "Weihai Customs" };

/* A chain being written: parsed events and their fold inputs. */
struct chain {
	struct trace_event ev[MAX];
	char id[MAX][2 * SHA256_LEN + 1];
	struct fold_statement st[MAX];
	size_t count;
	struct fold_result fold;
};

static void
chain_reset(struct chain *c)
{
	for (size_t i = 0; i < c->count; i++)
		event_free(&c->ev[i]);
	fold_result_clear(&c->fold);
	memset(c, 0, sizeof(*c));
}

/* Append an event of type by who with data (JSON); returns its index. */
static size_t
add(struct chain *c, const struct who *w, const char *type, const char *data)
{
	char text[4096], prev[80];
	size_t i = c->count;
	struct trace_error err;

	if (i == 0)
		snprintf(prev, sizeof(prev), "null");
	else
		snprintf(prev, sizeof(prev), "\"%s\"", c->id[i - 1]);
	snprintf(text, sizeof(text), "{\"v\":1,\"type\":\"%s\",\"chain\":"
	    "{\"gtin\":\"" GTIN "\",\"lot\":\"L1\"},\"seq\":%zu,\"prev\":%s,"
	    "\"time\":\"2026-11-20T08:30:00+09:00\",\"signer\":\"%s\","
	    "\"data\":%s}", type, i, prev, w->keyid, data);
	/* Stored data may hold round-1 forms: read it as the store does. */
	CHECK_MSG(event_parse_stored((const unsigned char *)text, strlen(text),
	    &c->ev[i], &err) == TRACE_OK, "%s: %s (%s)", type, err.message,
	    err.field);
	/* Distinct ids that sort in log order. */
	snprintf(c->id[i], sizeof(c->id[i]), "%02zx%062x", i + 1, 0xabc);
	c->st[i] = (struct fold_statement){ .ev = &c->ev[i], .id = c->id[i],
		.log_index = 100 + (long long)i, .signer_role = w->role,
		.signer_org = w->org };
	c->count++;
	return i;
}

static size_t
registered(struct chain *c)
{
	return add(c, &brand, "product.registered", "{\"name\":{\"en\":\"E\"},"
	    "\"brand\":\"B\",\"origin\":\"KR\"}");
}

static size_t
recall(struct chain *c, const struct who *w, int severity,
    const char *serials)
{
	char data[512];

	snprintf(data, sizeof(data), "{\"reason\":\"r\",\"severity\":%d,"
	    "\"action\":\"a\"%s%s}", severity, serials != NULL ?
	    ",\"serials\":" : "", serials != NULL ? serials : "");
	return add(c, w, "recall.issued", data);
}

static size_t
close_recall(struct chain *c, const struct who *w, size_t target)
{
	char data[256];

	snprintf(data, sizeof(data), "{\"recall\":\"%s\",\"outcome\":"
	    "\"destroyed\"}", c->id[target]);
	return add(c, w, "recall.closed", data);
}

static size_t
correct(struct chain *c, const struct who *w, size_t target)
{
	char data[256];

	snprintf(data, sizeof(data), "{\"corrects\":\"%s\",\"reason\":\"r\"}",
	    c->id[target]);
	return add(c, w, "correction", data);
}

static size_t
inspection(struct chain *c, const struct who *w, const char *result)
{
	char data[128];

	snprintf(data, sizeof(data), "{\"certificate\":\"C\",\"result\":"
	    "\"%s\"}", result);
	return add(c, w, "inspection.completed", data);
}

/* Fold c; round1_before as given (FOLD_ROUND1_ALWAYS for stored data). */
static void
fold(struct chain *c, long long round1_before)
{
	struct fold_options opts = { .round1_before = round1_before };

	fold_result_clear(&c->fold);
	CHECK_INT(fold_run(c->st, c->count, &opts, &c->fold, NULL), TRACE_OK);
	CHECK_INT(c->fold.count, c->count);
}

static enum fold_problem
problem(const struct chain *c, size_t i)
{
	return c->fold.statements[i].problem;
}

/* The recall of statement i. */
static const struct fold_recall *
recall_at(const struct chain *c, size_t i)
{
	for (size_t k = 0; k < c->fold.recall_count; k++)
		if (c->fold.recalls[k].statement == i)
			return &c->fold.recalls[k];
	CHECK_MSG(0, "no recall at statement %zu", i);
	return &c->fold.recalls[0];
}

/* The error ingest would answer for statement i. */
static void
expect_error(const struct chain *c, size_t i, enum trace_status status,
    const char *code, const char *field)
{
	struct trace_error err;

	trace_error_clear(&err);
	CHECK_INT(fold_problem_error(&c->fold, i, &err), status);
	CHECK_STR(err.code, code);
	CHECK_STR(err.field, field);
}

static void
test_close_targets(void)
{
	static struct chain c;
	size_t r1, r2, reg, x, ok, again, stranger, later;

	registered(&c);
	r1 = recall(&c, &importer, 2, NULL);
	reg = recall(&c, &regulator, 1, NULL);
	r2 = recall(&c, &importer, 3, NULL);
	/* (1) an importer closes a regulator's recall. */
	x = close_recall(&c, &importer, reg);
	/* (1b) an importer of another org closes an importer's recall;
	 * "Haiyue Trading Ltd" is not "Haiyue Trading". */
	stranger = close_recall(&c, &rival, r1);
	/* Another key of the issuer's org may. */
	ok = close_recall(&c, &importer2, r1);
	/* (1c) a closed recall, a non-recall, nothing, a later statement. */
	again = close_recall(&c, &importer, r1);
	close_recall(&c, &importer, 0);
	add(&c, &importer, "recall.closed", "{\"recall\":\"" "ff00000000000000"
	    "000000000000000000000000000000000000000000000000\",\"outcome\":"
	    "\"released\"}");
	later = c.count + 1;
	snprintf(c.id[later], sizeof(c.id[later]), "%02zx%062x", later + 1,
	    0xabc);
	close_recall(&c, &importer, later);
	/* A regulator closes anyone's recall. */
	close_recall(&c, &regulator2, r2);
	fold(&c, FOLD_ROUND1_ALWAYS);

	CHECK_INT(problem(&c, x), FOLD_PROBLEM_REGULATOR_ONLY);
	CHECK_INT(problem(&c, stranger), FOLD_PROBLEM_WRONG_ORG);
	CHECK_INT(problem(&c, ok), FOLD_PROBLEM_NONE);
	CHECK_INT(problem(&c, again), FOLD_PROBLEM_ALREADY_CLOSED);
	CHECK_INT(problem(&c, again + 1), FOLD_PROBLEM_TARGET_KIND);
	CHECK_INT(problem(&c, again + 2), FOLD_PROBLEM_UNKNOWN_TARGET);
	CHECK_INT(problem(&c, again + 3), FOLD_PROBLEM_UNKNOWN_TARGET);
	CHECK_INT(problem(&c, again + 4), FOLD_PROBLEM_NONE);
	CHECK(c.fold.statements[x].ignored);
	CHECK(!c.fold.statements[ok].ignored);
	CHECK_INT(c.fold.statements[ok].target, r1);
	CHECK_INT(c.fold.problems, 6);
	CHECK_INT(c.fold.round1, 0);
	/* The regulator's recall is still open; the others closed, each by
	 * the statement that named it. */
	CHECK_INT(c.fold.recall_count, 3);
	CHECK_INT(c.fold.open_recalls, 1);
	CHECK(recall_at(&c, reg)->open);
	CHECK_INT(recall_at(&c, reg)->closed_by, FOLD_NONE);
	CHECK(!recall_at(&c, r1)->open);
	CHECK_INT(recall_at(&c, r1)->closed_by, ok);
	CHECK_INT(recall_at(&c, r2)->closed_by, again + 4);
	CHECK(!recall_at(&c, r2)->closed_round1);
	CHECK_INT(recall_at(&c, reg)->issuer_role, ROLE_REGULATOR);
	CHECK_STR(recall_at(&c, r1)->issuer_org, "Haiyue Trading");
	CHECK_INT(recall_at(&c, reg)->severity, 1);
	/* The errors ingest answers. */
	expect_error(&c, x, TRACE_EFORBIDDEN, "regulator_only", "data.recall");
	expect_error(&c, stranger, TRACE_EFORBIDDEN, "wrong_org",
	    "data.recall");
	expect_error(&c, again, TRACE_ERULE, "bad_target", "data.recall");
	expect_error(&c, again + 1, TRACE_ERULE, "bad_target", "data.recall");
	expect_error(&c, again + 2, TRACE_ERULE, "bad_target", "data.recall");
	CHECK_INT(fold_problem_error(&c.fold, ok, NULL), TRACE_OK);
	chain_reset(&c);

	/* A regulator's recall closed by a regulator; an importer's recall
	 * by a regulator of any org. */
	registered(&c);
	reg = recall(&c, &regulator, 1, NULL);
	r1 = recall(&c, &importer, 1, NULL);
	close_recall(&c, &regulator2, reg);
	close_recall(&c, &regulator, r1);
	fold(&c, 0);
	CHECK_INT(c.fold.problems, 0);
	CHECK_INT(c.fold.open_recalls, 0);
	chain_reset(&c);
}

static void
test_correction_targets(void)
{
	static struct chain c;
	size_t reg0, rec, closed, insp, fix, fix2, stranger, by_regulator;

	reg0 = registered(&c);
	rec = recall(&c, &importer, 1, NULL);
	insp = inspection(&c, &ccic, "pass");
	closed = close_recall(&c, &importer, rec);
	fix = correct(&c, &importer, rec);          /* (2) a recall.issued */
	correct(&c, &importer, closed);             /* a recall.closed */
	correct(&c, &brand, reg0);                  /* a registration */
	fix2 = correct(&c, &ccic, insp);
	correct(&c, &ccic, fix2);                   /* a correction */
	stranger = correct(&c, &other_lab, insp);   /* not its signer */
	by_regulator = correct(&c, &regulator, insp);
	/* Round 2: each target of the wrong kind is refused. */
	fold(&c, 0);
	CHECK_INT(problem(&c, fix), FOLD_PROBLEM_TARGET_KIND);
	CHECK_INT(problem(&c, fix + 1), FOLD_PROBLEM_TARGET_KIND);
	CHECK_INT(problem(&c, fix + 2), FOLD_PROBLEM_TARGET_KIND);
	CHECK_INT(problem(&c, fix2), FOLD_PROBLEM_NONE);
	CHECK_INT(problem(&c, fix2 + 1), FOLD_PROBLEM_TARGET_KIND);
	CHECK_INT(problem(&c, stranger), FOLD_PROBLEM_NOT_OWN);
	CHECK_INT(problem(&c, by_regulator), FOLD_PROBLEM_NONE);
	expect_error(&c, fix, TRACE_ERULE, "bad_target", "data.corrects");
	expect_error(&c, stranger, TRACE_EFORBIDDEN, "role_not_allowed",
	    "data.corrects");
	/* Nothing but the inspection is withdrawn, by the oldest correction
	 * in force. */
	CHECK_INT(c.fold.statements[rec].withdrawn_by, FOLD_NONE);
	CHECK_INT(c.fold.statements[closed].withdrawn_by, FOLD_NONE);
	CHECK_INT(c.fold.statements[reg0].withdrawn_by, FOLD_NONE);
	CHECK_INT(c.fold.statements[fix2].withdrawn_by, FOLD_NONE);
	CHECK_INT(c.fold.statements[insp].withdrawn_by, fix2);
	CHECK_INT(c.fold.registration, reg0);
	CHECK_INT(c.fold.recalls[0].closed_by, closed);
	CHECK_INT(c.fold.round1, 0);

	/* Round 1 (stored data): the same statements are judged by the
	 * old rule and labelled.  A correction of a recall changes nothing
	 * (the recall indexes never applied one); of a registration or a
	 * correction, it withdraws it, and a withdrawn correction withdraws
	 * nothing. */
	fold(&c, FOLD_ROUND1_ALWAYS);
	CHECK_INT(c.fold.problems, 1);
	CHECK_INT(problem(&c, stranger), FOLD_PROBLEM_NOT_OWN);
	CHECK_INT(c.fold.round1, 4);
	CHECK(c.fold.statements[fix].round1 && c.fold.statements[fix].ignored);
	CHECK(c.fold.statements[fix + 1].round1 &&
	    c.fold.statements[fix + 1].ignored);
	CHECK(c.fold.statements[fix + 2].round1 &&
	    !c.fold.statements[fix + 2].ignored);
	CHECK(!c.fold.statements[fix2].round1);
	CHECK_INT(c.fold.statements[rec].withdrawn_by, FOLD_NONE);
	CHECK_INT(c.fold.statements[closed].withdrawn_by, FOLD_NONE);
	CHECK_INT(c.fold.statements[reg0].withdrawn_by, fix + 2);
	CHECK_INT(c.fold.registration, FOLD_NONE);
	CHECK_INT(c.fold.statements[fix2].withdrawn_by, fix2 + 1);
	/* fix2 no longer stands; the regulator's correction still does. */
	CHECK_INT(c.fold.statements[insp].withdrawn_by, by_regulator);
	CHECK_INT(c.fold.recalls[0].closed_by, closed);
	chain_reset(&c);

	/* A correction naming nothing, or itself (not earlier). */
	registered(&c);
	insp = inspection(&c, &ccic, "fail");
	add(&c, &ccic, "correction", "{\"corrects\":\"ee0000000000000000000"
	    "0000000000000000000000000000000000000000000\",\"reason\":\"r\"}");
	fold(&c, FOLD_ROUND1_ALWAYS);
	CHECK_INT(problem(&c, 2), FOLD_PROBLEM_UNKNOWN_TARGET);
	expect_error(&c, 2, TRACE_ERULE, "unknown_correction",
	    "data.corrects");
	CHECK_INT(c.fold.inspection, FOLD_INSPECTION_FAIL);
	chain_reset(&c);
}

static void
test_inspections(void)
{
	static struct chain c;
	size_t fail, pass, own, theirs;

	registered(&c);
	CHECK_INT(c.count, 1);
	fold(&c, 0);
	CHECK_INT(c.fold.inspection, FOLD_INSPECTION_NONE);
	CHECK_INT(c.fold.inspection_deciding, FOLD_NONE);
	CHECK_INT(c.fold.inspection_count, 0);
	/* (6) CCIC fails the lot; a second inspector's pass changes
	 * nothing. */
	fail = inspection(&c, &ccic, "fail");
	pass = inspection(&c, &other_lab, "pass");
	fold(&c, 0);
	CHECK_INT(c.fold.inspection, FOLD_INSPECTION_FAIL);
	CHECK_INT(c.fold.inspection_deciding, fail);
	CHECK_INT(c.fold.inspection_count, 2);
	CHECK(!c.fold.inspections[0].pass && !c.fold.inspections[0].withdrawn);
	CHECK(c.fold.inspections[1].pass);
	CHECK_STR(fold_inspection_name(c.fold.inspection), "fail");
	/* Withdrawn by another inspector: refused, still fail. */
	theirs = correct(&c, &other_lab, fail);
	fold(&c, 0);
	CHECK_INT(problem(&c, theirs), FOLD_PROBLEM_NOT_OWN);
	CHECK_INT(c.fold.inspection, FOLD_INSPECTION_FAIL);
	/* Withdrawn by its own signer: the pass decides. */
	own = correct(&c, &ccic, fail);
	fold(&c, 0);
	CHECK_INT(c.fold.statements[fail].withdrawn_by, own);
	CHECK(c.fold.inspections[0].withdrawn);
	CHECK_INT(c.fold.inspection, FOLD_INSPECTION_PASS);
	CHECK_INT(c.fold.inspection_deciding, pass);
	CHECK_STR(fold_inspection_name(c.fold.inspection), "pass");
	/* A new fail outweighs every pass. */
	fail = inspection(&c, &other_lab, "fail");
	inspection(&c, &ccic, "pass");
	fold(&c, 0);
	CHECK_INT(c.fold.inspection, FOLD_INSPECTION_FAIL);
	CHECK_INT(c.fold.inspection_deciding, fail);
	CHECK_INT(c.fold.inspection_count, 4);
	chain_reset(&c);

	/* Every result withdrawn: none. */
	registered(&c);
	pass = inspection(&c, &ccic, "pass");
	correct(&c, &regulator, pass);
	fold(&c, 0);
	CHECK_INT(c.fold.inspection, FOLD_INSPECTION_NONE);
	CHECK_STR(fold_inspection_name(c.fold.inspection), "none");
	chain_reset(&c);
}

static void
test_customs_and_summary(void)
{
	static struct chain c;
	size_t sampled, declared, released, fix;

	registered(&c);
	sampled = add(&c, &ccic, "inspection.sampled", "{\"samples\":3}");
	fold(&c, 0);
	CHECK_INT(c.fold.customs, FOLD_CUSTOMS_NONE);
	CHECK_INT(c.fold.sampling, sampled);
	CHECK_INT(c.fold.registration, 0);
	declared = add(&c, &importer, "customs.declared",
	    "{\"declaration\":\"D1\",\"mode\":\"1210\"}");
	fold(&c, 0);
	CHECK_INT(c.fold.customs, FOLD_CUSTOMS_DECLARED);
	CHECK_INT(c.fold.declaration, declared);
	CHECK_STR(fold_customs_name(c.fold.customs), "declared");
	released = add(&c, &customs, "customs.released",
	    "{\"declaration\":\"D1\"}");
	fold(&c, 0);
	CHECK_INT(c.fold.customs, FOLD_CUSTOMS_RELEASED);
	CHECK_INT(c.fold.release, released);
	CHECK_STR(fold_customs_name(c.fold.customs), "released");
	fix = correct(&c, &customs, released);
	fold(&c, 0);
	CHECK_INT(c.fold.statements[released].withdrawn_by, fix);
	CHECK_INT(c.fold.customs, FOLD_CUSTOMS_DECLARED);
	CHECK_INT(c.fold.release, FOLD_NONE);
	chain_reset(&c);

	/* Nothing to fold. */
	CHECK_INT(fold_run(NULL, 0, NULL, &c.fold, NULL), TRACE_OK);
	CHECK_INT(c.fold.count, 0);
	CHECK_INT(c.fold.registration, FOLD_NONE);
	fold_result_clear(&c.fold);
	fold_result_clear(NULL);
}

static void
test_serials(void)
{
	static struct chain c;
	struct fold_serial_status s;
	size_t part, whole, closer;

	registered(&c);
	part = recall(&c, &importer, 2, "[[\"000100\",\"000199\"],"
	    "[\"A5\",\"A7\"]]");
	fold(&c, 0);
	CHECK_INT(c.fold.recalls[0].range_count, 2);
	CHECK_STR(c.fold.recalls[0].ranges[1].to, "A7");
	CHECK(fold_recall_covers(&c.fold.recalls[0], "000100"));
	CHECK(fold_recall_covers(&c.fold.recalls[0], "000150"));
	CHECK(fold_recall_covers(&c.fold.recalls[0], "000199"));
	CHECK(fold_recall_covers(&c.fold.recalls[0], "A6"));
	CHECK(!fold_recall_covers(&c.fold.recalls[0], "B6"));
	CHECK(!fold_recall_covers(&c.fold.recalls[0], "000200"));
	CHECK(!fold_recall_covers(&c.fold.recalls[0], "00150"));
	CHECK(!fold_recall_covers(&c.fold.recalls[0], ""));
	fold_serial_status(&c.fold, "000150", &s);
	CHECK_INT(s.recall, 0);
	CHECK_INT(s.other, FOLD_NONE);
	fold_serial_status(&c.fold, "000500", &s);
	CHECK_INT(s.recall, FOLD_NONE);
	CHECK_INT(s.other, 0);
	fold_serial_status(&c.fold, NULL, &s);
	CHECK_INT(s.recall, FOLD_NONE);
	CHECK_INT(s.other, 0);
	/* A whole-lot recall of lesser severity: the more serious partial
	 * one still shows for its serials. */
	whole = recall(&c, &importer, 3, NULL);
	fold(&c, 0);
	CHECK(fold_recall_covers(&c.fold.recalls[1], "anything"));
	fold_serial_status(&c.fold, "000150", &s);
	CHECK_INT(s.recall, 0);
	CHECK_INT(s.other, FOLD_NONE);
	fold_serial_status(&c.fold, "000500", &s);
	CHECK_INT(s.recall, 1);
	CHECK_INT(s.other, 0);
	fold_serial_status(&c.fold, "", &s);
	CHECK_INT(s.recall, 1);
	CHECK_INT(s.other, 0);
	CHECK_INT(s.closed, FOLD_NONE);
	/* Closed one by one: the last closed is reported once none is
	 * open. */
	close_recall(&c, &importer, whole);
	fold(&c, 0);
	fold_serial_status(&c.fold, "000500", &s);
	CHECK_INT(s.recall, FOLD_NONE);
	CHECK_INT(s.other, 0);
	CHECK_INT(s.closed, FOLD_NONE);
	closer = close_recall(&c, &regulator, part);
	fold(&c, 0);
	fold_serial_status(&c.fold, "000150", &s);
	CHECK_INT(s.recall, FOLD_NONE);
	CHECK_INT(s.other, FOLD_NONE);
	CHECK_INT(s.closed, 0);
	CHECK_INT(c.fold.recalls[s.closed].closed_by, closer);
	chain_reset(&c);
}

static void
test_round1_close(void)
{
	static struct chain c;
	struct trace_error err;
	size_t reg, imp, legacy, after;

	registered(&c);
	reg = recall(&c, &regulator, 1, NULL);
	imp = recall(&c, &importer, 2, "[[\"0001\",\"0009\"]]");
	/* What round 1 wrote: a recall.closed naming no recall, by an
	 * importer, after a regulator's recall. */
	legacy = add(&c, &importer, "recall.closed", "{\"outcome\":"
	    "\"destroyed\",\"recovered\":3}");
	CHECK(c.ev[legacy].round1_form);
	after = recall(&c, &importer, 3, NULL);
	/* Judged by the round-1 rule: it closed every recall open then. */
	fold(&c, FOLD_ROUND1_ALWAYS);
	CHECK_INT(c.fold.problems, 0);
	CHECK_INT(c.fold.round1, 1);
	CHECK(c.fold.statements[legacy].round1);
	CHECK(!c.fold.statements[legacy].ignored);
	CHECK_INT(recall_at(&c, reg)->closed_by, legacy);
	CHECK(recall_at(&c, reg)->closed_round1);
	CHECK_INT(recall_at(&c, imp)->closed_by, legacy);
	CHECK(recall_at(&c, after)->open);
	CHECK_INT(c.fold.open_recalls, 1);
	/* Past round 1 the same statement closes nothing. */
	fold(&c, c.st[legacy].log_index);
	CHECK_INT(problem(&c, legacy), FOLD_PROBLEM_NO_TARGET);
	CHECK(c.fold.statements[legacy].ignored);
	CHECK_INT(c.fold.open_recalls, 3);
	trace_error_clear(&err);
	CHECK_INT(fold_problem_error(&c.fold, legacy, &err), TRACE_EMALFORMED);
	CHECK_STR(err.field, "data.recall");
	/* One index earlier, it is round 1 again. */
	fold(&c, c.st[legacy].log_index + 1);
	CHECK_INT(c.fold.open_recalls, 1);
	chain_reset(&c);

	/* A statement submitted now is strict: event_parse() refuses the
	 * round-1 form outright. */
	{
		static const char text[] = "{\"v\":1,\"type\":\"recall.closed\","
		    "\"chain\":{\"gtin\":\"" GTIN "\",\"lot\":\"L1\"},\"seq\":3,"
		    "\"prev\":\"0100000000000000000000000000000000000000000000"
		    "000000000000000abc\",\"time\":\"2026-11-20T08:30:00+09:00\","
		    "\"signer\":\"10000000000000000000000000000000\","
		    "\"data\":{\"outcome\":\"destroyed\"}}";
		struct trace_event ev;

		CHECK_INT(event_parse((const unsigned char *)text,
		    sizeof(text) - 1, &ev, &err), TRACE_EMALFORMED);
		CHECK_STR(err.code, "missing_field");
		CHECK_STR(err.field, "data.recall");
		CHECK_INT(event_parse_stored((const unsigned char *)text,
		    sizeof(text) - 1, &ev, &err), TRACE_OK);
		CHECK(ev.round1_form);
		event_free(&ev);
	}
}

/*
 * A signer that is not enrolled (a round-1 key refused today reads so):
 * its close, correction, pass and release change nothing; a recall or a
 * fail it signed still counts (the safe reading, fold.h).
 */
static void
test_signer_not_enrolled(void)
{
	static struct chain c;
	size_t r1, close, pass, corr, fail, stranger_recall;

	registered(&c);
	r1 = recall(&c, &importer, 2, NULL);
	close = close_recall(&c, &importer, r1);
	c.st[close].signer_unenrolled = true;
	pass = inspection(&c, &ccic, "pass");
	c.st[pass].signer_unenrolled = true;
	fail = inspection(&c, &ccic, "fail");
	corr = correct(&c, &ccic, fail);
	c.st[corr].signer_unenrolled = true;
	stranger_recall = recall(&c, &importer, 1, NULL);
	c.st[stranger_recall].signer_unenrolled = true;
	fold(&c, FOLD_ROUND1_ALWAYS);
	CHECK(recall_at(&c, r1)->open);
	CHECK(c.fold.statements[close].ignored);
	CHECK(c.fold.statements[pass].ignored);
	CHECK(c.fold.statements[corr].ignored);
	CHECK_INT(c.fold.statements[fail].withdrawn_by, FOLD_NONE);
	CHECK_INT(c.fold.inspection, FOLD_INSPECTION_FAIL);
	CHECK_INT(c.fold.inspection_deciding, fail);
	CHECK(recall_at(&c, stranger_recall)->open);
	CHECK_INT(c.fold.open_recalls, 2);
	chain_reset(&c);
	/* A pass alone by such a signer: the status stays none. */
	registered(&c);
	pass = inspection(&c, &ccic, "pass");
	c.st[pass].signer_unenrolled = true;
	fold(&c, FOLD_ROUND1_ALWAYS);
	CHECK_INT(c.fold.inspection, FOLD_INSPECTION_NONE);
	chain_reset(&c);
}

/*
 * SPEC 9: statements the witnesses have not cosigned yet.  The attack: an
 * operator (or a signer racing the witnesses) gets a lot to look safe by a
 * close, a correction or a pass that no witness has seen, or hides a new
 * recall until the witnesses catch up.  A pending recall or fail counts at
 * once; a pending close, correction, pass or release counts for nothing.
 */
static void
test_pending(void)
{
	struct chain c;
	size_t r1, r2, close, fail, corr, pass, release;

	memset(&c, 0, sizeof(c));
	registered(&c);
	r1 = recall(&c, &importer, 2, NULL);
	close = close_recall(&c, &importer, r1);
	c.st[close].pending = true;
	r2 = recall(&c, &regulator, 1, NULL);
	c.st[r2].pending = true;
	fail = inspection(&c, &ccic, "fail");
	c.st[fail].pending = true;
	corr = correct(&c, &ccic, fail);
	c.st[corr].pending = true;
	pass = inspection(&c, &other_lab, "pass");
	c.st[pass].pending = true;
	add(&c, &importer, "customs.declared", "{\"declaration\":\"D1\","
	    "\"mode\":\"1210\"}");
	release = add(&c, &customs, "customs.released", "{\"declaration\":"
	    "\"D1\"}");
	c.st[release].pending = true;
	fold(&c, FOLD_ROUND1_ALWAYS);
	/* The pending close does not close the witnessed recall. */
	CHECK(recall_at(&c, r1)->open);
	CHECK(c.fold.statements[close].ignored && c.fold.statements[close].pending);
	CHECK_INT(c.fold.statements[close].problem, FOLD_PROBLEM_NONE);
	/* The pending recall is in force, and says it is pending. */
	CHECK(recall_at(&c, r2)->open);
	CHECK(c.fold.statements[r2].pending && !c.fold.statements[r2].ignored);
	CHECK_INT(c.fold.open_recalls, 2);
	/* The pending fail stands; its pending withdrawal and a pending pass
	 * do not count. */
	CHECK(c.fold.statements[corr].ignored);
	CHECK_INT(c.fold.statements[fail].withdrawn_by, FOLD_NONE);
	CHECK(c.fold.statements[pass].ignored);
	CHECK_INT(c.fold.inspection, FOLD_INSPECTION_FAIL);
	CHECK_INT(c.fold.inspection_deciding, fail);
	CHECK(c.fold.statements[release].ignored);
	CHECK_INT(c.fold.customs, FOLD_CUSTOMS_DECLARED);
	chain_reset(&c);
	/* The same close, once witnessed, closes it. */
	registered(&c);
	r1 = recall(&c, &importer, 2, NULL);
	close = close_recall(&c, &importer, r1);
	fold(&c, FOLD_ROUND1_ALWAYS);
	CHECK(!recall_at(&c, r1)->open);
	CHECK(!c.fold.statements[close].pending);
	chain_reset(&c);
}

/*
 * SPEC 8 "Revocation and compromise": an attacker with a stolen importer
 * key closes a recall, withdraws a fail, passes an inspection and releases
 * the lot; the key is revoked with compromisedAt before all that.  The
 * statements flagged compromised lose their positive effect; a recall or
 * a fail signed with the stolen key stays in force, flagged.  Nothing is a
 * problem: a compromised key never makes a chain fail.
 */
static void
test_compromised(void)
{
	struct chain c;
	size_t r1, close, r2, fail, corr, pass, release;

	memset(&c, 0, sizeof(c));
	registered(&c);
	r1 = recall(&c, &importer, 2, NULL);
	close = close_recall(&c, &importer2, r1);
	c.st[close].compromised = true;
	r2 = recall(&c, &importer2, 1, NULL);
	c.st[r2].compromised = true;
	fail = inspection(&c, &ccic, "fail");
	corr = correct(&c, &ccic, fail);
	c.st[corr].compromised = true;
	pass = inspection(&c, &other_lab, "pass");
	c.st[pass].compromised = true;
	add(&c, &importer, "customs.declared", "{\"declaration\":\"D1\","
	    "\"mode\":\"1210\"}");
	release = add(&c, &customs, "customs.released", "{\"declaration\":"
	    "\"D1\"}");
	c.st[release].compromised = true;
	fold(&c, FOLD_ROUND1_ALWAYS);
	CHECK(recall_at(&c, r1)->open);
	CHECK(c.fold.statements[close].ignored);
	CHECK(c.fold.statements[close].compromised);
	CHECK(recall_at(&c, r2)->open);
	CHECK(c.fold.statements[r2].compromised);
	CHECK(!c.fold.statements[r2].ignored);
	CHECK_INT(c.fold.open_recalls, 2);
	CHECK(c.fold.statements[corr].ignored);
	CHECK_INT(c.fold.statements[fail].withdrawn_by, FOLD_NONE);
	CHECK(c.fold.statements[pass].ignored);
	CHECK_INT(c.fold.inspection, FOLD_INSPECTION_FAIL);
	CHECK_INT(c.fold.customs, FOLD_CUSTOMS_DECLARED);
	CHECK_INT(c.fold.compromised, 5);
	CHECK_INT(c.fold.problems, 0);
	chain_reset(&c);
	/* A fail signed with a compromised key stays in force, flagged. */
	registered(&c);
	pass = inspection(&c, &other_lab, "pass");
	fail = inspection(&c, &ccic, "fail");
	c.st[fail].compromised = true;
	fold(&c, FOLD_ROUND1_ALWAYS);
	CHECK_INT(c.fold.inspection, FOLD_INSPECTION_FAIL);
	CHECK(c.fold.statements[fail].compromised);
	CHECK(!c.fold.statements[fail].ignored);
	chain_reset(&c);
}

int
main(void)
{
	test_close_targets();
	test_correction_targets();
	test_inspections();
	test_customs_and_summary();
	test_serials();
	test_round1_close();
	test_signer_not_enrolled();
	test_pending();
	test_compromised();
	CHECK_DONE();
}
