/* test_optim.c: each optimizer against four steps computed independently, with a
 * different gradient at every step so that state handling shows; and the gradient
 * processing (global norm, scaling, L2/L1).
 *
 * Expected values: sgd and momentum worked out by hand (below); the others from a
 * double-precision Python transcription of the update rules as PyTorch documents them
 * (torch.optim.SGD(nesterov) aside: nesterov is the seed's rule, v = m*v - lr*g;
 * w += m*v - lr*g), with Keras's eps 1e-7 and adagrad's initial accumulator 0:
 *   adagrad  a += g^2; w -= lr g / (sqrt(a) + eps)
 *   rmsprop  s = rho s + (1-rho) g^2; [c = rho c + (1-rho) g; d = sqrt(s - c^2) + eps]
 *            else d = sqrt(s) + eps; [b = m b + g/d; w -= lr b] else w -= lr g/d
 *   adam     m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; w -= lr (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)
 *   adamw    w *= 1 - lr wd, then adam
 * The runtime computes in float, so the tolerance is 2e-6. */
#include "check.h"
#include "nnrt_internal.h"

static const float G[4][2] = {{0.5f, -1.0f}, {0.25f, 2.0f}, {-1.0f, 0.5f}, {2.0f, -0.25f}};

static void run(const char *what, RtOptConfig c, int steps, const double want[][2]) {
  float w[2] = {1.0f, -2.0f}, state[8] = {0};
  CHECK(rt_optim_state_count(&c) * 2 <= 8);
  for (int t = 0; t < steps; t++) {
    rt_optim_step(&c, w, G[t], state, 2, t + 1);
    if (fabs(w[0] - want[t][0]) > 2e-6 || fabs(w[1] - want[t][1]) > 2e-6)
      printf("  (%s, step %d)\n", what, t + 1);
    CHECK_NEAR(w[0], want[t][0], 2e-6);
    CHECK_NEAR(w[1], want[t][1], 2e-6);
  }
}

static RtOptConfig cfg(RtOptKind k) {
  RtOptConfig c = {k, 0.1f, 0.9f, 0.9f, 1e-7f, 0.9f, 0.999f, 0, 0};
  return c;
}

