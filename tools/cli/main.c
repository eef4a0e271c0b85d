/*
 * main.c -- the feedmine command: dispatches to one subcommand per file.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Weak: a command whose file is not built is left out of the table. */
#pragma weak cmd_tokenize
#pragma weak cmd_train
#pragma weak cmd_eval
#pragma weak cmd_tag
#pragma weak cmd_learn
#pragma weak cmd_calibrate
#pragma weak cmd_model
#pragma weak cmd_report
#pragma weak cmd_batch
#pragma weak cmd_store

static const struct {
  const char *name;
  cli_cmd_fn fn;
  const char *summary;
} commands[] = {
  {"tokenize", cmd_tokenize, "run the text pipeline and print tokens and features"},
  {"train", cmd_train, "train a naive Bayes model from labeled CSV or JSONL"},
  {"eval", cmd_eval, "measure a model (or K-fold cross-validation) on labeled data"},
  {"tag", cmd_tag, "tag texts or exports with a model"},
  {"learn", cmd_learn, "add labeled corrections to a model"},
  {"calibrate", cmd_calibrate, "fit a model's probability calibration on labeled data"},
  {"model", cmd_model, "inspect or merge models (model info, model merge)"},
  {"report", cmd_report, "write a requirement report from exports"},
  {"batch", cmd_batch, "nightly job: ingest, tag what is new, rewrite reports"},
  {"store", cmd_store, "inspect or maintain a batch store"},
};

static void usage(FILE *out) {
  size_t i;
  fprintf(out,
          "usage: feedmine COMMAND [OPTIONS] [ARGS]\n"
          "       feedmine COMMAND --help\n"
          "       feedmine --version\n\n"
          "Mines customer feedback: tags tickets, NPS comments, churn and\n"
          "lost-deal reasons by product area, sentiment and kind, and writes\n"
          "requirement reports.\n\ncommands:\n");
  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (commands[i].fn)
      fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out,
          "  %-10s %s\n\n"
          "exit status: 0 ok; 1 some rows rejected or a source failed (the\n"
          "rest done); 2 usage error; 3 input or output unusable; 4 model\n"
          "unusable.\n",
          "help", "show this help, or a command's (feedmine help COMMAND)");
}

int main(int argc, char **argv) {
  size_t i;
  const char *name;
  /* Past a file size limit (ulimit -f) a write then fails with EFBIG, so
   * every command takes its write-error path (message, temporary file
   * removed, exit 3) instead of being killed with a partial file left. */
  signal(SIGXFSZ, SIG_IGN);
  if (fm_version_number() != FEEDMINE_VERSION_NUMBER)
    cli_die(EXIT_USAGE, "library version %s does not match the CLI's %s",
            fm_version(), FEEDMINE_VERSION);
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  name = argv[1];
  if (!strcmp(name, "--version") || !strcmp(name, "version")) {
    printf("feedmine %s (model format %d.%d)\n", fm_version(),
           fm_model_format_version() / 1000, fm_model_format_version() % 1000);
    return EXIT_ALL_OK;
  }
  if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
    usage(stdout);
    return EXIT_ALL_OK;
  }
  if (!strcmp(name, "help")) {
    if (argc < 3) {
      usage(stdout);
      return EXIT_ALL_OK;
    }
    name = argv[2];
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
      if (commands[i].fn && !strcmp(commands[i].name, name)) {
        char *av[] = {argv[2], "--help", NULL};
        return commands[i].fn(2, av);
      }
    cli_usage_error("help", "no command '%s'", name);
  }
  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (commands[i].fn && !strcmp(commands[i].name, name))
      return commands[i].fn(argc - 1, argv + 1);
  cli_warn("no command '%s'", name);
  usage(stderr);
  return EXIT_USAGE;
}
