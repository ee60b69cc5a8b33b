/*
 * resolver.c - the GS1 Digital Link resolver (docs/PROTOCOL.md section 11.13):
 *
 *   GET /01/{gtin}/10/{lot}[/21/{serial}]
 *       text/html (default)            the consumer page (consumer.c)
 *       Accept: application/json       the same facts as JSON
 *       ?linkType=all or Accept: application/linkset+json
 *                                      RFC 9264 linkset with GS1 link types
 *       ?linkType=gs1:traceability ... 307 to that link (GS1 resolver
 *                                      behaviour); gs1:pip and unknown
 *                                      types get the default, the page
 *   GET /.well-known/gs1resolver       the resolver description
 *
 * The path is parsed raw (civetweb runs with decode_url=no), so an encoded
 * '/' inside a lot stays data.  400 for a malformed link or a bad check
 * digit, 404 for a lot nobody recorded; errors are HTML for browsers and
 * JSON for programs.  Every answer links its linkset in a Link header.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "pages.h"
#include "parse.h"
#include "units.h"

#define GS1_VOC "https://gs1.org/voc/"
/* GS1-Conformant Resolver 1.2.0, 2.10 and conformance item 5.13: GS1's
 * context that turns a linkset into JSON-LD (the immutable 1.2.0 file),
 * linked from every linkset and named in the resolver description. */
#define GS1_LINKSET_CONTEXT \
	"https://ref.gs1.org/standards/resolver/1.2.0/linkset-context"
/* A longer ?linkType= is none we know: the default answer, as if absent. */
#define LINK_TYPE_MAX 63

/* ,"name":"value" when value is not NULL. */
static void
member(struct buf *b, const char *name, const char *value)
{
	if (value == NULL)
		return;
	buf_printf(b, ",\"%s\":", name);
	buf_json_string(b, value, strlen(value));
}

static void
write_signer(struct request *req, struct buf *b, const char *keyid)
{
	struct key_state st;
	struct trace_error err;
	bool found = false;

	buf_puts(b, ",\"signer\":{\"keyid\":");
	buf_json_string(b, keyid, strlen(keyid));
	if (key_cache_get(req->srv, req->worker->store, keyid, &st, &found,
	    &err) == TRACE_OK && found) {
		member(b, "name", st.entry.name);
		member(b, "org", st.entry.org);
		if (st.org_known) {
			/* SPEC 8: the org's registered name. */
			member(b, "orgNameZh", st.org.name_zh);
			member(b, "orgNameEn", st.org.name_en);
		}
		member(b, "role", key_role_name(st.entry.role));
	}
	buf_puts(b, "}");
}

static void
write_event_brief(struct request *req, struct buf *b,
    const struct chain_view *view, const struct chain_item *it)
{
	buf_printf(b, "{\"type\":\"%s\",\"seq\":%lld,\"id\":\"%s\","
	    "\"logIndex\":%lld,\"time\":", event_type_name(it->ev.type),
	    it->ev.seq, it->rec->id, it->rec->log_index);
	buf_json_string(b, it->ev.time_text, strlen(it->ev.time_text));
	if (it->ev.where != NULL) {
		buf_puts(b, ",\"where\":");
		buf_json_value(b, it->ev.where);
	}
	buf_puts(b, ",\"data\":");
	buf_json_value(b, it->ev.data);
	write_signer(req, b, it->ev.signer);
	if (it->corrected_by != NULL) {
		const char *why = chain_item_data(it->corrected_by, "reason");

		buf_printf(b, ",\"correctedBy\":\"%s\"", it->corrected_by->rec->id);
		member(b, "correctionReason", why);
	}
	chain_item_write_notes(b, view, (size_t)(it - view->items));
	buf_puts(b, "}");
}

static const char *
verdict_name(enum verdict_state s)
{
	switch (s) {
	case VERDICT_GENUINE: return "genuine";
	case VERDICT_PENDING: return "pending";
	default: return "not_verifiable";
	}
}

