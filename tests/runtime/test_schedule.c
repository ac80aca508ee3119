/* test_schedule.c: every learning-rate schedule against values worked out by hand from its
 * formula (schedule.c's comment), with lr 0.1 and 10 updates per epoch (E) and 100 in the
 * run (T); plus warm-up and milestone parsing. */
#include "check.h"
#include "nnrt_internal.h"

static RtSchedule base(RtSchedKind k) {
  RtSchedule s = {0};
  s.kind = k, s.lr = 0.1, s.gamma = 0.1, s.power = 1, s.step_size = 1;
  s.steps_per_epoch = 10, s.total_steps = 100;
  return s;
}

#define AT(s, t, want) CHECK_NEAR(rt_schedule_lr(&(s), (t)), (want), 1e-12)

int main(void) {
  RtSchedKind k;
  static const char *names[] = {"constant", "step", "multistep", "exponential", "inverse",
                                "polynomial", "cosine"};
  for (int i = 0; i < RT_SCHED_COUNT; i++) {
    CHECK(rt_schedule_parse(names[i], &k) == 0 && k == (RtSchedKind)i);
    CHECK_STR(rt_schedule_name((RtSchedKind)i), names[i]);
  }
  CHECK(rt_schedule_parse("cos", &k) == -1);

  RtSchedule s = base(RT_SCHED_CONSTANT);
  AT(s, 0, 0.1);
  AT(s, 1000, 0.1);

  /* step, step_size 2 epochs = 20 updates, gamma 0.5: 0.1 * 0.5^floor(t/20). */
  s = base(RT_SCHED_STEP);
  s.step_size = 2, s.gamma = 0.5;
  AT(s, 0, 0.1);
  AT(s, 19, 0.1);
  AT(s, 20, 0.05);
  AT(s, 39, 0.05);
  AT(s, 40, 0.025);
  AT(s, 99, 0.00625); /* floor(99/20) = 4: 0.1/16 */

  /* multistep at epochs 3 and 6 (updates 30 and 60), gamma 0.1. */
  s = base(RT_SCHED_MULTISTEP);
  CHECK(rt_milestones_parse("3,6", s.milestones, &s.n_milestones) == 0 && s.n_milestones == 2);
  AT(s, 0, 0.1);
  AT(s, 29, 0.1);
  AT(s, 30, 0.01);
  AT(s, 59, 0.01);
  AT(s, 60, 0.001);
  AT(s, 99, 0.001);

  /* exponential, gamma 0.5 per epoch (D = E = 10): 0.1 * 0.5^(t/10). */
  s = base(RT_SCHED_EXPONENTIAL);
  s.gamma = 0.5;
  AT(s, 0, 0.1);
  AT(s, 5, 0.1 / sqrt(2.0)); /* 0.0707106781 */
  AT(s, 10, 0.05);
  AT(s, 25, 0.1 * 0.5 * 0.5 * 0.5 * sqrt(2.0)); /* 0.5^2.5 = 0.1767766953 */
  s.decay_steps = 4, s.gamma = 0.9; /* 0.1 * 0.9^(t/4) */
  AT(s, 8, 0.081);

  /* inverse, gamma 0.5, power 2, D = E: 0.1 / (1 + t/20)^2. */
  s = base(RT_SCHED_INVERSE);
  s.gamma = 0.5, s.power = 2;
  AT(s, 0, 0.1);
  AT(s, 5, 0.064);          /* 0.1 / 1.25^2 */
  AT(s, 10, 0.1 / 2.25);    /* 0.0444... */
  AT(s, 30, 0.016);         /* 0.1 / 2.5^2 */
  /* Caffe's inv with decay_steps 1: 0.1 (1 + 0.01 t)^-0.75; at t = 100: 0.1 * 2^-0.75. */
  s.gamma = 0.01, s.power = 0.75, s.decay_steps = 1;
  AT(s, 100, 0.1 * pow(2.0, -0.75));

  /* polynomial to end_lr 0.01 over the run (T = 100), power 2. */
  s = base(RT_SCHED_POLYNOMIAL);
  s.power = 2, s.end_lr = 0.01;
  AT(s, 0, 0.1);
  AT(s, 25, 0.060625); /* 0.09 * 0.75^2 + 0.01 */
  AT(s, 50, 0.0325);   /* 0.09 * 0.25 + 0.01 */
  AT(s, 100, 0.01);
  AT(s, 150, 0.01);

  /* cosine to 0 over T = 100: 0.05 (1 + cos(pi t / 100)). */
  s = base(RT_SCHED_COSINE);
  AT(s, 0, 0.1);
  AT(s, 25, 0.05 * (1 + sqrt(0.5))); /* 0.0853553391 */
  AT(s, 50, 0.05);
  AT(s, 75, 0.05 * (1 - sqrt(0.5)));
  AT(s, 100, 0.0);
  AT(s, 120, 0.0);
  /* ... over decay_steps 40 to end_lr 0.001: at t = 20 the midpoint 0.0505. */
  s.decay_steps = 40, s.end_lr = 0.001;
  AT(s, 20, 0.0505);

  /* Warm-up over 4 updates multiplies by (t+1)/4, then the schedule runs on. */
  s = base(RT_SCHED_CONSTANT);
  s.warmup = 4;
  AT(s, 0, 0.025);
  AT(s, 1, 0.05);
  AT(s, 2, 0.075);
  AT(s, 3, 0.1);
  AT(s, 4, 0.1);
  s = base(RT_SCHED_STEP);
  s.warmup = 4, s.step_size = 1, s.gamma = 0.5;
  AT(s, 1, 0.05);
  AT(s, 10, 0.05);

  /* Milestones. */
  int64_t ms[RT_MAX_MILESTONES];
  int32_t n;
  CHECK(rt_milestones_parse("5", ms, &n) == 0 && n == 1 && ms[0] == 5);
  CHECK(rt_milestones_parse("1,2,10", ms, &n) == 0 && n == 3 && ms[2] == 10);
  CHECK(rt_milestones_parse("3,3", ms, &n) == -1);
  CHECK(rt_milestones_parse("6,3", ms, &n) == -1);
  CHECK(rt_milestones_parse("0", ms, &n) == -1);
  CHECK(rt_milestones_parse("", ms, &n) == -1);
  CHECK(rt_milestones_parse("3,", ms, &n) == -1);
  CHECK(rt_milestones_parse("3, 6", ms, &n) == -1);
  CHECK(rt_milestones_parse("-1", ms, &n) == -1);
  return check_done("schedule");
}
