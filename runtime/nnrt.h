/* nnrt.h: the ABI between code that nnc generates and libnnrt, the training runtime.
 *
 * A compiled model exports exactly one symbol, `nnrt_model`, a constant descriptor: what
 * the model's inputs, outputs, metrics and parameters are, how big its work arena is, the
 * settings of its `train` block, and its entry points. The runtime's main() drives
 * training through it and nothing else, so the same object can later be linked into a
 * user's program as an inference library.
 *
 * Layout rules every entry point follows:
 *  - Parameters, gradients and optimizer state are each ONE flat float array; parameter
 *    i occupies [params[i].offset, params[i].offset + params[i].size).
 *  - An input is a dense row-major float array of batch * size floats (size = elements
 *    per sample); the batch dimension is the leading one. Whatever an input's declared
 *    dtype, entry points take its values as floats: a u8 input holds 0..255, a class
 *    label holds its index 0..classes-1 (the runtime converts and range-checks on load).
 *  - The arena holds every intermediate tensor: arena_fixed + arena_per_sample *
 *    max_batch floats, 64-byte aligned, allocated once by the caller. Entry points
 *    allocate nothing. Any batch in 1..max_batch may be passed.
 *  - Losses and metrics are means over the batch.
 *
 * The descriptor is versioned: the runtime refuses an object whose abi_version differs.
 */
#ifndef NNRT_H
#define NNRT_H

#include <stdint.h>

#define NNRT_ABI_VERSION 3
#define NNRT_MAX_RANK 4

typedef enum nnrt_dtype {
  NNRT_F32 = 1,
  NNRT_U8 = 2,    /* stored as bytes in data files; computed as f32 */
  NNRT_CLASS = 3, /* an integer class label in 0..classes-1; per-sample scalar */
} nnrt_dtype;

typedef enum nnrt_role {
  NNRT_ROLE_FEATURE = 1, /* the model's outputs depend on it: predict needs it */
  NNRT_ROLE_TARGET = 2,  /* only the loss and metrics use it (labels) */
} nnrt_role;

typedef enum nnrt_init_kind {
  NNRT_INIT_ZEROS = 0,
  NNRT_INIT_ONES = 1,
  NNRT_INIT_CONSTANT = 2,       /* a */
  NNRT_INIT_UNIFORM = 3,        /* U(a, b) */
  NNRT_INIT_NORMAL = 4,         /* N(mean a, std b) */
  NNRT_INIT_GLOROT_UNIFORM = 5, /* U(-l, l), l = sqrt(6 / (fan_in + fan_out)) */
  NNRT_INIT_GLOROT_NORMAL = 6,  /* N(0, sqrt(2 / (fan_in + fan_out))) */
  NNRT_INIT_HE_UNIFORM = 7,     /* U(-l, l), l = sqrt(6 / fan_in) */
  NNRT_INIT_HE_NORMAL = 8,      /* N(0, sqrt(2 / fan_in)) */
} nnrt_init_kind;

/* An input or an output: per-sample shape (the batch dimension is implicit). */
typedef struct nnrt_tensor_desc {
  const char *name;
  int32_t dtype; /* nnrt_dtype */
  int32_t rank;
  int64_t dims[NNRT_MAX_RANK];
  int64_t size;    /* product of dims: floats per sample */
  int64_t classes; /* NNRT_CLASS: the number of classes k; otherwise 0 */
  int32_t role;    /* inputs: nnrt_role; outputs: 0 */
} nnrt_tensor_desc;

/* A parameter: shape, place in the flat buffer, initialiser. For the fan-based
 * initialisers, fan_in = dims[0] and fan_out = dims[rank-1] (both 1 for a scalar).
 * Names are unique and may contain dots (`h.W`: the W of the layer bound to h). */
typedef struct nnrt_param_desc {
  const char *name;
  int32_t rank;
  int64_t dims[NNRT_MAX_RANK];
  int64_t size;
  int64_t offset; /* in floats, into the flat parameter buffer */
  int32_t init;   /* nnrt_init_kind */
  float init_a, init_b;
} nnrt_param_desc;

/* One setting of the model's `train` block, spelled as the train program's flag of the
 * same name would take it (`--KEY VALUE`); flags given on the command line override it.
 * nnc checks keys and values at compile time, the runtime again at start. Keys:
 *   data, val      FORMAT:PATH[,PATH...]  FORMAT is csv, idx or npy; one file per input in
 *                  declaration order (csv: one file for all inputs); paths absolute, already
 *                  resolved against the model file's directory
 *   optimizer      sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw
 *   lr, momentum, rho, eps, beta1, beta2, weight_decay, l1, clip_norm   numbers
 *   batch          a positive integer, or "all"
 *   epochs, seed, accumulate, patience   integers
 *   schedule       constant, step, multistep, exponential, inverse, polynomial, cosine
 *   (and the schedule's own settings; see the runtime's --help) */
