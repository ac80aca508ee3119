/* parser.y: the grammar of .nn files, building the AST in the compilation's arena.
 *
 * The scanner turns line ends into NEWLINE tokens only where a statement can end (see
 * lexer.l), so the grammar reads like one with semicolons: NEWLINE and ';' both end a
 * statement. Recovery rules ("stmts error term", "stmts error" before '}') resynchronise
 * at statement ends, so one run reports every broken statement. Lists are built as arena
 * linked lists and flattened when their owner is built: the arena owns every value on
 * the parser's stack, so discarded values during recovery need no destructors.
 */
%require "3.8"
%define api.pure full
%define api.token.prefix {TOK_}
%define api.location.type {SrcLoc}
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%param {yyscan_t scanner}
%parse-param {ParseState *ps}

%code requires {
#include "lang.h"

#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif

/* A singly linked list in the arena, appended at the tail. */
typedef struct ListNode {
  void *item;
  struct ListNode *next;
} ListNode;
typedef struct List {
  ListNode *head, *tail;
  int n;
  bool named;  /* an argument list has seen a named argument; a parameter list, a default */
  bool broken; /* a statement list lost a statement to a syntax error */
  int depth;   /* an argument or index list: the deepest argument */
} List;

/* An expression and the depth of its tree: deeper trees are refused so that every later
 * recursive walk over the AST has a bounded stack. */
typedef struct ExprV {
  AstExpr *e;
  int depth;
} ExprV;
#define NN_MAX_EXPR_DEPTH 1000
typedef struct ArgV {
  AstArg *a;
  int depth;
} ArgV;

/* A function header, "fn NAME(params) [-> type]", before its body. */
typedef struct FnHead {
  AstFn *fn;
  SrcLoc loc;
} FnHead;

typedef struct ParseState {
  Arena *arena;
  uint32_t file;
  AstProgram *prog;
  SrcLoc model_head, train_head; /* "model NAME" / "train" of the first of each */
  List imports, fns, rules;      /* of AstImport, AstFn and AstRule, in file order */
} ParseState;

/* One end of a hyperparameter's interval: a number, or inf, either signed. */
typedef struct Bound {
  double v;
  bool ok;
} Bound;

/* lexer.l */
typedef struct LexState LexState;
yyscan_t lex_open(Arena *arena, uint32_t file);
void lex_close(yyscan_t scanner);
/* Whether the statement being scanned (up to the last token returned) had a lexical
 * error; a syntax error in it is then most likely that error's echo. */
bool lex_statement_is_bad(yyscan_t scanner);

/* ast.c: expression constructors (the parser is their only user) */
AstExpr *ast_num(Arena *a, SrcLoc loc, double value, bool is_int);
AstExpr *ast_string(Arena *a, SrcLoc loc, const char *s);
AstExpr *ast_name(Arena *a, SrcLoc loc, const char *module, const char *name);
AstExpr *ast_unary(Arena *a, SrcLoc loc, int op, SrcLoc op_loc, AstExpr *operand);
AstExpr *ast_binary(Arena *a, int op, SrcLoc op_loc, AstExpr *lhs, AstExpr *rhs);
AstExpr *ast_call(Arena *a, SrcLoc loc, const char *module, const char *callee,
                  SrcLoc callee_loc, AstArg *args, int nargs);
AstExpr *ast_index(Arena *a, SrcLoc loc, AstExpr *base, AstExpr *index);
}

%code provides {
int yylex(YYSTYPE *yylval, YYLTYPE *yylloc, yyscan_t scanner);
}

