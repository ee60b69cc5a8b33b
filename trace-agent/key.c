/*
 * key.c - trace-agent key gen | org | enroll | revoke: making key pairs,
 * and the admin's signed key-registry statements (docs/PROTOCOL.md
 * section 7).
 *
 * Key entries are not queued: enrolling and revoking are deliberate admin
 * acts done online, and a revocation that silently waits in a queue would
 * be worse than one that fails loudly.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "libtrace/encoding.h"
#include "libtrace/keyentry.h"

static const char key_usage[] =
"usage: trace-agent key gen --name NAME [--out DIR]\n"
"       trace-agent key org --admin ROOT.key --org ID --name-zh TEXT\n"
"                   --name-en TEXT --role ROLE... [--gtin-prefix P]...\n"
"                   [--print]\n"
"       trace-agent key enroll --admin ADMIN.key --pub NAME.pub --role ROLE\n"
"                   --org ORG [--gtin-prefix P]... [--not-before TIME]\n"
"                   [--not-after TIME] [--name TEXT] [--print]\n"
"       trace-agent key revoke --admin ADMIN.key --keyid ID --reason TEXT\n"
"                   [--compromised-at TIME] [--print]\n"
"\n"
"gen      a new Ed25519 key pair: DIR/NAME.key (mode 0600, the secret) and\n"
"         DIR/NAME.pub; never replaces existing files.  Prints the key id.\n"
"org      register an organisation, or replace the one with that ID\n"
"         (root key only): ID is 1-64 of a-z 0-9 . -; its name in Chinese\n"
"         and English is what pages show; --role (repeatable) lists the\n"
"         roles its keys may have; --gtin-prefix (repeatable) its GS1\n"
"         company prefixes (an org without any registers no lot).\n"
"enroll   sign a key entry with an admin key and send it to the server.\n"
"         ORG is the id of a registered org; ROLE one of its roles: brand,\n"
"         inspector, logistics, customs, warehouse, importer, regulator or\n"
"         admin (admins: by the root only).  --gtin-prefix (repeatable)\n"
"         limits the key to GTINs of those GS1 company prefixes, each\n"
"         within the org's (required when the org has prefixes); an admin\n"
"         other than the root enrolls only keys of its own org, within its\n"
"         prefixes and window.  Times are RFC 3339.\n"
"revoke   sign and send a revocation of key ID (an admin other than the\n"
"         root: only keys of its own org).  --compromised-at TIME (RFC\n"
"         3339; not before the key's enrollment, not in the future): the\n"
"         key was lost then, so its closes, corrections, passes, releases\n"
"         and enrollments received after TIME count for nothing, while its\n"
"         recalls and fails stay in force; every view flags them.\n"
"\n"
"  --print  write the signed envelope to stdout instead of sending it\n"
"\n"
"A private key file that group or others can read is refused.\n"
"exit status: 0 ok; 1 refused or failed; 2 usage; 3 server unreachable.\n";

static int
key_gen(int argc, char **argv)
{
	enum { OPT_NAME = OPT_FIRST_LOCAL, OPT_OUT };
	static const struct option options[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *dir = ".";
	char path[PATH_MAX];
	struct key_pair kp;
	struct trace_error err;
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_NAME: name = optarg; break;
		case OPT_OUT: dir = optarg; break;
		case 'h': fputs(key_usage, stdout); return AGENT_EXIT_OK;
		default: return agent_usage_error("key gen", "bad option");
		}
	}
	if (name == NULL || optind < argc)
		return agent_usage_error("key gen", "--name NAME is required");
	if (!key_name_valid(name, strlen(name)))
		return agent_usage_error("key gen", "a key name is 1-%d of "
		    "A-Z a-z 0-9 . _ -", KEY_NAME_MAX);
	/* Check both first, so a clash never leaves half a pair behind. */
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s.%s", dir, name,
		    i == 0 ? "key" : "pub");
		if (access(path, F_OK) == 0) {
			agent_warn("key gen", "%s exists; refusing to replace "
			    "it", path);
			return AGENT_EXIT_FAILED;
		}
	}
	if (key_pair_generate(name, &kp, &err) != TRACE_OK ||
	    key_pair_save(&kp, dir, &err) != TRACE_OK) {
		key_pair_wipe(&kp);
		agent_report("key gen", &err);
		return AGENT_EXIT_FAILED;
	}
	printf("%s\n", kp.keyid);
	fprintf(stderr, "wrote %s/%s.key (keep it secret) and %s/%s.pub\n",
	    dir, name, dir, name);
	key_pair_wipe(&kp);
	return AGENT_EXIT_OK;
}

