/* optim.c: optimizers over the flat parameter, gradient and state buffers.
 *
 * Every optimizer is one row of a table: its name, how many floats of state it keeps per
 * parameter float, and one step function that is a single loop over the buffers. Adding
 * Nesterov, Adagrad, RMSprop or Adam is one enum value, one step function and one row;
 * the train program sizes and zeroes the state from the row and never needs to know more.
 * Math is float, as in the generated code, so results match a hand computation in float.
 */
#include "nnrt_internal.h"

typedef void (*StepFn)(const RtOptConfig *c, float *w, const float *g, float *state,
                       int64_t n, int64_t t);

/* w -= lr * g */
static void sgd_step(const RtOptConfig *c, float *w, const float *g, float *state, int64_t n,
                     int64_t t) {
  (void)state, (void)t;
  float lr = c->lr;
  for (int64_t i = 0; i < n; i++) w[i] -= lr * g[i];
}

/* Classical momentum in PyTorch's convention (the velocity accumulates raw gradients, the
 * learning rate scales it on use): v = m*v + g; w -= lr*v. state = v. */
static void momentum_step(const RtOptConfig *c, float *w, const float *g, float *state,
                          int64_t n, int64_t t) {
  (void)t;
  float lr = c->lr, mu = c->momentum;
  for (int64_t i = 0; i < n; i++) {
    float v = mu * state[i] + g[i];
    state[i] = v;
    w[i] -= lr * v;
  }
}

static const struct {
  const char *name;
  int state_per_param;
  StepFn step;
} optimizers[RT_OPT_COUNT] = {
    [RT_OPT_SGD] = {"sgd", 0, sgd_step},
    [RT_OPT_MOMENTUM] = {"momentum", 1, momentum_step},
};

int rt_optim_parse(const char *name, RtOptKind *out) {
  for (int k = 0; k < RT_OPT_COUNT; k++) {
    const char *a = optimizers[k].name, *b = name;
    while (*a && *a == *b) a++, b++;
    if (*a == 0 && *b == 0) {
      *out = (RtOptKind)k;
      return 0;
    }
  }
  return -1;
}

const char *rt_optim_name(RtOptKind k) { return optimizers[k].name; }

const char *rt_optim_names(void) { return "sgd, momentum"; }

int rt_optim_state_per_param(RtOptKind k) { return optimizers[k].state_per_param; }

void rt_optim_step(const RtOptConfig *c, float *w, const float *g, float *state, int64_t n,
                   int64_t t) {
  optimizers[c->kind].step(c, w, g, state, n, t);
}
