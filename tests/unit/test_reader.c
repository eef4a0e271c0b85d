/*
 * test_reader.c -- CSV and JSON Lines readers: every reader feature and
 * every reject reason with its exact line, values, mapping, and the
 * allocation-failure loop.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"

/* ---- helpers ---------------------------------------------------------------- */

/* One line per record or reject, so a test reads like the file:
 *   "L2 id=1 text=[hello] date=1705276800 score=9.00 rev=1.00 acct=a
 *    seg=pro lang=en"   (absent values left out)
 *   "L5 reject: reason" */
static void dump_reader(fm_reader *r, fmi_buf *out) {
  for (;;) {
    const fm_record *rec;
    fm_error err;
    fm_status st = fm_reader_next(r, &rec, &err);
    if (st == FM_EEOF) break;
    if (st == FM_EPARSE) {
      assert_null(rec);
      fmi_buf_printf(out, "L%llu reject: %s\n", (unsigned long long)err.line,
                     err.msg);
      continue;
    }
    if (st != FM_OK) {
      fmi_buf_printf(out, "fatal %d: %s\n", (int)st, err.msg);
      break;
    }
    assert_int_equal(strlen(rec->text), rec->text_len);
    fmi_buf_printf(out, "L%llu", (unsigned long long)rec->line);
    if (*rec->id) fmi_buf_printf(out, " id=%s", rec->id);
    fmi_buf_printf(out, " text=[%s]", rec->text);
    if (rec->has_date) fmi_buf_printf(out, " date=%lld", (long long)rec->date);
    if (rec->has_score) fmi_buf_printf(out, " score=%.2f", rec->score);
    if (rec->has_revenue) fmi_buf_printf(out, " rev=%.2f", rec->revenue);
    if (*rec->account) fmi_buf_printf(out, " acct=%s", rec->account);
    if (*rec->segment) fmi_buf_printf(out, " seg=%s", rec->segment);
    if (*rec->lang) fmi_buf_printf(out, " lang=%s", rec->lang);
    if (*rec->source) fmi_buf_printf(out, " src=%s", rec->source);
    fmi_buf_putc(out, '\n');
  }
}

static char *read_mem(const char *data, size_t len, const fm_reader_opts *o) {
  fm_reader *r = NULL;
  fm_error err;
  fmi_buf out = {0};
  fm_status st = fm_reader_open_memory(data, len, o, &r, &err);
  if (st != FM_OK) {
    fmi_buf_printf(&out, "open %d: %s\n", (int)st, err.msg);
  } else {
    dump_reader(r, &out);
    fm_reader_free(r);
  }
  if (!out.data) fmi_buf_append(&out, "", 0);
  return out.data;
}

static char *read_str(const char *s, const fm_reader_opts *o) {
  return read_mem(s, strlen(s), o);
}

static char *read_path(const char *rel, const fm_reader_opts *o) {
  fm_reader *r = NULL;
  fm_error err;
  fmi_buf out = {0};
  fm_status st = fm_reader_open(tu_src_path(rel), o, &r, &err);
  if (st != FM_OK) {
    const char *m = strstr(err.msg, "tests/data/readers/");
    fmi_buf_printf(&out, "open %d: %s\n", (int)st, m ? m + 19 : err.msg);
  } else {
    dump_reader(r, &out);
    fm_reader_free(r);
  }
  if (!out.data) fmi_buf_append(&out, "", 0);
  return out.data;
}

#define EXPECT(got, want)                                                     \
  do {                                                                        \
    char *g_ = (got);                                                         \
    if (strcmp(g_, (want)) != 0) {                                            \
      print_error("got:\n%s\nwant:\n%s\n", g_, (want));                      \
      fmi_free(g_);                                                           \
      fail();                                                                 \
    }                                                                         \
    fmi_free(g_);                                                             \
  } while (0)

/* ---- CSV ------------------------------------------------------------------------ */

static void test_csv_basic(void **state) {
  (void)state;
  EXPECT(read_str("id,text\n1,hello\n2,world\n", NULL),
         "L2 id=1 text=[hello]\nL3 id=2 text=[world]\n");
  /* No final line end; quoted header; blank lines between rows. */
  EXPECT(read_str("\"id\",\"text\"\n\n1,a\n   \n2,b", NULL),
         "L3 id=1 text=[a]\nL5 id=2 text=[b]\n");
}

