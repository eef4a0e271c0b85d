/* agg_fixture.h -- a small, fixed multi-source sample of tagged items over
 * two 30-day periods, built by hand (no model), for test_agg.c and
 * test_report.c. The numbers it yields are worked out in test_report.c.
 *
 * Period: 2024-03-01 .. 2024-03-30, previous: 2024-01-31 .. 2024-02-29.
 *
 *   area          period  previous
 *   billing           20         5   (exact binomial p = 0.0041: rising)
 *   performance        6         4   (p = 0.7539: not significant)
 *   reporting          5         5   (p = 1)
 *
 * Plus one ticket dated after the period (outside) and one undated.
 *
 * NPS answers of the period (score: area): 3, 0, 5, 9: billing;
 * 10, 8, 6: performance; 9, 7, 10: reporting.
 */
#ifndef FM_AGG_FIXTURE_H
#define FM_AGG_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedmine.h"

static const char *const fx_area[] = {"billing", "performance", "reporting",
                                      "other"};
static const char *const fx_sent[] = {"negative", "neutral", "positive"};
static const char *const fx_kind[] = {"bug",       "feature_request",
                                      "question",  "complaint",
                                      "praise",    "other"};
static const char *const fx_reason[] = {"price", "competitor",
                                        "missing_capability", "other"};
static const fm_agg_head fx_heads[] = {
    {"area", fx_area, 4},
    {"sentiment", fx_sent, 3},
    {"kind", fx_kind, 6},
    {"churn_reason", fx_reason, 4}};

#define FX_SINCE ((int64_t)1709251200) /* 2024-03-01 */
#define FX_UNTIL ((int64_t)1711843200) /* 2024-03-31 */
#define FX_DAY 86400
#define FX_UNDATED 999

typedef struct fx_item {
  const char *source;
  int day;          /* day of the period (0-29), or -1..-30 before it */
  const char *account;
  double revenue;   /* < 0: none */
  int score;        /* < 0: none */
  const char *area, *sentiment, *kind, *reason;
  double prob;      /* of every head */
  const char *text;
} fx_item;

/* The sample. Billing's feature requests and complaints talk about the
 * invoice PDF; the XSS and formula payloads ride in verbatims. */
