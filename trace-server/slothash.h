/*
 * slothash.h - the hash that places an untrusted name (a chain id, a
 * serial) in a fixed table: the verdict cache, the page cache, the parsed
 * chains, the scan counts.
 *
 * Why keyed: with a public hash (FNV) anyone can compute, offline, lots
 * whose ids fall in the same slot and view them in turn, so each view
 * evicts the other and every view recomputes (for the verdict cache: a
 * signature check per statement).  SipHash-2-4 under a key drawn from the
 * kernel at start-up makes slots unpredictable from outside, so colliding
 * names cannot be chosen.  The key is process-wide, written once by
 * slot_hash_init() before any thread starts, read-only after.
 */
#ifndef TRACE_SLOTHASH_H
#define TRACE_SLOTHASH_H

#include <stddef.h>
#include <stdint.h>

/* Draw the key (getrandom); call once in main before any thread.  Returns
 * -1 if the kernel gave no randomness (the caller refuses to start). */
int slot_hash_init(void);

/* SipHash-2-4 of the bytes of a and b (b may be NULL), with a separator
 * between them so ("ab", "c") and ("a", "bc") differ. */
uint64_t slot_hash(const char *a, const char *b);

#endif
