/*
 * buf.c - growable buffer and escaping writers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Make room for n more bytes and a NUL. */
static bool
buf_reserve(struct buf *b, size_t n)
{
	size_t want, cap;
	char *grown;

	if (b->failed)
		return false;
	if (n > ((size_t)-1) / 2 - b->len ||
	    (b->max != 0 && b->len + n > b->max)) {
		b->failed = true;
		return false;
	}
	want = b->len + n + 1;
	if (want <= b->cap)
		return true;
	cap = b->cap != 0 ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	if ((grown = realloc(b->data, cap)) == NULL) {
		b->failed = true;
		return false;
	}
	b->data = grown;
	b->cap = cap;
	return true;
}

void
buf_append(struct buf *b, const void *data, size_t len)
{
	if (!buf_reserve(b, len))
		return;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_json_string(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;

	buf_append(b, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		size_t n = 0;

		if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' &&
		    c != '&')
			continue;
		buf_append(b, s + start, i - start);
		start = i + 1;
		switch (c) {
		case '"': memcpy(esc, "\\\"", 2); n = 2; break;
		case '\\': memcpy(esc, "\\\\", 2); n = 2; break;
		case '\n': memcpy(esc, "\\n", 2); n = 2; break;
		case '\t': memcpy(esc, "\\t", 2); n = 2; break;
		case '\r': memcpy(esc, "\\r", 2); n = 2; break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		buf_append(b, esc, n);
	}
	buf_append(b, s + start, len - start);
	buf_append(b, "\"", 1);
}

void
buf_json_value(struct buf *b, const struct json_value *v)
{
	switch (v->type) {
	case JSON_NULL:
		buf_puts(b, "null");
		break;
	case JSON_BOOL:
		buf_puts(b, v->u.boolean ? "true" : "false");
		break;
	case JSON_INT:
		buf_printf(b, "%lld", v->u.integer);
		break;
	case JSON_STRING:
		buf_json_string(b, v->u.string.ptr, v->u.string.len);
		break;
	case JSON_ARRAY:
		buf_puts(b, "[");
		for (size_t i = 0; i < v->u.array.count; i++) {
			if (i > 0)
				buf_puts(b, ",");
			buf_json_value(b, v->u.array.items[i]);
		}
		buf_puts(b, "]");
		break;
	case JSON_OBJECT:
		buf_puts(b, "{");
		for (size_t i = 0; i < v->u.object.count; i++) {
			const struct json_member *m = &v->u.object.members[i];

			if (i > 0)
				buf_puts(b, ",");
			buf_json_string(b, m->key, m->key_len);
			buf_puts(b, ":");
			buf_json_value(b, m->value);
		}
		buf_puts(b, "}");
		break;
	}
}

void
buf_html(struct buf *b, const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		const char *esc;

		switch (s[i]) {
		case '&': esc = "&amp;"; break;
		case '<': esc = "&lt;"; break;
		case '>': esc = "&gt;"; break;
		case '"': esc = "&quot;"; break;
		case '\'': esc = "&#39;"; break;
		default: continue;
		}
		buf_append(b, s + start, i - start);
		buf_puts(b, esc);
		start = i + 1;
	}
	buf_append(b, s + start, len - start);
}

void
buf_html_cstr(struct buf *b, const char *s)
{
	buf_html(b, s, strlen(s));
}

void
buf_url_component(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			buf_append(b, s + i, 1);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		buf_append(b, esc, 3);
	}
}

char *
buf_steal(struct buf *b, size_t *len)
{
	char *data = b->data;

	if (b->failed) {
		buf_free(b);
		return NULL;
	}
	if (data == NULL)
		data = calloc(1, 1);
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return data;
}