/* Load a signing key; every problem is the caller's exit 1. */
static bool
load_admin(const char *cmd, const char *path, struct key_pair *kp)
{
	struct trace_error err;

	if (key_pair_load(path, kp, &err) != TRACE_OK) {
		agent_report(cmd, &err);
		return false;
	}
	if (!kp->has_secret) {
		agent_warn(cmd, "%s is a public key; sign with the .key file",
		    path);
		return false;
	}
	return true;
}

/* Sign the entry with admin, then print or POST it. */
static int
key_submit(struct agent *a, const char *cmd, struct key_entry *entry,
    const struct key_pair *admin, bool print)
{
	struct dsse_envelope env = { 0 };
	struct http_response resp = { 0 };
	struct key_entry check;
	struct trace_error err;
	char id[QUEUE_ID_HEX + 1], why[512];
	char *payload = NULL, *text = NULL;
	size_t len = 0, text_len = 0;
	long long log_index = -1;
	int rc = AGENT_EXIT_FAILED;

	if ((payload = key_entry_build(entry, &len)) == NULL) {
		agent_warn(cmd, "out of memory");
		goto out;
	}
	/* Never sign what the server would refuse to parse. */
	if (key_entry_parse((const unsigned char *)payload, len, &check,
	    &err) != TRACE_OK || key_entry_check_visible(&check, &err) !=
	    TRACE_OK ||
	    dsse_sign(TYPE_KEY, (const unsigned char *)payload, len,
	    admin->secret, admin->keyid, &env, &err) != TRACE_OK) {
		agent_report(cmd, &err);
		goto out;
	}
	hex_encode(env.id, SHA256_LEN, id);
	if ((text = dsse_envelope_to_text(&env, &text_len)) == NULL) {
		agent_warn(cmd, "out of memory");
		goto out;
	}
	if (print) {
		printf("%s\n", text);
		rc = AGENT_EXIT_OK;
		goto out;
	}
	if (http_exchange(a, cmd, "POST", "/api/v1/keys", NULL, text, text_len,
	    3, &resp, &err) != TRACE_OK || http_status_temporary(resp.status)) {
		if (resp.status != 0)
			agent_warn(cmd, "server unavailable (HTTP %ld)",
			    resp.status);
		else
			agent_report(cmd, &err);
		rc = AGENT_EXIT_UNREACHABLE;
		goto out;
	}
	if (resp.status != 200 && resp.status != 201) {
		http_describe_error(&resp, why, sizeof(why));
		agent_warn(cmd, "refused: %s", why);
		goto out;
	}
	{
		struct json_doc *doc = NULL;

		if (http_response_json(&resp, &doc, NULL) == TRACE_OK)
			json_get_int(json_doc_root(doc), "logIndex", false,
			    &log_index, NULL);
		json_doc_free(doc);
	}
	printf("%s\n", id);
	fprintf(stderr, "%s %s %s%s (log index %lld)\n",
	    entry->op == KEY_OP_ENROLL ? "enrolled" :
	    entry->op == KEY_OP_REVOKE ? "revoked" : "registered",
	    entry->op == KEY_OP_ORG ? "org" : "key",
	    entry->op == KEY_OP_ORG ? entry->org : entry->keyid,
	    resp.status == 200 ? ", already done before" : "", log_index);
	rc = AGENT_EXIT_OK;
out:
	http_response_free(&resp);
	dsse_envelope_clear(&env);
	free(payload);
	free(text);
	return rc;
}

