/*
 * test_segment.c -- word segmentation. The fast path must give ICU's words
 * on realistic feedback in en, de, fr, es, pt, ru, he and ar, raw and
 * normalized; dictionary scripts (Thai, Lao, Khmer, Chinese, Japanese)
 * give ICU's dictionary words; exact tokens for apostrophes, numbers,
 * Hebrew gershayim, e-mail-like words, emoji, placeholders, punctuation,
 * sentence ends and line breaks; empty and punctuation-only text; a 5 MiB
 * text; the arena cap; allocation failures over new + normalize + segment.
 */
#include "testutil.h"

#include "normalize.h"
#include "redact.h"
#include "segment.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct fixture {
  fmi_segmenter *s;
  fmi_normalizer *n;
  fmi_arena arena;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  fm_error err;
  assert_non_null(f);
  assert_int_equal(fmi_segmenter_new(&f->s, &err), FM_OK);
  assert_int_equal(fmi_normalizer_new(&f->n, &err), FM_OK);
  fmi_arena_init(&f->arena, 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  fmi_segmenter_free(f->s);
  fmi_normalizer_free(f->n);
  fmi_arena_free(&f->arena);
  free(f);
  return 0;
}

/* ---- fixtures: customer feedback, written for these tests ---------------
 * U+E001 and U+E002 stand where redaction put a URL and a phone number. */
#define URL "\xEE\x80\x81"
#define PHONE "\xEE\x80\x82"

static const char *const EN[] = {
    "I can't log in since yesterday's update -- the app just says "
    "\"error 403\".",
    "We've been customers for 3.5 years, but the price went up 20% and "
    "that's too much.",
    "Please add dark mode!!! My eyes hurt at 2:00 a.m. 😩",
    "The e-mail export (CSV) drops every row after 1,000 records.",
    "Support was great, thanks to Anna (ticket #48213) 👍🏽",
    "Why doesn't the iOS app sync with Google Calendar? See " URL,
    "Call me back at " PHONE " or write to jo@example.com, ok?",
    "o'clock, rock'n'roll, U.S.A., e.g. and i.e. are tricky; so is "
    "naïve café.",
    "Version 2.4.1 broke the PDF viewer -- pages 3-5 are blank.",
    "We switched to a competitor: cheaper, faster and their API_v2 "
    "actually works.",
    "It's the customers' data, not the vendor's!",
};

static const char *const DE[] = {
    "Die App stürzt seit dem Update ständig ab, das ist ärgerlich.",
    "Könnten Sie bitte eine Export-Funktion für Excel einbauen?",
    "Wir haben 1.250,50 € bezahlt, aber die Rechnung zeigt 1.300 €.",
    "Der Kundenservice war super freundlich – vielen Dank an Herrn Müller!",
    "Seit 3 Wochen warte ich auf eine Antwort. Unglaublich!!!",
    "Die Synchronisierung mit Outlook funktioniert nicht, z.B. bei "
    "Serienterminen.",
    "Preis-Leistungs-Verhältnis stimmt nicht mehr, wir kündigen zum "
    "31.12.",
    "Bitte rufen Sie mich unter " PHONE " zurück.",
    "Größe, Straße und Maß werden falsch sortiert.",
    "Das Dashboard lädt ewig (ca. 30 Sek.) 😡",
};

static const char *const FR[] = {
    "L'application plante dès que j'ouvre l'onglet « Factures ».",
    "J'aimerais pouvoir exporter mes données en PDF, c'est possible ?",
    "Le service client m'a répondu en 10 minutes, bravo à l'équipe !",
    "Depuis la mise à jour, aujourd'hui, rien ne fonctionne...",
    "Le prix a augmenté de 15 % sans prévenir ; nous partons chez un "
    "concurrent.",
    "Impossible de me connecter avec mon compte Google, voir " URL,
    "C'est lent, très lent : 2,5 secondes par page.",
    "Merci pour l'intégration Slack, elle est très pratique 👏",
    "Pourquoi l'appli n'est-elle pas disponible en arabe ?",
    "Qu'est-ce qu'on attend pour corriger ce bug-là ?",
};

