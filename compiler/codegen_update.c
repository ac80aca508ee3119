/* codegen_update.c: train_update, the step with the optimizer update applied in place.
 *
 * sgd, momentum, the seed's nesterov and plain RMSprop are emitted as update loops (one
 * internal function per kind, in the runtime's order of float operations, so that both
 * paths train identically), called on each parameter after every node has read it. A
 * dense layer's weight gradient at small batches is an outer product x^T dy, which is
 * never formed: each row is made and consumed by the update at once, and a row whose x
 * is zero takes the update by a zero gradient, in the shadow of a full row's (the divider
 * bounds RMSprop; on AVX-512 one vector in four takes its square root off the divider,
 * codegen_sqrt.c). Large updates are split across the runtime's threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen_internal.h"

/* The update's scalars (splat when it is emitted on vectors of ty) */
typedef struct Update {
  LLVMValueRef lr, momentum, rho, eps, wd;
  LLVMValueRef has_wd; /* i1: wd != 0 */
  LLVMTypeRef ty;      /* f32, or <16 x f32> */
  bool exact_sqrt;     /* RMSprop's square root by cg_exact_sqrt16, off the divider */
} Update;

static LLVMValueRef uconst(Cg *cg, const Update *u, double v) { return cg_fconst(cg, u->ty, v); }

/* Loads and stores of floats (or of vectors of them at a float's alignment). */
static LLVMValueRef uload(Cg *cg, const Update *u, LLVMValueRef p) {
  LLVMValueRef v = LLVMBuildLoad2(cg->b, u->ty, p, "");
  LLVMSetAlignment(v, 4);
  return v;
}
static void ustore(Cg *cg, LLVMValueRef v, LLVMValueRef p) { LLVMSetAlignment(LLVMBuildStore(cg->b, v, p), 4); }

static LLVMValueRef usqrt(Cg *cg, const Update *u, LLVMValueRef x) {
  return u->exact_sqrt ? cg_exact_sqrt16(cg, x) : intrinsic_of(cg, "llvm.sqrt", u->ty, &x, 1);
}

/* One parameter element's update, in the runtime's order of float operations (optim.c):
 * g += wd*w (L2, when wd != 0), then the rule of `kind`. g == NULL is the update by a
 * gradient known to be zero with wd == 0: the same rule with g = +0, minus the work that
 * cannot change anything (sgd's step, RMSprop's step of lr*0/d, which leaves w as it is). */
static void emit_update_elem(Cg *cg, const Update *u, int kind, LLVMValueRef wp, LLVMValueRef sp,
                             LLVMValueRef g) {
  LLVMBuilderRef b = cg->b;
  bool zero = g == NULL;
  if (zero && kind == 1) return;
  LLVMValueRef w = NULL;
  if (zero) {
    g = uconst(cg, u, 0);
  } else {
    w = uload(cg, u, wp);
    g = LLVMBuildSelect(b, u->has_wd, LLVMBuildFAdd(b, g, LLVMBuildFMul(b, u->wd, w, ""), ""), g, "g");
  }
  if (zero && kind != 4) w = uload(cg, u, wp);
  LLVMValueRef nw;
  switch (kind) {
  case 1: /* sgd */
    nw = LLVMBuildFSub(b, w, LLVMBuildFMul(b, u->lr, g, ""), "");
    break;
  case 2: { /* momentum */
    LLVMValueRef v = LLVMBuildFAdd(b, LLVMBuildFMul(b, u->momentum, uload(cg, u, sp), ""), g, "v");
    ustore(cg, v, sp);
    nw = LLVMBuildFSub(b, w, LLVMBuildFMul(b, u->lr, v, ""), "");
    break;
  }
  case 3: { /* nesterov, the seed's rule */
    LLVMValueRef lg = LLVMBuildFMul(b, u->lr, g, "");
    LLVMValueRef v = LLVMBuildFSub(b, LLVMBuildFMul(b, u->momentum, uload(cg, u, sp), ""), lg, "v");
    ustore(cg, v, sp);
    nw = LLVMBuildFSub(b, LLVMBuildFAdd(b, w, LLVMBuildFMul(b, u->momentum, v, ""), ""), lg, "");
    break;
  }
  default: { /* rmsprop */
    LLVMValueRef one_minus = LLVMBuildFSub(b, uconst(cg, u, 1), u->rho, "");
    LLVMValueRef sq = zero ? g : LLVMBuildFMul(b, LLVMBuildFMul(b, one_minus, g, ""), g, "");
    LLVMValueRef sv = LLVMBuildFAdd(b, LLVMBuildFMul(b, u->rho, uload(cg, u, sp), ""), sq, "s");
    ustore(cg, sv, sp);
    if (zero) return; /* w - (lr*0)/d == w */
    LLVMValueRef d = LLVMBuildFAdd(b, usqrt(cg, u, sv), u->eps, "");
    nw = LLVMBuildFSub(b, w, LLVMBuildFDiv(b, LLVMBuildFMul(b, u->lr, g, ""), d, ""), "");
    break;
  }
  }
  ustore(cg, nw, wp);
}

