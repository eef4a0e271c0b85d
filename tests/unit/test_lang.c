/* test_lang.c -- language identification, canonical codes, stopwords,
 * negators and stemming (src/langid.c, src/stem.c). */
#include "testutil.h"

#include "lang.h"
#include "langid_profiles.h"
#include "stopwords_data.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- a small word splitter, so these tests do not depend on segment.c:
 * words are runs of one script's letters (with combining marks and inner
 * apostrophes), each other non-space character is punctuation. */

static int script_of(uint32_t c) {
  if (c < 0x80)
    return ((c | 32) >= 'a' && (c | 32) <= 'z') ? FMI_SCRIPT_LATIN : -1;
  if (c >= 0xC0 && c < 0x250 && c != 0xD7 && c != 0xF7) return FMI_SCRIPT_LATIN;
  if (c >= 0x370 && c < 0x400) return FMI_SCRIPT_GREEK;
  if (c >= 0x400 && c < 0x530) return FMI_SCRIPT_CYRILLIC;
  if (c >= 0x5D0 && c < 0x5F0) return FMI_SCRIPT_HEBREW;
  if (c >= 0x620 && c < 0x64B) return FMI_SCRIPT_ARABIC;
  if (c >= 0xE01 && c < 0xE5B) return FMI_SCRIPT_THAI;
  if (c >= 0x3040 && c < 0x3100) return FMI_SCRIPT_KANA;
  if (c >= 0x4E00 && c < 0xA000) return FMI_SCRIPT_HAN;
  if (c >= 0xAC00 && c < 0xD7B0) return FMI_SCRIPT_HANGUL;
  return -1;
}

static bool is_mark(uint32_t c) {
  return (c >= 0x300 && c < 0x370) || (c >= 0x591 && c < 0x5C8) ||
         (c >= 0x64B && c < 0x671);
}

static size_t split(const char *t, fmi_seg *segs, size_t cap) {
  size_t n = strlen(t), i = 0, k = 0;
  const unsigned char *u = (const unsigned char *)t;
  while (i < n && k < cap) {
    uint32_t c, d;
    size_t l = fmi_utf8_decode(u + i, n - i, &c), start = i;
    int sc = script_of(c);
    memset(&segs[k], 0, sizeof segs[k]);
    i += l;
    if (sc < 0) {
      if (c == ' ') continue;
      segs[k].start = (uint32_t)start;
      segs[k].end = (uint32_t)i;
      segs[k].kind = FM_TOKEN_PUNCT;
      k++;
      continue;
    }
    while (i < n) {
      size_t m = fmi_utf8_decode(u + i, n - i, &d);
      if (script_of(d) == sc || is_mark(d)) {
        i += m;
        continue;
      }
      if ((d == '\'' || d == 0x2019) && i + m < n) {
        uint32_t e;
        fmi_utf8_decode(u + i + m, n - i - m, &e);
        if (script_of(e) == sc) {
          i += m;
          continue;
        }
      }
      break;
    }
    segs[k].start = (uint32_t)start;
    segs[k].end = (uint32_t)i;
    segs[k].kind = FM_TOKEN_WORD;
    segs[k].script = (uint8_t)sc;
    k++;
  }
  return k;
}

static const char *id(const char *text) {
  static fmi_seg segs[512];
  size_t n = split(text, segs, 512);
  return fmi_langid(text, strlen(text), segs, n);
}

/* ---- identification ---------------------------------------------------- */

typedef struct sample {
  const char *lang, *text;
} sample;

