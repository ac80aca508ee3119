/* codegen_gemm.c: matrix products as generated register-blocked kernels.
 *
 * A kernel computes one micro-tile of C, mr rows by nv vectors, over the whole K: its
 * mr*nv accumulators stay in registers, each step loads nv vectors of a row of B and
 * broadcasts one element of A per row into nv fused multiply-adds. Nothing is packed:
 * B's rows are contiguous (the product's right operand is a weight matrix or a batch of
 * rows), A is read along its rows or, transposed, along its columns (the weight
 * gradient's x^T), and the panel of B a tile column reads stays in L2 while every
 * row tile of C passes over it. On the flagship's shapes this runs at 96% of the FMA
 * peak where OpenBLAS 0.3.21's sgemm reaches 84-87% (bench/README.md), mostly because it
 * skips the packing copies and the separate zeroing of C that beta = 0 costs there.
 *
 * The tile fills the register file: 32 vector registers (AVX-512) hold 8 x 3
 * accumulators and 3 vectors of B's row; 16 (AVX2) hold 4 x 3 and 3. Eight rows divide
 * the usual batch sizes and layer widths, so the rows left over (by a one-row kernel)
 * are rare. Without FMA, or when the target CPU is named rather than the host (its
 * features are not known here), products of several rows call CBLAS.
 */
#include <stdio.h>
#include <string.h>

#include "codegen_internal.h"

/* Whether `features` (LLVM's "+a,-b,..." list) turns `name` on. */
static bool has_feature(const char *features, const char *name) {
  size_t n = strlen(name);
  for (const char *p = features; p && *p;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n + 1 && p[0] == '+' && memcmp(p + 1, name, n) == 0) return true;
    p = end ? end + 1 : NULL;
  }
  return false;
}

GemmTarget cg_gemm_target(const char *features) {
  if (!features || !has_feature(features, "fma")) return (GemmTarget){0, 0, 0};
  if (has_feature(features, "avx512f")) return (GemmTarget){16, 8, 3};
  if (has_feature(features, "avx2")) return (GemmTarget){8, 4, 3};
  return (GemmTarget){0, 0, 0};
}

bool cg_gemm_applies(const Cg *cg, int64_t n, int64_t k) {
  /* a row of C must be whole vectors; narrow products (a 10-class output layer) stay
   * with CBLAS, whose small-matrix kernels handle them well. K is not blocked: a panel
   * of B (K rows) must stay in L2, so a long K (a weight gradient summed over a whole
   * data set) goes to CBLAS, which blocks it. */
  return cg->gemm.width > 0 && n % cg->gemm.width == 0 && n >= 2 * cg->gemm.width && k <= GEMM_MAX_K;
}

static LLVMTypeRef vec_type(Cg *cg) { return LLVMVectorType(cg->f32, (unsigned)cg->gemm.width); }

/* One step k of a kernel: out[r*nv + v] = fma(A[r*ars + k*aks], B[k*ldb + v*W ..], in[..]) */
static void k_step(Cg *cg, int mr, int nv, LLVMValueRef k, LLVMValueRef A, LLVMValueRef ars, LLVMValueRef aks,
                   LLVMValueRef B, LLVMValueRef ldb, const LLVMValueRef *in, LLVMValueRef *out) {
  LLVMTypeRef vt = vec_type(cg);
  LLVMValueRef brow = gep(cg, B, LLVMBuildMul(cg->b, k, ldb, ""));
  LLVMValueRef bv[3];
  for (int v = 0; v < nv; v++) {
    bv[v] = LLVMBuildLoad2(cg->b, vt, gep(cg, brow, i64c(cg, (int64_t)v * cg->gemm.width)), "b");
    LLVMSetAlignment(bv[v], 4);
  }
  LLVMValueRef acol = gep(cg, A, LLVMBuildMul(cg->b, k, aks, ""));
  for (int r = 0; r < mr; r++) {
    LLVMValueRef a = LLVMBuildLoad2(cg->b, cg->f32, gep(cg, acol, LLVMBuildMul(cg->b, i64c(cg, r), ars, "")), "a");
    LLVMValueRef splat = cg_splat(cg, a, vt);
    for (int v = 0; v < nv; v++)
      out[r * nv + v] = intrinsic_of(cg, "llvm.fma", vt, (LLVMValueRef[]){splat, bv[v], in[r * nv + v]}, 3);
  }
}

