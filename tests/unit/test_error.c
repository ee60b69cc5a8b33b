/*
 * test_error.c - filling struct trace_error: truncation, and wrapping an
 * error in itself (a caller passing err->message to trace_error_set).
 */
#include <string.h>

#include "libtrace/error.h"
#include "check.h"

static void
test_set(void)
{
	struct trace_error err;

	CHECK_INT(trace_error_set(&err, TRACE_ERULE, NULL, "a.b", "x %d", 7),
	    TRACE_ERULE);
	CHECK_INT(err.status, TRACE_ERULE);
	CHECK_STR(err.code, trace_status_name(TRACE_ERULE));
	CHECK_STR(err.field, "a.b");
	CHECK_STR(err.message, "x 7");
	CHECK_INT(trace_error_set(NULL, TRACE_EIO, "c", NULL, "y"), TRACE_EIO);
}

static void
test_truncated(void)
{
	struct trace_error err;
	char long_text[2 * TRACE_ERROR_MESSAGE_MAX];

	memset(long_text, 'z', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	trace_error_set(&err, TRACE_EIO, long_text, long_text, "%s", long_text);
	CHECK_INT(strlen(err.code), TRACE_ERROR_CODE_MAX - 1);
	CHECK_INT(strlen(err.field), TRACE_ERROR_FIELD_MAX - 1);
	CHECK_INT(strlen(err.message), TRACE_ERROR_MESSAGE_MAX - 1);
}

/*
 * log_mark.c wraps the error of checkpoint_open() as "PATH is not a
 * checkpoint signed by the log key: %s" with err->message.  Formatting into
 * the buffer it read from printed the prefix twice and then whatever the
 * stack held after it (a non-UTF-8 byte failed a test's decoding in CI).
 */
static void
test_wrap_itself(void)
{
	struct trace_error err;
	char want[TRACE_ERROR_MESSAGE_MAX];

	/* Stale bytes after the terminator, as in an unset stack record. */
	memset(&err, 0xf5, sizeof(err));
	trace_error_set(&err, TRACE_EMALFORMED, "inner_code", "f",
	    "the note has no signature line");
	trace_error_set(&err, TRACE_EBADSIG, "log_state", NULL,
	    "%s is not a checkpoint signed by the log key: %s",
	    "/var/lib/trace/log-state/checkpoint", err.message);
	CHECK_STR(err.message, "/var/lib/trace/log-state/checkpoint is not a "
	    "checkpoint signed by the log key: the note has no signature line");
	CHECK_STR(err.code, "log_state");
	CHECK_STR(err.field, "");

	/* The code and field may come from err itself too. */
	trace_error_set(&err, TRACE_ERULE, "rule_a", "items[1]", "first");
	trace_error_set(&err, err.status, err.code, err.field, "%s, then %s",
	    err.message, "second");
	CHECK_STR(err.code, "rule_a");
	CHECK_STR(err.field, "items[1]");
	CHECK_STR(err.message, "first, then second");

	/* A wrap that overflows is cut, not smeared. */
	memset(want, 'm', 200);
	want[200] = '\0';
	trace_error_set(&err, TRACE_EIO, NULL, NULL, "%s", want);
	trace_error_set(&err, TRACE_EIO, NULL, NULL, "%s / %s", err.message,
	    err.message);
	CHECK_INT(strlen(err.message), TRACE_ERROR_MESSAGE_MAX - 1);
	CHECK(strncmp(err.message, want, 200) == 0);
	CHECK(strncmp(err.message + 200, " / ", 3) == 0);
	for (size_t i = 203; i < TRACE_ERROR_MESSAGE_MAX - 1; i++)
		CHECK(err.message[i] == 'm');
}

int
main(void)
{
	test_set();
	test_truncated();
	test_wrap_itself();
	CHECK_DONE();
}
