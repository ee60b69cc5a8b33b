/*
 * test_keys.c - key ids, key files (modes, tampering), key entries, and
 * the policy rules that decide who may sign what.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libtrace/encoding.h"
#include "libtrace/fileio.h"
#include "libtrace/keyentry.h"
#include "libtrace/keys.h"
#include "libtrace/policy.h"
#include "check.h"

static char dir[] = "/tmp/trace-test-keys-XXXXXX";

static void
test_key_id(void)
{
	/* RFC 8032 test 1 public key: keyid = hex(SHA-256(pub)[0:16]). */
	unsigned char pub[32];
	char id[KEYID_LEN + 1];

	hex_decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
	    64, pub, 32, true);
	key_id(pub, id);
	CHECK_STR(id, "21fe31dfa154a261626bf854046fd227");
	CHECK(key_id_valid(id, KEYID_LEN));
	CHECK(!key_id_valid("21FE31DFA154A261626BF854046FD227", KEYID_LEN));
	CHECK(!key_id_valid(id, KEYID_LEN - 1));
	CHECK(key_name_valid("kim-minsu_2.k", 13));
	CHECK(!key_name_valid("..", 2));
	CHECK(!key_name_valid("a/b", 3));
	CHECK(!key_name_valid("", 0));
}

static void
test_key_files(void)
{
	struct key_pair kp, back;
	struct trace_error err;
	char path[512], *text = NULL;
	size_t len = 0;

	CHECK_INT(key_pair_generate("inspector", &kp, &err), TRACE_OK);
	CHECK_INT(key_pair_generate("../x", &back, &err), TRACE_EMALFORMED);
	CHECK_INT(key_pair_save(&kp, dir, &err), TRACE_OK);
	/* Never overwrite an existing key. */
	CHECK_INT(key_pair_save(&kp, dir, &err), TRACE_ECONFLICT);
	snprintf(path, sizeof(path), "%s/inspector.key", dir);
	{
		struct stat st;
		CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	}
	CHECK_INT(key_pair_load(path, &back, &err), TRACE_OK);
	CHECK(back.has_secret);
	CHECK_STR(back.keyid, kp.keyid);
	CHECK_MEM(back.secret, kp.secret, 32);
	/* Readable by others: refused. */
	chmod(path, 0644);
	CHECK_INT(key_pair_load(path, &back, &err), TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "key_file_mode");
	chmod(path, 0640);
	CHECK_INT(key_pair_load(path, &back, &err), TRACE_EFORBIDDEN);
	chmod(path, 0600);
	snprintf(path, sizeof(path), "%s/inspector.pub", dir);
	CHECK_INT(key_pair_load(path, &back, &err), TRACE_OK);
	CHECK(!back.has_secret);
	CHECK_MEM(back.public_key, kp.public_key, 32);

	/* A .pub whose keyid does not match its key. */
	text = key_public_json(&kp, &len);
	CHECK(text != NULL);
	memcpy(strstr(text, kp.keyid), "00000000", 8);
	CHECK_INT(key_public_parse(text, len, &back, &err), TRACE_EMALFORMED);
	CHECK_STR(err.code, "keyid_mismatch");
	free(text);
	CHECK_INT(key_public_parse("{\"alg\":\"rsa\"}", 13, &back, &err),
	    TRACE_EMALFORMED);
	CHECK_INT(key_pair_load("/nonexistent/x.pub", &back, &err),
	    TRACE_ENOTFOUND);

	/* A .key whose secret belongs to another key. */
	{
		struct key_pair other;
		char *secret_text = NULL, b64[64];
		size_t n = 0;

		CHECK_INT(key_pair_generate("other", &other, &err), TRACE_OK);
		snprintf(path, sizeof(path), "%s/inspector.key", dir);
		CHECK_INT(file_read_all(path, 4096, &secret_text, &n, &err),
		    TRACE_OK);
		base64_encode(kp.secret, 32, b64);
		memcpy(strstr(secret_text, b64), "AAAA", 4);
		snprintf(path, sizeof(path), "%s/broken.key", dir);
		CHECK_INT(file_write_atomic(path, secret_text, n, 0600, 0, &err),
		    TRACE_OK);
		CHECK_INT(key_pair_load(path, &back, &err), TRACE_EMALFORMED);
		CHECK_STR(err.code, "key_mismatch");
		free(secret_text);
	}
}

