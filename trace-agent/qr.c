/*
 * qr.c - trace-agent qr: the QR code of a unit's GS1 Digital Link URI
 * (docs/PROTOCOL.md section 2.4) as an SVG or PNG file or on the terminal, through
 * libtrace's qr module (byte mode, error correction M, 4-module quiet
 * zone).  The decoded text is exactly the URI gs1_link_format() writes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "libtrace/fileio.h"
#include "libtrace/qr.h"

static const char qr_usage[] =
"usage: trace-agent qr --gtin G --lot L [--serial S] --base URL\n"
"           --format svg|png|terminal [--out FILE] [--scale N] [--invert]\n"
"           [--compressed] [--print-uri]\n"
"\n"
"The QR code of the unit's GS1 Digital Link URI\n"
"BASE/01/{gtin14}/10/{lot}[/21/{serial}] (reserved characters\n"
"percent-encoded), or with --compressed its compressed form\n"
"BASE/{compressed} (GS1 Digital Link compression: a smaller code for\n"
"small labels; trace-server resolves both).\n"
"\n"
"  --base URL     the resolver's public URL (the server's --public-url)\n"
"  --format F     svg or png (to --out FILE, or standard output when it is\n"
"                 not a terminal), or terminal (half-block characters)\n"
"  --scale N      pixels per module for svg and png, 1-40 (default 8)\n"
"  --invert       terminal: draw dark modules (for light backgrounds)\n"
"  --compressed   encode the compressed URI\n"
"  --print-uri    also print the URI on standard error\n"
"\n"
"exit status: 0 ok; 1 could not write; 2 usage or invalid identifiers.\n";

static int
qr_write(const char *out, const void *data, size_t len, bool binary)
{
	struct trace_error err;

	if (out == NULL) {
		if (binary && isatty(STDOUT_FILENO)) {
			agent_warn("qr", "not writing a PNG to a terminal; use "
			    "--out FILE");
			return AGENT_EXIT_USAGE;
		}
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
			agent_warn("qr", "cannot write to standard output");
			return AGENT_EXIT_FAILED;
		}
		return AGENT_EXIT_OK;
	}
	if (file_write_atomic(out, data, len, 0644, 0, &err) != TRACE_OK) {
		agent_report("qr", &err);
		return AGENT_EXIT_FAILED;
	}
	return AGENT_EXIT_OK;
}

int
cmd_qr(struct agent *a, int argc, char **argv)
{
	enum { OPT_GTIN = OPT_FIRST_LOCAL, OPT_LOT, OPT_SERIAL, OPT_BASE,
		OPT_FORMAT, OPT_OUT, OPT_SCALE, OPT_INVERT, OPT_PRINT_URI,
		OPT_COMPRESSED };
	static const struct option options[] = {
		{ "gtin", required_argument, NULL, OPT_GTIN },
		{ "lot", required_argument, NULL, OPT_LOT },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "base", required_argument, NULL, OPT_BASE },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "scale", required_argument, NULL, OPT_SCALE },
		{ "invert", no_argument, NULL, OPT_INVERT },
		{ "print-uri", no_argument, NULL, OPT_PRINT_URI },
		{ "compressed", no_argument, NULL, OPT_COMPRESSED },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *gtin = NULL, *lot = NULL, *serial = NULL, *base = NULL,
	    *format = NULL, *out = NULL;
	struct gs1_link link;
	struct qr_matrix *matrix = NULL;
	struct trace_error err;
	char uri[QR_TEXT_MAX + 1], base_trim[QR_TEXT_MAX + 1];
	char *text = NULL;
	unsigned char *png = NULL;
	size_t len = 0, base_len;
	int c, scale = 8, rc = AGENT_EXIT_USAGE;
	bool invert = false, print_uri = false, compressed = false;

	(void)a;
	memset(&link, 0, sizeof(link));
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_GTIN: gtin = optarg; break;
		case OPT_LOT: lot = optarg; break;
		case OPT_SERIAL: serial = optarg; break;
		case OPT_BASE: base = optarg; break;
		case OPT_FORMAT: format = optarg; break;
		case OPT_OUT: out = optarg; break;
		case OPT_INVERT: invert = true; break;
		case OPT_PRINT_URI: print_uri = true; break;
		case OPT_COMPRESSED: compressed = true; break;
		case OPT_SCALE:
			scale = atoi(optarg);
			if (scale < QR_SCALE_MIN || scale > QR_SCALE_MAX)
				return agent_usage_error("qr", "--scale must "
				    "be %d to %d", QR_SCALE_MIN, QR_SCALE_MAX);
			break;
		case 'h': fputs(qr_usage, stdout); return AGENT_EXIT_OK;
		default: return agent_usage_error("qr", "bad option");
		}
	}
	if (gtin == NULL || lot == NULL || base == NULL || format == NULL ||
	    optind < argc)
		return agent_usage_error("qr", "--gtin, --lot, --base and "
		    "--format are required");
	if (strcmp(format, "svg") != 0 && strcmp(format, "png") != 0 &&
	    strcmp(format, "terminal") != 0)
		return agent_usage_error("qr", "--format is svg, png or "
		    "terminal");
	if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
		return agent_usage_error("qr", "--base must be an http:// or "
		    "https:// URL");
	base_len = strlen(base);
	while (base_len > 0 && base[base_len - 1] == '/')
		base_len--;
	if (base_len >= sizeof(base_trim))
		return agent_usage_error("qr", "--base is too long");
	memcpy(base_trim, base, base_len);
	base_trim[base_len] = '\0';
	if (gs1_gtin_normalize(gtin, strlen(gtin), link.gtin, "gtin", &err) !=
	    TRACE_OK ||
	    gs1_attr_check(lot, strlen(lot), "lot", &err) != TRACE_OK ||
	    (serial != NULL && gs1_attr_check(serial, strlen(serial), "serial",
	    &err) != TRACE_OK)) {
		agent_report("qr", &err);
		return AGENT_EXIT_USAGE;
	}
	snprintf(link.lot, sizeof(link.lot), "%s", lot);
	if (serial != NULL)
		snprintf(link.serial, sizeof(link.serial), "%s", serial);
	if (compressed) {
		char segment[GS1_COMPRESSED_MAX + 1];
		int n;

		if (gs1_link_compress(&link, segment, sizeof(segment)) == 0)
			return agent_usage_error("qr", "cannot compress this "
			    "URI");
		n = snprintf(uri, sizeof(uri), "%s/%s", base_trim, segment);
		len = n > 0 && (size_t)n < sizeof(uri) ? (size_t)n : 0;
	} else {
		len = gs1_link_format(base_trim, &link, uri, sizeof(uri));
	}
	if (len == 0)
		return agent_usage_error("qr", "the URI is too long for a QR "
		    "code");
	if (print_uri)
		fprintf(stderr, "%s\n", uri);
	rc = AGENT_EXIT_FAILED;
	if (qr_encode(uri, len, &matrix, &err) != TRACE_OK)
		goto fail;
	if (strcmp(format, "png") == 0) {
		if (qr_render_png(matrix, scale, &png, &len, &err) != TRACE_OK)
			goto fail;
		rc = qr_write(out, png, len, true);
	} else if (strcmp(format, "svg") == 0) {
		if (qr_render_svg(matrix, scale, &text, &len, &err) != TRACE_OK)
			goto fail;
		rc = qr_write(out, text, len, false);
	} else {
		if (qr_render_terminal(matrix, invert, &text, &len, &err) !=
		    TRACE_OK)
			goto fail;
		rc = qr_write(out, text, len, false);
	}
	goto out;
fail:
	agent_report("qr", &err);
out:
	qr_matrix_free(matrix);
	free(text);
	free(png);
	return rc;
}
