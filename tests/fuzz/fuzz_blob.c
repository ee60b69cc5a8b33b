/*
 * fuzz_blob.c - libFuzzer harness for the document upload statement
 * (libtrace/blob.c): the payload parser, the media sniffer, and the
 * envelope a Trace-Upload header carries.  A statement that parses must
 * write back (blob_statement_payload) to a payload that parses to the
 * same statement; the sniffer must accept exactly the three signatures.
 */
#include <stdlib.h>
#include <string.h>

#include "libtrace/blob.h"
#include "libtrace/dsse.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void
roundtrip(const unsigned char *payload, size_t len)
{
	struct blob_statement st, back;
	char *text;
	size_t n = 0;

	if (blob_statement_parse(payload, len, &st, NULL) != TRACE_OK)
		return;
	text = blob_statement_payload(&st, &n);
	if (text == NULL || blob_statement_parse((const unsigned char *)text,
	    n, &back, NULL) != TRACE_OK || strcmp(st.sha256, back.sha256) != 0 ||
	    st.size != back.size || st.media != back.media ||
	    st.time != back.time || strcmp(st.signer, back.signer) != 0)
		abort();
	free(text);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct dsse_envelope env;
	enum blob_media media;

	if (blob_media_detect(data, size, &media) !=
	    ((size >= 5 && memcmp(data, "%PDF-", 5) == 0) ||
	    (size >= 3 && memcmp(data, "\xff\xd8\xff", 3) == 0) ||
	    (size >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0)))
		abort();
	roundtrip(data, size);
	if (dsse_envelope_parse((const char *)data, size, &env, NULL) !=
	    TRACE_OK)
		return 0;
	roundtrip(env.payload, env.payload_len);
	dsse_envelope_clear(&env);
	return 0;
}