static const char *
recall_name(enum recall_state s)
{
	switch (s) {
	case RECALL_OPEN: return "recalled";
	case RECALL_OPEN_PARTIAL: return "partly_recalled";
	case RECALL_OPEN_OTHER: return "other_serials_recalled";
	case RECALL_CLOSED: return "closed";
	default: return "none";
	}
}

/* Absolute links of a lot: "{public}/{what}/01/{gtin}/10/{lot}". */
static void
lot_link(struct buf *b, const struct server *srv, const char *what,
    const char *chain)
{
	buf_puts(b, srv->cfg.public_url);
	buf_puts(b, what);
	buf_puts(b, chain);
}

/* The JSON answer into b; false if the verdict is pending (do not cache). */
static bool
json_build(struct request *req, const struct chain_view *view,
    struct buf *out)
{
	char uri[1024];
	struct verdict v;
	bool stable;

	page_link_uri(req->srv, &view->link, uri, sizeof(uri));
	verdict_get(req, view, false, &v);
	stable = v.state != VERDICT_PENDING;
	buf_puts(out, "{\"uri\":");
	buf_json_string(out, uri, strlen(uri));
	buf_printf(out, ",\"gtin\":\"%s\",\"lot\":", view->link.gtin);
	buf_json_string(out, view->link.lot, strlen(view->link.lot));
	if (view->link.serial[0] != '\0') {
		buf_puts(out, ",\"serial\":");
		buf_json_string(out, view->link.serial, strlen(view->link.serial));
	}
	buf_puts(out, ",\"chain\":");
	buf_json_string(out, view->chain, strlen(view->chain));
	buf_puts(out, ",\"product\":");
	if (view->product != NULL)
		buf_json_value(out, view->product->ev.data);
	else
		buf_puts(out, "null");
	buf_printf(out, ",\"verdict\":{\"status\":\"%s\"",
	    verdict_name(v.state));
	if (v.state != VERDICT_GENUINE) {
		member(out, "code", v.code);
		member(out, "reason", v.reason);
	}
	buf_printf(out, ",\"checkpointSize\":%llu,\"signatures\":%zu,"
	    "\"proofs\":%zu,\"head\":{\"seq\":%zu,\"id\":\"%s\"}}",
	    (unsigned long long)v.checkpoint_size, v.signatures, v.proofs,
	    view->count - 1, view->items[view->count - 1].rec->id);
	buf_puts(out, ",\"inspection\":");
	if (view->inspected != NULL)
		write_event_brief(req, out, view, view->inspected);
	else
		buf_puts(out, "null");
	buf_puts(out, ",\"customs\":{\"status\":");
	buf_puts(out, view->released != NULL ? "\"released\"" :
	    view->declared != NULL ? "\"declared\"" : "\"none\"");
	member(out, "declaration", chain_item_data(view->declared, "declaration"));
	member(out, "mode", chain_item_data(view->declared, "mode"));
	buf_puts(out, "},\"recall\":{\"status\":");
	buf_printf(out, "\"%s\"", recall_name(view->recall_state));
	if (view->recall != NULL) {
		buf_puts(out, ",\"event\":");
		write_event_brief(req, out, view, view->recall);
	}
	buf_puts(out, "},\"route\":[");
	for (size_t i = 0, n = 0; i < view->count; i++) {
		if (view->items[i].ev.type == EVENT_PRODUCT_REGISTERED)
			continue;
		if (n++ > 0)
			buf_puts(out, ",");
		write_event_brief(req, out, view, &view->items[i]);
	}
	buf_puts(out, "]");
	/* The fold as the chain JSON has it (chainview.c). */
	chain_view_write_status(out, view);
	buf_puts(out, ",\"scans\":");
	if (view->scans_known)
		buf_printf(out, "{\"count\":%lld,\"firstScan\":%lld}", view->scans,
		    view->first_scan);
	else
		buf_puts(out, "null");
	/* SPEC 12: on a unit URL, whether the serial was issued (with the
	 * proofs a browser checks) and whether it takes a code. */
	if (view->link.serial[0] != '\0') {
		struct unit_facts facts;
		struct trace_error err;

		if (unit_facts_load(req, view, &facts, &err) != TRACE_OK)
			memset(&facts, 0, sizeof(facts));
		units_write_json(out, &facts);
		unit_facts_clear(&facts);
	}
	buf_puts(out, ",\"links\":{\"consumer\":");
	buf_json_string(out, uri, strlen(uri));
	{
		struct buf l;

		buf_init(&l, 0);
		lot_link(&l, req->srv, "/inspect/", view->chain);
		buf_puts(out, ",\"inspector\":");
		buf_json_string(out, l.data, l.len);
		buf_reset(&l);
		lot_link(&l, req->srv, "/api/v1/bundles/", view->chain);
		buf_puts(out, ",\"bundle\":");
		buf_json_string(out, l.data, l.len);
		buf_reset(&l);
		buf_printf(&l, "%s?linkType=all", uri);
		buf_puts(out, ",\"linkset\":");
		buf_json_string(out, l.data, l.len);
		buf_free(&l);
	}
	buf_puts(out, "}}");
	verdict_clear(&v);
	return stable;
}