static const fx_item fx_items[] = {
    /* billing, period: 14 tickets */
    {"ticket", 1, "acme", 1000, -1, "billing", "negative", "feature_request",
     NULL, 0.95, "Please add an invoice PDF download, finance needs it."},
    {"ticket", 2, "globex", 500, -1, "billing", "negative", "feature_request",
     NULL, 0.90, "We need the invoice PDF with our VAT number."},
    {"ticket", 3, "initech", 200, -1, "billing", "negative", "complaint",
     NULL, 0.85, "No invoice PDF again this month, this is annoying."},
    {"ticket", 4, "acme", -1, -1, "billing", "negative", "feature_request",
     NULL, 0.97,
     "invoice PDF please <script>document.title='pwned'</script> "
     "\"><img src=x onerror=\"document.title='pwned'\"> javascript:alert(1)"},
    {"ticket", 5, "globex", -1, -1, "billing", "negative", "complaint", NULL,
     0.75, "=HYPERLINK(\"http://evil.example\",\"invoice PDF\") charged twice"},
    {"ticket", 6, "initech", -1, -1, "billing", "neutral", "question", NULL,
     0.70, "How do I change the card on file?"},
    {"ticket", 7, "acme", -1, -1, "billing", "neutral", "question", NULL, 0.65,
     "Where can I see past invoices?"},
    {"ticket", 8, "globex", -1, -1, "billing", "negative", "bug", NULL, 0.60,
     "Charged twice for March."},
    {"ticket", 9, "initech", -1, -1, "billing", "neutral", "question", NULL,
     0.55, "Can we pay yearly?"},
    {"ticket", 10, "acme", -1, -1, "billing", "positive", "praise", NULL, 0.50,
     "Thanks for the quick refund."},
    {"ticket", 11, "globex", -1, -1, "billing", "neutral", "question", NULL,
     0.45, "Is VAT included in the price?"},
    {"ticket", 12, "initech", -1, -1, "billing", "negative", "complaint", NULL,
     0.40, "Seats are too expensive for a small team."},
    {"ticket", 13, "acme", -1, -1, "billing", "neutral", "other", NULL, 0.35,
     "Updated our billing address."},
    {"ticket", 14, "globex", -1, -1, "billing", "positive", "praise", NULL,
     0.30, "Billing page is clear now."},
    /* billing, period: 4 NPS answers, a churn and a lost deal */
    {"nps", 15, "initech", -1, 3, "billing", "negative", "complaint", NULL,
     0.90, "Too expensive, and still no invoice PDF."},
    {"nps", 16, "acme", -1, 0, "billing", "negative", "complaint", NULL, 0.96,
     "@SUM(1+1) the price went up again"},
    {"nps", 17, "globex", -1, 5, "billing", "negative", "feature_request",
     NULL, 0.86, "-2+3 give us an invoice PDF export"},
    {"nps", 18, "initech", -1, 9, "billing", "positive", "praise", NULL, 0.84,
     "Fair price for what we get."},
    {"churn", 19, "hooli", 800, -1, "billing", "negative", "complaint", "price",
     0.92, "Price increase of 30 percent, we cancel."},
    {"lost_deal", 20, "vandelay", 5000, -1, "billing", "negative", "other",
     "competitor", 0.91, "Chose a competitor with cheaper seats."},
    /* performance, period: 3 NPS answers and 3 tickets */
    {"nps", 21, "umbrella", 300, 10, "performance", "positive", "praise", NULL,
     0.93, "Fast and reliable."},
    {"nps", 22, "acme", -1, 8, "performance", "neutral", "other", NULL, 0.20,
     "Mostly fine."},
    {"nps", 23, "globex", -1, 6, "performance", "negative", "complaint", NULL,
     0.87, "The dashboard is slow every morning."},
    {"ticket", 24, "umbrella", -1, -1, "performance", "negative", "complaint",
     NULL, 0.89, "Slow dashboard again, takes 20 seconds."},
    {"ticket", 25, "acme", -1, -1, "performance", "negative", "bug", NULL, 0.15,
     "500 error when saving."},
    {"ticket", 26, "umbrella", -1, -1, "performance", "negative", "complaint",
     NULL, 0.83, "Slow dashboard makes agents wait."},
    /* reporting, period: 3 NPS answers and 2 tickets (one undated) */
    {"nps", 27, "globex", -1, 9, "reporting", "positive", "praise", NULL, 0.94,
     "Love the new reports."},
    {"nps", 28, "initech", -1, 7, "reporting", "neutral", "feature_request",
     NULL, 0.81, "Please add a custom report by tag."},
    {"nps", 29, "acme", -1, 10, "reporting", "positive", "praise", NULL, 0.79,
     "Reports are great."},
    {"ticket", 0, "umbrella", -1, -1, "reporting", "neutral",
     "feature_request", NULL, 0.77, "Custom report by tag would help."},
    {"ticket", 12, "acme", -1, -1, "reporting", "negative", "bug", NULL, 0.10,
     "Chart totals are wrong."},
    /* previous period: billing 5, performance 4, reporting 5 tickets */
    {"ticket", -1, "acme", -1, -1, "billing", "neutral", "question", NULL, 0.9,
     "How do I download an invoice?"},
    {"ticket", -5, "globex", -1, -1, "billing", "negative", "bug", NULL, 0.9,
     "Charged twice."},
    {"ticket", -9, "initech", -1, -1, "billing", "neutral", "question", NULL,
     0.9, "Can I add a seat?"},
    {"ticket", -13, "acme", -1, -1, "billing", "positive", "praise", NULL, 0.9,
     "Refund was fast."},
    {"ticket", -17, "globex", -1, -1, "billing", "neutral", "other", NULL, 0.9,
     "New billing contact."},
    {"ticket", -2, "umbrella", -1, -1, "performance", "negative", "complaint",
     NULL, 0.9, "Dashboard slow."},
    {"ticket", -6, "acme", -1, -1, "performance", "negative", "bug", NULL, 0.9,
     "Timeouts on search."},
    {"ticket", -10, "globex", -1, -1, "performance", "negative", "bug", NULL,
     0.9, "Outage this morning."},
    {"ticket", -14, "umbrella", -1, -1, "performance", "neutral", "question",
     NULL, 0.9, "Is there a status page?"},
    {"ticket", -3, "acme", -1, -1, "reporting", "positive", "praise", NULL, 0.9,
     "Nice charts."},
    {"ticket", -7, "globex", -1, -1, "reporting", "neutral", "question", NULL,
     0.9, "How do I export a chart?"},
    {"ticket", -11, "initech", -1, -1, "reporting", "neutral",
     "feature_request", NULL, 0.9, "Custom report by tag please."},
    {"ticket", -15, "acme", -1, -1, "reporting", "negative", "bug", NULL, 0.9,
     "Report totals wrong."},
    {"ticket", -19, "umbrella", -1, -1, "reporting", "neutral", "other", NULL,
     0.9, "Shared the report with my boss."},
    /* not counted: after the period, and undated */
    {"ticket", 45, "acme", -1, -1, "billing", "negative", "bug", NULL, 0.9,
     "Invoice PDF broken."},
    {"ticket", FX_UNDATED, "acme", -1, -1, "billing", "negative", "bug", NULL,
     0.9, "Invoice PDF broken."},
};
#define FX_N (sizeof fx_items / sizeof fx_items[0])

/* A token list for a text: words split at blanks, ',' '.' '!' '?' as
 * punctuation, a few English stopwords flagged, stems = lower-cased words.
 * Storage lives in the caller's fx_toks. */
typedef struct fx_toks {
  fm_token tok[96];
  char buf[1024];
  size_t n;
} fx_toks;

