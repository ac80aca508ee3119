/* difftest.c: compares a compiled model with the reference interpreter.
 *
 * Linked with an object from `nnc --emit=obj` in place of libnnrt:
 *   difftest REFERENCE [MAX_BATCH]
 * REFERENCE is what `nnc --interpret --write-reference FILE` wrote for the same model:
 * the parameters and inputs (as floats) and the interpreter's loss, metrics, outputs and
 * gradients (in double). The tool runs train_step, evaluate and predict on exactly those
 * floats and compares every result with the reference. Running with MAX_BATCH above the
 * reference's batch also checks that the code addresses a partly used arena right.
 * train_update is checked too, with plain SGD at lr 1: the change it makes to each
 * parameter is the gradient (to the rounding of w - g).
 *
 * Float code and a double interpreter differ by rounding, which grows with the length of
 * the sums involved and cancels badly where a result is a small difference of big terms.
 * So each tensor is compared at the scale of its own values: element k passes when
 *   |compiled - reference| <= 1e-4 |reference| + 1e-4 max_j |reference_j| + 1e-6.
 * The worst ratio of a difference to its bound is printed per quantity; over 1 fails.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnrt.h"

static const char *path;

static _Noreturn void fail(const char *what) {
  fprintf(stderr, "difftest: %s: %s\n", path, what);
  exit(2);
}

static void *xcalloc(int64_t n, size_t size) {
  /* 64-byte aligned, as the ABI asks of the arena; zeroed */
  size_t bytes = ((size_t)(n > 0 ? n : 1) * size + 63) & ~(size_t)63;
  void *p = aligned_alloc(64, bytes);
  if (!p) fail("out of memory");
  memset(p, 0, bytes);
  return p;
}

static void read_exact(FILE *f, void *p, size_t size, int64_t n) {
  if (n > 0 && fread(p, size, (size_t)n, f) != (size_t)n) fail("truncated reference file");
}

static int64_t read_i64(FILE *f) {
  int64_t v;
  read_exact(f, &v, sizeof v, 1);
  return v;
}

static int failed;

/* Compares n compiled floats with n reference doubles; prints the worst. */
static void compare(const char *what, const char *name, const float *got, const double *want, int64_t n) {
  double big = 0;
  for (int64_t k = 0; k < n; k++) big = fmax(big, fabs(want[k]));
  double worst = 0;
  int64_t at = 0;
  for (int64_t k = 0; k < n; k++) {
    double bound = 1e-4 * fabs(want[k]) + 1e-4 * big + 1e-6;
    double r = fabs((double)got[k] - want[k]) / bound;
    if (!(r <= worst)) worst = r, at = k; /* a NaN on either side is the worst of all */
  }
  bool bad = !(worst <= 1);
  printf("%s %s: %lld value%s, worst %.3g of the bound", what, name, (long long)n, n == 1 ? "" : "s", worst);
  if (n) printf(" at %lld (compiled %.9g, reference %.9g)", (long long)at, got[at], want[at]);
  printf("%s\n", bad ? "  FAIL" : "");
  failed |= bad;
}

