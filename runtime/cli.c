/* cli.c: the train program's command line.
 *
 * Every option is one row of a table: its flag name, the kind of value it takes, where it
 * lives in RtOptions, its help text, and whether it decides the training trajectory (and
 * so goes into checkpoints). Options settle in layers, each overriding the one before:
 * built-in defaults, the model's `train` block (whose keys are the flag names, '_' and
 * '-' alike), a checkpoint being resumed (only where no flag was given), then the flags,
 * last one winning. --help shows the first two layers merged, saying which values came
 * from the model, so the help text is the documentation of this particular executable.
 * Flags take `--flag value` or `--flag=value`; every malformed value is named with what
 * was expected, with the same words whichever layer it came from.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "nnrt_internal.h"

typedef enum Kind {
  K_SPEC, K_PATH, K_TEXT, K_MILESTONES, K_DELIM, K_POS_INT, K_NONNEG_INT, K_SEED, K_BATCH,
  K_POS_NUM, K_NONNEG_NUM, K_FRACTION, K_OPEN01, K_OPTIMIZER, K_SCHEDULE, K_MONITOR, K_BOOL,
  K_ACTION
} Kind;

static const char *expects(Kind k) {
  switch (k) {
  case K_SPEC: return "[FORMAT:]PATH[,PATH...] (FORMAT csv, idx or npy)";
  case K_PATH: return "a file name";
  case K_TEXT: return "a list of columns (1-based numbers, ranges a-b or header names)";
  case K_MILESTONES: return "increasing positive integers separated by commas";
  case K_DELIM: return "one character, or 'tab'";
  case K_POS_INT: return "a positive integer";
  case K_NONNEG_INT:
  case K_SEED: return "a non-negative integer";
  case K_BATCH: return "a positive integer or 'all'";
  case K_POS_NUM: return "a positive number";
  case K_NONNEG_NUM: return "a non-negative number";
  case K_FRACTION: return "a number in [0, 1)";
  case K_OPEN01: return "a number in (0, 1)";
  case K_OPTIMIZER: return "one of sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw";
  case K_SCHEDULE: return "one of constant, step, multistep, exponential, inverse, polynomial, cosine";
  case K_MONITOR: return "loss, val_loss, or a metric name, optionally with val_";
  case K_BOOL: return "true or false";
  case K_ACTION: break;
  }
  return "no value";
}

#define OFF(field) offsetof(RtOptions, field)
#define NOFF ((size_t)-1)

typedef struct Flag {
  const char *name;
  Kind kind;
  size_t off;
  const char *meta; /* the value's placeholder in --help */
  const char *help;
  int trajectory; /* saved in checkpoints and restored on --load */
  const char *group; /* starts a group in --help */
} Flag;

