/*
 * test_bundle.c - bundle parsing and offline verification: bundles are
 * built here from scratch (keys generated, key entries and events signed
 * with libtrace, the log tree built in memory, a checkpoint signed), a
 * valid one must verify and every single tampering must fail with its
 * reason, at the statement it concerns.  Also the consistency check of
 * verify --previous.
 *
 * Extra modes, used by tests/integration/test_log.py, tests/fuzz and by
 * hand:
 *   test_bundle --verify BUNDLE.json ROOT.pub VKEY
 *       verify a bundle, print the report, exit 0 if it verifies, 1 if not
 *   test_bundle --bench N
 *       time verifying an N-event bundle against its signature checks
 *       alone (prints the ratio; never a pass/fail: timing is bench/'s job)
 *   test_bundle --fuzz-seed OUT.json
 *       write the small valid bundle tests/fuzz/seeds/fuzz_bundle/ holds,
 *       made with fixed keys (byte for byte the same every time), and print
 *       the root public key and log vkey that tests/fuzz/fuzz_bundle.c pins
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "libtrace/buf.h"
#include "libtrace/bundle.h"
#include "libtrace/encoding.h"
#include "libtrace/fileio.h"
#include "libtrace/keys.h"
#include "libtrace/lotindex.h"

#define GTIN "08801234567893"
#define LOT "L2311A"
#define CHAIN "01/" GTIN "/10/" LOT
#define ORIGIN "trace.test/log"
#define MAX_ENTRIES 20100

struct actor {
	char keyid[KEYID_LEN + 1];
	unsigned char public_key[ED25519_PUBLIC_LEN];
	unsigned char secret[ED25519_SECRET_LEN];
};

/* A statement as it will be written into the bundle. */
struct item {
	bool is_key;
	char *envelope;                 /* JSON text, malloc'd */
	long long log_index;
	unsigned char proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	size_t proof_count;
	bool omit;
};

struct tlog {
	struct item items[MAX_ENTRIES];
	size_t count;
	unsigned char prev[SHA256_LEN];
	long long seq;
	char *checkpoint;
};

static struct actor root, admin, brand, inspector, late;
static struct note_signer log_signer, other_signer;
static struct note_verifier log_verifier;

static void
actor_make(struct actor *a)
{
	ed25519_generate(a->secret, a->public_key, NULL);
	key_id(a->public_key, a->keyid);
}

static void
tlog_reset(struct tlog *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i].envelope);
	free(l->checkpoint);
	memset(l, 0, sizeof(*l));
}

static void
add_envelope(struct tlog *l, bool is_key, const struct dsse_envelope *env)
{
	struct item *it = &l->items[l->count];
	size_t len;

	memset(it, 0, sizeof(*it));
	it->is_key = is_key;
	it->envelope = dsse_envelope_to_text(env, &len);
	it->log_index = (long long)l->count;
	l->count++;
}

static void
add_key_entry(struct tlog *l, const struct actor *by, const struct actor *who,
    enum key_op op, enum key_role role)
{
	struct key_entry e;
	struct dsse_envelope env;
	char *payload;
	size_t len;

	memset(&e, 0, sizeof(e));
	e.op = op;
	memcpy(e.keyid, who->keyid, sizeof(e.keyid));
	memcpy(e.signer, by->keyid, sizeof(e.signer));
	e.time = 1795000000;
	if (op == KEY_OP_ENROLL) {
		memcpy(e.public_key, who->public_key, ED25519_PUBLIC_LEN);
		snprintf(e.name, sizeof(e.name), "someone");
		snprintf(e.org, sizeof(e.org), "Test Org");
		e.role = role;
		e.prefix_count = 1;
		snprintf(e.prefixes[0], sizeof(e.prefixes[0]), "880");
	} else {
		snprintf(e.reason, sizeof(e.reason), "laptop stolen");
	}
	payload = key_entry_build(&e, &len);
	CHECK(payload != NULL);
	CHECK(dsse_sign(TYPE_KEY, (unsigned char *)payload, len, by->secret,
	    by->keyid, &env, NULL) == TRACE_OK);
	add_envelope(l, true, &env);
	dsse_envelope_clear(&env);
	free(payload);
}

/* The next event of the chain, by signer, for lot (normally LOT). */
static void
add_event(struct tlog *l, const struct actor *by, const char *lot,
    const char *corrects)
{
	struct json_doc *doc = NULL;
	struct event_draft d;
	struct dsse_envelope env;
	char *payload = NULL, data[256];
	size_t len;

	memset(&d, 0, sizeof(d));
	if (l->seq == 0) {
		d.type = EVENT_PRODUCT_REGISTERED;
		snprintf(data, sizeof(data), "{\"name\":{\"en\":\"Emulsion\"},"
		    "\"brand\":\"Sulwhasoo\",\"origin\":\"KR\"}");
	} else if (corrects != NULL) {
		d.type = EVENT_CORRECTION;
		snprintf(data, sizeof(data), "{\"corrects\":\"%s\",\"reason\":"
		    "\"typo\"}", corrects);
	} else {
		d.type = EVENT_INSPECTION_COMPLETED;
		snprintf(data, sizeof(data), "{\"certificate\":\"C-%lld\","
		    "\"result\":\"pass\"}", l->seq);
	}
	CHECK(json_parse(data, strlen(data), &json_limits_default, &doc,
	    NULL) == TRACE_OK);
	d.data = json_doc_root(doc);
	d.gtin14 = GTIN;
	d.lot = lot;
	d.seq = l->seq;
	d.prev = l->seq > 0 ? l->prev : NULL;
	d.time = "2026-11-20T08:30:00+09:00";
	d.signer = by->keyid;
	CHECK(event_build(&d, &payload, &len, NULL) == TRACE_OK);
	CHECK(dsse_sign(TYPE_EVENT, (unsigned char *)payload, len, by->secret,
	    by->keyid, &env, NULL) == TRACE_OK);
	memcpy(l->prev, env.id, SHA256_LEN);
	l->seq++;
	add_envelope(l, false, &env);
	dsse_envelope_clear(&env);
	free(payload);
	json_doc_free(doc);
}

/* Hash the log, prove every item, sign a checkpoint for origin. */
static void
tlog_seal_origin(struct tlog *l, const struct note_signer *signer,
    const char *origin)
{
	unsigned char *leaves = malloc((l->count + 1) * MERKLE_HASH_LEN);
	struct checkpoint cp;
	size_t len;

	for (size_t i = 0; i < l->count; i++) {
		struct dsse_envelope env;
		unsigned char *pae;
		size_t pae_len;

		/* (stored: some cases give an item a second signature) */
		CHECK(dsse_envelope_parse_stored(l->items[i].envelope,
		    strlen(l->items[i].envelope), &env, NULL) == TRACE_OK);
		pae = dsse_pae(env.type, env.payload, env.payload_len, &pae_len);
		merkle_leaf_hash(pae, pae_len, leaves + i * MERKLE_HASH_LEN);
		free(pae);
		dsse_envelope_clear(&env);
	}
	/*
	 * Small logs: merkle_prove_inclusion, the reference.  Large ones
	 * (--bench) would make that quadratic, so keep every perfect node the
	 * way the server does and assemble planned proofs from them.
	 */
	if (l->count <= 64) {
		for (size_t i = 0; i < l->count; i++)
			CHECK(merkle_prove_inclusion(leaves, l->count, i,
			    l->items[i].proof, &l->items[i].proof_count,
			    NULL) == TRACE_OK);
	} else {
		unsigned char *level[64];
		unsigned levels = 0;

		level[levels++] = leaves;
		while ((l->count >> levels) > 0) {
			size_t n = l->count >> levels;

			level[levels] = malloc(n * MERKLE_HASH_LEN);
			for (size_t i = 0; i < n; i++)
				merkle_node_hash(level[levels - 1] +
				    2 * i * MERKLE_HASH_LEN, level[levels - 1] +
				    (2 * i + 1) * MERKLE_HASH_LEN,
				    level[levels] + i * MERKLE_HASH_LEN);
			levels++;
		}
		for (size_t i = 0; i < l->count; i++) {
			static struct merkle_plan plan;
			static unsigned char nodes[MERKLE_PLAN_NODES_MAX]
			    [MERKLE_HASH_LEN];

			CHECK(merkle_plan_inclusion(i, l->count, &plan, NULL) ==
			    TRACE_OK);
			for (size_t k = 0; k < plan.node_count; k++)
				memcpy(nodes[k], level[plan.nodes[k].level] +
				    plan.nodes[k].index * MERKLE_HASH_LEN,
				    MERKLE_HASH_LEN);
			CHECK(merkle_plan_assemble(&plan, &nodes[0][0],
			    l->items[i].proof, NULL) == TRACE_OK);
			l->items[i].proof_count = plan.count;
		}
		for (unsigned k = 1; k < levels; k++)
			free(level[k]);
	}
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", origin);
	cp.size = l->count;
	merkle_root(leaves, l->count, cp.root);
	free(l->checkpoint);
	CHECK(checkpoint_sign(&cp, signer, &l->checkpoint, &len, NULL) ==
	    TRACE_OK);
	free(leaves);
}

/* The same, the checkpoint's origin being the signer's name. */
static void
tlog_seal(struct tlog *l, const struct note_signer *signer)
{
	tlog_seal_origin(l, signer, signer->name);
}

static void
render_item(struct buf *b, const struct item *it)
{
	char h[64];

	buf_printf(b, "{\"envelope\":%s,\"logIndex\":%lld,\"proof\":[",
	    it->envelope, it->log_index);
	for (size_t j = 0; j < it->proof_count; j++) {
		base64_encode(it->proof[j], MERKLE_HASH_LEN, h);
		buf_printf(b, "%s\"%s\"", j ? "," : "", h);
	}
	buf_puts(b, "]}");
}

/* The bundle JSON: events in log order (or order[] when given). */
static char *
render(const struct tlog *l, const char *chain, const size_t *order,
    size_t order_count)
{
	struct buf b;
	bool first = true;

	buf_init(&b, 0);
	buf_puts(&b, "{\"chain\":");
	buf_json_string(&b, chain, strlen(chain));
	buf_puts(&b, ",\"checkpoint\":");
	buf_json_string(&b, l->checkpoint, strlen(l->checkpoint));
	buf_puts(&b, ",\"events\":[");
	if (order != NULL) {
		for (size_t k = 0; k < order_count; k++) {
			buf_puts(&b, k ? "," : "");
			render_item(&b, &l->items[order[k]]);
		}
	} else {
		for (size_t i = 0; i < l->count; i++) {
			if (l->items[i].is_key || l->items[i].omit)
				continue;
			buf_puts(&b, first ? "" : ",");
			first = false;
			render_item(&b, &l->items[i]);
		}
	}
	buf_puts(&b, "],\"keys\":[");
	first = true;
	for (size_t i = 0; i < l->count; i++) {
		if (!l->items[i].is_key || l->items[i].omit)
			continue;
		buf_puts(&b, first ? "" : ",");
		first = false;
		render_item(&b, &l->items[i]);
	}
	buf_puts(&b, "]}");
	return buf_steal(&b, NULL);
}

