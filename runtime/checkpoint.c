/* checkpoint.c: saving and resuming training.
 *
 * A checkpoint is one little-endian binary file:
 *
 *   "NNRTCKPT"  u32 format version (2)  u32 ABI version  u64 file length
 *   str model name   str update rule
 *   i64 epoch, batch_pos, t          (epochs done, samples into the next, updates done)
 *   u64 shuffle RNG state[4]
 *   f64 loss_sum  i64 seen, steps    u32 n_metrics  f64 metric_sums[n_metrics]
 *   f64 best  i64 best_epoch, wait   (early stopping)
 *   u32 n_options  {str key, str value}...   (the trajectory's options as flag values)
 *   i64 n_perm  i64 perm[n_perm]     (the current epoch's sample order)
 *   u32 n_states  str state names[n_states]   (the rule's, in its order)
 *   u32 n_slots
 *   per slot: str name  u32 kind  u32 rank  i64 dims[rank]  u64 size
 *             f32 values[size]  (a parameter:) f32 state[n_states][size]
 *   u32 CRC-32 (zlib's) of every byte before it
 *
 * where str is a u32 length and that many bytes. Every slot (parameter or buffer) and each
 * state of the rule is stored by name, so a model whose parameters were reordered still
 * loads, one whose slots differ is refused naming the first mismatch, and a run that
 * resumes with the same rule finds each state by name. Format 1 (ABI 3, before rules were
 * compiled from the language) is refused as an older nnc's. The file is built in
 * memory, written to a temp file in the same directory, fsynced, renamed over the target
 * and the directory fsynced: a crash at any moment leaves either the old file or the new.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "nnrt_internal.h"

uint32_t rt_crc32(const unsigned char *p, size_t n) {
  uLong c = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    uInt k = n > 1u << 30 ? 1u << 30 : (uInt)n;
    c = crc32(c, p, k);
    p += k, n -= k;
  }
  return (uint32_t)c;
}

/* ---- writing ---- */

typedef struct Buf {
  unsigned char *p;
  size_t len, cap;
  int oom;
} Buf;

static void put(Buf *b, const void *x, size_t n) {
  if (b->oom) return;
  if (b->len + n > b->cap) {
    size_t c = b->cap ? b->cap : 4096;
    while (c < b->len + n) c *= 2;
    unsigned char *q = realloc(b->p, c);
    if (!q) {
      b->oom = 1;
      return;
    }
    b->p = q, b->cap = c;
  }
  memcpy(b->p + b->len, x, n);
  b->len += n;
}
static void put_u32(Buf *b, uint32_t v) { put(b, &v, 4); }
static void put_i64(Buf *b, int64_t v) { put(b, &v, 8); }
static void put_f64(Buf *b, double v) { put(b, &v, 8); }
static void put_str(Buf *b, const char *s) {
  size_t n = s ? strlen(s) : 0;
  put_u32(b, (uint32_t)n);
  put(b, s, n);
}

static int write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += k, n -= (size_t)k;
  }
  return 0;
}

