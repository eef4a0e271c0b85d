/*
 * feedmine.h -- the whole public API of libfeedmine.
 *
 * feedmine tags customer feedback (support tickets, NPS comments, churn and
 * lost-deal reasons) by product area, sentiment and kind with naive Bayes,
 * in any language, and rolls the tags up into requirement reports.
 *
 * Conventions (they hold for every function below unless its comment says
 * otherwise):
 *   - Every fallible call returns an fm_status and takes an `fm_error *err`
 *     last, which may be NULL; when not NULL it receives the code, a message
 *     and, for parse errors, the 1-based line and column.
 *   - Objects come in create/free pairs. Free functions accept NULL. On
 *     failure `*out` is set to NULL and nothing is leaked.
 *   - Strings are UTF-8 with explicit lengths; no function requires NUL
 *     termination of its input text. Returned strings are NUL-terminated.
 *   - The library never prints, exits, aborts, reads the environment or
 *     changes the locale. It has no global mutable state and no init call.
 *   - Threads: an fm_model is immutable after open and may be shared by any
 *     number of threads without locks. Every other object (fm_tagger,
 *     fm_trainer, fm_reader, fm_agg, fm_store) belongs to one thread at a
 *     time; use one per thread.
 */
#ifndef FEEDMINE_H
#define FEEDMINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(FM_BUILDING_LIBRARY) && defined(__GNUC__)
#define FM_API __attribute__((visibility("default")))
#else
#define FM_API
#endif

/* ------------------------------------------------------------------------
 * Versions. Three are kept apart: the API version below (source level), the
 * library SONAME (bumped only when the ABI breaks) and the model file format
 * version (fm_model_format_version()).
 * ---------------------------------------------------------------------- */
#define FEEDMINE_VERSION_MAJOR 0
#define FEEDMINE_VERSION_MINOR 1
#define FEEDMINE_VERSION_PATCH 0
#define FEEDMINE_VERSION "0.1.0"
#define FEEDMINE_VERSION_NUMBER \
  (FEEDMINE_VERSION_MAJOR * 1000000 + FEEDMINE_VERSION_MINOR * 1000 + \
   FEEDMINE_VERSION_PATCH)

/* The version of the library actually linked: compare with
 * FEEDMINE_VERSION_NUMBER to catch a header/library mismatch. */
FM_API int fm_version_number(void);
/* Static string, e.g. "0.1.0". */
FM_API const char *fm_version(void);

/* ------------------------------------------------------------------------
 * Status codes. The enum only grows at the end; values never change.
 * ---------------------------------------------------------------------- */
typedef enum fm_status {
  FM_OK = 0,
  FM_ENOMEM = 1,     /* an allocation failed; nothing was leaked */
  FM_EINVAL = 2,     /* a bad argument or option */
  FM_ETOOBIG = 3,    /* input over a size cap (document, field, model) */
  FM_EIO = 4,        /* a file could not be opened, read or written */
  FM_EMODEL = 5,     /* a model file is corrupt, truncated or foreign */
  FM_EVERSION = 6,   /* a model file of a format version this build lacks */
  FM_EPARSE = 7,     /* malformed input (CSV, JSON, date, number, INI) */
  FM_EUNICODE = 8,   /* the Unicode library (ICU) failed */
  FM_EREGEX = 9,     /* the regular expression library (PCRE2) failed */
  FM_EMISMATCH = 10, /* models or aggregates with different settings */
  FM_ENOTFOUND = 11, /* a named head, label, column or record is absent */
  FM_ESTORE = 12,    /* the SQLite store failed or is not a feedmine store */
  FM_EBUSY = 13,     /* the store is locked by another live job */
  FM_ECANCELLED = 14,/* a callback asked to stop */
  FM_EEOF = 15       /* no more records (not an error for readers) */
} fm_status;

/* Static English text for a status; never NULL (unknown codes included). */
FM_API const char *fm_strerror(fm_status code);

/* Error detail, filled in caller storage. */
typedef struct fm_error {
  fm_status code;
  uint64_t line, column; /* 1-based; 0 = not applicable */
  char msg[192];         /* NUL-terminated, never longer */
} fm_error;

/* ------------------------------------------------------------------------
 * The text pipeline.
 *
 * UTF-8 check -> redaction -> normalization -> word segmentation ->
 * language -> stopwords and stemming -> negation scope -> features.
 * Every optional stage has a bit in `stages`; clearing it switches the stage
 * off (for ablations). The UTF-8 check and segmentation always run.
 * ---------------------------------------------------------------------- */
#define FM_STAGE_REDACT    (1u << 0) /* PII becomes <email>, <url>, ... */
#define FM_STAGE_NORMALIZE (1u << 1) /* NFKC, case fold, diacritics */
#define FM_STAGE_LANGID    (1u << 2) /* identify language when not given */
#define FM_STAGE_STOPWORDS (1u << 3) /* drop stopwords from features */
#define FM_STAGE_STEM      (1u << 4) /* Snowball stemming */
#define FM_STAGE_NEGATION  (1u << 5) /* mark words after a negator */
#define FM_STAGE_BIGRAMS   (1u << 6) /* word bigrams */
#define FM_STAGE_CHARGRAMS (1u << 7) /* character n-grams */
#define FM_STAGE_DICT_SEGMENT (1u << 8) /* ICU dictionary words for Thai, CJK... */
#define FM_STAGES_DEFAULT                                                   \
  (FM_STAGE_REDACT | FM_STAGE_NORMALIZE | FM_STAGE_LANGID |                 \
   FM_STAGE_STOPWORDS | FM_STAGE_STEM | FM_STAGE_NEGATION |                 \
   FM_STAGE_BIGRAMS | FM_STAGE_DICT_SEGMENT)

#define FM_MAX_DOC_BYTES_DEFAULT ((size_t)1 << 20) /* 1 MiB */

typedef struct fm_pipeline_opts {
  size_t size;           /* sizeof(fm_pipeline_opts) */
  unsigned stages;       /* FM_STAGE_* bits */
  size_t max_doc_bytes;  /* documents over this are refused: FM_ETOOBIG;
                            0 = FM_MAX_DOC_BYTES_DEFAULT */
  unsigned char_ngram_min; /* with FM_STAGE_CHARGRAMS; 0 = default 2 */
  unsigned char_ngram_max; /* with FM_STAGE_CHARGRAMS; 0 = default 5 */
} fm_pipeline_opts;
#define FM_PIPELINE_OPTS_INIT \
  { sizeof(fm_pipeline_opts), FM_STAGES_DEFAULT, 0, 2, 5 }

/* Token kinds. */
typedef enum fm_token_kind {
  FM_TOKEN_WORD = 0,
  FM_TOKEN_NUMBER = 1,      /* digits, with inner . , : */
  FM_TOKEN_EMOJI = 2,       /* an emoji or pictograph sequence */
  FM_TOKEN_PUNCT = 3,       /* punctuation; ends negation scope */
  FM_TOKEN_PLACEHOLDER = 4  /* redacted PII: "<email>", "<url>", ... */
} fm_token_kind;

#define FM_TOKEN_STOPWORD (1u << 0) /* on the language's stopword list */
#define FM_TOKEN_NEGATED  (1u << 1) /* inside a negation scope */
#define FM_TOKEN_NEGATOR  (1u << 2) /* the word opens a negation scope */
#define FM_TOKEN_SENTENCE_END (1u << 3) /* punctuation that ends a sentence */

/* One token. `text` is the normalized word; `stem` the stemmed form (equal
 * to `text` when no stemmer applies). Offsets are byte offsets into the
 * normalized text. In French, Italian and Catalan an elided article or
 * pronoun is not part of the word: "l'application" is the token
 * "application", its start just after the apostrophe. */
typedef struct fm_token {
  const char *text;
  size_t len;
  const char *stem;
  size_t stem_len;
  size_t start, end;
  fm_token_kind kind;
  unsigned flags; /* FM_TOKEN_* */
} fm_token;

typedef enum fm_feature_kind {
  FM_FEATURE_UNIGRAM = 0,
  FM_FEATURE_BIGRAM = 1,
  FM_FEATURE_CHARGRAM = 2
} fm_feature_kind;

/* One feature with its count in the document. `id` is a 64-bit hash of
 * `text`, stable across runs and machines. Feature texts: a unigram is the
 * stem ("!" prefixed inside a negation scope: "!good"), a bigram is two
 * unigrams joined by one space, a character n-gram is "c:" followed by the
 * n-gram of a blank-delimited chunk of the normalized text (chunk edges
 * shown as "_"), the host of a redacted URL is "url:" + host. In the
 * analysis of fm_tagger_tag character n-grams carry their id only (text
 * NULL, len 0; scoring needs no more): fm_tagger_analyze gives texts. */
typedef struct fm_feature {
  uint64_t id;
  const char *text;
  size_t len;
  uint32_t count;
  fm_feature_kind kind;
} fm_feature;

