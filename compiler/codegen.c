/* codegen.c: lowers the planned graph to LLVM IR through the C API.
 *
 * Each entry point (train_step, evaluate, predict; train_update in codegen_update.c) is
 * one function that evaluates the nodes its results need, in id order, each into the
 * buffer the plan gave it. Elementwise ops, broadcasts and sums are loop nests over the
 * full index space (batch first) in which every operand is read through a stride per
 * loop: stride 0 on a broadcast axis. That one rule implements numpy broadcasting, the
 * batch broadcast of parameters, and (with the roles swapped) the reductions that
 * gradients of broadcasts need. Matrix products go to the generated kernels
 * (codegen_gemm.c) or to CBLAS with the transposes folded into the call.
 *
 * A model is three modules, so that two cores compile it: the training entry points'
 * (train, gradient, apply_update), optimised and compiled on the calling thread, and in a
 * second context the update rules' helpers and the side module (evaluate, predict),
 * which a second thread optimises, links into one and compiles meanwhile. They share
 * only hidden symbols: nnc_rule_pick, nnc_evaluate and nnc_predict. A program links the
 * two objects; --emit=llvm, asm and obj link the modules into one instead.
 */
#include "nnc.h"

#include <errno.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Core.h>
#include <llvm-c/Linker.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen_internal.h"

/* ---- small builders ------------------------------------------------------------------- */

LLVMValueRef i64c(Cg *cg, int64_t v) { return LLVMConstInt(cg->i64, (unsigned long long)v, true); }
LLVMValueRef f32c(Cg *cg, double v) { return LLVMConstReal(cg->f32, v); }

/* A helper function of the module: internal, and never inlined, so that every call site
 * shares one copy (inlining the update and product loops into each of the entry points'
 * call sites made the object ten times bigger and compiling the flagship take 1.25 s).
 * nounwind, which -O2 would infer, is said outright for the rules' lighter pipeline,
 * which does not: without it each helper gets an unwind table. */
LLVMValueRef cg_helper(Cg *cg, const char *name, LLVMTypeRef ty) {
  LLVMValueRef fn = LLVMAddFunction(cg->mod, name, ty);
  LLVMSetLinkage(fn, LLVMInternalLinkage);
  const char *attrs[] = {"noinline", "nounwind"};
  for (int i = 0; i < 2; i++) {
    unsigned kind = LLVMGetEnumAttributeKindForName(attrs[i], strlen(attrs[i]));
    LLVMAddAttributeAtIndex(fn, (unsigned)LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(cg->ctx, kind, 0));
  }
  return fn;
}

LLVMValueRef gep(Cg *cg, LLVMValueRef base, LLVMValueRef index) {
  return LLVMBuildInBoundsGEP2(cg->b, cg->f32, base, &index, 1, "");
}

LLVMValueRef intrinsic_of(Cg *cg, const char *name, LLVMTypeRef overload, LLVMValueRef *args, unsigned nargs) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  size_t n = overload ? 1 : 0;
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(cg->mod, id, &overload, n);
  return LLVMBuildCall2(cg->b, LLVMIntrinsicGetType(cg->ctx, id, &overload, n), fn, args, nargs, "");
}

/* x (a scalar) in every lane of ty, or x itself when ty is not a vector */
LLVMValueRef cg_splat(Cg *cg, LLVMValueRef x, LLVMTypeRef ty) {
  if (LLVMGetTypeKind(ty) != LLVMVectorTypeKind) return x;
  LLVMValueRef poison = LLVMGetPoison(ty);
  LLVMValueRef one = LLVMBuildInsertElement(cg->b, poison, x, LLVMConstInt(cg->i32, 0, false), "");
  return LLVMBuildShuffleVector(cg->b, one, poison, LLVMConstNull(LLVMVectorType(cg->i32, LLVMGetVectorSize(ty))), "");
}

LLVMValueRef cg_fconst(Cg *cg, LLVMTypeRef ty, double v) {
  if (LLVMGetTypeKind(ty) != LLVMVectorTypeKind) return f32c(cg, v);
  LLVMValueRef e[16];
  unsigned n = LLVMGetVectorSize(ty);
  for (unsigned i = 0; i < n; i++) e[i] = f32c(cg, v);
  return LLVMConstVector(e, n);
}

LLVMValueRef intrinsic(Cg *cg, const char *name, LLVMValueRef *args, unsigned nargs) {
  return intrinsic_of(cg, name, cg->f32, args, nargs);
}

/* A float function of libm on x, lane by lane when x is a vector. */
static LLVMValueRef libm(Cg *cg, const char *name, LLVMValueRef x) {
  LLVMTypeRef ty = LLVMFunctionType(cg->f32, &cg->f32, 1, false);
  LLVMValueRef fn = LLVMGetNamedFunction(cg->mod, name);
  if (!fn) fn = LLVMAddFunction(cg->mod, name, ty);
  LLVMTypeRef xt = LLVMTypeOf(x);
  if (LLVMGetTypeKind(xt) != LLVMVectorTypeKind) return LLVMBuildCall2(cg->b, ty, fn, &x, 1, "");
  LLVMValueRef r = LLVMGetPoison(xt);
  for (unsigned i = 0; i < LLVMGetVectorSize(xt); i++) {
    LLVMValueRef lane = LLVMConstInt(cg->i32, i, false);
    LLVMValueRef e = LLVMBuildExtractElement(cg->b, x, lane, "");
    r = LLVMBuildInsertElement(cg->b, r, LLVMBuildCall2(cg->b, ty, fn, &e, 1, ""), lane, "");
  }
  return r;
}

LLVMValueRef loop_begin(Cg *cg, LLVMValueRef n, Loop *l) {
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(cg->b);
  l->header = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "loop");
  LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "body");
  l->exit = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "done");
  LLVMBuildBr(cg->b, l->header);
  LLVMPositionBuilderAtEnd(cg->b, l->header);
  l->iv = LLVMBuildPhi(cg->b, cg->i64, "i");
  LLVMValueRef zero = i64c(cg, 0);
  LLVMAddIncoming(l->iv, &zero, &pre, 1);
  LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntSLT, l->iv, n, ""), body, l->exit);
  LLVMPositionBuilderAtEnd(cg->b, body);
  return l->iv;
}

void loop_end(Cg *cg, Loop *l) {
  LLVMValueRef next = LLVMBuildNUWAdd(cg->b, l->iv, i64c(cg, 1), "");
  LLVMBasicBlockRef latch = LLVMGetInsertBlock(cg->b);
  LLVMBuildBr(cg->b, l->header);
  LLVMAddIncoming(l->iv, &next, &latch, 1);
  LLVMPositionBuilderAtEnd(cg->b, l->exit);
}

/* ---- buffers -------------------------------------------------------------------------- */

/* The number of samples a node's value holds: the batch, or 1. */
static LLVMValueRef rows(Cg *cg, Shape s) { return s.batched ? cg->batch : i64c(cg, 1); }

static LLVMValueRef count(Cg *cg, Shape s) {
  return LLVMBuildMul(cg->b, rows(cg, s), i64c(cg, shape_size(s)), "");
}

/* The pointer to a node's buffer in the current function, computed once per function. */
LLVMValueRef buffer(Cg *cg, NodeId id) {
  if (cg->base[id]) return cg->base[id];
  const BufLoc *l = &cg->plan.loc[id];
  const Graph *g = cg->g;
  LLVMValueRef p = NULL;
  switch (l->kind) {
  case LOC_INPUT: {
    LLVMValueRef slot = LLVMBuildInBoundsGEP2(cg->b, cg->ptr, cg->inputs, (LLVMValueRef[]){i64c(cg, l->index)}, 1, "");
    p = LLVMBuildLoad2(cg->b, cg->ptr, slot, g->inputs[l->index].name);
    break;
  }
  case LOC_PARAM:
    p = gep(cg, cg->params, i64c(cg, g->params[l->index].offset));
    break;
  case LOC_GRAD:
    p = gep(cg, cg->grads, i64c(cg, g->params[l->index].offset));
    break;
  case LOC_ARENA: {
    LLVMValueRef off = LLVMBuildAdd(cg->b, i64c(cg, l->fixed),
                                    LLVMBuildMul(cg->b, i64c(cg, l->per_sample), cg->max_batch, ""), "");
    p = gep(cg, cg->arena, off);
    break;
  }
  case LOC_ALIAS:
    p = buffer(cg, l->alias);
    break;
  case LOC_IMM:
  case LOC_NONE:
  case LOC_FUSED:
    nnc_unreachable("no buffer for this node");
  }
  cg->base[id] = p;
  return p;
}

