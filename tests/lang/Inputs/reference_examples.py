"""Compiles every ```nn block of a Markdown file: reference_examples.py DOC OUTDIR.

Each block is a complete program, written to OUTDIR: a model must pass
`nnc --emit=grad` without errors, and a block without one (a library of optimizers)
`nnc --emit=rules`. Prints one line per block and a summary."""
import os
import subprocess
import sys

doc, outdir = sys.argv[1], sys.argv[2]
os.makedirs(outdir, exist_ok=True)
blocks, current, start = [], None, 0
with open(doc) as f:
    for n, line in enumerate(f, 1):
        if current is None and line.strip() == "```nn":
            current, start = [], n
        elif current is not None and line.strip() == "```":
            blocks.append((start, "".join(current)))
            current = None
        elif current is not None:
            current.append(line)
failed = 0
for i, (line, text) in enumerate(blocks):
    path = os.path.join(outdir, "example%d.nn" % i)
    with open(path, "w") as f:
        f.write(text)
    emit = "--emit=grad" if "model " in text else "--emit=rules"
    r = subprocess.run(["nnc", emit, path], capture_output=True, text=True)
    ok = r.returncode == 0 and "error" not in r.stderr
    failed += not ok
    print("%s:%d: %s" % (os.path.basename(doc), line, "ok" if ok else "FAILED\n" + r.stderr))
print("%d examples, %d failed" % (len(blocks), failed))
sys.exit(1 if failed or not blocks else 0)
