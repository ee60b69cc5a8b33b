/*
 * tlogpolicy.c - C2SP tlog-policy files (c2sp.org/tlog-policy) and the
 * quorum check of a cosigned checkpoint.
 *
 * The file is octets, not text: names are compared byte for byte and
 * high-bit octets are opaque (tlog-policy "Character set").  Names refer
 * only to earlier lines, so groups form a DAG in file order and the
 * quorum is evaluated in one pass over the groups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosign.h"
#include "encoding.h"
#include "tlogpolicy.h"

#define ITEMS_MAX (3 + TLOG_POLICY_WITNESSES_MAX + TLOG_POLICY_GROUPS_MAX)

struct item {
	const char *s;
	size_t len;
};

static bool
item_is(const struct item *it, const char *word)
{
	return it->len == strlen(word) && memcmp(it->s, word, it->len) == 0;
}

/* "whitespace ... means sequences of ASCII space and tab characters
 * only" (tlog-policy "Structure"). */
static size_t
split_items(const char *line, size_t len, struct item *items, size_t max,
    bool *too_many)
{
	size_t n = 0, i = 0;

	*too_many = false;
	while (i < len) {
		size_t start;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		if (n == max) {
			*too_many = true;
			return n;
		}
		items[n].s = line + start;
		items[n].len = i - start;
		n++;
	}
	return n;
}

/* A defined witness or group by name, as a member code; -2 if none. */
static int
name_lookup(const struct tlog_policy *p, const struct item *it)
{
	for (size_t i = 0; i < p->witness_count; i++)
		if (item_is(it, p->witnesses[i].name))
			return (int)i;
	for (size_t i = 0; i < p->group_count; i++)
		if (item_is(it, p->groups[i].name))
			return TLOG_POLICY_GROUP_BASE + (int)i;
	return -2;
}

static enum trace_status
line_error(struct trace_error *err, size_t lineno, const char *code,
    const char *msg)
{
	char field[32];

	snprintf(field, sizeof(field), "line %zu", lineno);
	return trace_error_set(err, TRACE_EMALFORMED, code, field,
	    "policy line %zu: %s", lineno, msg);
}

static enum trace_status
copy_text(char *dst, size_t size, const struct item *it, size_t lineno,
    const char *what, struct trace_error *err)
{
	if (it->len >= size)
		return line_error(err, lineno, "too_long", what);
	memcpy(dst, it->s, it->len);
	dst[it->len] = '\0';
	return TRACE_OK;
}

/* A new name: not "none", not defined before (witnesses and groups share
 * one namespace). */
static enum trace_status
new_name(const struct tlog_policy *p, const struct item *it, char *dst,
    size_t lineno, struct trace_error *err)
{
	if (item_is(it, "none"))
		return line_error(err, lineno, "reserved_name",
		    "\"none\" is predefined");
	if (name_lookup(p, it) != -2)
		return line_error(err, lineno, "duplicate_name",
		    "the name is already defined");
	return copy_text(dst, TLOG_POLICY_NAME_MAX + 1, it, lineno,
	    "a name has at most 255 bytes", err);
}

static enum trace_status
parse_log(struct tlog_policy *p, const struct item *items, size_t n,
    size_t lineno, struct trace_error *err)
{
	struct tlog_policy_log *log;
	enum trace_status st;

	if (n < 2 || n > 3)
		return line_error(err, lineno, "bad_line",
		    "log <vkey> [<url>]");
	if (p->log_count == TLOG_POLICY_LOGS_MAX)
		return line_error(err, lineno, "too_many_logs",
		    "at most 32 logs");
	log = &p->logs[p->log_count];
	/* A checkpoint signature: signed-note Ed25519, type 0x01. */
	st = note_verifier_parse(items[1].s, items[1].len, &log->key, err);
	if (st != TRACE_OK)
		return line_error(err, lineno, "bad_vkey",
		    "not a log vkey (Ed25519, type 0x01)");
	/* "Duplicate logs, i.e., multiple log lines with the same public
	 * key, are not allowed." */
	for (size_t i = 0; i < p->log_count; i++)
		if (memcmp(p->logs[i].key.public_key, log->key.public_key,
		    ED25519_PUBLIC_LEN) == 0)
			return line_error(err, lineno, "duplicate_log",
			    "a log with this public key is already listed");
	if (n == 3 && (st = copy_text(log->url, sizeof(log->url), &items[2],
	    lineno, "the URL is too long", err)) != TRACE_OK)
		return st;
	p->log_count++;
	return TRACE_OK;
}

