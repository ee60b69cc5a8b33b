/*
 * monitor.c - trace-agent monitor (SPEC 11, docs/PROTOCOL.md 9.10.7): read
 * the whole log through its C2SP tiles, rebuild the lot index from the
 * leaves exactly as the integrator must, and check every index statement's
 * root, the receipt times, and that the tree extends what was checked
 * before (a compact range of the old tree, kept in --state DIR, must grow
 * into the signed checkpoint's root).
 *
 *   trace-agent monitor --server URL --state DIR --log-vkey VKEY
 *
 * Incremental: DIR keeps the checked size, the tree's compact range, the
 * last index statement's time and the index's records, replaced
 * atomically after a run that found nothing wrong.  On a divergence it
 * explains what and where, keeps the old state (so every later run says
 * it again) and exits 1.
 *
 * The tiles carry each leaf's data (the statement's PAE bytes) but no
 * signature: the monitor checks what the log committed to, not who signed
 * it (the checkpoint's signature and the witnesses do that).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "libtrace/encoding.h"
#include "libtrace/fileio.h"
#include "libtrace/keyentry.h"
#include "libtrace/lotindex.h"
#include "libtrace/merkle.h"
#include "libtrace/note.h"
#include "libtrace/tlogtiles.h"


static const char usage_text[] =
"usage: trace-agent monitor --server URL --state DIR --log-vkey VKEY\n"
"\n"
"Read the whole log through its tiles (/tlog/checkpoint, /tlog/tile/...),\n"
"rebuild the lot index from every leaf and check, as a regulator or any\n"
"third party can (docs/PROTOCOL.md 9.10.7):\n"
"  - the leaves hash to the signed checkpoint's root, and the tree extends\n"
"    the one this monitor checked before (consistency);\n"
"  - every index statement covers exactly the leaves before it, carries the\n"
"    root of the index rebuilt here and the number of its entries;\n"
"  - index statement times never decrease and no statement claims a time\n"
"    more than 5 minutes after the index statement that received it;\n"
"  - the checkpoint ends with an index statement;\n"
"  - every index statement's \"first\" names the log's first one.\n"
"\n"
"  --server URL     the trace-server (or a mirror of its /tlog/)\n"
"  --state DIR      what was checked so far (created if missing); later\n"
"                   runs read only the new leaves\n"
"  --log-vkey VKEY  the log's verifier key (text or a file holding it)\n"
"\n"
"exit status: 0 all checks passed; 1 a divergence (explained on stdout;\n"
"the state is left as it was) or a local error; 2 usage; 3 the server\n"
"could not be reached.\n";

enum { OPT_STATE = OPT_FIRST_LOCAL, OPT_VKEY };

struct monitor {
	char origin[NOTE_NAME_MAX + 1];
	uint64_t size;                          /* leaves checked */
	unsigned char root[MERKLE_HASH_LEN];
	size_t ranges;                          /* compact range of [0, size) */
	unsigned levels[64];
	unsigned char hashes[64][MERKLE_HASH_LEN];
	bool have_statement;
	long long statement_time;
	long long first_index;                  /* the log's first index
	                                         * statement, -1 unknown */
	long long covered_max;                  /* latest time since it */
	uint64_t statements;                    /* checked in this run */
	struct lotindex_tree *index;
};

/* ---- the compact range (RFC 6962 tree of the leaves so far) -------------- */

static void
range_push(struct monitor *m, const unsigned char leaf[MERKLE_HASH_LEN])
{
	unsigned level = 0;
	unsigned char h[MERKLE_HASH_LEN];

	memcpy(h, leaf, MERKLE_HASH_LEN);
	while (m->ranges > 0 && m->levels[m->ranges - 1] == level) {
		merkle_node_hash(m->hashes[m->ranges - 1], h, h);
		m->ranges--;
		level++;
	}
	m->levels[m->ranges] = level;
	memcpy(m->hashes[m->ranges++], h, MERKLE_HASH_LEN);
}

static void
range_root(const struct monitor *m, unsigned char root[MERKLE_HASH_LEN])
{
	if (m->ranges == 0) {
		merkle_root(NULL, 0, root);
		return;
	}
	memcpy(root, m->hashes[m->ranges - 1], MERKLE_HASH_LEN);
	for (size_t i = m->ranges - 1; i-- > 0;)
		merkle_node_hash(m->hashes[i], root, root);
}

