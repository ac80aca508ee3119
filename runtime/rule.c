/* rule.c: the model's update rules, as the train program sees them: names to find, and
 * hyperparameters to check and spell.
 *
 * A rule is an optimizer of the model language, compiled into the model; the descriptor
 * lists each one's hyperparameters with their defaults and the values they may take, so
 * the train program checks a setting from its command line by the very rule nnc checked
 * the train block's with (sema_rule.c), and its flags (--lr, --beta1, ...) are the rule's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnrt_internal.h"

/* '_' and '-' alike, so the train block's weight_decay is --weight-decay. */
static int same_name(const char *a, size_t alen, const char *b) {
  size_t i = 0;
  for (; i < alen && b[i]; i++) {
    char x = a[i] == '_' ? '-' : a[i], y = b[i] == '_' ? '-' : b[i];
    if (x != y) return 0;
  }
  return i == alen && b[i] == 0;
}

int32_t rt_rule_find(const nnrt_model_desc *m, const char *name, size_t len) {
  for (int32_t i = 0; i < m->n_rules; i++)
    if (strlen(m->rules[i].name) == len && strncmp(m->rules[i].name, name, len) == 0) return i;
  return -1;
}

int32_t rt_hyper_find(const nnrt_rule_desc *r, const char *name, size_t len) {
  for (int32_t k = 0; k < r->n_hypers; k++)
    if (same_name(name, len, r->hypers[k].name)) return k;
  return -1;
}

int rt_hyper_known(const nnrt_model_desc *m, const char *name, size_t len) {
  for (int32_t i = 0; i < m->n_rules; i++)
    if (rt_hyper_find(&m->rules[i], name, len) >= 0) return 1;
  return 0;
}

static void bound_str(double v, char *buf, size_t len) {
  if (isinf(v)) snprintf(buf, len, "%sinf", v < 0 ? "-" : "");
  else snprintf(buf, len, "%g", v);
}

void rt_hyper_domain(const nnrt_hyper_desc *h, char *buf, size_t len) {
  if (h->kind == NNRT_HYPER_BOOL) {
    snprintf(buf, len, "true or false");
    return;
  }
  if (isinf(h->lo) && h->lo < 0 && isinf(h->hi) && h->hi > 0) {
    snprintf(buf, len, "a number");
    return;
  }
  char lo[32], hi[32];
  bound_str(h->lo, lo, sizeof lo);
  bound_str(h->hi, hi, sizeof hi);
  snprintf(buf, len, "a number in %c%s, %s%c", h->lo_open ? '(' : '[', lo, hi, h->hi_open ? ')' : ']');
}

int rt_hyper_parse(const nnrt_hyper_desc *h, const char *v, double *out) {
  double x;
  if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
    if (h->kind != NNRT_HYPER_BOOL) return -1;
    x = v[0] == 't';
  } else {
    if (!*v || *v == ' ' || *v == '\t') return -1;
    char *end;
    x = strtod(v, &end);
    if (*end || !isfinite(x)) return -1;
  }
  if (h->kind == NNRT_HYPER_BOOL) {
    if (x != 0 && x != 1) return -1;
  } else if (!(h->lo_open ? x > h->lo : x >= h->lo) || !(h->hi_open ? x < h->hi : x <= h->hi)) {
    return -1;
  }
  *out = x;
  return 0;
}

void rt_hyper_format(const nnrt_hyper_desc *h, double v, char *buf, size_t len) {
  if (h->kind == NNRT_HYPER_BOOL) {
    snprintf(buf, len, "%s", v != 0 ? "true" : "false");
    return;
  }
  for (int prec = 6; prec <= 17; prec++) {
    snprintf(buf, len, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) break;
  }
}

void rt_rule_names(const nnrt_model_desc *m, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = 0;
  for (int32_t i = 0; i < m->n_rules && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", m->rules[i].name);
}

void rt_hyper_names(const nnrt_rule_desc *r, char *buf, size_t len) {
  size_t used = 0;
  snprintf(buf, len, "none");
  for (int32_t k = 0; k < r->n_hypers && used < len; k++)
    used += (size_t)snprintf(buf + used, len - used, "%s%s", k ? ", " : "", r->hypers[k].name);
}
