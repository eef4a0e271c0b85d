/*
 * reader.c -- customer exports as records: opening, sniffing the format,
 * the column mapping, and turning a row's values into an fm_record. The
 * CSV and JSON Lines syntax lives in reader_csv.c and reader_jsonl.c.
 */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK ((size_t)64 << 10)
#define SNIFF ((size_t)4096)
/* Arena cap: a record's joined text and formatted numbers. Joins are of
 * fields already under max_field each, so this only bounds pathology. */
#define ARENA_CAP_FACTOR 12

static const char *const field_names[FMI_F_COUNT] = {
    "text", "id", "date", "score", "account", "revenue", "lang", "segment"};

/* Header names, normalized (ASCII lower case, blanks and '-' as '_'). The
 * order inside a field is its priority. */
static const struct {
  const char *name;
  int field;
} detect_table[] = {
    {"text", FMI_F_TEXT},          {"body", FMI_F_TEXT},
    {"description", FMI_F_TEXT},   {"comment", FMI_F_TEXT},
    {"feedback", FMI_F_TEXT},      {"verbatim", FMI_F_TEXT},
    {"reason", FMI_F_TEXT},        {"message", FMI_F_TEXT},
    {"subject", FMI_F_TEXT},       /* alone, or joined before the text */
    {"id", FMI_F_ID},              {"ticket_id", FMI_F_ID},
    {"response_id", FMI_F_ID},     {"created_at", FMI_F_DATE},
    {"date", FMI_F_DATE},          {"submitted_at", FMI_F_DATE},
    {"closed_at", FMI_F_DATE},     {"score", FMI_F_SCORE},
    {"nps", FMI_F_SCORE},          {"rating", FMI_F_SCORE},
    {"account", FMI_F_ACCOUNT},    {"company", FMI_F_ACCOUNT},
    {"customer", FMI_F_ACCOUNT},   {"organization", FMI_F_ACCOUNT},
    {"mrr", FMI_F_REVENUE},        {"arr", FMI_F_REVENUE},
    {"revenue", FMI_F_REVENUE},    {"amount", FMI_F_REVENUE},
    {"deal_size", FMI_F_REVENUE},  {"lang", FMI_F_LANG},
    {"language", FMI_F_LANG},      {"plan", FMI_F_SEGMENT},
    {"segment", FMI_F_SEGMENT},    {"tier", FMI_F_SEGMENT},
    {"industry", FMI_F_SEGMENT},
    /* CRM and billing exports name these differently */
    {"loss_reason", FMI_F_TEXT},   {"cancellation_reason", FMI_F_TEXT},
    {"opportunity_id", FMI_F_ID},  {"close_date", FMI_F_DATE},
};

int fmi_detect_field(const char *name, size_t len, int *prio, bool *subject) {
  char norm[32];
  size_t i, k = 0;
  while (len && (name[0] == ' ' || name[0] == '\t')) { name++; len--; }
  while (len && (name[len - 1] == ' ' || name[len - 1] == '\t')) len--;
  if (len == 0 || len >= sizeof norm) return -1;
  for (i = 0; i < len; i++) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c == ' ' || c == '-') c = '_';
    norm[k++] = c;
  }
  norm[k] = 0;
  for (i = 0; i < sizeof detect_table / sizeof detect_table[0]; i++)
    if (!strcmp(norm, detect_table[i].name)) {
      *prio = (int)i;
      *subject = !strcmp(norm, "subject");
      return detect_table[i].field;
    }
  return -1;
}

/* ---- input window ---------------------------------------------------------- */

static fm_status fill(fm_reader *r, fm_error *err) {
  size_t got = 0;
  if (r->in_pos == r->in_end) r->in_pos = r->in_end = 0;
  if (r->eof || r->in_end == CHUNK) return FM_OK;
  if (r->mem) {
    got = r->mem_len - r->mem_pos;
    if (got > CHUNK - r->in_end) got = CHUNK - r->in_end;
    memcpy(r->in + r->in_end, r->mem + r->mem_pos, got);
    r->mem_pos += got;
  } else if (r->f) {
    got = fread(r->in + r->in_end, 1, CHUNK - r->in_end, r->f);
    if (got == 0 && ferror(r->f))
      return fmi_fail(err, FM_EIO, "%s: read error", r->name);
  } else {
    ssize_t k;
    do {
      k = read(r->fd, r->in + r->in_end, CHUNK - r->in_end);
    } while (k < 0 && errno == EINTR);
    if (k < 0)
      return fmi_fail(err, FM_EIO, "%s: read error: %s", r->name,
                      strerror(errno));
    got = (size_t)k;
    /* A regular file that ends before the size it had at open was
     * truncated or replaced under us: the rows past this point are lost,
     * which must not pass for a clean end of input. */
    if (got == 0 && r->bytes_read < r->total_bytes)
      return fmi_fail(err, FM_EIO,
                      "%s: file shrank while being read (%llu of %llu bytes)",
                      r->name, (unsigned long long)r->bytes_read,
                      (unsigned long long)r->total_bytes);
  }
  if (got == 0) r->eof = true;
  r->in_end += got;
  r->bytes_read += got;
  return FM_OK;
}

