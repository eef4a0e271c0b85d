/*
 * store.c -- the batch store: one SQLite file in WAL mode. The only file
 * of the library that uses SQLite.
 *
 * Invariants the rest of the job relies on:
 *   - items and tags hold only values derived from the inputs and the
 *     model (hashes, redacted text, tags), never times or run numbers, so
 *     the same inputs give the same content however often, and however
 *     interrupted, a job ran. Times live in the runs table only.
 *   - an item and its tags change together, inside the caller's
 *     transaction (or one of our own when the caller has none).
 *   - a writable store is opened only under the flock(2) lock of PATH.lock,
 *     taken before SQLite touches the file, so migrations and batches never
 *     race another job. The kernel drops the lock when its holder dies; the
 *     pid and host written in the file only serve messages.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCHEMA_VERSION 2

/* Statements prepared once per store. */
enum {
  S_LOOKUP,
  S_INSERT,
  S_UPDATE_ALL,
  S_UPDATE_FIELDS,
  S_DEL_TAGS,
  S_INS_TAG,
  S_SET_TAGGED,
  S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    /* S_LOOKUP */
    "SELECT id, text_hash, row_hash, model_id FROM items "
    "WHERE source = ?1 AND key = ?2",
    /* S_INSERT */
    "INSERT INTO items(source, key, type, external_id, date, text_hash, "
    "row_hash, redacted_text, raw_text, lang_given, lang, account, segment, "
    "score, revenue, model_id, tokens) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
    "?15, ?16, ?17) ON CONFLICT(source, key) DO NOTHING",
    /* S_UPDATE_ALL */
    "UPDATE items SET type = ?2, date = ?3, text_hash = ?4, row_hash = ?5, "
    "redacted_text = ?6, raw_text = ?7, lang_given = ?8, lang = ?9, "
    "account = ?10, segment = ?11, score = ?12, revenue = ?13, "
    "model_id = ?14, tokens = ?15 WHERE id = ?1",
    /* S_UPDATE_FIELDS */
    "UPDATE items SET type = ?2, date = ?3, row_hash = ?4, account = ?5, "
    "segment = ?6, score = ?7, revenue = ?8 WHERE id = ?1",
    /* S_DEL_TAGS */
    "DELETE FROM tags WHERE item = ?1",
    /* S_INS_TAG */
    "INSERT INTO tags(item, head, label, prob, needs_review, model_id) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    /* S_SET_TAGGED */
    "UPDATE items SET lang = ?2, model_id = ?3, tokens = ?4 WHERE id = ?1",
};

/* Version 1, then one step per later version: a new store is made by the
 * same steps an old one is migrated with. */
static const char *const migrations[SCHEMA_VERSION + 1] = {
    NULL, /* 0 -> 1 is schema_v1 below */
    NULL,
    /* 1 -> 2: the tagging's tokens, so reports need not analyse again */
    "ALTER TABLE items ADD COLUMN tokens BLOB;",
};

static const char schema_v1[] =
    "CREATE TABLE meta("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE models("
    "  id TEXT PRIMARY KEY,"      /* fm_model_id: the model's checksum */
    "  path TEXT NOT NULL,"
    "  summary TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE items("
    "  id INTEGER PRIMARY KEY,"
    "  source TEXT NOT NULL,"     /* the configuration's source name */
    "  key TEXT NOT NULL,"        /* external id, or '#' + content hash */
    "  type TEXT NOT NULL,"       /* ticket, nps, churn, lost_deal, ... */
    "  external_id TEXT,"         /* NULL when keyed by content */
    "  date INTEGER,"             /* Unix seconds UTC */
    "  text_hash INTEGER NOT NULL," /* of the text and declared language */
    "  row_hash INTEGER NOT NULL,"  /* of the other fields */
    "  redacted_text TEXT,"       /* NULL until tagged */
    "  raw_text TEXT,"            /* only with keep_raw_text */
    "  lang_given TEXT NOT NULL,"
    "  lang TEXT,"                /* as tagged */
    "  account TEXT,"
    "  segment TEXT,"
    "  score REAL,"
    "  revenue REAL,"
    "  model_id TEXT,"            /* the model of its tags; NULL = none */
    "  UNIQUE(source, key));"
    "CREATE TABLE tags("
    "  item INTEGER NOT NULL,"
    "  head TEXT NOT NULL,"
    "  label TEXT NOT NULL,"
    "  prob REAL NOT NULL,"
    "  needs_review INTEGER NOT NULL,"
    "  model_id TEXT NOT NULL,"
    "  PRIMARY KEY(item, head)) WITHOUT ROWID;"
    "CREATE TABLE runs("
    "  id INTEGER PRIMARY KEY,"
    "  start INTEGER NOT NULL,"
    "  end INTEGER,"
    "  status TEXT NOT NULL,"
    "  counts TEXT);"
    "INSERT INTO meta VALUES('application', 'feedmine store');"
    "INSERT INTO meta VALUES('schema', '1');";

/* Invariant: `db` is open and every stmt prepared while the store lives;
 * `lock_fd` >= 0 exactly when the store is writable. */
struct fm_store {
  sqlite3 *db;
  sqlite3_stmt *st[S_COUNT];
  char *path;
  int lock_fd;
  bool readonly;
  bool keep_raw;
  char model_id[64];     /* current model, "" when none */
  char notice[192];
  fmi_buf hbuf;          /* scratch for hashing */
  fmi_buf tbuf;          /* scratch for token blobs */
  /* fm_store_stats_get's answer, owned until the next call */
  fm_store_stats stats;
  fm_store_count *stat_counts;
  size_t n_stat_counts;
  fmi_buf stat_names;
};

/* A cursor over items. With `merge`, tags come from a second statement
 * walking the tags table in item order beside the items (one pass each);
 * otherwise from a point query per item. `tag_pending` says the tags
 * statement already holds the first row of a later item. */
struct fm_store_cursor {
  fm_store *store;
  sqlite3_stmt *items;
  sqlite3_stmt *tags;
  bool merge, tag_pending, tags_done;
  fm_store_item item;
  fm_store_tag *tagv;
  size_t tag_cap;
  fmi_buf tagtext;
  size_t *tag_off; /* offsets of head and label in tagtext, 2 per tag */
  fm_token *tokv;
  size_t tok_cap;
};

/* ---- errors --------------------------------------------------------- */

static fm_status db_fail(fm_store *s, fm_error *err, const char *what) {
  int rc = sqlite3_extended_errcode(s->db);
  fm_status code = (rc & 0xff) == SQLITE_NOMEM ? FM_ENOMEM : FM_ESTORE;
  if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_FULL ||
      (rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_READONLY)
    code = FM_EIO;
  return fmi_fail(err, code, "store %s: %s: %s", s->path, what,
                  sqlite3_errmsg(s->db));
}

static fm_status exec(fm_store *s, const char *sql, fm_error *err) {
  if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_fail(s, err, sql);
  return FM_OK;
}

/* ---- the lock --------------------------------------------------------- */

/* Takes PATH.lock. A non-empty lock file we could lock was left by a job
 * that died without releasing it: its owner is reported as cleared. */
static fm_status take_lock(fm_store *s, fm_error *err) {
  char lpath[4096], prev[160], host[96], me[160];
  ssize_t n;
  int fd, len;
  if ((size_t)snprintf(lpath, sizeof lpath, "%s.lock", s->path) >=
      sizeof lpath)
    return fmi_fail(err, FM_EINVAL, "store path too long: %s", s->path);
  fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return fmi_fail(err, FM_EIO, "cannot open the store's lock %s: %s",
                    lpath, strerror(errno));
  n = pread(fd, prev, sizeof prev - 1, 0);
  prev[n > 0 ? n : 0] = 0;
  prev[strcspn(prev, "\n")] = 0;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(fd);
    if (e == EWOULDBLOCK)
      return fmi_fail(err, FM_EBUSY,
                      "store %s is locked by another job (%s)", s->path,
                      prev[0] ? prev : "owner unknown");
    return fmi_fail(err, FM_EIO, "cannot lock %s: %s", lpath, strerror(e));
  }
  /* read again under the lock: the previous holder may have just left */
  n = pread(fd, prev, sizeof prev - 1, 0);
  prev[n > 0 ? n : 0] = 0;
  prev[strcspn(prev, "\n")] = 0;
  if (prev[0])
    snprintf(s->notice, sizeof s->notice,
             "cleared a stale lock left by a job that died (%.140s)", prev);
  if (gethostname(host, sizeof host) != 0) strcpy(host, "?");
  host[sizeof host - 1] = 0;
  len = snprintf(me, sizeof me, "pid %ld on host %s\n", (long)getpid(), host);
  if (ftruncate(fd, 0) != 0 || pwrite(fd, me, (size_t)len, 0) != len) {
    int e = errno;
    close(fd);
    return fmi_fail(err, FM_EIO, "cannot write the store's lock %s: %s",
                    lpath, strerror(e));
  }
  s->lock_fd = fd;
  return FM_OK;
}

