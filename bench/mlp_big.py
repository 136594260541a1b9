"""python bench/mlp_big.py [--epochs N] [--samples N] [--threads N]: an MNIST-shaped net,
784-100-10 (sigmoid, quadratic, SGD, mini-batch 32, η = 3), on synthetic data (20,000 samples of
784 Gaussian features labelled by a random linear teacher), trained by symnn's generated
kernels — the dense products lowered to one BLAS call each (np.dot inside the generated kernel)
— beside vectorised NumPy and PyTorch CPU, same init, same epoch order, timed in the same run."""

from __future__ import annotations

import argparse
import os
import platform
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one BLAS thread everywhere: NumPy's, SciPy's (Numba) and torch's
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from references import mlp_references, skipped  # noqa: E402
from references.common import Reference, ratio_table, time_training  # noqa: E402
from symnn_nets import mlp  # noqa: E402

SIZES = [784, 100, 10]
LR, BATCH = 3.0, 32


def synthetic(n: int, n_test: int = 2000, seed: int = 0):
    """'Pixels' uniform in [0, 1]; labels = arg-max of a random linear teacher on the centred
    pixels (learnable, not trivial)."""
    rng = np.random.default_rng(seed)
    X = rng.random(size=(n + n_test, SIZES[0]))
    teacher = rng.normal(size=(SIZES[-1], SIZES[0]))
    y = np.argmax((X - 0.5) @ teacher.T, axis=1)
    Y = np.eye(SIZES[-1])[y]
    return X[:n], Y[:n], X[n:], y[n:]


def symnn_compiled(name: str, dtype: str = "float64") -> Reference:
    """symnn's per-layer kernels called from the compiled epoch driver (fit(compiled=True))."""
    from references.common import epoch_order
    from symnn_nets import as_model_dtype

    from symnn.nn.epoch import run_epoch

    base = mlp(SIZES, name=name, dtype=dtype)

    def train_epoch(net, X, Y, lr, batch_size, rng):
        X, Y = as_model_dtype(net, X, Y)
        run_epoch(net, X, Y, epoch_order(rng, len(X)), lr, batch_size, net._ws)
        return net

    return Reference(name, base.init, train_epoch, base.predict)


def run(epochs: int = 3, samples: int = 20000, threads: int | None = 1, torch: bool = True) -> list[dict]:
    X, Y, X_test, y_test = synthetic(samples)
    refs = [
        mlp(SIZES, name="symnn, one kernel call per layer, BLAS products (default)"),
        symnn_compiled("symnn, compiled epoch, BLAS products"),
        mlp(SIZES, name="symnn, one kernel call per layer, BLAS products, float32", dtype="float32"),
        symnn_compiled("symnn, compiled epoch, BLAS products, float32", dtype="float32"),
    ]
    refs += [
        r
        for r in mlp_references(SIZES, torch=torch, threads=threads)
        if "per-sample" not in r.name or "Numba" in r.name and "fastmath" not in r.name
    ]
    rows = []
    for ref in refs:
        t = time_training(ref, X, Y, X_test, y_test, epochs, LR, BATCH)
        rows.append({"name": ref.name, "ms": t.median * 1e3, "accuracy": t.accuracy})
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python bench/mlp_big.py")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--samples", type=int, default=20000)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (BLAS: 1 thread)")
    p.add_argument("--no-torch", action="store_true")
    args = p.parse_args(argv)
    print(
        f"# {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
        f"load {os.getloadavg()[0]:.2f}; {args.epochs} epochs, first left out of the median; "
        f"1 BLAS thread, torch threads {args.threads}"
    )
    rows = run(args.epochs, args.samples, args.threads, not args.no_torch)
    print(
        ratio_table(
            rows,
            f"\nMNIST-shaped MLP 784-100-10 on {args.samples} synthetic samples, sigmoid, "
            f"quadratic, mini-batch {BATCH}, eta {LR}",
            "ms/epoch (median)",
        )
    )
    for note in dict.fromkeys(skipped):
        print(f"note: {note}")


if __name__ == "__main__":
    main()
