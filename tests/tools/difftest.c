/* difftest.c: compares a compiled model with the reference interpreter.
 *
 * Linked with an object from `nnc --emit=obj` in place of libnnrt:
 *   difftest REFERENCE [MAX_BATCH]
 * REFERENCE is what `nnc --interpret --write-reference FILE` wrote for the same model:
 * the parameters and inputs (as floats) and the interpreter's loss, metrics, outputs and
 * gradients (in double). The tool runs train_step, evaluate and predict on exactly those
 * floats and compares every result with the reference. Running with MAX_BATCH above the
 * reference's batch also checks that the code addresses a partly used arena right.
 * Then every update rule the reference covers, at each of its settings: apply_update from
 * the reference's floats (parameters, states, the interpreter's gradient) against the
 * interpreter's update in double, twice (the second from the first's results, as bias
 * corrections need), and the train entry point against gradient + apply_update on the
 * same step, which must leave the parameters and states identical, bit for bit, over two
 * steps. An update of w is compared as the change it makes (w + step against w + the
 * reference's step), at the scale of the steps.
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

/* The change an update made to w (from `from`), against the reference's change: w moves by
 * a step much smaller than itself, and a wrong step must not hide in w's own scale. */
static void compare_step(const char *name, const float *from, const float *got, const double *want, int64_t n) {
  float *dgot = xcalloc(n, sizeof(float));
  double *dwant = xcalloc(n, sizeof(double));
  for (int64_t k = 0; k < n; k++) dgot[k] = (float)((double)got[k] - from[k]), dwant[k] = want[k] - from[k];
  compare("update", name, dgot, dwant, n);
  free(dgot);
  free(dwant);
}

static void *read_array(FILE *f, size_t size, int64_t n) {
  void *p = xcalloc(n, size);
  read_exact(f, p, size, n);
  return p;
}