static void drop_lock(fm_store *s) {
  if (s->lock_fd < 0) return;
  /* emptied, not removed: removing a flock'd file lets a waiter lock an
   * orphaned inode while a third job creates a new one */
  if (ftruncate(s->lock_fd, 0) != 0) { /* a stale note is only a message */ }
  close(s->lock_fd);
  s->lock_fd = -1;
}

/* ---- open, schema, migration ------------------------------------------ */

int fm_store_schema_version(void) { return SCHEMA_VERSION; }

static fm_status pragma_int(fm_store *s, const char *sql, int64_t *out,
                            fm_error *err) {
  sqlite3_stmt *st;
  int rc;
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
    return db_fail(s, err, sql);
  rc = sqlite3_step(st);
  *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(s, err, sql);
  return FM_OK;
}

/* Recognises the file: a feedmine store of a version we read, an empty
 * database to initialise, or something to refuse with a clear reason. */
static fm_status check_schema(fm_store *s, fm_error *err) {
  int64_t app, ver, ntables;
  fm_status st;
  int rc;
  rc = sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_master", NULL, NULL,
                    NULL);
  if (rc != SQLITE_OK) {
    int e = sqlite3_extended_errcode(s->db) & 0xff;
    if (e == SQLITE_NOTADB || e == SQLITE_CORRUPT)
      return fmi_fail(err, FM_ESTORE,
                      "%s is not a feedmine store: not an SQLite database, "
                      "or a corrupt one (%s)", s->path,
                      sqlite3_errmsg(s->db));
    return db_fail(s, err, "reading the schema");
  }
  if ((st = pragma_int(s, "PRAGMA application_id", &app, err)) != FM_OK ||
      (st = pragma_int(s, "PRAGMA user_version", &ver, err)) != FM_OK ||
      (st = pragma_int(s, "SELECT count(*) FROM sqlite_master", &ntables,
                       err)) != FM_OK)
    return st;
  if (app == 0 && ntables == 0) {
    if (s->readonly)
      return fmi_fail(err, FM_ESTORE,
                      "%s is not a feedmine store: an empty database",
                      s->path);
    if ((st = exec(s, "BEGIN IMMEDIATE", err)) != FM_OK) return st;
    if ((st = exec(s, schema_v1, err)) != FM_OK ||
        (st = exec(s, "PRAGMA application_id = 1179472724", err)) != FM_OK ||
        (st = exec(s, "PRAGMA user_version = 1", err)) != FM_OK ||
        (st = exec(s, "COMMIT", err)) != FM_OK) {
      sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
      return st;
    }
    app = FMI_STORE_APP_ID;
    ver = 1;
  }
  if (app != FMI_STORE_APP_ID)
    return fmi_fail(err, FM_ESTORE,
                    "%s is not a feedmine store: an SQLite database of "
                    "another application (application_id 0x%08llx, "
                    "feedmine's is 0x%08x)", s->path,
                    (unsigned long long)(uint32_t)app, FMI_STORE_APP_ID);
  if (ver > SCHEMA_VERSION)
    return fmi_fail(err, FM_ESTORE,
                    "store %s has schema version %lld, newer than this "
                    "feedmine's %d: upgrade feedmine", s->path,
                    (long long)ver, SCHEMA_VERSION);
  if (ver < 1)
    return fmi_fail(err, FM_ESTORE,
                    "store %s has no schema version: a damaged store",
                    s->path);
  if (ver < SCHEMA_VERSION && s->readonly)
    return fmi_fail(err, FM_ESTORE,
                    "store %s has schema version %lld: open it once for "
                    "writing (feedmine batch) to migrate it to %d", s->path,
                    (long long)ver, SCHEMA_VERSION);
  /* one transaction per step: a killed migration leaves the old version */
  for (; ver < SCHEMA_VERSION; ver++) {
    char bump[64];
    snprintf(bump, sizeof bump, "PRAGMA user_version = %d", (int)ver + 1);
    if ((st = exec(s, "BEGIN IMMEDIATE", err)) != FM_OK) return st;
    if ((st = exec(s, migrations[ver + 1], err)) != FM_OK ||
        (st = exec(s, bump, err)) != FM_OK ||
        (st = exec(s, "UPDATE meta SET value = (SELECT user_version FROM "
                      "pragma_user_version) WHERE key = 'schema'", err)) !=
            FM_OK ||
        (st = exec(s, "COMMIT", err)) != FM_OK) {
      sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
      return st;
    }
  }
  return FM_OK;
}

static fm_status prepare_all(fm_store *s, fm_error *err) {
  size_t i;
  for (i = 0; i < S_COUNT; i++)
    if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                           &s->st[i], NULL) != SQLITE_OK)
      return db_fail(s, err, "preparing statements");
  return FM_OK;
}

fm_status fm_store_open(const char *path, const fm_store_opts *opts,
                        fm_store **out, fm_error *err) {
  fm_store *s;
  fm_status st;
  int flags, rc;
  if (out) *out = NULL;
  if (!path || !*path || !out)
    return fmi_fail(err, FM_EINVAL, "fm_store_open: no path");
  if (opts && opts->size < sizeof(size_t) + sizeof(unsigned))
    return fmi_fail(err, FM_EINVAL, "fm_store_open: bad options size");
  s = fmi_calloc(1, sizeof *s);
  if (!s) return fmi_fail(err, FM_ENOMEM, "out of memory opening %s", path);
  s->lock_fd = -1;
  s->readonly = opts && (opts->flags & FM_STORE_READONLY);
  s->keep_raw = opts && opts->keep_raw_text;
  s->path = fmi_strndup(path, strlen(path));
  if (!s->path) {
    fmi_free(s);
    return fmi_fail(err, FM_ENOMEM, "out of memory opening %s", path);
  }
  if (s->readonly) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
      st = fmi_fail(err, FM_EIO, "cannot open store %s: %s", path,
                    strerror(errno));
      goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
      st = fmi_fail(err, FM_EIO, "cannot open store %s: not a file", path);
      goto fail;
    }
  } else if ((st = take_lock(s, err)) != FM_OK) {
    goto fail;
  }
  flags = s->readonly ? SQLITE_OPEN_READONLY
                      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    st = fmi_fail(err, rc == SQLITE_NOMEM ? FM_ENOMEM : FM_EIO,
                  "cannot open store %s: %s", path,
                  s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    goto fail;
  }
  sqlite3_extended_result_codes(s->db, 1);
  sqlite3_busy_timeout(s->db, 10000);
  if ((st = check_schema(s, err)) != FM_OK) goto fail;
  if (!s->readonly) {
    /* WAL: readers (feedmine store stats) never block the nightly job;
     * NORMAL sync: a commit survives a killed process, and at worst the
     * last batches of a power cut, which a re-run redoes. */
    if ((st = exec(s, "PRAGMA journal_mode = WAL", err)) != FM_OK ||
        (st = exec(s, "PRAGMA synchronous = NORMAL", err)) != FM_OK)
      goto fail;
  }
  if ((st = exec(s, "PRAGMA foreign_keys = OFF", err)) != FM_OK ||
      (st = prepare_all(s, err)) != FM_OK)
    goto fail;
  fmi_ok(err);
  *out = s;
  return FM_OK;