int rt_ckpt_save(const char *path, const nnrt_model_desc *m, const RtTrainState *s, char *err,
                 size_t errlen) {
  Buf b = {0};
  int64_t pf = m->param_floats;
  put(&b, RT_CKPT_MAGIC, 8);
  put_u32(&b, RT_CKPT_VERSION);
  put_u32(&b, NNRT_ABI_VERSION);
  put_i64(&b, 0); /* the length, patched below */
  put_str(&b, m->name);
  put_str(&b, s->rule);
  put_i64(&b, s->epoch);
  put_i64(&b, s->batch_pos);
  put_i64(&b, s->t);
  put(&b, s->shuffle.s, sizeof s->shuffle.s);
  put_f64(&b, s->loss_sum);
  put_i64(&b, s->seen);
  put_i64(&b, s->steps);
  put_u32(&b, (uint32_t)m->n_metrics);
  for (int32_t i = 0; i < m->n_metrics; i++) put_f64(&b, s->metric_sums[i]);
  put_f64(&b, s->best);
  put_i64(&b, s->best_epoch);
  put_i64(&b, s->wait);
  put_u32(&b, (uint32_t)s->n_options);
  for (int32_t i = 0; i < s->n_options; i++) put_str(&b, s->keys[i]), put_str(&b, s->values[i]);
  put_i64(&b, s->n_perm);
  if (s->n_perm > 0) put(&b, s->perm, (size_t)s->n_perm * sizeof(int64_t));
  put_u32(&b, (uint32_t)s->n_states);
  for (int32_t k = 0; k < s->n_states; k++) put_str(&b, s->state_names[k]);
  put_u32(&b, (uint32_t)m->n_slots);
  for (int32_t i = 0; i < m->n_slots; i++) {
    const nnrt_slot_desc *p = &m->slots[i];
    int is_param = p->kind == NNRT_SLOT_PARAM;
    put_str(&b, p->name);
    put_u32(&b, (uint32_t)p->kind);
    put_u32(&b, (uint32_t)p->rank);
    for (int32_t k = 0; k < p->rank; k++) put_i64(&b, p->dims[k]);
    put_i64(&b, p->size);
    put(&b, (is_param ? s->params : s->buffers) + p->offset, (size_t)p->size * sizeof(float));
    for (int32_t j = 0; is_param && j < s->n_states; j++)
      put(&b, s->state + (int64_t)j * pf + p->offset, (size_t)p->size * sizeof(float));
  }
  if (b.oom) {
    free(b.p);
    snprintf(err, errlen, "%s: error: out of memory building the checkpoint", path);
    return -1;
  }
  int64_t total = (int64_t)b.len + 4;
  memcpy(b.p + 16, &total, 8);
  uint32_t crc = rt_crc32(b.p, b.len);
  put_u32(&b, crc);
  if (b.oom) {
    free(b.p);
    snprintf(err, errlen, "%s: error: out of memory building the checkpoint", path);
    return -1;
  }

  /* The temp file lives beside the target so that rename is atomic (same file system). */
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 32), *dir = malloc(plen + 2);
  int rc = -1, fd = -1;
  if (!tmp || !dir) {
    snprintf(err, errlen, "%s: error: out of memory", path);
    goto out;
  }
  snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    snprintf(err, errlen, "%s: error: cannot create the checkpoint's temp file %s: %s", path, tmp,
             strerror(errno));
    goto out;
  }
  const char *crash = getenv("NNRT_TEST_SAVE_CRASH");
  if (crash && *crash) {
    /* Test hook: die half-way through writing, as a power cut or kill -9 would. */
    if (write_all(fd, b.p, b.len / 2) == 0) fsync(fd);
    raise(SIGKILL);
  }
  if (write_all(fd, b.p, b.len) || fsync(fd)) {
    snprintf(err, errlen, "%s: error: cannot write the checkpoint's temp file %s: %s", path, tmp,
             strerror(errno));
    close(fd);
    fd = -1;
    unlink(tmp);
    goto out;
  }
  if (close(fd)) {
    fd = -1;
    snprintf(err, errlen, "%s: error: cannot write the checkpoint's temp file %s: %s", path, tmp,
             strerror(errno));
    unlink(tmp);
    goto out;
  }
  fd = -1;
  if (rename(tmp, path)) {
    snprintf(err, errlen, "%s: error: cannot rename %s over it: %s", path, tmp, strerror(errno));
    unlink(tmp);
    goto out;
  }
  /* Make the rename itself durable. */
  memcpy(dir, path, plen + 1);
  char *slash = strrchr(dir, '/');
  if (!slash) strcpy(dir, ".");
  else if (slash == dir) dir[1] = 0;
  else *slash = 0;
  int dfd = open(dir, O_RDONLY);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  rc = 0;
out:
  if (fd >= 0) close(fd);
  free(tmp);
  free(dir);
  free(b.p);
  return rc;
}

/* ---- reading ---- */

typedef struct Rd {
  const unsigned char *p;
  size_t len, pos;
  const char *path;
  char *err;
  size_t errlen;
  int bad;
} Rd;

