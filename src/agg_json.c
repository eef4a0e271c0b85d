/*
 * agg_json.c -- fm_agg_serialize and fm_agg_deserialize: the aggregate as
 * canonical JSON (README "Aggregate format").
 *
 * Canonical means equal aggregates give equal bytes: keys in a fixed
 * order, accounts sorted by name, phrases by hash, requirement entries by
 * (area, hash), reservoirs best first, only integers and strings (64-bit
 * hashes and area masks as 16 hex digits, so JSON readers that hold
 * numbers in doubles lose nothing). It is written by hand; jansson parses
 * it back. The input of fm_agg_deserialize is untrusted: every value is
 * checked, and the invariants the rest of the code relies on (phrase
 * hashes match their stems, phrases kept at the sampling step, tables
 * within max_phrases, masks within the areas, reservoirs within their
 * capacity) are verified rather than assumed.
 *
 * jansson allocates with the process allocator (json_set_alloc_funcs is
 * process-wide and a library must not change it), so its memory failures
 * surface through json_error_code as FM_ENOMEM.
 */
#include "agg.h"
#include "out.h"

#include <jansson.h>
#include <stdlib.h>

#define AGG_FORMAT "feedmine-aggregate"
#define AGG_VERSION 1

/* ---- serialize ------------------------------------------------------------ */

static int cmp_account_ptr(const void *x, const void *y) {
  const fmi_agg_account *a = *(const fmi_agg_account *const *)x;
  const fmi_agg_account *b = *(const fmi_agg_account *const *)y;
  return strcmp(a->name, b->name);
}
static int cmp_phrase_ptr(const void *x, const void *y) {
  const fmi_agg_phrase *a = *(const fmi_agg_phrase *const *)x;
  const fmi_agg_phrase *b = *(const fmi_agg_phrase *const *)y;
  return a->hash < b->hash ? -1 : a->hash > b->hash;
}
static int cmp_req_ptr(const void *x, const void *y) {
  const fmi_agg_req *a = *(const fmi_agg_req *const *)x;
  const fmi_agg_req *b = *(const fmi_agg_req *const *)y;
  if (a->area != b->area) return a->area < b->area ? -1 : 1;
  return a->hash < b->hash ? -1 : a->hash > b->hash;
}

static void kept_json(fmi_out *o, const fm_agg *a, const fmi_agg_kept *k) {
  size_t h;
  fmi_out_s(o, "{\"key\":");
  fmi_out_u64(o, k->key);
  fmi_out_s(o, ",\"text_hash\":\"");
  fmi_out_hex64(o, k->text_hash);
  fmi_out_s(o, "\",\"text\":");
  fmi_out_json_cstr(o, k->text);
  fmi_out_s(o, ",\"truncated\":");
  fmi_out_u64(o, k->truncated ? 1 : 0);
  fmi_out_s(o, ",\"terms\":");
  if (k->terms) fmi_out_json_cstr(o, k->terms);
  else fmi_out_s(o, "null");
  fmi_out_s(o, ",\"id\":");
  fmi_out_json_cstr(o, k->id);
  fmi_out_s(o, ",\"account\":");
  fmi_out_json_cstr(o, k->account);
  fmi_out_s(o, ",\"lang\":");
  fmi_out_json_cstr(o, k->lang);
  fmi_out_s(o, ",\"source\":");
  fmi_out_json_cstr(o, fmi_agg_source_names[k->source]);
  fmi_out_s(o, ",\"date\":");
  fmi_out_i64(o, k->date);
  fmi_out_s(o, ",\"tags\":[");
  for (h = 0; h < a->n_heads; h++) {
    if (h) fmi_out_c(o, ',');
    fmi_out_c(o, '[');
    fmi_out_u64(o, k->tags[h]);
    fmi_out_c(o, ',');
    fmi_out_u64(o, k->ppm[h]);
    fmi_out_c(o, ']');
  }
  fmi_out_s(o, "]}");
}

static void reservoir_json(fmi_out *o, const fm_agg *a,
                           const fmi_agg_reservoir *r) {
  size_t i;
  fmi_out_c(o, '[');
  for (i = 0; i < r->n; i++) {
    fmi_out_s(o, i ? ",\n" : "\n");
    kept_json(o, a, &r->items[i]);
  }
  fmi_out_c(o, ']');
}

