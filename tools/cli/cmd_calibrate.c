/*
 * cmd_calibrate.c -- `feedmine calibrate`: fit a model's probability
 * calibration and needs_review thresholds on held-out labeled data.
 */
#include <stdlib.h>
#include <string.h>

#include "labeled.h"

static void help(FILE *out) {
  fprintf(out,
    "usage: feedmine calibrate -m MODEL -i FILE -o OUT [--text COL,...]\n"
    "                          [--label HEAD=COL ...] [--review-target A |\n"
    "                          --review-threshold P]\n"
    "\n"
    "Tags every labeled row of FILE with MODEL, fits per head temperature\n"
    "scaling and Platt scaling, keeps the one with the lower expected\n"
    "calibration error (measured on the other half of the rows), sets the\n"
    "needs_review threshold, and writes OUT: MODEL with only its\n"
    "calibration changed. Use rows the model was not trained on (after\n"
    "feedmine model merge, for example, a held-out file).\n"
    "\n"
    "options:\n"
    "  -m, --model MODEL    the model\n"
    "  -o, --output OUT     where to write the calibrated model\n"
    "  --review-target A    needs_review below the probability where the\n"
    "                       accuracy of the items above reaches A [0.9]\n"
    "  --review-threshold P needs_review below P\n"
    CLI_LABELED_HELP
    "\n"
    "exit status: 0 ok; 1 some rows rejected; 2 usage; 3 input or output\n"
    "unusable; 4 model unusable.\n");
}

typedef struct cal_ctx {
  fm_calibrator *cal;
  const char **by_model;
  long *head_of;
  size_t nh;
} cal_ctx;

static fm_status add_row(void *p, const char *text, size_t len,
                         const char *lang, const char *source,
                         const char *const *labels, fm_error *err) {
  cal_ctx *c = p;
  size_t h;
  (void)source;
  for (h = 0; h < c->nh; h++)
    c->by_model[h] = c->head_of[h] >= 0 ? labels[c->head_of[h]] : NULL;
  return fm_calibrator_add(c->cal, text, len, lang, c->by_model, err);
}

int cmd_calibrate(int argc, char **argv) {
  static const struct option longopts[] = {
    CLI_LABELED_LONGOPTS,
    {"model", required_argument, NULL, 'm'},
    {"output", required_argument, NULL, 'o'},
    {"review-target", required_argument, NULL, 't'},
    {"review-threshold", required_argument, NULL, 'T'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
  cli_labeled L = {.cmd = "calibrate"};
  const char *model_path = NULL, *out = NULL;
  fm_review_policy review = FM_REVIEW_TARGET_ACCURACY;
  double value = 0;
  int c;
  fm_model *model;
  fm_error err;
  cal_ctx ctx;
  uint64_t ok, rejected;

  optind = 1;
  while ((c = getopt_long(argc, argv, "i:m:o:h", longopts, NULL)) != -1) {
    if (cli_labeled_option(&L, c, optarg)) continue;
    switch (c) {
    case 'm': model_path = optarg; break;
    case 'o': out = optarg; break;
    case 't':
    case 'T': {
      char *end;
      value = strtod(optarg, &end);
      if (*end || !(value > 0 && value <= 1))
        cli_usage_error("calibrate", "--review-%s wants a number in (0, 1]",
                        c == 't' ? "target" : "threshold");
      review = c == 't' ? FM_REVIEW_TARGET_ACCURACY : FM_REVIEW_FIXED;
      break;
    }
    case 'h': help(stdout); return EXIT_ALL_OK;
    default:
      fprintf(stderr, "Try 'feedmine calibrate --help'.\n");
      return EXIT_USAGE;
    }
  }
  if (optind < argc)
    cli_usage_error("calibrate", "unexpected argument '%s'", argv[optind]);
  if (!model_path || !L.input || !out)
    cli_usage_error("calibrate", "wants -m MODEL -i FILE -o OUT");
  model = cli_open_model(model_path);
  ctx.nh = fm_model_head_count(model);
  cli_labeled_heads_from_model(&L, model);
  ctx.head_of = cli_labeled_model_heads(&L, model, model_path);
  ctx.by_model = xcalloc(ctx.nh, sizeof *ctx.by_model);
  if (fm_calibrator_new(model, review, value, &ctx.cal, &err) != FM_OK)
    cli_die_err(cli_exit_for(err.code), "calibrate", &err);
  ok = cli_labeled_run(&L, add_row, &ctx, &rejected);
  if (!ok) cli_die(EXIT_IO, "%s: no usable rows", L.input);
  if (fm_calibrator_write(ctx.cal, out, &err) != FM_OK)
    cli_die_err(cli_exit_for(err.code), out, &err);
  fm_calibrator_free(ctx.cal);
  fm_model_close(model);
  free(ctx.head_of);
  free(ctx.by_model);
  {
    fm_model *m = cli_open_model(out);
    printf("calibrated on %llu rows (%llu rejected)\n",
           (unsigned long long)ok, (unsigned long long)rejected);
    cli_print_model_info(stdout, out, m, 0);
    fm_model_close(m);
  }
  cli_labeled_free(&L);
  if (fflush(stdout) != 0) cli_die(EXIT_IO, "cannot write output");
  return rejected ? EXIT_PARTIAL : EXIT_ALL_OK;
}
