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
/* 130 = 128 + SIGINT, as a shell reports a run stopped by Ctrl-C. */
enum { RT_EXIT_OK = 0, RT_EXIT_ERROR = 1, RT_EXIT_USAGE = 2, RT_EXIT_INTERRUPTED = 130 };

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
/* Rule `rule`'s states for every parameter (state k of parameter i at k * param_floats +
 * its offset), each by its initialiser with the parameter's fans. */
void rt_init_states(const nnrt_model_desc *m, int32_t rule, float *state, RtRng *r);
/* State k of rule `rule` alone. */
void rt_init_state(const nnrt_model_desc *m, int32_t rule, int32_t k, float *state, RtRng *r);
/* Fills x[0..n) per one initialiser; fan_in/fan_out matter for glorot and he. */
void rt_init_fill(float *x, int64_t n, int32_t kind, float a, float b, int64_t fan_in,
                  int64_t fan_out, RtRng *r);
const char *rt_init_name(int32_t kind); /* NULL if unknown */

/* ---- grad.c: the whole gradient, between `gradient` and `apply_update` ---- */
/* sqrt(sum g^2), accumulated in double. */
double rt_grad_norm(const float *g, int64_t n);
void rt_grad_scale(float *g, int64_t n, float s);

/* ---- rule.c: the model's update rules and their hyperparameters ---- */
#define RT_MAX_HYPERS 64
#define RT_MAX_STATES 16
/* The rule named `name` (len bytes), or -1. */
int32_t rt_rule_find(const nnrt_model_desc *m, const char *name, size_t len);
/* The rule's hyperparameter named so ('_' and '-' alike), or -1. */
int32_t rt_hyper_find(const nnrt_rule_desc *r, const char *name, size_t len);
/* Whether some rule of the model has a hyperparameter of that name. */
int rt_hyper_known(const nnrt_model_desc *m, const char *name, size_t len);
/* "a number in (0, 1)", "true or false", "a number": what a setting must be. */
void rt_hyper_domain(const nnrt_hyper_desc *h, char *buf, size_t len);
/* Parses a setting (a number; true, false, 1 or 0 for a bool) and checks its domain; 0, or
 * -1 if it is malformed or outside. */
int rt_hyper_parse(const nnrt_hyper_desc *h, const char *v, double *out);
/* The setting as flags and checkpoints spell it: true/false, or the shortest number that
 * reads back as the same double. */
void rt_hyper_format(const nnrt_hyper_desc *h, double v, char *buf, size_t len);
/* "sgd, momentum, rmsprop": the model's rules, for messages. */
void rt_rule_names(const nnrt_model_desc *m, char *buf, size_t len);
/* "lr, rho, eps": a rule's hyperparameters. */
void rt_hyper_names(const nnrt_rule_desc *r, char *buf, size_t len);

/* ---- schedule.c: learning-rate schedules ---- */
typedef enum RtSchedKind {
  RT_SCHED_CONSTANT, RT_SCHED_STEP, RT_SCHED_MULTISTEP, RT_SCHED_EXPONENTIAL,
  RT_SCHED_INVERSE, RT_SCHED_POLYNOMIAL, RT_SCHED_COSINE, RT_SCHED_COUNT
} RtSchedKind;

#define RT_MAX_MILESTONES 32

typedef struct RtSchedule {
  RtSchedKind kind;
  double lr;         /* the base learning rate */
  double gamma;      /* step, multistep, exponential, inverse */
  double power;      /* inverse, polynomial */
  double end_lr;     /* polynomial, cosine: the final rate */
  int64_t step_size; /* step: epochs per decay */
  int64_t milestones[RT_MAX_MILESTONES]; /* multistep: epochs, increasing */
  int32_t n_milestones;
  int64_t decay_steps;     /* exponential, inverse: updates per gamma (0: one epoch);
                              polynomial, cosine: updates to the end (0: the whole run) */
  int64_t warmup;          /* updates of linear warm-up (0: none) */
  int64_t steps_per_epoch; /* optimizer updates per epoch, >= 1 */
  int64_t total_steps;     /* updates in the whole run, >= 1 */
} RtSchedule;