/* void nnc_gemm_<mr>x<nv>(i64 K, ptr A, i64 ars, i64 aks, ptr B, i64 ldb, ptr C, i64 ldc):
 * C[r, v*W + l] = sum over k of A[r*ars + k*aks] * B[k*ldb + v*W + l] */
static LLVMValueRef kernel(Cg *cg, int mr, int nv) {
  if (cg->gemm_fn[mr][nv]) return cg->gemm_fn[mr][nv];
  LLVMTypeRef vt = vec_type(cg);
  LLVMTypeRef args[8] = {cg->i64, cg->ptr, cg->i64, cg->i64, cg->ptr, cg->i64, cg->ptr, cg->i64};
  LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(cg->ctx), args, 8, false);
  char name[32];
  snprintf(name, sizeof name, "nnc_gemm_%dx%d", mr, nv);
  LLVMValueRef fn = cg_helper(cg, name, fty);
  /* C is never A or B (the plan gives a product its own buffer); A and B are only read */
  unsigned noalias = LLVMGetEnumAttributeKindForName("noalias", 7);
  for (unsigned i = 0; i < 3; i++) /* attribute indices of A, B, C (1-based params) */
    LLVMAddAttributeAtIndex(fn, (unsigned[]){2, 5, 7}[i], LLVMCreateEnumAttribute(cg->ctx, noalias, 0));
  /* keep 512-bit vectors whole even where the CPU's tuning prefers 256 */
  char width[8];
  snprintf(width, sizeof width, "%d", cg->gemm.width * 32);
  LLVMAddAttributeAtIndex(fn, (unsigned)LLVMAttributeFunctionIndex,
                          LLVMCreateStringAttribute(cg->ctx, "min-legal-vector-width", 22, width,
                                                    (unsigned)strlen(width)));

  LLVMValueRef saved_fn = cg->fn;
  LLVMBasicBlockRef saved_bb = LLVMGetInsertBlock(cg->b);
  cg->fn = fn;
  LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(cg->ctx, fn, "entry");
  LLVMPositionBuilderAtEnd(cg->b, entry);
  LLVMValueRef K = LLVMGetParam(fn, 0), A = LLVMGetParam(fn, 1), ars = LLVMGetParam(fn, 2);
  LLVMValueRef aks = LLVMGetParam(fn, 3), B = LLVMGetParam(fn, 4), ldb = LLVMGetParam(fn, 5);
  LLVMValueRef C = LLVMGetParam(fn, 6), ldc = LLVMGetParam(fn, 7);

  int nacc = mr * nv;
  /* two steps of k per iteration (the pass pipeline's unroller is off: it doubled the
   * compile time for nothing elsewhere), then the odd one */
  LLVMValueRef acc[8 * 3], next[8 * 3];
  Loop lk;
  LLVMValueRef pairs = LLVMBuildSDiv(cg->b, K, i64c(cg, 2), "pairs");
  LLVMValueRef p = loop_begin(cg, pairs, &lk);
  for (int t = 0; t < nacc; t++) acc[t] = carried(cg, &lk, LLVMConstNull(vt), entry);
  LLVMValueRef k0 = LLVMBuildMul(cg->b, p, i64c(cg, 2), "k");
  k_step(cg, mr, nv, k0, A, ars, aks, B, ldb, acc, next);
  LLVMValueRef mid[8 * 3];
  memcpy(mid, next, sizeof mid);
  k_step(cg, mr, nv, LLVMBuildAdd(cg->b, k0, i64c(cg, 1), ""), A, ars, aks, B, ldb, mid, next);
  loop_end_carry(cg, &lk, acc, next, nacc);
  LLVMBasicBlockRef even = LLVMGetInsertBlock(cg->b);
  LLVMBasicBlockRef odd = LLVMAppendBasicBlockInContext(cg->ctx, fn, "odd_k");
  LLVMBasicBlockRef store = LLVMAppendBasicBlockInContext(cg->ctx, fn, "store");
  LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntNE, LLVMBuildSRem(cg->b, K, i64c(cg, 2), ""), i64c(cg, 0), ""),
                  odd, store);
  LLVMPositionBuilderAtEnd(cg->b, odd);
  k_step(cg, mr, nv, LLVMBuildSub(cg->b, K, i64c(cg, 1), ""), A, ars, aks, B, ldb, acc, next);
  LLVMBuildBr(cg->b, store);
  LLVMPositionBuilderAtEnd(cg->b, store);
  for (int t = 0; t < nacc; t++) {
    LLVMValueRef phi = LLVMBuildPhi(cg->b, vt, "");
    LLVMAddIncoming(phi, (LLVMValueRef[]){acc[t], next[t]}, (LLVMBasicBlockRef[]){even, odd}, 2);
    acc[t] = phi;
  }
  for (int r = 0; r < mr; r++) {
    LLVMValueRef crow = gep(cg, C, LLVMBuildMul(cg->b, i64c(cg, r), ldc, ""));
    for (int v = 0; v < nv; v++) {
      LLVMValueRef st = LLVMBuildStore(cg->b, acc[r * nv + v], gep(cg, crow, i64c(cg, (int64_t)v * cg->gemm.width)));
      LLVMSetAlignment(st, 4);
    }
  }
  LLVMBuildRetVoid(cg->b);
  cg->fn = saved_fn;
  LLVMPositionBuilderAtEnd(cg->b, saved_bb);
  cg->gemm_fn[mr][nv] = fn;
  return fn;
}

