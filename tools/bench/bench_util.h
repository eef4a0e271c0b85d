/*
 * bench_util.h -- what the benchmarks share: clocks (monotonic, or the
 * calling thread's CPU time, which on a shared machine leaves out the
 * time spent waiting for a core), a comparison for sorting timings, the
 * peak RSS, and a fixed-seed xorshift generator so every run draws the
 * same synthetic data.
 */
#ifndef FM_BENCH_UTIL_H
#define FM_BENCH_UTIL_H

#include <sys/resource.h>
#include <time.h>

static inline double clock_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double now(void) { return clock_s(CLOCK_MONOTONIC); }

static inline double cpu_now(void) {
  return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

/* qsort comparison for ascending doubles. */
static inline int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static inline long peak_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static unsigned long long rng __attribute__((unused)) = 88172645463325252ULL;
static inline unsigned next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng >> 32);
}

#endif
