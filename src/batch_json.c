/*
 * batch_json.c -- JSON the batch job writes (jansson): the store's
 * canonical dump, a runs log line and the rejects file's lines.
 *
 * Key order is fixed (JSON_PRESERVE_ORDER over objects built in order) and
 * numbers are jansson's shortest exact forms, so equal content gives
 * equal bytes, which is what the crash tests compare.
 */
#include "batch.h"
#include "store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#define DUMP_FLAGS (JSON_PRESERVE_ORDER | JSON_COMPACT)

/* Text from the store or an export may hold invalid UTF-8 or NULs (raw
 * text is kept as read): jansson refuses those, so they are repaired the
 * way the pipeline repairs them. */
static json_t *jstr(const char *s, size_t n, fmi_buf *scratch) {
  size_t out_len, cap;
  if (!s) return json_null();
  if (fmi_mul_overflows(n, 3, &cap) || fmi_add_overflows(cap, 1, &cap))
    return NULL;
  fmi_buf_clear(scratch);
  if (fmi_buf_reserve(scratch, cap) != FM_OK) return NULL;
  fmi_utf8_sanitize(s, n, scratch->data, &out_len);
  return json_stringn(scratch->data, out_len);
}

static int put(json_t *o, const char *k, json_t *v) {
  return v ? json_object_set_new(o, k, v) : -1;
}

static fm_status emit(json_t *o, FILE *out, const char *what, fm_error *err) {
  char *line = json_dumps(o, DUMP_FLAGS);
  int bad;
  if (!line) return fmi_fail(err, FM_ENOMEM, "out of memory writing %s", what);
  bad = fputs(line, out) == EOF || fputc('\n', out) == EOF;
  free(line); /* jansson allocates with malloc */
  if (bad) return fmi_fail(err, FM_EIO, "cannot write %s", what);
  return FM_OK;
}

static json_t *item_json(const fm_store_item *it, fmi_buf *scratch) {
  json_t *o = json_object(), *tags = json_array();
  size_t i;
  int bad = !o || !tags;
  if (bad) goto fail;
  bad |= put(o, "source", jstr(it->source, strlen(it->source), scratch));
  bad |= put(o, "key", jstr(it->key, strlen(it->key), scratch));
  bad |= put(o, "type", jstr(it->type, strlen(it->type), scratch));
  bad |= put(o, "id", it->external_id[0]
                          ? jstr(it->external_id, strlen(it->external_id),
                                 scratch)
                          : json_null());
  bad |= put(o, "date", it->has_date ? json_integer(it->date) : json_null());
  bad |= put(o, "lang_given",
             jstr(it->lang_given, strlen(it->lang_given), scratch));
  bad |= put(o, "lang", jstr(it->lang, strlen(it->lang), scratch));
  bad |= put(o, "account", jstr(it->account, strlen(it->account), scratch));
  bad |= put(o, "segment", jstr(it->segment, strlen(it->segment), scratch));
  bad |= put(o, "score", it->has_score ? json_real(it->score) : json_null());
  bad |= put(o, "revenue",
             it->has_revenue ? json_real(it->revenue) : json_null());
  bad |= put(o, "text", jstr(it->text, it->text_len, scratch));
  bad |= put(o, "redacted", jstr(it->redacted, it->redacted_len, scratch));
  bad |= put(o, "model", jstr(it->model_id, strlen(it->model_id), scratch));
  for (i = 0; i < it->n_tags && !bad; i++) {
    const fm_store_tag *t = &it->tags[i];
    json_t *j = json_object();
    if (!j) { bad = 1; break; }
    bad |= put(j, "head", jstr(t->head, strlen(t->head), scratch));
    bad |= put(j, "label", jstr(t->label, strlen(t->label), scratch));
    bad |= put(j, "prob", json_real(t->prob));
    bad |= put(j, "needs_review", json_boolean(t->needs_review));
    bad |= json_array_append_new(tags, j);
  }
  if (bad) goto fail;
  if (json_object_set_new(o, "tags", tags) != 0) {
    json_decref(o);
    return NULL;
  }
  if (!it->tokens) {
    if (put(o, "tokens", json_null()) != 0) {
      json_decref(o);
      return NULL;
    }
    return o;
  }
  {
    json_t *toks = json_array();
    if (!toks || json_object_set_new(o, "tokens", toks) != 0) {
      json_decref(o);
      return NULL;
    }
    /* [text, stem, kind, flags] */
    for (i = 0; i < it->n_tokens && !bad; i++) {
      const fm_token *t = &it->tokens[i];
      json_t *a = json_array();
      if (!a) { bad = 1; break; }
      bad |= json_array_append_new(a, jstr(t->text, t->len, scratch));
      bad |= json_array_append_new(a, jstr(t->stem, t->stem_len, scratch));
      bad |= json_array_append_new(a, json_integer(t->kind));
      bad |= json_array_append_new(a, json_integer(t->flags));
      bad |= json_array_append_new(toks, a);
    }
  }
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
fail:
  json_decref(o);
  json_decref(tags);
  return NULL;
}

typedef struct model_ctx {
  FILE *out;
  fmi_buf *scratch;
  fm_error *err;
} model_ctx;

