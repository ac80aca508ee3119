/* init.c: parameter initialisers, read from the descriptor's param table.
 *
 * Parameters are initialised in declaration order from one generator stream, so a seed
 * determines every initial weight. Sampling is done in double and rounded once to float.
 */
#include <math.h>

#include "nnrt_internal.h"

const char *rt_init_name(int32_t kind) {
  switch (kind) {
  case NNRT_INIT_ZEROS: return "zeros";
  case NNRT_INIT_ONES: return "ones";
  case NNRT_INIT_CONSTANT: return "constant";
  case NNRT_INIT_UNIFORM: return "uniform";
  case NNRT_INIT_NORMAL: return "normal";
  case NNRT_INIT_GLOROT_UNIFORM: return "glorot_uniform";
  case NNRT_INIT_GLOROT_NORMAL: return "glorot_normal";
  case NNRT_INIT_HE_UNIFORM: return "he_uniform";
  case NNRT_INIT_HE_NORMAL: return "he_normal";
  }
  return NULL;
}

void rt_init_fill(float *x, int64_t n, int32_t kind, float a, float b, int64_t fan_in,
                  int64_t fan_out, RtRng *r) {
  switch (kind) {
  case NNRT_INIT_ZEROS:
  case NNRT_INIT_ONES:
  case NNRT_INIT_CONSTANT: {
    float v = kind == NNRT_INIT_ZEROS ? 0.0f : kind == NNRT_INIT_ONES ? 1.0f : a;
    for (int64_t i = 0; i < n; i++) x[i] = v;
    break;
  }
  case NNRT_INIT_UNIFORM:
    for (int64_t i = 0; i < n; i++) x[i] = (float)(a + (b - (double)a) * rt_rng_uniform(r));
    break;
  case NNRT_INIT_NORMAL:
    for (int64_t i = 0; i < n; i++) x[i] = (float)(a + (double)b * rt_rng_normal(r));
    break;
  case NNRT_INIT_GLOROT_UNIFORM:
  case NNRT_INIT_HE_UNIFORM: {
    double fan = kind == NNRT_INIT_HE_UNIFORM ? (double)fan_in : (double)(fan_in + fan_out);
    double limit = sqrt(6.0 / fan);
    for (int64_t i = 0; i < n; i++) x[i] = (float)(limit * (2.0 * rt_rng_uniform(r) - 1.0));
    break;
  }
  case NNRT_INIT_GLOROT_NORMAL:
  case NNRT_INIT_HE_NORMAL: {
    /* Plain (untruncated) normals, as the ABI documents. */
    double fan = kind == NNRT_INIT_HE_NORMAL ? (double)fan_in : (double)(fan_in + fan_out);
    double std = sqrt(2.0 / fan);
    for (int64_t i = 0; i < n; i++) x[i] = (float)(std * rt_rng_normal(r));
    break;
  }
  default: /* rt_check_model refused unknown kinds; zeros keep the buffer defined anyway */
    for (int64_t i = 0; i < n; i++) x[i] = 0.0f;
  }
}

void rt_init_params(const nnrt_model_desc *m, float *params, RtRng *r) {
  /* Gaps between parameters (if the compiler ever pads) are zeroed, not left garbage. */
  for (int64_t i = 0; i < m->param_floats; i++) params[i] = 0.0f;
  for (int32_t i = 0; i < m->n_params; i++) {
    const nnrt_slot_desc *p = &m->slots[i];
    int64_t fan_in = p->rank > 0 ? p->dims[0] : 1;
    int64_t fan_out = p->rank > 0 ? p->dims[p->rank - 1] : 1;
    rt_init_fill(params + p->offset, p->size, p->init, p->init_a, p->init_b, fan_in, fan_out,
                 r);
  }
}

void rt_init_state(const nnrt_model_desc *m, int32_t rule, int32_t k, float *state, RtRng *r) {
  const nnrt_state_desc *sd = &m->rules[rule].states[k];
  float *base = state + (int64_t)k * m->param_floats;
  for (int64_t i = 0; i < m->param_floats; i++) base[i] = 0.0f;
  for (int32_t i = 0; i < m->n_params; i++) {
    const nnrt_slot_desc *p = &m->slots[i];
    int64_t fan_in = p->rank > 0 ? p->dims[0] : 1;
    int64_t fan_out = p->rank > 0 ? p->dims[p->rank - 1] : 1;
    rt_init_fill(base + p->offset, p->size, sd->init, sd->init_a, sd->init_b, fan_in, fan_out, r);
  }
}

void rt_init_states(const nnrt_model_desc *m, int32_t rule, float *state, RtRng *r) {
  for (int32_t k = 0; k < m->rules[rule].n_states; k++) rt_init_state(m, rule, k, state, r);
}