fail:
  fm_store_close(s);
  return st;
}

void fm_store_close(fm_store *s) {
  size_t i;
  if (!s) return;
  if (s->db && !sqlite3_get_autocommit(s->db))
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  for (i = 0; i < S_COUNT; i++) sqlite3_finalize(s->st[i]);
  if (s->db) sqlite3_close_v2(s->db);
  drop_lock(s);
  fmi_buf_free(&s->hbuf);
  fmi_buf_free(&s->tbuf);
  fmi_buf_free(&s->stat_names);
  fmi_free(s->stat_counts);
  fmi_free(s->path);
  fmi_free(s);
}

const char *fm_store_notice(const fm_store *s) { return s ? s->notice : ""; }
const char *fmi_store_path(const fm_store *s) { return s->path; }
const char *fmi_store_current_model(const fm_store *s) { return s->model_id; }

static fm_status need_writable(fm_store *s, fm_error *err) {
  if (!s) return fmi_fail(err, FM_EINVAL, "no store");
  if (s->readonly)
    return fmi_fail(err, FM_EINVAL, "store %s is open read-only", s->path);
  return FM_OK;
}

/* ---- transactions ------------------------------------------------------ */

fm_status fm_store_begin(fm_store *s, fm_error *err) {
  fm_status st = need_writable(s, err);
  if (st != FM_OK) return st;
  return exec(s, "BEGIN IMMEDIATE", err);
}

fm_status fm_store_commit(fm_store *s, fm_error *err) {
  fm_status st = need_writable(s, err);
  if (st != FM_OK) return st;
  return exec(s, "COMMIT", err);
}

void fm_store_rollback(fm_store *s) {
  if (s && s->db && !sqlite3_get_autocommit(s->db))
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Wraps a multi-statement write in a transaction when the caller has
 * none, so an item never lands without its tags. */
static fm_status own_begin(fm_store *s, bool *own, fm_error *err) {
  *own = sqlite3_get_autocommit(s->db) != 0;
  return *own ? exec(s, "BEGIN IMMEDIATE", err) : FM_OK;
}

static fm_status own_end(fm_store *s, bool own, fm_status st,
                         fm_error *err) {
  if (!own) return st;
  if (st == FM_OK) return exec(s, "COMMIT", err);
  sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  return st;
}

/* ---- models ------------------------------------------------------------ */

fm_status fm_store_use_model(fm_store *s, const char *model_id,
                             const char *path, const char *summary,
                             fm_error *err) {
  sqlite3_stmt *q = NULL;
  fm_status st = need_writable(s, err);
  if (st != FM_OK) return st;
  if (!model_id || !*model_id || strlen(model_id) >= sizeof s->model_id)
    return fmi_fail(err, FM_EINVAL, "fm_store_use_model: bad model id");
  if (sqlite3_prepare_v2(s->db,
                         "INSERT INTO models(id, path, summary) "
                         "VALUES(?1, ?2, ?3) ON CONFLICT(id) DO UPDATE SET "
                         "path = excluded.path, summary = excluded.summary",
                         -1, &q, NULL) != SQLITE_OK)
    return db_fail(s, err, "recording the model");
  sqlite3_bind_text(q, 1, model_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, path ? path : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 3, summary ? summary : "", -1, SQLITE_STATIC);
  if (sqlite3_step(q) != SQLITE_DONE) st = db_fail(s, err, "recording the model");
  sqlite3_finalize(q);
  if (st != FM_OK) return st;
  /* remembered for readers (feedmine store stats); not part of the dump */
  if (sqlite3_prepare_v2(s->db,
                         "INSERT OR REPLACE INTO meta VALUES('current_model', "
                         "?1)", -1, &q, NULL) != SQLITE_OK)
    return db_fail(s, err, "recording the model");
  sqlite3_bind_text(q, 1, model_id, -1, SQLITE_STATIC);
  if (sqlite3_step(q) != SQLITE_DONE) st = db_fail(s, err, "recording the model");
  sqlite3_finalize(q);
  if (st != FM_OK) return st;
  strcpy(s->model_id, model_id);
  return FM_OK;
}

fm_status fmi_store_models(fm_store *s, fmi_store_model_fn fn, void *user,
                           fm_error *err) {
  sqlite3_stmt *q = NULL;
  fm_status st = FM_OK;
  int rc;
  if (sqlite3_prepare_v2(s->db,
                         "SELECT id, path, summary FROM models ORDER BY id",
                         -1, &q, NULL) != SQLITE_OK)
    return db_fail(s, err, "reading models");
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    st = fn(user, (const char *)sqlite3_column_text(q, 0),
            (const char *)sqlite3_column_text(q, 1),
            (const char *)sqlite3_column_text(q, 2));
    if (st != FM_OK) break;
  }
  if (st == FM_OK && rc != SQLITE_DONE) st = db_fail(s, err, "reading models");
  sqlite3_finalize(q);
  return st;
}

/* ---- items -------------------------------------------------------------- */

static size_t slen(const char *p) { return p ? strlen(p) : 0; }

/* Field by field into the scratch buffer, each as name, 0x1F, value,
 * 0x1E, so no two different items serialize alike. */
static fm_status hput(fmi_buf *b, const char *name, const void *v, size_t n) {
  if (fmi_buf_append(b, name, strlen(name)) != FM_OK ||
      fmi_buf_putc(b, 0x1f) != FM_OK || fmi_buf_append(b, v, n) != FM_OK ||
      fmi_buf_putc(b, 0x1e) != FM_OK)
    return FM_ENOMEM;
  return FM_OK;
}

static fm_status hput_num(fmi_buf *b, const char *name, int has, double v) {
  unsigned char bytes[8];
  uint64_t bits;
  if (!has) return hput(b, name, "", 0);
  if (v == 0) v = 0; /* -0 and 0 are one value */
  memcpy(&bits, &v, 8);
  fmi_put_le64(bytes, bits);
  return hput(b, name, bytes, 8);
}

static fm_status hput_date(fmi_buf *b, int has, int64_t d) {
  unsigned char bytes[8];
  if (!has) return hput(b, "date", "", 0);
  fmi_put_le64(bytes, (uint64_t)d);
  return hput(b, "date", bytes, 8);
}

/* The three hashes of an item: its text (with the declared language, which
 * changes how it is tagged), its other fields, and -- for exports without
 * ids -- all of it, which is then its key. */
typedef struct item_hashes {
  uint64_t text, row, content;
  char key_hash[20]; /* "#" + 16 hex digits */
} item_hashes;