%code {
#include <string.h>

/* A rule's location runs from the start of its first symbol to the end of its last; an
 * empty rule sits at the end of what precedes it. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                                       \
  do {                                                                                    \
    if (N) {                                                                              \
      (Cur).file = YYRHSLOC(Rhs, 1).file;                                                 \
      (Cur).line = YYRHSLOC(Rhs, 1).line;                                                 \
      (Cur).col = YYRHSLOC(Rhs, 1).col;                                                   \
      (Cur).end_line = YYRHSLOC(Rhs, N).end_line;                                         \
      (Cur).end_col = YYRHSLOC(Rhs, N).end_col;                                           \
    } else {                                                                              \
      (Cur).file = YYRHSLOC(Rhs, 0).file;                                                 \
      (Cur).line = (Cur).end_line = YYRHSLOC(Rhs, 0).end_line;                            \
      (Cur).col = (Cur).end_col = YYRHSLOC(Rhs, 0).end_col;                               \
    }                                                                                     \
  } while (0)

static void yyerror(YYLTYPE *loc, yyscan_t scanner, ParseState *ps, const char *msg);

static List list_append(Arena *a, List l, void *item) {
  ListNode *n = arena_alloc(a, sizeof *n);
  n->item = item;
  if (l.tail) l.tail->next = n; else l.head = n;
  l.tail = n;
  l.n++;
  return l;
}

static ExprV expr_v(AstExpr *e, int depth) { return (ExprV){e, depth}; }

/* Builds a binary node, refusing trees deeper than any later walk is willing to recurse. */
static ExprV binary(ParseState *ps, int op, SrcLoc op_loc, ExprV l, ExprV r) {
  int d = (l.depth > r.depth ? l.depth : r.depth) + 1;
  if (d == NN_MAX_EXPR_DEPTH + 1)
    diag_error(op_loc, "expression is nested too deeply (more than %d levels)", NN_MAX_EXPR_DEPTH);
  return expr_v(ast_binary(ps->arena, op, op_loc, l.e, r.e), d);
}

/* Counts dimensions past the limit too, so only the first extra one is reported; the
 * type rule clamps the rank back. */
static void add_dim(AstType *t, AstDim d) {
  if (t->rank == NN_MAX_RANK)
    diag_error(d.loc, "a type has at most %d dimensions", NN_MAX_RANK);
  if (t->rank < NN_MAX_RANK) t->dims[t->rank] = d;
  t->rank++;
}

static AstDecl *decl_new(ParseState *ps, AstDeclKind kind, SrcLoc loc, const char *name,
                         SrcLoc name_loc) {
  AstDecl *d = arena_alloc(ps->arena, sizeof *d);
  d->kind = kind;
  d->loc = loc;
  d->name = name;
  d->name_loc = name_loc;
  return d;
}

/* Models and functions share the statement rules, which cannot know where they are;
 * each block sorts out what does not belong when it is built. A `return` travels as a
 * DECL_LET without a name. */
static bool is_return(const AstDecl *d) { return d->name == NULL; }

/* The keyword starting a statement, for "only allowed in" errors (no keyword spans lines). */
static SrcLoc keyword_loc(SrcLoc stmt, const char *kw) {
  stmt.end_line = stmt.line;
  stmt.end_col = stmt.col + (uint32_t)strlen(kw) - 1;
  return stmt;
}

static void state_outside_optimizer(const AstDecl *d) {
  diag_error(keyword_loc(d->loc, "state"), "'state' is only allowed in an optimizer");
}

/* The model's declarations: everything but `return` and `state`. */
static AstModel *model_new(ParseState *ps, List stmts) {
  AstModel *m = arena_alloc(ps->arena, sizeof *m);
  m->decls = arena_alloc(ps->arena, sizeof(AstDecl) * (size_t)stmts.n);
  for (ListNode *n = stmts.head; n; n = n->next) {
    AstDecl *d = n->item;
    if (is_return(d))
      diag_error(keyword_loc(d->loc, "return"), "'return' is only allowed in a function");
    else if (d->kind == DECL_STATE)
      state_outside_optimizer(d);
    else
      m->decls[m->ndecls++] = *d;
  }
  return m;
}

/* An optimizer's block: states and bindings (assignments to w, g and the states among
 * them); no return, for the rule's results are w and its states. */
static void rule_body(ParseState *ps, AstRule *r, List stmts) {
  static const char *const kws[] = {[DECL_INPUT] = "input", [DECL_OUTPUT] = "output",
                                    [DECL_METRIC] = "metric"};
  r->decls = arena_alloc(ps->arena, sizeof(AstDecl) * (size_t)stmts.n);
  for (ListNode *n = stmts.head; n; n = n->next) {
    AstDecl *d = n->item;
    if (is_return(d))
      diag_error(keyword_loc(d->loc, "return"),
                 "an optimizer has no 'return': it assigns w and its states");
    else if (d->kind == DECL_PARAM)
      diag_error(keyword_loc(d->loc, "param"), "'param' is not allowed in an optimizer; keep "
                 "values between steps with 'state NAME = zeros'");
    else if (d->kind == DECL_INPUT || d->kind == DECL_OUTPUT || d->kind == DECL_METRIC)
      diag_error(keyword_loc(d->loc, kws[d->kind]), "'%s' is only allowed in a model",
                 kws[d->kind]);
    else
      r->decls[r->ndecls++] = *d;
  }
}

/* A function's block: `param` and bindings, then one `return`, last. */
static void fn_body(ParseState *ps, AstFn *f, List stmts) {
  static const char *const kws[] = {[DECL_INPUT] = "input", [DECL_OUTPUT] = "output",
                                    [DECL_METRIC] = "metric"};
  f->decls = arena_alloc(ps->arena, sizeof(AstDecl) * (size_t)stmts.n);
  bool after_return = false;
  for (ListNode *n = stmts.head; n; n = n->next) {
    AstDecl *d = n->item;
    if (f->result) {
      if (!after_return) diag_error(d->loc, "statements after 'return'");
      after_return = true;
    } else if (is_return(d)) {
      f->result = d->value;
      f->result_loc = d->loc;
    } else if (d->kind == DECL_INPUT || d->kind == DECL_OUTPUT || d->kind == DECL_METRIC) {
      diag_error(keyword_loc(d->loc, kws[d->kind]), "'%s' is only allowed in a model",
                 kws[d->kind]);
    } else if (d->kind == DECL_STATE) {
      state_outside_optimizer(d);
    } else {
      f->decls[f->ndecls++] = *d;
    }
  }
  /* A statement lost to a syntax error may have been the return. */
  if (!f->result && !stmts.broken)
    diag_error(f->name_loc, "function '%s' has no return statement", f->name);
}

static bool is_reserved(const char *s) {
  static const char *const words[] = {"model", "input", "param", "output", "metric",
                                      "train", "fn", "return", "import", "optimizer", "state"};
  for (size_t i = 0; i < sizeof words / sizeof *words; i++)
    if (strcmp(s, words[i]) == 0) return true;
  return false;
}

/* import "dir/extra.nn" is module "extra": the base name without ".nn", which must be a
 * name that can be written before a '.'. */
static const char *module_of_path(ParseState *ps, SrcLoc loc, const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  if (n > 3 && strcmp(base + n - 3, ".nn") == 0) n -= 3;
  const char *module = arena_strndup(ps->arena, base, n);
  bool ok = n > 0 && !(module[0] >= '0' && module[0] <= '9');
  for (size_t i = 0; i < n && ok; i++) {
    char c = module[i];
    ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
  if (!ok)
    diag_error(loc, "cannot import \"%s\": its file name without '.nn' must be a name to use "
               "as the module's name", path);
  else if (is_reserved(module))
    diag_error(loc, "cannot import \"%s\": its module name '%s' is a reserved word", path,
               module);
  return module;
}

static void add_import(ParseState *ps, SrcLoc loc, const char *module, const char *path) {
  AstImport *imp = arena_alloc(ps->arena, sizeof *imp);
  imp->module = module;
  imp->path = path;
  imp->loc = loc;
  ps->imports = list_append(ps->arena, ps->imports, imp);
}

/* "nn.dense" is one token sequence without blanks, so that it reads as one name. */
static void check_dot(SrcLoc module, SrcLoc dot, SrcLoc name) {
  if (dot.line != module.end_line || dot.col != module.end_col + 1 || name.line != dot.line ||
      name.col != dot.col + 1)
    diag_error(dot, "no spaces are allowed around the '.' of a qualified name");
}

static Bound inf_bound(SrcLoc loc, const char *name, double sign) {
  if (strcmp(name, "inf") == 0) return (Bound){sign * (1.0 / 0.0), true};
  diag_error(loc, "an interval's ends are numbers or inf, got '%s'", name);
  return (Bound){0, false};
}

static AstHyper *hyper_range(ParseState *ps, SrcLoc loc, Bound lo, Bound hi, bool lo_open,
                             bool hi_open) {
  AstHyper *h = arena_alloc(ps->arena, sizeof *h);
  h->domain = HYPER_RANGE;
  h->lo = lo.v, h->hi = hi.v, h->lo_open = lo_open, h->hi_open = hi_open;
  if (lo.ok && hi.ok && !(lo.v < hi.v))
    diag_error(loc, "an interval's lower end must be below its upper end");
  else if ((lo.v == -1.0 / 0.0 && !lo_open) || (hi.v == 1.0 / 0.0 && !hi_open))
    diag_error(loc, "an infinite end of an interval is open: write (-inf or inf)");
  return h;
}

static ExprV call(ParseState *ps, SrcLoc loc, const char *module, const char *callee,
                  SrcLoc callee_loc, List args) {
  AstArg *a = arena_alloc(ps->arena, sizeof(AstArg) * (size_t)args.n);
  int i = 0;
  for (ListNode *n = args.head; n; n = n->next) a[i++] = *(AstArg *)n->item;
  ExprV v = expr_v(ast_call(ps->arena, loc, module, callee, callee_loc, a, args.n), args.depth + 1);
  if (v.depth == NN_MAX_EXPR_DEPTH + 1)
    diag_error(callee_loc, "expression is nested too deeply (more than %d levels)",
               NN_MAX_EXPR_DEPTH);
  return v;
}
}

%union {
  Bound bound;
  AstHyper *hyper;
  AstRule *rule;
  int64_t ival;
  double fval;
  const char *str;
  ExprV ex;
  AstType *type;
  AstDim dim;
  AstDecl *decl;
  ArgV arg;
  AstTrainEntry *entry;
  AstFnParam *fparam;
  AstFn *fn;
  List list;
}

%token END 0
/* Item keywords first: expected-token lists name them in this order. */
%token IMPORT "'import'" FN "'fn'" OPTIMIZER "'optimizer'" MODEL "'model'" TRAIN "'train'"
%token INPUT "'input'" PARAM "'param'" STATE "'state'" OUTPUT "'output'" METRIC "'metric'"
%token RETURN "'return'"
%token EQ "'=='" NE "'!='" LE "'<='" GE "'>='" ARROW "'->'"
%token <str> IDENT STRING
%token <ival> INT
%token <fval> FLOAT
%token NEWLINE
/* Declared first so that expected-token lists name the closers before the rest. */
%token ')' ']' '}' ','

/* Comparisons do not chain: "a < b < c" is a syntax error. */
%nonassoc '<' '>' EQ NE LE GE
%left '+' '-'
%left '*' '/' '@'
%precedence NEG
%right '^'

%nterm <ex> expr postfix primary
%nterm <type> type dims fn_result
%nterm <dim> dim
%nterm <decl> stmt
%nterm <list> stmts body entries entry_body args arglist fn_params fn_param_list indexes
%nterm <list> hypers hyper_list
%nterm <hyper> hyper domain
%nterm <bound> bound
%nterm <rule> rule_head
%nterm <fparam> fn_param
%nterm <fn> fn_head
%nterm <arg> arg
%nterm <entry> entry

%initial-action {
  @$ = (SrcLoc){ps->file, 1, 1, 1, 1};
}

%%

/* file := { item term | term } */
file
  : %empty
  | file term
  | file item term
  | file error term { yyerrok; }
  ;

term: NEWLINE | ';' ;

/* item := 'import' (NAME | STRING) | fn | 'model' NAME '{' stmts '}'
 *       | 'train' '{' entries '}' */
item
  : IMPORT IDENT { add_import(ps, @$, $2, NULL); }
  | IMPORT STRING { add_import(ps, @$, module_of_path(ps, @2, $2), $2); }
  | fn_head '{' body '}' {
      $1->loc = @$;
      fn_body(ps, $1, $3);
      ps->fns = list_append(ps->arena, ps->fns, $1);
    }
  | fn_head '=' expr {
      $1->loc = @$;
      $1->result = $3.e;
      $1->result_loc = @3;
      ps->fns = list_append(ps->arena, ps->fns, $1);
    }
  | MODEL IDENT '{' body '}' {
      SrcLoc head = loc_span(@1, @2);
      AstModel *m = model_new(ps, $4);
      if (ps->prog->model) {
        diag_error(head, "a file has at most one model");
        diag_note(ps->model_head, "the first model is '%s'", ps->prog->model->name);
      } else {
        m->name = $2;
        m->loc = @$;
        m->name_loc = @2;
        ps->prog->model = m;
        ps->model_head = head;
      }
    }
  | TRAIN '{' entry_body '}' {
      AstProgram *p = ps->prog;
      if (p->has_train) {
        diag_error(@1, "a file has at most one train block");
        diag_note(ps->train_head, "the first train block is here");
      } else {
        p->has_train = true;
        p->train_loc = @$;
        p->ntrain = $3.n;
        p->train = arena_alloc(ps->arena, sizeof(AstTrainEntry) * (size_t)$3.n);
        int i = 0;
        for (ListNode *n = $3.head; n; n = n->next) p->train[i++] = *(AstTrainEntry *)n->item;
        ps->train_head = @1;
      }
    }
  | rule_head '{' body '}' {
      $1->loc = @$;
      rule_body(ps, $1, $3);
      ps->rules = list_append(ps->arena, ps->rules, $1);
    }
  /* A broken header skips its whole block rather than reparsing the body as items. */
  | MODEL error '}' { yyerrok; }
  | OPTIMIZER error '}' { yyerrok; }
  /* A broken function header skips to its body, which is still checked, or to the end
   * of the line of a one-line function. */
  | FN error { yyerrok; } /* only reduced before a statement end */
  | FN error '{' body '}' { yyerrok; }
  | TRAIN error '}' { yyerrok; }
  ;

/* fn := 'fn' NAME '(' [param {',' param} [',']] ')' ['->' type] ('{' stmts '}' | '=' expr) */
fn_head
  : FN IDENT '(' fn_params ')' fn_result {
      AstFn *f = arena_alloc(ps->arena, sizeof *f);
      f->name = $2;
      f->name_loc = @2;
      f->params = arena_alloc(ps->arena, sizeof(AstFnParam) * (size_t)$4.n);
      for (ListNode *n = $4.head; n; n = n->next) f->params[f->nparams++] = *(AstFnParam *)n->item;
      if ($6) {
        f->has_result_type = true;
        f->result_type = *$6;
      }
      $$ = f;
    }
  ;

/* optimizer := 'optimizer' NAME '(' [hyper {',' hyper} [',']] ')' '{' stmts '}' */
rule_head
  : OPTIMIZER IDENT '(' hypers ')' {
      AstRule *r = arena_alloc(ps->arena, sizeof *r);
      r->name = $2;
      r->name_loc = @2;
      r->hypers = arena_alloc(ps->arena, sizeof(AstHyper) * (size_t)$4.n);
      for (ListNode *n = $4.head; n; n = n->next) r->hypers[r->nhypers++] = *(AstHyper *)n->item;
      $$ = r;
    }
  ;

hypers
  : %empty { $$ = (List){0}; }
  | hyper_list
  | hyper_list ','
  ;

hyper_list
  : hyper { $$ = list_append(ps->arena, (List){0}, $1); }
  | hyper_list ',' hyper { $$ = list_append(ps->arena, $1, $3); }
  ;

/* hyper := NAME [':' domain] '=' expr      (the default is required; the forms without
 * one are parsed to say so) */
hyper
  : IDENT '=' expr {
      $$ = arena_alloc(ps->arena, sizeof *$$);
      $$->name = $1;
      $$->name_loc = @1;
      $$->loc = @$;
      $$->default_value = $3.e;
    }
  | IDENT ':' domain '=' expr {
      $$ = $3;
      $$->name = $1;
      $$->name_loc = @1;
      $$->loc = @$;
      $$->domain_loc = @3;
      $$->default_value = $5.e;
    }
  | IDENT {
      diag_error(@1, "hyperparameter '%s' needs a default: write %s = VALUE", $1, $1);
      $$ = arena_alloc(ps->arena, sizeof *$$);
      $$->name = $1;
      $$->name_loc = $$->loc = @1;
    }
  | IDENT ':' domain {
      diag_error(@$, "hyperparameter '%s' needs a default: write %s: ... = VALUE", $1, $1);
      $$ = $3;
      $$->name = $1;
      $$->name_loc = @1;
      $$->loc = @$;
      $$->domain_loc = @3;
    }
  ;

/* domain := 'bool' | ('(' | '[') bound ',' bound (')' | ']') */
domain
  : IDENT {
      $$ = arena_alloc(ps->arena, sizeof *$$);
      if (strcmp($1, "bool") != 0)
        diag_error(@1, "unknown domain '%s'; expected bool or an interval such as (0, 1) or "
                   "[0, inf)", $1);
      $$->domain = HYPER_BOOL;
    }
  | '(' bound ',' bound ')' { $$ = hyper_range(ps, @$, $2, $4, true, true); }
  | '(' bound ',' bound ']' { $$ = hyper_range(ps, @$, $2, $4, true, false); }
  | '[' bound ',' bound ')' { $$ = hyper_range(ps, @$, $2, $4, false, true); }
  | '[' bound ',' bound ']' { $$ = hyper_range(ps, @$, $2, $4, false, false); }
  ;

/* bound := ['-'] (INT | FLOAT | 'inf') */
bound
  : INT { $$ = (Bound){(double)$1, true}; }
  | FLOAT { $$ = (Bound){$1, true}; }
  | IDENT { $$ = inf_bound(@1, $1, 1); }
  | '-' INT { $$ = (Bound){-(double)$2, true}; }
  | '-' FLOAT { $$ = (Bound){-$2, true}; }
  | '-' IDENT { $$ = inf_bound(@2, $2, -1); }
  ;

fn_result
  : %empty { $$ = NULL; }
  | ARROW type { $$ = $2; }
  ;

fn_params
  : %empty { $$ = (List){0}; }
  | fn_param_list
  | fn_param_list ','
  ;

/* named: a parameter so far had a default, so every later one needs one too. */
fn_param_list
  : fn_param {
      $$ = list_append(ps->arena, (List){0}, $1);
      $$.named = $1->default_value != NULL;
    }
  | fn_param_list ',' fn_param {
      if ($1.named && !$3->default_value)
        diag_error($3->loc, "parameter '%s' without a default follows one with a default",
                   $3->name);
      $$ = list_append(ps->arena, $1, $3);
      $$.named = $1.named || $3->default_value != NULL;
    }
  ;

/* param := NAME [':' type] ['=' expr] */
fn_param
  : IDENT {
      $$ = arena_alloc(ps->arena, sizeof *$$);
      $$->name = $1;
      $$->loc = @$;
    }
  | IDENT ':' type {
      $$ = arena_alloc(ps->arena, sizeof *$$);
      $$->name = $1;
      $$->loc = @$;
      $$->has_type = true;
      $$->type = *$3;
    }
  | IDENT '=' expr {
      $$ = arena_alloc(ps->arena, sizeof *$$);
      $$->name = $1;
      $$->loc = @$;
      $$->default_value = $3.e;
    }
  | IDENT ':' type '=' expr {
      $$ = arena_alloc(ps->arena, sizeof *$$);
      $$->name = $1;
      $$->loc = @$;
      $$->has_type = true;
      $$->type = *$3;
      $$->default_value = $5.e;
    }
  ;

/* The last statement of a block needs no terminator before the '}'. */
body
  : stmts
  | stmts stmt { $$ = list_append(ps->arena, $1, $2); }
  | stmts error { yyerrok; $$.broken = true; }
  ;

stmts
  : %empty { $$ = (List){0}; }
  | stmts term
  | stmts stmt term { $$ = list_append(ps->arena, $1, $2); }
  /* A statement end is a sound place to resume: report the next error at once. */
  | stmts error term { yyerrok; $$.broken = true; }
  ;

/* stmt := 'input' NAME ':' type | 'param' NAME ':' type ['=' expr]
 *       | 'state' NAME ['=' expr]
 *       | NAME '=' expr | 'output' NAME '=' expr | 'metric' NAME '=' expr
 *       | 'return' expr
 * (input, output and metric only in a model, return only in a function, state only in
 * an optimizer) */
stmt
  : INPUT IDENT ':' type {
      $$ = decl_new(ps, DECL_INPUT, @$, $2, @2);
      $$->type = *$4;
    }
  | PARAM IDENT ':' type {
      $$ = decl_new(ps, DECL_PARAM, @$, $2, @2);
      $$->type = *$4;
    }
  | PARAM IDENT ':' type '=' expr {
      $$ = decl_new(ps, DECL_PARAM, @$, $2, @2);
      $$->type = *$4;
      $$->value = $6.e;
    }
  | STATE IDENT { $$ = decl_new(ps, DECL_STATE, @$, $2, @2); }
  | STATE IDENT '=' expr {
      $$ = decl_new(ps, DECL_STATE, @$, $2, @2);
      $$->value = $4.e;
    }
  | IDENT '=' expr {
      $$ = decl_new(ps, DECL_LET, @$, $1, @1);
      $$->value = $3.e;
    }
  | OUTPUT IDENT '=' expr {
      $$ = decl_new(ps, DECL_OUTPUT, @$, $2, @2);
      $$->value = $4.e;
    }
  | METRIC IDENT '=' expr {
      $$ = decl_new(ps, DECL_METRIC, @$, $2, @2);
      $$->value = $4.e;
    }
  | RETURN expr {
      $$ = decl_new(ps, DECL_LET, @$, NULL, @1);
      $$->value = $2.e;
    }
  ;

/* type := NAME ['[' dim {',' dim} ']'] */
type
  : IDENT {
      $$ = arena_alloc(ps->arena, sizeof *$$);
      $$->dtype = $1;
      $$->loc = @$;
    }
  | dims ']' {
      $$ = $1;
      $$->loc = @$;
      if ($$->rank > NN_MAX_RANK) $$->rank = NN_MAX_RANK;
    }
  ;

dims
  : IDENT '[' dim {
      $$ = arena_alloc(ps->arena, sizeof *$$);
      $$->dtype = $1;
      add_dim($$, $3);
    }
  | dims ',' dim { $$ = $1; add_dim($$, $3); }
  ;

/* dim := INT | NAME */
dim
  : INT { $$ = (AstDim){.value = $1, .loc = @$}; }
  | IDENT { $$ = (AstDim){.name = $1, .loc = @$}; }
  ;

/* entries := like stmts, of entry := NAME '=' expr */
entry_body
  : entries
  | entries entry { $$ = list_append(ps->arena, $1, $2); }
  | entries error { yyerrok; }
  ;

entries
  : %empty { $$ = (List){0}; }
  | entries term
  | entries entry term { $$ = list_append(ps->arena, $1, $2); }
  | entries error term { yyerrok; }
  ;

/* The train block's `optimizer = rmsprop(lr: 0.001)` names a rule: the keyword is a key. */
entry
  : IDENT '=' expr {
      $$ = arena_alloc(ps->arena, sizeof *$$);
      $$->key = $1;
      $$->key_loc = @1;
      $$->loc = @$;
      $$->value = $3.e;
    }
  | OPTIMIZER '=' expr {
      $$ = arena_alloc(ps->arena, sizeof *$$);
      $$->key = "optimizer";
      $$->key_loc = @1;
      $$->loc = @$;
      $$->value = $3.e;
    }
  ;

/* expr := expr ('=='|'!='|'<'|'<='|'>'|'>=') expr | expr ('+'|'-') expr
 *       | expr ('*'|'/'|'@') expr | '-' expr | expr '^' expr
 *       | postfix                  (precedence from the declarations above) */
expr
  : expr EQ expr { $$ = binary(ps, AST_OP_EQ, @2, $1, $3); }
  | expr NE expr { $$ = binary(ps, AST_OP_NE, @2, $1, $3); }
  | expr '<' expr { $$ = binary(ps, '<', @2, $1, $3); }
  | expr LE expr { $$ = binary(ps, AST_OP_LE, @2, $1, $3); }
  | expr '>' expr { $$ = binary(ps, '>', @2, $1, $3); }
  | expr GE expr { $$ = binary(ps, AST_OP_GE, @2, $1, $3); }
  | expr '+' expr { $$ = binary(ps, '+', @2, $1, $3); }
  | expr '-' expr { $$ = binary(ps, '-', @2, $1, $3); }
  | expr '*' expr { $$ = binary(ps, '*', @2, $1, $3); }
  | expr '/' expr { $$ = binary(ps, '/', @2, $1, $3); }
  | expr '@' expr { $$ = binary(ps, '@', @2, $1, $3); }
  | expr '^' expr { $$ = binary(ps, '^', @2, $1, $3); }
  | '-' expr %prec NEG {
      $$ = expr_v(ast_unary(ps->arena, @$, '-', @1, $2.e), $2.depth + 1);
      if ($$.depth == NN_MAX_EXPR_DEPTH + 1)
        diag_error(@1, "expression is nested too deeply (more than %d levels)", NN_MAX_EXPR_DEPTH);
    }
  | postfix
  ;

/* postfix := primary | postfix '[' expr ']'      (one index; a list is parsed to report it) */
postfix
  : primary
  | postfix '[' indexes ']' {
      AstExpr *first = $3.head->item;
      if ($3.n > 1)
        diag_error(loc_span(((AstExpr *)$3.head->next->item)->loc, ((AstExpr *)$3.tail->item)->loc),
                   "indexing takes one index");
      $$ = expr_v(ast_index(ps->arena, @$, $1.e, first),
                  ($1.depth > $3.depth ? $1.depth : $3.depth) + 1);
      if ($$.depth == NN_MAX_EXPR_DEPTH + 1)
        diag_error(@2, "expression is nested too deeply (more than %d levels)", NN_MAX_EXPR_DEPTH);
    }
  ;

indexes
  : expr {
      $$ = list_append(ps->arena, (List){0}, $1.e);
      $$.depth = $1.depth;
    }
  | indexes ',' expr {
      $$ = list_append(ps->arena, $1, $3.e);
      if ($3.depth > $$.depth) $$.depth = $3.depth;
    }
  ;

/* primary := INT | FLOAT | STRING | name | name '(' [arg {',' arg} [',']] ')' | '(' expr ')'
 * name := NAME | NAME '.' NAME */
primary
  : INT { $$ = expr_v(ast_num(ps->arena, @$, (double)$1, true), 1); }
  | FLOAT { $$ = expr_v(ast_num(ps->arena, @$, $1, false), 1); }
  | STRING { $$ = expr_v(ast_string(ps->arena, @$, $1), 1); }
  | IDENT { $$ = expr_v(ast_name(ps->arena, @$, NULL, $1), 1); }
  | IDENT '.' IDENT {
      check_dot(@1, @2, @3);
      $$ = expr_v(ast_name(ps->arena, @$, $1, $3), 1);
    }
  | IDENT '(' args ')' { $$ = call(ps, @$, NULL, $1, @1, $3); }
  | IDENT '.' IDENT '(' args ')' {
      check_dot(@1, @2, @3);
      $$ = call(ps, @$, $1, $3, loc_span(@1, @3), $5);
    }
  /* The parentheses belong to the expression's range, so "(a + b) @ W" spans from '('. */
  | '(' expr ')' { $$ = $2; $$.e->loc = @$; }
  ;

args
  : %empty { $$ = (List){0}; }
  | arglist
  | arglist ','
  ;

arglist
  : arg {
      $$ = list_append(ps->arena, (List){0}, $1.a);
      $$.named = $1.a->name != NULL;
      $$.depth = $1.depth;
    }
  | arglist ',' arg {
      if ($1.named && !$3.a->name)
        diag_error($3.a->value->loc, "positional argument after a named argument");
      $$ = list_append(ps->arena, $1, $3.a);
      $$.named = $1.named || $3.a->name != NULL;
      if ($3.depth > $$.depth) $$.depth = $3.depth;
    }
  ;

/* arg := expr | NAME ':' expr */
arg
  : expr {
      $$.a = arena_alloc(ps->arena, sizeof *$$.a);
      $$.a->value = $1.e;
      $$.depth = $1.depth;
    }
  | IDENT ':' expr {
      $$.a = arena_alloc(ps->arena, sizeof *$$.a);
      $$.a->name = $1;
      $$.a->name_loc = @1;
      $$.a->value = $3.e;
      $$.depth = $3.depth;
    }
  ;

%%

/* The source text of a one-line location, for messages that quote a token. */
static const char *loc_text(ParseState *ps, SrcLoc loc) {
  const char *text = src_text(loc.file), *p = text, *end = text + src_len(loc.file);
  for (uint32_t l = 1; l < loc.line; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return "";
    p = nl + 1;
  }
  if (loc.end_line != loc.line || loc.col == 0 || loc.end_col < loc.col) return "";
  if ((size_t)(end - p) < loc.end_col) return "";
  size_t n = loc.end_col - loc.col + 1;
  if (n > 40) return arena_printf(ps->arena, "%.37s...", p + loc.col - 1);
  return arena_strndup(ps->arena, p + loc.col - 1, n);
}

/* How a message names a token the parser wanted. */
static const char *expected_name(yysymbol_kind_t sym) {
  switch (sym) {
  case YYSYMBOL_YYEOF: return "end of file";
  case YYSYMBOL_NEWLINE: return "end of line";
  case YYSYMBOL_IDENT: return "a name";
  case YYSYMBOL_INT: return "an integer";
  case YYSYMBOL_FLOAT: return "a number";
  case YYSYMBOL_STRING: return "a string";
  default: return yysymbol_name(sym); /* keywords and punctuation: "'model'", "'+'" */
  }
}

/* "unexpected X, expected A, B or C". Sets of tokens that always come together are
 * named as one: every binary operator is "an operator", every token that can start an
 * expression is "an expression", integers and floats are "a number". Lists longer than
 * four help nobody and are left out. */
static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, ParseState *ps) {
  /* Silence is safe: the lexical error was counted, so the parse still fails. */
  if (lex_statement_is_bad(scanner)) return 0;
  SrcLoc loc = *yypcontext_location(ctx);
  yysymbol_kind_t tok = yypcontext_token(ctx);
  const char *what;
  switch (tok) {
  case YYSYMBOL_YYEOF: what = "end of file"; break;
  case YYSYMBOL_NEWLINE: what = "end of line"; break;
  case YYSYMBOL_IDENT: what = arena_printf(ps->arena, "name '%s'", loc_text(ps, loc)); break;
  case YYSYMBOL_INT:
  case YYSYMBOL_FLOAT: what = arena_printf(ps->arena, "number '%s'", loc_text(ps, loc)); break;
  case YYSYMBOL_STRING: what = arena_printf(ps->arena, "string %s", loc_text(ps, loc)); break;
  default: what = yysymbol_name(tok); break;
  }

  yysymbol_kind_t exp[YYNTOKENS];
  int n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
  bool has[YYNTOKENS] = {false};
  for (int i = 0; i < n; i++) has[exp[i]] = true;
  const yysymbol_kind_t ops[] = {YYTRANSLATE('+'), YYTRANSLATE('-'), YYTRANSLATE('*'),
                                 YYTRANSLATE('/'), YYTRANSLATE('@'), YYTRANSLATE('^')};
  /* What else can follow an operand: comparisons, and a call, index or '.' after a name. */
  const yysymbol_kind_t more_ops[] = {YYSYMBOL_EQ, YYSYMBOL_NE, YYTRANSLATE('<'), YYSYMBOL_LE,
                                      YYTRANSLATE('>'), YYSYMBOL_GE, YYTRANSLATE('('),
                                      YYTRANSLATE('['), YYTRANSLATE('.')};
  const yysymbol_kind_t cmps[] = {YYSYMBOL_EQ, YYSYMBOL_NE, YYTRANSLATE('<'), YYSYMBOL_LE,
                                  YYTRANSLATE('>'), YYSYMBOL_GE};
  const yysymbol_kind_t starts[] = {YYSYMBOL_IDENT, YYSYMBOL_INT, YYSYMBOL_FLOAT,
                                    YYSYMBOL_STRING, YYTRANSLATE('('), YYTRANSLATE('-')};
  bool all_ops = true, all_starts = true;
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) all_ops &= has[ops[i]];
  for (size_t i = 0; i < sizeof starts / sizeof *starts; i++) all_starts &= has[starts[i]];
  /* After "a < b" every operator but a comparison may follow. */
  bool is_cmp = false;
  for (size_t i = 0; i < sizeof cmps / sizeof *cmps; i++) is_cmp |= tok == cmps[i];
  if (is_cmp && all_ops && !has[tok]) {
    diag_error(loc, "unexpected %s: comparisons do not chain, add parentheses", what);
    return 0;
  }
  if (all_ops) {
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) has[ops[i]] = false;
    for (size_t i = 0; i < sizeof more_ops / sizeof *more_ops; i++) has[more_ops[i]] = false;
  }
  if (all_starts)
    for (size_t i = 0; i < sizeof starts / sizeof *starts; i++) has[starts[i]] = false;
  if (has[YYSYMBOL_INT] && has[YYSYMBOL_FLOAT]) has[YYSYMBOL_INT] = false;
  /* ';' is the rarer way to end a statement, and "end of line" already says it ends. */
  if (has[YYSYMBOL_NEWLINE]) has[YYTRANSLATE(';')] = false;
  /* Between items, what a file can go on with is what matters. */
  if (has[YYSYMBOL_MODEL] && has[YYSYMBOL_TRAIN])
    has[YYSYMBOL_NEWLINE] = has[YYSYMBOL_YYEOF] = false;
  /* Where a statement may start, an empty one may too; "a statement" says both. */
  bool stmt_start = has[YYSYMBOL_INPUT] && has[YYSYMBOL_PARAM] && has[YYSYMBOL_OUTPUT];
  if (stmt_start)
    has[YYSYMBOL_INPUT] = has[YYSYMBOL_PARAM] = has[YYSYMBOL_OUTPUT] = has[YYSYMBOL_METRIC] =
        has[YYSYMBOL_RETURN] = has[YYSYMBOL_STATE] = has[YYSYMBOL_IDENT] =
            has[YYSYMBOL_NEWLINE] = has[YYTRANSLATE(';')] = false;
  /* Where an item may start, the five keywords are one entry of the list. */
  bool item_start = has[YYSYMBOL_IMPORT] && has[YYSYMBOL_FN] && has[YYSYMBOL_OPTIMIZER] &&
                    has[YYSYMBOL_MODEL] && has[YYSYMBOL_TRAIN];
  if (item_start)
    has[YYSYMBOL_IMPORT] = has[YYSYMBOL_FN] = has[YYSYMBOL_OPTIMIZER] = has[YYSYMBOL_MODEL] =
        has[YYSYMBOL_TRAIN] = false;
  /* At the end of the file only the missing closers are worth naming. */
  if (tok == YYSYMBOL_YYEOF &&
      (has[YYTRANSLATE(')')] || has[YYTRANSLATE(']')] || has[YYTRANSLATE('}')])) {
    for (int i = 0; i < YYNTOKENS; i++)
      if (i != YYTRANSLATE(')') && i != YYTRANSLATE(']') && i != YYTRANSLATE('}')) has[i] = false;
    all_ops = all_starts = stmt_start = item_start = false;
  }

  const char *names[8];
  int k = 0;
  if (item_start) names[k++] = "'import', 'fn', 'optimizer', 'model' or 'train'";
  if (all_starts) names[k++] = "an expression";
  for (int i = 0; i < n && k < 8; i++)
    if (has[exp[i]]) names[k++] = expected_name(exp[i]);
  if (all_ops && k < 8) names[k++] = "an operator";
  if (stmt_start && k < 8) names[k++] = "a statement";

  if (k == 0 || k > 4) {
    diag_error(loc, "unexpected %s", what);
    return 0;
  }
  const char *list = names[0];
  for (int i = 1; i < k; i++)
    list = arena_printf(ps->arena, "%s%s%s", list, i == k - 1 ? " or " : ", ", names[i]);
  diag_error(loc, "unexpected %s, expected %s", what, list);
  return 0;
}

