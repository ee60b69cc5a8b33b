/*
 * test_units.c - SPEC section 12 in libtrace: the code hash byte for byte,
 * the roots over serials and over code hashes, membership and
 * non-membership proofs (and the forgeries a counterfeiter would try:
 * another serial's proof, leaves that do not touch, a shortened set), the
 * serials.issued payload rules, and the fold's answer for a serial with
 * ranges, with a root and with a withdrawn set; a recall of serials never
 * issued.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "libtrace/crypto.h"
#include "libtrace/encoding.h"
#include "libtrace/fold.h"
#include "libtrace/units.h"

#define GTIN "08801234567893"
#define MAX 8
#define BRAND "b0000000000000000000000000000000"

struct chain {
	struct trace_event ev[MAX];
	char id[MAX][2 * SHA256_LEN + 1];
	struct fold_statement st[MAX];
	size_t count;
	struct fold_result fold;
};

static void
chain_reset(struct chain *c)
{
	for (size_t i = 0; i < c->count; i++)
		event_free(&c->ev[i]);
	fold_result_clear(&c->fold);
	memset(c, 0, sizeof(*c));
}

/* Append type with data; false if event_parse refuses it. */
static bool
add(struct chain *c, const char *type, const char *data, struct trace_error *err)
{
	char text[4096], prev[80];
	size_t i = c->count;

	if (i == 0)
		snprintf(prev, sizeof(prev), "null");
	else
		snprintf(prev, sizeof(prev), "\"%s\"", c->id[i - 1]);
	snprintf(text, sizeof(text), "{\"v\":1,\"type\":\"%s\",\"chain\":"
	    "{\"gtin\":\"" GTIN "\",\"lot\":\"L1\"},\"seq\":%zu,\"prev\":%s,"
	    "\"time\":\"2026-11-20T08:30:00+09:00\",\"signer\":\"" BRAND "\","
	    "\"data\":%s}", type, i, prev, data);
	if (event_parse((const unsigned char *)text, strlen(text), &c->ev[i],
	    err) != TRACE_OK)
		return false;
	snprintf(c->id[i], sizeof(c->id[i]), "%02zx%062x", i + 1, 0xabc);
	c->st[i] = (struct fold_statement){ .ev = &c->ev[i], .id = c->id[i],
		.log_index = 100 + (long long)i, .signer_role = ROLE_BRAND,
		.signer_org = "amore" };
	c->count++;
	return true;
}

static void
fold(struct chain *c)
{
	struct trace_error err;

	fold_result_clear(&c->fold);
	CHECK(fold_run(c->st, c->count, NULL, &c->fold, &err) == TRACE_OK);
}

#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"
#define REG "{\"name\":{\"en\":\"E\"},\"brand\":\"B\",\"origin\":\"KR\"}"

static void
test_code_hash(void)
{
	unsigned char h[32], want[32];
	const char in[] = "trace-code\0" "08801234567893/L1\0" "S1\0"
	    "1234567890123456";

	units_code_hash("08801234567893/L1", "S1", "1234567890123456", h);
	sha256(in, sizeof(in) - 1, want);
	CHECK_MEM(h, want, 32);
	CHECK(units_code_valid("0000000000000000", 16));
	CHECK(!units_code_valid("000000000000000a", 16));
	CHECK(!units_code_valid("000000000000000", 15));
}

