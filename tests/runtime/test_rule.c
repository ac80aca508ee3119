/* test_rule.c: the runtime's side of update rules (rule.c) and whole-gradient processing
 * (grad.c): finding rules and hyperparameters by name, checking a setting against its
 * domain as nnc does, and spelling it back. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nnrt_internal.h"

static const nnrt_hyper_desc hypers[] = {
    {"lr", NNRT_HYPER_NUMBER, 1, 1, 0, 1.0 / 0.0, 0.01},
    {"momentum", NNRT_HYPER_NUMBER, 0, 1, 0, 1, 0.9},
    {"centered", NNRT_HYPER_BOOL, 0, 0, 0, 1, 0},
    {"weight_decay", NNRT_HYPER_NUMBER, 0, 1, 0, 1.0 / 0.0, 0},
    {"shift", NNRT_HYPER_NUMBER, 1, 1, -1.0 / 0.0, 1.0 / 0.0, -2},
};
static const nnrt_rule_desc rules[] = {{"plain", 1, hypers, 0, NULL}, {"mine", 5, hypers, 0, NULL}};

int main(void) {
  nnrt_model_desc m = {.abi_version = NNRT_ABI_VERSION, .n_rules = 2, .rules = rules};
  CHECK(rt_rule_find(&m, "mine", 4) == 1);
  CHECK(rt_rule_find(&m, "plain", 5) == 0);
  CHECK(rt_rule_find(&m, "min", 3) == -1);
  CHECK(rt_hyper_find(&rules[1], "weight-decay", 12) == 3);
  CHECK(rt_hyper_find(&rules[1], "weight_decay", 12) == 3);
  CHECK(rt_hyper_find(&rules[0], "momentum", 8) == -1);
  CHECK(rt_hyper_known(&m, "momentum", 8) && !rt_hyper_known(&m, "rho", 3));

  double v = -1;
  CHECK(rt_hyper_parse(&hypers[0], "0.5", &v) == 0 && v == 0.5);
  CHECK(rt_hyper_parse(&hypers[0], "0", &v) == -1);     /* (0, inf) */
  CHECK(rt_hyper_parse(&hypers[0], "inf", &v) == -1);
  CHECK(rt_hyper_parse(&hypers[0], "1e999", &v) == -1);
  CHECK(rt_hyper_parse(&hypers[0], "0.1x", &v) == -1);
  CHECK(rt_hyper_parse(&hypers[0], "", &v) == -1);
  CHECK(rt_hyper_parse(&hypers[0], " 1", &v) == -1);
  CHECK(rt_hyper_parse(&hypers[0], "true", &v) == -1);   /* a number is not a bool */
  CHECK(rt_hyper_parse(&hypers[1], "0", &v) == 0 && v == 0); /* [0, 1) */
  CHECK(rt_hyper_parse(&hypers[1], "1", &v) == -1);
  CHECK(rt_hyper_parse(&hypers[2], "true", &v) == 0 && v == 1);
  CHECK(rt_hyper_parse(&hypers[2], "false", &v) == 0 && v == 0);
  CHECK(rt_hyper_parse(&hypers[2], "1", &v) == 0 && v == 1);
  CHECK(rt_hyper_parse(&hypers[2], "0.5", &v) == -1);
  CHECK(rt_hyper_parse(&hypers[4], "-1e30", &v) == 0 && v == -1e30);

  char buf[128];
  rt_hyper_domain(&hypers[0], buf, sizeof buf);
  CHECK_STR(buf, "a number in (0, inf)");
  rt_hyper_domain(&hypers[1], buf, sizeof buf);
  CHECK_STR(buf, "a number in [0, 1)");
  rt_hyper_domain(&hypers[2], buf, sizeof buf);
  CHECK_STR(buf, "true or false");
  rt_hyper_domain(&hypers[4], buf, sizeof buf);
  CHECK_STR(buf, "a number");
  rt_hyper_format(&hypers[0], 0.1, buf, sizeof buf);
  CHECK_STR(buf, "0.1");
  rt_hyper_format(&hypers[0], 1.0 / 3, buf, sizeof buf);
  CHECK(strtod(buf, NULL) == 1.0 / 3);
  rt_hyper_format(&hypers[2], 1, buf, sizeof buf);
  CHECK_STR(buf, "true");
  rt_rule_names(&m, buf, sizeof buf);
  CHECK_STR(buf, "plain, mine");
  rt_hyper_names(&rules[1], buf, sizeof buf);
  CHECK_STR(buf, "lr, momentum, centered, weight_decay, shift");

  float g[3] = {3, -4, 0};
  CHECK_NEAR(rt_grad_norm(g, 3), 5.0, 1e-12);
  rt_grad_scale(g, 3, 0.5f);
  CHECK(g[0] == 1.5f && g[1] == -2.0f && g[2] == 0);
  return check_done("rule");
}
