/* sema_train.c: the train block, checked and turned into the train program's settings.
 *
 * Each entry becomes one or more (key, value) options spelled as the train program's
 * command line takes them, so that the block is nothing but the program's defaults and
 * every entry can be overridden by the flag of the same name. Checking here gives the
 * user a located error at compile time; the runtime checks again when it starts.
 */
#define _DEFAULT_SOURCE /* realpath */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sema_internal.h"

static void add_option(Sema *s, const char *key, const char *value, SrcLoc loc) {
  TrainOption o = {key, value, loc};
  vec_push(&s->g->options, &s->g->noptions, &s->g->options_cap, o);
}

static const char *model_dir(Sema *s, uint32_t file) {
  char *abs = realpath(src_path(file), NULL);
  const char *full = abs ? arena_strndup(s->arena, abs, strlen(abs)) : src_path(file);
  free(abs);
  const char *slash = strrchr(full, '/');
  if (!slash) return ".";
  return arena_strndup(s->arena, full, (size_t)(slash - full));
}

static const char *number_text(Sema *s, double v) { return arena_printf(s->arena, "%.17g", v); }

/* data = csv("f.csv") | idx("images.gz", "labels.gz") | npy("x.npy", "y.npy") | "f.csv" */
static void data_entry(Sema *s, const AstProgram *prog, const AstTrainEntry *t, const char *key) {
  const AstExpr *e = t->value;
  const char *format = NULL;
  const AstExpr *const *paths;
  const AstExpr *single[1] = {e};
  int npaths;
  const AstExpr *list[16];
  if (e->kind == AST_STRING) {
    paths = single;
    npaths = 1;
  } else if (e->kind == AST_CALL && !e->call.callee_module &&
             (strcmp(e->call.callee, "csv") == 0 || strcmp(e->call.callee, "idx") == 0 ||
              strcmp(e->call.callee, "npy") == 0)) {
    format = e->call.callee;
    npaths = e->call.nargs;
    if (npaths < 1 || npaths > 16 || (format[0] == 'c' && npaths != 1)) {
      diag_error(e->loc, "%s(...) takes %s", format,
                 format[0] == 'c' ? "one file: csv(\"file.csv\")" : "one file per input, in declaration order");
      return;
    }
    for (int i = 0; i < npaths; i++) {
      if (e->call.args[i].name || e->call.args[i].value->kind != AST_STRING) {
        diag_error(e->call.args[i].value->loc, "a data file is given as a string");
        return;
      }
      list[i] = e->call.args[i].value;
    }
    paths = list;
  } else {
    diag_error(e->loc, "'%s' must be csv(\"file.csv\"), idx(\"images\", \"labels\", ...), "
                       "npy(\"x.npy\", ...) or a file name", t->key);
    return;
  }
  if (format && format[0] != 'c' && npaths != s->g->ninputs && s->g->ninputs)
    diag_error(e->loc, "%s(...) needs one file per input: the model has %d input%s, this names %d", format,
               s->g->ninputs, s->g->ninputs == 1 ? "" : "s", npaths);
  char *value = format ? arena_printf(s->arena, "%s:", format) : "";
  const char *dir = model_dir(s, prog->file);
  for (int i = 0; i < npaths; i++) {
    const char *p = paths[i]->str;
    if (!p[0] || strchr(p, ',')) {
      diag_error(paths[i]->loc, "%s", p[0] ? "a data file name cannot contain ','" : "empty file name");
      return;
    }
    const char *abs = p[0] == '/' ? p : arena_printf(s->arena, "%s/%s", dir, p);
    value = arena_printf(s->arena, "%s%s%s", value, i ? "," : "", abs);
  }
  add_option(s, key, value, t->loc);
}

static bool positive_number(const AstExpr *e, const char *what, bool allow_zero, double *out) {
  double v;
  if (!sema_const_number(e, &v) || !(allow_zero ? v >= 0 : v > 0) || isinf(v)) {
    diag_error(e->loc, "%s must be a %s number", what, allow_zero ? "non-negative" : "positive");
    return false;
  }
  *out = v;
  return true;
}

static int find_hyper(const Rule *r, const char *name) {
  for (int k = 0; r && k < r->nhypers; k++)
    if (strcmp(r->hypers[k].name, name) == 0) return k;
  return -1;
}

static const char *hyper_names(Sema *s, const Rule *r) {
  if (!r->nhypers) return "none";
  const char *list = r->hypers[0].name;
  for (int k = 1; k < r->nhypers; k++) list = arena_printf(s->arena, "%s, %s", list, r->hypers[k].name);
  return list;
}

