/*
 * report_html.c -- the requirement report as one self-contained HTML file:
 * inline CSS, inline SVG charts, no script, no network (no fonts, images
 * or links to fetch). It reads on a phone (viewport, tables that scroll
 * sideways, wrapping cards) and prints (@media print).
 *
 * Customer text is untrusted. Every string that did not come from this
 * file -- verbatims, phrases, account names, ids, labels, the title -- goes
 * through html_text, which escapes & < > " ' and blanks out control
 * characters, in element content and attribute values alike; no customer
 * text is ever put in a URL, a style or an event attribute. As a second
 * wall, a Content-Security-Policy meta tag forbids every script and every
 * fetch, so even a bug in escaping could not run code or leak data.
 */
#include "report.h"

#include <math.h>

static void html_text(fmi_out *o, const char *s, size_t n) {
  size_t i, run = 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *e;
    switch (c) {
    case '&': e = "&amp;"; break;
    case '<': e = "&lt;"; break;
    case '>': e = "&gt;"; break;
    case '"': e = "&quot;"; break;
    case '\'': e = "&#39;"; break;
    default:
      if (c < 0x20 || c == 0x7F) e = " ";
      else continue;
    }
    fmi_out_raw(o, s + run, i - run);
    fmi_out_s(o, e);
    run = i + 1;
  }
  fmi_out_raw(o, s + run, n - run);
}

static void h(fmi_out *o, const char *s) { html_text(o, s, strlen(s)); }

static const fmi_rep_style html_style = {
    html_text, "&ndash;", "<b>",   "</b>", "&times;",
    "&minus;", "&Sigma;", "&ge;",  "&lt;", "&amp;",
    "log<sub>10</sub>",
};

static void num_td(fmi_out *o, uint64_t v) {
  fmi_out_s(o, "<td class=\"n\">");
  fmi_out_u64(o, v);
  fmi_out_s(o, "</td>");
}

static const char css[] =
    ":root{--neg:#c0392b;--neu:#9aa5ad;--pos:#2e8b57;--ink:#1f2933;"
    "--mute:#5f6b7a;--line:#d9dee4;--acc:#2f6fb3;--bg:#f6f8fa}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0 auto;max-width:1240px;padding:16px;color:var(--ink);"
    "font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto "
    "Sans\",Arial,sans-serif}\n"
    "h1{font-size:1.6em;margin:.2em 0}\n"
    "h2{font-size:1.25em;margin:1.6em 0 .5em;border-bottom:2px solid "
    "var(--line);padding-bottom:.2em}\n"
    "h3{font-size:1.05em;margin:1.2em 0 .3em}\n"
    ".meta,.note,.src{color:var(--mute)}\n.note{font-size:.9em}\n"
    ".src{font-size:.85em}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:10px;margin:.5em 0}\n"
    ".card{border:1px solid var(--line);border-radius:6px;padding:8px 12px;"
    "min-width:150px;flex:1;background:var(--bg)}\n"
    ".card b{display:block;font-size:1.35em}\n"
    ".scroll{overflow-x:auto}\n"
    "table{border-collapse:collapse;width:100%;margin:.4em 0}\n"
    "th,td{border-bottom:1px solid var(--line);padding:4px 6px;"
    "text-align:left;vertical-align:top}\n"
    "th{font-weight:600;background:var(--bg);white-space:nowrap}\n"
    ".n{text-align:right;font-variant-numeric:tabular-nums;"
    "white-space:nowrap}\n"
    ".up{color:var(--neg);font-weight:600;white-space:nowrap}"
    ".down{color:var(--pos);font-weight:600;white-space:nowrap}\n"
    "blockquote{margin:.2em 0 .5em 0;padding:.1em .6em;border-left:3px "
    "solid var(--line);overflow-wrap:anywhere}\n"
    "ol.req>li{margin-bottom:.6em}\n"
    ".area{border-top:1px solid var(--line);padding-top:.3em}\n"
    "svg{max-width:100%;height:auto}\nsvg text{font:12px sans-serif;"
    "fill:var(--ink)}\n"
    ".chart{overflow-x:auto}.chart svg{min-width:560px}\n"
    "li{overflow-wrap:anywhere}\n"
    "td.t{overflow-wrap:anywhere;min-width:16em}\n"
    "@media (max-width:600px){body{padding:8px;font-size:14px}"
    ".card{min-width:45%}}\n"
    "@media print{body{max-width:none;padding:0;font-size:10.5pt}"
    "h2,h3{break-after:avoid}tr,blockquote,li,svg,.card{break-inside:avoid}"
    ".scroll,.chart{overflow:visible}.chart svg{min-width:0}"
    "th{background:none}.card{background:none}}\n";

/* ---- charts ------------------------------------------------------------- */