/* The value of an immediate node (a constant or the batch size). */
static LLVMValueRef immediate(Cg *cg, NodeId id) {
  const Node *n = graph_node(cg->g, id);
  if (n->op == OP_CONST) return f32c(cg, n->value);
  if (n->op == OP_BATCH) return cg->batch_f;
  nnc_unreachable("not an immediate");
}

/* ---- strided loop nests --------------------------------------------------------------- */

/* The full dims of a shape (batch first) as loop bounds. */
static int full_dims(Cg *cg, Shape s, LLVMValueRef *dims) {
  int r = 0;
  if (s.batched) dims[r++] = cg->batch;
  for (int i = 0; i < s.rank; i++) dims[r++] = i64c(cg, s.dim[i]);
  return r;
}

/* A loop nest over a full index space (batch first). Adjacent dims along which every
 * operand is laid out contiguously are collapsed into one loop: an op on f32[B, 10]
 * operands of the same shape is one loop of 10*B iterations, not two nested ones, which
 * vectorises better and gives LLVM less to chew on. Loop k covers full dims up to hi[k];
 * an operand's index is the sum of iv[k] times its stride at hi[k]. */
typedef struct Nest {
  Shape space;
  int r;
  int hi[NN_MAX_RANK + 1];
  Loop loops[NN_MAX_RANK + 1];
  LLVMValueRef iv[NN_MAX_RANK + 1];
} Nest;

static LLVMValueRef linear_index(Cg *cg, const Nest *ns, const int64_t *st) {
  LLVMValueRef idx = i64c(cg, 0);
  for (int k = 0; k < ns->r; k++)
    if (st[ns->hi[k]]) idx = LLVMBuildAdd(cg->b, idx, LLVMBuildMul(cg->b, ns->iv[k], i64c(cg, st[ns->hi[k]]), ""), "");
  return idx;
}

static LLVMValueRef read_operand(Cg *cg, NodeId id, const Nest *ns);

/* The operands of elementwise node n at the nest's position, into v[]. */
static void read_operands(Cg *cg, const Node *n, const Nest *ns, LLVMValueRef *v) {
  for (int k = 0; k < op_info[n->op].arity; k++) v[k] = read_operand(cg, n->in[k], ns);
}

/* Reads operand `id` at the nest's position, broadcasting it over the nest's space. */
static LLVMValueRef read_operand(Cg *cg, NodeId id, const Nest *ns) {
  if (cg->plan.loc[id].kind == LOC_IMM) return immediate(cg, id);
  if (cg->plan.loc[id].kind == LOC_FUSED) { /* computed here, in the consumer's loop */
    const Node *n = graph_node(cg->g, id);
    LLVMValueRef v[NODE_MAX_IN];
    read_operands(cg, n, ns, v);
    return cg_scalar_op(cg, cg->g, n, v);
  }
  int64_t st[NN_MAX_RANK + 1];
  shape_strides(graph_node(cg->g, id)->shape, ns->space, st);
  return LLVMBuildLoad2(cg->b, cg->f32, gep(cg, buffer(cg, id), linear_index(cg, ns, st)), "");
}

/* The stride vectors of the buffers an operand reads (through fused nodes). */
enum { MAX_VECS = 32 };
typedef struct Vecs {
  int64_t st[MAX_VECS][NN_MAX_RANK + 1];
  int n;
  bool overflow;
} Vecs;

static void add_vec(Vecs *v, Shape of, Shape space) {
  if (v->n == MAX_VECS) {
    v->overflow = true;
    return;
  }
  shape_strides(of, space, v->st[v->n++]);
}

static void add_operand(Cg *cg, Vecs *v, NodeId id, Shape space) {
  if (cg->plan.loc[id].kind == LOC_IMM) return;
  const Node *n = graph_node(cg->g, id);
  if (cg->plan.loc[id].kind == LOC_FUSED) {
    for (int k = 0; k < op_info[n->op].arity; k++) add_operand(cg, v, n->in[k], space);
    return;
  }
  add_vec(v, n->shape, space);
}

LLVMValueRef cg_scalar_op(Cg *cg, const Graph *g, const Node *n, const LLVMValueRef *v) {
  LLVMBuilderRef b = cg->b;
  LLVMValueRef x = v[0], y = op_info[n->op].arity > 1 ? v[1] : NULL;
  LLVMTypeRef ty = LLVMTypeOf(x);
  LLVMValueRef zero = cg_fconst(cg, ty, 0), one = cg_fconst(cg, ty, 1);
  switch ((OpKind)n->op) {
  case OP_NEG: return LLVMBuildFNeg(b, x, "");
  case OP_EXP: return intrinsic_of(cg, "llvm.exp", ty, &x, 1);
  case OP_LOG: return intrinsic_of(cg, "llvm.log", ty, &x, 1);
  case OP_TANH: return libm(cg, "tanhf", x);
  case OP_SIGMOID: {
    LLVMValueRef nx = LLVMBuildFNeg(b, x, "");
    LLVMValueRef e = intrinsic_of(cg, "llvm.exp", ty, &nx, 1);
    return LLVMBuildFDiv(b, one, LLVMBuildFAdd(b, one, e, ""), "");
  }
  case OP_RELU:
    return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGT, x, zero, ""), x, zero, "");
  case OP_ABS: return intrinsic_of(cg, "llvm.fabs", ty, &x, 1);
  case OP_SQRT: return intrinsic_of(cg, "llvm.sqrt", ty, &x, 1);
  case OP_MAX:
    return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGE, x, y, ""), x, y, "");
  case OP_MIN:
    return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLE, x, y, ""), x, y, "");
  case OP_ADD: return LLVMBuildFAdd(b, x, y, "");
  case OP_SUB: return LLVMBuildFSub(b, x, y, "");
  case OP_MUL: return LLVMBuildFMul(b, x, y, "");
  case OP_DIV: return LLVMBuildFDiv(b, x, y, "");
  case OP_POW: {
    const Node *e = graph_node(g, n->in[1]);
    if (e->op == OP_CONST && e->value == 2) return LLVMBuildFMul(b, x, x, "");
    if (e->op == OP_CONST && e->value == 0.5f) return intrinsic_of(cg, "llvm.sqrt", ty, &x, 1);
    LLVMValueRef args[2] = {x, y};
    return intrinsic_of(cg, "llvm.pow", ty, args, 2);
  }
  case OP_GT:
  case OP_GE:
  case OP_EQ:
  case OP_NE: {
    LLVMRealPredicate p = n->op == OP_GT ? LLVMRealOGT : n->op == OP_GE ? LLVMRealOGE
                          : n->op == OP_EQ ? LLVMRealOEQ : LLVMRealUNE;
    return LLVMBuildSelect(b, LLVMBuildFCmp(b, p, x, y, ""), one, zero, "");
  }
  case OP_WHERE: /* c != 0, or c is NaN: as interp.c's c != 0 */
    return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealUNE, x, zero, ""), y, v[2], "");
  case OP_BROADCAST:
    return x;
  default:
    nnc_unreachable("not an elementwise op");
  }
}

/* The loops over `space`, collapsing adjacent dims where every vector in v (NULL:
 * collapse nothing) is contiguous across them: their extents in ext, their last full dims
 * in ns->hi; returns how many. */
static int nest_loops(Cg *cg, Shape space, const Vecs *v, Nest *ns, LLVMValueRef *ext) {
  LLVMValueRef dims[NN_MAX_RANK + 1];
  int full = full_dims(cg, space, dims);
  int64_t stat[NN_MAX_RANK + 1]; /* static extents; the batch (dim 0) is never needed */
  for (int d = space.batched; d < full; d++) stat[d] = space.dim[d - space.batched];
  ns->space = space;
  ns->r = 0;
  for (int d = 0; d < full; d++) {
    bool merge = d > 0 && v && !v->overflow;
    for (int i = 0; merge && i < v->n; i++) merge = v->st[i][d - 1] == v->st[i][d] * stat[d];
    if (merge) {
      ext[ns->r - 1] = LLVMBuildMul(cg->b, ext[ns->r - 1], dims[d], "");
      ns->hi[ns->r - 1] = d;
    } else {
      ext[ns->r] = dims[d];
      ns->hi[ns->r++] = d;
    }
  }
  return ns->r;
}