/* The update loops, one internal function per kind:
 *   void nnc_update_K(float *w, float *s, const float *g, int64_t n, const nnrt_update *u)
 * Every parameter's update calls one of them, so each loop is generated (and vectorised)
 * once rather than once per parameter and kind. */
static LLVMTypeRef update_struct(Cg *cg) {
  return LLVMStructTypeInContext(cg->ctx, (LLVMTypeRef[]){cg->i32, cg->f32, cg->f32, cg->f32, cg->f32, cg->f32, cg->ptr},
                                 7, false);
}

static LLVMValueRef load_field(Cg *cg, LLVMValueRef up, unsigned f) {
  LLVMTypeRef ty = f == 0 ? cg->i32 : f == 6 ? cg->ptr : cg->f32;
  return LLVMBuildLoad2(cg->b, ty, LLVMBuildStructGEP2(cg->b, update_struct(cg), up, f, ""), "");
}

static LLVMTypeRef update_ctx_type(Cg *cg) {
  return LLVMStructTypeInContext(cg->ctx, (LLVMTypeRef[]){cg->ptr, cg->ptr, cg->ptr, cg->ptr}, 4, false);
}

/* The update's scalars from *up, splat to ty; has_wd: whether weight decay is on (an i1). */
static Update make_update(Cg *cg, LLVMValueRef up, LLVMTypeRef ty, LLVMValueRef has_wd) {
  return (Update){cg_splat(cg, load_field(cg, up, 1), ty), cg_splat(cg, load_field(cg, up, 2), ty),
                  cg_splat(cg, load_field(cg, up, 3), ty), cg_splat(cg, load_field(cg, up, 4), ty),
                  cg_splat(cg, load_field(cg, up, 5), ty), has_wd, ty, false};
}

/* An update loop's body at element (or vector) c. */
typedef void UpdateBody(Cg *cg, const Update *u, LLVMValueRef c, const void *arg);

/* body(c) for c in [0, n). RMSprop's (paired) on an AVX-512 target runs on groups of four
 * vectors, the last taking its square root by cg_exact_sqrt16 rather than from the divider
 * that the others' square roots and all four divisions occupy. (One in four: with W1's
 * rows streaming from L3 at batch 1, every other vector was slower than none, one in four
 * took the flagship from 13.18k to 13.64k samples/s, and groups of three or five, which
 * leave a 512-float row a tail, were slower again.) The last n % 64 run one by one. */
enum { UPDATE_GROUP = 4 };
static void emit_update_loop_wd(Cg *cg, LLVMValueRef up, bool paired, LLVMValueRef n, UpdateBody *body,
                                const void *arg, LLVMValueRef has_wd) {
  LLVMValueRef start = i64c(cg, 0);
  if (paired && cg->gemm.width == 16) {
    Update uv = make_update(cg, up, LLVMVectorType(cg->f32, 16), has_wd), us = uv;
    us.exact_sqrt = true;
    Loop l;
    LLVMValueRef c = LLVMBuildMul(cg->b, loop_begin(cg, LLVMBuildUDiv(cg->b, n, i64c(cg, 16 * UPDATE_GROUP), ""), &l),
                                  i64c(cg, 16 * UPDATE_GROUP), "");
    for (int v = 0; v < UPDATE_GROUP; v++)
      body(cg, v == UPDATE_GROUP - 1 ? &us : &uv, LLVMBuildAdd(cg->b, c, i64c(cg, 16 * v), ""), arg);
    loop_end(cg, &l);
    start = LLVMBuildSub(cg->b, n, LLVMBuildURem(cg->b, n, i64c(cg, 16 * UPDATE_GROUP), ""), "");
  }
  Update u = make_update(cg, up, cg->f32, has_wd);
  Loop l;
  LLVMValueRef t = loop_begin(cg, LLVMBuildSub(cg->b, n, start, ""), &l);
  body(cg, &u, LLVMBuildAdd(cg->b, start, t, ""), arg);
  loop_end(cg, &l);
}

