/*
 * report_md.c -- the requirement report as Markdown: headings, pipe
 * tables and lists that paste into a wiki (GitHub, GitLab, Confluence's
 * Markdown macro).
 *
 * Customer text can hold Markdown or HTML: every character that could
 * start emphasis, a link, an HTML tag, an entity or a table cell is
 * backslash-escaped (CommonMark allows escaping any ASCII punctuation),
 * and line breaks become blanks, so a verbatim always renders as the text
 * it is and never as markup.
 */
#include "report.h"

static void md_text(fmi_out *o, const char *s, size_t n) {
  size_t i, run = 0, lead = 0;
  /* A leading "1." or "1)" would start an ordered list. */
  while (lead < n && s[lead] >= '0' && s[lead] <= '9') lead++;
  for (i = 0; i < n; i++) {
    char c = s[i];
    bool esc;
    if (c == '\n' || c == '\r' || c == '\t') {
      fmi_out_raw(o, s + run, i - run);
      fmi_out_c(o, ' ');
      run = i + 1;
      continue;
    }
    esc = c != 0 && strchr("\\`*_[]<>|#!~&", c) != NULL;
    if (i == 0 && (c == '-' || c == '+' || c == '=')) esc = true;
    if (lead > 0 && i == lead && (c == '.' || c == ')')) esc = true;
    if (!esc) continue;
    fmi_out_raw(o, s + run, i - run);
    fmi_out_c(o, '\\');
    fmi_out_c(o, c);
    run = i + 1;
  }
  fmi_out_raw(o, s + run, n - run);
}

static void md_s(fmi_out *o, const char *s) { md_text(o, s, strlen(s)); }

static void pct(fmi_out *o, double share) {
  fmi_out_dbl(o, share * 100.0, 1);
  fmi_out_c(o, '%');
}

static void signed1(fmi_out *o, double v) {
  if (v > 0.04999) fmi_out_c(o, '+');
  fmi_out_dbl(o, v, 1);
}

static void change(fmi_out *o, uint64_t cur, uint64_t prev) {
  int def;
  double c = fmi_rep_change(cur, prev, &def);
  if (!def) {
    fmi_out_s(o, cur ? "new" : "-");
    return;
  }
  signed1(o, c);
  fmi_out_c(o, '%');
}

static void verbatim(const fmi_report *rep, fmi_out *o, fmi_buf *tmp,
                     const fmi_agg_kept *k) {
  char date[11];
  fmi_rep_excerpt(k->text, k->truncated, 280, tmp);
  fmi_out_s(o, "   - \xE2\x80\x9C");
  md_text(o, tmp->data ? tmp->data : "", tmp->len);
  fmi_out_s(o, "\xE2\x80\x9D \xE2\x80\x94 ");
  if (k->account[0]) {
    md_s(o, k->account);
    fmi_out_s(o, ", ");
  }
  md_s(o, fmi_agg_source_names[k->source]);
  fmi_rep_date(k->date, date);
  fmi_out_s(o, ", ");
  fmi_out_s(o, date);
  (void)rep;
  fmi_out_c(o, '\n');
}

