/*
 * hash.h -- the xxHash seam: XXH3-64, inlined for the per-feature hot path
 * of the pipeline (a 1 KB ticket hashes thousands of short n-grams, where
 * a call and XXH3's length dispatch cost as much as the hash itself).
 * fmi_hash64 (util.c) is the same function out of line.
 */
#ifndef FM_HASH_H
#define FM_HASH_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static inline uint64_t fmi_hash64_inline(const void *p, size_t n) {
  return (uint64_t)XXH3_64bits(p, n);
}

#endif