/* Opens the nest's loops; with lo (and hi), the outermost one runs over [lo, hi) only. */
static void open_nest_range(Cg *cg, Shape space, const Vecs *v, Nest *ns, LLVMValueRef lo, LLVMValueRef hi) {
  LLVMValueRef ext[NN_MAX_RANK + 1];
  nest_loops(cg, space, v, ns, ext);
  for (int k = 0; k < ns->r; k++) {
    if (k == 0 && lo) {
      ns->iv[0] = LLVMBuildNUWAdd(cg->b, lo, loop_begin(cg, LLVMBuildSub(cg->b, hi, lo, ""), &ns->loops[0]), "");
      continue;
    }
    ns->iv[k] = loop_begin(cg, ext[k], &ns->loops[k]);
  }
}

static void open_nest(Cg *cg, Shape space, const Vecs *v, Nest *ns) { open_nest_range(cg, space, v, ns, NULL, NULL); }

static void close_nest(Cg *cg, Nest *ns) {
  for (int k = ns->r - 1; k >= 0; k--) loop_end(cg, &ns->loops[k]);
}

/* dst[i] = op(operands broadcast to dst_shape) over dst_shape's index space; with lo,
 * only [lo, hi) of the nest's outermost loop. */
static void emit_elementwise_range(Cg *cg, LLVMValueRef dst, Shape dst_shape, const Node *n, LLVMValueRef lo,
                                   LLVMValueRef hi) {
  Vecs v = {0};
  add_vec(&v, dst_shape, dst_shape);
  for (int k = 0; k < op_info[n->op].arity; k++) add_operand(cg, &v, n->in[k], dst_shape);
  Nest ns;
  open_nest_range(cg, dst_shape, &v, &ns, lo, hi);
  LLVMValueRef ops[NODE_MAX_IN];
  read_operands(cg, n, &ns, ops);
  LLVMBuildStore(cg->b, cg_scalar_op(cg, cg->g, n, ops), gep(cg, dst, linear_index(cg, &ns, v.st[0])));
  close_nest(cg, &ns);
}

static void emit_elementwise(Cg *cg, LLVMValueRef dst, Shape dst_shape, const Node *n) {
  emit_elementwise_range(cg, dst, dst_shape, n, NULL, NULL);
}

/* ---- elementwise nodes across the threads ---- */

/* A batched elementwise node with at least this many floats per sample gets a loop
 * function of its own, body(env, lo, hi) over ranges of its nest's outermost loop, which
 * the runtime's threads split when the node has PARALLEL_MIN_ELEMENTS or more (the
 * flagship's bias, relu and mask at a full batch: 30M elements a node, about 10 ms). */
enum { OUTLINE_MIN_SAMPLE = 64, PARALLEL_MIN_ELEMENTS = 1 << 18 };

/* What a loop function needs of its entry point to find the buffers. */
static LLVMTypeRef env_type(Cg *cg) {
  return LLVMStructTypeInContext(cg->ctx, (LLVMTypeRef[]){cg->ptr, cg->ptr, cg->ptr, cg->ptr, cg->i64, cg->i64}, 6,
                                 false);
}

/* Computes (in the current block) the buffers a node reads and writes, through fused
 * operands, so that their addresses dominate the loops that use them. */
static void address_buffers(Cg *cg, NodeId id) {
  LocKind k = cg->plan.loc[id].kind;
  if (k == LOC_IMM) return;
  if (k != LOC_FUSED) {
    buffer(cg, id);
    return;
  }
  const Node *n = graph_node(cg->g, id);
  for (int i = 0; i < op_info[n->op].arity; i++) address_buffers(cg, n->in[i]);
}

/* void nnc_elementwise(env, lo, hi): node id's loop nest over [lo, hi) of its outermost
 * loop, its buffers found from env = {params, grads, inputs, arena, batch, max_batch}. */
static LLVMValueRef elementwise_body(Cg *cg, NodeId id) {
  if (cg->elementwise_fn[id]) return cg->elementwise_fn[id]; /* the same in every entry point */
  const Node *n = graph_node(cg->g, id);
  struct {
    LLVMValueRef fn, params, grads, inputs, arena, batch, max_batch, batch_f, *base;
    LLVMBasicBlockRef bb;
  } saved = {cg->fn, cg->params, cg->grads, cg->inputs, cg->arena, cg->batch, cg->max_batch, cg->batch_f,
             cg->base, LLVMGetInsertBlock(cg->b)};
  LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(cg->ctx), (LLVMTypeRef[]){cg->ptr, cg->i64, cg->i64}, 3, false);
  cg->fn = cg_helper(cg, "nnc_elementwise", fty);
  LLVMPositionBuilderAtEnd(cg->b, LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "entry"));
  LLVMTypeRef et = env_type(cg);
  LLVMValueRef env = LLVMGetParam(cg->fn, 0), f[6];
  for (unsigned i = 0; i < 6; i++)
    f[i] = LLVMBuildLoad2(cg->b, i < 4 ? cg->ptr : cg->i64, LLVMBuildStructGEP2(cg->b, et, env, i, ""), "");
  cg->params = f[0], cg->grads = f[1], cg->inputs = f[2], cg->arena = f[3], cg->batch = f[4], cg->max_batch = f[5];
  cg->batch_f = LLVMBuildSIToFP(cg->b, cg->batch, cg->f32, "batch_f");
  cg->base = calloc(cg->g->count, sizeof *cg->base);
  if (!cg->base) nnc_unreachable("out of memory");
  address_buffers(cg, id);
  for (int k = 0; k < op_info[n->op].arity; k++) address_buffers(cg, n->in[k]);
  emit_elementwise_range(cg, buffer(cg, id), n->shape, n, LLVMGetParam(cg->fn, 1), LLVMGetParam(cg->fn, 2));
  LLVMBuildRetVoid(cg->b);
  LLVMValueRef fn = cg->fn;
  free(cg->base);
  cg->fn = saved.fn, cg->params = saved.params, cg->grads = saved.grads, cg->inputs = saved.inputs;
  cg->arena = saved.arena, cg->batch = saved.batch, cg->max_batch = saved.max_batch, cg->batch_f = saved.batch_f;
  cg->base = saved.base;
  LLVMPositionBuilderAtEnd(cg->b, saved.bb);
  cg->elementwise_fn[id] = fn;
  return fn;
}

/* The current function's env, stored once in its entry block, after the step's fields are
 * loaded (the last of them is max_batch). */
static LLVMValueRef function_env(Cg *cg) {
  if (cg->env) return cg->env;
  LLVMTypeRef et = env_type(cg);
  cg->env = cg_entry_alloca(cg, et, "env");
  LLVMBuilderRef eb = LLVMCreateBuilderInContext(cg->ctx);
  LLVMValueRef after = LLVMGetNextInstruction(cg->max_batch);
  if (after)
    LLVMPositionBuilderBefore(eb, after);
  else
    LLVMPositionBuilderAtEnd(eb, LLVMGetEntryBasicBlock(cg->fn));
  LLVMValueRef null = LLVMConstNull(cg->ptr);
  LLVMValueRef vals[6] = {cg->params, cg->grads ? cg->grads : null, cg->inputs, cg->arena, cg->batch, cg->max_batch};
  for (unsigned i = 0; i < 6; i++) LLVMBuildStore(eb, vals[i], LLVMBuildStructGEP2(eb, et, cg->env, i, ""));
  LLVMDisposeBuilder(eb);
  return cg->env;
}

static void emit_elementwise_node(Cg *cg, NodeId id) {
  const Node *n = graph_node(cg->g, id);
  if (!n->shape.batched || shape_size(n->shape) < OUTLINE_MIN_SAMPLE) {
    emit_elementwise(cg, buffer(cg, id), n->shape, n);
    return;
  }
  LLVMValueRef body = elementwise_body(cg, id);
  LLVMValueRef env = function_env(cg);
  /* the units the threads split: the nest's outermost loop (rows, or elements when the
   * whole node is one contiguous loop), the same extents as the body computes */
  Vecs v = {0};
  add_vec(&v, n->shape, n->shape);
  for (int k = 0; k < op_info[n->op].arity; k++) add_operand(cg, &v, n->in[k], n->shape);
  Nest ns;
  LLVMValueRef ext[NN_MAX_RANK + 1];
  nest_loops(cg, n->shape, &v, &ns, ext);
  LLVMValueRef big = LLVMBuildICmp(cg->b, LLVMIntSGE, count(cg, n->shape), i64c(cg, PARALLEL_MIN_ELEMENTS), "");
  cg_parallel_call(cg, body, env, ext[0], big);
}

/* dst (shape dst_shape) = src broadcast up to it; src may be an immediate. */
void emit_copy(Cg *cg, LLVMValueRef dst, Shape dst_shape, NodeId src) {
  Node copy = {0};
  copy.op = OP_BROADCAST;
  copy.in[0] = src;
  emit_elementwise(cg, dst, dst_shape, &copy);
}

