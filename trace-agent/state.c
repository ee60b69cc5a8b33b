/*
 * state.c - what trace-agent remembers of each log between runs (SPEC 10,
 * docs/PROTOCOL.md 10.3.1): the largest checkpoint it has verified, per
 * log, and the evidence it keeps when a log shows it something that
 * contradicts that memory.
 *
 * A bundle proves what a checkpoint commits to, not that the log shows
 * everyone the same tree or that it never goes back: a server that serves
 * an older genuine checkpoint with a truncated bundle can hide a recall.
 * Like Go's sumdb client and CT clients, the agent therefore keeps the
 * newest tree it has seen and demands, on every later verify, that the
 * log prove the new tree extends it (RFC 9162 consistency).  A fork (the
 * same size with another root, or a proof that does not verify) or a
 * rollback (the server answers now with a smaller tree) fails the verify
 * and both signed checkpoints go into an evidence file: two notes signed
 * by one log key that cannot both be honest, which anyone can check.
 *
 * Layout of DIR (created 0700):
 *   DIR/logs/<origin, percent-encoded>+<key hash, 8 hex>   the signed note
 *   DIR/evidence/<unix time>-<fork|rollback>-<origin...>.json
 * One file per log (origin and key: a new log key starts a new memory),
 * replaced atomically (libtrace fileio) only by a larger verified tree,
 * read, compared and replaced under an exclusive flock of <file>.lock so
 * that two verifies at once cannot put a smaller tree back.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "libtrace/buf.h"
#include "libtrace/encoding.h"
#include "libtrace/fileio.h"

#define STATE_NAME_MAX (3 * CHECKPOINT_ORIGIN_MAX + 16)

bool
state_default_dir(char *out, size_t size)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;

	/* XDG Base Directory: a relative XDG_STATE_HOME is to be ignored. */
	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(out, size, "%s/trace", xdg);
	else if (home != NULL && home[0] != '\0')
		n = snprintf(out, size, "%s/.local/state/trace", home);
	else
		return false;
	return n > 0 && (size_t)n < size;
}

/* mkdir -p DIR/sub, 0700 for what it creates. */
static bool
make_dir(const char *dir, const char *sub, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s", dir, sub);

	if (n <= 0 || (size_t)n >= size)
		return false;
	for (size_t i = 1; i <= (size_t)n; i++) {
		if (out[i] != '/' && out[i] != '\0')
			continue;
		out[i] = '\0';
		if (mkdir(out, 0700) != 0 && errno != EEXIST)
			return false;
		out[i] = i == (size_t)n ? '\0' : '/';
	}
	return true;
}

/* The origin as a file name: bytes outside [A-Za-z0-9._-] as %XX. */
static void
origin_name(const char *origin, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t used = 0;

	for (const unsigned char *p = (const unsigned char *)origin;
	    *p != '\0' && used + 4 < size; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    (*p == '.' && p != (const unsigned char *)origin)) {
			out[used++] = (char)*p;
		} else {
			out[used++] = '%';
			out[used++] = hex[*p >> 4];
			out[used++] = hex[*p & 15];
		}
	}
	out[used] = '\0';
}

/*
 * Write the evidence file: both signed notes, what was seen and the
 * proof, as JSON (notes hold blank lines, so no plain-text framing).
 * Its path goes into path; false if it could not be written.
 */
static bool
write_evidence(const char *dir, const char *kind, const char *source,
    const char *reason, const struct note_verifier *log_key,
    const char *old_note, size_t old_len, uint64_t old_size,
    const char *new_note, size_t new_len, uint64_t new_size,
    unsigned char proof[][MERKLE_HASH_LEN], size_t count, char *path,
    size_t size)
{
	char folder[PATH_MAX], name[STATE_NAME_MAX], when[21];
	char vkey[NOTE_VERIFIER_KEY_MAX], b64[base64_encoded_len(
	    MERKLE_HASH_LEN) + 1];
	struct trace_error err;
	long long now = time_now();
	bool ok = false;
	struct buf out;

	buf_init(&out, 0);
	if (!make_dir(dir, "evidence", folder, sizeof(folder)))
		goto out;
	origin_name(log_key->name, name, sizeof(name));
	time_format_utc(now, when);
	if (note_verifier_key_format(log_key->name, log_key->public_key, vkey,
	    sizeof(vkey), &err) != TRACE_OK)
		vkey[0] = '\0';
	buf_puts(&out, "{\"evidence\":\"trace log memory (SPEC 10)\","
	    "\"kind\":");
	buf_json_string(&out, kind, strlen(kind));
	buf_puts(&out, ",\"origin\":");
	buf_json_string(&out, log_key->name, strlen(log_key->name));
	buf_puts(&out, ",\"vkey\":");
	buf_json_string(&out, vkey, strlen(vkey));
	buf_puts(&out, ",\"detected\":");
	buf_json_string(&out, when, strlen(when));
	buf_puts(&out, ",\"source\":");
	buf_json_string(&out, source, strlen(source));
	buf_puts(&out, ",\"reason\":");
	buf_json_string(&out, reason, strlen(reason));
	buf_printf(&out, ",\"remembered\":{\"size\":%" PRIu64 ",\"note\":",
	    old_size);
	buf_json_string(&out, old_note, old_len);
	buf_printf(&out, "},\"presented\":{\"size\":%" PRIu64 ",\"note\":",
	    new_size);
	buf_json_string(&out, new_note, new_len);
	buf_puts(&out, "},\"consistencyProof\":[");
	for (size_t i = 0; i < count; i++) {
		base64_encode(proof[i], MERKLE_HASH_LEN, b64);
		buf_printf(&out, "%s\"%s\"", i > 0 ? "," : "", b64);
	}
	buf_puts(&out, "]}\n");
	if (out.failed)
		goto out;
	/* A name of its own: never overwrite earlier evidence. */
	for (int attempt = 0; attempt < 100 && !ok; attempt++) {
		int n = attempt == 0 ?
		    snprintf(path, size, "%s/%lld-%s-%s.json", folder, now,
		    kind, name) :
		    snprintf(path, size, "%s/%lld-%s-%s-%d.json", folder, now,
		    kind, name, attempt);

		if (n <= 0 || (size_t)n >= size)
			break;
		if (file_write_atomic(path, out.data, out.len, 0600, 1, &err) ==
		    TRACE_OK)
			ok = true;
		else if (err.status != TRACE_ECONFLICT)
			break;
	}
out:
	buf_free(&out);
	return ok;
}

