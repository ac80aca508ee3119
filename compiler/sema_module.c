/* sema_module.c: imports: finding, parsing and linking the modules a program uses.
 *
 * `import nn` searches the import path (nnc's -I directories in order, then the stdlib
 * beside nnc) for nn.nn; `import "dir/x.nn"` is relative to the importing file and binds
 * the module name x. A module is loaded once however often it is imported (files are
 * identified by their real path); a module that imports itself through others is a cycle,
 * reported at the import that closes it.
 */
#define _DEFAULT_SOURCE /* realpath */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sema_internal.h"

enum { MOD_NEW, MOD_LOADING, MOD_LOADED, MOD_BROKEN };

Module *sema_module_new(Sema *s, const char *name, uint32_t file, const AstProgram *prog) {
  Module *m = calloc(1, sizeof *m);
  if (!m) nnc_unreachable("out of memory");
  m->name = name;
  m->file = file;
  m->prog = prog;
  m->state = prog ? MOD_NEW : MOD_BROKEN;
  vec_push(&s->modules, &s->nmodules, &s->modules_cap, m);
  return m;
}

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *dir_of(Sema *s, uint32_t file) {
  const char *path = src_path(file);
  const char *slash = strrchr(path, '/');
  return slash ? arena_strndup(s->arena, path, (size_t)(slash - path)) : ".";
}

/* The module name of `import "a/b.nn"`: b. */
static const char *base_name(Sema *s, const char *path) {
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  size_t n = strlen(b);
  if (n > 3 && strcmp(b + n - 3, ".nn") == 0) n -= 3;
  return arena_strndup(s->arena, b, n);
}

static bool valid_module_name(const char *name) {
  if (!name[0] || !(name[0] == '_' || (name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
    return false;
  for (const char *p = name; *p; p++)
    if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
      return false;
  return true;
}

static Module *load(Sema *s, const AstImport *imp, const char *name, const char *path) {
  char *real = realpath(path, NULL);
  const char *key = real ? real : path;
  for (int i = 0; i < s->nmodules; i++) {
    Module *m = s->modules[i];
    char *other = realpath(src_path(m->file), NULL);
    bool same = other && strcmp(other, key) == 0;
    free(other);
    if (!same) continue;
    free(real);
    if (m->state == MOD_LOADING) {
      diag_error(imp->loc, "import cycle: '%s' imports itself through this import", m->name);
      return NULL;
    }
    return m;
  }
  free(real);
  uint32_t file = src_load(path);
  if (!file) {
    diag_note(imp->loc, "imported here");
    return NULL;
  }
  const AstProgram *prog = lang_parse(s->arena, file);
  Module *m = sema_module_new(s, name, file, prog);
  if (prog && (prog->model || prog->has_train)) {
    SrcLoc at = prog->model ? prog->model->name_loc : prog->train_loc;
    diag_warning(at, "a model or train block in an imported module is ignored");
  }
  sema_load_imports(s, m);
  return m;
}

Module *sema_module_load(Sema *s, const char *name, const char *path, SrcLoc loc) {
  AstImport imp = {name, NULL, loc};
  return load(s, &imp, name, path);
}

void sema_load_imports(Sema *s, Module *m) {
  if (m->state != MOD_NEW) return;
  m->state = MOD_LOADING;
  const AstProgram *p = m->prog;
  for (int i = 0; i < p->nimports; i++) {
    const AstImport *imp = &p->imports[i];
    const char *name = imp->path ? base_name(s, imp->path) : imp->module;
    if (!valid_module_name(name)) {
      diag_error(imp->loc, "'%s' cannot be a module name: name the file like an identifier", name);
      continue;
    }
    bool dup = false;
    for (int j = 0; j < i; j++) {
      const AstImport *o = &p->imports[j];
      if (strcmp(o->path ? base_name(s, o->path) : o->module, name) == 0) dup = true;
    }
    if (dup) {
      diag_error(imp->loc, "module '%s' is imported twice", name);
      continue;
    }
    const char *path = NULL;
    if (imp->path) {
      path = imp->path[0] == '/' ? imp->path : arena_printf(s->arena, "%s/%s", dir_of(s, m->file), imp->path);
      if (!is_file(path)) {
        diag_error(imp->loc, "cannot import '%s': %s", imp->path, strerror(errno ? errno : ENOENT));
        continue;
      }
    } else {
      for (int d = 0; d < s->ninclude && !path; d++) {
        const char *cand = arena_printf(s->arena, "%s/%s.nn", s->include_dirs[d], name);
        if (is_file(cand)) path = cand;
      }
      if (!path) {
        diag_error(imp->loc, "cannot find module '%s' (%s.nn) on the import path", name, name);
        for (int d = 0; d < s->ninclude; d++) diag_note((SrcLoc){0}, "searched %s", s->include_dirs[d]);
        continue;
      }
    }
    Module *dep = load(s, imp, name, path);
    if (dep) vec_push(&m->imports, &m->nimports, &m->imports_cap, dep);
  }
  m->state = MOD_LOADED;
}
