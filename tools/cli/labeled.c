/*
 * labeled.c -- reading labeled exports and training flags for the train,
 * eval, learn and calibrate commands.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "labeled.h"

void cli_labeled_add_label(cli_labeled *L, const char *spec) {
  const char *eq = strchr(spec, '=');
  char *head, *col;
  size_t i;
  if (eq) {
    head = xstrdup(spec);
    head[eq - spec] = 0;
    col = xstrdup(eq + 1);
  } else {
    head = xstrdup(spec);
    col = xstrdup(spec);
  }
  if (!head[0] || !col[0])
    cli_usage_error(L->cmd, "--label wants HEAD=COLUMN or COLUMN, got '%s'",
                    spec);
  for (i = 0; i < L->n_heads; i++)
    if (!strcmp(L->heads[i], head))
      cli_usage_error(L->cmd, "head '%s' is given twice", head);
  L->heads = xrealloc(L->heads, (L->n_heads + 1) * sizeof *L->heads);
  L->cols = xrealloc(L->cols, (L->n_heads + 1) * sizeof *L->cols);
  L->heads[L->n_heads] = head;
  L->cols[L->n_heads] = col;
  L->n_heads++;
}

void cli_labeled_heads_from_model(cli_labeled *L, const fm_model *m) {
  size_t h;
  if (L->n_heads) return;
  for (h = 0; h < fm_model_head_count(m); h++)
    cli_labeled_add_label(L, fm_model_head_name(m, h));
  L->optional_cols = 1;
}

long *cli_labeled_model_heads(const cli_labeled *L, const fm_model *model,
                              const char *model_path) {
  size_t h, nh = fm_model_head_count(model);
  long *head_of = xcalloc(nh, sizeof *head_of);
  for (h = 0; h < nh; h++) head_of[h] = -1;
  for (h = 0; h < L->n_heads; h++) {
    long mh = fm_model_head_index(model, L->heads[h]);
    if (mh < 0)
      cli_usage_error(L->cmd, "model %s has no head '%s'", model_path,
                      L->heads[h]);
    head_of[mh] = (long)h;
  }
  return head_of;
}

void cli_labeled_free(cli_labeled *L) {
  size_t i;
  for (i = 0; i < L->n_heads; i++) {
    free(L->heads[i]);
    free(L->cols[i]);
  }
  free(L->heads);
  free(L->cols);
  L->heads = L->cols = NULL;
  L->n_heads = 0;
}

char *cli_text_mapping(const char *cols) {
  char *m = xmalloc(strlen(cols) + 6), *p;
  strcpy(m, "text=");
  strcat(m, cols);
  for (p = m + 5; *p; p++)
    if (*p == ',') *p = '+';
  return m;
}

/* Exact name first, then ASCII case-insensitive, as the reader does. */
static int has_column(fm_reader *r, const char *name) {
  size_t i, n = fm_reader_column_count(r);
  for (i = 0; i < n; i++)
    if (!strcmp(fm_reader_column_name(r, i), name)) return 1;
  for (i = 0; i < n; i++)
    if (!strcasecmp(fm_reader_column_name(r, i), name)) return 1;
  return 0;
}

static void die_no_column(fm_reader *r, const char *what, const char *col) {
  size_t i, n = fm_reader_column_count(r);
  char cols[1024] = "";
  for (i = 0; i < n && strlen(cols) < 900; i++) {
    if (i) strcat(cols, ", ");
    strncat(cols, fm_reader_column_name(r, i), 100);
  }
  cli_die(EXIT_IO, "%s: no %s column '%s' (columns: %s)", fm_reader_name(r),
          what, col, cols);
}

/* A label cell with surrounding blanks trimmed, into buf. */
static const char *label_of(const fm_record *rec, const char *col,
                            char **buf, size_t *cap) {
  size_t len;
  const char *v = fm_record_field(rec, col, &len);
  if (!v) return NULL;
  while (len && (*v == ' ' || *v == '\t')) {
    v++;
    len--;
  }
  while (len && (v[len - 1] == ' ' || v[len - 1] == '\t' ||
                 v[len - 1] == '\r' || v[len - 1] == '\n'))
    len--;
  if (!len) return NULL;
  if (len + 1 > *cap) {
    *cap = len + 1;
    *buf = xrealloc(*buf, *cap);
  }
  memcpy(*buf, v, len);
  (*buf)[len] = 0;
  return *buf;
}

