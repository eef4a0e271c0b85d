/*
 * report.c -- the numbers of the requirement report (report.h) and
 * fm_report_write.
 *
 * All arithmetic here starts from the aggregate's integers, so two equal
 * aggregates give the same doubles and the same printed digits.
 */
#include "report.h"
#include "stats.h"

#include <math.h>
#include <stdlib.h>

#define DAY 86400

void fmi_rep_date(int64_t t, char *out) {
  fmi_agg_format_day(fmi_agg_day(t), out);
}

void fmi_rep_money(fmi_out *o, int64_t cents) {
  if (cents < 0) {
    fmi_out_c(o, '-');
    cents = -cents;
  }
  fmi_out_i64(o, cents / 100);
  fmi_out_c(o, '.');
  fmi_out_c(o, (char)('0' + cents % 100 / 10));
  fmi_out_c(o, (char)('0' + cents % 10));
}

void fmi_rep_money_text(fmi_out *o, int64_t cents) {
  char digits[24];
  size_t n = 0, i;
  uint64_t whole;
  if (cents < 0) {
    fmi_out_c(o, '-');
    whole = ((uint64_t)0 - (uint64_t)cents) / 100;
    cents = -(cents % 100);
  } else {
    whole = (uint64_t)cents / 100;
    cents %= 100;
  }
  do {
    digits[n++] = (char)('0' + whole % 10);
    whole /= 10;
  } while (whole);
  for (i = n; i-- > 0;) {
    fmi_out_c(o, digits[i]);
    if (i && i % 3 == 0) fmi_out_c(o, ',');
  }
  fmi_out_c(o, '.');
  fmi_out_c(o, (char)('0' + cents / 10));
  fmi_out_c(o, (char)('0' + cents % 10));
}

const char *fmi_rep_label(const fm_agg *a, size_t h, uint32_t tag) {
  if (tag == 0 || tag > a->heads[h].n_labels) return "-";
  return a->heads[h].labels[tag - 1];
}

double fmi_rep_min_prob(const fm_agg *a, const fmi_agg_kept *k) {
  size_t h;
  uint32_t m = 1000000;
  for (h = 0; h < a->n_heads; h++)
    if (k->tags[h] && k->ppm[h] < m) m = k->ppm[h];
  return m / 1e6;
}

double fmi_rep_change(uint64_t cur, uint64_t prev, int *defined) {
  *defined = prev > 0;
  if (!prev) return 0;
  return ((double)cur - (double)prev) / (double)prev * 100.0;
}

fm_status fmi_rep_excerpt(const char *text, int truncated, size_t max,
                          fmi_buf *out) {
  size_t i, n = strlen(text);
  bool space = false, cut = truncated != 0;
  fmi_buf_clear(out);
  if (fmi_buf_reserve(out, max + 8) != FM_OK) return FM_ENOMEM;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c <= ' ' || c == 0x7F) { /* blanks and control characters */
      space = out->len > 0;
      continue;
    }
    if (out->len + (space ? 1 : 0) >= max && (c & 0xC0) != 0x80) {
      cut = true;
      break;
    }
    if (space) fmi_buf_putc(out, ' ');
    space = false;
    fmi_buf_putc(out, (char)c);
  }
  if (cut) fmi_buf_append(out, "\xE2\x80\xA6", 3); /* … */
  return FM_OK;
}

static double nps_of(uint64_t pro, uint64_t det, uint64_t n) {
  return ((double)pro - (double)det) / (double)n * 100.0;
}

/* ---- areas -------------------------------------------------------------- */

static int cmp_i64(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  return a < b ? -1 : a > b;
}

static int cmp_area(const void *x, const void *y) {
  const fmi_rep_area *a = x, *b = y;
  if (a->priority != b->priority) return a->priority > b->priority ? -1 : 1;
  if (a->count != b->count) return a->count > b->count ? -1 : 1;
  return a->label < b->label ? -1 : a->label > b->label;
}

