/* fake_model.h: what the hand-written fake models share. They stand in for what nnc
 * generates so that the train program can be tested end to end without the compiler.
 * They hold the runtime to the ABI's promises: a 64-byte aligned arena of the promised
 * size (every float of it is written, so AddressSanitizer catches a short one) and a
 * batch in 1..max_batch. A broken promise aborts, which lit reports as a crash.
 *
 * A fake writes its step as three functions in the shape of the old ABI (train_step,
 * evaluate, predict) and FAKE_ENTRY_POINTS makes nnrt_step entry points of them. Its
 * update rules are four of stdlib/optim.nn's (sgd, momentum, rmsprop, adam) written in C
 * here, with the same hyperparameters, defaults and domains: enough to test the runtime's
 * flags, checkpoints and loops; the rules themselves are tested compiled from the
 * language (tests/e2e, tests/interp). */
#ifndef FAKE_MODEL_H
#define FAKE_MODEL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "nnrt.h"

static inline void fake_check_call(float *arena, int64_t batch, int64_t max_batch) {
  if ((uintptr_t)arena % 64 != 0 || batch < 1 || batch > max_batch) {
    fprintf(stderr, "fake model: ABI violation (arena %p, batch %lld of max %lld)\n",
            (void *)arena, (long long)batch, (long long)max_batch);
    abort();
  }
  int64_t n = nnrt_model.arena_fixed + nnrt_model.arena_per_sample * max_batch;
  for (int64_t i = 0; i < n; i++) arena[i] = 0;
}

#define FAKE_INF (1.0 / 0.0)
#define FAKE_LR(d) {"lr", NNRT_HYPER_NUMBER, 1, 1, 0, FAKE_INF, d}
#define FAKE_DECAY {"weight_decay", NNRT_HYPER_NUMBER, 0, 1, 0, FAKE_INF, 0}, {"l1", NNRT_HYPER_NUMBER, 0, 1, 0, FAKE_INF, 0}
static const nnrt_hyper_desc fake_sgd_h[] = {FAKE_LR(0.01), FAKE_DECAY};
static const nnrt_hyper_desc fake_momentum_h[] = {FAKE_LR(0.01), {"momentum", NNRT_HYPER_NUMBER, 0, 1, 0, 1, 0.9}, FAKE_DECAY};
static const nnrt_hyper_desc fake_rmsprop_h[] = {
    FAKE_LR(0.001), {"rho", NNRT_HYPER_NUMBER, 1, 1, 0, 1, 0.9}, {"eps", NNRT_HYPER_NUMBER, 1, 1, 0, FAKE_INF, 1e-7},
    {"momentum", NNRT_HYPER_NUMBER, 0, 1, 0, 1, 0}, {"centered", NNRT_HYPER_BOOL, 0, 0, 0, 1, 0}, FAKE_DECAY};
static const nnrt_hyper_desc fake_adam_h[] = {
    FAKE_LR(0.001), {"beta1", NNRT_HYPER_NUMBER, 1, 1, 0, 1, 0.9}, {"beta2", NNRT_HYPER_NUMBER, 1, 1, 0, 1, 0.999},
    {"eps", NNRT_HYPER_NUMBER, 1, 1, 0, FAKE_INF, 1e-7}, FAKE_DECAY};
static const nnrt_state_desc fake_momentum_s[] = {{"velocity", NNRT_INIT_ZEROS, 0, 0}};
static const nnrt_state_desc fake_rmsprop_s[] = {
    {"square_avg", NNRT_INIT_ZEROS, 0, 0}, {"grad_avg", NNRT_INIT_ZEROS, 0, 0}, {"momentum_buffer", NNRT_INIT_ZEROS, 0, 0}};
static const nnrt_state_desc fake_adam_s[] = {{"exp_avg", NNRT_INIT_ZEROS, 0, 0}, {"exp_avg_sq", NNRT_INIT_ZEROS, 0, 0}};
static const nnrt_rule_desc fake_rules[] = {
    {"sgd", 3, fake_sgd_h, 0, NULL},
    {"momentum", 4, fake_momentum_h, 1, fake_momentum_s},
    {"rmsprop", 7, fake_rmsprop_h, 3, fake_rmsprop_s},
    {"adam", 6, fake_adam_h, 2, fake_adam_s},
};

