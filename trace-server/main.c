/*
 * main.c - trace-server: options, start-up, civetweb's callbacks (worker
 * threads and their Redis connections; every request goes to router.c's
 * table), shutdown.
 *
 * Start-up order matters: libgcrypt and civetweb are initialised before
 * any thread exists, the trust anchor and log key are loaded and Redis
 * Functions are loaded before the listener opens, so the first request
 * already finds a ready server.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "libtrace/crypto.h"
#include "libtrace/timefmt.h"
#include "libtrace/note.h"
#include "libtrace/tlogpolicy.h"
#include "admission.h"
#include "log.h"
#include "parse.h"
#include "recalls.h"
#include "scancount.h"
#include "server.h"
#include "units.h"
#include "slothash.h"
#include "verifypool.h"

#define VERSION "0.1.0"

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: trace-server [options]\n"
	    "\n"
	    "Verifies signed trace statements, stores them in Redis and logs\n"
	    "them in a transparency log.  Every option can also be given in\n"
	    "the environment as TRACE_<NAME> (e.g. TRACE_REDIS).\n"
	    "\n"
	    "  --listen ADDR:PORT      where to listen (127.0.0.1:8080)\n"
	    "  --redis URL             redis://[[USER]:PASSWORD@]HOST[:PORT],\n"
	    "                          unix:PATH, or sentinel://[[USER]:PASSWORD@]\n"
	    "                          HOST[:PORT][,HOST[:PORT]...]/NAME to follow\n"
	    "                          the primary NAME (redis://127.0.0.1:6379)\n"
	    "  --redis-wait-replicas N after each append, wait for N replicas to\n"
	    "                          confirm it before answering (0)\n"
	    "  --root-key ADMIN.pub    the root admin public key (trust anchor)\n"
	    "  --log-key LOG.key       the log's private signing key: this process\n"
	    "                          integrates and signs (exactly one per log;\n"
	    "                          needs --log-state).  LOG.pub instead: serve\n"
	    "                          without signing, another process signs\n"
	    "  --log-state DIR         where the signer keeps, under an exclusive\n"
	    "                          lock, the last checkpoint it signed; it\n"
	    "                          never signs a tree inconsistent with it\n"
	    "  --log-state-init        DIR has no checkpoint but Redis holds a\n"
	    "                          log: adopt Redis's signed checkpoint (once,\n"
	    "                          e.g. when first adding --log-state)\n"
	    "  --log-origin NAME       checkpoint origin line (trace.local/log)\n"
	    "  --witness-policy FILE   C2SP tlog-policy naming this log (its log\n"
	    "                          line) and the witnesses with their URLs:\n"
	    "                          the signer submits each checkpoint to\n"
	    "                          them, and /api/v1/checkpoint, bundles and\n"
	    "                          pages carry only checkpoints whose\n"
	    "                          cosignatures meet the quorum\n"
	    "  --witness-display NAME=TEXT\n"
	    "                          what pages call the policy's witness NAME\n"
	    "                          (e.g. customs=\"Weihai Customs\"; up to 100\n"
	    "                          bytes, no control characters); repeatable,\n"
	    "                          or several joined by ';'\n"
	    "  --public-url URL        base of QR links (http://127.0.0.1:8080)\n"
	    "  --verifier-url URL      an independent verifier (make verifier,\n"
	    "                          hosted by another party): consumer pages\n"
	    "                          link to URL#01/{gtin}/10/{lot}[/21/{serial}]\n"
	    "  --threads N             worker threads (64); each open connection,\n"
	    "                          idle keep-alive too, holds one: past 3/4\n"
	    "                          of them busy, answers close their\n"
	    "                          connection\n"
	    "  --rate-limit N          requests per second per client address to\n"
	    "                          the costly anonymous routes (bundles,\n"
	    "                          /inspect, recalls, EPCIS, chain JSON,\n"
	    "                          labels), bursts of 4 x N; past it 429\n"
	    "                          with Retry-After; 0: no limit (20)\n"
	    "  --code-pepper FILE      the key (32+ random bytes, mode 0600) under\n"
	    "                          which Redis keeps scratch-off code hashes\n"
	    "                          (SPEC 12); without it codes are off\n"
	    "  --trusted-proxy CIDR    a reverse proxy whose X-Forwarded-For's\n"
	    "                          last hop is the client for code-entry\n"
	    "                          limits (repeatable, up to 16)\n"
	    "  --print-log-vkey        print the log's vkey (from --log-key and\n"
	    "                          --log-origin; the line witnesses and\n"
	    "                          policies name the log by) and exit\n"
	    "  --max-blob BYTES        largest inspection document accepted\n"
	    "                          (20M; suffixes K, M, G are powers of 1000)\n"
	    "  --blob-quota BYTES      documents one key may upload per UTC day\n"
	    "                          (100M)\n"
	    "  --blob-store-max BYTES  all documents together; uploads past it\n"
	    "                          are refused with 507 (2G)\n"
	    "  --blob-grace SECONDS    delete a document no accepted event names\n"
	    "                          this long after its upload (86400)\n"
	    "  --max-age TIME          refuse (422 stale_time) a statement dated\n"
	    "                          more than this before it arrives (30d;\n"
	    "                          TIME is seconds, or with s, m, h or d)\n"
	    "  --grace TIME            refuse (403 outside_window) a statement\n"
	    "                          arriving more than this after its key's\n"
	    "                          notAfter, whatever time it claims (7d)\n"
	    "  --index-proof-grace TIME\n"
	    "                          keep the lot index's undo records for\n"
	    "                          proofs against a head read this long ago\n"
	    "                          (60s; with a witness policy, also all\n"
	    "                          since the witnessed checkpoint)\n"
	    "  --help, --version\n");
}

/* Copy an option value into a fixed buffer or fail loudly. */
static int
set_option(char *dst, size_t size, const char *name, const char *value)
{
	size_t n = strlen(value);

	if (n == 0 || n >= size) {
		fprintf(stderr, "trace-server: --%s is empty or too long\n", name);
		return -1;
	}
	memcpy(dst, value, n + 1);
	return 0;
}

