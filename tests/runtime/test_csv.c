/* test_csv.c: the CSV reader accepts the shapes real files come in (header or not, CRLF,
 * blank lines, spaces, no final newline, other delimiters, selected columns, feature
 * columns only), stores u8 and class inputs compactly after range checks, and words every
 * error exactly, with file, line and field. Usage: rt-test-csv DIR (a scratch directory for file-level cases). */
#include <stdlib.h>

#include "check.h"
#include "nnrt_internal.h"

enum { FE = NNRT_ROLE_FEATURE, TG = NNRT_ROLE_TARGET };
static nnrt_tensor_desc in_xy[] = {{"x", NNRT_F32, 1, {2}, 2, 0, FE}, {"y", NNRT_F32, 0, {0}, 1, 0, TG}};
static nnrt_tensor_desc in_x[] = {{"x", NNRT_F32, 1, {2}, 2, 0, FE}};
static nnrt_tensor_desc in_abc[] = {{"a", NNRT_F32, 0, {0}, 1, 0, FE},
                                    {"b", NNRT_F32, 1, {2}, 2, 0, FE},
                                    {"c", NNRT_F32, 0, {0}, 1, 0, TG}};
/* The flagship's input kinds: a u8 image and a class label. */
static nnrt_tensor_desc in_img[] = {{"image", NNRT_U8, 1, {2}, 2, 0, FE},
                                    {"label", NNRT_CLASS, 0, {0}, 1, 10, TG}};
static nnrt_model_desc m_img = {.abi_version = NNRT_ABI_VERSION, .n_inputs = 2, .inputs = in_img};
static nnrt_model_desc m_xy = {.abi_version = NNRT_ABI_VERSION, .n_inputs = 2, .inputs = in_xy};
static nnrt_model_desc m_x = {.abi_version = NNRT_ABI_VERSION, .n_inputs = 1, .inputs = in_x};
static nnrt_model_desc m_abc = {.abi_version = NNRT_ABI_VERSION, .n_inputs = 3, .inputs = in_abc};

static char err[RT_ERR_MAX];
static RtDataset d;
static RtCsvOptions co = {',', NULL, 0};
#define F(i) ((float *)d.data[i])

/* Parses text (NUL-terminated unless len is given) as d.csv for model m; d keeps the
 * result until the next call. */
static int parse_n(const nnrt_model_desc *m, const char *text, size_t len) {
  rt_dataset_free(&d);
  if (rt_dataset_init(&d, m)) return -2;
  err[0] = 0;
  return rt_csv_parse("d.csv", text, len, m, &co, &d, err, sizeof err);
}
static int parse(const nnrt_model_desc *m, const char *text) {
  return parse_n(m, text, strlen(text));
}

/* The x, y data set with rows (1,2,3) and (4,5,6). */
static void check_two_rows(const char *what) {
  int ok = d.n_samples == 2 && F(0)[0] == 1 && F(0)[1] == 2 && F(1)[0] == 3 &&
           F(0)[2] == 4 && F(0)[3] == 5 && F(1)[1] == 6;
  if (!ok) printf("FAIL: %s: wrong data (%lld rows)\n", what, (long long)d.n_samples);
  CHECK(ok);
}

static void expect_ok(const char *text, const char *what) {
  CHECK(parse(&m_xy, text) == 0);
  if (err[0]) printf("  %s: unexpected error: %s\n", what, err);
  check_two_rows(what);
}

static void expect_err(const nnrt_model_desc *m, const char *text, const char *want) {
  CHECK(parse(m, text) == -1);
  CHECK_STR(err, want);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    printf("FAIL: cannot create %s\n", path);
    check_failures++;
    return;
  }
  fputs(text, f);
  fclose(f);
}

