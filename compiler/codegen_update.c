/* codegen_update.c: the entry points that train: train, gradient and apply_update.
 *
 * train is the step with the update rule applied to every parameter, in the order the
 * plan gives (after every read of what each update overwrites). A dense layer's weight
 * gradient at small batches is an outer product x^T dy, which train never forms: each of
 * its rows is made and consumed by the rule's rows helper at once (codegen_rule.c), so the
 * weights are read and written once per step, and a row whose x is zero (half of
 * Fashion-MNIST's pixels at batch 1) takes the update by a zero gradient, in the shadow of
 * a full row's. gradient is the same step that writes the gradient instead, computing every
 * product exactly as train does (the same row sums at small batches, the same GEMM at large
 * ones), and apply_update is the rule on that gradient, through the same helpers: so
 * train and gradient + apply_update leave the same bits, at every batch size, and the
 * runtime can clip or accumulate the whole gradient in between.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen_internal.h"

static LLVMValueRef load_i64(Cg *cg, LLVMValueRef p) { return LLVMBuildLoad2(cg->b, cg->i64, p, ""); }

/* The row lists of the fused outer update hold i32 row numbers (at most 2^16 rows). */
enum { OUTER_MAX_ROWS = 1 << 16, OUTER_MAX_BATCH = 4 };
static LLVMValueRef row_at(Cg *cg, LLVMValueRef base, LLVMValueRef i) {
  return LLVMBuildInBoundsGEP2(cg->b, cg->i32, base, &i, 1, "");
}
static LLVMValueRef load_row(Cg *cg, LLVMValueRef p) {
  return LLVMBuildSExt(cg->b, LLVMBuildLoad2(cg->b, cg->i32, p, ""), cg->i64, "");
}

/* void nnc_outer_row(a, dy, row, i, rows, n, m): row[0..m) = sum over r < rows of
 * a[r * n + i] * dy[r * m + ..], the products added in order of r. Row i of x^T dy, the
 * way both train and gradient form it at small batches. */
static LLVMValueRef outer_row_fn(Cg *cg) {
  if (cg->outer_row) return cg->outer_row;
  LLVMValueRef saved_fn = cg->fn;
  LLVMBasicBlockRef saved_bb = LLVMGetInsertBlock(cg->b);
  cg->outer_row_ty = LLVMFunctionType(LLVMVoidTypeInContext(cg->ctx),
                                      (LLVMTypeRef[]){cg->ptr, cg->ptr, cg->ptr, cg->i64, cg->i64, cg->i64, cg->i64}, 7,
                                      false);
  LLVMValueRef fn = cg_helper(cg, "nnc_outer_row", cg->outer_row_ty);
  cg->fn = fn;
  LLVMBuilderRef b = cg->b;
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(cg->ctx, fn, "entry"));
  LLVMValueRef a = LLVMGetParam(fn, 0), dy = LLVMGetParam(fn, 1), row = LLVMGetParam(fn, 2), i = LLVMGetParam(fn, 3);
  LLVMValueRef rows = LLVMGetParam(fn, 4), n = LLVMGetParam(fn, 5), m = LLVMGetParam(fn, 6);
  Loop lj, lr, lj2;
  LLVMValueRef x0 = LLVMBuildLoad2(b, cg->f32, gep(cg, a, i), "");
  LLVMValueRef j = loop_begin(cg, m, &lj);
  LLVMBuildStore(b, LLVMBuildFMul(b, x0, LLVMBuildLoad2(b, cg->f32, gep(cg, dy, j), ""), ""), gep(cg, row, j));
  loop_end(cg, &lj);
  LLVMValueRef r = LLVMBuildAdd(b, loop_begin(cg, LLVMBuildSub(b, rows, i64c(cg, 1), ""), &lr), i64c(cg, 1), "");
  LLVMValueRef xr = LLVMBuildLoad2(b, cg->f32, gep(cg, a, LLVMBuildAdd(b, LLVMBuildMul(b, r, n, ""), i, "")), "");
  LLVMValueRef dyr = gep(cg, dy, LLVMBuildMul(b, r, m, ""));
  LLVMValueRef j2 = loop_begin(cg, m, &lj2);
  LLVMValueRef rp = gep(cg, row, j2);
  LLVMValueRef t = LLVMBuildFMul(b, xr, LLVMBuildLoad2(b, cg->f32, gep(cg, dyr, j2), ""), "");
  LLVMBuildStore(b, LLVMBuildFAdd(b, LLVMBuildLoad2(b, cg->f32, rp, ""), t, ""), rp);
  loop_end(cg, &lj2);
  loop_end(cg, &lr);
  LLVMBuildRetVoid(b);
  cg->outer_row = fn;
  cg->fn = saved_fn;
  LLVMPositionBuilderAtEnd(b, saved_bb);
  return fn;
}

