/* driver.c: the nnc command: runs the pipeline, stops where --emit says, links ./train.
 *
 *   source -> tokens -> AST -> forward graph -> + backward graph -> DCE/CSE
 *          -> LLVM IR -> optimised -> objects -> cc objects libnnrt.a -> executable
 *
 * (two objects, made on two threads: the training entry points', and the update rules',
 * evaluate's and predict's; --emit=llvm, asm and obj give the two as one module)
 *
 * Every stage can be printed (--emit), so each is observable and pinned by lit tests.
 * Exit status: 0 success, 1 an error in the user's model or files, 2 a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <llvm-c/Core.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nnc.h"

#ifndef NNC_VERSION
#define NNC_VERSION "0.0.0"
#endif
#ifndef NNC_LINK_EXTRA
#define NNC_LINK_EXTRA ""
#endif

typedef enum {
  EMIT_EXE, EMIT_TOKENS, EMIT_AST, EMIT_GRAPH, EMIT_GRAD, EMIT_RULES, EMIT_DOT, EMIT_PLAN, EMIT_LLVM, EMIT_ASM,
  EMIT_OBJ
} EmitKind;

static const char *const emit_names[] = {"exe", "tokens", "ast", "graph", "grad", "rules", "dot",
                                         "plan", "llvm", "asm", "obj"};

/* --interpret and --check-grad run the model in the reference interpreter instead of
 * compiling it. */
typedef enum { MODE_COMPILE, MODE_INTERPRET, MODE_CHECK_GRAD } Mode;

typedef struct Options {
  const char *input;
  Mode mode;
  int64_t batch;          /* 0: the mode's default */
  uint64_t seed;
  double tolerance;       /* --check-grad */
  int64_t max_elements;   /* --check-grad: elements checked per parameter, 0 = all */
  int random_params;      /* -1: the mode's default; 0: initialisers; 1: uniform random */
  const char *reference;  /* --interpret --write-reference FILE */
  const char *output;
  EmitKind emit;
  int opt_level;
  const char *target_cpu;
  const char **include_dirs;
  int ninclude, include_cap;
} Options;

static void usage(FILE *out) {
  fprintf(out,
          "usage: nnc [options] MODEL.nn\n"
          "\n"
          "Compiles a model file into a native training program (./train by default is\n"
          "named after the model file: xor.nn -> xor).\n"
          "\n"
          "options:\n"
          "  -o FILE           write the program (or the --emit output) to FILE\n"
          "  --emit=STAGE      stop after STAGE and print it: tokens, ast, graph (the\n"
          "                    forward graph), grad (forward + backward graph; both mark\n"
          "                    the nodes fused into a consumer's loop), rules (the update\n"
          "                    rules compiled in, as IR), dot (Graphviz of\n"
          "                    both), plan (where each value lives: arena slots, reuse,\n"
          "                    fusion), llvm (optimised LLVM IR), asm, obj (object file;\n"
          "                    written to MODEL.o unless -o is given)\n"
          "  -O0, -O1, -O2, -O3  LLVM optimisation level (default -O2; -O3 compiles longer and\n"
          "                    made no step of the flagship faster)\n"
          "  --target-cpu=CPU  generate code for CPU (default: this machine's CPU)\n"
          "  -I DIR            add DIR to the import search path\n"
          "  --interpret       run one training step in the reference interpreter (double\n"
          "                    precision) on random inputs; print the loss, metrics,\n"
          "                    outputs and each parameter's gradient\n"
          "  --check-grad      compare every parameter's symbolic gradient with central\n"
          "                    finite differences of the interpreted loss; exit 1 on FAIL\n"
          "  --batch N         the batch size for both (default 4 and 3)\n"
          "  --seed S          the seed of the random parameters and inputs (default 1)\n"
          "  --params=KIND     init: draw parameters from their initialisers (--interpret's\n"
          "                    default); random: uniform in +-1/sqrt(fan_in) (--check-grad's)\n"
          "  --tolerance T     --check-grad's bound on the relative error (default 1e-5)\n"
          "  --max-elements N  --check-grad checks at most N random elements of each\n"
          "                    parameter (default 2000; 0: all)\n"
          "  --write-reference FILE  with --interpret: write the parameters, inputs and the\n"
          "                    interpreter's results to FILE for tests/tools/difftest\n"
          "  --help            print this help and exit\n"
          "  --version         print the version and exit\n"
          "\n"
          "environment: CC is the C compiler that links the program (default cc).\n"
          "exit status: 0 success, 1 error in the model or its files, 2 usage error.\n");
}