static void
test_proofs(void)
{
	const char *serials[] = { "S05", "S01", "S09", "S03", "S07", "S03" };
	size_t n = units_serials_sort(serials, 6);
	unsigned char root[32], leaves[5 * 32];
	struct units_proof p, forged;
	struct trace_error err;
	bool in;

	CHECK_INT(n, 5);
	CHECK_STR(serials[0], "S01");
	CHECK_STR(serials[4], "S09");
	CHECK(units_serials_root(serials, n, root, &err) == TRACE_OK);
	/* The root is RFC 6962's over the serials' bytes as leaves. */
	for (size_t i = 0; i < n; i++)
		merkle_leaf_hash(serials[i], 3, leaves + 32 * i);
	{
		unsigned char r2[32];

		merkle_root(leaves, n, r2);
		CHECK_MEM(root, r2, 32);
	}
	/* Membership. */
	CHECK(units_prove(serials, n, "S07", &p, &err) == TRACE_OK);
	CHECK(p.member);
	CHECK_MEM(p.root, root, 32);
	CHECK(units_verify("S07", root, n, &p, &in, &err) == TRACE_OK && in);
	/* The counterfeiter reuses S07's proof for an invented S08. */
	CHECK(units_verify("S08", root, n, &p, &in, &err) == TRACE_EBADSIG);
	/* Non-membership between leaves, before the first, after the last. */
	CHECK(units_prove(serials, n, "S04", &p, &err) == TRACE_OK);
	CHECK(!p.member && p.has_left && p.has_right);
	CHECK_STR(p.left.serial, "S03");
	CHECK_STR(p.right.serial, "S05");
	CHECK(units_verify("S04", root, n, &p, &in, &err) == TRACE_OK && !in);
	CHECK(units_prove(serials, n, "S00", &p, &err) == TRACE_OK);
	CHECK(!p.has_left && p.has_right && p.right.index == 0);
	CHECK(units_verify("S00", root, n, &p, &in, &err) == TRACE_OK && !in);
	CHECK(units_prove(serials, n, "S10", &p, &err) == TRACE_OK);
	CHECK(p.has_left && !p.has_right && p.left.index == 4);
	CHECK(units_verify("S10", root, n, &p, &in, &err) == TRACE_OK && !in);
	/* A server hiding S05 by bracketing S05 with S03 and S07: the
	 * leaves are not adjacent. */
	CHECK(units_prove(serials, n, "S04", &p, &err) == TRACE_OK);
	CHECK(units_prove(serials, n, "S06", &forged, &err) == TRACE_OK);
	p.right = forged.right;
	CHECK(units_verify("S05", root, n, &p, &in, &err) == TRACE_EBADSIG);
	/* Or claiming S03 is the last leaf. */
	CHECK(units_prove(serials, n, "S04", &p, &err) == TRACE_OK);
	p.has_right = false;
	CHECK(units_verify("S04", root, n, &p, &in, &err) == TRACE_EBADSIG);
	/* A wrong count is another tree. */
	CHECK(units_prove(serials, n, "S04", &p, &err) == TRACE_OK);
	CHECK(units_verify("S04", root, n - 1, &p, &in, &err) ==
	    TRACE_EBADSIG);
	/* A tampered path. */
	p.left.path[0][0] ^= 1;
	CHECK(units_verify("S04", root, n, &p, &in, &err) != TRACE_OK);
}

static void
test_hashes_root(void)
{
	unsigned char h[3 * 32], sorted[3 * 32], leaves[3 * 32], r1[32], r2[32];
	struct trace_error err;

	memset(h, 0x33, 32);
	memset(h + 32, 0x11, 32);
	memset(h + 64, 0x22, 32);
	memset(sorted, 0x11, 32);
	memset(sorted + 32, 0x22, 32);
	memset(sorted + 64, 0x33, 32);
	CHECK(units_hashes_root(h, 3, r1, &err) == TRACE_OK);
	for (int i = 0; i < 3; i++)
		merkle_leaf_hash(sorted + 32 * i, 32, leaves + 32 * i);
	merkle_root(leaves, 3, r2);
	CHECK_MEM(r1, r2, 32);
	CHECK_MEM(h, sorted, 96);
}