static void test_langid_sentences(void **state) {
  static const sample s[] = {
      {"en", "the export does not work since the last update and i cannot "
             "find the report anywhere"},
      {"de", "seit dem letzten update funktioniert der export nicht mehr und "
             "ich finde den bericht nicht"},
      {"es", "desde la última actualización la exportación no funciona y no "
             "encuentro el informe"},
      {"fr", "depuis la dernière mise à jour l'exportation ne fonctionne plus "
             "et je ne trouve pas le rapport"},
      {"pt", "desde a última atualização a exportação não funciona e eu não "
             "encontro o relatório"},
      {"it", "dall'ultimo aggiornamento l'esportazione non funziona più e non "
             "trovo il rapporto"},
      {"nl", "sinds de laatste update werkt de export niet meer en ik kan het "
             "rapport nergens vinden"},
      {"ru", "после последнего обновления экспорт не работает и я нигде не "
             "могу найти отчёт"},
      {"uk", "після останнього оновлення експорт не працює і я ніде не можу "
             "знайти звіт"},
      {"he", "מאז העדכון האחרון הייצוא לא עובד ואני לא מוצא את הדוח"},
      {"ar", "منذ التحديث الاخير لا يعمل التصدير ولا اجد التقرير"},
      {"th", "ตั้งแต่อัปเดตล่าสุด การส่งออกใช้งานไม่ได้ และหารายงานไม่เจอ"},
      /* Short feedback, none of it in the profiles' training text. */
      {"en", "great app, thanks!"},
      {"en", "why was i charged twice?"},
      {"de", "die app ist super, danke!"},
      {"es", "¿por qué me cobraron dos veces?"},
      {"es", "la aplicación es buena pero el soporte tarda mucho"},
      {"pt", "o aplicativo é ótimo mas o suporte demora muito"},
      {"fr", "merci beaucoup, tout marche bien maintenant"},
      {"it", "grazie mille, il supporto è stato velocissimo e gentile"},
      {"nl", "bedankt, de app werkt nu prima op mijn telefoon"},
      {"ru", "спасибо, всё работает отлично"},
      {"uk", "дякую, тепер усе працює як слід"},
      {"it", "non riesco a pagare con la carta"},
      {"nl", "ik kan niet betalen met mijn kaart"},
      {"pt", "não consigo pagar com o cartão"},
      {"es", "no puedo pagar con la tarjeta"},
      {"fr", "je ne peux pas payer par carte"},
      {"de", "ich kann nicht mit karte bezahlen"},
      {"en", "i can't pay with my card"},
      {"ru", "не могу оплатить картой"},
      {"uk", "не можу оплатити карткою"},
      {"it", "dove trovo la fattura?"},
      {"nl", "waar vind ik de factuur?"},
      {"pt", "onde encontro a nota fiscal?"},
      /* Other scripts decide alone. */
      {"el", "η εφαρμογή δεν λειτουργεί μετά την ενημέρωση"},
      {"ja", "アプリが動きません"},
      {"ja", "最新版のアプリが起動しません"},
      {"zh", "应用程序无法使用"},
      {"ko", "앱이 작동하지 않습니다"},
      /* Latin brand names inside Thai and Hebrew do not outvote them; a
       * Hebrew place name inside English does not either. */
      {"th", "สั่ง iphone 15 pro max ไม่ได้ครับ"},
      {"he", "האפליקציה של salesforce לא נטענת"},
      {"en", "the report for תל אביב is missing again today, please send it"},
      /* Text that skipped normalization: capitals, U+2019 apostrophes. */
      {"en", "THE APP DOESN\xE2\x80\x99T WORK ON MY PHONE"},
      {"ru", "ПРИЛОЖЕНИЕ НЕ РАБОТАЕТ ПОСЛЕ ОБНОВЛЕНИЯ"},
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof s / sizeof s[0]; i++) {
    const char *got = id(s[i].text);
    if (strcmp(got, s[i].lang) != 0)
      fail_msg("\"%s\": expected %s, got %s", s[i].text, s[i].lang, got);
  }
}

static void test_langid_und(void **state) {
  static const char *const t[] = {
      "ok", "no", "taxi", "pizza", "12345", "\xF0\x9F\x98\x80", "!!!", "",
      "visa mastercard",
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof t / sizeof t[0]; i++) {
    const char *got = id(t[i]);
    if (strcmp(got, "und") != 0)
      fail_msg("\"%s\": expected und, got %s", t[i], got);
  }
  assert_string_equal(fmi_langid(NULL, 0, NULL, 0), "und");
  assert_string_equal(fmi_langid("abc", 3, NULL, 0), "und");
}

/* Only the first 2 KB are read: a long English text followed by German
 * stays English, and the call does not walk 1 MB of words. */
static void test_langid_sample(void **state) {
  static fmi_seg segs[200000];
  const char *en = "the invoice was wrong and the support team fixed it. ";
  const char *de = "die rechnung war falsch und das team hat es korrigiert. ";
  size_t cap = 1 << 20, len = 0, n;
  char *t = malloc(cap + 1);
  (void)state;
  assert_non_null(t);
  while (len + strlen(en) < 2048) {
    memcpy(t + len, en, strlen(en));
    len += strlen(en);
  }
  while (len + strlen(de) < cap) {
    memcpy(t + len, de, strlen(de));
    len += strlen(de);
  }
  t[len] = 0;
  n = split(t, segs, 200000);
  assert_string_equal(fmi_langid(t, len, segs, n), "en");
  free(t);
}

