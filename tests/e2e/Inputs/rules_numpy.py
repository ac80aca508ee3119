"""Checks every optimizer of stdlib/optim.nn against an independent numpy reference.

usage: rules_numpy.py PROGRAM DATA.csv WORKDIR

PROGRAM is tests/e2e/Inputs/rules-numpy-q.nn compiled, whose full-batch gradient numpy
knows exactly: dL/dw = mean(x) + w and dL/dv = 2v - 1, whatever the sample order. The
references below are written from the published definitions (the PyTorch documentation's
pseudocode for SGD, momentum, Nesterov, Adagrad, RMSprop, Adam and AdamW; Chen et al.'s
Program 1 for Lion; You et al.'s Algorithm 2 for LAMB), not from optim.nn, in float32 as
the compiled rules compute. Each run, with --batch all so that an epoch is one update:

  c0: --epochs 0 --save: the initial parameters, every state (must be zeros) and t = 0;
  c1: --load c0 --epochs K: compared with K reference steps from c0's parameters;
  c2: --load c1 --epochs K+M: M reference steps from c1's parameters AND states, so the
      resumed run must pick up every state and the step number (t + 1: Adam's bias
      correction) where c1 left them;
  straight: --load c0 --epochs K+M --separate-update, no resume, the runtime applying
      the rule after the gradient: compared with K+M reference steps from c0.

Each checkpoint's parameters and every optimizer state array are compared, and its
update count t, its rule and its recorded hyperparameters are checked (c1 and c2 resume
without any optimizer flag: the hyperparameters must come back from the checkpoint).

Tolerance: |runtime - numpy| <= 1e-6 * scale per array, the scale being the largest
magnitude the reference array held on the way (about 8 float32 ulps of it; a velocity
that has decayed still carries the rounding of the larger terms it summed). Both sides
compute the same formula in float32 but in a different order of operations (the runtime
averages per-sample gradients, LLVM may fuse a multiply and an add, Nesterov's state is
mapped between conventions), so each step may differ by a few half-ulp roundings; over
these few steps that stays below 0.3 of the tolerance, while a real difference in a rule
(a missing bias correction, eps on the wrong side of the sqrt, a decay applied to the
gradient instead of the weights, a missing trust ratio, a state or step number not
restored on resume) exceeds it several times over in at least one run. Sign-sensitive
runs (Lion's sign, l1's sign(w)) are checked to stay at least 1e-4 away from a sign
change, so no rounding can flip one.

Prints one line per run (FAIL: ... on any mismatch) and a summary:
  <rules> rules, <runs> runs, <failed> failed
"""
import struct
import subprocess
import sys
import zlib

import numpy as np

F = np.float32
K, M = 5, 4  # updates before the checkpoint, and after resuming
TOL = 1e-6
MARGIN = 1e-4  # the least |argument| of a sign(): far beyond any rounding (1e-6)

# (rule, flags, seed). Together they give every hyperparameter a non-default value
# somewhere and take every branch: centered and not, momentum and not, weight decay and
# l1. The second Lion run's lr overshoots, so that g changes sign and its momentum
# disagrees with it (where the order of Lion's two interpolations shows); its seed keeps
# every sign() argument away from 0.
RUNS = [
    ("sgd", "--lr 0.1", 12),
    ("sgd", "--lr 0.05 --weight-decay 0.1 --l1 0.02", 13),
    ("momentum", "--lr 0.05", 14),
    ("momentum", "--lr 0.05 --momentum 0.7 --weight-decay 0.1 --l1 0.02", 15),
    ("nesterov", "--lr 0.05", 16),
    ("nesterov", "--lr 0.05 --momentum 0.6 --weight-decay 0.1 --l1 0.02", 17),
    ("adagrad", "--lr 0.1", 18),
    ("adagrad", "--lr 0.1 --eps 0.01 --weight-decay 0.1 --l1 0.02", 19),
    ("rmsprop", "--lr 0.01", 20),
    ("rmsprop", "--lr 0.01 --momentum 0.5", 21),
    ("rmsprop", "--lr 0.01 --centered=true", 22),
    ("rmsprop", "--lr 0.01 --rho 0.8 --eps 0.01 --centered=true --momentum 0.5 --weight-decay 0.1 --l1 0.02", 23),
    ("adam", "--lr 0.05", 24),
    ("adam", "--lr 0.05 --beta1 0.8 --beta2 0.99 --eps 0.01 --weight-decay 0.1 --l1 0.02", 25),
    ("adamw", "--lr 0.05", 26),
    ("adamw", "--lr 0.05 --beta1 0.8 --beta2 0.99 --eps 0.01 --weight-decay 0.2 --l1 0.02", 27),
    ("lion", "--lr 0.01", 28),
    ("lion", "--lr 0.3 --beta1 0.5 --beta2 0.9 --weight-decay 0.5", 44),
    ("lamb", "--lr 0.05", 30),
    ("lamb", "--lr 0.05 --beta1 0.8 --beta2 0.99 --eps 0.01 --weight-decay 0.1", 31),
]


