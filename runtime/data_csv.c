/* data_csv.c: the CSV reader.
 *
 * The file is read whole and parsed line by line: numeric fields separated by ',', spaces
 * and tabs around fields ignored, '\r\n' accepted, blank lines skipped. The first non-blank
 * row is a header iff one of its fields is text that is not a number, so files with and
 * without a header both work and a mistyped number in the first row is still reported
 * (an empty or numeric field never makes a header). The model's inputs take the columns
 * in declaration order, an input of per-sample size s taking s consecutive columns; rows
 * go straight into the data set's per-input arrays, sized once from the line count.
 * Every error names the file, and the line and field where there is one.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "nnrt_internal.h"

typedef struct Err {
  char *buf;
  size_t len, used;
} Err;

static void put(Err *e, const char *fmt, ...) {
  if (e->used >= e->len) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(e->buf + e->used, e->len - e->used, fmt, ap);
  va_end(ap);
  if (n > 0) e->used += (size_t)n;
}

/* A field as it appears in a message: at most 32 bytes, control bytes shown as '?', so a
 * binary file cannot garble the terminal. */
static void put_field(Err *e, const char *s, size_t n) {
  char shown[40];
  size_t k = n > 32 ? 32 : n;
  for (size_t i = 0; i < k; i++) {
    unsigned char c = (unsigned char)s[i];
    shown[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
  }
  shown[k] = 0;
  put(e, "'%s%s'", shown, n > k ? "..." : "");
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* A growable NUL-terminated copy of the current field, because strtod needs a terminator
 * and the text is not ours to write into. */
typedef struct Scratch {
  char *p;
  size_t cap;
} Scratch;

/* Parses s[0..n) (already trimmed) as a number: 1 if the whole field is numeric text
 * (including nan/inf spellings), 0 if not, -1 out of memory. */
static int parse_number(Scratch *sc, const char *s, size_t n, double *out) {
  if (n == 0) return 0;
  if (n + 1 > sc->cap) {
    char *p = realloc(sc->p, n + 1);
    if (!p) return -1;
    sc->p = p;
    sc->cap = n + 1;
  }
  memcpy(sc->p, s, n);
  sc->p[n] = 0;
  char *end;
  *out = strtod(sc->p, &end);
  return end == sc->p + n;
}

/* The next field of a line: [*pos, next ',' or end), trimmed; advances *pos past it. */
static void next_field(const char **pos, const char *end, const char **fs, size_t *fn) {
  const char *p = *pos, *q = p;
  while (q < end && *q != ',') q++;
  *pos = q < end ? q + 1 : q;
  while (p < q && is_blank(*p)) p++;
  while (q > p && is_blank(q[-1])) q--;
  *fs = p;
  *fn = (size_t)(q - p);
}

static void put_columns_mismatch(Err *e, const char *name, const nnrt_model_desc *m,
                                 int64_t need, int64_t have) {
  put(e, "%s: error: the model's input%s ", name, m->n_inputs == 1 ? "" : "s");
  for (int32_t i = 0; i < m->n_inputs; i++) {
    const char *sep = i == 0 ? "" : i == m->n_inputs - 1 ? " and " : ", ";
    put(e, "%s%s (%lld value%s)", sep, m->inputs[i].name, (long long)m->inputs[i].size,
        m->inputs[i].size == 1 ? "" : "s");
  }
  put(e, " need%s %lld column%s, the file has %lld", m->n_inputs == 1 ? "s" : "",
      (long long)need, need == 1 ? "" : "s", (long long)have);
}

int rt_csv_parse(const char *name, const char *text, size_t len, const nnrt_model_desc *m,
                 RtDataset *d, char *errbuf, size_t errlen) {
  Err e = {errbuf, errlen, 0};
  if (errlen) errbuf[0] = 0;
  int64_t need = 0;
  for (int32_t i = 0; i < d->n_inputs; i++) need += d->size[i];

  /* Every data row is a line, so the line count bounds the row count. */
  int64_t max_rows = 1;
  for (const char *p = text, *end = text + len; (p = memchr(p, '\n', (size_t)(end - p)));
       p++)
    max_rows++;
  for (int32_t i = 0; i < d->n_inputs; i++) {
    if ((uint64_t)max_rows > SIZE_MAX / sizeof(float) / (uint64_t)d->size[i] ||
        !(d->data[i] = malloc((size_t)max_rows * (size_t)d->size[i] * sizeof(float)))) {
      put(&e, "%s: error: out of memory for %lld rows", name, (long long)max_rows);
      return -1;
    }
  }

  Scratch sc = {NULL, 0};
  int rc = -1;
  int64_t rows = 0, ncols = -1, lineno = 0;
  const char *p = text, *end = text + len;
  while (p < end) {
    lineno++;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    const char *line = p;
    p = nl ? nl + 1 : end;
    if (le > line && le[-1] == '\r') le--;
    const char *q = line;
    while (q < le && is_blank(*q)) q++;
    if (q == le) continue;

    int64_t nfields = 1;
    for (const char *c = line; c < le; c++) nfields += *c == ',';
    const char *pos = line, *fs;
    size_t fn;
    double v;

    if (ncols < 0) {
      ncols = nfields;
      if (ncols != need) {
        put_columns_mismatch(&e, name, m, need, ncols);
        goto out;
      }
      int header = 0;
      for (int64_t k = 0; k < nfields && !header; k++) {
        next_field(&pos, le, &fs, &fn);
        int r = parse_number(&sc, fs, fn, &v);
        if (r < 0) goto oom;
        header = fn > 0 && r == 0;
      }
      if (header) continue;
      pos = line;
    }
    if (nfields != ncols) {
      put(&e, "%s:%lld: error: expected %lld field%s, got %lld", name, (long long)lineno,
          (long long)ncols, ncols == 1 ? "" : "s", (long long)nfields);
      goto out;
    }
    int64_t field = 0;
    for (int32_t i = 0; i < d->n_inputs; i++) {
      float *dst = d->data[i] + rows * d->size[i];
      for (int64_t j = 0; j < d->size[i]; j++) {
        field++;
        next_field(&pos, le, &fs, &fn);
        int r = parse_number(&sc, fs, fn, &v);
        if (r < 0) goto oom;
        const char *why = NULL;
        if (fn == 0) {
          put(&e, "%s:%lld: error: field %lld is empty", name, (long long)lineno,
              (long long)field);
          goto out;
        }
        if (r == 0)
          why = "is not a number";
        else if (!isfinite(v))
          why = "is not a finite number";
        else if (fabs(v) > FLT_MAX)
          why = "is out of range for f32";
        if (why) {
          put(&e, "%s:%lld: error: field %lld %s: ", name, (long long)lineno, (long long)field,
              why);
          put_field(&e, fs, fn);
          goto out;
        }
        dst[j] = (float)v;
      }
    }
    rows++;
  }
  if (rows == 0) {
    put(&e, "%s: error: no data rows", name);
    goto out;
  }
  rc = 0;
  goto out;
oom:
  put(&e, "%s:%lld: error: out of memory", name, (long long)lineno);
out:
  d->n_samples = rows;
  free(sc.p);
  return rc;
}

int rt_csv_load(const char *path, const nnrt_model_desc *m, RtDataset *d, char *err,
                size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s: error: cannot open: %s", path, strerror(errno));
    return -1;
  }
  /* Read in growing chunks rather than trusting ftell, so pipes and /dev/stdin work. */
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  int rc = -1;
  if (!buf) goto oom;
  for (;;) {
    if (len == cap) {
      char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
      if (!nb) goto oom;
      buf = nb;
      cap *= 2;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
  }
  if (ferror(f)) {
    snprintf(err, errlen, "%s: error: cannot read: %s", path, strerror(errno));
    goto done;
  }
  rc = rt_csv_parse(path, buf, len, m, d, err, errlen);
  goto done;
oom:
  snprintf(err, errlen, "%s: error: out of memory reading the file", path);
done:
  free(buf);
  fclose(f);
  return rc;
}
