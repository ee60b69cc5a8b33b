/*
 * http.c - trace-agent's HTTP client on libcurl: one request with bounded
 * connect and total timeouts, retries with exponential backoff that honour
 * Retry-After, and helpers to read the server's JSON answers and errors
 * (docs/PROTOCOL.md section 11).
 *
 * Every request uses a fresh easy handle: the agent sends at most a few
 * thousand requests per run, and a fresh handle cannot carry state (a
 * half-read body, a broken connection) from one request into the next.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "agent.h"

#define HTTP_BODY_MAX (256L * 1024 * 1024)  /* a 10,000-event chain fits */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000
#define RETRY_AFTER_MAX_S 60

struct body_sink {
	char *data;
	size_t len, cap;
	bool too_big;
};

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct body_sink *sink = arg;
	size_t n = size * nmemb;

	if (sink->len + n + 1 > (size_t)HTTP_BODY_MAX) {
		sink->too_big = true;
		return 0;  /* makes curl fail the transfer */
	}
	if (sink->len + n + 1 > sink->cap) {
		size_t cap = sink->cap ? sink->cap : 16384;
		char *grown;

		while (cap < sink->len + n + 1)
			cap *= 2;
		if ((grown = realloc(sink->data, cap)) == NULL)
			return 0;
		sink->data = grown;
		sink->cap = cap;
	}
	memcpy(sink->data + sink->len, ptr, n);
	sink->len += n;
	sink->data[sink->len] = '\0';
	return n;
}

/* Copy header value (after "Name:") trimmed into out. */
static bool
header_value(const char *line, size_t len, const char *name, char *out,
    size_t size)
{
	size_t name_len = strlen(name), start, end;

	if (len <= name_len || strncasecmp(line, name, name_len) != 0 ||
	    line[name_len] != ':')
		return false;
	start = name_len + 1;
	end = len;
	while (start < end && (line[start] == ' ' || line[start] == '\t'))
		start++;
	while (end > start && isspace((unsigned char)line[end - 1]))
		end--;
	if (end - start >= size)
		return false;
	memcpy(out, line + start, end - start);
	out[end - start] = '\0';
	return true;
}

/* Take the cursor= value out of a Link: <...cursor=X...>; rel="next". */
static void
cursor_from_link(const char *link, char *out, size_t size)
{
	const char *p, *end;
	size_t n;

	if (strstr(link, "rel=\"next\"") == NULL &&
	    strstr(link, "rel=next") == NULL)
		return;
	if ((p = strstr(link, "cursor=")) == NULL)
		return;
	p += 7;
	end = p;
	while (*end != '\0' && *end != '&' && *end != '>')
		end++;
	n = (size_t)(end - p);
	if (n == 0 || n >= size)
		return;
	memcpy(out, p, n);
	out[n] = '\0';
}

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_response *resp = arg;
	size_t n = size * nmemb;
	char value[600];

	if (header_value(ptr, n, "Retry-After", value, sizeof(value))) {
		char *end;
		long s = strtol(value, &end, 10);

		/* Only delta-seconds; an HTTP date falls back to backoff. */
		if (end != value && *end == '\0' && s >= 0)
			resp->retry_after = s;
	} else if (header_value(ptr, n, "X-Next-Cursor", value,
	    sizeof(value))) {
		if (strlen(value) < sizeof(resp->next_cursor))
			memcpy(resp->next_cursor, value, strlen(value) + 1);
	} else if (header_value(ptr, n, "Link", value, sizeof(value))) {
		cursor_from_link(value, resp->next_cursor,
		    sizeof(resp->next_cursor));
	}
	return n;
}

void
http_response_free(struct http_response *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
	resp->retry_after = -1;
}

/* What every request starts with: resp reset, the URL of path on the
 * server (url, URL_MAX bytes) and a libcurl handle the caller cleans up. */
#define URL_MAX 4096