/* ---- state ------------------------------------------------------------------ */

static enum trace_status
seed_record(void *ctx, const unsigned char *pos, size_t pos_len,
    const unsigned char *rec, size_t rec_len, struct trace_error *err)
{
	struct monitor *m = ctx;
	struct lotindex_pos p;
	struct lotindex_record r;
	enum trace_status rc;

	memset(&p, 0, sizeof(p));
	if (pos_len < 2 || pos_len > LOTINDEX_POS_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_state", NULL,
		    "a stored index position is malformed");
	p.depth = (unsigned)pos[0] << 8 | pos[1];
	if (p.depth > LOTINDEX_DEPTH_MAX || pos_len != 2 + (p.depth + 7) / 8)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_state", NULL,
		    "a stored index position is malformed");
	memcpy(p.prefix, pos + 2, pos_len - 2);
	if ((rc = lotindex_record_decode(rec, rec_len, &r, err)) != TRACE_OK)
		return rc;
	return lotindex_tree_seed(m->index, &p, &r);
}

static enum trace_status
state_load(struct monitor *m, const char *dir, struct trace_error *err)
{
	char path[PATH_MAX], *text = NULL, *line, *save = NULL;
	unsigned char *bin = NULL;
	size_t len = 0, blen = 0;
	enum trace_status rc;

	snprintf(path, sizeof(path), "%s/monitor.state", dir);
	if (access(path, F_OK) != 0)
		return TRACE_OK;        /* first run */
	if ((rc = file_read_all(path, 1 << 20, &text, &len, err)) != TRACE_OK)
		return rc;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char word[32], hex[2 * MERKLE_HASH_LEN + 1];
		unsigned level;
		long long t1, t2;

		if (sscanf(line, "origin %255s", m->origin) == 1)
			continue;
		if (sscanf(line, "size %" SCNu64, &m->size) == 1)
			continue;
		if (sscanf(line, "range %u %64s", &level, hex) == 2 &&
		    m->ranges < 64 && hex_decode(hex, strlen(hex),
		    m->hashes[m->ranges], MERKLE_HASH_LEN, false)) {
			m->levels[m->ranges++] = level;
			continue;
		}
		if (sscanf(line, "first %lld", &t1) == 1 && t1 >= 0) {
			m->first_index = t1;
			continue;
		}
		if (sscanf(line, "statement %lld %lld", &t1, &t2) == 2) {
			m->have_statement = true;
			m->statement_time = t1;
			m->covered_max = t2;
			continue;
		}
		if (sscanf(line, "%31s", word) == 1 && strcmp(word,
		    "covered") == 0 && sscanf(line, "covered %lld", &t2) == 1) {
			m->covered_max = t2;
			continue;
		}
		rc = trace_error_set(err, TRACE_EMALFORMED, "bad_state", NULL,
		    "%s: cannot read the line \"%.60s\"", path, line);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/index.records", dir);
	if ((rc = file_read_all(path, (size_t)1 << 34, (char **)&bin, &blen,
	    err)) != TRACE_OK)
		goto out;
	for (size_t i = 0; i < blen;) {
		size_t pl, rl;

		if (i + 1 > blen || i + 1 + (pl = bin[i]) + 1 > blen ||
		    i + 2 + pl + (rl = bin[i + 1 + pl]) > blen) {
			rc = trace_error_set(err, TRACE_EMALFORMED, "bad_state",
			    NULL, "%s is truncated", path);
			goto out;
		}
		if ((rc = seed_record(m, bin + i + 1, pl, bin + i + 2 + pl, rl,
		    err)) != TRACE_OK)
			goto out;
		i += 2 + pl + rl;
	}
out:
	free(text);
	free(bin);
	return rc;
}

struct writer {
	FILE *f;
};

static enum trace_status
write_record(void *ctx, const struct lotindex_pos *pos,
    const struct lotindex_record *r, struct trace_error *err)
{
	struct writer *w = ctx;
	unsigned char p[LOTINDEX_POS_MAX], rec[LOTINDEX_RECORD_MAX];
	size_t pl = lotindex_pos_encode(pos, p), rl;

	(void)err;
	rl = lotindex_record_encode(r, rec);
	fputc((int)pl, w->f);
	fwrite(p, 1, pl, w->f);
	fputc((int)rl, w->f);
	fwrite(rec, 1, rl, w->f);
	return TRACE_OK;
}

