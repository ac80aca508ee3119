/* fuzz_npy.c: libFuzzer harness for the NPY reader: the input is a file given as
 * `--data npy:FILE` (read whole, inflated if gzip, parsed, bound to a one-input model).
 * See fuzz_rt.h for what a run must satisfy. */
#include "fuzz_rt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_load_array("npy", data, size);
  return 0;
}
