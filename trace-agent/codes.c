/*
 * codes.c - trace-agent codes gen|upload: scratch-off codes (SPEC 12,
 * docs/PROTOCOL.md 12).
 *
 * gen makes one random 16-digit code per serial (libgcrypt's strong random
 * generator, seeded from /dev/urandom) into a CSV for the label printer,
 * created with mode 0600 and never overwritten: the file is the only copy
 * of the codes.  upload reads it and sends only what the server needs to
 * check an entry later: per serial SHA-256("trace-code" 0 chain 0 serial 0
 * code), with a codes.issued statement signed over the RFC 6962 root of
 * those hashes (sorted bytewise).  The codes never leave this machine.
 *
 * Uploading is online only (no offline queue): the statement and the list
 * go together, and a refused upload stores nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "libtrace/buf.h"
#include "libtrace/crypto.h"
#include "libtrace/dsse.h"
#include "libtrace/encoding.h"
#include "libtrace/fileio.h"
#include "libtrace/gs1.h"
#include "libtrace/units.h"

#define CODES_FILE_MAX (64 * 1024 * 1024)
#define CODES_PROGRESS_EVERY 10000
#define CODES_CSV_HEADER "gtin,lot,serial,code"

static const char codes_usage[] =
"usage: trace-agent codes gen --gtin G --lot L --serials FROM-TO|FILE\n"
"           --out codes.csv\n"
"       trace-agent codes upload --key K.key --gtin G --lot L [--attempts N]\n"
"           [--server URL] codes.csv\n"
"\n"
"Scratch-off codes (防伪码) for a lot's units (docs/PROTOCOL.md 12).\n"
"\n"
"gen      one random 16-digit code per serial, into a new CSV file (mode\n"
"         0600; an existing file is never overwritten) with the columns\n"
"         " CODES_CSV_HEADER " for the label printer, which prints each\n"
"         code under the scratch-off area of its unit's label.  Serials:\n"
"         FROM-TO (ends of equal length that differ in trailing digits,\n"
"         e.g. S00001-S99999) or a file with one serial per line.  At most\n"
"         200,000 per file; progress goes to standard error.\n"
"upload   sign a codes.issued for the lot (with the registering org's key)\n"
"         over the code hashes and send it with the list of hashes to\n"
"         POST /api/v1/codes/01/{gtin}/10/{lot}.  Only the hashes\n"
"         SHA-256(\"trace-code\" 0 chain 0 serial 0 code) leave this\n"
"         machine, never the codes or the file.  A serial's code is set\n"
"         once: uploading a code for a serial that has one is refused.\n"
"         Prints the statement id and the root of the serials, which a\n"
"         serials.issued with \"root\" and \"count\" can declare.\n"
"\n"
"exit status: 0 done; 1 refused or a local error; 2 usage; 3 unreachable.\n";

/* ---- serials ------------------------------------------------------------ */

struct serial_list {
	char **items;
	size_t count;
	char *text;                     /* a serials file, if read */
};

static void
serial_list_clear(struct serial_list *l)
{
	if (l->text == NULL)
		for (size_t i = 0; i < l->count; i++)
			free(l->items[i]);
	free(l->items);
	free(l->text);
	memset(l, 0, sizeof(*l));
}

/* FROM-TO: the '-' that leaves two ends of equal length. */
static bool
split_range(const char *s, char *from, char *to)
{
	size_t len = strlen(s), half;

	if (len < 3 || len % 2 == 0)
		return false;
	half = (len - 1) / 2;
	if (s[half] != '-' || half > GS1_ATTR_MAX)
		return false;
	memcpy(from, s, half);
	from[half] = '\0';
	memcpy(to, s + half + 1, half + 1);
	return true;
}

