/*
 * cmd_eval.c -- `feedmine eval`: how good a model is on labeled data, or,
 * with --folds, how good the model trained on a file would be (stratified
 * K-fold cross-validation, nothing written).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "labeled.h"

static void help(FILE *out) {
  fprintf(out,
    "usage: feedmine eval -m MODEL -i FILE [--text COL,...] [--label HEAD=COL ...] [--json]\n"
    "       feedmine eval --folds K -i FILE [--text COL,...] --label HEAD=COL ...\n"
    "                     [TRAINING OPTIONS] [--json]\n"
    "\n"
    "With -m, tags every row of FILE with MODEL and compares with the labels\n"
    "(by default each head's labels are read from the column named like the\n"
    "head). With --folds K, splits FILE into K folds stratified by the first\n"
    "head's labels and, for each, trains on the other K-1 (alpha auto and\n"
    "calibration included, fit on those folds only) and tests on it.\n"
    "\n"
    "Prints per head: accuracy, macro-F1, weighted F1, ECE (15 bins),\n"
    "needs_review count and the accuracy of the rest, per-label precision,\n"
    "recall, F1 and support, and the confusion matrix (with over 20 labels,\n"
    "its 20 largest off-diagonal cells). --json prints one object instead:\n"
    "{\"items\":N,\"heads\":{HEAD:{\"accuracy\",\"macro_f1\",\"ece\",...}}}.\n"
    "\n"
    "options:\n"
    "  -m, --model MODEL    the model to evaluate\n"
    "  --folds K            cross-validate instead (2 <= K <= 100)\n"
    "  --json               JSON output\n"
    CLI_LABELED_HELP
    "training options (with --folds): as feedmine train --help\n"
    "\n"
    "exit status: 0 ok; 1 some rows rejected; 2 usage; 3 input unusable;\n"
    "4 model unusable.\n");
}

typedef struct eval_ctx {
  fm_tagger *tagger;
  fm_eval *ev;
  const fm_model *model;
  const cli_labeled *L;
  long *head_of;  /* model head -> labeled head, or -1 */
  const char **truth;
} eval_ctx;

static fm_status tag_row(void *p, const char *text, size_t len,
                         const char *lang, const char *source,
                         const char *const *labels, fm_error *err) {
  eval_ctx *e = p;
  fm_tag_opts o = FM_TAG_OPTS_INIT;
  const fm_result *res;
  size_t h, n = fm_model_head_count(e->model);
  fm_status st;
  o.source = source;
  st = fm_tagger_tag(e->tagger, text, len, lang, &o, &res, err);
  if (st != FM_OK) return st;
  for (h = 0; h < n; h++)
    e->truth[h] = e->head_of[h] >= 0 ? labels[e->head_of[h]] : NULL;
  return fm_eval_add_result(e->ev, res, e->truth, err);
}

static fm_status train_row(void *ctx, const char *text, size_t len,
                           const char *lang, const char *source,
                           const char *const *labels, fm_error *err) {
  return fm_trainer_add(ctx, text, len, lang, source, labels, err);
}

typedef struct cell {
  uint64_t n;
  size_t t, p;
} cell;

static int cmp_cell(const void *a, const void *b) {
  const cell *x = a, *y = b;
  if (x->n != y->n) return x->n > y->n ? -1 : 1;
  if (x->t != y->t) return x->t < y->t ? -1 : 1;
  return x->p < y->p ? -1 : x->p > y->p;
}

static void print_text(const fm_head_metrics *m) {
  size_t i, j, w = 5;
  printf("head %s: %llu items\n", m->head, (unsigned long long)m->n);
  printf("  accuracy %.4f  macro-F1 %.4f  weighted-F1 %.4f  ECE %.4f\n",
         m->accuracy, m->macro_f1, m->weighted_f1, m->ece);
  printf("  needs review: %llu (%.1f%%); accuracy of the rest %.4f\n",
         (unsigned long long)m->needs_review,
         m->n ? 100.0 * (double)m->needs_review / (double)m->n : 0.0,
         m->accuracy_confident);
  for (i = 0; i < m->n_labels; i++)
    if (strlen(m->labels[i].label) > w) w = strlen(m->labels[i].label);
  printf("  %-*s  precision  recall     f1  support\n", (int)w, "label");
  for (i = 0; i < m->n_labels; i++) {
    const fm_label_metrics *l = &m->labels[i];
    printf("  %-*s     %.4f  %.4f %.4f  %7llu\n", (int)w, l->label,
           l->precision, l->recall, l->f1, (unsigned long long)l->support);
  }
  if (m->n_labels <= 20) {
    printf("  confusion (rows: truth, columns: predicted, in label order)\n");
    for (i = 0; i < m->n_labels; i++) {
      printf("  %-*s", (int)w, m->labels[i].label);
      for (j = 0; j < m->n_labels; j++)
        printf(" %5llu",
               (unsigned long long)m->confusion[i * m->confusion_stride + j]);
      printf("\n");
    }
  } else {
    cell *cells = xmalloc(m->n_labels * m->n_labels * sizeof *cells);
    size_t n = 0;
    for (i = 0; i < m->n_labels; i++)
      for (j = 0; j < m->n_labels; j++) {
        uint64_t v = m->confusion[i * m->confusion_stride + j];
        if (i != j && v) {
          cells[n].n = v;
          cells[n].t = i;
          cells[n].p = j;
          n++;
        }
      }
    qsort(cells, n, sizeof *cells, cmp_cell);
    printf("  most frequent confusions (truth -> predicted: items)\n");
    for (i = 0; i < n && i < 20; i++)
      printf("  %s -> %s: %llu\n", m->labels[cells[i].t].label,
             m->labels[cells[i].p].label, (unsigned long long)cells[i].n);
    free(cells);
  }
}

