/* test_cli.c: options settle as built-in < model train block < checkpoint < flags, both
 * flag forms work, every option has a value check, and every malformed command line or
 * train block is refused with its exit status and words; the update rule's
 * hyperparameters are flags of the rule the run uses, checked by the descriptor's
 * domains. Also the descriptor checks of rt_check_model. (The rules are the fake models'
 * four, fake_model.h.) */
#include "check.h"
#include "fake_model.h"
#include "nnrt_internal.h"

static nnrt_tensor_desc inputs[] = {{"x", NNRT_F32, 0, {0}, 1, 0, NNRT_ROLE_FEATURE},
                                    {"y", NNRT_F32, 0, {0}, 1, 0, NNRT_ROLE_TARGET}};
static nnrt_slot_desc params[] = {{"w", NNRT_SLOT_PARAM, 0, {0}, 1, 0, NNRT_INIT_ZEROS, 0, 0},
                                  {"b", NNRT_SLOT_PARAM, 1, {2}, 2, 1, NNRT_INIT_ZEROS, 0, 0}};
static const char *const metric_names[] = {"accuracy"};

static float entry(nnrt_step *s) {
  (void)s;
  return 0;
}

static nnrt_model_desc bare(void) {
  nnrt_model_desc m = {.abi_version = NNRT_ABI_VERSION, .name = "m", .source = "/m.nn",
                       .n_inputs = 2, .inputs = inputs, .n_slots = 2, .n_params = 2, .slots = params,
                       .param_floats = 3, .n_metrics = 1, .metric_names = metric_names,
                       .n_rules = 4, .rules = fake_rules, .train = entry, .gradient = entry,
                       .apply_update = entry, .evaluate = entry, .predict = entry};
  return m;
}

/* hyperparameter k of the run's rule, by name; NAN if it has none */
static double hyper(const nnrt_model_desc *m, const RtOptions *o, const char *name) {
  int32_t k = rt_hyper_find(&m->rules[o->rule], name, strlen(name));
  return k < 0 ? NAN : o->hyper[k];
}
#define RULE(m, o) ((m)->rules[(o).rule].name)

static RtOptions o;
static char err[RT_ERR_MAX];

#define PARSE(m, ...)                                                                      \
  (err[0] = 0, rt_cli_parse(sizeof((char *[]){"train", __VA_ARGS__}) / sizeof(char *),       \
                            (char *[]){"train", __VA_ARGS__}, (m), &o, err, sizeof err))

static void expect_usage(int rc, const char *want) {
  CHECK(rc == RT_EXIT_USAGE);
  CHECK_STR(err, want);
}

static void expect_error(int rc, const char *want) {
  CHECK(rc == RT_EXIT_ERROR);
  CHECK_STR(err, want);
}