static void call_kernel(Cg *cg, int mr, int nv, LLVMValueRef k, LLVMValueRef a, LLVMValueRef ars, LLVMValueRef aks,
                        LLVMValueRef b, int64_t ldb, LLVMValueRef c) {
  LLVMValueRef fn = kernel(cg, mr, nv);
  LLVMValueRef args[8] = {k, a, ars, aks, b, i64c(cg, ldb), c, i64c(cg, ldb)}; /* C's rows are B's length */
  LLVMBuildCall2(cg->b, LLVMGlobalGetValueType(fn), fn, args, 8, "");
}

/* One column panel of C (columns j .. j + nv*W): the row tiles, then the rows left. */
static void emit_panel(Cg *cg, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b, LLVMValueRef m, LLVMValueRef k,
                       int64_t n, bool ta, int64_t lda, LLVMValueRef j, int nv) {
  int mr = cg->gemm.mr;
  LLVMValueRef ars = ta ? i64c(cg, 1) : i64c(cg, lda), aks = ta ? i64c(cg, lda) : i64c(cg, 1);
  LLVMValueRef bj = gep(cg, b, j);
  LLVMValueRef tiles = LLVMBuildUDiv(cg->b, m, i64c(cg, mr), "tiles");
  Loop lt;
  LLVMValueRef t = loop_begin(cg, tiles, &lt);
  LLVMValueRef i = LLVMBuildMul(cg->b, t, i64c(cg, mr), "");
  call_kernel(cg, mr, nv, k, gep(cg, a, LLVMBuildMul(cg->b, i, ars, "")), ars, aks, bj, n,
              gep(cg, c, LLVMBuildAdd(cg->b, LLVMBuildMul(cg->b, i, i64c(cg, n), ""), j, "")));
  loop_end(cg, &lt);
  /* the last m % mr rows, one at a time */
  LLVMValueRef i0 = LLVMBuildMul(cg->b, tiles, i64c(cg, mr), "");
  Loop lr;
  LLVMValueRef r = loop_begin(cg, LLVMBuildURem(cg->b, m, i64c(cg, mr), "rest"), &lr);
  LLVMValueRef ir = LLVMBuildAdd(cg->b, i0, r, "");
  call_kernel(cg, 1, nv, k, gep(cg, a, LLVMBuildMul(cg->b, ir, ars, "")), ars, aks, bj, n,
              gep(cg, c, LLVMBuildAdd(cg->b, LLVMBuildMul(cg->b, ir, i64c(cg, n), ""), j, "")));
  loop_end(cg, &lr);
}

