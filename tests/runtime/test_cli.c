/* test_cli.c: options settle as built-in < model train block < flags, both flag forms
 * work, and every malformed command line is refused with its exit status and words.
 * Also the descriptor checks of rt_check_model. */
#include "check.h"
#include "nnrt_internal.h"

static nnrt_tensor_desc inputs[] = {{"x", NNRT_F32, 0, {0}, 1}, {"y", NNRT_F32, 0, {0}, 1}};
static nnrt_param_desc params[] = {{"w", 0, {0}, 1, 0, NNRT_INIT_ZEROS, 0, 0},
                                   {"b", 1, {2}, 2, 1, NNRT_INIT_ZEROS, 0, 0}};

static float step(const float *p, float *g, const float *const *in, float *arena, int64_t batch,
                  int64_t max_batch) {
  (void)p, (void)g, (void)in, (void)arena, (void)batch, (void)max_batch;
  return 0;
}

static nnrt_model_desc bare(void) {
  nnrt_model_desc m = {.abi_version = NNRT_ABI_VERSION, .name = "m", .source = "/m.nn",
                       .n_inputs = 2, .inputs = inputs, .n_params = 2, .params = params,
                       .param_floats = 3, .train_step = step,
                       .defaults = {NULL, 0, {NULL}, NULL, -1, -1, -1, -1, -1}};
  return m;
}

static RtOptions o;
static char err[RT_ERR_MAX];

#define PARSE(m, ...)                                                                      \
  (err[0] = 0, rt_cli_parse(sizeof((char *[]){"train", __VA_ARGS__}) / sizeof(char *),       \
                            (char *[]){"train", __VA_ARGS__}, (m), &o, err, sizeof err))

static void expect_usage(const nnrt_model_desc *m, int rc, const char *want) {
  CHECK(rc == RT_EXIT_USAGE);
  CHECK_STR(err, want);
  (void)m;
}