static void test_csv_bom_crlf_embedded(void **state) {
  (void)state;
  EXPECT(read_path("tests/data/readers/bom_crlf.csv", NULL),
         "L2 id=1 text=[hello, world] date=1705276800\n"
         "L3 id=2 text=[multi\r\nline \"quoted\"] date=1705276800\n");
}

static void test_csv_cr_only_semicolon(void **state) {
  fm_reader *r;
  fm_error err;
  (void)state;
  EXPECT(read_path("tests/data/readers/cr_only_semicolon.csv", NULL),
         "L2 id=3 text=[first] score=9.00\n"
         "L3 id=4 text=[second\rline] score=4.50\n");
  assert_int_equal(fm_reader_open(tu_src_path("tests/data/readers/cr_only_semicolon.csv"),
                                  NULL, &r, &err), FM_OK);
  assert_int_equal(fm_reader_delimiter(r), ';');
  assert_int_equal(fm_reader_format(r), FM_FORMAT_CSV);
  assert_string_equal(fm_reader_mapping(r, "text"), "comment");
  assert_string_equal(fm_reader_mapping(r, "score"), "score");
  assert_null(fm_reader_mapping(r, "date"));
  fm_reader_free(r);
}

static void test_csv_tab(void **state) {
  fm_reader_opts o = FM_READER_OPTS_INIT;
  (void)state;
  EXPECT(read_path("tests/data/readers/tabs.tsv", NULL),
         "L2 id=1 text=[tab one] score=10.00\n"
         "L3 id=2 text=[tab, two] score=0.00\n");
  /* A given delimiter wins over detection: one column "a,b". */
  o.delimiter = ';';
  EXPECT(read_str("text\nhello,1\n", &o), "L2 text=[hello,1]\n");
  EXPECT(read_str("text\nhello,1\n", NULL),
         "L2 reject: 2 fields where the header has 1\n");
}

static void test_csv_mixed_bad(void **state) {
  fm_reader_opts o = FM_READER_OPTS_INIT;
  (void)state;
  o.source = "ticket";
  EXPECT(read_path("tests/data/readers/mixed_bad.csv", &o),
         "L2 id=1 text=[Login\n\nCannot log in] date=1709251200 rev=1200.50 "
         "seg=pro src=ticket\n"
         "L3 id=2 text=[Export\n\nCSV export\nis broken] date=1709374500 "
         "rev=1200.50 seg=team src=ticket\n"
         "L5 reject: 2 fields where the header has 6\n"
         "L6 reject: missing text ('subject+body' is empty)\n"
         "L7 reject: unparseable date '2024-02-30'\n"
         "L8 reject: unparseable revenue 'lots'\n"
         "L9 reject: date out of range '1969-12-31'\n"
         "L10 id=8 text=[Good\n\nfine \"quoted\" text] date=1709596800 "
         "rev=2000.00 seg=enterprise src=ticket\n"
         "L11 reject: 7 fields where the header has 6\n"
         "L12 reject: unterminated quoted field\n"
         "L13 id=11 text=[After\n\nstill read] date=1709769600 rev=5.00 "
         "seg=pro src=ticket\n");
}

static void test_csv_raw_bytes(void **state) {
  const char *csv = "id,text\n1,\"two\r\nlines\"\n2,a,b\r\n3,\"open\n4,x\n";
  fm_reader *r;
  const fm_record *rec;
  fm_error err;
  size_t len;
  int trunc;
  (void)state;
  assert_int_equal(fm_reader_open_memory(csv, strlen(csv), NULL, &r, &err), FM_OK);
  assert_int_equal(fm_reader_next(r, &rec, &err), FM_OK);
  assert_string_equal(fm_reader_raw(r, &len, &trunc), "1,\"two\r\nlines\"");
  assert_int_equal(trunc, 0);
  assert_int_equal(fm_reader_next(r, &rec, &err), FM_EPARSE);
  assert_int_equal(err.line, 4);
  assert_string_equal(fm_reader_raw(r, &len, NULL), "2,a,b");
  assert_int_equal(len, 5);
  assert_int_equal(fm_reader_next(r, &rec, &err), FM_EPARSE);
  assert_int_equal(err.line, 5);
  assert_string_equal(err.msg, "unterminated quoted field");
  assert_string_equal(fm_reader_raw(r, &len, NULL), "3,\"open");
  assert_int_equal(fm_reader_next(r, &rec, &err), FM_OK);
  assert_int_equal(rec->line, 6);
  assert_string_equal(rec->text, "x");
  assert_string_equal(fm_reader_raw(r, NULL, NULL), "4,x");
  assert_int_equal(fm_reader_next(r, &rec, &err), FM_EEOF);
  assert_int_equal(fm_reader_next(r, &rec, &err), FM_EEOF);
  fm_reader_free(r);
}

