/*
 * cmd_report.c -- `feedmine report`: read the exports of each source, tag
 * them with a model (or take the tags `feedmine tag` already wrote), roll
 * them up in one fm_agg and write the requirement report in one or more
 * formats.
 *
 * Two passes over the inputs when the period is not given: the first only
 * reads dates (no tagging) to find the last day of data, the second tags
 * and aggregates; items outside the compared periods are counted but not
 * tagged. Standard input is spooled to a temporary file so it can be read
 * twice. Every output goes to a temporary file in its folder, renamed at
 * the end; SIGINT and SIGTERM remove the temporary files.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define MAX_OUT 8
#define MAX_SRC 64
#define MAX_MAP 64
#define MAX_AGG 1024
#define STDERR_REJECTS 20
#define DAY 86400

static void help(FILE *out) {
  fprintf(out,
    "usage: feedmine report -m MODEL --source NAME=FILE [--source ...]\n"
    "                       [OPTIONS] [-o OUT ...]\n"
    "\n"
    "Tags customer feedback exports and writes the requirement report: areas\n"
    "ranked by priority with trends, NPS impact, accounts and revenue; the\n"
    "requirements of each area in the customers' words; churn and lost-deal\n"
    "reasons; emerging phrases; the review queue.\n"
    "\n"
    "inputs:\n"
    "  -m, --model FILE     the model that tags (not needed when every input\n"
    "                       is output of 'feedmine tag' or an aggregate)\n"
    "  --source NAME=FILE   an export (CSV or JSON Lines, '-' for standard\n"
    "                       input) of source NAME: ticket, nps, churn,\n"
    "                       lost_deal (other names count as 'other');\n"
    "                       repeatable. Output of 'feedmine tag' (fm_* fields)\n"
    "                       is taken as tagged: no re-tagging.\n"
    "  --map [NAME:]FIELD=COLUMN\n"
    "                       column mapping (see 'feedmine tag'), for every\n"
    "                       source or, with NAME:, for that source only\n"
    "  --date-format mdy|dmy  how NN/NN/YYYY dates read\n"
    "  --accounts FILE      account table (CSV): account, segment or plan,\n"
    "                       MRR; items without revenue take their account's\n"
    "  --agg FILE           a saved aggregate (--save-agg) to merge in;\n"
    "                       repeatable. Its period is used unless given.\n"
    "\n"
    "period:\n"
    "  --period SPEC        7d, 30d, quarter (91 days), Nd or Nw; default 30d\n"
    "                       ending with the last day of data present\n"
    "  --since DATE, --until DATE  first and last day (YYYY-MM-DD, UTC,\n"
    "                       inclusive); with only one, --period gives the\n"
    "                       length\n"
    "  --compare previous|none  compare with the period just before\n"
    "                       (default previous)\n"
    "\n"
    "output:\n"
    "  -o, --output FILE    write the report to FILE; repeatable, the format\n"
    "                       from the extension (.md .html .json .csv); '-' or\n"
    "                       no -o: standard output (none with --save-agg)\n"
    "  --format md|html|json|csv  format for standard output or an OUT\n"
    "                       without a known extension (default md)\n"
    "  --title TEXT         report title\n"
    "  --weight SOURCE=W    priority weight of a source (ticket, nps,\n"
    "                       nps_detractor, churn, lost_deal, other)\n"
    "  --save-agg FILE      also write the aggregate (JSON) for later merging\n"
    "  --rejects FILE       rejected rows as JSON Lines (file, line, reason,\n"
    "                       raw); without it the first %d reasons go to stderr\n"
    "  -j, --jobs N         tag on N threads (default 1); the report is the\n"
    "                       same for any N\n"
    "  -q, --quiet          no summary on stderr\n"
    "  -h, --help           show this help\n"
    "\n"
    "exit status: 0 every row used; 1 some rows rejected or a source could\n"
    "not be read (the report covers the rest); 2 usage error; 3 inputs or an\n"
    "output unusable; 4 model unusable; 130 / 143 interrupted.\n",
    STDERR_REJECTS);
}

/* ---- temporary outputs ------------------------------------------------- */

static char tmp_names[MAX_OUT + 2][PATH_MAX];

static void remove_temps(void) {
  size_t i;
  for (i = 0; i < MAX_OUT + 2; i++)
    if (tmp_names[i][0]) unlink(tmp_names[i]);
}

static void on_signal(int sig) {
  remove_temps();
  _exit(128 + sig);
}

/* Dies without leaving temporary files behind. */
#define die_clean(...) cli_die_after(remove_temps, __VA_ARGS__)

/* Writes `data` to `path` through a temporary file in the same folder. */
static void write_file(const char *path, const char *data, size_t len,
                       size_t slot) {
  char *tmpl = tmp_names[slot];
  mode_t mask = umask(0);
  FILE *f;
  umask(mask);
  f = cli_temp_open(path, tmpl, 0666 & ~mask, remove_temps);
  if (len && fwrite(data, 1, len, f) != len)
    die_clean(EXIT_IO, "%s: write error: %s", path, strerror(errno));
  cli_temp_commit(f, tmpl, path, remove_temps);
}

/* ---- small parsers ------------------------------------------------------ */

/* "YYYY-MM-DD" to the Unix time of its midnight UTC; -1 when malformed. */
static int64_t parse_day(const char *s) {
  int y, m, d;
  char extra;
  int64_t yy, era, yoe, doy, doe;
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || strlen(s) != 10)
    return -1;
  if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
    return -1;
  if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
    return -1;
  /* Howard Hinnant's days_from_civil */
  yy = m <= 2 ? y - 1 : y;
  era = yy / 400;
  yoe = yy - era * 400;
  doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (era * 146097 + doe - 719468) * DAY;
}

static void fmt_day(int64_t t, char *out) {
  int64_t z = t / DAY + 719468, era, doe, yoe, y, doy, mp, d, m;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) y++;
  snprintf(out, 11, "%04d-%02d-%02d", (int)y, (int)m, (int)d);
}

static int parse_double(const char *s, double *out) {
  char *end;
  double v;
  if (!s || !*s) return 0;
  errno = 0;
  v = strtod(s, &end);
  if (errno || *end || v != v) return 0;
  *out = v;
  return 1;
}

/* ---- inputs --------------------------------------------------------------- */

typedef struct source {
  char *name;      /* as given */
  char *path;      /* as given; "-" = standard input */
  FILE *spool;     /* standard input copied to a temporary file */
  const char *maps[MAX_MAP];
  size_t n_maps;
  int failed;      /* could not be opened: skipped */
  int tagged;      /* 1 tagged (fm_* fields), 0 not, -1 unknown yet */
} source;

typedef struct account {
  char *name;
  double revenue;
  int has_revenue;
} account;

typedef struct headset {
  /* heads and labels to aggregate, from the model or from tagged input */
  char **names;
  char ***labels;
  size_t *n_labels;
  size_t n;
} headset;

typedef struct ctx {
  fm_model *model;
  fm_agg_opts agg_opts; /* the workers' aggregates are made alike */
  source src[MAX_SRC];
  size_t n_src;
  fm_date_order date_order;
  account *acc;       /* sorted by name */
  size_t n_acc;
  headset hs;
  fm_agg *agg;
  FILE *rejects;      /* NULL: reasons to stderr */
  const char *rejects_path;
  int quiet;
  uint64_t read, tagged_rows, used_tags, rejected, review, shown;
  uint64_t skipped;   /* outside the periods or undated: not tagged */
  int64_t since, until, prev_since;
  int compare;
  int64_t last_date;
  int any_date;
} ctx;

