/*
 * langid_eval.c -- measures language identification against the `lang`
 * column of the evaluation datasets (../shared/datasets) and of the
 * held-out rows (split=test) of the project's labeled corpus, which
 * tools/langid/gen_profiles.py leaves out of the trigram profiles.
 *
 * Each text goes through the whole pipeline (fm_tagger_analyze with the
 * default stages: redaction, normalization, segmentation, identification),
 * as a caller would see it. "und" counts as wrong.
 *
 *   langid_eval [--datasets DIR] [--corpora DIR] [--errors N]
 *
 * It also times fmi_langid alone (CPU time, LANGID_REPEAT calls per text
 * on the normalized, segmented text, so caches are warm as they are in the
 * pipeline) and prints its throughput per language.
 *
 * A wrong row is also counted as "label suspect" when the text has at
 * least SUSPECT_MIN stopword tokens of the language found and
 * SUSPECT_RATIO times as many as of the labeled language (a few words like
 * "in", "so", "will" are on both the English and the German list): the
 * source's label, not the identifier, is then most likely wrong
 * (support_tickets_multilang labels hundreds of English e-mails "de").
 * "acc-susp" is the accuracy over the rows that are not suspect.
 */
#include "feedmine.h"
#include "lang.h"
#include "segment.h"

#include <csv.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LANGS 32
#define MAX_GROUPS 64
#define LANGID_REPEAT 10
#define SUSPECT_MIN 5
#define SUSPECT_RATIO 3

static const char *const dataset_files[] = {
    "banking77/train.csv",
    "banking77/test.csv",
    "sms_spam/train.csv",
    "sms_spam/test.csv",
    "hebrew_sentiment/train.csv",
    "hebrew_sentiment/valid.csv",
    "hebrew_sentiment/test.csv",
    "wisesight_sentiment_th/train.csv",
    "wisesight_sentiment_th/valid.csv",
    "wisesight_sentiment_th/test.csv",
    "support_tickets_multilang/train.csv",
    "support_tickets_multilang/test.csv",
};

typedef struct cell {
  char source[96];
  char lang[8];
  long rows, correct, und, suspect;
  double id_seconds; /* fmi_langid alone, LANGID_REPEAT calls per text */
  size_t id_bytes;
  long got[MAX_LANGS]; /* by index into langs[] */
} cell;

typedef struct eval {
  fm_tagger *tagger;
  fmi_segmenter *seg;
  fmi_arena arena;
  char langs[MAX_LANGS][8];
  int nlangs;
  cell cells[MAX_GROUPS];
  int ncells;
  long errors_left;
  double seconds;
  size_t bytes;
  /* current file */
  const char *source;
  int only_test; /* corpus: rows with split=test only */
  int col_text, col_lang, col_split, ncols, header_done;
  /* current row */
  char *field[16];
  size_t field_len[16];
  int nfield;
} eval;

static int lang_index(eval *e, const char *l) {
  int i;
  for (i = 0; i < e->nlangs; i++)
    if (strcmp(e->langs[i], l) == 0) return i;
  if (e->nlangs == MAX_LANGS) return MAX_LANGS - 1;
  snprintf(e->langs[e->nlangs], sizeof e->langs[0], "%s", l);
  return e->nlangs++;
}

