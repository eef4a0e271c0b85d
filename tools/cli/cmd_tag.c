/*
 * cmd_tag.c -- `feedmine tag`: tag texts, or whole exports, with a model.
 *
 * Exports stream through a bounded ring of batches: one reader thread
 * fills batches in input order, N worker threads (each with its own
 * fm_tagger over the one shared fm_model) tag a batch and render its
 * output bytes, and the main thread writes finished batches strictly in
 * sequence. Every record is rendered by exactly the same code whatever N
 * is, so `-j 4` writes the same bytes as `-j 1`, and memory is bounded by
 * the ring (2N + 2 batches of at most BATCH_ROWS rows or BATCH_BYTES
 * bytes), not by the input.
 *
 * The output goes to a temporary file in the destination folder, renamed
 * at the end; SIGINT and SIGTERM remove the temporary files and exit with
 * 130 and 143, so an interrupted run never leaves a partial file under the
 * final name.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define BATCH_ROWS 256
#define BATCH_BYTES ((size_t)1 << 20)
#define MAX_LINE_BYTES ((size_t)4 << 20) /* lines mode: longer is rejected */
#define STDERR_REJECTS 20                /* reasons shown without a file */

static void help(FILE *out) {
  fprintf(out,
    "usage: feedmine tag -m MODEL [OPTIONS] [TEXT]\n"
    "       feedmine tag -m MODEL [OPTIONS] [FILE ... | -]\n"
    "\n"
    "Tags each text with the model's heads (product area, sentiment, kind,\n"
    "...): a TEXT given as the only argument, one text per line of standard\n"
    "input, or every row of CSV / JSON Lines exports. Writes JSON Lines (or\n"
    "CSV) with the input fields kept and, per record: fm_lang (language),\n"
    "per head fm_HEAD (label), fm_HEAD_prob (calibrated probability, 4\n"
    "decimals) and fm_HEAD_review (true when below the head's threshold),\n"
    "and fm_redacted (the text with PII replaced). Input fields named fm_*\n"
    "are replaced, so tagged output can be tagged again.\n"
    "\n"
    "input:\n"
    "  A single argument that is not an existing file (and has no '/' and\n"
    "  no .csv/.tsv/.jsonl/.ndjson/.json ending) is a TEXT. Other arguments\n"
    "  are export files, '-' standard input. Without arguments, standard\n"
    "  input is read as one text per line (blank lines skipped) unless\n"
    "  --format, --map or --input-format is given, which make it an export.\n"
    "  --input-format auto|csv|jsonl|lines\n"
    "                     how inputs are read (default auto: by extension,\n"
    "                     else '{' first means JSON Lines, else CSV)\n"
    "  --map FIELD=COLUMN which column is which (repeatable): FIELD is text,\n"
    "                     id, date, score, account, revenue, lang or segment;\n"
    "                     COLUMN may be A+B to join columns; FIELD= ignores\n"
    "                     the field. Without a map, columns are detected from\n"
    "                     their header names (see README, 'feedmine tag').\n"
    "  --date-format mdy|dmy  how NN/NN/YYYY dates read (default: month first\n"
    "                     unless the first number is over 12)\n"
    "  --source NAME      ticket, nps, churn, lost_deal, ...: heads trained\n"
    "                     for other sources only are left out\n"
    "  --lang XX          language of every text (ISO 639-1; default: a lang\n"
    "                     column when there is one, else detected)\n"
    "\n"
    "output:\n"
    "  -o, --output OUT   write to OUT (default: standard output) through a\n"
    "                     temporary file renamed at the end\n"
    "  --format jsonl|csv output format (default: csv when OUT ends in .csv,\n"
    "                     else jsonl). CSV cells beginning with = + - @ tab or\n"
    "                     CR are prefixed with ' so spreadsheets never run them\n"
    "  --rejects FILE     where rejected rows go (default with -o FILE:\n"
    "                     FILE.rejects.jsonl, always written; without -o, or\n"
    "                     with -o naming a device or a pipe: reasons on\n"
    "                     stderr only)\n"
    "                     one JSON object per row: file, line, reason, raw (the\n"
    "                     row's bytes; raw_base64 too when they are not UTF-8),\n"
    "                     truncated (when the row was longer than kept)\n"
    "  --explain          add per head fm_HEAD_top (top labels) and\n"
    "                     fm_HEAD_explain (the features that decided)\n"
    "  -j, --jobs N       tag on N threads (default 1); same output for any N\n"
    "  -q, --quiet        no progress, no summary, no reject reasons on stderr\n"
    "  -h, --help         show this help\n"
    "\n"
    "Progress goes to stderr when it is a terminal; a summary (read, tagged,\n"
    "rejected, needing review, languages) always, unless -q.\n"
    "\n"
    "exit status: 0 every row tagged; 1 some rows rejected (the rest written);\n"
    "2 usage error; 3 an input or the output unusable (nothing is left under\n"
    "the output's name); 4 model unusable; 130 / 143 interrupted by SIGINT /\n"
    "SIGTERM (temporary files removed).\n");
}

/* ---- growable buffer (dies on out of memory, like the rest of the CLI) */

typedef struct sbuf {
  char *p;
  size_t len, cap;
} sbuf;

static void sb_reserve(sbuf *b, size_t extra) {
  size_t need = b->len + extra + 1;
  if (need < extra) cli_die(EXIT_IO, "out of memory");
  if (need <= b->cap) return;
  if (b->cap < 256) b->cap = 256;
  while (b->cap < need) b->cap *= 2;
  b->p = xrealloc(b->p, b->cap);
}

static void sb_put(sbuf *b, const void *p, size_t n) {
  sb_reserve(b, n);
  if (n) memcpy(b->p + b->len, p, n);
  b->len += n;
  b->p[b->len] = 0;
}

static void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_putc(sbuf *b, char c) { sb_put(b, &c, 1); }