int rt_schedule_parse(const char *name, RtSchedKind *out);
const char *rt_schedule_name(RtSchedKind k);
const char *rt_schedule_names(void);
/* "3,6,9": strictly increasing positive integers; 0, or -1 if malformed. */
int rt_milestones_parse(const char *s, int64_t *out, int32_t *n);
/* The learning rate of update t (0-based: the number of updates already done). */
double rt_schedule_lr(const RtSchedule *s, int64_t t);

/* ---- file.c: whole files, gzip-compressed or not ---- */
typedef struct RtBytes {
  unsigned char *p;
  size_t len;
  int gzipped; /* the file was gzip data (detected by its magic), p holds it inflated */
} RtBytes;

/* Reads the file at path whole, inflating it if it starts with the gzip magic; 0, or -1
 * with "path: error: ..." in err. */
int rt_file_read(const char *path, RtBytes *b, char *err, size_t errlen);
/* Inflates gzip data src[0..n) (named `name` in messages) into b. */
int rt_gunzip(const char *name, const unsigned char *src, size_t n, RtBytes *b, char *err,
              size_t errlen);
void rt_bytes_free(RtBytes *b);

/* ---- dataset.c: an in-memory data set, shuffling, batch gathering ---- */
/* Asks the kernel to back p[0..n) with 2 MB pages, now: shuffled batches read rows
 * scattered over the whole set, and on 4 KB pages each row was a TLB miss. Advice only:
 * nothing changes where the kernel declines. */
void rt_huge_pages(const void *p, size_t n);
/* How an input's samples are stored: as the file had them where the input allows it
 * (u8 stays bytes), converted at gather time. */
typedef enum RtStore { RT_STORE_NONE = 0, RT_STORE_F32 = 1, RT_STORE_U8 = 2, RT_STORE_I32 = 3 } RtStore;

typedef struct RtDataset {
  int32_t n_inputs;
  int64_t n_samples;
  int64_t *size;  /* [n_inputs] elements per sample */
  int32_t *store; /* [n_inputs] RtStore; NONE: not loaded (predict needs no targets) */
  void **data;    /* [n_inputs] sample-major arrays of n_samples * size[i] elements */
  void **block;   /* [n_inputs] what to free (data may point into it) */
} RtDataset;

/* Shapes an empty data set after the model's inputs; -1 when out of memory. */
int rt_dataset_init(RtDataset *d, const nnrt_model_desc *m);
void rt_dataset_free(RtDataset *d);
/* Allocates input i's storage for n samples; -1 when out of memory. */
int rt_dataset_alloc(RtDataset *d, int32_t i, RtStore store, int64_t n);
/* perm[0..n) = 0..n-1. */
void rt_perm_identity(int64_t *perm, int64_t n);
/* Fisher-Yates over perm[0..n), uniform over permutations given a uniform generator. */
void rt_shuffle(int64_t *perm, int64_t n, RtRng *r);
/* Copies samples idx[0..count) of every loaded input into out[i] (count * size[i] floats),
 * converting from the stored type. */
void rt_gather(const RtDataset *d, const int64_t *idx, int64_t count, float *const *out);
const char *rt_dtype_name(int32_t dtype); /* "f32", "u8", "class" */
/* "u8[28, 28]", "class[10]", "f32" (scalar) into buf. */
void rt_type_str(const nnrt_tensor_desc *t, char *buf, size_t len);
/* "[60000, 28, 28]": a shape as data and checkpoint messages print it. */
void rt_dims_str(const int64_t *dims, int32_t rank, char *buf, size_t len);

/* ---- data_csv.c: the CSV reader ---- */
typedef struct RtCsvOptions {
  char delimiter;          /* ',' by default */
  const char *columns;     /* NULL: all, in order; else "1,3,5-8" or header names */
  int features_only;       /* predict: the file may hold only the feature inputs' columns */
} RtCsvOptions;

/* Parses text[0..len) named `name` into d (already shaped by rt_dataset_init) and returns
 * 0, or returns -1 with "name:line: error: ..." in err. */
