/*
 * langid.c -- language identification, stopword and negator lookup,
 * canonical language codes.
 *
 * Identification works in two steps. The script of the letters decides
 * alone where one script means one language here (Hebrew, Arabic, Thai,
 * Greek, Hangul, Kana, ...). Within Latin (en de es fr pt it nl) and
 * Cyrillic (ru uk) each candidate language is scored, in units of 1/8 nat,
 * by three kinds of evidence over the first words of the text:
 *
 *   - stopword and negator hits (the project's own lists),
 *   - character trigrams of each word against profiles generated from the
 *     project's own text (src/langid_profiles.h,
 *     tools/langid/gen_profiles.py),
 *   - letters that only some of the languages use (ñ ã õ ä ö ü œ і ї є ы э).
 *
 * The best language wins when it leads the second by a margin; otherwise
 * the answer is "und". Scoring stops early once the lead is overwhelming,
 * and never looks past the first SAMPLE_BYTES of the text, so the cost per
 * document is bounded.
 *
 * Words arrive normalized (NFKC case folded) from the pipeline, but this
 * file also copes with text that skipped normalization: ASCII, Latin-1 and
 * basic Cyrillic capitals are lowercased for lookup, and U+2019 counts as
 * an apostrophe.
 */
#include "lang.h"

#include "langid_profiles.h"
#include "stopwords_data.h"

/* ---- tuning ----------------------------------------------------------- */

/* Only words starting in the first SAMPLE_BYTES count: enough for any
 * language to show, and it bounds the work on long documents. */
#define SAMPLE_BYTES 2048
/* The script is counted over at most this many words. */
#define SCRIPT_WORDS 64
/* Words longer than this (bytes) are not looked up in the word lists. */
#define MAX_WORD_BYTES 48
/* Trigrams are taken from at most this many code points of a word. */
#define MAX_WORD_CPS 24

/* Evidence weights in units of 1/FMI_LP_SCALE nat. */
#define W_STOPWORD (FMI_LP_SCALE * 2)   /* word on the language's list */
#define W_NEGATOR (FMI_LP_SCALE * 2)    /* word on its negator list */
#define W_LETTER (FMI_LP_SCALE * 2)     /* a letter only it uses */
#define MAX_LETTER_HITS 4               /* per language and text */
/* The winner must lead the runner-up by this much ... */
#define MIN_MARGIN (FMI_LP_SCALE * 3)
/* ... and, when no word-list or letter evidence backs it, by this much. */
#define MIN_MARGIN_TRIGRAMS_ONLY (FMI_LP_SCALE * 6)
/* Stop reading once the lead is this large after at least STOP_WORDS
 * words: the rest of the text cannot change the answer in practice. */
#define STOP_MARGIN (FMI_LP_SCALE * 30)
#define STOP_WORDS 12

/* A non-Latin script wins over Latin when its letters, times this, reach
 * the Latin letter count: brand names, product words and code in Latin
 * letters are common inside Thai, Hebrew, Arabic or Russian feedback, the
 * reverse is rare. */
#define NONLATIN_FACTOR 5

/* ---- negators ---------------------------------------------------------- */

typedef struct neg_list {
  const char *lang;
  const char *const *words;
  size_t n;
} neg_list;

#define LIST(a) a, sizeof a / sizeof a[0]

static const char *const neg_en[] = {
    "not",      "no",       "never",    "nor",      "without", "neither",
    "none",     "nobody",   "nothing",  "nowhere",  "nope",    "cannot",
    "dont",     "doesnt",   "didnt",    "isnt",     "wasnt",   "arent",
    "werent",   "cant",     "wont",     "wouldnt",  "shouldnt", "couldnt",
    "havent",   "hasnt",    "hadnt",    "aint",     "mustnt",  "neednt"};
static const char *const neg_de[] = {
    "nicht", "kein",  "keine", "keinen", "keinem", "keiner", "keines",
    "nie",   "niemals", "ohne", "nichts", "niemand", "weder", "nirgends"};
static const char *const neg_es[] = {
    "no",     "nunca",   "jamás",   "sin",    "ni",      "nada",
    "nadie",  "ningún",  "ninguna", "ninguno", "tampoco"};
static const char *const neg_fr[] = {
    "ne",   "n'",   "pas",  "jamais", "sans", "aucun", "aucune",
    "rien", "ni",   "nul",  "nulle",  "guère"};
static const char *const neg_pt[] = {
    "não",    "nunca",   "sem",    "nem",     "nada",
    "ninguém", "nenhum", "nenhuma", "jamais", "tampouco"};
static const char *const neg_it[] = {
    "non",   "mai",    "senza",   "né",      "nessuno",  "nessuna",
    "nessun", "niente", "nulla",  "neanche", "nemmeno",  "neppure"};
static const char *const neg_nl[] = {
    "niet", "geen", "nooit", "zonder", "niets", "niemand", "noch", "nergens"};
static const char *const neg_ru[] = {
    "не",     "нет",    "ни",    "без",   "никогда", "ничего",
    "никто",  "нельзя", "нигде", "никак", "нету"};
static const char *const neg_uk[] = {
    "не",    "ні",   "без",  "ніколи", "нічого",
    "ніхто", "немає", "нема", "ніде",  "ніяк"};
static const char *const neg_he[] = {
    "לא",   "אין",  "בלי",  "אף",   "מעולם", "אינו", "אינה", "אינם",
    "אינן", "איני", "אינני", "ללא", "ולא",  "שלא",  "ואין", "שאין"};
