/* codegen_sqrt.c: a correctly rounded square root that does not use the divider.
 *
 * RMSprop's update takes a square root and a division per element, and on the machines
 * nnc is measured on both go through one unpipelined divider (16 cycles per 16 lanes here,
 * bench/limits.c) while the multiply-add units idle. So one of every four of the update's
 * vectors takes its square root here instead (codegen_update.c says why four), from the
 * AVX-512 reciprocal square root estimate (relative error below 2^-14) and multiply-adds:
 *
 *   u  = s 2^48                           exact; brings s's range where nothing below underflows
 *   y  = rsqrt14(max(u, 2^-102))          the estimate (the max keeps u = 0 finite)
 *   y' = y + (y/2)(1 - (u y) y)           one Newton step: relative error ~2^-27
 *   t  = u y',  h = y'/2                  t within an ulp of sqrt(u)
 *   r  = u - t*t                          exact, in one fma
 *   sqrt(s) = (t + r h) 2^-24             Markstein's correction: rounded as IEEE rounds
 *
 * The result is bit for bit what vsqrtps gives, so training is unchanged. Checked on every
 * one of the 2^32 float inputs, with and without FTZ/DAZ, on the Zen 4 the project
 * measures on: it holds for every s in [+0, 2^64] (subnormals too; the correction is
 * exact from u = 2^-102 up). The proof of the correction step needs an estimate closer
 * than the float rounding of y' gives, so the check is what stands behind it: the same
 * sequence with the estimate replaced by 1/sqrt(u) off by up to 0.999 * 2^-14 (at random,
 * and at both extremes) was still exact on all 2^24 inputs of two binades, so another
 * CPU's estimate (the ISA fixes only its error bound) should not change a bit; and
 * tests/codegen/exact-sqrt.nn checks the generated code on every host it runs on, on all
 * 2^24 inputs of two binades (every normal input, by scaling) and on every boundary.
 * A vector with any other lane (-0, a negative, a larger s, an inf or a NaN) takes
 * vsqrtps instead.
 */
#include "codegen_internal.h"

enum { SQRT_MAX_BITS = 0x5f800000 /* 2^64 */ };

static LLVMValueRef splat_i32(Cg *cg, uint32_t v, unsigned lanes) {
  LLVMValueRef e[16];
  for (unsigned i = 0; i < lanes; i++) e[i] = LLVMConstInt(cg->i32, v, false);
  return LLVMConstVector(e, lanes);
}

static LLVMValueRef fma3(Cg *cg, LLVMValueRef a, LLVMValueRef b, LLVMValueRef c) {
  LLVMValueRef args[3] = {a, b, c};
  return intrinsic_of(cg, "llvm.fma", LLVMTypeOf(a), args, 3);
}

LLVMValueRef cg_exact_sqrt16(Cg *cg, LLVMValueRef s) {
  LLVMBuilderRef b = cg->b;
  enum { L = 16 };
  LLVMTypeRef vf = LLVMVectorType(cg->f32, L), vi = LLVMVectorType(cg->i32, L);
  LLVMTypeRef i16 = LLVMInt16TypeInContext(cg->ctx), i1 = LLVMInt1TypeInContext(cg->ctx);

  /* every lane's bits at most 2^64's: +0 to 2^64, and no sign */
  LLVMValueRef bits = LLVMBuildBitCast(b, s, vi, "");
  LLVMValueRef ok = LLVMBuildICmp(b, LLVMIntULE, bits, splat_i32(cg, SQRT_MAX_BITS, L), "");
  LLVMValueRef all = LLVMBuildICmp(b, LLVMIntEQ, LLVMBuildBitCast(b, ok, i16, ""), LLVMConstAllOnes(i16), "");
  LLVMValueRef expect[2] = {all, LLVMConstInt(i1, 1, false)};
  all = intrinsic_of(cg, "llvm.expect", i1, expect, 2);
  LLVMBasicBlockRef soft = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "sqrt_fma");
  LLVMBasicBlockRef hard = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "sqrt_divider");
  LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "sqrt_done");
  LLVMBuildCondBr(b, all, soft, hard);

  LLVMPositionBuilderAtEnd(b, soft);
  LLVMValueRef lo = cg_fconst(cg, vf, 0x1p-102), half = cg_fconst(cg, vf, 0.5), one = cg_fconst(cg, vf, 1);
  LLVMValueRef u = LLVMBuildFMul(b, s, cg_fconst(cg, vf, 0x1p48), "");
  LLVMValueRef c = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, u, lo, ""), lo, u, "");
  LLVMValueRef est[3] = {c, LLVMConstNull(vf), LLVMConstAllOnes(i16)};
  LLVMValueRef y = intrinsic_of(cg, "llvm.x86.avx512.rsqrt14.ps.512", NULL, est, 3);
  LLVMValueRef t = LLVMBuildFMul(b, u, y, "");
  LLVMValueRef e = fma3(cg, LLVMBuildFNeg(b, t, ""), y, one);
  y = fma3(cg, LLVMBuildFMul(b, half, y, ""), e, y);
  t = LLVMBuildFMul(b, u, y, "");
  LLVMValueRef r = fma3(cg, LLVMBuildFNeg(b, t, ""), t, u);
  LLVMValueRef soft_root = LLVMBuildFMul(b, fma3(cg, r, LLVMBuildFMul(b, half, y, ""), t), cg_fconst(cg, vf, 0x1p-24), "");
  LLVMBasicBlockRef soft_end = LLVMGetInsertBlock(b);
  LLVMBuildBr(b, join);

  LLVMPositionBuilderAtEnd(b, hard);
  LLVMValueRef hard_root = intrinsic_of(cg, "llvm.sqrt", vf, &s, 1);
  LLVMBuildBr(b, join);

  LLVMPositionBuilderAtEnd(b, join);
  LLVMValueRef root = LLVMBuildPhi(b, vf, "sqrt");
  LLVMAddIncoming(root, (LLVMValueRef[]){soft_root, hard_root}, (LLVMBasicBlockRef[]){soft_end, hard}, 2);
  return root;
}