static bool
parse_time_arg(const char *cmd, const char *opt, const char *s, long long *t)
{
	int offset;

	if (time_parse_rfc3339(s, strlen(s), t, &offset))
		return true;
	agent_usage_error(cmd, "%s: \"%s\" is not an RFC 3339 time", opt, s);
	return false;
}

static int
key_enroll(struct agent *a, int argc, char **argv)
{
	enum { OPT_ADMIN = OPT_FIRST_LOCAL, OPT_PUB, OPT_ROLE, OPT_ORG,
		OPT_PREFIX, OPT_NOT_BEFORE, OPT_NOT_AFTER, OPT_NAME, OPT_PRINT };
	static const struct option options[] = {
		{ "admin", required_argument, NULL, OPT_ADMIN },
		{ "pub", required_argument, NULL, OPT_PUB },
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "org", required_argument, NULL, OPT_ORG },
		{ "gtin-prefix", required_argument, NULL, OPT_PREFIX },
		{ "not-before", required_argument, NULL, OPT_NOT_BEFORE },
		{ "not-after", required_argument, NULL, OPT_NOT_AFTER },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "print", no_argument, NULL, OPT_PRINT },
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char cmd[] = "key enroll";
	const char *admin_path = NULL, *pub_path = NULL, *role = NULL,
	    *org = NULL, *name = NULL;
	struct key_entry entry;
	struct key_pair admin, subject;
	struct trace_error err;
	bool print = false;
	int c, rc;

	memset(&entry, 0, sizeof(entry));
	memset(&admin, 0, sizeof(admin));
	entry.op = KEY_OP_ENROLL;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (agent_common_option(a, c, optarg))
			continue;
		switch (c) {
		case OPT_ADMIN: admin_path = optarg; break;
		case OPT_PUB: pub_path = optarg; break;
		case OPT_ROLE: role = optarg; break;
		case OPT_ORG: org = optarg; break;
		case OPT_NAME: name = optarg; break;
		case OPT_PRINT: print = true; break;
		case OPT_PREFIX:
			if (entry.prefix_count == KEY_PREFIXES_MAX ||
			    strlen(optarg) > KEY_PREFIX_MAX)
				return agent_usage_error(cmd, "at most %d "
				    "prefixes of 1-%d digits", KEY_PREFIXES_MAX,
				    KEY_PREFIX_MAX);
			snprintf(entry.prefixes[entry.prefix_count++],
			    KEY_PREFIX_MAX + 1, "%s", optarg);
			break;
		case OPT_NOT_BEFORE:
			if (!parse_time_arg(cmd, "--not-before", optarg,
			    &entry.not_before))
				return AGENT_EXIT_USAGE;
			entry.has_not_before = true;
			break;
		case OPT_NOT_AFTER:
			if (!parse_time_arg(cmd, "--not-after", optarg,
			    &entry.not_after))
				return AGENT_EXIT_USAGE;
			entry.has_not_after = true;
			break;
		case 'h': fputs(key_usage, stdout); return AGENT_EXIT_OK;
		default: return agent_usage_error(cmd, "bad option");
		}
	}
	if (admin_path == NULL || pub_path == NULL || role == NULL ||
	    org == NULL || optind < argc)
		return agent_usage_error(cmd, "--admin, --pub, --role and --org "
		    "are required");
	if (!key_role_parse(role, strlen(role), &entry.role))
		return agent_usage_error(cmd, "unknown role \"%s\"", role);
	if (key_pair_load(pub_path, &subject, &err) != TRACE_OK) {
		agent_report(cmd, &err);
		return AGENT_EXIT_FAILED;
	}
	key_pair_wipe(&subject);   /* only the public half is needed */
	if (!load_admin(cmd, admin_path, &admin))
		return AGENT_EXIT_FAILED;
	memcpy(entry.keyid, subject.keyid, sizeof(entry.keyid));
	memcpy(entry.public_key, subject.public_key, ED25519_PUBLIC_LEN);
	memcpy(entry.signer, admin.keyid, sizeof(entry.signer));
	snprintf(entry.name, sizeof(entry.name), "%s",
	    name != NULL ? name : subject.name);
	snprintf(entry.org, sizeof(entry.org), "%s", org);
	entry.time = time_now();
	rc = key_submit(a, cmd, &entry, &admin, print);
	key_pair_wipe(&admin);
	return rc;
}