static void sb_free(sbuf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* ---- byte-stable output --------------------------------------------------
 * Numbers from integer arithmetic (no printf of doubles, so no locale);
 * text always comes out as valid UTF-8. */

static void put_fixed(sbuf *b, double v, int digits) {
  char tmp[48];
  uint64_t scale = 1, all;
  int i, neg = v < 0;
  if (v != v) { sb_puts(b, "0"); return; }
  for (i = 0; i < digits; i++) scale *= 10;
  if (neg) v = -v;
  if (v * (double)scale >= 9e18) v = 9e18 / (double)scale;
  all = (uint64_t)(v * (double)scale + 0.5);
  if (all == 0) neg = 0;
  snprintf(tmp, sizeof tmp, "%s%llu.%0*llu", neg ? "-" : "",
           (unsigned long long)(all / scale), digits,
           (unsigned long long)(all % scale));
  sb_puts(b, tmp);
}

/* Length of the valid UTF-8 sequence at s, 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 &&
                   (s[3] & 0xC0) == 0x80
               ? 4
               : 0;
  }
  return 0;
}

static int utf8_valid(const char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t k = utf8_seq((const unsigned char *)s + i, n - i);
    if (!k) return 0;
    i += k;
  }
  return 1;
}

static void json_str(sbuf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0, run = 0;
  sb_reserve(b, n + 2);
  sb_putc(b, '"');
  while (i < n) {
    unsigned c = u[i];
    size_t k;
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      i++;
      run++;
      continue;
    }
    if (run) sb_put(b, s + i - run, run);
    run = 0;
    if (c >= 0x80) {
      k = utf8_seq(u + i, n - i);
      if (k) sb_put(b, s + i, k);
      else sb_puts(b, "\\ufffd");
      i += k ? k : 1;
      continue;
    }
    switch (c) {
    case '"': sb_puts(b, "\\\""); break;
    case '\\': sb_puts(b, "\\\\"); break;
    case '\n': sb_puts(b, "\\n"); break;
    case '\r': sb_puts(b, "\\r"); break;
    case '\t': sb_puts(b, "\\t"); break;
    default: {
      char e[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
      sb_puts(b, e);
    }
    }
    i++;
  }
  if (run) sb_put(b, s + i - run, run);
  sb_putc(b, '"');
}

/* Text with invalid UTF-8 replaced by U+FFFD. */
static void put_utf8(sbuf *b, const char *s, size_t n) {
  size_t i = 0, run = 0;
  while (i < n) {
    size_t k = utf8_seq((const unsigned char *)s + i, n - i);
    if (k) {
      i += k;
      run += k;
      continue;
    }
    if (run) sb_put(b, s + i - run, run);
    run = 0;
    sb_puts(b, "\xEF\xBF\xBD");
    i++;
  }
  if (run) sb_put(b, s + i - run, run);
}

/* A CSV cell: a formula-like start is neutralized with a leading quote;
 * quoted when it holds a comma, quote, line end or edge blank. */
static void csv_cell(sbuf *b, const char *s, size_t n) {
  int neutral = n && strchr("=+-@\t\r", s[0]) != NULL;
  int quote = neutral || (n && (s[0] == ' ' || s[n - 1] == ' '));
  size_t i;
  for (i = 0; i < n && !quote; i++)
    if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
      quote = 1;
  if (!quote) {
    put_utf8(b, s, n);
    return;
  }
  sb_putc(b, '"');
  if (neutral) sb_putc(b, '\'');
  for (i = 0; i < n;) {
    const char *q = memchr(s + i, '"', n - i);
    size_t k = q ? (size_t)(q - (s + i)) : n - i;
    put_utf8(b, s + i, k);
    i += k;
    if (q) {
      sb_puts(b, "\"\"");
      i++;
    }
  }
  sb_putc(b, '"');
}

static void base64(sbuf *b, const unsigned char *s, size_t n) {
  static const char t[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i;
  for (i = 0; i + 2 < n; i += 3) {
    char q[4] = {t[s[i] >> 2], t[((s[i] & 3) << 4) | (s[i + 1] >> 4)],
                 t[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)], t[s[i + 2] & 63]};
    sb_put(b, q, 4);
  }
  if (n - i == 1) {
    char q[4] = {t[s[i] >> 2], t[(s[i] & 3) << 4], '=', '='};
    sb_put(b, q, 4);
  } else if (n - i == 2) {
    char q[4] = {t[s[i] >> 2], t[((s[i] & 3) << 4) | (s[i + 1] >> 4)],
                 t[(s[i + 1] & 15) << 2], '='};
    sb_put(b, q, 4);
  }
}

/* ---- the run ---------------------------------------------------------------- */

typedef enum { IN_AUTO, IN_CSV, IN_JSONL, IN_LINES, IN_TEXT } in_kind;
typedef enum { OUT_JSONL, OUT_CSV } out_fmt;

typedef struct input {
  const char *path; /* "-" = stdin; the TEXT itself for IN_TEXT */
  const char *name; /* in messages and the rejects file */
  in_kind kind;
  fm_reader *reader;
  FILE *lines;
  long *colmap; /* CSV output from a CSV export: out column -> input column */
} input;

enum { IT_RECORD, IT_REJECT };

typedef struct field_ref {
  size_t name, name_len, val, val_len; /* offsets into batch data */
  int is_json;
} field_ref;

/* One row. Offsets point into the batch's data, which may move while the
 * batch is filled. */
typedef struct item {
  int kind;
  size_t file;
  uint64_t line;
  size_t text, text_len, lang, lang_len;
  size_t f0, nf;
  size_t reason, reason_len, raw, raw_len;
  int truncated;
  /* set by the worker */
  int review;
  int repaired; /* the text had invalid UTF-8 */
  char lang_out[16];
} item;

enum { B_FREE, B_FILLED, B_DONE };

/* A batch belongs to the reader while B_FREE (after acquire), to one
 * worker between B_FILLED and B_DONE, to the writer while B_DONE. */
typedef struct batch {
  int state;
  item *it;
  size_t n, cap;
  field_ref *f;
  size_t nf, capf;
  sbuf data, out, rej;
  uint64_t bytes_in; /* input bytes consumed when it was published */
} batch;

typedef struct run {
  fm_model *model;
  size_t n_heads;
  out_fmt fmt;
  int explain, quiet, rejects_file;
  const char *source, *lang;
  fm_tag_opts topts;
  input *in;
  size_t n_in;
  /* CSV output columns: fixed by the reader before the first record is
   * published, read-only afterwards. */
  char **cols;
  size_t n_cols;
  int cols_fixed;
  /* the ring */
  batch *ring;
  size_t K;
  pthread_mutex_t mu;
  pthread_cond_t cv_free, cv_work, cv_done;
  uint64_t filled, tag_next;
  int reading_done, abort;
  int abort_status;
  char abort_msg[600];
  uint64_t bytes_total;
} run;

static void run_abort(run *R, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void run_abort(run *R, int status, const char *fmt, ...) {
  va_list ap;
  pthread_mutex_lock(&R->mu);
  if (!R->abort) {
    R->abort = 1;
    R->abort_status = status;
    va_start(ap, fmt);
    vsnprintf(R->abort_msg, sizeof R->abort_msg, fmt, ap);
    va_end(ap);
  }
  pthread_cond_broadcast(&R->cv_free);
  pthread_cond_broadcast(&R->cv_work);
  pthread_cond_broadcast(&R->cv_done);
  pthread_mutex_unlock(&R->mu);
}

static int is_fm_name(const char *s) { return !strncmp(s, "fm_", 3); }

/* ---- reader thread ------------------------------------------------------------ */

static batch *acquire(run *R, uint64_t seq) {
  batch *b = &R->ring[seq % R->K];
  pthread_mutex_lock(&R->mu);
  while (b->state != B_FREE && !R->abort) pthread_cond_wait(&R->cv_free, &R->mu);
  pthread_mutex_unlock(&R->mu);
  if (R->abort) return NULL;
  b->n = b->nf = 0;
  b->data.len = b->out.len = b->rej.len = 0;
  return b;
}

static void publish(run *R, batch *b, uint64_t *seq, uint64_t bytes) {
  pthread_mutex_lock(&R->mu);
  b->bytes_in = bytes;
  b->state = B_FILLED;
  R->filled = ++*seq;
  pthread_cond_broadcast(&R->cv_work);
  pthread_mutex_unlock(&R->mu);
}

static item *new_item(batch *b, int kind, size_t file, uint64_t line) {
  item *it;
  if (b->n == b->cap) {
    b->cap = b->cap ? b->cap * 2 : 64;
    b->it = xrealloc(b->it, b->cap * sizeof *b->it);
  }
  it = &b->it[b->n++];
  memset(it, 0, sizeof *it);
  it->kind = kind;
  it->file = file;
  it->line = line;
  it->f0 = b->nf;
  return it;
}

static size_t put_data(batch *b, const char *s, size_t n) {
  size_t off = b->data.len;
  sb_put(&b->data, s, n);
  sb_putc(&b->data, 0);
  return off;
}

static void add_field(batch *b, const char *name, const char *val, size_t len,
                      int is_json) {
  field_ref *f;
  if (b->nf == b->capf) {
    b->capf = b->capf ? b->capf * 2 : 256;
    b->f = xrealloc(b->f, b->capf * sizeof *b->f);
  }
  f = &b->f[b->nf++];
  f->name_len = strlen(name);
  f->name = put_data(b, name, f->name_len);
  f->val = put_data(b, val ? val : "", val ? len : 0);
  f->val_len = val ? len : 0;
  f->is_json = is_json;
}

static int batch_full(const batch *b) {
  return b->n >= BATCH_ROWS || b->data.len >= BATCH_BYTES;
}

/* The CSV output columns, from the first input that has them. */
static void fix_columns(run *R, const fm_record *rec, input *in) {
  size_t i, n;
  if (R->cols_fixed) return;
  R->cols_fixed = 1;
  if (in->kind == IN_LINES || in->kind == IN_TEXT) {
    R->cols = xmalloc(sizeof *R->cols);
    R->cols[R->n_cols++] = xstrdup("text");
    return;
  }
  if (fm_reader_format(in->reader) == FM_FORMAT_CSV) {
    n = fm_reader_column_count(in->reader);
    if (n == 0) { /* an empty file: the next input decides */
      R->cols_fixed = 0;
      return;
    }
    R->cols = xmalloc(n * sizeof *R->cols);
    for (i = 0; i < n; i++) {
      const char *c = fm_reader_column_name(in->reader, i);
      if (!is_fm_name(c)) R->cols[R->n_cols++] = xstrdup(c);
    }
    return;
  }
  n = rec ? fm_record_field_count(rec) : 0;
  R->cols = xmalloc((n ? n : 1) * sizeof *R->cols);
  for (i = 0; i < n; i++) {
    fm_field f;
    if (fm_record_field_at(rec, i, &f) && !is_fm_name(f.name))
      R->cols[R->n_cols++] = xstrdup(f.name);
  }
}

/* For CSV output from a CSV export: which input column feeds each output
 * column (exact name first, then ignoring case), -1 for none. */
static void map_columns(run *R, input *in) {
  size_t j, i, n = fm_reader_column_count(in->reader);
  in->colmap = xmalloc((R->n_cols ? R->n_cols : 1) * sizeof *in->colmap);
  for (j = 0; j < R->n_cols; j++) {
    in->colmap[j] = -1;
    for (i = 0; i < n && in->colmap[j] < 0; i++)
      if (!strcmp(fm_reader_column_name(in->reader, i), R->cols[j]))
        in->colmap[j] = (long)i;
    for (i = 0; i < n && in->colmap[j] < 0; i++)
      if (!strcasecmp(fm_reader_column_name(in->reader, i), R->cols[j]))
        in->colmap[j] = (long)i;
  }
}

static void add_record(run *R, batch *b, input *in, size_t file,
                       const fm_record *rec) {
  item *it = new_item(b, IT_RECORD, file, rec->line);
  size_t i, n;
  fix_columns(R, rec, in);
  it->text = put_data(b, rec->text, rec->text_len);
  it->text_len = rec->text_len;
  it->lang = put_data(b, rec->lang, strlen(rec->lang));
  it->lang_len = strlen(rec->lang);
  if (R->fmt == OUT_CSV) {
    if (fm_reader_format(in->reader) == FM_FORMAT_CSV) {
      if (!in->colmap) map_columns(R, in);
      for (i = 0; i < R->n_cols; i++) {
        fm_field f = {0};
        if (in->colmap[i] >= 0) fm_record_field_at(rec, (size_t)in->colmap[i], &f);
        add_field(b, R->cols[i], f.value, f.len, 0);
      }
    } else {
      for (i = 0; i < R->n_cols; i++) {
        size_t len = 0;
        const char *v = fm_record_field(rec, R->cols[i], &len);
        add_field(b, R->cols[i], v, len, 0);
      }
    }
  } else {
    n = fm_record_field_count(rec);
    for (i = 0; i < n; i++) {
      fm_field f;
      if (fm_record_field_at(rec, i, &f) && !is_fm_name(f.name))
        add_field(b, f.name, f.value, f.len, f.is_json);
    }
  }
  it->nf = b->nf - it->f0;
}

static void add_text(run *R, batch *b, input *in, size_t file, uint64_t line,
                     const char *text, size_t len) {
  item *it = new_item(b, IT_RECORD, file, line);
  fix_columns(R, NULL, in);
  it->text = put_data(b, text, len);
  it->text_len = len;
  it->lang = put_data(b, "", 0);
  add_field(b, "text", text, len, 0);
  it->nf = 1;
}

static void add_reject(batch *b, size_t file, uint64_t line,
                       const char *reason, const char *raw, size_t raw_len,
                       int truncated) {
  item *it = new_item(b, IT_REJECT, file, line);
  it->reason_len = strlen(reason);
  it->reason = put_data(b, reason, it->reason_len);
  it->raw = put_data(b, raw, raw_len);
  it->raw_len = raw_len;
  it->truncated = truncated;
}

/* One line of a lines-mode input, without its line end; over the cap the
 * rest is skipped. Returns -1 at end of input. */
static long read_text_line(FILE *f, sbuf *line, int *too_long) {
  int c;
  size_t n = 0;
  line->len = 0;
  *too_long = 0;
  while ((c = getc(f)) != EOF) {
    n++;
    if (c == '\n') break;
    if (c == '\r') { /* LF, CRLF and CR-only ends, as the readers take */
      c = getc(f);
      if (c != '\n' && c != EOF) ungetc(c, f);
      break;
    }
    if (line->len < MAX_LINE_BYTES) sb_putc(line, (char)c);
    else *too_long = 1;
  }
  if (c == EOF && n == 0) return -1;
  if (line->len && line->p[line->len - 1] == '\r') line->len--;
  if (line->p) line->p[line->len] = 0;
  return (long)line->len;
}

static int blank_text(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t') return 0;
  return 1;
}

static void *reader_main(void *arg) {
  run *R = arg;
  uint64_t seq = 0, bytes = 0;
  size_t k;
  sbuf line = {0};
  batch *b = acquire(R, seq);
  for (k = 0; k < R->n_in && b; k++) {
    input *in = &R->in[k];
    uint64_t base = bytes;
    if (in->kind == IN_TEXT) {
      add_text(R, b, in, k, 1, in->path, strlen(in->path));
      bytes += strlen(in->path);
    } else if (in->kind == IN_LINES) {
      uint64_t ln = 0;
      int too_long;
      long len;
      while (b && (len = read_text_line(in->lines, &line, &too_long)) >= 0) {
        ln++;
        bytes += (uint64_t)len + 1;
        if (too_long) {
          add_reject(b, k, ln, "line is over the size cap", line.p,
                     line.len, 1);
        } else if (blank_text(line.p ? line.p : "", line.len)) {
          continue;
        } else {
          add_text(R, b, in, k, ln, line.p, line.len);
        }
        if (batch_full(b)) {
          publish(R, b, &seq, bytes);
          b = acquire(R, seq);
        }
      }
      if (ferror(in->lines)) {
        run_abort(R, EXIT_IO, "%s: read error: %s", in->name, strerror(errno));
        break;
      }
    } else {
      for (;;) {
        const fm_record *rec;
        fm_error err;
        fm_status st = fm_reader_next(in->reader, &rec, &err);
        uint64_t done;
        if (st == FM_EEOF) break;
        if (st == FM_OK) {
          add_record(R, b, in, k, rec);
        } else if (st == FM_EPARSE) {
          size_t len;
          int trunc;
          const char *raw = fm_reader_raw(in->reader, &len, &trunc);
          add_reject(b, k, err.line, err.msg, raw, len, trunc);
        } else {
          run_abort(R, cli_exit_for(st), "%s%s%s", 
                    strstr(err.msg, in->name) ? "" : in->name,
                    strstr(err.msg, in->name) ? "" : ": ", err.msg);
          b = NULL;
          break;
        }
        fm_reader_progress(in->reader, &done, NULL);
        bytes = base + done;
        if (batch_full(b)) {
          publish(R, b, &seq, bytes);
          if (!(b = acquire(R, seq))) break;
        }
      }
    }
    if (in->kind != IN_TEXT && in->kind != IN_LINES && b && !R->cols_fixed &&
        fm_reader_format(in->reader) == FM_FORMAT_CSV)
      fix_columns(R, NULL, in); /* an export without rows still has columns */
  }
  if (b && b->n) publish(R, b, &seq, bytes);
  sb_free(&line);
  pthread_mutex_lock(&R->mu);
  R->reading_done = 1;
  pthread_cond_broadcast(&R->cv_work);
  pthread_cond_broadcast(&R->cv_done);
  pthread_mutex_unlock(&R->mu);
  return NULL;
}

/* ---- workers ------------------------------------------------------------------------ */

static void render_reject(run *R, batch *b, const item *it) {
  sbuf *o = &b->rej;
  const char *raw = b->data.p + it->raw;
  if (!R->rejects_file) return;
  sb_puts(o, "{\"file\":");
  json_str(o, R->in[it->file].name, strlen(R->in[it->file].name));
  sb_puts(o, ",\"line\":");
  {
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)it->line);
    sb_puts(o, num);
  }
  sb_puts(o, ",\"reason\":");
  json_str(o, b->data.p + it->reason, it->reason_len);
  sb_puts(o, ",\"raw\":");
  json_str(o, raw, it->raw_len);
  if (!utf8_valid(raw, it->raw_len)) {
    sb_puts(o, ",\"raw_base64\":\"");
    base64(o, (const unsigned char *)raw, it->raw_len);
    sb_putc(o, '"');
  }
  if (it->truncated) sb_puts(o, ",\"truncated\":true");
  sb_puts(o, "}\n");
}

