/* codegen_rule.c: update rules lowered to loops over a parameter's elements.
 *
 * A rule's graph (rule.c) says how one element of w and of each state changes, from the
 * same elements of w, g and the states and from scalars. Each variant of each rule becomes
 * a handful of internal helpers, shared by every parameter and entry point:
 *
 *   scalars(hyper, step, epoch, n, scal)   the rule's scalars (bias corrections, 1 - rho,
 *                                          ...), once per parameter per step, into scal
 *   flat(w, st, stride, g, n, scal, bad)   the update of n elements; state k of element c
 *                                          at st[k * stride + c]
 *   zero(w, st, stride, n, scal)           the same by a gradient known to be 0
 *   rows(w, st, stride, g, scale, i, j, k, n, scal, bad)
 *                                          elements i.. by scale * g[c], and j.., k.. (when
 *                                          not -1) by a zero gradient, in one loop
 *   split(ctx, lo, hi)                     flat over [lo, hi), for the runtime's threads
 *
 * Element code is emitted on vectors of the target's width, one or four to an iteration
 * (four where AVX-512 takes roots off the divider, and where the only sum carried is the
 * bad one and no square root bounds the loop), the vectors left after groups of four one
 * at a time when no reduction's order depends on it, then single floats; the operations
 * are the graph's, lane by lane, so every path rounds exactly as every other and the rows
 * helper's row equals flat's. On AVX-512 the
 * fourth vector takes its square roots from cg_exact_sqrt16, off the divider that the
 * others' roots and every division keep busy (rounded as vsqrtps: nothing changes).
 * A rule with whole-tensor reductions (LAMB's norms) runs in passes: each accumulates the
 * sums the next needs (single-threaded, in a fixed order), the last one stores. Only
 * reduction-free rules get zero, rows and split. bad collects whether a gradient element
 * was inf or NaN: the sum of g * 0 is NaN then, and 0 otherwise.
 *
 * The helpers, their table and nnc_rule_pick are a module of their own, which codegen.c
 * optimises by a lighter pipeline on a second thread while the entry points' module takes
 * -O2: the entry points reach the helpers only through the pointers nnc_rule_pick
 * returns, so the optimiser could learn nothing across the two anyway.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen_internal.h"

enum { GROUP = 4 };

#define PICK_NAME "nnc_rule_pick" /* defined here, declared in the entry points' module */

/* A variant's graph as the loops see it. */
typedef struct Lower {
  const Rule *r;
  const RuleVariant *v;
  const Graph *g;
  bool *need;       /* reachable from the kept results */
  uint8_t *phase;   /* whole-tensor reductions on the way from the leaves */
  int *scal;        /* an unbatched phase-0 node's index in scal[], or -1 */
  int npasses;      /* 1 + the phase of the results */
  bool has_sqrt;    /* a per-element square root (exact_sqrt applies) */
  bool reads_g;
} Lower;

static bool is_reduction(const Graph *g, const Node *n) {
  return (n->op == OP_SUMTO || n->op == OP_MAXTO) && graph_node(g, n->in[0])->shape.batched && !n->shape.batched;
}

static bool is_sqrt(const Graph *g, const Node *n) {
  if (n->op == OP_SQRT) return true;
  if (n->op != OP_POW) return false;
  const Node *e = graph_node(g, n->in[1]);
  return e->op == OP_CONST && e->value == 0.5f;
}

static void lower_init(Lower *L, const Rule *r, const RuleVariant *v, int *nscal) {
  const Graph *g = v->g;
  *L = (Lower){r, v, g, calloc(g->count, sizeof(bool)), calloc(g->count, 1), calloc(g->count, sizeof(int)), 1, false,
               false};
  if (!L->need || !L->phase || !L->scal) nnc_unreachable("out of memory");
  L->need[v->w] = true;
  for (int k = 0; k < r->nstates; k++)
    if (v->state[k]) L->need[v->state[k]] = true;
  for (NodeId id = g->count - 1; id >= 1; id--)
    if (L->need[id])
      for (int k = 0; k < op_info[g->nodes[id].op].arity; k++) L->need[g->nodes[id].in[k]] = true;
  for (NodeId id = 1; id < g->count; id++) {
    const Node *n = graph_node(g, id);
    L->scal[id] = -1;
    if (!L->need[id]) continue;
    uint8_t p = 0;
    for (int k = 0; k < op_info[n->op].arity; k++)
      if (L->phase[n->in[k]] > p) p = L->phase[n->in[k]];
    L->phase[id] = (uint8_t)(p + is_reduction(g, n));
    if (n->shape.batched && is_sqrt(g, n)) L->has_sqrt = true;
    if (n->op == OP_SLOT && n->attr == SLOT_G) L->reads_g = true;
    if (!n->shape.batched && L->phase[id] == 0 && n->op != OP_CONST) L->scal[id] = (*nscal)++;
  }
  int p = L->phase[v->w];
  for (int k = 0; k < r->nstates; k++)
    if (v->state[k] && L->phase[v->state[k]] > p) p = L->phase[v->state[k]];
  L->npasses = p + 1;
}

static void lower_free(Lower *L) {
  free(L->need);
  free(L->phase);
  free(L->scal);
}

/* ---- values ------------------------------------------------------------------------------ */

/* Where the element code reads its leaves, and the values it has made. */
typedef struct Emit {
  const Lower *L;
  LLVMTypeRef ty;
  bool exact;            /* square roots by cg_exact_sqrt16 */
  LLVMValueRef w, st, stride, c; /* w + c and st + k * stride + c are this element's */
  LLVMValueRef g;        /* the gradient's element (loaded by the caller), or NULL: 0 */
  LLVMValueRef *scalar;  /* per node: its f32 value in this helper, for unbatched nodes */
  LLVMValueRef *val;     /* per node: its value at this element, made on demand */
} Emit;

