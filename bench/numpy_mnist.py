#!/usr/bin/python3
"""numpy peer of examples/mnist.nn: forward and backward written by hand, the way one
would without a framework, but with the care a benchmark owes its peer: every GEMM and
elementwise op writes into a buffer allocated once per batch size (out=), transposes are
views that numpy hands to OpenBLAS as transpose flags, and OpenBLAS's threads are set by
bench/run with OPENBLAS_NUM_THREADS.

--optimizer rmsprop (default) is the .nn file's step (Keras's RMSprop: rho 0.9, eps 1e-7);
--optimizer momentum is SGD with momentum 0.9 (lr 0.01), the variant issue 6 quotes,
which saves the passes of RMSprop's update; --optimizer sgd is plain w -= lr*g (lr 0.01),
the seed's true SGD at batch 1.
"""

import time

import numpy as np

import mnist_common as mc


def options(p):
    p.add_argument("--optimizer", choices=("rmsprop", "momentum", "sgd"), default="rmsprop")


class Buffers:
    """The step's temporaries for one batch size (an epoch has two: 128 and the last 96)."""

    def __init__(self, b):
        f = np.float32
        self.x = np.empty((b, 784), f)
        self.y = np.empty(b, np.int64)
        self.z1 = np.empty((b, 512), f)  # pre-activation, then h = relu(z1) in place
        self.z2 = np.empty((b, 10), f)   # logits, then softmax, then dlogits in place
        self.dh = np.empty((b, 512), f)
        self.m = np.empty((b, 1), f)
        self.rows = np.arange(b)


def main():
    a = mc.parse_args("numpy peer of examples/mnist.nn", options)
    t0 = time.perf_counter()
    x, y = mc.load(a.data, a.limit)
    load_s = time.perf_counter() - t0
    n = len(x)
    batch = mc.batch_size(a.batch, n)

    rng = np.random.default_rng(a.seed)
    params = [mc.glorot_uniform(rng, 784, 512), np.zeros(512, np.float32),
              mc.glorot_uniform(rng, 512, 10), np.zeros(10, np.float32)]
    w1, b1, w2, b2 = params
    grads = [np.empty_like(p) for p in params]
    g_w1, g_b1, g_w2, g_b2 = grads
    state = [np.zeros_like(p) for p in params]   # RMSprop's mean square, or the velocity
    tmp = [np.empty_like(p) for p in params]
    rmsprop = a.optimizer == "rmsprop"
    lr = np.float32(0.001 if rmsprop else 0.01)
    rho, eps, mom = np.float32(0.9), np.float32(1e-7), np.float32(0.9)

    bufs = {}
    epoch_s = []
    for _ in range(a.epochs):
        loss_sum, correct = 0.0, 0
        t0 = time.perf_counter()
        perm = rng.permutation(n)
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            b = len(idx)
            if b not in bufs:
                bufs[b] = Buffers(b)
            B = bufs[b]
            np.take(x, idx, axis=0, out=B.x)
            np.take(y, idx, out=B.y)

            # forward
            np.dot(B.x, w1, out=B.z1)
            B.z1 += b1
            np.maximum(B.z1, 0, out=B.z1)                 # h
            np.dot(B.z1, w2, out=B.z2)
            B.z2 += b2                                      # logits
            correct += int(np.count_nonzero(B.z2.argmax(1) == B.y))
            np.max(B.z2, axis=1, keepdims=True, out=B.m)
            B.z2 -= B.m
            np.exp(B.z2, out=B.z2)
            np.sum(B.z2, axis=1, keepdims=True, out=B.m)
            B.z2 /= B.m                                     # softmax
            loss_sum -= float(np.log(B.z2[B.rows, B.y]).sum())

            # backward: dlogits = (softmax - onehot) / b
            B.z2[B.rows, B.y] -= 1
            B.z2 *= np.float32(1.0 / b)
            np.dot(B.z1.T, B.z2, out=g_w2)
            np.sum(B.z2, axis=0, out=g_b2)
            np.dot(B.z2, w2.T, out=B.dh)
            B.dh *= B.z1 > 0                                # relu mask (h > 0 iff z1 > 0)
            np.dot(B.x.T, B.dh, out=g_w1)
            np.sum(B.dh, axis=0, out=g_b1)

            # update
            for p, g, s, t in zip(params, grads, state, tmp):
                if rmsprop:   # s = rho s + (1-rho) g^2;  p -= lr g / (sqrt(s) + eps)
                    s *= rho
                    np.multiply(g, g, out=t)
                    t *= 1 - rho
                    s += t
                    np.sqrt(s, out=t)
                    t += eps
                    np.divide(g, t, out=t)
                    t *= lr
                    p -= t
                elif a.optimizer == "sgd":   # p -= lr g
                    np.multiply(g, lr, out=t)
                    p -= t
                else:         # Keras SGD momentum: s = mom s - lr g;  p += s
                    s *= mom
                    np.multiply(g, lr, out=t)
                    s -= t
                    p += s
        epoch_s.append(time.perf_counter() - t0)

    mc.report({"rmsprop": "numpy", "momentum": "numpy-momentum", "sgd": "numpy-sgd"}[a.optimizer], a, n, batch, epoch_s,
              loss_sum / n, correct / n, version=np.__version__, load_s=load_s,
              optimizer=a.optimizer)


if __name__ == "__main__":
    main()