uint64_t cli_labeled_run(cli_labeled *L, cli_labeled_fn fn, void *ctx,
                         uint64_t *rejected) {
  fm_reader_opts ro = FM_READER_OPTS_INIT;
  fm_reader *r = NULL;
  fm_error err;
  const char *map[2];
  char *text_map = NULL, *lang_map = NULL;
  char **bufs;
  size_t *caps;
  const char **labels;
  char *src_buf = NULL;
  size_t src_cap = 0, h;
  uint64_t ok = 0;
  fm_status st;
  *rejected = 0;
  if (L->text) map[ro.n_map++] = text_map = cli_text_mapping(L->text);
  if (L->lang_col) {
    lang_map = xmalloc(strlen(L->lang_col) + 6);
    sprintf(lang_map, "lang=%s", L->lang_col);
    map[ro.n_map++] = lang_map;
  }
  ro.map = map;
  if (fm_reader_open(L->input, &ro, &r, &err) != FM_OK)
    cli_die_err(cli_exit_for(err.code), L->input, &err);
  if (fm_reader_format(r) == FM_FORMAT_CSV) {
    size_t found = 0;
    for (h = 0; h < L->n_heads; h++) {
      if (!L->cols[h][0]) continue;
      if (has_column(r, L->cols[h])) {
        found++;
      } else if (L->optional_cols) {
        L->cols[h][0] = 0; /* this head gets no labels from the file */
      } else {
        die_no_column(r, "label", L->cols[h]);
      }
    }
    if (L->optional_cols && !found)
      die_no_column(r, "label", L->n_heads ? L->heads[0] : "");
    if (L->source_col && !has_column(r, L->source_col))
      die_no_column(r, "source", L->source_col);
  }
  /* Allocated once the input is known to be usable: the checks above
   * exit, and memory still owned there would show as a leak (valgrind). */
  bufs = xcalloc(L->n_heads + 1, sizeof *bufs);
  caps = xcalloc(L->n_heads + 1, sizeof *caps);
  labels = xcalloc(L->n_heads + 1, sizeof *labels);
  for (;;) {
    const fm_record *rec;
    const char *lang, *source = L->source;
    st = fm_reader_next(r, &rec, &err);
    if (st == FM_EEOF) break;
    if (st == FM_EPARSE) {
      cli_warn("%s:%llu: %s", fm_reader_name(r),
               (unsigned long long)err.line, err.msg);
      (*rejected)++;
      continue;
    }
    if (st != FM_OK) cli_die_err(cli_exit_for(st), fm_reader_name(r), &err);
    for (h = 0; h < L->n_heads; h++)
      labels[h] = L->cols[h][0] ? label_of(rec, L->cols[h], &bufs[h], &caps[h])
                                : NULL;
    if (L->source_col) source = label_of(rec, L->source_col, &src_buf, &src_cap);
    lang = L->lang ? L->lang : (rec->lang[0] ? rec->lang : NULL);
    st = fn(ctx, rec->text, rec->text_len, lang, source, labels, &err);
    if (st == FM_ETOOBIG || st == FM_EPARSE || st == FM_EINVAL) {
      cli_warn("%s:%llu: %s", fm_reader_name(r),
               (unsigned long long)rec->line, err.msg);
      (*rejected)++;
      continue;
    }
    if (st != FM_OK) {
      char what[1200];
      snprintf(what, sizeof what, "%s:%llu", fm_reader_name(r),
               (unsigned long long)rec->line);
      err.line = 0;
      cli_die_err(cli_exit_for(st), what, &err);
    }
    ok++;
  }
  fm_reader_free(r);
  for (h = 0; h < L->n_heads; h++) free(bufs[h]);
  free(bufs);
  free(caps);
  free(labels);
  free(src_buf);
  free(text_map);
  free(lang_map);
  return ok;
}