/* The product over all of C's column panels for rows m of A and C. */
/* Rows of A (and C) per block: the block of A stays in L2 (half of 1 MB, with B's panel
 * beside it) while every column panel passes over it, so a tall A (a whole data set in
 * one batch) is read once instead of once per panel. 160 rows at K = 784: a batch of
 * 128 is one block. */
enum { A_BLOCK_BYTES = 512 * 1024 };

static void emit_rows(Cg *cg, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b, LLVMValueRef m, LLVMValueRef k,
                      int64_t n, bool ta, int64_t lda, int64_t k_bound) {
  int w = cg->gemm.width, nv = cg->gemm.nv, mr = cg->gemm.mr;
  int64_t nr = (int64_t)w * nv, panels = n / nr;
  int rest_nv = (int)((n % nr) / w);
  int64_t block = A_BLOCK_BYTES / (4 * k_bound) / mr * mr;
  if (block < mr) block = mr;
  LLVMBuilderRef bd = cg->b;
  LLVMValueRef blk = i64c(cg, block);
  Loop lb, lp;
  LLVMValueRef nblocks = LLVMBuildUDiv(bd, LLVMBuildAdd(bd, m, i64c(cg, block - 1), ""), blk, "");
  LLVMValueRef r0 = LLVMBuildMul(bd, loop_begin(cg, nblocks, &lb), blk, "r0");
  LLVMValueRef left = LLVMBuildSub(bd, m, r0, "");
  LLVMValueRef mb = LLVMBuildSelect(bd, LLVMBuildICmp(bd, LLVMIntSLT, left, blk, ""), left, blk, "mb");
  LLVMValueRef ab = gep(cg, a, ta ? r0 : LLVMBuildMul(bd, r0, i64c(cg, lda), ""));
  LLVMValueRef cb = gep(cg, c, LLVMBuildMul(bd, r0, i64c(cg, n), ""));
  if (panels > 0) {
    LLVMValueRef p = loop_begin(cg, i64c(cg, panels), &lp);
    emit_panel(cg, cb, ab, b, mb, k, n, ta, lda, LLVMBuildMul(bd, p, i64c(cg, nr), "j"), nv);
    loop_end(cg, &lp);
  }
  if (rest_nv) emit_panel(cg, cb, ab, b, mb, k, n, ta, lda, i64c(cg, panels * nr), rest_nv);
  loop_end(cg, &lb);
}

static LLVMTypeRef gemm_ctx_type(Cg *cg) {
  return LLVMStructTypeInContext(cg->ctx, (LLVMTypeRef[]){cg->ptr, cg->ptr, cg->ptr, cg->i64, cg->i64}, 5, false);
}

/* void body(ctx, lo, hi): the product for row tiles lo..hi-1 (the last may be partial);
 * ctx = {C, A, B, M, K}. The unit nnrt_parallel_for splits. */
