/*
 * config.c -- the batch job's INI configuration (inih).
 *
 * inih hands us one key at a time and, in Debian's build, no line numbers
 * (INI_HANDLER_LINENO is 0). So the text is fed to ini_parse_stream by our
 * own line reader, which counts lines, sees section headers before inih
 * does (to register empty sections and catch duplicates with their line)
 * and refuses lines inih would silently split (over INI_MAX_LINE). The
 * first mistake wins; its message starts "FILE:LINE:" and names the
 * section and key, which is what a person fixing a cron job needs.
 */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define CFG_MAX_BYTES ((size_t)1 << 20)
#define CFG_DEFAULT_BATCH 5000

typedef struct strlist {
  char **v;
  size_t n, cap;
} strlist;

typedef enum sec_kind {
  SEC_STORE,
  SEC_MODEL,
  SEC_ACCOUNTS,
  SEC_OUTPUT,
  SEC_SOURCE,
  SEC_REPORT
} sec_kind;

/* A section as written. `seen` has one bit per key of its kind so a key
 * given twice is caught (repeatable keys excepted). */
typedef struct section {
  sec_kind kind;
  char *name;      /* "store", or NAME of [source NAME] / [report NAME] */
  char *header;    /* the header as written, for messages */
  uint64_t line;
  unsigned seen;
  /* source */
  char *type;
  strlist paths, map;
  fm_format format;
  char delimiter;
  fm_date_order date_order;
  /* report */
  char *period;
  unsigned period_days;
  int compare_previous;
  strlist formats;
} section;

/* The configuration and everything it owns. `pub` is what callers see;
 * its arrays point into `secs`, filled once parsing succeeded. */
typedef struct cfg_impl {
  fm_batch_config pub;
  char *path;
  char *dir;
  char *store, *model, *accounts, *output, *rejects, *runs_log;
  strlist accounts_map;
  section *secs;
  size_t n_secs, cap_secs;
  fm_batch_source *pub_sources;
  fm_batch_report *pub_reports;
  int keep_raw_text;
  unsigned raw_retention_days;
  size_t batch_size;
  int retag_auto;
} cfg_impl;

/* Parser state shared by the line reader and the key handler. */
typedef struct parse_ctx {
  cfg_impl *cfg;
  const char *text;
  size_t len, pos;
  uint64_t line;        /* the line last handed to inih */
  section *cur;         /* the section of that line */
  fm_status status;     /* first failure */
  uint64_t err_line;
  char msg[192];
} parse_ctx;