int cli_labeled_option(cli_labeled *L, int code, const char *arg) {
  switch (code) {
  case 'i': L->input = arg; return 1;
  case 2000: L->text = arg; return 1;
  case 2001: cli_labeled_add_label(L, arg); return 1;
  case 2002: L->lang = arg; return 1;
  case 2003: L->lang_col = arg; return 1;
  case 2004: L->source = arg; return 1;
  case 2005: L->source_col = arg; return 1;
  default: return 0;
  }
}

void cli_train_init(cli_train *T) {
  fm_train_opts o = FM_TRAIN_OPTS_INIT;
  memset(T, 0, sizeof *T);
  T->opts = o;
}

void cli_train_free(cli_train *T) {
  size_t i;
  for (i = 0; i < T->n_priors; i++) {
    free(T->prior_head[i]);
    free(T->prior_label[i]);
  }
  free(T->prior_head);
  free(T->prior_label);
  free(T->prior_p);
}

static double number_arg(const char *cmd, const char *opt, const char *arg,
                         double lo, double hi) {
  char *end;
  double v;
  errno = 0;
  v = strtod(arg, &end);
  if (errno || end == arg || *end || !(v >= lo && v <= hi))
    cli_usage_error(cmd, "%s wants a number in [%g, %g], got '%s'", opt, lo,
                    hi, arg);
  return v;
}

int cli_train_option(cli_train *T, int code, const char *arg,
                     const char *cmd) {
  static const unsigned stage_bits[] = {
    FM_STAGE_REDACT, FM_STAGE_NORMALIZE, FM_STAGE_LANGID, FM_STAGE_STOPWORDS,
    FM_STAGE_STEM, FM_STAGE_NEGATION, FM_STAGE_BIGRAMS, FM_STAGE_DICT_SEGMENT,
    FM_STAGE_CHARGRAMS};
  fm_train_opts *o = &T->opts;
  if (code >= 2100 && code <= 2108) {
    o->pipeline.stages &= ~stage_bits[code - 2100];
    return 1;
  }
  switch (code) {
  case 2109: {
    unsigned lo, hi;
    char extra;
    if (sscanf(arg, "%u-%u%c", &lo, &hi, &extra) != 2 || lo == 0 || lo > hi ||
        hi > 16)
      cli_usage_error(cmd, "--chargrams wants MIN-MAX, e.g. 2-5, with 1 <= "
                      "MIN <= MAX <= 16; got '%s'", arg);
    o->pipeline.stages |= FM_STAGE_CHARGRAMS;
    o->pipeline.char_ngram_min = lo;
    o->pipeline.char_ngram_max = hi;
    return 1;
  }
  case 2110:
    if (!strcmp(arg, "auto"))
      o->alpha = -1;
    else
      o->alpha = number_arg(cmd, "--alpha", arg, 1e-9, 1e6);
    return 1;
  case 2127: o->pipeline.stages |= FM_STAGE_STOPWORDS; return 1;
  case 2111:
    if (!strcmp(arg, "auto"))
      o->variant = FM_NB_AUTO;
    else if (!strcmp(arg, "mnb") || !strcmp(arg, "multinomial"))
      o->variant = FM_NB_MULTINOMIAL;
    else if (!strcmp(arg, "cnb") || !strcmp(arg, "complement"))
      o->variant = FM_NB_COMPLEMENT;
    else
      cli_usage_error(cmd, "--variant wants auto, mnb or cnb, got '%s'",
                      arg);
    return 1;
  case 2112: o->tfidf = 1; return 1;
  case 2113: o->tfidf = 0; return 1;
  case 2114: o->length_norm = 1; return 1;
  case 2115: o->length_norm = 0; return 1;
  case 2116: o->sublinear_tf = 1; return 1;
  case 2117: o->sublinear_tf = 0; return 1;
  case 2118:
    o->min_count = (unsigned)number_arg(cmd, "--min-count", arg, 0, 1e9);
    return 1;
  case 2119:
    if (!strcmp(arg, "auto"))
      o->priors = FM_PRIORS_AUTO;
    else if (!strcmp(arg, "learned"))
      o->priors = FM_PRIORS_LEARNED;
    else if (!strcmp(arg, "uniform"))
      o->priors = FM_PRIORS_UNIFORM;
    else
      cli_usage_error(cmd, "--priors wants auto, learned or uniform, got '%s'",
                      arg);
    return 1;
  case 2120: {
    const char *colon = strchr(arg, ':'), *eq = strrchr(arg, '=');
    size_t i = T->n_priors;
    if (!colon || !eq || eq < colon || colon == arg || eq == colon + 1)
      cli_usage_error(cmd, "--prior wants HEAD:LABEL=P, got '%s'", arg);
    T->prior_head = xrealloc(T->prior_head, (i + 1) * sizeof *T->prior_head);
    T->prior_label = xrealloc(T->prior_label, (i + 1) * sizeof *T->prior_label);
    T->prior_p = xrealloc(T->prior_p, (i + 1) * sizeof *T->prior_p);
    T->prior_head[i] = xstrdup(arg);
    T->prior_head[i][colon - arg] = 0;
    T->prior_label[i] = xstrdup(colon + 1);
    T->prior_label[i][eq - colon - 1] = 0;
    T->prior_p[i] = number_arg(cmd, "--prior", eq + 1, 1e-9, 1 - 1e-9);
    T->n_priors++;
    return 1;
  }
  case 2121: o->calibrate = 1; return 1;
  case 2122: o->calibrate = 0; return 1;
  case 2123: o->folds = (unsigned)number_arg(cmd, "--cal-folds", arg, 2, 100); return 1;
  case 2124:
    o->review = FM_REVIEW_TARGET_ACCURACY;
    o->review_value = number_arg(cmd, "--review-target", arg, 1e-9, 1);
    return 1;
  case 2125:
    o->review = FM_REVIEW_FIXED;
    o->review_value = number_arg(cmd, "--review-threshold", arg, 1e-9, 1);
    return 1;
  case 2126:
    o->pipeline.max_doc_bytes =
        (size_t)number_arg(cmd, "--max-bytes", arg, 1, 1 << 30);
    return 1;
  default: return 0;
  }
}