static LLVMValueRef rows_body(Cg *cg, int64_t n, bool ta, int64_t lda, int64_t k_bound) {
  LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(cg->ctx), (LLVMTypeRef[]){cg->ptr, cg->i64, cg->i64}, 3, false);
  LLVMValueRef fn = cg_helper(cg, "nnc_gemm_rows", fty);
  LLVMValueRef saved_fn = cg->fn;
  LLVMBasicBlockRef saved_bb = LLVMGetInsertBlock(cg->b);
  cg->fn = fn;
  LLVMPositionBuilderAtEnd(cg->b, LLVMAppendBasicBlockInContext(cg->ctx, fn, "entry"));
  LLVMTypeRef ct = gemm_ctx_type(cg);
  LLVMValueRef ctx = LLVMGetParam(fn, 0), lo = LLVMGetParam(fn, 1), hi = LLVMGetParam(fn, 2);
  LLVMValueRef f[5];
  for (unsigned i = 0; i < 5; i++)
    f[i] = LLVMBuildLoad2(cg->b, i < 3 ? cg->ptr : cg->i64, LLVMBuildStructGEP2(cg->b, ct, ctx, i, ""), "");
  LLVMValueRef mr = i64c(cg, cg->gemm.mr);
  LLVMValueRef r0 = LLVMBuildMul(cg->b, lo, mr, "r0");
  LLVMValueRef r1 = LLVMBuildMul(cg->b, hi, mr, "");
  r1 = LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntSLT, r1, f[3], ""), r1, f[3], "r1");
  LLVMValueRef a = gep(cg, f[1], ta ? r0 : LLVMBuildMul(cg->b, r0, i64c(cg, lda), ""));
  LLVMValueRef c = gep(cg, f[0], LLVMBuildMul(cg->b, r0, i64c(cg, n), ""));
  emit_rows(cg, c, a, f[2], LLVMBuildSub(cg->b, r1, r0, "m"), f[4], n, ta, lda, k_bound);
  LLVMBuildRetVoid(cg->b);
  cg->fn = saved_fn;
  LLVMPositionBuilderAtEnd(cg->b, saved_bb);
  return fn;
}

/* The runtime's nnrt_parallel_for, declared weak: NULL when the object is linked
 * without libnnrt (the test harnesses), and then every loop runs on one thread. */
static LLVMValueRef parallel_for(Cg *cg, LLVMTypeRef *ty) {
  *ty = LLVMFunctionType(LLVMVoidTypeInContext(cg->ctx), (LLVMTypeRef[]){cg->ptr, cg->ptr, cg->i64}, 3, false);
  LLVMValueRef fn = LLVMGetNamedFunction(cg->mod, "nnrt_parallel_for");
  if (!fn) {
    fn = LLVMAddFunction(cg->mod, "nnrt_parallel_for", *ty);
    LLVMSetLinkage(fn, LLVMExternalWeakLinkage);
  }
  return fn;
}

LLVMValueRef cg_entry_alloca(Cg *cg, LLVMTypeRef ty, const char *name) {
  LLVMBuilderRef eb = LLVMCreateBuilderInContext(cg->ctx);
  LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(cg->fn);
  LLVMValueRef first = LLVMGetFirstInstruction(entry);
  if (first)
    LLVMPositionBuilderBefore(eb, first);
  else
    LLVMPositionBuilderAtEnd(eb, entry);
  LLVMValueRef a = LLVMBuildAlloca(eb, ty, name);
  LLVMDisposeBuilder(eb);
  return a;
}

void cg_parallel_call(Cg *cg, LLVMValueRef body, LLVMValueRef ctx, LLVMValueRef n, LLVMValueRef worth) {
  LLVMTypeRef pty;
  LLVMValueRef pf = parallel_for(cg, &pty);
  LLVMValueRef split = LLVMBuildAnd(cg->b, LLVMBuildICmp(cg->b, LLVMIntNE, pf, LLVMConstNull(cg->ptr), ""), worth, "");
  LLVMBasicBlockRef par = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "threads");
  LLVMBasicBlockRef one = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "here");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "joined");
  LLVMBuildCondBr(cg->b, split, par, one);
  LLVMPositionBuilderAtEnd(cg->b, par);
  LLVMBuildCall2(cg->b, pty, pf, (LLVMValueRef[]){body, ctx, n}, 3, "");
  LLVMBuildBr(cg->b, done);
  LLVMPositionBuilderAtEnd(cg->b, one);
  LLVMTypeRef bty = LLVMFunctionType(LLVMVoidTypeInContext(cg->ctx), (LLVMTypeRef[]){cg->ptr, cg->i64, cg->i64}, 3, false);
  LLVMBuildCall2(cg->b, bty, body, (LLVMValueRef[]){ctx, i64c(cg, 0), n}, 3, "");
  LLVMBuildBr(cg->b, done);
  LLVMPositionBuilderAtEnd(cg->b, done);
}