static void summary(const fmi_report *rep, fmi_out *o) {
  const fm_agg *a = rep->agg;
  size_t i, s;
  uint64_t tot[FMI_N_SRC + 1] = {0};
  fmi_out_s(o, "## Summary\n\n");
  fmi_out_s(o, a->compare ? "| | this period | previous period | change |\n"
                            "|---|---:|---:|---:|\n"
                          : "| | this period |\n|---|---:|\n");
  fmi_out_s(o, "| Items | ");
  fmi_out_u64(o, rep->items[FMI_CUR]);
  if (a->compare) {
    fmi_out_s(o, " | ");
    fmi_out_u64(o, rep->items[FMI_PREV]);
    fmi_out_s(o, " | ");
    change(o, rep->items[FMI_CUR], rep->items[FMI_PREV]);
  }
  fmi_out_s(o, " |\n");
  for (s = 0; s < FMI_N_SRC; s++) {
    if (!a->items[FMI_CUR][s] && !a->items[FMI_PREV][s]) continue;
    fmi_out_s(o, "| \xE2\x80\x83");
    md_s(o, fmi_agg_source_names[s]);
    fmi_out_s(o, " | ");
    fmi_out_u64(o, a->items[FMI_CUR][s]);
    if (a->compare) {
      fmi_out_s(o, " | ");
      fmi_out_u64(o, a->items[FMI_PREV][s]);
      fmi_out_s(o, " | ");
      change(o, a->items[FMI_CUR][s], a->items[FMI_PREV][s]);
    }
    fmi_out_s(o, " |\n");
  }
  fmi_out_s(o, "| NPS | ");
  if (rep->has_nps[FMI_CUR]) {
    signed1(o, rep->nps[FMI_CUR]);
    fmi_out_s(o, " (");
    fmi_out_u64(o, rep->nps_n[FMI_CUR]);
    fmi_out_s(o, " answers)");
  } else {
    fmi_out_s(o, "-");
  }
  if (a->compare) {
    fmi_out_s(o, " | ");
    if (rep->has_nps[FMI_PREV]) {
      signed1(o, rep->nps[FMI_PREV]);
      fmi_out_s(o, " (");
      fmi_out_u64(o, rep->nps_n[FMI_PREV]);
      fmi_out_s(o, " answers)");
    } else {
      fmi_out_s(o, "-");
    }
    fmi_out_s(o, " | ");
    if (rep->has_nps[FMI_CUR] && rep->has_nps[FMI_PREV]) {
      signed1(o, rep->nps[FMI_CUR] - rep->nps[FMI_PREV]);
      fmi_out_s(o, " pts");
    } else {
      fmi_out_s(o, "-");
    }
  }
  fmi_out_s(o, " |\n| Negative | ");
  if (rep->sent_tagged)
    pct(o, (double)rep->negative / (double)rep->sent_tagged);
  else
    fmi_out_s(o, "-");
  fmi_out_s(o, a->compare ? " | | |\n" : " |\n");
  fmi_out_s(o, "| Tagged with confidence, every head | ");
  fmi_out_u64(o, rep->items[FMI_CUR] - rep->review_any);
  if (rep->items[FMI_CUR]) {
    fmi_out_s(o, " (");
    pct(o, (double)(rep->items[FMI_CUR] - rep->review_any) /
               (double)rep->items[FMI_CUR]);
    fmi_out_c(o, ')');
  }
  fmi_out_s(o, a->compare ? " | | |\n" : " |\n");
  {
    size_t hh;
    for (hh = 0; hh < a->n_heads; hh++) {
      uint64_t t = rep->tagged_by_head[hh], r = rep->review_by_head[hh];
      if (!t) continue;
      fmi_out_s(o, "| \xE2\x80\x83");
      md_s(o, a->heads[hh].name);
      fmi_out_s(o, " | ");
      fmi_out_u64(o, t - r);
      fmi_out_s(o, " of ");
      fmi_out_u64(o, t);
      fmi_out_s(o, " (");
      pct(o, (double)(t - r) / (double)t);
      fmi_out_c(o, ')');
      fmi_out_s(o, a->compare ? " | | |\n" : " |\n");
    }
  }
  fmi_out_s(o, "| Needs review, some head | ");
  fmi_out_u64(o, rep->review_any);
  fmi_out_s(o, a->compare ? " | | |\n" : " |\n");
  fmi_out_s(o, "| Accounts | ");
  fmi_out_u64(o, rep->accounts);
  fmi_out_s(o, a->compare ? " | | |\n" : " |\n");
  fmi_out_s(o, "| Revenue of these accounts | ");
  fmi_rep_money_text(o, rep->revenue_cents);
  if (rep->accounts_with_revenue < rep->accounts) {
    fmi_out_s(o, " (");
    fmi_out_u64(o, rep->accounts_with_revenue);
    fmi_out_s(o, " with revenue known)");
  }
  fmi_out_s(o, a->compare ? " | | |\n" : " |\n");

  fmi_out_s(o, "\n### Items by language and source\n\n| language |");
  for (s = 0; s < FMI_N_SRC; s++) {
    fmi_out_c(o, ' ');
    md_s(o, fmi_agg_source_names[s]);
    fmi_out_s(o, " |");
  }
  fmi_out_s(o, " total |\n|---|");
  for (s = 0; s <= FMI_N_SRC; s++) fmi_out_s(o, "---:|");
  fmi_out_c(o, '\n');
  for (i = 0; i < a->n_langs; i++) {
    const fmi_agg_lang *l = &a->langs[i];
    uint64_t t = 0;
    for (s = 0; s < FMI_N_SRC; s++) t += l->items[FMI_CUR][s];
    if (!t) continue;
    fmi_out_s(o, "| ");
    md_s(o, l->lang);
    fmi_out_s(o, " |");
    for (s = 0; s < FMI_N_SRC; s++) {
      fmi_out_c(o, ' ');
      fmi_out_u64(o, l->items[FMI_CUR][s]);
      fmi_out_s(o, " |");
      tot[s] += l->items[FMI_CUR][s];
    }
    tot[FMI_N_SRC] += t;
    fmi_out_c(o, ' ');
    fmi_out_u64(o, t);
    fmi_out_s(o, " |\n");
  }
  fmi_out_s(o, "| **all** |");
  for (s = 0; s <= FMI_N_SRC; s++) {
    fmi_out_s(o, " **");
    fmi_out_u64(o, tot[s]);
    fmi_out_s(o, "** |");
  }
  fmi_out_s(o, "\n\n");
}

