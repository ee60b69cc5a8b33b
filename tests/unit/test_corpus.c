/*
 * test_corpus.c - the shared corpus of fixture bundles (SPEC 8 "One fold"):
 * bundles that the C verifier (bundle_verify() and its fold) and the
 * browser verifier (web/verify.js) must judge alike.  Good chains, one
 * chain per attack of issue 17 and a few failures of the plain checks,
 * each built here from fixed seeds, so byte for byte the same on every
 * run: keys enrolled by the root, events
 * signed with libtrace, the log tree built in memory with real inclusion
 * proofs and a signed checkpoint.
 *
 *   test_corpus
 *       verify every fixture and assert what its attack must come to
 *       (e.g. "the recall stays open"): the unit tier
 *   test_corpus --write DIR
 *       the same, then write DIR/<name>.json (the bundle) and
 *       DIR/manifest.json: the root public key, the log's vkey and per
 *       fixture its file, the serials to ask about and the canonical
 *       summary of the C verdict, which tests/browser compares byte for
 *       byte with what verify.js computes from the same bundle
 *
 * A fixture may end with pending statements (SPEC 9): its bundle then has
 * the witnessed checkpoint and a "pending" member (docs/PROTOCOL.md 10.1).
 *
 * The summary (one line of JSON, keys in this order; web/verify.js's
 * TraceVerify.summary() writes the same): "ok", "failures" (sorted
 * "<subject> <position> <code>"), "folded", "recalls" ({"id", "open",
 * "closedBy", "round1"}), "inspection", "customs", "lot" and "serials"
 * (fold_serial_status(): recall, other, closed as recall ids; for each
 * serial also "issued", fold_serial_issued() without proofs), "withdrawn"
 * ({"id", "by"}), "ignored", "problems" ({"id", "problem"}), "round1",
 * "compromised" (statements signed with a key reported compromised).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "libtrace/buf.h"
#include "libtrace/bundle.h"
#include "libtrace/encoding.h"
#include "libtrace/fileio.h"
#include "libtrace/keys.h"
#include "libtrace/timefmt.h"
#include "libtrace/units.h"

#define GTIN "08801234567893"
#define LOT "L2311A"
#define CHAIN "01/" GTIN "/10/" LOT
#define ORIGIN "trace.test/log"
#define EVENT_TIME "2026-11-20T08:30:00+09:00"
#define KEY_TIME 1795000000LL
#define EVENT_SECONDS 1795131000LL      /* EVENT_TIME in unix seconds */
#define DAY 86400LL
#define ENTRIES_MAX 96
#define ID_LEN (2 * SHA256_LEN + 1)

struct actor {
	const char *org;                /* name; the free-text org in round 1 */
	enum key_role role;
	const char *prefix;             /* NULL: any GTIN */
	long long not_after;            /* 0: no window */
	char keyid[KEYID_LEN + 1];
	unsigned char public_key[ED25519_PUBLIC_LEN];
	unsigned char secret[ED25519_SECRET_LEN];
	const char *org_id;             /* its registered org (SPEC 8) */
};

/* Fixed seeds: byte k of every secret is the actor's seed. */
static struct actor root = { "trust anchor", ROLE_ADMIN, NULL, 0, "", {0}, {0}, NULL },
    brand = { "Amorepacific", ROLE_BRAND, "880", 0, "", {0}, {0}, "amorepacific" },
    inspector = { "CCIC Korea", ROLE_INSPECTOR, NULL, 0, "", {0}, {0}, "ccic-korea" },
    lab2 = { "Other Lab", ROLE_INSPECTOR, NULL, 0, "", {0}, {0}, "other-lab" },
    importer = { "Haiyue Trading", ROLE_IMPORTER, "880", 0, "", {0}, {0}, "haiyue" },
    regulator = { "SAMR", ROLE_REGULATOR, NULL, 0, "", {0}, {0}, "samr" },
    customs = { "Incheon Customs", ROLE_CUSTOMS, NULL, 0, "", {0}, {0}, "incheon-customs" },
    customs_far = { "Busan Customs", ROLE_CUSTOMS, "999", 0, "", {0}, {0}, "busan-customs" },
    /* Its window ended on 2026-05-28, before the events' time. */
    inspector_old = { "Old Lab", ROLE_INSPECTOR, NULL, 1780000000LL, "",
	{0}, {0}, "old-lab" },
    logistics = { "Sea Lines", ROLE_LOGISTICS, NULL, 0, "", {0}, {0}, "sea-lines" };

static struct actor *const actors[] = { &root, &brand, &inspector, &lab2,
    &importer, &regulator, &customs, &customs_far, &inspector_old,
    &logistics };

/* Not enrolled by base_log(): a fixture enrolls them, or not. */
static struct actor late = { "Late Lab", ROLE_INSPECTOR, NULL, 0, "", {0}, {0}, "late-lab" },
    stranger = { "Nobody", ROLE_INSPECTOR, NULL, 0, "", {0}, {0}, "nobody" };
/* For the org attacks: an admin of the brand's org, a key of an org
 * without GTIN prefixes, a key naming an org nobody registered. */
static struct actor org_admin = { "Amorepacific", ROLE_ADMIN, "880", 0, "",
	{0}, {0}, "amorepacific" },
    unprefixed = { "Free Trading", ROLE_IMPORTER, NULL, 0, "", {0}, {0},
	"free-trading" },
    org_admin2 = { "Amorepacific", ROLE_ADMIN, "880", 0, "", {0}, {0},
	"amorepacific" },
    unregistered = { "Ghost", ROLE_INSPECTOR, NULL, 0, "", {0}, {0},
	"ghost" },
    /* SPEC 8 "Revocation and compromise": the importer's admin, and a
     * key that an attacker with its stolen key enrolls. */
    importer_admin = { "Haiyue Trading", ROLE_ADMIN, "880", 0, "", {0},
	{0}, "haiyue" },
    mole = { "Haiyue Trading", ROLE_IMPORTER, "880", 0, "", {0}, {0},
	"haiyue" },
    /* SPEC 8 "Receipt time": a brand key whose window ends an hour after
     * the events' time (no org entry of its own: the brand's org). */
    brand_ending = { "Amorepacific", ROLE_BRAND, "880", EVENT_SECONDS +
	3600, "", {0}, {0}, "amorepacific" };
static struct actor *const others[] = { &late, &stranger, &org_admin,
    &org_admin2, &unprefixed, &unregistered, &importer_admin, &mole,
    &brand_ending };

struct item {
	bool is_key;
	bool is_receipt;                /* an index statement: "receipts" */
	char *envelope;
	long long seq;                  /* events */
	unsigned char proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	size_t proof_count;
};

struct tlog {
	struct item items[ENTRIES_MAX];
	size_t count;
	unsigned char prev[SHA256_LEN];
	long long seq;
	char *checkpoint;
	/* SPEC 9: 0, or the size of the witnessed checkpoint; the items
	 * after it are pending, proven against pending_checkpoint. */
	size_t witnessed;
	char *pending_checkpoint;
	unsigned char consistency[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	size_t consistency_count;
};

static struct note_signer log_signer;
/* base_log() writes a round-1 key registry (no org entries). */
static bool round1_keys;
static struct note_verifier log_verifier;

static void
tlog_reset(struct tlog *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i].envelope);
	free(l->checkpoint);
	free(l->pending_checkpoint);
	memset(l, 0, sizeof(*l));
}

static void
add_envelope(struct tlog *l, bool is_key, long long seq,
    const struct dsse_envelope *env)
{
	struct item *it = &l->items[l->count++];
	size_t len;

	CHECK(l->count <= ENTRIES_MAX);
	memset(it, 0, sizeof(*it));
	it->is_key = is_key;
	it->seq = seq;
	it->envelope = dsse_envelope_to_text(env, &len);
}

/* SPEC 8: when not 0, the compromisedAt of the revokes add_key() signs. */
static long long compromised_at;

static void
add_key(struct tlog *l, const struct actor *by, const struct actor *who,
    enum key_op op)
{
	struct key_entry e;
	struct dsse_envelope env;
	char *payload;
	size_t len;

	memset(&e, 0, sizeof(e));
	e.op = op;
	memcpy(e.keyid, who->keyid, sizeof(e.keyid));
	memcpy(e.signer, by->keyid, sizeof(e.signer));
	e.time = KEY_TIME;
	if (op == KEY_OP_ENROLL) {
		memcpy(e.public_key, who->public_key, ED25519_PUBLIC_LEN);
		snprintf(e.name, sizeof(e.name), "%s key", who->org);
		snprintf(e.org, sizeof(e.org), "%s", round1_keys ? who->org :
		    who->org_id);
		e.role = who->role;
		if (who->prefix != NULL) {
			e.prefix_count = 1;
			snprintf(e.prefixes[0], sizeof(e.prefixes[0]), "%s",
			    who->prefix);
		}
		if (who->not_after != 0) {
			e.has_not_before = e.has_not_after = true;
			e.not_before = 1700000000LL;
			e.not_after = who->not_after;
		}
	} else {
		snprintf(e.reason, sizeof(e.reason), "laptop stolen");
		e.has_compromised_at = compromised_at != 0;
		e.compromised_at = compromised_at;
	}
	payload = key_entry_build(&e, &len);
	CHECK(payload != NULL);
	CHECK(dsse_sign(TYPE_KEY, (unsigned char *)payload, len, by->secret,
	    by->keyid, &env, NULL) == TRACE_OK);
	add_envelope(l, true, -1, &env);
	dsse_envelope_clear(&env);
	free(payload);
}

/* The root registers the org of who: every role its actors have, the
 * prefix of the first of them (SPEC 8 "Organisations"). */
