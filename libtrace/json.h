/*
 * json.h - strict JSON: a parser on yajl's callback API that builds a small
 * read-only tree, typed accessors that report the offending field, and a
 * writer on yajl_gen.
 *
 * "Strict" is docs/PROTOCOL.md section 3.1: valid UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF, no lone \uD800 escapes), no NUL byte raw or
 * escaped, no duplicate keys, integers only, no comments, no trailing data,
 * and bounds on size, depth, string length and value count.  Every rejection
 * names the field (as a JSON path) or the byte offset.
 */
#ifndef TRACE_JSON_H
#define TRACE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_INT,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_value;

struct json_member {
	const char *key;              /* NUL-terminated, valid UTF-8 */
	size_t key_len;
	const struct json_value *value;
};

struct json_value {
	enum json_type type;
	union {
		bool boolean;
		long long integer;
		struct {
			const char *ptr; /* NUL-terminated, no interior NUL */
			size_t len;
		} string;
		struct {
			const struct json_value *const *items;
			size_t count;
		} array;
		struct {
			const struct json_member *members; /* in input order */
			size_t count;
		} object;
	} u;
};

struct json_limits {
	size_t max_size;     /* bytes of input */
	unsigned max_depth;  /* nesting of arrays and objects */
	size_t max_string;   /* bytes of one string or key, after unescaping */
	size_t max_values;   /* values in the whole document */
};

/* 64 KiB, depth 16, 8 KiB strings, 8192 values: a single statement. */
extern const struct json_limits json_limits_default;

struct json_doc;

/*
 * Parse len bytes of buf.  On TRACE_OK *out holds a document the caller
 * frees with json_doc_free().  Errors: TRACE_ETOOBIG for input over
 * max_size, TRACE_EMALFORMED for everything else, with err->field set to the
 * path of the offending value or to "@<offset>" for a lexical error.
 */
enum trace_status json_parse(const char *buf, size_t len,
    const struct json_limits *limits, struct json_doc **out,
    struct trace_error *err);

const struct json_value *json_doc_root(const struct json_doc *doc);
void json_doc_free(struct json_doc *doc);

/* Member of an object by key, or NULL (also when obj is not an object). */
const struct json_value *json_object_get(const struct json_value *obj,
    const char *key);

/*
 * Fail with TRACE_EMALFORMED ("unknown_field", naming it) if obj has a key
 * not in the NULL-terminated list allowed.
 */
enum trace_status json_object_only(const struct json_value *obj,
    const char *const *allowed, struct trace_error *err);

/*
 * Typed member getters.  A missing member is an error ("missing_field") when
 * required; otherwise they return TRACE_OK and leave the output untouched,
 * so it may hold a default - except json_get_string, which sets *str to NULL
 * (and *len to 0): absent is NULL, never a stale pointer.  A member of the
 * wrong type is "wrong_type".  All errors are TRACE_EMALFORMED and name the
 * key.
 */
enum trace_status json_get_string(const struct json_value *obj,
    const char *key, bool required, const char **str, size_t *len,
    struct trace_error *err);
enum trace_status json_get_int(const struct json_value *obj, const char *key,
    bool required, long long *value, struct trace_error *err);
enum trace_status json_get_bool(const struct json_value *obj, const char *key,
    bool required, bool *value, struct trace_error *err);
enum trace_status json_get_object(const struct json_value *obj,
    const char *key, bool required, const struct json_value **value,
    struct trace_error *err);
enum trace_status json_get_array(const struct json_value *obj,
    const char *key, bool required, const struct json_value **value,
    struct trace_error *err);

/* Strictly validate UTF-8 (RFC 3629).  Returns the offset of the first bad
 * byte, or len when all is valid. */
size_t utf8_check(const unsigned char *s, size_t len);

/*
 * The writer.  Errors are sticky: after the first failing call the others do
 * nothing and json_writer_finish() reports it.  Strings must be valid UTF-8.
 */
struct json_writer;

struct json_writer *json_writer_new(bool pretty);
void json_writer_free(struct json_writer *w);
void json_writer_object_open(struct json_writer *w);
void json_writer_object_close(struct json_writer *w);
void json_writer_array_open(struct json_writer *w);
void json_writer_array_close(struct json_writer *w);
void json_writer_key(struct json_writer *w, const char *key);
void json_writer_string(struct json_writer *w, const char *s, size_t len);
void json_writer_cstring(struct json_writer *w, const char *s);
void json_writer_int(struct json_writer *w, long long v);
void json_writer_bool(struct json_writer *w, bool v);
void json_writer_null(struct json_writer *w);
/* Write a parsed value (and everything under it) again. */
void json_writer_value(struct json_writer *w, const struct json_value *v);

/*
 * The finished text (not NUL-terminated; valid until the writer is freed or
 * written to again).  Returns TRACE_OK, or the first error.
 */
enum trace_status json_writer_result(struct json_writer *w, const char **buf,
    size_t *len, struct trace_error *err);

#endif
