/*
 * parse.c - the server's parsers of untrusted text (parse.h): query
 * strings, percent-escapes, chain paths, languages, label runs and --redis
 * addresses.
 *
 * Owns the one definition of a query string: every handler that reads
 * parameters goes through parse_query, the strict rules of the recall and
 * EPCIS APIs (issue 7) included, so "?a=1&a=2", "%zz" and "%00" mean the
 * same everywhere.  Nothing here touches civetweb or Redis: the callers
 * hand over the text (req->info->query_string, a header, an option).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "libtrace/encoding.h"
#include "libtrace/json.h"
#include "parse.h"

/* ---- percent-escapes ----------------------------------------------------- */

enum trace_status
parse_percent_decode(const char *s, size_t len, bool plus_is_space,
    char *out, size_t *out_len, struct trace_error *err)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			/* RFC 3986 2.1: "%" HEXDIG HEXDIG, nothing shorter. */
			if (len - i < 3 || (hi = hex_digit_value(s[i + 1])) < 0 ||
			    (lo = hex_digit_value(s[i + 2])) < 0) {
				out[n] = '\0';
				return trace_error_set(err, TRACE_EMALFORMED,
				    "bad_escape", NULL, "a %% is not followed by "
				    "two hex digits");
			}
			out[n++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[n++] = plus_is_space && s[i] == '+' ? ' ' : s[i];
		}
	}
	out[n] = '\0';
	*out_len = n;
	return TRACE_OK;
}

/* ---- query strings ------------------------------------------------------- */

static bool
allowed_name(const char *const *allowed, const char *name, size_t len)
{
	if (strlen(name) != len)
		return false;               /* a decoded NUL */
	for (size_t i = 0; allowed[i] != NULL; i++)
		if (strcmp(allowed[i], name) == 0)
			return true;
	return false;
}

/* The name as err->field when it can be shown: short, valid UTF-8. */
static const char *
printable_name(const char *name)
{
	size_t n = strlen(name);

	return n < 64 && utf8_check((const unsigned char *)name, n) == n ?
	    name : NULL;
}

enum trace_status
parse_query(const char *query, const char *const *allowed,
    enum parse_unknown unknown, struct query_fields *out,
    struct trace_error *err)
{
	enum trace_status rc = TRACE_OK;
	size_t qlen, used = 0;
	const char *p;

