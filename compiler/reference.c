/* reference.c: the reference harness: --interpret, --check-grad and --write-reference.
 *
 * The interpreter (interp.c) is the oracle: this file runs it on parameters and inputs
 * drawn from a seed, prints what it computes (--interpret), compares every symbolic
 * gradient with finite differences of the interpreted loss (--check-grad), and writes what
 * compiled code must reproduce (--write-reference, for tests/tools/difftest): the step's
 * loss, metrics, outputs and gradients, and for every update rule two updates from given
 * floats, at its defaults and with the hyperparameters that default to 0 set otherwise.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnc.h"

/* ---- --interpret and --check-grad: the reference interpreter ---------------------------
 * Parameters and inputs come from one seeded generator, so a seed fixes every number the
 * run prints. Every drawn value is rounded to float first: the interpreter then sees
 * exactly the values that --write-reference hands to compiled code. */

typedef struct Rng { uint64_t s; } Rng;

static uint64_t rng_next(Rng *r) { /* splitmix64 */
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static double rng_uniform(Rng *r, double a, double b) { /* [a, b) */
  return a + (b - a) * (double)(rng_next(r) >> 11) * 0x1p-53;
}

static double rng_normal(Rng *r) { /* Box-Muller; 1 - u keeps log away from 0 */
  double u = 1.0 - rng_uniform(r, 0, 1), v = rng_uniform(r, 0, 1);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* A parameter's values: its initialiser, with the runtime's fans (fan_in = dims[0],
 * fan_out = dims[rank-1]), or uniform in +-1/sqrt(fan_in), which keeps activations near 1
 * and leaves no gradient trivially zero. */
static double init_value(const GraphParam *p, double fan_in, double fan_out, Rng *r) {
  double a = p->init_a, b = p->init_b;
  switch (p->init) {
  case INIT_ZEROS: return 0;
  case INIT_ONES: return 1;
  case INIT_CONSTANT: return a;
  case INIT_UNIFORM: return rng_uniform(r, a, b);
  case INIT_NORMAL: return a + b * rng_normal(r);
  case INIT_GLOROT_UNIFORM: return sqrt(6 / (fan_in + fan_out)) * rng_uniform(r, -1, 1);
  case INIT_GLOROT_NORMAL: return sqrt(2 / (fan_in + fan_out)) * rng_normal(r);
  case INIT_HE_UNIFORM: return sqrt(6 / fan_in) * rng_uniform(r, -1, 1);
  case INIT_HE_NORMAL: return sqrt(2 / fan_in) * rng_normal(r);
  }
  return 0;
}

static void draw_param(const GraphParam *p, bool random, Rng *r, double *x) {
  double fan_in = p->shape.rank ? p->shape.dim[0] : 1, fan_out = p->shape.rank ? p->shape.dim[p->shape.rank - 1] : 1;
  for (int64_t i = 0; i < shape_size(p->shape); i++)
    x[i] = (float)(random ? rng_uniform(r, -1, 1) / sqrt(fan_in) : init_value(p, fan_in, fan_out, r));
}

/* The flat parameter buffer and one buffer per input, drawn from the seed. Inputs are
 * uniform in [0.05, 0.95], so logs and divisions of them stay defined; class labels are
 * uniform over their classes. */
typedef struct RefData {
  int64_t batch, param_floats;
  double *params;
  double **inputs;
} RefData;

static int64_t param_floats(const Graph *g) {
  int64_t n = 0;
  for (int i = 0; i < g->nparams; i++) {
    int64_t end = g->params[i].offset + shape_size(g->params[i].shape);
    if (end > n) n = end;
  }
  return n;
}

static void ref_data_draw(const Graph *g, const RefOptions *o, RefData *d) {
  Rng r = {o->seed * 0x2545f4914f6cdd1dull + 1};
  d->batch = o->batch;
  d->param_floats = param_floats(g);
  d->params = calloc((size_t)d->param_floats + 1, sizeof(double));
  d->inputs = calloc((size_t)g->ninputs + 1, sizeof(double *));
  for (int i = 0; i < g->nparams; i++) draw_param(&g->params[i], o->random_params, &r, d->params + g->params[i].offset);
  for (int i = 0; i < g->ninputs; i++) {
    const GraphInput *in = &g->inputs[i];
    int64_t n = d->batch * shape_size(in->shape);
    d->inputs[i] = calloc((size_t)n + 1, sizeof(double));
    for (int64_t j = 0; j < n; j++)
      d->inputs[i][j] = in->dtype == DT_CLASS ? (double)(int64_t)rng_uniform(&r, 0, (double)in->classes)
                                              : (float)rng_uniform(&r, 0.05, 0.95);
  }
}

static void ref_data_free(const Graph *g, RefData *d) {
  for (int i = 0; i < g->ninputs; i++) free(d->inputs[i]);
  free(d->inputs);
  free(d->params);
}

static double **ref_eval(const Graph *g, const RefData *d, const NodeId *roots, int nroots) {
  return interp_eval(g, d->params, (const double *const *)d->inputs, d->batch, roots, nroots);
}

/* Every root of the training step: loss, metrics, outputs, gradients. */
static int step_roots(const Graph *g, NodeId *roots) {
  int n = 0;
  roots[n++] = g->loss;
  for (int i = 0; i < g->nmetrics; i++) roots[n++] = g->metrics[i].node;
  for (int i = 0; i < g->noutputs; i++) roots[n++] = g->outputs[i].node;
  for (int i = 0; i < g->nparams; i++) roots[n++] = g->params[i].grad;
  return n;
}

/* Element j of sample b of a node's value, broadcasting an unbatched one over the batch. */
static double sample_value(const Graph *g, double **v, NodeId id, int64_t b, int64_t j) {
  const Node *n = graph_node(g, id);
  return v[id][(n->shape.batched ? b * shape_size(n->shape) : 0) + j];
}

static bool write_all(FILE *f, const void *p, size_t size, size_t n) { return fwrite(p, size, n, f) == n; }

/* ---- update rules ---------------------------------------------------------------------- */

/* A value that hyperparameter h may take and that is not 0: 0.01 where the domain has it,
 * true for a bool, else the middle of the domain. */
static double nonzero_value(const RuleHyper *h) {
  if (h->is_bool) return 1;
  double v = 0.01;
  if ((h->lo_open ? v > h->lo : v >= h->lo) && (h->hi_open ? v < h->hi : v <= h->hi)) return v;
  if (isfinite(h->lo) && isfinite(h->hi)) return (h->lo + h->hi) / 2;
  return isfinite(h->lo) ? h->lo + 1 : h->hi - 1;
}

/* The settings a rule is checked at: its defaults, and (when it has hyperparameters that
 * default to 0, which the compiled code folds away) those set to values that are not. */
static int rule_settings(const Rule *r, float set[2][RULE_MAX_HYPERS]) {
  int n = 1;
  for (int k = 0; k < r->nhypers; k++) set[0][k] = set[1][k] = (float)r->hypers[k].value;
  for (int k = 0; k < r->nhypers; k++)
    if (r->hypers[k].value == 0) set[1][k] = (float)nonzero_value(&r->hypers[k]), n = 2;
  return n;
}

/* One update of every parameter of g by rule r, in double, from floats w (param_floats),
 * state (nstates arrays of param_floats) and grad, with the variant the compiled code picks;
 * a state the variant does not keep keeps its value. */
static void rule_update(const Graph *g, const Rule *r, const float *hyper, double step, const float *w,
                        const float *state, const float *grad, double *w_out, double *s_out) {
  int64_t pf = param_floats(g);
  int vi = 0;
  if (r->nvariants == 2) {
    vi = 1;
    for (int k = 0; k < r->nhypers; k++)
      if ((r->variant[1].zeros >> k & 1) && hyper[k] != 0) vi = 0;
  }
  const RuleVariant *v = &r->variant[vi];
  double h[RULE_MAX_HYPERS + 1];
  for (int k = 0; k < r->nhypers; k++) h[k] = hyper[k];
  for (int64_t k = 0; k < (int64_t)r->nstates * pf; k++) s_out[k] = state[k];
  for (int i = 0; i < g->nparams; i++) {
    const GraphParam *p = &g->params[i];
    int64_t n = shape_size(p->shape);
    double *slot[2 + RULE_MAX_STATES];
    for (int k = 0; k < 2 + r->nstates; k++) {
      slot[k] = calloc((size_t)n + 1, sizeof(double));
      const float *src = k == SLOT_W ? w : k == SLOT_G ? grad : state + (int64_t)(k - SLOT_STATE) * pf;
      for (int64_t e = 0; e < n; e++) slot[k][e] = src[p->offset + e];
    }
    NodeId roots[1 + RULE_MAX_STATES];
    int nroots = 0;
    roots[nroots++] = v->w;
    for (int k = 0; k < r->nstates; k++)
      if (v->state[k]) roots[nroots++] = v->state[k];
    double **val = interp_rule(v->g, (const double *const *)slot, h, step, 1, n, roots, nroots);
    for (int j = 0, k = -1; j < nroots; j++) {
      while (j > 0 && !v->state[++k]) {}
      double *dst = j == 0 ? w_out + p->offset : s_out + (int64_t)k * pf + p->offset;
      bool per = graph_node(v->g, roots[j])->shape.batched;
      for (int64_t e = 0; e < n; e++) dst[e] = val[roots[j]][per ? e : 0];
    }
    interp_free(v->g, val);
    for (int k = 0; k < 2 + r->nstates; k++) free(slot[k]);
  }
}

/* The interpreter's gradient at params (floats), rounded to floats. */
static void gradient_at(const Graph *g, const RefData *d, const double *params, float *out) {
  RefData at = *d;
  at.params = (double *)params;
  NodeId *roots = calloc((size_t)g->nparams + 1, sizeof(NodeId));
  for (int i = 0; i < g->nparams; i++) roots[i] = g->params[i].grad;
  double **v = ref_eval(g, &at, roots, g->nparams);
  for (int i = 0; i < g->nparams; i++)
    for (int64_t e = 0; e < shape_size(g->params[i].shape); e++) out[g->params[i].offset + e] = (float)v[g->params[i].grad][e];
  interp_free(g, v);
  free(roots);
}

/* Models up to this many parameter floats get the rules' references (the files grow by
 * about 60 floats per parameter float and rule). */
enum { RULE_REF_MAX_FLOATS = 1 << 17 };

/* Per rule, per setting: the hyperparameters, the states' initial values, and two updates
 * from given floats (the interpreter's gradients, rounded), the second from the first's
 * results rounded to floats and the gradient there: their results in double. */
static bool write_rules(FILE *f, const Graph *g, const RefData *d, double **v) {
  int64_t pf = d->param_floats;
  bool ok = true;
  int64_t nrules = pf <= RULE_REF_MAX_FLOATS ? g->nrules : 0;
  ok &= write_all(f, &nrules, sizeof nrules, 1);
  float *w0 = calloc((size_t)pf + 1, sizeof(float)), *g1 = calloc((size_t)pf + 1, sizeof(float));
  float *g2 = calloc((size_t)pf + 1, sizeof(float)), *w1f = calloc((size_t)pf + 1, sizeof(float));
  double *w1 = calloc((size_t)pf + 1, sizeof(double)), *w2 = calloc((size_t)pf + 1, sizeof(double));
  double *w1d = calloc((size_t)pf + 1, sizeof(double));
  for (int64_t k = 0; k < pf; k++) w0[k] = (float)d->params[k];
  for (int i = 0; i < g->nparams; i++)
    for (int64_t e = 0; e < shape_size(g->params[i].shape); e++)
      g1[g->params[i].offset + e] = (float)v[g->params[i].grad][e];
  for (int64_t ri = 0; ri < nrules; ri++) {
    const Rule *r = &g->rules[ri];
    int64_t ns = r->nstates, sn = ns * pf;
    float set[2][RULE_MAX_HYPERS];
    int64_t nset = rule_settings(r, set);
    int64_t head[4] = {(int64_t)strlen(r->name), ns, r->nhypers, nset};
    ok &= write_all(f, head, sizeof(int64_t), 1) && write_all(f, r->name, 1, (size_t)head[0]);
    ok &= write_all(f, head + 1, sizeof(int64_t), 3);
    float *s0 = calloc((size_t)sn + 1, sizeof(float)), *s1f = calloc((size_t)sn + 1, sizeof(float));
    double *s1 = calloc((size_t)sn + 1, sizeof(double)), *s2 = calloc((size_t)sn + 1, sizeof(double));
    Rng rng = {0x9e3779b97f4a7c15ull ^ (uint64_t)ri};
    for (int k = 0; k < ns; k++)
      for (int i = 0; i < g->nparams; i++) {
        GraphParam as_state = g->params[i];
        as_state.init = r->states[k].init, as_state.init_a = r->states[k].init_a, as_state.init_b = r->states[k].init_b;
        double *x = calloc((size_t)shape_size(as_state.shape) + 1, sizeof(double));
        draw_param(&as_state, false, &rng, x);
        for (int64_t e = 0; e < shape_size(as_state.shape); e++) s0[(int64_t)k * pf + as_state.offset + e] = (float)x[e];
        free(x);
      }
    for (int si = 0; si < nset; si++) {
      rule_update(g, r, set[si], 1, w0, s0, g1, w1, s1);
      for (int64_t k = 0; k < pf; k++) w1f[k] = (float)w1[k], w1d[k] = w1f[k];
      for (int64_t k = 0; k < sn; k++) s1f[k] = (float)s1[k];
      gradient_at(g, d, w1d, g2);
      rule_update(g, r, set[si], 2, w1f, s1f, g2, w2, s2);
      ok &= write_all(f, set[si], sizeof(float), (size_t)r->nhypers) && write_all(f, s0, sizeof(float), (size_t)sn);
      ok &= write_all(f, g1, sizeof(float), (size_t)pf) && write_all(f, w1, sizeof(double), (size_t)pf);
      ok &= write_all(f, s1, sizeof(double), (size_t)sn) && write_all(f, g2, sizeof(float), (size_t)pf);
      ok &= write_all(f, w2, sizeof(double), (size_t)pf) && write_all(f, s2, sizeof(double), (size_t)sn);
    }
    free(s0), free(s1f), free(s1), free(s2);
  }
  free(w0), free(g1), free(g2), free(w1f), free(w1), free(w2), free(w1d);
  return ok;
}

/* The reference file that tests/tools/difftest.c reads (host byte order; both run on one
 * machine): "NNCREF2\n"; int64 batch, param_floats, n_inputs, n_outputs, n_metrics;
 * int64 per-sample size of each input, of each output; float params; float inputs (each
 * batch * size); then the interpreter's results in double: loss, metrics, outputs (each
 * batch * size, unbatched ones repeated per sample), gradients (param_floats); then the
 * update rules (write_rules): int64 n_rules; per rule int64 name length, the name,
 * int64 n_states, n_hypers, n_settings; per setting float hyper[n_hypers], float
 * s0[n_states * param_floats], float g1[param_floats], double w1[param_floats], double
 * s1[...], float g2[param_floats], double w2[param_floats], double s2[...]. */
static int write_reference(const Graph *g, const RefData *d, double **v, const char *path) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    fprintf(stderr, "nnc: error: cannot write '%s': %s\n", path, strerror(errno));
    return 1;
  }
  bool ok = write_all(f, "NNCREF2\n", 1, 8);
  int64_t head[5] = {d->batch, d->param_floats, g->ninputs, g->noutputs, g->nmetrics};
  ok &= write_all(f, head, sizeof(int64_t), 5);
  for (int i = 0; i < g->ninputs; i++) ok &= write_all(f, &(int64_t){shape_size(g->inputs[i].shape)}, sizeof(int64_t), 1);
  for (int i = 0; i < g->noutputs; i++)
    ok &= write_all(f, &(int64_t){shape_size(graph_node(g, g->outputs[i].node)->shape)}, sizeof(int64_t), 1);
  for (int64_t k = 0; k < d->param_floats; k++) ok &= write_all(f, &(float){(float)d->params[k]}, sizeof(float), 1);
  for (int i = 0; i < g->ninputs; i++)
    for (int64_t k = 0; k < d->batch * shape_size(g->inputs[i].shape); k++)
      ok &= write_all(f, &(float){(float)d->inputs[i][k]}, sizeof(float), 1);
  ok &= write_all(f, v[g->loss], sizeof(double), 1);
  for (int i = 0; i < g->nmetrics; i++) ok &= write_all(f, v[g->metrics[i].node], sizeof(double), 1);
  for (int i = 0; i < g->noutputs; i++) {
    NodeId id = g->outputs[i].node;
    for (int64_t b = 0; b < d->batch; b++)
      for (int64_t j = 0; j < shape_size(graph_node(g, id)->shape); j++)
        ok &= write_all(f, &(double){sample_value(g, v, id, b, j)}, sizeof(double), 1);
  }
  double *grads = calloc((size_t)d->param_floats + 1, sizeof(double));
  for (int i = 0; i < g->nparams; i++)
    memcpy(grads + g->params[i].offset, v[g->params[i].grad], (size_t)shape_size(g->params[i].shape) * sizeof(double));
  ok &= write_all(f, grads, sizeof(double), (size_t)d->param_floats);
  free(grads);
  ok &= write_rules(f, g, d, v);
  if (fclose(f) != 0 || !ok) {
    fprintf(stderr, "nnc: error: cannot write '%s'\n", path);
    return 1;
  }
  return 0;
}

