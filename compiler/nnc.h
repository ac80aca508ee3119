/* nnc.h: the middle and back end of nnc: graph IR, sema, autodiff, passes, codegen, driver.
 *
 * The one idea: a model is a graph of tensor ops in an arena, referenced by integer ids,
 * where every node's inputs have smaller ids than the node. So id order is a topological
 * order, reverse-mode autodiff is one backward sweep over ids, and hash-consing node
 * construction (the same op on the same inputs yields the same id) gives CSE for free.
 *
 * Shapes are per sample: a node whose value depends on a model input carries the implicit
 * batch dimension in front (Shape.batched) and its dims are the per-sample ones. The
 * batch size is a run-time value; every other extent is static.
 *
 * Sections list each file's exports, in pipeline order.
 */
#ifndef NNC_COMPILER_H
#define NNC_COMPILER_H

#include "lang.h"

/* ---- ir.c: shapes, the op table, graphs and node construction ----------------------- */

typedef struct Shape {
  uint8_t rank;
  bool batched; /* a leading batch dimension precedes dim[0] */
  int32_t dim[NN_MAX_RANK];
} Shape;

typedef uint32_t NodeId; /* 0 = none */

/* The closed op set. Each op has one row in ir.c's table (name, arity) and one case in
 * each of: the constructor's shape rule (ir.c), the gradient rule (autodiff.c) and the
 * lowering (codegen.c). */
typedef enum {
  OP_NONE,
  /* leaves */
  OP_INPUT,   /* attr: input index */
  OP_PARAM,   /* attr: parameter index */
  OP_CONST,   /* value broadcast to the node's shape */
  OP_BATCH,   /* the run-time batch size, as a scalar */
  /* elementwise, numpy broadcasting over per-sample dims; the batch broadcasts too */
  OP_NEG, OP_EXP, OP_LOG, OP_TANH, OP_SIGMOID, OP_RELU, OP_ABS, OP_SQRT,
  OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_POW, OP_MAX, OP_MIN,
  /* comparisons: 1 or 0, no gradient */
  OP_GT, OP_GE, OP_EQ, OP_NE,
  /* structural */
  OP_SUMTO,     /* sum the input down to the node's (broadcast-compatible) shape */
  OP_MAXTO,     /* the same with max */
  OP_BROADCAST, /* repeat the input up to the node's shape */
  OP_RESHAPE,   /* same elements, new per-sample dims (batched-ness unchanged) */
  OP_TRANSPOSE, /* swap the two per-sample dims of a matrix */
  OP_MATMUL,    /* attr: MM_TA | MM_TB; see ir_matmul */
  /* along the last per-sample axis */
  OP_LOGSUMEXP, /* log(sum(exp(z))), computed with the max subtracted */
  OP_ARGMAX,    /* index of the first maximum, as a float (no gradient) */
  OP_ONEHOT,    /* attr: k; y -> [.., k] with 1 at y (no gradient) */
  OP_GATHER,    /* z[.., y]: z's last axis indexed by the label y */
  OP_WHERE,     /* where(c, a, b): a where c != 0 (or NaN), else b; broadcasting all three */
  /* the leaves of an update rule's graph (Rule), never of a model's: */
  OP_SLOT,      /* attr SLOT_W, SLOT_G or SLOT_STATE + k: the parameter, its gradient, state
                   k, before the update; a value per element (shape: a batched scalar) */
  OP_HYPER,     /* attr: hyperparameter k of the rule, HYPER_STEP or HYPER_EPOCH (a scalar) */
  OP_COUNT_
} OpKind;

enum { MM_TA = 1, MM_TB = 2 };
enum { SLOT_W = 0, SLOT_G = 1, SLOT_STATE = 2 };
enum { HYPER_STEP = 1u << 16, HYPER_EPOCH };

typedef struct OpInfo {
  const char *name;
  int arity;
  bool elementwise;
} OpInfo;
extern const OpInfo op_info[OP_COUNT_];

enum { NODE_MAX_IN = 3 };
typedef struct Node {
  uint8_t op;
  Shape shape;
  NodeId in[NODE_MAX_IN];
  uint32_t attr;
  float value;      /* OP_CONST */
  const char *name; /* the binding that named it, for dumps; may be NULL */
  SrcLoc loc;
} Node;