static const Flag flags[] = {
    {"data", K_SPEC, OFF(data), "SOURCE", "training data: [FORMAT:]PATH[,PATH...], one file per input in order (csv: one file)", 0, "data"},
    {"val", K_SPEC, OFF(val), "SOURCE", "validation data, evaluated after every epoch (alias --validate)", 0, NULL},
    {"val-split", K_FRACTION, OFF(val_split), "X", "validate on the last fraction X of the training data instead (0: none)", 1, NULL},
    {"limit", K_NONNEG_INT, OFF(limit), "N", "use only the first N samples of each data set (0: all)", 1, NULL},
    {"delimiter", K_DELIM, OFF(delimiter), "C", "CSV field delimiter", 0, NULL},
    {"columns", K_TEXT, OFF(columns), "LIST", "CSV columns to use, in input order: 1-based numbers, a-b, or header names", 0, NULL},
    {"epochs", K_NONNEG_INT, OFF(epochs), "N", "passes over the training data", 1, "training"},
    {"batch", K_BATCH, OFF(batch), "N|all", "samples per step: 1 is true SGD, all is batch gradient descent", 1, NULL},
    {"drop-last", K_BOOL, OFF(drop_last), NULL, "skip each epoch's last partial batch", 1, NULL},
    {"seed", K_SEED, OFF(seed), "N", "seed of initialisation and shuffling", 1, NULL},
    {"threads", K_NONNEG_INT, OFF(threads), "N", "threads for the matrix products, optimizer updates and large elementwise loops (0: OPENBLAS_NUM_THREADS, or all cores)", 1, NULL},
    {"optimizer", K_OPTIMIZER, OFF(optimizer), "NAME", "sgd, momentum, nesterov, adagrad, rmsprop, adam or adamw", 1, "optimizer"},
    {"lr", K_POS_NUM, OFF(lr), "X", "learning rate (the schedule's base rate)", 1, NULL},
    {"momentum", K_FRACTION, OFF(momentum), "X", "momentum factor (momentum, nesterov; rmsprop's optional momentum)", 1, NULL},
    {"rho", K_OPEN01, OFF(rho), "X", "rmsprop's decay of the squared-gradient average", 1, NULL},
    {"eps", K_POS_NUM, OFF(eps), "X", "adagrad, rmsprop, adam, adamw: added to the denominator", 1, NULL},
    {"beta1", K_OPEN01, OFF(beta1), "X", "adam, adamw: decay of the gradient average", 1, NULL},
    {"beta2", K_OPEN01, OFF(beta2), "X", "adam, adamw: decay of the squared-gradient average", 1, NULL},
    {"centered", K_BOOL, OFF(centered), NULL, "rmsprop: divide by the gradient's variance, not its second moment", 1, NULL},
    {"weight-decay", K_NONNEG_NUM, OFF(weight_decay), "X", "L2 factor added to the gradient (adamw: decoupled decay)", 1, NULL},
    {"l1", K_NONNEG_NUM, OFF(l1), "X", "L1 factor: adds l1 * sign(w) to the gradient", 1, NULL},
    {"clip-norm", K_NONNEG_NUM, OFF(clip_norm), "X", "scale the gradient down to this global norm (0: no clipping)", 1, NULL},
    {"accumulate", K_POS_INT, OFF(accumulate), "N", "average the gradients of N batches per update (Caffe's iter_size)", 1, NULL},
    {"separate-update", K_BOOL, OFF(separate_update), NULL, "apply sgd, momentum, nesterov and plain rmsprop after the compiled step, not inside it (slower; for checking)", 1, NULL},
    {"schedule", K_SCHEDULE, OFF(schedule), "NAME", "learning-rate schedule: constant, step, multistep, exponential, inverse, polynomial, cosine", 1, "schedule"},
    {"step-size", K_POS_INT, OFF(step_size), "N", "step: epochs between decays by gamma", 1, NULL},
    {"gamma", K_POS_NUM, OFF(gamma), "X", "step, multistep, exponential: decay factor; inverse: rate", 1, NULL},
    {"milestones", K_MILESTONES, OFF(milestones), "E1,E2,...", "multistep: epochs after which the rate decays by gamma", 1, NULL},
    {"power", K_POS_NUM, OFF(power), "X", "inverse, polynomial: exponent", 1, NULL},
    {"decay-steps", K_NONNEG_INT, OFF(decay_steps), "N", "updates per gamma (exponential, inverse) or to the end (polynomial, cosine); 0: one epoch / the whole run", 1, NULL},
    {"end-lr", K_NONNEG_NUM, OFF(end_lr), "X", "polynomial, cosine: the final rate", 1, NULL},
    {"warmup", K_NONNEG_INT, OFF(warmup), "N", "updates of linear warm-up", 1, NULL},
    {"patience", K_NONNEG_INT, OFF(patience), "N", "stop after N epochs without improvement of --monitor (0: never)", 1, "early stopping"},
    {"monitor", K_MONITOR, OFF(monitor), "NAME", "what early stopping watches: loss, val_loss, a metric or val_<metric>", 1, NULL},
    {"min-delta", K_NONNEG_NUM, OFF(min_delta), "X", "the smallest change that counts as an improvement", 1, NULL},
    {"log", K_PATH, OFF(log), "FILE", "write a CSV log, one row per epoch: epoch,loss,<metrics>,val_loss,val_<metrics>,lr,samples_per_sec (a resumed run keeps the rows up to its checkpoint)", 0, "output"},
    {"log-every", K_NONNEG_INT, OFF(log_every), "N", "also log a row every N steps (adds a step column; 0: none)", 0, NULL},
    {"quiet", K_BOOL, OFF(quiet), NULL, "print no progress lines", 0, NULL},
    {"save", K_PATH, OFF(save), "FILE", "save a checkpoint at the end (and on Ctrl-C), written atomically", 0, NULL},
    {"save-every", K_NONNEG_INT, OFF(save_every), "N", "also save every N epochs (0: only at the end)", 0, NULL},
    {"load", K_PATH, OFF(load), "FILE", "resume from a checkpoint (eval, predict: the parameters to use)", 0, NULL},
    {"out", K_PATH, OFF(out), "FILE", "predict: write the outputs to FILE, NPY if it ends in .npy, else CSV (none: CSV on stdout)", 0, NULL},
    {"version", K_ACTION, NOFF, NULL, "print the model, its source and the runtime's ABI version", 0, "other"},
    {"help", K_ACTION, NOFF, NULL, "print this help", 0, NULL},
};
enum { N_FLAGS = sizeof flags / sizeof flags[0] };
_Static_assert((int)N_FLAGS <= (int)RT_N_FLAGS, "RT_N_FLAGS is too small");

