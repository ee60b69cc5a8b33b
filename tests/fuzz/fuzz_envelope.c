/*
 * fuzz_envelope.c - libFuzzer harness for the DSSE envelope parser and the
 * event and key entry validators behind it.  Accepted envelopes must write
 * back to text that parses to the same statement id.  What the strict
 * event parser accepts, the stored-data parser (round-1 forms allowed)
 * must accept too, as no round-1 form.  An accepted key entry (enroll,
 * revoke or org) must build to a payload that parses and builds to the
 * same bytes again (key_entry_build writes one canonical form).
 */
#include <stdlib.h>
#include <string.h>

#include "libtrace/dsse.h"
#include "libtrace/event.h"
#include "libtrace/keyentry.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct dsse_envelope env, back;
	struct trace_event ev;
	struct key_entry entry;
	char *text;
	size_t len = 0;

	/* The payload validators alone, on raw bytes. */
	if (event_parse(data, size, &ev, NULL) == TRACE_OK) {
		event_free(&ev);
		if (event_parse_stored(data, size, &ev, NULL) != TRACE_OK ||
		    ev.round1_form)
			abort();
		event_free(&ev);
	} else if (event_parse_stored(data, size, &ev, NULL) == TRACE_OK) {
		/* Only a round-1 form reads as stored data alone. */
		if (!ev.round1_form)
			abort();
		event_free(&ev);
	}
	if (key_entry_parse(data, size, &entry, NULL) == TRACE_OK) {
		struct key_entry again;
		char *first, *second;
		size_t first_len = 0, second_len = 0;

		first = key_entry_build(&entry, &first_len);
		if (first == NULL || key_entry_parse((unsigned char *)first,
		    first_len, &again, NULL) != TRACE_OK)
			abort();
		second = key_entry_build(&again, &second_len);
		if (second == NULL || second_len != first_len ||
		    memcmp(first, second, first_len) != 0 ||
		    again.op != entry.op ||
		    memcmp(&again.org_def, &entry.org_def,
		    sizeof(entry.org_def)) != 0)
			abort();
		free(first);
		free(second);
	}

	if (dsse_envelope_parse((const char *)data, size, &env, NULL) !=
	    TRACE_OK)
		return 0;
	text = dsse_envelope_to_text(&env, &len);
	if (text == NULL || dsse_envelope_parse(text, len, &back, NULL) !=
	    TRACE_OK || memcmp(back.id, env.id, sizeof(env.id)) != 0)
		abort();
	if (event_parse(env.payload, env.payload_len, &ev, NULL) == TRACE_OK)
		event_free(&ev);
	dsse_envelope_clear(&back);
	dsse_envelope_clear(&env);
	free(text);
	return 0;
}
