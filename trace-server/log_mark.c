/*
 * log_mark.c - the integrator's own high-water mark on local disk
 * (--log-state DIR, SPEC section 9, docs/PROTOCOL.md 9.8): the last
 * checkpoint this log key signed, kept outside Redis so that a Redis
 * rolled back or edited cannot make the key sign a tree inconsistent with
 * one it already published.
 *
 * DIR holds two files:
 *   lock        flock(LOCK_EX) for the life of the process: exactly one
 *               signer per state directory (a second one refuses to start)
 *   checkpoint  the last signed checkpoint, a signed note, replaced
 *               atomically (fileio.c: temporary file, fsync, rename, fsync
 *               of the directory) *before* the checkpoint goes to Redis, so
 *               no checkpoint is ever published that the mark does not hold
 *
 * This module owns the directory; log.c decides what to sign against it.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libtrace/fileio.h"
#include "log.h"

/* A signed checkpoint is a few hundred bytes; anything larger is not ours. */
#define LOG_MARK_FILE_MAX 65536

static enum trace_status
mark_path(const char *dir, const char *name, char *out, size_t size,
    struct trace_error *err)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size)
		return trace_error_set(err, TRACE_EMALFORMED, "log_state", NULL,
		    "--log-state path is too long");
	return TRACE_OK;
}

/*
 * Read and verify the stored checkpoint.  TRACE_ENOTFOUND when there is
 * none; anything that is not a checkpoint of this log signed by this key
 * is an error, never "no mark": a damaged mark must stop the signer, not
 * reset it.
 */
static enum trace_status
mark_read(struct log_mark *m, const struct note_verifier *v,
    struct trace_error *err)
{
	char *text = NULL;
	size_t len = 0;
	enum trace_status rc;

	rc = file_read_all(m->path, LOG_MARK_FILE_MAX, &text, &len, err);
	if (rc != TRACE_OK)
		goto out;
	if ((rc = checkpoint_open(text, len, v, &m->cp, err)) != TRACE_OK) {
		rc = trace_error_set(err, TRACE_EBADSIG, "log_state", NULL,
		    "%s is not a checkpoint signed by the log key: %s", m->path,
		    err->message);
		goto out;
	}
	if (strcmp(m->cp.origin, v->name) != 0) {
		rc = trace_error_set(err, TRACE_EBADSIG, "log_state", NULL,
		    "%s is a checkpoint of %s, not of %s", m->path,
		    m->cp.origin, v->name);
		goto out;
	}
	m->cp.extensions = NULL;
	m->cp.extensions_len = 0;
	m->have = true;
out:
	free(text);
	return rc;
}

enum trace_status
log_mark_open(struct log_mark *m, const char *dir, bool init,
    const struct note_verifier *v, struct store *s, struct trace_error *err)
{
	char lock_path[sizeof(m->path)], *note = NULL;
	uint64_t integrated = 0;
	size_t len = 0;
	enum trace_status rc;

	memset(m, 0, sizeof(*m));
	m->lock_fd = -1;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return trace_error_set(err, TRACE_EIO, "log_state", NULL,
		    "cannot create %s: %s", dir, strerror(errno));
	if ((rc = mark_path(dir, "lock", lock_path, sizeof(lock_path), err)) !=
	    TRACE_OK || (rc = mark_path(dir, "checkpoint", m->path,
	    sizeof(m->path), err)) != TRACE_OK)
		return rc;
	m->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (m->lock_fd < 0)
		return trace_error_set(err, TRACE_EIO, "log_state", NULL,
		    "cannot open %s: %s", lock_path, strerror(errno));
	/* SPEC 9: exactly one process per log signs. */
	if (flock(m->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		rc = trace_error_set(err, TRACE_ECONFLICT, "log_state", NULL,
		    "%s is locked: another trace-server signs with this log "
		    "state", dir);
		goto fail;
	}
	rc = mark_read(m, v, err);
	if (rc == TRACE_OK)
		return TRACE_OK;
	if (rc != TRACE_ENOTFOUND)
		goto fail;
	/*
	 * No mark.  A fresh log has nothing to lose; but if Redis already
	 * holds a tree, starting from nothing would let whatever Redis says
	 * become the new history, so only an explicit --log-state-init adopts
	 * Redis's checkpoint (after checking that this key signed it).
	 */
	if ((rc = store_log_head(s, &integrated, &note, &len, err)) !=
	    TRACE_OK)
		goto fail;
	if (note == NULL && integrated == 0) {
		rc = TRACE_OK;
		goto out;
	}
	if (!init) {
		rc = trace_error_set(err, TRACE_ECONFLICT, "log_state", NULL,
		    "Redis holds a log of %" PRIu64 " leaves but %s is missing; "
		    "restore it from backup, or start once with "
		    "--log-state-init to adopt Redis's signed checkpoint",
		    integrated, m->path);
		goto fail;
	}
	if (note == NULL) {
		/* Leaves but never a checkpoint: nothing signed to adopt. */
		rc = TRACE_OK;
		goto out;
	}
	if ((rc = checkpoint_open(note, len, v, &m->cp, err)) != TRACE_OK) {
		rc = trace_error_set(err, TRACE_EBADSIG, "log_state", NULL,
		    "--log-state-init: Redis's checkpoint is not signed by the "
		    "log key: %s", err->message);
		goto fail;
	}
	m->cp.extensions = NULL;
	m->cp.extensions_len = 0;
	if ((rc = file_write_atomic(m->path, note, len, 0600, 1, err)) !=
	    TRACE_OK)
		goto fail;
	m->have = true;
	fprintf(stderr, "trace-server: log: --log-state-init adopted Redis's "
	    "checkpoint of size %" PRIu64 "\n", m->cp.size);
	goto out;
fail:
	log_mark_close(m);
out:
	free(note);
	return rc;
}

enum trace_status
log_mark_save(struct log_mark *m, const char *note, size_t len,
    const struct checkpoint *cp, struct trace_error *err)
{
	enum trace_status rc;

	assert(m->lock_fd >= 0);
	if ((rc = file_write_atomic(m->path, note, len, 0600, 0, err)) !=
	    TRACE_OK)
		return rc;
	m->cp = *cp;
	m->cp.extensions = NULL;
	m->cp.extensions_len = 0;
	m->have = true;
	return TRACE_OK;
}

void
log_mark_close(struct log_mark *m)
{
	if (m == NULL)
		return;
	/* Closing the descriptor releases the flock. */
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	m->lock_fd = -1;
	m->have = false;
}
