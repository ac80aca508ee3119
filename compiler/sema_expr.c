/* sema_expr.c: expressions: names, operators, indexing, and the dispatch of calls.
 *
 * Each expression evaluates to a Value; tensor values are graph nodes whose per-sample
 * shape is checked here, at the operator the user wrote, before the node is built.
 */
#include <string.h>

#include "sema_internal.h"

Value val_tensor(NodeId n) {
  Value v = {0};
  v.kind = n ? VAL_TENSOR : VAL_NONE;
  v.node = n;
  return v;
}

const char *val_describe(const Sema *s, Value v) {
  static char buf[4][64];
  static int next;
  char *p = buf[next++ % 4];
  switch (v.kind) {
  case VAL_TENSOR: return shape_str(s->g->nodes[v.node].shape);
  case VAL_LABEL: snprintf(p, 64, "class[%lld]", (long long)v.classes); return p;
  case VAL_INT: return "int";
  case VAL_FUNC: return "a function";
  case VAL_NONE: return "an invalid value";
  }
  return "?";
}

NodeId sema_tensor(Sema *s, Value v, SrcLoc loc, const char *what) {
  switch (v.kind) {
  case VAL_TENSOR: return v.node;
  case VAL_INT: return ir_const(s->g, (float)v.ival, shape_scalar(false));
  case VAL_LABEL:
    sema_error(s, loc, "%s cannot be a class label (class[%lld]); use one_hot(...) or index a "
                       "vector with it", what, (long long)v.classes);
    return 0;
  case VAL_FUNC:
    sema_error(s, loc, "%s cannot be a function", what);
    return 0;
  case VAL_NONE: return 0;
  }
  return 0;
}

/* ---- functions by name ---------------------------------------------------------------- */

static Module *imported(Module *m, const char *name) {
  for (int i = 0; i < m->nimports; i++)
    if (m->imports[i] && strcmp(m->imports[i]->name, name) == 0) return m->imports[i];
  return NULL;
}

bool sema_find_fn(Sema *s, Module *m, const char *name, FnRef *out) {
  (void)s;
  const AstProgram *p = m->prog;
  if (!p) return false; /* a module that did not parse */
  for (int i = 0; i < p->nfns; i++)
    if (strcmp(p->fns[i].name, name) == 0) {
      *out = (FnRef){NULL, &p->fns[i], m};
      return true;
    }
  const Builtin *b = builtin_find(name);
  if (b) {
    *out = (FnRef){b, NULL, NULL};
    return true;
  }
  return false;
}

bool sema_resolve_fn(Sema *s, const char *module, const char *name, SrcLoc loc, FnRef *out) {
  if (module) {
    Module *m = imported(s->module, module);
    if (!m) {
      bool loaded_elsewhere = false;
      for (int i = 0; i < s->nmodules; i++) loaded_elsewhere |= strcmp(s->modules[i]->name, module) == 0;
      sema_error(s, loc, "unknown module '%s'%s", module,
                 loaded_elsewhere ? " here: import it in this file" : "; did you forget 'import'?");
      return false;
    }
    if (sema_find_fn(s, m, name, out)) return true;
    if (!m->prog) return false; /* its syntax errors were reported */
    sema_error(s, loc, "module '%s' has no function '%s'", module, name);
    return false;
  }
  if (sema_find_fn(s, s->module, name, out)) return true;
  const char *hint = sema_suggest(s, name, true);
  if (hint) sema_error(s, loc, "unknown function '%s'; did you mean '%s'?", name, hint);
  else sema_error(s, loc, "unknown function '%s'", name);
  return false;
}

/* ---- names ---------------------------------------------------------------------------- */

static Value name_value(Sema *s, const AstExpr *e) {
  Value v = {0};
  if (!e->module) {
    Sym *sym = scope_lookup(s->scope, e->name);
    if (sym) {
      sym->used = true;
      return sym->value;
    }
  }
  /* a function used as a value: `act: relu`, `act: nn.gelu` */
  FnRef f;
  if (e->module) {
    if (!sema_resolve_fn(s, e->module, e->name, e->loc, &f)) return v;
  } else if (!sema_find_fn(s, s->module, e->name, &f)) {
    if (strcmp(e->name, "true") == 0 || strcmp(e->name, "false") == 0) /* as numbers: 1 and 0 */
      return val_tensor(ir_const(s->g, e->name[0] == 't', shape_scalar(false)));
    const char *hint = sema_suggest(s, e->name, false);
    if (hint) sema_error(s, e->loc, "unknown name '%s'; did you mean '%s'?", e->name, hint);
    else sema_error(s, e->loc, "unknown name '%s'", e->name);
    return v;
  }
  v.kind = VAL_FUNC;
  v.fn = f;
  return v;
}