/* Write name in dir through a temporary file, fsync and rename. */
static FILE *
state_open(const char *dir, const char *name, char *tmp, size_t size)
{
	snprintf(tmp, size, "%s/%s.tmp", dir, name);
	return fopen(tmp, "wb");
}

static bool
state_commit(FILE *f, const char *tmp, const char *dir, const char *name)
{
	char path[PATH_MAX];
	bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;

	ok = fclose(f) == 0 && ok;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return ok && rename(tmp, path) == 0;
}

static enum trace_status
state_save(struct monitor *m, const char *dir, struct trace_error *err)
{
	char tmp[PATH_MAX], hex[2 * MERKLE_HASH_LEN + 1];
	struct writer w;
	enum trace_status rc;

	if ((w.f = state_open(dir, "index.records", tmp, sizeof(tmp))) == NULL)
		goto fail;
	if ((rc = lotindex_tree_each(m->index, true, write_record, &w, err)) !=
	    TRACE_OK) {
		fclose(w.f);
		return rc;
	}
	if (!state_commit(w.f, tmp, dir, "index.records") ||
	    (w.f = state_open(dir, "monitor.state", tmp, sizeof(tmp))) == NULL)
		goto fail;
	fprintf(w.f, "origin %s\nsize %" PRIu64 "\n", m->origin, m->size);
	for (size_t i = 0; i < m->ranges; i++) {
		hex_encode(m->hashes[i], MERKLE_HASH_LEN, hex);
		fprintf(w.f, "range %u %s\n", m->levels[i], hex);
	}
	if (m->first_index >= 0)
		fprintf(w.f, "first %lld\n", m->first_index);
	if (m->have_statement)
		fprintf(w.f, "statement %lld %lld\n", m->statement_time,
		    m->covered_max);
	else
		fprintf(w.f, "covered %lld\n", m->covered_max);
	if (!state_commit(w.f, tmp, dir, "monitor.state"))
		goto fail;
	return TRACE_OK;
fail:
	return trace_error_set(err, TRACE_EIO, NULL, NULL, "cannot write the "
	    "state in %s: %s", dir, strerror(errno));
}

/* ---- one leaf ------------------------------------------------------------------ */

/* Split PAE bytes "DSSEv1 <n> <type> <m> <payload>" (DSSE's PAE). */
static bool
pae_split(const unsigned char *d, size_t len, char *type, size_t type_max,
    const unsigned char **payload, size_t *payload_len)
{
	size_t i = 7, n = 0, m = 0;

	if (len < 7 || memcmp(d, "DSSEv1 ", 7) != 0)
		return false;
	while (i < len && d[i] >= '0' && d[i] <= '9' && n < 100000)
		n = n * 10 + (size_t)(d[i++] - '0');
	if (i >= len || d[i++] != ' ' || n == 0 || n >= type_max ||
	    i + n + 1 > len)
		return false;
	memcpy(type, d + i, n);
	type[n] = '\0';
	i += n;
	if (d[i++] != ' ')
		return false;
	while (i < len && d[i] >= '0' && d[i] <= '9' && m < (1u << 24))
		m = m * 10 + (size_t)(d[i++] - '0');
	if (i >= len || d[i++] != ' ' || i + m != len)
		return false;
	*payload = d + i;
	*payload_len = m;
	return true;
}