int main(void) {
  nnrt_model_desc m = bare();

  /* Built-in defaults. */
  CHECK(PARSE(&m, "--data", "d.csv") == 0);
  CHECK_STR(o.data, "d.csv");
  CHECK(o.optimizer == RT_OPT_SGD && o.lr == 0.01 && o.momentum == 0.9 && o.batch == 32 &&
        o.epochs == 10 && o.seed == 42 && !o.log && !o.quiet && !o.help && !o.version);

  /* Every flag, both forms. */
  CHECK(PARSE(&m, "--data=a.csv", "--epochs", "0", "--batch=7", "--lr", "0.5",
              "--optimizer=momentum", "--momentum", "0", "--seed=18446744073709551615",
              "--log", "l.csv", "--quiet") == 0);
  CHECK_STR(o.data, "a.csv");
  CHECK_STR(o.log, "l.csv");
  CHECK(o.epochs == 0 && o.batch == 7 && o.lr == 0.5 && o.optimizer == RT_OPT_MOMENTUM &&
        o.momentum == 0 && o.seed == UINT64_MAX && o.quiet);
  CHECK(PARSE(&m, "--data", "a", "--data", "b", "--batch", "1", "--batch=2") == 0);
  CHECK_STR(o.data, "b");
  CHECK(o.batch == 2);
  CHECK(PARSE(&m, "--data", "--weird-name.csv") == 0); /* a value is taken verbatim */
  CHECK_STR(o.data, "--weird-name.csv");

  /* The model's train block, then flags over it. */
  m.defaults = (nnrt_train_defaults){"csv", 1, {"/abs/d.csv"}, "momentum", 0.05, 0.5, 8, 100, 7};
  CHECK(PARSE(&m) == 0);
  CHECK_STR(o.data, "/abs/d.csv");
  CHECK(o.data_from_model && o.optimizer == RT_OPT_MOMENTUM && o.lr == 0.05 &&
        o.momentum == 0.5 && o.batch == 8 && o.epochs == 100 && o.seed == 7);
  CHECK(PARSE(&m, "--data", "mine.csv", "--optimizer", "sgd", "--lr=1", "--batch", "3",
              "--epochs", "4", "--seed", "0", "--momentum", "0.25") == 0);
  CHECK_STR(o.data, "mine.csv");
  CHECK(!o.data_from_model && o.optimizer == RT_OPT_SGD && o.lr == 1 && o.momentum == 0.25 &&
        o.batch == 3 && o.epochs == 4 && o.seed == 0);

  /* --help and --version answer at once, whatever follows. */
  CHECK(PARSE(&m, "--help", "--bogus") == 0 && o.help);
  CHECK(PARSE(&m, "-h") == 0 && o.help);
  CHECK(PARSE(&m, "--version") == 0 && o.version && !o.help);

  /* Usage errors: exit 2. */
  expect_usage(&m, PARSE(&m, "--foo"), "unknown flag '--foo' (see --help)");
  expect_usage(&m, PARSE(&m, "--foo=3"), "unknown flag '--foo' (see --help)");
  expect_usage(&m, PARSE(&m, "-x"), "unknown flag '-x' (see --help)");
  expect_usage(&m, PARSE(&m, "--Batch", "3"), "unknown flag '--Batch' (see --help)");
  expect_usage(&m, PARSE(&m, "--bat", "3"), "unknown flag '--bat' (see --help)");
  expect_usage(&m, PARSE(&m, "data.csv"),
               "unexpected argument 'data.csv' (flags start with --; see --help)");
  expect_usage(&m, PARSE(&m, "--batch", "x"), "--batch expects a positive integer, got 'x'");
  expect_usage(&m, PARSE(&m, "--batch=0"), "--batch expects a positive integer, got '0'");
  expect_usage(&m, PARSE(&m, "--batch", "-1"), "--batch expects a positive integer, got '-1'");
  expect_usage(&m, PARSE(&m, "--batch", "2.5"), "--batch expects a positive integer, got '2.5'");
  expect_usage(&m, PARSE(&m, "--batch", " 2"), "--batch expects a positive integer, got ' 2'");
  expect_usage(&m, PARSE(&m, "--batch", "99999999999999999999"),
               "--batch expects a positive integer, got '99999999999999999999'");
  expect_usage(&m, PARSE(&m, "--batch"), "--batch expects a positive integer, got nothing");
  expect_usage(&m, PARSE(&m, "--epochs", "-3"),
               "--epochs expects a non-negative integer, got '-3'");
  expect_usage(&m, PARSE(&m, "--seed", "1e3"), "--seed expects a non-negative integer, got '1e3'");
  expect_usage(&m, PARSE(&m, "--lr", "0"), "--lr expects a positive number, got '0'");
  expect_usage(&m, PARSE(&m, "--lr", "nan"), "--lr expects a positive number, got 'nan'");
  expect_usage(&m, PARSE(&m, "--lr", "inf"), "--lr expects a positive number, got 'inf'");
  expect_usage(&m, PARSE(&m, "--lr="), "--lr expects a positive number, got ''");
  expect_usage(&m, PARSE(&m, "--lr", "0.1x"), "--lr expects a positive number, got '0.1x'");
  expect_usage(&m, PARSE(&m, "--momentum", "1"),
               "--momentum expects a number in [0, 1), got '1'");
  expect_usage(&m, PARSE(&m, "--momentum", "-0.1"),
               "--momentum expects a number in [0, 1), got '-0.1'");
  expect_usage(&m, PARSE(&m, "--optimizer", "adam"),
               "--optimizer expects one of sgd, momentum, got 'adam'");
  expect_usage(&m, PARSE(&m, "--data="), "--data expects a file name, got ''");
  expect_usage(&m, PARSE(&m, "--log"), "--log expects a file name, got nothing");
  expect_usage(&m, PARSE(&m, "--quiet=1"), "--quiet takes no value");
  expect_usage(&m, PARSE(&m, "--help=yes"), "--help takes no value");

  /* What the train block asks for and this runtime cannot do: exit 1, unless overridden. */
  m.defaults.optimizer = "adam";
  CHECK(PARSE(&m) == RT_EXIT_ERROR);
  CHECK_STR(err, "the model's train block asks for optimizer 'adam', which this runtime does "
                 "not support (it has sgd, momentum); pass --optimizer");
  CHECK(PARSE(&m, "--optimizer", "sgd") == 0);
  m.defaults.optimizer = NULL;
  m.defaults.data_format = "idx";
  CHECK(PARSE(&m) == RT_EXIT_ERROR);
  CHECK_STR(err, "the model's train block asks for idx data, which this runtime cannot read "
                 "yet (it reads csv); pass --data FILE.csv");
  CHECK(PARSE(&m, "--data", "x.csv") == 0);
  m.defaults.data_format = NULL;
  m.defaults.n_data_paths = 2;
  m.defaults.data_paths[1] = "/abs/e.csv";
  CHECK(PARSE(&m) == RT_EXIT_ERROR);
  CHECK_STR(err, "the model's train block names 2 data files, but a CSV data set is one file; "
                 "pass --data FILE");
  m = bare();
  CHECK(PARSE(&m, "--epochs", "3") == RT_EXIT_ERROR);
  CHECK_STR(err, "no training data: pass --data FILE or set data in the model's train block");

  /* Descriptor checks. */
  CHECK(rt_check_model(&m, err, sizeof err) == 0);
  m.abi_version = 2;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  CHECK_STR(err, "this model was compiled for runtime ABI version 2, but this runtime (libnnrt "
                 RT_VERSION ") implements version 1; recompile the model with the nnc that "
                 "ships this runtime");
  m = bare();
  m.param_floats = 2;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  CHECK_STR(err, "malformed model descriptor: parameter 1 (b) at offset 1 lies outside the "
                 "2-float parameter buffer (a bug in the compiler that made it)");
  m = bare();
  nnrt_tensor_desc bad_in[] = {{"x", NNRT_F32, 2, {2, 3}, 5}};
  m.inputs = bad_in, m.n_inputs = 1;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  CHECK_STR(err, "malformed model descriptor: input 0 (x) has size 5 but its dimensions "
                 "multiply to 6 (a bug in the compiler that made it)");
  m = bare();
  m.train_step = NULL;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  m = bare();
  m.n_inputs = 0;
  CHECK(rt_check_model(&m, err, sizeof err) == -1);
  return check_done("cli");
}