typedef enum {
  INIT_ZEROS, INIT_ONES, INIT_CONSTANT, INIT_UNIFORM, INIT_NORMAL, INIT_GLOROT_UNIFORM,
  INIT_GLOROT_NORMAL, INIT_HE_UNIFORM, INIT_HE_NORMAL,
} InitKind; /* the same numbering as the runtime's nnrt_init_kind */

typedef enum { DT_F32 = 1, DT_U8 = 2, DT_CLASS = 3 } DType; /* = the runtime's nnrt_dtype */

typedef struct GraphInput {
  const char *name;
  Shape shape; /* per sample; the node is batched */
  DType dtype;  /* how the data stores it; the graph computes in f32 */
  int64_t classes; /* DT_CLASS: k */
  NodeId node;
  SrcLoc loc;
} GraphInput;

typedef struct GraphParam {
  const char *name;
  Shape shape;
  InitKind init;
  float init_a, init_b;
  NodeId node;
  NodeId grad; /* d(loss)/d(param), same shape; set by autodiff */
  int64_t offset; /* in the flat parameter buffer */
  SrcLoc loc;
} GraphParam;

typedef struct GraphOutput {
  const char *name;
  NodeId node;
  SrcLoc loc;
} GraphOutput;

/* ---- update rules (sema_rule.c builds them, rule.c derives their variants) -----------
 * An optimizer of the language, compiled to IR: graphs whose leaves are OP_SLOT (w, g and
 * the states: a value per element of the parameter, shaped as batched scalars) and
 * OP_HYPER (the hyperparameters, step and epoch: scalars), and whose results are the new
 * w and the new states. A rule is generic in its parameter: one graph updates every
 * parameter, element by element; OP_BATCH stands for the parameter's element count, and
 * a whole-tensor reduction (sum(w * w)) is a sumto to an unbatched scalar. */

enum { RULE_MAX_HYPERS = 64, RULE_MAX_STATES = 16 };

typedef struct RuleHyper {
  const char *name;
  bool is_bool;
  double lo, hi; /* the values it may take, each end open or closed (bool: 0 and 1) */
  bool lo_open, hi_open;
  double value; /* the default */
  SrcLoc loc;
} RuleHyper;

typedef struct RuleState {
  const char *name;
  InitKind init; /* shaped like the parameter */
  float init_a, init_b;
  SrcLoc loc;
} RuleState;

typedef struct RuleVariant {
  struct Graph *g;
  NodeId w;        /* the new w */
  NodeId *state;   /* [nstates] the new value of each state; 0: not kept in this variant */
  uint64_t zeros;  /* the hyperparameters it assumes 0 (bit k: hyperparameter k) */
  bool elementwise; /* no whole-tensor reduction: it can update a parameter row by row */
} RuleVariant;

typedef struct Rule {
  const char *name;
  SrcLoc loc;
  RuleHyper *hypers;
  int nhypers;
  RuleState *states;
  int nstates;
  /* [0] the rule as written; [1] (when it has hyperparameters whose default is 0 or
   * false) the same with those 0, and the states they switch off not kept */
  RuleVariant variant[2];
  int nvariants;
} Rule;

/* One setting of the train block, spelled as the train program's flag takes it. */
typedef struct TrainOption {
  const char *key, *value;
  SrcLoc loc;
} TrainOption;

typedef struct Graph {
  Node *nodes; /* nodes[0] is unused: id 0 means none */
  uint32_t count, cap;
  uint32_t *table; /* hash-consing: open addressing, 0 = empty */
  uint32_t table_cap;
  uint32_t nfwd; /* ids below nfwd were built by sema (the forward graph) */
  /* The constructors keep x + 0 and 0 - x, which differ from x and -x in the sign of a
   * zero: an update rule's variants, folded with g = 0, must store the bits the rule as
   * written stores (codegen_update.c's zero rows). */
  bool signed_zeros;

  const char *model_name;
  const char *source_path; /* absolute */
  GraphInput *inputs;
  int ninputs, inputs_cap;
  GraphParam *params;
  int nparams, params_cap;
  GraphOutput *outputs;
  int noutputs, outputs_cap;
  GraphOutput *metrics; /* node: the batch mean, an unbatched scalar */
  int nmetrics, metrics_cap;
  NodeId loss; /* batch-mean loss: an unbatched scalar */
  TrainOption *options;
  int noptions, options_cap;
  Rule *rules; /* the update rules compiled in; the default (the train block's) first */
  int nrules, rules_cap;
  Arena *arena; /* names and strings */
} Graph;

