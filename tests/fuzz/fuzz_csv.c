/* fuzz_csv.c: libFuzzer harness for the CSV reader: a file given as `--data csv:FILE`
 * (read whole, inflated if gzip, parsed into a data set shaped after a model).
 *
 * The first byte of an input is not file content but the run's settings, so that the
 * fuzzer explores them too:
 *   bits 0-1  the model: 0 x f32[2], y f32 (xor)   1 image u8[2, 2], label class[3]
 *             2 x f32                                3 a f32[3], b u8, c class[2]
 *   bit 2     features only (predict: the file may hold only the feature inputs' columns)
 *   bits 3-4  the delimiter: ',' ';' tab or space
 *   bit 5     --columns: the bytes up to the first newline are its value
 * The rest is the file. See fuzz_rt.h for what a run must satisfy.
 */
#include "fuzz_rt.h"

static const nnrt_tensor_desc in_xor[] = {
    {"x", NNRT_F32, 1, {2}, 2, 0, NNRT_ROLE_FEATURE},
    {"y", NNRT_F32, 0, {0}, 1, 0, NNRT_ROLE_TARGET},
};
static const nnrt_tensor_desc in_image[] = {
    {"image", NNRT_U8, 2, {2, 2}, 4, 0, NNRT_ROLE_FEATURE},
    {"label", NNRT_CLASS, 0, {0}, 1, 3, NNRT_ROLE_TARGET},
};
static const nnrt_tensor_desc in_one[] = {{"x", NNRT_F32, 0, {0}, 1, 0, NNRT_ROLE_FEATURE}};
static const nnrt_tensor_desc in_mixed[] = {
    {"a", NNRT_F32, 1, {3}, 3, 0, NNRT_ROLE_FEATURE},
    {"b", NNRT_U8, 0, {0}, 1, 0, NNRT_ROLE_FEATURE},
    {"c", NNRT_CLASS, 0, {0}, 1, 2, NNRT_ROLE_TARGET},
};
static const nnrt_model_desc models[4] = {
    {.abi_version = NNRT_ABI_VERSION, .name = "xor", .n_inputs = 2, .inputs = in_xor},
    {.abi_version = NNRT_ABI_VERSION, .name = "image", .n_inputs = 2, .inputs = in_image},
    {.abi_version = NNRT_ABI_VERSION, .name = "one", .n_inputs = 1, .inputs = in_one},
    {.abi_version = NNRT_ABI_VERSION, .name = "mixed", .n_inputs = 3, .inputs = in_mixed},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  unsigned cfg = data[0];
  data++, size--;
  const nnrt_model_desc *m = &models[cfg & 3];
  RtCsvOptions co = {",;\t "[(cfg >> 3) & 3], NULL, (cfg >> 2) & 1};
  char columns[129];
  if (cfg & 32) {
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;
    if (n >= sizeof columns || memchr(data, 0, n)) return 0; /* a flag: no NULs, not long */
    memcpy(columns, data, n);
    columns[n] = 0;
    co.columns = columns;
    data += nl ? n + 1 : n, size -= nl ? n + 1 : n;
  }
  char spec[96], err[RT_ERR_MAX] = "";
  snprintf(spec, sizeof spec, "csv:%s", fuzz_path(data, size));
  RtDataset d;
  if (rt_dataset_init(&d, m)) abort();
  if (rt_data_load(spec, m, &co, &d, err, sizeof err) == 0)
    fuzz_touch_dataset(&d, m);
  else
    fuzz_check_failure(err);
  rt_dataset_free(&d);
  return 0;
}
