/*
 * test_tlogpolicy.c - C2SP tlog-policy: the spec's example policy (two
 * levels of groups) parsed and its quorum evaluated for every subset of
 * witnesses, each syntax rule refused when broken, and tlog_policy_verify
 * over real log signatures and cosignatures.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/cosign.h"
#include "libtrace/crypto.h"
#include "libtrace/note.h"
#include "libtrace/tlogpolicy.h"
#include "check.h"

#define ORIGIN "trace.example/log"

static struct note_signer log_signer, witness_signers[6];
static char log_vkey[NOTE_VERIFIER_KEY_MAX];
static char witness_vkeys[6][NOTE_VERIFIER_KEY_MAX];
static char policy_text[8192];

static void
make_keys(void)
{
	unsigned char seed[32];

	memset(seed, 'L', 32);
	CHECK_INT(note_signer_from_secret(ORIGIN, seed, &log_signer, NULL),
	    TRACE_OK);
	CHECK_INT(note_verifier_key_format(ORIGIN, log_signer.public_key,
	    log_vkey, sizeof(log_vkey), NULL), TRACE_OK);
	for (int i = 0; i < 6; i++) {
		char name[64];

		memset(seed, 'a' + i, 32);
		snprintf(name, sizeof(name), "w%d.example/witness", i);
		CHECK_INT(cosign_signer_from_secret(name, seed,
		    &witness_signers[i], NULL), TRACE_OK);
		CHECK_INT(note_vkey_format(name, NOTE_TYPE_COSIGNATURE_V1,
		    witness_signers[i].public_key, witness_vkeys[i],
		    sizeof(witness_vkeys[i]), NULL), TRACE_OK);
	}
	/* tlog-policy "Example policy", keys filled in, with comments,
	 * tabs and blank lines. */
	snprintf(policy_text, sizeof(policy_text),
	    "# example\n"
	    "log %s https://trace.example/\n"
	    "\n"
	    "witness X1 %s\n"
	    "witness X2 %s https://x2.example/\n"
	    "\twitness  X3\t%s  \n"
	    "group X-witnesses 2 X1 X2 X3\n"
	    "   # indented comment\n"
	    "witness Y1 %s\n"
	    "witness Y2 %s\n"
	    "witness Y3 %s\n"
	    "group Y-witnesses any Y1 Y2 Y3\n"
	    "\n"
	    "group X-and-Y all X-witnesses Y-witnesses\n"
	    "quorum X-and-Y\n",
	    log_vkey, witness_vkeys[0], witness_vkeys[1], witness_vkeys[2],
	    witness_vkeys[3], witness_vkeys[4], witness_vkeys[5]);
}

static void
test_example(void)
{
	struct tlog_policy *p = NULL;
	struct trace_error err;

	CHECK_INT(tlog_policy_parse(policy_text, strlen(policy_text), &p,
	    &err), TRACE_OK);
	if (p == NULL) {
		fprintf(stderr, "%s\n", err.message);
		return;
	}
	CHECK_INT(p->log_count, 1);
	CHECK_STR(p->logs[0].key.name, ORIGIN);
	CHECK_STR(p->logs[0].url, "https://trace.example/");
	CHECK_INT(p->witness_count, 6);
	CHECK_STR(p->witnesses[2].name, "X3");
	CHECK_STR(p->witnesses[1].url, "https://x2.example/");
	CHECK_STR(p->witnesses[0].url, "");
	CHECK_INT(p->witnesses[0].key.key_hash, witness_signers[0].key_hash);
	CHECK_INT(p->group_count, 3);
	CHECK_INT(p->groups[0].threshold, 2);
	CHECK_INT(p->groups[1].threshold, 1);
	CHECK_INT(p->groups[2].threshold, 2);
	CHECK_INT(p->quorum, TLOG_POLICY_GROUP_BASE + 2);
	/* Every subset: met iff >= 2 of X1-X3 and >= 1 of Y1-Y3. */
	for (unsigned mask = 0; mask < 64; mask++) {
		bool w[TLOG_POLICY_WITNESSES_MAX] = { false };
		unsigned x = 0, y = 0;

		for (int i = 0; i < 6; i++) {
			w[i] = (mask >> i) & 1;
			if (w[i])
				*(i < 3 ? &x : &y) += 1;
		}
		CHECK_MSG(tlog_policy_quorum_met(p, w) == (x >= 2 && y >= 1),
		    "mask %02x", mask);
	}
	tlog_policy_free(p);
	tlog_policy_free(NULL);
}

/* Parse "prefix" with the keys substituted; expect the code on a line. */
static void
refused(const char *text, const char *code, const char *field)
{
	struct tlog_policy *p = (struct tlog_policy *)1;
	struct trace_error err;

	CHECK_INT(tlog_policy_parse(text, strlen(text), &p, &err),
	    TRACE_EMALFORMED);
	CHECK(p == NULL);
	CHECK_MSG(strcmp(err.code, code) == 0, "%s: code %s, want %s", text,
	    err.code, code);
	if (field != NULL)
		CHECK_STR(err.field, field);
}