static void method(const fmi_report *rep, fmi_out *o) {
  const fm_agg *a = rep->agg;
  fmi_out_s(o, "Priority = \xCE\xA3 source weight \xC3\x97 (1 + negative "
               "share) \xC3\x97 revenue factor. Weights: churn ");
  fmi_out_dbl(o, (double)a->weight_milli[FMI_SRC_CHURN] / 1000.0, 1);
  fmi_out_s(o, ", lost_deal ");
  fmi_out_dbl(o, (double)a->weight_milli[FMI_SRC_LOST_DEAL] / 1000.0, 1);
  fmi_out_s(o, ", NPS detractor ");
  fmi_out_dbl(o, (double)a->weight_milli[FMI_N_SRC] / 1000.0, 1);
  fmi_out_s(o, ", other NPS ");
  fmi_out_dbl(o, (double)a->weight_milli[FMI_SRC_NPS] / 1000.0, 1);
  fmi_out_s(o, ", ticket ");
  fmi_out_dbl(o, (double)a->weight_milli[FMI_SRC_TICKET] / 1000.0, 1);
  fmi_out_s(o, ", other ");
  fmi_out_dbl(o, (double)a->weight_milli[FMI_SRC_OTHER] / 1000.0, 1);
  fmi_out_s(o, ". Revenue factor = 1 + log10(1 + revenue per account "
               "that raised it / median account revenue");
  if (rep->median_revenue_cents > 0) {
    fmi_out_s(o, " (");
    fmi_rep_money_text(o, (int64_t)(rep->median_revenue_cents + 0.5));
    fmi_out_c(o, ')');
  }
  fmi_out_s(o, "); 1 when no revenue is known. NPS impact = overall NPS "
               "\xE2\x88\x92 NPS of the respondents who do not mention the "
               "area (negative: the area costs NPS points).");
  if (a->compare) {
    fmi_out_s(o, " Trend: exact conditional binomial test of the two "
                 "periods' counts (two-sided); rising or falling only when "
                 "p < ");
    fmi_out_dbl(o, rep->opts.alpha, 3);
    fmi_out_c(o, '.');
  }
  fmi_out_s(o, "\n\n");
}

