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
/* A p-value: "<0.0001" or 4 decimals. */
void fmi_rep_p(fmi_out *o, double p);

/* The four writers. */
fm_status fmi_report_md(const fmi_report *rep, fmi_out *o);
fm_status fmi_report_html(const fmi_report *rep, fmi_out *o);
fm_status fmi_report_json(const fmi_report *rep, fmi_out *o);
fm_status fmi_report_csv(const fmi_report *rep, fmi_out *o);

#endif