/* The pipeline's view of one document. Every pointer is owned by the
 * tagger that produced it and is valid until the next call on that tagger
 * or its free. */
typedef struct fm_analysis {
  const char *lang;        /* ISO 639-1 code, or "und" */
  int lang_given;          /* 1 when the caller's language was used */
  const char *redacted;    /* input after UTF-8 repair and redaction */
  size_t redacted_len;
  const char *normalized;  /* after normalization */
  size_t normalized_len;
  size_t invalid_utf8;     /* invalid sequences replaced by U+FFFD */
  size_t pii_count;        /* spans redacted */
  const fm_token *tokens;
  size_t n_tokens;
  const fm_feature *features; /* in order of first appearance */
  size_t n_features;
} fm_analysis;

/* ------------------------------------------------------------------------
 * Models (naive Bayes, one head per question asked of a text).
 * ---------------------------------------------------------------------- */
typedef struct fm_model fm_model;

/* The model file format version this build writes (major * 1000 + minor).
 * It reads every minor version of its major and refuses others. */
FM_API int fm_model_format_version(void);

/* Opens a model file with mmap, read-only, and validates it (magic, format
 * version, sizes, offsets, checksum). Cost does not grow with the model's
 * size beyond the checksum pass. Errors: FM_EIO (cannot open/map),
 * FM_EMODEL (not a feedmine model, truncated, corrupt), FM_EVERSION (format
 * version this build cannot read; the message names both versions),
 * FM_ENOMEM. Caller-owned: release with fm_model_close(). The model is
 * immutable and may be shared by any number of threads. */
FM_API fm_status fm_model_open(const char *path, fm_model **out,
                               fm_error *err);

/* Same, over bytes in memory. The bytes are borrowed and must stay valid
 * and unchanged until fm_model_close(). `data` must be 8-byte aligned. */
FM_API fm_status fm_model_open_memory(const void *data, size_t len,
                                      fm_model **out, fm_error *err);

/* Releases a model. No tagger may still use it. NULL is a no-op. */
FM_API void fm_model_close(fm_model *model);

/* Heads and labels. Names are owned by the model. Out-of-range indexes
 * give 0 counts and NULL names. */
FM_API size_t fm_model_head_count(const fm_model *model);
FM_API const char *fm_model_head_name(const fm_model *model, size_t head);
FM_API size_t fm_model_label_count(const fm_model *model, size_t head);
FM_API const char *fm_model_label_name(const fm_model *model, size_t head,
                                       size_t label);
/* Index of a head by name, or -1. */
FM_API long fm_model_head_index(const fm_model *model, const char *name);

/* The pipeline options the model was trained with (taggers always use
 * them). */
FM_API void fm_model_pipeline_opts(const fm_model *model,
                                   fm_pipeline_opts *out);

/* A 16-hex-digit identity of the model's content (its checksum), owned by
 * the model. */
FM_API const char *fm_model_id(const fm_model *model);

/* ------------------------------------------------------------------------
 * Taggers: per-thread working state (arena, ICU break iterator, stemmers,
 * regex match data). One per thread; many taggers may share one model.
 * ---------------------------------------------------------------------- */
typedef struct fm_tagger fm_tagger;

/* Creates a tagger. With a model, the model's pipeline options are used and
 * `opts` must be NULL; without one (model NULL) the tagger can only analyze,
 * with `opts` (NULL = defaults). The model is borrowed: it must outlive the
 * tagger. Caller-owned: release with fm_tagger_free(). Errors: FM_ENOMEM,
 * FM_EINVAL, FM_EUNICODE, FM_EREGEX. */
FM_API fm_status fm_tagger_new(const fm_model *model,
                               const fm_pipeline_opts *opts,
                               fm_tagger **out, fm_error *err);
FM_API void fm_tagger_free(fm_tagger *tagger);

/* Runs the text pipeline over one document. `lang` (ISO 639-1, may be NULL
 * or "") overrides language identification. `*out` is owned by the tagger
 * and valid until its next call. Invalid UTF-8 is repaired, not refused.
 * Errors: FM_ETOOBIG (over max_doc_bytes), FM_ENOMEM, FM_EUNICODE. */
FM_API fm_status fm_tagger_analyze(fm_tagger *tagger, const char *text,
                                   size_t len, const char *lang,
                                   const fm_analysis **out, fm_error *err);

/* One label with its calibrated probability. */
typedef struct fm_label_prob {
  size_t label;      /* index into fm_model_label_name(model, head, .) */
  const char *name;  /* owned by the model */
  double prob;
} fm_label_prob;

/* One feature's pull toward a head's chosen label: its weight is the
 * log-probability difference it adds between the chosen label and the
 * runner-up (positive = pushed toward the chosen label), in calibrated
 * units when the head uses a temperature. Character n-grams are listed
 * together as one item named "c:*" (their sum). */
typedef struct fm_explain_item {
  const char *feature; /* owned by the model */
  double weight;
} fm_explain_item;

/* A head skipped for fm_tag_opts.source has label SIZE_MAX, label_name
 * NULL, prob 0 and no top or explanation. */
typedef struct fm_head_result {
  const char *head;          /* owned by the model */
  size_t label;              /* best label */
  const char *label_name;    /* owned by the model */
  double prob;               /* its calibrated probability */
  int needs_review;          /* prob below the head's threshold */
  const fm_label_prob *top;  /* top-k labels, best first */
  size_t n_top;
  const fm_explain_item *explain; /* with FM_TAG_EXPLAIN, strongest first */
  size_t n_explain;
} fm_head_result;

typedef struct fm_result {
  const fm_analysis *analysis;
  const fm_head_result *heads; /* one per model head, in model order */
  size_t n_heads;
} fm_result;

#define FM_TAG_EXPLAIN (1u << 0) /* fill fm_head_result.explain */

typedef struct fm_tag_opts {
  size_t size;        /* sizeof(fm_tag_opts) */
  unsigned flags;     /* FM_TAG_* */
  size_t top_k;       /* labels in fm_head_result.top; 0 = 3 */
  size_t explain_k;   /* features per head with FM_TAG_EXPLAIN; 0 = 8 */
  const char *source; /* "ticket", "nps", "churn", "lost_deal" or NULL:
                         heads trained only for some sources (churn_reason)
                         are skipped for others */
} fm_tag_opts;
#define FM_TAG_OPTS_INIT { sizeof(fm_tag_opts), 0, 0, 0, NULL }

/* Tags one text with the tagger's model. `lang` as in fm_tagger_analyze.
 * `opts` may be NULL. `*out` is owned by the tagger and valid until its
 * next call. Errors: FM_EINVAL (tagger without a model), FM_ETOOBIG,
 * FM_ENOMEM, FM_EUNICODE, FM_EMODEL (a crafted model whose index is
 * inconsistent). */
FM_API fm_status fm_tagger_tag(fm_tagger *tagger, const char *text,
                               size_t len, const char *lang,
                               const fm_tag_opts *opts,
                               const fm_result **out, fm_error *err);

/* ------------------------------------------------------------------------
 * Training and evaluation.
 *
 * A model is built from counts: per head and label, documents and feature
 * mass; per feature, document frequency and mass per label. Counts are
 * stored exactly (fixed point), so models trained with the same settings
 * merge by adding them: merging models trained on shards gives the same
 * bytes as training on everything. Everything that needs corpus statistics
 * (TF-IDF weights, smoothing, the minimum feature count) is applied when the
 * scoring index is built, never to the counts.
 * ---------------------------------------------------------------------- */
typedef enum fm_nb_variant {
  FM_NB_MULTINOMIAL = 0, /* classic multinomial naive Bayes */
  FM_NB_COMPLEMENT = 1,  /* complement NB (Rennie et al. 2003): each label
                            is scored by the counts of all the others;
                            steadier with skewed labels */
  FM_NB_AUTO = 2         /* chosen with alpha by K-fold cross-validation
                            on the training data (the model records the
                            variant chosen); with a fixed alpha,
                            multinomial */
} fm_nb_variant;

typedef enum fm_priors {
  FM_PRIORS_LEARNED = 0, /* label frequencies of the training data */
  FM_PRIORS_UNIFORM = 1, /* every label equally likely a priori */
  FM_PRIORS_AUTO = 2     /* learned or uniform, chosen with alpha by K-fold
                            cross-validation (uniform helps the rare labels
                            of skewed data); with a fixed alpha, learned */
} fm_priors;
/* Priors given per label (fm_trainer_set_prior) override either mode for
 * that head. */

typedef enum fm_review_policy {
  /* The lowest probability t such that, on held-out folds of the training
   * data, the items tagged with probability >= t are right at least
   * `review_value` of the time (default 0.9). When no t reaches it, every
   * item of the head is flagged (t = 1). Uncalibrated models use 0.5. */
  FM_REVIEW_TARGET_ACCURACY = 0,
  FM_REVIEW_FIXED = 1 /* t = review_value */
} fm_review_policy;