static bool
range_serials(const char *from, const char *to, struct serial_list *l)
{
	size_t len = strlen(from), digits = 0, prefix;
	unsigned long long a, b;

	while (digits < len && from[len - 1 - digits] >= '0' &&
	    from[len - 1 - digits] <= '9' && to[len - 1 - digits] >= '0' &&
	    to[len - 1 - digits] <= '9')
		digits++;
	prefix = len - digits;
	if (digits == 0 || digits > 18 || strncmp(from, to, prefix) != 0 ||
	    !gs1_attr_valid(from, len) || !gs1_attr_valid(to, len))
		return false;
	a = strtoull(from + prefix, NULL, 10);
	b = strtoull(to + prefix, NULL, 10);
	if (a > b || b - a >= UNITS_UPLOAD_MAX)
		return false;
	if ((l->items = calloc((size_t)(b - a + 1), sizeof(char *))) == NULL)
		return false;
	for (unsigned long long n = a; n <= b; n++) {
		char *s = malloc(len + 1);

		if (s == NULL)
			return false;
		snprintf(s, len + 1, "%.*s%0*llu", (int)prefix, from,
		    (int)digits, n);
		l->items[l->count++] = s;
	}
	return true;
}

static int
read_serials(const char *arg, struct serial_list *l)
{
	struct trace_error err;
	char from[GS1_ATTR_MAX + 2], to[GS1_ATTR_MAX + 2];
	size_t len = 0, lines = 0;
	char *p;

	if (access(arg, F_OK) != 0) {
		if (!split_range(arg, from, to) || !range_serials(from, to, l))
			return agent_usage_error("codes", "--serials %s is "
			    "neither a file nor FROM-TO (equal lengths, "
			    "trailing digits, at most %d)", arg,
			    UNITS_UPLOAD_MAX);
		return AGENT_EXIT_OK;
	}
	if (file_read_all(arg, CODES_FILE_MAX, &l->text, &len, &err) !=
	    TRACE_OK) {
		agent_report("codes", &err);
		return AGENT_EXIT_FAILED;
	}
	for (size_t i = 0; i < len; i++)
		lines += l->text[i] == '\n';
	if ((l->items = calloc(lines + 2, sizeof(char *))) == NULL)
		return AGENT_EXIT_FAILED;
	for (p = strtok(l->text, "\r\n"); p != NULL; p = strtok(NULL, "\r\n")) {
		if (!gs1_attr_valid(p, strlen(p)))
			return agent_usage_error("codes", "%s: \"%.40s\" is not "
			    "a serial (1-20 characters of GS1 set 82)", arg, p);
		if (l->count >= UNITS_UPLOAD_MAX)
			return agent_usage_error("codes", "%s: more than %d "
			    "serials", arg, UNITS_UPLOAD_MAX);
		l->items[l->count++] = p;
	}
	if (l->count == 0)
		return agent_usage_error("codes", "%s holds no serial", arg);
	/* One code per unit: a serial twice would get two (and the upload
	 * would be refused as duplicate_serial). */
	{
		const char **copy = malloc(l->count * sizeof(*copy));
		size_t distinct;

		if (copy == NULL)
			return AGENT_EXIT_FAILED;
		memcpy(copy, l->items, l->count * sizeof(*copy));
		distinct = units_serials_sort(copy, l->count);
		free(copy);
		if (distinct != l->count)
			return agent_usage_error("codes", "%s names a serial "
			    "more than once", arg);
	}
	return AGENT_EXIT_OK;
}

/* ---- gen ---------------------------------------------------------------- */

/* A uniformly random 16-digit code: bytes below 250 taken mod 10. */
static void
random_code(char out[UNITS_CODE_DIGITS + 1])
{
	unsigned char buf[32];
	size_t n = 0;

	while (n < UNITS_CODE_DIGITS) {
		crypto_random(buf, sizeof(buf));
		for (size_t i = 0; i < sizeof(buf) && n < UNITS_CODE_DIGITS; i++)
			if (buf[i] < 250)
				out[n++] = (char)('0' + buf[i] % 10);
	}
	out[n] = '\0';
	memset(buf, 0, sizeof(buf));
}