/* A setting of hyperparameter k of the train block's rule, checked as the train program
 * checks it (the same domain), spelled as its flag takes it. */
static void hyper_setting(Sema *s, const Rule *r, int k, const AstExpr *value, SrcLoc loc, uint64_t *set,
                          SrcLoc *set_at) {
  const RuleHyper *h = &r->hypers[k];
  if (*set >> k & 1) {
    diag_error(loc, "'%s' is set twice in the train block", h->name);
    diag_note(set_at[k], "first set here");
    return;
  }
  *set |= (uint64_t)1 << k;
  set_at[k] = loc;
  double v;
  if (!sema_hyper_value(s, h, value, &v)) return;
  add_option(s, h->name, h->is_bool ? (v ? "true" : "false") : number_text(s, v), loc);
}

/* optimizer = rmsprop(lr: 0.001) | rmsprop | module.rule(...): r is the rule it names
 * (g->rules[0]), NULL when that could not be found. */
static void optimizer_entry(Sema *s, const AstTrainEntry *t, const Rule *r, uint64_t *set, SrcLoc *set_at) {
  const AstExpr *e = t->value;
  if (!r) return;
  add_option(s, "optimizer", r->name, t->loc);
  int nargs = e->kind == AST_CALL ? e->call.nargs : 0;
  for (int i = 0; i < nargs; i++) {
    const AstArg *a = &e->call.args[i];
    if (!a->name && i > 0) {
      diag_error(a->value->loc, "only the learning rate may be given without a name: write setting: value");
      continue;
    }
    const char *key = a->name ? a->name : "lr";
    int k = find_hyper(r, key);
    if (k < 0) {
      diag_error(a->name ? a->name_loc : a->value->loc, "optimizer '%s' has no setting '%s'; its settings are %s",
                 r->name, key, hyper_names(s, r));
      continue;
    }
    hyper_setting(s, r, k, a->value, a->name ? a->name_loc : a->value->loc, set, set_at);
  }
}

bool sema_train_rule(Sema *s, const AstProgram *p, const AstRule **rule, Module **where) {
  *rule = NULL;
  for (int i = 0; i < p->ntrain; i++) {
    const AstTrainEntry *t = &p->train[i];
    if (strcmp(t->key, "optimizer") != 0) continue;
    const AstExpr *e = t->value;
    if (e->kind == AST_NAME)
      *rule = sema_find_rule(s, e->module, e->name, e->loc, where);
    else if (e->kind == AST_CALL)
      *rule = sema_find_rule(s, e->call.callee_module, e->call.callee, e->call.callee_loc, where);
    else
      diag_error(e->loc, "'optimizer' names an optimizer, e.g. rmsprop(lr: 0.001)");
    return *rule != NULL;
  }
  return true;
}

/* schedule = cosine | step(step_size: 2, gamma: 0.5) | ... */
static void schedule_entry(Sema *s, const AstTrainEntry *t) {
  static const char *const kinds[] = {"constant", "step", "multistep", "exponential", "inverse", "polynomial",
                                      "cosine", NULL};
  static const char *const keys[] = {"step_size", "gamma", "milestones", "power", "decay_steps", "warmup",
                                     "end_lr", NULL};
  const AstExpr *e = t->value;
  const char *name = e->kind == AST_CALL ? e->call.callee : e->kind == AST_NAME ? e->name : NULL;
  int k = -1;
  for (int i = 0; name && kinds[i]; i++)
    if (strcmp(name, kinds[i]) == 0) k = i;
  if (k < 0) {
    diag_error(e->loc, "unknown schedule; expected constant, step, multistep, exponential, inverse, "
                       "polynomial or cosine");
    return;
  }
  add_option(s, "schedule", name, t->loc);
  for (int i = 0; e->kind == AST_CALL && i < e->call.nargs; i++) {
    const AstArg *a = &e->call.args[i];
    int j = -1;
    for (int m = 0; a->name && keys[m]; m++)
      if (strcmp(keys[m], a->name) == 0) j = m;
    if (j < 0) {
      diag_error(a->name ? a->name_loc : a->value->loc, "schedule settings are named: step_size, gamma, "
                                                        "milestones, power, decay_steps, warmup or end_lr");
      continue;
    }
    if (j == 2) {
      if (a->value->kind != AST_STRING) {
        diag_error(a->value->loc, "milestones are a string of epochs, e.g. \"3,6\"");
        continue;
      }
      add_option(s, keys[j], a->value->str, a->value->loc);
      continue;
    }
    double v;
    if (!positive_number(a->value, keys[j], j == 5 || j == 6, &v)) continue;
    add_option(s, keys[j], number_text(s, v), a->value->loc);
  }
}