static void areas_table(const fmi_report *rep, fmi_out *o) {
  const fm_agg *a = rep->agg;
  size_t i;
  fmi_out_s(o, "## Product areas by priority\n\n");
  method(rep, o);
  fmi_out_s(o, "| # | area | priority | items |");
  if (a->compare) fmi_out_s(o, " previous | trend | p |");
  fmi_out_s(o, " negative | accounts | revenue | NPS | NPS impact |\n"
               "|---:|---|---:|---:|");
  if (a->compare) fmi_out_s(o, "---:|---|---:|");
  fmi_out_s(o, "---:|---:|---:|---:|---:|\n");
  for (i = 0; i < rep->n_areas; i++) {
    const fmi_rep_area *ra = &rep->areas[i];
    if (!ra->count && !ra->prev) continue;
    fmi_out_s(o, "| ");
    fmi_out_u64(o, i + 1);
    fmi_out_s(o, " | ");
    md_s(o, ra->name);
    fmi_out_s(o, " | ");
    fmi_out_dbl(o, ra->priority, 1);
    fmi_out_s(o, " | ");
    fmi_out_u64(o, ra->count);
    if (a->compare) {
      fmi_out_s(o, " | ");
      fmi_out_u64(o, ra->prev);
      fmi_out_s(o, ra->trend > 0 ? " | **rising** \xE2\x86\x91 | "
                   : ra->trend < 0 ? " | **falling** \xE2\x86\x93 | "
                                   : " | - | ");
      fmi_rep_p(o, ra->p_value);
    }
    fmi_out_s(o, " | ");
    pct(o, ra->neg_share);
    fmi_out_s(o, " | ");
    fmi_out_u64(o, ra->accounts);
    fmi_out_s(o, " | ");
    fmi_rep_money_text(o, ra->revenue_cents);
    fmi_out_s(o, " | ");
    if (ra->has_nps) {
      signed1(o, ra->nps);
      fmi_out_s(o, " (");
      fmi_out_u64(o, ra->nps_n);
      fmi_out_c(o, ')');
    } else {
      fmi_out_c(o, '-');
    }
    fmi_out_s(o, " | ");
    if (ra->has_impact) signed1(o, ra->impact);
    else fmi_out_c(o, '-');
    fmi_out_s(o, " |\n");
  }
  fmi_out_c(o, '\n');
}

static void counts_line(fmi_out *o, const char *what, const fmi_agg_headdef *h,
                        const uint64_t *v) {
  size_t i;
  bool first = true;
  if (!h) return;
  fmi_out_s(o, "- ");
  fmi_out_s(o, what);
  fmi_out_s(o, ": ");
  for (i = 0; i < h->n_labels; i++) {
    if (!v[i]) continue;
    if (!first) fmi_out_s(o, ", ");
    first = false;
    md_s(o, h->labels[i]);
    fmi_out_c(o, ' ');
    fmi_out_u64(o, v[i]);
  }
  if (first) fmi_out_c(o, '-');
  fmi_out_c(o, '\n');
}

