/*
 * fileio.c - bounded whole-file reads and crash-safe writes.
 *
 * The agent's offline queue and the key files depend on the write order
 * here: data is fsync'ed before the rename makes it visible, and the
 * directory is fsync'ed after, so an acknowledged write survives power loss.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

enum trace_status
file_read_fd(int fd, size_t max, char **buf, size_t *len,
    struct trace_error *err)
{
	size_t cap = 4096, used = 0;
	char *data = malloc(cap + 1), *grown;
	ssize_t n;

	if (data == NULL)
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
	for (;;) {
		if (used == cap) {
			if (cap > max) {
				free(data);
				return trace_error_set(err, TRACE_ETOOBIG,
				    "too_large", NULL,
				    "input is over the limit of %zu bytes", max);
			}
			cap *= 2;
			if ((grown = realloc(data, cap + 1)) == NULL) {
				free(data);
				return trace_error_set(err, TRACE_ENOMEM, NULL,
				    NULL, "out of memory");
			}
			data = grown;
		}
		n = read(fd, data + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(data);
			return trace_error_set(err, TRACE_EIO, "io_error", NULL,
			    "read failed: %s", strerror(errno));
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > max) {
		free(data);
		return trace_error_set(err, TRACE_ETOOBIG, "too_large", NULL,
		    "input is over the limit of %zu bytes", max);
	}
	data[used] = '\0';
	*buf = data;
	*len = used;
	return TRACE_OK;
}

enum trace_status
file_read_all(const char *path, size_t max, char **buf, size_t *len,
    struct trace_error *err)
{
	enum trace_status rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return trace_error_set(err,
		    errno == ENOENT ? TRACE_ENOTFOUND : TRACE_EIO,
		    errno == ENOENT ? "not_found" : "io_error", NULL,
		    "cannot open %s: %s", path, strerror(errno));
	rc = file_read_fd(fd, max, buf, len, err);
	close(fd);
	if (rc != TRACE_OK && err != NULL) {
		char msg[TRACE_ERROR_MESSAGE_MAX];

		if (snprintf(msg, sizeof(msg), "%s: %s", path,
		    err->message) >= 0)
			memcpy(err->message, msg, sizeof(msg));
	}
	return rc;
}

static int
fsync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = -1;

	if (copy == NULL)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

enum trace_status
file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    int exclusive, struct trace_error *err)
{
	char tmp[4096];
	const char *p = data;
	enum trace_status rc;
	int fd = -1, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "path too long: %s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	/* The umask must not widen or narrow what the caller asked for. */
	if (fchmod(fd, mode) != 0)
		goto fail;
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (exclusive) {
		/* link() fails with EEXIST instead of replacing, unlike rename. */
		if (link(tmp, path) != 0) {
			rc = trace_error_set(err,
			    errno == EEXIST ? TRACE_ECONFLICT : TRACE_EIO,
			    errno == EEXIST ? "exists" : "io_error", NULL,
			    "cannot create %s: %s", path, strerror(errno));
			unlink(tmp);
			goto out;
		}
		unlink(tmp);
	} else if (rename(tmp, path) != 0) {
		goto fail;
	}
	if (fsync_parent(path) != 0)
		goto fail;
	rc = TRACE_OK;
	goto out;
fail:
	rc = trace_error_set(err, TRACE_EIO, "io_error", NULL,
	    "cannot write %s: %s", path, strerror(errno));
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	return rc;
}