static enum trace_status
request_open(const struct agent *a, const char *path,
    struct http_response *resp, char url[URL_MAX], CURL **curl,
    struct trace_error *err)
{
	int n;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after = -1;
	*curl = NULL;
	if (a->server[0] == '\0')
		return trace_error_set(err, TRACE_EIO, "no_server", NULL,
		    "no server configured (--server URL or TRACE_SERVER)");
	n = snprintf(url, URL_MAX, "%s%s", a->server, path);
	if (n < 0 || n >= URL_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_url", NULL,
		    "URL too long");
	if ((*curl = curl_easy_init()) == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "cannot create a libcurl handle");
	return TRACE_OK;
}

/* How every answer is received: into sink and resp's headers, from our
 * server only (never following a redirect elsewhere). */
static void
request_receive(CURL *curl, const struct agent *a, struct body_sink *sink,
    struct http_response *resp)
{
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, a->connect_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
}

/* Send it; on an answer, resp holds its status and body (sink's). */
static enum trace_status
request_perform(CURL *curl, const char *method, const char *url,
    struct body_sink *sink, struct http_response *resp,
    struct trace_error *err)
{
	CURLcode cc = curl_easy_perform(curl);

	if (cc != CURLE_OK) {
		free(sink->data);
		sink->data = NULL;
		return trace_error_set(err, TRACE_EIO, "unreachable", NULL,
		    "%s %s: %s", method, url, sink->too_big ?
		    "answer too large" : curl_easy_strerror(cc));
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->body = sink->data;
	resp->len = sink->len;
	return TRACE_OK;
}

enum trace_status
http_request(const struct agent *a, const char *method, const char *path,
    const char *accept, const char *body, size_t len,
    struct http_response *resp, struct trace_error *err)
{
	struct body_sink sink = { 0 };
	struct curl_slist *headers = NULL, *more;
	char url[URL_MAX], line[256];
	CURL *curl = NULL;
	enum trace_status rc;

	if ((rc = request_open(a, path, resp, url, &curl, err)) != TRACE_OK)
		goto out;
	snprintf(line, sizeof(line), "Accept: %s",
	    accept != NULL ? accept : "application/json");
	if ((more = curl_slist_append(headers, line)) == NULL)
		goto nomem;
	headers = more;
	if (body != NULL) {
		if ((more = curl_slist_append(headers,
		    "Content-Type: application/json")) == NULL)
			goto nomem;
		headers = more;
		/* No "Expect: 100-continue" round trip for big batches. */
		if ((more = curl_slist_append(headers, "Expect:")) == NULL)
			goto nomem;
		headers = more;
	}
	snprintf(line, sizeof(line), "User-Agent: trace-agent/%s",
	    AGENT_VERSION);
	if ((more = curl_slist_append(headers, line)) == NULL)
		goto nomem;
	headers = more;

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, a->timeout_ms);
	request_receive(curl, a, &sink, resp);
	if (body != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	rc = request_perform(curl, method, url, &sink, resp, err);
	goto out;
nomem:
	rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL, "out of memory");
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return rc;
}

struct upload_progress {
	void (*fn)(void *arg, size_t sent, size_t total);
	void *arg;
};

static int
on_upload_progress(void *p, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct upload_progress *up = p;

	(void)dltotal;
	(void)dlnow;
	if (ultotal > 0)
		up->fn(up->arg, (size_t)ulnow, (size_t)ultotal);
	return 0;
}

enum trace_status
http_upload(const struct agent *a, const char *path, const char *header,
    const void *data, size_t len,
    void (*progress)(void *arg, size_t sent, size_t total), void *arg,
    struct http_response *resp, struct trace_error *err)
{
	struct body_sink sink = { 0 };
	struct upload_progress up = { progress, arg };
	struct curl_slist *headers = NULL, *more;
	char url[URL_MAX], line[64];
	CURL *curl = NULL;
	enum trace_status rc;