class Bad(Exception):
    pass


# ---- the checkpoint (format 2, runtime/checkpoint.c) ----

def read_ckpt(path):
    b = open(path, "rb").read()
    pos = [0]

    def take(fmt):
        v = struct.unpack_from("<" + fmt, b, pos[0])
        pos[0] += struct.calcsize("<" + fmt)
        return v if len(v) > 1 else v[0]

    def string():
        n = take("I")
        s = b[pos[0]:pos[0] + n].decode()
        pos[0] += n
        return s

    if b[:8] != b"NNRTCKPT":
        raise Bad("%s: bad magic" % path)
    pos[0] = 8
    version, _abi, length = take("I"), take("I"), take("q")
    if version != 2 or length != len(b):
        raise Bad("%s: format %d, length %d of %d" % (path, version, length, len(b)))
    if struct.unpack_from("<I", b, len(b) - 4)[0] != zlib.crc32(b[:-4]):
        raise Bad("%s: CRC mismatch" % path)
    ck = {"model": string(), "rule": string()}
    ck["epoch"], ck["batch_pos"], ck["t"] = take("q"), take("q"), take("q")
    take("4Q")  # shuffle RNG
    take("d"), take("q"), take("q")  # loss_sum, seen, steps
    n_metrics = take("I")
    for _ in range(n_metrics):
        take("d")
    take("d"), take("q"), take("q")  # early stopping
    ck["options"] = {}
    for _ in range(take("I")):
        k = string()
        ck["options"][k] = string()
    n_perm = take("q")
    pos[0] += 8 * n_perm
    names = [string() for _ in range(take("I"))]
    ck["params"], ck["states"] = {}, {}
    for _ in range(take("I")):
        name, kind, rank = string(), take("I"), take("I")
        for _ in range(rank):
            take("q")
        size = take("Q")

        def floats():
            a = np.frombuffer(b, dtype="<f4", count=size, offset=pos[0]).astype(F)
            pos[0] += 4 * size
            return a

        if kind != 1:
            floats()
            continue
        ck["params"][name] = floats()
        ck["states"][name] = {s: floats() for s in names}
    if pos[0] != len(b) - 4:
        raise Bad("%s: %d bytes left over" % (path, len(b) - 4 - pos[0]))
    return ck


# ---- the references, from the published definitions ----
# Each rule: step(w, g, s, h, t) -> the new w, updating its state s (named as the paper
# or PyTorch names it); and (to_ckpt, from_ckpt), which map s to and from the
# checkpoint's state arrays (optim.nn's names). h holds float32 hyperparameters,
# t the 1-based update number. g is the loss's gradient; weight decay and l1 below are
# the L2 penalty's gradient wd * w (PyTorch's weight_decay) and the L1 penalty's
# subgradient l1 * sign(w).

def penalised(g, w, h):
    return g + h["weight_decay"] * w + h.get("l1", F(0)) * np.sign(w)


def sgd_step(w, g, s, h, t):  # torch.optim.SGD, momentum 0
    g = penalised(g, w, h)
    return w - h["lr"] * g


def momentum_step(w, g, s, h, t):  # torch.optim.SGD(momentum=mu), dampening 0: b_1 = g
    g = penalised(g, w, h)
    s["b"] = g.copy() if t == 1 else h["momentum"] * s["b"] + g
    return w - h["lr"] * s["b"]