int rt_csv_parse(const char *name, const char *text, size_t len, const nnrt_model_desc *m,
                 const RtCsvOptions *co, RtDataset *d, char *err, size_t errlen);
/* Reads the file at path (gzip or not), then rt_csv_parse. */
int rt_csv_load(const char *path, const nnrt_model_desc *m, const RtCsvOptions *co,
                RtDataset *d, char *err, size_t errlen);

/* ---- data_idx.c, data_npy.c: binary arrays ---- */
/* One array from a file: dims[0] samples, each of dims[1..rank). */
typedef struct RtArray {
  int32_t store; /* RtStore */
  int32_t rank;
  int64_t dims[NNRT_MAX_RANK + 1];
  void *data;          /* dims-product elements of the stored type */
  void *block;         /* what to free */
  int64_t data_offset; /* byte offset of the data in the (inflated) file */
  int32_t file_elsize; /* bytes per element in the file */
  const char *file_type; /* "u8", "f32", ... as the file stored it */
} RtArray;

/* Both take ownership of b (freed or kept as a->block) and return 0, or -1 with
 * "name: error: ..." in err. */
int rt_idx_parse(const char *name, RtBytes *b, RtArray *a, char *err, size_t errlen);
int rt_npy_parse(const char *name, RtBytes *b, RtArray *a, char *err, size_t errlen);
void rt_array_free(RtArray *a);
/* Writes x (dims[0..rank) floats, C order) as an NPY 1.0 '<f4' array; 0 or -1 (errno). */
int rt_npy_write(FILE *f, const float *x, int32_t rank, const int64_t *dims);

/* ---- data.c: data sources: FORMAT:PATH[,PATH...] ---- */
typedef enum RtFormat { RT_FMT_AUTO, RT_FMT_CSV, RT_FMT_IDX, RT_FMT_NPY } RtFormat;

/* Loads the data set a source spec names into d (shaped by rt_dataset_init): one file per
 * input in declaration order, or one CSV file for all of them (co->features_only: the
 * feature inputs may come alone). 0, or -1 with the message in err. */
int rt_data_load(const char *spec, const nnrt_model_desc *m, const RtCsvOptions *co,
                 RtDataset *d, char *err, size_t errlen);
/* Binds one array to input i of d: per-sample shape and value checks (u8 range, class
 * labels); takes the array's storage. */
int rt_data_bind(const char *name, RtArray *a, const nnrt_model_desc *m, int32_t i,
                 RtDataset *d, char *err, size_t errlen);

/* ---- cli.c: the train program's flags ---- */
typedef enum RtMode { RT_MODE_TRAIN, RT_MODE_EVAL, RT_MODE_PREDICT } RtMode;

/* Where an option's value came from, lowest layer first. */
enum { RT_FROM_BUILTIN, RT_FROM_MODEL, RT_FROM_CHECKPOINT, RT_FROM_FLAG };

enum { RT_N_FLAGS = 48 }; /* >= the number of flags in cli.c's table */

/* A setting of a rule's hyperparameter from one layer, kept by name until the rule is
 * known (the flags may name it after the setting). */
typedef struct RtHyperSetting {
  const char *key;
  size_t keylen;
  const char *value;
  unsigned char from; /* RT_FROM_* */
} RtHyperSetting;

typedef struct RtOptions {
  RtMode mode;
  const char *data, *val; /* source specs; NULL: none */
  double val_split;       /* 0: none */
  int64_t limit;          /* 0: all samples */
  const char *delimiter, *columns;
  int64_t epochs;
  int64_t batch; /* 0: all */
  int drop_last;
  uint64_t seed;
  int64_t threads; /* 0: OpenBLAS's default */
  const char *optimizer; /* the rule's name, as a layer gave it (NULL: the model's first) */
  double clip_norm;
  int64_t accumulate;
  int separate_update; /* never use the model's train entry point */
  RtSchedKind schedule;
  int64_t step_size;
  double gamma;
  const char *milestones;
  double power;
  int64_t decay_steps;
  double end_lr;
  int64_t warmup;
  int64_t patience;
  const char *monitor;
  double min_delta;
  const char *log;
  int64_t log_every;
  int quiet;
  const char *save;
  int64_t save_every;
  const char *load, *out;
  int help, version; /* asked for; the caller prints and exits 0 */
  RtHyperSetting set[RT_MAX_HYPERS * 2]; /* hyperparameter settings, the latest per key */
  int32_t n_set;
  /* Derived. */
  int64_t milestone_v[RT_MAX_MILESTONES];
  int32_t n_milestones;
  int32_t rule;                  /* the rule the run uses */
  double hyper[RT_MAX_HYPERS];   /* its hyperparameters */
  unsigned char hyper_from[RT_MAX_HYPERS]; /* RT_FROM_* of each */
  unsigned char from[RT_N_FLAGS]; /* RT_FROM_* per flag */
} RtOptions;

