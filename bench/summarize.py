#!/usr/bin/python3
"""Turns bench/run's raw measurements into the markdown report.

usage: summarize.py RAW.tsv HEADER.md [--readme README.md]

RAW.tsv has one row per measured process: rep, threads, mode, impl, exit status, peak RSS
in KB, the CPU % other processes used just before it started, its involuntary context
switches, and the program's `RESULT {json}` (or, for a failure, the reason). Each program
timed --epochs passes; the *last* pass is the measurement (the first warms up). One thread
is the headline (median of the interleaved repetitions); two threads show best and
median, since this kind of machine runs two threads in slow phases now and then.
With --readme, the report replaces what README.md holds between its bench markers.
"""

import json
import os
import statistics
import sys
from collections import defaultdict

MODES = {  # mode: (title, unit, scale from seconds per step-or-epoch, per-step?)
    "b128": ("batch 128: one epoch of {n:,} samples ({steps} steps)", "s/epoch", 1.0, False),
    "b1": ("batch 1, RMSprop (the flagship's optimizer): {steps:,} steps, time per step", "µs/step", 1e6, True),
    "b1sgd": ("batch 1, plain SGD (the seed's true SGD: one sample a step, `w -= lr*g`): "
              "{steps:,} steps, time per step", "µs/step", 1e6, True),
    "full": ("full batch: one step on all {n:,} samples", "ms/step", 1e3, True),
    "b128adam": ("batch 128, Adam: one epoch of {n:,} samples ({steps} steps)", "s/epoch", 1.0, False),
    "b1adam": ("batch 1, Adam: {steps:,} steps, time per step", "µs/step", 1e6, True),
    "b128lion": ("batch 128, Lion: one epoch of {n:,} samples ({steps} steps)", "s/epoch", 1.0, False),
    "b1lion": ("batch 1, Lion: {steps:,} steps, time per step", "µs/step", 1e6, True),
}
OPTS = {"b1sgd": "plain SGD", "b128adam": "Adam", "b1adam": "Adam", "b128lion": "Lion", "b1lion": "Lion"}
NNC_OPTS = {"b1sgd": " `--optimizer sgd --lr 0.01`", "b128adam": " `--optimizer adam`",
            "b1adam": " `--optimizer adam`", "b128lion": " `--optimizer lion --lr 0.0001`",
            "b1lion": " `--optimizer lion --lr 0.0001`"}
# the baseline (ABI 3) had no plain-SGD rule: its sgd with momentum 0 is one
BASE_OPTS = {"b1sgd": " `--optimizer sgd --momentum 0 --lr 0.01`"}
IMPLS = [  # impl: label ({opt}: the mode's optimizer)
    ("nnc", "nnc (`./train`{nnc_opt})"),
    ("nnc-base", "nnc at baseline {base} (`./train`{nnc_opt})"),
    ("cblas", "CBLAS-only floor (the step's 5 `cblas_sgemm` calls)"),
    ("numpy", "numpy, hand-written, {opt}"),
    ("numpy-momentum", "numpy, hand-written, SGD + momentum (cheaper update)"),
    ("torch", "PyTorch {torch}, {opt}{torch_note}"),
]


def label(template, mode, versions):
    note = " (`torch.optim.Optimizer` written in `torch_mnist.py`)" if mode.endswith("lion") else ""
    return template.format(opt=OPTS.get(mode, "RMSprop"), **versions, torch_note=note,
                           nnc_opt=(BASE_OPTS if "{base}" in template else {}).get(mode, NNC_OPTS.get(mode, "")))
# Issue 6's targets, reported (never enforced: timings make no pass/fail test).
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def load(path):
    runs = defaultdict(list)   # (mode, impl, threads) -> [record]
    failures = defaultdict(list)
    compile_s = defaultdict(list)   # compile, load (nnc), compile-base: wall-clock seconds
    for line in open(path, encoding="utf-8"):
        rep, threads, mode, impl, rc, rss, busy, ics, payload = line.rstrip("\n").split("\t", 8)
        key = (mode, impl, int(threads))
        if rc != "0":
            failures[key].append(payload)
            continue
        rec = json.loads(payload)
        if mode in ("compile", "load"):
            compile_s[mode + ("-base" if impl == "nnc-base" else "")].append(rec["seconds"])
            continue
        rec["rss_mb"] = int(rss) / 1024 if rss.isdigit() else None
        rec["rep"] = int(rep)
        rec["busy"] = int(busy) if busy.isdigit() else None   # others' CPU % just before
        rec["ics"] = int(ics) if ics.isdigit() else None      # involuntary context switches
        runs[key].append(rec)
    return runs, failures, compile_s


def per_unit(rec, mode):
    """The measured quantity: the last epoch's seconds, per epoch or per step."""
    t = rec["epoch_s"][-1]
    _, _, scale, per_step = MODES[mode]
    return (t / rec["steps_per_epoch"] if per_step else t) * scale