static void strlist_free(strlist *l) {
  size_t i;
  for (i = 0; i < l->n; i++) fmi_free(l->v[i]);
  fmi_free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

static fm_status strlist_push(strlist *l, const char *s, size_t n) {
  char *d;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 4;
    char **v = fmi_realloc(l->v, cap * sizeof *v);
    if (!v) return FM_ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  d = fmi_strndup(s, n);
  if (!d) return FM_ENOMEM;
  l->v[l->n++] = d;
  return FM_OK;
}

static void section_free(section *s) {
  fmi_free(s->name);
  fmi_free(s->header);
  fmi_free(s->type);
  fmi_free(s->period);
  strlist_free(&s->paths);
  strlist_free(&s->map);
  strlist_free(&s->formats);
}

void fm_batch_config_free(fm_batch_config *pub) {
  cfg_impl *c = (cfg_impl *)pub;
  size_t i;
  if (!c) return;
  for (i = 0; i < c->n_secs; i++) section_free(&c->secs[i]);
  fmi_free(c->secs);
  fmi_free(c->pub_sources);
  fmi_free(c->pub_reports);
  strlist_free(&c->accounts_map);
  fmi_free(c->path);
  fmi_free(c->dir);
  fmi_free(c->store);
  fmi_free(c->model);
  fmi_free(c->accounts);
  fmi_free(c->output);
  fmi_free(c->rejects);
  fmi_free(c->runs_log);
  fmi_free(c);
}

/* ---- messages ------------------------------------------------------- */

/* Appends to a message buffer of 192 bytes, truncating. */
static size_t append(char *msg, size_t at, const char *s, size_t n) {
  if (at + n > 191) n = at < 191 ? 191 - at : 0;
  memcpy(msg + at, s, n);
  msg[at + n] = 0;
  return at + n;
}

/* Records the first failure as "FILE:LINE: [SECTION] KEY: problem". A long
 * file name is shortened from the left so the key and the problem, the
 * parts a person acts on, always fit in the message. */
static int FMI_PRINTF(6, 7)
    cfg_fail(parse_ctx *p, fm_status code, uint64_t line, const char *sec,
             const char *key, const char *fmt, ...) {
  char problem[160], where[96], head[96];
  const char *file = p->cfg->path;
  size_t flen = strlen(file), room;
  va_list ap;
  if (p->status != FM_OK) return 0;
  p->status = code;
  p->err_line = line;
  va_start(ap, fmt);
  vsnprintf(problem, sizeof problem, fmt, ap);
  va_end(ap);
  where[0] = 0;
  if (sec && key)
    snprintf(where, sizeof where, " [%s] %s:", sec, key);
  else if (sec)
    snprintf(where, sizeof where, " [%s]:", sec);
  else if (key)
    snprintf(where, sizeof where, " %s:", key);
  if (line)
    snprintf(head, sizeof head, ":%llu:", (unsigned long long)line);
  else
    snprintf(head, sizeof head, ":");
  /* the file name gives way first: what follows it is what a person
   * acts on */
  room = sizeof p->msg - 1;
  {
    size_t fixed = strlen(head) + strlen(where) + 1 + strlen(problem);
    size_t keep = fixed < room ? room - fixed : 0, at = 0;
    /* ...down to its last 32 bytes: without file and line a message
     * cannot be acted on at all, so past that the problem's tail (a long
     * section name or value) is cut instead. */
    if (keep < 32) keep = 32;
    if (flen > keep) {
      at = append(p->msg, at, "...", 3);
      at = append(p->msg, at, file + flen - (keep - 3), keep - 3);
    } else {
      at = append(p->msg, at, file, flen);
    }
    at = append(p->msg, at, head, strlen(head));
    at = append(p->msg, at, where, strlen(where));
    at = append(p->msg, at, " ", 1);
    append(p->msg, at, problem, strlen(problem));
  }
  return 0;
}

/* ---- values --------------------------------------------------------- */

static int parse_bool(const char *v, int *out) {
  static const char *const yes[] = {"true", "yes", "on", "1"};
  static const char *const no[] = {"false", "no", "off", "0"};
  size_t i;
  for (i = 0; i < 4; i++) {
    if (!strcasecmp(v, yes[i])) { *out = 1; return 1; }
    if (!strcasecmp(v, no[i])) { *out = 0; return 1; }
  }
  return 0;
}

static int parse_uint(const char *v, unsigned long long max,
                      unsigned long long *out) {
  unsigned long long n = 0;
  if (!*v) return 0;
  for (; *v; v++) {
    if (*v < '0' || *v > '9') return 0;
    n = n * 10 + (unsigned)(*v - '0');
    if (n > max) return 0;
  }
  *out = n;
  return 1;
}

/* "quarter", "Nd" or "Nw" -> days (1..3660), as fm_period_last reads it. */
static unsigned period_days(const char *v) {
  size_t n = strlen(v);
  unsigned long long k;
  char num[16];
  if (!strcasecmp(v, "quarter")) return 91;
  if (n < 2 || n - 1 >= sizeof num) return 0;
  memcpy(num, v, n - 1);
  num[n - 1] = 0;
  if (!parse_uint(num, 3660, &k) || k == 0) return 0;
  if (v[n - 1] == 'd') return (unsigned)k;
  if (v[n - 1] == 'w' && k * 7 <= 3660) return (unsigned)(k * 7);
  return 0;
}

/* Joins a relative path onto the config's folder. */
static char *resolve(const cfg_impl *c, const char *v) {
  size_t dl, vl = strlen(v);
  char *out;
  if (v[0] == '/' || !strcmp(c->dir, ".")) return fmi_strndup(v, vl);
  dl = strlen(c->dir);
  if (dl && c->dir[dl - 1] == '/') dl--;
  out = fmi_malloc(dl + vl + 2);
  if (!out) return NULL;
  memcpy(out, c->dir, dl);
  out[dl] = '/';
  memcpy(out + dl + 1, v, vl + 1);
  return out;
}

static int set_path(parse_ctx *p, char **slot, const char *v) {
  char *r;
  if (!*v)
    return cfg_fail(p, FM_EPARSE, p->line, p->cur->header, NULL,
                    "an empty path");
  r = resolve(p->cfg, v);
  if (!r) return cfg_fail(p, FM_ENOMEM, p->line, NULL, NULL, "out of memory");
  fmi_free(*slot);
  *slot = r;
  return 1;
}

/* ---- keys ----------------------------------------------------------- */

/* The keys of each section kind; the index is the bit in section.seen.
 * Repeatable keys (path of a source, map) accumulate instead. */
static const char *const store_keys[] = {"path", "keep_raw_text",
                                         "raw_retention_days", "batch_size",
                                         NULL};
static const char *const model_keys[] = {"path", "retag", NULL};
static const char *const accounts_keys[] = {"path", "map", NULL};
static const char *const output_keys[] = {"dir", "rejects", "runs_log", NULL};
static const char *const source_keys[] = {"type", "path", "map", "format",
                                          "delimiter", "date_order", NULL};
static const char *const report_keys[] = {"period", "compare", "formats",
                                          NULL};

static const char *const *keys_of(sec_kind k) {
  switch (k) {
  case SEC_STORE: return store_keys;
  case SEC_MODEL: return model_keys;
  case SEC_ACCOUNTS: return accounts_keys;
  case SEC_OUTPUT: return output_keys;
  case SEC_SOURCE: return source_keys;
  case SEC_REPORT: return report_keys;
  }
  return store_keys;
}

static int key_index(sec_kind k, const char *name) {
  const char *const *keys = keys_of(k);
  int i;
  for (i = 0; keys[i]; i++)
    if (!strcmp(keys[i], name)) return i;
  return -1;
}

static int repeatable(sec_kind k, const char *name) {
  if (!strcmp(name, "map")) return k == SEC_SOURCE || k == SEC_ACCOUNTS;
  return k == SEC_SOURCE && !strcmp(name, "path");
}

static int add_formats(parse_ctx *p, section *s, const char *v) {
  static const char *const names[][2] = {
      {"md", "md"}, {"markdown", "md"}, {"html", "html"},
      {"json", "json"}, {"csv", "csv"}};
  const char *q = v;
  int any = 0;
  while (*q) {
    size_t n, i, k;
    const char *canon = NULL;
    while (*q == ' ' || *q == ',' || *q == '\t') q++;
    if (!*q) break;
    for (n = 0; q[n] && q[n] != ' ' && q[n] != ',' && q[n] != '\t'; n++) {}
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
      if (strlen(names[i][0]) == n && !strncasecmp(q, names[i][0], n))
        canon = names[i][1];
    if (!canon)
      return cfg_fail(p, FM_EPARSE, p->line, s->header, "formats",
                      "unknown format '%.*s' (md, html, json or csv)",
                      (int)(n > 32 ? 32 : n), q);
    for (k = 0; k < s->formats.n; k++)
      if (!strcmp(s->formats.v[k], canon))
        return cfg_fail(p, FM_EPARSE, p->line, s->header, "formats",
                        "format '%s' given twice", canon);
    if (strlist_push(&s->formats, canon, strlen(canon)) != FM_OK)
      return cfg_fail(p, FM_ENOMEM, p->line, NULL, NULL, "out of memory");
    any = 1;
    q += n;
  }
  if (!any)
    return cfg_fail(p, FM_EPARSE, p->line, s->header, "formats",
                    "no format given (md, html, json or csv)");
  return 1;
}

static int map_ok(const char *v) {
  static const char *const fields[] = {"text", "id", "date", "score",
                                       "account", "revenue", "lang",
                                       "segment"};
  const char *eq = strchr(v, '=');
  size_t i, n;
  if (!eq) return 0;
  n = (size_t)(eq - v);
  while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
  for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
    if (strlen(fields[i]) == n && !strncmp(v, fields[i], n)) return 1;
  return 0;
}

/* "FIELD = COLUMN" with blanks around '=' trimmed, as the reader wants. */
static int push_map(parse_ctx *p, strlist *l, section *s, const char *v) {
  const char *eq;
  size_t a, b;
  char buf[INI_MAX_LINE + 2];
  if (!map_ok(v))
    return cfg_fail(p, FM_EPARSE, p->line, s->header, "map",
                    "'%.60s' is not FIELD=COLUMN with FIELD one of text id "
                    "date score account revenue lang segment", v);
  eq = strchr(v, '=');
  a = (size_t)(eq - v);
  while (a && (v[a - 1] == ' ' || v[a - 1] == '\t')) a--;
  eq++;
  while (*eq == ' ' || *eq == '\t') eq++;
  b = strlen(eq);
  if (a + 1 + b >= sizeof buf)
    return cfg_fail(p, FM_EPARSE, p->line, s->header, "map", "too long");
  memcpy(buf, v, a);
  buf[a] = '=';
  memcpy(buf + a + 1, eq, b + 1);
  if (strlist_push(l, buf, a + 1 + b) != FM_OK)
    return cfg_fail(p, FM_ENOMEM, p->line, NULL, NULL, "out of memory");
  return 1;
}

static int handle_key(parse_ctx *p, section *s, const char *key,
                      const char *v) {
  cfg_impl *c = p->cfg;
  unsigned long long n;
  int b;
  switch (s->kind) {
  case SEC_STORE:
    if (!strcmp(key, "path")) return set_path(p, &c->store, v);
    if (!strcmp(key, "keep_raw_text")) {
      if (!parse_bool(v, &b))
        return cfg_fail(p, FM_EPARSE, p->line, s->header, key,
                        "'%.40s' is not true or false", v);
      c->keep_raw_text = b;
      return 1;
    }
    if (!strcmp(key, "raw_retention_days")) {
      if (!parse_uint(v, 36500, &n))
        return cfg_fail(p, FM_EPARSE, p->line, s->header, key,
                        "'%.40s' is not a number of days (0 to 36500)", v);
      c->raw_retention_days = (unsigned)n;
      return 1;
    }
    if (!parse_uint(v, 1000000, &n) || n == 0)
      return cfg_fail(p, FM_EPARSE, p->line, s->header, key,
                      "'%.40s' is not a number of items (1 to 1000000)", v);
    c->batch_size = (size_t)n;
    return 1;
  case SEC_MODEL:
    if (!strcmp(key, "retag")) {
      if (!strcasecmp(v, "auto")) c->retag_auto = 1;
      else if (!strcasecmp(v, "manual")) c->retag_auto = 0;
      else
        return cfg_fail(p, FM_EPARSE, p->line, s->header, key,
                        "'%.40s' is not auto or manual", v);
      return 1;
    }
    return set_path(p, &c->model, v);
  case SEC_ACCOUNTS:
    if (!strcmp(key, "path")) return set_path(p, &c->accounts, v);
    return push_map(p, &c->accounts_map, s, v);
  case SEC_OUTPUT:
    if (!strcmp(key, "dir")) return set_path(p, &c->output, v);
    if (!strcmp(key, "rejects")) return set_path(p, &c->rejects, v);
    return set_path(p, &c->runs_log, v);
  case SEC_SOURCE:
    if (!strcmp(key, "type")) {
      size_t i;
      if (!*v) return cfg_fail(p, FM_EPARSE, p->line, s->header, key,
                               "an empty type");
      for (i = 0; v[i]; i++)
        if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') ||
              v[i] == '_'))
          return cfg_fail(p, FM_EPARSE, p->line, s->header, key,
                          "'%.40s' is not a source type (lower-case letters, "
                          "digits, '_': ticket, nps, churn, lost_deal...)", v);
      fmi_free(s->type);
      s->type = fmi_strndup(v, strlen(v));
      if (!s->type)
        return cfg_fail(p, FM_ENOMEM, p->line, NULL, NULL, "out of memory");
      return 1;
    }
    if (!strcmp(key, "path")) {
      char *r;
      if (!*v) return cfg_fail(p, FM_EPARSE, p->line, s->header, key,
                               "an empty path");
      r = resolve(c, v);
      if (!r || strlist_push(&s->paths, r, strlen(r)) != FM_OK) {
        fmi_free(r);
        return cfg_fail(p, FM_ENOMEM, p->line, NULL, NULL, "out of memory");
      }
      fmi_free(r);
      return 1;
    }
    if (!strcmp(key, "map")) return push_map(p, &s->map, s, v);
    if (!strcmp(key, "format")) {
      if (!strcasecmp(v, "auto")) s->format = FM_FORMAT_AUTO;
      else if (!strcasecmp(v, "csv")) s->format = FM_FORMAT_CSV;
      else if (!strcasecmp(v, "jsonl")) s->format = FM_FORMAT_JSONL;
      else
        return cfg_fail(p, FM_EPARSE, p->line, s->header, key,
                        "'%.40s' is not auto, csv or jsonl", v);
      return 1;
    }
    if (!strcmp(key, "delimiter")) {
      if (!strcmp(v, ",") || !strcasecmp(v, "comma")) s->delimiter = ',';
      else if (!strcmp(v, ";") || !strcasecmp(v, "semicolon"))
        s->delimiter = ';';
      else if (!strcasecmp(v, "tab") || !strcmp(v, "\\t")) s->delimiter = '\t';
      else if (!strcasecmp(v, "auto")) s->delimiter = 0;
      else
        return cfg_fail(p, FM_EPARSE, p->line, s->header, key,
                        "'%.40s' is not comma, semicolon, tab or auto (a ';' "
                        "after a blank starts a comment)", v);
      return 1;
    }
    if (!strcasecmp(v, "auto")) s->date_order = FM_DATE_AUTO;
    else if (!strcasecmp(v, "mdy")) s->date_order = FM_DATE_MDY;
    else if (!strcasecmp(v, "dmy")) s->date_order = FM_DATE_DMY;
    else
      return cfg_fail(p, FM_EPARSE, p->line, s->header, key,
                      "'%.40s' is not auto, mdy or dmy", v);
    return 1;
  case SEC_REPORT:
    if (!strcmp(key, "period")) {
      unsigned d = period_days(v);
      if (!d)
        return cfg_fail(p, FM_EPARSE, p->line, s->header, key,
                        "'%.40s' is not a period (7d, 30d, quarter, Nd or "
                        "Nw, up to 3660 days)", v);
      fmi_free(s->period);
      s->period = fmi_strndup(v, strlen(v));
      if (!s->period)
        return cfg_fail(p, FM_ENOMEM, p->line, NULL, NULL, "out of memory");
      s->period_days = d;
      return 1;
    }
    if (!strcmp(key, "compare")) {
      if (!strcasecmp(v, "previous")) s->compare_previous = 1;
      else if (!strcasecmp(v, "none")) s->compare_previous = 0;
      else
        return cfg_fail(p, FM_EPARSE, p->line, s->header, key,
                        "'%.40s' is not previous or none", v);
      return 1;
    }
    return add_formats(p, s, v);
  }
  return 1;
}

