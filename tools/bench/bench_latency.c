/*
 * bench_latency.c -- what a support tool sees through the library (issue
 * 4): the time to open a model, and the latency of tagging one ~1 KB
 * ticket (target: open <= 5 ms, tag <= 50 us at the 99th percentile).
 *
 *   bench_latency MODEL TEXTS [N] [BYTES] [LANG]
 *
 * TEXTS holds one text per line (tools/bench/bench_accuracy.sh writes the
 * test texts of a dataset that way). Consecutive texts are joined with
 * ". " into N tickets (default 10000) of BYTES bytes (default 1024), cut
 * at a character boundary; ticket k starts at text k, so tickets differ.
 * LANG (e.g. "en") is passed as the ticket's language when given, as a
 * caller that knows it would; by default the language is identified.
 *
 * Only the public API is used. The model is opened 21 times (the first
 * open reads the file from disk or the page cache, the others are the
 * steady state a restarted service sees; both clocks, as for tagging);
 * each ticket is tagged once to warm up, then timed once. Latencies are
 * reported both as wall-clock time and as the calling thread's CPU time:
 * on a shared machine the wall clock also counts the time the thread
 * waited for a core, which is not the library's cost but is what a caller
 * may see.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "feedmine.h"

/* Percentile p (0..100) of a sorted array. */
static double pct(const double *v, size_t n, double p) {
  size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
  return v[i < n ? i : n - 1];
}

/* Cuts at most `max` bytes of UTF-8 text without splitting a character. */
static size_t utf8_cut(const char *s, size_t len, size_t max) {
  if (len <= max) return len;
  while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
  return max;
}

