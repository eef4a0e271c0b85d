/*
 * report.h -- the numbers of a requirement report, computed once from an
 * aggregate (report.c) and printed by four writers (report_md.c,
 * report_html.c, report_json.c, report_csv.c), so every format carries the
 * same numbers.
 */
#ifndef FM_REPORT_H
#define FM_REPORT_H

#include "agg.h"
#include "out.h"

#define FMI_MAX_VERBATIMS 5
#define FMI_MIN_PHRASE_COUNT 2
#define FMI_MIN_EMERGING_COUNT 3
#define FMI_REASON_TOP_AREAS 3

typedef struct fmi_rep_phrase {
  const fmi_agg_phrase *p;  /* surface and stems */
  uint64_t count;           /* documents in the group (area or period) */
  uint64_t other;           /* in the other group (other areas / previous
                               period) */
  double z;
  uint64_t accounts;        /* requirement phrases */
  int accounts_estimated;   /* past FMI_ACC_K: an estimate */
  const fmi_agg_kept *verbatims[FMI_MAX_VERBATIMS];
  size_t n_verbatims;
} fmi_rep_phrase;

typedef struct fmi_rep_area {
  size_t label;
  const char *name;
  uint64_t count, prev;
  const fmi_agg_area *cur_counts, *prev_counts;
  const uint64_t *kinds;    /* n_kind labels, the period */
  const uint64_t *sents;    /* n_sent labels */
  uint64_t negative, sent_tagged;
  uint64_t requests;        /* feature requests + complaints */
  double weighted;          /* sum of source weights */
  double neg_share;
  double rev_factor;
  double priority;
  uint64_t accounts, accounts_with_revenue;
  int64_t revenue_cents;
  uint64_t nps_n;
  double nps;
  int has_nps;
  double impact;
  int has_impact;
  double p_value;
  int trend;                /* +1 rising, -1 falling, 0 neither */
  const uint64_t *slots;    /* 2 * n_slots: previous period, then this */
  fmi_rep_phrase *phrases;
  size_t n_phrases;
} fmi_rep_area;

typedef struct fmi_rep_reason {
  size_t label;
  const char *name;
  uint64_t count, prev;
  const uint64_t *sources;  /* FMI_N_SRC, the period */
  const int64_t *revenue_cents;   /* FMI_N_SRC: churned MRR, lost deal
                                     value, ... are kept apart */
  const uint64_t *revenue_items;  /* FMI_N_SRC */
  size_t top_area[FMI_REASON_TOP_AREAS];
  uint64_t top_count[FMI_REASON_TOP_AREAS];
  size_t n_top;
} fmi_rep_reason;

typedef struct fmi_report {
  const fm_agg *agg;
  fm_report_opts opts;      /* resolved: no zero defaults left */
  double z_crit;            /* one-sided log-odds threshold for alpha */
  char since[11], until[11];           /* the period, until inclusive */
  char prev_since[11], prev_until[11];
  char first[11], last[11];            /* dates of the data */
  int64_t days;
  uint64_t items[FMI_N_WIN];
  uint64_t nps_n[FMI_N_WIN];
  double nps[FMI_N_WIN];
  int has_nps[FMI_N_WIN];
  uint64_t negative, sent_tagged;
  uint64_t review_any;
  uint64_t accounts, accounts_with_revenue;
  int64_t revenue_cents;
  double median_revenue_cents;
  fmi_rep_area *areas;      /* by priority, highest first */
  size_t n_areas;
  fmi_rep_reason *reasons;  /* by revenue, then count */
  size_t n_reasons;
  int64_t reason_revenue_cents[FMI_N_SRC];
  fmi_rep_phrase *emerging;
  size_t n_emerging;
  uint64_t *review_by_head; /* n_heads: items of the period below
                               confidence per head */
  uint64_t *tagged_by_head; /* n_heads: items of the period tagged */
} fmi_report;

fm_status fmi_report_build(const fm_agg *agg, const fm_report_opts *opts,
                           fmi_report *rep, fm_error *err);
void fmi_report_free(fmi_report *rep);

/* Helpers the writers share. */
/* Money from cents: "12,345.67" style without separators: "12345.67". */
void fmi_rep_money(fmi_out *o, int64_t cents);
/* The same with thousands separators ("12,345.67"), for Markdown and
 * HTML. */
