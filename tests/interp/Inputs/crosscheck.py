"""Runs models through the differential test (and optionally --check-grad), in parallel.

usage: crosscheck.py --cc CC --lib LIBNNC_DIFFTEST.a --workdir DIR
                     [--opt 0,3] [--batches 1,7] [--check-grad] MODEL.nn...

For each model: compiles it at each -O level with `nnc --emit=obj`, links the object with
tests/tools/difftest, writes a reference with `nnc --interpret --params=random
--write-reference` at each batch size (seeded by the batch, so each size sees new values)
and runs every binary on every reference, with MAX_BATCH one above the batch so that a
partly used arena is exercised too. With --check-grad, also `nnc --check-grad` at each
batch size. `nnc` is taken from PATH, as lit sets it. Prints one line per model and a
summary; the full output of every failing step; exits 1 if anything failed.
"""
import argparse
import concurrent.futures
import os
import shlex
import subprocess
import sys


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def check_model(args, index, model):
    base = os.path.join(args.workdir, "m%d" % index)
    steps = 0
    for opt in args.opt:
        obj, exe = "%s.O%s.o" % (base, opt), "%s.O%s" % (base, opt)
        for cmd in (["nnc", "--emit=obj", "-O" + opt, model, "-o", obj],
                    shlex.split(args.cc) + [obj, args.lib, "-lopenblas", "-lm", "-o", exe]):
            rc, out = run(cmd)
            if rc:
                return False, steps, "%s\n$ %s\n%s" % (model, " ".join(cmd), out)
    for b in args.batches:
        ref = "%s.b%s.ref" % (base, b)
        cmds = [["nnc", "--interpret", "--params=random", "--batch", b, "--seed", b, "--write-reference", ref, model]]
        cmds += [["%s.O%s" % (base, opt), ref, str(int(b) + 1)] for opt in args.opt]
        if args.check_grad:
            cmds.append(["nnc", "--check-grad", "--batch", b, "--seed", b, model])
        for cmd in cmds:
            rc, out = run(cmd)
            steps += 1
            if rc:
                return False, steps, "%s\n$ %s\n%s" % (model, " ".join(cmd), out)
    return True, steps, ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--opt", default="0,3")
    ap.add_argument("--batches", default="1,7")
    ap.add_argument("--check-grad", action="store_true")
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()
    args.opt = args.opt.split(",")
    args.batches = args.batches.split(",")
    os.makedirs(args.workdir, exist_ok=True)
    failed = 0
    total = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        jobs = [pool.submit(check_model, args, i, m) for i, m in enumerate(args.models)]
        for m, job in zip(args.models, jobs):
            ok, steps, log = job.result()
            total += steps
            print("%s %s" % ("ok  " if ok else "FAIL", os.path.basename(m)))
            if not ok:
                failed += 1
                print(log)
    print("%d models, %d checks, %d failed" % (len(args.models), total, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
