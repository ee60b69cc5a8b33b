/*
 * queue.c - the offline queue: a folder of files, one per event still to be
 * sent, that survives the agent being killed at any instant.
 *
 * Layout of the folder (default ~/.local/state/trace/queue):
 *
 *   .lock                        flock()ed by the one agent using the queue
 *   000000000042-1763627400123.json   an entry: counter, then creation time
 *                                (ms); names sort in creation order and the
 *                                queue is sent in that order
 *   rejected/NAME.json           an entry the server refused for good, and
 *   rejected/NAME.error.json     why (the server's answer or our error)
 *   imports/SHA256               a CSV file with this content was imported
 *                                (when, and the file name as given)
 *   .stage-PID-MS/               an import being written (see below)
 *
 * An entry is JSON: {"v": 1, "created", "key" (absolute path of the signing
 * key file), "keyid", "source" ("file.csv:12" for imports), "draft" (type,
 * gtin, lot, time, country, place, data: everything the signer said),
 * "envelope" and "id" once signed, "superseded" (ids this entry signed
 * before and the server refused with 409)}.
 *
 * Why nothing is lost and nothing is duplicated by a kill -9 anywhere:
 *
 * 1. Every write of an entry is file_write_atomic(): temporary file, fsync,
 *    rename, fsync of the folder.  A reader sees the old file or the new
 *    one, never half of one.  Leftover temporary files are deleted under the
 *    lock; they were never part of the queue.
 * 2. An event exists in the queue (as a draft) before it is signed or sent,
 *    so a kill after that point loses nothing: send picks the draft up.
 *    A kill before it means record never said "recorded" or "queued".
 * 3. A signed envelope is written into its entry BEFORE it is posted.  So
 *    any statement the server may have accepted is on disk, and a resend is
 *    of the very same bytes, which the server answers 200 (idempotent).
 * 4. An entry is deleted only after the server said 201/200 for it.  A kill
 *    between the answer and the delete leaves it queued; the next send
 *    posts the same bytes again and gets 200.
 * 5. An envelope is replaced by a new one (different seq/prev, thus a
 *    different statement) only after the server refused the current one
 *    with 409 AND the current id is confirmed absent from the chain (see
 *    send.c).  A refused statement can never be accepted later: its seq is
 *    taken for good.  So at most one of an entry's statements ever enters
 *    the chain.
 * 6. Moving to rejected/ writes the error file first, then renames the
 *    entry; a kill in between leaves the entry queued, to be refused again.
 * 7. One agent at a time: the flock dies with its process, so a killed
 *    agent never blocks the next one, and no two agents rebuild one entry.
 *
 * import is all-or-nothing: its entries are written into .stage-PID-MS/,
 * then a COMMIT file is written there, then they are renamed into the queue.
 * Recovery (under the lock, at every queue_open) finishes a stage that has
 * COMMIT and deletes one that has not, so a killed import either queued
 * every row or none, and a rerun never doubles rows.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "libtrace/fileio.h"

#define LOCK_WAIT_MS 60000
#define COUNTER_DIGITS 12
#define TIME_DIGITS 13

struct queue_stage {
	struct queue *q;
	char dir[PATH_MAX];
	char mark[80];             /* "IMPORT-<digest>" or "" */
	char **names;
	size_t count;
};

static bool
path_join(char *out, size_t size, const char *a, const char *b)
{
	int n = snprintf(out, size, "%s/%s", a, b);

	return n >= 0 && (size_t)n < size;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* mkdir -p with mode 0700 for what we create. */
static bool
make_dirs(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return false;
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return false;
		path[i] = i == len ? '\0' : '/';
	}
	return true;
}

/* NNNNNNNNNNNN-TTTTTTTTTTTTT.json */
static bool
name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len != COUNTER_DIGITS + 1 + TIME_DIGITS + 5 ||
	    strcmp(name + len - 5, ".json") != 0 || name[COUNTER_DIGITS] != '-')
		return false;
	for (size_t i = 0; i < len - 5; i++)
		if (i != COUNTER_DIGITS && (name[i] < '0' || name[i] > '9'))
			return false;
	return true;
}

unsigned long long
queue_name_counter(const char *name)
{
	return strtoull(name, NULL, 10);
}

static void
name_make(unsigned long long counter, char out[QUEUE_NAME_MAX + 1])
{
	snprintf(out, QUEUE_NAME_MAX + 1, "%0*llu-%0*lld.json", COUNTER_DIGITS,
	    counter, TIME_DIGITS, time_now_ms());
}