/* Names match with '_' and '-' alike, so the train block's weight_decay is --weight-decay. */
static int name_eq(const char *a, size_t alen, const char *b) {
  size_t i = 0;
  for (; i < alen && b[i]; i++) {
    char x = a[i] == '_' ? '-' : a[i], y = b[i] == '_' ? '-' : b[i];
    if (x != y) return 0;
  }
  return i == alen && b[i] == 0;
}

static int find_flag(const char *name, size_t len) {
  if (name_eq(name, len, "validate")) return find_flag("val", 3);
  for (int k = 0; k < N_FLAGS; k++)
    if (name_eq(name, len, flags[k].name)) return k;
  return -1;
}

static void builtins(RtOptions *o) {
  memset(o, 0, sizeof *o);
  o->epochs = 10;
  o->batch = 32;
  o->seed = 42;
  o->optimizer = RT_OPT_SGD;
  o->lr = 0.01;
  o->momentum = -1; /* the optimizer's own: 0.9 for momentum and nesterov, 0 for rmsprop */
  o->rho = 0.9;
  o->eps = 1e-7;
  o->beta1 = 0.9;
  o->beta2 = 0.999;
  o->accumulate = 1;
  o->schedule = RT_SCHED_CONSTANT;
  o->step_size = 1;
  o->gamma = 0.1;
  o->power = 1;
  o->monitor = "val_loss";
  o->delimiter = ",";
}

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
static int set_value(RtOptions *o, int f, const char *v) {
  const Flag *fl = &flags[f];
  char *base = (char *)o + fl->off;
  uint64_t u;
  double x;
  switch (fl->kind) {
  case K_SPEC:
  case K_PATH:
  case K_TEXT:
  case K_MONITOR:
    if (!*v) return -1;
    *(const char **)base = v;
    return 0;
  case K_MILESTONES: {
    int64_t ms[RT_MAX_MILESTONES];
    int32_t n;
    if (rt_milestones_parse(v, ms, &n)) return -1;
    *(const char **)base = v;
    return 0;
  }
  case K_DELIM:
    if (strcmp(v, "tab") != 0 && strcmp(v, "\\t") != 0 && (strlen(v) != 1 || *v == '\n' ||
                                                            *v == '\r' || *v == '"'))
      return -1;
    *(const char **)base = v;
    return 0;
  case K_POS_INT:
  case K_NONNEG_INT:
    if (parse_uint(v, &u) || u > INT64_MAX || (fl->kind == K_POS_INT && u == 0)) return -1;
    *(int64_t *)base = (int64_t)u;
    return 0;
  case K_SEED:
    if (parse_uint(v, &u)) return -1;
    *(uint64_t *)base = u;
    return 0;
  case K_BATCH:
    if (strcmp(v, "all") == 0) {
      *(int64_t *)base = 0;
      return 0;
    }
    if (parse_uint(v, &u) || u == 0 || u > INT64_MAX) return -1;
    *(int64_t *)base = (int64_t)u;
    return 0;
  case K_POS_NUM:
  case K_NONNEG_NUM:
  case K_FRACTION:
  case K_OPEN01:
    if (parse_real(v, &x)) return -1;
    if (fl->kind == K_POS_NUM && !(x > 0)) return -1;
    if (fl->kind == K_NONNEG_NUM && !(x >= 0)) return -1;
    if (fl->kind == K_FRACTION && !(x >= 0 && x < 1)) return -1;
    if (fl->kind == K_OPEN01 && !(x > 0 && x < 1)) return -1;
    *(double *)base = x;
    return 0;
  case K_OPTIMIZER:
    return rt_optim_parse(v, (RtOptKind *)base);
  case K_SCHEDULE:
    return rt_schedule_parse(v, (RtSchedKind *)base);
  case K_BOOL:
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) *(int *)base = 1;
    else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) *(int *)base = 0;
    else return -1;
    return 0;
  case K_ACTION: break;
  }
  return -1;
}

