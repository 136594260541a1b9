"""python bench/dense_split.py [--batch N] [--runs N]: how to share a dense layer's products
between 2 threads — a design measure, hand-written Numba, no symnn kernel (the rows of the
README's Threads paragraph).

The first layer of the 784-100-10 MLP, float64, per batch: Z = X·Wᵀ and dW = δᵀ·X, each an
OpenBLAS call (1 BLAS thread) from Numba:
  one thread         both products on the whole batch;
  rows cut           each thread its half of the batch's rows (both read all of W), the two
                     dW parts then added (what symnn's shared batches do);
  output units cut   each thread its half of W's rows: its columns of Z, its rows of dW (no sum).
"""

from __future__ import annotations

import argparse
import os
import time
from statistics import median

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402
from numba import njit, prange  # noqa: E402

REPS = 50  # batches per timed call


@njit
def one_thread(X, W, Z, D, dW):
    for _ in range(REPS):
        Z[:] = np.dot(X, W.T)
        dW[:] = np.dot(D.T, X)


@njit(parallel=True)
def rows_cut(X, W, Z, D, dW_parts, dW):
    m, units = X.shape[0], W.shape[0]
    for _ in range(REPS):
        for h in prange(2):
            lo, hi = m * h // 2, m * (h + 1) // 2
            Z[lo:hi] = np.dot(X[lo:hi], W.T)
            dW_parts[h] = np.dot(np.ascontiguousarray(D[lo:hi].T), X[lo:hi])
        for h in prange(2):
            lo, hi = units * h // 2, units * (h + 1) // 2
            dW[lo:hi] = dW_parts[0, lo:hi] + dW_parts[1, lo:hi]


@njit(parallel=True)
def units_cut(X, W, Z, D, dW):
    units = W.shape[0]
    for _ in range(REPS):
        for h in prange(2):
            lo, hi = units * h // 2, units * (h + 1) // 2
            Z[:, lo:hi] = np.dot(X, W[lo:hi].T)
        for h in prange(2):
            lo, hi = units * h // 2, units * (h + 1) // 2
            dW[lo:hi] = np.dot(np.ascontiguousarray(D[:, lo:hi].T), X)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python bench/dense_split.py")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    X, W = rng.random((args.batch, 784)), rng.random((100, 784))
    D, Z, dW = rng.random((args.batch, 100)), np.zeros((args.batch, 100)), np.zeros((100, 784))
    calls = {
        "one thread": lambda: one_thread(X, W, Z, D, dW),
        "rows cut": lambda: rows_cut(X, W, Z, D, np.zeros((2, 100, 784)), dW),
        "output units cut": lambda: units_cut(X, W, Z, D, dW),
    }
    want = (np.dot(X, W.T), np.dot(D.T, X))
    print(f"# 784-100 layer, batch {args.batch}, float64, 2 Numba threads, load {os.getloadavg()[0]:.2f}")
    times: dict[str, list[float]] = {k: [] for k in calls}
    for name, call in calls.items():
        call()
        assert np.allclose(Z, want[0]) and np.allclose(dW, want[1]), name
    for _ in range(args.runs):
        for name, call in calls.items():
            time.sleep(0.3)  # the previous row's threads stop spinning
            t = []
            for _ in range(10):
                t0 = time.perf_counter()
                call()
                t.append(time.perf_counter() - t0)
            times[name].append(median(t) / REPS)
    base = times["one thread"]
    for name, ts in times.items():
        ratios = [b / x for b, x in zip(base, ts)]
        print(f"{name:18s} {1e6 * median(ts):7.1f} µs per batch, {min(ratios):.2f}–{max(ratios):.2f}x one thread")


if __name__ == "__main__":
    main()
