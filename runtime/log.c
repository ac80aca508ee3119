/* log.c: what the user sees of training: progress lines, the CSV log, learned parameters.
 *
 * The progress line is Keras's, for people: on a terminal it is redrawn in place ('\r',
 * at most ten times a second) as the epoch's steps go, with the step count, the running
 * loss and metrics, samples/s and the ETA, then finalised with the epoch's validation
 * numbers; elsewhere (a pipe, a file) only the final line of each epoch is printed:
 *
 *   epoch 1/5  469/469  loss 0.5123  accuracy 0.8213  val_loss 0.4401  val_accuracy 0.842  24518 samples/s  2.4s
 *
 * The CSV log is for plotting, with Keras's column names, and is flushed after every row
 * so a run that is stopped or crashes still leaves its curve so far:
 *
 *   epoch,loss,<metric>...,val_loss,val_<metric>...,lr,samples_per_sec
 *
 * (the val_ columns only with validation data; lr is the rate of the epoch's last update).
 * With --log-every N a `step` column follows `epoch`. A step row is written at the first
 * optimizer update after every N batches of an epoch: `step` is the global update count,
 * loss and metrics are the means over the batches since the last step row, validation
 * columns and samples_per_sec are empty. Epoch rows leave `step` empty.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnrt_internal.h"

static int digits(int64_t n) {
  int d = 1;
  while (n >= 10) n /= 10, d++;
  return d;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void put_time(FILE *f, double s) {
  if (s < 60) fprintf(f, "%.1fs", s);
  else if (s < 3600) fprintf(f, "%dm%02ds", (int)(s / 60), (int)s % 60);
  else fprintf(f, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

static void put_line(FILE *f, const nnrt_model_desc *m, const RtEpochStats *s, int final) {
  fprintf(f, "epoch %*lld/%lld  %*lld/%lld  loss %.4g", digits(s->epochs), (long long)s->epoch,
          (long long)s->epochs, digits(s->steps), (long long)s->step, (long long)s->steps,
          s->loss);
  for (int32_t i = 0; i < m->n_metrics; i++)
    fprintf(f, "  %s %.4g", m->metric_names[i], s->metrics[i]);
  if (final && s->has_val) {
    fprintf(f, "  val_loss %.4g", s->val_loss);
    for (int32_t i = 0; i < m->n_metrics; i++)
      fprintf(f, "  val_%s %.4g", m->metric_names[i], s->val_metrics[i]);
  }
  fprintf(f, "  %.0f samples/s  ", s->samples_per_sec);
  if (final) {
    put_time(f, s->elapsed);
  } else {
    fprintf(f, "ETA ");
    put_time(f, s->eta);
  }
}

void rt_progress_step(RtProgress *p, const nnrt_model_desc *m, const RtEpochStats *s) {
  if (p->quiet || !p->tty) return;
  double t = now();
  if (t - p->last < 0.1 && s->step < s->steps) return;
  p->last = t;
  fputc('\r', p->f);
  put_line(p->f, m, s, 0);
  fputs("\033[K", p->f);
  fflush(p->f);
}

void rt_progress_epoch(RtProgress *p, const nnrt_model_desc *m, const RtEpochStats *s) {
  if (p->quiet) return;
  if (p->tty) fputc('\r', p->f);
  put_line(p->f, m, s, 1);
  if (p->tty) fputs("\033[K", p->f);
  fputc('\n', p->f);
  fflush(p->f);
  p->last = 0;
}

static void write_header(FILE *f, const nnrt_model_desc *m, int has_val, int step_rows) {
  fprintf(f, "epoch%s,loss", step_rows ? ",step" : "");
  for (int32_t i = 0; i < m->n_metrics; i++) fprintf(f, ",%s", m->metric_names[i]);
  if (has_val) {
    fprintf(f, ",val_loss");
    for (int32_t i = 0; i < m->n_metrics; i++) fprintf(f, ",val_%s", m->metric_names[i]);
  }
  fprintf(f, ",lr,samples_per_sec\n");
}

/* The rows of an existing log that a run resumed at (epoch, t) would write again are
 * dropped; the rest is returned (malloc'd, NUL-terminated), or NULL when the file is
 * missing, unreadable, or has another header (another model or other columns). */
