/* data.c: data sources, FORMAT:PATH[,PATH...], and binding arrays to the model's inputs.
 *
 * A source names one file per input in declaration order (idx, npy), or one CSV file for
 * all inputs. Without a FORMAT: prefix each file's format is detected from its content
 * (after inflating gzip): the IDX magic (00 00 type rank), the NPY magic (\x93NUMPY); when
 * neither matches, the name decides (.npy, or MNIST's *-ubyte / .idx, whose reader then
 * says what is wrong), else CSV text. Arrays are checked against the descriptor as they are bound: the per-sample
 * shape (equal dimensions, or equal element counts when either side is flat), the sample
 * count against the other files, u8 inputs' values in 0..255 and class labels in
 * 0..classes-1. For predict, the feature inputs' files alone are enough.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnrt_internal.h"

static int is_idx(const RtBytes *b) {
  const unsigned char *p = b->p;
  if (b->len < 4 || p[0] || p[1] || p[3] < 1 || p[3] > NNRT_MAX_RANK + 1) return 0;
  return p[2] == 0x08 || p[2] == 0x09 || p[2] == 0x0B || p[2] == 0x0C || p[2] == 0x0D ||
         p[2] == 0x0E;
}

static int is_npy(const RtBytes *b) { return b->len >= 6 && memcmp(b->p, "\x93NUMPY", 6) == 0; }

/* The format a file's name suggests when its content matched none: .npy, or IDX by
 * MNIST's naming (-idx1-ubyte, .idx); else CSV. */
static RtFormat by_name(const char *path) {
  size_t n = strlen(path);
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  if ((n >= 4 && strcmp(path + n - 4, ".npy") == 0) ||
      (n >= 7 && strcmp(path + n - 7, ".npy.gz") == 0))
    return RT_FMT_NPY;
  if (strstr(base, "ubyte") || strstr(base, ".idx")) return RT_FMT_IDX;
  return RT_FMT_CSV;
}

int rt_data_bind(const char *name, RtArray *a, const nnrt_model_desc *m, int32_t i,
                 RtDataset *d, char *err, size_t errlen) {
  const nnrt_tensor_desc *t = &m->inputs[i];
  int64_t n = a->dims[0], per = 1;
  for (int32_t k = 1; k < a->rank; k++) per *= a->dims[k];
  int32_t frank = a->rank - 1;
  const int64_t *fdims = a->dims + 1;
  int same = frank == t->rank;
  for (int32_t k = 0; same && k < frank; k++) same = fdims[k] == t->dims[k];
  char type[96], shape[96];
  rt_type_str(t, type, sizeof type);
  if (!same && !(per == t->size && (frank <= 1 || t->rank <= 1))) {
    rt_dims_str(fdims, frank, shape, sizeof shape);
    snprintf(err, errlen,
             "%s: error: each sample has shape %s (%lld value%s), but input '%s' is %s (%lld "
             "value%s)",
             name, shape, (long long)per, per == 1 ? "" : "s", t->name, type,
             (long long)t->size, t->size == 1 ? "" : "s");
    return -1;
  }
  if (n == 0) {
    snprintf(err, errlen, "%s: error: no samples", name);
    return -1;
  }
  int64_t count = n * per;
  if (t->dtype == NNRT_U8 || t->dtype == NNRT_CLASS) {
    double hi = t->dtype == NNRT_U8 ? 255 : (double)t->classes - 1;
    for (int64_t k = 0; k < count; k++) {
      double v = a->store == RT_STORE_U8    ? ((const unsigned char *)a->data)[k]
                 : a->store == RT_STORE_I32 ? ((const int32_t *)a->data)[k]
                                            : ((const float *)a->data)[k];
      if (v == floor(v) && v >= 0 && v <= hi) continue;
      long long off = (long long)(a->data_offset + k * a->file_elsize);
      if (t->dtype == NNRT_CLASS)
        snprintf(err, errlen,
                 "%s: error: sample %lld (byte offset %lld): label %.9g is out of range for "
                 "input '%s' (%s: 0..%lld)",
                 name, (long long)(k / per), off, v, t->name, type, (long long)t->classes - 1);
      else
        snprintf(err, errlen,
                 "%s: error: sample %lld (byte offset %lld): value %.9g is not an integer in "
                 "0..255, but input '%s' is u8",
                 name, (long long)(k / per), off, v, t->name);
      return -1;
    }
    /* Checked values are stored compactly: u8 inputs as bytes, labels as i32. */
    RtStore want = t->dtype == NNRT_U8 ? RT_STORE_U8 : a->store == RT_STORE_U8 ? RT_STORE_U8
                                                                               : RT_STORE_I32;
    if ((int32_t)want != a->store) {
      void *p = malloc((size_t)count * (want == RT_STORE_U8 ? 1 : 4) + 1);
      if (!p) {
        snprintf(err, errlen, "%s: error: out of memory", name);
        return -1;
      }
      for (int64_t k = 0; k < count; k++) {
        double v = a->store == RT_STORE_I32 ? ((const int32_t *)a->data)[k]
                                            : ((const float *)a->data)[k];
        if (want == RT_STORE_U8)
          ((unsigned char *)p)[k] = (unsigned char)v;
        else
          ((int32_t *)p)[k] = (int32_t)v;
      }
      free(a->block);
      a->block = a->data = p;
      a->store = want;
    }
  }
  free(d->block[i]);
  d->block[i] = a->block;
  d->data[i] = a->data;
  d->store[i] = a->store;
  a->block = a->data = NULL;
  rt_huge_pages(d->data[i], (size_t)count * (d->store[i] == RT_STORE_U8 ? 1 : 4));
  return 0;
}