static LLVMValueRef load_ty(Cg *cg, LLVMTypeRef ty, LLVMValueRef p) {
  LLVMValueRef v = LLVMBuildLoad2(cg->b, ty, p, "");
  LLVMSetAlignment(v, 4);
  return v;
}

static void store_ty(Cg *cg, LLVMValueRef v, LLVMValueRef p) { LLVMSetAlignment(LLVMBuildStore(cg->b, v, p), 4); }

static LLVMValueRef state_ptr(Cg *cg, const Emit *E, int k) {
  LLVMValueRef off = LLVMBuildAdd(cg->b, LLVMBuildMul(cg->b, i64c(cg, k), E->stride, ""), E->c, "");
  return gep(cg, E->st, off);
}

static LLVMValueRef elem(Cg *cg, Emit *E, NodeId id) {
  if (E->val[id]) return E->val[id];
  const Graph *g = E->L->g;
  const Node *n = graph_node(g, id);
  LLVMValueRef v;
  if (!n->shape.batched) {
    if (n->op == OP_CONST) v = cg_fconst(cg, E->ty, n->value);
    else if (!E->scalar[id]) nnc_unreachable("a rule's scalar that no pass computed");
    else v = cg_splat(cg, E->scalar[id], E->ty);
  } else if (n->op == OP_SLOT) {
    if (n->attr == SLOT_W) v = load_ty(cg, E->ty, gep(cg, E->w, E->c));
    else if (n->attr == SLOT_G) v = E->g ? E->g : cg_fconst(cg, E->ty, 0);
    else v = load_ty(cg, E->ty, state_ptr(cg, E, (int)(n->attr - SLOT_STATE)));
  } else if (n->op == OP_CONST) {
    v = cg_fconst(cg, E->ty, n->value);
  } else if (E->exact && is_sqrt(g, n)) {
    v = cg_exact_sqrt16(cg, elem(cg, E, n->in[0]));
  } else if (op_info[n->op].elementwise || n->op == OP_BROADCAST) {
    LLVMValueRef in[NODE_MAX_IN];
    for (int k = 0; k < op_info[n->op].arity; k++) in[k] = elem(cg, E, n->in[k]);
    v = cg_scalar_op(cg, g, n, in);
  } else {
    nnc_unreachable("an op that is not elementwise in an update rule");
  }
  E->val[id] = v;
  return v;
}

/* Stores the element's results: computed first, all of them, as they read the old values. */
static void store_results(Cg *cg, Emit *E) {
  const Lower *L = E->L;
  LLVMValueRef out[1 + RULE_MAX_STATES];
  out[0] = elem(cg, E, L->v->w);
  for (int k = 0; k < L->r->nstates; k++) out[1 + k] = L->v->state[k] ? elem(cg, E, L->v->state[k]) : NULL;
  store_ty(cg, out[0], gep(cg, E->w, E->c));
  for (int k = 0; k < L->r->nstates; k++)
    if (out[1 + k]) store_ty(cg, out[1 + k], state_ptr(cg, E, k));
}

/* ---- loops ------------------------------------------------------------------------------- */

/* What a loop body keeps from one iteration to the next: the sums of a pass's reductions
 * (and maxima), and the sum of g * 0 that says whether g held an inf or a NaN. */
typedef struct Accs {
  int n;
  NodeId red[32];  /* the reductions, by node; 0: the bad-gradient sum */
  bool is_max[32];
} Accs;

typedef struct Body Body;
struct Body {
  /* one element (or vector) at c: v_acc in/out */
  void (*emit)(Cg *cg, const Body *b, LLVMValueRef c, LLVMTypeRef ty, bool exact, LLVMValueRef *acc);
  const Lower *L;
  Accs accs;
  LLVMValueRef *scalar;
  /* the helper's parameters */
  LLVMValueRef w, st, stride, g, scale, n;
  int pass;
  int zero_rows;         /* rows: rows j (and k) by zero */
  const Lower *Z;        /* rows: the g = 0 variant */
  LLVMValueRef *zscalar;
  LLVMValueRef off[3];   /* rows: i, j, k */
};

static LLVMValueRef acc_init(Cg *cg, const Accs *a, int k, LLVMTypeRef ty) {
  return cg_fconst(cg, ty, a->is_max[k] ? -1.0 / 0.0 : 0.0);
}

static LLVMValueRef acc_step(Cg *cg, bool is_max, LLVMValueRef acc, LLVMValueRef x) {
  if (is_max) return LLVMBuildSelect(cg->b, LLVMBuildFCmp(cg->b, LLVMRealOGE, acc, x, ""), acc, x, "");
  return LLVMBuildFAdd(cg->b, acc, x, "");
}

/* body over c in [0, n): groups of four vectors of the target's width, then one float at
 * a time; returns the accumulators combined, in a fixed order, into f32 values. With
 * tail_start, the floats after the last whole vector are left to the caller (from
 * *tail_start on). */
