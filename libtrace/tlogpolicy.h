/*
 * tlogpolicy.h - C2SP tlog-policy: which logs and witnesses a verifier
 * trusts and which cosignatures make a quorum (docs/PROTOCOL.md section
 * 9.7).  (libtrace/policy.h is a different thing: who may sign which
 * statement.)
 *
 *     log <vkey> [<url>]                  vkey of type 0x01, name = origin
 *     witness <name> <vkey> [<url>]       vkey of type 0x04 (cosign.h)
 *     group <name> all|any|<k> <name>...  members defined above
 *     quorum <name>|none                  exactly once
 *
 * Items are separated by runs of spaces and tabs; empty lines and lines
 * starting with '#' are ignored; every line ends in '\n'.
 */
#ifndef TRACE_TLOGPOLICY_H
#define TRACE_TLOGPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "note.h"

/* tlog-policy "Implementation limits": at least 32 of each. */
#define TLOG_POLICY_LOGS_MAX 32
#define TLOG_POLICY_WITNESSES_MAX 32
#define TLOG_POLICY_GROUPS_MAX 32
#define TLOG_POLICY_NAME_MAX 255
#define TLOG_POLICY_URL_MAX 1023
#define TLOG_POLICY_TEXT_MAX (256 * 1024)
/* The quorum "none", and the members of groups: a witness is its index,
 * a group TLOG_POLICY_WITNESSES_MAX + its index. */
#define TLOG_POLICY_NONE (-1)
#define TLOG_POLICY_GROUP_BASE TLOG_POLICY_WITNESSES_MAX

struct tlog_policy_log {
	struct note_verifier key;              /* key.name is the origin */
	char url[TLOG_POLICY_URL_MAX + 1];     /* "" when none */
};

struct tlog_policy_witness {
	char name[TLOG_POLICY_NAME_MAX + 1];   /* the policy's own name */
	struct note_verifier key;              /* cosignature key ID */
	char url[TLOG_POLICY_URL_MAX + 1];     /* "" when none */
};

struct tlog_policy_group {
	char name[TLOG_POLICY_NAME_MAX + 1];
	size_t threshold;                      /* 1 <= threshold <= count */
	size_t count;
	int members[TLOG_POLICY_WITNESSES_MAX + TLOG_POLICY_GROUPS_MAX];
};

struct tlog_policy {
	size_t log_count, witness_count, group_count;
	struct tlog_policy_log logs[TLOG_POLICY_LOGS_MAX];
	struct tlog_policy_witness witnesses[TLOG_POLICY_WITNESSES_MAX];
	struct tlog_policy_group groups[TLOG_POLICY_GROUPS_MAX];
	int quorum;                            /* TLOG_POLICY_NONE or a member */
};

/*
 * Parse policy text.  On TRACE_OK *out is a malloc'd policy the caller
 * frees with tlog_policy_free().  Errors are TRACE_EMALFORMED with field
 * "line N" (or TRACE_ETOOBIG over a limit), and *out is NULL.
 */
enum trace_status tlog_policy_parse(const char *text, size_t len,
    struct tlog_policy **out, struct trace_error *err);

/* Accepts NULL. */
void tlog_policy_free(struct tlog_policy *policy);

/* Whether the witnesses marked in witnessed[i] (i < witness_count) satisfy
 * the quorum (tlog-policy "Defining a witness group"). */
bool tlog_policy_quorum_met(const struct tlog_policy *policy,
    const bool witnessed[TLOG_POLICY_WITNESSES_MAX]);

struct tlog_policy_result {
	int log;                               /* index of the signing log */
	struct checkpoint checkpoint;          /* extensions point into note */
	bool witnessed[TLOG_POLICY_WITNESSES_MAX];
	uint64_t timestamps[TLOG_POLICY_WITNESSES_MAX]; /* when witnessed */
	size_t witnessed_count;
	bool quorum;
};

/*
 * Check a checkpoint note against the policy: a valid signature by one
 * of the logs whose key name is the checkpoint's origin (else
 * TRACE_EUNKNOWNKEY, or TRACE_EBADSIG for a bad signature by such a
 * key), every witness's cosignature (a bad line by a known witness is
 * TRACE_EBADSIG; absent ones just do not count), then the quorum
 * (TRACE_EFORBIDDEN "quorum_not_met" when short).  res is filled as far
 * as the check got, so a caller can report who did cosign.
 */
enum trace_status tlog_policy_verify(const struct tlog_policy *policy,
    const char *note, size_t len, struct tlog_policy_result *res,
    struct trace_error *err);

#endif
