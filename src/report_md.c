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

static const fmi_rep_style md_style = {
    md_text,      "-",          "**",         "**",
    "\xC3\x97",   "\xE2\x88\x92", "\xCE\xA3",   "\xE2\x89\xA5",
    "<",          "&",          "log10",
};

static void verbatim(fmi_out *o, fmi_buf *tmp, const fmi_agg_kept *k) {
  fmi_rep_excerpt(k->text, k->truncated, 280, tmp);
  fmi_out_s(o, "   - \xE2\x80\x9C");
  md_text(o, tmp->data ? tmp->data : "", tmp->len);
  fmi_out_s(o, "\xE2\x80\x9D \xE2\x80\x94 ");
  fmi_rep_attribution(o, &md_style, k);
  fmi_out_c(o, '\n');
}

/* The NPS of window w and its answers, or "-". */
static void nps_cell(const fmi_report *rep, fmi_out *o, size_t w) {
  if (!rep->has_nps[w]) {
    fmi_out_s(o, "-");
    return;
  }
  fmi_rep_signed1(o, rep->nps[w]);
  fmi_out_s(o, " (");
  fmi_out_u64(o, rep->nps_n[w]);
  fmi_out_s(o, " answers)");
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
    fmi_rep_change_text(o, &md_style, rep->items[FMI_CUR],
                        rep->items[FMI_PREV]);
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
      fmi_rep_change_text(o, &md_style, a->items[FMI_CUR][s],
                          a->items[FMI_PREV][s]);
    }
    fmi_out_s(o, " |\n");
  }
  fmi_out_s(o, "| NPS | ");
  nps_cell(rep, o, FMI_CUR);
  if (a->compare) {
    fmi_out_s(o, " | ");
    nps_cell(rep, o, FMI_PREV);
    fmi_out_s(o, " | ");
    if (rep->has_nps[FMI_CUR] && rep->has_nps[FMI_PREV]) {
      fmi_rep_signed1(o, rep->nps[FMI_CUR] - rep->nps[FMI_PREV]);
      fmi_out_s(o, " pts");
    } else {
      fmi_out_s(o, "-");
    }
  }
  fmi_out_s(o, " |\n| Negative | ");
  if (rep->sent_tagged)
    fmi_rep_pct(o, (double)rep->negative / (double)rep->sent_tagged);
  else
    fmi_out_s(o, "-");
  fmi_out_s(o, a->compare ? " | | |\n" : " |\n");
  fmi_out_s(o, "| Tagged with confidence, every head | ");
  fmi_out_u64(o, rep->items[FMI_CUR] - rep->review_any);
  if (rep->items[FMI_CUR]) {
    fmi_out_s(o, " (");
    fmi_rep_pct(o, (double)(rep->items[FMI_CUR] - rep->review_any) /
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
      fmi_rep_pct(o, (double)(t - r) / (double)t);
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
    uint64_t t = fmi_rep_lang_items(l);
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
  fmi_rep_method(rep, &md_style, o);
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
      fmi_rep_p(o, &md_style, ra->p_value);
    }
    fmi_out_s(o, " | ");
    fmi_rep_pct(o, ra->neg_share);
    fmi_out_s(o, " | ");
    fmi_out_u64(o, ra->accounts);
    fmi_out_s(o, " | ");
    fmi_rep_money_text(o, ra->revenue_cents);
    fmi_out_s(o, " | ");
    if (ra->has_nps) {
      fmi_rep_signed1(o, ra->nps);
      fmi_out_s(o, " (");
      fmi_out_u64(o, ra->nps_n);
      fmi_out_c(o, ')');
    } else {
      fmi_out_c(o, '-');
    }
    fmi_out_s(o, " | ");
    if (ra->has_impact) fmi_rep_signed1(o, ra->impact);
    else fmi_out_c(o, '-');
    fmi_out_s(o, " |\n");
  }
  fmi_out_c(o, '\n');
}

static void counts_line(fmi_out *o, const char *what, const fmi_agg_headdef *h,
                        const uint64_t *v) {
  if (!h) return;
  fmi_out_s(o, "- ");
  fmi_out_s(o, what);
  fmi_out_s(o, ": ");
  if (!fmi_rep_counts(o, &md_style, (const char *const *)h->labels, v,
                      h->n_labels))
    fmi_out_c(o, '-');
  fmi_out_c(o, '\n');
}

static void area_details(const fmi_report *rep, fmi_out *o, fmi_buf *tmp) {
  const fm_agg *a = rep->agg;
  size_t i, k;
  fmi_out_s(o, "## Requirements by area\n\n");
  fmi_rep_requirements_note(rep, &md_style, o);
  fmi_out_s(o, "\n\n");
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
    fmi_rep_counts(o, &md_style, fmi_agg_source_names,
                   ra->cur_counts->sources, FMI_N_SRC);
    fmi_out_s(o, ")\n");
    counts_line(o, "Kinds", a->h_kind >= 0 ? &a->heads[a->h_kind] : NULL,
                ra->kinds);
    counts_line(o, "Sentiment", a->h_sent >= 0 ? &a->heads[a->h_sent] : NULL,
                ra->sents);
    fmi_out_s(o, "- ");
    fmi_rep_priority(o, &md_style, ra);
    fmi_out_s(o, "\n- Accounts: ");
    fmi_out_u64(o, ra->accounts);
    fmi_out_s(o, ", revenue ");
    fmi_rep_money_text(o, ra->revenue_cents);
    fmi_out_c(o, '\n');
    if (ra->has_nps) {
      fmi_out_s(o, "- ");
      fmi_rep_area_nps(o, ra);
      fmi_out_c(o, '\n');
    }
    if (a->compare) {
      fmi_out_s(o, "- ");
      fmi_rep_area_trend(o, &md_style, ra);
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
      fmi_rep_phrase_counts(o, ph);
      fmi_out_s(o, ", z = ");
      fmi_out_dbl(o, ph->z, 2);
      fmi_out_c(o, '\n');
      for (v = 0; v < ph->n_verbatims; v++)
        verbatim(o, tmp, ph->verbatims[v]);
    }
    if (ra->n_phrases) fmi_out_c(o, '\n');
  }
}

static void reasons(const fmi_report *rep, fmi_out *o) {
  const fm_agg *a = rep->agg;
  size_t i;
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
    fmi_rep_top_areas(o, &md_style, a, rr);
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
  fmi_out_s(o, "## Emerging phrases\n\n");
  fmi_rep_emerging_note(rep, &md_style, o);
  fmi_out_s(o, "\n\n");
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
    uint64_t t = fmi_rep_lang_items(l);
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
  fmi_buf tmp = {NULL, 0, 0};
  fmi_out_s(o, "# ");
  md_s(o, rep->opts.title);
  fmi_out_s(o, "\n\n");
  fmi_rep_intro(rep, &md_style, o);
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
