/*
 * cmd_tokenize.c -- `feedmine tokenize`: the text pipeline, one input line
 * at a time, for people checking what the classifier will see.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void help(FILE *out) {
  fprintf(out,
    "usage: feedmine tokenize [OPTIONS] [FILE | -]\n"
    "\n"
    "Runs the text pipeline over each line of FILE (or standard input) and\n"
    "prints the language, the redacted text, the tokens and the features.\n"
    "\n"
    "options:\n"
    "  --lang XX          language of every line (ISO 639-1); default: detect\n"
    "  --stages           also print the output of each stage\n"
    "  --json             one JSON object per line instead of text\n"
    "  --chargrams MIN-MAX  add character n-grams (e.g. 2-5)\n"
    "  --no-redact --no-normalize --no-langid --no-stopwords --no-stem\n"
    "  --no-negation --no-bigrams --no-dict-segment\n"
    "                     switch a stage off\n"
    "  --max-bytes N      refuse lines longer than N bytes (default 1048576)\n"
    "  -h, --help         show this help\n"
    "\n"
    "Text output, per line: '#N lang=XX' (with '*' when given), then\n"
    "'redacted:', 'tokens:' (negated words prefixed with '!', stopwords in\n"
    "[brackets]) and 'features:' (feature text, bigrams joined by +, and xCOUNT when above 1).\n"
    "exit status: 0 ok; 1 some lines refused (e.g. too long); 2 usage;\n"
    "3 input unreadable.\n");
}

static const char *kind_name(fm_token_kind k) {
  switch (k) {
  case FM_TOKEN_WORD: return "word";
  case FM_TOKEN_NUMBER: return "number";
  case FM_TOKEN_EMOJI: return "emoji";
  case FM_TOKEN_PUNCT: return "punct";
  case FM_TOKEN_PLACEHOLDER: return "placeholder";
  }
  return "?";
}

static const char *feature_kind_name(fm_feature_kind k) {
  switch (k) {
  case FM_FEATURE_UNIGRAM: return "unigram";
  case FM_FEATURE_BIGRAM: return "bigram";
  case FM_FEATURE_CHARGRAM: return "chargram";
  }
  return "?";
}

static json_t *jstr(const char *s, size_t n) { return json_stringn(s, n); }

static void print_json(const fm_analysis *a, unsigned long line, int stages) {
  json_t *o = json_object(), *toks = json_array(), *feats = json_array();
  size_t i;
  char *s;
  json_object_set_new(o, "line", json_integer((json_int_t)line));
  json_object_set_new(o, "lang", json_string(a->lang));
  json_object_set_new(o, "lang_given", json_boolean(a->lang_given));
  json_object_set_new(o, "invalid_utf8", json_integer((json_int_t)a->invalid_utf8));
  json_object_set_new(o, "pii", json_integer((json_int_t)a->pii_count));
  json_object_set_new(o, "redacted", jstr(a->redacted, a->redacted_len));
  if (stages)
    json_object_set_new(o, "normalized", jstr(a->normalized, a->normalized_len));
  for (i = 0; i < a->n_tokens; i++) {
    const fm_token *t = &a->tokens[i];
    if (stages) {
      json_t *jt = json_object();
      json_object_set_new(jt, "text", jstr(t->text, t->len));
      json_object_set_new(jt, "stem", jstr(t->stem, t->stem_len));
      json_object_set_new(jt, "kind", json_string(kind_name(t->kind)));
      if (t->flags & FM_TOKEN_STOPWORD) json_object_set_new(jt, "stopword", json_true());
      if (t->flags & FM_TOKEN_NEGATOR) json_object_set_new(jt, "negator", json_true());
      if (t->flags & FM_TOKEN_NEGATED) json_object_set_new(jt, "negated", json_true());
      if (t->flags & FM_TOKEN_SENTENCE_END)
        json_object_set_new(jt, "sentence_end", json_true());
      json_object_set_new(jt, "start", json_integer((json_int_t)t->start));
      json_object_set_new(jt, "end", json_integer((json_int_t)t->end));
      json_array_append_new(toks, jt);
    } else {
      json_array_append_new(toks, jstr(t->text, t->len));
    }
  }
  json_object_set_new(o, "tokens", toks);
  for (i = 0; i < a->n_features; i++) {
    const fm_feature *f = &a->features[i];
    json_t *jf = json_object();
    json_object_set_new(jf, "text", jstr(f->text, f->len));
    json_object_set_new(jf, "count", json_integer(f->count));
    json_object_set_new(jf, "kind", json_string(feature_kind_name(f->kind)));
    json_array_append_new(feats, jf);
  }
  json_object_set_new(o, "features", feats);
  s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
  if (s) {
    fputs(s, stdout);
    fputc('\n', stdout);
    free(s);
  }
  json_decref(o);
}

static void print_text(const fm_analysis *a, unsigned long line, int stages) {
  size_t i;
  printf("#%lu lang=%s%s", line, a->lang, a->lang_given ? "*" : "");
  if (a->invalid_utf8) printf(" invalid_utf8=%zu", a->invalid_utf8);
  if (a->pii_count) printf(" pii=%zu", a->pii_count);
  printf("\nredacted: %.*s\n", (int)a->redacted_len, a->redacted);
  if (stages) {
    printf("normalized: %.*s\n", (int)a->normalized_len, a->normalized);
    printf("segments:");
    for (i = 0; i < a->n_tokens; i++)
      printf(" %.*s", (int)a->tokens[i].len, a->tokens[i].text);
    printf("\nstems:");
    for (i = 0; i < a->n_tokens; i++)
      if (a->tokens[i].kind != FM_TOKEN_PUNCT)
        printf(" %.*s", (int)a->tokens[i].stem_len, a->tokens[i].stem);
    printf("\n");
  }
  printf("tokens:");
  for (i = 0; i < a->n_tokens; i++) {
    const fm_token *t = &a->tokens[i];
    if (t->kind == FM_TOKEN_PUNCT && t->len == 0) {
      printf(" \u23CE"); /* a line break inside the document */
      continue;
    }
    if (t->flags & FM_TOKEN_STOPWORD)
      printf(" [%.*s]", (int)t->len, t->text);
    else
      printf(" %s%.*s", (t->flags & FM_TOKEN_NEGATED) ? "!" : "", (int)t->len,
             t->text);
  }
  printf("\nfeatures:");
  for (i = 0; i < a->n_features; i++) {
    const fm_feature *f = &a->features[i];
    /* a bigram's blank would read as two features: show it as '+' */
    if (f->kind == FM_FEATURE_BIGRAM) {
      size_t k;
      putchar(' ');
      for (k = 0; k < f->len; k++) putchar(f->text[k] == ' ' ? '+' : f->text[k]);
    } else {
      printf(" %.*s", (int)f->len, f->text);
    }
    if (f->count > 1) printf("x%u", f->count);
  }
  printf("\n");
}

