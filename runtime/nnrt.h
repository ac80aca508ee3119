/* nnrt.h: the ABI between code that nnc generates and libnnrt, the training runtime.
 *
 * A compiled model exports exactly one symbol, `nnrt_model`, a constant descriptor: what
 * the model's inputs, outputs, metrics and slots (parameters, buffers) are, how big its
 * work arena is, the settings of its `train` block, the update rules it was compiled with
 * (each an optimizer of the language: its hyperparameters and states), and its entry
 * points, which all take one step context (nnrt_step). The runtime's main() drives
 * training through it and nothing else, so the same object can later be linked into a
 * user's program as an inference library.
 *
 * Layout rules every entry point follows:
 *  - Parameters, gradients, buffers and optimizer state are each ONE flat float array;
 *    parameter i occupies [slots[i].offset, slots[i].offset + slots[i].size).
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

#define NNRT_ABI_VERSION 4
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

/* A slot: state the model keeps across steps. A parameter (NNRT_SLOT_PARAM) is trained: its
 * gradient has the same place in the gradient buffer. A buffer (NNRT_SLOT_BUFFER) is kept
 * but not trained (a running statistic). For the fan-based initialisers, fan_in = dims[0]
 * and fan_out = dims[rank-1] (both 1 for a scalar). Names are unique and may contain dots
 * (`h.W`: the W of the layer bound to h). */
typedef enum nnrt_slot_kind {
  NNRT_SLOT_PARAM = 1,
  NNRT_SLOT_BUFFER = 2,
} nnrt_slot_kind;

typedef struct nnrt_slot_desc {
  const char *name;
  int32_t kind; /* nnrt_slot_kind */
  int32_t rank;
  int64_t dims[NNRT_MAX_RANK];
  int64_t size;
  int64_t offset; /* in floats, into the parameter (or buffer) buffer */
  int32_t init;   /* nnrt_init_kind */
  float init_a, init_b;
} nnrt_slot_desc;

/* One setting of the model's `train` block, spelled as the train program's flag of the
 * same name would take it (`--KEY VALUE`); flags given on the command line override it.
 * nnc checks keys and values at compile time, the runtime again at start. Keys:
 *   data, val      FORMAT:PATH[,PATH...]  FORMAT is csv, idx or npy; one file per input in
 *                  declaration order (csv: one file for all inputs); paths absolute, already
 *                  resolved against the model file's directory
 *   optimizer      the name of one of the model's rules
 *   a hyperparameter of that rule (lr, momentum, ...): its value, a number or true/false
 *   batch          a positive integer, or "all"
 *   epochs, seed, accumulate, patience   integers
 *   clip_norm      a number
 *   schedule       constant, step, multistep, exponential, inverse, polynomial, cosine
 *   (and the schedule's own settings; see the runtime's --help) */
typedef struct nnrt_option {
  const char *key;
  const char *value;
} nnrt_option;

/* A hyperparameter of an update rule: a run-time scalar the rule reads, with its default
 * and the values it may take (lo..hi, each end open or closed; +-inf allowed). A bool is
 * 0 or 1. */
typedef enum nnrt_hyper_kind {
  NNRT_HYPER_NUMBER = 1,
  NNRT_HYPER_BOOL = 2,
} nnrt_hyper_kind;

typedef struct nnrt_hyper_desc {
  const char *name;
  int32_t kind; /* nnrt_hyper_kind */
  int32_t lo_open, hi_open;
  double lo, hi;
  double value; /* the rule's default */
} nnrt_hyper_desc;

/* A state of an update rule: one array shaped like each parameter, initialised so. */
typedef struct nnrt_state_desc {
  const char *name;
  int32_t init; /* nnrt_init_kind */
  float init_a, init_b;
} nnrt_state_desc;

/* An update rule (an optimizer of the language): its hyperparameters and states. */
typedef struct nnrt_rule_desc {
  const char *name;
  int32_t n_hypers;
  const nnrt_hyper_desc *hypers;
  int32_t n_states;
  const nnrt_state_desc *states;
} nnrt_rule_desc;

/* The step context every entry point takes. The caller fills what the entry point reads
 * (see each below); entry points write only their results, the arena and `nonfinite`.
 *  - state holds the chosen rule's states: state k of parameter i at
 *    k * param_floats + slots[i].offset.
 *  - step is the number of this update (1 for the first), epoch of this epoch (1 for the
 *    first); hyper holds the rule's hyperparameters in its order (a bool as 0 or 1).
 *  - train and apply_update set nonfinite to 1 + the index of the first parameter whose
 *    gradient held an inf or NaN (its update is then applied: the caller must stop and
 *    keep nothing of this step), 0 when every gradient was finite. */
typedef struct nnrt_step {
  float *params;
  float *grads;
  float *state;
  float *buffers;
  const float *const *inputs;
  float *const *outputs;
  float *metrics;
  float *arena;
  int64_t batch, max_batch;
  int64_t step, epoch;
  uint64_t seed;
  const float *hyper;
  int32_t rule;
  int32_t nonfinite;
} nnrt_step;

/* Every entry point: returns the batch-mean loss (predict: 0).
 *   train         one training step with the update applied: forward, loss, backward and
 *                 rule `rule` on every parameter, the updates scheduled after every read of
 *                 what they overwrite; grads is scratch. Writes metrics.
 *   gradient      the same step without the update: the gradient of the mean loss into
 *                 grads (computed exactly as train computes it), and metrics.
 *   apply_update  rule `rule` on every parameter from grads: after gradient, train and this
 *                 leave params and state identical, bit for bit.
 *   evaluate      the loss and metrics of a batch.
 *   predict       the outputs of a batch into outputs[i] (batch * outputs[i].size floats);
 *                 reads only the inputs whose role is NNRT_ROLE_FEATURE (the others may be
 *                 NULL). */
typedef float (*nnrt_entry_fn)(nnrt_step *s);

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
  int32_t n_slots;  /* the parameters first, then the buffers */
  int32_t n_params;
  const nnrt_slot_desc *slots;
  int64_t param_floats;     /* size of the flat parameter (and gradient) buffer */
  int64_t buffer_floats;    /* size of the flat buffer of buffers */
  int64_t arena_fixed;      /* arena floats independent of the batch (every entry point's) */
  int64_t arena_per_sample; /* arena floats per sample of max_batch */
  int32_t n_options;
  const nnrt_option *options; /* the train block, in source order */
  int32_t n_rules;
  const nnrt_rule_desc *rules; /* the default (the train block's) first */
  nnrt_entry_fn train, gradient, apply_update, evaluate, predict;
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
