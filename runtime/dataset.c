/* dataset.c: the in-memory data set, its seeded shuffle, and batch gathering.
 *
 * Samples stay where the loader put them, in the type the file stored them in where the
 * input allows (a u8 image stays bytes: 47 MB for MNIST rather than 188 MB of floats); an
 * epoch walks a permutation of sample indices, and a batch is gathered by converting the
 * rows it names into per-input float buffers that were allocated once. Gathering costs a
 * copy, but it gives the model the dense row-major float batch the ABI promises, whatever
 * the order and the stored type.
 */
#define _DEFAULT_SOURCE /* madvise */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nnrt_internal.h"

#if defined(__linux__) && !defined(MADV_COLLAPSE)
#define MADV_COLLAPSE 25 /* Linux 6.1; glibc 2.36's headers do not name it */
#endif

void rt_huge_pages(const void *p, size_t n) {
#if defined(MADV_HUGEPAGE)
  const uintptr_t huge = (uintptr_t)2 << 20;
  uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1), hi = ((uintptr_t)p + n) & ~(huge - 1);
  if (hi <= lo) return; /* less than one whole huge page inside */
  madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
  madvise((void *)lo, hi - lo, MADV_COLLAPSE); /* now, not whenever khugepaged gets to it */
#else
  (void)p;
  (void)n;
#endif
}

int rt_dataset_init(RtDataset *d, const nnrt_model_desc *m) {
  memset(d, 0, sizeof *d);
  d->n_inputs = m->n_inputs;
  size_t n = (size_t)(m->n_inputs > 0 ? m->n_inputs : 1);
  d->size = calloc(n, sizeof *d->size);
  d->store = calloc(n, sizeof *d->store);
  d->data = calloc(n, sizeof *d->data);
  d->block = calloc(n, sizeof *d->block);
  if (!d->size || !d->store || !d->data || !d->block) {
    rt_dataset_free(d);
    return -1;
  }
  for (int32_t i = 0; i < m->n_inputs; i++) d->size[i] = m->inputs[i].size;
  return 0;
}

void rt_dataset_free(RtDataset *d) {
  if (d->block)
    for (int32_t i = 0; i < d->n_inputs; i++) free(d->block[i]);
  free(d->block);
  free(d->data);
  free(d->store);
  free(d->size);
  memset(d, 0, sizeof *d);
}

static size_t store_size(int32_t store) {
  return store == RT_STORE_U8 ? 1 : store == RT_STORE_I32 ? sizeof(int32_t) : sizeof(float);
}

int rt_dataset_alloc(RtDataset *d, int32_t i, RtStore store, int64_t n) {
  size_t el = store_size(store);
  free(d->block[i]);
  d->block[i] = d->data[i] = NULL;
  d->store[i] = RT_STORE_NONE;
  if (n < 0 || d->size[i] <= 0 || (uint64_t)n > SIZE_MAX / el / (uint64_t)d->size[i])
    return -1;
  size_t bytes = (size_t)n * (size_t)d->size[i] * el;
  void *p = malloc(bytes ? bytes : 1);
  if (!p) return -1;
  d->block[i] = d->data[i] = p;
  d->store[i] = store;
  return 0;
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
    float *dst = out[i];
    if (!dst) continue;
    switch (d->store[i]) {
    case RT_STORE_F32: {
      const float *src = d->data[i];
      for (int64_t k = 0; k < count; k++)
        memcpy(dst + k * s, src + idx[k] * s, (size_t)s * sizeof(float));
      break;
    }
    case RT_STORE_U8: {
      const unsigned char *src = d->data[i];
      for (int64_t k = 0; k < count; k++) {
        const unsigned char *row = src + idx[k] * s;
        if (k + 4 < count) { /* shuffled rows are scattered over the set: fetch ahead */
          const unsigned char *ahead = src + idx[k + 4] * s;
          for (int64_t j = 0; j < s; j += 64) __builtin_prefetch(ahead + j);
        }
        float *o = dst + k * s;
        for (int64_t j = 0; j < s; j++) o[j] = (float)row[j];
      }
      break;
    }
    case RT_STORE_I32: {
      const int32_t *src = d->data[i];
      for (int64_t k = 0; k < count; k++) {
        const int32_t *row = src + idx[k] * s;
        float *o = dst + k * s;
        for (int64_t j = 0; j < s; j++) o[j] = (float)row[j];
      }
      break;
    }
    default: break; /* not loaded: predict leaves targets out */
    }
  }
}

const char *rt_dtype_name(int32_t dtype) {
  switch (dtype) {
  case NNRT_F32: return "f32";
  case NNRT_U8: return "u8";
  case NNRT_CLASS: return "class";
  }
  return "?";
}

void rt_dims_str(const int64_t *dims, int32_t rank, char *buf, size_t len) {
  size_t used = (size_t)snprintf(buf, len, "[");
  for (int32_t k = 0; k < rank && used < len; k++)
    used += (size_t)snprintf(buf + used, len - used, "%s%lld", k ? ", " : "", (long long)dims[k]);
  if (used < len) snprintf(buf + used, len - used, "]");
}

void rt_type_str(const nnrt_tensor_desc *t, char *buf, size_t len) {
  if (t->dtype == NNRT_CLASS) {
    snprintf(buf, len, "class[%lld]", (long long)t->classes);
    return;
  }
  size_t used = (size_t)snprintf(buf, len, "%s", rt_dtype_name(t->dtype));
  for (int32_t k = 0; k < t->rank && used < len; k++)
    used += (size_t)snprintf(buf + used, len - used, "%s%lld%s", k ? ", " : "[",
                             (long long)t->dims[k], k == t->rank - 1 ? "]" : "");
}