static const fm_head_result *find_head(const fm_result *res, const char *name) {
  size_t i;
  for (i = 0; i < res->n_heads; i++)
    if (res->heads[i].head && !strcmp(res->heads[i].head, name))
      return &res->heads[i];
  return NULL;
}

static void render_top_csv(sbuf *tmp, const fm_head_result *h) {
  size_t i;
  for (i = 0; i < h->n_top; i++) {
    if (i) sb_puts(tmp, "; ");
    sb_puts(tmp, h->top[i].name ? h->top[i].name : "");
    sb_putc(tmp, ' ');
    put_fixed(tmp, h->top[i].prob, 4);
  }
}

static void render_explain_csv(sbuf *tmp, const fm_head_result *h) {
  size_t i;
  for (i = 0; i < h->n_explain; i++) {
    if (i) sb_puts(tmp, "; ");
    sb_puts(tmp, h->explain[i].feature ? h->explain[i].feature : "");
    sb_putc(tmp, ' ');
    if (h->explain[i].weight >= 0) sb_putc(tmp, '+');
    put_fixed(tmp, h->explain[i].weight, 4);
  }
}

static void render_record(run *R, batch *b, item *it, const fm_result *res,
                          sbuf *tmp) {
  sbuf *o = &b->out;
  const fm_analysis *a = res->analysis;
  size_t i, h;
  const char *lang = a && a->lang ? a->lang : "und";
  snprintf(it->lang_out, sizeof it->lang_out, "%s", lang);
  it->repaired = a && a->invalid_utf8 > 0;
  if (R->fmt == OUT_JSONL) {
    int first = 1;
    sb_putc(o, '{');
    for (i = 0; i < it->nf; i++) {
      const field_ref *f = &b->f[it->f0 + i];
      if (!first) sb_putc(o, ',');
      first = 0;
      json_str(o, b->data.p + f->name, f->name_len);
      sb_putc(o, ':');
      if (f->is_json) sb_put(o, b->data.p + f->val, f->val_len);
      else json_str(o, b->data.p + f->val, f->val_len);
    }
    sb_puts(o, first ? "\"fm_lang\":" : ",\"fm_lang\":");
    json_str(o, lang, strlen(lang));
    for (h = 0; h < R->n_heads; h++) {
      const char *hn = fm_model_head_name(R->model, h);
      const fm_head_result *hr = find_head(res, hn);
      sb_puts(o, ",\"fm_");
      sb_puts(o, hn);
      sb_puts(o, "\":");
      if (!hr || !hr->label_name) {
        sb_puts(o, "null,\"fm_");
        sb_puts(o, hn);
        sb_puts(o, "_prob\":null,\"fm_");
        sb_puts(o, hn);
        sb_puts(o, "_review\":null");
        continue;
      }
      json_str(o, hr->label_name, strlen(hr->label_name));
      sb_puts(o, ",\"fm_");
      sb_puts(o, hn);
      sb_puts(o, "_prob\":");
      put_fixed(o, hr->prob, 4);
      sb_puts(o, ",\"fm_");
      sb_puts(o, hn);
      sb_puts(o, hr->needs_review ? "_review\":true" : "_review\":false");
      if (hr->needs_review) it->review = 1;
      if (R->explain) {
        sb_puts(o, ",\"fm_");
        sb_puts(o, hn);
        sb_puts(o, "_top\":[");
        for (i = 0; i < hr->n_top; i++) {
          sb_puts(o, i ? ",{\"label\":" : "{\"label\":");
          json_str(o, hr->top[i].name ? hr->top[i].name : "",
                   hr->top[i].name ? strlen(hr->top[i].name) : 0);
          sb_puts(o, ",\"prob\":");
          put_fixed(o, hr->top[i].prob, 4);
          sb_putc(o, '}');
        }
        sb_puts(o, "],\"fm_");
        sb_puts(o, hn);
        sb_puts(o, "_explain\":[");
        for (i = 0; i < hr->n_explain; i++) {
          const char *ft = hr->explain[i].feature ? hr->explain[i].feature : "";
          sb_puts(o, i ? ",{\"feature\":" : "{\"feature\":");
          json_str(o, ft, strlen(ft));
          sb_puts(o, ",\"weight\":");
          put_fixed(o, hr->explain[i].weight, 4);
          sb_putc(o, '}');
        }
        sb_putc(o, ']');
      }
    }
    sb_puts(o, ",\"fm_redacted\":");
    json_str(o, a ? a->redacted : "", a ? a->redacted_len : 0);
    sb_puts(o, "}\n");
    return;
  }
  /* CSV: the fields are already aligned with the output columns. */
  for (i = 0; i < it->nf; i++) {
    const field_ref *f = &b->f[it->f0 + i];
    if (i) sb_putc(o, ',');
    csv_cell(o, b->data.p + f->val, f->val_len);
  }
  if (it->nf) sb_putc(o, ',');
  csv_cell(o, lang, strlen(lang));
  for (h = 0; h < R->n_heads; h++) {
    const fm_head_result *hr = find_head(res, fm_model_head_name(R->model, h));
    if (!hr || !hr->label_name) {
      sb_puts(o, R->explain ? ",,,,," : ",,,");
      continue;
    }
    sb_putc(o, ',');
    csv_cell(o, hr->label_name, strlen(hr->label_name));
    sb_putc(o, ',');
    put_fixed(o, hr->prob, 4);
    sb_puts(o, hr->needs_review ? ",true" : ",false");
    if (hr->needs_review) it->review = 1;
    if (R->explain) {
      tmp->len = 0;
      render_top_csv(tmp, hr);
      sb_putc(o, ',');
      csv_cell(o, tmp->p ? tmp->p : "", tmp->len);
      tmp->len = 0;
      render_explain_csv(tmp, hr);
      sb_putc(o, ',');
      csv_cell(o, tmp->p ? tmp->p : "", tmp->len);
    }
  }
  sb_putc(o, ',');
  csv_cell(o, a ? a->redacted : "", a ? a->redacted_len : 0);
  sb_putc(o, '\n');
}