/* The value of flag f as --help and checkpoints spell it. */
static void format_value(const RtOptions *o, int f, char *buf, size_t len) {
  const Flag *fl = &flags[f];
  const char *base = (const char *)o + fl->off;
  switch (fl->kind) {
  case K_SPEC:
  case K_PATH:
  case K_TEXT:
  case K_MONITOR:
  case K_MILESTONES:
  case K_DELIM: {
    const char *s = *(const char *const *)base;
    snprintf(buf, len, "%s", s ? s : "");
    return;
  }
  case K_POS_INT:
  case K_NONNEG_INT: snprintf(buf, len, "%lld", (long long)*(const int64_t *)base); return;
  case K_SEED: snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)base); return;
  case K_BATCH: {
    int64_t b = *(const int64_t *)base;
    if (b == 0) snprintf(buf, len, "all");
    else snprintf(buf, len, "%lld", (long long)b);
    return;
  }
  case K_POS_NUM:
  case K_NONNEG_NUM:
  case K_FRACTION:
  case K_OPEN01: {
    /* The shortest spelling that reads back as the same double. */
    double x = *(const double *)base;
    for (int prec = 6; prec <= 17; prec++) {
      snprintf(buf, len, "%.*g", prec, x);
      if (strtod(buf, NULL) == x) break;
    }
    return;
  }
  case K_OPTIMIZER: snprintf(buf, len, "%s", rt_optim_name(*(const RtOptKind *)base)); return;
  case K_SCHEDULE: snprintf(buf, len, "%s", rt_schedule_name(*(const RtSchedKind *)base)); return;
  case K_BOOL: snprintf(buf, len, "%s", *(const int *)base ? "true" : "false"); return;
  case K_ACTION: break;
  }
  snprintf(buf, len, "%s", "");
}

