/* codegen_desc.c: the `nnrt_model` descriptor, the one symbol a compiled model exports.
 *
 * The LLVM struct types below mirror runtime/nnrt.h field by field. Because both sides
 * are laid out by the same target's ABI rules, checking each field's offset against the
 * C compiler's offsetof at build time catches any drift between the two.
 */
#include <llvm-c/Target.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "codegen_internal.h"
#include "nnrt.h"

static LLVMValueRef cstr(Cg *cg, const char *s) {
  if (!s) return LLVMConstPointerNull(cg->ptr);
  LLVMValueRef init = LLVMConstStringInContext(cg->ctx, s, (unsigned)strlen(s), false);
  LLVMValueRef gv = LLVMAddGlobal(cg->mod, LLVMTypeOf(init), ".str");
  LLVMSetInitializer(gv, init);
  LLVMSetGlobalConstant(gv, true);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
  return gv;
}

static LLVMValueRef i32v(Cg *cg, int64_t v) { return LLVMConstInt(cg->i32, (unsigned long long)v, true); }
static LLVMValueRef i64v(Cg *cg, int64_t v) { return LLVMConstInt(cg->i64, (unsigned long long)v, true); }

static LLVMValueRef dims(Cg *cg, Shape s) {
  LLVMValueRef d[NNRT_MAX_RANK];
  for (int i = 0; i < NNRT_MAX_RANK; i++) d[i] = i64v(cg, i < s.rank ? s.dim[i] : 0);
  return LLVMConstArray2(cg->i64, d, NNRT_MAX_RANK);
}