fm_status fmi_reader_window(fm_reader *r, const unsigned char **p, size_t *n,
                            fm_error *err) {
  fm_status st;
  if (r->push_pos < r->push.len) {
    *p = (const unsigned char *)r->push.data + r->push_pos;
    *n = r->push.len - r->push_pos;
    return FM_OK;
  }
  if (r->in_pos == r->in_end && (st = fill(r, err)) != FM_OK) return st;
  *p = r->in + r->in_pos;
  *n = r->in_end - r->in_pos;
  return FM_OK;
}

void fmi_reader_consume(fm_reader *r, const unsigned char *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = p[i];
    if (c == '\n') {
      if (!r->prev_cr) r->line++;
      r->prev_cr = false;
    } else if (c == '\r') {
      r->line++;
      r->prev_cr = true;
    } else {
      r->prev_cr = false;
    }
  }
  if (r->push_pos < r->push.len) {
    r->push_pos += n;
    if (r->push_pos >= r->push.len) {
      fmi_buf_clear(&r->push);
      r->push_pos = 0;
    }
  } else {
    r->in_pos += n;
  }
}

fm_status fmi_reader_push_back(fm_reader *r, const char *p, size_t n,
                               uint64_t line) {
  fmi_buf nb = {0};
  if (fmi_buf_append(&nb, p, n) != FM_OK ||
      fmi_buf_append(&nb, r->push.data ? r->push.data + r->push_pos : "",
                     r->push.len - r->push_pos) != FM_OK) {
    fmi_buf_free(&nb);
    return FM_ENOMEM;
  }
  fmi_buf_free(&r->push);
  r->push = nb;
  r->push_pos = 0;
  r->line = line;
  r->prev_cr = false;
  return FM_OK;
}

fm_status fmi_reader_raw_append(fm_reader *r, const void *p, size_t n) {
  /* Kept whole while under the cap, so a resync can re-read it. */
  if (r->raw.len >= r->max_row) {
    r->raw_truncated = true;
    return FM_OK;
  }
  return fmi_buf_append(&r->raw, p, n);
}

/* ---- current row (CSV) ------------------------------------------------------ */

void fmi_reader_clear_fields(fm_reader *r) {
  fmi_buf_clear(&r->fdata);
  r->n_fields = 0;
}

fm_status fmi_reader_add_field(fm_reader *r, const void *p, size_t n) {
  if (r->n_fields == r->cap_fields) {
    size_t cap = r->cap_fields ? r->cap_fields * 2 : 16, bytes;
    size_t *o, *l;
    if (fmi_mul_overflows(cap, sizeof(size_t), &bytes)) return FM_ENOMEM;
    o = fmi_realloc(r->foff, bytes);
    if (!o) return FM_ENOMEM;
    r->foff = o;
    l = fmi_realloc(r->flen, bytes);
    if (!l) return FM_ENOMEM;
    r->flen = l;
    r->cap_fields = cap;
  }
  r->foff[r->n_fields] = r->fdata.len;
  r->flen[r->n_fields] = n;
  if (fmi_buf_append(&r->fdata, p, n) != FM_OK ||
      fmi_buf_putc(&r->fdata, 0) != FM_OK)
    return FM_ENOMEM;
  r->n_fields++;
  return FM_OK;
}

/* ---- options ------------------------------------------------------------------ */

static void map_free(fmi_fieldmap *m) {
  size_t i;
  for (i = 0; i < m->n_parts; i++) fmi_free(m->parts[i]);
  fmi_free(m->joined);
  memset(m, 0, sizeof *m);
}