static void
add_org(struct tlog *l, const struct actor *by, const struct actor *who)
{
	struct key_entry e;
	struct dsse_envelope env;
	char *payload;
	size_t len;

	memset(&e, 0, sizeof(e));
	e.op = KEY_OP_ORG;
	memcpy(e.signer, by->keyid, sizeof(e.signer));
	e.time = KEY_TIME;
	snprintf(e.org_def.id, sizeof(e.org_def.id), "%s", who->org_id);
	snprintf(e.org_def.name_zh, sizeof(e.org_def.name_zh), "%s", who->org);
	snprintf(e.org_def.name_en, sizeof(e.org_def.name_en), "%s", who->org);
	for (size_t k = 0; k < sizeof(actors) / sizeof(actors[0]); k++)
		if (actors[k]->org_id != NULL &&
		    strcmp(actors[k]->org_id, who->org_id) == 0)
			e.org_def.roles |= 1u << actors[k]->role;
	for (size_t k = 0; k < sizeof(others) / sizeof(others[0]); k++)
		if (strcmp(others[k]->org_id, who->org_id) == 0)
			e.org_def.roles |= 1u << others[k]->role;
	if (who->prefix != NULL) {
		e.org_def.prefix_count = 1;
		snprintf(e.org_def.prefixes[0], sizeof(e.org_def.prefixes[0]),
		    "%s", who->prefix);
	}
	payload = key_entry_build(&e, &len);
	CHECK(payload != NULL);
	CHECK(dsse_sign(TYPE_KEY, (unsigned char *)payload, len, by->secret,
	    by->keyid, &env, NULL) == TRACE_OK);
	add_envelope(l, true, -1, &env);
	dsse_envelope_clear(&env);
	free(payload);
}

/*
 * SPEC 8 "Receipt time": the integrator's index statement as the next leaf,
 * signed with the log key, at unix time t; a bundle carries it in
 * "receipts" (docs/PROTOCOL.md 10.1).  Its root is not checked there.
 */
/* SPEC 8 "Data from round 1": when >= 0, the "first" of the index
 * statements add_receipt_limits() signs. */
static long long receipt_first = -1;

static void
add_receipt_limits(struct tlog *l, long long t, const unsigned char *secret,
    long long max_age, long long grace)
{
	char text[352], limits[64] = "", first[32] = "", when[21],
	    kid[KEYID_LEN + 1];
	struct dsse_envelope env;

	time_format_utc(t, when);
	if (receipt_first >= 0)
		snprintf(first, sizeof(first), ",\"first\":%lld", receipt_first);
	/* SPEC 8: the limits the log says it enforced at ingest. */
	if (max_age >= 0)
		snprintf(limits, sizeof(limits), ",\"maxAge\":%lld,\"grace\":"
		    "%lld", max_age, grace);
	snprintf(text, sizeof(text), "{\"v\":1,\"type\":\"index\",\"time\":"
	    "\"%s\",\"size\":%zu,\"root\":\"%064d\",\"entries\":0%s%s}", when,
	    l->count, 0, first, limits);
	key_id(log_signer.public_key, kid);
	CHECK(dsse_sign("application/vnd.trace.index.v1+json",
	    (const unsigned char *)text, strlen(text), secret, kid, &env,
	    NULL) == TRACE_OK);
	add_envelope(l, false, -1, &env);
	l->items[l->count - 1].is_receipt = true;
	dsse_envelope_clear(&env);
}

static void
add_receipt_by(struct tlog *l, long long t, const unsigned char *secret)
{
	add_receipt_limits(l, t, secret, -1, -1);
}

static void
add_receipt(struct tlog *l, long long t)
{
	add_receipt_by(l, t, log_signer.secret);
}

/* Sign the next event of the chain (type, data JSON) by by; its id in id.
 * Not validated: what a log may hold is up to the verifiers. */
static void
sign_event(struct tlog *l, const struct actor *by, const char *type,
    const char *data, char id[ID_LEN], struct dsse_envelope *env)
{
	char text[2048], prev[ID_LEN + 2];

	if (l->seq == 0) {
		snprintf(prev, sizeof(prev), "null");
	} else {
		prev[0] = '"';
		hex_encode(l->prev, SHA256_LEN, prev + 1);
		snprintf(prev + 1 + 2 * SHA256_LEN, 2, "\"");
	}
	snprintf(text, sizeof(text), "{\"v\":1,\"type\":\"%s\",\"chain\":"
	    "{\"gtin\":\"" GTIN "\",\"lot\":\"" LOT "\"},\"seq\":%lld,"
	    "\"prev\":%s,\"time\":\"" EVENT_TIME "\",\"signer\":\"%s\","
	    "\"data\":%s}", type, l->seq, prev, by->keyid, data);
	CHECK(dsse_sign(TYPE_EVENT, (const unsigned char *)text, strlen(text),
	    by->secret, by->keyid, env, NULL) == TRACE_OK);
	memcpy(l->prev, env->id, SHA256_LEN);
	hex_encode(env->id, SHA256_LEN, id);
	l->seq++;
}

static void
add_event(struct tlog *l, const struct actor *by, const char *type,
    const char *data, char id[ID_LEN])
{
	struct dsse_envelope env;
	char ignored[ID_LEN];

	sign_event(l, by, type, data, id != NULL ? id : ignored, &env);
	add_envelope(l, false, l->seq - 1, &env);
	dsse_envelope_clear(&env);
}

/* Every org registered (but the one nobody registered) and every actor
 * enrolled into its org by the root, then the brand registers the lot.
 * With round1_keys, as a round-1 log: no org entries, free-text orgs. */
static void
base_keys(struct tlog *l)
{
	tlog_reset(l);
	for (size_t k = 1; k < sizeof(actors) / sizeof(actors[0]) &&
	    !round1_keys; k++)
		if (strcmp(actors[k]->org_id, "amorepacific") != 0 ||
		    actors[k] == &brand)
			add_org(l, &root, actors[k]);
	for (size_t k = 0; k < sizeof(others) / sizeof(others[0]) &&
	    !round1_keys; k++)
		if (strcmp(others[k]->org_id, "amorepacific") != 0 &&
		    others[k] != &unregistered)
			add_org(l, &root, others[k]);
	for (size_t k = 1; k < sizeof(actors) / sizeof(actors[0]); k++)
		add_key(l, &root, actors[k], KEY_OP_ENROLL);
}

static void
base_log(struct tlog *l)
{
	base_keys(l);
	add_event(l, &brand, "product.registered", "{\"name\":{\"en\":"
	    "\"Emulsion\"},\"brand\":\"Sulwhasoo\",\"origin\":\"KR\"}", NULL);
}

static void
tlog_seal(struct tlog *l)
{
	unsigned char leaves[ENTRIES_MAX][MERKLE_HASH_LEN];
	struct checkpoint cp;
	size_t len;

	for (size_t i = 0; i < l->count; i++) {
		struct dsse_envelope env;
		unsigned char *pae;
		size_t pae_len;

		CHECK(dsse_envelope_parse_stored(l->items[i].envelope,
		    strlen(l->items[i].envelope), &env, NULL) == TRACE_OK);
		pae = dsse_pae(env.type, env.payload, env.payload_len, &pae_len);
		merkle_leaf_hash(pae, pae_len, leaves[i]);
		free(pae);
		dsse_envelope_clear(&env);
	}
	/* With pending items: the covered ones against the witnessed size. */
	for (size_t i = 0; i < l->count; i++)
		CHECK(merkle_prove_inclusion(&leaves[0][0], i < l->witnessed ?
		    l->witnessed : l->count, i, l->items[i].proof,
		    &l->items[i].proof_count, NULL) == TRACE_OK);
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", ORIGIN);
	cp.size = l->count;
	merkle_root(&leaves[0][0], l->count, cp.root);
	free(l->checkpoint);
	free(l->pending_checkpoint);
	l->pending_checkpoint = NULL;
	CHECK(checkpoint_sign(&cp, &log_signer, &l->checkpoint, &len, NULL) ==
	    TRACE_OK);
	if (l->witnessed > 0 && l->witnessed < l->count) {
		l->pending_checkpoint = l->checkpoint;
		cp.size = l->witnessed;
		merkle_root(&leaves[0][0], l->witnessed, cp.root);
		CHECK(checkpoint_sign(&cp, &log_signer, &l->checkpoint, &len,
		    NULL) == TRACE_OK);
		CHECK(merkle_prove_consistency(&leaves[0][0], l->witnessed,
		    l->count, l->consistency, &l->consistency_count, NULL) ==
		    TRACE_OK);
	}
}

static void
render_item(struct buf *b, const struct item *it, size_t index)
{
	char h[64];

	buf_printf(b, "{\"envelope\":%s,\"logIndex\":%zu,\"proof\":[",
	    it->envelope, index);
	for (size_t j = 0; j < it->proof_count; j++) {
		base64_encode(it->proof[j], MERKLE_HASH_LEN, h);
		buf_printf(b, "%s\"%s\"", j ? "," : "", h);
	}
	buf_puts(b, "]}");
}

/* "events":[...],"keys":[...] of the items in [from, to). */
static void
render_lists(struct buf *b, const struct tlog *l, size_t from, size_t to)
{
	bool first = true;

	buf_puts(b, "\"events\":[");
	for (long long seq = 0; seq < l->seq; seq++)
		for (size_t i = from; i < to; i++) {
			if (l->items[i].is_key || l->items[i].seq != seq)
				continue;
			buf_puts(b, first ? "" : ",");
			first = false;
			render_item(b, &l->items[i], i);
		}
	buf_puts(b, "],\"keys\":[");
	first = true;
	for (size_t i = from; i < to; i++) {
		if (!l->items[i].is_key)
			continue;
		buf_puts(b, first ? "" : ",");
		first = false;
		render_item(b, &l->items[i], i);
	}
	buf_puts(b, "]");
}

/* The bundle as the server serves it: events in seq order; with a
 * pending checkpoint, the pending member (docs/PROTOCOL.md 10.1). */
