/*
 * timefmt.h - RFC 3339 timestamps (with offset) and YYYY-MM-DD dates, the
 * only two time formats a payload may carry.
 */
#ifndef TRACE_TIMEFMT_H
#define TRACE_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>

/* "2026-11-20T08:30:00+09:00" plus room for fractions. */
#define TIME_TEXT_MAX 40

/*
 * Parse an RFC 3339 date-time (section 5.6): "T" separator (upper case),
 * seconds required, fraction of at most 9 digits allowed and ignored,
 * "Z" or "+HH:MM"/"-HH:MM".  Fields must be in range (leap seconds refused;
 * days checked against the month and leap years).  On success *unix holds
 * seconds since the epoch (UTC) and *offset_min the offset in minutes.
 */
bool time_parse_rfc3339(const char *s, size_t len, long long *unix_time,
    int *offset_min);

/* A calendar date YYYY-MM-DD (years 1900-9999). */
bool time_parse_date(const char *s, size_t len, long long *unix_day_start);

/* Write t as "YYYY-MM-DDTHH:MM:SSZ" and a NUL (21 bytes). */
void time_format_utc(long long t, char out[21]);

/* Write t in the given offset as "YYYY-MM-DDTHH:MM:SS+HH:MM" (26 bytes). */
void time_format_offset(long long t, int offset_min, char out[26]);

/*
 * A duration as options write it: digits, optionally followed by s, m, h
 * or d (seconds, minutes, hours, days; upper case too), e.g. "3600",
 * "60m", "1h", "30d".  Refuses anything else, 0, and more than 10^12
 * seconds.
 */
bool time_parse_duration(const char *s, long long *seconds);

/* The current time in seconds. */
long long time_now(void);

/* The current time in milliseconds since the epoch. */
long long time_now_ms(void);

#endif