typedef struct worker {
  run *R;
  fm_tagger *tagger;
} worker;

static int process(run *R, fm_tagger *t, batch *b, sbuf *tmp) {
  size_t i;
  for (i = 0; i < b->n; i++) {
    item *it = &b->it[i];
    const fm_result *res;
    fm_error err;
    fm_status st;
    const char *lang;
    if (it->kind == IT_REJECT) {
      render_reject(R, b, it);
      continue;
    }
    lang = R->lang ? R->lang : it->lang_len ? b->data.p + it->lang : NULL;
    st = fm_tagger_tag(t, b->data.p + it->text, it->text_len, lang, &R->topts,
                       &res, &err);
    if (st == FM_ETOOBIG) {
      /* The row is rejected; its raw bytes are the text. */
      size_t off = put_data(b, err.msg, strlen(err.msg));
      it->kind = IT_REJECT;
      it->reason = off;
      it->reason_len = strlen(err.msg);
      it->raw = it->text;
      it->raw_len = it->text_len;
      render_reject(R, b, it);
      continue;
    }
    if (st != FM_OK) {
      run_abort(R, cli_exit_for(st), "%s:%llu: tagging failed: %s",
                R->in[it->file].name, (unsigned long long)it->line,
                err.msg[0] ? err.msg : fm_strerror(st));
      return -1;
    }
    render_record(R, b, it, res, tmp);
  }
  return 0;
}

