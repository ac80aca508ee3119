/* sema.c: checks a parsed program and builds its forward graph.
 *
 * The model is written for one sample. Sema walks the declarations in order, resolving
 * each name to the node built for it, and infers every expression's per-sample shape
 * while it builds nodes: an expression is batched when it depends on an input. Every
 * user mistake is reported here, at the place it was written, before a node is built,
 * so the IR constructors only ever see well-shaped operands.
 *
 * Errors do not stop the walk: a bad expression yields the id 0 ("poisoned"), and
 * anything computed from a poisoned value stays silent, so one mistake is reported once.
 */
#define _DEFAULT_SOURCE /* realpath */
#include "nnc.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum { SYM_INPUT, SYM_PARAM, SYM_LET, SYM_OUTPUT } SymKind;

typedef struct Sym {
  const char *name;
  SymKind kind;
  NodeId node; /* 0 when its definition had an error */
  SrcLoc loc;
} Sym;

typedef struct Sema {
  Arena *arena;
  Graph *g;
  const AstProgram *prog;
  Sym *syms;
  int nsyms, cap;
} Sema;

static const char *const builtin_names[] = {"exp", "log", "tanh", "sigmoid", "relu", "sum", "mean"};

/* ---- names ---------------------------------------------------------------------------- */

static Sym *lookup(Sema *s, const char *name) {
  for (int i = s->nsyms - 1; i >= 0; i--)
    if (strcmp(s->syms[i].name, name) == 0) return &s->syms[i];
  return NULL;
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
static const char *suggest(Sema *s, const char *name, bool functions) {
  const char *best = NULL;
  int best_d = (int)strlen(name) / 3 + 1; /* at most a third of the name may differ */
  if (best_d < 2) best_d = 2;
  if (functions) {
    for (size_t i = 0; i < sizeof builtin_names / sizeof *builtin_names; i++) {
      int d = edit_distance(name, builtin_names[i]);
      if (d < best_d) best_d = d, best = builtin_names[i];
    }
  } else {
    for (int i = 0; i < s->nsyms; i++) {
      int d = edit_distance(name, s->syms[i].name);
      if (d < best_d) best_d = d, best = s->syms[i].name;
    }
  }
  return best;
}

static bool define(Sema *s, const char *name, SymKind kind, NodeId node, SrcLoc loc) {
  Sym *prev = lookup(s, name);
  if (prev) {
    diag_error(loc, "'%s' is already defined", name);
    diag_note(prev->loc, "'%s' was defined here", name);
    return false;
  }
  Sym sym = {name, kind, node, loc};
  vec_push(&s->syms, &s->nsyms, &s->cap, sym);
  return true;
}

/* ---- types ---------------------------------------------------------------------------- */

static bool check_type(const AstType *t, Shape *out) {
  bool ok = true;
  if (strcmp(t->dtype, "f32") != 0) {
    SrcLoc at = t->loc;
    at.end_line = at.line;
    at.end_col = at.col + (uint32_t)strlen(t->dtype) - 1;
    diag_error(at, "unknown element type '%s'; this version supports f32", t->dtype);
    ok = false;
  }
  Shape s = {0};
  s.rank = (uint8_t)t->rank;
  for (int i = 0; i < t->rank; i++) {
    const AstDim *d = &t->dims[i];
    if (d->name) {
      diag_error(d->loc, "shape variable '%s' is not allowed here: a declaration's "
                         "dimensions are numbers", d->name);
      ok = false;
    } else if (d->value < 1 || d->value > (1 << 30)) {
      diag_error(d->loc, "dimension must be between 1 and 2^30, got %lld", (long long)d->value);
      ok = false;
    } else {
      s.dim[i] = (int32_t)d->value;
    }
  }
  if (ok && shape_size(s) > (1ll << 31)) {
    diag_error(t->loc, "tensor of %lld elements is too large", (long long)shape_size(s));
    ok = false;
  }
  *out = s;
  return ok;
}

/* ---- expressions ---------------------------------------------------------------------- */

static NodeId expr(Sema *s, const AstExpr *e);

static NodeId scalar_const(Sema *s, double v) { return ir_const(s->g, (float)v, shape_scalar(false)); }

static const char *shape_of(Sema *s, NodeId id) { return shape_str(s->g->nodes[id].shape); }

static NodeId binary_elementwise(Sema *s, const AstExpr *e, OpKind op, NodeId a, NodeId b) {
  Shape r;
  if (!shape_broadcast(s->g->nodes[a].shape, s->g->nodes[b].shape, &r)) {
    diag_error(e->binary.op_loc, "shape mismatch in '%s': %s %s %s", ast_op_name(e->binary.op),
               shape_of(s, a), ast_op_name(e->binary.op), shape_of(s, b));
    return 0;
  }
  return ir_binary(s->g, op, a, b);
}

/* Per-sample `a @ b` for vectors and matrices, lowered onto the 2-D matmul of the IR,
 * whose operands are viewed as matrices with the batch folded into the rows. */
static NodeId matmul(Sema *s, const AstExpr *e, NodeId a, NodeId b) {
  Graph *g = s->g;
  Shape sa = g->nodes[a].shape, sb = g->nodes[b].shape;
  SrcLoc at = e->binary.op_loc;
  if (sa.rank < 1 || sa.rank > 2 || sb.rank < 1 || sb.rank > 2) {
    diag_error(at, "'@' multiplies vectors and matrices, got %s @ %s", shape_str(sa), shape_str(sb));
    return 0;
  }
  int32_t ka = sa.dim[sa.rank - 1], kb = sb.dim[0];
  if (ka != kb) {
    diag_error(at, "shape mismatch in '@': %s @ %s (%d != %d)", shape_str(sa), shape_str(sb),
               (int)ka, (int)kb);
    return 0;
  }
  if (!sb.batched) {
    NodeId rhs = b;
    if (sb.rank == 1) rhs = ir_reshape(g, b, shape_make(false, 2, (int32_t[]){kb, 1}));
    NodeId lhs = a;
    if (sa.rank == 1 && !sa.batched) lhs = ir_reshape(g, a, shape_make(false, 2, (int32_t[]){1, ka}));
    NodeId r = ir_matmul(g, lhs, rhs, 0);
    /* drop the unit dimensions the vectors were given */
    Shape want = sa;
    if (sb.rank == 2) want.dim[want.rank - 1] = sb.dim[1];
    else want.rank--;
    return ir_reshape(g, r, want);
  }
  if (!sa.batched && sb.rank == 1) {
    /* A @ x with a per-sample vector x is x @ A^T, batch in the rows */
    NodeId lhs = a;
    if (sa.rank == 1) lhs = ir_reshape(g, a, shape_make(false, 2, (int32_t[]){1, ka}));
    NodeId r = ir_matmul(g, b, lhs, MM_TB);
    Shape want = shape_make(true, sa.rank - 1, sa.dim);
    return ir_reshape(g, r, want);
  }
  if (sa.batched && sa.rank == 1 && sb.rank == 1) /* dot of two per-sample vectors */
    return ir_sumto(g, ir_binary(g, OP_MUL, a, b), shape_scalar(true));
  diag_error(at, "'@' of %s @ %s is not supported yet: the right operand of a per-sample "
                 "matrix product must be a parameter or a per-sample vector",
             shape_str(sa), shape_str(sb));
  return 0;
}

static int positional_args(Sema *s, const AstExpr *e) {
  for (int i = 0; i < e->call.nargs; i++)
    if (e->call.args[i].name) {
      diag_error(e->call.args[i].name_loc, "'%s' has no parameter named '%s'", e->call.callee,
                 e->call.args[i].name);
      return -1;
    }
  (void)s;
  return e->call.nargs;
}

static NodeId call(Sema *s, const AstExpr *e) {
  const char *f = e->call.callee;
  static const struct { const char *name; OpKind op; } unary[] = {
      {"exp", OP_EXP}, {"log", OP_LOG}, {"tanh", OP_TANH}, {"sigmoid", OP_SIGMOID}, {"relu", OP_RELU}};
  OpKind op = OP_NONE;
  for (size_t i = 0; i < sizeof unary / sizeof *unary; i++)
    if (strcmp(f, unary[i].name) == 0) op = unary[i].op;
  bool reduce = strcmp(f, "sum") == 0 || strcmp(f, "mean") == 0;
  if (op == OP_NONE && !reduce) {
    Sym *sym = lookup(s, f);
    if (sym) {
      diag_error(e->call.callee_loc, "'%s' is not a function", f);
      diag_note(sym->loc, "'%s' is defined here", f);
      return 0;
    }
    const char *hint = suggest(s, f, true);
    if (hint)
      diag_error(e->call.callee_loc, "unknown function '%s'; did you mean '%s'?", f, hint);
    else
      diag_error(e->call.callee_loc, "unknown function '%s'", f);
    return 0;
  }
  int n = positional_args(s, e);
  if (n < 0) return 0;
  if (n != 1) {
    diag_error(e->loc, "'%s' takes 1 argument, got %d", f, n);
    return 0;
  }
  NodeId x = expr(s, e->call.args[0].value);
  if (!x) return 0;
  if (op != OP_NONE) return ir_unary(s->g, op, x);
  Shape xs = s->g->nodes[x].shape;
  NodeId r = ir_sumto(s->g, x, shape_scalar(xs.batched));
  if (f[0] == 'm') r = ir_binary(s->g, OP_MUL, r, scalar_const(s, 1.0 / (double)shape_size(xs)));
  return r;
}

static NodeId expr(Sema *s, const AstExpr *e) {
  switch (e->kind) {
  case AST_NUM:
    return scalar_const(s, e->num.value);
  case AST_STRING:
    diag_error(e->loc, "a string is not a value here");
    return 0;
  case AST_NAME: {
    Sym *sym = lookup(s, e->name);
    if (!sym) {
      const char *hint = suggest(s, e->name, false);
      if (hint) diag_error(e->loc, "unknown name '%s'; did you mean '%s'?", e->name, hint);
      else diag_error(e->loc, "unknown name '%s'", e->name);
      return 0;
    }
    return sym->node;
  }
  case AST_UNARY: {
    NodeId a = expr(s, e->unary.operand);
    return a ? ir_unary(s->g, OP_NEG, a) : 0;
  }
  case AST_BINARY: {
    NodeId a = expr(s, e->binary.lhs);
    NodeId b = expr(s, e->binary.rhs);
    if (!a || !b) return 0;
    switch (e->binary.op) {
    case '+': return binary_elementwise(s, e, OP_ADD, a, b);
    case '-': return binary_elementwise(s, e, OP_SUB, a, b);
    case '*': return binary_elementwise(s, e, OP_MUL, a, b);
    case '/': return binary_elementwise(s, e, OP_DIV, a, b);
    case '^': return binary_elementwise(s, e, OP_POW, a, b);
    case '@': return matmul(s, e, a, b);
    default: nnc_unreachable("unknown binary operator");
    }
  }
  case AST_CALL:
    return call(s, e);
  }
  nnc_unreachable("unknown expression kind");
}

/* ---- parameters and their initialisers ------------------------------------------------ */

/* A number, possibly negated: initialiser and train-block arguments are constants. */
static bool const_number(const AstExpr *e, double *out) {
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
    "expected zeros, ones, a number, constant(c), uniform(a, b), normal(mean, std) or "
    "glorot_uniform";

static bool check_init(const AstExpr *e, GraphParam *p) {
  double v;
  p->init = INIT_ZEROS;
  if (!e) return true;
  if (const_number(e, &v)) {
    p->init = INIT_CONSTANT;
    p->init_a = (float)v;
    return true;
  }
  const char *name = e->kind == AST_NAME ? e->name : e->kind == AST_CALL ? e->call.callee : NULL;
  SrcLoc at = e->kind == AST_CALL ? e->call.callee_loc : e->loc;
  if (!name) {
    diag_error(e->loc, "a parameter's initialiser must be a name or a call; %s", init_help);
    return false;
  }
  static const struct { const char *name; InitKind kind; int nargs; } inits[] = {
      {"zeros", INIT_ZEROS, 0},     {"ones", INIT_ONES, 0},       {"constant", INIT_CONSTANT, 1},
      {"uniform", INIT_UNIFORM, 2}, {"normal", INIT_NORMAL, 2}, {"glorot_uniform", INIT_GLOROT_UNIFORM, 0}};
  for (size_t i = 0; i < sizeof inits / sizeof *inits; i++) {
    if (strcmp(inits[i].name, name) != 0) continue;
    int nargs = e->kind == AST_CALL ? e->call.nargs : 0;
    if (nargs != inits[i].nargs) {
      diag_error(e->loc, "initialiser '%s' takes %d argument%s, got %d", name, inits[i].nargs,
                 inits[i].nargs == 1 ? "" : "s", nargs);
      return false;
    }
    double args[2] = {0, 0};
    for (int j = 0; j < nargs; j++) {
      const AstArg *arg = &e->call.args[j];
      if (arg->name) {
        diag_error(arg->name_loc, "initialiser arguments are positional");
        return false;
      }
      if (!const_number(arg->value, &args[j])) {
        diag_error(arg->value->loc, "initialiser arguments must be numbers");
        return false;
      }
    }
    if (inits[i].kind == INIT_UNIFORM && !(args[0] < args[1])) {
      diag_error(e->loc, "uniform(a, b) needs a < b, got a = %g, b = %g", args[0], args[1]);
      return false;
    }
    if (inits[i].kind == INIT_NORMAL && !(args[1] >= 0)) {
      diag_error(e->call.args[1].value->loc, "normal(mean, std) needs std >= 0, got %g", args[1]);
      return false;
    }
    p->init = inits[i].kind;
    p->init_a = (float)args[0];
    p->init_b = (float)args[1];
    return true;
  }
  diag_error(at, "unknown initialiser '%s'; %s", name, init_help);
  return false;
}

/* ---- the model ------------------------------------------------------------------------ */

static void declare(Sema *s, const AstDecl *d) {
  Graph *g = s->g;
  Shape shape;
  switch (d->kind) {
  case DECL_INPUT: {
    bool ok = check_type(&d->type, &shape);
    NodeId node = 0;
    if (ok) {
      shape.batched = true;
      GraphInput in = {d->name, shape, 0, d->name_loc};
      node = in.node = ir_input(g, g->ninputs, shape);
      vec_push(&g->inputs, &g->ninputs, &g->inputs_cap, in);
    }
    define(s, d->name, SYM_INPUT, node, d->name_loc);
    return;
  }
  case DECL_PARAM: {
    bool ok = check_type(&d->type, &shape);
    GraphParam p = {0};
    ok = check_init(d->value, &p) && ok;
    NodeId node = 0;
    if (ok) {
      p.name = d->name;
      p.shape = shape;
      p.loc = d->name_loc;
      node = p.node = ir_param(g, g->nparams, shape);
      vec_push(&g->params, &g->nparams, &g->params_cap, p);
    }
    define(s, d->name, SYM_PARAM, node, d->name_loc);
    return;
  }
  case DECL_LET:
  case DECL_OUTPUT: {
    NodeId node = d->value ? expr(s, d->value) : 0;
    if (node) ir_set_name(g, node, d->name, d->name_loc);
    if (!define(s, d->name, d->kind == DECL_LET ? SYM_LET : SYM_OUTPUT, node, d->name_loc)) return;
    if (d->kind == DECL_OUTPUT && node) {
      GraphOutput o = {d->name, node, d->name_loc};
      vec_push(&g->outputs, &g->noutputs, &g->outputs_cap, o);
    }
    return;
  }
  }
}

static void check_loss(Sema *s, const AstModel *m) {
  Sym *loss = lookup(s, "loss");
  if (!loss) {
    diag_error(m->name_loc, "model '%s' has no loss: bind the per-sample loss with 'loss = ...'",
               m->name);
    return;
  }
  if (!loss->node) return;
  if (loss->kind != SYM_LET && loss->kind != SYM_OUTPUT) {
    diag_error(loss->loc, "'loss' must be computed ('loss = ...'), not declared as an %s",
               loss->kind == SYM_INPUT ? "input" : "parameter");
    return;
  }
  Shape ls = s->g->nodes[loss->node].shape;
  if (ls.rank != 0) {
    diag_error(loss->loc, "the loss must be a scalar per sample, got %s; reduce it with "
                          "sum(...) or mean(...)", shape_str(ls));
    return;
  }
  Graph *g = s->g;
  if (ls.batched) /* the batch mean: sum over the batch / batch size */
    g->loss = ir_binary(g, OP_DIV, ir_sumto(g, loss->node, shape_scalar(false)), ir_batch(g));
  else
    g->loss = loss->node;
}

/* ---- the train block ------------------------------------------------------------------ */

static const char *model_dir(Sema *s) {
  const char *path = src_path(s->prog->file);
  char *abs = realpath(path, NULL);
  const char *full = abs ? arena_strndup(s->arena, abs, strlen(abs)) : path;
  free(abs);
  const char *slash = strrchr(full, '/');
  if (!slash) return ".";
  return arena_strndup(s->arena, full, (size_t)(slash - full));
}

static bool train_int(const AstTrainEntry *t, int64_t min, int64_t *out) {
  double v;
  if (!const_number(t->value, &v) || v != floor(v) || v < (double)min || v > 1e15) {
    diag_error(t->value->loc, "'%s' must be an integer >= %lld", t->key, (long long)min);
    return false;
  }
  *out = (int64_t)v;
  return true;
}

static bool train_positive(const AstExpr *e, const char *what, double *out) {
  double v;
  if (!const_number(e, &v) || !(v > 0) || isinf(v)) {
    diag_error(e->loc, "%s must be a positive number", what);
    return false;
  }
  *out = v;
  return true;
}

static void train_data(Sema *s, const AstTrainEntry *t) {
  const AstExpr *e = t->value;
  if (e->kind != AST_CALL || strcmp(e->call.callee, "csv") != 0) {
    diag_error(e->loc, "'data' must be csv(\"file.csv\")");
    return;
  }
  if (e->call.nargs != 1 || e->call.args[0].name || e->call.args[0].value->kind != AST_STRING) {
    diag_error(e->loc, "csv(...) takes one argument, the file's path as a string");
    return;
  }
  const char *path = e->call.args[0].value->str;
  if (!path[0]) {
    diag_error(e->call.args[0].value->loc, "empty path");
    return;
  }
  TrainDefaults *td = &s->g->train;
  td->data_format = "csv";
  td->n_data_paths = 1;
  td->data_paths[0] = path[0] == '/' ? path : arena_printf(s->arena, "%s/%s", model_dir(s), path);
}

static void train_optimizer(Sema *s, const AstTrainEntry *t) {
  const AstExpr *e = t->value;
  const char *name = e->kind == AST_CALL ? e->call.callee : e->kind == AST_NAME ? e->name : NULL;
  if (!name || (strcmp(name, "sgd") != 0 && strcmp(name, "momentum") != 0)) {
    diag_error(e->loc, "unknown optimizer; expected sgd(lr: X) or momentum(lr: X, momentum: M)");
    return;
  }
  TrainDefaults *td = &s->g->train;
  td->optimizer = name;
  bool is_momentum = name[0] == 'm';
  static const char *const keys[] = {"lr", "momentum"};
  int nargs = e->kind == AST_CALL ? e->call.nargs : 0;
  for (int i = 0; i < nargs; i++) {
    const AstArg *a = &e->call.args[i];
    int k = a->name ? -1 : i;
    for (int j = 0; j < 2 && a->name; j++)
      if (strcmp(a->name, keys[j]) == 0) k = j;
    if (k < 0 || k > (is_momentum ? 1 : 0)) {
      if (a->name)
        diag_error(a->name_loc, "optimizer '%s' has no setting '%s'", name, a->name);
      else
        diag_error(a->value->loc, "too many arguments to optimizer '%s'", name);
      continue;
    }
    double v;
    if (!train_positive(a->value, keys[k], &v)) continue;
    if (k == 1 && v >= 1) {
      diag_error(a->value->loc, "momentum must be below 1, got %g", v);
      continue;
    }
    if (k == 0) td->lr = v;
    else td->momentum = v;
  }
}

static void train_block(Sema *s) {
  const AstProgram *p = s->prog;
  static const char *const keys[] = {"data", "optimizer", "batch", "epochs", "seed"};
  for (int i = 0; i < p->ntrain; i++) {
    const AstTrainEntry *t = &p->train[i];
    int k = -1;
    for (int j = 0; j < 5; j++)
      if (strcmp(t->key, keys[j]) == 0) k = j;
    if (k < 0) {
      diag_error(t->key_loc, "unknown train setting '%s'; expected data, optimizer, batch, "
                             "epochs or seed", t->key);
      continue;
    }
    for (int j = 0; j < i; j++)
      if (strcmp(p->train[j].key, t->key) == 0) {
        diag_error(t->key_loc, "'%s' is set twice in the train block", t->key);
        diag_note(p->train[j].key_loc, "first set here");
        break; /* still check the value, to report its errors too */
      }
    TrainDefaults *td = &s->g->train;
    switch (k) {
    case 0: train_data(s, t); break;
    case 1: train_optimizer(s, t); break;
    case 2: train_int(t, 1, &td->batch); break;
    case 3: train_int(t, 1, &td->epochs); break;
    case 4: train_int(t, 0, &td->seed); break;
    default: break;
    }
  }
}

Graph *sema_build(Arena *arena, const AstProgram *prog) {
  int errors_before = diag_error_count();
  if (!prog->model) {
    SrcLoc at = {prog->file, 1, 1, 1, 1};
    diag_error(at, "no model in this file: write 'model NAME { ... }'");
    return NULL;
  }
  Sema s = {arena, graph_new(arena), prog, NULL, 0, 0};
  const AstModel *m = prog->model;
  s.g->model_name = m->name;
  char *abs = realpath(src_path(prog->file), NULL);
  s.g->source_path = arena_strndup(arena, abs ? abs : src_path(prog->file),
                                   strlen(abs ? abs : src_path(prog->file)));
  free(abs);
  for (int i = 0; i < m->ndecls; i++) declare(&s, &m->decls[i]);
  int64_t offset = 0; /* parameters are laid out in declaration order */
  for (int i = 0; i < s.g->nparams; i++) {
    s.g->params[i].offset = offset;
    offset += shape_size(s.g->params[i].shape);
  }
  check_loss(&s, m);
  train_block(&s);
  free(s.syms);
  s.g->nfwd = s.g->count;
  if (diag_error_count() > errors_before) {
    graph_free(s.g);
    return NULL;
  }
  return s.g;
}