int cmd_tokenize(int argc, char **argv) {
  static const struct option longopts[] = {
    {"lang", required_argument, NULL, 'l'},
    {"stages", no_argument, NULL, 's'},
    {"json", no_argument, NULL, 'j'},
    {"chargrams", required_argument, NULL, 'c'},
    {"max-bytes", required_argument, NULL, 'm'},
    {"no-redact", no_argument, NULL, 1000},
    {"no-normalize", no_argument, NULL, 1001},
    {"no-langid", no_argument, NULL, 1002},
    {"no-stopwords", no_argument, NULL, 1003},
    {"no-stem", no_argument, NULL, 1004},
    {"no-negation", no_argument, NULL, 1005},
    {"no-bigrams", no_argument, NULL, 1006},
    {"no-dict-segment", no_argument, NULL, 1007},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
  static const unsigned stage_bits[] = {
    FM_STAGE_REDACT, FM_STAGE_NORMALIZE, FM_STAGE_LANGID, FM_STAGE_STOPWORDS,
    FM_STAGE_STEM, FM_STAGE_NEGATION, FM_STAGE_BIGRAMS, FM_STAGE_DICT_SEGMENT};
  fm_pipeline_opts opts = FM_PIPELINE_OPTS_INIT;
  const char *lang = NULL, *path = "-";
  int stages = 0, json = 0, c, status = EXIT_ALL_OK;
  fm_tagger *t = NULL;
  fm_error err;
  FILE *in;
  char *line = NULL;
  size_t cap = 0;
  long n;
  unsigned long lineno = 0;

  optind = 1;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'l': lang = optarg; break;
    case 's': stages = 1; break;
    case 'j': json = 1; break;
    case 'c': {
      unsigned lo, hi;
      char extra;
      if (sscanf(optarg, "%u-%u%c", &lo, &hi, &extra) != 2 || lo == 0 ||
          lo > hi || hi > 16)
        cli_usage_error("tokenize", "--chargrams wants MIN-MAX, e.g. 2-5, "
                        "with 1 <= MIN <= MAX <= 16; got '%s'", optarg);
      opts.stages |= FM_STAGE_CHARGRAMS;
      opts.char_ngram_min = lo;
      opts.char_ngram_max = hi;
      break;
    }
    case 'm': {
      char *end;
      unsigned long long v = strtoull(optarg, &end, 10);
      if (*end || v == 0)
        cli_usage_error("tokenize", "--max-bytes wants a positive number, "
                        "got '%s'", optarg);
      opts.max_doc_bytes = (size_t)v;
      break;
    }
    case 'h': help(stdout); return EXIT_ALL_OK;
    default:
      if (c >= 1000 && c <= 1007) {
        opts.stages &= ~stage_bits[c - 1000];
        break;
      }
      fprintf(stderr, "Try 'feedmine tokenize --help'.\n");
      return EXIT_USAGE;
    }
  }
  if (argc - optind > 1)
    cli_usage_error("tokenize", "one input file at most (got %d)",
                    argc - optind);
  if (optind < argc) path = argv[optind];
  if (!strcmp(path, "-")) {
    in = stdin;
    path = "<stdin>";
  } else {
    in = fopen(path, "rb");
    if (!in) cli_die(EXIT_IO, "%s: cannot open: %s", path, strerror(errno));
  }
  if (fm_tagger_new(NULL, &opts, &t, &err) != FM_OK)
    cli_die_err(cli_exit_for(err.code), "tokenize", &err);
  while ((n = cli_getline(&line, &cap, in)) >= 0) {
    const fm_analysis *a;
    lineno++;
    if (fm_tagger_analyze(t, line, (size_t)n, lang, &a, &err) != FM_OK) {
      cli_warn("%s:%lu: %s", path, lineno, err.msg);
      status = EXIT_PARTIAL;
      continue;
    }
    if (json) print_json(a, lineno, stages);
    else print_text(a, lineno, stages);
  }
  if (ferror(in)) {
    cli_warn("%s: read error", path);
    status = EXIT_IO;
  }
  if (in != stdin) fclose(in);
  free(line);
  fm_tagger_free(t);
  if (fflush(stdout) != 0) cli_die(EXIT_IO, "cannot write output");
  return status;
}