/* A deferred product's shape: A is [rows, n] (x), dy is [rows, m]. */
typedef struct Outer {
  NodeId mm;
  LLVMValueRef a, dy, rows, nn, mm_;
  int64_t n, m;
} Outer;

static Outer outer_of(Cg *cg, NodeId mmid) {
  const Node *mm = graph_node(cg->g, mmid);
  Outer o = {mmid, buffer(cg, mm->in[0]), buffer(cg, mm->in[1]), NULL, NULL, NULL, 0, 0};
  Shape dys = graph_node(cg->g, mm->in[1])->shape;
  o.m = dys.dim[dys.rank - 1];
  matrix_view(cg, graph_node(cg->g, mm->in[0])->shape, &o.rows, &o.n);
  o.nn = i64c(cg, o.n);
  o.mm_ = i64c(cg, o.m);
  return o;
}

/* Whether the product is formed row by row (train: consumed row by row): few rows of x,
 * and few enough columns for the fused update's row lists. The same test in every mode. */
static LLVMValueRef row_by_row(Cg *cg, const Outer *o) {
  if (o->n > OUTER_MAX_ROWS) return LLVMConstInt(LLVMInt1TypeInContext(cg->ctx), 0, false);
  return LLVMBuildICmp(cg->b, LLVMIntSLE, o->rows, i64c(cg, OUTER_MAX_BATCH), "");
}

/* dst = x^T dy by rows (one nnc_outer_row each); dst holds n rows of m. */
static void outer_rows(Cg *cg, const Outer *o, LLVMValueRef dst) {
  LLVMValueRef fn = outer_row_fn(cg);
  Loop l;
  LLVMValueRef i = loop_begin(cg, o->nn, &l);
  LLVMBuildCall2(cg->b, cg->outer_row_ty, fn,
                 (LLVMValueRef[]){o->a, o->dy, gep(cg, dst, LLVMBuildMul(cg->b, i, o->mm_, "")), i, o->rows, o->nn, o->mm_},
                 7, "");
  loop_end(cg, &l);
}

/* The product into its buffer: by rows at small batches, one GEMM at large ones. */
static void outer_gradient(Cg *cg, const Outer *o) {
  LLVMBasicBlockRef small = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "outer_rows");
  LLVMBasicBlockRef large = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "outer_gemm");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "outer_done");
  LLVMBuildCondBr(cg->b, row_by_row(cg, o), small, large);
  LLVMPositionBuilderAtEnd(cg->b, small);
  outer_rows(cg, o, buffer(cg, o->mm));
  LLVMBuildBr(cg->b, done);
  LLVMPositionBuilderAtEnd(cg->b, large);
  emit_matmul(cg, o->mm);
  LLVMBuildBr(cg->b, done);
  LLVMPositionBuilderAtEnd(cg->b, done);
}

/* ---- the update of one parameter ---------------------------------------------------------- */

/* The rows of a deferred product, sorted by sort_rows. */
typedef struct Rows {
  const Outer *o;
  LLVMValueRef full, zero, nfull, nzero, per;
} Rows;

/* The fused outer product: each full row made and consumed by the rule's rows helper (at
 * batch 1: read as x[0, i] * dy[0, :] inside it; else summed into the gradient buffer's
 * row, L1-resident, then read), with one or two zero rows in the same loop while there are
 * any; the zero rows left over by the zero helper. A rule with whole-tensor reductions
 * cannot go row by row: it gets the rows summed, then its flat update. */