static char *
render(const struct tlog *l)
{
	size_t covered = l->pending_checkpoint != NULL ? l->witnessed :
	    l->count, receipts = 0;
	char h[64];
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "{\"chain\":\"" CHAIN "\",\"checkpoint\":");
	buf_json_string(&b, l->checkpoint, strlen(l->checkpoint));
	buf_puts(&b, ",");
	render_lists(&b, l, 0, covered);
	/* SPEC 8: the index statements a verifier needs for receipt times. */
	for (size_t i = 0, n = 0; i < covered; i++) {
		if (!l->items[i].is_receipt)
			continue;
		buf_puts(&b, n++ == 0 ? ",\"receipts\":[" : ",");
		render_item(&b, &l->items[i], i);
		receipts = n;
	}
	if (receipts > 0)
		buf_puts(&b, "]");
	if (l->pending_checkpoint != NULL) {
		buf_puts(&b, ",\"pending\":{\"checkpoint\":");
		buf_json_string(&b, l->pending_checkpoint,
		    strlen(l->pending_checkpoint));
		buf_puts(&b, ",\"consistency\":[");
		for (size_t j = 0; j < l->consistency_count; j++) {
			base64_encode(l->consistency[j], MERKLE_HASH_LEN, h);
			buf_printf(&b, "%s\"%s\"", j ? "," : "", h);
		}
		buf_puts(&b, "],");
		render_lists(&b, l, covered, l->count);
		buf_puts(&b, "}");
	}
	buf_puts(&b, "}");
	return buf_steal(&b, NULL);
}

/* ---- the canonical summary ------------------------------------------- */

static const char *
problem_name(enum fold_problem p)
{
	switch (p) {
	case FOLD_PROBLEM_NO_TARGET: return "no_target";
	case FOLD_PROBLEM_UNKNOWN_TARGET: return "unknown_target";
	case FOLD_PROBLEM_TARGET_KIND: return "target_kind";
	case FOLD_PROBLEM_ALREADY_CLOSED: return "already_closed";
	case FOLD_PROBLEM_REGULATOR_ONLY: return "regulator_only";
	case FOLD_PROBLEM_WRONG_ORG: return "wrong_org";
	case FOLD_PROBLEM_NOT_OWN: return "not_own";
	case FOLD_PROBLEM_NOT_ISSUED: return "not_issued";
	default: return "none";
	}
}

static const char *subject_words[] = { "bundle", "checkpoint", "key",
    "event", "index", "pending" };

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A statement id, or null. */
static void
ref(struct buf *b, const struct fold_result *f, size_t statement)
{
	if (statement == FOLD_NONE)
		buf_puts(b, "null");
	else
		buf_printf(b, "\"%s\"", f->statements[statement].id);
}

static void
recall_ref(struct buf *b, const struct fold_result *f, size_t recall)
{
	ref(b, f, recall == FOLD_NONE ? FOLD_NONE : f->recalls[recall].statement);
}

static void
serial_status(struct buf *b, const struct fold_result *f, const char *serial)
{
	struct fold_serial_status s;

	fold_serial_status(f, serial, &s);
	buf_puts(b, "\"recall\":");
	recall_ref(b, f, s.recall);
	buf_puts(b, ",\"other\":");
	recall_ref(b, f, s.other);
	buf_puts(b, ",\"closed\":");
	recall_ref(b, f, s.closed);
}

/* The summary of a report (malloc'd; the caller frees). */
static char *
summary(const struct bundle_report *r, const char *const *serials)
{
	const struct fold_result *f = &r->fold;
	char **lines = calloc(r->failure_count + 1, sizeof(*lines));
	struct buf b;
	bool first;

	buf_init(&b, 0);
	buf_printf(&b, "{\"ok\":%s,\"failures\":[", r->failure_count == 0 ?
	    "true" : "false");
	for (size_t i = 0; i < r->failure_count; i++) {
		const struct bundle_failure *x = &r->failures[i];
		char line[128];

		snprintf(line, sizeof(line), "%s %zu %s",
		    subject_words[x->subject], x->position, x->code);
		lines[i] = strdup(line);
	}
	qsort(lines, r->failure_count, sizeof(*lines), compare_strings);
	for (size_t i = 0; i < r->failure_count; i++) {
		buf_printf(&b, "%s\"%s\"", i ? "," : "", lines[i]);
		free(lines[i]);
	}
	free(lines);
	buf_printf(&b, "],\"folded\":%zu,\"recalls\":[", f->count);
	for (size_t k = 0; k < f->recall_count; k++) {
		buf_printf(&b, "%s{\"id\":\"%s\",\"open\":%s,\"closedBy\":",
		    k ? "," : "", f->recalls[k].id, f->recalls[k].open ?
		    "true" : "false");
		ref(&b, f, f->recalls[k].closed_by);
		buf_printf(&b, ",\"round1\":%s}", f->recalls[k].closed_round1 ?
		    "true" : "false");
	}
	buf_printf(&b, "],\"inspection\":\"%s\",\"customs\":\"%s\",\"lot\":{",
	    fold_inspection_name(f->inspection), fold_customs_name(f->customs));
	serial_status(&b, f, NULL);
	buf_puts(&b, "},\"serials\":[");
	for (size_t k = 0; serials[k] != NULL; k++) {
		buf_printf(&b, "%s{\"serial\":\"%s\",", k ? "," : "", serials[k]);
		serial_status(&b, f, serials[k]);
		/* SPEC 12: a bundle carries no serial set, so a root set
		 * answers null. */
		buf_printf(&b, ",\"issued\":%s}", fold_issued_json(
		    fold_serial_issued(f, serials[k], NULL, 0)));
	}
	buf_puts(&b, "],\"withdrawn\":[");
	first = true;
	for (size_t i = 0; i < f->count; i++) {
		if (f->statements[i].withdrawn_by == FOLD_NONE)
			continue;
		buf_printf(&b, "%s{\"id\":\"%s\",\"by\":", first ? "" : ",",
		    f->statements[i].id);
		ref(&b, f, f->statements[i].withdrawn_by);
		buf_puts(&b, "}");
		first = false;
	}
	buf_puts(&b, "],\"ignored\":[");
	first = true;
	for (size_t i = 0; i < f->count; i++) {
		if (!f->statements[i].ignored)
			continue;
		buf_printf(&b, "%s\"%s\"", first ? "" : ",", f->statements[i].id);
		first = false;
	}
	buf_puts(&b, "],\"problems\":[");
	first = true;
	for (size_t i = 0; i < f->count; i++) {
		if (f->statements[i].problem == FOLD_PROBLEM_NONE)
			continue;
		buf_printf(&b, "%s{\"id\":\"%s\",\"problem\":\"%s\"}",
		    first ? "" : ",", f->statements[i].id,
		    problem_name(f->statements[i].problem));
		first = false;
	}
	buf_puts(&b, "],\"round1\":[");
	first = true;
	for (size_t i = 0; i < f->count; i++) {
		if (!f->statements[i].round1)
			continue;
		buf_printf(&b, "%s\"%s\"", first ? "" : ",", f->statements[i].id);
		first = false;
	}
	buf_puts(&b, "],\"compromised\":[");
	first = true;
	for (size_t i = 0; i < f->count; i++) {
		if (!f->statements[i].compromised)
			continue;
		buf_printf(&b, "%s\"%s\"", first ? "" : ",", f->statements[i].id);
		first = false;
	}
	buf_puts(&b, "]}");
	return buf_steal(&b, NULL);
}

/* ---- the fixtures ---------------------------------------------------- */

/* What a fixture's chain comes to, for its assertions. */
struct outcome {
	struct bundle_report r;
	char ids[ENTRIES_MAX][ID_LEN];  /* by the names its builder gives */
};

struct fixture {
	const char *name;
	const char *about;
	void (*build)(struct tlog *l, struct outcome *o);
	void (*expect)(const struct outcome *o);
	const char *serials[6];
};

static bool
failed_with(const struct bundle_report *r, size_t event, const char *code)
{
	for (size_t i = 0; i < r->failure_count; i++)
		if (r->failures[i].subject == BUNDLE_SUBJECT_EVENT &&
		    r->failures[i].position == event &&
		    strcmp(r->failures[i].code, code) == 0)
			return true;
	return false;
}

static bool
key_failed_with(const struct bundle_report *r, const char *code)
{
	for (size_t i = 0; i < r->failure_count; i++)
		if (r->failures[i].subject == BUNDLE_SUBJECT_KEY &&
		    strcmp(r->failures[i].code, code) == 0)
			return true;
	return false;
}

static const struct fold_statement_state *
folded(const struct outcome *o, const char *id)
{
	for (size_t i = 0; i < o->r.fold.count; i++)
		if (strcmp(o->r.fold.statements[i].id, id) == 0)
			return &o->r.fold.statements[i];
	return NULL;
}

static void
recall_data(char *out, size_t size, const char *serials)
{
	snprintf(out, size, "{\"reason\":\"Microbial contamination\","
	    "\"severity\":1,\"action\":\"Stop using it\"%s%s}",
	    serials != NULL ? ",\"serials\":" : "", serials != NULL ?
	    serials : "");
}

static void
close_data(char *out, size_t size, const char *recall)
{
	snprintf(out, size, "{\"recall\":\"%s\",\"outcome\":\"destroyed\"}",
	    recall);
}

/* Good: inspections (a fail its own signer withdrew, then a pass), customs
 * declared and released, a unit recall still open, a whole-lot recall
 * closed by its issuer's org. */
static void
build_good(struct tlog *l, struct outcome *o)
{
	char data[512];

	base_log(l);
	add_event(l, &inspector, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"fail\"}", o->ids[0]);
	snprintf(data, sizeof(data), "{\"corrects\":\"%s\",\"reason\":"
	    "\"wrong lot sampled\"}", o->ids[0]);
	add_event(l, &inspector, "correction", data, o->ids[1]);
	add_event(l, &inspector, "inspection.completed", "{\"certificate\":"
	    "\"C2\",\"result\":\"pass\"}", NULL);
	add_event(l, &importer, "customs.declared", "{\"declaration\":\"D1\","
	    "\"mode\":\"1210\"}", NULL);
	add_event(l, &customs, "customs.released", "{\"declaration\":\"D1\"}",
	    NULL);
	recall_data(data, sizeof(data), NULL);
	add_event(l, &importer, "recall.issued", data, o->ids[2]);
	close_data(data, sizeof(data), o->ids[2]);
	add_event(l, &importer, "recall.closed", data, o->ids[3]);
	recall_data(data, sizeof(data), "[[\"000001\",\"000010\"]]");
	add_event(l, &regulator, "recall.issued", data, o->ids[4]);
}