static void *worker_main(void *arg) {
  worker *w = arg;
  run *R = w->R;
  sbuf tmp = {0};
  for (;;) {
    batch *b;
    pthread_mutex_lock(&R->mu);
    while (R->tag_next >= R->filled && !R->reading_done && !R->abort)
      pthread_cond_wait(&R->cv_work, &R->mu);
    if (R->abort || R->tag_next >= R->filled) {
      pthread_mutex_unlock(&R->mu);
      break;
    }
    b = &R->ring[R->tag_next++ % R->K];
    pthread_mutex_unlock(&R->mu);
    if (process(R, w->tagger, b, &tmp) != 0) break;
    pthread_mutex_lock(&R->mu);
    b->state = B_DONE;
    pthread_cond_broadcast(&R->cv_done);
    pthread_mutex_unlock(&R->mu);
  }
  sb_free(&tmp);
  return NULL;
}

/* ---- output files and signals -------------------------------------------------------- */

/* Temporary names, read by the signal handler: a name is set (mkstemp
 * fills the template in place) before the file exists. */
static char tmp_out[PATH_MAX], tmp_rej[PATH_MAX];

static void remove_temps(void) {
  if (tmp_out[0]) unlink(tmp_out);
  if (tmp_rej[0]) unlink(tmp_rej);
}