static json_t *head_json(const fm_head_metrics *m) {
  json_t *o = json_object(), *labels = json_object(), *names = json_array();
  json_t *matrix = json_array(), *rel = json_array();
  size_t i, j;
  json_object_set_new(o, "items", json_integer((json_int_t)m->n));
  json_object_set_new(o, "accuracy", json_real(m->accuracy));
  json_object_set_new(o, "macro_f1", json_real(m->macro_f1));
  json_object_set_new(o, "weighted_f1", json_real(m->weighted_f1));
  json_object_set_new(o, "ece", json_real(m->ece));
  json_object_set_new(o, "needs_review", json_integer((json_int_t)m->needs_review));
  json_object_set_new(o, "accuracy_confident", json_real(m->accuracy_confident));
  for (i = 0; i < m->n_labels; i++) {
    const fm_label_metrics *l = &m->labels[i];
    json_t *lo = json_object(), *row = json_array();
    json_object_set_new(lo, "precision", json_real(l->precision));
    json_object_set_new(lo, "recall", json_real(l->recall));
    json_object_set_new(lo, "f1", json_real(l->f1));
    json_object_set_new(lo, "support", json_integer((json_int_t)l->support));
    json_object_set_new(lo, "predicted", json_integer((json_int_t)l->predicted));
    json_object_set_new(labels, l->label, lo);
    json_array_append_new(names, json_string(l->label));
    for (j = 0; j < m->n_labels; j++)
      json_array_append_new(row, json_integer((json_int_t)
          m->confusion[i * m->confusion_stride + j]));
    json_array_append_new(matrix, row);
  }
  json_object_set_new(o, "labels", labels);
  {
    json_t *conf = json_object();
    json_object_set_new(conf, "labels", names);
    json_object_set_new(conf, "matrix", matrix);
    json_object_set_new(o, "confusion", conf);
  }
  for (i = 0; i < FM_ECE_BINS; i++) {
    json_t *b = json_object();
    json_object_set_new(b, "count", json_integer((json_int_t)m->bin_count[i]));
    json_object_set_new(b, "confidence", json_real(m->bin_confidence[i]));
    json_object_set_new(b, "accuracy", json_real(m->bin_accuracy[i]));
    json_array_append_new(rel, b);
  }
  json_object_set_new(o, "reliability", rel);
  return o;
}

