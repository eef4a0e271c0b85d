/*
 * bench_reader.c -- throughput and peak memory of the export readers.
 *
 * Writes a ticket-like CSV and the same rows as JSON Lines (quoted
 * multi-line texts, dates, money, a nested object) of about SIZE_MB each to
 * a temporary folder, reads each back with fm_reader and prints MB/s,
 * rows/s and the peak RSS, which must not grow with the input.
 *
 *   bench_reader [SIZE_MB (default 200)] [TMPDIR (default /tmp)]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "feedmine.h"

static const char *const words[] = {
    "invoice", "charged", "twice",  "export",  "broken", "login",
    "password", "reset",  "slow",   "sync",    "mobile", "app",
    "crash",    "refund", "please", "support", "api",    "timeout",
    "dashboard", "report", "csv",   "pdf",     "team",   "seats"};

static void body(char *out, size_t cap) {
  size_t n = 0, k, count = 8 + next() % 40;
  for (k = 0; k < count && n + 16 < cap; k++) {
    const char *w = words[next() % (sizeof words / sizeof words[0])];
    n += (size_t)snprintf(out + n, cap - n, "%s%s", k ? " " : "", w);
    if (k == count / 2) n += (size_t)snprintf(out + n, cap - n, ".\n");
  }
  out[n] = 0;
}

static void generate(const char *csv, const char *jsonl, double mb) {
  FILE *c = fopen(csv, "w"), *j = fopen(jsonl, "w");
  long i;
  char b[1024];
  if (!c || !j) {
    perror("bench_reader: create");
    exit(1);
  }
  fputs("ticket_id,subject,body,created_at,company,mrr,plan\n", c);
  for (i = 0; ftell(c) < mb * 1e6; i++) {
    body(b, sizeof b);
    fprintf(c, "%ld,\"Subject %ld, \"\"urgent\"\"\",\"%s\",2024-%02ld-%02ldT10:%02ld:00Z,"
            "Acme %ld,\"$%ld,%03ld.50\",pro\n", i, i, b, i % 12 + 1, i % 28 + 1,
            i % 60, i % 977, i % 90 + 1, i % 1000);
    {
      char *p;
      fprintf(j, "{\"ticket_id\":%ld,\"subject\":\"Subject %ld\",\"body\":\"", i, i);
      for (p = b; *p; p++) {
        if (*p == '\n') fputs("\\n", j);
        else fputc(*p, j);
      }
      fprintf(j, "\",\"created_at\":\"2024-%02ld-%02ldT10:%02ld:00Z\","
              "\"customer\":{\"name\":\"Acme %ld\",\"plan\":\"pro\"},\"mrr\":%ld.5}\n",
              i % 12 + 1, i % 28 + 1, i % 60, i % 977, i % 90000);
    }
  }
  fclose(c);
  fclose(j);
}

static void bench(const char *path, const char *label) {
  fm_reader *r;
  fm_error err;
  const fm_record *rec;
  fm_status st;
  long ok = 0, bad = 0;
  uint64_t bytes;
  double t0 = now(), s;
  if (fm_reader_open(path, NULL, &r, &err) != FM_OK) {
    fprintf(stderr, "bench_reader: %s\n", err.msg);
    exit(1);
  }
  while ((st = fm_reader_next(r, &rec, &err)) != FM_EEOF) {
    if (st == FM_OK) ok++;
    else if (st == FM_EPARSE) bad++;
    else {
      fprintf(stderr, "bench_reader: %s\n", err.msg);
      exit(1);
    }
  }
  fm_reader_progress(r, &bytes, NULL);
  fm_reader_free(r);
  s = now() - t0;
  printf("%-5s %9ld rows %4ld rejects %8.1f MB %6.2f s  %6.1f MB/s %9.0f rows/s"
         "  peak RSS %ld MB\n", label, ok, bad, (double)bytes / 1e6, s,
         (double)bytes / 1e6 / s, (double)(ok + bad) / s, peak_rss_kb() / 1024);
}

int main(int argc, char **argv) {
  double mb = argc > 1 ? atof(argv[1]) : 200;
  const char *dir = argc > 2 ? argv[2] : "/tmp";
  char csv[4096], jsonl[4096];
  snprintf(csv, sizeof csv, "%s/bench_reader_%ld.csv", dir, (long)getpid());
  snprintf(jsonl, sizeof jsonl, "%s/bench_reader_%ld.jsonl", dir, (long)getpid());
  generate(csv, jsonl, mb);
  printf("peak RSS after generating: %ld MB\n", peak_rss_kb() / 1024);
  bench(csv, "csv");
  bench(jsonl, "jsonl");
  unlink(csv);
  unlink(jsonl);
  return 0;
}
