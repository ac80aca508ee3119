/* sema_call.c: calls of user functions, inlined where they are written.
 *
 * A call binds arguments to parameters (positional, then named, then defaults), checks
 * each typed parameter against its argument, binding shape variables by unification
 * (x: f32[n] with an f32[784] argument binds n = 784 for the rest of the call), and then
 * evaluates the body in a fresh scope: the nodes it builds become part of the caller's
 * graph. A `param` in the body is created once per call, named after the binding that
 * receives the call's result.
 */
#include <stdlib.h>
#include <string.h>

#include "sema_internal.h"

static const char *type_str(const AstType *t) {
  static char buf[4][128];
  static int next;
  char *p = buf[next++ % 4];
  int n = snprintf(p, 128, "%s", t->dtype);
  if (t->rank) n += snprintf(p + n, 128 - n, "[");
  for (int i = 0; i < t->rank && n < 120; i++) {
    if (t->dims[i].name) n += snprintf(p + n, 128 - n, "%s", t->dims[i].name);
    else n += snprintf(p + n, 128 - n, "%lld", (long long)t->dims[i].value);
    n += snprintf(p + n, 128 - n, i + 1 < t->rank ? ", " : "]");
  }
  return p;
}

/* Unifies one declared dimension with an actual extent; binds a new shape variable. */
static bool unify_dim(Sema *s, const AstDim *d, int64_t actual, int64_t *expected) {
  if (!d->name) {
    *expected = d->value;
    return d->value == actual;
  }
  Sym *sym = scope_lookup(s->scope, d->name);
  if (sym) {
    if (sym->value.kind != VAL_INT) {
      *expected = -1;
      return false;
    }
    sym->used = true;
    *expected = sym->value.ival;
    return sym->value.ival == actual;
  }
  Value v = {0};
  v.kind = VAL_INT;
  v.ival = actual;
  scope_define(s, d->name, SYM_SHAPEVAR, v, d->loc);
  *expected = actual;
  return true;
}

/* Checks an argument against a typed parameter; defines the parameter in the callee's
 * scope either way (poisoned on a mismatch) so the body reports nothing more. */
static void bind_param(Sema *s, const AstFn *fn, const AstFnParam *p, Value v, SrcLoc arg_loc) {
  if (v.kind == VAL_NONE || !p->has_type) {
    scope_define(s, p->name, SYM_ARG, v, p->loc);
    return;
  }
  const AstType *t = &p->type;
  Value bad = {0};
  if (strcmp(t->dtype, "int") == 0) {
    if (t->rank != 0 || v.kind != VAL_INT) {
      sema_error(s, arg_loc, "argument '%s' of '%s' must be an integer, got %s", p->name, fn->name,
                 val_describe(s, v));
      diag_note(p->loc, "'%s' is declared here", p->name);
      v = bad;
    }
    scope_define(s, p->name, SYM_ARG, v, p->loc);
    return;
  }
  if (strcmp(t->dtype, "class") == 0) {
    int64_t want;
    if (v.kind != VAL_LABEL || t->rank != 1) {
      sema_error(s, arg_loc, "argument '%s' of '%s' must be a class label (%s), got %s", p->name, fn->name,
                 type_str(t), val_describe(s, v));
      diag_note(p->loc, "'%s' is declared here", p->name);
      v = bad;
    } else if (!unify_dim(s, &t->dims[0], v.classes, &want)) {
      sema_error(s, arg_loc, "argument '%s' of '%s' is class[%lld], but the parameter is %s with %s = %lld",
                 p->name, fn->name, (long long)v.classes, type_str(t), t->dims[0].name ? t->dims[0].name : "k",
                 (long long)want);
      diag_note(p->loc, "'%s' is declared here", p->name);
      v = bad;
    }
    scope_define(s, p->name, SYM_ARG, v, p->loc);
    return;
  }
  if (strcmp(t->dtype, "f32") != 0 && strcmp(t->dtype, "u8") != 0) {
    sema_error(s, t->loc, "unknown parameter type '%s'; expected f32, u8, class[k] or int", t->dtype);
    scope_define(s, p->name, SYM_ARG, bad, p->loc);
    return;
  }
  char what[96];
  snprintf(what, sizeof what, "argument '%s' of '%s'", p->name, fn->name);
  NodeId n = sema_tensor(s, v, arg_loc, what);
  if (!n) {
    scope_define(s, p->name, SYM_ARG, bad, p->loc);
    return;
  }
  Shape sh = s->g->nodes[n].shape;
  bool ok = sh.rank == t->rank;
  int64_t want = 0;
  int i = 0;
  for (; ok && i < t->rank; i++) ok = unify_dim(s, &t->dims[i], sh.dim[i], &want);
  if (!ok) {
    if (sh.rank != t->rank)
      sema_error(s, arg_loc, "argument '%s' of '%s' is %s, but the parameter is %s (%d dimension%s per sample)",
                 p->name, fn->name, shape_str(sh), type_str(t), t->rank, t->rank == 1 ? "" : "s");
    else if (t->dims[i - 1].name)
      sema_error(s, arg_loc, "argument '%s' of '%s' is %s, but the parameter is %s with %s = %lld", p->name,
                 fn->name, shape_str(sh), type_str(t), t->dims[i - 1].name, (long long)want);
    else
      sema_error(s, arg_loc, "argument '%s' of '%s' is %s, but the parameter is %s", p->name, fn->name,
                 shape_str(sh), type_str(t));
    diag_note(p->loc, "'%s' is declared here", p->name);
    scope_define(s, p->name, SYM_ARG, bad, p->loc);
    return;
  }
  scope_define(s, p->name, SYM_ARG, val_tensor(n), p->loc);
}

