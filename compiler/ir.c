/* ir.c: the graph IR: shapes, the op table, and node construction.
 *
 * Nodes are appended to one array and never change; a node's inputs always have smaller
 * ids. Every constructor first simplifies (constant folding and the identities that keep
 * the backward graph small: x*1, x+0, x*0, --x, reshape of reshape, ...), then looks the
 * node up in a hash table keyed on (op, shape, inputs, attributes): building the same
 * expression twice yields the same id, which is common-subexpression elimination.
 */
#include "nnc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const OpInfo op_info[OP_COUNT_] = {
    [OP_NONE] = {"none", 0, false},
    [OP_INPUT] = {"input", 0, false},
    [OP_PARAM] = {"param", 0, false},
    [OP_CONST] = {"const", 0, false},
    [OP_BATCH] = {"batch", 0, false},
    [OP_NEG] = {"neg", 1, true},
    [OP_EXP] = {"exp", 1, true},
    [OP_LOG] = {"log", 1, true},
    [OP_TANH] = {"tanh", 1, true},
    [OP_SIGMOID] = {"sigmoid", 1, true},
    [OP_RELU] = {"relu", 1, true},
    [OP_ABS] = {"abs", 1, true},
    [OP_SQRT] = {"sqrt", 1, true},
    [OP_ADD] = {"add", 2, true},
    [OP_SUB] = {"sub", 2, true},
    [OP_MUL] = {"mul", 2, true},
    [OP_DIV] = {"div", 2, true},
    [OP_POW] = {"pow", 2, true},
    [OP_MAX] = {"max", 2, true},
    [OP_MIN] = {"min", 2, true},
    [OP_GT] = {"gt", 2, true},
    [OP_GE] = {"ge", 2, true},
    [OP_EQ] = {"eq", 2, true},
    [OP_NE] = {"ne", 2, true},
    [OP_SUMTO] = {"sumto", 1, false},
    [OP_MAXTO] = {"maxto", 1, false},
    [OP_TRANSPOSE] = {"transpose", 1, false},
    [OP_LOGSUMEXP] = {"logsumexp", 1, false},
    [OP_ARGMAX] = {"argmax", 1, false},
    [OP_ONEHOT] = {"onehot", 1, false},
    [OP_GATHER] = {"gather", 2, false},
    [OP_BROADCAST] = {"broadcast", 1, false},
    [OP_RESHAPE] = {"reshape", 1, false},
    [OP_MATMUL] = {"matmul", 2, false},
    [OP_WHERE] = {"where", 3, true},
    [OP_SLOT] = {"slot", 0, false},
    [OP_HYPER] = {"hyper", 0, false},
};

/* ---- shapes --------------------------------------------------------------------------- */

int64_t shape_size(Shape s) {
  int64_t n = 1;
  for (int i = 0; i < s.rank; i++) n *= s.dim[i];
  return n;
}

bool shape_eq(Shape a, Shape b) {
  if (a.rank != b.rank || a.batched != b.batched) return false;
  for (int i = 0; i < a.rank; i++)
    if (a.dim[i] != b.dim[i]) return false;
  return true;
}

Shape shape_scalar(bool batched) {
  Shape s = {0};
  s.batched = batched;
  return s;
}

Shape shape_make(bool batched, int rank, const int32_t *dims) {
  Shape s = {0};
  s.batched = batched;
  s.rank = (uint8_t)rank;
  for (int i = 0; i < rank; i++) s.dim[i] = dims[i];
  return s;
}

const char *shape_str(Shape s) {
  static char buf[8][96];
  static int next;
  char *p = buf[next++ % 8];
  int n = snprintf(p, 96, "f32");
  if (s.rank == 0 && !s.batched) return p;
  n += snprintf(p + n, 96 - n, "[");
  if (s.batched) n += snprintf(p + n, 96 - n, s.rank ? "B, " : "B");
  for (int i = 0; i < s.rank; i++)
    n += snprintf(p + n, 96 - n, i + 1 < s.rank ? "%d, " : "%d", (int)s.dim[i]);
  snprintf(p + n, 96 - n, "]");
  return p;
}

