/*
 * cmd_model.c -- `feedmine model info|merge`.
 */
#include <stdlib.h>
#include <string.h>

#include "labeled.h"

static void help(FILE *out) {
  fprintf(out,
    "usage: feedmine model info MODEL\n"
    "       feedmine model merge -o OUT MODEL MODEL...\n"
    "\n"
    "info   prints what MODEL records: format, size, documents, features,\n"
    "       training options, alpha (with the cross-validated accuracy of\n"
    "       each alpha tried), and per head the labels with their document\n"
    "       counts, the calibration and the needs_review threshold.\n"
    "merge  adds the counts of models trained with the same pipeline and\n"
    "       training settings and the same heads; labels are the union.\n"
    "       Merging models trained on shards gives the same bytes as\n"
    "       training on all the data (--no-calibration). Calibration is\n"
    "       dropped: run feedmine calibrate on the result.\n"
    "\n"
    "exit status: 0 ok; 2 usage; 3 output unwritable; 4 a model unusable or\n"
    "the models do not match.\n");
}

int cmd_model(int argc, char **argv) {
  const char *sub;
  if (argc < 2) {
    help(stderr);
    return EXIT_USAGE;
  }
  sub = argv[1];
  if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
    help(stdout);
    return EXIT_ALL_OK;
  }
  if (!strcmp(sub, "info")) {
    fm_model *m;
    if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
      help(stdout);
      return EXIT_ALL_OK;
    }
    if (argc != 3) cli_usage_error("model info", "wants one MODEL");
    m = cli_open_model(argv[2]);
    cli_print_model_info(stdout, argv[2], m, 1);
    fm_model_close(m);
  } else if (!strcmp(sub, "merge")) {
    const char *out = NULL;
    fm_model **models;
    size_t n = 0, i;
    int a;
    fm_error err;
    models = xcalloc((size_t)argc, sizeof *models);
    for (a = 2; a < argc; a++) {
      if (!strcmp(argv[a], "-o") || !strcmp(argv[a], "--output")) {
        if (a + 1 >= argc) cli_usage_error("model merge", "-o wants a path");
        out = argv[++a];
      } else if (!strncmp(argv[a], "--output=", 9)) {
        out = argv[a] + 9;
      } else if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
        help(stdout);
        return EXIT_ALL_OK;
      } else if (argv[a][0] == '-' && argv[a][1]) {
        cli_usage_error("model merge", "unknown option '%s'", argv[a]);
      } else {
        models[n++] = cli_open_model(argv[a]);
      }
    }
    if (!out) cli_usage_error("model merge", "no output: use -o OUT");
    if (n < 2) cli_usage_error("model merge", "wants two models or more");
    if (fm_model_merge((const fm_model *const *)models, n, 0, out, &err) !=
        FM_OK)
      cli_die_err(cli_exit_for(err.code), "model merge", &err);
    for (i = 0; i < n; i++) fm_model_close(models[i]);
    free(models);
    models = NULL;
    {
      fm_model *m = cli_open_model(out);
      printf("merged %zu models\n", n);
      cli_print_model_info(stdout, out, m, 0);
      fm_model_close(m);
    }
  } else {
    cli_usage_error("model", "no subcommand '%s' (info, merge)", sub);
  }
  if (fflush(stdout) != 0) cli_die(EXIT_IO, "cannot write output");
  return EXIT_ALL_OK;
}
