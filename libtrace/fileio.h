/*
 * fileio.h - reading whole files with a size bound, and writing files
 * atomically (temporary file, fsync, rename, fsync of the directory), so a
 * crash at any point leaves either the old file or the new one, never half.
 */
#ifndef TRACE_FILEIO_H
#define TRACE_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/*
 * Read the whole of path into a malloc'd buffer the caller frees, with a
 * NUL after the last byte (not counted in *len).  TRACE_ETOOBIG over max
 * bytes, TRACE_ENOTFOUND if absent, TRACE_EIO otherwise.
 */
enum trace_status file_read_all(const char *path, size_t max, char **buf,
    size_t *len, struct trace_error *err);

/* The same for an open descriptor (e.g. standard input). */
enum trace_status file_read_fd(int fd, size_t max, char **buf, size_t *len,
    struct trace_error *err);

/*
 * Write len bytes to path atomically with the given mode.  With exclusive,
 * fail (TRACE_ECONFLICT) if path already exists, never replacing it.
 */
enum trace_status file_write_atomic(const char *path, const void *data,
    size_t len, mode_t mode, int exclusive, struct trace_error *err);

#endif