bool shape_broadcast(Shape a, Shape b, Shape *out) {
  Shape r = {0};
  r.rank = a.rank > b.rank ? a.rank : b.rank;
  r.batched = a.batched || b.batched;
  for (int i = 0; i < r.rank; i++) {
    int ia = i - (r.rank - a.rank), ib = i - (r.rank - b.rank);
    int32_t da = ia >= 0 ? a.dim[ia] : 1, db = ib >= 0 ? b.dim[ib] : 1;
    if (da != db && da != 1 && db != 1) return false;
    r.dim[i] = da == 1 ? db : da;
  }
  *out = r;
  return true;
}

void shape_strides(Shape small, Shape big, int64_t *st) {
  int r = 0;
  int64_t inner = shape_size(small);
  if (big.batched) st[r++] = small.batched ? inner : 0;
  for (int i = 0; i < big.rank; i++) {
    int j = i - (big.rank - small.rank);
    int64_t stride = 1;
    if (j >= 0)
      for (int k = j + 1; k < small.rank; k++) stride *= small.dim[k];
    st[r++] = (j < 0 || (small.dim[j] == 1 && big.dim[i] != 1)) ? 0 : stride;
  }
}

bool shape_broadcastable_to(Shape small, Shape big) {
  Shape r;
  if (small.batched && !big.batched) return false;
  return shape_broadcast(small, big, &r) && shape_eq(r, big);
}

/* ---- graph ---------------------------------------------------------------------------- */

Graph *graph_new(Arena *arena) {
  Graph *g = calloc(1, sizeof *g);
  if (!g) nnc_unreachable("out of memory");
  g->arena = arena;
  g->cap = 64;
  g->nodes = nn_xrealloc(NULL, g->cap * sizeof(Node));
  memset(&g->nodes[0], 0, sizeof(Node));
  g->count = 1;
  g->table_cap = 128;
  g->table = calloc(g->table_cap, sizeof(uint32_t));
  return g;
}

void graph_free(Graph *g) {
  if (!g) return;
  for (int i = 0; i < g->nrules; i++)
    for (int v = 0; v < g->rules[i].nvariants; v++) {
      graph_free(g->rules[i].variant[v].g);
      free(g->rules[i].variant[v].state);
    }
  free(g->rules);
  free(g->nodes);
  free(g->table);
  free(g->inputs);
  free(g->params);
  free(g->outputs);
  free(g->metrics);
  free(g->options);
  free(g);
}

static uint64_t node_hash(const Node *n) {
  uint64_t h = 1469598103934665603ull;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ull)
  MIX(n->op);
  MIX(n->shape.rank);
  MIX(n->shape.batched);
  for (int i = 0; i < n->shape.rank; i++) MIX(n->shape.dim[i]);
  for (int k = 0; k < NODE_MAX_IN; k++) MIX(n->in[k]);
  MIX(n->attr);
  uint32_t bits;
  memcpy(&bits, &n->value, sizeof bits);
  MIX(bits);
#undef MIX
  return h;
}

static bool node_same(const Node *a, const Node *b) {
  return a->op == b->op && shape_eq(a->shape, b->shape) && a->in[0] == b->in[0] &&
         a->in[1] == b->in[1] && a->in[2] == b->in[2] && a->attr == b->attr &&
         memcmp(&a->value, &b->value, sizeof a->value) == 0;
}

static void table_grow(Graph *g) {
  uint32_t cap = g->table_cap * 2;
  uint32_t *t = calloc(cap, sizeof *t);
  if (!t) nnc_unreachable("out of memory");
  for (uint32_t id = 1; id < g->count; id++) {
    uint64_t h = node_hash(&g->nodes[id]);
    uint32_t i = (uint32_t)h & (cap - 1);
    while (t[i]) i = (i + 1) & (cap - 1);
    t[i] = id;
  }
  free(g->table);
  g->table = t;
  g->table_cap = cap;
}

