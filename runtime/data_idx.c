/* data_idx.c: the IDX reader (the format of MNIST and Fashion-MNIST).
 *
 * An IDX file is a 4-byte magic (00 00, a type code, the rank), rank big-endian u32
 * dimensions, then the elements in C order, big-endian. u8 data is kept in the file's own
 * buffer (no copy); other integer types become i32 and floats f32. Everything is checked
 * against the file's length before it is read, and every message gives the byte offset.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnrt_internal.h"

void rt_array_free(RtArray *a) {
  free(a->block);
  memset(a, 0, sizeof *a);
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Converts n big-endian elements of the file type at src into the stored type at dst;
 * -1 (with the element index in *bad) if an f64 does not fit f32. */
static int convert_be(int code, const unsigned char *src, int64_t n, void *dst, int64_t *bad) {
  int32_t *di = dst;
  float *df = dst;
  for (int64_t i = 0; i < n; i++) {
    switch (code) {
    case 0x09: di[i] = (int8_t)src[i]; break;
    case 0x0B: di[i] = (int16_t)(uint16_t)(src[2 * i] << 8 | src[2 * i + 1]); break;
    case 0x0C: di[i] = (int32_t)be32(src + 4 * i); break;
    case 0x0D: {
      uint32_t u = be32(src + 4 * i);
      memcpy(&df[i], &u, 4);
      break;
    }
    case 0x0E: {
      uint64_t u = (uint64_t)be32(src + 8 * i) << 32 | be32(src + 8 * i + 4);
      double v;
      memcpy(&v, &u, 8);
      if (isfinite(v) && fabs(v) > FLT_MAX) {
        *bad = i;
        return -1;
      }
      df[i] = (float)v;
      break;
    }
    }
  }
  return 0;
}

int rt_idx_parse(const char *name, RtBytes *b, RtArray *a, char *err, size_t errlen) {
  memset(a, 0, sizeof *a);
  const unsigned char *p = b->p;
  size_t len = b->len;
  int rc = -1;
  if (len < 4) {
    snprintf(err, errlen,
             "%s: error: not an IDX file: it has %zu bytes, fewer than the 4 of the magic", name,
             len);
    goto out;
  }
  if (p[0] != 0 || p[1] != 0) {
    snprintf(err, errlen,
             "%s: error: not an IDX file: bad magic %02x %02x %02x %02x at byte offset 0 "
             "(IDX starts with 00 00, a type code and the rank)",
             name, p[0], p[1], p[2], p[3]);
    goto out;
  }
  int code = p[2], el;
  const char *type;
  switch (code) {
  case 0x08: el = 1, type = "u8"; break;
  case 0x09: el = 1, type = "i8"; break;
  case 0x0B: el = 2, type = "i16"; break;
  case 0x0C: el = 4, type = "i32"; break;
  case 0x0D: el = 4, type = "f32"; break;
  case 0x0E: el = 8, type = "f64"; break;
  default:
    snprintf(err, errlen,
             "%s: error: unknown IDX type code 0x%02x at byte offset 2 (known: 08 u8, 09 i8, "
             "0b i16, 0c i32, 0d f32, 0e f64)",
             name, code);
    goto out;
  }
  int rank = p[3];
  if (rank < 1 || rank > NNRT_MAX_RANK + 1) {
    snprintf(err, errlen, "%s: error: IDX rank %d at byte offset 3 is not in 1..%d", name, rank,
             NNRT_MAX_RANK + 1);
    goto out;
  }
  size_t hdr = 4 + 4 * (size_t)rank;
  if (len < hdr) {
    snprintf(err, errlen,
             "%s: error: truncated: the header of a rank-%d IDX file is %zu bytes, the file "
             "ends at byte offset %zu",
             name, rank, hdr, len);
    goto out;
  }
  /* bound: the product of the nonzero dims, so that a file of 0 samples cannot declare
   * samples too large to count (count stays 0 and would check nothing). */
  uint64_t count = 1, bound = 1;
  char shape[96];
  size_t used = 0;
  shape[0] = 0;
  for (int k = 0; k < rank; k++) {
    uint32_t dim = be32(p + 4 + 4 * k);
    if (dim == 0 && k > 0) {
      snprintf(err, errlen, "%s: error: IDX dimension %d (at byte offset %d) is 0", name, k,
               4 + 4 * k);
      goto out;
    }
    a->dims[k] = dim;
    if (dim && bound > UINT64_MAX / dim / 8) {
      snprintf(err, errlen, "%s: error: IDX dimensions are too large", name);
      goto out;
    }
    if (dim) bound *= dim;
    count *= dim;
    if (used < sizeof shape)
      used += (size_t)snprintf(shape + used, sizeof shape - used, "%s%u", k ? "x" : "", dim);
  }
  a->rank = rank;
  uint64_t need = count * (uint64_t)el;
  if ((uint64_t)(len - hdr) < need) {
    snprintf(err, errlen,
             "%s: error: truncated: the header (%s %s) promises %llu bytes of data from byte "
             "offset %zu, but the file ends at byte offset %zu",
             name, shape, type, (unsigned long long)need, hdr, len);
    goto out;
  }
  if ((uint64_t)(len - hdr) > need) {
    snprintf(err, errlen,
             "%s: error: %llu unexpected bytes after the data (%s %s), from byte offset %llu",
             name, (unsigned long long)((uint64_t)(len - hdr) - need), shape, type,
             (unsigned long long)(hdr + need));
    goto out;
  }
  a->data_offset = (int64_t)hdr;
  a->file_elsize = el;
  a->file_type = type;
  if (code == 0x08) {
    a->store = RT_STORE_U8;
    a->block = b->p;
    a->data = b->p + hdr;
    b->p = NULL;
    rc = 0;
    goto out;
  }
  a->store = code == 0x0D || code == 0x0E ? RT_STORE_F32 : RT_STORE_I32;
  a->block = a->data = malloc(count ? (size_t)count * 4 : 1);
  if (!a->block) {
    snprintf(err, errlen, "%s: error: out of memory for %llu elements", name,
             (unsigned long long)count);
    goto out;
  }
  int64_t bad;
  if (convert_be(code, p + hdr, (int64_t)count, a->data, &bad)) {
    snprintf(err, errlen, "%s: error: the f64 at byte offset %llu is out of range for f32", name,
             (unsigned long long)(hdr + 8 * (uint64_t)bad));
    rt_array_free(a);
    goto out;
  }
  rc = 0;
out:
  rt_bytes_free(b);
  return rc;
}
