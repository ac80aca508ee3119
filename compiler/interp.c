/* interp.c: the reference interpreter of the graph IR, in double precision.
 *
 * It exists to check the compiler, not to run models: nnc --check-grad compares the
 * symbolic gradients (interpreted) with finite differences of the interpreted loss, and
 * the differential tests compare compiled code with it. So it is written to be obviously
 * right: one small kernel per op over dense row-major buffers, every value materialised,
 * no aliasing, no fusion. Each kernel follows codegen.c's lowering of the same op
 * exactly (broadcast strides, the batch as a leading axis, matmul views, label clamping,
 * first-maximum argmax, max-subtracted logsumexp, the select-based max/min/relu and their
 * NaN behaviour) so that a difference from compiled code is a bug in one of the two, and
 * only float rounding separates them.
 */
#include "nnc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct Ev {
  const Graph *g;
  int64_t batch;
  double **val;
  /* an update rule's leaves: w, g and the states (batch values each), hyperparameters */
  const double *const *slots;
  const double *hyper;
  double step, epoch;
} Ev;

/* Samples a node's value holds: the batch, or 1 for an unbatched node. */
static int64_t rows_of(const Ev *ev, Shape s) { return s.batched ? ev->batch : 1; }
static int64_t count_of(const Ev *ev, Shape s) { return rows_of(ev, s) * shape_size(s); }

static const Shape *shape_of(const Ev *ev, NodeId id) { return &graph_node(ev->g, id)->shape; }

/* ---- the index space of a shape, batch first ----------------------------------------- */

/* The extents of a shape's full index space (batch first); returns how many. */
static int full_dims(const Ev *ev, Shape s, int64_t *dims) {
  int r = 0;
  if (s.batched) dims[r++] = ev->batch;
  for (int i = 0; i < s.rank; i++) dims[r++] = s.dim[i];
  return r;
}


static int64_t dot_index(const int64_t *iv, const int64_t *st, int r) {
  int64_t k = 0;
  for (int d = 0; d < r; d++) k += iv[d] * st[d];
  return k;
}

/* Advances a multi-index over dims (last axis fastest); false after the last one. */
static bool next_index(int64_t *iv, const int64_t *dims, int r) {
  for (int d = r - 1; d >= 0; d--) {
    if (++iv[d] < dims[d]) return true;
    iv[d] = 0;
  }
  return false;
}

static bool space_empty(const int64_t *dims, int r) {
  for (int d = 0; d < r; d++)
    if (dims[d] == 0) return true;
  return false;
}

/* ---- elementwise ---------------------------------------------------------------------- */

static double scalar_op(const Ev *ev, const Node *n, const double *v) {
  double x = v[0], y = v[1];
  switch ((OpKind)n->op) {
  case OP_NEG: return -x;
  case OP_EXP: return exp(x);
  case OP_LOG: return log(x);
  case OP_TANH: return tanh(x);
  case OP_SIGMOID: return 1.0 / (1.0 + exp(-x));
  case OP_RELU: return x > 0 ? x : 0.0; /* codegen's select: NaN gives 0 */
  case OP_ABS: return fabs(x);
  case OP_SQRT: return sqrt(x);
  case OP_ADD: return x + y;
  case OP_SUB: return x - y;
  case OP_MUL: return x * y;
  case OP_DIV: return x / y;
  case OP_POW: {
    /* codegen strength-reduces these two exponents; pow(-0, 0.5) and sqrt(-0) differ */
    const Node *e = graph_node(ev->g, n->in[1]);
    if (e->op == OP_CONST && e->value == 2) return x * x;
    if (e->op == OP_CONST && e->value == 0.5f) return sqrt(x);
    return pow(x, y);
  }
  case OP_MAX: return x >= y ? x : y; /* a wins ties (and b wins against NaN), as in codegen */
  case OP_MIN: return x <= y ? x : y;
  case OP_GT: return x > y ? 1.0 : 0.0;
  case OP_GE: return x >= y ? 1.0 : 0.0;
  case OP_EQ: return x == y ? 1.0 : 0.0;
  case OP_NE: return x != y ? 1.0 : 0.0; /* unordered: NaN != NaN is 1 */
  case OP_WHERE: return x != 0 ? y : v[2]; /* a NaN condition picks y, as codegen's une */
  case OP_BROADCAST: return x;
  default: nnc_unreachable("not an elementwise op");
  }
}