/* Checks that need several options, or the model, once all layers are in. */
static int finish(RtOptions *o, const nnrt_model_desc *m, char *err, size_t errlen) {
  if (o->milestones && rt_milestones_parse(o->milestones, o->milestone_v, &o->n_milestones)) {
    snprintf(err, errlen, "--milestones expects %s, got '%s'", expects(K_MILESTONES),
             o->milestones);
    return RT_EXIT_USAGE;
  }
  if (!o->milestones) o->n_milestones = 0;
  if (o->schedule == RT_SCHED_MULTISTEP && o->n_milestones == 0) {
    snprintf(err, errlen, "--schedule multistep needs --milestones (e.g. --milestones 3,6)");
    return RT_EXIT_USAGE;
  }
  if (o->val && o->val_split > 0) {
    snprintf(err, errlen, "--val and --val-split both ask for validation data; give one");
    return RT_EXIT_USAGE;
  }
  const char *mon = o->monitor;
  int ok = strcmp(mon, "loss") == 0 || strcmp(mon, "val_loss") == 0;
  for (int32_t i = 0; !ok && i < m->n_metrics; i++)
    ok = strcmp(mon, m->metric_names[i]) == 0 ||
         (strncmp(mon, "val_", 4) == 0 && strcmp(mon + 4, m->metric_names[i]) == 0);
  if (!ok) {
    char names[256] = "loss, val_loss";
    size_t used = strlen(names);
    for (int32_t i = 0; i < m->n_metrics && used < sizeof names; i++)
      used += (size_t)snprintf(names + used, sizeof names - used, ", %s, val_%s",
                               m->metric_names[i], m->metric_names[i]);
    snprintf(err, errlen, "--monitor expects one of %s, got '%s'", names, mon);
    return RT_EXIT_USAGE;
  }
  if (o->patience > 0 && strncmp(mon, "val_", 4) == 0 && !o->val && !(o->val_split > 0) &&
      o->mode == RT_MODE_TRAIN) {
    snprintf(err, errlen,
             "--patience watches %s, but there is no validation data: pass --val or "
             "--val-split, or --monitor loss",
             mon);
    return RT_EXIT_USAGE;
  }
  if (o->mode != RT_MODE_TRAIN && !o->load) {
    snprintf(err, errlen, "%s needs --load FILE (a checkpoint written by --save)",
             o->mode == RT_MODE_EVAL ? "eval" : "predict");
    return RT_EXIT_USAGE;
  }
  if (!o->data && !(o->mode == RT_MODE_EVAL && o->val)) {
    snprintf(err, errlen,
             "no %s data: pass --data SOURCE or set data in the model's train block",
             o->mode == RT_MODE_TRAIN ? "training" : o->mode == RT_MODE_EVAL ? "evaluation"
                                                                             : "input");
    return RT_EXIT_ERROR;
  }
  return 0;
}

int rt_cli_apply(RtOptions *o, const nnrt_model_desc *m, int n, const char *const *keys,
                 const char *const *values, int from, const char *what, char *err,
                 size_t errlen) {
  for (int i = 0; i < n; i++) {
    int f = keys[i] ? find_flag(keys[i], strlen(keys[i])) : -1;
    if (f < 0 || flags[f].kind == K_ACTION) {
      snprintf(err, errlen, "%s sets '%s', which this runtime does not know (see --help)", what,
               keys[i] ? keys[i] : "(null)");
      return RT_EXIT_ERROR;
    }
    if (o->from[f] > from) continue;
    const char *v = values[i] ? values[i] : "";
    if (set_value(o, f, v)) {
      snprintf(err, errlen, "%s sets %s to '%s': expected %s", what, keys[i], v,
               expects(flags[f].kind));
      return RT_EXIT_ERROR;
    }
    o->from[f] = (unsigned char)from;
  }
  return from == RT_FROM_MODEL ? 0 : finish(o, m, err, errlen);
}

/* The built-ins and the train block. A bad entry is remembered (the first one, with its
 * flag in *bad_flag, -1 if the key is unknown) rather than fatal at once, because a flag
 * may yet override it. */
static int model_layer(RtOptions *o, const nnrt_model_desc *m, int *bad_flag, char *err,
                       size_t errlen) {
  builtins(o);
  int rc = 0;
  *bad_flag = -1;
  char e[RT_ERR_MAX];
  for (int32_t i = 0; i < m->n_options; i++) {
    const char *key = m->options[i].key, *value = m->options[i].value;
    int r = rt_cli_apply(o, m, 1, &key, &value, RT_FROM_MODEL, "the model's train block", e,
                         sizeof e);
    if (r && !rc) {
      rc = r;
      *bad_flag = key ? find_flag(key, strlen(key)) : -1;
      snprintf(err, errlen, "%s", e);
    }
  }
  return rc;
}

