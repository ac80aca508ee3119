/* ast.c: building and printing the syntax tree.
 *
 * The dump (--emit=ast) is an S-expression, one node per line, children indented two
 * spaces under their parent and closing parentheses gathered at the end of the last
 * child, Lisp style. Every node ends its head with the range it covers:
 *   @L:C        one column          @L:C-E      columns C..E of line L
 *   @L:C-M:E    from line L column C to line M column E
 * Numbers print in the shortest form that reads back to the same double, and a number
 * written without '.' or exponent prints without them, so the dump says which is which.
 */
#include "lang.h"
#include "parser.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

AstExpr *ast_num(Arena *a, SrcLoc loc, double value, bool is_int) {
  AstExpr *e = arena_alloc(a, sizeof *e);
  e->kind = AST_NUM;
  e->loc = loc;
  e->num.value = value;
  e->num.is_int = is_int;
  return e;
}

AstExpr *ast_string(Arena *a, SrcLoc loc, const char *s) {
  AstExpr *e = arena_alloc(a, sizeof *e);
  e->kind = AST_STRING;
  e->loc = loc;
  e->str = s;
  return e;
}

AstExpr *ast_name(Arena *a, SrcLoc loc, const char *module, const char *name) {
  AstExpr *e = arena_alloc(a, sizeof *e);
  e->kind = AST_NAME;
  e->loc = loc;
  e->module = module;
  e->name = name;
  return e;
}

AstExpr *ast_unary(Arena *a, SrcLoc loc, int op, SrcLoc op_loc, AstExpr *operand) {
  AstExpr *e = arena_alloc(a, sizeof *e);
  e->kind = AST_UNARY;
  e->loc = loc;
  e->unary.op = op;
  e->unary.op_loc = op_loc;
  e->unary.operand = operand;
  return e;
}

AstExpr *ast_binary(Arena *a, int op, SrcLoc op_loc, AstExpr *lhs, AstExpr *rhs) {
  AstExpr *e = arena_alloc(a, sizeof *e);
  e->kind = AST_BINARY;
  e->loc = loc_span(lhs->loc, rhs->loc);
  e->binary.op = op;
  e->binary.op_loc = op_loc;
  e->binary.lhs = lhs;
  e->binary.rhs = rhs;
  return e;
}

AstExpr *ast_call(Arena *a, SrcLoc loc, const char *module, const char *callee,
                  SrcLoc callee_loc, AstArg *args, int nargs) {
  AstExpr *e = arena_alloc(a, sizeof *e);
  e->kind = AST_CALL;
  e->loc = loc;
  e->call.callee_module = module;
  e->call.callee = callee;
  e->call.callee_loc = callee_loc;
  e->call.args = args;
  e->call.nargs = nargs;
  return e;
}

AstExpr *ast_index(Arena *a, SrcLoc loc, AstExpr *base, AstExpr *index) {
  AstExpr *e = arena_alloc(a, sizeof *e);
  e->kind = AST_INDEX;
  e->loc = loc;
  e->index.base = base;
  e->index.index = index;
  return e;
}

const char *ast_op_name(int op) {
  switch (op) {
  case '<': return "<";
  case '>': return ">";
  case AST_OP_EQ: return "==";
  case AST_OP_NE: return "!=";
  case AST_OP_LE: return "<=";
  case AST_OP_GE: return ">=";
  case '+': return "+";
  case '-': return "-";
  case '*': return "*";
  case '/': return "/";
  case '^': return "^";
  case '@': return "@";
  }
  nnc_unreachable("unknown operator");
}

/* ---- printing ----------------------------------------------------------------------- */

static void print_loc(FILE *out, SrcLoc l) {
  fprintf(out, " @%u:%u", l.line, l.col);
  if (l.end_line != l.line)
    fprintf(out, "-%u:%u", l.end_line, l.end_col);
  else if (l.end_col != l.col)
    fprintf(out, "-%u", l.end_col);
}

/* Starts a node on a line of its own. */
static void open_node(FILE *out, int indent, const char *head) {
  fprintf(out, "\n%*s(%s", indent * 2, "", head);
}