typedef struct fm_train_opts {
  size_t size;               /* sizeof(fm_train_opts) */
  fm_pipeline_opts pipeline; /* recorded in the model; taggers use it */
  fm_nb_variant variant;
  double alpha;              /* additive smoothing; < 0 = auto: chosen by
                                K-fold cross-validation on the training
                                data over 0.003 ... 1 (0.01 ... 0.3 with
                                the variant auto). Auto choices maximize
                                the mean of accuracy and macro-F1. */
  int tfidf;                 /* weight features by smoothed idf */
  int sublinear_tf;          /* count c counts as 1 + ln c */
  int length_norm;           /* each document's tf vector has L2 norm 1 */
  unsigned min_count;        /* features in fewer documents stay out of the
                                scoring index (not out of the counts) */
  fm_priors priors;
  int calibrate;             /* fit probability calibration and the review
                                threshold on held-out folds */
  unsigned folds;            /* folds for alpha auto and calibration; 0 = 5 */
  fm_review_policy review;
  double review_value;       /* see fm_review_policy; <= 0 = 0.9 / 0.5 */
} fm_train_opts;

/* The recommended configuration (see README "Accuracy and speed"): variant,
 * alpha and priors chosen by cross-validation, TF-IDF, sublinear tf,
 * length normalization, word uni+bigrams (stopwords kept: they carry
 * intent, "why" vs "how") and character 3-5-grams (as accurate as 2-5 in
 * 5-fold CV on the evaluation datasets, a quarter fewer), calibration. */
#define FM_TRAIN_STAGES_DEFAULT                                             \
  ((FM_STAGES_DEFAULT & ~FM_STAGE_STOPWORDS) | FM_STAGE_CHARGRAMS)
#define FM_TRAIN_OPTS_INIT                                                  \
  { sizeof(fm_train_opts),                                                  \
    { sizeof(fm_pipeline_opts), FM_TRAIN_STAGES_DEFAULT, 0, 3, 5 },         \
    FM_NB_AUTO, -1.0, 1, 1, 1, 1, FM_PRIORS_AUTO, 1, 5,                    \
    FM_REVIEW_TARGET_ACCURACY, 0.9 }

typedef struct fm_trainer fm_trainer;

/* Creates a trainer for `n_heads` heads with the given names (copied;
 * unique, non-empty). `opts` NULL = FM_TRAIN_OPTS_INIT. Caller-owned:
 * release with fm_trainer_free(). Errors: FM_EINVAL (bad names or
 * options), FM_ENOMEM, FM_EUNICODE, FM_EREGEX. One thread at a time. */
FM_API fm_status fm_trainer_new(const char *const *heads, size_t n_heads,
                                const fm_train_opts *opts, fm_trainer **out,
                                fm_error *err);

/* Creates a trainer with a model's heads and every setting it was trained
 * with (alpha included), for learning corrections: write its model and
 * merge it into the base with fm_model_merge(). The model is only read
 * during this call. */
FM_API fm_status fm_trainer_new_like(const fm_model *model,
                                     fm_trainer **out, fm_error *err);

/* Adds one document. `labels` has one entry per head, in head order: NULL
 * or "" means "no label for this head" (the document then trains the
 * other heads only; it still counts for document frequencies). `labels`
 * itself may be NULL (no labels at all). `lang` as in fm_tagger_analyze;
 * `source` (may be NULL) names where the document came from ("ticket",
 * "churn", ...): a head records the sources of its labels, and tagging
 * with fm_tag_opts.source skips heads that never saw that source. Strings
 * are copied. Errors: FM_ETOOBIG (document over max_doc_bytes), FM_EINVAL,
 * FM_ENOMEM, FM_EUNICODE. */
FM_API fm_status fm_trainer_add(fm_trainer *tr, const char *text, size_t len,
                                const char *lang, const char *source,
                                const char *const *labels, fm_error *err);

/* Fixes the prior probability of one label of a head (0 < p < 1). Labels
 * of the head without a given prior share the rest in proportion to their
 * documents. Recorded in the model; merging requires equal priors.
 * Errors: FM_ENOTFOUND (no such head), FM_EINVAL, FM_ENOMEM. */
FM_API fm_status fm_trainer_set_prior(fm_trainer *tr, const char *head,
                                      const char *label, double p,
                                      fm_error *err);

/* Number of documents added so far. */
FM_API uint64_t fm_trainer_doc_count(const fm_trainer *tr);

/* Chooses alpha (when auto), fits calibration (when on) and writes the
 * model: to `path` through a temporary file renamed into place, or into a
 * buffer (caller-owned, release with fm_free(); 8-byte aligned, so it can
 * go to fm_model_open_memory). The trainer stays usable (more documents
 * may be added and the model written again). Errors: FM_EINVAL (no
 * labeled document for some head), FM_EIO, FM_ENOMEM, FM_ETOOBIG (over
 * 2^32 postings or string bytes). Deterministic: the same documents and
 * options give the same bytes, whatever the order of the documents. */
FM_API fm_status fm_trainer_write(fm_trainer *tr, const char *path,
                                  fm_error *err);
FM_API fm_status fm_trainer_write_memory(fm_trainer *tr, void **data,
                                         size_t *len, fm_error *err);

FM_API void fm_trainer_free(fm_trainer *tr);

/* Releases memory the library handed to the caller. NULL is a no-op. */
FM_API void fm_free(void *p);

/* Merge flags. */
#define FM_MERGE_KEEP_CALIBRATION (1u << 0) /* keep models[0]'s calibration
                                               (for learning corrections) */

/* Merges models trained with the same pipeline and training settings and
 * the same heads (names and order) by adding their counts; labels are the
 * union. Alpha: the models' alpha when equal, otherwise that of the model
 * with the most documents (ties: the smaller alpha). Calibration is
 * dropped unless FM_MERGE_KEEP_CALIBRATION (run fm_calibrator afterwards).
 * Writes to `path` through a temporary file, or into a buffer (release
 * with fm_free()). Models are only read. Errors: FM_EMISMATCH (settings
 * or heads differ; the message names what), FM_EMODEL (corrupt counts),
 * FM_EINVAL, FM_EIO, FM_ENOMEM. */
FM_API fm_status fm_model_merge(const fm_model *const *models, size_t n,
                                unsigned flags, const char *path,
                                fm_error *err);
FM_API fm_status fm_model_merge_memory(const fm_model *const *models,
                                       size_t n, unsigned flags,
                                       void **data, size_t *len,
                                       fm_error *err);

/* What a model records about its training. Filled by fm_model_info(). */
typedef struct fm_model_info {
  size_t size;                 /* sizeof(fm_model_info), set by caller */
  int format_version;          /* major * 1000 + minor */
  uint64_t file_bytes;
  uint64_t documents;          /* documents trained on */
  uint64_t features;           /* vocabulary (counts) */
  uint64_t index_features;     /* features in the scoring index */
  uint64_t postings;           /* (feature, label) weights in the index */
  fm_train_opts opts;          /* alpha: as requested (< 0 = auto) */
  double alpha;                /* the alpha used */
  size_t n_alpha_grid;         /* alpha auto: cross-validated accuracy */
  double alpha_grid[16], alpha_grid_accuracy[16];
  const char *producer;        /* "feedmine 0.1.0"; owned by the model */
  const char *unicode_version; /* of the ICU that normalized the text */
  const char *stemmers;        /* Snowball algorithms of the libstemmer used */
  fm_nb_variant variant;       /* the variant used (opts: as requested) */
  fm_priors priors;            /* the priors mode used (opts: as requested) */
} fm_model_info;

/* Fills `out` (out->size must be set). Errors: FM_EINVAL. */
FM_API fm_status fm_model_info_get(const fm_model *model, fm_model_info *out,
                                   fm_error *err);

typedef enum fm_calibration {
  FM_CALIB_NONE = 0,        /* softmax of the raw scores */
  FM_CALIB_TEMPERATURE = 1, /* softmax(score / T) */
  FM_CALIB_PLATT = 2        /* sigmoid(a * logit(top) + b) for the top
                               label, the rest rescaled */
} fm_calibration;

typedef struct fm_head_info {
  size_t size;            /* sizeof(fm_head_info), set by caller */
  const char *name;       /* owned by the model */
  size_t n_labels;
  uint64_t documents;     /* documents labeled for this head */
  size_t n_sources;       /* sources its labels came from (0 = unknown) */
  fm_calibration calibration;
  double temperature;     /* FM_CALIB_TEMPERATURE */
  double platt_a, platt_b;/* FM_CALIB_PLATT */
  double threshold;       /* needs_review below this probability */
  uint64_t held_out;      /* held-out items the calibration was fit on */
  double held_out_accuracy;
  double ece_raw, ece;    /* held-out ECE (15 bins) before / after */
} fm_head_info;

