/*
 * test_qr.c - QR matrices and their SVG, PNG and terminal renderings.
 *
 * Each rendering is read back and compared module by module with the
 * matrix, and the PNG and the rasterised SVG are decoded with zbarimg, an
 * independent decoder: the test passes only if a real reader gets back the
 * exact text.  zbarimg (zbar-tools) and rsvg-convert (librsvg2-bin) are
 * required; if either is missing the test fails rather than skips.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <png.h>

#include "libtrace/qr.h"
#include "check.h"

static const char link_text[] =
    "https://trace.example/01/09506000134352/10/L2311A%2F7/21/S-00001";

static char tmp_dir[] = "/tmp/trace-test-qr-XXXXXX";

/* ---- helpers ------------------------------------------------------------ */

static bool
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	bool ok;

	if (f == NULL)
		return false;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

/* Run cmd through the shell; its stdout into out.  Returns the exit code,
 * or -1 if it could not run or did not exit normally. */
static int
run_capture(const char *cmd, char *out, size_t size)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0, r;
	int status;

	out[0] = '\0';
	if (p == NULL)
		return -1;
	while (n + 1 < size && (r = fread(out + n, 1, size - 1 - n, p)) > 0)
		n += r;
	out[n] = '\0';
	status = pclose(p);
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Decode the image at path with zbarimg; true if it reads exactly text. */
static bool
zbar_reads(const char *path, const char *text)
{
	char cmd[512], out[4096];
	size_t n;
	int rc;

	/* stderr dropped: zbarimg complains there about a missing D-Bus. */
	snprintf(cmd, sizeof(cmd), "zbarimg -q --raw '%s' 2>/dev/null", path);
	rc = run_capture(cmd, out, sizeof(out));
	CHECK_MSG(rc == 0, "zbarimg on %s exited %d: %s", path, rc, out);
	/* --raw prints the data and one newline. */
	n = strlen(out);
	if (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	CHECK_MSG(strcmp(out, text) == 0, "zbarimg read \"%s\", want \"%s\"",
	    out, text);
	return rc == 0 && strcmp(out, text) == 0;
}

static struct qr_matrix *
encode_ok(const char *text)
{
	struct qr_matrix *m = NULL;
	struct trace_error err;
	enum trace_status rc;

	trace_error_clear(&err);
	rc = qr_encode(text, strlen(text), &m, &err);
	CHECK_MSG(rc == TRACE_OK && m != NULL, "qr_encode(\"%s\"): %s", text,
	    err.message);
	return rc == TRACE_OK ? m : NULL;
}

/* ---- matrix ------------------------------------------------------------- */

/* ISO/IEC 18004 6.3.3: a 7x7 finder pattern with its corner at (x, y). */
static bool
finder_at(const struct qr_matrix *m, int x0, int y0)
{
	for (int y = 0; y < 7; y++)
		for (int x = 0; x < 7; x++) {
			bool ring = x == 0 || y == 0 || x == 6 || y == 6;
			bool core = x >= 2 && x <= 4 && y >= 2 && y <= 4;

			if (qr_module_dark(m, x0 + x, y0 + y) != (ring || core))
				return false;
		}
	return true;
}

static void
test_encode(void)
{
	struct qr_matrix *m = NULL;
	struct trace_error err;
	char big[QR_TEXT_MAX + 2];
	int dark = 0;

	/*
	 * ISO/IEC 18004 table 7, byte mode at level M: version 1 (21x21)
	 * holds 14 bytes, version 4 (33x33) 62; one more byte needs the next
	 * version.  Lowercase letters keep libqrencode in byte mode.
	 */
	m = encode_ok("abcdefghijklmn");
	CHECK(m != NULL && m->width == 21);
	qr_matrix_free(m);
	m = encode_ok("abcdefghijklmno");
	CHECK(m != NULL && m->width == 25);
	qr_matrix_free(m);
	memset(big, 'a', 63);
	big[63] = '\0';
	m = encode_ok(big);
	CHECK(m != NULL && m->width == 37);
	qr_matrix_free(m);
	big[62] = '\0';
	m = encode_ok(big);
	CHECK(m != NULL && m->width == 33);
	qr_matrix_free(m);
	/* 64 bytes, but its digit runs go in numeric mode: version 4. */
	CHECK_INT(strlen(link_text), 64);
	m = encode_ok(link_text);
	if (m == NULL)
		return;
	CHECK_INT(m->width, 33);

	/* bit 0 is "dark": the three finder patterns prove the mapping. */
	CHECK(finder_at(m, 0, 0));
	CHECK(finder_at(m, m->width - 7, 0));
	CHECK(finder_at(m, 0, m->width - 7));
	CHECK(!finder_at(m, m->width - 7, m->width - 7));
	/* Timing pattern on row 6 and the always-dark module. */
	for (int x = 8; x < m->width - 8; x++)
		CHECK_MSG(qr_module_dark(m, x, 6) == (x % 2 == 0), "x=%d", x);
	CHECK(qr_module_dark(m, 8, m->width - 8));
	for (int i = 0; i < m->width * m->width; i++) {
		CHECK_MSG(m->modules[i] <= 1, "module %d = %d", i,
		    m->modules[i]);
		dark += m->modules[i];
	}
	/* Masking keeps the dark share near half (penalty rule 4). */
	CHECK_MSG(dark > m->width * m->width * 35 / 100 &&
	    dark < m->width * m->width * 65 / 100, "dark %d", dark);
	/* Outside the symbol is light, so the quiet zone is. */
	CHECK(!qr_module_dark(m, -1, 0));
	CHECK(!qr_module_dark(m, 0, -1));
	CHECK(!qr_module_dark(m, m->width, 0));
	CHECK(!qr_module_dark(m, 0, m->width));
	CHECK(!qr_module_dark(m, -QR_QUIET_ZONE, -QR_QUIET_ZONE));
	qr_matrix_free(m);
	qr_matrix_free(NULL);

	/* Bounds and refusals; *out stays NULL on error. */
	m = (struct qr_matrix *)&err;
	trace_error_clear(&err);
	CHECK_INT(qr_encode("", 0, &m, &err), TRACE_EMALFORMED);
	CHECK(m == NULL);
	CHECK_STR(err.field, "text");
	CHECK_STR(err.message, "nothing to encode: the text is empty");

	memset(big, 'a', sizeof(big));
	CHECK_INT(qr_encode(big, QR_TEXT_MAX + 1, &m, &err), TRACE_ETOOBIG);
	CHECK(m == NULL);
	CHECK_STR(err.message, "text of 1025 bytes is over the QR limit of "
	    "1024");
	CHECK_INT(qr_encode(big, QR_TEXT_MAX, &m, &err), TRACE_OK);
	/* Version 25-M holds 997 bytes, 26-M 1059: 121 modules. */
	CHECK(m != NULL && m->width == 121);
	qr_matrix_free(m);

	CHECK_INT(qr_encode("ab\0cd", 5, &m, &err), TRACE_EMALFORMED);
	CHECK(m == NULL);
	CHECK_STR(err.message, "text contains a NUL byte");
	/* len is what counts, not a NUL further on. */
	CHECK_INT(qr_encode("abcdefghijklmno", 14, &m, &err), TRACE_OK);
	CHECK(m != NULL && m->width == 21);
	qr_matrix_free(m);
	CHECK_INT(qr_encode("x", 1, &m, NULL), TRACE_OK);
	qr_matrix_free(m);
}

/* ---- SVG ---------------------------------------------------------------- */

/*
 * Redraw the path's runs on a grid of size x size and compare with the
 * matrix plus quiet zone.  Also checks each run is maximal (none touch), so
 * the file really is one rect per run.
 */
static void
check_svg_path(const char *svg, const struct qr_matrix *m)
{
	int size = m->width + 2 * QR_QUIET_ZONE;
	unsigned char *grid = calloc((size_t)(size * size), 1);
	const char *p = strstr(svg, " d=\"");
	int runs = 0, bad = 0;

	if (grid == NULL || p == NULL) {
		CHECK_MSG(0, "no path data");
		free(grid);
		return;
	}
	p += 4;
	while (*p == 'M') {
		int x, y, n, n2, used = 0;

		if (sscanf(p, "M%d %dh%dv1h-%dz%n", &x, &y, &n, &n2, &used) !=
		    4 || used == 0 || n != n2 || n < 1 || x < 0 || y < 0 ||
		    x + n > size || y >= size) {
			bad++;
			break;
		}
		for (int k = 0; k < n; k++)
			grid[y * size + x + k]++;
		/* Maximal: the modules either side are not in this run. */
		if ((x > 0 && grid[y * size + x - 1]) ||
		    (x + n < size && qr_module_dark(m, x + n - QR_QUIET_ZONE,
		    y - QR_QUIET_ZONE)))
			bad++;
		runs++;
		p += used;
	}
	CHECK_MSG(bad == 0, "%d malformed or split runs", bad);
	CHECK_MSG(strncmp(p, "\"/></svg>\n", 10) == 0, "path ends in \"%.12s\"",
	    p);
	for (int y = 0; y < size; y++)
		for (int x = 0; x < size; x++) {
			bool want = qr_module_dark(m, x - QR_QUIET_ZONE,
			    y - QR_QUIET_ZONE);

			if (grid[y * size + x] != (want ? 1 : 0))
				bad++;
		}
	CHECK_MSG(bad == 0, "%d modules differ", bad);
	CHECK(runs > 0);
	free(grid);
}

static void
test_svg(void)
{
	struct qr_matrix *m = encode_ok(link_text);
	struct trace_error err;
	char *svg = NULL, head[256], path[128], png[128], cmd[512], out[256];
	size_t len = 0;
	int rc;

	if (m == NULL)
		return;
	CHECK_INT(qr_render_svg(m, 8, &svg, &len, &err), TRACE_OK);
	if (svg == NULL)
		goto out;
	CHECK_INT(strlen(svg), len);
	/* (33 + 8) modules of 8 px. */
	CHECK_INT(m->width, 33);
	snprintf(head, sizeof(head), "%s",
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"328\" "
	    "height=\"328\" viewBox=\"0 0 41 41\" "
	    "shape-rendering=\"crispEdges\"><rect width=\"41\" height=\"41\" "
	    "fill=\"#fff\"/><path fill=\"#000\" d=\"M");
	CHECK_MSG(strncmp(svg, head, strlen(head)) == 0, "%.200s", svg);
	CHECK(strstr(strstr(svg, "<path") + 1, "<path") == NULL);
	CHECK(len > 7 && strcmp(svg + len - 7, "</svg>\n") == 0);
	check_svg_path(svg, m);
	/* A few bytes per run keeps a version-4 code well under 8 KiB. */
	CHECK_MSG(len < 8192, "svg is %zu bytes", len);

	/* Rasterised by librsvg, then read by zbar. */
	snprintf(path, sizeof(path), "%s/qr.svg", tmp_dir);
	snprintf(png, sizeof(png), "%s/svg.png", tmp_dir);
	CHECK(write_file(path, svg, len));
	snprintf(cmd, sizeof(cmd), "rsvg-convert -w 400 '%s' -o '%s' 2>&1",
	    path, png);
	rc = run_capture(cmd, out, sizeof(out));
	CHECK_MSG(rc == 0, "rsvg-convert exited %d: %s", rc, out);
	CHECK(zbar_reads(png, link_text));
	unlink(path);
	unlink(png);
	free(svg);
	svg = NULL;

	/* Scale bounds. */
	CHECK_INT(qr_render_svg(m, 1, &svg, &len, &err), TRACE_OK);
	CHECK(svg != NULL && strstr(svg, "width=\"41\" height=\"41\"") != NULL);
	free(svg);
	CHECK_INT(qr_render_svg(m, 40, &svg, &len, &err), TRACE_OK);
	CHECK(svg != NULL && strstr(svg, "width=\"1640\" height=\"1640\"") !=
	    NULL);
	free(svg);
	svg = (char *)"x";
	CHECK_INT(qr_render_svg(m, 0, &svg, &len, &err), TRACE_EMALFORMED);
	CHECK(svg == NULL && len == 0);
	CHECK_STR(err.field, "scale");
	CHECK_STR(err.message, "module size of 0 px is outside 1..40");
	CHECK_INT(qr_render_svg(m, 41, &svg, &len, &err), TRACE_EMALFORMED);
	CHECK(svg == NULL);
	CHECK_INT(qr_render_svg(m, -8, &svg, &len, NULL), TRACE_EMALFORMED);
out:
	free(svg);
	qr_matrix_free(m);
}

/* ---- PNG ---------------------------------------------------------------- */

static unsigned
be32(const unsigned char *p)
{
	return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 |
	    (unsigned)p[2] << 8 | p[3];
}

/* Decode with libpng's own reader and compare every pixel. */
static void
check_png_pixels(const unsigned char *data, size_t len,
    const struct qr_matrix *m, int scale)
{
	png_image image;
	unsigned char *px = NULL;
	int size = (m->width + 2 * QR_QUIET_ZONE) * scale, bad = 0;

	memset(&image, 0, sizeof(image));
	image.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&image, data, len)) {
		CHECK_MSG(0, "libpng cannot read it: %s", image.message);
		return;
	}
	CHECK_INT(image.width, size);
	CHECK_INT(image.height, size);
	image.format = PNG_FORMAT_GRAY;
	px = malloc(PNG_IMAGE_SIZE(image));
	if (px == NULL || !png_image_finish_read(&image, NULL, px, 0, NULL)) {
		CHECK_MSG(0, "libpng read failed: %s", image.message);
		png_image_free(&image);
		free(px);
		return;
	}
	for (int y = 0; y < size; y++)
		for (int x = 0; x < size; x++) {
			bool dark = qr_module_dark(m,
			    x / scale - QR_QUIET_ZONE,
			    y / scale - QR_QUIET_ZONE);

			if (px[y * size + x] != (dark ? 0 : 255))
				bad++;
		}
	CHECK_MSG(bad == 0, "%d pixels differ at scale %d", bad, scale);
	free(px);
}