typedef struct nnrt_option {
  const char *key;
  const char *value;
} nnrt_option;

/* One training step on a batch: forward, batch-mean loss, backward. Writes the gradient
 * of the mean loss into grads (same layout as params), the batch mean of each metric
 * into metrics[0..n_metrics), and returns the mean loss. */
typedef float (*nnrt_train_step_fn)(const float *params, float *grads,
                                    const float *const *inputs, float *metrics,
                                    float *arena, int64_t batch, int64_t max_batch);

/* The loss and metrics of a batch, without gradients. */
typedef float (*nnrt_evaluate_fn)(const float *params, const float *const *inputs,
                                  float *metrics, float *arena, int64_t batch,
                                  int64_t max_batch);

/* The model's outputs for a batch: writes outputs[i] (batch * outputs[i].size floats).
 * Reads only the inputs whose role is NNRT_ROLE_FEATURE; the others may be NULL. */
typedef void (*nnrt_predict_fn)(const float *params, const float *const *inputs,
                                float *const *outputs, float *arena, int64_t batch,
                                int64_t max_batch);

/* The optimizers a compiled step can apply itself (see train_update). */
typedef enum nnrt_update_kind {
  NNRT_UPDATE_SGD = 1,      /* w -= lr*g */
  NNRT_UPDATE_MOMENTUM = 2, /* v = m*v + g;  w -= lr*v */
  NNRT_UPDATE_NESTEROV = 3, /* v = m*v - lr*g;  w += m*v - lr*g  (the seed's rule) */
  NNRT_UPDATE_RMSPROP = 4,  /* s = rho*s + (1-rho)*g^2;  w -= lr*g / (sqrt(s) + eps) */
} nnrt_update_kind;

/* One optimizer update, described for train_update. g is the gradient plus
 * weight_decay * w (L2); the formulas and their evaluation order are exactly those of
 * libnnrt's optimizers, in float. */
typedef struct nnrt_update {
  int32_t kind; /* nnrt_update_kind */
  float lr, momentum, rho, eps, weight_decay;
  float *state; /* momentum/nesterov: v; rmsprop: s; param_floats floats each; sgd: unused */
} nnrt_update;

/* A training step that applies the update to params itself, so that a gradient that is
 * an outer product (x^T dy at a small batch) is consumed where it is produced and never
 * stored: one pass over the weights instead of three. grads is scratch. Returns the mean
 * loss, as train_step does; metrics likewise. */
typedef float (*nnrt_train_update_fn)(float *params, float *grads, const float *const *inputs,
                                      float *metrics, float *arena, int64_t batch,
                                      int64_t max_batch, const nnrt_update *update);

typedef struct nnrt_model_desc {
  int32_t abi_version; /* NNRT_ABI_VERSION */
  const char *name;    /* the model's name */
  const char *source;  /* the model file it was compiled from (absolute path) */
  int32_t n_inputs;
  const nnrt_tensor_desc *inputs;
  int32_t n_outputs;
  const nnrt_tensor_desc *outputs;
  int32_t n_metrics;
  const char *const *metric_names;
  int32_t n_params;
  const nnrt_param_desc *params;
  int64_t param_floats;     /* size of the flat parameter buffer */
  int64_t arena_fixed;      /* arena floats independent of the batch */
  int64_t arena_per_sample; /* arena floats per sample of max_batch */
  int32_t n_options;
  const nnrt_option *options; /* the train block, in source order */
  nnrt_train_step_fn train_step;
  nnrt_evaluate_fn evaluate;
  nnrt_predict_fn predict;
  nnrt_train_update_fn train_update;
} nnrt_model_desc;

/* Provided by the runtime to compiled code: runs body(ctx, lo, hi) over [0, n), split
 * into contiguous ranges across the runtime's threads (--threads), and returns when all
 * are done. One job at a time (the training loop's thread); a call from inside a body
 * runs inline. Compiled code refers to it weakly and runs body(ctx, 0, n) itself when it
 * is absent, so an object also links without the runtime. */
typedef void (*nnrt_parallel_body)(void *ctx, int64_t lo, int64_t hi);
void nnrt_parallel_for(nnrt_parallel_body body, void *ctx, int64_t n);

/* Defined by the object file that nnc generates. */
extern const nnrt_model_desc nnrt_model;

#endif
