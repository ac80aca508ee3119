/* sqrtcheck.c: checks that the RMSprop update of a compiled step rounds its square root
 * exactly as sqrtf does, on every input that matters.
 *
 * Linked with an object from `nnc --emit=obj` of tests/codegen/exact-sqrt.nn in place of
 * libnnrt: loss = sum((x @ W + b) * t), x : f32[3], t : f32[N], W : f32[3, N], b : f32[N].
 *   sqrtcheck [noftz]
 * At batch 1 the gradient of W's row i is x[i] * t, through the fused outer-product row
 * update (a row with x[i] = 0 takes the update by a zero gradient, beside a full row), and
 * b's is t, through the flat update loop. With rho = 1 the new state is the old one
 * (s + 0 g^2); with eps = 0 and lr = 1 the new weight is w - t / sqrt(s), and with
 * t = sqrtf(s) that is w - 1 exactly when the step's square root is sqrtf's, some other
 * value when it is an ulp off.
 *
 * On AVX-512 the update runs in groups of four vectors of 16 and one of them takes its
 * square root off the divider (compiler/codegen_sqrt.c). Each value checked goes into the
 * same lane of all four vectors of a group of 64 (the last N % 64 elements, run one by
 * one, hold 1), in every row of W and in b:
 *   - all 2^24 floats of [1, 4) (two binades: every normal input up to scaling by 4^k)
 *   - every float from +0 to 2^-126 (the subnormals) and the 2^20 floats on either side
 *     of 2^64 (the top of the multiply-add path's range)
 *   - every 2039th of all 2^32 bit patterns
 *   - runs of good values with one -0, negative, inf, NaN or huge lane among them (the
 *     vector falls back to the divider; the others must not be disturbed)
 * x cycles through (1, 0, 0), (1, 0, 1) and (1, 1, 1), so that a full row is updated
 * with two zero rows beside it, with one and with none. Weights and states are compared
 * bit for bit (NaN with NaN) with libnnrt's formulas evaluated here. Then the same with
 * weight decay 0.01 on weights of 0.5 (RMSprop as written: the whole gradient, then its flat
 * update). The rule is stdlib/optim.nn's rmsprop, run by the train entry point with its
 * hyperparameters set here (rho 1 and eps 0 lie outside their domains, which only the
 * train program checks). FTZ/DAZ are set as ./train
 * sets them, unless `noftz`. Prints the number of values checked; exits 1 on a mismatch,
 * naming it.
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

enum { ROWS = 3, GROUP = 64 };

static const nnrt_model_desc *m;
static int64_t n, w_off, b_off;
static float *params, *grads, *state, *arena, *metrics, *x, *t;
static const float *inputs[2];
static float wd, w0; /* weight decay, and every weight's value before the step */
static long checked, bad, calls;

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

static void compare(const char *what, int64_t j, float s, float got_w, float got_s, float want_w, float want_s) {
  if (same(got_w, want_w) && same(got_s, want_s)) return;
  if (bad++ < 10)
    printf("MISMATCH %s[%lld]: s %a (0x%08x), wd %g: weight %a, want %a; state %a, want %a\n", what, (long long)j,
           (double)s, bits(s), (double)wd, (double)got_w, (double)want_w, (double)got_s, (double)want_s);
}

/* rmsprop's rule for one element, in its order of float operations (stdlib/optim.nn, L2
 * first): the new weight, and the new square average in rule_state */
static float rule_state;
static float rule(float g, float s) {
  volatile float rho = 1, lr = 1, eps = 0, w = w0;
  if (wd != 0) g = g + wd * w;
  rule_state = rho * s + (1 - rho) * g * g;
  return w - lr * (g / (sqrtf(rule_state) + eps));
}

static int32_t rule_index;
static float hyper[16];

/* One step with the state of every row of W and of b set to s[0..n). */
static void check(const float *s) {
  static const float xs[3][ROWS] = {{1, 0, 0}, {1, 0, 1}, {1, 1, 1}};
  const float *xv = xs[calls++ % 3];
  for (int r = 0; r < ROWS; r++) x[r] = xv[r];
  for (int64_t j = 0; j < n; j++) {
    float root = sqrtf(s[j]); /* the gradient: sqrt(s), or 1 where that is 0 or not finite */
    t[j] = isfinite(root) && root > 0 ? root : 1.0f;
    params[b_off + j] = w0;
    state[b_off + j] = s[j];
    for (int r = 0; r < ROWS; r++) {
      params[w_off + r * n + j] = w0;
      state[w_off + r * n + j] = s[j];
    }
  }
  for (int32_t k = 0; k < m->rules[rule_index].n_hypers; k++) {
    const char *h = m->rules[rule_index].hypers[k].name;
    hyper[k] = strcmp(h, "lr") == 0 || strcmp(h, "rho") == 0 ? 1.0f : strcmp(h, "weight_decay") == 0 ? wd : 0.0f;
  }
  for (int64_t k = m->param_floats; k < 3 * m->param_floats; k++) state[k] = 0; /* the other states */
  nnrt_step st = {params, grads, state, NULL, inputs, NULL, metrics, arena, 1, 1, 1, 1, 0, hyper, rule_index, 0};
  m->train(&st);
  for (int64_t j = 0; j < n; j++) {
    float want_b = rule(t[j], s[j]);
    compare("b", j, s[j], params[b_off + j], state[b_off + j], want_b, rule_state);
    for (int r = 0; r < ROWS; r++) {
      float gotw = params[w_off + r * n + j], gots = state[w_off + r * n + j];
      if (xv[r] != 0 || wd != 0) { /* (weight decay makes every row's gradient nonzero) */
        float want = rule(xv[r] * t[j], s[j]);
        compare("W", r * n + j, s[j], gotw, gots, want, rule_state);
      } else { /* a zero row: the state decays by rho (here 1: s + 0), the weight stays */
        compare("W (zero row)", r * n + j, s[j], gotw, gots, w0, 1.0f * s[j] + 0.0f);
      }
    }
    checked += 1 + ROWS;
  }
}