static const char *const ES[] = {
    "¿Por qué la aplicación se cierra cada vez que subo una foto?",
    "¡Excelente atención! Me resolvieron el problema en 5 minutos.",
    "El precio subió un 30% y ya no nos conviene, cancelamos.",
    "No puedo iniciar sesión desde la actualización 3.2.",
    "Sería genial tener modo oscuro y exportar a Excel.",
    "La sincronización con el calendario falla los lunes; revisen por "
    "favor.",
    "Llámenme al " PHONE ", gracias.",
    "El informe mensual no muestra las sucursales de Bogotá y Medellín.",
    "Muy lento 🐢 tarda 20 segundos en cargar.",
    "Pagamos 1.500,00 USD y el descuento no se aplicó.",
};

static const char *const PT[] = {
    "O aplicativo trava sempre que tento abrir o relatório.",
    "Gostaria de integração com o WhatsApp, é possível?",
    "O atendimento foi ótimo, resolveram tudo em 10 minutos!",
    "Não consigo fazer login desde a última atualização.",
    "O preço aumentou 25% e vamos cancelar a assinatura.",
    "A sincronização com o Google Agenda não funciona, veja " URL,
    "Por favor, adicionem exportação para PDF e CSV.",
    "Está muito lento... demora 15 s para carregar a página 😤",
    "Paguei R$ 1.200,00 e a nota fiscal veio errada.",
    "Vocês poderiam traduzir a interface para o português de Portugal?",
};

static const char *const RU[] = {
    "Приложение вылетает после последнего обновления, пожалуйста, "
    "исправьте.",
    "Не могу войти в аккаунт уже 3 дня!",
    "Поддержка ответила быстро, спасибо Ивану 👍",
    "Цена выросла на 40%, мы переходим к конкуренту.",
    "Добавьте, пожалуйста, экспорт в Excel и тёмную тему.",
    "Синхронизация с календарём не работает, см. " URL,
    "Очень медленно: страница грузится 10-15 секунд.",
    "Отчёт за март показывает неверные суммы — 1 250,50 ₽ вместо 1 300.",
    "Почему нет интеграции с 1С? Это же стандарт.",
    "Позвоните мне по номеру " PHONE ", пожалуйста.",
};

static const char *const HE[] = {
    "האפליקציה קורסת בכל פעם שאני מעלה תמונה.",
    "שירות הלקוחות היה מעולה, תודה רבה לדני!",
    "המחיר עלה ב-30% ואנחנו עוברים למתחרה.",
    "לא מצליח להתחבר מאז העדכון האחרון 😡",
    "אשמח לייצוא לאקסל ולמצב כהה.",
    "הסנכרון עם יומן גוגל לא עובד, ראו " URL,
    "צה\"ל, ארה\"ב ומנכ\"ל הם ראשי תיבות; ג'ירפה וצ'יפס עם גרש.",
    "שָׁלוֹם, המערכת איטית מאוד: 20 שניות לכל דף.",
    "התקשרו אליי למספר " PHONE " בבקשה.",
    "הדוח החודשי לא מציג את הסניפים בחיפה ובבאר שבע.",
};

static const char *const AR[] = {
    "التطبيق يتوقف عن العمل كلما حاولت رفع صورة.",
    "خدمة العملاء ممتازة جداً، شكراً لكم!",
    "ارتفع السعر بنسبة ٣٠٪ ولذلك قررنا الإلغاء.",
    "لا أستطيع تسجيل الدخول منذ التحديث الأخير 😞",
    "أتمنى إضافة خاصية التصدير إلى Excel.",
    "المزامنة مع التقويم لا تعمل، انظر " URL,
    "الفاتورة تحتوي على مبلغ ٢٥٠ دولاراً إضافياً، ما السبب؟",
    "التطبيـــق بطيء جداً على أجهزة أندرويد القديمة.",
    "أَهْلاً وَسَهْلاً، نرجو الاتصال على " PHONE ".",
    "اخترنا المنافس لأن عرضه كان أرخص بـ ٥٠٠٠ ريال سنوياً.",
};

