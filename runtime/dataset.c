/* dataset.c: the in-memory data set, its seeded shuffle, and batch gathering.
 *
 * Samples stay where the loader put them (one sample-major array per input); an epoch
 * walks a permutation of sample indices, and a batch is gathered by copying the rows it
 * names into per-input buffers that were allocated once. Gathering costs a copy, but it
 * gives the model the dense row-major batch the ABI promises, whatever the order.
 */
#include <stdlib.h>
#include <string.h>

#include "nnrt_internal.h"

int rt_dataset_init(RtDataset *d, const nnrt_model_desc *m) {
  memset(d, 0, sizeof *d);
  d->n_inputs = m->n_inputs;
  d->size = calloc((size_t)m->n_inputs, sizeof *d->size);
  d->data = calloc((size_t)m->n_inputs, sizeof *d->data);
  if (!d->size || !d->data) {
    rt_dataset_free(d);
    return -1;
  }
  for (int32_t i = 0; i < m->n_inputs; i++) d->size[i] = m->inputs[i].size;
  return 0;
}

void rt_dataset_free(RtDataset *d) {
  if (d->data)
    for (int32_t i = 0; i < d->n_inputs; i++) free(d->data[i]);
  free(d->data);
  free(d->size);
  memset(d, 0, sizeof *d);
}

void rt_perm_identity(int64_t *perm, int64_t n) {
  for (int64_t i = 0; i < n; i++) perm[i] = i;
}

void rt_shuffle(int64_t *perm, int64_t n, RtRng *r) {
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)rt_rng_below(r, (uint64_t)i + 1);
    int64_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
}

void rt_gather(const RtDataset *d, const int64_t *idx, int64_t count, float *const *out) {
  for (int32_t i = 0; i < d->n_inputs; i++) {
    int64_t s = d->size[i];
    const float *src = d->data[i];
    float *dst = out[i];
    for (int64_t k = 0; k < count; k++)
      memcpy(dst + k * s, src + idx[k] * s, (size_t)s * sizeof(float));
  }
}