static int
codes_gen(int argc, char **argv)
{
	enum { OPT_GTIN = OPT_FIRST_LOCAL, OPT_LOT, OPT_SERIALS, OPT_OUT };
	static const struct option options[] = {
		{ "gtin", required_argument, NULL, OPT_GTIN },
		{ "lot", required_argument, NULL, OPT_LOT },
		{ "serials", required_argument, NULL, OPT_SERIALS },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *gtin = NULL, *lot = NULL, *serials = NULL, *out = NULL;
	struct serial_list l = { 0 };
	struct draft d;
	struct trace_error err;
	FILE *f = NULL;
	int c, fd, rc;

	memset(&d, 0, sizeof(d));
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_GTIN: gtin = optarg; break;
		case OPT_LOT: lot = optarg; break;
		case OPT_SERIALS: serials = optarg; break;
		case OPT_OUT: out = optarg; break;
		case 'h': fputs(codes_usage, stdout); return AGENT_EXIT_OK;
		default: return agent_usage_error("codes", "bad option");
		}
	}
	if (gtin == NULL || lot == NULL || serials == NULL || out == NULL ||
	    optind < argc)
		return agent_usage_error("codes", "gen needs --gtin, --lot, "
		    "--serials and --out");
	if (draft_set_gtin(&d, gtin, &err) != TRACE_OK ||
	    draft_set_lot(&d, lot, &err) != TRACE_OK) {
		agent_report("codes", &err);
		draft_clear(&d);
		return AGENT_EXIT_USAGE;
	}
	if ((rc = read_serials(serials, &l)) != AGENT_EXIT_OK)
		goto out;
	rc = AGENT_EXIT_FAILED;
	/* The only copy of the codes: owner-only, and never clobbered. */
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		agent_warn("codes", "%s: %s%s", out, strerror(errno),
		    errno == EEXIST ? " (codes files are never overwritten)" :
		    "");
		if (fd >= 0)
			close(fd);
		goto out;
	}
	fprintf(f, CODES_CSV_HEADER "\n");
	for (size_t i = 0; i < l.count; i++) {
		char code[UNITS_CODE_DIGITS + 1];

		random_code(code);
		/* Lots and serials of set 82 may hold ',' or '"': quote. */
		fprintf(f, "%s,\"", d.gtin);
		for (const char *p = d.lot; *p != '\0'; p++)
			fprintf(f, *p == '"' ? "\"\"" : "%c", *p);
		fputs("\",\"", f);
		for (const char *p = l.items[i]; *p != '\0'; p++)
			fprintf(f, *p == '"' ? "\"\"" : "%c", *p);
		fprintf(f, "\",%s\n", code);
		memset(code, 0, sizeof(code));
		if ((i + 1) % CODES_PROGRESS_EVERY == 0 || i + 1 == l.count)
			fprintf(stderr, "codes gen: %zu/%zu\n", i + 1, l.count);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		agent_warn("codes", "%s: %s", out, strerror(errno));
		goto out;
	}
	printf("%zu codes written to %s (mode 0600): print them, keep the "
	    "file offline, then run 'trace-agent codes upload'\n", l.count, out);
	rc = AGENT_EXIT_OK;
out:
	if (f != NULL)
		fclose(f);
	serial_list_clear(&l);
	draft_clear(&d);
	return rc;
}

/* ---- upload --------------------------------------------------------------- */

/* One CSV field at *p (quoted or not) into out; advances past the comma. */
static bool
csv_field(const char **p, char *out, size_t size)
{
	const char *s = *p;
	size_t n = 0;

	if (*s == '"') {
		for (s++; *s != '\0'; s++) {
			if (*s == '"' && s[1] == '"')
				s++;
			else if (*s == '"')
				break;
			if (n + 1 >= size)
				return false;
			out[n++] = *s;
		}
		if (*s != '"')
			return false;
		s++;
	} else {
		for (; *s != '\0' && *s != ','; s++) {
			if (n + 1 >= size)
				return false;
			out[n++] = *s;
		}
	}
	out[n] = '\0';
	if (*s == ',')
		s++;
	else if (*s != '\0')
		return false;
	*p = s;
	return true;
}

struct upload_list {
	char (*serials)[GS1_ATTR_MAX + 1];
	unsigned char *hashes;          /* count * 32 */
	size_t count;
};

static int
read_codes_file(const char *path, const struct draft *d, const char *chain,
    struct upload_list *u)
{
	struct trace_error err;
	char *text = NULL, *line, *save = NULL;
	size_t len = 0, lines = 0, row = 0;
	int rc = AGENT_EXIT_FAILED;

