/* sema_builtin.c: the built-in functions: one table row each, checked and lowered here.
 *
 * Built-ins are the ops a model can name directly. Everything else (layers, losses, most
 * activations) is written in the language, in stdlib/nn.nn, from these.
 */
#include <string.h>

#include "sema_internal.h"

typedef enum {
  B_UNARY,     /* exp log tanh sigmoid relu abs sqrt identity */
  B_REDUCE,    /* sum mean max min: one argument (optional axis); max/min of two: elementwise */
  B_POW,       /* pow(x, p) */
  B_LOGSUMEXP, /* logsumexp softmax log_softmax: the last axis */
  B_ONE_HOT,   /* one_hot(label) or one_hot(label, k) */
  B_ARGMAX,    /* argmax(z): the last axis */
  B_FLATTEN,
  B_RESHAPE,   /* reshape(x, d1, d2, ...) */
  B_TRANSPOSE,
  B_WHERE,     /* where(c, a, b) */
  B_SIGN,      /* sign(x) = (x > 0) - (x < 0) */
} BuiltinKind;

struct Builtin {
  const char *name;
  BuiltinKind kind;
  OpKind op;
  int min_args, max_args;
  bool takes_axis;
};

static const Builtin builtins[] = {
    {"exp", B_UNARY, OP_EXP, 1, 1, false},         {"log", B_UNARY, OP_LOG, 1, 1, false},
    {"tanh", B_UNARY, OP_TANH, 1, 1, false},       {"sigmoid", B_UNARY, OP_SIGMOID, 1, 1, false},
    {"relu", B_UNARY, OP_RELU, 1, 1, false},       {"abs", B_UNARY, OP_ABS, 1, 1, false},
    {"sqrt", B_UNARY, OP_SQRT, 1, 1, false},       {"identity", B_UNARY, OP_NONE, 1, 1, false},
    {"sum", B_REDUCE, OP_SUMTO, 1, 1, true},       {"mean", B_REDUCE, OP_SUMTO, 1, 1, true},
    {"max", B_REDUCE, OP_MAXTO, 1, 2, true},       {"min", B_REDUCE, OP_MAXTO, 1, 2, true},
    {"pow", B_POW, OP_POW, 2, 2, false},           {"logsumexp", B_LOGSUMEXP, OP_NONE, 1, 1, false},
    {"softmax", B_LOGSUMEXP, OP_EXP, 1, 1, false}, {"log_softmax", B_LOGSUMEXP, OP_SUB, 1, 1, false},
    {"one_hot", B_ONE_HOT, OP_NONE, 1, 2, false},  {"argmax", B_ARGMAX, OP_NONE, 1, 1, false},
    {"flatten", B_FLATTEN, OP_NONE, 1, 1, false},  {"reshape", B_RESHAPE, OP_NONE, 2, 1 + NN_MAX_RANK, false},
    {"transpose", B_TRANSPOSE, OP_NONE, 1, 1, false}, {"where", B_WHERE, OP_WHERE, 3, 3, false},
    {"sign", B_SIGN, OP_NONE, 1, 1, false},
};
enum { NBUILTINS = sizeof builtins / sizeof *builtins };

const char *const builtin_names[] = {
    "exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt", "identity", "sum", "mean", "max", "min", "pow",
    "logsumexp", "softmax", "log_softmax", "one_hot", "argmax", "flatten", "reshape", "transpose", "where",
    "sign", NULL};

const Builtin *builtin_find(const char *name) {
  for (int i = 0; i < NBUILTINS; i++)
    if (strcmp(builtins[i].name, name) == 0) return &builtins[i];
  return NULL;
}

/* An integer argument: a literal or an int-valued name. */
static bool int_arg(Sema *s, Value v, const AstExpr *e, const char *what, int64_t *out) {
  if (v.kind == VAL_INT) {
    *out = v.ival;
    return true;
  }
  if (v.kind != VAL_NONE) sema_error(s, e->loc, "%s must be an integer, got %s", what, val_describe(s, v));
  return false;
}

/* A reduction over one axis: the result drops that axis. */
static NodeId reduce_axis(Sema *s, const Builtin *b, NodeId x, int64_t axis) {
  Graph *g = s->g;
  Shape xs = g->nodes[x].shape, keep = xs, drop = xs;
  keep.dim[axis] = 1;
  for (int i = (int)axis; i + 1 < xs.rank; i++) drop.dim[i] = xs.dim[i + 1];
  drop.rank--;
  NodeId r;
  bool is_min = strcmp(b->name, "min") == 0;
  if (b->op == OP_MAXTO) {
    NodeId src = is_min ? ir_unary(g, OP_NEG, x) : x; /* min(x) = -max(-x) */
    r = ir_maxto(g, src, keep);
    r = ir_reshape(g, r, drop);
    if (is_min) r = ir_unary(g, OP_NEG, r);
  } else {
    r = ir_reshape(g, ir_sumto(g, x, keep), drop);
    if (b->name[0] == 'm') r = ir_binary(g, OP_MUL, r, ir_const(g, 1.0f / (float)xs.dim[axis], shape_scalar(false)));
  }
  return r;
}

