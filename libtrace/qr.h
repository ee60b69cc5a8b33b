/*
 * qr.h - QR codes for unit labels (docs/PROTOCOL.md sections 2.4 and 11.15): a text, in
 * practice a GS1 Digital Link URI, encoded with libqrencode (byte mode, error
 * correction level M, smallest version that fits) into a module matrix, and
 * that matrix rendered as SVG, PNG or UTF-8 text for a terminal.
 *
 * Every rendering adds the 4-module light quiet zone ISO/IEC 18004 asks
 * for, so the output scans as it is, on any background.
 *
 * Ownership: qr_encode returns a matrix the caller frees with
 * qr_matrix_free; each qr_render_* returns a malloc'd buffer the caller
 * frees with free().  On error nothing is returned and nothing needs
 * freeing (*out is NULL).
 */
#ifndef TRACE_QR_H
#define TRACE_QR_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define QR_TEXT_MAX 1024   /* bytes of text; fits version 40-M (2331) */
#define QR_QUIET_ZONE 4    /* light modules around the symbol */
#define QR_SCALE_MIN 1     /* pixels per module, SVG and PNG */
#define QR_SCALE_MAX 40

struct qr_matrix {
	int width;                /* modules per side, without quiet zone */
	unsigned char *modules;   /* width * width, row-major, 1 dark 0 light */
};

/*
 * Encode len bytes of text (no NUL byte; 1..QR_TEXT_MAX).  On TRACE_OK *out
 * holds a matrix to free with qr_matrix_free.  Errors: TRACE_EMALFORMED for
 * empty text or text with a NUL, TRACE_ETOOBIG over QR_TEXT_MAX, TRACE_ENOMEM.
 */
enum trace_status qr_encode(const char *text, size_t len,
    struct qr_matrix **out, struct trace_error *err);

/* Free a matrix from qr_encode.  Accepts NULL. */
void qr_matrix_free(struct qr_matrix *matrix);

/*
 * True if the module at column x, row y is dark.  Coordinates outside the
 * symbol (the quiet zone and beyond) are light, so renderers can walk
 * -QR_QUIET_ZONE .. width + QR_QUIET_ZONE - 1 without special cases.
 */
bool qr_module_dark(const struct qr_matrix *matrix, int x, int y);

/*
 * An SVG document of module_px pixels per module (QR_SCALE_MIN..MAX):
 * width and height attributes in pixels, a viewBox in modules, a white
 * background and one black <path> with a rectangle per horizontal run of
 * dark modules, crispEdges.  *out (NUL-terminated, *out_len bytes without
 * the NUL) is freed by the caller with free().
 */
enum trace_status qr_render_svg(const struct qr_matrix *matrix, int module_px,
    char **out, size_t *out_len, struct trace_error *err);

/*
 * A PNG (1-bit grayscale, black on white) of scale pixels per module
 * (QR_SCALE_MIN..MAX).  *out (*out_len bytes) is freed by the caller with
 * free().
 */
enum trace_status qr_render_png(const struct qr_matrix *matrix, int scale,
    unsigned char **out, size_t *out_len, struct trace_error *err);

/*
 * UTF-8 text for a terminal: each character cell holds two module rows with
 * the half blocks "▀", "▄", "█" and " ", each line ends in "\n".
 *
 * With invert false, LIGHT modules are drawn (the glyph's foreground) and
 * dark modules are left as spaces: right for the usual light-text-on-dark
 * terminal, where the foreground is the light colour.  With invert true,
 * DARK modules are drawn, for dark-text-on-light terminals.  The symbol and
 * its quiet zone have an odd number of rows, so the lower half of the last
 * line lies outside the code and is always left blank.
 *
 * *out (NUL-terminated, *out_len bytes without the NUL) is freed by the
 * caller with free().
 */
enum trace_status qr_render_terminal(const struct qr_matrix *matrix,
    bool invert, char **out, size_t *out_len, struct trace_error *err);

#endif
