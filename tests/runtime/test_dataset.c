/* test_dataset.c: shuffles are seeded permutations, uniform over all orders, and an
 * epoch's batches (the last one partial) gather every sample exactly once. */
#include <stdlib.h>

#include "check.h"
#include "nnrt_internal.h"

static int is_perm(const int64_t *p, int64_t n) {
  char *seen = calloc((size_t)n + 1, 1);
  int ok = 1;
  for (int64_t i = 0; i < n; i++) {
    if (p[i] < 0 || p[i] >= n || seen[p[i]]) ok = 0;
    else seen[p[i]] = 1;
  }
  free(seen);
  return ok;
}

int main(void) {
  enum { N = 1000 };
  static int64_t a[N], b[N], c[N];
  RtRng ra, rb, rc;
  rt_rng_seed(&ra, 42, RT_STREAM_SHUFFLE);
  rt_rng_seed(&rb, 42, RT_STREAM_SHUFFLE);
  rt_rng_seed(&rc, 43, RT_STREAM_SHUFFLE);
  rt_perm_identity(a, N), rt_perm_identity(b, N), rt_perm_identity(c, N);
  for (int epoch = 0; epoch < 3; epoch++) {
    rt_shuffle(a, N, &ra), rt_shuffle(b, N, &rb), rt_shuffle(c, N, &rc);
    CHECK(is_perm(a, N));
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(a, c, sizeof a) != 0);
  }
  int64_t one[1] = {0}, none[1] = {7};
  rt_shuffle(one, 1, &ra);
  CHECK(one[0] == 0);
  rt_shuffle(none, 0, &ra);
  CHECK(none[0] == 7);

  /* All 6 orders of 3 items about equally often: a biased Fisher-Yates (j drawn from the
   * whole range) fails this clearly. */
  enum { T = 60000 };
  int freq[6] = {0};
  for (int t = 0; t < T; t++) {
    int64_t p[3] = {0, 1, 2};
    rt_shuffle(p, 3, &ra);
    freq[p[0] * 2 + (p[1] > p[2])]++;
  }
  for (int k = 0; k < 6; k++) CHECK_NEAR(freq[k] / (double)T, 1.0 / 6, 0.01);

  /* Two inputs: x with 2 floats per sample, y with 1; 5 samples; x = (10i, 10i+1), y = i. */
  nnrt_tensor_desc in[2] = {{"x", NNRT_F32, 1, {2}, 2}, {"y", NNRT_F32, 0, {0}, 1}};
  nnrt_model_desc m = {.abi_version = NNRT_ABI_VERSION, .n_inputs = 2, .inputs = in};
  RtDataset d;
  CHECK(rt_dataset_init(&d, &m) == 0);
  d.n_samples = 5;
  d.data[0] = malloc(10 * sizeof(float));
  d.data[1] = malloc(5 * sizeof(float));
  for (int i = 0; i < 5; i++) {
    d.data[0][2 * i] = 10.0f * i, d.data[0][2 * i + 1] = 10.0f * i + 1, d.data[1][i] = (float)i;
  }
  int64_t perm[5];
  rt_perm_identity(perm, 5);
  rt_shuffle(perm, 5, &ra);
  float xb[2 * 2 + 2], yb[2 + 1];
  float *bufs[2] = {xb, yb};
  int seen[5] = {0}, batches = 0, sizes_ok = 1, rows_ok = 1, guard_ok = 1;
  for (int64_t first = 0; first < 5; first += 2, batches++) {
    int64_t count = 5 - first < 2 ? 5 - first : 2;
    sizes_ok &= count == (first < 4 ? 2 : 1);
    xb[4] = xb[5] = yb[2] = -1; /* past max_batch: must stay untouched */
    for (int k = 0; k < 2; k++) xb[2 * k] = xb[2 * k + 1] = yb[k] = -2;
    rt_gather(&d, perm + first, count, bufs);
    for (int64_t k = 0; k < count; k++) {
      int i = (int)yb[k];
      rows_ok &= i == perm[first + k] && xb[2 * k] == 10.0f * i && xb[2 * k + 1] == 10.0f * i + 1;
      if (i >= 0 && i < 5) seen[i]++;
    }
    if (count == 1) guard_ok &= yb[1] == -2 && xb[2] == -2 && xb[3] == -2;
    guard_ok &= xb[4] == -1 && xb[5] == -1 && yb[2] == -1;
  }
  CHECK(batches == 3);
  CHECK(sizes_ok);
  CHECK(rows_ok);
  CHECK(guard_ok);
  for (int i = 0; i < 5; i++) CHECK(seen[i] == 1);
  rt_dataset_free(&d);
  return check_done("dataset");
}