typedef enum { T_DATA, T_OPTIMIZER, T_SCHEDULE, T_INT, T_COUNT, T_NUMBER, T_FRACTION, T_BATCH } TrainKind;

static const struct { const char *key; TrainKind kind; const char *option; } train_keys[] = {
    {"data", T_DATA, "data"},           {"validate", T_DATA, "val"},          {"val", T_DATA, "val"},
    {"optimizer", T_OPTIMIZER, NULL},  {"schedule", T_SCHEDULE, NULL},       {"batch", T_BATCH, "batch"},
    {"epochs", T_COUNT, "epochs"},     {"seed", T_INT, "seed"},
    {"clip_norm", T_NUMBER, "clip_norm"}, {"accumulate", T_COUNT, "accumulate"}, {"patience", T_COUNT, "patience"},
    {"val_split", T_FRACTION, "val_split"}, {"warmup", T_INT, "warmup"},
};

void sema_train_block(Sema *s, const AstProgram *p, bool named) {
  /* the rule the block's settings are for: the one it names, or the default */
  const Rule *rule = s->g->nrules ? &s->g->rules[0] : NULL;
  uint64_t set = 0;
  SrcLoc set_at[RULE_MAX_HYPERS];
  for (int i = 0; i < p->ntrain; i++) {
    const AstTrainEntry *t = &p->train[i];
    int k = -1;
    for (size_t j = 0; j < sizeof train_keys / sizeof *train_keys; j++)
      if (strcmp(t->key, train_keys[j].key) == 0) k = (int)j;
    int h = k < 0 ? find_hyper(rule, t->key) : -1;
    if (h >= 0) { /* lr = 0.01 on its own: a setting of the rule */
      hyper_setting(s, rule, h, t->value, t->key_loc, &set, set_at);
      continue;
    }
    if (k < 0) {
      const char *hint = rule ? arena_printf(s->arena, ", or a setting of optimizer '%s' (%s)", rule->name,
                                             hyper_names(s, rule))
                              : "";
      diag_error(t->key_loc, "unknown train setting '%s'; expected data, validate, optimizer, schedule, batch, "
                             "epochs, seed, clip_norm, accumulate, patience, val_split or warmup%s", t->key, hint);
      continue;
    }
    bool twice = false;
    for (int j = 0; j < i && !twice; j++)
      if (strcmp(p->train[j].key, t->key) == 0) {
        diag_error(t->key_loc, "'%s' is set twice in the train block", t->key);
        diag_note(p->train[j].key_loc, "first set here");
        twice = true; /* still check the value, to report its errors too */
      }
    if (twice && train_keys[k].kind == T_OPTIMIZER) continue; /* its settings are another rule's */
    const char *opt = train_keys[k].option;
    double v;
    switch (train_keys[k].kind) {
    case T_DATA: data_entry(s, p, t, opt); break;
    case T_OPTIMIZER: optimizer_entry(s, t, named ? rule : NULL, &set, set_at); break;
    case T_SCHEDULE: schedule_entry(s, t); break;
    case T_BATCH:
      if (t->value->kind == AST_NAME && strcmp(t->value->name, "all") == 0) {
        add_option(s, opt, "all", t->loc);
        break;
      }
      /* fall through */
    case T_INT:
    case T_COUNT: {
      int64_t min = train_keys[k].kind == T_INT ? 0 : 1;
      if (!sema_const_number(t->value, &v) || v != floor(v) || v < (double)min || v > 1e15) {
        diag_error(t->value->loc, "'%s' must be an integer >= %lld%s", t->key, (long long)min,
                   train_keys[k].kind == T_BATCH ? ", or all" : "");
        break;
      }
      add_option(s, opt, arena_printf(s->arena, "%lld", (long long)v), t->loc);
      break;
    }
    case T_NUMBER:
    case T_FRACTION:
      if (!positive_number(t->value, t->key, train_keys[k].kind == T_FRACTION || strcmp(t->key, "lr") != 0, &v))
        break;
      if (train_keys[k].kind == T_FRACTION && v >= 1) {
        diag_error(t->value->loc, "%s must be below 1, got %g", t->key, v);
        break;
      }
      add_option(s, opt, number_text(s, v), t->loc);
      break;
    }
  }
}
