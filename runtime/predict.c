/* predict.c: the eval and predict subcommands, which use a checkpoint's parameters.
 *
 *   train eval --load FILE [--data SOURCE]    loss and metrics over a data set (by default
 *                                             the model's validation data, else its data)
 *   train predict --load FILE --data SOURCE [--out FILE]
 *                                             the model's outputs per sample: CSV (a header of
 *                                             output names, name_k for element k of a
 *                                             non-scalar output), or NPY if FILE ends in .npy
 *                                             ([samples, dims...] for one output, else
 *                                             [samples, total] with the outputs side by side)
 *
 * predict needs only the feature inputs: their files (or CSV columns) alone are enough.
 * Both run in batches of --batch (all: one batch), with the same arena rule as training.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nnrt_internal.h"

typedef struct Setup {
  RtDataset d;
  RtTrainState ck;
  float *arena, **in;
  int64_t batch;
} Setup;

static void teardown(Setup *s, const nnrt_model_desc *m) {
  if (s->in)
    for (int32_t i = 0; i < m->n_inputs; i++) free(s->in[i]);
  free(s->in);
  free(s->arena);
  rt_ckpt_free(&s->ck);
  rt_dataset_free(&s->d);
}

/* Loads the checkpoint and the data, and allocates the batch buffers and the arena. */
static int setup(Setup *s, const char *prog, const nnrt_model_desc *m, const RtOptions *o,
                 const char *spec, int features_only) {
  char err[RT_ERR_MAX];
  memset(s, 0, sizeof *s);
  if (rt_ckpt_load(o->load, m, &s->ck, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  if (rt_load_source(prog, spec, m, o, features_only, &s->d)) return -1;
  int64_t n = s->d.n_samples;
  s->batch = o->batch == 0 || o->batch > n ? n : o->batch;
  s->arena = rt_alloc_floats(m->arena_fixed + m->arena_per_sample * s->batch);
  s->in = calloc((size_t)m->n_inputs, sizeof *s->in);
  int ok = s->arena && s->in;
  for (int32_t i = 0; ok && i < m->n_inputs; i++)
    if (s->d.store[i] != RT_STORE_NONE)
      ok = (s->in[i] = rt_alloc_floats(s->batch * m->inputs[i].size)) != NULL;
  if (!ok) {
    fprintf(stderr, "%s: error: out of memory for batches of %lld\n", prog, (long long)s->batch);
    return -1;
  }
  return 0;
}

int rt_eval_main(const char *prog, const nnrt_model_desc *m, const RtOptions *o) {
  const char *spec = o->from[0] == RT_FROM_FLAG || !o->val ? o->data : o->val;
  if (!spec) spec = o->val;
  Setup s;
  int rc = RT_EXIT_ERROR;
  float *metrics = rt_alloc_floats(m->n_metrics);
  double *sums = calloc((size_t)m->n_metrics + 1, sizeof(double));
  int64_t *idx = NULL;
  if (setup(&s, prog, m, o, spec, 0) || !metrics || !sums) goto done;
  int64_t n = s.d.n_samples;
  if (!(idx = malloc((size_t)n * sizeof *idx))) goto done;
  rt_perm_identity(idx, n);
  double loss = 0;
  for (int64_t first = 0; first < n; first += s.batch) {
    int64_t count = n - first < s.batch ? n - first : s.batch;
    rt_gather(&s.d, idx + first, count, s.in);
    nnrt_step st = {s.ck.params, NULL, NULL, s.ck.buffers, (const float *const *)s.in, NULL, metrics, s.arena,
                    count, s.batch, s.ck.t, s.ck.epoch, o->seed, NULL, 0, 0};
    float l = m->evaluate(&st);
    loss += (double)l * (double)count;
    for (int32_t i = 0; i < m->n_metrics; i++) sums[i] += (double)metrics[i] * (double)count;
  }
  printf("loss %.6g", loss / (double)n);
  for (int32_t i = 0; i < m->n_metrics; i++)
    printf("  %s %.6g", m->metric_names[i], sums[i] / (double)n);
  printf("  (%lld samples)\n", (long long)n);
  rc = RT_EXIT_OK;
done:
  free(idx);
  free(metrics);
  free(sums);
  teardown(&s, m);
  return rc;
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

int rt_predict_main(const char *prog, const nnrt_model_desc *m, const RtOptions *o) {
  if (!m->predict || m->n_outputs < 1) {
    fprintf(stderr, "%s: error: the model '%s' has no outputs to predict\n", prog, m->name);
    return RT_EXIT_ERROR;
  }
  Setup s;
  int rc = RT_EXIT_ERROR;
  int64_t total = 0;
  for (int32_t j = 0; j < m->n_outputs; j++) total += m->outputs[j].size;
  float **outs = calloc((size_t)m->n_outputs, sizeof *outs);
  float *all = NULL;
  int64_t *idx = NULL;
  FILE *f = NULL;
  if (setup(&s, prog, m, o, o->data, 1) || !outs) goto done;
  int64_t n = s.d.n_samples;
  int ok = (idx = malloc((size_t)n * sizeof *idx)) != NULL &&
           (all = malloc((size_t)(n * total) * sizeof(float))) != NULL;
  for (int32_t j = 0; ok && j < m->n_outputs; j++)
    ok = (outs[j] = rt_alloc_floats(s.batch * m->outputs[j].size)) != NULL;
  if (!ok) {
    fprintf(stderr, "%s: error: out of memory for %lld predictions\n", prog, (long long)n);
    goto done;
  }
  rt_perm_identity(idx, n);
  for (int64_t first = 0; first < n; first += s.batch) {
    int64_t count = n - first < s.batch ? n - first : s.batch;
    rt_gather(&s.d, idx + first, count, s.in);
    nnrt_step st = {s.ck.params, NULL, NULL, s.ck.buffers, (const float *const *)s.in, outs, NULL, s.arena,
                    count, s.batch, s.ck.t, s.ck.epoch, o->seed, NULL, 0, 0};
    m->predict(&st);
    for (int64_t k = 0; k < count; k++) {
      float *row = all + (first + k) * total;
      for (int32_t j = 0; j < m->n_outputs; j++) {
        int64_t sz = m->outputs[j].size;
        memcpy(row, outs[j] + k * sz, (size_t)sz * sizeof(float));
        row += sz;
      }
    }
  }
  const char *path = o->out;
  f = path ? fopen(path, "wb") : stdout;
  if (!f) {
    fprintf(stderr, "%s: error: cannot open for writing: %s\n", path, strerror(errno));
    goto done;
  }
  int werr;
  if (path && ends_with(path, ".npy")) {
    int64_t dims[NNRT_MAX_RANK + 1] = {n, total};
    int32_t rank = 2;
    if (m->n_outputs == 1) {
      rank = 1 + m->outputs[0].rank;
      for (int32_t k = 0; k < m->outputs[0].rank; k++) dims[k + 1] = m->outputs[0].dims[k];
    }
    werr = rt_npy_write(f, all, rank, dims);
  } else {
    for (int32_t j = 0; j < m->n_outputs; j++) {
      const nnrt_tensor_desc *t = &m->outputs[j];
      for (int64_t e = 0; e < t->size; e++) {
        if (j || e) fputc(',', f);
        if (t->size == 1) fprintf(f, "%s", t->name);
        else fprintf(f, "%s_%lld", t->name, (long long)e);
      }
    }
    fputc('\n', f);
    for (int64_t k = 0; k < n; k++)
      for (int64_t e = 0; e < total; e++)
        fprintf(f, "%.9g%c", (double)all[k * total + e], e + 1 < total ? ',' : '\n');
    werr = ferror(f) ? -1 : 0;
  }
  if (fflush(f) || werr) {
    fprintf(stderr, "%s: error: cannot write: %s\n", path ? path : "stdout", strerror(errno));
    goto done;
  }
  rc = RT_EXIT_OK;
done:
  if (f && f != stdout && fclose(f) && rc == RT_EXIT_OK) {
    fprintf(stderr, "%s: error: cannot write: %s\n", path, strerror(errno));
    rc = RT_EXIT_ERROR;
  }
  if (outs)
    for (int32_t j = 0; j < m->n_outputs; j++) free(outs[j]);
  free(outs);
  free(all);
  free(idx);
  teardown(&s, m);
  return rc;
}