static _Noreturn void usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "nnc: error: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nTry 'nnc --help'.\n");
  exit(2);
}

/* The value of `--name VALUE` or `--name=VALUE` when argv[*i] is that flag, else NULL. */
static const char *flag_value(int argc, char **argv, int *i, const char *name) {
  size_t n = strlen(name);
  if (strncmp(argv[*i], name, n) != 0) return NULL;
  if (argv[*i][n] == '=') return argv[*i] + n + 1;
  if (argv[*i][n]) return NULL;
  if (++*i == argc) usage_error("%s needs a value", name);
  return argv[*i];
}

/* A flag's number: at least lo, and whole when `whole` (a batch, a seed, a count). */
static double number_arg(const char *flag, const char *v, double lo, bool whole) {
  char *end;
  double x = strtod(v, &end);
  if (end == v || *end || !(x >= lo) || x > 1e15 || (whole && x != floor(x))) usage_error("bad value for %s", flag);
  return x;
}

static void parse_args(int argc, char **argv, Options *o) {
  o->opt_level = 2; /* -O3's pipeline: longer to compile, no faster step (bench) */
  o->seed = 1;
  o->tolerance = 1e-5;
  o->max_elements = 2000;
  o->random_params = -1;
  bool reference_flag = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (strcmp(a, "--interpret") == 0 || strcmp(a, "--check-grad") == 0) {
      o->mode = a[2] == 'i' ? MODE_INTERPRET : MODE_CHECK_GRAD;
    } else if ((v = flag_value(argc, argv, &i, "--batch"))) {
      o->batch = (int64_t)number_arg("--batch", v, 1, true);
      reference_flag = true;
    } else if ((v = flag_value(argc, argv, &i, "--seed"))) {
      o->seed = (uint64_t)number_arg("--seed", v, 0, true);
      reference_flag = true;
    } else if ((v = flag_value(argc, argv, &i, "--tolerance"))) {
      o->tolerance = number_arg("--tolerance", v, 0, false);
      reference_flag = true;
    } else if ((v = flag_value(argc, argv, &i, "--max-elements"))) {
      o->max_elements = (int64_t)number_arg("--max-elements", v, 0, true);
      reference_flag = true;
    } else if ((v = flag_value(argc, argv, &i, "--params"))) {
      if (strcmp(v, "init") != 0 && strcmp(v, "random") != 0)
        usage_error("unknown --params '%s'; expected init or random", v);
      o->random_params = v[0] == 'r';
      reference_flag = true;
    } else if ((v = flag_value(argc, argv, &i, "--write-reference"))) {
      o->reference = v;
      reference_flag = true;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      exit(0);
    } else if (strcmp(a, "--version") == 0) {
      unsigned major, minor, patch;
      LLVMGetVersion(&major, &minor, &patch);
      printf("nnc %s (LLVM %u.%u.%u)\n", NNC_VERSION, major, minor, patch);
      exit(0);
    } else if (strcmp(a, "-o") == 0) {
      if (++i == argc) usage_error("%s needs a file name", a);
      o->output = argv[i];
    } else if (strncmp(a, "--emit=", 7) == 0) {
      int k = -1;
      for (int j = 1; j < (int)(sizeof emit_names / sizeof *emit_names); j++)
        if (strcmp(a + 7, emit_names[j]) == 0) k = j;
      if (k < 0)
        usage_error("unknown --emit stage '%s'; expected tokens, ast, graph, grad, rules, dot, plan, llvm, asm "
                    "or obj",
                    a + 7);
      o->emit = (EmitKind)k;
    } else if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && !a[3]) {
      o->opt_level = a[2] - '0';
    } else if (strncmp(a, "--target-cpu=", 13) == 0) {
      if (!a[13]) usage_error("%s needs a CPU name", "--target-cpu");
      o->target_cpu = a + 13;
    } else if (strcmp(a, "-I") == 0 || strncmp(a, "-I", 2) == 0) {
      const char *dir = a[2] ? a + 2 : (++i < argc ? argv[i] : NULL);
      if (!dir) usage_error("%s needs a directory", "-I");
      vec_push(&o->include_dirs, &o->ninclude, &o->include_cap, dir);
    } else if (a[0] == '-' && a[1]) {
      usage_error("unknown option '%s'", a);
    } else if (o->input) {
      usage_error("more than one input file ('%s')", a);
    } else {
      o->input = a;
    }
  }
  if (!o->input) usage_error("%s", "no input file");
  if (reference_flag && o->mode == MODE_COMPILE)
    usage_error("%s", "--batch, --seed, --params, --tolerance, --max-elements and --write-reference "
                      "go with --interpret or --check-grad");
  if (o->mode != MODE_COMPILE && (o->emit != EMIT_EXE || o->output))
    usage_error("%s", "--interpret and --check-grad take neither --emit nor -o");
  if (o->reference && o->mode != MODE_INTERPRET) usage_error("%s", "--write-reference goes with --interpret");
  if (!o->batch) o->batch = o->mode == MODE_INTERPRET ? 4 : 3;
  if (o->random_params < 0) o->random_params = o->mode == MODE_CHECK_GRAD;
}