static struct key_entry
enroll_entry(const struct key_pair *kp, const char *signer, enum key_role role)
{
	struct key_entry e;

	memset(&e, 0, sizeof(e));
	e.op = KEY_OP_ENROLL;
	memcpy(e.keyid, kp->keyid, sizeof(e.keyid));
	memcpy(e.public_key, kp->public_key, 32);
	snprintf(e.name, sizeof(e.name), "Kim Minsu");
	snprintf(e.org, sizeof(e.org), "CCIC Korea");
	e.role = role;
	e.has_not_before = true;
	e.not_before = 1767225600;  /* 2026-01-01 */
	e.has_not_after = true;
	e.not_after = 1798761600;   /* 2027-01-01 */
	e.prefix_count = 1;
	snprintf(e.prefixes[0], sizeof(e.prefixes[0]), "880");
	e.time = 1795600000;
	snprintf(e.signer, sizeof(e.signer), "%s", signer);
	return e;
}

static void
test_key_entries(void)
{
	struct key_pair kp, admin;
	struct key_entry e, back;
	struct trace_error err;
	char *text;
	size_t len = 0;

	key_pair_generate("k", &kp, NULL);
	key_pair_generate("admin", &admin, NULL);
	e = enroll_entry(&kp, admin.keyid, ROLE_INSPECTOR);
	text = key_entry_build(&e, &len);
	CHECK(text != NULL);
	CHECK_INT(key_entry_parse((unsigned char *)text, len, &back, &err),
	    TRACE_OK);
	CHECK_STR(back.keyid, kp.keyid);
	CHECK_INT(back.role, ROLE_INSPECTOR);
	CHECK_INT(back.not_after, 1798761600);
	CHECK_INT(back.prefix_count, 1);
	CHECK_STR(back.prefixes[0], "880");
	CHECK(key_entry_covers_gtin(&back, "08801234567893"));
	CHECK(!key_entry_covers_gtin(&back, "04901234567894"));
	CHECK(key_entry_in_window(&back, 1767225600));
	CHECK(!key_entry_in_window(&back, 1798761600));
	CHECK(!key_entry_in_window(&back, 1767225599));
	free(text);

	/* keyid must be the id of the public key. */
	e.public_key[0] ^= 1;
	text = key_entry_build(&e, &len);
	CHECK_INT(key_entry_parse((unsigned char *)text, len, &back, &err),
	    TRACE_EMALFORMED);
	CHECK_STR(err.code, "keyid_mismatch");
	free(text);
	e.public_key[0] ^= 1;
	/* Window reversed. */
	e.not_after = e.not_before;
	text = key_entry_build(&e, &len);
	CHECK_INT(key_entry_parse((unsigned char *)text, len, &back, &err),
	    TRACE_ERULE);
	CHECK_STR(err.field, "notAfter");
	free(text);

	/*
	 * SPEC 8: an enrollment of a small-order, mixed-order or
	 * non-canonically encoded key is refused (422 weak_public_key at
	 * "public") even with a matching keyid; -A of a good key is fine.
	 */
	{
		static const char *const weak[] = {
			/* order 1, 8; x = 0 with the sign bit; y = p */
			"0100000000000000000000000000000000000000000000000000000000000000",
			"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
			"0100000000000000000000000000000000000000000000000000000000000080",
			"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
			/* RFC 8032 TEST 1's key plus a point of order 8 */
			"3b5b475c4b82dd1572799fc546f4c6c03e478c6654aa4c7f945b347ea32af60d",
			/* y = 2: no x */
			"0200000000000000000000000000000000000000000000000000000000000000",
		};
		struct key_entry w = e;

		w.not_after = 1798761600;       /* e's window is reversed */
		for (size_t i = 0; i < sizeof(weak) / sizeof(*weak); i++) {
			CHECK(hex_decode(weak[i], 64, w.public_key, 32, true));
			key_id(w.public_key, w.keyid);
			text = key_entry_build(&w, &len);
			trace_error_clear(&err);
			CHECK_MSG(key_entry_parse((unsigned char *)text, len,
			    &back, &err) == TRACE_ERULE, "weak key %s", weak[i]);
			CHECK_STR(err.code, "weak_public_key");
			CHECK_STR(err.field, "public");
			CHECK_INT(trace_status_http(err.status), 422);
			/* The entry is read whole before the key is judged. */
			CHECK_STR(back.keyid, w.keyid);
			CHECK_STR(back.signer, w.signer);
			CHECK_INT(back.role, ROLE_INSPECTOR);
			CHECK_INT(back.prefix_count, 1);
			CHECK_MEM(back.public_key, w.public_key, 32);
			free(text);
		}
		memcpy(w.public_key, e.public_key, 32);
		w.public_key[31] ^= 0x80;
		key_id(w.public_key, w.keyid);
		text = key_entry_build(&w, &len);
		CHECK_INT(key_entry_parse((unsigned char *)text, len, &back,
		    &err), TRACE_OK);
		free(text);
		/* The other checks come first: a weak key whose keyid does
		 * not match is a keyid_mismatch. */
		CHECK(hex_decode(weak[0], 64, w.public_key, 32, true));
		text = key_entry_build(&w, &len);
		CHECK_INT(key_entry_parse((unsigned char *)text, len, &back,
		    &err), TRACE_EMALFORMED);
		CHECK_STR(err.code, "keyid_mismatch");
		free(text);
	}

	/* Text-level negatives. */
#define KE(body) "{\"v\":1,\"op\":\"revoke\",\"keyid\":\"0123456789abcdef" \
	"0123456789abcdef\",\"time\":\"2026-11-21T09:00:00Z\",\"signer\":" \
	"\"0123456789abcdef0123456789abcdef\"" body "}"
	CHECK_INT(key_entry_parse((const unsigned char *)KE(",\"reason\":\"x\""),
	    strlen(KE(",\"reason\":\"x\"")), &back, &err), TRACE_OK);
	CHECK_INT(back.op, KEY_OP_REVOKE);
	CHECK_INT(key_entry_parse((const unsigned char *)KE(""), strlen(KE("")),
	    &back, &err), TRACE_EMALFORMED);
	CHECK_STR(err.field, "reason");
	CHECK_INT(key_entry_parse((const unsigned char *)KE(",\"reason\":\"x\","
	    "\"role\":\"admin\""), strlen(KE(",\"reason\":\"x\",\"role\":"
	    "\"admin\"")), &back, &err), TRACE_EMALFORMED);
	CHECK_STR(err.code, "unknown_field");
	CHECK_STR(err.field, "role");
	CHECK_INT(key_entry_parse((const unsigned char *)"{\"v\":1,\"op\":\"x\"}",
	    17, &back, &err), TRACE_EMALFORMED);
	/* SPEC 8: compromisedAt, RFC 3339, at most 5 minutes after the
	 * revoke's own time (09:00:00Z). */
#define CA(t) KE(",\"reason\":\"x\",\"compromisedAt\":\"" t "\"")
	CHECK_INT(key_entry_parse((const unsigned char *)CA("2026-11-20T01:00:00Z"),
	    strlen(CA("2026-11-20T01:00:00Z")), &back, &err), TRACE_OK);
	CHECK(back.has_compromised_at);
	CHECK_INT(back.compromised_at, back.time - 32 * 3600);
	CHECK_INT(key_entry_parse((const unsigned char *)CA("2026-11-21T09:05:00Z"),
	    strlen(CA("2026-11-21T09:05:00Z")), &back, &err), TRACE_OK);
	CHECK_INT(key_entry_parse((const unsigned char *)CA("2026-11-21T09:05:01Z"),
	    strlen(CA("2026-11-21T09:05:01Z")), &back, &err), TRACE_ERULE);
	CHECK_STR(err.code, "bad_window");
	CHECK_STR(err.field, "compromisedAt");
	CHECK_INT(key_entry_parse((const unsigned char *)CA("yesterday"),
	    strlen(CA("yesterday")), &back, &err), TRACE_EMALFORMED);
	CHECK_STR(err.code, "bad_time");
	CHECK_STR(err.field, "compromisedAt");
	CHECK_INT(key_entry_parse((const unsigned char *)KE(",\"reason\":\"x\""),
	    strlen(KE(",\"reason\":\"x\"")), &back, &err), TRACE_OK);
	CHECK(!back.has_compromised_at);
	/* Built back with it, and read back the same. */
	{
		struct key_entry e2;
		size_t n = 0;
		char *built;

		CHECK_INT(key_entry_parse((const unsigned char *)
		    CA("2026-11-20T01:00:00Z"), strlen(CA("2026-11-20T01:00:00Z")),
		    &back, &err), TRACE_OK);
		built = key_entry_build(&back, &n);
		CHECK(built != NULL && strstr(built, "\"compromisedAt\":"
		    "\"2026-11-20T01:00:00Z\"") != NULL);
		CHECK_INT(key_entry_parse((const unsigned char *)built, n, &e2,
		    &err), TRACE_OK);
		CHECK_INT(e2.compromised_at, back.compromised_at);
		free(built);
	}
#undef CA
}

