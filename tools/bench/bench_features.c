/*
 * bench_features.c -- where a document's features land in a model's
 * scoring index, to plan work on the index (issue 4's latency target).
 *
 *   bench_features MODEL TEXTS [N]
 *
 * Analyzes up to N lines of TEXTS (default 5000) with the model's own
 * pipeline and looks every feature up in the index, as tagging does.
 * Prints, per document on average, the number of features and the share
 * of them that are not in the index (one probe), have one posting, have
 * a sparse list of several postings (with its mean length), or a dense
 * row of one float per class; then the model's class count. Every
 * feature in the index costs two dependent reads of the file (its slot,
 * then its block), so these shares say what an index layout could save.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int main(int argc, char **argv) {
  fm_model *m = NULL;
  fm_tagger *t = NULL;
  fm_error err;
  FILE *f;
  char *line = NULL;
  size_t cap = 0, max_docs = 5000, docs = 0, i;
  long n;
  unsigned long long total = 0, absent = 0, single = 0, sparse = 0,
                     sparse_post = 0, dense = 0;
  if (argc < 3) {
    fprintf(stderr, "usage: bench_features MODEL TEXTS [N]\n");
    return 2;
  }
  if (argc > 3) max_docs = strtoul(argv[3], NULL, 10);
  if (fm_model_open(argv[1], &m, &err) != FM_OK) {
    fprintf(stderr, "bench_features: %s\n", err.msg);
    return 4;
  }
  if (fm_tagger_new(m, NULL, &t, &err) != FM_OK) {
    fprintf(stderr, "bench_features: %s\n", err.msg);
    return 1;
  }
  f = fopen(argv[2], "r");
  if (!f) {
    perror(argv[2]);
    return 3;
  }
  while (docs < max_docs && (n = (long)getline(&line, &cap, f)) > 0) {
    const fm_analysis *a;
    if (fm_tagger_analyze(t, line, (size_t)n, NULL, &a, &err) != FM_OK) {
      fprintf(stderr, "bench_features: %s line %zu: %s\n", argv[2],
              docs + 1, err.msg);
      continue;
    }
    docs++;
    for (i = 0; i < a->n_features; i++) {
      uint32_t row, block, np;
      const unsigned char *p;
      bool is_dense;
      float idf;
      total++;
      if (!fmi_model_lookup(m, a->features[i].id, &row, &block)) {
        absent++;
        continue;
      }
      if (!fmi_model_block(m, block, &p, &np, &is_dense, &idf)) {
        fprintf(stderr, "bench_features: %s: corrupt block\n", argv[1]);
        return 4;
      }
      if (is_dense) {
        dense++;
      } else if (np == 1) {
        single++;
      } else {
        sparse++;
        sparse_post += np;
      }
    }
  }
  fclose(f);
  free(line);
  if (!docs || !total) {
    fprintf(stderr, "bench_features: no features in %s\n", argv[2]);
    return 1;
  }
  printf("documents %zu, features per document %.1f: not in the index "
         "%.1f%%, one posting %.1f%%, sparse %.1f%% (%.1f postings), "
         "dense %.1f%%; classes %zu\n",
         docs, (double)total / (double)docs, 100.0 * (double)absent / (double)total,
         100.0 * (double)single / (double)total, 100.0 * (double)sparse / (double)total,
         sparse ? (double)sparse_post / (double)sparse : 0.0,
         100.0 * (double)dense / (double)total, m->n_classes);
  fm_tagger_free(t);
  fm_model_close(m);
  return 0;
}
