/*
 * bench_segment.c -- throughput of normalization and word segmentation
 * against ICU's word break iterator alone, per language, on the same bytes.
 *
 *   bench_segment [--pipeline] [--lang xx] [DATASETS_DIR]
 *
 * --pipeline times the whole pipeline only (for profiling it alone);
 * --lang xx runs one language (en, he, ar, th) only; --passes N makes each
 * measurement exactly N passes over the texts (for perf stat's counts).
 * DATASETS_DIR defaults to ../shared/datasets next to the source tree.
 * Each text (one CSV "text" field) is one document, as in tagging: the ICU
 * baseline converts it to UTF-16 and walks every boundary; ours normalizes
 * it into a per-document arena and segments the result. English is
 * banking77 + sms_spam, Hebrew hebrew_sentiment, Thai wisesight_sentiment_th;
 * there is no Arabic dataset, so Arabic is the sentences below, repeated.
 * The numbers are MB/s of input UTF-8 per thread CPU second, best of
 * several passes.
 */
#include "bench_util.h"
#include "normalize.h"
#include "segment.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unicode/ubrk.h>
#include <unicode/ustring.h>

#ifndef FM_SOURCE_DIR
#define FM_SOURCE_DIR "."
#endif

/* Customer feedback in Arabic, written for this benchmark: diacritics,
 * tatweel, alef and teh marbuta variants, digits, punctuation, a Latin
 * product name here and there, as such text comes. */
static const char *const arabic[] = {
  "التطبيق يتوقف عن العمل كلما حاولت رفع صورة الملف الشخصي، أرجو إصلاح المشكلة بسرعة.",
  "خدمة العملاء ممتازة جداً وقد تم حل مشكلتي خلال ١٠ دقائق فقط، شكراً لكم!",
  "لا أستطيع تسجيل الدخول منذ التحديث الأخير، تظهر رسالة خطأ غير مفهومة.",
  "السعر مرتفع مقارنةً بالمنافسين، ولهذا قررنا إلغاء الاشتراك في نهاية الشهر.",
  "أتمنى إضافة خاصية التصدير إلى Excel لأن فريقنا يحتاجها يومياً.",
  "الفاتورة الأخيرة تحتوي على مبلغ ٢٥٠ دولاراً إضافياً لم نطلبه، ما السبب؟",
  "التطبيـــق بطيء جداً على أجهزة أندرويد القديمة.",
  "لم يرد أحد على تذكرتي منذ ثلاثة أيام، هذا غير مقبول إطلاقاً.",
  "الواجهة الجديدة جميلة وسهلة الاستخدام، أحسنتم العمل!",
  "نحتاج إلى دعم اللغة العربية في التقارير، فالنصوص تظهر معكوسة.",
  "اشتركنا في الباقة السنوية لكن الخصم لم يُطبَّق على الفاتورة.",
  "المزامنة مع التقويم لا تعمل، والمواعيد تختفي بعد ساعة.",
  "هل يمكن ربط الحساب مع Slack؟ سيكون ذلك مفيداً جداً لفريق المبيعات.",
  "انتقلنا إلى منافس آخر لأن الأسعار ارتفعت بنسبة ٣٠٪ دون إشعار مسبق.",
  "الإشعارات تصل متأخرة بساعات، وهذا يسبب لنا مشاكل مع العملاء.",
  "أُحبُّ سرعة البحث الجديدة، أصبحت أجد ما أريد في ثوانٍ.",
  "لا يوجد خيار لتغيير كلمة المرور من التطبيق، يجب إضافته.",
  "الموظف كان متعاوناً ولطيفاً، لكن المشكلة لم تُحل حتى الآن.",
  "عند الضغط على زر الدفع تظهر صفحة بيضاء ولا يحدث شيء.",
  "نرجو توفير فاتورة ضريبية باسم الشركة مع الرقم الضريبي.",
  "التقارير الشهرية لا تعرض بيانات الفروع الأخرى، هل هذا خطأ؟",
  "جربنا النسخة التجريبية لمدة ١٤ يوماً وكانت التجربة رائعة.",
  "الاتصال بالخادم ينقطع كثيراً في المساء، خصوصاً بعد الساعة ٨.",
  "أريد إلغاء الاشتراك واسترداد المبلغ المدفوع لهذا الشهر.",
  "المنتج جيد لكن التوثيق ناقص ولا توجد أمثلة كافية.",
  "تمت إضافة مستخدمين جدد لكنهم لا يستطيعون رؤية المشاريع المشتركة.",
  "الدعم الفني لا يتحدث العربية، ونحن نحتاج إلى ذلك بشدة.",
  "بعد آخر تحديث أصبحت البطارية تنفد بسرعة كبيرة.",
  "فكرة رائعة! لكن ينقصها تطبيق لأجهزة الآيباد.",
  "اخترنا المنافس لأن عرضه كان أرخص بـ ٥٠٠٠ ريال سنوياً.",
};

