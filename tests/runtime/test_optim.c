/* test_optim.c: each optimizer against three steps worked out by hand, with a different
 * gradient at every step so that state handling shows. */
#include "check.h"
#include "nnrt_internal.h"

static const float G[3][2] = {{0.5f, -1.0f}, {0.25f, 2.0f}, {-1.0f, 0.5f}};

static void run(RtOptKind kind, const double want[3][2]) {
  RtOptConfig c = {kind, 0.1f, 0.9f};
  float w[2] = {1.0f, -2.0f}, state[2] = {0, 0};
  for (int t = 0; t < 3; t++) {
    rt_optim_step(&c, w, G[t], state, 2, t + 1);
    CHECK_NEAR(w[0], want[t][0], 1e-6);
    CHECK_NEAR(w[1], want[t][1], 1e-6);
  }
}

int main(void) {
  RtOptKind k;
  CHECK(rt_optim_parse("sgd", &k) == 0 && k == RT_OPT_SGD);
  CHECK(rt_optim_parse("momentum", &k) == 0 && k == RT_OPT_MOMENTUM);
  CHECK(rt_optim_parse("adam", &k) == -1);
  CHECK(rt_optim_parse("sg", &k) == -1);
  CHECK(rt_optim_parse("sgdx", &k) == -1);
  CHECK(rt_optim_parse("", &k) == -1);
  CHECK_STR(rt_optim_name(RT_OPT_MOMENTUM), "momentum");
  CHECK(rt_optim_state_per_param(RT_OPT_SGD) == 0);
  CHECK(rt_optim_state_per_param(RT_OPT_MOMENTUM) == 1);

  /* sgd, lr 0.1: w -= 0.1 g. */
  static const double sgd[3][2] = {{0.95, -1.9}, {0.925, -2.1}, {1.025, -2.15}};
  run(RT_OPT_SGD, sgd);
  /* momentum 0.9, lr 0.1: v1 = (0.5, -1); v2 = 0.9 v1 + g2 = (0.7, 1.1);
   * v3 = 0.9 v2 + g3 = (-0.37, 1.49); w -= 0.1 v each step. */
  static const double mom[3][2] = {{0.95, -1.9}, {0.88, -2.01}, {0.917, -2.159}};
  run(RT_OPT_MOMENTUM, mom);
  return check_done("optim");
}