static int on_key(void *user, const char *secname, const char *key,
                  const char *value) {
  parse_ctx *p = user;
  section *s = p->cur;
  int k;
  (void)secname; /* p->cur is the section of this line, seen by read_line */
  if (p->status != FM_OK) return 0;
  if (!s)
    return cfg_fail(p, FM_EPARSE, p->line, NULL, key,
                    "key outside a section (start with [store], [model], "
                    "[output], [source NAME]...)");
  k = key_index(s->kind, key);
  if (k < 0) {
    const char *const *keys = keys_of(s->kind);
    char list[96];
    size_t len = 0, i;
    list[0] = 0;
    for (i = 0; keys[i]; i++)
      len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                              i ? ", " : "", keys[i]);
    return cfg_fail(p, FM_EPARSE, p->line, s->header, key,
                    "unknown key (known: %s)", list);
  }
  if ((s->seen & (1u << k)) && !repeatable(s->kind, key))
    return cfg_fail(p, FM_EPARSE, p->line, s->header, key,
                    "given twice in this section");
  s->seen |= 1u << k;
  return handle_key(p, s, key, value);
}

/* ---- sections ------------------------------------------------------- */

static int name_ok(const char *s, size_t n) {
  size_t i;
  if (!n || n > 64) return 0;
  for (i = 0; i < n; i++) {
    char ch = s[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
          (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
      return 0;
  }
  return s[0] != '.';
}

/* Registers the section of a header line "[...]" (text between the
 * brackets, trimmed). */
static void open_section(parse_ctx *p, const char *h, size_t n) {
  static const struct {
    const char *word;
    sec_kind kind;
    int named;
  } kinds[] = {{"store", SEC_STORE, 0},   {"model", SEC_MODEL, 0},
               {"accounts", SEC_ACCOUNTS, 0}, {"output", SEC_OUTPUT, 0},
               {"source", SEC_SOURCE, 1}, {"report", SEC_REPORT, 1}};
  cfg_impl *c = p->cfg;
  size_t i, ki, wl = 0, nl = 0;
  const char *nm = NULL;
  section *s;
  char hdr[80];
  snprintf(hdr, sizeof hdr, "%.*s", (int)(n > 70 ? 70 : n), h);
  p->cur = NULL;
  while (wl < n && h[wl] != ' ' && h[wl] != '\t') wl++;
  if (wl < n) {
    nm = h + wl;
    while (nm < h + n && (*nm == ' ' || *nm == '\t')) nm++;
    nl = (size_t)(h + n - nm);
  }
  for (ki = 0; ki < sizeof kinds / sizeof kinds[0]; ki++)
    if (strlen(kinds[ki].word) == wl && !strncmp(h, kinds[ki].word, wl))
      break;
  if (ki == sizeof kinds / sizeof kinds[0]) {
    cfg_fail(p, FM_EPARSE, p->line, hdr, NULL,
             "unknown section (known: [store], [model], [accounts], "
             "[output], [source NAME], [report NAME])");
    return;
  }
  if (kinds[ki].named && !name_ok(nm, nl)) {
    cfg_fail(p, FM_EPARSE, p->line, hdr, NULL,
             "needs a name: [%s NAME] with letters, digits, '_', '-', '.'",
             kinds[ki].word);
    return;
  }
  if (!kinds[ki].named && nl) {
    cfg_fail(p, FM_EPARSE, p->line, hdr, NULL, "takes no name: [%s]",
             kinds[ki].word);
    return;
  }
  if (!kinds[ki].named) {
    nm = kinds[ki].word;
    nl = wl;
  }
  for (i = 0; i < c->n_secs; i++) {
    const section *o = &c->secs[i];
    if (o->kind == kinds[ki].kind && strlen(o->name) == nl &&
        !strncmp(o->name, nm, nl)) {
      cfg_fail(p, FM_EPARSE, p->line, hdr, NULL,
               "section given twice (first at line %llu)",
               (unsigned long long)o->line);
      return;
    }
  }
  if (c->n_secs == c->cap_secs) {
    size_t cap = c->cap_secs ? c->cap_secs * 2 : 8;
    section *v = fmi_realloc(c->secs, cap * sizeof *v);
    if (!v) goto nomem;
    c->secs = v;
    c->cap_secs = cap;
  }
  s = &c->secs[c->n_secs];
  memset(s, 0, sizeof *s);
  s->kind = kinds[ki].kind;
  s->line = p->line;
  s->compare_previous = 1;
  s->name = fmi_strndup(nm, nl);
  s->header = fmi_strndup(hdr, strlen(hdr));
  if (!s->name || !s->header) {
    section_free(s);
    goto nomem;
  }
  c->n_secs++;
  p->cur = s;
  return;
nomem:
  cfg_fail(p, FM_ENOMEM, p->line, NULL, NULL, "out of memory");
}

/* inih's line source: one line per call, counted, headers seen first. */
static char *read_line(char *str, int num, void *stream) {
  parse_ctx *p = stream;
  const char *nl, *start;
  size_t n, take, i;
  if (p->status != FM_OK || p->pos >= p->len) return NULL;
  start = p->text + p->pos;
  nl = memchr(start, '\n', p->len - p->pos);
  n = nl ? (size_t)(nl - start) + 1 : p->len - p->pos;
  p->pos += n;
  p->line++;
  take = n;
  if (take && start[take - 1] == '\n') take--;
  if (take && start[take - 1] == '\r') take--;
  if (take + 2 > (size_t)num) {
    cfg_fail(p, FM_EPARSE, p->line, NULL, NULL,
             "line too long (over %d bytes)", num - 2);
    return NULL;
  }
  memcpy(str, start, take);
  str[take] = '\n';
  str[take + 1] = 0;
  /* NUL bytes would cut the line short inside inih: refuse them. */
  if (memchr(str, 0, take)) {
    cfg_fail(p, FM_EPARSE, p->line, NULL, NULL, "a NUL byte in the line");
    return NULL;
  }
  i = 0;
  if (p->line == 1 && take >= 3 && !memcmp(str, "\xEF\xBB\xBF", 3)) i = 3;
  while (i < take && (str[i] == ' ' || str[i] == '\t')) i++;
  if (i < take && str[i] == '[') {
    const char *close = memchr(str + i, ']', take - i);
    if (close) {
      const char *a = str + i + 1, *b = close;
      while (a < b && (*a == ' ' || *a == '\t')) a++;
      while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
      open_section(p, a, (size_t)(b - a));
      if (p->status != FM_OK) return NULL;
    }
  }
  return str;
}

/* ---- checks after parsing ------------------------------------------- */

static const section *find_kind(const cfg_impl *c, sec_kind k) {
  size_t i;
  for (i = 0; i < c->n_secs; i++)
    if (c->secs[i].kind == k) return &c->secs[i];
  return NULL;
}

/* A section of kind k must have `key` (value); the section itself is
 * required when `missing` says what to write when it is absent. */
static void require_key(parse_ctx *p, sec_kind k, const char *sec,
                        const char *key, const char *value,
                        const char *missing) {
  const section *s = find_kind(p->cfg, k);
  if (!s) {
    if (missing) cfg_fail(p, FM_EPARSE, 0, sec, key, "%s", missing);
  } else if (!value) {
    cfg_fail(p, FM_EPARSE, s->line, sec, key, "missing key");
  }
}

static void check_required(parse_ctx *p) {
  cfg_impl *c = p->cfg;
  size_t i, n_sources = 0;
  require_key(p, SEC_STORE, "store", "path", c->store,
              "missing section [store] with the store's path");
  require_key(p, SEC_MODEL, "model", "path", c->model,
              "missing section [model] with the model's path");
  require_key(p, SEC_OUTPUT, "output", "dir", c->output,
              "missing section [output] with the reports' folder");
  require_key(p, SEC_ACCOUNTS, "accounts", "path", c->accounts, NULL);
  for (i = 0; i < c->n_secs; i++) {
    section *t = &c->secs[i];
    if (t->kind == SEC_SOURCE) {
      n_sources++;
      if (!t->paths.n)
        cfg_fail(p, FM_EPARSE, t->line, t->header, "path", "missing key");
    } else if (t->kind == SEC_REPORT) {
      if (!t->period)
        cfg_fail(p, FM_EPARSE, t->line, t->header, "period", "missing key");
    }
  }
  if (!n_sources)
    cfg_fail(p, FM_EPARSE, 0, NULL, NULL,
             "no [source NAME] section: nothing to ingest");
}

/* *path defaults to dir + name ("/rejects.jsonl") when not given. */
static fm_status default_path(char **path, const char *dir,
                              const char *name) {
  if (*path) return FM_OK;
  *path = fmi_malloc(strlen(dir) + strlen(name) + 1);
  if (!*path) return FM_ENOMEM;
  strcpy(*path, dir);
  strcat(*path, name);
  return FM_OK;
}

/* Defaults that depend on other keys, then the public arrays. */
static fm_status finish(cfg_impl *c) {
  size_t i, ns = 0, nr = 0;
  if (default_path(&c->rejects, c->output, "/rejects.jsonl") != FM_OK ||
      default_path(&c->runs_log, c->output, "/runs.jsonl") != FM_OK)
    return FM_ENOMEM;
  for (i = 0; i < c->n_secs; i++) {
    section *s = &c->secs[i];
    if (s->kind == SEC_SOURCE) {
      ns++;
      if (!s->type) {
        size_t k;
        s->type = fmi_strndup(s->name, strlen(s->name));
        if (!s->type) return FM_ENOMEM;
        /* a type is lower case: [source Tickets] tags as "tickets" */
        for (k = 0; s->type[k]; k++)
          if (s->type[k] >= 'A' && s->type[k] <= 'Z') s->type[k] += 'a' - 'A';
      }
    } else if (s->kind == SEC_REPORT) {
      nr++;
      if (!s->formats.n && strlist_push(&s->formats, "md", 2) != FM_OK)
        return FM_ENOMEM;
    }
  }
  c->pub_sources = fmi_calloc(ns, sizeof *c->pub_sources);
  c->pub_reports = fmi_calloc(nr, sizeof *c->pub_reports);
  if (!c->pub_sources || !c->pub_reports) return FM_ENOMEM;
  ns = nr = 0;
  for (i = 0; i < c->n_secs; i++) {
    section *s = &c->secs[i];
    if (s->kind == SEC_SOURCE) {
      fm_batch_source *o = &c->pub_sources[ns++];
      o->name = s->name;
      o->type = s->type;
      o->paths = (const char *const *)s->paths.v;
      o->n_paths = s->paths.n;
      o->map = (const char *const *)s->map.v;
      o->n_map = s->map.n;
      o->format = s->format;
      o->delimiter = s->delimiter;
      o->date_order = s->date_order;
      o->line = s->line;
    } else if (s->kind == SEC_REPORT) {
      fm_batch_report *o = &c->pub_reports[nr++];
      o->name = s->name;
      o->period = s->period;
      o->period_days = s->period_days;
      o->compare_previous = s->compare_previous;
      o->formats = (const char *const *)s->formats.v;
      o->n_formats = s->formats.n;
      o->line = s->line;
    }
  }
  c->pub.path = c->path;
  c->pub.store = c->store;
  c->pub.keep_raw_text = c->keep_raw_text;
  c->pub.raw_retention_days = c->raw_retention_days;
  c->pub.batch_size = c->batch_size ? c->batch_size : CFG_DEFAULT_BATCH;
  c->pub.model = c->model;
  c->pub.accounts = c->accounts;
  c->pub.accounts_map = (const char *const *)c->accounts_map.v;
  c->pub.n_accounts_map = c->accounts_map.n;
  c->pub.output = c->output;
  c->pub.rejects = c->rejects;
  c->pub.runs_log = c->runs_log;
  c->pub.sources = c->pub_sources;
  c->pub.n_sources = ns;
  c->pub.reports = c->pub_reports;
  c->pub.n_reports = nr;
  c->pub.retag_auto = c->retag_auto;
  return FM_OK;
}

fm_status fm_batch_config_parse(const char *text, size_t len,
                                const char *name, const char *dir,
                                fm_batch_config **out, fm_error *err) {
  cfg_impl *c;
  parse_ctx p;
  int rc;
  fm_status st;
  if (out) *out = NULL;
  if (!out || (!text && len))
    return fmi_fail(err, FM_EINVAL, "fm_batch_config_parse: no text or out");
  if (!name) name = "<config>";
  if (!dir || !*dir) dir = ".";
  c = fmi_calloc(1, sizeof *c);
  if (!c) return fmi_fail(err, FM_ENOMEM, "out of memory reading %s", name);
  c->path = fmi_strndup(name, strlen(name));
  c->dir = fmi_strndup(dir, strlen(dir));
  if (!c->path || !c->dir) {
    fm_batch_config_free(&c->pub);
    return fmi_fail(err, FM_ENOMEM, "out of memory reading %s", name);
  }
  memset(&p, 0, sizeof p);
  p.cfg = c;
  p.text = text ? text : "";
  p.len = len;
  rc = ini_parse_stream(read_line, &p, on_key, &p);
  if (rc > 0 && (p.status == FM_OK || (uint64_t)rc < p.err_line)) {
    /* inih's own complaint (no '=' or no ']') came first */
    p.status = FM_OK;
    cfg_fail(&p, FM_EPARSE, (uint64_t)rc, NULL, NULL,
             "syntax error: expected [section], key = value or a comment");
  } else if (rc < 0 && p.status == FM_OK) {
    cfg_fail(&p, FM_ENOMEM, 0, NULL, NULL, "out of memory");
  }
  if (p.status == FM_OK) check_required(&p);
  if (p.status == FM_OK && finish(c) != FM_OK)
    cfg_fail(&p, FM_ENOMEM, 0, NULL, NULL, "out of memory");
  if (p.status != FM_OK) {
    st = fmi_fail_at(err, p.status, p.err_line, 0, "%s", p.msg);
    fm_batch_config_free(&c->pub);
    return st;
  }
  fmi_ok(err);
  *out = &c->pub;
  return FM_OK;
}

fm_status fm_batch_config_load(const char *path, fm_batch_config **out,
                               fm_error *err) {
  FILE *f;
  char *buf = NULL, *dir = NULL;
  size_t len = 0, cap = 0;
  const char *slash;
  fm_status st;
  if (out) *out = NULL;
  if (!path || !out)
    return fmi_fail(err, FM_EINVAL, "fm_batch_config_load: no path or out");
  f = fopen(path, "rb");
  if (!f)
    return fmi_fail(err, FM_EIO, "cannot open config %s: %s", path,
                    strerror(errno));
  for (;;) {
    size_t got;
    if (len == cap) {
      char *nb;
      if (cap >= CFG_MAX_BYTES) {
        fclose(f);
        fmi_free(buf);
        return fmi_fail(err, FM_EPARSE, "%s: over %zu bytes: not a config",
                        path, CFG_MAX_BYTES);
      }
      cap = cap ? cap * 2 : 4096;
      nb = fmi_realloc(buf, cap);
      if (!nb) {
        fclose(f);
        fmi_free(buf);
        return fmi_fail(err, FM_ENOMEM, "out of memory reading %s", path);
      }
      buf = nb;
    }
    got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    int e = errno;
    fclose(f);
    fmi_free(buf);
    return fmi_fail(err, FM_EIO, "cannot read config %s: %s", path,
                    strerror(e));
  }
  fclose(f);
  slash = strrchr(path, '/');
  if (slash) {
    dir = fmi_strndup(path, slash == path ? 1 : (size_t)(slash - path));
    if (!dir) {
      fmi_free(buf);
      return fmi_fail(err, FM_ENOMEM, "out of memory reading %s", path);
    }
  }
  st = fm_batch_config_parse(buf, len, path, dir, out, err);
  fmi_free(dir);
  fmi_free(buf);
  return st;
}