	if (file_read_all(path, CODES_FILE_MAX, &text, &len, &err) != TRACE_OK) {
		agent_report("codes", &err);
		return rc;
	}
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	u->serials = calloc(lines + 1, sizeof(*u->serials));
	u->hashes = malloc((lines + 1) * 32);
	if (u->serials == NULL || u->hashes == NULL)
		goto out;
	for (line = strtok_r(text, "\r\n", &save); line != NULL;
	    line = strtok_r(NULL, "\r\n", &save), row++) {
		char gtin[32], lot[GS1_ATTR_MAX + 1], code[32];
		const char *p = line;
		struct draft row_d;

		if (row == 0) {
			if (strcmp(line, CODES_CSV_HEADER) != 0) {
				agent_warn("codes", "%s: the first line must be "
				    "%s", path, CODES_CSV_HEADER);
				goto out;
			}
			continue;
		}
		memset(&row_d, 0, sizeof(row_d));
		if (u->count >= UNITS_UPLOAD_MAX ||
		    !csv_field(&p, gtin, sizeof(gtin)) ||
		    !csv_field(&p, lot, sizeof(lot)) ||
		    !csv_field(&p, u->serials[u->count], GS1_ATTR_MAX + 1) ||
		    !csv_field(&p, code, sizeof(code)) || *p != '\0' ||
		    draft_set_gtin(&row_d, gtin, &err) != TRACE_OK ||
		    strcmp(row_d.gtin, d->gtin) != 0 || strcmp(lot, d->lot) != 0 ||
		    !gs1_attr_valid(u->serials[u->count],
		    strlen(u->serials[u->count])) ||
		    !units_code_valid(code, strlen(code))) {
			agent_warn("codes", "%s:%zu: not a code of lot %s of "
			    "GTIN %s (gtin,lot,serial,16-digit code)", path,
			    row + 1, d->lot, d->gtin);
			draft_clear(&row_d);
			goto out;
		}
		draft_clear(&row_d);
		units_code_hash(chain, u->serials[u->count], code,
		    u->hashes + 32 * u->count);
		memset(code, 0, sizeof(code));
		u->count++;
	}
	if (u->count == 0) {
		agent_warn("codes", "%s holds no codes", path);
		goto out;
	}
	rc = AGENT_EXIT_OK;
out:
	if (text != NULL)
		memset(text, 0, len);
	free(text);
	return rc;
}

/* The chain's head: *exists false on 404. */
static int
chain_head(struct agent *a, const char *chain, int attempts, bool *exists,
    long long *seq, unsigned char id[SHA256_LEN])
{
	struct http_response resp;
	struct trace_error err;
	struct json_doc *doc = NULL;
	const struct json_value *head;
	char path[64 + CHAIN_ID_MAX], why[400];
	const char *hex = NULL;
	size_t len = 0;
	int rc = AGENT_EXIT_FAILED;

	*exists = false;
	/* The head is on every page of the chain (11.6): one event will do. */
	snprintf(path, sizeof(path), "/api/v1/chains/%s?limit=1", chain);
	if (http_exchange(a, "codes", "GET", path, NULL, NULL, 0, attempts,
	    &resp, &err) != TRACE_OK) {
		agent_report("codes", &err);
		rc = AGENT_EXIT_UNREACHABLE;
		goto out;
	}
	if (resp.status == 404) {
		rc = AGENT_EXIT_OK;
		goto out;
	}
	if (resp.status != 200) {
		http_describe_error(&resp, why, sizeof(why));
		agent_warn("codes", "%s", why);
		goto out;
	}
	if (http_response_json(&resp, &doc, &err) != TRACE_OK ||
	    (head = json_object_get(json_doc_root(doc), "head")) == NULL ||
	    json_get_int(head, "seq", true, seq, NULL) != TRACE_OK ||
	    json_get_string(head, "id", true, &hex, &len, NULL) != TRACE_OK ||
	    !hex_decode(hex, len, id, SHA256_LEN, false)) {
		agent_warn("codes", "the server's chain answer has no head");
		goto out;
	}
	*exists = true;
	rc = AGENT_EXIT_OK;
out:
	json_doc_free(doc);
	http_response_free(&resp);
	return rc;
}

