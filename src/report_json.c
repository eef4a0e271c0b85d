/*
 * report_json.c -- the requirement report as JSON for BI tools: every
 * number of the other formats, keys in a fixed order (README "Report JSON
 * schema"). Numbers are printed with a fixed number of decimals by our own
 * formatter, so the bytes do not depend on the locale or on how a JSON
 * library shortens doubles.
 */
#include "report.h"

static void key(fmi_out *o, const char *k) {
  fmi_out_json_cstr(o, k);
  fmi_out_c(o, ':');
}

static void money(fmi_out *o, int64_t cents) { fmi_rep_money(o, cents); }

/* {"name":count,...} for n names. */
static void counts_obj(fmi_out *o, const char *const *names, const uint64_t *v,
                       size_t n) {
  size_t i;
  fmi_out_c(o, '{');
  for (i = 0; i < n; i++) {
    if (i) fmi_out_c(o, ',');
    key(o, names[i]);
    fmi_out_u64(o, v[i]);
  }
  fmi_out_c(o, '}');
}

static void sources_obj(fmi_out *o, const uint64_t *v) {
  counts_obj(o, fmi_agg_source_names, v, FMI_N_SRC);
}

static void labels_obj(fmi_out *o, const fmi_agg_headdef *h,
                       const uint64_t *v) {
  counts_obj(o, h ? (const char *const *)h->labels : NULL, v,
             h ? h->n_labels : 0);
}

/* {"head":count,...} over the heads. */
static void heads_obj(fmi_out *o, const fm_agg *a, const uint64_t *v) {
  size_t h;
  fmi_out_c(o, '{');
  for (h = 0; h < a->n_heads; h++) {
    if (h) fmi_out_c(o, ',');
    key(o, a->heads[h].name);
    fmi_out_u64(o, v[h]);
  }
  fmi_out_c(o, '}');
}

/* Opens a language's entry: {"lang":"en","items":N, */
static void lang_open(fmi_out *o, const fmi_agg_lang *l) {
  fmi_out_c(o, '{');
  key(o, "lang");
  fmi_out_json_cstr(o, l->lang);
  fmi_out_c(o, ',');
  key(o, "items");
  fmi_out_u64(o, fmi_rep_lang_items(l));
  fmi_out_c(o, ',');
}

static void nps_obj(fmi_out *o, const uint64_t *nps) {
  uint64_t n = nps[0] + nps[1] + nps[2];
  if (!n) {
    fmi_out_s(o, "null");
    return;
  }
  fmi_out_c(o, '{');
  key(o, "score");
  fmi_out_dbl(o, ((double)nps[FMI_NPS_PROMOTER] - (double)nps[FMI_NPS_DETRACTOR]) /
                     (double)n * 100.0, 1);
  fmi_out_c(o, ',');
  key(o, "respondents");
  fmi_out_u64(o, n);
  fmi_out_c(o, ',');
  key(o, "promoters");
  fmi_out_u64(o, nps[FMI_NPS_PROMOTER]);
  fmi_out_c(o, ',');
  key(o, "passives");
  fmi_out_u64(o, nps[FMI_NPS_PASSIVE]);
  fmi_out_c(o, ',');
  key(o, "detractors");
  fmi_out_u64(o, nps[FMI_NPS_DETRACTOR]);
  fmi_out_c(o, '}');
}

static void kept_obj(fmi_out *o, const fm_agg *a, const fmi_agg_kept *k,
                     int all_tags) {
  char date[11];
  size_t h;
  fmi_out_c(o, '{');
  key(o, "text");
  fmi_out_json_cstr(o, k->text);
  fmi_out_c(o, ',');
  key(o, "truncated");
  fmi_out_s(o, k->truncated ? "true" : "false");
  fmi_out_c(o, ',');
  key(o, "id");
  fmi_out_json_cstr(o, k->id);
  fmi_out_c(o, ',');
  key(o, "account");
  fmi_out_json_cstr(o, k->account);
  fmi_out_c(o, ',');
  key(o, "source");
  fmi_out_json_cstr(o, fmi_agg_source_names[k->source]);
  fmi_out_c(o, ',');
  key(o, "lang");
  fmi_out_json_cstr(o, k->lang);
  fmi_out_c(o, ',');
  key(o, "date");
  fmi_rep_date(k->date, date);
  fmi_out_json_cstr(o, date);
  fmi_out_c(o, ',');
  if (all_tags) {
    key(o, "lowest_probability");
    fmi_out_dbl(o, fmi_rep_min_prob(a, k), 6);
    fmi_out_c(o, ',');
    key(o, "tags");
    fmi_out_c(o, '{');
    for (h = 0; h < a->n_heads; h++) {
      if (h) fmi_out_c(o, ',');
      key(o, a->heads[h].name);
      if (!k->tags[h]) {
        fmi_out_s(o, "null");
        continue;
      }
      fmi_out_c(o, '{');
      key(o, "label");
      fmi_out_json_cstr(o, fmi_rep_label(a, h, k->tags[h]));
      fmi_out_c(o, ',');
      key(o, "probability");
      fmi_out_dbl(o, k->ppm[h] / 1e6, 6);
      fmi_out_c(o, '}');
    }
    fmi_out_c(o, '}');
  } else {
    key(o, "confidence");
    fmi_out_dbl(o, k->key / 1e6, 6);
  }
  fmi_out_c(o, '}');
}