static void emit_loop_tail(Cg *cg, const Body *b, LLVMValueRef n, LLVMValueRef *total, LLVMValueRef *tail_start) {
  const Accs *a = &b->accs;
  int width = cg->gemm.width;
  /* four vectors an iteration where the fourth takes its roots off the divider, or where
   * the only sum is the bad one (0 or NaN in any order), which would otherwise be a chain
   * of one add per vector and bound the loop by the add's latency, unless the divider
   * bounds it anyway (a square root per element: there four vectors an iteration only
   * add register pressure); one else */
  bool rooted = b->L->has_sqrt || (b->Z && b->Z->has_sqrt);
  bool roots = width == 16 && rooted;
  bool only_bad = a->n == 1 && a->red[0] == 0;
  int group = roots || (only_bad && !rooted) ? GROUP : 1;
  LLVMValueRef start = i64c(cg, 0);
  LLVMValueRef vec_acc[GROUP][32];
  bool vectors = width > 1;
  if (vectors) {
    LLVMTypeRef vt = LLVMVectorType(cg->f32, (unsigned)width);
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(cg->b);
    Loop l;
    LLVMValueRef it = loop_begin(cg, LLVMBuildUDiv(cg->b, n, i64c(cg, width * group), ""), &l);
    LLVMValueRef phis[GROUP * 32], next[GROUP * 32];
    for (int m = 0; m < group; m++)
      for (int k = 0; k < a->n; k++) phis[m * a->n + k] = carried(cg, &l, acc_init(cg, a, k, vt), pre);
    LLVMValueRef c = LLVMBuildMul(cg->b, it, i64c(cg, width * group), "");
    for (int m = 0; m < group; m++) {
      LLVMValueRef acc[32];
      for (int k = 0; k < a->n; k++) acc[k] = phis[m * a->n + k];
      b->emit(cg, b, LLVMBuildAdd(cg->b, c, i64c(cg, width * m), ""), vt, roots && m == GROUP - 1, acc);
      for (int k = 0; k < a->n; k++) next[m * a->n + k] = acc[k];
    }
    loop_end_carry(cg, &l, phis, next, group * a->n);
    for (int m = 0; m < GROUP; m++)
      for (int k = 0; k < a->n; k++) vec_acc[m][k] = phis[(m < group ? m : 0) * a->n + k];
    start = LLVMBuildSub(cg->b, n, LLVMBuildURem(cg->b, n, i64c(cg, width * group), ""), "");
    /* the whole vectors after the groups, one an iteration, unless a reduction's order
     * would change: W2's rows of ten at batch 1 would otherwise go all by floats */
    bool ordered = false;
    for (int k = 0; k < a->n; k++) ordered |= a->red[k] != 0;
    if (group > 1 && !ordered) {
      LLVMBasicBlockRef pre2 = LLVMGetInsertBlock(cg->b);
      Loop l2;
      LLVMValueRef it2 = loop_begin(cg, LLVMBuildUDiv(cg->b, LLVMBuildSub(cg->b, n, start, ""), i64c(cg, width), ""), &l2);
      LLVMValueRef phis2[32], acc2[32];
      for (int k = 0; k < a->n; k++) phis2[k] = acc2[k] = carried(cg, &l2, acc_init(cg, a, k, vt), pre2);
      b->emit(cg, b, LLVMBuildAdd(cg->b, start, LLVMBuildMul(cg->b, it2, i64c(cg, width), ""), ""), vt, false, acc2);
      loop_end_carry(cg, &l2, phis2, acc2, a->n);
      for (int k = 0; k < a->n; k++) vec_acc[0][k] = acc_step(cg, a->is_max[k], vec_acc[0][k], phis2[k]);
      start = LLVMBuildSub(cg->b, n, LLVMBuildURem(cg->b, n, i64c(cg, width), ""), "");
    }
  }
  LLVMValueRef phis[32] = {0}, acc[32];
  if (tail_start && vectors) {
    *tail_start = start;
  } else {
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(cg->b);
    Loop l;
    LLVMValueRef t = loop_begin(cg, LLVMBuildSub(cg->b, n, start, ""), &l);
    for (int k = 0; k < a->n; k++) phis[k] = acc[k] = carried(cg, &l, acc_init(cg, a, k, cg->f32), pre);
    b->emit(cg, b, LLVMBuildAdd(cg->b, start, t, ""), cg->f32, false, acc);
    loop_end_carry(cg, &l, phis, acc, a->n);
  }
  for (int k = 0; k < a->n; k++) {
    LLVMValueRef s = NULL;
    if (vectors) { /* (v0 + v1) + (v2 + v3) (or v0 alone), then the lanes in order */
      LLVMValueRef v = vec_acc[0][k];
      if (group == GROUP) {
        LLVMValueRef v01 = acc_step(cg, a->is_max[k], vec_acc[0][k], vec_acc[1][k]);
        LLVMValueRef v23 = acc_step(cg, a->is_max[k], vec_acc[2][k], vec_acc[3][k]);
        v = acc_step(cg, a->is_max[k], v01, v23);
      }
      s = LLVMBuildExtractElement(cg->b, v, LLVMConstInt(cg->i32, 0, false), "");
      for (int lane = 1; lane < width; lane++)
        s = acc_step(cg, a->is_max[k], s, LLVMBuildExtractElement(cg->b, v, LLVMConstInt(cg->i32, (unsigned)lane, false), ""));
    }
    total[k] = !phis[k] ? s : s ? acc_step(cg, a->is_max[k], s, phis[k]) : phis[k];
  }
}

static void emit_loop(Cg *cg, const Body *b, LLVMValueRef n, LLVMValueRef *total) {
  emit_loop_tail(cg, b, n, total, NULL);
}

/* The pass's reductions of Lower L (phase == pass + 1) into a->red, and the bad sum. */
static void pass_accs(const Lower *L, int pass, bool check_g, Accs *a) {
  a->n = 0;
  for (NodeId id = 1; id < L->g->count; id++) {
    const Node *n = graph_node(L->g, id);
    if (!L->need[id] || !is_reduction(L->g, n) || L->phase[id] != pass + 1) continue;
    if (a->n == 31) nnc_unreachable("too many reductions in one pass of a rule");
    a->is_max[a->n] = n->op == OP_MAXTO;
    a->red[a->n++] = id;
  }
  if (check_g) a->is_max[a->n] = false, a->red[a->n++] = 0;
}