static void
test_payload_rules(void)
{
	struct chain c = { 0 };
	struct trace_error err;

	CHECK(add(&c, "product.registered", REG, &err));
	CHECK(add(&c, "serials.issued", "{\"ranges\":[[\"S001\",\"S100\"]]}",
	    &err));
	CHECK(!add(&c, "serials.issued", "{}", &err));
	CHECK_STR(err.code, "missing_field");
	CHECK(!add(&c, "serials.issued", "{\"ranges\":[[\"S1\",\"S100\"]]}",
	    &err));
	CHECK_STR(err.code, "bad_range");
	CHECK_STR(err.field, "data.ranges[0]");
	CHECK(!add(&c, "serials.issued", "{\"ranges\":[[\"S9\",\"S1\"]]}",
	    &err));
	CHECK_STR(err.code, "bad_range");
	CHECK(!add(&c, "serials.issued", "{\"root\":\"" Z64 "\"}", &err));
	CHECK_STR(err.field, "data.count");
	CHECK(!add(&c, "serials.issued", "{\"ranges\":[[\"S1\",\"S2\"]],"
	    "\"count\":2}", &err));
	CHECK(!add(&c, "codes.issued", "{\"root\":\"00\",\"count\":1}", &err));
	CHECK(!add(&c, "codes.issued", "{\"root\":\"" Z64 "\",\"count\":0}",
	    &err));
	CHECK(event_role_allowed(EVENT_SERIALS_ISSUED, ROLE_BRAND));
	CHECK(event_role_allowed(EVENT_CODES_ISSUED, ROLE_IMPORTER));
	CHECK(!event_role_allowed(EVENT_SERIALS_ISSUED, ROLE_LOGISTICS));
	chain_reset(&c);
}

static void
test_fold_issued(void)
{
	struct chain c = { 0 };
	struct trace_error err;
	const char *set[] = { "A7", "B3", "Z1" };
	unsigned char root[32];
	char hex[65], data[200];
	struct units_proof p;

	/* No set declared: unknown. */
	CHECK(add(&c, "product.registered", REG, &err));
	fold(&c);
	CHECK(!fold_declares_issued(&c.fold));
	CHECK_INT(fold_serial_issued(&c.fold, "S005", NULL, 0),
	    FOLD_ISSUED_UNKNOWN);
	/* Ranges. */
	CHECK(add(&c, "serials.issued", "{\"ranges\":[[\"S001\",\"S100\"]]}",
	    &err));
	fold(&c);
	CHECK_INT(fold_serial_issued(&c.fold, "S005", NULL, 0), FOLD_ISSUED_YES);
	CHECK_INT(fold_serial_issued(&c.fold, "S101", NULL, 0), FOLD_ISSUED_NO);
	CHECK_INT(fold_serial_issued(&c.fold, "S5", NULL, 0), FOLD_ISSUED_NO);
	/* An importer recalling serials that were never issued. */
	CHECK(add(&c, "recall.issued", "{\"reason\":\"r\",\"severity\":1,"
	    "\"action\":\"a\",\"serials\":[[\"S050\",\"S060\"],[\"X1\","
	    "\"X9\"]]}", &err));
	fold(&c);
	CHECK_INT(c.fold.statements[2].problem, FOLD_PROBLEM_NOT_ISSUED);
	CHECK(!c.fold.statements[2].ignored);
	CHECK_INT(c.fold.open_recalls, 1);
	CHECK(fold_problem_error(&c.fold, 2, &err) == TRACE_ERULE);
	CHECK_STR(err.code, "serials_not_issued");
	chain_reset(&c);

	CHECK(add(&c, "product.registered", REG, &err));
	CHECK(add(&c, "serials.issued", "{\"ranges\":[[\"S001\",\"S100\"]]}",
	    &err));
	CHECK(add(&c, "recall.issued", "{\"reason\":\"r\",\"severity\":1,"
	    "\"action\":\"a\",\"serials\":[[\"S090\",\"S200\"]]}", &err));
	/* A root set besides: S200 may be anywhere. */
	CHECK(units_serials_root(set, 3, root, &err) == TRACE_OK);
	hex_encode(root, 32, hex);
	snprintf(data, sizeof(data), "{\"root\":\"%s\",\"count\":3}", hex);
	CHECK(add(&c, "serials.issued", data, &err));
	fold(&c);
	CHECK_INT(c.fold.statements[2].problem, FOLD_PROBLEM_NONE);
	CHECK_INT(fold_serial_issued(&c.fold, "S050", NULL, 0), FOLD_ISSUED_YES);
	/* B3 with no proof: unknown; with its proof: yes. */
	CHECK_INT(fold_serial_issued(&c.fold, "B3", NULL, 0),
	    FOLD_ISSUED_UNKNOWN);
	CHECK(units_prove(set, 3, "B3", &p, &err) == TRACE_OK);
	CHECK_INT(fold_serial_issued(&c.fold, "B3", &p, 1), FOLD_ISSUED_YES);
	CHECK(units_prove(set, 3, "B4", &p, &err) == TRACE_OK);
	CHECK_INT(fold_serial_issued(&c.fold, "B4", &p, 1), FOLD_ISSUED_NO);
	/* B4's proof (B3 < B4 < Z1) says nothing about A1. */
	CHECK_INT(fold_serial_issued(&c.fold, "A1", &p, 1),
	    FOLD_ISSUED_UNKNOWN);
	/* The brand withdraws the range set: S050 is no longer vouched for. */
	snprintf(data, sizeof(data), "{\"corrects\":\"%s\",\"reason\":\"r\"}",
	    c.id[1]);
	CHECK(add(&c, "correction", data, &err));
	fold(&c);
	CHECK(c.fold.issued[0].withdrawn);
	CHECK(units_prove(set, 3, "S050", &p, &err) == TRACE_OK);
	CHECK_INT(fold_serial_issued(&c.fold, "S050", &p, 1), FOLD_ISSUED_NO);
	chain_reset(&c);
}

