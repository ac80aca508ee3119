/* cli.c: the train program's command line.
 *
 * Options are settled in three layers: built-in defaults, then the model's `train` block
 * (unset there = NULL or negative), then the flags, last one winning. --help shows the
 * first two layers merged, saying which values came from the model, so the help text is
 * the documentation of this particular executable. Flags take `--flag value` or
 * `--flag=value`; every malformed value is named with what was expected.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnrt_internal.h"

#define DEF_OPTIMIZER RT_OPT_SGD
#define DEF_LR 0.01
#define DEF_MOMENTUM 0.9
#define DEF_BATCH 32
#define DEF_EPOCHS 10
#define DEF_SEED 42

/* Which defaults the model's train block supplied. */
typedef struct FromModel {
  int data, epochs, batch, lr, optimizer, momentum, seed;
} FromModel;

static void defaults(const nnrt_model_desc *m, RtOptions *o, FromModel *fm) {
  const nnrt_train_defaults *t = &m->defaults;
  memset(o, 0, sizeof *o);
  memset(fm, 0, sizeof *fm);
  o->optimizer = DEF_OPTIMIZER;
  o->lr = DEF_LR;
  o->momentum = DEF_MOMENTUM;
  o->batch = DEF_BATCH;
  o->epochs = DEF_EPOCHS;
  o->seed = DEF_SEED;
  if (t->n_data_paths > 0 && t->data_paths[0]) o->data = t->data_paths[0], fm->data = 1;
  if (t->optimizer && rt_optim_parse(t->optimizer, &o->optimizer) == 0) fm->optimizer = 1;
  if (t->lr >= 0) o->lr = t->lr, fm->lr = 1;
  if (t->momentum >= 0) o->momentum = t->momentum, fm->momentum = 1;
  if (t->batch >= 0) o->batch = t->batch, fm->batch = 1;
  if (t->epochs >= 0) o->epochs = t->epochs, fm->epochs = 1;
  if (t->seed >= 0) o->seed = (uint64_t)t->seed, fm->seed = 1;
  o->data_from_model = fm->data;
}

typedef enum ValKind { V_NONE, V_PATH, V_POS_INT, V_NONNEG_INT, V_POS_NUM, V_FRACTION,
                       V_OPTIMIZER } ValKind;

static const char *expects(ValKind k) {
  switch (k) {
  case V_PATH: return "a file name";
  case V_POS_INT: return "a positive integer";
  case V_NONNEG_INT: return "a non-negative integer";
  case V_POS_NUM: return "a positive number";
  case V_FRACTION: return "a number in [0, 1)";
  case V_OPTIMIZER: return "one of sgd, momentum";
  case V_NONE: break;
  }
  return "no value";
}

typedef enum FlagId { F_DATA, F_EPOCHS, F_BATCH, F_LR, F_OPTIMIZER, F_MOMENTUM, F_SEED, F_LOG,
                      F_QUIET, F_VERSION, F_HELP } FlagId;

static const struct {
  const char *name;
  ValKind kind;
} flags[] = {
    [F_DATA] = {"data", V_PATH},          [F_EPOCHS] = {"epochs", V_NONNEG_INT},
    [F_BATCH] = {"batch", V_POS_INT},     [F_LR] = {"lr", V_POS_NUM},
    [F_OPTIMIZER] = {"optimizer", V_OPTIMIZER}, [F_MOMENTUM] = {"momentum", V_FRACTION},
    [F_SEED] = {"seed", V_NONNEG_INT},    [F_LOG] = {"log", V_PATH},
    [F_QUIET] = {"quiet", V_NONE},        [F_VERSION] = {"version", V_NONE},
    [F_HELP] = {"help", V_NONE},
};
enum { N_FLAGS = sizeof flags / sizeof flags[0] };

/* Integers are plain decimal digits: no sign, no spaces, no hex, nothing after. */
static int parse_uint(const char *s, uint64_t *out) {
  if (*s < '0' || *s > '9') return -1;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end || errno == ERANGE) return -1;
  *out = v;
  return 0;
}

