/*
 * import.c - trace-agent import: one event per row of a CSV file, for the
 * inspector with 200 lots in a spreadsheet.
 *
 * Column layout (header line required, any order, names exact):
 *
 *   type       event type (required)            inspection.completed
 *   gtin       GTIN-8/12/13/14 (required)       8801234567893
 *   lot        lot, GS1 AI 10 (required)        L2311A
 *   time       RFC 3339; empty = now            2026-11-20T08:30:00+09:00
 *   country    where.country, ISO 3166 alpha-2  KR
 *   place      where.place                      CCIC Korea Incheon lab
 *   data.NAME  one data field, as --set: JSON when the cell is an integer,
 *              object or array, text otherwise; data.name.en nests
 *   data       a whole data object as JSON (merged with data.* cells)
 *
 * Empty cells are left out.  The file is RFC 4180 CSV (quoted fields with
 * "" escapes and line breaks, CRLF or LF), UTF-8, a leading BOM tolerated.
 *
 * Every row is checked (the event is built against a placeholder head)
 * before anything is queued; a bad row is reported as FILE:LINE: field:
 * message, all of them, and then nothing is queued.  Good files are queued
 * all-or-nothing (queue_stage_*) and sent in file order, so the rows of one
 * chain are sequenced as they appear in the file.
 */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "libtrace/crypto.h"
#include "libtrace/encoding.h"
#include "libtrace/fileio.h"

#define CSV_FILE_MAX (64L * 1024 * 1024)
#define COLUMNS_MAX 128

static const char import_usage[] =
"usage: trace-agent import --key K.key [--attempts N] [--no-send] [--again]\n"
"           [--server URL] [--queue DIR] FILE.csv\n"
"\n"
"One event per CSV row, signed with K.key.  Columns (header line first):\n"
"  type, gtin, lot        required\n"
"  time                   RFC 3339 (empty: now)\n"
"  country, place         where it happened\n"
"  data.NAME              a data field (JSON if an integer, object or\n"
"                         array, text otherwise; data.name.en nests)\n"
"  data                   a whole data object as JSON\n"
"Empty cells are left out.  See trace-agent/example-import.csv.\n"
"\n"
"Every row is checked first; a bad row is reported as FILE:LINE: field:\n"
"message and then nothing is queued.  Otherwise every row is queued at\n"
"once and sent in file order, with a progress bar on a terminal.\n"
"\n"
"  --attempts N   tries per request while the server is away (default 3)\n"
"  --no-send      only queue (send later with `trace-agent send`)\n"
"  --again        import a file even though the same content was imported\n"
"                 into this queue before (refused by default)\n"
"\n"
"exit status: 0 every row sent or queued; 1 a bad row (nothing queued) or\n"
"a row the server refused; 2 usage.\n";

/* ---- RFC 4180 ------------------------------------------------------------- */

struct csv_reader {
	const char *p, *end;
	size_t line;               /* of the next character */
};

struct csv_record {
	char **fields;
	size_t count;
	size_t line;               /* where the record starts */
};

static void
csv_record_clear(struct csv_record *rec)
{
	for (size_t i = 0; i < rec->count; i++)
		free(rec->fields[i]);
	free(rec->fields);
	memset(rec, 0, sizeof(*rec));
}

static bool
csv_push(struct csv_record *rec, const char *s, size_t len)
{
	char **grown = realloc(rec->fields, (rec->count + 1) * sizeof(*grown));

	if (grown == NULL)
		return false;
	rec->fields = grown;
	if ((rec->fields[rec->count] = strndup(s, len)) == NULL)
		return false;
	/* strndup stops at a NUL; the caller refused NULs already. */
	rec->count++;
	return true;
}

/*
 * Read one record.  *eof at the end of input.  Errors name the line.
 */
static enum trace_status
csv_next(struct csv_reader *r, struct csv_record *rec, bool *eof,
    struct trace_error *err)
{
	char *field = NULL, *grown;
	size_t len = 0, cap = 0;
	enum trace_status rc = TRACE_OK;