Graph *graph_new(Arena *arena);
void graph_free(Graph *g);
static inline const Node *graph_node(const Graph *g, NodeId id) { return &g->nodes[id]; }

int64_t shape_size(Shape s); /* per-sample elements */
bool shape_eq(Shape a, Shape b);
Shape shape_scalar(bool batched);
Shape shape_make(bool batched, int rank, const int32_t *dims);
/* "f32[B, 2, 8]" (B for the batch dimension), "f32" for a scalar; in a static buffer */
const char *shape_str(Shape s);
/* Broadcast two per-sample shapes; false when incompatible. */
bool shape_broadcast(Shape a, Shape b, Shape *out);
/* The strides (in elements) with which a tensor of shape `small` is read while walking
 * the full index space of `big` (batch first): 0 along every broadcast axis, including
 * the batch axis of an unbatched value. Codegen and the interpreter both index this way. */
void shape_strides(Shape small, Shape big, int64_t *st);
/* Whether `small` can be broadcast up to (and summed down from) `big`. */
bool shape_broadcastable_to(Shape small, Shape big);

/* Node construction. Every constructor folds constants and applies the algebraic
 * identities that keep gradients small (x*1, x+0, --x, ...), then hash-conses. Shape
 * errors are internal here: sema checks user shapes before it builds. */
NodeId ir_input(Graph *g, int index, Shape s);
NodeId ir_param(Graph *g, int index, Shape s);
NodeId ir_const(Graph *g, float value, Shape s);
NodeId ir_batch(Graph *g);
NodeId ir_unary(Graph *g, OpKind op, NodeId a);
NodeId ir_binary(Graph *g, OpKind op, NodeId a, NodeId b);
NodeId ir_sumto(Graph *g, NodeId a, Shape s);
NodeId ir_broadcast(Graph *g, NodeId a, Shape s);
NodeId ir_reshape(Graph *g, NodeId a, Shape s);
NodeId ir_maxto(Graph *g, NodeId a, Shape s);
NodeId ir_transpose(Graph *g, NodeId a);
/* The last-axis ops: z has rank >= 1; the result drops z's last dim (onehot adds one). */
NodeId ir_logsumexp(Graph *g, NodeId z);
NodeId ir_argmax(Graph *g, NodeId z);
NodeId ir_onehot(Graph *g, NodeId y, int32_t k);
NodeId ir_gather(Graph *g, NodeId z, NodeId y);
NodeId ir_where(Graph *g, NodeId c, NodeId a, NodeId b);
NodeId ir_slot(Graph *g, uint32_t which);  /* a batched scalar */
NodeId ir_hyper(Graph *g, uint32_t which); /* an unbatched scalar */
/* The node n of another graph rebuilt in g on inputs in[] (ids of g) through the
 * simplifying constructors: copying a graph with some leaves replaced (a hyperparameter
 * by 0, say) folds everything they decided. The replacements must keep the shapes. */
NodeId ir_rebuild(Graph *g, const Node *n, const NodeId *in);
/* Records where a node came from, if it has no place yet (for later diagnostics). */
void ir_set_loc(Graph *g, NodeId id, SrcLoc loc);
/* op(A) @ op(B) where each operand is viewed as a matrix [rows, cols] with cols = its last
 * dim and rows = the product of all its other dims, batch included; op transposes when
 * MM_TA / MM_TB is set. Without MM_TA the result keeps A's leading dims (and batch) and
 * gets N as last dim; with MM_TA it is an unbatched [M, N] matrix (the batch contracts). */
NodeId ir_matmul(Graph *g, NodeId a, NodeId b, uint32_t flags);
/* Whether ir_matmul accepts these operands; fills the result shape. */
bool ir_matmul_shape(Shape a, Shape b, uint32_t flags, Shape *out);
void ir_set_name(Graph *g, NodeId id, const char *name, SrcLoc loc);
/* Appends n as it is, or returns the id of an equal node: no simplification. For passes
 * that copy already-simplified nodes. */