/* Built-in defaults, then the model's train block, then the flags (a leading `train`,
 * `eval` or `predict` picks the mode). Returns 0, or RT_EXIT_USAGE / RT_EXIT_ERROR with
 * the message (without the program-name prefix) in err. */
int rt_cli_parse(int argc, char **argv, const nnrt_model_desc *m, RtOptions *o, char *err,
                 size_t errlen);
/* Applies (key, value) settings as a layer of origin `from`, skipping flags set by a
 * higher layer; `what` names the layer in messages ("the checkpoint"). */
int rt_cli_apply(RtOptions *o, const nnrt_model_desc *m, int n, const char *const *keys,
                 const char *const *values, int from, const char *what, char *err,
                 size_t errlen);
/* The options that decide the training trajectory, formatted as flag values: fills at
 * most max keys/values (values written into store, a buffer of storelen bytes); returns
 * how many. */
int rt_cli_trajectory(const RtOptions *o, const nnrt_model_desc *m, const char **keys, const char **values,
                      int max, char *store, size_t storelen);
/* A note for a combination of flags that is valid but likely not what was meant (a flag's
 * rule keeping the train block's settings of another); 1 with the note in buf, else 0. */
int rt_cli_note(const RtOptions *o, const nnrt_model_desc *m, char *buf, size_t len);
/* The help of this program; o: what rt_cli_parse read before --help (its --optimizer). */
void rt_cli_help(FILE *f, const char *prog, const nnrt_model_desc *m, const RtOptions *o);
void rt_cli_version(FILE *f, const nnrt_model_desc *m);
/* Whether one of the train program's own flags is named so ('_' and '-' alike). */
int rt_cli_is_flag(const char *name, size_t len);

/* ---- log.c: what the user sees during and after training ---- */
typedef struct RtProgress {
  FILE *f;
  int tty;     /* update the line in place */
  int quiet;
  double last; /* when the line was last drawn */
} RtProgress;

/* One epoch's numbers, shared by the progress line and the CSV log. */
typedef struct RtEpochStats {
  int64_t epoch, epochs;
  int64_t step, steps; /* batches done / per epoch */
  double loss;
  const double *metrics; /* [n_metrics] */
  int has_val;
  double val_loss;
  const double *val_metrics;
  double lr, samples_per_sec, elapsed, eta;
} RtEpochStats;

void rt_progress_step(RtProgress *p, const nnrt_model_desc *m, const RtEpochStats *s);
void rt_progress_epoch(RtProgress *p, const nnrt_model_desc *m, const RtEpochStats *s);
/* Opens the CSV log and writes its header (with a step column if step_rows); NULL with
 * the reason in err. A run resumed after `resume_epoch` epochs and `resume_t` updates
 * (-1: not resumed) keeps the rows an existing log with the same header has up to there,
 * so the log reads as one run; rows past the checkpoint are written again. */
FILE *rt_log_open(const char *path, const nnrt_model_desc *m, int has_val, int step_rows,
                  int64_t resume_epoch, int64_t resume_t, char *err, size_t errlen);
int rt_log_row(FILE *f, const nnrt_model_desc *m, const RtEpochStats *s, int step_rows);
/* A step row: epoch, the global update count, the mean loss and metrics of the last
 * steps, empty validation columns. */
int rt_log_step_row(FILE *f, const nnrt_model_desc *m, int has_val, int64_t epoch,
                    int64_t step, double loss, const double *metrics, double lr);