	if ((rc = request_open(a, path, resp, url, &curl, err)) != TRACE_OK)
		goto out;
	snprintf(line, sizeof(line), "User-Agent: trace-agent/%s",
	    AGENT_VERSION);
	if ((more = curl_slist_append(headers, "Accept: application/json")) ==
	    NULL)
		goto nomem;
	headers = more;
	if ((more = curl_slist_append(headers,
	    "Content-Type: application/octet-stream")) == NULL)
		goto nomem;
	headers = more;
	if ((more = curl_slist_append(headers, line)) == NULL)
		goto nomem;
	headers = more;
	if ((more = curl_slist_append(headers, header)) == NULL)
		goto nomem;
	headers = more;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	request_receive(curl, a, &sink, resp);
	/* A large document on a slow link takes what it takes; a stalled
	 * one is given up. */
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
	    a->timeout_ms / 1000 > 0 ? a->timeout_ms / 1000 : 1L);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, data);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	if (progress != NULL) {
		curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION,
		    on_upload_progress);
		curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &up);
		curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	}
	rc = request_perform(curl, "PUT", url, &sink, resp, err);
	goto out;
nomem:
	rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL, "out of memory");
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return rc;
}

bool
http_status_temporary(long status)
{
	return status == 500 || status == 502 || status == 503 ||
	    status == 504;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

enum trace_status
http_exchange(const struct agent *a, const char *cmd, const char *method,
    const char *path, const char *accept, const char *body, size_t len,
    int attempts, struct http_response *resp, struct trace_error *err)
{
	long delay_ms = BACKOFF_FIRST_MS;
	enum trace_status rc;

	if (attempts < 1)
		attempts = 1;
	for (int i = 1;; i++) {
		long wait_ms = delay_ms;

		rc = http_request(a, method, path, accept, body, len, resp, err);
		if (rc == TRACE_OK && !http_status_temporary(resp->status))
			return rc;
		if (rc != TRACE_OK && rc != TRACE_EIO)
			return rc;
		if (i >= attempts || a->server[0] == '\0')
			return rc;
		if (rc == TRACE_OK && resp->retry_after >= 0)
			wait_ms = (resp->retry_after > RETRY_AFTER_MAX_S ?
			    RETRY_AFTER_MAX_S : resp->retry_after) * 1000L;
		if (rc == TRACE_OK)
			agent_warn(cmd, "server answered %ld, retrying in %ld "
			    "ms (attempt %d of %d)", resp->status, wait_ms,
			    i + 1, attempts);
		else
			agent_warn(cmd, "%s; retrying in %ld ms (attempt %d "
			    "of %d)", err != NULL ? err->message :
			    "unreachable", wait_ms, i + 1, attempts);
		http_response_free(resp);
		sleep_ms(wait_ms);
		delay_ms = delay_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
		    delay_ms * 2;
	}
}

enum trace_status
http_response_json(const struct http_response *resp, struct json_doc **doc,
    struct trace_error *err)
{
	static const struct json_limits limits = {
		.max_size = (size_t)HTTP_BODY_MAX,
		.max_depth = 32,
		.max_string = 1024 * 1024,
		.max_values = 64 * 1024 * 1024,
	};

	*doc = NULL;
	if (resp->body == NULL || resp->len == 0)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_answer",
		    NULL, "the server sent an empty answer (HTTP %ld)",
		    resp->status);
	return json_parse(resp->body, resp->len, &limits, doc, err);
}

void
http_describe_error(const struct http_response *resp, char *out, size_t size)
{
	struct json_doc *doc = NULL;
	const struct json_value *error = NULL;
	const char *code = NULL, *message = NULL, *field = NULL;

	if (http_response_json(resp, &doc, NULL) == TRACE_OK)
		error = json_object_get(json_doc_root(doc), "error");
	if (error != NULL && error->type == JSON_OBJECT) {
		json_get_string(error, "code", false, &code, NULL, NULL);
		json_get_string(error, "message", false, &message, NULL, NULL);
		json_get_string(error, "field", false, &field, NULL, NULL);
	}
	if (code != NULL || message != NULL)
		snprintf(out, size, "HTTP %ld %s: %s%s%s%s", resp->status,
		    code != NULL ? code : "error",
		    message != NULL ? message : "(no message)",
		    field != NULL && field[0] != '\0' ? " (field " : "",
		    field != NULL && field[0] != '\0' ? field : "",
		    field != NULL && field[0] != '\0' ? ")" : "");
	else
		snprintf(out, size, "HTTP %ld with no error description",
		    resp->status);
	json_doc_free(doc);
}