static void print_values(const double *x, int64_t n, int64_t most) {
  for (int64_t k = 0; k < n && k < most; k++) printf(" %.9g", x[k]);
  if (n > most) printf(" ...");
  printf("\n");
}

/* --interpret: one training step; prints loss, metrics, outputs (first sample) and each
 * gradient's norm and first values. */
int ref_interpret(const RefOptions *o, const Graph *g) {
  RefData d;
  ref_data_draw(g, o, &d);
  NodeId *roots = calloc((size_t)(1 + g->nmetrics + g->noutputs + g->nparams), sizeof(NodeId));
  double **v = ref_eval(g, &d, roots, step_roots(g, roots));
  printf("interpret %s: batch %lld, seed %llu, parameters %s\n", g->model_name, (long long)d.batch,
         (unsigned long long)o->seed, o->random_params ? "uniform in +-1/sqrt(fan_in)" : "from their initialisers");
  printf("loss %.15g\n", v[g->loss][0]);
  for (int i = 0; i < g->nmetrics; i++) printf("metric %s %.15g\n", g->metrics[i].name, v[g->metrics[i].node][0]);
  for (int i = 0; i < g->noutputs; i++) {
    const Node *n = graph_node(g, g->outputs[i].node);
    printf("output %s %s, sample 0:", g->outputs[i].name, shape_str(n->shape));
    print_values(v[g->outputs[i].node], shape_size(n->shape), 8);
  }
  for (int i = 0; i < g->nparams; i++) {
    const GraphParam *p = &g->params[i];
    int64_t n = shape_size(p->shape);
    double sq = 0;
    for (int64_t k = 0; k < n; k++) sq += v[p->grad][k] * v[p->grad][k];
    printf("grad %s %s: norm %.9g, values", p->name, shape_str(p->shape), sqrt(sq));
    print_values(v[p->grad], n, 4);
  }
  int rc = o->reference ? write_reference(g, &d, v, o->reference) : 0;
  interp_free(g, v);
  free(roots);
  ref_data_free(g, &d);
  return rc;
}