int main(void) {
  RtOptKind k;
  static const char *names[] = {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam",
                                "adamw"};
  for (int i = 0; i < RT_OPT_COUNT; i++) {
    CHECK(rt_optim_parse(names[i], &k) == 0 && k == (RtOptKind)i);
    CHECK_STR(rt_optim_name((RtOptKind)i), names[i]);
  }
  CHECK(rt_optim_parse("adamax", &k) == -1);
  CHECK(rt_optim_parse("sg", &k) == -1);
  CHECK(rt_optim_parse("sgdx", &k) == -1);
  CHECK(rt_optim_parse("", &k) == -1);
  CHECK_STR(rt_optim_names(), "sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw");
  RtOptConfig c = cfg(RT_OPT_SGD);
  CHECK(rt_optim_state_count(&c) == 0);
  c = cfg(RT_OPT_MOMENTUM);
  CHECK(rt_optim_state_count(&c) == 1);
  c = cfg(RT_OPT_RMSPROP);
  c.momentum = 0;
  CHECK(rt_optim_state_count(&c) == 1);
  c.momentum = 0.5f, c.centered = 1;
  CHECK(rt_optim_state_count(&c) == 3);
  c = cfg(RT_OPT_ADAM);
  CHECK(rt_optim_state_count(&c) == 2);

  /* sgd, lr 0.1: w -= 0.1 g. */
  static const double sgd[4][2] = {{0.95, -1.9}, {0.925, -2.1}, {1.025, -2.15}, {0.825, -2.125}};
  run("sgd", cfg(RT_OPT_SGD), 4, sgd);
  /* momentum 0.9, lr 0.1: v1 = (0.5, -1); v2 = 0.9 v1 + g2 = (0.7, 1.1);
   * v3 = 0.9 v2 + g3 = (-0.37, 1.49); v4 = 0.9 v3 + g4 = (1.667, 1.091); w -= 0.1 v. */
  static const double mom[4][2] = {
      {0.95, -1.9}, {0.88, -2.01}, {0.917, -2.159}, {0.7503, -2.2681}};
  run("momentum", cfg(RT_OPT_MOMENTUM), 4, mom);
  /* nesterov 0.9, lr 0.1; step 1 by hand: v = -0.05, w = 1 + 0.9(-0.05) - 0.05 = 0.905. */
  static const double nes[4][2] = {
      {0.905, -1.81}, {0.817, -2.109}, {0.9503, -2.2931}, {0.60027, -2.36629}};
  run("nesterov", cfg(RT_OPT_NESTEROV), 4, nes);
  static const double ada[4][2] = {{0.90000002, -1.90000001},
                                   {0.855278668, -1.98944273},
                                   {0.942565817, -2.01126451},
                                   {0.855793638, -2.00041799}};
  run("adagrad", cfg(RT_OPT_ADAGRAD), 4, ada);
  c = cfg(RT_OPT_RMSPROP);
  c.momentum = 0;
  static const double rms[4][2] = {{0.683772434, -1.68377233},
                                   {0.536330565, -1.96948658},
                                   {0.818188415, -2.04273141},
                                   {0.539030729, -2.00441246}};
  run("rmsprop", c, 4, rms);
  c.momentum = 0.5f;
  static const double rms_m[4][2] = {{0.683772434, -1.68377233},
                                     {0.378216782, -1.81137275},
                                     {0.507296806, -1.94841778},
                                     {0.292679132, -1.97862135}};
  run("rmsprop momentum 0.5", c, 4, rms_m);
  c.momentum = 0, c.centered = 1;
  static const double rms_c[4][2] = {{0.666666889, -1.66666678},
                                     {0.504786017, -1.95597543},
                                     {0.788189208, -2.03102993},
                                     {0.501153493, -1.9921637}};
  run("rmsprop centered", c, 4, rms_c);
  c.momentum = 0.5f;
  static const double rms_cm[4][2] = {{0.666666889, -1.66666678},
                                      {0.338119461, -1.78930882},
                                      {0.457248939, -1.92568434},
                                      {0.229777962, -1.95500588}};
  run("rmsprop centered momentum 0.5", c, 4, rms_cm);
  static const double adam[4][2] = {{0.90000002, -1.90000001},
                                    {0.80678208, -1.93661036},
                                    {0.827417779, -1.97817548},
                                    {0.785380482, -2.00571189}};
  run("adam", cfg(RT_OPT_ADAM), 4, adam);
  c = cfg(RT_OPT_ADAMW);
  c.weight_decay = 0.1f;
  static const double adamw[4][2] = {{0.89000002, -1.88000001},
                                     {0.78788208, -1.89781036},
                                     {0.800638958, -1.92039737},
                                     {0.750595272, -1.92872981}};
  run("adamw", c, 4, adamw);
  /* adamw without decay is adam. */
  c.weight_decay = 0;
  run("adamw, no decay", c, 4, adam);

  /* Gradient processing: norm of (3, -4, 0) is 5; scaling; L2 0.5 and L1 0.25. */
  float g[3] = {3, -4, 0}, w[3] = {2, -1, 0};
  CHECK_NEAR(rt_grad_norm(g, 3), 5.0, 1e-12);
  rt_grad_scale(g, 3, 0.5f);
  CHECK(g[0] == 1.5f && g[1] == -2.0f && g[2] == 0);
  rt_grad_regularize(g, w, 3, 0.5f, 0.25f);
  /* g + 0.5 w + 0.25 sign(w): 1.5+1+0.25, -2-0.5-0.25, 0+0+0 */
  CHECK(g[0] == 2.75f && g[1] == -2.75f && g[2] == 0);
  rt_grad_regularize(g, w, 3, 0, 0);
  CHECK(g[0] == 2.75f && g[1] == -2.75f && g[2] == 0);
  return check_done("optim");
}
