/*
 * json.c - strict JSON parsing on yajl's callback parser, and the writer.
 *
 * yajl alone is not strict enough: its tree API keeps duplicate keys and
 * allows comments, its UTF-8 check accepts overlong forms and encoded
 * surrogates, and it turns a lone \uD800 escape into '?'.  So parsing runs in
 * two passes over the bytes: a pre-scan that enforces UTF-8, NUL bytes and
 * \u escapes with exact offsets, then yajl with comments, trailing data and
 * multiple values off, whose callbacks build the tree in an arena and enforce
 * integers only, depth, string length, value count and unique keys.
 *
 * The tree is allocated in one arena owned by struct json_doc, so freeing a
 * document is one walk over a few chunks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "json.h"

const struct json_limits json_limits_default = {
	.max_size = 64 * 1024,
	.max_depth = 16,
	.max_string = 8 * 1024,
	.max_values = 8192,
};

/* ---- arena ------------------------------------------------------------ */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	unsigned char data[];
};

struct arena {
	struct arena_chunk *head;
};

static void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t size;

	n = (n + 15) & ~(size_t)15;
	if (c == NULL || c->size - c->used < n) {
		size = n > 8192 ? n : 8192;
		c = malloc(sizeof(*c) + size);
		if (c == NULL)
			return NULL;
		c->used = 0;
		c->size = size;
		c->next = a->head;
		a->head = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

static void
arena_free(struct arena *a)
{
	struct arena_chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
}

/* ---- UTF-8 ------------------------------------------------------------ */

size_t
utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* RFC 3629 section 3: overlong forms, surrogates, > U+10FFFF */
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n + 1;
	}
	return len;
}

static int
hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Value of the \uXXXX escape at s (s[0] == '\\'), or -1. */
static long
escape_value(const unsigned char *s, size_t avail)
{
	long v = 0;

	if (avail < 6 || s[1] != 'u')
		return -1;
	for (int k = 2; k < 6; k++) {
		int d = hex_digit(s[k]);
		if (d < 0)
			return -1;
		v = (v << 4) | d;
	}
	return v;
}

/*
 * The pre-scan.  Returns the offset of the first offending byte or len.
 * Malformed escapes that are not about surrogates or NUL are left to yajl,
 * which reports them itself.
 */
static size_t
prescan(const unsigned char *s, size_t len, const char **why)
{
	size_t bad = utf8_check(s, len);
	bool in_string = false;

	if (bad != len) {
		*why = "invalid UTF-8";
		return bad;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\0') {
			*why = "NUL byte";
			return i;
		}
		if (!in_string) {
			if (s[i] == '"')
				in_string = true;
			continue;
		}
		if (s[i] == '"') {
			in_string = false;
		} else if (s[i] == '\\' && i + 1 < len) {
			long v = escape_value(s + i, len - i);

			if (s[i + 1] != 'u' || v < 0) {
				i++;
				continue;
			}
			if (v == 0) {
				*why = "escaped NUL (\\u0000)";
				return i;
			}
			if (v >= 0xdc00 && v <= 0xdfff) {
				*why = "lone low surrogate escape";
				return i;
			}
			if (v >= 0xd800 && v <= 0xdbff) {
				long lo = i + 6 < len ? escape_value(s + i + 6,
				    len - i - 6) : -1;
				if (lo < 0xdc00 || lo > 0xdfff) {
					*why = "lone high surrogate escape";
					return i;
				}
				i += 11;
				continue;
			}
			i += 5;
		}
	}
	return len;
}

/* ---- parser ----------------------------------------------------------- */

/* A value under construction: children kept as a list until it closes. */
struct build_node {
	struct json_value *value;
	struct build_child *first, *last;
	size_t count;
	const char *pending_key; /* objects: key waiting for its value */
	size_t pending_key_len;
	size_t index;            /* arrays: index of the next element */
};

struct build_child {
	struct build_child *next;
	const char *key;
	size_t key_len;
	struct json_value *value;
};

struct parse_ctx {
	struct arena arena;
	const struct json_limits *limits;
	struct build_node stack[64];
	unsigned depth;
	size_t values;
	struct json_value *root;
	struct trace_error *err;
	bool failed;
};

