/* cli.c: the train program's command line.
 *
 * Every option is one row of a table: its flag name, the kind of value it takes, where it
 * lives in RtOptions, its help text, and whether it decides the training trajectory (and
 * so goes into checkpoints). The update rule's hyperparameters are flags too, but they are
 * the model's (rule.c): --lr, --beta1, ... exist when the rule the run uses declares them,
 * with its defaults and its domains, and settle once the rule is known (the flags may name
 * it after setting them). Options settle in layers, each overriding the one before:
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
  case K_OPTIMIZER: return "the name of one of the model's optimizers";
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
    {"optimizer", K_OPTIMIZER, OFF(optimizer), "NAME", "the update rule, one of", 1, "optimizer"},
    {"clip-norm", K_NONNEG_NUM, OFF(clip_norm), "X", "scale the gradient down to this global norm (0: no clipping)", 1, NULL},
    {"accumulate", K_POS_INT, OFF(accumulate), "N", "average the gradients of N batches per update (Caffe's iter_size)", 1, NULL},
    {"separate-update", K_BOOL, OFF(separate_update), NULL, "compute the whole gradient, then apply the rule (the path --clip-norm and --accumulate take; it trains identically)", 1, NULL},
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
  case K_OPTIMIZER: /* a rule's name: checked against the model once all layers are in */
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
  case K_DELIM:
  case K_OPTIMIZER: {
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
  case K_SCHEDULE: snprintf(buf, len, "%s", rt_schedule_name(*(const RtSchedKind *)base)); return;
  case K_BOOL: snprintf(buf, len, "%s", *(const int *)base ? "true" : "false"); return;
  case K_ACTION: break;
  }
  snprintf(buf, len, "%s", "");
}

static int keys_eq(const char *a, size_t alen, const char *b, size_t blen) {
  if (alen != blen) return 0;
  for (size_t i = 0; i < alen; i++)
    if ((a[i] == '_' ? '-' : a[i]) != (b[i] == '_' ? '-' : b[i])) return 0;
  return 1;
}

/* Keeps a hyperparameter setting of layer `from`, unless a higher layer set the key. */
static void record_setting(RtOptions *o, const char *key, size_t len, const char *value, int from) {
  for (int32_t i = 0; i < o->n_set; i++)
    if (keys_eq(o->set[i].key, o->set[i].keylen, key, len)) {
      if (o->set[i].from <= from) o->set[i] = (RtHyperSetting){key, len, value, (unsigned char)from};
      return;
    }
  if (o->n_set < (int32_t)(sizeof o->set / sizeof *o->set))
    o->set[o->n_set++] = (RtHyperSetting){key, len, value, (unsigned char)from};
}

static const char *layer_name(int from) {
  return from == RT_FROM_MODEL ? "the model's train block" : from == RT_FROM_CHECKPOINT ? "the checkpoint" : "a flag";
}

/* The rule the run uses (the last layer's --optimizer, else the model's first) and its
 * hyperparameters: its defaults, then every setting that names one of them. */
static int settle_rule(RtOptions *o, const nnrt_model_desc *m, char *err, size_t errlen) {
  char names[512];
  if (m->n_rules < 1) {
    snprintf(err, errlen, "this model was compiled without an optimizer to train with");
    return RT_EXIT_ERROR;
  }
  int fo = find_flag("optimizer", 9);
  int32_t r = 0;
  if (o->optimizer && (r = rt_rule_find(m, o->optimizer, strlen(o->optimizer))) < 0) {
    rt_rule_names(m, names, sizeof names);
    if (o->from[fo] == RT_FROM_FLAG) {
      snprintf(err, errlen, "--optimizer expects one of the model's optimizers (%s), got '%s'", names, o->optimizer);
      return RT_EXIT_USAGE;
    }
    snprintf(err, errlen, "%s sets optimizer to '%s', which this model has no rule for (it has %s)",
             layer_name(o->from[fo]), o->optimizer, names);
    return RT_EXIT_ERROR;
  }
  o->rule = r;
  const nnrt_rule_desc *rd = &m->rules[r];
  for (int32_t k = 0; k < rd->n_hypers; k++) o->hyper[k] = rd->hypers[k].value, o->hyper_from[k] = RT_FROM_BUILTIN;
  for (int32_t i = 0; i < o->n_set; i++) {
    const RtHyperSetting *st = &o->set[i];
    int32_t k = rt_hyper_find(rd, st->key, st->keylen);
    if (k < 0) {
      if (st->from != RT_FROM_FLAG) continue; /* another rule's setting */
      rt_hyper_names(rd, names, sizeof names);
      snprintf(err, errlen, "--%.*s is not a setting of optimizer '%s' (its settings: %s)", (int)st->keylen, st->key,
               rd->name, names);
      return RT_EXIT_USAGE;
    }
    double v;
    if (rt_hyper_parse(&rd->hypers[k], st->value, &v)) {
      char dom[96];
      rt_hyper_domain(&rd->hypers[k], dom, sizeof dom);
      if (st->from == RT_FROM_FLAG) {
        snprintf(err, errlen, "--%.*s expects %s, got '%s'", (int)st->keylen, st->key, dom, st->value);
        return RT_EXIT_USAGE;
      }
      snprintf(err, errlen, "%s sets %s to '%s': expected %s", layer_name(st->from), rd->hypers[k].name, st->value,
               dom);
      return RT_EXIT_ERROR;
    }
    o->hyper[k] = v;
    o->hyper_from[k] = st->from;
  }
  if ((o->schedule != RT_SCHED_CONSTANT || o->warmup > 0) && rt_hyper_find(rd, "lr", 2) < 0) {
    snprintf(err, errlen, "--schedule and --warmup set the learning rate, but optimizer '%s' has no lr", rd->name);
    return RT_EXIT_USAGE;
  }
  return 0;
}