fm_trainer *cli_train_new_trainer(cli_train *T, const cli_labeled *L) {
  fm_trainer *tr = NULL;
  fm_error err;
  size_t i;
  if (fm_trainer_new((const char *const *)L->heads, L->n_heads, &T->opts, &tr,
                     &err) != FM_OK)
    cli_die_err(cli_exit_for(err.code), L->cmd, &err);
  for (i = 0; i < T->n_priors; i++)
    if (fm_trainer_set_prior(tr, T->prior_head[i], T->prior_label[i],
                             T->prior_p[i], &err) != FM_OK)
      cli_usage_error(L->cmd, "--prior %s:%s: %s", T->prior_head[i],
                      T->prior_label[i], err.msg);
  return tr;
}

static void print_stages(FILE *out, const fm_pipeline_opts *p) {
  static const struct { unsigned bit; const char *name; } st[] = {
    {FM_STAGE_REDACT, "redact"},       {FM_STAGE_NORMALIZE, "normalize"},
    {FM_STAGE_LANGID, "langid"},       {FM_STAGE_STOPWORDS, "stopwords"},
    {FM_STAGE_STEM, "stem"},           {FM_STAGE_NEGATION, "negation"},
    {FM_STAGE_BIGRAMS, "bigrams"},     {FM_STAGE_DICT_SEGMENT, "dict-segment"},
    {FM_STAGE_CHARGRAMS, "chargrams"}};
  size_t i;
  int any = 0;
  for (i = 0; i < sizeof st / sizeof st[0]; i++)
    if (p->stages & st[i].bit) {
      fprintf(out, "%s%s", any ? " " : "", st[i].name);
      if (st[i].bit == FM_STAGE_CHARGRAMS)
        fprintf(out, "(%u-%u)", p->char_ngram_min, p->char_ngram_max);
      any = 1;
    }
  if (!any) fprintf(out, "(none)");
  fputc('\n', out);
}

static const char *calib_name(fm_calibration c) {
  switch (c) {
  case FM_CALIB_TEMPERATURE: return "temperature";
  case FM_CALIB_PLATT: return "platt";
  default: return "none";
  }
}