typedef struct corpus {
  char *data;       /* all texts, back to back */
  size_t len, cap;
  size_t *off;      /* text i is data[off[i], off[i + 1]) */
  size_t n, ncap;
} corpus;

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n);
  if (!p) {
    fprintf(stderr, "bench_segment: out of memory\n");
    exit(1);
  }
  return p;
}

static void add_text(corpus *c, const char *s, size_t n) {
  if (c->len + n + 1 > c->cap) {
    c->cap = (c->len + n + 1) * 2;
    c->data = xrealloc(c->data, c->cap);
  }
  if (c->n + 2 > c->ncap) {
    c->ncap = c->ncap ? c->ncap * 2 : 1024;
    c->off = xrealloc(c->off, c->ncap * sizeof *c->off);
  }
  if (c->n == 0) c->off[0] = 0;
  memcpy(c->data + c->len, s, n);
  c->len += n;
  c->off[++c->n] = c->len;
}

/* libcsv callbacks: keep the field under the "text" header. */
typedef struct reader {
  corpus *c;
  size_t row, col;
  long text_col;
} reader;

static void on_field(void *f, size_t n, void *data) {
  reader *r = data;
  if (r->row == 0) {
    if (n == 4 && memcmp(f, "text", 4) == 0) r->text_col = (long)r->col;
  } else if ((long)r->col == r->text_col) {
    add_text(r->c, f, n);
  }
  r->col++;
}

static void on_row(int ch, void *data) {
  reader *r = data;
  (void)ch;
  r->row++;
  r->col = 0;
}

static bool load_csv(corpus *c, const char *dir, const char *file) {
  char path[4096], buf[65536];
  struct csv_parser p;
  reader r = {c, 0, 0, -1};
  FILE *f;
  size_t n;
  snprintf(path, sizeof path, "%s/%s", dir, file);
  f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "bench_segment: cannot open %s (skipped)\n", path);
    return false;
  }
  csv_init(&p, CSV_STRICT);
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
    if (csv_parse(&p, buf, n, on_field, on_row, &r) != n) {
      fprintf(stderr, "bench_segment: %s: %s\n", path,
              csv_strerror(csv_error(&p)));
      break;
    }
  }
  csv_fini(&p, on_field, on_row, &r);
  csv_free(&p);
  fclose(f);
  return true;
}

/* Timings are this thread's CPU time (cpu_now): the machine may be
 * shared, and waiting for a core is not the code's cost. */

enum { M_ICU, M_NORM, M_SEG, M_BOTH, M_PIPE, M__COUNT };
static const char *const mode_names[] = {"ICU word break", "normalize",
                                         "segment", "normalize+segment",
                                         "whole pipeline"};