static void
expect_good(const struct outcome *o)
{
	const struct fold_result *f = &o->r.fold;
	struct fold_serial_status s;

	CHECK_INT(o->r.failure_count, 0);
	CHECK_INT(f->inspection, FOLD_INSPECTION_PASS);
	CHECK_INT(f->customs, FOLD_CUSTOMS_RELEASED);
	CHECK(folded(o, o->ids[0]) != NULL &&
	    folded(o, o->ids[0])->withdrawn_by != FOLD_NONE);
	CHECK_INT(f->recall_count, 2);
	CHECK(!f->recalls[0].open && f->recalls[1].open);
	fold_serial_status(f, "000005", &s);
	CHECK_INT(s.recall, 1);
	fold_serial_status(f, "000042", &s);
	CHECK(s.recall == FOLD_NONE && s.other == 1);
}

/* Attack: an importer closes a regulator's recall.  It stays open. */
static void
build_importer_closes(struct tlog *l, struct outcome *o)
{
	char data[512];

	base_log(l);
	recall_data(data, sizeof(data), NULL);
	add_event(l, &regulator, "recall.issued", data, o->ids[0]);
	close_data(data, sizeof(data), o->ids[0]);
	add_event(l, &importer, "recall.closed", data, o->ids[1]);
}

static void
expect_importer_closes(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 2, "regulator_only"));
	CHECK_INT(o->r.fold.open_recalls, 1);
	CHECK(folded(o, o->ids[1]) != NULL && folded(o, o->ids[1])->ignored);
}

/* Attack: a correction naming a recall.issued.  The recall stays open. */
static void
build_correct_recall(struct tlog *l, struct outcome *o)
{
	char data[512];

	base_log(l);
	recall_data(data, sizeof(data), NULL);
	add_event(l, &importer, "recall.issued", data, o->ids[0]);
	snprintf(data, sizeof(data), "{\"corrects\":\"%s\",\"reason\":"
	    "\"issued by mistake\"}", o->ids[0]);
	add_event(l, &importer, "correction", data, o->ids[1]);
}

static void
expect_correct_recall(const struct outcome *o)
{
	/* bundle_verify judges every statement by the round-1 rule too (no
	 * index statements yet): such a correction changes nothing. */
	CHECK_INT(o->r.fold.open_recalls, 1);
	CHECK(folded(o, o->ids[1]) != NULL && folded(o, o->ids[1])->ignored);
	CHECK(folded(o, o->ids[0]) != NULL &&
	    folded(o, o->ids[0])->withdrawn_by == FOLD_NONE);
}

/* Attack: a second inspector's pass after a fail.  The lot stays failed. */
static void
build_second_pass(struct tlog *l, struct outcome *o)
{
	base_log(l);
	add_event(l, &inspector, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"fail\"}", o->ids[0]);
	add_event(l, &lab2, "inspection.completed", "{\"certificate\":"
	    "\"C2\",\"result\":\"pass\"}", o->ids[1]);
}

static void
expect_second_pass(const struct outcome *o)
{
	CHECK_INT(o->r.failure_count, 0);
	CHECK_INT(o->r.fold.inspection, FOLD_INSPECTION_FAIL);
	CHECK_INT(o->r.fold.inspection_count, 2);
}

/* Attack: a recall whose serial ranges match no unit of the lot.  It is
 * open, but recalls no unit asked about and not the lot as a whole. */
static void
build_ranges_miss(struct tlog *l, struct outcome *o)
{
	char data[512];

	base_log(l);
	recall_data(data, sizeof(data), "[[\"900000\",\"900010\"]]");
	add_event(l, &importer, "recall.issued", data, o->ids[0]);
}

static void
expect_ranges_miss(const struct outcome *o)
{
	struct fold_serial_status s;

	CHECK_INT(o->r.fold.open_recalls, 1);
	fold_serial_status(&o->r.fold, "000001", &s);
	CHECK(s.recall == FOLD_NONE && s.other == 0);
	fold_serial_status(&o->r.fold, NULL, &s);
	CHECK(s.recall == FOLD_NONE && s.other == 0);
}

/* Attack: a revoked key's statement after its revocation.  It is not
 * folded: the fail stands. */
static void
build_revoked(struct tlog *l, struct outcome *o)
{
	base_log(l);
	add_event(l, &inspector, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"fail\"}", o->ids[0]);
	add_key(l, &root, &lab2, KEY_OP_REVOKE);
	add_event(l, &lab2, "inspection.completed", "{\"certificate\":"
	    "\"C2\",\"result\":\"pass\"}", o->ids[1]);
}

static void
expect_revoked(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 2, "key_revoked"));
	CHECK(folded(o, o->ids[1]) == NULL);
	CHECK_INT(o->r.fold.inspection, FOLD_INSPECTION_FAIL);
}

/* Attack: an inspector signs a customs release (role not allowed). */
static void
build_role(struct tlog *l, struct outcome *o)
{
	base_log(l);
	add_event(l, &importer, "customs.declared", "{\"declaration\":\"D1\","
	    "\"mode\":\"1210\"}", o->ids[0]);
	add_event(l, &inspector, "customs.released", "{\"declaration\":"
	    "\"D1\"}", o->ids[1]);
}

static void
expect_role(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 2, "role_not_allowed"));
	CHECK_INT(o->r.fold.customs, FOLD_CUSTOMS_DECLARED);
}

/* Attack: a customs key for prefix 999 releases a GTIN under 880. */
static void
build_gtin(struct tlog *l, struct outcome *o)
{
	base_log(l);
	add_event(l, &importer, "customs.declared", "{\"declaration\":\"D1\","
	    "\"mode\":\"1210\"}", o->ids[0]);
	add_event(l, &customs_far, "customs.released", "{\"declaration\":"
	    "\"D1\"}", o->ids[1]);
}

static void
expect_gtin(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 2, "gtin_not_covered"));
	CHECK_INT(o->r.fold.customs, FOLD_CUSTOMS_DECLARED);
}

/* Attack: a pass signed after the key's window ended. */
static void
build_window(struct tlog *l, struct outcome *o)
{
	base_log(l);
	add_event(l, &inspector_old, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"pass\"}", o->ids[0]);
}

static void
expect_window(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 1, "outside_window"));
	CHECK_INT(o->r.fold.inspection, FOLD_INSPECTION_NONE);
}

/* Attack: statements out of log order (seq 2 logged before seq 1). */
static void
build_log_order(struct tlog *l, struct outcome *o)
{
	struct dsse_envelope one, two;

	base_log(l);
	sign_event(l, &inspector, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"fail\"}", o->ids[0], &one);
	sign_event(l, &inspector, "inspection.completed", "{\"certificate\":"
	    "\"C2\",\"result\":\"pass\"}", o->ids[1], &two);
	add_envelope(l, false, 2, &two);
	add_envelope(l, false, 1, &one);
	dsse_envelope_clear(&one);
	dsse_envelope_clear(&two);
}

static void
expect_log_order(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 2, "log_order"));
	CHECK(folded(o, o->ids[1]) == NULL);
	CHECK_INT(o->r.fold.inspection, FOLD_INSPECTION_FAIL);
}

/* Attack: a correction by another signer withdraws an inspector's fail. */
static void
build_other_corrects(struct tlog *l, struct outcome *o)
{
	char data[256];

	base_log(l);
	add_event(l, &inspector, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"fail\"}", o->ids[0]);
	snprintf(data, sizeof(data), "{\"corrects\":\"%s\",\"reason\":"
	    "\"not valid\"}", o->ids[0]);
	add_event(l, &lab2, "correction", data, o->ids[1]);
}

static void
expect_other_corrects(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 2, "bad_correction"));
	CHECK_INT(o->r.fold.inspection, FOLD_INSPECTION_FAIL);
	CHECK(folded(o, o->ids[0])->withdrawn_by == FOLD_NONE);
}

/* Attack: a recall closed twice (the second close changes nothing). */
static void
build_closed_twice(struct tlog *l, struct outcome *o)
{
	char data[512];

	base_log(l);
	recall_data(data, sizeof(data), NULL);
	add_event(l, &importer, "recall.issued", data, o->ids[0]);
	close_data(data, sizeof(data), o->ids[0]);
	add_event(l, &importer, "recall.closed", data, o->ids[1]);
	add_event(l, &regulator, "recall.closed", data, o->ids[2]);
}

static void
expect_closed_twice(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 3, "bad_target"));
	CHECK_INT(o->r.fold.recall_count, 1);
	CHECK_INT(o->r.fold.recalls[0].closed_by, 2);
	CHECK(folded(o, o->ids[2])->problem == FOLD_PROBLEM_ALREADY_CLOSED);
}

/* Good: a round-1 close naming no recall closes every recall open before
 * it (bundle_verify judges by the round-1 rules too); two open recalls
 * after it, the more serious one shown for the serial both cover. */
static void
build_round1(struct tlog *l, struct outcome *o)
{
	char data[512];

	base_log(l);
	recall_data(data, sizeof(data), NULL);
	add_event(l, &importer, "recall.issued", data, o->ids[0]);
	add_event(l, &importer, "recall.closed", "{\"outcome\":\"released\"}",
	    o->ids[1]);
	snprintf(data, sizeof(data), "{\"reason\":\"Label\",\"severity\":3,"
	    "\"action\":\"Check the label\",\"serials\":[[\"000001\","
	    "\"000020\"]]}");
	add_event(l, &importer, "recall.issued", data, o->ids[2]);
	recall_data(data, sizeof(data), "[[\"000010\",\"000030\"],"
	    "[\"A1\",\"A9\"]]");
	add_event(l, &regulator, "recall.issued", data, o->ids[3]);
}

static void
expect_round1(const struct outcome *o)
{
	struct fold_serial_status s;

	CHECK_INT(o->r.failure_count, 0);
	CHECK_INT(o->r.fold.recall_count, 3);
	CHECK(o->r.fold.recalls[0].closed_round1);
	CHECK_INT(o->r.fold.open_recalls, 2);
	fold_serial_status(&o->r.fold, "000015", &s);
	CHECK_INT(s.recall, 2);
	fold_serial_status(&o->r.fold, "000005", &s);
	CHECK(s.recall == 1 && s.other == 2);
}

