"""`symnn train perceptron|mlp|cnn`: train a small net from the derived kernels."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from symnn.nn.model import Sequential

NETS = ("perceptron", "mlp", "cnn")
DATASETS = ("study", "study2", "xor", "digits")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("net", choices=NETS, help="what to train")
    p.add_argument(
        "--dataset", help="study | study2 | xor | digits (default: study for the perceptron, digits otherwise)"
    )
    p.add_argument("--mode", default="minibatch", help="sgd | batch | minibatch | all (default: minibatch)")
    p.add_argument("--epochs", type=int, help="passes over the training set")
    p.add_argument("--batch-size", type=int, help="samples per update (minibatch mode)")
    p.add_argument("--lr", type=float, help="learning rate η")
    p.add_argument("--hidden", default=None, help="hidden layer sizes, e.g. 30 or 30,20 (mlp)")
    from symnn.ops import activation_names

    p.add_argument(
        "--activation",
        default=None,
        help=f"hidden/output activation: {' | '.join(activation_names())} (default: sigmoid)",
    )
    p.add_argument("--cost", default=None, help="quadratic | cross-entropy (default: quadratic)")
    p.add_argument("--seed", type=int, default=0, help="random seed (weights, order, split)")
    p.add_argument("--explain", action="store_true", help="narrate the lecture's seven steps with real numbers")
    p.add_argument("--plot", metavar="FILE", help="write the loss curve(s) as PNG")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress (bar or lines)")
    p.add_argument("--force", action="store_true", help="replace --plot FILE even if symnn did not write it")
    p.add_argument(
        "--compiled",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="cnn: run each epoch in the compiled epoch driver (compiled once per architecture, "
        "~10 s, then cached; default: when already compiled or the run is long)",
    )
    p.add_argument(
        "--float32", action="store_true", help="mlp, cnn: train in float32 (the same kernels compiled for float32)"
    )
    p.add_argument(
        "--fastmath",
        action="store_true",
        help="mlp, cnn: train with the kernels compiled to reassociate sums (faster; "
        "results no longer bit-reproducible against the written summation order)",
    )


DEFAULTS = {  # (epochs, lr, batch size)
    "perceptron": (200, 0.5, 8),
    "mlp": (30, 3.0, 10),
}


def check_common(args: argparse.Namespace) -> None:
    """The numeric options, refused before any data loads or any kernel compiles."""
    from symnn.errors import InputError

    seed, lr = getattr(args, "seed", 0), getattr(args, "lr", None)
    if not 0 <= seed < 2**32:
        raise InputError(f"--seed must be an integer from 0 to {2**32 - 1} (got {seed})")
    for name in ("epochs", "batch_size"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            raise InputError(f"--{name.replace('_', '-')} must be a positive integer (got {value})")
    if lr is not None and not (lr > 0 and lr != float("inf")):
        raise InputError(f"--lr must be a positive finite number such as 0.5 (got {lr})")
    if getattr(args, "net", "cnn") != "cnn":
        from symnn.nn import activation_layer, get_loss

        if getattr(args, "activation", None) is not None:
            activation_layer(args.activation)
        if getattr(args, "cost", None) is not None:
            get_loss(args.cost)


def _hidden(spec: str | None, default: list[int]) -> list[int]:
    from symnn.errors import InputError

    if spec is None:
        return default
    try:
        sizes = [int(s) for s in spec.split(",") if s.strip()]
    except ValueError:
        raise InputError(
            f"--hidden takes positive integers separated by commas, e.g. 30 or 30,20 (got {spec!r})"
        ) from None
    if not sizes or min(sizes) < 1:
        raise InputError(f"--hidden takes positive integers separated by commas, e.g. 30 or 30,20 (got {spec!r})")
    return sizes


def check_net_memory(sizes: list[int], n_samples: int, batch: int, what: str) -> None:
    """Refuse, before allocating anything, a net whose weights and activations exceed the limit:
    float64 weights with their gradients and update buffers (×4), every layer's z and a for the
    n samples of a loss evaluation, and a batch's buffers."""
    from symnn.limits import check_memory

    weights = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    values = sum(sizes)
    check_memory(8 * (4 * weights + 4 * (n_samples + batch) * values), what)


