/*
 * error.h - status codes and the error record every libtrace function fills.
 *
 * A function that can fail returns an enum trace_status and takes a
 * struct trace_error *err (which may be NULL).  The error carries a short
 * machine-readable code ("bad_signature"), the offending field as a JSON path
 * ("data.items[2].name") when there is one, and a human message, so the HTTP
 * layer can answer docs/PROTOCOL.md section 11.2's {"error": {...}} shape and the agent can
 * tell a person what exactly was wrong.
 */
#ifndef TRACE_ERROR_H
#define TRACE_ERROR_H

#include <stddef.h>

enum trace_status {
	TRACE_OK = 0,
	TRACE_EMALFORMED,   /* 400: not parseable, wrong shape */
	TRACE_ETOOBIG,      /* 413: over a size bound */
	TRACE_EBADSIG,      /* 401: signature invalid */
	TRACE_EUNKNOWNKEY,  /* 401: signer key not enrolled */
	TRACE_EFORBIDDEN,   /* 403: role, scope, window or revoked */
	TRACE_ENOTFOUND,    /* 404 */
	TRACE_ECONFLICT,    /* 409: chain head moved */
	TRACE_ERULE,        /* 422: valid JSON that breaks a rule */
	TRACE_ESTORE,       /* 503: store unavailable */
	TRACE_ENOMEM,       /* allocation failed */
	TRACE_EIO,          /* file or system call failed */
	TRACE_EMEDIA,       /* 415: a document of a type not accepted */
	TRACE_EQUOTA,       /* 429: a per-key quota is used up */
	TRACE_EFULL,        /* 507: the store's space for documents is full */
};

#define TRACE_ERROR_CODE_MAX 40
#define TRACE_ERROR_FIELD_MAX 96
#define TRACE_ERROR_MESSAGE_MAX 320

struct trace_error {
	enum trace_status status;
	char code[TRACE_ERROR_CODE_MAX];       /* e.g. "bad_signature" */
	char field[TRACE_ERROR_FIELD_MAX];     /* JSON path, "" when none */
	char message[TRACE_ERROR_MESSAGE_MAX]; /* for people */
};

/*
 * Fill err (if not NULL) and return status.  code and field may be NULL.
 * Strings are truncated to the buffers, never overflowed.
 */
enum trace_status trace_error_set(struct trace_error *err,
    enum trace_status status, const char *code, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Reset err to TRACE_OK with empty strings.  Accepts NULL. */
void trace_error_clear(struct trace_error *err);

/*
 * Prefix err->field with a parent path: "items[2]" + "name" gives
 * "items[2].name".  Used when a nested validator reports a field relative
 * to its own object.  Accepts NULL.
 */
void trace_error_prefix_field(struct trace_error *err, const char *parent);

/* The HTTP status docs/PROTOCOL.md section 11.3 maps a status to (500 for internal ones). */
int trace_status_http(enum trace_status status);

/* A stable short name for a status ("malformed", "bad_signature", ...). */
const char *trace_status_name(enum trace_status status);

#endif
