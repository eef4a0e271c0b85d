/*
 * batch.c -- the nightly job (fm_batch_run): ingest every source into the
 * store, tag what is new or edited, re-tag on request, drop old raw text,
 * rewrite the reports from the store, record the run.
 *
 * Why a killed run converges: records go to the store in batches, each in
 * one transaction, in input order; an item's key, hashes, redacted text
 * and tags depend only on the record and the model, so a batch that was
 * lost is redone identically and one that was committed is found
 * unchanged. Reports depend only on the store's items (never on the run)
 * and are written to a temporary name and renamed. Nothing compared
 * carries a time: times go to the runs table and runs log only.
 *
 * Threads: the main thread reads, talks to the store and writes; tagging
 * and the analysis behind reports run on `threads` workers, each with its
 * own tagger and arena (and its own aggregates, merged at the end -- a
 * merge is exact, so the split never shows in a report).
 */
#include "batch.h"
#include "agg.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH_MAX_BYTES ((size_t)64 << 20) /* record text held per batch */
#define MAX_THREADS 64
#define ACC_MAPS 16 /* column mappings of the accounts table */

/* One record of the batch being processed. Strings live in the batch
 * arena; tagging results in the tagging worker's arena. */
typedef struct rec {
  const fm_batch_source *src;
  const char *file;
  uint64_t line;
  const char *id, *account, *segment, *lang_given;
  const char *text;
  size_t text_len;
  int64_t date;
  int has_date, has_score, has_revenue;
  double score, revenue;
  int64_t rowid;     /* re-tagging and reports: the stored item */
  const char *lang;  /* reports: as stored */
  const fm_store_tag *stored_tags; /* reports */
  size_t n_stored_tags;
  /* filled by the check and the tagger */
  fm_store_state state;
  int needs_tags;
  fm_status tag_status;
  const char *tag_msg;
  const char *redacted;
  size_t redacted_len;
  char out_lang[16];
  fm_store_tag *tags;
  size_t n_tags;
  int any_review;
  const fm_token *toks; /* the tagging's tokens, or (reports) the stored */
  size_t n_toks;
} rec;

typedef struct job job;

/* One row of the accounts table: revenue for items that have none. */
typedef struct account {
  char *name;
  double revenue;
} account;

typedef struct worker {
  job *j;
  size_t index;
  fm_tagger *tagger;
  fm_tagger *analyzer; /* reports: the model's pipeline, tokens only */
  fmi_arena arena;
  fm_agg **aggs; /* one per report, in the report phase */
  fmi_agg_grams grams; /* the record's phrase candidates, for every report */
  fm_status status;
  fm_error err;
  pthread_t thread;
} worker;

/* One run. */
struct job {
  const fm_batch_config *cfg;
  fm_batch_opts opts;
  fm_batch_stats *stats;
  fm_error *err;
  bool dry;
  fm_model *model;
  const char *model_id;
  size_t n_heads;
  fm_store *store;
  worker *workers;
  size_t n_workers;
  /* the batch */
  rec *recs;
  size_t n_recs, cap_recs;
  size_t batch_bytes;
  fmi_arena arena;
  uint64_t commits;
  /* rejects, written to a temporary file renamed at the end */
  FILE *rejects;
  char *rejects_tmp;
  /* sources that failed, for the runs log */
  const char **failed;
  size_t n_failed;
  /* the accounts table: sorted by name, first row of a name wins */
  struct account *accounts;
  size_t n_accounts;
  /* reports */
  size_t n_aggs;
  int64_t win_lo, win_hi;
  char msg[512];
};

/* ---- small helpers ------------------------------------------------------ */

static void FMI_PRINTF(2, 3) say(job *j, const char *fmt, ...) {
  va_list ap;
  if (!j->opts.log) return;
  va_start(ap, fmt);
  vsnprintf(j->msg, sizeof j->msg, fmt, ap);
  va_end(ap);
  j->opts.log(j->opts.user, j->msg);
}

static fm_status progress(job *j, fm_batch_phase phase, uint64_t count,
                          const char *source, const char *file,
                          const fm_reader *r) {
  fm_batch_progress p;
  if (!j->opts.progress) return FM_OK;
  memset(&p, 0, sizeof p);
  p.phase = phase;
  p.count = count;
  p.source = source;
  p.file = file;
  if (r) fm_reader_progress(r, &p.bytes_read, &p.total_bytes);
  if (j->opts.progress(j->opts.user, &p) != 0)
    return fmi_fail(j->err, FM_ECANCELLED, "stopped by the caller");
  return FM_OK;
}

static char *dup_path(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *p = fmi_malloc(la + lb + 1);
  if (!p) return NULL;
  memcpy(p, a, la);
  memcpy(p + la, b, lb + 1);
  return p;
}

static const char *arena_str(fmi_arena *a, const char *s) {
  return fmi_arena_memdup(a, s ? s : "", s ? strlen(s) : 0);
}

/* Writes `path` for good: flushed to the disk before the rename, so a
 * crash leaves either the old file or the new one. */
static fm_status finish_file(FILE *f, const char *tmp, const char *path,
                             fm_error *err) {
  int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
  bad |= fclose(f) != 0;
  if (bad) {
    int e = errno;
    unlink(tmp);
    return fmi_fail(err, FM_EIO, "cannot write %s: %s", path, strerror(e));
  }
  if (rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return fmi_fail(err, FM_EIO, "cannot rename %s to %s: %s", tmp, path,
                    strerror(e));
  }
  return FM_OK;
}

/* The temporary name of `path`: same folder (rename stays atomic), hidden. */
static char *tmp_name(const char *path) {
  const char *slash = strrchr(path, '/');
  size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
  size_t bl = strlen(path + dl);
  char *t = fmi_malloc(dl + bl + 6);
  if (!t) return NULL;
  memcpy(t, path, dl);
  t[dl] = '.';
  memcpy(t + dl + 1, path + dl, bl);
  memcpy(t + dl + 1 + bl, ".tmp", 5);
  return t;
}

/* Copies tokens (and their strings) into an arena; NULL on failure. */
static fm_token *copy_tokens(fmi_arena *a, const fm_token *t, size_t n) {
  fm_token *o = fmi_arena_alloc(a, (n ? n : 1) * sizeof *o);
  size_t i;
  if (!o) return NULL;
  for (i = 0; i < n; i++) {
    o[i] = t[i];
    o[i].text = fmi_arena_memdup(a, t[i].text, t[i].len);
    if (!o[i].text) return NULL;
    if (t[i].stem == t[i].text) {
      o[i].stem = o[i].text;
    } else {
      o[i].stem = fmi_arena_memdup(a, t[i].stem, t[i].stem_len);
      if (!o[i].stem) return NULL;
    }
  }
  return o;
}