	memset(out, 0, sizeof(*out));
	if (query == NULL || *query == '\0')
		return TRACE_OK;
	if ((qlen = strlen(query)) > PARSE_QUERY_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_query", NULL,
		    "the query string is over %d bytes", PARSE_QUERY_MAX);
	/* Decoding never grows the text: one buffer holds every name and
	 * value, each NUL-terminated (at most one more byte per piece). */
	if ((out->storage = malloc(qlen * 2 + 2)) == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	for (p = query; *p != '\0';) {
		const char *end = strchr(p, '&'), *eq;
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		size_t name_in, name_len, value_len = 0;
		char *name = out->storage + used, *value;
		bool value_ok = true;

		if (len == 0)
			goto next;
		eq = memchr(p, '=', len);
		name_in = eq != NULL ? (size_t)(eq - p) : len;
		if (parse_percent_decode(p, name_in, true, name, &name_len,
		    NULL) != TRACE_OK) {
			if (unknown == PARSE_UNKNOWN_IGNORED)
				goto next;  /* cannot be an allowed name */
			rc = trace_error_set(err, TRACE_EMALFORMED, "bad_query",
			    NULL, "a query parameter name has a bad %%-escape");
			goto out;
		}
		if (!allowed_name(allowed, name, name_len)) {
			if (unknown == PARSE_UNKNOWN_IGNORED)
				goto next;
			rc = trace_error_set(err, TRACE_EMALFORMED,
			    "unknown_parameter", printable_name(name),
			    "unknown query parameter");
			goto out;
		}
		used += name_len + 1;
		value = out->storage + used;
		if (eq != NULL)
			value_ok = parse_percent_decode(eq + 1, len - name_in - 1,
			    true, value, &value_len, NULL) == TRACE_OK &&
			    strlen(value) == value_len &&
			    utf8_check((const unsigned char *)value, value_len) ==
			    value_len;
		else
			value[0] = '\0';
		if (!value_ok) {
			rc = trace_error_set(err, TRACE_EMALFORMED,
			    "bad_parameter", name, "%s: bad %%-escape, NUL or "
			    "invalid UTF-8", name);
			goto out;
		}
		used += value_len + 1;
		if (parse_query_get(out, name) != NULL) {
			rc = trace_error_set(err, TRACE_EMALFORMED,
			    "bad_parameter", name, "%s is given more than once",
			    name);
			goto out;
		}
		if (out->count == PARSE_QUERY_FIELDS_MAX) {
			rc = trace_error_set(err, TRACE_EMALFORMED, "bad_query",
			    NULL, "too many parameters");
			goto out;
		}
		/* An empty value is remembered too, to refuse a second one. */
		out->items[out->count++] = (struct query_field){
			.name = name, .value = value_len > 0 ? value : NULL,
			.value_len = value_len,
		};
next:
		if (end == NULL)
			break;
		p = end + 1;
	}
out:
	if (rc != TRACE_OK)
		parse_query_clear(out);
	return rc;
}

const struct query_field *
parse_query_get(const struct query_fields *q, const char *name)
{
	for (size_t i = 0; i < q->count; i++)
		if (strcmp(q->items[i].name, name) == 0)
			return &q->items[i];
	return NULL;
}

const char *
parse_query_value(const struct query_fields *q, const char *name)
{
	const struct query_field *f = parse_query_get(q, name);

	if (f == NULL)
		return NULL;
	return f->value != NULL ? f->value : "";
}

void
parse_query_clear(struct query_fields *q)
{
	if (q == NULL)
		return;
	free(q->storage);
	memset(q, 0, sizeof(*q));
}

/* ---- chain paths --------------------------------------------------------- */

enum trace_status
parse_chain_path(const char *path, char chain[CHAIN_ID_MAX + 1],
    struct trace_error *err)
{
	struct gs1_link link;
	enum trace_status rc;

	if ((rc = gs1_link_parse_path(path, strlen(path), &link, err)) !=
	    TRACE_OK)
		return rc;
	if (link.lot[0] == '\0' || link.serial[0] != '\0')
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_link",
		    "path", "a chain path is /01/{gtin}/10/{lot}");
	gs1_chain_id(link.gtin, link.lot, chain, CHAIN_ID_MAX + 1);
	return TRACE_OK;
}

/* ---- languages ----------------------------------------------------------- */

int
parse_language_tag(const char *tag, size_t len, const char *const *primaries,
    size_t count)
{
	if (len < 2 || (len > 2 && tag[2] != '-' && tag[2] != '_'))
		return -1;
	for (size_t i = 0; i < count; i++)
		if (strncasecmp(tag, primaries[i], 2) == 0)
			return (int)i;
	return -1;
}

/* q of an item's parameters, in thousandths (RFC 9110 12.4.2: at most
 * three decimals); 1000 when there is no q. */
static int
quality(const char *params, size_t len)
{
	const char *end = params + len;
	int q = 1000;

	while (params < end) {
		while (params < end && (*params == ';' || *params == ' '))
			params++;
		if (end - params >= 2 && (params[0] == 'q' || params[0] == 'Q') &&
		    params[1] == '=') {
			const char *v = params + 2;
			int scale = 1000;

			q = 0;
			if (v < end && (*v == '0' || *v == '1'))
				q = (*v++ - '0') * 1000;
			if (v < end && *v == '.')
				for (v++; v < end && *v >= '0' && *v <= '9' &&
				    scale > 1; v++) {
					scale /= 10;
					q += (*v - '0') * scale;
				}
			return q > 1000 ? 1000 : q;
		}
		while (params < end && *params != ';')
			params++;
	}
	return q;
}