def nesterov_step(w, g, s, h, t):  # torch.optim.SGD(momentum=mu, nesterov=True)
    g = penalised(g, w, h)
    s["b"] = g.copy() if t == 1 else h["momentum"] * s["b"] + g
    return w - h["lr"] * (g + h["momentum"] * s["b"])


def adagrad_step(w, g, s, h, t):  # torch.optim.Adagrad, lr_decay 0, initial accumulator 0
    g = penalised(g, w, h)
    s["state_sum"] = s["state_sum"] + g * g
    return w - h["lr"] * g / (np.sqrt(s["state_sum"]) + h["eps"])


def rmsprop_step(w, g, s, h, t):  # torch.optim.RMSprop (alpha = rho)
    g = penalised(g, w, h)
    a = h["rho"]
    s["v"] = a * s["v"] + (F(1) - a) * g * g
    if h["centered"]:
        s["g_ave"] = a * s["g_ave"] + (F(1) - a) * g
        avg = np.sqrt(s["v"] - s["g_ave"] * s["g_ave"]) + h["eps"]
    else:
        s["g_ave"] = None  # PyTorch keeps no g_ave unless centered
        avg = np.sqrt(s["v"]) + h["eps"]
    if h["momentum"] > 0:
        s["b"] = h["momentum"] * s["b"] + g / avg
        return w - h["lr"] * s["b"]
    s["b"] = None  # nor a momentum buffer without momentum
    return w - h["lr"] * g / avg


def adam_moments(g, s, h, t):
    b1, b2 = h["beta1"], h["beta2"]
    s["m"] = b1 * s["m"] + (F(1) - b1) * g
    s["v"] = b2 * s["v"] + (F(1) - b2) * g * g
    m_hat = s["m"] / (F(1) - b1 ** F(t))
    v_hat = s["v"] / (F(1) - b2 ** F(t))
    return m_hat / (np.sqrt(v_hat) + h["eps"])


def adam_step(w, g, s, h, t):  # torch.optim.Adam (L2 weight decay), amsgrad off
    g = penalised(g, w, h)
    return w - h["lr"] * adam_moments(g, s, h, t)


def adamw_step(w, g, s, h, t):  # torch.optim.AdamW: decoupled decay, then Adam
    g = g + h["l1"] * np.sign(w)
    w = w * (F(1) - h["lr"] * h["weight_decay"])
    return w - h["lr"] * adam_moments(g, s, h, t)


def lion_step(w, g, s, h, t):  # Chen et al. 2023, Program 1
    c = h["beta1"] * s["m"] + (F(1) - h["beta1"]) * g
    if np.min(np.abs(c)) < MARGIN:
        raise Bad("ill-conditioned: sign() of %g at step %d" % (np.min(np.abs(c)), t))
    update = np.sign(c) + h["weight_decay"] * w
    s["m"] = h["beta2"] * s["m"] + (F(1) - h["beta2"]) * g
    return w - h["lr"] * update


def lamb_step(w, g, s, h, t):  # You et al. 2020, Algorithm 2, phi = identity, per tensor
    r = adam_moments(g, s, h, t) + h["weight_decay"] * w
    w_norm, r_norm = np.sqrt(np.sum(w * w)), np.sqrt(np.sum(r * r))
    trust = w_norm / r_norm if w_norm > 0 and r_norm > 0 else F(1)
    return w - h["lr"] * trust * r


def same(*pairs):  # the state is the checkpoint's, element for element, renamed
    fwd = dict(pairs)
    back = {v: k for k, v in pairs}
    return (lambda s, h: {fwd[k]: v for k, v in s.items()},
            lambda c, h: {back[k]: v.copy() for k, v in c.items()})
# A state the published rule does not keep in a run's configuration (None: RMSprop's
# g_ave when not centered, its buffer without momentum) must be in the checkpoint but
# its values are not compared: optim.nn's rule as written updates it anyway, while the
# variant the compiler folds for all-default settings keeps it at zeros ("not kept").


