/* ir_print.c: the graph as text (--emit=graph, --emit=grad) and as Graphviz (--emit=dot).
 *
 * One line per node, "%ID = op operands : shape", in id order, which is execution order.
 * Ids are dense after DCE and deterministic, so lit tests can pin the dumps. With the
 * memory plan, the fusion groups show: a node that is computed inside a consumer's loop
 * (never stored) ends in "[fused into %N]".
 */
#include <stdlib.h>

#include "nnc.h"

static const char *const init_names[] = {"zeros",          "ones",          "constant",
                                         "uniform",        "normal",        "glorot_uniform",
                                         "glorot_normal",  "he_uniform",    "he_normal"};

static void print_init(const GraphParam *p, FILE *out) {
  fprintf(out, "%s", init_names[p->init]);
  if (p->init == INIT_CONSTANT) fprintf(out, "(%g)", p->init_a);
  if (p->init == INIT_UNIFORM || p->init == INIT_NORMAL) fprintf(out, "(%g, %g)", p->init_a, p->init_b);
}

/* A node printed as %show[id]; show[id] == 0: the node is not printed. */
static void print_node(const Graph *g, const Plan *plan, const NodeId *show, NodeId id, FILE *out) {
  const Node *n = graph_node(g, id);
  fprintf(out, "  %%%u = %s", show[id], op_info[n->op].name);
  switch (n->op) {
  case OP_INPUT: fprintf(out, " %s", g->inputs[n->attr].name); break;
  case OP_PARAM: fprintf(out, " %s", g->params[n->attr].name); break;
  case OP_CONST: fprintf(out, " %g", n->value); break;
  case OP_MATMUL:
    fprintf(out, "%s%s", n->attr & MM_TA ? ".ta" : "", n->attr & MM_TB ? ".tb" : "");
    break;
  default: break;
  }
  for (int k = 0; k < op_info[n->op].arity; k++) fprintf(out, "%s%%%u", k ? ", " : " ", show[n->in[k]]);
  fprintf(out, " : %s", shape_str(n->shape));
  if (n->op == OP_PARAM) {
    fprintf(out, " = ");
    print_init(&g->params[n->attr], out);
  }
  if (n->name && n->op != OP_INPUT && n->op != OP_PARAM) fprintf(out, "  # %s", n->name);
  if (plan && plan->loc[id].kind == LOC_FUSED) {
    /* (a consumer that is not shown cannot happen: a fused node has one consumer, which
     * needs it for the same results; should it, the mark still says fused) */
    NodeId into = show[plan->loc[id].alias];
    if (into)
      fprintf(out, "  [fused into %%%u]", into);
    else
      fprintf(out, "  [fused]");
  }
  fputc('\n', out);
}

void ir_print(const Graph *g, bool with_grad, const Plan *plan, FILE *out) {
  /* Without the backward pass: the forward nodes its results need, numbered densely in
   * order. (Autodiff can revive a forward node that only the backward pass reads, such as
   * a constant; it is not shown, and the ids are those of the forward graph alone.) */
  NodeId *show = calloc(g->count, sizeof *show);
  if (!show) nnc_unreachable("out of memory");
  if (with_grad) {
    for (NodeId id = 1; id < g->count; id++) show[id] = id;
  } else {
    bool *live = calloc(g->count, sizeof *live);
    if (!live) nnc_unreachable("out of memory");
    live[g->loss] = true;
    for (int i = 0; i < g->noutputs; i++) live[g->outputs[i].node] = true;
    for (int i = 0; i < g->nmetrics; i++) live[g->metrics[i].node] = true;
    for (int i = 0; i < g->ninputs; i++) live[g->inputs[i].node] = true;
    for (int i = 0; i < g->nparams; i++) live[g->params[i].node] = true;
    for (NodeId id = g->nfwd - 1; id >= 1; id--)
      if (live[id])
        for (int k = 0; k < op_info[g->nodes[id].op].arity; k++) live[g->nodes[id].in[k]] = true;
    NodeId next = 1;
    for (NodeId id = 1; id < g->nfwd; id++)
      if (live[id]) show[id] = next++;
    free(live);
  }
  fprintf(out, "graph %s {\n", g->model_name);
  uint32_t end = with_grad ? g->count : g->nfwd;
  for (NodeId id = 1; id < end; id++) {
    if (with_grad && id == g->nfwd) fprintf(out, "  # backward\n");
    if (show[id]) print_node(g, plan, show, id, out);
  }
  fprintf(out, "  loss = %%%u\n", show[g->loss]);
  for (int i = 0; i < g->noutputs; i++)
    fprintf(out, "  output %s = %%%u\n", g->outputs[i].name, show[g->outputs[i].node]);
  for (int i = 0; i < g->nmetrics; i++)
    fprintf(out, "  metric %s = %%%u\n", g->metrics[i].name, show[g->metrics[i].node]);
  if (with_grad)
    for (int i = 0; i < g->nparams; i++)
      fprintf(out, "  grad %s = %%%u\n", g->params[i].name, show[g->params[i].grad]);
  fprintf(out, "}\n");
  free(show);
}

void ir_print_dot(const Graph *g, FILE *out) {
  fprintf(out, "digraph \"%s\" {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n",
          g->model_name);
  for (NodeId id = 1; id < g->count; id++) {
    const Node *n = graph_node(g, id);
    const char *label = n->op == OP_INPUT ? g->inputs[n->attr].name
                        : n->op == OP_PARAM ? g->params[n->attr].name
                                            : n->name;
    fprintf(out, "  n%u [label=\"%%%u %s", id, id, op_info[n->op].name);
    if (n->op == OP_CONST) fprintf(out, " %g", n->value);
    if (label) fprintf(out, "\\n%s", label);
    fprintf(out, "\\n%s\"%s];\n", shape_str(n->shape),
            id >= g->nfwd ? ", style=filled, fillcolor=\"#fde9d9\""
            : (n->op == OP_INPUT || n->op == OP_PARAM) ? ", style=filled, fillcolor=\"#dde8f7\""
                                                      : "");
    for (int k = 0; k < op_info[n->op].arity; k++) fprintf(out, "  n%u -> n%u;\n", n->in[k], id);
  }
  fprintf(out, "  loss [shape=ellipse];\n  n%u -> loss;\n", g->loss);
  for (int i = 0; i < g->nparams; i++)
    fprintf(out, "  \"grad %s\" [shape=ellipse];\n  n%u -> \"grad %s\";\n", g->params[i].name,
            g->params[i].grad, g->params[i].name);
  fprintf(out, "}\n");
}
