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
static long fault_countdown = -1; /* -1: never fail */
static long fault_allocs;

void fmi_fault_fail_after(long n) {
  fault_countdown = n;
  fault_allocs = 0;
}
long fmi_fault_alloc_count(void) { return fault_allocs; }

static bool fault_now(void) {
  fault_allocs++;
  if (fault_countdown < 0) return false;
  if (fault_countdown == 0) return true;
  fault_countdown--;
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