/*
 * A byte count or a time: digits, for bytes optionally followed by K, M
 * or G (powers of 1000, as the defaults are written); for --max-age and
 * --grace and --index-proof-grace by s, m, h or d.  --blob-grace is plain
 * seconds.
 */
static int
set_amount(struct server_config *cfg, int opt, const char *value)
{
	const char *name = opt == 'B' ? "max-blob" : opt == 'Q' ? "blob-quota" :
	    opt == 'M' ? "blob-store-max" : opt == 'A' ? "max-age" :
	    opt == 'R' ? "grace" : opt == 'X' ? "index-proof-grace" :
	    "blob-grace";
	bool bytes = opt == 'B' || opt == 'Q' || opt == 'M';
	bool time = opt == 'A' || opt == 'R' || opt == 'X';
	long long v = 0, unit = 1;
	const char *p = value;

	if (time) {
		if (!time_parse_duration(value, &v)) {
			fprintf(stderr, "trace-server: --%s wants a positive "
			    "number of seconds (or with s, m, h, d)\n", name);
			return -1;
		}
	} else {
		static const char units[] = "kmg";
		static const long long bytes_of[] = { 1000, 1000 * 1000,
			1000 * 1000 * 1000 };

		for (; *p >= '0' && *p <= '9' && v < 1000000000000000LL; p++)
			v = v * 10 + (*p - '0');
		if (bytes && p != value && p[0] != '\0' && p[1] == '\0') {
			const char *u = strchr(units, *p | 0x20);

			if (u != NULL) {
				unit = bytes_of[u - units];
				p++;
			}
		}
		if (p == value || *p != '\0' || v < (opt == 'G' ? 0 : 1) ||
		    v > 1000000000000LL / unit) {
			fprintf(stderr, "trace-server: --%s wants a positive "
			    "number%s\n", name, bytes ? " of bytes (K, M, G)" :
			    " of seconds");
			return -1;
		}
	}
	v *= unit;
	if (opt == 'B')
		cfg->max_blob = v;
	else if (opt == 'Q')
		cfg->blob_quota = v;
	else if (opt == 'M')
		cfg->blob_store_max = v;
	else if (opt == 'A')
		cfg->max_age = v;
	else if (opt == 'R')
		cfg->grace = v;
	else if (opt == 'X')
		cfg->index_proof_grace = v;
	else
		cfg->blob_grace = v;
	return 0;
}