static void test_csv_size_caps(void **state) {
  fm_reader_opts o = FM_READER_OPTS_INIT;
  fmi_buf in = {0};
  size_t i;
  (void)state;
  o.max_field_bytes = 100;
  /* A completed field over the cap; a quoted field that runs past the cap
   * over several lines (rejected as its first line, the rest re-read); a
   * huge single line (the rest of the line skipped). */
  fmi_buf_printf(&in, "id,text\n1,ok\n2,");
  for (i = 0; i < 150; i++) fmi_buf_putc(&in, 'x');
  fmi_buf_printf(&in, "\n3,\"open quote\n");
  for (i = 0; i < 40; i++) fmi_buf_printf(&in, "%zu,line\n", 10 + i);
  fmi_buf_printf(&in, "4,");
  for (i = 0; i < 200000; i++) fmi_buf_putc(&in, 'y');
  fmi_buf_printf(&in, "\n5,end\n");
  {
    char *got = read_mem(in.data, in.len, &o);
    /* Row 3 opens a quote; lines 5.. are re-read after its reject, so the
     * rows 10..49 come back as records. */
    assert_non_null(strstr(got, "L2 id=1 text=[ok]\n"));
    assert_non_null(strstr(got, "L3 reject: field 2 is over the size cap of 100 bytes\n"));
    assert_non_null(strstr(got, "L4 reject: field 2 is over the size cap of 100 bytes\n"));
    assert_non_null(strstr(got, "L5 id=10 text=[line]\n"));
    assert_non_null(strstr(got, "L44 id=49 text=[line]\n"));
    assert_non_null(strstr(got, "L45 reject: field 2 is over the size cap of 100 bytes\n"));
    assert_non_null(strstr(got, "L46 id=5 text=[end]\n"));
    fmi_free(got);
  }
  fmi_buf_free(&in);
}

static void test_csv_raw_truncated(void **state) {
  fm_reader_opts o = FM_READER_OPTS_INIT;
  fm_reader *r;
  const fm_record *rec;
  fm_error err;
  fmi_buf in = {0};
  size_t i, len;
  int trunc;
  (void)state;
  o.max_field_bytes = 10;
  fmi_buf_printf(&in, "id,text\n1,");
  for (i = 0; i < 100000; i++) fmi_buf_putc(&in, 'z');
  fmi_buf_printf(&in, "\n2,fine\n");
  assert_int_equal(fm_reader_open_memory(in.data, in.len, &o, &r, &err), FM_OK);
  assert_int_equal(fm_reader_next(r, &rec, &err), FM_EPARSE);
  assert_int_equal(err.line, 2);
  fm_reader_raw(r, &len, &trunc);
  assert_int_equal(trunc, 1);
  assert_int_equal(len, 40);
  assert_int_equal(fm_reader_next(r, &rec, &err), FM_OK);
  assert_string_equal(rec->text, "fine");
  assert_int_equal(rec->line, 3);
  fm_reader_free(r);
  fmi_buf_free(&in);
}

static void test_csv_bom_in_middle(void **state) {
  (void)state;
  EXPECT(read_str("text\n\xef\xbb\xbfhi\n", NULL),
         "L2 text=[\xef\xbb\xbfhi]\n");
}

