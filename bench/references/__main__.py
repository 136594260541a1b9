"""Quick side-by-side timing of the references on the digits MLP and CNN:
python -m bench.references [--epochs N] [--threads N] [--no-torch]

Prints the median seconds per epoch (first epoch left out: it may compile) and the test accuracy
after the epochs run, for the Nielsen setup (64-30-10, sigmoid, quadratic, η = 3, mini-batch 10)
and the CNN (conv 8x3x3, ReLU, max-pool 2, dense 10, softmax-CE, η = 0.5, mini-batch 32).
"""

from __future__ import annotations

import argparse
import platform

from . import DIGITS_CNN, DIGITS_MLP, cnn_references, mlp_references, skipped
from .common import digits, time_training


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.references")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch.set_num_threads (default: PyTorch's own default)"
    )
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--only", choices=("mlp", "cnn"), default=None)
    args = parser.parse_args(argv)
    print(
        f"# {platform.processor() or platform.machine()}, python {platform.python_version()}, "
        f"{args.epochs} epochs each, seed 0"
    )
    if args.only in (None, "mlp"):
        d = digits()
        print("\ndigits MLP 64-30-10, sigmoid, quadratic, SGD mini-batch 10, eta 3")
        for ref in mlp_references(DIGITS_MLP["sizes"], torch=not args.no_torch, threads=args.threads):
            t = time_training(
                ref, d.X_train, d.Y_train, d.X_test, d.y_test, args.epochs, DIGITS_MLP["lr"], DIGITS_MLP["batch_size"]
            )
            print(f"  {ref.name:42s} {t.median * 1e3:9.2f} ms/epoch   accuracy {t.accuracy:.4f}")
    if args.only in (None, "cnn"):
        d = digits(images=True)
        print("\ndigits CNN conv 8x3x3 -> ReLU -> maxpool 2 -> dense 10, softmax-CE, mini-batch 32, eta 0.5")
        for ref in cnn_references(torch=not args.no_torch, threads=args.threads):
            t = time_training(
                ref, d.X_train, d.y_train, d.X_test, d.y_test, args.epochs, DIGITS_CNN["lr"], DIGITS_CNN["batch_size"]
            )
            print(f"  {ref.name:42s} {t.median * 1e3:9.2f} ms/epoch   accuracy {t.accuracy:.4f}")
    for note in dict.fromkeys(skipped):
        print(f"note: {note}")


if __name__ == "__main__":
    main()