static const char *const neg_ar[] = {
    /* Normalized forms (see normalize.h). */
    "لا",  "ما",  "لم",  "لن",   "ليس",  "ليست", "لست",
    "ليسوا", "بدون", "غير", "ولا", "ولم", "ولن", "وليس", "مش"};
static const char *const neg_th[] = {
    "ไม่", "ไม่ได้", "ไม่มี", "ไม่เคย", "ไม่ใช่", "ไม่ค่อย", "อย่า", "มิได้"};

static const neg_list neg_lists[] = {
    {"en", LIST(neg_en)}, {"de", LIST(neg_de)}, {"es", LIST(neg_es)},
    {"fr", LIST(neg_fr)}, {"pt", LIST(neg_pt)}, {"it", LIST(neg_it)},
    {"nl", LIST(neg_nl)}, {"ru", LIST(neg_ru)}, {"uk", LIST(neg_uk)},
    {"he", LIST(neg_he)}, {"ar", LIST(neg_ar)}, {"th", LIST(neg_th)},
};
#define N_NEG_LISTS (sizeof neg_lists / sizeof neg_lists[0])

/* ---- word helpers ------------------------------------------------------ */

/* Lowercases ASCII and turns U+2019 into "'" so "Don’t" finds "don't".
 * Returns the length written to buf (cap >= n), or 0 when the word does
 * not fit. */
static size_t fold_word(const char *w, size_t n, char *buf, size_t cap) {
  size_t i, o = 0;
  if (n > cap) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)w[i];
    if (c >= 'A' && c <= 'Z') {
      buf[o++] = (char)(c + 32);
    } else if (c == 0xE2 && i + 2 < n && (unsigned char)w[i + 1] == 0x80 &&
               (unsigned char)w[i + 2] == 0x99) {
      buf[o++] = '\'';
      i += 2;
    } else {
      buf[o++] = (char)c;
    }
  }
  return o;
}

/* True when fold_word would change w: normalized text has no ASCII
 * capitals, and U+2019 is rare. */
static bool needs_fold(const char *w, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)w[i];
    if ((c >= 'A' && c <= 'Z') || c == 0xE2) return true;
  }
  return false;
}

/* strcmp order between the n bytes at w and the NUL-terminated s. */
static int cmp_word(const char *w, size_t n, const char *s) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char a = (unsigned char)w[i], b = (unsigned char)s[i];
    if (b == 0) return 1;
    if (a != b) return a < b ? -1 : 1;
  }
  return s[n] ? -1 : 0;
}

static bool word_eq(const char *w, size_t n, const char *s) {
  return cmp_word(w, n, s) == 0;
}

static bool ends_with(const char *w, size_t n, const char *suffix) {
  size_t k = strlen(suffix);
  return n > k && memcmp(w + n - k, suffix, k) == 0;
}

static bool starts_with(const char *w, size_t n, const char *prefix) {
  size_t k = strlen(prefix);
  return n > k && memcmp(w, prefix, k) == 0;
}

/* lang == code, for a code of two letters; cheaper than strcmp on the
 * per-token path. */
static bool same_lang(const char *lang, const char *code) {
  return lang[0] == code[0] && lang[1] == code[1] && lang[2] == code[2];
}

static const fmi_stoplist *stoplist_of(const char *lang) {
  size_t i;
  if (!lang || !lang[0]) return NULL;
  for (i = 0; i < fmi_stoplist_count; i++)
    if (same_lang(lang, fmi_stoplists[i].lang)) return &fmi_stoplists[i];
  return NULL;
}

static bool in_stoplist(const fmi_stoplist *sl, const char *w, size_t n) {
  size_t lo = 0, hi;
  if (!sl) return false;
  hi = sl->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = cmp_word(w, n, sl->words[mid]);
    if (c == 0) return true;
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return false;
}

/* Negators that are open classes rather than words: English "...n't",
 * French elided "n'..." ("n'est", "n'ai"), Thai compounds the dictionary
 * keeps whole ("ไม่ดี"). Bit per fmi_lw_langs index. */
static unsigned open_negators(const char *w, size_t n) {
  unsigned m = 0;
  if (ends_with(w, n, "n't")) m |= 1u << 0;   /* en */
  if (starts_with(w, n, "n'")) m |= 1u << 3;  /* fr */
  if (starts_with(w, n, "ไม่")) m |= 1u << 11; /* th */
  return m;
}

/* Index of lang in fmi_lw_langs (the languages of the word table), or -1.
 * A switch rather than string compares: this runs for every token. The
 * order is checked against the table by test_lang. */
static int lw_index(const char *lang) {
  if (!lang || !lang[0] || !lang[1] || lang[2]) return -1;
  switch (((unsigned)(unsigned char)lang[0] << 8) | (unsigned char)lang[1]) {
  case 'e' << 8 | 'n': return 0;
  case 'd' << 8 | 'e': return 1;
  case 'e' << 8 | 's': return 2;
  case 'f' << 8 | 'r': return 3;
  case 'p' << 8 | 't': return 4;
  case 'i' << 8 | 't': return 5;
  case 'n' << 8 | 'l': return 6;
  case 'r' << 8 | 'u': return 7;
  case 'u' << 8 | 'k': return 8;
  case 'h' << 8 | 'e': return 9;
  case 'a' << 8 | 'r': return 10;
  case 't' << 8 | 'h': return 11;
  default: return -1;
  }
}

/* Bytes [i, i + 8) of w as a little-endian number, zero-padded past n. */
static uint64_t word_chunk(const char *w, size_t n, size_t i) {
  uint64_t v = 0;
  size_t k = n - i;
  if (k >= 8) return fmi_le64((const unsigned char *)w + i);
  while (k--) v = (v << 8) | (unsigned char)w[i + k];
  return v;
}

