/*
 * report_csv.c -- the requirement report as one CSV table for
 * spreadsheets: a row per area and label (all, source, kind, sentiment,
 * requirement phrase) with counts and the area's scores.
 *
 * Formula injection: a spreadsheet runs a cell that starts with = + - @
 * (and, in some, with a tab or carriage return). Every text cell --
 * labels, phrases, verbatims, language codes -- is written quoted, and one
 * that starts with such a character gets a leading apostrophe, the OWASP
 * advice, so it shows as text. Numeric cells are numbers we format
 * ourselves ("-12.5" is a number, not a formula).
 */
#include "report.h"

static void csv_text(fmi_out *o, const char *s, size_t n) {
  size_t i, run = 0;
  fmi_out_c(o, '"');
  if (n && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
            s[0] == '\t' || s[0] == '\r' || s[0] == '\n'))
    fmi_out_c(o, '\'');
  for (i = 0; i < n; i++) {
    if (s[i] != '"') continue;
    fmi_out_raw(o, s + run, i + 1 - run);
    fmi_out_c(o, '"');
    run = i + 1;
  }
  fmi_out_raw(o, s + run, n - run);
  fmi_out_c(o, '"');
}

static void csv_s(fmi_out *o, const char *s) { csv_text(o, s, strlen(s)); }

/* One row: the area columns, then the row's own. `share` < 0 = empty. */
static void row(fmi_out *o, const fmi_report *rep, size_t rank,
                const char *dimension, const char *label, uint64_t items,
                const uint64_t *previous, double z, int has_z,
                const char *example) {
  const fm_agg *a = rep->agg;
  const fmi_rep_area *ra = &rep->areas[rank];
  fmi_out_u64(o, rank + 1);
  fmi_out_c(o, ',');
  csv_s(o, ra->name);
  fmi_out_c(o, ',');
  csv_s(o, dimension);
  fmi_out_c(o, ',');
  csv_s(o, label);
  fmi_out_c(o, ',');
  fmi_out_u64(o, items);
  fmi_out_c(o, ',');
  if (previous) fmi_out_u64(o, *previous);
  fmi_out_c(o, ',');
  if (ra->count) fmi_out_dbl(o, (double)items / (double)ra->count, 4);
  fmi_out_c(o, ',');
  if (has_z) fmi_out_dbl(o, z, 3);
  fmi_out_c(o, ',');
  fmi_out_dbl(o, ra->priority, 3);
  fmi_out_c(o, ',');
  fmi_out_dbl(o, ra->neg_share, 4);
  fmi_out_c(o, ',');
  fmi_out_dbl(o, ra->rev_factor, 4);
  fmi_out_c(o, ',');
  fmi_out_u64(o, ra->accounts);
  fmi_out_c(o, ',');
  fmi_rep_money(o, ra->revenue_cents);
  fmi_out_c(o, ',');
  if (ra->has_nps) fmi_out_dbl(o, ra->nps, 1);
  fmi_out_c(o, ',');
  if (ra->has_impact) fmi_out_dbl(o, ra->impact, 1);
  fmi_out_c(o, ',');
  csv_s(o, ra->trend > 0 ? "rising" : ra->trend < 0 ? "falling" : "none");
  fmi_out_c(o, ',');
  if (a->compare) fmi_out_dbl(o, ra->p_value, 6);
  fmi_out_c(o, ',');
  csv_s(o, example ? example : "");
  fmi_out_s(o, "\r\n");
}

fm_status fmi_report_csv(const fmi_report *rep, fmi_out *o) {
  const fm_agg *a = rep->agg;
  size_t i, k;
  fmi_buf tmp = {NULL, 0, 0};
  fmi_out_s(o, "rank,area,dimension,label,items,previous_items,share,z,"
               "priority,negative_share,revenue_factor,accounts,revenue,"
               "nps,nps_impact,trend,p_value,example\r\n");
  for (i = 0; i < rep->n_areas; i++) {
    const fmi_rep_area *ra = &rep->areas[i];
    row(o, rep, i, "all", "", ra->count, &ra->prev, 0, 0, NULL);
    for (k = 0; k < FMI_N_SRC; k++)
      row(o, rep, i, "source", fmi_agg_source_names[k],
          ra->cur_counts->sources[k], &ra->prev_counts->sources[k], 0, 0,
          NULL);
    if (a->h_kind >= 0)
      for (k = 0; k < a->heads[a->h_kind].n_labels; k++)
        row(o, rep, i, "kind", a->heads[a->h_kind].labels[k], ra->kinds[k],
            NULL, 0, 0, NULL);
    if (a->h_sent >= 0)
      for (k = 0; k < a->heads[a->h_sent].n_labels; k++)
        row(o, rep, i, "sentiment", a->heads[a->h_sent].labels[k],
            ra->sents[k], NULL, 0, 0, NULL);
    for (k = 0; k < ra->n_phrases; k++) {
      const fmi_rep_phrase *ph = &ra->phrases[k];
      const char *ex = NULL;
      if (ph->n_verbatims &&
          fmi_rep_excerpt(ph->verbatims[0]->text, ph->verbatims[0]->truncated,
                          280, &tmp) == FM_OK)
        ex = tmp.data;
      row(o, rep, i, "requirement", ph->p->surface, ph->count, NULL, ph->z, 1,
          ex);
    }
  }
  fmi_buf_free(&tmp);
  return o->failed ? FM_ENOMEM : FM_OK;
}