static double interp_loss(const Graph *g, const RefData *d) {
  double **v = ref_eval(g, d, &g->loss, 1);
  double l = v[g->loss][0];
  interp_free(g, v);
  return l;
}

/* Difference quotients of the loss in one parameter element at step h: one-sided
 * forward and backward, and central. */
typedef struct Diffs { double fwd, bwd, central; } Diffs;

static Diffs differences(const Graph *g, RefData *d, double *w, double h, double base) {
  double saved = *w;
  *w = saved + h;
  double up = interp_loss(g, d);
  *w = saved - h;
  double down = interp_loss(g, d);
  *w = saved;
  return (Diffs){(up - base) / h, (base - down) / h, (up - down) / (2 * h)};
}

/* Whether the one-sided quotients disagree beyond what curvature and rounding explain. */
static bool disagree(Diffs q, double noise) {
  return fabs(q.fwd - q.bwd) > 1e-3 * (fabs(q.fwd) + fabs(q.bwd)) + 10 * noise;
}

/* --check-grad. For each checked element w of a parameter, with h = 1e-6 max(1, |w|):
 * the central difference (L(w+h) - L(w-h)) / 2h against the symbolic gradient g, as
 * |g - fd| / (|g| + |fd| + least). The loss is exact to a few ulps, so a quotient
 * carries rounding noise of up to about 1e-9 (1 + |L|), and a gradient element of 1e-6
 * cannot be measured better than to 1e-3 of itself. `least` (1e-3 of the parameter's
 * largest gradient, plus 1e-4 (1 + |L|)) keeps such elements from dividing rounding
 * noise by almost nothing: below it, the check is an absolute one, to tolerance * least.
 * When the one-sided quotients disagree, either the curvature is high or a kink of relu,
 * abs, max, min or maxto lies within h. At h/10 the first shrinks tenfold and the
 * quotients agree; a kink (unless it moved out of the smaller interval) still splits
 * them, and neither quotient is a derivative there: the element is skipped and counted. */