/* The entry of langid_profiles.h's word table for the folded word, or
 * NULL. The hash is gen_profiles.py's word_hash. */
static const fmi_lw_entry *word_entry(const char *w, size_t n) {
  const unsigned mask = (1u << FMI_LW_HASH_BITS) - 1;
  uint64_t h = (uint64_t)n * 0x9E3779B97F4A7C15ull, head;
  unsigned s;
  size_t i;
  if (n == 0) return NULL;
  head = word_chunk(w, n, 0);
  h = (h ^ head) * 0xFF51AFD7ED558CCDull;
  h ^= h >> 32;
  for (i = 8; i < n; i += 8) {
    h = (h ^ word_chunk(w, n, i)) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  }
  s = (unsigned)(h >> (64 - FMI_LW_HASH_BITS));
  for (;;) {
    unsigned e = fmi_lw_slots[s];
    const fmi_lw_entry *en;
    if (e == 0) return NULL;
    en = &fmi_lw_words[e - 1];
    if (en->head == head && en->len == n &&
        (n <= 8 || memcmp(en->word + 8, w + 8, n - 8) == 0))
      return en;
    s = (s + 1) & mask;
  }
}

/* The pipeline asks about every token, so both lookups are one probe of
 * the generated word table. A stopword list the table does not know (a
 * corpora/stopwords file added since gen_profiles.py last ran) is still
 * searched, in its compiled form. */
int fmi_is_stopword(const char *lang, const char *w, size_t n) {
  char buf[MAX_WORD_BYTES];
  const fmi_lw_entry *en;
  int li;
  if (!lang || n == 0 || n > MAX_WORD_BYTES) return 0;
  if (needs_fold(w, n)) {
    n = fold_word(w, n, buf, sizeof buf);
    w = buf;
  }
  li = lw_index(lang);
  if (li < 0) return in_stoplist(stoplist_of(lang), w, n);
  en = word_entry(w, n);
  return en && (en->stop >> li) & 1u;
}

int fmi_is_negator(const char *lang, const char *w, size_t n) {
  char buf[MAX_WORD_BYTES];
  const fmi_lw_entry *en;
  unsigned mask;
  if (n == 0 || n > MAX_WORD_BYTES) return 0;
  if (needs_fold(w, n)) {
    n = fold_word(w, n, buf, sizeof buf);
    w = buf;
  }
  if (!lang || (lang[0] == 'u' && lang[1] == 'n' && lang[2] == 'd' && !lang[3])) {
    mask = ~0u;
  } else {
    int li = lw_index(lang);
    if (li < 0) return 0;
    mask = 1u << li;
  }
  en = word_entry(w, n);
  return ((en ? en->neg : 0) | open_negators(w, n)) & mask ? 1 : 0;
}

unsigned fmi_word_class(const char *lang, const char *w, size_t n) {
  char buf[MAX_WORD_BYTES];
  const fmi_lw_entry *en;
  unsigned out = 0, negmask;
  int li;
  if (!lang || n == 0 || n > MAX_WORD_BYTES) return 0;
  if (needs_fold(w, n)) {
    n = fold_word(w, n, buf, sizeof buf);
    w = buf;
  }
  li = lw_index(lang);
  if (li < 0) {
    /* not in the word table: the compiled list, and every language's
     * negators for "und" */
    if (in_stoplist(stoplist_of(lang), w, n)) out |= FMI_WORD_STOP;
    if (same_lang(lang, "und")) {
      en = word_entry(w, n);
      if (((en ? en->neg : 0) | open_negators(w, n)) != 0) out |= FMI_WORD_NEG;
    }
    return out;
  }
  negmask = 1u << li;
  en = word_entry(w, n);
  if (en && (en->stop >> li) & 1u) out |= FMI_WORD_STOP;
  if (((en ? en->neg : 0) | open_negators(w, n)) & negmask) out |= FMI_WORD_NEG;
  return out;
}

uint32_t fmi_word_bits(const char *w, size_t n) {
  char buf[MAX_WORD_BYTES];
  const fmi_lw_entry *en;
  if (n == 0 || n > MAX_WORD_BYTES) return 0;
  if (needs_fold(w, n)) {
    n = fold_word(w, n, buf, sizeof buf);
    w = buf;
  }
  en = word_entry(w, n);
  return (uint32_t)(en ? en->stop : 0) |
         (uint32_t)((en ? en->neg : 0) | open_negators(w, n)) << 16;
}

int fmi_word_lang(const char *lang) { return lw_index(lang); }

unsigned fmi_word_class_bits(int li, uint32_t bits) {
  return ((bits >> li) & 1u ? FMI_WORD_STOP : 0) |
         ((bits >> (16 + li)) & 1u ? FMI_WORD_NEG : 0);
}

const char *const *fmi_negator_list(const char *lang, size_t *n) {
  size_t i;
  *n = 0;
  if (!lang || !lang[0]) return NULL;
  for (i = 0; i < N_NEG_LISTS; i++)
    if (same_lang(lang, neg_lists[i].lang)) {
      *n = neg_lists[i].n;
      return neg_lists[i].words;
    }
  return NULL;
}

/* ---- canonical language codes ---------------------------------------- */

/* Every ISO 639-1 code, sorted, each a static string fmi_lang_canonical
 * may return. */
