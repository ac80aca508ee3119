/* plan.c: the memory plan: where each node's value lives while a step runs.
 *
 * Constants and the batch size are immediates folded into the loops that read them.
 * Inputs and parameters live in the caller's buffers, a reshape shares its input's
 * buffer, and a gradient is computed straight into the caller's gradient buffer when
 * nothing else needs it. An elementwise node with a single consumer that iterates over
 * the same index space is fused: it gets no buffer at all, and its consumer computes it
 * in its own loop (one pass over memory instead of two).
 *
 * Every other node gets a slot in the arena, by liveness: ids are execution order, so a
 * node's slot is free again after the last node that reads it, and a later node may take
 * it (first fit). An elementwise node whose operand dies at it and has its very shape
 * takes that operand's slot: in place, since element i is read before it is written.
 * Batched slots follow the fixed ones and scale with max_batch, so one arena serves any
 * batch from 1 to max_batch. Slots are 64-byte aligned for the vector loops.
 *
 * Each mode of a model (training, evaluation, prediction) is a graph of its own and is
 * planned alone (pass_subset); the training step's gradient and train entry points share
 * one plan and compute subsets of its nodes in the same id order.
 */
#include "nnc.h"

#include <stdlib.h>
#include <string.h>

static int64_t align16(int64_t n) { return (n + 15) & ~(int64_t)15; }

/* A pool of slots: free blocks kept sorted by offset, and the high-water mark. */
typedef struct Block {
  int64_t off, size;
} Block;

typedef struct Pool {
  Block *free;
  int nfree, cap;
  int64_t end;
} Pool;

static int64_t pool_take(Pool *p, int64_t size) {
  for (int i = 0; i < p->nfree; i++) {
    Block *b = &p->free[i];
    if (b->size < size) continue;
    int64_t off = b->off;
    b->off += size;
    b->size -= size;
    if (b->size == 0) memmove(b, b + 1, (size_t)(p->nfree - i - 1) * sizeof *b), p->nfree--;
    return off;
  }
  /* grow from the end, absorbing a free block that touches it */
  if (p->nfree && p->free[p->nfree - 1].off + p->free[p->nfree - 1].size == p->end) {
    int64_t off = p->free[--p->nfree].off;
    p->end = off + size;
    return off;
  }
  int64_t off = p->end;
  p->end += size;
  return off;
}

static void pool_give(Pool *p, int64_t off, int64_t size) {
  int i = 0;
  while (i < p->nfree && p->free[i].off < off) i++;
  Block b = {off, size};
  vec_push(&p->free, &p->nfree, &p->cap, b); /* grow, then shift into place */
  memmove(&p->free[i + 1], &p->free[i], (size_t)(p->nfree - 1 - i) * sizeof b);
  p->free[i] = b;
  /* merge with the neighbours */
  if (i + 1 < p->nfree && p->free[i].off + p->free[i].size == p->free[i + 1].off) {
    p->free[i].size += p->free[i + 1].size;
    memmove(&p->free[i + 1], &p->free[i + 2], (size_t)(p->nfree - i - 2) * sizeof b);
    p->nfree--;
  }
  if (i > 0 && p->free[i - 1].off + p->free[i - 1].size == p->free[i].off) {
    p->free[i - 1].size += p->free[i].size;
    memmove(&p->free[i], &p->free[i + 1], (size_t)(p->nfree - i - 1) * sizeof b);
    p->nfree--;
  }
}

/* The matmul x^T @ dy that is parameter `param`'s gradient (through reshapes), when nothing
 * else reads it; 0 otherwise. uses[id] counts the node's consumers. */
static NodeId outer_product(const Graph *g, int param, const uint32_t *uses) {
  NodeId gr = g->params[param].grad, m = gr;
  if (!gr) return 0;
  while (g->nodes[m].op == OP_RESHAPE) {
    if (m != gr && uses[m] != 1) return 0;
    m = g->nodes[m].in[0];
  }
  const Node *mm = &g->nodes[m];
  if (mm->op != OP_MATMUL || mm->attr != MM_TA || uses[m] != (m == gr ? 0u : 1u)) return 0;
  if (shape_size(mm->shape) != shape_size(g->params[param].shape)) return 0;
  for (int i = 0; i < g->nparams; i++)
    if (i != param && g->params[i].grad == gr) return 0;
  return m;
}

