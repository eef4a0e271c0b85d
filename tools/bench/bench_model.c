/*
 * bench_model.c -- model open time and per-text tagging latency through
 * the library (issue 4: open <= 5 ms, one 1 KB ticket <= 50 us at the
 * 99th percentile).
 *
 *   bench_model MODEL TEXTS [BYTES]
 *
 * TEXTS holds one text per line. Texts are concatenated (with ". ") into
 * documents of about BYTES bytes (default 1024); every document is tagged
 * once to warm up, then each is timed (thread CPU time), whole and its
 * scoring alone (fmi_score on the analysis). Opens are timed 50 times (the
 * page cache is warm after the first; the first is reported separately).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify.h"
#include "bench_util.h"
#include "feedmine.h"
#include "internal.h"

/* Timings are the thread's CPU time (cpu_now): the machine may be
 * shared; waiting for a core is not the library's cost. */
int main(int argc, char **argv) {
  const char *model_path, *texts_path;
  size_t want, n_docs = 0, cap_docs = 0, i, total_bytes = 0;
  char **docs = NULL, line[65536], *cur = NULL;
  size_t cur_len = 0;
  double opens[50], *lat, t0, sum = 0;
  fm_model *m;
  fm_tagger *t;
  fm_error err;
  FILE *f;
  int k;
  if (argc < 3) {
    fprintf(stderr, "usage: bench_model MODEL TEXTS [BYTES]\n");
    return 2;
  }
  model_path = argv[1];
  texts_path = argv[2];
  want = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 1024;
  f = fopen(texts_path, "r");
  if (!f) {
    perror(texts_path);
    return 2;
  }
  cur = malloc(want + sizeof line + 4);
  while (fgets(line, sizeof line, f)) {
    size_t n = strcspn(line, "\r\n");
    if (!n) continue;
    if (cur_len) {
      memcpy(cur + cur_len, ". ", 2);
      cur_len += 2;
    }
    memcpy(cur + cur_len, line, n);
    cur_len += n;
    if (cur_len >= want) {
      if (n_docs == cap_docs) {
        cap_docs = cap_docs ? cap_docs * 2 : 1024;
        docs = realloc(docs, cap_docs * sizeof *docs);
      }
      cur[want] = 0; /* may cut a UTF-8 sequence: the pipeline repairs it */
      docs[n_docs++] = strdup(cur);
      total_bytes += want;
      cur_len = 0;
    }
  }
  fclose(f);
  free(cur);
  if (!n_docs) {
    fprintf(stderr, "no documents of %zu bytes in %s\n", want, texts_path);
    return 2;
  }
  for (k = 0; k < 50; k++) {
    t0 = cpu_now();
    if (fm_model_open(model_path, &m, &err) != FM_OK) {
      fprintf(stderr, "%s: %s\n", model_path, err.msg);
      return 4;
    }
    opens[k] = cpu_now() - t0;
    if (k < 49) fm_model_close(m);
  }
  printf("open: first %.3f ms, median of the next 49 %.3f ms\n",
         opens[0] * 1e3,
         (qsort(opens + 1, 49, sizeof *opens, cmp_double), opens[25] * 1e3));
  if (fm_tagger_new(m, NULL, &t, &err) != FM_OK) {
    fprintf(stderr, "tagger: %s\n", err.msg);
    return 4;
  }
  lat = malloc(n_docs * sizeof *lat);
  for (i = 0; i < n_docs; i++) {
    const fm_result *r;
    fm_tagger_tag(t, docs[i], strlen(docs[i]), NULL, NULL, &r, &err);
  }
  for (i = 0; i < n_docs; i++) {
    const fm_result *r;
    t0 = cpu_now();
    if (fm_tagger_tag(t, docs[i], strlen(docs[i]), NULL, NULL, &r, &err) !=
        FM_OK) {
      fprintf(stderr, "tag: %s\n", err.msg);
      return 1;
    }
    lat[i] = cpu_now() - t0;
    sum += lat[i];
  }
  {
    /* Scoring alone, on each document's analysis. */
    fmi_scratch *sc;
    double *sl = malloc(n_docs * sizeof *sl), ssum = 0;
    fm_tagger *t2;
    if (fmi_scratch_new(m, &sc) != FM_OK ||
        fm_tagger_new(m, NULL, &t2, &err) != FM_OK)
      return 4;
    for (i = 0; i < n_docs; i++) {
      const fm_analysis *an;
      const double *scores;
      fm_tagger_analyze(t2, docs[i], strlen(docs[i]), NULL, &an, &err);
      fmi_score(m, sc, an, &scores, &err);
      t0 = cpu_now();
      fmi_score(m, sc, an, &scores, &err);
      sl[i] = cpu_now() - t0;
      ssum += sl[i];
    }
    qsort(sl, n_docs, sizeof *sl, cmp_double);
    printf("scoring alone: p50 %.1f us, p99 %.1f us, mean %.1f us\n",
           sl[n_docs / 2] * 1e6, sl[n_docs * 99 / 100] * 1e6,
           ssum / (double)n_docs * 1e6);
    fmi_scratch_free(sc);
    fm_tagger_free(t2);
    free(sl);
  }
  qsort(lat, n_docs, sizeof *lat, cmp_double);
  printf("tag %zu documents of %zu bytes: p50 %.1f us, p99 %.1f us, max "
         "%.1f us; %.0f docs/s, %.1f MB/s on one thread\n",
         n_docs, want, lat[n_docs / 2] * 1e6, lat[n_docs * 99 / 100] * 1e6,
         lat[n_docs - 1] * 1e6, (double)n_docs / sum,
         (double)total_bytes / sum / 1e6);
  fm_tagger_free(t);
  fm_model_close(m);
  for (i = 0; i < n_docs; i++) free(docs[i]);
  free(docs);
  free(lat);
  return 0;
}
