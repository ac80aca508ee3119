/* autodiff.c: reverse-mode symbolic differentiation as a graph transform.
 *
 * Ids are a topological order, so one sweep from the loss down to id 1 visits every node
 * after all of its consumers: by then its adjoint (d loss / d node) is complete, and the
 * node's gradient rule adds its share to each input's adjoint. Rules are written with the
 * same IR constructors as the forward graph, so the backward graph is ordinary IR that
 * the simplifier, CSE and DCE treat like any other.
 *
 * Broadcasting is where batching meets calculus: when an input was broadcast to a bigger
 * shape (a parameter over the batch, a bias over rows), its gradient is the sum of the
 * output's gradient over the broadcast axes, ir_sumto down to the input's shape.
 */
#include "nnc.h"

#include <stdlib.h>

typedef struct Ad {
  Graph *g;
  NodeId *adj;   /* adjoint per forward node, 0 = none yet */
  bool *needed;  /* does the node depend on a parameter? */
} Ad;

static void accumulate(Ad *ad, NodeId x, NodeId grad) {
  if (!grad || !ad->needed[x]) return;
  Graph *g = ad->g;
  grad = ir_sumto(g, grad, g->nodes[x].shape);
  ad->adj[x] = ad->adj[x] ? ir_binary(g, OP_ADD, ad->adj[x], grad) : grad;
}

static NodeId one(Graph *g) { return ir_const(g, 1, shape_scalar(false)); }
static NodeId zero(Graph *g) { return ir_const(g, 0, shape_scalar(false)); }

/* A last-axis reduction's shape with the axis kept as 1, for broadcasting back. */
static Shape keep_last(Shape s) {
  s.dim[s.rank++] = 1;
  return s;
}

/* softmax(z) = exp(z - logsumexp(z)): built the way sema builds it, so the forward
 * softmax and the one in the gradient are one node. */
static NodeId softmax_of(Graph *g, NodeId z, NodeId lse) {
  return ir_unary(g, OP_EXP, ir_binary(g, OP_SUB, z, ir_reshape(g, lse, keep_last(g->nodes[lse].shape))));
}