static void print_number(FILE *out, double v, bool is_int) {
  if (is_int) { /* an integer literal converted to double is integral */
    fprintf(out, "%.0f", v);
    return;
  }
  char buf[64];
  int digits = 1;
  for (; digits < 17; digits++) {
    snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
    if (strtod(buf, NULL) == v) break;
  }
  snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
  const char *e = strchr(buf, 'e');
  int exp10 = e ? atoi(e + 1) : 0;
  /* Plain decimals where they stay short (0.001, 25000.0), exponents beyond. */
  if (e && exp10 >= -5 && exp10 < 17) {
    int decimals = digits - 1 - exp10;
    snprintf(buf, sizeof buf, "%.*f", decimals > 0 ? decimals : 0, v);
  }
  fputs(buf, out);
  if (!strpbrk(buf, ".en")) fputs(".0", out); /* 'n': inf, nan */
}

static void print_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\t': fputs("\\t", out); break;
    default:
      if (*p < 0x20 || *p == 0x7f)
        fprintf(out, "\\x%02X", *p);
      else
        fputc(*p, out);
    }
  }
  fputc('"', out);
}

static void print_expr(FILE *out, const AstExpr *e, int indent) {
  switch (e->kind) {
  case AST_NUM:
    open_node(out, indent, "num ");
    print_number(out, e->num.value, e->num.is_int);
    print_loc(out, e->loc);
    break;
  case AST_STRING:
    open_node(out, indent, "string ");
    print_string(out, e->str);
    print_loc(out, e->loc);
    break;
  case AST_NAME:
    open_node(out, indent, "name ");
    if (e->module) fprintf(out, "%s.", e->module);
    fputs(e->name, out);
    print_loc(out, e->loc);
    break;
  case AST_UNARY:
    open_node(out, indent, "unary ");
    fputs(ast_op_name(e->unary.op), out);
    print_loc(out, e->loc);
    print_expr(out, e->unary.operand, indent + 1);
    break;
  case AST_BINARY:
    open_node(out, indent, "binary ");
    fputs(ast_op_name(e->binary.op), out);
    print_loc(out, e->loc);
    print_expr(out, e->binary.lhs, indent + 1);
    print_expr(out, e->binary.rhs, indent + 1);
    break;
  case AST_CALL:
    open_node(out, indent, "call ");
    if (e->call.callee_module) fprintf(out, "%s.", e->call.callee_module);
    fputs(e->call.callee, out);
    print_loc(out, e->loc);
    for (int i = 0; i < e->call.nargs; i++) {
      const AstArg *a = &e->call.args[i];
      if (a->name) {
        /* A named argument's range is its name; its value follows as its child. */
        open_node(out, indent + 1, "named ");
        fputs(a->name, out);
        print_loc(out, a->name_loc);
        print_expr(out, a->value, indent + 2);
        fputc(')', out);
      } else {
        print_expr(out, a->value, indent + 1);
      }
    }
    break;
  case AST_INDEX:
    open_node(out, indent, "index");
    print_loc(out, e->loc);
    print_expr(out, e->index.base, indent + 1);
    print_expr(out, e->index.index, indent + 1);
    break;
  }
  fputc(')', out);
}

static void print_type(FILE *out, const AstType *t) {
  fprintf(out, " %s", t->dtype);
  if (t->rank == 0) return;
  fputc('[', out);
  for (int i = 0; i < t->rank && i < NN_MAX_RANK; i++) {
    if (i) fputs(", ", out);
    if (t->dims[i].name)
      fputs(t->dims[i].name, out);
    else
      fprintf(out, "%" PRId64, t->dims[i].value);
  }
  fputc(']', out);
}

static void print_decl(FILE *out, const AstDecl *d, int indent) {
  static const char *const heads[] = {
      [DECL_INPUT] = "input ", [DECL_PARAM] = "param ", [DECL_LET] = "let ",
      [DECL_OUTPUT] = "output ", [DECL_METRIC] = "metric ", [DECL_STATE] = "state "};
  open_node(out, indent, heads[d->kind]);
  fputs(d->name, out);
  if (d->kind == DECL_INPUT || d->kind == DECL_PARAM) print_type(out, &d->type);
  print_loc(out, d->loc);
  if (d->value) print_expr(out, d->value, indent + 1);
  fputc(')', out);
}