static enum trace_status
parse_witness(struct tlog_policy *p, const struct item *items, size_t n,
    size_t lineno, struct trace_error *err)
{
	struct tlog_policy_witness *w;
	enum trace_status st;

	if (n < 3 || n > 4)
		return line_error(err, lineno, "bad_line",
		    "witness <name> <vkey> [<url>]");
	if (p->witness_count == TLOG_POLICY_WITNESSES_MAX)
		return line_error(err, lineno, "too_many_witnesses",
		    "at most 32 witnesses");
	w = &p->witnesses[p->witness_count];
	if ((st = new_name(p, &items[1], w->name, lineno, err)) != TRACE_OK)
		return st;
	st = cosign_verifier_parse(items[2].s, items[2].len, &w->key, err);
	if (st != TRACE_OK)
		return line_error(err, lineno, "bad_vkey",
		    "not a witness vkey (cosignature/v1, type 0x04)");
	for (size_t i = 0; i < p->witness_count; i++)
		if (memcmp(p->witnesses[i].key.public_key, w->key.public_key,
		    ED25519_PUBLIC_LEN) == 0)
			return line_error(err, lineno, "duplicate_witness",
			    "a witness with this public key is already listed");
	if (n == 4 && (st = copy_text(w->url, sizeof(w->url), &items[3],
	    lineno, "the URL is too long", err)) != TRACE_OK)
		return st;
	p->witness_count++;
	return TRACE_OK;
}

static enum trace_status
parse_group(struct tlog_policy *p, const struct item *items, size_t n,
    size_t lineno, struct trace_error *err)
{
	struct tlog_policy_group *g;
	enum trace_status st;
	uint64_t k = 0;

	if (n < 4)
		return line_error(err, lineno, "bad_line",
		    "group <name> all|any|<k> <name>...");
	if (p->group_count == TLOG_POLICY_GROUPS_MAX)
		return line_error(err, lineno, "too_many_groups",
		    "at most 32 groups");
	g = &p->groups[p->group_count];
	memset(g, 0, sizeof(*g));
	if ((st = new_name(p, &items[1], g->name, lineno, err)) != TRACE_OK)
		return st;
	for (size_t i = 3; i < n; i++) {
		int m = name_lookup(p, &items[i]);

		if (item_is(&items[i], "none"))
			return line_error(err, lineno, "bad_member",
			    "\"none\" cannot be a group member");
		if (m == -2)
			return line_error(err, lineno, "undefined_name",
			    "a member must be defined on an earlier line");
		/* "Each defined name can be listed as a group member at
		 * most once." */
		for (size_t j = 0; j < g->count; j++)
			if (g->members[j] == m)
				return line_error(err, lineno, "duplicate_member",
				    "a member is listed twice");
		g->members[g->count++] = m;
	}
	if (item_is(&items[2], "all"))
		k = g->count;
	else if (item_is(&items[2], "any"))
		k = 1;
	else if (!decimal_u64_parse(items[2].s, items[2].len, &k) || k < 1 ||
	    k > g->count)
		return line_error(err, lineno, "bad_threshold",
		    "the threshold is all, any or a decimal 1 <= k <= n");
	g->threshold = (size_t)k;
	p->group_count++;
	return TRACE_OK;
}

enum trace_status
tlog_policy_parse(const char *text, size_t len, struct tlog_policy **out,
    struct trace_error *err)
{
	struct item items[ITEMS_MAX];
	struct tlog_policy *p = NULL;
	bool have_quorum = false;
	size_t pos = 0, lineno = 0;
	enum trace_status st;

