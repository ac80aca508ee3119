/* test_data.c: the IDX and NPY readers, gzip inflation, data sources and binding arrays to
 * inputs: every format variant they accept, and every error with its exact words (file,
 * byte offset, shapes, sample index). Files are generated here, plain and gzip, whole,
 * truncated and corrupt. Usage: rt-test-data DIR (a scratch directory). */
#include <stdlib.h>
#include <zlib.h>

#include "check.h"
#include "nnrt_internal.h"

static char err[RT_ERR_MAX], dir[900];

static const char *path_of(const char *name) {
  static char p[4][1024];
  static int k;
  k = (k + 1) % 4;
  snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
  return p[k];
}

static void write_bytes(const char *name, const void *p, size_t n) {
  FILE *f = fopen(path_of(name), "wb");
  if (!f) {
    printf("FAIL: cannot create %s\n", path_of(name));
    check_failures++;
    return;
  }
  fwrite(p, 1, n, f);
  fclose(f);
}

static void write_gz(const char *name, const void *p, size_t n) {
  gzFile g = gzopen(path_of(name), "wb");
  gzwrite(g, p, (unsigned)n);
  gzclose(g);
}

/* An IDX file: type code, dims, then raw (already big-endian) element bytes. */
static size_t idx(unsigned char *out, int code, int rank, const uint32_t *dims,
                  const void *data, size_t n) {
  out[0] = out[1] = 0, out[2] = (unsigned char)code, out[3] = (unsigned char)rank;
  for (int k = 0; k < rank; k++) {
    out[4 + 4 * k] = (unsigned char)(dims[k] >> 24), out[5 + 4 * k] = (unsigned char)(dims[k] >> 16);
    out[6 + 4 * k] = (unsigned char)(dims[k] >> 8), out[7 + 4 * k] = (unsigned char)dims[k];
  }
  memcpy(out + 4 + 4 * rank, data, n);
  return 4 + 4 * (size_t)rank + n;
}

/* An NPY 1.0 (or 2.0) file with the given header dict and data. */
static size_t npy(unsigned char *out, int major, const char *dict, const void *data, size_t n) {
  size_t hl = strlen(dict), pre = major == 1 ? 10 : 12;
  memcpy(out, "\x93NUMPY", 6);
  out[6] = (unsigned char)major, out[7] = 0;
  out[8] = (unsigned char)hl, out[9] = (unsigned char)(hl >> 8);
  if (major > 1) out[10] = out[11] = 0;
  memcpy(out + pre, dict, hl);
  memcpy(out + pre + hl, data, n);
  return pre + hl + n;
}

static int parse_idx(const void *p, size_t n, RtArray *a) {
  RtBytes b = {malloc(n + 1), n, 0};
  memcpy(b.p, p, n);
  err[0] = 0;
  return rt_idx_parse("f.idx", &b, a, err, sizeof err);
}

static int parse_npy(const void *p, size_t n, RtArray *a) {
  RtBytes b = {malloc(n + 1), n, 0};
  memcpy(b.p, p, n);
  err[0] = 0;
  return rt_npy_parse("f.npy", &b, a, err, sizeof err);
}

