/* rule.c: the variants of an update rule, derived by constant folding, and their dumps.
 *
 * A rule is compiled as written, and once more with every hyperparameter whose default is
 * 0 (or false) replaced by 0: rebuilding the graph through the simplifying constructors
 * folds away what those hyperparameters switch on (weight_decay * w, a momentum buffer,
 * a centred average), so the common case pays nothing for features it does not use. A
 * state that the rule reads as written but no longer reads in the variant (RMSprop's
 * momentum buffer with momentum 0) is not kept there: its old value cannot matter while
 * the run stays in the variant, and it stays at its initial value. The row of a weight
 * whose gradient is known to be zero (a zero input at batch 1) takes the variant with
 * g = 0, folded the same way.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnc.h"

/* Rebuilds the nodes roots[] need of variant v into a new graph, a leaf that subst maps to
 * nonzero replaced by a zero of its shape; *out gets the new graph and roots[] the ids. */
typedef bool Subst(const Node *leaf, const void *arg);

static Graph *rebuild(const Graph *src, NodeId *roots, int nroots, Subst *zero, const void *arg,
                      bool signed_zeros) {
  Graph *g = graph_new(src->arena);
  g->signed_zeros = signed_zeros;
  g->model_name = src->model_name;
  g->source_path = src->source_path;
  bool *need = calloc(src->count, sizeof *need);
  NodeId *map = calloc(src->count, sizeof *map);
  if (!need || !map) nnc_unreachable("out of memory");
  for (int i = 0; i < nroots; i++) need[roots[i]] = true;
  for (NodeId id = src->count - 1; id >= 1; id--)
    if (need[id])
      for (int k = 0; k < op_info[src->nodes[id].op].arity; k++) need[src->nodes[id].in[k]] = true;
  for (NodeId id = 1; id < src->count; id++) {
    if (!need[id]) continue;
    const Node *n = graph_node(src, id);
    if (op_info[n->op].arity == 0 && zero(n, arg)) {
      map[id] = ir_const(g, 0, n->shape);
      continue;
    }
    NodeId in[NODE_MAX_IN] = {0};
    for (int k = 0; k < op_info[n->op].arity; k++) in[k] = map[n->in[k]];
    map[id] = ir_rebuild(g, n, in);
    if (n->name) ir_set_name(g, map[id], n->name, n->loc);
  }
  for (int i = 0; i < nroots; i++) roots[i] = map[roots[i]];
  free(need);
  free(map);
  return g;
}

static bool nothing(const Node *leaf, const void *arg) {
  (void)leaf, (void)arg;
  return false;
}

static bool zero_hyper(const Node *leaf, const void *arg) {
  uint64_t zeros = *(const uint64_t *)arg;
  return leaf->op == OP_HYPER && leaf->attr < RULE_MAX_HYPERS && (zeros >> leaf->attr & 1);
}

static bool zero_g(const Node *leaf, const void *arg) {
  (void)arg;
  return leaf->op == OP_SLOT && leaf->attr == SLOT_G;
}

/* reads[k]: whether the nodes root reaches include state k's old value. */
static void state_reads(const Graph *g, NodeId root, int nstates, bool *reads) {
  for (int k = 0; k < nstates; k++) reads[k] = false;
  if (!root) return;
  bool *need = calloc(g->count, sizeof *need);
  if (!need) nnc_unreachable("out of memory");
  need[root] = true;
  for (NodeId id = root; id >= 1; id--) {
    if (!need[id]) continue;
    const Node *n = graph_node(g, id);
    if (n->op == OP_SLOT && n->attr >= SLOT_STATE) reads[n->attr - SLOT_STATE] = true;
    for (int k = 0; k < op_info[n->op].arity; k++) need[n->in[k]] = true;
  }
  free(need);
}

/* live[k]: whether state k's value can reach w, now or in a later step. */
static void live_states(const Graph *g, NodeId w, const NodeId *state, int nstates, bool *live) {
  bool reads[RULE_MAX_STATES];
  state_reads(g, w, nstates, live);
  for (bool grew = true; grew;) {
    grew = false;
    for (int j = 0; j < nstates; j++) {
      if (!live[j]) continue;
      state_reads(g, state[j], nstates, reads);
      for (int k = 0; k < nstates; k++)
        if (reads[k] && !live[k]) live[k] = grew = true;
    }
  }
}

bool rule_elementwise(const Graph *g) {
  for (NodeId id = 1; id < g->count; id++) {
    const Node *n = graph_node(g, id);
    if ((n->op == OP_SUMTO || n->op == OP_MAXTO) && graph_node(g, n->in[0])->shape.batched && !n->shape.batched)
      return false;
  }
  return true;
}

/* v's graph rebuilt with the leaves subst picks as zeros; signed_zeros: keeping x + 0 (the
 * zero-gradient version must store what the rule stores for g = +-0, -0 states included). */
static RuleVariant derive(const Rule *r, const RuleVariant *v, Subst *zero, const void *arg, bool signed_zeros) {
  NodeId roots[1 + RULE_MAX_STATES];
  int n = 0;
  roots[n++] = v->w;
  for (int k = 0; k < r->nstates; k++) roots[n++] = v->state[k] ? v->state[k] : v->w;
  RuleVariant d = *v;
  Graph *folded = rebuild(v->g, roots, n, zero, arg, signed_zeros);
  d.g = rebuild(folded, roots, n, nothing, NULL, signed_zeros); /* without what the folding left unused */
  graph_free(folded);
  d.w = roots[0];
  d.state = calloc((size_t)r->nstates + 1, sizeof(NodeId));
  if (!d.state) nnc_unreachable("out of memory");
  for (int k = 0; k < r->nstates; k++) d.state[k] = v->state[k] ? roots[1 + k] : 0;
  d.elementwise = rule_elementwise(d.g);
  return d;
}