/* Prints parameters as `name = value` if all of them total at most 16 floats. */
void rt_log_params(FILE *f, const nnrt_model_desc *m, const float *params);

/* ---- model.c: descriptor checks ---- */
/* Checks the descriptor (abi_version first, before reading anything else) and returns 0,
 * or -1 with the reason in err. */
int rt_check_model(const nnrt_model_desc *m, char *err, size_t errlen);

/* ---- checkpoint.c: saving and resuming training ---- */
#define RT_CKPT_MAGIC "NNRTCKPT"
#define RT_CKPT_VERSION 2
#define RT_CKPT_MAX_OPTIONS 128

/* Everything a resumed run needs to continue exactly. */
typedef struct RtTrainState {
  int64_t epoch;     /* epochs completed */
  int64_t batch_pos; /* samples of epoch+1 already trained on (0: at an epoch boundary) */
  int64_t t;         /* optimizer updates done */
  RtRng shuffle;
  int64_t n_perm;
  int64_t *perm;      /* [n_perm] this epoch's sample order */
  double loss_sum;    /* epoch+1 so far: sample-weighted sums */
  double *metric_sums; /* [n_metrics] */
  int64_t seen, steps;
  double best;        /* early stopping: best monitored value, at epoch best_epoch */
  int64_t best_epoch, wait;
  float *params;      /* [param_floats] */
  float *buffers;     /* [buffer_floats] */
  float *state;       /* [n_states * param_floats]: state k of parameter i at
                         k * param_floats + its offset */
  int32_t n_states;
  const char *state_names[RT_MAX_STATES];
  const char *rule;   /* the update rule the states belong to */
  int32_t n_options; /* the trajectory's options as flag values */
  const char *keys[RT_CKPT_MAX_OPTIONS], *values[RT_CKPT_MAX_OPTIONS];
  char *strings; /* loaded: the block the model name, optimizer and options live in */
} RtTrainState;

/* Writes s to path atomically (temp file in the same directory, fsync, rename, fsync of
 * the directory). Test hook: with NNRT_TEST_SAVE_CRASH set in the environment, the process
 * kills itself (SIGKILL) after writing half of the temp file. */
int rt_ckpt_save(const char *path, const nnrt_model_desc *m, const RtTrainState *s, char *err,
                 size_t errlen);
/* Reads path into s for model m: allocates s->params, s->buffers, s->state, s->perm,
 * s->metric_sums and the strings (rt_ckpt_free releases them). Refuses another model's file
 * naming the first mismatching slot, and a file of an older format saying so. */
int rt_ckpt_load(const char *path, const nnrt_model_desc *m, RtTrainState *s, char *err,
                 size_t errlen);
void rt_ckpt_free(RtTrainState *s);
uint32_t rt_crc32(const unsigned char *p, size_t n);

/* ---- main program (train.c, predict.c) ---- */
/* n floats, 64-byte aligned and zeroed; NULL if n overflows or memory is short. */
float *rt_alloc_floats(int64_t n);
/* Loads a source into d (shaped for m) and applies --limit; prints the message and
 * returns -1 on failure. */
int rt_load_source(const char *prog, const char *spec, const nnrt_model_desc *m,
                   const RtOptions *o, int features_only, RtDataset *d);
/* The subcommands: each returns the exit status. */
int rt_train_main(const char *prog, const nnrt_model_desc *m, RtOptions *o);
int rt_eval_main(const char *prog, const nnrt_model_desc *m, const RtOptions *o);
int rt_predict_main(const char *prog, const nnrt_model_desc *m, const RtOptions *o);
/* The whole program over one model: returns the exit status. */
int rt_main(const nnrt_model_desc *m, int argc, char **argv);

/* parallel.c: --threads. rt_set_threads gives the runtime's workers (which run
 * nnrt_parallel_for) `threads` threads in all, 0: as many as OpenBLAS would use
 * (OPENBLAS_NUM_THREADS, or all cores); OpenBLAS itself is set to one thread. Workers are
 * only ever added. */
void rt_set_threads(int64_t threads);
int rt_threads_start(int threads);
int rt_threads(void);

#endif