static int cmp_account(const void *x, const void *y) {
  return strcmp(((const account *)x)->name, ((const account *)y)->name);
}

static const account *find_account(const ctx *c, const char *name) {
  account key;
  if (!c->n_acc || !name || !*name) return NULL;
  key.name = (char *)name;
  return bsearch(&key, c->acc, c->n_acc, sizeof *c->acc, cmp_account);
}

static fm_status open_source(ctx *c, source *s, fm_reader **r, fm_error *err) {
  fm_reader_opts o = FM_READER_OPTS_INIT;
  o.map = s->maps;
  o.n_map = s->n_maps;
  o.date_order = c->date_order;
  o.source = s->name;
  if (s->spool) {
    rewind(s->spool);
    o.name = "<stdin>";
    return fm_reader_open_file(s->spool, "<stdin>", &o, r, err);
  }
  return fm_reader_open(s->path, &o, r, err);
}

/* Reads the first line of a CSV file to find its account column, so the
 * account table can be read with the export reader (which wants a text
 * column). */
static char *account_column(const char *path) {
  static const char *const names[] = {"account", "accountname", "accountid",
                                      "company", "customer", "organization",
                                      "organisation", "name", NULL};
  FILE *f = fopen(path, "rb");
  char line[8192], *p, *best = NULL;
  int best_rank = 100;
  char delim = ',';
  if (!f) return NULL;
  if (!fgets(line, sizeof line, f)) {
    fclose(f);
    return NULL;
  }
  fclose(f);
  p = line;
  if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
      (unsigned char)p[2] == 0xBF)
    p += 3;
  if (strchr(p, '\t') && !strchr(p, ',')) delim = '\t';
  else if (strchr(p, ';') && !strchr(p, ',')) delim = ';';
  while (*p && *p != '\n' && *p != '\r') {
    char cell[256], norm[256];
    size_t n = 0, k = 0, i;
    int q = *p == '"';
    if (q) p++;
    while (*p && (q ? !(*p == '"' && p[1] != '"') : (*p != delim && *p != '\n' && *p != '\r'))) {
      if (q && *p == '"') p++;
      if (n < sizeof cell - 1) cell[n++] = *p;
      p++;
    }
    if (q && *p == '"') p++;
    cell[n] = 0;
    for (i = 0; i < n; i++) {
      char ch = cell[i];
      if (ch == ' ' || ch == '_' || ch == '-') continue;
      norm[k++] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    }
    norm[k] = 0;
    for (i = 0; names[i]; i++)
      if (!strcmp(norm, names[i]) && (int)i < best_rank) {
        free(best);
        best = xstrdup(cell);
        best_rank = (int)i;
      }
    if (*p == delim) p++;
    else break;
  }
  return best;
}

static void load_accounts(ctx *c, const char *path) {
  char *col = account_column(path);
  char map_text[300], map_acc[300];
  const char *maps[2];
  fm_reader_opts o = FM_READER_OPTS_INIT;
  fm_reader *r = NULL;
  fm_error err;
  size_t cap = 0, i, j;
  if (!col)
    cli_die(EXIT_IO, "%s: no account column (account, company, customer, "
            "organization or name) in the header", path);
  snprintf(map_text, sizeof map_text, "text=%s", col);
  snprintf(map_acc, sizeof map_acc, "account=%s", col);
  maps[0] = map_text;
  maps[1] = map_acc;
  o.map = maps;
  o.n_map = 2;
  o.format = FM_FORMAT_CSV;
  if (fm_reader_open(path, &o, &r, &err) != FM_OK)
    cli_die_err(cli_exit_for(err.code), path, &err);
  for (;;) {
    const fm_record *rec;
    fm_status st = fm_reader_next(r, &rec, &err);
    if (st == FM_EEOF) break;
    if (st == FM_EPARSE) {
      cli_warn("%s:%llu: %s (row skipped)", path,
               (unsigned long long)err.line, err.msg);
      continue;
    }
    if (st != FM_OK) cli_die_err(cli_exit_for(st), path, &err);
    if (!rec->account[0]) continue;
    if (c->n_acc == cap) {
      cap = cap ? cap * 2 : 256;
      c->acc = xrealloc(c->acc, cap * sizeof *c->acc);
    }
    c->acc[c->n_acc].name = xstrdup(rec->account);
    c->acc[c->n_acc].revenue = rec->revenue;
    c->acc[c->n_acc].has_revenue = rec->has_revenue;
    c->n_acc++;
  }
  fm_reader_free(r);
  free(col);
  qsort(c->acc, c->n_acc, sizeof *c->acc, cmp_account);
  /* a name listed twice keeps its first row */
  for (i = j = 0; i < c->n_acc; i++) {
    if (j && !strcmp(c->acc[j - 1].name, c->acc[i].name)) {
      free(c->acc[i].name);
      continue;
    }
    c->acc[j++] = c->acc[i];
  }
  c->n_acc = j;
}

/* ---- rejects ------------------------------------------------------------- */

static void json_str(FILE *f, const char *s, size_t n) {
  size_t i;
  fputc('"', f);
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
    else if (ch == '\n') fputs("\\n", f);
    else if (ch == '\r') fputs("\\r", f);
    else if (ch == '\t') fputs("\\t", f);
    else if (ch < 0x20 || ch == 0x7F) fprintf(f, "\\u%04x", ch);
    else fputc(ch, f);
  }
  fputc('"', f);
}

/* Whether s[0..n) is valid UTF-8 (the rejects file must be). */
static int utf8_ok(const char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char b = (unsigned char)s[i];
    size_t k, len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3
                    : (b >> 3) == 30 ? 4 : 0;
    if (!len || i + len > n) return 0;
    if (len == 2 && b < 0xC2) return 0;
    for (k = 1; k < len; k++)
      if (((unsigned char)s[i + k] & 0xC0) != 0x80) return 0;
    if (len == 3 && b == 0xE0 && (unsigned char)s[i + 1] < 0xA0) return 0;
    if (len == 3 && b == 0xED && (unsigned char)s[i + 1] > 0x9F) return 0;
    if (len == 4 && b == 0xF0 && (unsigned char)s[i + 1] < 0x90) return 0;
    if (len == 4 && (b > 0xF4 || (b == 0xF4 && (unsigned char)s[i + 1] > 0x8F)))
      return 0;
    i += len;
  }
  return 1;
}