/* {"envelope": ..., "codes": [[serial, hash hex], ...]} */
static char *
upload_body(const struct dsse_envelope *env, const struct upload_list *u,
    size_t *len)
{
	size_t env_len = 0;
	char *env_text = dsse_envelope_to_text(env, &env_len);
	struct buf b;

	if (env_text == NULL)
		return NULL;
	buf_init(&b, 0);
	buf_puts(&b, "{\"envelope\":");
	buf_append(&b, env_text, env_len);
	buf_puts(&b, ",\"codes\":[");
	for (size_t i = 0; i < u->count; i++) {
		char hex[65];

		hex_encode(u->hashes + 32 * i, 32, hex);
		buf_puts(&b, i > 0 ? ",[" : "[");
		buf_json_string(&b, u->serials[i], strlen(u->serials[i]));
		buf_printf(&b, ",\"%s\"]", hex);
	}
	buf_puts(&b, "]}");
	free(env_text);
	if (b.failed) {
		buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return b.data;
}

static int
codes_upload(struct agent *a, int argc, char **argv)
{
	enum { OPT_KEY = OPT_FIRST_LOCAL, OPT_GTIN, OPT_LOT, OPT_ATTEMPTS };
	static const struct option options[] = {
		{ "key", required_argument, NULL, OPT_KEY },
		{ "gtin", required_argument, NULL, OPT_GTIN },
		{ "lot", required_argument, NULL, OPT_LOT },
		{ "attempts", required_argument, NULL, OPT_ATTEMPTS },
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key = NULL, *gtin = NULL, *lot = NULL;
	struct upload_list u = { 0 };
	struct key_pair kp;
	struct draft d;
	struct trace_error err;
	unsigned char root[32], *sorted = NULL, head_id[SHA256_LEN];
	char chain[CHAIN_ID_MAX + 1], hex[65], data[160], why[400];
	int c, attempts = 1, rc;

	memset(&kp, 0, sizeof(kp));
	memset(&d, 0, sizeof(d));
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (agent_common_option(a, c, optarg))
			continue;
		switch (c) {
		case OPT_KEY: key = optarg; break;
		case OPT_GTIN: gtin = optarg; break;
		case OPT_LOT: lot = optarg; break;
		case OPT_ATTEMPTS:
			attempts = atoi(optarg);
			if (attempts < 1 || attempts > 100)
				return agent_usage_error("codes",
				    "--attempts must be 1 to 100");
			break;
		case 'h': fputs(codes_usage, stdout); return AGENT_EXIT_OK;
		default: return agent_usage_error("codes", "bad option");
		}
	}
	if (key == NULL || gtin == NULL || lot == NULL || optind != argc - 1)
		return agent_usage_error("codes", "upload needs --key, --gtin, "
		    "--lot and the codes file");
	if (a->server[0] == '\0')
		return agent_usage_error("codes", "no server: --server URL or "
		    "TRACE_SERVER");
	rc = AGENT_EXIT_USAGE;
	if (draft_set_type(&d, "codes.issued", &err) != TRACE_OK ||
	    draft_set_gtin(&d, gtin, &err) != TRACE_OK ||
	    draft_set_lot(&d, lot, &err) != TRACE_OK) {
		agent_report("codes", &err);
		goto out;
	}
	rc = AGENT_EXIT_FAILED;
	if (key_pair_load(key, &kp, &err) != TRACE_OK || !kp.has_secret) {
		agent_warn("codes", "--key %s: %s", key, kp.has_secret ||
		    err.message[0] == '\0' ? err.message :
		    "a public key; sign with the .key file");
		goto out;
	}
	draft_chain(&d, chain, sizeof(chain));
	if ((rc = read_codes_file(argv[optind], &d, chain, &u)) !=
	    AGENT_EXIT_OK)
		goto out;
	rc = AGENT_EXIT_FAILED;
	if ((sorted = malloc(u.count * 32)) == NULL)
		goto out;
	memcpy(sorted, u.hashes, u.count * 32);
	if (units_hashes_root(sorted, u.count, root, &err) != TRACE_OK) {
		agent_report("codes", &err);
		goto out;
	}
	hex_encode(root, 32, hex);
	snprintf(data, sizeof(data), "{\"root\":\"%s\",\"count\":%zu}", hex,
	    u.count);
	if (json_parse(data, strlen(data), &json_limits_default, &d.data,
	    &err) != TRACE_OK)
		goto out;
	/* The head may move between reading it and posting: try again. */
	for (int round = 0; round < 3; round++) {
		struct http_response resp;
		struct dsse_envelope env;
		char *payload = NULL, *body = NULL, path[64 + CHAIN_ID_MAX];
		size_t len = 0, body_len = 0;
		long long seq = 0;
		bool exists = false;

		if ((rc = chain_head(a, chain, attempts, &exists, &seq,
		    head_id)) != AGENT_EXIT_OK)
			goto out;
		rc = AGENT_EXIT_FAILED;
		if (!exists) {
			agent_warn("codes", "lot %s of GTIN %s is not registered "
			    "on the server", d.lot, d.gtin);
			goto out;
		}
		memset(&env, 0, sizeof(env));
		if (draft_set_time(&d, NULL, &err) != TRACE_OK ||
		    draft_payload(&d, kp.keyid, seq + 1, head_id, &payload,
		    &len, &err) != TRACE_OK ||
		    dsse_sign(TYPE_EVENT, (const unsigned char *)payload, len,
		    kp.secret, kp.keyid, &env, &err) != TRACE_OK) {
			free(payload);
			agent_report("codes", &err);
			goto out;
		}
		free(payload);
		body = upload_body(&env, &u, &body_len);
		dsse_envelope_clear(&env);
		if (body == NULL)
			goto out;
		snprintf(path, sizeof(path), "/api/v1/codes/%s", chain);
		fprintf(stderr, "codes upload: %zu code hashes to %s\n",
		    u.count, a->server);
		if (http_exchange(a, "codes", "POST", path, NULL, body,
		    body_len, attempts, &resp, &err) != TRACE_OK) {
			free(body);
			http_response_free(&resp);
			agent_report("codes", &err);
			rc = AGENT_EXIT_UNREACHABLE;
			goto out;
		}
		free(body);
		if (resp.status == 200 || resp.status == 201) {
			struct json_doc *doc = NULL;
			const struct json_value *ev;
			const char *id = NULL, *set_root = NULL;

			if (http_response_json(&resp, &doc, &err) == TRACE_OK &&
			    (ev = json_object_get(json_doc_root(doc),
			    "event")) != NULL)
				json_get_string(ev, "id", false, &id, NULL,
				    NULL);
			if (doc != NULL)
				json_get_string(json_doc_root(doc),
				    "serialsRoot", false, &set_root, NULL, NULL);
			printf("%s\n%zu codes stored; serials root %s\n",
			    id != NULL ? id : "?", u.count,
			    set_root != NULL ? set_root : "?");
			json_doc_free(doc);
			http_response_free(&resp);
			rc = AGENT_EXIT_OK;
			goto out;
		}
		http_describe_error(&resp, why, sizeof(why));
		if (resp.status == 409 && strstr(why, "head_moved") != NULL) {
			http_response_free(&resp);
			continue;
		}
		agent_warn("codes", "%s", why);
		http_response_free(&resp);
		goto out;
	}
	agent_warn("codes", "the lot's chain kept moving: try again");
out:
	free(sorted);
	free(u.serials);
	free(u.hashes);
	key_pair_wipe(&kp);
	draft_clear(&d);
	return rc;
}

int
cmd_codes(struct agent *a, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(codes_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? AGENT_EXIT_USAGE : AGENT_EXIT_OK;
	}
	if (strcmp(argv[1], "gen") == 0)
		return codes_gen(argc - 1, argv + 1);
	if (strcmp(argv[1], "upload") == 0)
		return codes_upload(a, argc - 1, argv + 1);
	return agent_usage_error("codes", "unknown action '%s' (gen, upload)",
	    argv[1]);
}
