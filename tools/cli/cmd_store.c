/*
 * cmd_store.c -- `feedmine store stats|vacuum|export`: look into or tidy a
 * batch store.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static void help(FILE *out) {
  fprintf(out,
    "usage: feedmine store stats  (STORE | --config FILE)\n"
    "       feedmine store vacuum (STORE | --config FILE)\n"
    "       feedmine store export (STORE | --config FILE) [-o OUT]\n"
    "\n"
    "stats   items per source and per tagging model, untagged items, items\n"
    "        needing review, raw texts kept, date range, runs.\n"
    "vacuum  compacts the file (VACUUM), refreshes the planner's statistics\n"
    "        and truncates the write-ahead log; takes the store's lock.\n"
    "export  the canonical dump: one JSON object per item in (source, key)\n"
    "        order with its tags, then one per model; no row numbers and no\n"
    "        runs, so two stores with the same content give the same bytes.\n"
    "\n"
    "options:\n"
    "  -c, --config FILE  take the store's path from a batch configuration\n"
    "  -o, --output OUT   export to OUT (through a temporary file renamed at\n"
    "                     the end) instead of standard output\n"
    "  -h, --help         show this help\n"
    "\n"
    "exit status: 0 ok; 2 usage; 3 store unusable (missing, not a feedmine\n"
    "store, locked by a running job for vacuum) or output unwritable.\n");
}

static void date_str(int64_t t, char out[16]) {
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(out, 16, "%Y-%m-%d", &tm);
}

static int do_stats(fm_store *s, const char *path) {
  const fm_store_stats *st;
  fm_error err;
  size_t i;
  if (fm_store_stats_get(s, &st, &err) != FM_OK)
    cli_die(EXIT_IO, "%s", err.msg);
  printf("store:          %s\n", path);
  printf("schema:         %d\n", st->schema_version);
  printf("items:          %llu\n", (unsigned long long)st->items);
  for (i = 0; i < st->n_sources; i++)
    printf("  %-12s  %llu\n", st->sources[i].name,
           (unsigned long long)st->sources[i].count);
  printf("tagged by:\n");
  for (i = 0; i < st->n_by_model; i++)
    printf("  %-16s  %llu%s\n", st->by_model[i].name,
           (unsigned long long)st->by_model[i].count,
           !strcmp(st->by_model[i].name, st->current_model) ? " (current)"
                                                             : "");
  printf("untagged:       %llu\n", (unsigned long long)st->untagged);
  printf("need review:    %llu\n", (unsigned long long)st->needs_review);
  printf("tags:           %llu\n", (unsigned long long)st->tags);
  printf("raw text kept:  %llu\n", (unsigned long long)st->raw_kept);
  if (st->has_dates) {
    char a[16], b[16];
    date_str(st->first_date, a);
    date_str(st->last_date, b);
    printf("dates:          %s .. %s\n", a, b);
  } else {
    printf("dates:          none\n");
  }
  printf("models:         %llu\n", (unsigned long long)st->models);
  printf("runs:           %llu%s%s%s\n", (unsigned long long)st->runs,
         st->last_run_status[0] ? " (last: " : "", st->last_run_status,
         st->last_run_status[0] ? ")" : "");
  return EXIT_ALL_OK;
}

/* The export's temporary name, for cli_temp_open's error path. */
static char tmp_export[PATH_MAX];

static void remove_export_temp(void) {
  if (tmp_export[0]) unlink(tmp_export);
}

static int do_export(fm_store *s, const char *out_path) {
  fm_error err;
  FILE *out = stdout;
  if (out_path) out = cli_temp_open(out_path, tmp_export, 0644, remove_export_temp);
  if (fm_store_export(s, out, &err) != FM_OK) {
    if (out_path) {
      fclose(out);
      remove_export_temp();
    }
    cli_die(EXIT_IO, "%s", err.msg);
  }
  if (out_path) cli_temp_commit(out, tmp_export, out_path, remove_export_temp);
  return EXIT_ALL_OK;
}

int cmd_store(int argc, char **argv) {
  static const struct option longopts[] = {
      {"config", required_argument, NULL, 'c'},
      {"output", required_argument, NULL, 'o'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *config = NULL, *out = NULL, *action, *path = NULL;
  fm_batch_config *cfg = NULL;
  fm_store_opts so = FM_STORE_OPTS_INIT;
  fm_store *s = NULL;
  fm_error err;
  int c, rc;
  optind = 1;
  while ((c = getopt_long(argc, argv, "c:o:h", longopts, NULL)) != -1) {
    switch (c) {
    case 'c': config = optarg; break;
    case 'o': out = optarg; break;
    case 'h': help(stdout); return EXIT_ALL_OK;
    default: cli_usage_error("store", "unknown option");
    }
  }
  if (optind >= argc)
    cli_usage_error("store", "which action: stats, vacuum or export?");
  action = argv[optind++];
  if (strcmp(action, "stats") && strcmp(action, "vacuum") &&
      strcmp(action, "export"))
    cli_usage_error("store", "no action '%s' (stats, vacuum, export)", action);
  if (optind < argc) path = argv[optind++];
  if (optind < argc)
    cli_usage_error("store", "unexpected argument '%s'", argv[optind]);
  if (!!path == !!config)
    cli_usage_error("store", "give the store's path or --config FILE");
  if (out && strcmp(action, "export"))
    cli_usage_error("store", "-o is for export only");
  if (config) {
    fm_status st = fm_batch_config_load(config, &cfg, &err);
    if (st != FM_OK)
      cli_die(st == FM_EPARSE ? EXIT_USAGE : cli_exit_for(st), "%s", err.msg);
    path = cfg->store;
  }
  if (strcmp(action, "vacuum")) so.flags = FM_STORE_READONLY;
  if (fm_store_open(path, &so, &s, &err) != FM_OK)
    cli_die(EXIT_IO, "%s", err.msg);
  if (fm_store_notice(s)[0]) cli_warn("store %s: %s", path, fm_store_notice(s));
  if (!strcmp(action, "stats")) {
    rc = do_stats(s, path);
  } else if (!strcmp(action, "export")) {
    rc = do_export(s, out);
  } else {
    if (fm_store_vacuum(s, &err) != FM_OK) cli_die(EXIT_IO, "%s", err.msg);
    rc = EXIT_ALL_OK;
  }
  fm_store_close(s);
  fm_batch_config_free(cfg);
  return rc;
}