/* Path of the current position, "a.b[2].c", for error messages. */
static void
ctx_path(const struct parse_ctx *ctx, const char *leaf, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned d = 0; d < ctx->depth && used < size; d++) {
		const struct build_node *n = &ctx->stack[d];
		int w = 0;

		if (n->value->type == JSON_ARRAY)
			w = snprintf(buf + used, size - used, "[%zu]",
			    n->index);
		else if (n->pending_key != NULL)
			w = snprintf(buf + used, size - used, "%s%s",
			    used > 0 ? "." : "", n->pending_key);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (leaf != NULL && used < size)
		snprintf(buf + used, size - used, "%s%s", used > 0 ? "." : "",
		    leaf);
}

static int
ctx_fail(struct parse_ctx *ctx, enum trace_status status, const char *code,
    const char *leaf, const char *msg)
{
	char path[TRACE_ERROR_FIELD_MAX];

	ctx_path(ctx, leaf, path, sizeof(path));
	trace_error_set(ctx->err, status, code, path, "%s%s%s", msg,
	    path[0] != '\0' ? " at " : "", path);
	ctx->failed = true;
	return 0;
}

static struct json_value *
ctx_new_value(struct parse_ctx *ctx, enum json_type type)
{
	struct json_value *v;

	if (++ctx->values > ctx->limits->max_values) {
		ctx_fail(ctx, TRACE_ETOOBIG, "too_many_values", NULL,
		    "too many values");
		return NULL;
	}
	v = arena_alloc(&ctx->arena, sizeof(*v));
	if (v == NULL) {
		ctx_fail(ctx, TRACE_ENOMEM, NULL, NULL, "out of memory");
		return NULL;
	}
	memset(v, 0, sizeof(*v));
	v->type = type;
	return v;
}

/* Attach a finished value to its parent (or make it the root). */
static int
ctx_attach(struct parse_ctx *ctx, struct json_value *v)
{
	struct build_node *parent;
	struct build_child *c;

	if (ctx->depth == 0) {
		ctx->root = v;
		return 1;
	}
	parent = &ctx->stack[ctx->depth - 1];
	c = arena_alloc(&ctx->arena, sizeof(*c));
	if (c == NULL)
		return ctx_fail(ctx, TRACE_ENOMEM, NULL, NULL, "out of memory");
	c->next = NULL;
	c->key = parent->pending_key;
	c->key_len = parent->pending_key_len;
	c->value = v;
	if (parent->last != NULL)
		parent->last->next = c;
	else
		parent->first = c;
	parent->last = c;
	parent->count++;
	parent->pending_key = NULL;
	if (parent->value->type == JSON_ARRAY)
		parent->index++;
	return 1;
}

static int
cb_null(void *p)
{
	struct parse_ctx *ctx = p;
	struct json_value *v = ctx_new_value(ctx, JSON_NULL);

	return v != NULL && ctx_attach(ctx, v);
}

static int
cb_boolean(void *p, int b)
{
	struct parse_ctx *ctx = p;
	struct json_value *v = ctx_new_value(ctx, JSON_BOOL);

	if (v == NULL)
		return 0;
	v->u.boolean = b != 0;
	return ctx_attach(ctx, v);
}

/*
 * yajl hands us the number's text (we registered yajl_number), so floats
 * and out-of-range integers are refused here with a clear message instead
 * of being rounded.
 */
static int
cb_number(void *p, const char *s, size_t len)
{
	struct parse_ctx *ctx = p;
	struct json_value *v;
	char buf[32];
	char *end;
	long long n;

	if (memchr(s, '.', len) || memchr(s, 'e', len) || memchr(s, 'E', len))
		return ctx_fail(ctx, TRACE_EMALFORMED, "float_not_allowed",
		    NULL, "only integers are allowed");
	if (len >= sizeof(buf))
		return ctx_fail(ctx, TRACE_EMALFORMED, "integer_out_of_range",
		    NULL, "integer out of range");
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	n = strtoll(buf, &end, 10);
	if (errno != 0 || *end != '\0')
		return ctx_fail(ctx, TRACE_EMALFORMED, "integer_out_of_range",
		    NULL, "integer out of range");
	if ((v = ctx_new_value(ctx, JSON_INT)) == NULL)
		return 0;
	v->u.integer = n;
	return ctx_attach(ctx, v);
}

