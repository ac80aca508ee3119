/* fuzz_frontend.c: libFuzzer harness for the front and middle end of nnc.
 *
 * The input is a model file's text. It goes the way `nnc --emit=plan` takes it: parse;
 * if that succeeds, sema (with the stdlib on the import path, so `import nn` works, and
 * the update rules the program trains with), autodiff, dead-code elimination, the memory
 * plan, and the graph, plan and rule dumps, with each rule's zero-gradient variants. Every
 * outcome is fine except a crash, a sanitizer report, a leak or an internal error
 * (nnc_unreachable aborts). Diagnostics go to /dev/null; everything is freed each run.
 *
 * The file is registered as /nonexistent-nnc-fuzz/fuzz.nn, so a relative import finds
 * nothing and a run never depends on the current directory.
 */
#include <stdint.h>
#include <stdlib.h>

#include "nnc.h"

#ifndef NNC_STDLIB_DIR
#error "NNC_STDLIB_DIR must name the stdlib directory"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!devnull) {
    devnull = fopen("/dev/null", "w");
    if (!devnull) abort();
    diag_set_output(devnull);
  }
  diag_reset();
  Arena arena = {0};
  uint32_t file = src_add("/nonexistent-nnc-fuzz/fuzz.nn", (const char *)data, size);
  AstProgram *prog = lang_parse(&arena, file);
  if (prog) {
    const char *const dirs[] = {NNC_STDLIB_DIR};
    Graph *g = sema_build(&arena, prog, dirs, 1, !prog->model);
    if (g && !prog->model) {
      for (int i = 0; i < g->nrules; i++) rule_print(&g->rules[i], devnull);
      graph_free(g);
    } else if (g) {
      ad_build(g);
      pass_dce(g);
      Plan plan;
      plan_build(g, &plan);
      ir_print(g, true, &plan, devnull);
      ir_print(g, false, &plan, devnull);
      plan_print(g, &plan, devnull);
      plan_free(&plan);
      for (int i = 0; i < g->nrules; i++) {
        rule_print(&g->rules[i], devnull);
        for (int v = 0; v < g->rules[i].nvariants; v++) {
          RuleVariant z = rule_zero_gradient(&g->rules[i], &g->rules[i].variant[v]);
          graph_free(z.g);
          free(z.state);
        }
      }
      graph_free(g);
    }
  }
  arena_free(&arena);
  src_free_all();
  diag_reset();
  return 0;
}