static void idx_cases(void) {
  unsigned char buf[512];
  RtArray a;
  /* u8 [3, 2, 2]: kept as bytes in the file's buffer. */
  unsigned char px[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 250, 255};
  uint32_t d3[3] = {3, 2, 2};
  size_t n = idx(buf, 0x08, 3, d3, px, 12);
  CHECK(parse_idx(buf, n, &a) == 0);
  CHECK(a.store == RT_STORE_U8 && a.rank == 3 && a.dims[0] == 3 && a.dims[2] == 2 &&
        a.data_offset == 16 && ((unsigned char *)a.data)[11] == 255);
  rt_array_free(&a);
  /* i32 labels, big-endian. */
  unsigned char lab[8] = {0, 0, 0, 7, 0xff, 0xff, 0xff, 0xfe};
  uint32_t d1[1] = {2};
  n = idx(buf, 0x0C, 1, d1, lab, 8);
  CHECK(parse_idx(buf, n, &a) == 0);
  CHECK(a.store == RT_STORE_I32 && ((int32_t *)a.data)[0] == 7 && ((int32_t *)a.data)[1] == -2);
  rt_array_free(&a);
  /* f32 1.5 = 3fc00000, f64 -2.25 = c002000000000000, i16 -3 = fffd, i8 -1. */
  unsigned char f4[4] = {0x3f, 0xc0, 0, 0};
  uint32_t one[1] = {1};
  n = idx(buf, 0x0D, 1, one, f4, 4);
  CHECK(parse_idx(buf, n, &a) == 0 && a.store == RT_STORE_F32 && ((float *)a.data)[0] == 1.5f);
  rt_array_free(&a);
  unsigned char f8[8] = {0xc0, 0x02, 0, 0, 0, 0, 0, 0};
  n = idx(buf, 0x0E, 1, one, f8, 8);
  CHECK(parse_idx(buf, n, &a) == 0 && ((float *)a.data)[0] == -2.25f);
  rt_array_free(&a);
  unsigned char big[8] = {0x7f, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}; /* DBL_MAX */
  uint32_t two1[1] = {2};
  unsigned char f8s[16];
  memcpy(f8s, f8, 8), memcpy(f8s + 8, big, 8);
  n = idx(buf, 0x0E, 1, two1, f8s, 16);
  CHECK(parse_idx(buf, n, &a) == -1);
  CHECK_STR(err, "f.idx: error: the f64 at byte offset 16 is out of range for f32");
  unsigned char i2[2] = {0xff, 0xfd};
  n = idx(buf, 0x0B, 1, one, i2, 2);
  CHECK(parse_idx(buf, n, &a) == 0 && ((int32_t *)a.data)[0] == -3);
  rt_array_free(&a);
  unsigned char i1[1] = {0xff};
  n = idx(buf, 0x09, 1, one, i1, 1);
  CHECK(parse_idx(buf, n, &a) == 0 && ((int32_t *)a.data)[0] == -1);
  rt_array_free(&a);

  /* Errors. */
  n = idx(buf, 0x08, 3, d3, px, 12);
  CHECK(parse_idx(buf, 3, &a) == -1);
  CHECK_STR(err, "f.idx: error: not an IDX file: it has 3 bytes, fewer than the 4 of the magic");
  CHECK(parse_idx("\x1f\x8b\x08\x00xxxx", 8, &a) == -1);
  CHECK_STR(err, "f.idx: error: not an IDX file: bad magic 1f 8b 08 00 at byte offset 0 (IDX "
                 "starts with 00 00, a type code and the rank)");
  unsigned char bad[16];
  memcpy(bad, buf, 16);
  bad[2] = 0x0A;
  CHECK(parse_idx(bad, 16, &a) == -1);
  CHECK_STR(err, "f.idx: error: unknown IDX type code 0x0a at byte offset 2 (known: 08 u8, 09 "
                 "i8, 0b i16, 0c i32, 0d f32, 0e f64)");
  bad[2] = 0x08, bad[3] = 0;
  CHECK(parse_idx(bad, 16, &a) == -1);
  CHECK_STR(err, "f.idx: error: IDX rank 0 at byte offset 3 is not in 1..5");
  CHECK(parse_idx(buf, 10, &a) == -1);
  CHECK_STR(err, "f.idx: error: truncated: the header of a rank-3 IDX file is 16 bytes, the file "
                 "ends at byte offset 10");
  CHECK(parse_idx(buf, n - 5, &a) == -1);
  CHECK_STR(err, "f.idx: error: truncated: the header (3x2x2 u8) promises 12 bytes of data from "
                 "byte offset 16, but the file ends at byte offset 23");
  unsigned char more[64];
  memcpy(more, buf, n);
  more[n] = more[n + 1] = 0;
  CHECK(parse_idx(more, n + 2, &a) == -1);
  CHECK_STR(err, "f.idx: error: 2 unexpected bytes after the data (3x2x2 u8), from byte offset 28");
  uint32_t dz[2] = {2, 0};
  n = idx(buf, 0x08, 2, dz, px, 0);
  CHECK(parse_idx(buf, n, &a) == -1);
  CHECK_STR(err, "f.idx: error: IDX dimension 1 (at byte offset 8) is 0");
}