/* ---- workers -------------------------------------------------------------- */

typedef void (*work_fn)(worker *w);

typedef struct thread_arg {
  worker *w;
  work_fn fn;
} thread_arg;

static void *thread_main(void *p) {
  thread_arg *a = p;
  a->fn(a->w);
  return NULL;
}

/* Runs fn on every worker, the main thread being worker 0. A thread that
 * cannot be started runs its share on the main thread instead. */
static void run_workers(job *j, work_fn fn) {
  thread_arg args[MAX_THREADS];
  bool started[MAX_THREADS] = {false};
  size_t i;
  for (i = 1; i < j->n_workers; i++) {
    args[i].w = &j->workers[i];
    args[i].fn = fn;
    started[i] = pthread_create(&j->workers[i].thread, NULL, thread_main,
                                &args[i]) == 0;
  }
  fn(&j->workers[0]);
  for (i = 1; i < j->n_workers; i++) {
    if (started[i])
      pthread_join(j->workers[i].thread, NULL);
    else
      fn(&j->workers[i]);
  }
}

/* Tags one record with the worker's tagger; results are copied to the
 * worker's arena because the tagger's are only valid until its next
 * call. A record that cannot be tagged (too big, ...) becomes a reject;
 * running out of memory stops the run. */
static void tag_rec(worker *w, rec *r) {
  job *j = w->j;
  fm_tag_opts to = FM_TAG_OPTS_INIT;
  const fm_result *res;
  fm_error e;
  fm_status st;
  size_t h;
  to.source = r->src->type;
  st = fm_tagger_tag(w->tagger, r->text, r->text_len,
                     r->lang_given && *r->lang_given ? r->lang_given : NULL,
                     &to, &res, &e);
  r->tag_status = st;
  if (st != FM_OK) {
    r->tag_msg = arena_str(&w->arena, e.msg[0] ? e.msg : fm_strerror(st));
    if (st == FM_ENOMEM || !r->tag_msg) {
      w->status = FM_ENOMEM;
      fmi_fail(&w->err, FM_ENOMEM, "out of memory tagging");
    }
    return;
  }
  r->redacted = fmi_arena_memdup(&w->arena, res->analysis->redacted,
                                 res->analysis->redacted_len);
  r->redacted_len = res->analysis->redacted_len;
  snprintf(r->out_lang, sizeof r->out_lang, "%s",
           res->analysis->lang ? res->analysis->lang : "und");
  r->tags = fmi_arena_alloc(&w->arena, (j->n_heads ? j->n_heads : 1) *
                                           sizeof *r->tags);
  /* Tokens are kept only where redaction changed the text: elsewhere the
   * stored text analyses to the very same tokens, and keeping them for
   * every item would more than double the store. Where it did, reading
   * "<email>" back gives words, not the placeholder token. */
  r->toks = NULL;
  r->n_toks = 0;
  if (res->analysis->pii_count) {
    r->toks = copy_tokens(&w->arena, res->analysis->tokens,
                          res->analysis->n_tokens);
    r->n_toks = res->analysis->n_tokens;
    if (!r->toks) r->redacted = NULL;
  }
  if (!r->redacted || !r->tags) {
    r->tag_status = w->status = FM_ENOMEM;
    fmi_fail(&w->err, FM_ENOMEM, "out of memory tagging");
    return;
  }
  r->n_tags = 0;
  r->any_review = 0;
  for (h = 0; h < res->n_heads && h < j->n_heads; h++) {
    const fm_head_result *hr = &res->heads[h];
    fm_store_tag *t;
    if (!hr->label_name) continue; /* a head not asked of this source */
    t = &r->tags[r->n_tags++];
    t->head = hr->head; /* names are owned by the model */
    t->label = hr->label_name;
    t->prob = hr->prob;
    t->needs_review = hr->needs_review;
    r->any_review |= hr->needs_review;
  }
}

static void tag_stripe(worker *w) {
  job *j = w->j;
  size_t i;
  for (i = w->index; i < j->n_recs && w->status == FM_OK; i += j->n_workers)
    if (j->recs[i].needs_tags) tag_rec(w, &j->recs[i]);
}

static fm_status worker_status(job *j) {
  size_t i;
  for (i = 0; i < j->n_workers; i++)
    if (j->workers[i].status != FM_OK) {
      if (j->err) *j->err = j->workers[i].err;
      return j->workers[i].status;
    }
  return FM_OK;
}

static void reset_batch(job *j) {
  size_t i;
  j->n_recs = 0;
  j->batch_bytes = 0;
  fmi_arena_reset(&j->arena);
  for (i = 0; i < j->n_workers; i++) fmi_arena_reset(&j->workers[i].arena);
}

/* ---- rejects ---------------------------------------------------------------- */

static fm_status reject(job *j, const char *source, const char *file,
                        uint64_t line, const char *reason, const char *raw,
                        size_t raw_len, int truncated) {
  j->stats->rejected++;
  if (!j->rejects) return FM_OK;
  return fmi_batch_reject_line(j->rejects, source, file, line, reason, raw,
                               raw_len, truncated, j->err);
}

/* ---- ingest ------------------------------------------------------------------ */

static fm_store_item item_of(const rec *r) {
  fm_store_item it;
  memset(&it, 0, sizeof it);
  it.source = r->src->name;
  it.type = r->src->type;
  it.external_id = r->id;
  it.date = r->date;
  it.has_date = r->has_date;
  it.text = r->text;
  it.text_len = r->text_len;
  it.lang_given = r->lang_given;
  it.account = r->account;
  it.segment = r->segment;
  it.score = r->score;
  it.has_score = r->has_score;
  it.revenue = r->revenue;
  it.has_revenue = r->has_revenue;
  return it;
}

static void count_state(job *j, fm_store_state k) {
  switch (k) {
  case FM_ITEM_NEW: j->stats->new_items++; break;
  case FM_ITEM_EDITED: j->stats->edited++; break;
  case FM_ITEM_UPDATED: j->stats->updated++; break;
  case FM_ITEM_UNCHANGED: j->stats->unchanged++; break;
  }
}