static fm_status hash_item(fm_store *s, const fm_store_item *it,
                           item_hashes *h) {
  fmi_buf *b = &s->hbuf;
  fmi_buf_clear(b);
  if (hput(b, "text", it->text ? it->text : "", it->text_len) != FM_OK ||
      hput(b, "lang", it->lang_given ? it->lang_given : "",
           slen(it->lang_given)) != FM_OK)
    return FM_ENOMEM;
  h->text = fmi_hash64(b->data, b->len);
  fmi_buf_clear(b);
  if (hput(b, "type", it->type ? it->type : "", slen(it->type)) != FM_OK ||
      hput_date(b, it->has_date, it->date) != FM_OK ||
      hput(b, "account", it->account ? it->account : "",
           slen(it->account)) != FM_OK ||
      hput(b, "segment", it->segment ? it->segment : "",
           slen(it->segment)) != FM_OK ||
      hput_num(b, "score", it->has_score, it->score) != FM_OK ||
      hput_num(b, "revenue", it->has_revenue, it->revenue) != FM_OK)
    return FM_ENOMEM;
  h->row = fmi_hash64(b->data, b->len);
  {
    unsigned char both[16];
    fmi_put_le64(both, h->text);
    fmi_put_le64(both + 8, h->row);
    h->content = fmi_hash64(both, 16);
  }
  {
    /* as "#%016llx", which cost more than the hashing it follows */
    static const char hex[] = "0123456789abcdef";
    int i;
    h->key_hash[0] = '#';
    for (i = 0; i < 16; i++)
      h->key_hash[1 + i] = hex[(h->content >> (60 - 4 * i)) & 0xf];
    h->key_hash[17] = 0;
  }
  return FM_OK;
}

static const char *item_key(const fm_store_item *it, const item_hashes *h) {
  return it->external_id && *it->external_id ? it->external_id : h->key_hash;
}

static void bind_opt_text(sqlite3_stmt *q, int i, const char *v) {
  if (v && *v)
    sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(q, i);
}

static void bind_opt_double(sqlite3_stmt *q, int i, int has, double v) {
  if (has)
    sqlite3_bind_double(q, i, v);
  else
    sqlite3_bind_null(q, i);
}

/* Tokens are stored as a blob: a version byte (1), then per token its
 * kind and flags (a byte each), its text (varint length, bytes) and its
 * stem (varint length + 1, bytes; 0 when the stem is the text). Offsets
 * are not kept: nothing downstream of the store reads them. */
static fm_status put_varint(fmi_buf *b, uint64_t v) {
  unsigned char tmp[10];
  size_t n = 0;
  do {
    tmp[n] = (unsigned char)(v & 0x7f);
    v >>= 7;
    if (v) tmp[n] |= 0x80;
    n++;
  } while (v);
  return fmi_buf_append(b, tmp, n);
}

static fm_status encode_tokens(fmi_buf *b, const fm_token *t, size_t n) {
  size_t i;
  fmi_buf_clear(b);
  if (fmi_buf_putc(b, 1) != FM_OK) return FM_ENOMEM;
  for (i = 0; i < n; i++) {
    unsigned char kf[2];
    bool same = t[i].stem_len == t[i].len &&
                (t[i].stem == t[i].text ||
                 !memcmp(t[i].stem, t[i].text, t[i].len));
    kf[0] = (unsigned char)t[i].kind;
    kf[1] = (unsigned char)t[i].flags;
    if (fmi_buf_append(b, kf, 2) != FM_OK ||
        put_varint(b, t[i].len) != FM_OK ||
        fmi_buf_append(b, t[i].text, t[i].len) != FM_OK ||
        put_varint(b, same ? 0 : (uint64_t)t[i].stem_len + 1) != FM_OK ||
        (!same && fmi_buf_append(b, t[i].stem, t[i].stem_len) != FM_OK))
      return FM_ENOMEM;
  }
  return FM_OK;
}

static bool get_varint(const unsigned char **p, const unsigned char *end,
                       uint64_t *v) {
  unsigned shift = 0;
  *v = 0;
  while (*p < end && shift < 63) {
    unsigned char c = *(*p)++;
    *v |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) return true;
    shift += 7;
  }
  return false;
}

/* Decodes into `*v` (grown as needed); false for a damaged blob. Token
 * strings point into the blob. */
static bool decode_tokens(const unsigned char *p, size_t len, fm_token **v,
                          size_t *cap, size_t *n_out) {
  const unsigned char *end = p + len;
  size_t n = 0;
  if (len < 1 || *p++ != 1) return false;
  while (p < end) {
    uint64_t tl, sl;
    fm_token *t;
    if (end - p < 2) return false;
    if (n == *cap) {
      size_t c2 = *cap ? *cap * 2 : 64;
      fm_token *nv = fmi_realloc(*v, c2 * sizeof *nv);
      if (!nv) return false;
      *v = nv;
      *cap = c2;
    }
    t = &(*v)[n];
    memset(t, 0, sizeof *t);
    t->kind = (fm_token_kind)p[0];
    t->flags = p[1];
    p += 2;
    if (!get_varint(&p, end, &tl) || tl > (uint64_t)(end - p)) return false;
    t->text = (const char *)p;
    t->len = (size_t)tl;
    p += tl;
    if (!get_varint(&p, end, &sl)) return false;
    if (sl == 0) {
      t->stem = t->text;
      t->stem_len = t->len;
    } else {
      if (sl - 1 > (uint64_t)(end - p)) return false;
      t->stem = (const char *)p;
      t->stem_len = (size_t)(sl - 1);
      p += sl - 1;
    }
    n++;
  }
  *n_out = n;
  return true;
}

/* Binds the item's tokens as a blob (NULL without tokens or tags). */
static fm_status bind_tokens(fm_store *s, sqlite3_stmt *q, int i,
                             const fm_token *t, size_t n, bool tagging) {
  if (!tagging || !t) {
    sqlite3_bind_null(q, i);
    return FM_OK;
  }
  if (encode_tokens(&s->tbuf, t, n) != FM_OK) return FM_ENOMEM;
  if (s->tbuf.len > INT32_MAX) return FM_ETOOBIG;
  sqlite3_bind_blob(q, i, s->tbuf.data, (int)s->tbuf.len, SQLITE_STATIC);
  return FM_OK;
}

/* What the store holds under a key. */
typedef struct stored {
  bool found;
  int64_t id;
  uint64_t text_hash, row_hash;
  bool tagged; /* by any model */
  bool tagged_current;
} stored;

static fm_status lookup(fm_store *s, const char *source, const char *key,
                        stored *out, fm_error *err) {
  sqlite3_stmt *q = s->st[S_LOOKUP];
  int rc;
  memset(out, 0, sizeof *out);
  sqlite3_reset(q);
  sqlite3_bind_text(q, 1, source, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    const char *m = (const char *)sqlite3_column_text(q, 3);
    out->found = true;
    out->id = sqlite3_column_int64(q, 0);
    out->text_hash = (uint64_t)sqlite3_column_int64(q, 1);
    out->row_hash = (uint64_t)sqlite3_column_int64(q, 2);
    out->tagged = m != NULL;
    out->tagged_current = m && s->model_id[0] && !strcmp(m, s->model_id);
    rc = sqlite3_step(q);
  }
  sqlite3_reset(q);
  if (rc != SQLITE_DONE) return db_fail(s, err, "looking an item up");
  return FM_OK;
}

static fm_store_state state_of(const stored *d, const item_hashes *h) {
  if (!d->found) return FM_ITEM_NEW;
  if (d->text_hash != h->text) return FM_ITEM_EDITED;
  if (d->row_hash != h->row) return FM_ITEM_UPDATED;
  return FM_ITEM_UNCHANGED;
}

