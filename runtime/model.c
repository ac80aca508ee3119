/* model.c: checks a model descriptor before the runtime trusts it.
 *
 * The descriptor comes from another program (nnc), possibly another version of it; the
 * runtime reads the ABI version first and nothing else until it matches, then checks
 * every count, shape and offset it will index with, so a compiler bug surfaces as a
 * message naming the bad entry instead of as a crash in the middle of training.
 */
#include <stdarg.h>
#include <string.h>

#include "nnrt_internal.h"

/* Descriptor checks write their finding here and return -1. */
typedef struct Check {
  char *err;
  size_t errlen;
} Check;

static int fail(Check *c, const char *fmt, ...) {
  char detail[RT_ERR_MAX / 2];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  snprintf(c->err, c->errlen,
           "malformed model descriptor: %s (a bug in the compiler that made it)", detail);
  return -1;
}

/* A shape: rank in 0..NNRT_MAX_RANK, positive dims, size their product. */
static int check_shape(Check *c, const char *what, int32_t rank, const int64_t *dims,
                       int64_t size) {
  if (rank < 0 || rank > NNRT_MAX_RANK)
    return fail(c, "%s has rank %d (at most %d)", what, (int)rank, NNRT_MAX_RANK);
  int64_t n = 1;
  for (int32_t k = 0; k < rank; k++) {
    if (dims[k] <= 0 || dims[k] > INT64_MAX / n)
      return fail(c, "%s has dimension %d of size %lld", what, (int)k, (long long)dims[k]);
    n *= dims[k];
  }
  if (n != size)
    return fail(c, "%s has size %lld but its dimensions multiply to %lld", what,
                (long long)size, (long long)n);
  return 0;
}

