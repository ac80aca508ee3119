/* sema.c: checks a parsed program and builds its forward graph.
 *
 * The model is written for one sample. Sema walks the model's declarations in order,
 * binding each name to the value built for it, and infers every expression's per-sample
 * shape while it builds nodes: an expression is batched when it depends on an input.
 * Functions are inlined where they are called (sema_call.c), so the graph has no calls.
 * Every user mistake is reported here, at the place it was written, before a node is
 * built, so the IR constructors only ever see well-shaped operands.
 *
 * This file holds the model-level walk and what the other sema files share: scopes,
 * errors, types and parameters. Expressions are sema_expr.c, built-ins sema_builtin.c,
 * functions sema_call.c, imports sema_module.c and the train block sema_train.c.
 */
#define _DEFAULT_SOURCE /* realpath */
#include <stdlib.h>
#include <string.h>

#include "sema_internal.h"

/* ---- errors --------------------------------------------------------------------------- */

void sema_error(Sema *s, SrcLoc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  diag_vreport(DIAG_ERROR, loc, fmt, ap);
  va_end(ap);
  for (int i = s->nframes - 1; i >= 0; i--)
    diag_note(s->frames[i].call_loc, "in the call of '%s' here", s->frames[i].fn->name);
}

/* ---- scopes --------------------------------------------------------------------------- */

Sym *scope_lookup(Scope *sc, const char *name) {
  for (int i = sc->n - 1; i >= 0; i--)
    if (strcmp(sc->syms[i].name, name) == 0) return &sc->syms[i];
  return NULL;
}

bool scope_define(Sema *s, const char *name, SymKind kind, Value v, SrcLoc loc) {
  Sym *prev = scope_lookup(s->scope, name);
  if (prev) {
    sema_error(s, loc, "'%s' is already defined", name);
    diag_note(prev->loc, "'%s' was defined here", name);
    return false;
  }
  Sym sym = {name, kind, v, loc, false};
  vec_push(&s->scope->syms, &s->scope->n, &s->scope->cap, sym);
  return true;
}

/* Optimal string alignment distance: edits plus swaps of adjacent letters, the typos
 * people make ('imgae' -> 'image' is one). */
static int edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63) return 99;
  int d[64][64];
  for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[la][lb];
}

/* The closest known name within a third of its length, for "did you mean". */
const char *sema_suggest(Sema *s, const char *name, bool functions) {
  const char *best = NULL;
  int best_d = (int)strlen(name) / 3 + 1; /* at most a third of the name may differ */
  if (best_d < 2) best_d = 2;
#define CONSIDER(cand)                                                                    \
  do {                                                                                    \
    int d_ = edit_distance(name, (cand));                                                 \
    if (d_ < best_d) best_d = d_, best = (cand);                                          \
  } while (0)
  if (functions) {
    for (int i = 0; builtin_names[i]; i++) CONSIDER(builtin_names[i]);
    const AstProgram *p = s->module->prog;
    for (int i = 0; i < p->nfns; i++) CONSIDER(p->fns[i].name);
  } else {
    for (int i = 0; i < s->scope->n; i++) CONSIDER(s->scope->syms[i].name);
  }
#undef CONSIDER
  return best;
}

/* ---- types ---------------------------------------------------------------------------- */

/* Checks a declared type with numeric dimensions (or dimensions named by integers in
 * scope, inside functions). f32 and u8 are tensors; class[k] is a label. */
