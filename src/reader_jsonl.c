/*
 * reader_jsonl.c -- JSON Lines through jansson: one object per line.
 *
 * Lines end at LF, CR or CRLF (a raw CR cannot occur inside a JSON string,
 * so splitting on it never cuts a valid object). Each line is parsed with
 * json_loadb and duplicate keys refused. jansson allocates with the
 * process allocator: json_set_alloc_funcs is process-wide and a library
 * must not change it, so its memory failures come back as FM_ENOMEM
 * through json_error_code instead of through fmi_malloc.
 *
 * Without a map, the standard fields are detected from each object's own
 * keys (exports often omit empty keys), but the first object must have a
 * text field: a stream without one is refused rather than rejected row by
 * row.
 */
#include "reader.h"

#include <jansson.h>
#include <strings.h>

struct fmi_jsonl {
  json_t *obj;        /* current object, owned */
  bool seen_object;   /* the first object has been checked for text */
  const char **keys;  /* field_at index, built on first use per record */
  json_t **values;
  size_t n_keys;
  bool keys_built;
  fmi_buf repaired;   /* a line that was not UTF-8, repaired */
};

fm_status fmi_jsonl_open(fm_reader *r, fm_error *err) {
  r->jsonl = fmi_calloc(1, sizeof *r->jsonl);
  if (!r->jsonl) return fmi_fail(err, FM_ENOMEM, "out of memory");
  r->delim = 0;
  return FM_OK;
}

void fmi_jsonl_free(fm_reader *r) {
  if (!r->jsonl) return;
  if (r->jsonl->obj) json_decref(r->jsonl->obj);
  fmi_buf_free(&r->jsonl->repaired);
  fmi_free(r->jsonl);
  r->jsonl = NULL;
}

/* Reads one physical line into r->raw (without its line end). */
static fm_status read_line(fm_reader *r, bool *eof, fm_error *err) {
  *eof = false;
  for (;;) {
    const unsigned char *p;
    size_t n, i;
    fm_status st = fmi_reader_window(r, &p, &n, err);
    if (st != FM_OK) return st;
    if (n == 0) {
      *eof = r->raw.len == 0 && !r->raw_truncated;
      return FM_OK;
    }
    for (i = 0; i < n && p[i] != '\n' && p[i] != '\r'; i++) {}
    if (i == 0 && r->raw.len == 0 && !r->raw_truncated && p[0] == '\n' &&
        r->prev_cr) {
      fmi_reader_consume(r, p, 1); /* the LF of a CRLF */
      continue;
    }
    if (fmi_reader_raw_append(r, p, i) != FM_OK)
      return fmi_fail(err, FM_ENOMEM, "out of memory");
    if (i < n) {
      fmi_reader_consume(r, p, i + 1);
      return FM_OK;
    }
    fmi_reader_consume(r, p, i);
  }
}

static bool blank_line(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t') return false;
  return true;
}

static const char *type_name(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER:
  case JSON_REAL: return "a number";
  case JSON_TRUE:
  case JSON_FALSE: return "a boolean";
  case JSON_NULL: return "null";
  }
  return "a value";
}

/* A scalar's text, in the arena unless it is a string. Objects and arrays
 * as compact JSON (with `as_json`), else NULL. */
static const char *value_text(fm_reader *r, json_t *v, size_t *len,
                              bool as_json) {
  char buf[64];
  size_t n;
  const char *s;
  switch (json_typeof(v)) {
  case JSON_STRING:
    *len = json_string_length(v);
    return json_string_value(v);
  case JSON_INTEGER:
    n = (size_t)snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT,
                         json_integer_value(v));
    break;
  case JSON_REAL:
    n = json_dumpb(v, buf, sizeof buf,
                   JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (n == 0 || n >= sizeof buf) return NULL;
    break;
  case JSON_TRUE: n = 4; memcpy(buf, "true", 4); break;
  case JSON_FALSE: n = 5; memcpy(buf, "false", 5); break;
  case JSON_NULL:
    if (!as_json) return NULL;
    n = 4;
    memcpy(buf, "null", 4);
    break;
  default: {
    size_t need;
    char *p;
    if (!as_json) return NULL;
    need = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    if (need == 0 || need == SIZE_MAX) return NULL;
    p = fmi_arena_alloc(&r->arena, need + 1);
    if (!p) return NULL;
    json_dumpb(v, p, need, JSON_COMPACT | JSON_ENCODE_ANY);
    p[need] = 0;
    *len = need;
    return p;
  }
  }
  s = fmi_arena_memdup(&r->arena, buf, n);
  if (s) *len = n;
  return s;
}