NodeId ir_intern(Graph *g, Node n);
bool ir_is_const(const Graph *g, NodeId id, float value);

/* ---- sema.c: names, shapes and dtypes; AST -> forward graph ------------------------- */

/* Checks the program and the modules it imports (found on include_dirs) and builds its
 * forward graph (inputs, params, outputs, metrics, the batch-mean loss) and train
 * options. Reports every error it can through diag and returns NULL if there was any.
 * With rules_only (--emit=rules) a file without a model is a library of optimizers: the
 * graph is empty but for its rules. */
Graph *sema_build(Arena *arena, const AstProgram *prog, const char *const *include_dirs, int ninclude,
                  bool rules_only);

/* ---- rule.c: update rules' variants and dumps ------------------------------------------ */

/* Whether a rule's graph has no whole-tensor reduction (it can then run row by row). */
bool rule_elementwise(const Graph *g);
/* Rebuilds variant[0] with only the nodes its results need, densely numbered. */
void rule_compact(Rule *r);
/* Fills r->variant[1] from variant[0] when r has hyperparameters whose default is 0. */
void rule_derive(Rule *r);
/* The variant v with g = 0: the update of a row whose gradient is known to be zero. */
RuleVariant rule_zero_gradient(const Rule *r, const RuleVariant *v);
/* Whether v leaves w and every state as they were (SGD's by a zero gradient). */
bool rule_unchanged(const Rule *r, const RuleVariant *v);
/* --emit=rules: every rule, its hyperparameters, states and the graphs of its variants. */
void rule_print(const Rule *r, FILE *out);

/* ---- autodiff.c: reverse-mode differentiation as a graph transform ------------------ */

/* Appends the backward graph: sets params[i].grad to the node computing d(loss)/d(param).
 * Broadcasts of a parameter over the batch become sums of its gradient. */
void ad_build(Graph *g);

/* ---- pass_dce.c: dead-code elimination and compaction -------------------------------
 * Rebuilds the graph keeping only nodes reachable from the roots (loss, outputs,
 * gradients, inputs, params), renumbered densely in the same order; the rebuild
 * re-hash-conses, so it also merges duplicates that an earlier rewrite exposed (CSE). */
void pass_dce(Graph *g);
/* One mode of the model: a new graph of the nodes that the chosen roots need, in the same
 * order, with the tables of inputs and parameters (gradients only with SUBSET_GRADS) and
 * of the outputs and metrics chosen. Planned and compiled on its own, each mode pays only
 * for what it computes. (Rules and train options stay with the whole model.) */
enum { SUBSET_LOSS = 1, SUBSET_METRICS = 2, SUBSET_OUTPUTS = 4, SUBSET_GRADS = 8 };
Graph *pass_subset(const Graph *g, unsigned roots);

/* ---- ir_print.c: --emit=graph|grad|dot ---------------------------------------------- */

struct Plan;
/* plan (or NULL): marks each node computed inside another's loop "[fused into %N]" */
void ir_print(const Graph *g, bool with_grad, const struct Plan *plan, FILE *out);
void ir_print_dot(const Graph *g, FILE *out);

/* ---- interp.c: the reference interpreter (--interpret, --check-grad) ------------------
 * Evaluates nodes in double precision, one plain kernel per op with codegen.c's exact
 * semantics, as the oracle that gradients and compiled code are checked against. A value
 * is a dense row-major buffer of rows * shape_size(shape) doubles, rows = batch for a
 * batched node and 1 otherwise. */

/* Evaluates `roots` and every node they read. params is the flat parameter buffer
 * (GraphParam.offset), inputs[i] holds batch * shape_size(inputs[i].shape) values. Returns
 * one buffer per node id, NULL for the nodes not evaluated; free it with interp_free. */
double **interp_eval(const Graph *g, const double *params, const double *const *inputs, int64_t batch,
                     const NodeId *roots, int nroots);