/* Fills `out` for one head. Errors: FM_EINVAL (bad index or size). */
FM_API fm_status fm_model_head_info(const fm_model *model, size_t head,
                                    fm_head_info *out, fm_error *err);
/* A source name of a head (owned by the model), or NULL. */
FM_API const char *fm_model_head_source(const fm_model *model, size_t head,
                                        size_t i);
/* Training documents with this label. */
FM_API uint64_t fm_model_label_docs(const fm_model *model, size_t head,
                                    size_t label);

/* ---- calibration after the fact (feedmine calibrate) -------------------
 * Scores held-out labeled documents with a model and fits its calibration
 * and review thresholds on them; writes a copy of the model with only the
 * calibration changed. Use documents the model was not trained on. */
typedef struct fm_calibrator fm_calibrator;

/* The model is borrowed until fm_calibrator_free(). `review` and
 * `review_value` as in fm_train_opts (review_value <= 0: the default).
 * Errors: FM_ENOMEM, FM_EUNICODE, FM_EREGEX. */
FM_API fm_status fm_calibrator_new(const fm_model *model,
                                   fm_review_policy review,
                                   double review_value,
                                   fm_calibrator **out, fm_error *err);
/* Adds one labeled document; `labels` as in fm_trainer_add. Labels the
 * model does not know are counted as errors of the head. */
FM_API fm_status fm_calibrator_add(fm_calibrator *c, const char *text,
                                   size_t len, const char *lang,
                                   const char *const *labels,
                                   fm_error *err);
/* Fits and writes (temporary file, then rename). Heads without labeled
 * documents keep their calibration. Errors: FM_EIO, FM_ENOMEM. */
FM_API fm_status fm_calibrator_write(fm_calibrator *c, const char *path,
                                     fm_error *err);
FM_API void fm_calibrator_free(fm_calibrator *c);

/* ---- evaluation ---------------------------------------------------------
 * Accumulates (truth, prediction, probability) per head and derives the
 * metrics. Evaluations merge (K-fold results add up). One thread at a
 * time. */
typedef struct fm_eval fm_eval;

/* Heads named as given (copied); labels are learned as they are seen,
 * or taken from `model` (may be NULL) first, in model order. */
FM_API fm_status fm_eval_new(const char *const *heads, size_t n_heads,
                             const fm_model *model, fm_eval **out,
                             fm_error *err);
/* One prediction. `truth` NULL or "" is skipped (no label). `prob` is the
 * probability given to `predicted`. `needs_review` as tagged. */
FM_API fm_status fm_eval_add(fm_eval *ev, size_t head, const char *truth,
                             const char *predicted, double prob,
                             int needs_review, fm_error *err);
/* Adds every head of a tagging result against `truth` (one per head,
 * NULL entries skipped); heads are matched by name. */
FM_API fm_status fm_eval_add_result(fm_eval *ev, const fm_result *res,
                                    const char *const *truth, fm_error *err);
/* Adds `from` into `into` (same heads). */
FM_API fm_status fm_eval_merge(fm_eval *into, const fm_eval *from,
                               fm_error *err);

#define FM_ECE_BINS 15

typedef struct fm_label_metrics {
  const char *label;     /* owned by the eval */
  uint64_t support;      /* items whose truth is this label */
  uint64_t predicted;    /* items predicted as this label */
  double precision, recall, f1;
} fm_label_metrics;

typedef struct fm_head_metrics {
  const char *head;          /* owned by the eval */
  uint64_t n;                /* labeled items */
  uint64_t correct;
  double accuracy;
  double macro_f1;           /* mean F1 over labels with support or
                                predictions */
  double weighted_f1;        /* by support */
  double ece;                /* expected calibration error, 15 equal bins
                                of the top probability */
  uint64_t needs_review;     /* items flagged */
  double accuracy_confident; /* accuracy of the items not flagged */
  size_t n_labels;
  const fm_label_metrics *labels;  /* owned by the eval */
  const uint64_t *confusion;       /* confusion[t * confusion_stride + p]
                                      counts items of truth t predicted
                                      as p (t, p < n_labels); owned by
                                      the eval */
  size_t confusion_stride;
  uint64_t bin_count[FM_ECE_BINS]; /* reliability diagram */
  double bin_confidence[FM_ECE_BINS], bin_accuracy[FM_ECE_BINS];
} fm_head_metrics;

FM_API size_t fm_eval_head_count(const fm_eval *ev);
/* Computes a head's metrics. `*out` is owned by the eval and valid until
 * the next call on it. Errors: FM_EINVAL (bad head), FM_ENOMEM. */
FM_API fm_status fm_eval_head(fm_eval *ev, size_t head,
                              const fm_head_metrics **out, fm_error *err);
FM_API void fm_eval_free(fm_eval *ev);

/* Stratified K-fold cross-validation over the documents added to a
 * trainer (by the first head's labels): for each fold, a model of the
 * other K-1 folds -- alpha auto and calibration included, fit on those
 * folds only -- tags the fold, and the results go to `ev` (whose heads
 * must be the trainer's). The trainer is unchanged. Errors: FM_EINVAL
 * (folds < 2 or more than documents), FM_ENOMEM. */
FM_API fm_status fm_trainer_cross_validate(fm_trainer *tr, unsigned folds,
                                           fm_eval *ev, fm_error *err);

/* ------------------------------------------------------------------------
 * Readers: customer exports (CSV, JSON Lines) one record at a time.
 *
 * CSV is RFC 4180 (quoted fields with embedded newlines and doubled
 * quotes), with a header row, an optional UTF-8 byte order mark, LF, CRLF
 * or CR-only line ends and a delimiter `,` `;` or tab (detected from the
 * header line unless given). JSON Lines is one object per line; nested
 * objects are reached with dotted paths ("customer.plan"). Memory stays
 * bounded whatever the input size: the input is streamed, never loaded.
 *
 * Standard fields are found by column mapping ("FIELD=COLUMN", COLUMN may
 * be "A+B" to join columns with a blank line between) or, when not mapped,
 * from common header names (case, spaces and '-' ignored):
 *   text     text, body, description, comment, feedback, verbatim, reason,
 *            message (a "subject" column is joined before it; subject alone
 *            is the text when nothing else is)
 *   id       id, ticket_id, response_id
 *   date     created_at, date, submitted_at, closed_at
 *   score    score, nps, rating
 *   account  account, company, customer, organization
 *   revenue  mrr, arr, revenue, amount, deal_size
 *   lang     lang, language
 *   segment  plan, segment, tier, industry
 * Values: dates are ISO 8601 (date, or date-time with Z or an offset;
 * 'T' or a blank between), "YYYY-MM-DD HH:MM[:SS]", "DD.MM.YYYY",
 * "MM/DD/YYYY" or "DD/MM/YYYY" (see fm_date_order), each optionally with
 * a time "HH:MM[:SS]" and AM/PM, or Unix seconds; years 1970-9999, times
 * without an offset are UTC. Scores are decimal numbers ('.' or ',' as
 * the decimal mark). Revenue is a number with an optional currency symbol
 * or 3-letter code and thousands separators ("$1,200.50", "1 200,50 EUR",
 * "1.200,50 €"): when '.' and ',' both occur the last one is the decimal
 * mark; a single mark followed by exactly three digits groups thousands.
 * An empty value is absent, not an error.
 *
 * Bad rows never stop a reader: fm_reader_next returns FM_EPARSE with the
 * row's first physical line and the reason, and the next call goes on
 * with the next row. Reasons: wrong field count, unterminated quoted
 * field (the row is rejected as its first line; the lines after it are
 * read again as rows), a field over max_field_bytes (or a row over four
 * times that), invalid JSON (including duplicate keys, nesting deeper
 * than 2048 and numbers out of range), a line that is not a JSON object,
 * a missing or empty text, an unparseable or out-of-range date, an
 * unparseable score or revenue.
 * ---------------------------------------------------------------------- */
typedef struct fm_reader fm_reader;

typedef enum fm_format {
  FM_FORMAT_AUTO = 0,  /* by extension (.csv .tsv / .jsonl .ndjson .json),
                          else '{' as the first character means JSONL */
  FM_FORMAT_CSV = 1,
  FM_FORMAT_JSONL = 2
} fm_format;

/* How "NN/NN/YYYY" is read. AUTO reads month first unless the first
 * number is over 12; MDY and DMY are strict (an impossible date is a
 * rejected row). */
typedef enum fm_date_order {
  FM_DATE_AUTO = 0,
  FM_DATE_MDY = 1,
  FM_DATE_DMY = 2
} fm_date_order;

#define FM_MAX_FIELD_BYTES_DEFAULT ((size_t)1 << 20) /* 1 MiB */