bool sema_check_type(Sema *s, const AstType *t, Shape *out, DType *dtype, int64_t *classes) {
  bool ok = true;
  Shape sh = {0};
  *classes = 0;
  bool is_class = strcmp(t->dtype, "class") == 0;
  if (strcmp(t->dtype, "f32") == 0) *dtype = DT_F32;
  else if (strcmp(t->dtype, "u8") == 0) *dtype = DT_U8;
  else if (is_class) *dtype = DT_CLASS;
  else {
    SrcLoc at = t->loc;
    at.end_line = at.line;
    at.end_col = at.col + (uint32_t)strlen(t->dtype) - 1;
    sema_error(s, at, "unknown element type '%s'; expected f32, u8 or class[k]", t->dtype);
    return false;
  }
  int64_t dims[NN_MAX_RANK];
  for (int i = 0; i < t->rank; i++) {
    const AstDim *d = &t->dims[i];
    dims[i] = d->value;
    if (d->name) {
      Sym *sym = scope_lookup(s->scope, d->name);
      if (sym && sym->value.kind == VAL_NONE) { /* its error was reported */
        ok = false;
        continue;
      }
      if (!sym || sym->value.kind != VAL_INT) {
        sema_error(s, d->loc, "'%s' is not a known size here: a declaration's dimensions are "
                              "numbers or integer parameters of the function", d->name);
        ok = false;
        continue;
      }
      sym->used = true;
      dims[i] = sym->value.ival;
    }
    if (dims[i] < 1 || dims[i] > (1 << 30)) {
      sema_error(s, d->loc, "dimension must be between 1 and 2^30, got %lld", (long long)dims[i]);
      ok = false;
    }
  }
  if (!ok) return false;
  if (is_class) {
    if (t->rank != 1) {
      sema_error(s, t->loc, "a class label is written class[k], with k the number of classes");
      return false;
    }
    if (dims[0] < 2) {
      sema_error(s, t->dims[0].loc, "a class label needs at least 2 classes, got %lld", (long long)dims[0]);
      return false;
    }
    *classes = dims[0];
    *out = sh; /* a label is one value per sample */
    return true;
  }
  sh.rank = (uint8_t)t->rank;
  for (int i = 0; i < t->rank; i++) sh.dim[i] = (int32_t)dims[i];
  if (shape_size(sh) > (1ll << 31)) {
    sema_error(s, t->loc, "tensor of %lld elements is too large", (long long)shape_size(sh));
    return false;
  }
  *out = sh;
  return true;
}

/* ---- parameters and their initialisers ------------------------------------------------ */

/* A number, possibly negated: initialiser and train-block arguments are constants. */
bool sema_const_number(const AstExpr *e, double *out) {
  if (e->kind == AST_NUM) {
    *out = e->num.value;
    return true;
  }
  if (e->kind == AST_UNARY && e->unary.operand->kind == AST_NUM) {
    *out = -e->unary.operand->num.value;
    return true;
  }
  return false;
}

static const char *const init_help =
    "expected zeros, ones, a number, constant(c), uniform(a, b), normal(mean, std), "
    "glorot_uniform, glorot_normal, he_uniform or he_normal";

bool sema_init(Sema *s, const AstExpr *e, GraphParam *p) {
  double v;
  p->init = INIT_ZEROS;
  if (!e) return true;
  if (sema_const_number(e, &v)) {
    p->init = INIT_CONSTANT;
    p->init_a = (float)v;
    return true;
  }
  const char *name = e->kind == AST_NAME ? e->name : e->kind == AST_CALL ? e->call.callee : NULL;
  SrcLoc at = e->kind == AST_CALL ? e->call.callee_loc : e->loc;
  if (!name) {
    sema_error(s, e->loc, "a parameter's initialiser must be a name or a call; %s", init_help);
    return false;
  }
  static const struct { const char *name; InitKind kind; int nargs; } inits[] = {
      {"zeros", INIT_ZEROS, 0},       {"ones", INIT_ONES, 0},
      {"constant", INIT_CONSTANT, 1}, {"uniform", INIT_UNIFORM, 2},
      {"normal", INIT_NORMAL, 2},     {"glorot_uniform", INIT_GLOROT_UNIFORM, 0},
      {"glorot_normal", INIT_GLOROT_NORMAL, 0}, {"he_uniform", INIT_HE_UNIFORM, 0},
      {"he_normal", INIT_HE_NORMAL, 0}};
  for (size_t i = 0; i < sizeof inits / sizeof *inits; i++) {
    if (strcmp(inits[i].name, name) != 0) continue;
    int nargs = e->kind == AST_CALL ? e->call.nargs : 0;
    if (nargs != inits[i].nargs) {
      sema_error(s, e->loc, "initialiser '%s' takes %d argument%s, got %d", name, inits[i].nargs,
                 inits[i].nargs == 1 ? "" : "s", nargs);
      return false;
    }
    double args[2] = {0, 0};
    for (int j = 0; j < nargs; j++) {
      const AstArg *arg = &e->call.args[j];
      if (arg->name) {
        sema_error(s, arg->name_loc, "initialiser arguments are positional");
        return false;
      }
      if (!sema_const_number(arg->value, &args[j])) {
        sema_error(s, arg->value->loc, "initialiser arguments must be numbers");
        return false;
      }
    }
    if (inits[i].kind == INIT_UNIFORM && !(args[0] < args[1])) {
      sema_error(s, e->loc, "uniform(a, b) needs a < b, got a = %g, b = %g", args[0], args[1]);
      return false;
    }
    if (inits[i].kind == INIT_NORMAL && !(args[1] >= 0)) {
      sema_error(s, e->call.args[1].value->loc, "normal(mean, std) needs std >= 0, got %g", args[1]);
      return false;
    }
    p->init = inits[i].kind;
    p->init_a = (float)args[0];
    p->init_b = (float)args[1];
    return true;
  }
  sema_error(s, at, "unknown initialiser '%s'; %s", name, init_help);
  return false;
}