static void reject(ctx *c, const source *s, uint64_t line, const char *reason,
                   const char *raw, size_t raw_len, int truncated) {
  const char *name = s->spool ? "<stdin>" : s->path;
  c->rejected++;
  if (c->rejects) {
    fputs("{\"file\":", c->rejects);
    json_str(c->rejects, name, strlen(name));
    fprintf(c->rejects, ",\"line\":%llu,\"reason\":", (unsigned long long)line);
    json_str(c->rejects, reason, strlen(reason));
    fputs(",\"raw\":", c->rejects);
    if (utf8_ok(raw, raw_len)) {
      json_str(c->rejects, raw, raw_len);
    } else {
      static const char b64[] =
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      size_t i;
      fputs("\"\",\"raw_base64\":\"", c->rejects);
      for (i = 0; i < raw_len; i += 3) {
        unsigned v = (unsigned char)raw[i] << 16;
        if (i + 1 < raw_len) v |= (unsigned char)raw[i + 1] << 8;
        if (i + 2 < raw_len) v |= (unsigned char)raw[i + 2];
        fputc(b64[v >> 18 & 63], c->rejects);
        fputc(b64[v >> 12 & 63], c->rejects);
        fputc(i + 1 < raw_len ? b64[v >> 6 & 63] : '=', c->rejects);
        fputc(i + 2 < raw_len ? b64[v & 63] : '=', c->rejects);
      }
      fputc('"', c->rejects);
    }
    if (truncated) fputs(",\"truncated\":true", c->rejects);
    fputs("}\n", c->rejects);
  } else if (!c->quiet && c->shown++ < STDERR_REJECTS) {
    cli_warn("%s:%llu: %s (row rejected)", name, (unsigned long long)line,
             reason);
  }
}

/* ---- heads --------------------------------------------------------------- */

static void heads_from_model(ctx *c) {
  size_t h, l, n = fm_model_head_count(c->model);
  c->hs.n = n;
  c->hs.names = xcalloc(n, sizeof *c->hs.names);
  c->hs.labels = xcalloc(n, sizeof *c->hs.labels);
  c->hs.n_labels = xcalloc(n, sizeof *c->hs.n_labels);
  for (h = 0; h < n; h++) {
    size_t nl = fm_model_label_count(c->model, h);
    c->hs.names[h] = xstrdup(fm_model_head_name(c->model, h));
    c->hs.labels[h] = xcalloc(nl ? nl : 1, sizeof **c->hs.labels);
    c->hs.n_labels[h] = nl;
    for (l = 0; l < nl; l++)
      c->hs.labels[h][l] = xstrdup(fm_model_label_name(c->model, h, l));
  }
}

static long head_of(const headset *hs, const char *name, size_t len) {
  size_t h;
  for (h = 0; h < hs->n; h++)
    if (strlen(hs->names[h]) == len && !strncmp(hs->names[h], name, len))
      return (long)h;
  return -1;
}

/* Learns heads and labels from a tagged record's fm_HEAD fields (no
 * model): every fm_X field with an fm_X_prob companion is a head. */
static void heads_learn(ctx *c, const fm_record *rec) {
  size_t i, n = fm_record_field_count(rec);
  for (i = 0; i < n; i++) {
    fm_field f;
    char prob[300];
    size_t len;
    long h;
    size_t l;
    if (!fm_record_field_at(rec, i, &f) || strncmp(f.name, "fm_", 3)) continue;
    len = strlen(f.name + 3);
    if (!len || len > 200) continue;
    snprintf(prob, sizeof prob, "%s_prob", f.name);
    if (!fm_record_field(rec, prob, NULL)) continue;
    h = head_of(&c->hs, f.name + 3, len);
    if (h < 0) {
      c->hs.names = xrealloc(c->hs.names, (c->hs.n + 1) * sizeof *c->hs.names);
      c->hs.labels =
          xrealloc(c->hs.labels, (c->hs.n + 1) * sizeof *c->hs.labels);
      c->hs.n_labels =
          xrealloc(c->hs.n_labels, (c->hs.n + 1) * sizeof *c->hs.n_labels);
      h = (long)c->hs.n++;
      c->hs.names[h] = xstrdup(f.name + 3);
      c->hs.labels[h] = NULL;
      c->hs.n_labels[h] = 0;
    }
    if (!f.value[0] || f.is_json || f.len > 64) continue;
    for (l = 0; l < c->hs.n_labels[h]; l++)
      if (!strcmp(c->hs.labels[h][l], f.value)) break;
    if (l < c->hs.n_labels[h]) continue;
    c->hs.labels[h] = xrealloc(c->hs.labels[h],
                               (c->hs.n_labels[h] + 1) * sizeof **c->hs.labels);
    c->hs.labels[h][c->hs.n_labels[h]++] = xstrdup(f.value);
  }
}

static int cmp_str(const void *x, const void *y) {
  return strcmp(*(char *const *)x, *(char *const *)y);
}

static int is_tagged(const fm_record *rec) {
  return fm_record_field(rec, "fm_redacted", NULL) != NULL;
}

/* "FILE: message" unless the message already names the file. */
static void warn_source(const source *s, const fm_error *err,
                        const char *what) {
  const char *name = s->spool ? "<stdin>" : s->path;
  if (strstr(err->msg, name))
    cli_warn("%s (source '%s' %s)", err->msg, s->name, what);
  else
    cli_warn("%s: %s (source '%s' %s)", name, err->msg, s->name, what);
}

/* Opens a source for a pass: NULL when an earlier pass gave it up or it
 * cannot be opened now (said once, and given up). */
static fm_reader *open_for_pass(ctx *c, source *s) {
  fm_reader *r = NULL;
  fm_error err;
  if (s->failed) return NULL;
  if (open_source(c, s, &r, &err) != FM_OK) {
    warn_source(s, &err, "skipped");
    s->failed = 1;
    return NULL;
  }
  return r;
}

/* ---- pass 1: dates (and, without a model, heads) -------------------------- */

static void scan(ctx *c, int want_heads) {
  size_t k;
  for (k = 0; k < c->n_src; k++) {
    source *s = &c->src[k];
    fm_reader *r = open_for_pass(c, s);
    fm_error err;
    if (!r) continue;
    for (;;) {
      const fm_record *rec;
      fm_status st = fm_reader_next(r, &rec, &err);
      if (st == FM_EEOF) break;
      if (st == FM_EPARSE) continue;
      if (st != FM_OK) {
        warn_source(s, &err, "skipped");
        s->failed = 1;
        break;
      }
      if (s->tagged < 0) s->tagged = is_tagged(rec);
      if (rec->has_date && (!c->any_date || rec->date > c->last_date)) {
        c->last_date = rec->date;
        c->any_date = 1;
      }
      if (want_heads && s->tagged) heads_learn(c, rec);
    }
    fm_reader_free(r);
  }
  if (want_heads) {
    size_t h, k2 = 0;
    for (h = 0; h < c->hs.n; h++) {
      /* a head whose column is always empty (churn_reason in a tagged
       * ticket export) has no labels: leave it out */
      if (!c->hs.n_labels[h]) {
        free(c->hs.names[h]);
        free(c->hs.labels[h]);
        continue;
      }
      qsort(c->hs.labels[h], c->hs.n_labels[h], sizeof **c->hs.labels,
            cmp_str);
      c->hs.names[k2] = c->hs.names[h];
      c->hs.labels[k2] = c->hs.labels[h];
      c->hs.n_labels[k2] = c->hs.n_labels[h];
      k2++;
    }
    c->hs.n = k2;
  }
}

/* ---- pass 2 ---------------------------------------------------------- */

static int in_periods(const ctx *c, int64_t t) {
  return (t >= c->since && t < c->until) ||
         (c->compare && t >= c->prev_since && t < c->since);
}