void cli_print_model_info(FILE *out, const char *path, const fm_model *m,
                          int labels) {
  fm_model_info info;
  fm_error err;
  size_t h, i;
  info.size = sizeof info;
  if (fm_model_info_get(m, &info, &err) != FM_OK)
    cli_die_err(EXIT_MODEL, path, &err);
  fprintf(out, "model: %s\n", path);
  if (labels) {
    fprintf(out, "format: %d.%d\n", info.format_version / 1000,
            info.format_version % 1000);
    fprintf(out, "id: %s\n", fm_model_id(m));
    fprintf(out, "size: %llu bytes\n", (unsigned long long)info.file_bytes);
    fprintf(out, "producer: %s\n", info.producer);
    if (info.unicode_version && *info.unicode_version)
      fprintf(out, "text: %s\n", info.unicode_version);
    if (info.stemmers && *info.stemmers)
      fprintf(out, "stemmers: %s\n", info.stemmers);
  }
  fprintf(out, "documents: %llu\n", (unsigned long long)info.documents);
  fprintf(out, "features: %llu (in the index: %llu; weights: %llu)\n",
          (unsigned long long)info.features,
          (unsigned long long)info.index_features,
          (unsigned long long)info.postings);
  fprintf(out, "variant: %s%s\n",
          info.variant == FM_NB_COMPLEMENT ? "complement" : "multinomial",
          info.opts.variant == FM_NB_AUTO ? " (auto)" : "");
  fprintf(out, "alpha: %g%s", info.alpha, info.opts.alpha < 0 ? " (auto" : "");
  if (info.opts.alpha < 0) {
    if (info.n_alpha_grid)
      fprintf(out, "; cross-validated mean of accuracy and macro-F1:");
    for (i = 0; i < info.n_alpha_grid; i++)
      fprintf(out, " %g=%.4f", info.alpha_grid[i], info.alpha_grid_accuracy[i]);
    fputc(')', out);
  }
  fputc('\n', out);
  fprintf(out, "tf-idf: %s, sublinear tf: %s, length normalization: %s, "
          "min count: %u\n", info.opts.tfidf ? "on" : "off",
          info.opts.sublinear_tf ? "on" : "off",
          info.opts.length_norm ? "on" : "off", info.opts.min_count);
  fprintf(out, "priors: %s%s\n",
          info.priors == FM_PRIORS_UNIFORM ? "uniform" : "learned",
          info.opts.priors == FM_PRIORS_AUTO ? " (auto)" : "");
  fprintf(out, "pipeline: ");
  print_stages(out, &info.opts.pipeline);
  for (h = 0; h < fm_model_head_count(m); h++) {
    fm_head_info hi;
    hi.size = sizeof hi;
    if (fm_model_head_info(m, h, &hi, &err) != FM_OK)
      cli_die_err(EXIT_MODEL, path, &err);
    fprintf(out, "head %s: %zu labels, %llu documents\n", hi.name, hi.n_labels,
            (unsigned long long)hi.documents);
    fprintf(out, "  calibration: %s", calib_name(hi.calibration));
    if (hi.calibration == FM_CALIB_TEMPERATURE)
      fprintf(out, " T=%.4f", hi.temperature);
    else if (hi.calibration == FM_CALIB_PLATT)
      fprintf(out, " a=%.4f b=%.4f", hi.platt_a, hi.platt_b);
    if (hi.held_out)
      fprintf(out, " (held out: %llu, accuracy %.4f, ECE %.4f -> %.4f)",
              (unsigned long long)hi.held_out, hi.held_out_accuracy,
              hi.ece_raw, hi.ece);
    fputc('\n', out);
    fprintf(out, "  needs review below: %.4f\n", hi.threshold);
    fprintf(out, "  sources:");
    if (!hi.n_sources) fprintf(out, " (any)");
    for (i = 0; i < hi.n_sources; i++)
      fprintf(out, " %s", fm_model_head_source(m, h, i));
    fputc('\n', out);
    if (labels)
      for (i = 0; i < hi.n_labels; i++)
        fprintf(out, "  label %s: %llu documents\n",
                fm_model_label_name(m, h, i),
                (unsigned long long)fm_model_label_docs(m, h, i));
  }
}