typedef struct fm_reader_opts {
  size_t size;            /* sizeof(fm_reader_opts) */
  fm_format format;
  char delimiter;         /* CSV: ',', ';' or '\t'; 0 = detect */
  const char *const *map; /* n_map strings "FIELD=COLUMN"; FIELD is one of
                             text id date score account revenue lang
                             segment; "FIELD=" means do not read it.
                             Borrowed for the duration of the open call. */
  size_t n_map;
  fm_date_order date_order;
  size_t max_field_bytes; /* 0 = FM_MAX_FIELD_BYTES_DEFAULT */
  const char *source;     /* copied to every record's `source`; NULL = "" */
  const char *name;       /* the input's name in messages; NULL = the path
                             ("<stdin>" for "-") */
} fm_reader_opts;
#define FM_READER_OPTS_INIT \
  { sizeof(fm_reader_opts), FM_FORMAT_AUTO, 0, NULL, 0, FM_DATE_AUTO, 0, \
    NULL, NULL }

/* One record. Every pointer is owned by the reader and valid until its
 * next fm_reader_next or fm_reader_free. Strings are NUL-terminated ("" when
 * absent); `text` may hold NUL bytes from the input, so use text_len. */
typedef struct fm_record {
  const char *source;
  const char *id;
  int64_t date;           /* Unix seconds, UTC; valid with has_date */
  int has_date;
  const char *text;       /* mapped column(s), joined with "\n\n" */
  size_t text_len;
  double score;           /* valid with has_score */
  int has_score;
  const char *account;
  const char *segment;
  double revenue;         /* valid with has_revenue */
  int has_revenue;
  const char *lang;       /* as given in the input, or "" */
  uint64_t line;          /* physical line (1-based) where the row starts */
  fm_reader *reader;      /* the reader it came from (for fm_record_field) */
} fm_record;

/* One input field of a record, in input order. */
typedef struct fm_field {
  const char *name;  /* CSV column name or JSON key; owned by the reader */
  const char *value; /* NUL-terminated; owned by the reader until next */
  size_t len;
  int is_json;       /* JSONL only: value is JSON text (a number, true,
                        false, null, an object or an array) */
} fm_field;

/* Opens an export by path ("-" = standard input) and, for CSV, reads its
 * header row and resolves the column mapping. Errors: FM_EIO (cannot open
 * or read, or a directory; the message names the file), FM_EPARSE (binary
 * data, not CSV or JSON Lines; a malformed header row), FM_ENOTFOUND (no
 * text column, or a mapped column absent: the message lists the columns
 * found), FM_EINVAL (bad options or map), FM_ENOMEM. An empty input is not
 * an error: it has no records. Caller-owned: release with
 * fm_reader_free(). One thread at a time. */
FM_API fm_status fm_reader_open(const char *path, const fm_reader_opts *opts,
                                fm_reader **out, fm_error *err);

/* Same over an open stream, which is borrowed (not closed by the reader;
 * it must stay open until fm_reader_free). `name` is used in messages
 * (NULL = "<input>") unless opts->name is set. */
FM_API fm_status fm_reader_open_file(FILE *f, const char *name,
                                     const fm_reader_opts *opts,
                                     fm_reader **out, fm_error *err);

/* Same over bytes in memory, borrowed until fm_reader_free. */
FM_API fm_status fm_reader_open_memory(const void *data, size_t len,
                                       const fm_reader_opts *opts,
                                       fm_reader **out, fm_error *err);

/* Closes the file it opened and releases everything. NULL is a no-op. */
FM_API void fm_reader_free(fm_reader *reader);

/* Reads the next record. Returns FM_OK with *out set; FM_EEOF at the end
 * (*out NULL); FM_EPARSE for a rejected row (*out NULL, err->line = the
 * row's first physical line, err->column = the JSON error column or 0,
 * err->msg = the reason) -- call again to go on. Any other status (FM_EIO,
 * FM_ENOMEM, FM_ENOTFOUND when the first JSON object has no text field)
 * is fatal and every later call returns it again. */
FM_API fm_status fm_reader_next(fm_reader *reader, const fm_record **out,
                                fm_error *err);

/* The raw bytes of the last row returned or rejected, without its line
 * end, for a rejects file. At most four times max_field_bytes are kept;
 * *truncated (may be NULL) says whether the row was longer. Owned by the
 * reader until its next call. Never NULL ("" before the first row). */
FM_API const char *fm_reader_raw(const fm_reader *reader, size_t *len,
                                 int *truncated);

/* A record's input field by name (CSV column or JSON key, or a dotted
 * path into nested objects), matched exactly first, then ignoring ASCII
 * case. Returns NULL when absent (a JSON null is absent). JSON numbers,
 * booleans, objects and arrays come back as JSON text. Owned by the reader
 * until its next call. */
FM_API const char *fm_record_field(const fm_record *rec, const char *name,
                                   size_t *len);

/* The record's input fields in input order (CSV: every column; JSONL: the
 * object's top-level keys). fm_record_field_at returns 0 when i is out of
 * range. */
FM_API size_t fm_record_field_count(const fm_record *rec);
FM_API int fm_record_field_at(const fm_record *rec, size_t i, fm_field *out);

/* What the reader found: format, CSV delimiter (0 for JSONL), header
 * columns (CSV; 0 for JSONL), names owned by the reader. */
FM_API fm_format fm_reader_format(const fm_reader *reader);
FM_API char fm_reader_delimiter(const fm_reader *reader);
FM_API size_t fm_reader_column_count(const fm_reader *reader);
FM_API const char *fm_reader_column_name(const fm_reader *reader, size_t i);

/* The column(s) a standard field ("text", "date", ...) is read from, as
 * "A" or "A+B"; NULL when not read or (JSONL without a map) detected per
 * row. Owned by the reader. */
FM_API const char *fm_reader_mapping(const fm_reader *reader,
                                     const char *field);

/* The input's name as used in messages; owned by the reader. */
FM_API const char *fm_reader_name(const fm_reader *reader);

/* Progress: bytes consumed so far, and the input's total size when known
 * (a regular file or memory), else 0. */
FM_API void fm_reader_progress(const fm_reader *reader, uint64_t *bytes_read,
                               uint64_t *total_bytes);

/* ------------------------------------------------------------------------
 * Aggregates and reports.
 *
 * An fm_agg rolls tagged items up for one reporting period and, for
 * trends, the period of equal length before it: counts per source,
 * language, head label and product area, NPS tallies, accounts and
 * revenue, keyphrase document counts, and bounded reservoirs of exemplars
 * (verbatims) and of the least certain items (the review queue). One
 * aggregate drives the four report writers.
 *
 * Aggregates merge: the aggregate of A and B added to one fm_agg equals
 * the merge of an aggregate of A with one of B, byte for byte when
 * serialized, in any order and grouping. So tagging can run on many
 * threads or machines and a reduce step merges the parts. Everything
 * stored is an integer or a string (probabilities in millionths, revenue
 * in cents) so no floating-point sum depends on the order of the items.
 *
 * The period is an option of the aggregate, not of the report: keyphrase
 * counts and exemplars are kept for the two periods only, which is what
 * keeps memory bounded. Items dated outside both periods, or undated, are
 * only counted.
 *
 * Memory: fixed-size counters per head, label and area; one entry per
 * distinct account (so it grows with the customer base, not the number of
 * items); reservoirs of `exemplars` items per area and `review_items`
 * items; at most `max_phrases` keyphrase entries (a quarter for phrases
 * of one word, three eighths each for two and three words). When the
 * phrases of one length would outgrow their share, they are sampled by a
 * hash of their stems (one in 2, 4, 8, ... kept; a kept phrase keeps its
 * exact counts) -- a rule that depends only on the phrases, so merging
 * stays exact. The report says when sampling happened.
 * ---------------------------------------------------------------------- */
typedef struct fm_agg fm_agg;

/* One head the aggregate counts and its labels, in a fixed order. Heads
 * are recognised by name: "area" (at most 64 labels) ranks the product
 * areas; "sentiment" gives the negative share (label "negative");
 * "kind" gives the requirement phrases (labels "feature_request" and
 * "complaint"); "churn_reason" breaks down churn and lost deals. Other
 * heads are counted per label and language only. */
typedef struct fm_agg_head {
  const char *name;
  const char *const *labels;
  size_t n_labels;
} fm_agg_head;

typedef enum fm_compare {
  FM_COMPARE_NONE = 0,
  FM_COMPARE_PREVIOUS = 1 /* the period of equal length just before */
} fm_compare;