/* Verify text against a trust anchor; fills the report (caller frees). */
static enum trace_status
verify_anchored(const char *text, const unsigned char *anchor,
    struct bundle_report *report)
{
	struct bundle *b = NULL;
	struct trace_error err;
	enum trace_status rc;

	memset(report, 0, sizeof(*report));
	if ((rc = bundle_parse(text, strlen(text), &b, &err)) != TRACE_OK)
		return rc;
	rc = bundle_verify(b, anchor, &log_verifier, report, &err);
	bundle_free(b);
	return rc;
}

/* The same against the root. */
static enum trace_status
verify_text(const char *text, struct bundle_report *report)
{
	return verify_anchored(text, root.public_key, report);
}

static void
print_report(const struct bundle_report *r)
{
	for (size_t i = 0; i < r->failure_count; i++) {
		const struct bundle_failure *f = &r->failures[i];

		printf("FAIL  %s %zu (seq %lld, log index %lld) %s: %s\n",
		    bundle_subject_name(f->subject), f->position, f->seq,
		    f->log_index, f->code, f->message);
	}
}

/* Does the report hold a failure with code about subject/position? */
static bool
has_failure(const struct bundle_report *r, enum bundle_subject subject,
    size_t position, const char *code)
{
	for (size_t i = 0; i < r->failure_count; i++)
		if (r->failures[i].subject == subject &&
		    r->failures[i].position == position &&
		    strcmp(r->failures[i].code, code) == 0)
			return true;
	return false;
}

/* Give an item's envelope a second, junk signature hinted as hint (what a
 * relay could add to a signed statement); the statement id stays. */
static void
item_add_junk_signature(struct item *it, const char *hint)
{
	struct dsse_envelope env;
	struct dsse_signature *junk;
	size_t len;

	CHECK(dsse_envelope_parse_stored(it->envelope, strlen(it->envelope),
	    &env, NULL) == TRACE_OK);
	junk = &env.sigs[env.sig_count++];
	*junk = env.sigs[0];
	junk->sig[7] ^= 0x20;
	snprintf(junk->keyid, sizeof(junk->keyid), "%s", hint);
	free(it->envelope);
	it->envelope = dsse_envelope_to_text(&env, &len);
	dsse_envelope_clear(&env);
}

/* Cut an item's envelope down to the signature that verifies under by's
 * key, as a server serves a stored round-1 envelope. */
static void
item_keep_verified(struct item *it, const struct actor *by)
{
	struct dsse_envelope env;
	size_t len;

	CHECK(dsse_envelope_parse_stored(it->envelope, strlen(it->envelope),
	    &env, NULL) == TRACE_OK);
	CHECK(dsse_envelope_keep_verified(&env, by->public_key, by->keyid,
	    NULL) == TRACE_OK);
	free(it->envelope);
	it->envelope = dsse_envelope_to_text(&env, &len);
	dsse_envelope_clear(&env);
}

/* An actor whose "public key" is hex (no secret: it never signs). */
static void
actor_from_hex(struct actor *a, const char *hex)
{
	memset(a, 0, sizeof(*a));
	CHECK(hex_decode(hex, 64, a->public_key, 32, true));
	key_id(a->public_key, a->keyid);
}

/* root enrolls admin; admin enrolls brand and inspector; brand registers;
 * the inspector signs three events. */
static void
standard_log(struct tlog *l)
{
	tlog_reset(l);
	add_key_entry(l, &root, &admin, KEY_OP_ENROLL, ROLE_ADMIN);
	add_key_entry(l, &admin, &brand, KEY_OP_ENROLL, ROLE_BRAND);
	add_key_entry(l, &admin, &inspector, KEY_OP_ENROLL, ROLE_INSPECTOR);
	add_event(l, &brand, LOT, NULL);
	for (int i = 0; i < 3; i++)
		add_event(l, &inspector, LOT, NULL);
}

/* Run one case: fails exactly where expected (or passes if code NULL). */
static void
expect(const char *name, const char *text, enum bundle_subject subject,
    size_t position, const char *code)
{
	struct bundle_report r;
	enum trace_status rc = verify_text(text, &r);

	if (code == NULL) {
		CHECK_MSG(rc == TRACE_OK && r.failure_count == 0,
		    "%s: expected to verify", name);
	} else {
		CHECK_MSG(rc == TRACE_EBADSIG, "%s: rc %d", name, rc);
		CHECK_MSG(has_failure(&r, subject, position, code),
		    "%s: no %s failure at %s %zu", name, code,
		    bundle_subject_name(subject), position);
	}
	if ((rc == TRACE_OK) != (code == NULL) ||
	    (code != NULL && !has_failure(&r, subject, position, code)))
		print_report(&r);
	bundle_report_free(&r);
}