typedef struct state {
  UBreakIterator *bi;
  UChar *u16;
  size_t u16_cap;
  fmi_normalizer *norm;
  fmi_segmenter *seg;
  fm_tagger *tagger; /* the whole pipeline, default stages */
  fmi_arena arena;
  char **normed; /* per text, normalized (for the segment-only mode) */
  size_t *normed_len;
  uint64_t sink; /* keeps the work observable */
} state;

static void die_fm(const char *what, const fm_error *err) {
  fprintf(stderr, "bench_segment: %s: %s\n", what, err->msg);
  exit(1);
}

static void run_one(state *st, int mode, const corpus *c, size_t i) {
  const char *t = c->data + c->off[i];
  size_t n = c->off[i + 1] - c->off[i];
  fm_error err;
  fmi_arena_reset(&st->arena);
  if (mode == M_PIPE) {
    const fm_analysis *a;
    if (fm_tagger_analyze(st->tagger, t, n, NULL, &a, &err))
      die_fm("analyze", &err);
    st->sink += a->n_features;
  } else if (mode == M_ICU) {
    UErrorCode e = U_ZERO_ERROR;
    int32_t n16;
    if (n + 1 > st->u16_cap) {
      st->u16_cap = (n + 1) * 2;
      st->u16 = xrealloc(st->u16, st->u16_cap * sizeof(UChar));
    }
    u_strFromUTF8(st->u16, (int32_t)st->u16_cap, &n16, t, (int32_t)n, &e);
    ubrk_setText(st->bi, st->u16, n16, &e);
    if (U_FAILURE(e)) {
      fprintf(stderr, "bench_segment: ICU: %s\n", u_errorName(e));
      exit(1);
    }
    while (ubrk_next(st->bi) != UBRK_DONE) st->sink++;
  } else {
    char *norm = st->normed[i];
    size_t norm_len = st->normed_len[i];
    fmi_seg *segs;
    size_t ns;
    if (mode != M_SEG) {
      if (fmi_normalize(st->norm, t, n, &st->arena, &norm, &norm_len, &err))
        die_fm("normalize", &err);
      st->sink += norm_len;
    }
    if (mode != M_NORM) {
      if (fmi_segment(st->seg, norm, norm_len, true, &st->arena, &segs, &ns,
                      &err))
        die_fm("segment", &err);
      st->sink += ns;
    }
  }
}

static bool pipeline_only;
static const char *only_lang;
static long fixed_passes;

/* MB/s of one timed pass of at least 0.2 s. */
static double measure(state *st, int mode, const corpus *c) {
  double t0 = cpu_now(), t;
  size_t bytes = 0, i;
  do {
    for (i = 0; i < c->n; i++) run_one(st, mode, c, i);
    bytes += c->len;
    t = cpu_now() - t0;
  } while (fixed_passes ? bytes < (size_t)fixed_passes * c->len : t < 0.2);
  return (double)bytes / t / 1e6;
}


static void bench(state *st, const char *lang, const corpus *c) {
  double r[M__COUNT];
  fm_error err;
  size_t i;
  int m, pass;
  if (c->n == 0 || (only_lang && strcmp(only_lang, lang) != 0)) return;
  if (pipeline_only) {
    double best = 0;
    for (pass = 0; pass < (fixed_passes ? 1 : 5); pass++) {
      double v = measure(st, M_PIPE, c);
      if (v > best) best = v;
    }
    printf("%-4s %7.2f MB %7zu texts | whole pipeline %9.1f\n", lang,
           (double)c->len / 1e6, c->n, best);
    return;
  }
  /* Normalized copies for the segment-only mode. */
  st->normed = xrealloc(NULL, c->n * sizeof *st->normed);
  st->normed_len = xrealloc(NULL, c->n * sizeof *st->normed_len);
  for (i = 0; i < c->n; i++) {
    char *o;
    size_t ol;
    fmi_arena_reset(&st->arena);
    if (fmi_normalize(st->norm, c->data + c->off[i], c->off[i + 1] - c->off[i],
                      &st->arena, &o, &ol, &err))
      die_fm("normalize", &err);
    st->normed[i] = xrealloc(NULL, ol + 1);
    memcpy(st->normed[i], o, ol + 1);
    st->normed_len[i] = ol;
  }
  /* Modes take turns, so a burst of load elsewhere hits all alike. */
  for (m = 0; m < M__COUNT; m++) r[m] = 0;
  for (pass = 0; pass < 5; pass++)
    for (m = 0; m < M__COUNT; m++) {
      double v = measure(st, m, c);
      if (v > r[m]) r[m] = v;
    }
  printf("%-4s %7.2f MB %7zu texts |", lang, (double)c->len / 1e6, c->n);
  for (m = 0; m < M__COUNT; m++) printf(" %9.1f", r[m]);
  printf(" | %5.2fx %5.2fx\n", r[M_BOTH] / r[M_ICU], r[M_PIPE] / r[M_ICU]);
  for (i = 0; i < c->n; i++) free(st->normed[i]);
  free(st->normed);
  free(st->normed_len);
}

