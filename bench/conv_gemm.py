"""python bench/conv_gemm.py [--repeats N] [--runs N] [--threads N] [--no-torch]: the large
convolutional layer (8 -> 16 channels, 28x28, 3x3, batch 32) forward + backward (Y, dK, db, dX):
symnn's kernels as training runs them (specialised to 3x3, window sums lowered to im2col/col2im +
np.dot by symnn.codegen.passes.unfold above UNFOLD_MIN), the same kernels in the written order
('[exact,...]', no BLAS), float32 and float64; the hand-written im2col NumPy reference; PyTorch CPU
float32/float64 autograd; and the ceiling: the three plain matrix products of the same shapes
(sgemm/dgemm through np.dot, operands already unfolded), which any im2col implementation must do.

Every row is measured in the same process, `--runs` times in turn (default 2); the table gives
each row's median per run and the range over runs, and each ratio is taken within a run. Threads:
BLAS (OpenBLAS via NumPy and SciPy, which Numba's np.dot calls), Numba and PyTorch all get each
count of `--threads` (default 1; `--threads 1 2` runs the tables at 1, then 2 threads, through
symnn.nn.threads.set_threads and torch.set_num_threads).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from statistics import median


def _threads_from_argv(argv: list[str]) -> list[int]:
    for k, arg in enumerate(argv):
        if arg == "--threads":
            counts = []
            for a in argv[k + 1 :]:
                if not a.isdigit():
                    break
                counts.append(int(a))
            return counts or [1]
    return [1]


THREADS = max(_threads_from_argv(sys.argv))
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = str(THREADS)  # the most asked for, before NumPy / Numba load their thread pools

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from references import skipped, torch_available  # noqa: E402

SHAPE = dict(n=32, c=8, f=16, h=28, k=3)


FASTEST: dict[str, float] = {}  # the fastest single call of each row, over all runs
SETTLE = 0.3  # seconds between rows: longer than the threads' busy wait
LAYER_TIMES: dict[tuple[int, str], list[float]] = {}  # (threads, dtype) -> the layer row's run medians


def _best(f, repeats: int, name: str = "") -> float:
    """Median seconds of `repeats` calls after one warm-up call (the fastest kept in FASTEST),
    a pause first: the row before may have left threads spinning (OpenBLAS's, PyTorch's and
    Numba's OpenMP workers wait busily a while after their last call), which would take the
    second core from this row."""
    time.sleep(SETTLE)
    f()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    times.sort()
    if name:
        FASTEST[name] = min(FASTEST.get(name, times[0]), times[0])
    return times[len(times) // 2]


LAYER = "symnn, Conv2D.forward + backward (the layer's API; batch shared by the threads asked for)"


def _layer_api(X, K, b, G, got, tol):
    """The public layer calls (as `gradients` and `predict` run them): from PARTS_MIN multiply-adds
    with threads asked for, each kernel's batch is shared among them (symnn.nn.split)."""
    from symnn.nn import Conv2D

    layer = Conv2D(X.shape[1], K.shape[0], K.shape[2])
    layer.weight, layer.bias = K.copy(), b.copy()
    layer.reset()

    def step():
        layer.forward(X)
        return layer.backward(G)

    dX = step()
    for a, r in zip((layer.forward(X), layer.grads["weight"], layer.grads["bias"], dX), got):
        assert np.allclose(a, r, rtol=tol, atol=tol * float(np.abs(r).max())), "the layer API disagrees"
    return step


def cases(dtype, torch: bool, threads: int = 1):
    """name -> a function running one forward + backward (or one matrix product set)."""
    from references import cnn_numpy

    from symnn.codegen import kernel
    from symnn.codegen.specialise import specialised

    n, c, f, h, k = (SHAPE[x] for x in "ncfhk")
    ho = h - k + 1
    rng = np.random.default_rng(0)
    X, K, b = (rng.normal(size=s).astype(dtype) for s in ((n, c, h, h), (f, c, k, k), (f,)))
    G = rng.normal(size=(n, f, ho, ho)).astype(dtype)
    Y, dK, db, dX = np.empty((n, f, ho, ho), dtype), np.empty_like(K), np.empty_like(b), np.empty_like(X)
    out: dict[str, object] = {}
    parts: dict[str, object] = {}
    for label, exact in (("im2col + BLAS, [unfold] (what Conv2D runs)", False), ("written order (no BLAS)", True)):
        fw, gk, gi = (
            specialised(f"conv2d.layer_{x}", unfold=not exact, k_h=k, k_w=k, s=1)
            for x in ("forward", "grad_kernel", "grad_input")
        )
        gb = kernel("conv2d.layer_grad_bias" + ("" if exact else "[unfold]"))  # as Conv2D runs them

        def step(fw=fw, gk=gk, gi=gi, gb=gb):
            fw.dispatcher(X, K, b, 1, Y)
            gk.dispatcher(G, X, K, 1, dK)
            gb.dispatcher(G, db)
            gi.dispatcher(G, K, X, 1, dX)

        out[f"symnn, {label}"] = step
        parts[label] = {
            "forward Y": lambda fw=fw: fw.dispatcher(X, K, b, 1, Y),
            "kernel gradient dK": lambda gk=gk: gk.dispatcher(G, X, K, 1, dK),
            "bias gradient db": lambda gb=gb: gb.dispatcher(G, db),
            "input gradient dX": lambda gi=gi: gi.dispatcher(G, K, X, 1, dX),
        }
    step = out["symnn, im2col + BLAS, [unfold] (what Conv2D runs)"]
    step()  # checked against NumPy below
    got = (Y.copy(), dK.copy(), db.copy(), dX.copy())

    def im2col():
        cols = cnn_numpy.im2col(X, k, k)  # (n, P, c*k*k)
        Yr = cols @ K.reshape(f, -1).T + b
        g = G.reshape(n, f, -1).transpose(0, 2, 1)
        dKr = (g.reshape(-1, f).T @ cols.reshape(-1, c * k * k)).reshape(K.shape)
        dXr = cnn_numpy.col2im(g @ K.reshape(f, -1), X.shape, k, k)
        return Yr.transpose(0, 2, 1).reshape(n, f, ho, ho), dKr, g.sum(axis=(0, 1)), dXr

    tol = 2e-3 if dtype == np.float32 else 1e-9
    for a, r in zip(got, im2col()):
        assert np.allclose(a, r, rtol=tol, atol=tol * float(np.abs(r).max())), "symnn and NumPy disagree"
    out["NumPy im2col / col2im"] = im2col
    out[LAYER] = _layer_api(X, K, b, G, got, tol)
    # the ceiling: the three products with the operands already unfolded (no im2col, no col2im)
    depth, pixels = c * k * k, n * ho * ho
    A, B = rng.normal(size=(f, depth)).astype(dtype), rng.normal(size=(depth, pixels)).astype(dtype)
    Gm, C1, C2 = (
        rng.normal(size=(f, pixels)).astype(dtype),
        np.empty((f, pixels), dtype),
        np.empty((depth, pixels), dtype),
    )
    C3 = np.empty((f, depth), dtype)
    kind = "sgemm" if dtype == np.float32 else "dgemm"

    def ceiling():
        np.dot(A, B, C1)  # Y: (F, C·9) x (C·9, N·P)
        np.dot(Gm, B.T, C3)  # dK: (F, N·P) x (N·P, C·9)
        np.dot(A.T, Gm, C2)  # dX before col2im: (C·9, F) x (F, N·P)

    out[f"ceiling: 3 plain {kind} of the same shapes (operands unfolded)"] = ceiling
    if torch and torch_available():
        import torch as th

        th.set_num_threads(threads)
        tdt = th.float32 if dtype == np.float32 else th.float64
        Xt, Kt, bt = (th.tensor(a, dtype=tdt, requires_grad=True) for a in (X, K, b))
        Gt = th.tensor(G, dtype=tdt)

        def torch_step():
            Xt.grad = Kt.grad = bt.grad = None
            th.nn.functional.conv2d(Xt, Kt, bt).backward(Gt)

        torch_step()
        assert np.allclose(Kt.grad.numpy(), got[1], rtol=tol, atol=tol * float(np.abs(got[1]).max()))
        out[f"PyTorch CPU {str(tdt).split('.')[1]} (autograd)"] = torch_step
    flops = 2 * 3 * f * depth * pixels
    return out, parts, flops


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python bench/conv_gemm.py")
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--runs", type=int, default=2, help="measure every row this many times, in turn")
    p.add_argument(
        "--threads", type=int, nargs="+", default=[1], help="BLAS, Numba and PyTorch threads, one table each"
    )
    p.add_argument("--no-torch", action="store_true")
    args = p.parse_args(argv)
    n, c, f, h, k = (SHAPE[x] for x in "ncfhk")
    print(
        f"# {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} before the run; median of {args.repeats} calls "
        f"per row, {args.runs} runs"
    )
    from symnn.nn.threads import set_threads

    for threads, dtype in [(t, d) for t in args.threads for d in (np.float32, np.float64)]:
        set_threads(threads)
        rows, parts, flops = cases(dtype, not args.no_torch, threads)
        times: dict[str, list[float]] = {name: [] for name in rows}
        part_times: dict[str, dict[str, list[float]]] = {lb: {x: [] for x in d} for lb, d in parts.items()}
        for _ in range(args.runs):
            for name, fn in rows.items():
                times[name].append(_best(fn, args.repeats, f"{threads} {dtype.__name__} {name}"))
            for label, d in parts.items():
                for x, fn in d.items():
                    part_times[label][x].append(_best(fn, max(5, args.repeats // 3)))
        ours = "symnn, im2col + BLAS, [unfold] (what Conv2D runs)"
        LAYER_TIMES[threads, np.dtype(dtype).name] = times[LAYER]
        name = np.dtype(dtype).name
        print(
            f"\nconv layer forward + backward (Y, dK, db, dX), {name}, {threads} thread(s) for BLAS, Numba and "
            f"PyTorch: X ({n}, {c}, {h}, {h}), K ({f}, {c}, {k}, {k}), stride 1; load {os.getloadavg()[0]:.2f}"
        )
        print(
            "| implementation | ms (median; range over runs) | symnn's speed-up (range) | GFLOP/s (median) "
            "| fastest call, ms |"
        )
        print("|---|---|---|---|---|")
        for row, ts in times.items():
            ratios = [t / s for t, s in zip(ts, times[ours])]
            ms = f"{1e3 * min(ts):.2f}–{1e3 * max(ts):.2f}" if len(ts) > 1 else f"{1e3 * ts[0]:.2f}"
            ratio = f"{min(ratios):.2f}–{max(ratios):.2f}x" if len(ts) > 1 else f"{ratios[0]:.2f}x"
            gflops = flops / median(ts) / 1e9
            fastest = 1e3 * FASTEST[f"{threads} {dtype.__name__} {row}"]
            print(f"| {row} | {ms} | {ratio} | {gflops:.1f} | {fastest:.2f} |")
        ceiling = [t for r, t in times.items() if r.startswith("ceiling")][0]
        frac = [c_ / s for c_, s in zip(ceiling, times[ours])]
        print(f"  symnn's fraction of the {name} GEMM ceiling: {min(frac):.0%}–{max(frac):.0%}")
        for label, d in part_times.items():
            total = sum(min(v) for v in d.values())
            print(
                f"  symnn {label}, kernel by kernel (best of runs): "
                + "; ".join(f"{x} {1e3 * min(v):.2f} ms ({100 * min(v) / total:.0f} %)" for x, v in d.items())
            )
    if len(args.threads) > 1:
        one = min(args.threads)
        print(f"\n{LAYER}, each thread count against {one}:")
        for threads, dtype in [(t, d) for t in args.threads if t != one for d in (np.float32, np.float64)]:
            a, b = LAYER_TIMES[one, np.dtype(dtype).name], LAYER_TIMES[threads, np.dtype(dtype).name]
            ratios = [x / y for x, y in zip(a, b)]
            name = np.dtype(dtype).name
            print(
                f"  {name}, {threads} threads: {1e3 * median(b):.2f} ms against {1e3 * median(a):.2f} ms "
                f"-> {min(ratios):.2f}–{max(ratios):.2f}x (run by run)"
            )
    for note in dict.fromkeys(skipped):
        print(f"note: {note}")


if __name__ == "__main__":
    main()
