/*
 * main.c - trace-witness: options (each also from TRACE_WITNESS_<NAME>),
 * start-up, civetweb, shutdown.
 *
 * Start-up order: libgcrypt before any thread; the key, the logs and the
 * state directory (locked, every state file read) before the listener
 * opens, so the first request already meets the witness's whole memory.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <civetweb.h>

#include "libtrace/cosign.h"
#include "libtrace/crypto.h"
#include "libtrace/keys.h"
#include "witness.h"

#define VERSION "0.1.0"

struct options {
	char listen[256];
	char key[PATH_MAX];
	char name[NOTE_NAME_MAX + 1];
	char state[PATH_MAX];
	int threads;
	bool print_vkey;
};

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
	    "usage: trace-witness --key W.key --name NAME --state DIR\n"
	    "                     --log VKEY [--log VKEY...] [--listen ADDR:PORT]\n"
	    "\n"
	    "A C2SP tlog-witness: cosigns (cosignature/v1) the checkpoints of\n"
	    "the given logs that are consistent with the latest one it\n"
	    "cosigned, which it keeps in DIR.  Every option can also be given\n"
	    "in the environment as TRACE_WITNESS_<NAME> (TRACE_WITNESS_LOG:\n"
	    "vkeys separated by white space).\n"
	    "\n"
	    "  --listen ADDR:PORT  where to listen (127.0.0.1:8090)\n"
	    "  --key W.key         the witness's key file (trace-agent key gen)\n"
	    "  --name NAME         the witness's key name, a schema-less URL\n"
	    "                      (witness.example.org/trace)\n"
	    "  --state DIR         where the latest cosigned checkpoints live\n"
	    "  --log VKEY          a log to witness: its vkey, named by its\n"
	    "                      origin (repeat for more logs or keys)\n"
	    "  --threads N         worker threads (4)\n"
	    "  --print-vkey        print the witness's vkey and exit\n"
	    "  --help, --version\n");
}

static int
set_option(char *dst, size_t size, const char *name, const char *value)
{
	size_t n = strlen(value);

	if (n == 0 || n >= size) {
		fprintf(stderr, "trace-witness: --%s is empty or too long\n",
		    name);
		return -1;
	}
	memcpy(dst, value, n + 1);
	return 0;
}

static int
add_log(struct witness *w, const char *vkey)
{
	struct trace_error err;

	if (witness_add_log_key(w, vkey, &err) != TRACE_OK) {
		fprintf(stderr, "trace-witness: --log %s: %s\n", vkey,
		    err.message);
		return -1;
	}
	return 0;
}

/* TRACE_WITNESS_LOG: vkeys (which hold no white space) separated by it. */
static int
add_logs_from_env(struct witness *w, const char *value)
{
	char *copy = strdup(value), *save = NULL;
	int rc = 0;

	if (copy == NULL)
		return -1;
	for (char *t = strtok_r(copy, " \t\n", &save); t != NULL && rc == 0;
	    t = strtok_r(NULL, " \t\n", &save))
		rc = add_log(w, t);
	free(copy);
	return rc;
}

static int
set_one(struct options *o, struct witness *w, int opt, const char *v,
    bool from_env)
{
	switch (opt) {
	case 'l': return set_option(o->listen, sizeof(o->listen), "listen", v);
	case 'k': return set_option(o->key, sizeof(o->key), "key", v);
	case 'n': return set_option(o->name, sizeof(o->name), "name", v);
	case 's': return set_option(o->state, sizeof(o->state), "state", v);
	case 'g': return from_env ? add_logs_from_env(w, v) : add_log(w, v);
	case 't':
		o->threads = atoi(v);
		return 0;
	}
	return -1;
}

/* -1 to go on, otherwise the exit code. */
static int
parse_options(int argc, char **argv, struct options *o, struct witness *w)
{
	static const struct option long_options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "key", required_argument, NULL, 'k' },
		{ "name", required_argument, NULL, 'n' },
		{ "state", required_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'g' },
		{ "threads", required_argument, NULL, 't' },
		{ "print-vkey", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *env;
		int opt;
	} envs[] = {
		{ "TRACE_WITNESS_LISTEN", 'l' }, { "TRACE_WITNESS_KEY", 'k' },
		{ "TRACE_WITNESS_NAME", 'n' }, { "TRACE_WITNESS_STATE", 's' },
		{ "TRACE_WITNESS_LOG", 'g' }, { "TRACE_WITNESS_THREADS", 't' },
	};
	bool logs_on_command_line = false;
	int c;

	memset(o, 0, sizeof(*o));
	snprintf(o->listen, sizeof(o->listen), "127.0.0.1:8090");
	o->threads = 4;
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		const char *v = getenv(envs[i].env);

		/* --log on the command line replaces TRACE_WITNESS_LOG. */
		if (v == NULL || envs[i].opt == 'g')
			continue;
		if (set_one(o, w, envs[i].opt, v, true) != 0)
			return 2;
	}
	while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return 0;
		case 'V': printf("trace-witness %s\n", VERSION); return 0;
		case 'p': o->print_vkey = true; continue;
		case '?': usage(stderr); return 2;
		}
		if (c == 'g')
			logs_on_command_line = true;
		if (set_one(o, w, c, optarg, false) != 0)
			return 2;
	}
	if (optind != argc) {
		fprintf(stderr, "trace-witness: unexpected argument %s\n",
		    argv[optind]);
		return 2;
	}
	if (!logs_on_command_line && getenv("TRACE_WITNESS_LOG") != NULL &&
	    add_logs_from_env(w, getenv("TRACE_WITNESS_LOG")) != 0)
		return 2;
	if (o->key[0] == '\0' || o->name[0] == '\0') {
		fprintf(stderr, "trace-witness: --key and --name are required "
		    "(see --help)\n");
		return 2;
	}
	if (o->print_vkey)
		return -1;
	if (o->state[0] == '\0' || w->log_count == 0) {
		fprintf(stderr, "trace-witness: --state and at least one --log "
		    "are required (see --help)\n");
		return 2;
	}
	if (o->threads < 1 || o->threads > 64) {
		fprintf(stderr, "trace-witness: --threads must be 1-64\n");
		return 2;
	}
	return -1;
}