static void test_csv_detect_and_map(void **state) {
  const char *csv =
      "Ticket ID,Subject,Description,Created At,Company,MRR,Language,Tier,Score\n"
      "7,Hi,Body here,2024-01-15,Acme,\"$1,200.50\",de,gold,\n";
  fm_reader_opts o = FM_READER_OPTS_INIT;
  const char *maps[] = {"text=Description", "account=", "segment=Language",
                        "lang=tier"};
  const char *join[] = {"text=Company+Subject+Description"};
  const char *plus[] = {"text=a+b"};
  (void)state;
  EXPECT(read_str(csv, NULL),
         "L2 id=7 text=[Hi\n\nBody here] date=1705276800 rev=1200.50 "
         "acct=Acme seg=gold lang=de\n");
  o.map = maps;
  o.n_map = 4;
  EXPECT(read_str(csv, &o),
         "L2 id=7 text=[Body here] date=1705276800 rev=1200.50 seg=de "
         "lang=gold\n");
  o.map = join;
  o.n_map = 1;
  EXPECT(read_str(csv, &o),
         "L2 id=7 text=[Acme\n\nHi\n\nBody here] date=1705276800 rev=1200.50 "
         "acct=Acme seg=gold lang=de\n");
  /* A column literally named "a+b" wins over joining a and b. */
  o.map = plus;
  EXPECT(read_str("a,b,a+b\n1,2,3\n", &o), "L2 text=[3]\n");
  EXPECT(read_str("a,b\n1,2\n", &o), "L2 text=[1\n\n2]\n");
}

static void test_csv_open_errors(void **state) {
  fm_reader_opts o = FM_READER_OPTS_INIT;
  const char *bad_field[] = {"txt=x"};
  const char *bad_col[] = {"text=nope"};
  const char *twice[] = {"text=a", "text=b"};
  const char *nomap[] = {"text="};
  (void)state;
  EXPECT(read_path("tests/data/readers/no_text.csv", NULL),
         "open 11: no_text.csv: no text column (columns: ticket, owner); "
         "name it with a map text=COLUMN\n");
  EXPECT(read_path("tests/data/readers/binary.csv", NULL),
         "open 7: binary.csv: not a CSV or JSON Lines file (binary data)\n");
  {
    char *got = read_path("tests/data/readers", NULL);
    assert_non_null(strstr(got, "open 4: "));
    assert_non_null(strstr(got, "tests/data/readers: is a directory\n"));
    fmi_free(got);
  }
  EXPECT(read_path("tests/data/readers/missing.csv", NULL),
         "open 4: missing.csv: cannot open: No such file or directory\n");
  EXPECT(read_path("tests/data/readers/empty.csv", NULL), "");
  o.map = bad_field;
  o.n_map = 1;
  EXPECT(read_str("text\nx\n", &o),
         "open 2: map 'txt=x': unknown field (text, id, date, score, account, "
         "revenue, lang, segment)\n");
  o.map = bad_col;
  EXPECT(read_str("text,b\nx,y\n", &o),
         "open 11: <memory>: no column 'nope' for text (columns: text, b)\n");
  o.map = twice;
  o.n_map = 2;
  EXPECT(read_str("a,b\nx,y\n", &o), "open 2: map: field text mapped twice\n");
  o.map = nomap;
  o.n_map = 1;
  EXPECT(read_str("text\nx\n", &o),
         "open 2: <memory>: the text field cannot be unmapped\n");
  o.map = NULL;
  o.n_map = 0;
  o.name = "export.csv";
  EXPECT(read_str("id,text\n1,\"never closed\n", &o),
         "L2 reject: unterminated quoted field\n");
  EXPECT(read_str("\"header\n", &o),
         "open 7: export.csv:1: header row: unterminated quoted field\n");
  /* Whitespace only: as empty. */
  EXPECT(read_str("  \n\n", &o), "");
}

static void test_record_fields(void **state) {
  const char *csv = "Subject,body,Extra\nS,B,E\n";
  fm_reader *r;
  const fm_record *rec;
  fm_error err;
  fm_field f;
  size_t len;
  (void)state;
  assert_int_equal(fm_reader_open_memory(csv, strlen(csv), NULL, &r, &err), FM_OK);
  assert_int_equal(fm_reader_column_count(r), 3);
  assert_string_equal(fm_reader_column_name(r, 2), "Extra");
  assert_null(fm_reader_column_name(r, 3));
  assert_int_equal(fm_reader_next(r, &rec, &err), FM_OK);
  assert_string_equal(fm_record_field(rec, "Subject", &len), "S");
  assert_string_equal(fm_record_field(rec, "subject", &len), "S");
  assert_string_equal(fm_record_field(rec, "EXTRA", &len), "E");
  assert_int_equal(len, 1);
  assert_null(fm_record_field(rec, "nope", &len));
  assert_int_equal(fm_record_field_count(rec), 3);
  assert_true(fm_record_field_at(rec, 1, &f));
  assert_string_equal(f.name, "body");
  assert_string_equal(f.value, "B");
  assert_int_equal(f.is_json, 0);
  assert_false(fm_record_field_at(rec, 3, &f));
  fm_reader_free(r);
}