/* out = op(inputs broadcast to the node's shape), walking the node's index space. */
static void k_elementwise(Ev *ev, NodeId id, double *out) {
  const Node *n = graph_node(ev->g, id);
  int arity = op_info[n->op].arity;
  int64_t dims[NN_MAX_RANK + 1], iv[NN_MAX_RANK + 1] = {0}, st[NODE_MAX_IN][NN_MAX_RANK + 1];
  int r = full_dims(ev, n->shape, dims);
  if (space_empty(dims, r)) return;
  for (int j = 0; j < arity; j++) shape_strides(*shape_of(ev, n->in[j]), n->shape, st[j]);
  int64_t k = 0; /* the output is dense in the same index order */
  do {
    double x[NODE_MAX_IN] = {0};
    for (int j = 0; j < arity; j++) x[j] = ev->val[n->in[j]][dot_index(iv, st[j], r)];
    out[k++] = scalar_op(ev, n, x);
  } while (next_index(iv, dims, r));
}

/* ---- structural ----------------------------------------------------------------------- */

/* sumto / maxto: walk the input's index space, accumulating into the output element the
 * strides of the (smaller) output shape select. maxto is codegen's select(acc >= x, acc,
 * x): the first of equal maxima stays, and a NaN is replaced by the next element. */
static void k_reduce(Ev *ev, NodeId id, double *out) {
  const Node *n = graph_node(ev->g, id);
  bool is_max = n->op == OP_MAXTO;
  int64_t total = count_of(ev, n->shape);
  for (int64_t i = 0; i < total; i++) out[i] = is_max ? -INFINITY : 0.0;
  Shape space = *shape_of(ev, n->in[0]);
  int64_t dims[NN_MAX_RANK + 1], iv[NN_MAX_RANK + 1] = {0}, so[NN_MAX_RANK + 1], si[NN_MAX_RANK + 1];
  int r = full_dims(ev, space, dims);
  if (space_empty(dims, r)) return;
  shape_strides(n->shape, space, so);
  shape_strides(space, space, si);
  const double *x = ev->val[n->in[0]];
  do {
    double v = x[dot_index(iv, si, r)];
    double *acc = &out[dot_index(iv, so, r)];
    *acc = is_max ? (*acc >= v ? *acc : v) : *acc + v;
  } while (next_index(iv, dims, r));
}

/* out[b, i, j] = in[b, j, i] for per-sample [p, q] matrices. */
static void k_transpose(Ev *ev, NodeId id, double *out) {
  const Node *n = graph_node(ev->g, id);
  int64_t q = n->shape.dim[0], p = n->shape.dim[1]; /* the output is [q, p], the input [p, q] */
  const double *x = ev->val[n->in[0]];
  for (int64_t b = 0; b < rows_of(ev, n->shape); b++)
    for (int64_t i = 0; i < q; i++)
      for (int64_t j = 0; j < p; j++) out[b * p * q + i * p + j] = x[b * p * q + j * q + i];
}

/* A matmul operand as a row-major matrix: cols = its last dim, rows = everything else,
 * the batch included. */
static void matrix_view(const Ev *ev, Shape s, int64_t *rows, int64_t *cols) {
  *rows = rows_of(ev, s);
  for (int i = 0; i + 1 < s.rank; i++) *rows *= s.dim[i];
  *cols = s.dim[s.rank - 1];
}

