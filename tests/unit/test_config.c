/* test_config.c -- the batch configuration: values, defaults, path
 * resolution, and a message naming file, line and key for every mistake. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char good[] =
    "; nightly feedback job\n"
    "[store]\n"
    "path = state/feedback.db\n"
    "keep_raw_text = yes\n"
    "raw_retention_days = 90\n"
    "batch_size = 1000\n"
    "\n"
    "[model]\n"
    "path = /usr/share/feedmine/default.fmm\n"
    "retag = auto\n"
    "[accounts]\n"
    "path = accounts.csv\n"
    "map = account = Account ID\n"
    "[output]\n"
    "dir = reports\n"
    "\n"
    "[source ticket]\n"
    "path = exports/tickets-*.csv\n"
    "path = archive/tickets.jsonl\n"
    "map = text=Subject+Description\n"
    "map = id = Ticket ID\n"
    "delimiter = semicolon\n"
    "date_order = dmy\n"
    "[source survey]\n"
    "type = nps\n"
    "path = /data/nps.jsonl\n"
    "format = jsonl\n"
    "[report weekly]\n"
    "period = 7d\n"
    "formats = md, html json\n"
    "[report quarter]\n"
    "period = quarter\n"
    "compare = none\n";

static fm_batch_config *parse_ok(const char *text, const char *dir) {
  fm_batch_config *c = NULL;
  fm_error err;
  fm_status st = fm_batch_config_parse(text, strlen(text), "job.ini", dir, &c,
                                       &err);
  if (st != FM_OK) fail_msg("unexpected error: %s", err.msg);
  assert_non_null(c);
  return c;
}

static void test_values_and_defaults(void **state) {
  fm_batch_config *c = parse_ok(good, "/etc/feedmine");
  const fm_batch_source *s;
  const fm_batch_report *r;
  (void)state;
  assert_string_equal(c->path, "job.ini");
  assert_string_equal(c->store, "/etc/feedmine/state/feedback.db");
  assert_int_equal(c->keep_raw_text, 1);
  assert_int_equal(c->raw_retention_days, 90);
  assert_int_equal(c->batch_size, 1000);
  assert_string_equal(c->model, "/usr/share/feedmine/default.fmm");
  assert_int_equal(c->retag_auto, 1);
  assert_string_equal(c->accounts, "/etc/feedmine/accounts.csv");
  assert_int_equal(c->n_accounts_map, 1);
  assert_string_equal(c->accounts_map[0], "account=Account ID");
  assert_string_equal(c->output, "/etc/feedmine/reports");
  assert_string_equal(c->rejects, "/etc/feedmine/reports/rejects.jsonl");
  assert_string_equal(c->runs_log, "/etc/feedmine/reports/runs.jsonl");
  assert_int_equal(c->n_sources, 2);
  s = &c->sources[0];
  assert_string_equal(s->name, "ticket");
  assert_string_equal(s->type, "ticket");
  assert_int_equal(s->n_paths, 2);
  assert_string_equal(s->paths[0], "/etc/feedmine/exports/tickets-*.csv");
  assert_string_equal(s->paths[1], "/etc/feedmine/archive/tickets.jsonl");
  assert_int_equal(s->n_map, 2);
  assert_string_equal(s->map[0], "text=Subject+Description");
  assert_string_equal(s->map[1], "id=Ticket ID");
  assert_int_equal(s->delimiter, ';');
  assert_int_equal(s->date_order, FM_DATE_DMY);
  assert_int_equal(s->format, FM_FORMAT_AUTO);
  assert_int_equal(s->line, 17);
  s = &c->sources[1];
  assert_string_equal(s->name, "survey");
  assert_string_equal(s->type, "nps");
  assert_string_equal(s->paths[0], "/data/nps.jsonl");
  assert_int_equal(s->format, FM_FORMAT_JSONL);
  assert_int_equal(c->n_reports, 2);
  r = &c->reports[0];
  assert_string_equal(r->name, "weekly");
  assert_string_equal(r->period, "7d");
  assert_int_equal(r->period_days, 7);
  assert_int_equal(r->compare_previous, 1);
  assert_int_equal(r->n_formats, 3);
  assert_string_equal(r->formats[0], "md");
  assert_string_equal(r->formats[1], "html");
  assert_string_equal(r->formats[2], "json");
  r = &c->reports[1];
  assert_int_equal(r->period_days, 91);
  assert_int_equal(r->compare_previous, 0);
  assert_int_equal(r->n_formats, 1);
  assert_string_equal(r->formats[0], "md");
  fm_batch_config_free(c);
}

static void test_minimal_defaults(void **state) {
  fm_batch_config *c = parse_ok("[store]\npath=s.db\n[model]\npath=m.fmm\n"
                                "[output]\ndir=out\n[source Tickets]\n"
                                "path=t.csv\n",
                                NULL);
  (void)state;
  assert_string_equal(c->store, "s.db");
  assert_int_equal(c->keep_raw_text, 0);
  assert_int_equal(c->raw_retention_days, 0);
  assert_int_equal(c->batch_size, 5000);
  assert_null(c->accounts);
  assert_string_equal(c->rejects, "out/rejects.jsonl");
  assert_string_equal(c->sources[0].type, "tickets");
  assert_int_equal(c->n_reports, 0);
  assert_int_equal(c->retag_auto, 0);
  fm_batch_config_free(c);
}

/* Parses `text`, expects FM_EPARSE at `line` with exactly `msg`. */
static void expect_error(const char *text, uint64_t line, const char *msg) {
  fm_batch_config *c = (fm_batch_config *)1;
  fm_error err;
  fm_status st = fm_batch_config_parse(text, strlen(text), "job.ini", NULL,
                                       &c, &err);
  assert_int_equal(st, FM_EPARSE);
  assert_null(c);
  assert_int_equal(err.code, FM_EPARSE);
  assert_int_equal(err.line, line);
  assert_string_equal(err.msg, msg);
}

