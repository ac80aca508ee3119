/* sema_rule.c: optimizers, compiled to update rules in IR.
 *
 * A rule's body is evaluated once, symbolically, the way a function body is inlined: w, g
 * and each state are OP_SLOT leaves of the rule's own graph, the hyperparameters, step and
 * epoch OP_HYPER leaves, and the statements build the new w and the new states from them.
 * Assigning w, g or a state rebinds the name, so that a later statement sees the new
 * value, as the seed's pseudo-code reads (`velocity = ...; w = w + momentum * velocity`).
 * Every value is per element of the parameter or a scalar: an operation that relates
 * different elements (a matrix product, an index, a last-axis op, a reduction along an
 * axis) is refused where it is written, and only whole-tensor reductions reach across
 * elements. So one graph updates any parameter, of any shape.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sema_internal.h"

bool sema_rule_elementwise(Sema *s, SrcLoc loc, const char *what) {
  if (!s->rule) return true;
  sema_error(s, loc, "%s is not elementwise: an optimizer computes each element of w from the same element of g "
                     "and of its states (and from whole-tensor reductions such as sum(w * w))", what);
  return false;
}

/* ---- hyperparameters ------------------------------------------------------------------ */

/* The train program's flags that are not a rule's: a hyperparameter with one of these names
 * could not be set from the command line (runtime/cli.c's table). */
static const char *const program_flags[] = {
    "data", "val", "validate", "val_split", "limit", "delimiter", "columns", "epochs", "batch", "drop_last",
    "seed", "threads", "optimizer", "clip_norm", "accumulate", "separate_update", "schedule", "step_size",
    "gamma", "milestones", "power", "decay_steps", "end_lr", "warmup", "patience", "monitor", "min_delta",
    "log", "log_every", "quiet", "save", "save_every", "load", "out", "version", "help", NULL};

static bool in_domain(const RuleHyper *h, double v) {
  if (!isfinite(v)) return false;
  if (h->is_bool) return v == 0 || v == 1;
  bool lo = h->lo_open ? v > h->lo : v >= h->lo, hi = h->hi_open ? v < h->hi : v <= h->hi;
  return lo && hi;
}

/* "a number in (0, 1)", "true or false", "a number": what a setting must be. */
const char *sema_hyper_domain(Sema *s, const RuleHyper *h) {
  if (h->is_bool) return "true or false";
  if (h->lo == -INFINITY && h->hi == INFINITY) return "a number";
  char lo[32], hi[32];
  if (h->lo == -INFINITY) snprintf(lo, sizeof lo, "-inf");
  else snprintf(lo, sizeof lo, "%g", h->lo);
  if (h->hi == INFINITY) snprintf(hi, sizeof hi, "inf");
  else snprintf(hi, sizeof hi, "%g", h->hi);
  return arena_printf(s->arena, "a number in %c%s, %s%c", h->lo_open ? '(' : '[', lo, hi, h->hi_open ? ')' : ']');
}

/* A setting of hyperparameter h written as e: a number, or for a bool true, false, 1 or
 * 0 (what the train program's flags take). */
bool sema_hyper_value(Sema *s, const RuleHyper *h, const AstExpr *e, double *out) {
  double v = 0;
  bool ok;
  if (e->kind == AST_NAME && !e->module && (strcmp(e->name, "true") == 0 || strcmp(e->name, "false") == 0)) {
    v = e->name[0] == 't';
    ok = h->is_bool;
  } else {
    ok = sema_const_number(e, &v);
  }
  if (!ok || !in_domain(h, v)) {
    sema_error(s, e->loc, "%s must be %s", h->name, sema_hyper_domain(s, h));
    return false;
  }
  *out = v;
  return true;
}

