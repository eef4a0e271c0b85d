/*
 * cmd_batch.c -- `feedmine batch`: the nightly job over fm_batch_run.
 *
 * What the CLI adds to the library: argv, the exit status, messages on
 * stderr, progress on a terminal, the one-line summary a cron mail is read
 * from, and a debug hook for the crash tests: FEEDMINE_CRASH_AT=PHASE:N
 * makes the process kill itself with SIGKILL at a chosen point, or send
 * itself SIGTERM with PHASE:N:term (the library never reads the
 * environment; it only calls our progress callback).
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void help(FILE *out) {
  fprintf(out,
    "usage: feedmine batch --config FILE [--dry-run] [--retag] [-j N] [-q]\n"
    "\n"
    "The nightly job: reads every source of the configuration (INI, see\n"
    "README 'feedmine batch'), adds new and edited rows to the store, tags\n"
    "exactly those with the model, and rewrites the configured reports from\n"
    "the whole store into the output folder (each written to a temporary\n"
    "name and renamed). Rows already in the store are recognised by (source,\n"
    "id), or by their content when the export has no id, and left alone.\n"
    "Work is committed in batches: a run killed at any point and started\n"
    "again ends with the same store and the same reports. A lock (STORE.lock)\n"
    "keeps two jobs off one store; a lock left by a dead job is cleared.\n"
    "\n"
    "options:\n"
    "  -c, --config FILE  the job's configuration (required)\n"
    "  -n, --dry-run      read the sources and compare with the store: print\n"
    "                     what would change, write nothing\n"
    "  --retag            also re-tag stored items tagged by another model\n"
    "                     (after a model change), in batches\n"
    "  -j, --jobs N       tag on N threads (default 1); same result for any N\n"
    "  -q, --quiet        no progress and no summary line (errors still go to\n"
    "                     stderr)\n"
    "  -h, --help         show this help\n"
    "\n"
    "SIGINT or SIGTERM stops the job cleanly within a batch: the open batch\n"
    "is rolled back, temporary files removed, the run recorded as interrupted\n"
    "(exit 130 / 143). A job that cannot get there within 10 s (blocked on a\n"
    "pipe), or a second signal, dies by the signal; that is safe too, like a\n"
    "kill -9: the next run converges.\n"
    "\n"
    "Output: one summary line on stdout (status, rows read, new, edited,\n"
    "updated, unchanged, rejected, tagged, reports, seconds); problems on\n"
    "stderr; rejected rows in the rejects file; one JSON line per run in the\n"
    "runs log (output folder, runs.jsonl).\n"
    "\n"
    "exit status: 0 ok; 1 some rows rejected or a source failed (the rest\n"
    "done); 2 usage or configuration error; 3 store, input or output\n"
    "unusable (store locked by a live job included); 4 model unusable;\n"
    "130 / 143 interrupted by SIGINT / SIGTERM.\n");
}

/* The crash hook: at PHASE with count >= N, SIGKILL (a crash) or, with
 * ":term", SIGTERM (a clean stop, through the handler below). */
typedef struct crash_at {
  int on;
  int term;
  fm_batch_phase phase;
  unsigned long long count;
} crash_at;

/* SIGINT / SIGTERM set this; the progress callback then asks the library
 * to stop, which rolls back, removes temporary files and records the run
 * as interrupted. The callback comes at least once a batch, but a job
 * blocked reading a pipe or a stalled disk never gets there: after
 * STOP_GRACE_S seconds, or at a second signal, the process dies by the
 * signal itself (the store is safe either way; the next run converges). */
#define STOP_GRACE_S 10
static volatile sig_atomic_t got_signal;

static void die_by_signal(int sig) {
  signal(sig, SIG_DFL);
  raise(sig);
}

static void on_alarm(int sig) {
  (void)sig;
  die_by_signal(got_signal);
}

static void on_signal(int sig) {
  if (got_signal) die_by_signal(sig);
  got_signal = sig;
  alarm(STOP_GRACE_S);
}

typedef struct cli_state {
  crash_at crash;
  int show_progress;
  unsigned long long last_shown;
} cli_state;

static int parse_crash(const char *v, crash_at *c) {
  static const struct {
    const char *name;
    fm_batch_phase phase;
  } phases[] = {{"ingest", FM_BATCH_INGEST}, {"commit", FM_BATCH_COMMIT},
                {"retag", FM_BATCH_RETAG},   {"report", FM_BATCH_REPORT},
                {"done", FM_BATCH_DONE},     {"aggregate", FM_BATCH_AGGREGATE}};
  const char *colon = strchr(v, ':');
  size_t n = colon ? (size_t)(colon - v) : strlen(v), i;
  for (i = 0; i < sizeof phases / sizeof phases[0]; i++)
    if (strlen(phases[i].name) == n && !strncmp(v, phases[i].name, n)) {
      char *end;
      c->on = 1;
      c->phase = phases[i].phase;
      c->count = 0;
      if (!colon) return 1;
      c->count = strtoull(colon + 1, &end, 10);
      if (end == colon + 1) return 0;
      if (!strcmp(end, ":term")) c->term = 1;
      else if (*end) return 0;
      return 1;
    }
  return 0;
}

static int on_progress(void *user, const fm_batch_progress *p) {
  cli_state *s = user;
  if (s->crash.on && p->phase == s->crash.phase &&
      p->count >= s->crash.count) {
    s->crash.on = 0;
    fflush(stderr);
    /* SIGKILL is as abrupt as a power cut for the process: no atexit, no
     * flush; SIGTERM goes through the handler like `systemctl stop` */
    raise(s->crash.term ? SIGTERM : SIGKILL);
  }
  if (got_signal) return 1;
  if (s->show_progress && p->phase == FM_BATCH_INGEST &&
      p->count - s->last_shown >= 10000) {
    s->last_shown = p->count;
    fprintf(stderr, "\r%s: %llu rows read (%s)%s", cli_prog,
            (unsigned long long)p->count, p->source ? p->source : "",
            "        ");
  }
  return 0;
}