static void phrase_obj(fmi_out *o, const fm_agg *a, const fmi_rep_phrase *ph,
                       int requirement) {
  size_t v;
  char day[11];
  fmi_out_c(o, '{');
  key(o, "phrase");
  fmi_out_json_cstr(o, ph->p->surface);
  fmi_out_c(o, ',');
  key(o, "stems");
  fmi_out_json_cstr(o, ph->p->stems);
  fmi_out_c(o, ',');
  key(o, "items");
  fmi_out_u64(o, ph->count);
  fmi_out_c(o, ',');
  key(o, requirement ? "other_areas_items" : "previous_items");
  fmi_out_u64(o, ph->other);
  fmi_out_c(o, ',');
  key(o, "z");
  fmi_out_dbl(o, ph->z, 3);
  if (requirement) {
    fmi_out_c(o, ',');
    key(o, "accounts");
    fmi_out_u64(o, ph->accounts);
    fmi_out_c(o, ',');
    key(o, "accounts_estimated");
    fmi_out_s(o, ph->accounts_estimated ? "true" : "false");
    fmi_out_c(o, ',');
    key(o, "verbatims");
    fmi_out_c(o, '[');
    for (v = 0; v < ph->n_verbatims; v++) {
      if (v) fmi_out_c(o, ',');
      kept_obj(o, a, ph->verbatims[v], 0);
    }
    fmi_out_c(o, ']');
  } else {
    fmi_out_c(o, ',');
    key(o, "first_seen");
    fmi_agg_format_day(ph->p->first_day, day);
    fmi_out_json_cstr(o, day);
  }
  fmi_out_c(o, '}');
}

