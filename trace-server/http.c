/*
 * http.c - response and request helpers over civetweb: complete responses
 * with the security headers every answer carries, JSON errors in
 * docs/PROTOCOL.md section 11.2's shape (405 with Allow included) and
 * bounded body reading.  Query strings are parse.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

/* An answer's head at most; a body sent in the same write at most. */
#define HTTP_HEAD_MAX 3072
#define HTTP_ONE_WRITE_MAX 65536

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 507: return "Insufficient Storage";
	default: return "Status";
	}
}

/*
 * The head of an answer into head[HTTP_HEAD_MAX]; returns its length and
 * sets req->status.  Headers too long for it make the answer a 500 with
 * no body: false.
 */
static bool
format_head(struct request *req, int status, const char *content_type,
    size_t len, const char *extra_headers, char *head, size_t *out)
{
	int n;

	/* Security headers on every answer; pages add their own CSP. */
	n = snprintf(head, HTTP_HEAD_MAX,
	    "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "%s%s%s%s"
	    "\r\n", status, reason_phrase(status), content_type, len,
	    extra_headers != NULL ? extra_headers : "", req->also_headers,
	    status == 503 ? "Retry-After: 1\r\n" : "",
	    req->close ? "Connection: close\r\n" : "");
	req->status = status;
	if (n >= 0 && (size_t)n < HTTP_HEAD_MAX) {
		*out = (size_t)n;
		return true;
	}
	req->status = 500;
	*out = (size_t)snprintf(head, HTTP_HEAD_MAX, "HTTP/1.1 500 Internal "
	    "Server Error\r\nContent-Length: 0\r\n\r\n");
	return false;
}

void
http_send_head(struct request *req, int status, const char *content_type,
    size_t len, const char *extra_headers)
{
	char head[HTTP_HEAD_MAX];
	size_t n;

	format_head(req, status, content_type, len, extra_headers, head, &n);
	mg_write(req->conn, head, n);
}

/*
 * A body up to HTTP_ONE_WRITE_MAX goes out with its head in one write:
 * with TCP_NODELAY two writes are two segments, and the client wakes
 * twice (a page view or a single ingest answer paid a second send and a
 * second receive).
 */
void
http_send(struct request *req, int status, const char *content_type,
    const void *body, size_t len, const char *extra_headers)
{
	char head[HTTP_HEAD_MAX], *one = NULL;
	size_t n;
	bool with_body = len > 0 &&
	    strcmp(req->info->request_method, "HEAD") != 0;

	if (with_body && len <= HTTP_ONE_WRITE_MAX)
		one = malloc(HTTP_HEAD_MAX + len);
	if (!format_head(req, status, content_type, len, extra_headers,
	    one != NULL ? one : head, &n))
		with_body = false;
	if (one != NULL) {
		if (with_body) {
			memcpy(one + n, body, len);
			n += len;
		}
		mg_write(req->conn, one, n);
		free(one);
		return;
	}
	mg_write(req->conn, head, n);
	if (with_body)
		mg_write(req->conn, body, len);
}

void
http_send_json(struct request *req, int status, struct buf *b)
{
	if (b->failed) {
		static const char body[] = "{\"error\":{\"code\":\"internal\","
		    "\"message\":\"response too large or out of memory\"}}";

		http_send(req, 500, "application/json", body, sizeof(body) - 1,
		    NULL);
		return;
	}
	http_send(req, status, "application/json", b->data, b->len,
	    "Cache-Control: no-store\r\n");
}

void
http_error_object(struct buf *b, const struct trace_error *err)
{
	const char *code = err->code[0] != '\0' ? err->code :
	    trace_status_name(err->status);

	buf_puts(b, "{\"code\":");
	buf_json_string(b, code, strlen(code));
	buf_puts(b, ",\"message\":");
	buf_json_string(b, err->message, strlen(err->message));
	if (err->field[0] != '\0') {
		buf_puts(b, ",\"field\":");
		buf_json_string(b, err->field, strlen(err->field));
	}
	buf_puts(b, "}");
}