def fmt(v, digits=3):
    if v is None:
        return "—"
    if v >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}" if v < 100 else f"{v:.0f}"


def table(runs, failures, mode, threads, versions):
    keys = [(mode, impl, threads) for impl, _ in IMPLS]
    present = [k for k in keys if runs.get(k) or failures.get(k)]
    if not present:
        return []
    any_rec = next(r[0] for k in present if (r := runs.get(k)))
    title, unit, _, _ = MODES[mode]
    out = [f"#### {title.format(n=any_rec['n'], steps=any_rec['steps_per_epoch'])}", ""]
    med = {}
    for k in keys:
        if runs.get(k):
            med[k[1]] = statistics.median(per_unit(r, mode) for r in runs[k])
    base = med.get("nnc")
    two = threads > 1
    head = ["implementation"]
    head += [f"{unit} best", f"{unit} median"] if two else [f"{unit} (median)"]
    head += ["samples/s", "peak RSS MB", "÷ nnc", "runs (spread max/min)"]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for impl, template in IMPLS:
        k = (mode, impl, threads)
        name = label(template, mode, versions)
        recs = runs.get(k, [])
        if not recs:
            if failures.get(k):
                why = failures[k][-1].replace("|", "/")[:90]
                out.append(f"| {name} | pending: {why} |" + " |" * (len(head) - 2))
            continue
        vals = sorted(per_unit(r, mode) for r in recs)
        m = med[impl]
        # samples/s from the median time: batch x steps / seconds of the last epoch.
        r0 = recs[0]
        sps = r0["n"] / (m / MODES[mode][2] * (r0["steps_per_epoch"] if MODES[mode][3] else 1))
        rss = [r["rss_mb"] for r in recs if r["rss_mb"] is not None]
        rss = f"{statistics.median(rss):.0f}" if rss else "—"
        ratio = f"{m / base:.2f}" if base else "pending"
        cells = [name] + ([fmt(vals[0]), fmt(m)] if two else [fmt(m)])
        cells += [f"{sps:,.0f}", rss, ratio,
                  f"{len(vals)} ({vals[-1] / vals[0]:.2f})"]
        out.append("| " + " | ".join(cells) + " |")
    return out + [""]


def targets(runs, compile_s):
    """Issue 11's item 5 (and issue 6's PyTorch ratios), from the same run's one-thread
    medians."""
    def med(mode, impl, what="t"):
        recs = runs.get((mode, impl, 1))
        if not recs:
            return None
        if what == "rss":
            rss = [r["rss_mb"] for r in recs if r["rss_mb"] is not None]
            return statistics.median(rss) if rss else None
        return statistics.median(per_unit(r, mode) for r in recs)

    rows = []
    def row(name, value, goal, ok):
        verdict = "pending" if value is None else ("met" if ok(value) else "not met")
        rows.append(f"| {name} | {'—' if value is None else f'{value:.2f}'} | {goal} | {verdict} |")

    def q(a, b):
        return None if a is None or b is None else a / b

    row("batch 128: nnc ÷ CBLAS floor", q(med("b128", "nnc"), med("b128", "cblas")), "≤ 1.0", lambda v: v <= 1.0)
    row("batch 128: PyTorch ÷ nnc", q(med("b128", "torch"), med("b128", "nnc")), "≥ 1.35", lambda v: v >= 1.35)
    row("batch 1, plain SGD (true SGD): nnc ÷ CBLAS floor", q(med("b1sgd", "nnc"), med("b1sgd", "cblas")), "≤ 0.45",
        lambda v: v <= 0.45)
    row("batch 1, plain SGD (true SGD): PyTorch ÷ nnc", q(med("b1sgd", "torch"), med("b1sgd", "nnc")), "≥ 7",
        lambda v: v >= 7)
    row("batch 1, RMSprop: nnc ÷ nnc at baseline", q(med("b1", "nnc"), med("b1", "nnc-base")), "≤ 1.05",
        lambda v: v <= 1.05)
    row("batch 1, RMSprop: PyTorch ÷ nnc", q(med("b1", "torch"), med("b1", "nnc")), "≥ 7", lambda v: v >= 7)
    for mode, what in (("b128", "batch 128"), ("b1sgd", "batch 1, plain SGD"), ("full", "full batch"),
                       ("b128adam", "batch 128, Adam"), ("b1adam", "batch 1, Adam")):
        if runs.get((mode, "nnc-base", 1)):
            row(f"{what}: nnc ÷ nnc at baseline", q(med(mode, "nnc"), med(mode, "nnc-base")), "≤ 1.05",
                lambda v: v <= 1.05)
    for mode, what in (("b128adam", "batch 128, Adam"), ("b1adam", "batch 1, Adam"),
                       ("b128lion", "batch 128, Lion"), ("b1lion", "batch 1, Lion")):
        row(f"{what}: PyTorch ÷ nnc", q(med(mode, "torch"), med(mode, "nnc")), "> 1 (reported)", lambda v: v > 1)
    row("peak RSS at batch 128: nnc ÷ PyTorch", q(med("b128", "nnc", "rss"), med("b128", "torch", "rss")), "< 1", lambda v: v < 1)
    c = statistics.median(compile_s["compile"]) if compile_s["compile"] else None
    row("`nnc examples/mnist.nn -o train`, seconds (median)", c, "< 1", lambda v: v < 1)
    if compile_s["compile-base"]:
        cb = statistics.median(compile_s["compile-base"])
        row("the same with the baseline nnc, seconds (median)", cb, "(reference)", lambda v: True)
    return ["#### Targets (issue 11, item 5; one thread, medians of this run; a report, not a test)", "",
            "| target | measured | goal | |", "|---|---|---|---|"] + rows + [""]