/* Where stage output goes: -o FILE or stdout. */
static FILE *open_output(const Options *o) {
  if (!o->output || strcmp(o->output, "-") == 0) return stdout;
  FILE *f = fopen(o->output, "w");
  if (!f) {
    fprintf(stderr, "nnc: error: cannot write '%s': %s\n", o->output, strerror(errno));
    exit(1);
  }
  return f;
}

static int close_output(FILE *f) {
  if (f == stdout) return fflush(f) == 0 ? 0 : 1;
  return fclose(f) == 0 ? 0 : 1;
}

/* MODEL.nn -> MODEL (+ suffix), in the current directory. */
static char *default_output(const char *input, const char *suffix) {
  const char *base = strrchr(input, '/');
  base = base ? base + 1 : input;
  size_t n = strlen(base);
  if (n > 3 && strcmp(base + n - 3, ".nn") == 0) n -= 3;
  char *out = malloc(n + strlen(suffix) + 1);
  memcpy(out, base, n);
  strcpy(out + n, suffix);
  return out;
}

/* A path relative to the directory of nnc's executable (malloc'd), or NULL. */
static char *beside_exe(const char *rel) {
  char *exe = realpath("/proc/self/exe", NULL);
  if (!exe) return NULL;
  char *slash = strrchr(exe, '/');
  *slash = 0;
  char *path = malloc(strlen(exe) + strlen(rel) + 2);
  sprintf(path, "%s/%s", exe, rel);
  free(exe);
  return path;
}

/* libnnrt.a sits at ../lib/nnc/ relative to nnc, in the build tree and when installed. */
static char *runtime_library(void) {
  char *path = beside_exe("../lib/nnc/libnnrt.a");
  if (!path) return NULL;
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "nnc: error: the runtime library is missing: %s\n", path);
    free(path);
    return NULL;
  }
  return path;
}

static int run(char **argv) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    execvp(argv[0], argv);
    fprintf(stderr, "nnc: error: cannot run '%s': %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int link_program(const char *const *objects, int nobjects, const char *output) {
  char *runtime = runtime_library();
  if (!runtime) return 1;
  const char *cc_env = getenv("CC");
  char *cc = strdup(cc_env && *cc_env ? cc_env : "cc");
  char *extra = strdup(NNC_LINK_EXTRA);
  char *argv[64];
  int n = 0;
  for (char *t = strtok(cc, " "); t && n < 16; t = strtok(NULL, " ")) argv[n++] = t;
  for (char *t = strtok(extra, " "); t && n < 32; t = strtok(NULL, " ")) argv[n++] = t;
  for (int i = 0; i < nobjects; i++) argv[n++] = (char *)objects[i];
  argv[n++] = runtime;
  argv[n++] = "-lopenblas";
  argv[n++] = "-lz";
  argv[n++] = "-lm";
  argv[n++] = "-o";
  argv[n++] = (char *)output;
  argv[n] = NULL;
  int rc = run(argv);
  if (rc != 0) fprintf(stderr, "nnc: error: linking '%s' failed (%s exited with status %d)\n", output, argv[0], rc);
  free(cc);
  free(extra);
  free(runtime);
  return rc == 0 ? 0 : 1;
}

/* A new empty temporary file named like nnc-XXXXXX<suffix> in $TMPDIR (or /tmp), into
 * path; false after reporting. */
static bool temp_file(char *path, size_t size, const char *suffix) {
  const char *tmpdir = getenv("TMPDIR");
  if (!tmpdir || !*tmpdir) tmpdir = "/tmp";
  snprintf(path, size, "%s/nnc-XXXXXX%s", tmpdir, suffix);
  int fd = mkstemps(path, (int)strlen(suffix));
  if (fd < 0) {
    fprintf(stderr, "nnc: error: cannot create a temporary file in %s: %s\n", tmpdir, strerror(errno));
    return false;
  }
  close(fd);
  return true;
}

