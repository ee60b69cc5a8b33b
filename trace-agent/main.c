/*
 * main.c - trace-agent's entry point: global options, dispatch to the
 * subcommand groups, the program's usage text, and the small helpers every
 * subcommand shares (error reporting, the queue folder, the crash hook).
 *
 * Configuration comes from options first, then the environment
 * (TRACE_SERVER, TRACE_QUEUE, TRACE_TIMEOUT), then defaults.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "agent.h"
#include "libtrace/crypto.h"

static const char usage_text[] =
"usage: trace-agent [--server URL] [--queue DIR] COMMAND [OPTIONS]\n"
"\n"
"Record, queue, send and verify signed Trace events (docs/PROTOCOL.md section 13).\n"
"\n"
"commands:\n"
"  key gen|enroll|revoke  make a key pair; enroll or revoke a key (admin)\n"
"  record                 build, sign, queue and send one event\n"
"  import FILE.csv        one event per CSV row, all rows checked first\n"
"  send                   flush the offline queue\n"
"  verify                 check a chain's bundle offline, and that the log\n"
"                         only grew since the last verify (--state)\n"
"  monitor                rebuild the lot index from the log and check it\n"
"  qr                     the QR code of a unit's Digital Link\n"
"  recalls                list recalls (table or CSV)\n"
"  codes gen|upload       scratch-off codes: make them, upload their hashes\n"
"\n"
"options (before or after COMMAND):\n"
"  --server URL   the trace-server (env TRACE_SERVER)\n"
"  --queue DIR    the offline queue (env TRACE_QUEUE; default\n"
"                 $XDG_STATE_HOME/trace/queue or ~/.local/state/trace/queue)\n"
"  --help         this text; 'trace-agent COMMAND --help' for a command\n"
"  --version      the version\n"
"\n"
"environment: TRACE_TIMEOUT (seconds per request, default 30);\n"
"TRACE_AGENT_CRASH_AT=STEP[:N] is a test hook that kills the agent with\n"
"SIGKILL at a named step (see the integration tests).\n"
"\n"
"exit status: 0 ok; 1 verification failed, the server refused, or a\n"
"local error; 2 usage; 3 the server could not be reached (anything to send\n"
"stays queued); 4 a chain moved by a recall, a correction or a fail not\n"
"seen yet: nothing rebased (see 'trace-agent send --help').  record exits\n"
"0 when its event was queued for later.\n";

void
agent_warn(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "trace-agent %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
agent_report(const char *cmd, const struct trace_error *err)
{
	if (err->field[0] != '\0' && strstr(err->message, err->field) == NULL)
		agent_warn(cmd, "%s: %s", err->field, err->message);
	else
		agent_warn(cmd, "%s", err->message);
}

int
agent_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "trace-agent %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ntry 'trace-agent %s --help'\n", cmd);
	return AGENT_EXIT_USAGE;
}

bool
agent_set_server(struct agent *a, const char *url)
{
	size_t len = strlen(url);

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return false;
	while (len > 0 && url[len - 1] == '/')
		len--;
	if (len >= sizeof(a->server))
		return false;
	memcpy(a->server, url, len);
	a->server[len] = '\0';
	return true;
}

bool
agent_common_option(struct agent *a, int opt, const char *arg)
{
	size_t len;

	switch (opt) {
	case OPT_SERVER:
		if (!agent_set_server(a, arg)) {
			fprintf(stderr, "trace-agent: --server must be an "
			    "http:// or https:// URL\n");
			exit(AGENT_EXIT_USAGE);
		}
		return true;
	case OPT_QUEUE:
		len = strlen(arg);
		if (len == 0 || len >= sizeof(a->queue_dir)) {
			fprintf(stderr, "trace-agent: bad --queue folder\n");
			exit(AGENT_EXIT_USAGE);
		}
		memcpy(a->queue_dir, arg, len + 1);
		return true;
	default:
		return false;
	}
}

const char *
agent_queue_dir(struct agent *a)
{
	const char *env;
	int n = 0;

	if (a->queue_dir[0] != '\0')
		return a->queue_dir;
	if ((env = getenv("TRACE_QUEUE")) != NULL && env[0] != '\0')
		n = snprintf(a->queue_dir, sizeof(a->queue_dir), "%s", env);
	else if ((env = getenv("XDG_STATE_HOME")) != NULL && env[0] == '/')
		n = snprintf(a->queue_dir, sizeof(a->queue_dir),
		    "%s/trace/queue", env);
	else if ((env = getenv("HOME")) != NULL && env[0] != '\0')
		n = snprintf(a->queue_dir, sizeof(a->queue_dir),
		    "%s/.local/state/trace/queue", env);
	else
		n = snprintf(a->queue_dir, sizeof(a->queue_dir),
		    ".trace-queue");
	if (n < 0 || (size_t)n >= sizeof(a->queue_dir))
		a->queue_dir[0] = '\0';
	return a->queue_dir;
}

void
agent_crash_point(const char *step)
{
	/* Single-threaded: a plain counter per process is enough. */
	static long arrivals;
	const char *spec = getenv("TRACE_AGENT_CRASH_AT");
	size_t len = strlen(step);
	long want = 1;

	if (spec == NULL || strncmp(spec, step, len) != 0)
		return;
	if (spec[len] == ':')
		want = strtol(spec + len + 1, NULL, 10);
	else if (spec[len] != '\0')
		return;
	if (++arrivals < want)
		return;
	/* Exactly what kill -9 does: no atexit, no buffers flushed. */
	raise(SIGKILL);
	_exit(137);
}