static void area_obj(fmi_out *o, const fmi_report *rep, size_t rank) {
  const fm_agg *a = rep->agg;
  const fmi_rep_area *ra = &rep->areas[rank];
  size_t k;
  int def;
  double ch;
  fmi_out_c(o, '{');
  key(o, "rank");
  fmi_out_u64(o, rank + 1);
  fmi_out_c(o, ',');
  key(o, "area");
  fmi_out_json_cstr(o, ra->name);
  fmi_out_c(o, ',');
  key(o, "priority");
  fmi_out_dbl(o, ra->priority, 3);
  fmi_out_c(o, ',');
  key(o, "weighted_items");
  fmi_out_dbl(o, ra->weighted, 3);
  fmi_out_c(o, ',');
  key(o, "negative_share");
  fmi_out_dbl(o, ra->neg_share, 4);
  fmi_out_c(o, ',');
  key(o, "revenue_factor");
  fmi_out_dbl(o, ra->rev_factor, 4);
  fmi_out_c(o, ',');
  key(o, "items");
  fmi_out_u64(o, ra->count);
  fmi_out_c(o, ',');
  key(o, "previous_items");
  fmi_out_u64(o, ra->prev);
  fmi_out_c(o, ',');
  key(o, "change_pct");
  ch = fmi_rep_change(ra->count, ra->prev, &def);
  if (def) fmi_out_dbl(o, ch, 1);
  else fmi_out_s(o, "null");
  fmi_out_c(o, ',');
  key(o, "p_value");
  if (a->compare) fmi_out_dbl(o, ra->p_value, 6);
  else fmi_out_s(o, "null");
  fmi_out_c(o, ',');
  key(o, "trend");
  fmi_out_json_cstr(o, ra->trend > 0 ? "rising"
                       : ra->trend < 0 ? "falling" : "none");
  fmi_out_c(o, ',');
  key(o, "by_source");
  sources_obj(o, ra->cur_counts->sources);
  fmi_out_c(o, ',');
  key(o, "by_kind");
  labels_obj(o, a->h_kind >= 0 ? &a->heads[a->h_kind] : NULL, ra->kinds);
  fmi_out_c(o, ',');
  key(o, "by_sentiment");
  labels_obj(o, a->h_sent >= 0 ? &a->heads[a->h_sent] : NULL, ra->sents);
  fmi_out_c(o, ',');
  key(o, "accounts");
  fmi_out_u64(o, ra->accounts);
  fmi_out_c(o, ',');
  key(o, "accounts_with_revenue");
  fmi_out_u64(o, ra->accounts_with_revenue);
  fmi_out_c(o, ',');
  key(o, "revenue");
  money(o, ra->revenue_cents);
  fmi_out_c(o, ',');
  key(o, "nps");
  nps_obj(o, ra->cur_counts->nps);
  fmi_out_c(o, ',');
  key(o, "nps_impact");
  if (ra->has_impact) fmi_out_dbl(o, ra->impact, 1);
  else fmi_out_s(o, "null");
  fmi_out_c(o, ',');
  key(o, "sparkline");
  fmi_out_c(o, '{');
  key(o, "days_per_point");
  fmi_out_i64(o, a->slot_secs / 86400);
  fmi_out_c(o, ',');
  key(o, "previous");
  fmi_out_json_u64s(o, ra->slots, a->n_slots);
  fmi_out_c(o, ',');
  key(o, "period");
  fmi_out_json_u64s(o, ra->slots + a->n_slots, a->n_slots);
  fmi_out_s(o, "},");
  key(o, "requests_and_complaints");
  fmi_out_u64(o, ra->requests);
  fmi_out_c(o, ',');
  key(o, "requirements");
  fmi_out_c(o, '[');
  for (k = 0; k < ra->n_phrases; k++) {
    fmi_out_s(o, k ? ",\n" : "\n");
    phrase_obj(o, a, &ra->phrases[k], 1);
  }
  fmi_out_s(o, "]}");
}