static void flat_emit(Cg *cg, const Body *b, LLVMValueRef c, LLVMTypeRef ty, bool exact, LLVMValueRef *acc) {
  const Lower *L = b->L;
  LLVMValueRef *val = calloc(L->g->count, sizeof *val);
  if (!val) nnc_unreachable("out of memory");
  Emit E = {L, ty, exact && L->has_sqrt, b->w, b->st, b->stride, c, NULL, b->scalar, val};
  if (L->reads_g) E.g = load_ty(cg, ty, gep(cg, b->g, c));
  for (int k = 0; k < b->accs.n; k++) {
    NodeId r = b->accs.red[k];
    LLVMValueRef x = r ? elem(cg, &E, graph_node(L->g, r)->in[0])
                       : LLVMBuildFMul(cg->b, E.g, cg_fconst(cg, ty, 0), ""); /* NaN iff g is not finite */
    acc[k] = acc_step(cg, b->accs.is_max[k], acc[k], x);
  }
  if (b->pass == L->npasses - 1) store_results(cg, &E);
  free(val);
}

/* rows: row i by scale * g, then rows j (and k) by zero, in the same loop */
static void rows_emit(Cg *cg, const Body *b, LLVMValueRef c, LLVMTypeRef ty, bool exact, LLVMValueRef *acc) {
  const Lower *L = b->L;
  LLVMValueRef *val = calloc(L->g->count > b->Z->g->count ? L->g->count : b->Z->g->count, sizeof *val);
  if (!val) nnc_unreachable("out of memory");
  LLVMValueRef gv = LLVMBuildFMul(cg->b, cg_splat(cg, b->scale, ty), load_ty(cg, ty, gep(cg, b->g, c)), "g");
  Emit E = {L, ty, exact && L->has_sqrt, gep(cg, b->w, b->off[0]), gep(cg, b->st, b->off[0]), b->stride, c, gv,
            b->scalar, val};
  if (b->accs.n) acc[0] = acc_step(cg, false, acc[0], LLVMBuildFMul(cg->b, gv, cg_fconst(cg, ty, 0), ""));
  store_results(cg, &E);
  for (int t = 0; t < b->zero_rows; t++) {
    memset(val, 0, b->Z->g->count * sizeof *val);
    Emit Z = {b->Z, ty, exact && b->Z->has_sqrt, gep(cg, b->w, b->off[1 + t]), gep(cg, b->st, b->off[1 + t]),
              b->stride, c, NULL, b->zscalar, val};
    store_results(cg, &Z);
  }
  free(val);
}

/* ---- the helpers ------------------------------------------------------------------------- */

/* Loads the scalars of L that element code or later passes read, at the helper's entry. */
static LLVMValueRef *load_scalars(Cg *cg, const Lower *L, LLVMValueRef scal, int base) {
  LLVMValueRef *s = calloc(L->g->count, sizeof *s);
  if (!s) nnc_unreachable("out of memory");
  for (NodeId id = 1; id < L->g->count; id++)
    if (L->scal[id] >= 0)
      s[id] = LLVMBuildLoad2(cg->b, cg->f32, gep(cg, scal, i64c(cg, base + L->scal[id])), "");
  return s;
}

/* The unbatched nodes of phase p (p >= 1) from the totals of the pass before, in id order. */
static void later_scalars(Cg *cg, const Lower *L, int p, LLVMValueRef *scalar) {
  for (NodeId id = 1; id < L->g->count; id++) {
    const Node *n = graph_node(L->g, id);
    if (!L->need[id] || n->shape.batched || L->phase[id] != p || is_reduction(L->g, n) || n->op == OP_CONST) continue;
    LLVMValueRef in[NODE_MAX_IN];
    for (int k = 0; k < op_info[n->op].arity; k++) {
      const Node *x = graph_node(L->g, n->in[k]);
      in[k] = x->op == OP_CONST ? f32c(cg, x->value) : scalar[n->in[k]];
    }
    scalar[id] = cg_scalar_op(cg, L->g, n, in);
  }
}

/* Sets *bad, "a gradient element was not finite", when sum is NaN (atomically: the threads
 * share it; and only then: a locked OR a call is as dear as a row's update at batch 1). */
static void note_bad(Cg *cg, LLVMValueRef bad, LLVMValueRef sum) {
  LLVMValueRef fn = LLVMGetBasicBlockParent(LLVMGetInsertBlock(cg->b));
  LLVMBasicBlockRef set = LLVMAppendBasicBlockInContext(cg->ctx, fn, "bad");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(cg->ctx, fn, "checked");
  LLVMBuildCondBr(cg->b, LLVMBuildFCmp(cg->b, LLVMRealUNO, sum, sum, ""), set, done);
  LLVMPositionBuilderAtEnd(cg->b, set);
  LLVMBuildAtomicRMW(cg->b, LLVMAtomicRMWBinOpOr, bad, LLVMConstInt(cg->i32, 1, false), LLVMAtomicOrderingMonotonic, false);
  LLVMBuildBr(cg->b, done);
  LLVMPositionBuilderAtEnd(cg->b, done);
}

static LLVMValueRef begin_helper(Cg *cg, const char *rule, int variant, const char *what, LLVMTypeRef ty) {
  char name[160];
  snprintf(name, sizeof name, "nnc_rule_%s_%d_%s", rule, variant, what);
  LLVMValueRef fn = cg_helper(cg, name, ty);
  cg->fn = fn;
  LLVMPositionBuilderAtEnd(cg->b, LLVMAppendBasicBlockInContext(cg->ctx, fn, "entry"));
  return fn;
}

/* scalars(hyper, step, epoch, n, scal): every unbatched phase-0 node of L (at base) and of
 * Z (at zbase), in id order. */
