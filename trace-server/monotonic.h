/*
 * monotonic.h - the clock for durations: every timeout, cache age and
 * latency in trace-server reads CLOCK_MONOTONIC through these (Redis's
 * monotonic.h is the model).  The wall clock (libtrace's time_now) can be
 * stepped by NTP or an operator; an expiry computed from it can then lie
 * in the far future and pin a stale page (one without a new recall's
 * banner), or in the past and disable a cache.  Wall time is for
 * timestamps only: statement times, "issued" dates, scan times.
 */
#ifndef TRACE_MONOTONIC_H
#define TRACE_MONOTONIC_H

#include <time.h>

/* Microseconds since an arbitrary point (boot, on Linux); never steps. */
static inline long long
monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The same in milliseconds. */
static inline long long
monotonic_ms(void)
{
	return monotonic_us() / 1000;
}

#endif