static bool hyper_decl(Sema *s, const AstHyper *a, RuleHyper *h) {
  *h = (RuleHyper){a->name, a->domain == HYPER_BOOL, -INFINITY, INFINITY, true, true, 0, a->name_loc};
  if (a->domain == HYPER_BOOL) h->lo = 0, h->hi = 1, h->lo_open = h->hi_open = false;
  if (a->domain == HYPER_RANGE) h->lo = a->lo, h->hi = a->hi, h->lo_open = a->lo_open, h->hi_open = a->hi_open;
  static const char *const taken[] = {"w", "g", "step", "epoch"};
  for (size_t i = 0; i < sizeof taken / sizeof *taken; i++)
    if (strcmp(a->name, taken[i]) == 0) {
      sema_error(s, a->name_loc, "'%s' is given to every optimizer; a hyperparameter cannot be named so", a->name);
      return false;
    }
  for (int i = 0; program_flags[i]; i++)
    if (strcmp(a->name, program_flags[i]) == 0) {
      sema_error(s, a->name_loc, "'%s' is a flag of the train program; a hyperparameter of that name could not "
                                 "be set from the command line", a->name);
      return false;
    }
  if (!a->default_value) return false; /* the parser reported it */
  return sema_hyper_value(s, h, a->default_value, &h->value);
}

/* ---- the rule's body ------------------------------------------------------------------ */

/* Where the value of w, g or a state was assigned last, and whether it was at all. */
typedef struct SlotUse {
  const char *name;
  bool assigned;
  SrcLoc loc;
} SlotUse;

static NodeId per_element(Sema *s, const AstDecl *d, Value v) {
  NodeId n = sema_tensor(s, v, d->value->loc, "an optimizer's value");
  if (!n) return 0;
  if (!s->g->nodes[n].shape.batched) {
    sema_error(s, d->value->loc, "'%s' holds a value per element of the parameter; this is one scalar (%s) for "
                                 "all of them", d->name, shape_str(s->g->nodes[n].shape));
    return 0;
  }
  return n;
}