/* --witness-display: appended, ';'-joined; witness.c checks the entries
 * against the policy. */
static int
add_display(struct server_config *cfg, const char *value)
{
	size_t have = strlen(cfg->witness_display), n = strlen(value);

	if (n == 0 || have + 1 + n >= sizeof(cfg->witness_display)) {
		fprintf(stderr, "trace-server: --witness-display is empty or "
		    "too long\n");
		return -1;
	}
	if (have > 0)
		cfg->witness_display[have++] = ';';
	memcpy(cfg->witness_display + have, value, n + 1);
	return 0;
}

static int
add_proxy(struct server_config *cfg, const char *value)
{
	if (client_proxies_add(&cfg->trusted_proxies, value))
		return 0;
	fprintf(stderr, "trace-server: --trusted-proxy %s is not an address or "
	    "CIDR (or more than %d were given)\n", value, CLIENT_PROXIES_MAX);
	return -1;
}

static int
parse_options(int argc, char **argv, struct server_config *cfg)
{
	static const struct option long_options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "redis", required_argument, NULL, 'r' },
		{ "root-key", required_argument, NULL, 'k' },
		{ "log-key", required_argument, NULL, 'g' },
		{ "log-origin", required_argument, NULL, 'o' },
		{ "public-url", required_argument, NULL, 'u' },
		{ "verifier-url", required_argument, NULL, 'v' },
		{ "threads", required_argument, NULL, 't' },
		{ "rate-limit", required_argument, NULL, 'L' },
		{ "redis-wait-replicas", required_argument, NULL, 'w' },
		{ "log-state", required_argument, NULL, 'S' },
		{ "log-state-init", no_argument, NULL, 'I' },
		{ "witness-policy", required_argument, NULL, 'W' },
		{ "witness-display", required_argument, NULL, 'D' },
		{ "print-log-vkey", no_argument, NULL, 'P' },
		{ "code-pepper", required_argument, NULL, 'C' },
		{ "trusted-proxy", required_argument, NULL, 'T' },
		{ "max-blob", required_argument, NULL, 'B' },
		{ "blob-quota", required_argument, NULL, 'Q' },
		{ "blob-store-max", required_argument, NULL, 'M' },
		{ "blob-grace", required_argument, NULL, 'G' },
		{ "max-age", required_argument, NULL, 'A' },
		{ "grace", required_argument, NULL, 'R' },
		{ "index-proof-grace", required_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *env;
		int opt;
	} envs[] = {
		{ "TRACE_LISTEN", 'l' }, { "TRACE_REDIS", 'r' },
		{ "TRACE_ROOT_KEY", 'k' }, { "TRACE_LOG_KEY", 'g' },
		{ "TRACE_LOG_ORIGIN", 'o' }, { "TRACE_PUBLIC_URL", 'u' },
		{ "TRACE_THREADS", 't' }, { "TRACE_REDIS_WAIT_REPLICAS", 'w' },
		{ "TRACE_LOG_STATE", 'S' }, { "TRACE_LOG_STATE_INIT", 'I' },
		{ "TRACE_WITNESS_POLICY", 'W' }, { "TRACE_VERIFIER_URL", 'v' },
		{ "TRACE_WITNESS_DISPLAY", 'D' },
		{ "TRACE_CODE_PEPPER", 'C' }, { "TRACE_TRUSTED_PROXY", 'T' },
		{ "TRACE_MAX_BLOB", 'B' }, { "TRACE_BLOB_QUOTA", 'Q' },
		{ "TRACE_BLOB_STORE_MAX", 'M' }, { "TRACE_BLOB_GRACE", 'G' },
		{ "TRACE_MAX_AGE", 'A' }, { "TRACE_GRACE", 'R' },
		{ "TRACE_INDEX_PROOF_GRACE", 'X' },
		{ "TRACE_RATE_LIMIT", 'L' },
	};
	int c, rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1:8080");
	snprintf(cfg->redis, sizeof(cfg->redis), "redis://127.0.0.1:6379");
	snprintf(cfg->log_origin, sizeof(cfg->log_origin), "trace.local/log");
	snprintf(cfg->public_url, sizeof(cfg->public_url),
	    "http://127.0.0.1:8080");
	cfg->threads = 64;
	cfg->rate_limit = 20;
	cfg->max_blob = BLOB_MAX_DEFAULT;
	cfg->blob_quota = BLOB_QUOTA_DEFAULT;
	cfg->blob_store_max = BLOB_STORE_MAX_DEFAULT;
	cfg->blob_grace = BLOB_GRACE_DEFAULT;
	cfg->max_age = POLICY_MAX_AGE_DEFAULT;
	cfg->grace = POLICY_GRACE_DEFAULT;
	cfg->index_proof_grace = LOG_INDEX_PROOF_GRACE_DEFAULT;
	/* The environment first, so options on the command line win. */
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]) && rc == 0; i++) {
		const char *v = getenv(envs[i].env);

		if (v == NULL)
			continue;
		switch (envs[i].opt) {
		case 'l': rc = set_option(cfg->listen, sizeof(cfg->listen), "listen", v); break;
		case 'r': rc = set_option(cfg->redis, sizeof(cfg->redis), "redis", v); break;
		case 'k': rc = set_option(cfg->root_key, sizeof(cfg->root_key), "root-key", v); break;
		case 'g': rc = set_option(cfg->log_key, sizeof(cfg->log_key), "log-key", v); break;
		case 'o': rc = set_option(cfg->log_origin, sizeof(cfg->log_origin), "log-origin", v); break;
		case 'u': rc = set_option(cfg->public_url, sizeof(cfg->public_url), "public-url", v); break;
		case 'v': rc = set_option(cfg->verifier_url, sizeof(cfg->verifier_url), "verifier-url", v); break;
		case 't': cfg->threads = atoi(v); break;
		case 'L': cfg->rate_limit = atoi(v); break;
		case 'w': cfg->redis_wait_replicas = atoi(v); break;
		case 'S': rc = set_option(cfg->log_state, sizeof(cfg->log_state), "log-state", v); break;
		/* A flag: set by any value but empty, "0" or "no". */
		case 'I': cfg->log_state_init = v[0] != '\0' && strcmp(v, "0") != 0 && strcmp(v, "no") != 0; break;
		case 'W': rc = set_option(cfg->witness_policy, sizeof(cfg->witness_policy), "witness-policy", v); break;
		case 'D': rc = add_display(cfg, v); break;
		case 'C': rc = set_option(cfg->code_pepper, sizeof(cfg->code_pepper), "code-pepper", v); break;
		case 'T': rc = add_proxy(cfg, v); break;
		case 'B': case 'Q': case 'M': case 'G': case 'A': case 'R': case 'X': rc = set_amount(cfg, envs[i].opt, v); break;
		}
	}
	if (rc != 0)
		return 2;
	while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (c) {
		case 'l': rc = set_option(cfg->listen, sizeof(cfg->listen), "listen", optarg); break;
		case 'r': rc = set_option(cfg->redis, sizeof(cfg->redis), "redis", optarg); break;
		case 'k': rc = set_option(cfg->root_key, sizeof(cfg->root_key), "root-key", optarg); break;
		case 'g': rc = set_option(cfg->log_key, sizeof(cfg->log_key), "log-key", optarg); break;
		case 'o': rc = set_option(cfg->log_origin, sizeof(cfg->log_origin), "log-origin", optarg); break;
		case 'u': rc = set_option(cfg->public_url, sizeof(cfg->public_url), "public-url", optarg); break;
		case 'v': rc = set_option(cfg->verifier_url, sizeof(cfg->verifier_url), "verifier-url", optarg); break;
		case 't': cfg->threads = atoi(optarg); break;
		case 'L': cfg->rate_limit = atoi(optarg); break;
		case 'w': cfg->redis_wait_replicas = atoi(optarg); break;
		case 'S': rc = set_option(cfg->log_state, sizeof(cfg->log_state), "log-state", optarg); break;
		case 'I': cfg->log_state_init = true; break;
		case 'P': cfg->print_log_vkey = true; break;
		case 'W': rc = set_option(cfg->witness_policy, sizeof(cfg->witness_policy), "witness-policy", optarg); break;
		case 'D': rc = add_display(cfg, optarg); break;
		case 'C': rc = set_option(cfg->code_pepper, sizeof(cfg->code_pepper), "code-pepper", optarg); break;
		case 'T': rc = add_proxy(cfg, optarg); break;
		case 'B': case 'Q': case 'M': case 'G': case 'A': case 'R': case 'X': rc = set_amount(cfg, c, optarg); break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("trace-server %s\n", VERSION); return 0;
		default: usage(stderr); return 2;
		}
		if (rc != 0)
			return 2;
	}
	if (optind != argc) {
		fprintf(stderr, "trace-server: unexpected argument %s\n",
		    argv[optind]);
		return 2;
	}
	/* Pages append the lot as a fragment: an http(s) URL without one. */
	if (cfg->verifier_url[0] != '\0' &&
	    ((strncmp(cfg->verifier_url, "https://", 8) != 0 &&
	    strncmp(cfg->verifier_url, "http://", 7) != 0) ||
	    strpbrk(cfg->verifier_url, "# \t\r\n\"<>") != NULL)) {
		fprintf(stderr, "trace-server: --verifier-url must be an http(s) "
		    "URL without a fragment\n");
		return 2;
	}
	if (cfg->threads < 1 || cfg->threads > 512) {
		fprintf(stderr, "trace-server: --threads must be 1-512\n");
		return 2;
	}
	if (cfg->rate_limit < 0 || cfg->rate_limit > 1000000) {
		fprintf(stderr, "trace-server: --rate-limit must be 0-1000000\n");
		return 2;
	}
	if (cfg->redis_wait_replicas < 0 || cfg->redis_wait_replicas > 16) {
		fprintf(stderr, "trace-server: --redis-wait-replicas must be 0-16\n");
		return 2;
	}
	if ((cfg->root_key[0] == '\0' && !cfg->print_log_vkey) ||
	    cfg->log_key[0] == '\0') {
		fprintf(stderr, "trace-server: --root-key and --log-key are "
		    "required (see --help)\n");
		return 2;
	}
	/* QR links are built by appending paths: no trailing slash. */
	{
		size_t n = strlen(cfg->public_url);
		while (n > 1 && cfg->public_url[n - 1] == '/')
			cfg->public_url[--n] = '\0';
	}
	return -1;
}

