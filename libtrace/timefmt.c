/*
 * timefmt.c - strict RFC 3339 parsing and UTC formatting.
 *
 * Calendar arithmetic is done by hand (days_from_civil) rather than through
 * timegm() so parsing never depends on the process's time zone or locale.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

static bool
digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool
leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };

	return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long long
days_from_civil(int y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(long long z, int *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static bool
parse_date(const char *s, int *y, int *m, int *d)
{
	return digits(s, 4, y) && s[4] == '-' && digits(s + 5, 2, m) &&
	    s[7] == '-' && digits(s + 8, 2, d) && *y >= 1900 && *m >= 1 &&
	    *m <= 12 && *d >= 1 && *d <= days_in_month(*y, *m);
}

bool
time_parse_date(const char *s, size_t len, long long *unix_day_start)
{
	int y, m, d;

	if (len != 10 || !parse_date(s, &y, &m, &d))
		return false;
	*unix_day_start = days_from_civil(y, m, d) * 86400;
	return true;
}

bool
time_parse_rfc3339(const char *s, size_t len, long long *unix_time,
    int *offset_min)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	size_t i = 19;

	if (len < 20 || len > TIME_TEXT_MAX || !parse_date(s, &y, &mo, &d) ||
	    s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	if (h > 23 || mi > 59 || sec > 59)
		return false;
	if (s[i] == '.') {
		size_t start = ++i;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start || i - start > 9)
			return false;
	}
	if (i == len - 1 && s[i] == 'Z') {
		sign = 0;
	} else if (i == len - 6 && (s[i] == '+' || s[i] == '-') &&
	    digits(s + i + 1, 2, &oh) && s[i + 3] == ':' &&
	    digits(s + i + 4, 2, &om)) {
		if (oh > 23 || om > 59)
			return false;
		sign = s[i] == '+' ? 1 : -1;
	} else {
		return false;
	}
	*offset_min = sign * (oh * 60 + om);
	*unix_time = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec - (long long)*offset_min * 60;
	return true;
}

void
time_format_offset(long long t, int offset_min, char out[26])
{
	long long local = t + (long long)offset_min * 60;
	long long days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
	long long rem = local - days * 86400;
	int y, m, d, a = offset_min < 0 ? -offset_min : offset_min;

	char buf[64];

	civil_from_days(days, &y, &m, &d);
	/* Every field is in range, so this is 25 characters; the larger
	 * buffer only keeps the compiler's truncation analysis quiet. */
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
	    y % 10000, m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
	    (int)(rem % 60), offset_min < 0 ? '-' : '+', (a / 60) % 100, a % 60);
	memcpy(out, buf, 25);
	out[25] = '\0';
}

void
time_format_utc(long long t, char out[21])
{
	char full[26];

	time_format_offset(t, 0, full);
	memcpy(out, full, 19);
	out[19] = 'Z';
	out[20] = '\0';
}

bool
time_parse_duration(const char *s, long long *seconds)
{
	static const char units[] = "smhd";
	static const long long seconds_of[] = { 1, 60, 3600, 86400 };
	long long v = 0, unit = 1;
	const char *p = s;

	for (; *p >= '0' && *p <= '9' && v < 1000000000000000LL; p++)
		v = v * 10 + (*p - '0');
	if (p != s && p[0] != '\0' && p[1] == '\0') {
		const char *u = strchr(units, *p | 0x20);

		if (u != NULL && *u != '\0') {
			unit = seconds_of[u - units];
			p++;
		}
	}
	if (p == s || *p != '\0' || v < 1 || v > 1000000000000LL / unit)
		return false;
	*seconds = v * unit;
	return true;
}

long long
time_now(void)
{
	return (long long)time(NULL);
}

long long
time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