static float *buf;
static int64_t used; /* values placed in this buffer */

/* Checks the buffer: the lanes not filled and the tail (run one by one) hold 1. */
static void run_buffer(void) {
  int64_t chunks = n / GROUP;
  for (int64_t i = used; i < chunks * 16; i++)
    for (int k = 0; k < GROUP / 16; k++) buf[i / 16 * GROUP + k * 16 + i % 16] = 1.0f;
  for (int64_t j = chunks * GROUP; j < n; j++) buf[j] = 1.0f;
  check(buf);
  used = 0;
}

/* The next value, into the same lane of all four vectors of the next group of 64: it goes
 * through whichever of them takes the multiply-add square root. */
static void push(float v) {
  if (used == n / GROUP * 16) run_buffer();
  int64_t c = used / 16, lane = used % 16;
  for (int k = 0; k < GROUP / 16; k++) buf[c * GROUP + k * 16 + lane] = v;
  used++;
}

static void flush(void) {
  if (used) run_buffer();
}

static void all_values(void) {
  for (uint32_t u = 0x3f800000u; u < 0x40800000u; u++) push(from_bits(u)); /* [1, 4) */
  for (uint32_t u = 0; u <= 0x00800000u; u++) push(from_bits(u));           /* +0 .. 2^-126 */
  for (uint32_t u = 0x5f800000u - (1u << 20); u <= 0x5f800000u + (1u << 20); u++) push(from_bits(u));
  for (uint64_t u = 0; u < (1ull << 32); u += 2039) push(from_bits((uint32_t)u));
  flush();
  /* one odd lane in a vector of good ones, in each lane of the exact vector */
  const float odd[] = {-0.0f, -1.0f, INFINITY, NAN, 0x1p65f, -INFINITY};
  for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++)
    for (int lane = 0; lane < 16; lane++)
      for (int i = 0; i < 16; i++) push(i == lane ? odd[k] : 0.25f + (float)i * 0x1p-10f);
  flush();
}

int main(int argc, char **argv) {
  m = &nnrt_model;
#if defined(__x86_64__)
  if (!(argc > 1 && strcmp(argv[1], "noftz") == 0)) _mm_setcsr(_mm_getcsr() | 0x8040);
#else
  (void)argc;
  (void)argv;
#endif
  if (m->n_params != 2 || m->n_inputs != 2 || m->slots[0].size != ROWS * m->slots[1].size) {
    fprintf(stderr, "sqrtcheck: the model must be exact-sqrt.nn's (params W[3, N], b[N]; inputs x, t)\n");
    return 2;
  }
  for (rule_index = 0; rule_index < m->n_rules && strcmp(m->rules[rule_index].name, "rmsprop") != 0; rule_index++) {}
  if (rule_index == m->n_rules || m->rules[rule_index].n_states != 3 || m->rules[rule_index].n_hypers > 16) {
    fprintf(stderr, "sqrtcheck: the model has no rmsprop with three states\n");
    return 2;
  }
  n = m->slots[1].size;
  w_off = m->slots[0].offset;
  b_off = m->slots[1].offset;
  int64_t arena_n = m->arena_fixed + m->arena_per_sample;
  params = calloc((size_t)m->param_floats, sizeof *params);
  grads = calloc((size_t)m->param_floats, sizeof *grads);
  state = calloc((size_t)m->param_floats * 3, sizeof *state);
  arena = aligned_alloc(64, ((size_t)arena_n * sizeof(float) + 63) / 64 * 64 + 64);
  metrics = calloc(1, sizeof(float));
  x = calloc(ROWS, sizeof *x);
  t = calloc((size_t)n, sizeof *t);
  buf = calloc((size_t)n, sizeof *buf);
  if (!params || !grads || !state || !arena || !metrics || !x || !t || !buf) return 2;
  inputs[0] = x;
  inputs[1] = t;

  wd = 0, w0 = 0;
  all_values();
  wd = 0.01f, w0 = 0.5f; /* the copy of the loop with weight decay */
  for (uint32_t u = 0x3f800000u; u < 0x3f800000u + (1u << 20); u++) push(from_bits(u));
  flush();
  printf("checked %ld elements: %ld mismatches\n", checked, bad);
  return bad ? 1 : 0;
}