/* ---- civetweb glue ----------------------------------------------------- */

static struct server *the_server;

static void *
init_thread(const struct mg_context *ctx, int thread_type)
{
	struct worker *w;
	struct trace_error err;

	(void)ctx;
	/* 1 = worker thread: only those serve requests. */
	if (thread_type != 1)
		return NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->srv = the_server;
	w->store = store_open(&the_server->redis, &err);
	return w;
}

static void
exit_thread(const struct mg_context *ctx, int thread_type, void *p)
{
	struct worker *w = p;

	(void)ctx;
	(void)thread_type;
	if (w != NULL) {
		store_close(w->store);
		free(w);
	}
}

/*
 * Every request goes through civetweb's begin_request callback, which is
 * in place before mg_start() listens.  (A handler set with
 * mg_set_request_handler() after mg_start() left a window in which the
 * port answered civetweb's own 404: seen under valgrind, where start-up
 * is slow.)  Returning the status tells civetweb the request is done.
 */
static int
begin_request(struct mg_connection *conn)
{
	return router_dispatch(conn, the_server);
}

static int
log_message(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	fprintf(stderr, "trace-server: civetweb: %s\n", message);
	return 1;
}

static int
load_keys(struct server *srv)
{
	struct key_pair root;
	struct trace_error err;

	if (key_pair_load(srv->cfg.root_key, &root, &err) != TRACE_OK) {
		fprintf(stderr, "trace-server: --root-key: %s\n", err.message);
		return -1;
	}
	policy_root_state(root.public_key, &srv->root);
	if (key_pair_load(srv->cfg.log_key, &srv->log_key, &err) != TRACE_OK) {
		fprintf(stderr, "trace-server: --log-key: %s\n", err.message);
		return -1;
	}
	/*
	 * SPEC 9: the one process that holds the log key keeps its high-water
	 * mark on local disk; without it a rolled-back Redis could make the key
	 * fork the log.  A server given only LOG.pub signs nothing.
	 */
	if (srv->log_key.has_secret && srv->cfg.log_state[0] == '\0') {
		fprintf(stderr, "trace-server: --log-key with a private key "
		    "signs checkpoints and needs --log-state DIR (the last "
		    "checkpoint it signed, kept on local disk; see --help)\n");
		return -2;
	}
	if (!srv->log_key.has_secret && (srv->cfg.log_state[0] != '\0' ||
	    srv->cfg.log_state_init)) {
		fprintf(stderr, "trace-server: --log-state is for the process "
		    "that signs: --log-key must be the private LOG.key\n");
		return -2;
	}
	/* SPEC 12: refuse a pepper anyone else can read. */
	if (srv->cfg.code_pepper[0] != '\0' &&
	    !units_load_pepper(srv->cfg.code_pepper, srv->code_pepper,
	    &srv->code_pepper_len))
		return -2;
	return 0;
}

