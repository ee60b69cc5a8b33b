/*
 * qr.c - QR codes: libqrencode makes the module matrix, and this file owns
 * the three ways Trace draws it (SVG for pages and label sheets, PNG for
 * downloads and printers, UTF-8 half blocks for trace-agent in a terminal).
 *
 * Each renderer sizes its output before writing (SVG and terminal) or grows
 * one buffer (PNG through libpng's write callback), returns a malloc'd
 * buffer and keeps no state, so any thread may call them.  libqrencode 4 is
 * itself thread-safe: its only shared state, the Reed-Solomon tables, is
 * set up under a mutex.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <qrencode.h>

#include "qr.h"

/* ---- encoding --------------------------------------------------------- */

enum trace_status
qr_encode(const char *text, size_t len, struct qr_matrix **out,
    struct trace_error *err)
{
	struct qr_matrix *matrix = NULL;
	QRcode *code = NULL;
	char *copy = NULL;
	enum trace_status rc;
	size_t count;

	*out = NULL;
	if (len == 0)
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_text",
		    "text", "nothing to encode: the text is empty");
	if (len > QR_TEXT_MAX)
		return trace_error_set(err, TRACE_ETOOBIG, "too_large", "text",
		    "text of %zu bytes is over the QR limit of %d", len,
		    QR_TEXT_MAX);
	/* libqrencode takes a C string: a NUL would silently cut the text. */
	if (memchr(text, '\0', len) != NULL)
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_text",
		    "text", "text contains a NUL byte");

	copy = malloc(len + 1);
	if (copy == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	/*
	 * Byte mode for the whole text, version chosen by the library, level
	 * M (15% recovery): a worn or partly covered label still scans, and
	 * a Digital Link URI stays at a version phones read easily.
	 */
	errno = 0;
	code = QRcode_encodeString(copy, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (code == NULL) {
		if (errno == ENOMEM)
			rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
			    "out of memory");
		else if (errno == ERANGE)
			rc = trace_error_set(err, TRACE_ETOOBIG, "too_large",
			    "text", "text of %zu bytes does not fit a QR "
			    "code", len);
		else
			rc = trace_error_set(err, TRACE_EMALFORMED,
			    "invalid_text", "text", "cannot encode the text "
			    "(%s)", strerror(errno));
		goto out;
	}

	matrix = malloc(sizeof(*matrix));
	if (matrix == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	matrix->width = code->width;
	count = (size_t)code->width * (size_t)code->width;
	matrix->modules = malloc(count);
	if (matrix->modules == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	/* The other bits say which function pattern a module belongs to. */
	for (size_t i = 0; i < count; i++)
		matrix->modules[i] = code->data[i] & 1;
	*out = matrix;
	matrix = NULL;
	rc = TRACE_OK;
out:
	qr_matrix_free(matrix);
	if (code != NULL)
		QRcode_free(code);
	free(copy);
	return rc;
}

void
qr_matrix_free(struct qr_matrix *matrix)
{
	if (matrix == NULL)
		return;
	free(matrix->modules);
	free(matrix);
}

bool
qr_module_dark(const struct qr_matrix *matrix, int x, int y)
{
	if (x < 0 || y < 0 || x >= matrix->width || y >= matrix->width)
		return false;
	return matrix->modules[(size_t)y * (size_t)matrix->width +
	    (size_t)x] != 0;
}

static enum trace_status
scale_check(int scale, struct trace_error *err)
{
	if (scale < QR_SCALE_MIN || scale > QR_SCALE_MAX)
		return trace_error_set(err, TRACE_EMALFORMED, "invalid_scale",
		    "scale", "module size of %d px is outside %d..%d", scale,
		    QR_SCALE_MIN, QR_SCALE_MAX);
	return TRACE_OK;
}

/* ---- SVG -------------------------------------------------------------- */

/*
 * One "M{x} {y}h{n}v1h-{n}z" per run: coordinates stay under 1000 (a
 * version 40 symbol with its quiet zone is 185 modules), so 4 numbers of at
 * most 3 digits and 7 other characters.
 */
#define SVG_RUN_MAX 19
#define SVG_HEAD_MAX 320

static size_t
svg_count_runs(const struct qr_matrix *m)
{
	size_t runs = 0;

	for (int y = 0; y < m->width; y++)
		for (int x = 0; x < m->width; x++)
			if (qr_module_dark(m, x, y) &&
			    !qr_module_dark(m, x - 1, y))
				runs++;
	return runs;
}

enum trace_status
qr_render_svg(const struct qr_matrix *matrix, int module_px, char **out,
    size_t *out_len, struct trace_error *err)
{
	int size = matrix->width + 2 * QR_QUIET_ZONE;
	size_t cap, used = 0;
	char *buf = NULL;
	enum trace_status rc;
	int w;

	*out = NULL;
	*out_len = 0;
	rc = scale_check(module_px, err);
	if (rc != TRACE_OK)
		return rc;
	cap = SVG_HEAD_MAX + svg_count_runs(matrix) * SVG_RUN_MAX + 1;
	buf = malloc(cap);
	if (buf == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	/*
	 * The viewBox is in modules and width/height in pixels, so the image
	 * can be scaled by CSS without blur; the white rect makes the quiet
	 * zone light even on a dark page.
	 */
	w = snprintf(buf, cap, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
	    "fill=\"#fff\"/><path fill=\"#000\" d=\"", size * module_px,
	    size * module_px, size, size, size, size);
	if (w < 0 || (size_t)w >= cap)
		goto overflow;
	used = (size_t)w;
	for (int y = 0; y < matrix->width; y++) {
		int x = 0;

		while (x < matrix->width) {
			int start;

			if (!qr_module_dark(matrix, x, y)) {
				x++;
				continue;
			}
			for (start = x; qr_module_dark(matrix, x, y); x++)
				;
			w = snprintf(buf + used, cap - used, "M%d %dh%dv1h-%dz",
			    start + QR_QUIET_ZONE, y + QR_QUIET_ZONE,
			    x - start, x - start);
			if (w < 0 || (size_t)w >= cap - used)
				goto overflow;
			used += (size_t)w;
		}
	}
	w = snprintf(buf + used, cap - used, "\"/></svg>\n");
	if (w < 0 || (size_t)w >= cap - used)
		goto overflow;
	used += (size_t)w;
	*out = buf;
	*out_len = used;
	buf = NULL;
	rc = TRACE_OK;
	goto out;
overflow:
	/* Only reachable if SVG_RUN_MAX or SVG_HEAD_MAX above are wrong. */
	rc = trace_error_set(err, TRACE_EMALFORMED, "internal", NULL,
	    "SVG size estimate too small");
out:
	free(buf);
	return rc;
}

/* ---- PNG -------------------------------------------------------------- */

/* Where libpng's callbacks write: the growing output and the last error. */
struct png_job {
	unsigned char *data;
	size_t len, cap;
	bool nomem;
	char why[128];
};

static void
png_write_cb(png_structp png, png_bytep data, size_t n)
{
	struct png_job *job = png_get_io_ptr(png);

	if (job->cap - job->len < n) {
		size_t cap = job->cap != 0 ? job->cap : 4096;
		unsigned char *p;

		while (cap - job->len < n)
			cap *= 2;
		p = realloc(job->data, cap);
		if (p == NULL) {
			job->nomem = true;
			png_error(png, "out of memory");
		}
		job->data = p;
		job->cap = cap;
	}
	memcpy(job->data + job->len, data, n);
	job->len += n;
}

static void
png_flush_cb(png_structp png)
{
	(void)png;
}

/* libpng's default handlers print to stderr; keep the message instead. */
static void
png_error_cb(png_structp png, png_const_charp msg)
{
	struct png_job *job = png_get_error_ptr(png);

	snprintf(job->why, sizeof(job->why), "%s", msg);
	png_longjmp(png, 1);
}

static void
png_warning_cb(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/*
 * Everything after setjmp lives here, so no local of the caller changes
 * between setjmp and a longjmp (C11 7.13.2.1 leaves such locals
 * indeterminate).  row holds one packed 1-bit pixel row.
 */
static void
png_emit(png_structp png, png_infop info, const struct qr_matrix *m,
    int scale, png_bytep row)
{
	int size = m->width + 2 * QR_QUIET_ZONE;
	png_uint_32 px = (png_uint_32)(size * scale);
	size_t row_bytes = (px + 7) / 8;

	png_set_IHDR(png, info, px, px, 1, PNG_COLOR_TYPE_GRAY,
	    PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	    PNG_FILTER_TYPE_DEFAULT);
	/* Filters only cost time on a 1-bit image of long flat runs. */
	png_set_filter(png, 0, PNG_FILTER_NONE);
	png_write_info(png, info);
	for (int my = -QR_QUIET_ZONE; my < m->width + QR_QUIET_ZONE; my++) {
		/* In 1-bit gray a set bit is white; bits are MSB first. */
		memset(row, 0xff, row_bytes);
		for (int mx = 0; mx < m->width; mx++) {
			if (!qr_module_dark(m, mx, my))
				continue;
			for (int k = 0; k < scale; k++) {
				size_t x = (size_t)(mx + QR_QUIET_ZONE) *
				    (size_t)scale + (size_t)k;

				row[x / 8] &= (png_byte)~(0x80 >> (x % 8));
			}
		}
		for (int k = 0; k < scale; k++)
			png_write_row(png, row);
	}
	png_write_end(png, info);
}

enum trace_status
qr_render_png(const struct qr_matrix *matrix, int scale, unsigned char **out,
    size_t *out_len, struct trace_error *err)
{
	struct png_job *job = NULL;
	png_structp png = NULL;
	png_infop info = NULL;
	png_bytep row = NULL;
	enum trace_status rc;
	size_t px;

	*out = NULL;
	*out_len = 0;
	rc = scale_check(scale, err);
	if (rc != TRACE_OK)
		return rc;
	px = (size_t)(matrix->width + 2 * QR_QUIET_ZONE) * (size_t)scale;
	/* On the heap: the callbacks change them, and a longjmp may come. */
	job = calloc(1, sizeof(*job));
	row = malloc((px + 7) / 8);
	if (job == NULL || row == NULL)
		goto nomem;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, job,
	    png_error_cb, png_warning_cb);
	if (png == NULL)
		goto nomem;
	info = png_create_info_struct(png);
	if (info == NULL)
		goto nomem;
	if (setjmp(png_jmpbuf(png))) {
		if (job->nomem)
			goto nomem;
		rc = trace_error_set(err, TRACE_EIO, "png", NULL,
		    "cannot write PNG: %s", job->why);
		goto out;
	}
	png_set_write_fn(png, job, png_write_cb, png_flush_cb);
	png_emit(png, info, matrix, scale, row);
	*out = job->data;
	*out_len = job->len;
	job->data = NULL;
	rc = TRACE_OK;
	goto out;
nomem:
	rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL, "out of memory");
out:
	if (png != NULL)
		png_destroy_write_struct(&png, info != NULL ? &info : NULL);
	if (job != NULL)
		free(job->data);
	free(job);
	free(row);
	return rc;
}

/* ---- terminal --------------------------------------------------------- */

static const char *const half_blocks[4] = {
	" ",            /* neither half drawn */
	"\xe2\x96\x80", /* U+2580 upper half block: top only */
	"\xe2\x96\x84", /* U+2584 lower half block: bottom only */
	"\xe2\x96\x88", /* U+2588 full block: both */
};

enum trace_status
qr_render_terminal(const struct qr_matrix *matrix, bool invert, char **out,
    size_t *out_len, struct trace_error *err)
{
	int first = -QR_QUIET_ZONE, end = matrix->width + QR_QUIET_ZONE;
	size_t size = (size_t)(end - first), lines = (size + 1) / 2;
	size_t cap = lines * (size * 3 + 1) + 1, used = 0;
	char *buf;

	*out = NULL;
	*out_len = 0;
	buf = malloc(cap);
	if (buf == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	for (int y = first; y < end; y += 2) {
		for (int x = first; x < end; x++) {
			/* A row past the quiet zone is blank in both modes. */
			bool top = qr_module_dark(matrix, x, y) == invert;
			bool bottom = y + 1 < end &&
			    qr_module_dark(matrix, x, y + 1) == invert;
			const char *glyph = half_blocks[top | bottom << 1];
			size_t n = strlen(glyph);

			memcpy(buf + used, glyph, n);
			used += n;
		}
		buf[used++] = '\n';
	}
	buf[used] = '\0';
	*out = buf;
	*out_len = used;
	return TRACE_OK;
}
