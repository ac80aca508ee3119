/* sqrtcheck.c: checks that the RMSprop update of a compiled step rounds its square root
 * exactly as sqrtf does, on every input that matters.
 *
 * Linked with an object from `nnc --emit=obj` of a model whose loss is sum((x @ W + b) * t)
 * with x : f32[1], t : f32[N], W : f32[1, N], b : f32[N] (tests/codegen/exact-sqrt.nn), in
 * place of libnnrt:
 *   sqrtcheck [noftz]
 * At batch 1 with x = 1, both gradients are t: W's through the fused outer-product row
 * update, b's through the flat update loop. With rho = 1 the new state is the old one
 * (s + 0 g^2), with eps = 0 and lr = 1 the new weight is w - t / sqrt(s), and with
 * t = sqrtf(s) that is w - 1 exactly when the step's square root is sqrtf's and some other
 * value when it is off by an ulp. Each call sets the state of both to N chosen values:
 *   - all 2^24 floats of [1, 4) (two binades: every normal input up to scaling by 4^k)
 *   - every float from +0 to 2^-120 (subnormals, the smallest normals) and the 2^20
 *     floats on either side of 2^64 (the top of the multiply-add path's range)
 *   - every 509th of all 2^32 bit patterns
 *   - runs of good values with one -0, negative, inf, NaN or huge lane among them (the
 *     vector falls back to the divider; the others must not be disturbed)
 * and compares the new weights and states bit for bit (NaN with NaN) with the same float
 * formulas evaluated here. FTZ/DAZ are set as ./train sets them, unless `noftz`.
 * Prints the number of values checked; exits 1 on a mismatch, naming it.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "nnrt.h"

static const nnrt_model_desc *m;
static int64_t n, w_off, b_off;
static float *params, *grads, *state, *arena, *metrics, *x, *t;
static const float *inputs[2];
static long checked, bad;

static uint32_t bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}
static float from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static bool same(float a, float b) { return bits(a) == bits(b) || (isnan(a) && isnan(b)); }

/* One step with the state of W and b set to s[0..n). */
static void check(const float *s) {
  for (int64_t j = 0; j < n; j++) {
    params[w_off + j] = params[b_off + j] = 0;
    state[w_off + j] = state[b_off + j] = s[j];
    t[j] = sqrtf(s[j]);
  }
  nnrt_update u = {NNRT_UPDATE_RMSPROP, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f, state};
  m->train_update(params, grads, inputs, metrics, arena, 1, 1, &u);
  for (int64_t j = 0; j < n; j++) {
    /* libnnrt's rule, in its order of float operations */
    volatile float g = t[j], rho = 1, lr = 1, eps = 0;
    float sv = rho * s[j] + (1 - rho) * g * g;
    float want = 0 - lr * g / (sqrtf(sv) + eps);
    const char *what[2] = {"W", "b"};
    int64_t off[2] = {w_off, b_off};
    for (int k = 0; k < 2; k++) {
      float got = params[off[k] + j], got_s = state[off[k] + j];
      if (!same(got, want) || !same(got_s, sv)) {
        if (bad++ < 10)
          printf("MISMATCH %s[%lld]: s %a (0x%08x): weight %a, want %a; state %a, want %a\n", what[k], (long long)j,
                 (double)s[j], bits(s[j]), (double)got, (double)want, (double)got_s, (double)sv);
      }
    }
    checked++;
  }
}

static float *buf;
static int64_t used;

static void push(float v) {
  buf[used++] = v;
  if (used == n) {
    check(buf);
    used = 0;
  }
}

static void flush(void) {
  while (used) push(1.0f);
}

int main(int argc, char **argv) {
  m = &nnrt_model;
#if defined(__x86_64__)
  if (!(argc > 1 && strcmp(argv[1], "noftz") == 0)) _mm_setcsr(_mm_getcsr() | 0x8040);
#else
  (void)argc;
  (void)argv;
#endif
  if (m->n_params != 2 || m->n_inputs != 2) {
    fprintf(stderr, "sqrtcheck: the model must be exact-sqrt.nn's (params W, b; inputs x, t)\n");
    return 2;
  }
  n = m->params[1].size;
  w_off = m->params[0].offset;
  b_off = m->params[1].offset;
  int64_t arena_n = m->arena_fixed + m->arena_per_sample;
  params = calloc((size_t)m->param_floats, sizeof *params);
  grads = calloc((size_t)m->param_floats, sizeof *grads);
  state = calloc((size_t)m->param_floats, sizeof *state);
  arena = aligned_alloc(64, (size_t)(arena_n + 16) * sizeof(float) / 64 * 64 + 64);
  metrics = calloc(1, sizeof(float));
  x = calloc(1, sizeof *x);
  t = calloc((size_t)n, sizeof *t);
  buf = calloc((size_t)n, sizeof *buf);
  if (!params || !grads || !state || !arena || !metrics || !x || !t || !buf) return 2;
  x[0] = 1;
  inputs[0] = x;
  inputs[1] = t;

  for (uint32_t u = 0x3f800000u; u < 0x40800000u; u++) push(from_bits(u)); /* [1, 4) */
  for (uint32_t u = 0; u <= 0x03800000u; u++) push(from_bits(u));           /* +0 .. 2^-120 */
  for (uint32_t u = 0x5f800000u - (1u << 20); u <= 0x5f800000u + (1u << 20); u++) push(from_bits(u));
  for (uint64_t u = 0; u < (1ull << 32); u += 509) push(from_bits((uint32_t)u));
  flush();
  const float odd[] = {-0.0f, -1.0f, INFINITY, NAN, 0x1p65f, -INFINITY};
  for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++)
    for (int lane = 0; lane < 64; lane += 5) { /* one odd lane in a run of 64 good ones */
      for (int i = 0; i < 64; i++) push(i == lane ? odd[k] : 0.25f + (float)i * 0x1p-10f);
    }
  flush();
  printf("checked %ld values: %ld mismatches\n", checked, bad);
  return bad ? 1 : 0;
}