static bool param_name_taken(const Graph *g, const char *name) {
  for (int i = 0; i < g->nparams; i++)
    if (strcmp(g->params[i].name, name) == 0) return true;
  return false;
}

static bool prefix_taken(const Graph *g, const char *prefix) {
  size_t n = strlen(prefix);
  for (int i = 0; i < g->nparams; i++)
    if (strncmp(g->params[i].name, prefix, n) == 0 && g->params[i].name[n] == '.') return true;
  return false;
}

/* A parameter declared inside a call is named after the binding that receives the call's
 * result (h = nn.dense(...) -> h.W); a second call in the same binding gets h_2. */
static const char *frame_prefix(Sema *s, Frame *f) {
  if (f->prefix) return f->prefix;
  const char *p = f->base;
  for (int k = 2; prefix_taken(s->g, p) || param_name_taken(s->g, p); k++)
    p = arena_printf(s->arena, "%s_%d", f->base, k);
  f->prefix = p;
  return p;
}

NodeId sema_param(Sema *s, const AstDecl *d, Shape shape) {
  if (s->rule) {
    sema_error(s, d->name_loc, "a function that an optimizer calls cannot declare parameters");
    return 0;
  }
  Graph *g = s->g;
  GraphParam p = {0};
  if (!sema_init(s, d->value, &p)) return 0;
  p.name = s->nframes ? arena_printf(s->arena, "%s.%s", frame_prefix(s, &s->frames[s->nframes - 1]), d->name)
                      : d->name;
  p.shape = shape;
  p.loc = d->name_loc;
  p.node = ir_param(g, g->nparams, shape);
  vec_push(&g->params, &g->nparams, &g->params_cap, p);
  return p.node;
}

/* The base name for calls made while evaluating binding `name` in the current frame. */
static const char *binding_base(Sema *s, const char *name) {
  if (!s->nframes) return name;
  return arena_printf(s->arena, "%s.%s", frame_prefix(s, &s->frames[s->nframes - 1]), name);
}

/* ---- the model ------------------------------------------------------------------------ */

static void declare_input(Sema *s, const AstDecl *d) {
  Graph *g = s->g;
  Shape shape;
  DType dtype;
  int64_t classes;
  Value v = {0};
  if (sema_check_type(s, &d->type, &shape, &dtype, &classes)) {
    shape.batched = true;
    GraphInput in = {d->name, shape, dtype, classes, 0, d->name_loc};
    in.node = ir_input(g, g->ninputs, shape);
    vec_push(&g->inputs, &g->ninputs, &g->inputs_cap, in);
    v.kind = dtype == DT_CLASS ? VAL_LABEL : VAL_TENSOR;
    v.node = in.node;
    v.classes = classes;
  }
  scope_define(s, d->name, SYM_INPUT, v, d->name_loc);
}

/* A `param` in a model or a function body. */
void sema_declare_param(Sema *s, const AstDecl *d) {
  Shape shape;
  DType dtype;
  int64_t classes;
  Value v = {0};
  if (sema_check_type(s, &d->type, &shape, &dtype, &classes)) {
    if (dtype != DT_F32) {
      sema_error(s, d->type.loc, "parameters are f32, not %s", d->type.dtype);
    } else {
      NodeId n = sema_param(s, d, shape);
      if (n) v = val_tensor(n);
    }
  }
  scope_define(s, d->name, SYM_PARAM, v, d->name_loc);
}

/* `name = expr` in a model or a function body. */
void sema_declare_let(Sema *s, const AstDecl *d, SymKind kind) {
  const char *saved = s->binding;
  s->binding = binding_base(s, d->name);
  Value v = d->value ? sema_expr(s, d->value) : (Value){0};
  s->binding = saved;
  if ((v.kind == VAL_TENSOR || v.kind == VAL_LABEL) && v.node) ir_set_name(s->g, v.node, d->name, d->name_loc);
  scope_define(s, d->name, kind, v, d->name_loc);
}

