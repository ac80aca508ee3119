/* sema_internal.h: the state sema's files share. Nothing outside sema*.c includes it.
 *
 * Sema evaluates the program symbolically: every name is bound to a Value (a tensor
 * node, a class label, a compile-time integer, or a function), and a call of a user
 * function binds its parameters in a fresh scope and evaluates its body right there,
 * which inlines it into the graph. A Value of kind VAL_NONE is "poisoned": an error was
 * reported for it already, and whatever uses it stays silent.
 */
#ifndef NNC_SEMA_INTERNAL_H
#define NNC_SEMA_INTERNAL_H

#include "nnc.h"

typedef struct Module Module;
typedef struct Builtin Builtin;

typedef enum { VAL_NONE, VAL_TENSOR, VAL_LABEL, VAL_INT, VAL_FUNC } ValKind;

/* A function value: a builtin, or a user function and the module defining it. */
typedef struct FnRef {
  const Builtin *builtin;
  const AstFn *fn;
  Module *module;
} FnRef;

typedef struct Value {
  ValKind kind;
  NodeId node;     /* VAL_TENSOR, VAL_LABEL */
  int64_t classes; /* VAL_LABEL */
  int64_t ival;    /* VAL_INT */
  FnRef fn;        /* VAL_FUNC */
} Value;

typedef enum { SYM_INPUT, SYM_PARAM, SYM_LET, SYM_OUTPUT, SYM_METRIC, SYM_ARG, SYM_SHAPEVAR } SymKind;

typedef struct Sym {
  const char *name;
  SymKind kind;
  Value value;
  SrcLoc loc;
  bool used;
} Sym;

/* Names visible in a model or in one call of a function (functions do not see the
 * model's names: their scope starts empty). */
typedef struct Scope {
  Sym *syms;
  int n, cap;
} Scope;

struct Module {
  const char *name;
  uint32_t file;
  const AstProgram *prog;
  Module **imports; /* the modules this one imported, by their names */
  int nimports, imports_cap;
  int state; /* 0 unvisited, 1 loading, 2 loaded: finds import cycles */
};

/* One call of a user function being inlined, innermost last. */
typedef struct Frame {
  const AstFn *fn;
  Module *module;
  SrcLoc call_loc;
  const char *base;   /* the binding that receives the result: names its params */
  const char *prefix; /* base made unique among parameter names; NULL until needed */
} Frame;

typedef struct Sema {
  Arena *arena;
  Graph *g;
  const char *const *include_dirs;
  int ninclude;
  Module **modules; /* every module loaded, the main file's first */
  int nmodules, modules_cap;
  Module *module;   /* the module whose code is being evaluated */
  Scope *scope;     /* the current scope */
  Frame frames[64];
  int nframes;
  const char *binding; /* the model binding being evaluated, for parameter names */
} Sema;

/* sema.c */
/* Reports an error, then a note at each call site the error is inlined through. */
void sema_error(Sema *s, SrcLoc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
Sym *scope_lookup(Scope *sc, const char *name);
bool scope_define(Sema *s, const char *name, SymKind kind, Value v, SrcLoc loc);
const char *sema_suggest(Sema *s, const char *name, bool functions);
bool sema_check_type(Sema *s, const AstType *t, Shape *out, DType *dtype, int64_t *classes);
/* Adds a parameter named after the current binding/call; returns its node or 0. */
NodeId sema_param(Sema *s, const AstDecl *d, Shape shape);
bool sema_init(Sema *s, const AstExpr *e, GraphParam *p);
bool sema_const_number(const AstExpr *e, double *out);
void sema_declare_param(Sema *s, const AstDecl *d); /* `param` in a model or a function */
void sema_declare_let(Sema *s, const AstDecl *d, SymKind kind); /* `name = expr` */

/* sema_expr.c */
Value sema_expr(Sema *s, const AstExpr *e);
/* The value as a tensor node: labels are refused with a message; 0 when poisoned. */
NodeId sema_tensor(Sema *s, Value v, SrcLoc loc, const char *what);
Value val_tensor(NodeId n);
const char *val_describe(const Sema *s, Value v); /* "f32[B, 3]", "class[10]", "int", ... */
/* Resolves a (possibly qualified) function name; reports and returns false if unknown. */
bool sema_resolve_fn(Sema *s, const char *module, const char *name, SrcLoc loc, FnRef *out);
bool sema_find_fn(Sema *s, Module *m, const char *name, FnRef *out);

/* sema_builtin.c */
const Builtin *builtin_find(const char *name);
extern const char *const builtin_names[];
/* Evaluates a call of a builtin with its (already evaluated) arguments. */
Value builtin_call(Sema *s, const Builtin *b, const AstExpr *call, const AstArg *args, int nargs);
/* Calls a function value (a builtin or a user function) with unevaluated arguments:
 * named calls and function-valued parameters (`act(x)`) both come through here. */
Value sema_apply(Sema *s, FnRef f, const AstExpr *call, const AstArg *args, int nargs);

/* sema_call.c */
Value sema_call_fn(Sema *s, FnRef f, const AstExpr *call, const AstArg *args, int nargs);

/* sema_module.c */
/* Loads every import of m (recursively); reports missing files and cycles. */
void sema_load_imports(Sema *s, Module *m);
Module *sema_module_new(Sema *s, const char *name, uint32_t file, const AstProgram *prog);

/* sema_train.c */
void sema_train_block(Sema *s, const AstProgram *prog);

#endif