def build_net(kind: str, data, hidden: list[int], activation: str, cost: str, seed: int, batch: int = 1) -> Sequential:
    from symnn.nn import Dense, Sequential, activation_layer

    n_out = data.n_classes if data.task == "classification" else 1
    if kind == "perceptron":
        sizes = [data.n_features, n_out]
    else:
        sizes = [data.n_features, *hidden, n_out]
    check_net_memory(
        sizes, len(data.X_train), batch, f"a {'-'.join(map(str, sizes))} net on {len(data.X_train)} samples"
    )
    layers = []
    for n_in, n_out_ in zip(sizes[:-1], sizes[1:]):
        layers += [Dense(n_in, n_out_), activation_layer(activation)]
    return Sequential(layers, loss=cost, seed=seed)


def run(args: argparse.Namespace) -> int:
    if args.net == "cnn":
        from symnn.commands.train_cnn import run_cnn

        return run_cnn(args)
    from symnn.errors import InputError
    from symnn.nn.data import load
    from symnn.nn.train import MODES

    if getattr(args, "compiled", None) is not None:
        raise InputError(
            f"--compiled applies to symnn train cnn; the {args.net} already trains "
            "with one fused generated kernel per epoch"
        )
    check_common(args)
    dataset = args.dataset or ("study" if args.net == "perceptron" else "digits")
    _hidden(args.hidden, [])  # a bad --hidden is refused before the data loads
    if args.net == "perceptron" and args.hidden is not None:
        raise InputError("--hidden applies to the mlp; the perceptron has no hidden layer")
    data = load(dataset, seed=args.seed)
    epochs, lr, batch = DEFAULTS[args.net]
    if dataset == "xor":
        epochs, lr, batch = (2000, 2.0, 4) if args.net == "mlp" else (epochs, lr, 4)
    epochs = args.epochs if args.epochs is not None else epochs
    lr = args.lr if args.lr is not None else lr
    batch = args.batch_size if args.batch_size is not None else batch
    activation = args.activation or "sigmoid"
    cost = args.cost or "quadratic"
    hidden = _hidden(args.hidden, [3] if dataset == "xor" else [30])
    modes = list(MODES) if args.mode == "all" else [args.mode]
    if args.mode not in (*MODES, "all"):
        raise InputError(f"unknown mode {args.mode!r}; choose one of: sgd, batch, minibatch, all")
    if args.plot:
        from symnn.outputs import check_writable

        check_writable(args.plot, args.force)

    curves = {}
    for mode in modes:
        net = build_net(args.net, data, hidden, activation, cost, args.seed, min(batch, len(data.X_train)))
        if getattr(args, "float32", False):
            net.astype("float32")
        say = (lambda line: print(line)) if args.explain and mode == modes[0] else None
        t0 = time.perf_counter()
        net.fit(
            data.X_train,
            data.y_train,
            epochs=epochs,
            lr=lr,
            batch_size=batch,
            mode=mode,
            X_test=data.X_test,
            y_test=data.y_test,
            progress=not args.quiet,
            explain=say,
            fastmath=args.fastmath,
        )
        seconds = time.perf_counter() - t0
        curves[mode] = net.history["loss"]
        label = f"[{mode}] " if len(modes) > 1 else ""
        print(f"{label}{net!r}")
        from symnn.wording import plural

        print(
            f"{label}trained {plural(epochs, 'epoch')} on {dataset} ({len(data.X_train)} samples) in {seconds:.2f} s; "
            f"final loss {net.history['loss'][-1]:.6f}"
        )
        if data.task == "classification":
            print(f"{label}test accuracy: {net.accuracy(data.X_test, data.y_test):.4f}")
        else:
            pred = net.predict(data.X_test)
            for i, (p, t) in enumerate(zip(pred, data.y_test), 1):
                print(f"{label}  row {i}: ŷ = {p:.4f}   y = {t:.4f}")
    if args.plot:
        _plot(curves, dataset, args.plot, args.force)
        print(f"wrote {args.plot}")
    return 0


def _plot(curves: dict, dataset: str, path: str, force: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from symnn.outputs import save_figure

    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, losses in curves.items():
        ax.plot(range(1, len(losses) + 1), losses, label=mode)
    ax.set_xlabel("epoch")
    ax.set_ylabel("cost (mean over the training set)")
    ax.set_title(f"Training on {dataset}")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path, force)
    plt.close(fig)
