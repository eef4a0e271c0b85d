/*
 * bench_report.c -- memory and time of the aggregate over many items.
 *
 * Adds N synthetic tagged items (default 1,000,000) to one fm_agg: texts of
 * 8 to 40 words drawn from a Zipf-distributed vocabulary of 50,000 words
 * (so the number of distinct uni/bi/trigrams keeps growing with N, the
 * worst case for the keyphrase tables), 14 areas, the four sources, 5,000
 * accounts, dates over 60 days. Prints, at 10^4, 10^5, 10^6 items, the
 * peak RSS, the aggregate's own byte estimate, the phrase entries and the
 * sampling step; then the time to serialize, to merge two halves, and to
 * write each report format.
 *
 *   bench_report [N (default 1000000)] [MAX_PHRASES (default 0 = 262144)]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "feedmine.h"

#define VOCAB 50000
#define DAY 86400
#define SINCE ((int64_t)1709251200) /* 2024-03-01 */

/* Zipf(1.07) over VOCAB ranks by inverse CDF on a precomputed table. */
static double *zipf_cdf;
static void zipf_init(void) {
  double s = 0;
  size_t i;
  zipf_cdf = malloc(VOCAB * sizeof *zipf_cdf);
  for (i = 0; i < VOCAB; i++) s += 1.0 / pow((double)(i + 1), 1.07);
  zipf_cdf[0] = 1.0 / s;
  for (i = 1; i < VOCAB; i++)
    zipf_cdf[i] = zipf_cdf[i - 1] + 1.0 / pow((double)(i + 1), 1.07) / s;
}
static unsigned zipf(void) {
  double u = (next() + 0.5) / 4294967296.0;
  size_t lo = 0, hi = VOCAB - 1;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (zipf_cdf[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return (unsigned)lo;
}

static const char *const area[] = {
    "onboarding_setup", "billing_pricing", "performance_reliability",
    "integrations_api", "reporting_analytics", "notifications", "mobile_app",
    "usability_ui", "permissions_security", "workflow_automation", "search",
    "data_import_export", "support_experience", "other"};
static const char *const sent[] = {"negative", "neutral", "positive"};
static const char *const kind[] = {"bug", "feature_request", "question",
                                   "complaint", "praise", "other"};
static const char *const reason[] = {"business_closed", "not_adopted",
                                     "no_value", "missing_capability",
                                     "competitor", "price", "other"};
static const char *const src[] = {"ticket", "ticket", "ticket", "ticket",
                                  "ticket", "nps", "nps", "churn",
                                  "lost_deal"};
static const fm_agg_head heads[] = {{"area", area, 14},
                                    {"sentiment", sent, 3},
                                    {"kind", kind, 6},
                                    {"churn_reason", reason, 7}};

static char words[VOCAB][12];
static char accounts[5000][16];

typedef struct item_buf {
  char text[512];
  fm_token tok[48];
  size_t n_tok;
} item_buf;

static void make_item(item_buf *b, fm_agg_item *it, fm_agg_tag *tags) {
  size_t k, n = 8 + next() % 33, len = 0;
  unsigned s = next() % 9, a = (unsigned)(zipf() % 14);
  fm_agg_item init = FM_AGG_ITEM_INIT;
  *it = init;
  b->n_tok = 0;
  for (k = 0; k < n && b->n_tok < 48; k++) {
    unsigned w = zipf();
    size_t wl = strlen(words[w]);
    fm_token *t = &b->tok[b->n_tok++];
    if (len + wl + 2 > sizeof b->text) break;
    if (len) b->text[len++] = ' ';
    memcpy(b->text + len, words[w], wl);
    memset(t, 0, sizeof *t);
    t->text = t->stem = b->text + len;
    t->len = t->stem_len = wl;
    t->start = len;
    t->end = len + wl;
    t->kind = FM_TOKEN_WORD;
    if (w < 60) t->flags |= FM_TOKEN_STOPWORD; /* the commonest words */
    len += wl;
  }
  b->text[len] = 0;
  it->source = src[s];
  it->date = SINCE - 30 * DAY + (int64_t)(next() % (60 * DAY));
  it->has_date = 1;
  it->account = accounts[next() % 5000];
  if (s >= 7) {
    it->revenue = 100 + next() % 10000;
    it->has_revenue = 1;
  }
  if (s == 5 || s == 6) {
    it->score = next() % 11;
    it->has_score = 1;
  }
  it->lang = next() % 5 ? "en" : "de";
  tags[0].head = "area";
  tags[0].label = area[a];
  tags[0].prob = 0.3 + (next() % 700) / 1000.0;
  tags[0].needs_review = tags[0].prob < 0.6;
  tags[1].head = "sentiment";
  tags[1].label = sent[next() % 3];
  tags[1].prob = 0.4 + (next() % 600) / 1000.0;
  tags[1].needs_review = 0;
  tags[2].head = "kind";
  tags[2].label = kind[next() % 6];
  tags[2].prob = 0.3 + (next() % 700) / 1000.0;
  tags[2].needs_review = tags[2].prob < 0.5;
  it->n_tags = 3;
  if (s >= 7) {
    tags[3].head = "churn_reason";
    tags[3].label = reason[next() % 7];
    tags[3].prob = 0.5 + (next() % 500) / 1000.0;
    tags[3].needs_review = 0;
    it->n_tags = 4;
  }
  it->tags = tags;
  it->text = b->text;
  it->text_len = len;
  it->tokens = b->tok;
  it->n_tokens = b->n_tok;
}

static void stats(const fm_agg *a, size_t n, double t0) {
  fm_agg_stats st;
  memset(&st, 0, sizeof st);
  st.size = sizeof st;
  fm_agg_stats_get(a, &st, NULL);
  printf("%9zu items  %7.1f s  peak RSS %7.1f MB  aggregate ~%7.1f MB  "
         "phrases %7llu  sampling step %u  accounts %llu\n",
         n, now() - t0, peak_rss_kb() / 1024.0, st.bytes / 1048576.0,
         (unsigned long long)st.phrases, st.phrase_sampling,
         (unsigned long long)st.accounts);
  fflush(stdout);
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
  size_t max_phrases = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 0;
  fm_agg_opts o = FM_AGG_OPTS_INIT;
  fm_agg *a = NULL, *h1 = NULL, *h2 = NULL;
  fm_error err;
  size_t i, f;
  double t0;
  item_buf b;
  char *data;
  size_t len;
  zipf_init();
  for (i = 0; i < VOCAB; i++) {
    unsigned v = (unsigned)i * 2654435761u, k;
    size_t l = 3 + i % 7;
    for (k = 0; k < l; k++) {
      words[i][k] = (char)('a' + v % 26);
      v = v / 26 + (unsigned)i * 7u + k;
    }
    words[i][l] = 0;
  }
  for (i = 0; i < 5000; i++) snprintf(accounts[i], sizeof accounts[i], "acct-%zu", i);
  o.heads = heads;
  o.n_heads = 4;
  o.since = SINCE;
  o.until = SINCE + 30 * DAY;
  o.max_phrases = max_phrases;
  if (fm_agg_new(&o, &a, &err) != FM_OK ||
      fm_agg_new(&o, &h1, &err) != FM_OK ||
      fm_agg_new(&o, &h2, &err) != FM_OK) {
    fprintf(stderr, "fm_agg_new: %s\n", err.msg);
    return 1;
  }
  printf("bench_report: %zu items, max_phrases %zu\n", n,
         max_phrases ? max_phrases : (size_t)262144);
  t0 = now();
  for (i = 0; i < n; i++) {
    fm_agg_item it;
    fm_agg_tag tags[4];
    make_item(&b, &it, tags);
    if (fm_agg_add(a, &it, &err) != FM_OK) {
      fprintf(stderr, "fm_agg_add: %s\n", err.msg);
      return 1;
    }
    if (i + 1 == 10000 || i + 1 == 100000 || i + 1 == 1000000 ||
        (i + 1) % 1000000 == 0 || i + 1 == n)
      stats(a, i + 1, t0);
  }
  t0 = now();
  if (fm_agg_serialize(a, &data, &len, &err) != FM_OK) return 1;
  printf("serialize: %.2f s, %.1f MB of JSON\n", now() - t0, len / 1048576.0);
  t0 = now();
  {
    fm_agg *back = NULL;
    if (fm_agg_deserialize(data, len, &back, &err) != FM_OK) {
      fprintf(stderr, "deserialize: %s\n", err.msg);
      return 1;
    }
    printf("deserialize: %.2f s\n", now() - t0);
    fm_agg_free(back);
  }
  fm_free(data);
  for (f = 0; f < 4; f++) {
    fm_report_opts ro = FM_REPORT_OPTS_INIT;
    char *r;
    size_t rl;
    static const char *const names[] = {"markdown", "html", "json", "csv"};
    ro.format = (fm_report_format)f;
    t0 = now();
    if (fm_report_write_memory(a, &ro, &r, &rl, &err) != FM_OK) return 1;
    printf("report %-8s: %.2f s, %.0f KB\n", names[f], now() - t0,
           rl / 1024.0);
    fm_free(r);
  }
  /* merge: the same items split in two halves, then merged */
  rng = 88172645463325252ULL;
  t0 = now();
  for (i = 0; i < n; i++) {
    fm_agg_item it;
    fm_agg_tag tags[4];
    make_item(&b, &it, tags);
    if (fm_agg_add(i % 2 ? h1 : h2, &it, &err) != FM_OK) return 1;
  }
  printf("two halves built: %.1f s\n", now() - t0);
  t0 = now();
  if (fm_agg_merge(h1, h2, &err) != FM_OK) return 1;
  printf("merge: %.2f s\n", now() - t0);
  {
    char *x, *y;
    size_t lx, ly;
    fm_agg_serialize(a, &x, &lx, &err);
    fm_agg_serialize(h1, &y, &ly, &err);
    printf("merged halves %s the single aggregate (%.1f MB)\n",
           lx == ly && !memcmp(x, y, lx) ? "equal" : "DIFFER FROM", lx / 1048576.0);
    fm_free(x);
    fm_free(y);
  }
  printf("peak RSS at the end: %.1f MB\n", peak_rss_kb() / 1024.0);
  fm_agg_free(a);
  fm_agg_free(h1);
  fm_agg_free(h2);
  free(zipf_cdf);
  return 0;
}