static void
json_send(struct request *req, const struct gs1_link *link, struct buf *b)
{
	char uri[1024], headers[1400];

	if (b->failed) {
		http_send_json(req, 200, b);
		return;
	}
	page_link_uri(req->srv, link, uri, sizeof(uri));
	snprintf(headers, sizeof(headers), "Cache-Control: no-cache\r\n"
	    "Vary: Accept, Accept-Language\r\n"
	    "Link: <%s?linkType=all>; rel=\"linkset\"; "
	    "type=\"application/linkset+json\"\r\n", uri);
	http_send(req, 200, "application/json", b->data, b->len, headers);
}

/* One link object of a linkset; href is trusted and encoded, title is
 * escaped. */
static void
link_object(struct buf *b, const char *href, size_t href_len,
    const char *type, const char *title, bool langs)
{
	buf_puts(b, "{\"href\":");
	buf_json_string(b, href, href_len);
	buf_printf(b, ",\"type\":\"%s\",\"title\":", type);
	buf_json_string(b, title, strlen(title));
	if (langs)
		buf_puts(b, ",\"hreflang\":[\"zh-CN\",\"en\",\"ko\"]");
	buf_puts(b, "}");
}

/* RFC 9264 section 4.2 JSON, GS1 link types as full URIs. */
static void
send_linkset(struct request *req, const struct chain_view *view)
{
	char uri[1024];
	struct buf b, l, t;
	size_t name_len = 0;
	const char *name = chain_view_name(view, LANG_EN, &name_len);

	page_link_uri(req->srv, &view->link, uri, sizeof(uri));
	buf_init(&b, 0);
	buf_init(&l, 0);
	buf_init(&t, 0);
	if (name != NULL)
		buf_append(&t, name, name_len);
	else
		buf_puts(&t, "Product");
	buf_puts(&b, "{\"linkset\":[{\"anchor\":");
	buf_json_string(&b, uri, strlen(uri));
	buf_puts(&b, ",\"" GS1_VOC "defaultLink\":[");
	link_object(&b, uri, strlen(uri), "text/html", t.data, true);
	buf_puts(&b, "],\"" GS1_VOC "pip\":[");
	link_object(&b, uri, strlen(uri), "text/html",
	    "Product information: genuine, inspected, customs, recalls", true);
	buf_puts(&b, "],\"" GS1_VOC "traceability\":[");
	lot_link(&l, req->srv, "/inspect/", view->chain);
	link_object(&b, l.data, l.len, "text/html",
	    "Signed record of the lot (inspector page)", true);
	buf_puts(&b, ",");
	buf_reset(&l);
	lot_link(&l, req->srv, "/api/v1/chains/", view->chain);
	link_object(&b, l.data, l.len, "application/json",
	    "The lot's chain of signed events", false);
	buf_puts(&b, ",");
	buf_reset(&l);
	lot_link(&l, req->srv, "/api/v1/bundles/", view->chain);
	link_object(&b, l.data, l.len, "application/json",
	    "Offline-verifiable bundle", false);
	buf_puts(&b, "]");
	if (view->inspected != NULL) {
		const char *cert = chain_item_data(view->inspected,
		    "certificate");

		buf_reset(&l);
		buf_printf(&l, "%s/api/v1/events/%s", req->srv->cfg.public_url,
		    view->inspected->rec->id);
		buf_reset(&t);
		buf_puts(&t, "Inspection certificate ");
		if (cert != NULL)
			buf_puts(&t, cert);
		buf_puts(&b, ",\"" GS1_VOC "certificationInfo\":[");
		link_object(&b, l.data, l.len, "application/json", t.data, false);
		buf_puts(&b, "]");
	}
	buf_reset(&l);
	buf_printf(&l, "%s/api/v1/recalls?gtin=%s&lot=", req->srv->cfg.public_url,
	    view->link.gtin);
	buf_url_component(&l, view->link.lot, strlen(view->link.lot));
	buf_reset(&t);
	buf_printf(&t, "Recall status: %s", recall_name(view->recall_state));
	buf_puts(&b, ",\"" GS1_VOC "recallStatus\":[");
	link_object(&b, l.data, l.len, "application/json", t.data, false);
	buf_puts(&b, "]}]}");
	if (b.failed || l.failed || t.failed) {
		b.failed = true;
		http_send_json(req, 200, &b);
	} else {
		http_send(req, 200, "application/linkset+json", b.data, b.len,
		    "Cache-Control: no-cache\r\nVary: Accept\r\n"
		    "Access-Control-Allow-Origin: *\r\n"
		    "Link: <" GS1_LINKSET_CONTEXT ">; "
		    "rel=\"http://www.w3.org/ns/json-ld#context\"; "
		    "type=\"application/ld+json\"\r\n");
	}
	buf_free(&t);
	buf_free(&l);
	buf_free(&b);
}