/* The batch mean of a per-sample scalar. */
static NodeId batch_mean(Graph *g, NodeId x) {
  if (!g->nodes[x].shape.batched) return x;
  return ir_binary(g, OP_DIV, ir_sumto(g, x, shape_scalar(false)), ir_batch(g));
}

static NodeId per_sample_scalar(Sema *s, const Sym *sym, const char *what) {
  NodeId n = sema_tensor(s, sym->value, sym->loc, what);
  if (!n) return 0;
  Shape sh = s->g->nodes[n].shape;
  if (sh.rank != 0) {
    sema_error(s, sym->loc, "%s must be a scalar per sample, got %s; reduce it with sum(...) "
                            "or mean(...)", what, shape_str(sh));
    return 0;
  }
  return n;
}

static void declare_model_decl(Sema *s, const AstDecl *d) {
  switch (d->kind) {
  case DECL_INPUT: declare_input(s, d); return;
  case DECL_PARAM: sema_declare_param(s, d); return;
  case DECL_LET: sema_declare_let(s, d, SYM_LET); return;
  case DECL_STATE: nnc_unreachable("the parser keeps states in optimizers");
  case DECL_OUTPUT:
  case DECL_METRIC: {
    bool output = d->kind == DECL_OUTPUT;
    sema_declare_let(s, d, output ? SYM_OUTPUT : SYM_METRIC);
    Sym *sym = scope_lookup(s->scope, d->name);
    if (!sym || sym->loc.line != d->name_loc.line || sym->loc.col != d->name_loc.col) return;
    Graph *g = s->g;
    if (output) {
      NodeId n = sema_tensor(s, sym->value, d->value->loc, "an output");
      if (!n) return;
      GraphOutput o = {d->name, n, d->name_loc};
      vec_push(&g->outputs, &g->noutputs, &g->outputs_cap, o);
    } else {
      NodeId n = per_sample_scalar(s, sym, "a metric");
      if (!n) return;
      GraphOutput o = {d->name, batch_mean(g, n), d->name_loc};
      vec_push(&g->metrics, &g->nmetrics, &g->metrics_cap, o);
    }
    return;
  }
  }
}

/* Which nodes depend on a parameter, and the first op (in id order) on a path from a
 * parameter to the loss that has no gradient: such a loss cannot be trained. */
static void check_differentiable(Sema *s) {
  Graph *g = s->g;
  bool *dep = calloc(g->count, sizeof(bool)), *need = calloc(g->count, sizeof(bool));
  for (NodeId id = 1; id < g->count; id++) {
    const Node *n = &g->nodes[id];
    dep[id] = n->op == OP_PARAM;
    for (int k = 0; k < op_info[n->op].arity; k++) dep[id] |= dep[n->in[k]];
  }
  need[g->loss] = true;
  for (NodeId id = g->loss; id >= 1; id--) {
    if (!need[id]) continue;
    const Node *n = &g->nodes[id];
    bool blocks = n->op == OP_GT || n->op == OP_GE || n->op == OP_EQ || n->op == OP_NE || n->op == OP_ARGMAX;
    if (blocks && op_info[n->op].arity && dep[n->in[0]] | (op_info[n->op].arity > 1 && dep[n->in[1]])) {
      const char *what = n->op == OP_ARGMAX ? "argmax" : "a comparison";
      sema_error(s, n->loc, "the loss depends on %s, which has no gradient; the parameters "
                            "before it cannot be trained through it", what);
      break;
    }
    /* where's condition picks an operand and passes no gradient: not a path to follow */
    for (int k = n->op == OP_WHERE; k < op_info[n->op].arity; k++) need[n->in[k]] = true;
  }
  free(dep);
  free(need);
}

static void check_loss(Sema *s, const AstModel *m) {
  Sym *loss = scope_lookup(s->scope, "loss");
  if (!loss) {
    sema_error(s, m->name_loc, "model '%s' has no loss: bind the per-sample loss with 'loss = ...'", m->name);
    return;
  }
  loss->used = true;
  if (loss->kind == SYM_INPUT || loss->kind == SYM_PARAM) {
    sema_error(s, loss->loc, "'loss' must be computed ('loss = ...'), not declared as an %s",
               loss->kind == SYM_INPUT ? "input" : "parameter");
    return;
  }
  if (loss->value.kind == VAL_NONE) return;
  NodeId n = per_sample_scalar(s, loss, "the loss");
  if (!n) return;
  s->g->loss = batch_mean(s->g, n);
  check_differentiable(s);
}

/* Inputs and parameters that nothing uses, and parameters the loss ignores, are legal
 * but almost always mistakes. */