static void emit_fill(Cg *cg, LLVMValueRef dst, LLVMValueRef n, LLVMValueRef value) {
  Loop l;
  LLVMValueRef i = loop_begin(cg, n, &l);
  LLVMBuildStore(cg->b, value, gep(cg, dst, i));
  loop_end(cg, &l);
}

/* out = the sum (or max) of the input over the axes where out is broadcast. */
static void emit_reduce(Cg *cg, NodeId id) {
  const Node *n = graph_node(cg->g, id);
  bool is_max = n->op == OP_MAXTO;
  LLVMValueRef dst = buffer(cg, id);
  emit_fill(cg, dst, count(cg, n->shape), f32c(cg, is_max ? -1.0 / 0.0 : 0));
  Shape space = graph_node(cg->g, n->in[0])->shape;
  Vecs vs = {0};
  add_vec(&vs, n->shape, space); /* the output, with stride 0 along the summed axes */
  add_operand(cg, &vs, n->in[0], space);
  Nest ns;
  open_nest(cg, space, &vs, &ns);
  LLVMValueRef x = read_operand(cg, n->in[0], &ns);
  LLVMValueRef p = gep(cg, dst, linear_index(cg, &ns, vs.st[0]));
  LLVMValueRef acc = LLVMBuildLoad2(cg->b, cg->f32, p, "");
  LLVMValueRef v = is_max ? LLVMBuildSelect(cg->b, LLVMBuildFCmp(cg->b, LLVMRealOGE, acc, x, ""), acc, x, "")
                          : LLVMBuildFAdd(cg->b, acc, x, "");
  LLVMBuildStore(cg->b, v, p);
  close_nest(cg, &ns);
}

/* Element i of a node's value, viewed flat; immediates are the same everywhere. */
static LLVMValueRef load_flat(Cg *cg, NodeId id, LLVMValueRef i) {
  if (cg->plan.loc[id].kind == LOC_IMM) return immediate(cg, id);
  return LLVMBuildLoad2(cg->b, cg->f32, gep(cg, buffer(cg, id), i), "");
}

/* A loop-carried value: a phi in the loop header, updated at the latch. */
LLVMValueRef carried(Cg *cg, Loop *l, LLVMValueRef init, LLVMBasicBlockRef pre) {
  LLVMBasicBlockRef here = LLVMGetInsertBlock(cg->b);
  LLVMPositionBuilder(cg->b, l->header, LLVMGetFirstInstruction(l->header));
  LLVMValueRef phi = LLVMBuildPhi(cg->b, LLVMTypeOf(init), "");
  LLVMAddIncoming(phi, &init, &pre, 1);
  LLVMPositionBuilderAtEnd(cg->b, here);
  return phi;
}

/* Closes loop l, feeding `next` back into the carried value `phi`. */
void loop_end_carry(Cg *cg, Loop *l, LLVMValueRef *phis, LLVMValueRef *next, int n) {
  LLVMBasicBlockRef latch = LLVMGetInsertBlock(cg->b);
  for (int i = 0; i < n; i++) LLVMAddIncoming(phis[i], &next[i], &latch, 1);
  loop_end(cg, l);
}

/* logsumexp and argmax over the last axis: per row, a max pass, then (for logsumexp)
 * a pass summing exp(x - max), so no exp overflows. */
static void emit_last_axis(Cg *cg, NodeId id) {
  const Node *n = graph_node(cg->g, id);
  NodeId z = n->in[0];
  const Shape *zs = &graph_node(cg->g, z)->shape;
  int64_t k = zs->dim[zs->rank - 1];
  LLVMValueRef dst = buffer(cg, id), kk = i64c(cg, k);
  Loop rows;
  LLVMValueRef r = loop_begin(cg, count(cg, n->shape), &rows);
  LLVMValueRef base = LLVMBuildMul(cg->b, r, kk, "");
  /* pass 1: the maximum and where it first occurs */
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(cg->b);
  Loop l1;
  LLVMValueRef j = loop_begin(cg, kk, &l1);
  LLVMValueRef best = carried(cg, &l1, f32c(cg, -1.0 / 0.0), pre);
  LLVMValueRef at = carried(cg, &l1, i64c(cg, 0), pre);
  LLVMValueRef x = load_flat(cg, z, LLVMBuildAdd(cg->b, base, j, ""));
  LLVMValueRef better = LLVMBuildFCmp(cg->b, LLVMRealOGT, x, best, "");
  LLVMValueRef nb = LLVMBuildSelect(cg->b, better, x, best, "");
  LLVMValueRef na = LLVMBuildSelect(cg->b, better, j, at, "");
  loop_end_carry(cg, &l1, (LLVMValueRef[]){best, at}, (LLVMValueRef[]){nb, na}, 2);
  LLVMValueRef out;
  if (n->op == OP_ARGMAX) {
    out = LLVMBuildSIToFP(cg->b, at, cg->f32, "");
  } else {
    /* a row of -inf has max -inf: subtracting it would give nan, so use 0 instead */
    LLVMValueRef finite = LLVMBuildFCmp(cg->b, LLVMRealONE, best, f32c(cg, -1.0 / 0.0), "");
    LLVMValueRef m = LLVMBuildSelect(cg->b, finite, best, f32c(cg, 0), "");
    LLVMBasicBlockRef pre2 = LLVMGetInsertBlock(cg->b);
    Loop l2;
    LLVMValueRef j2 = loop_begin(cg, kk, &l2);
    LLVMValueRef sum = carried(cg, &l2, f32c(cg, 0), pre2);
    LLVMValueRef d = LLVMBuildFSub(cg->b, load_flat(cg, z, LLVMBuildAdd(cg->b, base, j2, "")), m, "");
    LLVMValueRef ns = LLVMBuildFAdd(cg->b, sum, intrinsic(cg, "llvm.exp", &d, 1), "");
    loop_end_carry(cg, &l2, &sum, &ns, 1);
    out = LLVMBuildFAdd(cg->b, m, intrinsic(cg, "llvm.log", &sum, 1), "");
  }
  LLVMBuildStore(cg->b, out, gep(cg, dst, r));
  loop_end(cg, &rows);
}

/* onehot: out[r, j] = (y[r] == j) */
static void emit_onehot(Cg *cg, NodeId id) {
  const Node *n = graph_node(cg->g, id);
  LLVMValueRef dst = buffer(cg, id), kk = i64c(cg, n->attr);
  Loop rows, cols;
  LLVMValueRef r = loop_begin(cg, count(cg, graph_node(cg->g, n->in[0])->shape), &rows);
  LLVMValueRef y = LLVMBuildFPToSI(cg->b, load_flat(cg, n->in[0], r), cg->i64, "");
  LLVMValueRef j = loop_begin(cg, kk, &cols);
  LLVMValueRef hit = LLVMBuildICmp(cg->b, LLVMIntEQ, y, j, "");
  LLVMBuildStore(cg->b, LLVMBuildSelect(cg->b, hit, f32c(cg, 1), f32c(cg, 0), ""),
                 gep(cg, dst, LLVMBuildAdd(cg->b, LLVMBuildMul(cg->b, r, kk, ""), j, "")));
  loop_end(cg, &cols);
  loop_end(cg, &rows);
}

/* gather: out[i] = z[i, y[i]], with z and y broadcast over the batch as needed. The label
 * is clamped into range: the runtime checks labels, and a bad one must not read outside z. */
static void emit_gather(Cg *cg, NodeId id) {
  const Node *n = graph_node(cg->g, id);
  Shape zs = graph_node(cg->g, n->in[0])->shape;
  int64_t k = zs.dim[zs.rank - 1];
  Shape zrows = zs;
  zrows.rank--;
  Nest ns;
  open_nest(cg, n->shape, NULL, &ns);
  LLVMValueRef y = LLVMBuildFPToSI(cg->b, read_operand(cg, n->in[1], &ns), cg->i64, "");
  y = LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntSLT, y, i64c(cg, 0), ""), i64c(cg, 0), y, "");
  y = LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntSGE, y, i64c(cg, k), ""), i64c(cg, k - 1), y, "");
  int64_t st[NN_MAX_RANK + 1];
  shape_strides(zrows, n->shape, st);
  LLVMValueRef row = LLVMBuildMul(cg->b, linear_index(cg, &ns, st), i64c(cg, k), "");
  LLVMValueRef x = load_flat(cg, n->in[0], LLVMBuildAdd(cg->b, row, y, ""));
  shape_strides(n->shape, n->shape, st);
  LLVMBuildStore(cg->b, x, gep(cg, buffer(cg, id), linear_index(cg, &ns, st)));
  close_nest(cg, &ns);
}

