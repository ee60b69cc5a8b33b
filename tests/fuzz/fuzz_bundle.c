/*
 * fuzz_bundle.c - libFuzzer harness for bundles, the largest untrusted
 * input trace-agent verify reads: bundle_parse() and bundle_verify() of
 * arbitrary text against a fixed trust anchor and log key never misbehave,
 * and the report keeps its promises (TRACE_OK exactly when nothing failed,
 * every failure about an item that exists, counts that add up).
 *
 * The keys are those of tests/fuzz/seeds/fuzz_bundle/bundle.json, a small
 * valid bundle (key entries, a correction, a revocation) that
 * `build/tests/test_bundle --fuzz-seed FILE` writes and whose keys it
 * prints: mutations of it reach the signature, proof and policy checks.
 */
#include <stdlib.h>
#include <string.h>

#include "libtrace/bundle.h"
#include "libtrace/crypto.h"
#include "libtrace/encoding.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char root_hex[] =
	    "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737";
	static const char vkey[] =
	    "trace.test/log+dcdf0619+AchTrQ8M0rYZrqks7sT9VqJNZJnVhM55JX5Fz9gTm2Cn";
	unsigned char root[ED25519_PUBLIC_LEN];
	struct note_verifier verifier;
	struct bundle *b = NULL;
	struct bundle_report r;
	struct trace_error err;
	enum trace_status rc;
	size_t events_ok = 0, keys_ok = 0;

	crypto_init();
	if (!hex_decode(root_hex, sizeof(root_hex) - 1, root, sizeof(root),
	    true) || note_verifier_parse(vkey, sizeof(vkey) - 1, &verifier,
	    NULL) != TRACE_OK)
		abort();
	if (bundle_parse((const char *)data, size, &b, &err) != TRACE_OK)
		return 0;
	rc = bundle_verify(b, root, &verifier, &r, &err);
	if (rc == TRACE_ENOMEM)
		abort();
	if ((rc == TRACE_OK) != (r.failure_count == 0) ||
	    r.event_count != b->event_count || r.key_count != b->key_count)
		abort();
	for (size_t i = 0; i < r.failure_count; i++) {
		const struct bundle_failure *f = &r.failures[i];

		if ((f->subject == BUNDLE_SUBJECT_EVENT &&
		    f->position >= r.event_count) ||
		    (f->subject == BUNDLE_SUBJECT_KEY &&
		    f->position >= r.key_count) || f->code[0] == '\0' ||
		    f->message[0] == '\0')
			abort();
	}
	for (size_t i = 0; i < r.event_count; i++) {
		/* An event verified only with a known signer and a proof. */
		if (r.events[i].ok && (!r.events[i].parsed ||
		    !r.events[i].signer_known || !r.checkpoint_ok))
			abort();
		events_ok += r.events[i].ok;
	}
	for (size_t i = 0; i < r.key_count; i++) {
		if (r.keys[i].ok && (!r.keys[i].parsed || !r.checkpoint_ok))
			abort();
		keys_ok += r.keys[i].ok;
	}
	if (events_ok != r.events_ok || keys_ok != r.keys_ok ||
	    r.proofs > r.event_count + r.key_count ||
	    r.signatures > r.event_count + r.key_count)
		abort();
	bundle_report_free(&r);
	bundle_free(b);
	return 0;
}