/* Checks, tags and stores the batch in one transaction. */
static fm_status flush(job *j) {
  fm_status st;
  size_t i;
  if (!j->n_recs) return FM_OK;
  /* One transaction from the checks to the commit: outside one, every
   * lookup would open and close a read transaction of its own (locks on
   * the WAL index, a look at the WAL's header). The job holds the
   * store's lock, so nothing can change between the checks and the
   * writes, and the tagging in between writes nothing. */
  if (!j->dry && (st = fm_store_begin(j->store, j->err)) != FM_OK) return st;
  for (i = 0; i < j->n_recs; i++) {
    rec *r = &j->recs[i];
    fm_store_item it = item_of(r);
    if (!j->store) { /* a dry run before the first night */
      r->state = FM_ITEM_NEW;
      r->needs_tags = 1;
      continue;
    }
    if ((st = fm_store_check(j->store, &it, &r->state, &r->needs_tags,
                             j->err)) != FM_OK)
      goto fail;
  }
  if (j->dry) {
    for (i = 0; i < j->n_recs; i++) count_state(j, j->recs[i].state);
    reset_batch(j);
    return FM_OK;
  }
  run_workers(j, tag_stripe);
  if ((st = worker_status(j)) != FM_OK) goto fail;
  for (i = 0; i < j->n_recs; i++) {
    rec *r = &j->recs[i];
    fm_store_item it;
    fm_store_state k;
    if (r->needs_tags && r->tag_status != FM_OK) {
      if ((st = reject(j, r->src->name, r->file, r->line, r->tag_msg, r->text,
                       r->text_len, 0)) != FM_OK)
        goto fail;
      continue;
    }
    if (!r->needs_tags && r->state == FM_ITEM_UNCHANGED) {
      j->stats->unchanged++;
      continue;
    }
    it = item_of(r);
    if (r->needs_tags) {
      it.redacted = r->redacted;
      it.redacted_len = r->redacted_len;
      it.lang = r->out_lang;
      it.tags = r->tags;
      it.n_tags = r->n_tags;
      it.tokens = r->toks;
      it.n_tokens = r->n_toks;
    }
    if ((st = fm_store_put(j->store, &it, &k, j->err)) != FM_OK) goto fail;
    count_state(j, k);
    if (r->needs_tags) {
      j->stats->tagged++;
      if (r->any_review) j->stats->needs_review++;
    }
  }
  if ((st = fm_store_commit(j->store, j->err)) != FM_OK) goto fail;
  j->commits++;
  reset_batch(j);
  return progress(j, FM_BATCH_COMMIT, j->commits, NULL, NULL, NULL);
fail:
  fm_store_rollback(j->store);
  return st;
}

static fm_status add_rec(job *j, const fm_batch_source *src, const char *file,
                         const fm_record *r) {
  rec *o;
  if (j->n_recs == j->cap_recs) {
    size_t cap = j->cap_recs ? j->cap_recs * 2 : 256;
    rec *v = fmi_realloc(j->recs, cap * sizeof *v);
    if (!v) return fmi_fail(j->err, FM_ENOMEM, "out of memory reading");
    j->recs = v;
    j->cap_recs = cap;
  }
  o = &j->recs[j->n_recs];
  memset(o, 0, sizeof *o);
  o->src = src;
  o->file = file;
  o->line = r->line;
  o->id = arena_str(&j->arena, r->id);
  o->account = arena_str(&j->arena, r->account);
  o->segment = arena_str(&j->arena, r->segment);
  o->lang_given = arena_str(&j->arena, r->lang);
  o->text = fmi_arena_memdup(&j->arena, r->text, r->text_len);
  if (!o->id || !o->account || !o->segment || !o->lang_given || !o->text)
    return fmi_fail(j->err, FM_ENOMEM, "out of memory reading");
  o->text_len = r->text_len;
  o->date = r->date;
  o->has_date = r->has_date;
  o->score = r->score;
  o->has_score = r->has_score;
  o->revenue = r->revenue;
  o->has_revenue = r->has_revenue;
  j->n_recs++;
  j->batch_bytes += r->text_len;
  return FM_OK;
}

/* Reads one file of a source. Returns FM_OK when the file was read to
 * its end; *failed is set when it could not be (the source failed, the
 * run goes on); any other status stops the run. */
static fm_status ingest_file(job *j, const fm_batch_source *src,
                             const char *file, bool *failed) {
  fm_reader_opts ro = FM_READER_OPTS_INIT;
  fm_reader *r = NULL;
  fm_error e;
  fm_status st;
  ro.format = src->format;
  ro.delimiter = src->delimiter;
  ro.map = src->map;
  ro.n_map = src->n_map;
  ro.date_order = src->date_order;
  ro.source = src->type;
  st = fm_reader_open(file, &ro, &r, &e);
  if (st == FM_ENOMEM)
    return fmi_fail(j->err, FM_ENOMEM, "out of memory opening %s", file);
  if (st != FM_OK) {
    say(j, "source %s failed: %s", src->name, e.msg);
    *failed = true;
    return FM_OK;
  }
  for (;;) {
    const fm_record *rec_in;
    st = fm_reader_next(r, &rec_in, &e);
    if (st == FM_EEOF) {
      st = FM_OK;
      break;
    }
    if (st == FM_OK || st == FM_EPARSE) j->stats->read++;
    if (st == FM_OK) {
      st = add_rec(j, src, file, rec_in);
    } else if (st == FM_EPARSE) {
      size_t raw_len;
      int trunc;
      const char *raw = fm_reader_raw(r, &raw_len, &trunc);
      st = reject(j, src->name, file, e.line, e.msg, raw, raw_len, trunc);
    } else if (st == FM_ENOMEM) {
      st = fmi_fail(j->err, FM_ENOMEM, "out of memory reading %s", file);
    } else {
      say(j, "source %s failed: %s", src->name, e.msg);
      *failed = true;
      st = FM_OK;
      break;
    }
    if (st == FM_OK)
      st = progress(j, FM_BATCH_INGEST, j->stats->read, src->name, file, r);
    if (st == FM_OK && (j->n_recs >= j->cfg->batch_size ||
                        j->batch_bytes >= BATCH_MAX_BYTES))
      st = flush(j);
    if (st != FM_OK) break;
  }
  fm_reader_free(r);
  return st;
}

static bool has_wildcard(const char *p) { return strpbrk(p, "*?[") != NULL; }