int main(int argc, char **argv) {
  /* Shapes that parse to the same two rows. */
  expect_ok("x1,x2,y\n1,2,3\n4,5,6\n", "header");
  expect_ok("1,2,3\n4,5,6", "no header, no final newline");
  expect_ok("x1,x2,y\r\n1,2,3\r\n\r\n4, 5 ,6\r\n", "CRLF, blank line, spaces");
  expect_ok("\n\n1,2,3\n   \n\t\n4,5,6\n\n\n", "blank lines everywhere");
  expect_ok(" a , b , c \n  1\t,2,  3  \n4,5,6\n", "spaces and tabs around fields");
  expect_ok("x,2,3\n1,2,3\n4,5,6\n", "a header with some numeric names");
  expect_ok("1.0e0,+2,0x3\n.4e1,5.,6.000\n", "number spellings");
  expect_ok("x1,x2,y\n1,2,3\n4,5,6", "header, no final newline");

  /* Values land in the right input, sample-major. */
  CHECK(parse(&m_abc, "1,2,3,4\n5,6,7,8\n") == 0);
  CHECK(d.n_samples == 2 && F(0)[1] == 5 && F(1)[2] == 6 && F(1)[3] == 7 &&
        F(2)[0] == 4 && F(2)[1] == 8);
  CHECK(parse(&m_xy, "1e-50,-0,3.4e38\n") == 0); /* underflow to 0 is fine */
  CHECK(d.n_samples == 1 && F(0)[0] == 0 && F(1)[0] == 3.4e38f);

  /* Errors, each with file, line and field. */
  expect_err(&m_xy, "x,y,z\n1,2,3\n1,abc,3\n", "d.csv:3: error: field 2 is not a number: 'abc'");
  expect_err(&m_xy, "x,y,z\n\n1,2,3\n1,2,x\n", "d.csv:4: error: field 3 is not a number: 'x'");
  expect_err(&m_xy, "1,2,3\n1,2\n", "d.csv:2: error: expected 3 fields, got 2");
  expect_err(&m_xy, "1,2,3\r\n1,2,3,4\r\n", "d.csv:2: error: expected 3 fields, got 4");
  expect_err(&m_xy, "1,2,3,4\n",
             "d.csv: error: the model's inputs x (2 values) and y (1 value) need 3 columns, the "
             "file has 4");
  expect_err(&m_xy, "a,b\n1,2\n",
             "d.csv: error: the model's inputs x (2 values) and y (1 value) need 3 columns, the "
             "file has 2");
  expect_err(&m_x, "1\n",
             "d.csv: error: the model's input x (2 values) needs 2 columns, the file has 1");
  expect_err(&m_abc, "1,2,3\n",
             "d.csv: error: the model's inputs a (1 value), b (2 values) and c (1 value) need 4 "
             "columns, the file has 3");
  expect_err(&m_xy, "", "d.csv: error: no data rows");
  expect_err(&m_xy, "\n\r\n  \n", "d.csv: error: no data rows");
  expect_err(&m_xy, "x,y,z\n", "d.csv: error: no data rows");
  expect_err(&m_xy, "x,y,z\n\n", "d.csv: error: no data rows");
  expect_err(&m_xy, "1,nan,3\n", "d.csv:1: error: field 2 is not a finite number: 'nan'");
  expect_err(&m_xy, "1,2,3\n1,2,-Infinity\n",
             "d.csv:2: error: field 3 is not a finite number: '-Infinity'");
  expect_err(&m_xy, "1,2,3\ninf,2,3\n", "d.csv:2: error: field 1 is not a finite number: 'inf'");
  expect_err(&m_xy, "1,2,1e39\n", "d.csv:1: error: field 3 is out of range for f32: '1e39'");
  expect_err(&m_xy, "1,,3\n", "d.csv:1: error: field 2 is empty");
  expect_err(&m_xy, "1,2,3\n1,2, \n", "d.csv:2: error: field 3 is empty");
  expect_err(&m_xy, "1,2,3\n,,\n", "d.csv:2: error: field 1 is empty");
  expect_err(&m_xy, "1,2,3\n1,2,3,\n", "d.csv:2: error: expected 3 fields, got 4");
  expect_err(&m_xy, "1,2,3\n1,2,3x\n", "d.csv:2: error: field 3 is not a number: '3x'");
  expect_err(&m_xy, "1,2,3\n1,2,\"3\"\n", "d.csv:2: error: field 3 is not a number: '\"3\"'");
  expect_err(&m_xy, "1,2,3\n1,2,3 4\n", "d.csv:2: error: field 3 is not a number: '3 4'");
  expect_err(&m_xy, "1,2,3\n1,a\001b,3\n", "d.csv:2: error: field 2 is not a number: 'a?b'");
  expect_err(&m_xy,
             "1,2,3\n1,2,abcdefghijklmnopqrstuvwxyz0123456789\n",
             "d.csv:2: error: field 3 is not a number: 'abcdefghijklmnopqrstuvwxyz012345...'");
  /* An embedded NUL byte is data, not an end of string. */
  CHECK(parse_n(&m_xy, "1,2,3\n1,2\0,3\n", 13) == -1);
  CHECK_STR(err, "d.csv:2: error: field 2 is not a number: '2?'");

  /* u8 and class inputs: stored as bytes and i32 labels, range-checked per line. */
  CHECK(parse(&m_img, "a,b,label\n0,255,9\n17,3.0,0\n") == 0);
  CHECK(d.n_samples == 2 && d.store[0] == RT_STORE_U8 && d.store[1] == RT_STORE_I32);
  CHECK(((unsigned char *)d.data[0])[1] == 255 && ((unsigned char *)d.data[0])[3] == 3 &&
        ((int32_t *)d.data[1])[0] == 9 && ((int32_t *)d.data[1])[1] == 0);
  expect_err(&m_img, "0,256,1\n",
             "d.csv:1: error: field 2 is '256', but input 'image' is u8: an integer in 0..255");
  expect_err(&m_img, "0,1,1\n0,1.5,1\n",
             "d.csv:2: error: field 2 is '1.5', but input 'image' is u8: an integer in 0..255");
  expect_err(&m_img, "0,1,1\n-1,1,1\n",
             "d.csv:2: error: field 1 is '-1', but input 'image' is u8: an integer in 0..255");
  expect_err(&m_img, "0,1,1\n\n0,1,10\n",
             "d.csv:3: error: field 3 is '10', but input 'label' is class[10]: a class label in "
             "0..9");
  expect_err(&m_img, "0,1,2.5\n",
             "d.csv:1: error: field 3 is '2.5', but input 'label' is class[10]: a class label in "
             "0..9");
  expect_err(&m_img, "0,1\n",
             "d.csv: error: the model's inputs image (2 values) and label (1 value) need 3 "
             "columns, the file has 2");

  /* Delimiters. */
  co.delimiter = ';';
  expect_ok("x1;x2;y\n1;2;3\n4; 5 ;6\n", "semicolons");
  expect_err(&m_xy, "1;2;3\n1,5;2;3\n", "d.csv:2: error: field 1 is not a number: '1,5'");
  co.delimiter = '\t';
  expect_ok("1\t2\t3\n4\t5\t6\n", "tabs");
  co.delimiter = ',';

  /* Column selection: numbers, ranges and header names, in input order. */
  co.columns = "2-3,5";
  expect_ok("skip,x1,x2,skip,y\n9,1,2,9,3\n9,4,5,9,6\n", "columns by number");
  co.columns = "x1,x2,y";
  expect_ok("y,x2,x1\n3,2,1\n6,5,4\n", "columns by name");
  co.columns = "x1,zz,y";
  expect_err(&m_xy, "x1,x2,y\n1,2,3\n", "d.csv: error: --columns names 'zz', which is not in the header");
  co.columns = "a";
  expect_err(&m_xy, "1,2,3\n", "d.csv: error: --columns names 'a', but the file has no header");
  co.columns = "1,4";
  expect_err(&m_xy, "1,2,3\n", "d.csv: error: --columns item '4' is outside the file's columns 1..3");
  co.columns = "1,2";
  expect_err(&m_xy, "1,2,3\n",
             "d.csv: error: the model's inputs x (2 values) and y (1 value) need 3 columns, "
             "--columns selects 2");
  co.columns = NULL;

  /* predict: the feature columns alone load the features and leave the targets out. */
  co.features_only = 1;
  CHECK(parse(&m_xy, "x1,x2\n1,2\n4,5\n") == 0);
  CHECK(d.n_samples == 2 && d.store[0] == RT_STORE_F32 && d.store[1] == RT_STORE_NONE &&
        F(0)[3] == 5);
  expect_ok("x1,x2,y\n1,2,3\n4,5,6\n", "features_only with every column");
  expect_err(&m_xy, "1\n",
             "d.csv: error: the model's inputs x (2 values) and y (1 value) need 3 columns (the "
             "feature inputs alone 2), the file has 1");
  co.features_only = 0;

  /* A large file: 10000 rows, checked at the ends. */
  enum { ROWS = 10000 };
  char *big = malloc(ROWS * 40 + 32), *p = big;
  p += sprintf(p, "a,b,c\n");
  for (int i = 0; i < ROWS; i++) p += sprintf(p, "%d,%d.5,-%d\n", i, i, i);
  CHECK(parse(&m_xy, big) == 0);
  CHECK(d.n_samples == ROWS);
  CHECK(F(0)[2 * (ROWS - 1)] == ROWS - 1 && F(0)[2 * (ROWS - 1) + 1] == ROWS - 0.5f &&
        F(1)[ROWS - 1] == -(ROWS - 1));
  free(big);

  /* Files. */
  rt_dataset_free(&d);
  rt_dataset_init(&d, &m_xy);
  CHECK(rt_csv_load("/nonexistent/d.csv", &m_xy, &co, &d, err, sizeof err) == -1);
  CHECK_STR(err, "/nonexistent/d.csv: error: cannot open: No such file or directory");
  rt_dataset_free(&d);
  rt_dataset_init(&d, &m_xy);
  CHECK(rt_csv_load("/", &m_xy, &co, &d, err, sizeof err) == -1);
  CHECK_STR(err, "/: error: cannot read: Is a directory");
  if (argc > 1) {
    char path[1024];
    snprintf(path, sizeof path, "%s/ok.csv", argv[1]);
    write_file(path, "x1,x2,y\r\n1,2,3\r\n4,5,6\r\n");
    rt_dataset_free(&d);
    rt_dataset_init(&d, &m_xy);
    CHECK(rt_csv_load(path, &m_xy, &co, &d, err, sizeof err) == 0);
    check_two_rows("file");
    snprintf(path, sizeof path, "%s/bad.csv", argv[1]);
    write_file(path, "1,2,3\n4,5,x\n");
    rt_dataset_free(&d);
    rt_dataset_init(&d, &m_xy);
    CHECK(rt_csv_load(path, &m_xy, &co, &d, err, sizeof err) == -1);
    char want[1100];
    snprintf(want, sizeof want, "%s:2: error: field 3 is not a number: 'x'", path);
    CHECK_STR(err, want);
  } else {
    printf("FAIL: usage: rt-test-csv DIR\n");
    check_failures++;
  }
  rt_dataset_free(&d);
  return check_done("csv");
}
