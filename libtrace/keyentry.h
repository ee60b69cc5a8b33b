/*
 * keyentry.h - key registry statements (payloadType
 * application/vnd.trace.key.v1+json, docs/PROTOCOL.md section 7): enroll, revoke
 * and org (an organisation the root registers, section 7.1), parsed and
 * validated against every rule, and built for signing.
 */
#ifndef TRACE_KEYENTRY_H
#define TRACE_KEYENTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto.h"
#include "error.h"
#include "json.h"
#include "keys.h"

enum key_role {
	ROLE_BRAND,
	ROLE_INSPECTOR,
	ROLE_LOGISTICS,
	ROLE_CUSTOMS,
	ROLE_WAREHOUSE,
	ROLE_IMPORTER,
	ROLE_REGULATOR,
	ROLE_ADMIN,
	ROLE_COUNT,
};

enum key_op {
	KEY_OP_ENROLL,
	KEY_OP_REVOKE,
	KEY_OP_ORG,
};

#define KEY_PREFIXES_MAX 32
#define KEY_PREFIX_MAX 13     /* digits of a GS1 company prefix */
#define KEY_TEXT_MAX 200      /* name, org */
#define KEY_REASON_MAX 500
#define ORG_ID_MAX 64         /* [a-z0-9.-]{1,64} */
#define KEY_COMPROMISE_FUTURE_SECONDS 300  /* compromisedAt vs the revoke's time */

/*
 * A registered organisation (op "org"): what the root said it is.  Roles
 * is a bit set, 1 << enum key_role.  prefix_count 0: the org has no GTIN
 * prefixes and registers no lot.
 */
struct org_info {
	char id[ORG_ID_MAX + 1];
	char name_zh[KEY_TEXT_MAX + 1];
	char name_en[KEY_TEXT_MAX + 1];
	unsigned roles;
	size_t prefix_count;
	char prefixes[KEY_PREFIXES_MAX][KEY_PREFIX_MAX + 1];
};

struct key_entry {
	enum key_op op;
	char keyid[KEYID_LEN + 1];     /* "" for an org entry */
	char signer[KEYID_LEN + 1];
	long long time;
	/* enroll only */
	unsigned char public_key[ED25519_PUBLIC_LEN];
	char name[KEY_TEXT_MAX + 1];
	char org[KEY_TEXT_MAX + 1];
	enum key_role role;
	bool has_not_before, has_not_after;
	long long not_before, not_after;
	size_t prefix_count;           /* 0 = any GTIN */
	char prefixes[KEY_PREFIXES_MAX][KEY_PREFIX_MAX + 1];
	/* revoke only */
	char reason[KEY_REASON_MAX + 1];
	/* SPEC 8 "Revocation and compromise": the key's holder lost it at
	 * compromised_at (not before the enrollment's time, policy.h; not
	 * more than KEY_COMPROMISE_FUTURE_SECONDS after the revoke's own
	 * time).  Statements by the key received after it lose their
	 * positive effect (fold.h "compromised"). */
	bool has_compromised_at;
	long long compromised_at;
	/* org only (its id is also in org[]) */
	struct org_info org_def;
};

const char *key_role_name(enum key_role role);
bool key_role_parse(const char *s, size_t len, enum key_role *role);

/*
 * Parse and validate a key entry payload: strict JSON, v == 1, every field
 * of its op and nothing else, keyid == key_id(public), times RFC 3339,
 * notBefore < notAfter, prefixes 1-13 digits, and for an enroll a public
 * key that ed25519_public_key_check() accepts (else TRACE_ERULE
 * "weak_public_key", field "public").  Errors name the field.  That check
 * comes last: after weak_public_key *entry is complete, so a reader of a
 * stored round-1 entry can still tell who signed it and what it enrolled.
 */
enum trace_status key_entry_parse(const unsigned char *payload, size_t len,
    struct key_entry *entry, struct trace_error *err);

/* The same from an already parsed payload object. */
enum trace_status key_entry_from_json(const struct json_value *root,
    struct key_entry *entry, struct trace_error *err);

/* For an entry submitted now (not a stored one: see codes.h text_visible):
 * TRACE_EMALFORMED "bad_text" naming the field when its name, org or reason
 * holds an invisible or bidirectional formatting character. */
enum trace_status key_entry_check_visible(const struct key_entry *entry,
    struct trace_error *err);

/* True if s (len bytes) is an org id: [a-z0-9.-]{1,64}. */
bool org_id_valid(const char *s, size_t len);

/* True if the org lists role. */
bool org_has_role(const struct org_info *org, enum key_role role);

/* True if every prefix of the enrollment e lies within one of org's: it
 * starts with it.  An org without prefixes takes any; an org with
 * prefixes needs e to have some (absent means any GTIN). */
bool org_covers_prefixes(const struct org_info *org, const struct key_entry *e);

/* True if the org has prefixes and one covers gtin14 (the rule of
 * key_entry_covers_gtin). */
bool org_covers_gtin(const struct org_info *org, const char *gtin14);

/*
 * Build the payload JSON of entry (with entry->time as given) into a
 * malloc'd buffer the caller frees.
 */
char *key_entry_build(const struct key_entry *entry, size_t *len);

/* True if gtin14 is covered by the entry's prefixes (or it has none).  A
 * prefix is a GS1 company prefix, matched after the GTIN-14 indicator
 * digit (so "880" covers "08801234567893"). */
bool key_entry_covers_gtin(const struct key_entry *entry, const char *gtin14);

/* True if t is inside [notBefore, notAfter). */
bool key_entry_in_window(const struct key_entry *entry, long long t);

#endif
