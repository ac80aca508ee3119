/* pass_dce.c: dead-code elimination by rebuilding the graph from its roots.
 *
 * Marks every node that a root (the loss, an output, a gradient, an input or a
 * parameter) reaches, then copies the marked nodes in id order into a fresh node array.
 * Copying keeps the topological order, renumbers densely (so dumps stay readable), and
 * re-interns each node, which merges nodes that became equal once their inputs were
 * merged: the rebuild is CSE as well.
 */
#include "nnc.h"

#include <stdlib.h>
#include <string.h>

void pass_dce(Graph *g) {
  uint32_t n = g->count;
  bool *live = calloc(n, sizeof *live);
  NodeId *map = calloc(n, sizeof *map);
  if (!live || !map) nnc_unreachable("out of memory");
  live[g->loss] = true;
  for (int i = 0; i < g->noutputs; i++) live[g->outputs[i].node] = true;
  for (int i = 0; i < g->nmetrics; i++) live[g->metrics[i].node] = true;
  for (int i = 0; i < g->ninputs; i++) live[g->inputs[i].node] = true;
  for (int i = 0; i < g->nparams; i++) {
    live[g->params[i].node] = true;
    live[g->params[i].grad] = true;
  }
  for (NodeId id = n - 1; id >= 1; id--)
    if (live[id])
      for (int k = 0; k < op_info[g->nodes[id].op].arity; k++) live[g->nodes[id].in[k]] = true;

  Node *old = g->nodes;
  uint32_t old_nfwd = g->nfwd;
  g->nodes = NULL;
  g->cap = 64;
  g->nodes = nn_xrealloc(NULL, g->cap * sizeof(Node));
  memset(&g->nodes[0], 0, sizeof(Node));
  g->count = 1;
  memset(g->table, 0, g->table_cap * sizeof *g->table);
  g->nfwd = 0;
  for (NodeId id = 1; id < n; id++) {
    if (!live[id]) continue;
    if (id >= old_nfwd && !g->nfwd) g->nfwd = g->count;
    Node copy = old[id];
    for (int k = 0; k < op_info[copy.op].arity; k++) copy.in[k] = map[copy.in[k]];
    map[id] = ir_intern(g, copy);
    /* a merged node keeps the first name it was given */
    if (!g->nodes[map[id]].name && copy.name) g->nodes[map[id]].name = copy.name;
  }
  if (!g->nfwd) g->nfwd = g->count;
  g->loss = map[g->loss];
  for (int i = 0; i < g->noutputs; i++) g->outputs[i].node = map[g->outputs[i].node];
  for (int i = 0; i < g->nmetrics; i++) g->metrics[i].node = map[g->metrics[i].node];
  for (int i = 0; i < g->ninputs; i++) g->inputs[i].node = map[g->inputs[i].node];
  for (int i = 0; i < g->nparams; i++) {
    g->params[i].node = map[g->params[i].node];
    g->params[i].grad = map[g->params[i].grad];
  }
  free(old);
  free(live);
  free(map);
}

Graph *pass_subset(const Graph *g, unsigned roots) {
  uint32_t n = g->count;
  bool *live = calloc(n, sizeof *live);
  NodeId *map = calloc(n, sizeof *map);
  Graph *h = graph_new(g->arena);
  if (!live || !map) nnc_unreachable("out of memory");
  h->model_name = g->model_name;
  h->source_path = g->source_path;
  if (roots & (SUBSET_LOSS | SUBSET_GRADS)) live[g->loss] = true;
  for (int i = 0; roots & SUBSET_OUTPUTS && i < g->noutputs; i++) live[g->outputs[i].node] = true;
  for (int i = 0; roots & SUBSET_METRICS && i < g->nmetrics; i++) live[g->metrics[i].node] = true;
  for (int i = 0; i < g->ninputs; i++) live[g->inputs[i].node] = true;
  for (int i = 0; i < g->nparams; i++) {
    live[g->params[i].node] = true;
    if (roots & SUBSET_GRADS) live[g->params[i].grad] = true;
  }
  for (NodeId id = n - 1; id >= 1; id--)
    if (live[id])
      for (int k = 0; k < op_info[g->nodes[id].op].arity; k++) live[g->nodes[id].in[k]] = true;
  h->nfwd = 0;
  for (NodeId id = 1; id < n; id++) {
    if (!live[id]) continue;
    if (id >= g->nfwd && !h->nfwd) h->nfwd = h->count;
    Node copy = g->nodes[id];
    for (int k = 0; k < op_info[copy.op].arity; k++) copy.in[k] = map[copy.in[k]];
    map[id] = ir_intern(h, copy);
  }
  if (!h->nfwd) h->nfwd = h->count;
  h->loss = map[g->loss];
  for (int i = 0; i < g->ninputs; i++) {
    GraphInput in = g->inputs[i];
    in.node = map[in.node];
    vec_push(&h->inputs, &h->ninputs, &h->inputs_cap, in);
  }
  for (int i = 0; i < g->nparams; i++) {
    GraphParam p = g->params[i];
    p.node = map[p.node];
    p.grad = roots & SUBSET_GRADS ? map[p.grad] : 0;
    vec_push(&h->params, &h->nparams, &h->params_cap, p);
  }
  for (int i = 0; roots & SUBSET_OUTPUTS && i < g->noutputs; i++) {
    GraphOutput o = g->outputs[i];
    o.node = map[o.node];
    vec_push(&h->outputs, &h->noutputs, &h->outputs_cap, o);
  }
  for (int i = 0; roots & SUBSET_METRICS && i < g->nmetrics; i++) {
    GraphOutput o = g->metrics[i];
    o.node = map[o.node];
    vec_push(&h->metrics, &h->nmetrics, &h->metrics_cap, o);
  }
  free(live);
  free(map);
  return h;
}
