/* plan.c: the memory plan: where each node's value lives while a step runs.
 *
 * Constants and the batch size are immediates folded into the loops that read them.
 * Inputs and parameters live in the caller's buffers, a reshape shares its input's
 * buffer, and a gradient is computed straight into the caller's gradient buffer when
 * nothing else needs it. Every other node gets its own slot in the arena. Batched
 * slots follow the fixed ones and scale with max_batch, so one arena serves any batch
 * from 1 to max_batch. Slots are 64-byte aligned for the vector loops.
 * (Liveness-based reuse of slots is the next step; see issue 6.)
 */
#include "nnc.h"

#include <stdlib.h>

static int64_t align16(int64_t n) { return (n + 15) & ~(int64_t)15; }

void plan_build(const Graph *g, Plan *plan) {
  plan->loc = calloc(g->count, sizeof(BufLoc));
  if (!plan->loc) nnc_unreachable("out of memory");
  plan->param_floats = 0;
  for (int i = 0; i < g->nparams; i++)
    plan->param_floats = g->params[i].offset + shape_size(g->params[i].shape);

  /* which constants must exist in memory: the operands of a GEMM */
  bool *in_memory = calloc(g->count, sizeof(bool));
  int *grad_of = calloc(g->count, sizeof(int)); /* param index + 1, or -1 when shared */
  if (!in_memory || !grad_of) nnc_unreachable("out of memory");
  for (NodeId id = 1; id < g->count; id++) {
    const Node *n = graph_node(g, id);
    if (n->op == OP_MATMUL) in_memory[n->in[0]] = in_memory[n->in[1]] = true;
  }
  for (int i = 0; i < g->nparams; i++) {
    NodeId gr = g->params[i].grad;
    grad_of[gr] = grad_of[gr] ? -1 : i + 1;
  }
  grad_of[g->loss] = -1;
  for (int i = 0; i < g->noutputs; i++) grad_of[g->outputs[i].node] = -1;
  for (int i = 0; i < g->nmetrics; i++) grad_of[g->metrics[i].node] = -1;

  int64_t fixed = 0, per_sample = 0;
  for (NodeId id = 1; id < g->count; id++) {
    const Node *n = graph_node(g, id);
    BufLoc *l = &plan->loc[id];
    switch (n->op) {
    case OP_INPUT: l->kind = LOC_INPUT; l->index = (int)n->attr; continue;
    case OP_PARAM: l->kind = LOC_PARAM; l->index = (int)n->attr; continue;
    case OP_CONST:
    case OP_BATCH:
      if (!in_memory[id]) { l->kind = LOC_IMM; continue; }
      break;
    case OP_RESHAPE: {
      NodeId base = n->in[0];
      while (plan->loc[base].kind == LOC_ALIAS) base = plan->loc[base].alias;
      if (plan->loc[base].kind != LOC_IMM) { l->kind = LOC_ALIAS; l->alias = base; continue; }
      break;
    }
    default:
      if (id >= g->nfwd && grad_of[id] > 0) {
        l->kind = LOC_GRAD;
        l->index = grad_of[id] - 1;
        continue;
      }
      break;
    }
    l->kind = LOC_ARENA;
    int64_t size = align16(shape_size(n->shape));
    if (n->shape.batched) {
      l->per_sample = per_sample;
      per_sample += size;
    } else {
      l->fixed = fixed;
      fixed += size;
    }
  }
  /* batched slots start after the fixed ones */
  for (NodeId id = 1; id < g->count; id++)
    if (plan->loc[id].kind == LOC_ARENA && graph_node(g, id)->shape.batched) plan->loc[id].fixed = fixed;
  plan->arena_fixed = fixed;
  plan->arena_per_sample = per_sample;
  free(in_memory);
  free(grad_of);
}

void plan_free(Plan *plan) {
  free(plan->loc);
  plan->loc = NULL;
}
