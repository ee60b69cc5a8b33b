/*
 * i18n.c - the languages of the pages: zh-CN first (the consumers are in
 * China), en and ko (the goods and many inspectors are Korean).  Chooses
 * one per request from ?lang= and then Accept-Language (parse.c reads
 * both), and looks messages up in web/messages.tsv, which the build
 * compiles into the binary.
 *
 * The catalog is parsed once, on first use, into a sorted table that is
 * read-only afterwards, so lookups from every worker need no lock.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pages.h"
#include "parse.h"

struct message {
	const char *key;
	const char *text[LANG_COUNT];
};

static char *catalog;                 /* a writable copy, split in place */
static struct message *messages;
static size_t message_count;
static pthread_once_t catalog_once = PTHREAD_ONCE_INIT;

static const char *const tags[LANG_COUNT] = { "zh-CN", "en", "ko" };
static const char *const native[LANG_COUNT] = { "中文", "English", "한국어" };

const char *
i18n_tag(enum page_lang lang)
{
	return lang < LANG_COUNT ? tags[lang] : tags[LANG_ZH];
}

const char *
i18n_native_name(enum page_lang lang)
{
	return lang < LANG_COUNT ? native[lang] : native[LANG_ZH];
}

static int
message_cmp(const void *a, const void *b)
{
	return strcmp(((const struct message *)a)->key,
	    ((const struct message *)b)->key);
}

/* Lines "key\tzh\ten\tko"; '#' lines and blank lines are comments. */
static void
catalog_load(void)
{
	size_t lines = 1, n = 0;
	char *line, *next;

	if ((catalog = malloc(web_messages_tsv_len + 1)) == NULL)
		return;
	memcpy(catalog, web_messages_tsv, web_messages_tsv_len);
	catalog[web_messages_tsv_len] = '\0';
	for (const char *p = catalog; *p != '\0'; p++)
		lines += *p == '\n';
	if ((messages = calloc(lines, sizeof(*messages))) == NULL)
		return;
	for (line = catalog; line != NULL; line = next) {
		char *field[1 + LANG_COUNT];
		size_t k = 0;

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		field[k++] = line;
		for (char *p = line; *p != '\0' && k < 1 + LANG_COUNT; p++)
			if (*p == '\t') {
				*p = '\0';
				field[k++] = p + 1;
			}
		if (k != 1 + LANG_COUNT)
			continue;
		messages[n].key = field[0];
		for (int l = 0; l < LANG_COUNT; l++)
			messages[n].text[l] = field[1 + l];
		n++;
	}
	qsort(messages, n, sizeof(*messages), message_cmp);
	message_count = n;
}

const char *
i18n_get(enum page_lang lang, const char *key)
{
	struct message probe, *m;

	pthread_once(&catalog_once, catalog_load);
	if (messages == NULL || lang >= LANG_COUNT)
		return NULL;
	probe.key = key;
	m = bsearch(&probe, messages, message_count, sizeof(*messages),
	    message_cmp);
	if (m == NULL)
		return NULL;
	return m->text[lang][0] != '\0' ? m->text[lang] : m->text[LANG_EN];
}

void
i18n_html(struct buf *b, enum page_lang lang, const char *key)
{
	const char *text = i18n_get(lang, key);

	/* Catalog text is ours, but escaping it costs nothing and keeps a
	 * translator's '<' from ever becoming markup. */
	buf_html_cstr(b, text != NULL ? text : key);
}

void
i18n_html_args(struct buf *b, enum page_lang lang, const char *key,
    const char *arg0, const char *arg1, const char *arg2)
{
	const char *args[3] = { arg0, arg1, arg2 };
	const char *text = i18n_get(lang, key), *p, *run;

	if (text == NULL)
		text = key;
	for (p = run = text; *p != '\0'; p++) {
		if (p[0] == '{' && p[1] >= '0' && p[1] <= '2' && p[2] == '}') {
			const char *arg = args[p[1] - '0'];

			buf_html(b, run, (size_t)(p - run));
			if (arg != NULL)
				buf_html_cstr(b, arg);
			p += 2;
			run = p + 1;
		}
	}
	buf_html(b, run, (size_t)(p - run));
}

/* The supported languages' primary subtags, in enum page_lang order. */
static const char *const primaries[LANG_COUNT] = { "zh", "en", "ko" };

/* A longer ?lang= is ignored (no tag we could serve needs more). */
#define LANG_PARAM_MAX 15

enum page_lang
i18n_negotiate(const struct request *req)
{
	static const char *const allowed[] = { "lang", NULL };
	struct query_fields query;
	const char *accept, *want;
	int l = -1;

	/*
	 * A handler has refused a malformed query string already (and this
	 * may be the language of its error page): here it only means there
	 * is no ?lang= to follow.
	 */
	if (parse_query(req->query, allowed,
	    PARSE_UNKNOWN_IGNORED, &query, NULL) == TRACE_OK) {
		want = parse_query_value(&query, "lang");
		if (want != NULL && strlen(want) <= LANG_PARAM_MAX)
			l = parse_language_tag(want, strlen(want), primaries,
			    LANG_COUNT);
		parse_query_clear(&query);
	}
	if (l < 0 && (accept = mg_get_header(req->conn, "Accept-Language")) !=
	    NULL)
		l = parse_accept_language(accept, primaries, LANG_COUNT);
	return l >= 0 ? (enum page_lang)l : LANG_ZH;
}
