/* cblas_floor.c: the CBLAS-only floor of examples/mnist.nn's training step.
 *
 * Only the step's matrix products, as cblas_sgemm calls on buffers allocated and touched
 * once, with the transposes folded into the calls; no data loading, no elementwise work,
 * no optimiser. Whatever ./train spends beyond this is the rest of the step; an
 * implementation that calls OpenBLAS for its GEMMs cannot go below it.
 *
 * A step at batch b is five GEMMs. Issue 6 says six, but its own 209.5 MFLOP per step at
 * b = 128 is exactly these five: the gradient with respect to the input x is never
 * needed, since x is data.
 *   forward   Z1 = X W1       [b,784] x [784,512]   2*b*784*512
 *             Z2 = H W2       [b,512] x [512,10]    2*b*512*10
 *   backward  dW2 = H^T dZ2   [512,b] x [b,10]      2*b*512*10
 *             dH = dZ2 W2^T   [b,10]  x [10,512]    2*b*512*10
 *             dW1 = X^T dH    [784,b] x [b,512]     2*b*784*512
 *
 * usage: cblas_floor [--batch N|all] [--limit N] [--epochs E] [--threads T]
 * An epoch is ceil(N/b) steps, the last one with the remainder (60000 at 128: 468 steps
 * of 128 and one of 96), as ./train and the Python peers do. Prints, like them, one line
 * `RESULT {json}` with each epoch's seconds. cc -O2 cblas_floor.c -lopenblas
 */
#define _POSIX_C_SOURCE 199309L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void openblas_set_num_threads(int); /* OpenBLAS's own; cblas.h may not declare it */

enum { IN = 784, HID = 512, OUT = 10 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Fills with small values in [-0.5, 0.5): any values do for timing, as long as none is
 * denormal, which would slow the FMA units and flatter no one. Writing every element also
 * faults every page in before the clock starts. */
static float *buffer(size_t n, unsigned *seed) {
  float *p = malloc(n * sizeof *p);
  if (!p) {
    fprintf(stderr, "cblas_floor: out of memory\n");
    exit(1);
  }
  for (size_t i = 0; i < n; i++) {
    *seed = *seed * 1103515245u + 12345u;
    p[i] = (float)((*seed >> 8) & 0xffff) / 65536.0f - 0.5f;
  }
  return p;
}

static void step(int b, const float *x, const float *w1, const float *w2, float *z1,
                 float *z2, float *dw1, float *dw2, float *dh) {
  const CBLAS_LAYOUT R = CblasRowMajor;
  const CBLAS_TRANSPOSE N = CblasNoTrans, T = CblasTrans;
  cblas_sgemm(R, N, N, b, HID, IN, 1.0f, x, IN, w1, HID, 0.0f, z1, HID);     /* Z1 = X W1 */
  cblas_sgemm(R, N, N, b, OUT, HID, 1.0f, z1, HID, w2, OUT, 0.0f, z2, OUT);  /* Z2 = H W2 */
  cblas_sgemm(R, T, N, HID, OUT, b, 1.0f, z1, HID, z2, OUT, 0.0f, dw2, OUT); /* H^T dZ2 */
  cblas_sgemm(R, N, T, b, HID, OUT, 1.0f, z2, OUT, w2, OUT, 0.0f, dh, HID);  /* dZ2 W2^T */
  cblas_sgemm(R, T, N, IN, HID, b, 1.0f, x, IN, dh, HID, 0.0f, dw1, HID);    /* X^T dH */
}

int main(int argc, char **argv) {
  long n = 60000, batch = 128, epochs = 2, threads = 1;
  int all = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *f = argv[i], *v = argv[i + 1];
    if (!strcmp(f, "--batch") && !strcmp(v, "all")) all = 1;
    else if (!strcmp(f, "--batch")) batch = atol(v);
    else if (!strcmp(f, "--limit")) n = atol(v) > 0 ? atol(v) : 60000;
    else if (!strcmp(f, "--epochs")) epochs = atol(v);
    else if (!strcmp(f, "--threads")) threads = atol(v);
    else {
      fprintf(stderr, "usage: cblas_floor [--batch N|all] [--limit N] [--epochs E] [--threads T]\n");
      return 2;
    }
  }
  if (all || batch > n) batch = n;
  if (batch < 1 || epochs < 1 || threads < 1) {
    fprintf(stderr, "cblas_floor: batch, epochs and threads must be positive\n");
    return 2;
  }
  openblas_set_num_threads((int)threads);

  /* X is a batch-sized buffer, as a gathered batch is: the floor measures the GEMMs,
   * and the gather is part of "the rest of the step". */
  unsigned seed = 42;
  float *x = buffer((size_t)batch * IN, &seed), *w1 = buffer((size_t)IN * HID, &seed),
        *w2 = buffer((size_t)HID * OUT, &seed), *z1 = buffer((size_t)batch * HID, &seed),
        *z2 = buffer((size_t)batch * OUT, &seed), *dh = buffer((size_t)batch * HID, &seed),
        *dw1 = buffer((size_t)IN * HID, &seed), *dw2 = buffer((size_t)HID * OUT, &seed);

  long steps = (n + batch - 1) / batch;
  double flop = 0;
  printf("RESULT {\"impl\": \"cblas\", \"threads\": %ld, \"n\": %ld, \"batch\": %ld, "
         "\"steps_per_epoch\": %ld, \"epoch_s\": [",
         threads, n, batch, steps);
  for (long e = 0; e < epochs; e++) {
    double t0 = now();
    for (long s = 0; s < steps; s++) {
      int b = (int)(s + 1 < steps ? batch : n - s * batch);
      step(b, x, w1, w2, z1, z2, dw1, dw2, dh);
      if (e == 0) flop += 2.0 * b * (2.0 * IN * HID + 3.0 * HID * OUT);
    }
    printf("%s%.6f", e ? ", " : "", now() - t0);
  }
  printf("], \"gflop_per_epoch\": %.4f}\n", flop * 1e-9);
  /* Keep the results alive so that no step can be dropped as dead code. */
  fprintf(stderr, "cblas_floor: %ld steps/epoch, checksum %g\n", steps,
          (double)(dw1[0] + dw2[0] + dh[0] + z2[0]));
  return 0;
}