static void
test_cases(void)
{
	static struct tlog l;
	struct bundle_report r;
	char *text;
	size_t order[8];

	/* Valid. */
	standard_log(&l);
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	CHECK(verify_text(text, &r) == TRACE_OK);
	CHECK_INT(r.failure_count, 0);
	CHECK_INT(r.events_ok, 4);
	CHECK_INT(r.keys_ok, 3);
	CHECK_INT(r.signatures, 7);
	CHECK_INT(r.proofs, 7);
	CHECK(r.checkpoint_ok);
	CHECK_INT(r.checkpoint.size, 7);
	CHECK(r.keys[0].signer_is_root);
	CHECK(!r.keys[1].signer_is_root);
	CHECK_INT(r.events[2].seq, 2);
	CHECK_INT(r.events[2].log_index, 5);
	CHECK(r.events[2].signer_known &&
	    r.events[2].signer_role == ROLE_INSPECTOR);
	bundle_report_free(&r);
	free(text);

	/* A payload byte: signature and proof fail, the next prev breaks. */
	{
		struct dsse_envelope env;
		char *saved = l.items[5].envelope, *c;
		size_t len;

		CHECK(dsse_envelope_parse(saved, strlen(saved), &env, NULL) ==
		    TRACE_OK);
		c = strstr((char *)env.payload, "\"C-2\"");
		CHECK(c != NULL);
		if (c != NULL)
			c[3] = '7';
		l.items[5].envelope = dsse_envelope_to_text(&env, &len);
		dsse_envelope_clear(&env);
		text = render(&l, CHAIN, NULL, 0);
		free(l.items[5].envelope);
		l.items[5].envelope = saved;
		expect("payload byte", text, BUNDLE_SUBJECT_EVENT, 2,
		    "bad_signature");
		expect("payload byte", text, BUNDLE_SUBJECT_EVENT, 2,
		    "bad_proof");
		expect("payload byte", text, BUNDLE_SUBJECT_EVENT, 3,
		    "wrong_prev");
		free(text);
	}
	/* A signature byte: only the signature fails (ids ignore it). */
	{
		char *p, *q;

		text = render(&l, CHAIN, NULL, 0);
		p = strstr(text, l.items[4].envelope);
		q = strstr(p, "\"sig\":\"") + 7 + 10;
		*q = *q == 'A' ? 'B' : 'A';
		expect("signature byte", text, BUNDLE_SUBJECT_EVENT, 1,
		    "bad_signature");
		verify_text(text, &r);
		CHECK_INT(r.failure_count, 1);
		bundle_report_free(&r);
		free(text);
	}
	/* A removed event. */
	l.items[4].omit = true;
	text = render(&l, CHAIN, NULL, 0);
	expect("removed event", text, BUNDLE_SUBJECT_EVENT, 1, "seq_order");
	expect("removed event", text, BUNDLE_SUBJECT_EVENT, 1, "wrong_prev");
	free(text);
	l.items[4].omit = false;
	/* Two events swapped. */
	order[0] = 3;
	order[1] = 5;
	order[2] = 4;
	order[3] = 6;
	text = render(&l, CHAIN, order, 4);
	expect("swapped", text, BUNDLE_SUBJECT_EVENT, 1, "seq_order");
	expect("swapped", text, BUNDLE_SUBJECT_EVENT, 2, "seq_order");
	free(text);
	/* A proof element flipped. */
	l.items[3].proof[1][7] ^= 0x40;
	text = render(&l, CHAIN, NULL, 0);
	expect("proof element", text, BUNDLE_SUBJECT_EVENT, 0, "bad_proof");
	free(text);
	l.items[3].proof[1][7] ^= 0x40;
	/* A wrong log index. */
	l.items[6].log_index = 5;
	text = render(&l, CHAIN, NULL, 0);
	expect("log index", text, BUNDLE_SUBJECT_EVENT, 3, "bad_proof");
	free(text);
	l.items[6].log_index = 6;
	/* The bundle claims another chain. */
	text = render(&l, "01/" GTIN "/10/OTHER", NULL, 0);
	expect("other chain", text, BUNDLE_SUBJECT_EVENT, 0, "wrong_chain");
	free(text);
	/* A key entry missing. */
	l.items[2].omit = true;
	text = render(&l, CHAIN, NULL, 0);
	expect("missing key", text, BUNDLE_SUBJECT_EVENT, 1, "unknown_key");
	free(text);
	l.items[2].omit = false;
	/* The checkpoint signed by another key. */
	tlog_seal(&l, &other_signer);
	text = render(&l, CHAIN, NULL, 0);
	expect("checkpoint key", text, BUNDLE_SUBJECT_CHECKPOINT, 0,
	    "bad_checkpoint");
	expect("checkpoint key", text, BUNDLE_SUBJECT_EVENT, 0,
	    "no_checkpoint");
	free(text);
	/* A checkpoint signature byte. */
	tlog_seal(&l, &log_signer);
	{
		char *sig = strstr(l.checkpoint, "\xe2\x80\x94 ");

		sig += strlen(sig) - 10;
		*sig = *sig == 'A' ? 'B' : 'A';
		text = render(&l, CHAIN, NULL, 0);
		expect("checkpoint sig", text, BUNDLE_SUBJECT_CHECKPOINT, 0,
		    "bad_checkpoint");
		free(text);
	}

	/* A checkpoint the log key signed, but for another log's origin. */
	tlog_seal_origin(&l, &log_signer, "other.test/log");
	text = render(&l, CHAIN, NULL, 0);
	expect("checkpoint origin", text, BUNDLE_SUBJECT_CHECKPOINT, 0,
	    "wrong_origin");
	expect("checkpoint origin", text, BUNDLE_SUBJECT_EVENT, 0,
	    "no_checkpoint");
	free(text);
	tlog_seal(&l, &log_signer);
	/* Another trust anchor: no key entry has a signer it knows. */
	text = render(&l, CHAIN, NULL, 0);
	CHECK(verify_anchored(text, late.public_key, &r) == TRACE_EBADSIG);
	CHECK(has_failure(&r, BUNDLE_SUBJECT_KEY, 0, "unknown_signer"));
	CHECK(has_failure(&r, BUNDLE_SUBJECT_EVENT, 0, "unknown_key"));
	CHECK_INT(r.keys_ok, 0);
	CHECK_INT(r.events_ok, 0);
	bundle_report_free(&r);
	free(text);
	/* A key entry where an event belongs: not an event, the rest links. */
	order[0] = 3;
	order[1] = 2;
	order[2] = 5;
	order[3] = 6;
	text = render(&l, CHAIN, order, 4);
	expect("key as event", text, BUNDLE_SUBJECT_EVENT, 1, "bad_event");
	expect("key as event", text, BUNDLE_SUBJECT_EVENT, 2, "wrong_prev");
	free(text);
	/* Seq 1 logged before seq 0: seq and prev fine, log order not. */
	{
		char *first = l.items[3].envelope;

		l.items[3].envelope = l.items[4].envelope;
		l.items[4].envelope = first;
		tlog_seal(&l, &log_signer);
		order[0] = 4;
		order[1] = 3;
		order[2] = 5;
		order[3] = 6;
		text = render(&l, CHAIN, order, 4);
		expect("log order", text, BUNDLE_SUBJECT_EVENT, 1, "log_order");
		verify_text(text, &r);
		CHECK_INT(r.failure_count, 1);
		bundle_report_free(&r);
		free(text);
	}

	/* An event for another chain inside this chain's bundle. */
	tlog_reset(&l);
	add_key_entry(&l, &root, &admin, KEY_OP_ENROLL, ROLE_ADMIN);
	add_key_entry(&l, &admin, &brand, KEY_OP_ENROLL, ROLE_BRAND);
	add_key_entry(&l, &admin, &inspector, KEY_OP_ENROLL, ROLE_INSPECTOR);
	add_event(&l, &brand, LOT, NULL);
	add_event(&l, &inspector, "OTHER", NULL);
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	expect("foreign event", text, BUNDLE_SUBJECT_EVENT, 1, "wrong_chain");
	free(text);

	/* A key revoked before the event: only the later event fails. */
	tlog_reset(&l);
	add_key_entry(&l, &root, &admin, KEY_OP_ENROLL, ROLE_ADMIN);
	add_key_entry(&l, &admin, &brand, KEY_OP_ENROLL, ROLE_BRAND);
	add_key_entry(&l, &admin, &inspector, KEY_OP_ENROLL, ROLE_INSPECTOR);
	add_event(&l, &brand, LOT, NULL);
	add_event(&l, &inspector, LOT, NULL);
	add_key_entry(&l, &admin, &inspector, KEY_OP_REVOKE, ROLE_INSPECTOR);
	add_event(&l, &inspector, LOT, NULL);
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	expect("revoked", text, BUNDLE_SUBJECT_EVENT, 2, "key_revoked");
	verify_text(text, &r);
	CHECK(r.events[1].ok);
	CHECK(!r.events[2].ok);
	CHECK_INT(r.failure_count, 1);
	bundle_report_free(&r);
	free(text);

	/* A key entry signed by a non-admin (the inspector). */
	tlog_reset(&l);
	add_key_entry(&l, &root, &admin, KEY_OP_ENROLL, ROLE_ADMIN);
	add_key_entry(&l, &admin, &brand, KEY_OP_ENROLL, ROLE_BRAND);
	add_key_entry(&l, &admin, &inspector, KEY_OP_ENROLL, ROLE_INSPECTOR);
	add_key_entry(&l, &inspector, &late, KEY_OP_ENROLL, ROLE_INSPECTOR);
	add_event(&l, &brand, LOT, NULL);
	add_event(&l, &late, LOT, NULL);
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	expect("non-admin", text, BUNDLE_SUBJECT_KEY, 3, "role_not_allowed");
	expect("non-admin", text, BUNDLE_SUBJECT_EVENT, 1, "unknown_key");
	free(text);

	/* An event signed by a key enrolled after it. */
	tlog_reset(&l);
	add_key_entry(&l, &root, &brand, KEY_OP_ENROLL, ROLE_BRAND);
	add_event(&l, &brand, LOT, NULL);
	add_event(&l, &late, LOT, NULL);
	add_key_entry(&l, &root, &late, KEY_OP_ENROLL, ROLE_INSPECTOR);
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	expect("enrolled after", text, BUNDLE_SUBJECT_EVENT, 1, "unknown_key");
	verify_text(text, &r);
	CHECK_INT(r.failure_count, 1);
	bundle_report_free(&r);
	free(text);

	/* Corrections: by the original signer fine, by another not. */
	tlog_reset(&l);
	add_key_entry(&l, &root, &brand, KEY_OP_ENROLL, ROLE_BRAND);
	add_key_entry(&l, &root, &inspector, KEY_OP_ENROLL, ROLE_INSPECTOR);
	add_event(&l, &brand, LOT, NULL);
	add_event(&l, &inspector, LOT, NULL);
	{
		char target[2 * SHA256_LEN + 1];

		hex_encode(l.prev, SHA256_LEN, target);
		add_event(&l, &inspector, LOT, target);
		add_event(&l, &brand, LOT, target);
	}
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	expect("correction", text, BUNDLE_SUBJECT_EVENT, 3, "bad_correction");
	verify_text(text, &r);
	CHECK(r.events[2].ok);
	CHECK_INT(r.failure_count, 1);
	bundle_report_free(&r);
	free(text);

	/*
	 * SPEC 8: a statement carries exactly one signature.  An event with
	 * its signer's signature and a junk one hinted as the admin's key is
	 * refused although one verifies; its id still links the next event,
	 * so that is the only failure.  Cut down to the verified signature
	 * (what the server serves for a stored round-1 envelope) it passes.
	 */
	standard_log(&l);
	{
		char *single = strdup(l.items[4].envelope);

		item_add_junk_signature(&l.items[4], admin.keyid);
		tlog_seal(&l, &log_signer);
		text = render(&l, CHAIN, NULL, 0);
		expect("two signatures", text, BUNDLE_SUBJECT_EVENT, 1,
		    "bad_signatures");
		verify_text(text, &r);
		CHECK_INT(r.failure_count, 1);
		CHECK_INT(r.signatures, 6);
		CHECK(strstr(r.failures[0].message, "2 signatures") != NULL);
		bundle_report_free(&r);
		free(text);
		item_keep_verified(&l.items[4], &inspector);
		CHECK_STR(l.items[4].envelope, single);
		text = render(&l, CHAIN, NULL, 0);
		expect("cut to one signature", text, BUNDLE_SUBJECT_BUNDLE, 0,
		    NULL);
		free(text);
		free(single);
	}
	/* The same on a key entry: it enrolls nobody, so the inspector's
	 * events have no key. */
	item_add_junk_signature(&l.items[2], root.keyid);
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	expect("key entry with two signatures", text, BUNDLE_SUBJECT_KEY, 2,
	    "bad_signatures");
	expect("key entry with two signatures", text, BUNDLE_SUBJECT_EVENT, 1,
	    "unknown_key");
	free(text);

	/* SPEC 8: enrolling a small-order or a mixed-order public key is
	 * refused by the verifier as it is by the server. */
	{
		struct actor small, mixed;

		actor_from_hex(&small, "c7176a703d4dd84fba3c0b760d10670f2a2053"
		    "fa2c39ccc64ec7fd7792ac037a");
		actor_from_hex(&mixed, "3b5b475c4b82dd1572799fc546f4c6c03e478c"
		    "6654aa4c7f945b347ea32af60d");
		standard_log(&l);
		add_key_entry(&l, &admin, &small, KEY_OP_ENROLL, ROLE_INSPECTOR);
		add_key_entry(&l, &root, &mixed, KEY_OP_ENROLL, ROLE_ADMIN);
		tlog_seal(&l, &log_signer);
		text = render(&l, CHAIN, NULL, 0);
		expect("small-order key", text, BUNDLE_SUBJECT_KEY, 3,
		    "bad_key_entry");
		expect("mixed-order key", text, BUNDLE_SUBJECT_KEY, 4,
		    "bad_key_entry");
		verify_text(text, &r);
		CHECK_INT(r.failure_count, 2);
		CHECK(strstr(r.failures[0].message, "small order") != NULL);
		CHECK(strstr(r.failures[1].message, "torsion") != NULL);
		bundle_report_free(&r);
		free(text);
	}

	/* Not a bundle at all; an unreadable item is a failure, not an error. */
	CHECK(verify_text("{not json", &r) == TRACE_EMALFORMED);
	CHECK(verify_text("[]", &r) == TRACE_EMALFORMED);
	CHECK(verify_text("{\"events\":{}}", &r) == TRACE_EMALFORMED);
	expect("empty", "{\"chain\":\"" CHAIN "\",\"checkpoint\":\"x\","
	    "\"events\":[],\"keys\":[]}", BUNDLE_SUBJECT_BUNDLE, 0,
	    "no_events");
	expect("bad item", "{\"chain\":\"" CHAIN "\",\"checkpoint\":\"x\","
	    "\"events\":[{\"logIndex\":0,\"proof\":[\"AAAA\"],\"envelope\":{}}],"
	    "\"keys\":[]}", BUNDLE_SUBJECT_EVENT, 0, "bad_item");
	tlog_reset(&l);
}

/* ---- the fold's rules, from the bundle alone (SPEC 8) ------------------ */

static struct actor importer, importer_b, regulator, lab2;

