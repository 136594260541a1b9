"""python bench/mnist_cnn.py [--epochs N] [--runs N] [--threads N] [--only NAME ...] [--no-torch]:
the MNIST-shaped CNN — 28x28 inputs, conv 16x3x3 -> ReLU -> max-pool 2 -> conv 32x3x3 -> ReLU ->
max-pool 2 -> flatten -> dense 10, softmax/cross-entropy, SGD mini-batch 64 — on the bundled digits
upscaled to 28x28 (1437 training images, bilinear; nothing downloaded): symnn's compiled epoch in
float32 and float64, symnn's per-layer path and `fit` itself, PyTorch CPU float32/float64 and the
hand-written im2col NumPy reference, all from the same initial weights and sample order.

Each implementation trains in its own process (so its peak memory is its own: `ru_maxrss` of the
last run, where symnn's kernels load from the cache instead of compiling, and the part of it that
training added over the process after imports and data), `--runs` times in turn
(default 2); the table gives each one's median epoch (the first epoch, with compilation, left out)
per run, the range over runs, and its time over symnn's in the same run. Threads: `--threads`
(default 1) for BLAS, Numba and PyTorch, set before NumPy loads.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from statistics import median

HERE = os.path.dirname(os.path.abspath(__file__))
LR, BATCH = 0.1, 64
IMPLS = {
    "symnn-compiled-f32": "symnn, compiled epoch, float32",
    "symnn-compiled-f64": "symnn, compiled epoch, float64",
    "symnn-fit-f32": "symnn, Sequential.fit (compiled epoch, float32), per epoch",
    "symnn-layers-f64": "symnn, one kernel call per layer from Python, float64",
    "torch-f32": "PyTorch CPU float32",
    "torch-f64": "PyTorch CPU float64",
    "numpy-f64": "NumPy im2col / col2im, float64",
}


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def data():
    """The digits (seed 0's split) upscaled to 28x28 by bilinear interpolation, in [0, 1]."""
    from scipy.ndimage import zoom

    from symnn.nn.data import load

    ds = load("digits", seed=0, images=True)
    up = [zoom(x, (1, 1, 3.5, 3.5), order=1).clip(0, 1) for x in (ds.X_train, ds.X_test)]
    return up[0], ds.y_train, up[1], ds.y_test


def _symnn_net(dtype: str):
    from references import mnist_numpy

    from symnn.nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, SoftmaxCrossEntropy

    layers = [
        Conv2D(1, 16, 3),
        ReLU(),
        MaxPool2D(2),
        Conv2D(16, 32, 3),
        ReLU(),
        MaxPool2D(2),
        Flatten(),
        Dense(800, 10),
    ]
    net = Sequential(layers, loss=SoftmaxCrossEntropy()).astype(dtype)
    for key, value in mnist_numpy.init(0).items():
        net.parameters()[key][...] = value
    return net


def child(impl: str, epochs: int, threads: int) -> dict:
    import numpy as np
    from references import mnist_numpy
    from references.common import epoch_order

    X, y, X_test, y_test = data()
    dtype = "float32" if impl.endswith("f32") else "float64"
    X, X_test = X.astype(dtype), X_test.astype(dtype)
    rng = np.random.default_rng(0)
    if impl.startswith("symnn"):
        from symnn.nn.layers import Workspace
        from symnn.nn.train import train_step

        net = _symnn_net(dtype)
        Y = np.ascontiguousarray(net.targets(y), dtype=dtype)
        ws = Workspace(net.dtype)
        if impl.startswith("symnn-compiled"):
            from symnn.nn.epoch import run_epoch

            def epoch():
                run_epoch(net, X, Y, epoch_order(rng, len(X)), LR, BATCH, ws)
        elif impl.startswith("symnn-fit"):

            def epoch():
                net.fit(X, y, epochs=1, lr=LR, batch_size=BATCH, compiled=True, seed=int(rng.integers(2**31)))
        else:

            def epoch():
                order = epoch_order(rng, len(X))
                for start in range(0, len(X), BATCH):
                    idx = order[start : start + BATCH]
                    train_step(net, X[idx], Y[idx], LR, ws)

        def predict():
            return net.predict(X_test)
    elif impl.startswith("torch"):
        import torch

        torch.set_num_threads(threads)
        tdt = getattr(torch, dtype)
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, dtype=tdt),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 3, dtype=tdt),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Flatten(),
            torch.nn.Linear(800, 10, dtype=tdt),
        )
        init = mnist_numpy.init(0)
        with torch.no_grad():
            for layer, module in ((0, model[0]), (3, model[3]), (7, model[7])):
                module.weight.copy_(torch.from_numpy(init[f"layers.{layer}.weight"]))
                module.bias.copy_(torch.from_numpy(init[f"layers.{layer}.bias"]))
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y, dtype=torch.int64)
        opt, loss_fn = torch.optim.SGD(model.parameters(), lr=LR), torch.nn.CrossEntropyLoss()

        def epoch():
            order = torch.from_numpy(epoch_order(rng, len(X)))
            for start in range(0, len(order), BATCH):
                idx = order[start : start + BATCH]
                opt.zero_grad()
                loss_fn(model(Xt[idx]), yt[idx]).backward()
                opt.step()

        def predict():
            with torch.no_grad():
                return model(torch.as_tensor(X_test)).argmax(dim=1).numpy()
    else:
        params = mnist_numpy.init(0)

        def epoch():
            mnist_numpy.train_epoch(params, X, y, LR, BATCH, rng)

        def predict():
            return mnist_numpy.predict(params, X_test)

    base = _rss_mb()
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    acc = float((np.asarray(predict()) == y_test).mean())
    return {
        "ms": 1e3 * median(times[1:]),
        "first_ms": 1e3 * times[0],
        "peak_mb": peak,
        "base_mb": base,
        "accuracy": acc,
    }


