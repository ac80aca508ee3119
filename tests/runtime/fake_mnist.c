/* fake_mnist.c: a hand-written stand-in for what nnc makes of examples/mnist.nn, the
 * flagship: image : u8[28, 28] and label : class[10],
 *   x = flatten(image) / 255;  h = relu(x @ h.W + h.b);  logits = h @ logits.W + logits.b
 *   loss = softmax cross-entropy;  output probs = softmax(logits);  metric accuracy
 * through OpenBLAS as the generated code does, with the flagship's train block (Debian's
 * Fashion-MNIST as IDX gzip files, validation on the test set, rmsprop lr 0.001, batch
 * 128, 5 epochs). The suite runs it on a --limit'ed subset only; run whole, it shows the
 * runtime reaching the flagship's accuracy. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "fake_model.h"

enum { D = 784, H = 512, K = 10 };
enum { W1 = 0, B1 = D * H, W2 = B1 + H, B2 = W2 + H * K, NP = B2 + K };
/* Arena per sample: x [D], h [H], logits then probabilities [K], dh [H]. */
enum { PER_SAMPLE = D + H + K + H };

static float forward(const float *p, const float *image, const float *label, float *arena,
                     int64_t B, int64_t mb, float *accuracy) {
  float *x = arena, *h = x + mb * D, *z = h + mb * H;
  for (int64_t i = 0; i < B * D; i++) x[i] = image[i] / 255.0f;
  for (int64_t i = 0; i < B; i++) memcpy(h + i * H, p + B1, H * sizeof(float));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, H, D, 1, x, D, p + W1, H, 1,
              h, H);
  for (int64_t i = 0; i < B * H; i++) h[i] = h[i] > 0 ? h[i] : 0;
  for (int64_t i = 0; i < B; i++) memcpy(z + i * K, p + B2, K * sizeof(float));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, K, H, 1, h, H, p + W2, K, 1,
              z, K);
  float loss = 0;
  int64_t right = 0;
  for (int64_t i = 0; i < B; i++) {
    float *zi = z + i * K, mx = zi[0], s = 0;
    int best = 0;
    for (int k = 1; k < K; k++)
      if (zi[k] > mx) mx = zi[k], best = k;
    for (int k = 0; k < K; k++) s += zi[k] = expf(zi[k] - mx);
    for (int k = 0; k < K; k++) zi[k] /= s;
    if (label) {
      int y = (int)label[i];
      loss -= logf(zi[y] > 1e-30f ? zi[y] : 1e-30f);
      right += best == y;
    }
  }
  if (accuracy) *accuracy = (float)right / (float)B;
  return loss / (float)B;
}

static float train_step(const float *p, float *g, const float *const *in, float *metrics,
                        float *arena, int64_t B, int64_t mb) {
  if ((uintptr_t)arena % 64 || B < 1 || B > mb) fake_check_call(arena, B, mb);
  float loss = forward(p, in[0], in[1], arena, B, mb, &metrics[0]);
  float *x = arena, *h = x + mb * D, *z = h + mb * H, *dh = z + mb * K;
  for (int64_t i = 0; i < B; i++) z[i * K + (int)in[1][i]] -= 1;
  for (int64_t i = 0; i < B * K; i++) z[i] /= (float)B;
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, K, (int)B, 1, h, H, z, K, 0, g + W2,
              K);
  for (int k = 0; k < K; k++) {
    float s = 0;
    for (int64_t i = 0; i < B; i++) s += z[i * K + k];
    g[B2 + k] = s;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, H, K, 1, z, K, p + W2, K, 0, dh,
              H);
  for (int64_t i = 0; i < B * H; i++)
    if (h[i] <= 0) dh[i] = 0;
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, D, H, (int)B, 1, x, D, dh, H, 0, g + W1,
              H);
  for (int j = 0; j < H; j++) {
    float s = 0;
    for (int64_t i = 0; i < B; i++) s += dh[i * H + j];
    g[B1 + j] = s;
  }
  return loss;
}

static float evaluate(const float *p, const float *const *in, float *metrics, float *arena,
                      int64_t B, int64_t mb) {
  return forward(p, in[0], in[1], arena, B, mb, &metrics[0]);
}

static void predict(const float *p, const float *const *in, float *const *out, float *arena,
                    int64_t B, int64_t mb) {
  forward(p, in[0], NULL, arena, B, mb, NULL);
  memcpy(out[0], arena + mb * (D + H), (size_t)(B * K) * sizeof(float));
}

static const nnrt_tensor_desc inputs[] = {
    {"image", NNRT_U8, 2, {28, 28}, D, 0, NNRT_ROLE_FEATURE},
    {"label", NNRT_CLASS, 0, {0}, 1, K, NNRT_ROLE_TARGET},
};
static const nnrt_tensor_desc outputs[] = {{"probs", NNRT_F32, 1, {K}, K, 0, 0}};
static const nnrt_slot_desc params[] = {
    {"h.W", NNRT_SLOT_PARAM, 2, {D, H}, D * H, W1, NNRT_INIT_GLOROT_UNIFORM, 0, 0},
    {"h.b", NNRT_SLOT_PARAM, 1, {H}, H, B1, NNRT_INIT_ZEROS, 0, 0},
    {"logits.W", NNRT_SLOT_PARAM, 2, {H, K}, H * K, W2, NNRT_INIT_GLOROT_UNIFORM, 0, 0},
    {"logits.b", NNRT_SLOT_PARAM, 1, {K}, K, B2, NNRT_INIT_ZEROS, 0, 0},
};
static const char *const metric_names[] = {"accuracy"};
#define FMNIST "/usr/share/datasets/fashion-mnist/"
static const nnrt_option options[] = {
    {"data", "idx:" FMNIST "train-images-idx3-ubyte.gz," FMNIST "train-labels-idx1-ubyte.gz"},
    {"val", "idx:" FMNIST "t10k-images-idx3-ubyte.gz," FMNIST "t10k-labels-idx1-ubyte.gz"},
    {"optimizer", "rmsprop"},
    {"lr", "0.001"},
    {"batch", "128"},
    {"epochs", "5"},
};

FAKE_ENTRY_POINTS(train_step, evaluate, predict)

const nnrt_model_desc nnrt_model = {
    .abi_version = NNRT_ABI_VERSION,
    .name = "mnist",
    .source = "/fake/mnist.nn",
    .n_inputs = 2,
    .inputs = inputs,
    .n_outputs = 1,
    .outputs = outputs,
    .n_metrics = 1,
    .metric_names = metric_names,
    .n_slots = 4,
    .n_params = 4,
    .slots = params,
    .param_floats = NP,
    .arena_fixed = 0,
    .arena_per_sample = PER_SAMPLE,
    .n_options = 6,
    .options = options,
    FAKE_DESCRIPTOR_ENTRIES,
};