/* The parameter whose buffer a product's operand is (through reshapes), or -1. */
static int param_operand(const Graph *g, NodeId x) {
  while (g->nodes[x].op == OP_RESHAPE) x = g->nodes[x].in[0];
  return g->nodes[x].op == OP_PARAM ? (int)g->nodes[x].attr : -1;
}

/* The updates' order and which products they consume (see Plan): a topological order of
 * "the update whose deferred product reads parameter j runs before j's update", lowest
 * index first; a product that reads its own parameter, or that a cycle leaves unordered,
 * is formed with the other gradients instead. */
static void schedule_updates(const Graph *g, const uint32_t *uses, Plan *plan) {
  int np = g->nparams;
  plan->order = calloc((size_t)np + 1, sizeof *plan->order);
  plan->deferred = calloc((size_t)np + 1, sizeof *plan->deferred);
  int *reads = calloc((size_t)np * 2 + 1, sizeof *reads); /* the two operands' parameters */
  bool *placed = calloc((size_t)np + 1, sizeof *placed);
  if (!plan->order || !plan->deferred || !reads || !placed) nnc_unreachable("out of memory");
  for (int i = 0; i < np; i++) {
    NodeId mm = outer_product(g, i, uses);
    for (int k = 0; k < 2; k++) reads[2 * i + k] = mm ? param_operand(g, g->nodes[mm].in[k]) : -1;
    if (reads[2 * i] == i || reads[2 * i + 1] == i) mm = 0, reads[2 * i] = reads[2 * i + 1] = -1;
    plan->deferred[i] = mm;
  }
  for (int n = 0; n < np;) {
    /* the lowest unplaced update that no unplaced deferred product must precede */
    int pick = -1;
    for (int j = 0; j < np && pick < 0; j++) {
      if (placed[j]) continue;
      bool blocked = false;
      for (int i = 0; i < np && !blocked; i++)
        blocked = !placed[i] && i != j && (reads[2 * i] == j || reads[2 * i + 1] == j);
      if (!blocked) pick = j;
    }
    if (pick < 0) { /* a cycle: form the lowest waiting product before the updates */
      for (int i = 0; i < np && pick < 0; i++)
        if (!placed[i] && plan->deferred[i]) pick = i;
      plan->deferred[pick] = 0;
      reads[2 * pick] = reads[2 * pick + 1] = -1;
      continue;
    }
    placed[pick] = true;
    plan->order[n++] = pick;
  }
  free(reads);
  free(placed);
}

/* Consumers that evaluate an operand element by element inside their own loop. */
static bool reads_in_loop(const Node *c) {
  return op_info[c->op].elementwise || c->op == OP_SUMTO || c->op == OP_MAXTO;
}