/* ---- canonical codes ---------------------------------------------------- */

static void test_lang_canonical(void **state) {
  static const char *const pairs[][2] = {
      {"en", "en"},        {"EN", "en"},          {"en-US", "en"},
      {"en_GB", "en"},     {"english", "en"},     {"English", "en"},
      {"eng", "en"},       {"  de-DE", "de"},     {"Deutsch", "de"},
      {"ger", "de"},       {"es-419", "es"},      {"español", "es"},
      {"Spanish", "es"},   {"fr_CA", "fr"},       {"français", "fr"},
      {"pt_BR.UTF-8", "pt"}, {"Portuguese", "pt"}, {"ita", "it"},
      {"nl-BE", "nl"},     {"Dutch", "nl"},       {"RU", "ru"},
      {"русский", "ru"},   {"ukr", "uk"},         {"uk-UA", "uk"},
      {"he-IL", "he"},     {"iw", "he"},          {"Hebrew", "he"},
      {"עברית", "he"},     {"ar-EG", "ar"},       {"Arabic", "ar"},
      {"th_TH", "th"},     {"Thai", "th"},        {"zh-Hant-TW", "zh"},
      {"ja", "ja"},        {"sw", "sw"},          {"in", "id"},
      {"nb", "nb"},        {"und", "und"},        {"UND", "und"},
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
    const char *got = fmi_lang_canonical(pairs[i][0]);
    if (!got || strcmp(got, pairs[i][1]) != 0)
      fail_msg("\"%s\": expected %s, got %s", pairs[i][0], pairs[i][1],
               got ? got : "NULL");
  }
  /* Static strings: the same pointer every time. */
  assert_ptr_equal(fmi_lang_canonical("en-US"), fmi_lang_canonical("EN"));
  assert_null(fmi_lang_canonical(NULL));
  assert_null(fmi_lang_canonical(""));
  assert_null(fmi_lang_canonical("-US"));
  assert_null(fmi_lang_canonical("e"));
  assert_null(fmi_lang_canonical("xx"));
  assert_null(fmi_lang_canonical("qq-QQ"));
  assert_null(fmi_lang_canonical("klingon"));
  assert_null(fmi_lang_canonical("zz-extremely-long-region-subtag"));
  assert_null(fmi_lang_canonical("averyveryveryverylonglanguagenamewithoutdashes"));
}

/* ---- stopwords ---------------------------------------------------------- */

static int sw(const char *lang, const char *w) {
  return fmi_is_stopword(lang, w, strlen(w));
}