typedef struct lang_fixtures {
  const char *lang;
  const char *const *texts;
  size_t n;
} lang_fixtures;

#define LANG(code, arr) {code, arr, sizeof arr / sizeof *arr}
static const lang_fixtures LANGS[] = {
    LANG("en", EN), LANG("de", DE), LANG("fr", FR), LANG("es", ES),
    LANG("pt", PT), LANG("ru", RU), LANG("he", HE), LANG("ar", AR),
};

/* ---- helpers ---------------------------------------------------------- */

static fmi_seg *seg(fixture *f, const char *text, size_t len, bool dict,
                    size_t *n) {
  fmi_seg *segs = NULL;
  fm_error err;
  assert_int_equal(fmi_segment(f->s, text, len, dict, &f->arena, &segs, n,
                               &err),
                   FM_OK);
  return segs;
}

/* Renders segments as "tok|tok|..." (a zero-width line-break mark as
 * "\n"); with `kinds`, each token is prefixed by its kind letter. */
static const char *render(const char *text, const fmi_seg *s, size_t n,
                          bool kinds) {
  static char buf[8192];
  static const char K[] = "wnepP";
  size_t i, used = 0;
  buf[0] = 0;
  for (i = 0; i < n; i++) {
    int w;
    assert_true(s[i].start <= s[i].end);
    if (i) assert_true(s[i].start >= s[i - 1].end);
    assert_true(s[i].kind <= FM_TOKEN_PLACEHOLDER);
    if (s[i].start == s[i].end) {
      assert_int_equal(s[i].kind, FM_TOKEN_PUNCT);
      assert_int_equal(s[i].sentence_end, 1);
      w = snprintf(buf + used, sizeof buf - used, "%s\\n", i ? "|" : "");
    } else {
      w = snprintf(buf + used, sizeof buf - used, "%s%s%.*s", i ? "|" : "",
                   kinds ? (char[]){K[s[i].kind], ':', 0} : "",
                   (int)(s[i].end - s[i].start), text + s[i].start);
    }
    assert_true(w >= 0 && (size_t)w < sizeof buf - used);
    used += (size_t)w;
  }
  return buf;
}

static const char *tokens(fixture *f, const char *text, bool dict) {
  size_t n;
  fmi_seg *s = seg(f, text, strlen(text), dict, &n);
  return render(text, s, n, false);
}

#define TOKENS(text, want) assert_string_equal(tokens(f, text, true), want)

/* Asserts that the fast path's words and numbers are ICU's, in order,
 * with the same offsets, kinds and scripts; with `both`, also without
 * dictionaries (the same for text in scripts written with spaces).
 * Returns how many words there were. */
static size_t same_words_as_icu(fixture *f, const char *text, size_t len,
                                bool both) {
  fmi_seg *a, *b;
  size_t na, nb, i, j = 0;
  fm_error err;
  bool dict;
  for (dict = !both; ; dict = true) {
    a = seg(f, text, len, dict, &na);
    assert_int_equal(fmi_segment_icu_only(f->s, text, len, &f->arena, &b,
                                          &nb, &err),
                     FM_OK);
    for (i = 0, j = 0; i < na; i++) {
      if (a[i].kind != FM_TOKEN_WORD && a[i].kind != FM_TOKEN_NUMBER)
        continue;
      if (j >= nb || a[i].start != b[j].start || a[i].end != b[j].end) {
        print_error("fast path: %s\n", render(text, a, na, true));
        print_error("ICU:       %s\n", render(text, b, nb, true));
        fail_msg("word %zu differs from ICU's in \"%.*s\"", j, (int)len,
                 text);
      }
      assert_int_equal(a[i].kind, b[j].kind);
      assert_int_equal(a[i].script, b[j].script);
      j++;
    }
    assert_int_equal(j, nb);
    if (dict) break;
  }
  return nb;
}