/* ---- operators ------------------------------------------------------------------------ */

static OpKind binary_op(int op) {
  switch (op) {
  case '+': return OP_ADD;
  case '-': return OP_SUB;
  case '*': return OP_MUL;
  case '/': return OP_DIV;
  case '^': return OP_POW;
  case '>': return OP_GT;
  case AST_OP_GE: return OP_GE;
  case AST_OP_EQ: return OP_EQ;
  case AST_OP_NE: return OP_NE;
  default: return OP_NONE; /* '<' and '<=' swap their operands; '@' is a matmul */
  }
}

/* After a shape error, points at the declaration of an operand that is a plain name. */
static void note_operand(Sema *s, const AstExpr *operand, NodeId node) {
  if (operand->kind != AST_NAME || operand->module) return;
  Sym *sym = scope_lookup(s->scope, operand->name);
  if (sym && node) diag_note(sym->loc, "'%s' is %s, defined here", operand->name, shape_str(s->g->nodes[node].shape));
}

/* Per-sample `a @ b` for vectors and matrices, lowered onto the 2-D matmul of the IR,
 * whose operands are viewed as matrices with the batch folded into the rows. */
static NodeId matmul(Sema *s, const AstExpr *e, NodeId a, NodeId b) {
  Graph *g = s->g;
  Shape sa = g->nodes[a].shape, sb = g->nodes[b].shape;
  SrcLoc at = e->binary.op_loc;
  if (sa.rank < 1 || sa.rank > 2 || sb.rank < 1 || sb.rank > 2) {
    sema_error(s, at, "'@' multiplies vectors and matrices, got %s @ %s", shape_str(sa), shape_str(sb));
    return 0;
  }
  int32_t ka = sa.dim[sa.rank - 1], kb = sb.dim[0];
  if (ka != kb) {
    sema_error(s, at, "shape mismatch in '@': %s @ %s (%d != %d)", shape_str(sa), shape_str(sb), (int)ka,
               (int)kb);
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
    return ir_reshape(g, r, shape_make(true, sa.rank - 1, sa.dim));
  }
  if (sa.batched && sa.rank == 1 && sb.rank == 1) /* dot of two per-sample vectors */
    return ir_sumto(g, ir_binary(g, OP_MUL, a, b), shape_scalar(true));
  sema_error(s, at, "'@' of %s @ %s is not supported yet: the right operand of a per-sample "
                    "matrix product must be a parameter or a per-sample vector",
             shape_str(sa), shape_str(sb));
  return 0;
}

static bool is_comparison(int op) {
  return op == '<' || op == '>' || op == AST_OP_EQ || op == AST_OP_NE || op == AST_OP_LE || op == AST_OP_GE;
}

static Value binary(Sema *s, const AstExpr *e) {
  Value va = sema_expr(s, e->binary.lhs), vb = sema_expr(s, e->binary.rhs);
  if (va.kind == VAL_NONE || vb.kind == VAL_NONE) return (Value){0};
  int op = e->binary.op;
  const char *name = ast_op_name(op);
  if (va.kind == VAL_INT && vb.kind == VAL_INT && (op == '+' || op == '-' || op == '*')) {
    /* integer arithmetic stays integral, so `2 * units` can size a layer */
    Value r = va;
    r.ival = op == '+' ? va.ival + vb.ival : op == '-' ? va.ival - vb.ival : va.ival * vb.ival;
    return r;
  }
  /* labels compare with indices (argmax(z) == label) and nothing else */
  bool labels_ok = is_comparison(op);
  char what[64];
  snprintf(what, sizeof what, "an operand of '%s'", name);
  NodeId a = labels_ok && va.kind == VAL_LABEL ? va.node : sema_tensor(s, va, e->binary.lhs->loc, what);
  NodeId b = labels_ok && vb.kind == VAL_LABEL ? vb.node : sema_tensor(s, vb, e->binary.rhs->loc, what);
  if (!a || !b) return (Value){0};
  NodeId r;
  if (op == '@') {
    if (!sema_rule_elementwise(s, e->binary.op_loc, "'@'")) return (Value){0};
    r = matmul(s, e, a, b);
    if (!r) {
      note_operand(s, e->binary.lhs, a);
      note_operand(s, e->binary.rhs, b);
    }
  } else {
    Shape out;
    if (!shape_broadcast(s->g->nodes[a].shape, s->g->nodes[b].shape, &out)) {
      sema_error(s, e->binary.op_loc, "shape mismatch in '%s': %s %s %s", name, shape_str(s->g->nodes[a].shape),
                 name, shape_str(s->g->nodes[b].shape));
      note_operand(s, e->binary.lhs, a);
      note_operand(s, e->binary.rhs, b);
      return (Value){0};
    }
    if (op == '<') r = ir_binary(s->g, OP_GT, b, a);
    else if (op == AST_OP_LE) r = ir_binary(s->g, OP_GE, b, a);
    else r = ir_binary(s->g, binary_op(op), a, b);
  }
  if (r) ir_set_loc(s->g, r, e->binary.op_loc);
  return val_tensor(r);
}