	memset(rec, 0, sizeof(*rec));
	*eof = r->p >= r->end;
	if (*eof)
		return TRACE_OK;
	rec->line = r->line;
	for (;;) {
		bool quoted = r->p < r->end && *r->p == '"';

		len = 0;
		if (quoted) {
			r->p++;
			for (;;) {
				char c;

				if (r->p >= r->end) {
					rc = trace_error_set(err,
					    TRACE_EMALFORMED, "bad_csv", NULL,
					    "a quoted field starting on line "
					    "%zu never ends", rec->line);
					goto out;
				}
				c = *r->p++;
				if (c == '"') {
					if (r->p < r->end && *r->p == '"')
						r->p++;
					else
						break;
				} else if (c == '\n') {
					r->line++;
				}
				if (len + 2 > cap) {
					cap = cap ? cap * 2 : 64;
					if ((grown = realloc(field, cap)) == NULL)
						goto nomem;
					field = grown;
				}
				field[len++] = c;
			}
			if (r->p < r->end && *r->p != ',' && *r->p != '\n' &&
			    !(*r->p == '\r' && r->p + 1 < r->end &&
			    r->p[1] == '\n')) {
				rc = trace_error_set(err, TRACE_EMALFORMED,
				    "bad_csv", NULL, "line %zu: text after a "
				    "closing quote", r->line);
				goto out;
			}
		} else {
			const char *start = r->p;

			while (r->p < r->end && *r->p != ',' && *r->p != '\n' &&
			    !(*r->p == '\r' && r->p + 1 < r->end &&
			    r->p[1] == '\n')) {
				if (*r->p == '"') {
					rc = trace_error_set(err,
					    TRACE_EMALFORMED, "bad_csv", NULL,
					    "line %zu: a quote inside an "
					    "unquoted field (quote the whole "
					    "field and double the quote)",
					    r->line);
					goto out;
				}
				r->p++;
			}
			len = (size_t)(r->p - start);
			if (len + 1 > cap) {
				cap = len + 1;
				if ((grown = realloc(field, cap)) == NULL)
					goto nomem;
				field = grown;
			}
			memcpy(field, start, len);
		}
		if (!csv_push(rec, field != NULL ? field : "", len))
			goto nomem;
		if (r->p >= r->end)
			break;
		if (*r->p == ',') {
			r->p++;
			continue;
		}
		/* End of record: LF or CRLF. */
		r->p += *r->p == '\r' ? 2 : 1;
		r->line++;
		break;
	}
	goto out;
nomem:
	rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL, "out of memory");
out:
	free(field);
	if (rc != TRACE_OK)
		csv_record_clear(rec);
	return rc;
}

/* ---- rows to drafts ------------------------------------------------------- */

enum column_kind { COL_TYPE, COL_GTIN, COL_LOT, COL_TIME, COL_COUNTRY,
	COL_PLACE, COL_DATA_FIELD, COL_DATA };

struct column {
	enum column_kind kind;
	char *name;                /* data field name for COL_DATA_FIELD */
};

struct import_row {
	struct draft draft;
	size_t line;
	char name[QUEUE_NAME_MAX + 1];
};

struct import {
	const char *file;          /* as given, for messages */
	struct column columns[COLUMNS_MAX];
	size_t column_count;
	struct import_row *rows;
	size_t row_count;
	size_t bad;
	/* progress */
	unsigned long long first, last;   /* counters of our entries */
	size_t done, sent, rejected, kept, others_sent;
	bool tty;
	char digest[2 * SHA256_LEN + 1];  /* of the file's bytes */
};

static enum trace_status
import_header(struct import *im, const struct csv_record *rec,
    struct trace_error *err)
{
	static const char *const fixed[] = { "type", "gtin", "lot", "time",
		"country", "place" };
	bool seen[6] = { false };