static void test_stopwords(void **state) {
  static const char *const yes[][2] = {
      {"en", "the"},  {"en", "and"},  {"en", "it's"}, {"de", "und"},
      {"de", "dass"}, {"es", "el"},   {"es", "también"}, {"fr", "le"},
      {"fr", "c'est"}, {"pt", "você"}, {"pt", "no"},  {"it", "il"},
      {"it", "della"}, {"nl", "het"}, {"nl", "zijn"}, {"ru", "это"},
      {"ru", "который"}, {"uk", "це"}, {"uk", "який"}, {"he", "של"},
      {"he", "הוא"},  {"ar", "في"},   {"ar", "الي"},  {"ar", "علي"},
      {"th", "ที่"},   {"th", "และ"},  {"th", "ของ"},
  };
  static const char *const no[][2] = {
      {"en", "not"},   {"en", "no"},    {"en", "never"}, {"en", "refund"},
      {"en", "don't"}, {"de", "nicht"}, {"de", "kein"},  {"de", "rechnung"},
      {"es", "no"},    {"es", "nunca"}, {"es", "factura"}, {"fr", "pas"},
      {"fr", "ne"},    {"fr", "facture"}, {"pt", "não"}, {"pt", "sem"},
      {"it", "non"},   {"it", "mai"},   {"nl", "niet"},  {"nl", "geen"},
      {"ru", "не"},    {"ru", "нет"},   {"ru", "счёт"},  {"uk", "не"},
      {"uk", "ні"},    {"he", "לא"},    {"he", "אין"},   {"he", "חשבונית"},
      {"ar", "لا"},    {"ar", "لم"},    {"ar", "ليس"},   {"th", "ไม่"},
      {"th", "ไม่ได้"}, {"th", "แอป"},
      /* Other languages' words and languages without a list. */
      {"de", "the"},   {"en", "und"},   {"und", "the"},  {"xx", "the"},
      {"el", "και"},
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
    if (!sw(yes[i][0], yes[i][1]))
      fail_msg("%s \"%s\" should be a stopword", yes[i][0], yes[i][1]);
  for (i = 0; i < sizeof no / sizeof no[0]; i++)
    if (sw(no[i][0], no[i][1]))
      fail_msg("%s \"%s\" should not be a stopword", no[i][0], no[i][1]);
  /* Text that skipped normalization still matches. */
  assert_true(sw("en", "The"));
  assert_true(sw("en", "It\xE2\x80\x99s"));
  assert_false(sw("en", ""));
  assert_false(sw(NULL, "the"));
}

/* Every list: sorted for bsearch, 100-250 words, no negator and no
 * placeholder on it. */
static void test_stopword_lists(void **state) {
  static const char *const langs[] = {"ar", "de", "en", "es", "fr", "he",
                                      "it", "nl", "pt", "ru", "th", "uk"};
  size_t i, j;
  (void)state;
  assert_int_equal(fmi_stoplist_count, 12);
  for (i = 0; i < fmi_stoplist_count; i++) {
    const fmi_stoplist *l = &fmi_stoplists[i];
    assert_string_equal(l->lang, langs[i]);
    if (l->n < 100 || l->n > 250)
      fail_msg("%s has %zu stopwords", l->lang, l->n);
    for (j = 0; j < l->n; j++) {
      const char *w = l->words[j];
      if (j > 0 && strcmp(l->words[j - 1], w) >= 0)
        fail_msg("%s: \"%s\" out of order", l->lang, w);
      if (fmi_is_negator(l->lang, w, strlen(w)))
        fail_msg("%s: negator \"%s\" is on the stopword list", l->lang, w);
      if (w[0] == '<' || strchr(w, ' '))
        fail_msg("%s: \"%s\" is not a word", l->lang, w);
      assert_true(fmi_is_stopword(l->lang, w, strlen(w)));
    }
  }
  assert_null(fmi_stoplists[fmi_stoplist_count].lang);
}

/* The word table behind fmi_is_stopword and fmi_is_negator
 * (langid_profiles.h) must hold exactly the compiled stopword lists and
 * the negator lists; tools/langid/gen_profiles.py generates it and has to
 * be rerun after a list is edited. */
static bool on_stoplist(const char *lang, const char *w) {
  size_t i, j;
  for (i = 0; i < fmi_stoplist_count; i++)
    if (strcmp(fmi_stoplists[i].lang, lang) == 0)
      for (j = 0; j < fmi_stoplists[i].n; j++)
        if (strcmp(fmi_stoplists[i].words[j], w) == 0) return true;
  return false;
}

static bool on_negator_list(const char *lang, const char *w) {
  size_t i, n;
  const char *const *l = fmi_negator_list(lang, &n);
  for (i = 0; i < n; i++)
    if (strcmp(l[i], w) == 0) return true;
  return false;
}

static const fmi_lw_entry *table_entry(const char *w) {
  size_t k;
  for (k = 0; k < FMI_LW_COUNT; k++)
    if (strcmp(fmi_lw_words[k].word, w) == 0) return &fmi_lw_words[k];
  return NULL;
}

/* The two-step lookup the pipeline uses (one probe per word for
 * identification and stopwords) answers as fmi_word_class does, for every
 * listed word, capitalized, with U+2019, with a suffix, too long, and for
 * languages inside and outside the word table. */
static void check_word_bits(const char *w) {
  static const char *const langs[] = {"en", "de", "es", "fr", "pt", "it",
                                      "nl", "ru", "uk", "he", "ar", "th",
                                      "und", "sv", "el", "xx", ""};
  char buf[160];
  size_t i, k, n = strlen(w);
  for (k = 0; k < 5; k++) {
    const char *v = w;
    size_t vn = n;
    if (k == 1) { /* ASCII capitals */
      for (i = 0; i < n && i < sizeof buf; i++)
        buf[i] = w[i] >= 'a' && w[i] <= 'z' ? (char)(w[i] - 32) : w[i];
      v = buf;
    } else if (k == 2 && n + 3 < sizeof buf) { /* ' as U+2019 */
      size_t o = 0;
      for (i = 0; i < n; i++) {
        if (w[i] == '\'') {
          memcpy(buf + o, "\xE2\x80\x99", 3);
          o += 3;
        } else {
          buf[o++] = w[i];
        }
      }
      v = buf;
      vn = o;
    } else if (k == 3 && n + 1 < sizeof buf) {
      memcpy(buf, w, n);
      buf[n] = 's';
      v = buf;
      vn = n + 1;
    } else if (k == 4 && n + 48 < sizeof buf) {
      memcpy(buf, w, n);
      memset(buf + n, 'x', 48);
      v = buf;
      vn = n + 48;
    }
    for (i = 0; i < sizeof langs / sizeof langs[0]; i++) {
      int li = fmi_word_lang(langs[i]);
      unsigned want = fmi_word_class(langs[i], v, vn);
      if (li < 0) continue;
      if (fmi_word_class_bits(li, fmi_word_bits(v, vn)) != want)
        fail_msg("%s \"%.*s\": word bits %u, fmi_word_class %u", langs[i],
                 (int)vn, v, fmi_word_class_bits(li, fmi_word_bits(v, vn)),
                 want);
    }
  }
}

static void test_word_bits(void **state) {
  size_t i, j, n;
  int l;
  (void)state;
  for (l = 0; l < FMI_LW_NLANG; l++) {
    const char *const *neg = fmi_negator_list(fmi_lw_langs[l], &n);
    for (j = 0; j < n; j++) check_word_bits(neg[j]);
    assert_int_equal(fmi_word_lang(fmi_lw_langs[l]), l);
  }
  for (i = 0; i < fmi_stoplist_count; i++)
    for (j = 0; j < fmi_stoplists[i].n; j++)
      check_word_bits(fmi_stoplists[i].words[j]);
  check_word_bits("don't");
  check_word_bits("isn't");
  check_word_bits("n'importe");
  check_word_bits("ไม่ดี");
  check_word_bits("export");
  check_word_bits("a");
  assert_int_equal(fmi_word_lang("und"), -1);
  assert_int_equal(fmi_word_lang("sv"), -1);
  assert_int_equal(fmi_word_lang(NULL), -1);
  assert_int_equal(fmi_word_bits("", 0), 0);
}

/* fmi_langid_cached without a cache, given each word's bits, identifies
 * as fmi_langid. */
static void test_langid_bits(void **state) {
  static const char *const texts[] = {
      "the export does not work since the last update",
      "seit dem letzten update funktioniert der export nicht mehr",
      "desde la última actualización la exportación no funciona",
      "depuis la dernière mise à jour l'exportation ne fonctionne plus",
      "экспорт не работает после последнего обновления",
      "експорт не працює після останнього оновлення",
      "Don’t cancel my SUBSCRIPTION, it isn't broken",
      "pizza", "taxi taxi", "il n'y a rien"};
  static fmi_seg segs[512];
  uint32_t bits[512];
  size_t i, k;
  (void)state;
  for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    const char *t = texts[i];
    size_t n = split(t, segs, 512);
    for (k = 0; k < n; k++)
      bits[k] = fmi_word_bits(t + segs[k].start, segs[k].end - segs[k].start);
    assert_string_equal(fmi_langid_cached(t, strlen(t), segs, n, bits, NULL),
                        fmi_langid(t, strlen(t), segs, n));
    assert_string_equal(fmi_langid_cached(t, strlen(t), segs, n, NULL, NULL),
                        fmi_langid(t, strlen(t), segs, n));
  }
}