static fm_status ingest_source(job *j, const fm_batch_source *src) {
  bool failed = false;
  fm_status st = FM_OK;
  size_t i, k;
  for (i = 0; i < src->n_paths && st == FM_OK; i++) {
    const char *pat = src->paths[i];
    glob_t g;
    int rc;
    if (!has_wildcard(pat)) {
      st = ingest_file(j, src, pat, &failed);
      continue;
    }
    memset(&g, 0, sizeof g);
    rc = glob(pat, GLOB_ERR, NULL, &g); /* sorted: a fixed order */
    if (rc == GLOB_NOMATCH) {
      say(j, "source %s failed: no file matches %s", src->name, pat);
      failed = true;
    } else if (rc == GLOB_NOSPACE) {
      st = fmi_fail(j->err, FM_ENOMEM, "out of memory listing %s", pat);
    } else if (rc != 0) {
      say(j, "source %s failed: cannot list %s: %s", src->name, pat,
          strerror(errno));
      failed = true;
    } else {
      for (k = 0; k < g.gl_pathc && st == FM_OK; k++)
        st = ingest_file(j, src, g.gl_pathv[k], &failed);
    }
    globfree(&g);
  }
  if (failed) {
    j->stats->sources_failed++;
    j->failed[j->n_failed++] = src->name;
  }
  return st;
}

/* ---- the accounts table -------------------------------------------------- */

static int cmp_account(const void *x, const void *y) {
  return strcmp(((const account *)x)->name, ((const account *)y)->name);
}

static const account *find_account(const job *j, const char *name) {
  account key = {NULL, 0};
  if (!j->n_accounts || !name || !*name) return NULL;
  key.name = (char *)name;
  return bsearch(&key, j->accounts, j->n_accounts, sizeof key, cmp_account);
}

/* The accounts table could not be opened or read (st): out of memory
 * fails the run; anything else counts it as a failed source. */
static fm_status accounts_failed(job *j, fm_status st, const fm_error *e) {
  if (st == FM_ENOMEM)
    return fmi_fail(j->err, FM_ENOMEM, "out of memory reading %s",
                    j->cfg->accounts);
  say(j, "accounts table failed: %s", e->msg);
  j->stats->sources_failed++;
  j->failed[j->n_failed++] = "accounts";
  return FM_OK;
}

/* Reads the accounts table with the export reader: the account column is
 * the configured one (map = account=COLUMN) or the first of the usual
 * names present, and it doubles as the reader's text column. A table that
 * cannot be read counts as a failed source: the reports go on without
 * it. */
static fm_status load_accounts(job *j) {
  static const char *const names[] = {"account", "account_id", "company",
                                      "customer", "organization",
                                      "organisation", "name", NULL};
  const fm_batch_config *cfg = j->cfg;
  const char *col = NULL;
  fm_reader *r = NULL;
  fm_error e;
  fm_status st = FM_ENOTFOUND;
  size_t i, k, cap = 0;
  char map_text[300], map_acc[300];
  if (!cfg->accounts) return FM_OK;
  for (i = 0; i < cfg->n_accounts_map; i++)
    if (!strncmp(cfg->accounts_map[i], "account=", 8))
      col = cfg->accounts_map[i] + 8;
  for (k = 0; st == FM_ENOTFOUND && (col ? k < 1 : names[k] != NULL); k++) {
    fm_reader_opts ro = FM_READER_OPTS_INIT;
    const char *maps[ACC_MAPS];
    size_t n = 0;
    const char *c = col ? col : names[k];
    snprintf(map_text, sizeof map_text, "text=%s", c);
    snprintf(map_acc, sizeof map_acc, "account=%s", c);
    maps[n++] = map_text;
    maps[n++] = map_acc;
    for (i = 0; i < cfg->n_accounts_map && n < ACC_MAPS; i++)
      if (strncmp(cfg->accounts_map[i], "account=", 8))
        maps[n++] = cfg->accounts_map[i];
    ro.map = maps;
    ro.n_map = n;
    ro.format = FM_FORMAT_CSV;
    st = fm_reader_open(cfg->accounts, &ro, &r, &e);
  }
  if (st != FM_OK) return accounts_failed(j, st, &e);
  for (;;) {
    const fm_record *row;
    st = fm_reader_next(r, &row, &e);
    if (st == FM_EEOF) {
      st = FM_OK;
      break;
    }
    if (st == FM_EPARSE) continue; /* a bad row only loses its revenue */
    if (st != FM_OK) break;
    if (!row->account[0] || !row->has_revenue) continue;
    if (j->n_accounts == cap) {
      account *v;
      cap = cap ? cap * 2 : 256;
      v = fmi_realloc(j->accounts, cap * sizeof *v);
      if (!v) {
        st = FM_ENOMEM;
        break;
      }
      j->accounts = v;
    }
    j->accounts[j->n_accounts].name =
        fmi_strndup(row->account, strlen(row->account));
    if (!j->accounts[j->n_accounts].name) {
      st = FM_ENOMEM;
      break;
    }
    j->accounts[j->n_accounts++].revenue = row->revenue;
  }
  fm_reader_free(r);
  if (st != FM_OK && (st = accounts_failed(j, st, &e)) != FM_OK) return st;
  /* a stable sort keeps the first row of a name first */
  for (i = 1; i < j->n_accounts; i++) {
    account a = j->accounts[i];
    size_t m = i;
    for (; m > 0 && strcmp(j->accounts[m - 1].name, a.name) > 0; m--)
      j->accounts[m] = j->accounts[m - 1];
    j->accounts[m] = a;
  }
  for (i = k = 0; i < j->n_accounts; i++) {
    if (k && !strcmp(j->accounts[k - 1].name, j->accounts[i].name)) {
      fmi_free(j->accounts[i].name);
      continue;
    }
    j->accounts[k++] = j->accounts[i];
  }
  j->n_accounts = k;
  return FM_OK;
}

/* ---- re-tagging ------------------------------------------------------------- */

static const fm_batch_source *source_named(job *j, const char *name,
                                           const char *type,
                                           fm_batch_source *scratch) {
  size_t i;
  for (i = 0; i < j->cfg->n_sources; i++)
    if (!strcmp(j->cfg->sources[i].name, name)) return &j->cfg->sources[i];
  /* a source no longer configured: tag it as its stored type */
  memset(scratch, 0, sizeof *scratch);
  scratch->name = name;
  scratch->type = type;
  return scratch;
}

/* Re-tags, page by page in rowid order, every item not tagged by the
 * current model, from its raw text when kept, else its redacted text. */
