/* schedule.c: learning-rate schedules, each a pure function of the update count.
 *
 * t counts optimizer updates already done (0 for the first), so a resumed run computes
 * the same rates as an uninterrupted one from its checkpointed t alone. With E = the
 * updates per epoch and T = the updates of the whole run:
 *
 *   constant     lr
 *   step         lr * gamma^floor(t / (step_size*E))              (PyTorch StepLR, epochs)
 *   multistep    lr * gamma^(milestones m with t >= m*E)          (PyTorch MultiStepLR, epochs)
 *   exponential  lr * gamma^(t / D), D = decay_steps or E         (Keras ExponentialDecay)
 *   inverse      lr * (1 + gamma * t / D)^-power, D as above      (Caffe "inv"; Keras
 *                                                                  InverseTimeDecay at power 1)
 *   polynomial   (lr - end) * (1 - min(t, D)/D)^power + end, D = decay_steps or T
 *                                                                 (Keras PolynomialDecay)
 *   cosine       end + (lr - end) * (1 + cos(pi * min(t, D)/D)) / 2, D as polynomial
 *                                                                 (Keras CosineDecay)
 *
 * Warm-up multiplies the rate by (t+1)/warmup while t < warmup (linear from lr/warmup).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnrt_internal.h"

static const char *const names[RT_SCHED_COUNT] = {
    [RT_SCHED_CONSTANT] = "constant",       [RT_SCHED_STEP] = "step",
    [RT_SCHED_MULTISTEP] = "multistep",     [RT_SCHED_EXPONENTIAL] = "exponential",
    [RT_SCHED_INVERSE] = "inverse",         [RT_SCHED_POLYNOMIAL] = "polynomial",
    [RT_SCHED_COSINE] = "cosine",
};

int rt_schedule_parse(const char *name, RtSchedKind *out) {
  for (int k = 0; k < RT_SCHED_COUNT; k++)
    if (strcmp(names[k], name) == 0) {
      *out = (RtSchedKind)k;
      return 0;
    }
  return -1;
}

const char *rt_schedule_name(RtSchedKind k) { return names[k]; }

const char *rt_schedule_names(void) {
  return "constant, step, multistep, exponential, inverse, polynomial, cosine";
}

int rt_milestones_parse(const char *s, int64_t *out, int32_t *n) {
  *n = 0;
  const char *p = s;
  int64_t prev = 0;
  for (;;) {
    if (*p < '0' || *p > '9' || *n >= RT_MAX_MILESTONES) return -1;
    errno = 0;
    char *end;
    long long v = strtoll(p, &end, 10);
    if (errno == ERANGE || v <= prev) return -1;
    out[(*n)++] = prev = v;
    if (*end == 0) return 0;
    if (*end != ',') return -1;
    p = end + 1;
  }
}

double rt_schedule_lr(const RtSchedule *s, int64_t t) {
  double lr = s->lr, E = (double)(s->steps_per_epoch > 0 ? s->steps_per_epoch : 1);
  double D = (double)s->decay_steps;
  switch (s->kind) {
  case RT_SCHED_CONSTANT:
  case RT_SCHED_COUNT: break;
  case RT_SCHED_STEP:
    lr *= pow(s->gamma, floor((double)t / ((double)s->step_size * E)));
    break;
  case RT_SCHED_MULTISTEP: {
    int k = 0;
    for (int32_t i = 0; i < s->n_milestones; i++) k += (double)t >= (double)s->milestones[i] * E;
    lr *= pow(s->gamma, k);
    break;
  }
  case RT_SCHED_EXPONENTIAL:
    lr *= pow(s->gamma, (double)t / (D > 0 ? D : E));
    break;
  case RT_SCHED_INVERSE:
    lr *= pow(1 + s->gamma * (double)t / (D > 0 ? D : E), -s->power);
    break;
  case RT_SCHED_POLYNOMIAL:
  case RT_SCHED_COSINE: {
    if (!(D > 0)) D = (double)(s->total_steps > 0 ? s->total_steps : 1);
    double x = (double)t < D ? (double)t / D : 1.0;
    double f = s->kind == RT_SCHED_POLYNOMIAL ? pow(1 - x, s->power)
                                              : 0.5 * (1 + cos(3.14159265358979323846 * x));
    lr = (s->lr - s->end_lr) * f + s->end_lr;
    break;
  }
  }
  if (t < s->warmup) lr *= (double)(t + 1) / (double)s->warmup;
  return lr;
}