static void area_details(const fmi_report *rep, fmi_out *o, fmi_buf *tmp) {
  const fm_agg *a = rep->agg;
  size_t i, s, k;
  fmi_out_s(o, "## Requirements by area\n\nPer area, the phrases that set "
               "its feature requests and complaints apart from the other "
               "areas' (weighted log-odds with an informative Dirichlet "
               "prior, Monroe, Colaresi & Quinn 2008; z over ");
  fmi_out_dbl(o, rep->z_crit, 2);
  fmi_out_s(o, " is significant at p < ");
  fmi_out_dbl(o, rep->opts.alpha, 3);
  fmi_out_s(o, "), with the clearest verbatims (redacted).\n\n");
  for (i = 0; i < rep->n_areas; i++) {
    const fmi_rep_area *ra = &rep->areas[i];
    if (!ra->count) continue;
    fmi_out_s(o, "### ");
    fmi_out_u64(o, i + 1);
    fmi_out_s(o, ". ");
    md_s(o, ra->name);
    fmi_out_s(o, "\n\n- Items: ");
    fmi_out_u64(o, ra->count);
    fmi_out_s(o, " (");
    {
      bool first = true;
      for (s = 0; s < FMI_N_SRC; s++) {
        if (!ra->cur_counts->sources[s]) continue;
        if (!first) fmi_out_s(o, ", ");
        first = false;
        md_s(o, fmi_agg_source_names[s]);
        fmi_out_c(o, ' ');
        fmi_out_u64(o, ra->cur_counts->sources[s]);
      }
    }
    fmi_out_s(o, ")\n");
    counts_line(o, "Kinds", a->h_kind >= 0 ? &a->heads[a->h_kind] : NULL,
                ra->kinds);
    counts_line(o, "Sentiment", a->h_sent >= 0 ? &a->heads[a->h_sent] : NULL,
                ra->sents);
    fmi_out_s(o, "- Priority ");
    fmi_out_dbl(o, ra->priority, 1);
    fmi_out_s(o, " = ");
    fmi_out_dbl(o, ra->weighted, 1);
    fmi_out_s(o, " \xC3\x97 (1 + ");
    fmi_out_dbl(o, ra->neg_share, 3);
    fmi_out_s(o, ") \xC3\x97 ");
    fmi_out_dbl(o, ra->rev_factor, 3);
    fmi_out_s(o, "\n- Accounts: ");
    fmi_out_u64(o, ra->accounts);
    fmi_out_s(o, ", revenue ");
    fmi_rep_money_text(o, ra->revenue_cents);
    fmi_out_c(o, '\n');
    if (ra->has_nps) {
      fmi_out_s(o, "- NPS of respondents who mention it: ");
      signed1(o, ra->nps);
      fmi_out_s(o, " (");
      fmi_out_u64(o, ra->nps_n);
      fmi_out_s(o, " answers)");
      if (ra->has_impact) {
        fmi_out_s(o, "; NPS impact ");
        signed1(o, ra->impact);
        fmi_out_s(o, " pts");
      }
      fmi_out_c(o, '\n');
    }
    if (a->compare) {
      fmi_out_s(o, "- Trend: ");
      fmi_out_u64(o, ra->count);
      fmi_out_s(o, " vs ");
      fmi_out_u64(o, ra->prev);
      fmi_out_s(o, " (");
      change(o, ra->count, ra->prev);
      fmi_out_s(o, ", p = ");
      fmi_rep_p(o, ra->p_value);
      fmi_out_s(o, ra->trend > 0 ? ", **rising**)\n"
                   : ra->trend < 0 ? ", **falling**)\n"
                                   : ", not significant)\n");
    }
    fmi_out_s(o, "\nFeature requests and complaints: ");
    fmi_out_u64(o, ra->requests);
    fmi_out_s(o, ra->n_phrases ? "\n\n" : ". No distinctive phrase yet.\n\n");
    for (k = 0; k < ra->n_phrases; k++) {
      const fmi_rep_phrase *ph = &ra->phrases[k];
      size_t v;
      fmi_out_u64(o, k + 1);
      fmi_out_s(o, ". **");
      md_s(o, ph->p->surface);
      fmi_out_s(o, "** \xE2\x80\x94 ");
      fmi_out_u64(o, ph->count);
      fmi_out_s(o, ph->count == 1 ? " item, " : " items, ");
      if (ph->accounts_estimated) fmi_out_s(o, "~");
      fmi_out_u64(o, ph->accounts);
      fmi_out_s(o, ph->accounts == 1 ? " account, z = " : " accounts, z = ");
      fmi_out_dbl(o, ph->z, 2);
      fmi_out_c(o, '\n');
      for (v = 0; v < ph->n_verbatims; v++)
        verbatim(rep, o, tmp, ph->verbatims[v]);
    }
    if (ra->n_phrases) fmi_out_c(o, '\n');
  }
}

