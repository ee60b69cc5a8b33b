/*
 * i18n.c - the languages of the pages: zh-CN first (the consumers are in
 * China), en and ko (the goods and many inspectors are Korean).  Chooses
 * one per request from ?lang= and then Accept-Language, and looks messages
 * up in web/messages.tsv, which the build compiles into the binary.
 *
 * The catalog is parsed once, on first use, into a sorted table that is
 * read-only afterwards, so lookups from every worker need no lock.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pages.h"

extern const char web_messages_tsv[];
extern const size_t web_messages_tsv_len;

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

/* A language tag's supported language, or LANG_COUNT. */
static enum page_lang
lang_of(const char *tag, size_t len)
{
	if (len < 2 || (len > 2 && tag[2] != '-' && tag[2] != '_'))
		return LANG_COUNT;
	if (strncasecmp(tag, "zh", 2) == 0)
		return LANG_ZH;
	if (strncasecmp(tag, "en", 2) == 0)
		return LANG_EN;
	if (strncasecmp(tag, "ko", 2) == 0)
		return LANG_KO;
	return LANG_COUNT;
}

/* q of an Accept-Language item's parameters, in thousandths (RFC 9110
 * 12.4.2: at most three decimals). */
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
				for (v++; v < end && isdigit((unsigned char)*v) &&
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

enum page_lang
i18n_negotiate(const struct request *req)
{
	char want[16];
	const char *accept, *p;
	enum page_lang best = LANG_ZH;
	int best_q = 0;

	if (http_query(req, "lang", want, sizeof(want))) {
		enum page_lang l = lang_of(want, strlen(want));

		if (l != LANG_COUNT)
			return l;
	}
	if ((accept = mg_get_header(req->conn, "Accept-Language")) == NULL)
		return LANG_ZH;
	/* "ko-KR,ko;q=0.9,en-US;q=0.8": the first of the highest q wins. */
	for (p = accept; *p != '\0';) {
		const char *item = p, *semi, *end;
		size_t tag_len;
		enum page_lang l;
		int q;

		while (*p != '\0' && *p != ',')
			p++;
		end = p;
		if (*p == ',')
			p++;
		while (item < end && *item == ' ')
			item++;
		for (semi = item; semi < end && *semi != ';' && *semi != ' ';)
			semi++;
		tag_len = (size_t)(semi - item);
		l = lang_of(item, tag_len);
		q = quality(semi, (size_t)(end - semi));
		if (l != LANG_COUNT && q > best_q) {
			best = l;
			best_q = q;
		}
	}
	return best;
}
