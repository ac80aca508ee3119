"""Writes 200 rows of a smooth 4-input regression as CSV (a,b,c,d,y) to stdout; seeded."""
import random

r = random.Random(5)
print("a,b,c,d,y")
for _ in range(200):
    x = [r.uniform(-1, 1) for _ in range(4)]
    print(",".join("%.4f" % v for v in x) + ",%.4f" % (x[0] * x[1] - 0.5 * x[2] + 0.25 * x[3] ** 2))