static void fused_rows(Cg *cg, const RuleCall *c, const Rows *s, const GraphParam *p, LLVMValueRef w, LLVMValueRef st,
                       LLVMValueRef bad) {
  const Outer *o = s->o;
  LLVMBuilderRef b = cg->b;
  LLVMValueRef off = i64c(cg, p->offset), stride = i64c(cg, cg->full_param_floats);
  LLVMBasicBlockRef rowwise = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "rowwise");
  LLVMBasicBlockRef whole = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "whole");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "rows_done");
  LLVMBuildCondBr(b, c->elementwise, rowwise, whole);
  LLVMPositionBuilderAtEnd(b, whole);
  LLVMValueRef gw = gep(cg, cg->grads, off);
  outer_rows(cg, o, gw);
  cg_rule_flat(cg, c, w, st, gw, shape_size(p->shape), bad);
  LLVMBuildBr(b, done);
  LLVMPositionBuilderAtEnd(b, rowwise);
  Loop lf, lrest;
  LLVMValueRef f = loop_begin(cg, s->nfull, &lf);
  LLVMValueRef fi = load_row(cg, row_at(cg, s->full, f));
  LLVMValueRef at = LLVMBuildMul(b, fi, o->mm_, "row");
  LLVMBasicBlockRef one = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "one_row");
  LLVMBasicBlockRef sum = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "sum_rows");
  LLVMBasicBlockRef have = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "have_row");
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, o->rows, i64c(cg, 1), ""), one, sum);
  LLVMPositionBuilderAtEnd(b, one);
  LLVMValueRef x0 = LLVMBuildLoad2(b, cg->f32, gep(cg, o->a, fi), "");
  LLVMBuildBr(b, have);
  LLVMPositionBuilderAtEnd(b, sum);
  LLVMValueRef row = gep(cg, cg->grads, LLVMBuildAdd(b, off, at, ""));
  LLVMBuildCall2(b, cg->outer_row_ty, outer_row_fn(cg), (LLVMValueRef[]){o->a, o->dy, row, fi, o->rows, o->nn, o->mm_},
                 7, "");
  LLVMBasicBlockRef sum_end = LLVMGetInsertBlock(b);
  LLVMBuildBr(b, have);
  LLVMPositionBuilderAtEnd(b, have);
  LLVMValueRef g = LLVMBuildPhi(b, cg->ptr, "g"), scale = LLVMBuildPhi(b, cg->f32, "scale");
  LLVMAddIncoming(g, (LLVMValueRef[]){o->dy, row}, (LLVMBasicBlockRef[]){one, sum_end}, 2);
  LLVMAddIncoming(scale, (LLVMValueRef[]){x0, f32c(cg, 1)}, (LLVMBasicBlockRef[]){one, sum_end}, 2);
  /* its partners: zero rows per*f and per*f + 1 (per = 2 when the zero rows outnumber the
   * full ones), while there are any */
  LLVMValueRef none = i64c(cg, -1), zoff[2];
  for (int t = 0; t < 2; t++) {
    LLVMValueRef zf = LLVMBuildAdd(b, LLVMBuildMul(b, s->per, f, ""), i64c(cg, t), "");
    LLVMValueRef paired = LLVMBuildICmp(b, LLVMIntSLT, zf, s->nzero, "");
    if (t == 1) paired = LLVMBuildAnd(b, paired, LLVMBuildICmp(b, LLVMIntEQ, s->per, i64c(cg, 2), ""), "");
    LLVMValueRef zi = load_row(cg, row_at(cg, s->zero, LLVMBuildSelect(b, paired, zf, i64c(cg, 0), "")));
    zoff[t] = LLVMBuildSelect(b, paired, LLVMBuildMul(b, zi, o->mm_, ""), none, "");
  }
  /* k only with j */
  zoff[1] = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, zoff[0], i64c(cg, 0), ""), none, zoff[1], "");
  LLVMBuildCall2(b, cg->rule_rows_ty, c->rows,
                 (LLVMValueRef[]){w, st, stride, g, scale, at, zoff[0], zoff[1], o->mm_, c->scal, bad}, 11, "");
  loop_end(cg, &lf);
  /* zero rows left without a partner */
  LLVMValueRef done_z = LLVMBuildMul(b, s->per, s->nfull, "");
  LLVMValueRef zr = loop_begin(cg, LLVMBuildSub(b, s->nzero, done_z, ""), &lrest); /* only when nzero > per * nfull */
  LLVMValueRef zat = LLVMBuildMul(b, load_row(cg, row_at(cg, s->zero, LLVMBuildAdd(b, done_z, zr, ""))), o->mm_, "");
  LLVMBuildCall2(b, cg->rule_zero_ty, c->zero, (LLVMValueRef[]){gep(cg, w, zat), gep(cg, st, zat), stride, o->mm_, c->scal},
                 5, "");
  loop_end(cg, &lrest);
  LLVMBuildBr(b, done);
  LLVMPositionBuilderAtEnd(b, done);
}

