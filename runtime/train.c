/* train.c: the train program: check the model, settle the options, load the data, then
 * run the epochs and report.
 *
 * Everything the loop touches (parameters, gradients, optimizer state, the arena, one
 * batch buffer per input, the sample permutation) is allocated once before the first
 * epoch, sized for max_batch = min(batch, samples); the loop itself allocates nothing, so
 * a step costs exactly the model's train_step, one gather and one optimizer pass.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnrt_internal.h"

/* n floats, 64-byte aligned and zeroed; NULL if n overflows or memory is short. */
static float *alloc_floats(int64_t n) {
  if (n < 0 || (uint64_t)n > (SIZE_MAX - 64) / sizeof(float)) return NULL;
  size_t bytes = ((size_t)n * sizeof(float) + 63) / 64 * 64;
  if (bytes == 0) bytes = 64;
  float *p = aligned_alloc(64, bytes);
  if (p) memset(p, 0, bytes);
  return p;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct Buffers {
  float *params, *grads, *state, *arena;
  float **batch; /* [n_inputs] */
  int64_t *perm;
} Buffers;

static void free_buffers(Buffers *b, int32_t n_inputs) {
  free(b->params);
  free(b->grads);
  free(b->state);
  free(b->arena);
  if (b->batch)
    for (int32_t i = 0; i < n_inputs; i++) free(b->batch[i]);
  free(b->batch);
  free(b->perm);
}

static int alloc_buffers(Buffers *b, const nnrt_model_desc *m, const RtOptions *o,
                         const RtDataset *d, int64_t max_batch, char *err, size_t errlen) {
  memset(b, 0, sizeof *b);
  int64_t pf = m->param_floats;
  int64_t spp = rt_optim_state_per_param(o->optimizer);
  int64_t arena = -1;
  if (m->arena_per_sample == 0 || max_batch <= (INT64_MAX - m->arena_fixed) / m->arena_per_sample)
    arena = m->arena_fixed + m->arena_per_sample * max_batch;
  b->params = alloc_floats(pf);
  b->grads = alloc_floats(pf);
  b->state = spp && pf > INT64_MAX / spp ? NULL : alloc_floats(pf * spp);
  b->arena = alloc_floats(arena);
  b->batch = calloc((size_t)m->n_inputs, sizeof *b->batch);
  b->perm = (uint64_t)d->n_samples > SIZE_MAX / sizeof(int64_t)
                ? NULL
                : malloc((size_t)d->n_samples * sizeof(int64_t));
  int ok = b->params && b->grads && b->state && b->arena && b->batch && b->perm;
  for (int32_t i = 0; ok && i < m->n_inputs; i++)
    ok = (b->batch[i] = alloc_floats(max_batch * m->inputs[i].size)) != NULL;
  if (!ok) {
    snprintf(err, errlen,
             "out of memory for the training buffers (%lld parameters, an arena of %lld "
             "floats, batches of %lld)",
             (long long)pf, (long long)arena, (long long)max_batch);
    return -1;
  }
  return 0;
}

/* Runs the epochs; returns the exit status. */
static int train(const nnrt_model_desc *m, const RtOptions *o, const RtDataset *d,
                 Buffers *b, int64_t max_batch, FILE *log, const char *prog) {
  RtRng init_rng, shuffle_rng;
  rt_rng_seed(&init_rng, o->seed, RT_STREAM_INIT);
  rt_rng_seed(&shuffle_rng, o->seed, RT_STREAM_SHUFFLE);
  rt_init_params(m, b->params, &init_rng);
  rt_perm_identity(b->perm, d->n_samples);
  RtOptConfig oc = {o->optimizer, (float)o->lr, (float)o->momentum};
  int64_t n = d->n_samples, t = 0;

  for (int64_t epoch = 1; epoch <= o->epochs; epoch++) {
    double start = now(), loss_sum = 0;
    rt_shuffle(b->perm, n, &shuffle_rng);
    int64_t step = 0;
    for (int64_t first = 0; first < n; first += max_batch) {
      int64_t count = n - first < max_batch ? n - first : max_batch;
      rt_gather(d, b->perm + first, count, b->batch);
      float loss = m->train_step(b->params, b->grads, (const float *const *)b->batch, b->arena,
                                 count, max_batch);
      step++;
      if (!isfinite(loss)) {
        fprintf(stderr,
                "%s: error: loss became %s at epoch %lld, step %lld; try a lower learning "
                "rate (--lr)\n",
                prog, isnan(loss) ? "nan" : loss > 0 ? "inf" : "-inf", (long long)epoch,
                (long long)step);
        return RT_EXIT_ERROR;
      }
      loss_sum += (double)loss * (double)count;
      rt_optim_step(&oc, b->params, b->grads, b->state, m->param_floats, ++t);
    }
    double elapsed = now() - start;
    double mean = loss_sum / (double)n;
    double rate = (double)n / (elapsed > 1e-9 ? elapsed : 1e-9);
    if (!o->quiet) rt_log_epoch(stdout, epoch, o->epochs, mean, rate);
    if (log && rt_log_row(log, epoch, mean, rate)) {
      fprintf(stderr, "%s: error: cannot write the log: %s\n", o->log, strerror(errno));
      return RT_EXIT_ERROR;
    }
  }
  rt_log_params(stdout, m, b->params);
  return RT_EXIT_OK;
}

int rt_main(const nnrt_model_desc *m, int argc, char **argv) {
  const char *prog = argc > 0 && argv[0] && *argv[0] ? argv[0] : "train";
  const char *slash = strrchr(prog, '/');
  if (slash && slash[1]) prog = slash + 1;
  char err[RT_ERR_MAX];

  if (rt_check_model(m, err, sizeof err)) {
    fprintf(stderr, "%s: error: %s\n", prog, err);
    return RT_EXIT_ERROR;
  }
  RtOptions o;
  int rc = rt_cli_parse(argc, argv, m, &o, err, sizeof err);
  if (rc) {
    fprintf(stderr, "%s: error: %s\n", prog, err);
    return rc;
  }
  if (o.help) {
    rt_cli_help(stdout, prog, m);
    return RT_EXIT_OK;
  }
  if (o.version) {
    rt_cli_version(stdout, m);
    return RT_EXIT_OK;
  }

  RtDataset d;
  if (rt_dataset_init(&d, m)) {
    fprintf(stderr, "%s: error: out of memory\n", prog);
    return RT_EXIT_ERROR;
  }
  Buffers b = {0};
  FILE *log = NULL;
  rc = RT_EXIT_ERROR;
  if (rt_csv_load(o.data, m, &d, err, sizeof err)) {
    fprintf(stderr, "%s\n", err); /* already "file:line: error: ..." */
    goto done;
  }
  int64_t max_batch = o.batch < d.n_samples ? o.batch : d.n_samples;
  if (alloc_buffers(&b, m, &o, &d, max_batch, err, sizeof err)) {
    fprintf(stderr, "%s: error: %s\n", prog, err);
    goto done;
  }
  if (o.log && !(log = rt_log_open(o.log, err, sizeof err))) {
    fprintf(stderr, "%s\n", err);
    goto done;
  }
  rc = train(m, &o, &d, &b, max_batch, log, prog);
done:
  if (log && fclose(log) && rc == RT_EXIT_OK) {
    fprintf(stderr, "%s: error: cannot write the log: %s\n", o.log, strerror(errno));
    rc = RT_EXIT_ERROR;
  }
  free_buffers(&b, m->n_inputs);
  rt_dataset_free(&d);
  return rc;
}