/* A constant array as a private global; NULL for an empty one. */
static LLVMValueRef const_array(Cg *cg, LLVMTypeRef elem, LLVMValueRef *items, int n, const char *name) {
  if (n == 0) return LLVMConstPointerNull(cg->ptr);
  LLVMValueRef init = LLVMConstArray2(elem, items, (uint64_t)n);
  LLVMValueRef gv = LLVMAddGlobal(cg->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(gv, init);
  LLVMSetGlobalConstant(gv, true);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  return gv;
}

static void check_layout(Cg *cg, LLVMTypeRef ty, const size_t *offsets, unsigned n, const char *what) {
  LLVMTargetDataRef dl = LLVMGetModuleDataLayout(cg->mod);
  for (unsigned i = 0; i < n; i++)
    if (LLVMOffsetOfElement(dl, ty, i) != offsets[i]) {
      fprintf(stderr, "%s field %u: LLVM offset %llu, C offset %zu\n", what, i,
              LLVMOffsetOfElement(dl, ty, i), offsets[i]);
      nnc_unreachable("descriptor layout differs from runtime/nnrt.h");
    }
}

void cg_emit_descriptor(Cg *cg) {
  const Graph *g = cg->g;
  LLVMContextRef c = cg->ctx;
  LLVMTypeRef dims_ty = LLVMArrayType2(cg->i64, NNRT_MAX_RANK);

  LLVMTypeRef tensor_ty = LLVMStructCreateNamed(c, "nnrt_tensor_desc");
  LLVMTypeRef tensor_fields[] = {cg->ptr, cg->i32, cg->i32, dims_ty, cg->i64};
  LLVMStructSetBody(tensor_ty, tensor_fields, 5, false);
  check_layout(cg, tensor_ty, (size_t[]){offsetof(nnrt_tensor_desc, name), offsetof(nnrt_tensor_desc, dtype),
               offsetof(nnrt_tensor_desc, rank), offsetof(nnrt_tensor_desc, dims),
               offsetof(nnrt_tensor_desc, size)}, 5, "nnrt_tensor_desc");

  LLVMTypeRef param_ty = LLVMStructCreateNamed(c, "nnrt_param_desc");
  LLVMTypeRef param_fields[] = {cg->ptr, cg->i32, dims_ty, cg->i64, cg->i64, cg->i32, cg->f32, cg->f32};
  LLVMStructSetBody(param_ty, param_fields, 8, false);
  check_layout(cg, param_ty, (size_t[]){offsetof(nnrt_param_desc, name), offsetof(nnrt_param_desc, rank),
               offsetof(nnrt_param_desc, dims), offsetof(nnrt_param_desc, size),
               offsetof(nnrt_param_desc, offset), offsetof(nnrt_param_desc, init),
               offsetof(nnrt_param_desc, init_a), offsetof(nnrt_param_desc, init_b)}, 8, "nnrt_param_desc");

  LLVMTypeRef paths_ty = LLVMArrayType2(cg->ptr, NNRT_MAX_DATA_PATHS);
  LLVMTypeRef defaults_ty = LLVMStructCreateNamed(c, "nnrt_train_defaults");
  LLVMTypeRef defaults_fields[] = {cg->ptr, cg->i32, paths_ty, cg->ptr, cg->f64, cg->f64, cg->i64, cg->i64, cg->i64};
  LLVMStructSetBody(defaults_ty, defaults_fields, 9, false);
  check_layout(cg, defaults_ty, (size_t[]){offsetof(nnrt_train_defaults, data_format),
               offsetof(nnrt_train_defaults, n_data_paths), offsetof(nnrt_train_defaults, data_paths),
               offsetof(nnrt_train_defaults, optimizer), offsetof(nnrt_train_defaults, lr),
               offsetof(nnrt_train_defaults, momentum), offsetof(nnrt_train_defaults, batch),
               offsetof(nnrt_train_defaults, epochs), offsetof(nnrt_train_defaults, seed)}, 9,
               "nnrt_train_defaults");

  LLVMTypeRef model_ty = LLVMStructCreateNamed(c, "nnrt_model_desc");
  LLVMTypeRef model_fields[] = {cg->i32, cg->ptr, cg->ptr, cg->i32, cg->ptr, cg->i32, cg->ptr, cg->i32,
                                cg->ptr, cg->i64, cg->i64, cg->i64, defaults_ty, cg->ptr, cg->ptr};
  LLVMStructSetBody(model_ty, model_fields, 15, false);
  check_layout(cg, model_ty, (size_t[]){offsetof(nnrt_model_desc, abi_version), offsetof(nnrt_model_desc, name),
               offsetof(nnrt_model_desc, source), offsetof(nnrt_model_desc, n_inputs),
               offsetof(nnrt_model_desc, inputs), offsetof(nnrt_model_desc, n_outputs),
               offsetof(nnrt_model_desc, outputs), offsetof(nnrt_model_desc, n_params),
               offsetof(nnrt_model_desc, params), offsetof(nnrt_model_desc, param_floats),
               offsetof(nnrt_model_desc, arena_fixed), offsetof(nnrt_model_desc, arena_per_sample),
               offsetof(nnrt_model_desc, defaults), offsetof(nnrt_model_desc, train_step),
               offsetof(nnrt_model_desc, forward)}, 15, "nnrt_model_desc");

  int nitems = g->ninputs + g->noutputs + g->nparams;
  LLVMValueRef *items = calloc((size_t)nitems + 1, sizeof(LLVMValueRef));
  for (int i = 0; i < g->ninputs; i++) {
    Shape s = g->inputs[i].shape;
    LLVMValueRef f[] = {cstr(cg, g->inputs[i].name), i32v(cg, NNRT_F32), i32v(cg, s.rank), dims(cg, s),
                        i64v(cg, shape_size(s))};
    items[i] = LLVMConstNamedStruct(tensor_ty, f, 5);
  }
  LLVMValueRef inputs = const_array(cg, tensor_ty, items, g->ninputs, "nnrt_inputs");
  for (int i = 0; i < g->noutputs; i++) {
    Shape s = g->nodes[g->outputs[i].node].shape;
    LLVMValueRef f[] = {cstr(cg, g->outputs[i].name), i32v(cg, NNRT_F32), i32v(cg, s.rank), dims(cg, s),
                        i64v(cg, shape_size(s))};
    items[i] = LLVMConstNamedStruct(tensor_ty, f, 5);
  }
  LLVMValueRef outputs = const_array(cg, tensor_ty, items, g->noutputs, "nnrt_outputs");
  for (int i = 0; i < g->nparams; i++) {
    const GraphParam *p = &g->params[i];
    LLVMValueRef f[] = {cstr(cg, p->name), i32v(cg, p->shape.rank), dims(cg, p->shape),
                        i64v(cg, shape_size(p->shape)), i64v(cg, p->offset), i32v(cg, p->init),
                        LLVMConstReal(cg->f32, p->init_a), LLVMConstReal(cg->f32, p->init_b)};
    items[i] = LLVMConstNamedStruct(param_ty, f, 8);
  }
  LLVMValueRef params = const_array(cg, param_ty, items, g->nparams, "nnrt_params");
  free(items);

  const TrainDefaults *t = &g->train;
  LLVMValueRef paths[NNRT_MAX_DATA_PATHS];
  for (int i = 0; i < NNRT_MAX_DATA_PATHS; i++) paths[i] = cstr(cg, i < t->n_data_paths ? t->data_paths[i] : NULL);
  LLVMValueRef dfields[] = {cstr(cg, t->data_format), i32v(cg, t->n_data_paths),
                            LLVMConstArray2(cg->ptr, paths, NNRT_MAX_DATA_PATHS), cstr(cg, t->optimizer),
                            LLVMConstReal(cg->f64, t->lr), LLVMConstReal(cg->f64, t->momentum),
                            i64v(cg, t->batch), i64v(cg, t->epochs), i64v(cg, t->seed)};
  LLVMValueRef defaults = LLVMConstNamedStruct(defaults_ty, dfields, 9);

  LLVMValueRef mfields[] = {i32v(cg, NNRT_ABI_VERSION), cstr(cg, g->model_name), cstr(cg, g->source_path),
                            i32v(cg, g->ninputs), inputs, i32v(cg, g->noutputs), outputs,
                            i32v(cg, g->nparams), params, i64v(cg, cg->plan.param_floats),
                            i64v(cg, cg->plan.arena_fixed), i64v(cg, cg->plan.arena_per_sample),
                            defaults, cg->train_step, cg->forward};
  LLVMValueRef desc = LLVMAddGlobal(cg->mod, model_ty, "nnrt_model");
  LLVMSetInitializer(desc, LLVMConstNamedStruct(model_ty, mfields, 15));
  LLVMSetGlobalConstant(desc, true);
}
