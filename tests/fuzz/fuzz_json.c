/*
 * fuzz_json.c - libFuzzer harness for the strict JSON parser: any input
 * either parses into a tree the writer can reproduce and parse again, or is
 * refused with an error code; nothing else (crash, leak, UB) is allowed.
 */
#include <stdlib.h>
#include <string.h>

#include "libtrace/json.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct json_doc *doc = NULL, *again = NULL;
	struct trace_error err;
	struct json_writer *w;
	const char *out;
	size_t len;

	if (json_parse((const char *)data, size, NULL, &doc, &err) != TRACE_OK) {
		if (err.code[0] == '\0')
			abort();
		return 0;
	}
	/* Round trip: what we accept, we can write and accept again. */
	w = json_writer_new(false);
	json_writer_value(w, json_doc_root(doc));
	if (json_writer_result(w, &out, &len, &err) != TRACE_OK)
		abort();
	if (json_parse(out, len, NULL, &again, &err) != TRACE_OK)
		abort();
	json_doc_free(again);
	json_writer_free(w);
	json_doc_free(doc);
	return 0;
}
