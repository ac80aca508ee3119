/* train.c: the train program: check the model, settle the options, load the data, then
 * run the epochs and report (eval and predict live in predict.c).
 *
 * Everything the loop touches (parameters, gradients, the accumulation buffer, optimizer
 * state, the arena, one batch buffer per input, the sample permutation) is allocated once
 * before the first epoch, the arena sized for max_batch = the larger of the training and
 * evaluation batches; the loop itself allocates nothing, so a step costs the model's
 * train_step, one gather and one optimizer pass.
 *
 * A step: gather the batch, then either the model's train entry point (the step with the
 * update rule applied, fused), or its gradient entry point and (every --accumulate
 * batches) the average of the accumulated gradient, clipped to --clip-norm, then its
 * apply_update; the schedule's rate goes into the rule's lr first, and the loss and every
 * gradient must be finite, or the run stops keeping nothing of the step. The state that decides what comes next
 * (epoch, position in the epoch, update count, shuffle RNG, permutation, running sums,
 * early stopping) lives in one RtTrainState, which is exactly what a checkpoint stores;
 * so a resumed run continues bit for bit. SIGINT sets a flag; the loop finishes the
 * current update, saves if --save was given and exits 130.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, sigaction */

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "nnrt_internal.h"

float *rt_alloc_floats(int64_t n) {
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

int rt_load_source(const char *prog, const char *spec, const nnrt_model_desc *m,
                   const RtOptions *o, int features_only, RtDataset *d) {
  char err[RT_ERR_MAX];
  if (rt_dataset_init(d, m)) {
    fprintf(stderr, "%s: error: out of memory\n", prog);
    return -1;
  }
  RtCsvOptions co = {',', o->columns, features_only};
  if (o->delimiter && strcmp(o->delimiter, "tab") != 0 && strcmp(o->delimiter, "\\t") != 0)
    co.delimiter = o->delimiter[0];
  else if (o->delimiter)
    co.delimiter = '\t';
  if (rt_data_load(spec, m, &co, d, err, sizeof err)) {
    /* File-level messages already start with the file name. */
    if (strstr(err, ": error: ")) fprintf(stderr, "%s\n", err);
    else fprintf(stderr, "%s: error: %s\n", prog, err);
    return -1;
  }
  if (o->limit > 0 && d->n_samples > o->limit) d->n_samples = o->limit;
  return 0;
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
}

/* The first parameter whose gradient holds a non-finite value, or -1. */
static int32_t first_bad_grad(const nnrt_model_desc *m, const float *g) {
  for (int32_t i = 0; i < m->n_params; i++) {
    const float *x = g + m->slots[i].offset;
    for (int64_t k = 0; k < m->slots[i].size; k++)
      if (!isfinite(x[k])) return i;
  }
  return -1;
}

/* Whether every g[i] is finite: an integer test of the exponent bits, which vectorises
 * (a float sum would not, and would cost as much as the optimizer step). */
static int grads_finite(const float *g, int64_t n) {
  uint32_t bad = 0;
  for (int64_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, &g[i], 4);
    bad |= (u & 0x7f800000u) == 0x7f800000u;
  }
  return !bad;
}

typedef struct Run {
  const nnrt_model_desc *m;
  const RtOptions *o;
  const char *prog;
  RtDataset train, val_set;
  const RtDataset *val; /* &val_set, &train (split) or NULL */
  int64_t n_train, n_val, batch, eval_batch, max_batch, steps_per_epoch, end;
  float *grads, *accum, *arena, *metrics;
  float **in;
  int64_t *val_idx;
  double *val_metrics, *window_metrics;
  float hyper[RT_MAX_HYPERS]; /* the rule's, as the entry points read them */
  int32_t lr_k;               /* which is the learning rate, -1: none */
  int fused;                  /* the train entry point, not gradient + apply_update */
  RtSchedule sched;
  RtTrainState st;
  FILE *log;
  int64_t saved_epoch; /* the epoch of the last checkpoint written, -1 none */
  char strings[4096];  /* the trajectory's option values */
} Run;

