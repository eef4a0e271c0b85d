/*
 * util.c -- helpers shared by the subcommands.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *cli_prog = "feedmine";

void cli_warn(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", cli_prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

void cli_die(int status, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", cli_prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(status);
}

void cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s %s: ", cli_prog, cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry '%s %s --help'.\n", cli_prog, cmd);
  exit(EXIT_USAGE);
}

int cli_exit_for(fm_status st) {
  switch (st) {
  case FM_OK: return EXIT_ALL_OK;
  case FM_EINVAL: return EXIT_USAGE;
  case FM_EMODEL:
  case FM_EVERSION:
  case FM_EMISMATCH: return EXIT_MODEL;
  default: return EXIT_IO;
  }
}

void cli_die_err(int status, const char *what, const fm_error *err) {
  const char *msg = err->msg[0] ? err->msg : fm_strerror(err->code);
  if (err->line)
    cli_die(status, "%s:%llu: %s", what, (unsigned long long)err->line, msg);
  cli_die(status, "%s: %s", what, msg);
}

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) cli_die(EXIT_IO, "out of memory");
  return p;
}

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) cli_die(EXIT_IO, "out of memory");
  return p;
}

void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) cli_die(EXIT_IO, "out of memory");
  return p;
}

char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(xmalloc(n), s, n);
}

long cli_getline(char **buf, size_t *cap, FILE *f) {
  size_t len = 0;
  int c;
  if (!*buf || *cap < 64) {
    *cap = 256;
    *buf = xrealloc(*buf, *cap);
  }
  while ((c = getc(f)) != EOF) {
    if (len + 2 > *cap) {
      *cap *= 2;
      *buf = xrealloc(*buf, *cap);
    }
    if (c == '\n') break;
    (*buf)[len++] = (char)c;
  }
  if (c == EOF && len == 0) return -1;
  if (len && (*buf)[len - 1] == '\r') len--;
  (*buf)[len] = 0;
  return (long)len;
}

fm_model *cli_open_model(const char *path) {
  fm_model *m = NULL;
  fm_error err;
  fm_status st = fm_model_open(path, &m, &err);
  if (st != FM_OK) {
    char what[1100];
    snprintf(what, sizeof what, "model %s", path);
    cli_die_err(EXIT_MODEL, what, &err);
  }
  return m;
}