#define HEAD "[store]\npath=s.db\n[model]\npath=m\n[output]\ndir=o\n"
/* HEAD is lines 1-6 */

static void test_errors_name_file_line_key(void **state) {
  (void)state;
  expect_error(HEAD "[source t]\npath=a.csv\npth=b.csv\n", 9,
               "job.ini:9: [source t] pth: unknown key (known: type, path, "
               "map, format, delimiter, date_order)");
  expect_error(HEAD "[sources t]\npath=a\n", 7,
               "job.ini:7: [sources t]: unknown section (known: [store], "
               "[model], [accounts], [output], [source NAME], [report "
               "NAME])");
  expect_error(HEAD "[source t]\npath=a\n[source t]\npath=b\n", 9,
               "job.ini:9: [source t]: section given twice (first at line "
               "7)");
  expect_error("[store]\npath=a\npath=b\n", 3,
               "job.ini:3: [store] path: given twice in this section");
  expect_error("[store]\npath=a\nkeep_raw_text = maybe\n", 3,
               "job.ini:3: [store] keep_raw_text: 'maybe' is not true or "
               "false");
  expect_error("[store]\nbatch_size = 0\n", 2,
               "job.ini:2: [store] batch_size: '0' is not a number of items "
               "(1 to 1000000)");
  expect_error(HEAD "[source t]\npath=a\n[report r]\nperiod = 7 days\n", 10,
               "job.ini:10: [report r] period: '7 days' is not a period (7d, "
               "30d, quarter, Nd or Nw, up to 3660 days)");
  expect_error(HEAD "[source t]\npath=a\n[report r]\nperiod=7d\nformats = "
               "md pdf\n", 11,
               "job.ini:11: [report r] formats: unknown format 'pdf' (md, "
               "html, json or csv)");
  expect_error(HEAD "[source t]\npath=a\nmap = body=Text\n", 9,
               "job.ini:9: [source t] map: 'body=Text' is not FIELD=COLUMN "
               "with FIELD one of text id date score account revenue lang "
               "segment");
  expect_error(HEAD "[source t]\npath=a\nformat = xml\n", 9,
               "job.ini:9: [source t] format: 'xml' is not auto, csv or "
               "jsonl");
  expect_error("path = a\n", 1,
               "job.ini:1: path: key outside a section (start with [store], "
               "[model], [output], [source NAME]...)");
  expect_error(HEAD "[source]\npath=a\n", 7,
               "job.ini:7: [source]: needs a name: [source NAME] with "
               "letters, digits, '_', '-', '.'");
  expect_error(HEAD "this line has no equals sign\n", 7,
               "job.ini:7: syntax error: expected [section], key = value or "
               "a comment");
}