/* ---- tests ------------------------------------------------------------ */

static void test_fast_path_matches_icu(void **state) {
  fixture *f = *state;
  size_t l, i;
  for (l = 0; l < sizeof LANGS / sizeof *LANGS; l++) {
    size_t words = 0;
    for (i = 0; i < LANGS[l].n; i++) {
      const char *t = LANGS[l].texts[i];
      char *norm;
      size_t norm_len;
      fm_error err;
      fmi_arena_reset(&f->arena);
      words += same_words_as_icu(f, t, strlen(t), true);
      assert_int_equal(fmi_normalize(f->n, t, strlen(t), &f->arena, &norm,
                                     &norm_len, &err),
                       FM_OK);
      same_words_as_icu(f, norm, norm_len, true);
    }
    assert_true(words >= 5 * LANGS[l].n); /* the fixtures are sentences */
  }
}

static void test_latin_tokens(void **state) {
  fixture *f = *state;
  TOKENS("I can't log in -- don't!", "I|can't|log|in|-|-|don't|!");
  TOKENS("o'clock e.g. U.S.A. rock'n'roll",
         "o'clock|e.g|.|U.S.A|.|rock'n'roll");
  TOKENS("3.14 1,000 2.4.1 10:30 20% $5", "3.14|1,000|2.4.1|10|:|30|20|%|$|5");
  TOKENS("jo@example.com @anna #tag", "jo@example.com|@anna|#|tag");
  TOKENS("API_v2 foo_bar _ __", "API_v2|foo_bar|_|__");
  TOKENS("customers' data", "customers|'|data");
  TOKENS("a:b 3rd mp3 i18n", "a|:|b|3rd|mp3|i18n");
  TOKENS("naïve CAFÉ Größe", "naïve|CAFÉ|Größe");
}

static void test_kinds_and_scripts(void **state) {
  fixture *f = *state;
  const char *t = "Hi 42 צה\"ל مرحبا ١٢٣ Привет 👍🏽 \xEE\x80\x82 ?";
  size_t n;
  fmi_seg *s = seg(f, t, strlen(t), true, &n);
  assert_string_equal(render(t, s, n, true),
                      "w:Hi|n:42|w:צה\"ל|w:مرحبا|n:١٢٣|w:Привет|e:👍🏽|"
                      "P:\xEE\x80\x82|p:?");
  assert_int_equal(n, 9);
  assert_int_equal(s[0].script, FMI_SCRIPT_LATIN);
  assert_int_equal(s[1].script, FMI_SCRIPT_OTHER);
  assert_int_equal(s[2].script, FMI_SCRIPT_HEBREW);
  assert_int_equal(s[3].script, FMI_SCRIPT_ARABIC);
  assert_int_equal(s[4].script, FMI_SCRIPT_ARABIC);
  assert_int_equal(s[5].script, FMI_SCRIPT_CYRILLIC);
  assert_int_equal(s[7].pii, FMI_PII_PHONE);
  /* "3rd": the script of its first letter. */
  s = seg(f, "3rd", 3, true, &n);
  assert_int_equal(n, 1);
  assert_int_equal(s[0].kind, FM_TOKEN_WORD);
  assert_int_equal(s[0].script, FMI_SCRIPT_LATIN);
}

static void test_hebrew_arabic_tokens(void **state) {
  fixture *f = *state;
  TOKENS("צה\"ל, ארה״ב ג'ירפה שלום' ב-30%",
         "צה\"ל|,|ארה״ב|ג'ירפה|שלום'|ב|-|30|%");
  TOKENS("שָׁלוֹם עוֹלָם", "שָׁלוֹם|עוֹלָם");
  TOKENS("مرحباً، كيف الحال؟ ٣٫١٤ و١٬٠٠٠", "مرحباً|،|كيف|الحال|؟|٣٫١٤|و١٬٠٠٠");
  TOKENS("التطبيـــق", "التطبيـــق");
}

