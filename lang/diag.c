/* diag.c: clang-style diagnostics.
 *
 *   model.nn:9:12: error: shape mismatch in '@': f32[784] @ f32[512, 10]
 *       9 |   h2 = h @ W2
 *         |            ^~
 *
 * The source line is reprinted from the source table, so any stage can report at any
 * SrcLoc it kept. The marker line copies the tabs of the source line into its padding,
 * which keeps the caret under the right byte whatever the terminal's tab width.
 * A loc with file 0 has no place ("nnc: error: ..."); one with line 0 names a whole file
 * ("PATH: error: ...").
 */
#include "lang.h"

#include <stdlib.h>
#include <string.h>

static FILE *diag_out; /* NULL: stderr, which is not a constant initializer */
static int nerrors;

void diag_set_output(FILE *out) { diag_out = out; }
int diag_error_count(void) { return nerrors; }
void diag_reset(void) { nerrors = 0; }

static const char *level_name(DiagLevel level) {
  switch (level) {
  case DIAG_ERROR: return "error";
  case DIAG_WARNING: return "warning";
  case DIAG_NOTE: return "note";
  }
  return "error";
}

/* Prints line `line` of `file` and the caret/tilde marker under it. */
static void print_snippet(FILE *out, SrcLoc loc) {
  const char *text = src_text(loc.file);
  size_t len = src_len(loc.file);
  const char *p = text, *end = text + len;
  for (uint32_t l = 1; l < loc.line; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return; /* the line does not exist: the header alone must do */
    p = nl + 1;
  }
  const char *eol = memchr(p, '\n', (size_t)(end - p));
  if (!eol) eol = end;
  if (eol > p && eol[-1] == '\r') eol--;
  size_t n = (size_t)(eol - p);

  fprintf(out, "%5u | ", loc.line);
  /* Control bytes would corrupt a terminal; '?' keeps the columns of what follows. */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    fputc(c == '\t' || (c >= 0x20 && c != 0x7f) ? c : '?', out);
  }
  fputs("\n      | ", out);
  uint32_t col = loc.col ? loc.col : 1;
  for (uint32_t i = 1; i < col; i++) fputc(i - 1 < n && p[i - 1] == '\t' ? '\t' : ' ', out);
  fputc('^', out);
  if (loc.end_line == loc.line && loc.end_col > col) {
    /* The range may not run past the end of the line (plus one for an end-of-line mark). */
    uint32_t last = loc.end_col;
    if (last > n + 1) last = (uint32_t)n + 1;
    for (uint32_t i = col + 1; i <= last; i++) fputc('~', out);
  }
  fputc('\n', out);
}

void diag_vreport(DiagLevel level, SrcLoc loc, const char *fmt, va_list ap) {
  FILE *out = diag_out ? diag_out : stderr;
  if (level == DIAG_ERROR) nerrors++;
  if (loc.file == 0)
    fputs("nnc: ", out);
  else if (loc.line == 0)
    fprintf(out, "%s: ", src_path(loc.file));
  else
    fprintf(out, "%s:%u:%u: ", src_path(loc.file), loc.line, loc.col);
  fprintf(out, "%s: ", level_name(level));
  vfprintf(out, fmt, ap);
  fputc('\n', out);
  if (loc.file != 0 && loc.line != 0) print_snippet(out, loc);
  fflush(out);
}

void diag_report(DiagLevel level, SrcLoc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  diag_vreport(level, loc, fmt, ap);
  va_end(ap);
}

_Noreturn void nnc_unreachable_at(const char *file, int line, const char *msg) {
  fflush(stdout);
  fprintf(stderr, "nnc: internal error at %s:%d: %s\n", file, line, msg);
  fflush(stderr);
  abort();
}
