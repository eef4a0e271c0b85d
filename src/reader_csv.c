/*
 * reader_csv.c -- RFC 4180 CSV through libcsv, one row at a time.
 *
 * libcsv is a push parser that reports fields and row ends but not where
 * they are. To know the physical line a row starts on and to keep its raw
 * bytes for the rejects file, the input is fed one physical line (up to
 * and including its CR or LF) per csv_parse call: a row ends exactly when
 * libcsv reports a row end during that call, and the bytes fed since the
 * row began are its raw text.
 *
 * Recovery: a quote that never closes would swallow the rest of the file
 * into one field. When a row reaches the end of input inside a quoted
 * field, or grows past the size caps, it is rejected as its first physical
 * line and the lines after it are read again as rows, so one stray quote
 * costs one row, not the file.
 */
#include "reader.h"

#include <csv.h>

struct fmi_csv {
  struct csv_parser p;
  bool inited;
  bool row_done;   /* libcsv reported the row's end */
  bool discard;    /* callbacks ignore what they get (parser reset) */
  bool bad;        /* a field over the cap: reject at the row's end */
  size_t bad_field;
  size_t n_fields; /* fields reported for the current row */
  fm_status cb_status;
};

static void on_field(void *s, size_t len, void *data) {
  fm_reader *r = data;
  fmi_csv *c = r->csv;
  if (c->discard) return;
  c->n_fields++;
  if (c->bad || c->cb_status != FM_OK) return;
  if (len > r->max_field) {
    c->bad = true;
    c->bad_field = c->n_fields;
    return;
  }
  c->cb_status = fmi_reader_add_field(r, s ? s : "", len);
}

static void on_row(int ch, void *data) {
  fm_reader *r = data;
  (void)ch;
  if (!r->csv->discard) r->csv->row_done = true;
}

/* Returns libcsv to "no row begun" without reporting anything. */
static void reset_parser(fm_reader *r) {
  fmi_csv *c = r->csv;
  c->discard = true;
  csv_set_opts(&c->p, 0);
  csv_fini(&c->p, on_field, on_row, r);
  c->discard = false;
}

/* A blank piece between rows (spaces/tabs that are not the delimiter, and
 * line ends) is skipped by libcsv without beginning a row. */
static bool blank_piece(const fm_reader *r, const unsigned char *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char ch = p[i];
    if (ch == '\r' || ch == '\n') continue;
    if ((ch == ' ' || ch == '\t') && ch != (unsigned char)r->delim) continue;
    return false;
  }
  return true;
}

static const unsigned char *find_eol(const unsigned char *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (p[i] == '\n' || p[i] == '\r') return p + i;
  return NULL;
}

/* Drops the row's final line end from the raw copy. */
static void trim_raw_eol(fm_reader *r) {
  fmi_buf *b = &r->raw;
  if (b->len && b->data[b->len - 1] == '\n') b->len--;
  if (b->len && b->data[b->len - 1] == '\r') b->len--;
  if (b->data) b->data[b->len] = 0;
}

/* Rejects the current row as its first physical line and hands the lines
 * after it back for reading, when the raw copy holds them all. Returns
 * false when there is nothing to hand back (the row is one line). */
static bool resync(fm_reader *r, uint64_t row_line, fm_status *st) {
  fmi_buf *b = &r->raw;
  size_t i, rest;
  *st = FM_OK;
  if (r->raw_truncated) return false;
  for (i = 0; i < b->len && b->data[i] != '\n' && b->data[i] != '\r'; i++) {}
  rest = i;
  if (rest < b->len && b->data[rest] == '\r') rest++;
  if (rest < b->len && b->data[rest] == '\n') rest++;
  if (rest >= b->len) return false;
  *st = fmi_reader_push_back(r, b->data + rest, b->len - rest, row_line + 1);
  b->len = i;
  b->data[i] = 0;
  reset_parser(r);
  return true;
}