/* ---- pass 2: tag and aggregate on N threads --------------------------------
 * The main thread reads, checks and rejects rows in input order (so the
 * rejects are the same for any N) and queues the rest in batches; N
 * workers, each with its own tagger and its own aggregate, tag and add
 * them. The workers' aggregates are merged at the end: merging is exact
 * and order-free, so the report is byte for byte the same for any N. */

#define BATCH_ROWS 256
#define BATCH_BYTES ((size_t)1 << 20)

typedef struct jtag {
  size_t head, label; /* label: offset into the batch's bytes */
  double prob;
  int review;
} jtag;

typedef struct job {
  unsigned src;
  int tagged;
  int64_t date;
  double score, revenue;
  int has_score, has_revenue;
  size_t text, text_len, id, account, lang; /* offsets, NUL-terminated */
  size_t tag_first, n_tags;
} job;

typedef struct batch {
  job *jobs;
  size_t n, cap;
  jtag *tags;
  size_t nt, capt;
  char *data;
  size_t len, dcap;
} batch;

typedef struct pool {
  pthread_mutex_t mu;
  pthread_cond_t cv_work, cv_free;
  batch *ring;
  batch **todo, **free_;  /* stacks of batch pointers */
  size_t n_todo, n_free, k;
  int done;               /* no more batches will come */
  int failed;             /* a worker hit an unexpected error */
  int fail_status;
  char fail_msg[400];
} pool;

typedef struct worker {
  ctx *c;
  pool *p;
  fm_tagger *tagger;
  fm_agg *agg;
  uint64_t tagged, used, review;
  pthread_t th;
} worker;

static size_t put_bytes(batch *b, const char *s, size_t n) {
  size_t off = b->len;
  if (b->len + n + 1 > b->dcap) {
    b->dcap = b->dcap ? b->dcap : 65536;
    while (b->len + n + 1 > b->dcap) b->dcap *= 2;
    b->data = xrealloc(b->data, b->dcap);
  }
  if (n) memcpy(b->data + b->len, s, n);
  b->data[b->len + n] = 0;
  b->len += n + 1;
  return off;
}

static size_t put_str(batch *b, const char *s) {
  return put_bytes(b, s ? s : "", s ? strlen(s) : 0);
}

static void worker_fail(worker *w, int status, const char *what,
                        const char *msg) {
  pthread_mutex_lock(&w->p->mu);
  if (!w->p->failed) {
    w->p->failed = 1;
    w->p->fail_status = status;
    snprintf(w->p->fail_msg, sizeof w->p->fail_msg, "%s: %s", what, msg);
  }
  pthread_cond_broadcast(&w->p->cv_free);
  pthread_cond_broadcast(&w->p->cv_work);
  pthread_mutex_unlock(&w->p->mu);
}

/* Tags (or takes the tags of) and adds one batch. Returns 0, or -1 after
 * recording a fatal error. */
static int work_batch(worker *w, batch *b) {
  ctx *c = w->c;
  fm_agg_tag tags[64];
  size_t i, h;
  for (i = 0; i < b->n; i++) {
    const job *j = &b->jobs[i];
    const source *s = &c->src[j->src];
    fm_agg_item it = FM_AGG_ITEM_INIT;
    fm_error err;
    fm_status st;
    it.source = s->name;
    it.id = b->data + j->id;
    it.date = j->date;
    it.has_date = 1;
    it.account = b->data + j->account;
    it.revenue = j->revenue;
    it.has_revenue = j->has_revenue;
    it.score = j->score;
    it.has_score = j->has_score;
    it.lang = b->data[j->lang] ? b->data + j->lang : NULL;
    if (j->tagged) {
      const fm_analysis *an = NULL;
      size_t n = j->n_tags < 64 ? j->n_tags : 64;
      for (h = 0; h < n; h++) {
        const jtag *t = &b->tags[j->tag_first + h];
        tags[h].head = c->hs.names[t->head];
        tags[h].label = b->data + t->label;
        tags[h].prob = t->prob;
        tags[h].needs_review = t->review;
      }
      it.tags = tags;
      it.n_tags = n;
      it.text = b->data + j->text;
      it.text_len = j->text_len;
      /* tokens of the redacted text for the keyphrases: analysis only */
      st = fm_tagger_analyze(w->tagger, it.text, it.text_len, it.lang, &an,
                             &err);
      if (st == FM_OK) {
        it.tokens = an->tokens;
        it.n_tokens = an->n_tokens;
        if (!it.lang) it.lang = an->lang;
      } else if (st != FM_ETOOBIG && st != FM_EUNICODE) {
        worker_fail(w, cli_exit_for(st), "analysis failed", err.msg);
        return -1;
      }
      w->used++;
    } else {
      const fm_result *res;
      fm_tag_opts to = FM_TAG_OPTS_INIT;
      to.source = s->name;
      st = fm_tagger_tag(w->tagger, b->data + j->text, j->text_len, it.lang,
                         &to, &res, &err);
      if (st != FM_OK) {
        worker_fail(w, cli_exit_for(st), "tagging failed", err.msg);
        return -1;
      }
      fm_agg_item_from_result(&it, res, tags);
      w->tagged++;
    }
    for (h = 0; h < it.n_tags; h++)
      if (it.tags[h].needs_review) {
        w->review++;
        break;
      }
    st = fm_agg_add(w->agg, &it, &err);
    if (st != FM_OK) {
      worker_fail(w, cli_exit_for(st), "aggregate", err.msg);
      return -1;
    }
  }
  return 0;
}

static void *worker_main(void *arg) {
  worker *w = arg;
  pool *p = w->p;
  for (;;) {
    batch *b;
    pthread_mutex_lock(&p->mu);
    while (!p->n_todo && !p->done && !p->failed)
      pthread_cond_wait(&p->cv_work, &p->mu);
    if (p->failed || (!p->n_todo && p->done)) {
      pthread_mutex_unlock(&p->mu);
      return NULL;
    }
    b = p->todo[--p->n_todo];
    pthread_mutex_unlock(&p->mu);
    if (work_batch(w, b) != 0) return NULL;
    b->n = b->nt = b->len = 0;
    pthread_mutex_lock(&p->mu);
    p->free_[p->n_free++] = b;
    pthread_cond_signal(&p->cv_free);
    pthread_mutex_unlock(&p->mu);
  }
}

static batch *get_free(pool *p) {
  batch *b = NULL;
  pthread_mutex_lock(&p->mu);
  while (!p->n_free && !p->failed) pthread_cond_wait(&p->cv_free, &p->mu);
  if (!p->failed) b = p->free_[--p->n_free];
  pthread_mutex_unlock(&p->mu);
  return b;
}

static void submit(pool *p, batch *b) {
  pthread_mutex_lock(&p->mu);
  p->todo[p->n_todo++] = b;
  pthread_cond_signal(&p->cv_work);
  pthread_mutex_unlock(&p->mu);
}

static long label_of(const headset *hs, size_t h, const char *label) {
  size_t l;
  for (l = 0; l < hs->n_labels[h]; l++)
    if (!strcmp(hs->labels[h][l], label)) return (long)l;
  return -1;
}

/* Checks one record and queues it (1), counts it without tagging (0), or
 * rejects it (-1). Runs on the reading thread, in input order. */
