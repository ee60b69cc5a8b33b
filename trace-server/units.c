/*
 * units.c - issued serials and scratch-off codes on the server (SPEC 12,
 * docs/PROTOCOL.md 12):
 *
 *   POST /api/v1/codes/01/{gtin}/10/{lot}          a codes upload
 *   POST /01/{gtin}/10/{lot}/21/{serial}/code      a code entry
 *
 * and what a unit page and the unit JSON add: whether the serial was
 * issued (the fold's answer, with the proofs built here from the serial
 * set a codes upload stored), and the code form.
 *
 * The codes themselves never reach the server.  A code upload carries,
 * per serial, SHA-256("trace-code" 0 chain 0 serial 0 code); Redis keeps
 * only HMAC-SHA-256(pepper, that hash), the pepper living in a file
 * outside Redis, so a copy of the database gives no way to test guesses
 * offline.  Nothing serves a hash or a MAC.
 *
 * The wrong-entry windows live in Redis, not here: every instance behind
 * the load balancer counts into the same keys, and they expire by Redis's
 * own clock (store.lua unit_code_check), so no wall clock of this process
 * decides a limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libtrace/dsse.h"
#include "libtrace/encoding.h"
#include "libtrace/timefmt.h"
#include "parse.h"
#include "units.h"

#define CODES_PREFIX "/api/v1/codes"

bool
units_load_pepper(const char *path, unsigned char *pepper, size_t *len)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*len = 0;
	if (fd < 0) {
		fprintf(stderr, "trace-server: --code-pepper %s: %s\n", path,
		    strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077) != 0) {
		fprintf(stderr, "trace-server: --code-pepper %s must be a file "
		    "readable by its owner only (chmod 600)\n", path);
		close(fd);
		return false;
	}
	n = read(fd, pepper, 256);
	close(fd);
	if (n < 32) {
		fprintf(stderr, "trace-server: --code-pepper %s holds fewer "
		    "than 32 bytes (make one: head -c 32 /dev/urandom)\n", path);
		return false;
	}
	*len = (size_t)n;
	return true;
}

static void
code_mac(const struct server *srv, const unsigned char hash[32],
    unsigned char mac[32])
{
	hmac_sha256(srv->code_pepper, srv->code_pepper_len, hash, 32, mac);
}

static bool
codes_enabled(struct request *req, struct trace_error *err)
{
	if (req->srv->code_pepper_len > 0)
		return true;
	trace_error_set(err, TRACE_ESTORE, "codes_disabled", NULL,
	    "this server keeps no codes (start it with --code-pepper)");
	return false;
}

/* ---- the upload ----------------------------------------------------------- */

struct upload {
	const char **serials;           /* n, in body order */
	unsigned char *hashes;          /* n * 32, then sorted */
	unsigned char *macs;            /* n * 32, body order */
	const char **set;               /* sorted, distinct */
	size_t n;
};

static void
upload_clear(struct upload *u)
{
	free(u->serials);
	free(u->hashes);
	free(u->macs);
	free(u->set);
	memset(u, 0, sizeof(*u));
}