static void emit_scalars_of(Cg *cg, const Lower *L, LLVMValueRef hyper, LLVMValueRef step, LLVMValueRef epoch,
                            LLVMValueRef n, LLVMValueRef scal, int base) {
  LLVMValueRef *v = calloc(L->g->count, sizeof *v);
  if (!v) nnc_unreachable("out of memory");
  for (NodeId id = 1; id < L->g->count; id++) {
    const Node *nd = graph_node(L->g, id);
    if (L->scal[id] < 0) continue;
    switch (nd->op) {
    case OP_HYPER:
      if (nd->attr == HYPER_STEP || nd->attr == HYPER_EPOCH)
        v[id] = LLVMBuildSIToFP(cg->b, nd->attr == HYPER_STEP ? step : epoch, cg->f32, "");
      else
        v[id] = LLVMBuildLoad2(cg->b, cg->f32, gep(cg, hyper, i64c(cg, nd->attr)), "");
      break;
    case OP_BATCH: v[id] = LLVMBuildSIToFP(cg->b, n, cg->f32, "n"); break;
    default: {
      LLVMValueRef in[NODE_MAX_IN];
      for (int k = 0; k < op_info[nd->op].arity; k++) {
        const Node *x = graph_node(L->g, nd->in[k]);
        in[k] = x->op == OP_CONST ? f32c(cg, x->value) : v[nd->in[k]];
      }
      if (!op_info[nd->op].elementwise) nnc_unreachable("a rule's scalar that is not elementwise");
      v[id] = cg_scalar_op(cg, L->g, nd, in);
    }
    }
    LLVMBuildStore(cg->b, v[id], gep(cg, scal, i64c(cg, base + L->scal[id])));
  }
  free(v);
}

/* A rule's variant as written gets the row helpers only when it has no other: with a
 * hyperparameter that defaults to 0 set otherwise (weight decay, say) a zero gradient row
 * is no longer a cheap update, and the row helpers, the largest code of a model, would
 * double the compile time of every model for a case the whole-gradient path serves. A
 * model without a product to fuse (cg->rule_rows) gets no row helpers at all, and one
 * without a parameter large enough to split (cg->rule_split) no split helpers: nothing
 * would call them. */