def raw(runs, failures):
    out = ["<details><summary>every measurement (the last pass of each process, by repetition; "
           "[the CPU % other processes used just before it])</summary>", ""]
    for (mode, impl, threads), recs in sorted(runs.items()):
        vals = ", ".join(f"{fmt(per_unit(r, mode), 4)} [{r['busy']}%]"
                         for r in sorted(recs, key=lambda r: r["rep"]))
        out.append(f"- {mode}, {impl}, {threads} thread{'s' if threads > 1 else ''} "
                   f"({MODES[mode][1]}): {vals}")
    for (mode, impl, threads), why in sorted(failures.items()):
        out.append(f"- {mode}, {impl}, {threads} threads: failed {len(why)}×: {why[-1]}")
    return out + ["", "</details>", ""]


def main():
    args = sys.argv[1:]
    readme = None
    if "--readme" in args:
        i = args.index("--readme")
        readme = args[i + 1]
        del args[i : i + 2]
    raw_path, header_path = args
    runs, failures, compile_s = load(raw_path)
    versions = {"torch": next((r["version"] for (m, i, t), rs in runs.items() if i == "torch"
                               for r in rs), ""),
                "base": os.environ.get("BENCH_BASE", "")}
    threads = sorted({t for (_, _, t) in list(runs) + list(failures)})
    out = [open(header_path, encoding="utf-8").read().rstrip(), ""]
    for t in threads:
        out.append(f"### {t} thread{'s' if t > 1 else ''}" +
                   (" (the headline: medians)" if t == 1 else
                    " (best and median: this machine's two-thread timings can be bimodal)"))
        out.append("")
        for mode in MODES:
            out += table(runs, failures, mode, t, versions)
    busy = [r["busy"] for rs in runs.values() for r in rs if r["busy"] is not None]
    if busy:
        quiet = int(os.environ.get("BENCH_QUIET_PCT", "10"))
        loud = sum(b >= quiet for b in busy)
        out += [f"Other processes' CPU use just before each measurement (bench/run waits, up to "
                f"`--max-wait` s, for it to fall under {quiet} %): median {statistics.median(busy):.0f} %, "
                f"max {max(busy)} %; {loud} of {len(busy)} measurements started on a busy machine"
                + (" — their numbers are less trustworthy." if loud else "."), ""]
    if compile_s["compile"]:
        c = compile_s["compile"]
        line = (f"Compile time, `nnc examples/mnist.nn -o train`: median {statistics.median(c):.3f} s, "
                f"best {min(c):.3f} s ({len(c)} runs)")
        if compile_s["compile-base"]:
            cb = compile_s["compile-base"]
            line += f"; the baseline nnc: median {statistics.median(cb):.3f} s, best {min(cb):.3f} s"
        out += [line + ".", ""]
    loads = [f"{impl} {statistics.median(r['load_s'] for r in runs[k]):.2f} s"
             for impl in ("numpy", "torch") if (k := ("b128", impl, 1)) in runs]
    if compile_s["load"] or loads:
        line = "Loading Fashion-MNIST (median): "
        if compile_s["load"]:
            line += (f"`./train --epochs 0` {statistics.median(compile_s['load']):.2f} s (the whole "
                     "process: start, training and test sets)")
        if loads:
            line += ("; " if compile_s["load"] else "") + ", ".join(loads) + \
                " (the training set, in the process, scaled to float32)"
        out += [line + ".", ""]
    if 1 in threads:
        out += targets(runs, compile_s)
    out += raw(runs, failures)
    report = "\n".join(out)
    print(report)
    if readme:
        text = open(readme, encoding="utf-8").read()
        a, b = text.index(BEGIN) + len(BEGIN), text.index(END)
        with open(readme, "w", encoding="utf-8") as f:
            f.write(text[:a] + "\n" + report + "\n" + text[b:])


if __name__ == "__main__":
    main()
