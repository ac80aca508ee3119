/* log.c: what the user sees of training: epoch lines, the CSV log, learned parameters.
 *
 * The epoch line is for people (aligned, 6 significant digits); the CSV log is for
 * plotting and is flushed after every row, so a run that is stopped or crashes still
 * leaves its curve so far.
 */
#include <errno.h>
#include <string.h>

#include "nnrt_internal.h"

static int digits(int64_t n) {
  int d = 1;
  while (n >= 10) n /= 10, d++;
  return d;
}

void rt_log_epoch(FILE *f, int64_t epoch, int64_t epochs, double loss, double samples_per_sec) {
  fprintf(f, "epoch %*lld/%lld  loss %-12.6g  %.0f samples/s\n", digits(epochs),
          (long long)epoch, (long long)epochs, loss, samples_per_sec);
  fflush(f);
}

FILE *rt_log_open(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "w");
  if (!f) {
    snprintf(err, errlen, "%s: error: cannot open the log for writing: %s", path,
             strerror(errno));
    return NULL;
  }
  fprintf(f, "epoch,loss,samples_per_sec\n");
  if (fflush(f) != 0 || ferror(f)) {
    snprintf(err, errlen, "%s: error: cannot write the log: %s", path, strerror(errno));
    fclose(f);
    return NULL;
  }
  return f;
}

int rt_log_row(FILE *f, int64_t epoch, double loss, double samples_per_sec) {
  fprintf(f, "%lld,%.9g,%.1f\n", (long long)epoch, loss, samples_per_sec);
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