/* A key of obj: exact, else ignoring ASCII case. */
static json_t *get_key(json_t *obj, const char *key, size_t n) {
  const char *k;
  json_t *v;
  if (!json_is_object(obj)) return NULL;
  if ((v = json_object_getn(obj, key, n))) return v;
  json_object_foreach(obj, k, v) {
    if (strlen(k) == n && !strncasecmp(k, key, n)) return v;
  }
  return NULL;
}

/* A dotted path: the whole name as one key first, then segment by
 * segment. */
static json_t *get_path(json_t *obj, const char *path) {
  json_t *v = get_key(obj, path, strlen(path));
  const char *p = path;
  if (v) return v;
  v = obj;
  for (;;) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    v = get_key(v, p, n);
    if (!v || !dot) return v;
    p = dot + 1;
  }
}

/* Collects the values of each standard field from the object. */
static fm_status object_values(fm_reader *r, json_t *obj, uint64_t line,
                               fmi_span vals[][FMI_MAX_JOIN], size_t *nvals,
                               const char **labels, fm_error *err) {
  const char *key;
  json_t *v;
  json_t *found[FMI_F_COUNT][FMI_MAX_JOIN];
  const char *names[FMI_F_COUNT][FMI_MAX_JOIN];
  int best[FMI_F_COUNT];
  json_t *subject = NULL;
  const char *subject_key = NULL;
  size_t f, i;
  for (f = 0; f < FMI_F_COUNT; f++) {
    best[f] = -1;
    nvals[f] = 0;
    labels[f] = r->map[f].joined;
  }
  /* Top-level strings over the cap reject the row like a CSV field. */
  json_object_foreach(obj, key, v) {
    int prio;
    bool subj;
    int fd;
    if (json_is_string(v) && json_string_length(v) > r->max_field)
      return fmi_fail_at(err, FM_EPARSE, line, 0,
                         "field '%.40s' is over the size cap of %zu bytes",
                         key, r->max_field);
    fd = fmi_detect_field(key, strlen(key), &prio, &subj);
    if (fd < 0 || r->map[fd].given) continue;
    /* "customer": {...} is not an account name: only the text must be a
     * value (saying so beats calling the row textless). */
    if (fd != FMI_F_TEXT && (json_is_object(v) || json_is_array(v))) continue;
    if (subj && !subject) {
      subject = v;
      subject_key = key;
    }
    if (best[fd] < 0 || prio < best[fd]) {
      best[fd] = prio;
      found[fd][0] = v;
      names[fd][0] = key;
      nvals[fd] = 1;
    }
  }
  if (nvals[FMI_F_TEXT] == 1 && subject && found[FMI_F_TEXT][0] != subject) {
    found[FMI_F_TEXT][1] = found[FMI_F_TEXT][0];
    names[FMI_F_TEXT][1] = names[FMI_F_TEXT][0];
    found[FMI_F_TEXT][0] = subject;
    names[FMI_F_TEXT][0] = subject_key;
    nvals[FMI_F_TEXT] = 2;
  }
  for (f = 0; f < FMI_F_COUNT; f++) {
    const fmi_fieldmap *m = &r->map[f];
    if (!m->given) {
      if (nvals[f]) labels[f] = names[f][nvals[f] - 1];
      continue;
    }
    nvals[f] = 0;
    for (i = 0; i < m->n_parts; i++) {
      json_t *x = get_path(obj, m->parts[i]);
      if (!x || json_is_null(x)) continue;
      found[f][nvals[f]] = x;
      names[f][nvals[f]] = m->parts[i];
      nvals[f]++;
    }
  }
  for (f = 0; f < FMI_F_COUNT; f++) {
    size_t k = 0;
    for (i = 0; i < nvals[f]; i++) {
      size_t len = 0;
      const char *s;
      if (json_is_null(found[f][i])) continue;
      if (json_is_object(found[f][i]) || json_is_array(found[f][i]))
        return fmi_fail_at(err, FM_EPARSE, line, 0,
                           "'%.40s' is %s, not a value", names[f][i],
                           type_name(found[f][i]));
      s = value_text(r, found[f][i], &len, false);
      if (!s) return fmi_fail(err, FM_ENOMEM, "out of memory");
      vals[f][k].p = s;
      vals[f][k].len = len;
      k++;
    }
    nvals[f] = k;
  }
  return FM_OK;
}