static void window_json(fmi_out *o, const fm_agg *a, unsigned w) {
  size_t h, i, n_kind, n_sent;
  n_kind = a->h_kind >= 0 ? a->heads[a->h_kind].n_labels : 0;
  n_sent = a->h_sent >= 0 ? a->heads[a->h_sent].n_labels : 0;
  fmi_out_s(o, "{\"items\":");
  fmi_out_json_u64s(o, a->items[w], FMI_N_SRC);
  fmi_out_s(o, ",\"nps\":");
  fmi_out_json_u64s(o, a->nps[w], FMI_N_NPS);
  fmi_out_s(o, ",\"labels\":[");
  for (h = 0; h < a->n_heads; h++) {
    if (h) fmi_out_c(o, ',');
    fmi_out_json_u64s(o, a->label_count + w * a->n_labels + a->heads[h].base,
                      a->heads[h].n_labels);
  }
  fmi_out_s(o, "],\"review\":[");
  for (h = 0; h < a->n_heads; h++) {
    if (h) fmi_out_c(o, ',');
    fmi_out_json_u64s(o, a->label_review + w * a->n_labels + a->heads[h].base,
                      a->heads[h].n_labels);
  }
  fmi_out_s(o, "],\n\"areas\":[");
  for (i = 0; i < a->n_area; i++) {
    const fmi_agg_area *ar = &a->areas[w * a->n_area + i];
    fmi_out_s(o, i ? ",\n" : "\n");
    fmi_out_s(o, "{\"count\":");
    fmi_out_u64(o, ar->count);
    fmi_out_s(o, ",\"sources\":");
    fmi_out_json_u64s(o, ar->sources, FMI_N_SRC);
    fmi_out_s(o, ",\"nps\":");
    fmi_out_json_u64s(o, ar->nps, FMI_N_NPS);
    fmi_out_s(o, ",\"kinds\":");
    fmi_out_json_u64s(o, a->area_kinds + (w * a->n_area + i) * n_kind, n_kind);
    fmi_out_s(o, ",\"sentiments\":");
    fmi_out_json_u64s(o, a->area_sents + (w * a->n_area + i) * n_sent, n_sent);
    fmi_out_s(o, ",\"slots\":");
    fmi_out_json_u64s(o, a->slots + i * 2 * a->n_slots + w * a->n_slots,
                      a->n_slots);
    fmi_out_c(o, '}');
  }
  fmi_out_s(o, "],\n\"all_slots\":");
  fmi_out_json_u64s(o, a->slots + a->n_area * 2 * a->n_slots + w * a->n_slots,
            a->n_slots);
  fmi_out_s(o, ",\n\"reasons\":[");
  for (i = 0; i < a->n_reason; i++) {
    const fmi_agg_reason *re = &a->reasons[w * a->n_reason + i];
    size_t s;
    fmi_out_s(o, i ? ",\n" : "\n");
    fmi_out_s(o, "{\"sources\":");
    fmi_out_json_u64s(o, re->sources, FMI_N_SRC);
    fmi_out_s(o, ",\"revenue_cents\":[");
    for (s = 0; s < FMI_N_SRC; s++) {
      if (s) fmi_out_c(o, ',');
      fmi_out_i64(o, re->revenue_cents[s]);
    }
    fmi_out_s(o, "],\"revenue_items\":");
    fmi_out_json_u64s(o, re->revenue_items, FMI_N_SRC);
    fmi_out_s(o, ",\"areas\":");
    fmi_out_json_u64s(o, a->reason_areas + (w * a->n_reason + i) * a->n_area,
              a->n_area);
    fmi_out_c(o, '}');
  }
  fmi_out_s(o, "]}");
}