static void svg_open(fmi_out *o, double w, double hgt, const char *label) {
  fmi_out_s(o, "<div class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ");
  fmi_out_dbl(o, w, 0);
  fmi_out_c(o, ' ');
  fmi_out_dbl(o, hgt, 0);
  fmi_out_s(o, "\" width=\"");
  fmi_out_dbl(o, w, 0);
  fmi_out_s(o, "\" role=\"img\" aria-label=\"");
  h(o, label);
  fmi_out_s(o, "\"><title>");
  h(o, label);
  fmi_out_s(o, "</title>\n");
}

static void rect(fmi_out *o, double x, double y, double w, double hh,
                 const char *fill) {
  if (w <= 0) return;
  fmi_out_s(o, "<rect x=\"");
  fmi_out_dbl(o, x, 1);
  fmi_out_s(o, "\" y=\"");
  fmi_out_dbl(o, y, 1);
  fmi_out_s(o, "\" width=\"");
  fmi_out_dbl(o, w, 1);
  fmi_out_s(o, "\" height=\"");
  fmi_out_dbl(o, hh, 1);
  fmi_out_s(o, "\" fill=\"");
  fmi_out_s(o, fill); /* a constant of this file */
  fmi_out_s(o, "\"/>");
}

static void text_at(fmi_out *o, double x, double y, const char *anchor,
                    const char *s) {
  fmi_out_s(o, "<text x=\"");
  fmi_out_dbl(o, x, 1);
  fmi_out_s(o, "\" y=\"");
  fmi_out_dbl(o, y, 1);
  fmi_out_s(o, "\" text-anchor=\"");
  fmi_out_s(o, anchor);
  fmi_out_s(o, "\">");
  h(o, s);
  fmi_out_s(o, "</text>");
}

static const char *sent_color(const fm_agg *a, size_t label) {
  const char *name = a->heads[a->h_sent].labels[label];
  if (!strcmp(name, "negative")) return "#c0392b";
  if (!strcmp(name, "positive")) return "#2e8b57";
  return "#9aa5ad";
}

/* Areas by priority, each bar split by the sentiment of its items. */
static void chart_priority(const fmi_report *rep, fmi_out *o) {
  const fm_agg *a = rep->agg;
  size_t i, k, n = 0, row = 0;
  double max = 0, W = 720, L = 190, B = 450, RH = 24, top = 26;
  char num[32];
  for (i = 0; i < rep->n_areas; i++)
    if (rep->areas[i].count) {
      n++;
      if (rep->areas[i].priority > max) max = rep->areas[i].priority;
    }
  if (!n || !(max > 0)) return;
  svg_open(o, W, top + RH * (double)n + 6,
           "Product areas by priority, bars split by sentiment");
  if (a->h_sent >= 0) {
    double x = L;
    for (k = 0; k < a->heads[a->h_sent].n_labels; k++) {
      rect(o, x, 6, 12, 12, sent_color(a, k));
      text_at(o, x + 16, 16, "start", a->heads[a->h_sent].labels[k]);
      x += 110;
    }
  }
  fmi_out_c(o, '\n');
  for (i = 0; i < rep->n_areas; i++) {
    const fmi_rep_area *ra = &rep->areas[i];
    double y = top + RH * (double)row, w = ra->priority / max * B, x = L;
    if (!ra->count) continue;
    row++;
    text_at(o, L - 8, y + 16, "end", ra->name);
    if (a->h_sent >= 0 && ra->sent_tagged) {
      for (k = 0; k < a->heads[a->h_sent].n_labels; k++) {
        double part = w * (double)ra->sents[k] / (double)ra->sent_tagged;
        rect(o, x, y + 4, part, RH - 8, sent_color(a, k));
        x += part;
      }
      if (x < L + w) rect(o, x, y + 4, L + w - x, RH - 8, "#d9dee4");
    } else {
      rect(o, x, y + 4, w, RH - 8, "#2f6fb3");
    }
    fmi_fmt_double(num, sizeof num, ra->priority, 1);
    text_at(o, L + w + 6, y + 16, "start", num);
    fmi_out_c(o, '\n');
  }
  fmi_out_s(o, "</svg></div>\n");
}

/* A sparkline of an area's counts: the previous period in grey, this one
 * in blue, on one scale. */
