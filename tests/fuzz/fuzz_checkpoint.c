/* fuzz_checkpoint.c: libFuzzer harness for checkpoint loading, as `--load FILE` does it:
 * rt_ckpt_load against a small fixed model, then the checkpoint's trajectory options
 * applied over the flags (rt_cli_apply), where the train program takes them.
 *
 * A checkpoint ends in a CRC-32 of everything before it and its header records the file's
 * length, so nearly every mutation would stop at those two checks. The harness therefore
 * rewrites both before loading (when the input starts with the magic and is long enough
 * to hold them): the fuzzer explores the parser behind them, which is where the work is.
 * The checks themselves are two comparisons, covered by the unit tests.
 *
 * On success every buffer the loader allocated is read whole (parameters, buffers,
 * optimizer state, the permutation, metric sums, the option strings), so a short one is caught, and
 * the state must be one a resumed run can use (counters not negative, the batch position
 * inside the permutation).
 */
#include "fuzz_rt.h"

/* The fixed model: two parameters, a buffer and a metric, like a small dense layer, with
 * two rules (one without state, one with two) so that both the rule and the state names
 * of a checkpoint are read against something. */
static const nnrt_tensor_desc inputs[] = {
    {"x", NNRT_F32, 1, {2}, 2, 0, NNRT_ROLE_FEATURE},
    {"y", NNRT_CLASS, 0, {0}, 1, 3, NNRT_ROLE_TARGET},
};
static const nnrt_slot_desc slots[] = {
    {"h.W", NNRT_SLOT_PARAM, 2, {2, 3}, 6, 0, NNRT_INIT_GLOROT_UNIFORM, 0, 0},
    {"h.b", NNRT_SLOT_PARAM, 1, {3}, 3, 6, NNRT_INIT_ZEROS, 0, 0},
    {"h.mean", NNRT_SLOT_BUFFER, 1, {3}, 3, 0, NNRT_INIT_ZEROS, 0, 0},
};
static const nnrt_hyper_desc sgd_hypers[] = {
    {"lr", NNRT_HYPER_NUMBER, 1, 1, 0, 1.0 / 0.0, 0.01},
};
static const nnrt_hyper_desc adam_hypers[] = {
    {"lr", NNRT_HYPER_NUMBER, 1, 1, 0, 1.0 / 0.0, 0.001},
    {"beta1", NNRT_HYPER_NUMBER, 1, 1, 0, 1, 0.9},
    {"amsgrad", NNRT_HYPER_BOOL, 0, 0, 0, 1, 0},
};
static const nnrt_state_desc adam_states[] = {
    {"exp_avg", NNRT_INIT_ZEROS, 0, 0},
    {"exp_avg_sq", NNRT_INIT_ZEROS, 0, 0},
};
static const nnrt_rule_desc rules[] = {
    {"sgd", 1, sgd_hypers, 0, NULL},
    {"adam", 3, adam_hypers, 2, adam_states},
};
static const char *const metric_names[] = {"accuracy"};
const nnrt_model_desc fuzz_checkpoint_model = {
    .abi_version = NNRT_ABI_VERSION,
    .name = "fuzzck",
    .source = "/nonexistent-nnc-fuzz/fuzzck.nn",
    .n_inputs = 2,
    .inputs = inputs,
    .n_metrics = 1,
    .metric_names = metric_names,
    .n_slots = 3,
    .n_params = 2,
    .slots = slots,
    .param_floats = 9,
    .buffer_floats = 3,
    .n_rules = 2,
    .rules = rules,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const nnrt_model_desc *m = &fuzz_checkpoint_model;
  uint8_t *copy = malloc(size + 1);
  if (!copy) abort();
  memcpy(copy, data, size);
  if (size >= 28 && memcmp(copy, RT_CKPT_MAGIC, 8) == 0) {
    int64_t total = (int64_t)size;
    memcpy(copy + 16, &total, 8);
    uint32_t crc = rt_crc32(copy, size - 4);
    memcpy(copy + size - 4, &crc, 4);
  }
  const char *path = fuzz_path(copy, size);
  free(copy);

  char err[RT_ERR_MAX] = "";
  RtTrainState s;
  if (rt_ckpt_load(path, m, &s, err, sizeof err) != 0) {
    fuzz_check_failure(err);
    return 0;
  }
  /* What a resumed run relies on: counters are counts, and a mid-epoch position lies
   * within the epoch's permutation (train.c starts its batch loop there). */
  if (s.epoch < 0 || s.t < 0 || s.seen < 0 || s.steps < 0 || s.batch_pos < 0 ||
      s.batch_pos > s.n_perm) {
    fprintf(stderr,
            "fuzz: loaded epoch %lld, update %lld, seen %lld, steps %lld, batch position %lld "
            "of %lld\n",
            (long long)s.epoch, (long long)s.t, (long long)s.seen, (long long)s.steps,
            (long long)s.batch_pos, (long long)s.n_perm);
    abort();
  }
  double sum = 0;
  for (int64_t i = 0; i < m->param_floats; i++) sum += s.params[i];
  for (int64_t i = 0; i < m->buffer_floats; i++) sum += s.buffers[i];
  for (int64_t i = 0; i < (int64_t)s.n_states * m->param_floats; i++) sum += s.state[i];
  for (int32_t i = 0; i < s.n_states; i++) sum += (double)strlen(s.state_names[i]);
  for (int32_t i = 0; i < m->n_metrics; i++) sum += s.metric_sums[i];
  for (int64_t i = 0; i < s.n_perm; i++) {
    if (s.perm[i] < 0 || s.perm[i] >= s.n_perm) {
      fprintf(stderr, "fuzz: the permutation holds %lld of %lld\n", (long long)s.perm[i],
              (long long)s.n_perm);
      abort();
    }
    sum += (double)s.perm[i];
  }
  sum += (double)strlen(s.rule);
  for (int32_t i = 0; i < s.n_options; i++)
    sum += (double)(strlen(s.keys[i]) + strlen(s.values[i]));
  fuzz_sink = sum;

  /* The options, as a resumed run applies them under the flags. */
  char *argv[] = {"train", "--data", "csv:/nonexistent-nnc-fuzz/data.csv", NULL};
  RtOptions o;
  memset(&o, 0, sizeof o);
  if (rt_cli_parse(3, argv, m, &o, err, sizeof err) != 0) {
    fprintf(stderr, "fuzz: the harness's own flags are refused: %s\n", err);
    abort();
  }
  o.load = path;
  err[0] = 0;
  if (rt_cli_apply(&o, m, s.n_options, s.keys, s.values, RT_FROM_CHECKPOINT, "the checkpoint",
                   err, sizeof err) != 0)
    fuzz_check_failure(err);
  rt_ckpt_free(&s);
  return 0;
}