/* Over all per-sample axes; in an optimizer, over all of the parameter's elements, which
 * its graph holds as the batch (OP_BATCH counts them). */
static NodeId reduce_all(Sema *s, const Builtin *b, NodeId x) {
  Graph *g = s->g;
  Shape xs = g->nodes[x].shape;
  Shape to = shape_scalar(xs.batched && !s->rule);
  if (s->rule && b->name[0] == 'm' && b->op == OP_SUMTO && xs.batched)
    return ir_binary(g, OP_DIV, ir_sumto(g, x, to), ir_batch(g));
  if (b->op == OP_MAXTO) {
    if (strcmp(b->name, "min") == 0) return ir_unary(g, OP_NEG, ir_maxto(g, ir_unary(g, OP_NEG, x), to));
    return ir_maxto(g, x, to);
  }
  NodeId r = ir_sumto(g, x, to);
  if (b->name[0] == 'm') r = ir_binary(g, OP_MUL, r, ir_const(g, 1.0f / (float)shape_size(xs), shape_scalar(false)));
  return r;
}

/* softmax(z) = exp(z - logsumexp(z)), log_softmax(z) = z - logsumexp(z): autodiff builds
 * the same nodes for the gradient of logsumexp, so CSE shares them. */
static NodeId last_axis_family(Sema *s, const Builtin *b, NodeId z) {
  Graph *g = s->g;
  NodeId lse = ir_logsumexp(g, z);
  if (b->op == OP_NONE) return lse;
  Shape keep = g->nodes[lse].shape;
  keep.dim[keep.rank++] = 1;
  NodeId ls = ir_binary(g, OP_SUB, z, ir_reshape(g, lse, keep));
  return b->op == OP_SUB ? ls : ir_unary(g, OP_EXP, ls);
}

