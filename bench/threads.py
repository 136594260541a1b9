"""python bench/threads.py [--repeat N]: the compiled epoch on 1 thread and on 2, for nets from the
digits CNN up to the MNIST-shaped ones, with each batch's forward work in multiply-adds, both
ways of sharing (symnn.nn.epoch_threads): the batch's rows cut (parts; where it starts to win is
PARTS_MIN) and each large call shared (units; dense layers by their output units, from
SHARE_MIN). Then the same through `fit` (set_threads(1) against set_threads(2), symnn's own
choice), and the ceiling: two BLAS products of the 784-100 layer side by side against one after
the other, in the same run.

Every epoch row trains the same net from the same weights in the same order through the same
driver text but for its cut; BLAS keeps one thread (Numba's threads are the threads). Times are
medians of `--repeat` epochs after a first one (compilation), and each comparison runs twice, in
turn, so the ratio's range is quoted. Run it on an idle machine: a thread that waits for a core
at every batch's barrier turns a win into a loss.
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
        ("MLP 784-100-10, batch 10", mlp(100), (784,), 10, 4000),
        ("MLP 784-30-10, batch 32", mlp(30), (784,), 32, 4000),
        ("MLP 784-100-10, batch 32", mlp(100), (784,), 32, 4000),
        ("MLP 784-100-10, batch 128", mlp(100), (784,), 128, 4000),
        ("MNIST-shaped CNN, batch 32", mnist_cnn, (1, 28, 28), 32, 1024),
        ("MNIST-shaped CNN, batch 64", mnist_cnn, (1, 28, 28), 64, 1024),
    ]


def epoch_ms(make, shape, batch, n, parts, repeat, units=1) -> float:
    from symnn.nn.epoch import CompiledEpoch

    net = make()
    rng = np.random.default_rng(0)
    X = rng.random((n, *shape))
    Y = net.targets(rng.integers(0, 10, n))
    driver = CompiledEpoch(net, shape, batch, n, None, parts, units)
    driver(X, Y, rng.permutation(n), 0.01)  # compiles (or loads) the driver
    times = []
    for _ in range(repeat):
        order = rng.permutation(n)
        t0 = time.perf_counter()
        driver(X, Y, order, 0.01)
        times.append(time.perf_counter() - t0)
    return median(times) * 1e3


def fit_ms(make, shape, batch, n, threads, repeat) -> float:
    """Milliseconds per epoch of `fit(epochs=repeat)` after set_threads(threads), the driver
    compiled by a first fit: symnn's own choice of cut."""
    from symnn.nn.threads import set_threads

    set_threads(threads)
    rng = np.random.default_rng(0)
    X, y = rng.random((n, *shape)), rng.integers(0, 10, n)
    net = make()
    net.fit(X, y, epochs=1, lr=0.01, batch_size=batch, compiled=True, fused=False)
    t0 = time.perf_counter()
    net.fit(X, y, epochs=repeat, lr=0.01, batch_size=batch, compiled=True, fused=False)
    return (time.perf_counter() - t0) / repeat * 1e3


def ceiling(batch: int, runs: int = 2) -> list[float]:
    """Two products shaped as the 784-100 layer's forward (batch × 784 by 784 × 50 each) side by
    side in a prange against one after the other: what 2 cores give BLAS here, now."""
    from numba import njit, prange

    @njit
    def serial(X, W, Z):
        for _ in range(50):
            for h in range(2):
                Z[h] = np.dot(X, W[h].T)

    @njit(parallel=True)
    def side_by_side(X, W, Z):
        for _ in range(50):
            for h in prange(2):
                Z[h] = np.dot(X, W[h].T)

    rng = np.random.default_rng(0)
    X, W, Z = rng.random((batch, 784)), rng.random((2, 50, 784)), np.zeros((2, batch, 50))
    serial(X, W, Z), side_by_side(X, W, Z)
    ratios = []
    for _ in range(runs):
        pair = []
        for f in (serial, side_by_side):
            time.sleep(0.3)
            ts = []
            for _ in range(5):
                t0 = time.perf_counter()
                f(X, W, Z)
                ts.append(time.perf_counter() - t0)
            pair.append(median(ts))
        ratios.append(pair[0] / pair[1])
    return ratios


def _chosen(net, shape, batch: int, threads: int) -> int:
    """The units fit would choose with `threads` asked for (NUMBA_NUM_THREADS, put back after)."""
    from symnn.nn.epoch import units_for

    old = os.environ.get("NUMBA_NUM_THREADS")
    os.environ["NUMBA_NUM_THREADS"] = str(threads)
    try:
        return units_for(net, shape, batch)
    finally:
        if old is None:
            del os.environ["NUMBA_NUM_THREADS"]
        else:
            os.environ["NUMBA_NUM_THREADS"] = old


def _range(ratios: list[float]) -> str:
    return f"{min(ratios):.2f}–{max(ratios):.2f}x"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python bench/threads.py")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    from symnn.codegen.numba_start import numba
    from symnn.nn.epoch import PARTS_MIN, work
    from symnn.nn.epoch_threads import SHARE_MIN

    nb = numba()
    threads = nb.config.NUMBA_NUM_THREADS
    print(f"# {os.cpu_count()} cores, Numba {threads} threads ({nb.__version__}), load {os.getloadavg()[0]:.2f}")
    print(f"# PARTS_MIN = {PARTS_MIN:,} multiply-adds per batch's forward pass; BLAS 1 thread")
    print(f"# SHARE_MIN = {SHARE_MIN:,} multiply-adds per call (units)")
    for batch in (10, 128):
        print(
            f"Ceiling, two 784-50 products of a batch of {batch} side by side against one after the other: "
            f"{_range(ceiling(batch))} (the most 2 threads gave BLAS in this run)"
        )
    print(
        "| net | batch forward work (multiply-adds) | 1 thread, ms/epoch | rows cut (parts), 2 threads "
        "| speed-up | each large call shared (units), 2 threads | speed-up |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, make, shape, batch, n in nets():
        net = make()
        w = batch * work(net, shape)
        units = _chosen(net, shape, batch, threads)
        ones, twos, shared = [], [], []
        for _ in range(2):
            for times, parts, u in ((ones, 1, 1), (twos, 2, 1), (shared, 1, 2)):
                time.sleep(0.3)  # the row before may leave threads spinning
                times.append(epoch_ms(make, shape, batch, n, parts, args.repeat, u))
        rows = [a / b for a, b in zip(ones, twos)]
        cut = [a / b for a, b in zip(ones, shared)]
        print(
            f"| {label} | {w:,} | {median(ones):.1f} | {median(twos):.1f} | "
            f"{_range(rows)}{'' if w >= PARTS_MIN else ' (below PARTS_MIN)'} | {median(shared):.1f} | "
            f"{_range(cut)}{'' if w < PARTS_MIN and units > 1 else ' (not chosen)'} |"
        )
    print()
    print("Through fit (set_threads(1) against set_threads(2); compiled driver, symnn's choice of cut):")
    for label, make, shape, batch, n in nets():
        if "MLP 784-100" not in label:
            continue
        one, two = [], []
        for _ in range(2):
            time.sleep(0.3)
            one.append(fit_ms(make, shape, batch, n, 1, args.repeat))
            time.sleep(0.3)
            two.append(fit_ms(make, shape, batch, n, threads, args.repeat))
        ratios = [a / b for a, b in zip(one, two)]
        print(f"  {label}: {median(one):.1f} ms/epoch on 1 thread, {median(two):.1f} on {threads}: {_range(ratios)}")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