static fm_status retag(job *j) {
  fm_store_query q = FM_STORE_QUERY_INIT;
  fm_batch_source *scratch = NULL;
  int64_t after = 0;
  fm_status st = FM_OK;
  q.flags = FM_QUERY_NEEDS_TAGS;
  q.limit = j->cfg->batch_size;
  scratch = fmi_calloc(j->cfg->batch_size, sizeof *scratch);
  if (!scratch) return fmi_fail(j->err, FM_ENOMEM, "out of memory re-tagging");
  for (;;) {
    fm_store_cursor *cur = NULL;
    const fm_store_item *it;
    size_t i;
    q.after_rowid = after;
    if ((st = fm_store_query_items(j->store, &q, &cur, j->err)) != FM_OK)
      break;
    while ((st = fm_store_cursor_next(cur, &it, j->err)) == FM_OK) {
      fm_record fake;
      const char *text = it->text ? it->text : it->redacted;
      size_t len = it->text ? it->text_len : it->redacted_len;
      const char *src_name = arena_str(&j->arena, it->source);
      const char *type = arena_str(&j->arena, it->type);
      memset(&fake, 0, sizeof fake);
      fake.id = it->external_id;
      fake.text = text ? text : "";
      fake.text_len = text ? len : 0;
      fake.lang = it->lang_given;
      fake.account = "";
      fake.segment = "";
      if (!src_name || !type) {
        st = fmi_fail(j->err, FM_ENOMEM, "out of memory re-tagging");
        break;
      }
      st = add_rec(j, source_named(j, src_name, type, &scratch[j->n_recs]),
                   "<store>", &fake);
      if (st != FM_OK) break;
      j->recs[j->n_recs - 1].rowid = it->rowid;
      j->recs[j->n_recs - 1].needs_tags = 1;
      j->recs[j->n_recs - 1].line = (uint64_t)it->rowid;
      after = it->rowid;
    }
    fm_store_cursor_free(cur);
    if (st != FM_EEOF) break;
    st = FM_OK;
    if (!j->n_recs) break;
    run_workers(j, tag_stripe);
    if ((st = worker_status(j)) != FM_OK) break;
    if ((st = fm_store_begin(j->store, j->err)) != FM_OK) break;
    for (i = 0; i < j->n_recs && st == FM_OK; i++) {
      rec *r = &j->recs[i];
      if (r->tag_status != FM_OK) {
        say(j, "item %s/%s cannot be re-tagged: %s", r->src->name, r->id,
            r->tag_msg);
        continue;
      }
      st = fm_store_set_tags(j->store, r->rowid, r->out_lang, r->tags,
                             r->n_tags, r->toks, r->n_toks, j->err);
      if (st == FM_OK) j->stats->retagged++;
    }
    if (st == FM_OK) st = fm_store_commit(j->store, j->err);
    if (st != FM_OK) {
      fm_store_rollback(j->store);
      break;
    }
    reset_batch(j);
    if ((st = progress(j, FM_BATCH_RETAG, j->stats->retagged, NULL, NULL,
                       NULL)) != FM_OK)
      break;
  }
  reset_batch(j);
  fmi_free(scratch);
  return st;
}

/* ---- reports ---------------------------------------------------------------- */

static const char *format_ext(const char *f, fm_report_format *out) {
  if (!strcmp(f, "html")) { *out = FM_REPORT_HTML; return "html"; }
  if (!strcmp(f, "json")) { *out = FM_REPORT_JSON; return "json"; }
  if (!strcmp(f, "csv")) { *out = FM_REPORT_CSV; return "csv"; }
  *out = FM_REPORT_MARKDOWN;
  return "md";
}

/* Keeps only tags whose head and label the current model has: items
 * tagged by an older model may carry labels the aggregate does not know. */
static size_t known_tags(job *j, const rec *r, fm_agg_tag *out) {
  size_t i, n = 0;
  for (i = 0; i < r->n_stored_tags; i++) {
    const fm_store_tag *t = &r->stored_tags[i];
    long h = fm_model_head_index(j->model, t->head);
    size_t l, nl;
    if (h < 0) continue;
    nl = fm_model_label_count(j->model, (size_t)h);
    for (l = 0; l < nl; l++)
      if (!strcmp(fm_model_label_name(j->model, (size_t)h, l), t->label))
        break;
    if (l == nl) continue;
    out[n].head = fm_model_head_name(j->model, (size_t)h);
    out[n].label = t->label;
    out[n].prob = t->prob;
    out[n].needs_review = t->needs_review;
    n++;
  }
  return n;
}

static void agg_stripe(worker *w) {
  job *j = w->j;
  fm_agg_tag tags[64];
  size_t i, k;
  for (i = w->index; i < j->n_recs && w->status == FM_OK; i += j->n_workers) {
    rec *r = &j->recs[i];
    fm_agg_item it = FM_AGG_ITEM_INIT;
    it.source = r->src->type;
    it.id = r->id && *r->id ? r->id : NULL;
    it.date = r->date;
    it.has_date = r->has_date;
    it.account = r->account;
    it.revenue = r->revenue < 0 ? 0 : r->revenue;
    it.has_revenue = r->has_revenue;
    if (!it.has_revenue) {
      const account *ac = find_account(j, r->account);
      if (ac) {
        it.revenue = ac->revenue < 0 ? 0 : ac->revenue;
        it.has_revenue = 1;
      }
    }
    it.score = r->score;
    it.has_score = r->has_score && r->score >= 0 && r->score <= 10;
    it.lang = r->lang;
    it.tags = tags;
    it.n_tags = known_tags(j, r, tags);
    it.text = r->text;
    it.text_len = r->text_len;
    if (r->toks) {
      /* the tagging's own tokens, stored with the tags */
      if (r->has_date && r->date >= j->win_lo && r->date < j->win_hi) {
        it.tokens = r->toks;
        it.n_tokens = r->n_toks;
      }
    } else if (r->has_date && r->date >= j->win_lo && r->date < j->win_hi &&
               r->text_len) {
      const fm_analysis *an;
      fm_error e;
      fm_status st = fm_tagger_analyze(w->analyzer, r->text, r->text_len,
                                       r->lang && *r->lang ? r->lang : NULL,
                                       &an, &e);
      if (st == FM_ENOMEM) {
        w->status = st;
        w->err = e;
        return;
      }
      if (st == FM_OK) {
        it.tokens = an->tokens;
        it.n_tokens = an->n_tokens;
      }
    }
    w->grams.ready = 0; /* a new record: its grams are worked out once */
    for (k = 0; k < j->n_aggs; k++) {
      fm_error e;
      fm_status st = fmi_agg_add_shared(w->aggs[k], &it, &w->grams, &e);
      if (st == FM_ENOMEM) {
        w->status = st;
        w->err = e;
        return;
      }
      /* any other refusal (a score out of range...) leaves the item out
       * of this report only; the store keeps it */
    }
  }
}