static void on_log(void *user, const char *msg) {
  cli_state *s = user;
  if (s->show_progress && s->last_shown) {
    fputc('\n', stderr);
    s->last_shown = 0;
  }
  fprintf(stderr, "%s batch: %s\n", cli_prog, msg);
}

int cmd_batch(int argc, char **argv) {
  static const struct option longopts[] = {
      {"config", required_argument, NULL, 'c'},
      {"dry-run", no_argument, NULL, 'n'},
      {"retag", no_argument, NULL, 'R'},
      {"jobs", required_argument, NULL, 'j'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *config = NULL, *crash_env;
  fm_batch_opts bo = FM_BATCH_OPTS_INIT;
  fm_batch_config *cfg = NULL;
  fm_batch_stats stats;
  cli_state state;
  fm_error err;
  fm_status st;
  int quiet = 0, c, status;
  memset(&state, 0, sizeof state);
  optind = 1;
  while ((c = getopt_long(argc, argv, "c:nj:qh", longopts, NULL)) != -1) {
    switch (c) {
    case 'c': config = optarg; break;
    case 'n': bo.flags |= FM_BATCH_DRY_RUN; break;
    case 'R': bo.flags |= FM_BATCH_RETAG; break;
    case 'j': {
      char *end;
      long n = strtol(optarg, &end, 10);
      if (*end || n < 1 || n > 64)
        cli_usage_error("batch", "-j wants a number of threads (1 to 64), "
                        "not '%s'", optarg);
      bo.threads = (unsigned)n;
      break;
    }
    case 'q': quiet = 1; break;
    case 'h': help(stdout); return EXIT_ALL_OK;
    default: cli_usage_error("batch", "unknown option");
    }
  }
  if (optind < argc)
    cli_usage_error("batch", "unexpected argument '%s'", argv[optind]);
  if (!config) cli_usage_error("batch", "--config FILE is required");
  crash_env = getenv("FEEDMINE_CRASH_AT");
  if (crash_env && *crash_env && !parse_crash(crash_env, &state.crash))
    cli_usage_error("batch", "FEEDMINE_CRASH_AT='%s' is not PHASE[:N[:term]] "
                    "with PHASE ingest, commit, retag, aggregate, report or "
                    "done", crash_env);
  st = fm_batch_config_load(config, &cfg, &err);
  if (st != FM_OK)
    cli_die(st == FM_EPARSE ? EXIT_USAGE : cli_exit_for(st), "%s", err.msg);
  state.show_progress = !quiet && isatty(2);
  cli_on_stop_signals(on_signal);
  {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
  }
  bo.progress = on_progress;
  bo.log = on_log;
  bo.user = &state;
  st = fm_batch_run(cfg, &bo, &stats, &err);
  if (state.show_progress && state.last_shown) fputc('\n', stderr);
  if (st == FM_ECANCELLED && got_signal) {
    fm_batch_config_free(cfg);
    fprintf(stderr, "%s batch: interrupted by %s: what was committed is kept; "
            "run again to finish\n", cli_prog,
            got_signal == SIGINT ? "SIGINT" : "SIGTERM");
    if (!quiet) printf("feedmine batch: interrupted\n");
    return 128 + got_signal;
  }
  if (st != FM_OK) {
    fm_batch_config_free(cfg);
    fprintf(stderr, "%s batch: %s\n", cli_prog,
            err.msg[0] ? err.msg : fm_strerror(st));
    if (!quiet)
      printf("feedmine batch: failed: %s\n",
             err.msg[0] ? err.msg : fm_strerror(st));
    if (st == FM_EINVAL) return EXIT_USAGE;
    return cli_exit_for(st);
  }
  status = stats.rejected || stats.sources_failed ? EXIT_PARTIAL
                                                  : EXIT_ALL_OK;
  if (!quiet) {
    if (bo.flags & FM_BATCH_DRY_RUN)
      printf("feedmine batch: dry run: %u sources (%u failed), %llu read, "
             "would add %llu new, %llu edited, %llu updated; %llu unchanged, "
             "%llu rejected\n",
             stats.sources, stats.sources_failed,
             (unsigned long long)stats.read,
             (unsigned long long)stats.new_items,
             (unsigned long long)stats.edited,
             (unsigned long long)stats.updated,
             (unsigned long long)stats.unchanged,
             (unsigned long long)stats.rejected);
    else
      printf("feedmine batch: %s: %u sources (%u failed), %llu read, %llu "
             "new, %llu edited, %llu updated, %llu unchanged, %llu rejected, "
             "%llu tagged (%llu need review), %llu re-tagged, %u reports, "
             "run %lld, %.1f s\n",
             status == EXIT_ALL_OK ? "ok" : "partial", stats.sources,
             stats.sources_failed, (unsigned long long)stats.read,
             (unsigned long long)stats.new_items,
             (unsigned long long)stats.edited,
             (unsigned long long)stats.updated,
             (unsigned long long)stats.unchanged,
             (unsigned long long)stats.rejected,
             (unsigned long long)stats.tagged,
             (unsigned long long)stats.needs_review,
             (unsigned long long)stats.retagged, stats.reports,
             (long long)stats.run_id, stats.seconds);
  }
  if (stats.rejected && !quiet)
    fprintf(stderr, "%s batch: %llu rows rejected: see %s\n", cli_prog,
            (unsigned long long)stats.rejected, cfg->rejects);
  fm_batch_config_free(cfg);
  return status;
}
