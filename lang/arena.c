/* arena.c: bump allocation for one compilation.
 *
 * The front end builds a tree whose nodes point at each other freely and all die
 * together, so nothing is freed one at a time: allocations are carved from large malloc'd
 * blocks and arena_free releases the blocks. Allocations are zeroed so constructors only
 * set the fields they care about.
 */
#include "lang.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16
#define ARENA_BLOCK_SIZE (64 * 1024)

struct ArenaBlock {
  ArenaBlock *next;
  size_t cap, used;
  /* The header is padded to ARENA_ALIGN so that data[] starts aligned whenever malloc's
   * result is (glibc guarantees 16 on x86-64 and aarch64). */
  _Alignas(ARENA_ALIGN) unsigned char data[];
};

void *nn_xrealloc(void *p, size_t size) {
  void *q = realloc(p, size ? size : 1);
  if (!q) {
    fputs("nnc: error: out of memory\n", stderr);
    exit(1);
  }
  return q;
}

void *arena_alloc(Arena *a, size_t size) {
  if (size > SIZE_MAX / 2) {
    fputs("nnc: error: out of memory\n", stderr);
    exit(1);
  }
  size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  ArenaBlock *b = a->head;
  if (!b || b->cap - b->used < size) {
    size_t cap = size > ARENA_BLOCK_SIZE ? size : ARENA_BLOCK_SIZE;
    ArenaBlock *nb = nn_xrealloc(NULL, sizeof(ArenaBlock) + cap);
    nb->cap = cap;
    nb->used = 0;
    if (b && size > ARENA_BLOCK_SIZE / 4) {
      /* A big one-off allocation goes behind the current block so the room left in the
       * current block is not wasted. */
      nb->next = b->next;
      b->next = nb;
    } else {
      nb->next = b;
      a->head = nb;
    }
    b = nb;
  }
  void *p = b->data + b->used;
  b->used += size;
  memset(p, 0, size);
  return p;
}

char *arena_strndup(Arena *a, const char *s, size_t n) {
  char *d = arena_alloc(a, n + 1);
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *arena_printf(Arena *a, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  char *d = arena_alloc(a, (size_t)n + 1);
  vsnprintf(d, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return d;
}

void arena_free(Arena *a) {
  ArenaBlock *b = a->head;
  while (b) {
    ArenaBlock *next = b->next;
    free(b);
    b = next;
  }
  a->head = NULL;
}