static void test_emoji(void **state) {
  fixture *f = *state;
  const char *t = "great👍🏽app 👨‍👩‍👧 🇺🇸🇫🇷 ❤️ 😀😀";
  size_t n;
  fmi_seg *s = seg(f, t, strlen(t), true, &n);
  assert_string_equal(render(t, s, n, true),
                      "w:great|e:👍🏽|w:app|e:👨‍👩‍👧|e:🇺🇸|e:🇫🇷|e:❤️|e:😀|e:😀");
}

static void test_placeholders(void **state) {
  fixture *f = *state;
  const char *t = "mail " "\xEE\x80\x80" " or" "\xEE\x80\x85" "now";
  size_t n;
  fmi_seg *s = seg(f, t, strlen(t), true, &n);
  assert_string_equal(render(t, s, n, true),
                      "w:mail|P:\xEE\x80\x80|w:or|P:\xEE\x80\x85|w:now");
  assert_int_equal(s[1].pii, FMI_PII_EMAIL);
  assert_int_equal(s[3].pii, FMI_PII_IP);
  /* Other private-use characters are symbols, not placeholders. */
  s = seg(f, "\xEF\xA3\xBF", 3, true, &n);
  assert_int_equal(n, 1);
  assert_int_equal(s[0].kind, FM_TOKEN_PUNCT);
}

static void test_sentence_ends(void **state) {
  fixture *f = *state;
  const char *t = "Hi. Ok! Why? a; b… c, d: e - f ؟ ۔ 。 ！";
  size_t n, i;
  fmi_seg *s = seg(f, t, strlen(t), true, &n);
  char ends[64] = "";
  for (i = 0; i < n; i++)
    if (s[i].kind == FM_TOKEN_PUNCT)
      strcat(ends, s[i].sentence_end ? "1" : "0");
  assert_string_equal(render(t, s, n, false),
                      "Hi|.|Ok|!|Why|?|a|;|b|…|c|,|d|:|e|-|f|؟|۔|。|！");
  /*                . ! ? ; … , : - ؟ ۔ 。 ！ */
  assert_string_equal(ends, "111110001111");
}

static void test_line_breaks(void **state) {
  fixture *f = *state;
  const char *t = "first line\n\nsecond\r\nthird \n \n fourth\n";
  size_t n;
  fmi_seg *s = seg(f, t, strlen(t), true, &n);
  assert_string_equal(render(t, s, n, false),
                      "first|line|\\n|second|\\n|third|\\n|fourth|\\n");
  assert_int_equal(s[2].start, 10);
  assert_int_equal(s[4].start, 18);
  /* Line breaks inside Thai text go through ICU and mark the same. */
  t = "ระบบล่ม\nช้ามาก";
  s = seg(f, t, strlen(t), true, &n);
  assert_string_equal(render(t, s, n, false), "ระบบ|ล่ม|\\n|ช้า|มาก");
}

