/* test_parallel.c: nnrt_parallel_for covers [0, n) exactly once in contiguous ranges
 * fixed by n and the thread count, on workers that run with the caller's FP mode; the
 * pool grows without a new worker re-running an old job; a call from inside a body runs
 * inline. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <stdatomic.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "check.h"
#include "nnrt_internal.h"

enum { N = 1000 };

typedef struct Job {
  _Atomic int hits[N];
  _Atomic int calls;
  _Atomic int nested;
  _Atomic int ftz_off; /* bodies that ran without the caller's FTZ/DAZ */
  int64_t lo[8], hi[8];
} Job;

static void mark(void *ctx, int64_t lo, int64_t hi) {
  Job *j = ctx;
  int c = atomic_fetch_add(&j->calls, 1);
  if (c < 8) {
    j->lo[c] = lo;
    j->hi[c] = hi;
  }
  for (int64_t i = lo; i < hi; i++) atomic_fetch_add(&j->hits[i], 1);
#if defined(__x86_64__)
  if ((_mm_getcsr() & 0x8040) != 0x8040) atomic_fetch_add(&j->ftz_off, 1);
#endif
}

static void inner(void *ctx, int64_t lo, int64_t hi) {
  Job *j = ctx;
  atomic_fetch_add(&j->nested, (int)(hi - lo));
}

static void outer(void *ctx, int64_t lo, int64_t hi) {
  (void)lo;
  (void)hi;
  nnrt_parallel_for(inner, ctx, 10); /* inline: must not wait for the busy pool */
}

static int covered_once(Job *j) {
  for (int i = 0; i < N; i++)
    if (atomic_load(&j->hits[i]) != 1) return 0;
  return 1;
}

static void reset(Job *j) { memset(j, 0, sizeof *j); }

/* Runs the marking job many times on the pool as it is: each run covers [0, N) once, in
 * one call per thread. */
static int runs_cover(Job *j, int threads) {
  for (int rep = 0; rep < 200; rep++) {
    reset(j);
    nnrt_parallel_for(mark, j, N);
    if (!covered_once(j) || atomic_load(&j->calls) != threads) return 0;
  }
  return 1;
}

int main(void) {
  static Job j;
#if defined(__x86_64__)
  _mm_setcsr(_mm_getcsr() | 0x8040);
#endif
  /* one thread: one call with the whole range */
  CHECK(rt_threads_start(1) == 1);
  reset(&j);
  nnrt_parallel_for(mark, &j, N);
  CHECK(covered_once(&j));
  CHECK(atomic_load(&j.calls) == 1);

  /* two threads: two contiguous halves */
  CHECK(rt_threads_start(2) == 2);
  CHECK(runs_cover(&j, 2));
  int first = j.lo[0] == 0 ? 0 : 1;
  CHECK(j.lo[first] == 0 && j.hi[first] == N / 2 && j.lo[1 - first] == N / 2 && j.hi[1 - first] == N);
  CHECK(atomic_load(&j.ftz_off) == 0);

  /* grown to three: the new worker takes only new jobs (the last one's context may be
   * gone), and every range is run once */
  CHECK(rt_threads_start(3) == 3);
  struct timespec pause = {0, 50 * 1000 * 1000};
  nanosleep(&pause, NULL); /* time for a wrongly woken worker to re-run the last job */
  CHECK(atomic_load(&j.calls) == 2 && covered_once(&j));
  CHECK(rt_threads() == 3);
  CHECK(runs_cover(&j, 3));
  CHECK(rt_threads_start(2) == 3); /* never shrinks */

  /* fewer items than threads, and none */
  reset(&j);
  nnrt_parallel_for(mark, &j, 2);
  CHECK(atomic_load(&j.hits[0]) == 1 && atomic_load(&j.hits[1]) == 1 && atomic_load(&j.hits[2]) == 0);
  reset(&j);
  nnrt_parallel_for(mark, &j, 0);
  CHECK(atomic_load(&j.hits[0]) == 0);

  /* a call from inside a body runs inline on that thread */
  reset(&j);
  nnrt_parallel_for(outer, &j, 3);
  CHECK(atomic_load(&j.nested) == 30);
  return check_done("parallel");
}
