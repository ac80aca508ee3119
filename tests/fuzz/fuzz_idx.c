/* fuzz_idx.c: libFuzzer harness for the IDX reader, gzip included: the input is a file
 * given as `--data idx:FILE` (read whole, inflated if it starts with the gzip magic,
 * parsed, bound to a one-input model). See fuzz_rt.h for what a run must satisfy. */
#include "fuzz_rt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_load_array("idx", data, size);
  return 0;
}