typedef struct fm_agg_opts {
  size_t size;              /* sizeof(fm_agg_opts) */
  const fm_agg_head *heads; /* copied by fm_agg_new; unique names */
  size_t n_heads;
  int64_t since, until;     /* the period [since, until), Unix seconds UTC,
                               1 to 3660 days long */
  fm_compare compare;
  /* Priority weight of one item by source (0 to 1000; kept to 3
   * decimals). The priority of an area is the sum of its items' weights
   * x (1 + its negative share) x its revenue factor (see README). */
  double weight_ticket;        /* default 1 */
  double weight_nps;           /* NPS answers other than detractors: 1 */
  double weight_nps_detractor; /* NPS score 0-6: 1.5 */
  double weight_churn;         /* 3 */
  double weight_lost_deal;     /* 2 */
  double weight_other;         /* any other source: 1 */
  size_t exemplars;   /* feature requests and complaints kept per area for
                         verbatims; 0 = 48 */
  size_t review_items;/* least certain items kept; 0 = 20 */
  size_t max_phrases; /* keyphrase entries; 0 = 262144 */
} fm_agg_opts;
#define FM_AGG_OPTS_INIT                                                   \
  { sizeof(fm_agg_opts), NULL, 0, 0, 0, FM_COMPARE_PREVIOUS, 1.0, 1.0, 1.5, \
    3.0, 2.0, 1.0, 0, 0, 0 }

/* The period of `spec` ending with the UTC day that holds `last` (the
 * latest date present, Unix seconds): *until = the start of the next UTC
 * day, *since = *until minus the length. `spec` is "7d", "30d", "quarter"
 * (91 days), or "Nd" / "Nw" (N days or weeks, 1 to 3660 days). Errors:
 * FM_EINVAL (the message names the spec). */
FM_API fm_status fm_period_last(const char *spec, int64_t last,
                                int64_t *since, int64_t *until,
                                fm_error *err);

/* One head's tag of an item. */
typedef struct fm_agg_tag {
  const char *head;  /* a head name of the aggregate; others are ignored */
  const char *label; /* one of its labels */
  double prob;       /* the label's probability, 0 to 1 (kept to 6
                        decimals) */
  int needs_review;  /* below the head's confidence threshold */
} fm_agg_tag;

/* One tagged item. Every pointer is borrowed for the duration of
 * fm_agg_add. Strings are NUL-terminated except `text`. */
typedef struct fm_agg_item {
  size_t size;            /* sizeof(fm_agg_item) */
  const char *source;     /* "ticket", "nps", "churn", "lost_deal"; any
                             other name (or NULL) counts as "other" */
  const char *id;         /* external id, shown in the review queue; NULL
                             = none */
  int64_t date;           /* Unix seconds UTC, with has_date */
  int has_date;
  const char *account;    /* NULL or "" = unknown */
  double revenue;         /* MRR or deal size (>= 0, kept in cents), with
                             has_revenue; the latest-dated item of an
                             account that is not a lost deal gives the
                             account's revenue (a deal's value is not what
                             the account pays) */
  int has_revenue;
  double score;           /* NPS score 0-10 (source "nps"), with has_score */
  int has_score;
  const char *lang;       /* ISO 639-1; NULL or "" = "und" */
  const fm_agg_tag *tags;
  size_t n_tags;
  const char *text;       /* the redacted text, quoted as a verbatim */
  size_t text_len;
  const fm_token *tokens; /* the analysis of that text (fm_tagger_analyze
                             or the tagging result), for keyphrases; may be
                             NULL: no phrases from this item */
  size_t n_tokens;
} fm_agg_item;
#define FM_AGG_ITEM_INIT                                                   \
  { sizeof(fm_agg_item), NULL, NULL, 0, 0, NULL, 0, 0, 0, 0, NULL, NULL,  \
    0, NULL, 0, NULL, 0 }

/* Fills the tags, language, text and tokens of `item` from a tagging
 * result: `tags` must have room for res->n_heads entries (heads skipped
 * for the item's source are left out). Pointers are borrowed from `res`
 * and `tags`; the other fields of `item` are left alone. */
FM_API void fm_agg_item_from_result(fm_agg_item *item, const fm_result *res,
                                    fm_agg_tag *tags);

/* Creates an empty aggregate. Errors: FM_EINVAL (no heads, duplicate
 * names, a period out of range, a weight out of range, an "area" head
 * with more than 64 labels; the message says which), FM_ENOMEM.
 * Caller-owned: release with fm_agg_free(). One thread at a time. */
FM_API fm_status fm_agg_new(const fm_agg_opts *opts, fm_agg **out,
                            fm_error *err);
FM_API void fm_agg_free(fm_agg *agg);

/* Adds one item. Items dated outside both periods, or undated, are only
 * counted. Errors: FM_EINVAL (bad size, probability or score),
 * FM_ENOTFOUND (a label the head does not have), FM_ENOMEM (the
 * aggregate may then hold part of the item: discard it). */
FM_API fm_status fm_agg_add(fm_agg *agg, const fm_agg_item *item,
                            fm_error *err);

/* Adds everything of `from` into `into`; `from` is only read. Merging is
 * associative and commutative. Errors: FM_EMISMATCH (different heads,
 * labels, periods, weights or reservoir sizes; the message names what),
 * FM_ENOMEM (`into` may then be partly merged: discard it). */
FM_API fm_status fm_agg_merge(fm_agg *into, const fm_agg *from,
                              fm_error *err);

/* The aggregate as canonical JSON (README "Aggregate format"): versioned,
 * keys in a fixed order, arrays sorted, only integers and strings, so
 * equal aggregates give equal bytes. Caller-owned: release with
 * fm_free(). Errors: FM_ENOMEM. */
FM_API fm_status fm_agg_serialize(const fm_agg *agg, char **data,
                                  size_t *len, fm_error *err);

/* Reads what fm_agg_serialize wrote. The bytes are untrusted: every
 * field is checked (types, ranges, sizes, sort order, duplicates).
 * Errors: FM_EPARSE (not JSON, or not an aggregate; line and column of
 * JSON syntax errors, else the message names the field), FM_EVERSION (a
 * format version this build cannot read), FM_ENOMEM. Caller-owned:
 * release with fm_agg_free(). */
FM_API fm_status fm_agg_deserialize(const void *data, size_t len,
                                    fm_agg **out, fm_error *err);

typedef struct fm_agg_stats {
  size_t size;           /* sizeof(fm_agg_stats), set by the caller */
  int64_t since, until;  /* the period */
  int64_t previous_since;/* start of the previous period (= since when
                            there is none) */
  uint64_t items;        /* items in the period */
  uint64_t previous_items;
  uint64_t outside;      /* dated outside both periods */
  uint64_t undated;
  uint64_t accounts;     /* distinct accounts seen */
  uint64_t phrases;      /* keyphrase entries held */
  unsigned phrase_sampling; /* 0 = none; else the largest sampling step
                               (one in 2^step phrases of a length kept) */
  uint64_t bytes;        /* heap bytes held, approximately */
} fm_agg_stats;

/* Fills `out` (out->size must be set). Errors: FM_EINVAL. */
FM_API fm_status fm_agg_stats_get(const fm_agg *agg, fm_agg_stats *out,
                                  fm_error *err);

typedef enum fm_report_format {
  FM_REPORT_MARKDOWN = 0, /* headings and tables for a wiki */
  FM_REPORT_HTML = 1,     /* one self-contained file, inline SVG charts */
  FM_REPORT_JSON = 2,     /* every number of the report, fixed key order */
  FM_REPORT_CSV = 3       /* one table: area x label, counts and scores */
} fm_report_format;

typedef struct fm_report_opts {
  size_t size;            /* sizeof(fm_report_opts) */
  fm_report_format format;
  const char *title;      /* NULL = "Requirement report" */
  size_t phrases;         /* requirement phrases per area; 0 = 8 */
  size_t verbatims;       /* per phrase; 0 = 3 */
  size_t emerging;        /* emerging phrases; 0 = 15 */
  double alpha;           /* significance level; 0 = 0.05 */
  int64_t generated_at;   /* Unix seconds printed as the generation time;
                             0 = none (output depends on the aggregate
                             only) */
} fm_report_opts;
#define FM_REPORT_OPTS_INIT \
  { sizeof(fm_report_opts), FM_REPORT_MARKDOWN, NULL, 0, 0, 0, 0, 0 }

/* Writes the requirement report of `agg` (README "feedmine report" for
 * the contents). Output is byte-stable: the same aggregate and options
 * give the same bytes (no locale, no time unless asked). Customer text is
 * escaped for the format (HTML entities, Markdown backslashes, CSV cells
 * that could start a formula are prefixed with a quote). Errors:
 * FM_EINVAL (bad options), FM_EIO (a write to `out` failed), FM_ENOMEM.
 * fm_report_write_memory gives a caller-owned buffer (release with
 * fm_free()). The aggregate is only read: several threads may write
 * reports of one aggregate at once if nothing adds to it meanwhile. */
FM_API fm_status fm_report_write(const fm_agg *agg,
                                 const fm_report_opts *opts, FILE *out,
                                 fm_error *err);
FM_API fm_status fm_report_write_memory(const fm_agg *agg,
                                        const fm_report_opts *opts,
                                        char **data, size_t *len,
                                        fm_error *err);