static fm_status serialize(const fm_agg *a, fmi_out *o) {
  size_t h, l, i;
  const fmi_agg_account **acc = NULL;
  const fmi_agg_phrase **ph = NULL;
  const fmi_agg_req **rq = NULL;
  static const char *const wnames[] = {"ticket", "nps", "churn", "lost_deal",
                                       "other", "nps_detractor"};
  fmi_out_s(o, "{\"format\":\"" AGG_FORMAT "\",\"version\":");
  fmi_out_u64(o, AGG_VERSION);
  fmi_out_s(o, ",\n\"heads\":[");
  for (h = 0; h < a->n_heads; h++) {
    fmi_out_s(o, h ? ",\n" : "\n");
    fmi_out_s(o, "{\"name\":");
    fmi_out_json_cstr(o, a->heads[h].name);
    fmi_out_s(o, ",\"labels\":[");
    for (l = 0; l < a->heads[h].n_labels; l++) {
      if (l) fmi_out_c(o, ',');
      fmi_out_json_cstr(o, a->heads[h].labels[l]);
    }
    fmi_out_s(o, "]}");
  }
  fmi_out_s(o, "],\n\"period\":{\"since\":");
  fmi_out_i64(o, a->since);
  fmi_out_s(o, ",\"until\":");
  fmi_out_i64(o, a->until);
  fmi_out_s(o, a->compare ? ",\"compare\":\"previous\"}"
                          : ",\"compare\":\"none\"}");
  fmi_out_s(o, ",\n\"weights_milli\":{");
  for (i = 0; i <= FMI_N_SRC; i++) {
    if (i) fmi_out_c(o, ',');
    fmi_out_json_cstr(o, wnames[i]);
    fmi_out_c(o, ':');
    fmi_out_i64(o, a->weight_milli[i]);
  }
  fmi_out_s(o, "},\n\"limits\":{\"exemplars\":");
  fmi_out_u64(o, a->k_exemplars);
  fmi_out_s(o, ",\"review_items\":");
  fmi_out_u64(o, a->k_review);
  fmi_out_s(o, ",\"max_phrases\":");
  fmi_out_u64(o, a->max_phrases);
  fmi_out_s(o, "},\n\"dates\":");
  if (a->any_date) {
    fmi_out_s(o, "{\"first\":");
    fmi_out_i64(o, a->first_date);
    fmi_out_s(o, ",\"last\":");
    fmi_out_i64(o, a->last_date);
    fmi_out_c(o, '}');
  } else {
    fmi_out_s(o, "null");
  }
  fmi_out_s(o, ",\"undated\":");
  fmi_out_u64(o, a->undated);
  fmi_out_s(o, ",\"outside\":");
  fmi_out_u64(o, a->outside);
  fmi_out_s(o, ",\n\"period_counts\":");
  window_json(o, a, FMI_CUR);
  fmi_out_s(o, ",\n\"previous_counts\":");
  window_json(o, a, FMI_PREV);
  fmi_out_s(o, ",\n\"languages\":[");
  for (i = 0; i < a->n_langs; i++) {
    const fmi_agg_lang *lg = &a->langs[i];
    fmi_out_s(o, i ? ",\n" : "\n");
    fmi_out_s(o, "{\"lang\":");
    fmi_out_json_cstr(o, lg->lang);
    fmi_out_s(o, ",\"items\":[");
    fmi_out_json_u64s(o, lg->items[FMI_CUR], FMI_N_SRC);
    fmi_out_c(o, ',');
    fmi_out_json_u64s(o, lg->items[FMI_PREV], FMI_N_SRC);
    fmi_out_s(o, "],\"review_any\":");
    fmi_out_json_u64s(o, lg->review_any, FMI_N_WIN);
    fmi_out_s(o, ",\"review\":[");
    fmi_out_json_u64s(o, lg->review, a->n_heads);
    fmi_out_c(o, ',');
    fmi_out_json_u64s(o, lg->review + a->n_heads, a->n_heads);
    fmi_out_s(o, "]}");
  }
  fmi_out_s(o, "],\n\"accounts\":[");
  if (a->n_accounts) {
    acc = fmi_malloc(a->n_accounts * sizeof *acc);
    if (!acc) return FM_ENOMEM;
    for (i = 0; i < a->n_accounts; i++) acc[i] = &a->accounts[i];
    qsort(acc, a->n_accounts, sizeof *acc, cmp_account_ptr);
  }
  for (i = 0; i < a->n_accounts; i++) {
    const fmi_agg_account *e = acc[i];
    fmi_out_s(o, i ? ",\n[" : "\n[");
    fmi_out_json_cstr(o, e->name);
    fmi_out_c(o, ',');
    fmi_out_u64(o, e->active);
    fmi_out_s(o, ",\"");
    fmi_out_hex64(o, e->areas[FMI_CUR]);
    fmi_out_s(o, "\",\"");
    fmi_out_hex64(o, e->areas[FMI_PREV]);
    fmi_out_c(o, '"');
    if (e->has_revenue) {
      fmi_out_c(o, ',');
      fmi_out_i64(o, e->revenue_cents);
      fmi_out_c(o, ',');
      fmi_out_i64(o, e->revenue_date);
    }
    fmi_out_c(o, ']');
  }
  fmi_free(acc);
  fmi_out_s(o, "],\n\"phrase_sampling\":[");
  fmi_out_u64(o, a->sampling[1]);
  fmi_out_c(o, ',');
  fmi_out_u64(o, a->sampling[2]);
  fmi_out_c(o, ',');
  fmi_out_u64(o, a->sampling[3]);
  fmi_out_c(o, ']');
  fmi_out_s(o, ",\n\"phrases\":[");
  if (a->n_phrases) {
    ph = fmi_malloc(a->n_phrases * sizeof *ph);
    if (!ph) return FM_ENOMEM;
    for (i = 0; i < a->n_phrases; i++) ph[i] = &a->phrases[i];
    qsort(ph, a->n_phrases, sizeof *ph, cmp_phrase_ptr);
  }
  for (i = 0; i < a->n_phrases; i++) {
    const fmi_agg_phrase *p = ph[i];
    fmi_out_s(o, i ? ",\n[\"" : "\n[\"");
    fmi_out_hex64(o, p->hash);
    fmi_out_s(o, "\",");
    fmi_out_u64(o, p->order);
    fmi_out_c(o, ',');
    fmi_out_json_cstr(o, p->stems);
    fmi_out_c(o, ',');
    fmi_out_json_cstr(o, p->surface);
    fmi_out_c(o, ',');
    fmi_out_u64(o, p->df[FMI_CUR]);
    fmi_out_c(o, ',');
    fmi_out_u64(o, p->df[FMI_PREV]);
    fmi_out_c(o, ',');
    fmi_out_i64(o, p->first_day);
    fmi_out_c(o, ']');
  }
  fmi_free(ph);
  fmi_out_s(o, "],\n\"requirements\":[");
  if (a->n_reqs) {
    rq = fmi_malloc(a->n_reqs * sizeof *rq);
    if (!rq) return FM_ENOMEM;
    for (i = 0; i < a->n_reqs; i++) rq[i] = &a->reqs[i];
    qsort(rq, a->n_reqs, sizeof *rq, cmp_req_ptr);
  }
  for (i = 0; i < a->n_reqs; i++) {
    const fmi_agg_req *r = rq[i];
    size_t k;
    fmi_out_s(o, i ? ",\n[" : "\n[");
    fmi_out_u64(o, r->area);
    fmi_out_s(o, ",\"");
    fmi_out_hex64(o, r->hash);
    fmi_out_s(o, "\",");
    fmi_out_u64(o, r->order);
    fmi_out_c(o, ',');
    fmi_out_u64(o, r->df);
    fmi_out_s(o, ",[");
    for (k = 0; k < r->n_acc; k++) {
      if (k) fmi_out_c(o, ',');
      fmi_out_u64(o, r->acc[k]);
    }
    fmi_out_s(o, "]]");
  }
  fmi_free(rq);
  fmi_out_s(o, "],\n\"exemplars\":[");
  for (i = 0; i < a->n_area; i++) {
    if (i) fmi_out_s(o, ",\n");
    reservoir_json(o, a, &a->exemplars[i]);
  }
  fmi_out_s(o, "],\n\"review\":");
  reservoir_json(o, a, &a->review);
  fmi_out_s(o, "}\n");
  return o->failed ? FM_ENOMEM : FM_OK;
}

fm_status fm_agg_serialize(const fm_agg *a, char **data, size_t *len,
                           fm_error *err) {
  fmi_out o;
  if (!a || !data || !len)
    return fmi_fail(err, FM_EINVAL, "aggregate, data or len is NULL");
  *data = NULL;
  *len = 0;
  memset(&o, 0, sizeof o);
  if (serialize(a, &o) != FM_OK) {
    fmi_out_free(&o);
    return fmi_fail(err, FM_ENOMEM, "out of memory");
  }
  *data = o.b.data;
  *len = o.b.len;
  fmi_ok(err);
  return FM_OK;
}

/* ---- deserialize ------------------------------------------------------------ */

/* Parsing context: the first problem found is kept; `path` names where. */
typedef struct rd {
  fm_error *err;
  fm_status st;
  char path[96];
} rd;

static bool bad(rd *r, const char *what) {
  if (r->st == FM_OK)
    r->st = fmi_fail(r->err, FM_EPARSE, "aggregate: %s %s", r->path, what);
  return false;
}

static void at(rd *r, const char *fmt, size_t i) {
  snprintf(r->path, sizeof r->path, fmt, i);
}

static json_t *member(rd *r, json_t *obj, const char *key) {
  json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
  if (!v && r->st == FM_OK)
    r->st = fmi_fail(r->err, FM_EPARSE, "aggregate: %s: missing \"%s\"",
                     r->path, key);
  return v;
}

static bool get_u64(rd *r, json_t *v, uint64_t max, uint64_t *out) {
  json_int_t x;
  if (!json_is_integer(v)) return bad(r, "is not an integer");
  x = json_integer_value(v);
  if (x < 0 || (uint64_t)x > max) return bad(r, "is out of range");
  *out = (uint64_t)x;
  return true;
}