/* Delete every file in dir, then dir. */
static void
remove_tree(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    path_join(path, sizeof(path), dir, de->d_name))
			unlink(path);
	closedir(d);
	rmdir(dir);
}

/* stage/IMPORT-<digest> becomes imports/<digest>: the file is in. */
static void
move_import_mark(struct queue *q, const char *stage, const char *mark)
{
	char from[PATH_MAX], dir[PATH_MAX], to[PATH_MAX];

	if (!path_join(from, sizeof(from), stage, mark) ||
	    !path_join(dir, sizeof(dir), q->dir, "imports") ||
	    !path_join(to, sizeof(to), dir, mark + 7))
		return;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return;
	if (rename(from, to) == 0)
		fsync_dir(dir);
}

/* Finish (COMMIT present) or drop a stage a killed import left. */
static void
recover_stage(struct queue *q, const char *stage)
{
	char marker[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (!path_join(marker, sizeof(marker), stage, "COMMIT"))
		return;
	if (access(marker, F_OK) == 0 && (d = opendir(stage)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, "IMPORT-", 7) == 0) {
				move_import_mark(q, stage, de->d_name);
				continue;
			}
			if (!name_valid(de->d_name) ||
			    !path_join(from, sizeof(from), stage, de->d_name) ||
			    !path_join(to, sizeof(to), q->dir, de->d_name))
				continue;
			rename(from, to);
		}
		closedir(d);
		fsync_dir(q->dir);
	}
	remove_tree(stage);
	fsync_dir(q->dir);
}

/* Runs under the lock: nobody else is writing. */
static void
recover(struct queue *q)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(q->dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!path_join(path, sizeof(path), q->dir, de->d_name))
			continue;
		if (strncmp(de->d_name, ".stage-", 7) == 0)
			recover_stage(q, path);
		else if (strstr(de->d_name, ".tmp.") != NULL)
			unlink(path);
	}
	closedir(d);
}

enum trace_status
queue_open(struct queue *q, const char *dir, struct trace_error *err)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);
	long waited = 0;
	char **names = NULL;
	size_t count = 0;
	enum trace_status rc;

	memset(q, 0, sizeof(*q));
	q->lock_fd = -1;
	if (len == 0 || len >= sizeof(q->dir))
		return trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "no usable queue folder (set --queue or TRACE_QUEUE)");
	memcpy(q->dir, dir, len + 1);
	if (!make_dirs(q->dir) || !path_join(path, sizeof(path), q->dir,
	    "rejected") || (mkdir(path, 0700) != 0 && errno != EEXIST))
		return trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "cannot create the queue folder %s: %s", q->dir,
		    strerror(errno));
	if (!path_join(path, sizeof(path), q->dir, ".lock") ||
	    (q->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "cannot open %s: %s", path, strerror(errno));
	while (flock(q->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		struct timespec ts = { 0, 100 * 1000000L };

		if (errno != EWOULDBLOCK && errno != EINTR) {
			rc = trace_error_set(err, TRACE_EIO, "io_error", NULL,
			    "cannot lock %s: %s", path, strerror(errno));
			goto fail;
		}
		if (waited == 0)
			fprintf(stderr, "trace-agent: waiting for another "
			    "trace-agent using the queue %s\n", q->dir);
		if (waited >= LOCK_WAIT_MS) {
			rc = trace_error_set(err, TRACE_EIO, "queue_busy", NULL,
			    "the queue %s is still in use by another "
			    "trace-agent", q->dir);
			goto fail;
		}
		nanosleep(&ts, NULL);
		waited += 100;
	}
	recover(q);
	if ((rc = queue_list(q, &names, &count, err)) != TRACE_OK)
		goto fail;
	q->next_counter = count > 0 ?
	    queue_name_counter(names[count - 1]) + 1 : 1;
	queue_names_free(names, count);
	return TRACE_OK;
fail:
	close(q->lock_fd);
	q->lock_fd = -1;
	return rc;
}

void
queue_close(struct queue *q)
{
	if (q->lock_fd >= 0)
		close(q->lock_fd);   /* releases the flock */
	q->lock_fd = -1;
}

static int
name_compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
queue_names_free(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

enum trace_status
queue_list(struct queue *q, char ***names, size_t *count,
    struct trace_error *err)
{
	char **list = NULL, **grown;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(q->dir);

	*names = NULL;
	*count = 0;
	if (d == NULL)
		return trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "cannot read %s: %s", q->dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!name_valid(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((grown = realloc(list, cap * sizeof(*list))) ==
			    NULL)
				goto nomem;
			list = grown;
		}
		if ((list[n] = strdup(de->d_name)) == NULL)
			goto nomem;
		n++;
	}
	closedir(d);
	/* Fixed-width counters: text order is creation order. */
	if (n > 1)
		qsort(list, n, sizeof(*list), name_compare);
	*names = list;
	*count = n;
	return TRACE_OK;
nomem:
	closedir(d);
	queue_names_free(list, n);
	return trace_error_set(err, TRACE_ENOMEM, NULL, NULL, "out of memory");
}

enum trace_status
queue_entry_load(struct queue *q, const char *name, struct queue_entry *e,
    struct trace_error *err)
{
	char path[PATH_MAX], *text = NULL;
	size_t len;
	enum trace_status rc;

	memset(e, 0, sizeof(*e));
	if (!path_join(path, sizeof(path), q->dir, name))
		return trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "path too long");
	if ((rc = file_read_all(path, QUEUE_ENTRY_MAX, &text, &len, err)) !=
	    TRACE_OK)
		goto out;
	if ((rc = queue_entry_parse(text, len, e, err)) != TRACE_OK)
		goto out;
	snprintf(e->name, sizeof(e->name), "%s", name);
out:
	if (rc != TRACE_OK)
		queue_entry_clear(e);
	free(text);
	return rc;
}