/* Returns the id of an equal node, appending `n` when there is none. */
NodeId ir_intern(Graph *g, Node n) {
  if ((g->count + 1) * 2 > g->table_cap) table_grow(g);
  uint64_t h = node_hash(&n);
  uint32_t i = (uint32_t)h & (g->table_cap - 1);
  while (g->table[i]) {
    if (node_same(&g->nodes[g->table[i]], &n)) return g->table[i];
    i = (i + 1) & (g->table_cap - 1);
  }
  if (g->count == g->cap) {
    g->cap *= 2;
    g->nodes = nn_xrealloc(g->nodes, g->cap * sizeof(Node));
  }
  NodeId id = g->count++;
  g->nodes[id] = n;
  g->table[i] = id;
  return id;
}

void ir_set_name(Graph *g, NodeId id, const char *name, SrcLoc loc) {
  Node *n = &g->nodes[id];
  if (n->name || n->op == OP_CONST || n->op == OP_INPUT || n->op == OP_PARAM) return;
  n->name = name;
  if (!n->loc.file) n->loc = loc;
}

bool ir_is_const(const Graph *g, NodeId id, float value) {
  const Node *n = &g->nodes[id];
  return n->op == OP_CONST && n->value == value;
}

static Node make(OpKind op, Shape s, NodeId a, NodeId b) {
  Node n = {0};
  n.op = (uint8_t)op;
  n.shape = s;
  n.in[0] = a;
  n.in[1] = b;
  return n;
}

NodeId ir_input(Graph *g, int index, Shape s) {
  Node n = make(OP_INPUT, s, 0, 0);
  n.attr = (uint32_t)index;
  return ir_intern(g, n);
}

NodeId ir_param(Graph *g, int index, Shape s) {
  Node n = make(OP_PARAM, s, 0, 0);
  n.attr = (uint32_t)index;
  return ir_intern(g, n);
}

NodeId ir_const(Graph *g, float value, Shape s) {
  Node n = make(OP_CONST, s, 0, 0);
  n.value = value == 0 ? 0.0f : value; /* -0 and 0 are one constant */
  return ir_intern(g, n);
}

NodeId ir_batch(Graph *g) { return ir_intern(g, make(OP_BATCH, shape_scalar(false), 0, 0)); }

static float fold_unary(OpKind op, float x) {
  switch (op) {
  case OP_NEG: return -x;
  case OP_EXP: return expf(x);
  case OP_LOG: return logf(x);
  case OP_TANH: return tanhf(x);
  case OP_SIGMOID: return 1.0f / (1.0f + expf(-x));
  case OP_RELU: return x > 0 ? x : 0;
  case OP_ABS: return fabsf(x);
  case OP_SQRT: return sqrtf(x);
  default: nnc_unreachable("not a unary op");
  }
}

static float fold_binary(OpKind op, float x, float y) {
  switch (op) {
  case OP_ADD: return x + y;
  case OP_SUB: return x - y;
  case OP_MUL: return x * y;
  case OP_DIV: return x / y;
  case OP_POW: return powf(x, y);
  case OP_MAX: return x >= y ? x : y;
  case OP_MIN: return x <= y ? x : y;
  case OP_GT: return x > y ? 1.0f : 0.0f;
  case OP_GE: return x >= y ? 1.0f : 0.0f;
  case OP_EQ: return x == y ? 1.0f : 0.0f;
  case OP_NE: return x != y ? 1.0f : 0.0f;
  default: nnc_unreachable("not a binary op");
  }
}

NodeId ir_unary(Graph *g, OpKind op, NodeId a) {
  const Node *na = &g->nodes[a];
  if (na->op == OP_CONST) return ir_const(g, fold_unary(op, na->value), na->shape);
  if (op == OP_NEG && na->op == OP_NEG) return na->in[0];
  /* f(broadcast(x)) = broadcast(f(x)): compute once, before the copies. The inner call
   * may grow the node array, so nothing may be read through `na` after it. */
  if (na->op == OP_BROADCAST) {
    Shape s = na->shape;
    return ir_broadcast(g, ir_unary(g, op, na->in[0]), s);
  }
  return ir_intern(g, make(op, na->shape, a, 0));
}