static fm_status build_areas(fmi_report *rep, fm_error *err) {
  const fm_agg *a = rep->agg;
  size_t i, k, n_kind, n_sent;
  int64_t *revs = NULL;
  size_t n_revs = 0;
  uint64_t P = a->nps[FMI_CUR][FMI_NPS_PROMOTER];
  uint64_t D = a->nps[FMI_CUR][FMI_NPS_DETRACTOR];
  uint64_t N = P + D + a->nps[FMI_CUR][FMI_NPS_PASSIVE];
  n_kind = a->h_kind >= 0 ? a->heads[a->h_kind].n_labels : 0;
  n_sent = a->h_sent >= 0 ? a->heads[a->h_sent].n_labels : 0;

  /* Accounts of the period, their revenue and its median. */
  if (a->n_accounts) {
    revs = fmi_malloc(a->n_accounts * sizeof *revs);
    if (!revs) return fmi_fail(err, FM_ENOMEM, "out of memory");
  }
  for (i = 0; i < a->n_accounts; i++) {
    const fmi_agg_account *ac = &a->accounts[i];
    if (!(ac->active & (1u << FMI_CUR))) continue;
    rep->accounts++;
    if (ac->has_revenue) {
      rep->accounts_with_revenue++;
      rep->revenue_cents += ac->revenue_cents;
      revs[n_revs++] = ac->revenue_cents;
    }
  }
  if (n_revs) {
    qsort(revs, n_revs, sizeof *revs, cmp_i64);
    rep->median_revenue_cents =
        n_revs % 2 ? (double)revs[n_revs / 2]
                   : ((double)revs[n_revs / 2 - 1] + (double)revs[n_revs / 2]) /
                         2.0;
  }
  fmi_free(revs);

  rep->n_areas = a->n_area;
  if (!a->n_area) return FM_OK;
  rep->areas = fmi_calloc(a->n_area, sizeof *rep->areas);
  if (!rep->areas) return fmi_fail(err, FM_ENOMEM, "out of memory");
  for (i = 0; i < a->n_area; i++) {
    fmi_rep_area *ra = &rep->areas[i];
    const fmi_agg_area *c = &a->areas[FMI_CUR * a->n_area + i];
    const fmi_agg_area *p = &a->areas[FMI_PREV * a->n_area + i];
    uint64_t npsn = c->nps[0] + c->nps[1] + c->nps[2];
    double w = 0;
    ra->label = i;
    ra->name = a->heads[a->h_area].labels[i];
    ra->count = c->count;
    ra->prev = p->count;
    ra->cur_counts = c;
    ra->prev_counts = p;
    ra->kinds = a->area_kinds + (FMI_CUR * a->n_area + i) * n_kind;
    ra->sents = a->area_sents + (FMI_CUR * a->n_area + i) * n_sent;
    ra->slots = a->slots + i * 2 * a->n_slots;
    for (k = 0; k < n_sent; k++) ra->sent_tagged += ra->sents[k];
    if (a->l_negative >= 0) ra->negative = ra->sents[a->l_negative];
    if (a->l_request >= 0) ra->requests += ra->kinds[a->l_request];
    if (a->l_complaint >= 0) ra->requests += ra->kinds[a->l_complaint];
    /* Weighted volume: NPS detractors weigh more than other answers. */
    for (k = 0; k < FMI_N_SRC; k++) {
      uint64_t n = c->sources[k];
      if (k == FMI_SRC_NPS) {
        uint64_t det = c->nps[FMI_NPS_DETRACTOR] <= n
                           ? c->nps[FMI_NPS_DETRACTOR] : n;
        w += (double)a->weight_milli[FMI_N_SRC] / 1000.0 * (double)det;
        n -= det;
      }
      w += (double)a->weight_milli[k] / 1000.0 * (double)n;
    }
    ra->weighted = w;
    ra->neg_share =
        ra->sent_tagged ? (double)ra->negative / (double)ra->sent_tagged : 0;
    for (k = 0; k < a->n_accounts; k++) {
      const fmi_agg_account *ac = &a->accounts[k];
      if (!(ac->areas[FMI_CUR] >> i & 1)) continue;
      ra->accounts++;
      if (ac->has_revenue) {
        ra->accounts_with_revenue++;
        ra->revenue_cents += ac->revenue_cents;
      }
    }
    /* How big the accounts that raise it are, against the typical
     * account: volume is already in the weighted count. */
    ra->rev_factor = 1.0;
    if (rep->median_revenue_cents > 0 && ra->revenue_cents > 0)
      ra->rev_factor =
          1.0 + log10(1.0 + (double)ra->revenue_cents /
                                (double)ra->accounts_with_revenue /
                                rep->median_revenue_cents);
    ra->priority = ra->weighted * (1.0 + ra->neg_share) * ra->rev_factor;
    ra->nps_n = npsn;
    if (npsn) {
      ra->has_nps = 1;
      ra->nps = nps_of(c->nps[FMI_NPS_PROMOTER], c->nps[FMI_NPS_DETRACTOR],
                       npsn);
    }
    if (npsn && N > npsn) {
      /* NPS points the area costs: overall NPS minus the NPS of the
       * respondents who do not mention it. */
      ra->has_impact = 1;
      ra->impact = rep->nps[FMI_CUR] -
                   nps_of(P - c->nps[FMI_NPS_PROMOTER],
                          D - c->nps[FMI_NPS_DETRACTOR], N - npsn);
    }
    ra->p_value = 1.0;
    if (a->compare) {
      ra->p_value = fmi_rate_test(ra->count, ra->prev, 1.0, 1.0);
      if (ra->p_value < rep->opts.alpha && ra->count != ra->prev)
        ra->trend = ra->count > ra->prev ? 1 : -1;
    }
  }
  qsort(rep->areas, rep->n_areas, sizeof *rep->areas, cmp_area);
  return FM_OK;
}

/* ---- phrases ------------------------------------------------------------- */

typedef struct cand {
  const fmi_agg_req *r;
  const fmi_agg_phrase *p;
  uint64_t total; /* documents of the phrase over all areas */
  double z;
} cand;

static int cmp_cand_hash(const void *x, const void *y) {
  const cand *a = x, *b = y;
  if (a->r->hash != b->r->hash) return a->r->hash < b->r->hash ? -1 : 1;
  return a->r->area < b->r->area ? -1 : a->r->area > b->r->area;
}

static int cmp_cand(const void *x, const void *y) {
  const cand *a = x, *b = y;
  int c;
  if (a->r && b->r && a->r->area != b->r->area)
    return a->r->area < b->r->area ? -1 : 1;
  if (a->z != b->z) return a->z > b->z ? -1 : 1;
  if (a->p->order != b->p->order) return a->p->order > b->p->order ? -1 : 1;
  c = strcmp(a->p->surface, b->p->surface);
  if (c) return c;
  return a->p->hash < b->p->hash ? -1 : a->p->hash > b->p->hash;
}