/* ---- JSON Lines -------------------------------------------------------------------- */

static void test_jsonl_file(void **state) {
  fm_reader_opts o = FM_READER_OPTS_INIT;
  const char *maps[] = {"segment=customer.plan", "account=customer.name"};
  (void)state;
  o.map = maps;
  o.n_map = 2;
  EXPECT(read_path("tests/data/readers/nested.jsonl", &o),
         "L1 id=1 text=[love the app] score=9.00 acct=Acme seg=pro\n"
         "L3 id=2 text=[slow sync] date=1714557600 seg=team\n"
         "L4 reject: invalid JSON: invalid token near 'not'\n"
         "L5 reject: not a JSON object (an array)\n"
         "L6 reject: invalid JSON: duplicate object key near '\"comment\"'\n"
         "L7 reject: 'text' is an object, not a value\n"
         "L8 reject: missing text ('comment' is empty)\n"
         "L9 reject: invalid JSON: real number overflow near '1e400'\n"
         "L10 id=8 text=[ok again] score=7.50 lang=en\n");
}

static void test_jsonl_fields(void **state) {
  const char *js =
      "{\"Text\":\"hi\",\"n\":42,\"r\":1.5,\"b\":true,\"z\":null,"
      "\"o\":{\"k\":[1,\"x\"]},\"a.b\":\"dotted key\"}\n";
  fm_reader *r;
  const fm_record *rec;
  fm_error err;
  fm_field f;
  size_t len;
  (void)state;
  assert_int_equal(fm_reader_open_memory(js, strlen(js), NULL, &r, &err), FM_OK);
  assert_int_equal(fm_reader_format(r), FM_FORMAT_JSONL);
  assert_int_equal(fm_reader_delimiter(r), 0);
  assert_int_equal(fm_reader_next(r, &rec, &err), FM_OK);
  assert_string_equal(rec->text, "hi");
  assert_string_equal(fm_record_field(rec, "n", &len), "42");
  assert_string_equal(fm_record_field(rec, "r", &len), "1.5");
  assert_string_equal(fm_record_field(rec, "b", &len), "true");
  assert_null(fm_record_field(rec, "z", &len));
  assert_string_equal(fm_record_field(rec, "o", &len), "{\"k\":[1,\"x\"]}");
  assert_string_equal(fm_record_field(rec, "O.K", &len), "[1,\"x\"]");
  assert_string_equal(fm_record_field(rec, "a.b", &len), "dotted key");
  assert_int_equal(fm_record_field_count(rec), 7);
  assert_true(fm_record_field_at(rec, 0, &f));
  assert_string_equal(f.name, "Text");
  assert_int_equal(f.is_json, 0);
  assert_true(fm_record_field_at(rec, 4, &f));
  assert_string_equal(f.name, "z");
  assert_string_equal(f.value, "null");
  assert_int_equal(f.is_json, 1);
  assert_false(fm_record_field_at(rec, 7, &f));
  fm_reader_free(r);
  /* Detection skips a nested object for a field that needs a value. */
  EXPECT(read_str("{\"comment\":\"c\",\"customer\":{\"plan\":\"pro\"},"
                  "\"company\":\"Acme\"}\n{\"comment\":\"d\",\"customer\":[1]}\n",
                  NULL),
         "L1 text=[c] acct=Acme\nL2 text=[d]\n");
}

