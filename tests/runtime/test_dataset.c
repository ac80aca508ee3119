/* test_dataset.c: shuffles are seeded permutations, uniform over all orders, and an
 * epoch's batches (the last one partial) gather every sample exactly once, converting u8
 * and i32 storage to floats; asking for huge pages leaves the data as it was. */
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
  nnrt_tensor_desc in[2] = {{"x", NNRT_U8, 1, {2}, 2, 0, NNRT_ROLE_FEATURE},
                            {"y", NNRT_CLASS, 0, {0}, 1, 5, NNRT_ROLE_TARGET}};
  nnrt_model_desc m = {.abi_version = NNRT_ABI_VERSION, .n_inputs = 2, .inputs = in};
  RtDataset d;
  CHECK(rt_dataset_init(&d, &m) == 0);
  d.n_samples = 5;
  /* x stored as bytes, y as i32 labels: gathering converts both to floats. */
  CHECK(rt_dataset_alloc(&d, 0, RT_STORE_U8, 5) == 0);
  CHECK(rt_dataset_alloc(&d, 1, RT_STORE_I32, 5) == 0);
  unsigned char *xs = d.data[0];
  int32_t *ys = d.data[1];
  for (int i = 0; i < 5; i++) xs[2 * i] = (unsigned char)(10 * i), xs[2 * i + 1] = (unsigned char)(10 * i + 1), ys[i] = i;
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
  /* f32 storage copies rows as they are. */
  CHECK(rt_dataset_alloc(&d, 0, RT_STORE_F32, 5) == 0);
  float *xf = d.data[0];
  for (int i = 0; i < 10; i++) xf[i] = 0.5f * (float)i;
  int64_t two[2] = {4, 1};
  rt_gather(&d, two, 2, bufs);
  CHECK(xb[0] == 4.0f && xb[1] == 4.5f && xb[2] == 1.0f && xb[3] == 1.5f && yb[0] == 4 && yb[1] == 1);
  /* An input that is not loaded (predict without targets) and a NULL buffer are skipped. */
  free(d.block[1]);
  d.block[1] = d.data[1] = NULL;
  d.store[1] = RT_STORE_NONE;
  yb[0] = -7;
  float *only_x[2] = {xb, NULL};
  rt_gather(&d, two, 1, only_x);
  CHECK(xb[0] == 4.0f && yb[0] == -7);

  /* Type strings for messages. */
  char t[64];
  rt_type_str(&in[0], t, sizeof t);
  CHECK_STR(t, "u8[2]");
  rt_type_str(&in[1], t, sizeof t);
  CHECK_STR(t, "class[5]");
  nnrt_tensor_desc img = {"image", NNRT_U8, 2, {28, 28}, 784, 0, NNRT_ROLE_FEATURE};
  rt_type_str(&img, t, sizeof t);
  CHECK_STR(t, "u8[28, 28]");
  nnrt_tensor_desc sc = {"s", NNRT_F32, 0, {0}, 1, 0, NNRT_ROLE_FEATURE};
  rt_type_str(&sc, t, sizeof t);
  CHECK_STR(t, "f32");
  rt_dataset_free(&d);

  /* Huge-page advice keeps the data as it was: on a buffer that is not aligned to 2 MB
   * (only the whole huge pages inside are advised), and on ones too small to hold one. */
  size_t big = (size_t)5 << 20;
  unsigned char *buf = malloc(big);
  CHECK(buf != NULL);
  for (size_t k = 0; k < big; k++) buf[k] = (unsigned char)(k * 7 + k / 4093);
  rt_huge_pages(buf + 3, big - 3);
  rt_huge_pages(buf, 100);
  rt_huge_pages(buf, 0);
  size_t bad = 0;
  for (size_t k = 0; k < big; k++) bad += buf[k] != (unsigned char)(k * 7 + k / 4093);
  CHECK(bad == 0);
  free(buf);
  return check_done("dataset");
}