/* An event by signer for gtin at t. */
static void
make_event(struct trace_event *ev, enum event_type type, const char *signer,
    const char *gtin, long long t)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	snprintf(ev->signer, sizeof(ev->signer), "%s", signer);
	snprintf(ev->gtin, sizeof(ev->gtin), "%s", gtin);
	ev->time = t;
}

static void
test_policy(void)
{
	struct key_pair kp, admin_kp;
	struct key_state root, inspector, target;
	struct trace_event ev;
	struct key_entry e;
	struct trace_error err;
	const long long t = 1795600000;

	key_pair_generate("k", &kp, NULL);
	key_pair_generate("admin", &admin_kp, NULL);
	policy_root_state(admin_kp.public_key, &root);
	memset(&inspector, 0, sizeof(inspector));
	inspector.entry = enroll_entry(&kp, root.entry.keyid, ROLE_INSPECTOR);
	inspector.enrolled_at = 5;

	make_event(&ev, EVENT_INSPECTION_COMPLETED, kp.keyid, "08801234567893", t);
	CHECK_INT(policy_check_event(&ev, &inspector, 10, &err), TRACE_OK);
	CHECK_INT(policy_check_event(&ev, NULL, 10, &err), TRACE_EUNKNOWNKEY);
	/* Statement logged before the enrollment. */
	CHECK_INT(policy_check_event(&ev, &inspector, 3, &err),
	    TRACE_EUNKNOWNKEY);
	/* Wrong role. */
	ev.type = EVENT_CUSTOMS_RELEASED;
	CHECK_INT(policy_check_event(&ev, &inspector, 10, &err),
	    TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "role_not_allowed");
	ev.type = EVENT_INSPECTION_COMPLETED;
	/* GTIN out of scope. */
	snprintf(ev.gtin, sizeof(ev.gtin), "04901234567894");
	CHECK_INT(policy_check_event(&ev, &inspector, 10, &err),
	    TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "gtin_not_covered");
	snprintf(ev.gtin, sizeof(ev.gtin), "08801234567893");
	/* Outside the window (expired). */
	ev.time = 1798761600;
	CHECK_INT(policy_check_event(&ev, &inspector, 10, &err),
	    TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "outside_window");
	ev.time = t;
	/* Revoked at 8: statements at 8 or before stand, later ones do not. */
	inspector.revoked = true;
	inspector.revoked_at = 8;
	CHECK_INT(policy_check_event(&ev, &inspector, 7, &err), TRACE_OK);
	CHECK_INT(policy_check_event(&ev, &inspector, 9, &err),
	    TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "key_revoked");
	inspector.revoked = false;
	/* The payload names another signer than the key checked. */
	snprintf(ev.signer, sizeof(ev.signer), "%s", root.entry.keyid);
	CHECK_INT(policy_check_event(&ev, &inspector, 10, &err), TRACE_EBADSIG);
	/* Admin keys sign no events. */
	CHECK_INT(policy_check_event(&ev, &root, 10, &err), TRACE_EFORBIDDEN);

	/* Corrections (own events or a regulator) need the corrected event:
	 * tests/unit/test_fold.c. */

	/* Key entries: admin only, new keys only, revoke enrolled keys once. */
	e = enroll_entry(&kp, root.entry.keyid, ROLE_INSPECTOR);
	/* Round 1 (no org registry yet): the free-text org is accepted. */
	CHECK_INT(policy_check_key_entry(&e, &root, NULL, NULL, true, 1, &err),
	    TRACE_OK);
	CHECK_INT(policy_check_key_entry(&e, &root, &inspector, NULL, true, 1,
	    &err), TRACE_ERULE);
	CHECK_STR(err.code, "key_exists");
	CHECK_INT(policy_check_key_entry(&e, &inspector, NULL, NULL, true, 10,
	    &err), TRACE_EFORBIDDEN);
	CHECK_INT(policy_check_key_entry(&e, NULL, NULL, NULL, true, 10, &err),
	    TRACE_EUNKNOWNKEY);
	e.op = KEY_OP_REVOKE;
	CHECK_INT(policy_check_key_entry(&e, &root, &inspector, NULL, false, 10,
	    &err), TRACE_OK);
	CHECK_INT(policy_check_key_entry(&e, &root, NULL, NULL, false, 10,
	    &err), TRACE_ERULE);
	CHECK_INT(policy_check_key_entry(&e, &root, &root, NULL, false, 10,
	    &err), TRACE_ERULE);
	target = inspector;
	target.revoked = true;
	CHECK_INT(policy_check_key_entry(&e, &root, &target, NULL, false, 10,
	    &err), TRACE_ERULE);
	CHECK_STR(err.code, "already_revoked");
}