static void test_jsonl_lines(void **state) {
  fm_reader_opts o = FM_READER_OPTS_INIT;
  const char *sub[] = {"text=subject+body"};
  fmi_buf deep = {0};
  size_t i;
  char *got;
  (void)state;
  /* CRLF, CR-only, BOM, blank lines, subject + body joined. */
  EXPECT(read_str("\xef\xbb\xbf{\"text\":\"a\"}\r\n\r\n{\"text\":\"b\"}\r"
                  "{\"subject\":\"S\",\"body\":\"B\"}\n  \n{\"text\":7}", NULL),
         "L1 text=[a]\nL3 text=[b]\nL4 text=[S\n\nB]\nL6 text=[7]\n");
  /* The first object decides whether the stream has text at all. */
  EXPECT(read_str("{\"a\":1,\"b\":2}\n{\"text\":\"x\"}\n", NULL),
         "fatal 11: <memory>: the first object has no text field (keys: a, "
         "b); name one with a map text=KEY\n");
  o.format = FM_FORMAT_JSONL;
  EXPECT(read_str("bad\n{\"a\":1}\n{\"text\":\"x\"}\n", &o),
         "L1 reject: invalid JSON: invalid token near 'bad'\n"
         "fatal 11: <memory>: the first object has no text field (keys: a); "
         "name one with a map text=KEY\n");
  o.map = sub;
  o.n_map = 1;
  o.format = FM_FORMAT_JSONL;
  EXPECT(read_str("{\"subject\":\"S\"}\n{\"body\":\"B\"}\n{\"x\":1}\n", &o),
         "L1 text=[S]\nL2 text=[B]\nL3 reject: missing text ('subject+body' "
         "is empty)\n");
  /* Nesting deeper than jansson's limit is a rejected row. */
  o.map = NULL;
  o.n_map = 0;
  for (i = 0; i < 3000; i++) fmi_buf_putc(&deep, '[');
  fmi_buf_printf(&deep, "\n{\"text\":\"after\"}\n");
  got = read_mem(deep.data, deep.len, &o);
  assert_non_null(strstr(got, "L1 reject: invalid JSON: maximum parsing depth reached"));
  assert_non_null(strstr(got, "L2 text=[after]\n"));
  fmi_free(got);
  fmi_buf_free(&deep);
}

static void test_jsonl_line_cap(void **state) {
  fm_reader_opts o = FM_READER_OPTS_INIT;
  fmi_buf in = {0};
  size_t i;
  (void)state;
  o.max_field_bytes = 16;
  fmi_buf_printf(&in, "{\"text\":\"0123456789abcdefg\"}\n{\"text\":\"");
  for (i = 0; i < 100; i++) fmi_buf_putc(&in, 'q');
  fmi_buf_printf(&in, "\"}\n{\"text\":\"short\"}\n");
  EXPECT(read_mem(in.data, in.len, &o),
         "L1 reject: field 'text' is over the size cap of 16 bytes\n"
         "L2 reject: line is over the size cap of 64 bytes\n"
         "L3 text=[short]\n");
  fmi_buf_free(&in);
}

/* ---- values ---------------------------------------------------------------------- */

static void test_dates(void **state) {
  static const struct {
    const char *in;
    fm_date_order order;
    int rc;
    int64_t t;
  } cases[] = {
      {"2024-01-15", FM_DATE_AUTO, 0, 1705276800},
      {"2024-01-15T10:30:00Z", FM_DATE_AUTO, 0, 1705314600},
      {"2024-01-15T10:30:00.250Z", FM_DATE_AUTO, 0, 1705314600},
      {"2024-01-15T12:30:00+02:00", FM_DATE_AUTO, 0, 1705314600},
      {"2024-01-15T05:30:00-0500", FM_DATE_AUTO, 0, 1705314600},
      {"2024-01-15T12:30+02", FM_DATE_AUTO, 0, 1705314600},
      {"2024-01-15 10:30", FM_DATE_AUTO, 0, 1705314600},
      {"2024-01-15 10:30:00", FM_DATE_AUTO, 0, 1705314600},
      {" 15.01.2024 ", FM_DATE_AUTO, 0, 1705276800},
      {"15.01.2024 10:30", FM_DATE_AUTO, 0, 1705314600},
      {"01/15/2024", FM_DATE_AUTO, 0, 1705276800},
      {"15/01/2024", FM_DATE_AUTO, 0, 1705276800},
      {"01/02/2024", FM_DATE_AUTO, 0, 1704153600},
      {"01/02/2024", FM_DATE_MDY, 0, 1704153600},
      {"01/02/2024", FM_DATE_DMY, 0, 1706745600},
      {"15/01/2024", FM_DATE_MDY, 1, 0},
      {"01/15/2024", FM_DATE_DMY, 1, 0},
      {"1/15/2024 3:30 PM", FM_DATE_AUTO, 0, 1705332600},
      {"1/15/2024 12:00 am", FM_DATE_AUTO, 0, 1705276800},
      {"1705276800", FM_DATE_AUTO, 0, 1705276800},
      {"1705276800.75", FM_DATE_AUTO, 0, 1705276800},
      {"0", FM_DATE_AUTO, 0, 0},
      {"2024-02-29", FM_DATE_AUTO, 0, 1709164800},
      {"2023-02-29", FM_DATE_AUTO, 1, 0},
      {"2024-13-01", FM_DATE_AUTO, 1, 0},
      {"2024-01-15T25:00", FM_DATE_AUTO, 1, 0},
      {"2024-01-15T10:30:00+25:00", FM_DATE_AUTO, 1, 0},
      {"2024-01-15 junk", FM_DATE_AUTO, 1, 0},
      {"yesterday", FM_DATE_AUTO, 1, 0},
      {"2024/01/15", FM_DATE_AUTO, 1, 0},
      {"1969-12-31", FM_DATE_AUTO, 2, 0},
      {"1970-01-01T00:30:00+01:00", FM_DATE_AUTO, 2, 0},
      {"9999-12-31T23:59:59Z", FM_DATE_AUTO, 0, 253402300799LL},
      {"10000-01-01", FM_DATE_AUTO, 1, 0},
      {"31.12.1969", FM_DATE_AUTO, 2, 0},
      {"253402300800", FM_DATE_AUTO, 2, 0},
      {"99999999999999999999", FM_DATE_AUTO, 2, 0},
      {"", FM_DATE_AUTO, 1, 0},
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int64_t t = -1;
    int rc = fmi_parse_date(cases[i].in, strlen(cases[i].in), cases[i].order, &t);
    if (rc != cases[i].rc || (rc == 0 && t != cases[i].t)) {
      print_error("date '%s': rc %d t %lld\n", cases[i].in, rc, (long long)t);
      fail();
    }
  }
}

