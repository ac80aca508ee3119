/* codegen_internal.h: the state shared by codegen.c (entry points) and codegen_desc.c
 * (the nnrt_model descriptor). Nothing outside codegen includes it. */
#ifndef NNC_CODEGEN_INTERNAL_H
#define NNC_CODEGEN_INTERNAL_H

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "nnc.h"

struct CgContext {
  const Graph *g;
  CgOptions opts;
  Plan plan;
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMBuilderRef b;
  LLVMTargetMachineRef tm;
  LLVMTypeRef f32, f64, i32, i64, ptr;
  LLVMTypeRef sgemm_ty, sgemv_ty, update_fn_ty;
  LLVMValueRef update_fn[5];      /* nnc_update_<kind>, by nnrt_update_kind */
  LLVMValueRef zero_update_fn[5]; /* nnc_update_<kind>_zero: the same by a zero gradient */
  LLVMValueRef sgemm, sgemv;
  LLVMValueRef train_step, evaluate, predict, train_update; /* the finished entry points */

  /* the function being emitted */
  LLVMValueRef fn;
  LLVMValueRef params, grads, inputs, arena, batch, max_batch, batch_f;
  LLVMValueRef *base; /* per node: its buffer's address in this function, or NULL */
};
typedef struct CgContext Cg;

/* codegen_desc.c: emits `const nnrt_model_desc nnrt_model`, laid out as runtime/nnrt.h
 * declares it. */
void cg_emit_descriptor(Cg *cg);

#endif