/* Whether one phrase's words occur inside the other's. */
static bool overlaps(const char *x, const char *y) {
  size_t nx = strlen(x), ny = strlen(y);
  const char *big = nx >= ny ? x : y, *small = nx >= ny ? y : x;
  size_t ns = nx >= ny ? ny : nx;
  const char *s = big;
  while ((s = strstr(s, small)) != NULL) {
    bool left = s == big || s[-1] == ' ';
    bool right = s[ns] == 0 || s[ns] == ' ';
    if (left && right) return true;
    s++;
  }
  return false;
}

static int cmp_size(const void *x, const void *y) {
  size_t a = *(const size_t *)x, b = *(const size_t *)y;
  return a < b ? -1 : a > b;
}

/* Whether an exemplar's terms hold the phrase as consecutive words. */
static bool has_phrase(const char *terms, const char *stems) {
  size_t n = strlen(stems);
  const char *s = terms;
  if (!terms) return false;
  while ((s = strstr(s, stems)) != NULL) {
    bool left = s > terms && (s[-1] == ' ' || s[-1] == '\n');
    bool right = s[n] == ' ' || s[n] == '\n';
    if (left && right) return true;
    s++;
  }
  return false;
}

/* Exemplars that must hold a phrase before a sample of its items can
 * judge it a shadow. */
#define SHADOW_MIN_EXEMPLARS 3

/* Whether phrase `b` (of `count_b` items in the area) only ever occurs
 * with phrase `a` among the area's exemplars ("last" in "the last few
 * weeks", next to "week"): every exemplar that holds b holds a, and they
 * are all of b's items or at least SHADOW_MIN_EXEMPLARS of them. Listing
 * b would repeat a's quotes under another word. */
static bool shadowed(const fmi_agg_reservoir *ex, const char *a,
                     const char *b, uint64_t count_b) {
  size_t i, with_b = 0;
  for (i = 0; i < ex->n; i++) {
    const char *t = ex->items[i].terms;
    if (!has_phrase(t, b)) continue;
    if (!has_phrase(t, a)) return false;
    with_b++;
  }
  return with_b > 0 &&
         (with_b >= SHADOW_MIN_EXEMPLARS || with_b >= count_b);
}

/* Chooses up to `cap` candidates from c[0..n) (best first) whose phrases
 * do not overlap: a phrase inside one already chosen is skipped, and a
 * longer phrase holding a chosen one replaces it when it covers at least
 * three quarters of its items ("invoice pdf" over "invoice"). With `ex`
 * (an area's exemplars), a phrase shadowed by one already chosen is
 * skipped too. `cnt` gives a candidate's count. Returns how many were
 * chosen, indexes in `out`. */
static size_t choose(const cand *c, size_t n, size_t cap,
                     uint64_t (*cnt)(const cand *),
                     const fmi_agg_reservoir *ex, size_t *out) {
  size_t i, k, m = 0;
  for (i = 0; i < n; i++) {
    size_t hit = SIZE_MAX, hits = 0;
    if (!(c[i].z > 0)) break;
    for (k = 0; k < m; k++)
      if (overlaps(c[out[k]].p->stems, c[i].p->stems) ||
          overlaps(c[out[k]].p->surface, c[i].p->surface)) {
        hit = k;
        hits++;
      }
    if (hits == 0) {
      if (m < cap) {
        bool shadow = false;
        for (k = 0; ex && k < m && !shadow; k++)
          shadow = cnt(&c[i]) <= cnt(&c[out[k]]) &&
                   shadowed(ex, c[out[k]].p->stems, c[i].p->stems,
                            cnt(&c[i]));
        if (!shadow) out[m++] = i;
      }
      continue;
    }
    if (hits == 1 && c[i].p->order > c[out[hit]].p->order &&
        cnt(&c[i]) * 4 >= cnt(&c[out[hit]]) * 3)
      out[hit] = i;
  }
  /* best first again: a replacement sits where the phrase it replaced was */
  qsort(out, m, sizeof *out, cmp_size);
  return m;
}

static uint64_t req_count(const cand *c) { return c->r->df; }
static uint64_t cur_count(const cand *c) { return c->p->df[FMI_CUR]; }

/* A verbatim's gist: its first 48 letters and digits, lower-cased, so the
 * same sentence sent twice (or with a typo fixed) is quoted once. */
static uint64_t gist(const char *t) {
  char buf[48];
  size_t n = 0;
  for (; *t && n < sizeof buf; t++) {
    unsigned char c = (unsigned char)*t;
    if (c >= 'A' && c <= 'Z') buf[n++] = (char)(c - 'A' + 'a');
    else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80)
      buf[n++] = (char)c;
  }
  return fmi_hash64(buf, n);
}

/* Verbatims: the clearest exemplars holding the phrase, one per account
 * first (unknown accounts count as distinct), then the rest; never two
 * with the same gist. */
static void pick_verbatims(const fmi_report *rep, const fmi_agg_reservoir *res,
                           fmi_rep_phrase *ph) {
  size_t i, j, pass, want = rep->opts.verbatims;
  uint64_t sig[FMI_MAX_VERBATIMS];
  if (want > FMI_MAX_VERBATIMS) want = FMI_MAX_VERBATIMS;
  for (pass = 0; pass < 2 && ph->n_verbatims < want; pass++) {
    for (i = 0; i < res->n && ph->n_verbatims < want; i++) {
      const fmi_agg_kept *k = &res->items[i];
      bool skip = false;
      uint64_t g;
      if (!has_phrase(k->terms, ph->p->stems)) continue;
      g = gist(k->text);
      for (j = 0; j < ph->n_verbatims && !skip; j++) {
        if (ph->verbatims[j] == k || sig[j] == g) skip = true;
        if (pass == 0 && k->account[0] &&
            !strcmp(ph->verbatims[j]->account, k->account))
          skip = true;
      }
      if (skip) continue;
      sig[ph->n_verbatims] = g;
      ph->verbatims[ph->n_verbatims++] = k;
    }
  }
}

