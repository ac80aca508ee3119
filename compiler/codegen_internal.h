/* codegen_internal.h: the state shared by codegen.c (entry points) and codegen_desc.c
 * (the nnrt_model descriptor). Nothing outside codegen includes it. */
#ifndef NNC_CODEGEN_INTERNAL_H
#define NNC_CODEGEN_INTERNAL_H

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>
#include <threads.h>

#include "nnc.h"

/* The micro-kernel shape for the target (codegen_gemm.c). */
typedef struct GemmTarget {
  int width; /* floats per vector register; 0: no kernels, every product calls CBLAS */
  int mr, nv; /* the micro-tile: mr rows by nv vectors */
} GemmTarget;

/* One variant of an update rule, lowered (codegen_rule.c). */
typedef struct RuleCode {
  LLVMValueRef scalars, flat, zero, rows, split; /* zero, rows, split: elementwise rules only */
  int nscal;                                     /* floats the scalars helper writes */
  bool elementwise; /* no whole-tensor reductions: split exists */
  bool rowwise;     /* zero and rows exist */
} RuleCode;

struct CgContext {
  const Graph *full; /* the whole model: its tables, its rules */
  int64_t full_param_floats;
  CgOptions opts;
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMBuilderRef b;
  LLVMTargetMachineRef tm;
  LLVMTypeRef f32, f64, i32, i64, ptr;
  LLVMTypeRef sgemm_ty, sgemv_ty, step_ty;
  LLVMTypeRef rule_flat_ty, rule_zero_ty, rule_rows_ty, rule_scalars_ty, outer_row_ty;
  RuleCode (*rule_code)[2]; /* [rule][variant] */
  bool rule_rows, rule_split; /* whether a parameter takes the rows (split) helpers */
  int rule_nscal;           /* the most scalars a variant has */
  LLVMValueRef rule_pick;   /* nnc_rule_pick: the table entry of the run's rule variant */
  LLVMTypeRef rule_pick_ty;
  LLVMValueRef rule_scal;   /* the current function's array for a rule's scalars, or NULL */
  LLVMValueRef outer_row;   /* nnc_outer_row: one row of x^T dy (codegen_update.c) */
  LLVMValueRef sgemm, sgemv;
  GemmTarget gemm;
  LLVMValueRef gemm_fn[9][4]; /* nnc_gemm_<mr>x<nv>, made on first use */
  LLVMValueRef train, gradient, apply_update, evaluate, predict; /* the finished entry points */
  int64_t arena_fixed, arena_per_sample; /* the largest of the entry points' plans */

  /* The second thread's modules, in a context of their own: the rule helpers
   * (codegen_rule.c), and the side module, evaluate and predict; and that thread's state:
   * the side module's object, or the error that stopped it. */
  struct CgContext *rules, *side;
  bool owns_ctx;
  thrd_t thread;
  bool started, joined;
  LLVMMemoryBufferRef object;
  char *error;

  /* the graph of the function being emitted (one mode of the model) and its plan */
  const Graph *g;
  Plan plan;
  LLVMValueRef *elementwise_fn; /* per node of g: its outlined loop, or NULL */

  /* the function being emitted */
  LLVMValueRef fn;
  LLVMValueRef step; /* its nnrt_step */
  LLVMValueRef params, grads, inputs, arena, batch, max_batch, batch_f;
  LLVMValueRef *base; /* per node: its buffer's address in this function, or NULL */
  LLVMValueRef env;   /* the function's {params, grads, inputs, arena, batch, max_batch}
                         for outlined elementwise loops, made on first use, or NULL */
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

/* codegen_rule.c: every rule's helpers (in the rules' own module), and calls of them (in
 * the entry points'). */
void cg_emit_rules(Cg *rules, const Plan *train);
/* Declares in cg's module what cg_emit_rules defined in rules' (nnc_rule_pick, and the
 * types of the helpers it returns). */
void cg_declare_rules(Cg *cg, const Cg *rules);
LLVMTypeRef cg_rule_split_ctx(Cg *cg);
/* The run's rule, looked up at the builder's position: the helpers of its variant (the one
 * its hyperparameters pick) as pointers, and its scalars for a parameter of n elements,
 * computed into scal. */
typedef struct RuleCall {
  LLVMValueRef scalars, flat, zero, rows, split;
  LLVMValueRef elementwise; /* i1: zero and rows exist */
  LLVMValueRef splittable;  /* i1: split exists */
  LLVMValueRef scal;
} RuleCall;
RuleCall cg_rule_pick(Cg *cg, LLVMValueRef rule, LLVMValueRef hyper, LLVMValueRef step, LLVMValueRef epoch,
                      LLVMValueRef n);
/* The rule's flat update of n elements (split across the threads when it is large). */
void cg_rule_flat(Cg *cg, const RuleCall *c, LLVMValueRef w, LLVMValueRef st, LLVMValueRef g, int64_t n,
                  LLVMValueRef bad);

/* codegen.c: the step context's fields (nnrt_step) */
enum {
  STEP_PARAMS, STEP_GRADS, STEP_STATE, STEP_BUFFERS, STEP_INPUTS, STEP_OUTPUTS, STEP_METRICS, STEP_ARENA,
  STEP_BATCH, STEP_MAX_BATCH, STEP_STEP, STEP_EPOCH, STEP_SEED, STEP_HYPER, STEP_RULE, STEP_NONFINITE, STEP_FIELDS
};
LLVMTypeRef cg_step_type(Cg *cg);
LLVMValueRef cg_step_field(Cg *cg, unsigned field); /* loaded from the current function's step */
/* Starts entry point `name`, float (nnrt_step *), on graph g with plan: loads the fields
 * the node code reads. */
void cg_begin_entry(Cg *cg, const char *name, const Graph *g, const Plan *plan);

/* codegen_update.c: the entry points that train: train, gradient, apply_update. */
void cg_emit_training(Cg *cg, const Graph *g, const Plan *plan);

/* codegen_desc.c: emits `const nnrt_model_desc nnrt_model`, laid out as runtime/nnrt.h
 * declares it. */
void cg_emit_descriptor(Cg *cg);

#endif