static void build_rule(Sema *s, Module *m, const AstRule *ar) {
  int errors_before = diag_error_count();
  Rule r = {0};
  r.name = ar->name;
  r.loc = ar->name_loc;
  Graph *rg = graph_new(s->arena);
  rg->model_name = ar->name;
  rg->source_path = src_path(m->file);

  struct { Graph *g; Scope *scope; Module *module; const char *binding; const Rule *rule; } saved = {
      s->g, s->scope, s->module, s->binding, s->rule};
  Scope scope = {0};
  s->g = rg, s->scope = &scope, s->module = m, s->binding = NULL, s->rule = &r;

  SlotUse use[2 + RULE_MAX_STATES] = {{"w", false, ar->name_loc}, {"g", false, ar->name_loc}};
  scope_define(s, "w", SYM_SLOT, val_tensor(ir_slot(rg, SLOT_W)), ar->name_loc);
  scope_define(s, "g", SYM_SLOT, val_tensor(ir_slot(rg, SLOT_G)), ar->name_loc);
  scope_define(s, "step", SYM_HYPER, val_tensor(ir_hyper(rg, HYPER_STEP)), ar->name_loc);
  scope_define(s, "epoch", SYM_HYPER, val_tensor(ir_hyper(rg, HYPER_EPOCH)), ar->name_loc);
  for (int i = 0; i < 4; i++) scope.syms[i].used = true; /* the rule need not read them all */
  if (ar->nhypers > RULE_MAX_HYPERS) sema_error(s, ar->name_loc, "an optimizer has at most %d hyperparameters", RULE_MAX_HYPERS);
  r.hypers = arena_alloc(s->arena, sizeof(RuleHyper) * (size_t)(ar->nhypers + 1));
  for (int i = 0; i < ar->nhypers && i < RULE_MAX_HYPERS; i++) {
    RuleHyper *h = &r.hypers[r.nhypers];
    bool ok = hyper_decl(s, &ar->hypers[i], h);
    if (scope_lookup(&scope, h->name) && !ok) continue; /* w, g, step, epoch: reported */
    Value v = ok ? val_tensor(ir_hyper(rg, (uint32_t)r.nhypers)) : (Value){0};
    if (scope_define(s, h->name, SYM_HYPER, v, h->loc) && ok) r.nhypers++;
    if (!ok) scope.syms[scope.n - 1].used = true;
  }
  r.states = arena_alloc(s->arena, sizeof(RuleState) * RULE_MAX_STATES);
  for (int i = 0; i < ar->ndecls; i++) {
    const AstDecl *d = &ar->decls[i];
    if (d->kind == DECL_STATE) {
      if (r.nstates == RULE_MAX_STATES) {
        sema_error(s, d->name_loc, "an optimizer has at most %d states", RULE_MAX_STATES);
        continue;
      }
      GraphParam init;
      Value v = {0};
      if (sema_init(s, d->value, &init)) v = val_tensor(ir_slot(rg, SLOT_STATE + (uint32_t)r.nstates));
      if (!scope_define(s, d->name, SYM_SLOT, v, d->name_loc) || !v.kind) continue;
      scope.syms[scope.n - 1].used = true;
      r.states[r.nstates] = (RuleState){d->name, init.init, init.init_a, init.init_b, d->name_loc};
      use[2 + r.nstates++] = (SlotUse){d->name, false, d->name_loc};
      continue;
    }
    Value v = sema_expr(s, d->value);
    Sym *sym = scope_lookup(&scope, d->name);
    if (sym && sym->kind == SYM_SLOT) {
      NodeId n = v.kind == VAL_NONE ? 0 : per_element(s, d, v);
      if (n) ir_set_name(rg, n, d->name, d->name_loc);
      sym->value = val_tensor(n);
      for (int k = 0; k < 2 + r.nstates; k++)
        if (strcmp(use[k].name, d->name) == 0) use[k].assigned = true, use[k].loc = d->name_loc;
      continue;
    }
    if (sym && sym->kind == SYM_HYPER) {
      sema_error(s, d->name_loc, "'%s' is %s: it cannot be assigned", d->name,
                 strcmp(d->name, "step") == 0    ? "the step number"
                 : strcmp(d->name, "epoch") == 0 ? "the epoch number"
                                                 : "a hyperparameter");
      continue;
    }
    if (sym) {
      sema_error(s, d->name_loc, "'%s' is already defined; in an optimizer only w, g and its states can be "
                                 "assigned again", d->name);
      diag_note(sym->loc, "'%s' was defined here", d->name);
      continue;
    }
    if (v.kind == VAL_TENSOR && v.node) ir_set_name(rg, v.node, d->name, d->name_loc);
    scope_define(s, d->name, SYM_LET, v, d->name_loc);
  }

  if (!use[0].assigned)
    sema_error(s, ar->name_loc, "optimizer '%s' never assigns w, the parameter it updates", ar->name);
  for (int k = 0; k < r.nstates; k++)
    if (!use[2 + k].assigned)
      sema_error(s, r.states[k].loc, "state '%s' is never assigned: it would keep its initial value", r.states[k].name);
  for (int i = 0; i < scope.n; i++) {
    const Sym *sym = &scope.syms[i];
    if (sym->used) continue;
    if (sym->kind == SYM_LET)
      sema_error(s, sym->loc, "'%s' is assigned but never used; to keep a value from one step to the next, "
                              "declare it: state %s = zeros", sym->name, sym->name);
    else if (sym->kind == SYM_HYPER)
      diag_warning(sym->loc, "hyperparameter '%s' is not used", sym->name);
  }

  RuleVariant *v = &r.variant[0];
  v->g = rg;
  v->state = calloc((size_t)r.nstates + 1, sizeof(NodeId));
  if (!v->state) nnc_unreachable("out of memory");
  Sym *wsym = scope_lookup(&scope, "w");
  v->w = wsym->value.kind == VAL_TENSOR ? wsym->value.node : 0;
  for (int k = 0; k < r.nstates; k++) {
    Sym *st = scope_lookup(&scope, r.states[k].name);
    v->state[k] = st && st->value.kind == VAL_TENSOR ? st->value.node : 0;
  }
  r.nvariants = 1;
  free(scope.syms);
  s->g = saved.g, s->scope = saved.scope, s->module = saved.module, s->binding = saved.binding;
  s->rule = saved.rule;

  bool ok = diag_error_count() == errors_before && v->w;
  for (int k = 0; ok && k < r.nstates; k++) ok = v->state[k] != 0;
  if (ok) {
    rule_compact(&r);
    r.variant[0].elementwise = rule_elementwise(r.variant[0].g);
    rule_derive(&r);
  }
  vec_push(&s->g->rules, &s->g->nrules, &s->g->rules_cap, r);
}