/* ... for RMSprop once with weight decay and once without, so that the loop does not
 * test it for every vector (the other kinds' loops are cheap enough not to be doubled:
 * every copy adds to the compile time) */
static void emit_update_loop(Cg *cg, LLVMValueRef up, bool paired, LLVMValueRef n, UpdateBody *body,
                             const void *arg) {
  LLVMTypeRef i1 = LLVMInt1TypeInContext(cg->ctx);
  if (!paired) {
    emit_update_loop_wd(cg, up, false, n, body, arg,
                        LLVMBuildFCmp(cg->b, LLVMRealUNE, load_field(cg, up, 5), f32c(cg, 0), ""));
    return;
  }
  LLVMBasicBlockRef bb[2], join = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "updated");
  for (int w = 0; w < 2; w++) bb[w] = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, w ? "with_wd" : "no_wd");
  LLVMBuildCondBr(cg->b, LLVMBuildFCmp(cg->b, LLVMRealUNE, load_field(cg, up, 5), f32c(cg, 0), ""), bb[1], bb[0]);
  for (int w = 0; w < 2; w++) {
    LLVMPositionBuilderAtEnd(cg->b, bb[w]);
    emit_update_loop_wd(cg, up, paired, n, body, arg, LLVMConstInt(i1, (unsigned long long)w, false));
    LLVMBuildBr(cg->b, join);
  }
  LLVMPositionBuilderAtEnd(cg->b, join);
}

typedef struct FlatArgs {
  int kind;
  LLVMValueRef w, st, g; /* g NULL: by a zero gradient */
} FlatArgs;

static void flat_body(Cg *cg, const Update *u, LLVMValueRef c, const void *arg) {
  const FlatArgs *a = arg;
  emit_update_elem(cg, u, a->kind, gep(cg, a->w, c), gep(cg, a->st, c), a->g ? uload(cg, u, gep(cg, a->g, c)) : NULL);
}

static void emit_update_functions(Cg *cg) {
  LLVMTypeRef args[5] = {cg->ptr, cg->ptr, cg->ptr, cg->i64, cg->ptr};
  cg->update_fn_ty = LLVMFunctionType(LLVMVoidTypeInContext(cg->ctx), args, 5, false);
  static const char *const names[] = {NULL, "nnc_update_sgd", "nnc_update_momentum", "nnc_update_nesterov",
                                      "nnc_update_rmsprop"};
  LLVMValueRef saved_fn = cg->fn;
  LLVMBasicBlockRef saved_bb = LLVMGetInsertBlock(cg->b);
  for (int v = 0; v < 8; v++) {
    int k = v % 4 + 1;
    bool zero = v >= 4;
    char name[48];
    snprintf(name, sizeof name, "%s%s", names[k], zero ? "_zero" : "");
    LLVMValueRef fn = cg_helper(cg, name, cg->update_fn_ty);
    cg->fn = fn;
    LLVMPositionBuilderAtEnd(cg->b, LLVMAppendBasicBlockInContext(cg->ctx, fn, "entry"));
    LLVMValueRef w = LLVMGetParam(fn, 0), st = LLVMGetParam(fn, 1), g = LLVMGetParam(fn, 2);
    LLVMValueRef up = LLVMGetParam(fn, 4);
    FlatArgs a = {k, w, st, zero ? NULL : g};
    emit_update_loop(cg, up, k == 4 && !zero, LLVMGetParam(fn, 3), flat_body, &a);
    LLVMBuildRetVoid(cg->b);
    (zero ? cg->zero_update_fn : cg->update_fn)[k] = fn;
    if (zero) continue;
    /* nnc_update_K_split(ctx = {w, s, g, u}, lo, hi): elements lo..hi-1, for the threads */
    LLVMTypeRef sty = LLVMFunctionType(LLVMVoidTypeInContext(cg->ctx), (LLVMTypeRef[]){cg->ptr, cg->i64, cg->i64}, 3, false);
    snprintf(name, sizeof name, "%s_split", names[k]);
    LLVMValueRef sfn = cg_helper(cg, name, sty);
    LLVMPositionBuilderAtEnd(cg->b, LLVMAppendBasicBlockInContext(cg->ctx, sfn, "entry"));
    LLVMTypeRef ct = update_ctx_type(cg);
    LLVMValueRef ctx = LLVMGetParam(sfn, 0), lo = LLVMGetParam(sfn, 1), hi = LLVMGetParam(sfn, 2);
    LLVMValueRef f[4];
    for (unsigned j = 0; j < 4; j++) f[j] = LLVMBuildLoad2(cg->b, cg->ptr, LLVMBuildStructGEP2(cg->b, ct, ctx, j, ""), "");
    LLVMBuildCall2(cg->b, cg->update_fn_ty, fn,
                   (LLVMValueRef[]){gep(cg, f[0], lo), gep(cg, f[1], lo), gep(cg, f[2], lo),
                                    LLVMBuildSub(cg->b, hi, lo, ""), f[3]},
                   5, "");
    LLVMBuildRetVoid(cg->b);
    cg->split_update_fn[k] = sfn;
  }
  cg->fn = saved_fn;
  if (saved_bb) LLVMPositionBuilderAtEnd(cg->b, saved_bb);
}