static int fx_is_stop(const char *w, size_t n) {
  static const char *const stop[] = {"a",   "an",  "the", "we",  "our", "is",
                                     "to",  "for", "of",  "and", "it",  "in",
                                     "with", "this", "on",  "my",  "by",
                                     "can", "do",  "i",   "us", "give", "no", "too", "are",
                                     "please", "again", "still", NULL};
  size_t i;
  for (i = 0; stop[i]; i++)
    if (strlen(stop[i]) == n && !strncmp(stop[i], w, n)) return 1;
  return 0;
}

static void fx_tokenize(const char *text, fx_toks *t) {
  size_t i = 0, n = strlen(text), used = 0;
  t->n = 0;
  while (i < n && t->n < 96) {
    size_t j;
    char c = text[i];
    if (c == ' ') {
      i++;
      continue;
    }
    if (strchr(",.!?", c)) {
      fm_token *k = &t->tok[t->n++];
      memset(k, 0, sizeof *k);
      k->text = k->stem = text + i;
      k->len = k->stem_len = 1;
      k->kind = FM_TOKEN_PUNCT;
      i++;
      continue;
    }
    for (j = i; j < n && text[j] != ' ' && !strchr(",.!?", text[j]); j++) {}
    if (used + (j - i) + 1 > sizeof t->buf) break;
    {
      fm_token *k = &t->tok[t->n++];
      size_t m;
      char *lw = t->buf + used;
      for (m = 0; m < j - i; m++) {
        char ch = text[i + m];
        lw[m] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
      }
      lw[j - i] = 0;
      used += j - i + 1;
      memset(k, 0, sizeof *k);
      k->text = lw;
      k->len = j - i;
      k->stem = lw;
      k->stem_len = j - i;
      k->kind = lw[0] >= '0' && lw[0] <= '9' ? FM_TOKEN_NUMBER : FM_TOKEN_WORD;
      if (fx_is_stop(lw, j - i)) k->flags |= FM_TOKEN_STOPWORD;
    }
    i = j;
  }
}

/* Fills an fm_agg_item for fixture item i; tags and toks are storage. */
static void fx_item_fill(size_t i, fm_agg_item *it, fm_agg_tag *tags,
                         fx_toks *toks) {
  const fx_item *f = &fx_items[i];
  fm_agg_item init = FM_AGG_ITEM_INIT;
  size_t n = 0;
  *it = init;
  it->source = f->source;
  it->date = FX_SINCE + (int64_t)f->day * FX_DAY + 3600 * (int64_t)(i % 20);
  it->has_date = f->day != FX_UNDATED;
  it->account = f->account;
  if (f->revenue >= 0) {
    it->revenue = f->revenue;
    it->has_revenue = 1;
  }
  if (f->score >= 0) {
    it->score = f->score;
    it->has_score = 1;
  }
  it->lang = i % 7 == 3 ? "de" : "en";
  tags[n].head = "area";
  tags[n].label = f->area;
  tags[n].prob = f->prob;
  tags[n].needs_review = f->prob < 0.5;
  n++;
  tags[n].head = "sentiment";
  tags[n].label = f->sentiment;
  tags[n].prob = f->prob > 0.3 ? f->prob - 0.05 : f->prob;
  tags[n].needs_review = f->prob < 0.4;
  n++;
  tags[n].head = "kind";
  tags[n].label = f->kind;
  tags[n].prob = f->prob;
  tags[n].needs_review = f->prob < 0.5;
  n++;
  if (f->reason) {
    tags[n].head = "churn_reason";
    tags[n].label = f->reason;
    tags[n].prob = 0.8;
    tags[n].needs_review = 0;
    n++;
  }
  it->tags = tags;
  it->n_tags = n;
  it->text = f->text;
  it->text_len = strlen(f->text);
  fx_tokenize(f->text, toks);
  it->tokens = toks->tok;
  it->n_tokens = toks->n;
}

/* Ids must outlive the call: a static table. */
static const char *fx_id(size_t i) {
  static char ids[64][8];
  snprintf(ids[i % 64], sizeof ids[0], "T%zu", i + 1);
  return ids[i % 64];
}

static fm_agg_opts fx_opts(void) {
  fm_agg_opts o = FM_AGG_OPTS_INIT;
  o.heads = fx_heads;
  o.n_heads = 4;
  o.since = FX_SINCE;
  o.until = FX_UNTIL;
  o.compare = FM_COMPARE_PREVIOUS;
  return o;
}

/* Adds fixture items [lo, hi) whose index satisfies (i % mod == rem). */
static fm_status fx_add_range(fm_agg *a, size_t lo, size_t hi, size_t mod,
                              size_t rem, fm_error *err) {
  size_t i;
  for (i = lo; i < hi && i < FX_N; i++) {
    fm_agg_item it;
    fm_agg_tag tags[4];
    fx_toks toks;
    fm_status st;
    if (mod && i % mod != rem) continue;
    fx_item_fill(i, &it, tags, &toks);
    it.id = fx_id(i);
    st = fm_agg_add(a, &it, err);
    if (st != FM_OK) return st;
  }
  return FM_OK;
}

#endif
