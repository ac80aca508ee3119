"""Shared by the Python peers (torch_mnist.py, numpy_mnist.py): the command line, the
data set, the initialisation and the one-line result every bench program prints.

Every peer trains the flagship examples/mnist.nn does: 784-512-10, relu, softmax
cross-entropy, glorot_uniform weights and zero biases, Fashion-MNIST read from the same
IDX .gz files and scaled by 1/255, reshuffled every epoch, the last partial batch kept
(60000 = 468 * 128 + 96, so 469 steps an epoch, as ./train does).

A run is `--epochs E` passes over the first `--limit N` samples at `--batch B|all`; each
pass is timed on its own, data loading excluded. bench/run reads the *last* pass, so the
first one is the warm-up (allocator, page faults, OpenBLAS buffers) for every
implementation alike, ./train included (its --log has one samples/s row per epoch).
"""

import argparse
import gzip
import json
import os
import struct
import sys

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"


def parse_args(description, extra=None):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", default=DATA, help="folder with the Fashion-MNIST IDX .gz files")
    p.add_argument("--batch", default="128", help="samples per step, or 'all' (full batch)")
    p.add_argument("--limit", type=int, default=0, help="use the first N samples (0: all 60000)")
    p.add_argument("--epochs", type=int, default=2, help="timed passes; bench/run reads the last")
    p.add_argument("--threads", type=int, default=1, help="compute threads")
    p.add_argument("--seed", type=int, default=42)
    if extra:
        extra(p)
    a = p.parse_args()
    if a.batch != "all" and (not a.batch.isdigit() or int(a.batch) < 1):
        p.error("--batch expects a positive integer or 'all'")
    return a


def _idx(path):
    """Reads one IDX file (gzip'd): the magic's third byte is the dtype (0x08: u8), the
    fourth the rank, then one big-endian u32 per dimension, then the data."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype, rank = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit(f"{path}: not a u8 IDX file")
    dims = struct.unpack(">" + "I" * rank, raw[4 : 4 + 4 * rank])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load(folder, limit):
    """The training set as float32 [N, 784] in [0, 1] and int64 labels [N]. Scaled once
    here, not per batch: that is how a Python user would write it, and it is the peers'
    best case (./train keeps u8 and converts per batch)."""
    x = _idx(os.path.join(folder, "train-images-idx3-ubyte.gz"))
    y = _idx(os.path.join(folder, "train-labels-idx1-ubyte.gz"))
    if limit:
        x, y = x[:limit], y[:limit]
    x = x.reshape(len(x), -1).astype(np.float32) / np.float32(255.0)
    return np.ascontiguousarray(x), y.astype(np.int64)


def glorot_uniform(rng, fan_in, fan_out):
    """Keras's default kernel init, as nn.dense uses: U(-l, l), l = sqrt(6/(in+out)),
    stored [in, out]."""
    lim = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-lim, lim, size=(fan_in, fan_out)).astype(np.float32)


def batch_size(arg, n):
    return n if arg == "all" else min(int(arg), n)


def report(impl, args, n, batch, epoch_s, loss, accuracy, **extra):
    """The one line bench/run reads: `RESULT {json}`; everything else is for people."""
    steps = -(-n // batch)
    rec = dict(impl=impl, threads=args.threads, n=n, batch=batch, steps_per_epoch=steps,
               epoch_s=epoch_s, loss=loss, accuracy=accuracy, **extra)
    print("RESULT " + json.dumps(rec), flush=True)
    print(f"{impl}: {n} samples, batch {batch}, {steps} steps/epoch, threads {args.threads}: "
          + ", ".join(f"{t:.4f} s" for t in epoch_s)
          + f"; last epoch loss {loss:.4f} accuracy {accuracy:.4f}", file=sys.stderr)