static void on_signal(int sig) {
  remove_temps();
  _exit(128 + sig);
}

/* Dies without leaving temporary files behind. */
#define die_clean(...) cli_die_after(remove_temps, __VA_ARGS__)

/* Opens a temporary file next to `path`, its name in `tmpl`. */
static FILE *open_temp(const char *path, char *tmpl, mode_t mode) {
  FILE *f = cli_temp_open(path, tmpl, mode, remove_temps);
  setvbuf(f, NULL, _IOFBF, (size_t)1 << 16);
  return f;
}

static void close_temp(FILE *f, char *tmpl, const char *path) {
  cli_temp_commit(f, tmpl, path, remove_temps);
}

static void write_all(FILE *f, const char *p, size_t n, const char *name) {
  if (n && fwrite(p, 1, n, f) != n)
    die_clean(EXIT_IO, "%s: write error: %s", name, strerror(errno));
}

static void csv_header(run *R, FILE *f, const char *name) {
  sbuf o = {0};
  size_t i, h;
  for (i = 0; i < R->n_cols; i++) {
    csv_cell(&o, R->cols[i], strlen(R->cols[i]));
    sb_putc(&o, ',');
  }
  sb_puts(&o, "fm_lang");
  for (h = 0; h < R->n_heads; h++) {
    const char *hn = fm_model_head_name(R->model, h);
    static const char *const suff[] = {"", "_prob", "_review", "_top", "_explain"};
    size_t s;
    for (s = 0; s < (R->explain ? 5u : 3u); s++) {
      sbuf c = {0};
      sb_puts(&c, "fm_");
      sb_puts(&c, hn);
      sb_puts(&c, suff[s]);
      sb_putc(&o, ',');
      csv_cell(&o, c.p, c.len);
      sb_free(&c);
    }
  }
  sb_puts(&o, ",fm_redacted\n");
  write_all(f, o.p, o.len, name);
  sb_free(&o);
}

/* ---- summary ------------------------------------------------------------------------ */

typedef struct lang_count {
  char lang[16];
  uint64_t n;
} lang_count;

typedef struct stats {
  uint64_t read, tagged, rejected, review, shown, repaired;
  lang_count *langs;
  size_t n_langs;
} stats;

static void count_lang(stats *s, const char *lang) {
  size_t i;
  for (i = 0; i < s->n_langs; i++)
    if (!strcmp(s->langs[i].lang, lang)) {
      s->langs[i].n++;
      return;
    }
  s->langs = xrealloc(s->langs, (s->n_langs + 1) * sizeof *s->langs);
  snprintf(s->langs[s->n_langs].lang, sizeof s->langs[0].lang, "%s", lang);
  s->langs[s->n_langs++].n = 1;
}