/* Updates of at least this many elements are split across the runtime's threads: RMSprop's
 * is bound by the divider (0.28 ns an element), 18 us at this size. */
enum { PARALLEL_MIN_UPDATE = 1 << 16 };

/* Calls the update function of the run-time kind on w[0..n), s[0..n), g[0..n); g == NULL:
 * by a zero gradient (wd == 0). */
static void call_update(Cg *cg, LLVMValueRef kind, LLVMValueRef w, LLVMValueRef st, LLVMValueRef g,
                        LLVMValueRef n, LLVMValueRef up) {
  bool split = g && LLVMIsAConstantInt(n) && LLVMConstIntGetSExtValue(n) >= PARALLEL_MIN_UPDATE;
  LLVMValueRef ctx = NULL;
  if (split) {
    LLVMTypeRef ct = update_ctx_type(cg);
    ctx = cg_entry_alloca(cg, ct, "update_ctx");
    LLVMValueRef vals[4] = {w, st, g, up};
    for (unsigned i = 0; i < 4; i++) LLVMBuildStore(cg->b, vals[i], LLVMBuildStructGEP2(cg->b, ct, ctx, i, ""));
  }
  LLVMValueRef *fns = g ? cg->update_fn : cg->zero_update_fn;
  if (!g) g = LLVMConstNull(cg->ptr);
  LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "updated");
  LLVMValueRef sw = LLVMBuildSwitch(cg->b, kind, join, 4);
  for (int k = 1; k <= 4; k++) {
    LLVMBasicBlockRef bb = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "kind");
    LLVMAddCase(sw, LLVMConstInt(cg->i32, (unsigned long long)k, false), bb);
    LLVMPositionBuilderAtEnd(cg->b, bb);
    if (split)
      cg_parallel_call(cg, cg->split_update_fn[k], ctx, n, LLVMConstInt(LLVMInt1TypeInContext(cg->ctx), 1, false));
    else
      LLVMBuildCall2(cg->b, cg->update_fn_ty, fns[k], (LLVMValueRef[]){w, st, g, n, up}, 5, "");
    LLVMBuildBr(cg->b, join);
  }
  LLVMPositionBuilderAtEnd(cg->b, join);
}

typedef struct RowArgs {
  int kind, zero_rows;
  const LLVMValueRef *p; /* nnc_rows_K's parameters */
} RowArgs;

/* row i's element c by scale * g[c], then rows j (and k) by zero */
static void row_body(Cg *cg, const Update *u, LLVMValueRef c, const void *arg) {
  const RowArgs *a = arg;
  const LLVMValueRef *p = a->p;
  LLVMValueRef gv = LLVMBuildFMul(cg->b, cg_splat(cg, p[3], u->ty), uload(cg, u, gep(cg, p[2], c)), "g");
  emit_update_elem(cg, u, a->kind, gep(cg, p[0], c), gep(cg, p[1], c), gv);
  for (int t = 0; t < a->zero_rows; t++)
    emit_update_elem(cg, u, a->kind, gep(cg, p[4 + 2 * t], c), gep(cg, p[5 + 2 * t], c), NULL);
}

/* The row updates of the fused outer product, one internal function per kind:
 *   void nnc_rows_K(float *wi, float *si, const float *g, float scale, float *wj, float *sj,
 *                   float *wk, float *sk, int64_t n, const nnrt_update *u)
 * update row i by the gradient scale * g[0..n) and, when wj (and wk) are not NULL, rows j
 * (and k) by a zero gradient in the same loop: RMSprop's full update is bound by the
 * divider, and a zero row's decay (loads, a multiply, stores) then runs in its shadow
 * instead of in a pass of its own. */