static fm_status build_requirements(fmi_report *rep, fm_error *err) {
  const fm_agg *a = rep->agg;
  cand *c = NULL;
  double *area_total = NULL, N = 0;
  size_t i, j, k, m, n = a->n_reqs, *pick = NULL;
  fm_status st = FM_OK;
  if (!n || !rep->n_areas) return FM_OK;
  c = fmi_calloc(n, sizeof *c);
  area_total = fmi_calloc(a->n_area, sizeof *area_total);
  pick = fmi_calloc(rep->opts.phrases, sizeof *pick);
  if (!c || !area_total || !pick) goto nomem;
  for (i = 0; i < n; i++) {
    c[i].r = &a->reqs[i];
    c[i].p = fmi_agg_phrase_find(a, a->reqs[i].hash);
    area_total[a->reqs[i].area] += (double)a->reqs[i].df;
    N += (double)a->reqs[i].df;
  }
  qsort(c, n, sizeof *c, cmp_cand_hash);
  for (i = 0; i < n; i = j) {
    uint64_t t = 0;
    for (j = i; j < n && c[j].r->hash == c[i].r->hash; j++) t += c[j].r->df;
    for (j = i; j < n && c[j].r->hash == c[i].r->hash; j++) c[j].total = t;
  }
  for (i = 0; i < n; i++) {
    double yi = (double)c[i].r->df, ni = area_total[c[i].r->area];
    double yj = (double)(c[i].total - c[i].r->df), nj = N - ni;
    /* The prior is the phrase's count over all areas (alpha_0 = N): the
     * data's own background, as in tidylo's empirical Bayes version. */
    c[i].z = c[i].p && c[i].r->df >= FMI_MIN_PHRASE_COUNT
                 ? fmi_log_odds_z(yi, ni, yj, nj, (double)c[i].total, N)
                 : 0;
  }
  qsort(c, n, sizeof *c, cmp_cand); /* by area, then z */
  for (i = 0; i < rep->n_areas; i++) {
    fmi_rep_area *ra = &rep->areas[i];
    size_t lo = 0, hi = n;
    while (lo < hi) { /* first candidate of this area */
      size_t mid = (lo + hi) / 2;
      if (c[mid].r->area < ra->label) lo = mid + 1;
      else hi = mid;
    }
    ra->phrases = fmi_calloc(rep->opts.phrases, sizeof *ra->phrases);
    if (!ra->phrases) goto nomem;
    for (j = lo; j < n && c[j].r->area == ra->label; j++) {}
    m = choose(c + lo, j - lo, rep->opts.phrases, req_count,
               &a->exemplars[ra->label], pick);
    for (k = 0; k < m; k++) {
      const cand *cj = &c[lo + pick[k]];
      fmi_rep_phrase *ph = &ra->phrases[ra->n_phrases++];
      ph->p = cj->p;
      ph->count = cj->r->df;
      ph->other = cj->total - cj->r->df;
      ph->z = cj->z;
      ph->accounts = cj->r->n_acc;
      if (cj->r->n_acc == FMI_ACC_K) {
        /* k-th smallest of uniform 32-bit hashes: (k - 1) / u_k */
        double est = (FMI_ACC_K - 1) * 4294967296.0 /
                     ((double)cj->r->acc[FMI_ACC_K - 1] + 1.0);
        ph->accounts = est > FMI_ACC_K ? (uint64_t)llround(est) : FMI_ACC_K;
        /* never more accounts than items */
        if (ph->accounts > ph->count) ph->accounts = ph->count;
        ph->accounts_estimated = 1;
      }
      pick_verbatims(rep, &a->exemplars[ra->label], ph);
    }
  }
  goto done;
nomem:
  st = fmi_fail(err, FM_ENOMEM, "out of memory");
done:
  fmi_free(c);
  fmi_free(area_total);
  fmi_free(pick);
  return st;
}

static fm_status build_emerging(fmi_report *rep, fm_error *err) {
  const fm_agg *a = rep->agg;
  cand *c = NULL;
  double ni = 0, nj = 0;
  size_t i, n = 0, m, *pick;
  if (!a->compare || !a->n_phrases) return FM_OK;
  for (i = 0; i < a->n_phrases; i++) {
    ni += (double)a->phrases[i].df[FMI_CUR];
    nj += (double)a->phrases[i].df[FMI_PREV];
  }
  if (!(ni > 0) || !(nj > 0)) return FM_OK;
  c = fmi_calloc(a->n_phrases, sizeof *c);
  rep->emerging = fmi_calloc(rep->opts.emerging, sizeof *rep->emerging);
  if (!c || !rep->emerging) {
    fmi_free(c);
    return fmi_fail(err, FM_ENOMEM, "out of memory");
  }
  for (i = 0; i < a->n_phrases; i++) {
    const fmi_agg_phrase *p = &a->phrases[i];
    double yi = (double)p->df[FMI_CUR], yj = (double)p->df[FMI_PREV];
    double z;
    if (p->df[FMI_CUR] < FMI_MIN_EMERGING_COUNT) continue;
    z = fmi_log_odds_z(yi, ni, yj, nj, yi + yj, ni + nj);
    if (!(z >= rep->z_crit)) continue;
    c[n].p = p;
    c[n].z = z;
    n++;
  }
  qsort(c, n, sizeof *c, cmp_cand);
  pick = fmi_calloc(rep->opts.emerging, sizeof *pick);
  if (!pick) {
    fmi_free(c);
    return fmi_fail(err, FM_ENOMEM, "out of memory");
  }
  m = choose(c, n, rep->opts.emerging, cur_count, NULL, pick);
  for (i = 0; i < m; i++) {
    const cand *ci = &c[pick[i]];
    fmi_rep_phrase *ph = &rep->emerging[rep->n_emerging++];
    ph->p = ci->p;
    ph->z = ci->z;
    ph->count = ci->p->df[FMI_CUR];
    ph->other = ci->p->df[FMI_PREV];
  }
  fmi_free(pick);
  fmi_free(c);
  return FM_OK;
}