/*
 * SPEC 8 "Data from round 1": the same round-1-form close (naming no
 * recall) logged before the log's first index statement, where it is
 * round-1 data, and after it, where an operator who can insert statements
 * slipped it in.  The index statement, in "receipts", is what shows where
 * round 2 began.
 */
static void
build_round1_before_index(struct tlog *l, struct outcome *o)
{
	char data[512];

	base_log(l);
	recall_data(data, sizeof(data), NULL);
	add_event(l, &importer, "recall.issued", data, o->ids[0]);
	add_event(l, &importer, "recall.closed", "{\"outcome\":\"released\"}",
	    o->ids[1]);
	add_receipt(l, KEY_TIME + 100);
}

static void
expect_round1_before_index(const struct outcome *o)
{
	CHECK_INT(o->r.failure_count, 0);
	CHECK_INT(o->r.round1_before, (long long)o->r.receipts[0].log_index);
	CHECK_INT(o->r.fold.recall_count, 1);
	CHECK(o->r.fold.recalls[0].closed_round1);
	CHECK_INT(o->r.fold.open_recalls, 0);
	CHECK_INT(o->r.fold.round1, 1);
}

/* The attack: after the first index statement, by today's rules only. */
static void
build_round1_after_index(struct tlog *l, struct outcome *o)
{
	char data[512];

	base_log(l);
	add_receipt(l, KEY_TIME + 100);
	recall_data(data, sizeof(data), NULL);
	add_event(l, &importer, "recall.issued", data, o->ids[0]);
	add_event(l, &importer, "recall.closed", "{\"outcome\":\"released\"}",
	    o->ids[1]);
}

static void
expect_round1_after_index(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 2, "missing_field"));
	CHECK_INT(o->r.failure_count, 1);
	CHECK_INT(o->r.fold.recall_count, 1);
	CHECK(o->r.fold.recalls[0].open);
	CHECK(!o->r.fold.recalls[0].closed_round1);
	CHECK_INT(o->r.fold.open_recalls, 1);
	CHECK_INT(o->r.fold.round1, 0);
}

/*
 * The attack on "first" (docs/PROTOCOL.md 9.10.2): the operator, who holds
 * the log key, drops the log's first index statement F1 from what the
 * server reads (so no bundle carries it) and has a later statement say
 * that round 2 began at the next one, F2, so that a round-1-form close
 * slipped in between would be read by the round-1 rules.  F2 itself,
 * signed before, says first = F1: the lowest bound counts, the close is
 * judged by today's rules, and the false "first" is reported.
 */
static void
build_first_contradicted(struct tlog *l, struct outcome *o)
{
	char data[512];
	long long f1, f2;

	base_log(l);
	add_receipt(l, KEY_TIME + 100);
	f1 = (long long)l->count - 1;
	l->items[f1].is_receipt = false;        /* in the log, not shown */
	recall_data(data, sizeof(data), NULL);
	add_event(l, &importer, "recall.issued", data, o->ids[0]);
	add_event(l, &importer, "recall.closed", "{\"outcome\":\"released\"}",
	    o->ids[1]);
	receipt_first = f1;
	add_receipt(l, KEY_TIME + 200);
	f2 = (long long)l->count - 1;
	add_event(l, &logistics, "shipment.departed", "{\"port\":\"KRINC\"}",
	    o->ids[2]);
	receipt_first = f2;
	add_receipt(l, KEY_TIME + 300);
	receipt_first = -1;
	snprintf(o->ids[3], sizeof(o->ids[3]), "%lld", f1);
}

static void
expect_first_contradicted(const struct outcome *o)
{
	size_t mismatches = 0;

	CHECK_INT(o->r.receipt_count, 2);
	CHECK_INT(o->r.round1_before, atoll(o->ids[3]));
	for (size_t i = 0; i < o->r.failure_count; i++)
		mismatches += o->r.failures[i].subject == BUNDLE_SUBJECT_INDEX &&
		    strcmp(o->r.failures[i].code, "first_mismatch") == 0 &&
		    o->r.failures[i].log_index ==
		    o->r.receipts[1].log_index;
	CHECK_INT(mismatches, 1);
	CHECK(failed_with(&o->r, 2, "missing_field"));
	CHECK_INT(o->r.failure_count, 2);
	CHECK(o->r.fold.recalls[0].open);
	CHECK_INT(o->r.fold.round1, 0);
}

/*
 * SPEC 8 "Receipt time", checked from the receipt (the first index
 * statement after each event) when it says the log's limits: 30 days
 * back, 5 minutes ahead, and the signer's notAfter + 7 days.  An event
 * dated within them; received 31 days after its time; received 10
 * minutes before it; by a key whose window ended 8 days before receipt.
 */
static void
build_receipt_limits(struct tlog *l, long long received,
    const struct actor *by, struct outcome *o)
{
	char data[512];

	base_keys(l);
	if (by != &brand)
		add_key(l, &root, by, KEY_OP_ENROLL);
	/* The log's first index statement: round 2 from here on, so the
	 * events are checked (round-1 data is not). */
	add_receipt_limits(l, EVENT_SECONDS - DAY, log_signer.secret,
	    30 * DAY, 7 * DAY);
	add_event(l, by, "product.registered", "{\"name\":{\"en\":"
	    "\"Emulsion\"},\"brand\":\"Sulwhasoo\",\"origin\":\"KR\"}",
	    o->ids[0]);
	recall_data(data, sizeof(data), NULL);
	add_event(l, &importer, "recall.issued", data, o->ids[1]);
	add_receipt_limits(l, received, log_signer.secret, 30 * DAY, 7 * DAY);
}

static void
build_receipt_ok(struct tlog *l, struct outcome *o)
{
	build_receipt_limits(l, EVENT_SECONDS + 60, &brand, o);
}

static void
expect_receipt_ok(const struct outcome *o)
{
	CHECK_INT(o->r.failure_count, 0);
	CHECK_INT(o->r.receipt_count, 2);
	CHECK_INT(o->r.fold.open_recalls, 1);
}

static void
build_receipt_stale(struct tlog *l, struct outcome *o)
{
	build_receipt_limits(l, EVENT_SECONDS + 31 * DAY, &brand, o);
}

static void
expect_receipt_stale(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 0, "stale_time"));
	CHECK(failed_with(&o->r, 1, "stale_time"));
	CHECK_INT(o->r.failure_count, 2);
}

static void
build_receipt_early(struct tlog *l, struct outcome *o)
{
	build_receipt_limits(l, EVENT_SECONDS - 600, &brand, o);
}

static void
expect_receipt_early(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 0, "stale_time"));
	CHECK(failed_with(&o->r, 1, "stale_time"));
	CHECK_INT(o->r.failure_count, 2);
}

static void
build_receipt_grace(struct tlog *l, struct outcome *o)
{
	build_receipt_limits(l, EVENT_SECONDS + 3600 + 8 * DAY, &brand_ending,
	    o);
}

static void
expect_receipt_grace(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 0, "outside_window"));
	CHECK_INT(o->r.failure_count, 1);
}

/* Good: a regulator withdraws an inspector's fail; the pass decides. */
static void
build_regulator_withdraws(struct tlog *l, struct outcome *o)
{
	char data[256];

	base_log(l);
	add_event(l, &inspector, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"pass\"}", NULL);
	add_event(l, &lab2, "inspection.completed", "{\"certificate\":"
	    "\"C2\",\"result\":\"fail\"}", o->ids[0]);
	snprintf(data, sizeof(data), "{\"corrects\":\"%s\",\"reason\":"
	    "\"forged certificate\"}", o->ids[0]);
	add_event(l, &regulator, "correction", data, o->ids[1]);
}

static void
expect_regulator_withdraws(const struct outcome *o)
{
	CHECK_INT(o->r.failure_count, 0);
	CHECK_INT(o->r.fold.inspection, FOLD_INSPECTION_PASS);
	CHECK(folded(o, o->ids[0])->withdrawn_by != FOLD_NONE);
}

/* A changed signature byte: the statement is not folded. */
static void
build_bad_signature(struct tlog *l, struct outcome *o)
{
	struct dsse_envelope env;
	struct item *it;
	size_t len;

	base_log(l);
	add_event(l, &inspector, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"fail\"}", o->ids[0]);
	add_event(l, &inspector, "inspection.completed", "{\"certificate\":"
	    "\"C2\",\"result\":\"pass\"}", o->ids[1]);
	/* The PAE, so the leaf and the proof, stay the same. */
	it = &l->items[l->count - 2];
	CHECK(dsse_envelope_parse_stored(it->envelope, strlen(it->envelope),
	    &env, NULL) == TRACE_OK);
	env.sigs[0].sig[5] ^= 0x01;
	free(it->envelope);
	it->envelope = dsse_envelope_to_text(&env, &len);
	dsse_envelope_clear(&env);
}

static void
expect_bad_signature(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 1, "bad_signature"));
	CHECK(folded(o, o->ids[0]) == NULL);
	CHECK_INT(o->r.fold.inspection, FOLD_INSPECTION_PASS);
}

/* A brand key enrolls a key (only admins may), which then signs; a key
 * enrolled after the statement it signed. */
static void
build_bad_enrollments(struct tlog *l, struct outcome *o)
{
	base_log(l);
	add_key(l, &brand, &stranger, KEY_OP_ENROLL);
	add_event(l, &stranger, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"pass\"}", o->ids[0]);
	add_event(l, &late, "inspection.completed", "{\"certificate\":"
	    "\"C2\",\"result\":\"pass\"}", o->ids[1]);
	add_key(l, &root, &late, KEY_OP_ENROLL);
}

static void
expect_bad_enrollments(const struct outcome *o)
{
	bool key_refused = false;

	for (size_t i = 0; i < o->r.failure_count; i++)
		key_refused |= o->r.failures[i].subject == BUNDLE_SUBJECT_KEY &&
		    strcmp(o->r.failures[i].code, "role_not_allowed") == 0;
	CHECK(key_refused);
	CHECK(failed_with(&o->r, 1, "unknown_key"));
	CHECK(failed_with(&o->r, 2, "unknown_key"));
	CHECK_INT(o->r.fold.inspection, FOLD_INSPECTION_NONE);
}