static int get(Rd *r, void *x, size_t n, const char *what) {
  if (r->bad) return -1;
  if (r->len - r->pos < n) {
    snprintf(r->err, r->errlen, "%s: error: malformed checkpoint: %s at byte offset %zu runs past the end", r->path, what, r->pos);
    r->bad = 1;
    return -1;
  }
  memcpy(x, r->p + r->pos, n);
  r->pos += n;
  return 0;
}
static uint32_t get_u32(Rd *r, const char *what) {
  uint32_t v = 0;
  get(r, &v, 4, what);
  return v;
}
static int64_t get_i64(Rd *r, const char *what) {
  int64_t v = 0;
  get(r, &v, 8, what);
  return v;
}
static double get_f64(Rd *r, const char *what) {
  double v = 0;
  get(r, &v, 8, what);
  return v;
}
/* A string, copied into the strings block at *used. */
static const char *get_str(Rd *r, char *block, size_t *used, const char *what) {
  uint32_t n = get_u32(r, what);
  if (r->bad) return "";
  if (r->len - r->pos < n) {
    snprintf(r->err, r->errlen, "%s: error: malformed checkpoint: %s at byte offset %zu runs past the end", r->path, what, r->pos);
    r->bad = 1;
    return "";
  }
  char *s = block + *used;
  memcpy(s, r->p + r->pos, n);
  s[n] = 0;
  *used += n + 1;
  r->pos += n;
  return s;
}

void rt_ckpt_free(RtTrainState *s) {
  free(s->params);
  free(s->buffers);
  free(s->state);
  s->buffers = NULL;
  free(s->perm);
  free(s->metric_sums);
  free(s->strings);
  s->params = s->state = NULL;
  s->perm = NULL;
  s->metric_sums = NULL;
  s->strings = NULL;
}

