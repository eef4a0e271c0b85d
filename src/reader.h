/*
 * reader.h -- what reader.c, reader_csv.c, reader_jsonl.c and date.c
 * share. libcsv stays in reader_csv.c and jansson in reader_jsonl.c; this
 * header names neither.
 */
#ifndef FM_READER_H
#define FM_READER_H

#include "internal.h"

#include <stdio.h>

/* The standard record fields a column mapping can name. */
enum {
  FMI_F_TEXT,
  FMI_F_ID,
  FMI_F_DATE,
  FMI_F_SCORE,
  FMI_F_ACCOUNT,
  FMI_F_REVENUE,
  FMI_F_LANG,
  FMI_F_SEGMENT,
  FMI_F_COUNT
};

/* Columns one field may join ("--map text=A+B+C"). */
#define FMI_MAX_JOIN 8

/* One field's mapping. With `given`, parts came from opts.map (an empty
 * list means "do not read this field"); otherwise they are detected from
 * the header (CSV, once) or from each object's keys (JSONL, per row). */
typedef struct fmi_fieldmap {
  bool given;
  size_t n_parts;
  char *parts[FMI_MAX_JOIN]; /* column names or dotted JSON paths, owned */
  long cols[FMI_MAX_JOIN];   /* CSV: resolved column indexes */
  char *joined;              /* "A+B" for messages; owned; NULL when none */
} fmi_fieldmap;

typedef struct fmi_csv fmi_csv;     /* reader_csv.c */
typedef struct fmi_jsonl fmi_jsonl; /* reader_jsonl.c */

/* Invariants: `in[in_pos, in_end)` is unread input, served after
 * `push[push_pos, push.len)` (bytes handed back for re-parsing after a
 * resync); `line` is the physical line of the next byte served. Once
 * `fatal` is set every call returns it again. Each record's memory
 * (fields, raw, arena) lives until the next fm_reader_next. */
struct fm_reader {
  /* input */
  FILE *f;   /* fm_reader_open_file: borrowed */
  int fd;    /* fm_reader_open: a path, or 0 for "-" */
  bool own_fd;
  const unsigned char *mem;
  size_t mem_len, mem_pos;
  unsigned char *in;
  size_t in_pos, in_end;
  fmi_buf push;
  size_t push_pos;
  bool eof;
  uint64_t bytes_read, total_bytes;
  uint64_t line;
  bool prev_cr;
  char *name;

  /* options */
  fm_format format;
  char delim;
  fm_date_order date_order;
  size_t max_field, max_row;
  char *source;
  fmi_fieldmap map[FMI_F_COUNT];
  bool subject_join; /* auto text = subject + body (CSV) */
  long subject_col;

  /* state */
  fm_status fatal;
  fm_error fatal_err;
  fmi_buf raw;
  bool raw_truncated;
  fmi_arena arena;
  fm_record rec;
  uint64_t records;

  /* CSV header and current row */
  char **cols;
  size_t n_cols;
  fmi_buf fdata;       /* field bytes, each followed by NUL */
  size_t *foff, *flen; /* per field */
  size_t n_fields, cap_fields;

  fmi_csv *csv;
  fmi_jsonl *jsonl;
};

/* ---- input window (reader.c) ------------------------------------------
 * Makes at least one byte available in *p and *n (push-back first, then the
 * buffered file). Returns FM_OK with *n == 0 at end of input, FM_EIO on a
 * read error. */
fm_status fmi_reader_window(fm_reader *r, const unsigned char **p, size_t *n,
                            fm_error *err);
/* Consumes n bytes of the current window, counting physical lines (LF,
 * CR, CRLF). */
void fmi_reader_consume(fm_reader *r, const unsigned char *p, size_t n);
/* Hands bytes back for re-reading from line `line` (a resync after an
 * unterminated quote). */
fm_status fmi_reader_push_back(fm_reader *r, const char *p, size_t n,
                               uint64_t line);
/* Appends to the raw copy of the current row, up to max_row bytes. */
fm_status fmi_reader_raw_append(fm_reader *r, const void *p, size_t n);

/* Current row's fields (CSV). */
fm_status fmi_reader_add_field(fm_reader *r, const void *p, size_t n);
void fmi_reader_clear_fields(fm_reader *r);

/* A value of the current row: `p` is NUL-terminated at p[len]. */
typedef struct fmi_span {
  const char *p;
  size_t len;
} fmi_span;

/* Builds r->rec from the values of each standard field (nvals[f] parts,
 * joined with a blank line; labels[f] names the column(s) in messages, may
 * be NULL). Returns FM_OK, FM_EPARSE (row rejected: err has the line and
 * the reason) or a fatal status. */
fm_status fmi_reader_build(fm_reader *r, uint64_t line,
                           fmi_span vals[][FMI_MAX_JOIN],
                           const size_t *nvals, const char *const *labels,
                           fm_error *err);
/* The same from the current CSV row through the resolved mapping. */
fm_status fmi_reader_build_csv(fm_reader *r, uint64_t line, fm_error *err);
/* Resolves the mapping against r->cols (the CSV header). Errors:
 * FM_ENOTFOUND (no text column, a mapped column absent), FM_ENOMEM. */
fm_status fmi_reader_set_columns(fm_reader *r, fm_error *err);

/* Column name detection: the standard field a header name means, its
 * priority among that field's names (lower wins), or -1. `subject` is set
 * when the name is a subject line to join before the text. */
int fmi_detect_field(const char *name, size_t len, int *prio, bool *subject);

/* ---- formats ------------------------------------------------------------ */
fm_status fmi_csv_open(fm_reader *r, fm_error *err);
fm_status fmi_csv_next(fm_reader *r, fm_error *err);
void fmi_csv_free(fm_reader *r);

fm_status fmi_jsonl_open(fm_reader *r, fm_error *err);
fm_status fmi_jsonl_next(fm_reader *r, fm_error *err);
void fmi_jsonl_free(fm_reader *r);
/* Field lookup and iteration over the current JSON object. */
const char *fmi_jsonl_field(fm_reader *r, const char *name, size_t *len);
size_t fmi_jsonl_field_count(fm_reader *r);
bool fmi_jsonl_field_at(fm_reader *r, size_t i, fm_field *out);

/* ---- values (date.c) ----------------------------------------------------
 * Each returns 0 on success, 1 when the text is not a value of the kind,
 * 2 when it is one but out of range. Leading/trailing blanks are ignored;
 * the caller treats an empty value as absent. */
int fmi_parse_date(const char *s, size_t n, fm_date_order order, int64_t *out);
int fmi_parse_score(const char *s, size_t n, double *out);
int fmi_parse_money(const char *s, size_t n, double *out);

#endif
