"""python bench/mlp.py [--epochs N] [--threads N]: the digits MLP (Nielsen's setup: 64-30-10,
sigmoid, quadratic, SGD mini-batch 10, η = 3) trained by symnn's generated kernels, beside a
faithful NumPy network.py, a vectorised NumPy version, a hand-written Numba kernel and PyTorch
CPU (when importable) — same init, same epoch order, timed in the same run."""

from __future__ import annotations

import argparse
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from references import DIGITS_MLP, mlp_references, skipped  # noqa: E402
from references.common import digits, ratio_table, time_training  # noqa: E402
from symnn_nets import check_same_init, mlp, mlp_fit, mlp_fused  # noqa: E402


def run(epochs: int = 10, threads: int | None = None, torch: bool = True) -> list[dict]:
    d = digits()
    sizes, lr, batch = DIGITS_MLP["sizes"], DIGITS_MLP["lr"], DIGITS_MLP["batch_size"]
    assert check_same_init(sizes) == 0.0, "symnn and the references must start from the same weights"
    rows = []
    for ref in [
        mlp_fused(sizes),
        mlp_fit(sizes),
        mlp_fused(sizes, fastmath=True),
        mlp_fused(sizes, dtype="float32"),
        mlp(sizes),
        *mlp_references(sizes, torch=torch, threads=threads),
    ]:
        t = time_training(ref, d.X_train, d.Y_train, d.X_test, d.y_test, epochs, lr, batch)
        rows.append({"name": ref.name, "ms": t.median * 1e3, "accuracy": t.accuracy})
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python bench/mlp.py")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--no-torch", action="store_true")
    args = p.parse_args(argv)
    print(
        f"# {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
        f"load {os.getloadavg()[0]:.2f}; {args.epochs} epochs, first left out of the median"
    )
    rows = run(args.epochs, args.threads, not args.no_torch)
    print(ratio_table(rows, "\ndigits MLP 64-30-10, sigmoid, quadratic, mini-batch 10, eta 3", "ms/epoch (median)"))
    for note in dict.fromkeys(skipped):
        print(f"note: {note}")


if __name__ == "__main__":
    main()
