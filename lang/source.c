/* source.c: the table of source files of one compilation.
 *
 * Every SrcLoc names its file by an index into this table, so locations stay four words
 * and diagnostics can reprint the offending line long after the scanner is gone. Texts
 * are kept NUL-terminated; a file that itself contains NUL bytes is refused on load
 * because no part of the front end could point at what follows one.
 */
#include "lang.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct SrcFile {
  char *path;
  char *text;
  size_t len;
} SrcFile;

/* Index 0 is unused so that file id 0 can mean "no place". */
static SrcFile *files;
static uint32_t nfiles, capfiles;

static SrcFile *src_get(uint32_t file) {
  if (file == 0 || file > nfiles) nnc_unreachable("bad source file id");
  return &files[file - 1];
}

/* Takes ownership of text (malloc'd, len bytes plus a NUL). */
static uint32_t src_insert(const char *path, char *text, size_t len) {
  size_t plen = strlen(path);
  char *p = nn_xrealloc(NULL, plen + 1);
  memcpy(p, path, plen + 1);
  SrcFile f = {p, text, len};
  vec_push(&files, &nfiles, &capfiles, f);
  return nfiles;
}

uint32_t src_add(const char *path, const char *text, size_t len) {
  char *t = nn_xrealloc(NULL, len + 1);
  memcpy(t, text, len);
  t[len] = '\0';
  return src_insert(path, t, len);
}

/* File-level errors are reported at line 0 of an empty entry for the path, which diag
 * prints as "PATH: error: ..." without a source line. */
static uint32_t src_fail(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static uint32_t src_fail(const char *path, const char *fmt, ...) {
  uint32_t id = src_add(path, "", 0);
  SrcLoc loc = {id, 0, 0, 0, 0};
  va_list ap;
  va_start(ap, fmt);
  diag_vreport(DIAG_ERROR, loc, fmt, ap);
  va_end(ap);
  return 0;
}

uint32_t src_load(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return src_fail(path, "cannot read file: %s", strerror(errno));
  if (S_ISDIR(st.st_mode)) return src_fail(path, "cannot read file: %s", strerror(EISDIR));
  FILE *f = fopen(path, "rb");
  if (!f) return src_fail(path, "cannot read file: %s", strerror(errno));

  /* Read to EOF rather than trusting st_size, so pipes and /dev/stdin work too. */
  size_t len = 0, cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
  char *text = nn_xrealloc(NULL, cap);
  for (;;) {
    if (len + 1 >= cap) {
      if (cap > (size_t)INT_MAX) {
        free(text);
        fclose(f);
        return src_fail(path, "cannot read file: %s", strerror(EFBIG));
      }
      cap *= 2;
      text = nn_xrealloc(text, cap);
    }
    size_t got = fread(text + len, 1, cap - len - 1, f);
    len += got;
    if (got == 0) break;
  }
  int err = ferror(f) ? errno : 0;
  fclose(f);
  if (err) {
    free(text);
    return src_fail(path, "cannot read file: %s", strerror(err ? err : EIO));
  }
  /* The scanner takes an int length. */
  if (len > (size_t)INT_MAX) {
    free(text);
    return src_fail(path, "cannot read file: %s", strerror(EFBIG));
  }
  text[len] = '\0';
  const char *nul = memchr(text, '\0', len);
  if (nul) {
    size_t off = (size_t)(nul - text);
    free(text);
    return src_fail(path, "not a text file (NUL byte at offset %zu)", off);
  }
  return src_insert(path, text, len);
}

const char *src_path(uint32_t file) { return src_get(file)->path; }
const char *src_text(uint32_t file) { return src_get(file)->text; }
size_t src_len(uint32_t file) { return src_get(file)->len; }

void src_free_all(void) {
  for (uint32_t i = 0; i < nfiles; i++) {
    free(files[i].path);
    free(files[i].text);
  }
  free(files);
  files = NULL;
  nfiles = capfiles = 0;
}

SrcLoc loc_span(SrcLoc first, SrcLoc last) {
  if (first.file == 0) return last;
  if (last.file == 0) return first;
  SrcLoc l = first;
  l.end_line = last.end_line;
  l.end_col = last.end_col;
  return l;
}