/* Enroll who with role for org, signed by the root. */
static void
enroll_org(struct tlog *l, const struct actor *who, enum key_role role,
    const char *org)
{
	struct key_entry e;
	struct dsse_envelope env;
	char *payload;
	size_t len;

	memset(&e, 0, sizeof(e));
	e.op = KEY_OP_ENROLL;
	memcpy(e.keyid, who->keyid, sizeof(e.keyid));
	memcpy(e.signer, root.keyid, sizeof(e.signer));
	e.time = 1795000000;
	memcpy(e.public_key, who->public_key, ED25519_PUBLIC_LEN);
	snprintf(e.name, sizeof(e.name), "someone");
	snprintf(e.org, sizeof(e.org), "%s", org);
	e.role = role;
	payload = key_entry_build(&e, &len);
	CHECK(payload != NULL);
	CHECK(dsse_sign(TYPE_KEY, (unsigned char *)payload, len, root.secret,
	    root.keyid, &env, NULL) == TRACE_OK);
	add_envelope(l, true, &env);
	dsse_envelope_clear(&env);
	free(payload);
}

/* Sign payload text as the next event of LOT (it must carry l->seq and
 * the prev id); returns its statement id in hex. */
static void
add_signed(struct tlog *l, const struct actor *by, const char *payload,
    char id[2 * SHA256_LEN + 1])
{
	struct dsse_envelope env;

	CHECK(dsse_sign(TYPE_EVENT, (const unsigned char *)payload,
	    strlen(payload), by->secret, by->keyid, &env, NULL) == TRACE_OK);
	memcpy(l->prev, env.id, SHA256_LEN);
	hex_encode(env.id, SHA256_LEN, id);
	l->seq++;
	add_envelope(l, false, &env);
	dsse_envelope_clear(&env);
}

/* The next event: type and data (JSON) by by.  No validation, so a
 * round-1 form can be written too. */
static void
add_typed(struct tlog *l, const struct actor *by, const char *type,
    const char *data, char id[2 * SHA256_LEN + 1])
{
	char text[2048], prev[2 * SHA256_LEN + 3];

	if (l->seq == 0) {
		snprintf(prev, sizeof(prev), "null");
	} else {
		prev[0] = '"';
		hex_encode(l->prev, SHA256_LEN, prev + 1);
		snprintf(prev + 1 + 2 * SHA256_LEN, 2, "\"");
	}
	snprintf(text, sizeof(text), "{\"v\":1,\"type\":\"%s\",\"chain\":"
	    "{\"gtin\":\"" GTIN "\",\"lot\":\"" LOT "\"},\"seq\":%lld,"
	    "\"prev\":%s,\"time\":\"2026-11-20T08:30:00+09:00\","
	    "\"signer\":\"%s\",\"data\":%s}", type, l->seq, prev, by->keyid,
	    data);
	add_signed(l, by, text, id);
}

/* brand registers; a recall by issuer; closer closes it (close data:
 * "recall" naming it, or none for a round-1 close). */
static void
recall_log(struct tlog *l, const struct actor *issuer,
    const struct actor *closer, bool name_it, char recall_id[65])
{
	char id[2 * SHA256_LEN + 1], data[256];

	tlog_reset(l);
	enroll_org(l, &brand, ROLE_BRAND, "Amorepacific");
	enroll_org(l, &importer, ROLE_IMPORTER, "Haiyue Trading");
	enroll_org(l, &importer_b, ROLE_IMPORTER, "Other Importer");
	enroll_org(l, &regulator, ROLE_REGULATOR, "SAMR");
	add_typed(l, &brand, "product.registered", "{\"name\":{\"en\":\"E\"},"
	    "\"brand\":\"B\",\"origin\":\"KR\"}", id);
	add_typed(l, issuer, "recall.issued", "{\"reason\":\"Microbial\","
	    "\"severity\":1,\"action\":\"Stop using it\"}", recall_id);
	if (name_it)
		snprintf(data, sizeof(data), "{\"recall\":\"%s\",\"outcome\":"
		    "\"released\"}", recall_id);
	else
		snprintf(data, sizeof(data), "{\"outcome\":\"released\"}");
	add_typed(l, closer, "recall.closed", data, id);
}

static void
test_fold_rules(void)
{
	static struct tlog l;
	struct bundle_report r;
	char recall_id[2 * SHA256_LEN + 1], id[2 * SHA256_LEN + 1];
	char *text;

	actor_make(&importer);
	actor_make(&importer_b);
	actor_make(&regulator);
	actor_make(&lab2);

	/* Attack (1): an importer closes a regulator's recall.  Every
	 * signature is valid; the bundle still fails, at the close. */
	recall_log(&l, &regulator, &importer, true, recall_id);
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	expect("importer closes regulator's recall", text,
	    BUNDLE_SUBJECT_EVENT, 2, "regulator_only");
	CHECK(verify_text(text, &r) == TRACE_EBADSIG);
	CHECK_INT(r.failure_count, 1);
	CHECK(strstr(r.failures[0].message, "only a regulator") != NULL);
	CHECK(r.events[1].ok && !r.events[2].ok);
	/* The report's fold: the recall is still open. */
	CHECK_INT(r.fold.count, 3);
	CHECK_INT(r.fold.recall_count, 1);
	CHECK(r.fold.recalls[0].open);
	CHECK_STR(r.fold.recalls[0].id, recall_id);
	CHECK_INT(r.fold.recalls[0].issuer_role, ROLE_REGULATOR);
	CHECK(r.fold.statements[2].ignored);
	CHECK_INT(r.events[2].fold_index, 2);
	bundle_report_free(&r);
	free(text);

	/* (1b) an importer of another org closes an importer's recall. */
	recall_log(&l, &importer, &importer_b, true, recall_id);
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	expect("other org closes", text, BUNDLE_SUBJECT_EVENT, 2, "wrong_org");
	free(text);

	/* The recall's own org or a regulator may. */
	recall_log(&l, &importer, &regulator, true, recall_id);
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	expect("regulator closes", text, BUNDLE_SUBJECT_EVENT, 0, NULL);
	CHECK(verify_text(text, &r) == TRACE_OK);
	CHECK(!r.fold.recalls[0].open);
	CHECK_INT(r.fold.recalls[0].closed_by, 2);
	CHECK_INT(r.fold.open_recalls, 0);
	bundle_report_free(&r);
	free(text);

	/* (1c) a second close of the same recall; a close of a non-recall. */
	recall_log(&l, &importer, &importer, true, recall_id);
	{
		char data[256];

		snprintf(data, sizeof(data), "{\"recall\":\"%s\",\"outcome\":"
		    "\"destroyed\"}", recall_id);
		add_typed(&l, &regulator, "recall.closed", data, id);
		snprintf(data, sizeof(data), "{\"recall\":\"%s\",\"outcome\":"
		    "\"destroyed\"}", id);
		add_typed(&l, &regulator, "recall.closed", data, id);
	}
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	expect("closed twice", text, BUNDLE_SUBJECT_EVENT, 3, "bad_target");
	expect("closes a close", text, BUNDLE_SUBJECT_EVENT, 4, "bad_target");
	CHECK(verify_text(text, &r) == TRACE_EBADSIG);
	CHECK_INT(r.failure_count, 2);
	CHECK_INT(r.fold.recalls[0].closed_by, 2);
	bundle_report_free(&r);
	free(text);

	/* Round 1: a close naming no recall, by an importer, after a
	 * regulator's recall.  Judged by the rule it was accepted under: it
	 * verifies, closes the recall, and the report says so. */
	recall_log(&l, &regulator, &importer, false, recall_id);
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	expect("round-1 close", text, BUNDLE_SUBJECT_EVENT, 0, NULL);
	CHECK(verify_text(text, &r) == TRACE_OK);
	CHECK_INT(r.fold.round1, 1);
	CHECK(r.fold.statements[2].round1);
	CHECK(!r.fold.recalls[0].open && r.fold.recalls[0].closed_round1);
	bundle_report_free(&r);
	free(text);

	/* Attack (6): a second inspector's pass after a fail leaves the lot
	 * failed; withdrawing the fail by another inspector fails the
	 * bundle. */
	tlog_reset(&l);
	enroll_org(&l, &brand, ROLE_BRAND, "Amorepacific");
	enroll_org(&l, &inspector, ROLE_INSPECTOR, "CCIC Korea");
	enroll_org(&l, &lab2, ROLE_INSPECTOR, "Other Lab");
	enroll_org(&l, &importer, ROLE_IMPORTER, "Haiyue Trading");
	add_typed(&l, &brand, "product.registered", "{\"name\":{\"en\":\"E\"},"
	    "\"brand\":\"B\",\"origin\":\"KR\"}", id);
	add_typed(&l, &inspector, "inspection.completed", "{\"certificate\":"
	    "\"C1\",\"result\":\"fail\"}", id);
	add_typed(&l, &lab2, "inspection.completed", "{\"certificate\":"
	    "\"C2\",\"result\":\"pass\"}", recall_id);
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	CHECK(verify_text(text, &r) == TRACE_OK);
	CHECK_INT(r.fold.inspection, FOLD_INSPECTION_FAIL);
	CHECK_INT(r.fold.inspection_deciding, 1);
	CHECK_INT(r.fold.inspection_count, 2);
	bundle_report_free(&r);
	free(text);
	{
		char data[256];

		snprintf(data, sizeof(data), "{\"corrects\":\"%s\",\"reason\":"
		    "\"not mine\"}", id);
		add_typed(&l, &lab2, "correction", data, recall_id);
	}
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	expect("another inspector withdraws the fail", text,
	    BUNDLE_SUBJECT_EVENT, 3, "bad_correction");
	CHECK(verify_text(text, &r) == TRACE_EBADSIG);
	CHECK_INT(r.fold.inspection, FOLD_INSPECTION_FAIL);
	bundle_report_free(&r);
	free(text);
	tlog_reset(&l);
}

/* ---- pending statements (SPEC 9) ---------------------------------------- */

enum pending_tamper {
	PENDING_AS_SERVED,
	PENDING_PROOF_OTHER_TREE,       /* a pending proof against size n - 1 */
	PENDING_FORK,                   /* pending checkpoint of another history */
	PENDING_DROP_MIDDLE,            /* a pending event left out */
	PENDING_NOT_NEWER,              /* "pending" items the checkpoint has */
	PENDING_OTHER_KEY,              /* pending checkpoint not the log's */
};

/*
 * The bundle of LOT as a server with witnesses serves it when the
 * witnessed checkpoint has the first w leaves and the log has signed all
 * of them: covered items against w, the rest pending against the whole
 * log, with the consistency proof w -> n (PROTOCOL 10.1).
 */