static fm_status no_text(fm_reader *r, json_t *obj, fm_error *err) {
  char keys[100];
  size_t n = 0;
  const char *key;
  json_t *v;
  keys[0] = 0;
  json_object_foreach(obj, key, v) {
    int k = snprintf(keys + n, sizeof keys - n, "%s%s", n ? ", " : "", key);
    if (k < 0 || (size_t)k >= sizeof keys - n) {
      memcpy(keys + sizeof keys - 4, "...", 4);
      break;
    }
    n += (size_t)k;
  }
  if (r->map[FMI_F_TEXT].given)
    return fmi_fail(err, FM_ENOTFOUND,
                    "%s: the first object has no key '%.40s' for text "
                    "(keys: %s)", r->name, r->map[FMI_F_TEXT].joined, keys);
  return fmi_fail(err, FM_ENOTFOUND,
                  "%s: the first object has no text field (keys: %s); name "
                  "one with a map text=KEY", r->name, keys);
}

fm_status fmi_jsonl_next(fm_reader *r, fm_error *err) {
  fmi_jsonl *j = r->jsonl;
  fmi_span vals[FMI_F_COUNT][FMI_MAX_JOIN];
  size_t nvals[FMI_F_COUNT];
  const char *labels[FMI_F_COUNT];
  const char *data;
  size_t data_len;
  json_error_t jerr;
  uint64_t line;
  fm_status st;
  bool eof;
  if (j->obj) {
    json_decref(j->obj);
    j->obj = NULL;
  }
  j->keys_built = false;
  j->n_keys = 0;
  for (;;) {
    fmi_buf_clear(&r->raw);
    r->raw_truncated = false;
    line = r->line;
    if ((st = read_line(r, &eof, err)) != FM_OK) return st;
    if (eof) return FM_EEOF;
    if (r->raw_truncated || r->raw.len > r->max_row) {
      r->raw_truncated = true;
      return fmi_fail_at(err, FM_EPARSE, line, 0,
                         "line is over the size cap of %zu bytes", r->max_row);
    }
    if (!blank_line(r->raw.data ? r->raw.data : "", r->raw.len)) break;
  }
  /* A BOM starting a later line (files with BOMs concatenated) belongs to
   * no object: skipped as the one before the first line is. */
  data = r->raw.data;
  data_len = r->raw.len;
  if (data_len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
    data += 3;
    data_len -= 3;
  }
  j->obj = json_loadb(data, data_len,
                      JSON_REJECT_DUPLICATES | JSON_DECODE_ANY |
                          JSON_ALLOW_NUL,
                      &jerr);
  if (!j->obj && json_error_code(&jerr) == json_error_invalid_utf8) {
    /* Raw bytes that are not UTF-8 (a legacy-encoded export) would cost
     * the whole row: repaired as CSV values are, bad bytes becoming
     * U+FFFD, the row is tagged instead. The line is under max_row. */
    fmi_buf_clear(&j->repaired);
    if (fmi_buf_reserve(&j->repaired, 3 * data_len + 1) != FM_OK)
      return fmi_fail(err, FM_ENOMEM, "out of memory");
    fmi_utf8_sanitize(data, data_len, j->repaired.data, &j->repaired.len);
    j->obj = json_loadb(j->repaired.data, j->repaired.len,
                        JSON_REJECT_DUPLICATES | JSON_DECODE_ANY |
                            JSON_ALLOW_NUL,
                        &jerr);
  }
  if (!j->obj) {
    if (json_error_code(&jerr) == json_error_out_of_memory)
      return fmi_fail(err, FM_ENOMEM, "out of memory (JSON parser)");
    return fmi_fail_at(err, FM_EPARSE, line,
                       jerr.column > 0 ? (uint64_t)jerr.column : 0,
                       "invalid JSON: %s", jerr.text);
  }
  if (!json_is_object(j->obj))
    return fmi_fail_at(err, FM_EPARSE, line, 0, "not a JSON object (%s)",
                       type_name(j->obj));
  st = object_values(r, j->obj, line, vals, nvals, labels, err);
  if (st != FM_OK) return st;
  if (!j->seen_object) {
    j->seen_object = true;
    if (nvals[FMI_F_TEXT] == 0) {
      /* A present but empty text is a row problem, not a stream one. */
      bool present = false;
      size_t i;
      const char *key;
      json_t *v;
      if (r->map[FMI_F_TEXT].given) {
        for (i = 0; i < r->map[FMI_F_TEXT].n_parts; i++)
          if (get_path(j->obj, r->map[FMI_F_TEXT].parts[i])) present = true;
      } else {
        json_object_foreach(j->obj, key, v) {
          int prio;
          bool subj;
          if (fmi_detect_field(key, strlen(key), &prio, &subj) == FMI_F_TEXT)
            present = true;
        }
      }
      if (!present) return no_text(r, j->obj, err);
    }
  }
  return fmi_reader_build(r, line, vals,
                          nvals, labels, err);
}

