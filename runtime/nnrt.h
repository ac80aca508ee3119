/* nnrt.h: the ABI between code that nnc generates and libnnrt, the training runtime.
 *
 * A compiled model exports exactly one symbol, `nnrt_model`, a constant descriptor: what
 * the model's inputs and parameters are, how big its work arena is, the defaults of its
 * `train` block, and its entry points. The runtime's main() drives training through it
 * and nothing else, so the same object can later be linked into a user's program.
 *
 * Layout rules every entry point follows:
 *  - Parameters, gradients and optimizer state are each ONE flat float array; parameter
 *    i occupies [params[i].offset, params[i].offset + params[i].size).
 *  - An input is a dense row-major float array of batch * size floats (size = elements
 *    per sample); the batch dimension is the leading one.
 *  - The arena holds every intermediate tensor: arena_fixed + arena_per_sample *
 *    max_batch floats, 64-byte aligned, allocated once by the caller. Entry points
 *    allocate nothing. Any batch in 1..max_batch may be passed.
 *
 * The descriptor is versioned: the runtime refuses an object whose abi_version differs.
 */
#ifndef NNRT_H
#define NNRT_H

#include <stdint.h>

#define NNRT_ABI_VERSION 1
#define NNRT_MAX_RANK 4
#define NNRT_MAX_DATA_PATHS 4

typedef enum nnrt_dtype { NNRT_F32 = 1 } nnrt_dtype;

typedef enum nnrt_init_kind {
  NNRT_INIT_ZEROS = 0,
  NNRT_INIT_ONES = 1,
  NNRT_INIT_CONSTANT = 2,       /* a */
  NNRT_INIT_UNIFORM = 3,        /* U(a, b) */
  NNRT_INIT_NORMAL = 4,         /* N(mean a, std b) */
  NNRT_INIT_GLOROT_UNIFORM = 5, /* U(-l, l), l = sqrt(6 / (fan_in + fan_out)) */
} nnrt_init_kind;

/* An input or output: per-sample shape (the batch dimension is implicit). */
typedef struct nnrt_tensor_desc {
  const char *name;
  int32_t dtype; /* nnrt_dtype */
  int32_t rank;
  int64_t dims[NNRT_MAX_RANK];
  int64_t size; /* product of dims: floats per sample */
} nnrt_tensor_desc;

/* A parameter: shape, place in the flat buffer, initialiser. For glorot_uniform,
 * fan_in = dims[0] and fan_out = dims[rank-1] (both 1 for a scalar). */
typedef struct nnrt_param_desc {
  const char *name;
  int32_t rank;
  int64_t dims[NNRT_MAX_RANK];
  int64_t size;
  int64_t offset; /* in floats, into the flat parameter buffer */
  int32_t init;   /* nnrt_init_kind */
  float init_a, init_b;
} nnrt_param_desc;

/* The model's `train` block. Paths are absolute: nnc resolved them against the model
 * file's directory. Unset strings are NULL, unset numbers are negative. */
typedef struct nnrt_train_defaults {
  const char *data_format; /* "csv", or NULL */
  int32_t n_data_paths;
  const char *data_paths[NNRT_MAX_DATA_PATHS];
  const char *optimizer;   /* "sgd", "momentum", or NULL */
  double lr;
  double momentum;
  int64_t batch;
  int64_t epochs;
  int64_t seed;
} nnrt_train_defaults;

/* One training step on a batch: forward, batch-mean loss, backward. Writes the gradient
 * of the mean loss into grads (same layout as params) and returns the mean loss. */
typedef float (*nnrt_train_step_fn)(const float *params, float *grads,
                                    const float *const *inputs, float *arena,
                                    int64_t batch, int64_t max_batch);

/* The forward pass: writes each output (batch * outputs[i].size floats) and returns the
 * batch-mean loss. */
typedef float (*nnrt_forward_fn)(const float *params, const float *const *inputs,
                                 float *const *outputs, float *arena, int64_t batch,
                                 int64_t max_batch);

typedef struct nnrt_model_desc {
  int32_t abi_version; /* NNRT_ABI_VERSION */
  const char *name;    /* the model's name */
  const char *source;  /* the model file it was compiled from (absolute path) */
  int32_t n_inputs;
  const nnrt_tensor_desc *inputs;
  int32_t n_outputs;
  const nnrt_tensor_desc *outputs;
  int32_t n_params;
  const nnrt_param_desc *params;
  int64_t param_floats;     /* size of the flat parameter buffer */
  int64_t arena_fixed;      /* arena floats independent of the batch */
  int64_t arena_per_sample; /* arena floats per sample of max_batch */
  nnrt_train_defaults defaults;
  nnrt_train_step_fn train_step;
  nnrt_forward_fn forward;
} nnrt_model_desc;

/* Defined by the object file that nnc generates. */
extern const nnrt_model_desc nnrt_model;

#endif