/* transpose of per-sample matrices: out[b, i, j] = in[b, j, i] */
static void emit_transpose(Cg *cg, NodeId id) {
  const Node *n = graph_node(cg->g, id);
  Shape os = n->shape;
  Nest ns;
  open_nest(cg, os, NULL, &ns);
  int64_t p = os.dim[1], q = os.dim[0]; /* the input is [p, q] */
  int64_t in_st[NN_MAX_RANK + 1] = {0}, out_st[NN_MAX_RANK + 1];
  int d = 0;
  if (os.batched) in_st[d++] = p * q;
  in_st[d++] = 1;
  in_st[d++] = q;
  (void)p;
  LLVMValueRef x = load_flat(cg, n->in[0], linear_index(cg, &ns, in_st));
  shape_strides(os, os, out_st);
  LLVMBuildStore(cg->b, x, gep(cg, buffer(cg, id), linear_index(cg, &ns, out_st)));
  close_nest(cg, &ns);
}

/* The rows/cols of a matmul operand viewed as a matrix. */
void matrix_view(Cg *cg, Shape s, LLVMValueRef *nrows, int64_t *ncols) {
  int64_t r = 1;
  for (int i = 0; i + 1 < s.rank; i++) r *= s.dim[i];
  *nrows = LLVMBuildMul(cg->b, rows(cg, s), i64c(cg, r), "");
  *ncols = s.dim[s.rank - 1];
}

/* y[0, :N) = x[0, :K) B[K, N] as a sum of the rows of B scaled by x, skipping the rows
 * where x is zero: the input of a first layer is often half zeros (Fashion-MNIST's
 * background), and B, the weight matrix, is then read half. A zero x[i] adds +-0 to
 * each sum, which changes nothing unless B's row holds an inf or NaN; a NaN x[i] takes
 * the full path (the test is "unordered or not equal"). The rows left are listed first
 * and added eight at a time: y[j] is loaded once for eight rows and eight rows of B stream
 * from L3 at once, while every y[j] still sums its terms in ascending row order. */
static void emit_row_times_matrix(Cg *cg, LLVMValueRef y, LLVMValueRef x, LLVMValueRef bm, LLVMValueRef k,
                                  int64_t ncols, int64_t nrows) {
  enum { GROUP = 8 };
  LLVMBuilderRef b = cg->b;
  LLVMValueRef nc = i64c(cg, ncols);
  emit_fill(cg, y, nc, f32c(cg, 0));
  LLVMValueRef list = cg_entry_alloca(cg, LLVMArrayType2(cg->i32, (uint64_t)nrows), "rows");
  LLVMValueRef count_p = cg_entry_alloca(cg, cg->i64, "nrows");
  LLVMBuildStore(b, i64c(cg, 0), count_p);
  Loop li, lg, lj, lr, lj1;
  LLVMValueRef i = loop_begin(cg, k, &li);
  LLVMValueRef xi = LLVMBuildLoad2(b, cg->f32, gep(cg, x, i), "xi");
  LLVMValueRef count = LLVMBuildLoad2(b, cg->i64, count_p, "");
  LLVMBuildStore(b, LLVMBuildTrunc(b, i, cg->i32, ""), LLVMBuildInBoundsGEP2(b, cg->i32, list, &count, 1, ""));
  LLVMValueRef nz = LLVMBuildZExt(b, LLVMBuildFCmp(b, LLVMRealUNE, xi, f32c(cg, 0), ""), cg->i64, "");
  LLVMBuildStore(b, LLVMBuildAdd(b, count, nz, ""), count_p);
  loop_end(cg, &li);
  LLVMValueRef n = LLVMBuildLoad2(b, cg->i64, count_p, "");
  /* groups of four rows */
  LLVMValueRef g = loop_begin(cg, LLVMBuildSDiv(b, n, i64c(cg, GROUP), ""), &lg);
  LLVMValueRef xr[GROUP], br[GROUP];
  for (int t = 0; t < GROUP; t++) {
    LLVMValueRef at = LLVMBuildAdd(b, LLVMBuildMul(b, g, i64c(cg, GROUP), ""), i64c(cg, t), "");
    LLVMValueRef row = LLVMBuildSExt(b, LLVMBuildLoad2(b, cg->i32, LLVMBuildInBoundsGEP2(b, cg->i32, list, &at, 1, ""), ""),
                                     cg->i64, "");
    xr[t] = LLVMBuildLoad2(b, cg->f32, gep(cg, x, row), "");
    br[t] = gep(cg, bm, LLVMBuildMul(b, row, nc, ""));
  }
  LLVMValueRef j = loop_begin(cg, nc, &lj);
  LLVMValueRef yp = gep(cg, y, j);
  LLVMValueRef acc = LLVMBuildLoad2(b, cg->f32, yp, "");
  for (int t = 0; t < GROUP; t++)
    acc = LLVMBuildFAdd(b, acc, LLVMBuildFMul(b, xr[t], LLVMBuildLoad2(b, cg->f32, gep(cg, br[t], j), ""), ""), "");
  LLVMBuildStore(b, acc, yp);
  loop_end(cg, &lj);
  loop_end(cg, &lg);
  /* the last rows, one at a time */
  LLVMValueRef done = LLVMBuildMul(b, LLVMBuildSDiv(b, n, i64c(cg, GROUP), ""), i64c(cg, GROUP), "");
  LLVMValueRef r = LLVMBuildAdd(b, done, loop_begin(cg, LLVMBuildSub(b, n, done, ""), &lr), "");
  LLVMValueRef row = LLVMBuildSExt(b, LLVMBuildLoad2(b, cg->i32, LLVMBuildInBoundsGEP2(b, cg->i32, list, &r, 1, ""), ""),
                                   cg->i64, "");
  LLVMValueRef x1 = LLVMBuildLoad2(b, cg->f32, gep(cg, x, row), "");
  LLVMValueRef b1 = gep(cg, bm, LLVMBuildMul(b, row, nc, ""));
  LLVMValueRef j1 = loop_begin(cg, nc, &lj1);
  LLVMValueRef yp1 = gep(cg, y, j1);
  LLVMBuildStore(b, LLVMBuildFAdd(b, LLVMBuildLoad2(b, cg->f32, yp1, ""),
                                  LLVMBuildFMul(b, x1, LLVMBuildLoad2(b, cg->f32, gep(cg, b1, j1), ""), ""), ""),
                 yp1);
  loop_end(cg, &lj1);
  loop_end(cg, &lr);
}