static void build_variant(Cg *cg, const Rule *r, int vi, RuleCode *code) {
  const RuleVariant *v = &r->variant[vi];
  Lower L, Z;
  int nscal = 0;
  lower_init(&L, r, v, &nscal);
  RuleVariant zv = {0};
  bool elementwise = v->elementwise;
  bool rowwise = elementwise && vi == r->nvariants - 1 && cg->rule_rows;
  if (rowwise) {
    zv = rule_zero_gradient(r, v);
    lower_init(&Z, r, &zv, &nscal);
  }
  code->nscal = nscal;
  code->elementwise = elementwise;
  code->rowwise = rowwise;
  LLVMTypeRef vd = LLVMVoidTypeInContext(cg->ctx), P = cg->ptr, I = cg->i64;

  /* scalars */
  code->scalars = begin_helper(cg, r->name, vi, "scalars", LLVMFunctionType(vd, (LLVMTypeRef[]){P, I, I, I, P}, 5, false));
  LLVMValueRef p[12];
  for (unsigned i = 0; i < 5; i++) p[i] = LLVMGetParam(code->scalars, i);
  emit_scalars_of(cg, &L, p[0], p[1], p[2], p[3], p[4], 0);
  if (rowwise) emit_scalars_of(cg, &Z, p[0], p[1], p[2], p[3], p[4], 0);
  LLVMBuildRetVoid(cg->b);

  /* flat(w, st, stride, g, n, scal, bad) */
  code->flat = begin_helper(cg, r->name, vi, "flat", cg->rule_flat_ty);
  for (unsigned i = 0; i < 7; i++) p[i] = LLVMGetParam(code->flat, i);
  Body b = {flat_emit, &L, {0}, load_scalars(cg, &L, p[5], 0), p[0], p[1], p[2], p[3], NULL, p[4], 0, 0, NULL, NULL,
            {NULL, NULL, NULL}};
  for (int pass = 0; pass < L.npasses; pass++) {
    b.pass = pass;
    pass_accs(&L, pass, pass == L.npasses - 1 && L.reads_g, &b.accs);
    LLVMValueRef total[32];
    emit_loop(cg, &b, p[4], total);
    for (int k = 0; k < b.accs.n; k++) {
      if (b.accs.red[k]) b.scalar[b.accs.red[k]] = total[k];
      else note_bad(cg, p[6], total[k]);
    }
    later_scalars(cg, &L, pass + 1, b.scalar);
  }
  LLVMBuildRetVoid(cg->b);
  free(b.scalar);

  if (rowwise) {
    /* zero(w, st, stride, n, scal); nothing at all, and no zero rows in rows' loop, when a
     * zero gradient changes nothing (SGD's), where they would load and store every
     * element of half of the rows at batch 1 for nothing */
    bool unchanged = rule_unchanged(r, &zv);
    code->zero = begin_helper(cg, r->name, vi, "zero", cg->rule_zero_ty);
    for (unsigned i = 0; i < 5; i++) p[i] = LLVMGetParam(code->zero, i);
    Body z = {flat_emit, &Z, {0}, load_scalars(cg, &Z, p[4], 0), p[0], p[1], p[2], NULL, NULL, p[3], 0, 0, NULL, NULL,
              {NULL, NULL, NULL}};
    LLVMValueRef none[1];
    if (!unchanged) emit_loop(cg, &z, p[3], none);
    LLVMBuildRetVoid(cg->b);
    free(z.scalar);

    /* rows(w, st, stride, g, scale, i, j, k, n, scal, bad): with no, one or two zero rows */
    code->rows = begin_helper(cg, r->name, vi, "rows", cg->rule_rows_ty);
    for (unsigned i = 0; i < 11; i++) p[i] = LLVMGetParam(code->rows, i);
    LLVMValueRef *ls = load_scalars(cg, &L, p[9], 0), *zs = load_scalars(cg, &Z, p[9], 0);
    LLVMValueRef gtail = cg->gemm.width > 1 ? cg_entry_alloca(cg, LLVMArrayType2(cg->f32, (uint64_t)cg->gemm.width * GROUP), "g_tail") : NULL;
    LLVMBasicBlockRef bb[3], some = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "some");
    for (int t = 0; t < 3; t++) bb[t] = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "zero_rows");
    LLVMValueRef none_j = LLVMBuildICmp(cg->b, LLVMIntSLT, p[6], i64c(cg, 0), "");
    LLVMBuildCondBr(cg->b, none_j, bb[0], some);
    LLVMPositionBuilderAtEnd(cg->b, some);
    LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntSLT, p[7], i64c(cg, 0), ""), bb[1], bb[2]);
    for (int t = 0; t < 3; t++) {
      LLVMPositionBuilderAtEnd(cg->b, bb[t]);
      int zero_rows = unchanged ? 0 : t; /* the partners this block updates */
      Body rb = {rows_emit, &L, {0}, ls, p[0], p[1], p[2], p[3], p[4], p[8], 0, zero_rows, &Z, zs, {p[5], p[6], p[7]}};
      if (!gtail) { /* no vectors: one float at a time, all of the row */
        pass_accs(&L, 0, L.reads_g, &rb.accs);
        LLVMValueRef total[32];
        emit_loop(cg, &rb, p[8], total);
        if (rb.accs.n) note_bad(cg, p[10], total[0]);
        LLVMBuildRetVoid(cg->b);
        continue;
      }
      /* the whole vectors here; the floats after them (fewer than a vector's worth, or
       * than GROUP vectors' where a reduction keeps the groups whole: g_tail's size) by
       * flat (on scale * g, formed as the vectors form it) and zero: the same
       * operations, without copies of the element code for the tails */
      pass_accs(&L, 0, L.reads_g, &rb.accs);
      LLVMValueRef total[32], start;
      emit_loop_tail(cg, &rb, p[8], total, &start);
      if (rb.accs.n) note_bad(cg, p[10], total[0]);
      LLVMValueRef left = LLVMBuildSub(cg->b, p[8], start, "");
      Loop lt;
      LLVMValueRef c = loop_begin(cg, left, &lt);
      LLVMValueRef gc = LLVMBuildLoad2(cg->b, cg->f32, gep(cg, p[3], LLVMBuildAdd(cg->b, start, c, "")), "");
      LLVMBuildStore(cg->b, LLVMBuildFMul(cg->b, p[4], gc, ""), gep(cg, gtail, c));
      loop_end(cg, &lt);
      LLVMValueRef at = LLVMBuildAdd(cg->b, p[5], start, "");
      LLVMBuildCall2(cg->b, cg->rule_flat_ty, code->flat,
                     (LLVMValueRef[]){gep(cg, p[0], at), gep(cg, p[1], at), p[2], gtail, left, p[9], p[10]}, 7, "");
      for (int z = 0; z < zero_rows; z++) {
        LLVMValueRef zat = LLVMBuildAdd(cg->b, p[6 + z], start, "");
        LLVMBuildCall2(cg->b, cg->rule_zero_ty, code->zero,
                       (LLVMValueRef[]){gep(cg, p[0], zat), gep(cg, p[1], zat), p[2], left, p[9]}, 5, "");
      }
      LLVMBuildRetVoid(cg->b);
    }
    free(ls);
    free(zs);
    lower_free(&Z);
    graph_free(zv.g);
    free(zv.state);
  }
  if (elementwise && cg->rule_split) {
    /* split(ctx = {w, st, stride, g, scal, bad}, lo, hi) */
    code->split = begin_helper(cg, r->name, vi, "split",
                               LLVMFunctionType(vd, (LLVMTypeRef[]){P, I, I}, 3, false));
    LLVMTypeRef ct = cg_rule_split_ctx(cg);
    LLVMValueRef ctx = LLVMGetParam(code->split, 0), lo = LLVMGetParam(code->split, 1), hi = LLVMGetParam(code->split, 2);
    LLVMValueRef f[6];
    for (unsigned i = 0; i < 6; i++)
      f[i] = LLVMBuildLoad2(cg->b, i == 2 ? cg->i64 : cg->ptr, LLVMBuildStructGEP2(cg->b, ct, ctx, i, ""), "");
    LLVMBuildCall2(cg->b, cg->rule_flat_ty, code->flat,
                   (LLVMValueRef[]){gep(cg, f[0], lo), gep(cg, f[1], lo), f[2], gep(cg, f[3], lo),
                                    LLVMBuildSub(cg->b, hi, lo, ""), f[4], f[5]},
                   7, "");
    LLVMBuildRetVoid(cg->b);
  }
  lower_free(&L);
}

static void emit_pick(Cg *cg);

LLVMTypeRef cg_rule_split_ctx(Cg *cg) {
  return LLVMStructTypeInContext(cg->ctx, (LLVMTypeRef[]){cg->ptr, cg->ptr, cg->i64, cg->ptr, cg->ptr, cg->ptr}, 6,
                                 false);
}

/* The helpers' function types, in cg's context. */
static void rule_types(Cg *cg) {
  LLVMTypeRef vd = LLVMVoidTypeInContext(cg->ctx), P = cg->ptr, I = cg->i64;
  cg->rule_flat_ty = LLVMFunctionType(vd, (LLVMTypeRef[]){P, P, I, P, I, P, P}, 7, false);
  cg->rule_zero_ty = LLVMFunctionType(vd, (LLVMTypeRef[]){P, P, I, I, P}, 5, false);
  cg->rule_rows_ty = LLVMFunctionType(vd, (LLVMTypeRef[]){P, P, I, P, cg->f32, I, I, I, I, P, P}, 11, false);
  cg->rule_scalars_ty = LLVMFunctionType(vd, (LLVMTypeRef[]){P, I, I, I, P}, 5, false);
  cg->rule_pick_ty = LLVMFunctionType(cg->ptr, (LLVMTypeRef[]){cg->i32, cg->ptr}, 2, false);
}

/* Updates of at least this many elements are split across the runtime's threads (RMSprop's,
 * bound by the divider, take about 18 us at this size); only a rule without whole-tensor
 * reductions can be split. */
