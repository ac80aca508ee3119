/* nnrt_internal.h: the runtime's internal interface, one section per file.
 *
 * Nothing here is part of the ABI (that is nnrt.h). Internal names carry the rt_ prefix
 * (functions) or Rt (types). Errors that a user can cause are reported as text in a
 * caller-supplied buffer, so that the unit tests can check the exact words and the
 * train program decides where they go and which exit status they earn.
 */
#ifndef NNRT_INTERNAL_H
#define NNRT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nnrt.h"

#define RT_VERSION "0.1.0"
#define RT_ERR_MAX 512 /* size of every error buffer */

/* Exit statuses of the train program. */
enum { RT_EXIT_OK = 0, RT_EXIT_ERROR = 1, RT_EXIT_USAGE = 2 };

/* ---- rng.c: xoshiro256** seeded through splitmix64 ---- */
typedef struct RtRng {
  uint64_t s[4];
} RtRng;

/* Independent streams from one seed: init and shuffling each get their own, so adding an
 * epoch or a parameter does not change the other's numbers. */
enum { RT_STREAM_INIT = 1, RT_STREAM_SHUFFLE = 2 };

void rt_rng_seed(RtRng *r, uint64_t seed, uint64_t stream);
uint64_t rt_rng_next(RtRng *r);
double rt_rng_uniform(RtRng *r);            /* [0, 1), 53 random bits */
uint64_t rt_rng_below(RtRng *r, uint64_t n); /* uniform in [0, n), unbiased; n > 0 */
double rt_rng_normal(RtRng *r);             /* N(0, 1) */

/* ---- init.c: parameter initialisers from the descriptor ---- */
void rt_init_params(const nnrt_model_desc *m, float *params, RtRng *r);
/* Fills x[0..n) per one initialiser; fan_in/fan_out only matter for glorot. */
void rt_init_fill(float *x, int64_t n, int32_t kind, float a, float b, int64_t fan_in,
                  int64_t fan_out, RtRng *r);
const char *rt_init_name(int32_t kind); /* NULL if unknown */

/* ---- optim.c: optimizers over flat buffers ---- */
typedef enum RtOptKind { RT_OPT_SGD, RT_OPT_MOMENTUM, RT_OPT_COUNT } RtOptKind;

typedef struct RtOptConfig {
  RtOptKind kind;
  float lr;
  float momentum;
} RtOptConfig;

int rt_optim_parse(const char *name, RtOptKind *out); /* 0 ok, -1 unknown name */
const char *rt_optim_name(RtOptKind k);
const char *rt_optim_names(void); /* "sgd, momentum": for messages */
/* Floats of state per parameter float; the state buffer starts zeroed. */
int rt_optim_state_per_param(RtOptKind k);
/* One update of w[0..n) from g; t is the 1-based step number (for bias corrections). */
void rt_optim_step(const RtOptConfig *c, float *w, const float *g, float *state, int64_t n,
                   int64_t t);

/* ---- dataset.c: an in-memory data set, shuffling, batch gathering ---- */
typedef struct RtDataset {
  int32_t n_inputs;
  int64_t n_samples;
  int64_t *size; /* [n_inputs] floats per sample */
  float **data;  /* [n_inputs] arrays of n_samples * size[i] floats, sample-major */
} RtDataset;

/* Shapes an empty data set after the model's inputs; -1 when out of memory. */
int rt_dataset_init(RtDataset *d, const nnrt_model_desc *m);
void rt_dataset_free(RtDataset *d);
/* perm[0..n) = 0..n-1. */
void rt_perm_identity(int64_t *perm, int64_t n);
/* Fisher-Yates over perm[0..n), uniform over permutations given a uniform generator. */
void rt_shuffle(int64_t *perm, int64_t n, RtRng *r);
/* Copies samples idx[0..count) of every input into out[i] (count * size[i] floats). */
void rt_gather(const RtDataset *d, const int64_t *idx, int64_t count, float *const *out);

/* ---- data_csv.c: the CSV reader ---- */
/* Parses text[0..len) named `name` into d (already shaped by rt_dataset_init) and returns
 * 0, or returns -1 with "name:line: error: ..." in err. */
int rt_csv_parse(const char *name, const char *text, size_t len, const nnrt_model_desc *m,
                 RtDataset *d, char *err, size_t errlen);
/* Reads the file at path, then rt_csv_parse. */
int rt_csv_load(const char *path, const nnrt_model_desc *m, RtDataset *d, char *err,
                size_t errlen);

/* ---- cli.c: the train program's flags ---- */
typedef struct RtOptions {
  const char *data; /* NULL: none anywhere */
  int data_from_model;
  int64_t epochs;
  int64_t batch;
  double lr;
  RtOptKind optimizer;
  double momentum;
  uint64_t seed;
  const char *log; /* NULL: no log */
  int quiet;
  int help, version; /* asked for; the caller prints and exits 0 */
} RtOptions;

/* Model defaults, then built-in defaults, then flags. Returns 0, or RT_EXIT_USAGE /
 * RT_EXIT_ERROR with the message (without the program-name prefix) in err. */
int rt_cli_parse(int argc, char **argv, const nnrt_model_desc *m, RtOptions *o, char *err,
                 size_t errlen);
void rt_cli_help(FILE *f, const char *prog, const nnrt_model_desc *m);
void rt_cli_version(FILE *f, const nnrt_model_desc *m);

/* ---- log.c: what the user sees during and after training ---- */
void rt_log_epoch(FILE *f, int64_t epoch, int64_t epochs, double loss, double samples_per_sec);
/* Opens the CSV log and writes its header; NULL with the reason in err. */
FILE *rt_log_open(const char *path, char *err, size_t errlen);
int rt_log_row(FILE *f, int64_t epoch, double loss, double samples_per_sec);
/* Prints parameters as `name = value` if all of them total at most 16 floats. */
void rt_log_params(FILE *f, const nnrt_model_desc *m, const float *params);

/* ---- model.c: descriptor checks ---- */
/* Checks the descriptor (abi_version first, before reading anything else) and returns 0,
 * or -1 with the reason in err. */
int rt_check_model(const nnrt_model_desc *m, char *err, size_t errlen);

/* ---- train.c: the train program ---- */
/* The whole program over one model: returns the exit status. */
int rt_main(const nnrt_model_desc *m, int argc, char **argv);

#endif
