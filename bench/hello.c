/*
 * hello.c - the consumer page's baseline (the targets of docs/PERFORMANCE.md): a hello-world
 * civetweb handler with the same civetweb options trace-server uses, so
 * "0.5 x hello-world" compares our work per request against civetweb's own
 * cost on this machine.
 *
 *   hello ADDR:PORT THREADS     serve "hello, world" until SIGTERM/SIGINT
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <civetweb.h>

/* trace-server's setting, so both pay the same per-packet costs (built
 * with -DTCP_NODELAY_OPTION='"0"' to see what Nagle's algorithm does to a
 * handler that writes its head and body separately). */
#ifndef TCP_NODELAY_OPTION
#define TCP_NODELAY_OPTION "1"
#endif

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int
hello(struct mg_connection *conn, void *cbdata)
{
	static const char body[] = "hello, world\n";

	(void)cbdata;
	mg_printf(conn, "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n\r\n", sizeof(body) - 1);
	mg_write(conn, body, sizeof(body) - 1);
	return 200;
}

int
main(int argc, char **argv)
{
	struct mg_callbacks callbacks;
	struct mg_context *ctx;
	const char *options[] = {
		"listening_ports", argc > 1 ? argv[1] : "127.0.0.1:8081",
		"num_threads", argc > 2 ? argv[2] : "64",
		"enable_keep_alive", "yes",
		"keep_alive_timeout_ms", "15000",
		"request_timeout_ms", "10000",
		"enable_directory_listing", "no",
		"decode_url", "no",
		"max_request_size", "16384",
		"tcp_nodelay", TCP_NODELAY_OPTION,
		NULL,
	};

	mg_init_library(0);
	memset(&callbacks, 0, sizeof(callbacks));
	if ((ctx = mg_start(&callbacks, NULL, options)) == NULL) {
		fprintf(stderr, "hello: cannot listen on %s\n", options[1]);
		return 1;
	}
	mg_set_request_handler(ctx, "/", hello, NULL);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop_requested)
		sleep(1);
	mg_stop(ctx);
	mg_exit_library();
	return 0;
}