def profile(dtype: str, exact: bool, epochs: int = 3) -> dict:
    """ms per part of a per-layer epoch (each layer's train_forward / train_backward, the loss
    gradient, the SGD update, the rest), median over `epochs` epochs after a warm-up one."""
    from collections import defaultdict

    import numpy as np
    from references.common import epoch_order, part_timers

    from symnn.nn import train as train_mod
    from symnn.nn.layers import Workspace

    X, y, _, _ = data()
    X = X.astype(dtype)
    net = _symnn_net(dtype)
    for layer in net.layers:
        layer.exact = exact
    Y = np.ascontiguousarray(net.targets(y), dtype=dtype)
    ws, rng = Workspace(net.dtype), np.random.default_rng(0)
    spent: dict[str, list[float]] = defaultdict(list)
    current: dict[str, float] = defaultdict(float)
    with part_timers(net, current):
        for e in range(epochs + 1):
            current.clear()
            t0 = time.perf_counter()
            order = epoch_order(rng, len(X))
            for start in range(0, len(X), BATCH):
                idx = order[start : start + BATCH]
                train_mod.train_step(net, X[idx], Y[idx], LR, ws)
            total = time.perf_counter() - t0
            if e:
                for k, v in current.items():
                    spent[k].append(v)
                spent["rest (Python between calls)"].append(total - sum(current.values()))
                spent["total"].append(total)
    return {k: 1e3 * median(v) for k, v in spent.items()}


def run_child(impl: str, epochs: int, threads: int) -> dict:
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = str(threads)
    cmd = [sys.executable, __file__, "--child", impl, "--epochs", str(epochs), "--threads", str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(f"{impl} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python bench/mnist_cnn.py")
    p.add_argument("--epochs", type=int, default=6, help="epochs per run (the first, with compilation, left out)")
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--only", nargs="*", choices=sorted(IMPLS))
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--profile", action="store_true", help="also where symnn's per-layer epoch goes, BLAS and not")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    sys.path.insert(0, HERE)
    if args.child == "profile":
        print(
            json.dumps(
                {
                    f"{dt} {'exact' if ex else 'unfold'}": profile(dt, ex)
                    for dt in ("float32", "float64")
                    for ex in (False, True)
                }
            )
        )
        return
    if args.child:
        print(json.dumps(child(args.child, args.epochs, args.threads)))
        return
    impls = [i for i in IMPLS if (not args.only or i in args.only)]
    if args.no_torch or not _torch():
        impls = [i for i in impls if not i.startswith("torch")]
    print(
        f"# {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} before the run; {args.threads} thread(s) for BLAS, "
        f"Numba and PyTorch; {args.epochs} epochs a run (median of the last {args.epochs - 1}), {args.runs} runs"
    )
    results: dict[str, list[dict]] = {i: [] for i in impls}
    loads = []
    for _ in range(args.runs):
        for impl in impls:
            results[impl].append(run_child(impl, args.epochs, args.threads))
        loads.append(os.getloadavg()[0])
    ours = impls[0]
    print(
        f"\nMNIST-shaped CNN (28x28, conv16x3-relu-pool2-conv32x3-relu-pool2-dense10, softmax-CE), one epoch of "
        f"1437 images, mini-batch {BATCH}, η {LR}; load after each run: {', '.join(f'{x:.2f}' for x in loads)}"
    )
    print(
        f"| implementation | ms per epoch (range over runs) | time / {IMPLS[ours]} (range) | peak RSS MB "
        "(training's own) | test accuracy |"
    )
    print("|---|---|---|---|---|")
    for impl, rs in results.items():
        ms = [r["ms"] for r in rs]
        ratio = [r["ms"] / s["ms"] for r, s in zip(rs, results[ours])]
        peak = rs[-1]["peak_mb"]  # the last run's: symnn's kernels load from the cache there
        own = rs[-1]["peak_mb"] - rs[-1]["base_mb"]
        print(
            f"| {IMPLS[impl]} | {min(ms):.1f}–{max(ms):.1f} | {min(ratio):.2f}–{max(ratio):.2f} | "
            f"{peak:.0f} ({own:.0f}) | {rs[-1]['accuracy']:.4f} |"
        )
    first = {impl: max(r["first_ms"] for r in rs) for impl, rs in results.items() if impl.startswith("symnn")}
    print("  first epoch (compiling or loading kernels), ms: " + "; ".join(f"{k} {v:.0f}" for k, v in first.items()))
    if args.profile:
        parts = run_child("profile", args.epochs, args.threads)
        print(f"\nwhere symnn's per-layer epoch goes (ms, median of 3 epochs; load {os.getloadavg()[0]:.2f}):")
        labels = list(next(iter(parts.values())))
        print("| part | " + " | ".join(parts) + " |")
        print("|---|" + "---|" * len(parts))
        for label in labels:
            print(f"| {label} | " + " | ".join(f"{p.get(label, float('nan')):.1f}" for p in parts.values()) + " |")


def _torch() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


if __name__ == "__main__":
    main()