static fm_status check_item(fm_store *s, const fm_store_item *it,
                            fm_error *err) {
  if (!it || !it->source || !*it->source)
    return fmi_fail(err, FM_EINVAL, "store item without a source");
  if (!it->text && it->text_len)
    return fmi_fail(err, FM_EINVAL, "store item without text");
  (void)s;
  return FM_OK;
}

fm_status fm_store_check(fm_store *s, const fm_store_item *it,
                         fm_store_state *state, int *needs_tags,
                         fm_error *err) {
  item_hashes h;
  stored d;
  fm_status st;
  fm_store_state k;
  if (!s) return fmi_fail(err, FM_EINVAL, "no store");
  if ((st = check_item(s, it, err)) != FM_OK) return st;
  if (hash_item(s, it, &h) != FM_OK)
    return fmi_fail(err, FM_ENOMEM, "out of memory hashing an item");
  if ((st = lookup(s, it->source, item_key(it, &h), &d, err)) != FM_OK)
    return st;
  k = state_of(&d, &h);
  if (state) *state = k;
  if (needs_tags)
    *needs_tags = k == FM_ITEM_NEW || k == FM_ITEM_EDITED || !d.tagged;
  return FM_OK;
}

static fm_status step_done(fm_store *s, sqlite3_stmt *q, const char *what,
                           fm_error *err) {
  int rc = sqlite3_step(q);
  sqlite3_reset(q);
  if (rc != SQLITE_DONE) return db_fail(s, err, what);
  return FM_OK;
}

static fm_status write_tags(fm_store *s, int64_t id, bool existed,
                            const fm_store_tag *tags, size_t n,
                            fm_error *err) {
  sqlite3_stmt *q;
  fm_status st;
  size_t i;
  if (existed) {
    q = s->st[S_DEL_TAGS];
    sqlite3_bind_int64(q, 1, id);
    if ((st = step_done(s, q, "removing old tags", err)) != FM_OK) return st;
  }
  q = s->st[S_INS_TAG];
  for (i = 0; i < n; i++) {
    if (!tags[i].head || !tags[i].label)
      return fmi_fail(err, FM_EINVAL, "a tag without head or label");
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, tags[i].head, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, tags[i].label, -1, SQLITE_STATIC);
    sqlite3_bind_double(q, 4, tags[i].prob);
    sqlite3_bind_int(q, 5, tags[i].needs_review ? 1 : 0);
    sqlite3_bind_text(q, 6, s->model_id, -1, SQLITE_STATIC);
    if ((st = step_done(s, q, "writing tags", err)) != FM_OK) return st;
  }
  return FM_OK;
}

/* Binds the INSERT's columns (also used for the full UPDATE, whose
 * parameters are numbered differently, through `map`). */