static bool get_i64(rd *r, json_t *v, int64_t lo, int64_t hi, int64_t *out) {
  json_int_t x;
  if (!json_is_integer(v)) return bad(r, "is not an integer");
  x = json_integer_value(v);
  if (x < lo || x > hi) return bad(r, "is out of range");
  *out = (int64_t)x;
  return true;
}

static bool get_str(rd *r, json_t *v, size_t max, const char **out,
                    size_t *len) {
  size_t n;
  if (!json_is_string(v)) return bad(r, "is not a string");
  n = json_string_length(v);
  if (n > max) return bad(r, "is too long");
  if (memchr(json_string_value(v), 0, n)) return bad(r, "holds a NUL byte");
  *out = json_string_value(v);
  if (len) *len = n;
  return true;
}

static bool get_hex64(rd *r, json_t *v, uint64_t *out) {
  const char *s;
  size_t n, i;
  uint64_t x = 0;
  if (!get_str(r, v, 16, &s, &n)) return false;
  if (n != 16) return bad(r, "is not 16 hex digits");
  for (i = 0; i < 16; i++) {
    char c = s[i];
    unsigned d;
    if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
    else return bad(r, "is not 16 lower-case hex digits");
    x = x << 4 | d;
  }
  *out = x;
  return true;
}

/* A JSON array of exactly n unsigned integers (each <= max). */
static bool get_u64s(rd *r, json_t *v, size_t n, uint64_t max, uint64_t *out) {
  size_t i;
  if (!json_is_array(v) || json_array_size(v) != n)
    return bad(r, "is not an array of the expected length");
  for (i = 0; i < n; i++)
    if (!get_u64(r, json_array_get(v, i), max, &out[i])) return false;
  return true;
}

/* Counters are capped so that sums of many merged aggregates stay far from
 * wrapping; 2^53 is also what JSON readers with doubles hold exactly. */
#define CMAX ((uint64_t)1 << 53)
#define CENTS_MAX ((int64_t)1 << 60)
#define TIME_MAX ((int64_t)253402300800)

static bool get_array(rd *r, json_t *v, size_t *n) {
  if (!json_is_array(v)) return bad(r, "is not an array");
  *n = json_array_size(v);
  return true;
}

static bool read_window(rd *r, fm_agg *a, json_t *win, unsigned w,
                        const char *wname) {
  size_t h, i, n, n_kind, n_sent;
  n_kind = a->h_kind >= 0 ? a->heads[a->h_kind].n_labels : 0;
  n_sent = a->h_sent >= 0 ? a->heads[a->h_sent].n_labels : 0;
  snprintf(r->path, sizeof r->path, "%s", wname);
  if (!json_is_object(win)) return bad(r, "is not an object");
  snprintf(r->path, sizeof r->path, "%s.items", wname);
  if (!get_u64s(r, member(r, win, "items"), FMI_N_SRC, CMAX, a->items[w]))
    return false;
  snprintf(r->path, sizeof r->path, "%s.nps", wname);
  if (!get_u64s(r, member(r, win, "nps"), FMI_N_NPS, CMAX, a->nps[w]))
    return false;
  for (i = 0; i < 2; i++) {
    const char *key = i ? "review" : "labels";
    uint64_t *dst = i ? a->label_review : a->label_count;
    json_t *arr;
    snprintf(r->path, sizeof r->path, "%s.%s", wname, key);
    arr = member(r, win, key);
    if (!get_array(r, arr, &n)) return false;
    if (n != a->n_heads) return bad(r, "does not have one entry per head");
    for (h = 0; h < a->n_heads; h++)
      if (!get_u64s(r, json_array_get(arr, h), a->heads[h].n_labels, CMAX,
                    dst + w * a->n_labels + a->heads[h].base))
        return false;
  }
  {
    json_t *arr;
    snprintf(r->path, sizeof r->path, "%s.areas", wname);
    arr = member(r, win, "areas");
    if (!get_array(r, arr, &n)) return false;
    if (n != a->n_area) return bad(r, "does not have one entry per area");
    for (i = 0; i < a->n_area; i++) {
      json_t *e = json_array_get(arr, i);
      fmi_agg_area *ar = &a->areas[w * a->n_area + i];
      snprintf(r->path, sizeof r->path, "%s.areas[%zu]", wname, i);
      if (!json_is_object(e)) return bad(r, "is not an object");
      if (!get_u64(r, member(r, e, "count"), CMAX, &ar->count) ||
          !get_u64s(r, member(r, e, "sources"), FMI_N_SRC, CMAX,
                    ar->sources) ||
          !get_u64s(r, member(r, e, "nps"), FMI_N_NPS, CMAX, ar->nps) ||
          !get_u64s(r, member(r, e, "kinds"), n_kind, CMAX,
                    a->area_kinds + (w * a->n_area + i) * n_kind) ||
          !get_u64s(r, member(r, e, "sentiments"), n_sent, CMAX,
                    a->area_sents + (w * a->n_area + i) * n_sent) ||
          !get_u64s(r, member(r, e, "slots"), a->n_slots, CMAX,
                    a->slots + i * 2 * a->n_slots + w * a->n_slots))
        return false;
    }
  }
  snprintf(r->path, sizeof r->path, "%s.all_slots", wname);
  if (!get_u64s(r, member(r, win, "all_slots"), a->n_slots, CMAX,
                a->slots + a->n_area * 2 * a->n_slots + w * a->n_slots))
    return false;
  {
    json_t *arr;
    snprintf(r->path, sizeof r->path, "%s.reasons", wname);
    arr = member(r, win, "reasons");
    if (!get_array(r, arr, &n)) return false;
    if (n != a->n_reason)
      return bad(r, "does not have one entry per churn reason");
    for (i = 0; i < a->n_reason; i++) {
      json_t *e = json_array_get(arr, i);
      fmi_agg_reason *re = &a->reasons[w * a->n_reason + i];
      snprintf(r->path, sizeof r->path, "%s.reasons[%zu]", wname, i);
      if (!json_is_object(e)) return bad(r, "is not an object");
      uint64_t cents[FMI_N_SRC];
      size_t s;
      if (!get_u64s(r, member(r, e, "sources"), FMI_N_SRC, CMAX,
                    re->sources) ||
          !get_u64s(r, member(r, e, "revenue_cents"), FMI_N_SRC,
                    (uint64_t)CENTS_MAX, cents) ||
          !get_u64s(r, member(r, e, "revenue_items"), FMI_N_SRC, CMAX,
                    re->revenue_items) ||
          !get_u64s(r, member(r, e, "areas"), a->n_area, CMAX,
                    a->reason_areas + (w * a->n_reason + i) * a->n_area))
        return false;
      for (s = 0; s < FMI_N_SRC; s++) re->revenue_cents[s] = (int64_t)cents[s];
    }
  }
  return true;
}