/*
 * The key file is the project's (keys.h); its own name is a file name
 * ([A-Za-z0-9._-]) and cannot hold a URL, so the cosigner's name comes
 * from --name.
 */
static int
load_key(struct witness *w, const struct options *o)
{
	struct trace_error err;
	struct key_pair kp;
	int rc = -1;

	if (key_pair_load(o->key, &kp, &err) != TRACE_OK) {
		fprintf(stderr, "trace-witness: --key: %s\n", err.message);
		goto out;
	}
	if (!kp.has_secret) {
		fprintf(stderr, "trace-witness: --key needs the private .key "
		    "file\n");
		goto out;
	}
	if (cosign_signer_from_secret(o->name, kp.secret, &w->signer, &err) !=
	    TRACE_OK) {
		fprintf(stderr, "trace-witness: --name: %s\n", err.message);
		goto out;
	}
	if (note_vkey_format(w->signer.name, NOTE_TYPE_COSIGNATURE_V1,
	    w->signer.public_key, w->vkey, sizeof(w->vkey), &err) != TRACE_OK) {
		fprintf(stderr, "trace-witness: %s\n", err.message);
		goto out;
	}
	rc = 0;
out:
	key_pair_wipe(&kp);
	return rc;
}

static struct witness *the_witness;

static int
begin_request(struct mg_connection *conn)
{
	return witness_http_dispatch(conn, the_witness);
}

static int
log_message(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	fprintf(stderr, "trace-witness: civetweb: %s\n", message);
	return 1;
}

int
main(int argc, char **argv)
{
	static struct witness w;
	static struct options o;
	struct mg_callbacks callbacks;
	struct trace_error err;
	struct mg_context *mg;
	char threads[16];
	const char *mg_options[] = {
		"listening_ports", o.listen,
		"num_threads", threads,
		"enable_keep_alive", "yes",
		"keep_alive_timeout_ms", "15000",
		"request_timeout_ms", "10000",
		"enable_directory_listing", "no",
		"decode_url", "no",
		"max_request_size", "8192",
		"tcp_nodelay", "1",
		NULL,
	};
	int rc;

	w.state_lock_fd = -1;
	/* First: parsing a --log vkey already hashes with libgcrypt, which
	 * must be initialised once, before any other use (and any thread). */
	if (!crypto_init()) {
		fprintf(stderr, "trace-witness: %s\n", CRYPTO_INIT_FAILED);
		return 1;
	}
	if ((rc = parse_options(argc, argv, &o, &w)) >= 0)
		return rc;
	if (load_key(&w, &o) != 0)
		return 1;
	if (o.print_vkey) {
		printf("%s\n", w.vkey);
		note_signer_clear(&w.signer);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Before listening: a SIGTERM while it starts stops it cleanly. */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (witness_state_open(&w, o.state, &err) != TRACE_OK) {
		fprintf(stderr, "trace-witness: --state: %s\n", err.message);
		return 1;
	}
	snprintf(threads, sizeof(threads), "%d", o.threads);
	the_witness = &w;
	mg_init_library(0);
	memset(&callbacks, 0, sizeof(callbacks));
	callbacks.begin_request = begin_request;
	callbacks.log_message = log_message;
	mg = mg_start(&callbacks, &w, mg_options);
	if (mg == NULL) {
		fprintf(stderr, "trace-witness: cannot listen on %s\n", o.listen);
		return 1;
	}
	fprintf(stderr, "trace-witness %s listening on %s as %s, %zu log(s)\n",
	    VERSION, o.listen, w.vkey, w.log_count);
	while (!stop_requested)
		sleep(1);
	fprintf(stderr, "trace-witness: stopping\n");
	mg_stop(mg);
	mg_exit_library();
	witness_state_close(&w);
	for (size_t i = 0; i < w.log_count; i++)
		pthread_mutex_destroy(&w.logs[i].lock);
	note_signer_clear(&w.signer);
	return 0;
}