static enum trace_status
entry_store(const char *dir, const struct queue_entry *e, bool create,
    struct trace_error *err)
{
	char path[PATH_MAX], *text = NULL;
	size_t len = 0;
	enum trace_status rc;

	if (!path_join(path, sizeof(path), dir, e->name))
		return trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "path too long");
	if ((rc = queue_entry_text(e, &text, &len, err)) == TRACE_OK)
		rc = file_write_atomic(path, text, len, 0600, create, err);
	free(text);
	return rc;
}

enum trace_status
queue_append(struct queue *q, struct queue_entry *e, struct trace_error *err)
{
	enum trace_status rc;

	/* Under the lock nobody else hands out numbers; the exclusive
	 * create is a second guard. */
	for (int tries = 0; tries < 1000; tries++) {
		name_make(q->next_counter++, e->name);
		rc = entry_store(q->dir, e, true, err);
		if (rc != TRACE_ECONFLICT)
			return rc;
	}
	return rc;
}

enum trace_status
queue_replace(struct queue *q, const struct queue_entry *e,
    struct trace_error *err)
{
	return entry_store(q->dir, e, false, err);
}

enum trace_status
queue_remove(struct queue *q, const char *name, struct trace_error *err)
{
	char path[PATH_MAX];

	if (!path_join(path, sizeof(path), q->dir, name) ||
	    (unlink(path) != 0 && errno != ENOENT))
		return trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "cannot remove %s: %s", path, strerror(errno));
	/* Not strictly needed: an entry that comes back after a power cut
	 * is resent, and the server answers 200. */
	fsync_dir(q->dir);
	return TRACE_OK;
}

enum trace_status
queue_reject(struct queue *q, const char *name, const char *why,
    size_t why_len, char *moved_to, size_t size, struct trace_error *err)
{
	char rejected[PATH_MAX], from[PATH_MAX], to[PATH_MAX], note[PATH_MAX];
	char base[QUEUE_NAME_MAX + 1];
	size_t base_len = strlen(name) - 5;   /* without ".json" */
	enum trace_status rc;
	int n;

	if (!path_join(rejected, sizeof(rejected), q->dir, "rejected") ||
	    !path_join(from, sizeof(from), q->dir, name))
		return trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "path too long");
	memcpy(base, name, base_len);
	base[base_len] = '\0';
	/* Counters restart when the queue empties: never overwrite an older
	 * rejected entry of the same name. */
	for (int i = 1;; i++) {
		if (i == 1)
			n = snprintf(to, sizeof(to), "%s/%s.json", rejected, base);
		else
			n = snprintf(to, sizeof(to), "%s/%s.%d.json", rejected,
			    base, i);
		if (n < 0 || (size_t)n >= sizeof(to))
			return trace_error_set(err, TRACE_EIO, "io_error", NULL,
			    "path too long");
		if (access(to, F_OK) != 0)
			break;
	}
	snprintf(note, sizeof(note), "%.*s.error.json",
	    (int)(strlen(to) - 5), to);
	if ((rc = file_write_atomic(note, why, why_len, 0600, 0, err)) !=
	    TRACE_OK)
		return rc;
	if (rename(from, to) != 0)
		return trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "cannot move %s to %s: %s", from, to, strerror(errno));
	fsync_dir(rejected);
	fsync_dir(q->dir);
	snprintf(moved_to, size, "%s", to);
	return TRACE_OK;
}