/* FAIL line for a contradiction, with the evidence file. */
static enum previous_outcome
contradiction(const struct agent *a, const char *dir, const char *kind,
    const char *reason, const struct note_verifier *log_key,
    const char *old_note, size_t old_len, uint64_t old_size,
    const struct bundle *b, uint64_t new_size,
    unsigned char proof[][MERKLE_HASH_LEN], size_t count)
{
	char path[PATH_MAX];

	if (write_evidence(dir, kind, a->server[0] != '\0' ? a->server :
	    "(a bundle file)", reason, log_key, old_note, old_len, old_size,
	    b->checkpoint, b->checkpoint_len, new_size, proof, count, path,
	    sizeof(path)))
		printf("FAIL  log memory: %s: %s; both signed checkpoints are "
		    "in %s\n", kind, reason, path);
	else
		printf("FAIL  log memory: %s: %s; the evidence file could not "
		    "be written in %s/evidence\n", kind, reason, dir);
	return PREVIOUS_FAILED;
}

static enum previous_outcome state_compare(const struct agent *a,
    const char *dir, const char *path, const struct bundle *b,
    const struct bundle_report *r, const struct note_verifier *log_key,
    bool from_server);

enum previous_outcome
state_check(const struct agent *a, const char *dir, const struct bundle *b,
    const struct bundle_report *r, const struct note_verifier *log_key,
    bool from_server)
{
	char folder[PATH_MAX], path[PATH_MAX], lock[PATH_MAX + 8];
	char name[STATE_NAME_MAX];
	enum previous_outcome out;
	int n, fd;

	if (!r->checkpoint_ok) {
		printf("note    log memory: not compared: the bundle's "
		    "checkpoint does not verify\n");
		return PREVIOUS_OK;
	}
	origin_name(r->checkpoint.origin, name, sizeof(name));
	if (!make_dir(dir, "logs", folder, sizeof(folder)) ||
	    (n = snprintf(path, sizeof(path), "%s/%s+%08" PRIx32, folder,
	    name, log_key->key_hash)) <= 0 || (size_t)n >= sizeof(path)) {
		printf("FAIL  log memory: cannot use %s: %s\n", dir,
		    strerror(errno));
		return PREVIOUS_FAILED;
	}
	snprintf(lock, sizeof(lock), "%s.lock", path);
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(fd, LOCK_EX) != 0) {
		printf("FAIL  log memory: cannot lock %s: %s\n", lock,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return PREVIOUS_FAILED;
	}
	out = state_compare(a, dir, path, b, r, log_key, from_server);
	close(fd);
	return out;
}