static void reasons(const fmi_report *rep, fmi_out *o) {
  const fm_agg *a = rep->agg;
  size_t i, k;
  if (!rep->n_reasons) return;
  fmi_out_s(o, "## Churn and lost-deal reasons\n\nChurned revenue is the "
               "accounts' monthly revenue; lost deal value is the deals' "
               "amount. They are kept apart.\n\n| reason | churn | churned "
               "revenue | lost deals | lost deal value |");
  if (a->compare) fmi_out_s(o, " previous |");
  fmi_out_s(o, " areas cited |\n|---|---:|---:|---:|---:|");
  if (a->compare) fmi_out_s(o, "---:|");
  fmi_out_s(o, "---|\n");
  for (i = 0; i < rep->n_reasons; i++) {
    const fmi_rep_reason *rr = &rep->reasons[i];
    if (!rr->count && !rr->prev) continue;
    fmi_out_s(o, "| ");
    md_s(o, rr->name);
    fmi_out_s(o, " | ");
    fmi_out_u64(o, rr->sources[FMI_SRC_CHURN]);
    fmi_out_s(o, " | ");
    fmi_rep_money_text(o, rr->revenue_cents[FMI_SRC_CHURN]);
    fmi_out_s(o, " | ");
    fmi_out_u64(o, rr->sources[FMI_SRC_LOST_DEAL]);
    fmi_out_s(o, " | ");
    fmi_rep_money_text(o, rr->revenue_cents[FMI_SRC_LOST_DEAL]);
    if (a->compare) {
      fmi_out_s(o, " | ");
      fmi_out_u64(o, rr->prev);
    }
    fmi_out_s(o, " | ");
    for (k = 0; k < rr->n_top; k++) {
      if (k) fmi_out_s(o, ", ");
      md_s(o, a->heads[a->h_area].labels[rr->top_area[k]]);
      fmi_out_s(o, " (");
      fmi_out_u64(o, rr->top_count[k]);
      fmi_out_c(o, ')');
    }
    if (!rr->n_top) fmi_out_c(o, '-');
    fmi_out_s(o, " |\n");
  }
  fmi_out_s(o, "\nChurned revenue: ");
  fmi_rep_money_text(o, rep->reason_revenue_cents[FMI_SRC_CHURN]);
  fmi_out_s(o, "; lost deal value: ");
  fmi_rep_money_text(o, rep->reason_revenue_cents[FMI_SRC_LOST_DEAL]);
  fmi_out_s(o, "\n\n");
}

static void emerging(const fmi_report *rep, fmi_out *o) {
  size_t i;
  if (!rep->agg->compare) return;
  fmi_out_s(o, "## Emerging phrases\n\nPhrases whose share of all items "
               "rose significantly against the previous period (same "
               "log-odds, z \xE2\x89\xA5 ");
  fmi_out_dbl(o, rep->z_crit, 2);
  fmi_out_s(o, ", at least 3 items).\n\n");
  if (!rep->n_emerging) {
    fmi_out_s(o, "None this period.\n\n");
    return;
  }
  fmi_out_s(o, "| phrase | items | previous | z | first seen |\n"
               "|---|---:|---:|---:|---|\n");
  for (i = 0; i < rep->n_emerging; i++) {
    const fmi_rep_phrase *ph = &rep->emerging[i];
    char day[11];
    fmi_out_s(o, "| ");
    md_s(o, ph->p->surface);
    fmi_out_s(o, " | ");
    fmi_out_u64(o, ph->count);
    fmi_out_s(o, " | ");
    fmi_out_u64(o, ph->other);
    fmi_out_s(o, " | ");
    fmi_out_dbl(o, ph->z, 2);
    fmi_agg_format_day(ph->p->first_day, day);
    fmi_out_s(o, " | ");
    fmi_out_s(o, day);
    fmi_out_s(o, " |\n");
  }
  fmi_out_c(o, '\n');
}

