/* data_csv.c: the CSV reader.
 *
 * The file is read whole (inflated if it is gzip data) and parsed line by line: numeric
 * fields separated by the delimiter (',' unless --delimiter says otherwise), spaces and
 * tabs around fields ignored, '\r\n' accepted, blank lines skipped. The first non-blank
 * row is a header iff one of its fields is text that is not a number, so files with and
 * without a header both work and a mistyped number in the first row is still reported
 * (an empty or numeric field never makes a header). --columns picks and orders columns
 * (1-based numbers, ranges a-b, or header names). The model's inputs take the (selected)
 * columns in declaration order, an input of per-sample size s taking s consecutive
 * columns (a class label one column); for predict, a file with only the feature inputs'
 * columns is enough. Values go straight into the data set's per-input arrays in the
 * input's type (f32 floats, u8 bytes, class labels i32), sized once from the line count,
 * and are checked against it: u8 takes integers in 0..255, class[k] integers in 0..k-1.
 * Every error names the file, and the line and field where there is one.
 */
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

/* The next field of a line: [*pos, next delimiter or end), trimmed; advances *pos past it. */
static void next_field(char delim, const char **pos, const char *end, const char **fs,
                       size_t *fn) {
  const char *p = *pos, *q = p;
  while (q < end && *q != delim) q++;
  *pos = q < end ? q + 1 : q;
  while (p < q && is_blank(*p)) p++;
  while (q > p && is_blank(q[-1])) q--;
  *fs = p;
  *fn = (size_t)(q - p);
}


static void put_columns_mismatch(Err *e, const char *name, const nnrt_model_desc *m,
                                 int64_t need, int64_t have, int features_only, int64_t fneed,
                                 int selected) {
  put(e, "%s: error: the model's input%s ", name, m->n_inputs == 1 ? "" : "s");
  for (int32_t i = 0; i < m->n_inputs; i++) {
    const char *sep = i == 0 ? "" : i == m->n_inputs - 1 ? " and " : ", ";
    put(e, "%s%s (%lld value%s)", sep, m->inputs[i].name, (long long)m->inputs[i].size,
        m->inputs[i].size == 1 ? "" : "s");
  }
  put(e, " need%s %lld column%s", m->n_inputs == 1 ? "s" : "", (long long)need,
      need == 1 ? "" : "s");
  if (features_only && fneed != need)
    put(e, " (the feature inputs alone %lld)", (long long)fneed);
  put(e, ", %s %lld", selected ? "--columns selects" : "the file has", (long long)have);
}

/* Resolves --columns against the header (hdr_line: the first row, or NULL) into 0-based
 * column numbers; returns how many, or -1 with the message in e. */
static int64_t select_columns(Err *e, const char *name, const char *spec, char delim,
                              const char *hdr, const char *hdr_end, int64_t ncols,
                              int64_t *cols, int64_t max) {
  int64_t n = 0;
  const char *p = spec;
  while (*p) {
    const char *q = p;
    while (*q && *q != ',') q++;
    size_t len = (size_t)(q - p);
    char item[128];
    snprintf(item, sizeof item, "%.*s", (int)(len < 100 ? len : 100), p);
    char *end;
    long long a = strtoll(item, &end, 10), b = a;
    int numeric = item[0] >= '0' && item[0] <= '9';
    if (numeric && *end == '-') b = strtoll(end + 1, &end, 10);
    if (numeric && *end == 0) {
      if (a < 1 || b < a || b > ncols) {
        put(e, "%s: error: --columns item '%s' is outside the file's columns 1..%lld", name,
            item, (long long)ncols);
        return -1;
      }
      for (long long c = a; c <= b; c++) {
        if (n == max) goto too_many;
        cols[n++] = c - 1;
      }
    } else {
      int64_t found = -1, k = 0;
      const char *pos = hdr, *fs;
      size_t fn;
      while (hdr && k < ncols) {
        next_field(delim, &pos, hdr_end, &fs, &fn);
        if (fn == len && memcmp(fs, p, len) == 0) {
          found = k;
          break;
        }
        k++;
      }
      if (found < 0) {
        put(e, "%s: error: --columns names '%s', %s", name, item,
            hdr ? "which is not in the header" : "but the file has no header");
        return -1;
      }
      if (n == max) goto too_many;
      cols[n++] = found;
    }
    p = *q ? q + 1 : q;
  }
  return n;
too_many:
  put(e, "%s: error: --columns selects more columns than the model's inputs take", name);
  return -1;
}