int rt_data_load(const char *spec, const nnrt_model_desc *m, const RtCsvOptions *co,
                 RtDataset *d, char *err, size_t errlen) {
  RtFormat fmt = RT_FMT_AUTO;
  const char *colon = strchr(spec, ':');
  if (colon) {
    size_t k = (size_t)(colon - spec);
    if (k == 3 && strncmp(spec, "csv", 3) == 0) fmt = RT_FMT_CSV;
    if (k == 3 && strncmp(spec, "idx", 3) == 0) fmt = RT_FMT_IDX;
    if (k == 3 && strncmp(spec, "npy", 3) == 0) fmt = RT_FMT_NPY;
    if (fmt != RT_FMT_AUTO) spec = colon + 1;
  }
  /* Split the paths. */
  size_t slen = strlen(spec);
  char *buf = malloc(slen + 1);
  if (buf) memcpy(buf, spec, slen + 1);
  int npaths = 0;
  char *paths[64];
  if (!buf) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  for (char *p = buf; npaths < 64;) {
    paths[npaths++] = p;
    char *c = strchr(p, ',');
    if (!c) break;
    *c = 0;
    p = c + 1;
  }
  int rc = -1;
  int32_t n_features = 0;
  for (int32_t i = 0; i < m->n_inputs; i++) n_features += m->inputs[i].role != NNRT_ROLE_TARGET;
  for (int k = 0; k < npaths; k++)
    if (!*paths[k]) {
      snprintf(err, errlen, "data source '%s' has an empty file name", spec);
      goto out;
    }

  RtBytes b = {0};
  if (fmt == RT_FMT_CSV && npaths != 1) {
    snprintf(err, errlen,
             "data source '%s' names %d files, but CSV data is one file holding every input's "
             "columns",
             spec, npaths);
    goto out;
  }
  if (npaths == 1 && fmt != RT_FMT_IDX && fmt != RT_FMT_NPY) {
    if (rt_file_read(paths[0], &b, err, errlen)) goto out;
    if (fmt == RT_FMT_CSV || (!is_idx(&b) && !is_npy(&b) && by_name(paths[0]) == RT_FMT_CSV)) {
      rc = rt_csv_parse(paths[0], (const char *)b.p, b.len, m, co, d, err, errlen);
      rt_bytes_free(&b);
      goto out;
    }
  }
  int features_only = co && co->features_only && npaths == n_features &&
                      n_features != m->n_inputs;
  if (npaths != m->n_inputs && !features_only) {
    rt_bytes_free(&b);
    size_t used = (size_t)snprintf(err, errlen, "data source '%s' names %d file%s, but the "
                                   "model's inputs ", spec, npaths, npaths == 1 ? "" : "s");
    for (int32_t i = 0; i < m->n_inputs && used < errlen; i++)
      used += (size_t)snprintf(err + used, errlen - used, "%s%s",
                               i == 0 ? "" : i == m->n_inputs - 1 ? " and " : ", ",
                               m->inputs[i].name);
    if (used < errlen)
      snprintf(err + used, errlen - used, " take one file each, in that order%s",
               co && co->features_only && n_features != m->n_inputs
                   ? " (or one per feature input)" : "");
    goto out;
  }
  int k = 0;
  const char *first = NULL;
  for (int32_t i = 0; i < m->n_inputs; i++) {
    if (features_only && m->inputs[i].role == NNRT_ROLE_TARGET) continue;
    const char *path = paths[k++];
    if (!b.p && rt_file_read(path, &b, err, errlen)) goto out;
    RtArray a;
    RtFormat f = fmt;
    if (f == RT_FMT_AUTO) {
      f = is_idx(&b) ? RT_FMT_IDX : is_npy(&b) ? RT_FMT_NPY : RT_FMT_AUTO;
      if (f == RT_FMT_AUTO && by_name(path) != RT_FMT_CSV) f = by_name(path);
      if (f == RT_FMT_AUTO) {
        snprintf(err, errlen,
                 "%s: error: neither an IDX nor an NPY file (by its first bytes), and CSV data "
                 "is one file for all inputs; name the format as idx:, npy: or csv:",
                 path);
        rt_bytes_free(&b);
        goto out;
      }
    }
    if ((f == RT_FMT_IDX ? rt_idx_parse : rt_npy_parse)(path, &b, &a, err, errlen)) goto out;
    if (rt_data_bind(path, &a, m, i, d, err, errlen)) {
      rt_array_free(&a);
      goto out;
    }
    if (!first) {
      first = path;
      d->n_samples = a.dims[0];
    } else if (a.dims[0] != d->n_samples) {
      snprintf(err, errlen,
               "%s: error: %lld samples, but %s has %lld; every input's file must hold the same "
               "samples in the same order",
               path, (long long)a.dims[0], first, (long long)d->n_samples);
      goto out;
    }
  }
  rc = 0;
out:
  free(buf);
  return rc;
}