static int
key_org(struct agent *a, int argc, char **argv)
{
	enum { OPT_ADMIN = OPT_FIRST_LOCAL, OPT_ORG, OPT_NAME_ZH, OPT_NAME_EN,
		OPT_ROLE, OPT_PREFIX, OPT_PRINT };
	static const struct option options[] = {
		{ "admin", required_argument, NULL, OPT_ADMIN },
		{ "org", required_argument, NULL, OPT_ORG },
		{ "name-zh", required_argument, NULL, OPT_NAME_ZH },
		{ "name-en", required_argument, NULL, OPT_NAME_EN },
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "gtin-prefix", required_argument, NULL, OPT_PREFIX },
		{ "print", no_argument, NULL, OPT_PRINT },
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char cmd[] = "key org";
	const char *admin_path = NULL, *org = NULL, *zh = NULL, *en = NULL;
	struct key_entry entry;
	struct org_info *o = &entry.org_def;
	struct key_pair admin;
	enum key_role role;
	bool print = false;
	int c, rc;

	memset(&entry, 0, sizeof(entry));
	memset(&admin, 0, sizeof(admin));
	entry.op = KEY_OP_ORG;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (agent_common_option(a, c, optarg))
			continue;
		switch (c) {
		case OPT_ADMIN: admin_path = optarg; break;
		case OPT_ORG: org = optarg; break;
		case OPT_NAME_ZH: zh = optarg; break;
		case OPT_NAME_EN: en = optarg; break;
		case OPT_PRINT: print = true; break;
		case OPT_ROLE:
			if (!key_role_parse(optarg, strlen(optarg), &role))
				return agent_usage_error(cmd, "unknown role "
				    "\"%s\"", optarg);
			o->roles |= 1u << role;
			break;
		case OPT_PREFIX:
			if (o->prefix_count == KEY_PREFIXES_MAX ||
			    strlen(optarg) > KEY_PREFIX_MAX)
				return agent_usage_error(cmd, "at most %d "
				    "prefixes of 1-%d digits", KEY_PREFIXES_MAX,
				    KEY_PREFIX_MAX);
			snprintf(o->prefixes[o->prefix_count++],
			    KEY_PREFIX_MAX + 1, "%s", optarg);
			break;
		case 'h': fputs(key_usage, stdout); return AGENT_EXIT_OK;
		default: return agent_usage_error(cmd, "bad option");
		}
	}
	if (admin_path == NULL || org == NULL || zh == NULL || en == NULL ||
	    o->roles == 0 || optind < argc)
		return agent_usage_error(cmd, "--admin, --org, --name-zh, "
		    "--name-en and at least one --role are required");
	if (!org_id_valid(org, strlen(org)))
		return agent_usage_error(cmd, "--org: an org id is 1-%d of "
		    "a-z 0-9 . -", ORG_ID_MAX);
	if (strlen(zh) > KEY_TEXT_MAX || strlen(en) > KEY_TEXT_MAX)
		return agent_usage_error(cmd, "a name is 1-%d bytes",
		    KEY_TEXT_MAX);
	if (!load_admin(cmd, admin_path, &admin))
		return AGENT_EXIT_FAILED;
	snprintf(o->id, sizeof(o->id), "%s", org);
	snprintf(entry.org, sizeof(entry.org), "%s", org);
	snprintf(o->name_zh, sizeof(o->name_zh), "%s", zh);
	snprintf(o->name_en, sizeof(o->name_en), "%s", en);
	memcpy(entry.signer, admin.keyid, sizeof(entry.signer));
	entry.time = time_now();
	/* key_submit parses what it built: an empty name or a bad prefix is
	 * reported there, before anything is signed. */
	rc = key_submit(a, cmd, &entry, &admin, print);
	key_pair_wipe(&admin);
	return rc;
}

