/* fake_model.h: checks shared by the hand-written fake models, which stand in for what
 * nnc generates so that the train program can be tested end to end without the compiler.
 * They hold the runtime to the ABI's promises: a 64-byte aligned arena of the promised
 * size (every float of it is written, so AddressSanitizer catches a short one) and a
 * batch in 1..max_batch. A broken promise aborts, which lit reports as a crash. */
#ifndef FAKE_MODEL_H
#define FAKE_MODEL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "nnrt.h"

static inline void fake_check_call(float *arena, int64_t batch, int64_t max_batch) {
  if ((uintptr_t)arena % 64 != 0 || batch < 1 || batch > max_batch) {
    fprintf(stderr, "fake model: ABI violation (arena %p, batch %lld of max %lld)\n",
            (void *)arena, (long long)batch, (long long)max_batch);
    abort();
  }
  int64_t n = nnrt_model.arena_fixed + nnrt_model.arena_per_sample * max_batch;
  for (int64_t i = 0; i < n; i++) arena[i] = 0;
}

#endif
