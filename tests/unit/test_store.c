/* test_store.c -- the batch store: idempotent keys, edits, tags by model,
 * canonical dump, lock, refusing foreign or damaged files, and an
 * allocation-failure loop over open. */
#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char path[128];

static int setup(void **state) {
  (void)state;
  strcpy(dir, "/tmp/fm_store_XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(path, sizeof path, "%s/s.db", dir);
  return 0;
}

static int teardown(void **state) {
  char cmd[128];
  (void)state;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static fm_store *open_rw(int keep_raw) {
  fm_store_opts o = FM_STORE_OPTS_INIT;
  fm_store *s = NULL;
  fm_error err;
  o.keep_raw_text = keep_raw;
  if (fm_store_open(path, &o, &s, &err) != FM_OK)
    fail_msg("open: %s", err.msg);
  return s;
}

static const fm_store_tag tags_a[] = {{"area", "billing", 0.91, 0},
                                      {"sentiment", "negative", 0.55, 1}};
static const fm_store_tag tags_b[] = {{"area", "login", 0.8, 0},
                                      {"sentiment", "neutral", 0.7, 0}};

static fm_store_item item(const char *id, const char *text) {
  fm_store_item it;
  memset(&it, 0, sizeof it);
  it.source = "ticket";
  it.type = "ticket";
  it.external_id = id;
  it.text = text;
  it.text_len = strlen(text);
  it.has_date = 1;
  it.date = 1700000000;
  it.account = "acme";
  it.lang_given = "";
  return it;
}

static const fm_token toks_b[] = {
    {"cannot", 6, "cannot", 6, 0, 0, FM_TOKEN_WORD, 0},
    {"log", 3, "log", 3, 0, 0, FM_TOKEN_WORD, FM_TOKEN_NEGATED},
    {"in", 2, "in", 2, 0, 0, FM_TOKEN_WORD,
     FM_TOKEN_STOPWORD | FM_TOKEN_NEGATED}};

static void tag(fm_store_item *it, const fm_store_tag *t) {
  it->redacted = it->text;
  it->redacted_len = it->text_len;
  it->lang = "en";
  it->tags = t;
  it->n_tags = 2;
  if (t == tags_b && !strcmp(it->text, "I cannot log in")) {
    it->tokens = toks_b;
    it->n_tokens = 3;
  }
}

static fm_store_state put(fm_store *s, fm_store_item *it) {
  fm_store_state k;
  fm_error err;
  if (fm_store_put(s, it, &k, &err) != FM_OK) fail_msg("put: %s", err.msg);
  return k;
}

static void check(fm_store *s, fm_store_item *it, fm_store_state want,
                  int want_tags) {
  fm_store_state k;
  int needs;
  fm_error err;
  if (fm_store_check(s, it, &k, &needs, &err) != FM_OK)
    fail_msg("check: %s", err.msg);
  assert_int_equal(k, want);
  assert_int_equal(needs, want_tags);
}

/* The canonical dump of the store at `path`, read-only. */
static char *dump(const char *p) {
  fm_store_opts o = FM_STORE_OPTS_INIT;
  fm_store *s = NULL;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  fm_error err;
  o.flags = FM_STORE_READONLY;
  assert_non_null(f);
  if (fm_store_open(p, &o, &s, &err) != FM_OK) fail_msg("open: %s", err.msg);
  assert_int_equal(fm_store_export(s, f, &err), FM_OK);
  fm_store_close(s);
  fclose(f);
  return buf;
}

static void test_idempotent_keys_and_edits(void **state) {
  fm_store *s = open_rw(0);
  fm_store_item a = item("T-1", "I was charged twice"), b;
  fm_error err;
  (void)state;
  assert_int_equal(fm_store_use_model(s, "00112233aabbccdd", "m.fmm",
                                      "area(2) sentiment(3)", &err),
                   FM_OK);
  check(s, &a, FM_ITEM_NEW, 1);
  tag(&a, tags_a);
  assert_int_equal(put(s, &a), FM_ITEM_NEW);
  /* the same row again: nothing to do */
  check(s, &a, FM_ITEM_UNCHANGED, 0);
  assert_int_equal(put(s, &a), FM_ITEM_UNCHANGED);
  /* another field changed: updated, its tags kept */
  b = item("T-1", "I was charged twice");
  b.account = "acme-eu";
  check(s, &b, FM_ITEM_UPDATED, 0);
  assert_int_equal(put(s, &b), FM_ITEM_UPDATED);
  /* the text changed: edited, must be tagged again */
  b = item("T-1", "I cannot log in");
  check(s, &b, FM_ITEM_EDITED, 1);
  tag(&b, tags_b);
  assert_int_equal(put(s, &b), FM_ITEM_EDITED);
  /* a declared language is part of what is tagged */
  b.lang_given = "de";
  check(s, &b, FM_ITEM_EDITED, 1);
  fm_store_close(s);
  {
    char *d = dump(path);
    assert_string_equal(
        d,
        "{\"source\":\"ticket\",\"key\":\"T-1\",\"type\":\"ticket\",\"id\":"
        "\"T-1\",\"date\":1700000000,\"lang_given\":\"\",\"lang\":\"en\","
        "\"account\":\"acme\",\"segment\":\"\",\"score\":null,\"revenue\":"
        "null,\"text\":null,\"redacted\":\"I cannot log in\",\"model\":"
        "\"00112233aabbccdd\",\"tags\":[{\"head\":\"area\",\"label\":"
        "\"login\",\"prob\":0.80000000000000004,\"needs_review\":false},"
        "{\"head\":\"sentiment\",\"label\":\"neutral\",\"prob\":"
        "0.69999999999999996,\"needs_review\":false}],\"tokens\":[[\"cannot\","
        "\"cannot\",0,0],[\"log\",\"log\",0,2],[\"in\",\"in\",0,3]]}\n"
        "{\"model\":\"00112233aabbccdd\",\"path\":\"m.fmm\",\"summary\":"
        "\"area(2) sentiment(3)\"}\n");
    free(d);
  }
}

static void test_content_key_without_id(void **state) {
  fm_store *s = open_rw(0);
  fm_store_item a = item("", "same words"), b = item(NULL, "same words");
  fm_store_item c = item("", "same words");
  fm_store_cursor *cur;
  const fm_store_item *got;
  fm_error err;
  (void)state;
  c.account = "other";
  assert_int_equal(put(s, &a), FM_ITEM_NEW);
  assert_int_equal(put(s, &b), FM_ITEM_UNCHANGED); /* no id = "" */
  assert_int_equal(put(s, &c), FM_ITEM_NEW);       /* another customer */
  assert_int_equal(fm_store_query_items(s, NULL, &cur, &err), FM_OK);
  assert_int_equal(fm_store_cursor_next(cur, &got, &err), FM_OK);
  assert_int_equal(got->key[0], '#');
  assert_int_equal(strlen(got->key), 17);
  /* the content hash in lowercase hex, as keys of existing stores are */
  assert_string_equal(got->key, "#b84514d80f7bbe44");
  assert_string_equal(got->external_id, "");
  assert_string_equal(got->model_id, "");
  assert_int_equal(got->n_tags, 0);
  assert_null(got->redacted);
  assert_int_equal(fm_store_cursor_next(cur, &got, &err), FM_OK);
  assert_string_equal(got->account, "other");
  assert_int_equal(fm_store_cursor_next(cur, &got, &err), FM_EEOF);
  fm_store_cursor_free(cur);
  fm_store_close(s);
}

static void test_tags_by_model_and_queries(void **state) {
  fm_store *s = open_rw(1);
  fm_store_query q = FM_STORE_QUERY_INIT;
  fm_store_cursor *cur;
  const fm_store_item *got;
  fm_error err;
  char id[16];
  int i, n;
  (void)state;
  assert_int_equal(fm_store_use_model(s, "aaaa", "a.fmm", "", &err), FM_OK);
  assert_int_equal(fm_store_begin(s, &err), FM_OK);
  for (i = 0; i < 10; i++) {
    fm_store_item it;
    snprintf(id, sizeof id, "T-%02d", 9 - i); /* canonical order reverses */
    it = item(id, i % 2 ? "odd" : "even");
    if (i < 6) tag(&it, i % 2 ? tags_a : tags_b);
    put(s, &it);
  }
  assert_int_equal(fm_store_commit(s, &err), FM_OK);
  /* storage order, tags merged beside the items */
  assert_int_equal(fm_store_query_items(s, NULL, &cur, &err), FM_OK);
  for (n = 0; fm_store_cursor_next(cur, &got, &err) == FM_OK; n++) {
    snprintf(id, sizeof id, "T-%02d", 9 - n);
    assert_string_equal(got->key, id);
    assert_int_equal(got->rowid, n + 1);
    assert_string_equal(got->text, n % 2 ? "odd" : "even");
    if (n < 6) {
      assert_int_equal(got->n_tags, 2);
      assert_string_equal(got->tags[0].head, "area");
      assert_string_equal(got->tags[0].label, n % 2 ? "billing" : "login");
      assert_string_equal(got->tags[1].label, n % 2 ? "negative" : "neutral");
      assert_int_equal(got->tags[1].needs_review, n % 2);
      assert_string_equal(got->model_id, "aaaa");
    } else {
      assert_int_equal(got->n_tags, 0);
      assert_string_equal(got->model_id, "");
    }
  }
  assert_int_equal(n, 10);
  fm_store_cursor_free(cur);
  /* canonical order, paging */
  q.flags = FM_QUERY_CANONICAL;
  q.limit = 3;
  assert_int_equal(fm_store_query_items(s, &q, &cur, &err), FM_OK);
  for (n = 0; fm_store_cursor_next(cur, &got, &err) == FM_OK; n++) {
    snprintf(id, sizeof id, "T-%02d", n);
    assert_string_equal(got->key, id);
    assert_int_equal(got->n_tags, n >= 4 ? 2 : 0);
  }
  assert_int_equal(n, 3);
  fm_store_cursor_free(cur);
  /* a new model: everything needs tags again; re-tag two of them */
  assert_int_equal(fm_store_use_model(s, "bbbb", "b.fmm", "", &err), FM_OK);
  q.flags = FM_QUERY_NEEDS_TAGS;
  q.limit = 0;
  q.after_rowid = 8;
  assert_int_equal(fm_store_query_items(s, &q, &cur, &err), FM_OK);
  for (n = 0; fm_store_cursor_next(cur, &got, &err) == FM_OK; n++) {}
  assert_int_equal(n, 2);
  fm_store_cursor_free(cur);
  assert_int_equal(fm_store_set_tags(s, 1, "fr", tags_a, 2, NULL, 0, &err), FM_OK);
  assert_int_equal(fm_store_set_tags(s, 10, "fr", tags_a, 2, NULL, 0, &err), FM_OK);
  assert_int_equal(fm_store_set_tags(s, 99, "fr", tags_a, 2, NULL, 0, &err),
                   FM_ENOTFOUND);
  q.after_rowid = 0;
  assert_int_equal(fm_store_query_items(s, &q, &cur, &err), FM_OK);
  for (n = 0; fm_store_cursor_next(cur, &got, &err) == FM_OK; n++)
    assert_true(got->rowid != 1 && got->rowid != 10);
  assert_int_equal(n, 8);
  fm_store_cursor_free(cur);
  {
    const fm_store_stats *st;
    assert_int_equal(fm_store_stats_get(s, &st, &err), FM_OK);
    assert_int_equal(st->items, 10);
    assert_int_equal(st->untagged, 3);
    assert_int_equal(st->tags, 14);
    assert_int_equal(st->models, 2);
    assert_int_equal(st->raw_kept, 10);
    assert_int_equal(st->needs_review, 5); /* 3 odd ones + rows 1, 10 */
    assert_int_equal(st->n_sources, 1);
    assert_string_equal(st->sources[0].name, "ticket");
    assert_int_equal(st->sources[0].count, 10);
    assert_int_equal(st->n_by_model, 2);
    assert_string_equal(st->by_model[0].name, "aaaa");
    assert_int_equal(st->by_model[0].count, 5);
    assert_string_equal(st->by_model[1].name, "bbbb");
    assert_int_equal(st->by_model[1].count, 2);
    assert_string_equal(st->current_model, "bbbb");
    assert_string_equal(st->last_run_status, "");
    assert_int_equal(st->schema_version, fm_store_schema_version());
  }
  fm_store_close(s);
}

static void test_dump_ignores_order_and_runs(void **state) {
  char p1[160], p2[160];
  char *d1, *d2;
  int order;
  (void)state;
  snprintf(p1, sizeof p1, "%s/a.db", dir);
  snprintf(p2, sizeof p2, "%s/b.db", dir);
  for (order = 0; order < 2; order++) {
    fm_store_opts o = FM_STORE_OPTS_INIT;
    fm_store *s = NULL;
    fm_error err;
    int64_t run;
    int i;
    assert_int_equal(fm_store_open(order ? p2 : p1, &o, &s, &err), FM_OK);
    assert_int_equal(fm_store_use_model(s, "m1", "m", "", &err), FM_OK);
    assert_int_equal(fm_store_run_begin(s, 1000 + order, &run, &err), FM_OK);
    for (i = 0; i < 5; i++) {
      char id[8];
      fm_store_item it;
      snprintf(id, sizeof id, "%d", order ? 4 - i : i);
      it = item(id, id);
      tag(&it, tags_a);
      put(s, &it);
    }
    assert_int_equal(fm_store_run_end(s, run, 2000 + order, "ok", "{}", &err),
                     FM_OK);
    fm_store_close(s);
  }
  d1 = dump(p1);
  d2 = dump(p2);
  assert_string_equal(d1, d2);
  free(d1);
  free(d2);
}

static void test_lock(void **state) {
  fm_store *s = open_rw(0), *t = NULL;
  fm_store_opts ro = FM_STORE_OPTS_INIT;
  fm_error err;
  char lpath[160], note[200];
  FILE *f;
  (void)state;
  assert_string_equal(fm_store_notice(s), "");
  assert_int_equal(fm_store_open(path, NULL, &t, &err), FM_EBUSY);
  assert_null(t);
  snprintf(note, sizeof note, "store %s is locked by another job (pid %ld on "
           "host ", path, (long)getpid());
  assert_memory_equal(err.msg, note, strlen(note));
  /* readers do not need the lock */
  ro.flags = FM_STORE_READONLY;
  assert_int_equal(fm_store_open(path, &ro, &t, &err), FM_OK);
  fm_store_close(t);
  fm_store_close(s);
  /* a lock file left by a dead job is cleared and said so */
  snprintf(lpath, sizeof lpath, "%s.lock", path);
  f = fopen(lpath, "w");
  assert_non_null(f);
  fputs("pid 999999 on host elsewhere\n", f);
  fclose(f);
  s = open_rw(0);
  assert_string_equal(fm_store_notice(s),
                      "cleared a stale lock left by a job that died (pid "
                      "999999 on host elsewhere)");
  fm_store_close(s);
  s = open_rw(0);
  assert_string_equal(fm_store_notice(s), "");
  fm_store_close(s);
}

static fm_status open_status(const char *p, int readonly, char *msg) {
  fm_store_opts o = FM_STORE_OPTS_INIT;
  fm_store *s = NULL;
  fm_error err;
  fm_status st;
  o.flags = readonly ? FM_STORE_READONLY : 0;
  st = fm_store_open(p, &o, &s, &err);
  if (st == FM_OK) {
    fm_store_close(s);
    msg[0] = 0;
  } else {
    assert_null(s);
    strcpy(msg, err.msg);
  }
  return st;
}

static void sql(const char *p, const char *q) {
  sqlite3 *db;
  assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

static void test_refuses_foreign_and_damaged(void **state) {
  char p[160], want[300], msg[200];
  FILE *f;
  int i;
  (void)state;
  /* another application's database */
  snprintf(p, sizeof p, "%s/other.db", dir);
  sql(p, "CREATE TABLE customers(id INTEGER); PRAGMA application_id = 7;");
  assert_int_equal(open_status(p, 0, msg), FM_ESTORE);
  snprintf(want, sizeof want, "%s is not a feedmine store: an SQLite "
           "database of another application (application_id 0x00000007, "
           "feedmine's is 0x464d5354)", p);
  assert_string_equal(msg, want);
  assert_int_equal(open_status(p, 1, msg), FM_ESTORE);
  /* not a database at all */
  snprintf(p, sizeof p, "%s/notes.txt", dir);
  f = fopen(p, "w");
  assert_non_null(f);
  for (i = 0; i < 200; i++) fputs("this is not a database\n", f);
  fclose(f);
  assert_int_equal(open_status(p, 0, msg), FM_ESTORE);
  snprintf(want, sizeof want, "%s is not a feedmine store: not an SQLite "
           "database, or a corrupt one (file is not a database)", p);
  assert_string_equal(msg, want);
  /* a store from a newer feedmine */
  {
    fm_store *s = open_rw(0);
    fm_store_close(s);
  }
  sql(path, "PRAGMA user_version = 99");
  assert_int_equal(open_status(path, 0, msg), FM_ESTORE);
  snprintf(want, sizeof want, "store %s has schema version 99, newer than "
           "this feedmine's 2: upgrade feedmine", path);
  assert_string_equal(msg, want);
  /* a store whose header page was overwritten */
  sql(path, "PRAGMA user_version = 2; PRAGMA journal_mode = DELETE");
  f = fopen(path, "r+b");
  assert_non_null(f);
  fseek(f, 0, SEEK_SET);
  fputs("garbage garbage garbage garbage", f);
  fclose(f);
  assert_int_equal(open_status(path, 0, msg), FM_ESTORE);
  assert_non_null(strstr(msg, "not a feedmine store: not an SQLite database"));
  /* read-only open of nothing */
  snprintf(p, sizeof p, "%s/absent.db", dir);
  assert_int_equal(open_status(p, 1, msg), FM_EIO);
  assert_non_null(strstr(msg, "absent.db: No such file or directory"));
}

static void test_raw_text_retention(void **state) {
  fm_store *s = open_rw(1);
  fm_error err;
  uint64_t cleared;
  int i;
  (void)state;
  for (i = 0; i < 5; i++) {
    char id[8];
    fm_store_item it;
    snprintf(id, sizeof id, "%d", i);
    it = item(id, "text");
    it.date = 1700000000 + (int64_t)i * 10 * 86400; /* every 10 days */
    put(s, &it);
  }
  /* 25 days back from the newest item: items 0 and 1 are older */
  assert_int_equal(fm_store_drop_raw_text(s, 25, &cleared, &err), FM_OK);
  assert_int_equal(cleared, 2);
  assert_int_equal(fm_store_drop_raw_text(s, 25, &cleared, &err), FM_OK);
  assert_int_equal(cleared, 0);
  {
    const fm_store_stats *st;
    assert_int_equal(fm_store_stats_get(s, &st, &err), FM_OK);
    assert_int_equal(st->raw_kept, 3);
    assert_int_equal(st->first_date, 1700000000);
    assert_int_equal(st->last_date, 1700000000 + 40 * 86400);
  }
  fm_store_close(s);
}

static void test_rollback_keeps_nothing(void **state) {
  fm_store *s = open_rw(0);
  fm_store_item a = item("X", "kept"), b = item("Y", "dropped");
  fm_error err;
  const fm_store_stats *st;
  (void)state;
  put(s, &a);
  assert_int_equal(fm_store_begin(s, &err), FM_OK);
  put(s, &b);
  fm_store_rollback(s);
  assert_int_equal(fm_store_stats_get(s, &st, &err), FM_OK);
  assert_int_equal(st->items, 1);
  /* closing with a transaction open rolls it back too */
  assert_int_equal(fm_store_begin(s, &err), FM_OK);
  put(s, &b);
  fm_store_close(s);
  s = open_rw(0);
  assert_int_equal(fm_store_stats_get(s, &st, &err), FM_OK);
  assert_int_equal(st->items, 1);
  /* tags need a current model */
  tag(&b, tags_a);
  assert_int_equal(fm_store_put(s, &b, NULL, &err), FM_EINVAL);
  fm_store_close(s);
}

/* A store of schema version 1 (before tokens) is migrated on open; a
 * read-only open refuses to, saying how to. */
static void test_migrates_v1(void **state) {
  fm_store *s = open_rw(0);
  fm_store_opts ro = FM_STORE_OPTS_INIT;
  fm_store_item a = item("T-1", "old item");
  fm_store_cursor *cur;
  const fm_store_item *got;
  fm_error err;
  char want[300];
  (void)state;
  put(s, &a);
  fm_store_close(s);
  sql(path, "ALTER TABLE items DROP COLUMN tokens; PRAGMA user_version = 1;"
            "UPDATE meta SET value = '1' WHERE key = 'schema'");
  ro.flags = FM_STORE_READONLY;
  assert_int_equal(fm_store_open(path, &ro, &s, &err), FM_ESTORE);
  snprintf(want, sizeof want, "store %s has schema version 1: open it once "
           "for writing (feedmine batch) to migrate it to 2", path);
  assert_string_equal(err.msg, want);
  s = open_rw(0);
  {
    const fm_store_stats *st;
    assert_int_equal(fm_store_stats_get(s, &st, &err), FM_OK);
    assert_int_equal(st->schema_version, 2);
    assert_int_equal(st->items, 1);
  }
  assert_int_equal(fm_store_query_items(s, NULL, &cur, &err), FM_OK);
  assert_int_equal(fm_store_cursor_next(cur, &got, &err), FM_OK);
  assert_string_equal(got->key, "T-1");
  assert_null(got->tokens);
  fm_store_cursor_free(cur);
  fm_store_close(s);
  {
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE "
                                        "key = 'schema'", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "2");
    sqlite3_finalize(q);
    sqlite3_close(db);
  }
}

static void test_open_alloc_failures(void **state) {
  int existing;
  (void)state;
  for (existing = 0; existing < 2; existing++) {
    long k;
    for (k = 0;; k++) {
      fm_store *s = NULL;
      fm_status st;
      if (!existing) unlink(path);
      fmi_fault_fail_after(k);
      st = fm_store_open(path, NULL, &s, NULL);
      fmi_fault_fail_after(-1);
      if (st == FM_OK) {
        const fm_store_stats *stats;
        assert_int_equal(fm_store_stats_get(s, &stats, NULL), FM_OK);
        assert_int_equal(stats->items, 0);
        fm_store_close(s);
        break;
      }
      assert_int_equal(st, FM_ENOMEM);
      assert_null(s);
    }
    assert_true(k >= 2);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_idempotent_keys_and_edits, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_content_key_without_id, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_tags_by_model_and_queries, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_dump_ignores_order_and_runs, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refuses_foreign_and_damaged, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_raw_text_retention, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_rollback_keeps_nothing, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_migrates_v1, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_alloc_failures, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