int rt_ckpt_load(const char *path, const nnrt_model_desc *m, RtTrainState *s, char *err,
                 size_t errlen) {
  memset(s, 0, sizeof *s);
  RtBytes f;
  if (rt_file_read(path, &f, err, errlen)) return -1;
  int rc = -1;
  const unsigned char *p = f.p;
  if (f.len < 8 || memcmp(p, RT_CKPT_MAGIC, 8) != 0) {
    snprintf(err, errlen, "%s: error: not a checkpoint: bad magic at byte offset 0", path);
    goto out;
  }
  if (f.len < 28) {
    snprintf(err, errlen, "%s: error: truncated checkpoint: %zu bytes, less than its header",
             path, f.len);
    goto out;
  }
  uint32_t version, abi;
  int64_t total;
  memcpy(&version, p + 8, 4);
  memcpy(&abi, p + 12, 4);
  memcpy(&total, p + 16, 8);
  if (version == 1) {
    snprintf(err, errlen,
             "%s: error: saved by an older nnc (checkpoint format 1, runtime ABI %u); this program (ABI %d) "
             "reads format %d: train again, or resume with the program that saved it",
             path, abi, NNRT_ABI_VERSION, RT_CKPT_VERSION);
    goto out;
  }
  if (version != RT_CKPT_VERSION) {
    snprintf(err, errlen,
             "%s: error: checkpoint format version %u, but this runtime reads version %d", path,
             version, RT_CKPT_VERSION);
    goto out;
  }
  if ((uint64_t)total > f.len) {
    snprintf(err, errlen,
             "%s: error: truncated checkpoint: the file has %zu bytes, its header says %lld",
             path, f.len, (long long)total);
    goto out;
  }
  if ((uint64_t)total < f.len || total < 28) {
    snprintf(err, errlen,
             "%s: error: corrupt checkpoint: the file has %zu bytes, its header says %lld", path,
             f.len, (long long)total);
    goto out;
  }
  uint32_t stored, crc = rt_crc32(p, f.len - 4);
  memcpy(&stored, p + f.len - 4, 4);
  if (stored != crc) {
    snprintf(err, errlen,
             "%s: error: corrupt checkpoint: checksum mismatch (stored %08x, computed %08x)",
             path, stored, crc);
    goto out;
  }
  /* Every string is shorter than the file, so one block of its size holds them all. */
  if (!(s->strings = malloc(f.len + 64))) goto oom;
  size_t used = 0;
  Rd r = {p, f.len - 4, 24, path, err, errlen, 0};
  const char *model = get_str(&r, s->strings, &used, "the model name");
  s->rule = get_str(&r, s->strings, &used, "the update rule");
  s->epoch = get_i64(&r, "the epoch");
  s->batch_pos = get_i64(&r, "the batch position");
  s->t = get_i64(&r, "the update count");
  get(&r, s->shuffle.s, sizeof s->shuffle.s, "the RNG state");
  s->loss_sum = get_f64(&r, "the loss sum");
  s->seen = get_i64(&r, "the sample count");
  s->steps = get_i64(&r, "the step count");
  uint32_t nm = get_u32(&r, "the metric count");
  if (!r.bad && nm != (uint32_t)m->n_metrics) {
    snprintf(err, errlen,
             "%s: error: the checkpoint (from model '%s') has %u metrics, model '%s' has %d",
             path, model, nm, m->name, (int)m->n_metrics);
    goto out;
  }
  if (!(s->metric_sums = calloc((size_t)nm + 1, sizeof(double)))) goto oom;
  for (uint32_t i = 0; i < nm; i++) s->metric_sums[i] = get_f64(&r, "the metric sums");
  s->best = get_f64(&r, "the best value");
  s->best_epoch = get_i64(&r, "the best epoch");
  s->wait = get_i64(&r, "the patience count");
  uint32_t no = get_u32(&r, "the option count");
  if (!r.bad && no > RT_CKPT_MAX_OPTIONS) {
    snprintf(err, errlen, "%s: error: malformed checkpoint: %u options", path, no);
    goto out;
  }
  s->n_options = (int32_t)no;
  for (uint32_t i = 0; i < no && !r.bad; i++) {
    s->keys[i] = get_str(&r, s->strings, &used, "an option");
    s->values[i] = get_str(&r, s->strings, &used, "an option");
  }
  s->n_perm = get_i64(&r, "the permutation length");
  if (!r.bad && (s->n_perm < 0 || (uint64_t)s->n_perm > (r.len - r.pos) / 8)) {
    snprintf(err, errlen, "%s: error: malformed checkpoint: a permutation of %lld samples", path,
             (long long)s->n_perm);
    goto out;
  }
  if (!(s->perm = malloc((size_t)s->n_perm * sizeof(int64_t) + 8))) goto oom;
  if (s->n_perm > 0) get(&r, s->perm, (size_t)s->n_perm * sizeof(int64_t), "the permutation");
  for (int64_t i = 0; i < s->n_perm && !r.bad; i++)
    if (s->perm[i] < 0 || s->perm[i] >= s->n_perm) {
      snprintf(err, errlen, "%s: error: malformed checkpoint: the permutation holds %lld", path,
               (long long)s->perm[i]);
      goto out;
    }
  /* Counters only grow from 0, and a resumed epoch goes on from batch_pos in the
   * permutation: train.c indexes it from there. */
  if (!r.bad && (s->epoch < 0 || s->t < 0 || s->seen < 0 || s->steps < 0 || s->batch_pos < 0 ||
                 s->batch_pos > s->n_perm)) {
    snprintf(err, errlen,
             "%s: error: malformed checkpoint: epoch %lld, %lld updates, %lld samples in %lld "
             "steps, at sample %lld of a permutation of %lld",
             path, (long long)s->epoch, (long long)s->t, (long long)s->seen,
             (long long)s->steps, (long long)s->batch_pos, (long long)s->n_perm);
    goto out;
  }
  uint32_t sc = get_u32(&r, "the state count");
  if (!r.bad && sc > RT_MAX_STATES) {
    snprintf(err, errlen, "%s: error: malformed checkpoint: %u optimizer states", path, sc);
    goto out;
  }
  s->n_states = (int32_t)sc;
  for (uint32_t k = 0; k < sc && !r.bad; k++) s->state_names[k] = get_str(&r, s->strings, &used, "a state name");
  uint32_t ns = get_u32(&r, "the slot count");
  if (r.bad) goto out;
  int64_t pf = m->param_floats;
  s->params = calloc((size_t)pf + 1, sizeof(float));
  s->buffers = calloc((size_t)m->buffer_floats + 1, sizeof(float));
  s->state = calloc((size_t)pf * sc + 1, sizeof(float));
  char *seen = calloc((size_t)m->n_slots + 1, 1);
  if (!s->params || !s->buffers || !s->state || !seen) {
    free(seen);
    goto oom;
  }
  char a[96], b[96];
  for (uint32_t i = 0; i < ns; i++) {
    size_t mark = used;
    const char *name = get_str(&r, s->strings, &used, "a slot name");
    int64_t dims[NNRT_MAX_RANK] = {0};
    uint32_t kind = get_u32(&r, "a slot kind");
    uint32_t rank = get_u32(&r, "a slot rank");
    if (!r.bad && rank > NNRT_MAX_RANK) {
      snprintf(err, errlen, "%s: error: malformed checkpoint: slot '%s' has rank %u", path, name, rank);
      free(seen);
      goto out;
    }
    for (uint32_t k = 0; k < rank; k++) dims[k] = get_i64(&r, "a slot shape");
    int64_t size = get_i64(&r, "a slot size");
    if (r.bad) break;
    int32_t j = 0;
    while (j < m->n_slots && strcmp(m->slots[j].name, name) != 0) j++;
    rt_dims_str(dims, (int32_t)rank, a, sizeof a);
    const char *what = kind == NNRT_SLOT_BUFFER ? "buffer" : "parameter";
    if (j == m->n_slots || (uint32_t)m->slots[j].kind != kind) {
      snprintf(err, errlen,
               "%s: error: the checkpoint (from model '%s') has %s '%s' %s, which model '%s' does not have",
               path, model, what, name, a, m->name);
      free(seen);
      goto out;
    }
    const nnrt_slot_desc *q = &m->slots[j];
    int same = (int32_t)rank == q->rank && size == q->size;
    for (int32_t k = 0; same && k < q->rank; k++) same = dims[k] == q->dims[k];
    if (!same) {
      rt_dims_str(q->dims, q->rank, b, sizeof b);
      snprintf(err, errlen,
               "%s: error: %s '%s' has shape %s in the checkpoint (from model '%s') but %s in model '%s'",
               path, what, name, a, model, b, m->name);
      free(seen);
      goto out;
    }
    if (seen[j]) {
      snprintf(err, errlen, "%s: error: malformed checkpoint: %s '%s' appears twice", path, what, name);
      free(seen);
      goto out;
    }
    seen[j] = 1;
    used = mark; /* the name is no longer needed */
    int is_param = q->kind == NNRT_SLOT_PARAM;
    get(&r, (is_param ? s->params : s->buffers) + q->offset, (size_t)size * sizeof(float),
        is_param ? "parameter values" : "buffer values");
    for (uint32_t k = 0; is_param && k < sc; k++)
      get(&r, s->state + (int64_t)k * pf + q->offset, (size_t)size * sizeof(float), "optimizer state");
  }
  if (r.bad) {
    free(seen);
    goto out;
  }
  for (int32_t j = 0; j < m->n_slots; j++)
    if (!seen[j]) {
      rt_dims_str(m->slots[j].dims, m->slots[j].rank, a, sizeof a);
      snprintf(err, errlen,
               "%s: error: model '%s' has %s '%s' %s, which the checkpoint (from model '%s') lacks",
               path, m->name, m->slots[j].kind == NNRT_SLOT_BUFFER ? "buffer" : "parameter", m->slots[j].name, a,
               model);
      free(seen);
      goto out;
    }
  free(seen);
  if (r.pos != r.len) {
    snprintf(err, errlen, "%s: error: malformed checkpoint: %zu unexpected bytes at byte offset %zu",
             path, r.len - r.pos, r.pos);
    goto out;
  }
  (void)abi;
  rc = 0;
  goto out;
oom:
  snprintf(err, errlen, "%s: error: out of memory reading the checkpoint", path);
out:
  rt_bytes_free(&f);
  if (rc) rt_ckpt_free(s);
  return rc;
}