enum { PARALLEL_MIN_UPDATE = 1 << 16 };

void cg_emit_rules(Cg *cg, const Plan *train) {
  rule_types(cg);
  const Graph *g = cg->full;
  for (int i = 0; i < g->nparams; i++) {
    if (train->deferred[i]) cg->rule_rows = true;
    if (shape_size(g->params[i].shape) >= PARALLEL_MIN_UPDATE) cg->rule_split = true;
  }
  cg->rule_code = calloc((size_t)g->nrules + 1, sizeof *cg->rule_code);
  if (!cg->rule_code) nnc_unreachable("out of memory");
  LLVMValueRef saved_fn = cg->fn;
  LLVMBasicBlockRef saved_bb = cg->fn ? LLVMGetInsertBlock(cg->b) : NULL;
  for (int i = 0; i < g->nrules; i++)
    for (int v = 0; v < g->rules[i].nvariants; v++) {
      build_variant(cg, &g->rules[i], v, &cg->rule_code[i][v]);
      if (cg->rule_code[i][v].nscal > cg->rule_nscal) cg->rule_nscal = cg->rule_code[i][v].nscal;
    }
  if (cg->rule_nscal < 1) cg->rule_nscal = 1;
  emit_pick(cg);
  cg->fn = saved_fn;
  if (saved_bb) LLVMPositionBuilderAtEnd(cg->b, saved_bb);
}

/* ---- calling them ------------------------------------------------------------------------ */

/* The helpers of every rule's variants in one constant table, entry rule * 2 + variant (a
 * rule with one variant has it twice): the entry points look their rule up at run time
 * instead of switching over the rules at every parameter, which kept their code (and the
 * compile time) proportional to the parameters, not to the parameters times the rules. */
enum { ENTRY_SCALARS, ENTRY_FLAT, ENTRY_ZERO, ENTRY_ROWS, ENTRY_SPLIT, ENTRY_ROWWISE, ENTRY_FIELDS };

static LLVMTypeRef entry_type(Cg *cg) {
  LLVMTypeRef P = cg->ptr;
  return LLVMStructTypeInContext(cg->ctx, (LLVMTypeRef[]){P, P, P, P, P, cg->i32}, ENTRY_FIELDS, false);
}

/* RuleEntry *nnc_rule_pick(i32 rule, const float *hyper): the variant whose folded
 * hyperparameters (zeros[rule], a mask) are all 0 in hyper, else the rule as written. */
static void emit_pick(Cg *cg) {
  const Graph *g = cg->full;
  int n = g->nrules > 0 ? g->nrules : 1;
  LLVMValueRef *rows = calloc((size_t)n * 2, sizeof *rows), *masks = calloc((size_t)n, sizeof *masks);
  if (!rows || !masks) nnc_unreachable("out of memory");
  LLVMValueRef null = LLVMConstNull(cg->ptr);
  LLVMTypeRef et = entry_type(cg);
  for (int i = 0; i < n; i++) {
    for (int v = 0; v < 2; v++) {
      if (i >= g->nrules) {
        rows[2 * i + v] = LLVMConstNamedStruct(et, (LLVMValueRef[]){null, null, null, null, null, LLVMConstInt(cg->i32, 0, false)}, 6);
        continue;
      }
      const RuleCode *c = &cg->rule_code[i][v < g->rules[i].nvariants ? v : 0];
      LLVMValueRef f[ENTRY_FIELDS] = {c->scalars, c->flat, c->zero ? c->zero : null, c->rows ? c->rows : null,
                                      c->split ? c->split : null, LLVMConstInt(cg->i32, c->rowwise, false)};
      rows[2 * i + v] = LLVMConstStructInContext(cg->ctx, f, ENTRY_FIELDS, false);
    }
    uint64_t zeros = i < g->nrules && g->rules[i].nvariants == 2 ? g->rules[i].variant[1].zeros : 0;
    masks[i] = LLVMConstInt(cg->i64, zeros, false);
  }
  LLVMValueRef init = LLVMConstArray2(et, rows, (uint64_t)n * 2);
  LLVMValueRef table = LLVMAddGlobal(cg->mod, LLVMTypeOf(init), "nnc_rule_table");
  LLVMSetInitializer(table, init);
  LLVMSetGlobalConstant(table, true);
  LLVMSetLinkage(table, LLVMPrivateLinkage);
  LLVMValueRef minit = LLVMConstArray2(cg->i64, masks, (uint64_t)n);
  LLVMValueRef mtable = LLVMAddGlobal(cg->mod, LLVMTypeOf(minit), "nnc_rule_zeros");
  LLVMSetInitializer(mtable, minit);
  LLVMSetGlobalConstant(mtable, true);
  LLVMSetLinkage(mtable, LLVMPrivateLinkage);
  free(rows);
  free(masks);

  LLVMValueRef fn = cg_helper(cg, PICK_NAME, cg->rule_pick_ty);
  /* the one symbol the entry points' module reads from this one */
  LLVMSetLinkage(fn, LLVMExternalLinkage);
  LLVMSetVisibility(fn, LLVMHiddenVisibility);
  cg->fn = fn;
  LLVMBuilderRef b = cg->b;
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(cg->ctx, fn, "entry"));
  LLVMValueRef rule = LLVMBuildSExt(b, LLVMGetParam(fn, 0), cg->i64, ""), hyper = LLVMGetParam(fn, 1);
  LLVMValueRef mask = LLVMBuildLoad2(b, cg->i64, LLVMBuildInBoundsGEP2(b, cg->i64, mtable, &rule, 1, ""), "");
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(b);
  Loop l;
  LLVMValueRef k = loop_begin(cg, i64c(cg, RULE_MAX_HYPERS), &l);
  LLVMValueRef folded = carried(cg, &l, LLVMConstInt(LLVMInt1TypeInContext(cg->ctx), 1, false), pre);
  LLVMValueRef bit = LLVMBuildICmp(b, LLVMIntNE, LLVMBuildAnd(b, LLVMBuildLShr(b, mask, k, ""), i64c(cg, 1), ""),
                                   i64c(cg, 0), "");
  /* (the hyperparameter is read only where the mask has its bit: the array may be shorter) */
  LLVMBasicBlockRef test = LLVMAppendBasicBlockInContext(cg->ctx, fn, "test"), next = LLVMAppendBasicBlockInContext(cg->ctx, fn, "next");
  LLVMBasicBlockRef here = LLVMGetInsertBlock(b);
  LLVMBuildCondBr(b, bit, test, next);
  LLVMPositionBuilderAtEnd(b, test);
  LLVMValueRef zero = LLVMBuildFCmp(b, LLVMRealOEQ, LLVMBuildLoad2(b, cg->f32, gep(cg, hyper, k), ""), f32c(cg, 0), "");
  LLVMValueRef f2 = LLVMBuildAnd(b, folded, zero, "");
  LLVMBuildBr(b, next);
  LLVMPositionBuilderAtEnd(b, next);
  LLVMValueRef still = LLVMBuildPhi(b, LLVMInt1TypeInContext(cg->ctx), "");
  LLVMAddIncoming(still, (LLVMValueRef[]){folded, f2}, (LLVMBasicBlockRef[]){here, test}, 2);
  loop_end_carry(cg, &l, &folded, &still, 1);
  LLVMValueRef v = LLVMBuildSelect(b, LLVMBuildAnd(b, folded, LLVMBuildICmp(b, LLVMIntNE, mask, i64c(cg, 0), ""), ""),
                                   i64c(cg, 1), i64c(cg, 0), "");
  LLVMValueRef at = LLVMBuildAdd(b, LLVMBuildMul(b, rule, i64c(cg, 2), ""), v, "");
  LLVMBuildRet(b, LLVMBuildInBoundsGEP2(b, et, table, &at, 1, ""));
  cg->rule_pick = fn;
}

