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

#define CHECK(ty, T, ...)                                                                           \
  do {                                                                                            \
    const size_t offs_[] = {__VA_ARGS__};                                                         \
    check_layout(cg, ty, offs_, sizeof offs_ / sizeof *offs_, #T);                                \
  } while (0)

static LLVMTypeRef named_struct(Cg *cg, const char *name, LLVMTypeRef *fields, unsigned n) {
  LLVMTypeRef ty = LLVMStructCreateNamed(cg->ctx, name);
  LLVMStructSetBody(ty, fields, n, false);
  return ty;
}

static LLVMValueRef f64v(Cg *cg, double v) { return LLVMConstReal(cg->f64, v); }

void cg_emit_descriptor(Cg *cg) {
  const Graph *g = cg->full;
  LLVMTypeRef dims_ty = LLVMArrayType2(cg->i64, NNRT_MAX_RANK);
  LLVMTypeRef I32 = cg->i32, I64 = cg->i64, P = cg->ptr, F32 = cg->f32, F64 = cg->f64;

  LLVMTypeRef tensor_ty = named_struct(cg, "nnrt_tensor_desc", (LLVMTypeRef[]){P, I32, I32, dims_ty, I64, I64, I32}, 7);
  CHECK(tensor_ty, nnrt_tensor_desc, offsetof(nnrt_tensor_desc, name), offsetof(nnrt_tensor_desc, dtype),
        offsetof(nnrt_tensor_desc, rank), offsetof(nnrt_tensor_desc, dims), offsetof(nnrt_tensor_desc, size),
        offsetof(nnrt_tensor_desc, classes), offsetof(nnrt_tensor_desc, role));
  LLVMTypeRef slot_ty = named_struct(cg, "nnrt_slot_desc", (LLVMTypeRef[]){P, I32, I32, dims_ty, I64, I64, I32, F32, F32}, 9);
  CHECK(slot_ty, nnrt_slot_desc, offsetof(nnrt_slot_desc, name), offsetof(nnrt_slot_desc, kind),
        offsetof(nnrt_slot_desc, rank), offsetof(nnrt_slot_desc, dims), offsetof(nnrt_slot_desc, size),
        offsetof(nnrt_slot_desc, offset), offsetof(nnrt_slot_desc, init), offsetof(nnrt_slot_desc, init_a),
        offsetof(nnrt_slot_desc, init_b));
  LLVMTypeRef option_ty = named_struct(cg, "nnrt_option", (LLVMTypeRef[]){P, P}, 2);
  CHECK(option_ty, nnrt_option, offsetof(nnrt_option, key), offsetof(nnrt_option, value));
  LLVMTypeRef hyper_ty = named_struct(cg, "nnrt_hyper_desc", (LLVMTypeRef[]){P, I32, I32, I32, F64, F64, F64}, 7);
  CHECK(hyper_ty, nnrt_hyper_desc, offsetof(nnrt_hyper_desc, name), offsetof(nnrt_hyper_desc, kind),
        offsetof(nnrt_hyper_desc, lo_open), offsetof(nnrt_hyper_desc, hi_open), offsetof(nnrt_hyper_desc, lo),
        offsetof(nnrt_hyper_desc, hi), offsetof(nnrt_hyper_desc, value));
  LLVMTypeRef state_ty = named_struct(cg, "nnrt_state_desc", (LLVMTypeRef[]){P, I32, F32, F32}, 4);
  CHECK(state_ty, nnrt_state_desc, offsetof(nnrt_state_desc, name), offsetof(nnrt_state_desc, init),
        offsetof(nnrt_state_desc, init_a), offsetof(nnrt_state_desc, init_b));
  LLVMTypeRef rule_ty = named_struct(cg, "nnrt_rule_desc", (LLVMTypeRef[]){P, I32, P, I32, P}, 5);
  CHECK(rule_ty, nnrt_rule_desc, offsetof(nnrt_rule_desc, name), offsetof(nnrt_rule_desc, n_hypers),
        offsetof(nnrt_rule_desc, hypers), offsetof(nnrt_rule_desc, n_states), offsetof(nnrt_rule_desc, states));
  CHECK(cg_step_type(cg), nnrt_step, offsetof(nnrt_step, params), offsetof(nnrt_step, grads),
        offsetof(nnrt_step, state), offsetof(nnrt_step, buffers), offsetof(nnrt_step, inputs),
        offsetof(nnrt_step, outputs), offsetof(nnrt_step, metrics), offsetof(nnrt_step, arena),
        offsetof(nnrt_step, batch), offsetof(nnrt_step, max_batch), offsetof(nnrt_step, step),
        offsetof(nnrt_step, epoch), offsetof(nnrt_step, seed), offsetof(nnrt_step, hyper), offsetof(nnrt_step, rule),
        offsetof(nnrt_step, nonfinite));
  LLVMTypeRef model_ty = named_struct(cg, "nnrt_model_desc",
                                      (LLVMTypeRef[]){I32, P, P, I32, P, I32, P, I32, P, I32, I32, P, I64, I64, I64,
                                                      I64, I32, P, I32, P, P, P, P, P, P},
                                      25);
  CHECK(model_ty, nnrt_model_desc, offsetof(nnrt_model_desc, abi_version), offsetof(nnrt_model_desc, name),
        offsetof(nnrt_model_desc, source), offsetof(nnrt_model_desc, n_inputs), offsetof(nnrt_model_desc, inputs),
        offsetof(nnrt_model_desc, n_outputs), offsetof(nnrt_model_desc, outputs),
        offsetof(nnrt_model_desc, n_metrics), offsetof(nnrt_model_desc, metric_names),
        offsetof(nnrt_model_desc, n_slots), offsetof(nnrt_model_desc, n_params), offsetof(nnrt_model_desc, slots),
        offsetof(nnrt_model_desc, param_floats), offsetof(nnrt_model_desc, buffer_floats),
        offsetof(nnrt_model_desc, arena_fixed), offsetof(nnrt_model_desc, arena_per_sample),
        offsetof(nnrt_model_desc, n_options), offsetof(nnrt_model_desc, options), offsetof(nnrt_model_desc, n_rules),
        offsetof(nnrt_model_desc, rules), offsetof(nnrt_model_desc, train), offsetof(nnrt_model_desc, gradient),
        offsetof(nnrt_model_desc, apply_update), offsetof(nnrt_model_desc, evaluate),
        offsetof(nnrt_model_desc, predict));

  /* which inputs the outputs read: predict needs those, and only those */
  bool *feeds_output = calloc(g->count, sizeof(bool));
  if (!feeds_output) nnc_unreachable("out of memory");
  for (int i = 0; i < g->noutputs; i++) feeds_output[g->outputs[i].node] = true;
  for (NodeId id = g->count - 1; id >= 1; id--)
    if (feeds_output[id])
      for (int k = 0; k < op_info[g->nodes[id].op].arity; k++) feeds_output[g->nodes[id].in[k]] = true;

  int nitems = g->ninputs + g->noutputs + g->nparams + g->nmetrics + g->noptions + g->nrules + 1;
  for (int i = 0; i < g->nrules; i++) nitems += g->rules[i].nhypers + g->rules[i].nstates;
  LLVMValueRef *items = calloc((size_t)nitems + 1, sizeof(LLVMValueRef));
  if (!items) nnc_unreachable("out of memory");
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
    LLVMValueRef f[] = {cstr(cg, p->name), i32v(cg, NNRT_SLOT_PARAM), i32v(cg, p->shape.rank), dims(cg, p->shape),
                        i64v(cg, shape_size(p->shape)), i64v(cg, p->offset), i32v(cg, p->init),
                        LLVMConstReal(cg->f32, p->init_a), LLVMConstReal(cg->f32, p->init_b)};
    items[i] = LLVMConstNamedStruct(slot_ty, f, 9);
  }
  LLVMValueRef slots = const_array(cg, slot_ty, items, g->nparams, "nnrt_slots");
  for (int i = 0; i < g->noptions; i++) {
    LLVMValueRef f[] = {cstr(cg, g->options[i].key), cstr(cg, g->options[i].value)};
    items[i] = LLVMConstNamedStruct(option_ty, f, 2);
  }
  LLVMValueRef options = const_array(cg, option_ty, items, g->noptions, "nnrt_options");
  LLVMValueRef *rules = items + g->nrules + 1; /* after the rule rows: each rule's tables */
  for (int i = 0; i < g->nrules; i++) {
    const Rule *r = &g->rules[i];
    for (int k = 0; k < r->nhypers; k++) {
      const RuleHyper *h = &r->hypers[k];
      LLVMValueRef f[] = {cstr(cg, h->name), i32v(cg, h->is_bool ? NNRT_HYPER_BOOL : NNRT_HYPER_NUMBER),
                          i32v(cg, h->lo_open), i32v(cg, h->hi_open), f64v(cg, h->lo), f64v(cg, h->hi),
                          f64v(cg, h->value)};
      rules[k] = LLVMConstNamedStruct(hyper_ty, f, 7);
    }
    LLVMValueRef hypers = const_array(cg, hyper_ty, rules, r->nhypers, "nnrt_hypers");
    for (int k = 0; k < r->nstates; k++) {
      const RuleState *st = &r->states[k];
      LLVMValueRef f[] = {cstr(cg, st->name), i32v(cg, st->init), LLVMConstReal(cg->f32, st->init_a),
                          LLVMConstReal(cg->f32, st->init_b)};
      rules[k] = LLVMConstNamedStruct(state_ty, f, 4);
    }
    LLVMValueRef states = const_array(cg, state_ty, rules, r->nstates, "nnrt_states");
    LLVMValueRef f[] = {cstr(cg, r->name), i32v(cg, r->nhypers), hypers, i32v(cg, r->nstates), states};
    items[i] = LLVMConstNamedStruct(rule_ty, f, 5);
  }
  LLVMValueRef rule_table = const_array(cg, rule_ty, items, g->nrules, "nnrt_rules");
  free(items);

  LLVMValueRef mfields[] = {i32v(cg, NNRT_ABI_VERSION), cstr(cg, g->model_name), cstr(cg, g->source_path),
                            i32v(cg, g->ninputs), inputs, i32v(cg, g->noutputs), outputs,
                            i32v(cg, g->nmetrics), metrics, i32v(cg, g->nparams), i32v(cg, g->nparams), slots,
                            i64v(cg, cg->full_param_floats), i64v(cg, 0), i64v(cg, cg->arena_fixed),
                            i64v(cg, cg->arena_per_sample), i32v(cg, g->noptions), options, i32v(cg, g->nrules),
                            rule_table, cg->train, cg->gradient, cg->apply_update, cg->evaluate, cg->predict};
  LLVMValueRef desc = LLVMAddGlobal(cg->mod, model_ty, "nnrt_model");
  LLVMSetInitializer(desc, LLVMConstNamedStruct(model_ty, mfields, 25));
  LLVMSetGlobalConstant(desc, true);
}