void emit_matmul(Cg *cg, NodeId id) {
  enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
  const Node *n = graph_node(cg->g, id);
  Shape sa = graph_node(cg->g, n->in[0])->shape, sb = graph_node(cg->g, n->in[1])->shape;
  bool ta = n->attr & MM_TA, tb = n->attr & MM_TB;
  LLVMValueRef ra, rb;
  int64_t ca, cb;
  matrix_view(cg, sa, &ra, &ca);
  matrix_view(cg, sb, &rb, &cb);
  LLVMValueRef m = ta ? i64c(cg, ca) : ra;
  LLVMValueRef k = ta ? ra : i64c(cg, ca);
  LLVMValueRef nn = tb ? rb : i64c(cg, cb);
  LLVMTypeRef i32 = cg->i32;
  LLVMValueRef c = buffer(cg, id), a = buffer(cg, n->in[0]), b = buffer(cg, n->in[1]);
  /* C's row length; sema refuses a batched right operand, so it is known here */
  if (!LLVMIsAConstantInt(nn)) nnc_unreachable("a batched right operand of a product");
  int64_t ldc = LLVMConstIntGetSExtValue(nn);
  bool k_known = LLVMIsAConstantInt(k);
  bool own = !tb && cg_gemm_applies(cg, cb, k_known ? LLVMConstIntGetSExtValue(k) : 0);
  if (ta) { /* a weight gradient: K is the batch, known at run time */
    if (!own) {
      cg_emit_cblas_gemm(cg, c, a, b, m, nn, k, ta, tb, ca, cb, ldc);
      return;
    }
    LLVMBasicBlockRef kern = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "gemm_kernels");
    LLVMBasicBlockRef blas = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "gemm_cblas");
    LLVMBasicBlockRef joined = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "gemm_joined");
    LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntSLE, k, i64c(cg, GEMM_MAX_K), ""), kern, blas);
    LLVMPositionBuilderAtEnd(cg->b, kern);
    cg_emit_gemm(cg, c, a, b, m, k, cb, true, ca);
    LLVMBuildBr(cg->b, joined);
    LLVMPositionBuilderAtEnd(cg->b, blas);
    cg_emit_cblas_gemm(cg, c, a, b, m, nn, k, ta, tb, ca, cb, ldc);
    LLVMBuildBr(cg->b, joined);
    LLVMPositionBuilderAtEnd(cg->b, joined);
    return;
  }
  /* One row (batch 1): GEMV streams op(B) once and is faster than GEMM's small kernel. */
  LLVMBasicBlockRef one = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "gemv");
  LLVMBasicBlockRef many = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "gemm");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "mm_done");
  LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntEQ, m, i64c(cg, 1), ""), one, many);
  LLVMPositionBuilderAtEnd(cg->b, many);
  if (own)
    cg_emit_gemm(cg, c, a, b, m, k, cb, false, ca);
  else
    cg_emit_cblas_gemm(cg, c, a, b, m, nn, k, ta, tb, ca, cb, ldc);
  LLVMBuildBr(cg->b, done);
  LLVMPositionBuilderAtEnd(cg->b, one);
  if (!tb) {
    emit_row_times_matrix(cg, buffer(cg, id), buffer(cg, n->in[0]), buffer(cg, n->in[1]), k, cb, ca);
    LLVMBuildBr(cg->b, done);
    LLVMPositionBuilderAtEnd(cg->b, done);
    return;
  }
  /* y = B x: B stored [N, K] (tb) */
  LLVMValueRef gv[11] = {
      LLVMConstInt(i32, ROW_MAJOR, false),
      LLVMConstInt(i32, tb ? NO_TRANS : TRANS, false),
      LLVMBuildTrunc(cg->b, rb, i32, ""),
      LLVMConstInt(i32, (unsigned long long)cb, false),
      f32c(cg, 1),
      buffer(cg, n->in[1]),
      LLVMConstInt(i32, (unsigned long long)cb, false),
      buffer(cg, n->in[0]),
      LLVMConstInt(i32, 1, false),
      f32c(cg, 0),
      buffer(cg, id),
  };
  LLVMValueRef gv_args[12];
  memcpy(gv_args, gv, sizeof gv);
  gv_args[11] = LLVMConstInt(i32, 1, false);
  LLVMBuildCall2(cg->b, cg->sgemv_ty, cg->sgemv, gv_args, 12, "");
  LLVMBuildBr(cg->b, done);
  LLVMPositionBuilderAtEnd(cg->b, done);
}

static void emit_node(Cg *cg, NodeId id) {
  const Node *n = graph_node(cg->g, id);
  const BufLoc *l = &cg->plan.loc[id];
  if (l->kind == LOC_IMM || l->kind == LOC_INPUT || l->kind == LOC_PARAM || l->kind == LOC_ALIAS ||
      l->kind == LOC_FUSED)
    return;
  switch ((OpKind)n->op) {
  case OP_CONST:
  case OP_BATCH:
    emit_fill(cg, buffer(cg, id), count(cg, n->shape), immediate(cg, id));
    return;
  case OP_RESHAPE: /* of an immediate: the plan gave it memory */
    emit_fill(cg, buffer(cg, id), count(cg, n->shape), immediate(cg, n->in[0]));
    return;
  case OP_SUMTO:
  case OP_MAXTO:
    emit_reduce(cg, id);
    return;
  case OP_LOGSUMEXP:
  case OP_ARGMAX:
    emit_last_axis(cg, id);
    return;
  case OP_ONEHOT:
    emit_onehot(cg, id);
    return;
  case OP_GATHER:
    emit_gather(cg, id);
    return;
  case OP_TRANSPOSE:
    emit_transpose(cg, id);
    return;
  case OP_MATMUL:
    emit_matmul(cg, id);
    return;
  default:
    if (!op_info[n->op].elementwise && n->op != OP_BROADCAST) nnc_unreachable("no lowering for op");
    emit_elementwise_node(cg, id);
    return;
  }
}

/* ---- entry points --------------------------------------------------------------------- */

/* Marks a root; emit_nodes extends the marks to everything the roots read. */
void mark(const Graph *g, NodeId id, bool *need) {
  (void)g;
  need[id] = true;
}

LLVMValueRef scalar_result(Cg *cg, NodeId id) {
  if (cg->plan.loc[id].kind == LOC_IMM) return immediate(cg, id);
  return LLVMBuildLoad2(cg->b, cg->f32, buffer(cg, id), "loss");
}

void begin_function(Cg *cg, const char *name, LLVMTypeRef ty) {
  cg->fn = LLVMAddFunction(cg->mod, name, ty);
  LLVMSetLinkage(cg->fn, LLVMInternalLinkage);
  LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "entry");
  LLVMPositionBuilderAtEnd(cg->b, entry);
  memset(cg->base, 0, cg->g->count * sizeof(LLVMValueRef));
  cg->env = NULL;
  cg->rule_scal = NULL;
}

void emit_nodes(Cg *cg, bool *need) {
  for (NodeId id = cg->g->count - 1; id >= 1; id--) /* ids are topological */
    if (need[id])
      for (int k = 0; k < op_info[graph_node(cg->g, id)->op].arity; k++) need[graph_node(cg->g, id)->in[k]] = true;
  cg->batch_f = LLVMBuildSIToFP(cg->b, cg->batch, cg->f32, "batch_f");
  /* every buffer address is computed in the entry block, where it dominates all loops */
  for (NodeId id = 1; id < cg->g->count; id++)
    if (need[id] && cg->plan.loc[id].kind != LOC_IMM && cg->plan.loc[id].kind != LOC_FUSED) buffer(cg, id);
  for (NodeId id = 1; id < cg->g->count; id++)
    if (need[id]) emit_node(cg, id);
}

void store_metrics(Cg *cg, LLVMValueRef metrics) {
  for (int i = 0; i < cg->g->nmetrics; i++)
    LLVMBuildStore(cg->b, scalar_result(cg, cg->g->metrics[i].node), gep(cg, metrics, i64c(cg, i)));
}

/* nnrt_step, field by field as runtime/nnrt.h declares it (codegen_desc.c checks the
 * offsets against the C compiler's). */
LLVMTypeRef cg_step_type(Cg *cg) {
  if (cg->step_ty) return cg->step_ty;
  LLVMTypeRef f[STEP_FIELDS];
  for (int i = 0; i < STEP_FIELDS; i++)
    f[i] = i >= STEP_BATCH && i <= STEP_SEED ? cg->i64 : i >= STEP_RULE ? cg->i32 : cg->ptr;
  cg->step_ty = LLVMStructCreateNamed(cg->ctx, "nnrt_step");
  LLVMStructSetBody(cg->step_ty, f, STEP_FIELDS, false);
  return cg->step_ty;
}

LLVMValueRef cg_step_field(Cg *cg, unsigned field) {
  LLVMTypeRef ty = LLVMStructGetTypeAtIndex(cg_step_type(cg), field);
  return LLVMBuildLoad2(cg->b, ty, LLVMBuildStructGEP2(cg->b, cg_step_type(cg), cg->step, field, ""), "");
}

void cg_begin_entry(Cg *cg, const char *name, const Graph *g, const Plan *plan) {
  if (cg->g != g) { /* a graph of its own: its own buffers and loop functions */
    free(cg->base);
    free(cg->elementwise_fn);
    cg->base = calloc(g->count, sizeof *cg->base);
    cg->elementwise_fn = calloc(g->count, sizeof *cg->elementwise_fn);
    if (!cg->base || !cg->elementwise_fn) nnc_unreachable("out of memory");
  }
  cg->g = g;
  cg->plan = *plan;
  begin_function(cg, name, LLVMFunctionType(cg->f32, &cg->ptr, 1, false));
  cg->step = LLVMGetParam(cg->fn, 0);
  cg->params = cg_step_field(cg, STEP_PARAMS);
  cg->grads = cg_step_field(cg, STEP_GRADS);
  cg->inputs = cg_step_field(cg, STEP_INPUTS);
  cg->arena = cg_step_field(cg, STEP_ARENA);
  cg->batch = cg_step_field(cg, STEP_BATCH);
  cg->max_batch = cg_step_field(cg, STEP_MAX_BATCH);
}