/* Checks that need several options, or the model, once all layers are in. */
static int finish(RtOptions *o, const nnrt_model_desc *m, char *err, size_t errlen) {
  int rc = settle_rule(o, m, err, errlen);
  if (rc) return rc;
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
    if (f < 0 && keys[i] && rt_hyper_known(m, keys[i], strlen(keys[i]))) {
      record_setting(o, keys[i], strlen(keys[i]), values[i] ? values[i] : "", from);
      continue;
    }
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
  int fo = find_flag("optimizer", 9);
  const nnrt_rule_desc *rd = &m->rules[o->rule];
  const char *block = NULL;
  for (int32_t i = 0; i < m->n_options; i++)
    if (m->options[i].key && strcmp(m->options[i].key, "optimizer") == 0) block = m->options[i].value;
  if (o->from[fo] != RT_FROM_FLAG || !block || strcmp(block, rd->name) == 0) return 0;
  /* settings the block made for its own rule that the flag's rule takes too, other than
   * its default (and its rate aside) */
  size_t used = 0;
  int n = 0;
  for (int32_t k = 0; k < rd->n_hypers && used < len; k++) {
    if (o->hyper_from[k] != RT_FROM_MODEL || strcmp(rd->hypers[k].name, "lr") == 0 ||
        o->hyper[k] == rd->hypers[k].value)
      continue;
    char v[64], d[64], flag[64];
    rt_hyper_format(&rd->hypers[k], o->hyper[k], v, sizeof v);
    rt_hyper_format(&rd->hypers[k], rd->hypers[k].value, d, sizeof d);
    snprintf(flag, sizeof flag, "%s", rd->hypers[k].name);
    for (char *c = flag; *c; c++)
      if (*c == '_') *c = '-';
    used += (size_t)snprintf(buf + used, len - used, "%s%s %s (%s's default: --%s %s)", n++ ? ", " : "",
                             rd->hypers[k].name, v, rd->name, flag, d);
  }
  if (!n) return 0;
  char rest[RT_ERR_MAX];
  snprintf(rest, sizeof rest, "%s", buf);
  snprintf(buf, len, "--optimizer %s keeps the train block's %s", rd->name, rest);
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
    if (f < 0 && arg[1] == '-' && !memchr(name, '_', nlen) && rt_hyper_known(m, name, nlen)) {
      /* a rule's hyperparameter: kept until the rule is known */
      int is_bool = 0;
      for (int32_t r = 0; r < m->n_rules && !is_bool; r++) {
        int32_t k = rt_hyper_find(&m->rules[r], name, nlen);
        is_bool = k >= 0 && m->rules[r].hypers[k].kind == NNRT_HYPER_BOOL;
      }
      const char *v = eq ? eq + 1 : is_bool ? "true" : i + 1 < argc ? argv[++i] : NULL;
      if (!v) {
        snprintf(err, errlen, "--%.*s expects a value, got nothing", (int)nlen, name);
        return RT_EXIT_USAGE;
      }
      record_setting(o, name, nlen, v, RT_FROM_FLAG);
      continue;
    }
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

int rt_cli_trajectory(const RtOptions *o, const nnrt_model_desc *m, const char **keys, const char **values,
                      int max, char *store, size_t storelen) {
  int n = 0;
  size_t used = 0;
  const nnrt_rule_desc *rd = &m->rules[o->rule];
  for (int f = 0; f < N_FLAGS + rd->n_hypers && n < max; f++) {
    char v[128];
    const char *key;
    if (f < N_FLAGS) {
      if (!flags[f].trajectory) continue;
      const char *base = (const char *)o + flags[f].off;
      int is_str = flags[f].kind == K_MILESTONES || flags[f].kind == K_TEXT;
      if (is_str && !*(const char *const *)base) continue;
      if (flags[f].kind == K_OPTIMIZER) snprintf(v, sizeof v, "%s", rd->name); /* the rule, resolved */
      else format_value(o, f, v, sizeof v);
      key = flags[f].name;
    } else { /* the rule's hyperparameters, after it */
      const nnrt_hyper_desc *h = &rd->hypers[f - N_FLAGS];
      rt_hyper_format(h, o->hyper[f - N_FLAGS], v, sizeof v);
      key = h->name;
    }
    size_t len = strlen(v) + 1;
    if (used + len > storelen) break;
    memcpy(store + used, v, len);
    keys[n] = key;
    values[n++] = store + used;
    used += len;
  }
  return n;
}

static void print_flag(FILE *f, const RtOptions *o, const nnrt_model_desc *m, int k, int from) {
  const char *source = from == RT_FROM_MODEL ? ", from the model" : from == RT_FROM_FLAG ? ", from a flag" : "";
  const Flag *fl = &flags[k];
  char left[48], def[768];
  snprintf(left, sizeof left, "--%s%s%s", fl->name, fl->meta ? " " : "",
           fl->meta ? fl->meta : "");
  def[0] = 0;
  const char *name = fl->name;
  if (fl->kind == K_ACTION) {
  } else if (fl->kind == K_OPTIMIZER) {
    char names[512];
    rt_rule_names(m, names, sizeof names);
    snprintf(def, sizeof def, " %s (default %s%s)", names, m->rules[o->rule].name, source);
  } else {
    char v[128];
    format_value(o, k, v, sizeof v);
    if (fl->kind == K_BOOL || fl->kind == K_DELIM || *v)
      snprintf(def, sizeof def, " (default %s%s)", v, source);
    else if (strcmp(name, "data") == 0)
      snprintf(def, sizeof def, " (required: the model names none)");
    else
      snprintf(def, sizeof def, " (default none)");
  }
  fprintf(f, "  %-22s %s%s\n", left, fl->help, def);
}

/* The run's rule's hyperparameters, as flags. */
static void print_hypers(FILE *f, const RtOptions *o, const nnrt_model_desc *m) {
  const nnrt_rule_desc *rd = &m->rules[o->rule];
  for (int32_t k = 0; k < rd->n_hypers; k++) {
    const nnrt_hyper_desc *h = &rd->hypers[k];
    char left[80], dom[96], v[64], flag[64];
    snprintf(flag, sizeof flag, "%s", h->name);
    for (char *c = flag; *c; c++)
      if (*c == '_') *c = '-';
    snprintf(left, sizeof left, "--%s%s", flag, h->kind == NNRT_HYPER_BOOL ? "" : " X");
    rt_hyper_domain(h, dom, sizeof dom);
    rt_hyper_format(h, o->hyper[k], v, sizeof v);
    fprintf(f, "  %-22s %s: %s (default %s%s)\n", left, rd->name, dom, v,
            o->hyper_from[k] == RT_FROM_MODEL ? ", from the model" : o->hyper_from[k] == RT_FROM_FLAG ? ", from a flag" : "");
  }
  if (m->n_rules > 1)
    fprintf(f, "  %-22s (the settings of another optimizer: --optimizer NAME --help)\n", "");
}

void rt_cli_help(FILE *f, const char *prog, const nnrt_model_desc *m, const RtOptions *parsed) {
  RtOptions o;
  char err[RT_ERR_MAX];
  int bad_flag;
  int bad = model_layer(&o, m, &bad_flag, err, sizeof err);
  /* the optimizer a flag before --help named, if it is one of the model's */
  int fo = find_flag("optimizer", 9);
  if (parsed && parsed->from[fo] == RT_FROM_FLAG && rt_rule_find(m, parsed->optimizer, strlen(parsed->optimizer)) >= 0)
    o.optimizer = parsed->optimizer, o.from[fo] = RT_FROM_FLAG;
  for (int32_t i = 0; parsed && i < parsed->n_set; i++)
    if (parsed->set[i].from == RT_FROM_FLAG) record_setting(&o, parsed->set[i].key, parsed->set[i].keylen, parsed->set[i].value, RT_FROM_FLAG);
  if (m->n_rules > 0 && settle_rule(&o, m, err, sizeof err)) { /* a bad setting: the defaults */
    char ignored[RT_ERR_MAX];
    o.n_set = 0;
    o.optimizer = NULL;
    settle_rule(&o, m, ignored, sizeof ignored);
    bad = 1;
  }
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
    if (flags[k].kind == K_OPTIMIZER && m->n_rules < 1) continue;
    print_flag(f, &o, m, k, o.from[k]);
    if (flags[k].kind == K_OPTIMIZER) print_hypers(f, &o, m);
  }
  fprintf(f,
          "\nSOURCE is [FORMAT:]PATH[,PATH...] with FORMAT csv, idx or npy (by default detected "
          "from\nthe files' content); gzip-compressed files are read as they are. Flags also "
          "take the\nform --flag=value, and every flag can be set in the model's train block "
          "under the\nsame name. Exit status: 0 success, 1 error in the data or in training, 2 "
          "usage error,\n130 interrupted (Ctrl-C; the checkpoint of --save is written first).\n");
}

int rt_cli_is_flag(const char *name, size_t len) { return find_flag(name, len) >= 0; }

void rt_cli_version(FILE *f, const nnrt_model_desc *m) {
  fprintf(f, "model %s (compiled from %s)\n", m->name, m->source ? m->source : "an unknown file");
  fprintf(f, "libnnrt %s, ABI version %d\n", RT_VERSION, NNRT_ABI_VERSION);
}