static fm_status parse_map(fm_reader *r, const char *spec, fm_error *err) {
  const char *eq = strchr(spec, '=');
  const char *col, *p;
  size_t flen;
  int f;
  fmi_fieldmap *m;
  if (!eq) return fmi_fail(err, FM_EINVAL, "map '%s': expected FIELD=COLUMN", spec);
  flen = (size_t)(eq - spec);
  for (f = 0; f < FMI_F_COUNT; f++)
    if (strlen(field_names[f]) == flen &&
        !strncasecmp(spec, field_names[f], flen))
      break;
  if (f == FMI_F_COUNT)
    return fmi_fail(err, FM_EINVAL,
                    "map '%s': unknown field (text, id, date, score, account, "
                    "revenue, lang, segment)", spec);
  m = &r->map[f];
  if (m->given)
    return fmi_fail(err, FM_EINVAL, "map: field %s mapped twice",
                    field_names[f]);
  m->given = true;
  col = eq + 1;
  if (!*col) return FM_OK; /* "FIELD=": not read */
  if (!(m->joined = fmi_strndup(col, strlen(col)))) goto nomem;
  for (p = col;;) {
    const char *plus = strchr(p, '+');
    size_t n = plus ? (size_t)(plus - p) : strlen(p);
    if (n == 0)
      return fmi_fail(err, FM_EINVAL, "map '%s': empty column name", spec);
    if (m->n_parts == FMI_MAX_JOIN)
      return fmi_fail(err, FM_EINVAL, "map '%s': more than %d columns", spec,
                      FMI_MAX_JOIN);
    if (!(m->parts[m->n_parts] = fmi_strndup(p, n))) goto nomem;
    m->cols[m->n_parts] = -1;
    m->n_parts++;
    if (!plus) break;
    p = plus + 1;
  }
  return FM_OK;
nomem:
  return fmi_fail(err, FM_ENOMEM, "out of memory");
}

/* ---- open/free ------------------------------------------------------------------ */

static bool has_ext(const char *name, const char *ext) {
  size_t n = strlen(name), e = strlen(ext);
  return n > e && !strcasecmp(name + n - e, ext);
}

/* Binary data: NUL and other control bytes, and bytes that are not part of
 * valid UTF-8, are more than an eighth of the first 4 KiB. A Latin-1 export
 * or a few stray NULs stay well under; UTF-16, images and archives do not. */
static bool looks_binary(const unsigned char *p, size_t n) {
  size_t i = 0, bad = 0;
  if (n > SNIFF) n = SNIFF;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' &&
           c != '\v' && c != 0x1B) || c == 0x7F)
        bad++;
      i++;
      continue;
    }
    {
      size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0, k;
      if (len == 0 || c > 0xF4) { bad++; i++; continue; }
      if (i + len > n) break; /* cut by the sample's end */
      for (k = 1; k < len; k++)
        if ((p[i + k] & 0xC0) != 0x80) break;
      if (k < len) { bad++; i++; continue; }
      i += len;
    }
  }
  return bad * 8 > n;
}

static fm_status start(fm_reader *r, const fm_reader_opts *opts,
                       fm_error *err) {
  const unsigned char *p;
  size_t n, i;
  fm_status st;
  r->in = fmi_malloc(CHUNK);
  if (!r->in) return fmi_fail(err, FM_ENOMEM, "out of memory");
  /* Sniff: load the first 4 KiB (or everything, when shorter), but stop at
   * the first line end, so a pipe that delivers a line at a time is not
   * waited on for more. */
  while (!r->eof && r->in_end < SNIFF &&
         !memchr(r->in, '\n', r->in_end) && !memchr(r->in, '\r', r->in_end))
    if ((st = fill(r, err)) != FM_OK) return st;
  p = r->in;
  n = r->in_end;
  if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
    r->in_pos = 3; /* a BOM is not part of the first line */
    p += 3;
    n -= 3;
  }
  if (looks_binary(p, n))
    return fmi_fail(err, FM_EPARSE,
                    "%s: not a CSV or JSON Lines file (binary data)", r->name);
  r->format = opts->format;
  if (r->format == FM_FORMAT_AUTO) {
    if (has_ext(r->name, ".jsonl") || has_ext(r->name, ".ndjson") ||
        has_ext(r->name, ".json")) {
      r->format = FM_FORMAT_JSONL;
    } else if (has_ext(r->name, ".csv") || has_ext(r->name, ".tsv")) {
      r->format = FM_FORMAT_CSV;
    } else {
      for (i = 0; i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
                            p[i] == '\n');
           i++) {}
      r->format = i < n && p[i] == '{' ? FM_FORMAT_JSONL : FM_FORMAT_CSV;
    }
  }
  if (r->format == FM_FORMAT_JSONL) return fmi_jsonl_open(r, err);
  return fmi_csv_open(r, err);
}