/* float evaluate(step): the loss and the metrics */
static void emit_evaluate(Cg *cg, const Graph *g, const Plan *plan) {
  cg_begin_entry(cg, "nnc_evaluate", g, plan);
  bool *need = calloc(g->count, sizeof(bool));
  if (!need) nnc_unreachable("out of memory");
  mark(g, g->loss, need);
  for (int i = 0; i < g->nmetrics; i++) mark(g, g->metrics[i].node, need);
  emit_nodes(cg, need);
  store_metrics(cg, cg_step_field(cg, STEP_METRICS));
  LLVMBuildRet(cg->b, scalar_result(cg, g->loss));
  free(need);
  cg->evaluate = cg->fn;
}

/* float predict(step): the outputs */
static void emit_predict(Cg *cg, const Graph *g, const Plan *plan) {
  cg_begin_entry(cg, "nnc_predict", g, plan);
  LLVMValueRef outputs = cg_step_field(cg, STEP_OUTPUTS);
  bool *need = calloc(g->count, sizeof(bool));
  if (!need) nnc_unreachable("out of memory");
  for (int i = 0; i < g->noutputs; i++) mark(g, g->outputs[i].node, need);
  emit_nodes(cg, need);
  for (int i = 0; i < g->noutputs; i++) {
    LLVMValueRef slot = LLVMBuildInBoundsGEP2(cg->b, cg->ptr, outputs, (LLVMValueRef[]){i64c(cg, i)}, 1, "");
    LLVMValueRef dst = LLVMBuildLoad2(cg->b, cg->ptr, slot, g->outputs[i].name);
    Shape s = graph_node(g, g->outputs[i].node)->shape;
    s.batched = true; /* every output is per sample, even one that is constant over the batch */
    emit_copy(cg, dst, s, g->outputs[i].node);
  }
  LLVMBuildRet(cg->b, f32c(cg, 0));
  free(need);
  cg->predict = cg->fn;
}

/* ---- the module ----------------------------------------------------------------------- */

static bool init_target(Cg *cg) {
  LLVMInitializeNativeTarget();
  LLVMInitializeNativeAsmPrinter();
  char *triple = LLVMGetDefaultTargetTriple();
  char *err = NULL;
  LLVMTargetRef target;
  if (LLVMGetTargetFromTriple(triple, &target, &err)) {
    diag_error((SrcLoc){0}, "no LLVM target for %s: %s", triple, err);
    LLVMDisposeMessage(err);
    LLVMDisposeMessage(triple);
    return false;
  }
  char *cpu = cg->opts.target_cpu ? NULL : LLVMGetHostCPUName();
  char *features = cg->opts.target_cpu ? NULL : LLVMGetHostCPUFeatures();
  LLVMCodeGenOptLevel level = cg->opts.opt_level == 0   ? LLVMCodeGenLevelNone
                              : cg->opts.opt_level == 1 ? LLVMCodeGenLevelLess
                              : cg->opts.opt_level == 2 ? LLVMCodeGenLevelDefault
                                                        : LLVMCodeGenLevelAggressive;
  cg->tm = LLVMCreateTargetMachine(target, triple, cpu ? cpu : cg->opts.target_cpu,
                                   features ? features : "", level, LLVMRelocPIC,
                                   LLVMCodeModelDefault);
  LLVMSetTarget(cg->mod, triple);
  LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(cg->tm);
  char *dls = LLVMCopyStringRepOfTargetData(dl);
  LLVMSetDataLayout(cg->mod, dls);
  LLVMDisposeMessage(dls);
  LLVMDisposeTargetData(dl);
  LLVMDisposeMessage(triple);
  cg->gemm = cg_gemm_target(features);
  if (cpu) LLVMDisposeMessage(cpu);
  if (features) LLVMDisposeMessage(features);
  return true;
}

/* One mode of the model, planned alone. */
typedef struct Mode {
  Graph *g;
  Plan plan;
} Mode;

static void mode_new(Cg *cg, Mode *m, const Graph *g, unsigned roots) {
  m->g = pass_subset(g, roots);
  plan_build(m->g, &m->plan);
  if (m->plan.arena_fixed > cg->arena_fixed) cg->arena_fixed = m->plan.arena_fixed;
  if (m->plan.arena_per_sample > cg->arena_per_sample) cg->arena_per_sample = m->plan.arena_per_sample;
}

static void mode_free(Mode *m) {
  plan_free(&m->plan);
  graph_free(m->g);
}

/* A module named name for the model g and its target: in ctx, or (NULL) in a context of
 * its own. */
static Cg *cg_new(const Graph *g, const CgOptions *opts, const char *name, LLVMContextRef ctx) {
  Cg *cg = calloc(1, sizeof *cg);
  if (!cg) nnc_unreachable("out of memory");
  cg->full = g;
  for (int i = 0; i < g->nparams; i++)
    if (g->params[i].offset + shape_size(g->params[i].shape) > cg->full_param_floats)
      cg->full_param_floats = g->params[i].offset + shape_size(g->params[i].shape);
  cg->opts = *opts;
  cg->owns_ctx = !ctx;
  cg->ctx = ctx ? ctx : LLVMContextCreate();
  char full_name[256];
  snprintf(full_name, sizeof full_name, "%s%s", g->model_name, name);
  cg->mod = LLVMModuleCreateWithNameInContext(full_name, cg->ctx);
  LLVMSetSourceFileName(cg->mod, g->source_path, strlen(g->source_path));
  cg->b = LLVMCreateBuilderInContext(cg->ctx);
  cg->f32 = LLVMFloatTypeInContext(cg->ctx);
  cg->f64 = LLVMDoubleTypeInContext(cg->ctx);
  cg->i32 = LLVMInt32TypeInContext(cg->ctx);
  cg->i64 = LLVMInt64TypeInContext(cg->ctx);
  cg->ptr = LLVMPointerTypeInContext(cg->ctx, 0);
  if (!init_target(cg)) {
    cg_free(cg);
    return NULL;
  }
  LLVMTypeRef sgemm_args[14] = {cg->i32, cg->i32, cg->i32, cg->i32, cg->i32, cg->i32, cg->f32,
                                cg->ptr, cg->i32, cg->ptr, cg->i32, cg->f32, cg->ptr, cg->i32};
  cg->sgemm_ty = LLVMFunctionType(LLVMVoidTypeInContext(cg->ctx), sgemm_args, 14, false);
  cg->sgemm = LLVMAddFunction(cg->mod, "cblas_sgemm", cg->sgemm_ty);
  LLVMTypeRef sgemv_args[12] = {cg->i32, cg->i32, cg->i32, cg->i32, cg->f32, cg->ptr,
                                cg->i32, cg->ptr, cg->i32, cg->f32, cg->ptr, cg->i32};
  cg->sgemv_ty = LLVMFunctionType(LLVMVoidTypeInContext(cg->ctx), sgemv_args, 12, false);
  cg->sgemv = LLVMAddFunction(cg->mod, "cblas_sgemv", cg->sgemv_ty);
  return cg;
}

static void verify(Cg *cg) {
  char *msg = NULL;
  if (LLVMVerifyModule(cg->mod, LLVMReturnStatusAction, &msg)) {
    fprintf(stderr, "%s", msg);
    LLVMDisposeMessage(msg);
    nnc_unreachable("generated LLVM IR does not verify");
  }
  LLVMDisposeMessage(msg);
}

/* Entry point fn of the side module, declared in cg's, where the descriptor names it. */
static LLVMValueRef share_entry(Cg *cg, LLVMValueRef fn) {
  LLVMSetLinkage(fn, LLVMExternalLinkage);
  LLVMSetVisibility(fn, LLVMHiddenVisibility);
  size_t n;
  const char *name = LLVMGetValueName2(fn, &n);
  LLVMValueRef decl = LLVMAddFunction(cg->mod, name, LLVMFunctionType(cg->f32, &cg->ptr, 1, false));
  LLVMSetVisibility(decl, LLVMHiddenVisibility);
  return decl;
}

CgContext *cg_build(const Graph *g, const CgOptions *opts) {
  Cg *cg = cg_new(g, opts, "", NULL);
  if (!cg) return NULL;
  /* the second thread's modules share a context: it links the one into the other */
  cg->side = cg_new(g, opts, ".side", NULL);
  cg->rules = cg->side ? cg_new(g, opts, ".rules", cg->side->ctx) : NULL;
  if (!cg->rules) {
    cg_free(cg);
    return NULL;
  }
  /* each mode of the model is its own graph with its own plan: training (the loss, the
   * metrics, the gradients), evaluation (the loss, the metrics) and prediction */
  Mode train, eval, predict;
  mode_new(cg, &train, g, SUBSET_LOSS | SUBSET_METRICS | SUBSET_GRADS);
  mode_new(cg, &eval, g, SUBSET_LOSS | SUBSET_METRICS);
  mode_new(cg, &predict, g, SUBSET_OUTPUTS);
  cg_emit_rules(cg->rules, &train.plan);
  verify(cg->rules);
  cg_declare_rules(cg, cg->rules);
  /* the second thread's share: the rules, and the entry points that do not train (about
   * as much again as the rules for the flagship, which balances the two) */
  emit_evaluate(cg->side, eval.g, &eval.plan);
  emit_predict(cg->side, predict.g, &predict.plan);
  cg->side->g = NULL;
  verify(cg->side);
  cg->evaluate = share_entry(cg, cg->side->evaluate);
  cg->predict = share_entry(cg, cg->side->predict);
  cg_emit_training(cg, train.g, &train.plan);
  cg_emit_descriptor(cg);
  cg->g = NULL;
  mode_free(&train);
  mode_free(&eval);
  mode_free(&predict);
  verify(cg);
  return cg;
}