static void test_missing_keys(void **state) {
  (void)state;
  /* a missing key is reported at its section's header line */
  expect_error("[store]\nkeep_raw_text=no\n[model]\npath=m\n[output]\ndir=o\n"
               "[source t]\npath=a\n",
               1, "job.ini:1: [store] path: missing key");
  expect_error(HEAD "[source t]\nmap=text=x\n", 7,
               "job.ini:7: [source t] path: missing key");
  expect_error(HEAD "[source t]\npath=a\n[report r]\nformats=md\n", 9,
               "job.ini:9: [report r] period: missing key");
  /* a missing section has no line */
  expect_error("[store]\npath=s\n[output]\ndir=o\n[source t]\npath=a\n", 0,
               "job.ini: [model] path: missing section [model] with the "
               "model's path");
  expect_error(HEAD, 0, "job.ini: no [source NAME] section: nothing to "
                        "ingest");
}

static void test_long_line_and_nul(void **state) {
  char text[600];
  (void)state;
  snprintf(text, sizeof text, HEAD "[source t]\npath=%0250d\n", 7);
  expect_error(text, 8, "job.ini:8: line too long (over 198 bytes)");
  {
    static const char nul[] = HEAD "[source t]\npath=a\0b\n";
    fm_batch_config *c = NULL;
    fm_error err;
    assert_int_equal(fm_batch_config_parse(nul, sizeof nul - 1, "job.ini",
                                           NULL, &c, &err),
                     FM_EPARSE);
    assert_int_equal(err.line, 8);
    assert_string_equal(err.msg, "job.ini:8: a NUL byte in the line");
  }
}

static void test_long_file_name_keeps_key(void **state) {
  char name[300];
  fm_batch_config *c = NULL;
  fm_error err;
  const char *text = "[store]\nwhat = 1\n";
  (void)state;
  memset(name, 'd', sizeof name);
  memcpy(name + sizeof name - 9, "/job.ini", 9);
  assert_int_equal(fm_batch_config_parse(text, strlen(text), name, NULL, &c,
                                         &err),
                   FM_EPARSE);
  assert_true(strlen(err.msg) < sizeof err.msg);
  assert_non_null(strstr(err.msg, "/job.ini:2: [store] what: unknown key"));
  assert_memory_equal(err.msg, "...", 3);
}

static void test_load_resolves_against_file_folder(void **state) {
  char dir[] = "/tmp/fm_cfg_XXXXXX", path[256];
  fm_batch_config *c = NULL;
  fm_error err;
  FILE *f;
  (void)state;
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/job.ini", dir);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("\xEF\xBB\xBF[store]\r\npath = s.db\r\n[model]\r\npath=m\r\n[output]"
        "\r\ndir=out\r\n[source t]\r\npath=../x/*.csv ; the exports\r\n",
        f);
  fclose(f);
  assert_int_equal(fm_batch_config_load(path, &c, &err), FM_OK);
  {
    char want[300];
    snprintf(want, sizeof want, "%s/s.db", dir);
    assert_string_equal(c->store, want);
    snprintf(want, sizeof want, "%s/../x/*.csv", dir);
    assert_string_equal(c->sources[0].paths[0], want);
  }
  fm_batch_config_free(c);
  unlink(path);
  rmdir(dir);
  assert_int_equal(fm_batch_config_load(path, &c, &err), FM_EIO);
  assert_null(c);
  assert_non_null(strstr(err.msg, "cannot open config"));
  assert_non_null(strstr(err.msg, "job.ini"));
}

static void test_alloc_failures(void **state) {
  long k;
  fm_error err;
  (void)state;
  for (k = 0;; k++) {
    fm_batch_config *c = NULL;
    fm_status st;
    fmi_fault_fail_after(k);
    st = fm_batch_config_parse(good, strlen(good), "job.ini", "/etc", &c,
                               &err);
    fmi_fault_fail_after(-1);
    if (st == FM_OK) {
      assert_non_null(c);
      assert_int_equal(c->n_sources, 2);
      fm_batch_config_free(c);
      break;
    }
    if (st != FM_ENOMEM) fail_msg("k=%ld: %s", k, err.msg);
    assert_null(c);
  }
  assert_true(k > 10);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_values_and_defaults),
      cmocka_unit_test(test_minimal_defaults),
      cmocka_unit_test(test_errors_name_file_line_key),
      cmocka_unit_test(test_missing_keys),
      cmocka_unit_test(test_long_line_and_nul),
      cmocka_unit_test(test_long_file_name_keeps_key),
      cmocka_unit_test(test_load_resolves_against_file_folder),
      cmocka_unit_test(test_alloc_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
