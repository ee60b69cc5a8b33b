/*
 * verify.c - trace-agent verify: check a chain's bundle (SPEC sections 4
 * and 5) offline, trusting nothing but the root admin key and the log's
 * verifier key, and print what was checked and what failed.
 *
 * Checked, in this order:
 *   checkpoint   the signed note verifies under --log-vkey;
 *   [previous]   with --previous, the old checkpoint verifies and the new
 *                one is consistent with it (RFC 9162 2.1.4, proof from the
 *                server);
 *   key entries  in log order: each one's inclusion proof, its signature
 *                under the admin key that signed it (root or an admin
 *                enrolled earlier in the log), and the registry rules
 *                (policy_check_key_entry); revocations apply from their log
 *                index on;
 *   events       each one's inclusion proof, seq contiguous from 0, prev =
 *                id of the event before, log indexes increasing, chain =
 *                the bundle's chain, the signature under the signer's
 *                enrolled key, and role/window/revocation/GTIN scope at
 *                its log index (policy_check_event), corrections included.
 *
 * Exit 0 only if every check passed.  A libtrace bundle verifier (issue 5)
 * is planned; when it lands, this file should call it and keep only the
 * loading and the report.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "libtrace/encoding.h"
#include "libtrace/fileio.h"
#include "libtrace/merkle.h"
#include "libtrace/note.h"
#include "libtrace/policy.h"

#define BUNDLE_FILE_MAX (256L * 1024 * 1024)

static const char verify_usage[] =
"usage: trace-agent verify (BUNDLE.json | --gtin G --lot L) --root ADMIN.pub\n"
"           --log-vkey VKEY [--previous CHECKPOINT] [--server URL]\n"
"\n"
"Check a chain's bundle offline: the checkpoint's signature, every\n"
"inclusion proof against it, every signature, every seq/prev link, and\n"
"every signer's key entry (role, validity window, revocation, GTIN\n"
"prefixes) back to the root admin key.  Prints what was checked.\n"
"\n"
"  BUNDLE.json        a bundle file (- for standard input), or\n"
"  --gtin G --lot L   fetch the chain's bundle from the server\n"
"  --root ADMIN.pub   the trust anchor (the root admin public key)\n"
"  --log-vkey VKEY    the log's verifier key (name+hash+base64), or a\n"
"                     file holding it\n"
"  --previous FILE    a checkpoint seen before: the log must have only\n"
"                     grown since (needs the server for the proof)\n"
"\n"
"exit status: 0 everything checks; 1 something failed (the report says\n"
"what); 2 usage; 3 the server could not be reached.\n";

struct verify {
	const struct agent *a;
	const char *chain;                 /* the bundle's "chain" */
	struct checkpoint cp;
	bool cp_ok;
	struct key_state *states;          /* [0] is the root */
	size_t state_count;
	size_t problems, checks;
};

