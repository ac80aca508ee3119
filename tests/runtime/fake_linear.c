/* fake_linear.c: a hand-written stand-in for nnc's output for linear regression,
 *   pred = w * x + b,  loss = mean((pred - y)^2),
 * with scalar x, y, w, b and no train-block defaults (so the built-ins apply). */
#include "fake_model.h"

/* Arena: 3 fixed floats (unused scratch) then one residual per sample. */
enum { FIXED = 3 };

static float train_step(const float *p, float *g, const float *const *in, float *arena,
                        int64_t B, int64_t max_batch) {
  fake_check_call(arena, B, max_batch);
  const float *x = in[0], *y = in[1];
  float *r = arena + FIXED; /* [B] residuals pred - y */
  float loss = 0, dw = 0, db = 0;
  for (int64_t i = 0; i < B; i++) {
    r[i] = p[0] * x[i] + p[1] - y[i];
    loss += r[i] * r[i];
  }
  /* d loss / d pred_i = 2 r_i / B */
  for (int64_t i = 0; i < B; i++) dw += 2 * r[i] * x[i], db += 2 * r[i];
  g[0] = dw / (float)B;
  g[1] = db / (float)B;
  return loss / (float)B;
}

static float forward(const float *p, const float *const *in, float *const *out, float *arena,
                     int64_t B, int64_t max_batch) {
  fake_check_call(arena, B, max_batch);
  float loss = 0;
  for (int64_t i = 0; i < B; i++) {
    out[0][i] = p[0] * in[0][i] + p[1];
    loss += (out[0][i] - in[1][i]) * (out[0][i] - in[1][i]);
  }
  return loss / (float)B;
}

static const nnrt_tensor_desc inputs[] = {{"x", NNRT_F32, 0, {0}, 1}, {"y", NNRT_F32, 0, {0}, 1}};
static const nnrt_tensor_desc outputs[] = {{"pred", NNRT_F32, 0, {0}, 1}};
static const nnrt_param_desc params[] = {
    {"w", 0, {0}, 1, 0, NNRT_INIT_GLOROT_UNIFORM, 0, 0},
    {"b", 0, {0}, 1, 1, NNRT_INIT_ZEROS, 0, 0},
};

const nnrt_model_desc nnrt_model = {
    .abi_version = NNRT_ABI_VERSION,
    .name = "linear",
    .source = "/fake/linear.nn",
    .n_inputs = 2,
    .inputs = inputs,
    .n_outputs = 1,
    .outputs = outputs,
    .n_params = 2,
    .params = params,
    .param_floats = 2,
    .arena_fixed = FIXED,
    .arena_per_sample = 1,
    .defaults = {NULL, 0, {NULL}, NULL, -1, -1, -1, -1, -1},
    .train_step = train_step,
    .forward = forward,
};