static void npy_cases(void) {
  unsigned char buf[512];
  RtArray a;
  float f[6] = {1, 2, 3, 4, 5, 6.5f};
  size_t n = npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }\n", f, 24);
  CHECK(parse_npy(buf, n, &a) == 0);
  CHECK(a.store == RT_STORE_F32 && a.rank == 2 && a.dims[0] == 3 && a.dims[1] == 2 &&
        ((float *)a.data)[5] == 6.5f);
  rt_array_free(&a);
  unsigned char u[4] = {0, 9, 200, 255};
  n = npy(buf, 2, "{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }\n", u, 4);
  CHECK(parse_npy(buf, n, &a) == 0);
  CHECK(a.store == RT_STORE_U8 && a.rank == 1 && a.dims[0] == 4 && a.data_offset == 12 + 58 &&
        ((unsigned char *)a.data)[2] == 200);
  rt_array_free(&a);
  int64_t l[3] = {0, 9, -4};
  n = npy(buf, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", l, 24);
  CHECK(parse_npy(buf, n, &a) == 0);
  CHECK(a.store == RT_STORE_I32 && ((int32_t *)a.data)[1] == 9 && ((int32_t *)a.data)[2] == -4);
  rt_array_free(&a);
  int32_t l4[2] = {3, 1};
  n = npy(buf, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 1), }", l4, 8);
  CHECK(parse_npy(buf, n, &a) == 0 && a.rank == 2 && ((int32_t *)a.data)[0] == 3);
  rt_array_free(&a);
  double d[2] = {0.25, -8};
  n = npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", d, 16);
  CHECK(parse_npy(buf, n, &a) == 0 && ((float *)a.data)[0] == 0.25f && ((float *)a.data)[1] == -8);
  rt_array_free(&a);
  int64_t huge[2] = {1, (int64_t)1 << 40};
  n = npy(buf, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", huge, 16);
  CHECK(parse_npy(buf, n, &a) == -1);
  CHECK_STR(err, "f.npy: error: the i64 1099511627776 at byte offset 75 is out of range for i32"); /* 10 + 57 + 8 */
  /* Key order is free. */
  n = npy(buf, 1, "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}", f, 8);
  CHECK(parse_npy(buf, n, &a) == 0 && a.dims[0] == 2);
  rt_array_free(&a);

  /* Errors. */
  CHECK(parse_npy("PK\x03\x04zzzzzz", 10, &a) == -1);
  CHECK_STR(err, "f.npy: error: not an NPY file: bad magic at byte offset 0 (NPY starts with "
                 "\\x93NUMPY)");
  n = npy(buf, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (3, 2), }", f, 24);
  CHECK(parse_npy(buf, n, &a) == -1);
  CHECK_STR(err, "f.npy: error: NPY dtype '>f4' is not supported (little-endian u1, i1, i2, i4, "
                 "i8, f4 or f8; this one is big-endian)");
  n = npy(buf, 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", f, 24);
  CHECK(parse_npy(buf, n, &a) == -1);
  CHECK_STR(err, "f.npy: error: NPY dtype '<c8' is not supported (little-endian u1, i1, i2, i4, "
                 "i8, f4 or f8)");
  n = npy(buf, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }", f, 24);
  CHECK(parse_npy(buf, n, &a) == -1);
  CHECK_STR(err, "f.npy: error: the NPY array is in Fortran order; save it in C order "
                 "(numpy.ascontiguousarray)");
  n = npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", f, 24);
  CHECK(parse_npy(buf, n - 4, &a) == -1);
  CHECK_STR(err, "f.npy: error: truncated: the header (shape (3, 2), f32) promises 24 bytes of "
                 "data from byte offset 69, but the file ends at byte offset 89");
  CHECK(parse_npy(buf, 40, &a) == -1);
  CHECK_STR(err, "f.npy: error: truncated: the NPY header needs 59 bytes from byte offset 10, the "
                 "file ends at byte offset 40");
  n = npy(buf, 1, "{'descr': '<f4', 'shape': (3, 2), }", f, 24);
  CHECK(parse_npy(buf, n, &a) == -1);
  CHECK_STR(err, "f.npy: error: malformed NPY header at byte offset 10: it needs 'descr', "
                 "'fortran_order' and 'shape'");
  n = npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f, 4);
  CHECK(parse_npy(buf, n, &a) == -1);
  CHECK_STR(err, "f.npy: error: the NPY array is a scalar; it needs a samples dimension");
  buf[6] = 4;
  CHECK(parse_npy(buf, n, &a) == -1);
  CHECK_STR(err, "f.npy: error: NPY version 4.0 at byte offset 6 is not 1.0, 2.0 or 3.0");

  /* The writer round-trips through the reader (header padded to 64 bytes). */
  FILE *w = fopen(path_of("w.npy"), "wb");
  int64_t dims[3] = {3, 1, 2};
  CHECK(rt_npy_write(w, f, 3, dims) == 0);
  fclose(w);
  RtBytes b;
  CHECK(rt_file_read(path_of("w.npy"), &b, err, sizeof err) == 0);
  CHECK(b.len == 128 + 24); /* 10 + 118 header bytes */
  CHECK(rt_npy_parse("w.npy", &b, &a, err, sizeof err) == 0);
  CHECK(a.rank == 3 && a.dims[0] == 3 && a.dims[1] == 1 && a.dims[2] == 2 &&
        memcmp(a.data, f, 24) == 0);
  rt_array_free(&a);
}