/* Whether two float arrays hold the same bits; prints the first difference. */
static bool same_bits(const char *what, const float *a, const float *b, int64_t n) {
  for (int64_t k = 0; k < n; k++)
    if (memcmp(&a[k], &b[k], sizeof(float)) != 0) {
      printf("fused %s: train %.9g, gradient + apply_update %.9g at %lld  FAIL\n", what, a[k], b[k], (long long)k);
      failed = 1;
      return false;
    }
  return true;
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
  if (memcmp(magic, "NNCREF2\n", 8) != 0) fail("not a reference file");
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

  float *params = read_array(f, sizeof(float), param_floats);
  const float **inputs = calloc((size_t)n_inputs + 1, sizeof *inputs);
  for (int i = 0; i < n_inputs; i++) inputs[i] = read_array(f, sizeof(float), batch * m->inputs[i].size);
  double want_loss;
  read_exact(f, &want_loss, sizeof(double), 1);
  double *want_metrics = read_array(f, sizeof(double), n_metrics);
  double **want_outputs = calloc((size_t)n_outputs + 1, sizeof *want_outputs);
  for (int i = 0; i < n_outputs; i++) want_outputs[i] = read_array(f, sizeof(double), batch * m->outputs[i].size);
  double *want_grads = read_array(f, sizeof(double), param_floats);

  float *grads = xcalloc(param_floats, sizeof(float));
  float *arena = xcalloc(m->arena_fixed + m->arena_per_sample * max_batch, sizeof(float));
  float *metrics = xcalloc(n_metrics, sizeof(float)), *eval_metrics = xcalloc(n_metrics, sizeof(float));
  float **outputs = calloc((size_t)n_outputs + 1, sizeof *outputs);
  for (int i = 0; i < n_outputs; i++) outputs[i] = xcalloc(batch * m->outputs[i].size, sizeof(float));

  nnrt_step s = {params, grads, NULL, NULL, inputs, outputs, metrics, arena, batch, max_batch, 1, 1, 0, NULL, 0, 0};
  float loss = m->gradient(&s);
  s.metrics = eval_metrics;
  float eval_loss = m->evaluate(&s);
  m->predict(&s);

  compare("loss", "gradient", &loss, &want_loss, 1);
  compare("loss", "evaluate", &eval_loss, &want_loss, 1);
  for (int i = 0; i < n_metrics; i++) {
    compare("metric", m->metric_names[i], &metrics[i], &want_metrics[i], 1);
    compare("metric", m->metric_names[i], &eval_metrics[i], &want_metrics[i], 1);
  }
  for (int i = 0; i < n_outputs; i++)
    compare("output", m->outputs[i].name, outputs[i], want_outputs[i], batch * m->outputs[i].size);
  for (int i = 0; i < m->n_params; i++) {
    const nnrt_slot_desc *p = &m->slots[i];
    compare("grad", p->name, grads + p->offset, want_grads + p->offset, p->size);
  }

  /* the update rules */
  int64_t n_rules = read_i64(f);
  float *wa = xcalloc(param_floats, sizeof(float)), *wb = xcalloc(param_floats, sizeof(float));
  float *ga = xcalloc(param_floats, sizeof(float)), *gb = xcalloc(param_floats, sizeof(float));
  for (int64_t ri = 0; ri < n_rules; ri++) {
    char name[128];
    int64_t len = read_i64(f);
    if (len < 1 || len >= (int64_t)sizeof name) fail("a bad rule name");
    read_exact(f, name, 1, len);
    name[len] = 0;
    int64_t ns = read_i64(f), nh = read_i64(f), nset = read_i64(f), sn = ns * param_floats;
    int32_t r = 0;
    while (r < m->n_rules && strcmp(m->rules[r].name, name) != 0) r++;
    if (r == m->n_rules || m->rules[r].n_states != ns || m->rules[r].n_hypers != nh) fail("a rule the model lacks");
    for (int64_t si = 0; si < nset; si++) {
      float *hyper = read_array(f, sizeof(float), nh), *s0 = read_array(f, sizeof(float), sn);
      float *g1 = read_array(f, sizeof(float), param_floats);
      double *w1 = read_array(f, sizeof(double), param_floats), *s1 = read_array(f, sizeof(double), sn);
      float *g2 = read_array(f, sizeof(float), param_floats);
      double *w2 = read_array(f, sizeof(double), param_floats), *s2 = read_array(f, sizeof(double), sn);
      float *sa = xcalloc(sn, sizeof(float)), *sb = xcalloc(sn, sizeof(float));
      char what[192];
      /* apply_update against the interpreter, from the same floats, twice */
      memcpy(wa, params, (size_t)param_floats * sizeof(float));
      memcpy(sa, s0, (size_t)sn * sizeof(float));
      for (int step = 1; step <= 2; step++) {
        memcpy(wb, wa, (size_t)param_floats * sizeof(float));
        nnrt_step u = {wa, step == 1 ? g1 : g2, sa, NULL, inputs, NULL, metrics, arena, batch, max_batch, step, 1, 0,
                       hyper, r, 0};
        m->apply_update(&u);
        const double *ww = step == 1 ? w1 : w2, *ws = step == 1 ? s1 : s2;
        snprintf(what, sizeof what, "%s (setting %lld) step %d w", name, (long long)si + 1, step);
        compare_step(what, wb, wa, ww, param_floats);
        for (int64_t k = 0; k < ns; k++) {
          snprintf(what, sizeof what, "%s (setting %lld) step %d %s", name, (long long)si + 1, step,
                   m->rules[r].states[k].name);
          compare("update", what, sa + k * param_floats, ws + k * param_floats, param_floats);
        }
        for (int64_t k = 0; k < param_floats; k++) wa[k] = (float)w1[k]; /* step 2 starts from the reference's */
        for (int64_t k = 0; k < sn; k++) sa[k] = (float)s1[k];
      }
      /* train against gradient + apply_update, bit for bit, two steps */
      memcpy(wa, params, (size_t)param_floats * sizeof(float));
      memcpy(wb, params, (size_t)param_floats * sizeof(float));
      memcpy(sa, s0, (size_t)sn * sizeof(float));
      memcpy(sb, s0, (size_t)sn * sizeof(float));
      bool same = true;
      for (int step = 1; step <= 2 && same; step++) {
        nnrt_step t = {wa, ga, sa, NULL, inputs, NULL, metrics, arena, batch, max_batch, step, 1, 0, hyper, r, 0};
        float la = m->train(&t);
        nnrt_step g = {wb, gb, sb, NULL, inputs, NULL, metrics, arena, batch, max_batch, step, 1, 0, hyper, r, 0};
        float lb = m->gradient(&g);
        m->apply_update(&g);
        snprintf(what, sizeof what, "%s (setting %lld) step %d", name, (long long)si + 1, step);
        same = same_bits(what, &la, &lb, 1) && same_bits(what, wa, wb, param_floats) && same_bits(what, sa, sb, sn);
        if (t.nonfinite || g.nonfinite) {
          printf("fused %s: a gradient was not finite  FAIL\n", what);
          failed = 1;
          same = false;
        }
      }
      if (same) printf("fused %s (setting %lld): identical to gradient + apply_update, 2 steps\n", name, (long long)si + 1);
      free(hyper), free(s0), free(g1), free(w1), free(s1), free(g2), free(w2), free(s2), free(sa), free(sb);
    }
  }
  if (fgetc(f) != EOF) fail("trailing bytes after the reference");
  fclose(f);
  printf("%s: batch %lld of %lld\n", failed ? "FAIL" : "ok", (long long)batch, (long long)max_batch);

  for (int i = 0; i < n_inputs; i++) free((void *)inputs[i]);
  for (int i = 0; i < n_outputs; i++) free(outputs[i]), free(want_outputs[i]);
  free(inputs), free(outputs), free(want_outputs), free(want_metrics), free(want_grads), free(metrics);
  free(eval_metrics), free(params), free(grads), free(arena), free(wa), free(wb), free(ga), free(gb);
  return failed;
}