Value builtin_call(Sema *s, const Builtin *b, const AstExpr *call, const AstArg *args, int nargs) {
  Graph *g = s->g;
  int npos = 0;
  const AstArg *axis_arg = NULL;
  for (int i = 0; i < nargs; i++) {
    if (!args[i].name) {
      npos++;
      continue;
    }
    if (b->takes_axis && strcmp(args[i].name, "axis") == 0 && !axis_arg) {
      axis_arg = &args[i];
      continue;
    }
    sema_error(s, args[i].name_loc, "'%s' has no parameter named '%s'", b->name, args[i].name);
    return (Value){0};
  }
  if (npos < b->min_args || npos > b->max_args) {
    if (b->min_args == b->max_args)
      sema_error(s, call->loc, "'%s' takes %d argument%s, got %d", b->name, b->min_args,
                 b->min_args == 1 ? "" : "s", npos);
    else
      sema_error(s, call->loc, "'%s' takes %d to %d arguments, got %d", b->name, b->min_args, b->max_args, npos);
    return (Value){0};
  }
  bool elementwise = b->kind == B_UNARY || b->kind == B_POW || b->kind == B_SIGN || b->kind == B_WHERE ||
                     (b->kind == B_REDUCE && !axis_arg);
  if (!elementwise) {
    char what[64];
    snprintf(what, sizeof what, "'%s'%s", b->name, axis_arg ? " along an axis" : "");
    if (!sema_rule_elementwise(s, call->loc, what)) return (Value){0};
  }
  Value v[1 + NN_MAX_RANK];
  for (int i = 0; i < npos; i++) {
    v[i] = sema_expr(s, args[i].value);
    if (v[i].kind == VAL_NONE) return (Value){0};
  }
  const AstExpr *a0 = args[0].value;
  char what[64];
  snprintf(what, sizeof what, "the argument of '%s'", b->name);

  if (b->kind == B_ONE_HOT) {
    if (v[0].kind != VAL_LABEL) {
      sema_error(s, a0->loc, "one_hot takes a class label, got %s", val_describe(s, v[0]));
      return (Value){0};
    }
    int64_t k = v[0].classes;
    if (npos == 2) {
      if (!int_arg(s, v[1], args[1].value, "the number of classes", &k)) return (Value){0};
      if (k != v[0].classes) {
        sema_error(s, args[1].value->loc, "one_hot of a class[%lld] label needs %lld classes, got %lld",
                   (long long)v[0].classes, (long long)v[0].classes, (long long)k);
        return (Value){0};
      }
    }
    return val_tensor(ir_onehot(g, v[0].node, (int32_t)k));
  }

  NodeId x = sema_tensor(s, v[0], a0->loc, what);
  if (!x) return (Value){0};
  Shape xs = g->nodes[x].shape;
  NodeId r = 0;
  switch (b->kind) {
  case B_UNARY:
    r = b->op == OP_NONE ? x : ir_unary(g, b->op, x);
    break;
  case B_SIGN: {
    NodeId zero = ir_const(g, 0, shape_scalar(false));
    r = ir_binary(g, OP_SUB, ir_binary(g, OP_GT, x, zero), ir_binary(g, OP_GT, zero, x));
    break;
  }
  case B_WHERE: {
    NodeId a = sema_tensor(s, v[1], args[1].value->loc, what), c = sema_tensor(s, v[2], args[2].value->loc, what);
    if (!a || !c) return (Value){0};
    Shape ab, out;
    if (!shape_broadcast(g->nodes[a].shape, g->nodes[c].shape, &ab) || !shape_broadcast(xs, ab, &out)) {
      sema_error(s, call->loc, "shape mismatch in 'where': %s, %s and %s", shape_str(xs),
                 shape_str(g->nodes[a].shape), shape_str(g->nodes[c].shape));
      return (Value){0};
    }
    r = ir_where(g, x, a, c);
    break;
  }
  case B_POW: {
    NodeId p = sema_tensor(s, v[1], args[1].value->loc, "the exponent of 'pow'");
    if (!p) return (Value){0};
    Shape out;
    if (!shape_broadcast(xs, g->nodes[p].shape, &out)) {
      sema_error(s, call->loc, "shape mismatch in 'pow': %s and %s", shape_str(xs), shape_str(g->nodes[p].shape));
      return (Value){0};
    }
    r = ir_binary(g, OP_POW, x, p);
    break;
  }
  case B_REDUCE:
    if (npos == 2) { /* elementwise max(a, b) / min(a, b) */
      if (axis_arg) {
        sema_error(s, axis_arg->name_loc, "'axis' applies to the one-argument '%s'", b->name);
        return (Value){0};
      }
      NodeId y = sema_tensor(s, v[1], args[1].value->loc, what);
      if (!y) return (Value){0};
      Shape out;
      if (!shape_broadcast(xs, g->nodes[y].shape, &out)) {
        sema_error(s, call->loc, "shape mismatch in '%s': %s and %s", b->name, shape_str(xs),
                   shape_str(g->nodes[y].shape));
        return (Value){0};
      }
      r = ir_binary(g, strcmp(b->name, "max") == 0 ? OP_MAX : OP_MIN, x, y);
      break;
    }
    if (axis_arg) {
      int64_t axis;
      if (!int_arg(s, sema_expr(s, axis_arg->value), axis_arg->value, "'axis'", &axis)) return (Value){0};
      if (axis < -(int64_t)xs.rank || axis >= xs.rank) {
        sema_error(s, axis_arg->value->loc, "axis %lld is out of range for %s (per sample, the axes "
                                            "are 0..%d)", (long long)axis, shape_str(xs), xs.rank - 1);
        return (Value){0};
      }
      r = reduce_axis(s, b, x, axis < 0 ? axis + xs.rank : axis);
    } else {
      r = reduce_all(s, b, x);
    }
    break;
  case B_LOGSUMEXP:
  case B_ARGMAX:
    if (xs.rank < 1) {
      sema_error(s, a0->loc, "'%s' works along the last axis of a vector or matrix, got %s", b->name,
                 shape_str(xs));
      return (Value){0};
    }
    r = b->kind == B_ARGMAX ? ir_argmax(g, x) : last_axis_family(s, b, x);
    break;
  case B_FLATTEN: {
    int32_t n = (int32_t)shape_size(xs);
    r = ir_reshape(g, x, shape_make(xs.batched, 1, &n));
    break;
  }
  case B_RESHAPE: {
    int32_t dims[NN_MAX_RANK];
    int64_t total = 1;
    for (int i = 1; i < npos; i++) {
      int64_t d;
      if (!int_arg(s, v[i], args[i].value, "a dimension", &d)) return (Value){0};
      if (d < 1 || d > (1 << 30)) {
        sema_error(s, args[i].value->loc, "dimension must be between 1 and 2^30, got %lld", (long long)d);
        return (Value){0};
      }
      dims[i - 1] = (int32_t)d;
      total *= d;
    }
    if (total != shape_size(xs)) {
      sema_error(s, call->loc, "reshape of %s (%lld values per sample) to %lld values", shape_str(xs),
                 (long long)shape_size(xs), (long long)total);
      return (Value){0};
    }
    r = ir_reshape(g, x, shape_make(xs.batched, npos - 1, dims));
    break;
  }
  case B_TRANSPOSE:
    if (xs.rank != 2) {
      sema_error(s, a0->loc, "transpose takes a matrix, got %s", shape_str(xs));
      return (Value){0};
    }
    r = ir_transpose(g, x);
    break;
  case B_ONE_HOT:
    break;
  }
  if (r) ir_set_loc(g, r, call->loc);
  return val_tensor(r);
}

Value sema_apply(Sema *s, FnRef f, const AstExpr *call, const AstArg *args, int nargs) {
  if (f.builtin) return builtin_call(s, f.builtin, call, args, nargs);
  return sema_call_fn(s, f, call, args, nargs);
}