static int prepare(ctx *c, size_t k, const fm_record *rec, batch *b,
                   size_t max_doc) {
  source *s = &c->src[k];
  const account *ac = find_account(c, rec->account);
  const char *raw;
  size_t raw_len, h, n_tags = 0;
  int trunc;
  char why[400];
  job *j;
  double revenue = rec->revenue;
  int has_revenue = rec->has_revenue;
  const char *text = rec->text, *lang = rec->lang;
  size_t text_len = rec->text_len;
  fm_error err;
  fm_status st;
  if (!has_revenue && ac && ac->has_revenue) {
    revenue = ac->revenue;
    has_revenue = 1;
  }
  why[0] = 0;
  if (rec->has_score && (rec->score < 0 || rec->score > 10))
    snprintf(why, sizeof why, "NPS score is not between 0 and 10");
  else if (has_revenue && (revenue < 0 || revenue > 1e15))
    snprintf(why, sizeof why, "revenue is negative or too large");
  if (!why[0] && (!rec->has_date || !in_periods(c, rec->date))) {
    /* counted by the aggregate, not worth tagging */
    fm_agg_item it = FM_AGG_ITEM_INIT;
    it.source = s->name;
    it.date = rec->date;
    it.has_date = rec->has_date;
    c->skipped++;
    st = fm_agg_add(c->agg, &it, &err);
    if (st != FM_OK) die_clean(cli_exit_for(st), "aggregate: %s", err.msg);
    return 0;
  }
  if (!why[0] && s->tagged) {
    const char *red = fm_record_field(rec, "fm_redacted", NULL);
    const char *fl = fm_record_field(rec, "fm_lang", NULL);
    if (red) {
      text = red;
      text_len = strlen(red);
    }
    if (fl && fl[0]) lang = fl;
    for (h = 0; h < c->hs.n && !why[0]; h++) {
      char key[300];
      const char *label, *prob, *rev;
      double p;
      snprintf(key, sizeof key, "fm_%s", c->hs.names[h]);
      label = fm_record_field(rec, key, NULL);
      if (!label || !label[0]) continue;
      snprintf(key, sizeof key, "fm_%s_prob", c->hs.names[h]);
      prob = fm_record_field(rec, key, NULL);
      snprintf(key, sizeof key, "fm_%s_review", c->hs.names[h]);
      rev = fm_record_field(rec, key, NULL);
      if (!parse_double(prob, &p) || p < 0 || p > 1) {
        snprintf(why, sizeof why, "fm_%s_prob is not a probability",
                 c->hs.names[h]);
      } else if (label_of(&c->hs, h, label) < 0) {
        snprintf(why, sizeof why, "head '%s' has no label '%.64s'",
                 c->hs.names[h], label);
      } else {
        jtag *t;
        if (b->nt == b->capt) {
          b->capt = b->capt ? b->capt * 2 : 1024;
          b->tags = xrealloc(b->tags, b->capt * sizeof *b->tags);
        }
        t = &b->tags[b->nt + n_tags];
        t->head = h;
        t->label = put_str(b, label);
        t->prob = p;
        t->review = rev && (!strcmp(rev, "true") || !strcmp(rev, "1"));
        n_tags++;
        if (b->nt + n_tags == b->capt) {
          b->capt *= 2;
          b->tags = xrealloc(b->tags, b->capt * sizeof *b->tags);
        }
      }
    }
  }
  if (!why[0] && text_len > max_doc)
    snprintf(why, sizeof why, "text over the document size cap (%zu bytes)",
             max_doc);
  if (why[0]) {
    raw = fm_reader_raw(rec->reader, &raw_len, &trunc);
    reject(c, s, rec->line, why, raw, raw_len, trunc);
    return -1;
  }
  if (b->n == b->cap) {
    b->cap = b->cap ? b->cap * 2 : BATCH_ROWS;
    b->jobs = xrealloc(b->jobs, b->cap * sizeof *b->jobs);
  }
  j = &b->jobs[b->n++];
  memset(j, 0, sizeof *j);
  j->src = (unsigned)k;
  j->tagged = s->tagged == 1;
  j->date = rec->date;
  j->score = rec->score;
  j->has_score = rec->has_score;
  j->revenue = revenue;
  j->has_revenue = has_revenue;
  j->text = put_bytes(b, text, text_len);
  j->text_len = text_len;
  j->id = put_str(b, rec->id);
  j->account = put_str(b, rec->account);
  j->lang = put_str(b, lang);
  j->tag_first = b->nt;
  j->n_tags = n_tags;
  b->nt += n_tags;
  return 1;
}

static void aggregate(ctx *c, int jobs) {
  pool p;
  worker *ws = xcalloc((size_t)jobs, sizeof *ws);
  size_t k, i, max_doc = FM_MAX_DOC_BYTES_DEFAULT;
  batch *b;
  memset(&p, 0, sizeof p);
  pthread_mutex_init(&p.mu, NULL);
  pthread_cond_init(&p.cv_work, NULL);
  pthread_cond_init(&p.cv_free, NULL);
  p.k = 2 * (size_t)jobs + 2;
  p.ring = xcalloc(p.k, sizeof *p.ring);
  p.todo = xcalloc(p.k, sizeof *p.todo);
  p.free_ = xcalloc(p.k, sizeof *p.free_);
  for (i = 0; i < p.k; i++) p.free_[p.n_free++] = &p.ring[i];
  if (c->model) {
    fm_pipeline_opts po;
    fm_model_pipeline_opts(c->model, &po);
    if (po.max_doc_bytes) max_doc = po.max_doc_bytes;
  }
  for (i = 0; i < (size_t)jobs; i++) {
    fm_error err;
    ws[i].c = c;
    ws[i].p = &p;
    if (fm_tagger_new(c->model, NULL, &ws[i].tagger, &err) != FM_OK)
      die_clean(cli_exit_for(err.code), "tagger: %s", err.msg);
    if (fm_agg_new(&c->agg_opts, &ws[i].agg, &err) != FM_OK)
      die_clean(cli_exit_for(err.code), "aggregate: %s", err.msg);
    if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) != 0)
      die_clean(EXIT_IO, "cannot start a thread");
  }
  b = get_free(&p);
  for (k = 0; k < c->n_src && b; k++) {
    source *s = &c->src[k];
    fm_reader *r = open_for_pass(c, s);
    fm_error err;
    if (!r) continue;
    for (;;) {
      const fm_record *rec;
      fm_status st = fm_reader_next(r, &rec, &err);
      if (st == FM_EEOF) break;
      c->read++;
      if (st == FM_EPARSE) {
        size_t len;
        int trunc;
        const char *raw = fm_reader_raw(r, &len, &trunc);
        reject(c, s, err.line, err.msg, raw, len, trunc);
        continue;
      }
      if (st != FM_OK) {
        c->read--;
        warn_source(s, &err, "stopped");
        s->failed = 1;
        break;
      }
      if (s->tagged < 0) s->tagged = is_tagged(rec);
      if (!s->tagged && !c->model) {
        cli_warn("%s: not output of 'feedmine tag' and no model given "
                 "(source '%s' skipped; use -m MODEL)", s->path, s->name);
        s->failed = 1;
        c->read--;
        break;
      }
      prepare(c, k, rec, b, max_doc);
      if (b->n >= BATCH_ROWS || b->len >= BATCH_BYTES) {
        submit(&p, b);
        if (!(b = get_free(&p))) break;
      }
    }
    fm_reader_free(r);
  }
  if (b && b->n) submit(&p, b);
  pthread_mutex_lock(&p.mu);
  p.done = 1;
  pthread_cond_broadcast(&p.cv_work);
  pthread_mutex_unlock(&p.mu);
  for (i = 0; i < (size_t)jobs; i++) pthread_join(ws[i].th, NULL);
  if (p.failed) die_clean(p.fail_status, "%s", p.fail_msg);
  for (i = 0; i < (size_t)jobs; i++) {
    fm_error err;
    if (fm_agg_merge(c->agg, ws[i].agg, &err) != FM_OK)
      die_clean(cli_exit_for(err.code), "aggregate: %s", err.msg);
    c->tagged_rows += ws[i].tagged;
    c->used_tags += ws[i].used;
    c->review += ws[i].review;
    fm_agg_free(ws[i].agg);
    fm_tagger_free(ws[i].tagger);
  }
  for (i = 0; i < p.k; i++) {
    free(p.ring[i].jobs);
    free(p.ring[i].tags);
    free(p.ring[i].data);
  }
  free(p.ring);
  free(p.todo);
  free(p.free_);
  free(ws);
  pthread_mutex_destroy(&p.mu);
  pthread_cond_destroy(&p.cv_work);
  pthread_cond_destroy(&p.cv_free);
}