/* ---- churn and lost-deal reasons ---------------------------------------- */

static int cmp_reason(const void *x, const void *y) {
  const fmi_rep_reason *a = x, *b = y;
  size_t s;
  static const unsigned order[] = {FMI_SRC_CHURN, FMI_SRC_LOST_DEAL,
                                   FMI_SRC_TICKET, FMI_SRC_NPS, FMI_SRC_OTHER};
  for (s = 0; s < FMI_N_SRC; s++) {
    unsigned k = order[s];
    if (a->revenue_cents[k] != b->revenue_cents[k])
      return a->revenue_cents[k] > b->revenue_cents[k] ? -1 : 1;
  }
  if (a->count != b->count) return a->count > b->count ? -1 : 1;
  return a->label < b->label ? -1 : a->label > b->label;
}

static fm_status build_reasons(fmi_report *rep, fm_error *err) {
  const fm_agg *a = rep->agg;
  size_t i, k, t;
  if (!a->n_reason) return FM_OK;
  rep->reasons = fmi_calloc(a->n_reason, sizeof *rep->reasons);
  if (!rep->reasons) return fmi_fail(err, FM_ENOMEM, "out of memory");
  rep->n_reasons = a->n_reason;
  for (i = 0; i < a->n_reason; i++) {
    fmi_rep_reason *rr = &rep->reasons[i];
    const fmi_agg_reason *c = &a->reasons[FMI_CUR * a->n_reason + i];
    const fmi_agg_reason *p = &a->reasons[FMI_PREV * a->n_reason + i];
    const uint64_t *areas = a->reason_areas + (FMI_CUR * a->n_reason + i) *
                                                  a->n_area;
    rr->label = i;
    rr->name = a->heads[a->h_reason].labels[i];
    rr->sources = c->sources;
    for (k = 0; k < FMI_N_SRC; k++) {
      rr->count += c->sources[k];
      rr->prev += p->sources[k];
    }
    rr->revenue_cents = c->revenue_cents;
    rr->revenue_items = c->revenue_items;
    for (k = 0; k < FMI_N_SRC; k++) {
      int64_t v = c->revenue_cents[k], *tot = &rep->reason_revenue_cents[k];
      *tot = *tot > INT64_MAX - v ? INT64_MAX : *tot + v;
    }
    /* The areas it cites most (ties: taxonomy order). */
    for (k = 0; k < a->n_area; k++) {
      size_t last;
      if (!areas[k]) continue;
      t = rr->n_top;
      while (t > 0 && areas[k] > rr->top_count[t - 1]) t--;
      if (t >= FMI_REASON_TOP_AREAS) continue;
      last = rr->n_top < FMI_REASON_TOP_AREAS ? rr->n_top
                                              : FMI_REASON_TOP_AREAS - 1;
      for (; last > t; last--) {
        rr->top_area[last] = rr->top_area[last - 1];
        rr->top_count[last] = rr->top_count[last - 1];
      }
      rr->top_area[t] = k;
      rr->top_count[t] = areas[k];
      if (rr->n_top < FMI_REASON_TOP_AREAS) rr->n_top++;
    }
  }
  qsort(rep->reasons, rep->n_reasons, sizeof *rep->reasons, cmp_reason);
  return FM_OK;
}

/* ---- the report ---------------------------------------------------------- */

void fmi_report_free(fmi_report *rep) {
  size_t i;
  if (rep->areas)
    for (i = 0; i < rep->n_areas; i++) fmi_free(rep->areas[i].phrases);
  fmi_free(rep->areas);
  fmi_free(rep->reasons);
  fmi_free(rep->emerging);
  fmi_free(rep->review_by_head);
  fmi_free(rep->tagged_by_head);
  memset(rep, 0, sizeof *rep);
}