static void gzip_cases(void) {
  /* A 1 MB u8 IDX (compressible), gzipped: inflated by magic, not by name. */
  enum { N = 1000, S = 1000 };
  unsigned char *raw = malloc(16 + N * S);
  unsigned char *px = malloc(N * S);
  for (int i = 0; i < N * S; i++) px[i] = (unsigned char)(i * 7 % 251);
  uint32_t dims[2] = {N, S};
  size_t n = idx(raw, 0x08, 2, dims, px, N * S);
  write_gz("big.idx", raw, n); /* no .gz in the name */
  RtBytes b;
  CHECK(rt_file_read(path_of("big.idx"), &b, err, sizeof err) == 0);
  CHECK(b.gzipped && b.len == n && memcmp(b.p, raw, n) == 0);
  rt_bytes_free(&b);
  write_bytes("plain.gz", raw, n); /* a .gz name on plain data */
  CHECK(rt_file_read(path_of("plain.gz"), &b, err, sizeof err) == 0);
  CHECK(!b.gzipped && b.len == n);
  rt_bytes_free(&b);

  /* Truncated and corrupt gzip data. */
  CHECK(rt_file_read(path_of("big.idx"), &b, err, sizeof err) == 0);
  rt_bytes_free(&b);
  FILE *f = fopen(path_of("big.idx"), "rb");
  unsigned char *gz = malloc(2 * n);
  size_t gn = fread(gz, 1, 2 * n, f);
  fclose(f);
  write_bytes("cut.gz", gz, gn / 2);
  CHECK(rt_file_read(path_of("cut.gz"), &b, err, sizeof err) == -1);
  char want[2048];
  snprintf(want, sizeof want, "%s: error: truncated gzip data: the compressed stream ends at byte "
           "offset %zu (after ", path_of("cut.gz"), gn / 2);
  CHECK(strncmp(err, want, strlen(want)) == 0);
  if (strncmp(err, want, strlen(want)) != 0) printf("  got: %s\n", err);
  unsigned char *bad = malloc(gn);
  memcpy(bad, gz, gn);
  for (size_t i = 20; i < 60; i++) bad[i] ^= 0x5a;
  write_bytes("bad.gz", bad, gn);
  CHECK(rt_file_read(path_of("bad.gz"), &b, err, sizeof err) == -1);
  snprintf(want, sizeof want, "%s: error: corrupt gzip data near compressed byte offset ",
           path_of("bad.gz"));
  CHECK(strncmp(err, want, strlen(want)) == 0);
  if (strncmp(err, want, strlen(want)) != 0) printf("  got: %s\n", err);
  /* Two members, as `cat a.gz b.gz` makes. */
  memcpy(bad, gz, gn);
  unsigned char *two = malloc(2 * gn);
  memcpy(two, gz, gn);
  memcpy(two + gn, gz, gn);
  write_bytes("two.gz", two, 2 * gn);
  CHECK(rt_file_read(path_of("two.gz"), &b, err, sizeof err) == 0);
  CHECK(b.len == 2 * n && memcmp(b.p + n, raw, n) == 0);
  rt_bytes_free(&b);
  /* Garbage after the last member is an error; zero padding is not. */
  memcpy(two + gn, "junk", 4);
  write_bytes("junk.gz", two, gn + 4);
  CHECK(rt_file_read(path_of("junk.gz"), &b, err, sizeof err) == -1);
  snprintf(want, sizeof want, "%s: error: 4 bytes of garbage after the gzip data at compressed "
           "byte offset %zu", path_of("junk.gz"), gn);
  CHECK_STR(err, want);
  memset(two + gn, 0, 8);
  write_bytes("pad.gz", two, gn + 8);
  CHECK(rt_file_read(path_of("pad.gz"), &b, err, sizeof err) == 0 && b.len == n);
  rt_bytes_free(&b);
  CHECK(rt_file_read(path_of("nope.gz"), &b, err, sizeof err) == -1);
  snprintf(want, sizeof want, "%s: error: cannot open: No such file or directory",
           path_of("nope.gz"));
  CHECK_STR(err, want);
  free(raw), free(px), free(gz), free(bad), free(two);
}