/* Sorts the rows of x^T dy into those whose x[:, i] is all zero (a zero gradient row) and
 * the others. The test sums |x|, so a NaN in x takes the full path. A zero row is skipped
 * even where dy holds an inf or a NaN (the full rule would make its gradient NaN): a full
 * row has it too then, and the step reports it. */
static void sort_rows(Cg *cg, Rows *s) {
  const Outer *o = s->o;
  LLVMBuilderRef b = cg->b;
  s->full = cg_entry_alloca(cg, LLVMArrayType2(cg->i32, (uint64_t)o->n), "full_rows");
  s->zero = cg_entry_alloca(cg, LLVMArrayType2(cg->i32, (uint64_t)o->n), "zero_rows");
  LLVMValueRef nfull_p = cg_entry_alloca(cg, cg->i64, "nfull"), nzero_p = cg_entry_alloca(cg, cg->i64, "nzero");
  LLVMBuildStore(b, i64c(cg, 0), nfull_p);
  LLVMBuildStore(b, i64c(cg, 0), nzero_p);
  LLVMBuildStore(b, LLVMConstInt(cg->i32, 0, false), s->zero); /* read (and discarded) when unpaired */
  Loop li, lz;
  LLVMValueRef i = loop_begin(cg, o->nn, &li);
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(b);
  LLVMValueRef rz = loop_begin(cg, o->rows, &lz);
  LLVMValueRef acc = carried(cg, &lz, f32c(cg, 0), pre);
  LLVMValueRef xa = LLVMBuildLoad2(b, cg->f32, gep(cg, o->a, LLVMBuildAdd(b, LLVMBuildMul(b, rz, o->nn, ""), i, "")), "");
  LLVMValueRef acc2 = LLVMBuildFAdd(b, acc, intrinsic(cg, "llvm.fabs", &xa, 1), "");
  loop_end_carry(cg, &lz, &acc, &acc2, 1);
  LLVMValueRef is_zero = LLVMBuildFCmp(b, LLVMRealOEQ, acc, f32c(cg, 0), "");
  LLVMValueRef list = LLVMBuildSelect(b, is_zero, s->zero, s->full, "");
  LLVMValueRef count_p = LLVMBuildSelect(b, is_zero, nzero_p, nfull_p, "");
  LLVMValueRef count = load_i64(cg, count_p);
  LLVMBuildStore(b, LLVMBuildTrunc(b, i, cg->i32, ""), row_at(cg, list, count));
  LLVMBuildStore(b, LLVMBuildAdd(b, count, i64c(cg, 1), ""), count_p);
  loop_end(cg, &li);
  s->nfull = load_i64(cg, nfull_p);
  s->nzero = load_i64(cg, nzero_p);
  s->per = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSGT, s->nzero, s->nfull, ""), i64c(cg, 2), i64c(cg, 1), "per");
}

/* After parameter i's update: step->nonfinite = 1 + the lowest parameter whose gradient
 * was not finite. */