/* Through the per-tagger word cache: the same bits and languages, on a
 * first and a second sight of each word, for words with letters whose
 * count is capped per text (ä, ñ, ê, і, ы), over 24 bytes (not cached),
 * and after thousands of other words have gone through the cache. */
static void test_langid_word_cache(void **state) {
  static const char *const texts[] = {
      "the export does not work since the last update",
      "seit dem letzten update funktioniert der export nicht mehr",
      "ä ö ü ä ö ü ä ö ü größe äußerst übermäßig ärgerlich",
      "ñ ñ ñ ñ ñ señor año mañana pequeño",
      "depuis la dernière mise à jour l'exportation ne fonctionne plus",
      "être même fenêtre tête forêt",
      "экспорт не работает после последнего обновления ы ы ы ы ы",
      "експорт не працює після останнього оновлення і і і і ї є",
      "internationalizationsmanagementsystem supercalifragilisticexpialidocious",
      "Don’t cancel my SUBSCRIPTION, it isn't broken",
      "pizza", "taxi taxi", "il n'y a rien", "a'b'c'd'e'f'g'h'i'j'k'l"};
  static fmi_seg segs[512];
  uint32_t bits[512], cbits[512];
  fmi_words *c;
  fm_error err;
  size_t i, k, round;
  char w[32];
  (void)state;
  assert_int_equal(fmi_words_new(&c, &err), FM_OK);
  for (round = 0; round < 3; round++) {
    for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
      const char *t = texts[i];
      size_t n = split(t, segs, 512);
      for (k = 0; k < n; k++) {
        const char *sw = t + segs[k].start;
        size_t sl = segs[k].end - segs[k].start;
        bits[k] = fmi_word_bits(sw, sl);
        cbits[k] = fmi_words_bits(c, sw, sl);
        assert_int_equal(cbits[k], bits[k]);
      }
      assert_string_equal(fmi_langid_cached(t, strlen(t), segs, n, cbits, c),
                          fmi_langid(t, strlen(t), segs, n));
      assert_string_equal(fmi_langid_cached(t, strlen(t), segs, n, NULL, c),
                          fmi_langid(t, strlen(t), segs, n));
      /* unknown bits: filled in for the words read, the same answer */
      for (k = 0; k < n; k++) cbits[k] = FMI_WORD_BITS_UNKNOWN;
      assert_string_equal(fmi_langid_cached(t, strlen(t), segs, n, cbits, c),
                          fmi_langid(t, strlen(t), segs, n));
      for (k = 0; k < n; k++)
        assert_true(cbits[k] == FMI_WORD_BITS_UNKNOWN || cbits[k] == bits[k]);
      for (k = 0; k < n; k++) cbits[k] = FMI_WORD_BITS_UNKNOWN;
      assert_string_equal(fmi_langid_cached(t, strlen(t), segs, n, cbits,
                                            NULL),
                          fmi_langid(t, strlen(t), segs, n));
      for (k = 0; k < n; k++)
        assert_true(cbits[k] == FMI_WORD_BITS_UNKNOWN || cbits[k] == bits[k]);
    }
    for (k = 0; k < 10000; k++) { /* evict */
      size_t wl = (size_t)snprintf(w, sizeof w, "w%zux", k * 7919);
      assert_int_equal(fmi_words_bits(c, w, wl), fmi_word_bits(w, wl));
    }
  }
  fmi_words_free(c);
  fmi_words_free(NULL);
}

