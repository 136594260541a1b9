"""`symnn train cnn`: the lecture's CNN plan of attack on the bundled digits, from derived kernels.

conv (8 filters 3×3) → ReLU → 2×2 max-pool → flatten → dense 10 → softmax/cross-entropy, trained
with mini-batch SGD (η 0.5, batches of 32, 20 epochs, seed 0 by default). Initial weights follow
the benchmark references' rule (normal(0, 1/√fan_in) per layer in order, biases 0), so the result
compares with bench/references/cnn_numpy.py (97.8 % on this split).
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TypedDict

    from symnn.nn.model import Sequential

    class _Defaults(TypedDict):
        epochs: int
        lr: float
        batch_size: int


DEFAULTS: _Defaults = {"epochs": 20, "lr": 0.5, "batch_size": 32}
FILTERS, KERNEL, POOL, N_CLASSES = 8, 3, 2, 10


def build_cnn(in_shape: tuple[int, int, int] = (1, 8, 8), seed: int = 0, filters: int = FILTERS) -> Sequential:
    """The lecture's CNN for images of in_shape (C, H, W)."""
    from symnn.nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential

    c, h, w = in_shape
    hp, wp = (h - KERNEL + 1) // POOL, (w - KERNEL + 1) // POOL
    return Sequential(
        [Conv2D(c, filters, KERNEL), ReLU(), MaxPool2D(POOL), Flatten(), Dense(filters * hp * wp, N_CLASSES)],
        loss="softmax-cross-entropy",
        seed=seed,
    )


def run_cnn(args: argparse.Namespace) -> int:
    from symnn.commands.train import check_common
    from symnn.errors import InputError
    from symnn.nn.data import load

    check_common(args)
    dataset = args.dataset or "digits"
    if dataset != "digits":
        raise InputError(
            f"symnn train cnn trains on images; the only bundled image dataset is digits (got {dataset!r})"
        )
    if getattr(args, "mode", "minibatch") not in ("minibatch", None):
        raise InputError(f"symnn train cnn trains with mini-batches only (got --mode {args.mode})")
    for option in ("hidden", "activation", "cost"):
        if getattr(args, option, None) is not None:
            raise InputError(
                f"--{option} does not apply to symnn train cnn (its layers are fixed: "
                "conv 8×3×3 → ReLU → max-pool 2×2 → flatten → dense 10 → softmax/cross-entropy)"
            )
    if getattr(args, "explain", False):
        raise InputError("--explain applies to the perceptron and the mlp, not to symnn train cnn")
    epochs = args.epochs if args.epochs is not None else DEFAULTS["epochs"]
    lr = args.lr if args.lr is not None else DEFAULTS["lr"]
    batch = args.batch_size if args.batch_size is not None else DEFAULTS["batch_size"]
    if args.plot:
        from symnn.outputs import check_writable

        check_writable(args.plot, args.force)

    data = load(dataset, seed=args.seed, images=True)
    net = build_cnn(data.X_train.shape[1:], seed=args.seed)
    if getattr(args, "float32", False):
        net.astype("float32")
    t0 = time.perf_counter()
    net.fit(
        data.X_train,
        data.y_train,
        epochs=epochs,
        lr=lr,
        batch_size=batch,
        X_test=data.X_test,
        y_test=data.y_test,
        progress=not getattr(args, "quiet", False),
        compiled=getattr(args, "compiled", None),
        fastmath=getattr(args, "fastmath", False),
    )
    seconds = time.perf_counter() - t0
    print(f"{net!r}")
    print(
        f"trained {epochs} epochs on {dataset} ({len(data.X_train)} images {data.X_train.shape[1:]}, "
        f"η = {lr}, batches of {batch}) in {seconds:.2f} s; final loss {net.history['loss'][-1]:.6f}"
    )
    print(f"test accuracy: {net.accuracy(data.X_test, data.y_test):.4f}")
    if args.plot:
        plot_cnn(net, data, args.plot, args.force)
        print(f"wrote {args.plot}")
    return 0


def plot_cnn(net, data, path: str, force: bool = False, sample: int = 0) -> None:
    """One PNG: the loss curve, the learned filters, and the feature maps of one test digit
    (after convolution and ReLU), computed by the same generated kernels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from symnn.outputs import save_figure

    conv = net.layers[0]
    filters = conv.weight[:, 0]
    x = data.X_test[sample : sample + 1]
    maps = net.layers[1].forward(conv.forward(x))[0]  # conv2d.layer_forward, then relu.forward
    label, guess = int(data.y_test[sample]), int(net.predict(x)[0])
    n = len(filters)
    fig = plt.figure(figsize=(max(8, 1.3 * (n + 1)), 7.5))
    grid = fig.add_gridspec(3, n + 1, height_ratios=[1.6, 1, 1])
    ax = fig.add_subplot(grid[0, :])
    losses = net.history["loss"]
    ax.plot(range(1, len(losses) + 1), losses, marker="o", ms=3)
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy (training set)")
    ax.set_title(f"{net.layers[0]!r} → ReLU → max-pool → flatten → dense → softmax")
    lim = float(np.abs(filters).max()) or 1.0
    ax = fig.add_subplot(grid[1, 0])
    ax.axis("off")
    ax.text(0.5, 0.5, "learned\nfilters", ha="center", va="center")
    for f in range(n):
        ax = fig.add_subplot(grid[1, f + 1])
        ax.imshow(filters[f], cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(f"filter {f}", fontsize=8)
        ax.axis("off")
    ax = fig.add_subplot(grid[2, 0])
    ax.imshow(x[0, 0], cmap="gray_r")
    ax.set_title(f"test digit {label}\n(predicted {guess})", fontsize=8)
    ax.axis("off")
    for f in range(n):
        ax = fig.add_subplot(grid[2, f + 1])
        ax.imshow(maps[f], cmap="viridis")
        ax.set_title(f"map {f}", fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    save_figure(fig, path, force)
    plt.close(fig)