int rt_cli_note(const RtOptions *o, const nnrt_model_desc *m, char *buf, size_t len) {
  int fo = find_flag("optimizer", 9), fm = find_flag("momentum", 8);
  if (o->from[fo] != RT_FROM_FLAG || o->optimizer != RT_OPT_RMSPROP || o->from[fm] != RT_FROM_MODEL ||
      !(o->momentum > 0))
    return 0;
  const char *block = NULL;
  for (int32_t i = 0; i < m->n_options; i++)
    if (m->options[i].key && strcmp(m->options[i].key, "optimizer") == 0) block = m->options[i].value;
  if (block && strcmp(block, "rmsprop") == 0) return 0;
  snprintf(buf, len,
           "--optimizer rmsprop keeps the train block's momentum %g: RMSprop with momentum "
           "(--momentum 0 for plain RMSprop)",
           o->momentum);
  return 1;
}

int rt_cli_parse(int argc, char **argv, const nnrt_model_desc *m, RtOptions *o, char *err,
                 size_t errlen) {
  int bad_flag;
  int rc = model_layer(o, m, &bad_flag, err, errlen);
  int first = 1;
  if (argc > 1 && argv[1]) {
    if (strcmp(argv[1], "train") == 0) first = 2;
    else if (strcmp(argv[1], "eval") == 0) o->mode = RT_MODE_EVAL, first = 2;
    else if (strcmp(argv[1], "predict") == 0) o->mode = RT_MODE_PREDICT, first = 2;
  }
  for (int i = first; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "-h") == 0) arg = "--help";
    if (arg[0] != '-') {
      snprintf(err, errlen,
               "unexpected argument '%s' (flags start with --; the subcommands eval and "
               "predict come first; see --help)",
               arg);
      return RT_EXIT_USAGE;
    }
    const char *name = arg[1] == '-' ? arg + 2 : arg + 1;
    const char *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    int f = arg[1] == '-' ? find_flag(name, nlen) : -1;
    if (f >= 0 && memchr(name, '_', nlen)) f = -1; /* flags are spelled with '-' */
    if (f < 0) {
      snprintf(err, errlen, "unknown flag '%.*s' (see --help)", (int)(name - arg + nlen), arg);
      return RT_EXIT_USAGE;
    }
    if (flags[f].kind == K_ACTION) {
      if (eq) {
        snprintf(err, errlen, "--%s takes no value", flags[f].name);
        return RT_EXIT_USAGE;
      }
      /* Answered at once, so that `train --help` works whatever else is on the line (and
       * whatever the train block says). */
      o->help = strcmp(flags[f].name, "help") == 0;
      o->version = !o->help;
      return 0;
    }
    const char *v;
    if (flags[f].kind == K_BOOL)
      v = eq ? eq + 1 : "true";
    else
      v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
    if (!v) {
      snprintf(err, errlen, "--%s expects %s, got nothing", flags[f].name,
               expects(flags[f].kind));
      return RT_EXIT_USAGE;
    }
    if (set_value(o, f, v)) {
      snprintf(err, errlen, "--%s expects %s, got '%s'", flags[f].name, expects(flags[f].kind),
               v);
      return RT_EXIT_USAGE;
    }
    o->from[f] = RT_FROM_FLAG;
  }
  /* A bad train block matters only where no flag overrides it; report it now. */
  if (rc && !(bad_flag >= 0 && o->from[bad_flag] == RT_FROM_FLAG)) return rc;
  return finish(o, m, err, errlen);
}

int rt_cli_trajectory(const RtOptions *o, const char **keys, const char **values, int max,
                      char *store, size_t storelen) {
  int n = 0;
  size_t used = 0;
  for (int f = 0; f < N_FLAGS && n < max; f++) {
    if (!flags[f].trajectory) continue;
    const char *base = (const char *)o + flags[f].off;
    int is_str = flags[f].kind == K_MILESTONES || flags[f].kind == K_TEXT;
    if (is_str && !*(const char *const *)base) continue;
    if (base == (const char *)&o->momentum && o->momentum < 0) continue; /* the optimizer's own */
    char v[128];
    format_value(o, f, v, sizeof v);
    size_t len = strlen(v) + 1;
    if (used + len > storelen) break;
    memcpy(store + used, v, len);
    keys[n] = flags[f].name;
    values[n++] = store + used;
    used += len;
  }
  return n;
}

