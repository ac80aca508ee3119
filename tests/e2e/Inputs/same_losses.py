"""Compares the loss columns of two train --log CSVs: same_losses.py A B [TOLERANCE].

Without a tolerance they must agree digit for digit; with one, within that relative
difference (summation orders may differ, as between a GEMM and a fused loop)."""
import csv
import sys

a, b = ([r["loss"] for r in csv.DictReader(open(p))] for p in sys.argv[1:3])
tol = float(sys.argv[3]) if len(sys.argv) > 3 else None
if not a or len(a) != len(b):
    sys.exit("different numbers of epochs: %d and %d" % (len(a), len(b)))
worst = max(abs(float(x) - float(y)) / max(abs(float(x)), 1e-12) for x, y in zip(a, b))
if (tol is None and a != b) or (tol is not None and worst > tol):
    sys.exit("losses differ (worst relative difference %.3g):\n%s\n%s" % (worst, a[:5], b[:5]))
print("%d epochs, %s losses" % (len(a), "identical" if a == b else "matching"))