/* ---- all-or-nothing appends (import) ------------------------------------- */

enum trace_status
queue_stage_begin(struct queue *q, struct queue_stage **out,
    struct trace_error *err)
{
	struct queue_stage *st = calloc(1, sizeof(*st));
	int n;

	*out = NULL;
	if (st == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	st->q = q;
	n = snprintf(st->dir, sizeof(st->dir), "%s/.stage-%ld-%lld", q->dir,
	    (long)getpid(), time_now_ms());
	if (n < 0 || (size_t)n >= sizeof(st->dir) || mkdir(st->dir, 0700) != 0) {
		free(st);
		return trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "cannot create a staging folder in %s: %s", q->dir,
		    strerror(errno));
	}
	*out = st;
	return TRACE_OK;
}

enum trace_status
queue_stage_add(struct queue_stage *st, struct queue_entry *e,
    struct trace_error *err)
{
	char **grown = realloc(st->names, (st->count + 1) * sizeof(*grown));
	enum trace_status rc;

	if (grown == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	st->names = grown;
	name_make(st->q->next_counter++, e->name);
	if ((rc = entry_store(st->dir, e, true, err)) != TRACE_OK)
		return rc;
	if ((st->names[st->count] = strdup(e->name)) == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	st->count++;
	return TRACE_OK;
}

enum trace_status
queue_stage_mark(struct queue_stage *st, const char *digest,
    const char *what, struct trace_error *err)
{
	char path[PATH_MAX];
	char line[PATH_MAX + 64];
	char when[21];
	int n;

	snprintf(st->mark, sizeof(st->mark), "IMPORT-%s", digest);
	if (!path_join(path, sizeof(path), st->dir, st->mark))
		return trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "path too long");
	time_format_utc(time_now(), when);
	n = snprintf(line, sizeof(line), "%s %s\n", when, what);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	return file_write_atomic(path, line, (size_t)n, 0600, 1, err);
}

bool
queue_imported(struct queue *q, const char *digest, char *when, size_t size)
{
	char path[PATH_MAX], name[80], *text = NULL;
	size_t len = 0;

	snprintf(name, sizeof(name), "imports/%s", digest);
	if (!path_join(path, sizeof(path), q->dir, name) ||
	    file_read_all(path, 4096, &text, &len, NULL) != TRACE_OK)
		return false;
	while (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	snprintf(when, size, "%s", text);
	free(text);
	return true;
}

static void
stage_free(struct queue_stage *st)
{
	queue_names_free(st->names, st->count);
	free(st);
}

enum trace_status
queue_stage_commit(struct queue_stage *st, struct trace_error *err)
{
	char marker[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	enum trace_status rc;

	if (!path_join(marker, sizeof(marker), st->dir, "COMMIT")) {
		rc = trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "path too long");
		goto fail;
	}
	agent_crash_point("import-staged");
	/* From here on the import happened, even if we are killed. */
	if ((rc = file_write_atomic(marker, "commit\n", 7, 0600, 1, err)) !=
	    TRACE_OK)
		goto fail;
	if (st->mark[0] != '\0')
		move_import_mark(st->q, st->dir, st->mark);
	for (size_t i = 0; i < st->count; i++) {
		if (!path_join(from, sizeof(from), st->dir, st->names[i]) ||
		    !path_join(to, sizeof(to), st->q->dir, st->names[i]) ||
		    rename(from, to) != 0) {
			/* Recovery at the next queue_open() finishes it. */
			rc = trace_error_set(err, TRACE_EIO, "io_error", NULL,
			    "cannot move %s into the queue: %s", st->names[i],
			    strerror(errno));
			stage_free(st);
			return rc;
		}
		agent_crash_point("import-moving");
	}
	fsync_dir(st->q->dir);
	remove_tree(st->dir);
	fsync_dir(st->q->dir);
	stage_free(st);
	return TRACE_OK;
fail:
	queue_stage_abort(st);
	return rc;
}

void
queue_stage_abort(struct queue_stage *st)
{
	if (st == NULL)
		return;
	remove_tree(st->dir);
	stage_free(st);
}