/* a = f*x and b = f*y (in either operand order): returns f, x, y. */
static bool common_factor(const Graph *g, NodeId a, NodeId b, NodeId *f, NodeId *x, NodeId *y) {
  const Node *na = &g->nodes[a], *nb = &g->nodes[b];
  if (na->op != OP_MUL || nb->op != OP_MUL) return false;
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++)
      if (na->in[i] == nb->in[j]) {
        *f = na->in[i];
        *x = na->in[1 - i];
        *y = nb->in[1 - j];
        Shape t, u;
        /* only when x - y keeps the shape the two products had */
        return shape_broadcast(g->nodes[*x].shape, g->nodes[*y].shape, &t) &&
               shape_broadcast(g->nodes[*f].shape, t, &u) && shape_eq(u, na->shape) &&
               shape_eq(u, nb->shape);
      }
  return false;
}

NodeId ir_binary(Graph *g, OpKind op, NodeId a, NodeId b) {
  Shape s;
  if (!shape_broadcast(g->nodes[a].shape, g->nodes[b].shape, &s))
    nnc_unreachable("binary op on incompatible shapes");
  const Node *na = &g->nodes[a], *nb = &g->nodes[b];
  /* an explicit broadcast feeding an elementwise op is implied by the op itself */
  Shape t;
  if (na->op == OP_BROADCAST && shape_broadcast(g->nodes[na->in[0]].shape, nb->shape, &t) && shape_eq(t, s))
    return ir_binary(g, op, na->in[0], b);
  if (nb->op == OP_BROADCAST && shape_broadcast(na->shape, g->nodes[nb->in[0]].shape, &t) && shape_eq(t, s))
    return ir_binary(g, op, a, nb->in[0]);
  bool ca = na->op == OP_CONST, cb = nb->op == OP_CONST;
  if (ca && cb) return ir_const(g, fold_binary(op, na->value, nb->value), s);
  /* The identities below may return an operand, which must then already have the
   * result's shape; otherwise it is broadcast (which folds for constants). */
  switch (op) {
  case OP_ADD: /* (x + 0 is not x for x = -0: a graph that keeps signed zeros keeps it) */
    if (ca && na->value == 0 && !g->signed_zeros) return ir_broadcast(g, b, s);
    if (cb && nb->value == 0 && !g->signed_zeros) return ir_broadcast(g, a, s);
    if (nb->op == OP_NEG) return ir_binary(g, OP_SUB, a, nb->in[0]);
    if (na->op == OP_NEG) return ir_binary(g, OP_SUB, b, na->in[0]);
    if (a == b) return ir_binary(g, OP_MUL, ir_const(g, 2, shape_scalar(false)), a);
    break;
  case OP_SUB:
    if (a == b) return ir_const(g, 0, s);
    if (cb && nb->value == 0) return ir_broadcast(g, a, s);
    if (ca && na->value == 0 && !g->signed_zeros) return ir_broadcast(g, ir_unary(g, OP_NEG, b), s);
    if (nb->op == OP_NEG) return ir_binary(g, OP_ADD, a, nb->in[0]);
    break;
  case OP_MUL:
    if ((ca && na->value == 0) || (cb && nb->value == 0)) return ir_const(g, 0, s);
    if (ca && na->value == 1) return ir_broadcast(g, b, s);
    if (cb && nb->value == 1) return ir_broadcast(g, a, s);
    if (ca && na->value == -1) return ir_broadcast(g, ir_unary(g, OP_NEG, b), s);
    if (cb && nb->value == -1) return ir_broadcast(g, ir_unary(g, OP_NEG, a), s);
    if (na->op == OP_NEG && nb->op == OP_NEG) return ir_binary(g, OP_MUL, na->in[0], nb->in[0]);
    if (na->op == OP_NEG) return ir_unary(g, OP_NEG, ir_binary(g, OP_MUL, na->in[0], b));
    if (nb->op == OP_NEG) return ir_unary(g, OP_NEG, ir_binary(g, OP_MUL, a, nb->in[0]));
    /* constants first, so that c*x and x*c are one node */
    if (cb) return ir_binary(g, OP_MUL, b, a);
    break;
  case OP_DIV:
    if (cb && nb->value == 1) return ir_broadcast(g, a, s);
    if (ca && na->value == 0) return ir_const(g, 0, s);
    if (na->op == OP_NEG) return ir_unary(g, OP_NEG, ir_binary(g, OP_DIV, na->in[0], b));
    break;
  case OP_POW:
    if (cb && nb->value == 1) return ir_broadcast(g, a, s);
    if (cb && nb->value == 0) return ir_const(g, 1, s);
    break;
  default:
    break;
  }
  if (op == OP_ADD || op == OP_SUB) {
    /* c*x - c*y = c*(x - y): it turns the two halves of a gradient such as
     * softmax(z)/B - onehot(y)/B into the textbook softmax(z) - onehot(y), scaled once */
    NodeId f, x, y;
    if (common_factor(g, a, b, &f, &x, &y)) return ir_binary(g, OP_MUL, f, ir_binary(g, op, x, y));
  }
  if ((op == OP_ADD || op == OP_MUL || op == OP_MAX || op == OP_MIN || op == OP_EQ || op == OP_NE) &&
      a > b && !ca && !cb) { /* commutative: one canonical order, so CSE sees a*b = b*a */
    NodeId t = a; a = b; b = t;
  }
  return ir_intern(g, make(op, s, a, b));
}