static fm_status model_line(void *user, const char *id, const char *path,
                            const char *summary) {
  model_ctx *m = user;
  json_t *o = json_object();
  fm_status st;
  int bad = !o;
  if (!bad) {
    bad |= put(o, "model", jstr(id, strlen(id), m->scratch));
    bad |= put(o, "path", jstr(path, strlen(path), m->scratch));
    bad |= put(o, "summary", jstr(summary, strlen(summary), m->scratch));
  }
  if (bad) {
    json_decref(o);
    return fmi_fail(m->err, FM_ENOMEM, "out of memory writing the dump");
  }
  st = emit(o, m->out, "the store dump", m->err);
  json_decref(o);
  return st;
}

fm_status fm_store_export(fm_store *store, FILE *out, fm_error *err) {
  fm_store_query q = FM_STORE_QUERY_INIT;
  fm_store_cursor *cur = NULL;
  const fm_store_item *it;
  fmi_buf scratch = {0};
  fm_status st;
  model_ctx m;
  if (!store || !out) return fmi_fail(err, FM_EINVAL, "fm_store_export");
  q.flags = FM_QUERY_CANONICAL;
  if ((st = fm_store_query_items(store, &q, &cur, err)) != FM_OK) return st;
  while ((st = fm_store_cursor_next(cur, &it, err)) == FM_OK) {
    json_t *o = item_json(it, &scratch);
    if (!o) {
      st = fmi_fail(err, FM_ENOMEM, "out of memory writing the dump");
      break;
    }
    st = emit(o, out, "the store dump", err);
    json_decref(o);
    if (st != FM_OK) break;
  }
  fm_store_cursor_free(cur);
  if (st == FM_EEOF) {
    m.out = out;
    m.scratch = &scratch;
    m.err = err;
    st = fmi_store_models(store, model_line, &m, err);
  }
  fmi_buf_free(&scratch);
  if (st == FM_OK && fflush(out) != 0)
    st = fmi_fail(err, FM_EIO, "cannot write the store dump");
  return st;
}

fm_status fmi_batch_reject_line(FILE *out, const char *source,
                                const char *file, uint64_t line,
                                const char *reason, const char *raw,
                                size_t raw_len, int truncated,
                                fm_error *err) {
  fmi_buf scratch = {0};
  json_t *o = json_object();
  fm_status st;
  int bad = !o;
  if (!bad) {
    bad |= put(o, "source", jstr(source, strlen(source), &scratch));
    bad |= put(o, "file", jstr(file, strlen(file), &scratch));
    bad |= put(o, "line", json_integer((json_int_t)line));
    bad |= put(o, "reason", jstr(reason, strlen(reason), &scratch));
    bad |= put(o, "raw", jstr(raw, raw_len, &scratch));
    if (truncated) bad |= put(o, "truncated", json_true());
  }
  fmi_buf_free(&scratch);
  if (bad) {
    json_decref(o);
    return fmi_fail(err, FM_ENOMEM, "out of memory writing rejects");
  }
  st = emit(o, out, "the rejects file", err);
  json_decref(o);
  return st;
}

fm_status fmi_batch_run_json(const fmi_run_record *r, char **out,
                             fm_error *err) {
  fmi_buf scratch = {0};
  json_t *o = json_object(), *src = json_array();
  char *text;
  size_t i;
  int bad = !o || !src;
  *out = NULL;
  if (!bad) {
    bad |= put(o, "run", json_integer(r->run_id));
    bad |= put(o, "start", jstr(r->start, strlen(r->start), &scratch));
    bad |= put(o, "end", jstr(r->end, strlen(r->end), &scratch));
    bad |= put(o, "status", jstr(r->status, strlen(r->status), &scratch));
    bad |= put(o, "seconds", json_real(r->seconds));
    bad |= put(o, "read", json_integer((json_int_t)r->stats->read));
    bad |= put(o, "rejected", json_integer((json_int_t)r->stats->rejected));
    bad |= put(o, "new", json_integer((json_int_t)r->stats->new_items));
    bad |= put(o, "edited", json_integer((json_int_t)r->stats->edited));
    bad |= put(o, "updated", json_integer((json_int_t)r->stats->updated));
    bad |= put(o, "unchanged",
               json_integer((json_int_t)r->stats->unchanged));
    bad |= put(o, "tagged", json_integer((json_int_t)r->stats->tagged));
    bad |= put(o, "retagged", json_integer((json_int_t)r->stats->retagged));
    bad |= put(o, "needs_review",
               json_integer((json_int_t)r->stats->needs_review));
    bad |= put(o, "raw_dropped",
               json_integer((json_int_t)r->stats->raw_dropped));
    bad |= put(o, "reports", json_integer(r->stats->reports));
    bad |= put(o, "model", jstr(r->model_id, strlen(r->model_id), &scratch));
    for (i = 0; i < r->n_failed && !bad; i++)
      bad |= json_array_append_new(
          src, jstr(r->failed[i], strlen(r->failed[i]), &scratch));
  }
  if (!bad) {
    bad = json_object_set_new(o, "sources_failed", src);
    src = NULL;
  }
  fmi_buf_free(&scratch);
  if (bad) {
    json_decref(src);
    json_decref(o);
    return fmi_fail(err, FM_ENOMEM, "out of memory writing the runs log");
  }
  text = json_dumps(o, DUMP_FLAGS);
  json_decref(o);
  if (!text) return fmi_fail(err, FM_ENOMEM, "out of memory writing the runs log");
  *out = fmi_strndup(text, strlen(text));
  free(text);
  if (!*out) return fmi_fail(err, FM_ENOMEM, "out of memory writing the runs log");
  return FM_OK;
}