static void test_numbers(void **state) {
  static const struct {
    const char *in;
    int money;
    int rc;
    double v;
  } cases[] = {
      {"9", 0, 0, 9},         {"4.5", 0, 0, 4.5},      {"4,5", 0, 0, 4.5},
      {"-2", 0, 0, -2},       {" 10 ", 0, 0, 10},      {"abc", 0, 1, 0},
      {"1.2.3", 0, 1, 0},     {"9/10", 0, 1, 0},       {"", 0, 1, 0},
      {"$1,200.50", 1, 0, 1200.5},     {"1 200,50 €", 1, 0, 1200.5},
      {"1.200,50 EUR", 1, 0, 1200.5},  {"USD 99", 1, 0, 99},
      {"1,200", 1, 0, 1200},           {"1.200", 1, 0, 1200},
      {"1200,5", 1, 0, 1200.5},        {"12.50", 1, 0, 12.5},
      {"1,234,567", 1, 0, 1234567},    {"-$5", 1, 0, -5},
      {"($5.25)", 1, 0, -5.25},        {"1\xc2\xa0" "000", 1, 0, 1000},
      {"1'000.5", 1, 0, 1000.5},       {"\xe2\x82\xaa" "300", 1, 0, 300},
      {"1.2k", 1, 1, 0},               {"lots", 1, 1, 0},
      {".50", 1, 1, 0},                {"1,2,3.4.5", 1, 1, 0},
      {"USDEUR 5", 1, 1, 0},           {"", 1, 1, 0},
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double v = -999;
    const char *s = cases[i].in;
    int rc = cases[i].money ? fmi_parse_money(s, strlen(s), &v)
                            : fmi_parse_score(s, strlen(s), &v);
    if (rc != cases[i].rc || (rc == 0 && v != cases[i].v)) {
      print_error("number '%s': rc %d v %g\n", s, rc, v);
      fail();
    }
  }
}

static void test_date_order_option(void **state) {
  fm_reader_opts o = FM_READER_OPTS_INIT;
  (void)state;
  o.date_order = FM_DATE_DMY;
  EXPECT(read_str("text,date\na,01/02/2024\nb,02/13/2024\n", &o),
         "L2 text=[a] date=1706745600\n"
         "L3 reject: unparseable date '02/13/2024'\n");
}

/* ---- streams and failures ---------------------------------------------------------- */

static void test_open_file_stream(void **state) {
  const char *csv = "text\nfrom a stream\n";
  FILE *f = fmemopen((void *)csv, strlen(csv), "rb");
  fm_reader *r;
  const fm_record *rec;
  fm_error err;
  uint64_t done, total;
  (void)state;
  assert_non_null(f);
  assert_int_equal(fm_reader_open_file(f, "s.csv", NULL, &r, &err), FM_OK);
  assert_string_equal(fm_reader_name(r), "s.csv");
  assert_int_equal(fm_reader_next(r, &rec, &err), FM_OK);
  assert_string_equal(rec->text, "from a stream");
  assert_int_equal(fm_reader_next(r, &rec, &err), FM_EEOF);
  fm_reader_progress(r, &done, &total);
  assert_int_equal(done, strlen(csv));
  assert_int_equal(total, 0);
  fm_reader_free(r);
  fclose(f);
  fm_reader_free(NULL);
}

