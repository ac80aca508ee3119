/* limits.c: the two hardware rates that bound the flagship's step on this machine, so
 * that bench/README.md's claims about what is reachable can be checked here.
 *
 *   FMA peak        a register-resident chain of independent fused multiply-adds
 *                   (12 accumulators, each one of this CPU's vector registers)
 *   RMSprop update  s = rho*s + (1-rho)*g*g; w -= lr*g / (sqrt(s) + eps), the runtime's
 *                   exact rule, on L1-resident rows (so memory is not the limit) and on
 *                   784 x 512 floats (the flagship's W1, from L2/L3); then its square root
 *                   and division alone
 *
 * Built and run by bench/run (cc -O3 -march=native -fno-math-errno); FTZ/DAZ on, as in
 * ./train. Prints one line per rate.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* as wide as the target's vectors: a 16-lane vector on AVX2 is two registers, and the
 * 24 of them would spill */
#if defined(__AVX512F__)
enum { LANES = 16, CHAINS = 12 };
#elif defined(__AVX__)
enum { LANES = 8, CHAINS = 12 };
#else
enum { LANES = 4, CHAINS = 12 };
#endif
typedef float vec __attribute__((vector_size(LANES * sizeof(float))));

/* CHAINS independent chains of LANES-wide multiply-adds (contracted to FMAs: -ffp-contract
 * is gcc's default); returns a value so that nothing is dropped */
__attribute__((noinline)) static float fma_chains(long iters, float x, float y) {
  vec acc[CHAINS];
  for (int c = 0; c < CHAINS; c++)
    for (int l = 0; l < LANES; l++) acc[c][l] = (float)(c * LANES + l) * 1e-3f;
  vec xv = {0}, yv = {0};
  xv += x;
  yv += y;
  for (long i = 0; i < iters; i++)
    for (int c = 0; c < CHAINS; c++) acc[c] = acc[c] * xv + yv;
  float s = 0;
  for (int c = 0; c < CHAINS; c++)
    for (int l = 0; l < LANES; l++) s += acc[c][l];
  return s;
}

__attribute__((noinline)) static void rmsprop(float *w, float *s, const float *g, long n, float lr, float rho,
                                              float eps) {
  for (long i = 0; i < n; i++) {
    float sv = rho * s[i] + (1 - rho) * g[i] * g[i];
    s[i] = sv;
    w[i] = w[i] - lr * g[i] / (sqrtf(sv) + eps);
  }
}

__attribute__((noinline)) static void sqrt_only(float *w, const float *s, long n) {
  for (long i = 0; i < n; i++) w[i] = sqrtf(s[i]);
}

__attribute__((noinline)) static void div_only(float *w, const float *s, long n) {
  for (long i = 0; i < n; i++) w[i] = w[i] / s[i];
}

static void fill(float *w, float *s, float *g, long n) {
  for (long i = 0; i < n; i++) {
    w[i] = 0.01f * (float)(i % 7);
    s[i] = 1e-3f * (float)(i % 5) + 1e-4f;
    g[i] = 1e-3f * (float)(i % 11 + 1);
  }
}

int main(void) {
#if defined(__x86_64__)
  _mm_setcsr(_mm_getcsr() | 0x8040); /* FTZ/DAZ, as ./train */
#endif
  long iters = 50000000;
  double t = now();
  float r = fma_chains(iters, 0.999f, 1e-4f);
  t = now() - t;
  double peak = (double)iters * CHAINS * LANES * 2 / t;
  printf("FMA peak (one core): %.1f GFLOP/s (check %g)\n", peak / 1e9, (double)r);

  long small = 1024, big = 784 * 512;
  float *w = malloc((size_t)big * sizeof *w), *s = malloc((size_t)big * sizeof *s),
        *g = malloc((size_t)big * sizeof *g);
  if (!w || !s || !g) return 1;
  fill(w, s, g, big);
  long reps = 200000;
  t = now();
  for (long k = 0; k < reps; k++) rmsprop(w, s, g, small, 1e-3f, 0.9f, 1e-7f);
  double ns_l1 = (now() - t) / (double)(reps * small) * 1e9;
  long reps_big = 500;
  t = now();
  for (long k = 0; k < reps_big; k++) rmsprop(w, s, g, big, 1e-3f, 0.9f, 1e-7f);
  double ns_big = (now() - t) / (double)(reps_big * big) * 1e9;
  t = now();
  for (long k = 0; k < reps; k++) sqrt_only(w, s, small);
  double ns_sqrt = (now() - t) / (double)(reps * small) * 1e9;
  fill(w, s, g, big);
  t = now();
  for (long k = 0; k < reps; k++) div_only(w, s + 1, small);
  double ns_div = (now() - t) / (double)(reps * small) * 1e9;
  printf("RMSprop update: %.3f ns/element in L1, %.3f ns/element on 784x512 (W1: %.1f us)\n", ns_l1, ns_big,
         ns_big * (double)big * 1e-3);
  printf("  of which square root %.3f ns/element, division %.3f ns/element\n", ns_sqrt, ns_div);
  printf("  the flagship's W1 rows with a nonzero pixel at batch 1 (49.8%% of Fashion-MNIST's): "
         "%.1f us per step\n",
         ns_l1 * (double)big * 0.498 * 1e-3);
  free(w);
  free(s);
  free(g);
  return 0;
}