static const char *const iso639_1[] = {
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az",
    "ba", "be", "bg", "bi", "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch",
    "co", "cr", "cs", "cu", "cv", "cy", "da", "de", "dv", "dz", "ee", "el",
    "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy",
    "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht",
    "hu", "hy", "hz", "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it",
    "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk", "kl", "km", "kn", "ko",
    "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln", "lo",
    "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt",
    "my", "na", "nb", "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny",
    "oc", "oj", "om", "or", "os", "pa", "pi", "pl", "ps", "pt", "qu", "rm",
    "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk", "sl",
    "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te",
    "tg", "th", "ti", "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty",
    "ug", "uk", "ur", "uz", "ve", "vi", "vo", "wa", "wo", "xh", "yi", "yo",
    "za", "zh", "zu"};

/* Other names of the common languages: ISO 639-2/3 codes, English and
 * native names (lowercase; ASCII input is lowercased before lookup),
 * withdrawn codes. */
typedef struct lang_alias {
  const char *name;
  const char *code;
} lang_alias;

static const lang_alias aliases[] = {
    {"english", "en"},     {"eng", "en"},
    {"german", "de"},      {"deu", "de"},        {"ger", "de"},
    {"deutsch", "de"},     {"spanish", "es"},    {"spa", "es"},
    {"español", "es"},     {"espanol", "es"},    {"castellano", "es"},
    {"french", "fr"},      {"fra", "fr"},        {"fre", "fr"},
    {"français", "fr"},    {"francais", "fr"},   {"portuguese", "pt"},
    {"por", "pt"},         {"português", "pt"},  {"portugues", "pt"},
    {"italian", "it"},     {"ita", "it"},        {"italiano", "it"},
    {"dutch", "nl"},       {"nld", "nl"},        {"dut", "nl"},
    {"nederlands", "nl"},  {"flemish", "nl"},    {"russian", "ru"},
    {"rus", "ru"},         {"русский", "ru"},    {"Русский", "ru"},
    {"ukrainian", "uk"},   {"ukr", "uk"},        {"українська", "uk"},
    {"Українська", "uk"},  {"hebrew", "he"},     {"heb", "he"},
    {"iw", "he"},          {"עברית", "he"},      {"arabic", "ar"},
    {"ara", "ar"},         {"العربية", "ar"},    {"عربي", "ar"},
    {"thai", "th"},        {"tha", "th"},        {"ไทย", "th"},
    {"greek", "el"},       {"ell", "el"},        {"gre", "el"},
    {"korean", "ko"},      {"kor", "ko"},        {"japanese", "ja"},
    {"jpn", "ja"},         {"chinese", "zh"},    {"zho", "zh"},
    {"chi", "zh"},         {"cmn", "zh"},        {"mandarin", "zh"},
    {"turkish", "tr"},     {"tur", "tr"},        {"polish", "pl"},
    {"pol", "pl"},         {"czech", "cs"},      {"ces", "cs"},
    {"cze", "cs"},         {"slovak", "sk"},     {"slk", "sk"},
    {"hungarian", "hu"},   {"hun", "hu"},        {"romanian", "ro"},
    {"ron", "ro"},         {"rum", "ro"},        {"bulgarian", "bg"},
    {"bul", "bg"},         {"serbian", "sr"},    {"srp", "sr"},
    {"croatian", "hr"},    {"hrv", "hr"},        {"slovenian", "sl"},
    {"slv", "sl"},         {"swedish", "sv"},    {"swe", "sv"},
    {"danish", "da"},      {"dan", "da"},        {"norwegian", "no"},
    {"nor", "no"},         {"nob", "nb"},        {"nno", "nn"},
    {"finnish", "fi"},     {"fin", "fi"},        {"estonian", "et"},
    {"est", "et"},         {"latvian", "lv"},    {"lav", "lv"},
    {"lithuanian", "lt"},  {"lit", "lt"},        {"persian", "fa"},
    {"farsi", "fa"},       {"fas", "fa"},        {"per", "fa"},
    {"urdu", "ur"},        {"urd", "ur"},        {"hindi", "hi"},
    {"hin", "hi"},         {"bengali", "bn"},    {"ben", "bn"},
    {"tamil", "ta"},       {"tam", "ta"},        {"indonesian", "id"},
    {"ind", "id"},         {"in", "id"},         {"malay", "ms"},
    {"msa", "ms"},         {"may", "ms"},        {"vietnamese", "vi"},
    {"vie", "vi"},         {"tagalog", "tl"},    {"filipino", "tl"},
    {"fil", "tl"},         {"tgl", "tl"},        {"catalan", "ca"},
    {"cat", "ca"},         {"basque", "eu"},     {"eus", "eu"},
    {"baq", "eu"},         {"irish", "ga"},      {"gle", "ga"},
    {"armenian", "hy"},    {"hye", "hy"},        {"arm", "hy"},
    {"georgian", "ka"},    {"kat", "ka"},        {"geo", "ka"},
    {"nepali", "ne"},      {"nep", "ne"},        {"yiddish", "yi"},
    {"yid", "yi"},         {"ji", "yi"},         {"swahili", "sw"},
    {"swa", "sw"},         {"afrikaans", "af"},  {"afr", "af"},
    {"icelandic", "is"},   {"isl", "is"},        {"ice", "is"},
    {"belarusian", "be"},  {"bel", "be"},        {"kazakh", "kk"},
    {"kaz", "kk"},         {"macedonian", "mk"}, {"mkd", "mk"},
    {"mac", "mk"},         {"albanian", "sq"},   {"sqi", "sq"},
    {"alb", "sq"},         {"welsh", "cy"},      {"cym", "cy"},
    {"wel", "cy"},         {"lao", "lo"},        {"khmer", "km"},
    {"khm", "km"},         {"burmese", "my"},    {"mya", "my"},
    {"bur", "my"},         {"galician", "gl"},   {"glg", "gl"},
};