static void review(const fmi_report *rep, fmi_out *o, fmi_buf *tmp) {
  const fm_agg *a = rep->agg;
  size_t i, h;
  fmi_out_s(o, "## Review queue\n\nItems of the period below a head's "
               "confidence threshold, by language:\n\n| language | items |");
  for (h = 0; h < a->n_heads; h++) {
    fmi_out_c(o, ' ');
    md_s(o, a->heads[h].name);
    fmi_out_s(o, " |");
  }
  fmi_out_s(o, " any head |\n|---|---:|");
  for (h = 0; h <= a->n_heads; h++) fmi_out_s(o, "---:|");
  fmi_out_c(o, '\n');
  for (i = 0; i < a->n_langs; i++) {
    const fmi_agg_lang *l = &a->langs[i];
    uint64_t t = 0;
    size_t s;
    for (s = 0; s < FMI_N_SRC; s++) t += l->items[FMI_CUR][s];
    if (!t) continue;
    fmi_out_s(o, "| ");
    md_s(o, l->lang);
    fmi_out_s(o, " | ");
    fmi_out_u64(o, t);
    fmi_out_s(o, " |");
    for (h = 0; h < a->n_heads; h++) {
      fmi_out_c(o, ' ');
      fmi_out_u64(o, l->review[FMI_CUR * a->n_heads + h]);
      fmi_out_s(o, " |");
    }
    fmi_out_c(o, ' ');
    fmi_out_u64(o, l->review_any[FMI_CUR]);
    fmi_out_s(o, " |\n");
  }
  fmi_out_s(o, "| **all** | **");
  fmi_out_u64(o, rep->items[FMI_CUR]);
  fmi_out_s(o, "** |");
  for (h = 0; h < a->n_heads; h++) {
    fmi_out_s(o, " **");
    fmi_out_u64(o, rep->review_by_head[h]);
    fmi_out_s(o, "** |");
  }
  fmi_out_s(o, " **");
  fmi_out_u64(o, rep->review_any);
  fmi_out_s(o, "** |\n\n");
  if (!a->review.n) return;
  fmi_out_s(o, "The ");
  fmi_out_u64(o, a->review.n);
  fmi_out_s(o, " least certain items, to label next:\n\n| # | lowest "
               "probability | source | id | language | date |");
  for (h = 0; h < a->n_heads; h++) {
    fmi_out_c(o, ' ');
    md_s(o, a->heads[h].name);
    fmi_out_s(o, " |");
  }
  fmi_out_s(o, " text |\n|---:|---:|---|---|---|---|");
  for (h = 0; h < a->n_heads; h++) fmi_out_s(o, "---|");
  fmi_out_s(o, "---|\n");
  for (i = 0; i < a->review.n; i++) {
    const fmi_agg_kept *k = &a->review.items[i];
    char date[11];
    fmi_out_s(o, "| ");
    fmi_out_u64(o, i + 1);
    fmi_out_s(o, " | ");
    fmi_out_dbl(o, fmi_rep_min_prob(a, k), 3);
    fmi_out_s(o, " | ");
    md_s(o, fmi_agg_source_names[k->source]);
    fmi_out_s(o, " | ");
    md_s(o, k->id[0] ? k->id : "-");
    fmi_out_s(o, " | ");
    md_s(o, k->lang);
    fmi_rep_date(k->date, date);
    fmi_out_s(o, " | ");
    fmi_out_s(o, date);
    fmi_out_s(o, " |");
    for (h = 0; h < a->n_heads; h++) {
      fmi_out_c(o, ' ');
      if (k->tags[h]) md_s(o, fmi_rep_label(a, h, k->tags[h]));
      if (k->tags[h]) {
        fmi_out_s(o, " ");
        fmi_out_dbl(o, k->ppm[h] / 1e6, 2);
      }
      fmi_out_s(o, " |");
    }
    fmi_rep_excerpt(k->text, k->truncated, 160, tmp);
    fmi_out_c(o, ' ');
    md_text(o, tmp->data ? tmp->data : "", tmp->len);
    fmi_out_s(o, " |\n");
  }
  fmi_out_c(o, '\n');
}

fm_status fmi_report_md(const fmi_report *rep, fmi_out *o) {
  const fm_agg *a = rep->agg;
  fmi_buf tmp = {NULL, 0, 0};
  fmi_out_s(o, "# ");
  md_s(o, rep->opts.title);
  fmi_out_s(o, "\n\nPeriod **");
  fmi_out_s(o, rep->since);
  fmi_out_s(o, " to ");
  fmi_out_s(o, rep->until);
  fmi_out_s(o, "** (");
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
  fmi_out_s(o, ".");
  if (rep->opts.generated_at) {
    char d[11];
    fmi_rep_date(rep->opts.generated_at, d);
    fmi_out_s(o, " Generated ");
    fmi_out_s(o, d);
    fmi_out_s(o, ".");
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
  fmi_out_s(o, "\n\n");
  summary(rep, o);
  areas_table(rep, o);
  area_details(rep, o, &tmp);
  reasons(rep, o);
  emerging(rep, o);
  review(rep, o, &tmp);
  fmi_buf_free(&tmp);
  return o->failed ? FM_ENOMEM : FM_OK;
}