static char *
render_pending(struct tlog *l, size_t w, enum pending_tamper tamper)
{
	size_t n = l->count;
	unsigned char *leaves = malloc((n + 1) * MERKLE_HASH_LEN);
	unsigned char *forked = malloc((n + 1) * MERKLE_HASH_LEN);
	unsigned char cons[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	struct checkpoint cp;
	char *witnessed, *pending, h[64];
	size_t len, cons_count = 0, skip = SIZE_MAX, seen = 0;
	struct buf b;
	bool first;

	for (size_t i = 0; i < n; i++) {
		struct dsse_envelope env;
		unsigned char *pae;
		size_t pae_len;

		CHECK(dsse_envelope_parse_stored(l->items[i].envelope,
		    strlen(l->items[i].envelope), &env, NULL) == TRACE_OK);
		pae = dsse_pae(env.type, env.payload, env.payload_len, &pae_len);
		merkle_leaf_hash(pae, pae_len, leaves + i * MERKLE_HASH_LEN);
		free(pae);
		dsse_envelope_clear(&env);
	}
	memcpy(forked, leaves, n * MERKLE_HASH_LEN);
	if (tamper == PENDING_FORK)
		forked[0] ^= 1;         /* another history under the same key */
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", ORIGIN);
	cp.size = w;
	merkle_root(leaves, w, cp.root);
	CHECK(checkpoint_sign(&cp, &log_signer, &witnessed, &len, NULL) ==
	    TRACE_OK);
	cp.size = n;
	merkle_root(forked, n, cp.root);
	CHECK(checkpoint_sign(&cp, tamper == PENDING_OTHER_KEY ?
	    &other_signer : &log_signer, &pending, &len, NULL) == TRACE_OK);
	CHECK(merkle_prove_consistency(forked, w, n, cons, &cons_count,
	    NULL) == TRACE_OK);
	for (size_t i = 0; i < n; i++) {
		struct item *it = &l->items[i];

		if (i < w)
			CHECK(merkle_prove_inclusion(leaves, w, i, it->proof,
			    &it->proof_count, NULL) == TRACE_OK);
		else if (tamper == PENDING_PROOF_OTHER_TREE && i == n - 2)
			CHECK(merkle_prove_inclusion(forked, n - 1, i,
			    it->proof, &it->proof_count, NULL) == TRACE_OK);
		else
			CHECK(merkle_prove_inclusion(forked, n, i, it->proof,
			    &it->proof_count, NULL) == TRACE_OK);
		/* The middle one of the pending events. */
		if (i >= w && !it->is_key && seen++ == 1 &&
		    tamper == PENDING_DROP_MIDDLE)
			skip = i;
	}
	buf_init(&b, 0);
	buf_puts(&b, "{\"chain\":\"" CHAIN "\",\"checkpoint\":");
	buf_json_string(&b, witnessed, strlen(witnessed));
	for (int part = 0; part < 2; part++) {
		size_t from = part == 0 ? 0 : w, to = part == 0 ? w : n;

		if (tamper == PENDING_NOT_NEWER && part == 1)
			from = w - 1;   /* the last covered event, again */
		if (part == 1) {
			buf_puts(&b, ",\"pending\":{\"checkpoint\":");
			buf_json_string(&b, pending, strlen(pending));
			buf_puts(&b, ",\"consistency\":[");
			for (size_t j = 0; j < cons_count; j++) {
				base64_encode(cons[j], MERKLE_HASH_LEN, h);
				buf_printf(&b, "%s\"%s\"", j ? "," : "", h);
			}
			buf_puts(&b, "]");
		}
		for (int keys = 0; keys < 2; keys++) {
			buf_puts(&b, keys ? "],\"keys\":[" : ",\"events\":[");
			first = true;
			for (size_t i = from; i < to; i++) {
				if (l->items[i].is_key != keys || i == skip)
					continue;
				buf_puts(&b, first ? "" : ",");
				first = false;
				render_item(&b, &l->items[i]);
			}
		}
		buf_puts(&b, part == 1 ? "]}" : "]");
	}
	buf_puts(&b, "}");
	free(leaves);
	free(forked);
	free(witnessed);
	free(pending);
	return buf_steal(&b, NULL);
}

/*
 * Witnesses down after the first checkpoint of a recalled lot: the lot's
 * importer closes the recall (pending), a regulator issues a new one
 * (pending), and a newly enrolled lab reports a fail (pending key and
 * event).  The attacks: a pending close that would end the witnessed
 * recall before any witness saw it, pending statements proven against
 * another tree, a pending checkpoint of another history, a pending event
 * dropped from the chain, "pending" items that are in the witnessed tree,
 * and a pending checkpoint the log did not sign.
 */
static void
test_pending(void)
{
	static struct tlog l;
	struct bundle_report r;
	char recall_id[2 * SHA256_LEN + 1], id[2 * SHA256_LEN + 1], data[256];
	char *text;
	size_t w;

	tlog_reset(&l);
	enroll_org(&l, &brand, ROLE_BRAND, "Amorepacific");
	enroll_org(&l, &importer, ROLE_IMPORTER, "Haiyue Trading");
	enroll_org(&l, &regulator, ROLE_REGULATOR, "SAMR");
	add_typed(&l, &brand, "product.registered", "{\"name\":{\"en\":\"E\"},"
	    "\"brand\":\"B\",\"origin\":\"KR\"}", id);
	add_typed(&l, &importer, "recall.issued", "{\"reason\":\"Microbial\","
	    "\"severity\":2,\"action\":\"Stop using it\"}", recall_id);
	w = l.count;
	enroll_org(&l, &lab2, ROLE_INSPECTOR, "Other Lab");
	snprintf(data, sizeof(data), "{\"recall\":\"%s\",\"outcome\":"
	    "\"released\"}", recall_id);
	add_typed(&l, &importer, "recall.closed", data, id);
	add_typed(&l, &regulator, "recall.issued", "{\"reason\":\"Mercury\","
	    "\"severity\":1,\"action\":\"Return it\"}", id);
	add_typed(&l, &lab2, "inspection.completed", "{\"certificate\":"
	    "\"C9\",\"result\":\"fail\"}", id);

	text = render_pending(&l, w, PENDING_AS_SERVED);
	expect("pending as served", text, BUNDLE_SUBJECT_EVENT, 0, NULL);
	CHECK(verify_text(text, &r) == TRACE_OK);
	CHECK(r.pending && r.pending_ok);
	CHECK_INT(r.checkpoint.size, w);
	CHECK_INT(r.pending_checkpoint.size, l.count);
	CHECK_INT(r.event_count, 5);
	CHECK_INT(r.pending_events, 3);
	CHECK_INT(r.key_count, 4);
	CHECK_INT(r.pending_keys, 1);
	CHECK(!r.events[1].pending && r.events[2].pending && r.events[4].pending);
	CHECK(r.keys[3].pending && r.keys[3].ok);
	/* The pending close changes nothing; both recalls are open. */
	CHECK_INT(r.fold.recall_count, 2);
	CHECK_INT(r.fold.open_recalls, 2);
	CHECK(r.fold.recalls[0].open);
	CHECK(r.fold.statements[2].pending && r.fold.statements[2].ignored);
	CHECK(r.fold.statements[r.fold.recalls[1].statement].pending);
	CHECK_INT(r.fold.inspection, FOLD_INSPECTION_FAIL);
	/* Complete as of the witnessed checkpoint only (no index here). */
	CHECK_INT(r.completeness, BUNDLE_COMPLETENESS_UNKNOWN);
	bundle_report_free(&r);
	free(text);

	text = render_pending(&l, w, PENDING_PROOF_OTHER_TREE);
	expect("pending proof against another tree", text,
	    BUNDLE_SUBJECT_EVENT, 3, "bad_proof");
	free(text);
	text = render_pending(&l, w, PENDING_FORK);
	expect("pending checkpoint of another history", text,
	    BUNDLE_SUBJECT_PENDING, 0, "pending_inconsistent");
	free(text);
	text = render_pending(&l, w, PENDING_DROP_MIDDLE);
	expect("pending event dropped", text, BUNDLE_SUBJECT_EVENT, 3,
	    "seq_order");
	expect("pending event dropped (prev)", text, BUNDLE_SUBJECT_EVENT, 3,
	    "wrong_prev");
	free(text);
	text = render_pending(&l, w, PENDING_NOT_NEWER);
	expect("a witnessed event as pending", text, BUNDLE_SUBJECT_EVENT, 2,
	    "bad_proof");
	free(text);
	text = render_pending(&l, w, PENDING_OTHER_KEY);
	expect("pending checkpoint by another key", text,
	    BUNDLE_SUBJECT_PENDING, 0, "bad_pending");
	CHECK(verify_text(text, &r) == TRACE_EBADSIG);
	CHECK(!r.pending_ok);
	CHECK(!r.events[2].ok && r.events[1].ok);
	CHECK(has_failure(&r, BUNDLE_SUBJECT_EVENT, 2, "no_checkpoint"));
	CHECK(has_failure(&r, BUNDLE_SUBJECT_KEY, 3, "no_checkpoint"));
	bundle_report_free(&r);
	free(text);
	/* A pending member that is not one: refused, not ignored. */
	text = render_pending(&l, w, PENDING_AS_SERVED);
	{
		char *p = strstr(text, "\"consistency\":[");

		CHECK(p != NULL);
		memcpy(p, "\"consistencz\"", 13);
	}
	expect("pending without a consistency proof", text,
	    BUNDLE_SUBJECT_PENDING, 0, "bad_pending");
	free(text);
	tlog_reset(&l);
}

/* ---- compromise (SPEC 8 "Revocation and compromise") ----------------- */

/* The root revokes who with compromisedAt at (unix seconds). */
static void
revoke_compromised(struct tlog *l, const struct actor *who, long long at)
{
	struct key_entry e;
	struct dsse_envelope env;
	char *payload;
	size_t len;

	memset(&e, 0, sizeof(e));
	e.op = KEY_OP_REVOKE;
	memcpy(e.keyid, who->keyid, sizeof(e.keyid));
	memcpy(e.signer, root.keyid, sizeof(e.signer));
	e.time = 1795000100;
	snprintf(e.reason, sizeof(e.reason), "stolen");
	e.has_compromised_at = true;
	e.compromised_at = at;
	payload = key_entry_build(&e, &len);
	CHECK(payload != NULL);
	CHECK(dsse_sign(TYPE_KEY, (unsigned char *)payload, len, root.secret,
	    root.keyid, &env, NULL) == TRACE_OK);
	add_envelope(l, true, &env);
	dsse_envelope_clear(&env);
	free(payload);
}

/*
 * The attack: a stolen importer key closes the importer's recall, and the
 * key is revoked with compromisedAt.  Without a receipt nothing shows the
 * close came before the theft: it is folded compromised and ignored, the
 * recall stays open, and the bundle still verifies (a compromised key
 * never makes a chain fail).  A "receipts" member that is not an array
 * shows nothing; a compromisedAt before the key's enrollment is refused.
 */
static void
test_compromise(void)
{
	static struct tlog l;
	struct bundle_report r;
	char recall_id[2 * SHA256_LEN + 1], id[2 * SHA256_LEN + 1], data[256];
	char *text, *p;

	tlog_reset(&l);
	enroll_org(&l, &brand, ROLE_BRAND, "Amorepacific");
	enroll_org(&l, &importer, ROLE_IMPORTER, "Haiyue Trading");
	add_typed(&l, &brand, "product.registered", "{\"name\":{\"en\":\"E\"},"
	    "\"brand\":\"B\",\"origin\":\"KR\"}", id);
	add_typed(&l, &importer, "recall.issued", "{\"reason\":\"Microbial\","
	    "\"severity\":2,\"action\":\"Stop using it\"}", recall_id);
	snprintf(data, sizeof(data), "{\"recall\":\"%s\",\"outcome\":"
	    "\"released\"}", recall_id);
	add_typed(&l, &importer, "recall.closed", data, id);
	revoke_compromised(&l, &importer, 1795000050);
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	CHECK(verify_text(text, &r) == TRACE_OK);
	CHECK_INT(r.fold.open_recalls, 1);
	CHECK(r.events[1].compromised && r.events[2].compromised);
	CHECK(!r.events[0].compromised);
	CHECK(r.fold.statements[2].compromised && r.fold.statements[2].ignored);
	CHECK(!r.fold.statements[1].ignored);
	CHECK_INT(r.fold.compromised, 2);
	bundle_report_free(&r);
	/* "receipts" that is no array: read as absent. */
	p = strrchr(text, '}');
	CHECK(p != NULL && p[1] == '\0');
	{
		struct buf b;
		char *with;

		buf_init(&b, 0);
		buf_append(&b, text, (size_t)(p - text));
		buf_puts(&b, ",\"receipts\":7}");
		with = buf_steal(&b, NULL);
		CHECK(verify_text(with, &r) == TRACE_OK);
		CHECK_INT(r.receipt_count, 0);
		CHECK(r.fold.statements[2].ignored);
		bundle_report_free(&r);
		free(with);
	}
	free(text);
	/* Before the enrollment's time: the revoke is refused. */
	tlog_reset(&l);
	enroll_org(&l, &brand, ROLE_BRAND, "Amorepacific");
	enroll_org(&l, &importer, ROLE_IMPORTER, "Haiyue Trading");
	add_typed(&l, &brand, "product.registered", "{\"name\":{\"en\":\"E\"},"
	    "\"brand\":\"B\",\"origin\":\"KR\"}", id);
	revoke_compromised(&l, &importer, 1794999999);
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	CHECK(verify_text(text, &r) == TRACE_EBADSIG);
	CHECK(has_failure(&r, BUNDLE_SUBJECT_KEY, 2, "bad_window"));
	bundle_report_free(&r);
	free(text);
	tlog_reset(&l);
}

/* ---- round 1 (SPEC 8 "Data from round 1") ---------------------------- */

/*
 * The integrator's index statement (docs/PROTOCOL.md 9.10.2) as the next
 * leaf, signed by signer; "first" when first >= 0.  Not rendered among the
 * events: with_index() writes the last one as the index member.
 */
static void
add_index_limits(struct tlog *l, const struct note_signer *signer,
    long long first, bool limits)
{
	char text[256], kid[KEYID_LEN + 1];
	struct dsse_envelope env;
	int n;

	n = snprintf(text, sizeof(text), "{\"v\":1,\"type\":\"index\","
	    "\"time\":\"2026-11-20T00:00:00Z\",\"size\":%zu,\"root\":"
	    "\"%064d\",\"entries\":0", l->count, 0);
	if (first >= 0)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
		    ",\"first\":%lld", first);
	if (limits)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
		    ",\"maxAge\":2592000,\"grace\":604800");
	snprintf(text + n, sizeof(text) - (size_t)n, "}");
	key_id(signer->public_key, kid);
	CHECK(dsse_sign(TYPE_INDEX, (const unsigned char *)text, strlen(text),
	    signer->secret, kid, &env, NULL) == TRACE_OK);
	add_envelope(l, false, &env);
	l->items[l->count - 1].omit = true;
	dsse_envelope_clear(&env);
}