void fmi_rep_money_text(fmi_out *o, int64_t cents);
/* The label name of head h (untagged: "-"). */
const char *fmi_rep_label(const fm_agg *a, size_t h, uint32_t tag);
/* "YYYY-MM-DD" of a Unix time. */
void fmi_rep_date(int64_t t, char *out);
/* The lowest probability among the tagged heads of a kept item (0-1). */
double fmi_rep_min_prob(const fm_agg *a, const fmi_agg_kept *k);
/* The period's share of the previous period's count as a signed
 * percentage change; *defined is 0 when the previous count is 0. */
double fmi_rep_change(uint64_t cur, uint64_t prev, int *defined);

/* A verbatim for display: whitespace runs become one blank, trimmed, cut
 * at a character boundary near `max` bytes, with an ellipsis when cut or
 * when the kept text was already cut. */
fm_status fmi_rep_excerpt(const char *text, int truncated, size_t max,
                          fmi_buf *out);
/* What the Markdown and HTML writers spell differently in the prose and
 * lists they share: the escaper for text that came from the data, and a
 * few symbols. */
typedef struct fmi_rep_style {
  void (*text)(fmi_out *o, const char *s, size_t n);
  const char *none;           /* an empty value: "-" or "&ndash;" */
  const char *bold, *unbold;  /* around the period */
  const char *times, *minus, *sigma, *ge, *lt, *amp;
  const char *log10;
} fmi_rep_style;

/* A share as a percentage with one decimal: "12.5%". */
void fmi_rep_pct(fmi_out *o, double share);
/* One decimal with a sign when positive: "+3.2", "-1.0", "0.0". */
void fmi_rep_signed1(fmi_out *o, double v);
/* The change from prev to cur ("+12.5%"); "new" or the none mark when
 * there is no previous count. */
void fmi_rep_change_text(fmi_out *o, const fmi_rep_style *st, uint64_t cur,
                         uint64_t prev);
/* A p-value: "<0.0001" or 4 decimals. */
void fmi_rep_p(fmi_out *o, const fmi_rep_style *st, double p);
/* The period's items of one language, all sources. */
uint64_t fmi_rep_lang_items(const fmi_agg_lang *l);
/* "name 3, other 1" for the nonzero counts of v (n names); returns false,
 * having written nothing, when all are zero. */
bool fmi_rep_counts(fmi_out *o, const fmi_rep_style *st,
                    const char *const *names, const uint64_t *v, size_t n);

/* Sentences and list items both human-readable writers print, in the
 * style's spelling, without the format's block markup around them. */
/* "Period 2024-01-01 to ... counts of the phrases shown are exact." */
void fmi_rep_intro(const fmi_report *rep, const fmi_rep_style *st,
                   fmi_out *o);
/* How priority, revenue factor, NPS impact and trend are computed. */
void fmi_rep_method(const fmi_report *rep, const fmi_rep_style *st,
                    fmi_out *o);
/* How the requirement phrases are chosen. */
void fmi_rep_requirements_note(const fmi_report *rep,
                               const fmi_rep_style *st, fmi_out *o);
/* How the emerging phrases are chosen. */
void fmi_rep_emerging_note(const fmi_report *rep, const fmi_rep_style *st,
                           fmi_out *o);
/* A verbatim's source: "account, source, date". */
void fmi_rep_attribution(fmi_out *o, const fmi_rep_style *st,
                         const fmi_agg_kept *k);
/* "Priority 12.3 = 4.0 x (1 + 0.250) x 1.000" */
void fmi_rep_priority(fmi_out *o, const fmi_rep_style *st,
                      const fmi_rep_area *ra);
/* "NPS of respondents who mention it: -20.0 (5 answers); NPS impact ..." */
void fmi_rep_area_nps(fmi_out *o, const fmi_rep_area *ra);
/* "Trend: 5 vs 3 (+66.7%, p = 0.5000" -- the writer closes it. */
void fmi_rep_area_trend(fmi_out *o, const fmi_rep_style *st,
                        const fmi_rep_area *ra);
/* "3 items, ~2 accounts" of a requirement phrase. */
void fmi_rep_phrase_counts(fmi_out *o, const fmi_rep_phrase *ph);
/* The areas a reason cites most: "billing (3), login (1)" or none. */
void fmi_rep_top_areas(fmi_out *o, const fmi_rep_style *st, const fm_agg *a,
                       const fmi_rep_reason *rr);

/* The four writers. */
fm_status fmi_report_md(const fmi_report *rep, fmi_out *o);
fm_status fmi_report_html(const fmi_report *rep, fmi_out *o);
fm_status fmi_report_json(const fmi_report *rep, fmi_out *o);
fm_status fmi_report_csv(const fmi_report *rep, fmi_out *o);

#endif