NodeId ir_sumto(Graph *g, NodeId a, Shape s) {
  const Node *na = &g->nodes[a];
  if (shape_eq(na->shape, s)) return a;
  if (!shape_broadcastable_to(s, na->shape)) nnc_unreachable("sumto to an incompatible shape");
  if (na->op == OP_CONST && !(na->shape.batched && !s.batched))
    return ir_const(g, na->value * (float)(shape_size(na->shape) / shape_size(s)), s);
  if (na->op == OP_BROADCAST && shape_eq(g->nodes[na->in[0]].shape, s)) {
    /* sum of n copies */
    float copies = (float)(shape_size(na->shape) / shape_size(s));
    NodeId x = na->in[0];
    if (na->shape.batched && !s.batched) {
      NodeId k = ir_binary(g, OP_MUL, ir_const(g, copies, shape_scalar(false)), ir_batch(g));
      return ir_binary(g, OP_MUL, k, x);
    }
    return ir_binary(g, OP_MUL, ir_const(g, copies, shape_scalar(false)), x);
  }
  return ir_intern(g, make(OP_SUMTO, s, a, 0));
}

NodeId ir_broadcast(Graph *g, NodeId a, Shape s) {
  const Node *na = &g->nodes[a];
  if (shape_eq(na->shape, s)) return a;
  if (!shape_broadcastable_to(na->shape, s)) nnc_unreachable("broadcast to an incompatible shape");
  if (na->op == OP_CONST) return ir_const(g, na->value, s);
  if (na->op == OP_BROADCAST) a = na->in[0];
  return ir_intern(g, make(OP_BROADCAST, s, a, 0));
}

NodeId ir_reshape(Graph *g, NodeId a, Shape s) {
  const Node *na = &g->nodes[a];
  if (shape_size(na->shape) != shape_size(s) || na->shape.batched != s.batched)
    nnc_unreachable("reshape changes the element count");
  if (shape_eq(na->shape, s)) return a;
  if (na->op == OP_CONST) return ir_const(g, na->value, s);
  if (na->op == OP_BROADCAST && shape_size(g->nodes[na->in[0]].shape) == 1 && !g->nodes[na->in[0]].shape.batched)
    return ir_broadcast(g, na->in[0], s); /* a reshaped copy of one value is a copy */
  if (na->op == OP_RESHAPE) {
    a = na->in[0];
    if (shape_eq(g->nodes[a].shape, s)) return a;
  }
  return ir_intern(g, make(OP_RESHAPE, s, a, 0));
}