static bool read_kept(rd *r, fm_agg *a, json_t *e, fmi_agg_kept *k,
                      int exemplar) {
  const char *s;
  size_t n, h;
  uint64_t u;
  json_t *tags, *terms;
  if (!json_is_object(e)) return bad(r, "is not an object");
  if (!get_u64(r, member(r, e, "key"), 1000000, &u)) return false;
  k->key = (uint32_t)u;
  if (!get_hex64(r, member(r, e, "text_hash"), &k->text_hash)) return false;
  if (!get_str(r, member(r, e, "text"), FMI_TEXT_KEEP, &s, &n)) return false;
  k->text = (char *)s;
  if (!get_u64(r, member(r, e, "truncated"), 1, &u)) return false;
  k->truncated = (int)u;
  terms = member(r, e, "terms");
  if (!terms) return false;
  if (exemplar) {
    if (!get_str(r, terms, FMI_TERMS_KEEP, &s, &n)) return false;
    if (n < 1 || s[0] != '\n' || s[n - 1] != '\n')
      return bad(r, "has malformed terms");
    k->terms = (char *)s;
  } else if (!json_is_null(terms)) {
    return bad(r, "has terms (review entries have none)");
  }
  if (!get_str(r, member(r, e, "id"), 200, &s, NULL)) return false;
  k->id = (char *)s;
  if (!get_str(r, member(r, e, "account"), 200, &s, NULL)) return false;
  k->account = (char *)s;
  if (!get_str(r, member(r, e, "lang"), 16, &s, NULL)) return false;
  k->lang = (char *)s;
  if (!get_str(r, member(r, e, "source"), 16, &s, NULL)) return false;
  for (h = 0; h < FMI_N_SRC; h++)
    if (!strcmp(s, fmi_agg_source_names[h])) break;
  if (h == FMI_N_SRC) return bad(r, "has an unknown source");
  k->source = (unsigned)h;
  if (!get_i64(r, member(r, e, "date"), 0, TIME_MAX, &k->date)) return false;
  tags = member(r, e, "tags");
  if (!get_array(r, tags, &n)) return false;
  if (n != a->n_heads) return bad(r, "does not have one tag per head");
  for (h = 0; h < a->n_heads; h++) {
    json_t *t = json_array_get(tags, h);
    uint64_t v[2];
    if (!get_u64s(r, t, 2, 1000000, v)) return false;
    if (v[0] > a->heads[h].n_labels) return bad(r, "has a label out of range");
    if (v[0] == 0 && v[1] != 0) return bad(r, "has a probability without a label");
    k->tags[h] = (uint32_t)v[0];
    k->ppm[h] = (uint32_t)v[1];
  }
  return true;
}

static bool read_reservoir(rd *r, fm_agg *a, json_t *arr,
                           fmi_agg_reservoir *res, int exemplar,
                           const char *name) {
  size_t n, i, j;
  fmi_agg_kept k;
  uint32_t *tags, *ppm;
  snprintf(r->path, sizeof r->path, "%s", name);
  if (!arr || !get_array(r, arr, &n)) return false;
  if (n > res->cap) return bad(r, "holds more items than its capacity");
  tags = fmi_calloc(a->n_heads, sizeof *tags);
  ppm = fmi_calloc(a->n_heads, sizeof *ppm);
  if (!tags || !ppm) {
    r->st = fmi_fail(r->err, FM_ENOMEM, "out of memory");
    goto done;
  }
  for (i = 0; i < n; i++) {
    snprintf(r->path, sizeof r->path, "%s[%zu]", name, i);
    memset(&k, 0, sizeof k);
    k.tags = tags;
    k.ppm = ppm;
    if (!read_kept(r, a, json_array_get(arr, i), &k, exemplar)) break;
    if (res->n > 0 && fmi_agg_kept_cmp(a, &res->items[res->n - 1], &k,
                                       res->lower_is_better) >= 0) {
      bad(r, "is not in order (best first)");
      break;
    }
    for (j = 0; j < res->n; j++)
      if (res->items[j].text_hash == k.text_hash) break;
    if (j < res->n) {
      bad(r, "repeats a text hash");
      break;
    }
    if (fmi_agg_reservoir_offer(a, res, &k) != FM_OK) {
      r->st = fmi_fail(r->err, FM_ENOMEM, "out of memory");
      break;
    }
  }
done:
  fmi_free(tags);
  fmi_free(ppm);
  return r->st == FM_OK;
}

/* The number of words in a stems string. */
static unsigned word_count(const char *s) {
  unsigned n = 1;
  for (; *s; s++)
    if (*s == ' ') n++;
  return n;
}

static bool stems_ok(const char *s, size_t n) {
  size_t i;
  if (n == 0 || s[0] == ' ' || s[n - 1] == ' ') return false;
  for (i = 0; i < n; i++) {
    if (s[i] == '\n') return false;
    if (s[i] == ' ' && s[i + 1] == ' ') return false;
  }
  return true;
}

