/*
 * check.h - the few assertions the unit tests need.  Each test program is a
 * main() that calls CHECK* and ends with CHECK_DONE(), which prints a count
 * and returns non-zero if anything failed.  Failures do not stop the
 * program, so one run shows every broken case.
 */
#ifndef TRACE_CHECK_H
#define TRACE_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_run, check_failed;

#define CHECK(cond)                                                          \
	do {                                                                 \
		check_run++;                                                 \
		if (!(cond)) {                                               \
			check_failed++;                                      \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n",         \
			    __FILE__, __LINE__, #cond);                      \
		}                                                            \
	} while (0)

#define CHECK_MSG(cond, ...)                                                 \
	do {                                                                 \
		check_run++;                                                 \
		if (!(cond)) {                                               \
			check_failed++;                                      \
			fprintf(stderr, "%s:%d: CHECK(%s) failed: ",         \
			    __FILE__, __LINE__, #cond);                      \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
		}                                                            \
	} while (0)

#define CHECK_INT(a, b)                                                      \
	do {                                                                 \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
		CHECK_MSG(check_a_ == check_b_, "%s = %lld, want %lld", #a,  \
		    check_a_, check_b_);                                     \
	} while (0)

#define CHECK_STR(a, b)                                                      \
	do {                                                                 \
		const char *check_a_ = (a), *check_b_ = (b);                 \
		CHECK_MSG(check_a_ != NULL && strcmp(check_a_, check_b_) == 0, \
		    "%s = \"%s\", want \"%s\"", #a,                          \
		    check_a_ != NULL ? check_a_ : "(null)", check_b_);       \
	} while (0)

#define CHECK_MEM(a, b, n)                                                   \
	CHECK_MSG(memcmp((a), (b), (n)) == 0, "%s differs from %s", #a, #b)

#define CHECK_DONE()                                                         \
	do {                                                                 \
		printf("%d checks, %d failed\n", check_run, check_failed);   \
		return check_failed == 0 ? 0 : 1;                            \
	} while (0)

/* Path of a public vector file: tests/vectors/NAME from the project root
 * (where run-unit.sh runs the tests), or $TRACE_VECTORS/NAME. */
static inline const char *
vector_path(const char *name)
{
	static char path[1024];
	const char *dir = getenv("TRACE_VECTORS");

	snprintf(path, sizeof(path), "%s/%s",
	    dir != NULL ? dir : "tests/vectors", name);
	return path;
}

#endif