static void note_nonfinite(Cg *cg, LLVMValueRef bad, int i) {
  LLVMBuilderRef b = cg->b;
  LLVMValueRef p = LLVMBuildStructGEP2(b, cg_step_type(cg), cg->step, STEP_NONFINITE, "");
  LLVMValueRef nf = LLVMBuildLoad2(b, cg->i32, p, "");
  LLVMValueRef me = LLVMConstInt(cg->i32, (unsigned long long)i + 1, false);
  LLVMValueRef lower = LLVMBuildOr(b, LLVMBuildICmp(b, LLVMIntEQ, nf, LLVMConstInt(cg->i32, 0, false), ""),
                                   LLVMBuildICmp(b, LLVMIntULT, me, nf, ""), "");
  LLVMValueRef take = LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntNE, LLVMBuildLoad2(b, cg->i32, bad, ""),
                                                    LLVMConstInt(cg->i32, 0, false), ""),
                                   lower, "");
  LLVMBuildStore(b, LLVMBuildSelect(b, take, me, nf, ""), p);
}

typedef struct Fields {
  LLVMValueRef rule, hyper, step, epoch, state, bad;
} Fields;

static Fields fields(Cg *cg) {
  Fields f = {cg_step_field(cg, STEP_RULE), cg_step_field(cg, STEP_HYPER), cg_step_field(cg, STEP_STEP),
              cg_step_field(cg, STEP_EPOCH), cg_step_field(cg, STEP_STATE), cg_entry_alloca(cg, cg->i32, "bad")};
  LLVMBuildStore(cg->b, LLVMConstInt(cg->i32, 0, false),
                 LLVMBuildStructGEP2(cg->b, cg_step_type(cg), cg->step, STEP_NONFINITE, ""));
  return f;
}

/* Parameter i's update from the gradient in gp (a whole one). */
static void update_flat(Cg *cg, const Fields *f, int i, LLVMValueRef gp) {
  const GraphParam *p = &cg->g->params[i];
  LLVMValueRef off = i64c(cg, p->offset);
  LLVMBuildStore(cg->b, LLVMConstInt(cg->i32, 0, false), f->bad);
  RuleCall c = cg_rule_pick(cg, f->rule, f->hyper, f->step, f->epoch, i64c(cg, shape_size(p->shape)));
  cg_rule_flat(cg, &c, gep(cg, cg->params, off), gep(cg, f->state, off), gp, shape_size(p->shape), f->bad);
  note_nonfinite(cg, f->bad, i);
}

/* A gradient buffer for parameter i: its node's, or (a constant gradient) spelled out in
 * the gradient buffer. */
static LLVMValueRef gradient_of(Cg *cg, int i) {
  const GraphParam *p = &cg->g->params[i];
  if (cg->plan.loc[p->grad].kind != LOC_IMM) return buffer(cg, p->grad);
  LLVMValueRef gp = gep(cg, cg->grads, i64c(cg, p->offset));
  emit_copy(cg, gp, p->shape, p->grad);
  return gp;
}

/* The nodes of the step: the loss, the metrics and every gradient, of a deferred one only
 * its operands. */
static bool *step_nodes(Cg *cg) {
  const Graph *g = cg->g;
  bool *need = calloc(g->count, sizeof(bool));
  if (!need) nnc_unreachable("out of memory");
  mark(g, g->loss, need);
  for (int i = 0; i < g->nmetrics; i++) mark(g, g->metrics[i].node, need);
  for (int i = 0; i < g->nparams; i++) {
    NodeId mm = cg->plan.deferred[i];
    if (mm) need[graph_node(g, mm)->in[0]] = need[graph_node(g, mm)->in[1]] = true;
    else mark(g, g->params[i].grad, need);
  }
  return need;
}

/* The deferred products' buffers (and their gradients'), addressed before the updates
 * branch, where the address dominates every use. */
static void deferred_buffers(Cg *cg) {
  for (int i = 0; i < cg->g->nparams; i++)
    if (cg->plan.deferred[i]) {
      buffer(cg, cg->plan.deferred[i]);
      buffer(cg, cg->g->params[i].grad);
    }
}