static void
test_png(void)
{
	static const char *const texts[] = {
		link_text,
		"HELLO",
		"https://trace.example/01/00000096385074/10/%21%22%25%26%27"
		    "%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%3F_-./21/zZ09",
	};
	struct trace_error err;
	unsigned char *png = NULL;
	char path[128];
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/qr.png", tmp_dir);
	for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		struct qr_matrix *m = encode_ok(texts[i]);
		int size;

		if (m == NULL)
			continue;
		size = m->width + 2 * QR_QUIET_ZONE;
		CHECK_INT(qr_render_png(m, 4, &png, &len, &err), TRACE_OK);
		if (png == NULL) {
			qr_matrix_free(m);
			continue;
		}
		CHECK(len > 33 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
		/* IHDR first: width, height, bit depth 1, gray. */
		CHECK(memcmp(png + 12, "IHDR", 4) == 0);
		CHECK_INT(be32(png + 16), size * 4);
		CHECK_INT(be32(png + 20), size * 4);
		CHECK_INT(png[24], 1);
		CHECK_INT(png[25], PNG_COLOR_TYPE_GRAY);
		CHECK(memcmp(png + len - 8, "IEND", 4) == 0);
		check_png_pixels(png, len, m, 4);
		CHECK(write_file(path, png, len));
		CHECK(zbar_reads(path, texts[i]));
		unlink(path);
		free(png);
		png = NULL;

		/* Odd scales exercise rows that end mid-byte. */
		for (int scale = 1; scale <= 3; scale++) {
			CHECK_INT(qr_render_png(m, scale, &png, &len, &err),
			    TRACE_OK);
			if (png != NULL)
				check_png_pixels(png, len, m, scale);
			free(png);
			png = NULL;
		}
		qr_matrix_free(m);
	}

	{
		struct qr_matrix *m = encode_ok("HELLO");

		if (m == NULL)
			return;
		CHECK_INT(qr_render_png(m, 40, &png, &len, &err), TRACE_OK);
		CHECK(png != NULL && be32(png + 16) == (21 + 8) * 40);
		free(png);
		png = (unsigned char *)"x";
		CHECK_INT(qr_render_png(m, 0, &png, &len, &err),
		    TRACE_EMALFORMED);
		CHECK(png == NULL && len == 0);
		CHECK_STR(err.message, "module size of 0 px is outside 1..40");
		CHECK_INT(qr_render_png(m, 41, &png, &len, &err),
		    TRACE_EMALFORMED);
		CHECK(png == NULL);
		qr_matrix_free(m);
	}
}