/* The kept tree proves exactly what units_prove() proves, for sets of
 * every size up to 70 and serials inside, between and outside. */
static void
test_tree(void)
{
	static char names[70][8];
	const char *set[70];
	struct trace_error err;

	for (size_t i = 0; i < 70; i++) {
		snprintf(names[i], sizeof(names[i]), "S%03zu", 2 * i + 10);
		set[i] = names[i];
	}
	for (size_t n = 1; n <= 70; n++) {
		struct units_tree t;
		unsigned char root[32];

		CHECK(units_tree_build(set, n, &t, &err) == TRACE_OK);
		CHECK(units_serials_root(set, n, root, &err) == TRACE_OK);
		CHECK_MEM(t.root, root, 32);
		for (size_t k = 0; k < 2 * n + 12; k += 1) {
			char serial[8];
			struct units_proof a, b;
			bool in;

			snprintf(serial, sizeof(serial), "S%03zu", k + 4);
			CHECK(units_prove(set, n, serial, &a, &err) == TRACE_OK);
			CHECK(units_tree_prove(&t, serial, &b, &err) == TRACE_OK);
			CHECK(memcmp(&a, &b, sizeof(a)) == 0 ||
			    (a.member == b.member && a.has_left == b.has_left &&
			    a.has_right == b.has_right &&
			    a.left.path_len == b.left.path_len &&
			    memcmp(a.left.path, b.left.path,
			    a.left.path_len * 32) == 0 &&
			    a.right.path_len == b.right.path_len &&
			    memcmp(a.right.path, b.right.path,
			    a.right.path_len * 32) == 0));
			CHECK(units_verify(serial, root, n, &b, &in, &err) ==
			    TRACE_OK);
			CHECK(in == ((k + 4) % 2 == 0 && k + 4 >= 10 &&
			    k + 4 <= 2 * (n - 1) + 10));
		}
		units_tree_clear(&t);
	}
}

int
main(void)
{
	crypto_init();
	test_code_hash();
	test_proofs();
	test_hashes_root();
	test_payload_rules();
	test_fold_issued();
	test_tree();
	CHECK_DONE();
}
