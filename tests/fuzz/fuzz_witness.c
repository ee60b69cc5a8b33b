/*
 * fuzz_witness.c - libFuzzer harness for what a witness reads from the
 * network and a verifier from a file: the tlog-witness add-checkpoint
 * body (an accepted body formats back to the same bytes: one spelling
 * per request), the checkpoint note inside it with cosignature checks,
 * the 409 size body, and tlog-policy text.
 */
#include <stdlib.h>
#include <string.h>

#include "libtrace/cosign.h"
#include "libtrace/crypto.h"
#include "libtrace/note.h"
#include "libtrace/tlogpolicy.h"
#include "libtrace/tlogwitness.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char vkey[] =
	    "witness.example/w1+e75f6532+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
	static struct tlog_witness_request req;
	struct note_verifier verifier;
	struct tlog_policy *policy = NULL;
	struct note_parsed parsed;
	struct checkpoint cp;
	const char *text = (const char *)data;
	char *out = NULL;
	size_t out_len = 0;
	uint64_t n = 0;

	crypto_init();
	if (cosign_verifier_parse(vkey, sizeof(vkey) - 1, &verifier, NULL) !=
	    TRACE_OK)
		abort();
	(void)tlog_witness_size_parse(text, size, &n, NULL);
	if (tlog_policy_parse(text, size, &policy, NULL) == TRACE_OK) {
		struct tlog_policy_result res;
		static const bool none[TLOG_POLICY_WITNESSES_MAX];

		(void)tlog_policy_quorum_met(policy, none);
		(void)tlog_policy_verify(policy, text, size, &res, NULL);
		tlog_policy_free(policy);
	}
	if (tlog_witness_request_parse(text, size, &req, NULL) != TRACE_OK)
		return 0;
	if (tlog_witness_request_format(req.old_size,
	    (const unsigned char (*)[MERKLE_HASH_LEN])req.proof,
	    req.proof_count, req.note, req.note_len, &out, &out_len, NULL) !=
	    TRACE_OK || out_len != size || memcmp(out, data, size) != 0)
		abort();
	free(out);
	if (note_parse(req.note, req.note_len, &parsed, NULL) != TRACE_OK)
		return 0;
	if (checkpoint_parse(req.note, parsed.text_len, &cp, NULL) == TRACE_OK)
		(void)cosign_verify_parsed(req.note, &parsed, &verifier, &n,
		    NULL);
	note_parsed_clear(&parsed);
	return 0;
}
