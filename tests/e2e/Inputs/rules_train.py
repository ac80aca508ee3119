"""Trains a compiled linear model with each standard rule, fused and separate.

usage: rules_train.py PROGRAM WORKDIR
Prints, per rule and settings, the trained w and b and whether the two runs' logs hold the
same losses digit for digit (FAIL otherwise)."""
import csv
import subprocess
import sys

RUNS = ["sgd --lr 0.1", "momentum --lr 0.05", "nesterov --lr 0.05", "adagrad --lr 0.5", "rmsprop --lr 0.01",
        "rmsprop --lr 0.01 --centered --momentum 0.5", "adam --lr 0.05", "adamw --lr 0.05 --weight-decay 0.0001",
        "lion --lr 0.01", "lamb --lr 0.01"]


def train(prog, args, log, extra):
    out = subprocess.run([prog, "--quiet", "--log", log, "--optimizer"] + args.split() + extra,
                         check=True, capture_output=True, text=True).stdout
    vals = dict(line.split(" = ") for line in out.strip().splitlines())
    losses = [row["loss"] for row in csv.DictReader(open(log))]
    return vals, losses


def main():
    prog, work = sys.argv[1], sys.argv[2]
    for i, args in enumerate(RUNS):
        vals, a = train(prog, args, "%s/a%d.csv" % (work, i), [])
        _, b = train(prog, args, "%s/b%d.csv" % (work, i), ["--separate-update"])
        same = "fused = separate" if a == b and a else "FAIL: fused %s, separate %s" % (a[:3], b[:3])
        print("%s: w %s, b %s, %s" % (args, vals["w"], vals["b"], same))
    print("%d runs" % len(RUNS))


if __name__ == "__main__":
    main()