/* The rule on elements [0, n) of one parameter; state k of element i at st[k * pf + i]. */
static inline void fake_rule(int32_t rule, const float *h, int64_t t, float *w, const float *grad, float *st, int64_t n,
                             int64_t pf) {
  const float *decay = h + (rule == 0 ? 1 : rule == 1 ? 2 : rule == 2 ? 5 : 4);
  for (int64_t i = 0; i < n; i++) {
    float g = grad[i] + decay[0] * w[i] + decay[1] * (float)((w[i] > 0) - (w[i] < 0));
    switch (rule) {
    case 0: w[i] = w[i] - h[0] * g; break;
    case 1:
      st[i] = h[1] * st[i] + g;
      w[i] = w[i] - h[0] * st[i];
      break;
    case 2: {
      float *sq = st + i, *ga = st + pf + i, *mb = st + 2 * pf + i;
      *sq = h[1] * *sq + (1 - h[1]) * g * g;
      *ga = h[1] * *ga + (1 - h[1]) * g;
      float d = sqrtf(*sq - h[4] * *ga * *ga) + h[2];
      *mb = h[3] * *mb + g / d;
      w[i] = w[i] - h[0] * *mb;
      break;
    }
    default: {
      float *m = st + i, *v = st + pf + i;
      *m = h[1] * *m + (1 - h[1]) * g;
      *v = h[2] * *v + (1 - h[2]) * g * g;
      w[i] = w[i] - h[0] * (*m / (1 - powf(h[1], (float)t))) / (sqrtf(*v / (1 - powf(h[2], (float)t))) + h[3]);
    }
    }
  }
}

static inline float fake_apply_update(nnrt_step *s) {
  const nnrt_model_desc *m = &nnrt_model;
  s->nonfinite = 0;
  for (int32_t p = 0; p < m->n_params; p++) {
    const nnrt_slot_desc *d = &m->slots[p];
    for (int64_t k = 0; k < d->size && !s->nonfinite; k++)
      if (!isfinite(s->grads[d->offset + k])) s->nonfinite = p + 1;
    fake_rule(s->rule, s->hyper, s->step, s->params + d->offset, s->grads + d->offset, s->state + d->offset, d->size,
              m->param_floats);
  }
  return 0;
}

/* nnrt_step entry points from the fake's step functions. */
#define FAKE_ENTRY_POINTS(TRAIN_STEP, EVALUATE, PREDICT)                                                    \
  static float fake_gradient(nnrt_step *s) {                                                               \
    return TRAIN_STEP(s->params, s->grads, s->inputs, s->metrics, s->arena, s->batch, s->max_batch);        \
  }                                                                                                         \
  static float fake_train(nnrt_step *s) {                                                                  \
    float loss = fake_gradient(s);                                                                          \
    fake_apply_update(s);                                                                                   \
    return loss;                                                                                            \
  }                                                                                                         \
  static float fake_evaluate(nnrt_step *s) {                                                               \
    return EVALUATE(s->params, s->inputs, s->metrics, s->arena, s->batch, s->max_batch);                    \
  }                                                                                                         \
  static float fake_predict(nnrt_step *s) {                                                                \
    PREDICT(s->params, s->inputs, s->outputs, s->arena, s->batch, s->max_batch);                            \
    return 0;                                                                                               \
  }

/* The descriptor's fields that every fake fills the same way. */
#define FAKE_DESCRIPTOR_ENTRIES                                                                             \
  .n_rules = 4, .rules = fake_rules, .train = fake_train, .gradient = fake_gradient,                      \
  .apply_update = fake_apply_update, .evaluate = fake_evaluate, .predict = fake_predict

/* A predict for a fake without outputs. */
static inline void fake_no_predict(const float *p, const float *const *in, float *const *out, float *arena,
                                   int64_t batch, int64_t max_batch) {
  (void)p, (void)in, (void)out, (void)arena, (void)batch, (void)max_batch;
}

#endif
