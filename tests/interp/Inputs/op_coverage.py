"""Walks the op table and fails if an op is not exercised by the per-op gradient tests.

usage: op_coverage.py NNC IR_C MODEL.nn...

Reads the op names from ir.c's op_info table, then the forward graph of each model
(`nnc --emit=grad`, the part before `# backward`): every op must appear in some forward
graph, where --check-grad runs through its gradient rule (or, for the ops without one,
its forward semantics), so adding an op to the table without a test here fails the suite.
Matmul must also appear in each transpose orientation somewhere, backward included, since
the gradient rules are what introduce them. The leaves of update rules (slot, hyper) never
occur in a model's graph: they must occur in the models' update rules (`nnc --emit=rules`).
"""
import re
import subprocess
import sys


def main():
    nnc, ir_c, models = sys.argv[1], sys.argv[2], sys.argv[3:]
    table = re.findall(r'\[OP_(\w+)\]\s*=\s*\{"(\w+)"', open(ir_c).read())
    ops = [name for key, name in table if key != "NONE"]
    if len(ops) < 10:
        sys.exit("op_coverage: could not read the op table from %s" % ir_c)
    forward, anywhere, rules = set(), set(), set()
    rule_only = {"slot", "hyper"}
    for m in models:
        dump = subprocess.run([nnc, "--emit=rules", m], check=True, capture_output=True, text=True).stdout
        rules |= set(re.findall(r"^\s*%\d+ = ([a-z_]+)", dump, re.M))
        dump = subprocess.run([nnc, "--emit=grad", m], check=True, capture_output=True, text=True).stdout
        part = "forward"
        for line in dump.splitlines():
            if line.strip() == "# backward":
                part = "backward"
            hit = re.match(r"\s*%\d+ = ([a-z_]+)((?:\.t[ab])*)", line)
            if hit:
                anywhere.add(hit.group(1) + hit.group(2))
                if part == "forward":
                    forward.add(hit.group(1))
    missing = [op for op in ops if op not in (rules if op in rule_only else forward)]
    missing += [v for v in ("matmul", "matmul.ta", "matmul.tb") if v not in anywhere]
    print("%d ops in the table, %d models" % (len(ops), len(models)))
    print("covered: " + " ".join(op for op in ops if op in forward or op in rules))
    if missing:
        print("not covered by any per-op model: " + " ".join(missing))
        return 1
    print("every op is covered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
