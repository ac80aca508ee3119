"""Reads a train --log CSV and checks its last row's loss: final_loss.py LOG BELOW.

Prints the columns and the final loss; exits 1 when the header lacks epoch/loss, the log
has no rows, or the final loss is not below BELOW."""
import csv
import sys

path, below = sys.argv[1], float(sys.argv[2])
with open(path, newline="") as f:
    rows = list(csv.DictReader(f))
if not rows or "epoch" not in rows[0] or "loss" not in rows[0]:
    sys.exit("%s: no rows, or no epoch and loss columns" % path)
final = float(rows[-1]["loss"])
print("columns: %s" % ",".join(rows[0].keys()))
print("epochs: %d, final loss %.6g (%s %g)" % (len(rows), final, "<" if final < below else ">=", below))
sys.exit(0 if final < below else 1)