static int parse_real(const char *s, double *out) {
  if (!*s || *s == ' ' || *s == '\t') return -1;
  char *end;
  double v = strtod(s, &end);
  if (*end || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

/* Stores the value of flag f; -1 if it is malformed. */
static int set_value(RtOptions *o, FlagId f, const char *v) {
  uint64_t u;
  double x;
  switch (flags[f].kind) {
  case V_PATH:
    if (!*v) return -1;
    *(f == F_DATA ? &o->data : &o->log) = v;
    if (f == F_DATA) o->data_from_model = 0;
    return 0;
  case V_POS_INT:
  case V_NONNEG_INT:
    /* Seeds may use all 64 bits; counts must fit the int64 the ABI uses. */
    if (parse_uint(v, &u) || (f != F_SEED && u > INT64_MAX) ||
        (flags[f].kind == V_POS_INT && u == 0))
      return -1;
    if (f == F_SEED)
      o->seed = u;
    else
      *(f == F_EPOCHS ? &o->epochs : &o->batch) = (int64_t)u;
    return 0;
  case V_POS_NUM:
    if (parse_real(v, &x) || !(x > 0)) return -1;
    o->lr = x;
    return 0;
  case V_FRACTION:
    if (parse_real(v, &x) || !(x >= 0 && x < 1)) return -1;
    o->momentum = x;
    return 0;
  case V_OPTIMIZER:
    return rt_optim_parse(v, &o->optimizer);
  case V_NONE: break;
  }
  return -1;
}

int rt_cli_parse(int argc, char **argv, const nnrt_model_desc *m, RtOptions *o, char *err,
                 size_t errlen) {
  FromModel fm;
  defaults(m, o, &fm);
  int optimizer_given = 0;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "-h") == 0) arg = "--help";
    if (arg[0] != '-') {
      snprintf(err, errlen, "unexpected argument '%s' (flags start with --; see --help)", arg);
      return RT_EXIT_USAGE;
    }
    const char *name = arg[1] == '-' ? arg + 2 : arg + 1;
    const char *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    int f = -1;
    if (arg[1] == '-')
      for (int k = 0; k < N_FLAGS; k++)
        if (strlen(flags[k].name) == nlen && strncmp(flags[k].name, name, nlen) == 0) f = k;
    if (f < 0) {
      snprintf(err, errlen, "unknown flag '%.*s' (see --help)", (int)(name - arg + nlen), arg);
      return RT_EXIT_USAGE;
    }
    if (flags[f].kind == V_NONE) {
      if (eq) {
        snprintf(err, errlen, "--%s takes no value", flags[f].name);
        return RT_EXIT_USAGE;
      }
      if (f == F_HELP || f == F_VERSION) {
        /* Answered at once, so that `train --help` works whatever else is on the line. */
        o->help = f == F_HELP;
        o->version = f == F_VERSION;
        return 0;
      }
      o->quiet = 1;
      continue;
    }
    const char *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
    if (!v) {
      snprintf(err, errlen, "--%s expects %s, got nothing", flags[f].name,
               expects(flags[f].kind));
      return RT_EXIT_USAGE;
    }
    if (set_value(o, (FlagId)f, v)) {
      snprintf(err, errlen, "--%s expects %s, got '%s'", flags[f].name, expects(flags[f].kind),
               v);
      return RT_EXIT_USAGE;
    }
    optimizer_given |= f == F_OPTIMIZER;
  }

  /* The train block may name things this runtime cannot do; that matters only when no
   * flag overrides them. */
  const nnrt_train_defaults *t = &m->defaults;
  if (!optimizer_given && t->optimizer && !fm.optimizer) {
    snprintf(err, errlen,
             "the model's train block asks for optimizer '%s', which this runtime does not "
             "support (it has %s); pass --optimizer",
             t->optimizer, rt_optim_names());
    return RT_EXIT_ERROR;
  }
  if (o->data_from_model) {
    if (t->data_format && strcmp(t->data_format, "csv") != 0) {
      snprintf(err, errlen,
               "the model's train block asks for %s data, which this runtime cannot read yet "
               "(it reads csv); pass --data FILE.csv",
               t->data_format);
      return RT_EXIT_ERROR;
    }
    if (t->n_data_paths > 1) {
      snprintf(err, errlen,
               "the model's train block names %d data files, but a CSV data set is one file; "
               "pass --data FILE",
               (int)t->n_data_paths);
      return RT_EXIT_ERROR;
    }
  }
  if (!o->data) {
    snprintf(err, errlen,
             "no training data: pass --data FILE or set data in the model's train block");
    return RT_EXIT_ERROR;
  }
  return 0;
}

static const char *from(int from_model) { return from_model ? ", from the model" : ""; }

void rt_cli_help(FILE *f, const char *prog, const nnrt_model_desc *m) {
  RtOptions o;
  FromModel fm;
  defaults(m, &o, &fm);
  const nnrt_train_defaults *t = &m->defaults;
  fprintf(f, "usage: %s [flags]\n\n", prog);
  fprintf(f, "Trains the model '%s' (compiled from %s) and prints what it learned.\n", m->name,
          m->source ? m->source : "an unknown file");
  fprintf(f, "The data's columns feed the model's inputs in order:");
  for (int32_t i = 0; i < m->n_inputs; i++)
    fprintf(f, "%s %s (%lld column%s)", i ? "," : "", m->inputs[i].name,
            (long long)m->inputs[i].size, m->inputs[i].size == 1 ? "" : "s");
  fprintf(f, ".\n\nflags:\n");
  if (o.data)
    fprintf(f, "  --data FILE        training data, a CSV file (default %s, from the model)\n",
            o.data);
  else
    fprintf(f, "  --data FILE        training data, a CSV file (required: the model names none)\n");
  fprintf(f, "  --epochs N         passes over the data (default %lld%s)\n",
          (long long)o.epochs, from(fm.epochs));
  fprintf(f, "  --batch N          samples per step (default %lld%s)\n", (long long)o.batch,
          from(fm.batch));
  fprintf(f, "  --lr X             learning rate (default %g%s)\n", o.lr, from(fm.lr));
  fprintf(f, "  --optimizer NAME   %s (default %s%s)\n", "sgd or momentum",
          fm.optimizer || !t->optimizer ? rt_optim_name(o.optimizer) : t->optimizer,
          t->optimizer ? ", from the model" : "");
  fprintf(f, "  --momentum X       momentum factor in [0, 1), for --optimizer momentum "
             "(default %g%s)\n",
          o.momentum, from(fm.momentum));
  fprintf(f, "  --seed N           seed of initialisation and shuffling (default %llu%s)\n",
          (unsigned long long)o.seed, from(fm.seed));
  fprintf(f, "  --log FILE         write a CSV log: epoch,loss,samples_per_sec\n");
  fprintf(f, "  --quiet            print no epoch lines\n");
  fprintf(f, "  --version          print the model, its source and the runtime's ABI version\n");
  fprintf(f, "  --help             print this help\n\n");
  fprintf(f, "Flags also take the form --flag=value. Exit status: 0 success, 1 error in the "
             "data or in training, 2 usage error.\n");
}

void rt_cli_version(FILE *f, const nnrt_model_desc *m) {
  fprintf(f, "model %s (compiled from %s)\n", m->name, m->source ? m->source : "an unknown file");
  fprintf(f, "libnnrt %s, ABI version %d\n", RT_VERSION, NNRT_ABI_VERSION);
}