/* Products below this many multiply-adds (about 20 us on one core) are not worth
 * waking another thread for. */
enum { PARALLEL_MIN_MACS = 1 << 20 };

void cg_emit_gemm(Cg *cg, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b, LLVMValueRef m, LLVMValueRef k,
                  int64_t n, bool ta, int64_t lda) {
  int64_t k_bound = LLVMIsAConstantInt(k) ? LLVMConstIntGetSExtValue(k) : GEMM_MAX_K;
  LLVMValueRef body = rows_body(cg, n, ta, lda, k_bound);
  LLVMTypeRef ct = gemm_ctx_type(cg);
  LLVMValueRef ctx = cg_entry_alloca(cg, ct, "gemm_ctx");
  LLVMValueRef vals[5] = {c, a, b, m, k};
  for (unsigned i = 0; i < 5; i++) LLVMBuildStore(cg->b, vals[i], LLVMBuildStructGEP2(cg->b, ct, ctx, i, ""));
  LLVMValueRef mr = i64c(cg, cg->gemm.mr);
  LLVMValueRef tiles = LLVMBuildUDiv(cg->b, LLVMBuildAdd(cg->b, m, LLVMBuildSub(cg->b, mr, i64c(cg, 1), ""), ""), mr, "");
  LLVMValueRef macs = LLVMBuildMul(cg->b, LLVMBuildMul(cg->b, m, k, ""), i64c(cg, n), "");
  cg_parallel_call(cg, body, ctx, tiles, LLVMBuildICmp(cg->b, LLVMIntSGE, macs, i64c(cg, PARALLEL_MIN_MACS), ""));
}

/* void nnc_cblas_rows(ctx = {C, A, B, M, N, K, R}, lo, hi): cblas_sgemm on chunks lo..hi-1
 * of R rows of C (and of op(A)). OpenBLAS runs one thread per call (runtime/parallel.c),
 * so the chunks are spread over the runtime's workers instead. The chunks depend on M
 * alone (up to four, of 16 rows or more), never on the thread count: OpenBLAS picks its
 * summation path by size, so a split by thread would make the numbers depend on it. */
static LLVMTypeRef cblas_ctx_type(Cg *cg) {
  return LLVMStructTypeInContext(cg->ctx, (LLVMTypeRef[]){cg->ptr, cg->ptr, cg->ptr, cg->i64, cg->i64, cg->i64, cg->i64},
                                 7, false);
}