/* state_check() under the lock, for the memory in path. */
static enum previous_outcome
state_compare(const struct agent *a, const char *dir, const char *path,
    const struct bundle *b, const struct bundle_report *r,
    const struct note_verifier *log_key, bool from_server)
{
	unsigned char hashes[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	struct merkle_bytes proof[MERKLE_PROOF_MAX];
	const struct checkpoint *cur = &r->checkpoint;
	char *text = NULL, why[768];
	struct checkpoint old;
	struct trace_error err;
	enum previous_outcome out = PREVIOUS_FAILED;
	size_t len = 0, count = 0;
	enum trace_status rc;

	rc = file_read_all(path, NOTE_MAX_LEN, &text, &len, &err);
	if (rc == TRACE_ENOTFOUND) {
		if (file_write_atomic(path, b->checkpoint, b->checkpoint_len,
		    0600, 1, &err) != TRACE_OK) {
			printf("FAIL  log memory: cannot create %s: %s\n", path,
			    err.message);
			return PREVIOUS_FAILED;
		}
		printf("ok    log memory: first checkpoint of %s, size %"
		    PRIu64 ", remembered in %s\n", cur->origin, cur->size, path);
		return PREVIOUS_OK;
	}
	if (rc != TRACE_OK) {
		printf("FAIL  log memory: %s\n", err.message);
		return PREVIOUS_FAILED;
	}
	if (checkpoint_open(text, len, log_key, &old, &err) != TRACE_OK ||
	    strcmp(old.origin, cur->origin) != 0) {
		printf("FAIL  log memory: %s does not hold a checkpoint of %s "
		    "signed by its key (edited?): %s\n", path, cur->origin,
		    err.message);
		goto out;
	}
	if (old.size == cur->size) {
		if (memcmp(old.root, cur->root, MERKLE_HASH_LEN) != 0) {
			out = contradiction(a, dir, "fork", "the log signed two "
			    "different trees of the same size", log_key, text,
			    len, old.size, b, cur->size, NULL, 0);
			goto out;
		}
		printf("ok    log memory: size %" PRIu64 ", the tree "
		    "remembered\n", cur->size);
		out = PREVIOUS_OK;
		goto out;
	}
	if (cur->size < old.size && from_server) {
		/*
		 * The server's answer of now is older than what it showed
		 * before: a recall logged since could be hidden (SPEC 9:
		 * stale, never verified).  A proof that the smaller tree is
		 * a prefix goes into the evidence when the server gives one;
		 * one that fails makes it a fork.
		 */
		const char *kind = "rollback";

		snprintf(why, sizeof(why), "the server now shows a tree of "
		    "size %" PRIu64 ", smaller than size %" PRIu64 " it showed "
		    "before", cur->size, old.size);
		count = 0;
		if (cur->size != 0) {
			char ignored[256];

			if (verify_fetch_consistency(a, cur->size, old.size,
			    hashes, &count, ignored, sizeof(ignored)) !=
			    PREVIOUS_OK)
				count = 0;
			for (size_t i = 0; i < count; i++)
				proof[i] = merkle_bytes_hash(hashes[i]);
			if (count > 0 && bundle_check_consistency(b->checkpoint,
			    b->checkpoint_len, log_key, &old, proof, count, NULL,
			    &err) != TRACE_OK) {
				kind = "fork";
				snprintf(why, sizeof(why), "the server now shows "
				    "a tree of size %" PRIu64 " that is not a "
				    "prefix of size %" PRIu64 " it showed before: "
				    "%s", cur->size, old.size, err.message);
			}
		}
		out = contradiction(a, dir, kind, why, log_key, text, len,
		    old.size, b, cur->size, hashes, count);
		goto out;
	}
	if (cur->size != 0 && old.size != 0 &&
	    (out = verify_fetch_consistency(a, cur->size < old.size ?
	    cur->size : old.size, cur->size < old.size ? old.size : cur->size,
	    hashes, &count, why, sizeof(why))) != PREVIOUS_OK) {
		printf("FAIL  log memory: size %" PRIu64 " remembered, %" PRIu64
		    " now: %s\n", old.size, cur->size, why);
		goto out;
	}
	for (size_t i = 0; i < count; i++)
		proof[i] = merkle_bytes_hash(hashes[i]);
	rc = cur->size > old.size ?
	    bundle_check_consistency(text, len, log_key, cur, proof, count,
	    NULL, &err) :
	    bundle_check_consistency(b->checkpoint, b->checkpoint_len, log_key,
	    &old, proof, count, NULL, &err);
	if (rc != TRACE_OK) {
		snprintf(why, sizeof(why), "size %" PRIu64 " remembered, %"
		    PRIu64 " now: %s", old.size, cur->size, err.message);
		out = contradiction(a, dir, "fork", why, log_key, text, len,
		    old.size, b, cur->size, hashes, count);
		goto out;
	}
	out = PREVIOUS_OK;
	if (cur->size < old.size) {
		/* SPEC 9: stale, not verified: statements logged since (a
		 * recall) are not in this bundle. */
		printf("stale log memory: this bundle's size %" PRIu64 " is a "
		    "prefix of size %" PRIu64 " remembered (kept): statements "
		    "logged since are not in it\n", cur->size, old.size);
		out = PREVIOUS_STALE;
	} else if (file_write_atomic(path, b->checkpoint, b->checkpoint_len,
	    0600, 0, &err) != TRACE_OK) {
		printf("FAIL  log memory: size %" PRIu64 " is a prefix of size %"
		    PRIu64 ", but %s cannot be updated: %s\n", old.size,
		    cur->size, path, err.message);
		out = PREVIOUS_FAILED;
	} else {
		printf("ok    log memory: size %" PRIu64 " remembered is a "
		    "prefix of size %" PRIu64 " (consistency proof verified); "
		    "remembered now\n", old.size, cur->size);
	}
out:
	free(text);
	return out;
}
