/* fuzz_rt.h: what the runtime's harnesses share: the fuzz input as a file that the
 * readers open by path (a memfd, so nothing touches the disk), and the oracles that a
 * reader's result must pass beyond "no crash, no sanitizer report":
 *  - a failure comes with a message (the train program prints it and exits 1);
 *  - a success hands over buffers as big as the data set says: every element of every
 *    loaded input is read, so AddressSanitizer catches a short one.
 */
#ifndef FUZZ_RT_H
#define FUZZ_RT_H

#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nnrt_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A path whose content is data[0..size): the same memfd, rewritten each run. */
static inline const char *fuzz_path(const uint8_t *data, size_t size) {
  static int fd = -1;
  static char path[64];
  if (fd < 0) {
    fd = memfd_create("nnc-fuzz", 0);
    if (fd < 0) {
      perror("fuzz: memfd_create");
      abort();
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0) abort();
  size_t done = 0;
  while (done < size) {
    ssize_t k = pwrite(fd, data + done, size - done, (off_t)done);
    if (k <= 0) abort();
    done += (size_t)k;
  }
  return path;
}

/* A failing reader must say why. */
static inline void fuzz_check_failure(const char *err) {
  if (!err[0] || !memchr(err, 0, RT_ERR_MAX)) {
    fprintf(stderr, "fuzz: a reader failed without a message\n");
    abort();
  }
  /* NNC_FUZZ_VERBOSE=1: print each message, to see how far a seed gets. */
  const char *v = getenv("NNC_FUZZ_VERBOSE");
  if (v && *v) fprintf(stderr, "fuzz: refused: %s\n", err);
}

/* Reads every element of every loaded input (the sum keeps the reads from being dropped)
 * and checks the binding's promises: u8 values are bytes anyway, class labels are in
 * 0..classes-1 (compiled code indexes with them). */
static volatile double fuzz_sink;
static inline void fuzz_touch_dataset(const RtDataset *d, const nnrt_model_desc *m) {
  if (d->n_samples < 1) {
    fprintf(stderr, "fuzz: a data set loaded with %lld samples\n", (long long)d->n_samples);
    abort();
  }
  double s = 0;
  for (int32_t i = 0; i < d->n_inputs; i++) {
    int64_t n = d->n_samples * d->size[i];
    switch (d->store[i]) {
    case RT_STORE_F32:
      for (int64_t k = 0; k < n; k++) s += ((const float *)d->data[i])[k];
      break;
    case RT_STORE_U8:
      for (int64_t k = 0; k < n; k++) s += ((const unsigned char *)d->data[i])[k];
      break;
    case RT_STORE_I32:
      for (int64_t k = 0; k < n; k++) {
        int32_t v = ((const int32_t *)d->data[i])[k];
        if (m->inputs[i].dtype == NNRT_CLASS && (v < 0 || v >= m->inputs[i].classes)) {
          fprintf(stderr, "fuzz: input '%s' holds label %d of %lld classes\n",
                  m->inputs[i].name, (int)v, (long long)m->inputs[i].classes);
          abort();
        }
        s += v;
      }
      break;
    default:
      break;
    }
  }
  fuzz_sink = s;
}

/* One-input models for the single-file readers (IDX, NPY): each input is loaded for every
 * one of them, so every reader result meets every kind of binding. */
static const nnrt_tensor_desc fuzz_in_f32[] = {
    {"x", NNRT_F32, 1, {4}, 4, 0, NNRT_ROLE_FEATURE}};
static const nnrt_tensor_desc fuzz_in_u8[] = {
    {"image", NNRT_U8, 2, {2, 2}, 4, 0, NNRT_ROLE_FEATURE}};
static const nnrt_tensor_desc fuzz_in_class[] = {
    {"label", NNRT_CLASS, 0, {0}, 1, 3, NNRT_ROLE_TARGET}};
static const nnrt_tensor_desc fuzz_in_scalar[] = {
    {"y", NNRT_F32, 0, {0}, 1, 0, NNRT_ROLE_TARGET}};
static const nnrt_model_desc fuzz_one_input[4] = {
    {.abi_version = NNRT_ABI_VERSION, .name = "f32", .n_inputs = 1, .inputs = fuzz_in_f32},
    {.abi_version = NNRT_ABI_VERSION, .name = "u8", .n_inputs = 1, .inputs = fuzz_in_u8},
    {.abi_version = NNRT_ABI_VERSION, .name = "class", .n_inputs = 1, .inputs = fuzz_in_class},
    {.abi_version = NNRT_ABI_VERSION, .name = "scalar", .n_inputs = 1, .inputs = fuzz_in_scalar},
};

/* The input as the one file of a data source FORMAT:PATH, the way `--data idx:FILE` loads
 * it (read whole, inflated if gzip, parsed, bound to the model's input). */
static inline void fuzz_load_array(const char *format, const uint8_t *data, size_t size) {
  char spec[96];
  snprintf(spec, sizeof spec, "%s:%s", format, fuzz_path(data, size));
  for (int k = 0; k < 4; k++) {
    const nnrt_model_desc *m = &fuzz_one_input[k];
    char err[RT_ERR_MAX] = "";
    RtDataset d;
    if (rt_dataset_init(&d, m)) abort();
    if (rt_data_load(spec, m, NULL, &d, err, sizeof err) == 0)
      fuzz_touch_dataset(&d, m);
    else
      fuzz_check_failure(err);
    rt_dataset_free(&d);
  }
}

#endif