/* C[M, N] = op(A)[M, K] @ op(B)[K, N], op transposing when MM_TA / MM_TB is set. */
static void k_matmul(Ev *ev, NodeId id, double *out) {
  const Node *n = graph_node(ev->g, id);
  bool ta = n->attr & MM_TA, tb = n->attr & MM_TB;
  int64_t ra, ca, rb, cb;
  matrix_view(ev, *shape_of(ev, n->in[0]), &ra, &ca);
  matrix_view(ev, *shape_of(ev, n->in[1]), &rb, &cb);
  int64_t m = ta ? ca : ra, k = ta ? ra : ca, nn = tb ? rb : cb;
  const double *a = ev->val[n->in[0]], *b = ev->val[n->in[1]];
  for (int64_t i = 0; i < m * nn; i++) out[i] = 0;
  /* i-l-j order: B's rows are read contiguously, and every C[i, j] still sums over l in
   * increasing order; --check-grad evaluates big models thousands of times */
  for (int64_t i = 0; i < m; i++)
    for (int64_t l = 0; l < k; l++) {
      double x = ta ? a[l * ca + i] : a[i * ca + l];
      if (tb)
        for (int64_t j = 0; j < nn; j++) out[i * nn + j] += x * b[j * cb + l];
      else
        for (int64_t j = 0; j < nn; j++) out[i * nn + j] += x * b[l * cb + j];
    }
}

/* logsumexp and argmax along the last axis, row by row: the first strict maximum; for
 * logsumexp the sum of exp(x - max), with max replaced by 0 in a row of -inf so that
 * no -inf - -inf makes a NaN. */
static void k_last_axis(Ev *ev, NodeId id, double *out) {
  const Node *n = graph_node(ev->g, id);
  const Shape *zs = shape_of(ev, n->in[0]);
  int64_t k = zs->dim[zs->rank - 1];
  const double *z = ev->val[n->in[0]];
  for (int64_t r = 0; r < count_of(ev, n->shape); r++) {
    const double *row = z + r * k;
    double best = -INFINITY;
    int64_t at = 0;
    for (int64_t j = 0; j < k; j++)
      if (row[j] > best) best = row[j], at = j;
    if (n->op == OP_ARGMAX) {
      out[r] = (double)at;
      continue;
    }
    double m = best != -INFINITY ? best : 0.0;
    double sum = 0;
    for (int64_t j = 0; j < k; j++) sum += exp(row[j] - m);
    out[r] = m + log(sum);
  }
}

/* A label as an integer. Labels are whole numbers in range; anything else (which codegen's
 * fptosi would turn into poison) becomes -1 here rather than undefined behaviour. */
static int64_t label(double y) { return y >= -1e15 && y <= 1e15 ? (int64_t)y : -1; }

/* out[r, j] = (y[r] == j) */
static void k_onehot(Ev *ev, NodeId id, double *out) {
  const Node *n = graph_node(ev->g, id);
  int64_t k = n->attr;
  const double *y = ev->val[n->in[0]];
  for (int64_t r = 0; r < count_of(ev, *shape_of(ev, n->in[0])); r++)
    for (int64_t j = 0; j < k; j++) out[r * k + j] = label(y[r]) == j ? 1.0 : 0.0;
}

/* out[i] = z[i, clamp(y[i], 0, k - 1)], z and y broadcast over the batch as needed. */
static void k_gather(Ev *ev, NodeId id, double *out) {
  const Node *n = graph_node(ev->g, id);
  Shape zs = *shape_of(ev, n->in[0]), zrows = zs;
  int64_t k = zs.dim[zs.rank - 1];
  zrows.rank--;
  int64_t dims[NN_MAX_RANK + 1], iv[NN_MAX_RANK + 1] = {0}, sz[NN_MAX_RANK + 1], sy[NN_MAX_RANK + 1];
  int r = full_dims(ev, n->shape, dims);
  if (space_empty(dims, r)) return;
  shape_strides(zrows, n->shape, sz);
  shape_strides(*shape_of(ev, n->in[1]), n->shape, sy);
  const double *z = ev->val[n->in[0]], *y = ev->val[n->in[1]];
  int64_t o = 0;
  do {
    int64_t c = label(y[dot_index(iv, sy, r)]);
    c = c < 0 ? 0 : c >= k ? k - 1 : c;
    out[o++] = z[dot_index(iv, sz, r) * k + c];
  } while (next_index(iv, dims, r));
}