fm_status fmi_report_build(const fm_agg *a, const fm_report_opts *in,
                           fmi_report *rep, fm_error *err) {
  fm_report_opts o = FM_REPORT_OPTS_INIT;
  fm_status st;
  size_t i, w, h;
  memset(rep, 0, sizeof *rep);
  if (in) {
    if (in->size < sizeof(size_t) || in->size > sizeof o)
      return fmi_fail(err, FM_EINVAL, "fm_report_opts.size is %zu, expected "
                      "%zu", in->size, sizeof o);
    memcpy(&o, in, in->size);
    o.size = sizeof o;
  }
  if ((unsigned)o.format > FM_REPORT_CSV)
    return fmi_fail(err, FM_EINVAL, "unknown report format %d",
                    (int)o.format);
  if (!o.title) o.title = "Requirement report";
  if (!o.phrases) o.phrases = 8;
  if (!o.verbatims) o.verbatims = 3;
  if (!o.emerging) o.emerging = 15;
  if (o.alpha == 0) o.alpha = 0.05;
  if (!(o.alpha > 0 && o.alpha < 0.5))
    return fmi_fail(err, FM_EINVAL, "alpha must be in (0, 0.5)");
  if (o.phrases > 100 || o.verbatims > FMI_MAX_VERBATIMS || o.emerging > 1000)
    return fmi_fail(err, FM_EINVAL, "at most 100 phrases per area, %d "
                    "verbatims and 1000 emerging phrases", FMI_MAX_VERBATIMS);
  if (strlen(o.title) > 200)
    return fmi_fail(err, FM_EINVAL, "title over 200 bytes");
  rep->agg = a;
  rep->opts = o;
  /* Rising phrases: one-sided at alpha / 2, like the two-sided trend
   * test's rising half. */
  rep->z_crit = fmi_norm_upper_quantile(o.alpha / 2);
  fmi_rep_date(a->since, rep->since);
  fmi_rep_date(a->until - 1, rep->until);
  fmi_rep_date(a->prev_since, rep->prev_since);
  fmi_rep_date(a->since - 1, rep->prev_until);
  rep->days = (a->until - a->since + DAY - 1) / DAY;
  if (a->any_date) {
    fmi_rep_date(a->first_date, rep->first);
    fmi_rep_date(a->last_date, rep->last);
  } else {
    strcpy(rep->first, "-");
    strcpy(rep->last, "-");
  }
  for (w = 0; w < FMI_N_WIN; w++) {
    uint64_t n = a->nps[w][0] + a->nps[w][1] + a->nps[w][2];
    for (i = 0; i < FMI_N_SRC; i++) rep->items[w] += a->items[w][i];
    rep->nps_n[w] = n;
    if (n) {
      rep->has_nps[w] = 1;
      rep->nps[w] = nps_of(a->nps[w][FMI_NPS_PROMOTER],
                           a->nps[w][FMI_NPS_DETRACTOR], n);
    }
  }
  if (a->h_sent >= 0) {
    const fmi_agg_headdef *hd = &a->heads[a->h_sent];
    for (i = 0; i < hd->n_labels; i++)
      rep->sent_tagged += a->label_count[FMI_CUR * a->n_labels + hd->base + i];
    if (a->l_negative >= 0)
      rep->negative =
          a->label_count[FMI_CUR * a->n_labels + hd->base + (size_t)a->l_negative];
  }
  for (i = 0; i < a->n_langs; i++) rep->review_any += a->langs[i].review_any[FMI_CUR];
  rep->review_by_head = fmi_calloc(a->n_heads, sizeof *rep->review_by_head);
  rep->tagged_by_head = fmi_calloc(a->n_heads, sizeof *rep->tagged_by_head);
  if (!rep->review_by_head || !rep->tagged_by_head) {
    st = fmi_fail(err, FM_ENOMEM, "out of memory");
    goto fail;
  }
  for (h = 0; h < a->n_heads; h++)
    for (i = 0; i < a->heads[h].n_labels; i++)
    {
      rep->review_by_head[h] +=
          a->label_review[FMI_CUR * a->n_labels + a->heads[h].base + i];
      rep->tagged_by_head[h] +=
          a->label_count[FMI_CUR * a->n_labels + a->heads[h].base + i];
    }
  if ((st = build_areas(rep, err)) != FM_OK ||
      (st = build_requirements(rep, err)) != FM_OK ||
      (st = build_emerging(rep, err)) != FM_OK ||
      (st = build_reasons(rep, err)) != FM_OK)
    goto fail;
  return FM_OK;
fail:
  fmi_report_free(rep);
  return st;
}

static fm_status render(const fm_agg *a, const fm_report_opts *opts,
                        fmi_out *o, fm_error *err) {
  fmi_report rep;
  fm_status st;
  if (!a) return fmi_fail(err, FM_EINVAL, "aggregate is NULL");
  st = fmi_report_build(a, opts, &rep, err);
  if (st != FM_OK) return st;
  switch (rep.opts.format) {
  case FM_REPORT_MARKDOWN: st = fmi_report_md(&rep, o); break;
  case FM_REPORT_HTML: st = fmi_report_html(&rep, o); break;
  case FM_REPORT_JSON: st = fmi_report_json(&rep, o); break;
  case FM_REPORT_CSV: st = fmi_report_csv(&rep, o); break;
  }
  fmi_report_free(&rep);
  if (st != FM_OK || o->failed) {
    fmi_out_free(o);
    return fmi_fail(err, FM_ENOMEM, "out of memory");
  }
  return FM_OK;
}

fm_status fm_report_write_memory(const fm_agg *a, const fm_report_opts *opts,
                                 char **data, size_t *len, fm_error *err) {
  fmi_out o;
  fm_status st;
  if (!data || !len) return fmi_fail(err, FM_EINVAL, "data or len is NULL");
  *data = NULL;
  *len = 0;
  memset(&o, 0, sizeof o);
  st = render(a, opts, &o, err);
  if (st != FM_OK) return st;
  if (!o.b.data) { /* an empty report still gets a buffer */
    o.b.data = fmi_calloc(1, 1);
    if (!o.b.data) return fmi_fail(err, FM_ENOMEM, "out of memory");
  }
  *data = o.b.data;
  *len = o.b.len;
  fmi_ok(err);
  return FM_OK;
}

fm_status fm_report_write(const fm_agg *a, const fm_report_opts *opts,
                          FILE *out, fm_error *err) {
  fmi_out o;
  fm_status st;
  if (!out) return fmi_fail(err, FM_EINVAL, "out is NULL");
  memset(&o, 0, sizeof o);
  st = render(a, opts, &o, err);
  if (st != FM_OK) return st;
  if (o.b.len && fwrite(o.b.data, 1, o.b.len, out) != o.b.len) {
    fmi_out_free(&o);
    return fmi_fail(err, FM_EIO, "cannot write the report");
  }
  fmi_out_free(&o);
  if (fflush(out) != 0 || ferror(out))
    return fmi_fail(err, FM_EIO, "cannot write the report");
  fmi_ok(err);
  return FM_OK;
}

