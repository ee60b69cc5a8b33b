/*
 * buf.h - a growable byte buffer and the escaping writers that fill it:
 * JSON string literals and HTML text/attributes.  Every piece of output
 * that carries a signer's words goes through one of the escaping calls;
 * buf_append() is the named raw exception for trusted text.
 *
 * Errors are sticky: after a failed allocation further appends do nothing
 * and buf->failed stays true, so callers check once at the end.
 */
#ifndef TRACE_BUF_H
#define TRACE_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"

struct buf {
	char *data;     /* NUL-terminated when len > 0 */
	size_t len, cap;
	size_t max;     /* 0 = unbounded; appends past it fail */
	bool failed;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);          /* accepts NULL */
void buf_reset(struct buf *b);         /* length 0, keeps memory */

/* Raw bytes: only for text we produced or already validated as safe. */
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A JSON string literal with quotes; the input must be valid UTF-8.
 * '<', '>' and '&' are escaped too, so the output is safe inside HTML
 * <script type="application/json"> blocks. */
void buf_json_string(struct buf *b, const char *s, size_t len);

/* A parsed JSON value written again, compactly (strings escaped as in
 * buf_json_string). */
void buf_json_value(struct buf *b, const struct json_value *v);

/* HTML text or a double-quoted attribute value: & < > " ' escaped. */
void buf_html(struct buf *b, const char *s, size_t len);
void buf_html_cstr(struct buf *b, const char *s);

/* Percent-encode for a URL path segment or query value (RFC 3986
 * unreserved characters kept). */
void buf_url_component(struct buf *b, const char *s, size_t len);

/* Take ownership of the data (caller frees); the buffer is emptied. */
char *buf_steal(struct buf *b, size_t *len);

#endif