int main(int argc, char **argv) {
  const char *dir = FM_SOURCE_DIR "/../shared/datasets";
  corpus en = {0}, he = {0}, th = {0}, ar = {0};
  state st = {0};
  UErrorCode e = U_ZERO_ERROR;
  fm_error err;
  size_t i, k;
  int m, a;

  for (a = 1; a < argc; a++) {
    if (!strcmp(argv[a], "--pipeline"))
      pipeline_only = true;
    else if (!strcmp(argv[a], "--passes") && a + 1 < argc)
      fixed_passes = atol(argv[++a]);
    else if (!strcmp(argv[a], "--lang") && a + 1 < argc)
      only_lang = argv[++a];
    else
      dir = argv[a];
  }
  load_csv(&en, dir, "banking77/train.csv");
  load_csv(&en, dir, "sms_spam/test.csv");
  load_csv(&he, dir, "hebrew_sentiment/train.csv");
  load_csv(&th, dir, "wisesight_sentiment_th/train.csv");
  /* About 1 MB of Arabic. */
  for (k = 0; ar.len < 1000000; k++)
    for (i = 0; i < sizeof arabic / sizeof *arabic; i++)
      add_text(&ar, arabic[i], strlen(arabic[i]));

  st.bi = ubrk_open(UBRK_WORD, "", NULL, 0, &e);
  if (U_FAILURE(e)) {
    fprintf(stderr, "bench_segment: ubrk_open: %s\n", u_errorName(e));
    return 1;
  }
  if (fmi_normalizer_new(&st.norm, &err)) die_fm("normalizer", &err);
  if (fmi_segmenter_new(&st.seg, &err)) die_fm("segmenter", &err);
  if (fm_tagger_new(NULL, NULL, &st.tagger, &err)) die_fm("tagger", &err);
  fmi_arena_init(&st.arena, 0);

  printf("MB/s of input UTF-8, thread CPU time, best of 5 passes; ICU %s\n", U_ICU_VERSION);
  printf("%-4s %10s %13s |", "lang", "size", "");
  for (m = 0; m < M__COUNT; m++)
    printf(" %9.9s", m == M_BOTH ? "norm+seg" : m == M_PIPE ? "pipeline" : mode_names[m]);
  printf(" | n+s/ICU pipe/ICU\n");
  bench(&st, "en", &en);
  bench(&st, "he", &he);
  bench(&st, "ar", &ar);
  bench(&st, "th", &th);

  ubrk_close(st.bi);
  free(st.u16);
  fmi_normalizer_free(st.norm);
  fmi_segmenter_free(st.seg);
  fm_tagger_free(st.tagger);
  fmi_arena_free(&st.arena);
  free(en.data); free(en.off); free(he.data); free(he.off);
  free(th.data); free(th.off); free(ar.data); free(ar.off);
  return st.sink == 42 ? 2 : 0;
}