/* ---- what the Markdown and HTML writers share ------------------------ */

void fmi_rep_p(fmi_out *o, const fmi_rep_style *st, double p) {
  if (p < 0.0001) {
    fmi_out_s(o, st->lt);
    fmi_out_s(o, "0.0001");
  } else {
    fmi_out_dbl(o, p, 4);
  }
}

void fmi_rep_pct(fmi_out *o, double share) {
  fmi_out_dbl(o, share * 100.0, 1);
  fmi_out_c(o, '%');
}

void fmi_rep_signed1(fmi_out *o, double v) {
  if (v > 0.04999) fmi_out_c(o, '+');
  fmi_out_dbl(o, v, 1);
}

void fmi_rep_change_text(fmi_out *o, const fmi_rep_style *st, uint64_t cur,
                         uint64_t prev) {
  int def;
  double c = fmi_rep_change(cur, prev, &def);
  if (!def) {
    fmi_out_s(o, cur ? "new" : st->none);
    return;
  }
  fmi_rep_signed1(o, c);
  fmi_out_c(o, '%');
}

uint64_t fmi_rep_lang_items(const fmi_agg_lang *l) {
  uint64_t t = 0;
  size_t s;
  for (s = 0; s < FMI_N_SRC; s++) t += l->items[FMI_CUR][s];
  return t;
}

bool fmi_rep_counts(fmi_out *o, const fmi_rep_style *st,
                    const char *const *names, const uint64_t *v, size_t n) {
  size_t i;
  bool first = true;
  for (i = 0; i < n; i++) {
    if (!v[i]) continue;
    if (!first) fmi_out_s(o, ", ");
    first = false;
    st->text(o, names[i], strlen(names[i]));
    fmi_out_c(o, ' ');
    fmi_out_u64(o, v[i]);
  }
  return !first;
}

void fmi_rep_intro(const fmi_report *rep, const fmi_rep_style *st,
                   fmi_out *o) {
  const fm_agg *a = rep->agg;
  fmi_out_s(o, "Period ");
  fmi_out_s(o, st->bold);
  fmi_out_s(o, rep->since);
  fmi_out_s(o, " to ");
  fmi_out_s(o, rep->until);
  fmi_out_s(o, st->unbold);
  fmi_out_s(o, " (");
  fmi_out_i64(o, rep->days);
  fmi_out_s(o, rep->days == 1 ? " day)" : " days)");
  if (a->compare) {
    fmi_out_s(o, ", compared with ");
    fmi_out_s(o, rep->prev_since);
    fmi_out_s(o, " to ");
    fmi_out_s(o, rep->prev_until);
  }
  fmi_out_s(o, ". Data from ");
  fmi_out_s(o, rep->first);
  fmi_out_s(o, " to ");
  fmi_out_s(o, rep->last);
  if (a->outside || a->undated) {
    fmi_out_s(o, "; not counted: ");
    fmi_out_u64(o, a->outside);
    fmi_out_s(o, " dated outside the compared periods, ");
    fmi_out_u64(o, a->undated);
    fmi_out_s(o, " undated");
  }
  fmi_out_c(o, '.');
  if (rep->opts.generated_at) {
    char d[11];
    fmi_rep_date(rep->opts.generated_at, d);
    fmi_out_s(o, " Generated ");
    fmi_out_s(o, d);
    fmi_out_c(o, '.');
  }
  if (a->sampling[1] || a->sampling[2] || a->sampling[3]) {
    unsigned n;
    fmi_out_s(o, " Keyphrases were sampled to stay within the memory cap: "
                 "of the distinct phrases of 1, 2 and 3 words, one in ");
    for (n = 1; n <= 3; n++) {
      if (n > 1) fmi_out_s(o, n == 3 ? " and " : ", ");
      fmi_out_u64(o, (uint64_t)1 << (a->sampling[n] < 63 ? a->sampling[n] : 63));
    }
    fmi_out_s(o, " is kept (by a hash of the phrase); counts of the phrases "
                 "shown are exact.");
  }
}

void fmi_rep_method(const fmi_report *rep, const fmi_rep_style *st,
                    fmi_out *o) {
  /* The weights in the order the method names them. */
  static const struct {
    const char *name;
    unsigned w;
  } weights[] = {
      {"churn ", FMI_SRC_CHURN},     {", lost_deal ", FMI_SRC_LOST_DEAL},
      {", NPS detractor ", FMI_N_SRC}, {", other NPS ", FMI_SRC_NPS},
      {", ticket ", FMI_SRC_TICKET}, {", other ", FMI_SRC_OTHER},
  };
  const fm_agg *a = rep->agg;
  size_t i;
  fmi_out_s(o, "Priority = ");
  fmi_out_s(o, st->sigma);
  fmi_out_s(o, " source weight ");
  fmi_out_s(o, st->times);
  fmi_out_s(o, " (1 + negative share) ");
  fmi_out_s(o, st->times);
  fmi_out_s(o, " revenue factor. Weights: ");
  for (i = 0; i < sizeof weights / sizeof weights[0]; i++) {
    fmi_out_s(o, weights[i].name);
    fmi_out_dbl(o, (double)a->weight_milli[weights[i].w] / 1000.0, 1);
  }
  fmi_out_s(o, ". Revenue factor = 1 + ");
  fmi_out_s(o, st->log10);
  fmi_out_s(o, "(1 + revenue per account that raised it / median account "
               "revenue");
  if (rep->median_revenue_cents > 0) {
    fmi_out_s(o, " (");
    fmi_rep_money_text(o, (int64_t)(rep->median_revenue_cents + 0.5));
    fmi_out_c(o, ')');
  }
  fmi_out_s(o, "); 1 when no revenue is known. NPS impact = overall NPS ");
  fmi_out_s(o, st->minus);
  fmi_out_s(o, " NPS of the respondents who do not mention the area "
               "(negative: the area costs NPS points).");
  if (a->compare) {
    fmi_out_s(o, " Trend: exact conditional binomial test of the two "
                 "periods' counts (two-sided); rising or falling only when "
                 "p ");
    fmi_out_s(o, st->lt);
    fmi_out_c(o, ' ');
    fmi_out_dbl(o, rep->opts.alpha, 3);
    fmi_out_c(o, '.');
  }
}

