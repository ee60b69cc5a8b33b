/*
 * recalls.c - trace-agent recalls: the recalls the server knows
 * (GET /api/v1/recalls, docs/PROTOCOL.md section 11.11), filtered, as an aligned table or
 * as the server's CSV, following the cursor until the last page.
 *
 * The table shows the fields a recall answer is expected to carry (status,
 * chain or gtin/lot, severity, times, reason, action) in that order, and
 * only those present, so the table stays useful if the server adds or
 * renames a field; --csv passes the server's own CSV through unchanged.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "libtrace/buf.h"

#define PAGES_MAX 10000
#define CELL_MAX 48

static const char recalls_usage[] =
"usage: trace-agent recalls [--gtin G] [--lot L] [--since DATE]\n"
"           [--until DATE] [--status open|closed] [--org ORG] [--csv]\n"
"           [--server URL]\n"
"\n"
"List recalls: a table on standard output, or with --csv the server's\n"
"CSV (UTF-8 with a BOM, one header line).  Every page is fetched.  Newest\n"
"receipt first: \"received\" is when the log received the recall (the\n"
"time of the next index statement), null for one logged moments ago,\n"
"which counts as received now; \"issued\" is the time its signer wrote.\n"
"--since and --until compare with the receipt time, so a recall dated\n"
"back still shows in today's list.  DATE is YYYY-MM-DD or an RFC 3339\n"
"time; both ends are inclusive.  --org is the issuing organisation as\n"
"enrolled with its key.\n"
"\n"
"exit status: 0 ok; 1 the server refused; 2 usage; 3 server unreachable.\n";

static const char *const preferred[] = { "status", "chain", "gtin", "lot",
	"serials", "severity", "issued", "received", "time", "closed", "reason",
	"action", "contact", "id", NULL };

/* One cell as text: strings as they are, the rest as compact JSON. */
static void
cell_text(const struct json_value *v, struct buf *b)
{
	struct json_writer *w;
	const char *text;
	size_t len;

	if (v == NULL) {
		buf_puts(b, "-");
		return;
	}
	if (v->type == JSON_STRING) {
		/* Control characters would break the table's lines. */
		for (size_t i = 0; i < v->u.string.len; i++) {
			char c = v->u.string.ptr[i];

			buf_append(b, (unsigned char)c < 0x20 ? " " : &c, 1);
		}
		return;
	}
	if ((w = json_writer_new(false)) == NULL)
		return;
	json_writer_value(w, v);
	if (json_writer_result(w, &text, &len, NULL) == TRACE_OK)
		buf_append(b, text, len);
	json_writer_free(w);
}

/* Cut at most CELL_MAX bytes without splitting a UTF-8 sequence. */
static size_t
cell_cut(const char *s, size_t len)
{
	if (len <= CELL_MAX)
		return len;
	len = CELL_MAX - 3;
	while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
		len--;
	return len;
}

static void
print_table(const struct json_value *const *rows, size_t count)
{
	const char *cols[16];
	size_t ncols = 0, widths[16];

	for (size_t p = 0; preferred[p] != NULL; p++)
		for (size_t r = 0; r < count; r++)
			if (json_object_get(rows[r], preferred[p]) != NULL) {
				cols[ncols++] = preferred[p];
				break;
			}
	if (ncols == 0 && count > 0)
		for (size_t i = 0; i < rows[0]->u.object.count && ncols < 16; i++)
			cols[ncols++] = rows[0]->u.object.members[i].key;
	for (size_t c = 0; c < ncols; c++) {
		widths[c] = strlen(cols[c]);
		for (size_t r = 0; r < count; r++) {
			struct buf b;
			size_t n;

			buf_init(&b, 0);
			cell_text(json_object_get(rows[r], cols[c]), &b);
			n = cell_cut(b.data ? b.data : "", b.len);
			n += n < b.len ? 3 : 0;
			if (n > widths[c])
				widths[c] = n;
			buf_free(&b);
		}
	}
	for (size_t c = 0; c < ncols; c++)
		printf("%-*s%s", (int)widths[c], cols[c], c + 1 < ncols ? "  " :
		    "\n");
	for (size_t r = 0; r < count; r++) {
		for (size_t c = 0; c < ncols; c++) {
			struct buf b;
			size_t n;

			buf_init(&b, 0);
			cell_text(json_object_get(rows[r], cols[c]), &b);
			n = cell_cut(b.data ? b.data : "", b.len);
			printf("%.*s%s", (int)n, b.data ? b.data : "",
			    n < b.len ? "..." : "");
			if (c + 1 < ncols)
				printf("%*s", (int)(widths[c] -
				    (n + (n < b.len ? 3 : 0)) + 2), "");
			buf_free(&b);
		}
		putchar('\n');
	}
	fprintf(stderr, "%zu recall%s\n", count, count == 1 ? "" : "s");
}

