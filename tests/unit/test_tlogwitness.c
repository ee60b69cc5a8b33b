/*
 * test_tlogwitness.c - the add-checkpoint body of C2SP tlog-witness: the
 * spec's example request parsed exactly, a formatted body parsed back, and
 * every malformed spelling refused.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtrace/encoding.h"
#include "libtrace/tlogwitness.h"
#include "check.h"

#define EM_DASH "\xe2\x80\x94"

/* tlog-witness "add-checkpoint": the example request body. */
static const char spec_note[] =
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    EM_DASH " example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJ"
    "urmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    EM_DASH " example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9Edm"
    "HXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n";
static const char spec_proof[] =
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n";

static enum trace_status
parse(const char *s, struct tlog_witness_request *r, struct trace_error *e)
{
	return tlog_witness_request_parse(s, strlen(s), r, e);
}

static void
test_spec_example(void)
{
	static struct tlog_witness_request r, again;
	char body[2048];
	char *out = NULL;
	size_t out_len = 0, n = 0;
	unsigned char first[32];

	snprintf(body, sizeof(body), "old 20852014\n%s\n%s", spec_proof,
	    spec_note);
	CHECK_INT(parse(body, &r, NULL), TRACE_OK);
	CHECK_INT(r.old_size, 20852014);
	CHECK_INT(r.proof_count, 4);
	CHECK(base64_decode("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=", 44,
	    first, &n, NULL) == TRACE_OK && n == 32);
	CHECK_MEM(r.proof[0], first, 32);
	CHECK_INT(r.note_len, strlen(spec_note));
	CHECK(r.note != NULL && memcmp(r.note, spec_note, r.note_len) == 0);

	/* Formatting gives back the same bytes. */
	CHECK_INT(tlog_witness_request_format(r.old_size,
	    (const unsigned char (*)[32])r.proof, r.proof_count, r.note,
	    r.note_len, &out, &out_len, NULL), TRACE_OK);
	CHECK_STR(out, body);
	CHECK_INT(out_len, strlen(body));
	CHECK_INT(parse(out, &again, NULL), TRACE_OK);
	free(out);

	/* old 0 and no proof. */
	snprintf(body, sizeof(body), "old 0\n\n%s", spec_note);
	CHECK_INT(parse(body, &r, NULL), TRACE_OK);
	CHECK_INT(r.old_size, 0);
	CHECK_INT(r.proof_count, 0);
	CHECK_INT(tlog_witness_request_format(0, NULL, 0, spec_note,
	    strlen(spec_note), &out, &out_len, NULL), TRACE_OK);
	CHECK_STR(out, body);
	free(out);
	/* The largest size. */
	snprintf(body, sizeof(body), "old 18446744073709551615\n\n%s",
	    spec_note);
	CHECK_INT(parse(body, &r, NULL), TRACE_OK);
	CHECK(r.old_size == UINT64_MAX);
}

static void
test_malformed(void)
{
	static struct tlog_witness_request r;
	static const char *const bad[] = {
		"",
		"old 5",
		"old 5\n",
		"old 5\n\n",
		"\nold 5\n\nx\n",
		"old\n\nx\n",
		"old \n\nx\n",
		"old 05\n\nx\n",
		"old -5\n\nx\n",
		"old +5\n\nx\n",
		"old  5\n\nx\n",
		"old 5 \n\nx\n",
		"Old 5\n\nx\n",
		"old 0x5\n\nx\n",
		"old 18446744073709551616\n\nx\n",
		"old 5\r\n\r\nx\n",
		"old 5\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw\n\nx\n",
		"old 5\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpka==\n\nx\n",
		"old 5\n PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\nx\n",
		"old 5\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\r\n\nx\n",
		"old 5\n-6WVhPs2CwSsb5rYBH5cjHV_wSmA79abXAwhXw3Kj_0=\n\nx\n",
		"old 5\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n",
		"old 5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=AAAA\n\nx\n",
		"old 5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\nx\n",
	};
	struct trace_error err;
	char body[4096];
	size_t o;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(parse(bad[i], &r, &err) == TRACE_EMALFORMED,
		    "case %zu accepted", i);
	/* 63 proof lines are fine, 64 are not. */
	o = (size_t)snprintf(body, sizeof(body), "old 5\n");
	for (int i = 0; i < 63; i++)
		o += (size_t)snprintf(body + o, sizeof(body) - o,
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
	snprintf(body + o, sizeof(body) - o, "\nx\n");
	CHECK_INT(parse(body, &r, NULL), TRACE_OK);
	CHECK_INT(r.proof_count, 63);
	snprintf(body + o, sizeof(body) - o,
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nx\n");
	CHECK_INT(parse(body, &r, &err), TRACE_EMALFORMED);
	CHECK_STR(err.code, "proof_too_long");
	/* Over the size bound. */
	{
		char *big = malloc(TLOG_WITNESS_BODY_MAX + 2);

		if (big != NULL) {
			memset(big, 'a', TLOG_WITNESS_BODY_MAX + 1);
			memcpy(big, "old 0\n\n", 7);
			CHECK_INT(tlog_witness_request_parse(big,
			    TLOG_WITNESS_BODY_MAX + 1, &r, NULL), TRACE_ETOOBIG);
			free(big);
		}
	}
	CHECK_INT(tlog_witness_request_format(0, NULL, 64, "x", 1,
	    &(char *){ NULL }, &o, NULL), TRACE_EMALFORMED);
}

static void
test_size_body(void)
{
	uint64_t size = 1;

	CHECK_INT(tlog_witness_size_parse("0\n", 2, &size, NULL), TRACE_OK);
	CHECK_INT(size, 0);
	CHECK_INT(tlog_witness_size_parse("20852163\n", 9, &size, NULL),
	    TRACE_OK);
	CHECK_INT(size, 20852163);
	CHECK_INT(tlog_witness_size_parse("5", 1, &size, NULL),
	    TRACE_EMALFORMED);
	CHECK_INT(tlog_witness_size_parse("\n", 1, &size, NULL),
	    TRACE_EMALFORMED);
	CHECK_INT(tlog_witness_size_parse("05\n", 3, &size, NULL),
	    TRACE_EMALFORMED);
	CHECK_INT(tlog_witness_size_parse("5\n\n", 3, &size, NULL),
	    TRACE_EMALFORMED);
	CHECK_INT(tlog_witness_size_parse("5 \n", 3, &size, NULL),
	    TRACE_EMALFORMED);
}

int
main(void)
{
	test_spec_example();
	test_malformed();
	test_size_body();
	CHECK_DONE();
}
