/* grad.c: operations on the whole gradient, for the runs that need it before the update:
 * clipping by its global norm (the norm accumulated in double), and the scaling that
 * clipping and gradient accumulation do. The update rules themselves are the model's,
 * compiled from the language (the apply_update entry point). */
#include <math.h>

#include "nnrt_internal.h"

double rt_grad_norm(const float *g, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += (double)g[i] * (double)g[i];
  return sqrt(s);
}

void rt_grad_scale(float *g, int64_t n, float s) {
  for (int64_t i = 0; i < n; i++) g[i] *= s;
}