/* SPEC 8 "Admin scope": an admin of the brand's org enrolls another
 * admin (only the root does); that admin's enrollment counts for
 * nothing. */
static void
build_admin_enrolls_admin(struct tlog *l, struct outcome *o)
{
	base_log(l);
	add_key(l, &root, &org_admin, KEY_OP_ENROLL);
	add_key(l, &org_admin, &org_admin2, KEY_OP_ENROLL);
	add_event(l, &inspector, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"pass\"}", o->ids[0]);
}

static void
expect_admin_enrolls_admin(const struct outcome *o)
{
	CHECK(key_failed_with(&o->r, "root_only"));
	CHECK_INT(o->r.fold.inspection, FOLD_INSPECTION_PASS);
}

/* The brand's admin enrolls a key into another org (the lab), which then
 * passes the lot: the enrollment and the pass count for nothing. */
static void
build_admin_other_org(struct tlog *l, struct outcome *o)
{
	base_log(l);
	add_key(l, &root, &org_admin, KEY_OP_ENROLL);
	add_key(l, &org_admin, &late, KEY_OP_ENROLL);
	add_event(l, &late, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"pass\"}", o->ids[0]);
}

static void
expect_admin_other_org(const struct outcome *o)
{
	CHECK(key_failed_with(&o->r, "wrong_org"));
	CHECK(failed_with(&o->r, 1, "unknown_key"));
	CHECK_INT(o->r.fold.inspection, FOLD_INSPECTION_NONE);
}

/* The brand's admin revokes the inspection body's key to silence its
 * fail: the revocation counts for nothing, the fail stands. */
static void
build_admin_revokes_other(struct tlog *l, struct outcome *o)
{
	base_log(l);
	add_key(l, &root, &org_admin, KEY_OP_ENROLL);
	add_key(l, &org_admin, &inspector, KEY_OP_REVOKE);
	add_event(l, &inspector, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"fail\"}", o->ids[0]);
}

static void
expect_admin_revokes_other(const struct outcome *o)
{
	CHECK(key_failed_with(&o->r, "wrong_org"));
	CHECK(!failed_with(&o->r, 1, "key_revoked"));
	CHECK_INT(o->r.fold.inspection, FOLD_INSPECTION_FAIL);
}

/* SPEC 8 "Registration": an importer whose org has no GTIN prefixes
 * registers the brand's lot first (lot squatting). */
static void
build_squat(struct tlog *l, struct outcome *o)
{
	base_keys(l);
	add_key(l, &root, &unprefixed, KEY_OP_ENROLL);
	add_event(l, &unprefixed, "product.registered", "{\"name\":{\"en\":"
	    "\"Fake\"},\"brand\":\"Sulwhasoo\",\"origin\":\"KR\"}",
	    o->ids[0]);
}

static void
expect_squat(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 0, "gtin_outside_org"));
	CHECK(folded(o, o->ids[0]) == NULL);
}

/* An org entry signed by an admin that is not the root: it changes
 * nothing, and the key it was meant for stays outside the org. */
static void
build_org_by_admin(struct tlog *l, struct outcome *o)
{
	base_log(l);
	add_key(l, &root, &org_admin, KEY_OP_ENROLL);
	add_org(l, &org_admin, &unregistered);
	add_key(l, &root, &unregistered, KEY_OP_ENROLL);
	add_event(l, &unregistered, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"pass\"}", o->ids[0]);
}

static void
expect_org_by_admin(const struct outcome *o)
{
	CHECK(key_failed_with(&o->r, "root_only"));
	CHECK(key_failed_with(&o->r, "unknown_org"));
	CHECK(failed_with(&o->r, 1, "unknown_key"));
	CHECK_INT(o->r.fold.inspection, FOLD_INSPECTION_NONE);
}

/* A round-1 registry (free-text orgs, no org entries): judged by the
 * round-1 rules, it verifies. */
static void
build_round1_keys(struct tlog *l, struct outcome *o)
{
	round1_keys = true;
	base_log(l);
	round1_keys = false;
	add_event(l, &inspector, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"pass\"}", o->ids[0]);
}

static void
expect_round1_keys(const struct outcome *o)
{
	CHECK_INT(o->r.failure_count, 0);
	CHECK_INT(o->r.fold.inspection, FOLD_INSPECTION_PASS);
}

/*
 * SPEC 8 "Data from round 1": keys with a free-text org keep working for
 * what they signed before the log's first index statement, and only for
 * that.  No org entry anywhere (a round-1 registry): only the index
 * statement, in "receipts", shows where round 2 began.  Honest round-1
 * data: a round-1 admin (free-text org, unscoped) enrolls a key, the
 * brand registers the lot; the index statement follows.
 */
static void
build_round1_keys_before_index(struct tlog *l, struct outcome *o)
{
	round1_keys = true;
	base_log(l);
	add_key(l, &root, &org_admin, KEY_OP_ENROLL);
	add_key(l, &org_admin, &late, KEY_OP_ENROLL);
	round1_keys = false;
	add_receipt(l, KEY_TIME + 100);
	add_event(l, &late, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"pass\"}", o->ids[0]);
}

static void
expect_round1_keys_before_index(const struct outcome *o)
{
	CHECK_INT(o->r.failure_count, 0);
	CHECK_INT(o->r.receipt_count, 1);
	CHECK_INT(o->r.round1_before, (long long)o->r.receipts[0].log_index);
	CHECK(folded(o, o->ids[0]) != NULL);
	CHECK_INT(o->r.fold.inspection, FOLD_INSPECTION_PASS);
}

/* The attack: the same brand key (free-text org) registers the lot after
 * the first index statement, before any org entry exists.  Round 2's
 * rule: its org is not registered, so it registers nothing. */
static void
build_round1_key_registers_late(struct tlog *l, struct outcome *o)
{
	round1_keys = true;
	base_keys(l);
	round1_keys = false;
	add_receipt(l, KEY_TIME + 100);
	add_event(l, &brand, "product.registered", "{\"name\":{\"en\":"
	    "\"Emulsion\"},\"brand\":\"Sulwhasoo\",\"origin\":\"KR\"}",
	    o->ids[0]);
}

static void
expect_round1_key_registers_late(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 0, "gtin_outside_org"));
	CHECK_INT(o->r.failure_count, 1);
	CHECK(folded(o, o->ids[0]) == NULL);
}

/* The attack: after the first index statement, the round-1 admin (no
 * registered org) enrolls a key of its own, which passes the lot, and
 * revokes the inspector of another free-text org, whose fail follows.
 * Round 2's rules: unknown_org and wrong_org; neither counts. */
static void
build_round1_admin_late(struct tlog *l, struct outcome *o)
{
	round1_keys = true;
	base_log(l);
	add_key(l, &root, &org_admin, KEY_OP_ENROLL);
	add_receipt(l, KEY_TIME + 100);
	add_key(l, &org_admin, &late, KEY_OP_ENROLL);
	add_key(l, &org_admin, &inspector, KEY_OP_REVOKE);
	round1_keys = false;
	add_event(l, &late, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"pass\"}", o->ids[0]);
	add_event(l, &inspector, "inspection.completed", "{\"certificate\":"
	    "\"C2\",\"result\":\"fail\"}", o->ids[1]);
}

static void
expect_round1_admin_late(const struct outcome *o)
{
	CHECK(key_failed_with(&o->r, "unknown_org"));
	CHECK(key_failed_with(&o->r, "wrong_org"));
	CHECK(failed_with(&o->r, 1, "unknown_key"));
	CHECK(!failed_with(&o->r, 2, "key_revoked"));
	CHECK_INT(o->r.failure_count, 3);
	CHECK(folded(o, o->ids[0]) == NULL);
	CHECK(folded(o, o->ids[1]) != NULL);
	CHECK_INT(o->r.fold.inspection, FOLD_INSPECTION_FAIL);
}

/* ---- SPEC 12: issued serials ------------------------------------------ */

#define ISSUED_RANGES "{\"ranges\":[[\"000001\",\"000100\"]]}"

static enum fold_issued_answer
issued(const struct outcome *o, const char *serial)
{
	return fold_serial_issued(&o->r.fold, serial, NULL, 0);
}

/* The brand declares 000001-000100; a recall inside them stands. */
static void
build_issued_ranges(struct tlog *l, struct outcome *o)
{
	char data[512];

	base_log(l);
	add_event(l, &brand, "serials.issued", ISSUED_RANGES, o->ids[0]);
	recall_data(data, sizeof(data), "[[\"000050\",\"000060\"]]");
	add_event(l, &importer, "recall.issued", data, o->ids[1]);
}

static void
expect_issued_ranges(const struct outcome *o)
{
	CHECK_INT(o->r.failure_count, 0);
	CHECK_INT(issued(o, "000005"), FOLD_ISSUED_YES);
	CHECK_INT(issued(o, "000500"), FOLD_ISSUED_NO);
	CHECK_INT(issued(o, "A5"), FOLD_ISSUED_NO);
}

/* An importer recalls serials the brand never issued: serials_not_issued,
 * and the recall still stands (the safe reading). */
static void
build_recall_not_issued(struct tlog *l, struct outcome *o)
{
	char data[512];

	base_log(l);
	add_event(l, &brand, "serials.issued", ISSUED_RANGES, o->ids[0]);
	recall_data(data, sizeof(data), "[[\"900000\",\"900010\"]]");
	add_event(l, &importer, "recall.issued", data, o->ids[1]);
}

static void
expect_recall_not_issued(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 2, "serials_not_issued"));
	CHECK_INT(o->r.fold.open_recalls, 1);
	CHECK_INT(issued(o, "900005"), FOLD_ISSUED_NO);
}

/* An org that does not own the prefix invents issued serials. */
static void
build_issued_by_other_org(struct tlog *l, struct outcome *o)
{
	base_log(l);
	add_key(l, &root, &unprefixed, KEY_OP_ENROLL);
	add_event(l, &unprefixed, "serials.issued", ISSUED_RANGES, o->ids[0]);
}