/* Checks `-> f32[units]` against the value returned. */
static void check_result(Sema *s, const AstFn *fn, Value v) {
  if (!fn->has_result_type || v.kind == VAL_NONE) return;
  const AstType *t = &fn->result_type;
  Shape want;
  DType dtype;
  int64_t classes;
  if (!sema_check_type(s, t, &want, &dtype, &classes)) return;
  if (dtype == DT_CLASS) {
    if (v.kind != VAL_LABEL || v.classes != classes)
      sema_error(s, fn->result_loc, "'%s' returns %s, but its result type is %s", fn->name, val_describe(s, v),
                 type_str(t));
    return;
  }
  NodeId n = v.kind == VAL_TENSOR ? v.node : 0;
  Shape got = n ? s->g->nodes[n].shape : want;
  want.batched = got.batched;
  if (!n || !shape_eq(got, want))
    sema_error(s, fn->result_loc, "'%s' returns %s, but its result type is %s", fn->name, val_describe(s, v),
               type_str(t));
}

Value sema_call_fn(Sema *s, FnRef f, const AstExpr *call, const AstArg *args, int nargs) {
  const AstFn *fn = f.fn;
  for (int i = 0; i < s->nframes; i++)
    if (s->frames[i].fn == fn) {
      sema_error(s, call->loc, "recursive call of '%s': functions are inlined, so they cannot call "
                               "themselves", fn->name);
      diag_note(fn->name_loc, "'%s' is defined here", fn->name);
      return (Value){0};
    }
  if (s->nframes == (int)(sizeof s->frames / sizeof *s->frames)) {
    sema_error(s, call->loc, "calls are nested too deeply (more than %d)", s->nframes);
    return (Value){0};
  }
  /* which argument goes to which parameter */
  enum { MAXP = 64 };
  if (fn->nparams > MAXP) {
    sema_error(s, fn->name_loc, "'%s' has more than %d parameters", fn->name, MAXP);
    return (Value){0};
  }
  const AstArg *bound[MAXP] = {0};
  int npos = 0;
  bool ok = true;
  for (int i = 0; i < nargs; i++) {
    const AstArg *a = &args[i];
    int k = -1;
    if (!a->name) {
      k = npos++;
      if (k >= fn->nparams) {
        sema_error(s, a->value->loc, "'%s' takes %d argument%s, got %d", fn->name, fn->nparams,
                   fn->nparams == 1 ? "" : "s", nargs);
        diag_note(fn->name_loc, "'%s' is defined here", fn->name);
        return (Value){0};
      }
    } else {
      for (int j = 0; j < fn->nparams; j++)
        if (strcmp(fn->params[j].name, a->name) == 0) k = j;
      if (k < 0) {
        sema_error(s, a->name_loc, "'%s' has no parameter named '%s'", fn->name, a->name);
        diag_note(fn->name_loc, "'%s' is defined here", fn->name);
        ok = false;
        continue;
      }
      if (bound[k]) {
        sema_error(s, a->name_loc, "argument '%s' is given twice", a->name);
        ok = false;
        continue;
      }
    }
    bound[k] = a;
  }
  for (int j = 0; j < fn->nparams && ok; j++)
    if (!bound[j] && !fn->params[j].default_value) {
      sema_error(s, call->loc, "missing argument '%s' in the call of '%s'", fn->params[j].name, fn->name);
      diag_note(fn->params[j].loc, "'%s' is declared here", fn->params[j].name);
      ok = false;
    }
  if (!ok) return (Value){0};

  /* arguments are evaluated in the caller's scope, before the call's own scope opens */
  Value vals[MAXP];
  for (int j = 0; j < fn->nparams; j++)
    vals[j] = bound[j] ? sema_expr(s, bound[j]->value) : (Value){0};

  Scope callee = {0};
  Scope *saved_scope = s->scope;
  Module *saved_module = s->module;
  const char *saved_binding = s->binding;
  Frame *fr = &s->frames[s->nframes++];
  *fr = (Frame){fn, f.module, call->loc, s->binding ? s->binding : fn->name, NULL};
  s->scope = &callee;
  s->module = f.module;
  for (int j = 0; j < fn->nparams; j++) {
    const AstFnParam *p = &fn->params[j];
    Value v = vals[j];
    SrcLoc at = bound[j] ? bound[j]->value->loc : call->loc;
    if (!bound[j]) v = sema_expr(s, p->default_value); /* defaults see the function's module */
    bind_param(s, fn, p, v, at);
  }
  for (int i = 0; i < fn->ndecls; i++) {
    const AstDecl *d = &fn->decls[i];
    s->binding = d->name;
    if (d->kind == DECL_PARAM) sema_declare_param(s, d);
    else sema_declare_let(s, d, SYM_LET);
  }
  s->binding = saved_binding;
  Value result = fn->result ? sema_expr(s, fn->result) : (Value){0};
  check_result(s, fn, result);
  s->nframes--;
  s->scope = saved_scope;
  s->module = saved_module;
  free(callee.syms);
  return result;
}
