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

/* The log's header line, malloc'd; NULL when out of memory. */
static char *header_line(const nnrt_model_desc *m, int has_val, int step_rows) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return NULL;
  fprintf(f, "epoch%s,loss", step_rows ? ",step" : "");
  for (int32_t i = 0; i < m->n_metrics; i++) fprintf(f, ",%s", m->metric_names[i]);
  if (has_val) {
    fprintf(f, ",val_loss");
    for (int32_t i = 0; i < m->n_metrics; i++) fprintf(f, ",val_%s", m->metric_names[i]);
  }
  fprintf(f, ",lr,samples_per_sec\n");
  if (fclose(f) != 0) {
    free(text);
    return NULL;
  }
  return text;
}

/* The rows of an existing log that a run resumed at (epoch, t) would not write again,
 * as one malloc'd string; NULL when the file is missing, unreadable, or has another
 * header (another model or other columns). */
static char *rows_before(const char *path, const char *header, int step_rows, int64_t epoch, int64_t t) {
  RtBytes b;
  char err[256];
  if (rt_file_read(path, &b, err, sizeof err)) return NULL;
  size_t hl = strlen(header);
  char *out = NULL, *w;
  if (b.len >= hl && memcmp(b.p, header, hl) == 0 && (out = malloc(b.len + 1))) {
    w = out;
    const char *p = (const char *)b.p + hl, *stop = (const char *)b.p + b.len;
    while (p < stop) {
      const char *end = memchr(p, '\n', (size_t)(stop - p));
      if (!end) break; /* a last line without its newline was cut short: dropped */
      char *rest;
      long long e = strtoll(p, &rest, 10);
      /* an epoch row of an epoch that was done; a step row of an update that was made */
      int keep = rest != p && rest < end && *rest == ',';
      if (keep && step_rows && rest[1] != ',') keep = strtoll(rest + 1, NULL, 10) <= t;
      else if (keep) keep = e <= epoch;
      if (keep) {
        memcpy(w, p, (size_t)(end - p) + 1);
        w += end - p + 1;
      }
      p = end + 1;
    }
    *w = '\0';
  }
  rt_bytes_free(&b);
  return out;
}

FILE *rt_log_open(const char *path, const nnrt_model_desc *m, int has_val, int step_rows,
                  int64_t resume_epoch, int64_t resume_t, char *err, size_t errlen) {
  char *header = header_line(m, has_val, step_rows);
  if (!header) {
    snprintf(err, errlen, "%s: error: out of memory", path);
    return NULL;
  }
  char *kept = resume_epoch >= 0 ? rows_before(path, header, step_rows, resume_epoch, resume_t) : NULL;
  FILE *f = fopen(path, "w");
  if (!f) {
    snprintf(err, errlen, "%s: error: cannot open the log for writing: %s", path,
             strerror(errno));
    free(kept);
    free(header);
    return NULL;
  }
  fputs(header, f);
  if (kept) fputs(kept, f);
  free(kept);
  free(header);
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
  for (int32_t i = 0; i < m->n_params; i++) total += m->slots[i].size;
  if (total > 16) return;
  for (int32_t i = 0; i < m->n_params; i++) {
    const nnrt_slot_desc *p = &m->slots[i];
    fprintf(f, "%s = ", p->name);
    print_nested(f, params + p->offset, p->dims, p->rank, 0);
    fputc('\n', f);
  }
}
