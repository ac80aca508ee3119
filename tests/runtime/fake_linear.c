/* fake_linear.c: a hand-written stand-in for nnc's output for linear regression,
 *   pred = w * x + b,  loss = mean((pred - y)^2),
 * with scalar x (feature), y (target), w, b, no metrics and no train block (so the
 * built-in defaults apply). */
#include "fake_model.h"

/* Arena: 3 fixed floats (unused scratch) then one residual per sample. */
enum { FIXED = 3 };

static float loss_of(const float *p, const float *const *in, float *arena, int64_t B) {
  const float *x = in[0], *y = in[1];
  float *r = arena + FIXED; /* [B] residuals pred - y */
  float loss = 0;
  for (int64_t i = 0; i < B; i++) {
    r[i] = p[0] * x[i] + p[1] - y[i];
    loss += r[i] * r[i];
  }
  return loss / (float)B;
}

static float train_step(const float *p, float *g, const float *const *in, float *metrics,
                        float *arena, int64_t B, int64_t max_batch) {
  (void)metrics;
  fake_check_call(arena, B, max_batch);
  float loss = loss_of(p, in, arena, B), dw = 0, db = 0;
  const float *x = in[0], *r = arena + FIXED;
  /* d loss / d pred_i = 2 r_i / B */
  for (int64_t i = 0; i < B; i++) dw += 2 * r[i] * x[i], db += 2 * r[i];
  g[0] = dw / (float)B;
  g[1] = db / (float)B;
  return loss;
}

static float evaluate(const float *p, const float *const *in, float *metrics, float *arena,
                      int64_t B, int64_t max_batch) {
  (void)metrics;
  fake_check_call(arena, B, max_batch);
  return loss_of(p, in, arena, B);
}

static void predict(const float *p, const float *const *in, float *const *out, float *arena,
                    int64_t B, int64_t max_batch) {
  fake_check_call(arena, B, max_batch);
  for (int64_t i = 0; i < B; i++) out[0][i] = p[0] * in[0][i] + p[1];
}

static const nnrt_tensor_desc inputs[] = {{"x", NNRT_F32, 0, {0}, 1, 0, NNRT_ROLE_FEATURE},
                                          {"y", NNRT_F32, 0, {0}, 1, 0, NNRT_ROLE_TARGET}};
static const nnrt_tensor_desc outputs[] = {{"pred", NNRT_F32, 0, {0}, 1, 0, 0}};
static const nnrt_slot_desc params[] = {
    {"w", NNRT_SLOT_PARAM, 0, {0}, 1, 0, NNRT_INIT_GLOROT_UNIFORM, 0, 0},
    {"b", NNRT_SLOT_PARAM, 0, {0}, 1, 1, NNRT_INIT_ZEROS, 0, 0},
};

FAKE_ENTRY_POINTS(train_step, evaluate, predict)

const nnrt_model_desc nnrt_model = {
    .abi_version = NNRT_ABI_VERSION,
    .name = "linear",
    .source = "/fake/linear.nn",
    .n_inputs = 2,
    .inputs = inputs,
    .n_outputs = 1,
    .outputs = outputs,
    .n_slots = 2,
    .n_params = 2,
    .slots = params,
    .param_floats = 2,
    .arena_fixed = FIXED,
    .arena_per_sample = 1,
    FAKE_DESCRIPTOR_ENTRIES,
};