static int
key_revoke(struct agent *a, int argc, char **argv)
{
	enum { OPT_ADMIN = OPT_FIRST_LOCAL, OPT_KEYID, OPT_REASON, OPT_PRINT,
		OPT_COMPROMISED_AT };
	static const struct option options[] = {
		{ "admin", required_argument, NULL, OPT_ADMIN },
		{ "keyid", required_argument, NULL, OPT_KEYID },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "compromised-at", required_argument, NULL,
		    OPT_COMPROMISED_AT },
		{ "print", no_argument, NULL, OPT_PRINT },
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char cmd[] = "key revoke";
	const char *admin_path = NULL, *keyid = NULL, *reason = NULL;
	struct key_entry entry;
	struct key_pair admin;
	bool print = false;
	int c, rc;

	memset(&entry, 0, sizeof(entry));
	memset(&admin, 0, sizeof(admin));
	entry.op = KEY_OP_REVOKE;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (agent_common_option(a, c, optarg))
			continue;
		switch (c) {
		case OPT_ADMIN: admin_path = optarg; break;
		case OPT_KEYID: keyid = optarg; break;
		case OPT_REASON: reason = optarg; break;
		case OPT_PRINT: print = true; break;
		case OPT_COMPROMISED_AT:
			if (!parse_time_arg(cmd, "--compromised-at", optarg,
			    &entry.compromised_at))
				return AGENT_EXIT_USAGE;
			entry.has_compromised_at = true;
			break;
		case 'h': fputs(key_usage, stdout); return AGENT_EXIT_OK;
		default: return agent_usage_error(cmd, "bad option");
		}
	}
	if (admin_path == NULL || keyid == NULL || reason == NULL ||
	    optind < argc)
		return agent_usage_error(cmd, "--admin, --keyid and --reason "
		    "are required");
	if (!key_id_valid(keyid, strlen(keyid)))
		return agent_usage_error(cmd, "--keyid: a key id is %d "
		    "lowercase hex digits", KEYID_LEN);
	if (strlen(reason) == 0 || strlen(reason) > KEY_REASON_MAX)
		return agent_usage_error(cmd, "--reason: 1-%d bytes",
		    KEY_REASON_MAX);
	if (!load_admin(cmd, admin_path, &admin))
		return AGENT_EXIT_FAILED;
	memcpy(entry.keyid, keyid, KEYID_LEN + 1);
	memcpy(entry.signer, admin.keyid, sizeof(entry.signer));
	snprintf(entry.reason, sizeof(entry.reason), "%s", reason);
	entry.time = time_now();
	rc = key_submit(a, cmd, &entry, &admin, print);
	key_pair_wipe(&admin);
	return rc;
}

int
cmd_key(struct agent *a, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(key_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? AGENT_EXIT_USAGE : AGENT_EXIT_OK;
	}
	/* The action's own argv starts at its name, as getopt expects. */
	if (strcmp(argv[1], "gen") == 0)
		return key_gen(argc - 1, argv + 1);
	if (strcmp(argv[1], "org") == 0)
		return key_org(a, argc - 1, argv + 1);
	if (strcmp(argv[1], "enroll") == 0)
		return key_enroll(a, argc - 1, argv + 1);
	if (strcmp(argv[1], "revoke") == 0)
		return key_revoke(a, argc - 1, argv + 1);
	return agent_usage_error("key", "unknown action '%s' (gen, org, "
	    "enroll, revoke)", argv[1]);
}