/* (fn NAME @range
 *   (params (param NAME [TYPE] @range [default])...)   -- "(params" has no range of its own
 *   [(result-type TYPE @range)]
 *   decls...
 *   (return @range expr))   -- the range of the `return` statement, or of the one-line
 *                              form's expression */
static void print_fn(FILE *out, const AstFn *f, int indent) {
  open_node(out, indent, "fn ");
  fputs(f->name, out);
  print_loc(out, f->loc);
  open_node(out, indent + 1, "params");
  for (int i = 0; i < f->nparams; i++) {
    const AstFnParam *p = &f->params[i];
    open_node(out, indent + 2, "param ");
    fputs(p->name, out);
    if (p->has_type) print_type(out, &p->type);
    print_loc(out, p->loc);
    if (p->default_value) print_expr(out, p->default_value, indent + 3);
    fputc(')', out);
  }
  fputc(')', out);
  if (f->has_result_type) {
    open_node(out, indent + 1, "result-type");
    print_type(out, &f->result_type);
    print_loc(out, f->result_type.loc);
    fputc(')', out);
  }
  for (int i = 0; i < f->ndecls; i++) print_decl(out, &f->decls[i], indent + 1);
  if (f->result) {
    open_node(out, indent + 1, "return");
    print_loc(out, f->result_loc);
    print_expr(out, f->result, indent + 2);
    fputc(')', out);
  }
  fputc(')', out);
}

static void print_bound(FILE *out, double v) {
  if (v == 1.0 / 0.0) fputs("inf", out);
  else if (v == -1.0 / 0.0) fputs("-inf", out);
  else print_number(out, v, false);
}

/* (optimizer NAME @range
 *   (hypers (hyper NAME [bool | (lo, hi] ...] @range default)...)  -- no range of its own
 *   decls...) */
static void print_rule(FILE *out, const AstRule *r, int indent) {
  open_node(out, indent, "optimizer ");
  fputs(r->name, out);
  print_loc(out, r->loc);
  open_node(out, indent + 1, "hypers");
  for (int i = 0; i < r->nhypers; i++) {
    const AstHyper *h = &r->hypers[i];
    open_node(out, indent + 2, "hyper ");
    fputs(h->name, out);
    if (h->domain == HYPER_BOOL) {
      fputs(" bool", out);
    } else if (h->domain == HYPER_RANGE) {
      fputs(h->lo_open ? " (" : " [", out);
      print_bound(out, h->lo);
      fputs(", ", out);
      print_bound(out, h->hi);
      fputs(h->hi_open ? ")" : "]", out);
    }
    print_loc(out, h->loc);
    if (h->default_value) print_expr(out, h->default_value, indent + 3);
    fputc(')', out);
  }
  fputc(')', out);
  for (int i = 0; i < r->ndecls; i++) print_decl(out, &r->decls[i], indent + 1);
  fputc(')', out);
}

/* Imports, functions, optimizers, the model, the train block: each group in file order. */
void ast_print(const AstProgram *prog, FILE *out) {
  fputs("(program", out);
  for (int i = 0; i < prog->nimports; i++) {
    const AstImport *imp = &prog->imports[i];
    open_node(out, 1, "import ");
    if (imp->path) {
      print_string(out, imp->path);
      fprintf(out, " as %s", imp->module);
    } else {
      fputs(imp->module, out);
    }
    print_loc(out, imp->loc);
    fputc(')', out);
  }
  for (int i = 0; i < prog->nfns; i++) print_fn(out, &prog->fns[i], 1);
  for (int i = 0; i < prog->nrules; i++) print_rule(out, &prog->rules[i], 1);
  if (prog->model) {
    const AstModel *m = prog->model;
    open_node(out, 1, "model ");
    fputs(m->name, out);
    print_loc(out, m->loc);
    for (int i = 0; i < m->ndecls; i++) print_decl(out, &m->decls[i], 2);
    fputc(')', out);
  }
  if (prog->has_train) {
    open_node(out, 1, "train");
    print_loc(out, prog->train_loc);
    for (int i = 0; i < prog->ntrain; i++) {
      const AstTrainEntry *t = &prog->train[i];
      open_node(out, 2, "entry ");
      fputs(t->key, out);
      print_loc(out, t->loc);
      print_expr(out, t->value, 3);
      fputc(')', out);
    }
    fputc(')', out);
  }
  fputs(")\n", out);
}