/* --print-log-vkey: the vkey of the checkpoints this key signs. */
static int
print_log_vkey(const struct server_config *cfg)
{
	char vkey[NOTE_VERIFIER_KEY_MAX];
	struct key_pair key;
	struct trace_error err;

	memset(&key, 0, sizeof(key));
	if (key_pair_load(cfg->log_key, &key, &err) != TRACE_OK ||
	    note_verifier_key_format(cfg->log_origin, key.public_key, vkey,
	    sizeof(vkey), &err) != TRACE_OK) {
		fprintf(stderr, "trace-server: --log-key: %s\n", err.message);
		key_pair_wipe(&key);
		return 1;
	}
	key_pair_wipe(&key);
	printf("%s\n", vkey);
	return 0;
}

/*
 * Bring what an older trace-server wrote to this version's layout, each
 * step idempotent: the times of index statements logged before receipt
 * times were indexed, then recall indexes ordered by issue time rather
 * than log index (SPEC 8 "Receipt time").  Every server sharing the Redis
 * is upgraded together: an older one still running would write the old
 * forms again.
 */
static enum trace_status
upgrade_store(struct store *s, struct trace_error *err)
{
	size_t times = 0, members = 0;
	enum trace_status rc;

	if ((rc = log_index_times_backfill(s, &times, err)) != TRACE_OK ||
	    (rc = store_recalls_upgrade(s, &members, err)) != TRACE_OK)
		return rc;
	if (times > 0 || members > 0)
		fprintf(stderr, "trace-server: upgraded the store: %zu index "
		    "statement times, %zu recall index members\n", times,
		    members);
	return TRACE_OK;
}