static void
add_index_statement(struct tlog *l, const struct note_signer *signer,
    long long first)
{
	add_index_limits(l, signer, first, false);
}

/* The bundle with an "index" member whose statement is the log's last
 * leaf (its lot proof is junk: completeness fails, the fold stands);
 * with receipt, that statement is in "receipts" too. */
static char *
with_index_receipt(const struct tlog *l, bool receipt)
{
	char *text = render(l, CHAIN, NULL, 0), *p = strrchr(text, '}');
	struct buf b;

	buf_init(&b, 0);
	buf_append(&b, text, (size_t)(p - text));
	if (receipt) {
		buf_puts(&b, ",\"receipts\":[");
		render_item(&b, &l->items[l->count - 1]);
		buf_puts(&b, "]");
	}
	buf_puts(&b, ",\"index\":{\"statement\":");
	render_item(&b, &l->items[l->count - 1]);
	buf_puts(&b, ",\"lot\":\"AQAAAA==\",\"keys\":[]}}");
	free(text);
	return buf_steal(&b, NULL);
}

static char *
with_index(const struct tlog *l)
{
	return with_index_receipt(l, false);
}

/* Registration, recall, and a close naming no recall (round 1's form);
 * with first_before >= 0 an index statement saying so before the recall. */
static void
round1_close_log(struct tlog *l, const struct note_signer *signer,
    long long first_before)
{
	char id[2 * SHA256_LEN + 1];

	tlog_reset(l);
	enroll_org(l, &brand, ROLE_BRAND, "Amorepacific");
	enroll_org(l, &importer, ROLE_IMPORTER, "Haiyue Trading");
	add_typed(l, &brand, "product.registered", "{\"name\":{\"en\":\"E\"},"
	    "\"brand\":\"B\",\"origin\":\"KR\"}", id);
	if (first_before >= 0)
		add_index_statement(l, signer, first_before);
	add_typed(l, &importer, "recall.issued", "{\"reason\":\"Microbial\","
	    "\"severity\":1,\"action\":\"Stop using it\"}", id);
	add_typed(l, &importer, "recall.closed", "{\"outcome\":\"released\"}",
	    id);
}

/*
 * The attack: a round-1-form close slipped into the log after round 2
 * began.  The bundle's index statement (the checkpoint's last leaf) names
 * the log's first index statement in "first"; from there on today's rules
 * apply (the close names no recall: it fails and closes nothing).  Before
 * it, the same close is round-1 data.  Only a statement by the log key,
 * proven in the checkpoint, moves the bound; one without "first" bounds it
 * by its own log index.
 */
static void
test_round1_pinned(void)
{
	static struct tlog l;
	struct bundle_report r;
	char *text;

	/* Round 1: no index statement before the close. */
	round1_close_log(&l, &log_signer, -1);
	add_index_statement(&l, &log_signer, (long long)l.count);
	tlog_seal(&l, &log_signer);
	text = with_index(&l);
	verify_text(text, &r);
	CHECK_INT(r.round1_before, 5);
	CHECK(!has_failure(&r, BUNDLE_SUBJECT_EVENT, 2, "missing_field"));
	CHECK_INT(r.fold.round1, 1);
	CHECK(r.fold.recall_count == 1 && r.fold.recalls[0].closed_round1);
	CHECK_INT(r.fold.open_recalls, 0);
	bundle_report_free(&r);
	free(text);

	/* The attack: round 2 began at log index 3, before the close. */
	round1_close_log(&l, &log_signer, 3);
	add_index_statement(&l, &log_signer, 3);
	tlog_seal(&l, &log_signer);
	text = with_index(&l);
	CHECK(verify_text(text, &r) == TRACE_EBADSIG);
	CHECK_INT(r.round1_before, 3);
	CHECK(has_failure(&r, BUNDLE_SUBJECT_EVENT, 2, "missing_field"));
	CHECK_INT(r.fold.round1, 0);
	CHECK(r.fold.recall_count == 1 && r.fold.recalls[0].open &&
	    !r.fold.recalls[0].closed_round1);
	CHECK_INT(r.fold.open_recalls, 1);
	bundle_report_free(&r);
	free(text);

	/* A statement from before "first" existed bounds round 1 by its own
	 * log index only (here after the close: the earlier one, not in the
	 * bundle, shows nothing). */
	round1_close_log(&l, &log_signer, 3);
	add_index_statement(&l, &log_signer, -1);
	tlog_seal(&l, &log_signer);
	text = with_index(&l);
	verify_text(text, &r);
	CHECK_INT(r.round1_before, 6);
	CHECK_INT(r.fold.round1, 1);
	bundle_report_free(&r);
	free(text);

	/* "first" signed by another key, or not the checkpoint's last leaf:
	 * it proves nothing, and everything may be round 1. */
	round1_close_log(&l, &log_signer, 3);
	add_index_statement(&l, &other_signer, 3);
	tlog_seal(&l, &log_signer);
	text = with_index(&l);
	verify_text(text, &r);
	CHECK_INT(r.round1_before, FOLD_ROUND1_ALWAYS);
	CHECK_INT(r.fold.round1, 1);
	bundle_report_free(&r);
	free(text);

	/* A "first" after the statement's own size is malformed. */
	round1_close_log(&l, &log_signer, -1);
	add_index_statement(&l, &log_signer, 99);
	tlog_seal(&l, &log_signer);
	text = with_index(&l);
	CHECK(verify_text(text, &r) == TRACE_EBADSIG);
	CHECK_INT(r.round1_before, FOLD_ROUND1_ALWAYS);
	CHECK(strcmp(r.completeness_code, "bad_index") == 0);
	bundle_report_free(&r);
	free(text);
	tlog_reset(&l);
}

/*
 * SPEC 8 "Receipt time": an index statement that says the limits the log
 * enforced promises a receipt for every event from round 2 on; a bundle
 * that leaves the receipts out (so that nothing can be checked) fails
 * missing_receipt.  With the receipt, the event is within the limits.
 */