/* ---- evaluation ----------------------------------------------------------------------- */

static void eval_node(Ev *ev, NodeId id, const double *params, const double *const *inputs) {
  const Node *n = graph_node(ev->g, id);
  int64_t total = count_of(ev, n->shape);
  double *out = nn_xrealloc(NULL, (size_t)(total > 0 ? total : 1) * sizeof(double));
  ev->val[id] = out;
  switch ((OpKind)n->op) {
  case OP_INPUT:
    memcpy(out, inputs[n->attr], (size_t)total * sizeof(double));
    return;
  case OP_PARAM:
    memcpy(out, params + ev->g->params[n->attr].offset, (size_t)total * sizeof(double));
    return;
  case OP_CONST:
  case OP_BATCH:
    for (int64_t i = 0; i < total; i++) out[i] = n->op == OP_CONST ? (double)n->value : (double)ev->batch;
    return;
  case OP_SLOT:
    memcpy(out, ev->slots[n->attr], (size_t)total * sizeof(double));
    return;
  case OP_HYPER:
    out[0] = n->attr == HYPER_STEP ? ev->step : n->attr == HYPER_EPOCH ? ev->epoch : ev->hyper[n->attr];
    return;
  case OP_RESHAPE: /* the same elements in the same order */
    memcpy(out, ev->val[n->in[0]], (size_t)total * sizeof(double));
    return;
  case OP_SUMTO:
  case OP_MAXTO: k_reduce(ev, id, out); return;
  case OP_TRANSPOSE: k_transpose(ev, id, out); return;
  case OP_MATMUL: k_matmul(ev, id, out); return;
  case OP_LOGSUMEXP:
  case OP_ARGMAX: k_last_axis(ev, id, out); return;
  case OP_ONEHOT: k_onehot(ev, id, out); return;
  case OP_GATHER: k_gather(ev, id, out); return;
  case OP_NONE:
  case OP_COUNT_: nnc_unreachable("not an op");
  default:
    if (!op_info[n->op].elementwise && n->op != OP_BROADCAST) nnc_unreachable("no kernel for op");
    k_elementwise(ev, id, out);
    return;
  }
}

static double **evaluate(Ev *ev, const double *params, const double *const *inputs, const NodeId *roots, int nroots);

double **interp_eval(const Graph *g, const double *params, const double *const *inputs, int64_t batch,
                     const NodeId *roots, int nroots) {
  Ev ev = {g, batch, NULL, NULL, NULL, 0, 0};
  return evaluate(&ev, params, inputs, roots, nroots);
}

double **interp_rule(const Graph *g, const double *const *slots, const double *hyper, double step, double epoch,
                     int64_t n, const NodeId *roots, int nroots) {
  Ev ev = {g, n, NULL, slots, hyper, step, epoch};
  return evaluate(&ev, NULL, NULL, roots, nroots);
}

static double **evaluate(Ev *evp, const double *params, const double *const *inputs, const NodeId *roots, int nroots) {
  const Graph *g = evp->g;
  Ev ev = *evp;
  ev.val = calloc(g->count, sizeof(double *));
  bool *need = calloc(g->count, sizeof(bool));
  if (!ev.val || !need) nnc_unreachable("out of memory");
  for (int i = 0; i < nroots; i++) need[roots[i]] = true;
  for (NodeId id = g->count - 1; id >= 1; id--) /* ids are topological */
    if (need[id])
      for (int k = 0; k < op_info[g->nodes[id].op].arity; k++) need[g->nodes[id].in[k]] = true;
  for (NodeId id = 1; id < g->count; id++)
    if (need[id]) eval_node(&ev, id, params, inputs);
  free(need);
  return ev.val;
}

void interp_free(const Graph *g, double **values) {
  if (!values) return;
  for (NodeId id = 0; id < g->count; id++) free(values[id]);
  free(values);
}