static void
verify_fail(struct verify *v, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
verify_fail(struct verify *v, const char *what, const char *fmt, ...)
{
	va_list ap;

	v->problems++;
	printf("FAIL  %s: ", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static struct key_state *
state_find(struct verify *v, const char *keyid)
{
	for (size_t i = 0; i < v->state_count; i++)
		if (strcmp(v->states[i].entry.keyid, keyid) == 0)
			return &v->states[i];
	return NULL;
}

/* The leaf of a statement is its PAE (SPEC section 4). */
static bool
leaf_of(const struct dsse_envelope *env, unsigned char leaf[MERKLE_HASH_LEN])
{
	size_t len = 0;
	unsigned char *pae = dsse_pae(env->type, env->payload,
	    env->payload_len, &len);

	if (pae == NULL)
		return false;
	merkle_leaf_hash(pae, len, leaf);
	free(pae);
	return true;
}

/* Inclusion of env at index against the checkpoint; "" or why not. */
static bool
proof_check(struct verify *v, const struct dsse_envelope *env,
    long long index, const struct json_value *proof, char *why, size_t size)
{
	struct merkle_bytes hashes[MERKLE_PROOF_MAX];
	unsigned char raw[MERKLE_PROOF_MAX][48], leaf[MERKLE_HASH_LEN];
	struct trace_error err;
	size_t count;

	if (!v->cp_ok) {
		snprintf(why, size, "no valid checkpoint to check against");
		return false;
	}
	if (proof == NULL || proof->type != JSON_ARRAY ||
	    proof->u.array.count > MERKLE_PROOF_MAX) {
		snprintf(why, size, "no usable inclusion proof");
		return false;
	}
	if (index < 0 || (unsigned long long)index >= v->cp.size) {
		snprintf(why, size, "log index %lld is outside the checkpoint "
		    "(size %llu)", index, (unsigned long long)v->cp.size);
		return false;
	}
	count = proof->u.array.count;
	for (size_t i = 0; i < count; i++) {
		const struct json_value *h = proof->u.array.items[i];
		size_t n = 0;

		if (h->type != JSON_STRING || h->u.string.len > 64 ||
		    base64_decode(h->u.string.ptr, h->u.string.len, raw[i], &n,
		    NULL) != TRACE_OK) {
			snprintf(why, size, "proof element %zu is not base64",
			    i);
			return false;
		}
		hashes[i].ptr = raw[i];
		hashes[i].len = n;
	}
	if (!leaf_of(env, leaf)) {
		snprintf(why, size, "out of memory");
		return false;
	}
	if (merkle_verify_inclusion(merkle_bytes_hash(leaf), (uint64_t)index,
	    v->cp.size, hashes, count, merkle_bytes_hash(v->cp.root), &err) !=
	    TRACE_OK) {
		snprintf(why, size, "inclusion proof: %s", err.message);
		return false;
	}
	return true;
}

/* Read {"envelope", "logIndex", "proof"}. */
static bool
item_read(const struct json_value *item, struct dsse_envelope *env,
    long long *log_index, const struct json_value **proof, char *why,
    size_t size)
{
	struct trace_error err;

	memset(env, 0, sizeof(*env));
	*proof = NULL;
	if (item->type != JSON_OBJECT ||
	    json_get_int(item, "logIndex", true, log_index, &err) != TRACE_OK) {
		snprintf(why, size, "no logIndex");
		return false;
	}
	*proof = json_object_get(item, "proof");
	if (json_object_get(item, "envelope") == NULL ||
	    dsse_envelope_from_json(json_object_get(item, "envelope"), env,
	    &err) != TRACE_OK) {
		snprintf(why, size, "envelope: %s", err.message);
		return false;
	}
	return true;
}

static int
log_index_compare(const void *a, const void *b)
{
	long long x = (*(const long long (*)[2])a)[0];
	long long y = (*(const long long (*)[2])b)[0];

	return x < y ? -1 : x > y;
}

static void
verify_keys(struct verify *v, const struct json_value *keys)
{
	long long (*order)[2];
	size_t count = keys != NULL && keys->type == JSON_ARRAY ?
	    keys->u.array.count : 0;

	if (count == 0)
		return;
	if ((order = calloc(count, sizeof(*order))) == NULL) {
		verify_fail(v, "keys", "out of memory");
		return;
	}
	/* Apply in log order: that is the order the registry changed in. */
	for (size_t i = 0; i < count; i++) {
		long long index = -1;

		json_get_int(keys->u.array.items[i], "logIndex", false, &index,
		    NULL);
		order[i][0] = index;
		order[i][1] = (long long)i;
	}
	qsort(order, count, sizeof(*order), log_index_compare);
	for (size_t k = 0; k < count; k++) {
		const struct json_value *item = keys->u.array.items[order[k][1]];
		const struct json_value *proof;
		struct dsse_envelope env;
		struct key_entry entry;
		struct key_state *signer, *target, *grown;
		struct trace_error err;
		char what[96], why[512];
		long long index;

		v->checks++;
		snprintf(what, sizeof(what), "key entry keys[%lld]", order[k][1]);
		if (!item_read(item, &env, &index, &proof, why, sizeof(why))) {
			verify_fail(v, what, "%s", why);
			continue;
		}
		snprintf(what, sizeof(what), "key entry at log index %lld",
		    index);
		if (strcmp(env.type, TYPE_KEY) != 0 ||
		    key_entry_parse(env.payload, env.payload_len, &entry, &err) !=
		    TRACE_OK) {
			verify_fail(v, what, "not a valid key entry: %s",
			    strcmp(env.type, TYPE_KEY) ? "wrong payloadType" :
			    err.message);
			goto next;
		}
		if (!proof_check(v, &env, index, proof, why, sizeof(why))) {
			verify_fail(v, what, "%s", why);
			goto next;
		}
		signer = state_find(v, entry.signer);
		if (signer == NULL || (!signer->is_root &&
		    signer->enrolled_at >= index)) {
			verify_fail(v, what, "signed by %s, which is not an "
			    "admin key enrolled before it", entry.signer);
			goto next;
		}
		if (dsse_verify(&env, signer->entry.public_key, entry.signer,
		    &err) != TRACE_OK) {
			verify_fail(v, what, "signature: %s", err.message);
			goto next;
		}
		target = state_find(v, entry.keyid);
		if (policy_check_key_entry(&entry, signer, target, index, &err) !=
		    TRACE_OK) {
			verify_fail(v, what, "%s", err.message);
			goto next;
		}
		if (entry.op == KEY_OP_REVOKE) {
			target->revoked = true;
			target->revoked_at = index;
			snprintf(target->revoke_reason,
			    sizeof(target->revoke_reason), "%s", entry.reason);
			printf("ok    %s: revoke %s (\"%s\") by %s%s\n", what,
			    entry.keyid, entry.reason, entry.signer,
			    signer->is_root ? " (root)" : "");
			goto next;
		}
		/* signer points into states: print before it may move. */
		printf("ok    %s: enroll %s (%s, %s, %s) by %s%s\n", what,
		    entry.keyid, key_role_name(entry.role), entry.name, entry.org,
		    entry.signer, signer->is_root ? " (root)" : "");
		grown = realloc(v->states, (v->state_count + 1) *
		    sizeof(*grown));
		if (grown == NULL) {
			verify_fail(v, what, "out of memory");
			goto next;
		}
		v->states = grown;
		memset(&v->states[v->state_count], 0, sizeof(*grown));
		v->states[v->state_count].entry = entry;
		v->states[v->state_count++].enrolled_at = index;
next:
		dsse_envelope_clear(&env);
	}
	free(order);
}

static void
verify_events(struct verify *v, const struct json_value *events)
{
	unsigned char prev_id[SHA256_LEN];
	long long prev_index = -1;
	bool have_prev = false;
	size_t count = events != NULL && events->type == JSON_ARRAY ?
	    events->u.array.count : 0;
	/* signer of each event by id, for corrections */
	char (*ids)[2 * SHA256_LEN + 1] = calloc(count + 1, sizeof(*ids));
	char (*signers)[KEYID_LEN + 1] = calloc(count + 1, sizeof(*signers));

	if (count == 0)
		verify_fail(v, "events", "the bundle has no events");
	if (ids == NULL || signers == NULL)
		count = 0;
	for (size_t i = 0; i < count; i++) {
		const struct json_value *proof;
		struct dsse_envelope env;
		struct trace_event ev;
		struct key_state *signer;
		struct trace_error err;
		char what[96], why[512], id[2 * SHA256_LEN + 1];
		long long index;
		size_t before = v->problems;

		memset(&ev, 0, sizeof(ev));
		v->checks++;
		snprintf(what, sizeof(what), "event %zu", i);
		if (!item_read(events->u.array.items[i], &env, &index, &proof,
		    why, sizeof(why))) {
			verify_fail(v, what, "%s", why);
			have_prev = false;
			continue;
		}
		hex_encode(env.id, SHA256_LEN, id);
		if (strcmp(env.type, TYPE_EVENT) != 0 ||
		    event_parse(env.payload, env.payload_len, &ev, &err) !=
		    TRACE_OK) {
			verify_fail(v, what, "not a valid event: %s",
			    strcmp(env.type, TYPE_EVENT) ? "wrong payloadType" :
			    err.message);
			/* Its id still links the next one. */
			memcpy(prev_id, env.id, SHA256_LEN);
			have_prev = true;
			dsse_envelope_clear(&env);
			continue;
		}
		snprintf(what, sizeof(what), "event %zu (seq %lld, %s)", i,
		    ev.seq, event_type_name(ev.type));
		if (v->chain != NULL && strcmp(ev.chain, v->chain) != 0)
			verify_fail(v, what, "belongs to chain %s, not %s",
			    ev.chain, v->chain);
		if (ev.seq != (long long)i)
			verify_fail(v, what, "seq %lld where %zu was due: an "
			    "event is missing or out of order", ev.seq, i);
		if (i > 0 && (!ev.has_prev || !have_prev ||
		    memcmp(ev.prev, prev_id, SHA256_LEN) != 0))
			verify_fail(v, what, "prev does not link to the event "
			    "before it");
		if (index <= prev_index)
			verify_fail(v, what, "log index %lld is not after the "
			    "previous event's %lld", index, prev_index);
		if (!proof_check(v, &env, index, proof, why, sizeof(why)))
			verify_fail(v, what, "%s", why);
		signer = state_find(v, ev.signer);
		if (signer == NULL)
			verify_fail(v, what, "signer %s has no valid key entry "
			    "in the bundle", ev.signer);
		else if (dsse_verify(&env, signer->entry.public_key, ev.signer,
		    &err) != TRACE_OK)
			verify_fail(v, what, "signature: %s", err.message);
		else if (policy_check_event(&ev, signer, index, &err) !=
		    TRACE_OK)
			verify_fail(v, what, "signer %s: %s", ev.signer,
			    err.message);
		if (signer != NULL && ev.type == EVENT_CORRECTION) {
			const char *target = event_data_string(&ev, "corrects");
			size_t j;

			for (j = 0; j < i && (target == NULL ||
			    strcmp(ids[j], target) != 0); j++)
				;
			if (j == i)
				verify_fail(v, what, "corrects an event that is "
				    "not earlier in this chain");
			else if (policy_check_correction(&ev, signer,
			    signers[j], &err) != TRACE_OK)
				verify_fail(v, what, "%s", err.message);
		}
		if (v->problems == before)
			printf("ok    %s: %s, log index %lld, signed by %s "
			    "(%s)\n", what, id, index, ev.signer,
			    key_role_name(signer->entry.role));
		memcpy(ids[i], id, sizeof(ids[i]));
		memcpy(signers[i], ev.signer, sizeof(signers[i]));
		memcpy(prev_id, env.id, SHA256_LEN);
		have_prev = true;
		prev_index = index;
		event_free(&ev);
		dsse_envelope_clear(&env);
	}
	free(ids);
	free(signers);
}

/* VKEY given inline or as a file holding it. */
static enum trace_status
load_vkey(const char *arg, struct note_verifier *out, struct trace_error *err)
{
	char *text = NULL;
	size_t len = 0;
	enum trace_status rc;

	if (file_read_all(arg, 4096, &text, &len, NULL) != TRACE_OK)
		return note_verifier_parse(arg, strlen(arg), out, err);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
	    text[len - 1] == ' '))
		len--;
	rc = note_verifier_parse(text, len, out, err);
	free(text);
	return rc;
}

/* --previous: the log only grew between the two checkpoints. */
static void
verify_previous(struct verify *v, const char *path,
    const struct note_verifier *verifier)
{
	struct checkpoint old;
	struct http_response resp = { 0 };
	struct trace_error err;
	struct json_doc *doc = NULL;
	const struct json_value *hashes;
	struct merkle_bytes proof[MERKLE_PROOF_MAX];
	unsigned char raw[MERKLE_PROOF_MAX][48];
	char *text = NULL, query[128];
	size_t len = 0, count = 0;

	v->checks++;
	if (file_read_all(path, NOTE_MAX_LEN, &text, &len, &err) != TRACE_OK ||
	    checkpoint_open(text, len, verifier, &old, &err) != TRACE_OK) {
		verify_fail(v, "previous checkpoint", "%s", err.message);
		goto out;
	}
	if (!v->cp_ok)
		goto out;   /* already reported */
	if (strcmp(old.origin, v->cp.origin) != 0 || old.size > v->cp.size) {
		verify_fail(v, "previous checkpoint", "log %s size %llu cannot "
		    "precede log %s size %llu", old.origin,
		    (unsigned long long)old.size, v->cp.origin,
		    (unsigned long long)v->cp.size);
		goto out;
	}
	if (old.size == v->cp.size || old.size == 0) {
		if (old.size != 0 && memcmp(old.root, v->cp.root,
		    MERKLE_HASH_LEN) != 0)
			verify_fail(v, "previous checkpoint", "same size, "
			    "different root: the log forked");
		else
			printf("ok    previous checkpoint: size %llu\n",
			    (unsigned long long)old.size);
		goto out;
	}
	snprintf(query, sizeof(query), "/api/v1/proofs/consistency?from=%llu"
	    "&to=%llu", (unsigned long long)old.size,
	    (unsigned long long)v->cp.size);
	if (http_exchange(v->a, "verify", "GET", query, NULL, NULL, 0, 3,
	    &resp, &err) != TRACE_OK || resp.status != 200 ||
	    http_response_json(&resp, &doc, &err) != TRACE_OK ||
	    (hashes = json_object_get(json_doc_root(doc), "hashes")) == NULL ||
	    hashes->type != JSON_ARRAY ||
	    hashes->u.array.count > MERKLE_PROOF_MAX) {
		verify_fail(v, "previous checkpoint", "no consistency proof "
		    "from the server (%s)", resp.status ? "bad answer" :
		    err.message);
		goto out;
	}
	for (count = 0; count < hashes->u.array.count; count++) {
		const struct json_value *h = hashes->u.array.items[count];
		size_t n = 0;

		if (h->type != JSON_STRING || h->u.string.len > 64 ||
		    base64_decode(h->u.string.ptr, h->u.string.len,
		    raw[count], &n, NULL) != TRACE_OK)
			break;
		proof[count].ptr = raw[count];
		proof[count].len = n;
	}
	if (count != hashes->u.array.count ||
	    merkle_verify_consistency(old.size, v->cp.size, proof, count,
	    merkle_bytes_hash(old.root), merkle_bytes_hash(v->cp.root), &err) !=
	    TRACE_OK)
		verify_fail(v, "previous checkpoint", "not consistent with the "
		    "new checkpoint: %s", count != hashes->u.array.count ?
		    "bad proof element" : err.message);
	else
		printf("ok    previous checkpoint: size %llu is a prefix of "
		    "size %llu\n", (unsigned long long)old.size,
		    (unsigned long long)v->cp.size);
out:
	json_doc_free(doc);
	http_response_free(&resp);
	free(text);
}

/* Get the bundle text from a file or the server. */
static int
load_bundle(struct agent *a, const char *file, const char *gtin,
    const char *lot, char **text, size_t *len)
{
	struct http_response resp = { 0 };
	struct trace_error err;
	char gtin14[GTIN14_LEN + 1], chain[CHAIN_ID_MAX + 1], path[128 +
	    CHAIN_ID_MAX], why[512];

	if (file != NULL) {
		enum trace_status st = strcmp(file, "-") == 0 ?
		    file_read_fd(0, (size_t)BUNDLE_FILE_MAX, text, len, &err) :
		    file_read_all(file, (size_t)BUNDLE_FILE_MAX, text, len, &err);

		if (st != TRACE_OK) {
			agent_report("verify", &err);
			return AGENT_EXIT_FAILED;
		}
		return AGENT_EXIT_OK;
	}
	if (gs1_gtin_normalize(gtin, strlen(gtin), gtin14, "gtin", &err) !=
	    TRACE_OK || gs1_attr_check(lot, strlen(lot), "lot", &err) !=
	    TRACE_OK) {
		agent_report("verify", &err);
		return AGENT_EXIT_USAGE;
	}
	gs1_chain_id(gtin14, lot, chain, sizeof(chain));
	snprintf(path, sizeof(path), "/api/v1/bundles/%s", chain);
	if (http_exchange(a, "verify", "GET", path, NULL, NULL, 0, 3, &resp,
	    &err) != TRACE_OK || http_status_temporary(resp.status)) {
		agent_warn("verify", "%s", resp.status ? "server unavailable" :
		    err.message);
		http_response_free(&resp);
		return AGENT_EXIT_UNREACHABLE;
	}
	if (resp.status != 200) {
		http_describe_error(&resp, why, sizeof(why));
		agent_warn("verify", "no bundle for %s: %s", chain, why);
		http_response_free(&resp);
		return AGENT_EXIT_FAILED;
	}
	*text = resp.body;
	*len = resp.len;
	resp.body = NULL;
	http_response_free(&resp);
	return AGENT_EXIT_OK;
}

int
cmd_verify(struct agent *a, int argc, char **argv)
{
	enum { OPT_GTIN = OPT_FIRST_LOCAL, OPT_LOT, OPT_ROOT, OPT_VKEY,
		OPT_PREVIOUS };
	static const struct option options[] = {
		{ "gtin", required_argument, NULL, OPT_GTIN },
		{ "lot", required_argument, NULL, OPT_LOT },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "log-vkey", required_argument, NULL, OPT_VKEY },
		{ "previous", required_argument, NULL, OPT_PREVIOUS },
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct json_limits limits = {
		.max_size = (size_t)BUNDLE_FILE_MAX, .max_depth = 16,
		.max_string = 1024 * 1024, .max_values = 64 * 1024 * 1024,
	};
	const char *gtin = NULL, *lot = NULL, *root_path = NULL, *vkey = NULL,
	    *previous = NULL, *file = NULL, *checkpoint = NULL;
	struct verify v = { .a = a };
	struct note_verifier verifier;
	struct key_pair root;
	struct trace_error err;
	struct json_doc *doc = NULL;
	const struct json_value *bundle;
	char *text = NULL;
	size_t len = 0;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (agent_common_option(a, c, optarg))
			continue;
		switch (c) {
		case OPT_GTIN: gtin = optarg; break;
		case OPT_LOT: lot = optarg; break;
		case OPT_ROOT: root_path = optarg; break;
		case OPT_VKEY: vkey = optarg; break;
		case OPT_PREVIOUS: previous = optarg; break;
		case 'h': fputs(verify_usage, stdout); return AGENT_EXIT_OK;
		default: return agent_usage_error("verify", "bad option");
		}
	}
	if (optind + 1 == argc)
		file = argv[optind];
	else if (optind < argc)
		return agent_usage_error("verify", "one bundle file at most");
	if ((file == NULL) == (gtin == NULL || lot == NULL) ||
	    (file != NULL && (gtin != NULL || lot != NULL)))
		return agent_usage_error("verify", "give BUNDLE.json or "
		    "--gtin and --lot");
	if (root_path == NULL || vkey == NULL)
		return agent_usage_error("verify", "--root and --log-vkey are "
		    "required");
	if (key_pair_load(root_path, &root, &err) != TRACE_OK) {
		agent_report("verify", &err);
		return AGENT_EXIT_FAILED;
	}
	key_pair_wipe(&root);   /* a .key works too; only the public half */
	if (load_vkey(vkey, &verifier, &err) != TRACE_OK) {
		agent_report("verify", &err);
		return AGENT_EXIT_USAGE;
	}
	if ((rc = load_bundle(a, file, gtin, lot, &text, &len)) !=
	    AGENT_EXIT_OK)
		return rc;
	rc = AGENT_EXIT_FAILED;
	if ((v.states = calloc(1, sizeof(*v.states))) == NULL)
		goto out;
	policy_root_state(root.public_key, &v.states[0]);
	v.state_count = 1;
	if (json_parse(text, len, &limits, &doc, &err) != TRACE_OK ||
	    (bundle = json_doc_root(doc))->type != JSON_OBJECT) {
		printf("FAIL  bundle: not a JSON object (%s)\n", err.message);
		goto out;
	}
	json_get_string(bundle, "chain", false, &v.chain, NULL, NULL);
	printf("bundle of %s\n", v.chain != NULL ? v.chain : "(no chain)");
	if (v.chain == NULL)
		verify_fail(&v, "bundle", "no \"chain\"");
	v.checks++;
	if (json_get_string(bundle, "checkpoint", true, &checkpoint, &len,
	    &err) != TRACE_OK)
		verify_fail(&v, "checkpoint", "%s", err.message);
	else if (checkpoint_open(checkpoint, len, &verifier, &v.cp, &err) !=
	    TRACE_OK)
		verify_fail(&v, "checkpoint", "%s", err.message);
	else {
		v.cp_ok = true;
		printf("ok    checkpoint: %s, size %llu, signed by %s\n",
		    v.cp.origin, (unsigned long long)v.cp.size, verifier.name);
	}
	if (previous != NULL)
		verify_previous(&v, previous, &verifier);
	verify_keys(&v, json_object_get(bundle, "keys"));
	verify_events(&v, json_object_get(bundle, "events"));
	if (v.problems == 0) {
		printf("verified: %zu checks passed\n", v.checks);
		rc = AGENT_EXIT_OK;
	} else {
		printf("NOT VERIFIED: %zu problem%s\n", v.problems,
		    v.problems == 1 ? "" : "s");
	}
out:
	free(v.states);
	json_doc_free(doc);
	free(text);
	return rc;
}