/* Bigger than the input buffer, with rows straddling its edges. */
static void test_large_stream(void **state) {
  fmi_buf in = {0};
  fm_reader *r;
  const fm_record *rec;
  fm_error err;
  size_t i, n = 0;
  (void)state;
  fmi_buf_printf(&in, "id,text,date\r\n");
  for (i = 0; i < 20000; i++)
    fmi_buf_printf(&in, "%zu,\"row %zu says \"\"hi\"\"\r\nsecond line\",%zu\r\n",
                   i, i, 1700000000 + i);
  assert_int_equal(fm_reader_open_memory(in.data, in.len, NULL, &r, &err), FM_OK);
  while (fm_reader_next(r, &rec, &err) == FM_OK) {
    char want[64];
    snprintf(want, sizeof want, "row %zu says \"hi\"\r\nsecond line", n);
    assert_string_equal(rec->text, want);
    assert_int_equal(rec->line, 2 + 2 * n);
    assert_int_equal(rec->date, 1700000000 + (int64_t)n);
    n++;
  }
  assert_int_equal(err.code, FM_EEOF);
  assert_int_equal(n, 20000);
  fm_reader_free(r);
  fmi_buf_free(&in);
}

static void alloc_loop(const char *data, const fm_reader_opts *o) {
  long k;
  for (k = 0;; k++) {
    fm_reader *r = NULL;
    fm_error err;
    fm_status st;
    fmi_fault_fail_after(k);
    st = fm_reader_open_memory(data, strlen(data), o, &r, &err);
    if (st == FM_OK) {
      const fm_record *rec;
      for (;;) {
        st = fm_reader_next(r, &rec, &err);
        if (st == FM_OK) {
          fm_field f;
          size_t len;
          fm_record_field(rec, "o", &len);
          if (fm_record_field_count(rec)) fm_record_field_at(rec, 0, &f);
          continue;
        }
        if (st != FM_EPARSE) break;
      }
      fm_reader_free(r);
    } else {
      assert_null(r);
    }
    fmi_fault_fail_after(-1);
    if (st == FM_EEOF) break;
    assert_int_equal(st, FM_ENOMEM);
    assert_true(k < 10000);
  }
}

static void test_alloc_failures(void **state) {
  fm_reader_opts o = FM_READER_OPTS_INIT;
  const char *maps[] = {"text=subject+body", "segment=o.k"};
  (void)state;
  alloc_loop("id,subject,body,date,score\n1,a,b,2024-01-01,3\n2,c\n"
             "3,\"x\ny\",z,01/02/2024,4\n4,\"open\n5,a,b,c,d\n", NULL);
  o.map = maps;
  o.n_map = 2;
  alloc_loop("{\"subject\":\"a\",\"body\":\"b\",\"o\":{\"k\":1.5}}\nbad\n"
             "{\"subject\":\"c\",\"o\":[1]}\n", &o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_csv_basic),
      cmocka_unit_test(test_csv_bom_crlf_embedded),
      cmocka_unit_test(test_csv_cr_only_semicolon),
      cmocka_unit_test(test_csv_tab),
      cmocka_unit_test(test_csv_mixed_bad),
      cmocka_unit_test(test_csv_raw_bytes),
      cmocka_unit_test(test_csv_size_caps),
      cmocka_unit_test(test_csv_raw_truncated),
      cmocka_unit_test(test_csv_bom_in_middle),
      cmocka_unit_test(test_csv_detect_and_map),
      cmocka_unit_test(test_csv_open_errors),
      cmocka_unit_test(test_record_fields),
      cmocka_unit_test(test_jsonl_file),
      cmocka_unit_test(test_jsonl_fields),
      cmocka_unit_test(test_jsonl_lines),
      cmocka_unit_test(test_jsonl_line_cap),
      cmocka_unit_test(test_dates),
      cmocka_unit_test(test_numbers),
      cmocka_unit_test(test_date_order_option),
      cmocka_unit_test(test_open_file_stream),
      cmocka_unit_test(test_large_stream),
      cmocka_unit_test(test_alloc_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