RULES = {
    "sgd": (sgd_step, same()),
    "momentum": (momentum_step, same(("b", "velocity"))),
    # optim.nn keeps the velocity the Sutskever / Keras way, v = mu v - lr g, which is
    # -lr times PyTorch's buffer b when lr is constant (as here).
    "nesterov": (nesterov_step,
                 (lambda s, h: {"velocity": -h["lr"] * s["b"]},
                  lambda c, h: {"b": -c["velocity"] / h["lr"]})),
    "adagrad": (adagrad_step, same(("state_sum", "accumulator"))),
    "rmsprop": (rmsprop_step,
                same(("v", "square_avg"), ("g_ave", "grad_avg"), ("b", "momentum_buffer"))),
    "adam": (adam_step, same(("m", "exp_avg"), ("v", "exp_avg_sq"))),
    "adamw": (adamw_step, same(("m", "exp_avg"), ("v", "exp_avg_sq"))),
    "lion": (lion_step, same(("m", "exp_avg"))),
    "lamb": (lamb_step, same(("m", "exp_avg"), ("v", "exp_avg_sq"))),
}


def gradient(name, p, xbar):
    if name == "w":
        return xbar + p  # d/dw [sum(w * x) + 0.5 sum(w * w)], averaged over the batch
    return F(2) * p - F(1)  # d/dv [sum(v * v) - sum(v)]


def reference(rule, h, params, state, t0, n, xbar):
    """n updates from params and state (checkpoint form) after t0 updates: the final
    parameters and states (checkpoint form), and the scale of each: the largest
    magnitude it held on the way (a velocity that has decayed since still carries the
    rounding of the larger values it summed)."""
    step, (to_ck, from_ck) = RULES[rule]
    params = {k: v.copy() for k, v in params.items()}
    st = {k: from_ck(v, h) for k, v in state.items()}
    scale = {}

    def seen(k, arrays):
        for s, a in arrays.items():
            if a is not None:
                scale[k, s] = max(scale.get((k, s), 0.0), float(np.max(np.abs(a))))

    for t in range(t0 + 1, t0 + n + 1):
        for k in params:
            seen(k, dict(to_ck(st[k], h), **{"": params[k]}))
            if h.get("l1", 0) > 0 and np.min(np.abs(params[k])) < MARGIN:
                raise Bad("ill-conditioned: sign(%s) near 0 at step %d" % (k, t))
            params[k] = step(params[k], gradient(k, params[k], xbar).astype(F), st[k], h, t).astype(F)
            for s in st[k]:
                if st[k][s] is not None:
                    st[k][s] = st[k][s].astype(F)
    state = {k: to_ck(v, h) for k, v in st.items()}
    for k in params:
        seen(k, dict(state[k], **{"": params[k]}))
    return params, state, scale


def compare(what, ck, params, state, scale, worst):
    for k, ref in params.items():
        arrays = [("%s %s" % (what, k), ck["params"][k], ref, scale[k, ""])]
        if set(ck["states"][k]) != set(state[k]):
            raise Bad("%s: states %s, the reference has %s" % (what, sorted(ck["states"][k]), sorted(state[k])))
        arrays += [("%s %s.%s" % (what, k, s), ck["states"][k][s], a, scale[k, s])
                   for s, a in state[k].items() if a is not None]
        for name, got, want, size in arrays:
            err = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
            tol = TOL * size
            if err > tol or not np.all(np.isfinite(got)):
                raise Bad("%s: %s, numpy %s (error %.3g > %.3g)" % (name, got.tolist(), want.tolist(), err, tol))
            if tol > 0:
                worst[0] = max(worst[0], err / tol)


def number(v):
    return {"true": 1.0, "false": 0.0}.get(v) if v in ("true", "false") else float(v)


def flag_values(flags):
    """{hyperparameter: value} of a run's flags (--name X or --name=X)."""
    out, words = {}, flags.split()
    for i, f in enumerate(words):
        if f.startswith("--"):
            key, eq, val = f[2:].partition("=")
            out[key.replace("-", "_")] = number(val if eq else words[i + 1])
    return out


def hypers(ck, names, flags):
    """The rule's hyperparameters as the checkpoint records them (float32, or a bool),
    after checking that it records each that the run set."""
    for k, v in flag_values(flags).items():
        if k not in ck["options"] or number(ck["options"][k]) != v:
            raise Bad("the checkpoint records %s = %s, the run set %s" % (k, ck["options"].get(k), v))
    h = {}
    for k in names:
        if k not in ck["options"]:
            raise Bad("the checkpoint records no %s" % k)
        v = ck["options"][k]
        h[k] = v == "true" if v in ("true", "false") else F(float(v))
    return h