void plan_build(const Graph *g, Plan *plan) {
  uint32_t n = g->count;
  plan->loc = calloc(n, sizeof(BufLoc));
  uint32_t *uses = calloc(n, sizeof *uses), *consumer = calloc(n, sizeof *consumer);
  uint32_t *last = calloc(n, sizeof *last), *eff = calloc(n, sizeof *eff);
  bool *in_memory = calloc(n, sizeof(bool)), *root = calloc(n, sizeof(bool));
  int *grad_of = calloc(n, sizeof(int)); /* param index + 1, or -1 when shared */
  if (!plan->loc || !uses || !consumer || !last || !eff || !in_memory || !root || !grad_of)
    nnc_unreachable("out of memory");
  plan->param_floats = 0;
  for (int i = 0; i < g->nparams; i++)
    plan->param_floats = g->params[i].offset + shape_size(g->params[i].shape);

  for (NodeId id = 1; id < n; id++) {
    const Node *nd = graph_node(g, id);
    for (int k = 0; k < op_info[nd->op].arity; k++) {
      uses[nd->in[k]]++;
      consumer[nd->in[k]] = id;
    }
    if (nd->op == OP_MATMUL) in_memory[nd->in[0]] = in_memory[nd->in[1]] = true;
  }
  for (int i = 0; i < g->nparams; i++) {
    NodeId gr = g->params[i].grad;
    if (!gr) continue;
    grad_of[gr] = grad_of[gr] ? -1 : i + 1;
    root[gr] = true;
  }
  if (g->loss) root[g->loss] = true, grad_of[g->loss] = -1;
  for (int i = 0; i < g->noutputs; i++) root[g->outputs[i].node] = true, grad_of[g->outputs[i].node] = -1;
  for (int i = 0; i < g->nmetrics; i++) root[g->metrics[i].node] = true, grad_of[g->metrics[i].node] = -1;
  /* the training step may consume an outer-product gradient at the very end, straight
   * from its operands: those stay alive to the end */
  schedule_updates(g, uses, plan);
  for (int i = 0; i < g->nparams; i++) {
    NodeId mm = plan->deferred[i];
    if (mm) root[graph_node(g, mm)->in[0]] = root[graph_node(g, mm)->in[1]] = true;
  }

  /* where each node lives */
  for (NodeId id = 1; id < n; id++) {
    const Node *nd = graph_node(g, id);
    BufLoc *l = &plan->loc[id];
    switch (nd->op) {
    case OP_INPUT: l->kind = LOC_INPUT; l->index = (int)nd->attr; continue;
    case OP_PARAM: l->kind = LOC_PARAM; l->index = (int)nd->attr; continue;
    case OP_CONST:
    case OP_BATCH:
      l->kind = in_memory[id] ? LOC_ARENA : LOC_IMM;
      continue;
    case OP_RESHAPE: {
      NodeId base = nd->in[0];
      while (plan->loc[base].kind == LOC_ALIAS) base = plan->loc[base].alias;
      if (plan->loc[base].kind != LOC_IMM && plan->loc[base].kind != LOC_FUSED) {
        l->kind = LOC_ALIAS;
        l->alias = base;
        continue;
      }
      l->kind = LOC_ARENA;
      continue;
    }
    default:
      break;
    }
    if (op_info[nd->op].elementwise && uses[id] == 1 && !root[id] && !in_memory[id]) {
      const Node *c = graph_node(g, consumer[id]);
      if (reads_in_loop(c) && (!op_info[c->op].elementwise || shape_eq(c->shape, nd->shape))) {
        l->kind = LOC_FUSED;
        l->alias = consumer[id];
        continue;
      }
    }
    if (id >= g->nfwd && grad_of[id] > 0) {
      l->kind = LOC_GRAD;
      l->index = grad_of[id] - 1;
      continue;
    }
    l->kind = LOC_ARENA;
  }
  /* A reshape whose base turned out fused was made a slot above; a base read through an
   * alias must itself be in memory. */
  for (NodeId id = 1; id < n; id++)
    if (plan->loc[id].kind == LOC_ALIAS && plan->loc[plan->loc[id].alias].kind == LOC_FUSED)
      nnc_unreachable("alias of a fused node");

  /* liveness: a fused node is computed inside its consumer, so what it reads is read then */
  for (NodeId id = n - 1; id >= 1; id--) eff[id] = plan->loc[id].kind == LOC_FUSED ? eff[consumer[id]] : id;
  for (NodeId id = 1; id < n; id++) {
    const Node *nd = graph_node(g, id);
    for (int k = 0; k < op_info[nd->op].arity; k++)
      if (last[nd->in[k]] < eff[id]) last[nd->in[k]] = eff[id];
    if (root[id]) last[id] = n; /* read after the step */
  }
  for (NodeId id = n - 1; id >= 1; id--)
    if (plan->loc[id].kind == LOC_ALIAS && last[plan->loc[id].alias] < last[id]) last[plan->loc[id].alias] = last[id];

  /* slots, by a linear scan in execution order */
  Pool pools[2] = {{0}, {0}}; /* fixed, per sample */
  NodeId *ending = calloc(n + 1, sizeof *ending), *next_ending = calloc(n, sizeof *next_ending);
  bool *handed = calloc(n, sizeof(bool)); /* its slot went to a node computed in place */
  plan->reused = 0;
  for (NodeId id = 1; id < n; id++) {
    BufLoc *l = &plan->loc[id];
    const Node *nd = graph_node(g, id);
    /* free the slots whose last reader ran before this node */
    for (NodeId d = ending[id]; d; d = next_ending[d]) {
      if (handed[d]) continue;
      const Node *dn = graph_node(g, d);
      pool_give(&pools[dn->shape.batched], plan->loc[d].offset, align16(shape_size(dn->shape)));
    }
    if (l->kind != LOC_ARENA) continue;
    int64_t size = align16(shape_size(nd->shape));
    Pool *p = &pools[nd->shape.batched];
    l->offset = -1;
    if (op_info[nd->op].elementwise)
      for (int k = 0; k < op_info[nd->op].arity && l->offset < 0; k++) {
        NodeId x = nd->in[k];
        if (plan->loc[x].kind == LOC_ARENA && last[x] == id && shape_eq(graph_node(g, x)->shape, nd->shape)) {
          l->offset = plan->loc[x].offset; /* in place: x dies here */
          handed[x] = true;               /* its slot now belongs to this node */
          plan->reused++;
        }
      }
    if (l->offset < 0) {
      int64_t before = p->end;
      l->offset = pool_take(p, size);
      if (l->offset + size <= before) plan->reused++;
    }
    /* schedule the slot's release after its last reader */
    if (last[id] < n) {
      NodeId at = last[id] + 1;
      next_ending[id] = ending[at];
      ending[at] = id;
    }
  }
  plan->arena_fixed = pools[0].end;
  plan->arena_per_sample = pools[1].end;
  for (NodeId id = 1; id < n; id++) {
    BufLoc *l = &plan->loc[id];
    if (l->kind != LOC_ARENA) continue;
    if (graph_node(g, id)->shape.batched) {
      l->per_sample = l->offset;
      l->fixed = plan->arena_fixed;
    } else {
      l->fixed = l->offset;
      l->per_sample = 0;
    }
  }
  for (int i = 0; i < 2; i++) free(pools[i].free);
  free(ending);
  free(next_ending);
  free(handed);
  free(uses);
  free(consumer);
  free(last);
  free(eff);
  free(in_memory);
  free(root);
  free(grad_of);
}