static int by_count(const void *a, const void *b) {
  const lang_count *x = a, *y = b;
  if (x->n != y->n) return x->n < y->n ? 1 : -1;
  return strcmp(x->lang, y->lang);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void hms(char *out, size_t cap, double s) {
  long t = (long)(s + 0.5);
  if (t >= 3600)
    snprintf(out, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else
    snprintf(out, cap, "%ld:%02ld", t / 60, t % 60);
}

static void progress(const run *R, const stats *s, uint64_t bytes, double t0,
                     int final) {
  double el = now_s() - t0;
  char e[32], eta[48] = "";
  if (el <= 0) el = 1e-9;
  hms(e, sizeof e, el);
  if (R->bytes_total && bytes && bytes < R->bytes_total) {
    char r[32];
    hms(r, sizeof r, el * (double)(R->bytes_total - bytes) / (double)bytes);
    snprintf(eta, sizeof eta, "  ETA %s", r);
  }
  fprintf(stderr, "\r%s tag: %llu rows  %.0f rows/s  %.1f MB/s  %s%s\033[K%s",
          cli_prog, (unsigned long long)s->read, (double)s->read / el,
          (double)bytes / el / 1e6, e, eta, final ? "\n" : "");
}

/* ---- main ---------------------------------------------------------------------------- */

static int has_ext(const char *p, const char *ext) {
  size_t n = strlen(p), e = strlen(ext);
  return n > e && !strcasecmp(p + n - e, ext);
}

static int looks_like_path(const char *s) {
  return strchr(s, '/') || has_ext(s, ".csv") || has_ext(s, ".tsv") ||
         has_ext(s, ".jsonl") || has_ext(s, ".ndjson") || has_ext(s, ".json");
}

int cmd_tag(int argc, char **argv) {
  enum { O_MAP = 256, O_DATE, O_SOURCE, O_FORMAT, O_REJECTS, O_EXPLAIN,
         O_INFMT, O_LANG };
  static const struct option longs[] = {
      {"model", required_argument, 0, 'm'},
      {"output", required_argument, 0, 'o'},
      {"jobs", required_argument, 0, 'j'},
      {"quiet", no_argument, 0, 'q'},
      {"help", no_argument, 0, 'h'},
      {"map", required_argument, 0, O_MAP},
      {"date-format", required_argument, 0, O_DATE},
      {"source", required_argument, 0, O_SOURCE},
      {"format", required_argument, 0, O_FORMAT},
      {"rejects", required_argument, 0, O_REJECTS},
      {"explain", no_argument, 0, O_EXPLAIN},
      {"input-format", required_argument, 0, O_INFMT},
      {"lang", required_argument, 0, O_LANG},
      {0, 0, 0, 0}};
  const char *model_path = NULL, *out_path = NULL, *rej_path = NULL;
  const char *fmt_arg = NULL, *infmt_arg = NULL;
  const char **maps = NULL;
  size_t n_maps = 0, i;
  long jobs = 1;
  fm_date_order order = FM_DATE_AUTO;
  in_kind inkind = IN_AUTO;
  run R;
  stats S;
  pthread_t rd;
  pthread_t *th;
  worker *ws;
  FILE *out = stdout, *rej = NULL;
  char rej_default[PATH_MAX];
  const char *out_name = "<stdout>";
  int c, header_done = 0, tty;
  uint64_t seq, last_bytes = 0;
  double t0 = now_s(), last_progress = 0;
  mode_t mask;

  memset(&R, 0, sizeof R);
  memset(&S, 0, sizeof S);
  /* First: a signal while an input is still being opened (a pipe that has
   * not spoken yet) must end the run too. */
  cli_on_stop_signals(on_signal); /* SIGXFSZ: main.c */
  optind = 1;
  while ((c = getopt_long(argc, argv, "m:o:j:qh", longs, NULL)) != -1) {
    switch (c) {
    case 'm': model_path = optarg; break;
    case 'o': out_path = optarg; break;
    case 'j': {
      char *end;
      errno = 0;
      jobs = strtol(optarg, &end, 10);
      if (errno || *end || jobs < 1 || jobs > 256)
        cli_usage_error("tag", "-j needs a number from 1 to 256, not '%s'", optarg);
      break;
    }
    case 'q': R.quiet = 1; break;
    case 'h': help(stdout); return EXIT_ALL_OK;
    case O_MAP:
      maps = xrealloc(maps, (n_maps + 1) * sizeof *maps);
      maps[n_maps++] = optarg;
      break;
    case O_DATE:
      if (!strcmp(optarg, "mdy")) order = FM_DATE_MDY;
      else if (!strcmp(optarg, "dmy")) order = FM_DATE_DMY;
      else cli_usage_error("tag", "--date-format is mdy or dmy, not '%s'", optarg);
      break;
    case O_SOURCE: R.source = optarg; break;
    case O_FORMAT: fmt_arg = optarg; break;
    case O_REJECTS: rej_path = optarg; break;
    case O_EXPLAIN: R.explain = 1; break;
    case O_INFMT: infmt_arg = optarg; break;
    case O_LANG: R.lang = optarg; break;
    default: cli_usage_error("tag", "unknown option");
    }
  }
  if (!model_path) cli_usage_error("tag", "-m MODEL is required");
  if (fmt_arg) {
    if (!strcmp(fmt_arg, "jsonl")) R.fmt = OUT_JSONL;
    else if (!strcmp(fmt_arg, "csv")) R.fmt = OUT_CSV;
    else cli_usage_error("tag", "--format is jsonl or csv, not '%s'", fmt_arg);
  } else {
    R.fmt = out_path && has_ext(out_path, ".csv") ? OUT_CSV : OUT_JSONL;
  }
  if (infmt_arg) {
    if (!strcmp(infmt_arg, "auto")) inkind = IN_AUTO;
    else if (!strcmp(infmt_arg, "csv")) inkind = IN_CSV;
    else if (!strcmp(infmt_arg, "jsonl")) inkind = IN_JSONL;
    else if (!strcmp(infmt_arg, "lines")) inkind = IN_LINES;
    else cli_usage_error("tag", "--input-format is auto, csv, jsonl or lines, "
                                "not '%s'", infmt_arg);
  }
  if (out_path && !strcmp(out_path, "-")) out_path = NULL;

  /* Inputs. */
  {
    int nargs = argc - optind;
    int export_opts = fmt_arg || n_maps || infmt_arg;
    R.n_in = nargs ? (size_t)nargs : 1;
    R.in = xcalloc(R.n_in, sizeof *R.in);
    if (nargs == 0) {
      R.in[0].path = "-";
      R.in[0].kind = export_opts ? inkind : IN_LINES;
      if (R.in[0].kind == IN_AUTO && !export_opts) R.in[0].kind = IN_LINES;
    } else if (nargs == 1 && !export_opts && strcmp(argv[optind], "-") &&
               access(argv[optind], F_OK) != 0 &&
               !looks_like_path(argv[optind])) {
      R.in[0].path = argv[optind];
      R.in[0].kind = IN_TEXT;
    } else {
      for (i = 0; i < R.n_in; i++) {
        R.in[i].path = argv[optind + (int)i];
        R.in[i].kind = inkind;
      }
    }
    for (i = 0; i < R.n_in; i++) {
      input *in = &R.in[i];
      in->name = in->kind == IN_TEXT ? "<argument>"
                 : !strcmp(in->path, "-") ? "<stdin>" : in->path;
    }
  }
  for (i = 0; i < R.n_in; i++)
    if (!strcmp(R.in[i].path, "-") && R.in[i].kind != IN_TEXT)
      for (size_t k = i + 1; k < R.n_in; k++)
        if (!strcmp(R.in[k].path, "-"))
          cli_usage_error("tag", "standard input ('-') given twice");

  R.model = cli_open_model(model_path);
  R.n_heads = fm_model_head_count(R.model);
  R.topts = (fm_tag_opts)FM_TAG_OPTS_INIT;
  R.topts.flags = R.explain ? FM_TAG_EXPLAIN : 0;
  R.topts.source = R.source;

  /* Open every input before writing anything: an unusable input fails the
   * run with nothing written. */
  for (i = 0; i < R.n_in; i++) {
    input *in = &R.in[i];
    struct stat sb;
    if (in->kind == IN_TEXT) continue;
    if (in->kind == IN_LINES) {
      if (!strcmp(in->path, "-")) {
        in->lines = stdin;
      } else {
        if (stat(in->path, &sb) == 0 && S_ISDIR(sb.st_mode))
          cli_die(EXIT_IO, "%s: is a directory", in->path);
        in->lines = fopen(in->path, "rb");
        if (!in->lines)
          cli_die(EXIT_IO, "%s: cannot open: %s", in->path, strerror(errno));
        if (stat(in->path, &sb) == 0) R.bytes_total += (uint64_t)sb.st_size;
      }
      continue;
    }
    {
      fm_reader_opts ro = FM_READER_OPTS_INIT;
      fm_error err;
      fm_status st;
      ro.format = in->kind == IN_CSV     ? FM_FORMAT_CSV
                  : in->kind == IN_JSONL ? FM_FORMAT_JSONL
                                         : FM_FORMAT_AUTO;
      ro.map = maps;
      ro.n_map = n_maps;
      ro.date_order = order;
      ro.source = R.source;
      st = fm_reader_open(in->path, &ro, &in->reader, &err);
      if (st != FM_OK) {
        /* The reader's messages name the file already. */
        cli_die(st == FM_EINVAL ? EXIT_USAGE : EXIT_IO, "%s", err.msg);
      }
      {
        uint64_t total;
        fm_reader_progress(in->reader, NULL, &total);
        R.bytes_total += total;
      }
    }
  }

  /* Outputs, through temporary files renamed at the end. */
  mask = umask(0);
  umask(mask);
  if (out_path) {
    out_name = out_path;
    out = open_temp(out_path, tmp_out, 0666 & ~mask);
    /* Rejects go next to an output file; beside a device or a pipe
     * (-o /dev/null, written without a temporary: tmp_out is empty) they
     * would be a file in /dev: reasons on stderr, as without -o. */
    if (!rej_path && tmp_out[0]) {
      snprintf(rej_default, sizeof rej_default, "%s.rejects.jsonl", out_path);
      rej_path = rej_default;
    }
  } else {
    setvbuf(stdout, NULL, _IOFBF, (size_t)1 << 16);
  }
  if (rej_path) {
    rej = open_temp(rej_path, tmp_rej, 0666 & ~mask);
    R.rejects_file = 1;
  }

  /* Threads: one reader, N workers, this one writes. */
  R.K = 2 * (size_t)jobs + 2;
  R.ring = xcalloc(R.K, sizeof *R.ring);
  pthread_mutex_init(&R.mu, NULL);
  pthread_cond_init(&R.cv_free, NULL);
  pthread_cond_init(&R.cv_work, NULL);
  pthread_cond_init(&R.cv_done, NULL);
  ws = xcalloc((size_t)jobs, sizeof *ws);
  th = xcalloc((size_t)jobs, sizeof *th);
  for (i = 0; i < (size_t)jobs; i++) {
    fm_error err;
    fm_status st;
    ws[i].R = &R;
    st = fm_tagger_new(R.model, NULL, &ws[i].tagger, &err);
    if (st != FM_OK)
      die_clean(cli_exit_for(st) == EXIT_USAGE ? EXIT_MODEL : cli_exit_for(st),
                "model %s: cannot create a tagger: %s", model_path, err.msg);
  }
  if (pthread_create(&rd, NULL, reader_main, &R) != 0)
    die_clean(EXIT_IO, "cannot start a thread");
  for (i = 0; i < (size_t)jobs; i++)
    if (pthread_create(&th[i], NULL, worker_main, &ws[i]) != 0)
      die_clean(EXIT_IO, "cannot start a thread");

  tty = !R.quiet && isatty(2);
  for (seq = 0;; seq++) {
    batch *b = &R.ring[seq % R.K];
    size_t k;
    pthread_mutex_lock(&R.mu);
    while (!R.abort && !(seq < R.filled && b->state == B_DONE) &&
           !(R.reading_done && seq >= R.filled))
      pthread_cond_wait(&R.cv_done, &R.mu);
    if (R.abort || seq >= R.filled) {
      pthread_mutex_unlock(&R.mu);
      break;
    }
    pthread_mutex_unlock(&R.mu);
    if (R.fmt == OUT_CSV && !header_done && b->out.len) {
      csv_header(&R, out, out_name);
      header_done = 1;
    }
    write_all(out, b->out.p, b->out.len, out_name);
    if (rej) write_all(rej, b->rej.p, b->rej.len, rej_path);
    for (k = 0; k < b->n; k++) {
      const item *it = &b->it[k];
      S.read++;
      if (it->kind == IT_REJECT) {
        S.rejected++;
        if (!rej && !R.quiet && S.shown++ < STDERR_REJECTS) {
          if (tty) fputs("\r\033[K", stderr);
          fprintf(stderr, "%s: %s:%llu: %s\n", cli_prog,
                  R.in[it->file].name, (unsigned long long)it->line,
                  b->data.p + it->reason);
        }
        continue;
      }
      S.tagged++;
      S.review += (uint64_t)it->review;
      S.repaired += (uint64_t)it->repaired;
      count_lang(&S, it->lang_out);
    }
    last_bytes = b->bytes_in;
    pthread_mutex_lock(&R.mu);
    b->state = B_FREE;
    pthread_cond_broadcast(&R.cv_free);
    pthread_mutex_unlock(&R.mu);
    if (tty && now_s() - last_progress >= 0.25) {
      progress(&R, &S, last_bytes, t0, 0);
      last_progress = now_s();
    }
  }
  pthread_mutex_lock(&R.mu);
  c = R.abort;
  pthread_mutex_unlock(&R.mu);
  if (c) {
    /* Not joined: the reader may be blocked on a pipe that never ends. */
    if (tty) fputs("\r\033[K", stderr);
    die_clean(R.abort_status, "%s", R.abort_msg);
  }
  pthread_join(rd, NULL);
  for (i = 0; i < (size_t)jobs; i++) pthread_join(th[i], NULL);
  if (R.fmt == OUT_CSV && !header_done) csv_header(&R, out, out_name);
  if (tty) progress(&R, &S, last_bytes, t0, 1);
  if (out_path) {
    close_temp(out, tmp_out, out_path);
  } else if (fflush(stdout) != 0) {
    die_clean(EXIT_IO, "standard output: write error: %s", strerror(errno));
  }
  if (rej) close_temp(rej, tmp_rej, rej_path);

  if (!R.quiet) {
    fprintf(stderr, "%s tag: %llu read, %llu tagged, %llu rejected, %llu need "
            "review\n", cli_prog, (unsigned long long)S.read,
            (unsigned long long)S.tagged, (unsigned long long)S.rejected,
            (unsigned long long)S.review);
    if (S.n_langs) {
      qsort(S.langs, S.n_langs, sizeof *S.langs, by_count);
      fprintf(stderr, "  languages:");
      for (i = 0; i < S.n_langs; i++)
        fprintf(stderr, "%s %s %llu", i ? "," : "", S.langs[i].lang,
                (unsigned long long)S.langs[i].n);
      fputc('\n', stderr);
    }
    if (S.repaired)
      fprintf(stderr, "  invalid UTF-8 in %llu texts: tagged with U+FFFD "
              "in place of the bad bytes\n", (unsigned long long)S.repaired);
    if (S.rejected && rej_path)
      fprintf(stderr, "  rejects: %s\n", rej_path);
    else if (S.shown > STDERR_REJECTS)
      fprintf(stderr, "  (%llu more rejects not shown; use --rejects FILE)\n",
              (unsigned long long)(S.shown - STDERR_REJECTS));
  }

  for (i = 0; i < (size_t)jobs; i++) fm_tagger_free(ws[i].tagger);
  for (i = 0; i < R.n_in; i++) {
    fm_reader_free(R.in[i].reader);
    if (R.in[i].lines && R.in[i].lines != stdin) fclose(R.in[i].lines);
    free(R.in[i].colmap);
  }
  for (i = 0; i < R.K; i++) {
    free(R.ring[i].it);
    free(R.ring[i].f);
    sb_free(&R.ring[i].data);
    sb_free(&R.ring[i].out);
    sb_free(&R.ring[i].rej);
  }
  for (i = 0; i < R.n_cols; i++) free(R.cols[i]);
  free(R.cols);
  free(R.ring);
  free(R.in);
  free(ws);
  free(th);
  free(maps);
  free(S.langs);
  pthread_mutex_destroy(&R.mu);
  pthread_cond_destroy(&R.cv_free);
  pthread_cond_destroy(&R.cv_work);
  pthread_cond_destroy(&R.cv_done);
  fm_model_close(R.model);
  return S.rejected ? EXIT_PARTIAL : EXIT_ALL_OK;
}