/* ------------------------------------------------------------------------
 * Batch store: the nightly job's configuration, its SQLite store and the
 * run itself (`feedmine batch`, `feedmine store`).
 *
 * The store is one SQLite file in WAL mode (SQLite stays behind this API:
 * no SQLite type appears here). It keeps every item ever ingested, keyed by
 * (source, external id) or, for exports without ids, by a hash of the
 * item's fields; the text redacted (the raw text only when asked); and per
 * head the tag of the model that last tagged it. Only derived values are
 * stored with items and tags, never times, so a job killed at any point and
 * run again converges to the same content (fm_store_export is the canonical
 * dump that shows it). Times live only in the runs table.
 * ---------------------------------------------------------------------- */

/* One `[source NAME]` section of a batch configuration. Strings are owned
 * by the configuration. */
typedef struct fm_batch_source {
  const char *name;          /* NAME: the store's source of its items */
  const char *type;          /* `type`, default NAME: ticket, nps, churn,
                                lost_deal... given to the tagger and reports */
  const char *const *paths;  /* `path` (repeatable): files or glob patterns,
                                resolved against the config's folder */
  size_t n_paths;
  const char *const *map;    /* `map` (repeatable): "FIELD=COLUMN" */
  size_t n_map;
  fm_format format;          /* `format` = auto|csv|jsonl */
  char delimiter;            /* `delimiter` = , ; tab (0 = detect) */
  fm_date_order date_order;  /* `date_order` = auto|mdy|dmy */
  uint64_t line;             /* line of the section header */
} fm_batch_source;

/* One `[report NAME]` section: written as OUTPUT/NAME.<format>. */
typedef struct fm_batch_report {
  const char *name;
  const char *period;        /* `period` = Nd or quarter, as written */
  unsigned period_days;      /* N, or 91 for quarter */
  int compare_previous;      /* `compare` = previous (default) | none */
  const char *const *formats;/* `formats` = md html json csv (any of them,
                                blank or comma separated; default md) */
  size_t n_formats;
  uint64_t line;
} fm_batch_report;

/* A parsed configuration (see README "feedmine batch"). Relative paths are
 * resolved against the folder of the configuration file, so a cron job's
 * working folder does not matter. Everything is owned by the
 * configuration and released by fm_batch_config_free. */
typedef struct fm_batch_config {
  const char *path;           /* the file as given ("<config>" in memory) */
  const char *store;          /* [store] path (required) */
  int keep_raw_text;          /* [store] keep_raw_text (default false) */
  unsigned raw_retention_days;/* [store] raw_retention_days: raw text of
                                 items older than this (counted back from
                                 the newest item) is dropped; 0 = keep */
  size_t batch_size;          /* [store] batch_size: items per transaction
                                 (default 5000) */
  const char *model;          /* [model] path (required) */
  const char *accounts;       /* [accounts] path, or NULL */
  const char *const *accounts_map; /* [accounts] map (repeatable) */
  size_t n_accounts_map;
  const char *output;         /* [output] dir (required) */
  const char *rejects;        /* [output] rejects (default
                                 OUTPUT/rejects.jsonl) */
  const char *runs_log;       /* [output] runs_log (default
                                 OUTPUT/runs.jsonl) */
  const fm_batch_source *sources; /* at least one */
  size_t n_sources;
  const fm_batch_report *reports;
  size_t n_reports;
  int retag_auto;             /* [model] retag = auto: every run re-tags
                                 items tagged by another model (as
                                 FM_BATCH_RETAG); default manual */
} fm_batch_config;

/* Reads and checks a batch configuration (INI). Every mistake is an
 * FM_EPARSE whose message starts "FILE:LINE:" and names the section and
 * key (an unknown key or section, a bad value, a missing required key,
 * a line over 199 bytes); err->line is the line (for a missing key, the
 * section's header line; 0 when a whole section is missing). Errors also:
 * FM_EIO (cannot read the file), FM_ENOMEM. Caller-owned: release with
 * fm_batch_config_free(). */
FM_API fm_status fm_batch_config_load(const char *path,
                                      fm_batch_config **out, fm_error *err);
/* Same over bytes in memory; `name` (NULL = "<config>") is used in
 * messages, and relative paths resolve against `dir` (NULL = "."). */
FM_API fm_status fm_batch_config_parse(const char *text, size_t len,
                                       const char *name, const char *dir,
                                       fm_batch_config **out, fm_error *err);
/* NULL is a no-op. */
FM_API void fm_batch_config_free(fm_batch_config *cfg);

typedef struct fm_store fm_store;

/* The store schema version this build writes; older stores are migrated on
 * open, newer ones refused. */
FM_API int fm_store_schema_version(void);

#define FM_STORE_READONLY (1u << 0) /* read only: no lock, no migration;
                                       the file must exist */

typedef struct fm_store_opts {
  size_t size;        /* sizeof(fm_store_opts) */
  unsigned flags;     /* FM_STORE_* */
  int keep_raw_text;  /* store the raw text next to the redacted text */
} fm_store_opts;
#define FM_STORE_OPTS_INIT { sizeof(fm_store_opts), 0, 0 }

/* Opens a store. Writable (the default): creates the file when absent,
 * takes the store's lock (a sidecar file PATH.lock holding the owner's pid
 * and host; the lock is an flock(2) lock, so the kernel releases it when a
 * process dies: a lock file left by a dead job is stale, detected, cleared
 * and reported by fm_store_notice), and migrates an older schema in one
 * transaction. Errors: FM_EBUSY (another live process holds the lock; the
 * message names its pid and host), FM_ESTORE (not an SQLite database, a
 * corrupt one, another application's database (PRAGMA application_id), a
 * newer schema; the message says which and names the file), FM_EIO
 * (cannot open or create it), FM_ENOMEM. Caller-owned: release with
 * fm_store_close(). One thread at a time. */
FM_API fm_status fm_store_open(const char *path, const fm_store_opts *opts,
                               fm_store **out, fm_error *err);
/* Rolls back an open transaction, releases the lock, closes. NULL is a
 * no-op. */
FM_API void fm_store_close(fm_store *store);
/* What fm_store_open had to clear up ("cleared a stale lock left by pid 12
 * on host h"), or "". Owned by the store. */
FM_API const char *fm_store_notice(const fm_store *store);

/* Records a model in the models table (id = fm_model_id, its path and a
 * summary of its heads) and makes it the current model: tags given to
 * fm_store_put and fm_store_set_tags are attributed to it. */
FM_API fm_status fm_store_use_model(fm_store *store, const char *model_id,
                                    const char *path, const char *summary,
                                    fm_error *err);

/* Transactions. Writes outside one each commit on their own (slow);
 * bounded batches inside begin/commit are what makes a killed job cheap to
 * re-run: a batch is in the store entirely or not at all. */
FM_API fm_status fm_store_begin(fm_store *store, fm_error *err);
FM_API fm_status fm_store_commit(fm_store *store, fm_error *err);
FM_API void fm_store_rollback(fm_store *store);

/* One head's tag of an item. */
typedef struct fm_store_tag {
  const char *head;
  const char *label;
  double prob;
  int needs_review;
} fm_store_tag;

/* An item as put into or read from the store. On put, `text` is the raw
 * text as read and `redacted` the tagger's redacted text (NULL = the item
 * is not tagged now); on read, `text` is the raw text when kept, else NULL,
 * and `model_id` ("" when untagged) is the model of `tags`. Strings need
 * not be NUL-terminated where a length is given. */
typedef struct fm_store_item {
  const char *source;      /* the configuration's source name */
  const char *type;        /* ticket, nps, churn, lost_deal, ... */
  const char *external_id; /* "" or NULL = none: keyed by content */
  const char *key;         /* on read: external id, or "#" + 16 hex digits
                              of the content hash */
  int64_t date;
  int has_date;
  const char *text;
  size_t text_len;
  const char *redacted;
  size_t redacted_len;
  const char *lang_given;  /* as in the export, or "" */
  const char *lang;        /* as tagged (identified or given) */
  const char *account;
  const char *segment;
  double score;
  int has_score;
  double revenue;
  int has_revenue;
  const fm_store_tag *tags; /* one per head, in model order */
  size_t n_tags;
  const char *model_id;     /* on read */
  int64_t rowid;            /* on read: the store's item number */
  const fm_token *tokens;   /* the tagging's analysis (kind, flags, text,
                               stem; offsets are not kept), stored with the
                               tags when given (feedmine batch gives them
                               when redaction changed the text, whose
                               placeholders would not analyse back to the
                               same tokens); on read NULL when none */
  size_t n_tokens;
} fm_store_item;

/* What the store holds for an item's key, from fm_store_check. */
typedef enum fm_store_state {
  FM_ITEM_NEW = 0,       /* no item with this key */
  FM_ITEM_EDITED = 1,    /* its text or declared language changed */
  FM_ITEM_UPDATED = 2,   /* other fields changed (date, account, ...) */
  FM_ITEM_UNCHANGED = 3
} fm_store_state;

