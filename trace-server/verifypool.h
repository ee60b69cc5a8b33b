/*
 * verifypool.h - a small fixed pool of threads, started at boot, that
 * run the independent parts of one request in parallel: a batch's
 * signature checks (ingest.c), so a batch of 1,000 uses every core
 * instead of the one worker that took the request.
 *
 * libgcrypt is thread-safe once crypto_init() ran in main, before the
 * pool starts; the work function must touch only its own item.
 */
#ifndef TRACE_VERIFYPOOL_H
#define TRACE_VERIFYPOOL_H

#include <stddef.h>

/* Start threads helper threads (0: none, verify_pool_run then runs
 * everything in the caller); 0 or -1. */
int verify_pool_start(int threads);
void verify_pool_stop(void);

/* The number of cores online (at least 1), for the pool's size. */
int verify_pool_cores(void);

/*
 * Call fn(arg, i) once for every i in [0, count), spread over the pool's
 * threads and the calling thread, and return when every call returned.
 * Several requests may run at once: their items share the pool.
 */
void verify_pool_run(void (*fn)(void *arg, size_t i), void *arg,
    size_t count);

#endif