const char *fmi_jsonl_field(fm_reader *r, const char *name, size_t *len) {
  json_t *v;
  size_t n = 0;
  const char *s;
  if (!r->jsonl || !r->jsonl->obj) return NULL;
  v = get_path(r->jsonl->obj, name);
  if (!v || json_is_null(v)) return NULL;
  s = value_text(r, v, &n, true);
  if (s && len) *len = n;
  return s;
}

static bool build_keys(fm_reader *r) {
  fmi_jsonl *j = r->jsonl;
  const char *key;
  json_t *v;
  size_t n = json_object_size(j->obj), i = 0;
  if (j->keys_built) return true;
  j->keys = fmi_arena_alloc(&r->arena, (n ? n : 1) * sizeof *j->keys);
  j->values = fmi_arena_alloc(&r->arena, (n ? n : 1) * sizeof *j->values);
  if (!j->keys || !j->values) return false;
  json_object_foreach(j->obj, key, v) {
    if (i == n) break;
    j->keys[i] = key;
    j->values[i] = v;
    i++;
  }
  j->n_keys = i;
  j->keys_built = true;
  return true;
}

size_t fmi_jsonl_field_count(fm_reader *r) {
  if (!r->jsonl || !r->jsonl->obj || !build_keys(r)) return 0;
  return r->jsonl->n_keys;
}

bool fmi_jsonl_field_at(fm_reader *r, size_t i, fm_field *out) {
  fmi_jsonl *j = r->jsonl;
  size_t n = 0;
  const char *s;
  if (!j || !j->obj || !build_keys(r) || i >= j->n_keys) return false;
  s = value_text(r, j->values[i], &n, true);
  if (!s) return false;
  out->name = j->keys[i];
  out->value = s;
  out->len = n;
  out->is_json = !json_is_string(j->values[i]);
  return true;
}