static int save(Run *r) {
  char err[RT_ERR_MAX];
  r->st.n_options = rt_cli_trajectory(r->o, r->m, r->st.keys, r->st.values, RT_CKPT_MAX_OPTIONS,
                                      r->strings, sizeof r->strings);
  if (rt_ckpt_save(r->o->save, r->m, &r->st, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  r->saved_epoch = r->st.epoch;
  return 0;
}

/* Loss and metrics over idx[0..n) of d, in batches of eval_batch. */
static void evaluate(Run *r, const RtDataset *d, const int64_t *idx, int64_t n, double *loss,
                     double *metrics) {
  const nnrt_model_desc *m = r->m;
  double sum = 0;
  for (int32_t i = 0; i < m->n_metrics; i++) metrics[i] = 0;
  for (int64_t first = 0; first < n; first += r->eval_batch) {
    int64_t count = n - first < r->eval_batch ? n - first : r->eval_batch;
    rt_gather(d, idx + first, count, r->in);
    nnrt_step s = {r->st.params, NULL, NULL, r->st.buffers, (const float *const *)r->in, NULL, r->metrics, r->arena,
                   count, r->max_batch, r->st.t, r->st.epoch, r->o->seed, r->hyper, r->o->rule, 0};
    float l = m->evaluate(&s);
    sum += (double)l * (double)count;
    for (int32_t i = 0; i < m->n_metrics; i++) metrics[i] += (double)r->metrics[i] * (double)count;
  }
  *loss = sum / (double)n;
  for (int32_t i = 0; i < m->n_metrics; i++) metrics[i] /= (double)n;
}

/* Prints the non-finite loss or gradient (of parameter bad, or, when bad < 0, the first
 * found in the gradient buffer) and returns the exit status. */
static int diverged(Run *r, int64_t epoch, float loss, int32_t bad) {
  const nnrt_model_desc *m = r->m;
  if (bad < 0 && !r->fused) bad = first_bad_grad(m, r->grads);
  char where[160] = "";
  if (r->saved_epoch >= 0)
    snprintf(where, sizeof where, "; the checkpoint %s (epoch %lld) is untouched", r->o->save,
             (long long)r->saved_epoch);
  const char *lv = isnan(loss) ? "nan" : loss > 0 ? "inf" : "-inf";
  if (!isfinite(loss) && bad >= 0)
    fprintf(stderr,
            "%s: error: loss became %s at epoch %lld, step %lld (the gradient of '%s' is not "
            "finite); try a lower learning rate (--lr)%s\n",
            r->prog, lv, (long long)epoch, (long long)r->st.steps, m->slots[bad].name, where);
  else if (!isfinite(loss))
    fprintf(stderr,
            "%s: error: loss became %s at epoch %lld, step %lld; try a lower learning rate "
            "(--lr)%s\n",
            r->prog, lv, (long long)epoch, (long long)r->st.steps, where);
  else
    fprintf(stderr,
            "%s: error: the gradient of '%s' became non-finite at epoch %lld, step %lld (loss "
            "%g); try a lower learning rate (--lr) or --clip-norm%s\n",
            r->prog, bad >= 0 ? m->slots[bad].name : "?", (long long)epoch,
            (long long)r->st.steps, (double)loss, where);
  return RT_EXIT_ERROR;
}

/* Whether the monitored value v improved on the best so far. */
static int improved(const RtOptions *o, double v, double best, int64_t best_epoch) {
  if (best_epoch == 0) return 1;
  int maximize = strstr(o->monitor, "acc") != NULL;
  return maximize ? v > best + o->min_delta : v < best - o->min_delta;
}

/* After Ctrl-C: saves if --save was given and returns the exit status. */
static int stop(Run *r, RtProgress *prog, int64_t epoch) {
  const RtOptions *o = r->o;
  if (prog->tty && !o->quiet) fputc('\n', stdout);
  fflush(stdout);
  char where[96];
  if (r->st.batch_pos == 0)
    snprintf(where, sizeof where, "after epoch %lld", (long long)r->st.epoch);
  else
    snprintf(where, sizeof where, "at epoch %lld, step %lld", (long long)epoch,
             (long long)r->st.steps);
  if (o->save && save(r) == 0)
    fprintf(stderr, "%s: interrupted %s; saved %s (resume with --load %s)\n", r->prog, where,
            o->save, o->save);
  else
    fprintf(stderr, "%s: interrupted %s%s\n", r->prog, where,
            o->save ? "; the checkpoint could not be saved" : "; nothing saved (no --save)");
  return RT_EXIT_INTERRUPTED;
}

static int loop(Run *r) {
  const nnrt_model_desc *m = r->m;
  const RtOptions *o = r->o;
  RtTrainState *st = &r->st;
  int64_t pf = m->param_floats;
  RtProgress prog = {stdout, isatty(STDOUT_FILENO), o->quiet, 0};
  double *metric_means = calloc((size_t)m->n_metrics + 1, sizeof(double));
  double wloss = 0;
  int64_t wsteps = 0;
  int rc = RT_EXIT_OK;
  /* Test hook: NNRT_TEST_SIGINT_AT_STEP=N raises SIGINT after update N, a Ctrl-C on cue. */
  const char *hook = getenv("NNRT_TEST_SIGINT_AT_STEP");
  int64_t sigint_at = hook && *hook ? atoll(hook) : -1;
  if (!metric_means) {
    fprintf(stderr, "%s: error: out of memory\n", r->prog);
    return RT_EXIT_ERROR;
  }
  for (int64_t epoch = st->epoch + 1; epoch <= o->epochs; epoch++) {
    if (st->batch_pos == 0) {
      rt_shuffle(st->perm, r->n_train, &st->shuffle);
      st->loss_sum = 0, st->seen = 0, st->steps = 0;
      for (int32_t i = 0; i < m->n_metrics; i++) st->metric_sums[i] = 0;
    }
    double start = now();
    int64_t seen0 = st->seen, micro = 0, acc_count = 0;
    wloss = 0, wsteps = 0; /* step rows summarise steps of one epoch */
    for (int32_t i = 0; i < m->n_metrics; i++) r->window_metrics[i] = 0;
    /* The rate of the latest update (what the epoch row reports if no update follows). */
    double lr = rt_schedule_lr(&r->sched, st->t > 0 ? st->t - 1 : 0);
    for (int64_t pos = st->batch_pos; pos < r->end;) {
      int64_t count = r->end - pos < r->batch ? r->end - pos : r->batch;
      rt_gather(&r->train, st->perm + pos, count, r->in);
      nnrt_step s = {st->params, r->grads, st->state, st->buffers, (const float *const *)r->in, NULL, r->metrics,
                     r->arena, count, r->max_batch, st->t + 1, epoch, o->seed, r->hyper, o->rule, 0};
      float loss;
      if (r->fused) { /* the compiled step applies the rule itself */
        lr = rt_schedule_lr(&r->sched, st->t);
        if (r->lr_k >= 0) r->hyper[r->lr_k] = (float)lr;
        loss = m->train(&s);
      } else {
        loss = m->gradient(&s);
      }
      st->steps++;
      /* train reports a non-finite gradient it has applied: nothing of the step is kept */
      if (!isfinite(loss) || s.nonfinite || (!r->fused && !grads_finite(r->grads, pf))) {
        rc = diverged(r, epoch, loss, s.nonfinite - 1);
        goto out;
      }
      st->loss_sum += (double)loss * (double)count;
      for (int32_t i = 0; i < m->n_metrics; i++)
        st->metric_sums[i] += (double)r->metrics[i] * (double)count;
      st->seen += count;
      pos += count;
      if (o->log_every > 0) {
        wloss += loss, wsteps++;
        for (int32_t i = 0; i < m->n_metrics; i++) r->window_metrics[i] += r->metrics[i];
      }
      if (r->fused) {
        st->t++;
        goto updated;
      }
      if (o->accumulate > 1) {
        /* The exact gradient of the mean loss over the accumulated samples. */
        float w = (float)count;
        if (micro == 0)
          for (int64_t k = 0; k < pf; k++) r->accum[k] = w * r->grads[k];
        else
          for (int64_t k = 0; k < pf; k++) r->accum[k] += w * r->grads[k];
        acc_count += count;
        if (++micro < o->accumulate && pos < r->end) continue;
        float s = 1.0f / (float)acc_count;
        for (int64_t k = 0; k < pf; k++) r->grads[k] = r->accum[k] * s;
        micro = 0, acc_count = 0;
      }
      if (o->clip_norm > 0) {
        double norm = rt_grad_norm(r->grads, pf);
        if (norm > o->clip_norm) rt_grad_scale(r->grads, pf, (float)(o->clip_norm / norm));
      }
      lr = rt_schedule_lr(&r->sched, st->t);
      if (r->lr_k >= 0) r->hyper[r->lr_k] = (float)lr;
      s.step = st->t + 1;
      m->apply_update(&s);
      ++st->t;
    updated:
      st->batch_pos = pos;

      double el = now() - start, rate = (double)(st->seen - seen0) / (el > 1e-9 ? el : 1e-9);
      for (int32_t i = 0; i < m->n_metrics; i++)
        metric_means[i] = st->metric_sums[i] / (double)st->seen;
      RtEpochStats es = {epoch, o->epochs, st->steps, r->steps_per_epoch,
                         st->loss_sum / (double)st->seen, metric_means, 0, 0, NULL, lr, rate, el,
                         (double)(r->end - pos) / (rate > 0 ? rate : 1)};
      rt_progress_step(&prog, m, &es);
      if (o->log_every > 0 && wsteps >= o->log_every && r->log) {
        for (int32_t i = 0; i < m->n_metrics; i++) r->window_metrics[i] /= (double)wsteps;
        if (rt_log_step_row(r->log, m, r->val != NULL, epoch, st->t, wloss / (double)wsteps,
                            r->window_metrics, lr)) {
          fprintf(stderr, "%s: error: cannot write the log: %s\n", o->log, strerror(errno));
          rc = RT_EXIT_ERROR;
          goto out;
        }
        wloss = 0, wsteps = 0;
        for (int32_t i = 0; i < m->n_metrics; i++) r->window_metrics[i] = 0;
      }
      if (sigint_at == st->t) raise(SIGINT);
      if (interrupted) {
        rc = stop(r, &prog, epoch);
        goto out;
      }
    }
    double elapsed = now() - start;
    for (int32_t i = 0; i < m->n_metrics; i++)
      metric_means[i] = st->metric_sums[i] / (double)st->seen;
    RtEpochStats es = {epoch, o->epochs, st->steps, r->steps_per_epoch,
                       st->loss_sum / (double)st->seen, metric_means, r->val != NULL, 0,
                       r->val_metrics, lr,
                       (double)(st->seen - seen0) / (elapsed > 1e-9 ? elapsed : 1e-9), elapsed, 0};
    if (r->val) {
      evaluate(r, r->val, r->val_idx, r->n_val, &es.val_loss, r->val_metrics);
      es.elapsed = now() - start;
    }
    rt_progress_epoch(&prog, m, &es);
    if (r->log && rt_log_row(r->log, m, &es, o->log_every > 0)) {
      fprintf(stderr, "%s: error: cannot write the log: %s\n", o->log, strerror(errno));
      rc = RT_EXIT_ERROR;
      goto out;
    }
    st->epoch = epoch;
    st->batch_pos = 0;
    int early = 0;
    if (o->patience > 0) {
      const char *mon = o->monitor;
      int is_val = strncmp(mon, "val_", 4) == 0;
      const char *base = is_val ? mon + 4 : mon;
      double v = is_val ? es.val_loss : es.loss;
      for (int32_t i = 0; i < m->n_metrics; i++)
        if (strcmp(base, m->metric_names[i]) == 0) v = is_val ? r->val_metrics[i] : metric_means[i];
      if (improved(o, v, st->best, st->best_epoch)) {
        st->best = v, st->best_epoch = epoch, st->wait = 0;
      } else if (++st->wait >= o->patience) {
        if (!o->quiet)
          printf("early stopping after epoch %lld: %s has not improved on %.6g (epoch %lld) for "
                 "%lld epoch%s\n",
                 (long long)epoch, mon, st->best, (long long)st->best_epoch,
                 (long long)st->wait, st->wait == 1 ? "" : "s");
        early = 1;
      }
    }
    if (o->save && o->save_every > 0 && epoch % o->save_every == 0 && epoch < o->epochs &&
        !early && save(r)) {
      rc = RT_EXIT_ERROR;
      goto out;
    }
    if (early) break;
    if (interrupted) { /* Ctrl-C during validation or the log: stop at the epoch's end */
      rc = stop(r, &prog, epoch + 1);
      goto out;
    }
  }
  if (o->save && save(r)) rc = RT_EXIT_ERROR;
out:
  free(metric_means);
  return rc;
}

/* Settles the rule's hyperparameters and the schedule from the options. */
static void configure(Run *r) {
  const RtOptions *o = r->o;
  const nnrt_rule_desc *rd = &r->m->rules[o->rule];
  for (int32_t k = 0; k < rd->n_hypers; k++) r->hyper[k] = (float)o->hyper[k];
  r->lr_k = rt_hyper_find(rd, "lr", 2);
  /* The compiled step applies the rule itself, fused with the gradient, unless something
   * must see the whole gradient first (clipping, accumulation). */
  r->fused = !o->separate_update && o->clip_norm <= 0 && o->accumulate <= 1;
  RtSchedule *s = &r->sched;
  memset(s, 0, sizeof *s);
  s->kind = o->schedule;
  s->lr = r->lr_k >= 0 ? o->hyper[r->lr_k] : 0;
  s->gamma = o->gamma;
  s->power = o->power;
  s->end_lr = o->end_lr;
  s->step_size = o->step_size;
  s->n_milestones = o->n_milestones;
  memcpy(s->milestones, o->milestone_v, sizeof s->milestones);
  s->decay_steps = o->decay_steps;
  s->warmup = o->warmup;
  s->steps_per_epoch = (r->steps_per_epoch + o->accumulate - 1) / o->accumulate;
  s->total_steps = s->steps_per_epoch * (o->epochs > 0 ? o->epochs : 1);
}

static void free_run(Run *r) {
  free(r->grads);
  free(r->accum);
  free(r->arena);
  free(r->metrics);
  if (r->in)
    for (int32_t i = 0; i < r->m->n_inputs; i++) free(r->in[i]);
  free(r->in);
  free(r->val_idx);
  free(r->val_metrics);
  free(r->window_metrics);
  free(r->st.params);
  free(r->st.buffers);
  free(r->st.state);
  free(r->st.perm);
  free(r->st.metric_sums);
  rt_dataset_free(&r->train);
  rt_dataset_free(&r->val_set);
  if (r->log) fclose(r->log);
}

int rt_train_main(const char *prog, const nnrt_model_desc *m, RtOptions *o) {
  char err[RT_ERR_MAX];
  Run r;
  memset(&r, 0, sizeof r);
  r.m = m, r.o = o, r.prog = prog, r.saved_epoch = -1;
  RtTrainState ck;
  memset(&ck, 0, sizeof ck);
  int rc = RT_EXIT_ERROR, resumed = 0;

  /* A resumed run takes the checkpoint's trajectory options where no flag overrides them. */
  if (o->load) {
    if (rt_ckpt_load(o->load, m, &ck, err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      return RT_EXIT_ERROR;
    }
    int arc = rt_cli_apply(o, m, ck.n_options, ck.keys, ck.values, RT_FROM_CHECKPOINT,
                           "the checkpoint", err, sizeof err);
    if (arc) {
      fprintf(stderr, "%s: error: %s: %s\n", prog, o->load, err);
      rt_ckpt_free(&ck);
      return arc;
    }
    resumed = 1;
  }
  /* After the checkpoint's options, which may set it. The count does not change the
   * numbers: every split is fixed by the sizes alone (tests/e2e/threads.test). */
  rt_set_threads(o->threads);
  if (rt_load_source(prog, o->data, m, o, 0, &r.train)) goto done;
  r.n_train = r.train.n_samples;
  if (o->val) {
    if (rt_load_source(prog, o->val, m, o, 0, &r.val_set)) goto done;
    r.val = &r.val_set;
    r.n_val = r.val_set.n_samples;
  } else if (o->val_split > 0) {
    /* Keras's validation_split: the last samples, before any shuffling. */
    r.n_val = (int64_t)((double)r.n_train * o->val_split);
    if (r.n_val < 1 || r.n_val >= r.n_train) {
      fprintf(stderr,
              "%s: error: --val-split %g of %lld samples leaves %lld for validation and %lld for "
              "training; both need at least one\n",
              prog, o->val_split, (long long)r.n_train, (long long)r.n_val,
              (long long)(r.n_train - r.n_val));
      goto done;
    }
    r.n_train -= r.n_val;
    r.val = &r.train;
  }
  r.batch = o->batch == 0 || o->batch > r.n_train ? r.n_train : o->batch;
  r.steps_per_epoch = o->drop_last ? r.n_train / r.batch : (r.n_train + r.batch - 1) / r.batch;
  r.end = o->drop_last ? r.steps_per_epoch * r.batch : r.n_train;
  r.eval_batch = r.val ? (r.batch < r.n_val ? r.batch : r.n_val) : 0;
  r.max_batch = r.batch > r.eval_batch ? r.batch : r.eval_batch;
  configure(&r);

  int64_t pf = m->param_floats;
  const nnrt_rule_desc *rd = &m->rules[o->rule];
  int sc = rd->n_states;
  int64_t arena = -1;
  if (m->arena_per_sample == 0 ||
      r.max_batch <= (INT64_MAX - m->arena_fixed) / m->arena_per_sample)
    arena = m->arena_fixed + m->arena_per_sample * r.max_batch;
  r.st.params = rt_alloc_floats(pf);
  r.st.buffers = rt_alloc_floats(m->buffer_floats);
  r.grads = rt_alloc_floats(pf);
  r.accum = o->accumulate > 1 ? rt_alloc_floats(pf) : NULL;
  r.st.state = rt_alloc_floats(pf * sc);
  r.st.n_states = sc;
  for (int k = 0; k < sc; k++) r.st.state_names[k] = rd->states[k].name;
  r.arena = rt_alloc_floats(arena);
  r.metrics = rt_alloc_floats(m->n_metrics);
  r.st.metric_sums = calloc((size_t)m->n_metrics + 1, sizeof(double));
  r.val_metrics = calloc((size_t)m->n_metrics + 1, sizeof(double));
  r.window_metrics = calloc((size_t)m->n_metrics + 1, sizeof(double));
  r.in = calloc((size_t)m->n_inputs, sizeof *r.in);
  r.st.perm = malloc((size_t)r.n_train * sizeof(int64_t));
  r.val_idx = malloc((size_t)(r.n_val + 1) * sizeof(int64_t));
  int ok = r.st.params && r.st.buffers && r.grads && (r.accum || o->accumulate == 1) && r.st.state && r.arena &&
           r.metrics && r.st.metric_sums && r.val_metrics && r.window_metrics && r.in &&
           r.st.perm && r.val_idx;
  for (int32_t i = 0; ok && i < m->n_inputs; i++)
    ok = (r.in[i] = rt_alloc_floats(r.max_batch * m->inputs[i].size)) != NULL;
  if (!ok) {
    fprintf(stderr,
            "%s: error: out of memory for the training buffers (%lld parameters, an arena of "
            "%lld floats, batches of %lld)\n",
            prog, (long long)pf, (long long)arena, (long long)r.max_batch);
    goto done;
  }
  for (int64_t k = 0; k < r.n_val; k++) r.val_idx[k] = r.val == &r.train ? r.n_train + k : k;
  r.st.rule = rd->name;
  r.st.n_perm = r.n_train;

  RtRng init_rng;
  rt_rng_seed(&init_rng, o->seed, RT_STREAM_INIT);
  rt_init_params(m, r.st.params, &init_rng);
  rt_init_states(m, o->rule, r.st.state, &init_rng);
  rt_rng_seed(&r.st.shuffle, o->seed, RT_STREAM_SHUFFLE);
  rt_perm_identity(r.st.perm, r.n_train);
  if (resumed) {
    if (ck.n_perm != r.n_train) {
      fprintf(stderr,
              "%s: error: %s was saved training on %lld samples, but this run has %lld; resume "
              "with the same data, --limit and --val-split\n",
              prog, o->load, (long long)ck.n_perm, (long long)r.n_train);
      goto done;
    }
    memcpy(r.st.params, ck.params, (size_t)pf * sizeof(float));
    memcpy(r.st.buffers, ck.buffers, (size_t)m->buffer_floats * sizeof(float));
    if (strcmp(ck.rule, rd->name) == 0) { /* its states by name; one it lacks starts fresh */
      for (int k = 0; k < sc; k++) {
        int j = 0;
        while (j < ck.n_states && strcmp(ck.state_names[j], rd->states[k].name) != 0) j++;
        if (j < ck.n_states)
          memcpy(r.st.state + (int64_t)k * pf, ck.state + (int64_t)j * pf, (size_t)pf * sizeof(float));
        else
          fprintf(stderr, "%s: note: %s holds no state '%s' of %s; it starts from its initial value\n", prog,
                  o->load, rd->states[k].name, rd->name);
      }
    } else if (ck.n_states || sc) {
      fprintf(stderr, "%s: note: %s holds the state of optimizer %s; %s starts from fresh state\n", prog,
              o->load, ck.rule, rd->name);
    }
    memcpy(r.st.perm, ck.perm, (size_t)r.n_train * sizeof(int64_t));
    r.st.epoch = ck.epoch;
    /* Resuming from the file it saves to: until this run saves, that file is its last
     * checkpoint, and a diverging step must say it is untouched. */
    if (o->save && strcmp(o->save, o->load) == 0 && ck.batch_pos == 0) r.saved_epoch = ck.epoch;
    r.st.batch_pos = ck.batch_pos <= r.end ? ck.batch_pos : 0;
    r.st.t = ck.t;
    r.st.shuffle = ck.shuffle;
    r.st.loss_sum = ck.loss_sum;
    memcpy(r.st.metric_sums, ck.metric_sums, (size_t)m->n_metrics * sizeof(double));
    r.st.seen = ck.seen;
    r.st.steps = ck.steps;
    r.st.best = ck.best;
    r.st.best_epoch = ck.best_epoch;
    r.st.wait = ck.wait;
    if (!o->quiet)
      printf("resuming from %s: epoch %lld of %lld done, %lld updates\n", o->load,
             (long long)ck.epoch, (long long)o->epochs, (long long)ck.t);
  }
  if (o->log && !(r.log = rt_log_open(o->log, m, r.val != NULL, o->log_every > 0,
                                      resumed ? r.st.epoch : -1, resumed ? r.st.t : -1, err,
                                      sizeof err))) {
    fprintf(stderr, "%s\n", err);
    goto done;
  }
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sa.sa_flags = (int)SA_RESETHAND; /* a second Ctrl-C stops at once */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);
  rc = loop(&r);
  sigaction(SIGINT, &old, NULL);
  if (rc == RT_EXIT_OK) rt_log_params(stdout, m, r.st.params);
done:
  if (r.log && fflush(r.log) && rc == RT_EXIT_OK) {
    fprintf(stderr, "%s: error: cannot write the log: %s\n", o->log, strerror(errno));
    rc = RT_EXIT_ERROR;
  }
  free_run(&r);
  rt_ckpt_free(&ck);
  return rc;
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
    rt_cli_help(stdout, prog, m, &o);
    return RT_EXIT_OK;
  }
  if (o.version) {
    rt_cli_version(stdout, m);
    return RT_EXIT_OK;
  }
#if defined(__x86_64__) || defined(__i386__)
  /* Flush denormals to zero (FTZ and DAZ, as TensorFlow does on CPUs): optimizer state that
   * decays geometrically (rmsprop's squared average where a gradient is 0) passes through
   * the denormal range, where every operation is ~100 times slower; on the flagship that
   * made epochs 3 to 5 four times slower. Results stay deterministic. */
  _mm_setcsr(_mm_getcsr() | 0x8040);
#endif
  if (o.mode == RT_MODE_TRAIN && rt_cli_note(&o, m, err, sizeof err)) fprintf(stderr, "%s: note: %s\n", prog, err);
  if (o.mode != RT_MODE_TRAIN) rt_set_threads(o.threads);
  switch (o.mode) {
  case RT_MODE_EVAL: return rt_eval_main(prog, m, &o);
  case RT_MODE_PREDICT: return rt_predict_main(prog, m, &o);
  case RT_MODE_TRAIN: break;
  }
  return rt_train_main(prog, m, &o);
}