int
parse_accept_language(const char *value, const char *const *primaries,
    size_t count)
{
	int best = -1, best_q = 0;

	/* "ko-KR,ko;q=0.9,en-US;q=0.8": the first of the highest q wins. */
	for (const char *p = value; *p != '\0';) {
		const char *item = p, *semi, *end;
		int l, q;

		while (*p != '\0' && *p != ',')
			p++;
		end = p;
		if (*p == ',')
			p++;
		while (item < end && *item == ' ')
			item++;
		for (semi = item; semi < end && *semi != ';' && *semi != ' ';)
			semi++;
		l = parse_language_tag(item, (size_t)(semi - item), primaries,
		    count);
		q = quality(semi, (size_t)(end - semi));
		if (l >= 0 && q > best_q) {
			best = l;
			best_q = q;
		}
	}
	return best;
}

enum trace_status
parse_flag(const char *value, const char *field, bool *out,
    struct trace_error *err)
{
	*out = false;
	if (value == NULL || strcmp(value, "0") == 0)
		return TRACE_OK;
	if (strcmp(value, "1") == 0) {
		*out = true;
		return TRACE_OK;
	}
	return trace_error_set(err, TRACE_EMALFORMED, "bad_param", field,
	    "%s is 0 or 1", field);
}

/* ---- label runs ---------------------------------------------------------- */

enum trace_status
parse_label_run(const char *from, const char *count, struct label_run *run,
    struct trace_error *err)
{
	size_t len, digits = 0;
	char *end;
	long n;

	memset(run, 0, sizeof(*run));
	if (from == NULL)
		from = LABELS_FROM_DEFAULT;
	len = strlen(from);
	if (!gs1_attr_valid(from, len))
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_value",
		    "from", "from must be a serial: 1-20 characters of GS1 "
		    "set 82");
	while (digits < len && from[len - 1 - digits] >= '0' &&
	    from[len - 1 - digits] <= '9')
		digits++;
	if (digits == 0 || digits > LABELS_DIGITS_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_value",
		    "from", "from must end in 1-%d digits to count up from",
		    LABELS_DIGITS_MAX);
	memcpy(run->prefix, from, len - digits);
	run->prefix[len - digits] = '\0';
	run->first = strtoull(from + len - digits, NULL, 10);
	run->width = (int)digits;
	run->count = LABELS_DEFAULT;
	if (count != NULL) {
		n = strtol(count, &end, 10);
		if (count[0] < '0' || count[0] > '9' || *end != '\0' || n < 1 ||
		    n > LABELS_MAX) {
			memset(run, 0, sizeof(*run));
			return trace_error_set(err, TRACE_EMALFORMED, "bad_count",
			    "count", "count is 1 to %d labels", LABELS_MAX);
		}
		run->count = (int)n;
	}
	return TRACE_OK;
}

/* ---- --redis addresses --------------------------------------------------- */

/*
 * "HOST" or "HOST:PORT" (IPv6 in brackets: "[::1]:6379") of len bytes into
 * e; default_port when there is no port.
 */
static bool
endpoint_parse(const char *text, size_t len, int default_port,
    struct store_endpoint *e)
{
	const char *host = text, *colon = NULL;
	size_t hl = len;
	long port = default_port;

	if (len > 0 && text[0] == '[') {
		const char *close = memchr(text, ']', len);

		if (close == NULL)
			return false;
		host = text + 1;
		hl = (size_t)(close - host);
		if (close + 1 < text + len) {
			if (close[1] != ':')
				return false;
			colon = close + 1;
		}
	} else {
		for (size_t i = 0; i < len; i++)
			if (text[i] == ':')
				colon = text + i;
		if (colon != NULL)
			hl = (size_t)(colon - text);
	}
	if (colon != NULL) {
		const char *p = colon + 1, *end = text + len;

		if (p == end || end - p > 5)
			return false;
		for (port = 0; p < end; p++) {
			if (*p < '0' || *p > '9')
				return false;
			port = port * 10 + (*p - '0');
		}
	}
	if (hl == 0 || hl >= sizeof(e->host) || port < 1 || port > 65535)
		return false;
	for (size_t i = 0; i < hl; i++)
		if (host[i] == '/' || host[i] == '@' || host[i] == ',' ||
		    host[i] == ' ')
			return false;
	memcpy(e->host, host, hl);
	e->host[hl] = '\0';
	e->port = (int)port;
	return true;
}