static char *
ctx_copy_string(struct parse_ctx *ctx, const unsigned char *s, size_t len)
{
	char *copy;

	if (len > ctx->limits->max_string) {
		ctx_fail(ctx, TRACE_ETOOBIG, "string_too_long", NULL,
		    "string too long");
		return NULL;
	}
	/* The pre-scan refused NUL bytes; this guards against a change there. */
	if (memchr(s, '\0', len) != NULL) {
		ctx_fail(ctx, TRACE_EMALFORMED, "nul_byte", NULL, "NUL in string");
		return NULL;
	}
	copy = arena_alloc(&ctx->arena, len + 1);
	if (copy == NULL) {
		ctx_fail(ctx, TRACE_ENOMEM, NULL, NULL, "out of memory");
		return NULL;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

static int
cb_string(void *p, const unsigned char *s, size_t len)
{
	struct parse_ctx *ctx = p;
	struct json_value *v;
	char *copy;

	if ((copy = ctx_copy_string(ctx, s, len)) == NULL)
		return 0;
	if ((v = ctx_new_value(ctx, JSON_STRING)) == NULL)
		return 0;
	v->u.string.ptr = copy;
	v->u.string.len = len;
	return ctx_attach(ctx, v);
}

static int
ctx_open(struct parse_ctx *ctx, enum json_type type)
{
	struct json_value *v;
	struct build_node *n;

	if (ctx->depth >= ctx->limits->max_depth ||
	    ctx->depth >= sizeof(ctx->stack) / sizeof(ctx->stack[0]))
		return ctx_fail(ctx, TRACE_EMALFORMED, "too_deep", NULL,
		    "nesting too deep");
	if ((v = ctx_new_value(ctx, type)) == NULL)
		return 0;
	n = &ctx->stack[ctx->depth++];
	memset(n, 0, sizeof(*n));
	n->value = v;
	return 1;
}

static int
cb_start_map(void *p)
{
	return ctx_open(p, JSON_OBJECT);
}

static int
cb_start_array(void *p)
{
	return ctx_open(p, JSON_ARRAY);
}

static int
cb_map_key(void *p, const unsigned char *key, size_t len)
{
	struct parse_ctx *ctx = p;
	struct build_node *n = &ctx->stack[ctx->depth - 1];
	char *copy;

	if ((copy = ctx_copy_string(ctx, key, len)) == NULL)
		return 0;
	n->pending_key = copy;
	n->pending_key_len = len;
	return 1;
}

static int
member_cmp(const void *a, const void *b)
{
	const struct json_member *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/*
 * Duplicate keys: yajl reports every key, so we look for repeats when the
 * object closes.  Small objects compare pairwise; large ones sort a copy so
 * a hostile document cannot make this quadratic.
 */
static const struct json_member *
find_duplicate(struct parse_ctx *ctx, const struct json_member *m, size_t n)
{
	struct json_member *sorted;

	if (n <= 16) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = 0; j < i; j++)
				if (member_cmp(&m[i], &m[j]) == 0)
					return &m[i];
		return NULL;
	}
	sorted = arena_alloc(&ctx->arena, n * sizeof(*sorted));
	if (sorted == NULL)
		return NULL;
	memcpy(sorted, m, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), member_cmp);
	for (size_t i = 1; i < n; i++)
		if (member_cmp(&sorted[i], &sorted[i - 1]) == 0)
			return &sorted[i];
	return NULL;
}