static void emit_row_update_functions(Cg *cg) {
  LLVMTypeRef args[10] = {cg->ptr, cg->ptr, cg->ptr, cg->f32, cg->ptr, cg->ptr, cg->ptr, cg->ptr, cg->i64, cg->ptr};
  cg->rows_fn_ty = LLVMFunctionType(LLVMVoidTypeInContext(cg->ctx), args, 10, false);
  static const char *const names[] = {NULL, "nnc_rows_sgd", "nnc_rows_momentum", "nnc_rows_nesterov", "nnc_rows_rmsprop"};
  LLVMValueRef saved_fn = cg->fn;
  LLVMBasicBlockRef saved_bb = LLVMGetInsertBlock(cg->b);
  for (int k = 1; k <= 4; k++) {
    LLVMValueRef fn = cg_helper(cg, names[k], cg->rows_fn_ty);
    cg->fn = fn;
    LLVMPositionBuilderAtEnd(cg->b, LLVMAppendBasicBlockInContext(cg->ctx, fn, "entry"));
    LLVMValueRef p[10];
    for (unsigned i = 0; i < 10; i++) p[i] = LLVMGetParam(fn, i);
    LLVMBasicBlockRef bb[3];
    for (int z = 0; z < 3; z++) bb[z] = LLVMAppendBasicBlockInContext(cg->ctx, fn, "zero_rows");
    LLVMBasicBlockRef some = LLVMAppendBasicBlockInContext(cg->ctx, fn, "some");
    LLVMBuildCondBr(cg->b, LLVMBuildIsNull(cg->b, p[4], ""), bb[0], some);
    LLVMPositionBuilderAtEnd(cg->b, some);
    LLVMBuildCondBr(cg->b, LLVMBuildIsNull(cg->b, p[6], ""), bb[1], bb[2]);
    for (int z = 0; z < 3; z++) { /* with z zero rows */
      LLVMPositionBuilderAtEnd(cg->b, bb[z]);
      RowArgs a = {k, z, p};
      emit_update_loop(cg, p[9], k == 4, p[8], row_body, &a);
      LLVMBuildRetVoid(cg->b);
    }
    cg->rows_fn[k] = fn;
  }
  cg->fn = saved_fn;
  if (saved_bb) LLVMPositionBuilderAtEnd(cg->b, saved_bb);
}

static LLVMValueRef load_i64(Cg *cg, LLVMValueRef p) { return LLVMBuildLoad2(cg->b, cg->i64, p, ""); }

/* The row lists of the fused outer update hold i32 row numbers (at most 2^16 rows). */
static LLVMValueRef row_at(Cg *cg, LLVMValueRef base, LLVMValueRef i) {
  return LLVMBuildInBoundsGEP2(cg->b, cg->i32, base, &i, 1, "");
}
static LLVMValueRef load_row(Cg *cg, LLVMValueRef p) {
  return LLVMBuildSExt(cg->b, LLVMBuildLoad2(cg->b, cg->i32, p, ""), cg->i64, "");
}

/* The fused outer product: the gradient's row i is sum over rows r of x[r, i] * dy[r, :];
 * each is built (at batch 1: read as x[0, i] * dy[0, :] inside the update) and consumed at
 * once by the update, so the gradient never exists whole. A row whose x[:, i] is all zero
 * (half of Fashion-MNIST's pixels at batch 1) has a zero gradient: it takes the update by
 * zero, which skips RMSprop's square root and division, done with a nonzero row's full
 * update in one loop (one or two zero rows with each). The rows are first sorted into
 * the two kinds; the test sums |x| so that a NaN in x takes the full path. A zero row is
 * skipped even where dy holds an inf or a NaN (the full rule would make its gradient
 * NaN): by then the loss is not finite either, and the run stops on it. */