static cell *cell_for(eval *e, const char *source, const char *lang) {
  int i;
  for (i = 0; i < e->ncells; i++)
    if (strcmp(e->cells[i].source, source) == 0 &&
        strcmp(e->cells[i].lang, lang) == 0)
      return &e->cells[i];
  if (e->ncells == MAX_GROUPS) {
    fprintf(stderr, "langid_eval: too many source/language groups\n");
    exit(2);
  }
  memset(&e->cells[e->ncells], 0, sizeof e->cells[0]);
  snprintf(e->cells[e->ncells].source, sizeof e->cells[0].source, "%s",
           source);
  snprintf(e->cells[e->ncells].lang, sizeof e->cells[0].lang, "%s", lang);
  return &e->cells[e->ncells++];
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time: the machine is shared, wall time would count others' work. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Times fmi_langid alone on the normalized, segmented text. */
static void time_langid(eval *e, cell *c, const fm_analysis *an) {
  fmi_seg *segs;
  size_t nseg, i;
  fm_error err;
  const char *got = NULL;
  double t0;
  fmi_arena_reset(&e->arena);
  if (fmi_segment(e->seg, an->normalized, an->normalized_len, true,
                  &e->arena, &segs, &nseg, &err) != FM_OK) {
    fprintf(stderr, "langid_eval: segment: %s\n", err.msg);
    exit(1);
  }
  t0 = cpu_now();
  for (i = 0; i < LANGID_REPEAT; i++)
    got = fmi_langid(an->normalized, an->normalized_len, segs, nseg);
  c->id_seconds += cpu_now() - t0;
  c->id_bytes += an->normalized_len * LANGID_REPEAT;
  if (strcmp(got, an->lang) != 0) {
    fprintf(stderr, "langid_eval: fmi_langid gave %s, the pipeline %s\n",
            got, an->lang);
    exit(1);
  }
}

/* Stopword tokens of `lang` among the analysis' words. */
static long stopword_tokens(const fm_analysis *an, const char *lang) {
  size_t i;
  long n = 0;
  for (i = 0; i < an->n_tokens; i++)
    if (an->tokens[i].kind == FM_TOKEN_WORD &&
        fmi_is_stopword(lang, an->tokens[i].text, an->tokens[i].len))
      n++;
  return n;
}

static void eval_row(eval *e, const char *text, size_t len, const char *lang) {
  const fm_analysis *an;
  fm_error err;
  double t0 = now();
  fm_status st = fm_tagger_analyze(e->tagger, text, len, NULL, &an, &err);
  cell *c;
  e->seconds += now() - t0;
  e->bytes += len;
  if (st != FM_OK) {
    fprintf(stderr, "langid_eval: %s: %s\n", e->source, err.msg);
    exit(1);
  }
  c = cell_for(e, e->source, lang);
  time_langid(e, c, an);
  c->rows++;
  c->got[lang_index(e, an->lang)]++;
  if (strcmp(an->lang, lang) == 0) {
    c->correct++;
    return;
  }
  if (strcmp(an->lang, "und") == 0) {
    c->und++;
  } else {
    long found = stopword_tokens(an, an->lang);
    if (found >= SUSPECT_MIN && found >= SUSPECT_RATIO * stopword_tokens(an, lang))
      c->suspect++;
  }
  if (e->errors_left > 0) {
    size_t i, n = len > 200 ? 200 : len;
    e->errors_left--;
    fprintf(stderr, "%s\t%s -> %s\t", e->source, lang, an->lang);
    for (i = 0; i < n; i++)
      fputc(text[i] == '\n' || text[i] == '\r' || text[i] == '\t' ? ' '
                                                                 : text[i],
            stderr);
    fputc('\n', stderr);
  }
}

static void on_field(void *s, size_t len, void *data) {
  eval *e = data;
  if (e->nfield < 16) {
    e->field_len[e->nfield] = len;
    /* libcsv reuses its buffer: keep a copy until the row ends. */
    e->field[e->nfield] = malloc(len + 1);
    if (!e->field[e->nfield]) exit(2);
    memcpy(e->field[e->nfield], s, len);
    e->field[e->nfield][len] = 0;
  }
  e->nfield++;
}

static void on_row(int c, void *data) {
  eval *e = data;
  int i, n = e->nfield < 16 ? e->nfield : 16;
  (void)c;
  if (!e->header_done) {
    e->col_text = e->col_lang = e->col_split = -1;
    for (i = 0; i < n; i++) {
      if (strcmp(e->field[i], "text") == 0) e->col_text = i;
      if (strcmp(e->field[i], "lang") == 0) e->col_lang = i;
      if (strcmp(e->field[i], "split") == 0) e->col_split = i;
    }
    if (e->col_text < 0 || e->col_lang < 0) {
      fprintf(stderr, "langid_eval: %s: no text or lang column\n", e->source);
      exit(1);
    }
    e->header_done = 1;
  } else if (e->col_text < n && e->col_lang < n &&
             (!e->only_test ||
              (e->col_split >= 0 && e->col_split < n &&
               strcmp(e->field[e->col_split], "test") == 0))) {
    eval_row(e, e->field[e->col_text], e->field_len[e->col_text],
             e->field[e->col_lang]);
  }
  for (i = 0; i < n; i++) free(e->field[i]);
  e->nfield = 0;
}

static int run_file(eval *e, const char *path, const char *source,
                    int only_test) {
  struct csv_parser p;
  char buf[65536];
  size_t n;
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  e->source = source;
  e->only_test = only_test;
  e->header_done = 0;
  e->nfield = 0;
  if (csv_init(&p, CSV_STRICT | CSV_APPEND_NULL) != 0) exit(2);
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
    if (csv_parse(&p, buf, n, on_field, on_row, e) != n) {
      fprintf(stderr, "langid_eval: %s: %s\n", path,
              csv_strerror(csv_error(&p)));
      exit(1);
    }
  }
  csv_fini(&p, on_field, on_row, e);
  csv_free(&p);
  fclose(f);
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_cells(eval *e, int from, int to) {
  int i, j;
  for (i = from; i < to; i++) {
    cell *c = &e->cells[i];
    printf("%-38s %-4s %7ld %7ld %7.2f%% %5ld %7ld %7.2f%%  ", c->source,
           c->lang, c->rows, c->correct, 100.0 * c->correct / c->rows, c->und,
           c->suspect,
           c->rows > c->suspect
               ? 100.0 * c->correct / (double)(c->rows - c->suspect)
               : 100.0);
    for (j = 0; j < e->nlangs; j++)
      if (c->got[j] && strcmp(e->langs[j], c->lang) != 0)
        printf(" %s=%ld", e->langs[j], c->got[j]);
    printf("\n");
  }
}

/* Sums the cells of [from, to) per language into new cells "TOTAL". */
static void totals(eval *e, int from, int to, const char *name) {
  int i, j, start = e->ncells;
  for (i = from; i < to; i++) {
    cell *src = &e->cells[i], *t = cell_for(e, name, src->lang);
    t->rows += src->rows;
    t->correct += src->correct;
    t->und += src->und;
    t->suspect += src->suspect;
    t->id_seconds += src->id_seconds;
    t->id_bytes += src->id_bytes;
    for (j = 0; j < MAX_LANGS; j++) t->got[j] += src->got[j];
  }
  print_cells(e, start, e->ncells);
}

int main(int argc, char **argv) {
  static eval e;
  char datasets[4096], corpora[4096], path[8192];
  const char *names[256];
  int i, nnames = 0, first, after_datasets;
  fm_error err;
  DIR *d;
  struct dirent *de;

  snprintf(datasets, sizeof datasets, "%s/../shared/datasets", FM_SOURCE_DIR);
  snprintf(corpora, sizeof corpora, "%s/corpora/labeled", FM_SOURCE_DIR);
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--datasets") == 0 && i + 1 < argc) {
      snprintf(datasets, sizeof datasets, "%s", argv[++i]);
    } else if (strcmp(argv[i], "--corpora") == 0 && i + 1 < argc) {
      snprintf(corpora, sizeof corpora, "%s", argv[++i]);
    } else if (strcmp(argv[i], "--errors") == 0 && i + 1 < argc) {
      e.errors_left = atol(argv[++i]);
    } else {
      fprintf(stderr,
              "usage: langid_eval [--datasets DIR] [--corpora DIR] "
              "[--errors N]\n");
      return 2;
    }
  }
  if (fm_tagger_new(NULL, NULL, &e.tagger, &err) != FM_OK ||
      fmi_segmenter_new(&e.seg, &err) != FM_OK) {
    fprintf(stderr, "langid_eval: %s\n", err.msg);
    return 1;
  }
  fmi_arena_init(&e.arena, 0);
  lang_index(&e, "und");

  printf("%-38s %-4s %7s %7s %8s %5s %7s %8s  %s\n", "source", "lang", "rows",
         "correct", "accuracy", "und", "suspect", "acc-susp", "confusions");
  for (i = 0; i < (int)(sizeof dataset_files / sizeof dataset_files[0]);
       i++) {
    snprintf(path, sizeof path, "%s/%s", datasets, dataset_files[i]);
    if (run_file(&e, path, dataset_files[i], 0) != 0)
      fprintf(stderr, "langid_eval: skipping %s (cannot open)\n", path);
  }
  after_datasets = e.ncells;
  print_cells(&e, 0, after_datasets);

  d = opendir(corpora);
  if (d) {
    while ((de = readdir(d)) != NULL && nnames < 256) {
      size_t l = strlen(de->d_name);
      if (l > 4 && strcmp(de->d_name + l - 4, ".csv") == 0)
        names[nnames++] = strdup(de->d_name);
    }
    closedir(d);
  }
  qsort(names, (size_t)nnames, sizeof names[0], cmp_str);
  first = e.ncells;
  for (i = 0; i < nnames; i++) {
    static char sources[256][96];
    snprintf(path, sizeof path, "%s/%s", corpora, names[i]);
    snprintf(sources[i], sizeof sources[i], "corpora/labeled/%s (test rows)",
             names[i]);
    run_file(&e, path, sources[i], 1);
    free((void *)names[i]);
  }
  print_cells(&e, first, e.ncells);
  {
    int end = e.ncells;
    printf("\nper language, datasets:\n");
    totals(&e, 0, after_datasets, "TOTAL datasets");
    printf("\nper language, datasets and corpus test rows:\n");
    totals(&e, 0, end, "TOTAL all");
  }
  printf("\nfmi_langid alone (CPU time, warm, on normalized text):\n");
  for (i = 0; i < e.ncells; i++) {
    cell *c = &e.cells[i];
    if (strcmp(c->source, "TOTAL datasets") != 0 || c->id_seconds <= 0)
      continue;
    printf("  %-4s %8.0f MB/s %8.2f us/text\n", c->lang,
           c->id_bytes / 1e6 / c->id_seconds,
           c->id_seconds / (double)c->rows / LANGID_REPEAT * 1e6);
  }
  printf("\nwhole pipeline (wall time, includes the machine's other load): "
         "%.2f s for %.1f MB (%.1f MB/s)\n",
         e.seconds, e.bytes / 1e6,
         e.seconds > 0 ? e.bytes / 1e6 / e.seconds : 0.0);
  fmi_arena_free(&e.arena);
  fmi_segmenter_free(e.seg);
  fm_tagger_free(e.tagger);
  return 0;
}
