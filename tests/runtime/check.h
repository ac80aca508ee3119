/* check.h: the tiny harness shared by the runtime's unit-test drivers.
 *
 * A driver runs its checks, prints one line per failure and a summary with the worst
 * numeric difference it saw, and returns the verdict as its exit status.
 */
#ifndef CHECK_H
#define CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failures, check_count;
static double check_worst; /* worst |got - want| among passing and failing numeric checks */

#define CHECK(cond)                                                                        \
  do {                                                                                     \
    check_count++;                                                                         \
    if (!(cond)) {                                                                         \
      check_failures++;                                                                    \
      printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                               \
    }                                                                                      \
  } while (0)

#define CHECK_NEAR(got, want, tol) check_near_at(__FILE__, __LINE__, #got, (got), (want), (tol))

static inline void check_near_at(const char *file, int line, const char *what, double got,
                                 double want, double tol) {
  double diff = fabs(got - want);
  check_count++;
  if (diff > check_worst || diff != diff) check_worst = diff;
  if (!(diff <= tol)) {
    check_failures++;
    printf("FAIL %s:%d: %s = %.9g, want %.9g (diff %.3g > tol %.3g)\n", file, line, what, got,
           want, diff, tol);
  }
}

#define CHECK_STR(got, want) check_str_at(__FILE__, __LINE__, #got, (got), (want))

static inline void check_str_at(const char *file, int line, const char *what, const char *got,
                                const char *want) {
  check_count++;
  if (!got || strcmp(got, want) != 0) {
    check_failures++;
    printf("FAIL %s:%d: %s\n   got: %s\n  want: %s\n", file, line, what, got ? got : "(null)",
           want);
  }
}

/* Prints the summary and returns the exit status. */
static inline int check_done(const char *driver) {
  printf("%s: %d checks, %d failed, worst numeric difference %.3g\n", driver, check_count,
         check_failures, check_worst);
  return check_failures ? 1 : 0;
}

#endif
