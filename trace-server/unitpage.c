/*
 * unitpage.c - a unit's consumer page (what its QR opens) from a template
 * of its lot's page, instead of a full render per view.
 *
 * Why: with the scan written after the answer (scancount.c) a unit page
 * needs no store round trip, and rendering became most of its cost
 * (docs/PERFORMANCE.md): every view formatted the same chain, verdict and
 * texts again, for a page that differs from its neighbours' only in the
 * serial and the scans card.  The template is that page rendered once
 * with a mark in place of the serial and another where the scans card
 * goes; a view copies it, putting in its serial and its own card.
 *
 * Lots with per-serial facts besides the scans (SPEC 12: issued serials
 * declared, or codes uploaded: "never issued", the code form) are
 * rendered in full.
 *
 * What a page depends on besides the serial is in the template's key:
 * the chain (and, checked on use, its head), the language and what the
 * serial's recall status is (the fold's recall behind it, if any).  A
 * template lives PAGE_CACHE_MS in the page cache (pagecache.c), like a lot
 * page, and is never made while the verdict is pending.  Only serials
 * that URL- and HTML-escaping leave unchanged (letters, digits, '-', '.',
 * '_': nearly all real serials) use it, so the one mark serves every
 * place the serial appears.  The marks are random per process, so no
 * signer can write one into a page.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "pages.h"
#include "units.h"

#define MARK_LEN 16
#define TEMPLATE_INDEX_MAX 4096       /* recall item indexes in the key */

static char serial_mark[MARK_LEN + 1];
static char scans_mark[MARK_LEN + 16];
static bool marks_ready;
static pthread_once_t marks_once = PTHREAD_ONCE_INIT;

static void
marks_make(void)
{
	static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char r[MARK_LEN];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return;
	for (size_t i = 0; i < MARK_LEN; i++)
		serial_mark[i] = letters[r[i] % (sizeof(letters) - 1)];
	serial_mark[MARK_LEN] = '\0';
	snprintf(scans_mark, sizeof(scans_mark), "<!--%s-->", serial_mark);
	marks_ready = true;
}

static bool
serial_plain(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' ||
		    *s == '_'))
			return false;
	return true;
}

/* The page cache variant of view's template in lang, or -1 for none.
 * Past the resolver's variants and the inspector's (LANG_COUNT + 1 +
 * lang); at most about 2^29. */
static int
template_variant(const struct chain_view *v, enum page_lang lang)
{
	long recall = v->recall != NULL ? (long)(v->recall - v->items) : -1;
	long closed = v->recall_closed != NULL ?
	    (long)(v->recall_closed - v->items) : -1;

	if (recall >= TEMPLATE_INDEX_MAX || closed >= TEMPLATE_INDEX_MAX ||
	    (unsigned)v->recall_state > 7)
		return -1;
	return 1000 + (int)lang + LANG_COUNT * ((int)v->recall_state + 8 *
	    (int)((recall + 1) + (TEMPLATE_INDEX_MAX + 1) * (closed + 1)));
}

/* The first needle[0..n) in [p, end), or NULL (memmem is a GNU
 * extension; this keeps to POSIX). */
static const char *
find(const char *p, const char *end, const char *needle, size_t n)
{
	while ((size_t)(end - p) >= n &&
	    (p = memchr(p, needle[0], (size_t)(end - p) - n + 1)) != NULL) {
		if (memcmp(p, needle, n) == 0)
			return p;
		p++;
	}
	return NULL;
}

/* Copy [t, end) into out with serial for every serial mark. */
static void
fill_serial(struct buf *out, const char *t, const char *end,
    const char *serial)
{
	const char *m;

	while ((m = find(t, end, serial_mark, MARK_LEN)) != NULL) {
		buf_append(out, t, (size_t)(m - t));
		buf_puts(out, serial);
		t = m + MARK_LEN;
	}
	buf_append(out, t, (size_t)(end - t));
}

/* Copy template (after its head line) into out, with serial for every
 * serial mark and view's scans card for the scans mark (once). */
static void
fill(struct buf *out, const char *t, size_t len, const char *serial,
    enum page_lang lang, const struct chain_view *view)
{
	const char *end = t + len;
	size_t scans_len = strlen(scans_mark);
	const char *s = find(t, end, scans_mark, scans_len);

	if (s == NULL) {
		fill_serial(out, t, end, serial);
		return;
	}
	fill_serial(out, t, s, serial);
	consumer_scans_card(out, lang, view);
	fill_serial(out, s + scans_len, end, serial);
}

bool
unit_page_build(struct request *req, const struct chain_view *view,
    enum page_lang lang, struct buf *out)
{
	const char *head;
	struct buf t;
	size_t head_len;
	int variant;
	bool ok = false;

	pthread_once(&marks_once, marks_make);
	if (!marks_ready || view->count == 0 ||
	    !serial_plain(view->link.serial) ||
	    (view->fold != NULL && fold_declares_issued(view->fold)) ||
	    units_lot_has_codes(view) ||
	    (variant = template_variant(view, lang)) < 0)
		return false;
	head = view->items[view->count - 1].rec->id;
	head_len = strlen(head);
	buf_init(&t, 0);
	/* A template is "<head id>\n<page>". */
	if (!pagecache_get(view->chain, variant, witness_pending_from(req),
	    &t) || t.len <= head_len ||
	    memcmp(t.data, head, head_len) != 0 || t.data[head_len] != '\n') {
		struct chain_view marked = *view;   /* shares view's data */

		buf_free(&t);
		buf_init(&t, 0);
		snprintf(marked.link.serial, sizeof(marked.link.serial), "%s",
		    serial_mark);
		marked.scans_mark = scans_mark;
		buf_append(&t, head, head_len);
		buf_puts(&t, "\n");
		if (!consumer_build(req, &marked, lang, &t) || t.failed)
			goto out;
		pagecache_put(view->chain, variant,
		    witness_pending_from(req), &t);
	}
	fill(out, t.data + head_len + 1, t.len - head_len - 1,
	    view->link.serial, lang, view);
	ok = !out->failed;
out:
	buf_free(&t);
	return ok;
}