static fm_status put_locked(fm_store *s, const fm_store_item *it,
                            fm_store_state *state, fm_error *err) {
  item_hashes h;
  stored d;
  fm_status st;
  sqlite3_stmt *q;
  const char *key;
  bool tagging = it->redacted != NULL;
  int rc;
  if (hash_item(s, it, &h) != FM_OK)
    return fmi_fail(err, FM_ENOMEM, "out of memory hashing an item");
  key = item_key(it, &h);
  /* new items, the common case of a nightly run, cost one statement */
  q = s->st[S_INSERT];
  sqlite3_bind_text(q, 1, it->source, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 3, it->type ? it->type : it->source, -1,
                    SQLITE_STATIC);
  bind_opt_text(q, 4, it->external_id);
  if (it->has_date)
    sqlite3_bind_int64(q, 5, it->date);
  else
    sqlite3_bind_null(q, 5);
  sqlite3_bind_int64(q, 6, (int64_t)h.text);
  sqlite3_bind_int64(q, 7, (int64_t)h.row);
  if (tagging)
    sqlite3_bind_text(q, 8, it->redacted, (int)it->redacted_len,
                      SQLITE_STATIC);
  else
    sqlite3_bind_null(q, 8);
  if (s->keep_raw && it->text)
    sqlite3_bind_text(q, 9, it->text, (int)it->text_len, SQLITE_STATIC);
  else
    sqlite3_bind_null(q, 9);
  sqlite3_bind_text(q, 10, it->lang_given ? it->lang_given : "", -1,
                    SQLITE_STATIC);
  if (tagging)
    bind_opt_text(q, 11, it->lang);
  else
    sqlite3_bind_null(q, 11);
  bind_opt_text(q, 12, it->account);
  bind_opt_text(q, 13, it->segment);
  bind_opt_double(q, 14, it->has_score, it->score);
  bind_opt_double(q, 15, it->has_revenue, it->revenue);
  if (tagging)
    sqlite3_bind_text(q, 16, s->model_id, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(q, 16);
  if ((st = bind_tokens(s, q, 17, it->tokens, it->n_tokens, tagging)) !=
      FM_OK) {
    sqlite3_reset(q);
    return fmi_fail(err, st, "out of memory storing tokens");
  }
  /* no RETURNING: SQLite would gather its row in a temporary table; an
   * insert that took place changed one row (the items table has no
   * triggers) and its id is the last one inserted */
  rc = sqlite3_step(q);
  sqlite3_reset(q);
  if (rc != SQLITE_DONE) return db_fail(s, err, "adding an item");
  if (sqlite3_changes(s->db) == 1) {
    int64_t id = sqlite3_last_insert_rowid(s->db);
    if (state) *state = FM_ITEM_NEW;
    return tagging ? write_tags(s, id, false, it->tags, it->n_tags, err)
                   : FM_OK;
  }
  /* the key is taken: compare with what is stored */
  if ((st = lookup(s, it->source, key, &d, err)) != FM_OK) return st;
  if (!d.found)
    return fmi_fail(err, FM_ESTORE, "store %s: item %s/%s vanished",
                    s->path, it->source, key);
  if (state) *state = state_of(&d, &h);
  if (tagging || d.text_hash != h.text) {
    /* a new text (its tags are stale) or new tags: rewrite it all */
    q = s->st[S_UPDATE_ALL];
    sqlite3_bind_int64(q, 1, d.id);
    sqlite3_bind_text(q, 2, it->type ? it->type : it->source, -1,
                      SQLITE_STATIC);
    if (it->has_date)
      sqlite3_bind_int64(q, 3, it->date);
    else
      sqlite3_bind_null(q, 3);
    sqlite3_bind_int64(q, 4, (int64_t)h.text);
    sqlite3_bind_int64(q, 5, (int64_t)h.row);
    if (tagging)
      sqlite3_bind_text(q, 6, it->redacted, (int)it->redacted_len,
                        SQLITE_STATIC);
    else
      sqlite3_bind_null(q, 6);
    if (s->keep_raw && it->text)
      sqlite3_bind_text(q, 7, it->text, (int)it->text_len, SQLITE_STATIC);
    else
      sqlite3_bind_null(q, 7);
    sqlite3_bind_text(q, 8, it->lang_given ? it->lang_given : "", -1,
                      SQLITE_STATIC);
    if (tagging)
      bind_opt_text(q, 9, it->lang);
    else
      sqlite3_bind_null(q, 9);
    bind_opt_text(q, 10, it->account);
    bind_opt_text(q, 11, it->segment);
    bind_opt_double(q, 12, it->has_score, it->score);
    bind_opt_double(q, 13, it->has_revenue, it->revenue);
    if (tagging)
      sqlite3_bind_text(q, 14, s->model_id, -1, SQLITE_STATIC);
    else
      sqlite3_bind_null(q, 14);
    if ((st = bind_tokens(s, q, 15, it->tokens, it->n_tokens, tagging)) !=
        FM_OK) {
      sqlite3_reset(q);
      return fmi_fail(err, st, "out of memory storing tokens");
    }
    if ((st = step_done(s, q, "updating an item", err)) != FM_OK) return st;
    if (tagging) return write_tags(s, d.id, true, it->tags, it->n_tags, err);
    q = s->st[S_DEL_TAGS];
    sqlite3_bind_int64(q, 1, d.id);
    return step_done(s, q, "removing stale tags", err);
  }
  if (d.row_hash != h.row) {
    q = s->st[S_UPDATE_FIELDS];
    sqlite3_bind_int64(q, 1, d.id);
    sqlite3_bind_text(q, 2, it->type ? it->type : it->source, -1,
                      SQLITE_STATIC);
    if (it->has_date)
      sqlite3_bind_int64(q, 3, it->date);
    else
      sqlite3_bind_null(q, 3);
    sqlite3_bind_int64(q, 4, (int64_t)h.row);
    bind_opt_text(q, 5, it->account);
    bind_opt_text(q, 6, it->segment);
    bind_opt_double(q, 7, it->has_score, it->score);
    bind_opt_double(q, 8, it->has_revenue, it->revenue);
    return step_done(s, q, "updating an item", err);
  }
  return FM_OK;
}

fm_status fm_store_put(fm_store *s, const fm_store_item *it,
                       fm_store_state *state, fm_error *err) {
  fm_status st;
  bool own;
  if ((st = need_writable(s, err)) != FM_OK) return st;
  if ((st = check_item(s, it, err)) != FM_OK) return st;
  if (it->redacted && !s->model_id[0])
    return fmi_fail(err, FM_EINVAL,
                    "tags given but no current model (fm_store_use_model)");
  if (it->redacted_len > INT32_MAX || it->text_len > INT32_MAX)
    return fmi_fail(err, FM_ETOOBIG, "store item text over 2 GiB");
  if ((st = own_begin(s, &own, err)) != FM_OK) return st;
  st = put_locked(s, it, state, err);
  return own_end(s, own, st, err);
}

fm_status fm_store_set_tags(fm_store *s, int64_t rowid, const char *lang,
                            const fm_store_tag *tags, size_t n_tags,
                            const fm_token *tokens, size_t n_tokens,
                            fm_error *err) {
  sqlite3_stmt *q;
  fm_status st;
  bool own;
  if ((st = need_writable(s, err)) != FM_OK) return st;
  if (!s->model_id[0])
    return fmi_fail(err, FM_EINVAL,
                    "tags given but no current model (fm_store_use_model)");
  if ((st = own_begin(s, &own, err)) != FM_OK) return st;
  q = s->st[S_SET_TAGGED];
  sqlite3_bind_int64(q, 1, rowid);
  bind_opt_text(q, 2, lang);
  sqlite3_bind_text(q, 3, s->model_id, -1, SQLITE_STATIC);
  st = bind_tokens(s, q, 4, tokens, n_tokens, true);
  if (st != FM_OK) {
    sqlite3_reset(q);
    st = fmi_fail(err, st, "out of memory storing tokens");
    return own_end(s, own, st, err);
  }
  st = step_done(s, q, "re-tagging an item", err);
  if (st == FM_OK && sqlite3_changes(s->db) == 0)
    st = fmi_fail(err, FM_ENOTFOUND, "store %s has no item %lld", s->path,
                  (long long)rowid);
  if (st == FM_OK) st = write_tags(s, rowid, true, tags, n_tags, err);
  return own_end(s, own, st, err);
}

fm_status fm_store_drop_raw_text(fm_store *s, unsigned days,
                                 uint64_t *cleared, fm_error *err) {
  sqlite3_stmt *q = NULL;
  fm_status st;
  bool own;
  if (cleared) *cleared = 0;
  if ((st = need_writable(s, err)) != FM_OK) return st;
  if (!days) return FM_OK;
  if ((st = own_begin(s, &own, err)) != FM_OK) return st;
  if (sqlite3_prepare_v2(s->db,
                         "UPDATE items SET raw_text = NULL WHERE raw_text IS "
                         "NOT NULL AND date < (SELECT max(date) FROM items) "
                         "- ?1",
                         -1, &q, NULL) != SQLITE_OK) {
    st = db_fail(s, err, "dropping old raw text");
  } else {
    sqlite3_bind_int64(q, 1, (int64_t)days * 86400);
    if (sqlite3_step(q) != SQLITE_DONE)
      st = db_fail(s, err, "dropping old raw text");
    else if (cleared)
      *cleared = (uint64_t)sqlite3_changes64(s->db);
  }
  sqlite3_finalize(q);
  return own_end(s, own, st, err);
}

/* ---- cursors ------------------------------------------------------------ */

#define ITEM_COLS                                                         \
  "id, source, key, type, external_id, date, raw_text, redacted_text, "   \
  "lang_given, lang, account, segment, score, revenue, model_id, tokens"

fm_status fm_store_query_items(fm_store *s, const fm_store_query *q,
                               fm_store_cursor **out, fm_error *err) {
  fm_store_cursor *c;
  char sql[512];
  unsigned flags = q ? q->flags : 0;
  int64_t after = q ? q->after_rowid : 0;
  uint64_t limit = q ? q->limit : 0;
  bool needs = (flags & FM_QUERY_NEEDS_TAGS) != 0;
  if (out) *out = NULL;
  if (!s || !out) return fmi_fail(err, FM_EINVAL, "fm_store_query_items");
  if (q && q->size < sizeof(size_t) + sizeof(unsigned))
    return fmi_fail(err, FM_EINVAL, "fm_store_query_items: bad size");
  c = fmi_calloc(1, sizeof *c);
  if (!c) return fmi_fail(err, FM_ENOMEM, "out of memory reading items");
  c->store = s;
  c->merge = !(flags & FM_QUERY_CANONICAL);
  snprintf(sql, sizeof sql,
           "SELECT " ITEM_COLS " FROM items WHERE id > ?1%s ORDER BY %s "
           "LIMIT ?3",
           needs ? " AND model_id IS NOT ?2" : "",
           c->merge ? "id" : "source, key");
  if (sqlite3_prepare_v2(s->db, sql, -1, &c->items, NULL) != SQLITE_OK)
    goto dbfail;
  sqlite3_bind_int64(c->items, 1, after);
  if (needs) {
    if (s->model_id[0])
      sqlite3_bind_text(c->items, 2, s->model_id, -1, SQLITE_STATIC);
    else
      sqlite3_bind_null(c->items, 2);
  }
  sqlite3_bind_int64(c->items, 3, limit ? (int64_t)limit : -1);
  if (sqlite3_prepare_v2(s->db,
                         c->merge
                             ? "SELECT item, head, label, prob, needs_review "
                               "FROM tags WHERE item > ?1 ORDER BY item, head"
                             : "SELECT item, head, label, prob, needs_review "
                               "FROM tags WHERE item = ?1 ORDER BY head",
                         -1, &c->tags, NULL) != SQLITE_OK)
    goto dbfail;
  if (c->merge) sqlite3_bind_int64(c->tags, 1, after);
  *out = c;
  return FM_OK;
dbfail : {
  fm_status st = db_fail(s, err, "reading items");
  fm_store_cursor_free(c);
  return st;
}
}

void fm_store_cursor_free(fm_store_cursor *c) {
  if (!c) return;
  sqlite3_finalize(c->items);
  sqlite3_finalize(c->tags);
  fmi_free(c->tagv);
  fmi_free(c->tag_off);
  fmi_free(c->tokv);
  fmi_buf_free(&c->tagtext);
  fmi_free(c);
}

static const char *col_text(sqlite3_stmt *q, int i) {
  return (const char *)sqlite3_column_text(q, i);
}

static fm_status add_tag(fm_store_cursor *c, size_t n, sqlite3_stmt *t) {
  const char *head = col_text(t, 1), *label = col_text(t, 2);
  if (n == c->tag_cap) {
    size_t cap = c->tag_cap ? c->tag_cap * 2 : 8;
    fm_store_tag *v = fmi_realloc(c->tagv, cap * sizeof *v);
    size_t *o;
    if (!v) return FM_ENOMEM;
    c->tagv = v;
    o = fmi_realloc(c->tag_off, cap * 2 * sizeof *o);
    if (!o) return FM_ENOMEM;
    c->tag_off = o;
    c->tag_cap = cap;
  }
  c->tag_off[2 * n] = c->tagtext.len;
  if (fmi_buf_append(&c->tagtext, head ? head : "", slen(head) + 1) != FM_OK)
    return FM_ENOMEM;
  c->tag_off[2 * n + 1] = c->tagtext.len;
  if (fmi_buf_append(&c->tagtext, label ? label : "", slen(label) + 1) !=
      FM_OK)
    return FM_ENOMEM;
  c->tagv[n].prob = sqlite3_column_double(t, 3);
  c->tagv[n].needs_review = sqlite3_column_int(t, 4);
  return FM_OK;
}

/* Collects the tags of item `id` into the cursor. */
static fm_status load_tags(fm_store_cursor *c, int64_t id, fm_error *err) {
  sqlite3_stmt *t = c->tags;
  size_t n = 0, i;
  int rc;
  fmi_buf_clear(&c->tagtext);
  if (!c->merge) {
    sqlite3_reset(t);
    sqlite3_bind_int64(t, 1, id);
    while ((rc = sqlite3_step(t)) == SQLITE_ROW)
      if (add_tag(c, n++, t) != FM_OK)
        return fmi_fail(err, FM_ENOMEM, "out of memory reading tags");
    if (rc != SQLITE_DONE) return db_fail(c->store, err, "reading tags");
  } else {
    for (;;) {
      int64_t ti;
      if (!c->tag_pending) {
        if (c->tags_done) break;
        rc = sqlite3_step(t);
        if (rc == SQLITE_DONE) {
          c->tags_done = true;
          break;
        }
        if (rc != SQLITE_ROW) return db_fail(c->store, err, "reading tags");
        c->tag_pending = true;
      }
      ti = sqlite3_column_int64(t, 0);
      if (ti > id) break; /* belongs to a later item */
      if (ti == id && add_tag(c, n++, t) != FM_OK)
        return fmi_fail(err, FM_ENOMEM, "out of memory reading tags");
      c->tag_pending = false;
    }
  }
  for (i = 0; i < n; i++) {
    c->tagv[i].head = c->tagtext.data + c->tag_off[2 * i];
    c->tagv[i].label = c->tagtext.data + c->tag_off[2 * i + 1];
  }
  c->item.tags = c->tagv;
  c->item.n_tags = n;
  return FM_OK;
}

fm_status fm_store_cursor_next(fm_store_cursor *c, const fm_store_item **out,
                               fm_error *err) {
  sqlite3_stmt *q;
  fm_store_item *it;
  int rc;
  if (out) *out = NULL;
  if (!c || !out) return fmi_fail(err, FM_EINVAL, "fm_store_cursor_next");
  q = c->items;
  rc = sqlite3_step(q);
  if (rc == SQLITE_DONE) return FM_EEOF;
  if (rc != SQLITE_ROW) return db_fail(c->store, err, "reading items");
  it = &c->item;
  memset(it, 0, sizeof *it);
  it->rowid = sqlite3_column_int64(q, 0);
  it->source = col_text(q, 1);
  it->key = col_text(q, 2);
  it->type = col_text(q, 3);
  it->external_id = col_text(q, 4) ? col_text(q, 4) : "";
  it->has_date = sqlite3_column_type(q, 5) != SQLITE_NULL;
  it->date = sqlite3_column_int64(q, 5);
  it->text = col_text(q, 6);
  it->text_len = (size_t)sqlite3_column_bytes(q, 6);
  it->redacted = col_text(q, 7);
  it->redacted_len = (size_t)sqlite3_column_bytes(q, 7);
  it->lang_given = col_text(q, 8) ? col_text(q, 8) : "";
  it->lang = col_text(q, 9) ? col_text(q, 9) : "";
  it->account = col_text(q, 10) ? col_text(q, 10) : "";
  it->segment = col_text(q, 11) ? col_text(q, 11) : "";
  it->has_score = sqlite3_column_type(q, 12) != SQLITE_NULL;
  it->score = sqlite3_column_double(q, 12);
  it->has_revenue = sqlite3_column_type(q, 13) != SQLITE_NULL;
  it->revenue = sqlite3_column_double(q, 13);
  it->model_id = col_text(q, 14) ? col_text(q, 14) : "";
  if (sqlite3_column_type(q, 15) == SQLITE_BLOB) {
    const unsigned char *b = sqlite3_column_blob(q, 15);
    size_t n = 0;
    /* a damaged blob reads as no tokens: reports analyse the text then */
    if (b && decode_tokens(b, (size_t)sqlite3_column_bytes(q, 15), &c->tokv,
                           &c->tok_cap, &n)) {
      it->tokens = c->tokv;
      it->n_tokens = n;
    }
  }
  /* column_text pointers stay valid until the next step of `q`: reading
   * the tags steps another statement only */
  if (!it->source || !it->key || !it->type)
    return fmi_fail(err, FM_ESTORE, "store %s: item %lld is damaged",
                    c->store->path, (long long)it->rowid);
  {
    fm_status st = load_tags(c, it->rowid, err);
    if (st != FM_OK) return st;
  }
  *out = it;
  return FM_OK;
}

/* ---- stats, vacuum, runs -------------------------------------------------- */

static fm_status stat_add(fm_store *s, size_t *n, const char *name,
                          uint64_t count) {
  if ((*n + 1) % 16 == 1) {
    fm_store_count *v =
        fmi_realloc(s->stat_counts, (*n + 17) * sizeof *s->stat_counts);
    if (!v) return FM_ENOMEM;
    s->stat_counts = v;
  }
  /* names go to stat_names; pointers fixed once all are in */
  s->stat_counts[*n].name = (const char *)(uintptr_t)s->stat_names.len;
  s->stat_counts[*n].count = count;
  if (fmi_buf_append(&s->stat_names, name ? name : "", slen(name) + 1) !=
      FM_OK)
    return FM_ENOMEM;
  (*n)++;
  return FM_OK;
}

static fm_status stat_groups(fm_store *s, const char *sql, size_t *n,
                             fm_error *err) {
  sqlite3_stmt *q;
  int rc;
  fm_status st = FM_OK;
  if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
    return db_fail(s, err, "reading stats");
  while ((rc = sqlite3_step(q)) == SQLITE_ROW)
    if (stat_add(s, n, col_text(q, 0),
                 (uint64_t)sqlite3_column_int64(q, 1)) != FM_OK) {
      st = fmi_fail(err, FM_ENOMEM, "out of memory reading stats");
      break;
    }
  if (st == FM_OK && rc != SQLITE_DONE) st = db_fail(s, err, "reading stats");
  sqlite3_finalize(q);
  return st;
}

fm_status fm_store_stats_get(fm_store *s, const fm_store_stats **out,
                             fm_error *err) {
  fm_store_stats *o;
  sqlite3_stmt *q = NULL;
  size_t n = 0, n_src, i;
  fm_status st;
  int64_t v;
  size_t model_off = 0, run_off = 0;
  if (out) *out = NULL;
  if (!s || !out) return fmi_fail(err, FM_EINVAL, "fm_store_stats_get");
  o = &s->stats;
  memset(o, 0, sizeof *o);
  fmi_buf_clear(&s->stat_names);
  o->schema_version = SCHEMA_VERSION;
  if ((st = pragma_int(s, "PRAGMA user_version", &v, err)) != FM_OK)
    return st;
  o->schema_version = (int)v;
  if (sqlite3_prepare_v2(s->db,
                         "SELECT count(*), count(date), min(date), "
                         "max(date), sum(model_id IS NULL), "
                         "sum(raw_text IS NOT NULL) FROM items",
                         -1, &q, NULL) != SQLITE_OK ||
      sqlite3_step(q) != SQLITE_ROW) {
    sqlite3_finalize(q);
    return db_fail(s, err, "reading stats");
  }
  o->items = (uint64_t)sqlite3_column_int64(q, 0);
  o->has_dates = sqlite3_column_int64(q, 1) > 0;
  o->first_date = sqlite3_column_int64(q, 2);
  o->last_date = sqlite3_column_int64(q, 3);
  o->untagged = (uint64_t)sqlite3_column_int64(q, 4);
  o->raw_kept = (uint64_t)sqlite3_column_int64(q, 5);
  sqlite3_finalize(q);
  if ((st = pragma_int(s, "SELECT count(*) FROM tags", &v, err)) != FM_OK)
    return st;
  o->tags = (uint64_t)v;
  if ((st = pragma_int(s,
                       "SELECT count(*) FROM items WHERE EXISTS(SELECT 1 "
                       "FROM tags WHERE item = items.id AND needs_review)",
                       &v, err)) != FM_OK)
    return st;
  o->needs_review = (uint64_t)v;
  if ((st = pragma_int(s, "SELECT count(*) FROM models", &v, err)) != FM_OK)
    return st;
  o->models = (uint64_t)v;
  if ((st = pragma_int(s, "SELECT count(*) FROM runs", &v, err)) != FM_OK)
    return st;
  o->runs = (uint64_t)v;
  if ((st = stat_groups(s,
                        "SELECT source, count(*) FROM items GROUP BY source "
                        "ORDER BY source",
                        &n, err)) != FM_OK)
    return st;
  n_src = n;
  if ((st = stat_groups(s,
                        "SELECT model_id, count(*) FROM items WHERE "
                        "model_id IS NOT NULL GROUP BY model_id ORDER BY "
                        "model_id",
                        &n, err)) != FM_OK)
    return st;
  model_off = s->stat_names.len;
  if (sqlite3_prepare_v2(s->db,
                         "SELECT value FROM meta WHERE key = 'current_model'",
                         -1, &q, NULL) != SQLITE_OK)
    return db_fail(s, err, "reading stats");
  {
    int rc = sqlite3_step(q);
    const char *m = rc == SQLITE_ROW ? col_text(q, 0) : "";
    if (s->model_id[0]) m = s->model_id;
    st = fmi_buf_append(&s->stat_names, m ? m : "", slen(m) + 1);
    sqlite3_finalize(q);
    if (st != FM_OK)
      return fmi_fail(err, FM_ENOMEM, "out of memory reading stats");
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      return db_fail(s, err, "reading stats");
  }
  run_off = s->stat_names.len;
  if (sqlite3_prepare_v2(s->db,
                         "SELECT status FROM runs ORDER BY id DESC LIMIT 1",
                         -1, &q, NULL) != SQLITE_OK)
    return db_fail(s, err, "reading stats");
  {
    int rc = sqlite3_step(q);
    const char *status = rc == SQLITE_ROW ? col_text(q, 0) : "";
    st = fmi_buf_append(&s->stat_names, status ? status : "",
                        slen(status) + 1);
    sqlite3_finalize(q);
    if (st != FM_OK)
      return fmi_fail(err, FM_ENOMEM, "out of memory reading stats");
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      return db_fail(s, err, "reading stats");
  }
  for (i = 0; i < n; i++)
    s->stat_counts[i].name =
        s->stat_names.data + (uintptr_t)s->stat_counts[i].name;
  o->sources = s->stat_counts;
  o->n_sources = n_src;
  o->by_model = s->stat_counts + n_src;
  o->n_by_model = n - n_src;
  o->current_model = s->stat_names.data + model_off;
  o->last_run_status = s->stat_names.data + run_off;
  *out = o;
  return FM_OK;
}

fm_status fmi_store_last_date(fm_store *s, int64_t *last, int *has,
                              fm_error *err) {
  sqlite3_stmt *q = NULL;
  int rc;
  *last = 0;
  *has = 0;
  if (sqlite3_prepare_v2(s->db, "SELECT max(date) FROM items", -1, &q,
                         NULL) != SQLITE_OK)
    return db_fail(s, err, "reading dates");
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
    *last = sqlite3_column_int64(q, 0);
    *has = 1;
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_ROW) return db_fail(s, err, "reading dates");
  return FM_OK;
}

