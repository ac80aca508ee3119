/* test_checkpoint.c: a checkpoint round-trips every field of the training state; parameters
 * match by name (a reordered model loads); another model's checkpoint is refused naming the
 * parameter; truncated and corrupt files are refused with the file and what is wrong; a
 * save replaces the file atomically, leaving no temp file; a file of the format before
 * ABI 4 is refused as an older nnc's. Usage: rt-test-checkpoint DIR. */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "nnrt_internal.h"

static char err[RT_ERR_MAX], path[1024], want[2048];
static const char *const metric_names[] = {"accuracy", "top2"};
static nnrt_slot_desc ps[] = {{"h.W", NNRT_SLOT_PARAM, 2, {2, 3}, 6, 0, NNRT_INIT_ZEROS, 0, 0},
                               {"h.b", NNRT_SLOT_PARAM, 1, {3}, 3, 6, NNRT_INIT_ZEROS, 0, 0}};
static nnrt_model_desc model = {.abi_version = NNRT_ABI_VERSION, .name = "mlp", .n_slots = 2, .n_params = 2,
                                .slots = ps, .param_floats = 9, .n_metrics = 2,
                                .metric_names = metric_names};

static void write_bytes(const char *p, const unsigned char *b, size_t n) {
  FILE *f = fopen(p, "wb");
  fwrite(b, 1, n, f);
  fclose(f);
}