int rt_csv_parse(const char *name, const char *text, size_t len, const nnrt_model_desc *m,
                 const RtCsvOptions *co, RtDataset *d, char *errbuf, size_t errlen) {
  Err e = {errbuf, errlen, 0};
  if (errlen) errbuf[0] = 0;
  char delim = co && co->delimiter ? co->delimiter : ',';
  int features_only = co && co->features_only;
  int64_t need = 0, fneed = 0;
  for (int32_t i = 0; i < d->n_inputs; i++) {
    need += d->size[i];
    if (m->inputs[i].role != NNRT_ROLE_TARGET) fneed += d->size[i];
  }

  /* Every data row is a line, so the line count bounds the row count. */
  int64_t max_rows = 1;
  for (const char *p = text, *end = text + len; (p = memchr(p, '\n', (size_t)(end - p)));
       p++)
    max_rows++;

  Scratch sc = {NULL, 0};
  int rc = -1;
  int64_t rows = 0, ncols = -1, lineno = 0, nsel = 0;
  int64_t *cols = NULL; /* [need] file column of each value, 0-based */
  const char **fields = NULL; /* per file column: its text, per row */
  size_t *flen = NULL;
  int load_all = 1;
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
    for (const char *c = line; c < le; c++) nfields += *c == delim;
    const char *pos = line, *fs;
    size_t fn;
    double v;

    if (ncols < 0) {
      ncols = nfields;
      int header = 0;
      for (int64_t k = 0; k < nfields && !header; k++) {
        next_field(delim, &pos, le, &fs, &fn);
        int r = parse_number(&sc, fs, fn, &v);
        if (r < 0) goto oom;
        header = fn > 0 && r == 0;
      }
      pos = line;
      cols = malloc((size_t)(need > ncols ? need : ncols) * sizeof *cols + 1);
      fields = malloc((size_t)ncols * sizeof *fields + 1);
      flen = malloc((size_t)ncols * sizeof *flen + 1);
      if (!cols || !fields || !flen) goto oom;
      if (co && co->columns) {
        nsel = select_columns(&e, name, co->columns, delim, header ? line : NULL, le, ncols,
                              cols, need > ncols ? need : ncols);
        if (nsel < 0) goto out;
      } else {
        nsel = ncols;
        for (int64_t k = 0; k < ncols; k++) cols[k] = k;
      }
      if (nsel != need && !(features_only && nsel == fneed)) {
        put_columns_mismatch(&e, name, m, need, nsel, features_only, fneed,
                             co && co->columns);
        goto out;
      }
      load_all = nsel == need;
      for (int32_t i = 0; i < d->n_inputs; i++) {
        if (!load_all && m->inputs[i].role == NNRT_ROLE_TARGET) continue;
        RtStore st = m->inputs[i].dtype == NNRT_U8      ? RT_STORE_U8
                     : m->inputs[i].dtype == NNRT_CLASS ? RT_STORE_I32
                                                        : RT_STORE_F32;
        if (rt_dataset_alloc(d, i, st, max_rows)) {
          put(&e, "%s: error: out of memory for %lld rows", name, (long long)max_rows);
          goto out;
        }
      }
      if (header) continue;
    }
    if (nfields != ncols) {
      put(&e, "%s:%lld: error: expected %lld field%s, got %lld", name, (long long)lineno,
          (long long)ncols, ncols == 1 ? "" : "s", (long long)nfields);
      goto out;
    }
    for (int64_t k = 0; k < ncols; k++) next_field(delim, &pos, le, &fields[k], &flen[k]);
    int64_t sel = 0;
    for (int32_t i = 0; i < d->n_inputs; i++) {
      if (d->store[i] == RT_STORE_NONE) continue;
      const nnrt_tensor_desc *t = &m->inputs[i];
      for (int64_t j = 0; j < d->size[i]; j++) {
        int64_t col = cols[sel++];
        fs = fields[col], fn = flen[col];
        int64_t field = col + 1;
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
        int64_t off = rows * d->size[i] + j;
        if (t->dtype == NNRT_F32) {
          ((float *)d->data[i])[off] = (float)v;
          continue;
        }
        double hi = t->dtype == NNRT_U8 ? 255 : (double)t->classes - 1;
        if (v != floor(v) || v < 0 || v > hi) {
          char type[64];
          rt_type_str(t, type, sizeof type);
          put(&e, "%s:%lld: error: field %lld is ", name, (long long)lineno, (long long)field);
          put_field(&e, fs, fn);
          if (t->dtype == NNRT_U8)
            put(&e, ", but input '%s' is u8: an integer in 0..255", t->name);
          else
            put(&e, ", but input '%s' is %s: a class label in 0..%lld", t->name, type,
                (long long)t->classes - 1);
          goto out;
        }
        if (t->dtype == NNRT_U8)
          ((unsigned char *)d->data[i])[off] = (unsigned char)v;
        else
          ((int32_t *)d->data[i])[off] = (int32_t)v;
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
  free(cols);
  free(fields);
  free(flen);
  return rc;
}

int rt_csv_load(const char *path, const nnrt_model_desc *m, const RtCsvOptions *co,
                RtDataset *d, char *err, size_t errlen) {
  RtBytes b;
  if (rt_file_read(path, &b, err, errlen)) return -1;
  int rc = rt_csv_parse(path, (const char *)b.p, b.len, m, co, d, err, errlen);
  rt_bytes_free(&b);
  return rc;
}