	if (rec->count > COLUMNS_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_header", NULL,
		    "more than %d columns", COLUMNS_MAX);
	for (size_t i = 0; i < rec->count; i++) {
		const char *h = rec->fields[i];
		struct column *col = &im->columns[i];
		size_t k;

		for (k = 0; k < 6 && strcmp(h, fixed[k]) != 0; k++)
			;
		if (k < 6) {
			if (seen[k])
				return trace_error_set(err, TRACE_EMALFORMED,
				    "bad_header", h, "column \"%s\" appears "
				    "twice", h);
			seen[k] = true;
			col->kind = (enum column_kind)k;
		} else if (strcmp(h, "data") == 0) {
			col->kind = COL_DATA;
		} else if (strncmp(h, "data.", 5) == 0 && h[5] != '\0') {
			col->kind = COL_DATA_FIELD;
			/* The header record is freed after this call. */
			if ((col->name = strdup(h + 5)) == NULL)
				return trace_error_set(err, TRACE_ENOMEM, NULL,
				    NULL, "out of memory");
		} else {
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_header", h, "unknown column \"%s\" (type, "
			    "gtin, lot, time, country, place, data, "
			    "data.NAME)", h);
		}
	}
	im->column_count = rec->count;
	for (size_t k = 0; k < 3; k++)
		if (!seen[k])
			return trace_error_set(err, TRACE_EMALFORMED,
			    "bad_header", fixed[k], "the header has no \"%s\" "
			    "column", fixed[k]);
	return TRACE_OK;
}

static enum trace_status
import_cell(struct draft *d, struct draft_data *data, const struct column *col,
    const char *cell, struct trace_error *err)
{
	switch (col->kind) {
	case COL_TYPE: return draft_set_type(d, cell, err);
	case COL_GTIN: return draft_set_gtin(d, cell, err);
	case COL_LOT: return draft_set_lot(d, cell, err);
	case COL_TIME: return draft_set_time(d, cell, err);
	case COL_COUNTRY: return draft_set_country(d, cell, err);
	case COL_PLACE: return draft_set_place(d, cell, err);
	case COL_DATA: return draft_data_merge_text(data, cell, strlen(cell),
	    err);
	case COL_DATA_FIELD: return draft_data_set(data, col->name,
	    strlen(col->name), cell, strlen(cell), err);
	}
	return TRACE_OK;
}

/* Build and check one row's draft; false (reported) when it is bad. */
static bool
import_row(struct import *im, const struct csv_record *rec,
    const char *signer, struct draft *d)
{
	struct draft_data *data = draft_data_new();
	struct trace_error err;
	bool ok = false, has_time = false;

	memset(d, 0, sizeof(*d));
	trace_error_clear(&err);
	if (data == NULL) {
		trace_error_set(&err, TRACE_ENOMEM, NULL, NULL, "out of memory");
		goto out;
	}
	if (rec->count != im->column_count) {
		trace_error_set(&err, TRACE_EMALFORMED, "bad_row", NULL,
		    "%zu fields, but the header has %zu", rec->count,
		    im->column_count);
		goto out;
	}
	for (size_t i = 0; i < rec->count; i++) {
		const char *cell = rec->fields[i];

		if (im->columns[i].kind == COL_TIME && cell[0] != '\0')
			has_time = true;
		if (cell[0] == '\0')
			continue;
		if (import_cell(d, data, &im->columns[i], cell, &err) !=
		    TRACE_OK)
			goto out;
	}
	if (!has_time && draft_set_time(d, NULL, &err) != TRACE_OK)
		goto out;
	if (d->gtin[0] == '\0' || d->lot[0] == '\0') {
		trace_error_set(&err, TRACE_EMALFORMED, "missing_field",
		    d->gtin[0] == '\0' ? "gtin" : "lot", "empty cell");
		goto out;
	}
	if (draft_data_finish(data, &d->data, &err) != TRACE_OK ||
	    draft_check(d, signer, &err) != TRACE_OK)
		goto out;
	ok = true;
out:
	if (!ok) {
		fprintf(stderr, "%s:%zu: %s%s%s\n", im->file, rec->line,
		    err.field[0] ? err.field : "", err.field[0] ? ": " : "",
		    err.message);
		draft_clear(d);
	}
	draft_data_free(data);
	return ok;
}