void fmi_rep_requirements_note(const fmi_report *rep,
                               const fmi_rep_style *st, fmi_out *o) {
  fmi_out_s(o, "Per area, the phrases that set its feature requests and "
               "complaints apart from the other areas' (weighted log-odds "
               "with an informative Dirichlet prior, Monroe, Colaresi ");
  fmi_out_s(o, st->amp);
  fmi_out_s(o, " Quinn 2008; z over ");
  fmi_out_dbl(o, rep->z_crit, 2);
  fmi_out_s(o, " is significant at p ");
  fmi_out_s(o, st->lt);
  fmi_out_c(o, ' ');
  fmi_out_dbl(o, rep->opts.alpha, 3);
  fmi_out_s(o, "), with the clearest verbatims (redacted); a phrase "
               "found only together with one listed above it is left out.");
}

void fmi_rep_emerging_note(const fmi_report *rep, const fmi_rep_style *st,
                           fmi_out *o) {
  fmi_out_s(o, "Phrases whose share of all items rose significantly against "
               "the previous period (same log-odds, z ");
  fmi_out_s(o, st->ge);
  fmi_out_c(o, ' ');
  fmi_out_dbl(o, rep->z_crit, 2);
  fmi_out_s(o, ", at least 3 items).");
}

void fmi_rep_attribution(fmi_out *o, const fmi_rep_style *st,
                         const fmi_agg_kept *k) {
  const char *src = fmi_agg_source_names[k->source];
  char date[11];
  if (k->account[0]) {
    st->text(o, k->account, strlen(k->account));
    fmi_out_s(o, ", ");
  }
  st->text(o, src, strlen(src));
  fmi_rep_date(k->date, date);
  fmi_out_s(o, ", ");
  fmi_out_s(o, date);
}

void fmi_rep_priority(fmi_out *o, const fmi_rep_style *st,
                      const fmi_rep_area *ra) {
  fmi_out_s(o, "Priority ");
  fmi_out_dbl(o, ra->priority, 1);
  fmi_out_s(o, " = ");
  fmi_out_dbl(o, ra->weighted, 1);
  fmi_out_c(o, ' ');
  fmi_out_s(o, st->times);
  fmi_out_s(o, " (1 + ");
  fmi_out_dbl(o, ra->neg_share, 3);
  fmi_out_s(o, ") ");
  fmi_out_s(o, st->times);
  fmi_out_c(o, ' ');
  fmi_out_dbl(o, ra->rev_factor, 3);
}

void fmi_rep_area_nps(fmi_out *o, const fmi_rep_area *ra) {
  fmi_out_s(o, "NPS of respondents who mention it: ");
  fmi_rep_signed1(o, ra->nps);
  fmi_out_s(o, " (");
  fmi_out_u64(o, ra->nps_n);
  fmi_out_s(o, " answers)");
  if (ra->has_impact) {
    fmi_out_s(o, "; NPS impact ");
    fmi_rep_signed1(o, ra->impact);
    fmi_out_s(o, " pts");
  }
}

void fmi_rep_area_trend(fmi_out *o, const fmi_rep_style *st,
                        const fmi_rep_area *ra) {
  fmi_out_s(o, "Trend: ");
  fmi_out_u64(o, ra->count);
  fmi_out_s(o, " vs ");
  fmi_out_u64(o, ra->prev);
  fmi_out_s(o, " (");
  fmi_rep_change_text(o, st, ra->count, ra->prev);
  fmi_out_s(o, ", p = ");
  fmi_rep_p(o, st, ra->p_value);
}

void fmi_rep_phrase_counts(fmi_out *o, const fmi_rep_phrase *ph) {
  fmi_out_u64(o, ph->count);
  fmi_out_s(o, ph->count == 1 ? " item, " : " items, ");
  if (ph->accounts_estimated) fmi_out_c(o, '~');
  fmi_out_u64(o, ph->accounts);
  fmi_out_s(o, ph->accounts == 1 ? " account" : " accounts");
}

void fmi_rep_top_areas(fmi_out *o, const fmi_rep_style *st, const fm_agg *a,
                       const fmi_rep_reason *rr) {
  size_t k;
  for (k = 0; k < rr->n_top; k++) {
    const char *name = a->heads[a->h_area].labels[rr->top_area[k]];
    if (k) fmi_out_s(o, ", ");
    st->text(o, name, strlen(name));
    fmi_out_s(o, " (");
    fmi_out_u64(o, rr->top_count[k]);
    fmi_out_c(o, ')');
  }
  if (!rr->n_top) fmi_out_s(o, st->none);
}
