/*
 * http.c - trace-witness's HTTP side over civetweb: one route table
 * (405 with Allow for a known path and another method, 404 otherwise),
 * bounded body reading, and GET / (which logs, which sizes).
 *
 * tlog-witness puts add-checkpoint under the witness's "submission
 * prefix"; ours is the root, so the URL is <base>/add-checkpoint.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "libtrace/buf.h"
#include "libtrace/tlogwitness.h"
#include "witness.h"

#define STATUS_BODY_MAX (64 * 1024)

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 422: return "Unprocessable Entity";
	default: return "Internal Server Error";
	}
}

static void
send_answer(struct mg_connection *conn, int status, const char *content_type,
    const void *body, size_t len, const char *extra)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head),
	    "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "%s"
	    "\r\n", status, reason_phrase(status), content_type, len,
	    extra != NULL ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		n = snprintf(head, sizeof(head), "HTTP/1.1 500 Internal Server "
		    "Error\r\nContent-Length: 0\r\n\r\n");
	mg_write(conn, head, (size_t)n);
	if (len > 0 && strcmp(mg_get_request_info(conn)->request_method,
	    "HEAD") != 0)
		mg_write(conn, body, len);
}

static void
send_text(struct mg_connection *conn, int status, const char *text,
    const char *extra)
{
	send_answer(conn, status, "text/plain; charset=utf-8", text,
	    strlen(text), extra);
}

/*
 * Read at most max bytes of body; *body is malloc'd (the caller frees).
 * Returns 0, or the HTTP status to answer (413 over max, 400 on a short
 * or broken body).  Chunked bodies grow as they come, up to max.
 */
static int
read_body(struct mg_connection *conn, size_t max, char **body, size_t *len)
{
	long long declared = mg_get_request_info(conn)->content_length;
	size_t cap = declared >= 0 ? (size_t)declared : 4096, used = 0;
	char *data;

	*body = NULL;
	*len = 0;
	if (declared > (long long)max)
		return 413;
	if ((data = malloc(cap + 1)) == NULL)
		return 500;
	for (;;) {
		int n;

		if (used == cap) {
			char *grown;

			if (declared >= 0)
				break;
			if (cap > max) {
				free(data);
				return 413;
			}
			cap = cap * 2 > max ? max + 1 : cap * 2;
			if ((grown = realloc(data, cap + 1)) == NULL) {
				free(data);
				return 500;
			}
			data = grown;
		}
		n = mg_read(conn, data + used, cap - used);
		if (n < 0) {
			free(data);
			return 400;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > max) {
		free(data);
		return 413;
	}
	if (declared >= 0 && used != (size_t)declared) {
		free(data);
		return 400;
	}
	data[used] = '\0';
	*body = data;
	*len = used;
	return 0;
}

static void
handle_add_checkpoint(struct mg_connection *conn, struct witness *w)
{
	struct witness_answer answer;
	char *body = NULL;
	size_t len = 0;
	int rc;

	rc = read_body(conn, TLOG_WITNESS_BODY_MAX, &body, &len);
	if (rc != 0) {
		send_text(conn, rc, rc == 413 ? "body too large\n" :
		    "cannot read the body\n", NULL);
		return;
	}
	witness_add_checkpoint(w, body, len, &answer);
	free(body);
	send_answer(conn, answer.status, answer.content_type, answer.body,
	    answer.len, NULL);
}

/* {"name","vkey","logs":[{"origin","size","cosigned"}]}: who this is and
 * how far it has followed each log. */
static void
handle_status(struct mg_connection *conn, struct witness *w)
{
	struct buf b;
	char *text;
	size_t len = 0;

	buf_init(&b, STATUS_BODY_MAX);
	buf_puts(&b, "{\"name\":");
	buf_json_string(&b, w->signer.name, strlen(w->signer.name));
	buf_puts(&b, ",\"vkey\":");
	buf_json_string(&b, w->vkey, strlen(w->vkey));
	buf_puts(&b, ",\"logs\":[");
	for (size_t i = 0; i < w->log_count; i++) {
		struct witness_log *log = &w->logs[i];
		uint64_t size;
		bool cosigned;

		pthread_mutex_lock(&log->lock);
		size = log->size;
		cosigned = log->has_state;
		pthread_mutex_unlock(&log->lock);
		buf_puts(&b, i > 0 ? ",{\"origin\":" : "{\"origin\":");
		buf_json_string(&b, log->origin, strlen(log->origin));
		buf_printf(&b, ",\"size\":%" PRIu64 ",\"cosigned\":%s}", size,
		    cosigned ? "true" : "false");
	}
	buf_puts(&b, "]}\n");
	if (b.failed) {
		buf_free(&b);
		send_text(conn, 500, "status too large\n", NULL);
		return;
	}
	text = buf_steal(&b, &len);
	send_answer(conn, 200, "application/json", text, len, NULL);
	free(text);
	buf_free(&b);
}

/* The route table: {method, path, handler, name}. */
static const struct route {
	const char *method;
	const char *path;
	void (*handler)(struct mg_connection *, struct witness *);
	const char *name;
} routes[] = {
	{ "GET", "/", handle_status, "status" },
	{ "HEAD", "/", handle_status, "status" },
	{ "POST", "/add-checkpoint", handle_add_checkpoint, "add-checkpoint" },
};

int
witness_http_dispatch(struct mg_connection *conn, struct witness *w)
{
	const struct mg_request_info *info = mg_get_request_info(conn);
	char allow[64] = "";
	size_t used = 0;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(info->local_uri, routes[i].path) != 0)
			continue;
		if (strcmp(info->request_method, routes[i].method) == 0) {
			routes[i].handler(conn, w);
			return 1;
		}
		used += (size_t)snprintf(allow + used, sizeof(allow) - used,
		    "%s%s", used > 0 ? ", " : "", routes[i].method);
	}
	if (used > 0) {
		char extra[96];

		snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
		send_text(conn, 405, "method not allowed\n", extra);
		return 1;
	}
	send_text(conn, 404, "not found\n", NULL);
	return 1;
}