/* Load the Functions and upgrade the store, retrying while Redis starts
 * (up to ~10 s). */
static int
prepare_store(struct server *srv)
{
	struct trace_error err;

	for (int attempt = 0; attempt < 40 && !stop_requested; attempt++) {
		struct store *s = store_open(&srv->redis, &err);
		enum trace_status rc = s != NULL ?
		    store_load_functions(s, &err) : TRACE_ESTORE;

		if (rc == TRACE_OK)
			rc = upgrade_store(s, &err);

		store_close(s);
		if (rc == TRACE_OK)
			return 0;
		if (attempt == 0)
			fprintf(stderr, "trace-server: waiting for Redis (%s)\n",
			    err.message);
		usleep(250000);
	}
	if (stop_requested)
		return -1;
	fprintf(stderr, "trace-server: cannot prepare the store (Functions, "
	    "upgrade): %s\n", err.message);
	return -1;
}

int
main(int argc, char **argv)
{
	static struct server srv;
	struct mg_callbacks callbacks;
	struct trace_error err;
	char threads[16], redis_text[sizeof(srv.cfg.redis) + 64];
	const char *options[] = {
		"listening_ports", srv.cfg.listen,
		"num_threads", threads,
		"enable_keep_alive", "yes",
		/* An idle connection holds a worker (civetweb 1.15 has no
		 * event loop for idle sockets): keep-alive idles 5 s at most,
		 * a silent or slow client 5 s per read (SPEC 7 "Abuse"). */
		"keep_alive_timeout_ms", "5000",
		"request_timeout_ms", "5000",
		"enable_directory_listing", "no",
		"decode_url", "no",
		"max_request_size", "16384",
		/* http_send writes the head and the body separately: with
		 * Nagle's algorithm on, the body waits for the client's delayed
		 * ACK (40 ms) on every keep-alive response (bench/). */
		"tcp_nodelay", "1",
		NULL,
	};
	int rc = parse_options(argc, argv, &srv.cfg);

	if (rc >= 0)
		return rc;
	if (!crypto_init()) {
		fprintf(stderr, "trace-server: %s\n", CRYPTO_INIT_FAILED);
		return 1;
	}
	/* Before any thread: curl_global_init is not thread-safe. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "trace-server: cannot initialise libcurl\n");
		return 1;
	}
	if (srv.cfg.print_log_vkey)
		return print_log_vkey(&srv.cfg);
	signal(SIGPIPE, SIG_IGN);
	/* Before anything that a test (or systemd) could stop: a SIGTERM
	 * that arrives while the server starts asks it to stop cleanly
	 * once it has, instead of killing it half way. */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (parse_redis_address(srv.cfg.redis, &srv.redis, &err) != TRACE_OK) {
		fprintf(stderr, "trace-server: %s\n", err.message);
		return 2;
	}
	srv.redis.wait_replicas = srv.cfg.redis_wait_replicas;
	store_address_describe(&srv.redis, redis_text, sizeof(redis_text));
	if ((rc = load_keys(&srv)) != 0)
		return rc == -2 ? 2 : 1;
	if (witness_load_policy(&srv) != 0)
		return 2;
	if (prepare_store(&srv) != 0)
		return 1;
	/* Before any thread: the slot hash's key is read-only after. */
	if (slot_hash_init() != 0) {
		fprintf(stderr, "trace-server: no randomness from the kernel\n");
		return 1;
	}
	/* A batch's signatures on every core: the worker that took it and
	 * one helper per other core (verifypool.h). */
	if ((srv.keys = key_cache_new()) == NULL || log_start(&srv) != 0 ||
	    witness_start(&srv) != 0 || blob_sweep_start(&srv) != 0 ||
	    scan_count_start(&srv) != 0 ||
	    verify_pool_start(verify_pool_cores() - 1) != 0)
		return 1;
	snprintf(threads, sizeof(threads), "%d", srv.cfg.threads);
	admission_init(srv.cfg.threads, srv.cfg.rate_limit);
	router_name_routes(&srv.metrics);
	the_server = &srv;
	mg_init_library(0);
	memset(&callbacks, 0, sizeof(callbacks));
	callbacks.init_thread = init_thread;
	callbacks.exit_thread = exit_thread;
	callbacks.log_message = log_message;
	callbacks.begin_request = begin_request;
	callbacks.init_connection = admission_connection_open;
	callbacks.connection_close = admission_connection_close;
	srv.mg = mg_start(&callbacks, &srv, options);
	if (srv.mg == NULL) {
		fprintf(stderr, "trace-server: cannot listen on %s\n",
		    srv.cfg.listen);
		return 1;
	}
	fprintf(stderr, "trace-server %s listening on %s, Redis %s\n", VERSION,
	    srv.cfg.listen, redis_text);
	while (!stop_requested)
		sleep(1);
	fprintf(stderr, "trace-server: stopping\n");
	/* SSE streams run until told to stop; mg_stop waits for them. */
	recalls_stream_shutdown();
	mg_stop(srv.mg);
	verify_pool_stop();
	scan_count_stop();
	witness_stop();
	blob_sweep_stop();
	log_stop();
	mg_exit_library();
	key_cache_free(srv.keys);
	key_pair_wipe(&srv.log_key);
	tlog_policy_free(srv.witness_policy);
	free(srv.witness_policy_text);
	curl_global_cleanup();
	return 0;
}