fm_status fm_store_vacuum(fm_store *s, fm_error *err) {
  fm_status st = need_writable(s, err);
  if (st != FM_OK) return st;
  if ((st = exec(s, "VACUUM", err)) != FM_OK ||
      (st = exec(s, "ANALYZE", err)) != FM_OK ||
      (st = exec(s, "PRAGMA wal_checkpoint(TRUNCATE)", err)) != FM_OK)
    return st;
  return FM_OK;
}

fm_status fm_store_run_begin(fm_store *s, int64_t start, int64_t *run_id,
                             fm_error *err) {
  sqlite3_stmt *q = NULL;
  fm_status st = need_writable(s, err);
  if (run_id) *run_id = 0;
  if (st != FM_OK) return st;
  /* we hold the lock: a run still "running" belongs to a dead job */
  if ((st = exec(s, "UPDATE runs SET status = 'interrupted' WHERE status = "
                    "'running'", err)) != FM_OK)
    return st;
  if (sqlite3_prepare_v2(s->db,
                         "INSERT INTO runs(start, status) "
                         "VALUES(?1, 'running')",
                         -1, &q, NULL) != SQLITE_OK)
    return db_fail(s, err, "recording the run");
  sqlite3_bind_int64(q, 1, start);
  if (sqlite3_step(q) != SQLITE_DONE) st = db_fail(s, err, "recording the run");
  sqlite3_finalize(q);
  if (st == FM_OK && run_id) *run_id = sqlite3_last_insert_rowid(s->db);
  return st;
}

fm_status fm_store_run_end(fm_store *s, int64_t run_id, int64_t end,
                           const char *status, const char *counts_json,
                           fm_error *err) {
  sqlite3_stmt *q = NULL;
  fm_status st = need_writable(s, err);
  if (st != FM_OK) return st;
  if (sqlite3_prepare_v2(s->db,
                         "UPDATE runs SET end = ?2, status = ?3, counts = ?4 "
                         "WHERE id = ?1",
                         -1, &q, NULL) != SQLITE_OK)
    return db_fail(s, err, "recording the run");
  sqlite3_bind_int64(q, 1, run_id);
  sqlite3_bind_int64(q, 2, end);
  sqlite3_bind_text(q, 3, status ? status : "ok", -1, SQLITE_STATIC);
  bind_opt_text(q, 4, counts_json);
  if (sqlite3_step(q) != SQLITE_DONE) st = db_fail(s, err, "recording the run");
  sqlite3_finalize(q);
  return st;
}