int ref_check_grad(const RefOptions *o, const Graph *g) {
  RefData d;
  ref_data_draw(g, o, &d);
  NodeId *roots = calloc((size_t)(1 + g->nmetrics + g->noutputs + g->nparams), sizeof(NodeId));
  double **v = ref_eval(g, &d, roots, step_roots(g, roots));
  double base = v[g->loss][0], noise = 1e-9 * (1 + fabs(base));
  printf("check-grad %s: batch %lld, seed %llu, loss %.9g, tolerance %g\n", g->model_name, (long long)d.batch,
         (unsigned long long)o->seed, base, o->tolerance);
  if (!isfinite(base)) printf("the loss is not finite\n");
  Rng r = {o->seed ^ 0x5851f42d4c957f2dull};
  bool failed = !isfinite(base);
  for (int i = 0; i < g->nparams; i++) {
    const GraphParam *p = &g->params[i];
    int64_t n = shape_size(p->shape), m = o->max_elements && n > o->max_elements ? o->max_elements : n;
    /* which elements: all, or the first m of a seeded shuffle */
    int64_t *idx = calloc((size_t)n + 1, sizeof(int64_t));
    for (int64_t k = 0; k < n; k++) idx[k] = k;
    for (int64_t k = 0; k < m && m < n; k++) {
      int64_t j = k + (int64_t)(rng_next(&r) % (uint64_t)(n - k)), t = idx[k];
      idx[k] = idx[j], idx[j] = t;
    }
    double *fd = calloc((size_t)m + 1, sizeof(double));
    bool *kink = calloc((size_t)m + 1, sizeof(bool));
    const double *gr = v[p->grad];
    double scale = 0;
    int64_t kinks = 0;
    for (int64_t k = 0; k < m; k++) {
      double *w = &d.params[p->offset + idx[k]], h = 1e-6 * fmax(1, fabs(*w));
      Diffs q = differences(g, &d, w, h, base);
      if (disagree(q, noise)) {
        q = differences(g, &d, w, h / 10, base);
        kink[k] = disagree(q, 10 * noise);
      }
      fd[k] = q.central;
      kinks += kink[k];
      if (!kink[k]) scale = fmax(scale, fabs(gr[idx[k]]) + fabs(fd[k]));
    }
    double least = 1e-3 * scale + 1e5 * noise, worst = 0, worst_fd = 0;
    int64_t worst_at = -1;
    for (int64_t k = 0; k < m; k++) {
      if (kink[k]) continue;
      double gk = gr[idx[k]], e = fabs(gk - fd[k]) / (fabs(gk) + fabs(fd[k]) + least);
      if (!(e <= worst)) worst = e, worst_at = idx[k], worst_fd = fd[k];
    }
    bool bad = !(worst <= o->tolerance);
    printf("%s %s: ", p->name, shape_str(p->shape));
    if (m < n) printf("%lld random elements of %lld", (long long)m, (long long)n);
    else printf("%lld element%s", (long long)n, n == 1 ? "" : "s");
    printf(", worst relative error %.3g", worst);
    if (worst_at >= 0)
      printf(" at %lld (symbolic %.9g, numeric %.9g)", (long long)worst_at, gr[worst_at], worst_fd);
    if (kinks) printf(", %lld element%s skipped at kinks", (long long)kinks, kinks == 1 ? "" : "s");
    printf("%s\n", bad ? "  FAIL" : "");
    failed |= bad;
    free(idx);
    free(fd);
    free(kink);
  }
  printf("%s\n", failed ? "FAIL" : "ok");
  interp_free(g, v);
  free(roots);
  ref_data_free(g, &d);
  return failed ? 1 : 0;
}