/* float train(step) */
static void emit_train(Cg *cg, const Graph *g, const Plan *plan) {
  cg_begin_entry(cg, "nnc_train", g, plan);
  bool *need = step_nodes(cg);
  emit_nodes(cg, need);
  free(need);
  deferred_buffers(cg);
  store_metrics(cg, cg_step_field(cg, STEP_METRICS));
  LLVMValueRef loss = scalar_result(cg, g->loss);
  Fields f = fields(cg);
  for (int n = 0; n < g->nparams; n++) { /* in the plan's order: after every read */
    int i = plan->order[n];
    NodeId mm = plan->deferred[i];
    if (!mm) {
      update_flat(cg, &f, i, gradient_of(cg, i));
      continue;
    }
    Outer o = outer_of(cg, mm);
    LLVMBasicBlockRef fused = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "fused");
    LLVMBasicBlockRef gemm = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "gemm");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "param_done");
    LLVMBuildCondBr(cg->b, row_by_row(cg, &o), fused, gemm);
    LLVMPositionBuilderAtEnd(cg->b, fused);
    if (o.n <= OUTER_MAX_ROWS) {
      const GraphParam *p = &g->params[i];
      LLVMValueRef off = i64c(cg, p->offset);
      Rows s = {&o, NULL, NULL, NULL, NULL, NULL};
      LLVMBuildStore(cg->b, LLVMConstInt(cg->i32, 0, false), f.bad);
      sort_rows(cg, &s);
      RuleCall c = cg_rule_pick(cg, f.rule, f.hyper, f.step, f.epoch, i64c(cg, shape_size(p->shape)));
      fused_rows(cg, &c, &s, p, gep(cg, cg->params, off), gep(cg, f.state, off), f.bad);
      note_nonfinite(cg, f.bad, i);
    }
    LLVMBuildBr(cg->b, done);
    LLVMPositionBuilderAtEnd(cg->b, gemm);
    emit_matmul(cg, mm);
    update_flat(cg, &f, i, buffer(cg, g->params[i].grad));
    LLVMBuildBr(cg->b, done);
    LLVMPositionBuilderAtEnd(cg->b, done);
  }
  LLVMBuildRet(cg->b, loss);
  cg->train = cg->fn;
}

/* float gradient(step) */
static void emit_gradient(Cg *cg, const Graph *g, const Plan *plan) {
  cg_begin_entry(cg, "nnc_gradient", g, plan);
  bool *need = step_nodes(cg);
  emit_nodes(cg, need);
  free(need);
  deferred_buffers(cg);
  for (int i = 0; i < g->nparams; i++)
    if (plan->deferred[i]) {
      Outer o = outer_of(cg, plan->deferred[i]);
      outer_gradient(cg, &o);
    }
  for (int i = 0; i < g->nparams; i++) {
    NodeId gr = g->params[i].grad;
    if (cg->plan.loc[gr].kind == LOC_GRAD && cg->plan.loc[gr].index == i) continue;
    emit_copy(cg, gep(cg, cg->grads, i64c(cg, g->params[i].offset)), g->params[i].shape, gr);
  }
  store_metrics(cg, cg_step_field(cg, STEP_METRICS));
  LLVMBuildRet(cg->b, scalar_result(cg, g->loss));
  cg->gradient = cg->fn;
}

/* float apply_update(step): the rule on every parameter, from the gradient buffer */
static void emit_apply_update(Cg *cg, const Graph *g, const Plan *plan) {
  cg_begin_entry(cg, "nnc_apply_update", g, plan);
  Fields f = fields(cg);
  for (int i = 0; i < g->nparams; i++)
    update_flat(cg, &f, i, gep(cg, cg->grads, i64c(cg, g->params[i].offset)));
  LLVMBuildRet(cg->b, f32c(cg, 0));
  cg->apply_update = cg->fn;
}

void cg_emit_training(Cg *cg, const Graph *g, const Plan *plan) {
  emit_train(cg, g, plan);
  emit_gradient(cg, g, plan);
  emit_apply_update(cg, g, plan);
}
