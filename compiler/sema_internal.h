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

/* In an optimizer: SYM_SLOT for w, g and the states (assignable), SYM_HYPER for the
 * hyperparameters, step and epoch (not). */
typedef enum {
  SYM_INPUT, SYM_PARAM, SYM_LET, SYM_OUTPUT, SYM_METRIC, SYM_ARG, SYM_SHAPEVAR, SYM_SLOT, SYM_HYPER
} SymKind;

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
  const Rule *rule;    /* the optimizer being compiled (its values are per element), or NULL */
  Module *prelude;     /* optim.nn, the standard optimizers, once loaded (NULL: not found) */
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
/* Loads (once) the module in the file at path, as `import` would; NULL if it cannot. */
Module *sema_module_load(Sema *s, const char *name, const char *path, SrcLoc loc);

/* sema_train.c */
/* The rule the train block's `optimizer = ...` names (NULL when it names none), found
 * before the rules are compiled; false after an error. */
bool sema_train_rule(Sema *s, const AstProgram *prog, const AstRule **rule, Module **where);
/* named: the block names g->rules[0] (which compiled). */
void sema_train_block(Sema *s, const AstProgram *prog, bool named);

/* sema_rule.c */
/* In an optimizer, the message for a construct that is not elementwise, and false. */
bool sema_rule_elementwise(Sema *s, SrcLoc loc, const char *what);
/* The optimizer a train block names (`rmsprop`, `mod.lion`) among those the program can
 * see (its own file's, its imports', the standard ones), or NULL after an error. */
const AstRule *sema_find_rule(Sema *s, const char *module, const char *name, SrcLoc loc, Module **where);
/* Compiles the rules the program trains with into g->rules: its own (those of the model
 * file and its imports) and the train block's, or, when it has none, every standard one;
 * `named` (the train block's, or NULL) first. */
void sema_rules(Sema *s, const AstRule *named, Module *named_in);
/* Loads optim.nn from the import path as s->prelude; false after an error. */
bool sema_load_prelude(Sema *s);
/* "a number in (0, 1)", "true or false": what a setting of h must be. */
const char *sema_hyper_domain(Sema *s, const RuleHyper *h);
/* A setting of h written as e (a number, or true/false), checked against its domain. */
bool sema_hyper_value(Sema *s, const RuleHyper *h, const AstExpr *e, double *out);

#endif
