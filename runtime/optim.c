/* optim.c: optimizers and gradient processing over the flat parameter, gradient and state
 * buffers.
 *
 * Every optimizer is one row of a table: its name, one function saying how many state
 * arrays (of one float per parameter float) it keeps, and one step function that is a
 * single loop over the buffers, allocating nothing. The train program sizes and zeroes
 * the state from the row and never needs to know more. Math is float, as in the generated
 * code, so results match a hand computation in float. The rules, exactly:
 *
 *   sgd       w -= lr*g
 *   momentum  v = m*v + g;  w -= lr*v                        (PyTorch's SGD momentum)
 *   nesterov  v = m*v - lr*g;  w += m*v - lr*g               (the seed's rule)
 *   adagrad   a += g^2;  w -= lr*g / (sqrt(a) + eps)         (a starts at 0; eps 1e-7)
 *   rmsprop   s = rho*s + (1-rho)*g^2
 *             centered: c = rho*c + (1-rho)*g;  d = sqrt(s - c^2) + eps, else sqrt(s) + eps
 *             momentum m > 0: b = m*b + g/d;  w -= lr*b,   else w -= lr*g/d
 *             (PyTorch's placement of eps, Keras's defaults rho 0.9, eps 1e-7)
 *   adam      m1 = b1*m1 + (1-b1)*g;  m2 = b2*m2 + (1-b2)*g^2
 *             w -= lr * (m1/(1-b1^t)) / (sqrt(m2/(1-b2^t)) + eps)
 *             (Kingma & Ba / PyTorch, with Keras's eps 1e-7 rather than PyTorch's 1e-8)
 *   adamw     w -= lr*wd*w, then adam                         (PyTorch's AdamW)
 */
#include <math.h>

#include "nnrt_internal.h"

typedef void (*StepFn)(const RtOptConfig *c, float *w, const float *g, float *state,
                       int64_t n, int64_t t);

static void sgd_step(const RtOptConfig *c, float *w, const float *g, float *state, int64_t n,
                     int64_t t) {
  (void)state, (void)t;
  float lr = c->lr;
  for (int64_t i = 0; i < n; i++) w[i] -= lr * g[i];
}

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

static void nesterov_step(const RtOptConfig *c, float *w, const float *g, float *state,
                          int64_t n, int64_t t) {
  (void)t;
  float lr = c->lr, mu = c->momentum;
  for (int64_t i = 0; i < n; i++) {
    float v = mu * state[i] - lr * g[i];
    state[i] = v;
    w[i] = w[i] + mu * v - lr * g[i];
  }
}

static void adagrad_step(const RtOptConfig *c, float *w, const float *g, float *state,
                         int64_t n, int64_t t) {
  (void)t;
  float lr = c->lr, eps = c->eps;
  for (int64_t i = 0; i < n; i++) {
    float a = state[i] + g[i] * g[i];
    state[i] = a;
    w[i] -= lr * g[i] / (sqrtf(a) + eps);
  }
}

/* State: s, then b if momentum > 0, then c if centered. */
static void rmsprop_step(const RtOptConfig *c, float *w, const float *g, float *state,
                         int64_t n, int64_t t) {
  (void)t;
  float lr = c->lr, rho = c->rho, eps = c->eps, mu = c->momentum;
  float *s = state, *b = mu > 0 ? state + n : NULL, *cg = NULL;
  if (c->centered) cg = state + (mu > 0 ? 2 : 1) * n;
  for (int64_t i = 0; i < n; i++) {
    float si = rho * s[i] + (1 - rho) * g[i] * g[i];
    s[i] = si;
    float var = si;
    if (cg) {
      float ci = rho * cg[i] + (1 - rho) * g[i];
      cg[i] = ci;
      var = si - ci * ci;
    }
    float d = sqrtf(var) + eps;
    if (b) {
      float bi = mu * b[i] + g[i] / d;
      b[i] = bi;
      w[i] -= lr * bi;
    } else {
      w[i] -= lr * g[i] / d;
    }
  }
}

/* State: m1, then m2. */
static void adam_step(const RtOptConfig *c, float *w, const float *g, float *state, int64_t n,
                      int64_t t) {
  float lr = c->lr, b1 = c->beta1, b2 = c->beta2, eps = c->eps;
  float bc1 = 1 - powf(b1, (float)t), bc2 = 1 - powf(b2, (float)t);
  float *m1 = state, *m2 = state + n;
  for (int64_t i = 0; i < n; i++) {
    float a = b1 * m1[i] + (1 - b1) * g[i];
    float v = b2 * m2[i] + (1 - b2) * g[i] * g[i];
    m1[i] = a, m2[i] = v;
    w[i] -= lr * (a / bc1) / (sqrtf(v / bc2) + eps);
  }
}

static void adamw_step(const RtOptConfig *c, float *w, const float *g, float *state,
                       int64_t n, int64_t t) {
  float decay = 1 - c->lr * c->weight_decay;
  if (c->weight_decay != 0)
    for (int64_t i = 0; i < n; i++) w[i] *= decay;
  adam_step(c, w, g, state, n, t);
}

static int zero_states(const RtOptConfig *c) { (void)c; return 0; }
static int one_state(const RtOptConfig *c) { (void)c; return 1; }
static int two_states(const RtOptConfig *c) { (void)c; return 2; }
static int rmsprop_states(const RtOptConfig *c) { return 1 + (c->momentum > 0) + !!c->centered; }

static const struct {
  const char *name;
  int (*states)(const RtOptConfig *c);
  StepFn step;
} optimizers[RT_OPT_COUNT] = {
    [RT_OPT_SGD] = {"sgd", zero_states, sgd_step},
    [RT_OPT_MOMENTUM] = {"momentum", one_state, momentum_step},
    [RT_OPT_NESTEROV] = {"nesterov", one_state, nesterov_step},
    [RT_OPT_ADAGRAD] = {"adagrad", one_state, adagrad_step},
    [RT_OPT_RMSPROP] = {"rmsprop", rmsprop_states, rmsprop_step},
    [RT_OPT_ADAM] = {"adam", two_states, adam_step},
    [RT_OPT_ADAMW] = {"adamw", two_states, adamw_step},
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

const char *rt_optim_names(void) {
  return "sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw";
}

int rt_optim_state_count(const RtOptConfig *c) { return optimizers[c->kind].states(c); }

void rt_optim_step(const RtOptConfig *c, float *w, const float *g, float *state, int64_t n,
                   int64_t t) {
  optimizers[c->kind].step(c, w, g, state, n, t);
}

double rt_grad_norm(const float *g, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += (double)g[i] * (double)g[i];
  return sqrt(s);
}

void rt_grad_scale(float *g, int64_t n, float s) {
  for (int64_t i = 0; i < n; i++) g[i] *= s;
}

void rt_grad_regularize(float *g, const float *w, int64_t n, float l2, float l1) {
  if (l2 != 0)
    for (int64_t i = 0; i < n; i++) g[i] += l2 * w[i];
  if (l1 != 0)
    for (int64_t i = 0; i < n; i++) g[i] += w[i] > 0 ? l1 : w[i] < 0 ? -l1 : 0.0f;
}