static void
test_refused(void)
{
	char t[4096];
	const char *w0 = witness_vkeys[0], *w1 = witness_vkeys[1];

	refused("", "missing_quorum", NULL);
	refused("log x\n", "bad_vkey", "line 1");
	snprintf(t, sizeof(t), "witness A %s\nquorum A", w0);
	refused(t, "unterminated_line", "line 2");
	snprintf(t, sizeof(t), "witness A %s\nquorum A\nquorum A\n", w0);
	refused(t, "duplicate_quorum", "line 3");
	refused("quorum A\n", "undefined_name", "line 1");
	snprintf(t, sizeof(t), "quorum A\nwitness A %s\n", w0);
	refused(t, "undefined_name", "line 1");
	snprintf(t, sizeof(t), "witness A %s\nwitness A %s\nquorum A\n", w0,
	    w1);
	refused(t, "duplicate_name", "line 2");
	snprintf(t, sizeof(t), "witness A %s\nwitness B %s\nquorum A\n", w0,
	    w0);
	refused(t, "duplicate_witness", "line 2");
	snprintf(t, sizeof(t), "witness none %s\nquorum none\n", w0);
	refused(t, "reserved_name", "line 1");
	/* A log key where a witness key belongs, and the reverse. */
	snprintf(t, sizeof(t), "witness A %s\nquorum A\n", log_vkey);
	refused(t, "bad_vkey", "line 1");
	snprintf(t, sizeof(t), "log %s\nquorum none\n", w0);
	refused(t, "bad_vkey", "line 1");
	snprintf(t, sizeof(t), "log %s\nlog %s\nquorum none\n", log_vkey,
	    log_vkey);
	refused(t, "duplicate_log", "line 2");
	snprintf(t, sizeof(t), "witness A %s\nwitness B %s\n"
	    "group G 3 A B\nquorum G\n", w0, w1);
	refused(t, "bad_threshold", "line 3");
	snprintf(t, sizeof(t), "witness A %s\nwitness B %s\n"
	    "group G 0 A B\nquorum G\n", w0, w1);
	refused(t, "bad_threshold", "line 3");
	snprintf(t, sizeof(t), "witness A %s\nwitness B %s\n"
	    "group G 01 A B\nquorum G\n", w0, w1);
	refused(t, "bad_threshold", "line 3");
	snprintf(t, sizeof(t), "witness A %s\ngroup G any A A\nquorum G\n",
	    w0);
	refused(t, "duplicate_member", "line 2");
	snprintf(t, sizeof(t), "witness A %s\ngroup G any A none\nquorum G\n",
	    w0);
	refused(t, "bad_member", "line 2");
	snprintf(t, sizeof(t), "witness A %s\ngroup G any\nquorum G\n", w0);
	refused(t, "bad_line", "line 2");
	snprintf(t, sizeof(t), "witness A %s\ngroup G any G\nquorum G\n", w0);
	refused(t, "undefined_name", "line 2");
	snprintf(t, sizeof(t), "witness A %s x y\nquorum A\n", w0);
	refused(t, "bad_line", "line 1");
	snprintf(t, sizeof(t), "witness A %s\nquorum A B\n", w0);
	refused(t, "bad_line", "line 2");
	refused("quorum none\nwitnesses A\n", "unknown_keyword", "line 2");
	refused("quorum none\r\n", "control_character", "line 1");
	refused("quorum\vnone\n", "control_character", "line 1");
	/* Only space and tab separate items: a no-break space does not. */
	refused("quorum\xc2\xa0none\n", "unknown_keyword", "line 1");
	/* Names are octets: "K" and the Kelvin sign differ. */
	snprintf(t, sizeof(t), "witness K %s\nquorum \xe2\x84\xaa\n", w0);
	refused(t, "undefined_name", "line 2");
}

static void
test_limits(void)
{
	struct tlog_policy *p = NULL;
	char *t = malloc(65536);
	size_t o = 0;

	if (t == NULL)
		return;
	/* 32 witnesses (distinct keys) are fine, a 33rd is not. */
	for (int i = 0; i < 33; i++) {
		unsigned char seed[32], pub[32];
		char name[32], vkey[NOTE_VERIFIER_KEY_MAX];

		memset(seed, 0, 32);
		seed[0] = (unsigned char)i;
		ed25519_public_from_secret(seed, pub, NULL);
		snprintf(name, sizeof(name), "w%d.example", i);
		note_vkey_format(name, NOTE_TYPE_COSIGNATURE_V1, pub, vkey,
		    sizeof(vkey), NULL);
		o += (size_t)snprintf(t + o, 65536 - o, "witness W%d %s\n", i,
		    vkey);
		if (i == 31) {
			size_t keep = o;

			snprintf(t + o, 65536 - o, "quorum W0\n");
			CHECK_INT(tlog_policy_parse(t, strlen(t), &p, NULL),
			    TRACE_OK);
			CHECK_INT(p != NULL ? p->witness_count : 0, 32);
			tlog_policy_free(p);
			o = keep;
		}
	}
	snprintf(t + o, 65536 - o, "quorum W0\n");
	CHECK_INT(tlog_policy_parse(t, strlen(t), &p, NULL), TRACE_EMALFORMED);
	free(t);
}

