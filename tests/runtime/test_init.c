/* test_init.c: initialisers have the documented bounds, mean and standard deviation, and
 * rt_init_params places them at the descriptor's offsets, deterministically per seed. */
#include <stdlib.h>

#include "check.h"
#include "nnrt_internal.h"

static void stats(const float *x, int64_t n, double *mean, double *std, double *lo,
                  double *hi) {
  double s = 0, q = 0;
  *lo = INFINITY, *hi = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    s += x[i], q += (double)x[i] * x[i];
    *lo = x[i] < *lo ? x[i] : *lo;
    *hi = x[i] > *hi ? x[i] : *hi;
  }
  *mean = s / n;
  *std = sqrt(q / n - *mean * *mean);
}

int main(void) {
  enum { N = 100000 };
  float *x = malloc(N * sizeof *x);
  RtRng r;
  rt_rng_seed(&r, 3, RT_STREAM_INIT);
  double mean, std, lo, hi;

  rt_init_fill(x, N, NNRT_INIT_ZEROS, 5, 6, 1, 1, &r);
  stats(x, N, &mean, &std, &lo, &hi);
  CHECK(lo == 0 && hi == 0);
  rt_init_fill(x, N, NNRT_INIT_ONES, 5, 6, 1, 1, &r);
  stats(x, N, &mean, &std, &lo, &hi);
  CHECK(lo == 1 && hi == 1);
  rt_init_fill(x, N, NNRT_INIT_CONSTANT, -2.5f, 6, 1, 1, &r);
  stats(x, N, &mean, &std, &lo, &hi);
  CHECK(lo == -2.5 && hi == -2.5);

  /* U(-1, 3): bounds, mean 1, std 4/sqrt(12). */
  rt_init_fill(x, N, NNRT_INIT_UNIFORM, -1, 3, 1, 1, &r);
  stats(x, N, &mean, &std, &lo, &hi);
  CHECK(lo >= -1 && hi <= 3);
  CHECK_NEAR(mean, 1.0, 0.02);
  CHECK_NEAR(std, 4 / sqrt(12), 0.01);

  /* N(0.5, 2). */
  rt_init_fill(x, N, NNRT_INIT_NORMAL, 0.5f, 2, 1, 1, &r);
  stats(x, N, &mean, &std, &lo, &hi);
  CHECK_NEAR(mean, 0.5, 0.03);
  CHECK_NEAR(std, 2.0, 0.03);

  /* Glorot for a [300, 100] matrix: U(-l, l), l = sqrt(6 / 400), std l / sqrt(3). */
  double l = sqrt(6.0 / 400);
  rt_init_fill(x, N, NNRT_INIT_GLOROT_UNIFORM, 0, 0, 300, 100, &r);
  stats(x, N, &mean, &std, &lo, &hi);
  CHECK(lo >= -l && hi <= l);
  CHECK(lo < -0.99 * l && hi > 0.99 * l);
  CHECK_NEAR(mean, 0.0, 0.002);
  CHECK_NEAR(std, l / sqrt(3), 0.002);

  /* glorot_normal for [300, 100]: N(0, sqrt(2 / 400)). */
  rt_init_fill(x, N, NNRT_INIT_GLOROT_NORMAL, 0, 0, 300, 100, &r);
  stats(x, N, &mean, &std, &lo, &hi);
  CHECK_NEAR(mean, 0.0, 0.002);
  CHECK_NEAR(std, sqrt(2.0 / 400), 0.002);
  /* he_uniform for fan_in 300: U(-l, l), l = sqrt(6 / 300). */
  double lh = sqrt(6.0 / 300);
  rt_init_fill(x, N, NNRT_INIT_HE_UNIFORM, 0, 0, 300, 100, &r);
  stats(x, N, &mean, &std, &lo, &hi);
  CHECK(lo >= -lh && hi <= lh);
  CHECK(lo < -0.99 * lh && hi > 0.99 * lh);
  CHECK_NEAR(std, lh / sqrt(3), 0.002);
  /* he_normal for fan_in 300: N(0, sqrt(2 / 300)). */
  rt_init_fill(x, N, NNRT_INIT_HE_NORMAL, 0, 0, 300, 100, &r);
  stats(x, N, &mean, &std, &lo, &hi);
  CHECK_NEAR(mean, 0.0, 0.002);
  CHECK_NEAR(std, sqrt(2.0 / 300), 0.002);
  CHECK_STR(rt_init_name(NNRT_INIT_GLOROT_NORMAL), "glorot_normal");
  CHECK_STR(rt_init_name(NNRT_INIT_HE_UNIFORM), "he_uniform");
  CHECK_STR(rt_init_name(NNRT_INIT_HE_NORMAL), "he_normal");
  CHECK(rt_init_name(9) == NULL);

  /* Whole descriptor: W [3, 2] glorot at offset 0, gap of 2 floats, b [2] constant at 8,
   * s scalar glorot (fan 1/1, so l = sqrt(3)) at 10. */
  nnrt_slot_desc ps[] = {
      {"W", NNRT_SLOT_PARAM, 2, {3, 2}, 6, 0, NNRT_INIT_GLOROT_UNIFORM, 0, 0},
      {"b", NNRT_SLOT_PARAM, 1, {2}, 2, 8, NNRT_INIT_CONSTANT, 0.25f, 0},
      {"s", NNRT_SLOT_PARAM, 0, {0}, 1, 10, NNRT_INIT_GLOROT_UNIFORM, 0, 0},
  };
  nnrt_state_desc states[] = {{"m", NNRT_INIT_ZEROS, 0, 0}, {"v", NNRT_INIT_CONSTANT, 0.5f, 0}};
  nnrt_rule_desc rule = {"r", 0, NULL, 2, states};
  nnrt_model_desc m = {.abi_version = NNRT_ABI_VERSION, .n_slots = 3, .n_params = 3, .slots = ps,
                       .param_floats = 11, .n_rules = 1, .rules = &rule};
  float p1[11], p2[11], p3[11];
  for (int i = 0; i < 11; i++) p1[i] = p2[i] = p3[i] = 99;
  RtRng r1, r2, r3;
  rt_rng_seed(&r1, 5, RT_STREAM_INIT);
  rt_rng_seed(&r2, 5, RT_STREAM_INIT);
  rt_rng_seed(&r3, 6, RT_STREAM_INIT);
  rt_init_params(&m, p1, &r1);
  rt_init_params(&m, p2, &r2);
  rt_init_params(&m, p3, &r3);
  CHECK(memcmp(p1, p2, sizeof p1) == 0);
  CHECK(memcmp(p1, p3, sizeof p1) != 0);
  double lw = sqrt(6.0 / 5);
  int w_ok = 1;
  for (int i = 0; i < 6; i++) w_ok &= fabsf(p1[i]) <= lw && p1[i] != 0;
  CHECK(w_ok);
  CHECK(p1[6] == 0 && p1[7] == 0);
  CHECK(p1[8] == 0.25f && p1[9] == 0.25f);
  CHECK(fabsf(p1[10]) <= sqrt(3.0));
  /* a rule's states: one array per state, each parameter's place by its initialiser */
  float st[22];
  for (int i = 0; i < 22; i++) st[i] = 99;
  rt_init_states(&m, 0, st, &r1);
  int st_ok = 1;
  for (int i = 0; i < 11; i++) st_ok &= st[i] == 0;
  for (int i = 0; i < 6; i++) st_ok &= st[11 + i] == 0.5f;
  st_ok &= st[17] == 0 && st[18] == 0 && st[19] == 0.5f && st[20] == 0.5f && st[21] == 0.5f;
  CHECK(st_ok);
  free(x);
  return check_done("init");
}