static struct org_info
make_org(const char *id, unsigned roles, const char *prefix)
{
	struct org_info o;

	memset(&o, 0, sizeof(o));
	snprintf(o.id, sizeof(o.id), "%s", id);
	snprintf(o.name_zh, sizeof(o.name_zh), "%s", "韩国优品");
	snprintf(o.name_en, sizeof(o.name_en), "%s", "Korea Goods");
	o.roles = roles;
	if (prefix != NULL) {
		o.prefix_count = 1;
		snprintf(o.prefixes[0], sizeof(o.prefixes[0]), "%s", prefix);
	}
	return o;
}

/* SPEC 8 "Organisations", "Admin scope", "Registration". */
static void
test_policy_orgs(void)
{
	struct key_pair root_kp, admin_kp, kp;
	struct key_state root, admin, other, importer;
	struct org_info org = make_org("kgoods", (1u << ROLE_IMPORTER) |
	    (1u << ROLE_BRAND) | (1u << ROLE_ADMIN), "880");
	struct org_info other_org = make_org("other", 1u << ROLE_IMPORTER,
	    "490");
	struct key_entry e;
	struct trace_event ev;
	struct trace_error err;

	key_pair_generate("root", &root_kp, NULL);
	key_pair_generate("admin", &admin_kp, NULL);
	key_pair_generate("k", &kp, NULL);
	policy_root_state(root_kp.public_key, &root);
	memset(&admin, 0, sizeof(admin));
	admin.entry = enroll_entry(&admin_kp, root.entry.keyid, ROLE_ADMIN);
	snprintf(admin.entry.org, sizeof(admin.entry.org), "kgoods");
	admin.enrolled_at = 2;
	admin.org_known = true;
	admin.org = org;

	/* Org entries: the root only. */
	memset(&e, 0, sizeof(e));
	e.op = KEY_OP_ORG;
	e.time = 1795600000;
	snprintf(e.org, sizeof(e.org), "kgoods");
	e.org_def = org;
	CHECK_INT(policy_check_key_entry(&e, &root, NULL, NULL, false, 1, &err),
	    TRACE_OK);
	CHECK_INT(policy_check_key_entry(&e, &root, NULL, &org, false, 1, &err),
	    TRACE_OK);
	CHECK_INT(policy_check_key_entry(&e, &admin, NULL, &org, false, 10,
	    &err), TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "root_only");

	/* Enrollment: a registered org, one of its roles, its prefixes. */
	e = enroll_entry(&kp, root.entry.keyid, ROLE_IMPORTER);
	snprintf(e.org, sizeof(e.org), "kgoods");
	CHECK_INT(policy_check_key_entry(&e, &root, NULL, &org, false, 10,
	    &err), TRACE_OK);
	CHECK_INT(policy_check_key_entry(&e, &root, NULL, NULL, false, 10,
	    &err), TRACE_ERULE);
	CHECK_STR(err.code, "unknown_org");
	CHECK_INT(trace_status_http(err.status), 422);
	e.role = ROLE_CUSTOMS;
	CHECK_INT(policy_check_key_entry(&e, &root, NULL, &org, false, 10,
	    &err), TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "role_not_in_org");
	e.role = ROLE_IMPORTER;
	snprintf(e.prefixes[0], sizeof(e.prefixes[0]), "88");
	CHECK_INT(policy_check_key_entry(&e, &root, NULL, &org, false, 10,
	    &err), TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "prefix_outside_org");
	snprintf(e.prefixes[0], sizeof(e.prefixes[0]), "8801");
	CHECK_INT(policy_check_key_entry(&e, &root, NULL, &org, false, 10,
	    &err), TRACE_OK);
	/* An org with prefixes takes no key for any GTIN. */
	e.prefix_count = 0;
	CHECK_INT(policy_check_key_entry(&e, &root, NULL, &org, false, 10,
	    &err), TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "prefix_outside_org");

	/* Admin scope. */
	admin.entry.prefix_count = 1;
	snprintf(admin.entry.prefixes[0], sizeof(admin.entry.prefixes[0]),
	    "8801");
	e = enroll_entry(&kp, admin.entry.keyid, ROLE_IMPORTER);
	snprintf(e.org, sizeof(e.org), "kgoods");
	snprintf(e.prefixes[0], sizeof(e.prefixes[0]), "88012");
	CHECK_INT(policy_check_key_entry(&e, &admin, NULL, &org, false, 10,
	    &err), TRACE_OK);
	e.prefix_count = 0;                     /* unscoped */
	CHECK_INT(policy_check_key_entry(&e, &admin, NULL, &org, false, 10,
	    &err), TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "prefix_outside_org");
	e.prefix_count = 1;
	snprintf(e.prefixes[0], sizeof(e.prefixes[0]), "8802");
	CHECK_INT(policy_check_key_entry(&e, &admin, NULL, &org, false, 10,
	    &err), TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "prefix_outside_scope");
	snprintf(e.prefixes[0], sizeof(e.prefixes[0]), "8801");
	e.role = ROLE_ADMIN;
	CHECK_INT(policy_check_key_entry(&e, &admin, NULL, &org, false, 10,
	    &err), TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "root_only");
	e.role = ROLE_IMPORTER;
	e.not_after = admin.entry.not_after + 1;
	CHECK_INT(policy_check_key_entry(&e, &admin, NULL, &org, false, 10,
	    &err), TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "window_outside_scope");
	e.has_not_after = false;
	CHECK_INT(policy_check_key_entry(&e, &admin, NULL, &org, false, 10,
	    &err), TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "window_outside_scope");
	e.has_not_after = true;
	e.not_after = admin.entry.not_after;
	CHECK_INT(policy_check_key_entry(&e, &admin, NULL, &org, false, 10,
	    &err), TRACE_OK);
	snprintf(e.org, sizeof(e.org), "other");
	CHECK_INT(policy_check_key_entry(&e, &admin, NULL, &other_org, false,
	    10, &err), TRACE_EFORBIDDEN);
	/* other has no prefix 8801: prefix_outside_org comes first. */
	CHECK_STR(err.code, "prefix_outside_org");
	snprintf(e.prefixes[0], sizeof(e.prefixes[0]), "4901");
	CHECK_INT(policy_check_key_entry(&e, &admin, NULL, &other_org, false,
	    10, &err), TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "wrong_org");

	/* Revocation: an admin revokes keys of its org; the root any. */
	memset(&other, 0, sizeof(other));
	other.entry = enroll_entry(&kp, root.entry.keyid, ROLE_IMPORTER);
	snprintf(other.entry.org, sizeof(other.entry.org), "other");
	other.enrolled_at = 3;
	memset(&e, 0, sizeof(e));
	e.op = KEY_OP_REVOKE;
	e.time = 1795600000;
	snprintf(e.keyid, sizeof(e.keyid), "%s", other.entry.keyid);
	CHECK_INT(policy_check_key_entry(&e, &admin, &other, NULL, false, 10,
	    &err), TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "wrong_org");
	CHECK_INT(policy_check_key_entry(&e, &root, &other, NULL, false, 10,
	    &err), TRACE_OK);
	snprintf(other.entry.org, sizeof(other.entry.org), "kgoods");
	CHECK_INT(policy_check_key_entry(&e, &admin, &other, NULL, false, 10,
	    &err), TRACE_OK);
	/* compromisedAt not before the enrollment's time (SPEC 8); who may
	 * revoke may say so. */
	e.has_compromised_at = true;
	e.compromised_at = other.entry.time;
	CHECK_INT(policy_check_key_entry(&e, &admin, &other, NULL, false, 10,
	    &err), TRACE_OK);
	e.compromised_at = other.entry.time - 1;
	CHECK_INT(policy_check_key_entry(&e, &root, &other, NULL, false, 10,
	    &err), TRACE_ERULE);
	CHECK_STR(err.code, "bad_window");
	CHECK_STR(err.field, "compromisedAt");
	e.has_compromised_at = false;
	/* policy_compromised: only a receipt before the revoke and at or
	 * before compromisedAt keeps a statement's positive effect. */
	other.revoked = true;
	other.revoked_at = 20;
	other.compromised = true;
	other.compromised_at = 1000;
	CHECK(policy_compromised(&other, false, 0, 0));
	CHECK(!policy_compromised(&other, true, 19, 1000));
	CHECK(policy_compromised(&other, true, 19, 1001));
	CHECK(policy_compromised(&other, true, 21, 900));
	other.compromised = false;
	CHECK(!policy_compromised(&other, false, 0, 0));
	other.enrollment_void = true;
	CHECK(policy_compromised(&other, true, 19, 900));
	other.enrollment_void = false;
	other.revoked = false;

	/* Registration: the org's prefixes cover the GTIN. */
	memset(&importer, 0, sizeof(importer));
	importer.entry = enroll_entry(&kp, root.entry.keyid, ROLE_IMPORTER);
	importer.entry.prefix_count = 1;
	snprintf(importer.entry.prefixes[0], sizeof(importer.entry.prefixes[0]),
	    "4");
	snprintf(importer.entry.org, sizeof(importer.entry.org), "other");
	importer.enrolled_at = 4;
	importer.org_known = true;
	importer.org = other_org;
	make_event(&ev, EVENT_PRODUCT_REGISTERED, kp.keyid, "04901234567894",
	    1795600000);
	CHECK_INT(policy_check_event(&ev, &importer, 10, &err), TRACE_OK);
	/* A key wider than its org (org narrowed later): the org decides. */
	snprintf(ev.gtin, sizeof(ev.gtin), "04812345678903");
	CHECK_INT(policy_check_event(&ev, &importer, 10, &err),
	    TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "gtin_outside_org");
	snprintf(ev.gtin, sizeof(ev.gtin), "04901234567894");
	/* An org without prefixes registers no lot. */
	importer.org.prefix_count = 0;
	CHECK_INT(policy_check_event(&ev, &importer, 10, &err),
	    TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "gtin_outside_org");
	/* Other events need no org prefix. */
	ev.type = EVENT_CUSTOMS_DECLARED;
	CHECK_INT(policy_check_event(&ev, &importer, 10, &err), TRACE_OK);
	ev.type = EVENT_PRODUCT_REGISTERED;
	/* A free-text (round-1) org: only by the round-1 rule, before
	 * round1_until; never at ingest (round1_until 0). */
	importer.org_known = false;
	CHECK_INT(policy_check_event(&ev, &importer, 10, &err),
	    TRACE_EFORBIDDEN);
	CHECK_STR(err.code, "gtin_outside_org");
	importer.round1_until = 11;
	CHECK_INT(policy_check_event(&ev, &importer, 10, &err), TRACE_OK);
	CHECK_INT(policy_check_event(&ev, &importer, 11, &err),
	    TRACE_EFORBIDDEN);
}

