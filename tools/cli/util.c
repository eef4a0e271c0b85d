/*
 * util.c -- helpers shared by the subcommands.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

const char *cli_prog = "feedmine";

void cli_vwarn(const char *fmt, va_list ap) {
  fprintf(stderr, "%s: ", cli_prog);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cli_vwarn(fmt, ap);
  va_end(ap);
}

void cli_die(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cli_vwarn(fmt, ap);
  va_end(ap);
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

void cli_die_after(void (*cleanup)(void), int status, const char *fmt, ...) {
  va_list ap;
  if (cleanup) cleanup();
  va_start(ap, fmt);
  cli_vwarn(fmt, ap);
  va_end(ap);
  exit(status);
}

void cli_on_stop_signals(void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

/* Whether path exists and is neither a regular file nor a folder: a
 * device or a pipe. */
static bool is_stream(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode);
}

FILE *cli_temp_open(const char *path, char *tmpl, mode_t mode,
                    void (*cleanup)(void)) {
  const char *slash = strrchr(path, '/');
  int fd;
  FILE *f;
  /* A device or a pipe (-o /dev/null, a FIFO) is written as it is: a
   * temporary renamed over it would replace /dev/null with a file. No
   * temporary then, so tmpl stays empty and nothing is ever unlinked. */
  tmpl[0] = 0;
  if (is_stream(path)) {
    f = fopen(path, "w");
    if (!f)
      cli_die_after(cleanup, EXIT_IO, "%s: cannot open: %s", path,
                    strerror(errno));
    return f;
  }
  if (slash)
    snprintf(tmpl, PATH_MAX, "%.*s/.%s.XXXXXX", (int)(slash - path), path,
             slash + 1);
  else
    snprintf(tmpl, PATH_MAX, ".%s.XXXXXX", path);
  fd = mkstemp(tmpl);
  if (fd < 0) {
    int e = errno;
    tmpl[0] = 0;
    cli_die_after(cleanup, EXIT_IO, "%s: cannot create: %s", path,
                  strerror(e));
  }
  fchmod(fd, mode);
  f = fdopen(fd, "w");
  if (!f)
    cli_die_after(cleanup, EXIT_IO, "%s: cannot create: %s", path,
                  strerror(errno));
  return f;
}

void cli_temp_commit(FILE *f, char *tmpl, const char *path,
                     void (*cleanup)(void)) {
  if (!tmpl[0]) { /* a device or pipe: nothing to sync or rename */
    if (fclose(f) != 0)
      cli_die_after(cleanup, EXIT_IO, "%s: write error: %s", path,
                    strerror(errno));
    return;
  }
  if (fflush(f) != 0 || fsync(fileno(f)) != 0)
    cli_die_after(cleanup, EXIT_IO, "%s: write error: %s", path,
                  strerror(errno));
  if (fclose(f) != 0)
    cli_die_after(cleanup, EXIT_IO, "%s: write error: %s", path,
                  strerror(errno));
  if (rename(tmpl, path) != 0)
    cli_die_after(cleanup, EXIT_IO,
                  "%s: cannot rename the temporary file: %s", path,
                  strerror(errno));
  tmpl[0] = 0;
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
