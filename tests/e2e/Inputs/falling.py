"""Checks that a train --log CSV's loss falls from each epoch to the next."""
import csv
import sys

rows = [r for r in csv.DictReader(open(sys.argv[1])) if not r.get("step")]
losses = [float(r["loss"]) for r in rows]
print(" ".join("%.4f" % l for l in losses))
if len(losses) < 2 or any(b >= a for a, b in zip(losses, losses[1:])):
    sys.exit("the loss does not fall every epoch")
print("%d epochs, loss falls every epoch" % len(losses))