fm_status fmi_report_json(const fmi_report *rep, fmi_out *o) {
  const fm_agg *a = rep->agg;
  size_t i, h, s;
  fmi_out_c(o, '{');
  key(o, "format");
  fmi_out_s(o, "\"feedmine-report\",");
  key(o, "version");
  fmi_out_s(o, "1,");
  key(o, "title");
  fmi_out_json_cstr(o, rep->opts.title);
  fmi_out_c(o, ',');
  key(o, "generated");
  if (rep->opts.generated_at) {
    char d[11];
    fmi_rep_date(rep->opts.generated_at, d);
    fmi_out_json_cstr(o, d);
  } else {
    fmi_out_s(o, "null");
  }
  fmi_out_s(o, ",\n");
  key(o, "period");
  fmi_out_c(o, '{');
  key(o, "since");
  fmi_out_json_cstr(o, rep->since);
  fmi_out_c(o, ',');
  key(o, "until");
  fmi_out_json_cstr(o, rep->until);
  fmi_out_c(o, ',');
  key(o, "days");
  fmi_out_i64(o, rep->days);
  fmi_out_c(o, ',');
  key(o, "previous");
  if (a->compare) {
    fmi_out_c(o, '{');
    key(o, "since");
    fmi_out_json_cstr(o, rep->prev_since);
    fmi_out_c(o, ',');
    key(o, "until");
    fmi_out_json_cstr(o, rep->prev_until);
    fmi_out_c(o, '}');
  } else {
    fmi_out_s(o, "null");
  }
  fmi_out_s(o, "},\n");
  key(o, "data");
  fmi_out_c(o, '{');
  key(o, "first");
  if (a->any_date) fmi_out_json_cstr(o, rep->first);
  else fmi_out_s(o, "null");
  fmi_out_c(o, ',');
  key(o, "last");
  if (a->any_date) fmi_out_json_cstr(o, rep->last);
  else fmi_out_s(o, "null");
  fmi_out_c(o, ',');
  key(o, "outside");
  fmi_out_u64(o, a->outside);
  fmi_out_c(o, ',');
  key(o, "undated");
  fmi_out_u64(o, a->undated);
  fmi_out_s(o, "},\n");
  key(o, "method");
  fmi_out_c(o, '{');
  key(o, "priority");
  fmi_out_json_cstr(o, "sum of source weights x (1 + negative share) x "
                       "revenue factor");
  fmi_out_c(o, ',');
  key(o, "weights");
  fmi_out_c(o, '{');
  for (s = 0; s < FMI_N_SRC; s++) {
    key(o, fmi_agg_source_names[s]);
    fmi_out_dbl(o, (double)a->weight_milli[s] / 1000.0, 3);
    fmi_out_c(o, ',');
  }
  key(o, "nps_detractor");
  fmi_out_dbl(o, (double)a->weight_milli[FMI_N_SRC] / 1000.0, 3);
  fmi_out_s(o, "},");
  key(o, "revenue_factor");
  fmi_out_json_cstr(o, "1 + log10(1 + revenue per account of the area / "
                       "median account revenue); 1 when no revenue is "
                       "known");
  fmi_out_c(o, ',');
  key(o, "median_account_revenue");
  fmi_out_dbl(o, rep->median_revenue_cents / 100.0, 2);
  fmi_out_c(o, ',');
  key(o, "nps_impact");
  fmi_out_json_cstr(o, "overall NPS - NPS of respondents not mentioning "
                       "the area");
  fmi_out_c(o, ',');
  key(o, "trend_test");
  fmi_out_json_cstr(o, "exact conditional binomial test of two Poisson "
                       "counts, two-sided");
  fmi_out_c(o, ',');
  key(o, "alpha");
  fmi_out_dbl(o, rep->opts.alpha, 4);
  fmi_out_c(o, ',');
  key(o, "phrases");
  fmi_out_json_cstr(o, "weighted log-odds, informative Dirichlet prior "
                       "(Monroe, Colaresi & Quinn 2008)");
  fmi_out_c(o, ',');
  key(o, "prior");
  fmi_out_json_cstr(o, "the phrase's count in both groups (alpha_0 = all "
                       "counts)");
  fmi_out_c(o, ',');
  key(o, "z_threshold");
  fmi_out_dbl(o, rep->z_crit, 3);
  fmi_out_c(o, ',');
  key(o, "phrase_sampling");
  fmi_out_c(o, '[');
  fmi_out_u64(o, a->sampling[1]);
  fmi_out_c(o, ',');
  fmi_out_u64(o, a->sampling[2]);
  fmi_out_c(o, ',');
  fmi_out_u64(o, a->sampling[3]);
  fmi_out_c(o, ']');
  fmi_out_s(o, "},\n");

  key(o, "summary");
  fmi_out_c(o, '{');
  key(o, "items");
  fmi_out_u64(o, rep->items[FMI_CUR]);
  fmi_out_c(o, ',');
  key(o, "previous_items");
  fmi_out_u64(o, rep->items[FMI_PREV]);
  fmi_out_c(o, ',');
  key(o, "by_source");
  sources_obj(o, a->items[FMI_CUR]);
  fmi_out_c(o, ',');
  key(o, "previous_by_source");
  sources_obj(o, a->items[FMI_PREV]);
  fmi_out_c(o, ',');
  key(o, "nps");
  nps_obj(o, a->nps[FMI_CUR]);
  fmi_out_c(o, ',');
  key(o, "previous_nps");
  nps_obj(o, a->nps[FMI_PREV]);
  fmi_out_c(o, ',');
  key(o, "negative_share");
  if (rep->sent_tagged)
    fmi_out_dbl(o, (double)rep->negative / (double)rep->sent_tagged, 4);
  else
    fmi_out_s(o, "null");
  fmi_out_c(o, ',');
  key(o, "confident");
  fmi_out_u64(o, rep->items[FMI_CUR] - rep->review_any);
  fmi_out_c(o, ',');
  key(o, "needs_review");
  fmi_out_u64(o, rep->review_any);
  fmi_out_c(o, ',');
  key(o, "heads");
  fmi_out_c(o, '{');
  for (h = 0; h < a->n_heads; h++) {
    if (h) fmi_out_c(o, ',');
    key(o, a->heads[h].name);
    fmi_out_c(o, '{');
    key(o, "tagged");
    fmi_out_u64(o, rep->tagged_by_head[h]);
    fmi_out_c(o, ',');
    key(o, "needs_review");
    fmi_out_u64(o, rep->review_by_head[h]);
    fmi_out_c(o, '}');
  }
  fmi_out_s(o, "},");
  key(o, "accounts");
  fmi_out_u64(o, rep->accounts);
  fmi_out_c(o, ',');
  key(o, "accounts_with_revenue");
  fmi_out_u64(o, rep->accounts_with_revenue);
  fmi_out_c(o, ',');
  key(o, "revenue");
  money(o, rep->revenue_cents);
  fmi_out_c(o, ',');
  key(o, "languages");
  fmi_out_c(o, '[');
  for (i = 0; i < a->n_langs; i++) {
    const fmi_agg_lang *l = &a->langs[i];
    if (i) fmi_out_c(o, ',');
    lang_open(o, l);
    key(o, "by_source");
    sources_obj(o, l->items[FMI_CUR]);
    fmi_out_c(o, '}');
  }
  fmi_out_s(o, "]},\n");

  key(o, "areas");
  fmi_out_c(o, '[');
  for (i = 0; i < rep->n_areas; i++) {
    fmi_out_s(o, i ? ",\n" : "\n");
    area_obj(o, rep, i);
  }
  fmi_out_s(o, "],\n");

  key(o, "reasons");
  fmi_out_c(o, '[');
  for (i = 0; i < rep->n_reasons; i++) {
    const fmi_rep_reason *rr = &rep->reasons[i];
    size_t k;
    fmi_out_s(o, i ? ",\n" : "\n");
    fmi_out_c(o, '{');
    key(o, "reason");
    fmi_out_json_cstr(o, rr->name);
    fmi_out_c(o, ',');
    key(o, "items");
    fmi_out_u64(o, rr->count);
    fmi_out_c(o, ',');
    key(o, "previous_items");
    fmi_out_u64(o, rr->prev);
    fmi_out_c(o, ',');
    key(o, "by_source");
    sources_obj(o, rr->sources);
    fmi_out_c(o, ',');
    key(o, "revenue_by_source");
    fmi_out_c(o, '{');
    for (s = 0; s < FMI_N_SRC; s++) {
      if (s) fmi_out_c(o, ',');
      key(o, fmi_agg_source_names[s]);
      money(o, rr->revenue_cents[s]);
    }
    fmi_out_s(o, "},");
    key(o, "items_with_revenue");
    sources_obj(o, rr->revenue_items);
    fmi_out_c(o, ',');
    key(o, "areas");
    fmi_out_c(o, '[');
    for (k = 0; k < rr->n_top; k++) {
      if (k) fmi_out_c(o, ',');
      fmi_out_c(o, '{');
      key(o, "area");
      fmi_out_json_cstr(o, a->heads[a->h_area].labels[rr->top_area[k]]);
      fmi_out_c(o, ',');
      key(o, "items");
      fmi_out_u64(o, rr->top_count[k]);
      fmi_out_c(o, '}');
    }
    fmi_out_s(o, "]}");
  }
  fmi_out_s(o, "],\n");

  key(o, "emerging");
  fmi_out_c(o, '[');
  for (i = 0; i < rep->n_emerging; i++) {
    fmi_out_s(o, i ? ",\n" : "\n");
    phrase_obj(o, a, &rep->emerging[i], 0);
  }
  fmi_out_s(o, "],\n");

  key(o, "review");
  fmi_out_c(o, '{');
  key(o, "by_head");
  heads_obj(o, a, rep->review_by_head);
  fmi_out_c(o, ',');
  key(o, "by_language");
  fmi_out_c(o, '[');
  for (i = 0; i < a->n_langs; i++) {
    const fmi_agg_lang *l = &a->langs[i];
    if (i) fmi_out_c(o, ',');
    lang_open(o, l);
    key(o, "any_head");
    fmi_out_u64(o, l->review_any[FMI_CUR]);
    fmi_out_c(o, ',');
    key(o, "by_head");
    heads_obj(o, a, l->review + FMI_CUR * a->n_heads);
    fmi_out_c(o, '}');
  }
  fmi_out_s(o, "],");
  key(o, "items");
  fmi_out_c(o, '[');
  for (i = 0; i < a->review.n; i++) {
    fmi_out_s(o, i ? ",\n" : "\n");
    kept_obj(o, a, &a->review.items[i], 1);
  }
  fmi_out_s(o, "]}}\n");
  return o->failed ? FM_ENOMEM : FM_OK;
}
