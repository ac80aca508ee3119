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
  LLVMTypeRef tensor_fields[] = {cg->ptr, cg->i32, cg->i32, dims_ty, cg->i64, cg->i64, cg->i32};
  LLVMStructSetBody(tensor_ty, tensor_fields, 7, false);
  check_layout(cg, tensor_ty, (size_t[]){offsetof(nnrt_tensor_desc, name), offsetof(nnrt_tensor_desc, dtype),
               offsetof(nnrt_tensor_desc, rank), offsetof(nnrt_tensor_desc, dims),
               offsetof(nnrt_tensor_desc, size), offsetof(nnrt_tensor_desc, classes),
               offsetof(nnrt_tensor_desc, role)}, 7, "nnrt_tensor_desc");

  LLVMTypeRef param_ty = LLVMStructCreateNamed(c, "nnrt_param_desc");
  LLVMTypeRef param_fields[] = {cg->ptr, cg->i32, dims_ty, cg->i64, cg->i64, cg->i32, cg->f32, cg->f32};
  LLVMStructSetBody(param_ty, param_fields, 8, false);
  check_layout(cg, param_ty, (size_t[]){offsetof(nnrt_param_desc, name), offsetof(nnrt_param_desc, rank),
               offsetof(nnrt_param_desc, dims), offsetof(nnrt_param_desc, size),
               offsetof(nnrt_param_desc, offset), offsetof(nnrt_param_desc, init),
               offsetof(nnrt_param_desc, init_a), offsetof(nnrt_param_desc, init_b)}, 8, "nnrt_param_desc");

  LLVMTypeRef option_ty = LLVMStructCreateNamed(c, "nnrt_option");
  LLVMTypeRef option_fields[] = {cg->ptr, cg->ptr};
  LLVMStructSetBody(option_ty, option_fields, 2, false);
  check_layout(cg, option_ty, (size_t[]){offsetof(nnrt_option, key), offsetof(nnrt_option, value)}, 2,
               "nnrt_option");
  LLVMTypeRef update_ty = LLVMStructTypeInContext(c, (LLVMTypeRef[]){cg->i32, cg->f32, cg->f32, cg->f32, cg->f32,
                                                                      cg->f32, cg->ptr}, 7, false);
  check_layout(cg, update_ty, (size_t[]){offsetof(nnrt_update, kind), offsetof(nnrt_update, lr),
               offsetof(nnrt_update, momentum), offsetof(nnrt_update, rho), offsetof(nnrt_update, eps),
               offsetof(nnrt_update, weight_decay), offsetof(nnrt_update, state)}, 7, "nnrt_update");

  LLVMTypeRef model_ty = LLVMStructCreateNamed(c, "nnrt_model_desc");
  LLVMTypeRef model_fields[] = {cg->i32, cg->ptr, cg->ptr, cg->i32, cg->ptr, cg->i32, cg->ptr, cg->i32, cg->ptr,
                                cg->i32, cg->ptr, cg->i64, cg->i64, cg->i64, cg->i32, cg->ptr,
                                cg->ptr, cg->ptr, cg->ptr, cg->ptr};
  LLVMStructSetBody(model_ty, model_fields, 20, false);
  check_layout(cg, model_ty, (size_t[]){offsetof(nnrt_model_desc, abi_version), offsetof(nnrt_model_desc, name),
               offsetof(nnrt_model_desc, source), offsetof(nnrt_model_desc, n_inputs),
               offsetof(nnrt_model_desc, inputs), offsetof(nnrt_model_desc, n_outputs),
               offsetof(nnrt_model_desc, outputs), offsetof(nnrt_model_desc, n_metrics),
               offsetof(nnrt_model_desc, metric_names), offsetof(nnrt_model_desc, n_params),
               offsetof(nnrt_model_desc, params), offsetof(nnrt_model_desc, param_floats),
               offsetof(nnrt_model_desc, arena_fixed), offsetof(nnrt_model_desc, arena_per_sample),
               offsetof(nnrt_model_desc, n_options), offsetof(nnrt_model_desc, options),
               offsetof(nnrt_model_desc, train_step), offsetof(nnrt_model_desc, evaluate),
               offsetof(nnrt_model_desc, predict), offsetof(nnrt_model_desc, train_update)}, 20,
               "nnrt_model_desc");

  /* which inputs the outputs read: predict needs those, and only those */
  bool *feeds_output = calloc(g->count, sizeof(bool));
  for (int i = 0; i < g->noutputs; i++) feeds_output[g->outputs[i].node] = true;
  for (NodeId id = g->count - 1; id >= 1; id--)
    if (feeds_output[id])
      for (int k = 0; k < op_info[g->nodes[id].op].arity; k++) feeds_output[g->nodes[id].in[k]] = true;

  int nitems = g->ninputs + g->noutputs + g->nparams + g->nmetrics + g->noptions;
  LLVMValueRef *items = calloc((size_t)nitems + 1, sizeof(LLVMValueRef));
  for (int i = 0; i < g->ninputs; i++) {
    const GraphInput *in = &g->inputs[i];
    Shape s = in->shape;
    LLVMValueRef f[] = {cstr(cg, in->name), i32v(cg, in->dtype), i32v(cg, s.rank), dims(cg, s),
                        i64v(cg, shape_size(s)), i64v(cg, in->classes),
                        i32v(cg, feeds_output[in->node] ? NNRT_ROLE_FEATURE : NNRT_ROLE_TARGET)};
    items[i] = LLVMConstNamedStruct(tensor_ty, f, 7);
  }
  free(feeds_output);
  LLVMValueRef inputs = const_array(cg, tensor_ty, items, g->ninputs, "nnrt_inputs");
  for (int i = 0; i < g->noutputs; i++) {
    Shape s = g->nodes[g->outputs[i].node].shape;
    LLVMValueRef f[] = {cstr(cg, g->outputs[i].name), i32v(cg, NNRT_F32), i32v(cg, s.rank), dims(cg, s),
                        i64v(cg, shape_size(s)), i64v(cg, 0), i32v(cg, 0)};
    items[i] = LLVMConstNamedStruct(tensor_ty, f, 7);
  }
  LLVMValueRef outputs = const_array(cg, tensor_ty, items, g->noutputs, "nnrt_outputs");
  for (int i = 0; i < g->nmetrics; i++) items[i] = cstr(cg, g->metrics[i].name);
  LLVMValueRef metrics = const_array(cg, cg->ptr, items, g->nmetrics, "nnrt_metric_names");
  for (int i = 0; i < g->nparams; i++) {
    const GraphParam *p = &g->params[i];
    LLVMValueRef f[] = {cstr(cg, p->name), i32v(cg, p->shape.rank), dims(cg, p->shape),
                        i64v(cg, shape_size(p->shape)), i64v(cg, p->offset), i32v(cg, p->init),
                        LLVMConstReal(cg->f32, p->init_a), LLVMConstReal(cg->f32, p->init_b)};
    items[i] = LLVMConstNamedStruct(param_ty, f, 8);
  }
  LLVMValueRef params = const_array(cg, param_ty, items, g->nparams, "nnrt_params");
  for (int i = 0; i < g->noptions; i++) {
    LLVMValueRef f[] = {cstr(cg, g->options[i].key), cstr(cg, g->options[i].value)};
    items[i] = LLVMConstNamedStruct(option_ty, f, 2);
  }
  LLVMValueRef options = const_array(cg, option_ty, items, g->noptions, "nnrt_options");
  free(items);

  LLVMValueRef mfields[] = {i32v(cg, NNRT_ABI_VERSION), cstr(cg, g->model_name), cstr(cg, g->source_path),
                            i32v(cg, g->ninputs), inputs, i32v(cg, g->noutputs), outputs,
                            i32v(cg, g->nmetrics), metrics, i32v(cg, g->nparams), params,
                            i64v(cg, cg->plan.param_floats), i64v(cg, cg->plan.arena_fixed),
                            i64v(cg, cg->plan.arena_per_sample), i32v(cg, g->noptions), options,
                            cg->train_step, cg->evaluate, cg->predict, cg->train_update};
  LLVMValueRef desc = LLVMAddGlobal(cg->mod, model_ty, "nnrt_model");
  LLVMSetInitializer(desc, LLVMConstNamedStruct(model_ty, mfields, 20));
  LLVMSetGlobalConstant(desc, true);
}