static void warn_unused(Sema *s) {
  Graph *g = s->g;
  if (!g->loss) return;
  bool *reach = calloc(g->count, sizeof(bool)), *loss_reach = calloc(g->count, sizeof(bool));
  for (int i = 0; i < g->noutputs; i++) reach[g->outputs[i].node] = true;
  for (int i = 0; i < g->nmetrics; i++) reach[g->metrics[i].node] = true;
  reach[g->loss] = loss_reach[g->loss] = true;
  for (NodeId id = g->count - 1; id >= 1; id--)
    for (int k = 0; k < op_info[g->nodes[id].op].arity; k++) {
      reach[g->nodes[id].in[k]] |= reach[id];
      loss_reach[g->nodes[id].in[k]] |= loss_reach[id];
    }
  for (int i = 0; i < g->ninputs; i++)
    if (!reach[g->inputs[i].node])
      diag_warning(g->inputs[i].loc, "input '%s' is not used", g->inputs[i].name);
  for (int i = 0; i < g->nparams; i++) {
    if (!reach[g->params[i].node])
      diag_warning(g->params[i].loc, "parameter '%s' is not used", g->params[i].name);
    else if (!loss_reach[g->params[i].node])
      diag_warning(g->params[i].loc, "the loss does not depend on parameter '%s'; training will "
                                     "not change it", g->params[i].name);
  }
  free(reach);
  free(loss_reach);
}

static void free_modules(Sema *s) {
  for (int i = 0; i < s->nmodules; i++) free(s->modules[i]->imports), free(s->modules[i]);
  free(s->modules);
}

/* A file without a model is a library: --emit=rules checks the optimizers it and its
 * imports define (nothing else needs a model's shapes to be checked). */
static Graph *library_rules(Sema *s, const AstProgram *prog, bool rules_only, int errors_before) {
  bool any = false;
  for (int i = 0; i < s->nmodules; i++) any |= s->modules[i]->prog && s->modules[i]->prog->nrules > 0;
  if (!rules_only || !any) {
    SrcLoc at = {prog->file, 1, 1, 1, 1};
    diag_error(at, "no model in this file: write 'model NAME { ... }'%s",
               any ? " (a file of optimizers alone can be checked with --emit=rules)" : "");
    free_modules(s);
    return NULL;
  }
  s->g = graph_new(s->arena);
  s->g->model_name = "";
  s->g->source_path = src_path(prog->file);
  sema_rules(s, NULL, NULL);
  free_modules(s);
  if (diag_error_count() > errors_before) {
    graph_free(s->g);
    return NULL;
  }
  return s->g;
}

Graph *sema_build(Arena *arena, const AstProgram *prog, const char *const *include_dirs, int ninclude,
                  bool rules_only) {
  int errors_before = diag_error_count();
  Sema s = {0};
  s.arena = arena;
  s.include_dirs = include_dirs;
  s.ninclude = ninclude;
  Module *main = sema_module_new(&s, "main", prog->file, prog);
  sema_load_imports(&s, main);
  if (!prog->model) return library_rules(&s, prog, rules_only, errors_before);
  s.g = graph_new(arena);
  Scope model_scope = {0};
  s.scope = &model_scope;
  s.module = main;
  const AstModel *m = prog->model;
  s.g->model_name = m->name;
  char *abs = realpath(src_path(prog->file), NULL);
  const char *path = abs ? abs : src_path(prog->file);
  s.g->source_path = arena_strndup(arena, path, strlen(path));
  free(abs);
  for (int i = 0; i < m->ndecls; i++) {
    s.binding = m->decls[i].name;
    declare_model_decl(&s, &m->decls[i]);
  }
  int64_t offset = 0; /* parameters are laid out in declaration order */
  for (int i = 0; i < s.g->nparams; i++) {
    s.g->params[i].offset = offset;
    offset += shape_size(s.g->params[i].shape);
  }
  check_loss(&s, m);
  const AstRule *named = NULL;
  Module *named_in = NULL;
  bool found = sema_train_rule(&s, prog, &named, &named_in);
  sema_rules(&s, named, named_in);
  sema_train_block(&s, prog, found && named && s.g->nrules);
  if (diag_error_count() == errors_before) warn_unused(&s);
  free(model_scope.syms);
  free_modules(&s);
  s.g->nfwd = s.g->count;
  if (diag_error_count() > errors_before) {
    graph_free(s.g);
    return NULL;
  }
  return s.g;
}