/* Org entries: strict JSON, every rule (SPEC 8 "Organisations"). */
static void
test_org_entries(void)
{
#define ORG_HEAD "{\"v\":1,\"op\":\"org\","
#define ORG_TAIL ",\"time\":\"2026-11-20T08:00:00Z\",\"signer\":" \
	"\"0123456789abcdef0123456789abcdef\"}"
#define NAME "\"name\":{\"zh\":\"韩国优品\",\"en\":\"Korea Goods\"}"
	static const struct { const char *text, *code; } bad[] = {
		{ ORG_HEAD "\"org\":\"Korea\"," NAME ",\"roles\":[\"brand\"]"
		    ORG_TAIL, "bad_org" },
		{ ORG_HEAD "\"org\":\"\"," NAME ",\"roles\":[\"brand\"]"
		    ORG_TAIL, "bad_org" },
		{ ORG_HEAD "\"org\":\"a_b\"," NAME ",\"roles\":[\"brand\"]"
		    ORG_TAIL, "bad_org" },
		{ ORG_HEAD "\"org\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaa\"," NAME ",\"roles\":[\"brand\"]"
		    ORG_TAIL, "bad_org" },
		{ ORG_HEAD "\"org\":\"kg\",\"roles\":[\"brand\"]" ORG_TAIL,
		    "missing_field" },
		{ ORG_HEAD "\"org\":\"kg\",\"name\":{\"zh\":\"x\"},"
		    "\"roles\":[\"brand\"]" ORG_TAIL, "missing_field" },
		{ ORG_HEAD "\"org\":\"kg\",\"name\":{\"zh\":\"x\",\"en\":"
		    "\"y\",\"ko\":\"z\"},\"roles\":[\"brand\"]" ORG_TAIL,
		    "unknown_field" },
		{ ORG_HEAD "\"org\":\"kg\",\"name\":{\"zh\":\"\",\"en\":"
		    "\"y\"},\"roles\":[\"brand\"]" ORG_TAIL, "bad_text" },
		{ ORG_HEAD "\"org\":\"kg\"," NAME ",\"roles\":[]" ORG_TAIL,
		    "bad_roles" },
		{ ORG_HEAD "\"org\":\"kg\"," NAME ",\"roles\":[\"brand\","
		    "\"brand\"]" ORG_TAIL, "bad_roles" },
		{ ORG_HEAD "\"org\":\"kg\"," NAME ",\"roles\":[\"king\"]"
		    ORG_TAIL, "bad_roles" },
		{ ORG_HEAD "\"org\":\"kg\"," NAME ",\"roles\":[1]" ORG_TAIL,
		    "bad_roles" },
		{ ORG_HEAD "\"org\":\"kg\"," NAME ",\"roles\":[\"brand\"],"
		    "\"gtinPrefixes\":[]" ORG_TAIL, "bad_prefixes" },
		{ ORG_HEAD "\"org\":\"kg\"," NAME ",\"roles\":[\"brand\"],"
		    "\"gtinPrefixes\":[\"88a\"]" ORG_TAIL, "bad_prefix" },
		{ ORG_HEAD "\"org\":\"kg\"," NAME ",\"roles\":[\"brand\"],"
		    "\"keyid\":\"0123456789abcdef0123456789abcdef\"" ORG_TAIL,
		    "unknown_field" },
	};
	const char *good = ORG_HEAD "\"org\":\"k-goods.kr\"," NAME
	    ",\"roles\":[\"importer\",\"brand\"],\"gtinPrefixes\":[\"880\","
	    "\"8801\"]" ORG_TAIL;
	struct key_entry e, back;
	struct trace_error err;
	char *text;
	size_t len = 0;

	CHECK_INT(key_entry_parse((const unsigned char *)good, strlen(good), &e,
	    &err), TRACE_OK);
	CHECK_INT(e.op, KEY_OP_ORG);
	CHECK_STR(e.org, "k-goods.kr");
	CHECK_STR(e.org_def.id, "k-goods.kr");
	CHECK_STR(e.org_def.name_zh, "韩国优品");
	CHECK_STR(e.org_def.name_en, "Korea Goods");
	CHECK(org_has_role(&e.org_def, ROLE_IMPORTER));
	CHECK(org_has_role(&e.org_def, ROLE_BRAND));
	CHECK(!org_has_role(&e.org_def, ROLE_ADMIN));
	CHECK_INT(e.org_def.prefix_count, 2);
	CHECK(org_covers_gtin(&e.org_def, "08801234567893"));
	CHECK(!org_covers_gtin(&e.org_def, "04901234567894"));
	CHECK_STR(e.keyid, "");
	CHECK_INT(key_entry_check_visible(&e, &err), TRACE_OK);
	/* Built back byte for byte: roles in the registry's role order. */
	text = key_entry_build(&e, &len);
	CHECK(text != NULL);
	if (text != NULL) {
		CHECK_STR(text, ORG_HEAD "\"org\":\"k-goods.kr\"," NAME
		    ",\"roles\":[\"brand\",\"importer\"],\"gtinPrefixes\":"
		    "[\"880\",\"8801\"]" ORG_TAIL);
		CHECK_INT(key_entry_parse((unsigned char *)text, len, &back,
		    &err), TRACE_OK);
		CHECK_MEM(&back.org_def, &e.org_def, sizeof(e.org_def));
		free(text);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		trace_error_clear(&err);
		CHECK_MSG(key_entry_parse((const unsigned char *)bad[i].text,
		    strlen(bad[i].text), &e, &err) != TRACE_OK, "bad org %zu",
		    i);
		CHECK_MSG(strcmp(err.code, bad[i].code) == 0,
		    "bad org %zu: %s, not %s", i, err.code, bad[i].code);
	}
	/* An invisible character in a name submitted now. */
	{
		const char *hidden = ORG_HEAD "\"org\":\"kg\",\"name\":{\"zh\":"
		    "\"x\",\"en\":\"Kore\xe2\x80\xae" "a\"},\"roles\":[\"brand\"]"
		    ORG_TAIL;

		CHECK_INT(key_entry_parse((const unsigned char *)hidden,
		    strlen(hidden), &e, &err), TRACE_OK);
		CHECK_INT(key_entry_check_visible(&e, &err), TRACE_EMALFORMED);
		CHECK_STR(err.field, "name.en");
	}
	/* Prefix containment is by string prefix. */
	{
		struct org_info o = make_org("o", 1u << ROLE_BRAND, "880");
		struct key_entry k;

		memset(&k, 0, sizeof(k));
		CHECK(!org_covers_prefixes(&o, &k));
		k.prefix_count = 2;
		snprintf(k.prefixes[0], sizeof(k.prefixes[0]), "880");
		snprintf(k.prefixes[1], sizeof(k.prefixes[1]), "88012");
		CHECK(org_covers_prefixes(&o, &k));
		snprintf(k.prefixes[1], sizeof(k.prefixes[1]), "8");
		CHECK(!org_covers_prefixes(&o, &k));
		o.prefix_count = 0;
		CHECK(org_covers_prefixes(&o, &k));
	}
	CHECK(org_id_valid("a.b-c9", 6));
	CHECK(!org_id_valid("A", 1));
	CHECK(!org_id_valid("a b", 3));
}

