/*
 * labeled.h -- what train, eval, learn and calibrate share: reading
 * labeled exports (text columns, one label column per head), the training
 * options as flags, and printing what a model records.
 */
#ifndef FM_CLI_LABELED_H
#define FM_CLI_LABELED_H

#include <getopt.h>
#include <stdint.h>

#include "cli.h"

typedef struct cli_labeled {
  const char *cmd;        /* "train", ... for messages */
  const char *input;      /* -i FILE ("-" = stdin) */
  const char *text;       /* --text COL[,COL...]; NULL = detect */
  const char *lang;       /* --lang XX for every row */
  const char *lang_col;   /* --lang-column COL */
  const char *source;     /* --source NAME for every row */
  const char *source_col; /* --source-column COL */
  size_t n_heads;
  char **heads, **cols;   /* head names and their label columns */
  int optional_cols;      /* heads named after a model's: a missing column
                             means no labels for that head */
} cli_labeled;

/* "--label HEAD=COL" or "--label COL" (a head named after the column). */
void cli_labeled_add_label(cli_labeled *L, const char *spec);
/* Heads named after `model`'s heads, each read from the column of the
 * same name (when the file has it), when no --label was given. */
void cli_labeled_heads_from_model(cli_labeled *L, const fm_model *model);
/* For each head of `model` (model order), the index of the --label head
 * that feeds it, or -1; a --label naming no head of the model is a usage
 * error. Caller frees. */
long *cli_labeled_model_heads(const cli_labeled *L, const fm_model *model,
                              const char *model_path);
void cli_labeled_free(cli_labeled *L);

/* Called per record; labels has one entry per head (NULL = none). A
 * status other than FM_OK rejects the row (FM_ETOOBIG, FM_EPARSE) or, for
 * anything else, stops the run. */
typedef fm_status (*cli_labeled_fn)(void *ctx, const char *text, size_t len,
                                    const char *lang, const char *source,
                                    const char *const *labels,
                                    fm_error *err);

/* Reads every record of L->input through fn. Rows the reader or fn
 * rejects are reported as "FILE:LINE: reason" and counted in *rejected.
 * Fatal errors end the process with a message naming the file. Returns the
 * number of rows accepted. */
uint64_t cli_labeled_run(cli_labeled *L, cli_labeled_fn fn, void *ctx,
                         uint64_t *rejected);

/* Options shared by every command that reads labeled files, and the
 * training options (train, eval --folds). Codes start at 2000. */
#define CLI_LABELED_LONGOPTS                                   \
  {"input", required_argument, NULL, 'i'},                     \
  {"text", required_argument, NULL, 2000},                     \
  {"label", required_argument, NULL, 2001},                    \
  {"lang", required_argument, NULL, 2002},                     \
  {"lang-column", required_argument, NULL, 2003},              \
  {"source", required_argument, NULL, 2004},                   \
  {"source-column", required_argument, NULL, 2005}
#define CLI_TRAIN_LONGOPTS                                     \
  {"no-redact", no_argument, NULL, 2100},                      \
  {"no-normalize", no_argument, NULL, 2101},                   \
  {"no-langid", no_argument, NULL, 2102},                      \
  {"no-stopwords", no_argument, NULL, 2103},                   \
  {"no-stem", no_argument, NULL, 2104},                        \
  {"no-negation", no_argument, NULL, 2105},                    \
  {"no-bigrams", no_argument, NULL, 2106},                     \
  {"no-dict-segment", no_argument, NULL, 2107},                \
  {"no-chargrams", no_argument, NULL, 2108},                   \
  {"chargrams", required_argument, NULL, 2109},                \
  {"alpha", required_argument, NULL, 2110},                    \
  {"variant", required_argument, NULL, 2111},                  \
  {"tfidf", no_argument, NULL, 2112},                          \
  {"no-tfidf", no_argument, NULL, 2113},                       \
  {"length-norm", no_argument, NULL, 2114},                    \
  {"no-length-norm", no_argument, NULL, 2115},                 \
  {"sublinear-tf", no_argument, NULL, 2116},                   \
  {"no-sublinear-tf", no_argument, NULL, 2117},                \
  {"min-count", required_argument, NULL, 2118},                \
  {"priors", required_argument, NULL, 2119},                   \
  {"prior", required_argument, NULL, 2120},                    \
  {"calibration", no_argument, NULL, 2121},                    \
  {"no-calibration", no_argument, NULL, 2122},                 \
  {"cal-folds", required_argument, NULL, 2123},                \
  {"review-target", required_argument, NULL, 2124},            \
  {"review-threshold", required_argument, NULL, 2125},         \
  {"max-bytes", required_argument, NULL, 2126},                \
  {"stopwords", no_argument, NULL, 2127}

