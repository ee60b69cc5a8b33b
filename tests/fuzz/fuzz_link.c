/*
 * fuzz_link.c - libFuzzer harness for the GS1 Digital Link path parser
 * and the compressed-link decoder: whatever either accepts must format back
 * (plain, and compressed) to a path that parses to the same identifiers.
 */
#include <stdlib.h>
#include <string.h>

#include "libtrace/gs1.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct gs1_link link, back;
	char uri[512];
	size_t n;

	char query[256], segment[GS1_COMPRESSED_MAX + 1];

	if (gs1_link_parse_path((const char *)data, size, &link, NULL) !=
	    TRACE_OK && gs1_link_decompress((const char *)data, size, &link,
	    query, sizeof(query), NULL) != TRACE_OK)
		return 0;
	n = gs1_link_format("", &link, uri, sizeof(uri));
	if (n == 0 || gs1_link_parse_path(uri, n, &back, NULL) != TRACE_OK ||
	    strcmp(link.gtin, back.gtin) != 0 ||
	    strcmp(link.lot, back.lot) != 0 ||
	    strcmp(link.serial, back.serial) != 0)
		abort();
	n = gs1_link_compress(&link, segment, sizeof(segment));
	if (n == 0 || gs1_link_decompress(segment, n, &back, NULL, 0, NULL) !=
	    TRACE_OK || strcmp(link.gtin, back.gtin) != 0 ||
	    strcmp(link.lot, back.lot) != 0 ||
	    strcmp(link.serial, back.serial) != 0)
		abort();
	return 0;
}