static void test_thai(void **state) {
  fixture *f = *state;
  TOKENS("ระบบล่มบ่อยมาก", "ระบบ|ล่ม|บ่อย|มาก");
  TOKENS("แอปใช้งานไม่ได้เลยค่ะ", "แอป|ใช้|งาน|ไม่|ได้|เลย|ค่ะ");
  TOKENS("พนักงานบริการดีมากครับ", "พนักงาน|บริการ|ดี|มาก|ครับ");
  TOKENS("ราคาแพงเกินไป ไม่คุ้มค่า", "ราคา|แพง|เกิน|ไป|ไม่|คุ้ม|ค่า");
  TOKENS("อยากให้เพิ่มภาษาไทยในรายงาน",
         "อยาก|ให้|เพิ่ม|ภาษา|ไทย|ใน|รายงาน");
  /* Mixed with Latin, digits, punctuation and emoji, as posted. */
  TOKENS("แอป LINE ช้ามาก!! 555 😂", "แอป|LINE|ช้า|มาก|!|!|555|😂");
  TOKENS("(ระบบล่ม) iPhone13ใช้ไม่ได้",
         "(|ระบบ|ล่ม|)|iPhone13ใช้|ไม่|ได้");
  /* Without dictionaries a run of Thai is one token. */
  assert_string_equal(tokens(f, "ระบบล่มบ่อยมาก ช้า", false),
                      "ระบบล่มบ่อยมาก|ช้า");
  {
    const char *t = "ระบบล่มบ่อยมาก";
    size_t n;
    fmi_seg *s = seg(f, t, strlen(t), true, &n);
    assert_int_equal(n, 4);
    assert_int_equal(s[0].kind, FM_TOKEN_WORD);
    assert_int_equal(s[0].script, FMI_SCRIPT_THAI);
    same_words_as_icu(f, t, strlen(t), false);
  }
}

static void test_other_dictionary_scripts(void **state) {
  fixture *f = *state;
  TOKENS("日本語のテキストです", "日本語|の|テキスト|です");
  TOKENS("アプリが起動しません。", "アプリ|が|起動|しま|せん|。");
  TOKENS("我们的系统很慢", "我们|的|系统|很慢");
  TOKENS("ລະບົບຊ້າຫຼາຍ", "ລະບົບ|ຊ້າ|ຫຼາຍ");
  TOKENS("ប្រព័ន្ធយឺតណាស់", "ប្រព័ន្ធ|យឺត|ណាស់");
  TOKENS("한국어 서비스abc", "한국어|서비스|abc");
  assert_string_equal(tokens(f, "日本語のテキスト", false),
                      "日本語のテキスト");
  {
    const char *t = "東京でアプリを使う";
    size_t n;
    fmi_seg *s = seg(f, t, strlen(t), true, &n);
    assert_int_equal(s[0].script, FMI_SCRIPT_HAN);
    assert_int_equal(s[3].script, FMI_SCRIPT_KANA);
    same_words_as_icu(f, t, strlen(t), false);
  }
}

static void test_empty_and_punctuation(void **state) {
  fixture *f = *state;
  size_t n = 99, i;
  fmi_seg *s = (fmi_seg *)1;
  fm_error err;
  const char *t = "?!...,;:--()«»¿¡";
  assert_int_equal(fmi_segment(f->s, "", 0, true, &f->arena, &s, &n, &err),
                   FM_OK);
  assert_int_equal(n, 0);
  assert_null(s);
  assert_int_equal(fmi_segment_icu_only(f->s, "", 0, &f->arena, &s, &n,
                                        &err),
                   FM_OK);
  assert_int_equal(n, 0);
  s = seg(f, "   \t ", 5, true, &n);
  assert_int_equal(n, 0);
  s = seg(f, t, strlen(t), true, &n);
  assert_string_equal(render(t, s, n, false),
                      "?|!|.|.|.|,|;|:|-|-|(|)|«|»|¿|¡");
  for (i = 0; i < n; i++) assert_int_equal(s[i].kind, FM_TOKEN_PUNCT);
  assert_int_equal(same_words_as_icu(f, t, strlen(t), true), 0);
}

/* 5 MiB of all the fixtures: the fast path still gives ICU's words, and
 * cutting at spaces gives the concatenation of the pieces' tokens. */
