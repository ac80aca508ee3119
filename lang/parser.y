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
  bool named; /* an argument list has seen a named argument */
  int depth;  /* an argument list: the deepest argument */
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

typedef struct ParseState {
  Arena *arena;
  uint32_t file;
  AstProgram *prog;
  SrcLoc model_head, train_head; /* "model NAME" / "train" of the first of each */
} ParseState;

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
AstExpr *ast_name(Arena *a, SrcLoc loc, const char *name);
AstExpr *ast_unary(Arena *a, SrcLoc loc, int op, SrcLoc op_loc, AstExpr *operand);
AstExpr *ast_binary(Arena *a, int op, SrcLoc op_loc, AstExpr *lhs, AstExpr *rhs);
AstExpr *ast_call(Arena *a, SrcLoc loc, const char *callee, SrcLoc callee_loc, AstArg *args,
                  int nargs);
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
}

%union {
  int64_t ival;
  double fval;
  const char *str;
  ExprV ex;
  AstType *type;
  AstDim dim;
  AstDecl *decl;
  ArgV arg;
  AstTrainEntry *entry;
  List list;
}

%token END 0
%token MODEL "'model'" INPUT "'input'" PARAM "'param'" OUTPUT "'output'" TRAIN "'train'"
%token <str> IDENT STRING
%token <ival> INT
%token <fval> FLOAT
%token NEWLINE
/* Declared first so that expected-token lists name the closers before the rest. */
%token ')' ']' '}' ','

%left '+' '-'
%left '*' '/' '@'
%precedence NEG
%right '^'

%nterm <ex> expr primary
%nterm <type> type dims
%nterm <dim> dim
%nterm <decl> stmt
%nterm <list> stmts body entries entry_body args arglist
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

/* item := 'model' NAME '{' stmts '}' | 'train' '{' entries '}' */
item
  : MODEL IDENT '{' body '}' {
      SrcLoc head = loc_span(@1, @2);
      if (ps->prog->model) {
        diag_error(head, "a file has at most one model");
        diag_note(ps->model_head, "the first model is '%s'", ps->prog->model->name);
      } else {
        AstModel *m = arena_alloc(ps->arena, sizeof *m);
        m->name = $2;
        m->loc = @$;
        m->name_loc = @2;
        m->ndecls = $4.n;
        m->decls = arena_alloc(ps->arena, sizeof(AstDecl) * (size_t)$4.n);
        int i = 0;
        for (ListNode *n = $4.head; n; n = n->next) m->decls[i++] = *(AstDecl *)n->item;
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
  /* A broken header skips its whole block rather than reparsing the body as items. */
  | MODEL error '}' { yyerrok; }
  | TRAIN error '}' { yyerrok; }
  ;

/* The last statement of a block needs no terminator before the '}'. */
body
  : stmts
  | stmts stmt { $$ = list_append(ps->arena, $1, $2); }
  | stmts error { yyerrok; }
  ;

stmts
  : %empty { $$ = (List){0}; }
  | stmts term
  | stmts stmt term { $$ = list_append(ps->arena, $1, $2); }
  /* A statement end is a sound place to resume: report the next error at once. */
  | stmts error term { yyerrok; }
  ;

/* stmt := 'input' NAME ':' type | 'param' NAME ':' type ['=' expr]
 *       | NAME '=' expr | 'output' NAME '=' expr */
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
  | IDENT '=' expr {
      $$ = decl_new(ps, DECL_LET, @$, $1, @1);
      $$->value = $3.e;
    }
  | OUTPUT IDENT '=' expr {
      $$ = decl_new(ps, DECL_OUTPUT, @$, $2, @2);
      $$->value = $4.e;
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

entry
  : IDENT '=' expr {
      $$ = arena_alloc(ps->arena, sizeof *$$);
      $$->key = $1;
      $$->key_loc = @1;
      $$->loc = @$;
      $$->value = $3.e;
    }
  ;

/* expr := expr ('+'|'-') expr | expr ('*'|'/'|'@') expr | '-' expr | expr '^' expr
 *       | primary                  (precedence from the declarations above) */
expr
  : expr '+' expr { $$ = binary(ps, '+', @2, $1, $3); }
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
  | primary
  ;

/* primary := INT | FLOAT | STRING | NAME | NAME '(' [arg {',' arg} [',']] ')' | '(' expr ')' */
primary
  : INT { $$ = expr_v(ast_num(ps->arena, @$, (double)$1, true), 1); }
  | FLOAT { $$ = expr_v(ast_num(ps->arena, @$, $1, false), 1); }
  | STRING { $$ = expr_v(ast_string(ps->arena, @$, $1), 1); }
  | IDENT { $$ = expr_v(ast_name(ps->arena, @$, $1), 1); }
  | IDENT '(' args ')' {
      AstArg *args = arena_alloc(ps->arena, sizeof(AstArg) * (size_t)$3.n);
      int i = 0;
      for (ListNode *n = $3.head; n; n = n->next) args[i++] = *(AstArg *)n->item;
      $$ = expr_v(ast_call(ps->arena, @$, $1, @1, args, $3.n), $3.depth + 1);
      if ($$.depth == NN_MAX_EXPR_DEPTH + 1)
        diag_error(@1, "expression is nested too deeply (more than %d levels)", NN_MAX_EXPR_DEPTH);
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
  const yysymbol_kind_t starts[] = {YYSYMBOL_IDENT, YYSYMBOL_INT, YYSYMBOL_FLOAT,
                                    YYSYMBOL_STRING, YYTRANSLATE('('), YYTRANSLATE('-')};
  bool all_ops = true, all_starts = true;
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) all_ops &= has[ops[i]];
  for (size_t i = 0; i < sizeof starts / sizeof *starts; i++) all_starts &= has[starts[i]];
  if (all_ops)
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) has[ops[i]] = false;
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
    has[YYSYMBOL_INPUT] = has[YYSYMBOL_PARAM] = has[YYSYMBOL_OUTPUT] = has[YYSYMBOL_IDENT] =
        has[YYSYMBOL_NEWLINE] = has[YYTRANSLATE(';')] = false;
  /* At the end of the file only the missing closers are worth naming. */
  if (tok == YYSYMBOL_YYEOF &&
      (has[YYTRANSLATE(')')] || has[YYTRANSLATE(']')] || has[YYTRANSLATE('}')])) {
    for (int i = 0; i < YYNTOKENS; i++)
      if (i != YYTRANSLATE(')') && i != YYTRANSLATE(']') && i != YYTRANSLATE('}')) has[i] = false;
    all_ops = all_starts = stmt_start = false;
  }

  const char *names[8];
  int k = 0;
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
  if (rc != 0 || diag_error_count() != errors_before) return NULL;
  return ps.prog;
}