static void
query_add(struct buf *b, const char *name, const char *value)
{
	if (value == NULL)
		return;
	buf_puts(b, b->len > 0 && memchr(b->data, '?', b->len) ? "&" : "?");
	buf_puts(b, name);
	buf_puts(b, "=");
	buf_url_component(b, value, strlen(value));
}

int
cmd_recalls(struct agent *a, int argc, char **argv)
{
	enum { OPT_GTIN = OPT_FIRST_LOCAL, OPT_LOT, OPT_SINCE, OPT_UNTIL,
		OPT_STATUS, OPT_ORG, OPT_CSV };
	static const struct option options[] = {
		{ "gtin", required_argument, NULL, OPT_GTIN },
		{ "lot", required_argument, NULL, OPT_LOT },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "status", required_argument, NULL, OPT_STATUS },
		{ "org", required_argument, NULL, OPT_ORG },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *gtin = NULL, *lot = NULL, *since = NULL, *until = NULL,
	    *status = NULL, *org = NULL, *accept = "application/json";
	const struct json_value **rows = NULL;
	struct json_doc **docs = NULL;
	size_t row_count = 0, doc_count = 0;
	char gtin14[GTIN14_LEN + 1], cursor[512] = "", why[512];
	struct trace_error err;
	bool csv = false;
	int c, rc = AGENT_EXIT_FAILED;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (agent_common_option(a, c, optarg))
			continue;
		switch (c) {
		case OPT_GTIN: gtin = optarg; break;
		case OPT_LOT: lot = optarg; break;
		case OPT_SINCE: since = optarg; break;
		case OPT_UNTIL: until = optarg; break;
		case OPT_STATUS: status = optarg; break;
		case OPT_ORG: org = optarg; break;
		case OPT_CSV: csv = true; accept = "text/csv"; break;
		case 'h': fputs(recalls_usage, stdout); return AGENT_EXIT_OK;
		default: return agent_usage_error("recalls", "bad option");
		}
	}
	if (optind < argc)
		return agent_usage_error("recalls", "unexpected argument '%s'",
		    argv[optind]);
	if (gtin != NULL && gs1_gtin_normalize(gtin, strlen(gtin), gtin14,
	    "gtin", &err) != TRACE_OK) {
		agent_report("recalls", &err);
		return AGENT_EXIT_USAGE;
	}
	if (lot != NULL && gs1_attr_check(lot, strlen(lot), "lot", &err) !=
	    TRACE_OK) {
		agent_report("recalls", &err);
		return AGENT_EXIT_USAGE;
	}
	if (status != NULL && strcmp(status, "open") != 0 &&
	    strcmp(status, "closed") != 0)
		return agent_usage_error("recalls", "--status is open or closed");
	for (int i = 0; i < 2; i++) {
		const char *d = i == 0 ? since : until;
		long long t;
		int off;

		if (d != NULL && !time_parse_date(d, strlen(d), &t) &&
		    !time_parse_rfc3339(d, strlen(d), &t, &off))
			return agent_usage_error("recalls", "--%s: \"%s\" is "
			    "not YYYY-MM-DD or an RFC 3339 time",
			    i == 0 ? "since" : "until", d);
	}
	if (a->server[0] == '\0')
		return agent_usage_error("recalls", "no server (--server URL or "
		    "TRACE_SERVER)");

	for (int page = 0; page < PAGES_MAX; page++) {
		struct http_response resp = { 0 };
		struct json_doc *doc = NULL, **grown_docs;
		const struct json_value *list, *next, **grown_rows;
		struct buf path;

		buf_init(&path, 0);
		buf_puts(&path, "/api/v1/recalls");
		query_add(&path, "gtin", gtin != NULL ? gtin14 : NULL);
		query_add(&path, "lot", lot);
		query_add(&path, "since", since);
		query_add(&path, "until", until);
		query_add(&path, "status", status);
		query_add(&path, "org", org);
		query_add(&path, "cursor", cursor[0] ? cursor : NULL);
		if (path.failed || http_exchange(a, "recalls", "GET", path.data,
		    accept, NULL, 0, 3, &resp, &err) != TRACE_OK ||
		    http_status_temporary(resp.status)) {
			if (resp.status != 0)
				agent_warn("recalls", "server unavailable (HTTP "
				    "%ld)", resp.status);
			else
				agent_report("recalls", &err);
			buf_free(&path);
			http_response_free(&resp);
			rc = AGENT_EXIT_UNREACHABLE;
			goto out;
		}
		buf_free(&path);
		if (resp.status != 200) {
			http_describe_error(&resp, why, sizeof(why));
			agent_warn("recalls", "%s", why);
			http_response_free(&resp);
			goto out;
		}
		if (csv) {
			const char *body = resp.body ? resp.body : "";
			size_t skip = 0;

			/* One header line for the whole listing. */
			if (page > 0) {
				const char *nl = memchr(body, '\n', resp.len);

				skip = nl != NULL ? (size_t)(nl - body) + 1 :
				    resp.len;
			}
			fwrite(body + skip, 1, resp.len - skip, stdout);
			snprintf(cursor, sizeof(cursor), "%s", resp.next_cursor);
			http_response_free(&resp);
			if (cursor[0] == '\0')
				break;
			continue;
		}
		if (http_response_json(&resp, &doc, &err) != TRACE_OK ||
		    (list = json_object_get(json_doc_root(doc), "recalls")) ==
		    NULL || list->type != JSON_ARRAY) {
			agent_warn("recalls", "the server's answer has no "
			    "\"recalls\" list");
			json_doc_free(doc);
			http_response_free(&resp);
			goto out;
		}
		http_response_free(&resp);
		if ((grown_docs = realloc(docs, (doc_count + 1) *
		    sizeof(*docs))) == NULL) {
			json_doc_free(doc);
			goto out;
		}
		docs = grown_docs;
		docs[doc_count++] = doc;
		grown_rows = realloc(rows, (row_count + list->u.array.count + 1) *
		    sizeof(*rows));
		if (grown_rows == NULL)
			goto out;
		rows = grown_rows;
		for (size_t i = 0; i < list->u.array.count; i++)
			if (list->u.array.items[i]->type == JSON_OBJECT)
				rows[row_count++] = list->u.array.items[i];
		next = json_object_get(json_doc_root(doc), "next");
		if (next == NULL || next->type != JSON_STRING ||
		    next->u.string.len == 0 ||
		    next->u.string.len >= sizeof(cursor))
			break;
		memcpy(cursor, next->u.string.ptr, next->u.string.len + 1);
	}
	if (!csv)
		print_table(rows, row_count);
	rc = AGENT_EXIT_OK;
out:
	for (size_t i = 0; i < doc_count; i++)
		json_doc_free(docs[i]);
	free(docs);
	free(rows);
	return rc;
}