/* The heads of the aggregate: the current model's, with its labels. */
static fm_status agg_heads(job *j, fm_agg_head **out, const char ***labels) {
  size_t h, l, total = 0, at = 0;
  fm_agg_head *heads;
  const char **lab;
  for (h = 0; h < j->n_heads; h++) total += fm_model_label_count(j->model, h);
  heads = fmi_calloc(j->n_heads, sizeof *heads);
  lab = fmi_calloc(total, sizeof *lab);
  if (!heads || !lab) {
    fmi_free(heads);
    fmi_free(lab);
    return fmi_fail(j->err, FM_ENOMEM, "out of memory for reports");
  }
  for (h = 0; h < j->n_heads; h++) {
    size_t nl = fm_model_label_count(j->model, h);
    heads[h].name = fm_model_head_name(j->model, h);
    heads[h].labels = lab + at;
    heads[h].n_labels = nl;
    for (l = 0; l < nl; l++) lab[at++] = fm_model_label_name(j->model, h, l);
  }
  *out = heads;
  *labels = lab;
  return FM_OK;
}

static fm_status write_reports(job *j) {
  const fm_batch_config *cfg = j->cfg;
  fm_agg_head *heads = NULL;
  const char **labels = NULL;
  fm_store_cursor *cur = NULL;
  fm_status st;
  size_t i, k, f;
  int64_t last;
  int has_dates;
  uint64_t written = 0, aggregated = 0;
  if (!cfg->n_reports) return FM_OK;
  if ((st = load_accounts(j)) != FM_OK) return st;
  if ((st = fmi_store_last_date(j->store, &last, &has_dates, j->err)) !=
      FM_OK)
    return st;
  if (!has_dates) {
    say(j, "no dated items in the store: reports not written");
    return FM_OK;
  }
  if ((st = agg_heads(j, &heads, &labels)) != FM_OK) return st;
  /* Phrases need tokens, not features: the model's pipeline without word
   * pairs and character n-grams gives the same tokens for less work. */
  {
    fm_pipeline_opts po;
    fm_model_pipeline_opts(j->model, &po);
    po.stages &= ~(FM_STAGE_BIGRAMS | FM_STAGE_CHARGRAMS);
    for (i = 0; i < j->n_workers && st == FM_OK; i++)
      if (!j->workers[i].analyzer)
        st = fm_tagger_new(NULL, &po, &j->workers[i].analyzer, j->err);
    if (st != FM_OK) {
      fmi_free(heads);
      fmi_free(labels);
      return st;
    }
  }
  j->n_aggs = cfg->n_reports;
  j->win_lo = INT64_MAX;
  j->win_hi = INT64_MIN;
  for (i = 0; i < j->n_workers && st == FM_OK; i++) {
    worker *w = &j->workers[i];
    w->aggs = fmi_calloc(cfg->n_reports, sizeof *w->aggs);
    if (!w->aggs) st = fmi_fail(j->err, FM_ENOMEM, "out of memory for reports");
    for (k = 0; k < cfg->n_reports && st == FM_OK; k++) {
      fm_agg_opts ao = FM_AGG_OPTS_INIT;
      ao.heads = heads;
      ao.n_heads = j->n_heads;
      st = fm_period_last(cfg->reports[k].period, last, &ao.since, &ao.until,
                          j->err);
      if (st != FM_OK) break;
      ao.compare = cfg->reports[k].compare_previous ? FM_COMPARE_PREVIOUS
                                                    : FM_COMPARE_NONE;
      st = fm_agg_new(&ao, &w->aggs[k], j->err);
      if (i == 0 && st == FM_OK) {
        int64_t lo = ao.since;
        if (ao.compare == FM_COMPARE_PREVIOUS) lo -= ao.until - ao.since;
        if (lo < j->win_lo) j->win_lo = lo;
        if (ao.until > j->win_hi) j->win_hi = ao.until;
      }
    }
  }
  /* one pass over the store, a batch at a time, analysed on the workers */
  if (st == FM_OK) st = fm_store_query_items(j->store, NULL, &cur, j->err);
  while (st == FM_OK) {
    const fm_store_item *it;
    fm_batch_source *srcs;
    bool eof = false;
    srcs = fmi_arena_alloc(&j->arena, j->cfg->batch_size * sizeof *srcs);
    if (!srcs) {
      st = fmi_fail(j->err, FM_ENOMEM, "out of memory for reports");
      break;
    }
    while (j->n_recs < j->cfg->batch_size) {
      fm_record fake;
      rec *r;
      fm_store_tag *tags;
      st = fm_store_cursor_next(cur, &it, j->err);
      if (st == FM_EEOF) {
        eof = true;
        st = FM_OK;
        break;
      }
      if (st != FM_OK) break;
      memset(&fake, 0, sizeof fake);
      fake.id = it->external_id;
      fake.text = it->redacted ? it->redacted : "";
      fake.text_len = it->redacted ? it->redacted_len : 0;
      fake.lang = "";
      fake.account = it->account;
      fake.segment = it->segment;
      fake.date = it->date;
      fake.has_date = it->has_date;
      fake.score = it->score;
      fake.has_score = it->has_score;
      fake.revenue = it->revenue;
      fake.has_revenue = it->has_revenue;
      memset(&srcs[j->n_recs], 0, sizeof srcs[0]);
      srcs[j->n_recs].name = arena_str(&j->arena, it->source);
      srcs[j->n_recs].type = arena_str(&j->arena, it->type);
      if ((st = add_rec(j, &srcs[j->n_recs], "<store>", &fake)) != FM_OK)
        break;
      r = &j->recs[j->n_recs - 1];
      r->lang = arena_str(&j->arena, it->lang);
      tags = fmi_arena_alloc(&j->arena, (it->n_tags ? it->n_tags : 1) *
                                            sizeof *tags);
      if (!r->lang || !tags || !srcs[j->n_recs - 1].name ||
          !srcs[j->n_recs - 1].type) {
        st = fmi_fail(j->err, FM_ENOMEM, "out of memory for reports");
        break;
      }
      for (k = 0; k < it->n_tags; k++) {
        tags[k] = it->tags[k];
        tags[k].head = arena_str(&j->arena, it->tags[k].head);
        tags[k].label = arena_str(&j->arena, it->tags[k].label);
        if (!tags[k].head || !tags[k].label) {
          st = fmi_fail(j->err, FM_ENOMEM, "out of memory for reports");
          break;
        }
      }
      if (st != FM_OK) break;
      r->stored_tags = tags;
      r->n_stored_tags = it->n_tags < 64 ? it->n_tags : 64;
      if (it->tokens && it->has_date && it->date >= j->win_lo &&
          it->date < j->win_hi) {
        r->toks = copy_tokens(&j->arena, it->tokens, it->n_tokens);
        r->n_toks = it->n_tokens;
        if (!r->toks) {
          st = fmi_fail(j->err, FM_ENOMEM, "out of memory for reports");
          break;
        }
      }
    }
    if (st != FM_OK) break;
    run_workers(j, agg_stripe);
    st = worker_status(j);
    aggregated += j->n_recs;
    reset_batch(j);
    if (st == FM_OK)
      st = progress(j, FM_BATCH_AGGREGATE, aggregated, NULL, NULL, NULL);
    if (eof) break;
  }
  fm_store_cursor_free(cur);
  /* merge the workers' parts into worker 0's and write */
  for (i = 1; i < j->n_workers && st == FM_OK; i++)
    for (k = 0; k < cfg->n_reports && st == FM_OK; k++)
      st = fm_agg_merge(j->workers[0].aggs[k], j->workers[i].aggs[k], j->err);
  for (k = 0; k < cfg->n_reports && st == FM_OK; k++) {
    const fm_batch_report *rep = &cfg->reports[k];
    for (f = 0; f < rep->n_formats && st == FM_OK; f++) {
      fm_report_opts ro = FM_REPORT_OPTS_INIT;
      const char *ext = format_ext(rep->formats[f], &ro.format);
      char *path = NULL, *tmp = NULL, *base;
      FILE *out;
      base = dup_path(cfg->output, "/");
      if (base) {
        char *b2 = dup_path(base, rep->name);
        fmi_free(base);
        base = b2;
      }
      if (base) {
        char suffix[8];
        snprintf(suffix, sizeof suffix, ".%s", ext);
        path = dup_path(base, suffix);
      }
      fmi_free(base);
      tmp = path ? tmp_name(path) : NULL;
      if (!path || !tmp) {
        fmi_free(path);
        fmi_free(tmp);
        st = fmi_fail(j->err, FM_ENOMEM, "out of memory writing reports");
        break;
      }
      out = fopen(tmp, "wb");
      if (!out) {
        st = fmi_fail(j->err, FM_EIO, "cannot write report %s: %s", tmp,
                      strerror(errno));
      } else {
        st = fm_report_write(j->workers[0].aggs[k], &ro, out, j->err);
        if (st != FM_OK) {
          fclose(out);
          unlink(tmp);
        } else {
          int bad = fflush(out) != 0 || fsync(fileno(out)) != 0;
          bad |= fclose(out) != 0;
          if (bad) {
            st = fmi_fail(j->err, FM_EIO, "cannot write report %s: %s", tmp,
                          strerror(errno));
            unlink(tmp);
          }
        }
      }
      if (st == FM_OK) {
        st = progress(j, FM_BATCH_REPORT, written, NULL, tmp, NULL);
        if (st != FM_OK) unlink(tmp);
      }
      if (st == FM_OK && rename(tmp, path) != 0) {
        st = fmi_fail(j->err, FM_EIO, "cannot rename %s to %s: %s", tmp,
                      path, strerror(errno));
        unlink(tmp);
      }
      if (st == FM_OK) j->stats->reports++, written++;
      fmi_free(path);
      fmi_free(tmp);
    }
  }
  for (i = 0; i < j->n_workers; i++) {
    worker *w = &j->workers[i];
    if (w->aggs)
      for (k = 0; k < cfg->n_reports; k++) fm_agg_free(w->aggs[k]);
    fmi_free(w->aggs);
    w->aggs = NULL;
    fmi_agg_grams_free(&w->grams);
  }
  fmi_free(heads);
  fmi_free(labels);
  return st;
}

