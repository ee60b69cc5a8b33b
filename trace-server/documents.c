/*
 * documents.c - an inspection's documents on the pages (docs/PROTOCOL.md
 * "Documents"): the list an inspection.completed names in data.attachments,
 * each with its name, media type, size, SHA-256 and link, images as
 * thumbnails served by this server (the image itself, scaled by the
 * browser: no image library), PDFs as downloads, and "document not
 * uploaded" for one the store does not hold (an event may name a document
 * before, or without, its upload).
 *
 * Names come from the signer and are escaped like everything else a signer
 * wrote; hashes were checked to be 64 hex digits by event_parse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pages.h"

#define DOCUMENTS_MAX 100              /* EVENT_LIST_MAX: what a list holds */

const struct json_value *
documents_list(const struct chain_item *it)
{
	const struct json_value *list = it->ev.data != NULL ?
	    json_object_get(it->ev.data, "attachments") : NULL;

	return list != NULL && list->type == JSON_ARRAY &&
	    list->u.array.count > 0 ? list : NULL;
}

static const char *
member(const struct json_value *obj, const char *key)
{
	const struct json_value *v = json_object_get(obj, key);

	return v != NULL && v->type == JSON_STRING ? v->u.string.ptr : NULL;
}

const char *
documents_certificate(const struct chain_item *it)
{
	const struct json_value *list = documents_list(it);
	const char *first = NULL;

	for (size_t i = 0; list != NULL && i < list->u.array.count; i++) {
		const struct json_value *at = list->u.array.items[i];
		const char *media = member(at, "media");

		if (first == NULL)
			first = member(at, "sha256");
		if (media != NULL && strcmp(media, "application/pdf") == 0)
			return member(at, "sha256");
	}
	return first;
}

void
documents_render(struct request *req, struct buf *b, enum page_lang lang,
    const struct chain_item *it)
{
	const struct json_value *list = documents_list(it);
	const char *shas[DOCUMENTS_MAX];
	struct blob_info infos[DOCUMENTS_MAX];
	struct trace_error err;
	size_t count = 0;
	bool known;

	if (list == NULL)
		return;
	for (size_t i = 0; i < list->u.array.count && count < DOCUMENTS_MAX;
	    i++) {
		const char *sha = member(list->u.array.items[i], "sha256");

		shas[count++] = sha != NULL ? sha : "";
	}
	/* One round trip for the page's list; without the store the list is
	 * still shown, with what the event says. */
	known = store_blob_infos(req->worker->store, shas, count, infos,
	    &err) == TRACE_OK;
	buf_puts(b, "<div class=\"documents\"><h3>");
	i18n_html(b, lang, "doc.title");
	buf_puts(b, "</h3><ul>");
	for (size_t i = 0; i < count; i++) {
		const struct json_value *at = list->u.array.items[i];
		const char *name = member(at, "name");
		const char *claimed = member(at, "media");
		const struct blob_info *in = &infos[i];
		bool up = known && in->found;
		bool image = up && in->media != BLOB_MEDIA_PDF;

		buf_printf(b, "<li class=\"doc\" data-sha256=\"%s\" "
		    "data-uploaded=\"%s\">", shas[i], up ? "true" : "false");
		if (image) {
			buf_printf(b, "<a href=\"/api/v1/blobs/%s\"><img "
			    "class=\"thumb\" src=\"/api/v1/blobs/%s\" "
			    "width=\"160\" height=\"120\" loading=\"lazy\" "
			    "alt=\"", shas[i], shas[i]);
			buf_html_cstr(b, name != NULL ? name : "");
			buf_puts(b, "\"></a>");
		}
		buf_puts(b, "<div>");
		if (up) {
			buf_printf(b, "<a class=\"doc-link\" href=\"/api/v1/"
			    "blobs/%s\"%s>", shas[i], image ? "" : " download");
			buf_html_cstr(b, name != NULL ? name : shas[i]);
			buf_puts(b, "</a>");
		} else {
			buf_puts(b, "<strong>");
			buf_html_cstr(b, name != NULL ? name : shas[i]);
			buf_puts(b, "</strong>");
		}
		buf_puts(b, " <span class=\"muted\">");
		buf_html_cstr(b, up ? blob_media_name(in->media) :
		    claimed != NULL ? claimed : "");
		if (up) {
			char size[24];

			snprintf(size, sizeof(size), "%lld", in->size);
			buf_puts(b, " \xc2\xb7 ");
			i18n_html_args(b, lang, "doc.bytes", size, NULL, NULL);
		}
		buf_printf(b, "</span><br><span class=\"mono\">SHA-256 %s"
		    "</span>", shas[i]);
		if (!up) {
			buf_puts(b, "<br><span class=\"bad-text doc-missing\">");
			i18n_html(b, lang, known ? "doc.notuploaded" :
			    "doc.unknown");
			buf_puts(b, "</span>");
		}
		buf_puts(b, "</div></li>");
	}
	buf_puts(b, "</ul></div>");
}
