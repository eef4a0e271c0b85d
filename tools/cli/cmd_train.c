/*
 * cmd_train.c -- `feedmine train`: a naive Bayes model from a labeled
 * export.
 */
#include <stdlib.h>
#include <string.h>

#include "labeled.h"

static void help(FILE *out) {
  fprintf(out,
    "usage: feedmine train -i FILE [--text COL[,COL...]] --label HEAD=COL\n"
    "                      [--label HEAD=COL ...] -o MODEL [OPTIONS]\n"
    "\n"
    "Trains one naive Bayes head per --label on a labeled CSV or JSON Lines\n"
    "export and writes the model (through a temporary file, renamed into\n"
    "place). Rows with an empty label train the other heads only. The same\n"
    "input and options always give the same bytes.\n"
    "\n"
    "input:\n"
    CLI_LABELED_HELP
    "  -o, --output MODEL   where to write the model\n"
    "  -q, --quiet          print nothing but errors\n"
    CLI_TRAIN_HELP
    "\n"
    "exit status: 0 ok; 1 some rows rejected (the model is written from the\n"
    "rest); 2 usage; 3 input or output unusable.\n");
}

static fm_status add_row(void *ctx, const char *text, size_t len,
                         const char *lang, const char *source,
                         const char *const *labels, fm_error *err) {
  return fm_trainer_add(ctx, text, len, lang, source, labels, err);
}

int cmd_train(int argc, char **argv) {
  static const struct option longopts[] = {
    CLI_LABELED_LONGOPTS,
    CLI_TRAIN_LONGOPTS,
    {"output", required_argument, NULL, 'o'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
  cli_labeled L = {.cmd = "train"};
  cli_train T;
  const char *output = NULL;
  int c, quiet = 0;
  fm_trainer *tr;
  fm_error err;
  uint64_t ok, rejected;
  fm_model *m;

  cli_train_init(&T);
  optind = 1;
  while ((c = getopt_long(argc, argv, "i:o:qh", longopts, NULL)) != -1) {
    if (cli_labeled_option(&L, c, optarg) ||
        cli_train_option(&T, c, optarg, "train"))
      continue;
    switch (c) {
    case 'o': output = optarg; break;
    case 'q': quiet = 1; break;
    case 'h': help(stdout); return EXIT_ALL_OK;
    default:
      fprintf(stderr, "Try 'feedmine train --help'.\n");
      return EXIT_USAGE;
    }
  }
  if (optind < argc)
    cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
  if (!L.input) cli_usage_error("train", "no input: use -i FILE");
  if (!output) cli_usage_error("train", "no output: use -o MODEL");
  if (!L.n_heads) cli_usage_error("train", "no head: use --label HEAD=COLUMN");
  tr = cli_train_new_trainer(&T, &L);
  ok = cli_labeled_run(&L, add_row, tr, &rejected);
  if (!ok) cli_die(EXIT_IO, "%s: no usable rows", L.input);
  if (fm_trainer_write(tr, output, &err) != FM_OK)
    cli_die_err(cli_exit_for(err.code), output, &err);
  fm_trainer_free(tr);
  if (!quiet) {
    m = cli_open_model(output);
    printf("trained on %llu rows (%llu rejected)\n", (unsigned long long)ok,
           (unsigned long long)rejected);
    cli_print_model_info(stdout, output, m, 0);
    fm_model_close(m);
  }
  cli_labeled_free(&L);
  cli_train_free(&T);
  if (fflush(stdout) != 0) cli_die(EXIT_IO, "cannot write output");
  return rejected ? EXIT_PARTIAL : EXIT_ALL_OK;
}