int cmd_eval(int argc, char **argv) {
  static const struct option longopts[] = {
    CLI_LABELED_LONGOPTS,
    CLI_TRAIN_LONGOPTS,
    {"model", required_argument, NULL, 'm'},
    {"folds", required_argument, NULL, 'k'},
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
  cli_labeled L = {.cmd = "eval"};
  cli_train T;
  const char *model_path = NULL;
  unsigned folds = 0;
  int c, json = 0, training_flags = 0;
  fm_error err;
  fm_eval *ev = NULL;
  fm_model *model = NULL;
  uint64_t ok = 0, rejected = 0;
  size_t h;

  cli_train_init(&T);
  optind = 1;
  while ((c = getopt_long(argc, argv, "i:m:h", longopts, NULL)) != -1) {
    if (cli_labeled_option(&L, c, optarg)) continue;
    if (cli_train_option(&T, c, optarg, "eval")) {
      training_flags = 1;
      continue;
    }
    switch (c) {
    case 'm': model_path = optarg; break;
    case 'k': {
      char *end;
      unsigned long v = strtoul(optarg, &end, 10);
      if (*end || v < 2 || v > 100)
        cli_usage_error("eval", "--folds wants 2..100, got '%s'", optarg);
      folds = (unsigned)v;
      break;
    }
    case 'j': json = 1; break;
    case 'h': help(stdout); return EXIT_ALL_OK;
    default:
      fprintf(stderr, "Try 'feedmine eval --help'.\n");
      return EXIT_USAGE;
    }
  }
  if (optind < argc)
    cli_usage_error("eval", "unexpected argument '%s'", argv[optind]);
  if (!L.input) cli_usage_error("eval", "no input: use -i FILE");
  if (!!model_path == !!folds)
    cli_usage_error("eval", "give either -m MODEL or --folds K");
  if (model_path && training_flags)
    cli_usage_error("eval", "training options only apply with --folds");
  if (model_path) {
    eval_ctx e;
    size_t nh;
    model = cli_open_model(model_path);
    nh = fm_model_head_count(model);
    cli_labeled_heads_from_model(&L, model);
    e.model = model;
    e.L = &L;
    e.head_of = xcalloc(nh, sizeof *e.head_of);
    e.truth = xcalloc(nh, sizeof *e.truth);
    for (h = 0; h < nh; h++) e.head_of[h] = -1;
    for (h = 0; h < L.n_heads; h++) {
      long mh = fm_model_head_index(model, L.heads[h]);
      if (mh < 0)
        cli_usage_error("eval", "model %s has no head '%s'", model_path,
                        L.heads[h]);
      e.head_of[mh] = (long)h;
    }
    if (fm_eval_new((const char *const *)L.heads, L.n_heads, model, &ev,
                    &err) != FM_OK ||
        fm_tagger_new(model, NULL, &e.tagger, &err) != FM_OK)
      cli_die_err(cli_exit_for(err.code), "eval", &err);
    e.ev = ev;
    ok = cli_labeled_run(&L, tag_row, &e, &rejected);
    fm_tagger_free(e.tagger);
    free(e.head_of);
    free(e.truth);
  } else {
    fm_trainer *tr;
    if (!L.n_heads) cli_usage_error("eval", "no head: use --label HEAD=COLUMN");
    tr = cli_train_new_trainer(&T, &L);
    ok = cli_labeled_run(&L, train_row, tr, &rejected);
    if (fm_eval_new((const char *const *)L.heads, L.n_heads, NULL, &ev,
                    &err) != FM_OK)
      cli_die_err(cli_exit_for(err.code), "eval", &err);
    if (fm_trainer_cross_validate(tr, folds, ev, &err) != FM_OK)
      cli_die_err(err.code == FM_EINVAL ? EXIT_USAGE : cli_exit_for(err.code),
                  L.input, &err);
    fm_trainer_free(tr);
  }
  if (json) {
    json_t *o = json_object(), *heads = json_object();
    char *s;
    json_object_set_new(o, "rows", json_integer((json_int_t)ok));
    json_object_set_new(o, "rejected", json_integer((json_int_t)rejected));
    if (model) json_object_set_new(o, "model", json_string(fm_model_id(model)));
    if (folds) json_object_set_new(o, "folds", json_integer(folds));
    for (h = 0; h < fm_eval_head_count(ev); h++) {
      const fm_head_metrics *m;
      if (fm_eval_head(ev, h, &m, &err) != FM_OK)
        cli_die_err(cli_exit_for(err.code), "eval", &err);
      json_object_set_new(heads, m->head, head_json(m));
    }
    json_object_set_new(o, "heads", heads);
    s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(6));
    if (!s) cli_die(EXIT_IO, "out of memory");
    printf("%s\n", s);
    free(s);
    json_decref(o);
  } else {
    if (folds)
      printf("%u-fold cross-validation of %s: %llu rows (%llu rejected)\n",
             folds, L.input, (unsigned long long)ok,
             (unsigned long long)rejected);
    else
      printf("model %s on %s: %llu rows (%llu rejected)\n", model_path,
             L.input, (unsigned long long)ok, (unsigned long long)rejected);
    for (h = 0; h < fm_eval_head_count(ev); h++) {
      const fm_head_metrics *m;
      if (fm_eval_head(ev, h, &m, &err) != FM_OK)
        cli_die_err(cli_exit_for(err.code), "eval", &err);
      print_text(m);
    }
  }
  fm_eval_free(ev);
  fm_model_close(model);
  cli_labeled_free(&L);
  cli_train_free(&T);
  if (fflush(stdout) != 0) cli_die(EXIT_IO, "cannot write output");
  return rejected ? EXIT_PARTIAL : EXIT_ALL_OK;
}