/* "[USER]:PASSWORD@" at the start of rest, if any: moves *rest past it.
 * The last '@' ends it, so a password may hold '@'. */
static bool
userinfo_parse(const char **rest, struct store_address *a)
{
	const char *at = strrchr(*rest, '@'), *colon;
	size_t ul, pl;

	if (at == NULL)
		return true;
	colon = memchr(*rest, ':', (size_t)(at - *rest));
	if (colon == NULL)
		return false;               /* "user@" without a password */
	ul = (size_t)(colon - *rest);
	pl = (size_t)(at - colon - 1);
	if (ul >= sizeof(a->user) || pl == 0 || pl >= sizeof(a->password))
		return false;
	memcpy(a->user, *rest, ul);
	a->user[ul] = '\0';
	memcpy(a->password, colon + 1, pl);
	a->password[pl] = '\0';
	*rest = at + 1;
	return true;
}

enum trace_status
parse_redis_address(const char *url, struct store_address *a,
    struct trace_error *err)
{
	const char *rest, *slash, *p;
	struct store_endpoint e;
	size_t n;

	memset(a, 0, sizeof(*a));
	if (strncmp(url, "unix:", 5) == 0) {
		n = strlen(url + 5);
		if (n == 0 || n >= sizeof(a->path))
			goto bad;
		a->unix_socket = true;
		memcpy(a->path, url + 5, n + 1);
		return TRACE_OK;
	}
	if (strncmp(url, "redis://", 8) == 0) {
		rest = url + 8;
		if (!userinfo_parse(&rest, a))
			goto bad;
		n = strlen(rest);
		if (n > 0 && rest[n - 1] == '/')
			n--;
		if (!endpoint_parse(rest, n, 6379, &e))
			goto bad;
		memcpy(a->host, e.host, sizeof(a->host));
		a->port = e.port;
		return TRACE_OK;
	}
	if (strncmp(url, "sentinel://", 11) != 0)
		goto bad;
	rest = url + 11;
	if (!userinfo_parse(&rest, a))
		goto bad;
	/* The master name is after the last '/', the Sentinels before it. */
	slash = strrchr(rest, '/');
	if (slash == NULL || slash == rest)
		goto bad;
	n = strlen(slash + 1);
	if (n == 0 || n >= sizeof(a->master))
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (slash[1 + i] <= ' ' || slash[1 + i] == 0x7f)
			goto bad;
	memcpy(a->master, slash + 1, n + 1);
	for (p = rest; p < slash; ) {
		const char *comma = memchr(p, ',', (size_t)(slash - p));
		const char *end = comma != NULL ? comma : slash;

		if (a->sentinel_count == STORE_SENTINELS_MAX ||
		    !endpoint_parse(p, (size_t)(end - p), 26379,
		    &a->sentinels[a->sentinel_count]))
			goto bad;
		a->sentinel_count++;
		p = comma != NULL ? comma + 1 : slash;
		if (comma != NULL && p == slash)
			goto bad;               /* trailing comma */
	}
	a->sentinel = true;
	return TRACE_OK;
bad:
	memset(a, 0, sizeof(*a));
	/* Never echo the URL: it may carry a password. */
	return trace_error_set(err, TRACE_EMALFORMED, "bad_redis_url", "redis",
	    "--redis must be redis://[[USER]:PASSWORD@]HOST[:PORT], unix:PATH "
	    "or sentinel://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]...]/NAME");
}
