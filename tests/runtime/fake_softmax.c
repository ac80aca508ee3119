/* fake_softmax.c: a hand-written stand-in for nnc's output for a small version of the
 * flagship classifier:
 *   image : u8[4, 4] (feature), label : class[3] (target)
 *   probs = softmax((image / 255) @ W + b),  loss = mean(-log probs[label]),
 *   metric accuracy = mean(argmax probs == label)
 * with W [16, 3] he_normal and b [3] zeros, and a train block like the flagship's
 * (rmsprop, lr, batch, epochs, seed; data comes from flags). */
#include <math.h>

#include "fake_model.h"

enum { D = 16, K = 3 };

/* Arena: K probabilities per sample. Returns the mean loss; *acc the accuracy. */
static float forward(const float *p, const float *const *in, float *arena, int64_t B,
                     float *acc) {
  const float *W = p, *b = p + D * K, *x = in[0], *y = in[1];
  float loss = 0;
  int64_t right = 0;
  for (int64_t i = 0; i < B; i++) {
    float *z = arena + i * K, mx = -INFINITY, s = 0;
    int best = 0;
    for (int k = 0; k < K; k++) {
      z[k] = b[k];
      for (int j = 0; j < D; j++) z[k] += x[i * D + j] / 255.0f * W[j * K + k];
      if (z[k] > mx) mx = z[k], best = k;
    }
    for (int k = 0; k < K; k++) s += z[k] = expf(z[k] - mx);
    for (int k = 0; k < K; k++) z[k] /= s;
    int label = y ? (int)y[i] : 0;
    if (y) loss -= logf(z[label]);
    right += best == label;
  }
  if (acc) *acc = (float)right / (float)B;
  return loss / (float)B;
}

static float train_step(const float *p, float *g, const float *const *in, float *metrics,
                        float *arena, int64_t B, int64_t max_batch) {
  fake_check_call(arena, B, max_batch);
  float loss = forward(p, in, arena, B, &metrics[0]);
  const float *x = in[0], *y = in[1];
  for (int k = 0; k < D * K + K; k++) g[k] = 0;
  for (int64_t i = 0; i < B; i++)
    for (int k = 0; k < K; k++) {
      float dz = (arena[i * K + k] - (k == (int)y[i] ? 1.0f : 0.0f)) / (float)B;
      for (int j = 0; j < D; j++) g[j * K + k] += x[i * D + j] / 255.0f * dz;
      g[D * K + k] += dz;
    }
  return loss;
}

static float evaluate(const float *p, const float *const *in, float *metrics, float *arena,
                      int64_t B, int64_t max_batch) {
  fake_check_call(arena, B, max_batch);
  return forward(p, in, arena, B, &metrics[0]);
}

static void predict(const float *p, const float *const *in, float *const *out, float *arena,
                    int64_t B, int64_t max_batch) {
  fake_check_call(arena, B, max_batch);
  const float *feats[2] = {in[0], NULL}; /* targets may be absent: never read them */
  forward(p, feats, arena, B, NULL);
  for (int64_t i = 0; i < B * K; i++) out[0][i] = arena[i];
}

static const nnrt_tensor_desc inputs[] = {
    {"image", NNRT_U8, 2, {4, 4}, 16, 0, NNRT_ROLE_FEATURE},
    {"label", NNRT_CLASS, 0, {0}, 1, K, NNRT_ROLE_TARGET},
};
static const nnrt_tensor_desc outputs[] = {{"probs", NNRT_F32, 1, {K}, K, 0, 0}};
static const nnrt_slot_desc params[] = {
    {"W", NNRT_SLOT_PARAM, 2, {D, K}, D * K, 0, NNRT_INIT_HE_NORMAL, 0, 0},
    {"b", NNRT_SLOT_PARAM, 1, {K}, K, D * K, NNRT_INIT_ZEROS, 0, 0},
};
static const char *const metric_names[] = {"accuracy"};
static const nnrt_option options[] = {
    {"optimizer", "rmsprop"}, {"lr", "0.01"}, {"batch", "16"}, {"epochs", "4"}, {"seed", "1"},
};

FAKE_ENTRY_POINTS(train_step, evaluate, predict)

const nnrt_model_desc nnrt_model = {
    .abi_version = NNRT_ABI_VERSION,
    .name = "softmax",
    .source = "/fake/softmax.nn",
    .n_inputs = 2,
    .inputs = inputs,
    .n_outputs = 1,
    .outputs = outputs,
    .n_metrics = 1,
    .metric_names = metric_names,
    .n_slots = 2,
    .n_params = 2,
    .slots = params,
    .param_floats = D * K + K,
    .arena_fixed = 0,
    .arena_per_sample = K,
    .n_options = 5,
    .options = options,
    FAKE_DESCRIPTOR_ENTRIES,
};