/* ?linkType=gs1:X for a link we can answer with a redirect: 307 and true. */
static bool
redirect_link_type(struct request *req, const struct chain_view *view,
    const char *type)
{
	char headers[1400];
	struct buf l;

	buf_init(&l, 0);
	if (strcmp(type, "gs1:traceability") == 0) {
		lot_link(&l, req->srv, "/inspect/", view->chain);
	} else if (strcmp(type, "gs1:certificationInfo") == 0 &&
	    view->inspected != NULL) {
		buf_printf(&l, "%s/api/v1/events/%s", req->srv->cfg.public_url,
		    view->inspected->rec->id);
	} else if (strcmp(type, "gs1:recallStatus") == 0) {
		buf_printf(&l, "%s/api/v1/recalls?gtin=%s&lot=",
		    req->srv->cfg.public_url, view->link.gtin);
		buf_url_component(&l, view->link.lot, strlen(view->link.lot));
	}
	if (l.len == 0 || l.failed || l.len > 1200) {
		buf_free(&l);
		return false;
	}
	snprintf(headers, sizeof(headers), "Location: %s\r\n"
	    "Cache-Control: no-cache\r\n", l.data);
	http_send(req, 307, "text/plain", "", 0, headers);
	buf_free(&l);
	return true;
}

/*
 * GS1-Conformant Resolver 1.2: Digital Link URIs answer cross-origin
 * requests (nothing here depends on cookies or credentials) and OPTIONS,
 * a CORS preflight among them.
 */
#define RESOLVER_CORS \
	"Access-Control-Allow-Origin: *\r\n" \
	"Access-Control-Expose-Headers: Link, Location\r\n"

static void
send_options(struct request *req)
{
	http_send(req, 204, "text/plain", "", 0,
	    "Allow: GET, HEAD, OPTIONS\r\n"
	    "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
	    "Access-Control-Allow-Headers: Accept, Accept-Language\r\n"
	    "Access-Control-Max-Age: 86400\r\n"
	    "Cache-Control: public, max-age=86400\r\n");
}