void plan_free(Plan *plan) {
  free(plan->loc);
  free(plan->order);
  free(plan->deferred);
  plan->loc = NULL;
  plan->order = NULL;
  plan->deferred = NULL;
}

void plan_print(const Graph *g, const Plan *plan, FILE *out) {
  static const char *const kinds[] = {"none", "immediate", "input", "param", "arena", "alias", "grad", "fused"};
  int64_t naive_fixed = 0, naive_per_sample = 0;
  int fused = 0;
  fprintf(out, "plan %s {\n", g->model_name);
  for (NodeId id = 1; id < g->count; id++) {
    const BufLoc *l = &plan->loc[id];
    const Node *nd = graph_node(g, id);
    fprintf(out, "  %%%u %-9s %-9s", id, op_info[nd->op].name, kinds[l->kind]);
    switch (l->kind) {
    case LOC_ARENA:
      if (nd->shape.batched) {
        fprintf(out, " %lld + %lld*max_batch", (long long)l->fixed, (long long)l->per_sample);
        naive_per_sample += align16(shape_size(nd->shape));
      } else {
        fprintf(out, " %lld", (long long)l->fixed);
        naive_fixed += align16(shape_size(nd->shape));
      }
      break;
    case LOC_ALIAS: fprintf(out, " %%%u", l->alias); break;
    case LOC_INPUT: fprintf(out, " %s", g->inputs[l->index].name); break;
    case LOC_PARAM:
    case LOC_GRAD: fprintf(out, " %s", g->params[l->index].name); break;
    case LOC_FUSED: fused++; fprintf(out, " into %%%u", l->alias); break;
    default: break;
    }
    fprintf(out, "  : %s\n", shape_str(nd->shape));
  }
  fprintf(out, "  arena: %lld + %lld*max_batch floats (without reuse: %lld + %lld*max_batch); "
               "%d slots reused, %d nodes fused\n}\n",
          (long long)plan->arena_fixed, (long long)plan->arena_per_sample, (long long)naive_fixed,
          (long long)naive_per_sample, plan->reused, fused);
}
