"""Reads a train --log CSV and checks its last row's val_accuracy: val_accuracy.py LOG AT_LEAST.

Prints the epochs and the final validation accuracy; exits 1 when the log has no rows or
no val_accuracy column, or the final value is below AT_LEAST."""
import csv
import sys

path, at_least = sys.argv[1], float(sys.argv[2])
with open(path, newline="") as f:
    rows = list(csv.DictReader(f))
if not rows or "val_accuracy" not in rows[0]:
    sys.exit("%s: no rows, or no val_accuracy column" % path)
final = float(rows[-1]["val_accuracy"])
ok = final >= at_least
print("epochs: %d, final val_accuracy %.4f (%s %g)" % (len(rows), final, ">=" if ok else "<", at_least))
sys.exit(0 if ok else 1)