static void emit_outer_update(Cg *cg, int param, NodeId mmid, LLVMValueRef kind, LLVMValueRef state,
                              LLVMValueRef up) {
  const GraphParam *p = &cg->g->params[param];
  const Node *mm = graph_node(cg->g, mmid);
  Shape dys = graph_node(cg->g, mm->in[1])->shape;
  LLVMValueRef rows_a;
  int64_t n, m = dys.dim[dys.rank - 1];
  matrix_view(cg, graph_node(cg->g, mm->in[0])->shape, &rows_a, &n);
  LLVMValueRef a = buffer(cg, mm->in[0]), dy = buffer(cg, mm->in[1]), mm_ = i64c(cg, m), nn = i64c(cg, n);
  LLVMBuilderRef b = cg->b;
  LLVMValueRef no_wd = LLVMBuildFCmp(b, LLVMRealOEQ, load_field(cg, up, 5), f32c(cg, 0), "");
  LLVMValueRef full = cg_entry_alloca(cg, LLVMArrayType2(cg->i32, (uint64_t)n), "full_rows");
  LLVMValueRef zero = cg_entry_alloca(cg, LLVMArrayType2(cg->i32, (uint64_t)n), "zero_rows");
  LLVMValueRef nfull_p = cg_entry_alloca(cg, cg->i64, "nfull"), nzero_p = cg_entry_alloca(cg, cg->i64, "nzero");
  LLVMBuildStore(b, i64c(cg, 0), nfull_p);
  LLVMBuildStore(b, i64c(cg, 0), nzero_p);
  LLVMBuildStore(b, LLVMConstInt(cg->i32, 0, false), zero); /* read (and discarded) when unpaired */

  /* sort the rows */
  Loop li, lz;
  LLVMValueRef i = loop_begin(cg, nn, &li);
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(b);
  LLVMValueRef rz = loop_begin(cg, rows_a, &lz);
  LLVMValueRef acc = carried(cg, &lz, f32c(cg, 0), pre);
  LLVMValueRef xa = LLVMBuildLoad2(b, cg->f32, gep(cg, a, LLVMBuildAdd(b, LLVMBuildMul(b, rz, nn, ""), i, "")), "");
  LLVMValueRef acc2 = LLVMBuildFAdd(b, acc, intrinsic(cg, "llvm.fabs", &xa, 1), "");
  loop_end_carry(cg, &lz, &acc, &acc2, 1);
  LLVMValueRef is_zero = LLVMBuildAnd(b, no_wd, LLVMBuildFCmp(b, LLVMRealOEQ, acc, f32c(cg, 0), ""), "");
  LLVMValueRef list = LLVMBuildSelect(b, is_zero, zero, full, "");
  LLVMValueRef count_p = LLVMBuildSelect(b, is_zero, nzero_p, nfull_p, "");
  LLVMValueRef count = load_i64(cg, count_p);
  LLVMBuildStore(b, LLVMBuildTrunc(b, i, cg->i32, ""), row_at(cg, list, count));
  LLVMBuildStore(b, LLVMBuildAdd(b, count, i64c(cg, 1), ""), count_p);
  loop_end(cg, &li);
  LLVMValueRef nfull = load_i64(cg, nfull_p), nzero = load_i64(cg, nzero_p);
  LLVMValueRef off = i64c(cg, p->offset);
  LLVMValueRef per = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSGT, nzero, nfull, ""), i64c(cg, 2), i64c(cg, 1), "per");

  /* the row function of the run's kind (1..4: train_update is only called with one),
   * chosen once rather than switched on for every row */
  LLVMValueRef rows_fn = cg->rows_fn[4];
  for (int k = 3; k >= 1; k--)
    rows_fn = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntEQ, kind, LLVMConstInt(cg->i32, (unsigned long long)k, false), ""),
                              cg->rows_fn[k], rows_fn, "");

  /* the full rows, each with a zero row while there are some */
  Loop lf, lj, lr, lj2, lrest;
  LLVMValueRef f = loop_begin(cg, nfull, &lf);
  LLVMValueRef fi = load_row(cg, row_at(cg, full, f));
  LLVMValueRef base = LLVMBuildAdd(b, off, LLVMBuildMul(b, fi, mm_, ""), "row");
  LLVMBasicBlockRef one = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "one_row");
  LLVMBasicBlockRef sum = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "sum_rows");
  LLVMBasicBlockRef have = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "have_row");
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, rows_a, i64c(cg, 1), ""), one, sum);
  LLVMPositionBuilderAtEnd(b, one); /* batch 1: g = x[0, i] * dy[0, :], formed in the update */
  LLVMValueRef x0 = LLVMBuildLoad2(b, cg->f32, gep(cg, a, fi), "");
  LLVMBuildBr(b, have);
  LLVMPositionBuilderAtEnd(b, sum); /* the row in the gradient buffer (L1-resident) */
  LLVMValueRef row = gep(cg, cg->grads, base);
  LLVMValueRef x0s = LLVMBuildLoad2(b, cg->f32, gep(cg, a, fi), "");
  LLVMValueRef j = loop_begin(cg, mm_, &lj);
  LLVMBuildStore(b, LLVMBuildFMul(b, x0s, LLVMBuildLoad2(b, cg->f32, gep(cg, dy, j), ""), ""), gep(cg, row, j));
  loop_end(cg, &lj);
  LLVMValueRef r = loop_begin(cg, LLVMBuildSub(b, rows_a, i64c(cg, 1), ""), &lr);
  r = LLVMBuildAdd(b, r, i64c(cg, 1), "");
  LLVMValueRef xr = LLVMBuildLoad2(b, cg->f32, gep(cg, a, LLVMBuildAdd(b, LLVMBuildMul(b, r, nn, ""), fi, "")), "");
  LLVMValueRef dyr = gep(cg, dy, LLVMBuildMul(b, r, mm_, ""));
  LLVMValueRef j2 = loop_begin(cg, mm_, &lj2);
  LLVMValueRef rp = gep(cg, row, j2);
  LLVMValueRef t = LLVMBuildFMul(b, xr, LLVMBuildLoad2(b, cg->f32, gep(cg, dyr, j2), ""), "");
  LLVMBuildStore(b, LLVMBuildFAdd(b, LLVMBuildLoad2(b, cg->f32, rp, ""), t, ""), rp);
  loop_end(cg, &lj2);
  loop_end(cg, &lr);
  LLVMBasicBlockRef sum_end = LLVMGetInsertBlock(b);
  LLVMBuildBr(b, have);
  LLVMPositionBuilderAtEnd(b, have);
  LLVMValueRef g = LLVMBuildPhi(b, cg->ptr, "g"), scale = LLVMBuildPhi(b, cg->f32, "scale");
  LLVMAddIncoming(g, (LLVMValueRef[]){dy, row}, (LLVMBasicBlockRef[]){one, sum_end}, 2);
  LLVMAddIncoming(scale, (LLVMValueRef[]){x0, f32c(cg, 1)}, (LLVMBasicBlockRef[]){one, sum_end}, 2);
  /* its partners: zero rows per*f and per*f + 1 (per = 2 when the zero rows outnumber
   * the full ones), while there are any */
  LLVMValueRef null = LLVMConstNull(cg->ptr), wz[2], sz[2];
  for (int t = 0; t < 2; t++) {
    LLVMValueRef zf = LLVMBuildAdd(b, LLVMBuildMul(b, per, f, ""), i64c(cg, t), "");
    LLVMValueRef paired = LLVMBuildICmp(b, LLVMIntSLT, zf, nzero, "");
    if (t == 1) paired = LLVMBuildAnd(b, paired, LLVMBuildICmp(b, LLVMIntEQ, per, i64c(cg, 2), ""), "");
    LLVMValueRef zi = load_row(cg, row_at(cg, zero, LLVMBuildSelect(b, paired, zf, i64c(cg, 0), "")));
    LLVMValueRef zbase = LLVMBuildAdd(b, off, LLVMBuildMul(b, zi, mm_, ""), "");
    wz[t] = LLVMBuildSelect(b, paired, gep(cg, cg->params, zbase), null, "");
    sz[t] = LLVMBuildSelect(b, paired, gep(cg, state, zbase), null, "");
  }
  wz[1] = LLVMBuildSelect(b, LLVMBuildIsNull(b, wz[0], ""), null, wz[1], ""); /* k only with j */
  LLVMValueRef args[10] = {gep(cg, cg->params, base), gep(cg, state, base), g, scale, wz[0], sz[0], wz[1], sz[1], mm_, up};
  LLVMBuildCall2(b, cg->rows_fn_ty, rows_fn, args, 10, "");
  loop_end(cg, &lf);

  /* zero rows left without a partner */
  LLVMValueRef done_z = LLVMBuildMul(b, per, nfull, "");
  LLVMValueRef left = LLVMBuildSub(b, nzero, done_z, "");
  LLVMValueRef zr = loop_begin(cg, left, &lrest); /* runs only when nzero > per * nfull */
  LLVMValueRef zi2 = load_row(cg, row_at(cg, zero, LLVMBuildAdd(b, done_z, zr, "")));
  LLVMValueRef zb2 = LLVMBuildAdd(b, off, LLVMBuildMul(b, zi2, mm_, ""), "");
  call_update(cg, kind, gep(cg, cg->params, zb2), gep(cg, state, zb2), NULL, mm_, up);
  loop_end(cg, &lrest);
}