/* A divergence: say it and stop. */
static bool
diverge(uint64_t at, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool
diverge(uint64_t at, const char *fmt, ...)
{
	va_list ap;

	printf("DIVERGENCE at leaf %" PRIu64 ": ", at);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return false;
}

static bool
check_statement(struct monitor *m, uint64_t at, const unsigned char *payload,
    size_t len)
{
	struct json_doc *doc = NULL;
	const struct json_value *root, *f;
	struct trace_error err;
	unsigned char want[LOTINDEX_HASH_LEN], got[LOTINDEX_HASH_LEN];
	long long size = -1, entries = -1, t = 0;
	int offset = 0;
	bool ok = false;

	if (json_parse((const char *)payload, len, &json_limits_default, &doc,
	    &err) != TRACE_OK || (root = json_doc_root(doc))->type !=
	    JSON_OBJECT || json_get_int(root, "size", true, &size, &err) !=
	    TRACE_OK || json_get_int(root, "entries", true, &entries, &err) !=
	    TRACE_OK || (f = json_object_get(root, "time")) == NULL ||
	    f->type != JSON_STRING || !time_parse_rfc3339(f->u.string.ptr,
	    f->u.string.len, &t, &offset) || (f = json_object_get(root,
	    "root")) == NULL || f->type != JSON_STRING || !hex_decode(
	    f->u.string.ptr, f->u.string.len, got, LOTINDEX_HASH_LEN, false)) {
		diverge(at, "an index statement that does not read as one");
		goto out;
	}
	if (lotindex_tree_root(m->index, want, &err) != TRACE_OK) {
		diverge(at, "%s", err.message);
		goto out;
	}
	if ((uint64_t)size != at) {
		diverge(at, "the index statement says it covers %lld leaves; "
		    "it is leaf %" PRIu64, size, at);
		goto out;
	}
	if (!crypto_equal(want, got, LOTINDEX_HASH_LEN)) {
		char a[2 * LOTINDEX_HASH_LEN + 1], b[2 * LOTINDEX_HASH_LEN + 1];

		hex_encode(got, LOTINDEX_HASH_LEN, a);
		hex_encode(want, LOTINDEX_HASH_LEN, b);
		diverge(at, "the index statement's root %s is not the root %s "
		    "of the index rebuilt from the %" PRIu64 " leaves before "
		    "it: the index the log committed to disagrees with the log",
		    a, b, at);
		goto out;
	}
	if ((uint64_t)entries != lotindex_tree_leaves(m->index)) {
		diverge(at, "the index statement counts %lld entries; the "
		    "rebuilt index has %" PRIu64, entries,
		    lotindex_tree_leaves(m->index));
		goto out;
	}
	if (m->have_statement && t < m->statement_time) {
		diverge(at, "the index statement's time is before the previous "
		    "one's: receipt times went backwards");
		goto out;
	}
	if (m->covered_max > t + LOTINDEX_RECEIPT_SKEW_SECONDS) {
		diverge(at, "a statement it covers claims a time more than 5 "
		    "minutes after the index statement's");
		goto out;
	}
	/* SPEC 8 "Data from round 1": "first" names the log's first index
	 * statement, where round 2 began (docs/PROTOCOL.md 9.10.2). */
	if (!m->have_statement)
		m->first_index = (long long)at;
	if ((f = json_object_get(root, "first")) != NULL) {
		long long first = -1;

		if (json_get_int(root, "first", true, &first, &err) != TRACE_OK ||
		    first < 0 || (uint64_t)first > at || (m->first_index >= 0 &&
		    first != m->first_index)) {
			diverge(at, "the index statement says the log's first index "
			    "statement is at log index %lld; it is at %lld", first,
			    m->first_index);
			goto out;
		}
		m->first_index = first;
	}
	m->have_statement = true;
	m->statement_time = t;
	m->covered_max = 0;
	m->statements++;
	ok = true;
out:
	json_doc_free(doc);
	return ok;
}

/* Apply leaf at (its PAE bytes): false after a divergence. */
static bool
apply_leaf(struct monitor *m, uint64_t at, const unsigned char *pae,
    size_t len, bool *is_statement)
{
	char type[DSSE_TYPE_MAX + 1];
	const unsigned char *payload;
	size_t payload_len;
	struct lotindex_entry e;
	unsigned char key[LOTINDEX_HASH_LEN];
	struct trace_error err;
	bool found;

	*is_statement = false;
	if (!pae_split(pae, len, type, sizeof(type), &payload, &payload_len))
		return diverge(at, "the entry is not a statement's PAE bytes");
	memset(&e, 0, sizeof(e));
	sha256(pae, len, e.id);
	e.log_index = at;
	if (strcmp(type, TYPE_INDEX) == 0) {
		*is_statement = true;
		return check_statement(m, at, payload, payload_len);
	}
	if (strcmp(type, TYPE_EVENT) == 0) {
		struct trace_event ev;

		if (event_parse_stored(payload, payload_len, &ev, &err) !=
		    TRACE_OK)
			return true;    /* the integrator cannot index it either */
		lotindex_chain_key(ev.chain, key);
		e.count = (uint64_t)ev.seq + 1;
		if (ev.time > m->covered_max)
			m->covered_max = ev.time;
		event_free(&ev);
	} else if (strcmp(type, TYPE_KEY) == 0) {
		struct key_entry *k = calloc(1, sizeof(*k));
		enum trace_status rc;

		if (k == NULL)
			return diverge(at, "out of memory");
		rc = key_entry_parse(payload, payload_len, k, &err);
		/* An org entry names no key: the index ignores it, as the
		 * integrator does (log_index.c). */
		if ((rc != TRACE_OK && strcmp(err.code, "weak_public_key") !=
		    0) || (rc == TRACE_OK && k->op == KEY_OP_ORG)) {
			free(k);
			return true;
		}
		lotindex_keyid_key(k->keyid, key);
		if (k->time > m->covered_max)
			m->covered_max = k->time;
		free(k);
		if (lotindex_tree_get(m->index, key, &found, &e, &err) !=
		    TRACE_OK)
			return diverge(at, "%s", err.message);
		e.count = found ? e.count + 1 : 1;
		sha256(pae, len, e.id);
		e.log_index = at;
	} else
		return true;
	if (lotindex_tree_set(m->index, key, &e, &err) != TRACE_OK)
		return diverge(at, "%s", err.message);
	return true;
}

/* ---- fetching -------------------------------------------------------------------- */

static int
fetch(const struct agent *a, const char *path, struct http_response *resp)
{
	struct trace_error err;

	if (http_exchange(a, "monitor", "GET", path, NULL, NULL, 0, 3, resp,
	    &err) == TRACE_OK && resp->status == 503 && resp->body != NULL &&
	    strstr(resp->body, "\"store_corrupt\"") != NULL) {
		/* The server's own check (tiles.c): the statements it holds
		 * do not hash to the leaves its tree commits to. */
		printf("DIVERGENCE: the server cannot serve %s: the statements "
		    "it stores no longer match the log's leaves (removed or "
		    "edited)\n", path);
		return AGENT_EXIT_FAILED;
	}
	if (resp->status == 0 || http_status_temporary(resp->status)) {
		agent_warn("monitor", "%s: %s", path, resp->status ?
		    "server unavailable" : err.message);
		return AGENT_EXIT_UNREACHABLE;
	}
	if (resp->status != 200) {
		char why[512];

		http_describe_error(resp, why, sizeof(why));
		agent_warn("monitor", "%s: %s", path, why);
		return AGENT_EXIT_FAILED;
	}
	return AGENT_EXIT_OK;
}

int
cmd_monitor(struct agent *a, int argc, char **argv)
{
	static const struct option options[] = {
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "log-vkey", required_argument, NULL, OPT_VKEY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct monitor *m = NULL;
	struct note_verifier verifier;
	struct checkpoint cp;
	struct trace_error err;
	struct http_response resp = { 0 };
	const char *dir = NULL, *vkey = NULL;
	char *vtext = NULL;
	size_t vlen = 0;
	unsigned char root[MERKLE_HASH_LEN];
	uint64_t first_size;
	bool last_statement = false;
	int opt, rc = AGENT_EXIT_FAILED;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (agent_common_option(a, opt, optarg))
			continue;
		switch (opt) {
		case OPT_STATE: dir = optarg; break;
		case OPT_VKEY: vkey = optarg; break;
		case 'h': fputs(usage_text, stdout); return AGENT_EXIT_OK;
		default: return agent_usage_error("monitor", "unknown option");
		}
	}
	if (dir == NULL || vkey == NULL || a->server[0] == '\0')
		return agent_usage_error("monitor", "--server, --state and "
		    "--log-vkey are required");
	if (file_read_all(vkey, 4096, &vtext, &vlen, NULL) == TRACE_OK) {
		while (vlen > 0 && (vtext[vlen - 1] == '\n' ||
		    vtext[vlen - 1] == ' '))
			vlen--;
		rc = note_verifier_parse(vtext, vlen, &verifier, &err) ==
		    TRACE_OK ? AGENT_EXIT_OK : AGENT_EXIT_USAGE;
		free(vtext);
	} else
		rc = note_verifier_parse(vkey, strlen(vkey), &verifier, &err) ==
		    TRACE_OK ? AGENT_EXIT_OK : AGENT_EXIT_USAGE;
	if (rc != AGENT_EXIT_OK) {
		agent_report("monitor", &err);
		return rc;
	}
	rc = AGENT_EXIT_FAILED;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		agent_warn("monitor", "cannot create %s: %s", dir,
		    strerror(errno));
		return AGENT_EXIT_FAILED;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->index = lotindex_tree_new(NULL, NULL)) == NULL) {
		agent_warn("monitor", "out of memory");
		goto out;
	}
	m->first_index = -1;
	if (state_load(m, dir, &err) != TRACE_OK) {
		agent_report("monitor", &err);
		goto out;
	}
	if ((rc = fetch(a, "/tlog/checkpoint", &resp)) != AGENT_EXIT_OK)
		goto out;
	rc = AGENT_EXIT_FAILED;
	if (checkpoint_open(resp.body, resp.len, &verifier, &cp, &err) !=
	    TRACE_OK) {
		printf("DIVERGENCE: the checkpoint does not verify under %s: "
		    "%s\n", verifier.name, err.message);
		goto out;
	}
	http_response_free(&resp);
	if (m->origin[0] != '\0' && strcmp(m->origin, cp.origin) != 0) {
		printf("DIVERGENCE: the log is %s; this state follows %s\n",
		    cp.origin, m->origin);
		goto out;
	}
	snprintf(m->origin, sizeof(m->origin), "%s", cp.origin);
	if (cp.size < m->size) {
		printf("DIVERGENCE: checkpoint %" PRIu64 " is smaller than the "
		    "tree of %" PRIu64 " leaves checked before: a rollback or "
		    "a fork\n", cp.size, m->size);
		goto out;
	}
	first_size = m->size;
	/* Entry bundles of 256 leaves, from the one holding leaf size. */
	while (m->size < cp.size) {
		struct tlog_tile t = { true, 0, m->size / TLOG_TILE_WIDTH,
			TLOG_TILE_WIDTH };
		char path[16 + TLOG_TILE_PATH_MAX];
		uint64_t base = t.index * TLOG_TILE_WIDTH;
		size_t off = 0;

		if (cp.size - base < TLOG_TILE_WIDTH)
			t.width = (unsigned)(cp.size - base);
		memcpy(path, "/tlog/", 6);
		if (tlog_tile_format(&t, path + 6, sizeof(path) - 6) == 0)
			goto out;
		if ((rc = fetch(a, path, &resp)) != AGENT_EXIT_OK)
			goto out;
		rc = AGENT_EXIT_FAILED;
		for (uint64_t i = base; i < base + t.width; i++) {
			const unsigned char *d = (const unsigned char *)resp.body;
			size_t n;
			unsigned char leaf[MERKLE_HASH_LEN];

			if (off + 2 > resp.len || off + 2 + (n = (size_t)d[off]
			    << 8 | d[off + 1]) > resp.len) {
				diverge(i, "the entry bundle %s ends early", path);
				goto out;
			}
			off += 2;
			if (i >= m->size) {
				merkle_leaf_hash(d + off, n, leaf);
				range_push(m, leaf);
				if (!apply_leaf(m, i, d + off, n,
				    &last_statement))
					goto out;
				m->size = i + 1;
			}
			off += n;
		}
		http_response_free(&resp);
	}
	range_root(m, root);
	if (!crypto_equal(root, cp.root, MERKLE_HASH_LEN)) {
		printf("DIVERGENCE: the leaves served hash to another root than "
		    "checkpoint %" PRIu64 " signs%s\n", cp.size, first_size > 0 ?
		    ", or the log is not an extension of the tree checked "
		    "before (a fork)" : "");
		goto out;
	}
	if (cp.size > 0 && cp.size > first_size && !last_statement) {
		printf("DIVERGENCE: checkpoint %" PRIu64 " does not end with an "
		    "index statement\n", cp.size);
		goto out;
	}
	if (state_save(m, dir, &err) != TRACE_OK) {
		agent_report("monitor", &err);
		goto out;
	}
	printf("ok: %s checked to checkpoint %" PRIu64 " (%" PRIu64 " new "
	    "leaves, %" PRIu64 " index statements, every root matches the "
	    "index rebuilt here: %" PRIu64 " entries)\n", cp.origin, cp.size,
	    cp.size - first_size, m->statements,
	    lotindex_tree_leaves(m->index));
	rc = AGENT_EXIT_OK;
out:
	http_response_free(&resp);
	if (m != NULL)
		lotindex_tree_free(m->index);
	free(m);
	return rc;
}