static void
expect_issued_by_other_org(const struct outcome *o)
{
	CHECK(failed_with(&o->r, 1, "gtin_outside_org"));
	CHECK(folded(o, o->ids[0]) == NULL);
	CHECK_INT(issued(o, "000500"), FOLD_ISSUED_UNKNOWN);
}

/* A root set: without the serial list no serial is known either way. */
static void
build_issued_root(struct tlog *l, struct outcome *o)
{
	const char *set[] = { "A1", "B2" };
	unsigned char r[32];
	char hex[65], data[160];

	CHECK(units_serials_root(set, 2, r, NULL) == TRACE_OK);
	hex_encode(r, 32, hex);
	snprintf(data, sizeof(data), "{\"root\":\"%s\",\"count\":2}", hex);
	base_log(l);
	add_event(l, &brand, "serials.issued", data, o->ids[0]);
}

static void
expect_issued_root(const struct outcome *o)
{
	CHECK_INT(o->r.failure_count, 0);
	CHECK_INT(issued(o, "A1"), FOLD_ISSUED_UNKNOWN);
	CHECK_INT(issued(o, "C3"), FOLD_ISSUED_UNKNOWN);
}

/* The brand withdraws its declaration: nothing is declared. */
static void
build_issued_withdrawn(struct tlog *l, struct outcome *o)
{
	char data[256];

	base_log(l);
	add_event(l, &brand, "serials.issued", ISSUED_RANGES, o->ids[0]);
	snprintf(data, sizeof(data), "{\"corrects\":\"%s\",\"reason\":"
	    "\"wrong lot\"}", o->ids[0]);
	add_event(l, &brand, "correction", data, o->ids[1]);
}

static void
expect_issued_withdrawn(const struct outcome *o)
{
	CHECK_INT(o->r.failure_count, 0);
	CHECK_INT(issued(o, "000005"), FOLD_ISSUED_UNKNOWN);
	CHECK_INT(issued(o, "000500"), FOLD_ISSUED_UNKNOWN);
}

/*
 * SPEC 9: witnesses down after the first checkpoint of a recalled lot.
 * Pending: the importer closes its recall (ignored: the recall stays
 * open), a regulator issues a new one and an inspector reports a fail
 * (both in force at once), another lab's pass (ignored).
 */
static void
build_pending(struct tlog *l, struct outcome *o)
{
	char data[512];

	base_log(l);
	recall_data(data, sizeof(data), NULL);
	add_event(l, &importer, "recall.issued", data, o->ids[0]);
	l->witnessed = l->count;
	close_data(data, sizeof(data), o->ids[0]);
	add_event(l, &importer, "recall.closed", data, o->ids[1]);
	recall_data(data, sizeof(data), "[[\"000001\",\"000010\"]]");
	add_event(l, &regulator, "recall.issued", data, o->ids[2]);
	add_event(l, &inspector, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"fail\"}", o->ids[3]);
	add_event(l, &lab2, "inspection.completed", "{\"certificate\":"
	    "\"C2\",\"result\":\"pass\"}", o->ids[4]);
}

static void
expect_pending(const struct outcome *o)
{
	const struct fold_result *f = &o->r.fold;

	CHECK_INT(o->r.failure_count, 0);
	CHECK(o->r.pending && o->r.pending_ok);
	CHECK_INT(o->r.pending_events, 4);
	CHECK_INT(f->recall_count, 2);
	CHECK_INT(f->open_recalls, 2);
	CHECK(folded(o, o->ids[1]) != NULL && folded(o, o->ids[1])->ignored &&
	    folded(o, o->ids[1])->pending);
	CHECK(folded(o, o->ids[2]) != NULL && folded(o, o->ids[2])->pending &&
	    !folded(o, o->ids[2])->ignored);
	CHECK_INT(f->inspection, FOLD_INSPECTION_FAIL);
	CHECK(folded(o, o->ids[4]) != NULL && folded(o, o->ids[4])->ignored);
}

/*
 * SPEC 8 "Revocation and compromise".  Receipts (index statements) at
 * KEY_TIME + 100 and + 300; the keys were lost at KEY_TIME + 200.
 */
#define LOST_AT (KEY_TIME + 200)

static bool
key_void(const struct outcome *o, const char *keyid)
{
	for (size_t i = 0; i < o->r.key_count; i++)
		if (o->r.keys[i].parsed &&
		    o->r.keys[i].entry.op == KEY_OP_ENROLL &&
		    strcmp(o->r.keys[i].entry.keyid, keyid) == 0)
			return o->r.keys[i].enrollment_void;
	return false;
}

/* Attack: with the importer's stolen key, close its recall; the key is
 * then revoked with compromisedAt before the close.  The recall, from
 * before the theft (a receipt shows it), stands unflagged. */
static void
build_compromised_close(struct tlog *l, struct outcome *o)
{
	char data[512];

	base_log(l);
	recall_data(data, sizeof(data), NULL);
	add_event(l, &importer, "recall.issued", data, o->ids[0]);
	add_receipt(l, KEY_TIME + 100);
	close_data(data, sizeof(data), o->ids[0]);
	add_event(l, &importer, "recall.closed", data, o->ids[1]);
	add_receipt(l, KEY_TIME + 300);
	compromised_at = LOST_AT;
	add_key(l, &root, &importer, KEY_OP_REVOKE);
	compromised_at = 0;
}

static void
expect_compromised_close(const struct outcome *o)
{
	const struct fold_statement_state *close = folded(o, o->ids[1]),
	    *recall = folded(o, o->ids[0]);

	CHECK_INT(o->r.failure_count, 0);
	CHECK_INT(o->r.receipt_count, 2);
	CHECK(recall != NULL && !recall->compromised);
	CHECK(close != NULL && close->compromised && close->ignored);
	CHECK_INT(o->r.fold.open_recalls, 1);
}

/* A recall signed with a key reported compromised stays in force. */
static void
build_compromised_recall(struct tlog *l, struct outcome *o)
{
	char data[512];

	base_log(l);
	add_receipt(l, KEY_TIME + 100);
	recall_data(data, sizeof(data), NULL);
	add_event(l, &importer, "recall.issued", data, o->ids[0]);
	compromised_at = LOST_AT;
	add_key(l, &root, &importer, KEY_OP_REVOKE);
	compromised_at = 0;
}

static void
expect_compromised_recall(const struct outcome *o)
{
	const struct fold_statement_state *recall = folded(o, o->ids[0]);

	CHECK_INT(o->r.failure_count, 0);
	CHECK(recall != NULL && recall->compromised && !recall->ignored);
	CHECK_INT(o->r.fold.open_recalls, 1);
}

/* Attack: with the importer admin's stolen key, enroll a key of one's
 * own, which closes the importer's recall; the admin is then revoked with
 * compromisedAt before the enrollment. */
static void
build_compromised_enroll(struct tlog *l, struct outcome *o)
{
	char data[512];

	base_log(l);
	add_key(l, &root, &importer_admin, KEY_OP_ENROLL);
	recall_data(data, sizeof(data), NULL);
	add_event(l, &importer, "recall.issued", data, o->ids[0]);
	add_receipt(l, KEY_TIME + 100);
	add_key(l, &importer_admin, &mole, KEY_OP_ENROLL);
	close_data(data, sizeof(data), o->ids[0]);
	add_event(l, &mole, "recall.closed", data, o->ids[1]);
	compromised_at = LOST_AT;
	add_key(l, &root, &importer_admin, KEY_OP_REVOKE);
	compromised_at = 0;
}

static void
expect_compromised_enroll(const struct outcome *o)
{
	const struct fold_statement_state *close = folded(o, o->ids[1]);

	CHECK_INT(o->r.failure_count, 0);
	CHECK(key_void(o, mole.keyid));
	CHECK(!key_void(o, importer_admin.keyid));
	CHECK(close != NULL && close->compromised && close->ignored);
	CHECK_INT(o->r.fold.open_recalls, 1);
}

/* Attack: the close is followed by a receipt the log key did not sign,
 * dated before the theft, and by a genuine one dated before it but
 * logged after the revoke.  Neither shows the close came first. */
static void
build_compromised_forged(struct tlog *l, struct outcome *o)
{
	char data[512];

	base_log(l);
	recall_data(data, sizeof(data), NULL);
	add_event(l, &importer, "recall.issued", data, o->ids[0]);
	close_data(data, sizeof(data), o->ids[0]);
	add_event(l, &importer, "recall.closed", data, o->ids[1]);
	add_receipt_by(l, KEY_TIME + 100, importer.secret);
	compromised_at = LOST_AT;
	add_key(l, &root, &importer, KEY_OP_REVOKE);
	compromised_at = 0;
	add_receipt(l, KEY_TIME + 150);
}

static void
expect_compromised_forged(const struct outcome *o)
{
	const struct fold_statement_state *close = folded(o, o->ids[1]);

	CHECK_INT(o->r.failure_count, 0);
	CHECK_INT(o->r.receipt_count, 1);
	CHECK(close != NULL && close->compromised && close->ignored);
	CHECK_INT(o->r.fold.open_recalls, 1);
}