int main(int argc, char **argv) {
  const nnrt_model_desc *m = &nnrt_model;
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: difftest REFERENCE [MAX_BATCH]\n");
    return 2;
  }
  path = argv[1];
  FILE *f = fopen(path, "rb");
  if (!f) fail("cannot open");
  char magic[8];
  read_exact(f, magic, 1, 8);
  if (memcmp(magic, "NNCREF1\n", 8) != 0) fail("not a reference file");
  int64_t batch = read_i64(f), param_floats = read_i64(f), n_inputs = read_i64(f), n_outputs = read_i64(f),
          n_metrics = read_i64(f);
  int64_t max_batch = argc > 2 ? atoll(argv[2]) : batch;
  if (batch < 1 || max_batch < batch) fail("bad batch or MAX_BATCH");
  /* the reference must describe the model this tool was linked with */
  if (param_floats != m->param_floats || n_inputs != m->n_inputs || n_outputs != m->n_outputs ||
      n_metrics != m->n_metrics)
    fail("written for another model");
  for (int i = 0; i < n_inputs; i++)
    if (read_i64(f) != m->inputs[i].size) fail("an input's size differs from the model's");
  for (int i = 0; i < n_outputs; i++)
    if (read_i64(f) != m->outputs[i].size) fail("an output's size differs from the model's");

  float *params = xcalloc(param_floats, sizeof(float));
  read_exact(f, params, sizeof(float), param_floats);
  const float **inputs = calloc((size_t)n_inputs + 1, sizeof *inputs);
  for (int i = 0; i < n_inputs; i++) {
    float *x = xcalloc(batch * m->inputs[i].size, sizeof(float));
    read_exact(f, x, sizeof(float), batch * m->inputs[i].size);
    inputs[i] = x;
  }
  double want_loss;
  read_exact(f, &want_loss, sizeof(double), 1);
  double *want_metrics = xcalloc(n_metrics, sizeof(double));
  read_exact(f, want_metrics, sizeof(double), n_metrics);
  double **want_outputs = calloc((size_t)n_outputs + 1, sizeof *want_outputs);
  for (int i = 0; i < n_outputs; i++) {
    want_outputs[i] = xcalloc(batch * m->outputs[i].size, sizeof(double));
    read_exact(f, want_outputs[i], sizeof(double), batch * m->outputs[i].size);
  }
  double *want_grads = xcalloc(param_floats, sizeof(double));
  read_exact(f, want_grads, sizeof(double), param_floats);
  if (fgetc(f) != EOF) fail("trailing bytes after the reference");
  fclose(f);

  float *grads = xcalloc(param_floats, sizeof(float));
  float *arena = xcalloc(m->arena_fixed + m->arena_per_sample * max_batch, sizeof(float));
  float *metrics = xcalloc(n_metrics, sizeof(float)), *eval_metrics = xcalloc(n_metrics, sizeof(float));
  float **outputs = calloc((size_t)n_outputs + 1, sizeof *outputs);
  for (int i = 0; i < n_outputs; i++) outputs[i] = xcalloc(batch * m->outputs[i].size, sizeof(float));

  float loss = m->train_step(params, grads, inputs, metrics, arena, batch, max_batch);
  float eval_loss = m->evaluate(params, inputs, eval_metrics, arena, batch, max_batch);
  m->predict(params, inputs, outputs, arena, batch, max_batch);

  compare("loss", "train_step", &loss, &want_loss, 1);
  compare("loss", "evaluate", &eval_loss, &want_loss, 1);
  for (int i = 0; i < n_metrics; i++) {
    compare("metric", m->metric_names[i], &metrics[i], &want_metrics[i], 1);
    compare("metric", m->metric_names[i], &eval_metrics[i], &want_metrics[i], 1);
  }
  for (int i = 0; i < n_outputs; i++)
    compare("output", m->outputs[i].name, outputs[i], want_outputs[i], batch * m->outputs[i].size);
  for (int i = 0; i < m->n_params; i++) {
    const nnrt_param_desc *p = &m->params[i];
    compare("grad", p->name, grads + p->offset, want_grads + p->offset, p->size);
  }
  if (m->train_update) {
    float *updated = xcalloc(param_floats, sizeof(float)), *state = xcalloc(param_floats, sizeof(float));
    memcpy(updated, params, (size_t)param_floats * sizeof(float));
    nnrt_update sgd = {.kind = NNRT_UPDATE_SGD, .lr = 1, .state = state};
    float update_loss = m->train_update(updated, grads, inputs, metrics, arena, batch, max_batch, &sgd);
    compare("loss", "train_update", &update_loss, &want_loss, 1);
    for (int64_t k = 0; k < param_floats; k++) updated[k] = params[k] - updated[k]; /* w - (w - g) */
    for (int i = 0; i < m->n_params; i++) {
      const nnrt_param_desc *p = &m->params[i];
      compare("update", p->name, updated + p->offset, want_grads + p->offset, p->size);
    }
    free(updated);
    free(state);
  }
  printf("%s: batch %lld of %lld\n", failed ? "FAIL" : "ok", (long long)batch, (long long)max_batch);

  for (int i = 0; i < n_inputs; i++) free((void *)inputs[i]);
  for (int i = 0; i < n_outputs; i++) free(outputs[i]), free(want_outputs[i]);
  free(inputs);
  free(outputs);
  free(want_outputs);
  free(want_metrics);
  free(want_grads);
  free(metrics);
  free(eval_metrics);
  free(params);
  free(grads);
  free(arena);
  return failed;
}