/* Answer link as every Digital Link URI is answered. */
static void
resolve(struct request *req, const struct gs1_link *linkp)
{
	/* Other parameters are ignored: a Digital Link may carry more. */
	static const char *const allowed[] = { "linkType", "lang", NULL };
	struct gs1_link link = *linkp;
	struct chain_view view;
	struct query_fields query;
	struct trace_error err;
	char link_type[LINK_TYPE_MAX + 1], chain[CHAIN_ID_MAX + 1];
	const char *value;
	/* The router lets GET, HEAD and OPTIONS through. */
	bool linkset, json, cacheable, get = strcmp(req->info->request_method,
	    "GET") == 0;
	enum page_lang lang;
	struct buf b;

	memset(&view, 0, sizeof(view));
	memset(&query, 0, sizeof(query));
	buf_init(&b, 0);
	if (link.lot[0] == '\0') {
		trace_error_set(&err, TRACE_ENOTFOUND, "not_found", "lot",
		    "this resolver answers for lots: /01/{gtin}/10/{lot}"
		    "[/21/{serial}]");
		goto fail;
	}
	if (parse_query(req->query, allowed, PARSE_UNKNOWN_IGNORED, &query,
	    &err) != TRACE_OK)
		goto fail;
	value = parse_query_value(&query, "linkType");
	if (value != NULL && strlen(value) <= LINK_TYPE_MAX)
		memcpy(link_type, value, strlen(value) + 1);
	else
		link_type[0] = '\0';
	parse_query_clear(&query);
	linkset = strcmp(link_type, "all") == 0 || strcmp(link_type,
	    "linkset") == 0 || http_accepts(req, "application/linkset+json");
	json = page_wants_json(req);
	lang = i18n_negotiate(req);
	/* A lot page (no serial, no scan to count) may come from memory. */
	cacheable = get && !linkset && link_type[0] == '\0' &&
	    link.serial[0] == '\0';
	gs1_chain_id(link.gtin, link.lot, chain, sizeof(chain));
	if (cacheable && pagecache_get(chain, json ? LANG_COUNT : (int)lang,
	    witness_pending_from(req), &b)) {
		if (json)
			json_send(req, &link, &b);
		else
			consumer_send(req, &link, lang, &b);
		buf_free(&b);
		return;
	}
	/* A view from a person (page or app) is a scan; a linkset fetch or
	 * a HEAD is not. */
	if (chain_view_load(req, &link, get && !linkset && link_type[0] == '\0',
	    &view, &err) != TRACE_OK)
		goto fail;
	if (linkset) {
		send_linkset(req, &view);
	} else if (link_type[0] != '\0' && redirect_link_type(req, &view,
	    link_type)) {
		/* answered */
	} else if (json) {
		if (json_build(req, &view, &b) && cacheable)
			pagecache_put(chain, LANG_COUNT,
			    witness_pending_from(req), &b);
		json_send(req, &link, &b);
	} else {
		/* A unit's page: from its lot's template (unitpage.c). */
		if ((link.serial[0] == '\0' ||
		    !unit_page_build(req, &view, lang, &b)) &&
		    consumer_build(req, &view, lang, &b) && cacheable)
			pagecache_put(chain, (int)lang,
			    witness_pending_from(req), &b);
		consumer_send(req, &link, lang, &b);
	}
	chain_view_free(&view);
	buf_free(&b);
	return;
fail:
	chain_view_free(&view);
	buf_free(&b);
	if (http_accepts(req, "application/linkset+json"))
		http_send_error(req, &err);
	else
		page_send_error(req, &err);
}

