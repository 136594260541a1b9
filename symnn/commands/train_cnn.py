"""`symnn train cnn`: the lecture's CNN plan of attack on the bundled digits, from derived kernels.

conv (3×3 filters) → ReLU → 2×2 max-pool → flatten → dense 10 → softmax/cross-entropy, trained
with mini-batch SGD (the defaults are symnn.commands.train.DEFAULTS["cnn"]). Initial weights follow
the benchmark references' rule (normal(0, 1/√fan_in) per layer in order, biases 0): build_cnn()'s
defaults, 8 filters without padding, are bench/references/cnn_numpy.py's net. The command trains
12 filters with a 1-pixel zero frame on a cosine schedule (why: bench/README.md, bench/seeds.py).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from symnn.nn.model import Sequential

FILTERS, KERNEL, POOL, N_CLASSES = 8, 3, 2, 10
CLI_FILTERS, CLI_PADDING = 12, 1  # `symnn train cnn`'s conv layer (see above)
SHOWN_FILTERS = 16  # --plot draws the first convolution's first 16 detectors and maps


def build_cnn(
    in_shape: tuple[int, int, int] = (1, 8, 8),
    seed: int = 0,
    filters: int = FILTERS,
    n_classes: int = N_CLASSES,
    activation: str = "relu",
    cost: str = "softmax-cross-entropy",
    padding: int = 0,
) -> Sequential:
    """The lecture's CNN for images of in_shape (C, H, W) and n_classes classes: conv (padding
    zeros round each map), activation (ReLU unless told), max-pool, flatten, dense;
    softmax/cross-entropy, or another cost on the dense layer's outputs through a sigmoid."""
    from symnn.errors import InputError
    from symnn.nn import Conv2D, Dense, Flatten, MaxPool2D, Sequential, Sigmoid, activation_layer

    c, h, w = in_shape
    conv = Conv2D(c, filters, KERNEL, padding=padding)
    hp, wp = (size // POOL for size in conv.output_shape(h, w))
    if hp < 1 or wp < 1:
        least = KERNEL - 1 + POOL - 2 * padding
        raise InputError(
            f"images of {h}x{w} are too small for the {KERNEL}x{KERNEL} conv and {POOL}x{POOL} pool; "
            f"give at least {least}x{least} (--image-size)"
        )
    from symnn.nn import get_loss
    from symnn.nn.losses import SoftmaxCrossEntropy

    output = [] if isinstance(get_loss(cost), SoftmaxCrossEntropy) else [Sigmoid()]
    layers = [conv, activation_layer(activation), MaxPool2D(POOL), Flatten()]
    return Sequential([*layers, Dense(filters * hp * wp, n_classes), *output], loss=cost, seed=seed)


def run_cnn(args: argparse.Namespace) -> int:
    from symnn.commands.train import check_common, defaults, fit_timed, learning_rate, rate_text, stack_net
    from symnn.commands.train_data import load_data

    check_common(args)
    epochs, lr, batch, _ = defaults("cnn", "*")
    epochs = args.epochs if args.epochs is not None else epochs
    lr = learning_rate(args, lr)
    batch = args.batch_size if args.batch_size is not None else batch
    if args.plot:
        from symnn.outputs import check_writable

        check_writable(args.plot, args.force)
    from symnn.commands.models import check_save, save_trained

    check_save(args)
    data, dataset = load_data(args, images=True)
    if args.layers is not None:
        net = stack_net(args.layers, data, args.cost, args.seed, batch)
    else:
        shape = data.X_train.shape[1:]
        net = build_cnn(
            shape,
            args.seed,
            CLI_FILTERS,
            data.n_classes or N_CLASSES,
            activation=args.activation,
            cost=args.cost,
            padding=CLI_PADDING,
        )
    if args.float32:
        net.astype("float32")
    seconds = fit_timed(net, data, args, epochs, lr, batch, compiled=args.compiled)
    print(f"{net!r}")
    from symnn.wording import plural

    print(
        f"trained {plural(epochs, 'epoch')} on {dataset} ({plural(len(data.X_train), 'image')} "
        f"{data.X_train.shape[1:]}, {rate_text(args, lr)}, batches of {batch}) in {seconds:.2f} s; "
        f"final loss {net.history['loss'][-1]:.6f}"
    )
    print(f"test accuracy: {net.accuracy(data.X_test, data.y_test):.4f}")
    if args.plot:
        plot_cnn(net, data, args.plot, args.force)
        print(f"wrote {args.plot}")
    save_trained(args, net, {"epochs": epochs, "lr": lr, "batch_size": batch}, data)
    return 0


def plot_cnn(net, data, path: str, force: bool = False, sample: int = 0) -> None:
    """One PNG: the loss curve, the first convolution's learned filters, and the feature maps of
    one test image after that convolution and its activation, computed by the same generated
    kernels (a stack without convolution: the loss curve alone)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from symnn.nn import Activation, Conv2D
    from symnn.outputs import save_figure

    first = next((i for i, layer in enumerate(net.layers) if isinstance(layer, Conv2D)), None)
    x = data.X_test[sample : sample + 1]
    label, guess = int(data.y_test[sample]), int(net.predict(x)[0])
    n = 0 if first is None else min(net.layers[first].out_channels, SHOWN_FILTERS)
    fig = plt.figure(figsize=(max(8, 1.3 * (n + 1)), 7.5 if n else 4))
    grid = fig.add_gridspec(3 if n else 1, n + 1, height_ratios=[1.6, 1, 1] if n else [1])
    ax = fig.add_subplot(grid[0, :])
    losses = net.history["loss"]
    ax.plot(range(1, len(losses) + 1), losses, marker="o", ms=3)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{net.loss_fn.name} (training set)")
    ax.set_title(" → ".join(type(layer).__name__ if n else repr(layer) for layer in net.layers), fontsize=9)
    if first is not None:
        maps = x
        last = first + 1 + (first + 1 < len(net.layers) and isinstance(net.layers[first + 1], Activation))
        for layer in net.layers[:last]:  # the generated forward kernels, up to the activation
            maps = layer.forward(maps)
        filters = net.layers[first].weight[:, 0]
        lim = float(np.abs(filters).max()) or 1.0
        ax = fig.add_subplot(grid[1, 0])
        ax.axis("off")
        ax.text(0.5, 0.5, "learned\ndetectors", ha="center", va="center")
        ax = fig.add_subplot(grid[2, 0])
        ax.imshow(x[0, 0], cmap="gray_r")
        ax.set_title(f"test image {label}\n(predicted {guess})", fontsize=8)
        ax.axis("off")
        for f in range(n):
            ax = fig.add_subplot(grid[1, f + 1])
            ax.imshow(filters[f], cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_title(f"detector {f + 1}", fontsize=8)
            ax.axis("off")
            ax = fig.add_subplot(grid[2, f + 1])
            ax.imshow(maps[0, f], cmap="viridis")
            ax.set_title(f"map {f + 1}", fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    save_figure(fig, path, force)
    plt.close(fig)
