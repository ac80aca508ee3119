/* rng.c: the runtime's only source of randomness, xoshiro256** (Blackman & Vigna).
 *
 * Every random choice the train program makes (initial weights, sample order) comes from
 * a generator seeded by --seed, so one seed reproduces a run bit for bit on any machine:
 * the arithmetic is integer, and the float conversions are exact. The 256-bit state is
 * filled from (seed, stream) by splitmix64, which spreads even seeds like 0 and 1 into
 * unrelated states.
 */
#include <math.h>

#include "nnrt_internal.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void rt_rng_seed(RtRng *r, uint64_t seed, uint64_t stream) {
  /* Mixing the stream through one splitmix round keeps (seed, stream) pairs apart that a
   * plain xor would collide, e.g. (1, 2) and (2, 1). */
  uint64_t x = stream;
  uint64_t k = seed ^ splitmix64(&x);
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&k);
}

uint64_t rt_rng_next(RtRng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double rt_rng_uniform(RtRng *r) { return (double)(rt_rng_next(r) >> 11) * 0x1.0p-53; }

uint64_t rt_rng_below(RtRng *r, uint64_t n) {
  /* Rejecting the top (2^64 mod n) values leaves a range that n divides exactly, so the
   * modulo is unbiased; at most half the draws are rejected, usually almost none. */
  uint64_t threshold = (0 - n) % n;
  for (;;) {
    uint64_t x = rt_rng_next(r);
    if (x >= threshold) return x % n;
  }
}

double rt_rng_normal(RtRng *r) {
  /* Box-Muller; u1 is taken from (0, 1] so the log is finite. The second variate is
   * dropped: keeping it would make the generator's state more than its four words. */
  double u1 = 1.0 - rt_rng_uniform(r);
  double u2 = rt_rng_uniform(r);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