/* z[y]: a vector (or the last axis of a tensor) indexed by a class label. */
static Value index_expr(Sema *s, const AstExpr *e) {
  Value vz = sema_expr(s, e->index.base), vy = sema_expr(s, e->index.index);
  if (vz.kind == VAL_NONE || vy.kind == VAL_NONE) return (Value){0};
  NodeId z = sema_tensor(s, vz, e->index.base->loc, "an indexed value");
  if (!z || !sema_rule_elementwise(s, e->loc, "indexing")) return (Value){0};
  if (vy.kind != VAL_LABEL) {
    sema_error(s, e->index.index->loc, "an index must be a class label (an input of type class[k]), "
                                       "got %s", val_describe(s, vy));
    return (Value){0};
  }
  Shape zs = s->g->nodes[z].shape;
  if (zs.rank != 1 || zs.dim[0] != vy.classes) {
    sema_error(s, e->loc, "indexing %s with a label of class[%lld] needs a vector of %lld values",
               shape_str(zs), (long long)vy.classes, (long long)vy.classes);
    return (Value){0};
  }
  NodeId r = ir_gather(s->g, z, vy.node);
  ir_set_loc(s->g, r, e->loc);
  return val_tensor(r);
}

static Value call_expr(Sema *s, const AstExpr *e) {
  FnRef f;
  if (!e->call.callee_module) {
    Sym *sym = scope_lookup(s->scope, e->call.callee);
    if (sym) {
      sym->used = true;
      if (sym->value.kind == VAL_FUNC) return sema_apply(s, sym->value.fn, e, e->call.args, e->call.nargs);
      if (sym->value.kind == VAL_NONE) return (Value){0};
      sema_error(s, e->call.callee_loc, "'%s' is not a function", e->call.callee);
      diag_note(sym->loc, "'%s' is defined here", e->call.callee);
      return (Value){0};
    }
  }
  if (!sema_resolve_fn(s, e->call.callee_module, e->call.callee, e->call.callee_loc, &f)) return (Value){0};
  return sema_apply(s, f, e, e->call.args, e->call.nargs);
}

Value sema_expr(Sema *s, const AstExpr *e) {
  switch (e->kind) {
  case AST_NUM: {
    if (e->num.is_int && e->num.value >= -(1ll << 53) && e->num.value <= (1ll << 53)) {
      Value v = {0};
      v.kind = VAL_INT;
      v.ival = (int64_t)e->num.value;
      return v;
    }
    return val_tensor(ir_const(s->g, (float)e->num.value, shape_scalar(false)));
  }
  case AST_STRING:
    sema_error(s, e->loc, "a string is not a value here");
    return (Value){0};
  case AST_NAME:
    return name_value(s, e);
  case AST_UNARY: {
    Value v = sema_expr(s, e->unary.operand);
    if (v.kind == VAL_INT) {
      v.ival = -v.ival;
      return v;
    }
    NodeId a = sema_tensor(s, v, e->unary.operand->loc, "the operand of '-'");
    return val_tensor(a ? ir_unary(s->g, OP_NEG, a) : 0);
  }
  case AST_BINARY:
    return binary(s, e);
  case AST_INDEX:
    return index_expr(s, e);
  case AST_CALL:
    return call_expr(s, e);
  }
  nnc_unreachable("unknown expression kind");
}
