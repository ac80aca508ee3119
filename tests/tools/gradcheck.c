/* gradcheck.c: checks a compiled model's symbolic gradients against finite differences.
 *
 * Linked with an object from `nnc --emit=obj` in place of libnnrt:
 *   gradcheck [BATCH [MAX_BATCH [SEED]]]
 * Parameters and inputs are drawn at random (uniform in [0.05, 0.95] for inputs, so logs
 * and divisions stay defined; [-0.5, 0.5] for parameters; class labels uniform over their
 * classes); the gradient entry point's gradient of every parameter element is compared with the
 * central difference of evaluate's loss. Running
 * with BATCH < MAX_BATCH also checks that the code addresses a partly used arena right.
 * Prints the worst relative error per parameter; exits 1 when one exceeds the tolerance.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nnrt.h"

static uint64_t state = 0x9e3779b97f4a7c15ull;

static double uniform(double a, double b) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return a + (b - a) * (double)(state >> 11) / 9007199254740992.0;
}

static float *alloc_floats(int64_t n) {
  size_t bytes = ((size_t)(n > 0 ? n : 1) * sizeof(float) + 63) & ~(size_t)63;
  float *p = aligned_alloc(64, bytes);
  if (!p) {
    fprintf(stderr, "gradcheck: out of memory\n");
    exit(2);
  }
  return p;
}

static const double tol = 2e-2;

int main(int argc, char **argv) {
  const nnrt_model_desc *m = &nnrt_model;
  int64_t batch = argc > 1 ? atoll(argv[1]) : 3;
  int64_t max_batch = argc > 2 ? atoll(argv[2]) : batch;
  if (argc > 3) state ^= (uint64_t)atoll(argv[3]) * 0x2545F4914F6CDD1Dull;
  if (batch < 1 || max_batch < batch) {
    fprintf(stderr, "usage: gradcheck [BATCH [MAX_BATCH [SEED]]]\n");
    return 2;
  }
  float *params = alloc_floats(m->param_floats);
  float *grads = alloc_floats(m->param_floats);
  float *arena = alloc_floats(m->arena_fixed + m->arena_per_sample * max_batch);
  for (int64_t i = 0; i < m->param_floats; i++) params[i] = (float)uniform(-0.5, 0.5);
  const float **inputs = calloc((size_t)m->n_inputs + 1, sizeof *inputs);
  for (int i = 0; i < m->n_inputs; i++) {
    float *x = alloc_floats(m->inputs[i].size * batch);
    for (int64_t j = 0; j < m->inputs[i].size * batch; j++)
      x[j] = m->inputs[i].dtype == NNRT_CLASS ? (float)(int64_t)uniform(0, (double)m->inputs[i].classes)
                                              : (float)uniform(0.05, 0.95);
    inputs[i] = x;
  }
  float **outputs = calloc((size_t)m->n_outputs + 1, sizeof *outputs);
  for (int i = 0; i < m->n_outputs; i++) outputs[i] = alloc_floats(m->outputs[i].size * batch);

  float *metrics = alloc_floats(m->n_metrics);
  nnrt_step s = {params, grads, NULL, NULL, inputs, outputs, metrics, arena, batch, max_batch, 1, 1, 0, NULL, 0, 0};
  float loss = m->gradient(&s);
  float floss = m->evaluate(&s);
  m->predict(&s);
  int failed = 0;
  if (!(fabsf(loss - floss) <= 1e-6f * (1 + fabsf(loss)))) {
    printf("loss: gradient %.9g != evaluate %.9g\n", loss, floss);
    failed = 1;
  }
  for (int p = 0; p < m->n_params; p++) {
    const nnrt_slot_desc *pd = &m->slots[p];
    double worst = 0;
    int64_t worst_at = 0;
    for (int64_t k = 0; k < pd->size; k++) {
      float *w = &params[pd->offset + k];
      float saved = *w;
      double g = grads[pd->offset + k], err = INFINITY;
      /* Float rounding dominates below h = 1e-2; a kink of relu, max or abs between
       * w - h and w + h spoils that step but rarely the smaller ones. A wrong rule is
       * wrong at every step, so the best of three steps is the verdict. */
      static const float steps[] = {1e-2f, 3e-3f, 1e-3f};
      for (int si = 0; si < 3 && !(err <= tol); si++) {
        float h = steps[si] * (1 + fabsf(saved));
        *w = saved + h;
        double up = m->evaluate(&s);
        *w = saved - h;
        double down = m->evaluate(&s);
        *w = saved;
        double fd = (up - down) / (2.0 * h);
        double e = fabs(g - fd) / fmax(1e-2, fabs(g) + fabs(fd));
        if (e < err) err = e;
      }
      if (!(err <= worst)) worst = err, worst_at = k;
    }
    int bad = !(worst <= tol);
    printf("%-12s worst relative error %.3g at element %lld%s\n", pd->name, worst,
           (long long)worst_at, bad ? "  FAIL" : "");
    failed |= bad;
  }
  printf("%s: loss %.6g, batch %lld of %lld\n", failed ? "FAIL" : "ok", loss, (long long)batch,
         (long long)max_batch);
  for (int i = 0; i < m->n_inputs; i++) free((void *)inputs[i]);
  for (int i = 0; i < m->n_outputs; i++) free(outputs[i]);
  free(inputs);
  free(outputs);
  free(metrics);
  free(params);
  free(grads);
  free(arena);
  return failed;
}