static int
cb_end_map(void *p)
{
	struct parse_ctx *ctx = p;
	struct build_node *n = &ctx->stack[ctx->depth - 1];
	struct json_member *members = NULL;
	const struct json_member *dup;
	struct build_child *c;
	size_t i = 0;

	if (n->count > 0) {
		members = arena_alloc(&ctx->arena, n->count * sizeof(*members));
		if (members == NULL)
			return ctx_fail(ctx, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
		for (c = n->first; c != NULL; c = c->next, i++) {
			members[i].key = c->key;
			members[i].key_len = c->key_len;
			members[i].value = c->value;
		}
		if ((dup = find_duplicate(ctx, members, n->count)) != NULL)
			return ctx_fail(ctx, TRACE_EMALFORMED, "duplicate_key",
			    dup->key, "duplicate key");
	}
	n->value->u.object.members = members;
	n->value->u.object.count = n->count;
	ctx->depth--;
	return ctx_attach(ctx, n->value);
}

static int
cb_end_array(void *p)
{
	struct parse_ctx *ctx = p;
	struct build_node *n = &ctx->stack[ctx->depth - 1];
	const struct json_value **items = NULL;
	struct build_child *c;
	size_t i = 0;

	if (n->count > 0) {
		items = arena_alloc(&ctx->arena, n->count * sizeof(*items));
		if (items == NULL)
			return ctx_fail(ctx, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
		for (c = n->first; c != NULL; c = c->next)
			items[i++] = c->value;
	}
	n->value->u.array.items = items;
	n->value->u.array.count = n->count;
	ctx->depth--;
	return ctx_attach(ctx, n->value);
}

static const yajl_callbacks parse_callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_boolean,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_map_key,
	.yajl_end_map = cb_end_map,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_end_array,
};

struct json_doc {
	struct arena arena;
	const struct json_value *root;
};

/* yajl's own message for a syntax error, without its verbose context. */
static void
syntax_error(yajl_handle h, const char *buf, size_t len, struct trace_error *err)
{
	unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)buf, len);
	size_t at = yajl_get_bytes_consumed(h);
	char field[32];
	size_t n;

	snprintf(field, sizeof(field), "@%zu", at);
	n = msg != NULL ? strlen((char *)msg) : 0;
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	trace_error_set(err, TRACE_EMALFORMED, "invalid_json", field,
	    "invalid JSON at byte %zu: %s", at,
	    msg != NULL ? (char *)msg : "syntax error");
	if (msg != NULL)
		yajl_free_error(h, msg);
}

enum trace_status
json_parse(const char *buf, size_t len, const struct json_limits *limits,
    struct json_doc **out, struct trace_error *err)
{
	struct parse_ctx ctx;
	struct json_doc *doc;
	yajl_handle h = NULL;
	yajl_status st;
	enum trace_status rc;
	const char *why = NULL;
	size_t bad;
	char field[32];