int main(void) {
  nnrt_model_desc m = bare();

  /* Built-in defaults. */
  CHECK(PARSE(&m, "--data", "d.csv") == 0);
  CHECK_STR(o.data, "d.csv");
  CHECK(o.mode == RT_MODE_TRAIN && o.rule == 0 && hyper(&m, &o, "lr") == 0.01 &&
        hyper(&m, &o, "weight_decay") == 0 && o.batch == 32 && o.epochs == 10 && o.seed == 42 && !o.log &&
        !o.quiet && !o.help && !o.version && o.accumulate == 1 && o.schedule == RT_SCHED_CONSTANT &&
        o.gamma == 0.1 && o.patience == 0 && o.limit == 0 && !o.drop_last && o.threads == 0);
  CHECK_STR(RULE(&m, o), "sgd");
  CHECK_STR(o.monitor, "val_loss");
  CHECK(o.from[0] == RT_FROM_FLAG);

  /* Every flag, both forms. */
  CHECK(PARSE(&m, "--data=a.csv", "--epochs", "0", "--batch=7", "--lr", "0.5",
              "--momentum", "0", "--optimizer=momentum", "--seed=18446744073709551615",
              "--log", "l.csv", "--quiet", "--val", "npy:v.npy,w.npy", "--limit", "100",
              "--drop-last", "--threads", "2", "--weight-decay", "0.01", "--l1", "0.001",
              "--clip-norm", "5", "--accumulate", "4", "--schedule", "multistep",
              "--milestones", "3,6", "--step-size", "2", "--gamma", "0.5", "--power", "2",
              "--decay-steps", "100", "--end-lr", "0.001", "--warmup", "10", "--patience", "3",
              "--monitor", "val_accuracy", "--min-delta", "0.01", "--log-every", "50",
              "--save", "c.ckpt", "--save-every", "2", "--load", "b.ckpt", "--delimiter", ";",
              "--columns", "1,2") == 0);
  CHECK_STR(o.data, "a.csv");
  CHECK_STR(o.val, "npy:v.npy,w.npy");
  CHECK_STR(o.log, "l.csv");
  CHECK_STR(o.save, "c.ckpt");
  CHECK_STR(o.load, "b.ckpt");
  CHECK_STR(o.monitor, "val_accuracy");
  CHECK_STR(o.delimiter, ";");
  CHECK_STR(o.columns, "1,2");
  CHECK_STR(RULE(&m, o), "momentum");
  CHECK(o.epochs == 0 && o.batch == 7 && hyper(&m, &o, "lr") == 0.5 &&
        hyper(&m, &o, "momentum") == 0 && o.seed == UINT64_MAX && o.quiet && o.limit == 100 && o.drop_last &&
        o.threads == 2 && hyper(&m, &o, "weight_decay") == 0.01 && hyper(&m, &o, "l1") == 0.001 && o.clip_norm == 5 &&
        o.accumulate == 4 && o.schedule == RT_SCHED_MULTISTEP && o.n_milestones == 2 &&
        o.milestone_v[1] == 6 && o.step_size == 2 && o.gamma == 0.5 && o.power == 2 &&
        o.decay_steps == 100 && o.end_lr == 0.001 && o.warmup == 10 && o.patience == 3 &&
        o.min_delta == 0.01 && o.log_every == 50 && o.save_every == 2);
  CHECK(PARSE(&m, "--data", "a", "--data", "b", "--batch", "1", "--batch=2") == 0);
  CHECK_STR(o.data, "b");
  CHECK(o.batch == 2);
  CHECK(PARSE(&m, "--data", "d", "--batch", "all", "--validate", "v.csv") == 0);
  CHECK(o.batch == 0);
  CHECK_STR(o.val, "v.csv");
  CHECK(PARSE(&m, "--data", "d", "--val-split", "0.1", "--optimizer", "rmsprop", "--centered=false") == 0);
  CHECK(o.val_split == 0.1 && hyper(&m, &o, "centered") == 0);
  CHECK(PARSE(&m, "--data", "d", "--centered", "--rho", "0.95", "--eps=1e-8", "--optimizer", "rmsprop") == 0);
  CHECK(hyper(&m, &o, "centered") == 1 && hyper(&m, &o, "rho") == 0.95 && hyper(&m, &o, "eps") == 1e-8);
  CHECK(PARSE(&m, "--data", "d", "--optimizer", "adam", "--beta1", "0.8", "--beta2", "0.99") == 0);
  CHECK(hyper(&m, &o, "beta1") == 0.8 && hyper(&m, &o, "beta2") == 0.99 && hyper(&m, &o, "lr") == 0.001);
  CHECK(PARSE(&m, "--data", "--weird-name.csv") == 0); /* a value is taken verbatim */
  CHECK_STR(o.data, "--weird-name.csv");

  /* Subcommands. */
  CHECK(PARSE(&m, "eval", "--load", "c", "--data", "d") == 0 && o.mode == RT_MODE_EVAL);
  CHECK(PARSE(&m, "predict", "--load", "c", "--data", "d") == 0 && o.mode == RT_MODE_PREDICT);
  CHECK(PARSE(&m, "train", "--data", "d") == 0 && o.mode == RT_MODE_TRAIN);
  expect_usage(PARSE(&m, "eval", "--data", "d"),
               "eval needs --load FILE (a checkpoint written by --save)");
  expect_usage(PARSE(&m, "predict", "--data", "d"),
               "predict needs --load FILE (a checkpoint written by --save)");
  expect_error(PARSE(&m, "predict", "--load", "c"),
               "no input data: pass --data SOURCE or set data in the model's train block");

  /* The model's train block (keys with '_' or '-'), then flags over it. */
  nnrt_option opts[] = {{"data", "idx:/abs/i.gz,/abs/l.gz"}, {"val", "idx:/abs/t.gz,/abs/u.gz"},
                        {"optimizer", "rmsprop"}, {"lr", "0.001"}, {"batch", "128"},
                        {"epochs", "5"}, {"seed", "7"}, {"weight_decay", "0.0001"},
                        {"clip-norm", "1"}, {"centered", "true"}};
  m.options = opts, m.n_options = 10;
  CHECK(PARSE(&m) == 0);
  CHECK_STR(o.data, "idx:/abs/i.gz,/abs/l.gz");
  CHECK_STR(o.val, "idx:/abs/t.gz,/abs/u.gz");
  CHECK_STR(RULE(&m, o), "rmsprop");
  CHECK(hyper(&m, &o, "lr") == 0.001 && o.batch == 128 && o.epochs == 5 &&
        o.seed == 7 && hyper(&m, &o, "weight_decay") == 0.0001 && o.clip_norm == 1 && hyper(&m, &o, "centered") == 1);
  CHECK(o.from[0] == RT_FROM_MODEL);
  {
    int32_t k = rt_hyper_find(&m.rules[o.rule], "lr", 2);
    CHECK(o.hyper_from[k] == RT_FROM_MODEL);
    k = rt_hyper_find(&m.rules[o.rule], "rho", 3);
    CHECK(o.hyper_from[k] == RT_FROM_BUILTIN);
  }
  CHECK(PARSE(&m, "--data", "mine.csv", "--optimizer", "sgd", "--lr=1", "--batch", "3",
              "--epochs", "4", "--seed", "0") == 0);
  CHECK_STR(o.data, "mine.csv");
  CHECK_STR(RULE(&m, o), "sgd");
  CHECK(hyper(&m, &o, "lr") == 1 && o.batch == 3 && o.epochs == 4 && o.seed == 0);
  /* the block's settings of its rule that the flag's rule has too are kept, with a note */
  CHECK(hyper(&m, &o, "weight_decay") == 0.0001);
  CHECK(rt_cli_note(&o, &m, err, sizeof err) == 1);
  CHECK_STR(err, "--optimizer sgd keeps the train block's weight_decay 0.0001 (sgd's default: --weight-decay 0)");
  CHECK(PARSE(&m, "--data", "d", "--optimizer", "rmsprop") == 0 && rt_cli_note(&o, &m, err, sizeof err) == 0);
  CHECK(o.from[0] == RT_FROM_FLAG);
  /* eval defaults to the model's data; the train program picks val for it (predict.c). */
  CHECK(PARSE(&m, "eval", "--load", "c") == 0);

  /* The train block may spell val as validate (the .nn keyword). */
  nnrt_option alias[] = {{"data", "d"}, {"validate", "idx:/v,/w"}};
  m.options = alias, m.n_options = 2;
  CHECK(PARSE(&m) == 0);
  CHECK_STR(o.val, "idx:/v,/w");
  m.options = opts, m.n_options = 10;

  /* A checkpoint layer applies below the flags only. */
  CHECK(PARSE(&m, "--lr", "0.5") == 0);
  const char *ck_keys[] = {"lr", "batch", "optimizer"}, *ck_vals[] = {"0.25", "all", "adam"};
  CHECK(rt_cli_apply(&o, &m, 3, ck_keys, ck_vals, RT_FROM_CHECKPOINT, "the checkpoint", err,
                     sizeof err) == 0);
  CHECK(hyper(&m, &o, "lr") == 0.5 && o.batch == 0);
  CHECK_STR(RULE(&m, o), "adam");
  const char *bad_keys[] = {"nope"}, *bad_vals[] = {"1"};
  CHECK(rt_cli_apply(&o, &m, 1, bad_keys, bad_vals, RT_FROM_CHECKPOINT, "the checkpoint", err,
                     sizeof err) == RT_EXIT_ERROR);
  CHECK_STR(err, "the checkpoint sets 'nope', which this runtime does not know (see --help)");

  /* Trajectory options round-trip through their spelling. */
  CHECK(PARSE(&m, "--lr", "0.1", "--momentum", "0.3", "--milestones", "2,4",
              "--schedule", "step", "--optimizer", "rmsprop") == 0);
  const char *keys[RT_CKPT_MAX_OPTIONS], *vals[RT_CKPT_MAX_OPTIONS];
  char store[4096];
  int n = rt_cli_trajectory(&o, &m, keys, vals, RT_CKPT_MAX_OPTIONS, store, sizeof store);
  CHECK(n > 20);
  RtOptions copy = o;

  RtOptions fresh;
  char e2[RT_ERR_MAX];
  {
    char *argv[] = {"train", "--data", "x"};
    CHECK(rt_cli_parse(3, argv, &m, &fresh, e2, sizeof e2) == 0);
  }
  CHECK(rt_cli_apply(&fresh, &m, n, keys, vals, RT_FROM_CHECKPOINT, "the checkpoint", e2,
                     sizeof e2) == 0);
  CHECK(fresh.rule == copy.rule && memcmp(fresh.hyper, copy.hyper, sizeof fresh.hyper) == 0 &&
        fresh.batch == copy.batch && fresh.seed == copy.seed && fresh.schedule == copy.schedule &&
        fresh.n_milestones == 2 && hyper(&m, &fresh, "momentum") == 0.3);
  int found_lr = 0;
  for (int i = 0; i < n; i++)
    if (strcmp(keys[i], "lr") == 0) found_lr = strcmp(vals[i], "0.1") == 0;
  CHECK(found_lr);

  /* --help and --version answer at once, whatever follows. */
  CHECK(PARSE(&m, "--help", "--bogus") == 0 && o.help);
  CHECK(PARSE(&m, "-h") == 0 && o.help);
  CHECK(PARSE(&m, "--version") == 0 && o.version && !o.help);

  /* Usage errors: exit 2. */
  m = bare();
  expect_usage(PARSE(&m, "--foo"), "unknown flag '--foo' (see --help)");
  expect_usage(PARSE(&m, "--foo=3"), "unknown flag '--foo' (see --help)");
  expect_usage(PARSE(&m, "-x"), "unknown flag '-x' (see --help)");
  expect_usage(PARSE(&m, "--Batch", "3"), "unknown flag '--Batch' (see --help)");
  expect_usage(PARSE(&m, "--bat", "3"), "unknown flag '--bat' (see --help)");
  expect_usage(PARSE(&m, "--weight_decay", "3"), "unknown flag '--weight_decay' (see --help)");
  expect_usage(PARSE(&m, "data.csv"),
               "unexpected argument 'data.csv' (flags start with --; the subcommands eval and "
               "predict come first; see --help)");
  expect_usage(PARSE(&m, "--data", "d", "eval"),
               "unexpected argument 'eval' (flags start with --; the subcommands eval and "
               "predict come first; see --help)");
  expect_usage(PARSE(&m, "--batch", "x"), "--batch expects a positive integer or 'all', got 'x'");
  expect_usage(PARSE(&m, "--batch=0"), "--batch expects a positive integer or 'all', got '0'");
  expect_usage(PARSE(&m, "--batch", "-1"), "--batch expects a positive integer or 'all', got '-1'");
  expect_usage(PARSE(&m, "--batch", "2.5"), "--batch expects a positive integer or 'all', got '2.5'");
  expect_usage(PARSE(&m, "--batch", " 2"), "--batch expects a positive integer or 'all', got ' 2'");
  expect_usage(PARSE(&m, "--batch", "99999999999999999999"),
               "--batch expects a positive integer or 'all', got '99999999999999999999'");
  expect_usage(PARSE(&m, "--batch"), "--batch expects a positive integer or 'all', got nothing");
  expect_usage(PARSE(&m, "--epochs", "-3"), "--epochs expects a non-negative integer, got '-3'");
  expect_usage(PARSE(&m, "--seed", "1e3"), "--seed expects a non-negative integer, got '1e3'");
  expect_usage(PARSE(&m, "--data", "d", "--lr", "0"), "--lr expects a number in (0, inf), got '0'");
  expect_usage(PARSE(&m, "--data", "d", "--lr", "nan"), "--lr expects a number in (0, inf), got 'nan'");
  expect_usage(PARSE(&m, "--data", "d", "--lr", "inf"), "--lr expects a number in (0, inf), got 'inf'");
  expect_usage(PARSE(&m, "--data", "d", "--lr="), "--lr expects a number in (0, inf), got ''");
  expect_usage(PARSE(&m, "--data", "d", "--lr", "0.1x"), "--lr expects a number in (0, inf), got '0.1x'");
  expect_usage(PARSE(&m, "--lr"), "--lr expects a value, got nothing");
  expect_usage(PARSE(&m, "--data", "d", "--optimizer", "momentum", "--momentum", "1"),
               "--momentum expects a number in [0, 1), got '1'");
  expect_usage(PARSE(&m, "--data", "d", "--momentum", "-0.1", "--optimizer", "momentum"),
               "--momentum expects a number in [0, 1), got '-0.1'");
  expect_usage(PARSE(&m, "--data", "d", "--optimizer", "rmsprop", "--rho", "1"),
               "--rho expects a number in (0, 1), got '1'");
  expect_usage(PARSE(&m, "--data", "d", "--optimizer", "adam", "--beta2", "0"),
               "--beta2 expects a number in (0, 1), got '0'");
  expect_usage(PARSE(&m, "--data", "d", "--weight-decay", "-1"),
               "--weight-decay expects a number in [0, inf), got '-1'");
  /* a setting of another rule than the run's */
  expect_usage(PARSE(&m, "--data", "d", "--rho", "0.5"),
               "--rho is not a setting of optimizer 'sgd' (its settings: lr, weight_decay, l1)");
  expect_usage(PARSE(&m, "--val-split", "1"), "--val-split expects a number in [0, 1), got '1'");
  expect_usage(PARSE(&m, "--accumulate", "0"), "--accumulate expects a positive integer, got '0'");
  expect_usage(PARSE(&m, "--data", "d", "--optimizer", "adamax"),
               "--optimizer expects one of the model's optimizers (sgd, momentum, rmsprop, adam), got 'adamax'");
  expect_usage(PARSE(&m, "--schedule", "linear"),
               "--schedule expects one of constant, step, multistep, exponential, inverse, "
               "polynomial, cosine, got 'linear'");
  expect_usage(PARSE(&m, "--milestones", "6,3"),
               "--milestones expects increasing positive integers separated by commas, got '6,3'");
  expect_usage(PARSE(&m, "--data", "d", "--schedule", "multistep"),
               "--schedule multistep needs --milestones (e.g. --milestones 3,6)");
  expect_usage(PARSE(&m, "--delimiter", "ab"), "--delimiter expects one character, or 'tab', got 'ab'");
  expect_usage(PARSE(&m, "--data", "d", "--optimizer", "rmsprop", "--centered=maybe"),
               "--centered expects true or false, got 'maybe'");
  expect_usage(PARSE(&m, "--data", "d", "--optimizer", "rmsprop", "--centered=0.5"),
               "--centered expects true or false, got '0.5'");
  expect_usage(PARSE(&m, "--quiet=1x"), "--quiet expects true or false, got '1x'");
  expect_usage(PARSE(&m, "--data="),
               "--data expects [FORMAT:]PATH[,PATH...] (FORMAT csv, idx or npy), got ''");
  expect_usage(PARSE(&m, "--log"), "--log expects a file name, got nothing");
  expect_usage(PARSE(&m, "--help=yes"), "--help takes no value");
  expect_usage(PARSE(&m, "--data", "d", "--val", "v", "--val-split", "0.2"),
               "--val and --val-split both ask for validation data; give one");
  expect_usage(PARSE(&m, "--data", "d", "--monitor", "val_f1"),
               "--monitor expects one of loss, val_loss, accuracy, val_accuracy, got 'val_f1'");
  expect_usage(PARSE(&m, "--data", "d", "--patience", "2"),
               "--patience watches val_loss, but there is no validation data: pass --val or "
               "--val-split, or --monitor loss");
  CHECK(PARSE(&m, "--data", "d", "--patience", "2", "--monitor", "accuracy") == 0);

  /* What the train block gets wrong: exit 1, unless a flag overrides it. */
  nnrt_option bad[] = {{"optimizer", "adamax"}};
  m.options = bad, m.n_options = 1;
  expect_error(PARSE(&m, "--data", "d"),
               "the model's train block sets optimizer to 'adamax', which this model has no rule for (it has "
               "sgd, momentum, rmsprop, adam)");
  CHECK(PARSE(&m, "--data", "d", "--optimizer", "sgd") == 0);
  nnrt_option badlr[] = {{"lr", "-1"}};
  m.options = badlr, m.n_options = 1;
  expect_error(PARSE(&m, "--data", "d"), "the model's train block sets lr to '-1': expected a number in (0, inf)");
  CHECK(PARSE(&m, "--data", "d", "--lr", "0.5") == 0 && hyper(&m, &o, "lr") == 0.5);
  /* a schedule needs a rate to set */
  static const nnrt_rule_desc no_lr[] = {{"fixed", 0, NULL, 0, NULL}};
  m = bare();
  m.rules = no_lr, m.n_rules = 1;
  expect_usage(PARSE(&m, "--data", "d", "--schedule", "cosine"),
               "--schedule and --warmup set the learning rate, but optimizer 'fixed' has no lr");
  m.n_rules = 0;
  expect_error(PARSE(&m, "--data", "d"), "this model was compiled without an optimizer to train with");
  m = bare();
  nnrt_option unknown[] = {{"lr", "0.1"}, {"learning_rate", "0.1"}};
  m.options = unknown, m.n_options = 2;
  expect_error(PARSE(&m, "--data", "d"),
               "the model's train block sets 'learning_rate', which this runtime does not know "
               "(see --help)");
  nnrt_option badbatch[] = {{"batch", "0"}};
  m.options = badbatch, m.n_options = 1;
  expect_error(PARSE(&m, "--data", "d"),
               "the model's train block sets batch to '0': expected a positive integer or 'all'");
  m = bare();
  expect_error(PARSE(&m, "--epochs", "3"),
               "no training data: pass --data SOURCE or set data in the model's train block");

  /* Descriptor checks. */
  CHECK(rt_check_model(&m, err, sizeof err) == 0);
  m.abi_version = 1;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  char want[256];
  snprintf(want, sizeof want, "this model was compiled for runtime ABI version 1, but this runtime "
           "(libnnrt " RT_VERSION ") implements version %d; recompile the model with the nnc that "
           "ships this runtime", NNRT_ABI_VERSION);
  CHECK_STR(err, want);
  m = bare();
  m.param_floats = 2;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  CHECK_STR(err, "malformed model descriptor: parameter 1 (b) at offset 1 lies outside the "
                 "2-float parameter buffer (a bug in the compiler that made it)");
  m = bare();
  nnrt_tensor_desc bad_in[] = {{"x", NNRT_F32, 2, {2, 3}, 5, 0, NNRT_ROLE_FEATURE}};
  m.inputs = bad_in, m.n_inputs = 1;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  CHECK_STR(err, "malformed model descriptor: input 0 (x) has size 5 but its dimensions "
                 "multiply to 6 (a bug in the compiler that made it)");
  nnrt_tensor_desc bad_cls[] = {{"y", NNRT_CLASS, 0, {0}, 1, 0, NNRT_ROLE_TARGET}};
  m.inputs = bad_cls;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  CHECK_STR(err, "malformed model descriptor: input 0 (y) is a class label with 0 classes and 1 "
                 "values per sample (a bug in the compiler that made it)");
  nnrt_tensor_desc bad_role[] = {{"y", NNRT_F32, 0, {0}, 1, 0, 7}};
  m.inputs = bad_role;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  CHECK_STR(err, "malformed model descriptor: input 0 (y) has role 7 (a bug in the compiler "
                 "that made it)");
  m = bare();
  m.train = NULL;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  m = bare();
  m.evaluate = NULL;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  CHECK_STR(err, "malformed model descriptor: the model lacks an entry point (a bug in the compiler "
                 "that made it)");
  /* a rule's hyperparameters: a default outside its domain, a name of the program's flags */
  m = bare();
  nnrt_hyper_desc bad_h[] = {{"lr", NNRT_HYPER_NUMBER, 1, 1, 0, 1, 2}};
  nnrt_rule_desc bad_r[] = {{"r", 1, bad_h, 0, NULL}};
  m.rules = bad_r, m.n_rules = 1;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  CHECK_STR(err, "malformed model descriptor: update rule 0 (r)'s hyperparameter 'lr' has the default 2 outside "
                 "its domain (a bug in the compiler that made it)");
  nnrt_hyper_desc flag_h[] = {{"batch", NNRT_HYPER_NUMBER, 1, 1, 0, 1, 0.5}};
  bad_r[0].hypers = flag_h;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  CHECK_STR(err, "malformed model descriptor: update rule 0 (r)'s hyperparameter 'batch' has the name of a flag "
                 "of the train program (a bug in the compiler that made it)");
  nnrt_rule_desc twice[] = {{"r", 0, NULL, 0, NULL}, {"r", 0, NULL, 0, NULL}};
  m.rules = twice, m.n_rules = 2;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  CHECK_STR(err, "malformed model descriptor: update rule 1 (r) is named twice (a bug in the compiler that "
                 "made it)");
  m = bare();
  m.n_inputs = 0;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  m = bare();
  nnrt_option nullv[] = {{"lr", NULL}};
  m.options = nullv, m.n_options = 1;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  CHECK_STR(err, "malformed model descriptor: train block option 0 has no value (a bug in the "
                 "compiler that made it)");



  return check_done("cli");
}