/* The log's signed checkpoint of size with the given witnesses'
 * cosignatures (bit i = witness i), in a static buffer. */
static const char *
cosigned_note(uint64_t size, unsigned witnesses, uint64_t ts)
{
	static char buf[8192];
	struct checkpoint cp;
	char *note = NULL, *body = NULL;
	size_t note_len = 0, body_len = 0, o;

	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), ORIGIN);
	cp.size = size;
	memset(cp.root, 0x42, sizeof(cp.root));
	checkpoint_format(&cp, &body, &body_len, NULL);
	checkpoint_sign(&cp, &log_signer, &note, &note_len, NULL);
	o = (size_t)snprintf(buf, sizeof(buf), "%s", note != NULL ? note : "");
	for (int i = 0; i < 6; i++) {
		size_t n = 0;

		if (((witnesses >> i) & 1) && body != NULL)
			if (cosign_sign(&witness_signers[i], body, body_len, ts,
			    buf + o, sizeof(buf) - o, &n, NULL) == TRACE_OK)
				o += n;
	}
	free(note);
	free(body);
	return buf;
}

static void
test_verify(void)
{
	struct tlog_policy *p = NULL;
	struct tlog_policy_result res;
	struct trace_error err;
	const char *note;
	char *bad;

	if (tlog_policy_parse(policy_text, strlen(policy_text), &p, NULL) !=
	    TRACE_OK)
		return;
	/* X1, X3, Y2: met. */
	note = cosigned_note(7, 0x15, 1700000000);
	CHECK_INT(tlog_policy_verify(p, note, strlen(note), &res, &err),
	    TRACE_OK);
	CHECK_INT(res.log, 0);
	CHECK_INT(res.checkpoint.size, 7);
	CHECK_INT(res.witnessed_count, 3);
	CHECK(res.witnessed[0] && !res.witnessed[1] && res.witnessed[2] &&
	    !res.witnessed[3] && res.witnessed[4] && !res.witnessed[5]);
	CHECK_INT(res.timestamps[4], 1700000000);
	CHECK(res.quorum);
	/* X1, X2 only: short of a Y. */
	note = cosigned_note(7, 0x03, 1700000000);
	CHECK_INT(tlog_policy_verify(p, note, strlen(note), &res, &err),
	    TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "quorum_not_met");
	CHECK_INT(res.witnessed_count, 2);
	CHECK(!res.quorum);
	/* A bad cosignature by a known witness: the note is refused. */
	note = cosigned_note(7, 0x3f, 1700000000);
	bad = strdup(note);
	if (bad != NULL) {
		char *last = strrchr(bad, '\n');

		/* Flip a base64 character of the last line's signature. */
		last[-5] = last[-5] == 'A' ? 'B' : 'A';
		CHECK_INT(tlog_policy_verify(p, bad, strlen(bad), &res, NULL),
		    TRACE_EBADSIG);
		free(bad);
	}
	/* Not signed by the log: cosignatures alone do not do.  Cut the
	 * log's line, the first after the blank line. */
	{
		char buf[8192];
		const char *all = cosigned_note(7, 0x3f, 1);
		const char *blank = strstr(all, "\n\n");
		const char *log_end = blank != NULL ? strchr(blank + 2, '\n') :
		    NULL;

		CHECK(log_end != NULL);
		if (log_end != NULL) {
			snprintf(buf, sizeof(buf), "%.*s%s",
			    (int)(blank + 2 - all), all, log_end + 1);
			CHECK_INT(tlog_policy_verify(p, buf, strlen(buf), &res,
			    &err), TRACE_EUNKNOWNKEY);
			CHECK_STR(err.code, "unknown_log");
			CHECK_INT(res.witnessed_count, 0);
		}
	}
	tlog_policy_free(p);
	/* quorum none: the log's signature is enough. */
	{
		char t[1024];

		snprintf(t, sizeof(t), "log %s\nquorum none\n", log_vkey);
		CHECK_INT(tlog_policy_parse(t, strlen(t), &p, NULL), TRACE_OK);
		note = cosigned_note(3, 0, 0);
		CHECK_INT(p != NULL ? tlog_policy_verify(p, note, strlen(note),
		    &res, NULL) : TRACE_EIO, TRACE_OK);
		tlog_policy_free(p);
	}
}

int
main(void)
{
	if (!crypto_init())
		return 1;
	make_keys();
	test_example();
	test_refused();
	test_limits();
	test_verify();
	note_signer_clear(&log_signer);
	for (int i = 0; i < 6; i++)
		note_signer_clear(&witness_signers[i]);
	CHECK_DONE();
}