/* Parse and check the whole file; every bad row is reported. */
static int
import_read(struct import *im, const char *text, size_t len,
    const char *signer)
{
	struct csv_reader r = { text, text + len, 1 };
	struct csv_record rec;
	struct trace_error err;
	const char *nul;
	size_t bad_offset;
	bool eof, header = true;

	/* A spreadsheet's UTF-8 export often starts with a BOM. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		r.p += 3;
	bad_offset = utf8_check((const unsigned char *)text, len);
	if ((nul = memchr(text, '\0', len)) != NULL &&
	    (size_t)(nul - text) < bad_offset)
		bad_offset = (size_t)(nul - text);
	if (bad_offset != len) {
		size_t line = 1;

		for (size_t i = 0; i < bad_offset; i++)
			line += text[i] == '\n';
		fprintf(stderr, "%s:%zu: not UTF-8 text (save the sheet as "
		    "\"CSV UTF-8\")\n", im->file, line);
		return AGENT_EXIT_FAILED;
	}
	for (;;) {
		struct draft d;
		struct import_row *grown;
		bool blank;

		if (csv_next(&r, &rec, &eof, &err) != TRACE_OK) {
			fprintf(stderr, "%s: %s\n", im->file, err.message);
			im->bad++;
			break;
		}
		if (eof)
			break;
		blank = rec.count == 1 && rec.fields[0][0] == '\0';
		if (header) {
			header = false;
			if (import_header(im, &rec, &err) != TRACE_OK) {
				fprintf(stderr, "%s:%zu: %s\n", im->file,
				    rec.line, err.message);
				csv_record_clear(&rec);
				return AGENT_EXIT_FAILED;
			}
		} else if (!blank) {
			if (!import_row(im, &rec, signer, &d)) {
				im->bad++;
			} else if ((grown = realloc(im->rows, (im->row_count +
			    1) * sizeof(*grown))) == NULL) {
				draft_clear(&d);
				im->bad++;
			} else {
				im->rows = grown;
				memset(&im->rows[im->row_count], 0,
				    sizeof(*grown));
				im->rows[im->row_count].draft = d;
				im->rows[im->row_count++].line = rec.line;
			}
		}
		csv_record_clear(&rec);
	}
	if (header) {
		fprintf(stderr, "%s: empty file (no header line)\n", im->file);
		return AGENT_EXIT_FAILED;
	}
	if (im->bad > 0) {
		fprintf(stderr, "%s: %zu bad row%s; nothing was queued\n",
		    im->file, im->bad, im->bad == 1 ? "" : "s");
		return AGENT_EXIT_FAILED;
	}
	return AGENT_EXIT_OK;
}

/* ---- queue and send -------------------------------------------------------- */

static void
import_progress(const struct import *im, bool final)
{
	size_t total = im->row_count, width = 30;
	size_t filled = total ? im->done * width / total : width;
	char bar[64];

	if (!im->tty)
		return;
	for (size_t i = 0; i < width; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[width] = '\0';
	fprintf(stderr, "\r[%s] %zu/%zu  sent %zu  queued %zu  rejected %zu%s",
	    bar, im->done, total, im->sent, im->kept, im->rejected,
	    final ? "\n" : "");
	fflush(stderr);
}

static void
import_on_entry(const struct send_report *r, void *arg)
{
	struct import *im = arg;
	unsigned long long n = queue_name_counter(r->name);

	if (n < im->first || n > im->last) {
		/* An older queued event, sent first to keep the order. */
		im->others_sent += r->outcome == SEND_SENT;
		return;
	}
	im->done++;
	switch (r->outcome) {
	case SEND_SENT: im->sent++; break;
	case SEND_KEPT:
		im->kept++;
		/* Say why once; "not tried" rows only repeat the reason. */
		if (strncmp(r->message, "not tried", 9) != 0) {
			if (im->tty)
				fputc('\n', stderr);
			fprintf(stderr, "%s:%zu: kept in the queue: %s\n",
			    im->file, im->rows[n - im->first].line, r->message);
		}
		break;
	case SEND_REJECTED:
		im->rejected++;
		if (im->tty)
			fputc('\n', stderr);
		fprintf(stderr, "%s:%zu: rejected: %s\n", im->file,
		    im->rows[n - im->first].line, r->message);
		break;
	}
	import_progress(im, false);
}

static int
import_queue_and_send(struct agent *a, struct import *im,
    const char *key_path, const char *keyid, int attempts, bool send,
    bool again)
{
	struct send_options opt = { .cmd = "import", .attempts = attempts,
	    .quiet = true, .on_entry = import_on_entry, .arg = im };
	struct queue_stage *st = NULL;
	struct send_totals totals;
	struct trace_error err;
	struct queue q;
	char source[256], when[PATH_MAX + 64], *copy = strdup(im->file);
	const char *base = copy != NULL ? basename(copy) : im->file;
	int rc = AGENT_EXIT_FAILED;

	if (queue_open(&q, agent_queue_dir(a), &err) != TRACE_OK) {
		agent_report("import", &err);
		free(copy);
		return AGENT_EXIT_FAILED;
	}
	if (!again && queue_imported(&q, im->digest, when, sizeof(when))) {
		fprintf(stderr, "%s: this file was imported before (%s); "
		    "nothing was queued.  Use --again to import it once more\n",
		    im->file, when);
		goto out;
	}
	if (queue_stage_begin(&q, &st, &err) != TRACE_OK ||
	    queue_stage_mark(st, im->digest, im->file, &err) != TRACE_OK) {
		queue_stage_abort(st);
		goto fail;
	}
	for (size_t i = 0; i < im->row_count; i++) {
		struct queue_entry e;

		snprintf(source, sizeof(source), "%s:%zu", base,
		    im->rows[i].line);
		queue_entry_init(&e, &im->rows[i].draft, key_path, keyid,
		    source);
		memset(&im->rows[i].draft, 0, sizeof(im->rows[i].draft));
		if (queue_stage_add(st, &e, &err) != TRACE_OK) {
			queue_entry_clear(&e);
			queue_stage_abort(st);
			goto fail;
		}
		memcpy(im->rows[i].name, e.name, sizeof(e.name));
		queue_entry_clear(&e);
	}
	if (queue_stage_commit(st, &err) != TRACE_OK)
		goto fail;
	agent_crash_point("import-queued");
	im->first = queue_name_counter(im->rows[0].name);
	im->last = queue_name_counter(im->rows[im->row_count - 1].name);
	if (!send || a->server[0] == '\0') {
		fprintf(stderr, "queued %zu event%s in %s%s; `trace-agent "
		    "send` will send them\n", im->row_count,
		    im->row_count == 1 ? "" : "s", q.dir, send ?
		    " (no server configured)" : "");
		rc = AGENT_EXIT_OK;
		goto out;
	}
	im->tty = isatty(STDERR_FILENO) != 0;
	import_progress(im, false);
	if (send_flush(a, &q, &opt, &totals, &err) != TRACE_OK)
		goto fail;
	import_progress(im, true);
	/* Rows the flush never reached are still queued. */
	im->kept += im->row_count - im->done;
	fprintf(stderr, "%s: %zu row%s: %zu sent, %zu queued, %zu rejected\n",
	    im->file, im->row_count, im->row_count == 1 ? "" : "s", im->sent,
	    im->kept, im->rejected);
	if (im->others_sent > 0)
		fprintf(stderr, "(and %zu event%s queued earlier)\n",
		    im->others_sent, im->others_sent == 1 ? "" : "s");
	if (im->kept > 0)
		fprintf(stderr, "the queued rows are in %s; `trace-agent send` "
		    "will send them\n", q.dir);
	/* A chain held for the signer to look (send.c) is said above. */
	rc = totals.held > 0 ? AGENT_EXIT_HELD : im->rejected > 0 ?
	    AGENT_EXIT_FAILED : AGENT_EXIT_OK;
	goto out;
fail:
	agent_report("import", &err);
out:
	queue_close(&q);
	free(copy);
	return rc;
}

int
cmd_import(struct agent *a, int argc, char **argv)
{
	enum { OPT_KEY = OPT_FIRST_LOCAL, OPT_ATTEMPTS, OPT_NO_SEND, OPT_AGAIN };
	static const struct option options[] = {
		{ "key", required_argument, NULL, OPT_KEY },
		{ "attempts", required_argument, NULL, OPT_ATTEMPTS },
		{ "no-send", no_argument, NULL, OPT_NO_SEND },
		{ "again", no_argument, NULL, OPT_AGAIN },
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct import im;
	struct key_pair kp;
	struct trace_error err;
	const char *key = NULL;
	char key_path[PATH_MAX], *text = NULL;
	size_t len = 0;
	unsigned char digest[SHA256_LEN];
	bool send = true, again = false;
	int c, attempts = 3, rc = AGENT_EXIT_FAILED;

	memset(&im, 0, sizeof(im));
	memset(&kp, 0, sizeof(kp));
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (agent_common_option(a, c, optarg))
			continue;
		switch (c) {
		case OPT_KEY: key = optarg; break;
		case OPT_NO_SEND: send = false; break;
		case OPT_AGAIN: again = true; break;
		case OPT_ATTEMPTS:
			attempts = atoi(optarg);
			if (attempts < 1 || attempts > 100)
				return agent_usage_error("import",
				    "--attempts must be 1 to 100");
			break;
		case 'h': fputs(import_usage, stdout); return AGENT_EXIT_OK;
		default: return agent_usage_error("import", "bad option");
		}
	}
	if (key == NULL || optind + 1 != argc)
		return agent_usage_error("import", "--key K.key and one "
		    "FILE.csv are required");
	im.file = argv[optind];
	if (realpath(key, key_path) == NULL) {
		agent_warn("import", "--key %s: cannot find it", key);
		return AGENT_EXIT_FAILED;
	}
	if (key_pair_load(key_path, &kp, &err) != TRACE_OK) {
		agent_report("import", &err);
		return AGENT_EXIT_FAILED;
	}
	if (!kp.has_secret) {
		agent_warn("import", "%s is a public key; sign with the .key "
		    "file", key);
		goto out;
	}
	if (file_read_all(im.file, (size_t)CSV_FILE_MAX, &text, &len, &err) !=
	    TRACE_OK) {
		agent_report("import", &err);
		goto out;
	}
	if ((rc = import_read(&im, text, len, kp.keyid)) != AGENT_EXIT_OK)
		goto out;
	if (im.row_count == 0) {
		fprintf(stderr, "%s: no rows to import\n", im.file);
		rc = AGENT_EXIT_OK;
		goto out;
	}
	/* Same content, same digest: the guard against importing twice. */
	sha256(text, len, digest);
	hex_encode(digest, SHA256_LEN, im.digest);
	rc = import_queue_and_send(a, &im, key_path, kp.keyid, attempts, send,
	    again);
out:
	for (size_t i = 0; i < im.row_count; i++)
		draft_clear(&im.rows[i].draft);
	for (size_t i = 0; i < COLUMNS_MAX; i++)
		free(im.columns[i].name);
	free(im.rows);
	free(text);
	key_pair_wipe(&kp);
	return rc;
}
