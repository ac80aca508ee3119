#!/usr/bin/python3
"""PyTorch peer of examples/mnist.nn: the same step, written the way a PyTorch user would
(nn.Linear, F.cross_entropy, torch.optim.RMSprop, or torch.optim.SGD with --optimizer
sgd: plain w -= lr*g at lr 0.01, the seed's true SGD at batch 1; torch.optim.Adam, or
Lion written below as a torch.optim.Optimizer, since Debian's torch has none), with the
hyperparameters of stdlib/optim.nn's rules, and set up at its best: the thread
count pinned, and bench/run starts it with the glibc allocator tuned
(GLIBC_TUNABLES=glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=268435456)
so that the per-step tensors are recycled instead of mmap'd and returned every step.

  --batch 128                 seconds per epoch (469 steps)
  --batch 1   --limit N       µs per step = epoch / N
  --batch all --limit N       one full-batch step per epoch
"""

import time

import numpy as np
import torch
import torch.nn.functional as F

import mnist_common as mc


def options(p):
    p.add_argument("--no-metrics", action="store_true",
                   help="skip the running loss and accuracy (./train always computes both)")
    p.add_argument("--optimizer", choices=("rmsprop", "sgd", "adam", "lion"), default="rmsprop")
    p.add_argument("--foreach", choices=("auto", "on", "off"), default="auto",
                   help="torch.optim's multi-tensor update (auto: torch's own choice)")


class Lion(torch.optim.Optimizer):
    """Lion (Chen et al. 2023, Program 1) as a PyTorch user writes it: in-place tensor ops
    per parameter, decoupled weight decay; stdlib/optim.nn's lion step by step."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                m = state["exp_avg"]
                if wd:
                    p.mul_(1 - lr * wd)
                update = m.mul(beta1).add_(p.grad, alpha=1 - beta1).sign_()
                p.add_(update, alpha=-lr)
                m.mul_(beta2).add_(p.grad, alpha=1 - beta2)


def main():
    a = mc.parse_args("PyTorch peer of examples/mnist.nn", options)
    # Intra-op threads (OpenMP loops); the GEMMs go to OpenBLAS through libblas.so.3,
    # whose threads bench/run sets with OPENBLAS_NUM_THREADS to the same number.
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)  # no inter-op parallelism in one sequential step
    # Denormals flushed to zero, as ./train does (RMSprop's mean square decays through
    # the denormal range where a pixel's gradient stays 0); the peer at its best.
    torch.set_flush_denormal(True)

    t0 = time.perf_counter()
    x_np, y_np = mc.load(a.data, a.limit)
    load_s = time.perf_counter() - t0
    n = len(x_np)
    batch = mc.batch_size(a.batch, n)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)

    rng = np.random.default_rng(a.seed)
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10))
    with torch.no_grad():
        # nn.Linear keeps weight as [out, in]; glorot is symmetric in in/out, so the same
        # draw transposed is the same distribution ./train uses.
        model[0].weight.copy_(torch.from_numpy(mc.glorot_uniform(rng, 784, 512).T.copy()))
        model[2].weight.copy_(torch.from_numpy(mc.glorot_uniform(rng, 512, 10).T.copy()))
        model[0].bias.zero_()
        model[2].bias.zero_()

    # Keras's (and the .nn file's) RMSprop: rho 0.9, eps 1e-7, eps outside the sqrt;
    # torch's defaults (alpha 0.99, eps 1e-8) would be a different optimiser.
    foreach = {"auto": None, "on": True, "off": False}[a.foreach]
    if a.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=1e-2, foreach=foreach)
    elif a.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7, foreach=foreach)
    elif a.optimizer == "lion":
        opt = Lion(model.parameters(), lr=1e-4, betas=(0.9, 0.99))
    else:
        opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7, foreach=foreach)

    gen = torch.Generator().manual_seed(a.seed)
    epoch_s = []
    for _ in range(a.epochs):
        loss_sum = torch.zeros((), dtype=torch.float64)
        correct = torch.zeros((), dtype=torch.int64)
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if not a.no_metrics:
                with torch.no_grad():
                    loss_sum += loss.detach() * len(idx)
                    correct += (logits.argmax(1) == yb).sum()
        epoch_s.append(time.perf_counter() - t0)

    mc.report("torch", a, n, batch, epoch_s, float(loss_sum) / n, float(correct) / n,
              version=torch.__version__, load_s=load_s, foreach=a.foreach, optimizer=a.optimizer,
              metrics=not a.no_metrics)


if __name__ == "__main__":
    main()