/* Names, orgs and reasons of entries submitted now: no invisible or
 * bidirectional formatting character (U+202E, U+200B, a Hangul filler). */
static void
test_key_entry_visible(void)
{
	static const char *const hidden[] = {
		"CCIC \xe2\x80\xae""aerok", "Kim\xe2\x80\x8bMinsu",
		"\xe3\x85\xa4",
	};
	static const char *const fields[] = { "name", "org", "reason" };
	struct key_entry e;
	struct trace_error err;

	memset(&e, 0, sizeof(e));
	snprintf(e.name, sizeof(e.name), "%s", "\xea\xb9\x80 Kim");
	snprintf(e.org, sizeof(e.org), "%s", "CCIC Korea");
	CHECK_INT(key_entry_check_visible(&e, &err), TRACE_OK);
	for (size_t f = 0; f < 3; f++)
		for (size_t i = 0; i < 3; i++) {
			struct key_entry x = e;
			char *field = f == 0 ? x.name : f == 1 ? x.org : x.reason;
			size_t size = f == 0 ? sizeof(x.name) : f == 1 ?
			    sizeof(x.org) : sizeof(x.reason);

			snprintf(field, size, "%s", hidden[i]);
			CHECK_INT(key_entry_check_visible(&x, &err),
			    TRACE_EMALFORMED);
			CHECK_STR(err.code, "bad_text");
			CHECK_STR(err.field, fields[f]);
		}
}

int
main(void)
{
	char cmd[256];

	crypto_init();
	if (mkdtemp(dir) == NULL)
		return 1;
	test_key_id();
	test_key_files();
	test_key_entries();
	test_key_entry_visible();
	test_policy();
	test_policy_orgs();
	test_org_entries();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
	CHECK_DONE();
}
