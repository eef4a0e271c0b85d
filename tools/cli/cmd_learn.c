/*
 * cmd_learn.c -- `feedmine learn`: labeled corrections added to a model.
 * The corrections are counted with the model's own settings and merged in
 * (the same operation as fm_model_merge), so learning is exact and
 * incremental; the model's calibration is kept.
 */
#include <stdlib.h>
#include <string.h>

#include "labeled.h"

static void help(FILE *out) {
  fprintf(out,
    "usage: feedmine learn -m MODEL -i CORRECTIONS -o OUT [--text COL,...]\n"
    "                      [--label HEAD=COL ...]\n"
    "\n"
    "Adds labeled corrections to MODEL and writes OUT. Each head's labels\n"
    "are read from the column named like the head unless --label says\n"
    "otherwise; rows may label some heads only. New labels are added. The\n"
    "corrections use MODEL's pipeline and training settings and alpha;\n"
    "its calibration is kept (refit it with feedmine calibrate if many\n"
    "corrections were added).\n"
    "\n"
    "options:\n"
    "  -m, --model MODEL    the model to update\n"
    "  -o, --output OUT     where to write the updated model (may be MODEL)\n"
    CLI_LABELED_HELP
    "\n"
    "exit status: 0 ok; 1 some rows rejected; 2 usage; 3 input or output\n"
    "unusable; 4 model unusable.\n");
}

static fm_status add_row(void *ctx, const char *text, size_t len,
                         const char *lang, const char *source,
                         const char *const *labels, fm_error *err) {
  return fm_trainer_add(ctx, text, len, lang, source, labels, err);
}

int cmd_learn(int argc, char **argv) {
  static const struct option longopts[] = {
    CLI_LABELED_LONGOPTS,
    {"model", required_argument, NULL, 'm'},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
  cli_labeled L = {.cmd = "learn"};
  const char *model_path = NULL, *out = NULL;
  int c;
  fm_model *model, *corr;
  fm_trainer *tr;
  fm_error err;
  void *data;
  size_t len, h, nh;
  uint64_t ok, rejected;

  optind = 1;
  while ((c = getopt_long(argc, argv, "i:m:o:h", longopts, NULL)) != -1) {
    if (cli_labeled_option(&L, c, optarg)) continue;
    switch (c) {
    case 'm': model_path = optarg; break;
    case 'o': out = optarg; break;
    case 'h': help(stdout); return EXIT_ALL_OK;
    default:
      fprintf(stderr, "Try 'feedmine learn --help'.\n");
      return EXIT_USAGE;
    }
  }
  if (optind < argc)
    cli_usage_error("learn", "unexpected argument '%s'", argv[optind]);
  if (!model_path || !L.input || !out)
    cli_usage_error("learn", "wants -m MODEL -i CORRECTIONS -o OUT");
  model = cli_open_model(model_path);
  nh = fm_model_head_count(model);
  cli_labeled_heads_from_model(&L, model);
  /* The trainer's heads are the model's, in model order; --label may name
   * a subset in any order, so reorder the columns. */
  {
    long *head_of = cli_labeled_model_heads(&L, model, model_path);
    cli_labeled M = L;
    M.heads = xcalloc(nh, sizeof *M.heads);
    M.cols = xcalloc(nh, sizeof *M.cols);
    M.n_heads = 0;
    for (h = 0; h < nh; h++) {
      M.heads[M.n_heads] = xstrdup(fm_model_head_name(model, h));
      /* "" = no column: the head gets no labels from this file. */
      M.cols[M.n_heads] = xstrdup(head_of[h] >= 0 ? L.cols[head_of[h]] : "");
      M.n_heads++;
    }
    free(head_of);
    cli_labeled_free(&L);
    L = M;
  }
  if (fm_trainer_new_like(model, &tr, &err) != FM_OK)
    cli_die_err(cli_exit_for(err.code), "learn", &err);
  ok = cli_labeled_run(&L, add_row, tr, &rejected);
  if (!ok) cli_die(EXIT_IO, "%s: no usable rows", L.input);
  if (fm_trainer_write_memory(tr, &data, &len, &err) != FM_OK)
    cli_die_err(cli_exit_for(err.code), L.input, &err);
  fm_trainer_free(tr);
  if (fm_model_open_memory(data, len, &corr, &err) != FM_OK)
    cli_die_err(EXIT_MODEL, "learn", &err);
  {
    const fm_model *both[2];
    both[0] = model;
    both[1] = corr;
    if (fm_model_merge(both, 2, FM_MERGE_KEEP_CALIBRATION, out, &err) != FM_OK)
      cli_die_err(cli_exit_for(err.code), out, &err);
  }
  fm_model_close(corr);
  fm_free(data);
  fm_model_close(model);
  {
    fm_model *m = cli_open_model(out);
    printf("learned %llu corrections (%llu rejected)\n",
           (unsigned long long)ok, (unsigned long long)rejected);
    cli_print_model_info(stdout, out, m, 0);
    fm_model_close(m);
  }
  cli_labeled_free(&L);
  if (fflush(stdout) != 0) cli_die(EXIT_IO, "cannot write output");
  return rejected ? EXIT_PARTIAL : EXIT_ALL_OK;
}