static void
test_receipt_promised(void)
{
	static struct tlog l;
	struct bundle_report r;
	char id[2 * SHA256_LEN + 1], *text;

	for (int shown = 0; shown < 2; shown++) {
		tlog_reset(&l);
		enroll_org(&l, &brand, ROLE_BRAND, "Amorepacific");
		enroll_org(&l, &importer, ROLE_IMPORTER, "Haiyue Trading");
		add_index_limits(&l, &log_signer, 2, true);
		add_typed(&l, &brand, "product.registered", "{\"name\":{\"en\":"
		    "\"E\"},\"brand\":\"B\",\"origin\":\"KR\"}", id);
		add_typed(&l, &importer, "recall.issued", "{\"reason\":"
		    "\"Microbial\",\"severity\":1,\"action\":\"Stop\"}", id);
		add_index_limits(&l, &log_signer, 2, true);
		tlog_seal(&l, &log_signer);
		text = with_index_receipt(&l, shown == 1);
		verify_text(text, &r);
		CHECK(r.receipts_promised);
		CHECK_INT(r.round1_before, 2);
		CHECK(has_failure(&r, BUNDLE_SUBJECT_EVENT, 0,
		    "missing_receipt") == (shown == 0));
		CHECK(has_failure(&r, BUNDLE_SUBJECT_EVENT, 1,
		    "missing_receipt") == (shown == 0));
		CHECK(!has_failure(&r, BUNDLE_SUBJECT_EVENT, 0, "stale_time"));
		bundle_report_free(&r);
		free(text);
	}
	tlog_reset(&l);
}

/* ---- orgs (SPEC 8 "Organisations", "Admin scope", "Registration") ---- */

/* An org entry for id by by: roles a bit set, prefix NULL for none. */
static void
add_org(struct tlog *l, const struct actor *by, const char *id,
    unsigned roles, const char *prefix)
{
	struct key_entry e;
	struct dsse_envelope env;
	char *payload;
	size_t len;

	memset(&e, 0, sizeof(e));
	e.op = KEY_OP_ORG;
	memcpy(e.signer, by->keyid, sizeof(e.signer));
	e.time = 1795000000;
	snprintf(e.org, sizeof(e.org), "%s", id);
	snprintf(e.org_def.id, sizeof(e.org_def.id), "%s", id);
	snprintf(e.org_def.name_zh, sizeof(e.org_def.name_zh), "爱茉莉");
	snprintf(e.org_def.name_en, sizeof(e.org_def.name_en), "Amore");
	e.org_def.roles = roles;
	if (prefix != NULL) {
		e.org_def.prefix_count = 1;
		snprintf(e.org_def.prefixes[0], sizeof(e.org_def.prefixes[0]),
		    "%s", prefix);
	}
	payload = key_entry_build(&e, &len);
	CHECK(payload != NULL);
	CHECK(dsse_sign(TYPE_KEY, (unsigned char *)payload, len, by->secret,
	    by->keyid, &env, NULL) == TRACE_OK);
	add_envelope(l, true, &env);
	dsse_envelope_clear(&env);
	free(payload);
}

/* Enroll who into org with role, signed by by; prefix NULL for none. */
static void
enroll_in(struct tlog *l, const struct actor *by, const struct actor *who,
    enum key_role role, const char *org, const char *prefix)
{
	struct key_entry e;
	struct dsse_envelope env;
	char *payload;
	size_t len;

	memset(&e, 0, sizeof(e));
	e.op = KEY_OP_ENROLL;
	memcpy(e.keyid, who->keyid, sizeof(e.keyid));
	memcpy(e.signer, by->keyid, sizeof(e.signer));
	e.time = 1795000000;
	memcpy(e.public_key, who->public_key, ED25519_PUBLIC_LEN);
	snprintf(e.name, sizeof(e.name), "someone");
	snprintf(e.org, sizeof(e.org), "%s", org);
	e.role = role;
	if (prefix != NULL) {
		e.prefix_count = 1;
		snprintf(e.prefixes[0], sizeof(e.prefixes[0]), "%s", prefix);
	}
	payload = key_entry_build(&e, &len);
	CHECK(payload != NULL);
	CHECK(dsse_sign(TYPE_KEY, (unsigned char *)payload, len, by->secret,
	    by->keyid, &env, NULL) == TRACE_OK);
	add_envelope(l, true, &env);
	dsse_envelope_clear(&env);
	free(payload);
}

#define AMORE_ROLES ((1u << ROLE_BRAND) | (1u << ROLE_INSPECTOR) | \
	(1u << ROLE_ADMIN) | (1u << ROLE_IMPORTER))

/* The org "amore" (880), its admin enrolled by the root, brand and
 * inspector by the admin. */
static void
org_log(struct tlog *l)
{
	tlog_reset(l);
	add_org(l, &root, "amore", AMORE_ROLES, "880");
	enroll_in(l, &root, &admin, ROLE_ADMIN, "amore", "880");
	enroll_in(l, &admin, &brand, ROLE_BRAND, "amore", "8801");
	enroll_in(l, &admin, &inspector, ROLE_INSPECTOR, "amore", "880");
}

static void
seal_and_expect(struct tlog *l, const char *name,
    enum bundle_subject subject, size_t position, const char *code)
{
	char *text;

	tlog_seal(l, &log_signer);
	text = render(l, CHAIN, NULL, 0);
	expect(name, text, subject, position, code);
	free(text);
}

static void
test_org_rules(void)
{
	static struct tlog l;

	/* Every rule kept: verifies. */
	org_log(&l);
	add_event(&l, &brand, LOT, NULL);
	add_event(&l, &inspector, LOT, NULL);
	seal_and_expect(&l, "org log", BUNDLE_SUBJECT_BUNDLE, 0, NULL);

	/* (5) An org entry by an admin that is not the root. */
	org_log(&l);
	add_org(&l, &admin, "amore", AMORE_ROLES, "8");
	add_event(&l, &brand, LOT, NULL);
	seal_and_expect(&l, "org by admin", BUNDLE_SUBJECT_KEY, 4, "root_only");

	/* (2) An admin enrolls an admin. */
	org_log(&l);
	enroll_in(&l, &admin, &late, ROLE_ADMIN, "amore", "880");
	add_event(&l, &brand, LOT, NULL);
	seal_and_expect(&l, "admin enrolls admin", BUNDLE_SUBJECT_KEY, 4,
	    "root_only");

	/* (1) A scoped admin enrolls an unscoped key. */
	org_log(&l);
	enroll_in(&l, &admin, &late, ROLE_IMPORTER, "amore", NULL);
	add_event(&l, &brand, LOT, NULL);
	seal_and_expect(&l, "unscoped importer", BUNDLE_SUBJECT_KEY, 4,
	    "prefix_outside_org");

	/* (6) An enrollment naming an org that is not registered, once
	 * the log has orgs. */
	org_log(&l);
	enroll_in(&l, &root, &late, ROLE_IMPORTER, "nobody", "880");
	add_event(&l, &brand, LOT, NULL);
	seal_and_expect(&l, "unknown org", BUNDLE_SUBJECT_KEY, 4,
	    "unknown_org");

	/* A role the org does not list, by the root itself. */
	org_log(&l);
	enroll_in(&l, &root, &late, ROLE_CUSTOMS, "amore", "880");
	add_event(&l, &brand, LOT, NULL);
	seal_and_expect(&l, "role not in org", BUNDLE_SUBJECT_KEY, 4,
	    "role_not_in_org");

	/* (4) Lot squatting: an importer of an org without prefixes (any
	 * GTIN for its own key) registers the brand's lot. */
	tlog_reset(&l);
	add_org(&l, &root, "hmm", 1u << ROLE_IMPORTER, NULL);
	enroll_in(&l, &root, &importer, ROLE_IMPORTER, "hmm", NULL);
	add_event(&l, &importer, LOT, NULL);
	seal_and_expect(&l, "squatting", BUNDLE_SUBJECT_EVENT, 0,
	    "gtin_outside_org");

	/* The org as it stood at the event: narrowed to 490 before the
	 * brand registers, the brand's own 8801 no longer suffices. */
	org_log(&l);
	add_org(&l, &root, "amore", AMORE_ROLES, "490");
	add_event(&l, &brand, LOT, NULL);
	seal_and_expect(&l, "org narrowed", BUNDLE_SUBJECT_EVENT, 0,
	    "gtin_outside_org");
	/* ... and a registration before the change stands. */
	org_log(&l);
	add_event(&l, &brand, LOT, NULL);
	add_org(&l, &root, "amore", AMORE_ROLES, "490");
	add_event(&l, &inspector, LOT, NULL);
	seal_and_expect(&l, "org narrowed later", BUNDLE_SUBJECT_BUNDLE, 0,
	    NULL);

	/* Round 1: key entries before the first org entry name free-text
	 * orgs and are judged by round 1's rules (standard_log has no org
	 * at all); after it, a free-text org is an unknown one. */
	standard_log(&l);
	add_org(&l, &root, "amore", AMORE_ROLES, "880");
	seal_and_expect(&l, "round-1 keys then an org", BUNDLE_SUBJECT_BUNDLE,
	    0, NULL);
	tlog_reset(&l);
	add_org(&l, &root, "amore", AMORE_ROLES, "880");
	add_key_entry(&l, &root, &brand, KEY_OP_ENROLL, ROLE_BRAND);
	add_event(&l, &brand, LOT, NULL);
	seal_and_expect(&l, "free text after the first org",
	    BUNDLE_SUBJECT_KEY, 1, "unknown_org");

	/* A round-1 key whose free text is the id of an org registered
	 * later is no member: it cannot close that org's recall. */
	{
		char id[2 * SHA256_LEN + 1], recall_id[2 * SHA256_LEN + 1],
		    data[256];

		tlog_reset(&l);
		enroll_org(&l, &importer_b, ROLE_IMPORTER, "amore");
		add_org(&l, &root, "amore", AMORE_ROLES, "880");
		enroll_in(&l, &root, &importer, ROLE_IMPORTER, "amore", "880");
		add_typed(&l, &importer, "product.registered", "{\"name\":"
		    "{\"en\":\"E\"},\"brand\":\"B\",\"origin\":\"KR\"}", id);
		add_typed(&l, &importer, "recall.issued", "{\"reason\":"
		    "\"Microbial\",\"severity\":1,\"action\":\"Stop\"}",
		    recall_id);
		snprintf(data, sizeof(data), "{\"recall\":\"%s\",\"outcome\":"
		    "\"released\"}", recall_id);
		add_typed(&l, &importer_b, "recall.closed", data, id);
		seal_and_expect(&l, "shadowed org closes", BUNDLE_SUBJECT_EVENT,
		    2, "wrong_org");
	}
	tlog_reset(&l);
}