/* ---- terminal ----------------------------------------------------------- */

/* Split one UTF-8 half-block glyph into its two halves. */
static bool
glyph_halves(const char **p, bool *top, bool *bottom)
{
	if (**p == ' ') {
		*top = *bottom = false;
		(*p)++;
		return true;
	}
	if (strncmp(*p, "\xe2\x96\x80", 3) == 0)
		*top = true, *bottom = false;
	else if (strncmp(*p, "\xe2\x96\x84", 3) == 0)
		*top = false, *bottom = true;
	else if (strncmp(*p, "\xe2\x96\x88", 3) == 0)
		*top = *bottom = true;
	else
		return false;
	*p += 3;
	return true;
}

static void
check_terminal(const struct qr_matrix *m, bool invert)
{
	int size = m->width + 2 * QR_QUIET_ZONE, lines = 0, bad = 0;
	struct trace_error err;
	char *text = NULL;
	const char *p;
	size_t len = 0;

	CHECK_INT(qr_render_terminal(m, invert, &text, &len, &err), TRACE_OK);
	if (text == NULL)
		return;
	CHECK_INT(strlen(text), len);
	/* The first two lines are the top quiet zone: all light, so all
	 * full blocks, or all blank when inverted. */
	for (int line = 0; line < 2; line++) {
		const char *q = text + (size_t)line * (invert ? size + 1 :
		    3 * size + 1);
		int light = 0;

		for (int x = 0; x < size; x++)
			light += invert ? q[x] == ' ' :
			    strncmp(q + 3 * x, "\xe2\x96\x88", 3) == 0;
		CHECK_MSG(light == size, "line %d: %d of %d light", line,
		    light, size);
		CHECK(q[invert ? size : 3 * size] == '\n');
	}
	for (p = text; *p != '\0'; lines++) {
		for (int x = 0; x < size; x++) {
			int y = 2 * lines;
			bool top, bottom, want_top, want_bottom;

			if (!glyph_halves(&p, &top, &bottom)) {
				bad++;
				goto done;
			}
			want_top = qr_module_dark(m, x - QR_QUIET_ZONE,
			    y - QR_QUIET_ZONE) == invert;
			/* Past the last row: blank in both modes. */
			want_bottom = y + 1 < size && qr_module_dark(m,
			    x - QR_QUIET_ZONE, y + 1 - QR_QUIET_ZONE) == invert;
			if (top != want_top || bottom != want_bottom)
				bad++;
		}
		if (*p++ != '\n') {
			bad++;
			break;
		}
	}
done:
	CHECK_MSG(bad == 0, "%d terminal cells differ (invert %d)", bad,
	    invert);
	CHECK_INT(lines, (size + 1) / 2);
	free(text);
}

static void
test_terminal(void)
{
	struct qr_matrix *m = encode_ok(link_text);

	if (m == NULL)
		return;
	check_terminal(m, false);
	check_terminal(m, true);
	qr_matrix_free(m);
	m = encode_ok("HELLO");
	if (m == NULL)
		return;
	check_terminal(m, false);
	check_terminal(m, true);
	qr_matrix_free(m);
}

int
main(void)
{
	char out[256];

	/* The decoders are part of the test, never optional. */
	CHECK_MSG(run_capture("command -v zbarimg", out, sizeof(out)) == 0,
	    "zbarimg not found: install zbar-tools");
	CHECK_MSG(run_capture("command -v rsvg-convert", out, sizeof(out)) ==
	    0, "rsvg-convert not found: install librsvg2-bin");
	if (mkdtemp(tmp_dir) == NULL) {
		CHECK_MSG(0, "mkdtemp failed");
		CHECK_DONE();
	}
	test_encode();
	test_svg();
	test_png();
	test_terminal();
	CHECK_MSG(rmdir(tmp_dir) == 0, "temporary files left in %s", tmp_dir);
	CHECK_DONE();
}
