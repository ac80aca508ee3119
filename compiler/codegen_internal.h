/* codegen_internal.h: the state shared by codegen.c (entry points) and codegen_desc.c
 * (the nnrt_model descriptor). Nothing outside codegen includes it. */
#ifndef NNC_CODEGEN_INTERNAL_H
#define NNC_CODEGEN_INTERNAL_H

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "nnc.h"

/* The micro-kernel shape for the target (codegen_gemm.c). */
typedef struct GemmTarget {
  int width; /* floats per vector register; 0: no kernels, every product calls CBLAS */
  int mr, nv; /* the micro-tile: mr rows by nv vectors */
} GemmTarget;

struct CgContext {
  const Graph *g;
  CgOptions opts;
  Plan plan;
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMBuilderRef b;
  LLVMTargetMachineRef tm;
  LLVMTypeRef f32, f64, i32, i64, ptr;
  LLVMTypeRef sgemm_ty, sgemv_ty, update_fn_ty, rows_fn_ty;
  LLVMValueRef update_fn[5];      /* nnc_update_<kind>, by nnrt_update_kind */
  LLVMValueRef zero_update_fn[5]; /* nnc_update_<kind>_zero: the same by a zero gradient */
  LLVMValueRef split_update_fn[5]; /* nnc_update_<kind>_split: a range of it, for the threads */
  LLVMValueRef rows_fn[5];        /* nnc_rows_<kind>: a row of an outer product's update */
  LLVMValueRef sgemm, sgemv;
  GemmTarget gemm;
  LLVMValueRef gemm_fn[9][4]; /* nnc_gemm_<mr>x<nv>, made on first use */
  LLVMValueRef train_step, evaluate, predict, train_update; /* the finished entry points */

  /* the function being emitted */
  LLVMValueRef fn;
  LLVMValueRef params, grads, inputs, arena, batch, max_batch, batch_f;
  LLVMValueRef *base; /* per node: its buffer's address in this function, or NULL */
  LLVMValueRef env;   /* the function's {params, grads, inputs, arena, batch, max_batch}
                         for outlined elementwise loops, made on first use, or NULL */
  LLVMValueRef *elementwise_fn; /* per node: its outlined loop (any entry point's), or NULL */
};
typedef struct CgContext Cg;

/* codegen.c's small builders, shared with the other codegen files. */
LLVMValueRef i64c(Cg *cg, int64_t v);
LLVMValueRef f32c(Cg *cg, double v);
LLVMValueRef gep(Cg *cg, LLVMValueRef base, LLVMValueRef index); /* &base[index], floats */
LLVMValueRef cg_helper(Cg *cg, const char *name, LLVMTypeRef ty);  /* internal, noinline */
LLVMValueRef cg_splat(Cg *cg, LLVMValueRef x, LLVMTypeRef ty); /* x in every lane of ty (a vector or f32) */
LLVMValueRef cg_fconst(Cg *cg, LLVMTypeRef ty, double v);      /* the constant v as ty (a vector or f32) */

/* A counted loop 0..n-1; the body is emitted between loop_begin and loop_end. */
typedef struct Loop {
  LLVMBasicBlockRef header, exit;
  LLVMValueRef iv;
} Loop;
LLVMValueRef loop_begin(Cg *cg, LLVMValueRef n, Loop *l);
void loop_end(Cg *cg, Loop *l);
/* A value carried around loop l (a phi in its header, entered with init from pre);
 * loop_end_carry closes the loop feeding next[i] back into phis[i]. */
LLVMValueRef carried(Cg *cg, Loop *l, LLVMValueRef init, LLVMBasicBlockRef pre);
void loop_end_carry(Cg *cg, Loop *l, LLVMValueRef *phis, LLVMValueRef *next, int n);

/* codegen_gemm.c: matrix products by generated register-blocked kernels. */
GemmTarget cg_gemm_target(const char *features);
/* Whether C[M, N] = op(A) B (B stored [K, N]) goes through the generated kernels; a K
 * known only at run time (a batch) must be checked against GEMM_MAX_K there. */
enum { GEMM_MAX_K = 1024 };
bool cg_gemm_applies(const Cg *cg, int64_t n, int64_t k);
/* C[M, N] = op(A)[M, K] B[K, N]; A stored [M, K] (lda = K), or [K, M] when ta (lda = M). */
void cg_emit_gemm(Cg *cg, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b, LLVMValueRef m, LLVMValueRef k,
                  int64_t n, bool ta, int64_t lda);

/* C[M, N] = op(A) op(B) by cblas_sgemm (lda/ldb/ldc: the stored row lengths), with C's
 * rows split across the runtime's threads when the product is large. */
void cg_emit_cblas_gemm(Cg *cg, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b, LLVMValueRef m, LLVMValueRef n,
                        LLVMValueRef k, bool ta, bool tb, int64_t lda, int64_t ldb, int64_t ldc);

/* An alloca in the current function's entry block (so a loop does not grow the frame). */
LLVMValueRef cg_entry_alloca(Cg *cg, LLVMTypeRef ty, const char *name);
/* body(ctx, lo, hi) over [0, n): through the runtime's nnrt_parallel_for when it is linked
 * in and `worth` (an i1) holds, else called here with (ctx, 0, n). */
void cg_parallel_call(Cg *cg, LLVMValueRef body, LLVMValueRef ctx, LLVMValueRef n, LLVMValueRef worth);

/* codegen.c's lowering, shared with codegen_update.c */
LLVMValueRef intrinsic(Cg *cg, const char *name, LLVMValueRef *args, unsigned nargs); /* f32 */
/* The same for an intrinsic overloaded on `overload` (a vector type, say), or not
 * overloaded (NULL). */
LLVMValueRef intrinsic_of(Cg *cg, const char *name, LLVMTypeRef overload, LLVMValueRef *args, unsigned nargs);
LLVMValueRef buffer(Cg *cg, NodeId id); /* a node's buffer in the current function */
/* Elementwise node n (of graph g) on its operands' values v[0..arity), f32 scalars or
 * vectors of them alike. */
LLVMValueRef cg_scalar_op(Cg *cg, const Graph *g, const Node *n, const LLVMValueRef *v);
void matrix_view(Cg *cg, Shape s, LLVMValueRef *nrows, int64_t *ncols);
void emit_copy(Cg *cg, LLVMValueRef dst, Shape dst_shape, NodeId src);
void emit_matmul(Cg *cg, NodeId id);
void mark(const Graph *g, NodeId id, bool *need); /* id and what it reads */
void emit_nodes(Cg *cg, bool *need);
void begin_function(Cg *cg, const char *name, LLVMTypeRef ty);
void store_metrics(Cg *cg, LLVMValueRef metrics);
LLVMValueRef scalar_result(Cg *cg, NodeId id);

/* codegen_sqrt.c: sqrt of a <16 x float> by the AVX-512 estimate and multiply-adds, rounded
 * exactly as llvm.sqrt; lanes outside its range make the vector take llvm.sqrt. Emits
 * blocks at the builder's position in cg->fn. */
LLVMValueRef cg_exact_sqrt16(Cg *cg, LLVMValueRef s);

/* codegen_update.c: emits nnc_train_update (and the update helpers it calls). */
void cg_emit_train_update(Cg *cg);

/* codegen_desc.c: emits `const nnrt_model_desc nnrt_model`, laid out as runtime/nnrt.h
 * declares it. */
void cg_emit_descriptor(Cg *cg);

#endif