void
resolver_handle(struct request *req)
{
	struct gs1_link link;
	struct trace_error err;

	snprintf(req->also_headers, sizeof(req->also_headers), RESOLVER_CORS);
	if (strcmp(req->info->request_method, "OPTIONS") == 0) {
		send_options(req);
		return;
	}
	if (gs1_link_parse_path(req->path, strlen(req->path), &link, &err) !=
	    TRACE_OK) {
		if (http_accepts(req, "application/linkset+json"))
			http_send_error(req, &err);
		else
			page_send_error(req, &err);
		return;
	}
	resolve(req, &link);
}

/*
 * A compressed Digital Link (GS1 Digital Link 1.2 compression): the same
 * answer as its uncompressed URI, which Link names as owl:sameAs.  The
 * query parameters compressed into it come first, then the request's own.
 */
void
resolver_handle_compressed(struct request *req)
{
	struct gs1_link link;
	struct trace_error err;
	char query[512], uri[1024];
	const char *qs = req->query;
	struct buf all;

	snprintf(req->also_headers, sizeof(req->also_headers), RESOLVER_CORS);
	if (gs1_link_decompress(req->path + 1, strlen(req->path + 1), &link,
	    query, sizeof(query), &err) != TRACE_OK) {
		/* Not a Digital Link after all: whatever the path is, there
		 * is nothing here. */
		trace_error_set(&err, TRACE_ENOTFOUND, "not_found", NULL,
		    "no such resource");
		http_send_error(req, &err);
		return;
	}
	if (strcmp(req->info->request_method, "OPTIONS") == 0) {
		send_options(req);
		return;
	}
	page_link_uri(req->srv, &link, uri, sizeof(uri));
	snprintf(req->also_headers, sizeof(req->also_headers), RESOLVER_CORS
	    "Link: <%s>; rel=\"owl:sameAs\"\r\n", uri);
	buf_init(&all, 0);
	buf_puts(&all, query);
	if (qs != NULL && qs[0] != '\0')
		buf_printf(&all, "%s%s", query[0] != '\0' ? "&" : "", qs);
	if (all.failed) {
		trace_error_set(&err, TRACE_ENOMEM, NULL, NULL, "out of memory");
		http_send_error(req, &err);
	} else {
		req->query = all.len > 0 ? all.data : NULL;
		resolve(req, &link);
	}
	buf_free(&all);
}

void
resolver_handle_description(struct request *req)
{
	struct buf b;
	const char *root = req->srv->cfg.public_url;

	buf_init(&b, 0);
	/* GS1 Digital Link resolver description (GS1-Conformant resolver
	 * standard, section "resolver description file"). */
	buf_puts(&b, "{\"name\":\"Trace: signed provenance of imported goods\","
	    "\"resolverRoot\":");
	buf_json_string(&b, root, strlen(root));
	buf_puts(&b, ",\"supportedPrimaryKeys\":[\"01\"],"
	    "\"supportedQualifiers\":[\"10\",\"21\"],"
	    "\"supportedLinkType\":[{\"namespace\":\"" GS1_VOC "\","
	    "\"prefix\":\"gs1:\",\"profile\":\"" GS1_VOC "?show=linktypes\"}],"
	    "\"linkTypes\":[\"gs1:defaultLink\",\"gs1:pip\","
	    "\"gs1:traceability\",\"gs1:certificationInfo\","
	    "\"gs1:recallStatus\"],"
	    "\"linkTypeDefaultCanBeLinkset\":false,"
	    "\"validatesAIcombination\":true,"
	    "\"supportedContextValuesEnumerated\":[],"
	    "\"supportedLanguages\":[\"zh-CN\",\"en\",\"ko\"],"
	    "\"linksetMediaType\":\"application/linkset+json\","
	    "\"jsonLdContextLocation\":\"" GS1_LINKSET_CONTEXT "\","
	    "\"resolverVersion\":\"1.0\"}");
	if (b.failed)
		http_send_json(req, 200, &b);
	else
		http_send(req, 200, "application/json", b.data, b.len,
		    "Cache-Control: public, max-age=3600\r\n"
		    "Access-Control-Allow-Origin: *\r\n");
	buf_free(&b);
}