static const struct fixture fixtures[] = {
	{ "good", "a chain that verifies", build_good, expect_good,
	  { "000005", "000042", NULL } },
	{ "importer-closes-regulator-recall", "the recall stays open",
	  build_importer_closes, expect_importer_closes, { "000001", NULL } },
	{ "correction-names-recall", "the recall stays open",
	  build_correct_recall, expect_correct_recall, { "000001", NULL } },
	{ "second-inspector-pass-after-fail", "the lot stays failed",
	  build_second_pass, expect_second_pass, { NULL } },
	{ "recall-ranges-match-no-unit", "no unit asked about is recalled",
	  build_ranges_miss, expect_ranges_miss, { "000001", "900005", NULL } },
	{ "revoked-key-after-revocation", "key_revoked; the fail stands",
	  build_revoked, expect_revoked, { NULL } },
	{ "role-not-allowed", "role_not_allowed; customs stays declared",
	  build_role, expect_role, { NULL } },
	{ "gtin-outside-prefixes", "gtin_not_covered; customs stays declared",
	  build_gtin, expect_gtin, { NULL } },
	{ "outside-key-window", "outside_window; not inspected",
	  build_window, expect_window, { NULL } },
	{ "statements-out-of-log-order", "log_order; the fail stands",
	  build_log_order, expect_log_order, { NULL } },
	{ "correction-by-another-signer", "bad_correction; the fail stands",
	  build_other_corrects, expect_other_corrects, { NULL } },
	{ "recall-closed-twice", "bad_target at the second close",
	  build_closed_twice, expect_closed_twice, { "000001", NULL } },
	{ "round1-close-and-overlapping-recalls", "the round-1 close closes "
	  "the first; the most serious open recall covering a serial shows",
	  build_round1, expect_round1, { "000005", "000015", "000025",
	  "A5" } },
	{ "regulator-withdraws-fail", "the fail withdrawn, the pass decides",
	  build_regulator_withdraws, expect_regulator_withdraws, { NULL } },
	{ "bad-signature", "bad_signature; the statement is not folded",
	  build_bad_signature, expect_bad_signature, { NULL } },
	{ "bad-enrollments", "a non-admin's enrollment and a key enrolled "
	  "after its statement count for nothing",
	  build_bad_enrollments, expect_bad_enrollments, { NULL } },
	{ "admin-enrolls-admin", "root_only; the enrollment counts for "
	  "nothing", build_admin_enrolls_admin, expect_admin_enrolls_admin,
	  { NULL } },
	{ "admin-enrolls-into-other-org", "wrong_org; the pass is unknown_key",
	  build_admin_other_org, expect_admin_other_org, { NULL } },
	{ "admin-revokes-other-org", "wrong_org; the fail stands",
	  build_admin_revokes_other, expect_admin_revokes_other, { NULL } },
	{ "lot-squatting", "gtin_outside_org; not registered",
	  build_squat, expect_squat, { NULL } },
	{ "org-entry-by-admin", "root_only, then unknown_org",
	  build_org_by_admin, expect_org_by_admin, { NULL } },
	{ "round1-keys", "a round-1 registry verifies by round-1 rules",
	  build_round1_keys, expect_round1_keys, { NULL } },
	{ "round1-keys-before-first-index", "a round-1 admin's enrollment "
	  "before the first index statement counts: the pass decides",
	  build_round1_keys_before_index, expect_round1_keys_before_index,
	  { NULL } },
	{ "round1-key-registers-after-first-index", "a free-text-org key "
	  "after round 2 began: gtin_outside_org, not registered",
	  build_round1_key_registers_late, expect_round1_key_registers_late,
	  { NULL } },
	{ "round1-admin-after-first-index", "a round-1 admin after round 2 "
	  "began: unknown_org and wrong_org, the fail stands",
	  build_round1_admin_late, expect_round1_admin_late, { NULL } },
	{ "serials-issued-ranges", "000005 issued, 000500 and A5 never",
	  build_issued_ranges, expect_issued_ranges, { "000005", "000500",
	  "A5", "000055", NULL } },
	{ "recall-of-serials-never-issued", "serials_not_issued; the recall "
	  "stands", build_recall_not_issued, expect_recall_not_issued,
	  { "900005", "000005", NULL } },
	{ "serials-issued-by-other-org", "gtin_outside_org; nothing declared",
	  build_issued_by_other_org, expect_issued_by_other_org,
	  { "000500", NULL } },
	{ "serials-issued-root", "a root set: unknown without its list",
	  build_issued_root, expect_issued_root, { "A1", "C3", NULL } },
	{ "serials-issued-withdrawn", "withdrawn: nothing declared",
	  build_issued_withdrawn, expect_issued_withdrawn, { "000005",
	  "000500", NULL } },
	{ "pending-recall-and-close", "pending: the recall and the fail in "
	  "force, the close and the pass ignored", build_pending,
	  expect_pending, { "000005", "000042", NULL } },
	{ "compromised-key-closes-recall", "the recall stays open, the "
	  "close flagged and ignored", build_compromised_close,
	  expect_compromised_close, { NULL } },
	{ "compromised-key-recall", "the recall is in force, flagged",
	  build_compromised_recall, expect_compromised_recall, { NULL } },
	{ "compromised-admin-enrolls", "the enrollment counts for nothing: "
	  "the recall stays open", build_compromised_enroll,
	  expect_compromised_enroll, { NULL } },
	{ "round1-close-before-first-index", "round-1 data: the close naming "
	  "no recall closes the recall, labelled round 1",
	  build_round1_before_index, expect_round1_before_index, { NULL } },
	{ "round1-close-after-first-index", "slipped in after round 2 began: "
	  "missing_field, the recall stays open", build_round1_after_index,
	  expect_round1_after_index, { NULL } },
	{ "round1-first-contradicted", "a false first in a later index "
	  "statement: first_mismatch; the close is judged today, the recall "
	  "stays open", build_first_contradicted, expect_first_contradicted,
	  { NULL } },
	{ "receipt-within-limits", "received a minute after its time: ok",
	  build_receipt_ok, expect_receipt_ok, { NULL } },
	{ "receipt-after-max-age", "received 31 days after its time: "
	  "stale_time", build_receipt_stale, expect_receipt_stale, { NULL } },
	{ "receipt-before-time", "dated 10 minutes after its receipt: "
	  "stale_time", build_receipt_early, expect_receipt_early, { NULL } },
	{ "receipt-after-grace", "received 8 days after the key's notAfter: "
	  "outside_window", build_receipt_grace, expect_receipt_grace,
	  { NULL } },
	{ "compromised-forged-receipts", "a forged receipt and one after "
	  "the revoke show nothing: the close is ignored",
	  build_compromised_forged, expect_compromised_forged, { NULL } },
};

static void
keys_make(void)
{
	unsigned char secret[ED25519_SECRET_LEN];

	for (size_t k = 0; k < sizeof(actors) / sizeof(actors[0]); k++) {
		memset(actors[k]->secret, (int)(0x11 * (k + 1)),
		    ED25519_SECRET_LEN);
		CHECK(ed25519_public_from_secret(actors[k]->secret,
		    actors[k]->public_key, NULL) == TRACE_OK);
		key_id(actors[k]->public_key, actors[k]->keyid);
	}
	for (size_t k = 0; k < sizeof(others) / sizeof(others[0]); k++) {
		memset(others[k]->secret, (int)(0xc1 + k), ED25519_SECRET_LEN);
		CHECK(ed25519_public_from_secret(others[k]->secret,
		    others[k]->public_key, NULL) == TRACE_OK);
		key_id(others[k]->public_key, others[k]->keyid);
	}
	memset(secret, 0xa5, sizeof(secret));
	CHECK(note_signer_from_secret(ORIGIN, secret, &log_signer, NULL) ==
	    TRACE_OK);
	note_signer_verifier(&log_signer, &log_verifier);
}

static bool
write_file(const char *dir, const char *name, const char *text)
{
	char path[1024];
	struct trace_error err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (file_write_atomic(path, text, strlen(text), 0644, 0, &err) !=
	    TRACE_OK) {
		fprintf(stderr, "test_corpus: %s: %s\n", path, err.message);
		return false;
	}
	return true;
}

int
main(int argc, char **argv)
{
	static struct tlog l;
	const char *dir = argc == 3 && strcmp(argv[1], "--write") == 0 ?
	    argv[2] : NULL;
	char root_b64[64], vkey[NOTE_VERIFIER_KEY_MAX], name[128];
	struct buf manifest;

	if (argc != 1 && dir == NULL) {
		fprintf(stderr, "usage: test_corpus [--write DIR]\n");
		return 2;
	}
	crypto_init();
	keys_make();
	base64_encode(root.public_key, ED25519_PUBLIC_LEN, root_b64);
	CHECK(note_verifier_key_format(log_verifier.name,
	    log_verifier.public_key, vkey, sizeof(vkey), NULL) == TRACE_OK);
	buf_init(&manifest, 0);
	buf_printf(&manifest, "{\"root\":\"%s\",\"vkey\":", root_b64);
	buf_json_string(&manifest, vkey, strlen(vkey));
	buf_puts(&manifest, ",\"fixtures\":[");
	for (size_t k = 0; k < sizeof(fixtures) / sizeof(fixtures[0]); k++) {
		const struct fixture *fx = &fixtures[k];
		static struct outcome o;
		struct bundle *b = NULL;
		struct trace_error err;
		char *text, *sum;
		int before = check_failed;

		memset(&o, 0, sizeof(o));
		fx->build(&l, &o);
		tlog_seal(&l);
		text = render(&l);
		CHECK(bundle_parse(text, strlen(text), &b, &err) == TRACE_OK);
		if (b == NULL) {
			free(text);
			continue;
		}
		CHECK(bundle_verify(b, root.public_key, &log_verifier, &o.r,
		    &err) != TRACE_ENOMEM);
		fx->expect(&o);
		sum = summary(&o.r, fx->serials);
		if (check_failed != before)
			fprintf(stderr, "fixture %s (%s): %s\n", fx->name,
			    fx->about, sum);
		if (dir != NULL) {
			snprintf(name, sizeof(name), "%s.json", fx->name);
			CHECK(write_file(dir, name, text));
			buf_printf(&manifest, "%s{\"name\":\"%s\",\"file\":"
			    "\"%s\",\"about\":", k ? "," : "", fx->name, name);
			buf_json_string(&manifest, fx->about, strlen(fx->about));
			buf_puts(&manifest, ",\"serials\":[");
			for (size_t s = 0; fx->serials[s] != NULL; s++)
				buf_printf(&manifest, "%s\"%s\"", s ? "," : "",
				    fx->serials[s]);
			buf_puts(&manifest, "],\"summary\":");
			buf_json_string(&manifest, sum, strlen(sum));
			buf_puts(&manifest, "}");
		}
		free(sum);
		free(text);
		bundle_report_free(&o.r);
		bundle_free(b);
	}
	buf_puts(&manifest, "]}\n");
	if (dir != NULL)
		CHECK(write_file(dir, "manifest.json", manifest.data));
	buf_free(&manifest);
	tlog_reset(&l);
	note_signer_clear(&log_signer);
	CHECK_DONE();
}