void cg_declare_rules(Cg *cg, const Cg *rules) {
  rule_types(cg);
  cg->rule_nscal = rules->rule_nscal;
  cg->rule_pick = LLVMAddFunction(cg->mod, PICK_NAME, cg->rule_pick_ty);
  LLVMSetVisibility(cg->rule_pick, LLVMHiddenVisibility);
}

RuleCall cg_rule_pick(Cg *cg, LLVMValueRef rule, LLVMValueRef hyper, LLVMValueRef step, LLVMValueRef epoch,
                      LLVMValueRef n) {
  LLVMBuilderRef b = cg->b;
  if (!cg->rule_scal) cg->rule_scal = cg_entry_alloca(cg, LLVMArrayType2(cg->f32, (uint64_t)cg->rule_nscal), "rule_scalars");
  LLVMValueRef e = LLVMBuildCall2(b, cg->rule_pick_ty, cg->rule_pick, (LLVMValueRef[]){rule, hyper}, 2, "");
  LLVMTypeRef et = entry_type(cg);
  LLVMValueRef f[ENTRY_FIELDS];
  for (unsigned i = 0; i < ENTRY_FIELDS; i++)
    f[i] = LLVMBuildLoad2(b, i == ENTRY_ROWWISE ? cg->i32 : cg->ptr, LLVMBuildStructGEP2(b, et, e, i, ""), "");
  LLVMBuildCall2(b, cg->rule_scalars_ty, f[ENTRY_SCALARS], (LLVMValueRef[]){hyper, step, epoch, n, cg->rule_scal}, 5, "");
  return (RuleCall){f[ENTRY_SCALARS], f[ENTRY_FLAT], f[ENTRY_ZERO], f[ENTRY_ROWS], f[ENTRY_SPLIT],
                    LLVMBuildICmp(b, LLVMIntNE, f[ENTRY_ROWWISE], LLVMConstInt(cg->i32, 0, false), ""),
                    LLVMBuildIsNotNull(b, f[ENTRY_SPLIT], ""), cg->rule_scal};
}

void cg_rule_flat(Cg *cg, const RuleCall *c, LLVMValueRef w, LLVMValueRef st, LLVMValueRef g, int64_t n, LLVMValueRef bad) {
  LLVMValueRef stride = i64c(cg, cg->full_param_floats), nn = i64c(cg, n);
  if (n < PARALLEL_MIN_UPDATE) {
    LLVMBuildCall2(cg->b, cg->rule_flat_ty, c->flat, (LLVMValueRef[]){w, st, stride, g, nn, c->scal, bad}, 7, "");
    return;
  }
  LLVMTypeRef ct = cg_rule_split_ctx(cg);
  LLVMValueRef ctx = cg_entry_alloca(cg, ct, "update_ctx");
  LLVMValueRef vals[6] = {w, st, stride, g, c->scal, bad};
  for (unsigned i = 0; i < 6; i++) LLVMBuildStore(cg->b, vals[i], LLVMBuildStructGEP2(cg->b, ct, ctx, i, ""));
  LLVMBasicBlockRef split = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "split");
  LLVMBasicBlockRef whole = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "whole");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "updated");
  LLVMBuildCondBr(cg->b, c->splittable, split, whole);
  LLVMPositionBuilderAtEnd(cg->b, split);
  cg_parallel_call(cg, c->split, ctx, nn, LLVMConstInt(LLVMInt1TypeInContext(cg->ctx), 1, false));
  LLVMBuildBr(cg->b, done);
  LLVMPositionBuilderAtEnd(cg->b, whole);
  LLVMBuildCall2(cg->b, cg->rule_flat_ty, c->flat, (LLVMValueRef[]){w, st, stride, g, nn, c->scal, bad}, 7, "");
  LLVMBuildBr(cg->b, done);
  LLVMPositionBuilderAtEnd(cg->b, done);
}