/* Help text for the two groups. */
#define CLI_LABELED_HELP                                                    \
  "  -i, --input FILE     labeled CSV or JSON Lines ('-' = standard input)\n" \
  "  --text COL[,COL...]  text column(s), joined (default: detected from\n"   \
  "                       the header: text, body, comment, ...)\n"          \
  "  --label HEAD=COL     a head and the column holding its labels; repeat\n" \
  "                       for more heads. --label COL names the head COL.\n"  \
  "                       Empty cells leave the row out of that head only.\n" \
  "  --lang XX            language of every row (default: a lang/language\n"  \
  "                       column when present, else detected per row)\n"    \
  "  --lang-column COL    column holding each row's language\n"            \
  "  --source NAME        source of every row (ticket, nps, churn, ...)\n"  \
  "  --source-column COL  column holding each row's source\n"
#define CLI_TRAIN_HELP                                                      \
  "model options (defaults in brackets):\n"                                 \
  "  --variant auto|mnb|cnb  multinomial or complement naive Bayes; auto =\n" \
  "                       chosen with alpha by cross-validation (with a\n" \
  "                       fixed --alpha: mnb) [auto]\n"                    \
  "  --alpha auto|X       additive smoothing; auto = chosen by K-fold\n"    \
  "                       cross-validation over 0.003..1 [auto]; auto\n"   \
  "                       choices maximize the mean of held-out accuracy\n" \
  "                       and macro-F1\n"                                   \
  "  --tfidf, --no-tfidf  idf weighting [on]\n"                             \
  "  --sublinear-tf, --no-sublinear-tf   count c as 1 + ln c [on]\n"        \
  "  --length-norm, --no-length-norm     L2-normalize each document [on]\n" \
  "  --min-count N        leave features seen in fewer than N documents\n"  \
  "                       out of the scoring index [1]\n"                   \
  "  --priors auto|learned|uniform       label priors; auto = chosen with\n" \
  "                       alpha (with a fixed --alpha: learned) [auto]\n"  \
  "  --prior HEAD:LABEL=P fix one label's prior (repeatable)\n"             \
  "  --no-calibration     skip probability calibration (fit it later with\n" \
  "                       feedmine calibrate) [calibrate]\n"                \
  "  --cal-folds K        folds for alpha auto and calibration [5]\n"       \
  "  --review-target A    needs_review below the probability where held-out\n" \
  "                       accuracy reaches A [0.9]\n"                       \
  "  --review-threshold P needs_review below a fixed probability P\n"       \
  "pipeline options (recorded in the model):\n"                             \
  "  --chargrams MIN-MAX  character n-grams of each chunk between blanks\n" \
  "                       [3-5]; --no-chargrams: none\n"                   \
  "  --stopwords          drop stopwords from the word features [kept]\n"   \
  "  --no-redact --no-normalize --no-langid --no-stem --no-negation\n"      \
  "  --no-bigrams --no-dict-segment   switch a stage off\n"                 \
  "  --max-bytes N        refuse documents over N bytes [1048576]\n"

/* Given priors collected from --prior, applied after the trainer exists. */
typedef struct cli_train {
  fm_train_opts opts;
  size_t n_priors;
  char **prior_head, **prior_label;
  double *prior_p;
} cli_train;

void cli_train_init(cli_train *T);
/* Handles option `code` (2100..2199); returns 0 when it is not one. */
int cli_train_option(cli_train *T, int code, const char *arg,
                     const char *cmd);
/* Handles 'i' and 2000..2099; returns 0 when it is not one. */
int cli_labeled_option(cli_labeled *L, int code, const char *arg);
fm_trainer *cli_train_new_trainer(cli_train *T, const cli_labeled *L);
void cli_train_free(cli_train *T);

/* Prints what a model records (feedmine model info; a shorter form after
 * training with labels = 0). */
void cli_print_model_info(FILE *out, const char *path, const fm_model *m,
                          int labels);

/* "a,b" -> "a+b" for the reader's text mapping (caller frees). */
char *cli_text_mapping(const char *cols);

#endif