/* ---- options -------------------------------------------------------------- */

static fm_report_format format_of(const char *name, int *ok) {
  *ok = 1;
  if (!strcasecmp(name, "md") || !strcasecmp(name, "markdown"))
    return FM_REPORT_MARKDOWN;
  if (!strcasecmp(name, "html") || !strcasecmp(name, "htm"))
    return FM_REPORT_HTML;
  if (!strcasecmp(name, "json")) return FM_REPORT_JSON;
  if (!strcasecmp(name, "csv")) return FM_REPORT_CSV;
  *ok = 0;
  return FM_REPORT_MARKDOWN;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *d = NULL;
  size_t cap = 0, n = 0;
  if (!f) cli_die(EXIT_IO, "%s: cannot open: %s", path, strerror(errno));
  for (;;) {
    size_t got;
    if (cap - n < 65536) {
      cap = cap ? cap * 2 : 1 << 20;
      d = xrealloc(d, cap);
    }
    got = fread(d + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  if (ferror(f)) cli_die(EXIT_IO, "%s: read error", path);
  fclose(f);
  *len = n;
  return d;
}

static void free_heads(headset *hs) {
  size_t h, l;
  for (h = 0; h < hs->n; h++) {
    for (l = 0; l < hs->n_labels[h]; l++) free(hs->labels[h][l]);
    free(hs->labels[h]);
    free(hs->names[h]);
  }
  free(hs->labels);
  free(hs->names);
  free(hs->n_labels);
  memset(hs, 0, sizeof *hs);
}

enum {
  O_SOURCE = 1000, O_MAP, O_DATEFMT, O_ACCOUNTS, O_AGG, O_PERIOD, O_SINCE,
  O_UNTIL, O_COMPARE, O_FORMAT, O_TITLE, O_WEIGHT, O_SAVEAGG, O_REJECTS
};

int cmd_report(int argc, char **argv) {
  static const struct option longopts[] = {
      {"model", required_argument, NULL, 'm'},
      {"source", required_argument, NULL, O_SOURCE},
      {"map", required_argument, NULL, O_MAP},
      {"date-format", required_argument, NULL, O_DATEFMT},
      {"accounts", required_argument, NULL, O_ACCOUNTS},
      {"agg", required_argument, NULL, O_AGG},
      {"period", required_argument, NULL, O_PERIOD},
      {"since", required_argument, NULL, O_SINCE},
      {"until", required_argument, NULL, O_UNTIL},
      {"compare", required_argument, NULL, O_COMPARE},
      {"output", required_argument, NULL, 'o'},
      {"format", required_argument, NULL, O_FORMAT},
      {"title", required_argument, NULL, O_TITLE},
      {"weight", required_argument, NULL, O_WEIGHT},
      {"save-agg", required_argument, NULL, O_SAVEAGG},
      {"rejects", required_argument, NULL, O_REJECTS},
      {"jobs", required_argument, NULL, 'j'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  ctx C;
  const char *model_path = NULL, *accounts_path = NULL, *period = NULL;
  const char *since_s = NULL, *until_s = NULL, *title = NULL;
  const char *save_agg = NULL, *format_s = NULL;
  const char *outs[MAX_OUT], *aggs[MAX_AGG];
  const char *gmaps[MAX_MAP];
  size_t n_outs = 0, n_aggs = 0, n_gmaps = 0, i, k;
  struct {
    char *src;
    const char *map;
  } smaps[MAX_MAP];
  size_t n_smaps = 0;
  fm_agg_opts ao = FM_AGG_OPTS_INIT;
  fm_agg_head *heads = NULL;
  fm_agg *first = NULL;
  fm_error err;
  int c, compare = 1, compare_given = 0, sources_failed = 0, jobs = 1;
  char d1[11], d2[11], d3[11], d4[11];

  memset(&C, 0, sizeof C);
  optind = 1;
  while ((c = getopt_long(argc, argv, "m:o:j:qh", longopts, NULL)) != -1) {
    switch (c) {
    case 'm': model_path = optarg; break;
    case O_SOURCE: {
      char *eq = strchr(optarg, '=');
      if (!eq || eq == optarg || !eq[1])
        cli_usage_error("report", "--source wants NAME=FILE, got '%s'",
                        optarg);
      if (C.n_src == MAX_SRC)
        cli_usage_error("report", "at most %d sources", MAX_SRC);
      C.src[C.n_src].name = xcalloc(1, (size_t)(eq - optarg) + 1);
      memcpy(C.src[C.n_src].name, optarg, (size_t)(eq - optarg));
      C.src[C.n_src].path = xstrdup(eq + 1);
      C.src[C.n_src].tagged = -1;
      C.n_src++;
      break;
    }
    case O_MAP: {
      char *colon = strchr(optarg, ':'), *eq = strchr(optarg, '=');
      if (!eq) cli_usage_error("report", "--map wants [SOURCE:]FIELD=COLUMN, "
                               "got '%s'", optarg);
      if (colon && colon < eq) {
        if (n_smaps == MAX_MAP) cli_usage_error("report", "too many --map");
        smaps[n_smaps].src = xcalloc(1, (size_t)(colon - optarg) + 1);
        memcpy(smaps[n_smaps].src, optarg, (size_t)(colon - optarg));
        smaps[n_smaps].map = colon + 1;
        n_smaps++;
      } else {
        if (n_gmaps == MAX_MAP) cli_usage_error("report", "too many --map");
        gmaps[n_gmaps++] = optarg;
      }
      break;
    }
    case O_DATEFMT:
      if (!strcmp(optarg, "mdy")) C.date_order = FM_DATE_MDY;
      else if (!strcmp(optarg, "dmy")) C.date_order = FM_DATE_DMY;
      else cli_usage_error("report", "--date-format is mdy or dmy");
      break;
    case O_ACCOUNTS: accounts_path = optarg; break;
    case O_AGG:
      if (n_aggs == MAX_AGG) cli_usage_error("report", "too many --agg");
      aggs[n_aggs++] = optarg;
      break;
    case O_PERIOD: period = optarg; break;
    case O_SINCE: since_s = optarg; break;
    case O_UNTIL: until_s = optarg; break;
    case O_COMPARE:
      compare_given = 1;
      if (!strcmp(optarg, "previous")) compare = 1;
      else if (!strcmp(optarg, "none")) compare = 0;
      else cli_usage_error("report", "--compare is previous or none");
      break;
    case 'o':
      if (n_outs == MAX_OUT)
        cli_usage_error("report", "at most %d outputs", MAX_OUT);
      outs[n_outs++] = optarg;
      break;
    case O_FORMAT: {
      int ok;
      format_of(optarg, &ok);
      if (!ok) cli_usage_error("report", "--format is md, html, json or csv");
      format_s = optarg;
      break;
    }
    case O_TITLE: title = optarg; break;
    case O_WEIGHT: {
      char *eq = strchr(optarg, '=');
      double w;
      if (!eq || !parse_double(eq + 1, &w) || w < 0 || w > 1000)
        cli_usage_error("report", "--weight wants SOURCE=W with 0 <= W <= "
                        "1000, got '%s'", optarg);
      *eq = 0;
      if (!strcmp(optarg, "ticket")) ao.weight_ticket = w;
      else if (!strcmp(optarg, "nps")) ao.weight_nps = w;
      else if (!strcmp(optarg, "nps_detractor")) ao.weight_nps_detractor = w;
      else if (!strcmp(optarg, "churn")) ao.weight_churn = w;
      else if (!strcmp(optarg, "lost_deal")) ao.weight_lost_deal = w;
      else if (!strcmp(optarg, "other")) ao.weight_other = w;
      else cli_usage_error("report", "--weight: unknown source '%s' (ticket, "
                           "nps, nps_detractor, churn, lost_deal, other)",
                           optarg);
      *eq = '=';
      break;
    }
    case O_SAVEAGG: save_agg = optarg; break;
    case O_REJECTS: C.rejects_path = optarg; break;
    case 'j': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || v < 1 || v > 256)
        cli_usage_error("report", "-j wants 1 to 256 threads, got '%s'",
                        optarg);
      jobs = (int)v;
      break;
    }
    case 'q': C.quiet = 1; break;
    case 'h': help(stdout); return EXIT_ALL_OK;
    default:
      fprintf(stderr, "Try 'feedmine report --help'.\n");
      return EXIT_USAGE;
    }
  }
  if (optind < argc)
    cli_usage_error("report", "unexpected argument '%s' (inputs are given "
                    "with --source NAME=FILE)", argv[optind]);
  if (!C.n_src && !n_aggs)
    cli_usage_error("report", "no input: give --source NAME=FILE or --agg "
                    "FILE");
  for (i = 0; i < n_smaps; i++) {
    for (k = 0; k < C.n_src; k++)
      if (!strcmp(C.src[k].name, smaps[i].src)) break;
    if (k == C.n_src)
      cli_usage_error("report", "--map %s:%s names no --source %s",
                      smaps[i].src, smaps[i].map, smaps[i].src);
  }
  for (k = 0; k < C.n_src; k++) {
    source *s = &C.src[k];
    if (strcmp(s->name, "ticket") && strcmp(s->name, "nps") &&
        strcmp(s->name, "churn") && strcmp(s->name, "lost_deal") &&
        strcmp(s->name, "other") && !C.quiet)
      cli_warn("source '%s' is not ticket, nps, churn or lost_deal: its "
               "items count as 'other'", s->name);
    for (i = 0; i < n_gmaps; i++) s->maps[s->n_maps++] = gmaps[i];
    for (i = 0; i < n_smaps; i++)
      if (!strcmp(smaps[i].src, s->name) && s->n_maps < MAX_MAP)
        s->maps[s->n_maps++] = smaps[i].map;
  }
  for (i = 0; i < n_outs; i++) {
    const char *dot = strrchr(outs[i], '.');
    int ok = 0;
    if (!strcmp(outs[i], "-")) continue;
    if (dot && !strchr(dot, '/')) format_of(dot + 1, &ok);
    if (!ok && !format_s)
      cli_usage_error("report", "cannot tell the format of '%s' from its "
                      "extension (.md .html .json .csv): add --format",
                      outs[i]);
  }
  if (period && since_s && until_s)
    cli_usage_error("report", "--period with both --since and --until: "
                    "give at most two of them");

  cli_on_stop_signals(on_signal);

  /* Standard input is read twice: spool it. */
  for (k = 0; k < C.n_src; k++) {
    if (strcmp(C.src[k].path, "-")) continue;
    C.src[k].spool = tmpfile();
    if (!C.src[k].spool) cli_die(EXIT_IO, "cannot spool standard input: %s",
                                 strerror(errno));
    {
      char buf[65536];
      size_t n;
      while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        if (fwrite(buf, 1, n, C.src[k].spool) != n)
          cli_die(EXIT_IO, "cannot spool standard input: %s", strerror(errno));
      if (ferror(stdin)) cli_die(EXIT_IO, "standard input: read error");
    }
  }

  if (model_path) {
    C.model = cli_open_model(model_path);
    heads_from_model(&C);
  }
  if (accounts_path) load_accounts(&C, accounts_path);

  /* Aggregates to merge: the first sets the period unless one is given. */
  for (i = 0; i < n_aggs; i++) {
    size_t len;
    char *d = slurp(aggs[i], &len);
    fm_agg *a = NULL;
    if (fm_agg_deserialize(d, len, &a, &err) != FM_OK) {
      free(d);
      cli_die_err(EXIT_IO, aggs[i], &err);
    }
    free(d);
    if (!first) {
      first = a;
    } else {
      if (fm_agg_merge(first, a, &err) != FM_OK)
        cli_die_err(EXIT_IO, aggs[i], &err);
      fm_agg_free(a);
    }
  }

  /* The period. */
  {
    int64_t since = since_s ? parse_day(since_s) : 0;
    int64_t until = until_s ? parse_day(until_s) : 0;
    const char *spec = period ? period : "30d";
    int need_scan = !since_s && !until_s && !(first && !period);
    if (since_s && since < 0)
      cli_usage_error("report", "--since wants YYYY-MM-DD, got '%s'", since_s);
    if (until_s && until < 0)
      cli_usage_error("report", "--until wants YYYY-MM-DD, got '%s'", until_s);
    if (C.n_src && (need_scan || !C.model)) {
      size_t nf = 0;
      scan(&C, !C.model);
      for (k = 0; k < C.n_src; k++) nf += C.src[k].failed != 0;
      if (nf == C.n_src && !n_aggs) cli_die(EXIT_IO, "no source could be read");
    }
    if (since_s && until_s) {
      C.since = since;
      C.until = until + DAY;
    } else if (since_s || until_s) {
      int64_t s2, u2;
      if (fm_period_last(spec, until_s ? until : since, &s2, &u2, &err) != FM_OK)
        cli_usage_error("report", "%s", err.msg);
      if (until_s) {
        C.since = s2;
        C.until = u2;
      } else {
        C.since = since;
        C.until = since + (u2 - s2);
      }
    } else if (first && !period) {
      fm_agg_stats st;
      memset(&st, 0, sizeof st);
      st.size = sizeof st;
      fm_agg_stats_get(first, &st, NULL);
      C.since = st.since;
      C.until = st.until;
      if (!compare_given) compare = st.previous_since != st.since;
    } else {
      if (!C.any_date)
        cli_die(EXIT_IO, "no dated row in the inputs: give the period with "
                "--since and --until");
      if (fm_period_last(spec, C.last_date, &C.since, &C.until, &err) != FM_OK)
        cli_usage_error("report", "%s", err.msg);
    }
    if (C.until <= C.since)
      cli_usage_error("report", "--until is before --since");
    C.compare = compare;
    C.prev_since = compare ? C.since - (C.until - C.since) : C.since;
  }

  if (!C.model) {
    for (k = 0; k < C.n_src; k++)
      if (!C.src[k].failed && C.src[k].tagged == 0)
        cli_die(EXIT_USAGE, "%s is not output of 'feedmine tag': give the "
                "model with -m", C.src[k].path);
    if (!C.hs.n && !first)
      cli_die(EXIT_IO, "the inputs hold no tags (fm_* fields)");
  }

  /* The aggregate: from the heads, or the merged --agg ones. */
  if (first && !C.hs.n) {
    C.agg = first;
    first = NULL;
  } else {
    ao.since = C.since;
    ao.until = C.until;
    ao.compare = C.compare ? FM_COMPARE_PREVIOUS : FM_COMPARE_NONE;
    heads = xcalloc(C.hs.n ? C.hs.n : 1, sizeof *heads);
    for (i = 0; i < C.hs.n; i++) {
      heads[i].name = C.hs.names[i];
      heads[i].labels = (const char *const *)C.hs.labels[i];
      heads[i].n_labels = C.hs.n_labels[i];
    }
    ao.heads = heads;
    ao.n_heads = C.hs.n;
    C.agg_opts = ao;
    if (fm_agg_new(&ao, &C.agg, &err) != FM_OK)
      cli_die(cli_exit_for(err.code), "aggregate: %s", err.msg);
    if (first) {
      if (fm_agg_merge(C.agg, first, &err) != FM_OK)
        cli_die(EXIT_IO, "--agg: %s", err.msg);
      fm_agg_free(first);
      first = NULL;
    }
  }
  {
    fm_agg_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    fm_agg_stats_get(C.agg, &st, NULL);
    C.since = st.since;
    C.until = st.until;
    C.prev_since = st.previous_since;
    C.compare = st.previous_since != st.since;
  }

  if (C.n_src) {
    if (C.rejects_path) {
      C.rejects = tmpfile();
      if (!C.rejects) cli_die(EXIT_IO, "cannot create a temporary file: %s",
                              strerror(errno));
    }
    if (C.agg_opts.size) aggregate(&C, jobs);
  }
  for (k = 0; k < C.n_src; k++) sources_failed += C.src[k].failed;
  if (C.n_src && sources_failed == (int)C.n_src && !n_aggs)
    die_clean(EXIT_IO, "no source could be read");

  /* Outputs. */
  {
    fm_report_opts ro = FM_REPORT_OPTS_INIT;
    size_t slot = 0;
    int fok;
    fm_report_format deff = format_s ? format_of(format_s, &fok)
                                     : FM_REPORT_MARKDOWN;
    ro.title = title;
    /* With --save-agg and no -o, only the aggregate is written (a map
     * step of a scale-out run has no use for a report). */
    if (!n_outs && !save_agg) outs[n_outs++] = "-";
    for (i = 0; i < n_outs; i++) {
      const char *dot = strrchr(outs[i], '.');
      char *data = NULL;
      size_t len;
      int ok = 0;
      ro.format = deff;
      if (strcmp(outs[i], "-") && dot && !strchr(dot, '/')) {
        fm_report_format f = format_of(dot + 1, &ok);
        if (ok) ro.format = f;
      }
      if (fm_report_write_memory(C.agg, &ro, &data, &len, &err) != FM_OK)
        die_clean(cli_exit_for(err.code), "report: %s", err.msg);
      if (!strcmp(outs[i], "-")) {
        if ((len && fwrite(data, 1, len, stdout) != len) || fflush(stdout))
          die_clean(EXIT_IO, "standard output: write error: %s",
                    strerror(errno));
      } else {
        write_file(outs[i], data, len, slot++);
      }
      fm_free(data);
    }
    if (save_agg) {
      char *data = NULL;
      size_t len;
      if (fm_agg_serialize(C.agg, &data, &len, &err) != FM_OK)
        die_clean(cli_exit_for(err.code), "aggregate: %s", err.msg);
      write_file(save_agg, data, len, MAX_OUT);
      fm_free(data);
    }
    if (C.rejects) {
      /* copy the spooled rejects under their name */
      size_t len = 0, cap = 0;
      char *d = NULL;
      rewind(C.rejects);
      for (;;) {
        size_t got;
        if (cap - len < 65536) {
          cap = cap ? cap * 2 : 65536;
          d = xrealloc(d, cap);
        }
        got = fread(d + len, 1, cap - len, C.rejects);
        len += got;
        if (!got) break;
      }
      write_file(C.rejects_path, d, len, MAX_OUT + 1);
      free(d);
      fclose(C.rejects);
    }
  }

  if (!C.quiet) {
    fmt_day(C.since, d1);
    fmt_day(C.until - DAY, d2);
    fprintf(stderr, "%s report: %llu read, %llu tagged, %llu already tagged, "
            "%llu rejected, %llu need review, %llu outside the periods or "
            "undated\n", cli_prog, (unsigned long long)C.read,
            (unsigned long long)C.tagged_rows,
            (unsigned long long)C.used_tags,
            (unsigned long long)C.rejected, (unsigned long long)C.review,
            (unsigned long long)C.skipped);
    if (C.compare) {
      fmt_day(C.prev_since, d3);
      fmt_day(C.since - DAY, d4);
      fprintf(stderr, "  period %s..%s, compared with %s..%s\n", d1, d2, d3,
              d4);
    } else {
      fprintf(stderr, "  period %s..%s\n", d1, d2);
    }
    if (C.rejected && C.rejects_path)
      fprintf(stderr, "  rejects: %s\n", C.rejects_path);
    else if (C.shown > STDERR_REJECTS)
      fprintf(stderr, "  (%llu more rejects not shown; use --rejects FILE)\n",
              (unsigned long long)(C.shown - STDERR_REJECTS));
    if (sources_failed)
      fprintf(stderr, "  %d source%s could not be read\n", sources_failed,
              sources_failed == 1 ? "" : "s");
  }

  fm_agg_free(C.agg);
  fm_model_close(C.model);
  free(heads);
  free_heads(&C.hs);
  for (k = 0; k < C.n_src; k++) {
    free(C.src[k].name);
    free(C.src[k].path);
    if (C.src[k].spool) fclose(C.src[k].spool);
  }
  for (i = 0; i < n_smaps; i++) free(smaps[i].src);
  for (i = 0; i < C.n_acc; i++) free(C.acc[i].name);
  free(C.acc);
  return C.rejected || sources_failed ? EXIT_PARTIAL : EXIT_ALL_OK;
}
