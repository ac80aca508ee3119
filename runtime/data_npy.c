/* data_npy.c: the NPY reader and writer (NumPy's .npy format, versions 1.0 to 3.0).
 *
 * A file is the magic "\x93NUMPY", a version (major, minor), the header length (u16 in
 * 1.x, u32 from 2.0), and a Python dict literal giving 'descr', 'fortran_order' and
 * 'shape'; the data follows in that order. Read: little-endian (or byte-order-free) u1,
 * i1, i2, i4, i8, f4 and f8 in C order. u1 stays bytes in the file's buffer; integers
 * become i32 (range-checked) and floats f32. Written: '<f4' arrays, version 1.0.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnrt_internal.h"

/* The value text after 'key': in the header dict, or NULL. */
static const char *dict_value(const char *h, const char *key) {
  char pat[32];
  snprintf(pat, sizeof pat, "'%s'", key);
  const char *k = strstr(h, pat);
  if (!k) {
    snprintf(pat, sizeof pat, "\"%s\"", key);
    k = strstr(h, pat);
  }
  if (!k) return NULL;
  k += strlen(pat);
  while (*k == ' ') k++;
  if (*k != ':') return NULL;
  k++;
  while (*k == ' ') k++;
  return k;
}

int rt_npy_parse(const char *name, RtBytes *b, RtArray *a, char *err, size_t errlen) {
  memset(a, 0, sizeof *a);
  const unsigned char *p = b->p;
  size_t len = b->len;
  int rc = -1;
  char *h = NULL;
  if (len < 10 || memcmp(p, "\x93NUMPY", 6) != 0) {
    if (len >= 6 && memcmp(p, "\x93NUMPY", 6) == 0)
      snprintf(err, errlen,
               "%s: error: truncated: the NPY preamble is 10 bytes, the file ends at byte "
               "offset %zu",
               name, len);
    else
      snprintf(err, errlen,
               "%s: error: not an NPY file: bad magic at byte offset 0 (NPY starts with "
               "\\x93NUMPY)",
               name);
    goto out;
  }
  int major = p[6];
  if (major < 1 || major > 3) {
    snprintf(err, errlen, "%s: error: NPY version %d.%d at byte offset 6 is not 1.0, 2.0 or 3.0",
             name, major, p[7]);
    goto out;
  }
  size_t hlen, hstart;
  if (major == 1) {
    hlen = (size_t)p[8] | (size_t)p[9] << 8;
    hstart = 10;
  } else {
    if (len < 12) {
      snprintf(err, errlen,
               "%s: error: truncated: the NPY %d.0 preamble is 12 bytes, the file ends at byte "
               "offset %zu",
               name, major, len);
      goto out;
    }
    hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
    hstart = 12;
  }
  if (len - hstart < hlen) {
    snprintf(err, errlen,
             "%s: error: truncated: the NPY header needs %zu bytes from byte offset %zu, the "
             "file ends at byte offset %zu",
             name, hlen, hstart, len);
    goto out;
  }
  if (!(h = malloc(hlen + 1))) goto oom;
  memcpy(h, p + hstart, hlen);
  h[hlen] = 0;
  const char *descr = dict_value(h, "descr");
  const char *fortran = dict_value(h, "fortran_order");
  const char *shape = dict_value(h, "shape");
  if (!descr || !fortran || !shape || (*descr != '\'' && *descr != '"') || *shape != '(') {
    snprintf(err, errlen,
             "%s: error: malformed NPY header at byte offset %zu: it needs 'descr', "
             "'fortran_order' and 'shape'",
             name, hstart);
    goto out;
  }
  char dt[16] = {0};
  size_t dn = strcspn(descr + 1, "'\"");
  if (dn >= sizeof dt) dn = sizeof dt - 1;
  memcpy(dt, descr + 1, dn);
  static const struct {
    const char *descr, *type;
    int el, code; /* code: 0 u8, 1 int, 2 float */
  } types[] = {{"|u1", "u8", 1, 0}, {"<u1", "u8", 1, 0}, {"u1", "u8", 1, 0},
               {"|i1", "i8", 1, 1}, {"<i1", "i8", 1, 1}, {"i1", "i8", 1, 1},
               {"<i2", "i16", 2, 1}, {"<i4", "i32", 4, 1}, {"<i8", "i64", 8, 1},
               {"<f4", "f32", 4, 2}, {"<f8", "f64", 8, 2}};
  int ti = -1;
  for (size_t k = 0; k < sizeof types / sizeof types[0]; k++)
    if (strcmp(dt, types[k].descr) == 0) ti = (int)k;
  if (ti < 0) {
    snprintf(err, errlen,
             "%s: error: NPY dtype '%s' is not supported (little-endian u1, i1, i2, i4, i8, f4 "
             "or f8%s)",
             name, dt, dt[0] == '>' ? "; this one is big-endian" : "");
    goto out;
  }
  if (strncmp(fortran, "False", 5) != 0) {
    snprintf(err, errlen,
             "%s: error: the NPY array is in Fortran order; save it in C order "
             "(numpy.ascontiguousarray)",
             name);
    goto out;
  }
  const char *q = shape + 1;
  int rank = 0;
  uint64_t count = 1, bound = 1; /* bound: the product of the nonzero dims (see data_idx.c) */
  for (;;) {
    while (*q == ' ') q++;
    if (*q == ')') break;
    if (*q < '0' || *q > '9' || rank == NNRT_MAX_RANK + 1) {
      snprintf(err, errlen,
               "%s: error: NPY shape %.*s is not a tuple of at most %d dimensions", name,
               (int)strcspn(shape, ")") + 1, shape, NNRT_MAX_RANK + 1);
      goto out;
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(q, &end, 10);
    if (errno || (v && bound > UINT64_MAX / v / 8)) {
      snprintf(err, errlen, "%s: error: NPY shape is too large", name);
      goto out;
    }
    if (v) bound *= v;
    a->dims[rank++] = (int64_t)v;
    count *= v;
    q = end;
    while (*q == ' ') q++;
    if (*q == ',') q++;
  }
  if (rank == 0) {
    snprintf(err, errlen, "%s: error: the NPY array is a scalar; it needs a samples dimension",
             name);
    goto out;
  }
  a->rank = rank;
  int el = types[ti].el;
  size_t data = hstart + hlen;
  uint64_t need = count * (uint64_t)el;
  if ((uint64_t)(len - data) != need) {
    if ((uint64_t)(len - data) < need)
      snprintf(err, errlen,
               "%s: error: truncated: the header (shape %.*s, %s) promises %llu bytes of data "
               "from byte offset %zu, but the file ends at byte offset %zu",
               name, (int)strcspn(shape, ")") + 1, shape, types[ti].type,
               (unsigned long long)need, data, len);
    else
      snprintf(err, errlen, "%s: error: %llu unexpected bytes after the data, from byte offset %llu",
               name, (unsigned long long)((uint64_t)(len - data) - need),
               (unsigned long long)(data + need));
    goto out;
  }
  a->data_offset = (int64_t)data;
  a->file_elsize = el;
  a->file_type = types[ti].type;
  if (types[ti].code == 0) {
    a->store = RT_STORE_U8;
    a->block = b->p;
    a->data = b->p + data;
    b->p = NULL;
    rc = 0;
    goto out;
  }
  a->store = types[ti].code == 2 ? RT_STORE_F32 : RT_STORE_I32;
  if (!(a->block = a->data = malloc(count ? (size_t)count * 4 : 1))) goto oom;
  const unsigned char *src = p + data;
  for (uint64_t i = 0; i < count; i++) {
    const unsigned char *e = src + i * (uint64_t)el;
    int64_t iv = 0;
    double fv = 0;
    switch (el * 10 + types[ti].code) {
    case 11: iv = (int8_t)e[0]; break;
    case 21: {
      int16_t x;
      memcpy(&x, e, 2);
      iv = x;
      break;
    }
    case 41: {
      int32_t x;
      memcpy(&x, e, 4);
      iv = x;
      break;
    }
    case 81: memcpy(&iv, e, 8); break;
    case 42: {
      float x;
      memcpy(&x, e, 4);
      fv = x;
      break;
    }
    case 82: memcpy(&fv, e, 8); break;
    }
    if (types[ti].code == 1) {
      if (iv < INT32_MIN || iv > INT32_MAX) {
        snprintf(err, errlen, "%s: error: the i64 %lld at byte offset %llu is out of range for i32",
                 name, (long long)iv, (unsigned long long)(data + i * (uint64_t)el));
        rt_array_free(a);
        goto out;
      }
      ((int32_t *)a->data)[i] = (int32_t)iv;
    } else {
      if (isfinite(fv) && fabs(fv) > FLT_MAX) {
        snprintf(err, errlen, "%s: error: the f64 at byte offset %llu is out of range for f32",
                 name, (unsigned long long)(data + i * (uint64_t)el));
        rt_array_free(a);
        goto out;
      }
      ((float *)a->data)[i] = (float)fv;
    }
  }
  rc = 0;
  goto out;
oom:
  snprintf(err, errlen, "%s: error: out of memory reading the array", name);
out:
  free(h);
  rt_bytes_free(b);
  return rc;
}

int rt_npy_write(FILE *f, const float *x, int32_t rank, const int64_t *dims) {
  char hdr[256];
  int n = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  int64_t count = 1;
  for (int32_t k = 0; k < rank; k++) {
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%lld,%s", (long long)dims[k],
                  k + 1 < rank ? " " : "");
    count *= dims[k];
  }
  n += snprintf(hdr + n, sizeof hdr - (size_t)n, "), }");
  /* Pad with spaces so that the data starts at a multiple of 64, ending in '\n'. */
  int total = 10 + n + 1;
  int pad = (64 - total % 64) % 64;
  memset(hdr + n, ' ', (size_t)pad);
  n += pad;
  hdr[n++] = '\n';
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(n & 0xff),
                           (unsigned char)(n >> 8)};
  if (fwrite(pre, 1, 10, f) != 10 || fwrite(hdr, 1, (size_t)n, f) != (size_t)n) return -1;
  /* Little-endian hosts only (as every target of nnc): floats go out as they are. */
  if (count && fwrite(x, sizeof(float), (size_t)count, f) != (size_t)count) return -1;
  return 0;
}
