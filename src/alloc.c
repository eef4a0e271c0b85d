/*
 * alloc.c -- the library's one door to the heap.
 *
 * In the fault-injection build (tests only) a countdown makes the k-th
 * allocation fail, so the allocation-failure loops of the tests can walk
 * every failure point of a call and check that each returns FM_ENOMEM with
 * nothing leaked. The countdown is the one piece of global mutable state,
 * and it exists only in that build.
 */
#include "internal.h"

#include <stdlib.h>

#ifdef FMI_FAULT_INJECTION
#include <stdatomic.h>
/* Atomic so that multi-threaded tests built with fault injection stay
 * race-free under ThreadSanitizer; the countdown itself is only armed by
 * single-threaded tests. */
static atomic_long fault_countdown = -1; /* -1: never fail */
static atomic_long fault_allocs;

void fmi_fault_fail_after(long n) {
  atomic_store(&fault_countdown, n);
  atomic_store(&fault_allocs, 0);
}
long fmi_fault_alloc_count(void) { return atomic_load(&fault_allocs); }

static bool fault_now(void) {
  long c;
  atomic_fetch_add_explicit(&fault_allocs, 1, memory_order_relaxed);
  c = atomic_load_explicit(&fault_countdown, memory_order_relaxed);
  if (c < 0) return false;
  if (c == 0) return true;
  atomic_fetch_sub_explicit(&fault_countdown, 1, memory_order_relaxed);
  return false;
}
#define FAULT() (fault_now())
#else
#define FAULT() false
#endif

void *fmi_malloc(size_t n) {
  if (FAULT()) return NULL;
  return malloc(n ? n : 1);
}

void *fmi_calloc(size_t count, size_t n) {
  if (FAULT()) return NULL;
  return calloc(count ? count : 1, n ? n : 1);
}

void *fmi_realloc(void *p, size_t n) {
  if (FAULT()) return NULL;
  return realloc(p, n ? n : 1);
}

void fmi_free(void *p) { free(p); }

char *fmi_strndup(const char *s, size_t n) {
  char *d;
  if (n == SIZE_MAX) return NULL;
  d = fmi_malloc(n + 1);
  if (!d) return NULL;
  if (n) memcpy(d, s, n);
  d[n] = 0;
  return d;
}