int rt_check_model(const nnrt_model_desc *m, char *err, size_t errlen) {
  /* abi_version is the one field whose place is the same in every version; nothing else
   * may be read until it matches. */
  if (m->abi_version != NNRT_ABI_VERSION) {
    snprintf(err, errlen,
             "this model was compiled for runtime ABI version %d, but this runtime (libnnrt "
             "%s) implements version %d; recompile the model with the nnc that ships this "
             "runtime",
             (int)m->abi_version, RT_VERSION, NNRT_ABI_VERSION);
    return -1;
  }
  Check c = {err, errlen};
  char what[96];
  if (!m->name) return fail(&c, "the model has no name");
  if (m->n_inputs < 1 || !m->inputs) return fail(&c, "the model has %d inputs", (int)m->n_inputs);
  for (int32_t i = 0; i < m->n_inputs; i++) {
    const nnrt_tensor_desc *t = &m->inputs[i];
    snprintf(what, sizeof what, "input %d (%.40s)", (int)i, t->name ? t->name : "?");
    if (!t->name) return fail(&c, "%s has no name", what);
    if (t->dtype != NNRT_F32 && t->dtype != NNRT_U8 && t->dtype != NNRT_CLASS)
      return fail(&c, "%s has dtype %d", what, (int)t->dtype);
    if (t->role != NNRT_ROLE_FEATURE && t->role != NNRT_ROLE_TARGET)
      return fail(&c, "%s has role %d", what, (int)t->role);
    if (check_shape(&c, what, t->rank, t->dims, t->size)) return -1;
    if (t->dtype == NNRT_CLASS && (t->classes < 1 || t->size != 1))
      return fail(&c, "%s is a class label with %lld classes and %lld values per sample", what,
                  (long long)t->classes, (long long)t->size);
  }
  if (m->n_outputs < 0 || (m->n_outputs > 0 && !m->outputs))
    return fail(&c, "the model has %d outputs", (int)m->n_outputs);
  for (int32_t i = 0; i < m->n_outputs; i++) {
    const nnrt_tensor_desc *t = &m->outputs[i];
    snprintf(what, sizeof what, "output %d (%.40s)", (int)i, t->name ? t->name : "?");
    if (!t->name) return fail(&c, "%s has no name", what);
    if (check_shape(&c, what, t->rank, t->dims, t->size)) return -1;
  }
  if (m->n_metrics < 0 || (m->n_metrics > 0 && !m->metric_names))
    return fail(&c, "the model has %d metrics", (int)m->n_metrics);
  for (int32_t i = 0; i < m->n_metrics; i++)
    if (!m->metric_names[i]) return fail(&c, "metric %d has no name", (int)i);
  if (m->n_slots < 0 || m->n_params < 0 || m->n_params > m->n_slots || (m->n_slots > 0 && !m->slots) ||
      m->param_floats < 0 || m->buffer_floats < 0)
    return fail(&c, "the model has %d slots (%d parameters) in %lld + %lld floats", (int)m->n_slots,
                (int)m->n_params, (long long)m->param_floats, (long long)m->buffer_floats);
  for (int32_t i = 0; i < m->n_slots; i++) {
    const nnrt_slot_desc *p = &m->slots[i];
    int is_param = i < m->n_params;
    snprintf(what, sizeof what, "%s %d (%.40s)", is_param ? "parameter" : "buffer", (int)i, p->name ? p->name : "?");
    if (!p->name) return fail(&c, "%s has no name", what);
    if (p->kind != (is_param ? NNRT_SLOT_PARAM : NNRT_SLOT_BUFFER)) return fail(&c, "%s has kind %d", what, (int)p->kind);
    if (check_shape(&c, what, p->rank, p->dims, p->size)) return -1;
    int64_t floats = is_param ? m->param_floats : m->buffer_floats;
    if (p->offset < 0 || p->offset > floats - p->size)
      return fail(&c, "%s at offset %lld lies outside the %lld-float %s buffer", what, (long long)p->offset,
                  (long long)floats, is_param ? "parameter" : "buffers'");
    if (!rt_init_name(p->init)) return fail(&c, "%s has initialiser kind %d", what, (int)p->init);
  }
  if (m->n_rules < 0 || (m->n_rules > 0 && !m->rules))
    return fail(&c, "the model has %d update rules", (int)m->n_rules);
  for (int32_t i = 0; i < m->n_rules; i++) {
    const nnrt_rule_desc *r = &m->rules[i];
    snprintf(what, sizeof what, "update rule %d (%.40s)", (int)i, r->name ? r->name : "?");
    if (!r->name || !*r->name) return fail(&c, "%s has no name", what);
    if (rt_rule_find(m, r->name, strlen(r->name)) != i) return fail(&c, "%s is named twice", what);
    if (r->n_hypers < 0 || r->n_hypers > RT_MAX_HYPERS || (r->n_hypers > 0 && !r->hypers) || r->n_states < 0 ||
        r->n_states > RT_MAX_STATES || (r->n_states > 0 && !r->states))
      return fail(&c, "%s has %d hyperparameters and %d states", what, (int)r->n_hypers, (int)r->n_states);
    for (int32_t k = 0; k < r->n_hypers; k++) {
      const nnrt_hyper_desc *h = &r->hypers[k];
      double v;
      char text[64];
      if (!h->name || !*h->name || rt_hyper_find(r, h->name, strlen(h->name)) != k)
        return fail(&c, "%s's hyperparameter %d has no name of its own", what, (int)k);
      if ((h->kind != NNRT_HYPER_NUMBER && h->kind != NNRT_HYPER_BOOL) || !(h->lo < h->hi))
        return fail(&c, "%s's hyperparameter '%s' has kind %d and range %g..%g", what, h->name, (int)h->kind, h->lo,
                    h->hi);
      rt_hyper_format(h, h->value, text, sizeof text);
      if (rt_hyper_parse(h, text, &v) || v != h->value)
        return fail(&c, "%s's hyperparameter '%s' has the default %g outside its domain", what, h->name, h->value);
      if (rt_cli_is_flag(h->name, strlen(h->name)))
        return fail(&c, "%s's hyperparameter '%s' has the name of a flag of the train program", what, h->name);
    }
    for (int32_t k = 0; k < r->n_states; k++)
      if (!r->states[k].name || !rt_init_name(r->states[k].init))
        return fail(&c, "%s's state %d has no name or initialiser kind %d", what, (int)k, (int)r->states[k].init);
  }
  if (m->arena_fixed < 0 || m->arena_per_sample < 0)
    return fail(&c, "the arena is %lld + %lld per sample floats", (long long)m->arena_fixed,
                (long long)m->arena_per_sample);
  if (m->n_options < 0 || (m->n_options > 0 && !m->options))
    return fail(&c, "the train block has %d options", (int)m->n_options);
  for (int32_t i = 0; i < m->n_options; i++)
    if (!m->options[i].key || !m->options[i].value)
      return fail(&c, "train block option %d has no %s", (int)i,
                  m->options[i].key ? "value" : "key");
  if (!m->train || !m->gradient || !m->apply_update || !m->evaluate || !m->predict)
    return fail(&c, "the model lacks an entry point");
  return 0;
}