static void test_word_table(void **state) {
  size_t i, j, n;
  int l;
  (void)state;
  for (l = 0; l < FMI_LP_NLANG; l++)
    assert_string_equal(fmi_lp_langs[l], fmi_lw_langs[l]);
  for (i = 0; i < FMI_LW_COUNT; i++) {
    const fmi_lw_entry *e = &fmi_lw_words[i];
    assert_int_equal(e->len, strlen(e->word));
    for (l = 0; l < FMI_LW_NLANG; l++) {
      const char *lang = fmi_lw_langs[l];
      if (!!(e->stop & (1u << l)) != on_stoplist(lang, e->word))
        fail_msg("%s \"%s\": word table and stopword list disagree; rerun "
                 "tools/langid/gen_profiles.py", lang, e->word);
      if (!!(e->neg & (1u << l)) != on_negator_list(lang, e->word))
        fail_msg("%s \"%s\": word table and negator list disagree; rerun "
                 "tools/langid/gen_profiles.py", lang, e->word);
    }
  }
  for (l = 0; l < FMI_LW_NLANG; l++) {
    const char *lang = fmi_lw_langs[l];
    const char *const *neg = fmi_negator_list(lang, &n);
    assert_non_null(neg);
    for (j = 0; j < n; j++) {
      const fmi_lw_entry *e = table_entry(neg[j]);
      if (!e || !(e->neg & (1u << l)))
        fail_msg("%s negator \"%s\" missing from the word table; rerun "
                 "tools/langid/gen_profiles.py", lang, neg[j]);
    }
    for (i = 0; i < fmi_stoplist_count; i++) {
      const fmi_stoplist *sl = &fmi_stoplists[i];
      if (strcmp(sl->lang, lang) != 0) continue;
      for (j = 0; j < sl->n; j++) {
        const fmi_lw_entry *e = table_entry(sl->words[j]);
        if (!e || !(e->stop & (1u << l)))
          fail_msg("%s stopword \"%s\" missing from the word table; rerun "
                   "tools/langid/gen_profiles.py", lang, sl->words[j]);
      }
    }
  }
  assert_null(fmi_negator_list("el", &n));
  assert_int_equal(n, 0);
  assert_null(fmi_negator_list(NULL, &n));
}

/* ---- negators ----------------------------------------------------------- */

static int neg(const char *lang, const char *w) {
  return fmi_is_negator(lang, w, strlen(w));
}