/* A matrix view's row count: its static factor, and whether the batch multiplies it. */
typedef struct { int64_t n; bool batched; } Rows;

static Rows view_rows(Shape s) {
  Rows r = {1, s.batched};
  for (int i = 0; i + 1 < s.rank; i++) r.n *= s.dim[i];
  return r;
}

bool ir_matmul_shape(Shape a, Shape b, uint32_t flags, Shape *out) {
  bool ta = flags & MM_TA, tb = flags & MM_TB;
  if (a.rank + a.batched < 2 || b.rank + b.batched < 2 || a.rank < 1 || b.rank < 1) return false;
  Rows ra = view_rows(a), rb = view_rows(b);
  int64_t ca = a.dim[a.rank - 1], cb = b.dim[b.rank - 1];
  /* inner dimension: op(A) is [M, K], op(B) is [K, N] */
  Rows ka = ta ? ra : (Rows){ca, false};
  Rows kb = tb ? (Rows){cb, false} : rb;
  if (ka.n != kb.n || ka.batched != kb.batched) return false;
  Rows n = tb ? rb : (Rows){cb, false};
  if (n.batched) return false; /* the batch never ends up in a column */
  Shape r = {0};
  if (!ta) {
    r = a;
    r.dim[r.rank - 1] = (int32_t)n.n;
  } else {
    if (ca > INT32_MAX) return false;
    r.rank = 2;
    r.dim[0] = (int32_t)ca;
    r.dim[1] = (int32_t)n.n;
  }
  *out = r;
  return true;
}

NodeId ir_matmul(Graph *g, NodeId a, NodeId b, uint32_t flags) {
  Shape s;
  if (!ir_matmul_shape(g->nodes[a].shape, g->nodes[b].shape, flags, &s))
    nnc_unreachable("matmul on incompatible shapes");
  if (ir_is_const(g, a, 0) || ir_is_const(g, b, 0)) return ir_const(g, 0, s);
  Node n = make(OP_MATMUL, s, a, b);
  n.attr = flags;
  return ir_intern(g, n);
}

void ir_set_loc(Graph *g, NodeId id, SrcLoc loc) {
  Node *n = &g->nodes[id];
  if (!n->loc.file) n->loc = loc;
}

NodeId ir_maxto(Graph *g, NodeId a, Shape s) {
  const Node *na = &g->nodes[a];
  if (shape_eq(na->shape, s)) return a;
  if (!shape_broadcastable_to(s, na->shape)) nnc_unreachable("maxto to an incompatible shape");
  if (na->op == OP_CONST) return ir_const(g, na->value, s);
  return ir_intern(g, make(OP_MAXTO, s, a, 0));
}

NodeId ir_transpose(Graph *g, NodeId a) {
  const Node *na = &g->nodes[a];
  if (na->shape.rank != 2) nnc_unreachable("transpose of a non-matrix");
  Shape s = na->shape;
  s.dim[0] = na->shape.dim[1];
  s.dim[1] = na->shape.dim[0];
  if (na->op == OP_CONST) return ir_const(g, na->value, s);
  if (na->op == OP_TRANSPOSE) return na->in[0];
  return ir_intern(g, make(OP_TRANSPOSE, s, a, 0));
}

static Shape drop_last(Shape s) {
  if (s.rank < 1) nnc_unreachable("last-axis op on a scalar");
  s.rank--;
  s.dim[s.rank] = 0;
  return s;
}

NodeId ir_logsumexp(Graph *g, NodeId z) {
  return ir_intern(g, make(OP_LOGSUMEXP, drop_last(g->nodes[z].shape), z, 0));
}

NodeId ir_argmax(Graph *g, NodeId z) {
  return ir_intern(g, make(OP_ARGMAX, drop_last(g->nodes[z].shape), z, 0));
}

