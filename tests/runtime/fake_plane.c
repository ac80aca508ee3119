/* fake_plane.c: a hand-written stand-in for nnc's output for
 *   pred = x @ w + b   (x: f32[2] per sample, w: f32[2], b: scalar),  loss = mean((pred - y)^2),
 * whose train block sets defaults (data file, momentum, lr, batch, epochs, seed), so the
 * train program runs with no flags at all. FAKE_PLANE_CSV is the data's absolute path. */
#include "fake_model.h"

static float train_step(const float *p, float *g, const float *const *in, float *arena,
                        int64_t B, int64_t max_batch) {
  fake_check_call(arena, B, max_batch);
  const float *x = in[0], *y = in[1]; /* x: [B, 2], y: [B] */
  float *r = arena;                   /* [B] residuals */
  float loss = 0;
  g[0] = g[1] = g[2] = 0;
  for (int64_t i = 0; i < B; i++) {
    r[i] = x[2 * i] * p[0] + x[2 * i + 1] * p[1] + p[2] - y[i];
    loss += r[i] * r[i];
  }
  for (int64_t i = 0; i < B; i++) {
    float d = 2 * r[i] / (float)B;
    g[0] += d * x[2 * i], g[1] += d * x[2 * i + 1], g[2] += d;
  }
  return loss / (float)B;
}

static const nnrt_tensor_desc inputs[] = {{"x", NNRT_F32, 1, {2}, 2}, {"y", NNRT_F32, 0, {0}, 1}};
static const nnrt_param_desc params[] = {
    {"w", 1, {2}, 2, 0, NNRT_INIT_GLOROT_UNIFORM, 0, 0},
    {"b", 0, {0}, 1, 2, NNRT_INIT_CONSTANT, 0.1f, 0},
};

const nnrt_model_desc nnrt_model = {
    .abi_version = NNRT_ABI_VERSION,
    .name = "plane",
    .source = "/fake/plane.nn",
    .n_inputs = 2,
    .inputs = inputs,
    .n_params = 2,
    .params = params,
    .param_floats = 3,
    .arena_fixed = 0,
    .arena_per_sample = 1,
    .defaults = {"csv", 1, {FAKE_PLANE_CSV}, "momentum", 0.05, -1, 4, 60, 7},
    .train_step = train_step,
};