	*out = NULL;
	if (len > TLOG_POLICY_TEXT_MAX) {
		st = trace_error_set(err, TRACE_ETOOBIG, "policy_too_large",
		    NULL, "a policy is at most %d bytes", TLOG_POLICY_TEXT_MAX);
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		st = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	p->quorum = TLOG_POLICY_NONE;
	while (pos < len) {
		const char *line = text + pos, *nl;
		size_t line_len, n;
		bool too_many;

		lineno++;
		nl = memchr(line, '\n', len - pos);
		if (nl == NULL) {
			st = line_error(err, lineno, "unterminated_line",
			    "every line ends in a newline");
			goto out;
		}
		line_len = (size_t)(nl - line);
		pos += line_len + 1;
		/* Tab, newline, 0x20-0x7e and 0x80-0xff only. */
		for (size_t i = 0; i < line_len; i++) {
			unsigned char c = (unsigned char)line[i];

			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				st = line_error(err, lineno, "control_character",
				    "control characters other than tab are not "
				    "allowed");
				goto out;
			}
		}
		n = split_items(line, line_len, items, ITEMS_MAX, &too_many);
		if (too_many) {
			st = line_error(err, lineno, "too_many_items",
			    "too many items on one line");
			goto out;
		}
		if (n == 0 || items[0].s[0] == '#')
			continue;
		if (item_is(&items[0], "log"))
			st = parse_log(p, items, n, lineno, err);
		else if (item_is(&items[0], "witness"))
			st = parse_witness(p, items, n, lineno, err);
		else if (item_is(&items[0], "group"))
			st = parse_group(p, items, n, lineno, err);
		else if (item_is(&items[0], "quorum")) {
			int q;

			if (have_quorum)
				st = line_error(err, lineno, "duplicate_quorum",
				    "exactly one quorum line");
			else if (n != 2)
				st = line_error(err, lineno, "bad_line",
				    "quorum <name>");
			else if (item_is(&items[1], "none"))
				st = TRACE_OK;
			else if ((q = name_lookup(p, &items[1])) == -2)
				st = line_error(err, lineno, "undefined_name",
				    "the quorum must be defined on an earlier "
				    "line");
			else {
				p->quorum = q;
				st = TRACE_OK;
			}
			have_quorum = true;
		} else
			st = line_error(err, lineno, "unknown_keyword",
			    "a line is log, witness, group or quorum");
		if (st != TRACE_OK)
			goto out;
	}
	if (!have_quorum) {
		st = trace_error_set(err, TRACE_EMALFORMED, "missing_quorum",
		    NULL, "a policy has exactly one quorum line");
		goto out;
	}
	*out = p;
	p = NULL;
	st = TRACE_OK;
out:
	free(p);
	return st;
}

void
tlog_policy_free(struct tlog_policy *policy)
{
	free(policy);
}

bool
tlog_policy_quorum_met(const struct tlog_policy *policy,
    const bool witnessed[TLOG_POLICY_WITNESSES_MAX])
{
	bool group_met[TLOG_POLICY_GROUPS_MAX];

	if (policy->quorum == TLOG_POLICY_NONE)
		return true;
	/* Members are earlier groups only: one pass in file order. */
	for (size_t g = 0; g < policy->group_count; g++) {
		const struct tlog_policy_group *grp = &policy->groups[g];
		size_t met = 0;

		for (size_t i = 0; i < grp->count; i++) {
			int m = grp->members[i];

			if (m >= TLOG_POLICY_GROUP_BASE ?
			    group_met[m - TLOG_POLICY_GROUP_BASE] : witnessed[m])
				met++;
		}
		group_met[g] = met >= grp->threshold;
	}
	return policy->quorum >= TLOG_POLICY_GROUP_BASE ?
	    group_met[policy->quorum - TLOG_POLICY_GROUP_BASE] :
	    witnessed[policy->quorum];
}

enum trace_status
tlog_policy_verify(const struct tlog_policy *policy, const char *note,
    size_t len, struct tlog_policy_result *res, struct trace_error *err)
{
	struct note_parsed parsed;
	enum trace_status st;
	size_t text_len = 0;

	memset(res, 0, sizeof(*res));
	res->log = -1;
	if ((st = note_parse(note, len, &parsed, err)) != TRACE_OK)
		return st;
	if ((st = checkpoint_parse(note, parsed.text_len, &res->checkpoint,
	    err)) != TRACE_OK)
		goto out;
	/* tlog-policy "Defining a log": the vkey's name is the origin. */
	for (size_t i = 0; i < policy->log_count && res->log < 0; i++) {
		const struct note_verifier *key = &policy->logs[i].key;

		if (strcmp(key->name, res->checkpoint.origin) != 0)
			continue;
		st = note_verify(note, len, key, &text_len, err);
		if (st == TRACE_EBADSIG)
			goto out;
		if (st == TRACE_OK)
			res->log = (int)i;
	}
	if (res->log < 0) {
		st = trace_error_set(err, TRACE_EUNKNOWNKEY, "unknown_log",
		    "signatures", "no signature by a log of the policy for "
		    "origin %s", res->checkpoint.origin);
		goto out;
	}
	for (size_t i = 0; i < policy->witness_count; i++) {
		st = cosign_verify_parsed(note, &parsed,
		    &policy->witnesses[i].key, &res->timestamps[i], err);
		if (st == TRACE_EUNKNOWNKEY)
			continue;
		if (st != TRACE_OK)
			goto out;
		res->witnessed[i] = true;
		res->witnessed_count++;
	}
	res->quorum = tlog_policy_quorum_met(policy, res->witnessed);
	if (!res->quorum) {
		st = trace_error_set(err, TRACE_EFORBIDDEN, "quorum_not_met",
		    "signatures", "%zu witnesses cosigned; the quorum is not met",
		    res->witnessed_count);
		goto out;
	}
	st = TRACE_OK;
out:
	note_parsed_clear(&parsed);
	return st;
}