static char *rows_before(const char *path, const char *header, int step_rows, int64_t epoch, int64_t t) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, len = 0;
  char *text = malloc(cap + 1);
  for (size_t got; text && (got = fread(text + len, 1, cap - len, f)) > 0;) {
    len += got;
    if (len == cap) {
      char *bigger = realloc(text, 2 * cap + 1);
      if (!bigger) {
        free(text);
        text = NULL;
        break;
      }
      text = bigger;
      cap *= 2;
    }
  }
  int bad = ferror(f);
  fclose(f);
  if (!text || bad) {
    free(text);
    return NULL;
  }
  text[len] = '\0';
  size_t hl = strlen(header);
  if (len < hl || memcmp(text, header, hl) != 0) {
    free(text);
    return NULL;
  }
  char *out = malloc(len + 1), *w = out;
  if (!out) {
    free(text);
    return NULL;
  }
  for (char *line = text + hl; *line;) {
    char *end = strchr(line, '\n');
    size_t n = end ? (size_t)(end - line) + 1 : strlen(line);
    char *rest;
    long long e = strtoll(line, &rest, 10);
    /* an epoch row of an epoch that was done; a step row of an update that was made */
    int keep = rest != line && *rest == ',';
    if (keep && step_rows && rest[1] != ',') keep = strtoll(rest + 1, NULL, 10) <= t;
    else if (keep) keep = e <= epoch;
    if (keep && end) {
      memcpy(w, line, n);
      w += n;
    }
    line += n;
  }
  *w = '\0';
  free(text);
  return out;
}

FILE *rt_log_open(const char *path, const nnrt_model_desc *m, int has_val, int step_rows,
                  int64_t resume_epoch, int64_t resume_t, char *err, size_t errlen) {
  char header[4096];
  FILE *mem = fmemopen(header, sizeof header, "w");
  if (mem) {
    write_header(mem, m, has_val, step_rows);
    fclose(mem);
  }
  char *kept = mem && resume_epoch >= 0 ? rows_before(path, header, step_rows, resume_epoch, resume_t) : NULL;
  FILE *f = fopen(path, "w");
  if (!f) {
    snprintf(err, errlen, "%s: error: cannot open the log for writing: %s", path,
             strerror(errno));
    free(kept);
    return NULL;
  }
  write_header(f, m, has_val, step_rows);
  if (kept) fputs(kept, f);
  free(kept);
  if (fflush(f) != 0 || ferror(f)) {
    snprintf(err, errlen, "%s: error: cannot write the log: %s", path, strerror(errno));
    fclose(f);
    return NULL;
  }
  return f;
}

int rt_log_row(FILE *f, const nnrt_model_desc *m, const RtEpochStats *s, int step_rows) {
  fprintf(f, "%lld%s,%.9g", (long long)s->epoch, step_rows ? "," : "", s->loss);
  for (int32_t i = 0; i < m->n_metrics; i++) fprintf(f, ",%.9g", s->metrics[i]);
  if (s->has_val) {
    fprintf(f, ",%.9g", s->val_loss);
    for (int32_t i = 0; i < m->n_metrics; i++) fprintf(f, ",%.9g", s->val_metrics[i]);
  }
  fprintf(f, ",%.9g,%.1f\n", s->lr, s->samples_per_sec);
  return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

int rt_log_step_row(FILE *f, const nnrt_model_desc *m, int has_val, int64_t epoch,
                    int64_t step, double loss, const double *metrics, double lr) {
  fprintf(f, "%lld,%lld,%.9g", (long long)epoch, (long long)step, loss);
  for (int32_t i = 0; i < m->n_metrics; i++) fprintf(f, ",%.9g", metrics[i]);
  if (has_val)
    for (int32_t i = 0; i <= m->n_metrics; i++) fputc(',', f);
  fprintf(f, ",%.9g,\n", lr);
  return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

/* Prints dims[k..rank) of x, nested as [[a, b], [c, d]]; returns floats consumed. */
static int64_t print_nested(FILE *f, const float *x, const int64_t *dims, int32_t rank,
                            int32_t k) {
  if (k == rank) {
    fprintf(f, "%g", (double)x[0]);
    return 1;
  }
  int64_t used = 0;
  fputc('[', f);
  for (int64_t i = 0; i < dims[k]; i++) {
    if (i) fputs(", ", f);
    used += print_nested(f, x + used, dims, rank, k + 1);
  }
  fputc(']', f);
  return used;
}

void rt_log_params(FILE *f, const nnrt_model_desc *m, const float *params) {
  int64_t total = 0;
  for (int32_t i = 0; i < m->n_params; i++) total += m->params[i].size;
  if (total > 16) return;
  for (int32_t i = 0; i < m->n_params; i++) {
    const nnrt_param_desc *p = &m->params[i];
    fprintf(f, "%s = ", p->name);
    print_nested(f, params + p->offset, p->dims, p->rank, 0);
    fputc('\n', f);
  }
}