/* Skips to the end of the current physical line without parsing. */
static fm_status skip_line(fm_reader *r, fm_error *err) {
  for (;;) {
    const unsigned char *p, *eol;
    size_t n;
    fm_status st = fmi_reader_window(r, &p, &n, err);
    if (st != FM_OK) return st;
    if (n == 0) return FM_OK;
    eol = find_eol(p, n);
    if (!eol) {
      fmi_reader_consume(r, p, n);
      continue;
    }
    /* A CR and the LF after it end one line. */
    if (*eol == '\r' && (size_t)(eol - p) + 1 == n) {
      fmi_reader_consume(r, p, n);
      if ((st = fmi_reader_window(r, &p, &n, err)) != FM_OK) return st;
      if (n && p[0] == '\n') fmi_reader_consume(r, p, 1);
      return FM_OK;
    }
    if (*eol == '\r' && eol[1] == '\n') eol++;
    fmi_reader_consume(r, p, (size_t)(eol - p) + 1);
    return FM_OK;
  }
}

typedef enum { ROW_OK, ROW_EOF, ROW_BAD } row_kind;

/* Reads one row into r->fdata (fields) and r->raw. On ROW_BAD, err holds
 * the reason and line. */
static fm_status read_row(fm_reader *r, row_kind *kind, uint64_t *row_line,
                          fm_error *err) {
  fmi_csv *c = r->csv;
  bool started = false;
  fm_status st;
  fmi_reader_clear_fields(r);
  c->row_done = c->bad = false;
  c->n_fields = 0;
  c->cb_status = FM_OK;
  *row_line = 0;
  for (;;) {
    const unsigned char *p, *eol;
    size_t n, len;
    if ((st = fmi_reader_window(r, &p, &n, err)) != FM_OK) return st;
    if (n == 0) { /* end of input */
      int rc;
      if (!started) {
        *kind = ROW_EOF;
        return FM_OK;
      }
      csv_set_opts(&c->p, CSV_STRICT | CSV_STRICT_FINI);
      rc = csv_fini(&c->p, on_field, on_row, r);
      csv_set_opts(&c->p, 0);
      if (c->cb_status != FM_OK) return fmi_fail(err, c->cb_status, "out of memory");
      if (rc != 0) {
        *kind = ROW_BAD;
        if (!resync(r, *row_line, &st)) reset_parser(r);
        if (st != FM_OK) return fmi_fail(err, st, "out of memory");
        trim_raw_eol(r);
        fmi_fail_at(err, FM_EPARSE, *row_line, 0, "unterminated quoted field");
        return FM_OK;
      }
      break;
    }
    eol = find_eol(p, n);
    len = eol ? (size_t)(eol - p) + 1 : n;
    if (!started) {
      if (blank_piece(r, p, len)) {
        fmi_reader_consume(r, p, len);
        continue;
      }
      started = true;
      *row_line = r->line;
    }
    if (csv_parse(&c->p, p, len, on_field, on_row, r) != len)
      return fmi_fail(err, FM_ENOMEM, "out of memory (CSV parser: %s)",
                      csv_strerror(csv_error(&c->p)));
    if (c->cb_status != FM_OK) return fmi_fail(err, c->cb_status, "out of memory");
    if (fmi_reader_raw_append(r, p, len) != FM_OK)
      return fmi_fail(err, FM_ENOMEM, "out of memory");
    fmi_reader_consume(r, p, len);
    if (c->row_done) break;
    /* libcsv's field buffer grows geometrically, not by 128 bytes. */
    if (csv_get_buffer_size(&c->p) > 4096)
      csv_set_blk_size(&c->p, csv_get_buffer_size(&c->p));
    if (c->p.entry_pos > r->max_field || r->raw.len > r->max_row) {
      bool field = c->p.entry_pos > r->max_field;
      size_t which = c->n_fields + 1;
      *kind = ROW_BAD;
      if (!resync(r, *row_line, &st)) {
        if (st == FM_OK) {
          /* One physical line so far: drop the rest of it. */
          r->raw_truncated = true;
          reset_parser(r);
          st = skip_line(r, err);
        }
      }
      if (st != FM_OK) return st == FM_ENOMEM ? fmi_fail(err, st, "out of memory") : st;
      trim_raw_eol(r);
      if (field)
        fmi_fail_at(err, FM_EPARSE, *row_line, 0,
                    "field %zu is over the size cap of %zu bytes", which,
                    r->max_field);
      else
        fmi_fail_at(err, FM_EPARSE, *row_line, 0,
                    "row is over the size cap of %zu bytes", r->max_row);
      return FM_OK;
    }
  }
  trim_raw_eol(r);
  if (c->bad) {
    *kind = ROW_BAD;
    fmi_fail_at(err, FM_EPARSE, *row_line, 0,
                "field %zu is over the size cap of %zu bytes", c->bad_field,
                r->max_field);
    return FM_OK;
  }
  *kind = ROW_OK;
  return FM_OK;
}

