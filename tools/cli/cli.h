/*
 * cli.h -- what the feedmine subcommands share. The CLI is a thin layer
 * over include/feedmine.h: argv, files, exit codes, stderr, progress.
 */
#ifndef FM_CLI_H
#define FM_CLI_H

#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <sys/types.h>

#include "feedmine.h"

/* Exit statuses, the same for every command (README "Exit status"). */
enum {
  EXIT_ALL_OK = 0,   /* everything done */
  EXIT_PARTIAL = 1,  /* some rows rejected or a source failed; rest done */
  EXIT_USAGE = 2,    /* bad command line */
  EXIT_IO = 3,       /* input or output unusable */
  EXIT_MODEL = 4     /* model unusable */
};

extern const char *cli_prog; /* "feedmine" */

/* Prints "feedmine: <msg>\n" to stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with a va_list, for callers that clean up before dying. */
void cli_vwarn(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));
/* Prints the message and exits with `status`. */
void cli_die(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* Prints "feedmine <cmd>: <msg>" and a hint to --help; exits EXIT_USAGE. */
void cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* cli_die after running `cleanup` (e.g. removing temporary files). */
void cli_die_after(void (*cleanup)(void), int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
/* Maps a library status to the exit status of the README table. */
int cli_exit_for(fm_status st);
/* Dies with a message built from an fm_error. */
void cli_die_err(int status, const char *what, const fm_error *err)
    __attribute__((noreturn));

/* Installs `handler` for SIGINT and SIGTERM (no flags, nothing masked):
 * the commands that must clean up or stop at a safe point. */
void cli_on_stop_signals(void (*handler)(int));

/* Atomic output files: cli_temp_open creates a temporary file next to
 * `path` (its name in tmpl, PATH_MAX bytes, which the caller's signal
 * handler may unlink), cli_temp_commit flushes it to disk and renames it
 * over `path`, clearing tmpl. When `path` is a device or a pipe
 * (/dev/null, a FIFO) it is written directly and tmpl is left empty. On
 * failure both run `cleanup` (the caller's other temporaries), print the
 * error and exit EXIT_IO. */
FILE *cli_temp_open(const char *path, char *tmpl, mode_t mode,
                    void (*cleanup)(void));
void cli_temp_commit(FILE *f, char *tmpl, const char *path,
                     void (*cleanup)(void));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Reads one line (without the newline) from f into *buf (grown as needed).
 * Returns its length, or -1 at end of file. */
long cli_getline(char **buf, size_t *cap, FILE *f);

/* Opens a model, dying with EXIT_MODEL and a message naming the file on
 * failure. */
fm_model *cli_open_model(const char *path);

/* Subcommands. Each lives in tools/cli/cmd_<name>.c; a command whose file
 * is absent from the build is simply not offered (weak symbols). */
typedef int (*cli_cmd_fn)(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_learn(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_store(int argc, char **argv);

#endif
