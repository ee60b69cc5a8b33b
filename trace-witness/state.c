/*
 * state.c - the witness's memory: per log, the latest checkpoint it
 * cosigned, one file per origin in the state directory, named by the
 * SHA-256 of the origin (origins may hold any character).
 *
 * This file is the whole of the witness's guarantee: if it goes back, the
 * witness can be made to cosign a fork.  So it is written before the
 * cosignature leaves (temporary file, fsync, rename, fsync of the
 * directory: fileio.c), and a damaged one stops the witness at start-up
 * instead of being taken as "never cosigned".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libtrace/crypto.h"
#include "libtrace/encoding.h"
#include "libtrace/fileio.h"
#include "witness.h"

static enum trace_status
log_load(struct witness_log *log, struct trace_error *err)
{
	struct note_parsed parsed;
	struct checkpoint cp;
	enum trace_status st;
	char *buf = NULL;
	size_t len = 0;

	st = file_read_all(log->state_path, NOTE_MAX_LEN, &buf, &len, err);
	if (st == TRACE_ENOTFOUND) {
		log->has_state = false;
		log->size = 0;
		st = TRACE_OK;
		goto out;
	}
	if (st != TRACE_OK)
		goto out;
	if ((st = note_parse(buf, len, &parsed, err)) != TRACE_OK)
		goto damaged;
	st = checkpoint_parse(buf, parsed.text_len, &cp, err);
	note_parsed_clear(&parsed);
	if (st != TRACE_OK)
		goto damaged;
	if (strcmp(cp.origin, log->origin) != 0) {
		st = trace_error_set(err, TRACE_EMALFORMED, "bad_state", NULL,
		    "%s holds a checkpoint of %s, not %s", log->state_path,
		    cp.origin, log->origin);
		goto out;
	}
	log->has_state = true;
	log->size = cp.size;
	memcpy(log->root, cp.root, MERKLE_HASH_LEN);
	goto out;
damaged:
	st = trace_error_set(err, TRACE_EMALFORMED, "bad_state", NULL,
	    "%s is not a checkpoint (%s); restore it from a backup",
	    log->state_path, err != NULL ? err->message : "");
out:
	free(buf);
	return st;
}

enum trace_status
witness_state_open(struct witness *w, const char *dir,
    struct trace_error *err)
{
	char path[PATH_MAX];
	int n;

	w->state_lock_fd = -1;
	n = snprintf(w->state_dir, sizeof(w->state_dir), "%s", dir);
	if (n < 0 || (size_t)n >= sizeof(w->state_dir) - 80)
		return trace_error_set(err, TRACE_EIO, "bad_path", NULL,
		    "the state directory path is too long");
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "cannot create %s: %s", dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/lock", dir);
	w->state_lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (w->state_lock_fd < 0)
		return trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "cannot open %s: %s", path, strerror(errno));
	if (flock(w->state_lock_fd, LOCK_EX | LOCK_NB) != 0)
		return trace_error_set(err, TRACE_ECONFLICT, "state_in_use", NULL,
		    "%s is in use by another trace-witness", dir);
	for (size_t i = 0; i < w->log_count; i++) {
		struct witness_log *log = &w->logs[i];
		unsigned char h[SHA256_LEN];
		char hex[2 * SHA256_LEN + 1];
		enum trace_status st;

		sha256(log->origin, strlen(log->origin), h);
		hex_encode(h, SHA256_LEN, hex);
		snprintf(log->state_path, sizeof(log->state_path),
		    "%s/%s.checkpoint", dir, hex);
		if ((st = log_load(log, err)) != TRACE_OK)
			return st;
	}
	return TRACE_OK;
}

enum trace_status
witness_state_save(struct witness_log *log, const char *note,
    size_t note_len, uint64_t size, const unsigned char root[MERKLE_HASH_LEN],
    struct trace_error *err)
{
	enum trace_status st;

	st = file_write_atomic(log->state_path, note, note_len, 0600, 0, err);
	if (st != TRACE_OK)
		return st;
	log->has_state = true;
	log->size = size;
	memcpy(log->root, root, MERKLE_HASH_LEN);
	return TRACE_OK;
}

void
witness_state_close(struct witness *w)
{
	if (w->state_lock_fd >= 0) {
		close(w->state_lock_fd);
		w->state_lock_fd = -1;
	}
}