static void print_flag(FILE *f, const RtOptions *o, int k, int from_model) {
  const Flag *fl = &flags[k];
  char left[48], def[160];
  snprintf(left, sizeof left, "--%s%s%s", fl->name, fl->meta ? " " : "",
           fl->meta ? fl->meta : "");
  def[0] = 0;
  const char *name = fl->name;
  if (fl->kind == K_ACTION) {
  } else if (strcmp(name, "momentum") == 0 && o->momentum < 0) {
    snprintf(def, sizeof def, " (default 0.9 for momentum and nesterov, 0 for rmsprop)");
  } else {
    char v[128];
    format_value(o, k, v, sizeof v);
    if (fl->kind == K_BOOL || fl->kind == K_DELIM || *v)
      snprintf(def, sizeof def, " (default %s%s)", v, from_model ? ", from the model" : "");
    else if (strcmp(name, "data") == 0)
      snprintf(def, sizeof def, " (required: the model names none)");
    else
      snprintf(def, sizeof def, " (default none)");
  }
  fprintf(f, "  %-22s %s%s\n", left, fl->help, def);
}

void rt_cli_help(FILE *f, const char *prog, const nnrt_model_desc *m) {
  RtOptions o;
  char err[RT_ERR_MAX];
  int bad_flag;
  int bad = model_layer(&o, m, &bad_flag, err, sizeof err);
  fprintf(f, "usage: %s [train] [flags]\n", prog);
  fprintf(f, "       %s eval --load FILE [--data SOURCE] [flags]\n", prog);
  fprintf(f, "       %s predict --load FILE --data SOURCE [--out FILE] [flags]\n\n", prog);
  fprintf(f, "Trains the model '%s' (compiled from %s).\n", m->name,
          m->source ? m->source : "an unknown file");
  fprintf(f, "Inputs, in the order data files and CSV columns feed them:");
  for (int32_t i = 0; i < m->n_inputs; i++) {
    char type[96];
    rt_type_str(&m->inputs[i], type, sizeof type);
    fprintf(f, "%s %s : %s%s", i ? "," : "", m->inputs[i].name, type,
            m->inputs[i].role == NNRT_ROLE_TARGET ? " (target)" : "");
  }
  fprintf(f, ".\n");
  if (m->n_metrics > 0) {
    fprintf(f, "Metrics:");
    for (int32_t i = 0; i < m->n_metrics; i++)
      fprintf(f, "%s %s", i ? "," : "", m->metric_names[i]);
    fprintf(f, ".\n");
  }
  if (bad) fprintf(f, "Warning: %s.\n", err);
  for (int k = 0; k < N_FLAGS; k++) {
    if (flags[k].group) fprintf(f, "\n%s flags:\n", flags[k].group);
    print_flag(f, &o, k, o.from[k] == RT_FROM_MODEL);
  }
  fprintf(f,
          "\nSOURCE is [FORMAT:]PATH[,PATH...] with FORMAT csv, idx or npy (by default detected "
          "from\nthe files' content); gzip-compressed files are read as they are. Flags also "
          "take the\nform --flag=value, and every flag can be set in the model's train block "
          "under the\nsame name. Exit status: 0 success, 1 error in the data or in training, 2 "
          "usage error,\n130 interrupted (Ctrl-C; the checkpoint of --save is written first).\n");
}

void rt_cli_version(FILE *f, const nnrt_model_desc *m) {
  fprintf(f, "model %s (compiled from %s)\n", m->name, m->source ? m->source : "an unknown file");
  fprintf(f, "libnnrt %s, ABI version %d\n", RT_VERSION, NNRT_ABI_VERSION);
}
