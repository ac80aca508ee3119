/* lang.h: the front end of nnc: source files, diagnostics, tokens, the AST and the parser.
 *
 * Everything the front end allocates lives in one Arena per compilation and is freed at
 * once; the AST points into it freely. Every AST node keeps the source range it came
 * from (SrcLoc), so sema can report errors at the exact place a user wrote something.
 *
 * Sections list each file's exports, in pipeline order.
 */
#ifndef NNC_LANG_H
#define NNC_LANG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NN_MAX_RANK 4

/* ---- arena.c: bump allocation, one arena per compilation --------------------------- */

typedef struct ArenaBlock ArenaBlock;
typedef struct Arena {
  ArenaBlock *head;
} Arena;

void *arena_alloc(Arena *a, size_t size);            /* zeroed, 16-byte aligned */
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_printf(Arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_free(Arena *a);

/* Growable arrays of anything (vec_push(&v, &n, &cap, item)); memory from malloc. */
#define vec_push(arr, n, cap, item)                                                       \
  do {                                                                                    \
    if (*(n) == *(cap)) {                                                                 \
      *(cap) = *(cap) ? *(cap) * 2 : 8;                                                   \
      *(arr) = nn_xrealloc(*(arr), (size_t)*(cap) * sizeof(**(arr)));                     \
    }                                                                                     \
    (*(arr))[(*(n))++] = (item);                                                          \
  } while (0)
void *nn_xrealloc(void *p, size_t size); /* aborts with a message when memory runs out */

/* ---- source.c: the files of one compilation ---------------------------------------- */

/* A place in a source file: 1-based line and column (columns count bytes), and the
 * last column of the range on the same line (end_col >= col). file indexes the source
 * table; 0 means "no place". */
typedef struct SrcLoc {
  uint32_t file;
  uint32_t line, col;
  uint32_t end_line, end_col;
} SrcLoc;

/* Loads a file into the source table and returns its id (>= 1), or 0 after printing
 * "PATH: error: cannot read file: REASON". A file containing NUL bytes is refused with
 * "PATH: error: not a text file (NUL byte at offset N)". */
uint32_t src_load(const char *path);
/* Registers an in-memory text (for tests and stdin); the text is copied. */
uint32_t src_add(const char *path, const char *text, size_t len);
const char *src_path(uint32_t file);
const char *src_text(uint32_t file);  /* NUL-terminated */
size_t src_len(uint32_t file);
void src_free_all(void);

SrcLoc loc_span(SrcLoc first, SrcLoc last); /* from the start of first to the end of last */

/* ---- diag.c: clang-style diagnostics ------------------------------------------------ *
 *   model.nn:9:12: error: shape mismatch in '@': f32[784] @ f32[512, 10]
 *       9 |   h2 = h @ W2
 *         |        ~~^~~~
 * The caret marks loc.col, tildes the rest of the range. Errors are counted; the driver
 * exits 1 when diag_error_count() > 0. */

typedef enum { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } DiagLevel;

void diag_report(DiagLevel level, SrcLoc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_vreport(DiagLevel level, SrcLoc loc, const char *fmt, va_list ap);
#define diag_error(loc, ...) diag_report(DIAG_ERROR, (loc), __VA_ARGS__)
#define diag_warning(loc, ...) diag_report(DIAG_WARNING, (loc), __VA_ARGS__)
#define diag_note(loc, ...) diag_report(DIAG_NOTE, (loc), __VA_ARGS__)
int diag_error_count(void);
void diag_reset(void); /* the error count back to 0: for many compilations in one process */
void diag_set_output(FILE *out); /* default stderr */
/* Internal compiler bugs, never user mistakes. */
_Noreturn void nnc_unreachable_at(const char *file, int line, const char *msg);
#define nnc_unreachable(msg) nnc_unreachable_at(__FILE__, __LINE__, (msg))

/* ---- tokens (lexer.l): the scanner ---------------------------------------------------
 * Newlines end statements the way Go inserts semicolons: a NEWLINE token is produced at
 * the end of a line whose last token can end a statement (a name, a number, a string,
 * ')', ']' or '}'), and never inside ( ) or [ ]. So an expression continues on the next
 * line when its line ends with an operator or an open bracket. '#' starts a comment. */

/* Prints one line per token, "LINE:COL KIND 'TEXT'", e.g. "3:9 IDENT 'x'", and a final
 * "L:C EOF"; lexical errors go through diag. Returns 0 when there were none. */
int lang_dump_tokens(uint32_t file, FILE *out);

/* ---- ast.c: the syntax tree --------------------------------------------------------- */

typedef enum {
  AST_NUM,    /* 3, 0.5, 1e-3 */
  AST_STRING, /* "path.csv" */
  AST_NAME,   /* x */
  AST_UNARY,  /* -x */
  AST_BINARY, /* a + b, a @ b, ... */
  AST_CALL,   /* f(a, b, name: c), nn.dense(x, 10) */
  AST_INDEX,  /* z[y] */
} AstExprKind;

/* Binary operator codes: the character for one-character operators (+ - * / ^ @ < >),
 * these for the two-character ones. */
enum { AST_OP_EQ = 256, AST_OP_NE, AST_OP_LE, AST_OP_GE };

typedef struct AstExpr AstExpr;

typedef struct AstArg {
  const char *name; /* NULL for a positional argument */
  SrcLoc name_loc;
  AstExpr *value;
} AstArg;

struct AstExpr {
  AstExprKind kind;
  SrcLoc loc; /* the whole expression */
  union {
    struct { double value; bool is_int; } num;
    const char *str;  /* AST_STRING: the unescaped text */
    /* AST_NAME: `name`, or `module.name` with module set */
    struct { const char *name; const char *module; };
    struct { int op; SrcLoc op_loc; AstExpr *operand; } unary;     /* op: '-' */
    struct { int op; SrcLoc op_loc; AstExpr *lhs, *rhs; } binary;  /* op: see above */
    /* AST_CALL: callee_module is set for `module.f(...)`; callee_loc covers both parts */
    struct { const char *callee; const char *callee_module; SrcLoc callee_loc; AstArg *args; int nargs; } call;
    struct { AstExpr *base; AstExpr *index; } index; /* AST_INDEX */
  };
};

/* A dimension in a type: an integer literal, or a name (a shape variable, resolved by
 * sema where shape variables are allowed). */
typedef struct AstDim {
  int64_t value;    /* when name == NULL */
  const char *name; /* shape variable, or NULL */
  SrcLoc loc;
} AstDim;

typedef struct AstType {
  const char *dtype; /* "f32", "u8", "class", "int", ... as written; sema checks it */
  SrcLoc loc;        /* the whole type, "f32[2, 8]" */
  int rank;          /* 0 for a scalar */
  AstDim dims[NN_MAX_RANK];
} AstType;

typedef enum {
  DECL_INPUT,  /* input x : f32[2] */
  DECL_PARAM,  /* param W : f32[2, 8] = glorot_uniform   (init == NULL: zeros) */
  DECL_LET,    /* h = tanh(x @ W + b)   (a binding named "loss" is the loss) */
  DECL_OUTPUT, /* output p = sigmoid(z) */
  DECL_METRIC, /* metric accuracy = argmax(z) == label */
  DECL_STATE,  /* state m = zeros   (an optimizer's; value: the initialiser, NULL: zeros) */
} AstDeclKind;

typedef struct AstDecl {
  AstDeclKind kind;
  const char *name;
  SrcLoc loc;      /* the whole declaration */
  SrcLoc name_loc;
  AstType type;    /* DECL_INPUT, DECL_PARAM */
  AstExpr *value;  /* the bound expression, or the param's initialiser (may be NULL) */
} AstDecl;

typedef struct AstModel {
  const char *name;
  SrcLoc loc, name_loc;
  AstDecl *decls;
  int ndecls;
} AstModel;

/* train { data = csv("xor.csv")  optimizer = sgd(lr: 0.1)  batch = 4  epochs = 500 } */
typedef struct AstTrainEntry {
  const char *key;
  SrcLoc key_loc, loc;
  AstExpr *value;
} AstTrainEntry;

/* A function's parameter: `x: f32[n]`, `units: int`, `act = identity`, `eps: f32 = 1e-5`.
 * An untyped parameter with no default is a tensor of any shape. */
typedef struct AstFnParam {
  const char *name;
  SrcLoc loc; /* the whole parameter */
  bool has_type;
  AstType type;
  AstExpr *default_value; /* NULL when required */
} AstFnParam;

/* fn dense(x: f32[n], units: int, act = identity) -> f32[units] { param ...; h = ...; return e }
 * fn mse(p, y) = mean((p - y) ^ 2)        (the one-line form: result set, ndecls 0) */
typedef struct AstFn {
  const char *name;
  SrcLoc loc, name_loc;
  AstFnParam *params;
  int nparams;
  bool has_result_type;
  AstType result_type;
  AstDecl *decls; /* DECL_PARAM and DECL_LET, in order */
  int ndecls;
  AstExpr *result; /* the returned expression; NULL only after a syntax error */
  SrcLoc result_loc; /* the `return` statement, or the expression of the one-line form */
} AstFn;

/* A hyperparameter of an optimizer, with its default and the values it may take:
 *   beta = 0.9          any finite number
 *   lr: (0, inf) = 0.01 an interval, each end open ( ) or closed [ ], inf allowed
 *   centered: bool = false */
typedef enum { HYPER_ANY, HYPER_RANGE, HYPER_BOOL } AstHyperDomain;

typedef struct AstHyper {
  const char *name;
  SrcLoc loc, name_loc; /* loc: the whole declaration */
  AstHyperDomain domain;
  double lo, hi; /* HYPER_RANGE */
  bool lo_open, hi_open;
  SrcLoc domain_loc;
  AstExpr *default_value; /* NULL only after an error */
} AstHyper;

/* optimizer rmsprop(lr: (0, inf) = 0.001, rho: (0, 1) = 0.9) {
 *   state s = zeros
 *   s = rho * s + (1 - rho) * g * g
 *   w = w - lr * g / (sqrt(s) + 1e-7)
 * }
 * An update rule: statements in order over the parameter w, its gradient g, the step and
 * epoch numbers, the hyperparameters and the states; w, g and the states may be assigned
 * again, later lines seeing the new value. */
typedef struct AstRule {
  const char *name;
  SrcLoc loc, name_loc;
  AstHyper *hypers;
  int nhypers;
  AstDecl *decls; /* DECL_STATE and DECL_LET, in order */
  int ndecls;
} AstRule;

/* import nn             (module "nn", path NULL: found on the import path)
 * import "layers.nn"    (path set; module is the file's base name, "layers") */
typedef struct AstImport {
  const char *module;
  const char *path;
  SrcLoc loc;
} AstImport;

typedef struct AstProgram {
  uint32_t file;
  AstImport *imports;
  int nimports;
  AstFn *fns;
  int nfns;
  AstRule *rules;
  int nrules;
  AstModel *model; /* NULL when the file has none (sema reports it) */
  bool has_train;
  SrcLoc train_loc;
  AstTrainEntry *train;
  int ntrain;
} AstProgram;

/* Prints the tree as an indented S-expression-like dump with locations, e.g.
 *   (model xor @1:7
 *     (input x f32[2] @2:3)
 *     (let h @4:3 (call tanh (binary + (binary @ (name x) (name W1)) (name b1)))) ...
 * Stable: lit tests pin it. */
void ast_print(const AstProgram *prog, FILE *out);
const char *ast_op_name(int op); /* "+", "@", ... */

/* ---- parser.y: the grammar ---------------------------------------------------------- */

/* Parses a whole file. Syntax errors are reported through diag (several per run:
 * the parser recovers at statement ends) and NULL is returned when there was any. */
AstProgram *lang_parse(Arena *arena, uint32_t file);

#endif