/* Environment first, so options given later override it. */
static void
agent_defaults(struct agent *a)
{
	const char *env;
	long seconds;

	memset(a, 0, sizeof(*a));
	a->timeout_ms = 30000;
	a->connect_timeout_ms = 5000;
	if ((env = getenv("TRACE_SERVER")) != NULL && env[0] != '\0' &&
	    !agent_set_server(a, env))
		fprintf(stderr, "trace-agent: ignoring TRACE_SERVER: not an "
		    "http(s) URL\n");
	if ((env = getenv("TRACE_TIMEOUT")) != NULL &&
	    (seconds = strtol(env, NULL, 10)) > 0 && seconds < 3600) {
		a->timeout_ms = seconds * 1000;
		if (a->connect_timeout_ms > a->timeout_ms)
			a->connect_timeout_ms = a->timeout_ms;
	}
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *name;
		int (*run)(struct agent *, int, char **);
	} commands[] = {
		{ "key", cmd_key },
		{ "record", cmd_record },
		{ "import", cmd_import },
		{ "send", cmd_send },
		{ "verify", cmd_verify },
		{ "monitor", cmd_monitor },
		{ "qr", cmd_qr },
		{ "recalls", cmd_recalls },
		{ "codes", cmd_codes },
	};
	struct agent agent;
	int opt, rc;

	agent_defaults(&agent);
	/* '+': stop at the command; its options belong to it. */
	while ((opt = getopt_long(argc, argv, "+hV", options, NULL)) != -1) {
		if (agent_common_option(&agent, opt, optarg))
			continue;
		switch (opt) {
		case 'h':
			fputs(usage_text, stdout);
			return AGENT_EXIT_OK;
		case 'V':
			printf("trace-agent %s\n", AGENT_VERSION);
			return AGENT_EXIT_OK;
		default:
			fputs("try 'trace-agent --help'\n", stderr);
			return AGENT_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return AGENT_EXIT_USAGE;
	}
	if (!crypto_init()) {
		fprintf(stderr, "trace-agent: %s\n", CRYPTO_INIT_FAILED);
		return AGENT_EXIT_FAILED;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "trace-agent: cannot initialise libcurl\n");
		return AGENT_EXIT_FAILED;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;

			/* glibc: optind 0 restarts getopt for the new argv. */
			optind = 0;
			rc = commands[i].run(&agent, sub_argc, sub_argv);
			curl_global_cleanup();
			return rc;
		}
	}
	fprintf(stderr, "trace-agent: unknown command '%s'\n"
	    "try 'trace-agent --help'\n", argv[optind]);
	curl_global_cleanup();
	return AGENT_EXIT_USAGE;
}