void rule_compact(Rule *r) {
  RuleVariant *v = &r->variant[0];
  RuleVariant c = derive(r, v, nothing, NULL, false);
  graph_free(v->g);
  free(v->state);
  *v = c;
}

void rule_derive(Rule *r) {
  uint64_t zeros = 0;
  for (int k = 0; k < r->nhypers; k++)
    if (r->hypers[k].value == 0) zeros |= (uint64_t)1 << k;
  r->nvariants = 1;
  if (!zeros) return;
  RuleVariant *v = &r->variant[1];
  *v = derive(r, &r->variant[0], zero_hyper, &zeros, false);
  v->zeros = zeros;
  bool live0[RULE_MAX_STATES], live1[RULE_MAX_STATES];
  live_states(r->variant[0].g, r->variant[0].w, r->variant[0].state, r->nstates, live0);
  live_states(v->g, v->w, v->state, r->nstates, live1);
  bool dropped = false;
  for (int k = 0; k < r->nstates; k++)
    if (live0[k] && !live1[k]) v->state[k] = 0, dropped = true;
  if (dropped) { /* without the updates of the states it does not keep */
    RuleVariant c = derive(r, v, nothing, NULL, false);
    graph_free(v->g);
    free(v->state);
    *v = c;
  }
  r->nvariants = 2;
}

RuleVariant rule_zero_gradient(const Rule *r, const RuleVariant *v) { return derive(r, v, zero_g, NULL, true); }

bool rule_unchanged(const Rule *r, const RuleVariant *v) {
  const Node *w = graph_node(v->g, v->w);
  if (w->op != OP_SLOT || w->attr != SLOT_W) return false;
  for (int k = 0; k < r->nstates; k++) {
    if (!v->state[k]) continue; /* not kept: not stored */
    const Node *st = graph_node(v->g, v->state[k]);
    if (st->op != OP_SLOT || st->attr != SLOT_STATE + (uint32_t)k) return false;
  }
  return true;
}

/* ---- dumps ------------------------------------------------------------------------------ */

static void print_hyper(const RuleHyper *h, FILE *out) {
  fprintf(out, "%s", h->name);
  if (h->is_bool) {
    fprintf(out, ": bool = %s", h->value ? "true" : "false");
    return;
  }
  if (h->lo != -INFINITY || h->hi != INFINITY) {
    fprintf(out, ": %c", h->lo_open ? '(' : '[');
    if (h->lo == -INFINITY) fprintf(out, "-inf");
    else fprintf(out, "%g", h->lo);
    if (h->hi == INFINITY) fprintf(out, ", inf");
    else fprintf(out, ", %g", h->hi);
    fprintf(out, "%c", h->hi_open ? ')' : ']');
  }
  fprintf(out, " = %g", h->value);
}

static void print_variant(const Rule *r, const RuleVariant *v, FILE *out) {
  const Graph *g = v->g;
  for (NodeId id = 1; id < g->count; id++) {
    const Node *n = graph_node(g, id);
    fprintf(out, "    %%%u = %s", id, op_info[n->op].name);
    if (n->op == OP_SLOT)
      fprintf(out, " %s", n->attr == SLOT_W ? "w" : n->attr == SLOT_G ? "g" : r->states[n->attr - SLOT_STATE].name);
    else if (n->op == OP_HYPER)
      fprintf(out, " %s", n->attr == HYPER_STEP ? "step" : n->attr == HYPER_EPOCH ? "epoch" : r->hypers[n->attr].name);
    else if (n->op == OP_CONST)
      fprintf(out, " %g", n->value);
    for (int k = 0; k < op_info[n->op].arity; k++) fprintf(out, "%s%%%u", k ? ", " : " ", n->in[k]);
    fprintf(out, " : %s", n->shape.batched ? "per element" : "scalar");
    if (n->name) fprintf(out, "  # %s", n->name);
    fputc('\n', out);
  }
  fprintf(out, "    w = %%%u\n", v->w);
  for (int k = 0; k < r->nstates; k++) {
    if (v->state[k]) fprintf(out, "    %s = %%%u\n", r->states[k].name, v->state[k]);
    else fprintf(out, "    %s: not kept\n", r->states[k].name);
  }
}

void rule_print(const Rule *r, FILE *out) {
  static const char *const init_names[] = {"zeros", "ones", "constant", "uniform", "normal", "glorot_uniform",
                                           "glorot_normal", "he_uniform", "he_normal"};
  fprintf(out, "optimizer %s(", r->name);
  for (int k = 0; k < r->nhypers; k++) {
    if (k) fprintf(out, ", ");
    print_hyper(&r->hypers[k], out);
  }
  fprintf(out, ") {\n");
  for (int k = 0; k < r->nstates; k++) fprintf(out, "  state %s = %s\n", r->states[k].name, init_names[r->states[k].init]);
  for (int i = 0; i < r->nvariants; i++) {
    const RuleVariant *v = &r->variant[i];
    if (!v->zeros) {
      fprintf(out, "  as written%s:\n", v->elementwise ? "" : " (with whole-tensor reductions)");
    } else {
      fprintf(out, "  with");
      for (int k = 0, first = 1; k < r->nhypers; k++)
        if (v->zeros >> k & 1) fprintf(out, "%s %s", first ? "" : ",", r->hypers[k].name), first = 0;
      fprintf(out, " = 0:\n");
    }
    print_variant(r, v, out);
  }
  fprintf(out, "}\n");
}