enum { FE = NNRT_ROLE_FEATURE, TG = NNRT_ROLE_TARGET };
static nnrt_tensor_desc in_img[] = {{"image", NNRT_U8, 2, {2, 2}, 4, 0, FE},
                                    {"label", NNRT_CLASS, 0, {0}, 1, 3, TG}};
static nnrt_model_desc m_img = {.abi_version = NNRT_ABI_VERSION, .n_inputs = 2, .inputs = in_img};

static int load(const char *spec, int features_only, RtDataset *d) {
  rt_dataset_free(d);
  rt_dataset_init(d, &m_img);
  RtCsvOptions co = {',', NULL, features_only};
  err[0] = 0;
  return rt_data_load(spec, &m_img, &co, d, err, sizeof err);
}

static void source_cases(void) {
  unsigned char buf[512], lab[512];
  unsigned char px[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 250, 255};
  uint32_t d3[3] = {3, 2, 2}, d1[1] = {3}, d2[1] = {2}, dflat[2] = {3, 4}, dbad[3] = {3, 2, 3};
  unsigned char labels[3] = {2, 0, 1}, badlab[3] = {2, 3, 1};
  write_gz("img.gz", buf, idx(buf, 0x08, 3, d3, px, 12));
  write_gz("lab.gz", lab, idx(lab, 0x08, 1, d1, labels, 3));
  write_bytes("lab2", lab, idx(lab, 0x08, 1, d2, labels, 2));
  write_bytes("badlab", lab, idx(lab, 0x08, 1, d1, badlab, 3));
  write_bytes("flat", buf, idx(buf, 0x08, 2, dflat, px, 12));
  unsigned char px18[18] = {0};
  write_bytes("badshape", buf, idx(buf, 0x08, 3, dbad, px18, 18));
  write_bytes("d.csv", "a,b,c,d,label\n0,1,2,3,2\n4,5,6,7,0\n", 34);
  write_bytes("feat.csv", "a,b,c,d\n0,1,2,3\n", 16);
  RtDataset d = {0};
  char spec[4096], want[4096];

  /* Detected by content, and named. */
  snprintf(spec, sizeof spec, "%s,%s", path_of("img.gz"), path_of("lab.gz"));
  CHECK(load(spec, 0, &d) == 0);
  CHECK(d.n_samples == 3 && d.store[0] == RT_STORE_U8 && d.store[1] == RT_STORE_U8 &&
        ((unsigned char *)d.data[0])[11] == 255 && ((unsigned char *)d.data[1])[0] == 2);
  snprintf(spec, sizeof spec, "idx:%s,%s", path_of("img.gz"), path_of("lab.gz"));
  CHECK(load(spec, 0, &d) == 0 && d.n_samples == 3);
  /* A flat [3, 4] file feeds a [2, 2] input (same element count, one side flat). */
  snprintf(spec, sizeof spec, "%s,%s", path_of("flat"), path_of("lab.gz"));
  CHECK(load(spec, 0, &d) == 0);
  snprintf(spec, sizeof spec, "csv:%s", path_of("d.csv"));
  CHECK(load(spec, 0, &d) == 0 && d.n_samples == 2 && ((int32_t *)d.data[1])[0] == 2);
  CHECK(load(path_of("d.csv"), 0, &d) == 0 && d.n_samples == 2);
  /* predict: the features alone. */
  CHECK(load(path_of("img.gz"), 1, &d) == 0 && d.n_samples == 3 && d.store[1] == RT_STORE_NONE);
  CHECK(load(path_of("feat.csv"), 1, &d) == 0 && d.n_samples == 1);

  /* Errors. */
  snprintf(spec, sizeof spec, "%s,%s", path_of("img.gz"), path_of("lab2"));
  CHECK(load(spec, 0, &d) == -1);
  snprintf(want, sizeof want, "%s: error: 2 samples, but %s has 3; every input's file must hold "
           "the same samples in the same order", path_of("lab2"), path_of("img.gz"));
  CHECK_STR(err, want);
  snprintf(spec, sizeof spec, "%s,%s", path_of("img.gz"), path_of("badlab"));
  CHECK(load(spec, 0, &d) == -1);
  snprintf(want, sizeof want, "%s: error: sample 1 (byte offset 9): label 3 is out of range for "
           "input 'label' (class[3]: 0..2)", path_of("badlab"));
  CHECK_STR(err, want);
  snprintf(spec, sizeof spec, "%s,%s", path_of("badshape"), path_of("lab.gz"));
  CHECK(load(spec, 0, &d) == -1);
  snprintf(want, sizeof want, "%s: error: each sample has shape [2, 3] (6 values), but input "
           "'image' is u8[2, 2] (4 values)", path_of("badshape"));
  CHECK_STR(err, want);
  snprintf(spec, sizeof spec, "idx:%s", path_of("img.gz"));
  CHECK(load(spec, 0, &d) == -1);
  snprintf(want, sizeof want, "data source '%s' names 1 file, but the model's inputs image and "
           "label take one file each, in that order", path_of("img.gz"));
  CHECK_STR(err, want);
  snprintf(spec, sizeof spec, "csv:%s,%s", path_of("d.csv"), path_of("d.csv"));
  CHECK(load(spec, 0, &d) == -1);
  snprintf(want, sizeof want, "data source '%s,%s' names 2 files, but CSV data is one file "
           "holding every input's columns", path_of("d.csv"), path_of("d.csv"));
  CHECK_STR(err, want);
  snprintf(spec, sizeof spec, "%s,%s", path_of("d.csv"), path_of("lab.gz"));
  CHECK(load(spec, 0, &d) == -1);
  snprintf(want, sizeof want, "%s: error: neither an IDX nor an NPY file (by its first bytes), "
           "and CSV data is one file for all inputs; name the format as idx:, npy: or csv:",
           path_of("d.csv"));
  CHECK_STR(err, want);
  snprintf(spec, sizeof spec, "npy:%s,%s", path_of("img.gz"), path_of("lab.gz"));
  CHECK(load(spec, 0, &d) == -1);
  snprintf(want, sizeof want, "%s: error: not an NPY file: bad magic at byte offset 0 (NPY starts "
           "with \\x93NUMPY)", path_of("img.gz"));
  CHECK_STR(err, want);
  snprintf(spec, sizeof spec, "%s,", path_of("img.gz"));
  CHECK(load(spec, 0, &d) == -1);
  snprintf(want, sizeof want, "data source '%s,' has an empty file name", path_of("img.gz"));
  CHECK_STR(err, want);

  /* Binding f32 data to u8 and class inputs checks every value. */
  RtArray a = {0};
  a.store = RT_STORE_F32, a.rank = 3, a.dims[0] = 1, a.dims[1] = 2, a.dims[2] = 2;
  a.block = a.data = malloc(16);
  a.data_offset = 128, a.file_elsize = 4;
  float v[4] = {0, 255, 3, 2.5f};
  memcpy(a.data, v, 16);
  rt_dataset_free(&d);
  rt_dataset_init(&d, &m_img);
  CHECK(rt_data_bind("x.npy", &a, &m_img, 0, &d, err, sizeof err) == -1);
  CHECK_STR(err, "x.npy: error: sample 0 (byte offset 140): value 2.5 is not an integer in "
                 "0..255, but input 'image' is u8");
  ((float *)a.data)[3] = 7;
  CHECK(rt_data_bind("x.npy", &a, &m_img, 0, &d, err, sizeof err) == 0);
  CHECK(d.store[0] == RT_STORE_U8 && ((unsigned char *)d.data[0])[1] == 255 &&
        ((unsigned char *)d.data[0])[3] == 7 && a.block == NULL);
  a.store = RT_STORE_I32, a.rank = 1, a.dims[0] = 3, a.data_offset = 80, a.file_elsize = 8;
  a.block = a.data = malloc(12);
  int32_t lv[3] = {0, 2, -1};
  memcpy(a.data, lv, 12);
  CHECK(rt_data_bind("y.npy", &a, &m_img, 1, &d, err, sizeof err) == -1);
  CHECK_STR(err, "y.npy: error: sample 2 (byte offset 96): label -1 is out of range for input "
                 "'label' (class[3]: 0..2)");
  rt_array_free(&a);
  rt_dataset_free(&d);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    printf("FAIL: usage: rt-test-data DIR\n");
    return 1;
  }
  snprintf(dir, sizeof dir, "%s", argv[1]);
  idx_cases();
  npy_cases();
  gzip_cases();
  source_cases();
  return check_done("data");
}