	*out = NULL;
	if (limits == NULL)
		limits = &json_limits_default;
	if (len > limits->max_size)
		return trace_error_set(err, TRACE_ETOOBIG, "too_large", NULL,
		    "JSON of %zu bytes is over the limit of %zu", len,
		    limits->max_size);
	bad = prescan((const unsigned char *)buf, len, &why);
	if (bad != len) {
		snprintf(field, sizeof(field), "@%zu", bad);
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_text",
		    field, "%s at byte %zu", why, bad);
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.limits = limits;
	ctx.err = err;
	h = yajl_alloc(&parse_callbacks, NULL, &ctx);
	if (h == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	yajl_config(h, yajl_allow_comments, 0);
	yajl_config(h, yajl_dont_validate_strings, 0);
	yajl_config(h, yajl_allow_trailing_garbage, 0);
	yajl_config(h, yajl_allow_multiple_values, 0);
	yajl_config(h, yajl_allow_partial_values, 0);

	st = yajl_parse(h, (const unsigned char *)buf, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	if (st != yajl_status_ok) {
		if (ctx.failed)
			rc = err != NULL ? err->status : TRACE_EMALFORMED;
		else {
			syntax_error(h, buf, len, err);
			rc = TRACE_EMALFORMED;
		}
		goto out;
	}
	if (ctx.root == NULL) {
		rc = trace_error_set(err, TRACE_EMALFORMED, "invalid_json",
		    NULL, "empty input");
		goto out;
	}
	doc = malloc(sizeof(*doc));
	if (doc == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	doc->arena = ctx.arena;
	doc->root = ctx.root;
	ctx.arena.head = NULL;
	*out = doc;
	rc = TRACE_OK;
out:
	yajl_free(h);
	arena_free(&ctx.arena);
	return rc;
}

const struct json_value *
json_doc_root(const struct json_doc *doc)
{
	return doc != NULL ? doc->root : NULL;
}

void
json_doc_free(struct json_doc *doc)
{
	if (doc == NULL)
		return;
	arena_free(&doc->arena);
	free(doc);
}

/* ---- accessors -------------------------------------------------------- */

const struct json_value *
json_object_get(const struct json_value *obj, const char *key)
{
	size_t len;

	if (obj == NULL || obj->type != JSON_OBJECT)
		return NULL;
	len = strlen(key);
	for (size_t i = 0; i < obj->u.object.count; i++) {
		const struct json_member *m = &obj->u.object.members[i];
		if (m->key_len == len && memcmp(m->key, key, len) == 0)
			return m->value;
	}
	return NULL;
}

enum trace_status
json_object_only(const struct json_value *obj, const char *const *allowed,
    struct trace_error *err)
{
	for (size_t i = 0; i < obj->u.object.count; i++) {
		const struct json_member *m = &obj->u.object.members[i];
		bool known = false;

		for (size_t k = 0; allowed[k] != NULL && !known; k++)
			known = strlen(allowed[k]) == m->key_len &&
			    memcmp(allowed[k], m->key, m->key_len) == 0;
		if (!known)
			return trace_error_set(err, TRACE_EMALFORMED,
			    "unknown_field", m->key, "unknown field \"%s\"",
			    m->key);
	}
	return TRACE_OK;
}

static const char *
type_name(enum json_type t)
{
	static const char *const names[] = {
		"null", "boolean", "integer", "string", "array", "object",
	};
	return names[t];
}

static enum trace_status
get_typed(const struct json_value *obj, const char *key, bool required,
    enum json_type want, const struct json_value **out,
    struct trace_error *err)
{
	const struct json_value *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL) {
		if (!required)
			return TRACE_OK;
		return trace_error_set(err, TRACE_EMALFORMED, "missing_field",
		    key, "missing required field \"%s\"", key);
	}
	if (v->type != want)
		return trace_error_set(err, TRACE_EMALFORMED, "wrong_type", key,
		    "field \"%s\" must be %s %s, not %s", key,
		    want == JSON_ARRAY || want == JSON_OBJECT ||
		    want == JSON_INT ? "an" : "a", type_name(want),
		    type_name(v->type));
	*out = v;
	return TRACE_OK;
}

enum trace_status
json_get_string(const struct json_value *obj, const char *key, bool required,
    const char **str, size_t *len, struct trace_error *err)
{
	const struct json_value *v;
	enum trace_status rc = get_typed(obj, key, required, JSON_STRING, &v,
	    err);

	*str = NULL;
	if (len != NULL)
		*len = 0;
	if (rc == TRACE_OK && v != NULL) {
		*str = v->u.string.ptr;
		if (len != NULL)
			*len = v->u.string.len;
	}
	return rc;
}

enum trace_status
json_get_int(const struct json_value *obj, const char *key, bool required,
    long long *value, struct trace_error *err)
{
	const struct json_value *v;
	enum trace_status rc = get_typed(obj, key, required, JSON_INT, &v, err);

	if (rc == TRACE_OK && v != NULL)
		*value = v->u.integer;
	return rc;
}

enum trace_status
json_get_bool(const struct json_value *obj, const char *key, bool required,
    bool *value, struct trace_error *err)
{
	const struct json_value *v;
	enum trace_status rc = get_typed(obj, key, required, JSON_BOOL, &v, err);

	if (rc == TRACE_OK && v != NULL)
		*value = v->u.boolean;
	return rc;
}

enum trace_status
json_get_object(const struct json_value *obj, const char *key, bool required,
    const struct json_value **value, struct trace_error *err)
{
	const struct json_value *v;
	enum trace_status rc = get_typed(obj, key, required, JSON_OBJECT, &v,
	    err);

	if (rc == TRACE_OK && v != NULL)
		*value = v;
	return rc;
}

enum trace_status
json_get_array(const struct json_value *obj, const char *key, bool required,
    const struct json_value **value, struct trace_error *err)
{
	const struct json_value *v;
	enum trace_status rc = get_typed(obj, key, required, JSON_ARRAY, &v,
	    err);

	if (rc == TRACE_OK && v != NULL)
		*value = v;
	return rc;
}

/* ---- writer ----------------------------------------------------------- */

struct json_writer {
	yajl_gen gen;
	yajl_gen_status status;
};

struct json_writer *
json_writer_new(bool pretty)
{
	struct json_writer *w = malloc(sizeof(*w));

	if (w == NULL)
		return NULL;
	w->gen = yajl_gen_alloc(NULL);
	if (w->gen == NULL) {
		free(w);
		return NULL;
	}
	yajl_gen_config(w->gen, yajl_gen_validate_utf8, 1);
	yajl_gen_config(w->gen, yajl_gen_beautify, pretty ? 1 : 0);
	w->status = yajl_gen_status_ok;
	return w;
}

void
json_writer_free(struct json_writer *w)
{
	if (w == NULL)
		return;
	yajl_gen_free(w->gen);
	free(w);
}

#define WRITE(w, call)                                                       \
	do {                                                                 \
		if ((w) != NULL && (w)->status == yajl_gen_status_ok)        \
			(w)->status = (call);                                \
	} while (0)

void
json_writer_object_open(struct json_writer *w)
{
	WRITE(w, yajl_gen_map_open(w->gen));
}

void
json_writer_object_close(struct json_writer *w)
{
	WRITE(w, yajl_gen_map_close(w->gen));
}

void
json_writer_array_open(struct json_writer *w)
{
	WRITE(w, yajl_gen_array_open(w->gen));
}

void
json_writer_array_close(struct json_writer *w)
{
	WRITE(w, yajl_gen_array_close(w->gen));
}

void
json_writer_string(struct json_writer *w, const char *s, size_t len)
{
	WRITE(w, yajl_gen_string(w->gen, (const unsigned char *)s, len));
}

void
json_writer_cstring(struct json_writer *w, const char *s)
{
	json_writer_string(w, s, strlen(s));
}

void
json_writer_key(struct json_writer *w, const char *key)
{
	json_writer_string(w, key, strlen(key));
}

void
json_writer_int(struct json_writer *w, long long v)
{
	WRITE(w, yajl_gen_integer(w->gen, v));
}

void
json_writer_bool(struct json_writer *w, bool v)
{
	WRITE(w, yajl_gen_bool(w->gen, v));
}

void
json_writer_null(struct json_writer *w)
{
	WRITE(w, yajl_gen_null(w->gen));
}

void
json_writer_value(struct json_writer *w, const struct json_value *v)
{
	switch (v->type) {
	case JSON_NULL:
		json_writer_null(w);
		break;
	case JSON_BOOL:
		json_writer_bool(w, v->u.boolean);
		break;
	case JSON_INT:
		json_writer_int(w, v->u.integer);
		break;
	case JSON_STRING:
		json_writer_string(w, v->u.string.ptr, v->u.string.len);
		break;
	case JSON_ARRAY:
		json_writer_array_open(w);
		for (size_t i = 0; i < v->u.array.count; i++)
			json_writer_value(w, v->u.array.items[i]);
		json_writer_array_close(w);
		break;
	case JSON_OBJECT:
		json_writer_object_open(w);
		for (size_t i = 0; i < v->u.object.count; i++) {
			const struct json_member *m = &v->u.object.members[i];
			json_writer_string(w, m->key, m->key_len);
			json_writer_value(w, m->value);
		}
		json_writer_object_close(w);
		break;
	}
}

enum trace_status
json_writer_result(struct json_writer *w, const char **buf, size_t *len,
    struct trace_error *err)
{
	const unsigned char *b;
	size_t n;

	if (w == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	if (w->status != yajl_gen_status_ok)
		return trace_error_set(err, TRACE_EMALFORMED, "json_write",
		    NULL, "cannot write JSON (%s)",
		    w->status == yajl_gen_invalid_string ? "invalid UTF-8" :
		    "unbalanced or out of place value");
	yajl_gen_get_buf(w->gen, &b, &n);
	*buf = (const char *)b;
	*len = n;
	return TRACE_OK;
}