static fm_status init(fm_reader **out, const char *name,
                      const fm_reader_opts *opts_in, fm_reader **rp,
                      fm_error *err) {
  fm_reader_opts defaults = FM_READER_OPTS_INIT;
  const fm_reader_opts *opts = opts_in ? opts_in : &defaults;
  fm_reader *r;
  size_t i;
  fm_status st;
  *out = NULL;
  *rp = NULL;
  if (opts->size < sizeof(fm_reader_opts) ||
      (opts->format != FM_FORMAT_AUTO && opts->format != FM_FORMAT_CSV &&
       opts->format != FM_FORMAT_JSONL) ||
      (opts->date_order != FM_DATE_AUTO && opts->date_order != FM_DATE_MDY &&
       opts->date_order != FM_DATE_DMY) ||
      (opts->n_map && !opts->map))
    return fmi_fail(err, FM_EINVAL, "invalid reader options");
  if (opts->delimiter && opts->delimiter != ',' && opts->delimiter != ';' &&
      opts->delimiter != '\t' && opts->delimiter != '|')
    return fmi_fail(err, FM_EINVAL,
                    "delimiter must be ',', ';', '|' or a tab");
  r = fmi_calloc(1, sizeof *r);
  if (!r) return fmi_fail(err, FM_ENOMEM, "out of memory");
  *rp = r;
  r->fd = -1;
  r->line = 1;
  r->delim = opts->delimiter;
  r->date_order = opts->date_order;
  r->max_field = opts->max_field_bytes ? opts->max_field_bytes
                                       : FM_MAX_FIELD_BYTES_DEFAULT;
  if (fmi_mul_overflows(r->max_field, 4, &r->max_row))
    r->max_row = SIZE_MAX / 2;
  {
    size_t cap;
    if (fmi_mul_overflows(r->max_field, ARENA_CAP_FACTOR, &cap)) cap = 0;
    fmi_arena_init(&r->arena, cap);
  }
  r->subject_col = -1;
  if (opts->name) name = opts->name;
  if (!(r->name = fmi_strndup(name, strlen(name))) ||
      !(r->source = fmi_strndup(opts->source ? opts->source : "",
                                opts->source ? strlen(opts->source) : 0)))
    return fmi_fail(err, FM_ENOMEM, "out of memory");
  for (i = 0; i < opts->n_map; i++) {
    if (!opts->map[i]) return fmi_fail(err, FM_EINVAL, "map entry is NULL");
    if ((st = parse_map(r, opts->map[i], err)) != FM_OK) return st;
  }
  return FM_OK;
}

static fm_status finish_open(fm_reader *r, const fm_reader_opts *opts,
                             fm_reader **out, fm_error *err) {
  fm_reader_opts defaults = FM_READER_OPTS_INIT;
  fm_status st = start(r, opts ? opts : &defaults, err);
  if (st != FM_OK) {
    fm_reader_free(r);
    return st;
  }
  fmi_ok(err);
  *out = r;
  return FM_OK;
}

