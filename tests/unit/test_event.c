/*
 * test_event.c - event payload validation: a valid payload of every type,
 * and each way a payload can break docs/PROTOCOL.md section 6, with the field named.
 */
#include <stdlib.h>
#include <string.h>

#include "libtrace/event.h"
#include "check.h"

#define SIGNER "0123456789abcdef0123456789abcdef"
#define PREV "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* A payload around data for type at seq (prev set when seq > 0). */
static char *
payload(const char *type, int seq, const char *data)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf),
	    "{\"v\":1,\"type\":\"%s\",\"chain\":{\"gtin\":\"08801234567893\","
	    "\"lot\":\"L2311A\"},\"seq\":%d,\"prev\":%s,"
	    "\"time\":\"2026-11-20T08:30:00+09:00\",\"signer\":\"" SIGNER "\","
	    "\"where\":{\"country\":\"KR\",\"place\":\"Incheon lab\"},"
	    "\"data\":%s}", type, seq, seq == 0 ? "null" : "\"" PREV "\"", data);
	return buf;
}

static enum trace_status
parse(const char *text, struct trace_error *err)
{
	struct trace_event ev;
	enum trace_status rc;

	trace_error_clear(err);
	rc = event_parse((const unsigned char *)text, strlen(text), &ev, err);
	event_free(&ev);
	return rc;
}

#define OK(text)                                                             \
	do {                                                                 \
		struct trace_error e_;                                       \
		CHECK_MSG(parse(text, &e_) == TRACE_OK, "refused: %s (%s)",  \
		    e_.message, e_.field);                                   \
	} while (0)