def rule_hypers(prog, rule):
    """The rule's hyperparameters, from the program's help: '--weight-decay X  adam: ...'."""
    out = subprocess.run([prog, "--optimizer", rule, "--help"], capture_output=True, text=True).stdout
    return [line.split()[0][2:].replace("-", "_") for line in out.splitlines()
            if line.startswith("  --") and (" %s: " % rule) in line]


def run(prog, args):
    p = subprocess.run([prog, "--quiet"] + args, capture_output=True, text=True)
    if p.returncode != 0:
        raise Bad("%s %s: exit %d: %s" % (prog, " ".join(args), p.returncode, p.stderr.strip()))


def check_run(i, rule, flags, seed, names, prog, data, work, xbar):
    c0, c1, c2, cs = ("%s/%d-%s.ckpt" % (work, i, n) for n in ("c0", "c1", "c2", "straight"))
    d = ["--data", "csv:" + data]
    # c1 and c2 resume with no optimizer flag: the rule and its settings come back from
    # the checkpoint.
    run(prog, d + ["--batch", "all", "--seed", str(seed), "--epochs", "0", "--optimizer", rule] +
        flags.split() + ["--save", c0])
    run(prog, d + ["--load", c0, "--epochs", str(K), "--save", c1])
    run(prog, d + ["--load", c1, "--epochs", str(K + M), "--save", c2])
    run(prog, d + ["--load", c0, "--epochs", str(K + M), "--separate-update", "--save", cs])
    ck0, ck1, ck2, cks = (read_ckpt(p) for p in (c0, c1, c2, cs))
    h = hypers(ck0, names, flags)
    for path, ck, t in ((c0, ck0, 0), (c1, ck1, K), (c2, ck2, K + M), (cs, cks, K + M)):
        if ck["rule"] != rule or ck["t"] != t or ck["epoch"] != t:
            raise Bad("%s: rule %s, epoch %d, t %d; expected %s after %d" %
                      (path, ck["rule"], ck["epoch"], ck["t"], rule, t))
        if hypers(ck, names, flags) != h:
            raise Bad("%s: hyperparameters %s, c0 has %s" % (path, hypers(ck, names, flags), h))
    for k in ck0["params"]:
        for s, a in ck0["states"][k].items():
            if np.any(a != 0):
                raise Bad("c0: state %s.%s starts at %s, not zeros" % (k, s, a.tolist()))
    worst = [0.0]
    compare("c1", ck1, *reference(rule, h, ck0["params"], ck0["states"], 0, K, xbar), worst)
    compare("c2 (resumed)", ck2, *reference(rule, h, ck1["params"], ck1["states"], K, M, xbar), worst)
    compare("straight", cks, *reference(rule, h, ck0["params"], ck0["states"], 0, K + M, xbar), worst)
    return worst[0]


def main():
    prog, data, work = sys.argv[1], sys.argv[2], sys.argv[3]
    x = np.loadtxt(data, delimiter=",", dtype=np.float64, ndmin=2)
    xbar = x.mean(axis=0).astype(F)  # the csv holds quarters: the mean is exact in float32
    help_text = subprocess.run([prog, "--help"], capture_output=True, text=True).stdout
    listed = help_text.split("the update rule, one of ")[1].split(" (default")[0].split(", ")
    names = {rule: rule_hypers(prog, rule) for rule in listed}
    failed, tested = 0, {}
    for i, (rule, flags, seed) in enumerate(RUNS):
        label = "%s %s" % (rule, flags)
        tested.setdefault(rule, set()).update(flag_values(flags))
        try:
            worst = check_run(i, rule, flags, seed, names[rule], prog, data, work, xbar)
            print("%s: %d+%d updates, worst error %.2f of the tolerance" % (label, K, M, worst))
        except Bad as e:
            failed += 1
            print("FAIL: %s: %s" % (label, e))
    for rule in listed:  # every rule run, and each of its hyperparameters set
        unset = sorted(set(names[rule]) - tested.get(rule, set()))
        if unset:
            failed += 1
            print("FAIL: %s: never run with %s set" % (rule, ", ".join(unset)))
    print("%d rules, %d runs, %d failed" % (len(listed), len(RUNS), failed))


if __name__ == "__main__":
    main()
