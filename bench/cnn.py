"""python bench/cnn.py [--epochs N] [--threads N] [--batch N] [--no-torch]: the digits CNN (conv 8
filters 3x3 -> ReLU -> 2x2 max-pool -> flatten -> dense 10 -> softmax/cross-entropy, SGD mini-batch
32, eta 0.5) trained by symnn's generated kernels, beside the hand-written im2col NumPy reference
and PyTorch CPU float32/float64 (when importable) - same init, same epoch order, timed in the same
run; then convolution forward+backward on one batch (symnn's four conv2d.layer_* kernels vs im2col
NumPy vs torch autograd), and where symnn's time goes (each layer's kernels timed over an epoch)."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections import defaultdict
from statistics import median

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from references import DIGITS_CNN, cnn_references, skipped, torch_available  # noqa: E402
from references.common import Reference, digits, part_timers, ratio_table, time_training  # noqa: E402
from symnn_nets import train_batches  # noqa: E402


# -- symnn's digits CNN as a bench Reference ---------------------------------------------------
def symnn_cnn(
    name: str = "symnn, one kernel call per layer from Python",
    compiled: bool = False,
    fastmath: bool = False,
    dtype: str = "float64",
    public: bool = False,
) -> Reference:
    from symnn.commands.train_cnn import build_cnn
    from symnn.nn.layers import Workspace

    def init(seed: int):
        net = build_cnn(seed=seed).astype(dtype)  # the references' init rule (common.init_cnn)
        net._ws, net._Y, net._data = Workspace(net.dtype), None, {}
        for layer in net.layers:
            layer.fastmath = fastmath  # what fit(fastmath=True) sets
        return net

    def train_epoch(net, X, y, lr, batch_size, rng):
        if net._Y is None or len(net._Y) != len(y):
            net._Y = net.targets(y)  # integer labels -> one-hot rows, once
        from symnn_nets import as_model_dtype

        X, net._Y = as_model_dtype(net, X, net._Y)
        if public:  # Sequential.fit(epochs=1): its checks, the compiled epoch, the running loss
            net.fit(X, net._Y, epochs=1, lr=lr, batch_size=batch_size, compiled=True, seed=int(rng.integers(2**31)))
            return net
        if compiled:
            from references.common import epoch_order

            from symnn.nn.epoch import run_epoch

            run_epoch(net, X, net._Y, epoch_order(rng, len(X)), lr, batch_size, net._ws)
            return net
        return train_batches(net, X, net._Y, lr, batch_size, rng)

    return Reference(name, init, train_epoch, lambda net, X: net.predict(X))


def check_same_init(seed: int = 0) -> float:
    from references.common import init_cnn

    ref = init_cnn(seed=seed)
    p = symnn_cnn().init(seed).parameters()
    return max(
        float(np.abs(p["layers.0.weight"] - ref.conv_w).max()), float(np.abs(p["layers.4.weight"] - ref.dense_w).max())
    )


def run_epochs(epochs: int, threads: int | None, torch: bool) -> list[dict]:
    d = digits(images=True)
    assert check_same_init() == 0.0, "symnn and the references must start from the same weights"
    rows = []
    for ref in [
        symnn_cnn("symnn, compiled epoch (the default once compiled)", compiled=True),
        symnn_cnn("symnn, Sequential.fit(epochs=1) per epoch (public API, compiled epoch)", public=True),
        symnn_cnn("symnn, compiled epoch, fastmath", compiled=True, fastmath=True),
        symnn_cnn("symnn, compiled epoch, float32", compiled=True, dtype="float32"),
        symnn_cnn("symnn, one kernel call per layer from Python (first run)"),
        *cnn_references(torch=torch, threads=threads),
    ]:
        t = time_training(
            ref, d.X_train, d.y_train, d.X_test, d.y_test, epochs, DIGITS_CNN["lr"], DIGITS_CNN["batch_size"]
        )
        rows.append({"name": ref.name, "ms": t.median * 1e3, "accuracy": t.accuracy})
    return rows


# -- convolution forward + backward on one batch ------------------------------------------------
def _timeit(f, repeats: int) -> float:
    f()  # warm up (compile / allocate)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return median(times)


def conv_case(n: int, c: int, f: int, h: int, k: int, threads: int | None, torch: bool, repeats: int) -> list[dict]:
    from references import cnn_numpy

    from symnn.codegen import kernel

    rng = np.random.default_rng(0)
    X, K, b = rng.normal(size=(n, c, h, h)), rng.normal(size=(f, c, k, k)), rng.normal(size=f)
    ho = h - k + 1
    G = rng.normal(size=(n, f, ho, ho))
    fw, gk, gb, gi = (kernel(f"conv2d.layer_{x}") for x in ("forward", "grad_kernel", "grad_bias", "grad_input"))
    Y, dK, db, dX = np.empty((n, f, ho, ho)), np.empty_like(K), np.empty_like(b), np.empty_like(X)

    def ours():
        fw.dispatcher(X, K, b, 1, Y)
        gk.dispatcher(G, X, K, 1, dK)
        gb.dispatcher(G, db)
        gi.dispatcher(G, K, X, 1, dX)

    def im2col():
        cols = cnn_numpy.im2col(X, k, k)  # (n, P, c*k*k)
        Yr = cols @ K.reshape(f, -1).T + b  # (n, P, f)
        g = G.reshape(n, f, -1).transpose(0, 2, 1)  # (n, P, f)
        dKr = (g.reshape(-1, f).T @ cols.reshape(-1, c * k * k)).reshape(K.shape)
        dbr = g.sum(axis=(0, 1))
        dXr = cnn_numpy.col2im(g @ K.reshape(f, -1), X.shape, k, k)
        return Yr, dKr, dbr, dXr

    from symnn.codegen.specialise import specialised

    sfw, sgk, sgi = (
        specialised(f"conv2d.layer_{x}", k_h=k, k_w=k, s=1) for x in ("forward", "grad_kernel", "grad_input")
    )
    ufw, ugk, ugi = (
        specialised(f"conv2d.layer_{x}", unfold=True, k_h=k, k_w=k, s=1)
        for x in ("forward", "grad_kernel", "grad_input")
    )

    def ours_unfold():
        ufw.dispatcher(X, K, b, 1, Y)
        ugk.dispatcher(G, X, K, 1, dK)
        gb.dispatcher(G, db)
        ugi.dispatcher(G, K, X, 1, dX)

    def ours_specialised():
        sfw.dispatcher(X, K, b, 1, Y)
        sgk.dispatcher(G, X, K, 1, dK)
        gb.dispatcher(G, db)
        sgi.dispatcher(G, K, X, 1, dX)

    Yr, dKr, dbr, dXr = im2col()
    for step in (ours_unfold, ours_specialised, ours):
        Y[...] = dK[...] = db[...] = dX[...] = np.nan
        step()
        assert np.allclose(Y, Yr.transpose(0, 2, 1).reshape(Y.shape)) and np.allclose(dK, dKr)
        assert np.allclose(db, dbr) and np.allclose(dX, dXr)
    from symnn.codegen.passes.unfold import UNFOLD_MIN

    large = n * f * c * ho * ho * k * k >= UNFOLD_MIN
    fw_, gk_, gi_ = (ufw, ugk, ugi) if large else (sfw, sgk, sgi)
    parts = {
        "conv2d.layer_forward (Y)": lambda: fw_.dispatcher(X, K, b, 1, Y),
        "conv2d.layer_grad_kernel (dK)": lambda: gk_.dispatcher(G, X, K, 1, dK),
        "conv2d.layer_grad_bias (db)": lambda: gb.dispatcher(G, db),
        "conv2d.layer_grad_input (dX)": lambda: gi_.dispatcher(G, K, X, 1, dX),
    }
    conv_case.parts = {name: _timeit(f, max(3, repeats // 4)) for name, f in parts.items()}
    rows = [
        {
            "name": f"symnn, specialised to {k}x{k}, stride 1, window sums in BLAS above UNFOLD_MIN ('[unfold]')"
            + (" (what Conv2D trains with)" if large else ""),
            "ms": _timeit(ours_unfold, repeats) * 1e3,
        },
        {
            "name": f"symnn, specialised to {k}x{k}, stride 1, written order"
            + ("" if large else " (what Conv2D trains with)"),
            "ms": _timeit(ours_specialised, repeats) * 1e3,
        },
        {"name": "symnn, shape-generic conv2d.layer_* kernels", "ms": _timeit(ours, repeats) * 1e3},
        {"name": "NumPy im2col / col2im", "ms": _timeit(im2col, repeats) * 1e3},
    ]
    if torch and torch_available():
        import torch as th

        if threads:
            th.set_num_threads(threads)
        for dtype in (th.float32, th.float64):
            Xt = th.tensor(X, dtype=dtype, requires_grad=True)
            Kt = th.tensor(K, dtype=dtype, requires_grad=True)
            bt = th.tensor(b, dtype=dtype, requires_grad=True)
            Gt = th.tensor(G, dtype=dtype)

            def torch_step(Xt=Xt, Kt=Kt, bt=bt, Gt=Gt):
                Xt.grad = Kt.grad = bt.grad = None
                th.nn.functional.conv2d(Xt, Kt, bt).backward(Gt)

            torch_step()
            assert np.allclose(Kt.grad.double().numpy(), dK, rtol=1e-3, atol=1e-3)
            rows.append(
                {"name": f"PyTorch CPU {str(dtype).split('.')[1]} (autograd)", "ms": _timeit(torch_step, repeats) * 1e3}
            )
    return rows


# -- where symnn's time goes ---------------------------------------------------------------------
def profile_epoch(seed: int = 0) -> tuple[dict[str, float], float]:
    """Seconds per part of one training epoch: each layer's forward and backward kernels, the
    loss gradient, the SGD update, and the rest (Python between the kernel calls)."""
    d = digits(images=True)
    ref = symnn_cnn()
    net = ref.init(seed)
    ref.train_epoch(net, d.X_train, d.y_train, 0.5, 32, np.random.default_rng(seed))  # warm up
    spent: dict[str, float] = defaultdict(float)
    timers = part_timers(net, spent, "loss gradient (softmax, (ŷ − y)/n)", "SGD update (sgd.update per parameter)")
    with timers:
        t0 = time.perf_counter()
        ref.train_epoch(net, d.X_train, d.y_train, 0.5, 32, np.random.default_rng(seed + 1))
        total = time.perf_counter() - t0
    spent["rest: batch indexing, Python between the calls"] = total - sum(spent.values())
    return dict(spent), total


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python bench/cnn.py")
    p.add_argument("--epochs", type=int, default=DIGITS_CNN["epochs"])
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--repeats", type=int, default=20, help="repeats of the conv forward+backward timing")
    p.add_argument("--no-torch", action="store_true")
    args = p.parse_args(argv)
    torch = not args.no_torch
    print(
        f"# {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
        f"load {os.getloadavg()[0]:.2f}; torch threads: {args.threads or 'default'}"
    )
    rows = run_epochs(args.epochs, args.threads, torch)
    print(
        ratio_table(
            rows,
            f"\ndigits CNN, one epoch (1437 images, mini-batch {DIGITS_CNN['batch_size']}, "
            f"eta {DIGITS_CNN['lr']}), median of {args.epochs - 1} epochs after the first; "
            f"accuracy after {args.epochs} epochs",
        )
    )
    for n, c, f, h, k in ((32, 1, 8, 8, 3), (32, 8, 16, 28, 3)):
        rows = conv_case(n, c, f, h, k, args.threads, torch, args.repeats)
        print(
            ratio_table(
                rows,
                f"\nconv forward + backward (Y, dK, db, dX), batch {n}: X ({n}, {c}, {h}, {h}), "
                f"K ({f}, {c}, {k}, {k}), stride 1",
                accuracy=False,
            )
        )
        total = sum(conv_case.parts.values())
        print(
            "  symnn's kernels Conv2D trains with, one by one: "
            + "; ".join(
                f"{name} {sec * 1e3:.2f} ms ({100 * sec / total:.0f} %)" for name, sec in conv_case.parts.items()
            )
        )
    spent, total = profile_epoch()
    print(
        f"\nwhere symnn's per-layer epoch goes ({total * 1e3:.1f} ms, each part's kernels timed over one "
        "epoch, called from Python):"
    )
    for label, sec in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {sec * 1e3:7.2f} ms  {100 * sec / total:5.1f} %  {label}")
    print(NOTE)
    for note in dict.fromkeys(skipped):
        print(f"note: {note}")


NOTE = """
note (from the profiles above): below UNFOLD_MIN multiply-adds (the digits CNN) symnn's kernels are
plain loops in the written summation order, one output element at a time. The epoch profile is of
the per-layer path (each kernel called from Python); the compiled epoch calls the same kernels from
one generated Numba function, so the "rest" row (batch indexing, Python between ~30 calls per
mini-batch) is what it removes, and the kernels' shares carry over. For the digits CNN the arrays
are tiny (8x8 images, 8 filters): the conv and pool kernels, specialised to 3x3 / 2x2 so that LLVM
unrolls their window loops, and the SGD updates take most of the epoch; the references lose to
per-call overhead (PyTorch) and to temporary arrays (im2col) at this size. On the larger layer
(8->16 channels, 28x28) Conv2D runs the '[unfold]' compilations: the kernel and input gradients
are one matrix product per sample in BLAS over the unfolded windows (im2col / col2im written by
symnn.codegen.passes.unfold), added in BLAS's order; the forward pass keeps its loops there (72
terms per output, as fast as BLAS). bench/conv_gemm.py compares that layer with the plain
sgemm/dgemm ceiling."""


if __name__ == "__main__":
    main()