/* ---- which rules ---------------------------------------------------------------------- */

bool sema_load_prelude(Sema *s) {
  if (s->prelude) return true;
  for (int d = 0; d < s->ninclude; d++) {
    const char *path = arena_printf(s->arena, "%s/optim.nn", s->include_dirs[d]);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    fclose(f);
    s->prelude = sema_module_load(s, "optim", path, (SrcLoc){0});
    return s->prelude != NULL && s->prelude->prog != NULL;
  }
  return false;
}

static const AstRule *rule_in(const Module *m, const char *name) {
  if (!m || !m->prog) return NULL;
  for (int i = 0; i < m->prog->nrules; i++)
    if (strcmp(m->prog->rules[i].name, name) == 0) return &m->prog->rules[i];
  return NULL;
}

const AstRule *sema_find_rule(Sema *s, const char *module, const char *name, SrcLoc loc, Module **where) {
  Module *main = s->modules[0];
  if (module) {
    Module *m = NULL;
    for (int i = 0; i < main->nimports; i++)
      if (main->imports[i] && strcmp(main->imports[i]->name, module) == 0) m = main->imports[i];
    if (!m) {
      sema_error(s, loc, "unknown module '%s'; did you forget 'import'?", module);
      return NULL;
    }
    const AstRule *r = rule_in(m, name);
    if (!r && m->prog) sema_error(s, loc, "module '%s' has no optimizer '%s'", module, name);
    *where = m;
    return r;
  }
  const AstRule *r = rule_in(main, name);
  if (r) {
    *where = main;
    return r;
  }
  if (sema_load_prelude(s) && (r = rule_in(s->prelude, name))) {
    *where = s->prelude;
    return r;
  }
  /* what there is to choose from, in the message */
  const char *list = NULL;
  const Module *from[2] = {main, s->prelude};
  for (int j = 0; j < 2; j++)
    for (int i = 0; from[j] && from[j]->prog && i < from[j]->prog->nrules; i++)
      list = list ? arena_printf(s->arena, "%s, %s", list, from[j]->prog->rules[i].name) : from[j]->prog->rules[i].name;
  if (list)
    sema_error(s, loc, "unknown optimizer '%s'; the optimizers here are %s", name, list);
  else
    sema_error(s, loc, "unknown optimizer '%s', and the standard ones (optim.nn) are not on the import path", name);
  return NULL;
}

void sema_rules(Sema *s, const AstRule *named, Module *named_in) {
  /* the program's own: every loaded module's but the standard one's */
  typedef struct { const AstRule *rule; Module *m; } Pick;
  Pick *pick = NULL;
  int n = 0, cap = 0;
  if (named) vec_push(&pick, &n, &cap, ((Pick){named, named_in}));
  for (int i = 0; i < s->nmodules; i++) {
    Module *m = s->modules[i];
    if (m == s->prelude || !m->prog) continue;
    for (int j = 0; j < m->prog->nrules; j++)
      if (&m->prog->rules[j] != named) vec_push(&pick, &n, &cap, ((Pick){&m->prog->rules[j], m}));
  }
  bool own = n > (named && named_in == s->prelude);
  if (!own) {
    if (!sema_load_prelude(s)) {
      if (!named) {
        SrcLoc at = {s->modules[0]->file, 1, 1, 1, 1};
        diag_error(at, "the model defines no optimizer, and the standard ones (optim.nn) are not on the import path");
      }
    } else {
      for (int j = 0; j < s->prelude->prog->nrules; j++)
        if (&s->prelude->prog->rules[j] != named) vec_push(&pick, &n, &cap, ((Pick){&s->prelude->prog->rules[j], s->prelude}));
    }
  }
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < i; j++)
      if (strcmp(pick[i].rule->name, pick[j].rule->name) == 0) {
        diag_error(pick[i].rule->name_loc, "a second optimizer named '%s': the train program picks a rule by its "
                                           "name (--optimizer NAME), so the names must differ", pick[i].rule->name);
        diag_note(pick[j].rule->name_loc, "the first '%s' is here", pick[j].rule->name);
      }
    build_rule(s, pick[i].m, pick[i].rule);
  }
  free(pick);
}
