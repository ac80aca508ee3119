#!/usr/bin/env python3
"""Runs nnc on every file of a directory and checks that it fails gracefully.

Usage: run_all.py DIR [EMIT...]   (EMIT defaults to: graph ast)

For each file and each --emit stage: the exit status must be 0 or 1 (never a signal,
never 2, the usage error), nnc must finish within the time limit, sanitizers must stay
quiet, and every diagnostic line (': error:') must start with a path that exists, the
file's or another source file's. Prints "N files, K crashes" and exits 1 when K > 0.
"""
import os
import re
import shutil
import subprocess
import sys

TIMEOUT = 30
DIAG = re.compile(r"^(?P<path>[^:\n]+):(\d+:\d+:)? error: ")


def check(nnc, path, emit):
    """Returns a description of what went wrong, or None."""
    try:
        p = subprocess.run([nnc, "--emit=" + emit, path], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "timed out after %ds" % TIMEOUT
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode < 0:
        return "killed by signal %d" % -p.returncode
    if p.returncode not in (0, 1):
        return "exit status %d" % p.returncode
    for word in ("Sanitizer", "runtime error:", "internal compiler error", "unreachable"):
        if word in err:
            return "stderr mentions %r" % word
    for line in err.splitlines():
        if ": error:" not in line:
            continue
        m = DIAG.match(line)
        if not m or not os.path.exists(m.group("path")):
            return "diagnostic without a path: %r" % line
    if p.returncode == 1 and ": error:" not in err:
        return "exit status 1 without an error message"
    return None


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    directory = sys.argv[1]
    emits = sys.argv[2:] or ["graph", "ast"]
    nnc = shutil.which("nnc")
    if not nnc:
        sys.exit("run_all.py: nnc is not on PATH")
    files = sorted(os.path.join(directory, f) for f in os.listdir(directory)
                   if os.path.isfile(os.path.join(directory, f)))
    crashes = 0
    for path in files:
        for emit in emits:
            what = check(nnc, path, emit)
            if what:
                crashes += 1
                print("CRASH: nnc --emit=%s %s: %s" % (emit, path, what))
    print("%d files, %d crashes" % (len(files), crashes))
    sys.exit(1 if crashes else 0)


if __name__ == "__main__":
    main()
