/* fake_plane.c: a hand-written stand-in for nnc's output for
 *   pred = x @ w + b   (x: f32[2] per sample, w: f32[2], b: scalar),  loss = mean((pred - y)^2),
 * whose train block sets data (a CSV file), optimizer (momentum), lr, batch, epochs and seed,
 * so the train program runs with no flags at all. FAKE_PLANE_CSV is the data's absolute
 * path. Its metric `mae` is the mean absolute error. */
#include <math.h>

#include "fake_model.h"

static float forward(const float *p, const float *const *in, float *arena, int64_t B,
                     float *mae) {
  const float *x = in[0], *y = in[1]; /* x: [B, 2], y: [B] */
  float *r = arena;                   /* [B] residuals */
  float loss = 0, abs_sum = 0;
  for (int64_t i = 0; i < B; i++) {
    r[i] = x[2 * i] * p[0] + x[2 * i + 1] * p[1] + p[2] - y[i];
    loss += r[i] * r[i];
    abs_sum += fabsf(r[i]);
  }
  *mae = abs_sum / (float)B;
  return loss / (float)B;
}

static float train_step(const float *p, float *g, const float *const *in, float *metrics,
                        float *arena, int64_t B, int64_t max_batch) {
  fake_check_call(arena, B, max_batch);
  float loss = forward(p, in, arena, B, &metrics[0]);
  const float *x = in[0], *r = arena;
  g[0] = g[1] = g[2] = 0;
  for (int64_t i = 0; i < B; i++) {
    float d = 2 * r[i] / (float)B;
    g[0] += d * x[2 * i], g[1] += d * x[2 * i + 1], g[2] += d;
  }
  return loss;
}

static float evaluate(const float *p, const float *const *in, float *metrics, float *arena,
                      int64_t B, int64_t max_batch) {
  fake_check_call(arena, B, max_batch);
  return forward(p, in, arena, B, &metrics[0]);
}

static const nnrt_tensor_desc inputs[] = {{"x", NNRT_F32, 1, {2}, 2, 0, NNRT_ROLE_FEATURE},
                                          {"y", NNRT_F32, 0, {0}, 1, 0, NNRT_ROLE_TARGET}};
static const nnrt_slot_desc params[] = {
    {"w", NNRT_SLOT_PARAM, 1, {2}, 2, 0, NNRT_INIT_GLOROT_UNIFORM, 0, 0},
    {"b", NNRT_SLOT_PARAM, 0, {0}, 1, 2, NNRT_INIT_CONSTANT, 0.1f, 0},
};
static const char *const metric_names[] = {"mae"};
static const nnrt_option options[] = {
    {"data", "csv:" FAKE_PLANE_CSV}, {"optimizer", "momentum"}, {"lr", "0.05"},
    {"batch", "4"},                  {"epochs", "60"},          {"seed", "7"},
};

FAKE_ENTRY_POINTS(train_step, evaluate, fake_no_predict)

const nnrt_model_desc nnrt_model = {
    .abi_version = NNRT_ABI_VERSION,
    .name = "plane",
    .source = "/fake/plane.nn",
    .n_inputs = 2,
    .inputs = inputs,
    .n_metrics = 1,
    .metric_names = metric_names,
    .n_slots = 2,
    .n_params = 2,
    .slots = params,
    .param_floats = 3,
    .arena_fixed = 0,
    .arena_per_sample = 1,
    .n_options = 6,
    .options = options,
    FAKE_DESCRIPTOR_ENTRIES,
};