void
http_send_error_with(struct request *req, const struct trace_error *err,
    const char *extra_json)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "{\"error\":");
	http_error_object(&b, err);
	if (extra_json != NULL)
		buf_puts(&b, extra_json);
	buf_puts(&b, "}");
	http_send_json(req, trace_status_http(err->status), &b);
	buf_free(&b);
}

void
http_send_error(struct request *req, const struct trace_error *err)
{
	http_send_error_with(req, err, NULL);
}

void
http_send_method_not_allowed(struct request *req, const char *allow)
{
	char headers[160];
	struct trace_error err;
	struct buf b;

	trace_error_set(&err, TRACE_EMALFORMED, "method_not_allowed", NULL,
	    "%s is not allowed here; use %s", req->info->request_method,
	    allow);
	buf_init(&b, 0);
	buf_puts(&b, "{\"error\":");
	http_error_object(&b, &err);
	buf_puts(&b, "}");
	/* RFC 9110 15.5.6: a 405 lists the methods the resource has. */
	snprintf(headers, sizeof(headers), "Allow: %s\r\n"
	    "Cache-Control: no-store\r\n", allow);
	if (b.failed)
		http_send_json(req, 405, &b);
	else
		http_send(req, 405, "application/json", b.data, b.len, headers);
	buf_free(&b);
}

void
http_send_preflight(struct request *req)
{
	/* Fetch spec: a preflight is answered with what any origin may do
	 * here, which is to read; no credentials, no other method. */
	http_send(req, 204, "text/plain", NULL, 0, HTTP_CORS_READ
	    "Access-Control-Allow-Methods: GET, HEAD\r\n"
	    "Access-Control-Allow-Headers: Accept, Accept-Language, "
	    "Cache-Control\r\n"
	    "Access-Control-Max-Age: 86400\r\n"
	    "Cache-Control: no-store\r\n");
}

enum trace_status
http_read_body(struct request *req, size_t max, char **body, size_t *len,
    struct trace_error *err)
{
	long long declared = req->info->content_length;
	size_t cap, used = 0;
	char *data;

	*body = NULL;
	*len = 0;
	if (declared > (long long)max)
		return trace_error_set(err, TRACE_ETOOBIG, "too_large", NULL,
		    "the body of %lld bytes is over the limit of %zu", declared,
		    max);
	/* content_length is -1 for chunked bodies: grow as they come. */
	cap = declared >= 0 ? (size_t)declared : 16384;
	if ((data = malloc(cap + 1)) == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	for (;;) {
		int n;

		if (used == cap) {
			char *grown;

			if (declared >= 0)
				break;
			if (cap >= max) {
				free(data);
				return trace_error_set(err, TRACE_ETOOBIG,
				    "too_large", NULL, "the body is over the "
				    "limit of %zu bytes", max);
			}
			cap = cap * 2 > max ? max + 1 : cap * 2;
			if ((grown = realloc(data, cap + 1)) == NULL) {
				free(data);
				return trace_error_set(err, TRACE_ENOMEM, NULL,
				    NULL, "out of memory");
			}
			data = grown;
		}
		n = mg_read(req->conn, data + used, cap - used);
		if (n <= 0)
			break;
		used += (size_t)n;
		/*
		 * With a declared length civetweb's mg_read keeps reading
		 * until it has all it was asked for; it returns less only
		 * when its read timeout expired or the peer closed.  Asking
		 * again would wait out a second timeout for nothing.
		 */
		if (declared >= 0 && (size_t)n < cap - (used - (size_t)n))
			break;
	}
	if (used > max) {
		free(data);
		return trace_error_set(err, TRACE_ETOOBIG, "too_large", NULL,
		    "the body is over the limit of %zu bytes", max);
	}
	if (declared >= 0 && used != (size_t)declared) {
		free(data);
		return trace_error_set(err, TRACE_EMALFORMED, "truncated_body",
		    NULL, "the body ended after %zu of %lld bytes", used,
		    declared);
	}
	data[used] = '\0';
	*body = data;
	*len = used;
	return TRACE_OK;
}

bool
http_accepts(const struct request *req, const char *type)
{
	const char *accept = mg_get_header(req->conn, "Accept");

	return accept != NULL && strstr(accept, type) != NULL;
}