/* The delimiter the header line uses most outside quotes (',' on ties or
 * when none occurs: a one-column file). */
static char detect_delim(const unsigned char *p, size_t n) {
  size_t i, comma = 0, semi = 0, tab = 0;
  bool q = false;
  for (i = 0; i < n; i++) {
    unsigned char ch = p[i];
    if (ch == '"') q = !q;
    else if (q) continue;
    else if (ch == '\n' || ch == '\r') break;
    else if (ch == ',') comma++;
    else if (ch == ';') semi++;
    else if (ch == '\t') tab++;
  }
  if (semi > comma && semi >= tab) return ';';
  if (tab > comma && tab > semi) return '\t';
  return ',';
}

fm_status fmi_csv_open(fm_reader *r, fm_error *err) {
  fmi_csv *c;
  const unsigned char *p;
  size_t n, i;
  row_kind kind;
  uint64_t line;
  fm_status st;
  c = fmi_calloc(1, sizeof *c);
  if (!c) return fmi_fail(err, FM_ENOMEM, "out of memory");
  r->csv = c;
  if (csv_init(&c->p, 0) != 0) return fmi_fail(err, FM_ENOMEM, "out of memory");
  c->inited = true;
  csv_set_realloc_func(&c->p, fmi_realloc);
  csv_set_free_func(&c->p, fmi_free);
  csv_set_blk_size(&c->p, 1024);
  if (!r->delim) {
    if ((st = fmi_reader_window(r, &p, &n, err)) != FM_OK) return st;
    r->delim = detect_delim(p, n);
  }
  csv_set_delim(&c->p, (unsigned char)r->delim);
  if ((st = read_row(r, &kind, &line, err)) != FM_OK) return st;
  if (kind == ROW_EOF) return FM_OK; /* empty input: no records */
  if (kind == ROW_BAD) {
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    return fmi_fail_at(err, FM_EPARSE, line, 0, "%s:%llu: header row: %s",
                       r->name, (unsigned long long)line, msg);
  }
  r->cols = fmi_calloc(r->n_fields, sizeof *r->cols);
  if (!r->cols) return fmi_fail(err, FM_ENOMEM, "out of memory");
  for (i = 0; i < r->n_fields; i++) {
    r->cols[i] = fmi_strndup(r->fdata.data + r->foff[i], r->flen[i]);
    if (!r->cols[i]) return fmi_fail(err, FM_ENOMEM, "out of memory");
    r->n_cols++;
  }
  return fmi_reader_set_columns(r, err);
}

fm_status fmi_csv_next(fm_reader *r, fm_error *err) {
  row_kind kind;
  uint64_t line;
  fm_status st;
  if (r->n_cols == 0) return FM_EEOF;
  if ((st = read_row(r, &kind, &line, err)) != FM_OK) return st;
  if (kind == ROW_EOF) return FM_EEOF;
  if (kind == ROW_BAD) return FM_EPARSE;
  if (r->n_fields != r->n_cols)
    return fmi_fail_at(err, FM_EPARSE, line, 0,
                       "%zu field%s where the header has %zu", r->n_fields,
                       r->n_fields == 1 ? "" : "s", r->n_cols);
  return fmi_reader_build_csv(r, line, err);
}

void fmi_csv_free(fm_reader *r) {
  if (!r->csv) return;
  if (r->csv->inited) csv_free(&r->csv->p);
  fmi_free(r->csv);
  r->csv = NULL;
}
