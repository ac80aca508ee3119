/* parallel.c: the runtime's worker threads, which run the large loops of compiled code
 * (the generated matrix products, the optimizer update) split across --threads cores.
 *
 * A job is body(ctx, lo, hi) over [0, n): thread t runs the contiguous range
 * [n*t/T, n*(t+1)/T), the calling thread included, so a split is fixed by n and T and
 * every result is the same whatever the timing. Idle workers sleep on a condition
 * variable and the caller sleeps until the last one is done: no thread spins while
 * another works (a spinning waiter would take half of a two-core machine). One job at a
 * time: the training loop is the only caller, and a call from inside a body (or from a
 * worker) runs inline. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "nnrt_internal.h"

enum { RT_MAX_THREADS = 256 };

static struct {
  pthread_mutex_t mu;
  pthread_cond_t work, done;
  int threads;      /* including the caller; 1: no workers */
  uint64_t job;     /* counts jobs posted; a worker runs each once */
  int busy;         /* workers still in the current job */
  nnrt_parallel_body body;
  void *ctx;
  int64_t n;
  unsigned mxcsr;   /* the caller's floating-point mode, for the workers */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 1, 0, 0, NULL, NULL, 0, 0};

static void run_share(nnrt_parallel_body body, void *ctx, int64_t n, int t, int threads) {
  int64_t lo = n * t / threads, hi = n * (t + 1) / threads;
  if (lo < hi) body(ctx, lo, hi);
}

/* Set on a thread while it runs a share of a job: a call from inside a body runs inline
 * (the pool is busy with the caller's own job). */
static _Thread_local bool in_job;

typedef struct WorkerStart {
  int t;
  uint64_t job; /* the job count when the worker was made: it runs only later ones */
} WorkerStart;

static void *worker(void *arg) {
  WorkerStart start = *(WorkerStart *)arg;
  free(arg);
  int t = start.t;
  uint64_t seen = start.job;
  in_job = true; /* a worker only ever runs bodies */
  pthread_mutex_lock(&pool.mu);
  for (;;) {
    while (pool.job == seen) pthread_cond_wait(&pool.work, &pool.mu);
    seen = pool.job;
    nnrt_parallel_body body = pool.body;
    void *ctx = pool.ctx;
    int64_t n = pool.n;
    int threads = pool.threads;
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr(pool.mxcsr); /* FTZ/DAZ as on the caller: the same numbers on every thread */
#endif
    pthread_mutex_unlock(&pool.mu);
    run_share(body, ctx, n, t, threads);
    pthread_mutex_lock(&pool.mu);
    if (--pool.busy == 0) pthread_cond_signal(&pool.done);
  }
  return NULL;
}

int rt_threads_start(int threads) {
  if (threads > RT_MAX_THREADS) threads = RT_MAX_THREADS;
  /* Under the lock: a worker made now must not see a count that excludes it, nor take
   * the last job (its context is gone) for a new one. */
  pthread_mutex_lock(&pool.mu);
  for (int t = pool.threads; t < threads; t++) {
    WorkerStart *start = malloc(sizeof *start);
    if (!start) break;
    *start = (WorkerStart){t, pool.job};
    pthread_t id;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&id, &attr, worker, start);
    pthread_attr_destroy(&attr);
    if (rc != 0) { /* fewer threads: still correct */
      free(start);
      break;
    }
    pool.threads = t + 1;
  }
  int n = pool.threads;
  pthread_mutex_unlock(&pool.mu);
  return n;
}

int rt_threads(void) { return pool.threads; }

/* OpenBLAS's own (its cblas.h declares them the same way). */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

void rt_set_threads(int64_t threads) {
  int want = threads > 0 ? (int)(threads < RT_MAX_THREADS ? threads : RT_MAX_THREADS) : openblas_get_num_threads();
  rt_threads_start(want);
  /* The generated products and updates run on these workers; OpenBLAS keeps only the
   * caller's thread for the small products left to it. Its own idle workers wait by
   * spinning on sched_yield, which on a two-core machine took a fifth of the time of
   * the workers here (perf: 19% in __schedule, 10% in sched_yield). */
  openblas_set_num_threads(1);
}

void nnrt_parallel_for(nnrt_parallel_body body, void *ctx, int64_t n) {
  int threads = pool.threads;
  if (threads <= 1 || n < 2 || in_job) {
    body(ctx, 0, n);
    return;
  }
  pthread_mutex_lock(&pool.mu);
  pool.body = body;
  pool.ctx = ctx;
  pool.n = n;
  pool.busy = threads - 1;
#if defined(__x86_64__) || defined(__i386__)
  pool.mxcsr = _mm_getcsr();
#endif
  pool.job++;
  pthread_cond_broadcast(&pool.work);
  pthread_mutex_unlock(&pool.mu);
  in_job = true;
  run_share(body, ctx, n, 0, threads);
  in_job = false;
  pthread_mutex_lock(&pool.mu);
  while (pool.busy > 0) pthread_cond_wait(&pool.done, &pool.mu);
  pthread_mutex_unlock(&pool.mu);
}