/* ---- the run --------------------------------------------------------------- */

static void iso_time(time_t t, char out[32]) {
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "area(12) sentiment(3) ..." */
static char *model_summary(const fm_model *m) {
  fmi_buf b = {0};
  size_t h;
  for (h = 0; h < fm_model_head_count(m); h++)
    if (fmi_buf_printf(&b, "%s%s(%zu)", h ? " " : "",
                       fm_model_head_name(m, h),
                       fm_model_label_count(m, h)) != FM_OK) {
      fmi_buf_free(&b);
      return NULL;
    }
  if (!b.data && fmi_buf_append(&b, "", 0) != FM_OK) return NULL;
  return b.data;
}

static fm_status append_runs_log(const char *path, const char *line,
                                 fm_error *err) {
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  size_t n = strlen(line);
  char *l2;
  bool bad;
  if (fd < 0)
    return fmi_fail(err, FM_EIO, "cannot write the runs log %s: %s", path,
                    strerror(errno));
  l2 = fmi_malloc(n + 1);
  if (!l2) {
    close(fd);
    return fmi_fail(err, FM_ENOMEM, "out of memory");
  }
  memcpy(l2, line, n);
  l2[n] = '\n';
  /* one write(2) of the whole line: O_APPEND keeps lines whole */
  bad = write(fd, l2, n + 1) != (ssize_t)(n + 1) || fsync(fd) != 0;
  fmi_free(l2);
  if (close(fd) != 0) bad = true;
  if (bad)
    return fmi_fail(err, FM_EIO, "cannot write the runs log %s: %s", path,
                    strerror(errno));
  return FM_OK;
}

static fm_status make_dir(job *j, const char *dir) {
  struct stat sb;
  if (mkdir(dir, 0755) == 0) return FM_OK;
  if (errno == EEXIST && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
    return FM_OK;
  return fmi_fail(j->err, FM_EIO, "cannot create the output folder %s: %s",
                  dir, strerror(errno));
}

static fm_status open_store(job *j) {
  fm_store_opts so = FM_STORE_OPTS_INIT;
  fm_status st;
  struct stat sb;
  so.keep_raw_text = j->cfg->keep_raw_text;
  if (j->dry) {
    if (stat(j->cfg->store, &sb) != 0 && errno == ENOENT) return FM_OK;
    so.flags = FM_STORE_READONLY;
  }
  st = fm_store_open(j->cfg->store, &so, &j->store, j->err);
  if (st == FM_OK && fm_store_notice(j->store)[0])
    say(j, "store %s: %s", j->cfg->store, fm_store_notice(j->store));
  return st;
}

static fm_status setup_workers(job *j) {
  size_t i;
  j->n_workers = j->opts.threads ? j->opts.threads : 1;
  if (j->n_workers > MAX_THREADS) j->n_workers = MAX_THREADS;
  j->workers = fmi_calloc(j->n_workers, sizeof *j->workers);
  if (!j->workers) return fmi_fail(j->err, FM_ENOMEM, "out of memory");
  for (i = 0; i < j->n_workers; i++) {
    worker *w = &j->workers[i];
    fm_status st;
    w->j = j;
    w->index = i;
    fmi_arena_init(&w->arena, 0);
    st = fm_tagger_new(j->model, NULL, &w->tagger, j->err);
    if (st != FM_OK) return st;
  }
  return FM_OK;
}

static void free_job(job *j) {
  size_t i;
  if (j->workers)
    for (i = 0; i < j->n_workers; i++) {
      fm_tagger_free(j->workers[i].tagger);
      fm_tagger_free(j->workers[i].analyzer);
      fmi_arena_free(&j->workers[i].arena);
    }
  fmi_free(j->workers);
  fmi_free(j->recs);
  fmi_arena_free(&j->arena);
  fmi_free(j->failed);
  for (i = 0; i < j->n_accounts; i++) fmi_free(j->accounts[i].name);
  fmi_free(j->accounts);
  if (j->rejects) {
    fclose(j->rejects);
    unlink(j->rejects_tmp);
  }
  fmi_free(j->rejects_tmp);
  fm_store_close(j->store);
  fm_model_close(j->model);
}

fm_status fm_batch_run(const fm_batch_config *cfg, const fm_batch_opts *opts,
                       fm_batch_stats *stats_out, fm_error *err) {
  job j;
  fm_batch_stats stats;
  fm_status st;
  time_t start = time(NULL);
  double t0 = now_s();
  int64_t run_id = 0;
  char *summary = NULL;
  size_t i;
  memset(&j, 0, sizeof j);
  memset(&stats, 0, sizeof stats);
  if (stats_out) memset(stats_out, 0, sizeof *stats_out);
  if (!cfg) return fmi_fail(err, FM_EINVAL, "fm_batch_run: no configuration");
  if (opts && opts->size < sizeof(size_t) + sizeof(unsigned))
    return fmi_fail(err, FM_EINVAL, "fm_batch_run: bad options size");
  if (opts) {
    fm_batch_opts dflt = FM_BATCH_OPTS_INIT;
    j.opts = dflt;
    memcpy(&j.opts, opts, opts->size < sizeof j.opts ? opts->size
                                                     : sizeof j.opts);
  } else {
    fm_batch_opts dflt = FM_BATCH_OPTS_INIT;
    j.opts = dflt;
  }
  j.cfg = cfg;
  j.stats = &stats;
  j.err = err;
  if (cfg->retag_auto) j.opts.flags |= FM_BATCH_RETAG;
  j.dry = (j.opts.flags & FM_BATCH_DRY_RUN) != 0;
  fmi_arena_init(&j.arena, 0);
  stats.sources = (unsigned)cfg->n_sources;
  j.failed = fmi_calloc(cfg->n_sources + 1, sizeof *j.failed);
  if (!j.failed) return fmi_fail(err, FM_ENOMEM, "out of memory");
  /* the model first: a bad model must not touch the store */
  st = fm_model_open(cfg->model, &j.model, err);
  if (st != FM_OK) {
    if (err) {
      char m[sizeof err->msg];
      snprintf(m, sizeof m, "%s", err->msg);
      fmi_fail(err, st, "model %s: %s", cfg->model, m);
    }
    goto done;
  }
  j.model_id = fm_model_id(j.model);
  j.n_heads = fm_model_head_count(j.model);
  if ((st = open_store(&j)) != FM_OK) goto done;
  if ((st = setup_workers(&j)) != FM_OK) goto done;
  if (!j.dry) {
    summary = model_summary(j.model);
    if (!summary) {
      st = fmi_fail(err, FM_ENOMEM, "out of memory");
      goto done;
    }
    if ((st = make_dir(&j, cfg->output)) != FM_OK ||
        (st = fm_store_use_model(j.store, j.model_id, cfg->model, summary,
                                 err)) != FM_OK ||
        (st = fm_store_run_begin(j.store, (int64_t)start, &run_id, err)) !=
            FM_OK)
      goto done;
    j.rejects_tmp = tmp_name(cfg->rejects);
    if (!j.rejects_tmp) {
      st = fmi_fail(err, FM_ENOMEM, "out of memory");
      goto done;
    }
    j.rejects = fopen(j.rejects_tmp, "wb");
    if (!j.rejects) {
      st = fmi_fail(err, FM_EIO, "cannot write the rejects file %s: %s",
                    j.rejects_tmp, strerror(errno));
      goto done;
    }
  }
  for (i = 0; i < cfg->n_sources; i++)
    if ((st = ingest_source(&j, &cfg->sources[i])) != FM_OK) goto done;
  if ((st = flush(&j)) != FM_OK) goto done;
  if (j.dry) goto done;
  if ((j.opts.flags & FM_BATCH_RETAG) && (st = retag(&j)) != FM_OK) goto done;
  if (cfg->keep_raw_text && cfg->raw_retention_days &&
      (st = fm_store_drop_raw_text(j.store, cfg->raw_retention_days,
                                   &stats.raw_dropped, err)) != FM_OK)
    goto done;
  if ((st = write_reports(&j)) != FM_OK) goto done;
  {
    FILE *f = j.rejects;
    j.rejects = NULL;
    if ((st = finish_file(f, j.rejects_tmp, cfg->rejects, err)) != FM_OK)
      goto done;
  }
  st = progress(&j, FM_BATCH_DONE, 0, NULL, NULL, NULL);
done:
  stats.seconds = now_s() - t0;
  stats.run_id = run_id;
  if (run_id) {
    /* the run's record: best effort after a failure, so the first error
     * is the one reported */
    fm_batch_stats *s = &stats;
    const char *status = st == FM_ECANCELLED ? "interrupted"
                         : st != FM_OK ? "failed"
                         : (s->rejected || s->sources_failed) ? "partial"
                                                               : "ok";
    char t_start[32], t_end[32];
    fmi_run_record rr;
    char *line = NULL;
    fm_error e2 = {FM_OK, 0, 0, ""};
    fm_error *e = st == FM_OK ? err : &e2;
    fm_status st2;
    iso_time(start, t_start);
    iso_time(time(NULL), t_end);
    memset(&rr, 0, sizeof rr);
    rr.run_id = run_id;
    rr.start = t_start;
    rr.end = t_end;
    rr.status = status;
    rr.seconds = stats.seconds;
    rr.model_id = j.model_id ? j.model_id : "";
    rr.stats = s;
    rr.failed = j.failed;
    rr.n_failed = j.n_failed;
    st2 = fmi_batch_run_json(&rr, &line, e);
    if (st2 == FM_OK)
      st2 = fm_store_run_end(j.store, run_id, (int64_t)time(NULL), status,
                             line, e);
    if (st2 == FM_OK) st2 = append_runs_log(cfg->runs_log, line, e);
    fmi_free(line);
    if (st == FM_OK) st = st2;
  }
  if (stats_out) *stats_out = stats;
  fmi_free(summary);
  free_job(&j);
  if (st == FM_OK) fmi_ok(err);
  return st;
}