/* float train_update(params, grads, inputs, metrics, arena, batch, max_batch, update) */
void cg_emit_train_update(Cg *cg) {
  const Graph *g = cg->g;
  emit_update_functions(cg);
  emit_row_update_functions(cg);
  LLVMTypeRef args[8] = {cg->ptr, cg->ptr, cg->ptr, cg->ptr, cg->ptr, cg->i64, cg->i64, cg->ptr};
  begin_function(cg, "nnc_train_update", LLVMFunctionType(cg->f32, args, 8, false));
  cg->params = LLVMGetParam(cg->fn, 0);
  cg->grads = LLVMGetParam(cg->fn, 1);
  cg->inputs = LLVMGetParam(cg->fn, 2);
  LLVMValueRef metrics = LLVMGetParam(cg->fn, 3);
  cg->arena = LLVMGetParam(cg->fn, 4);
  cg->batch = LLVMGetParam(cg->fn, 5);
  cg->max_batch = LLVMGetParam(cg->fn, 6);
  LLVMValueRef up = LLVMGetParam(cg->fn, 7);

  /* which gradients are outer products that the update can consume directly */
  uint32_t *uses = calloc(g->count, sizeof *uses);
  for (NodeId id = 1; id < g->count; id++)
    for (int k = 0; k < op_info[g->nodes[id].op].arity; k++) uses[g->nodes[id].in[k]]++;
  NodeId *outer = calloc((size_t)g->nparams + 1, sizeof *outer);
  bool *need = calloc(g->count, sizeof(bool));
  mark(g, g->loss, need);
  for (int i = 0; i < g->nmetrics; i++) mark(g, g->metrics[i].node, need);
  for (int i = 0; i < g->nparams; i++) {
    outer[i] = plan_outer_product(g, i, uses);
    if (outer[i]) /* its operands, not the product */
      need[graph_node(g, outer[i])->in[0]] = need[graph_node(g, outer[i])->in[1]] = true;
    else
      mark(g, g->params[i].grad, need);
  }
  emit_nodes(cg, need);
  store_metrics(cg, metrics);
  LLVMValueRef loss = scalar_result(cg, g->loss);

  /* the update, after every node has read the parameters */
  LLVMValueRef kind = load_field(cg, up, 0), state = load_field(cg, up, 6);
  for (int i = 0; i < g->nparams; i++) {
    const GraphParam *p = &g->params[i];
    LLVMValueRef off = i64c(cg, p->offset), size = i64c(cg, shape_size(p->shape));
    LLVMValueRef w = gep(cg, cg->params, off), st = gep(cg, state, off);
    if (!outer[i]) {
      NodeId gr = p->grad;
      LLVMValueRef gp;
      if (cg->plan.loc[gr].kind == LOC_IMM) { /* a constant gradient: spell it out */
        gp = gep(cg, cg->grads, off);
        emit_copy(cg, gp, p->shape, gr);
      } else {
        gp = buffer(cg, gr);
      }
      call_update(cg, kind, w, st, gp, size, up);
      continue;
    }
    /* small batches: the fused pass; large ones: one GEMM, then the update */
    LLVMValueRef rows_a;
    int64_t n;
    matrix_view(cg, graph_node(g, graph_node(g, outer[i])->in[0])->shape, &rows_a, &n);
    LLVMValueRef gp = buffer(cg, outer[i]);
    LLVMBasicBlockRef fused = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "fused");
    LLVMBasicBlockRef gemm = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "gemm");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "param_done");
    /* (the fused pass keeps two lists of W's rows on the stack: at most 2^16 rows) */
    bool can_fuse = n <= (1 << 16);
    LLVMBuildCondBr(cg->b,
                    can_fuse ? LLVMBuildICmp(cg->b, LLVMIntSLE, rows_a, i64c(cg, 4), "")
                             : LLVMConstInt(LLVMInt1TypeInContext(cg->ctx), 0, false),
                    fused, gemm);
    LLVMPositionBuilderAtEnd(cg->b, fused);
    if (can_fuse)
      emit_outer_update(cg, i, outer[i], kind, state, up);
    LLVMBuildBr(cg->b, done);
    LLVMPositionBuilderAtEnd(cg->b, gemm);
    emit_matmul(cg, outer[i]);
    call_update(cg, kind, w, st, gp, size, up);
    LLVMBuildBr(cg->b, done);
    LLVMPositionBuilderAtEnd(cg->b, done);
  }
  LLVMBuildRet(cg->b, loss);
  free(need);
  free(outer);
  free(uses);
  cg->train_update = cg->fn;
}