/* Only reached when the parser's stack is exhausted, by thousands of nested brackets. */
static void yyerror(YYLTYPE *loc, yyscan_t scanner, ParseState *ps, const char *msg) {
  (void)scanner;
  (void)ps;
  diag_error(*loc, "the input is nested too deeply for the parser (%s)", msg);
}

AstProgram *lang_parse(Arena *arena, uint32_t file) {
  int errors_before = diag_error_count();
  ParseState ps = {.arena = arena, .file = file};
  ps.prog = arena_alloc(arena, sizeof *ps.prog);
  ps.prog->file = file;
  yyscan_t scanner = lex_open(arena, file);
  int rc = yyparse(scanner, &ps);
  lex_close(scanner);
  AstProgram *p = ps.prog;
  p->imports = arena_alloc(arena, sizeof(AstImport) * (size_t)ps.imports.n);
  for (ListNode *n = ps.imports.head; n; n = n->next) p->imports[p->nimports++] = *(AstImport *)n->item;
  p->fns = arena_alloc(arena, sizeof(AstFn) * (size_t)ps.fns.n);
  for (ListNode *n = ps.fns.head; n; n = n->next) p->fns[p->nfns++] = *(AstFn *)n->item;
  p->rules = arena_alloc(arena, sizeof(AstRule) * (size_t)ps.rules.n);
  for (ListNode *n = ps.rules.head; n; n = n->next) p->rules[p->nrules++] = *(AstRule *)n->item;
  if (rc != 0 || diag_error_count() != errors_before) return NULL;
  return ps.prog;
}