fm_status fm_reader_open(const char *path, const fm_reader_opts *opts,
                         fm_reader **out, fm_error *err) {
  fm_reader *r;
  struct stat sb;
  bool is_stdin;
  fm_status st;
  if (!out) return fmi_fail(err, FM_EINVAL, "out is NULL");
  if (!path) {
    *out = NULL;
    return fmi_fail(err, FM_EINVAL, "path is NULL");
  }
  is_stdin = !strcmp(path, "-");
  st = init(out, is_stdin ? "<stdin>" : path, opts, &r, err);
  if (st != FM_OK) {
    fm_reader_free(r);
    return st;
  }
  if (is_stdin) {
    r->fd = 0;
  } else {
    do {
      r->fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (r->fd < 0 && errno == EINTR);
    if (r->fd < 0) {
      st = fmi_fail(err, FM_EIO, "%s: cannot open: %s", r->name,
                    strerror(errno));
      fm_reader_free(r);
      return st;
    }
    r->own_fd = true;
  }
  if (fstat(r->fd, &sb) == 0) {
    if (S_ISDIR(sb.st_mode)) {
      st = fmi_fail(err, FM_EIO, "%s: is a directory", r->name);
      fm_reader_free(r);
      return st;
    }
    if (S_ISREG(sb.st_mode)) {
      /* standard input may start past the beginning of the file */
      off_t at = lseek(r->fd, 0, SEEK_CUR);
      r->total_bytes = (uint64_t)sb.st_size;
      if (at > 0) r->total_bytes -= at < sb.st_size ? (uint64_t)at
                                                    : r->total_bytes;
    }
  }
  return finish_open(r, opts, out, err);
}

fm_status fm_reader_open_file(FILE *f, const char *name,
                              const fm_reader_opts *opts, fm_reader **out,
                              fm_error *err) {
  fm_reader *r;
  fm_status st;
  if (!out) return fmi_fail(err, FM_EINVAL, "out is NULL");
  if (!f) {
    *out = NULL;
    return fmi_fail(err, FM_EINVAL, "stream is NULL");
  }
  st = init(out, name ? name : "<input>", opts, &r, err);
  if (st != FM_OK) {
    fm_reader_free(r);
    return st;
  }
  r->f = f;
  return finish_open(r, opts, out, err);
}

fm_status fm_reader_open_memory(const void *data, size_t len,
                                const fm_reader_opts *opts, fm_reader **out,
                                fm_error *err) {
  fm_reader *r;
  fm_status st;
  if (!out) return fmi_fail(err, FM_EINVAL, "out is NULL");
  if (!data && len) {
    *out = NULL;
    return fmi_fail(err, FM_EINVAL, "data is NULL");
  }
  st = init(out, "<memory>", opts, &r, err);
  if (st != FM_OK) {
    fm_reader_free(r);
    return st;
  }
  r->mem = data ? data : (const unsigned char *)"";
  r->mem_len = len;
  r->total_bytes = len;
  return finish_open(r, opts, out, err);
}

void fm_reader_free(fm_reader *r) {
  size_t i;
  if (!r) return;
  fmi_csv_free(r);
  fmi_jsonl_free(r);
  if (r->own_fd && r->fd >= 0) close(r->fd);
  for (i = 0; i < FMI_F_COUNT; i++) map_free(&r->map[i]);
  for (i = 0; i < r->n_cols; i++) fmi_free(r->cols[i]);
  fmi_free(r->cols);
  fmi_free(r->in);
  fmi_buf_free(&r->push);
  fmi_buf_free(&r->raw);
  fmi_buf_free(&r->fdata);
  fmi_free(r->foff);
  fmi_free(r->flen);
  fmi_arena_free(&r->arena);
  fmi_free(r->name);
  fmi_free(r->source);
  fmi_free(r);
}

/* ---- CSV columns ------------------------------------------------------------------ */

static long find_col(const fm_reader *r, const char *name, size_t len) {
  size_t i;
  for (i = 0; i < r->n_cols; i++)
    if (strlen(r->cols[i]) == len && !memcmp(r->cols[i], name, len))
      return (long)i;
  for (i = 0; i < r->n_cols; i++)
    if (strlen(r->cols[i]) == len && !strncasecmp(r->cols[i], name, len))
      return (long)i;
  return -1;
}

/* "a, b, c" for messages, cut to fit. */
static void list_columns(const fm_reader *r, char *out, size_t cap) {
  size_t i, n = 0;
  out[0] = 0;
  for (i = 0; i < r->n_cols && n + 1 < cap; i++) {
    int k = snprintf(out + n, cap - n, "%s%s", i ? ", " : "", r->cols[i]);
    if (k < 0) break;
    n += (size_t)k;
  }
  if (n >= cap && cap > 4) memcpy(out + cap - 4, "...", 4);
}

fm_status fmi_reader_set_columns(fm_reader *r, fm_error *err) {
  size_t i, k;
  int best[FMI_F_COUNT];
  long bestcol[FMI_F_COUNT];
  char cols[100];
  for (k = 0; k < FMI_F_COUNT; k++) {
    best[k] = -1;
    bestcol[k] = -1;
  }
  if (r->n_cols == 0) return FM_OK; /* empty input */
  for (i = 0; i < r->n_cols; i++) {
    int prio;
    bool subj;
    int f = fmi_detect_field(r->cols[i], strlen(r->cols[i]), &prio, &subj);
    if (f < 0) continue;
    if (subj && r->subject_col < 0) r->subject_col = (long)i;
    if (best[f] < 0 || prio < best[f]) {
      best[f] = prio;
      bestcol[f] = (long)i;
    }
  }
  for (k = 0; k < FMI_F_COUNT; k++) {
    fmi_fieldmap *m = &r->map[k];
    if (m->given) {
      if (m->n_parts > 1 && find_col(r, m->joined, strlen(m->joined)) >= 0) {
        /* A column literally named "A+B" wins over the join. */
        for (i = 1; i < m->n_parts; i++) fmi_free(m->parts[i]);
        fmi_free(m->parts[0]);
        m->parts[0] = fmi_strndup(m->joined, strlen(m->joined));
        m->n_parts = 1;
        if (!m->parts[0]) {
          m->n_parts = 0;
          return fmi_fail(err, FM_ENOMEM, "out of memory");
        }
      }
      for (i = 0; i < m->n_parts; i++) {
        m->cols[i] = find_col(r, m->parts[i], strlen(m->parts[i]));
        if (m->cols[i] < 0) {
          list_columns(r, cols, sizeof cols);
          return fmi_fail(err, FM_ENOTFOUND,
                          "%s: no column '%.40s' for %s (columns: %s)",
                          r->name, m->parts[i], field_names[k], cols);
        }
      }
      continue;
    }
    if (bestcol[k] < 0) continue;
    {
      const char *name = r->cols[bestcol[k]];
      size_t n = strlen(name);
      m->cols[0] = bestcol[k];
      m->n_parts = 1;
      if (k == FMI_F_TEXT && r->subject_col >= 0 &&
          r->subject_col != bestcol[k]) {
        const char *sn = r->cols[r->subject_col];
        m->cols[0] = r->subject_col;
        m->cols[1] = bestcol[k];
        m->n_parts = 2;
        m->joined = fmi_malloc(strlen(sn) + n + 2);
        if (!m->joined) return fmi_fail(err, FM_ENOMEM, "out of memory");
        memcpy(m->joined, sn, strlen(sn));
        m->joined[strlen(sn)] = '+';
        memcpy(m->joined + strlen(sn) + 1, name, n + 1);
      } else {
        m->joined = fmi_strndup(name, n);
        if (!m->joined) return fmi_fail(err, FM_ENOMEM, "out of memory");
      }
    }
  }
  if (r->map[FMI_F_TEXT].n_parts == 0) {
    list_columns(r, cols, sizeof cols);
    if (r->map[FMI_F_TEXT].given)
      return fmi_fail(err, FM_EINVAL, "%s: the text field cannot be unmapped",
                      r->name);
    return fmi_fail(err, FM_ENOTFOUND,
                    "%s: no text column (columns: %s); name it with a map "
                    "text=COLUMN", r->name, cols);
  }
  return FM_OK;
}

/* ---- records ------------------------------------------------------------------------ */

static bool blank(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
      return false;
  return true;
}

/* A value cut for a message: at most 40 bytes, never splitting UTF-8,
 * control bytes shown as '?'. */
static void quote_value(const char *s, size_t n, char *out, size_t cap) {
  size_t i, k = 0, lim = n > 40 ? 40 : n;
  while (lim < n && lim > 0 && ((unsigned char)s[lim] & 0xC0) == 0x80) lim--;
  for (i = 0; i < lim && k + 4 < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    out[k++] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
  }
  if (lim < n && k + 4 < cap) {
    memcpy(out + k, "...", 3);
    k += 3;
  }
  out[k] = 0;
}

fm_status fmi_reader_build(fm_reader *r, uint64_t line,
                           fmi_span vals[][FMI_MAX_JOIN],
                           const size_t *nvals, const char *const *labels,
                           fm_error *err) {
  fm_record *rec = &r->rec;
  const char *str[FMI_F_COUNT];
  size_t len[FMI_F_COUNT];
  size_t f;
  char q[64];
  for (f = 0; f < FMI_F_COUNT; f++) {
    size_t i, total = 0, used = 0;
    char *p;
    str[f] = "";
    len[f] = 0;
    for (i = 0; i < nvals[f]; i++) {
      if (vals[f][i].len > r->max_field)
        return fmi_fail_at(err, FM_EPARSE, line, 0,
                           "field '%.40s' is over the size cap of %zu bytes",
                           labels[f] ? labels[f] : field_names[f],
                           r->max_field);
      if (blank(vals[f][i].p, vals[f][i].len)) continue;
      total += vals[f][i].len + (used ? 2 : 0);
      used++;
    }
    if (used == 0) continue;
    if (used == 1) {
      for (i = 0; blank(vals[f][i].p, vals[f][i].len); i++) {}
      str[f] = vals[f][i].p; /* NUL-terminated by the format reader */
      len[f] = vals[f][i].len;
      continue;
    }
    p = fmi_arena_alloc(&r->arena, total + 1);
    if (!p) {
      if (r->arena.over_cap)
        return fmi_fail_at(err, FM_EPARSE, line, 0,
                           "%s is over the size cap", field_names[f]);
      return fmi_fail(err, FM_ENOMEM, "out of memory");
    }
    str[f] = p;
    len[f] = total;
    for (i = 0, used = 0; i < nvals[f]; i++) {
      if (blank(vals[f][i].p, vals[f][i].len)) continue;
      if (used++) {
        memcpy(p, "\n\n", 2);
        p += 2;
      }
      memcpy(p, vals[f][i].p, vals[f][i].len);
      p += vals[f][i].len;
    }
    *p = 0;
  }
  memset(rec, 0, sizeof *rec);
  rec->reader = r;
  rec->line = line;
  rec->source = r->source;
  if (len[FMI_F_TEXT] == 0) {
    if (labels[FMI_F_TEXT])
      return fmi_fail_at(err, FM_EPARSE, line, 0, "missing text ('%.60s' is empty)",
                         labels[FMI_F_TEXT]);
    return fmi_fail_at(err, FM_EPARSE, line, 0, "missing text");
  }
  rec->text = str[FMI_F_TEXT];
  rec->text_len = len[FMI_F_TEXT];
  rec->id = str[FMI_F_ID];
  rec->account = str[FMI_F_ACCOUNT];
  rec->segment = str[FMI_F_SEGMENT];
  rec->lang = str[FMI_F_LANG];
  if (len[FMI_F_DATE]) {
    int rc = fmi_parse_date(str[FMI_F_DATE], len[FMI_F_DATE], r->date_order,
                            &rec->date);
    if (rc) {
      quote_value(str[FMI_F_DATE], len[FMI_F_DATE], q, sizeof q);
      return fmi_fail_at(err, FM_EPARSE, line, 0,
                         rc == 2 ? "date out of range '%s'"
                                 : "unparseable date '%s'", q);
    }
    rec->has_date = 1;
  }
  if (len[FMI_F_SCORE]) {
    int rc = fmi_parse_score(str[FMI_F_SCORE], len[FMI_F_SCORE], &rec->score);
    if (rc) {
      quote_value(str[FMI_F_SCORE], len[FMI_F_SCORE], q, sizeof q);
      return fmi_fail_at(err, FM_EPARSE, line, 0,
                         rc == 2 ? "score out of range '%s'"
                                 : "unparseable score '%s'", q);
    }
    rec->has_score = 1;
  }
  if (len[FMI_F_REVENUE]) {
    int rc = fmi_parse_money(str[FMI_F_REVENUE], len[FMI_F_REVENUE],
                             &rec->revenue);
    if (rc) {
      quote_value(str[FMI_F_REVENUE], len[FMI_F_REVENUE], q, sizeof q);
      return fmi_fail_at(err, FM_EPARSE, line, 0,
                         rc == 2 ? "revenue out of range '%s'"
                                 : "unparseable revenue '%s'", q);
    }
    rec->has_revenue = 1;
  }
  return FM_OK;
}

fm_status fmi_reader_build_csv(fm_reader *r, uint64_t line, fm_error *err) {
  fmi_span vals[FMI_F_COUNT][FMI_MAX_JOIN];
  size_t nvals[FMI_F_COUNT];
  const char *labels[FMI_F_COUNT];
  size_t f, i;
  for (f = 0; f < FMI_F_COUNT; f++) {
    const fmi_fieldmap *m = &r->map[f];
    nvals[f] = m->n_parts;
    labels[f] = m->joined;
    for (i = 0; i < m->n_parts; i++) {
      size_t c = (size_t)m->cols[i];
      vals[f][i].p = r->fdata.data + r->foff[c];
      vals[f][i].len = r->flen[c];
    }
  }
  return fmi_reader_build(r, line, vals, nvals, labels, err);
}

fm_status fm_reader_next(fm_reader *r, const fm_record **out, fm_error *err) {
  fm_status st;
  if (out) *out = NULL;
  if (!r || !out) return fmi_fail(err, FM_EINVAL, "reader or out is NULL");
  if (r->fatal != FM_OK) {
    if (err) *err = r->fatal_err;
    return r->fatal;
  }
  fmi_arena_reset(&r->arena);
  fmi_buf_clear(&r->raw);
  r->raw_truncated = false;
  st = r->format == FM_FORMAT_JSONL ? fmi_jsonl_next(r, err)
                                    : fmi_csv_next(r, err);
  if (st == FM_OK) {
    r->records++;
    fmi_ok(err);
    *out = &r->rec;
    return FM_OK;
  }
  if (st == FM_EPARSE && r->raw_truncated && r->raw.len > r->max_row) {
    r->raw.len = r->max_row; /* the documented bound of the kept copy */
    r->raw.data[r->raw.len] = 0;
  }
  if (st != FM_EPARSE && st != FM_EEOF) {
    r->fatal = st;
    if (err) r->fatal_err = *err;
    else fmi_fail(&r->fatal_err, st, "%s", fm_strerror(st));
  } else if (st == FM_EEOF) {
    fmi_fail(err, FM_EEOF, "end of input");
  }
  return st;
}

const char *fm_reader_raw(const fm_reader *r, size_t *len, int *truncated) {
  size_t n;
  if (truncated) *truncated = r && r->raw_truncated;
  if (!r || !r->raw.data) {
    if (len) *len = 0;
    return "";
  }
  n = r->raw.len;
  if (len) *len = n;
  return r->raw.data;
}

/* ---- record fields ---------------------------------------------------------------------- */

const char *fm_record_field(const fm_record *rec, const char *name,
                            size_t *len) {
  fm_reader *r;
  long c;
  if (len) *len = 0;
  if (!rec || !rec->reader || !name) return NULL;
  r = rec->reader;
  if (r->format == FM_FORMAT_JSONL) return fmi_jsonl_field(r, name, len);
  c = find_col(r, name, strlen(name));
  if (c < 0 || (size_t)c >= r->n_fields) return NULL;
  if (len) *len = r->flen[c];
  return r->fdata.data + r->foff[c];
}

size_t fm_record_field_count(const fm_record *rec) {
  if (!rec || !rec->reader) return 0;
  if (rec->reader->format == FM_FORMAT_JSONL)
    return fmi_jsonl_field_count(rec->reader);
  return rec->reader->n_fields;
}

int fm_record_field_at(const fm_record *rec, size_t i, fm_field *out) {
  fm_reader *r;
  if (!rec || !rec->reader || !out) return 0;
  r = rec->reader;
  if (r->format == FM_FORMAT_JSONL) return fmi_jsonl_field_at(r, i, out);
  if (i >= r->n_fields || i >= r->n_cols) return 0;
  out->name = r->cols[i];
  out->value = r->fdata.data + r->foff[i];
  out->len = r->flen[i];
  out->is_json = 0;
  return 1;
}

/* ---- what the reader found ------------------------------------------------------------- */

fm_format fm_reader_format(const fm_reader *r) {
  return r ? r->format : FM_FORMAT_AUTO;
}

char fm_reader_delimiter(const fm_reader *r) {
  return r && r->format == FM_FORMAT_CSV ? r->delim : 0;
}

size_t fm_reader_column_count(const fm_reader *r) { return r ? r->n_cols : 0; }

const char *fm_reader_column_name(const fm_reader *r, size_t i) {
  return r && i < r->n_cols ? r->cols[i] : NULL;
}

const char *fm_reader_mapping(const fm_reader *r, const char *field) {
  size_t f;
  if (!r || !field) return NULL;
  for (f = 0; f < FMI_F_COUNT; f++)
    if (!strcmp(field, field_names[f])) return r->map[f].joined;
  return NULL;
}

const char *fm_reader_name(const fm_reader *r) { return r ? r->name : NULL; }

void fm_reader_progress(const fm_reader *r, uint64_t *bytes_read,
                        uint64_t *total_bytes) {
  uint64_t unread = 0;
  if (r) unread = (uint64_t)(r->in_end - r->in_pos);
  if (bytes_read) *bytes_read = r ? r->bytes_read - unread : 0;
  if (total_bytes) *total_bytes = r ? r->total_bytes : 0;
}