/* Looks the item's key up. *needs_tags is 1 when the item must be tagged
 * before fm_store_put: new, edited, or stored without tags. Errors:
 * FM_ESTORE, FM_ENOMEM. */
FM_API fm_status fm_store_check(fm_store *store, const fm_store_item *item,
                                fm_store_state *state, int *needs_tags,
                                fm_error *err);

/* Inserts or updates the item under its key; *state (may be NULL) says
 * which. An edited item's old tags are removed; the given tags (with
 * `redacted`) replace the stored ones, attributed to the current model.
 * An unchanged item is left as it is unless tags are given. Errors:
 * FM_EINVAL (tags without a current model, no source), FM_ESTORE,
 * FM_ENOMEM. */
FM_API fm_status fm_store_put(fm_store *store, const fm_store_item *item,
                              fm_store_state *state, fm_error *err);

/* Replaces the tags, tokens and detected language of the stored item
 * `rowid`, attributed to the current model (re-tagging). */
FM_API fm_status fm_store_set_tags(fm_store *store, int64_t rowid,
                                   const char *lang, const fm_store_tag *tags,
                                   size_t n_tags, const fm_token *tokens,
                                   size_t n_tokens, fm_error *err);

/* Drops the raw text of items dated more than `days` before the newest
 * item's date (data time, not the clock, so a re-run does the same).
 * *cleared (may be NULL) gets the number of items changed. */
FM_API fm_status fm_store_drop_raw_text(fm_store *store, unsigned days,
                                        uint64_t *cleared, fm_error *err);

/* Reading items. */
typedef struct fm_store_cursor fm_store_cursor;

#define FM_QUERY_NEEDS_TAGS (1u << 0) /* only items without tags from the
                                         current model */
#define FM_QUERY_CANONICAL  (1u << 1) /* order by (source, key), else by
                                         rowid (insertion order) */

typedef struct fm_store_query {
  size_t size;         /* sizeof(fm_store_query) */
  unsigned flags;      /* FM_QUERY_* */
  int64_t after_rowid; /* only items with a larger rowid (paging) */
  uint64_t limit;      /* at most this many; 0 = all */
} fm_store_query;
#define FM_STORE_QUERY_INIT { sizeof(fm_store_query), 0, 0, 0 }

/* Starts reading items. Do not write to the store while a cursor is open.
 * Caller-owned: release with fm_store_cursor_free() (before closing the
 * store). */
FM_API fm_status fm_store_query_items(fm_store *store,
                                      const fm_store_query *q,
                                      fm_store_cursor **out, fm_error *err);
/* The next item: FM_OK with *out set, FM_EEOF at the end. The item and
 * everything it points to are owned by the cursor until its next call. */
FM_API fm_status fm_store_cursor_next(fm_store_cursor *cur,
                                      const fm_store_item **out,
                                      fm_error *err);
FM_API void fm_store_cursor_free(fm_store_cursor *cur);

/* Numbers about a store. Names are owned by the store until the next
 * fm_store_stats call or close. */
typedef struct fm_store_count {
  const char *name;
  uint64_t count;
} fm_store_count;

typedef struct fm_store_stats {
  int schema_version;
  uint64_t items, tags, models, runs;
  uint64_t untagged;     /* items without tags */
  uint64_t needs_review; /* items with at least one head needing review */
  uint64_t raw_kept;     /* items whose raw text is kept */
  int64_t first_date, last_date; /* with has_dates */
  int has_dates;
  const fm_store_count *sources;  /* items per source, by name */
  size_t n_sources;
  const fm_store_count *by_model; /* items per tagging model id */
  size_t n_by_model;
  const char *current_model;      /* "" when none recorded */
  const char *last_run_status;    /* "" when no run */
} fm_store_stats;

FM_API fm_status fm_store_stats_get(fm_store *store,
                                    const fm_store_stats **out,
                                    fm_error *err);

/* VACUUM, a WAL checkpoint that truncates the log, and ANALYZE. Needs a
 * writable store. */
FM_API fm_status fm_store_vacuum(fm_store *store, fm_error *err);

/* Runs table: a run starts with fm_store_run_begin (status "running") and
 * ends with fm_store_run_end (status "ok", "partial" or "failed" and the
 * counts as a JSON object text). Times are Unix seconds the caller gives;
 * they are the only times in a store. */
FM_API fm_status fm_store_run_begin(fm_store *store, int64_t start,
                                    int64_t *run_id, fm_error *err);
FM_API fm_status fm_store_run_end(fm_store *store, int64_t run_id,
                                  int64_t end, const char *status,
                                  const char *counts_json, fm_error *err);

/* Writes the canonical dump: one JSON object per item in (source, key)
 * order with its tags, then one per model, keys in a fixed order, no
 * rowids and no runs, so two stores with the same content give the same
 * bytes. Errors: FM_EIO, FM_ESTORE, FM_ENOMEM. */
FM_API fm_status fm_store_export(fm_store *store, FILE *out, fm_error *err);

/* The nightly job: fm_batch_run ingests every source of the configuration
 * into its store, tags what needs tags with the model, drops old raw text,
 * writes the reports from the store and records the run. */
typedef enum fm_batch_phase {
  FM_BATCH_INGEST = 0,  /* count = records read so far (all sources) */
  FM_BATCH_COMMIT = 1,  /* count = transactions committed so far */
  FM_BATCH_RETAG = 2,   /* count = stored items re-tagged so far */
  FM_BATCH_REPORT = 3,  /* count = report files written; `file` is the
                           next one's temporary name, not yet renamed */
  FM_BATCH_DONE = 4,    /* the reports are in place; the run is not yet
                           recorded */
  FM_BATCH_AGGREGATE = 5 /* count = stored items rolled up for the reports
                            so far (called once per batch) */
} fm_batch_phase;

typedef struct fm_batch_progress {
  fm_batch_phase phase;
  uint64_t count;
  const char *source;    /* current source, or NULL */
  const char *file;      /* current input or output file, or NULL */
  uint64_t bytes_read;   /* of the current input */
  uint64_t total_bytes;  /* of the current input, 0 when unknown */
} fm_batch_progress;

/* Returns 0 to go on; anything else stops the run: fm_batch_run rolls the
 * open batch back, removes its temporary files, records the run as
 * "interrupted" and returns FM_ECANCELLED (what was committed stays; the
 * next run goes on from there). A signal handler that sets a flag this
 * callback returns is how the CLI stops cleanly on SIGINT / SIGTERM. */
typedef int (*fm_batch_progress_fn)(void *user, const fm_batch_progress *p);
/* One line (no newline) about something the run went past: a source that
 * failed, a stale lock cleared, a row rejected (with file and line). */
typedef void (*fm_batch_log_fn)(void *user, const char *msg);

#define FM_BATCH_DRY_RUN (1u << 0) /* read and compare only: no writes */
#define FM_BATCH_RETAG   (1u << 1) /* also re-tag items tagged by another
                                      model */

typedef struct fm_batch_opts {
  size_t size;                  /* sizeof(fm_batch_opts) */
  unsigned flags;               /* FM_BATCH_* */
  unsigned threads;             /* tagging threads; 0 = 1 */
  fm_batch_progress_fn progress;/* may be NULL */
  fm_batch_log_fn log;          /* may be NULL */
  void *user;
} fm_batch_opts;
#define FM_BATCH_OPTS_INIT { sizeof(fm_batch_opts), 0, 0, NULL, NULL, NULL }

typedef struct fm_batch_stats {
  uint64_t read;        /* records read, all sources */
  uint64_t rejected;    /* rows refused (also in the rejects file) */
  uint64_t new_items, edited, updated, unchanged;
  uint64_t tagged;      /* items tagged while ingesting */
  uint64_t retagged;    /* stored items re-tagged */
  uint64_t needs_review;/* of the items tagged in this run */
  uint64_t raw_dropped; /* raw texts dropped by retention */
  unsigned sources, sources_failed;
  unsigned reports;     /* report files written */
  int64_t run_id;       /* 0 in a dry run */
  double seconds;
} fm_batch_stats;

/* Runs the job once. Returns FM_OK when it ran to the end, even with
 * rejected rows or failed sources (see stats; a source fails when a path
 * matches no file or a file cannot be read, and the others still run).
 * Errors: FM_EBUSY, FM_ESTORE, FM_EIO (store, output folder, reports),
 * FM_EMODEL/FM_EVERSION (the model), FM_ECANCELLED, FM_ENOMEM. A run
 * stopped at any point (an error, a kill) and run again ends in the same
 * store content and reports. `stats` may be NULL. */
FM_API fm_status fm_batch_run(const fm_batch_config *cfg,
                              const fm_batch_opts *opts,
                              fm_batch_stats *stats, fm_error *err);

#ifdef __cplusplus
}
#endif
#endif /* FEEDMINE_H */
