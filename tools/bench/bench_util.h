/*
 * bench_util.h -- what the benchmarks share: a monotonic clock, the peak
 * RSS, and a fixed-seed xorshift generator so every run draws the same
 * synthetic data.
 */
#ifndef FM_BENCH_UTIL_H
#define FM_BENCH_UTIL_H

#include <sys/resource.h>
#include <time.h>

static inline double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline long peak_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static unsigned long long rng = 88172645463325252ULL;
static inline unsigned next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng >> 32);
}

#endif