/* Adds node y's contribution to its inputs' adjoints, given dy = d loss / d y. */
static void backprop(Ad *ad, NodeId y, NodeId dy) {
  Graph *g = ad->g;
  const Node n = g->nodes[y]; /* a copy: constructors below may move the array */
  NodeId a = n.in[0], b = n.in[1];
  switch ((OpKind)n.op) {
  case OP_NONE:
  case OP_INPUT:
  case OP_PARAM:
  case OP_CONST:
  case OP_BATCH:
  case OP_GT: /* step functions and indices: zero gradient almost everywhere */
  case OP_GE:
  case OP_EQ:
  case OP_NE:
  case OP_ARGMAX:
  case OP_ONEHOT:
  case OP_SLOT: /* (update rules are never differentiated) */
  case OP_HYPER:
  case OP_COUNT_:
    return;
  case OP_WHERE: { /* the gradient goes to the operand chosen; the condition has none */
    NodeId c = n.in[0], x = n.in[1], z = n.in[2];
    if (ad->needed[x]) accumulate(ad, x, ir_where(g, c, dy, zero(g)));
    if (ad->needed[z]) accumulate(ad, z, ir_where(g, c, zero(g), dy));
    return;
  }
  case OP_NEG:
    accumulate(ad, a, ir_unary(g, OP_NEG, dy));
    return;
  case OP_EXP: /* y = exp(a): da = dy * y */
    accumulate(ad, a, ir_binary(g, OP_MUL, dy, y));
    return;
  case OP_LOG: /* y = log(a): da = dy / a */
    accumulate(ad, a, ir_binary(g, OP_DIV, dy, a));
    return;
  case OP_TANH: /* da = dy * (1 - y^2) */
    accumulate(ad, a, ir_binary(g, OP_MUL, dy,
                                ir_binary(g, OP_SUB, one(g), ir_binary(g, OP_MUL, y, y))));
    return;
  case OP_SIGMOID: /* da = dy * y * (1 - y) */
    accumulate(ad, a, ir_binary(g, OP_MUL, dy,
                                ir_binary(g, OP_MUL, y, ir_binary(g, OP_SUB, one(g), y))));
    return;
  case OP_RELU: /* da = dy * (a > 0) */
    accumulate(ad, a, ir_binary(g, OP_MUL, dy,
                                ir_binary(g, OP_GT, a, ir_const(g, 0, shape_scalar(false)))));
    return;
  case OP_ABS: /* da = dy * sign(a) */
    accumulate(ad, a, ir_binary(g, OP_MUL, dy, ir_binary(g, OP_SUB, ir_binary(g, OP_GT, a, zero(g)),
                                                        ir_binary(g, OP_GT, zero(g), a))));
    return;
  case OP_SQRT: /* da = dy / (2 y) */
    accumulate(ad, a, ir_binary(g, OP_DIV, dy, ir_binary(g, OP_MUL, ir_const(g, 2, shape_scalar(false)), y)));
    return;
  case OP_MAX: /* the gradient goes to the larger operand; a wins ties */
    if (ad->needed[a]) accumulate(ad, a, ir_binary(g, OP_MUL, dy, ir_binary(g, OP_GE, a, b)));
    if (ad->needed[b]) accumulate(ad, b, ir_binary(g, OP_MUL, dy, ir_binary(g, OP_GT, b, a)));
    return;
  case OP_MIN:
    if (ad->needed[a]) accumulate(ad, a, ir_binary(g, OP_MUL, dy, ir_binary(g, OP_GE, b, a)));
    if (ad->needed[b]) accumulate(ad, b, ir_binary(g, OP_MUL, dy, ir_binary(g, OP_GT, a, b)));
    return;
  case OP_ADD:
    accumulate(ad, a, dy);
    accumulate(ad, b, dy);
    return;
  case OP_SUB:
    accumulate(ad, a, dy);
    if (ad->needed[b]) accumulate(ad, b, ir_unary(g, OP_NEG, dy));
    return;
  case OP_MUL:
    if (ad->needed[a]) accumulate(ad, a, ir_binary(g, OP_MUL, dy, b));
    if (ad->needed[b]) accumulate(ad, b, ir_binary(g, OP_MUL, dy, a));
    return;
  case OP_DIV: /* y = a / b: da = dy / b, db = -dy * y / b */
    if (ad->needed[a]) accumulate(ad, a, ir_binary(g, OP_DIV, dy, b));
    if (ad->needed[b])
      accumulate(ad, b, ir_unary(g, OP_NEG, ir_binary(g, OP_DIV, ir_binary(g, OP_MUL, dy, y), b)));
    return;
  case OP_POW: /* y = a^b: da = dy * b * a^(b-1), db = dy * y * log(a) */
    if (ad->needed[a]) {
      NodeId bm1 = ir_binary(g, OP_SUB, b, one(g));
      accumulate(ad, a, ir_binary(g, OP_MUL, dy,
                                  ir_binary(g, OP_MUL, b, ir_binary(g, OP_POW, a, bm1))));
    }
    if (ad->needed[b])
      accumulate(ad, b, ir_binary(g, OP_MUL, dy, ir_binary(g, OP_MUL, y, ir_unary(g, OP_LOG, a))));
    return;
  case OP_SUMTO:
    accumulate(ad, a, ir_broadcast(g, dy, g->nodes[a].shape));
    return;
  case OP_MAXTO: { /* shared equally by the elements equal to the maximum */
    Shape as = g->nodes[a].shape;
    NodeId mask = ir_binary(g, OP_EQ, a, ir_broadcast(g, y, as));
    NodeId share = ir_binary(g, OP_DIV, dy, ir_sumto(g, mask, n.shape));
    accumulate(ad, a, ir_binary(g, OP_MUL, ir_broadcast(g, share, as), mask));
    return;
  }
  case OP_BROADCAST:
    accumulate(ad, a, dy); /* accumulate sums it back down */
    return;
  case OP_TRANSPOSE:
    accumulate(ad, a, ir_transpose(g, dy));
    return;
  case OP_LOGSUMEXP: { /* dz = dy * softmax(z), softmax(z) = exp(z - logsumexp(z)) */
    accumulate(ad, a, ir_binary(g, OP_MUL, ir_reshape(g, dy, keep_last(n.shape)), softmax_of(g, a, y)));
    return;
  }
  case OP_GATHER: { /* dz = onehot(y) * dy: the gradient lands on the indexed entry */
    int32_t k = g->nodes[a].shape.dim[g->nodes[a].shape.rank - 1];
    accumulate(ad, a, ir_binary(g, OP_MUL, ir_reshape(g, dy, keep_last(n.shape)), ir_onehot(g, b, k)));
    return;
  }
  case OP_RESHAPE:
    accumulate(ad, a, ir_reshape(g, dy, g->nodes[a].shape));
    return;
  case OP_MATMUL: {
    /* C = op(A) @ op(B). Each gradient is again one matmul with the transposes moved:
     *   dA = dC @ op(B)^T (or op(B) @ dC^T when A was transposed),
     *   dB = op(A)^T @ dC (or dC^T @ op(A) when B was transposed). */
    bool ta = n.attr & MM_TA, tb = n.attr & MM_TB;
    if (ad->needed[a]) {
      NodeId da = ta ? ir_matmul(g, b, dy, (tb ? MM_TA : 0) | MM_TB)
                     : ir_matmul(g, dy, b, tb ? 0 : MM_TB);
      accumulate(ad, a, ir_reshape(g, da, g->nodes[a].shape));
    }
    if (ad->needed[b]) {
      NodeId db = tb ? ir_matmul(g, dy, a, MM_TA | (ta ? MM_TB : 0))
                     : ir_matmul(g, a, dy, ta ? 0 : MM_TA);
      accumulate(ad, b, ir_reshape(g, db, g->nodes[b].shape));
    }
    return;
  }
  }
}

void ad_build(Graph *g) {
  if (!g->loss) nnc_unreachable("autodiff without a loss");
  uint32_t nfwd = g->count;
  Ad ad = {g, calloc(nfwd, sizeof(NodeId)), calloc(nfwd, sizeof(bool))};
  if (!ad.adj || !ad.needed) nnc_unreachable("out of memory");
  for (uint32_t id = 1; id < nfwd; id++) {
    const Node *n = &g->nodes[id];
    ad.needed[id] = n->op == OP_PARAM;
    for (int i = 0; i < op_info[n->op].arity; i++) ad.needed[id] |= ad.needed[n->in[i]];
  }
  if (ad.needed[g->loss]) ad.adj[g->loss] = ir_const(g, 1, g->nodes[g->loss].shape);
  for (NodeId id = g->loss; id >= 1; id--)
    if (ad.adj[id]) backprop(&ad, id, ad.adj[id]);
  for (int i = 0; i < g->nparams; i++) {
    GraphParam *p = &g->params[i];
    p->grad = ad.adj[p->node] ? ad.adj[p->node] : ir_const(g, 0, p->shape);
  }
  free(ad.adj);
  free(ad.needed);
}