static void
test_consistency(void)
{
	unsigned char leaves[20][MERKLE_HASH_LEN];
	unsigned char proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	struct merkle_bytes elems[MERKLE_PROOF_MAX];
	struct checkpoint a, b, cur;
	struct trace_error err;
	char *na = NULL, *nb = NULL, json[4096];
	size_t len, count = 0, n;

	for (int i = 0; i < 20; i++)
		merkle_leaf_hash(&i, sizeof(i), leaves[i]);
	memset(&a, 0, sizeof(a));
	snprintf(a.origin, sizeof(a.origin), ORIGIN);
	a.size = 7;
	merkle_root(leaves[0], 7, a.root);
	cur = a;
	cur.size = 20;
	merkle_root(leaves[0], 20, cur.root);
	CHECK(checkpoint_sign(&a, &log_signer, &na, &len, NULL) == TRACE_OK);
	CHECK(merkle_prove_consistency(leaves[0], 7, 20, proof, &count, NULL) ==
	    TRACE_OK);
	for (size_t i = 0; i < count; i++)
		elems[i] = merkle_bytes_hash(proof[i]);
	CHECK(bundle_check_consistency(na, strlen(na), &log_verifier, &cur,
	    elems, count, &b, &err) == TRACE_OK);
	CHECK_INT(b.size, 7);
	/* A flipped proof byte: not a prefix. */
	proof[0][0] ^= 1;
	CHECK(bundle_check_consistency(na, strlen(na), &log_verifier, &cur,
	    elems, count, NULL, &err) == TRACE_EBADSIG);
	proof[0][0] ^= 1;
	/* A different tree of the same size: a fork. */
	b = a;
	b.root[0] ^= 1;
	CHECK(checkpoint_sign(&b, &log_signer, &nb, &len, NULL) == TRACE_OK);
	CHECK(bundle_check_consistency(nb, strlen(nb), &log_verifier, &a, NULL,
	    0, NULL, &err) == TRACE_EBADSIG);
	CHECK_STR(err.code, "fork");
	/* The log cannot shrink. */
	b = cur;
	b.size = 3;
	merkle_root(leaves[0], 3, b.root);
	CHECK(bundle_check_consistency(na, strlen(na), &log_verifier, &b, NULL,
	    0, NULL, &err) == TRACE_ERULE);
	CHECK_STR(err.code, "log_shrank");
	/* Another key's previous checkpoint. */
	free(nb);
	CHECK(checkpoint_sign(&a, &other_signer, &nb, &len, NULL) == TRACE_OK);
	CHECK(bundle_check_consistency(nb, strlen(nb), &log_verifier, &cur,
	    elems, count, NULL, &err) == TRACE_EBADSIG);
	CHECK_STR(err.code, "bad_checkpoint");
	/* The proof response parser. */
	{
		struct buf j;
		char h[64];

		buf_init(&j, 0);
		buf_puts(&j, "{\"from\":7,\"to\":20,\"hashes\":[");
		for (size_t i = 0; i < count; i++) {
			base64_encode(proof[i], MERKLE_HASH_LEN, h);
			buf_printf(&j, "%s\"%s\"", i ? "," : "", h);
		}
		buf_puts(&j, "]}");
		snprintf(json, sizeof(json), "%s", j.data);
		buf_free(&j);
	}
	CHECK(bundle_consistency_proof_parse(json, strlen(json), 7, 20, proof,
	    &n, NULL) == TRACE_OK);
	CHECK_INT(n, count);
	CHECK(bundle_consistency_proof_parse(json, strlen(json), 6, 20, proof,
	    &n, NULL) == TRACE_EMALFORMED);
	free(na);
	free(nb);
}

/* --verify BUNDLE ROOT.pub VKEY */
static int
verify_main(const char *path, const char *root_path, const char *vkey)
{
	struct key_pair rk;
	struct note_verifier v;
	struct bundle *b = NULL;
	struct bundle_report r;
	struct trace_error err;
	char *text = NULL;
	size_t len = 0;
	enum trace_status rc;

	if (key_pair_load(root_path, &rk, &err) != TRACE_OK ||
	    note_verifier_parse(vkey, strlen(vkey), &v, &err) != TRACE_OK ||
	    file_read_all(path, BUNDLE_TEXT_MAX, &text, &len, &err) !=
	    TRACE_OK) {
		fprintf(stderr, "test_bundle: %s\n", err.message);
		return 2;
	}
	if (bundle_parse(text, len, &b, &err) != TRACE_OK) {
		printf("FAIL  bundle: %s\n", err.message);
		free(text);
		return 1;
	}
	rc = bundle_verify(b, rk.public_key, &v, &r, &err);
	print_report(&r);
	printf("%s: %zu events, %zu key entries, %zu signatures, %zu proofs, "
	    "checkpoint size %llu\n", rc == TRACE_OK ? "VERIFIED" :
	    "NOT VERIFIED", r.event_count, r.key_count, r.signatures, r.proofs,
	    (unsigned long long)r.checkpoint.size);
	bundle_report_free(&r);
	bundle_free(b);
	free(text);
	return rc == TRACE_OK ? 0 : 1;
}

/*
 * --fuzz-seed OUT: root enrolls a brand and an inspector; the brand
 * registers, the inspector inspects and corrects its inspection; the root
 * revokes the inspector after.  Every key is fixed, so the file is the same
 * on every run and verifies under the keys printed for fuzz_bundle.c.
 */
static int
fuzz_seed_main(const char *out)
{
	static struct tlog l;
	struct actor *actors[] = { &root, &brand, &inspector };
	struct note_signer signer;
	struct note_verifier verifier;
	struct bundle_report r;
	struct trace_error err;
	char target[2 * SHA256_LEN + 1], vkey[NOTE_VERIFIER_KEY_MAX],
	    pub[2 * ED25519_PUBLIC_LEN + 1], *text;
	unsigned char secret[ED25519_SECRET_LEN];
	int rc = 1;

	for (size_t k = 0; k < sizeof(actors) / sizeof(actors[0]); k++) {
		memset(actors[k]->secret, (int)(0x11 * (k + 1)),
		    ED25519_SECRET_LEN);
		ed25519_public_from_secret(actors[k]->secret,
		    actors[k]->public_key, NULL);
		key_id(actors[k]->public_key, actors[k]->keyid);
	}
	memset(secret, 0x77, sizeof(secret));
	if (note_signer_from_secret(ORIGIN, secret, &signer, &err) != TRACE_OK)
		return 1;
	note_signer_verifier(&signer, &verifier);
	log_verifier = verifier;
	add_key_entry(&l, &root, &brand, KEY_OP_ENROLL, ROLE_BRAND);
	add_key_entry(&l, &root, &inspector, KEY_OP_ENROLL, ROLE_INSPECTOR);
	add_event(&l, &brand, LOT, NULL);
	add_event(&l, &inspector, LOT, NULL);
	hex_encode(l.prev, SHA256_LEN, target);
	add_event(&l, &inspector, LOT, target);
	add_key_entry(&l, &root, &inspector, KEY_OP_REVOKE, ROLE_INSPECTOR);
	tlog_seal(&l, &signer);
	text = render(&l, CHAIN, NULL, 0);
	/* A seed that does not verify would leave the deep paths unfuzzed. */
	if (verify_text(text, &r) != TRACE_OK) {
		print_report(&r);
	} else if (file_write_atomic(out, text, strlen(text), 0644, 0, &err) !=
	    TRACE_OK) {
		fprintf(stderr, "test_bundle: %s\n", err.message);
	} else {
		hex_encode(root.public_key, ED25519_PUBLIC_LEN, pub);
		note_verifier_key_format(verifier.name, verifier.public_key,
		    vkey, sizeof(vkey), NULL);
		printf("%s: %zu bytes\nroot public key %s\nlog vkey %s\n", out,
		    strlen(text), pub, vkey);
		rc = 0;
	}
	bundle_report_free(&r);
	note_signer_clear(&signer);
	free(text);
	tlog_reset(&l);
	return rc;
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --bench N: whole verification vs. the signature checks alone. */
static int
bench_main(long n)
{
	static struct tlog l;
	struct bundle *b = NULL;
	struct bundle_report r;
	double t0, t_sig, t_all;
	char *text;

	if (n < 2 || n > MAX_ENTRIES - 10)
		return 2;
	add_key_entry(&l, &root, &brand, KEY_OP_ENROLL, ROLE_BRAND);
	add_key_entry(&l, &root, &inspector, KEY_OP_ENROLL, ROLE_INSPECTOR);
	add_event(&l, &brand, LOT, NULL);
	for (long i = 1; i < n; i++)
		add_event(&l, &inspector, LOT, NULL);
	tlog_seal(&l, &log_signer);
	text = render(&l, CHAIN, NULL, 0);
	if (bundle_parse(text, strlen(text), &b, NULL) != TRACE_OK)
		return 1;
	t0 = seconds();
	for (size_t i = 0; i < b->event_count; i++)
		dsse_verify(&b->events[i].env, i == 0 ? brand.public_key :
		    inspector.public_key, NULL, NULL);
	t_sig = seconds() - t0;
	bundle_free(b);
	t0 = seconds();
	bundle_parse(text, strlen(text), &b, NULL);
	bundle_verify(b, root.public_key, &log_verifier, &r, NULL);
	t_all = seconds() - t0;
	printf("%ld events: signatures alone %.3f s, parse + full verification "
	    "%.3f s, ratio %.3f (target <= 1.3), %zu failures\n", n, t_sig,
	    t_all, t_all / t_sig, r.failure_count);
	bundle_report_free(&r);
	bundle_free(b);
	free(text);
	tlog_reset(&l);
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned char secret[ED25519_SECRET_LEN], pub[ED25519_PUBLIC_LEN];

	crypto_init();
	if (argc == 5 && strcmp(argv[1], "--verify") == 0)
		return verify_main(argv[2], argv[3], argv[4]);
	if (argc == 3 && strcmp(argv[1], "--fuzz-seed") == 0)
		return fuzz_seed_main(argv[2]);
	actor_make(&root);
	actor_make(&admin);
	actor_make(&brand);
	actor_make(&inspector);
	actor_make(&late);
	ed25519_generate(secret, pub, NULL);
	note_signer_from_secret(ORIGIN, secret, &log_signer, NULL);
	note_signer_verifier(&log_signer, &log_verifier);
	ed25519_generate(secret, pub, NULL);
	note_signer_from_secret(ORIGIN, secret, &other_signer, NULL);
	if (argc == 3 && strcmp(argv[1], "--bench") == 0)
		return bench_main(atol(argv[2]));
	test_cases();
	test_fold_rules();
	test_org_rules();
	test_consistency();
	test_pending();
	test_compromise();
	test_round1_pinned();
	test_receipt_promised();
	CHECK_DONE();
}
