"""python bench/threads.py [--repeat N]: the compiled epoch on 1 thread and with its batches shared
among 2 (symnn.nn.epoch parts), for nets from the digits CNN up to the MNIST-shaped ones, with
each batch's forward work in multiply-adds: where two threads start to win is PARTS_MIN.

Every row trains the same net from the same weights in the same order through the same driver
text but for its parts (1, or 2 with Numba's 2 threads); BLAS keeps one thread in both (the
parts are the threads). Times are medians of `--repeat` epochs after a first one (compilation),
and each comparison runs twice, in turn, so the ratio's range is quoted. Run it on an idle
machine: a thread that waits for a core at every batch's barrier turns a win into a loss.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from statistics import median

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def nets():
    """(label, make, sample shape, batch size, samples)."""
    from symnn.nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Sigmoid

    def mlp(hidden):
        return lambda: Sequential([Dense(784, hidden), Sigmoid(), Dense(hidden, 10), Sigmoid()], seed=0)

    def digits_cnn():
        return Sequential(
            [Conv2D(1, 8, 3), ReLU(), MaxPool2D(2), Flatten(), Dense(72, 10)], loss="softmax-cross-entropy", seed=0
        )

    def mnist_cnn():
        from mnist_cnn import _symnn_net

        return _symnn_net("float64")

    return [
        ("digits CNN, batch 32", digits_cnn, (1, 8, 8), 32, 1437),
        ("MLP 784-30-10, batch 10", mlp(30), (784,), 10, 4000),
        ("MLP 784-30-10, batch 32", mlp(30), (784,), 32, 4000),
        ("MLP 784-100-10, batch 32", mlp(100), (784,), 32, 4000),
        ("MLP 784-100-10, batch 128", mlp(100), (784,), 128, 4000),
        ("MNIST-shaped CNN, batch 32", mnist_cnn, (1, 28, 28), 32, 1024),
        ("MNIST-shaped CNN, batch 64", mnist_cnn, (1, 28, 28), 64, 1024),
    ]


def epoch_ms(make, shape, batch, n, parts, repeat) -> float:
    from symnn.nn.epoch import CompiledEpoch

    net = make()
    rng = np.random.default_rng(0)
    X = rng.random((n, *shape))
    Y = net.targets(rng.integers(0, 10, n))
    driver = CompiledEpoch(net, shape, batch, n, None, parts)
    driver(X, Y, rng.permutation(n), 0.01)  # compiles (or loads) the driver
    times = []
    for _ in range(repeat):
        order = rng.permutation(n)
        t0 = time.perf_counter()
        driver(X, Y, order, 0.01)
        times.append(time.perf_counter() - t0)
    return median(times) * 1e3


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python bench/threads.py")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    from symnn.codegen.numba_start import numba
    from symnn.nn.epoch import PARTS_MIN, work

    nb = numba()
    threads = nb.config.NUMBA_NUM_THREADS
    print(f"# {os.cpu_count()} cores, Numba {threads} threads ({nb.__version__}), load {os.getloadavg()[0]:.2f}")
    print(f"# PARTS_MIN = {PARTS_MIN:,} multiply-adds per batch's forward pass; BLAS 1 thread")
    print(
        "| net | batch forward work (multiply-adds) | 1 thread, ms/epoch | 2 parts on 2 threads, ms/epoch "
        "| speed-up (range of 2 runs) |"
    )
    print("|---|---|---|---|---|")
    for label, make, shape, batch, n in nets():
        w = batch * work(make(), shape)
        ones, twos = [], []
        for _ in range(2):
            ones.append(epoch_ms(make, shape, batch, n, 1, args.repeat))
            twos.append(epoch_ms(make, shape, batch, n, 2, args.repeat))
        ratios = [a / b for a, b in zip(ones, twos)]
        print(
            f"| {label} | {w:,} | {median(ones):.1f} | {median(twos):.1f} | "
            f"{min(ratios):.2f}–{max(ratios):.2f}x{'' if w >= PARTS_MIN else ' (below PARTS_MIN: 1 thread)'} |"
        )
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