NodeId ir_onehot(Graph *g, NodeId y, int32_t k) {
  Shape s = g->nodes[y].shape;
  if (s.rank >= NN_MAX_RANK) nnc_unreachable("onehot of a rank-4 tensor");
  s.dim[s.rank++] = k;
  Node n = make(OP_ONEHOT, s, y, 0);
  n.attr = (uint32_t)k;
  return ir_intern(g, n);
}

NodeId ir_gather(Graph *g, NodeId z, NodeId y) {
  Shape sz = drop_last(g->nodes[z].shape), sy = g->nodes[y].shape;
  sz.batched = sy.batched = false;
  if (!shape_eq(sz, sy)) nnc_unreachable("gather with a label of another shape");
  Shape s = sy;
  s.batched = g->nodes[z].shape.batched || g->nodes[y].shape.batched;
  if (ir_is_const(g, z, 0)) return ir_const(g, 0, s);
  return ir_intern(g, make(OP_GATHER, s, z, y));
}

NodeId ir_where(Graph *g, NodeId c, NodeId a, NodeId b) {
  Shape ab, s;
  if (!shape_broadcast(g->nodes[a].shape, g->nodes[b].shape, &ab) || !shape_broadcast(g->nodes[c].shape, ab, &s))
    nnc_unreachable("where on incompatible shapes");
  const Node *nc = &g->nodes[c];
  if (nc->op == OP_CONST) return ir_broadcast(g, nc->value != 0 || nc->value != nc->value ? a : b, s);
  if (a == b) return ir_broadcast(g, a, s);
  Node n = make(OP_WHERE, s, c, a);
  n.in[2] = b;
  return ir_intern(g, n);
}

NodeId ir_slot(Graph *g, uint32_t which) {
  Node n = make(OP_SLOT, shape_scalar(true), 0, 0);
  n.attr = which;
  return ir_intern(g, n);
}

NodeId ir_hyper(Graph *g, uint32_t which) {
  Node n = make(OP_HYPER, shape_scalar(false), 0, 0);
  n.attr = which;
  return ir_intern(g, n);
}

NodeId ir_rebuild(Graph *g, const Node *n, const NodeId *in) {
  OpKind op = (OpKind)n->op;
  switch (op) {
  case OP_NONE:
  case OP_COUNT_: nnc_unreachable("not an op");
  case OP_INPUT:
  case OP_PARAM:
  case OP_CONST:
  case OP_BATCH:
  case OP_SLOT:
  case OP_HYPER: {
    Node copy = *n;
    return ir_intern(g, copy);
  }
  case OP_NEG: case OP_EXP: case OP_LOG: case OP_TANH: case OP_SIGMOID: case OP_RELU: case OP_ABS:
  case OP_SQRT:
    return ir_unary(g, op, in[0]);
  case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_POW: case OP_MAX: case OP_MIN:
  case OP_GT: case OP_GE: case OP_EQ: case OP_NE:
    return ir_binary(g, op, in[0], in[1]);
  case OP_WHERE: return ir_where(g, in[0], in[1], in[2]);
  case OP_SUMTO: return ir_sumto(g, in[0], n->shape);
  case OP_MAXTO: return ir_maxto(g, in[0], n->shape);
  case OP_BROADCAST: return ir_broadcast(g, in[0], n->shape);
  case OP_RESHAPE: return ir_reshape(g, in[0], n->shape);
  case OP_TRANSPOSE: return ir_transpose(g, in[0]);
  case OP_MATMUL: return ir_matmul(g, in[0], in[1], n->attr);
  case OP_LOGSUMEXP: return ir_logsumexp(g, in[0]);
  case OP_ARGMAX: return ir_argmax(g, in[0]);
  case OP_ONEHOT: return ir_onehot(g, in[0], (int32_t)n->attr);
  case OP_GATHER: return ir_gather(g, in[0], in[1]);
  }
  nnc_unreachable("not an op");
}