/* "codes": [[serial, hash hex], ...] into u; the root of the hashes. */
static enum trace_status
read_codes(const struct json_value *codes, struct upload *u,
    unsigned char root[32], struct trace_error *err)
{
	size_t n;

	if (codes == NULL || codes->type != JSON_ARRAY ||
	    codes->u.array.count == 0 ||
	    codes->u.array.count > UNITS_UPLOAD_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_field",
		    "codes", "\"codes\" must be 1-%d pairs [serial, code hash]",
		    UNITS_UPLOAD_MAX);
	n = codes->u.array.count;
	u->serials = calloc(n, sizeof(*u->serials));
	u->set = calloc(n, sizeof(*u->set));
	u->hashes = malloc(n * 32);
	u->macs = malloc(n * 32);
	if (u->serials == NULL || u->set == NULL || u->hashes == NULL ||
	    u->macs == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct json_value *p = codes->u.array.items[i];
		char field[40];

		snprintf(field, sizeof(field), "codes[%zu]", i);
		if (p->type != JSON_ARRAY || p->u.array.count != 2 ||
		    p->u.array.items[0]->type != JSON_STRING ||
		    p->u.array.items[1]->type != JSON_STRING ||
		    !gs1_attr_valid(p->u.array.items[0]->u.string.ptr,
		    p->u.array.items[0]->u.string.len) ||
		    !hex_decode(p->u.array.items[1]->u.string.ptr,
		    p->u.array.items[1]->u.string.len, u->hashes + 32 * i, 32,
		    true))
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_field", field, "a code is [serial (GS1 set "
			    "82), SHA-256 code hash (64 lowercase hex)]");
		u->serials[i] = p->u.array.items[0]->u.string.ptr;
		u->set[i] = u->serials[i];
	}
	u->n = n;
	if (units_serials_sort(u->set, n) != n)
		return trace_error_set(err, TRACE_ERULE, "duplicate_serial",
		    "codes", "a serial appears twice: each unit has one code");
	return units_hashes_root(u->hashes, n, root, err);
}

/* The codes.issued envelope, read without its signature (ingest checks
 * that): its type, chain, root and count. */
static enum trace_status
read_statement(const struct json_value *v, const char *chain,
    unsigned char root[32], long long *count, struct trace_error *err)
{
	struct dsse_envelope env;
	struct trace_event ev;
	const char *hex;
	enum trace_status rc;

	memset(&env, 0, sizeof(env));
	memset(&ev, 0, sizeof(ev));
	if (v == NULL)
		return trace_error_set(err, TRACE_EMALFORMED, "missing_field",
		    "envelope", "missing the signed codes.issued (\"envelope\")");
	if ((rc = dsse_envelope_from_json(v, &env, err)) != TRACE_OK)
		goto out;
	if ((rc = event_parse(env.payload, env.payload_len, &ev, err)) !=
	    TRACE_OK) {
		trace_error_prefix_field(err, "envelope.payload");
		goto out;
	}
	if (ev.type != EVENT_CODES_ISSUED) {
		rc = trace_error_set(err, TRACE_EMALFORMED, "bad_type",
		    "envelope.payload.type", "a codes upload carries a "
		    "codes.issued statement");
		goto out;
	}
	if (strcmp(ev.chain, chain) != 0) {
		rc = trace_error_set(err, TRACE_EMALFORMED, "wrong_chain",
		    "envelope.payload.chain", "the statement is for another "
		    "lot than the URL");
		goto out;
	}
	hex = event_data_string(&ev, "root");
	json_get_int(ev.data, "count", true, count, NULL);
	if (hex == NULL || !hex_decode(hex, strlen(hex), root, 32, true))
		rc = trace_error_set(err, TRACE_EMALFORMED, "bad_field",
		    "envelope.payload.data.root", "bad root");
out:
	event_free(&ev);
	dsse_envelope_clear(&env);
	return rc;
}

void
units_handle_upload(struct request *req)
{
	struct json_limits limits = json_limits_default;
	struct trace_error err;
	struct json_doc *doc = NULL;
	const struct json_value *root_v, *envelope;
	struct upload u = { 0 };
	unsigned char root[32], signed_root[32], set_root[32];
	char chain[CHAIN_ID_MAX + 1], set_hex[65], conflict_serial[GS1_ATTR_MAX + 1];
	char *body = NULL;
	size_t len = 0;
	long long count = 0;
	bool conflict;
	struct buf out;
	int status;

	buf_init(&out, 0);
	if (!codes_enabled(req, &err) ||
	    parse_chain_path(req->path + strlen(CODES_PREFIX), chain, &err) !=
	    TRACE_OK ||
	    http_read_body(req, UNITS_BODY_MAX, &body, &len, &err) != TRACE_OK)
		goto fail;
	limits.max_size = UNITS_BODY_MAX;
	limits.max_string = DSSE_ENVELOPE_MAX;
	limits.max_values = 3 * UNITS_UPLOAD_MAX + 64;
	limits.max_depth = 8;
	if (json_parse(body, len, &limits, &doc, &err) != TRACE_OK)
		goto fail;
	root_v = json_doc_root(doc);
	if (root_v->type != JSON_OBJECT) {
		trace_error_set(&err, TRACE_EMALFORMED, "wrong_type", NULL,
		    "a codes upload is {\"envelope\": ..., \"codes\": [...]}");
		goto fail;
	}
	envelope = json_object_get(root_v, "envelope");
	if (read_statement(envelope, chain, signed_root, &count, &err) !=
	    TRACE_OK ||
	    read_codes(json_object_get(root_v, "codes"), &u, root, &err) !=
	    TRACE_OK)
		goto fail;
	/* Nothing is stored unless the list is the one signed. */
	if ((size_t)count != u.n) {
		trace_error_set(&err, TRACE_ERULE, "count_mismatch",
		    "envelope.payload.data.count", "the statement counts %lld "
		    "codes, the list holds %zu", count, u.n);
		goto fail;
	}
	if (memcmp(root, signed_root, 32) != 0) {
		trace_error_set(&err, TRACE_ERULE, "root_mismatch",
		    "envelope.payload.data.root", "the code hashes' RFC 6962 "
		    "root is not the signed root");
		goto fail;
	}
	if (units_serials_root(u.set, u.n, set_root, &err) != TRACE_OK)
		goto fail;
	hex_encode(set_root, 32, set_hex);
	/* u.hashes is sorted now; the MACs follow the body's order, so
	 * recompute from the body. */
	{
		const struct json_value *codes = json_object_get(root_v,
		    "codes");

		for (size_t i = 0; i < u.n; i++) {
			unsigned char h[32];
			const struct json_value *hv =
			    codes->u.array.items[i]->u.array.items[1];

			hex_decode(hv->u.string.ptr, hv->u.string.len, h, 32,
			    true);
			code_mac(req->srv, h, u.macs + 32 * i);
		}
	}
	/* Each serial's code is set once: refuse before logging anything
	 * (the put checks again, atomically). */
	if (store_unit_codes_check(req->worker->store, chain, u.serials, u.macs,
	    u.n, &conflict, conflict_serial, &err) != TRACE_OK)
		goto fail;
	if (conflict) {
		trace_error_set(&err, TRACE_ECONFLICT, "code_already_set",
		    "codes", "serial %s has a code already: a code is set once",
		    conflict_serial);
		goto fail;
	}
	/* The signed statement goes through ingest like any event: its
	 * signer must be the registering org (policy.c). */
	status = ingest_envelopes(req, &envelope, 1, false, &out, &err);
	if (status == 0)
		goto fail;
	if (status != 200 && status != 201) {
		http_send_json(req, status, &out);
		goto out;
	}
	if (store_unit_codes_put(req->worker->store, chain, u.serials, u.macs,
	    u.n, u.set, u.n, set_hex, &conflict, conflict_serial, &err) !=
	    TRACE_OK)
		goto fail;
	if (conflict) {
		trace_error_set(&err, TRACE_ECONFLICT, "code_already_set",
		    "codes", "serial %s has a code already: a code is set once",
		    conflict_serial);
		goto fail;
	}
	/* {"event": <ingest's answer>, "codes": n, "serialsRoot": hex} */
	{
		struct buf answer;

		buf_init(&answer, 0);
		buf_puts(&answer, "{\"event\":");
		buf_append(&answer, out.data, out.len);
		buf_printf(&answer, ",\"codes\":%zu,\"serialsRoot\":\"%s\"}",
		    u.n, set_hex);
		http_send_json(req, status, &answer);
		buf_free(&answer);
	}
	goto out;
fail:
	if (err.status == TRACE_ESTORE)
		atomic_fetch_add(&req->srv->metrics.store_errors, 1);
	metrics_count_rejected(&req->srv->metrics, err.code);
	http_send_error(req, &err);
out:
	upload_clear(&u);
	json_doc_free(doc);
	free(body);
	buf_free(&out);
}

/* ---- a code entry ------------------------------------------------------- */

/* The code field of a form body, digits only (spaces and dashes that
 * people type between groups dropped): "" if absent or not 16 digits. */
static void
form_code(const char *body, char out[UNITS_CODE_DIGITS + 1])
{
	static const char *const allowed[] = { "code", NULL };
	struct query_fields q;
	struct trace_error err;
	const char *v;
	size_t n = 0;

	out[0] = '\0';
	if (parse_query(body, allowed, PARSE_UNKNOWN_IGNORED, &q, &err) !=
	    TRACE_OK)
		return;
	v = parse_query_value(&q, "code");
	for (; v != NULL && *v != '\0' && n <= UNITS_CODE_DIGITS; v++) {
		if (*v == ' ' || *v == '-')
			continue;
		out[n++] = *v;
	}
	if (n <= UNITS_CODE_DIGITS)
		out[n] = '\0';
	if (!units_code_valid(out, n))
		out[0] = '\0';
	parse_query_clear(&q);
}

static void
time_text(long long t, char out[21])
{
	time_format_utc(t, out);
}

/* The answer page of a code entry. */
static void
send_code_page(struct request *req, int status, const struct gs1_link *link,
    const struct unit_check *c, bool malformed, const char *extra)
{
	enum page_lang lang = i18n_negotiate(req);
	const char *title = i18n_get(lang, "code.title");
	char path[512], when[21], minutes[24];
	struct buf b;

	buf_init(&b, 0);
	gs1_link_format("", link, path, sizeof(path));
	page_open(&b, lang, title, strlen(title), false);
	page_bar(&b, lang, path);
	buf_puts(&b, "<main><section class=\"card\" id=\"code-result\">");
	if (malformed || c->outcome == UNIT_CHECK_WRONG) {
		buf_puts(&b, "<p class=\"note warn\" id=\"code-wrong\">");
		i18n_html(&b, lang, "code.wrong");
		buf_puts(&b, "</p>");
	} else if (c->outcome == UNIT_CHECK_NO_CODE) {
		buf_puts(&b, "<p class=\"note info\" id=\"code-none\">");
		i18n_html(&b, lang, "code.none");
		buf_puts(&b, "</p>");
	} else if (c->outcome == UNIT_CHECK_LIMITED) {
		snprintf(minutes, sizeof(minutes), "%lld",
		    (c->retry_after + 59) / 60);
		buf_puts(&b, "<p class=\"note warn\" id=\"code-limited\">");
		i18n_html_args(&b, lang, "code.limited", minutes, NULL, NULL);
		buf_puts(&b, "</p>");
	} else if (c->first) {
		buf_puts(&b, "<h2 class=\"ok\" id=\"code-first\">");
		i18n_html(&b, lang, "code.first");
		buf_puts(&b, "</h2>");
	} else {
		time_text(c->first_verified, when);
		buf_puts(&b, "<h2 class=\"warn\" id=\"code-again\">");
		i18n_html_args(&b, lang, "code.again", when, NULL, NULL);
		buf_puts(&b, "</h2>");
		if (time_now() - c->first_verified > UNITS_COPY_AFTER_SECONDS) {
			buf_puts(&b, "<p class=\"note warn\" id=\"copy-warning\">");
			i18n_html(&b, lang, "code.copy");
			buf_puts(&b, "</p>");
		}
	}
	buf_puts(&b, "<p><a id=\"code-back\" href=\"");
	buf_html_cstr(&b, path);
	buf_printf(&b, "?lang=%s\">", i18n_tag(lang));
	i18n_html(&b, lang, "code.back");
	buf_puts(&b, "</a></p></section></main>");
	page_close(&b);
	page_send(req, status, &b, lang, extra);
	buf_free(&b);
}

void
units_handle_code(struct request *req)
{
	static const char suffix[] = "/code";
	struct gs1_link link;
	struct trace_error err;
	struct unit_check c;
	char chain[CHAIN_ID_MAX + 1], code[UNITS_CODE_DIGITS + 1];
	char client[CLIENT_KEY_MAX + 1], extra[64], when[21];
	unsigned char hash[32], mac[32];
	size_t path_len = strlen(req->path);
	char *body = NULL;
	size_t len = 0;
	bool json = page_wants_json(req);
	int status = 200;
	struct buf b;

	memset(&c, 0, sizeof(c));
	buf_init(&b, 0);
	extra[0] = '\0';
	if (!codes_enabled(req, &err))
		goto fail;
	if (path_len <= sizeof(suffix) - 1 || gs1_link_parse_path(req->path,
	    path_len - (sizeof(suffix) - 1), &link, &err) != TRACE_OK)
		goto fail;
	if (link.lot[0] == '\0' || link.serial[0] == '\0') {
		trace_error_set(&err, TRACE_ENOTFOUND, "not_found", "serial",
		    "codes are entered at /01/{gtin}/10/{lot}/21/{serial}/code");
		goto fail;
	}
	if (http_read_body(req, 4096, &body, &len, &err) != TRACE_OK)
		goto fail;
	if (!client_key(&req->srv->cfg.trusted_proxies, req->info->remote_addr,
	    mg_get_header(req->conn, "X-Forwarded-For"), client)) {
		trace_error_set(&err, TRACE_EMALFORMED, "bad_client", NULL,
		    "the client's address is unknown");
		goto fail;
	}
	form_code(body, code);
	gs1_chain_id(link.gtin, link.lot, chain, sizeof(chain));
	if (code[0] == '\0') {
		/* Not 16 digits: it cannot be right, so it is not a guess
		 * and counts against nothing. */
		c.outcome = UNIT_CHECK_WRONG;
	} else {
		units_code_hash(chain, link.serial, code, hash);
		code_mac(req->srv, hash, mac);
		if (store_unit_code_check(req->worker->store, chain,
		    link.serial, mac, client, time_now(), &c, &err) !=
		    TRACE_OK)
			goto fail;
	}
	switch (c.outcome) {
	case UNIT_CHECK_NO_CODE:
		status = 404;
		break;
	case UNIT_CHECK_LIMITED:
		status = 429;
		snprintf(extra, sizeof(extra), "Retry-After: %lld\r\n",
		    c.retry_after);
		break;
	default:
		break;
	}
	if (!json) {
		send_code_page(req, status, &link, &c, code[0] == '\0', extra);
		goto out;
	}
	if (c.outcome == UNIT_CHECK_NO_CODE) {
		trace_error_set(&err, TRACE_ENOTFOUND, "no_code", "serial",
		    "unit %s has no code", link.serial);
		goto fail;
	}
	if (c.outcome == UNIT_CHECK_LIMITED) {
		trace_error_set(&err, TRACE_ERULE, "too_many_attempts", "code",
		    "too many wrong codes: try again in %lld seconds",
		    c.retry_after);
		buf_puts(&b, "{\"error\":");
		http_error_object(&b, &err);
		buf_puts(&b, "}");
		http_send(req, 429, "application/json", b.data, b.len, extra);
		goto out;
	}
	if (c.outcome == UNIT_CHECK_VALID) {
		time_text(c.first_verified, when);
		buf_printf(&b, "{\"valid\":true,\"first\":%s,"
		    "\"firstVerified\":\"%s\"}", c.first ? "true" : "false",
		    when);
	} else {
		buf_puts(&b, "{\"valid\":false,\"first\":false,"
		    "\"firstVerified\":null}");
	}
	http_send_json(req, 200, &b);
	goto out;
fail:
	if (json)
		http_send_error(req, &err);
	else
		page_send_error(req, &err);
out:
	free(body);
	buf_free(&b);
}

/* ---- the unit page and the unit JSON ------------------------------------ */

bool
units_lot_has_codes(const struct chain_view *view)
{
	for (size_t i = 0; i < view->count; i++)
		if (view->items[i].ev.type == EVENT_CODES_ISSUED)
			return true;
	return false;
}

enum trace_status
unit_facts_load(struct request *req, const struct chain_view *view,
    struct unit_facts *facts, struct trace_error *err)
{
	const struct fold_result *f = view->fold;
	const char *serial = view->link.serial;
	char (*hex)[65] = NULL;
	const char **missing = NULL;
	const struct unit_set_entry **kept = NULL;
	struct unit_serial_set *sets = NULL;
	size_t nroots = 0, nmissing = 0;
	enum trace_status rc = TRACE_OK;

	memset(facts, 0, sizeof(*facts));
	facts->issued = FOLD_ISSUED_UNKNOWN;
	if (serial[0] == '\0' || f == NULL)
		return TRACE_OK;
	hex = calloc(f->issued_count + 1, sizeof(*hex));
	missing = calloc(f->issued_count + 1, sizeof(*missing));
	kept = calloc(f->issued_count + 1, sizeof(*kept));
	sets = calloc(f->issued_count + 1, sizeof(*sets));
	facts->proofs = calloc(f->issued_count + 1, sizeof(*facts->proofs));
	if (hex == NULL || missing == NULL || kept == NULL || sets == NULL ||
	    facts->proofs == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	/* Root sets kept in memory need no serials from the store. */
	for (size_t k = 0; k < f->issued_count; k++) {
		if (f->issued[k].withdrawn || !f->issued[k].has_root)
			continue;
		hex_encode(f->issued[k].root, 32, hex[nroots]);
		if ((kept[nroots] = unit_set_get(view->chain, hex[nroots])) ==
		    NULL)
			missing[nmissing++] = hex[nroots];
		nroots++;
	}
	/* A lot without codes.issued has no code for any serial, and a lot
	 * whose root sets are all in memory needs nothing else: then a unit
	 * page (the hot path) asks the store nothing here. */
	if ((nmissing > 0 || units_lot_has_codes(view)) &&
	    (rc = store_unit_read(req->worker->store, view->chain, serial,
	    missing, nmissing, &facts->has_code, sets, err)) != TRACE_OK)
		goto out;
	for (size_t k = 0, m = 0; k < nroots; k++) {
		struct units_proof *p = &facts->proofs[facts->proof_count];
		struct trace_error ignored;

		if (kept[k] == NULL) {
			/* missing[] follows the roots not kept, in order. */
			if (sets[m].count > 0)
				kept[k] = unit_set_build(view->chain, missing[m],
				    &sets[m]);
			m++;
		}
		/* A set stored under a root it does not have is not kept;
		 * fold_serial_issued() checks every proof anyway. */
		if (kept[k] == NULL || units_tree_prove(unit_set_tree(kept[k]),
		    serial, p, &ignored) != TRACE_OK)
			continue;
		facts->proof_count++;
	}
	facts->issued = fold_serial_issued(f, serial, facts->proofs,
	    facts->proof_count);
out:
	for (size_t k = 0; kept != NULL && k < nroots; k++)
		unit_set_release(kept[k]);
	store_unit_sets_clear(sets, nmissing);
	free(sets);
	free(kept);
	free(missing);
	free(hex);
	if (rc != TRACE_OK)
		unit_facts_clear(facts);
	return rc;
}

void
unit_facts_clear(struct unit_facts *facts)
{
	if (facts == NULL)
		return;
	free(facts->proofs);
	memset(facts, 0, sizeof(*facts));
}

void
units_card(struct buf *b, enum page_lang lang, const struct chain_view *view,
    const struct unit_facts *facts)
{
	char path[512];

	if (view->link.serial[0] == '\0')
		return;
	if (facts->issued == FOLD_ISSUED_NO) {
		buf_puts(b, "<section class=\"card alert\" id=\"never-issued\">"
		    "<h2>");
		i18n_html(b, lang, "unit.never_issued");
		buf_puts(b, "</h2><p>");
		i18n_html(b, lang, "unit.never_issued.detail");
		buf_puts(b, "</p></section>\n");
		return;
	}
	if (facts->issued == FOLD_ISSUED_YES) {
		buf_puts(b, "<p class=\"note info\" id=\"serial-issued\">");
		i18n_html(b, lang, "unit.issued");
		buf_puts(b, "</p>\n");
	}
	if (!facts->has_code)
		return;
	/* A plain form: it works without JavaScript. */
	gs1_link_format("", &view->link, path, sizeof(path));
	buf_puts(b, "<section class=\"card\" id=\"code\"><h2>");
	i18n_html(b, lang, "code.title");
	buf_puts(b, "</h2><form method=\"post\" id=\"code-form\" action=\"");
	buf_html_cstr(b, path);
	buf_printf(b, "/code?lang=%s\"><label for=\"code-input\">",
	    i18n_tag(lang));
	i18n_html(b, lang, "code.prompt");
	buf_puts(b, "</label> <input id=\"code-input\" name=\"code\" "
	    "inputmode=\"numeric\" autocomplete=\"off\" maxlength=\"24\" "
	    "required> <button type=\"submit\" id=\"code-submit\">");
	i18n_html(b, lang, "code.submit");
	buf_puts(b, "</button></form></section>\n");
}

static void
write_leaf(struct buf *b, const struct units_leaf *l)
{
	char hex[65];

	buf_puts(b, "{\"serial\":");
	buf_json_string(b, l->serial, strlen(l->serial));
	buf_printf(b, ",\"index\":%llu,\"path\":[",
	    (unsigned long long)l->index);
	for (size_t i = 0; i < l->path_len; i++) {
		hex_encode(l->path[i], 32, hex);
		buf_printf(b, "%s\"%s\"", i > 0 ? "," : "", hex);
	}
	buf_puts(b, "]}");
}

void
units_write_json(struct buf *b, const struct unit_facts *facts)
{
	char hex[65];

	buf_printf(b, ",\"serialIssued\":%s,\"serialProofs\":[",
	    fold_issued_json(facts->issued));
	for (size_t i = 0; i < facts->proof_count; i++) {
		const struct units_proof *p = &facts->proofs[i];

		hex_encode(p->root, 32, hex);
		buf_printf(b, "%s{\"root\":\"%s\",\"count\":%llu,\"member\":%s",
		    i > 0 ? "," : "", hex, (unsigned long long)p->count,
		    p->member ? "true" : "false");
		if (p->member || p->has_left) {
			buf_puts(b, p->member ? ",\"leaf\":" : ",\"left\":");
			write_leaf(b, &p->left);
		}
		if (p->has_right) {
			buf_puts(b, ",\"right\":");
			write_leaf(b, &p->right);
		}
		buf_puts(b, "}");
	}
	buf_puts(b, "],\"codeEntry\":");
	buf_puts(b, facts->has_code ? "true" : "false");
}