static void test_negators(void **state) {
  static const char *const yes[][2] = {
      {"en", "not"},     {"en", "no"},       {"en", "never"},
      {"en", "without"}, {"en", "don't"},    {"en", "dont"},
      {"en", "isn't"},   {"en", "shouldn't"}, {"en", "cannot"},
      {"en", "nothing"}, {"de", "nicht"},    {"de", "keine"},
      {"de", "niemals"}, {"de", "ohne"},     {"es", "no"},
      {"es", "nunca"},   {"es", "jamás"},    {"es", "sin"},
      {"fr", "ne"},      {"fr", "pas"},      {"fr", "jamais"},
      {"fr", "n'est"},   {"fr", "aucune"},   {"pt", "não"},
      {"pt", "nunca"},   {"pt", "sem"},      {"it", "non"},
      {"it", "mai"},     {"nl", "niet"},     {"nl", "geen"},
      {"nl", "nooit"},   {"ru", "не"},       {"ru", "нет"},
      {"ru", "никогда"}, {"uk", "не"},       {"uk", "ні"},
      {"uk", "ніколи"},  {"he", "לא"},       {"he", "אין"},
      {"he", "בלי"},     {"he", "מעולם"},    {"ar", "لا"},
      {"ar", "ما"},      {"ar", "لم"},       {"ar", "لن"},
      {"ar", "ليس"},     {"ar", "بدون"},     {"th", "ไม่"},
      {"th", "ไม่ได้"},   {"th", "ไม่มี"},     {"th", "อย่า"},
  };
  static const char *const no[][2] = {
      {"en", "note"},  {"en", "knot"},  {"en", "nothingness"}, {"en", "the"},
      {"en", "n't"},   {"en", "nicht"}, {"de", "nichte"}, {"de", "not"},
      {"es", "nota"},  {"fr", "nous"},  {"pt", "no"},
      {"pt", "nos"},   {"it", "nonna"}, {"ru", "нет-нет"}, {"ru", "немного"},
      {"he", "לאט"},   {"ar", "مال"},   {"th", "ได้"},    {"en", ""},
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
    if (!neg(yes[i][0], yes[i][1]))
      fail_msg("%s \"%s\" should be a negator", yes[i][0], yes[i][1]);
  for (i = 0; i < sizeof no / sizeof no[0]; i++)
    if (neg(no[i][0], no[i][1]))
      fail_msg("%s \"%s\" should not be a negator", no[i][0], no[i][1]);
  /* "und" (and NULL) consult every list. */
  assert_true(neg("und", "nicht"));
  assert_true(neg("und", "לא"));
  assert_true(neg("und", "ไม่"));
  assert_true(neg("und", "doesn't"));
  assert_true(neg(NULL, "not"));
  assert_false(neg("und", "table"));
  /* A language without a list has no negators. */
  assert_false(neg("el", "not"));
  /* Capitals and U+2019, as in unnormalized text. */
  assert_true(neg("en", "Don\xE2\x80\x99t"));
  assert_true(neg("en", "NOT"));
}

/* ---- stemming ----------------------------------------------------------- */

static void expect_stem(fmi_stemmers *s, const char *lang, const char *w,
                        const char *want) {
  const char *out;
  size_t len;
  fm_error err;
  assert_int_equal(fmi_stem(s, lang, w, strlen(w), &out, &len, &err), FM_OK);
  if (len != strlen(want) || memcmp(out, want, len) != 0)
    fail_msg("%s \"%s\": expected \"%s\", got \"%.*s\"", lang, w, want,
             (int)len, out);
}

static void test_stem(void **state) {
  fmi_stemmers *s;
  fm_error err;
  const char *out;
  size_t len;
  static const char *const none[] = {"he", "th", "uk", "und", "xx", ""};
  size_t i;
  (void)state;
  assert_int_equal(fmi_stemmers_new(&s, &err), FM_OK);
  expect_stem(s, "en", "connections", "connect");
  expect_stem(s, "en", "running", "run");
  expect_stem(s, "en", "cancelled", "cancel");
  expect_stem(s, "ru", "подключения", "подключен");
  expect_stem(s, "de", "verbindungen", "verbind");
  expect_stem(s, "es", "conexiones", "conexion");
  expect_stem(s, "fr", "connexions", "connex");
  expect_stem(s, "pt", "conexões", "conexõ");
  expect_stem(s, "it", "connessioni", "connession");
  expect_stem(s, "nl", "verbindingen", "verbind");
  expect_stem(s, "ar", "المستخدمين", "مستخدم");
  expect_stem(s, "el", "συνδέσεις", "συνδεσ");
  /* Back to a stemmer made before: still right. */
  expect_stem(s, "en", "connections", "connect");

  /* The same word in another language is another stem, cached apart. */
  expect_stem(s, "es", "connections", "connections");
  expect_stem(s, "en", "connections", "connect");
  expect_stem(s, "fr", "connections", "connect");
  expect_stem(s, "en", "connexions", "connexion");

  /* Stems stay right when the cache has been overwritten many times
   * over, and for words too long to be cached. */
  {
    static const char *const words[] = {
        "reports", "exported", "notifications", "cancelled", "billing",
        "internationalizationsmanagement", "pricing", "integrations"};
    char first[8][64], w[32];
    size_t k;
    for (k = 0; k < 8; k++) {
      assert_int_equal(fmi_stem(s, "en", words[k], strlen(words[k]), &out,
                                &len, &err),
                       FM_OK);
      assert_true(len < sizeof first[k]);
      memcpy(first[k], out, len);
      first[k][len] = 0;
    }
    for (k = 0; k < 40000; k++) {
      snprintf(w, sizeof w, "word%zuings", k);
      assert_int_equal(fmi_stem(s, "en", w, strlen(w), &out, &len, &err),
                       FM_OK);
    }
    for (k = 0; k < 8; k++) expect_stem(s, "en", words[k], first[k]);
    assert_string_equal(first[0], "report");
    assert_string_equal(first[1], "export");
  }

  /* No stemmer: the word itself, same pointer. */
  for (i = 0; i < sizeof none / sizeof none[0]; i++) {
    const char *w = "עובדים";
    assert_int_equal(fmi_stem(s, none[i], w, strlen(w), &out, &len, &err),
                     FM_OK);
    assert_ptr_equal(out, w);
    assert_int_equal(len, strlen(w));
  }
  assert_int_equal(fmi_stem(s, NULL, "word", 4, &out, &len, &err), FM_OK);
  assert_int_equal(len, 4);
  assert_int_equal(fmi_stem(s, "en", "", 0, &out, &len, &err), FM_OK);
  assert_int_equal(len, 0);
  fmi_stemmers_free(s);
  fmi_stemmers_free(NULL);

  assert_true(fmi_has_stemmer("en"));
  assert_true(fmi_has_stemmer("de"));
  assert_true(fmi_has_stemmer("es"));
  assert_true(fmi_has_stemmer("fr"));
  assert_true(fmi_has_stemmer("pt"));
  assert_true(fmi_has_stemmer("it"));
  assert_true(fmi_has_stemmer("nl"));
  assert_true(fmi_has_stemmer("ru"));
  assert_true(fmi_has_stemmer("ar"));
  assert_true(fmi_has_stemmer("el"));
  assert_false(fmi_has_stemmer("he"));
  assert_false(fmi_has_stemmer("th"));
  assert_false(fmi_has_stemmer("uk"));
  assert_false(fmi_has_stemmer("und"));
  assert_false(fmi_has_stemmer(NULL));
}

static void test_stem_alloc_failures(void **state) {
  long k;
  (void)state;
  for (k = 0;; k++) {
    fmi_stemmers *s = NULL;
    fm_error err;
    fm_status st;
    const char *out = NULL;
    size_t len = 0;
    fmi_fault_fail_after(k);
    st = fmi_stemmers_new(&s, &err);
    if (st == FM_OK) {
      st = fmi_stem(s, "en", "connections", 11, &out, &len, &err);
      if (st == FM_OK) {
        assert_int_equal(len, 7);
        assert_memory_equal(out, "connect", 7);
      }
    } else {
      assert_null(s);
    }
    fmi_fault_fail_after(-1);
    fmi_stemmers_free(s);
    if (st == FM_OK) break;
    assert_int_equal(st, FM_ENOMEM);
    assert_int_equal(err.code, FM_ENOMEM);
    assert_true(k < 100);
  }
  assert_int_equal(k, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_langid_sentences),
      cmocka_unit_test(test_langid_und),
      cmocka_unit_test(test_langid_sample),
      cmocka_unit_test(test_lang_canonical),
      cmocka_unit_test(test_stopwords),
      cmocka_unit_test(test_stopword_lists),
      cmocka_unit_test(test_word_table),
      cmocka_unit_test(test_word_bits),
      cmocka_unit_test(test_langid_bits),
      cmocka_unit_test(test_langid_word_cache),
      cmocka_unit_test(test_negators),
      cmocka_unit_test(test_stem),
      cmocka_unit_test(test_stem_alloc_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