static void test_big_text(void **state) {
  fixture *f = *state;
  size_t cap = 5u << 20, len = 0, want = 0, l = 0, i = 0, n;
  char *big = malloc(cap + 4096);
  assert_non_null(big);
  while (len < cap) {
    const char *t = LANGS[l].texts[i];
    size_t tl = strlen(t), tn;
    fmi_arena_reset(&f->arena);
    (void)seg(f, t, tl, true, &tn);
    want += tn;
    memcpy(big + len, t, tl);
    len += tl;
    big[len++] = ' ';
    if (++i == LANGS[l].n) {
      i = 0;
      l = (l + 1) % (sizeof LANGS / sizeof *LANGS);
      memcpy(big + len, "ระบบล่มบ่อยมาก ", strlen("ระบบล่มบ่อยมาก "));
      len += strlen("ระบบล่มบ่อยมาก ");
      want += 4;
    }
  }
  fmi_arena_reset(&f->arena);
  (void)seg(f, big, len, true, &n);
  assert_int_equal(n, want);
  fmi_arena_reset(&f->arena);
  assert_true(same_words_as_icu(f, big, len, false) > 500000);
  free(big);
}

static void test_arena_cap(void **state) {
  fixture *f = *state;
  fmi_arena small;
  fmi_seg *s = (fmi_seg *)1;
  size_t n = 5;
  fm_error err;
  char text[4000];
  memset(text, 'a', sizeof text);
  for (n = 1; n < sizeof text; n += 2) text[n] = ' ';
  fmi_arena_init(&small, 1024);
  assert_int_equal(fmi_segment(f->s, text, sizeof text, true, &small, &s, &n,
                               &err),
                   FM_ETOOBIG);
  assert_null(s);
  assert_int_equal(n, 0);
  assert_non_null(strstr(err.msg, "segment"));
  fmi_arena_free(&small);
}

static void test_alloc_failures(void **state) {
  const char *doc = "Die App STÜRZT ab 👨‍👩‍👧 שָׁלוֹם צה\"ל أَهْلاً "
                    "ระบบล่มบ่อยมาก 日本語 \xEE\x80\x81 Cafe\xCC\x81\n"
                    "\xF0\x9D\x90\x80 ՀԱՅ ქართ";
  long k;
  (void)state;
  for (k = 0;; k++) {
    fmi_normalizer *n = NULL;
    fmi_segmenter *s = NULL;
    fmi_arena arena;
    fm_error err;
    char *out = NULL;
    size_t len = 0, ns = 0;
    fmi_seg *segs = NULL;
    fm_status st;
    fmi_arena_init(&arena, 0);
    fmi_fault_fail_after(k);
    st = fmi_normalizer_new(&n, &err);
    if (st == FM_OK) st = fmi_segmenter_new(&s, &err);
    if (st == FM_OK)
      st = fmi_normalize(n, doc, strlen(doc), &arena, &out, &len, &err);
    if (st == FM_OK)
      st = fmi_segment(s, out, len, true, &arena, &segs, &ns, &err);
    fmi_fault_fail_after(-1);
    if (st == FM_OK) {
      assert_string_equal(render(out, segs, ns, false),
                          "die|app|stürzt|ab|👨‍👩‍👧|שלום|צה\"ל|اهلا|ระบบ|ล่ม|"
                          "บ่อย|มาก|日本語|\xEE\x80\x81|café|\\n|a|հայ|ქართ");
    } else {
      assert_int_equal(st, FM_ENOMEM);
      assert_int_equal(err.code, FM_ENOMEM);
      assert_null(segs);
    }
    fmi_segmenter_free(s);
    fmi_normalizer_free(n);
    fmi_arena_free(&arena);
    if (st == FM_OK) break;
  }
  assert_true(k > 5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_fast_path_matches_icu, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_latin_tokens, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kinds_and_scripts, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_hebrew_arabic_tokens, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_emoji, setup, teardown),
      cmocka_unit_test_setup_teardown(test_placeholders, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sentence_ends, setup, teardown),
      cmocka_unit_test_setup_teardown(test_line_breaks, setup, teardown),
      cmocka_unit_test_setup_teardown(test_thai, setup, teardown),
      cmocka_unit_test_setup_teardown(test_other_dictionary_scripts, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_empty_and_punctuation, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_big_text, setup, teardown),
      cmocka_unit_test_setup_teardown(test_arena_cap, setup, teardown),
      cmocka_unit_test(test_alloc_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