/* Waits for the second thread; false after reporting its error. */
static bool join_side(Cg *cg) {
  if (cg->started && !cg->joined) thrd_join(cg->thread, NULL);
  cg->joined = true;
  if (!cg->error) return true;
  diag_error((SrcLoc){0}, "%s", cg->error);
  free(cg->error);
  cg->error = NULL;
  return false;
}

void cg_free(CgContext *cg) {
  if (!cg) return;
  join_side(cg);
  cg_free(cg->rules); /* before the side module, whose context it shares */
  cg_free(cg->side);
  if (cg->object) LLVMDisposeMemoryBuffer(cg->object);
  if (cg->b) LLVMDisposeBuilder(cg->b);
  if (cg->mod) LLVMDisposeModule(cg->mod);
  if (cg->tm) LLVMDisposeTargetMachine(cg->tm);
  if (cg->ctx && cg->owns_ctx) LLVMContextDispose(cg->ctx);
  free(cg->base);
  free(cg->elementwise_fn);
  free(cg->rule_code);
  free(cg);
}

/* The rule helpers' pipeline at -O1 and up. They are written as vector loops already,
 * four vectors or one to an iteration and a scalar tail, so they need the clean-up
 * (SROA, CSE, InstCombine, SimplifyCFG), their splats and scalar loads hoisted (LICM)
 * and rotated loops that count down to their bound (IndVars); default<O2> took three
 * times as long on them and made the same vector loops. */
static const char rules_pipeline[] =
    "function(sroa,early-cse,instcombine,simplifycfg,loop-mssa(loop-rotate,licm),loop(indvars),instcombine,"
    "simplifycfg)";

/* "what: detail" (or what alone), malloc'd: an error of the second thread, reported after
 * the join. */
static char *message(const char *what, const char *detail) {
  char *m = malloc(strlen(what) + (detail ? strlen(detail) + 2 : 0) + 1);
  if (!m) nnc_unreachable("out of memory");
  sprintf(m, detail ? "%s: %s" : "%s", what, detail);
  return m;
}

/* Runs pipeline on cg's module; NULL, or the error message (malloc'd). */
static char *run_pipeline(Cg *cg, const char *pipeline) {
  LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
  bool vectorize = cg->opts.opt_level >= 2;
  LLVMPassBuilderOptionsSetLoopVectorization(opts, vectorize);
  LLVMPassBuilderOptionsSetSLPVectorization(opts, vectorize);
  /* No unroller: it doubled the flagship's compile time (0.51 -> 0.86 s) for no faster
   * step; the one loop that gains from it, the GEMM kernel's, is unrolled by hand. */
  LLVMPassBuilderOptionsSetLoopUnrolling(opts, false);
  LLVMErrorRef err = LLVMRunPasses(cg->mod, pipeline, cg->tm, opts);
  LLVMDisposePassBuilderOptions(opts);
  if (!err) return NULL;
  char *msg = LLVMGetErrorMessage(err);
  char *out = message("LLVM optimisation failed", msg);
  LLVMDisposeErrorMessage(msg);
  return out;
}

static const char *default_pipeline(const Cg *cg) {
  static const char *const levels[] = {"default<O0>", "default<O1>", "default<O2>", "default<O3>"};
  return levels[cg->opts.opt_level];
}

/* The second thread: the rules' pipeline and the side module's, the rules linked into the
 * side module, then (for a program) its object. It touches nothing but their context,
 * their modules and their target machines, and cg->object and cg->error. */
static int compile_side(void *arg) {
  Cg *cg = arg, *side = cg->side, *rules = cg->rules;
  if ((cg->error = run_pipeline(rules, rules->opts.opt_level ? rules_pipeline : "default<O0>"))) return 0;
  if ((cg->error = run_pipeline(side, default_pipeline(side)))) return 0;
  bool bad = LLVMLinkModules2(side->mod, rules->mod);
  rules->mod = NULL;
  if (bad) {
    cg->error = message("cannot link the update rules' module into the side module", NULL);
    return 0;
  }
  if (!cg->opts.two_objects) return 0;
  char *err = NULL;
  if (LLVMTargetMachineEmitToMemoryBuffer(side->tm, side->mod, LLVMObjectFile, &err, &cg->object)) {
    cg->error = message("cannot generate the side module's object", err);
    LLVMDisposeMessage(err);
  }
  return 0;
}

/* Moves the side module into cg's (through bitcode: they live in different contexts); its
 * hidden symbols, which the two shared, are internal again. */
static bool link_side(Cg *cg) {
  LLVMMemoryBufferRef bc = LLVMWriteBitcodeToMemoryBuffer(cg->side->mod);
  LLVMModuleRef m = NULL;
  bool bad = LLVMParseBitcodeInContext2(cg->ctx, bc, &m) != 0;
  LLVMDisposeMemoryBuffer(bc);
  if (bad || LLVMLinkModules2(cg->mod, m)) {
    diag_error((SrcLoc){0}, "cannot link the side module into the model's");
    return false;
  }
  for (LLVMValueRef fn = LLVMGetFirstFunction(cg->mod); fn; fn = LLVMGetNextFunction(fn))
    if (!LLVMIsDeclaration(fn) && LLVMGetVisibility(fn) == LLVMHiddenVisibility) {
      LLVMSetVisibility(fn, LLVMDefaultVisibility);
      LLVMSetLinkage(fn, LLVMInternalLinkage);
    }
  return true;
}

bool cg_optimize(CgContext *cg) {
  cg->started = thrd_create(&cg->thread, compile_side, cg) == thrd_success;
  if (!cg->started) compile_side(cg);
  char *err = run_pipeline(cg, default_pipeline(cg));
  if (err) {
    diag_error((SrcLoc){0}, "%s", err);
    free(err);
  }
  if (cg->opts.two_objects) return !err; /* cg_emit_objects joins the thread */
  bool ok = join_side(cg) && !err;
  return ok && link_side(cg);
}

bool cg_print_llvm(CgContext *cg, FILE *out) {
  char *s = LLVMPrintModuleToString(cg->mod);
  fputs(s, out);
  LLVMDisposeMessage(s);
  return true;
}

bool cg_emit_file(CgContext *cg, const char *path, bool assembly) {
  char *err = NULL;
  if (LLVMTargetMachineEmitToFile(cg->tm, cg->mod, (char *)path,
                                  assembly ? LLVMAssemblyFile : LLVMObjectFile, &err)) {
    diag_error((SrcLoc){0}, "cannot write '%s': %s", path, err);
    LLVMDisposeMessage(err);
    return false;
  }
  return true;
}

bool cg_emit_objects(CgContext *cg, const char *path, const char *side_path) {
  bool ok = cg_emit_file(cg, path, false);
  if (!join_side(cg) || !ok) return false;
  size_t n = LLVMGetBufferSize(cg->object);
  FILE *f = fopen(side_path, "wb");
  ok = f && fwrite(LLVMGetBufferStart(cg->object), 1, n, f) == n;
  if (f && fclose(f) != 0) ok = false;
  if (!ok) diag_error((SrcLoc){0}, "cannot write '%s': %s", side_path, strerror(errno));
  return ok;
}

bool cg_print_asm(CgContext *cg, FILE *out) {
  char *err = NULL;
  LLVMMemoryBufferRef buf;
  if (LLVMTargetMachineEmitToMemoryBuffer(cg->tm, cg->mod, LLVMAssemblyFile, &err, &buf)) {
    diag_error((SrcLoc){0}, "cannot generate assembly: %s", err);
    LLVMDisposeMessage(err);
    return false;
  }
  fwrite(LLVMGetBufferStart(buf), 1, LLVMGetBufferSize(buf), out);
  LLVMDisposeMemoryBuffer(buf);
  return true;
}