int main(int argc, char **argv) {
  const char *model_path, *texts_path, *lang;
  size_t want_docs, want_bytes, n_texts = 0, cap_texts = 0, i, k;
  size_t *text_len = NULL, n_docs = 0, total_bytes = 0;
  char **texts = NULL, **docs, *line = NULL;
  size_t line_cap = 0;
  ssize_t got;
  double opens[21], open_cpu[21], *wall, *cpu, t0, c0, sum_wall = 0,
      sum_cpu = 0;
  fm_model *m = NULL;
  fm_tagger *t = NULL;
  fm_error err;
  FILE *f;
  if (argc < 3) {
    fprintf(stderr, "usage: bench_latency MODEL TEXTS [N] [BYTES] [LANG]\n");
    return 2;
  }
  model_path = argv[1];
  texts_path = argv[2];
  want_docs = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 10000;
  want_bytes = argc > 4 ? (size_t)strtoul(argv[4], NULL, 10) : 1024;
  lang = argc > 5 ? argv[5] : NULL;
  if (want_docs == 0 || want_bytes == 0) {
    fprintf(stderr, "bench_latency: N and BYTES must be positive\n");
    return 2;
  }
  f = fopen(texts_path, "r");
  if (!f) {
    perror(texts_path);
    return 2;
  }
  while ((got = getline(&line, &line_cap, f)) > 0) {
    size_t n = strcspn(line, "\r\n");
    if (!n) continue;
    if (n_texts == cap_texts) {
      cap_texts = cap_texts ? 2 * cap_texts : 1024;
      texts = realloc(texts, cap_texts * sizeof *texts);
      text_len = realloc(text_len, cap_texts * sizeof *text_len);
      if (!texts || !text_len) return 3;
    }
    texts[n_texts] = malloc(n + 1);
    if (!texts[n_texts]) return 3;
    memcpy(texts[n_texts], line, n);
    texts[n_texts][n] = 0;
    text_len[n_texts++] = n;
  }
  free(line);
  fclose(f);
  if (!n_texts) {
    fprintf(stderr, "bench_latency: no texts in %s\n", texts_path);
    return 2;
  }
  docs = calloc(want_docs, sizeof *docs);
  if (!docs) return 3;
  for (n_docs = 0; n_docs < want_docs; n_docs++) {
    char *d = malloc(want_bytes + 1);
    size_t len = 0, j = n_docs % n_texts, guard = 0;
    if (!d) return 3;
    while (len < want_bytes && guard++ < n_texts) {
      size_t room = want_bytes - len, n;
      if (len) {
        if (room <= 2) break;
        memcpy(d + len, ". ", 2);
        len += 2;
        room -= 2;
      }
      n = utf8_cut(texts[j], text_len[j], room);
      memcpy(d + len, texts[j], n);
      len += n;
      j = (j + 1) % n_texts;
    }
    d[len] = 0;
    docs[n_docs] = d;
    total_bytes += len;
  }

  for (k = 0; k < 21; k++) {
    t0 = clock_s(CLOCK_MONOTONIC);
    c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    if (fm_model_open(model_path, &m, &err) != FM_OK) {
      fprintf(stderr, "%s: %s\n", model_path, err.msg);
      return 4;
    }
    open_cpu[k] = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    opens[k] = clock_s(CLOCK_MONOTONIC) - t0;
    if (k < 20) fm_model_close(m);
  }
  qsort(opens + 1, 20, sizeof *opens, cmp_double);
  qsort(open_cpu + 1, 20, sizeof *open_cpu, cmp_double);
  if (fm_tagger_new(m, NULL, &t, &err) != FM_OK) {
    fprintf(stderr, "tagger: %s\n", err.msg);
    return 4;
  }
  wall = malloc(n_docs * sizeof *wall);
  cpu = malloc(n_docs * sizeof *cpu);
  if (!wall || !cpu) return 3;
  for (i = 0; i < n_docs; i++) {
    const fm_result *r;
    if (fm_tagger_tag(t, docs[i], strlen(docs[i]), lang, NULL, &r, &err) !=
        FM_OK) {
      fprintf(stderr, "tag: %s\n", err.msg);
      return 1;
    }
  }
  for (i = 0; i < n_docs; i++) {
    const fm_result *r;
    size_t len = strlen(docs[i]);
    t0 = clock_s(CLOCK_MONOTONIC);
    c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    fm_tagger_tag(t, docs[i], len, lang, NULL, &r, &err);
    cpu[i] = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    wall[i] = clock_s(CLOCK_MONOTONIC) - t0;
    sum_wall += wall[i];
    sum_cpu += cpu[i];
  }
  qsort(wall, n_docs, sizeof *wall, cmp_double);
  qsort(cpu, n_docs, sizeof *cpu, cmp_double);
  printf("model %s: open %.3f ms first, %.3f ms median of 20 more, %.3f ms max"
         " (cpu: median %.3f ms)\n",
         model_path, opens[0] * 1e3, opens[10] * 1e3, opens[20] * 1e3,
         open_cpu[10] * 1e3);
  printf("tag %zu tickets of %.0f bytes on average (language %s):\n", n_docs,
         (double)total_bytes / (double)n_docs, lang ? lang : "identified");
  printf("  wall: p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us; "
         "%.0f tickets/s, %.1f MB/s\n",
         pct(wall, n_docs, 50) * 1e6, pct(wall, n_docs, 90) * 1e6,
         pct(wall, n_docs, 99) * 1e6, wall[n_docs - 1] * 1e6,
         (double)n_docs / sum_wall, (double)total_bytes / sum_wall / 1e6);
  printf("  cpu:  p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us; "
         "%.0f tickets/s, %.1f MB/s\n",
         pct(cpu, n_docs, 50) * 1e6, pct(cpu, n_docs, 90) * 1e6,
         pct(cpu, n_docs, 99) * 1e6, cpu[n_docs - 1] * 1e6,
         (double)n_docs / sum_cpu, (double)total_bytes / sum_cpu / 1e6);
  /* one machine-readable line for scripts */
  printf("RESULT open_ms=%.4f open_first_ms=%.4f wall_p50_us=%.2f "
         "wall_p99_us=%.2f wall_max_us=%.2f cpu_p50_us=%.2f cpu_p99_us=%.2f "
         "cpu_max_us=%.2f bytes=%.0f open_cpu_ms=%.4f\n",
         opens[10] * 1e3, opens[0] * 1e3, pct(wall, n_docs, 50) * 1e6,
         pct(wall, n_docs, 99) * 1e6, wall[n_docs - 1] * 1e6,
         pct(cpu, n_docs, 50) * 1e6, pct(cpu, n_docs, 99) * 1e6,
         cpu[n_docs - 1] * 1e6, (double)total_bytes / (double)n_docs,
         open_cpu[10] * 1e3);
  fm_tagger_free(t);
  fm_model_close(m);
  for (i = 0; i < n_docs; i++) free(docs[i]);
  for (i = 0; i < n_texts; i++) free(texts[i]);
  free(docs);
  free(texts);
  free(text_len);
  free(wall);
  free(cpu);
  return 0;
}