static unsigned char *read_all(const char *p, size_t *n) {
  RtBytes b;
  if (rt_file_read(p, &b, err, sizeof err)) return NULL;
  *n = b.len;
  return b.p;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    printf("FAIL: usage: rt-test-checkpoint DIR\n");
    return 1;
  }
  snprintf(path, sizeof path, "%s/c.ckpt", argv[1]);
  /* CRC-32 check value from the standard ("123456789" -> cbf43926). */
  CHECK(rt_crc32((const unsigned char *)"123456789", 9) == 0xcbf43926u);

  float params[9], state[18];
  int64_t perm[5] = {3, 1, 4, 0, 2};
  double sums[2] = {1.25, -0.5};
  for (int i = 0; i < 9; i++) params[i] = 0.5f * (float)i - 1;
  for (int i = 0; i < 18; i++) state[i] = 0.25f * (float)i;
  RtTrainState s = {0};
  s.epoch = 3, s.batch_pos = 2, s.t = 17, s.n_perm = 5, s.perm = perm, s.loss_sum = 4.5;
  s.metric_sums = sums, s.seen = 2, s.steps = 1, s.best = 0.125, s.best_epoch = 2, s.wait = 1;
  s.params = params, s.state = state, s.n_states = 2, s.rule = "adam";
  s.state_names[0] = "exp_avg", s.state_names[1] = "exp_avg_sq";
  rt_rng_seed(&s.shuffle, 99, RT_STREAM_SHUFFLE);
  s.n_options = 2;
  s.keys[0] = "lr", s.values[0] = "0.001", s.keys[1] = "batch", s.values[1] = "all";
  CHECK(rt_ckpt_save(path, &model, &s, err, sizeof err) == 0);
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  CHECK(access(tmp, F_OK) != 0);

  RtTrainState r;
  CHECK(rt_ckpt_load(path, &model, &r, err, sizeof err) == 0);
  CHECK(r.epoch == 3 && r.batch_pos == 2 && r.t == 17 && r.n_perm == 5 && r.loss_sum == 4.5 &&
        r.seen == 2 && r.steps == 1 && r.best == 0.125 && r.best_epoch == 2 && r.wait == 1 &&
        r.n_states == 2);
  CHECK_STR(r.state_names[0], "exp_avg");
  CHECK_STR(r.state_names[1], "exp_avg_sq");
  CHECK(memcmp(r.perm, perm, sizeof perm) == 0);
  CHECK(r.metric_sums[0] == 1.25 && r.metric_sums[1] == -0.5);
  CHECK(memcmp(r.params, params, sizeof params) == 0);
  CHECK(memcmp(r.state, state, sizeof state) == 0);
  CHECK(memcmp(r.shuffle.s, s.shuffle.s, sizeof s.shuffle.s) == 0);
  CHECK_STR(r.rule, "adam");
  CHECK(r.n_options == 2);
  CHECK_STR(r.keys[1], "batch");
  CHECK_STR(r.values[1], "all");
  rt_ckpt_free(&r);

  /* The same parameters declared in another order load by name. */
  nnrt_slot_desc swapped[] = {{"h.b", NNRT_SLOT_PARAM, 1, {3}, 3, 0, NNRT_INIT_ZEROS, 0, 0},
                               {"h.W", NNRT_SLOT_PARAM, 2, {2, 3}, 6, 3, NNRT_INIT_ZEROS, 0, 0}};
  nnrt_model_desc m2 = model;
  m2.slots = swapped;
  CHECK(rt_ckpt_load(path, &m2, &r, err, sizeof err) == 0);
  CHECK(memcmp(r.params, params + 6, 3 * sizeof(float)) == 0 &&
        memcmp(r.params + 3, params, 6 * sizeof(float)) == 0 &&
        memcmp(r.state + 9, state + 9 + 6, 3 * sizeof(float)) == 0);
  rt_ckpt_free(&r);

  /* Another model: a shape, a missing and an extra parameter. */
  nnrt_slot_desc wide[] = {{"h.W", NNRT_SLOT_PARAM, 2, {2, 4}, 8, 0, NNRT_INIT_ZEROS, 0, 0},
                            {"h.b", NNRT_SLOT_PARAM, 1, {3}, 3, 8, NNRT_INIT_ZEROS, 0, 0}};
  m2 = model, m2.name = "wide", m2.slots = wide, m2.param_floats = 11;
  CHECK(rt_ckpt_load(path, &m2, &r, err, sizeof err) == -1);
  snprintf(want, sizeof want, "%s: error: parameter 'h.W' has shape [2, 3] in the checkpoint "
           "(from model 'mlp') but [2, 4] in model 'wide'", path);
  CHECK_STR(err, want);
  nnrt_slot_desc more[] = {{"h.W", NNRT_SLOT_PARAM, 2, {2, 3}, 6, 0, NNRT_INIT_ZEROS, 0, 0},
                            {"h.b", NNRT_SLOT_PARAM, 1, {3}, 3, 6, NNRT_INIT_ZEROS, 0, 0},
                            {"out.W", NNRT_SLOT_PARAM, 2, {3, 1}, 3, 9, NNRT_INIT_ZEROS, 0, 0}};
  m2 = model, m2.name = "deeper", m2.slots = more, m2.n_slots = 3, m2.n_params = 3, m2.param_floats = 12;
  CHECK(rt_ckpt_load(path, &m2, &r, err, sizeof err) == -1);
  snprintf(want, sizeof want, "%s: error: model 'deeper' has parameter 'out.W' [3, 1], which the "
           "checkpoint (from model 'mlp') lacks", path);
  CHECK_STR(err, want);
  nnrt_slot_desc fewer[] = {{"h.W", NNRT_SLOT_PARAM, 2, {2, 3}, 6, 0, NNRT_INIT_ZEROS, 0, 0}};
  m2 = model, m2.name = "nobias", m2.slots = fewer, m2.n_slots = 1, m2.n_params = 1, m2.param_floats = 6;
  CHECK(rt_ckpt_load(path, &m2, &r, err, sizeof err) == -1);
  snprintf(want, sizeof want, "%s: error: the checkpoint (from model 'mlp') has parameter 'h.b' "
           "[3], which model 'nobias' does not have", path);
  CHECK_STR(err, want);
  m2 = model, m2.n_metrics = 1;
  CHECK(rt_ckpt_load(path, &m2, &r, err, sizeof err) == -1);
  snprintf(want, sizeof want, "%s: error: the checkpoint (from model 'mlp') has 2 metrics, model "
           "'mlp' has 1", path);
  CHECK_STR(err, want);

  /* Damaged files. */
  size_t n = 0;
  unsigned char *good = read_all(path, &n);
  CHECK(good != NULL && n > 100);
  char p2[1100];
  snprintf(p2, sizeof p2, "%s/damaged.ckpt", argv[1]);
  write_bytes(p2, good, n / 2);
  CHECK(rt_ckpt_load(p2, &model, &r, err, sizeof err) == -1);
  snprintf(want, sizeof want, "%s: error: truncated checkpoint: the file has %zu bytes, its "
           "header says %zu", p2, n / 2, n);
  CHECK_STR(err, want);
  write_bytes(p2, good, 20);
  CHECK(rt_ckpt_load(p2, &model, &r, err, sizeof err) == -1);
  snprintf(want, sizeof want, "%s: error: truncated checkpoint: 20 bytes, less than its header",
           p2);
  CHECK_STR(err, want);
  good[n / 2] ^= 0x10;
  write_bytes(p2, good, n);
  CHECK(rt_ckpt_load(p2, &model, &r, err, sizeof err) == -1);
  snprintf(want, sizeof want, "%s: error: corrupt checkpoint: checksum mismatch (stored ", p2);
  CHECK(strncmp(err, want, strlen(want)) == 0);
  good[n / 2] ^= 0x10;
  unsigned char *longer = malloc(n + 3);
  memcpy(longer, good, n);
  memset(longer + n, 0, 3);
  write_bytes(p2, longer, n + 3);
  CHECK(rt_ckpt_load(p2, &model, &r, err, sizeof err) == -1);
  snprintf(want, sizeof want, "%s: error: corrupt checkpoint: the file has %zu bytes, its header "
           "says %zu", p2, n + 3, n);
  CHECK_STR(err, want);
  good[8] = 9;
  write_bytes(p2, good, n);
  CHECK(rt_ckpt_load(p2, &model, &r, err, sizeof err) == -1);
  snprintf(want, sizeof want, "%s: error: checkpoint format version 9, but this runtime reads "
           "version 2", p2);
  CHECK_STR(err, want);
  /* A checkpoint of the format before update rules came from the language (ABI 3). */
  good[8] = 1;
  good[12] = 3;
  write_bytes(p2, good, n);
  CHECK(rt_ckpt_load(p2, &model, &r, err, sizeof err) == -1);
  snprintf(want, sizeof want, "%s: error: saved by an older nnc (checkpoint format 1, runtime ABI 3); this "
           "program (ABI %d) reads format 2: train again, or resume with the program that saved it", p2,
           NNRT_ABI_VERSION);
  CHECK_STR(err, want);
  write_bytes(p2, (const unsigned char *)"epoch,loss\n1,0.5\n", 17);
  CHECK(rt_ckpt_load(p2, &model, &r, err, sizeof err) == -1);
  snprintf(want, sizeof want, "%s: error: not a checkpoint: bad magic at byte offset 0", p2);
  CHECK_STR(err, want);
  CHECK(rt_ckpt_load("/nonexistent/c.ckpt", &model, &r, err, sizeof err) == -1);
  CHECK_STR(err, "/nonexistent/c.ckpt: error: cannot open: No such file or directory");
  /* Saving where the directory does not exist fails cleanly. */
  CHECK(rt_ckpt_save("/nonexistent/c.ckpt", &model, &s, err, sizeof err) == -1);
  CHECK(strncmp(err, "/nonexistent/c.ckpt: error: cannot create the checkpoint's temp file", 68) == 0);
  free(good);
  free(longer);
  return check_done("checkpoint");
}
