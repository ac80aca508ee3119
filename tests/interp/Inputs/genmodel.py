"""A seeded generator of random well-typed models over the whole op set.

usage: genmodel.py SEED [COUNT OUTDIR]
With one argument prints the model for SEED; with three writes COUNT models, seeds SEED..,
to OUTDIR/gen-SEED.nn and prints their paths.

Each model declares a few inputs (vectors, a matrix, a class label), then a chain of
bindings, each one random op applied to earlier values of compatible per-sample shapes:
elementwise ops with numpy broadcasting (operands of different shapes, new parameters
shaped to broadcast within a sample, parameters against batched values), reductions over
every axis or all of them, matmuls in each orientation the language has, products of two
parameters and a parameter used twice (tied weights), the last-axis
family, indexing by the label, transpose, reshape and flatten, and comparisons of input
data as masks and as where's condition. Arguments are kept in the domain of log, sqrt, / and ^ by construction
(log(1 + v * v), sqrt(abs(v) + 0.5), ...) and values stay O(1) through tanh and sigmoid,
so that every model has a finite loss and finite differences mean something. The loss
sums every binding (so none is unused) and depends on every parameter.
"""
import random
import re
import sys

DIMS = [2, 3, 4]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.seed = seed
        self.lines = []
        self.params = []
        self.values = []  # (expr name, shape tuple, depends on a param, depends on an input)
        self.k = self.r.choice([3, 4, 5])
        # Values that may hold equal elements that move together (a parameter-dependent
        # value broadcast, then masked, t * (x > 0.5), or clipped, min(m, t)). max and min over them hit a known
        # bug (the maxto rule gives every tied element the whole gradient; see
        # maxto-ties.nn), so reductions over them use sum and mean instead.
        self.dup = set()

    def param(self, shape):
        name = "p%d" % len(self.params)
        self.params.append((name, shape))
        return (name, shape, True, False)

    def bind(self, expr, shape, p, i, dup=False):
        name = "t%d" % len(self.values)
        self.lines.append("  %s = %s" % (name, expr))
        if dup or set(re.findall(r"\bt\d+\b", expr)) & self.dup:
            self.dup.add(name)
        self.values.append((name, shape, p, i))
        return (name, shape, p, i)

    def pick(self, pred=lambda v: True):
        cands = [v for v in self.values if pred(v)]
        return self.r.choice(cands) if cands else None

    # -- shapes --------------------------------------------------------------------------

    @staticmethod
    def broadcast(a, b):
        n = max(len(a), len(b))
        a2, b2 = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
        out = []
        for x, y in zip(a2, b2):
            if x != y and x != 1 and y != 1:
                return None
            out.append(max(x, y))
        return tuple(out)

    def compatible_shape(self, s):
        """A shape that broadcasts against s without growing it: a suffix, some dims 1."""
        if not s or self.r.random() < 0.2:
            return ()
        suffix = s[self.r.randrange(len(s)):]
        return tuple(1 if self.r.random() < 0.3 else d for d in suffix)

    def partner(self, a):
        """A second operand for a: an earlier value of a compatible shape, or a new param."""
        if self.r.random() < 0.5:
            b = self.pick(lambda v: v is not a and self.broadcast(a[1], v[1]) is not None and
                          len(self.broadcast(a[1], v[1])) <= 3)
            if b:
                return b
        return self.param(self.compatible_shape(a[1]))

    # -- ops -----------------------------------------------------------------------------

    def unary(self, v):
        f = self.r.choice(["-(%s)", "tanh(%s)", "sigmoid(%s)", "relu(%s)", "abs(%s)", "exp(tanh(%s))",
                           "log(1 + %s * %s)", "sqrt(1 + %s * %s)", "sqrt(abs(%s) + 0.5)", "swish"])
        n = v[0]
        if f == "swish":  # a smooth composite: x * sigmoid(1.7 x)
            return self.bind("%s * sigmoid(1.7 * %s)" % (n, n), v[1], v[2], v[3])
        return self.bind(f.replace("%s", n), v[1], v[2], v[3])

    def binary(self, a):
        b = self.partner(a)
        s = self.broadcast(a[1], b[1])
        x, y = a[0], b[0]
        if self.r.random() < 0.5:
            x, y = y, x
        f = self.r.choice(["%s + %s", "%s - %s", "%s * %s", "%s / (1 + %s * %s)", "max(%s, %s)", "min(%s, %s)",
                           "(1 + %s * %s) ^ sigmoid(%s)", "(abs(%s) + 0.5) ^ 2 * %s", "(abs(%s) + 0.5) ^ 3 * %s",
                           "pow(1 + %s * %s, 0.5) * %s"])
        if f == "%s / (1 + %s * %s)":
            e = "%s / (1 + %s * %s)" % (x, y, y)
        elif f == "(1 + %s * %s) ^ sigmoid(%s)":
            e = "(1 + %s * %s) ^ sigmoid(%s)" % (x, x, y)
        elif f == "pow(1 + %s * %s, 0.5) * %s":
            e = "pow(1 + %s * %s, 0.5) * %s" % (x, x, y)
        else:
            e = f % (x, y)
        # max(m, t) with t broadcast equals t at many places: more tied copies
        dup = f in ("max(%s, %s)", "min(%s, %s)") and (a[1] != s or b[1] != s)
        return self.bind(e, s, a[2] or b[2], a[3] or b[3], dup=dup)

    def reduce(self, v):
        s = v[1]
        f = self.r.choice(["sum", "mean"] if v[0] in self.dup else ["sum", "mean", "max", "min"])
        if not s or self.r.random() < 0.3:
            return self.bind("%s(%s)" % (f, v[0]), (), v[2], v[3])
        axis = self.r.randrange(-len(s), len(s))
        out = tuple(d for i, d in enumerate(s) if i != axis % len(s))
        return self.bind("%s(%s, axis: %d)" % (f, v[0], axis), out, v[2], v[3])

    def matmul(self, v):
        s = v[1]
        m = self.r.choice(DIMS)
        if len(s) == 1:
            n = s[0]
            kind = self.r.randrange(3)
            if kind == 0:
                p = self.param((n, m))
                return self.bind("tanh(%s @ %s)" % (v[0], p[0]), (m,), True, v[3])
            if kind == 1:
                p = self.param((m, n))
                return self.bind("tanh(%s @ %s)" % (p[0], v[0]), (m,), True, v[3])
            w = self.pick(lambda u: u[1] == (n,) and u is not v) or self.param((n,))
            return self.bind("%s @ %s" % (v[0], w[0]), (), v[2] or w[2], v[3] or w[3])
        if len(s) == 2:
            if self.r.random() < 0.5:
                p = self.param((s[1], m))
                return self.bind("tanh(%s @ %s)" % (v[0], p[0]), (s[0], m), True, v[3])
            p = self.param((s[0], m))
            return self.bind("tanh(transpose(%s) @ %s)" % (v[0], p[0]), (s[1], m), True, v[3])
        return None

    def param_product(self, v):
        """Products of two parameters, and a parameter used twice (tied weights): one
        parameter's gradient then reads the other parameter."""
        s = v[1]
        if len(s) != 1:
            return None
        n, j, m = s[0], self.r.choice(DIMS), self.r.choice(DIMS)
        kind = self.r.randrange(3)
        if kind == 0:  # a low-rank factorisation: v @ (P @ Q)
            p, q = self.param((n, j)), self.param((j, m))
            return self.bind("tanh(%s @ (%s @ %s))" % (v[0], p[0], q[0]), (m,), True, v[3])
        if kind == 1:  # tied weights: an encoder and its transpose as the decoder
            p = self.param((n, j))
            return self.bind("tanh(%s @ %s) @ transpose(%s)" % (v[0], p[0], p[0]), (n,), True, v[3])
        p, q = self.param((n,)), self.param(())  # elementwise: v * (p * q)
        return self.bind("%s * (%s * %s)" % (v[0], p[0], q[0]), (n,), True, v[3])

    def last_axis(self, v):
        s = v[1]
        if not s:
            return None
        f = self.r.choice(["logsumexp", "softmax", "log_softmax"])
        return self.bind("%s(%s)" % (f, v[0]), s[:-1] if f == "logsumexp" else s, v[2], v[3])

    def gather(self, v):
        if len(v[1]) != 1:
            return None
        if v[1] != (self.k,):
            p = self.param((v[1][0], self.k))
            v = self.bind("tanh(%s @ %s)" % (v[0], p[0]), (self.k,), True, v[3])
        return self.bind("%s[y]" % v[0], (), v[2], True)

    def structural(self, v):
        s = v[1]
        if len(s) == 2 and self.r.random() < 0.5:
            return self.bind("transpose(%s)" % v[0], (s[1], s[0]), v[2], v[3])
        if len(s) >= 2:
            if self.r.random() < 0.5:
                n = 1
                for d in s:
                    n *= d
                return self.bind("flatten(%s)" % v[0], (n,), v[2], v[3])
            return self.bind("reshape(%s, %s)" % (v[0], ", ".join(map(str, reversed(s)))), tuple(reversed(s)), v[2], v[3])
        if len(s) == 1 and s[0] == 4:
            return self.bind("reshape(%s, 2, 2)" % v[0], (2, 2), v[2], v[3])
        return None

    def mask(self, v):
        """v times a comparison of input data (no parameter may flow into a comparison)."""
        u = self.pick(lambda w: not w[2] and w[3] and self.broadcast(v[1], w[1]) is not None and
                      len(self.broadcast(v[1], w[1])) <= 3)
        if not u:
            return None
        c = self.r.choice(["(%s > 0.5)", "(%s >= 0.3)", "(%s < 0.6)", "(%s <= 0.4)", "(%s != 0.5)", "(%s == %s)"])
        c = c.replace("%s", u[0])
        out = self.broadcast(v[1], u[1])
        if self.r.random() < 0.3:  # where: the data picks v or a parameter
            p = self.param(self.compatible_shape(out))
            return self.bind("where(%s, %s, %s)" % (c, v[0], p[0]), out, True, True, dup=out != v[1])
        return self.bind("%s * %s" % (v[0], c), out, v[2], True, dup=v[2] and out != v[1])

    def operand(self):
        """Mostly a value that depends on a parameter: only those have gradients to check."""
        if self.r.random() < 0.75:
            v = self.pick(lambda v: v[2])
            if v:
                return v
        return self.pick()

    def step(self):
        v = self.operand()
        for _ in range(10):
            op = self.r.choice([self.unary, self.binary, self.binary, self.reduce, self.matmul, self.matmul,
                                self.last_axis, self.gather, self.structural, self.mask, self.param_product])
            if op(v):
                return
            v = self.operand()
        self.unary(v)

    def model(self):
        r = self.r
        n, rows = r.choice(DIMS), r.choice(DIMS)
        inputs = [("x", (n,)), ("m", (rows, n)), ("c", (2, 3, 4))]
        name = "gen%d" % self.seed
        for iname, s in inputs:
            self.values.append((iname, s, False, True))
        # a parameter over the batch from the start, so that every model has one
        self.matmul(self.values[0])
        for _ in range(r.randrange(5, 13)):
            self.step()
        # the loss: every binding, reduced to a per-sample scalar; all used, so no warnings
        terms = []
        for v in self.values[3:]:
            terms.append(v[0] if not v[1] else r.choice(["sum", "mean"]) + "(%s)" % v[0])
        z = self.param((n, self.k))
        out = ["# generated by tests/interp/Inputs/genmodel.py %d" % self.seed, "model %s {" % name]
        out += ["  input %s : f32[%s]" % (iname, ", ".join(map(str, s))) for iname, s in inputs]
        out.append("  input y : class[%d]" % self.k)
        out += ["  param %s : f32%s" % (p, "[%s]" % ", ".join(map(str, s)) if s else "") for p, s in self.params]
        out += self.lines
        # a classifier head on x, for the label, the output and the metric; m and c are
        # used whether or not a binding picked them
        out.append("  z = tanh(x @ %s)" % z[0])
        out.append("  loss = 0.1 * (%s) + logsumexp(z) - z[y] + mean(m) + sum(c) / 24" % " + ".join(terms))
        out.append("  output probs = softmax(z)")
        out.append("  metric accuracy = argmax(z) == y")
        out.append("}")
        return "\n".join(out) + "\n"


def main():
    seed = int(sys.argv[1])
    if len(sys.argv) == 2:
        sys.stdout.write(Gen(seed).model())
        return
    count, outdir = int(sys.argv[2]), sys.argv[3]
    for s in range(seed, seed + count):
        path = "%s/gen-%d.nn" % (outdir, s)
        with open(path, "w") as f:
            f.write(Gen(s).model())
        print(path)


if __name__ == "__main__":
    main()