static int codegen(const Options *o, const Graph *g) {
  /* a program links the second thread's object beside the training entry points', each
   * compiled on a thread of its own; every other output is one module */
  CgOptions co = {o->opt_level, o->target_cpu, o->emit == EMIT_EXE};
  CgContext *cg = cg_build(g, &co);
  if (!cg || !cg_optimize(cg)) {
    cg_free(cg);
    return 1;
  }
  int rc = 0;
  if (o->emit == EMIT_LLVM || o->emit == EMIT_ASM) {
    FILE *out = open_output(o);
    bool ok = o->emit == EMIT_LLVM ? cg_print_llvm(cg, out) : cg_print_asm(cg, out);
    rc = (close_output(out) || !ok) ? 1 : 0;
  } else if (o->emit == EMIT_OBJ) {
    char *path = o->output ? strdup(o->output) : default_output(o->input, ".o");
    rc = cg_emit_file(cg, path, false) ? 0 : 1;
    free(path);
  } else {
    char objects[2][4096];
    if (!temp_file(objects[0], sizeof objects[0], ".o")) {
      cg_free(cg);
      return 1;
    }
    if (!temp_file(objects[1], sizeof objects[1], "-side.o")) {
      unlink(objects[0]);
      cg_free(cg);
      return 1;
    }
    char *output = o->output ? strdup(o->output) : default_output(o->input, "");
    const char *const linked[2] = {objects[0], objects[1]};
    rc = cg_emit_objects(cg, objects[0], objects[1]) ? link_program(linked, 2, output) : 1;
    unlink(objects[0]);
    unlink(objects[1]);
    free(output);
  }
  cg_free(cg);
  return rc;
}

static int compile(const Options *o, Arena *arena) {
  uint32_t file = src_load(o->input);
  if (!file) return 1;
  if (o->emit == EMIT_TOKENS) {
    FILE *out = open_output(o);
    int rc = lang_dump_tokens(file, out);
    return (close_output(out) || rc || diag_error_count()) ? 1 : 0;
  }
  AstProgram *prog = lang_parse(arena, file);
  if (!prog) return 1;
  if (o->emit == EMIT_AST) {
    FILE *out = open_output(o);
    ast_print(prog, out);
    return close_output(out);
  }
  /* the import path: -I directories, then the stdlib beside nnc */
  const char **dirs = calloc((size_t)o->ninclude + 1, sizeof *dirs);
  int ndirs = 0;
  for (int i = 0; i < o->ninclude; i++) dirs[ndirs++] = o->include_dirs[i];
  char *stdlib_dir = beside_exe("../share/nnc/stdlib");
  if (stdlib_dir) dirs[ndirs++] = stdlib_dir;
  Graph *g = sema_build(arena, prog, dirs, ndirs, o->emit == EMIT_RULES);
  free(dirs);
  free(stdlib_dir);
  if (!g) return 1;
  int rc = 0;
  if (o->emit == EMIT_RULES) { /* the rules do not need the backward graph */
    FILE *out = open_output(o);
    for (int i = 0; i < g->nrules; i++) rule_print(&g->rules[i], out);
    rc = close_output(out);
  } else {
    ad_build(g);
    pass_dce(g);
    if (o->mode != MODE_COMPILE) {
      RefOptions ro = {o->batch, o->seed, o->tolerance, o->max_elements, o->random_params, o->reference};
      rc = o->mode == MODE_INTERPRET ? ref_interpret(&ro, g) : ref_check_grad(&ro, g);
    } else if (o->emit == EMIT_GRAPH || o->emit == EMIT_GRAD) {
      /* the forward nodes keep their ids through autodiff and DCE (the backward ones
       * follow them); the plan of the whole step says which are fused */
      Plan plan;
      plan_build(g, &plan);
      FILE *out = open_output(o);
      ir_print(g, o->emit == EMIT_GRAD, &plan, out);
      rc = close_output(out);
      plan_free(&plan);
    } else if (o->emit == EMIT_DOT || o->emit == EMIT_PLAN) {
      FILE *out = open_output(o);
      if (o->emit == EMIT_DOT) {
        ir_print_dot(g, out);
      } else {
        Plan plan;
        plan_build(g, &plan);
        plan_print(g, &plan, out);
        plan_free(&plan);
      }
      rc = close_output(out);
    } else {
      rc = codegen(o, g);
    }
  }
  graph_free(g);
  return rc;
}

int main(int argc, char **argv) {
  Options o = {0};
  parse_args(argc, argv, &o);
  Arena arena = {0};
  int rc = compile(&o, &arena);
  if (diag_error_count() > 0) rc = 1;
  arena_free(&arena);
  src_free_all();
  free(o.include_dirs);
  return rc;
}