static void sparkline(const fmi_report *rep, fmi_out *o, const uint64_t *v) {
  const fm_agg *a = rep->agg;
  size_t i, n = a->n_slots, first = a->compare ? 0 : n, total = 2 * n;
  uint64_t max = 1;
  double W = 120, H = 26, step;
  for (i = first; i < total; i++)
    if (v[i] > max) max = v[i];
  step = total - first > 1 ? W / (double)(total - first - 1) : W;
  fmi_out_s(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 120 "
               "26\" width=\"120\" height=\"26\" role=\"img\" "
               "aria-label=\"trend\">");
  if (a->compare) {
    fmi_out_s(o, "<line x1=\"");
    fmi_out_dbl(o, step * (double)(n - 1) + step / 2, 1);
    fmi_out_s(o, "\" x2=\"");
    fmi_out_dbl(o, step * (double)(n - 1) + step / 2, 1);
    fmi_out_s(o, "\" y1=\"0\" y2=\"26\" stroke=\"#d9dee4\"/>");
  }
  for (i = 0; i < 2; i++) {
    size_t lo = i == 0 ? first : n, hi = i == 0 ? n : total, k;
    if (lo >= hi) continue;
    fmi_out_s(o, "<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"");
    fmi_out_s(o, i == 0 ? "#9aa5ad" : "#2f6fb3");
    fmi_out_s(o, "\" points=\"");
    for (k = lo; k < hi; k++) {
      if (k > lo) fmi_out_c(o, ' ');
      fmi_out_dbl(o, step * (double)(k - first), 1);
      fmi_out_c(o, ',');
      fmi_out_dbl(o, 24.0 - 22.0 * (double)v[k] / (double)max, 1);
    }
    fmi_out_s(o, "\"/>");
  }
  (void)H;
  fmi_out_s(o, "</svg>");
}

/* NPS impact: diverging bars around zero. */
static void chart_impact(const fmi_report *rep, fmi_out *o) {
  size_t i, n = 0, row = 0;
  double max = 0, W = 720, L = 190, half = 220, RH = 22, mid;
  char num[32];
  for (i = 0; i < rep->n_areas; i++)
    if (rep->areas[i].has_impact) {
      n++;
      if (fabs(rep->areas[i].impact) > max) max = fabs(rep->areas[i].impact);
    }
  if (!n) return;
  if (!(max > 0)) max = 1;
  mid = L + half + 30;
  svg_open(o, W, RH * (double)n + 10,
           "NPS impact by area: points of NPS each area costs or adds");
  fmi_out_s(o, "<line x1=\"");
  fmi_out_dbl(o, mid, 1);
  fmi_out_s(o, "\" x2=\"");
  fmi_out_dbl(o, mid, 1);
  fmi_out_s(o, "\" y1=\"0\" y2=\"");
  fmi_out_dbl(o, RH * (double)n + 10, 1);
  fmi_out_s(o, "\" stroke=\"#5f6b7a\"/>\n");
  for (i = 0; i < rep->n_areas; i++) {
    const fmi_rep_area *ra = &rep->areas[i];
    double y = 4 + RH * (double)row, w;
    if (!ra->has_impact) continue;
    row++;
    w = fabs(ra->impact) / max * half;
    text_at(o, L - 8, y + 15, "end", ra->name);
    if (ra->impact < 0) rect(o, mid - w, y + 3, w, RH - 6, "#c0392b");
    else rect(o, mid, y + 3, w, RH - 6, "#2e8b57");
    num[0] = 0;
    if (ra->impact > 0.04999) {
      num[0] = '+';
      fmi_fmt_double(num + 1, sizeof num - 1, ra->impact, 1);
    } else {
      fmi_fmt_double(num, sizeof num, ra->impact, 1);
    }
    text_at(o, ra->impact < 0 ? mid - w - 4 : mid + w + 4, y + 15,
            ra->impact < 0 ? "end" : "start", num);
    fmi_out_c(o, '\n');
  }
  fmi_out_s(o, "</svg></div>\n");
}

/* Churn and lost-deal reasons by revenue: churned MRR and lost deal value
 * side by side, each on its own scale (they are different money); by
 * count when no revenue is known. */
static void chart_reasons(const fmi_report *rep, fmi_out *o) {
  size_t i, n = 0, row = 0, p;
  double max[2] = {0, 0}, W = 720, L = 170, B = 230, RH = 22, top = 22;
  static const unsigned src[2] = {FMI_SRC_CHURN, FMI_SRC_LOST_DEAL};
  static const char *const head[2] = {"churned revenue", "lost deal value"};
  static const char *const color[2] = {"#8e44ad", "#d35400"};
  int by_rev[2];
  char num[48];
  for (p = 0; p < 2; p++)
    by_rev[p] = rep->reason_revenue_cents[src[p]] > 0;
  for (i = 0; i < rep->n_reasons; i++) {
    const fmi_rep_reason *rr = &rep->reasons[i];
    if (!rr->count) continue;
    n++;
    for (p = 0; p < 2; p++) {
      double v = by_rev[p] ? (double)rr->revenue_cents[src[p]]
                           : (double)rr->sources[src[p]];
      if (v > max[p]) max[p] = v;
    }
  }
  if (!n) return;
  svg_open(o, W, top + RH * (double)n + 8,
           "Churn and lost-deal reasons: churned revenue and lost deal value");
  for (p = 0; p < 2; p++)
    text_at(o, L + (double)p * (B + 45), 14, "start",
            by_rev[p] ? head[p] : (p ? "lost deals" : "churned accounts"));
  fmi_out_c(o, '\n');
  for (i = 0; i < rep->n_reasons; i++) {
    const fmi_rep_reason *rr = &rep->reasons[i];
    double y = top + RH * (double)row;
    if (!rr->count) continue;
    row++;
    text_at(o, L - 8, y + 15, "end", rr->name);
    for (p = 0; p < 2; p++) {
      double x0 = L + (double)p * (B + 45);
      double v = by_rev[p] ? (double)rr->revenue_cents[src[p]]
                           : (double)rr->sources[src[p]];
      double w = max[p] > 0 ? v / max[p] * (B - 60) : 0;
      rect(o, x0, y + 3, w, RH - 6, color[p]);
      if (by_rev[p]) {
        fmi_out tmp;
        memset(&tmp, 0, sizeof tmp);
        fmi_rep_money_text(&tmp, rr->revenue_cents[src[p]]);
        snprintf(num, sizeof num, "%s", tmp.b.data ? tmp.b.data : "");
        fmi_out_free(&tmp);
      } else {
        snprintf(num, sizeof num, "%llu",
                 (unsigned long long)rr->sources[src[p]]);
      }
      text_at(o, x0 + w + 4, y + 15, "start", num);
    }
    fmi_out_c(o, '\n');
  }
  fmi_out_s(o, "</svg></div>\n");
}

/* ---- sections ------------------------------------------------------------ */

static void card_u64(fmi_out *o, const char *label, uint64_t v) {
  fmi_out_s(o, "<div class=\"card\"><b>");
  fmi_out_u64(o, v);
  fmi_out_s(o, "</b>");
  fmi_out_s(o, label);
  fmi_out_s(o, "</div>");
}

static void summary(const fmi_report *rep, fmi_out *o) {
  const fm_agg *a = rep->agg;
  size_t i, s;
  uint64_t tot[FMI_N_SRC + 1] = {0};
  fmi_out_s(o, "<section id=\"summary\"><h2>Summary</h2>\n<div "
               "class=\"cards\">");
  fmi_out_s(o, "<div class=\"card\"><b>");
  fmi_out_u64(o, rep->items[FMI_CUR]);
  fmi_out_s(o, "</b>items");
  if (a->compare) {
    fmi_out_s(o, " <span class=\"src\">(");
    fmi_rep_change_text(o, &html_style, rep->items[FMI_CUR],
                        rep->items[FMI_PREV]);
    fmi_out_s(o, " vs ");
    fmi_out_u64(o, rep->items[FMI_PREV]);
    fmi_out_s(o, ")</span>");
  }
  fmi_out_s(o, "</div><div class=\"card\"><b>");
  if (rep->has_nps[FMI_CUR]) fmi_rep_signed1(o, rep->nps[FMI_CUR]);
  else fmi_out_s(o, "&ndash;");
  fmi_out_s(o, "</b>NPS");
  if (rep->has_nps[FMI_CUR]) {
    fmi_out_s(o, " <span class=\"src\">(");
    fmi_out_u64(o, rep->nps_n[FMI_CUR]);
    fmi_out_s(o, " answers");
    if (a->compare && rep->has_nps[FMI_PREV]) {
      fmi_out_s(o, "; previous ");
      fmi_rep_signed1(o, rep->nps[FMI_PREV]);
    }
    fmi_out_s(o, ")</span>");
  }
  fmi_out_s(o, "</div><div class=\"card\"><b>");
  if (rep->sent_tagged)
    fmi_rep_pct(o, (double)rep->negative / (double)rep->sent_tagged);
  else
    fmi_out_s(o, "&ndash;");
  fmi_out_s(o, "</b>negative</div>");
  card_u64(o, "tagged with confidence (every head)",
           rep->items[FMI_CUR] - rep->review_any);
  card_u64(o, "need review (some head)", rep->review_any);
  {
    size_t hh;
    for (hh = 0; hh < a->n_heads; hh++) {
      uint64_t t = rep->tagged_by_head[hh], r = rep->review_by_head[hh];
      if (!t) continue;
      fmi_out_s(o, "<div class=\"card\"><b>");
      fmi_rep_pct(o, (double)(t - r) / (double)t);
      fmi_out_s(o, "</b>");
      h(o, a->heads[hh].name);
      fmi_out_s(o, " tags confident <span class=\"src\">(");
      fmi_out_u64(o, t - r);
      fmi_out_s(o, " of ");
      fmi_out_u64(o, t);
      fmi_out_s(o, ")</span></div>");
    }
  }
  card_u64(o, "accounts", rep->accounts);
  fmi_out_s(o, "<div class=\"card\"><b>");
  fmi_rep_money_text(o, rep->revenue_cents);
  fmi_out_s(o, "</b>revenue of these accounts</div></div>\n");

  fmi_out_s(o, "<h3>Items by language and source</h3>\n<div "
               "class=\"scroll\"><table><thead><tr><th>language</th>");
  for (s = 0; s < FMI_N_SRC; s++) {
    fmi_out_s(o, "<th class=\"n\">");
    h(o, fmi_agg_source_names[s]);
    fmi_out_s(o, "</th>");
  }
  fmi_out_s(o, "<th class=\"n\">total</th></tr></thead><tbody>\n");
  for (i = 0; i < a->n_langs; i++) {
    const fmi_agg_lang *l = &a->langs[i];
    uint64_t t = fmi_rep_lang_items(l);
    if (!t) continue;
    fmi_out_s(o, "<tr><td>");
    h(o, l->lang);
    fmi_out_s(o, "</td>");
    for (s = 0; s < FMI_N_SRC; s++) {
      num_td(o, l->items[FMI_CUR][s]);
      tot[s] += l->items[FMI_CUR][s];
    }
    tot[FMI_N_SRC] += t;
    num_td(o, t);
    fmi_out_s(o, "</tr>\n");
  }
  fmi_out_s(o, "<tr><th>all</th>");
  for (s = 0; s <= FMI_N_SRC; s++) {
    fmi_out_s(o, "<th class=\"n\">");
    fmi_out_u64(o, tot[s]);
    fmi_out_s(o, "</th>");
  }
  fmi_out_s(o, "</tr></tbody></table></div></section>\n");
}

static void method(const fmi_report *rep, fmi_out *o) {
  fmi_out_s(o, "<p class=\"note\">");
  fmi_rep_method(rep, &html_style, o);
  fmi_out_s(o, "</p>\n");
}

static void areas(const fmi_report *rep, fmi_out *o) {
  const fm_agg *a = rep->agg;
  size_t i;
  fmi_out_s(o, "<section id=\"areas\"><h2>Product areas by priority</h2>\n");
  chart_priority(rep, o);
  method(rep, o);
  fmi_out_s(o, "<div class=\"scroll\"><table><thead><tr><th "
               "class=\"n\">#</th><th>area</th><th class=\"n\">priority</th>"
               "<th class=\"n\">items</th>");
  if (a->compare)
    fmi_out_s(o, "<th class=\"n\">previous</th><th>trend</th><th "
                 "class=\"n\">p</th>");
  fmi_out_s(o, a->slot_secs == 86400 ? "<th>items per day</th>"
               : a->slot_secs == 7 * 86400 ? "<th>items per week</th>"
                                          : "<th>items per 30 days</th>");
  fmi_out_s(o, "<th class=\"n\">negative</th><th "
               "class=\"n\">accounts</th><th class=\"n\">revenue</th><th "
               "class=\"n\">NPS</th><th class=\"n\">NPS impact</th></tr>"
               "</thead><tbody>\n");
  for (i = 0; i < rep->n_areas; i++) {
    const fmi_rep_area *ra = &rep->areas[i];
    if (!ra->count && !ra->prev) continue;
    fmi_out_s(o, "<tr>");
    num_td(o, i + 1);
    fmi_out_s(o, "<td><a href=\"#area-");
    fmi_out_u64(o, ra->label);
    fmi_out_s(o, "\">");
    h(o, ra->name);
    fmi_out_s(o, "</a></td><td class=\"n\">");
    fmi_out_dbl(o, ra->priority, 1);
    fmi_out_s(o, "</td>");
    num_td(o, ra->count);
    if (a->compare) {
      num_td(o, ra->prev);
      fmi_out_s(o, ra->trend > 0 ? "<td class=\"up\">rising &uarr;</td>"
                   : ra->trend < 0 ? "<td class=\"down\">falling &darr;</td>"
                                   : "<td>&ndash;</td>");
      fmi_out_s(o, "<td class=\"n\">");
      fmi_rep_p(o, &html_style, ra->p_value);
      fmi_out_s(o, "</td>");
    }
    fmi_out_s(o, "<td>");
    sparkline(rep, o, ra->slots);
    fmi_out_s(o, "</td><td class=\"n\">");
    fmi_rep_pct(o, ra->neg_share);
    fmi_out_s(o, "</td>");
    num_td(o, ra->accounts);
    fmi_out_s(o, "<td class=\"n\">");
    fmi_rep_money_text(o, ra->revenue_cents);
    fmi_out_s(o, "</td><td class=\"n\">");
    if (ra->has_nps) {
      fmi_rep_signed1(o, ra->nps);
      fmi_out_s(o, " <span class=\"src\">(");
      fmi_out_u64(o, ra->nps_n);
      fmi_out_s(o, ")</span>");
    } else {
      fmi_out_s(o, "&ndash;");
    }
    fmi_out_s(o, "</td><td class=\"n\">");
    if (ra->has_impact) fmi_rep_signed1(o, ra->impact);
    else fmi_out_s(o, "&ndash;");
    fmi_out_s(o, "</td></tr>\n");
  }
  fmi_out_s(o, "</tbody></table></div>\n");
  if (rep->has_nps[FMI_CUR]) {
    fmi_out_s(o, "<h3>NPS impact</h3>\n");
    chart_impact(rep, o);
  }
  fmi_out_s(o, "</section>\n");
}

static void counts_list(fmi_out *o, const char *what, const fmi_agg_headdef *hd,
                        const uint64_t *v) {
  if (!hd) return;
  fmi_out_s(o, "<li>");
  fmi_out_s(o, what);
  fmi_out_s(o, ": ");
  if (!fmi_rep_counts(o, &html_style, (const char *const *)hd->labels, v,
                      hd->n_labels))
    fmi_out_s(o, "&ndash;");
  fmi_out_s(o, "</li>");
}

static void verbatim(fmi_out *o, fmi_buf *tmp, const fmi_agg_kept *k) {
  fmi_rep_excerpt(k->text, k->truncated, 280, tmp);
  fmi_out_s(o, "<blockquote>");
  html_text(o, tmp->data ? tmp->data : "", tmp->len);
  fmi_out_s(o, " <span class=\"src\">&mdash; ");
  fmi_rep_attribution(o, &html_style, k);
  fmi_out_s(o, "</span></blockquote>\n");
}

static void requirements(const fmi_report *rep, fmi_out *o, fmi_buf *tmp) {
  const fm_agg *a = rep->agg;
  size_t i, k;
  fmi_out_s(o, "<section id=\"requirements\"><h2>Requirements by area</h2>\n"
               "<p class=\"note\">");
  fmi_rep_requirements_note(rep, &html_style, o);
  fmi_out_s(o, "</p>\n");
  for (i = 0; i < rep->n_areas; i++) {
    const fmi_rep_area *ra = &rep->areas[i];
    if (!ra->count) continue;
    fmi_out_s(o, "<div class=\"area\" id=\"area-");
    fmi_out_u64(o, ra->label);
    fmi_out_s(o, "\"><h3>");
    fmi_out_u64(o, i + 1);
    fmi_out_s(o, ". ");
    h(o, ra->name);
    fmi_out_s(o, "</h3><ul><li>Items: ");
    fmi_out_u64(o, ra->count);
    fmi_out_s(o, " (");
    fmi_rep_counts(o, &html_style, fmi_agg_source_names,
                   ra->cur_counts->sources, FMI_N_SRC);
    fmi_out_s(o, ")</li>");
    counts_list(o, "Kinds", a->h_kind >= 0 ? &a->heads[a->h_kind] : NULL,
                ra->kinds);
    counts_list(o, "Sentiment", a->h_sent >= 0 ? &a->heads[a->h_sent] : NULL,
                ra->sents);
    fmi_out_s(o, "<li>");
    fmi_rep_priority(o, &html_style, ra);
    fmi_out_s(o, "</li><li>Accounts: ");
    fmi_out_u64(o, ra->accounts);
    fmi_out_s(o, ", revenue ");
    fmi_rep_money_text(o, ra->revenue_cents);
    fmi_out_s(o, "</li>");
    if (ra->has_nps) {
      fmi_out_s(o, "<li>");
      fmi_rep_area_nps(o, ra);
      fmi_out_s(o, "</li>");
    }
    if (a->compare) {
      fmi_out_s(o, "<li>");
      fmi_rep_area_trend(o, &html_style, ra);
      fmi_out_s(o, ra->trend > 0 ? ", <span class=\"up\">rising</span>)"
                   : ra->trend < 0 ? ", <span class=\"down\">falling</span>)"
                                   : ", not significant)");
      fmi_out_s(o, "</li>");
    }
    fmi_out_s(o, "<li>Feature requests and complaints: ");
    fmi_out_u64(o, ra->requests);
    fmi_out_s(o, "</li></ul>\n");
    if (!ra->n_phrases) {
      fmi_out_s(o, "<p class=\"note\">No distinctive phrase yet.</p>");
    } else {
      fmi_out_s(o, "<ol class=\"req\">\n");
      for (k = 0; k < ra->n_phrases; k++) {
        const fmi_rep_phrase *ph = &ra->phrases[k];
        size_t v;
        fmi_out_s(o, "<li><b>");
        h(o, ph->p->surface);
        fmi_out_s(o, "</b> &mdash; ");
        fmi_rep_phrase_counts(o, ph);
        fmi_out_s(o, ", <span class=\"src\">z = ");
        fmi_out_dbl(o, ph->z, 2);
        fmi_out_s(o, "</span>\n");
        for (v = 0; v < ph->n_verbatims; v++) verbatim(o, tmp, ph->verbatims[v]);
        fmi_out_s(o, "</li>\n");
      }
      fmi_out_s(o, "</ol>");
    }
    fmi_out_s(o, "</div>\n");
  }
  fmi_out_s(o, "</section>\n");
}

static void reasons(const fmi_report *rep, fmi_out *o) {
  const fm_agg *a = rep->agg;
  size_t i;
  if (!rep->n_reasons) return;
  fmi_out_s(o, "<section id=\"reasons\"><h2>Churn and lost-deal "
               "reasons</h2>\n");
  chart_reasons(rep, o);
  fmi_out_s(o, "<p class=\"note\">Churned revenue is the accounts' monthly "
               "revenue; lost deal value is the deals' amount. They are kept "
               "apart.</p>\n<div class=\"scroll\"><table><thead><tr><th>"
               "reason</th><th class=\"n\">churn</th><th class=\"n\">churned "
               "revenue</th><th class=\"n\">lost deals</th><th class=\"n\">"
               "lost deal value</th>");
  if (a->compare) fmi_out_s(o, "<th class=\"n\">previous</th>");
  fmi_out_s(o, "<th>areas cited</th></tr></thead><tbody>\n");
  for (i = 0; i < rep->n_reasons; i++) {
    const fmi_rep_reason *rr = &rep->reasons[i];
    if (!rr->count && !rr->prev) continue;
    fmi_out_s(o, "<tr><td>");
    h(o, rr->name);
    fmi_out_s(o, "</td>");
    num_td(o, rr->sources[FMI_SRC_CHURN]);
    fmi_out_s(o, "<td class=\"n\">");
    fmi_rep_money_text(o, rr->revenue_cents[FMI_SRC_CHURN]);
    fmi_out_s(o, "</td>");
    num_td(o, rr->sources[FMI_SRC_LOST_DEAL]);
    fmi_out_s(o, "<td class=\"n\">");
    fmi_rep_money_text(o, rr->revenue_cents[FMI_SRC_LOST_DEAL]);
    fmi_out_s(o, "</td>");
    if (a->compare) num_td(o, rr->prev);
    fmi_out_s(o, "<td>");
    fmi_rep_top_areas(o, &html_style, a, rr);
    fmi_out_s(o, "</td></tr>\n");
  }
  fmi_out_s(o, "</tbody></table></div><p>Churned revenue: ");
  fmi_rep_money_text(o, rep->reason_revenue_cents[FMI_SRC_CHURN]);
  fmi_out_s(o, "; lost deal value: ");
  fmi_rep_money_text(o, rep->reason_revenue_cents[FMI_SRC_LOST_DEAL]);
  fmi_out_s(o, "</p></section>\n");
}

static void emerging(const fmi_report *rep, fmi_out *o) {
  size_t i;
  if (!rep->agg->compare) return;
  fmi_out_s(o, "<section id=\"emerging\"><h2>Emerging phrases</h2>\n<p "
               "class=\"note\">");
  fmi_rep_emerging_note(rep, &html_style, o);
  fmi_out_s(o, "</p>\n");
  if (!rep->n_emerging) {
    fmi_out_s(o, "<p>None this period.</p></section>\n");
    return;
  }
  fmi_out_s(o, "<div class=\"scroll\"><table><thead><tr><th>phrase</th><th "
               "class=\"n\">items</th><th class=\"n\">previous</th><th "
               "class=\"n\">z</th><th>first seen</th></tr></thead><tbody>\n");
  for (i = 0; i < rep->n_emerging; i++) {
    const fmi_rep_phrase *ph = &rep->emerging[i];
    char day[11];
    fmi_out_s(o, "<tr><td>");
    h(o, ph->p->surface);
    fmi_out_s(o, "</td>");
    num_td(o, ph->count);
    num_td(o, ph->other);
    fmi_out_s(o, "<td class=\"n\">");
    fmi_out_dbl(o, ph->z, 2);
    fmi_agg_format_day(ph->p->first_day, day);
    fmi_out_s(o, "</td><td>");
    fmi_out_s(o, day);
    fmi_out_s(o, "</td></tr>\n");
  }
  fmi_out_s(o, "</tbody></table></div></section>\n");
}

static void review(const fmi_report *rep, fmi_out *o, fmi_buf *tmp) {
  const fm_agg *a = rep->agg;
  size_t i, hh;
  fmi_out_s(o, "<section id=\"review\"><h2>Review queue</h2>\n<p>Items of "
               "the period below a head's confidence threshold, by "
               "language:</p>\n<div class=\"scroll\"><table><thead><tr>"
               "<th>language</th><th class=\"n\">items</th>");
  for (hh = 0; hh < a->n_heads; hh++) {
    fmi_out_s(o, "<th class=\"n\">");
    h(o, a->heads[hh].name);
    fmi_out_s(o, "</th>");
  }
  fmi_out_s(o, "<th class=\"n\">any head</th></tr></thead><tbody>\n");
  for (i = 0; i < a->n_langs; i++) {
    const fmi_agg_lang *l = &a->langs[i];
    uint64_t t = fmi_rep_lang_items(l);
    if (!t) continue;
    fmi_out_s(o, "<tr><td>");
    h(o, l->lang);
    fmi_out_s(o, "</td>");
    num_td(o, t);
    for (hh = 0; hh < a->n_heads; hh++)
      num_td(o, l->review[FMI_CUR * a->n_heads + hh]);
    num_td(o, l->review_any[FMI_CUR]);
    fmi_out_s(o, "</tr>\n");
  }
  fmi_out_s(o, "<tr><th>all</th><th class=\"n\">");
  fmi_out_u64(o, rep->items[FMI_CUR]);
  fmi_out_s(o, "</th>");
  for (hh = 0; hh < a->n_heads; hh++) {
    fmi_out_s(o, "<th class=\"n\">");
    fmi_out_u64(o, rep->review_by_head[hh]);
    fmi_out_s(o, "</th>");
  }
  fmi_out_s(o, "<th class=\"n\">");
  fmi_out_u64(o, rep->review_any);
  fmi_out_s(o, "</th></tr></tbody></table></div>\n");
  if (a->review.n) {
    fmi_out_s(o, "<h3>The ");
    fmi_out_u64(o, a->review.n);
    fmi_out_s(o, " least certain items, to label next</h3>\n<div "
                 "class=\"scroll\"><table><thead><tr><th class=\"n\">#</th>"
                 "<th class=\"n\">lowest probability</th><th>source</th>"
                 "<th>id</th><th>language</th><th>date</th>");
    for (hh = 0; hh < a->n_heads; hh++) {
      fmi_out_s(o, "<th>");
      h(o, a->heads[hh].name);
      fmi_out_s(o, "</th>");
    }
    fmi_out_s(o, "<th>text</th></tr></thead><tbody>\n");
    for (i = 0; i < a->review.n; i++) {
      const fmi_agg_kept *k = &a->review.items[i];
      char date[11];
      fmi_out_s(o, "<tr>");
      num_td(o, i + 1);
      fmi_out_s(o, "<td class=\"n\">");
      fmi_out_dbl(o, fmi_rep_min_prob(a, k), 3);
      fmi_out_s(o, "</td><td>");
      h(o, fmi_agg_source_names[k->source]);
      fmi_out_s(o, "</td><td>");
      h(o, k->id[0] ? k->id : "-");
      fmi_out_s(o, "</td><td>");
      h(o, k->lang);
      fmi_rep_date(k->date, date);
      fmi_out_s(o, "</td><td>");
      fmi_out_s(o, date);
      fmi_out_s(o, "</td>");
      for (hh = 0; hh < a->n_heads; hh++) {
        fmi_out_s(o, "<td>");
        if (k->tags[hh]) h(o, fmi_rep_label(a, hh, k->tags[hh]));
        if (k->tags[hh]) {
          fmi_out_s(o, " <span class=\"src\">");
          fmi_out_dbl(o, k->ppm[hh] / 1e6, 2);
          fmi_out_s(o, "</span>");
        }
        fmi_out_s(o, "</td>");
      }
      fmi_rep_excerpt(k->text, k->truncated, 200, tmp);
      fmi_out_s(o, "<td class=\"t\">");
      html_text(o, tmp->data ? tmp->data : "", tmp->len);
      fmi_out_s(o, "</td></tr>\n");
    }
    fmi_out_s(o, "</tbody></table></div>\n");
  }
  fmi_out_s(o, "</section>\n");
}

fm_status fmi_report_html(const fmi_report *rep, fmi_out *o) {
  fmi_buf tmp = {NULL, 0, 0};
  fmi_out_s(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
               "charset=\"utf-8\">\n<meta name=\"viewport\" "
               "content=\"width=device-width, initial-scale=1\">\n<meta "
               "http-equiv=\"Content-Security-Policy\" content=\"default-src "
               "'none'; style-src 'unsafe-inline'; img-src data:; base-uri "
               "'none'; form-action 'none'\">\n<meta name=\"generator\" "
               "content=\"feedmine\">\n<title>");
  h(o, rep->opts.title);
  fmi_out_s(o, "</title>\n<style>\n");
  fmi_out_s(o, css);
  fmi_out_s(o, "</style>\n</head>\n<body>\n<header><h1>");
  h(o, rep->opts.title);
  fmi_out_s(o, "</h1>\n<p class=\"meta\">");
  fmi_rep_intro(rep, &html_style, o);
  fmi_out_s(o, "</p></header>\n");
  summary(rep, o);
  areas(rep, o);
  requirements(rep, o, &tmp);
  reasons(rep, o);
  emerging(rep, o);
  review(rep, o, &tmp);
  fmi_out_s(o, "<footer class=\"note\"><p>Written by feedmine. Text from "
               "customers is quoted redacted and escaped.</p></footer>\n"
               "</body>\n</html>\n");
  fmi_buf_free(&tmp);
  return o->failed ? FM_ENOMEM : FM_OK;
}
