/* A support tool's use of the installed library: open a model once, tag an
 * incoming ticket, print its area. Built by consumer_test.sh against the
 * installed package, once with find_package(feedmine) and once with
 * pkg-config. */
#include <feedmine.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  const char *text = "The invoice charged us twice for the same seats";
  fm_model *model = NULL;
  fm_tagger *tagger = NULL;
  const fm_result *res;
  fm_error err;
  size_t h;
  if (argc < 2) {
    fprintf(stderr, "usage: consumer MODEL\n");
    return 2;
  }
  if (fm_version_number() != FEEDMINE_VERSION_NUMBER) {
    fprintf(stderr, "header %s, library %s\n", FEEDMINE_VERSION, fm_version());
    return 1;
  }
  if (fm_model_open(argv[1], &model, &err) != FM_OK ||
      fm_tagger_new(model, NULL, &tagger, &err) != FM_OK ||
      fm_tagger_tag(tagger, text, strlen(text), NULL, NULL, &res, &err) != FM_OK) {
    fprintf(stderr, "feedmine: %s\n", err.msg);
    return 1;
  }
  for (h = 0; h < res->n_heads; h++)
    printf("%s=%s\n", res->heads[h].head, res->heads[h].label_name);
  fm_tagger_free(tagger);
  fm_model_close(model);
  return 0;
}
