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