static LLVMValueRef cblas_rows_body(Cg *cg, bool ta, bool tb, int64_t lda, int64_t ldb, int64_t ldc) {
  enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
  LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(cg->ctx), (LLVMTypeRef[]){cg->ptr, cg->i64, cg->i64}, 3, false);
  LLVMValueRef fn = cg_helper(cg, "nnc_cblas_rows", fty);
  LLVMValueRef saved_fn = cg->fn;
  LLVMBasicBlockRef saved_bb = LLVMGetInsertBlock(cg->b);
  cg->fn = fn;
  LLVMBuilderRef b = cg->b;
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(cg->ctx, fn, "entry"));
  LLVMTypeRef ct = cblas_ctx_type(cg);
  LLVMValueRef ctx = LLVMGetParam(fn, 0), lo = LLVMGetParam(fn, 1), hi = LLVMGetParam(fn, 2);
  LLVMValueRef f[7];
  for (unsigned i = 0; i < 7; i++)
    f[i] = LLVMBuildLoad2(b, i < 3 ? cg->ptr : cg->i64, LLVMBuildStructGEP2(b, ct, ctx, i, ""), "");
  Loop lc;
  LLVMValueRef ch = LLVMBuildAdd(b, lo, loop_begin(cg, LLVMBuildSub(b, hi, lo, ""), &lc), "");
  LLVMValueRef r0 = LLVMBuildMul(b, ch, f[6], "r0");
  LLVMValueRef r1 = LLVMBuildAdd(b, r0, f[6], "");
  r1 = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, r1, f[3], ""), r1, f[3], "r1");
  LLVMTypeRef i32 = cg->i32;
  LLVMValueRef args[14] = {
      LLVMConstInt(i32, ROW_MAJOR, false),
      LLVMConstInt(i32, ta ? TRANS : NO_TRANS, false),
      LLVMConstInt(i32, tb ? TRANS : NO_TRANS, false),
      LLVMBuildTrunc(b, LLVMBuildSub(b, r1, r0, ""), i32, ""),
      LLVMBuildTrunc(b, f[4], i32, ""),
      LLVMBuildTrunc(b, f[5], i32, ""),
      f32c(cg, 1),
      gep(cg, f[1], ta ? r0 : LLVMBuildMul(b, r0, i64c(cg, lda), "")),
      LLVMConstInt(i32, (unsigned long long)lda, false),
      f[2],
      LLVMConstInt(i32, (unsigned long long)ldb, false),
      f32c(cg, 0),
      gep(cg, f[0], LLVMBuildMul(b, r0, i64c(cg, ldc), "")),
      LLVMConstInt(i32, (unsigned long long)ldc, false),
  };
  LLVMBuildCall2(b, cg->sgemm_ty, cg->sgemm, args, 14, "");
  loop_end(cg, &lc);
  LLVMBuildRetVoid(b);
  cg->fn = saved_fn;
  LLVMPositionBuilderAtEnd(b, saved_bb);
  return fn;
}

void cg_emit_cblas_gemm(Cg *cg, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b, LLVMValueRef m, LLVMValueRef n,
                        LLVMValueRef k, bool ta, bool tb, int64_t lda, int64_t ldb, int64_t ldc) {
  LLVMBuilderRef bd = cg->b;
  LLVMValueRef body = cblas_rows_body(cg, ta, tb, lda, ldb, ldc);
  LLVMTypeRef ct = cblas_ctx_type(cg);
  LLVMValueRef ctx = cg_entry_alloca(cg, ct, "cblas_ctx");
  LLVMValueRef macs = LLVMBuildMul(bd, LLVMBuildMul(bd, m, k, ""), n, "");
  LLVMValueRef big = LLVMBuildICmp(bd, LLVMIntSGE, macs, i64c(cg, PARALLEL_MIN_MACS), "");
  /* chunks: one for a small product; else min(4, ceil(M / 16)) */
  LLVMValueRef by16 = LLVMBuildUDiv(bd, LLVMBuildAdd(bd, m, i64c(cg, 15), ""), i64c(cg, 16), "");
  LLVMValueRef four = LLVMBuildSelect(bd, LLVMBuildICmp(bd, LLVMIntSLT, by16, i64c(cg, 4), ""), by16, i64c(cg, 4), "");
  LLVMValueRef chunks = LLVMBuildSelect(bd, big, four, i64c(cg, 1), "chunks");
  LLVMValueRef rows = LLVMBuildUDiv(bd, LLVMBuildAdd(bd, m, LLVMBuildSub(bd, chunks, i64c(cg, 1), ""), ""), chunks, "");
  LLVMValueRef vals[7] = {c, a, b, m, n, k, rows};
  for (unsigned i = 0; i < 7; i++) LLVMBuildStore(bd, vals[i], LLVMBuildStructGEP2(bd, ct, ctx, i, ""));
  cg_parallel_call(cg, body, ctx, chunks, big);
}