#define BAD(text, want_code, want_field)                                     \
	do {                                                                 \
		struct trace_error e_;                                       \
		CHECK_MSG(parse(text, &e_) != TRACE_OK, "accepted %s",       \
		    #text);                                                  \
		CHECK_STR(e_.code, want_code);                               \
		CHECK_STR(e_.field, want_field);                             \
	} while (0)

static void
test_every_type(void)
{
	OK(payload("product.registered", 0, "{\"name\":{\"zh\":\"\xe9\x9b\xaa"
	    "\xe8\x8a\xb1\xe7\xa7\x80\",\"en\":\"Sulwhasoo\",\"ko\":\"\xec\x84"
	    "\xa4\xed\x99\x94\xec\x88\x98\"},\"brand\":\"Sulwhasoo\","
	    "\"origin\":\"KR\",\"manufacturer\":\"AP\",\"spec\":\"60 ml\","
	    "\"expiry\":\"2028-10-31\",\"quantity\":1200}"));
	OK(payload("inspection.sampled", 1, "{\"samples\":3,\"sampleIds\":"
	    "[\"S1\",\"S2\"]}"));
	OK(payload("inspection.sampled", 1, "{}"));
	OK(payload("inspection.completed", 2, "{\"certificate\":\"CCIC-KR-1\","
	    "\"result\":\"pass\",\"body\":\"CCIC Korea\",\"standard\":\"GB\","
	    "\"items\":[{\"name\":\"Pb\",\"value\":\"0.1 mg/kg\",\"limit\":"
	    "\"10 mg/kg\",\"result\":\"pass\"}],\"attachments\":[{\"name\":"
	    "\"report.pdf\",\"sha256\":\"" PREV "\",\"media\":"
	    "\"application/pdf\"}]}"));
	OK(payload("shipment.departed", 3, "{\"carrier\":\"HMM\",\"vessel\":"
	    "\"HMM Dream\",\"billOfLading\":\"BL1\",\"port\":\"KRINC\"}"));
	OK(payload("shipment.arrived", 4, "{\"port\":\"CNWEI\"}"));
	OK(payload("customs.declared", 5, "{\"declaration\":\"D1\",\"mode\":"
	    "\"1210\"}"));
	OK(payload("customs.released", 6, "{\"declaration\":\"D1\"}"));
	OK(payload("warehouse.received", 7, "{\"warehouse\":\"Weihai bonded\","
	    "\"location\":\"A-3\",\"quantity\":1200}"));
	OK(payload("warehouse.dispatched", 8, "{\"warehouse\":\"Weihai bonded\","
	    "\"destination\":\"Shanghai\",\"quantity\":100}"));
	OK(payload("recall.issued", 9, "{\"reason\":\"Microbial\\ncontamination\","
	    "\"severity\":1,\"action\":\"Stop using it.\",\"contact\":"
	    "\"400-000\",\"serials\":[[\"000100\",\"000199\"]]}"));
	OK(payload("recall.closed", 10, "{\"recall\":\"" PREV "\","
	    "\"outcome\":\"destroyed\",\"recovered\":90}"));
	OK(payload("correction", 11, "{\"corrects\":\"" PREV "\",\"reason\":"
	    "\"typo\"}"));
}

static void
test_envelope_fields(void)
{
	static const char *reg = "{\"name\":{\"en\":\"x\"},\"brand\":\"b\","
	    "\"origin\":\"KR\"}";
	char text[8192];

	BAD("[]", "wrong_type", "");
	BAD("{\"v\":1}", "missing_field", "type");
	snprintf(text, sizeof(text), "%s", payload("product.registered", 0, reg));
	/* v */
	memcpy(strstr(text, "\"v\":1"), "\"v\":2", 5);
	BAD(text, "bad_version", "v");
	BAD(payload("product.exploded", 0, "{}"), "bad_type", "type");
	/* seq and prev */
	BAD(payload("inspection.sampled", 0, "{}"), "bad_seq", "seq");
	BAD(payload("product.registered", 3, reg), "bad_seq", "seq");
	snprintf(text, sizeof(text), "%s", payload("inspection.sampled", 1, "{}"));
	memcpy(strstr(text, PREV), "E3", 2);
	BAD(text, "bad_prev", "prev");
	BAD(payload("inspection.sampled", -1, "{}"), "bad_seq", "seq");
	snprintf(text, sizeof(text), "%s", payload("product.registered", 0, reg));
	memcpy(strstr(text, "\"prev\":null"), "\"prev\":   0", 11);
	BAD(text, "bad_prev", "prev");
	/* chain */
	snprintf(text, sizeof(text), "%s", payload("product.registered", 0, reg));
	memcpy(strstr(text, "08801234567893"), "08801234567890", 14);
	BAD(text, "invalid_gtin", "chain.gtin");
	snprintf(text, sizeof(text), "%s", payload("product.registered", 0, reg));
	memcpy(strstr(text, "\"gtin\":\"08801234567893\""),
	    "\"gtin\": \"8801234567893\"", 23);
	BAD(text, "gtin_not_14", "chain.gtin");
	snprintf(text, sizeof(text), "%s", payload("product.registered", 0, reg));
	memcpy(strstr(text, "L2311A"), "L2 11A", 6);
	BAD(text, "invalid_value", "chain.lot");
	/* time */
	snprintf(text, sizeof(text), "%s", payload("product.registered", 0, reg));
	memcpy(strstr(text, "+09:00"), "      ", 6);
	BAD(text, "bad_time", "time");
	snprintf(text, sizeof(text), "%s", payload("product.registered", 0, reg));
	memcpy(strstr(text, "2026-11-20"), "2026-02-30", 10);
	BAD(text, "bad_time", "time");
	/* signer */
	snprintf(text, sizeof(text), "%s", payload("product.registered", 0, reg));
	memcpy(strstr(text, SIGNER), "0123456789ABCDEF", 16);
	BAD(text, "bad_keyid", "signer");
	/* where */
	snprintf(text, sizeof(text), "%s", payload("product.registered", 0, reg));
	memcpy(strstr(text, "\"KR\",\"place\""), "\"XX\",\"place\"", 12);
	BAD(text, "bad_field", "where.country");
	snprintf(text, sizeof(text), "%s", payload("product.registered", 0, reg));
	memcpy(strstr(text, "\"place\""), "\"plaza\"", 7);
	BAD(text, "unknown_field", "where.plaza");
	/* unknown top-level field */
	snprintf(text, sizeof(text), "%s", payload("product.registered", 0, reg));
	memcpy(strstr(text, "\"where\""), "\"wherE\"", 7);
	BAD(text, "unknown_field", "wherE");
	/* duplicate keys and floats in a payload */
	BAD(payload("inspection.sampled", 1, "{\"samples\":1,\"samples\":2}"),
	    "duplicate_key", "data.samples");
	BAD(payload("inspection.sampled", 1, "{\"samples\":1.0}"),
	    "float_not_allowed", "data.samples");
}

static void
test_data_fields(void)
{
	BAD(payload("product.registered", 0, "{\"brand\":\"b\",\"origin\":\"KR\"}"),
	    "missing_field", "data.name");
	BAD(payload("product.registered", 0, "{\"name\":{},\"brand\":\"b\","
	    "\"origin\":\"KR\"}"), "bad_field", "data.name");
	BAD(payload("product.registered", 0, "{\"name\":{\"EN\":\"x\"},"
	    "\"brand\":\"b\",\"origin\":\"KR\"}"), "bad_language", "data.name.EN");
	BAD(payload("product.registered", 0, "{\"name\":{\"en\":\"\"},"
	    "\"brand\":\"b\",\"origin\":\"KR\"}"), "bad_field", "data.name.en");
	BAD(payload("product.registered", 0, "{\"name\":{\"en\":\"x\"},"
	    "\"brand\":\"b\",\"origin\":\"Korea\"}"), "bad_field", "data.origin");
	BAD(payload("product.registered", 0, "{\"name\":{\"en\":\"x\"},"
	    "\"brand\":\"b\",\"origin\":\"KR\",\"expiry\":\"2028-13-01\"}"),
	    "bad_field", "data.expiry");
	BAD(payload("product.registered", 0, "{\"name\":{\"en\":\"x\"},"
	    "\"brand\":\"b\",\"origin\":\"KR\",\"quantity\":-1}"),
	    "bad_field", "data.quantity");
	BAD(payload("product.registered", 0, "{\"name\":{\"en\":\"x\"},"
	    "\"brand\":\"b\\u0007\",\"origin\":\"KR\"}"), "bad_field",
	    "data.brand");
	BAD(payload("product.registered", 0, "{\"name\":{\"en\":\"x\"},"
	    "\"brand\":\"b\",\"origin\":\"KR\",\"colour\":\"red\"}"),
	    "unknown_field", "data.colour");
	BAD(payload("inspection.completed", 2, "{\"certificate\":\"C\","
	    "\"result\":\"ok\"}"), "bad_field", "data.result");
	BAD(payload("inspection.completed", 2, "{\"result\":\"pass\"}"),
	    "missing_field", "data.certificate");
	BAD(payload("inspection.completed", 2, "{\"certificate\":\"C\","
	    "\"result\":\"pass\",\"items\":[{\"name\":\"Pb\"},{\"name\":\"As\","
	    "\"result\":\"maybe\"}]}"), "bad_field", "data.items[1].result");
	BAD(payload("inspection.completed", 2, "{\"certificate\":\"C\","
	    "\"result\":\"pass\",\"items\":[{\"nom\":\"Pb\"}]}"),
	    "unknown_field", "data.items[0].nom");
	BAD(payload("inspection.completed", 2, "{\"certificate\":\"C\","
	    "\"result\":\"pass\",\"attachments\":[{\"name\":\"r\",\"sha256\":"
	    "\"abc\"}]}"), "bad_field", "data.attachments[0].sha256");
	BAD(payload("inspection.completed", 2, "{\"certificate\":\"C\","
	    "\"result\":\"pass\",\"items\":[]}"), "bad_field", "data.items");
	BAD(payload("shipment.departed", 3, "{\"port\":\"Incheon\"}"),
	    "bad_field", "data.port");
	BAD(payload("shipment.departed", 3, "{\"port\":\"ZZINC\"}"),
	    "bad_field", "data.port");
	BAD(payload("customs.declared", 5, "{\"declaration\":\"D\",\"mode\":"
	    "\"9710\"}"), "bad_field", "data.mode");
	BAD(payload("customs.released", 6, "{}"), "missing_field",
	    "data.declaration");
	BAD(payload("warehouse.received", 7, "{\"location\":\"A\"}"),
	    "missing_field", "data.warehouse");
	BAD(payload("recall.issued", 9, "{\"reason\":\"r\",\"severity\":4,"
	    "\"action\":\"a\"}"), "bad_field", "data.severity");
	BAD(payload("recall.issued", 9, "{\"reason\":\"r\",\"severity\":1,"
	    "\"action\":\"a\",\"serials\":[[\"0200\",\"0100\"]]}"), "bad_range",
	    "data.serials[0]");
	BAD(payload("recall.issued", 9, "{\"reason\":\"r\",\"severity\":1,"
	    "\"action\":\"a\",\"serials\":[[\"0100\",\"01000\"]]}"), "bad_range",
	    "data.serials[0]");
	BAD(payload("recall.issued", 9, "{\"reason\":\"r\",\"severity\":1,"
	    "\"action\":\"a\",\"serials\":[[\"0100\"]]}"), "bad_field",
	    "data.serials[0]");
	BAD(payload("recall.closed", 10, "{\"recall\":\"" PREV "\","
	    "\"outcome\":\"fine\"}"), "bad_field", "data.outcome");
	/* Round 2: a close names the recall it closes (SPEC 8). */
	BAD(payload("recall.closed", 10, "{\"outcome\":\"destroyed\"}"),
	    "missing_field", "data.recall");
	BAD(payload("recall.closed", 10, "{\"recall\":\"x\",\"outcome\":"
	    "\"destroyed\"}"), "bad_field", "data.recall");
	BAD(payload("recall.issued", 9, "{\"reason\":\"r\",\"severity\":1,"
	    "\"action\":\"a\",\"serials\":[]}"), "bad_field", "data.serials");
	BAD(payload("correction", 11, "{\"corrects\":\"x\",\"reason\":\"r\"}"),
	    "bad_field", "data.corrects");
}

static void
test_recall_serials_and_build(void)
{
	struct trace_event ev;
	struct event_draft d;
	struct json_doc *data = NULL;
	char *out = NULL;
	size_t len = 0;
	const char *text = payload("recall.issued", 9, "{\"reason\":\"r\","
	    "\"severity\":2,\"action\":\"a\",\"serials\":[[\"000100\","
	    "\"000199\"],[\"A5\",\"A7\"]]}");
	static const char data_text[] = "{\"declaration\":\"D1\"}";
	unsigned char prev[32] = { 1, 2, 3 };
	struct trace_error err;

	CHECK_INT(event_parse((const unsigned char *)text, strlen(text), &ev,
	    NULL), TRACE_OK);
	CHECK_STR(ev.chain, "01/08801234567893/10/L2311A");
	CHECK_INT(ev.type, EVENT_RECALL_ISSUED);
	CHECK_INT(ev.seq, 9);
	CHECK(ev.has_prev);
	CHECK_STR(event_data_string(&ev, "action"), "a");
	CHECK(event_data_string(&ev, "severity") == NULL);
	event_free(&ev);
	event_free(NULL);

	CHECK_INT(json_parse(data_text, sizeof(data_text) - 1, NULL, &data,
	    NULL), TRACE_OK);
	memset(&d, 0, sizeof(d));
	d.type = EVENT_CUSTOMS_RELEASED;
	d.gtin14 = "08801234567893";
	d.lot = "L/1%?";
	d.seq = 6;
	d.prev = prev;
	d.time = "2026-11-22T10:00:00+08:00";
	d.signer = SIGNER;
	d.country = "CN";
	d.data = json_doc_root(data);
	CHECK_INT(event_build(&d, &out, &len, &err), TRACE_OK);
	CHECK_INT(event_parse((const unsigned char *)out, len, &ev, NULL),
	    TRACE_OK);
	CHECK_STR(ev.lot, "L/1%?");
	CHECK_STR(ev.chain, "01/08801234567893/10/L%2F1%25%3F");
	CHECK_MEM(ev.prev, prev, 32);
	event_free(&ev);
	free(out);
	/* Building refuses what parsing would refuse. */
	d.type = EVENT_CUSTOMS_DECLARED;
	CHECK_INT(event_build(&d, &out, &len, &err), TRACE_EMALFORMED);
	CHECK_STR(err.field, "data.mode");
	d.type = EVENT_CUSTOMS_RELEASED;
	d.gtin14 = "8801234567893";
	CHECK_INT(event_build(&d, &out, &len, &err), TRACE_EMALFORMED);
	CHECK_STR(err.code, "gtin_not_14");
	json_doc_free(data);
}

/*
 * Invisible and bidirectional formatting characters (issue 17, item 11):
 * refused anywhere in a payload submitted now, with the field named;
 * readable in a stored one (round 1 accepted them), so an old chain that
 * holds one stays servable.
 */
static void
test_invisible(void)
{
	struct trace_event ev;
	struct trace_error err;
	/* U+200D ZERO WIDTH JOINER in a certificate, U+202E RIGHT-TO-LEFT
	 * OVERRIDE in an item's name, U+200B in a language's name. */
	const char *zwj = payload("inspection.completed", 2, "{\"certificate\":"
	    "\"C-\\u200d1\",\"result\":\"pass\"}");
	const char *rlo;

	CHECK_INT(event_parse((const unsigned char *)zwj, strlen(zwj), &ev,
	    &err), TRACE_EMALFORMED);
	CHECK_STR(err.code, "bad_field");
	CHECK_STR(err.field, "data.certificate");
	CHECK_INT(event_parse_stored((const unsigned char *)zwj, strlen(zwj),
	    &ev, &err), TRACE_OK);
	event_free(&ev);
	/* payload() returns one static buffer: build the second after. */
	rlo = payload("inspection.completed", 2, "{\"certificate\":"
	    "\"C-1\",\"result\":\"pass\",\"items\":[{\"name\":\"a\"},"
	    "{\"name\":\"\\u202eliaf\"}]}");
	CHECK_INT(event_parse((const unsigned char *)rlo, strlen(rlo), &ev,
	    &err), TRACE_EMALFORMED);
	CHECK_STR(err.field, "data.items[1].name");
	CHECK_INT(event_parse_stored((const unsigned char *)rlo, strlen(rlo),
	    &ev, &err), TRACE_OK);
	event_free(&ev);
}

/*
 * Stored statements: a round-1 recall.closed (no "recall") reads, flagged;
 * every other rule still holds, and a full round-2 close is no round-1
 * form.
 */
static void
test_stored(void)
{
	struct trace_event ev;
	struct trace_error err;
	const char *text = payload("recall.closed", 10, "{\"outcome\":"
	    "\"released\"}");

	CHECK_INT(event_parse_stored((const unsigned char *)text, strlen(text),
	    &ev, &err), TRACE_OK);
	CHECK(ev.round1_form);
	CHECK(event_data_string(&ev, "recall") == NULL);
	event_free(&ev);
	text = payload("recall.closed", 10, "{\"recall\":\"" PREV "\","
	    "\"outcome\":\"released\"}");
	CHECK_INT(event_parse_stored((const unsigned char *)text, strlen(text),
	    &ev, &err), TRACE_OK);
	CHECK(!ev.round1_form);
	CHECK_STR(event_data_string(&ev, "recall"), PREV);
	event_free(&ev);
	text = payload("recall.closed", 10, "{\"outcome\":\"fine\"}");
	CHECK_INT(event_parse_stored((const unsigned char *)text, strlen(text),
	    &ev, &err), TRACE_EMALFORMED);
	CHECK_STR(err.field, "data.outcome");
	text = payload("recall.closed", 10, "{\"recall\":\"E3\","
	    "\"outcome\":\"released\"}");
	CHECK_INT(event_parse_stored((const unsigned char *)text, strlen(text),
	    &ev, &err), TRACE_EMALFORMED);
	CHECK_STR(err.field, "data.recall");
	/* Other required fields were required in round 1 too. */
	text = payload("inspection.completed", 2, "{\"result\":\"pass\"}");
	CHECK_INT(event_parse_stored((const unsigned char *)text, strlen(text),
	    &ev, &err), TRACE_EMALFORMED);
	CHECK_STR(err.field, "data.certificate");
	text = payload("inspection.completed", 2, "{\"certificate\":\"C\","
	    "\"result\":\"pass\"}");
	CHECK_INT(event_parse_stored((const unsigned char *)text, strlen(text),
	    &ev, &err), TRACE_OK);
	CHECK(!ev.round1_form);
	event_free(&ev);
}

static void
test_roles(void)
{
	CHECK(event_role_allowed(EVENT_INSPECTION_COMPLETED, ROLE_INSPECTOR));
	CHECK(!event_role_allowed(EVENT_INSPECTION_COMPLETED, ROLE_IMPORTER));
	CHECK(event_role_allowed(EVENT_PRODUCT_REGISTERED, ROLE_BRAND));
	CHECK(event_role_allowed(EVENT_PRODUCT_REGISTERED, ROLE_IMPORTER));
	CHECK(!event_role_allowed(EVENT_PRODUCT_REGISTERED, ROLE_CUSTOMS));
	CHECK(event_role_allowed(EVENT_CUSTOMS_DECLARED, ROLE_IMPORTER));
	CHECK(!event_role_allowed(EVENT_CUSTOMS_RELEASED, ROLE_IMPORTER));
	CHECK(event_role_allowed(EVENT_RECALL_ISSUED, ROLE_REGULATOR));
	CHECK(!event_role_allowed(EVENT_RECALL_ISSUED, ROLE_WAREHOUSE));
	CHECK(!event_role_allowed(EVENT_SHIPMENT_DEPARTED, ROLE_ADMIN));
	CHECK(!event_role_allowed(EVENT_CORRECTION, ROLE_ADMIN));
	for (int t = 0; t < EVENT_TYPE_COUNT; t++) {
		enum event_type back;
		const char *name = event_type_name((enum event_type)t);

		CHECK(event_type_parse(name, strlen(name), &back) &&
		    back == (enum event_type)t);
	}
}

int
main(void)
{
	test_every_type();
	test_envelope_fields();
	test_data_fields();
	test_recall_serials_and_build();
	test_stored();
	test_invisible();
	test_roles();
	CHECK_DONE();
}