void interp_free(const Graph *g, double **values);
/* Evaluates an update rule's graph (a RuleVariant's) on a parameter of n elements:
 * slots[SLOT_W], slots[SLOT_G] and slots[SLOT_STATE + k] hold n values each, hyper the
 * rule's hyperparameters. Returns one buffer per node as interp_eval does. */
double **interp_rule(const Graph *g, const double *const *slots, const double *hyper, double step, double epoch,
                     int64_t n, const NodeId *roots, int nroots);

/* ---- reference.c: the reference harness (nnc --interpret, --check-grad) ------------- */

typedef struct RefOptions {
  int64_t batch;
  uint64_t seed;
  double tolerance;     /* --check-grad */
  int64_t max_elements; /* --check-grad: elements checked per parameter, 0 = all */
  int random_params;    /* 0: initialisers; 1: uniform random */
  const char *reference; /* --interpret --write-reference FILE, or NULL */
} RefOptions;
int ref_interpret(const RefOptions *o, const Graph *g);
int ref_check_grad(const RefOptions *o, const Graph *g);

/* ---- plan.c: the memory plan ---------------------------------------------------------
 * Where each node's value lives when the step runs. Constants and the batch size are
 * immediates; inputs and params are the caller's buffers; reshapes alias their input;
 * single-use elementwise nodes are fused into their consumer's loop; everything else
 * gets a slot in the arena, reused by liveness, at offset fixed + per_sample * max_batch. */

typedef enum {
  LOC_NONE, LOC_IMM, LOC_INPUT, LOC_PARAM, LOC_ARENA, LOC_ALIAS, LOC_GRAD, LOC_FUSED
} LocKind;

typedef struct BufLoc {
  LocKind kind;
  int64_t fixed, per_sample; /* LOC_ARENA: offset in floats = fixed + per_sample*max_batch */
  int64_t offset;            /* LOC_ARENA: the slot in its pool (fixed or per sample) */
  int index;                 /* LOC_INPUT, LOC_PARAM, LOC_GRAD: which */
  NodeId alias;              /* LOC_ALIAS: the node whose buffer this one shares;
                                LOC_FUSED: the consumer that computes it */
} BufLoc;

typedef struct Plan {
  BufLoc *loc; /* per node id */
  int64_t arena_fixed, arena_per_sample;
  int64_t param_floats;
  int reused; /* slots that served more than one node */
  /* Training graphs: the order the parameters' updates run in, and per parameter the
   * outer product x^T dy that its update consumes at the end (row by row at small
   * batches), or 0. Each update runs after every read of the parameter it overwrites: a
   * deferred product reads its operands when its update runs, so one that reads another
   * parameter's buffer is put before that parameter's update, and one that cannot be (it
   * reads its own parameter, or the orders conflict) is not deferred. */
  int *order;
  NodeId *deferred;
} Plan;

void plan_build(const Graph *g, Plan *plan);
void plan_free(Plan *plan);
void plan_print(const Graph *g, const Plan *plan, FILE *out); /* --emit=plan */


/* ---- codegen.c, codegen_desc.c: LLVM IR through the C API ---------------------------- */

typedef struct CgOptions {
  int opt_level;          /* 0..3 */
  const char *target_cpu; /* NULL: the host's */
  bool two_objects;       /* the program links two objects (cg_emit_objects) */
} CgOptions;

typedef struct CgContext CgContext;

/* Builds and verifies the module (the entry points and the nnrt_model descriptor);
 * returns NULL after reporting an internal error. */
CgContext *cg_build(const Graph *g, const CgOptions *opts);
void cg_free(CgContext *cg);
/* Runs the new pass manager at the chosen level for the target. The update rules' helpers,
 * evaluate and predict are modules of their own, optimised (and with two_objects,
 * compiled) on a second thread meanwhile; without two_objects they are then linked into
 * the one module that the functions below print or compile. */
bool cg_optimize(CgContext *cg);
bool cg_print_llvm(CgContext *cg, FILE *out);
bool cg_emit_file(CgContext *cg, const char *path, bool assembly);
/* With two_objects: the training entry points' object at path, and the second thread's at
 * side_path. */
bool cg_emit_objects(CgContext *cg, const char *path, const char *side_path);
bool cg_print_asm(CgContext *cg, FILE *out);

#endif