static const char *iso_code(const char *s, size_t n) {
  size_t lo = 0, hi = sizeof iso639_1 / sizeof iso639_1[0];
  if (n != 2) return NULL;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = cmp_word(s, n, iso639_1[mid]);
    if (c == 0) return iso639_1[mid];
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

const char *fmi_lang_canonical(const char *lang) {
  char buf[32];
  size_t n = 0, i;
  const char *p = lang;
  if (!lang) return NULL;
  while (*p == ' ' || *p == '\t') p++;
  /* The language subtag ends at a region/script/encoding separator:
   * "en-US", "pt_BR", "en_GB.UTF-8", "zh-Hant-TW". */
  for (; *p && *p != '-' && *p != '_' && *p != '.' && *p != '@' &&
         *p != ' ' && *p != '\t';
       p++) {
    unsigned char c = (unsigned char)*p;
    if (n == sizeof buf) return NULL;
    buf[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  if (n == 0) return NULL;
  if (n == 3 && memcmp(buf, "und", 3) == 0) return "und";
  if (n == 2) {
    /* Taggers call this once per document, so the common case -- a valid
     * two-letter code -- must not walk the alias list. Withdrawn codes
     * first: "iw", "in", "ji" are also in no current table. */
    if (word_eq(buf, n, "iw")) return iso_code("he", 2);
    if (word_eq(buf, n, "in")) return iso_code("id", 2);
    if (word_eq(buf, n, "ji")) return iso_code("yi", 2);
    return iso_code(buf, n);
  }
  for (i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (word_eq(buf, n, aliases[i].name)) return iso_code(aliases[i].code, 2);
  return NULL;
}

/* ---- identification ---------------------------------------------------- */

/* Letters that only some of the scored languages use, after case folding
 * (ß has become "ss" by then). Bit i of the mask = fmi_lp_langs[i]. */
enum { L_EN = 0, L_DE, L_ES, L_FR, L_PT, L_IT, L_NL, L_RU, L_UK };
#define BIT(l) (1u << (l))

static unsigned letter_langs(uint32_t cp) {
  switch (cp) {
  case 0xF1: /* ñ */
    return BIT(L_ES);
  case 0xE3: /* ã */
  case 0xF5: /* õ */
    return BIT(L_PT);
  case 0xE4: /* ä */
  case 0xF6: /* ö */
  case 0xFC: /* ü */
    return BIT(L_DE);
  case 0x153: /* œ */
  case 0xEB:  /* ë */
  case 0xEE:  /* î */
  case 0xEF:  /* ï */
  case 0xFB:  /* û */
    return BIT(L_FR);
  case 0xEA: /* ê */
  case 0xE2: /* â */
  case 0xF4: /* ô */
  case 0xE7: /* ç */
    return BIT(L_FR) | BIT(L_PT);
  case 0xE8: /* è */
  case 0xF9: /* ù */
    return BIT(L_FR) | BIT(L_IT);
  case 0xF2: /* ò */
  case 0xEC: /* ì */
    return BIT(L_IT);
  case 0x456: /* і */
  case 0x457: /* ї */
  case 0x454: /* є */
  case 0x491: /* ґ */
    return BIT(L_UK);
  case 0x44B: /* ы */
  case 0x44D: /* э */
  case 0x44A: /* ъ */
  case 0x451: /* ё */
    return BIT(L_RU);
  default:
    return 0;
  }
}

/* Lowercases the capitals a text that skipped normalization may still
 * have: ASCII, Latin-1, basic Cyrillic. */
static uint32_t lower_cp(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
  if (cp == 0x490) return 0x491;
  if (cp == 0x2019) return '\'';
  return cp;
}

static int trigram_index(uint64_t key) {
  const unsigned mask = (1u << FMI_LP_HASH_BITS) - 1;
  unsigned s = (unsigned)((key * 0x9E3779B97F4A7C15ull) >>
                          (64 - FMI_LP_HASH_BITS));
  for (;;) {
    unsigned e = fmi_lp_slots[s];
    if (e == 0) return -1;
    if (fmi_lp_keys[e - 1] == key) return (int)e - 1;
    s = (s + 1) & mask;
  }
}

typedef struct scorer {
  int lo, hi;                 /* candidate languages [lo, hi) */
  int32_t score[FMI_LP_NLANG];
  unsigned hits[FMI_LP_NLANG];   /* word-list and letter evidence */
  unsigned letters[FMI_LP_NLANG];
  /* Trigram scores not yet in score[] (flush_trigrams adds them): the
   * sums of score + 128 of `pend` trigrams in 16-bit lanes, languages
   * 0, 2, 4, 6 in acc_even and 1, 3, 5, 7 in acc_odd, language 8 in
   * acc8. Adding a profile row is then a few word operations instead of
   * one per language; up to 257 rows fit a lane (257 * 255 < 65536). */
  uint64_t acc_even, acc_odd;
  int32_t acc8;
  unsigned pend;
} scorer;

#define SWAR_TRIGRAMS (FMI_LP_NLANG == 9)
#define PEND_MAX 257u

static void flush_trigrams(scorer *sc) {
  int j;
  int32_t bias = 128 * (int32_t)sc->pend;
  if (!SWAR_TRIGRAMS || sc->pend == 0) return;
  for (j = 0; j < 4; j++) {
    sc->score[2 * j] +=
        (int32_t)((sc->acc_even >> (16 * j)) & 0xFFFFu) - bias;
    sc->score[2 * j + 1] +=
        (int32_t)((sc->acc_odd >> (16 * j)) & 0xFFFFu) - bias;
  }
  sc->score[FMI_LP_NLANG - 1] += sc->acc8;
  sc->acc_even = sc->acc_odd = 0;
  sc->acc8 = 0;
  sc->pend = 0;
}

static void add_profile_row(scorer *sc, int e) {
  const int8_t *row = fmi_lp_score[e];
  if (SWAR_TRIGRAMS) {
    /* bytes 0-7 of the row, each + 128 (the sign bit flipped) */
    uint64_t v = fmi_le64((const unsigned char *)row) ^ 0x8080808080808080ull;
    sc->acc_even += v & 0x00FF00FF00FF00FFull;
    sc->acc_odd += (v >> 8) & 0x00FF00FF00FF00FFull;
    sc->acc8 += row[FMI_LP_NLANG - 1];
    sc->pend++;
  } else {
    int l;
    for (l = 0; l < FMI_LP_NLANG; l++) sc->score[l] += row[l];
  }
}

static void score_letter(scorer *sc, uint32_t cp) {
  unsigned m = letter_langs(cp);
  int l;
  if (!m) return;
  for (l = sc->lo; l < sc->hi; l++)
    if ((m & BIT(l)) && sc->letters[l] < MAX_LETTER_HITS) {
      sc->letters[l]++;
      sc->hits[l]++;
      sc->score[l] += W_LETTER;
    }
}

/* Adds the trigram scores of one letter run cps[0, n), padded with a
 * space on each side; `cut` when the run went on past cps (no end pad). */
static void score_trigrams(scorer *sc, const uint32_t *cps, size_t n,
                           bool cut) {
  uint32_t a = ' ', b;
  size_t j;
  while (!cut && n > 0 && cps[n - 1] == '\'') n--;
  if (n == 0) return;
  /* a run adds at most n <= MAX_WORD_CPS rows */
  if (sc->pend > PEND_MAX - MAX_WORD_CPS) flush_trigrams(sc);
  b = cps[0];
  for (j = 1; j <= n - cut; j++) {
    uint32_t c = j < n ? cps[j] : ' ';
    uint64_t key = ((uint64_t)a << 42) | ((uint64_t)b << 21) | c;
    int e = trigram_index(key);
    /* Every language, not just [lo, hi): those outside the candidates are
     * never read. */
    if (e >= 0) add_profile_row(sc, e);
    a = b;
    b = c;
  }
}

/* Trigrams (and letters) of one word; returns whether it has a letter
 * letter_langs knows. */
static bool word_trigrams(scorer *sc, const char *w, size_t n) {
  uint32_t cps[MAX_WORD_CPS];
  size_t i, ncp = 0;
  bool cut = false, letters = false;

  /* Trigrams of " word ", as tools/langid/gen_profiles.py counts them:
   * runs of letters with inner apostrophes; anything else (digits, inner
   * periods) splits the word. */
  for (i = 0; i < n;) {
    uint32_t cp = (unsigned char)w[i];
    if (cp < 0x80) { /* ASCII: lower_cp is a case fold, no letter scores */
      i++;
      if (cp - 'A' < 26u) cp += 32;
    } else {
      i += fmi_utf8_decode((const unsigned char *)w + i, n - i, &cp);
      cp = lower_cp(cp);
    }
    if (cp >= 0xAA || (cp >= 'a' && cp <= 'z') || (cp == '\'' && ncp > 0)) {
      if (ncp < MAX_WORD_CPS)
        cps[ncp++] = cp;
      else
        cut = true;
      if (cp >= 0xAA) {
        letters |= letter_langs(cp) != 0;
        score_letter(sc, cp);
      }
    } else {
      score_trigrams(sc, cps, ncp, cut);
      ncp = 0;
      cut = false;
    }
  }
  score_trigrams(sc, cps, ncp, cut);
  return letters;
}

/* ---- per-tagger word cache ---------------------------------------------
 * Feedback repeats its words (Zipf), so each word's table bits and the sum
 * of its trigram rows are kept: a hit costs a hash and three compares
 * instead of a table probe per word and per trigram. Two-way, the more
 * recent of a pair first. Words of 1..WC_WORD bytes; longer ones bypass
 * it. */
#define WC_BITS 13
#define WC_WORD 24
#define WC_TRI 1u     /* the trigram sums are filled */
#define WC_LETTERS 2u /* has letters letter_langs knows: scored each time
                         (their count per text is capped) */

typedef struct wc_entry {
  uint64_t key[3];            /* the word's bytes, zero-padded */
  uint64_t acc_even, acc_odd; /* its trigram rows, as in scorer */
  int32_t acc8;
  uint32_t bits; /* fmi_word_bits */
  uint16_t pend; /* rows in the sums */
  uint8_t len;   /* 0: empty */
  uint8_t flags;
} wc_entry;

struct fmi_words {
  wc_entry e[1u << WC_BITS];
};

fm_status fmi_words_new(fmi_words **out, fm_error *err) {
  *out = fmi_calloc(1, sizeof **out);
  if (!*out) return fmi_fail(err, FM_ENOMEM, "out of memory for the word cache");
  return FM_OK;
}

void fmi_words_free(fmi_words *c) { fmi_free(c); }

/* The m (1..8) bytes at p as a little-endian number, zero-padded, read
 * in at most three loads (XXH3's trick for short inputs). */
static inline uint64_t wc_tail(const unsigned char *p, size_t m) {
  if (m >= 4) {
    uint64_t a = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
                 (uint64_t)p[3] << 24;
    const unsigned char *q = p + m - 4;
    uint64_t b = (uint64_t)q[0] | (uint64_t)q[1] << 8 | (uint64_t)q[2] << 16 |
                 (uint64_t)q[3] << 24;
    return a | b << (8 * (m - 4));
  }
  return (uint64_t)p[0] | (uint64_t)p[m >> 1] << (8 * (m >> 1)) |
         (uint64_t)p[m - 1] << (8 * (m - 1));
}

/* The entry of w (1 <= n <= WC_WORD), made on a miss with its bits; valid
 * until the next call. */
static wc_entry *wc_find(fmi_words *c, const char *w, size_t n) {
  const unsigned char *u = (const unsigned char *)w;
  uint64_t k[3], h;
  wc_entry *e;
  k[0] = n >= 8 ? fmi_le64(u) : wc_tail(u, n);
  k[1] = n <= 8 ? 0 : n >= 16 ? fmi_le64(u + 8) : wc_tail(u + 8, n - 8);
  k[2] = n <= 16 ? 0 : wc_tail(u + 16, n - 16);
  h = (k[0] * 0x9E3779B97F4A7C15ull) ^ (k[1] * 0xC2B2AE3D27D4EB4Full) ^
      (k[2] * 0x165667B19E3779F9ull) ^ n;
  h *= 0xFF51AFD7ED558CCDull;
  e = &c->e[(h >> (64 - WC_BITS)) & ~(uint64_t)1];
  if (e->len == n && e->key[0] == k[0] && e->key[1] == k[1] &&
      e->key[2] == k[2])
    return e;
  if (e[1].len == n && e[1].key[0] == k[0] && e[1].key[1] == k[1] &&
      e[1].key[2] == k[2]) {
    wc_entry t = e[0];
    e[0] = e[1];
    e[1] = t;
    return e;
  }
  e[1] = e[0];
  memset(e, 0, sizeof *e);
  memcpy(e->key, k, sizeof k);
  e->len = (uint8_t)n;
  e->bits = fmi_word_bits(w, n);
  return e;
}

uint32_t fmi_words_bits(fmi_words *c, const char *w, size_t n) {
  if (!c || n == 0 || n > WC_WORD) return fmi_word_bits(w, n);
  return wc_find(c, w, n)->bits;
}

/* Adds the stopword and negator evidence of a word's bits. */
static void score_bits(scorer *sc, uint32_t bits) {
  int l;
  unsigned stop = bits & 0xFFFFu, neg = bits >> 16;
  for (l = sc->lo; stop | neg && l < sc->hi; l++) {
    if (stop & BIT(l)) {
      sc->score[l] += W_STOPWORD;
      sc->hits[l]++;
    }
    if (neg & BIT(l)) {
      sc->score[l] += W_NEGATOR;
      sc->hits[l]++;
    }
  }
}

/* *bitsp (NULL: none given): the word's fmi_word_bits, or
 * FMI_WORD_BITS_UNKNOWN, then filled in. */
static void score_word(scorer *sc, fmi_words *c, const char *w, size_t n,
                       uint32_t *bitsp) {
  uint32_t bits = bitsp ? *bitsp : FMI_WORD_BITS_UNKNOWN;
  if (SWAR_TRIGRAMS && c && n > 0 && n <= WC_WORD) {
    wc_entry *e = wc_find(c, w, n);
    if (bits == FMI_WORD_BITS_UNKNOWN) bits = e->bits;
    if (bitsp) *bitsp = bits;
    score_bits(sc, bits);
    if (!(e->flags & WC_TRI)) {
      scorer t; /* no candidates: only the sums */
      memset(&t, 0, sizeof t);
      if (word_trigrams(&t, w, n)) e->flags |= WC_LETTERS;
      e->acc_even = t.acc_even;
      e->acc_odd = t.acc_odd;
      e->acc8 = t.acc8;
      e->pend = (uint16_t)t.pend;
      e->flags |= WC_TRI;
    }
    if (sc->pend + e->pend > PEND_MAX) flush_trigrams(sc);
    sc->acc_even += e->acc_even;
    sc->acc_odd += e->acc_odd;
    sc->acc8 += e->acc8;
    sc->pend += e->pend;
    if (e->flags & WC_LETTERS) { /* in order, as word_trigrams scores them */
      size_t i;
      for (i = 0; i < n;) {
        uint32_t cp;
        i += fmi_utf8_decode((const unsigned char *)w + i, n - i, &cp);
        cp = lower_cp(cp);
        if (cp >= 0xAA) score_letter(sc, cp);
      }
    }
    return;
  }
  if (bits == FMI_WORD_BITS_UNKNOWN) bits = fmi_words_bits(c, w, n);
  if (bitsp) *bitsp = bits;
  score_bits(sc, bits);
  word_trigrams(sc, w, n);
}

/* A word, or a "number" with letters in it: ICU gives every word of a
 * dictionary-segmented run the rule status of the run's end, so the Thai
 * words of "อยากกินชีสเหมือนกัน5555" all arrive as numbers. */
static bool has_letters(const fmi_seg *s) {
  return s->kind == FM_TOKEN_WORD ||
         (s->kind == FM_TOKEN_NUMBER && s->script != FMI_SCRIPT_OTHER);
}

static void best_two(const scorer *sc, int *best, int32_t *margin) {
  int l, b = sc->lo;
  int32_t second = INT32_MIN;
  for (l = sc->lo + 1; l < sc->hi; l++)
    if (sc->score[l] > sc->score[b]) b = l;
  for (l = sc->lo; l < sc->hi; l++)
    if (l != b && sc->score[l] > second) second = sc->score[l];
  *best = b;
  *margin = sc->score[b] - second;
}

static const char *score_script(const char *text, const fmi_seg *segs,
                                size_t n, uint32_t *bits,
                                fmi_words *c, int script) {
  scorer sc;
  size_t i, words = 0;
  int best;
  int32_t margin;

  memset(&sc, 0, sizeof sc);
  if (script == FMI_SCRIPT_LATIN) {
    sc.lo = L_EN;
    sc.hi = L_NL + 1;
  } else {
    sc.lo = L_RU;
    sc.hi = L_UK + 1;
  }

  for (i = 0; i < n && segs[i].start < SAMPLE_BYTES; i++) {
    const fmi_seg *s = &segs[i];
    const char *w = text + s->start;
    size_t len = s->end - s->start;
    if (s->kind == FM_TOKEN_PUNCT) {
      /* Inverted ¿ and ¡ open Spanish questions and exclamations. */
      if (script == FMI_SCRIPT_LATIN && len == 2 &&
          (unsigned char)w[0] == 0xC2 &&
          ((unsigned char)w[1] == 0xBF || (unsigned char)w[1] == 0xA1) &&
          sc.letters[L_ES] < MAX_LETTER_HITS) {
        sc.letters[L_ES]++;
        sc.hits[L_ES]++;
        sc.score[L_ES] += W_LETTER;
      }
      continue;
    }
    if (!has_letters(s) || s->script != script) continue;
    score_word(&sc, c, w, len, bits ? &bits[i] : NULL);
    words++;
    if (words >= STOP_WORDS) {
      flush_trigrams(&sc);
      best_two(&sc, &best, &margin);
      if (margin >= STOP_MARGIN) return fmi_lp_langs[best];
    }
  }
  if (words == 0) return "und";
  flush_trigrams(&sc);
  best_two(&sc, &best, &margin);
  if (margin < MIN_MARGIN) return "und";
  /* Trigrams alone never decide on one word ("pizza", "taxi"). */
  if (sc.hits[best] == 0 && (words < 2 || margin < MIN_MARGIN_TRIGRAMS_ONLY))
    return "und";
  return fmi_lp_langs[best];
}

/* UTF-8 bytes per letter of each script (fmi_script order), so counts of
 * letters, not bytes, are compared: a Thai letter weighs as much as a
 * Latin one. Accented Latin letters (two bytes) count a little high, which
 * only makes Latin harder to outvote. */
static const uint8_t script_bytes[FMI_SCRIPT__COUNT] = {
    1, /* other */ 1, /* Latin */   2, /* Cyrillic */ 2, /* Greek */
    2, /* Hebrew */ 2, /* Arabic */ 3, /* Thai */    3, /* Lao */
    3, /* Khmer */ 3, /* Myanmar */ 3, /* Han */     3, /* Kana */
    3, /* Hangul */ 3, /* Devanagari */ 2, /* Armenian */ 3, /* Georgian */
};

const char *fmi_langid(const char *text, size_t len, const fmi_seg *segs,
                       size_t n) {
  return fmi_langid_cached(text, len, segs, n, NULL, NULL);
}

const char *fmi_langid_cached(const char *text, size_t len,
                              const fmi_seg *segs, size_t n,
                              uint32_t *bits, fmi_words *c) {
  size_t counts[FMI_SCRIPT__COUNT] = {0};
  size_t i, words = 0, best_other = 0;
  int s, other = FMI_SCRIPT_OTHER;

  if (!text || !segs || n == 0) return "und";
  for (i = 0; i < n && segs[i].start < SAMPLE_BYTES && words < SCRIPT_WORDS;
       i++) {
    const fmi_seg *sg = &segs[i];
    if (!has_letters(sg) || sg->script >= FMI_SCRIPT__COUNT ||
        sg->end > len || sg->end < sg->start)
      continue;
    counts[sg->script] += (sg->end - sg->start) / script_bytes[sg->script];
    words++;
  }
  /* Japanese mixes Kana with Han; Han alone is taken for Chinese. */
  counts[FMI_SCRIPT_HAN] += counts[FMI_SCRIPT_KANA];

  for (s = FMI_SCRIPT_LATIN + 1; s < FMI_SCRIPT__COUNT; s++) {
    if (s == FMI_SCRIPT_KANA) continue;
    if (counts[s] > best_other) {
      best_other = counts[s];
      other = s;
    }
  }
  if (best_other == 0 || best_other * NONLATIN_FACTOR < counts[FMI_SCRIPT_LATIN]) {
    if (counts[FMI_SCRIPT_LATIN] == 0) return "und";
    return score_script(text, segs, n, bits, c, FMI_SCRIPT_LATIN);
  }
  switch (other) {
  case FMI_SCRIPT_CYRILLIC:
    return score_script(text, segs, n, bits, c, FMI_SCRIPT_CYRILLIC);
  case FMI_SCRIPT_GREEK: return "el";
  case FMI_SCRIPT_HEBREW: return "he";
  case FMI_SCRIPT_ARABIC: return "ar";
  case FMI_SCRIPT_THAI: return "th";
  case FMI_SCRIPT_LAO: return "lo";
  case FMI_SCRIPT_KHMER: return "km";
  case FMI_SCRIPT_MYANMAR: return "my";
  case FMI_SCRIPT_HAN: return counts[FMI_SCRIPT_KANA] ? "ja" : "zh";
  case FMI_SCRIPT_HANGUL: return "ko";
  case FMI_SCRIPT_DEVANAGARI: return "hi";
  case FMI_SCRIPT_ARMENIAN: return "hy";
  case FMI_SCRIPT_GEORGIAN: return "ka";
  default: return "und";
  }
}
