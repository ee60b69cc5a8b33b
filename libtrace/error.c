/*
 * error.c - filling struct trace_error and mapping statuses to HTTP.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static void
copy_bounded(char *dst, size_t size, const char *src)
{
	size_t n;

	if (src == NULL) {
		dst[0] = '\0';
		return;
	}
	n = strlen(src);
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * Everything is built in a local record first and copied at the end: a
 * caller may wrap the error it got, passing err->message (or err->code,
 * err->field) as an argument, and formatting into the buffer being read is
 * undefined.  It once printed stack bytes after the message.
 */
enum trace_status
trace_error_set(struct trace_error *err, enum trace_status status,
    const char *code, const char *field, const char *fmt, ...)
{
	struct trace_error e;
	va_list ap;

	if (err == NULL)
		return status;
	e.status = status;
	copy_bounded(e.code, sizeof(e.code),
	    code != NULL ? code : trace_status_name(status));
	copy_bounded(e.field, sizeof(e.field), field);
	va_start(ap, fmt);
	if (vsnprintf(e.message, sizeof(e.message), fmt, ap) < 0)
		e.message[0] = '\0';
	va_end(ap);
	*err = e;
	return status;
}

void
trace_error_clear(struct trace_error *err)
{
	if (err == NULL)
		return;
	err->status = TRACE_OK;
	err->code[0] = '\0';
	err->field[0] = '\0';
	err->message[0] = '\0';
}

void
trace_error_prefix_field(struct trace_error *err, const char *parent)
{
	char joined[TRACE_ERROR_FIELD_MAX];
	const char *sep;
	int n;

	if (err == NULL || parent == NULL || parent[0] == '\0')
		return;
	sep = err->field[0] == '\0' || err->field[0] == '[' ? "" : ".";
	n = snprintf(joined, sizeof(joined), "%s%s%s", parent, sep, err->field);
	/* A path too long for the buffer is cut; it stays a useful prefix. */
	if (n < 0)
		return;
	memcpy(err->field, joined, sizeof(joined));
}

int
trace_status_http(enum trace_status status)
{
	switch (status) {
	case TRACE_OK:
		return 200;
	case TRACE_EMALFORMED:
		return 400;
	case TRACE_ETOOBIG:
		return 413;
	case TRACE_EBADSIG:
	case TRACE_EUNKNOWNKEY:
		return 401;
	case TRACE_EFORBIDDEN:
		return 403;
	case TRACE_ENOTFOUND:
		return 404;
	case TRACE_ECONFLICT:
		return 409;
	case TRACE_ERULE:
		return 422;
	case TRACE_ESTORE:
		return 503;
	case TRACE_EMEDIA:
		return 415;
	case TRACE_EQUOTA:
		return 429;
	case TRACE_EFULL:
		return 507;
	case TRACE_ENOMEM:
	case TRACE_EIO:
		break;
	}
	return 500;
}

const char *
trace_status_name(enum trace_status status)
{
	switch (status) {
	case TRACE_OK:
		return "ok";
	case TRACE_EMALFORMED:
		return "malformed";
	case TRACE_ETOOBIG:
		return "too_large";
	case TRACE_EBADSIG:
		return "bad_signature";
	case TRACE_EUNKNOWNKEY:
		return "unknown_key";
	case TRACE_EFORBIDDEN:
		return "forbidden";
	case TRACE_ENOTFOUND:
		return "not_found";
	case TRACE_ECONFLICT:
		return "conflict";
	case TRACE_ERULE:
		return "rule_violated";
	case TRACE_ESTORE:
		return "store_unavailable";
	case TRACE_ENOMEM:
		return "out_of_memory";
	case TRACE_EIO:
		return "io_error";
	case TRACE_EMEDIA:
		return "unsupported_media";
	case TRACE_EQUOTA:
		return "quota_exceeded";
	case TRACE_EFULL:
		return "store_full";
	}
	return "internal";
}
