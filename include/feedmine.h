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
 * normalized text. */
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
 * n-gram (word edges shown as "_"). */
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
  FM_NB_COMPLEMENT = 1   /* complement NB (Rennie et al. 2003): each label
                            is scored by the counts of all the others;
                            steadier with skewed labels */
} fm_nb_variant;

typedef enum fm_priors {
  FM_PRIORS_LEARNED = 0, /* label frequencies of the training data */
  FM_PRIORS_UNIFORM = 1  /* every label equally likely a priori */
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
                                data over 0.003 ... 1 */
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

/* The recommended configuration (see README "Training and evaluating
 * models"): multinomial NB, alpha auto, TF-IDF, sublinear tf, length
 * normalization, word uni+bigrams and character 2-5-grams, calibration. */
#define FM_TRAIN_OPTS_INIT                                                  \
  { sizeof(fm_train_opts),                                                  \
    { sizeof(fm_pipeline_opts), FM_STAGES_DEFAULT | FM_STAGE_CHARGRAMS, 0,  \
      2, 5 },                                                               \
    FM_NB_MULTINOMIAL, -1.0, 1, 1, 1, 1, FM_PRIORS_LEARNED, 1, 5,          \
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

#ifdef __cplusplus
}
#endif
#endif /* FEEDMINE_H */