static fm_status read_agg(rd *r, json_t *root, fm_agg **out) {
  fm_agg_opts opts = FM_AGG_OPTS_INIT;
  fm_agg_head *heads = NULL;
  const char **labels = NULL;
  fm_agg *a = NULL;
  json_t *v, *arr;
  size_t i, n, h, total_labels = 0;
  uint64_t u;
  const char *s;
  static const char *const wnames[] = {"ticket", "nps", "churn", "lost_deal",
                                       "other", "nps_detractor"};
  int64_t wm[FMI_N_SRC + 1];

  snprintf(r->path, sizeof r->path, "top level");
  if (!json_is_object(root)) return bad(r, "is not an object"), r->st;
  v = member(r, root, "format");
  if (!v) return r->st;
  if (!json_is_string(v) || strcmp(json_string_value(v), AGG_FORMAT))
    return fmi_fail(r->err, FM_EPARSE, "not a feedmine aggregate (format is "
                    "not \"" AGG_FORMAT "\")");
  v = member(r, root, "version");
  if (!v) return r->st;
  if (!json_is_integer(v)) return bad(r, "version is not an integer"), r->st;
  if (json_integer_value(v) != AGG_VERSION)
    return fmi_fail(r->err, FM_EVERSION, "aggregate format version %lld; "
                    "this build reads version %d",
                    (long long)json_integer_value(v), AGG_VERSION);

  snprintf(r->path, sizeof r->path, "heads");
  arr = member(r, root, "heads");
  if (!arr || !get_array(r, arr, &n)) return r->st;
  if (n == 0 || n > 64) return bad(r, "must hold 1 to 64 heads"), r->st;
  for (h = 0; h < n; h++) {
    json_t *l = json_object_get(json_array_get(arr, h), "labels");
    if (!json_is_array(l) || json_array_size(l) == 0 ||
        json_array_size(l) > 4096)
      return at(r, "heads[%zu].labels", h),
             bad(r, "must be an array of 1 to 4096 labels"), r->st;
    total_labels += json_array_size(l);
  }
  heads = fmi_calloc(n, sizeof *heads);
  labels = fmi_calloc(total_labels, sizeof *labels);
  if (!heads || !labels) {
    r->st = fmi_fail(r->err, FM_ENOMEM, "out of memory");
    goto done;
  }
  total_labels = 0;
  for (h = 0; h < n; h++) {
    json_t *e = json_array_get(arr, h), *l;
    size_t k;
    at(r, "heads[%zu].name", h);
    if (!get_str(r, member(r, e, "name"), 64, &heads[h].name, NULL)) goto done;
    l = json_object_get(e, "labels");
    heads[h].labels = labels + total_labels;
    heads[h].n_labels = json_array_size(l);
    for (k = 0; k < heads[h].n_labels; k++) {
      at(r, "heads[%zu].labels", h);
      if (!get_str(r, json_array_get(l, k), 64, &labels[total_labels + k],
                   NULL))
        goto done;
    }
    total_labels += heads[h].n_labels;
  }
  opts.heads = heads;
  opts.n_heads = n;
  snprintf(r->path, sizeof r->path, "period");
  v = member(r, root, "period");
  if (!v) goto done;
  if (!get_i64(r, member(r, v, "since"), 0, TIME_MAX, &opts.since) ||
      !get_i64(r, member(r, v, "until"), 0, TIME_MAX, &opts.until) ||
      !get_str(r, member(r, v, "compare"), 16, &s, NULL))
    goto done;
  if (!strcmp(s, "previous")) opts.compare = FM_COMPARE_PREVIOUS;
  else if (!strcmp(s, "none")) opts.compare = FM_COMPARE_NONE;
  else {
    bad(r, "compare is not \"previous\" or \"none\"");
    goto done;
  }
  snprintf(r->path, sizeof r->path, "weights_milli");
  v = member(r, root, "weights_milli");
  if (!v) goto done;
  for (i = 0; i <= FMI_N_SRC; i++) {
    snprintf(r->path, sizeof r->path, "weights_milli.%s", wnames[i]);
    if (!get_i64(r, member(r, v, wnames[i]), 0, 1000000, &wm[i])) goto done;
  }
  opts.weight_ticket = (double)wm[FMI_SRC_TICKET] / 1000.0;
  opts.weight_nps = (double)wm[FMI_SRC_NPS] / 1000.0;
  opts.weight_churn = (double)wm[FMI_SRC_CHURN] / 1000.0;
  opts.weight_lost_deal = (double)wm[FMI_SRC_LOST_DEAL] / 1000.0;
  opts.weight_other = (double)wm[FMI_SRC_OTHER] / 1000.0;
  opts.weight_nps_detractor = (double)wm[FMI_N_SRC] / 1000.0;
  snprintf(r->path, sizeof r->path, "limits");
  v = member(r, root, "limits");
  if (!v) goto done;
  if (!get_u64(r, member(r, v, "exemplars"), 10000, &u)) goto done;
  opts.exemplars = (size_t)u;
  if (!get_u64(r, member(r, v, "review_items"), 10000, &u)) goto done;
  opts.review_items = (size_t)u;
  if (!get_u64(r, member(r, v, "max_phrases"), (uint64_t)1 << 30, &u))
    goto done;
  opts.max_phrases = (size_t)u;
  if (opts.exemplars == 0 || opts.review_items == 0 || opts.max_phrases < 16) {
    bad(r, "are out of range");
    goto done;
  }
  {
    fm_error cerr;
    fm_status st = fmi_agg_create(&opts, &a, &cerr);
    if (st != FM_OK) {
      r->st = fmi_fail(r->err, st == FM_ENOMEM ? FM_ENOMEM : FM_EPARSE,
                       "aggregate: %s", cerr.msg);
      goto done;
    }
  }
  memcpy(a->weight_milli, wm, sizeof wm); /* exact, not via doubles */

  snprintf(r->path, sizeof r->path, "dates");
  v = member(r, root, "dates");
  if (!v) goto done;
  if (!json_is_null(v)) {
    if (!get_i64(r, member(r, v, "first"), 0, TIME_MAX - 1, &a->first_date) ||
        !get_i64(r, member(r, v, "last"), 0, TIME_MAX - 1, &a->last_date))
      goto done;
    if (a->first_date > a->last_date) {
      bad(r, "has first after last");
      goto done;
    }
    a->any_date = 1;
  }
  snprintf(r->path, sizeof r->path, "undated");
  if (!get_u64(r, member(r, root, "undated"), CMAX, &a->undated)) goto done;
  snprintf(r->path, sizeof r->path, "outside");
  if (!get_u64(r, member(r, root, "outside"), CMAX, &a->outside)) goto done;
  if (!read_window(r, a, member(r, root, "period_counts"), FMI_CUR,
                   "period_counts") ||
      !read_window(r, a, member(r, root, "previous_counts"), FMI_PREV,
                   "previous_counts"))
    goto done;

  snprintf(r->path, sizeof r->path, "languages");
  arr = member(r, root, "languages");
  if (!arr || !get_array(r, arr, &n)) goto done;
  for (i = 0; i < n; i++) {
    json_t *e = json_array_get(arr, i), *it, *rv;
    fmi_agg_lang *l;
    size_t len, before = a->n_langs, k;
    fm_status st;
    at(r, "languages[%zu]", i);
    if (!get_str(r, member(r, e, "lang"), 16, &s, &len)) goto done;
    for (k = 0; k < len; k++)
      if (!((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= '0' && s[k] <= '9') ||
            s[k] == '-' || s[k] == '_')) {
        bad(r, "has a language code outside [a-z0-9_-]");
        goto done;
      }
    if (len == 0) {
      bad(r, "has an empty language code");
      goto done;
    }
    l = fmi_agg_lang_get(a, s, len, &st);
    if (!l) {
      r->st = fmi_fail(r->err, FM_ENOMEM, "out of memory");
      goto done;
    }
    if (a->n_langs == before) {
      bad(r, "repeats a language");
      goto done;
    }
    it = member(r, e, "items");
    rv = member(r, e, "review");
    if (!it || !rv) goto done;
    if (!json_is_array(it) || json_array_size(it) != 2 || !json_is_array(rv) ||
        json_array_size(rv) != 2) {
      bad(r, "items and review must hold two windows");
      goto done;
    }
    if (!get_u64s(r, json_array_get(it, 0), FMI_N_SRC, CMAX, l->items[0]) ||
        !get_u64s(r, json_array_get(it, 1), FMI_N_SRC, CMAX, l->items[1]) ||
        !get_u64s(r, member(r, e, "review_any"), FMI_N_WIN, CMAX,
                  l->review_any) ||
        !get_u64s(r, json_array_get(rv, 0), a->n_heads, CMAX, l->review) ||
        !get_u64s(r, json_array_get(rv, 1), a->n_heads, CMAX,
                  l->review + a->n_heads))
      goto done;
  }

  snprintf(r->path, sizeof r->path, "accounts");
  arr = member(r, root, "accounts");
  if (!arr || !get_array(r, arr, &n)) goto done;
  for (i = 0; i < n; i++) {
    /* [name, active, "areas of the period", "areas before" (, cents,
     * date)] */
    json_t *e = json_array_get(arr, i);
    fmi_agg_account *ac;
    size_t len, before = a->n_accounts, ne;
    fm_status st;
    uint64_t mask[2], active;
    at(r, "accounts[%zu]", i);
    if (!get_array(r, e, &ne)) goto done;
    if (ne != 4 && ne != 6) {
      bad(r, "is not [name, active, areas, areas(, cents, date)]");
      goto done;
    }
    if (!get_str(r, json_array_get(e, 0), 200, &s, &len)) goto done;
    if (len == 0) {
      bad(r, "has an empty name");
      goto done;
    }
    if (!get_u64(r, json_array_get(e, 1), 3, &active) ||
        !get_hex64(r, json_array_get(e, 2), &mask[0]) ||
        !get_hex64(r, json_array_get(e, 3), &mask[1]))
      goto done;
    if (a->n_area < 64 && ((mask[0] | mask[1]) >> a->n_area) != 0) {
      bad(r, "names an area that does not exist");
      goto done;
    }
    ac = fmi_agg_account_get(a, s, len, &st);
    if (!ac) {
      r->st = fmi_fail(r->err, FM_ENOMEM, "out of memory");
      goto done;
    }
    if (a->n_accounts == before) {
      bad(r, "repeats an account");
      goto done;
    }
    ac->active = (unsigned)active;
    ac->areas[0] = mask[0];
    ac->areas[1] = mask[1];
    if (ne == 6) {
      if (!get_i64(r, json_array_get(e, 4), 0, CENTS_MAX, &ac->revenue_cents) ||
          !get_i64(r, json_array_get(e, 5), 0, TIME_MAX, &ac->revenue_date))
        goto done;
      ac->has_revenue = 1;
    }
  }

  snprintf(r->path, sizeof r->path, "phrase_sampling");
  {
    uint64_t steps[3];
    if (!get_u64s(r, member(r, root, "phrase_sampling"), 3, 64, steps))
      goto done;
    for (i = 0; i < 3; i++) a->sampling[i + 1] = (unsigned)steps[i];
  }
  snprintf(r->path, sizeof r->path, "phrases");
  arr = member(r, root, "phrases");
  if (!arr || !get_array(r, arr, &n)) goto done;
  if (n > a->max_phrases) {
    bad(r, "holds more than max_phrases entries");
    goto done;
  }
  for (i = 0; i < n; i++) {
    /* [hash, order, stems, surface, df period, df before, first day] */
    json_t *e = json_array_get(arr, i);
    uint64_t hash, order, df[2];
    int64_t first;
    const char *stems, *surface;
    size_t sl, fl;
    fmi_agg_phrase *p;
    fm_status st;
    at(r, "phrases[%zu]", i);
    if (!json_is_array(e) || json_array_size(e) != 7) {
      bad(r, "is not [hash, order, stems, surface, df, df, first_day]");
      goto done;
    }
    if (!get_hex64(r, json_array_get(e, 0), &hash) ||
        !get_u64(r, json_array_get(e, 1), 3, &order) ||
        !get_str(r, json_array_get(e, 2), FMI_PHRASE_MAX_BYTES, &stems, &sl) ||
        !get_str(r, json_array_get(e, 3), 4 * FMI_PHRASE_MAX_BYTES, &surface,
                 &fl) ||
        !get_u64(r, json_array_get(e, 4), CMAX, &df[0]) ||
        !get_u64(r, json_array_get(e, 5), CMAX, &df[1]) ||
        !get_i64(r, json_array_get(e, 6), 0, TIME_MAX / 86400, &first))
      goto done;
    if (order < 1 || !stems_ok(stems, sl) || word_count(stems) != order) {
      bad(r, "has stems that do not match its order");
      goto done;
    }
    if (fmi_hash64(stems, sl) != hash) {
      bad(r, "has a hash that does not match its stems");
      goto done;
    }
    if (!fmi_agg_phrase_kept(a, hash, (unsigned)order)) {
      bad(r, "is not kept at this sampling step");
      goto done;
    }
    if (fmi_agg_phrase_find(a, hash)) {
      bad(r, "repeats a phrase");
      goto done;
    }
    p = fmi_agg_phrase_add(a, hash, stems, sl, surface, fl, (unsigned)order,
                           &st);
    if (!p) {
      r->st = fmi_fail(r->err, FM_ENOMEM, "out of memory");
      goto done;
    }
    p->df[0] = df[0];
    p->df[1] = df[1];
    p->first_day = first;
  }
  snprintf(r->path, sizeof r->path, "requirements");
  arr = member(r, root, "requirements");
  if (!arr || !get_array(r, arr, &n)) goto done;
  if (n + a->n_phrases > a->max_phrases) {
    bad(r, "holds more than max_phrases entries with the phrases");
    goto done;
  }
  for (i = 0; i < n; i++) {
    /* [area, hash, order, df, [account hashes]] */
    json_t *e = json_array_get(arr, i), *accs;
    uint64_t area, hash, order;
    fmi_agg_req *q;
    const fmi_agg_phrase *p;
    size_t before = a->n_reqs, k, na;
    fm_status st;
    at(r, "requirements[%zu]", i);
    if (!json_is_array(e) || json_array_size(e) != 5) {
      bad(r, "is not [area, hash, order, df, [accounts]]");
      goto done;
    }
    if (!get_u64(r, json_array_get(e, 0), 63, &area) ||
        !get_hex64(r, json_array_get(e, 1), &hash) ||
        !get_u64(r, json_array_get(e, 2), 3, &order))
      goto done;
    if (area >= a->n_area) {
      bad(r, "names an area that does not exist");
      goto done;
    }
    p = fmi_agg_phrase_find(a, hash);
    if (!p || p->order != order) {
      bad(r, "names a phrase that is not in \"phrases\"");
      goto done;
    }
    q = fmi_agg_req_get(a, (uint32_t)area, hash, (unsigned)order, &st);
    if (!q) {
      r->st = fmi_fail(r->err, FM_ENOMEM, "out of memory");
      goto done;
    }
    if (a->n_reqs == before) {
      bad(r, "repeats an entry");
      goto done;
    }
    if (!get_u64(r, json_array_get(e, 3), CMAX, &q->df)) goto done;
    accs = json_array_get(e, 4);
    if (!get_array(r, accs, &na)) goto done;
    if (na > FMI_ACC_K) {
      bad(r, "holds too many account hashes");
      goto done;
    }
    for (k = 0; k < na; k++) {
      uint64_t x;
      if (!get_u64(r, json_array_get(accs, k), UINT32_MAX, &x)) goto done;
      if (k && x <= q->acc[k - 1]) {
        bad(r, "has account hashes out of order");
        goto done;
      }
      q->acc[k] = (uint32_t)x;
    }
    q->n_acc = (uint16_t)na;
  }
  for (i = 1; i <= 3; i++)
    if (a->n_order[i] > a->cap_order[i]) {
      snprintf(r->path, sizeof r->path, "phrases");
      bad(r, "hold more entries of one length than its share of "
             "max_phrases");
      goto done;
    }

  snprintf(r->path, sizeof r->path, "exemplars");
  arr = member(r, root, "exemplars");
  if (!arr || !get_array(r, arr, &n)) goto done;
  if (n != a->n_area) {
    bad(r, "does not have one reservoir per area");
    goto done;
  }
  for (i = 0; i < n; i++) {
    char name[32];
    snprintf(name, sizeof name, "exemplars[%zu]", i);
    if (!read_reservoir(r, a, json_array_get(arr, i), &a->exemplars[i], 1,
                        name))
      goto done;
  }
  snprintf(r->path, sizeof r->path, "review");
  if (!read_reservoir(r, a, member(r, root, "review"), &a->review, 0,
                      "review"))
    goto done;
done:
  fmi_free(heads);
  fmi_free(labels);
  if (r->st != FM_OK) {
    fm_agg_free(a);
    return r->st;
  }
  *out = a;
  return FM_OK;
}

fm_status fm_agg_deserialize(const void *data, size_t len, fm_agg **out,
                             fm_error *err) {
  json_t *root;
  json_error_t jerr;
  rd r;
  fm_status st;
  if (!out) return fmi_fail(err, FM_EINVAL, "out is NULL");
  *out = NULL;
  if (!data && len) return fmi_fail(err, FM_EINVAL, "data is NULL");
  root = json_loadb(data ? (const char *)data : "", len,
                    JSON_REJECT_DUPLICATES, &jerr);
  if (!root) {
    if (json_error_code(&jerr) == json_error_out_of_memory)
      return fmi_fail(err, FM_ENOMEM, "out of memory");
    return fmi_fail_at(err, FM_EPARSE, (uint64_t)(jerr.line > 0 ? jerr.line : 0),
                       (uint64_t)(jerr.column > 0 ? jerr.column : 0),
                       "aggregate: not valid JSON: %s", jerr.text);
  }
  memset(&r, 0, sizeof r);
  r.err = err;
  st = read_agg(&r, root, out);
  json_decref(root);
  if (st == FM_OK) fmi_ok(err);
  return st;
}
